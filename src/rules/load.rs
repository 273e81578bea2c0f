//! Loading rule files in two passes, as cargo-deny does its configuration.
//! Each file is parsed with the span of every value; each rule is read field
//! by field, and its check's parameters as the kind's own type, so that
//! every mistake in every rule is reported, each where it is. Then a pass
//! over all the rules: duplicate IDs, and the rules a check points to.
//! Nothing is scanned unless all is well.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{Origin, Profile, Rule, RuleSet};
use crate::checks::CheckSpec;
use crate::files::{MAX_RULE_FILE, read_text_bounded};
use crate::findings::{Placeholder, Severity};
use crate::text::{escape_terminal, neutralize};

macro_rules! builtin {
    ($name:literal) => {
        (
            concat!("rules/", $name, ".toml"),
            include_str!(concat!("../../rules/", $name, ".toml")),
            include_str!(concat!(env!("OUT_DIR"), "/rules/", $name, ".json")),
        )
    };
}

/// The built-in rule pack, compiled into the binary: each file's TOML and
/// the form build.rs read it into.
const BUILTIN: [(&str, &str, &str); 5] =
    [builtin!("config"), builtin!("dns"), builtin!("providers"), builtin!("sip"), builtin!("tls")];

/// `AREA-NAME-01`: upper-case letters and digits in two or more parts
/// joined by `-`, the first starting with a letter. (Checked by hand rather
/// than by a regular expression: compiling one is most of a millisecond of
/// every run's start.)
fn is_rule_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let first = parts.next().unwrap_or_default();
    let part_ok = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    first.starts_with(|c: char| c.is_ascii_uppercase()) && part_ok(first) && {
        let mut rest = parts.peekable();
        rest.peek().is_some() && rest.all(part_ok)
    }
}

/// The `{placeholder}`s of a text: `{`, lower-case letters or `_`, `}`.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('{').filter_map(|(start, _)| {
        let name_len = text[start + 1..].bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'_').count();
        (name_len > 0 && text[start + 1 + name_len..].starts_with('}')).then(|| &text[start..start + name_len + 2])
    })
}

/// A rule file's text and the name to show for it.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    pub text: String,
}

pub fn builtin_sources() -> Vec<RuleSource> {
    BUILTIN.iter().map(|(name, text, _)| RuleSource { name: name.to_string(), text: text.to_string() }).collect()
}

/// A problem in a rule file, pointing at the place.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The line of the file to show, and where to underline it.
    source: Option<Excerpt>,
}

/// A line of a rule file (or the part of a long one around a span).
#[derive(Debug, Clone)]
struct Excerpt {
    text: String,
    /// What to underline, in `text`.
    span: Range<usize>,
    /// Where the span starts in the file, in bytes.
    at: usize,
}

impl PartialEq for Diagnostic {
    fn eq(&self, other: &Self) -> bool {
        (&self.file, self.line, self.column, &self.message) == (&other.file, other.line, other.column, &other.message)
    }
}

impl Diagnostic {
    pub(crate) fn whole_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), line: None, column: None, message: message.into(), source: None }
    }

    /// `file:line:column: message`, then the line with the place underlined
    /// (with colour when `styled`).
    pub fn render(&self, styled: bool) -> String {
        let mut out = escape_terminal(&self.headline()).into_owned();
        if let (Some(excerpt), Some(line)) = (&self.source, self.line)
            && !excerpt.text.trim().is_empty()
        {
            let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
            // The file's text is untrusted: shown with its unsafe characters
            // replaced, byte for byte, so that the span still fits.
            let text = neutralize(&excerpt.text);
            let snippet =
                Snippet::source(&*text).line_start(line).annotation(AnnotationKind::Primary.span(excerpt.span.clone()));
            let report = [Group::with_level(Level::ERROR).element(snippet)];
            out.push('\n');
            out.push_str(renderer.render(&report).trim_end());
        }
        out
    }

    fn headline(&self) -> String {
        let mut out = self.file.clone();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        out.push_str(&format!(": {}", self.message));
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// One file's text, and the diagnostics that point into it.
pub(crate) struct SourceMap {
    name: String,
    text: Arc<str>,
    /// Where each line starts, in bytes: a file with thousands of problems
    /// finds each one's line by a search, not by counting from the start.
    line_starts: Vec<usize>,
}

/// The most of a line an excerpt shows on each side of its span.
const EXCERPT_CONTEXT: usize = 120;

impl SourceMap {
    pub(crate) fn new(name: &str, text: &str) -> SourceMap {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        SourceMap { name: name.to_string(), text: Arc::from(text), line_starts }
    }

    /// The largest character boundary at or before `offset`.
    fn boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// (line index, its start, its end without the line feed) of `offset`.
    fn line_at(&self, offset: usize) -> (usize, usize, usize) {
        let index = self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1);
        let start = self.line_starts[index];
        let end = self.line_starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        (index, start, end.max(start))
    }

    /// Where the line of `offset` starts.
    fn line_start(&self, offset: usize) -> usize {
        self.line_at(self.boundary(offset)).1
    }

    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.boundary(offset);
        let (index, start, _) = self.line_at(offset);
        (index + 1, self.text[start..offset].chars().count() + 1)
    }

    pub(crate) fn diagnostic(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let from = self.boundary(span.start);
        let (index, line_start, line_end) = self.line_at(from);
        // The underline ends with the line it starts on; a long line is
        // shown around the span.
        let to = self.boundary(span.end.min(line_end).max(from));
        let shown_start = self.boundary(from.saturating_sub(EXCERPT_CONTEXT).max(line_start));
        let shown_end = self.boundary((to + EXCERPT_CONTEXT).min(line_end));
        Diagnostic {
            file: self.name.clone(),
            line: Some(index + 1),
            column: Some(self.text[line_start..from].chars().count() + 1),
            message: message.into(),
            source: Some(Excerpt {
                text: self.text[shown_start..shown_end].to_string(),
                span: from - shown_start..to - shown_start,
                at: from,
            }),
        }
    }

    pub(crate) fn error(&self, error: &toml::de::Error, fallback: &Range<usize>) -> Diagnostic {
        self.diagnostic(error.span().unwrap_or_else(|| fallback.clone()), error.message().trim().to_string())
    }
}

