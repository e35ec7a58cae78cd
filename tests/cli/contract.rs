//! The JSON API keeps to the OpenAPI document it serves. `outreach serve` runs on the demo data
//! (SQLite, then PostgreSQL) and schemathesis, a property-based API tester from outside the
//! project, sends it requests made from the document with a fixed seed: no answer may be a
//! server error, disagree with the document (status, content type, body), or refuse a request
//! the document calls valid.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use outreach_testkit::TestDb;

use super::team::{Running, api_token};
use super::{command, ok};

/// schemathesis from the test venv: beside `OUTREACH_TEST_PYTHON`, which `./test` sets up.
fn schemathesis() -> std::path::PathBuf {
    let python = std::env::var("OUTREACH_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "OUTREACH_TEST_PYTHON is not set: run ./test (or ./test --setup-only, then export the \
             variable it prints), which makes .venv-test with schemathesis"
        )
    });
    let bin = std::path::Path::new(&python).with_file_name("schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: ./test --setup-only installs schemathesis in the test venv",
        bin.display()
    );
    bin
}

async fn the_api_keeps_to_its_openapi_document(db: &TestDb) {
    let st = schemathesis();
    ok(db, &["demo"]);
    let mut web = command(db, &[], &["serve", "--without-scheduler", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(web.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    let base = loop {
        let Some(line) = lines.next() else {
            panic!(
                "serve stopped before it printed its address:\n{}",
                said.join("\n")
            );
        };
        let line = line.unwrap();
        said.push(line.clone());
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let web = Running::new(web, "the web app");
    // On a database no one can sign in to yet, serve made the acting handle the first admin:
    // an admin reaches every operation.
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let token = api_token(&conn, "tester").await;

    // The document as a client reads it: with the token.
    let doc = reqwest::Client::new()
        .get(format!("{base}/api/openapi.json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), reqwest::StatusCode::OK);
    let path = db.dir.path().join("openapi.json");
    std::fs::write(&path, doc.text().await.unwrap()).unwrap();

    let out = Command::new(&st)
        .current_dir(db.dir.path())
        .args(["run", path.to_str().unwrap(), "--url", &base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,positive_data_acceptance",
        ])
        .args([
            "--mode",
            "positive",
            "--seed",
            "20261207",
            "--max-examples",
            "30",
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--workers", "2"])
        .args(["--no-color", "--warnings", "off"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    web.stop();
    assert!(
        out.status.success(),
        "schemathesis found requests the API answers against its document:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It really ran: every operation was tested.
    assert!(report.contains("passed"), "{report}");
}
outreach_testkit::db_test!(api_contract, the_api_keeps_to_its_openapi_document);
