//! End-to-end tests of the `outreach` binary: each runs the real program, as a user would, against
//! a fresh SQLite file and a fresh PostgreSQL database, and checks what it prints and stores.

// A test that unwraps fails with the value and a backtrace, which is what a failed check should do.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use outreach_testkit::{Backend, TestDb, db_test};
use serde_json::Value;

mod accounts;
mod architecture;
mod backup;
mod contract;
mod letters;
mod mail;
mod ops;
mod reference;
mod team;

/// Runs `outreach` with `args` against the test database, in the test's own folder, with no
/// configuration from the developer's environment.
fn outreach(db: &TestDb, args: &[&str]) -> Output {
    outreach_with_env(db, &[], args)
}

/// As [`outreach`], with these environment variables set on top.
fn outreach_with_env(db: &TestDb, vars: &[(&str, &str)], args: &[&str]) -> Output {
    command(db, vars, args)
        .output()
        .expect("run the outreach binary")
}

/// The `outreach` command [`outreach_with_env`] runs, to spawn one that keeps running.
fn command(db: &TestDb, vars: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
    cmd.current_dir(db.dir.path())
        .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
        .env("OUTREACH_USER", "tester")
        .env("OUTREACH_LOG", "warn")
        .env_remove("OUTREACH_DATABASE_URL")
        .env_remove("OUTREACH_TIME_ZONE")
        .env_remove("OUTREACH_ENV")
        .arg("--database")
        .arg(&db.url)
        .args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(db: &TestDb, args: &[&str]) -> String {
    let o = outreach(db, args);
    assert!(
        o.status.success(),
        "outreach {args:?} failed ({}):\n{}",
        o.status,
        stderr(&o)
    );
    stdout(&o)
}

/// Runs a command with `--json` that must succeed; stdout must be one JSON document.
fn json(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ok(db, &all);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}):\n{out}"))
}

/// Runs a command that must fail and returns its stderr.
fn fails(db: &TestDb, args: &[&str]) -> String {
    let o = outreach(db, args);
    assert!(
        !o.status.success(),
        "outreach {args:?} should have failed:\n{}",
        stdout(&o)
    );
    assert!(
        o.stdout.is_empty(),
        "a failed command printed on stdout: {}",
        stdout(&o)
    );
    stderr(&o)
}

fn iso3s(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| s["iso3"].as_str().expect("iso3").to_owned())
        .collect()
}

async fn states_not_party_on_campaign_dates_match_the_campaign_figures(db: &TestDb) {
    let v = json(
        db,
        &["states", "--status", "not-party", "--at", "2022-06-20"],
    );
    let codes = iso3s(&v);
    assert_eq!(codes.len(), 33, "{codes:?}");
    for want in ["NPL", "IND", "AZE", "RUS", "USA"] {
        assert!(
            codes.contains(&want.to_owned()),
            "{want} missing from {codes:?}"
        );
    }
    assert!(!codes.contains(&"UKR".to_owned()));
    assert!(v[0]["name"].is_string());

    let v = json(
        db,
        &["states", "--status", "not-party", "--at", "2009-03-02"],
    );
    assert_eq!(iso3s(&v).len(), 39);
    let v = json(db, &["states", "--status", "party", "--at", "2022-06-20"]);
    assert_eq!(iso3s(&v).len(), 164);
    let v = json(
        db,
        &["states", "--status", "withdrawing", "--at", "2025-09-01"],
    );
    let mut codes = iso3s(&v);
    codes.sort();
    assert_eq!(codes, ["EST", "FIN", "LTU", "LVA", "POL"]);
}
db_test!(
    states_not_party_on_campaign_dates,
    states_not_party_on_campaign_dates_match_the_campaign_figures
);

async fn states_not_party_but_party_to_the_ccm_or_ccw_protocol_v_are_listed(db: &TestDb) {
    let wanted = ["CCM".to_owned(), "CCW_P5".to_owned()];
    let at = "2026-01-01";
    let all = json(db, &["states", "--status", "not-party", "--at", at]);
    let view = json(
        db,
        &[
            "states",
            "--status",
            "not-party",
            "--party-to",
            "CCM,CCW_P5",
            "--at",
            at,
        ],
    );
    let codes = iso3s(&view);
    // Lao PDR (CCM and Protocol V), the United States and India (Protocol V) are there; Nepal,
    // party to neither, is not.
    for want in ["LAO", "USA", "IND"] {
        assert!(
            codes.contains(&want.to_owned()),
            "{want} missing: {codes:?}"
        );
    }
    assert!(!codes.contains(&"NPL".to_owned()), "{codes:?}");
    let lao = view
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["iso3"] == "LAO")
        .unwrap();
    let lao_also: Vec<&str> = lao["also_party_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(lao_also.starts_with(&["CCM", "CCW_P5"]), "{lao_also:?}");
    // The view is exactly the states not party whose other treaties include one of the two.
    let expected: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["also_party_to"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| wanted.iter().any(|w| t == w.as_str()))
        })
        .map(|s| s["iso3"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, expected);
    assert!(codes.len() < iso3s(&all).len());

    // On an earlier date Lao PDR had joined neither yet.
    let before = json(
        db,
        &[
            "states",
            "--status",
            "not-party",
            "--party-to",
            "CCM",
            "--party-to",
            "CCW_P5",
            "--at",
            "2009-01-01",
        ],
    );
    assert!(!iso3s(&before).contains(&"LAO".to_owned()));

    let human = ok(
        db,
        &[
            "states",
            "--status",
            "not-party",
            "--party-to",
            "CCM",
            "--at",
            at,
        ],
    );
    assert!(human.contains("party to CCM"), "{human}");
    let err = fails(db, &["states", "--party-to", "CCX"]);
    assert!(err.contains("party_to") && err.contains("CCM"), "{err}");
}
db_test!(
    multi_treaty_view,
    states_not_party_but_party_to_the_ccm_or_ccw_protocol_v_are_listed
);

