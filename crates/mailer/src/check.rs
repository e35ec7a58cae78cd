//! The template check: walks each parsed template (inside `#if`, `#each` and `#with` blocks
//! too, which strict rendering alone only reaches when the sample data takes that branch) and
//! resolves every variable against the JSON shape of the template's context type, then compares
//! the variables each language uses. Problems name the template, language, part, field and line.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use handlebars::template::{
    BlockParam, DecoratorTemplate, HelperTemplate, Parameter, Template, TemplateElement,
};
use serde_json::Value;

/// Helpers a template may call: handlebars' built-ins and the mailer's own.
pub const HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len", "datetime", "date", "duration",
];

/// One thing wrong with the templates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub template: String,
    pub language: Option<String>,
    /// subject, text or html.
    pub part: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field path the problem is about, such as `meeting.place` or `meetings[].title`.
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(template: &str, message: impl Into<String>) -> Self {
        Self {
            template: template.to_owned(),
            language: None,
            part: None,
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, language: &str, part: &str) -> Self {
        self.language = Some(language.to_owned());
        self.part = Some(part.to_owned());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template {}", self.template)?;
        if let Some(language) = &self.language {
            write!(f, ", language {language}")?;
        }
        if let Some(part) = &self.part {
            write!(f, ", part {part}")?;
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What a literal value passed to a partial (`page_title="Users"`) stands for in the walk.
static LITERAL: Value = Value::String(String::new());

/// A variable a template uses, resolved to a path in its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// Path from the context's root, arrays written `[]`: `meetings[].title`.
    pub field: String,
    pub line: usize,
    pub column: usize,
}

/// One scope of the walk: the sample value a relative path starts from.
#[derive(Debug, Clone)]
struct Frame<'a> {
    value: &'a Value,
    prefix: String,
    /// Inside `#each`, where `@index`, `@first`, `@last` and `@key` exist.
    each: bool,
    /// Block parameters (`as |m|`) bound in this scope.
    params: HashMap<String, (&'a Value, String)>,
}

struct Walker<'a> {
    context_type: &'a str,
    frames: Vec<Frame<'a>>,
    /// Templates that may be called as partials (pages); `None` for email and letters, where a
    /// partial is an error.
    partials: Option<&'a BTreeMap<String, Template>>,
    /// The partials being walked, innermost last: a partial that calls itself is an error.
    inside: Vec<&'a str>,
    /// The blocks of the partial blocks being walked (`{{#> layout}}BLOCK{{/layout}}`), which
    /// `{{> @partial-block}}` shows.
    blocks: Vec<&'a Template>,
    uses: Vec<Use>,
    errors: Vec<(usize, usize, Option<String>, String)>,
}

fn join(prefix: &str, seg: &str) -> String {
    if prefix.is_empty() {
        seg.to_owned()
    } else {
        format!("{prefix}.{seg}")
    }
}

fn fields_of(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let names: Vec<&str> = map.keys().map(String::as_str).collect();
            format!("its fields are {}", names.join(", "))
        }
        Value::Array(_) => "it is a list; use it with #each".to_owned(),
        _ => "it is a single value with no fields".to_owned(),
    }
}

fn nearest<'v>(value: &'v Value, seg: &str) -> Option<&'v str> {
    let Value::Object(map) = value else {
        return None;
    };
    map.keys()
        .map(|k| (strsim::jaro_winkler(k, seg), k.as_str()))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

impl<'a> Walker<'a> {
    fn error(&mut self, pos: (usize, usize), field: Option<String>, message: String) {
        let message = match self.inside.last() {
            Some(partial) => format!("in the partial {partial}: {message}"),
            None => message,
        };
        self.errors.push((pos.0, pos.1, field, message));
    }

