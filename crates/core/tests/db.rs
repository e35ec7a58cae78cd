//! Database integration tests of outreach-core: every test runs twice, on a fresh SQLite file and
//! on a fresh PostgreSQL database (see `outreach_testkit::db_test!`).

// Test code: an unwrap that panics is a failed assertion (as clippy.toml allows in #[test] fns;
// the checks here are plain async fns that db_test! calls, so the allowance is spelled out).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use outreach_core::Actor;
use outreach_core::db;
use outreach_core::demo;
use outreach_core::directory::{self, ContactInput};
use outreach_core::domain::IanaZone;
use outreach_core::engagements::{self, EngagementInput};
use outreach_core::entities::{
    audit_log, contact, engagement, engagement_participant, follow_up, grant, grant_deliverable,
    grant_report, meeting, meeting_participant, organisation, post, signal, state, treaty,
    treaty_event, user,
};
use outreach_core::error::Error;
use outreach_core::followups::{self, FollowUpInput};
use outreach_core::meetings::{self, MeetingInput};
use outreach_core::posts::{self, PostFilter, PostInput};
use outreach_core::refdata::{self, ReferenceData};
use outreach_core::states;
use outreach_core::status::{Status, StatusFilter};
use outreach_core::views;
use outreach_testkit::TestDb;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A migrated database with the shipped reference data.
/// Core's meeting building blocks in a transaction of their own, as the scheduler's planner runs
/// them (without the reminders it plans beside them).
async fn schedule(
    conn: &DatabaseConnection,
    actor: &Actor,
    input: &MeetingInput,
) -> outreach_core::Result<meetings::MeetingView> {
    let tx = outreach_core::db::begin(conn).await?;
    let v = meetings::schedule_in(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(v)
}

async fn reschedule(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    at: &str,
    tz: Option<&str>,
) -> outreach_core::Result<meetings::MeetingView> {
    let tx = outreach_core::db::begin(conn).await?;
    let v = meetings::reschedule_in(&tx, actor, id, at, tz).await?;
    tx.commit().await?;
    Ok(v)
}

async fn cancel(
    conn: &DatabaseConnection,
    actor: &Actor,
    id: &str,
) -> outreach_core::Result<meetings::MeetingView> {
    let tx = outreach_core::db::begin(conn).await?;
    let v = meetings::cancel_in(&tx, actor, id).await?;
    tx.commit().await?;
    Ok(v)
}

async fn open(db: &TestDb) -> DatabaseConnection {
    db::open(&db.url, "tester")
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.url))
}

fn actor() -> Actor {
    Actor::new("tester", IanaZone::parse("tz", "UTC").unwrap()).unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// How many rows `E`'s table holds.
async fn count<E>(conn: &DatabaseConnection, _table: E) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().count(conn).await.unwrap()
}

/// Row counts of every table a command can write to, to prove that a refused command wrote nothing.
async fn table_counts(conn: &DatabaseConnection) -> Vec<(&'static str, u64)> {
    vec![
        ("users", count(conn, user::Entity).await),
        ("organisations", count(conn, organisation::Entity).await),
        ("contacts", count(conn, contact::Entity).await),
        ("grants", count(conn, grant::Entity).await),
        ("grant_reports", count(conn, grant_report::Entity).await),
        (
            "grant_deliverables",
            count(conn, grant_deliverable::Entity).await,
        ),
        ("engagements", count(conn, engagement::Entity).await),
        (
            "engagement_participants",
            count(conn, engagement_participant::Entity).await,
        ),
        ("meetings", count(conn, meeting::Entity).await),
        (
            "meeting_participants",
            count(conn, meeting_participant::Entity).await,
        ),
        ("follow_ups", count(conn, follow_up::Entity).await),
        ("signals", count(conn, signal::Entity).await),
        (
            "stance_settings",
            count(conn, outreach_core::entities::stance_setting::Entity).await,
        ),
        ("posts", count(conn, post::Entity).await),
        ("audit_log", count(conn, audit_log::Entity).await),
    ]
}

async fn audit_rows(conn: &DatabaseConnection, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(conn)
        .await
        .unwrap()
}

fn iso3s(rows: &[states::StateStatus]) -> Vec<&str> {
    rows.iter().map(|s| s.iso3.as_str()).collect()
}

