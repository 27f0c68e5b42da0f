//! One publisher for the sweep, two topics: each announcement goes to its own.

use approvals::{ApprovalDecided, ApprovalRequested};
use async_trait::async_trait;
use kit::publisher::{EventPublisher, PublishError};
use kit::{Envelope, Message};

pub struct ByType<P> {
    pub requested: P,
    pub decided: P,
}

#[async_trait]
impl<P: EventPublisher> EventPublisher for ByType<P> {
    async fn publish<M: Message>(&self, event: &Envelope<M>) -> Result<(), PublishError> {
        if M::TYPE == ApprovalDecided::TYPE {
            self.decided.publish(event).await
        } else {
            debug_assert_eq!(M::TYPE, ApprovalRequested::TYPE);
            self.requested.publish(event).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kit::testing::RecordingPublisher;

    use super::*;

    #[tokio::test]
    async fn each_announcement_goes_to_its_topic() {
        let by = ByType {
            requested: Arc::new(RecordingPublisher::default()),
            decided: Arc::new(RecordingPublisher::default()),
        };
        let decided = approvals::messages::envelope(
            "r1",
            "c",
            ApprovalDecided { request_id: "r1".into(), decision: approvals::Decision::Approved },
        );
        by.publish(&decided).await.unwrap();
        by.publish(&approvals::messages::envelope("r1", "c", ApprovalRequested { request_id: "r1".into() }))
            .await
            .unwrap();
        assert_eq!(by.decided.of_type("approval.decided").len(), 1);
        assert_eq!(by.requested.of_type("approval.requested").len(), 1);
        assert!(by.decided.of_type("approval.requested").is_empty());
    }
}