/// Collects the rule files named on the command line: files as they are,
/// directories for their `*.toml` files.
pub fn sources_from_paths(paths: &[PathBuf]) -> Result<Vec<RuleSource>, Vec<Diagnostic>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let read = |path: &Path, sources: &mut Vec<RuleSource>, errors: &mut Vec<Diagnostic>| {
        let name = path.display().to_string();
        match read_text_bounded(path, MAX_RULE_FILE) {
            Ok(text) => sources.push(RuleSource { name, text }),
            Err(message) => errors.push(Diagnostic::whole_file(name, message)),
        }
    };
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) => {
                    errors.push(Diagnostic::whole_file(
                        path.display().to_string(),
                        format!("cannot read directory: {e}"),
                    ));
                    continue;
                }
            };
            files.sort();
            if files.is_empty() {
                errors
                    .push(Diagnostic::whole_file(path.display().to_string(), "no *.toml rule files in this directory"));
            }
            for file in files {
                read(&file, &mut sources, &mut errors);
            }
        } else {
            read(path, &mut sources, &mut errors);
        }
    }
    if errors.is_empty() { Ok(sources) } else { Err(errors) }
}

/// What the files hold, for the pass over all rules: every rule that read
/// without a problem, and of every rule, valid or not, its ID and the rules
/// its check names, so that those are checked too.
#[derive(Default)]
struct Catalog {
    rules: Vec<Rule>,
    ids: Vec<Place<(String, Origin)>>,
    references: Vec<Place<(String, String)>>,
    errors: Vec<Diagnostic>,
}

/// Something read, with where it was written.
struct Place<T> {
    what: T,
    map: Arc<SourceMap>,
    span: Range<usize>,
}

/// Parses and validates rule files; every problem in every file is reported.
pub fn load_rules(sources: &[RuleSource]) -> Result<RuleSet, Vec<Diagnostic>> {
    let mut catalog = Catalog::default();
    for mut file in read_files(sources) {
        catalog.rules.append(&mut file.rules);
        catalog.ids.append(&mut file.ids);
        catalog.references.append(&mut file.references);
        catalog.errors.append(&mut file.errors);
    }
    // Across files: each ID once, and every rule a check names exists.
    let mut errors = catalog.errors;
    let mut seen: HashMap<String, &Origin> = HashMap::new();
    for place in &catalog.ids {
        let (id, origin) = &place.what;
        match seen.get(&id.to_ascii_uppercase()) {
            Some(first) => errors.push(
                place.map.diagnostic(place.span.clone(), format!("duplicate rule ID {id}: already defined at {first}")),
            ),
            None => {
                seen.insert(id.to_ascii_uppercase(), origin);
            }
        }
    }
    for reference in &catalog.references {
        let (param, rule) = &reference.what;
        if !seen.contains_key(&rule.to_ascii_uppercase()) {
            errors.push(reference.map.diagnostic(
                reference.span.clone(),
                format!("check: `{param}` names rule {rule}, which is not defined"),
            ));
        }
    }
    if errors.is_empty() { Ok(RuleSet { rules: catalog.rules }) } else { Err(errors) }
}

