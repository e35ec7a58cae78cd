//! Typed page contexts. Every page template (`templates/web/NAME.hbs`) is rendered from one
//! struct that implements [`Page`]: the template's name and a [`Page::sample`] with every
//! optional field set and every list non-empty. [`check`] walks each page template, and the
//! layout and partials it calls, against the JSON of its sample with the mailer's checker
//! (`outreach_mailer::check::check_source`), so a template that names a field its context lacks
//! fails the tests and `outreach templates check`, not a user's request.
//!
//! The contexts hold the libraries' view types (`outreach_core::views::ContactView`,
//! `meetings::MeetingView`, ...) where a page shows a record as the API and the CLI's `--json`
//! do; where a page needs another shape (values in words, times in the reader's zone, a form's
//! typed values) the struct says why.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ctx::{Role, User};

/// A page's context: what its template may use, besides `me` (the signed-in user, for the
/// layout).
pub trait Page: Serialize {
    /// The template, `templates/web/{TEMPLATE}.hbs`.
    const TEMPLATE: &'static str;
    /// A context with every optional field set and every list holding one element, so the
    /// check reaches every branch of the template.
    fn sample() -> Self;
}

/// Page templates that are not pages of their own but are called by them as partials.
pub const PARTIALS: &[&str] = &["layout", "participants_search"];

/// The signed-in user, as the layout and pages read it under `me`.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub handle: String,
    pub role: String,
    /// The session's CSRF token, which every form sends back.
    pub csrf: String,
    pub zone: String,
    pub is_coordinator: bool,
    pub is_admin: bool,
    pub cleared: bool,
}

impl Me {
    pub fn of(user: &User) -> Self {
        Self {
            handle: user.handle.clone(),
            role: user.role.as_str().to_owned(),
            csrf: user.csrf.clone(),
            zone: user.zone.name().to_owned(),
            is_coordinator: user.role >= Role::Coordinator,
            is_admin: user.role >= Role::Admin,
            cleared: user.reader.cleared,
        }
    }

    pub fn sample() -> Self {
        Self {
            handle: "sam".into(),
            role: "admin".into(),
            csrf: "0123abcd".into(),
            zone: "Europe/Geneva".into(),
            is_coordinator: true,
            is_admin: true,
            cleared: true,
        }
    }
}

/// What a template is rendered with: the page's fields and `me` (null on the sign-in page).
#[derive(Serialize)]
pub(crate) struct Framed<'a, P> {
    pub me: Option<&'a Me>,
    #[serde(flatten)]
    pub page: &'a P,
}

/// One option of a `<select>` (or a radio group).
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }

    /// An option shown by its value.
    pub fn plain(value: &str, selected: bool) -> Self {
        Self::new(value, value, selected)
    }

    pub fn sample() -> Self {
        Self::new("draft", "draft", true)
    }
}

/// The message beside each field of a form, null where the field is fine. Every field of the
/// form is present (the templates are strict), so it is built from the form's list of fields.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Option<String>>);

impl FieldErrors {
    pub fn new(fields: &[&str]) -> Self {
        Self(fields.iter().map(|f| ((*f).to_owned(), None)).collect())
    }

