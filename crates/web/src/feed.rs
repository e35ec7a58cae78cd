//! The calendar feed: `GET /calendar/{token}.ics`, a per-user secret URL that Outlook, Google and
//! Apple calendars subscribe to. No session: the token is the key (issued as kind `calendar`).
//! It lists the meetings the user owns or takes part in, from 30 days back on, each with a UID
//! that stays the same for the meeting's life (the one its email invitations carry) and a
//! SEQUENCE that follows its version, so a reschedule moves the entry and a cancellation
//! strikes it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus};
use outreach_core::domain::MeetingStatus;
use outreach_core::meetings;

use crate::AppState;
use crate::routing::Routes;

pub fn routes() -> Routes {
    crate::page_routes! {
        "/calendar/{file}" => get(feed),
    }
}

/// How far back the feed reaches.
const DAYS_BACK: i64 = 30;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "This calendar address is unknown or was revoked; copy the current one from your account page.",
    )
        .into_response()
}

async fn feed(State(app): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics").filter(|t| !t.is_empty()) else {
        return not_found();
    };
    let user = match crate::ctx::from_token(&app, "calendar", token).await {
        Ok(Some(user)) => user,
        Ok(None) => return not_found(),
        // A calendar client retries later on 503; a 404 would make it drop the subscription.
        Err(e) => {
            return (
                crate::error::status_of(e.kind()),
                "The calendar cannot be read just now; try again later.",
            )
                .into_response();
        }
    };
    match calendar(&app, &user).await {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the calendar feed failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The calendar could not be built; try again later.",
            )
                .into_response()
        }
    }
}

/// The iCalendar text of `user`'s meetings.
async fn calendar(app: &AppState, user: &crate::User) -> Result<String, outreach_core::Error> {
    let since = Utc::now() - Duration::days(DAYS_BACK);
    let rows = meetings::for_user(&app.db, user.id, since).await?;
    let views = meetings::views(&app.db, user.zone, rows).await?;
    let domain = &app.mail.message_id_domain;
    let mut cal = Calendar::new();
    cal.name(&format!("outreach: {}'s meetings", user.handle));
    for m in &views {
        let end = m.starts_at + Duration::minutes(i64::from(m.duration_minutes));
        let mut event = Event::new();
        event
            .uid(&format!("{}@{domain}", m.id))
            .sequence(u32::try_from(m.version.max(0)).unwrap_or_default())
            .timestamp(Utc::now())
            .summary(&m.title)
            .starts(CalendarDateTime::Utc(m.starts_at))
            .ends(CalendarDateTime::Utc(end))
            .description(&format!(
                "{} ({}). Local start: {} {}. Owner: {}. Participants: {}.",
                m.state,
                m.iso3,
                m.local_start,
                m.time_zone,
                m.owner,
                m.participants.join(", ")
            ));
        if let Some(place) = &m.place {
            event.location(place);
        }
        if m.status == MeetingStatus::Cancelled.as_str() {
            event.status(EventStatus::Cancelled);
        } else {
            event.status(EventStatus::Confirmed);
        }
        cal.push(event.done());
    }
    Ok(cal.done().to_string())
}