/// Writes `text` to `name` in the test's folder.
fn write_file(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The reference data as CSV text, so that an edited copy goes through `ReferenceData::parse`
/// like a newer `data/reference` folder would.
fn to_csv<T: serde::Serialize>(rows: &[T]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

async fn add_contact(
    conn: &DatabaseConnection,
    name: &str,
    email: &str,
    state: &str,
) -> contact::Model {
    directory::add_contact(
        conn,
        &actor(),
        &ContactInput {
            name: name.into(),
            role: Some("Joint Secretary".into()),
            state: Some(state.into()),
            email: Some(email.into()),
            ..ContactInput::default()
        },
    )
    .await
    .unwrap()
}

fn npl_meeting(at: &str, tz: Option<&str>) -> MeetingInput {
    MeetingInput {
        state: "NPL".into(),
        title: "Accession briefing at the Ministry of Foreign Affairs".into(),
        at: at.into(),
        tz: tz.map(Into::into),
        duration: Some("1h30m".into()),
        place: Some("Singha Durbar, Kathmandu".into()),
        with: vec![],
    }
}

async fn meeting_row(conn: &DatabaseConnection, id: uuid::Uuid) -> meeting::Model {
    meeting::Entity::find_by_id(id)
        .one(conn)
        .await
        .unwrap()
        .expect("the meeting row")
}

// ---------------------------------------------------------------------------------------------
// 1. Migrations and reference data
// ---------------------------------------------------------------------------------------------

async fn connecting_migrates_an_empty_database_and_opening_seeds_the_reference_data_once_check(
    db: &TestDb,
) {
    let bare = db::connect(&db.url).await.unwrap();
    assert!(!refdata::is_loaded(&bare).await.unwrap());
    assert_eq!(count(&bare, state::Entity).await, 0);
    assert_eq!(count(&bare, treaty_event::Entity).await, 0);
    // Running migrations again on a migrated database is harmless.
    let again = db::connect(&db.url).await.unwrap();
    assert_eq!(count(&again, state::Entity).await, 0);
    bare.close().await.unwrap();
    again.close().await.unwrap();

    let conn = open(db).await;
    assert!(refdata::is_loaded(&conn).await.unwrap());
    assert_eq!(count(&conn, state::Entity).await, 197);
    assert_eq!(count(&conn, treaty_event::Entity).await, 1557);
    assert_eq!(count(&conn, treaty::Entity).await, 4);
    let apmbc_events = treaty_event::Entity::find()
        .filter(treaty_event::Column::Treaty.eq("APMBC"))
        .count(&conn)
        .await
        .unwrap();
    assert_eq!(apmbc_events, 476);
    let npl = states::resolve(&conn, "NPL").await.unwrap();
    assert_eq!(
        (
            npl.name.as_str(),
            npl.capital.as_str(),
            npl.capital_tz.as_str()
        ),
        ("Nepal", "Kathmandu", "Asia/Kathmandu")
    );
    let loads = audit_rows(&conn, "reference_data.load").await;
    assert_eq!(loads.len(), 1, "{loads:?}");
    assert_eq!(loads[0].actor, "tester");

    // A second open finds the data and loads nothing.
    let before = table_counts(&conn).await;
    let reopened = open(db).await;
    assert_eq!(table_counts(&reopened).await, before);
    assert_eq!(count(&reopened, treaty_event::Entity).await, 1557);
    reopened.close().await.unwrap();
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    connecting_migrates_an_empty_database_and_opening_seeds_the_reference_data_once,
    connecting_migrates_an_empty_database_and_opening_seeds_the_reference_data_once_check
);

async fn loading_the_same_reference_data_again_changes_nothing_check(db: &TestDb) {
    let conn = open(db).await;
    let audit_before = count(&conn, audit_log::Entity).await;
    let report = refdata::load(&conn, &ReferenceData::embedded().unwrap(), "tester")
        .await
        .unwrap();
    assert_eq!(report.changed(), 0, "{report:?}");
    assert_eq!(report.treaties.unchanged, 4);
    assert_eq!(report.states.unchanged, 197);
    assert_eq!(report.treaty_events.unchanged, 1557);
    assert_eq!(count(&conn, state::Entity).await, 197);
    assert_eq!(count(&conn, treaty_event::Entity).await, 1557);
    // A load that changes nothing leaves no audit record either.
    assert_eq!(count(&conn, audit_log::Entity).await, audit_before);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    loading_the_same_reference_data_again_changes_nothing,
    loading_the_same_reference_data_again_changes_nothing_check
);

async fn loading_an_edited_copy_of_the_reference_data_applies_exactly_the_edits_check(db: &TestDb) {
    let conn = open(db).await;
    let shipped = ReferenceData::embedded().unwrap();

    // The CSV round trip itself is lossless, so any change below comes from the edits.
    let round_trip =
        ReferenceData::parse(&to_csv(&shipped.states), &to_csv(&shipped.events)).unwrap();
    assert_eq!(round_trip.states, shipped.states);
    assert_eq!(round_trip.events, shipped.events);

    let mut states_rows = shipped.states.clone();
    let npl = states_rows.iter_mut().find(|s| s.iso3 == "NPL").unwrap();
    npl.capital = "Kathmandu (edited)".into();
    let mut events_rows = shipped.events.clone();
    let afg_accession = events_rows
        .iter_mut()
        .find(|e| e.treaty == "APMBC" && e.iso3 == "AFG" && e.event == "accession")
        .unwrap();
    let new_note = format!("{} (corrected)", afg_accession.note);
    afg_accession.note = new_note.clone();
    // Dropping Poland's withdrawal notice must change its derived status.
    let before = events_rows.len();
    events_rows
        .retain(|e| !(e.treaty == "APMBC" && e.iso3 == "POL" && e.event == "withdrawal_notice"));
    assert_eq!(events_rows.len(), before - 1);
    let edited = ReferenceData::parse(&to_csv(&states_rows), &to_csv(&events_rows)).unwrap();

    let withdrawing_on = d("2025-09-01");
    let withdrawing = states::by_status(&conn, "APMBC", StatusFilter::Withdrawing, withdrawing_on)
        .await
        .unwrap();
    assert!(iso3s(&withdrawing).contains(&"POL"));

    let report = refdata::load(&conn, &edited, "tester").await.unwrap();
    assert_eq!(report.treaties.changed(), 0, "{report:?}");
    assert_eq!(
        (
            report.states.inserted,
            report.states.updated,
            report.states.removed
        ),
        (0, 1, 0),
        "{report:?}"
    );
    assert_eq!(report.states.unchanged, 196);
    assert_eq!(
        (
            report.treaty_events.inserted,
            report.treaty_events.updated,
            report.treaty_events.removed
        ),
        (0, 1, 1),
        "{report:?}"
    );
    assert_eq!(report.treaty_events.unchanged, 1555);

    // The database reflects the edits.
    assert_eq!(count(&conn, state::Entity).await, 197);
    assert_eq!(count(&conn, treaty_event::Entity).await, 1556);
    assert_eq!(
        states::resolve(&conn, "NPL").await.unwrap().capital,
        "Kathmandu (edited)"
    );
    let noted = treaty_event::Entity::find()
        .filter(treaty_event::Column::Treaty.eq("APMBC"))
        .filter(treaty_event::Column::Iso3.eq("AFG"))
        .filter(treaty_event::Column::Event.eq("accession"))
        .one(&conn)
        .await
        .unwrap()
        .expect("the edited event is still there");
    assert_eq!(noted.note, new_note);
    let pol_notice = treaty_event::Entity::find()
        .filter(treaty_event::Column::Treaty.eq("APMBC"))
        .filter(treaty_event::Column::Iso3.eq("POL"))
        .filter(treaty_event::Column::Event.eq("withdrawal_notice"))
        .one(&conn)
        .await
        .unwrap();
    assert!(pol_notice.is_none(), "{pol_notice:?}");
    // Status is derived: without its notice Poland is a plain party on that date.
    let withdrawing = states::by_status(&conn, "APMBC", StatusFilter::Withdrawing, withdrawing_on)
        .await
        .unwrap();
    assert!(
        !iso3s(&withdrawing).contains(&"POL"),
        "{:?}",
        iso3s(&withdrawing)
    );
    assert!(iso3s(&withdrawing).contains(&"FIN"));
    assert_eq!(audit_rows(&conn, "reference_data.load").await.len(), 2);

    // Loading the same edited copy again is a no-op; loading the shipped data restores it.
    let again = refdata::load(&conn, &edited, "tester").await.unwrap();
    assert_eq!(again.changed(), 0, "{again:?}");
    let restored = refdata::load(&conn, &shipped, "tester").await.unwrap();
    assert_eq!(
        (
            restored.states.updated,
            restored.treaty_events.inserted,
            restored.treaty_events.updated
        ),
        (1, 1, 1),
        "{restored:?}"
    );
    assert_eq!(restored.treaty_events.removed, 0);
    assert_eq!(count(&conn, treaty_event::Entity).await, 1557);
    assert_eq!(
        states::resolve(&conn, "NPL").await.unwrap().capital,
        "Kathmandu"
    );
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    loading_an_edited_copy_of_the_reference_data_applies_exactly_the_edits,
    loading_an_edited_copy_of_the_reference_data_applies_exactly_the_edits_check
);

// ---------------------------------------------------------------------------------------------
// 2. Derived treaty status
// ---------------------------------------------------------------------------------------------

async fn the_33_states_not_party_on_20_june_2022_include_nepal_and_the_united_states_but_not_ukraine_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let on = d("2022-06-20");
    let outside = states::by_status(&conn, "APMBC", StatusFilter::NotParty, on)
        .await
        .unwrap();
    let codes = iso3s(&outside);
    assert_eq!(outside.len(), 33, "{codes:?}");
    for want in ["NPL", "IND", "AZE", "RUS", "USA"] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    assert!(!codes.contains(&"UKR"), "{codes:?}");
    assert!(outside.iter().all(|s| !s.status.is_party() && !s.in_force));
    assert!(outside.iter().all(|s| s.treaty == "APMBC" && s.at == on));
    // Sorted by name.
    let names: Vec<&str> = outside.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let npl = outside.iter().find(|s| s.iso3 == "NPL").unwrap();
    assert_eq!(npl.status, Status::NotParty);
    assert_eq!(npl.party_since, None);
    assert_eq!(
        (npl.capital.as_str(), npl.capital_tz.as_str()),
        ("Kathmandu", "Asia/Kathmandu")
    );
    // Parties and non-parties partition the states counted on that day.
    let parties = states::by_status(&conn, "APMBC", StatusFilter::Party, on)
        .await
        .unwrap();
    assert_eq!(parties.len(), 164);
    let all = states::by_status(&conn, "APMBC", StatusFilter::All, on)
        .await
        .unwrap();
    assert_eq!(all.len(), parties.len() + outside.len());
    let ukr = parties
        .iter()
        .find(|s| s.iso3 == "UKR")
        .expect("Ukraine is a party");
    assert_eq!(ukr.party_since, Some(d("2005-12-27")));
    assert!(ukr.in_force);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    the_33_states_not_party_on_20_june_2022_include_nepal_and_the_united_states_but_not_ukraine,
    the_33_states_not_party_on_20_june_2022_include_nepal_and_the_united_states_but_not_ukraine_check
);

async fn status_counts_follow_the_treaty_events_through_the_2025_withdrawals_check(db: &TestDb) {
    let conn = open(db).await;
    let count_of = async |filter: StatusFilter, on: &str| {
        states::by_status(&conn, "APMBC", filter, d(on))
            .await
            .unwrap()
    };
    assert_eq!(
        count_of(StatusFilter::NotParty, "2009-03-02").await.len(),
        39
    );
    assert_eq!(count_of(StatusFilter::Party, "2009-03-02").await.len(), 156);
    assert_eq!(count_of(StatusFilter::Party, "2022-06-20").await.len(), 164);
    assert_eq!(count_of(StatusFilter::Party, "2026-02-20").await.len(), 161);
    assert_eq!(
        count_of(StatusFilter::NotParty, "2026-02-20").await.len(),
        36
    );

    let withdrawing = count_of(StatusFilter::Withdrawing, "2025-09-01").await;
    let codes = iso3s(&withdrawing);
    for want in ["POL", "FIN", "EST", "LVA", "LTU"] {
        assert!(codes.contains(&want), "{want} missing from {codes:?}");
    }
    assert!(withdrawing.iter().all(|s| s.status == Status::Withdrawing));
    // A withdrawing state still counts as a party.
    let parties = count_of(StatusFilter::Party, "2025-09-01").await;
    assert!(codes.iter().all(|c| iso3s(&parties).contains(c)));
    // Ukraine's suspension notice changes nothing.
    assert!(!codes.contains(&"UKR"));
    assert!(iso3s(&parties).contains(&"UKR"));

    // Once the withdrawals took effect, the five are outside.
    let outside = count_of(StatusFilter::NotParty, "2026-02-20").await;
    for gone in ["POL", "FIN", "EST", "LVA", "LTU"] {
        let row = outside
            .iter()
            .find(|s| s.iso3 == gone)
            .unwrap_or_else(|| panic!("{gone} should be outside on 2026-02-20"));
        assert_eq!(row.status, Status::Withdrawn);
    }
    assert!(
        count_of(StatusFilter::Withdrawing, "2026-02-20")
            .await
            .is_empty()
    );
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    status_counts_follow_the_treaty_events_through_the_2025_withdrawals,
    status_counts_follow_the_treaty_events_through_the_2025_withdrawals_check
);

// ---------------------------------------------------------------------------------------------
// 3. Engagements
// ---------------------------------------------------------------------------------------------

async fn an_embassy_visit_logged_for_nepal_appears_in_its_profile_with_its_participants_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let me = actor();
    let today = me.today();
    let sita = add_contact(&conn, "Sita Sharma", "Sita@MoFA.example.org", "NPL").await;
    assert_eq!(sita.email.as_deref(), Some("sita@mofa.example.org"));
    assert_eq!(sita.iso3.as_deref(), Some("NPL"));

    let visit_on = today - Days::new(20);
    let logged = engagements::log(
        &conn,
        &me,
        &EngagementInput {
            state: "Nepal".into(),
            kind: "Embassy visit".into(),
            date: Some(visit_on.to_string()),
            summary: Some("Briefed the embassy on accession".into()),
            outcome: Some("Embassy will raise accession with the ministry".into()),
            stance: Some("open".into()),
            with: vec!["sita@mofa.example.org".into()],
            meeting_id: None,
            sensitivity: None,
            restricted_kinds: None,
            deliverable: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(logged.iso3, "NPL");
    assert_eq!(logged.kind, "embassy_visit");
    assert_eq!(logged.date, visit_on);
    assert_eq!(logged.stance.as_deref(), Some("open"));
    assert_eq!(logged.participants, vec!["tester", "Sita Sharma"]);

    // An older call does not move the last engagement back.
    let call_on = today - Days::new(90);
    engagements::log(
        &conn,
        &me,
        &EngagementInput {
            state: "NPL".into(),
            kind: "call".into(),
            date: Some(call_on.to_string()),
            with: vec!["Sita Sharma".into()],
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();

    let npl = states::resolve(&conn, "NPL").await.unwrap();
    let profile = views::profile(
        &conn,
        npl,
        "APMBC",
        today,
        me.zone,
        today,
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(profile.status, Status::NotParty);
    assert_eq!(profile.engagements.len(), 2);
    let first = &profile.engagements[0];
    assert_eq!(first.id, logged.id, "newest first");
    assert_eq!(first.kind, "embassy_visit");
    assert_eq!(
        first.outcome.as_deref(),
        Some("Embassy will raise accession with the ministry")
    );
    assert_eq!(first.participants, vec!["tester", "Sita Sharma"]);
    assert_eq!(first.logged_by, "tester");
    assert_eq!(profile.engagements[1].date, call_on);
    assert_eq!(profile.last_engagement, Some(visit_on));
    assert_eq!(profile.days_since_last_engagement, Some(20));
    assert!(profile.contacts.iter().any(|c| c.id == sita.id));
    assert_eq!(profile.engagement_count, 2);

    // A page's shortened timeline keeps the newest, and still counts them all.
    let npl = states::resolve(&conn, "NPL").await.unwrap();
    let short = views::profile_with(
        &conn,
        npl,
        "APMBC",
        today,
        me.zone,
        today,
        Some(1),
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(short.engagements.len(), 1);
    assert_eq!(short.engagements[0].id, logged.id);
    assert_eq!(
        short.engagements[0].participants,
        vec!["tester", "Sita Sharma"]
    );
    assert_eq!(short.engagement_count, 2);
    assert_eq!(short.last_engagement, Some(visit_on));

    let participants = engagement_participant::Entity::find()
        .filter(engagement_participant::Column::EngagementId.eq(logged.id))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(participants.len(), 2);
    assert!(participants.iter().any(|p| p.contact_id == Some(sita.id)));

    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("engagement"))
        .filter(audit_log::Column::EntityId.eq(logged.id.to_string()))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].action, "engagement.log");
    assert_eq!(audit[0].actor, "tester");
    let detail: serde_json::Value = serde_json::from_str(&audit[0].detail).unwrap();
    assert_eq!(detail["iso3"], "NPL");
    assert_eq!(detail["kind"], "embassy_visit");
    assert_eq!(detail["contacts"], serde_json::json!([sita.id]));
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    an_embassy_visit_logged_for_nepal_appears_in_its_profile_with_its_participants,
    an_embassy_visit_logged_for_nepal_appears_in_its_profile_with_its_participants_check
);

// ---------------------------------------------------------------------------------------------
// 4. Meetings and time zones
// ---------------------------------------------------------------------------------------------

async fn a_meeting_at_ten_in_kathmandu_is_stored_as_quarter_past_four_utc_check(db: &TestDb) {
    let conn = open(db).await;
    let view = schedule(&conn, &actor(), &npl_meeting("2026-03-14 10:00", None))
        .await
        .unwrap();
    assert_eq!(view.time_zone, "Asia/Kathmandu");
    assert_eq!(view.local_start, "2026-03-14 10:00");
    assert_eq!(view.reader_start, "2026-03-14 04:15");
    assert_eq!(view.reader_time_zone, "UTC");
    assert_eq!((view.status.as_str(), view.version), ("planned", 1));
    assert_eq!(view.duration_minutes, 90);
    assert_eq!(view.participants, vec!["tester"]);

    let row = meeting_row(&conn, view.id).await;
    let want = Utc.with_ymd_and_hms(2026, 3, 14, 4, 15, 0).unwrap();
    assert_eq!(row.starts_at, want);
    assert_eq!(row.starts_at.to_rfc3339(), "2026-03-14T04:15:00+00:00");
    assert_eq!(row.time_zone, "Asia/Kathmandu");
    assert_eq!((row.status.as_str(), row.version), ("planned", 1));

    let shown = meetings::show(&conn, actor().zone, &view.id.to_string())
        .await
        .unwrap();
    assert_eq!(shown.local_start, "2026-03-14 10:00");
    assert_eq!(shown.starts_at, want);
    assert_eq!(audit_rows(&conn, "meeting.schedule").await.len(), 1);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    a_meeting_at_ten_in_kathmandu_is_stored_as_quarter_past_four_utc,
    a_meeting_at_ten_in_kathmandu_is_stored_as_quarter_past_four_utc_check
);

/// A record named by its id or the end of it is found by the database (no table read into
/// memory), however the id is written, and only in its own table.
async fn a_record_is_found_by_its_id_or_its_end_check(db: &TestDb) {
    let conn = open(db).await;
    let mut ids = Vec::new();
    for day in ["2026-03-14 10:00", "2026-03-15 10:00", "2026-03-16 10:00"] {
        ids.push(
            schedule(&conn, &actor(), &npl_meeting(day, None))
                .await
                .unwrap()
                .id,
        );
    }
    let id = ids[1];
    let short = outreach_core::ids::short(id);
    for given in [
        short.clone(),
        short.to_uppercase(),
        id.to_string(),
        id.to_string().to_uppercase(),
        id.simple().to_string(),
        id.simple().to_string()[20..].to_owned(),
    ] {
        assert_eq!(
            meetings::find(&conn, &given).await.unwrap().id,
            id,
            "{given}"
        );
    }
    // The end of no meeting's id, text that is no id, and another table's id.
    assert!(matches!(
        meetings::find(&conn, "0000ffff").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        meetings::find(&conn, "xyz").await,
        Err(Error::Invalid { .. })
    ));
    let f = followups::add(
        &conn,
        &actor(),
        &FollowUpInput {
            state: Some("NPL".into()),
            description: "Send the treaty text".into(),
            due: None,
            owner: None,
            engagement: None,
            meeting: Some(short.clone()),
        },
    )
    .await
    .unwrap();
    assert_eq!(f.meeting_id, Some(id));
    assert!(matches!(
        meetings::find(&conn, &outreach_core::ids::short(f.id)).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        followups::done(
            &conn,
            &actor(),
            &outreach_core::ids::short(f.id).to_uppercase()
        )
        .await
        .unwrap()
        .id,
        f.id
    );
}
outreach_testkit::db_test!(
    a_record_is_found_by_its_id_or_its_end,
    a_record_is_found_by_its_id_or_its_end_check
);

async fn a_local_time_that_does_not_exist_or_happens_twice_is_refused_and_nothing_is_written_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let before = table_counts(&conn).await;

    let gap = schedule(
        &conn,
        &actor(),
        &npl_meeting("2026-03-29 02:30", Some("Europe/Paris")),
    )
    .await;
    match gap {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "at");
            assert!(message.contains("does not exist"), "{message}");
            assert!(message.contains("Europe/Paris"), "{message}");
        }
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
    let twice = schedule(
        &conn,
        &actor(),
        &npl_meeting("2026-10-25 02:30", Some("Europe/Paris")),
    )
    .await;
    match twice {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "at");
            assert!(message.contains("happens twice"), "{message}");
        }
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
    let bad_zone = schedule(
        &conn,
        &actor(),
        &npl_meeting("2026-03-14 10:00", Some("Asia/Khatmandoo")),
    )
    .await;
    assert!(
        matches!(&bad_zone, Err(Error::Invalid { field, .. }) if field == "tz"),
        "{bad_zone:?}"
    );
    assert_eq!(table_counts(&conn).await, before);
    assert_eq!(count(&conn, meeting::Entity).await, 0);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    a_local_time_that_does_not_exist_or_happens_twice_is_refused_and_nothing_is_written,
    a_local_time_that_does_not_exist_or_happens_twice_is_refused_and_nothing_is_written_check
);

async fn rescheduling_bumps_the_version_and_a_cancelled_meeting_cannot_be_moved_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let planned = schedule(&conn, &me, &npl_meeting("2026-03-14 10:00", None))
        .await
        .unwrap();
    let id = planned.id.to_string();

    let moved = reschedule(&conn, &me, &id, "2026-03-16 15:30", None)
        .await
        .unwrap();
    assert_eq!(moved.version, 2);
    assert_eq!(moved.local_start, "2026-03-16 15:30");
    let row = meeting_row(&conn, planned.id).await;
    assert_eq!(row.version, 2);
    assert_eq!(
        row.starts_at,
        Utc.with_ymd_and_hms(2026, 3, 16, 9, 45, 0).unwrap()
    );
    assert_ne!(row.starts_at, planned.starts_at);
    assert_eq!(row.time_zone, "Asia/Kathmandu");

    // A short id and a new zone; Paris is on summer time on 1 April.
    let short = outreach_core::ids::short(planned.id);
    let to_paris = reschedule(&conn, &me, &short, "2026-04-01 09:00", Some("Europe/Paris"))
        .await
        .unwrap();
    assert_eq!(to_paris.version, 3);
    let row = meeting_row(&conn, planned.id).await;
    assert_eq!(
        (row.time_zone.as_str(), row.starts_at),
        (
            "Europe/Paris",
            Utc.with_ymd_and_hms(2026, 4, 1, 7, 0, 0).unwrap()
        )
    );

    // A refused move leaves the meeting as it was.
    let gap = reschedule(&conn, &me, &id, "2026-03-29 02:30", None).await;
    assert!(matches!(gap, Err(Error::Invalid { .. })), "{gap:?}");
    assert_eq!(meeting_row(&conn, planned.id).await, row);

    let cancelled = cancel(&conn, &me, &id).await.unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(cancelled.version, 4);
    let row = meeting_row(&conn, planned.id).await;
    assert_eq!((row.status.as_str(), row.version), ("cancelled", 4));

    let audit_before = count(&conn, audit_log::Entity).await;
    let again = reschedule(&conn, &me, &id, "2026-04-02 09:00", None).await;
    match again {
        Err(Error::Conflict(message)) => assert!(message.contains("cancelled"), "{message}"),
        other => panic!("expected Error::Conflict, got {other:?}"),
    }
    let twice = cancel(&conn, &me, &id).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    assert_eq!(meeting_row(&conn, planned.id).await, row);
    assert_eq!(count(&conn, audit_log::Entity).await, audit_before);

    let unknown = cancel(&conn, &me, "deadbeef").await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );

    let history = audit_log::Entity::find()
        .filter(audit_log::Column::EntityId.eq(id.clone()))
        .all(&conn)
        .await
        .unwrap();
    let mut actions: Vec<&str> = history.iter().map(|a| a.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "meeting.cancel",
            "meeting.reschedule",
            "meeting.reschedule",
            "meeting.schedule"
        ]
    );
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    rescheduling_bumps_the_version_and_a_cancelled_meeting_cannot_be_moved,
    rescheduling_bumps_the_version_and_a_cancelled_meeting_cannot_be_moved_check
);