    /// Sets the message of `field` (a field outside the list is added).
    pub fn set(&mut self, field: &str, message: impl Into<String>) {
        self.0.insert(field.to_owned(), Some(message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Option::as_deref)
    }

    pub fn any(&self) -> bool {
        self.0.values().any(Option::is_some)
    }

    /// Every field with a message, for samples.
    pub fn sample(fields: &[&str]) -> Self {
        Self(
            fields
                .iter()
                .map(|f| ((*f).to_owned(), Some(format!("{f} is not right"))))
                .collect(),
        )
    }
}

/// A type's name without its path, as problems name a context: `DashboardPage`.
fn short_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// The page types, one per page template: what [`check`] walks.
macro_rules! pages {
    ($($page:ty),* $(,)?) => {
        /// `(template, context type, sample as JSON)` of every page.
        pub fn samples() -> Vec<(&'static str, &'static str, serde_json::Value)> {
            let me = Me::sample();
            vec![$(
                (
                    <$page as Page>::TEMPLATE,
                    short_name::<$page>(),
                    serde_json::to_value(Framed { me: Some(&me), page: &<$page as Page>::sample() })
                        .expect("a page context is a struct of strings, numbers and lists"),
                ),
            )*]
        }
    };
}

pages![
    crate::LoginPage,
    crate::dashboard::DashboardPage,
    crate::my_work::MyWorkPage,
    crate::state::StatePage,
    crate::grants::GrantPage,
    crate::signals::SignalsPage,
    crate::signals::SpokenUpPage,
    crate::engagements::EngagementFormPage,
    crate::meetings::MeetingsPage,
    crate::meetings::WeekPage,
    crate::meetings::MeetingNewPage,
    crate::meetings::MeetingPage,
    crate::letters::LettersPage,
    crate::letters::LetterNewPage,
    crate::letters::LetterPage,
    crate::mail::OutboxPage,
    crate::mail::MailTemplatesPage,
    crate::mail::MailTemplatePage,
    crate::rules::RulesPage,
    crate::admin::AuditPage,
    crate::admin::UsersPage,
    crate::admin::UserTokensPage,
    crate::settings::SettingsPage,
    crate::account::AccountPage,
];

/// The page templates compiled into the app: `(name, source)`.
pub fn builtin() -> &'static [(&'static str, &'static str)] {
    crate::compiled::TEMPLATES
}

/// What [`check`] found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Where the templates came from.
    pub origin: String,
    /// The pages checked (template names).
    pub pages: Vec<String>,
    /// The partials their pages may call.
    pub partials: Vec<String>,
    pub problems: Vec<outreach_mailer::check::Problem>,
}

/// Checks page templates `(name, source)`: each page's template against its context's sample,
/// with the layout and partials it calls; a page without its template, and a template that is
/// neither a page nor a partial, are problems too.
pub fn check_sources(origin: &str, sources: &[(&str, &str)]) -> CheckReport {
    use outreach_mailer::check::{Problem, check_source, parse_all};
    let (partials, mut problems) = parse_all(
        sources
            .iter()
            .filter(|(name, _)| PARTIALS.contains(name))
            .copied(),
    );
    let samples = samples();
    let mut pages = Vec::new();
    for (template, context, sample) in &samples {
        match sources.iter().find(|(name, _)| name == template) {
            Some((_, source)) => {
                pages.push((*template).to_owned());
                problems.extend(check_source(template, context, source, sample, &partials));
            }
            None => problems.push(Problem {
                template: (*template).to_owned(),
                language: None,
                part: None,
                line: None,
                column: None,
                field: None,
                message: format!("the page {context} has no template {template}.hbs"),
            }),
        }
    }
    for (name, _) in sources {
        if !PARTIALS.contains(name) && samples.iter().all(|(t, _, _)| t != name) {
            problems.push(Problem {
                template: (*name).to_owned(),
                language: None,
                part: None,
                line: None,
                column: None,
                field: None,
                message: "no page is rendered with this template and it is not a partial; \
                          give it a context type in the web crate's pages, or remove it"
                    .to_owned(),
            });
        }
    }
    for partial in PARTIALS {
        if sources.iter().all(|(name, _)| name != partial) {
            problems.push(Problem {
                template: (*partial).to_owned(),
                language: None,
                part: None,
                line: None,
                column: None,
                field: None,
                message: format!("the partial {partial}.hbs is missing"),
            });
        }
    }
    CheckReport {
        origin: origin.to_owned(),
        pages,
        partials: partials.into_keys().collect(),
        problems,
    }
}

/// [`check_sources`] on the page templates compiled into the app (what `outreach serve` shows).
pub fn check() -> CheckReport {
    check_sources("built-in page templates", builtin())
}

