//! End-to-end tests of the letter commands: drafting in French, the lifecycle with versions, a
//! batch with its progress on stderr, and exports, including a `.docx` that LibreOffice converts
//! to PDF with the recipient's name in its text.

use std::path::Path;
use std::process::Command;

use outreach_testkit::{TestDb, db_test};

use super::{fails, json, ok, outreach, stderr, write};

async fn a_letter_goes_from_draft_to_sent_only_through_approval_keeping_every_version(db: &TestDb) {
    ok(db, &["demo"]);
    ok(db, &["user", "add", "lead", "--role", "coordinator"]);
    let d = json(
        db,
        &[
            "letter",
            "draft",
            "joint_approach",
            "--state",
            "NPL",
            "--lang",
            "fr",
        ],
    );
    let body = d["body"].as_str().unwrap();
    assert!(body.contains("Népal"), "{body}");
    assert!(body.contains("Landmine Free Nepal (demo)"), "{body}");
    assert!(body.contains("Asha Demo"), "{body}");
    assert_eq!(d["recipient"], "Ingrid Demo");
    let id = d["short_id"].as_str().unwrap().to_owned();

    let err = fails(db, &["letter", "send", &id]);
    assert!(
        err.contains("only an approved letter can be marked sent"),
        "{err}"
    );

    let file = write(
        db.dir.path(),
        "edited.md",
        &format!("{body}\nP.S. Merci.\n"),
    );
    let edited = json(
        db,
        &[
            "letter",
            "edit",
            &id,
            "--file",
            &file,
            "--note",
            "postscript",
            "--as",
            "maria",
        ],
    );
    assert_eq!(edited["version"], 2);
    ok(db, &["letter", "submit", &id]);
    let approved = json(db, &["letter", "approve", &id, "--as", "lead"]);
    assert_eq!(approved["approved_by"], "lead");
    assert_eq!(approved["approved_version"], 2);
    let out = ok(db, &["letter", "send", &id]);
    assert!(out.contains("sent"), "{out}");

    let shown = json(db, &["letter", "show", &id]);
    assert_eq!(shown["status"], "sent");
    let versions: Vec<(i64, String)> = shown["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["author"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [(1, "tester".to_owned()), (2, "maria".to_owned())]
    );
    let human = ok(db, &["letter", "show", &id]);
    assert!(
        human.contains("postscript") && human.contains("P.S. Merci."),
        "{human}"
    );
    // The demo drafted the letters of its story; this one is among them, sent.
    let list = json(db, &["letter", "list"]);
    let mine: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["short_id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{list}");
    assert_eq!(mine[0]["status"], "sent");

    let err = fails(
        db,
        &[
            "letter",
            "draft",
            "joint_approach",
            "--state",
            "NPL",
            "--lang",
            "de",
        ],
    );
    assert!(
        err.contains("--lang") && err.contains("en, fr or es"),
        "{err}"
    );
    let err = fails(db, &["letter", "draft", "joint_letter", "--state", "NPL"]);
    assert!(err.contains("joint_approach"), "{err}");
}
db_test!(
    letter_lifecycle_through_the_cli,
    a_letter_goes_from_draft_to_sent_only_through_approval_keeping_every_version
);