async fn a_logged_visit_appears_in_the_state_profile(db: &TestDb) {
    ok(
        db,
        &[
            "org",
            "add",
            "--name",
            "Test Campaign Nepal",
            "--kind",
            "icbl-member",
            "--state",
            "NPL",
        ],
    );
    ok(
        db,
        &[
            "contact",
            "add",
            "--name",
            "Test Person",
            "--organisation",
            "Test Campaign Nepal",
            "--email",
            "person@example.org",
            "--languages",
            "ne,en",
        ],
    );
    let logged = json(
        db,
        &[
            "log",
            "embassy-visit",
            "--state",
            "NPL",
            "--date",
            "2026-11-02",
            "--summary",
            "Briefing on accession",
            "--outcome",
            "Will raise it with the minister",
            "--stance",
            "open",
            "--with",
            "person@example.org",
        ],
    );
    let id = logged["id"].as_str().expect("engagement id").to_owned();

    let profile = json(db, &["state", "show", "NPL"]);
    assert_eq!(profile["iso3"], "NPL");
    assert_eq!(profile["name"], "Nepal");
    assert_eq!(profile["status"], "not_party");
    let engagements = profile["engagements"].as_array().expect("engagements");
    assert_eq!(engagements.len(), 1);
    assert_eq!(engagements[0]["id"], id.as_str());
    assert_eq!(engagements[0]["kind"], "embassy_visit");
    assert_eq!(engagements[0]["outcome"], "Will raise it with the minister");
    assert!(
        engagements[0]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "Test Person"),
        "{engagements:?}"
    );
    assert_eq!(profile["last_engagement"], "2026-11-02");
    assert_eq!(
        profile["contacts"][0]["organisation"],
        "Test Campaign Nepal"
    );

    let audit = json(db, &["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(actions.contains(&"engagement.log"), "{actions:?}");
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["actor"] == "tester")
    );

    let human = ok(db, &["state", "show", "nepal"]);
    assert!(human.contains("Briefing on accession"), "{human}");
}
db_test!(logged_visit, a_logged_visit_appears_in_the_state_profile);

async fn a_meeting_is_stored_in_utc_and_shown_in_local_time(db: &TestDb) {
    let m = json(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "NPL",
            "--title",
            "Ministry meeting",
            "--at",
            "2026-03-14 10:00",
            "--tz",
            "Asia/Kathmandu",
        ],
    );
    assert_eq!(m["starts_at"], "2026-03-14T04:15:00Z");
    assert_eq!(m["local_start"], "2026-03-14 10:00");
    assert_eq!(m["time_zone"], "Asia/Kathmandu");
    let id = m["id"].as_str().unwrap().to_owned();

    // Read the stored row itself, not the program's view of it.
    let conn = outreach_core::db::connect(&db.url).await.unwrap();
    use sea_orm::EntityTrait;
    let stored =
        outreach_core::entities::meeting::Entity::find_by_id(uuid::Uuid::parse_str(&id).unwrap())
            .one(&conn)
            .await
            .unwrap()
            .expect("meeting row");
    assert_eq!(stored.starts_at.to_rfc3339(), "2026-03-14T04:15:00+00:00");
    assert_eq!(stored.version, 1);
    conn.close().await.ok();

    let shown = json(db, &["meeting", "show", &id[id.len() - 8..]]);
    assert_eq!(shown["local_start"], "2026-03-14 10:00");

    // The capital's zone is the default.
    let m2 = json(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "NPL",
            "--title",
            "Second",
            "--at",
            "2026-03-15 10:00",
        ],
    );
    assert_eq!(m2["time_zone"], "Asia/Kathmandu");
    assert_eq!(m2["starts_at"], "2026-03-15T04:15:00Z");

    let moved = json(
        db,
        &["meeting", "reschedule", &id, "--at", "2026-03-16 09:30"],
    );
    assert_eq!(moved["version"], 2);
    assert_eq!(moved["starts_at"], "2026-03-16T03:45:00Z");
    let cancelled = json(db, &["meeting", "cancel", &id]);
    assert_eq!(cancelled["status"], "cancelled");
    let err = fails(
        db,
        &["meeting", "reschedule", &id, "--at", "2026-03-17 09:30"],
    );
    assert!(err.contains("cancelled"), "{err}");
}
db_test!(
    meeting_times,
    a_meeting_is_stored_in_utc_and_shown_in_local_time
);

