//! SARIF 2.1.0 (`--format sarif`), for code scanning (GitHub, Azure DevOps,
//! GitLab): one reporting descriptor per rule that ran, with its rationale and
//! fix; one result per failure and per error (kind `fail`, `open`), suppressed
//! ones carrying their suppression; with a baseline, each result's
//! `baselineState` and the fixed problems as `absent` results.
//!
//! Locations: every result has a logical location on the partner's path —
//! domain → SRV target → host:port — from `run.logicalLocations`, and a
//! physical one, which code scanning requires of every result: a
//! configuration finding's snapshot file and line, a certificate file, the
//! `--domains-file` line of a domain, and otherwise the rule's own definition
//! (its file and line). Relative paths are relative to `%SRCROOT%` (where
//! fedscan ran); the built-in rules' files to `FEDSCAN_RULES` (the rule pack
//! compiled into fedscan). `partialFingerprints` is the finding's
//! fingerprint: the same rule and target give the same value on every run.
//!
//! The types are `serde-sarif`'s, generated from the official schema; the
//! text is written by [`to_json`], so values from the network stay escaped.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult,
    ResultBaselineState, ResultKind, ResultLevel, Run, RunAutomationDetails, Sarif, Suppression, Tool, ToolComponent,
};

use super::Report;
use crate::findings::{BaselineState, Finding, Severity, Status, Target};
use crate::rules::{RuleSet, builtin_sources};
use crate::text::to_json;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where relative paths start: the directory fedscan ran in.
const SRCROOT: &str = "%SRCROOT%";
/// Where the built-in rules' files are: the rule pack compiled into fedscan.
const BUILTIN_RULES: &str = "FEDSCAN_RULES";
/// The key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "fedscanFinding/v1";

/// A severity as code scanning ranks it (`security-severity`, 0.0–10.0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

fn enum_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn text(text: impl Into<String>) -> Message {
    Message { text: Some(text.into()), ..Default::default() }
}

fn multiformat(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text.into()).build()
}

fn properties(entries: impl IntoIterator<Item = (&'static str, Value)>, tags: Vec<String>) -> PropertyBag {
    PropertyBag {
        tags: (!tags.is_empty()).then_some(tags),
        additional_properties: entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

/// A path as a URI reference: relative paths stay relative (to the
/// repository, for code scanning), absolute ones become `file://` URIs; every
/// character outside the unreserved set and `/` is percent-encoded.
pub fn path_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    if path.starts_with('/') { format!("file://{out}") } else { out }
}

/// A file and line: an absolute path as a `file://` URI, a relative one
/// relative to `%SRCROOT%`.
fn physical(uri_path: &str, line: Option<usize>) -> PhysicalLocation {
    let uri = path_uri(uri_path);
    let base = (!uri.starts_with("file://")).then(|| SRCROOT.to_string());
    located(ArtifactLocation { uri: Some(uri), uri_base_id: base, ..Default::default() }, line)
}

fn located(artifact: ArtifactLocation, line: Option<usize>) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: Some(artifact),
        region: line.map(|line| Region { start_line: Some(line as i64), ..Default::default() }),
        ..Default::default()
    }
}

/// Where a rule is defined: a built-in rule in the rule pack, a user's in
/// their file; `None` for a rule the run does not know.
fn rule_definition(rules: &RuleSet, builtin: &[String], id: &str) -> Option<PhysicalLocation> {
    let origin = &rules.get(id)?.origin;
    if builtin.contains(&origin.file) {
        let artifact = ArtifactLocation {
            uri: Some(path_uri(&origin.file)),
            uri_base_id: Some(BUILTIN_RULES.to_string()),
            ..Default::default()
        };
        return Some(located(artifact, Some(origin.line)));
    }
    Some(physical(&origin.file, Some(origin.line)))
}

/// `run.logicalLocations`, built as findings ask for them: each node once,
/// with its parent's index. Kept compact (a batch has a few per domain) and
/// made SARIF's when written.
struct LogicalTree {
    nodes: Vec<Node>,
    /// The node of each fully qualified name, by its hash; names whose hash
    /// another name has too are in `clashes`.
    index: HashMap<u64, u32>,
    clashes: HashMap<Box<str>, u32>,
    /// The kinds named, each once.
    kinds: Vec<String>,
    /// What `index` is keyed by ([`hash_of`]; the tests force clashes).
    hash: fn(&str) -> u64,
}

