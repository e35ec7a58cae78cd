//! The letter templates: `templates/letters/<name>/<lang>.hbs` (read from
//! `<templates_dir>/letters`, or the copy compiled into the binary when that folder is absent).
//! Each file opens with TOML front matter between `+++` lines (title, description, audience,
//! subject, the merge fields it requires, languages) followed by the body in Markdown.
//!
//! Templates are checked the mailer's way (its walker resolves every variable, inside blocks
//! too, against the sample of the template's context type, and every language must use the same
//! fields) and rendered by the mailer's strict handlebars registry without HTML escaping.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use handlebars::template::Template;
use outreach_mailer::check::{self, Problem, Use};
use outreach_mailer::locale::LANGUAGES;
use serde::{Deserialize, Serialize};

use crate::context::{self, KNOWN, LetterContext};
use crate::error::{Error, Result};

const EMBEDDED: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/letters.rs"));

/// The front matter of one template file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    description: String,
    audience: String,
    /// A handlebars line rendered with the same context.
    subject: String,
    /// Context paths that must be present and not empty: `partner.contact`, `engagements`.
    #[serde(default)]
    required: Vec<String>,
    languages: Vec<String>,
}

/// What `outreach letter templates` lists: one template, from its English front matter.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub audience: String,
    pub required: Vec<String>,
    pub languages: Vec<String>,
}

/// Checked, compiled letter templates.
pub struct LetterTemplates {
    origin: String,
    registry: Handlebars<'static>,
    info: BTreeMap<String, TemplateInfo>,
}