async fn a_batch_reports_progress_and_skips_states_with_a_condemnation(db: &TestDb) {
    ok(db, &["demo"]);
    ok(
        db,
        &[
            "signal",
            "add",
            "--state",
            "NOR",
            "--kind",
            "condemnation",
            "--date",
            "2025-06-18",
            "--detail",
            "Condemned new use",
        ],
    );
    let parties = json(db, &["states", "--status", "party"]);
    let parties = parties.as_array().unwrap().len();
    let o = outreach(
        db,
        &[
            "--json",
            "letter",
            "batch",
            "call_to_speak_out",
            "--audience",
            "states-parties-without-condemnation",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let progress = stderr(&o);
    assert!(
        progress.contains(&format!("progress: {}/{}", parties - 1, parties - 1)),
        "{progress}"
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Norway has a condemnation on record; France already holds the demo's open call to speak
    // out: both are skipped, each with its reason.
    assert_eq!(report["drafted"].as_array().unwrap().len(), parties - 2);
    let skipped = report["skipped"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = skipped
        .iter()
        .map(|s| (s["iso3"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.contains(&("NOR", "a condemnation is on record")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(iso3, why)| *iso3 == "FRA" && why.contains("already open")),
        "{reasons:?}"
    );
    let err = fails(
        db,
        &[
            "letter",
            "batch",
            "call_to_speak_out",
            "--audience",
            "everyone",
        ],
    );
    assert!(err.contains("states-parties-without-condemnation"), "{err}");
}
db_test!(
    letter_batch_through_the_cli,
    a_batch_reports_progress_and_skips_states_with_a_condemnation
);

/// Converts `docx` to PDF with LibreOffice and returns the PDF's text. LibreOffice and
/// pdftotext are required: `.ci/run` installs them; without them this fails, never skips.
fn docx_to_pdf_text(docx: &Path) -> String {
    let dir = docx.parent().unwrap();
    let profile = dir.join("lo-profile");
    let o = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(docx)
        .output()
        .expect("LibreOffice (soffice) is needed for this test: apt-get install libreoffice-writer (.ci/run does)");
    assert!(
        o.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let pdf = docx.with_extension("pdf");
    assert!(
        pdf.is_file(),
        "no PDF: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let t = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext is needed for this test: apt-get install poppler-utils (.ci/run does)");
    assert!(t.status.success());
    String::from_utf8_lossy(&t.stdout).into_owned()
}

async fn an_exported_docx_converts_to_pdf_with_the_recipients_name(db: &TestDb) {
    ok(db, &["demo"]);
    let d = json(
        db,
        &[
            "letter",
            "draft",
            "call_to_join",
            "--state",
            "AZE",
            "--lang",
            "es",
        ],
    );
    let id = d["short_id"].as_str().unwrap().to_owned();
    assert_eq!(d["recipient"], "Elnur Demo");
    // A draft can be exported as a preview; it stays a draft.
    let md = ok(db, &["letter", "export", &id, "--out", "-"]);
    assert!(
        md.contains("Azerbaiyán") && md.contains("International Campaign to Ban Landmines (demo)"),
        "{md}"
    );
    assert_eq!(json(db, &["letter", "show", &id])["status"], "draft");
    let html = db.dir.path().join("letter.html");
    ok(
        db,
        &[
            "letter",
            "export",
            &id,
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        // The name line carries the contact's title, as the letter's first line does.
        page.contains("<p>Colonel Elnur Demo<br>") && page.contains("lang=\"es\""),
        "{page}"
    );

    ok(db, &["letter", "submit", &id]);
    // The author (tester, staff) cannot approve; a coordinator who did not write it can.
    let err = fails(db, &["letter", "approve", &id]);
    assert!(
        err.contains("only coordinators can approve letters"),
        "{err}"
    );
    ok(db, &["user", "add", "lead", "--role", "coordinator"]);
    ok(db, &["letter", "approve", &id, "--as", "lead"]);
    let docx = db.dir.path().join("letter.docx");
    let done = json(
        db,
        &[
            "letter",
            "export",
            &id,
            "--format",
            "docx",
            "--out",
            docx.to_str().unwrap(),
        ],
    );
    assert_eq!(done["letter"]["status"], "exported");
    let text = docx_to_pdf_text(&docx);
    assert!(text.contains("Elnur Demo"), "{text}");
    assert!(text.contains("Azerbaiyán"), "{text}");
    // An exported letter can still be marked sent once it is posted.
    assert_eq!(json(db, &["letter", "send", &id])["status"], "sent");
}
db_test!(
    letter_docx_export_through_libreoffice,
    an_exported_docx_converts_to_pdf_with_the_recipients_name
);

async fn a_call_to_join_cites_the_related_treaties_the_state_has_joined(db: &TestDb) {
    ok(db, &["demo"]);
    // Lao PDR: party to the Convention on Cluster Munitions (2009) and CCW Protocol V (2012),
    // not to the Mine Ban Treaty.
    let draft = |state: &str, lang: &str| -> String {
        let d = json(
            db,
            &[
                "letter",
                "draft",
                "call_to_join",
                "--state",
                state,
                "--lang",
                lang,
            ],
        );
        d["body"].as_str().unwrap().to_owned()
    };
    let en = draft("LAO", "en");
    assert!(
        en.contains(
            "Already a party to the Convention on Cluster Munitions and Protocol V on \
             Explosive Remnants of War"
        ),
        "{en}"
    );
    let fr = draft("LAO", "fr");
    assert!(
        fr.contains("à la Convention sur les armes à sous-munitions et au Protocole relatif"),
        "{fr}"
    );
    let es = draft("LAO", "es");
    assert!(
        es.contains("en la Convención sobre Municiones en Racimo y el Protocolo sobre"),
        "{es}"
    );
    // The United States: CCW Protocol V only.
    let usa = draft("USA", "en");
    assert!(
        usa.contains("Already a party to Protocol V on Explosive Remnants of War")
            && !usa.contains("Cluster Munitions"),
        "{usa}"
    );
    // Nepal has joined neither: no such sentence.
    let npl = draft("NPL", "en");
    assert!(!npl.contains("Already a party"), "{npl}");
}
db_test!(
    call_to_join_related_treaties,
    a_call_to_join_cites_the_related_treaties_the_state_has_joined
);

async fn an_observer_invitation_recalls_the_states_earlier_attendance_in_its_language(db: &TestDb) {
    ok(db, &["demo"]);
    let draft = |lang: &str| -> serde_json::Value {
        json(
            db,
            &[
                "letter",
                "draft",
                "observer_invitation",
                "--state",
                "USA",
                "--lang",
                lang,
            ],
        )
    };
    let en = draft("en");
    let (subject, body) = (
        en["subject"].as_str().unwrap(),
        en["body"].as_str().unwrap(),
    );
    assert_eq!(
        subject,
        "Invitation to the United States to attend the Meeting of the States Parties as an observer"
    );
    // The shipped signals: the United States attended Cartagena (2009) and Maputo (2014).
    assert!(
        body.contains("Second Review Conference (Cartagena)"),
        "{body}"
    );
    assert!(body.contains("Third Review Conference (Maputo)"), "{body}");
    let fr = draft("fr");
    assert!(
        fr["subject"]
            .as_str()
            .unwrap()
            .starts_with("Invitation aux États-Unis à participer"),
        "{fr}"
    );
    let es = draft("es");
    assert!(
        es["body"]
            .as_str()
            .unwrap()
            .contains("invitar a los Estados Unidos a asistir como observador"),
        "{es}"
    );
}
db_test!(
    observer_invitation,
    an_observer_invitation_recalls_the_states_earlier_attendance_in_its_language
);
