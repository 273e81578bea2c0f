//! Findings: what the rules concluded, the report's unit; and the outcome a
//! check returns, from which the engine makes one.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::facts::cert_listing::ListedCertificate;
use crate::facts::config_view::Located;
use crate::facts::tls::Endpoint;
use crate::facts::x509::CertOrigin;
use crate::text::JsonObject;

/// The report's schema name, which a baseline (a report) must carry.
pub const REPORT_SCHEMA: &str = "fedscan.report/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked and fine.
    Pass,
    /// Checked and wrong; the severity says how much it matters.
    Fail,
    /// Could not be checked: the input to judge was unreadable or ambiguous.
    Error,
    /// Not applicable: no input for it, profile not selected, precondition unmet.
    Skip,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Pass, Status::Fail, Status::Error, Status::Skip];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

/// Why a rule was not run at all (rather than run and found not applicable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotRun {
    ProfileNotSelected,
    NotYetEffective,
    NoLongerEffective,
}

/// What a finding is about. Shown as one string (the report's `target`), and
/// given in parts in the JSON report so that no reader parses the string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A SIP domain, or a partner's domain: `contoso.com`.
    Domain(String),
    /// One address of a federation host: `sip.contoso.com:5061 (52.1.2.3)`.
    Endpoint { host: String, port: u16, address: IpAddr },
    /// A federation host on a port, over all its addresses: `sip.contoso.com:5061`.
    Service { host: String, port: u16 },
    /// A certificate file: `file edge.pem`.
    File(String),
    /// A configuration object, or a kind of them: `PublicProvider[Skype]`,
    /// with the snapshot it was read from when it is one object.
    Config { object: String, source: Option<Source> },
    /// The product the snapshot shows: `Lync Server 2013`.
    Product(String),
    /// An area of the scan as a whole, when no narrower target applies:
    /// `DNS`, `TLS`, `SIP`, `partners`.
    Area(String),
}

impl Target {
    pub fn domain(name: impl Into<String>) -> Target {
        Target::Domain(name.into())
    }

    /// A kind of configuration object, or several: `AccessEdgeConfiguration`.
    pub fn config(label: impl Into<String>) -> Target {
        Target::Config { object: label.into(), source: None }
    }

    pub fn area(name: impl Into<String>) -> Target {
        Target::Area(name.into())
    }

    /// The host of an endpoint or service target.
    pub fn host(&self) -> Option<&str> {
        match self {
            Target::Endpoint { host, .. } | Target::Service { host, .. } => Some(host),
            _ => None,
        }
    }

    /// The target as reports show it (its `Display`): borrowed when it is
    /// one string, and put together without the formatting machinery when
    /// not (every finding's target is shown at least twice in a report).
    pub fn shown(&self) -> Cow<'_, str> {
        let host_port = |host: &str, port: u16, more: usize| {
            let mut text = String::with_capacity(host.len() + 6 + more);
            text.push_str(host);
            text.push(':');
            text.push_str(itoa::Buffer::new().format(port));
            text
        };
        match self {
            Target::Domain(text) | Target::Config { object: text, .. } | Target::Product(text) | Target::Area(text) => {
                Cow::Borrowed(text)
            }
            Target::Endpoint { host, port, address } => {
                let mut text = host_port(host, *port, 20);
                text.push_str(" (");
                match address {
                    IpAddr::V4(v4) => {
                        for (i, octet) in v4.octets().iter().enumerate() {
                            if i > 0 {
                                text.push('.');
                            }
                            text.push_str(itoa::Buffer::new().format(*octet));
                        }
                    }
                    IpAddr::V6(v6) => {
                        use fmt::Write;
                        let _ = write!(text, "{v6}");
                    }
                }
                text.push(')');
                Cow::Owned(text)
            }
            Target::Service { host, port } => Cow::Owned(host_port(host, *port, 0)),
            Target::File(path) => Cow::Owned(format!("file {path}")),
        }
    }
}