/// Each file read on its own, in their order: a built-in file as the build
/// read it, any other parsed here. Parsing TOML was most of a one-domain
/// scan's own work, so the files that need it are shared among the cores,
/// the largest first to the one with the least text so far.
fn read_files(sources: &[RuleSource]) -> Vec<Catalog> {
    let read = |source: &RuleSource| {
        let mut catalog = Catalog::default();
        read_file(&Arc::new(SourceMap::new(&source.name, &source.text)), &mut catalog);
        catalog
    };
    let mut read_in_order: Vec<Option<Catalog>> = sources.iter().map(read_built).collect();
    let mut largest_first: Vec<usize> = (0..sources.len()).filter(|&i| read_in_order[i].is_none()).collect();
    let cores = crate::cores().min(largest_first.len());
    if cores <= 1 {
        for i in largest_first {
            read_in_order[i] = Some(read(&sources[i]));
        }
        return read_in_order.into_iter().flatten().collect();
    }
    largest_first.sort_by_key(|&i| std::cmp::Reverse(sources[i].text.len()));
    let mut shares: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); cores];
    for i in largest_first {
        if let Some((size, files)) = shares.iter_mut().min_by_key(|(size, _)| *size) {
            *size += sources[i].text.len();
            files.push(i);
        }
    }
    let read_share = |files: &[usize]| files.iter().map(|&i| (i, read(&sources[i]))).collect::<Vec<_>>();
    std::thread::scope(|threads| {
        let running: Vec<_> = shares[1..].iter().map(|(_, files)| threads.spawn(|| read_share(files))).collect();
        let here = read_share(&shares[0].1);
        let there = running.into_iter().flat_map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        for (i, catalog) in here.into_iter().chain(there) {
            read_in_order[i] = Some(catalog);
        }
    });
    read_in_order.into_iter().flatten().collect()
}

/// A built-in rule file as build.rs read it: its rules, as the validating
/// reader below would give them (a test holds the two to that), or `None`
/// for any other file — or if the built form does not read, which leaves
/// the file to that reader.
fn read_built(source: &RuleSource) -> Option<Catalog> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct BuiltRule<'a> {
        id: String,
        title: String,
        severity: Severity,
        profiles: Vec<Profile>,
        #[serde(default)]
        unless_profiles: Vec<Profile>,
        rationale: String,
        remediation: String,
        references: Vec<String>,
        effective_date: Option<&'a str>,
        ineffective_date: Option<&'a str>,
        #[serde(borrow)]
        check: BuiltCheck<'a>,
    }
    #[derive(serde::Deserialize)]
    struct BuiltCheck<'a> {
        kind: &'a str,
        #[serde(borrow)]
        params: &'a serde_json::value::RawValue,
    }
    let (_, _, built) = BUILTIN.iter().find(|(name, text, _)| *name == source.name && *text == source.text)?;
    let built: Vec<BuiltRule> = serde_json::from_str(built).ok()?;
    let map = Arc::new(SourceMap::new(&source.name, &source.text));
    // Each rule from its `[[rule]]` header (the loader's place for it) to
    // the next.
    let headers: Vec<usize> =
        map.line_starts.iter().copied().filter(|&at| map.text[at..].starts_with("[[rule]]")).collect();
    if headers.len() != built.len() {
        return None;
    }
    // The date as the build wrote it: the TOML date's own text, read as the
    // validating reader reads a date.
    let date = |text: Option<&str>| match text {
        Some(text) => text.parse::<toml::value::Datetime>().ok().as_ref().and_then(calendar_date).map(Some),
        None => Some(None),
    };
    let mut catalog = Catalog::default();
    for (rule, header) in built.into_iter().zip(headers) {
        let mut params = serde_json::Deserializer::from_str(rule.check.params.get());
        let check = CheckSpec::parse(rule.check.kind, &mut params)?.ok().filter(|spec| spec.validate().is_empty())?;
        let (line, _) = map.line_col(header);
        let origin = Origin { file: map.name.clone(), line };
        let span = header..header + "[[rule]]".len();
        catalog.ids.push(Place { what: (rule.id.clone(), origin.clone()), map: Arc::clone(&map), span });
        catalog.rules.push(Rule {
            id: rule.id.into(),
            title: rule.title.into(),
            severity: rule.severity,
            profiles: rule.profiles,
            unless_profiles: rule.unless_profiles,
            rationale: rule.rationale,
            remediation: rule.remediation.into(),
            references: rule.references.into(),
            effective_date: date(rule.effective_date)?,
            ineffective_date: date(rule.ineffective_date)?,
            check,
            origin,
            source_text: rule_text(&map.text, header, header),
        });
    }
    Some(catalog)
}

