//! The JSON API under `/api/v1`: what the pages do, for scripts. Authenticated by the session
//! cookie (writes then need `X-CSRF-Token`) or by `Authorization: Bearer TOKEN`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use outreach_core::domain::parse_date;
use outreach_core::states;
use outreach_core::status::StatusFilter;
use serde::Deserialize;

use crate::{ApiResult, ApiUser, AppState, WebError};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/states", get(api_states))
}

#[derive(Debug, Deserialize)]
struct StatesQuery {
    treaty: Option<String>,
    status: Option<String>,
    at: Option<String>,
}

async fn api_states(
    State(app): State<Arc<AppState>>,
    ApiUser(user): ApiUser,
    Query(q): Query<StatesQuery>,
) -> ApiResult<Response> {
    let filter = StatusFilter::parse(q.status.as_deref().unwrap_or("all"))
        .map_err(|e| WebError::invalid("status", e.to_string()))?;
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    let treaty =
        states::resolve_treaty(&app.db, q.treaty.as_deref().unwrap_or(&app.treaty)).await?;
    let rows = states::by_status(&app.db, &treaty.code, filter, at).await?;
    Ok(Json(rows).into_response())
}