// ---------------------------------------------------------------------------------------------
// 5. Bad input writes nothing
// ---------------------------------------------------------------------------------------------

fn npl_visit() -> EngagementInput {
    EngagementInput {
        state: "NPL".into(),
        kind: "embassy_visit".into(),
        date: Some("2026-01-15".into()),
        summary: Some("Visit".into()),
        stance: Some("open".into()),
        with: vec!["sita@mofa.example.org".into()],
        ..EngagementInput::default()
    }
}

async fn an_engagement_with_an_unknown_contact_or_a_bad_field_writes_nothing_check(db: &TestDb) {
    let conn = open(db).await;
    add_contact(&conn, "Sita Sharma", "sita@mofa.example.org", "NPL").await;
    let before = table_counts(&conn).await;

    let unknown_contact = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            with: vec!["sita@mofa.example.org".into(), "nobody@example.org".into()],
            ..npl_visit()
        },
    )
    .await;
    // A contact that does not exist is a record not found, named in the message.
    match unknown_contact {
        Err(
            e @ Error::NotFound {
                what: "contact", ..
            },
        ) => {
            let message = e.to_string();
            assert!(
                message.contains("no contact matches 'nobody@example.org'"),
                "{message}"
            );
        }
        other => panic!("expected Error::NotFound, got {other:?}"),
    }

    let bad_stance = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            stance: Some("enthusiastic".into()),
            ..npl_visit()
        },
    )
    .await;
    match bad_stance {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "stance");
            assert!(message.contains("enthusiastic"), "{message}");
        }
        other => panic!("expected Error::Invalid, got {other:?}"),
    }

    let bad_kind = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            kind: "lunch".into(),
            ..npl_visit()
        },
    )
    .await;
    assert!(
        matches!(&bad_kind, Err(Error::Invalid { field, .. }) if field == "kind"),
        "{bad_kind:?}"
    );

    let future = actor().today() + Days::new(30);
    let in_the_future = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            date: Some(future.to_string()),
            ..npl_visit()
        },
    )
    .await;
    assert!(
        matches!(&in_the_future, Err(Error::Invalid { field, .. }) if field == "date"),
        "{in_the_future:?}"
    );

    assert_eq!(table_counts(&conn).await, before);
    assert_eq!(count(&conn, engagement::Entity).await, 0);

    // The same input with the fixes goes through, so the refusals were about the bad fields.
    engagements::log(&conn, &actor(), &npl_visit())
        .await
        .unwrap();
    assert_eq!(count(&conn, engagement::Entity).await, 1);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    an_engagement_with_an_unknown_contact_or_a_bad_field_writes_nothing,
    an_engagement_with_an_unknown_contact_or_a_bad_field_writes_nothing_check
);