impl Default for LogicalTree {
    fn default() -> Self {
        LogicalTree {
            nodes: Vec::new(),
            index: HashMap::new(),
            clashes: HashMap::new(),
            kinds: Vec::new(),
            hash: hash_of,
        }
    }
}

struct Node {
    qualified: Box<str>,
    /// Where its own name starts in `qualified`.
    name_at: u32,
    kind: u8,
    parent: Option<u32>,
}

fn hash_of(qualified: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(qualified)
}

impl LogicalTree {
    /// The node named `qualified`, if there is one.
    fn find(&self, qualified: &str) -> Option<usize> {
        let &i = self.index.get(&(self.hash)(qualified))?;
        if &*self.nodes[i as usize].qualified == qualified {
            return Some(i as usize);
        }
        self.clashes.get(qualified).map(|&i| i as usize)
    }

    /// The node for `path` (its names from the root), adding it and its
    /// ancestors as needed; returns its index and fully qualified name.
    fn node(&mut self, path: &[(String, &str)]) -> (usize, String) {
        let mut parent: Option<usize> = None;
        let mut qualified = String::new();
        for (name, kind) in path {
            if !qualified.is_empty() {
                qualified.push('/');
            }
            let name_at = qualified.len() as u32;
            qualified.push_str(name);
            let i = match self.find(&qualified) {
                Some(i) => i,
                None => {
                    let kind = match self.kinds.iter().position(|k| k == kind) {
                        Some(k) => k,
                        None => {
                            self.kinds.push(kind.to_string());
                            self.kinds.len() - 1
                        }
                    };
                    let i = self.nodes.len() as u32;
                    self.nodes.push(Node {
                        qualified: qualified.as_str().into(),
                        name_at,
                        kind: kind as u8,
                        parent: parent.map(|p| p as u32),
                    });
                    match self.index.entry((self.hash)(&qualified)) {
                        std::collections::hash_map::Entry::Occupied(_) => {
                            self.clashes.insert(qualified.as_str().into(), i);
                        }
                        std::collections::hash_map::Entry::Vacant(place) => {
                            place.insert(i);
                        }
                    }
                    i as usize
                }
            };
            parent = Some(i);
        }
        (parent.unwrap_or(0), qualified)
    }

    /// Node `i` as SARIF has it.
    fn location(&self, i: usize) -> LogicalLocation {
        let node = &self.nodes[i];
        LogicalLocation {
            name: Some(node.qualified[node.name_at as usize..].to_string()),
            fully_qualified_name: Some(node.qualified.to_string()),
            kind: self.kinds.get(node.kind as usize).cloned(),
            parent_index: node.parent.map(i64::from),
            index: Some(i as i64),
            ..Default::default()
        }
    }
}

/// The logical path of a target: domain → SRV target → host:port for the
/// federation path, configuration → object, and so on.
fn logical_path(target: Option<&Target>, domain: Option<&str>) -> Vec<(String, &'static str)> {
    let mut path: Vec<(String, &'static str)> = Vec::new();
    match target {
        Some(Target::Domain(name)) => path.push((name.clone(), "namespace")),
        Some(target @ (Target::Endpoint { host, port, .. } | Target::Service { host, port })) => {
            if let Some(domain) = domain {
                path.push((domain.to_string(), "namespace"));
            }
            path.push((host.clone(), "module"));
            path.push((format!("{host}:{port}"), "resource"));
            if let Target::Endpoint { address, .. } = target {
                path.push((address.to_string(), "resource"));
            }
        }
        Some(Target::Config { object, .. }) => {
            path.push(("configuration".into(), "namespace"));
            path.push((object.clone(), "object"));
        }
        Some(Target::File(file)) => path.push((file.clone(), "resource")),
        Some(Target::Product(product)) => path.push((product.clone(), "module")),
        Some(Target::Area(area)) => path.push((area.clone(), "namespace")),
        None => path.push(("scan".into(), "namespace")),
    }
    path
}

/// A rule's friendly name as SARIF recommends it, from its title:
/// "SRV record via DNS" → `SrvRecordViaDns`.
fn pascal_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let (first, rest) = word.split_at(1);
            first.to_ascii_uppercase() + &rest.to_ascii_lowercase()
        })
        .collect()
}