/// The parts of a finding's target, for machine readers: `{kind, …}`, and
/// for a domain the planned zone line the finding is about.
fn write_target_parts(parts: &mut JsonObject, target: &Target, location: Option<&Source>) {
    // A snapshot object's place: its line, or its JSON pointer.
    let located = |parts: &mut JsonObject, source: &Source, pointer: bool| {
        parts.str("file", &source.file);
        if let Some(line) = source.line {
            parts.number("line", line as u64);
        }
        if let (Some(at), true) = (&source.pointer, pointer) {
            parts.str("pointer", at);
        }
    };
    match target {
        Target::Domain(domain) => {
            parts.str("kind", "domain");
            parts.str("domain", domain);
            // The zone record the finding is about: a line.
            if let Some(location) = location {
                located(parts, location, false);
            }
        }
        Target::Endpoint { host, port, address } => {
            parts.str("kind", "endpoint");
            parts.str("host", host);
            parts.number("port", u64::from(*port));
            parts.str("address", &address.to_string());
        }
        Target::Service { host, port } => {
            parts.str("kind", "service");
            parts.str("host", host);
            parts.number("port", u64::from(*port));
        }
        Target::File(path) => {
            parts.str("kind", "file");
            parts.str("path", path);
        }
        Target::Config { object, source } => {
            parts.str("kind", "config");
            parts.str("object", object);
            if let Some(source) = source {
                located(parts, source, true);
            }
        }
        Target::Product(name) => {
            parts.str("kind", "product");
            parts.str("product", name);
        }
        Target::Area(area) => {
            parts.str("kind", "area");
            parts.str("area", area);
        }
    }
}

/// The key under which evidence names the planned zone record it read
/// (`{"file", "line"}`): the first such record is the finding's location.
pub const SOURCE: &str = "source";

/// The first planned-zone record the evidence names, depth first.
pub fn location_in(evidence: &Value) -> Option<Source> {
    match evidence {
        Value::Object(map) => {
            if let Some(source) = map.get(SOURCE)
                && let (Some(file), Some(line)) = (source["file"].as_str(), source["line"].as_u64())
            {
                return Some(Source { file: file.to_string(), line: Some(line as usize), pointer: None });
            }
            map.values().find_map(location_in)
        }
        Value::Array(values) => values.iter().find_map(location_in),
        _ => None,
    }
}

/// Where in a snapshot a configuration object was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    pub file: String,
    /// The line of a Format-List object.
    pub line: Option<usize>,
    /// The JSON pointer of a JSON object.
    pub pointer: Option<String>,
}

impl From<&Located<'_>> for Target {
    fn from(located: &Located) -> Target {
        let object = located.object;
        Target::Config {
            object: object.label(),
            source: Some(Source { file: located.path.to_string(), line: object.line, pointer: object.pointer.clone() }),
        }
    }
}

impl From<&ListedCertificate<'_>> for Target {
    fn from(cert: &ListedCertificate) -> Target {
        let first = &cert.objects[0];
        Target::Config {
            object: cert.label(),
            source: Some(Source {
                file: first.path.to_string(),
                line: first.object.line,
                pointer: first.object.pointer.clone(),
            }),
        }
    }
}

impl From<&Target> for Target {
    fn from(target: &Target) -> Target {
        target.clone()
    }
}

impl From<&Endpoint> for Target {
    fn from(endpoint: &Endpoint) -> Target {
        Target::Endpoint { host: endpoint.host.clone(), port: endpoint.port, address: endpoint.address }
    }
}

impl From<&CertOrigin> for Target {
    fn from(origin: &CertOrigin) -> Target {
        match origin {
            CertOrigin::Presented { host, port } => Target::Service { host: host.clone(), port: *port },
            CertOrigin::File(path) => Target::File(path.clone()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

/// The step of a partner's path a check judges: the order in which a
/// domain's findings are told (its DNS records, then the connection, the
/// protocol, the certificate and the SIP service), and configuration after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Step {
    /// The federation SRV record and where it leads.
    FederationDns,
    /// The domain's other DNS records.
    Dns,
    /// The TCP connection and TLS handshake.
    Connection,
    /// Protocol versions and client authentication.
    Protocol,
    /// The certificate presented.
    Certificate,
    /// The SIP service behind the handshake.
    Sip,
    /// Not on the path: the configuration, the product.
    #[default]
    Configuration,
}

/// A value a rule's remediation may name, filled in per finding by the check
/// that found it: `{identity}` is quoted for PowerShell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Placeholder {
    /// The identity of a configuration object.
    Identity,
    /// A SIP or partner domain.
    Domain,
    /// A host name: the Access Edge FQDN, an SRV target.
    Fqdn,
}

impl Placeholder {
    pub const ALL: [Placeholder; 3] = [Placeholder::Identity, Placeholder::Domain, Placeholder::Fqdn];

    /// As written in a remediation: `{identity}`.
    pub fn token(self) -> &'static str {
        match self {
            Placeholder::Identity => "{identity}",
            Placeholder::Domain => "{domain}",
            Placeholder::Fqdn => "{fqdn}",
        }
    }

    /// What the remediation shows when the check had no value for it.
    pub fn unknown(self) -> &'static str {
        match self {
            Placeholder::Identity => "<identity>",
            Placeholder::Domain => "<domain>",
            Placeholder::Fqdn => "<Access Edge FQDN>",
        }
    }
}