async fn an_unknown_state_code_is_refused_with_nepal_as_the_suggestion_check(db: &TestDb) {
    let conn = open(db).await;
    add_contact(&conn, "Sita Sharma", "sita@mofa.example.org", "NPL").await;
    let before = table_counts(&conn).await;

    let result = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            state: "NEP".into(),
            ..npl_visit()
        },
    )
    .await;
    let err = result.expect_err("NEP is not a state");
    let text = err.to_string();
    match &err {
        Error::UnknownState { given, suggestions } => {
            assert_eq!(given, "NEP");
            assert!(
                suggestions.iter().any(|s| s.iso3 == "NPL"),
                "{suggestions:?}"
            );
        }
        other => panic!("expected Error::UnknownState, got {other:?}"),
    }
    assert!(text.contains("NPL (Nepal)"), "{text}");
    assert!(
        text.starts_with("NEP is not a state code or name"),
        "{text}"
    );

    let meeting = schedule(
        &conn,
        &actor(),
        &MeetingInput {
            state: "NEP".into(),
            ..npl_meeting("2026-03-14 10:00", None)
        },
    )
    .await;
    assert!(
        matches!(meeting, Err(Error::UnknownState { .. })),
        "{meeting:?}"
    );
    assert_eq!(table_counts(&conn).await, before);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    an_unknown_state_code_is_refused_with_nepal_as_the_suggestion,
    an_unknown_state_code_is_refused_with_nepal_as_the_suggestion_check
);

// ---------------------------------------------------------------------------------------------
// 6. CSV import
// ---------------------------------------------------------------------------------------------

const ORGS_CSV: &str = "\
name,kind,state,email,icbl_member
Landmine Free Nepal,icbl-member,NPL,info@lfn.example.org,
Ministry of Foreign Affairs of Nepal,ministry,Nepal,un@mofa.example.org,no
India Mine Ban Forum,ICBL member,IND,info@imbf.example.org,yes
";

const CONTACTS_CSV: &str = "\
name,title,role,organisation,email,languages,time_zone
Asha Gurung,Ms,Campaign coordinator,Landmine Free Nepal,asha@lfn.example.org,\"ne, en\",Asia/Kathmandu
Ram Thapa,Mr,Joint Secretary,Ministry of Foreign Affairs of Nepal,ram@mofa.example.org,ne;en,
Priya Rao,Dr,Programme lead,India Mine Ban Forum,priya@imbf.example.org,,Asia/Kolkata
Bikash Rai,,Researcher,Landmine Free Nepal,bikash@lfn.example.org,ne,
";

async fn importing_organisations_and_contacts_twice_imports_each_row_once_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let orgs = write_file(db, "organisations.csv", ORGS_CSV);
    let people = write_file(db, "contacts.csv", CONTACTS_CSV);

    let first = directory::import_organisations(&conn, &me, &orgs)
        .await
        .unwrap();
    assert_eq!(
        (first.rows, first.imported, first.already_present),
        (3, 3, 0)
    );
    assert_eq!(count(&conn, organisation::Entity).await, 3);
    let contacts = directory::import_contacts(&conn, &me, &people)
        .await
        .unwrap();
    assert_eq!(
        (contacts.rows, contacts.imported, contacts.already_present),
        (4, 4, 0)
    );
    assert_eq!(count(&conn, contact::Entity).await, 4);

    let lfn = directory::resolve_organisation(&conn, "landmine free nepal")
        .await
        .unwrap();
    assert_eq!(lfn.iso3.as_deref(), Some("NPL"));
    assert_eq!(lfn.kind, "icbl_member");
    assert!(lfn.icbl_member);
    let mofa = directory::resolve_organisation(&conn, "Ministry of Foreign Affairs of Nepal")
        .await
        .unwrap();
    assert_eq!(mofa.iso3.as_deref(), Some("NPL"));
    assert!(!mofa.icbl_member);
    let asha = directory::resolve_contact(&conn, "asha@lfn.example.org")
        .await
        .unwrap();
    assert_eq!(asha.organisation_id, Some(lfn.id));
    assert_eq!(
        asha.iso3.as_deref(),
        Some("NPL"),
        "a contact takes its organisation's state"
    );
    assert_eq!(asha.languages, "ne,en");
    assert_eq!(asha.time_zone.as_deref(), Some("Asia/Kathmandu"));
    let ram = directory::resolve_contact(&conn, "Ram Thapa")
        .await
        .unwrap();
    assert_eq!(ram.languages, "ne,en");
    assert_eq!(ram.time_zone, None);
    assert_eq!(
        directory::contacts(&conn, Some("NPL")).await.unwrap().len(),
        3
    );
    assert_eq!(audit_rows(&conn, "organisation.create").await.len(), 3);
    assert_eq!(audit_rows(&conn, "contact.create").await.len(), 4);

    let before = table_counts(&conn).await;
    let orgs_again = directory::import_organisations(&conn, &me, &orgs)
        .await
        .unwrap();
    assert_eq!(
        (
            orgs_again.rows,
            orgs_again.imported,
            orgs_again.already_present
        ),
        (3, 0, 3)
    );
    let contacts_again = directory::import_contacts(&conn, &me, &people)
        .await
        .unwrap();
    assert_eq!(
        (
            contacts_again.rows,
            contacts_again.imported,
            contacts_again.already_present
        ),
        (4, 0, 4)
    );
    assert_eq!(table_counts(&conn).await, before);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    importing_organisations_and_contacts_twice_imports_each_row_once,
    importing_organisations_and_contacts_twice_imports_each_row_once_check
);

async fn a_contacts_file_with_a_bad_email_on_its_third_row_is_refused_whole_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let orgs = write_file(db, "organisations.csv", ORGS_CSV);
    directory::import_organisations(&conn, &me, &orgs)
        .await
        .unwrap();
    let before = table_counts(&conn).await;

    let bad = write_file(
        db,
        "bad-contacts.csv",
        "name,organisation,email\n\
         Asha Gurung,Landmine Free Nepal,asha@lfn.example.org\n\
         Ram Thapa,Ministry of Foreign Affairs of Nepal,ram@mofa.example.org\n\
         Bikash Rai,Landmine Free Nepal,bikash-at-lfn.example.org\n\
         Priya Rao,India Mine Ban Forum,priya@imbf.example.org\n",
    );
    let err = directory::import_contacts(&conn, &me, &bad)
        .await
        .expect_err("the third row has an invalid email");
    let text = err.to_string();
    match err {
        Error::Csv {
            file,
            line,
            column,
            message,
        } => {
            assert_eq!(line, 4);
            assert_eq!(column, "email");
            assert!(file.ends_with("bad-contacts.csv"), "{file}");
            assert!(message.contains("bikash-at-lfn.example.org"), "{message}");
        }
        other => panic!("expected Error::Csv, got {other:?}"),
    }
    assert!(text.contains("line 4, column 'email'"), "{text}");
    assert!(text.contains("nothing was imported"), "{text}");

    // The two good rows before it were rolled back with the rest.
    assert_eq!(table_counts(&conn).await, before);
    assert_eq!(count(&conn, contact::Entity).await, 0);
    let asha = directory::resolve_contact(&conn, "asha@lfn.example.org").await;
    assert!(matches!(asha, Err(Error::NotFound { .. })), "{asha:?}");

    // An unknown state in an organisations file names its column the same way.
    let bad_orgs = write_file(
        db,
        "bad-organisations.csv",
        "name,kind,state\nA,ngo,NPL\nB,ngo,Atlantis\n",
    );
    let err = directory::import_organisations(&conn, &me, &bad_orgs).await;
    assert!(
        matches!(&err, Err(Error::Csv { line: 3, column, .. }) if column == "state"),
        "{err:?}"
    );
    assert_eq!(table_counts(&conn).await, before);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    a_contacts_file_with_a_bad_email_on_its_third_row_is_refused_whole,
    a_contacts_file_with_a_bad_email_on_its_third_row_is_refused_whole_check
);

// ---------------------------------------------------------------------------------------------
// 7. Follow-ups, the demo data and the attention list
// ---------------------------------------------------------------------------------------------

