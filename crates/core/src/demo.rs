//! `outreach demo`: an illustrative, clearly fictional data set (every name ends in "(demo)",
//! every address is at example.org) so a newcomer sees the attention list, a state profile,
//! meetings and follow-ups at work. Dates are relative to today. Running it twice adds nothing.

use chrono::{Days, NaiveDate};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::actor::{Actor, ensure_user};
use crate::directory::{self, ContactInput, GrantInput, OrganisationInput};
use crate::engagements::{self, EngagementInput};
use crate::error::Result;
use crate::followups::{self, FollowUpInput};
use crate::meetings::{self, MeetingInput};
use crate::posts::PostInput;
use crate::signals::{self, SignalInput};

/// What the demo added.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DemoReport {
    pub already_present: bool,
    pub organisations: usize,
    pub contacts: usize,
    /// Terms of office recorded (the Nepalese ministry's post history).
    pub posts: usize,
    pub grants: usize,
    pub engagements: usize,
    pub meetings: usize,
    pub follow_ups: usize,
    pub signals: usize,
}

const MARKER: &str = "Landmine Free Nepal (demo)";

fn org(name: &str, kind: &str, state: &str, email: &str) -> OrganisationInput {
    OrganisationInput {
        name: name.into(),
        kind: Some(kind.into()),
        state: Some(state.into()),
        email: Some(email.into()),
        website: None,
        icbl_member: None,
        notes: Some("Fictional organisation added by `outreach demo`.".into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn person(
    name: &str,
    title: &str,
    role: &str,
    organisation: &str,
    email: &str,
    languages: &str,
    zone: &str,
) -> ContactInput {
    ContactInput {
        name: name.into(),
        title: Some(title.into()),
        role: Some(role.into()),
        organisation: Some(organisation.into()),
        state: None,
        email: Some(email.into()),
        languages: Some(languages.into()),
        time_zone: Some(zone.into()),
        phone: None,
        notes: Some("Fictional contact added by `outreach demo`.".into()),
    }
}

fn ago(today: NaiveDate, days: u64) -> String {
    (today - Days::new(days)).to_string()
}

fn ahead(today: NaiveDate, days: u64) -> String {
    (today + Days::new(days)).to_string()
}

/// Adds the demo data set in one transaction, unless it is there already.
///
/// # Errors
/// Database errors; nothing is written then.
pub async fn load(db: &DatabaseConnection, actor: &Actor) -> Result<DemoReport> {
    let tx = crate::db::begin(db).await?;
    if directory::resolve_organisation(&tx, MARKER).await.is_ok() {
        return Ok(DemoReport {
            already_present: true,
            ..DemoReport::default()
        });
    }
    let today = actor.today();
    ensure_user(&tx, &actor.handle, actor.zone).await?;
    let mut r = DemoReport::default();

    let orgs = [
        org(MARKER, "icbl_member", "NPL", "info@nepal-demo.example.org"),
        org(
            "Azerbaijan Mine Action Partners (demo)",
            "icbl_member",
            "AZE",
            "info@aze-demo.example.org",
        ),
        org(
            "India Mine Ban Forum (demo)",
            "icbl_member",
            "IND",
            "info@india-demo.example.org",
        ),
        org(
            "Embassy of Norway in Kathmandu (demo)",
            "embassy",
            "NPL",
            "kathmandu@embassy-demo.example.org",
        ),
        org(
            "Ministry of Foreign Affairs of Nepal (demo)",
            "ministry",
            "NPL",
            "un-division@mofa-demo.example.org",
        ),
        org(
            "Ministry of Defence of Azerbaijan (demo)",
            "ministry",
            "AZE",
            "intl@mod-demo.example.org",
        ),
    ];
    for o in &orgs {
        if directory::insert_organisation(&tx, actor, o, None)
            .await?
            .is_some()
        {
            r.organisations += 1;
        }
    }
    let people = [
        person(
            "Asha Demo",
            "Ms",
            "Campaign coordinator",
            MARKER,
            "asha@nepal-demo.example.org",
            "ne,en",
            "Asia/Kathmandu",
        ),
        person(
            "Farid Demo",
            "Mr",
            "Director",
            "Azerbaijan Mine Action Partners (demo)",
            "farid@aze-demo.example.org",
            "az,ru,en",
            "Asia/Baku",
        ),
        person(
            "Priya Demo",
            "Dr",
            "Programme lead",
            "India Mine Ban Forum (demo)",
            "priya@india-demo.example.org",
            "hi,en",
            "Asia/Kolkata",
        ),
        person(
            "Ingrid Demo",
            "Ms",
            "Deputy Head of Mission",
            "Embassy of Norway in Kathmandu (demo)",
            "ingrid@embassy-demo.example.org",
            "no,en",
            "Asia/Kathmandu",
        ),
        person(
            "Ram Demo",
            "Mr",
            "Joint Secretary, UN and International Law",
            "Ministry of Foreign Affairs of Nepal (demo)",
            "ram@mofa-demo.example.org",
            "ne,en",
            "Asia/Kathmandu",
        ),
        person(
            "Kiran Demo",
            "Ms",
            "Director General, Europe and Americas",
            "Ministry of Foreign Affairs of Nepal (demo)",
            "kiran@mofa-demo.example.org",
            "ne,en",
            "Asia/Kathmandu",
        ),
        person(
            "Elnur Demo",
            "Colonel",
            "Head of International Cooperation",
            "Ministry of Defence of Azerbaijan (demo)",
            "elnur@mod-demo.example.org",
            "az,en",
            "Asia/Baku",
        ),
    ];
    for p in &people {
        if directory::insert_contact(&tx, actor, p, None)
            .await?
            .is_some()
        {
            r.contacts += 1;
        }
    }
    // The ministry's post history: Kiran held the post until Ram took it over about eight
    // months ago (recording Ram's term closes Kiran's on the day before).
    for (holder, from) in [("Kiran Demo", 1500), ("Ram Demo", 240)] {
        crate::posts::add_in(
            &tx,
            actor,
            &PostInput {
                contact: holder.into(),
                title: "Joint Secretary, UN and International Law".into(),
                organisation: Some("Ministry of Foreign Affairs of Nepal (demo)".into()),
                from: Some(ago(today, from)),
                ..PostInput::default()
            },
        )
        .await?;
        r.posts += 1;
    }
    let year = chrono::Datelike::year(&today);
    for (organisation, amount) in [
        (MARKER, "20000"),
        ("Azerbaijan Mine Action Partners (demo)", "15000"),
        ("India Mine Ban Forum (demo)", "25000"),
    ] {
        directory::add_grant_in(
            &tx,
            actor,
            &GrantInput {
                organisation: organisation.into(),
                state: None,
                year,
                amount: amount.into(),
                currency: "USD".into(),
                purpose: Some("Illustrative Investing in Action grant (demo)".into()),
                reports_due: vec![ahead(today, 30), ahead(today, 210)],
            },
        )
        .await?;
        r.grants += 1;
    }
    let engagements_to_log = [
        (
            "NPL",
            "embassy_visit",
            60,
            "Briefed the Norwegian embassy on a joint approach with the local campaign (demo)",
            Some("Embassy willing to raise accession with the ministry"),
            Some("open"),
            vec!["Ingrid Demo", "Asha Demo"],
            "internal",
        ),
        (
            "NPL",
            "capital_meeting",
            20,
            "Meeting at the Ministry of Foreign Affairs in Kathmandu (demo)",
            Some("Ministry asked for the Convention text in Nepali"),
            Some("open"),
            vec!["Ram Demo", "Asha Demo"],
            "public",
        ),
        (
            "AZE",
            "military_dialogue",
            200,
            "Military-to-military dialogue on clearance and stockpiles (demo)",
            Some("Interest in clearance standards; accession not discussed"),
            Some("reluctant"),
            vec!["Elnur Demo", "Farid Demo"],
            "restricted",
        ),
        (
            "IND",
            "call",
            400,
            "Call with the local campaign on the annual UN General Assembly vote (demo)",
            None,
            None,
            vec!["Priya Demo"],
            "internal",
        ),
    ];
    // The demo shows each sensitivity: the ministry meeting is public (letters cite it), the
    // military dialogue restricted, the rest internal.
    for (state, kind, days, summary, outcome, stance, with, sensitivity) in engagements_to_log {
        engagements::insert(
            &tx,
            actor,
            &EngagementInput {
                state: state.into(),
                kind: kind.into(),
                date: Some(ago(today, days)),
                summary: Some(summary.into()),
                outcome: outcome.map(Into::into),
                stance: stance.map(Into::into),
                with: with.into_iter().map(Into::into).collect(),
                sensitivity: Some(sensitivity.into()),
                ..EngagementInput::default()
            },
        )
        .await?;
        r.engagements += 1;
    }
    let planned = [
        (
            "NPL",
            "Follow-up meeting at the Ministry of Foreign Affairs (demo)",
            10,
            "10:00",
            "Singha Durbar, Kathmandu",
            vec!["Ram Demo", "Asha Demo"],
        ),
        (
            "AZE",
            "Second military-to-military dialogue (demo)",
            25,
            "11:30",
            "Baku",
            vec!["Elnur Demo", "Farid Demo"],
        ),
    ];
    for (state, title, days, time, place, with) in planned {
        meetings::schedule_in(
            &tx,
            actor,
            &MeetingInput {
                state: state.into(),
                title: title.into(),
                at: format!("{} {time}", ahead(today, days)),
                tz: None,
                duration: Some("1h30m".into()),
                place: Some(place.into()),
                with: with.into_iter().map(Into::into).collect(),
            },
        )
        .await?;
        r.meetings += 1;
    }
    for (state, description, due) in [
        (
            "NPL",
            "Send the Convention text in Nepali to the Ministry (demo)",
            ahead(today, 5),
        ),
        (
            "IND",
            "Share the Landmine Monitor country profile with the local campaign (demo)",
            ago(today, 3),
        ),
    ] {
        followups::add_in(
            &tx,
            actor,
            &FollowUpInput {
                state: Some(state.into()),
                description: description.into(),
                due: Some(due),
                owner: None,
                engagement: None,
                meeting: None,
            },
        )
        .await?;
        r.follow_ups += 1;
    }
    signals::add_in(
        &tx,
        actor,
        &SignalInput {
            state: "NPL".into(),
            kind: "observer_attendance".into(),
            date: ago(today, 45),
            detail: "Illustrative signal (demo): observer delegation at a treaty meeting".into(),
            value: None,
            source: None,
        },
    )
    .await?;
    r.signals += 1;
    tx.commit().await?;
    Ok(r)
}