impl std::fmt::Debug for LetterTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterTemplates")
            .field("origin", &self.origin)
            .field("templates", &self.info.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn problem(template: &str, language: Option<&str>, message: impl Into<String>) -> Problem {
    Problem {
        template: template.to_owned(),
        language: language.map(str::to_owned),
        part: None,
        line: None,
        column: None,
        field: None,
        message: message.into(),
    }
}

/// Splits `+++\nTOML\n+++\nbody` into its front matter and body.
fn split(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("+++")?
        .strip_prefix('\n')
        .or_else(|| text.strip_prefix("+++\r\n"))?;
    let end = rest.find("\n+++")?;
    let front = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    Some((front, body))
}

fn read_dir(dir: &Path, problems: &mut Vec<Problem>) -> Vec<(String, String, String)> {
    let sorted = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut out = Vec::new();
    for tdir in sorted(dir).into_iter().filter(|p| p.is_dir()) {
        let name = tdir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for file in sorted(&tdir) {
            let Some(lang) = file
                .file_name()
                .and_then(|s| s.to_str())
                .and_then(|s| s.strip_suffix(".hbs"))
            else {
                continue;
            };
            match std::fs::read_to_string(&file) {
                Ok(text) => out.push((name.clone(), lang.to_owned(), text)),
                Err(e) => problems.push(problem(
                    &name,
                    Some(lang),
                    format!("cannot read {}: {e}", file.display()),
                )),
            }
        }
    }
    out
}

/// The letters folder of a templates folder, if it exists.
pub fn letters_dir(templates_dir: &Path) -> Option<PathBuf> {
    let dir = templates_dir.join("letters");
    dir.is_dir().then_some(dir)
}

impl LetterTemplates {
    /// Loads and checks `<templates_dir>/letters`, or the built-in templates when that folder
    /// does not exist.
    ///
    /// # Errors
    /// [`Error::Templates`] listing every problem.
    pub fn load(templates_dir: &Path) -> Result<Self> {
        match letters_dir(templates_dir) {
            Some(dir) => {
                let mut problems = Vec::new();
                let sources = read_dir(&dir, &mut problems);
                Self::build(dir.display().to_string(), sources, problems)
            }
            None => Self::embedded(),
        }
    }

    /// The templates compiled into the binary.
    ///
    /// # Errors
    /// [`Error::Templates`] if the shipped templates are broken (a test keeps them whole).
    pub fn embedded() -> Result<Self> {
        let sources = EMBEDDED
            .iter()
            .map(|(n, l, t)| ((*n).to_owned(), (*l).to_owned(), (*t).to_owned()))
            .collect();
        Self::build(
            "the letter templates built into outreach".to_owned(),
            sources,
            Vec::new(),
        )
    }

    fn build(
        origin: String,
        sources: Vec<(String, String, String)>,
        mut problems: Vec<Problem>,
    ) -> Result<Self> {
        let mut registry = outreach_mailer::templates::registry(false);
        let mut info: BTreeMap<String, TemplateInfo> = BTreeMap::new();
        // template -> part -> language -> uses
        let mut uses: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<Use>>>> =
            BTreeMap::new();
        let mut fronts: BTreeMap<String, BTreeMap<String, FrontMatter>> = BTreeMap::new();
        for (name, lang, text) in sources {
            let Some(ty) = KNOWN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t) else {
                let names: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
                problems.push(problem(
                    &name,
                    None,
                    format!(
                        "no context type is named so; a letter template folder must be one of {}",
                        names.join(", ")
                    ),
                ));
                continue;
            };
            if !LANGUAGES.contains(&lang.as_str()) {
                problems.push(problem(
                    &name,
                    Some(&lang),
                    format!(
                        "unsupported language file {lang}.hbs; languages are {}",
                        LANGUAGES.join(", ")
                    ),
                ));
                continue;
            }
            let Some((front, body)) = split(&text) else {
                problems.push(problem(
                    &name,
                    Some(&lang),
                    "no front matter: start the file with a `+++` line, the TOML keys title, \
                     description, audience, subject, required and languages, and another `+++` line",
                ));
                continue;
            };
            let front: FrontMatter = match toml::from_str(front) {
                Ok(f) => f,
                Err(e) => {
                    problems.push(problem(
                        &name,
                        Some(&lang),
                        format!("front matter: {}", e.message()),
                    ));
                    continue;
                }
            };
            let Some(sample) = context::sample(&name) else {
                continue;
            };
            for field in &front.required {
                if !context::is_present(&sample, field) {
                    problems.push(Problem {
                        field: Some(field.clone()),
                        ..problem(
                            &name,
                            Some(&lang),
                            format!("required field is not a field of {ty}"),
                        )
                    });
                }
            }
            for (part, src) in [("subject", front.subject.as_str()), ("body", body)] {
                let key = format!("{name}/{lang}/{part}");
                match Template::compile_with_name(src, key.clone()) {
                    Ok(parsed) => {
                        let (found, mut errs) =
                            check::check_part(&name, ty, &lang, part, &parsed, &sample);
                        problems.append(&mut errs);
                        uses.entry(name.clone())
                            .or_default()
                            .entry(part.to_owned())
                            .or_default()
                            .insert(lang.clone(), found);
                        registry.register_template(&key, parsed);
                    }
                    Err(e) => {
                        let (line, column) = e.pos().unzip();
                        problems.push(Problem {
                            line,
                            column,
                            part: Some(part.to_owned()),
                            ..problem(
                                &name,
                                Some(&lang),
                                format!("not valid handlebars: {}", e.reason()),
                            )
                        });
                    }
                }
            }
            fronts.entry(name).or_default().insert(lang, front);
        }
        for (name, by_lang) in &fronts {
            let present: BTreeSet<&str> = by_lang.keys().map(String::as_str).collect();
            for (lang, front) in by_lang {
                let declared: BTreeSet<&str> = front.languages.iter().map(String::as_str).collect();
                if declared != present {
                    problems.push(problem(
                        name,
                        Some(lang),
                        format!(
                            "front matter says languages = {:?} but the folder has {:?}; \
                             make them agree",
                            front.languages, present
                        ),
                    ));
                }
                if let Some(en) = by_lang.values().next()
                    && en.required != front.required
                {
                    problems.push(problem(
                        name,
                        Some(lang),
                        "`required` differs between languages; every language must require the \
                         same fields",
                    ));
                }
            }
            let first = by_lang.get("en").or_else(|| by_lang.values().next());
            if let Some(f) = first {
                info.insert(
                    name.clone(),
                    TemplateInfo {
                        name: name.clone(),
                        title: f.title.clone(),
                        description: f.description.clone(),
                        audience: f.audience.clone(),
                        required: f.required.clone(),
                        languages: present.iter().map(|s| (*s).to_owned()).collect(),
                    },
                );
            }
        }
        for (name, parts) in &uses {
            for (part, by_language) in parts {
                problems.extend(check::compare_languages(name, part, by_language));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Templates { origin, problems });
        }
        Ok(Self {
            origin,
            registry,
            info,
        })
    }

    /// Where the templates came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every template, by name.
    pub fn list(&self) -> Vec<TemplateInfo> {
        self.info.values().cloned().collect()
    }

    /// One template's description.
    ///
    /// # Errors
    /// [`outreach_core::Error::Invalid`] naming the templates that exist.
    pub fn get(&self, name: &str) -> Result<&TemplateInfo> {
        let wanted = name.trim().to_lowercase().replace('-', "_");
        self.info.get(&wanted).ok_or_else(|| {
            outreach_core::Error::invalid(
                "template",
                format!(
                    "there is no letter template '{name}'; templates are {} (`outreach letter templates` describes them)",
                    self.info.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
            .into()
        })
    }

    /// Renders the subject of `name` in `lang`, stores it in the context, then renders the body
    /// (which may quote the subject).
    ///
    /// # Errors
    /// [`Error::Render`] when the language is missing or the data lacks a field.
    pub fn render(
        &self,
        name: &str,
        lang: &str,
        ctx: &mut LetterContext,
    ) -> Result<(String, String)> {
        let info = self.get(name)?;
        if !info.languages.iter().any(|l| l == lang) {
            return Err(outreach_core::Error::invalid(
                "--lang",
                format!(
                    "the {name} letter exists in {}, not in '{lang}'",
                    info.languages.join(", ")
                ),
            )
            .into());
        }
        let part = |p: &str, data: &LetterContext| {
            let key = format!("{}/{lang}/{p}", info.name);
            self.registry
                .render(&key, data)
                .map_err(|e| Error::Render(format!("{key}: {e}")))
        };
        let subject = part("subject", ctx)?.trim().to_owned();
        ctx.common_mut().subject.clone_from(&subject);
        let body = part("body", ctx)?;
        Ok((subject, tidy(&body)))
    }
}

/// Collapses runs of blank lines left by sections that rendered nothing, and ends the text with
/// one newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_owned() + "\n"
}