    /// Resolves a path as handlebars would, returning its sample value and absolute name.
    fn resolve(&mut self, raw: &str, pos: (usize, usize)) -> Option<(&'a Value, String)> {
        let mut rest = raw.trim();
        let mut depth = self.frames.len() - 1;
        if let Some(r) = rest.strip_prefix("@root") {
            depth = 0;
            rest = r.trim_start_matches(['.', '/']);
        }
        while let Some(r) = rest.strip_prefix("../") {
            if depth == 0 {
                self.error(
                    pos,
                    Some(raw.to_owned()),
                    "`../` climbs above the context's root".to_owned(),
                );
                return None;
            }
            depth -= 1;
            rest = r;
        }
        for this in ["this.", "this/", "./"] {
            if let Some(r) = rest.strip_prefix(this) {
                rest = r;
            }
        }
        let frame = &self.frames[depth];
        if rest.is_empty() || rest == "this" || rest == "." {
            return Some((frame.value, frame.prefix.clone()));
        }
        if let Some(local) = rest.strip_prefix('@') {
            let ok = match local {
                "index" | "first" | "last" => frame.each,
                "key" => frame.each && frame.value.is_object(),
                _ => false,
            };
            if !ok {
                self.error(
                    pos,
                    Some(raw.to_owned()),
                    format!("`@{local}` only exists inside #each"),
                );
            }
            return None;
        }
        let segs: Vec<&str> = rest
            .split(['.', '/'])
            .map(|s| s.trim_start_matches('[').trim_end_matches(']'))
            .collect();
        let (mut value, mut name, start) = match self.frames[..=depth]
            .iter()
            .rev()
            .find_map(|f| f.params.get(segs[0]))
        {
            Some((v, n)) if depth == self.frames.len() - 1 => (*v, n.clone(), 1),
            _ => (frame.value, frame.prefix.clone(), 0),
        };
        for seg in &segs[start..] {
            let next = match value {
                Value::Object(map) => map.get(*seg).map(|v| (v, join(&name, seg))),
                Value::Array(items) if seg.parse::<usize>().is_ok() || *seg == "length" => {
                    match items.first() {
                        Some(first) if *seg != "length" => Some((first, format!("{name}[]"))),
                        _ => Some((value, format!("{name}.length"))),
                    }
                }
                _ => None,
            };
            match next {
                Some((v, n)) => {
                    value = v;
                    name = n;
                }
                None => {
                    let full = join(&name, seg);
                    let hint = match nearest(value, seg) {
                        Some(k) => format!("; did you mean `{}`?", join(&name, k)),
                        None if name.is_empty() => format!("; {}", fields_of(value)),
                        None => format!("; `{name}`: {}", fields_of(value)),
                    };
                    self.error(
                        pos,
                        Some(full),
                        format!("not a field of the {} context{hint}", self.context_type),
                    );
                    return None;
                }
            }
        }
        Some((value, name))
    }

    fn use_path(&mut self, raw: &str, pos: (usize, usize)) -> Option<(&'a Value, String)> {
        let (value, field) = self.resolve(raw, pos)?;
        if !field.is_empty() {
            self.uses.push(Use {
                field: field.clone(),
                line: pos.0,
                column: pos.1,
            });
        }
        Some((value, field))
    }

    fn param(&mut self, p: &'a Parameter, pos: (usize, usize)) -> Option<(&'a Value, String)> {
        match p {
            Parameter::Path(_) | Parameter::Name(_) => self.use_path(p.as_name()?, pos),
            Parameter::Subexpression(sub) => {
                self.element(sub.as_element(), pos);
                None
            }
            Parameter::Literal(_) => None,
            _ => None,
        }
    }

    fn helper_args(
        &mut self,
        h: &'a HelperTemplate,
        pos: (usize, usize),
    ) -> Vec<Option<(&'a Value, String)>> {
        let mut values = Vec::new();
        for p in &h.params {
            values.push(self.param(p, pos));
        }
        let mut hash: Vec<_> = h.hash.iter().collect();
        hash.sort_by_key(|(k, _)| k.as_str());
        for (_, p) in hash {
            self.param(p, pos);
        }
        values
    }