async fn a_follow_up_is_done_once_and_then_leaves_the_open_list_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let today = me.today();
    let soon = followups::add(
        &conn,
        &me,
        &FollowUpInput {
            state: Some("Nepal".into()),
            description: "Send the Convention text in Nepali".into(),
            due: Some((today + Days::new(7)).to_string()),
            ..FollowUpInput::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((soon.iso3.as_str(), soon.owner.as_str()), ("NPL", "tester"));
    assert!(!soon.overdue);
    let late = followups::add(
        &conn,
        &me,
        &FollowUpInput {
            state: Some("NPL".into()),
            description: "Thank the embassy".into(),
            due: Some((today - Days::new(3)).to_string()),
            ..FollowUpInput::default()
        },
    )
    .await
    .unwrap();
    assert!(late.overdue);

    let open_list = followups::list(
        &conn,
        today,
        false,
        Some("NPL"),
        None,
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    let ids: Vec<_> = open_list.iter().map(|f| f.id).collect();
    assert_eq!(ids, vec![late.id, soon.id], "by due date");
    assert_eq!(
        followups::list(
            &conn,
            today,
            false,
            None,
            Some("tester"),
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .len(),
        2
    );
    assert!(
        followups::list(
            &conn,
            today,
            false,
            None,
            Some("someone-else"),
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .is_empty()
    );

    let done = followups::done(&conn, &me, &late.id.to_string())
        .await
        .unwrap();
    assert!(done.done_at.is_some());
    assert!(!done.overdue, "a done follow-up is not overdue");
    let row = follow_up::Entity::find_by_id(late.id)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert!(row.done_at.is_some());

    let open_list = followups::list(
        &conn,
        today,
        false,
        Some("NPL"),
        None,
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        open_list.iter().map(|f| f.id).collect::<Vec<_>>(),
        vec![soon.id]
    );
    let everything = followups::list(
        &conn,
        today,
        true,
        Some("NPL"),
        None,
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(everything.len(), 2);

    let audit_before = count(&conn, audit_log::Entity).await;
    let twice = followups::done(&conn, &me, &outreach_core::ids::short(late.id)).await;
    match twice {
        Err(Error::Conflict(message)) => assert!(message.contains("already done"), "{message}"),
        other => panic!("expected Error::Conflict, got {other:?}"),
    }
    let unknown = followups::done(&conn, &me, "deadbeef").await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );
    assert_eq!(count(&conn, audit_log::Entity).await, audit_before);

    // A follow-up needs a state and a known owner; refusals write nothing.
    let before = table_counts(&conn).await;
    let stateless = followups::add(
        &conn,
        &me,
        &FollowUpInput {
            description: "Something".into(),
            ..FollowUpInput::default()
        },
    )
    .await;
    assert!(
        matches!(&stateless, Err(Error::Invalid { field, .. }) if field == "state"),
        "{stateless:?}"
    );
    let no_owner = followups::add(
        &conn,
        &me,
        &FollowUpInput {
            state: Some("NPL".into()),
            description: "Something".into(),
            owner: Some("nobody".into()),
            ..FollowUpInput::default()
        },
    )
    .await;
    assert!(
        matches!(no_owner, Err(Error::NotFound { .. })),
        "{no_owner:?}"
    );
    assert_eq!(table_counts(&conn).await, before);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    a_follow_up_is_done_once_and_then_leaves_the_open_list,
    a_follow_up_is_done_once_and_then_leaves_the_open_list_check
);

async fn the_attention_list_after_the_demo_puts_never_engaged_states_first_and_shows_nepals_next_meeting_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let me = actor();
    let today = me.today();
    let report = demo::load(&conn, &me).await.unwrap();
    assert!(!report.already_present);
    assert!(report.engagements > 0 && report.meetings > 0);

    let rows = views::attention(
        &conn,
        "APMBC",
        today,
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap();
    let outside = states::by_status(&conn, "APMBC", StatusFilter::NotParty, today)
        .await
        .unwrap();
    assert_eq!(rows.len(), outside.len());
    assert!(rows.iter().all(|r| !r.status.is_party()));

    // Never engaged first, then the longest since the last engagement.
    let first_engaged = rows
        .iter()
        .position(|r| r.days_since_last_engagement.is_some())
        .expect("the demo engages some states");
    assert!(first_engaged > 0, "some states were never engaged");
    assert!(
        rows[..first_engaged]
            .iter()
            .all(|r| r.last_engagement.is_none() && r.days_since_last_engagement.is_none())
    );
    let engaged = &rows[first_engaged..];
    assert!(
        engaged
            .iter()
            .all(|r| r.days_since_last_engagement.is_some())
    );
    let days: Vec<i64> = engaged
        .iter()
        .map(|r| r.days_since_last_engagement.unwrap())
        .collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");
    let engaged_codes: Vec<&str> = engaged.iter().map(|r| r.iso3.as_str()).collect();
    let engaged_in_db: std::collections::BTreeSet<String> = engagement::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.iso3)
        .collect();
    assert_eq!(engaged_codes.len(), engaged_in_db.len());
    assert!(engaged_codes.iter().all(|c| engaged_in_db.contains(*c)));

    let row = |iso3: &str| {
        rows.iter()
            .find(|r| r.iso3 == iso3)
            .unwrap_or_else(|| panic!("{iso3} is on the attention list"))
    };
    let npl = row("NPL");
    let next = npl
        .next_meeting
        .as_ref()
        .expect("Nepal has a meeting planned");
    assert!(next.starts_at > Utc::now());
    assert_eq!(next.time_zone, "Asia/Kathmandu");
    assert!(next.local_start.ends_with(" 10:00"), "{}", next.local_start);
    let newest_npl = engagement::Entity::find()
        .filter(engagement::Column::Iso3.eq("NPL"))
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|e| e.occurred_on)
        .unwrap();
    assert_eq!(npl.last_engagement, Some(newest_npl.occurred_on));
    assert_eq!(
        npl.last_engagement_kind.as_deref(),
        Some(newest_npl.kind.as_str())
    );
    assert_eq!(
        npl.days_since_last_engagement,
        Some((today - newest_npl.occurred_on).num_days())
    );
    assert_eq!(npl.open_follow_ups, 1);
    assert_eq!(npl.overdue_follow_ups, 0);
    assert_eq!(row("IND").overdue_follow_ups, 1);

    for iso3 in ["AZE", "IND", "NPL"] {
        let grantees = &row(iso3).grantees;
        assert_eq!(grantees.len(), 1, "{iso3}: {grantees:?}");
        let org = directory::resolve_organisation(&conn, &grantees[0])
            .await
            .unwrap();
        assert_eq!(org.iso3.as_deref(), Some(iso3));
    }
    assert!(row("USA").grantees.is_empty());
    assert!(row("USA").next_meeting.is_none());
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    the_attention_list_after_the_demo_puts_never_engaged_states_first_and_shows_nepals_next_meeting,
    the_attention_list_after_the_demo_puts_never_engaged_states_first_and_shows_nepals_next_meeting_check
);

async fn loading_the_demo_twice_adds_nothing_the_second_time_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let empty = table_counts(&conn).await;
    let first = demo::load(&conn, &me).await.unwrap();
    assert!(!first.already_present);
    let after_first = table_counts(&conn).await;
    let grew = |table: &str| {
        let at = |counts: &[(&str, u64)]| counts.iter().find(|(t, _)| *t == table).unwrap().1;
        usize::try_from(at(&after_first) - at(&empty)).unwrap()
    };
    assert_eq!(grew("organisations"), first.organisations);
    assert_eq!(grew("contacts"), first.contacts);
    assert_eq!(grew("grants"), first.grants);
    assert_eq!(grew("engagements"), first.engagements);
    assert_eq!(grew("meetings"), first.meetings);
    assert_eq!(grew("follow_ups"), first.follow_ups);
    assert_eq!(grew("signals"), first.signals);

    let second = demo::load(&conn, &me).await.unwrap();
    assert!(second.already_present);
    assert_eq!(
        (
            second.organisations,
            second.contacts,
            second.grants,
            second.engagements,
            second.meetings,
            second.follow_ups,
            second.signals
        ),
        (0, 0, 0, 0, 0, 0, 0)
    );
    assert_eq!(table_counts(&conn).await, after_first);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    loading_the_demo_twice_adds_nothing_the_second_time,
    loading_the_demo_twice_adds_nothing_the_second_time_check
);

// ---------------------------------------------------------------------------------------------
// Who may read what, text input, and the reference data guard
// ---------------------------------------------------------------------------------------------

async fn restricted_notes_are_withheld_from_uncleared_readers_and_reads_are_audited_check(
    db: &TestDb,
) {
    use outreach_core::access::{Reader, WITHHELD_FOLLOW_UP, WITHHELD_SUMMARY};
    let conn = open(db).await;
    let me = actor();
    // Military dialogue is restricted unless said otherwise; other kinds are internal; the
    // settings' list of restricted kinds is honoured; a given sensitivity wins.
    let log = |kind: &str, sensitivity: Option<&str>, kinds: Option<Vec<String>>| EngagementInput {
        state: "AZE".into(),
        kind: kind.into(),
        summary: Some(format!("{kind} notes")),
        outcome: Some("candid readout".into()),
        stance: Some("reluctant".into()),
        sensitivity: sensitivity.map(str::to_owned),
        restricted_kinds: kinds,
        ..EngagementInput::default()
    };
    let dialogue = engagements::log(&conn, &me, &log("military-dialogue", None, None))
        .await
        .unwrap();
    assert_eq!(dialogue.sensitivity, "restricted");
    let call = engagements::log(&conn, &me, &log("call", None, None))
        .await
        .unwrap();
    assert_eq!(call.sensitivity, "internal");
    let by_settings = engagements::log(&conn, &me, &log("call", None, Some(vec!["call".into()])))
        .await
        .unwrap();
    assert_eq!(by_settings.sensitivity, "restricted");
    let public = engagements::log(&conn, &me, &log("military-dialogue", Some("public"), None))
        .await
        .unwrap();
    assert_eq!(public.sensitivity, "public");
    let bad = engagements::log(&conn, &me, &log("call", Some("secret"), None))
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, Error::Invalid { field, .. } if field == "sensitivity"),
        "{bad}"
    );
    followups::add(
        &conn,
        &me,
        &FollowUpInput {
            description: "Send the general the clearance standard".into(),
            engagement: Some(dialogue.id.to_string()),
            ..FollowUpInput::default()
        },
    )
    .await
    .unwrap();

    let uncleared = Reader::of(&conn, "tester").await.unwrap();
    assert!(!uncleared.cleared);
    let seen = engagements::for_state(&conn, "AZE", &uncleared)
        .await
        .unwrap();
    let d = seen.iter().find(|e| e.id == dialogue.id).unwrap();
    assert!(d.withheld);
    assert_eq!(d.summary, WITHHELD_SUMMARY);
    assert_eq!((d.outcome.as_deref(), d.stance.as_deref()), (None, None));
    assert_eq!(
        (d.kind.as_str(), d.logged_by.as_str()),
        ("military_dialogue", "tester")
    );
    let c = seen.iter().find(|e| e.id == call.id).unwrap();
    assert!(!c.withheld && c.outcome.is_some());
    let fups = followups::list(&conn, me.today(), false, Some("AZE"), None, &uncleared)
        .await
        .unwrap();
    assert_eq!(fups[0].description, WITHHELD_FOLLOW_UP);
    assert!(fups[0].withheld);
    let today = me.today();
    let aze = states::resolve(&conn, "AZE").await.unwrap();
    let profile = views::profile(
        &conn,
        aze.clone(),
        "APMBC",
        today,
        me.zone,
        today,
        &uncleared,
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&profile).unwrap();
    assert!(!text.contains("military_dialogue notes"), "{text}");
    assert!(!text.contains("clearance standard"), "{text}");
    assert_eq!(
        audit_rows(&conn, "restricted.read").await.len(),
        0,
        "nothing restricted was read"
    );
    // The audit log of the logging carries no restricted outcome.
    let logged = audit_log::Entity::find()
        .filter(audit_log::Column::EntityId.eq(dialogue.id.to_string()))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !logged.detail.contains("candid readout"),
        "{}",
        logged.detail
    );

    // Cleared by an admin: the text shows, and each read is audited.
    outreach_core::actor::upsert_user(
        &conn,
        &me,
        &outreach_core::actor::UserInput {
            handle: "tester".into(),
            cleared: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let cleared = Reader::of(&conn, "tester").await.unwrap();
    assert!(cleared.cleared);
    let seen = engagements::for_state(&conn, "AZE", &cleared)
        .await
        .unwrap();
    assert!(seen.iter().all(|e| !e.withheld));
    let fups = followups::list(&conn, today, false, Some("AZE"), None, &cleared)
        .await
        .unwrap();
    assert!(fups[0].description.contains("clearance standard"));
    let reads = audit_rows(&conn, "restricted.read").await;
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads.iter().all(|r| r.actor == "tester"));
    // A disabled account is never cleared.
    outreach_core::entities::user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Utc::now().into())
        .exec(&conn)
        .await
        .unwrap();
    assert!(!Reader::of(&conn, "tester").await.unwrap().cleared);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    restricted_notes_are_withheld_from_uncleared_readers_and_reads_are_audited,
    restricted_notes_are_withheld_from_uncleared_readers_and_reads_are_audited_check
);