async fn a_time_that_does_not_exist_is_refused_and_nothing_is_written(db: &TestDb) {
    let err = fails(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "FRA",
            "--title",
            "Gap",
            "--at",
            "2026-03-29 02:30",
            "--tz",
            "Europe/Paris",
        ],
    );
    assert!(err.contains("does not exist in Europe/Paris"), "{err}");
    let err = fails(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "FRA",
            "--title",
            "Overlap",
            "--at",
            "2026-10-25 02:30",
            "--tz",
            "Europe/Paris",
        ],
    );
    assert!(err.contains("happens twice in Europe/Paris"), "{err}");
    let err = fails(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "FRA",
            "--title",
            "Zone",
            "--at",
            "2026-05-01 10:00",
            "--tz",
            "Europe/Pariss",
        ],
    );
    assert!(
        err.contains("tz: 'Europe/Pariss' is not a known time zone; did you mean Europe/Paris"),
        "{err}"
    );
    let err = fails(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "FRA",
            "--title",
            "Date",
            "--at",
            "2026-13-01 10:00",
        ],
    );
    assert!(
        err.contains("at: '2026-13-01 10:00' is not a local date and time"),
        "{err}"
    );
    // Dates far outside the campaign's world are refused by name, not stored to stall the
    // mailer later (the year 262142 once was).
    for at in [
        "+262142-12-31 23:30",
        "-262143-01-01 00:00",
        "2200-01-01 10:00",
        "1899-12-31 10:00",
    ] {
        let err = fails(
            db,
            &[
                "meeting",
                "schedule",
                "--state",
                "FRA",
                "--title",
                "Far",
                &format!("--at={at}"),
            ],
        );
        assert!(
            err.contains("at: '")
                && (err.contains("between 1900-01-01 and 2199-12-31")
                    || err.contains("is not a local date and time")),
            "{at}: {err}"
        );
    }
    let err = fails(
        db,
        &[
            "meeting",
            "schedule",
            "--state",
            "FRA",
            "--title",
            "Far",
            "--at",
            "2200-01-01 10:00",
        ],
    );
    assert!(err.contains("between 1900-01-01 and 2199-12-31"), "{err}");
    let err = fails(
        db,
        &[
            "log",
            "embassy-visit",
            "--state",
            "FRA",
            "--date",
            "2200-01-01",
        ],
    );
    assert!(err.contains("date: '2200-01-01'"), "{err}");
    assert_eq!(json(db, &["meetings"]), Value::Array(vec![]));
    let audit = json(db, &["audit"]);
    assert!(
        !audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["entity"] == "meeting")
    );
}
db_test!(
    dst_gap_refused,
    a_time_that_does_not_exist_is_refused_and_nothing_is_written
);