/// What a check shows as a finding's evidence: JSON, and where in the
/// inputs (a planned zone's record) it was read.
pub trait AsEvidence: Serialize {
    fn location(&self) -> Option<Source>;
}

impl AsEvidence for Value {
    fn location(&self) -> Option<Source> {
        location_in(self)
    }
}

/// One conclusion of a check about one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub target: Target,
    pub message: String,
    /// Written as JSON once, when the check gives it: a batch has tens of
    /// thousands of outcomes, and a tree of values costs several times its
    /// text to build, write and drop.
    pub evidence: Evidence,
    /// Where the evidence was read, when in a file the user can open.
    pub location: Option<Source>,
    /// A severity below the rule's, for outcomes the rule treats as milder.
    pub severity: Option<Severity>,
    /// Values for the remediation's placeholders.
    pub vars: BTreeMap<Placeholder, String>,
}

impl Outcome {
    pub fn new(status: Status, target: impl Into<Target>, message: impl Into<String>) -> Self {
        Outcome {
            status,
            target: target.into(),
            message: message.into(),
            evidence: Evidence::null(),
            location: None,
            severity: None,
            vars: BTreeMap::new(),
        }
    }
    pub fn pass(target: impl Into<Target>, message: impl Into<String>) -> Self {
        Self::new(Status::Pass, target, message)
    }
    pub fn fail(target: impl Into<Target>, message: impl Into<String>) -> Self {
        Self::new(Status::Fail, target, message)
    }
    pub fn error(target: impl Into<Target>, message: impl Into<String>) -> Self {
        Self::new(Status::Error, target, message)
    }
    pub fn skip(target: impl Into<Target>, message: impl Into<String>) -> Self {
        Self::new(Status::Skip, target, message)
    }
    pub fn evidence(mut self, evidence: impl AsEvidence) -> Self {
        self.location = evidence.location();
        self.evidence = Evidence::of(&evidence);
        self
    }
    /// Evidence written already as JSON (one shared by several outcomes),
    /// which names no place in the inputs.
    pub fn written_evidence(self, evidence: Box<serde_json::value::RawValue>) -> Self {
        self.written_evidence_at(evidence, None)
    }

    /// [`Outcome::written_evidence`] read at `location`.
    pub fn written_evidence_at(mut self, evidence: Box<serde_json::value::RawValue>, location: Option<Source>) -> Self {
        self.location = location;
        self.evidence = Evidence(evidence);
        self
    }
    pub fn severity(mut self, severity: Option<Severity>) -> Self {
        self.severity = severity;
        self
    }
    pub fn target_to(mut self, target: impl Into<Target>) -> Self {
        self.target = target.into();
        self
    }
    pub fn var(mut self, name: Placeholder, value: impl Into<String>) -> Self {
        self.vars.insert(name, value.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule's ID, title, remediation and references are shared with
    /// the rule (a batch has tens of thousands of findings of 85 rules).
    pub rule: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    pub status: Status,
    /// The domain, endpoint, certificate or configuration object the finding
    /// is about; `None` for a rule that was not run.
    pub target: Option<Target>,
    pub message: String,
    /// The facts the rule read, as compact JSON text with the report's
    /// escapes: a tree of values per finding costs several times its text,
    /// and a batch has tens of thousands of findings.
    pub evidence: Evidence,
    pub remediation: Arc<str>,
    pub references: Arc<[String]>,
    pub not_run: Option<NotRun>,
    /// Where on a partner's path the rule looks (not serialized: the table's order).
    pub step: Step,
    /// Compared with a previous report (`--baseline`); set for failures and errors.
    pub baseline: Option<BaselineState>,
    /// Accepted in a suppressions file: shown, but not counted.
    pub suppressed: Option<Suppressed>,
    /// The planned zone record the finding is about (`--zone`): written in
    /// the target's parts, and the SARIF result's physical location.
    pub location: Option<Source>,
}

/// A failure or error compared with the previous report's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not a problem in the baseline.
    New,
    /// The same problem, with the same status.
    Unchanged,
    /// The same rule and target, a problem before and now, with another status
    /// (an error that is now a failure, or the reverse).
    Updated,
}

/// The suppression that accepted a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The suppressions file and the line of the entry.
    pub file: String,
    pub line: usize,
}

