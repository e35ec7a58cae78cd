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
