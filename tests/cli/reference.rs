//! The reference data a coordinator relies on: signals shipped with their sources and
//! confidence, withdrawals stated with their own dates, and who has spoken out against new use.

use std::path::Path;

use outreach_testkit::{TestDb, db_test};
use serde_json::Value;

use super::{fails, iso3s, json, ok};

fn shipped_signals() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference/signals.csv"),
    )
    .unwrap()
}

async fn signals_ship_with_their_sources_and_confidence_and_can_be_filtered(db: &TestDb) {
    let all = json(db, &["signals"]);
    let rows = all.as_array().unwrap();
    // Every row of data/reference/signals.csv, none invented.
    let csv_rows = shipped_signals().lines().count() - 1;
    assert_eq!(rows.len(), csv_rows);
    assert!(rows.iter().all(|r| r["shipped"] == true));
    assert!(
        rows.iter()
            .all(|r| r["source"].as_str().unwrap().starts_with("http"))
    );
    let unconfirmed = rows
        .iter()
        .filter(|r| r["confidence"] == "unconfirmed")
        .count();
    assert_eq!(unconfirmed, 14, "signals.md says 14 rows are unconfirmed");
    // Newest first.
    let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    let used = json(db, &["signals", "--kind", "reported-use"]);
    assert!(!used.as_array().unwrap().is_empty());
    assert!(
        used.as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] == "reported_use")
    );
    assert!(iso3s(&used).contains(&"RUS".to_owned()), "{used}");
    let usa = json(db, &["signals", "--state", "United States"]);
    let usa_kinds: Vec<&str> = usa
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(usa_kinds.contains(&"policy_change"), "{usa_kinds:?}");
    assert!(iso3s(&usa).iter().all(|c| c == "USA"));

    let human = ok(db, &["signals", "--kind", "condemnation"]);
    assert!(human.contains("signals ("), "{human}");

    let err = fails(db, &["signals", "--kind", "rumour"]);
    assert!(
        err.contains("kind") && err.contains("reported-use"),
        "{err}"
    );
}
db_test!(
    shipped_signals,
    signals_ship_with_their_sources_and_confidence_and_can_be_filtered
);

async fn reloading_reference_data_keeps_recorded_signals_and_follows_the_shipped_file(db: &TestDb) {
    ok(
        db,
        &[
            "signal",
            "add",
            "--state",
            "NPL",
            "--kind",
            "unga-vote",
            "--date",
            "2026-12-01",
            "--detail",
            "Voted yes (recorded here)",
            "--value",
            "yes",
        ],
    );
    let again = json(db, &["init"]);
    assert_eq!(again["report"]["signals"]["unchanged"], 40, "{again}");

    // A newer copy drops the last shipped signal and changes one note.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/reference");
    let newer = db.dir.path().join("newer");
    std::fs::create_dir_all(&newer).unwrap();
    for f in ["states.csv", "treaty_events.csv"] {
        std::fs::copy(root.join(f), newer.join(f)).unwrap();
    }
    let text = shipped_signals();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.pop();
    lines[1] = format!("{} (reviewed)", lines[1]);
    std::fs::write(newer.join("signals.csv"), lines.join("\n") + "\n").unwrap();
    let r = json(db, &["init", "--data", newer.to_str().unwrap()]);
    assert_eq!(r["report"]["signals"]["removed"], 1, "{r}");
    assert_eq!(r["report"]["signals"]["updated"], 1, "{r}");
    let all = json(db, &["signals"]);
    assert_eq!(all.as_array().unwrap().len(), 40, "39 shipped + 1 recorded");
    let mine: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["shipped"] == false)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["detail"], "Voted yes (recorded here)");

    // A folder without signals.csv leaves the signals alone.
    std::fs::remove_file(newer.join("signals.csv")).unwrap();
    let r = json(db, &["init", "--data", newer.to_str().unwrap()]);
    assert_eq!(r["report"]["signals"]["removed"], 0, "{r}");
    assert_eq!(json(db, &["signals"]).as_array().unwrap().len(), 40);
}
db_test!(
    reloading_signals,
    reloading_reference_data_keeps_recorded_signals_and_follows_the_shipped_file
);

async fn withdrawals_are_stated_with_their_own_dates(db: &TestDb) {
    let fin = json(db, &["state", "show", "FIN", "--at", "2025-09-01"]);
    assert_eq!(fin["status"], "withdrawing");
    assert_eq!(fin["status_since"], "2025-07-10");
    let human = ok(db, &["state", "show", "FIN", "--at", "2025-09-01"]);
    assert!(human.contains("withdrawing since 2025-07-10"), "{human}");
    assert!(!human.contains("withdrawing since 2012"), "{human}");

    let after = json(db, &["state", "show", "FIN", "--at", "2026-06-01"]);
    assert_eq!(after["status"], "withdrawn");
    assert_eq!(after["status_since"], "2026-01-10");
    let human = ok(db, &["state", "show", "FIN", "--at", "2026-06-01"]);
    assert!(human.contains("withdrawn since 2026-01-10"), "{human}");

    let withdrawn = json(
        db,
        &["states", "--status", "withdrawn", "--at", "2026-06-01"],
    );
    let mut codes = iso3s(&withdrawn);
    codes.sort();
    assert_eq!(codes, ["EST", "FIN", "LTU", "LVA", "POL"]);
    // Withdrawn states count among the states not party, and not as parties.
    let not_party = iso3s(&json(
        db,
        &["states", "--status", "not-party", "--at", "2026-06-01"],
    ));
    assert!(codes.iter().all(|c| not_party.contains(c)));
    let before = json(
        db,
        &["states", "--status", "withdrawn", "--at", "2025-09-01"],
    );
    assert!(iso3s(&before).is_empty(), "{before}");
}
db_test!(withdrawals, withdrawals_are_stated_with_their_own_dates);

async fn the_spoken_up_view_counts_states_parties_with_a_condemnation_on_record(db: &TestDb) {
    let at = "2026-12-01";
    let before = json(db, &["spoken-up", "--at", at]);
    let with = before["count_with"].as_u64().unwrap();
    let without = before["count_without"].as_u64().unwrap();
    let parties = json(db, &["states", "--status", "party", "--at", at]);
    assert_eq!(with + without, parties.as_array().unwrap().len() as u64);
    // The shipped condemnations are by states outside the treaty.
    assert!(
        iso3s(&before["others_with"]).contains(&"USA".to_owned()),
        "{before}"
    );

    // France speaks out: it moves from "without" to "with".
    assert!(iso3s(&before["parties_without"]).contains(&"FRA".to_owned()));
    ok(
        db,
        &[
            "log",
            "statement",
            "--state",
            "FRA",
            "--date",
            "2026-11-20",
            "--summary",
            "Condemned new use of anti-personnel mines at the First Committee",
        ],
    );
    let after = json(db, &["spoken-up", "--at", at]);
    assert_eq!(after["count_with"].as_u64().unwrap(), with + 1);
    assert_eq!(after["count_without"].as_u64().unwrap(), without - 1);
    assert!(iso3s(&after["parties_with"]).contains(&"FRA".to_owned()));
    let human = ok(db, &["spoken-up", "--at", at]);
    assert!(
        human.contains(&format!(
            "{} of {} States Parties",
            with + 1,
            with + without
        )),
        "{human}"
    );
}
db_test!(
    spoken_up,
    the_spoken_up_view_counts_states_parties_with_a_condemnation_on_record
);