fn read_file(map: &Arc<SourceMap>, catalog: &mut Catalog) {
    let (root, syntax) = DeTable::parse_recoverable(&map.text);
    catalog.errors.extend(syntax.iter().map(|e| map.error(e, &(0..0))));
    // The rules are still read, so that one run shows every mistake; but a
    // value a syntax error made unreadable is reported once, and is not
    // also "missing".
    let before = catalog.errors.len();
    let mut rules = None;
    for (key, value) in root.get_ref() {
        if key.get_ref() == "rule" {
            rules = Some(value);
        } else {
            let message = format!("unknown field `{}`, expected `rule`", key.get_ref());
            catalog.errors.push(map.diagnostic(key.span(), message));
        }
    }
    match rules.map(|r| (r, r.get_ref().as_array())) {
        None => catalog.errors.push(Diagnostic::whole_file(map.name.clone(), "no [[rule]] entries")),
        Some((rules, None)) => catalog
            .errors
            .push(map.diagnostic(rules.span(), "`rule` must be an array of tables: write each rule as [[rule]]")),
        Some((_, Some(array))) => {
            for item in array.iter() {
                match item.get_ref().as_table() {
                    Some(table) => read_rule(map, table, item.span(), catalog),
                    None => catalog.errors.push(map.diagnostic(item.span(), "each [[rule]] must be a table")),
                }
            }
        }
    }
    if !syntax.is_empty() {
        let spans: Vec<Range<usize>> = syntax.iter().filter_map(|e| e.span()).collect();
        let mut index = 0;
        catalog.errors.retain(|e| {
            index += 1;
            let start = e.source.as_ref().map(|excerpt| excerpt.at);
            index <= before
                || !(e.message.starts_with("missing field")
                    || start.is_some_and(|s| spans.iter().any(|span| span.contains(&s))))
        });
    }
}

const RULE_FIELDS: [&str; 11] = [
    "id",
    "title",
    "severity",
    "profiles",
    "unless_profiles",
    "rationale",
    "remediation",
    "references",
    "effective_date",
    "ineffective_date",
    "check",
];

/// The fields of one `[[rule]]` table, each read as its own type.
struct Fields<'t, 'i> {
    map: &'t SourceMap,
    table: &'t DeTable<'i>,
    span: Range<usize>,
    errors: Vec<Diagnostic>,
}

impl<'i> Fields<'_, 'i> {
    fn value(&self, name: &str) -> Option<&Spanned<DeValue<'i>>> {
        self.table.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v)
    }

    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Option<Spanned<T>> {
        let value = self.value(name)?.clone();
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(parsed) => Some(Spanned::new(span, parsed)),
            Err(e) => {
                self.errors.push(self.map.error(&e, &span));
                None
            }
        }
    }

    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Option<Spanned<T>> {
        if self.value(name).is_none() {
            self.errors.push(self.map.diagnostic(self.span.clone(), format!("missing field `{name}`")));
            return None;
        }
        self.optional(name)
    }
}

