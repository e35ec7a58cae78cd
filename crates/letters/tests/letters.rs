//! Database tests of outreach-letters: every test runs on a fresh SQLite file and on a fresh
//! PostgreSQL database (see `outreach_testkit::db_test!`), with the shipped reference data and
//! the demo data set (Nepal: a grantee with a contact, an embassy contact, two engagements).

// Test code: an unwrap that panics is a failed assertion.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use outreach_core::Actor;
use outreach_core::db;
use outreach_core::demo;
use outreach_core::directory::{self, ContactInput};
use outreach_core::domain::IanaZone;
use outreach_core::engagements::{self, EngagementInput};
use outreach_core::posts::{self, PostInput};
use outreach_core::signals::{self, SignalInput};
use outreach_core::states;
use outreach_core::status::StatusFilter;
use outreach_letters::LetterSettings;
use outreach_letters::batch::{self, Audience};
use outreach_letters::drafts::{self, DraftRequest, Letters};
use outreach_letters::entities::{letter, letter_version};
use outreach_letters::merge::{self, Records};
use outreach_letters::{Error, LetterTemplates};
use outreach_mailer::locale::Lang;
use outreach_testkit::TestDb;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

fn actor(handle: &str) -> Actor {
    Actor::new(handle, IanaZone::parse("tz", "UTC").unwrap()).unwrap()
}

fn letters() -> Letters {
    Letters {
        templates: LetterTemplates::embedded().unwrap(),
        settings: LetterSettings {
            sender_name: "Maria Tester".into(),
            ..LetterSettings::default()
        },
        treaty: "APMBC".into(),
    }
}

/// Reference data and the demo data set.
async fn open_with_demo(db: &TestDb) -> DatabaseConnection {
    let conn = db::open(&db.url, "tester").await.unwrap();
    demo::load(&conn, &actor("tester")).await.unwrap();
    conn
}

fn draft_request(template: &str, state: &str, lang: Option<&str>) -> DraftRequest {
    DraftRequest {
        template: template.into(),
        state: state.into(),
        to: None,
        lang: lang.map(Into::into),
        signal: None,
    }
}

#[test]
fn the_shipped_templates_pass_the_check() {
    let t = LetterTemplates::embedded().unwrap();
    let names: Vec<String> = t.list().into_iter().map(|i| i.name).collect();
    for wanted in [
        "joint_approach",
        "call_to_join",
        "call_to_speak_out",
        "thanks",
        "follow_up_after_meeting",
        "observer_invitation",
    ] {
        assert!(names.iter().any(|n| n == wanted), "{names:?}");
    }
    for info in t.list() {
        assert_eq!(info.languages, ["en", "es", "fr"], "{}", info.name);
    }
}

#[test]
fn a_template_using_a_field_its_context_lacks_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("letters/call_to_join");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("en.hbs"),
        "+++\ntitle = \"x\"\ndescription = \"x\"\naudience = \"x\"\nsubject = \"s\"\n\
         required = [\"state.name\"]\nlanguages = [\"en\"]\n+++\n{{state.nmae}}\n",
    )
    .unwrap();
    let err = LetterTemplates::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("state.nmae"), "{err}");
}

async fn a_joint_approach_for_nepal_names_the_state_the_grantee_its_contact_and_the_latest_engagement_check(
    db: &TestDb,
) {
    let conn = open_with_demo(db).await;
    let l = letters();
    let en = drafts::draft(
        &conn,
        &actor("maria"),
        &l,
        &draft_request("joint_approach", "NPL", Some("en")),
    )
    .await
    .unwrap();
    assert_eq!(en.status, "draft");
    assert_eq!(en.version, 1);
    assert_eq!(
        en.recipient, "Ingrid Demo",
        "the embassy contact in Nepal by default"
    );
    for expected in [
        "Nepal",
        "Landmine Free Nepal (demo)",
        "Asha Demo",
        "Meeting at the Ministry of Foreign Affairs in Kathmandu (demo)",
        "Dear Ms Demo,",
        "Maria Tester",
    ] {
        assert!(
            en.body.contains(expected),
            "missing {expected:?} in:\n{}",
            en.body
        );
    }
    // Letters cite public engagements only: the internal embassy briefing stays out.
    assert!(
        !en.body.contains("Briefed the Norwegian embassy"),
        "an internal engagement was cited:\n{}",
        en.body
    );

    let fr = drafts::draft(
        &conn,
        &actor("maria"),
        &l,
        &draft_request("joint_approach", "NPL", Some("fr")),
    )
    .await
    .unwrap();
    assert_eq!(fr.language, "fr");
    assert!(fr.body.contains("Népal"), "{}", fr.body);
    assert!(fr.subject.contains("Népal"), "{}", fr.subject);
    assert!(fr.body.contains("Madame,"), "{}", fr.body);
    let today = actor("maria").today();
    let french_date = Lang::Fr.long_date(today);
    assert!(
        fr.body.contains(&format!("le {french_date}")),
        "{}",
        fr.body
    );
    let french_months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    assert!(
        french_months.iter().any(|m| french_date.contains(m)),
        "{french_date}"
    );
    // The engagement dates are in French too: 20 days ago, written out.
    let engaged = today - chrono::Days::new(20);
    assert!(
        fr.body.contains(&Lang::Fr.long_date(engaged)),
        "{}",
        fr.body
    );
}
outreach_testkit::db_test!(
    a_joint_approach_for_nepal_names_the_state_the_grantee_its_contact_and_the_latest_engagement,
    a_joint_approach_for_nepal_names_the_state_the_grantee_its_contact_and_the_latest_engagement_check
);

