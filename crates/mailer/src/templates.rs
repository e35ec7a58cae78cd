//! The email templates: read from `<templates_dir>/email/<name>/<lang>/<part>.hbs` (or the copy
//! compiled into the binary when that folder is absent), checked against their context types,
//! and compiled into two strict handlebars registries: one that escapes HTML for the `html`
//! part, one that does not for `subject` and `text`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
    template::Template,
};
use serde::Serialize;

use crate::check::{self, Problem};
use crate::error::{Error, Result};
use crate::locale::{LANGUAGES, Lang};
use crate::render::known_templates;

/// The parts of every email template, in the order they are checked.
pub const PARTS: [&str; 3] = ["subject", "text", "html"];

const EMBEDDED: &[(&str, &str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// One template file.
#[derive(Debug, Clone)]
struct Source {
    name: String,
    language: String,
    part: String,
    text: String,
}

/// Where templates were read from, for messages: a folder or the compiled-in copy.
fn describe(dir: Option<&Path>) -> String {
    dir.map_or_else(
        || "the templates built into outreach".to_owned(),
        |d| d.display().to_string(),
    )
}

/// The outcome of checking a set of templates.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The folder checked, or a note that the built-in templates were.
    pub origin: String,
    /// Template names found.
    pub templates: Vec<String>,
    /// Files checked.
    pub files: usize,
    pub problems: Vec<Problem>,
}

/// Checked, compiled email templates.
pub struct Templates {
    origin: String,
    html: Handlebars<'static>,
    plain: Handlebars<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The email folder of a templates folder: `<templates_dir>/email`, if it exists.
pub fn email_dir(templates_dir: &Path) -> Option<PathBuf> {
    let dir = templates_dir.join("email");
    dir.is_dir().then_some(dir)
}

fn read_dir(dir: &Path, problems: &mut Vec<Problem>) -> Vec<Source> {
    let mut out = Vec::new();
    let entries = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    if let Err(e) = std::fs::read_dir(dir) {
        problems.push(Problem::new(
            &dir.display().to_string(),
            format!("cannot read the templates folder: {e}"),
        ));
        return out;
    }
    for tdir in entries(dir).into_iter().filter(|p| p.is_dir()) {
        let name = tdir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for ldir in entries(&tdir).into_iter().filter(|p| p.is_dir()) {
            let language = ldir
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            for file in entries(&ldir) {
                let Some(part) = file
                    .file_name()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.strip_suffix(".hbs"))
                    .map(str::to_owned)
                else {
                    continue;
                };
                match std::fs::read_to_string(&file) {
                    Ok(text) => out.push(Source {
                        name: name.clone(),
                        language: language.clone(),
                        part,
                        text,
                    }),
                    Err(e) => problems.push(
                        Problem::new(&name, format!("cannot read {}: {e}", file.display()))
                            .at(&language, &part),
                    ),
                }
            }
        }
    }
    out
}

fn embedded() -> Vec<Source> {
    EMBEDDED
        .iter()
        .map(|(name, language, part, text)| Source {
            name: (*name).to_owned(),
            language: (*language).to_owned(),
            part: part.trim_end_matches(".hbs").to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

/// Checks and compiles `sources`; returns the compiled templates keyed `name/lang/part`.
fn build(
    sources: Vec<Source>,
    mut problems: Vec<Problem>,
) -> (BTreeMap<String, Template>, Vec<Problem>) {
    let known = known_templates();
    let mut compiled = BTreeMap::new();
    // template -> part -> language -> uses
    let mut uses: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<check::Use>>>> =
        BTreeMap::new();
    let mut present = BTreeSet::new();
    for src in sources {
        let Some((_, ty, sample)) = known.iter().find(|(n, _, _)| *n == src.name) else {
            if !problems.iter().any(|p| p.template == src.name) {
                let names: Vec<&str> = known.iter().map(|(n, _, _)| *n).collect();
                problems.push(Problem::new(
                    &src.name,
                    format!(
                        "no context type is named so; a template folder must be one of {}",
                        names.join(", ")
                    ),
                ));
            }
            continue;
        };
        if !PARTS.contains(&src.part.as_str()) {
            problems.push(
                Problem::new(
                    &src.name,
                    format!(
                        "unknown part file {}.hbs; parts are subject.hbs, text.hbs and html.hbs",
                        src.part
                    ),
                )
                .at(&src.language, &src.part),
            );
            continue;
        }
        if !LANGUAGES.contains(&src.language.as_str()) {
            problems.push(
                Problem::new(
                    &src.name,
                    format!(
                        "unsupported language folder; languages are {}",
                        LANGUAGES.join(", ")
                    ),
                )
                .at(&src.language, &src.part),
            );
            continue;
        }
        present.insert((src.name.clone(), src.language.clone(), src.part.clone()));
        let key = format!("{}/{}/{}", src.name, src.language, src.part);
        let parsed = match Template::compile_with_name(&src.text, key.clone()) {
            Ok(t) => t,
            Err(e) => {
                let (line, column) = e.pos().unzip();
                problems.push(Problem {
                    line,
                    column,
                    ..Problem::new(&src.name, format!("not valid handlebars: {}", e.reason()))
                        .at(&src.language, &src.part)
                });
                continue;
            }
        };
        let (found, mut errs) =
            check::check_part(&src.name, ty, &src.language, &src.part, &parsed, sample);
        problems.append(&mut errs);
        uses.entry(src.name.clone())
            .or_default()
            .entry(src.part.clone())
            .or_default()
            .insert(src.language.clone(), found);
        compiled.insert(key, parsed);
    }
    for (name, _, _) in &known {
        for language in LANGUAGES {
            for part in PARTS {
                if !present.contains(&((*name).to_owned(), language.to_owned(), part.to_owned())) {
                    problems.push(
                        Problem::new(name, format!("missing: write {name}/{language}/{part}.hbs"))
                            .at(language, part),
                    );
                }
            }
        }
    }
    for (name, parts) in &uses {
        for (part, by_language) in parts {
            problems.extend(check::compare_languages(name, part, by_language));
        }
    }
    (compiled, problems)
}

/// Checks the templates in `templates_dir/email` (or the built-in ones when that folder does not
/// exist) without keeping them: what `outreach templates check` runs.
pub fn check(templates_dir: &Path) -> CheckReport {
    let dir = email_dir(templates_dir);
    let mut problems = Vec::new();
    let sources = match &dir {
        Some(d) => read_dir(d, &mut problems),
        None => embedded(),
    };
    let files = sources.len();
    let templates: BTreeSet<String> = sources.iter().map(|s| s.name.clone()).collect();
    let (_, problems) = build(sources, problems);
    CheckReport {
        origin: describe(dir.as_deref()),
        templates: templates.into_iter().collect(),
        files,
        problems,
    }
}

/// A strict handlebars registry with the mailer's helpers (`datetime`, `date`, `duration`), which
/// escapes HTML when `escape` is set. Letters render with the same setup.
pub fn registry(escape: bool) -> Handlebars<'static> {
    let mut r = Handlebars::new();
    r.set_strict_mode(true);
    r.set_prevent_indent(true);
    if escape {
        r.register_escape_fn(handlebars::html_escape);
    } else {
        r.register_escape_fn(handlebars::no_escape);
    }
    r.register_helper("datetime", Box::new(datetime_helper));
    r.register_helper("date", Box::new(date_helper));
    r.register_helper("duration", Box::new(duration_helper));
    r
}

impl Templates {
    /// Loads and checks the templates in `templates_dir/email`, or the built-in ones when that
    /// folder does not exist.
    ///
    /// # Errors
    /// [`Error::Templates`] listing every problem, each with template, language, part, field and line.
    pub fn load(templates_dir: &Path) -> Result<Self> {
        let dir = email_dir(templates_dir);
        let mut problems = Vec::new();
        let sources = match &dir {
            Some(d) => read_dir(d, &mut problems),
            None => embedded(),
        };
        Self::from_sources(describe(dir.as_deref()), sources, problems)
    }

    /// The templates compiled into the binary.
    ///
    /// # Errors
    /// [`Error::Templates`] if the shipped templates are broken (a test keeps them whole).
    pub fn embedded() -> Result<Self> {
        Self::from_sources(describe(None), embedded(), Vec::new())
    }

    fn from_sources(origin: String, sources: Vec<Source>, problems: Vec<Problem>) -> Result<Self> {
        let (compiled, problems) = build(sources, problems);
        if !problems.is_empty() {
            return Err(Error::Templates { origin, problems });
        }
        let mut html = registry(true);
        let mut plain = registry(false);
        for (key, template) in compiled {
            if key.ends_with("/html") {
                html.register_template(&key, template);
            } else {
                plain.register_template(&key, template);
            }
        }
        Ok(Self {
            origin,
            html,
            plain,
        })
    }

    /// Where the templates came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Renders one part of a template in a language.
    ///
    /// # Errors
    /// [`Error::Render`] when the template does not exist in that language or the data lacks a
    /// field the template uses.
    pub fn render_part<T: Serialize>(
        &self,
        name: &str,
        language: &str,
        part: &str,
        data: &T,
    ) -> Result<String> {
        let key = format!("{name}/{language}/{part}");
        let registry = if part == "html" {
            &self.html
        } else {
            &self.plain
        };
        if registry.get_template(&key).is_none() {
            return Err(Error::Render(format!(
                "there is no {language} version of the {name} template; languages are {}",
                LANGUAGES.join(", ")
            )));
        }
        registry
            .render(&key, data)
            .map_err(|e| Error::Render(format!("{key}: {e}")))
    }
}

fn lang_of(rc: &RenderContext<'_, '_>) -> Lang {
    rc.get_current_template_name()
        .and_then(|n| n.split('/').nth(1))
        .and_then(Lang::parse)
        .unwrap_or(Lang::En)
}

fn zone(
    given: Option<&serde_json::Value>,
    ctx: &Context,
) -> std::result::Result<Tz, RenderErrorReason> {
    let name = given
        .and_then(|v| v.as_str())
        .or_else(|| {
            ctx.data()
                .pointer("/recipient/time_zone")
                .and_then(|v| v.as_str())
        })
        .unwrap_or("UTC");
    name.parse::<Tz>()
        .map_err(|_| RenderErrorReason::Other(format!("`{name}` is not an IANA time zone")))
}

/// `{{datetime INSTANT}}` (or `zone=OTHER_ZONE`): the instant in the reader's zone and the
/// template's language, with the zone named.
fn datetime_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    ctx: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let at = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        .ok_or(RenderErrorReason::InvalidParamType(
            "an RFC 3339 instant for datetime",
        ))?;
    let zone = zone(h.hash_get("zone").map(|p| p.value()), ctx)?;
    out.write(&lang_of(rc).date_time(at, zone))?;
    Ok(())
}

/// `{{date DAY}}`: a calendar date in the template's language.
fn date_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let day = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .and_then(|s| s.parse::<NaiveDate>().ok())
        .ok_or(RenderErrorReason::InvalidParamType(
            "a YYYY-MM-DD date for date",
        ))?;
    out.write(&lang_of(rc).date(day))?;
    Ok(())
}

/// `{{duration MINUTES}}`: "1 hour 30 minutes" in the template's language.
fn duration_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    rc: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let minutes =
        h.param(0)
            .and_then(|p| p.value().as_i64())
            .ok_or(RenderErrorReason::InvalidParamType(
                "a whole number of minutes for duration",
            ))?;
    out.write(&lang_of(rc).duration(minutes))?;
    Ok(())
}