async fn control_characters_are_refused_with_the_field_named_and_nothing_is_written_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let before = table_counts(&conn).await;
    let cases: Vec<(&str, EngagementInput)> = vec![
        (
            "summary",
            EngagementInput {
                summary: Some("a\0b".into()),
                ..npl_visit()
            },
        ),
        (
            "outcome",
            EngagementInput {
                outcome: Some("bell\u{7}".into()),
                ..npl_visit()
            },
        ),
    ];
    for (field, input) in cases {
        let err = engagements::log(&conn, &actor(), &input).await.unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field: f, .. } if f == field),
            "{field}: {err}"
        );
        assert!(err.to_string().contains("control character"), "{err}");
    }
    let err = directory::add_contact(
        &conn,
        &actor(),
        &ContactInput {
            name: "Ram\nDemo".into(),
            ..ContactInput::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if field == "name"),
        "{err}"
    );
    let err = Actor::new("sa\0m", IanaZone::UTC).unwrap_err();
    assert!(err.to_string().starts_with("user:"), "{err}");
    assert_eq!(table_counts(&conn).await, before, "nothing was written");
    // Line breaks and tabs are kept where text has several lines.
    let ok = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            summary: Some("one\r\n\ttwo".into()),
            with: Vec::new(),
            ..npl_visit()
        },
    )
    .await
    .unwrap();
    assert_eq!(ok.summary, "one\n\ttwo");
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    control_characters_are_refused_with_the_field_named_and_nothing_is_written,
    control_characters_are_refused_with_the_field_named_and_nothing_is_written_check
);

async fn a_load_that_would_remove_most_events_is_refused_unless_allowed_check(db: &TestDb) {
    let conn = open(db).await;
    let shipped = ReferenceData::embedded().unwrap();
    let states_csv = to_csv(&shipped.states);
    // An empty or header-only file is refused before anything is read from the database.
    for events in [
        String::new(),
        "treaty,iso3,event,date,source,confidence,note\n".to_owned(),
    ] {
        let err = ReferenceData::parse(&states_csv, &events)
            .unwrap_err()
            .to_string();
        assert!(err.contains("treaty_events.csv has no rows"), "{err}");
    }
    // A copy with a tenth of the events: refused, saying what would go; nothing changes.
    let kept: Vec<_> = shipped
        .events
        .iter()
        .take(shipped.events.len() / 10)
        .cloned()
        .collect();
    let partial = ReferenceData::parse(&states_csv, &to_csv(&kept)).unwrap();
    let before = count(&conn, treaty_event::Entity).await;
    let err = refdata::load(&conn, &partial, "tester").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Conflict(_)), "{text}");
    assert!(
        text.contains(&format!(
            "would remove {} of the {before} treaty events",
            before as usize - kept.len()
        )),
        "{text}"
    );
    assert!(
        text.contains("--allow-removals") && text.contains("and "),
        "{text}"
    );
    assert_eq!(count(&conn, treaty_event::Entity).await, before);
    // Allowed: the removal happens.
    let report = refdata::load_with(&conn, &partial, "tester", true)
        .await
        .unwrap();
    assert_eq!(report.treaty_events.removed, before as usize - kept.len());
    assert_eq!(count(&conn, treaty_event::Entity).await, kept.len() as u64);
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    a_load_that_would_remove_most_events_is_refused_unless_allowed,
    a_load_that_would_remove_most_events_is_refused_unless_allowed_check
);

/// SQLite files are opened in WAL mode with `synchronous = NORMAL` on every connection of the
/// pool: readers never wait for the writer, and a commit costs no extra flush.
#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_normal_synchronous() {
    use sea_orm::ConnectionTrait as _;
    let db = TestDb::new(outreach_testkit::Backend::Sqlite).await;
    let conn = outreach_core::db::connect(&db.url).await.unwrap();
    // Four read transactions held at once take the pool's four connections.
    let mut held = Vec::new();
    for _ in 0..4 {
        let tx = sea_orm::TransactionTrait::begin(&conn).await.unwrap();
        let mode = tx
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA journal_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mode.try_get_by_index::<String>(0).unwrap(), "wal");
        let sync = tx
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA synchronous",
            ))
            .await
            .unwrap()
            .unwrap();
        // 1 is NORMAL (2 would be FULL, the default).
        assert_eq!(sync.try_get_by_index::<i32>(0).unwrap(), 1);
        held.push(tx);
    }
    for tx in held {
        tx.commit().await.unwrap();
    }
    conn.close().await.ok();
    db.cleanup().await;
}