    fn expression(&mut self, h: &'a HelperTemplate, pos: (usize, usize)) {
        let name = h.name.as_name().unwrap_or_default().to_owned();
        let is_call = !h.params.is_empty() || !h.hash.is_empty();
        if is_call || HELPERS.contains(&name.as_str()) {
            if !HELPERS.contains(&name.as_str()) {
                self.error(
                    pos,
                    None,
                    format!("`{name}` is not a helper; helpers: {}", HELPERS.join(", ")),
                );
            }
            self.helper_args(h, pos);
        } else {
            self.param(&h.name, pos);
        }
    }

    fn block(&mut self, h: &'a HelperTemplate, pos: (usize, usize)) {
        let name = h.name.as_name().unwrap_or_default().to_owned();
        if !HELPERS.contains(&name.as_str()) {
            self.error(
                pos,
                None,
                format!("`#{name}` is not a helper; helpers: {}", HELPERS.join(", ")),
            );
        }
        let args = self.helper_args(h, pos);
        let target = args.into_iter().next().flatten();
        let scoped = match name.as_str() {
            "each" => target.map(|(v, prefix)| match v {
                Value::Array(items) => (
                    items.first().unwrap_or(&Value::Null),
                    format!("{prefix}[]"),
                    true,
                ),
                Value::Object(map) => (
                    map.values().next().unwrap_or(&Value::Null),
                    format!("{prefix}{{}}"),
                    true,
                ),
                other => (other, prefix, true),
            }),
            "with" => target.map(|(v, prefix)| (v, prefix, false)),
            _ => None,
        };
        match scoped {
            Some((value, prefix, each)) => {
                let mut params = HashMap::new();
                if let Some(BlockParam::Single(p) | BlockParam::Pair((p, _))) = &h.block_param
                    && let Some(n) = p.as_name()
                {
                    params.insert(n.to_owned(), (value, prefix.clone()));
                }
                self.frames.push(Frame {
                    value,
                    prefix,
                    each,
                    params,
                });
                if let Some(t) = &h.template {
                    self.template(t);
                }
                self.frames.pop();
            }
            None => {
                if let Some(t) = &h.template {
                    self.template(t);
                }
            }
        }
        if let Some(t) = &h.inverse {
            self.template(t);
        }
    }

    fn element(&mut self, e: &'a TemplateElement, pos: (usize, usize)) {
        match e {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                self.expression(h, pos);
            }
            TemplateElement::HelperBlock(h) => self.block(h, pos),
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d)
                if self.partials.is_some() =>
            {
                self.partial(d, pos);
            }
            TemplateElement::DecoratorExpression(_)
            | TemplateElement::DecoratorBlock(_)
            | TemplateElement::PartialExpression(_)
            | TemplateElement::PartialBlock(_) => self.error(
                pos,
                None,
                "partials and decorators are not used in email templates; write the text out"
                    .to_owned(),
            ),
            _ => {}
        }
    }

    /// A partial (`{{> name}}`) or partial block (`{{#> name key=value}}...{{/name}}`), as
    /// handlebars renders it: the partial sees the caller's context with the hash's keys added,
    /// and `{{> @partial-block}}` in it shows the block in that context.
    fn partial(&mut self, d: &'a DecoratorTemplate, pos: (usize, usize)) {
        let Some(name) = d.name.as_name() else {
            self.error(pos, None, "a partial's name must be written out".to_owned());
            return;
        };
        if name == "@partial-block" {
            match self.blocks.pop() {
                Some(block) => {
                    // The block is the caller's own text: problems in it are the caller's.
                    let inside = std::mem::take(&mut self.inside);
                    self.template(block);
                    self.inside = inside;
                    self.blocks.push(block);
                }
                None => self.error(
                    pos,
                    None,
                    "`{{> @partial-block}}` is only shown by a partial called as a block \
                     (`{{#> name}}...{{/name}}`)"
                        .to_owned(),
                ),
            }
            return;
        }
        let Some(partial) = self.partials.and_then(|p| p.get(name)) else {
            let known: Vec<&str> = self
                .partials
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            self.error(
                pos,
                None,
                format!(
                    "`{name}` is not a template that can be called as a partial; they are {}",
                    known.join(", ")
                ),
            );
            return;
        };
        if self.inside.contains(&name) {
            self.error(pos, None, format!("the partial `{name}` calls itself"));
            return;
        }
        if !d.params.is_empty() {
            self.error(
                pos,
                None,
                format!("give `{name}` its values as key=value, not as a new context"),
            );
            return;
        }
        let mut params = HashMap::new();
        let mut hash: Vec<_> = d.hash.iter().collect();
        hash.sort_by_key(|(k, _)| k.as_str());
        for (key, p) in hash {
            let value = match p {
                Parameter::Literal(_) => Some((&LITERAL, key.clone())),
                other => self.param(other, pos),
            };
            if let Some(v) = value {
                params.insert(key.clone(), v);
            }
        }
        let top = &self.frames[self.frames.len() - 1];
        let frame = Frame {
            value: top.value,
            prefix: top.prefix.clone(),
            each: top.each,
            params,
        };
        if let Some(block) = &d.template {
            self.blocks.push(block);
        }
        self.frames.push(frame);
        self.inside.push(name);
        self.template(partial);
        self.inside.pop();
        self.frames.pop();
        if d.template.is_some() {
            self.blocks.pop();
        }
    }

    fn template(&mut self, t: &'a Template) {
        for (i, e) in t.elements.iter().enumerate() {
            let pos = t.mapping.get(i).map_or((0, 0), |m| (m.0, m.1));
            self.element(e, pos);
        }
    }
}

