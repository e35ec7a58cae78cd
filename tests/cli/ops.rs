//! What the operations side promises: the variables of the tests and benchmarks never stop the
//! app from starting, while a misspelt setting still does.

use outreach_testkit::{TestDb, db_test};

use super::{outreach_with_env, stderr, stdout};

async fn test_variables_leave_the_app_working_and_a_misspelt_setting_still_stops_it(db: &TestDb) {
    let test_vars = [
        ("OUTREACH_TEST_PG_URL", "postgres://nobody@127.0.0.1:1/none"),
        ("OUTREACH_TEST_CHROMIUM", "/opt/chromium"),
        ("OUTREACH_TEST_CHROMEDRIVER", "/opt/chromedriver"),
        ("OUTREACH_TEST_PYTHON", "/opt/python"),
        ("OUTREACH_BENCH_SECONDS", "3"),
        // The names the README gave before they moved under OUTREACH_TEST_.
        ("OUTREACH_CHROMIUM", "/opt/chromium"),
        ("OUTREACH_CHROMEDRIVER", "/opt/chromedriver"),
    ];
    let out = outreach_with_env(db, &test_vars, &["--json", "states"]);
    assert!(
        out.status.success(),
        "outreach failed with the test variables set:\n{}",
        stderr(&out)
    );
    let states: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(!states.as_array().unwrap().is_empty());

    // The filter only skips those: a setting that does not exist is still refused by name.
    let mut bad = test_vars.to_vec();
    bad.push(("OUTREACH_TIME_ZON", "Asia/Kathmandu"));
    let out = outreach_with_env(db, &bad, &["states"]);
    assert!(!out.status.success(), "a misspelt setting was accepted");
    assert!(stderr(&out).contains("time_zon"), "{}", stderr(&out));
}
db_test!(
    test_variables_never_collide_with_settings,
    test_variables_leave_the_app_working_and_a_misspelt_setting_still_stops_it
);

/// Queues a job of a kind no handler runs, so the daemon's pass dead-letters it with a warning;
/// returns its id.
async fn a_job_without_a_handler(db: &TestDb) -> String {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let job = outreach_scheduler::jobs::NewJob::new(
        "no_such_kind",
        format!("test:logs:{}", uuid::Uuid::now_v7()),
        chrono::Utc::now(),
        serde_json::json!({}),
    );
    outreach_scheduler::jobs::enqueue(&conn, job).await.unwrap();
    let id = outreach_scheduler::jobs::list(&conn, Some("queued"), Some("no_such_kind"), 10)
        .await
        .unwrap()
        .first()
        .unwrap()
        .id
        .to_string();
    conn.close().await.ok();
    id
}

async fn logs_default_to_info_without_colour_codes_and_can_be_json_lines(db: &TestDb) {
    // Unset (empty) OUTREACH_LOG: the default level, which shows warnings; stderr is a pipe, so
    // no colour codes. The warning names the job it concerns.
    let id = a_job_without_a_handler(db).await;
    let out = outreach_with_env(
        db,
        &[("OUTREACH_LOG", ""), ("NO_COLOR", "")],
        &["scheduler", "--once"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("no handler for its kind"))
        .unwrap_or_else(|| panic!("no warning about the job:\n{err}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&format!("job={id}")), "{line}");
    assert!(
        !err.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {err:?}"
    );

    // OUTREACH_LOG_FORMAT=json: one JSON object per line, the job among its fields.
    let id = a_job_without_a_handler(db).await;
    let out = outreach_with_env(
        db,
        &[("OUTREACH_LOG", ""), ("OUTREACH_LOG_FORMAT", "json")],
        &["scheduler", "--once"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let warning = lines
        .iter()
        .find(|v| v["fields"]["message"] == "job dead-lettered: no handler for its kind")
        .unwrap_or_else(|| panic!("no warning about the job:\n{err}"));
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert_eq!(warning["fields"]["job"], id.as_str(), "{warning}");
    assert_eq!(warning["fields"]["kind"], "no_such_kind", "{warning}");

    // A level that is not a filter falls back to the default and says so, in words.
    let out = outreach_with_env(db, &[("OUTREACH_LOG", "lots=please=now")], &["states"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a log filter; logging at the default level"),
        "{}",
        stderr(&out)
    );
}
db_test!(
    logs,
    logs_default_to_info_without_colour_codes_and_can_be_json_lines
);