/// Contacts are found and checked for duplicates by key (the email index, then the name at an
/// organisation), with the rules they always had: a duplicate is the same address, or (where
/// one has no address) the same name in any ASCII case at the same organisation; a name is
/// found in any case, also beyond ASCII; an id by its last characters.
async fn contacts_are_found_and_deduplicated_by_key_check(db: &TestDb) {
    let conn = open(db).await;
    let me = actor();
    let lfn = directory::add_organisation(
        &conn,
        &me,
        &directory::OrganisationInput {
            name: "Landmine Free Nepal".into(),
            state: Some("NPL".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let contact = |name: &str, email: Option<&str>, org: Option<&str>| ContactInput {
        name: name.into(),
        email: email.map(Into::into),
        organisation: org.map(Into::into),
        ..Default::default()
    };
    let elise = directory::add_contact(
        &conn,
        &me,
        &contact("Élise Durand", None, Some("landmine free nepal")),
    )
    .await
    .unwrap();
    assert_eq!(elise.organisation_id, Some(lfn.id));
    // Same name in another ASCII case, same organisation, one without an address: present.
    let again = directory::add_contact(
        &conn,
        &me,
        &contact(
            "ÉLISE DURAND",
            Some("elise@example.org"),
            Some("Landmine Free Nepal"),
        ),
    )
    .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    // The same name elsewhere is someone else.
    directory::add_contact(&conn, &me, &contact("Élise Durand", None, None))
        .await
        .unwrap();
    let ram = directory::add_contact(
        &conn,
        &me,
        &contact("Ram Thapa", Some("Ram@Example.org"), None),
    )
    .await
    .unwrap();
    assert_eq!(ram.email.as_deref(), Some("ram@example.org"));
    let same_address = directory::add_contact(
        &conn,
        &me,
        &contact("R. Thapa", Some("RAM@example.org"), None),
    )
    .await;
    assert!(
        matches!(same_address, Err(Error::Conflict(_))),
        "{same_address:?}"
    );
    // Both have addresses, and they differ: two people of one name.
    directory::add_contact(
        &conn,
        &me,
        &contact("Ram Thapa", Some("ram.thapa@example.org"), None),
    )
    .await
    .unwrap();

    let found = directory::resolve_contact(&conn, "RAM@EXAMPLE.ORG")
        .await
        .unwrap();
    assert_eq!(found.id, ram.id);
    let two = directory::resolve_contact(&conn, "ram thapa").await;
    assert!(
        matches!(two, Err(Error::Ambiguous { count: 2, .. })),
        "{two:?}"
    );
    let both_elises = directory::resolve_contact(&conn, "élise durand").await;
    assert!(
        matches!(both_elises, Err(Error::Ambiguous { count: 2, .. })),
        "{both_elises:?}"
    );
    let suffix = elise.id.simple().to_string();
    let by_id = directory::resolve_contact(&conn, &suffix[suffix.len() - 8..])
        .await
        .unwrap();
    assert_eq!(by_id.id, elise.id);
    let missing = directory::resolve_contact(&conn, "Ram Tapa").await;
    assert!(
        matches!(&missing, Err(Error::NotFound { .. }))
            && missing
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("Ram Thapa"),
        "{missing:?}"
    );
    assert_eq!(
        directory::resolve_organisation(&conn, "LANDMINE FREE NEPAL")
            .await
            .unwrap()
            .id,
        lfn.id
    );
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    contacts_are_found_and_deduplicated_by_key,
    contacts_are_found_and_deduplicated_by_key_check
);

// ---------------------------------------------------------------------------------------------
// Grantee deliverables and reports (issue 16 item 4)
// ---------------------------------------------------------------------------------------------

/// A coordinator, and a grant to Landmine Free Nepal with two reports due.
async fn nepal_grant(conn: &DatabaseConnection) -> (Actor, directory::GrantView) {
    let lead = Actor::new("lead", IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        conn,
        &actor(),
        &outreach_core::actor::UserInput {
            handle: "lead".into(),
            role: Some("coordinator".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    directory::add_organisation(
        conn,
        &lead,
        &directory::OrganisationInput {
            name: "Landmine Free Nepal".into(),
            state: Some("NPL".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let g = directory::add_grant(
        conn,
        &lead,
        &directory::GrantInput {
            organisation: "Landmine Free Nepal".into(),
            year: 2026,
            amount: "20000".into(),
            currency: "USD".into(),
            reports_due: vec!["2026-06-30".into(), "2026-12-31".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (lead, g)
}

async fn a_grant_tracks_its_deliverables_reports_and_the_engagements_that_fulfil_them(db: &TestDb) {
    use outreach_core::grants::{self, DeliverableChange, DeliverableInput};
    let conn = open(db).await;
    let (lead, g) = nepal_grant(&conn).await;
    assert_eq!(
        g.progress.summary,
        "0 of 0 deliverables done, 0 of 2 reports submitted"
    );
    let gid = g.id.to_string();
    let mut ids = Vec::new();
    for (what, due, status) in [
        ("Brief the defence ministry", "2026-03-31", None),
        (
            "Workshop with parliamentarians",
            "2026-06-30",
            Some("in-progress"),
        ),
        (
            "Translate the treaty into Nepali",
            "2026-09-30",
            Some("done"),
        ),
        ("Op-ed in the national press", "2026-10-31", Some("dropped")),
    ] {
        let d = grants::add_deliverable(
            &conn,
            &lead,
            &DeliverableInput {
                grant: gid[gid.len() - 8..].to_owned(),
                what: what.into(),
                due: due.into(),
                status: status.map(Into::into),
            },
        )
        .await
        .unwrap();
        assert_eq!(d.grant_id, g.id);
        ids.push(d);
    }
    assert_eq!(ids[0].status, "planned", "planned when no status is given");
    assert_eq!(ids[1].status, "in_progress");
    let listed = grants::deliverables(&conn, &gid, d("2026-05-01"))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|x| x.what.as_str()).collect::<Vec<_>>(),
        [
            "Brief the defence ministry",
            "Workshop with parliamentarians",
            "Translate the treaty into Nepali",
            "Op-ed in the national press"
        ],
        "earliest due first"
    );
    assert!(listed[0].overdue, "planned and past its date");
    assert!(!listed[2].overdue, "done is never overdue");

    // The first is done now; a report comes in.
    let done = grants::update_deliverable(
        &conn,
        &lead,
        &ids[0].short_id,
        &DeliverableChange {
            status: Some("done".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (done.status.as_str(), done.what.as_str()),
        ("done", "Brief the defence ministry")
    );
    let detail = grants::show(
        &conn,
        &gid,
        d("2026-05-01"),
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap();
    grants::submit_report(
        &conn,
        &lead,
        &detail.reports[0].id.to_string(),
        Some("2026-07-02"),
    )
    .await
    .unwrap();

    // An engagement with Nepal fulfils the workshop.
    let visit = engagements::log(
        &conn,
        &actor(),
        &EngagementInput {
            state: "NPL".into(),
            kind: "capital-meeting".into(),
            summary: Some("Workshop held with the foreign affairs committee".into()),
            sensitivity: Some("internal".into()),
            deliverable: Some(ids[1].short_id.clone()),
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(visit.deliverable_id, Some(ids[1].id));
    let stored = engagement::Entity::find_by_id(visit.id)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.deliverable_id, Some(ids[1].id));

    let reader = outreach_core::access::Reader::of(&conn, "tester")
        .await
        .unwrap();
    let detail = grants::show(&conn, &gid, d("2026-08-01"), &reader)
        .await
        .unwrap();
    assert_eq!(
        detail.grant.progress.summary, "2 of 3 deliverables done, 1 of 2 reports submitted",
        "the dropped one counts in neither"
    );
    assert_eq!(detail.grant.progress.deliverables_dropped, 1);
    assert_eq!(detail.reports[0].submitted_on, Some(d("2026-07-02")));
    assert_eq!(detail.reports[0].submitted_by.as_deref(), Some("lead"));
    assert!(detail.reports[1].submitted_on.is_none() && !detail.reports[1].overdue);
    assert_eq!(detail.engagements.len(), 1);
    assert_eq!(detail.engagements[0].id, visit.id);
    assert_eq!(
        detail.engagements[0].summary,
        "Workshop held with the foreign affairs committee"
    );
    // The state's profile carries the same progress for its grantee section.
    let listed = directory::grants(&conn, Some("NPL")).await.unwrap();
    assert_eq!(listed[0].progress, detail.grant.progress);
    // Every change is in the audit log.
    assert_eq!(audit_rows(&conn, "deliverable.create").await.len(), 4);
    assert_eq!(audit_rows(&conn, "deliverable.update").await.len(), 1);
    let submit = audit_rows(&conn, "grant_report.submit").await;
    assert_eq!(submit.len(), 1);
    assert_eq!(submit[0].actor, "lead");
}
outreach_testkit::db_test!(
    grant_progress,
    a_grant_tracks_its_deliverables_reports_and_the_engagements_that_fulfil_them
);

async fn refused_grant_commands_name_the_field_or_the_reason_and_write_nothing(db: &TestDb) {
    use outreach_core::grants::{self, DeliverableChange, DeliverableInput};
    let conn = open(db).await;
    let (lead, g) = nepal_grant(&conn).await;
    let gid = g.id.to_string();
    let dropped = grants::add_deliverable(
        &conn,
        &lead,
        &DeliverableInput {
            grant: gid.clone(),
            what: "Op-ed".into(),
            due: "2026-10-31".into(),
            status: Some("dropped".into()),
        },
    )
    .await
    .unwrap();
    let report = grants::show(
        &conn,
        &gid,
        d("2026-05-01"),
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap()
    .reports[0]
        .id
        .to_string();
    grants::submit_report(&conn, &lead, &report, Some("2026-06-20"))
        .await
        .unwrap();
    // A Nepali deliverable for an engagement elsewhere, and another grant in Azerbaijan.
    directory::add_organisation(
        &conn,
        &lead,
        &directory::OrganisationInput {
            name: "Azerbaijan Campaign".into(),
            state: Some("AZE".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let open_one = grants::add_deliverable(
        &conn,
        &lead,
        &DeliverableInput {
            grant: gid.clone(),
            what: "Workshop".into(),
            due: "2026-06-30".into(),
            status: None,
        },
    )
    .await
    .unwrap();
    let before = table_counts(&conn).await;

    let staff = actor();
    let forbidden = grants::submit_report(
        &conn,
        &staff,
        &grants::show(
            &conn,
            &gid,
            d("2026-05-01"),
            &outreach_core::access::Reader::outside(),
        )
        .await
        .unwrap()
        .reports[1]
            .id
            .to_string(),
        None,
    )
    .await;
    assert!(
        matches!(forbidden, Err(Error::Forbidden(_))),
        "{forbidden:?}"
    );
    let forbidden = grants::add_deliverable(
        &conn,
        &staff,
        &DeliverableInput {
            grant: gid.clone(),
            what: "x".into(),
            due: "2026-01-01".into(),
            status: None,
        },
    )
    .await;
    assert!(
        matches!(forbidden, Err(Error::Forbidden(_))),
        "{forbidden:?}"
    );

    let again = grants::submit_report(&conn, &lead, &report, None).await;
    match again {
        Err(Error::Conflict(m)) => assert!(
            m.contains("already marked submitted on 2026-06-20 by lead"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let field_of = |r: outreach_core::Result<grants::DeliverableView>| match r {
        Err(Error::Invalid { field, message }) => (field, message),
        other => panic!("{other:?}"),
    };
    let (field, message) = field_of(
        grants::add_deliverable(
            &conn,
            &lead,
            &DeliverableInput {
                grant: gid.clone(),
                what: "Workshop".into(),
                due: "2026-02-30".into(),
                status: None,
            },
        )
        .await,
    );
    assert_eq!(field, "due", "{message}");
    let (field, message) = field_of(
        grants::add_deliverable(
            &conn,
            &lead,
            &DeliverableInput {
                grant: gid.clone(),
                what: "Workshop".into(),
                due: "2026-06-30".into(),
                status: Some("finished".into()),
            },
        )
        .await,
    );
    assert_eq!(field, "status");
    assert!(
        message.contains("planned, in-progress, done, dropped"),
        "{message}"
    );
    let (field, _) = field_of(
        grants::add_deliverable(
            &conn,
            &lead,
            &DeliverableInput {
                grant: gid.clone(),
                what: "  ".into(),
                due: "2026-06-30".into(),
                status: None,
            },
        )
        .await,
    );
    assert_eq!(field, "what");
    let (field, message) = field_of(
        grants::update_deliverable(
            &conn,
            &lead,
            &open_one.short_id,
            &DeliverableChange::default(),
        )
        .await,
    );
    assert_eq!(field, "status");
    assert!(message.contains("nothing to change"), "{message}");
    let unknown = grants::add_deliverable(
        &conn,
        &lead,
        &DeliverableInput {
            grant: "0000abcd".into(),
            what: "Workshop".into(),
            due: "2026-06-30".into(),
            status: None,
        },
    )
    .await;
    match unknown {
        Err(e @ Error::NotFound { .. }) => {
            assert_eq!(e.remedy(), Some(outreach_core::Remedy::ListGrants));
        }
        other => panic!("{other:?}"),
    }

    // Linking: another state's deliverable, a dropped one, an unknown one.
    let log = |deliverable: String, state: &str| EngagementInput {
        state: state.into(),
        kind: "call".into(),
        summary: Some("Call".into()),
        deliverable: Some(deliverable),
        ..EngagementInput::default()
    };
    match engagements::log(&conn, &staff, &log(open_one.short_id.clone(), "AZE")).await {
        Err(Error::Conflict(m)) => assert!(m.contains("belongs to a grant in NPL"), "{m}"),
        other => panic!("{other:?}"),
    }
    match engagements::log(&conn, &staff, &log(dropped.id.to_string(), "NPL")).await {
        Err(Error::Conflict(m)) => assert!(m.contains("was dropped"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        engagements::log(&conn, &staff, &log("0000abcd".into(), "NPL")).await,
        Err(Error::NotFound {
            what: "deliverable",
            ..
        })
    ));
    assert_eq!(
        table_counts(&conn).await,
        before,
        "a refused command wrote something"
    );
}
outreach_testkit::db_test!(
    grant_refusals,
    refused_grant_commands_name_the_field_or_the_reason_and_write_nothing
);

// ---------------------------------------------------------------------------------------------
// Stance (issue 16 item 6)
// ---------------------------------------------------------------------------------------------

/// A state's current stance is the most recent of its engagements' stances and a coordinator's
/// settings, as the reader may know them; its history folds the records into changes; a
/// listing filters and sorts by it; a refused setting writes nothing.
async fn stance_is_current_historic_and_filterable_check(db: &TestDb) {
    use outreach_core::access::Reader;
    use outreach_core::stance::{self, StanceFilter, StanceInput, StatesSort};

    let conn = open(db).await;
    let me = actor();
    let log = |kind: &str, date: &str, stance: &str, sensitivity: &str| EngagementInput {
        state: "AZE".into(),
        kind: kind.into(),
        date: Some(date.into()),
        summary: Some(format!("{kind} on {date}")),
        stance: Some(stance.into()),
        sensitivity: Some(sensitivity.into()),
        ..EngagementInput::default()
    };
    engagements::log(
        &conn,
        &me,
        &log("capital_meeting", "2026-01-10", "reluctant", "internal"),
    )
    .await
    .unwrap();
    engagements::log(
        &conn,
        &me,
        &log("military_dialogue", "2026-03-01", "open", "restricted"),
    )
    .await
    .unwrap();
    let uncleared = Reader::outside();
    let cleared = Reader {
        handle: Some("tester".into()),
        cleared: true,
    };
    let june = d("2026-06-01");
    let now = |r: &Reader| {
        let conn = conn.clone();
        let r = r.clone();
        async move {
            stance::current_all(&conn, &r, june)
                .await
                .unwrap()
                .remove("AZE")
                .map(|v| v.stance)
        }
    };
    // The restricted dialogue's stance counts for a cleared reader only.
    assert_eq!(now(&cleared).await.as_deref(), Some("open"));
    assert_eq!(now(&uncleared).await.as_deref(), Some("reluctant"));

    // Staff may not set a stance; nothing is written.
    let before = table_counts(&conn).await;
    let input = StanceInput {
        state: "Azerbaijan".into(),
        stance: "neutral".into(),
        reason: "The ministry asked for time after the elections".into(),
        on: Some("2026-03-01".into()),
    };
    let err = stance::set(&conn, &me, &input).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err}");
    assert_eq!(table_counts(&conn).await, before);

    let (lead, _) = nepal_grant(&conn).await;
    // Bad values name their field; nothing is written.
    let before = table_counts(&conn).await;
    for (bad, field) in [
        (
            StanceInput {
                stance: "keen".into(),
                ..input.clone()
            },
            "stance",
        ),
        (
            StanceInput {
                reason: "  ".into(),
                ..input.clone()
            },
            "reason",
        ),
        (
            StanceInput {
                on: Some("2099-01-01".into()),
                ..input.clone()
            },
            "on",
        ),
    ] {
        match stance::set(&conn, &lead, &bad).await {
            Err(Error::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{message}");
            }
            other => panic!("{field}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(table_counts(&conn).await, before);

    // On the day of the dialogue, the coordinator's judgement counts after it.
    let set = stance::set(&conn, &lead, &input).await.unwrap();
    assert_eq!(set.source, "coordinator");
    assert_eq!(set.set_by.as_deref(), Some("lead"));
    assert_eq!(now(&cleared).await.as_deref(), Some("neutral"));
    assert_eq!(now(&uncleared).await.as_deref(), Some("neutral"));
    assert_eq!(audit_rows(&conn, "stance.set").await.len(), 1);

    // History: each change, newest first, dated by its first record.
    let h = stance::history(&conn, &cleared, "AZE", june).await.unwrap();
    let steps: Vec<(&str, String, &str)> = h
        .iter()
        .map(|s| (s.stance.as_str(), s.since.to_string(), s.source.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("neutral", "2026-03-01".to_owned(), "coordinator"),
            ("open", "2026-03-01".to_owned(), "engagement"),
            ("reluctant", "2026-01-10".to_owned(), "engagement"),
        ]
    );
    let h = stance::history(&conn, &uncleared, "AZE", june)
        .await
        .unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    // As of a date before the setting, the history stops there.
    let early = stance::of_state(&conn, &cleared, "AZE", d("2026-02-01"))
        .await
        .unwrap();
    assert_eq!(
        early.current.map(|c| c.stance).as_deref(),
        Some("reluctant")
    );
    assert_eq!(early.history.len(), 1);

    // A later engagement moves it on again.
    engagements::log(
        &conn,
        &me,
        &log("embassy_visit", "2026-04-15", "supportive", "public"),
    )
    .await
    .unwrap();
    assert_eq!(now(&uncleared).await.as_deref(), Some("supportive"));

    // Listings filter and sort by it.
    let listing = |filter: &str, sort: StatesSort| {
        let conn = conn.clone();
        let filter = filter.to_owned();
        async move {
            let f = StanceFilter::parse("stance", &filter).unwrap();
            stance::listing(
                &conn,
                &Reader::outside(),
                "APMBC",
                StatusFilter::NotParty,
                june,
                &[],
                f.as_ref(),
                sort,
            )
            .await
            .unwrap()
        }
    };
    let supportive = listing("supportive", StatesSort::Name).await;
    assert_eq!(
        supportive
            .iter()
            .map(|r| r.iso3.as_str())
            .collect::<Vec<_>>(),
        vec!["AZE"]
    );
    assert_eq!(supportive[0].stance.as_deref(), Some("supportive"));
    let none = listing("none", StatesSort::Name).await;
    assert!(!none.is_empty() && none.iter().all(|r| r.stance.is_none()));
    assert!(none.iter().all(|r| r.iso3 != "AZE"));
    let by_stance = listing("", StatesSort::Stance).await;
    assert_eq!(by_stance.first().map(|r| r.iso3.as_str()), Some("AZE"));
    assert!(
        StanceFilter::parse("stance", "open,keen").is_err(),
        "an unknown stance is refused"
    );
    let rows = views::attention(&conn, "APMBC", june, &Reader::outside())
        .await
        .unwrap();
    let aze = rows.iter().find(|r| r.iso3 == "AZE").unwrap();
    assert_eq!(aze.stance.as_deref(), Some("supportive"));
    let mut sorted = rows.clone();
    views::AttentionSort::Stance.apply(&mut sorted);
    assert_eq!(sorted[0].iso3, "AZE");
    conn.close().await.unwrap();
}
outreach_testkit::db_test!(
    stance_is_current_historic_and_filterable,
    stance_is_current_historic_and_filterable_check
);

// ---------------------------------------------------------------------------------------------
// Posts
// ---------------------------------------------------------------------------------------------

/// A contact in `state`, by name (email derived from it).
async fn contact_in(conn: &DatabaseConnection, name: &str, state: &str) -> contact::Model {
    directory::add_contact(
        conn,
        &actor(),
        &ContactInput {
            name: name.into(),
            title: Some("Ms".into()),
            state: Some(state.into()),
            email: Some(format!(
                "{}@example.org",
                name.to_lowercase().replace(' ', ".")
            )),
            ..ContactInput::default()
        },
    )
    .await
    .unwrap()
}

fn post_input(contact: &str, title: &str, state: &str, from: Option<&str>) -> PostInput {
    PostInput {
        contact: contact.into(),
        title: title.into(),
        state: Some(state.into()),
        from: from.map(Into::into),
        ..PostInput::default()
    }
}

async fn a_posts_holder_changes_with_the_date_check(db: &TestDb) {
    let conn = open(db).await;
    let a = actor();
    contact_in(&conn, "Anita Sharma", "NPL").await;
    contact_in(&conn, "Ram Karki", "NPL").await;
    let first = posts::add(
        &conn,
        &a,
        &post_input(
            "Anita Sharma",
            "Minister for Foreign Affairs",
            "NPL",
            Some("2021-07-15"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(first.to, None, "still held");
    // The second minister took office on 2025-03-01: the title is matched in any case.
    let second = posts::add(
        &conn,
        &a,
        &post_input(
            "Ram Karki",
            "  minister for foreign affairs ",
            "NPL",
            Some("2025-03-01"),
        ),
    )
    .await
    .unwrap();
    let holder_on = |day: &'static str| {
        let conn = conn.clone();
        async move {
            posts::holder(&conn, "NPL", "Minister for Foreign Affairs", d(day))
                .await
                .unwrap()
                .map(|h| h.contact.name)
        }
    };
    assert_eq!(
        holder_on("2025-02-28").await.as_deref(),
        Some("Anita Sharma")
    );
    assert_eq!(holder_on("2025-03-01").await.as_deref(), Some("Ram Karki"));
    assert_eq!(holder_on("2021-07-14").await, None, "before anyone held it");
    assert_eq!(
        posts::holder(&conn, "NPL", "Minister of Defence", d("2025-03-01"))
            .await
            .unwrap()
            .map(|h| h.contact.name),
        None
    );
    // The first term was closed the day before the second began, with its audit record.
    let closed = post::Entity::find_by_id(first.id)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.ends_on, Some(d("2025-02-28")));
    let ends = audit_rows(&conn, "post.end").await;
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].entity_id, first.id.to_string());
    assert_eq!(audit_rows(&conn, "post.create").await.len(), 2);

    // The history: both terms, newest first; with a date, only the holder then.
    let all = posts::posts(
        &conn,
        &PostFilter {
            state: Some("Nepal".into()),
            ..PostFilter::default()
        },
        d("2026-01-01"),
    )
    .await
    .unwrap();
    let names: Vec<(&str, bool)> = all
        .iter()
        .map(|p| (p.contact.as_str(), p.current))
        .collect();
    assert_eq!(names, [("Ram Karki", true), ("Anita Sharma", false)]);
    let then = posts::posts(
        &conn,
        &PostFilter {
            state: Some("NPL".into()),
            at: Some(d("2024-01-01")),
            ..PostFilter::default()
        },
        d("2026-01-01"),
    )
    .await
    .unwrap();
    assert_eq!(then.len(), 1);
    assert_eq!(then[0].contact, "Anita Sharma");
    assert!(then[0].current, "held on the date asked");
    assert_eq!(then[0].to, Some(d("2025-02-28")));
    // The state's profile lists the holder on its date first, then the history.
    let st = states::resolve(&conn, "NPL").await.unwrap();
    let p = views::profile(
        &conn,
        st,
        "APMBC",
        d("2024-01-01"),
        IanaZone::UTC,
        d("2026-01-01"),
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap();
    let shown: Vec<(&str, bool)> = p
        .posts
        .iter()
        .map(|p| (p.contact.as_str(), p.current))
        .collect();
    assert_eq!(shown, [("Anita Sharma", true), ("Ram Karki", false)]);
    assert_eq!(second.from, Some(d("2025-03-01")));

    // A last day before the term began is refused, naming the start.
    match posts::end(&conn, &a, &second.short_id, "2025-02-01").await {
        Err(Error::Conflict(m)) => assert!(m.contains("began on 2025-03-01"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Ending the term: the post is vacant from the next day.
    let ended = posts::end(&conn, &a, &second.short_id, "2026-06-30")
        .await
        .unwrap();
    assert_eq!(ended.to, Some(d("2026-06-30")));
    assert_eq!(holder_on("2026-07-01").await, None);
    assert_eq!(holder_on("2026-06-30").await.as_deref(), Some("Ram Karki"));
    match posts::end(&conn, &a, &second.short_id, "2026-07-30").await {
        Err(Error::Conflict(m)) => assert!(m.contains("ended on 2026-06-30"), "{m}"),
        other => panic!("{other:?}"),
    }
}
outreach_testkit::db_test!(
    a_posts_holder_changes_with_the_date,
    a_posts_holder_changes_with_the_date_check
);

async fn an_overlapping_term_or_one_ending_before_it_starts_is_refused_and_writes_nothing_check(
    db: &TestDb,
) {
    let conn = open(db).await;
    let a = actor();
    contact_in(&conn, "Anita Sharma", "NPL").await;
    contact_in(&conn, "Ram Karki", "NPL").await;
    let title = "Ambassador to Switzerland";
    posts::add(
        &conn,
        &a,
        &PostInput {
            to: Some("2024-12-31".into()),
            ..post_input("Anita Sharma", title, "NPL", Some("2020-01-01"))
        },
    )
    .await
    .unwrap();
    let before = table_counts(&conn).await;
    // A term inside a closed one: not a hand-over, an overlap, named with the other holder.
    match posts::add(
        &conn,
        &a,
        &post_input("Ram Karki", title, "NPL", Some("2024-06-01")),
    )
    .await
    {
        Err(Error::Conflict(m)) => {
            assert!(m.contains("Anita Sharma"), "{m}");
            assert!(m.contains("2020-01-01 to 2024-12-31"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // A term with no start cannot take over anything.
    assert!(matches!(
        posts::add(&conn, &a, &post_input("Ram Karki", title, "NPL", None)).await,
        Err(Error::Conflict(_))
    ));
    // An end before the start names the field.
    match posts::add(
        &conn,
        &a,
        &PostInput {
            to: Some("2025-01-31".into()),
            ..post_input("Ram Karki", title, "NPL", Some("2025-02-01"))
        },
    )
    .await
    {
        Err(e @ Error::Invalid { .. }) => {
            assert_eq!(e.field().as_deref(), Some("to"));
            assert!(
                e.to_string().contains("before it starts on 2025-02-01"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        posts::add(
            &conn,
            &a,
            &post_input("Nobody Known", title, "NPL", Some("2025-02-01"))
        )
        .await,
        Err(Error::NotFound {
            what: "contact",
            ..
        })
    ));
    assert_eq!(
        table_counts(&conn).await,
        before,
        "a refused command wrote something"
    );
    // The same title in another state is another post; after the term ended, a new one starts.
    posts::add(
        &conn,
        &a,
        &post_input("Ram Karki", title, "IND", Some("2024-06-01")),
    )
    .await
    .unwrap();
    posts::add(
        &conn,
        &a,
        &post_input("Ram Karki", title, "NPL", Some("2025-01-01")),
    )
    .await
    .unwrap();
}
outreach_testkit::db_test!(
    post_refusals,
    an_overlapping_term_or_one_ending_before_it_starts_is_refused_and_writes_nothing_check
);
