//! The dashboard: the states not party to the treaty, least recently engaged first.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use outreach_core::views;

use crate::{AppState, PageResult, User};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/", get(dashboard))
}

async fn dashboard(State(app): State<Arc<AppState>>, user: User) -> PageResult<Response> {
    let today = user.today();
    let rows = views::attention(&app.db, &app.treaty, today).await?;
    let data = serde_json::json!({
        "today": today.to_string(), "count": rows.len(),
        "rows": rows.iter().map(|r| serde_json::json!({
            "iso3": r.iso3, "name": r.name, "status": r.status.label(),
            "last_engagement": r.last_engagement.map(|d| d.to_string()),
            "days": r.days_since_last_engagement,
            "next_meeting": r.next_meeting.as_ref().map(|m| format!("{} {} ({})", m.local_start, m.time_zone, m.title)),
            "grantees": r.grantees.join(", "),
            "open_follow_ups": r.open_follow_ups,
        })).collect::<Vec<_>>(),
    });
    Ok(app.render(&user, "dashboard", data))
}