fn descriptor(rule: &crate::rules::Rule) -> ReportingDescriptor {
    let references = rule.references.join("\n");
    let help = format!(
        "{}\n\nHow to fix a failure:\n{}\n\nReferences:\n{references}",
        rule.rationale.trim(),
        rule.remediation.trim()
    );
    let mut descriptor = ReportingDescriptor::builder().id(rule.id.to_string()).build();
    descriptor = ReportingDescriptor {
        name: Some(pascal_case(&rule.title)),
        short_description: Some(multiformat(rule.title.to_string())),
        full_description: Some(multiformat(rule.rationale.trim().to_string())),
        help: Some(multiformat(help)),
        help_uri: rule.references.iter().find(|r| r.starts_with("https://")).cloned(),
        default_configuration: Some(ReportingConfiguration {
            level: Some(enum_value(level(rule.severity))),
            ..Default::default()
        }),
        properties: Some(properties(
            [
                ("security-severity", Value::from(security_severity(rule.severity))),
                ("severity", Value::from(rule.severity.name())),
                ("check", Value::from(rule.check.kind())),
            ],
            std::iter::once("security".to_string()).chain(rule.profiles.iter().map(|p| p.name().to_string())).collect(),
        )),
        ..descriptor
    };
    descriptor
}

pub fn render(report: &Report, rules: &RuleSet) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write(report, rules, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The report, written as it is produced; a batch's results read back from
/// disk, in order, when they were kept there.
pub fn write(report: &Report, rules: &RuleSet, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let index = report.discovery.index();
    let mut tree = LogicalTree::default();
    let mut spilled = report.spilled_findings.sarif();
    // The rules that ran, in ID order; results point at them by index.
    let mut ran: Vec<&str> = match &spilled {
        Some(spilled) => spilled.ran.iter().map(String::as_str).collect(),
        None => report.findings.iter().filter(|f| f.not_run.is_none()).map(|f| &*f.rule).collect(),
    };
    ran.sort_unstable();
    ran.dedup();
    let descriptors: Vec<ReportingDescriptor> = ran.iter().filter_map(|id| rules.get(id)).map(descriptor).collect();
    let rule_index: HashMap<String, usize> = descriptors.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect();

    let builtin: Vec<String> = builtin_sources().into_iter().map(|s| s.name).collect();
    let definition = |id: &str| rule_definition(rules, &builtin, id);
    let mut results: Vec<SarifResult> = Vec::new();
    if let Some(spilled) = spilled.as_mut() {
        // The logical locations the kept results name, in their order.
        spilled.results.for_each(|record| {
            let ((_, path), _) = split_record(record)?;
            let path: Vec<(String, &str)> = path.iter().map(|(name, kind)| (name.clone(), kind.as_str())).collect();
            tree.node(&path);
            Ok(())
        })?;
    }
    for finding in report.findings.iter().filter(|f| f.is_problem()) {
        let domain = index.of(finding).and_then(|i| report.discovery.domain(i));
        let node = tree.node(&logical_path(finding.target.as_ref(), domain));
        let rule = rule_index.get(&*finding.rule).copied();
        let mut result = result(finding, domain, &report.domain_lines, node, rule);
        for location in result.locations.iter_mut().flatten() {
            if location.physical_location.is_none() {
                location.physical_location = definition(&finding.rule);
            }
        }
        results.push(result);
    }
    if let Some(baseline) = &report.baseline {
        for fixed in &baseline.fixed {
            let mut fingerprints = BTreeMap::new();
            fingerprints.insert(FINGERPRINT_KEY.to_string(), fixed.fingerprint.clone());
            let (i, qualified) = tree.node(&[(fixed.target.clone(), "resource")]);
            let base =
                SarifResult::builder().message(text(format!("Fixed since the baseline: {}", fixed.message))).build();
            results.push(SarifResult {
                rule_id: Some(fixed.rule.clone()),
                rule_index: rule_index.get(fixed.rule.as_str()).map(|&i| i as i64),
                kind: Some(ResultKind::Pass),
                level: Some(ResultLevel::None),
                baseline_state: Some(enum_value(ResultBaselineState::Absent)),
                partial_fingerprints: Some(fingerprints),
                locations: Some(vec![Location {
                    physical_location: definition(&fixed.rule),
                    logical_locations: Some(vec![LogicalLocation {
                        index: Some(i as i64),
                        fully_qualified_name: Some(qualified),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }]),
                ..base
            });
        }
    }

    let mut notifications: Vec<Notification> = report
        .input_errors
        .iter()
        .map(|e| Notification {
            level: Some(enum_value(ResultLevel::Error)),
            ..Notification::builder().message(text(e.to_string())).build()
        })
        .collect();
    notifications.extend(report.notes.iter().map(|note| Notification {
        level: Some(enum_value(ResultLevel::Note)),
        locations: Some(vec![Location {
            physical_location: Some(physical(&note.path, note.line)),
            ..Default::default()
        }]),
        ..Notification::builder().message(text(note.message.clone())).build()
    }));

    let driver = ToolComponent {
        version: Some(report.tool.version.to_string()),
        semantic_version: Some(report.tool.version.to_string()),
        full_name: Some(format!("fedscan {}", report.tool.version)),
        information_uri: Some(env!("CARGO_PKG_HOMEPAGE").to_string()),
        rules: Some(descriptors),
        ..ToolComponent::builder().name("fedscan").build()
    };
    let run = Run {
        invocations: Some(vec![Invocation {
            exit_code: Some(i64::from(report.summary.exit_code)),
            start_time_utc: Some(report.started_at.clone()),
            end_time_utc: Some(report.finished_at.clone()),
            tool_execution_notifications: (!notifications.is_empty()).then_some(notifications),
            ..Invocation::builder().execution_successful(report.input_errors.is_empty()).build()
        }]),
        // Written from the tree when the results are kept on disk (a
        // batch's are many), where their array stands empty.
        logical_locations: (!tree.nodes.is_empty()).then(|| match spilled {
            Some(_) => Vec::new(),
            None => (0..tree.nodes.len()).map(|i| tree.location(i)).collect(),
        }),
        // Code scanning keeps one analysis per category: the part before
        // the last `/`, here the profiles audited.
        automation_details: Some(RunAutomationDetails {
            id: Some(format!("fedscan/{}/{}", profile_names(report), report.started_at)),
            ..Default::default()
        }),
        original_uri_base_ids: Some(BTreeMap::from([
            (
                SRCROOT.to_string(),
                ArtifactLocation {
                    description: Some(text(
                        "The directory fedscan ran in: snapshots, certificate files, domain lists and rule files given by a relative path are relative to it.",
                    )),
                    ..Default::default()
                },
            ),
            (
                BUILTIN_RULES.to_string(),
                ArtifactLocation {
                    description: Some(text(
                        "fedscan's built-in rule pack (the rules/ directory of its source), compiled into the binary.",
                    )),
                    ..Default::default()
                },
            ),
        ])),
        results: Some(results),
        properties: Some(properties(
            [("summary", serde_json::to_value(&report.summary).unwrap_or(Value::Null))],
            Vec::new(),
        )),
        ..Run::builder().tool(Tool::builder().driver(driver).build()).build()
    };
    let mut sarif = Sarif {
        schema: Some(SCHEMA.into()),
        runs: vec![run],
        ..Sarif::builder().version(Value::from("2.1.0")).build()
    };
    let Some(mut spilled) = spilled else {
        let mut text = to_json(&sarif).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        return out.write_all(text.as_bytes());
    };
    // The run's results, the kept ones first, written where the document's
    // text, serialized straight to the output (a batch's logical locations
    // are large), has their array empty.
    let kept = std::mem::take(&mut sarif.runs[0].results).unwrap_or_default();
    sarif.runs[0].results = Some(Vec::new());
    let results = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        out.write_all(b"\"results\": [")?;
        let mut first = true;
        let mut item = |out: &mut dyn std::io::Write, text: &[u8]| -> std::io::Result<()> {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            out.write_all(RESULT_INDENT.as_bytes())?;
            out.write_all(text)
        };
        spilled.results.for_each(|record| {
            let ((rule, path), text) = split_record(record)?;
            let qualified = qualified_name(&path);
            let node = tree.find(&qualified).unwrap_or(0);
            let rule = rule_index.get(rule.as_str()).map_or_else(|| "null".to_string(), |i| i.to_string());
            let text = String::from_utf8_lossy(text)
                .replacen(&format!("\"ruleIndex\": {RULE_SENTINEL}"), &format!("\"ruleIndex\": {rule}"), 1)
                .replacen(&format!("\"index\": {NODE_SENTINEL}"), &format!("\"index\": {node}"), 1);
            item(&mut *out, text.as_bytes())
        })?;
        for result in &kept {
            let mut text = Vec::new();
            crate::text::write_json_at_depth(&mut text, result, RESULT_DEPTH)?;
            item(&mut *out, &text)?;
        }
        if !first {
            out.write_all(b"\n      ")?;
        }
        out.write_all(b"]")
    };
    // The logical locations, before the results in the document.
    let tree = &tree;
    let locations = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        out.write_all(b"\"logicalLocations\": [")?;
        for i in 0..tree.nodes.len() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            out.write_all(RESULT_INDENT.as_bytes())?;
            let mut text = Vec::new();
            crate::text::write_json_at_depth(&mut text, &tree.location(i), RESULT_DEPTH)?;
            out.write_all(&text)?;
        }
        out.write_all(b"\n      ]")
    };
    let mut splices: std::collections::VecDeque<Splice> = std::collections::VecDeque::new();
    if !tree.nodes.is_empty() {
        splices.push_back((LOCATIONS_EMPTY.as_bytes(), Box::new(locations)));
    }
    splices.push_back((RESULTS_EMPTY.as_bytes(), Box::new(results)));
    let mut document = Splicing { out: &mut *out, held: Vec::new(), splices };
    crate::text::write_json(&mut document, &sarif)?;
    if !document.splices.is_empty() {
        return Err(std::io::Error::other("the SARIF run has no empty results or logical locations array"));
    }
    document.out.write_all(&document.held)?;
    out.write_all(b"\n")
}

/// What writes an array in place of its empty one: the empty array's text,
/// and the writer.
type Splice<'f> = (&'static [u8], Box<dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()> + 'f>);

/// Passes a text on, but for the first of each of its markers, in their
/// order, which their splices write in their place; the bytes that may
/// begin the next marker are held back until the text after them is known.
struct Splicing<'o, 'f> {
    out: &'o mut dyn std::io::Write,
    held: Vec<u8>,
    splices: std::collections::VecDeque<Splice<'f>>,
}

impl std::io::Write for Splicing<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(bytes);
        while let Some((marker, _)) = self.splices.front()
            && let Some(at) = self.held.windows(marker.len()).position(|w| w == *marker)
            && let Some((marker, mut splice)) = self.splices.pop_front()
        {
            self.out.write_all(&self.held[..at])?;
            splice(&mut *self.out)?;
            self.held.drain(..at + marker.len());
        }
        let keep = self.splices.front().map_or(0, |(marker, _)| marker.len() - 1);
        if self.held.len() > keep {
            let pass = self.held.len() - keep;
            self.out.write_all(&self.held[..pass])?;
            self.held.drain(..pass);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The empty logical locations array of a run, as the pretty document shows it.
const LOCATIONS_EMPTY: &str = "\"logicalLocations\": []";
/// The empty results array of a run, as the pretty document shows it.
const RESULTS_EMPTY: &str = "\"results\": []";
/// The indentation of a result in the run's results array, and its depth.
const RESULT_INDENT: &str = "        ";
const RESULT_DEPTH: usize = 4;
/// Stand-ins for a kept result's rule index and logical location index,
/// known only when every result is in: numbers no rule or location has.
const RULE_SENTINEL: i64 = 4_000_000_017;
const NODE_SENTINEL: i64 = 4_000_000_019;

fn qualified_name(path: &[(String, String)]) -> String {
    path.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join("/")
}

/// A kept result: its rule and logical path on the first line, then its text.
#[allow(clippy::type_complexity)]
fn split_record(record: &[u8]) -> std::io::Result<((String, Vec<(String, String)>), &[u8])> {
    let at = record
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| std::io::Error::other("a kept result without its path"))?;
    let head = serde_json::from_slice(&record[..at]).map_err(std::io::Error::other)?;
    Ok((head, &record[at + 1..]))
}

/// A batch's SARIF results kept on disk as it is judged: each problem's
/// result rendered when its chunk is, its rule index and logical location
/// index left to fill in (they depend on every result), and the rules that
/// ran.
#[derive(Debug)]
pub struct SpilledResults {
    pub results: super::spill::FindingSpill,
    pub ran: std::collections::BTreeSet<String>,
}

impl SpilledResults {
    pub fn new() -> std::io::Result<SpilledResults> {
        Ok(SpilledResults { results: super::spill::FindingSpill::new()?, ran: Default::default() })
    }

    /// A chunk's findings: `domain_of` gives the domain a finding belongs to.
    pub fn add_chunk<'d>(
        &mut self,
        findings: &[Finding],
        domain_of: impl Fn(&Finding) -> Option<&'d str>,
        domain_lines: &HashMap<String, (String, usize)>,
        rules: &RuleSet,
    ) -> std::io::Result<()> {
        self.ran.extend(findings.iter().filter(|f| f.not_run.is_none()).map(|f| f.rule.to_string()));
        let builtin: Vec<String> = builtin_sources().into_iter().map(|s| s.name).collect();
        let problems: Vec<Finding> = findings.iter().filter(|f| f.is_problem()).cloned().collect();
        self.results.add_run(&problems, |finding, out| {
            let domain = domain_of(finding);
            let path: Vec<(String, String)> =
                logical_path(finding.target.as_ref(), domain).into_iter().map(|(n, k)| (n, k.to_string())).collect();
            let node = (NODE_SENTINEL as usize, qualified_name(&path));
            let mut result = result(finding, domain, domain_lines, node, Some(RULE_SENTINEL as usize));
            for location in result.locations.iter_mut().flatten() {
                if location.physical_location.is_none() {
                    location.physical_location = rule_definition(rules, &builtin, &finding.rule);
                }
            }
            let _ = serde_json::to_writer(&mut *out, &(&finding.rule, &path));
            out.push(b'\n');
            let _ = crate::text::write_json_at_depth(out, &result, RESULT_DEPTH);
        })
    }
}

