//! Reminders counted in working days, on SQLite and PostgreSQL: a "2 working days before"
//! reminder passes over the weekend and holidays of the meeting's state (or the recipient's),
//! keeps the local time of day, and the dry run names the days it skipped.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use outreach_core::Actor;
use outreach_core::domain::IanaZone;
use outreach_core::meetings::MeetingInput;
use outreach_scheduler::entities::job;
use outreach_scheduler::{Workflows, planner};
use outreach_testkit::{TestDb, db_test};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

fn actor() -> Actor {
    Actor::new("tester", IanaZone::parse("tz", "UTC").unwrap()).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A rule in working days beside one in calendar days, both to the owner.
fn workflows(calendar: &str) -> Workflows {
    Workflows::parse(&format!(
        "[[meeting_reminder]]\nname = \"m-2wd\"\nbefore = \"2 working days\"\n{calendar}\
         to = [\"participants\", \"owner\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n\
         [[meeting_reminder]]\nname = \"m-2d\"\nbefore = \"2d\"\nto = [\"owner\"]\n\
         effective_from = \"2026-01-01T00:00:00Z\"\n"
    ))
    .unwrap()
}

async fn open(db: &TestDb) -> DatabaseConnection {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    outreach_core::actor::upsert_user(
        &conn,
        &actor(),
        &outreach_core::actor::UserInput {
            handle: "tester".into(),
            email: Some("tester@example.org".into()),
            time_zone: Some("Europe/Paris".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    conn
}

async fn meeting_in_riyadh(conn: &DatabaseConnection, wf: &Workflows, at: &str, with: Vec<String>) {
    planner::schedule_meeting(
        conn,
        wf,
        &actor(),
        &MeetingInput {
            state: "SAU".into(),
            title: "Ministry of Foreign Affairs".into(),
            at: at.into(),
            tz: Some("Asia/Riyadh".into()),
            with,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// (rule, recipient, due instant) of every reminder planned, in order.
async fn planned(conn: &DatabaseConnection) -> Vec<(String, String, DateTime<Utc>)> {
    let mut jobs: Vec<_> = job::Entity::find()
        .filter(job::Column::Kind.eq(planner::MEETING_REMINDER))
        .filter(job::Column::Status.eq("queued"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|j| {
            (
                j.rule.unwrap(),
                j.recipient.unwrap(),
                j.run_at.with_timezone(&Utc),
            )
        })
        .collect();
    jobs.sort();
    jobs
}

async fn a_sunday_meeting_in_a_friday_saturday_state_is_reminded_on_the_wednesday_before(
    db: &TestDb,
) {
    let conn = open(db).await;
    let wf = workflows("");
    // Sunday 2027-06-20, 10:00 in Riyadh (07:00 UTC). Saudi Arabia rests on Friday and
    // Saturday: two working days before is Wednesday the 16th, at 10:00 in Riyadh again; two
    // calendar days before is Friday the 18th, a day off there.
    meeting_in_riyadh(&conn, &wf, "2027-06-20 10:00", vec![]).await;
    assert_eq!(
        planned(&conn).await,
        vec![
            (
                "m-2d".into(),
                "tester@example.org".into(),
                utc("2027-06-18T07:00:00Z")
            ),
            (
                "m-2wd".into(),
                "tester@example.org".into(),
                utc("2027-06-16T07:00:00Z")
            ),
        ]
    );
    // The dry run says which days were passed over and why, in words and in its JSON.
    let lines = planner::dry_run(&conn, &wf, Some("m-2wd"), utc("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert!(l.would_fire);
    assert_eq!(l.fires_at, utc("2027-06-16T07:00:00Z"));
    assert_eq!(
        l.why,
        "2 working days in the calendar of Saudi Arabia before the meeting starts; owner; \
         skipped Sat 2027-06-19 (weekend), Fri 2027-06-18 (weekend)"
    );
    let json = serde_json::to_value(l).unwrap();
    assert_eq!(
        json["skipped"],
        serde_json::json!([
            {"date": "2027-06-19", "weekday": "Sat", "why": "weekend"},
            {"date": "2027-06-18", "weekday": "Fri", "why": "weekend"},
        ])
    );
    // A rule in calendar days skips nothing.
    let lines = planner::dry_run(&conn, &wf, Some("m-2d"), utc("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(lines[0].why, "2 days before the meeting starts; owner");
    assert!(lines[0].skipped.is_empty());
}
db_test!(
    friday_saturday,
    a_sunday_meeting_in_a_friday_saturday_state_is_reminded_on_the_wednesday_before
);

async fn holidays_are_passed_over_like_weekends(db: &TestDb) {
    let conn = open(db).await;
    let wf = workflows("");
    // Sunday 2027-03-14 in Riyadh, after Eid al-Fitr (9 to 12 March in the shipped calendar):
    // Saturday and Friday are the weekend, Thursday to Tuesday Eid, so Monday the 8th is the
    // first working day before and Sunday the 7th the second.
    meeting_in_riyadh(&conn, &wf, "2027-03-14 10:00", vec![]).await;
    let jobs = planned(&conn).await;
    assert_eq!(
        jobs[1],
        (
            "m-2wd".into(),
            "tester@example.org".into(),
            utc("2027-03-07T07:00:00Z")
        )
    );
    let lines = planner::dry_run(&conn, &wf, Some("m-2wd"), utc("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        lines[0].why.ends_with(
            "skipped Sat 2027-03-13 (weekend), Fri 2027-03-12 (weekend; Eid al-Fitr Holiday), \
             Thu 2027-03-11 (Eid al-Fitr Holiday), Wed 2027-03-10 (Eid al-Fitr Holiday), \
             Tue 2027-03-09 (Eid al-Fitr Holiday)"
        ),
        "{}",
        lines[0].why
    );
}
db_test!(holidays, holidays_are_passed_over_like_weekends);

async fn with_the_recipients_calendar_each_recipient_counts_their_own_states_working_days(
    db: &TestDb,
) {
    let conn = open(db).await;
    outreach_core::directory::add_contact(
        &conn,
        &actor(),
        &outreach_core::directory::ContactInput {
            name: "Claire".into(),
            email: Some("claire@example.org".into()),
            state: Some("FRA".into()),
            time_zone: Some("Europe/Paris".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let wf = workflows("calendar = \"recipient\"\n");
    // Sunday 2027-06-20 10:00 in Riyadh is 09:00 in Paris. Claire's state, France, rests on
    // Saturday and Sunday: Friday counts, then Thursday the 17th at 09:00 Paris. The owner has
    // no state on record, so the meeting's (Saudi Arabia) counts, in the owner's zone (Paris):
    // Wednesday the 16th at 09:00 Paris.
    meeting_in_riyadh(
        &conn,
        &wf,
        "2027-06-20 10:00",
        vec!["claire@example.org".into()],
    )
    .await;
    let jobs: Vec<_> = planned(&conn)
        .await
        .into_iter()
        .filter(|j| j.0 == "m-2wd")
        .collect();
    assert_eq!(
        jobs,
        vec![
            (
                "m-2wd".into(),
                "claire@example.org".into(),
                utc("2027-06-17T07:00:00Z")
            ),
            (
                "m-2wd".into(),
                "tester@example.org".into(),
                utc("2027-06-16T07:00:00Z")
            ),
        ]
    );
    let lines = planner::dry_run(&conn, &wf, Some("m-2wd"), utc("2027-01-01T00:00:00Z"))
        .await
        .unwrap();
    let why: Vec<&str> = lines.iter().map(|l| l.why.as_str()).collect();
    assert_eq!(
        why,
        vec![
            "2 working days in the calendar of Saudi Arabia (the meeting's: no state on record \
             for the recipient) before the meeting starts; owner; skipped Sat 2027-06-19 \
             (weekend), Fri 2027-06-18 (weekend)",
            "2 working days in the calendar of France (the recipient's) before the meeting \
             starts; participant; skipped Sat 2027-06-19 (weekend)",
        ]
    );
}
db_test!(
    recipient_calendar,
    with_the_recipients_calendar_each_recipient_counts_their_own_states_working_days
);