impl Finding {
    /// The finding's place in the reports' order: by target, then rule ID,
    /// findings without a target last (sorted stably, as judged otherwise).
    pub fn order_key(&self) -> (bool, String, String) {
        let (none, target, rule) = self.order_parts();
        (none, target.into_owned(), rule.to_string())
    }

    /// [`Finding::order_key`]'s parts, borrowed where they can be.
    pub fn order_parts(&self) -> (bool, Cow<'_, str>, &str) {
        (self.target.is_none(), self.target.as_ref().map(Target::shown).unwrap_or_default(), &self.rule)
    }

    /// The same for the same rule and target on every run, whatever the
    /// message says (a count of days, an address order): what baselines and
    /// SARIF's `partialFingerprints` match findings on.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.rule, self.target.as_ref().map(Target::shown).as_deref().unwrap_or(""))
    }

    /// A failure or an error: what a person has to look at.
    pub fn is_problem(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error)
    }
}

/// Evidence as a finding keeps it: the value written once as compact JSON
/// (a tree of values costs several times its text, and a batch has tens of
/// thousands of findings). Unsafe characters are escaped when a report is
/// written ([`crate::text`]'s formatter escapes raw JSON too).
#[derive(Debug, Clone)]
pub struct Evidence(Box<serde_json::value::RawValue>);

impl Evidence {
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Evidence {
        serde_json::value::to_raw_value(value).map_or_else(|_| Evidence::null(), Evidence)
    }