fn read_rule(map: &Arc<SourceMap>, table: &DeTable, span: Range<usize>, catalog: &mut Catalog) {
    let errors_before = catalog.errors.len();
    let mut fields = Fields { map, table, span: span.clone(), errors: Vec::new() };
    for (key, _) in table {
        if !RULE_FIELDS.contains(&key.get_ref().as_ref()) {
            fields.errors.push(map.diagnostic(
                key.span(),
                format!("unknown field `{}`, expected one of {}", key.get_ref(), quoted(&RULE_FIELDS)),
            ));
        }
    }
    let id = fields.required::<String>("id");
    let title = fields.required::<String>("title");
    let severity = fields.required::<Severity>("severity");
    let profiles = fields.required::<Vec<Profile>>("profiles");
    let unless_profiles = fields.optional::<Vec<Profile>>("unless_profiles");
    let rationale = fields.required::<String>("rationale");
    let remediation = fields.required::<String>("remediation");
    let references = fields.required::<Vec<String>>("references");
    let effective_date = fields.optional::<toml::value::Datetime>("effective_date");
    let ineffective_date = fields.optional::<toml::value::Datetime>("ineffective_date");
    let check = match fields.value("check").cloned() {
        Some(value) => read_check(map, value, &mut fields.errors),
        None => {
            fields.errors.push(map.diagnostic(span.clone(), "missing field `check`"));
            None
        }
    };
    let mut errors = fields.errors;
    if let Some(id) = &id
        && !is_rule_id(id.get_ref().trim())
    {
        errors.push(map.diagnostic(
            id.span(),
            format!(
                "rule ID {:?} is not of the form AREA-NAME-01 (upper-case letters and digits joined by '-')",
                id.get_ref().trim()
            ),
        ));
    }
    for (field, value) in [("title", &title), ("rationale", &rationale), ("remediation", &remediation)] {
        if let Some(value) = value
            && value.get_ref().trim().is_empty()
        {
            errors.push(map.diagnostic(value.span(), format!("{field} is empty")));
        }
    }
    if let Some(profiles) = &profiles {
        if profiles.get_ref().is_empty() {
            errors.push(map.diagnostic(profiles.span(), "profiles is empty: name at least one profile"));
        }
        if let Some(p) = unless_profiles.iter().flat_map(|u| u.get_ref()).find(|p| profiles.get_ref().contains(p)) {
            errors
                .push(map.diagnostic(profiles.span(), format!("profile {p} is both in profiles and unless_profiles")));
        }
    }
    if let Some(references) = &references {
        if references.get_ref().is_empty() {
            errors.push(map.diagnostic(references.span(), "references is empty: cite the source of the requirement"));
        }
        for reference in references.get_ref() {
            if !(reference.starts_with("https://") || reference.starts_with("http://")) {
                errors
                    .push(map.diagnostic(references.span(), format!("reference {reference:?} is not an http(s) URL")));
            }
        }
    }
    if let Some(remediation) = &remediation {
        for placeholder in placeholders(remediation.get_ref()) {
            if !Placeholder::ALL.iter().any(|p| p.token() == placeholder) {
                let known: Vec<&str> = Placeholder::ALL.iter().map(|p| p.token()).collect();
                errors.push(map.diagnostic(
                    remediation.span(),
                    format!("unknown placeholder {placeholder} (known: {})", known.join(", ")),
                ));
            }
        }
    }
    let effective = plain_date(&effective_date, "effective_date", map, &mut errors);
    let ineffective = plain_date(&ineffective_date, "ineffective_date", map, &mut errors);
    if let (Some(from), Some(until), Some(value)) = (effective, ineffective, &ineffective_date)
        && from >= until
    {
        errors.push(map.diagnostic(value.span(), "ineffective_date is not after effective_date"));
    }
    let (line, _) = map.line_col(span.start);
    let origin = Origin { file: map.name.clone(), line };
    if let Some(id) = &id
        && is_rule_id(id.get_ref().trim())
    {
        let what = (id.get_ref().trim().to_string(), origin.clone());
        catalog.ids.push(Place { what, map: Arc::clone(map), span: id.span() });
    }
    if let Some(check) = &check {
        for (param, rule, span) in &check.references {
            let what = (param.clone(), rule.clone());
            catalog.references.push(Place { what, map: Arc::clone(map), span: span.clone() });
        }
    }
    catalog.errors.append(&mut errors);
    let (
        Some(id),
        Some(title),
        Some(severity),
        Some(profiles),
        Some(rationale),
        Some(remediation),
        Some(references),
        Some(check),
    ) = (id, title, severity, profiles, rationale, remediation, references, check)
    else {
        return;
    };
    if catalog.errors.len() > errors_before {
        return;
    }
    let source_text = rule_text(&map.text, check.span.end, map.line_start(span.start));
    catalog.rules.push(Rule {
        id: id.get_ref().trim().into(),
        title: title.into_inner().into(),
        severity: severity.into_inner(),
        profiles: profiles.into_inner(),
        unless_profiles: unless_profiles.map(Spanned::into_inner).unwrap_or_default(),
        rationale: rationale.into_inner(),
        remediation: remediation.into_inner().into(),
        references: references.into_inner().into(),
        effective_date: effective,
        ineffective_date: ineffective,
        check: check.spec,
        origin,
        source_text,
    });
}

/// A check table, read.
struct ReadCheck {
    spec: CheckSpec,
    span: Range<usize>,
    /// The rules its parameters name: (parameter, rule ID, where).
    references: Vec<(String, String, Range<usize>)>,
}

/// The rules a check table names, by the convention every kind follows: a
/// parameter that names a rule ends in `_rule` (one ID) or `_rules` (a list
/// of IDs). Collected from the table itself, so that no kind can forget to
/// declare them and each must exist when the rules are loaded.
fn rule_references(table: &DeTable) -> Vec<(String, String, Range<usize>)> {
    let mut references = Vec::new();
    for (key, value) in table {
        let param = key.get_ref();
        let ids: Vec<(&str, Range<usize>)> = match value.get_ref() {
            DeValue::String(id) if param.ends_with("_rule") => vec![(id.as_ref(), value.span())],
            DeValue::Array(items) if param.ends_with("_rules") => {
                items.iter().filter_map(|item| item.get_ref().as_str().map(|id| (id, item.span()))).collect()
            }
            _ => Vec::new(),
        };
        references.extend(ids.into_iter().map(|(id, span)| (param.to_string(), id.trim().to_string(), span)));
    }
    references
}