async fn unknown_states_and_bad_values_get_clear_errors(db: &TestDb) {
    let err = fails(db, &["state", "show", "NEP"]);
    assert!(
        err.contains("NEP is not a state code or name; did you mean NPL (Nepal)"),
        "{err}"
    );
    let err = fails(db, &["log", "embassy-visit", "--state", "NEP"]);
    assert!(err.contains("did you mean NPL (Nepal)"), "{err}");
    let err = fails(db, &["states", "--at", "20-06-2022"]);
    assert!(
        err.contains("--at: '20-06-2022' is not a date; write it as YYYY-MM-DD"),
        "{err}"
    );
    let err = fails(db, &["states", "--status", "friendly"]);
    assert!(
        err.contains("--status: 'friendly' is not a status"),
        "{err}"
    );
    let err = fails(db, &["log", "lunch", "--state", "NPL"]);
    assert!(
        err.contains("kind: 'lunch' is not a known engagement kind; use one of: embassy-visit"),
        "{err}"
    );
    let err = fails(
        db,
        &["contact", "add", "--name", "X", "--email", "not-an-address"],
    );
    assert!(
        err.contains("email: 'not-an-address' is not a valid email address"),
        "{err}"
    );
    let err = fails(
        db,
        &["log", "call", "--state", "NPL", "--with", "Nobody Known"],
    );
    assert!(err.contains("no contact matches 'Nobody Known'"), "{err}");
    // None of the refused commands wrote anything.
    assert_eq!(json(db, &["contacts"]), Value::Array(vec![]));
    assert!(
        json(db, &["state", "show", "NPL"])["engagements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
db_test!(bad_input, unknown_states_and_bad_values_get_clear_errors);

/// Runs a command that must fail with `--json`: its exit code and the JSON error on stderr.
fn fails_json(db: &TestDb, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let o = outreach(db, &all);
    assert!(!o.status.success(), "outreach {args:?} should have failed");
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(&o));
    let err = stderr(&o);
    let line = err
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no error on stderr for {args:?}"));
    let v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("the error of {args:?} is not JSON ({e}): {err}"));
    (o.status.code().unwrap(), v)
}

async fn failures_exit_with_their_kind_and_say_it_as_json(db: &TestDb) {
    // A value given that is not valid: 2, naming the field by its API name.
    let (code, e) = fails_json(db, &["states", "--at", "20-06-2022"]);
    assert_eq!(code, 2, "{e}");
    assert_eq!(e["error"]["code"], "invalid", "{e}");
    assert_eq!(e["error"]["field"], "at", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD"),
        "{e}"
    );
    let (code, e) = fails_json(db, &["state", "show", "NEP"]);
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (2, Some("unknown_state")),
        "{e}"
    );
    // A record named that does not exist: 3, with where to look (the CLI names the command;
    // core's message names none).
    let (code, e) = fails_json(db, &["meeting", "show", "0000abcd"]);
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (3, Some("not_found")),
        "{e}"
    );
    assert_eq!(
        e["error"]["remedy"], "`outreach meetings` lists meetings and their ids",
        "{e}"
    );
    assert!(
        !e["error"]["message"].as_str().unwrap().contains("outreach"),
        "{e}"
    );
    let err = fails(db, &["state", "show", "Atlantis"]);
    assert!(
        err.contains("Atlantis is not a state code or name\n  `outreach states --status all` lists every state"),
        "{err}"
    );
    // Not possible as the records stand: 4.
    ok(
        db,
        &[
            "contact",
            "add",
            "--name",
            "Asha Gurung",
            "--email",
            "asha@example.org",
        ],
    );
    let (code, e) = fails_json(
        db,
        &[
            "contact",
            "add",
            "--name",
            "Asha G.",
            "--email",
            "asha@example.org",
        ],
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (4, Some("conflict")),
        "{e}"
    );
    // Not allowed for the acting user: 5.
    ok(db, &["user", "add", "boss", "--role", "admin"]);
    ok(
        db,
        &["--as", "boss", "user", "add", "sam", "--role", "staff"],
    );
    let (code, e) = fails_json(
        db,
        &["--as", "sam", "user", "add", "eve", "--role", "admin"],
    );
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (5, Some("forbidden")),
        "{e}"
    );
    // Without --json the same failure is text, with the same code.
    let o = outreach(db, &["meeting", "show", "0000abcd"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
}
db_test!(exit_codes, failures_exit_with_their_kind_and_say_it_as_json);

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn an_import_with_a_bad_row_writes_no_row(db: &TestDb) {
    let orgs = write(
        db.dir.path(),
        "orgs.csv",
        "name,kind,state,email,icbl_member\n\
         Campaign A,icbl_member,NPL,a@example.org,yes\n\
         Ministry B,ministry,IND,,\n",
    );
    let r = json(db, &["import", "organisations", &orgs]);
    assert_eq!(r["imported"], 2);
    let r = json(db, &["import", "organisations", &orgs]);
    assert_eq!(
        (r["imported"].as_u64(), r["already_present"].as_u64()),
        (Some(0), Some(2))
    );

    let bad = write(
        db.dir.path(),
        "contacts.csv",
        "name,organisation,email,languages\n\
         One,Campaign A,one@example.org,en\n\
         Two,Ministry B,two@example.org,fr\n\
         Three,Campaign A,three-at-example.org,en\n",
    );
    let err = fails(db, &["import", "contacts", &bad]);
    assert!(err.contains("line 4, column 'email'"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(json(db, &["contacts"]), Value::Array(vec![]));

    // A NUL in a cell: refused by line and column before any lookup, nothing imported.
    let nul = write(
        db.dir.path(),
        "contacts-nul.csv",
        "name,organisation,email\nOne,Campaign A,one@example.org\nTw\u{0}o,Ministry B,two@example.org\n",
    );
    let err = fails(db, &["import", "contacts", &nul]);
    assert!(
        err.contains("line 3, column 'name': holds a control character (U+0000)"),
        "{err}"
    );
    assert_eq!(json(db, &["contacts"]), Value::Array(vec![]));

    let unknown_column = write(db.dir.path(), "c2.csv", "name,mail\nOne,one@example.org\n");
    let err = fails(db, &["import", "contacts", &unknown_column]);
    assert!(
        err.contains("line 1, column 'mail': unknown column"),
        "{err}"
    );

    let good = write(
        db.dir.path(),
        "contacts-ok.csv",
        "name,organisation,email,languages,time_zone\n\
         One,Campaign A,one@example.org,en,Asia/Kathmandu\n\
         Two,Ministry B,two@example.org,\"fr,en\",Asia/Kolkata\n",
    );
    let r = json(db, &["import", "contacts", &good]);
    assert_eq!(r["imported"], 2);
    let contacts = json(db, &["contacts", "--state", "IND"]);
    assert_eq!(contacts.as_array().unwrap().len(), 1);
    assert_eq!(contacts[0]["email"], "two@example.org");
}
db_test!(csv_import, an_import_with_a_bad_row_writes_no_row);

async fn the_demo_shows_the_attention_list_at_work(db: &TestDb) {
    let first = json(db, &["demo"]);
    assert_eq!(first["already_present"], false);
    assert!(first["meetings"].as_u64().unwrap() >= 1);
    let again = json(db, &["demo"]);
    assert_eq!(again["already_present"], true);
    // The demo's meetings list their reminders right away, before any daemon has run.
    let meetings = json(db, &["meetings", "--upcoming"]);
    let meetings = meetings.as_array().unwrap();
    assert!(!meetings.is_empty());
    for m in meetings {
        let id = m["id"].as_str().unwrap();
        let shown = json(db, &["meeting", "show", id]);
        let reminders = shown["reminders"].as_array().unwrap();
        assert!(
            reminders.iter().any(|r| r["state"] == "planned"),
            "{id}: {shown}"
        );
    }

    let rows = json(db, &["attention"]);
    let rows = rows.as_array().unwrap();
    let npl = rows
        .iter()
        .find(|r| r["iso3"] == "NPL")
        .expect("Nepal needs attention");
    assert!(npl["next_meeting"]["local_start"].is_string(), "{npl}");
    assert!(
        npl["grantees"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g.as_str().unwrap().contains("(demo)"))
    );
    // Never-engaged states come first, then the longest silence.
    let days: Vec<i64> = rows
        .iter()
        .map(|r| r["days_since_last_engagement"].as_i64().unwrap_or(i64::MAX))
        .collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");
    assert!(days[0] == i64::MAX && *days.last().unwrap() < i64::MAX);

    let profile = json(db, &["state", "show", "NPL"]);
    assert!(!profile["grants"].as_array().unwrap().is_empty());
    assert!(!profile["open_follow_ups"].as_array().unwrap().is_empty());
    let human = ok(db, &["attention"]);
    assert!(human.contains("least recently engaged first"), "{human}");
    let by_stance = json(db, &["attention", "--sort", "stance", "--stance", "open"]);
    let by_stance = by_stance.as_array().unwrap();
    assert!(
        !by_stance.is_empty() && by_stance.iter().all(|r| r["stance"] == "open"),
        "{by_stance:?}"
    );

    // The demo tells the story of the campaign's texts in letters (issue 16 item 10): a joint
    // approach with the local campaign in Nepal, a call to speak out to France answering
    // Russia's reported use of 2022, thanks to the United States for its step of June 2022.
    let letters = first["letters"].as_array().unwrap();
    let drafted: Vec<(&str, &str, &str)> = letters
        .iter()
        .map(|l| {
            assert!(l["id"].is_string(), "{l}");
            (
                l["template"].as_str().unwrap(),
                l["state"].as_str().unwrap(),
                l["language"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        drafted,
        vec![
            ("joint_approach", "Nepal", "en"),
            ("call_to_speak_out", "France", "fr"),
            ("thanks", "United States", "en"),
        ]
    );
    assert!(again["letters"].as_array().unwrap().is_empty());
    let show = |i: usize| json(db, &["letter", "show", letters[i]["id"].as_str().unwrap()]);
    let call = show(1);
    let body = call["body"].as_str().unwrap();
    assert!(body.contains("Son Excellence"), "{body}");
    assert!(body.contains("24 février 2022"), "{body}");
    let thanks = show(2);
    let body = thanks["body"].as_str().unwrap();
    assert!(body.contains("21 June 2022"), "{body}");
    // The story's records: the grantees and the shipped signals it answers.
    let grants: Vec<String> = ["AZE", "IND", "NPL"]
        .iter()
        .map(|s| json(db, &["state", "show", s])["grants"].to_string())
        .collect();
    assert!(grants.iter().all(|g| g.contains("(demo)")), "{grants:?}");
}
db_test!(demo_attention, the_demo_shows_the_attention_list_at_work);

async fn init_is_idempotent_and_loads_a_newer_data_file(db: &TestDb) {
    let first = json(db, &["init"]);
    assert_eq!(first["report"]["states"]["inserted"], 197);
    let again = json(db, &["init"]);
    assert_eq!(again["report"]["states"]["unchanged"], 197);
    assert_eq!(again["report"]["treaty_events"]["unchanged"], 1557);
    let human = ok(db, &["init"]);
    assert!(human.contains("Nothing changed"), "{human}");

    // A newer data file: one capital renamed, one event's note corrected, one event dropped.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference");
    let states = std::fs::read_to_string(root.join("states.csv")).unwrap();
    let events = std::fs::read_to_string(root.join("treaty_events.csv")).unwrap();
    let newer = db.dir.path().join("newer");
    std::fs::create_dir_all(&newer).unwrap();
    let states = states.replacen(
        ",Kathmandu,Asia/Kathmandu,",
        ",Kathmandu (Katmandu),Asia/Kathmandu,",
        1,
    );
    let mut lines: Vec<&str> = events.lines().collect();
    let last = lines.pop().unwrap();
    let first_data = lines[1].to_owned();
    let edited = format!("{first_data} (corrected)");
    lines[1] = &edited;
    std::fs::write(newer.join("states.csv"), states).unwrap();
    std::fs::write(newer.join("treaty_events.csv"), lines.join("\n") + "\n").unwrap();
    assert!(!last.is_empty());

    let r = json(db, &["init", "--data", newer.to_str().unwrap()]);
    assert_eq!(r["report"]["states"]["updated"], 1, "{r}");
    assert_eq!(r["report"]["treaty_events"]["updated"], 1, "{r}");
    assert_eq!(r["report"]["treaty_events"]["removed"], 1, "{r}");
    let npl = json(db, &["state", "show", "NPL"]);
    assert_eq!(npl["capital"], "Kathmandu (Katmandu)");

    let broken = db.dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("states.csv"),
        std::fs::read_to_string(root.join("states.csv")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        broken.join("treaty_events.csv"),
        "treaty,iso3,event,date,source,confidence,note\nAPMBC,XXX,accession,2020-01-01,https://example.org,confirmed,\n",
    )
    .unwrap();
    let err = fails(db, &["init", "--data", broken.to_str().unwrap()]);
    assert!(
        err.contains("line 2") && err.contains("iso3 is not in states.csv"),
        "{err}"
    );
    // The refused file changed nothing.
    assert_eq!(
        json(db, &["state", "show", "NPL"])["capital"],
        "Kathmandu (Katmandu)"
    );

    // An empty or header-only events file never means "remove every event".
    for events in ["", "treaty,iso3,event,date,source,confidence,note\n"] {
        std::fs::write(broken.join("treaty_events.csv"), events).unwrap();
        let err = fails(db, &["init", "--data", broken.to_str().unwrap()]);
        assert!(err.contains("treaty_events.csv has no rows"), "{err}");
    }
    // A copy that lost most of its rows is refused, naming what would go, unless allowed.
    let mut lines: Vec<&str> = events.lines().collect();
    lines.truncate(100);
    std::fs::write(broken.join("treaty_events.csv"), lines.join("\n") + "\n").unwrap();
    let err = fails(db, &["init", "--data", broken.to_str().unwrap()]);
    assert!(
        err.contains("would remove") && err.contains("--allow-removals"),
        "{err}"
    );
    let r = json(
        db,
        &[
            "init",
            "--data",
            broken.to_str().unwrap(),
            "--allow-removals",
        ],
    );
    assert_eq!(r["report"]["treaty_events"]["removed"], 1556 - 99, "{r}");
}
db_test!(
    init_reference_data,
    init_is_idempotent_and_loads_a_newer_data_file
);

#[tokio::test]
async fn the_default_database_is_a_sqlite_file_created_on_first_use() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = Command::new(env!("CARGO_BIN_EXE_outreach"))
        .current_dir(db.dir.path())
        .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
        .env_remove("OUTREACH_DATABASE_URL")
        .args([
            "--json",
            "states",
            "--status",
            "not-party",
            "--at",
            "2022-06-20",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db.dir.path().join("outreach.db").is_file());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 33);
}

#[tokio::test]
async fn an_unknown_configuration_key_stops_the_program_with_its_name() {
    let db = TestDb::new(Backend::Sqlite).await;
    let config = db.dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("development.toml"),
        "time_zon = \"Asia/Kathmandu\"\n",
    )
    .unwrap();
    let err = fails(&db, &["states"]);
    assert!(err.contains("time_zon"), "{err}");
}

#[test]
fn help_shows_examples() {
    let out = Command::new(env!("CARGO_BIN_EXE_outreach"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("Examples:") && text.contains("outreach attention"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_outreach"))
        .args(["meeting", "schedule", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("daylight-saving"));
}

async fn reminders_are_planned_superseded_and_shown_per_meeting(db: &TestDb) {
    ok(
        db,
        &[
            "user",
            "add",
            "tester",
            "--email",
            "tester@example.org",
            "--time-zone",
            "Europe/Paris",
        ],
    );
    ok(
        db,
        &[
            "contact",
            "add",
            "--name",
            "Asha",
            "--email",
            "asha@example.org",
            "--time-zone",
            "Asia/Kathmandu",
        ],
    );
    let at = (chrono::Utc::now() + chrono::Duration::days(20))
        .format("%Y-%m-%d 10:00")
        .to_string();
    let m = json(
        db,
        &[
            "meeting", "schedule", "--state", "NPL", "--title", "Ministry", "--at", &at, "--with",
            "Asha",
        ],
    );
    // Shipped rules: 7 days and 1 day before to participants and owner, 2 hours before to the owner.
    assert_eq!(m["reminders"]["planned"], 5, "{m}");
    let id = m["id"].as_str().unwrap().to_owned();
    let later = (chrono::Utc::now() + chrono::Duration::days(21))
        .format("%Y-%m-%d 10:00")
        .to_string();
    let moved = json(db, &["meeting", "reschedule", &id, "--at", &later]);
    assert_eq!(moved["reminders"]["superseded"], 5, "{moved}");
    let shown = json(db, &["meeting", "show", &id]);
    let states: Vec<&str> = shown["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "superseded").count(),
        5,
        "{states:?}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == "planned").count(),
        5,
        "{states:?}"
    );
    let dry = json(db, &["rules", "dry-run", "meeting-1d"]);
    let lines = dry.as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|l| l["time_zone"] == "Asia/Kathmandu"
        && l["local_time"].as_str().unwrap().ends_with("10:00")));
    let err = fails(db, &["rules", "dry-run", "meeting-3d"]);
    assert!(
        err.contains("'meeting-3d' is not a reminder rule (they are: meeting-7d, meeting-1d"),
        "{err}"
    );
    // The date rules are in the dry run too: a follow-up due in ten days is reminded of two
    // days before, at 09:00 in its owner's zone.
    let due = (chrono::Utc::now() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    ok(
        db,
        &[
            "followup",
            "add",
            "--state",
            "NPL",
            "--description",
            "Send the treaty text",
            "--due",
            &due,
        ],
    );
    let dry = json(db, &["rules", "dry-run", "follow-up-due"]);
    let lines = dry.as_array().unwrap();
    assert_eq!(lines.len(), 1, "{dry}");
    assert_eq!(lines[0]["kind"], "follow_up_reminder");
    assert_eq!(lines[0]["would_fire"], true);
    assert_eq!(lines[0]["time_zone"], "Europe/Paris");
    assert!(
        lines[0]["local_time"].as_str().unwrap().ends_with("09:00"),
        "{dry}"
    );
    assert_eq!(lines[0]["subject"], format!("follow-up due {due}"));
    let cancelled = json(db, &["meeting", "cancel", &id]);
    assert_eq!(cancelled["reminders"]["cancelled"], 5);
}
db_test!(
    meeting_reminders,
    reminders_are_planned_superseded_and_shown_per_meeting
);

async fn a_job_that_cannot_run_is_dead_lettered_with_its_error_and_can_be_retried(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let mut job = outreach_scheduler::jobs::NewJob::new(
        "no_such_kind",
        "test:unknown".into(),
        chrono::Utc::now(),
        serde_json::json!({}),
    );
    job.max_attempts = 2;
    outreach_scheduler::jobs::enqueue(&conn, job).await.unwrap();
    conn.close().await.ok();
    let run = json(db, &["scheduler", "--once"]);
    assert_eq!(run["jobs_run"], 1, "{run}");
    let failed = json(db, &["jobs", "--status", "failed"]);
    let rows = failed.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["last_error"],
        "no handler for job kind 'no_such_kind'"
    );
    let human = ok(db, &["jobs", "--status", "failed"]);
    assert!(human.contains("no handler for job kind"), "{human}");
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let retried = json(db, &["jobs", "retry", &id[id.len() - 8..]]);
    assert_eq!(retried["status"], "queued");
    let err = fails(db, &["jobs", "retry", &id]);
    assert!(
        err.contains("only a failed or cancelled job can be retried"),
        "{err}"
    );
    let cancelled = json(db, &["jobs", "cancel", &id]);
    assert_eq!(cancelled["status"], "cancelled");
}
db_test!(
    dead_letters,
    a_job_that_cannot_run_is_dead_lettered_with_its_error_and_can_be_retried
);

async fn serve_runs_the_app_until_sigterm_after_the_first_admin_is_created(db: &TestDb) {
    use std::io::{BufRead, Write};
    let mut add = Command::new(env!("CARGO_BIN_EXE_outreach"));
    add.current_dir(db.dir.path())
        .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
        .env("OUTREACH_USER", "tester")
        .env("OUTREACH_LOG", "warn")
        .args([
            "--database",
            &db.url,
            "user",
            "add",
            "admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let short = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_outreach"));
        c.current_dir(db.dir.path())
            .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
            .args([
                "--database",
                &db.url,
                "user",
                "add",
                "ana",
                "--password-stdin",
            ])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut ch = c.spawn().unwrap();
        ch.stdin.take().unwrap().write_all(b"short\n").unwrap();
        ch.wait_with_output().unwrap()
    };
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password: is shorter than 12 characters")
    );

    let mut serve = Command::new(env!("CARGO_BIN_EXE_outreach"))
        .current_dir(db.dir.path())
        .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
        .env("OUTREACH_LOG", "warn")
        .args(["--database", &db.url, "serve", "--port", "0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(serve.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    let health = reqwest_get(&format!("{url}/healthz")).await;
    assert_eq!(health, (200, "ok".to_owned()));
    let (status, _) = reqwest_get(&format!("{url}/api/v1/states")).await;
    assert_eq!(status, 401);
    std::process::Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let status = serve.wait().unwrap();
    assert!(
        status.success(),
        "serve should stop cleanly on SIGTERM: {status}"
    );
}
db_test!(
    serve,
    serve_runs_the_app_until_sigterm_after_the_first_admin_is_created
);

/// A bare HTTP/1.1 GET over TCP: (status, body).
async fn reqwest_get(url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn serve_on_a_fresh_database_makes_the_acting_handle_the_first_admin(db: &TestDb) {
    use std::io::BufRead;
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_outreach"))
            .current_dir(db.dir.path())
            .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
            .env("OUTREACH_USER", "lead")
            .env("OUTREACH_LOG", "warn")
            .args(["--database", &db.url, "serve", "--port", "0"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Reads stderr up to the address line; returns the lines before it.
    let until_address = |serve: &mut std::process::Child| {
        let mut lines = std::io::BufReader::new(serve.stderr.take().unwrap()).lines();
        let mut before = Vec::new();
        loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if line.contains("http://") {
                break before;
            }
            before.push(line);
        }
    };
    let stop = |serve: &mut std::process::Child| {
        std::process::Command::new("kill")
            .args(["-TERM", &serve.id().to_string()])
            .status()
            .unwrap();
        assert!(serve.wait().unwrap().success());
    };
    let mut first = start();
    let said = until_address(&mut first).join("\n");
    stop(&mut first);
    assert!(said.contains("'lead' is now an admin"), "{said}");
    let password = said
        .split("with the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    assert_eq!(password.len(), 20, "{said}");

    // The second start finds an account that can sign in and says nothing of the kind.
    let mut second = start();
    let said = until_address(&mut second).join("\n");
    stop(&mut second);
    assert!(!said.contains("now an admin"), "{said}");
}
db_test!(
    serve_first_admin,
    serve_on_a_fresh_database_makes_the_acting_handle_the_first_admin
);

/// Issue 16 item 4 from the command line: a coordinator records a deliverable and marks a report
/// submitted, staff log the engagement that fulfils it, and `grant show` adds it all up; refusals
/// exit with their kind's code and say what to do.
async fn grant_deliverables_and_reports_from_the_command_line(db: &TestDb) {
    ok(db, &["demo"]);
    ok(db, &["user", "add", "lead", "--role", "coordinator"]);
    let grants = json(db, &["grants", "--state", "NPL"]);
    let g = &grants.as_array().unwrap()[0];
    let gid = g["id"].as_str().unwrap().to_owned();
    let reports_total = g["progress"]["reports_total"].as_u64().unwrap();
    assert!(reports_total > 0, "{g}");
    let d = json(
        db,
        &[
            "--as",
            "lead",
            "grant",
            "deliverable",
            "add",
            &gid,
            "--what",
            "Brief the defence ministry",
            "--due",
            "2026-09-30",
        ],
    );
    assert_eq!(d["status"], "planned");
    let short = d["short_id"].as_str().unwrap().to_owned();
    let e = json(
        db,
        &[
            "log",
            "capital-meeting",
            "--state",
            "NPL",
            "--summary",
            "Briefed the defence ministry",
            "--deliverable",
            &short,
        ],
    );
    assert_eq!(e["deliverable_id"], d["id"]);
    let done = json(
        db,
        &[
            "--as",
            "lead",
            "grant",
            "deliverable",
            "update",
            &short,
            "--status",
            "done",
        ],
    );
    assert_eq!(done["status"], "done");
    let listed = json(db, &["grant", "deliverable", "list", &gid]);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let show = json(db, &["grant", "show", &gid]);
    let report = show["reports"][0]["short_id"].as_str().unwrap().to_owned();
    // Staff may not mark reports submitted (exit 5).
    let o = outreach(db, &["grant", "report", "submit", &report]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let r = json(
        db,
        &[
            "--as",
            "lead",
            "grant",
            "report",
            "submit",
            &report,
            "--on",
            "2026-06-28",
        ],
    );
    assert_eq!(r["submitted_on"], "2026-06-28");
    assert_eq!(r["submitted_by"], "lead");
    // Twice is refused (exit 4), saying when and by whom.
    let o = outreach(db, &["--as", "lead", "grant", "report", "submit", &report]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).contains("already marked submitted on 2026-06-28 by lead"),
        "{}",
        stderr(&o)
    );
    // An unknown grant: exit 3, and where to find the ids.
    let o = outreach(db, &["grant", "show", "0000abcd"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("`outreach grants` lists grants"),
        "{}",
        stderr(&o)
    );

    let human = ok(db, &["grant", "show", &gid]);
    assert!(
        human.contains(&format!(
            "Progress: 1 of 1 deliverable done, 1 of {reports_total} report"
        )),
        "{human}"
    );
    assert!(human.contains("submitted 2026-06-28 by lead"), "{human}");
    assert!(human.contains("Briefed the defence ministry"), "{human}");
}
db_test!(
    grant_cli,
    grant_deliverables_and_reports_from_the_command_line
);

/// `outreach stance`: a coordinator sets a state's stance with a reason; `stance show` gives it
/// with its history; `states` filters and sorts by it; staff may not set it (exit code and JSON
/// error on stderr) and a bad value names its field.
async fn stance_through_the_cli(db: &TestDb) {
    ok(db, &["demo"]);
    let h = json(db, &["stance", "show", "NPL"]);
    assert_eq!(h["current"]["stance"], "open", "{h}");
    let o = outreach(
        db,
        &[
            "--json",
            "stance",
            "set",
            "NPL",
            "supportive",
            "--reason",
            "Promised a paper",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("coordinator"), "{}", stderr(&o));
    ok(db, &["user", "add", "tester", "--role", "coordinator"]);
    let err = fails(db, &["stance", "set", "NPL", "keen", "--reason", "x"]);
    assert!(
        err.contains("stance") && err.contains("supportive"),
        "{err}"
    );
    let set = json(
        db,
        &[
            "stance",
            "set",
            "Nepal",
            "supportive",
            "--reason",
            "The minister promised a cabinet paper",
        ],
    );
    assert_eq!(set["stance"], "supportive");
    assert_eq!(set["set_by"], "tester");
    let human = ok(db, &["stance", "show", "NPL"]);
    assert!(
        human.contains("supportive since") && human.contains("Before that:"),
        "{human}"
    );
    let rows = json(
        db,
        &[
            "states",
            "--status",
            "not-party",
            "--stance",
            "supportive,open",
        ],
    );
    let codes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["iso3"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["NPL"]);
    let sorted = json(db, &["states", "--status", "not-party", "--sort", "stance"]);
    assert_eq!(sorted[0]["iso3"], "NPL");
    let err = fails(db, &["states", "--stance", "keen"]);
    assert!(err.contains("--stance"), "{err}");
}
db_test!(stance_cli, stance_through_the_cli);
async fn posts_from_the_command_line_keep_the_history_and_name_the_holder_on_a_date(db: &TestDb) {
    ok(db, &["demo"]);
    // The demo's ministry post: Kiran held it until Ram took it over.
    let history = json(db, &["posts", "--state", "NPL"]);
    let holders: Vec<(&str, bool)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["contact"].as_str().unwrap(),
                p["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(holders, [("Ram Demo", true), ("Kiran Demo", false)]);
    assert!(history[1]["to"].is_string(), "{history}");

    for (name, email) in [
        ("Anita Sharma", "anita@mofa.example.org"),
        ("Bikash Thapa", "bikash@mofa.example.org"),
    ] {
        ok(
            db,
            &[
                "contact", "add", "--name", name, "--state", "NPL", "--email", email,
            ],
        );
    }
    let first = json(
        db,
        &[
            "post",
            "add",
            "anita@mofa.example.org",
            "--title",
            "Minister for Foreign Affairs",
            "--state",
            "NPL",
            "--from",
            "2021-07-15",
        ],
    );
    assert_eq!(first["contact"], "Anita Sharma");
    assert_eq!(first["iso3"], "NPL");
    assert_eq!(first["to"], Value::Null);
    let human = ok(
        db,
        &[
            "post",
            "add",
            "Bikash Thapa",
            "--title",
            "Minister for Foreign Affairs",
            "--state",
            "NPL",
            "--from",
            "2025-03-01",
        ],
    );
    assert!(
        human.contains("Bikash Thapa as Minister for Foreign Affairs (NPL) (since 2025-03-01)"),
        "{human}"
    );
    let holder_on = |day: &str| {
        let rows = json(db, &["posts", "--state", "NPL", "--at", day]);
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["title"] == "Minister for Foreign Affairs")
            .map(|p| p["contact"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(holder_on("2025-02-28"), ["Anita Sharma"]);
    assert_eq!(holder_on("2025-03-01"), ["Bikash Thapa"]);
    assert!(holder_on("2020-01-01").is_empty());
    let mine = json(db, &["posts", "--contact", "anita@mofa.example.org"]);
    assert_eq!(mine[0]["to"], "2025-02-28", "{mine}");

    // An overlap is a conflict (exit 4), an end before the start names the field (exit 2).
    let (code, e) = fails_json(
        db,
        &[
            "post",
            "add",
            "Anita Sharma",
            "--title",
            "Minister for Foreign Affairs",
            "--state",
            "NPL",
            "--from",
            "2024-01-01",
        ],
    );
    assert_eq!(code, 4, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Anita Sharma holds the post"),
        "{e}"
    );
    let (code, e) = fails_json(
        db,
        &[
            "post",
            "add",
            "Anita Sharma",
            "--title",
            "Ambassador",
            "--from",
            "2026-02-01",
            "--to",
            "2026-01-01",
        ],
    );
    assert_eq!(code, 2, "{e}");
    assert_eq!(e["error"]["field"], "to", "{e}");

    let id = json(db, &["posts", "--contact", "Bikash Thapa"])[0]["short_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = json(db, &["post", "end", &id, "--on", "2026-06-30"]);
    assert_eq!(ended["to"], "2026-06-30");
    assert!(holder_on("2026-07-01").is_empty());
    let shown = ok(db, &["state", "show", "NPL", "--at", "2025-06-01"]);
    assert!(shown.contains("Posts (held on 2025-06-01 first"), "{shown}");
    assert!(
        shown.contains("Minister for Foreign Affairs — Bikash Thapa, 2025-03-01 to 2026-06-30"),
        "{shown}"
    );
    let help = ok(db, &["post", "add", "--help"]);
    assert!(help.contains("Examples:"), "{help}");
}
db_test!(
    posts_cli,
    posts_from_the_command_line_keep_the_history_and_name_the_holder_on_a_date
);