    pub fn null() -> Evidence {
        Evidence(serde_json::value::RawValue::NULL.to_owned())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Evidence) -> bool {
        self.get() == other.get()
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// [`Finding::fingerprint`] from a rule ID and a target as the report writes it.
pub fn fingerprint(rule: &str, target: &str) -> String {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [rule.as_bytes(), b"\n", target.as_bytes()] {
        digest.update(part);
    }
    crate::text::hex(&digest.finish().as_ref()[..16])
}

impl Finding {
    /// The finding's fields, in the reports' order, into an object being
    /// written (NDJSON's record puts its kind first). The one writer of a
    /// finding's JSON, for every report that has it.
    pub fn write_json(&self, object: &mut JsonObject) {
        object.str("rule", &self.rule);
        object.str("title", &self.title);
        object.str("severity", self.severity.name());
        object.str("status", self.status.name());
        let target = self.target.as_ref().map(Target::shown);
        match (&target, &self.target) {
            (Some(shown), Some(parts)) => {
                object.str("target", shown);
                let mut parts_object = object.object("target_parts");
                write_target_parts(&mut parts_object, parts, self.location.as_ref());
                parts_object.close();
            }
            _ => object.null("target"),
        }
        object.str("message", &self.message);
        object.raw("evidence", self.evidence.get());
        object.str("remediation", &self.remediation);
        object.strs("references", &self.references);
        if let Some(not_run) = &self.not_run {
            object.value("not_run", not_run);
        }
        object.str("fingerprint", &fingerprint(&self.rule, target.as_deref().unwrap_or("")));
        if let Some(state) = &self.baseline {
            object.value("baseline_state", state);
        }
        if let Some(suppressed) = &self.suppressed {
            object.value("suppressed", suppressed);
        }
    }
}

#[cfg(test)]
impl Finding {
    /// A finding of `rule` with `status` about `target`, and nothing else:
    /// what a test starts from.
    pub fn example(rule: &str, status: Status, target: Option<Target>) -> Finding {
        Finding {
            rule: rule.into(),
            title: "".into(),
            severity: Severity::Info,
            status,
            target,
            message: String::new(),
            evidence: Evidence::null(),
            remediation: "".into(),
            references: Arc::from([]),
            not_run: None,
            step: Step::default(),
            baseline: None,
            suppressed: None,
            location: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::JsonLayout;
    use serde_json::json;

    fn json_of(finding: &Finding) -> serde_json::Map<String, Value> {
        let mut text = Vec::new();
        let mut object = JsonObject::open(&mut text, JsonLayout::Line);
        finding.write_json(&mut object);
        object.close();
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn a_findings_json_has_its_fields_in_order_and_its_target_in_parts() {
        let source = Source { file: "snap.json".into(), line: Some(7), pointer: Some("/0/Sip".into()) };
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let targets = [
            (Target::domain("contoso.com"), json!({"kind": "domain", "domain": "contoso.com"})),
            (
                Target::Endpoint { host: "sip.contoso.com".into(), port: 5061, address: "192.0.2.10".parse().unwrap() },
                json!({"kind": "endpoint", "host": "sip.contoso.com", "port": 5061, "address": "192.0.2.10"}),
            ),
            (
                Target::Endpoint { host: "sip.contoso.com".into(), port: 443, address: v6 },
                json!({"kind": "endpoint", "host": "sip.contoso.com", "port": 443, "address": "2001:db8::1"}),
            ),
            (
                Target::Service { host: "edge".into(), port: 5061 },
                json!({"kind": "service", "host": "edge", "port": 5061}),
            ),
            (Target::File("edge.pem".into()), json!({"kind": "file", "path": "edge.pem"})),
            (
                Target::Config { object: "PublicProvider[Skype]".into(), source: Some(source.clone()) },
                json!({"kind": "config", "object": "PublicProvider[Skype]", "file": "snap.json", "line": 7, "pointer": "/0/Sip"}),
            ),
            (Target::Product("Lync Server 2013".into()), json!({"kind": "product", "product": "Lync Server 2013"})),
            (Target::area("DNS"), json!({"kind": "area", "area": "DNS"})),
        ];
        for (target, parts) in targets {
            let finding = Finding {
                evidence: Evidence::of(&json!({"n": 1})),
                references: Arc::from(["https://learn.microsoft.com/x".to_string()]),
                not_run: Some(NotRun::ProfileNotSelected),
                baseline: Some(BaselineState::New),
                suppressed: Some(Suppressed { reason: "why".into(), expires: None, file: "s.toml".into(), line: 3 }),
                ..Finding::example("DNS-FED-01", Status::Fail, Some(target.clone()))
            };
            let json = json_of(&finding);
            let keys: Vec<&str> = json.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "rule",
                    "title",
                    "severity",
                    "status",
                    "target",
                    "target_parts",
                    "message",
                    "evidence",
                    "remediation",
                    "references",
                    "not_run",
                    "fingerprint",
                    "baseline_state",
                    "suppressed"
                ]
            );
            assert_eq!(json["target"], json!(target.to_string()));
            assert_eq!(json["target_parts"], parts, "{target}");
            assert_eq!(json["fingerprint"], json!(finding.fingerprint()));
            assert_eq!(json["not_run"], json!("profile_not_selected"));
            assert_eq!(json["suppressed"], json!({"reason": "why", "file": "s.toml", "line": 3}));
            assert_eq!(json["evidence"], json!({"n": 1}));
        }
        assert_eq!(
            Target::Endpoint { host: "h".into(), port: 1, address: v6 }.to_string(),
            "h:1 (2001:db8::1)",
            "an IPv6 address is shown as the standard library shows it"
        );
    }

    #[test]
    fn a_finding_without_a_target_has_a_null_one_and_no_parts() {
        let finding = Finding::example("R", Status::Skip, None);
        let json = json_of(&finding);
        assert_eq!(json["target"], Value::Null);
        assert!(!json.contains_key("target_parts") && !json.contains_key("not_run"));
        assert_eq!(json["fingerprint"], json!(fingerprint("R", "")));
    }
}
