//! Meetings in the web app against a real server, on SQLite and PostgreSQL: scheduling through
//! the form plans reminders that the meeting's page lists, rescheduling supersedes them,
//! cancelling cancels them, a start that does not exist (DST gap) is refused beside its field
//! with nothing written, and the calendar feed serves the user's meetings by secret token.

#![allow(clippy::unwrap_used)]

mod common;

use common::{client, get, post_form, signed_in, start};
use outreach_core::Actor;
use outreach_core::domain::IanaZone;
use outreach_core::meetings;
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;

const NEPAL_FORM: &[(&str, &str)] = &[
    ("state", "NPL"),
    ("title", "Meeting with the Foreign Ministry"),
    ("start", "2027-02-10T10:00"),
    ("time_zone", "Asia/Kathmandu"),
    ("duration", "1h"),
    ("location", "Singha Durbar"),
    ("participants", ""),
    ("owner", ""),
];

fn with_csrf<'a>(form: &[(&'a str, &'a str)], csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut v = form.to_vec();
    v.push(("csrf", csrf));
    v
}

async fn count(db: &sea_orm::DatabaseConnection) -> usize {
    meetings::list(db, IanaZone::UTC, false, None)
        .await
        .unwrap()
        .len()
}

/// The `<table id="reminders">` of a meeting page.
fn reminders_table(html: &str) -> &str {
    let at = html.find("<table id=\"reminders\">").unwrap();
    let end = at + html[at..].find("</table>").unwrap();
    &html[at..end]
}