/// The profiles audited, as a category name: `federation+skype`.
fn profile_names(report: &Report) -> String {
    let names: Vec<&str> = report.profiles.iter().map(|p| p.name()).collect();
    names.join("+")
}

/// Text ending as a sentence does, so that two can follow each other.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) { text.to_string() } else { format!("{text}.") }
}

/// A problem's result: `domain` the one its target belongs to, `node` its
/// logical location's index and fully qualified name, `rule_index` its
/// rule's place among the run's rules.
fn result(
    finding: &Finding,
    domain: Option<&str>,
    domain_lines: &HashMap<String, (String, usize)>,
    (node, qualified): (usize, String),
    rule_index: Option<usize>,
) -> SarifResult {
    let physical_location = match finding.target.as_ref() {
        Some(Target::Config { source: Some(source), .. }) => Some(physical(&source.file, source.line)),
        Some(Target::File(path)) => Some(physical(path, None)),
        // A record of a planned zone: the line a fix goes on.
        _ if finding.location.is_some() => finding.location.as_ref().map(|l| physical(&l.file, l.line)),
        _ => domain
            .or(match finding.target.as_ref() {
                Some(Target::Domain(d)) => Some(d.as_str()),
                _ => None,
            })
            .and_then(|d| domain_lines.get(d))
            .map(|(file, line)| physical(file, Some(*line))),
    };
    let (kind, level, message) = match finding.status {
        Status::Fail => (
            ResultKind::Fail,
            level(finding.severity),
            format!("{} Fix: {}", sentence(&finding.message), sentence(&finding.remediation)),
        ),
        _ => (ResultKind::Open, ResultLevel::None, format!("Could not be checked: {}", sentence(&finding.message))),
    };
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), finding.fingerprint());
    SarifResult {
        rule_id: Some(finding.rule.to_string()),
        rule_index: rule_index.map(|i| i as i64),
        kind: Some(kind),
        level: Some(level),
        locations: Some(vec![Location {
            physical_location,
            logical_locations: Some(vec![LogicalLocation {
                index: Some(node as i64),
                fully_qualified_name: Some(qualified),
                ..Default::default()
            }]),
            ..Default::default()
        }]),
        partial_fingerprints: Some(fingerprints),
        baseline_state: finding.baseline.map(|state| {
            enum_value(match state {
                BaselineState::New => ResultBaselineState::New,
                BaselineState::Unchanged => ResultBaselineState::Unchanged,
                BaselineState::Updated => ResultBaselineState::Updated,
            })
        }),
        suppressions: finding.suppressed.as_ref().map(|s| {
            vec![Suppression {
                status: Some(Value::from("accepted")),
                justification: Some(s.reason.clone()),
                location: Some(Location {
                    physical_location: Some(physical(&s.file, Some(s.line))),
                    ..Default::default()
                }),
                ..Suppression::builder().kind(Value::from("external")).build()
            }]
        }),
        properties: Some(properties(
            [
                ("severity", Value::from(finding.severity.name())),
                ("status", Value::from(finding.status.name())),
                ("target", Value::from(finding.target.as_ref().map(|t| t.to_string()))),
            ],
            Vec::new(),
        )),
        ..SarifResult::builder().message(text(message)).build()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{LogicalTree, Splicing};

    /// Names that share a hash are told apart by their text: each is one
    /// node, found again, with its own parent, as when no hash is shared.
    #[test]
    fn logical_locations_whose_names_share_a_hash_stay_distinct() {
        let paths: Vec<Vec<(String, &str)>> = [
            vec![("contoso.com", "namespace"), ("sip.contoso.com:5061", "resource")],
            vec![("contoso.com", "namespace"), ("_sipfederationtls._tcp.contoso.com", "resource")],
            vec![("fabrikam.com", "namespace"), ("sip.fabrikam.com:5061", "resource")],
            vec![("contoso.com", "namespace"), ("sip.contoso.com:5061", "resource")],
        ]
        .into_iter()
        .map(|path| path.into_iter().map(|(name, kind)| (name.to_string(), kind)).collect())
        .collect();
        let build = |tree: &mut LogicalTree| paths.iter().map(|p| tree.node(p)).collect::<Vec<_>>();
        let mut clashing = LogicalTree { hash: |_| 7, ..LogicalTree::default() };
        let mut distinct = LogicalTree::default();
        let (found, expected) = (build(&mut clashing), build(&mut distinct));
        assert_eq!(found, expected);
        assert_eq!(clashing.nodes.len(), 5);
        assert_eq!(clashing.clashes.len(), 4, "every name but the first shares the one hash");
        for i in 0..clashing.nodes.len() {
            let qualified = clashing.nodes[i].qualified.to_string();
            assert_eq!(clashing.find(&qualified), Some(i), "{qualified}");
            assert_eq!(clashing.location(i), distinct.location(i));
        }
        assert_eq!(clashing.find("contoso.com/nowhere"), None);
    }

    /// Each marker is found however the text is cut into writes, the first
    /// of each, in their order: a later one is passed on as it is.
    #[test]
    fn the_first_of_each_marker_is_spliced_however_the_text_is_written() {
        let text = b"{\"a\": \"results\\\": []\", \"l\": [], \"results\": [], \"b\": {\"results\": [], \"l\": []}}";
        for piece in 1..text.len() {
            let mut out = Vec::new();
            let mut splices: std::collections::VecDeque<super::Splice> = std::collections::VecDeque::new();
            splices.push_back((b"\"l\": []", Box::new(|out: &mut dyn Write| out.write_all(b"\"l\": [0]"))));
            splices
                .push_back((b"\"results\": []", Box::new(|out: &mut dyn Write| out.write_all(b"\"results\": [1, 2]"))));
            let mut splicing = Splicing { out: &mut out, held: Vec::new(), splices };
            for chunk in text.chunks(piece) {
                splicing.write_all(chunk).unwrap();
            }
            assert!(splicing.splices.is_empty());
            let held = std::mem::take(&mut splicing.held);
            out.extend_from_slice(&held);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "{\"a\": \"results\\\": []\", \"l\": [0], \"results\": [1, 2], \"b\": {\"results\": [], \"l\": []}}",
                "in pieces of {piece}"
            );
        }
    }
}