/// [`check_sources`] on the page templates in `<templates_dir>/web/` (a copy being edited), or
/// `None` when that folder does not exist. A file that cannot be read is a problem.
pub fn check_dir(templates_dir: &std::path::Path) -> Option<CheckReport> {
    let dir = templates_dir.join("web");
    let entries = std::fs::read_dir(&dir).ok()?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "hbs"))
        .collect();
    files.sort();
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => unreadable.push(outreach_mailer::check::Problem {
                template: name,
                language: None,
                part: None,
                line: None,
                column: None,
                field: None,
                message: format!("cannot read {}: {e}", path.display()),
            }),
        }
    }
    let borrowed: Vec<(&str, &str)> = sources
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let mut report = check_sources(&dir.display().to_string(), &borrowed);
    report.problems.extend(unreadable);
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::{builtin, check, check_sources, samples};

    /// The built-in sources with `name`'s replaced by `text`.
    fn with(name: &str, text: &str) -> Vec<(&'static str, String)> {
        builtin()
            .iter()
            .map(|(n, s)| {
                (
                    *n,
                    if *n == name {
                        text.to_owned()
                    } else {
                        (*s).to_owned()
                    },
                )
            })
            .collect()
    }

    fn check_of(sources: &[(&'static str, String)]) -> super::CheckReport {
        let borrowed: Vec<(&str, &str)> = sources.iter().map(|(n, s)| (*n, s.as_str())).collect();
        check_sources("test", &borrowed)
    }

    #[test]
    fn every_page_template_fits_its_context() {
        let report = check();
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert_eq!(report.pages.len(), samples().len());
        assert_eq!(report.partials, ["layout", "participants_search"]);
        assert_eq!(
            report.pages.len() + report.partials.len(),
            builtin().len(),
            "every template is a page or a partial"
        );
    }

    #[test]
    fn every_page_renders_its_sample_in_strict_mode() {
        let registry = crate::page_registry().expect("the page templates parse");
        for (template, context, sample) in samples() {
            let html = registry
                .render(template, &sample)
                .unwrap_or_else(|e| panic!("{template} ({context}): {e}"));
            assert!(html.contains("</html>"), "{template} is a whole page");
        }
    }

    #[test]
    fn a_template_naming_a_field_its_context_lacks_is_a_problem_naming_the_field() {
        let broken = builtin()
            .iter()
            .find(|(n, _)| *n == "dashboard")
            .map(|(_, s)| s.replace("{{name}}</a> ({{iso3}})", "{{name}}</a> ({{iso2}})"))
            .expect("the dashboard template");
        let report = check_of(&with("dashboard", &broken));
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        let p = &report.problems[0];
        assert_eq!(p.template, "dashboard");
        assert_eq!(p.field.as_deref(), Some("rows[].iso2"));
        assert!(p.line.is_some_and(|l| l > 1), "{p}");
        assert!(p.message.contains("DashboardPage"), "{p}");
    }

    #[test]
    fn the_layout_is_checked_with_every_page() {
        let layout = builtin()
            .iter()
            .find(|(n, _)| *n == "layout")
            .map(|(_, s)| s.replace("{{me.handle}}", "{{me.nickname}}"))
            .expect("the layout template");
        let report = check_of(&with("layout", &layout));
        let pages_using_layout = samples().len() - 1; // the sign-in page stands alone
        assert_eq!(
            report.problems.len(),
            pages_using_layout,
            "{:?}",
            report.problems
        );
        for p in &report.problems {
            assert_eq!(p.field.as_deref(), Some("me.nickname"), "{p}");
            assert!(p.message.starts_with("in the partial layout"), "{p}");
        }
    }

    #[test]
    fn a_template_without_a_page_and_a_page_without_its_template_are_problems() {
        let mut sources: Vec<(&'static str, String)> = with("letters", "")
            .into_iter()
            .filter(|(n, _)| *n != "letters")
            .collect();
        sources.push(("orphan", "<p>{{nothing}}</p>".to_owned()));
        let report = check_of(&sources);
        let about: Vec<&str> = report
            .problems
            .iter()
            .map(|p| p.template.as_str())
            .collect();
        assert_eq!(about, ["letters", "orphan"], "{:?}", report.problems);
    }
}