async fn schedule_reschedule_and_cancel_a_meeting_for_nepal(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;

    let (status, form_page) = get(&c, &app.base, "/meetings/new?state=NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form_page.contains("id=\"meeting-form\""), "{form_page}");
    assert!(form_page.contains("id=\"meeting-submit\""));
    // The default zone is named: Nepal's capital's.
    assert!(
        form_page.contains("<strong>Asia/Kathmandu</strong>"),
        "{form_page}"
    );

    let (status, location, body) =
        post_form(&c, &app.base, "/meetings", &with_csrf(NEPAL_FORM, &csrf)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    let id = location.strip_prefix("/meetings/").unwrap().to_owned();
    assert_eq!(id.len(), 36, "{location}");

    // The list: local start in Kathmandu and in maria's zone (UTC: 04:15).
    let (status, list) = get(&c, &app.base, "/meetings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Meeting with the Foreign Ministry"), "{list}");
    assert!(list.contains("2027-02-10 10:00"), "{list}");
    assert!(list.contains("Asia/Kathmandu"));
    assert!(list.contains("2027-02-10 04:15"), "{list}");
    assert!(list.contains("/meetings/week"));
    // Filters.
    let (_, nepal) = get(&c, &app.base, "/meetings?state=NPL&status=planned").await;
    assert!(nepal.contains("Meeting with the Foreign Ministry"));
    let (_, france) = get(&c, &app.base, "/meetings?state=FRA").await;
    assert!(!france.contains("Meeting with the Foreign Ministry"));
    let (_, held) = get(&c, &app.base, "/meetings?status=held").await;
    assert!(!held.contains("Meeting with the Foreign Ministry"));

    // The week: Monday 8 February 2027, the meeting on Wednesday at 04:15 (maria's zone).
    let (status, week) = get(&c, &app.base, "/meetings/week?start=2027-02-10").await;
    assert_eq!(status, StatusCode::OK);
    assert!(week.contains("Week of 2027-02-08 to 2027-02-14"), "{week}");
    let wed = week.find("id=\"day-2027-02-10\"").unwrap();
    let thu = week.find("id=\"day-2027-02-11\"").unwrap();
    assert!(week[wed..thu].contains("Meeting with the Foreign Ministry"));
    assert!(week[wed..thu].contains("04:15"));
    assert!(week.contains("start=2027-02-01") && week.contains("start=2027-02-15"));
    let (_, other_week) = get(&c, &app.base, "/meetings/week?start=2027-02-15").await;
    assert!(!other_week.contains("Meeting with the Foreign Ministry"));
    let (status, _) = get(&c, &app.base, "/meetings/week?start=not-a-date").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The meeting's page, by full and by short id, with its three planned reminders
    // (7 days and 1 day before to maria as participant-owner, 2 hours before to the owner).
    let (status, page) = get(&c, &app.base, &location).await;
    assert_eq!(status, StatusCode::OK);
    let (status, by_short) = get(&c, &app.base, &format!("/meetings/{}", &id[28..])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(by_short.contains("Meeting with the Foreign Ministry"));
    assert!(page.contains("2027-02-10 10:00"));
    assert!(page.contains("2027-02-10 11:00"), "the end");
    assert!(page.contains("Singha Durbar"));
    assert!(page.contains("id=\"reschedule-form\""));
    assert!(page.contains("id=\"cancel-form\""));
    let table = reminders_table(&page);
    assert_eq!(table.matches("class=\"reminder\"").count(), 3, "{table}");
    assert_eq!(table.matches(">planned<").count(), 3, "{table}");
    assert!(
        table.contains("meeting-7d")
            && table.contains("meeting-1d")
            && table.contains("meeting-2h")
    );
    assert!(table.contains("maria@example.org"));
    // Due 1 day before: 2027-02-09 04:15 UTC.
    assert!(table.contains("2027-02-09 04:15"), "{table}");

    // Reschedule: a DST-free bad zone is refused beside the field, nothing changes.
    let (status, _, bad) = post_form(
        &c,
        &app.base,
        &format!("{location}/reschedule"),
        &[
            ("csrf", &csrf),
            ("start", "2027-02-11T11:00"),
            ("time_zone", "Mars/Olympus"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"err-time_zone\""), "{bad}");
    assert!(bad.contains("value=\"Mars/Olympus\""));
    assert_eq!(
        reminders_table(&bad).matches(">planned<").count(),
        3,
        "nothing superseded"
    );

    let (status, loc, body) = post_form(
        &c,
        &app.base,
        &format!("{location}/reschedule"),
        &[
            ("csrf", &csrf),
            ("start", "2027-02-11T11:00"),
            ("time_zone", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(loc.as_deref(), Some(location.as_str()));
    let (_, page) = get(&c, &app.base, &location).await;
    assert!(page.contains("2027-02-11 11:00"), "kept Kathmandu: {page}");
    assert!(page.contains("version 2"));
    let table = reminders_table(&page);
    assert_eq!(table.matches(">superseded<").count(), 3, "{table}");
    assert_eq!(table.matches(">planned<").count(), 3, "{table}");

    // Cancel: every queued reminder cancelled, the forms gone.
    let (status, _, body) = post_form(
        &c,
        &app.base,
        &format!("{location}/cancel"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, page) = get(&c, &app.base, &location).await;
    assert!(page.contains("id=\"meeting-status\">cancelled<"), "{page}");
    let table = reminders_table(&page);
    assert_eq!(table.matches(">cancelled<").count(), 3, "{table}");
    assert_eq!(table.matches(">planned<").count(), 0, "{table}");
    assert!(!page.contains("id=\"reschedule-form\""));
    // Cancelling twice says why, on the page.
    let (status, _, again) = post_form(
        &c,
        &app.base,
        &format!("{location}/cancel"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("id=\"err-form\""), "{again}");
    assert!(again.contains("only a planned meeting can be cancelled"));

    let (status, _) = get(&c, &app.base, "/meetings/00000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
db_test!(
    lifecycle,
    schedule_reschedule_and_cancel_a_meeting_for_nepal
);

async fn bad_input_is_refused_beside_its_field_with_nothing_written(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("state", "FRA"),
        ("title", "Talks in Paris"),
        ("start", "2026-03-29T02:30"),
        ("time_zone", "Europe/Paris"),
        ("duration", "45m"),
        ("location", "Quai d'Orsay"),
        ("participants", ""),
        ("owner", ""),
    ];
    let (status, _, body) = post_form(&c, &app.base, "/meetings", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let err = body.find("id=\"err-start\"").unwrap();
    assert!(
        body[err..].contains("does not exist in Europe/Paris"),
        "{body}"
    );
    // Everything typed is kept.
    assert!(body.contains("value=\"2026-03-29T02:30\""));
    assert!(body.contains("value=\"Talks in Paris\""));
    assert!(body.contains("value=\"45m\""));
    assert!(body.contains("value=\"Europe/Paris\""));
    assert!(body.contains("value=\"Quai d&#x27;Orsay\""), "{body}");
    assert_eq!(count(&app.db).await, 0);

    // An unknown state, a bad zone, a bad duration, an unknown owner: each beside its field.
    for (field, value, err_id) in [
        ("state", "Atlantis", "err-state"),
        ("time_zone", "Europe/Atlantis", "err-time_zone"),
        ("duration", "forever", "err-duration"),
        ("owner", "nobody", "err-owner"),
        (
            "participants",
            "no.such.person@example.org",
            "err-participants",
        ),
        ("title", "  ", "err-title"),
    ] {
        let mut f = form.to_vec();
        f.retain(|(k, _)| *k != field && *k != "start");
        f.push((field, value));
        f.push(("start", "2027-03-10T10:00"));
        let (status, _, body) = post_form(&c, &app.base, "/meetings", &f).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert!(
            body.contains(&format!("id=\"{err_id}\"")),
            "{field}: {body}"
        );
    }
    assert_eq!(count(&app.db).await, 0);

    // Without the CSRF token: refused, nothing written.
    let no_csrf: Vec<_> = form[1..]
        .iter()
        .map(|(k, v)| {
            if *k == "start" {
                (*k, "2027-03-10T10:00")
            } else {
                (*k, *v)
            }
        })
        .collect();
    let (status, _, _) = post_form(&c, &app.base, "/meetings", &no_csrf).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app.db).await, 0);

    // Staff may schedule, for another owner too.
    let mut ok = form.to_vec();
    ok.retain(|(k, _)| *k != "start" && *k != "owner");
    ok.push(("start", "2027-03-10T10:00"));
    ok.push(("owner", "maria"));
    let (status, location, body) = post_form(&c, &app.base, "/meetings", &ok).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, page) = get(&c, &app.base, &location.unwrap()).await;
    assert!(page.contains("<dt>Owner</dt><dd>maria</dd>"), "{page}");
    assert_eq!(count(&app.db).await, 1);

    // No session: redirected to sign in.
    let anon = client();
    for path in ["/meetings", "/meetings/week", "/meetings/new"] {
        let res = anon
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.headers()["location"], "/login");
    }
    let res = anon
        .post(format!("{}/meetings", app.base))
        .form(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db).await, 1);
}
db_test!(
    validation,
    bad_input_is_refused_beside_its_field_with_nothing_written
);

async fn injection_in_title_and_location_is_stored_and_shown_escaped(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let script = "<script>alert(1)</script>";
    let sql = "'); DROP TABLE engagements; --";
    let form = [
        ("csrf", csrf.as_str()),
        ("state", "NPL"),
        ("title", script),
        ("start", "2027-02-10T10:00"),
        ("time_zone", ""),
        ("duration", ""),
        ("location", sql),
        ("participants", ""),
        ("owner", ""),
    ];
    let (status, location, body) = post_form(&c, &app.base, "/meetings", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    let stored = meetings::show(
        &app.db,
        IanaZone::UTC,
        location.strip_prefix("/meetings/").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(stored.title, script);
    assert_eq!(stored.place.as_deref(), Some(sql));
    // The empty zone defaulted to the capital's.
    assert_eq!(stored.time_zone, "Asia/Kathmandu");
    for path in [
        location.as_str(),
        "/meetings",
        "/meetings/week?start=2027-02-10",
    ] {
        let (status, page) = get(&c, &app.base, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!page.contains(script), "{path}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    let (_, page) = get(&c, &app.base, &location).await;
    assert!(
        page.contains("&#x27;); DROP TABLE engagements; --"),
        "{page}"
    );
    // The engagements table is still there.
    let (status, _) = get(&c, &app.base, "/").await;
    assert_eq!(status, StatusCode::OK);
    // Re-rendered after an error, the typed text is escaped too.
    let mut bad = form.to_vec();
    bad.retain(|(k, _)| *k != "state");
    bad.push(("state", script));
    let (status, _, page) = post_form(&c, &app.base, "/meetings", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.contains(script));
    assert!(page.contains("id=\"err-state\""));
}
db_test!(
    injection,
    injection_in_title_and_location_is_stored_and_shown_escaped
);

async fn the_calendar_feed_serves_the_users_meetings_by_token(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (status, location, _) =
        post_form(&c, &app.base, "/meetings", &with_csrf(NEPAL_FORM, &csrf)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = location
        .unwrap()
        .strip_prefix("/meetings/")
        .unwrap()
        .to_owned();
    // A meeting sam owns, without maria: not in maria's feed.
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let mut other = with_csrf(NEPAL_FORM, &sam_csrf);
    other.retain(|(k, _)| *k != "title");
    other.push(("title", "Sam's own meeting"));
    let (status, _, _) = post_form(&sam, &app.base, "/meetings", &other).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let maria = outreach_core::actor::find_user(&app.db, "maria")
        .await
        .unwrap()
        .unwrap();
    let actor = Actor::new("maria", IanaZone::UTC).unwrap();
    let token = outreach_web::auth::issue_token(&app.db, &actor, maria.id, "calendar", "phone")
        .await
        .unwrap();

    let anon = client();
    let res = anon
        .get(format!("{}/calendar/{token}.ics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = res.text().await.unwrap();
    let unfolded = icalendar::parser::unfold(&ics);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    let events: Vec<_> = cal
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "{ics}");
    let e = events[0];
    assert!(
        e.find_prop("UID").unwrap().val.as_str().starts_with(&id),
        "{ics}"
    );
    assert_eq!(
        e.find_prop("DTSTART").unwrap().val.as_str(),
        "20270210T041500Z"
    );
    assert_eq!(e.find_prop("SEQUENCE").unwrap().val.as_str(), "1");
    assert_eq!(
        e.find_prop("SUMMARY").unwrap().val.as_str(),
        "Meeting with the Foreign Ministry"
    );
    assert_eq!(
        e.find_prop("LOCATION").unwrap().val.as_str(),
        "Singha Durbar"
    );

    // After a reschedule and a cancellation: same UID, higher SEQUENCE, STATUS:CANCELLED.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("/meetings/{id}/reschedule"),
        &[
            ("csrf", &csrf),
            ("start", "2027-02-11T11:00"),
            ("time_zone", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("/meetings/{id}/cancel"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ics = anon
        .get(format!("{}/calendar/{token}.ics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unfolded = icalendar::parser::unfold(&ics);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    let e = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
    assert!(e.find_prop("UID").unwrap().val.as_str().starts_with(&id));
    assert_eq!(e.find_prop("SEQUENCE").unwrap().val.as_str(), "3");
    assert_eq!(
        e.find_prop("DTSTART").unwrap().val.as_str(),
        "20270211T051500Z"
    );
    assert_eq!(e.find_prop("STATUS").unwrap().val.as_str(), "CANCELLED");

    // Unknown tokens, a token of another kind, and no suffix: 404.
    let api = outreach_web::auth::issue_token(&app.db, &actor, maria.id, "api", "script")
        .await
        .unwrap();
    for path in [
        "/calendar/nonsense.ics".to_owned(),
        format!("/calendar/{api}.ics"),
        format!("/calendar/{token}"),
    ] {
        let res = anon
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
db_test!(feed, the_calendar_feed_serves_the_users_meetings_by_token);

async fn the_rules_page_lists_the_rules_and_their_dry_run(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (status, _, _) = post_form(&c, &app.base, "/meetings", &with_csrf(NEPAL_FORM, &csrf)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, page) = get(&c, &app.base, "/rules").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for rule in ["meeting-7d", "meeting-1d", "meeting-2h", "follow-up-due"] {
        assert!(page.contains(rule), "{rule} in {page}");
    }
    assert!(page.contains("config/workflows.toml"));
    assert!(page.contains("set its <code>effective_from</code> to now"));
    // The dry run: maria owns the meeting, so every rule reminds her, at Kathmandu's times
    // (10:00 on 10 February less 7 days, 1 day, 2 hours) shown in her zone.
    let lines = page.matches("class=\"dry-run-line").count();
    assert_eq!(lines, 3, "{page}");
    assert!(page.contains("2027-02-03 04:15"), "{page}");
    assert!(page.contains("2027-02-10 02:15"), "{page}");
    assert!(
        page.contains("yes: 2 hours before the meeting starts; owner"),
        "{page}"
    );

    let (_, one) = get(&c, &app.base, "/rules?rule=meeting-2h").await;
    assert_eq!(one.matches("class=\"dry-run-line").count(), 1);
    let (status, bad) = get(&c, &app.base, "/rules?rule=meeting-3h").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("not a reminder rule"), "{bad}");

    // Staff read them too, and are told who changes them.
    let (sam, _) = signed_in(&app.base, "sam").await;
    let (status, page) = get(&sam, &app.base, "/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Coordinators change them."));

    // The same through the API.
    let (status, text) = get(&sam, &app.base, "/api/v1/rules?rule=meeting-1d").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["meeting_reminders"].as_array().unwrap().len(), 3);
    let dry = v["dry_run"].as_array().unwrap();
    assert_eq!(dry.len(), 1, "{v}");
    assert_eq!(dry[0]["recipient"], "maria");
    assert_eq!(dry[0]["time_zone"], "UTC");
    assert_eq!(dry[0]["would_fire"], true);
    assert!(!v["schedules"].as_array().unwrap().is_empty());
}
db_test!(rules, the_rules_page_lists_the_rules_and_their_dry_run);