async fn a_draft_missing_required_fields_lists_them_all_and_writes_nothing_check(db: &TestDb) {
    let conn = db::open(&db.url, "tester").await.unwrap();
    // No demo data: Tuvalu has no embassy contact, no partner and no engagement.
    let err = drafts::draft(
        &conn,
        &actor("maria"),
        &letters(),
        &draft_request("joint_approach", "NPL", None),
    )
    .await
    .unwrap_err();
    let Error::MissingFields { missing, .. } = &err else {
        panic!("expected MissingFields, got {err}");
    };
    let fields: Vec<&str> = missing.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "recipient.name",
            "partner.organisation",
            "partner.contact",
            "engagements"
        ],
        "{err}"
    );
    assert!(err.to_string().contains("outreach contact add"), "{err}");
    assert_eq!(letter::Entity::find().count(&conn).await.unwrap(), 0);
    assert_eq!(
        letter_version::Entity::find().count(&conn).await.unwrap(),
        0
    );
}
outreach_testkit::db_test!(
    a_draft_missing_required_fields_lists_them_all_and_writes_nothing,
    a_draft_missing_required_fields_lists_them_all_and_writes_nothing_check
);

async fn a_call_to_speak_out_batch_writes_once_to_each_state_party_without_a_condemnation_check(
    db: &TestDb,
) {
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    signals::add(
        &conn,
        &a,
        &SignalInput {
            state: "NOR".into(),
            kind: "condemnation".into(),
            date: "2025-06-18".into(),
            detail: "Condemned new use at the intersessional meetings".into(),
            value: None,
            source: None,
        },
    )
    .await
    .unwrap();
    engagements::log(
        &conn,
        &a,
        &EngagementInput {
            state: "CAN".into(),
            kind: "statement".into(),
            date: Some("2025-12-01".into()),
            summary: Some("Statement condemning any new use".into()),
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();
    let parties: BTreeSet<String> =
        states::by_status(&conn, "APMBC", StatusFilter::Party, a.today())
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.iso3)
            .collect();
    assert!(parties.contains("NOR") && parties.contains("CAN"));
    let mut calls = 0;
    let report = batch::batch(
        &conn,
        &a,
        &letters(),
        "call_to_speak_out",
        &Audience::parse("states-parties-without-condemnation").unwrap(),
        None,
        &mut |_, _| calls += 1,
    )
    .await
    .unwrap();
    let drafted: Vec<&str> = report.drafted.iter().map(|d| d.iso3.as_str()).collect();
    let unique: BTreeSet<&str> = drafted.iter().copied().collect();
    assert_eq!(unique.len(), drafted.len(), "one letter per state");
    let expected: BTreeSet<&str> = parties
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "NOR" && *c != "CAN")
        .collect();
    assert_eq!(unique, expected);
    let skipped: BTreeSet<&str> = report.skipped.iter().map(|s| s.iso3.as_str()).collect();
    assert_eq!(skipped, BTreeSet::from(["CAN", "NOR"]));
    assert!(
        report
            .skipped
            .iter()
            .all(|s| s.reason.contains("condemnation"))
    );
    assert_eq!(calls, expected.len());
    let batch_audit = outreach_core::audit::recent(&conn, 5).await.unwrap();
    assert_eq!(batch_audit[0].action, "letter.batch");
    assert_eq!(batch_audit[0].entity_id, report.batch_id.to_string());
    assert_eq!(
        letter::Entity::find().count(&conn).await.unwrap(),
        expected.len() as u64
    );
    // Running it again drafts nothing new: every letter is still open.
    let again = batch::batch(
        &conn,
        &a,
        &letters(),
        "call_to_speak_out",
        &Audience::StatesPartiesWithoutCondemnation,
        None,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert!(again.drafted.is_empty());
    assert!(
        again
            .skipped
            .iter()
            .any(|s| s.reason.contains("already open"))
    );
}
outreach_testkit::db_test!(
    a_call_to_speak_out_batch_writes_once_to_each_state_party_without_a_condemnation,
    a_call_to_speak_out_batch_writes_once_to_each_state_party_without_a_condemnation_check
);

async fn a_letter_is_sent_only_after_approval_and_every_version_is_kept_check(db: &TestDb) {
    let conn = open_with_demo(db).await;
    let l = letters();
    let maria = actor("maria");
    let lead = actor("lead");
    outreach_core::actor::upsert_user(
        &conn,
        &lead,
        &outreach_core::actor::UserInput {
            handle: "lead".into(),
            role: Some("coordinator".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let d = drafts::draft(
        &conn,
        &maria,
        &l,
        &draft_request("call_to_join", "NPL", None),
    )
    .await
    .unwrap();
    // The number of States Parties is derived from the treaty events, not written in the template.
    let parties = states::by_status(&conn, "APMBC", StatusFilter::Party, maria.today())
        .await
        .unwrap()
        .len();
    assert!(
        d.body
            .contains(&format!("{parties} states have joined it since")),
        "{}",
        d.body
    );
    assert!(
        d.body.contains("Dear Mr Demo,"),
        "the ministry contact: {}",
        d.body
    );
    let id = d.short_id.clone();
    let err = drafts::mark_sent(&conn, &maria, &id)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only an approved letter can be marked sent"),
        "{err}"
    );
    let edited = drafts::edit(
        &conn,
        &maria,
        &id,
        None,
        &format!("{}\nP.S. Edited.\n", d.body),
        Some("added a postscript"),
    )
    .await
    .unwrap();
    assert_eq!(edited.version, 2);
    drafts::submit(&conn, &maria, &id).await.unwrap();
    let err = drafts::mark_sent(&conn, &maria, &id)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("in review"), "{err}");
    // Staff (maria here) cannot approve, whatever the front end.
    let err = drafts::approve(&conn, &maria, &id, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only coordinators can approve letters"),
        "{err}"
    );
    let approved = drafts::approve(&conn, &lead, &id, true).await.unwrap();
    assert_eq!(approved.approved_by.as_deref(), Some("lead"));
    assert_eq!(approved.approved_version, Some(2));
    // An edit after approval makes a new version and needs a new approval.
    let third = drafts::edit(
        &conn,
        &lead,
        &id,
        Some("New subject"),
        "Short text.\n",
        None,
    )
    .await
    .unwrap();
    assert_eq!((third.version, third.status.as_str()), (3, "draft"));
    assert_eq!(third.approved_by, None);
    assert!(drafts::mark_sent(&conn, &maria, &id).await.is_err());
    drafts::submit(&conn, &maria, &id).await.unwrap();
    // Four eyes: lead wrote version 3, so lead does not approve it; without the rule lead may.
    let err = drafts::approve(&conn, &lead, &id, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("four eyes: lead wrote version 3"), "{err}");
    drafts::approve(&conn, &lead, &id, false).await.unwrap();
    let sent = drafts::mark_sent(&conn, &maria, &id).await.unwrap();
    assert_eq!(sent.status, "sent");
    assert!(sent.sent_at.is_some());
    let versions: Vec<(i32, &str)> = sent
        .versions
        .iter()
        .map(|v| (v.version, v.author.as_str()))
        .collect();
    assert_eq!(versions, [(1, "maria"), (2, "maria"), (3, "lead")]);
    assert_eq!(sent.versions[0].body, d.body);
    assert!(sent.versions[1].body.contains("P.S. Edited."));
    assert_eq!(sent.versions[1].note, "added a postscript");
    assert_eq!(sent.subject, "New subject");
    let logged = engagements::for_state(
        &conn,
        "NPL",
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    let letter_engagement = logged.iter().find(|e| e.kind == "letter").unwrap();
    assert!(
        letter_engagement.summary.contains("New subject"),
        "{letter_engagement:?}"
    );
    let err = drafts::edit(&conn, &maria, &id, None, "x", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be edited"), "{err}");
    let audit: Vec<String> = outreach_core::audit::recent(&conn, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entity == "letter")
        .map(|r| r.action)
        .collect();
    for action in [
        "letter.draft",
        "letter.edit",
        "letter.in_review",
        "letter.approved",
        "letter.sent",
    ] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
}
outreach_testkit::db_test!(
    a_letter_is_sent_only_after_approval_and_every_version_is_kept,
    a_letter_is_sent_only_after_approval_and_every_version_is_kept_check
);

async fn thanks_and_follow_up_letters_cite_the_statement_and_the_meeting_check(db: &TestDb) {
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    engagements::log(
        &conn,
        &a,
        &EngagementInput {
            state: "AZE".into(),
            kind: "statement".into(),
            date: Some("2026-06-18".into()),
            summary: Some("Statement welcoming the clearance standards".into()),
            sensitivity: Some("public".into()),
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();
    let thanks = drafts::draft(
        &conn,
        &a,
        &letters(),
        &draft_request("thanks", "AZE", Some("es")),
    )
    .await
    .unwrap();
    assert!(
        thanks.body.contains("18 de junio de 2026"),
        "{}",
        thanks.body
    );
    assert!(
        thanks.body.contains("Statement welcoming"),
        "{}",
        thanks.body
    );
    assert!(thanks.subject.contains("Azerbaiyán"), "{}", thanks.subject);
    let follow = drafts::draft(
        &conn,
        &a,
        &letters(),
        &DraftRequest {
            to: Some("ram@mofa-demo.example.org".into()),
            ..draft_request("follow_up_after_meeting", "NPL", Some("en"))
        },
    )
    .await
    .unwrap();
    assert_eq!(follow.recipient, "Ram Demo");
    assert!(follow.body.contains("Dear Mr Demo,"), "{}", follow.body);
    assert!(
        follow
            .body
            .contains("Ministry asked for the Convention text in Nepali"),
        "{}",
        follow.body
    );
    // India has no engagement of kind statement and no policy step: nothing to thank it for.
    let err = drafts::draft(&conn, &a, &letters(), &draft_request("thanks", "IND", None))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("occasion"), "{err}");
    // The United States has no statement logged; its shipped signals hold a 2023 condemnation
    // and, newer, a 2025 "policy change" reporting transfers of mines: the letter thanks it for
    // the condemnation, never for the transfers.
    let usa = drafts::draft(
        &conn,
        &a,
        &letters(),
        &draft_request("thanks", "USA", Some("en")),
    )
    .await
    .unwrap();
    assert!(usa.body.contains("15 November 2023"), "{}", usa.body);
    assert!(!usa.body.contains("transferred"), "{}", usa.body);
}
outreach_testkit::db_test!(
    thanks_and_follow_up_letters_cite_the_statement_and_the_meeting,
    thanks_and_follow_up_letters_cite_the_statement_and_the_meeting_check
);

async fn a_joint_approach_batch_writes_to_every_embassy_contact_in_the_state_check(db: &TestDb) {
    let conn = open_with_demo(db).await;
    let report = batch::batch(
        &conn,
        &actor("maria"),
        &letters(),
        "joint_approach",
        &Audience::parse("embassies-in:npl").unwrap(),
        Some("fr"),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let to: Vec<(&str, &str, &str)> = report
        .drafted
        .iter()
        .map(|d| (d.iso3.as_str(), d.recipient.as_str(), d.language.as_str()))
        .collect();
    assert_eq!(to, [("NPL", "Ingrid Demo", "fr")]);
    // India has no embassy contact in the demo data: the batch says so instead of failing.
    let none = batch::batch(
        &conn,
        &actor("maria"),
        &letters(),
        "joint_approach",
        &Audience::EmbassiesIn("IND".into()),
        None,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert!(none.drafted.is_empty());
    assert!(
        none.skipped[0]
            .reason
            .contains("no contact at an embassy in IND"),
        "{none:?}"
    );
    let err = Audience::parse("embassies").unwrap_err().to_string();
    assert!(
        err.starts_with("--audience:") && err.contains("embassies-in:ISO3"),
        "{err}"
    );
}
outreach_testkit::db_test!(
    a_joint_approach_batch_writes_to_every_embassy_contact_in_the_state,
    a_joint_approach_batch_writes_to_every_embassy_contact_in_the_state_check
);

async fn no_letter_or_export_cites_internal_or_restricted_notes_check(db: &TestDb) {
    use outreach_letters::export::{self, Format};
    use std::io::Read;
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    let secrets = [
        "General staff hinted at a stockpile review",
        "Readout: the deputy minister is sceptical",
        "Internal call: the ambassador is leaving",
        "Ask the colonel for the transfer records",
    ];
    for iso3 in ["NPL", "NOR"] {
        let dialogue = engagements::log(
            &conn,
            &a,
            &EngagementInput {
                state: iso3.into(),
                kind: "military_dialogue".into(),
                summary: Some(secrets[0].into()),
                outcome: Some(secrets[1].into()),
                ..EngagementInput::default()
            },
        )
        .await
        .unwrap();
        engagements::log(
            &conn,
            &a,
            &EngagementInput {
                state: iso3.into(),
                kind: "statement".into(),
                summary: Some(secrets[2].into()),
                ..EngagementInput::default()
            },
        )
        .await
        .unwrap();
        outreach_core::followups::add(
            &conn,
            &a,
            &outreach_core::followups::FollowUpInput {
                description: secrets[3].into(),
                engagement: Some(dialogue.id.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    // A public statement gives the thanks letter its occasion.
    engagements::log(
        &conn,
        &a,
        &EngagementInput {
            state: "NPL".into(),
            kind: "statement".into(),
            summary: Some("Public statement welcoming the Convention".into()),
            sensitivity: Some("public".into()),
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();
    let l = letters();
    let cases = [
        ("joint_approach", "NPL", None),
        ("call_to_join", "NPL", None),
        ("thanks", "NPL", None),
        (
            "follow_up_after_meeting",
            "NPL",
            Some("ram@mofa-demo.example.org"),
        ),
        ("call_to_speak_out", "NOR", None),
        ("observer_invitation", "NPL", None),
    ];
    let templates: BTreeSet<String> = l.templates.list().into_iter().map(|i| i.name).collect();
    assert_eq!(
        templates,
        cases.iter().map(|c| c.0.to_owned()).collect(),
        "every template is checked"
    );
    for (template, state, to) in cases {
        for lang in ["en", "fr", "es"] {
            let draft = drafts::draft(
                &conn,
                &a,
                &l,
                &DraftRequest {
                    to: to.map(Into::into),
                    ..draft_request(template, state, Some(lang))
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{template} {state} {lang}: {e}"));
            let view = drafts::show(&conn, &draft.id.to_string()).await.unwrap();
            let mut outputs = vec![
                format!("{}\n{}", view.subject, view.body),
                String::from_utf8(export::render(&view, &l.settings, Format::Markdown).unwrap())
                    .unwrap(),
                String::from_utf8(export::render(&view, &l.settings, Format::Html).unwrap())
                    .unwrap(),
            ];
            let docx = export::render(&view, &l.settings, Format::Docx).unwrap();
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
            let mut xml = String::new();
            archive
                .by_name("word/document.xml")
                .unwrap()
                .read_to_string(&mut xml)
                .unwrap();
            assert!(xml.contains("<w:t"), "the docx has the letter's text");
            outputs.push(xml);
            for (i, out) in outputs.iter().enumerate() {
                for s in secrets {
                    assert!(
                        !out.contains(s),
                        "{template} {state} {lang} output {i} cites {s:?}:\n{out}"
                    );
                }
            }
        }
    }
    // A control character in an edit is refused by field: exports stay well-formed.
    let d = drafts::draft(&conn, &a, &l, &draft_request("call_to_join", "NPL", None))
        .await
        .unwrap();
    let err = drafts::edit(&conn, &a, &d.short_id, None, "Dear\u{1} Sir", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("body: holds a control character (U+0001)"),
        "{err}"
    );
    let kept = drafts::show(&conn, &d.short_id).await.unwrap();
    assert_eq!(kept.version, 1, "nothing was written");
}
outreach_testkit::db_test!(
    no_letter_or_export_cites_internal_or_restricted_notes,
    no_letter_or_export_cites_internal_or_restricted_notes_check
);

/// Whether `text` says "H.E." anywhere: French and Spanish letters never do.
fn says_h_e(text: &str) -> bool {
    text.contains("H.E.")
}

async fn the_call_to_speak_out_batch_writes_to_each_minister_by_office_in_the_states_language_check(
    db: &TestDb,
) {
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    let report = batch::batch(
        &conn,
        &a,
        &letters(),
        "call_to_speak_out",
        &Audience::StatesPartiesWithoutCondemnation,
        None,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let language_of = |iso3: &str| {
        report
            .drafted
            .iter()
            .find(|d| d.iso3 == iso3)
            .unwrap_or_else(|| panic!("no letter to {iso3}: {:?}", report.skipped))
            .clone()
    };
    // Addressed by office (the directory has no contact at these ministries), each letter is
    // in the state's language of correspondence.
    for (iso3, lang) in [
        ("FRA", "fr"),
        ("SEN", "fr"),
        ("MEX", "es"),
        ("ARG", "es"),
        ("ESP", "es"),
        ("NOR", "en"),
    ] {
        assert_eq!(language_of(iso3).language, lang, "{iso3}");
    }
    let show = |iso3: &str| {
        let id = language_of(iso3).id.to_string();
        let conn = conn.clone();
        async move { drafts::show(&conn, &id).await.unwrap() }
    };
    let france = show("FRA").await;
    for expected in [
        "Son Excellence Monsieur le Ministre / Madame la Ministre des Affaires étrangères",
        "Ministère des Affaires étrangères de la France",
        "Excellence,",
        "au Gouvernement de la France",
        "de la part de la France",
        "qui lie la France",
        "notre appui à la France",
        "Votre Excellence",
    ] {
        assert!(
            france.body.contains(expected),
            "missing {expected:?} in:\n{}",
            france.body
        );
    }
    assert!(
        france.subject.contains("de la part de la France"),
        "{}",
        france.subject
    );
    assert!(!says_h_e(&france.body), "{}", france.body);
    let mexico = show("MEX").await;
    for expected in [
        "Su Excelencia el Ministro / la Ministra de Relaciones Exteriores",
        "Ministerio de Relaciones Exteriores de México",
        "al Gobierno de México",
        "Vuestra Excelencia",
    ] {
        assert!(
            mexico.body.contains(expected),
            "missing {expected:?} in:\n{}",
            mexico.body
        );
    }
    assert!(!says_h_e(&mexico.body), "{}", mexico.body);
    // Spanish contracts "de el" and "a el".
    let ecuador = show("ECU").await;
    assert_eq!(ecuador.language, "es");
    assert!(
        ecuador.body.contains("al Gobierno del Ecuador"),
        "{}",
        ecuador.body
    );
    assert!(
        ecuador.body.contains("obliga al Ecuador"),
        "{}",
        ecuador.body
    );
    // English names carry their article; "H.E." stays English.
    let uk = show("GBR").await;
    assert_eq!(uk.language, "en");
    assert!(
        uk.body
            .contains("Ministry of Foreign Affairs of the United Kingdom"),
        "{}",
        uk.body
    );
    assert!(
        uk.body.contains("statement by the United Kingdom"),
        "{}",
        uk.body
    );
}
outreach_testkit::db_test!(
    the_call_to_speak_out_batch_writes_to_each_minister_by_office_in_the_states_language,
    the_call_to_speak_out_batch_writes_to_each_minister_by_office_in_the_states_language_check
);

async fn state_names_take_their_article_and_contraction_in_each_language_check(db: &TestDb) {
    let conn = open_with_demo(db).await;
    let l = letters();
    let draft = |lang: Option<&'static str>| {
        let conn = conn.clone();
        let l = &l;
        async move {
            drafts::draft(
                &conn,
                &actor("maria"),
                l,
                &draft_request("call_to_join", "USA", lang),
            )
            .await
            .unwrap()
        }
    };
    let en = draft(None).await;
    assert_eq!(
        en.language, "en",
        "the United States are written to in English"
    );
    assert_eq!(
        en.subject,
        "Accession of the United States to the Mine Ban Treaty"
    );
    for expected in [
        "His or Her Excellency the Minister for Foreign Affairs",
        "Ministry of Foreign Affairs of the United States",
        "invite the United States to accede",
        "Your Excellency,",
    ] {
        assert!(
            en.body.contains(expected),
            "missing {expected:?} in:\n{}",
            en.body
        );
    }
    // The language asked for wins over the state's; the names follow it.
    let fr = draft(Some("fr")).await;
    assert_eq!(
        fr.subject,
        "Adhésion des États-Unis à la Convention sur l'interdiction des mines antipersonnel"
    );
    for expected in [
        "Ministère des Affaires étrangères des États-Unis",
        "d'inviter les États-Unis à adhérer",
        "l'adhésion des États-Unis",
        "notre appui aux États-Unis",
        "Son Excellence",
    ] {
        assert!(
            fr.body.contains(expected),
            "missing {expected:?} in:\n{}",
            fr.body
        );
    }
    assert!(!says_h_e(&fr.body), "{}", fr.body);
    let es = draft(Some("es")).await;
    for expected in [
        "Ministerio de Relaciones Exteriores de los Estados Unidos",
        "invitar a los Estados Unidos a adherirse",
        "la adhesión de los Estados Unidos",
        "colaborar con los Estados Unidos",
        "Su Excelencia",
    ] {
        assert!(
            es.body.contains(expected),
            "missing {expected:?} in:\n{}",
            es.body
        );
    }
    assert!(!says_h_e(&es.body), "{}", es.body);
}
outreach_testkit::db_test!(
    state_names_take_their_article_and_contraction_in_each_language,
    state_names_take_their_article_and_contraction_in_each_language_check
);

#[test]
fn the_state_names_validator_refuses_a_row_whose_contraction_is_wrong() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("data/reference/check_state_names.py");
    let shipped = std::fs::read_to_string(root.join("data/reference/state_names.csv")).unwrap();
    let python = std::env::var("OUTREACH_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let run = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state_names.csv");
        std::fs::write(&file, text).unwrap();
        std::process::Command::new(&python)
            .arg(&script)
            .arg(&file)
            .output()
            .unwrap()
    };
    let ok = run(&shipped);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let bad = shipped.replace("des États-Unis,", "de les États-Unis,");
    assert_ne!(bad, shipped);
    let out = run(&bad);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("(USA): fr_de"), "{said}");
    assert!(said.contains("'des États-Unis'"), "{said}");
    let missing: String = shipped
        .lines()
        .filter(|l| !l.starts_with("MEX,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = run(&missing);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MEX: a state of states.csv has no row"));
}

/// The shipped signal of a state, kind and date.
async fn shipped(conn: &DatabaseConnection, iso3: &str, kind: &str, date: &str) -> String {
    outreach_core::signals::list(
        conn,
        &outreach_core::signals::SignalFilter {
            state: Some(iso3.into()),
            kind: Some(kind.into()),
        },
    )
    .await
    .unwrap()
    .into_iter()
    .find(|s| s.date.to_string() == date)
    .unwrap_or_else(|| panic!("{iso3} {kind} {date} is shipped in signals.csv"))
    .id
    .to_string()
}

/// A letter answers the signal chosen for it (issue 16 item 7): thanks to the United States for
/// its step of June 2022 (not its newer condemnation), a call to speak out, alone or in a batch,
/// responding to Russia's reported use of 2022 only; a signal the template cannot answer is
/// refused naming the field, and nothing is written.
async fn a_letter_answers_the_chosen_signal_check(db: &TestDb) {
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    let us_2022 = shipped(&conn, "USA", "policy_change", "2022-06-21").await;
    let thanks = drafts::draft(
        &conn,
        &a,
        &letters(),
        &DraftRequest {
            signal: Some(us_2022[us_2022.len() - 8..].to_owned()),
            ..draft_request("thanks", "USA", Some("en"))
        },
    )
    .await
    .unwrap();
    assert!(thanks.body.contains("21 June 2022"), "{}", thanks.body);
    assert!(thanks.body.contains("Korean Peninsula"), "{}", thanks.body);
    assert!(!thanks.body.contains("2023"), "{}", thanks.body);

    let russia = shipped(&conn, "RUS", "reported_use", "2022-02-24").await;
    let call = drafts::draft(
        &conn,
        &a,
        &letters(),
        &DraftRequest {
            signal: Some(russia.clone()),
            ..draft_request("call_to_speak_out", "FRA", None)
        },
    )
    .await
    .unwrap();
    assert_eq!(call.language, "fr");
    assert!(call.body.contains("24 février 2022"), "{}", call.body);
    // Only the chosen report: not the 2023 Monitor's.
    assert!(!call.body.contains("2023"), "{}", call.body);

    let before = letter::Entity::find().count(&conn).await.unwrap();
    for (template, state, signal, needle) in [
        // A thanks letter thanks a state for its own step.
        ("thanks", "FRA", us_2022.clone(), "about USA"),
        // A call to speak out responds to a reported use, not a policy step.
        ("call_to_speak_out", "FRA", us_2022.clone(), "reported use"),
        // A call to join answers no chosen signal.
        (
            "call_to_join",
            "USA",
            us_2022.clone(),
            "leave the signal out",
        ),
    ] {
        let err = drafts::draft(
            &conn,
            &a,
            &letters(),
            &DraftRequest {
                signal: Some(signal),
                ..draft_request(template, state, Some("en"))
            },
        )
        .await
        .unwrap_err();
        match err {
            Error::Core(outreach_core::Error::Invalid { field, message }) => {
                assert_eq!(field, "signal", "{message}");
                assert!(message.contains(needle), "{template}: {message}");
            }
            other => panic!("{template}: expected a refusal naming signal, got {other}"),
        }
    }
    assert_eq!(letter::Entity::find().count(&conn).await.unwrap(), before);

    let report = batch::batch_serving(
        &conn,
        &a,
        &letters(),
        "call_to_speak_out",
        &batch::Audience::StatesPartiesWithoutCondemnation,
        Some("en"),
        Some(&russia),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert!(report.drafted.len() > 100, "{}", report.drafted.len());
    let one = drafts::show(&conn, &report.drafted[0].id.to_string())
        .await
        .unwrap();
    assert!(one.body.contains("24 February 2022"), "{}", one.body);
    assert!(!one.body.contains("14 November 2023"), "{}", one.body);
}
outreach_testkit::db_test!(
    a_letter_answers_the_chosen_signal,
    a_letter_answers_the_chosen_signal_check
);

/// A letter for `iso3` on `date`, addressed by office (no recipient), rendered in `lang`.
async fn by_office_on(
    conn: &DatabaseConnection,
    template: &str,
    iso3: &str,
    date: chrono::NaiveDate,
    lang: Lang,
) -> (outreach_letters::context::Recipient, String) {
    let l = letters();
    let records = Records::load(conn, "APMBC", date).await.unwrap();
    let info = l.templates.get(template).unwrap().clone();
    let sender = outreach_letters::context::Sender {
        name: "Maria Tester".into(),
        title: String::new(),
        organisation: "ICBL".into(),
        place: "Geneva".into(),
        email: String::new(),
    };
    let mut ctx = merge::build(
        &records,
        &info.name,
        iso3,
        None,
        lang,
        &sender,
        &info.required,
    )
    .unwrap();
    let (_, body) = l
        .templates
        .render(&info.name, lang.code(), &mut ctx)
        .unwrap();
    (ctx.common().recipient.clone(), body)
}

async fn a_posts_holder_changes_with_the_date_and_letters_name_the_holder_on_their_date_check(
    db: &TestDb,
) {
    let conn = open_with_demo(db).await;
    let a = actor("maria");
    for (name, title) in [("Anne Dupont", "Ms"), ("Paul Martin", "Mr")] {
        directory::add_contact(
            &conn,
            &a,
            &ContactInput {
                name: name.into(),
                title: Some(title.into()),
                state: Some("FRA".into()),
                ..ContactInput::default()
            },
        )
        .await
        .unwrap();
    }
    let post = |contact: &str, title: &str, from: &str| PostInput {
        contact: contact.into(),
        title: title.into(),
        state: Some("FRA".into()),
        from: Some(from.into()),
        ..PostInput::default()
    };
    posts::add(
        &conn,
        &a,
        &post("Anne Dupont", "Minister for Foreign Affairs", "2022-05-20"),
    )
    .await
    .unwrap();
    // "Foreign Minister" names the same office for letters; recorded under the first title,
    // so that the hand-over closes Anne's term.
    posts::add(
        &conn,
        &a,
        &post("Paul Martin", "minister for foreign affairs", "2025-10-12"),
    )
    .await
    .unwrap();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let (before, body) = by_office_on(
        &conn,
        "call_to_speak_out",
        "FRA",
        day("2025-10-11"),
        Lang::Fr,
    )
    .await;
    assert_eq!(before.name, "Anne Dupont");
    assert_eq!(before.addressee, "Son Excellence Anne Dupont");
    assert_eq!(
        before.position.as_deref(),
        Some("Ministre des Affaires étrangères")
    );
    assert_eq!(before.salutation, "Excellence,");
    assert!(body.contains("Son Excellence Anne Dupont"), "{body}");
    assert!(
        body.contains("Ministère des Affaires étrangères de la France"),
        "{body}"
    );
    assert!(!body.contains("Paul Martin"), "{body}");
    assert!(!says_h_e(&body), "{body}");
    let (after, body) = by_office_on(
        &conn,
        "call_to_speak_out",
        "FRA",
        day("2025-10-12"),
        Lang::Fr,
    )
    .await;
    assert_eq!(after.name, "Paul Martin");
    assert!(body.contains("Son Excellence Paul Martin"), "{body}");
    assert!(!body.contains("Anne Dupont"), "{body}");
    // In Spanish the forms follow the holder's courtesy title.
    let (es, _) = by_office_on(
        &conn,
        "call_to_speak_out",
        "FRA",
        day("2025-10-11"),
        Lang::Es,
    )
    .await;
    assert_eq!(es.salutation, "Excelentísima Señora:");
    assert_eq!(
        es.position.as_deref(),
        Some("Ministra de Relaciones Exteriores")
    );
    // Before anyone is recorded in the office, the letter goes to the office as before.
    let (office, _) = by_office_on(
        &conn,
        "call_to_speak_out",
        "FRA",
        day("2020-01-01"),
        Lang::En,
    )
    .await;
    assert_eq!(office.name, "The Minister for Foreign Affairs");
    // A state whose office is recorded as "Foreign Minister" is found too.
    directory::add_contact(
        &conn,
        &a,
        &ContactInput {
            name: "Ana Ruiz".into(),
            title: Some("Ms".into()),
            state: Some("MEX".into()),
            ..ContactInput::default()
        },
    )
    .await
    .unwrap();
    posts::add(
        &conn,
        &a,
        &PostInput {
            state: Some("MEX".into()),
            ..post("Ana Ruiz", "Foreign Minister", "2024-10-01")
        },
    )
    .await
    .unwrap();
    let (mex, body) = by_office_on(
        &conn,
        "call_to_speak_out",
        "MEX",
        day("2025-01-01"),
        Lang::Es,
    )
    .await;
    assert_eq!(mex.addressee, "Su Excelencia Ana Ruiz");
    assert!(body.contains("Ministra de Relaciones Exteriores"), "{body}");
    assert!(!says_h_e(&body), "{body}");

    // A letter to a contact gives the post they hold on the letter's date as their position.
    posts::add(
        &conn,
        &a,
        &PostInput {
            contact: "Ingrid Demo".into(),
            title: "Chargée d'affaires a.i. of Norway".into(),
            organisation: Some("Embassy of Norway in Kathmandu (demo)".into()),
            from: Some("2020-01-01".into()),
            ..PostInput::default()
        },
    )
    .await
    .unwrap();
    let en = drafts::draft(
        &conn,
        &a,
        &letters(),
        &draft_request("joint_approach", "NPL", Some("en")),
    )
    .await
    .unwrap();
    assert_eq!(en.recipient, "Ingrid Demo");
    assert!(
        en.body.contains("Chargée d'affaires a.i. of Norway"),
        "{}",
        en.body
    );
    assert!(!en.body.contains("Deputy Head of Mission"), "{}", en.body);
}
outreach_testkit::db_test!(
    a_posts_holder_changes_with_the_date,
    a_posts_holder_changes_with_the_date_and_letters_name_the_holder_on_their_date_check
);
