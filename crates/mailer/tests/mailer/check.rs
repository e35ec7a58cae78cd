//! The template check on a copy of the shipped templates in a temporary folder: the copy passes,
//! and each kind of mistake is reported with template, language, part, field and line.

use std::path::{Path, PathBuf};

use outreach_mailer::templates::check;
use outreach_mailer::{Error, Templates};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A copy of the shipped templates to break.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shipped().join("email"), &dir.path().join("email"));
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join("email").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_shipped_templates_pass_the_check() {
    let report = check(&shipped());
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.files, 7 * 3 * 3);
    assert_eq!(report.templates.len(), 7);
    Templates::embedded().unwrap();
}

#[test]
fn a_field_the_context_lacks_inside_each_is_found_with_template_language_part_field_and_line() {
    let dir = copy();
    // Inside #each meetings, in an #if: strict rendering alone never sees it when the list is empty.
    edit(
        dir.path(),
        "weekly_digest/fr/text.hbs",
        "{{#if place}}",
        "{{#if place}}{{agenda}}",
    );
    let report = check(dir.path());
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    let p = &report.problems[0];
    assert_eq!(p.template, "weekly_digest");
    assert_eq!(p.language.as_deref(), Some("fr"));
    assert_eq!(p.part.as_deref(), Some("text"));
    assert_eq!(p.field.as_deref(), Some("meetings[].agenda"));
    assert_eq!(p.line, Some(7));
    let shown = p.to_string();
    assert!(
        shown.contains("template weekly_digest, language fr, part text, line 7")
            && shown.contains("field `meetings[].agenda`")
            && shown.contains("WeeklyDigest"),
        "{shown}"
    );
    match Templates::load(dir.path()) {
        Err(Error::Templates { problems, .. }) => assert_eq!(problems.len(), 1),
        other => panic!("loading broken templates must fail, got {other:?}"),
    }
}

#[test]
fn a_misspelt_field_gets_a_suggestion() {
    let dir = copy();
    edit(
        dir.path(),
        "meeting_reminder/en/html.hbs",
        "{{meeting.place}}",
        "{{meeting.plase}}",
    );
    let report = check(dir.path());
    let p = report
        .problems
        .iter()
        .find(|p| p.field.as_deref() == Some("meeting.plase"))
        .unwrap_or_else(|| panic!("{:#?}", report.problems));
    assert_eq!(
        (p.language.as_deref(), p.part.as_deref()),
        (Some("en"), Some("html"))
    );
    assert!(p.message.contains("did you mean `meeting.place`?"), "{p}");
}

#[test]
fn languages_that_use_different_fields_are_reported() {
    let dir = copy();
    edit(dir.path(), "follow_up_due/es/text.hbs", "({{iso3}})", "");
    let report = check(dir.path());
    assert!(!report.problems.is_empty());
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.language.as_deref() == Some("es")
                && p.part.as_deref() == Some("text")
                && p.field.as_deref() == Some("iso3")),
        "{:#?}",
        report.problems
    );
    assert!(
        report.problems[0]
            .message
            .contains("version uses at line 3"),
        "{}",
        report.problems[0]
    );
}

#[test]
fn missing_files_unknown_folders_helpers_and_syntax_errors_are_reported() {
    let dir = copy();
    std::fs::remove_file(dir.path().join("email/test_message/fr/subject.hbs")).unwrap();
    std::fs::create_dir_all(dir.path().join("email/birthday/en")).unwrap();
    std::fs::write(dir.path().join("email/birthday/en/text.hbs"), "Hi").unwrap();
    edit(
        dir.path(),
        "grant_report_due/en/text.hbs",
        "{{date due_on}}",
        "{{shout due_on}}",
    );
    edit(
        dir.path(),
        "outcome_missing/en/subject.hbs",
        "{{meeting.title}}",
        "{{#if meeting.title}}",
    );
    let report = check(dir.path());
    let has = |template: &str, needle: &str| {
        report
            .problems
            .iter()
            .any(|p| p.template == template && p.to_string().contains(needle))
    };
    assert!(
        has("test_message", "missing: write test_message/fr/subject.hbs"),
        "{:#?}",
        report.problems
    );
    assert!(
        has("birthday", "no context type is named so"),
        "{:#?}",
        report.problems
    );
    assert!(
        has("grant_report_due", "`shout` is not a helper"),
        "{:#?}",
        report.problems
    );
    assert!(
        has("outcome_missing", "not valid handlebars"),
        "{:#?}",
        report.problems
    );
}
