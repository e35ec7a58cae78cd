//! Accounts and confidentiality from the command line: the library checks the acting user's
//! role (`--as`), disabling ends an account's access, `user add` checks everything before it
//! writes, restricted notes are withheld from an uncleared `--as`, and control characters are
//! refused by name.

use outreach_testkit::{TestDb, db_test};

use super::{fails, json, ok, outreach};

async fn accounts_end_and_restricted_notes_follow_the_acting_users_clearance(db: &TestDb) {
    // The first admin, then two staff members; a weak password writes nothing at all.
    ok(db, &["user", "add", "ada", "--role", "admin"]);
    // Once an admin exists, only an admin adds staff (the library checks `--as`).
    let err = fails(db, &["user", "add", "sam", "--email", "sam@example.org"]);
    assert!(err.contains("only admins can add staff members"), "{err}");
    ok(
        db,
        &[
            "--as",
            "ada",
            "user",
            "add",
            "sam",
            "--email",
            "sam@example.org",
        ],
    );
    // Everyone may change their own details, not their role.
    ok(
        db,
        &["--as", "sam", "user", "add", "sam", "--name", "Sam Demo"],
    );
    let err = fails(
        db,
        &["--as", "sam", "user", "add", "sam", "--role", "admin"],
    );
    assert!(err.contains("only admins"), "{err}");
    let weak = {
        use std::io::Write;
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_outreach"));
        c.current_dir(db.dir.path())
            .env("OUTREACH_CONFIG_DIR", db.dir.path().join("config"))
            .env("OUTREACH_USER", "ada")
            .args([
                "--database",
                &db.url,
                "user",
                "add",
                "newbie",
                "--password-stdin",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"password1234\n")
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(!weak.status.success());
    let err = String::from_utf8_lossy(&weak.stderr);
    assert!(err.contains("password: is too easy to guess"), "{err}");
    let users = json(db, &["users"]);
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["handle"] == "newbie"),
        "a refused user add wrote the user: {users}"
    );

    // Staff cannot disable; an admin can, and the JSON says what ended.
    let err = fails(db, &["--as", "sam", "user", "disable", "ada"]);
    assert!(err.contains("only admins can disable accounts"), "{err}");
    let v = json(db, &["--as", "ada", "user", "disable", "sam"]);
    assert_eq!(v["handle"], "sam");
    assert!(v["disabled_at"].is_string(), "{v}");
    assert_eq!(v["tokens_revoked"], 0);
    let err = fails(db, &["--as", "ada", "user", "disable", "ada"]);
    assert!(err.contains("cannot disable their own account"), "{err}");
    let listed = ok(db, &["users"]);
    assert!(listed.contains("disabled"), "{listed}");
    let v = json(db, &["--as", "ada", "user", "enable", "sam"]);
    assert_eq!(v["disabled_at"], serde_json::Value::Null);
    let tokens = json(db, &["--as", "ada", "user", "tokens", "sam"]);
    assert_eq!(tokens, serde_json::json!([]));
    let err = fails(db, &["--as", "sam", "user", "tokens", "ada"]);
    assert!(err.contains("only admins"), "{err}");

    // The audit log is for admins once one exists.
    let err = fails(db, &["--as", "sam", "audit"]);
    assert!(err.contains("only admins can read the audit log"), "{err}");
    let audit = json(db, &["--as", "ada", "audit"]);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "user.disable"),
        "{audit}"
    );

    // A restricted note: withheld from sam, readable once an admin clears sam.
    ok(
        db,
        &[
            "log",
            "military-dialogue",
            "--state",
            "AZE",
            "--summary",
            "Talked stockpile numbers",
        ],
    );
    let shown = json(db, &["--as", "sam", "state", "show", "AZE"]);
    let e = &shown["engagements"][0];
    assert_eq!(e["sensitivity"], "restricted");
    assert_eq!(e["withheld"], true);
    assert!(!shown.to_string().contains("stockpile numbers"), "{shown}");
    ok(
        db,
        &["--as", "ada", "user", "add", "sam", "--cleared", "yes"],
    );
    let shown = json(db, &["--as", "sam", "state", "show", "AZE"]);
    assert!(shown.to_string().contains("Talked stockpile numbers"));
    let err = fails(db, &["user", "add", "sam", "--cleared", "maybe"]);
    assert!(err.contains("--cleared"), "{err}");

    // Control characters: refused with the field named, nothing written.
    let before = json(db, &["state", "show", "NPL"])["engagement_count"].clone();
    let err = fails(
        db,
        &[
            "log",
            "call",
            "--state",
            "NPL",
            "--summary",
            "ring\u{7}ring",
        ],
    );
    assert!(
        err.contains("summary: holds a control character (U+0007)"),
        "{err}"
    );
    let o = outreach(
        db,
        &["log", "call", "--state", "NPL", "--summary", "two\nlines"],
    );
    assert!(o.status.success());
    assert_eq!(
        json(db, &["state", "show", "NPL"])["engagement_count"],
        before.as_u64().unwrap() + 1
    );
}
db_test!(
    accounts_and_clearance,
    accounts_end_and_restricted_notes_follow_the_acting_users_clearance
);
