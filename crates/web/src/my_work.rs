//! "My work" (`/my-work`): what the signed-in person owes and has coming: their open follow-ups
//! (overdue first), the planned meetings they own, the letters awaiting their review (for
//! coordinators and admins: letters in review that someone else drafted) and their own drafts.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use outreach_core::followups::{self, FollowUpView};
use outreach_core::meetings::{self, MeetingView};
use serde::Serialize;

use crate::pages::Page;
use crate::routing::Routes;
use crate::state::LetterRow;
use crate::{AppState, PageResult, Role, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/my-work" => get(my_work),
    }
}

/// The "My work" page.
#[derive(Debug, Serialize)]
pub struct MyWorkPage {
    pub handle: String,
    pub follow_ups: Vec<FollowUpView>,
    pub overdue: usize,
    pub meetings: Vec<MeetingView>,
    /// Letters in review drafted by someone else (coordinators and admins approve them).
    pub to_review: Vec<LetterRow>,
    pub reviews: bool,
    /// This person's letters still in draft.
    pub drafts: Vec<LetterRow>,
}

async fn my_work(State(app): State<Arc<AppState>>, user: User) -> PageResult<Response> {
    let today = user.today();
    let handle = user.actor.handle.clone();
    let mut follow_ups =
        followups::list(&app.db, today, false, None, Some(&handle), &user.reader).await?;
    // Overdue first, then by due date.
    follow_ups.sort_by_key(|f| (!f.overdue, f.due_on));
    let meetings: Vec<MeetingView> = meetings::list(&app.db, user.zone, true, None)
        .await?
        .into_iter()
        .filter(|m| m.owner == handle)
        .collect();
    let letters = outreach_letters::drafts::list(&app.db, None)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let reviews = user.role >= Role::Coordinator;
    let page = MyWorkPage {
        overdue: follow_ups.iter().filter(|f| f.overdue).count(),
        follow_ups,
        meetings,
        to_review: letters
            .iter()
            .filter(|l| reviews && l.status == "in_review" && l.created_by != handle)
            .map(LetterRow::of)
            .collect(),
        reviews,
        drafts: letters
            .iter()
            .filter(|l| l.status == "draft" && l.created_by == handle)
            .map(LetterRow::of)
            .collect(),
        handle,
    };
    Ok(app.render_page(&user, &page))
}

impl Page for MyWorkPage {
    const TEMPLATE: &'static str = "my_work";
    fn sample() -> Self {
        let letter = LetterRow {
            id: uuid::Uuid::nil().to_string(),
            short_id: "00000000".into(),
            subject: "A joint approach".into(),
            recipient: "Ingrid Demo".into(),
            status: "in review".into(),
            language: "en".into(),
            template: "joint_approach".into(),
            updated: "2026-12-07".into(),
        };
        Self {
            handle: "ana".into(),
            follow_ups: vec![FollowUpView {
                id: uuid::Uuid::nil(),
                iso3: "NPL".into(),
                description: "Send the treaty text in Nepali".into(),
                owner: "ana".into(),
                due_on: chrono::NaiveDate::MIN,
                done_at: None,
                overdue: true,
                engagement_id: None,
                meeting_id: None,
                withheld: false,
            }],
            overdue: 1,
            meetings: vec![MeetingView {
                id: uuid::Uuid::nil(),
                iso3: "NPL".into(),
                state: "Nepal".into(),
                title: "Meeting with the Foreign Ministry".into(),
                status: "planned".into(),
                version: 1,
                starts_at: chrono::DateTime::UNIX_EPOCH,
                time_zone: "Asia/Kathmandu".into(),
                local_start: "2026-12-10 10:00".into(),
                reader_start: "2026-12-10 05:15".into(),
                reader_time_zone: "Europe/Zurich".into(),
                duration_minutes: 60,
                place: Some("Singha Durbar".into()),
                owner: "ana".into(),
                participants: vec!["Ram Demo".into()],
            }],
            to_review: vec![letter.clone()],
            reviews: true,
            drafts: vec![letter],
        }
    }
}
