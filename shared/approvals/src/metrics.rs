//! The approval workflow's own EMF metric (the kit's go through `kit::metrics`):
//! the template's `ApprovalUndeliverableAlarm` watches it.

/// Requests that ended UNDELIVERABLE: SES refused every approver, nobody can
/// decide. One bad address among good ones is not counted (the others decide);
/// a sender that lost its verification, or an account back in the SES sandbox,
/// makes every new request count.
pub const REQUESTS_UNDELIVERABLE: &str = "ApprovalRequestsUndeliverable";

pub fn request_undeliverable() {
    metrics::counter!(REQUESTS_UNDELIVERABLE).increment(1);
}