/// Reads `[rule.check]`: its `kind`, then the other keys as that kind's
/// parameters. Each parameter that does not read is reported, and the table
/// read again without it, so that one run shows every mistake.
fn read_check(map: &SourceMap, value: Spanned<DeValue>, errors: &mut Vec<Diagnostic>) -> Option<ReadCheck> {
    let span = value.span();
    let Some(table) = value.get_ref().as_table() else {
        errors.push(map.diagnostic(span, "`check` must be a table ([rule.check])"));
        return None;
    };
    let Some((_, kind)) = table.iter().find(|(k, _)| k.get_ref() == "kind") else {
        errors.push(map.diagnostic(span, format!("missing field `kind` (one of {})", quoted(CheckSpec::KINDS))));
        return None;
    };
    let Some(kind_name) = kind.get_ref().as_str() else {
        errors.push(map.diagnostic(kind.span(), "`kind` must be a string"));
        return None;
    };
    if !CheckSpec::KINDS.contains(&kind_name) {
        errors.push(map.diagnostic(
            kind.span(),
            format!("unknown variant `{kind_name}`, expected one of {}", quoted(CheckSpec::KINDS)),
        ));
        return None;
    }
    let mut params: DeTable =
        table.iter().filter(|(k, _)| k.get_ref() != "kind").map(|(k, v)| (k.clone(), v.clone())).collect();
    let param_spans: HashMap<String, Range<usize>> =
        params.iter().map(|(k, v)| (k.get_ref().to_string(), v.span())).collect();
    let mut failed = false;
    let spec = loop {
        let input = ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(params.clone())));
        // `kind_name` is one of CheckSpec::KINDS (checked above), for which
        // parse always gives Some.
        match CheckSpec::parse(kind_name, input).expect("the kind is known") {
            Ok(spec) => break Some(spec),
            Err(e) => {
                // A field left out because it did not read is not missing.
                let removed_missing = failed && e.message().starts_with("missing field");
                if !removed_missing {
                    errors.push(map.error(&e, &span));
                }
                failed = true;
                let at = e.span().unwrap_or(0..0);
                let culprit = params
                    .iter()
                    .find(|(k, v)| k.span().start <= at.start && at.start < v.span().end.max(k.span().end))
                    .map(|(k, _)| k.clone());
                match culprit {
                    Some(key) if !removed_missing => {
                        params.remove(&key);
                    }
                    _ => break None,
                }
            }
        }
    };
    let spec = spec.filter(|_| !failed)?;
    let mut valid = true;
    for problem in spec.validate() {
        let at = problem.param.and_then(|p| param_spans.get(p)).cloned().unwrap_or_else(|| span.clone());
        errors.push(map.diagnostic(at, format!("check: {}", problem.message)));
        valid = false;
    }
    valid.then_some(ReadCheck { spec, span, references: rule_references(table) })
}

/// "`a`, `b`, `c`"
fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// A TOML date field that must be a plain calendar date (`2025-05-05`).
pub(crate) fn plain_date(
    value: &Option<Spanned<toml::value::Datetime>>,
    field: &str,
    map: &SourceMap,
    errors: &mut Vec<Diagnostic>,
) -> Option<time::Date> {
    let value = value.as_ref()?;
    let date = calendar_date(value.get_ref());
    if date.is_none() {
        errors.push(map.diagnostic(value.span(), format!("{field} must be a plain date such as 2025-05-05")));
    }
    date
}

/// The calendar date a TOML date names, if it is a plain date (no time, no
/// offset) that exists.
fn calendar_date(datetime: &toml::value::Datetime) -> Option<time::Date> {
    match (datetime.date, datetime.time, datetime.offset) {
        (Some(d), None, None) => time::Month::try_from(d.month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(i32::from(d.year), m, d.day).ok()),
        _ => None,
    }
}

/// A rule's TOML as written, for `rules explain` (see [`rule_text_span`]).
fn rule_text(text: &str, inside: usize, start: usize) -> String {
    text.get(rule_text_span(text, inside, start)).unwrap_or("").trim().to_string()
}

