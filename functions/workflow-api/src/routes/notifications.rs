//! `GET /users/{user_id}/notifications` and
//! `POST /users/{user_id}/notifications/{notification_id}/read`: the caller's own only.

use ::audit::usecases;
use axum::extract::{Path, Query, State};
use axum::Json;
use kit::publisher::EventPublisher;
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::NotificationView;
use super::Shared;
use crate::auth::Authenticated;
use crate::error::ApiError;

#[derive(Deserialize)]
pub(super) struct PageQuery {
    limit: Option<String>,
    next: Option<String>,
}

pub(super) async fn list<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Path(user_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let listed = usecases::list_notifications(
        app.notifications.as_ref(),
        &caller,
        &user_id,
        q.limit.as_deref(),
        q.next.as_deref(),
    )
    .await?;
    let items: Vec<NotificationView> = listed.page.items.into_iter().map(NotificationView::from).collect();
    Ok(Json(json!({
        "user_id": user_id,
        "unread": listed.unread,
        "items": items,
        "next": listed.page.next.map(|c| c.encode()),
    })))
}

pub(super) async fn read<P: EventPublisher>(
    State(app): State<Shared<P>>,
    Authenticated(caller): Authenticated,
    Path((user_id, notification_id)): Path<(String, String)>,
) -> Result<Json<NotificationView>, ApiError> {
    let now = app.clock.now();
    let n = usecases::mark_read(app.notifications.as_ref(), &caller, &user_id, &notification_id, now).await?;
    Ok(Json(n.into()))
}