/// Checks one parsed template part against the sample context of its type. Returns the
/// variables it uses, or the problems found. Letters (`outreach-letters`) check their templates
/// with it too.
pub fn check_part(
    template: &str,
    context_type: &str,
    language: &str,
    part: &str,
    parsed: &Template,
    sample: &Value,
) -> (Vec<Use>, Vec<Problem>) {
    let (uses, errors) = walk(context_type, parsed, sample, None);
    let problems = errors
        .into_iter()
        .map(|(line, column, field, message)| Problem {
            line: Some(line),
            column: Some(column),
            field,
            ..Problem::new(template, message).at(language, part)
        })
        .collect();
    (uses, problems)
}

type Found = (Vec<Use>, Vec<(usize, usize, Option<String>, String)>);

fn walk<'a>(
    context_type: &'a str,
    parsed: &'a Template,
    sample: &'a Value,
    partials: Option<&'a BTreeMap<String, Template>>,
) -> Found {
    let mut walker = Walker {
        context_type,
        frames: vec![Frame {
            value: sample,
            prefix: String::new(),
            each: false,
            params: HashMap::new(),
        }],
        partials,
        inside: Vec::new(),
        blocks: Vec::new(),
        uses: Vec::new(),
        errors: Vec::new(),
    };
    walker.template(parsed);
    (walker.uses, walker.errors)
}

/// Parses template sources by name, for [`check_source`]'s partials. A source that does not
/// parse is left out and reported.
pub fn parse_all<'s>(
    sources: impl IntoIterator<Item = (&'s str, &'s str)>,
) -> (BTreeMap<String, Template>, Vec<Problem>) {
    let mut parsed = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, source) in sources {
        match Template::compile_with_name(source, name.to_owned()) {
            Ok(t) => {
                parsed.insert(name.to_owned(), t);
            }
            Err(e) => {
                let (line, column) = e.pos().unzip();
                problems.push(Problem {
                    line,
                    column,
                    ..Problem::new(name, format!("not valid handlebars: {}", e.reason()))
                });
            }
        }
    }
    (parsed, problems)
}

/// Checks one template source against the JSON sample of its context (`context_type` names
/// it in the messages): every variable it uses, inside blocks too, must be a field of the
/// sample. The template may call the `partials` (`{{> name}}`, `{{#> layout title="..."}}`),
/// which are checked as handlebars renders them, against the caller's context with the
/// partial's key=value pairs added. The web app's pages are checked with it (their layout
/// included); email templates, which call no partials, go through [`check_part`].
///
/// Returns the problems found, each naming `template`, the line and the field; none when the
/// template fits its context.
pub fn check_source(
    template: &str,
    context_type: &str,
    source: &str,
    sample: &Value,
    partials: &BTreeMap<String, Template>,
) -> Vec<Problem> {
    let parsed = match Template::compile_with_name(source, template.to_owned()) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = e.pos().unzip();
            return vec![Problem {
                line,
                column,
                ..Problem::new(template, format!("not valid handlebars: {}", e.reason()))
            }];
        }
    };
    let (_, errors) = walk(context_type, &parsed, sample, Some(partials));
    errors
        .into_iter()
        .map(|(line, column, field, message)| Problem {
            line: Some(line),
            column: Some(column),
            field,
            ..Problem::new(template, message)
        })
        .collect()
}