/// The text of one `[[rule]]` entry: from its header line to the next header
/// of another rule (or the end of the file).
fn rule_text_span(text: &str, inside: usize, start: usize) -> Range<usize> {
    let start = text[..start.min(text.len())]
        .rfind("[[rule]]")
        .filter(|_| !text[start.min(text.len())..].trim_start().starts_with("[[rule]]"))
        .unwrap_or(start);
    let end = text[inside.min(text.len())..].find("\n[[rule]]").map_or(text.len(), |i| inside + i);
    start.min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<RuleSet, Vec<Diagnostic>> {
        load_rules(&[RuleSource { name: "t.toml".into(), text: text.into() }])
    }

    #[test]
    fn rule_ids_and_placeholders_are_read_as_their_patterns_say() {
        let id = regex::Regex::new(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$").unwrap();
        for text in [
            "DNS-SRV-01",
            "TLS-VER-02",
            "A-1",
            "AB",
            "A1-B2-C3",
            "1A-B",
            "A--B",
            "A-",
            "-A",
            "a-B",
            "A-b",
            "A-B ",
            "",
            "A-B-",
            "ÄB-1",
            "A_B-1",
            "SIP-OPT-01x",
            "X9-9",
            "A-B\n",
        ] {
            assert_eq!(is_rule_id(text), id.is_match(text), "{text:?}");
        }
        let placeholder = regex::Regex::new(r"\{[a-z_]+\}").unwrap();
        for text in [
            "Set {domain} on {edge_fqdn}",
            "{}",
            "{{domain}}",
            "{Domain}",
            "{do-main}",
            "{domain",
            "x{a}{b}y{",
            "{ab{cd}}",
            "{é}",
            "{_}",
            "none",
            "{a}é{b_c}",
        ] {
            let expected: Vec<&str> = placeholder.find_iter(text).map(|m| m.as_str()).collect();
            assert_eq!(placeholders(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    const GOOD: &str = r#"
[[rule]]
id = "CFG-AEC-01"
title = "Federation is enabled"
severity = "critical"
profiles = ["federation"]
rationale = "why"
remediation = "Set-CsAccessEdgeConfiguration -AllowFederatedUsers $True"
references = ["https://example.org/"]
[rule.check]
kind = "config_field"
object = "AccessEdgeConfiguration"
expect = { AllowFederatedUsers = true }
"#;

    #[test]
    fn builtin_rules_load() {
        let rules = load_rules(&builtin_sources())
            .unwrap_or_else(|e| panic!("{}", e.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")));
        assert!(rules.rules.len() > 30);
    }

    /// Each built-in file as the build read it gives exactly the rules the
    /// validating reader gives from its TOML (which has no problem): the
    /// same fields, check parameters, places and text; and a file that is
    /// not the built-in one, even by a byte, is left to that reader.
    #[test]
    fn builtin_rules_read_as_built_are_the_rules_as_written() {
        for source in builtin_sources() {
            let built = read_built(&source).unwrap_or_else(|| panic!("{}: the built form does not read", source.name));
            let mut written = Catalog::default();
            read_file(&Arc::new(SourceMap::new(&source.name, &source.text)), &mut written);
            let problems: Vec<String> = written.errors.iter().map(|e| e.to_string()).collect();
            assert!(problems.is_empty(), "{}", problems.join("\n"));
            assert_eq!(built.rules.len(), written.rules.len(), "{}", source.name);
            assert!(!built.rules.is_empty(), "{}", source.name);
            for (built, written) in built.rules.iter().zip(&written.rules) {
                assert_eq!(format!("{built:#?}"), format!("{written:#?}"));
            }
            let ids = |catalog: &Catalog| catalog.ids.iter().map(|place| place.what.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&built), ids(&written), "{}", source.name);

            let edited = RuleSource { text: source.text.replacen("[[rule]]", "\n[[rule]]", 1), ..source.clone() };
            assert!(read_built(&edited).is_none(), "{}", source.name);
            let renamed = RuleSource { name: format!("my-{}", source.name), ..source.clone() };
            assert!(read_built(&renamed).is_none(), "{}", source.name);
        }
    }

    #[test]
    fn every_rule_file_is_built_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| format!("rules/{}", e.file_name().to_string_lossy())))
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILTIN.iter().map(|(name, _, _)| name.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in, "add new rule files to BUILTIN");
    }

    /// Files read side by side (a small one first, so that the largest-first
    /// shares read them out of order) give what reading them one after
    /// another gives: the rules, each with its own text and line, and the
    /// problems, in the files' order; a rule ID given twice is named where
    /// it comes second, after the files' own problems.
    #[test]
    fn files_read_side_by_side_keep_the_files_order() {
        let rule = |id: &str| GOOD.replace("CFG-AEC-01", id);
        let many: String = (1..=20).map(|n| rule(&format!("CFG-BBB-{n:02}"))).collect();
        let sources = |a: String, b: String, c: String| {
            [("a.toml", a), ("b.toml", b), ("c.toml", c)].map(|(name, text)| RuleSource { name: name.into(), text })
        };
        let good = sources(rule("CFG-AAA-01"), many.clone(), format!("{}{}", rule("CFG-CCC-01"), rule("CFG-CCC-02")));
        let rules = load_rules(&good).unwrap();
        let ids: Vec<&str> = rules.rules.iter().map(|r| &*r.id).collect();
        let mut expected = vec!["CFG-AAA-01".to_string()];
        expected.extend((1..=20).map(|n| format!("CFG-BBB-{n:02}")));
        expected.extend(["CFG-CCC-01".to_string(), "CFG-CCC-02".to_string()]);
        assert_eq!(ids, expected);
        for (rule, line) in rules.rules.iter().zip([2].into_iter().chain((0..20).map(|n| 2 + 13 * n)).chain([2, 15])) {
            assert_eq!(rule.origin.line, line, "{}", rule.id);
            assert_eq!(rule.source_text.matches("[[rule]]").count(), 1, "{}", rule.id);
            assert!(rule.source_text.contains(&format!("id = \"{}\"", rule.id)), "{}", rule.id);
        }

        let bad = sources(
            rule("CFG-AAA-01").replace("severity = \"critical\"", "severity = \"urgent\""),
            format!("{many}{}", rule("CFG-CCC-01")),
            format!("{}{}", rule("CFG-CCC-01"), rule("CFG-CCC-02").replace("rationale = ", "rationales = ")),
        );
        let errors = load_rules(&bad).unwrap_err();
        let places: Vec<(&str, Option<usize>)> = errors.iter().map(|e| (e.file.as_str(), e.line)).collect();
        assert_eq!(places, [("a.toml", Some(5)), ("c.toml", Some(20)), ("c.toml", Some(15)), ("c.toml", Some(3))]);
        assert!(errors[1].message.starts_with("unknown field `rationales`"), "{}", errors[1]);
        assert_eq!(errors[2].message, "missing field `rationale`");
        assert_eq!(errors[3].message, "duplicate rule ID CFG-CCC-01: already defined at b.toml:262");
    }

    #[test]
    fn good_rule_and_its_source_text() {
        let rules = load(GOOD).unwrap();
        assert_eq!(rules.rules[0].origin.line, 2);
        assert!(rules.rules[0].source_text.starts_with("[[rule]]"));
        assert!(rules.rules[0].source_text.ends_with("AllowFederatedUsers = true }"));
    }

    #[test]
    fn errors_point_at_the_place() {
        let bad = GOOD.replace("severity = \"critical\"", "severity = \"urgent\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!((e.line, e.column), (Some(5), Some(12)));
        assert!(e.message.contains("urgent"), "{e}");

        let bad = GOOD.replace("object = ", "objekt = ");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(12), "{e}");
        assert!(e.message.contains("objekt"), "{e}");

        let bad = GOOD.replace("expect = { AllowFederatedUsers = true }", "expect = { AllowFederatedUsers = [1] }");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!((e.line, e.column), (Some(13), Some(34)), "{e}");

        let bad = GOOD.replace("kind = \"config_field\"", "kind = \"config_feld\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(11), "{e}");

        let bad = GOOD.replace("title = \"Federation is enabled\"", "titel = \"x\"");
        let e = &load(&bad).unwrap_err()[0];
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn semantic_pass_collects_everything() {
        let twice = format!("{GOOD}{GOOD}");
        let errors = load(&twice).unwrap_err();
        assert!(
            errors[0].message.contains("duplicate rule ID CFG-AEC-01: already defined at t.toml:2"),
            "{}",
            errors[0]
        );
        let bad = GOOD.replace("https://example.org/", "example.org").replace("$True", "{partner}");
        assert_eq!(load(&bad).unwrap_err().len(), 2);
    }

    #[test]
    fn several_mistakes_in_one_check_are_each_reported() {
        let bad = GOOD
            .replace("object = \"AccessEdgeConfiguration\"", "object = \"AccessEdgeConfig\"\nquantifer = \"all\"")
            .replace("expect = { AllowFederatedUsers = true }", "expect = { AllowFederatedUsers = [1] }");
        let errors = load(&bad).unwrap_err();
        let mut lines: Vec<Option<usize>> = errors.iter().map(|e| e.line).collect();
        lines.sort();
        assert_eq!(lines, [Some(12), Some(13), Some(14)], "{errors:#?}");
    }

    #[test]
    fn a_reference_to_an_unknown_rule_is_an_error_at_the_parameter() {
        let bad = GOOD.replace(
            "[rule.check]\nkind = \"config_field\"\nobject = \"AccessEdgeConfiguration\"\nexpect = { AllowFederatedUsers = true }",
            "[rule.check]\nkind = \"tls_versions\"\nconnection_rule = \"TLS-CON-99\"",
        );
        let errors = load(&bad).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!((errors[0].line, errors[0].column), (Some(12), Some(19)), "{}", errors[0]);
        assert!(errors[0].message.contains("TLS-CON-99"), "{}", errors[0]);
    }
}