/// Compares the variables each language of one part uses: every language must use the same set.
pub fn compare_languages(
    template: &str,
    part: &str,
    uses: &BTreeMap<String, Vec<Use>>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (language, own) in uses {
        for (other, theirs) in uses {
            if other == language {
                continue;
            }
            let mut reported = Vec::new();
            for u in theirs {
                if own.iter().all(|o| o.field != u.field) && !reported.contains(&u.field) {
                    reported.push(u.field.clone());
                    problems.push(Problem {
                        field: Some(u.field.clone()),
                        message: format!(
                            "the {language} version does not use this field, which the {other} \
                             version uses at line {}; every language must show the same fields",
                            u.line
                        ),
                        ..Problem::new(template, "").at(language, part)
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::{check_source, parse_all};

    const LAYOUT: &str = "<title>{{page_title}}</title>{{#if me}}{{me.handle}}{{/if}}\
        <main>{{> @partial-block}}</main>";

    fn check(page: &str, sample: &serde_json::Value) -> Vec<super::Problem> {
        let (partials, problems) = parse_all([("layout", LAYOUT)]);
        assert!(problems.is_empty(), "{problems:?}");
        check_source("page", "Page", page, sample, &partials)
    }

    #[test]
    fn a_page_in_its_layout_fits_a_context_with_every_field() {
        let sample =
            serde_json::json!({ "me": { "handle": "sam" }, "rows": [{ "name": "Nepal" }] });
        let page = "{{#> layout page_title=\"States\"}}{{#each rows}}{{name}}{{/each}}{{/layout}}";
        assert_eq!(check(page, &sample), Vec::new());
    }

    #[test]
    fn a_field_missing_in_the_block_is_named_at_its_line() {
        let sample =
            serde_json::json!({ "me": { "handle": "sam" }, "rows": [{ "name": "Nepal" }] });
        let page =
            "{{#> layout page_title=\"States\"}}\n{{#each rows}}{{iso3}}{{/each}}{{/layout}}";
        let problems = check(page, &sample);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field.as_deref(), Some("rows[].iso3"));
        assert_eq!(problems[0].line, Some(2));
        assert_eq!(problems[0].template, "page");
    }

    #[test]
    fn the_layout_is_checked_against_the_page_context() {
        let sample = serde_json::json!({ "rows": [] });
        let problems = check("{{#> layout page_title=\"States\"}}x{{/layout}}", &sample);
        // `{{#if me}}` and `{{me.handle}}`, at their places in the layout.
        assert_eq!(problems.len(), 2, "{problems:?}");
        for p in &problems {
            assert_eq!(p.field.as_deref(), Some("me"), "{p}");
            assert!(p.message.starts_with("in the partial layout"), "{p}");
        }
    }

    #[test]
    fn a_value_given_to_the_layout_may_come_from_the_context() {
        let sample = serde_json::json!({ "me": { "handle": "sam" }, "m": { "subject": "Visit" } });
        assert_eq!(
            check("{{#> layout page_title=m.subject}}x{{/layout}}", &sample),
            Vec::new()
        );
        let problems = check("{{#> layout page_title=m.title}}x{{/layout}}", &sample);
        assert_eq!(problems[0].field.as_deref(), Some("m.title"));
    }

    #[test]
    fn an_unknown_partial_is_a_problem() {
        let problems = check("{{> sidebar}}", &serde_json::json!({}));
        assert!(
            problems[0].message.contains("`sidebar` is not a template"),
            "{}",
            problems[0]
        );
    }
}
