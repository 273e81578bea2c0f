//! The scan: gather the facts (concurrently, each input once), then evaluate
//! the selected rules over them. Gathering is the only place with I/O;
//! evaluation is a pure function of the facts, the rules and the clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::checks::value::as_bool;
use crate::checks::{EvalContext, Needs};
use crate::facts::Targets;
use crate::facts::config_view::{ConfigView, Objects};
use crate::facts::dns::{
    DnsFact, DnsOutcome, DnsProbe, DnsView, RecordData, RecordKind, ResolverSettings, normalize_name,
};
use crate::facts::snapshot::ObjectKind;
use crate::facts::snapshot::read_snapshot;
use crate::facts::{Facts, InputError, Inputs};
use crate::findings::{Finding, NotRun, Status};
use crate::rules::{Profile, Rule, RuleSet, Selection};
use crate::text::powershell_quote;

/// File extensions read from a directory given to `--config`.
const SNAPSHOT_EXTENSIONS: [&str; 5] = ["txt", "json", "log", "out", "fl"];

/// Expands `--config` arguments: files as given, directories for the
/// snapshot files inside them (recursively, in name order).
pub fn expand_config_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files, &mut errors);
            if files.len() == before {
                errors.push(InputError {
                    path: path.display().to_string(),
                    line: None,
                    column: None,
                    message: format!("no snapshot files (*.{}) in this directory", SNAPSHOT_EXTENSIONS.join(", *.")),
                });
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(InputError {
                path: path.display().to_string(),
                line: None,
                column: None,
                message: "no such file or directory".into(),
            });
        }
    }
    let mut seen = Vec::new();
    files.retain(|f| {
        let key = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError {
                path: dir.display().to_string(),
                line: None,
                column: None,
                message: format!("cannot read directory: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors);
        } else if path.extension().is_some_and(|x| SNAPSHOT_EXTENSIONS.iter().any(|e| x.eq_ignore_ascii_case(e))) {
            files.push(path);
        }
    }
}

/// Reads every snapshot, in parallel; a file that cannot be read becomes an
/// input error and the others are still read.
pub async fn gather(inputs: Inputs, files: Vec<PathBuf>, mut errors: Vec<InputError>, now: OffsetDateTime) -> Facts {
    let mut facts = Facts::new(inputs, now);
    let mut tasks = JoinSet::new();
    for (index, path) in files.into_iter().enumerate() {
        tasks.spawn_blocking(move || {
            let display = path.display().to_string();
            (index, read_snapshot(&path, &display))
        });
    }
    let mut results = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => {
                results.insert(index, result);
            }
            Err(e) => errors.push(InputError {
                path: "(snapshot reader)".into(),
                line: None,
                column: None,
                message: e.to_string(),
            }),
        }
    }
    for result in results.into_values() {
        match result {
            Ok(snapshot) => facts.snapshots.push(snapshot),
            Err(error) => errors.push(error),
        }
    }
    facts.input_errors = errors;
    facts
}

/// The SRV targets followed per SRV name: a hostile zone with hundreds of
/// targets must not cost hundreds of lookups.
pub const MAX_SRV_TARGETS: usize = 32;

/// The live targets: the domains and Edges the user named, with the SIP
/// domains and Access Edge FQDNs of the snapshots.
pub fn targets(facts: &Facts, domains: &[String], edges: &[String]) -> Targets {
    let view = ConfigView::new(facts);
    let mut all_domains: BTreeSet<String> = domains.iter().cloned().collect();
    all_domains.extend(view.sip_domains().iter().filter_map(|d| normalize_name(d).ok()));
    let mut all_edges: BTreeSet<String> = edges.iter().cloned().collect();
    let mut xmpp = false;
    if let Objects::Captured(services) = view.objects(ObjectKind::EdgeService) {
        all_edges.extend(services.iter().filter_map(|l| {
            l.object.get("AccessEdgeExternalFqdn").and_then(|(_, v)| v.as_str()).and_then(|f| normalize_name(f).ok())
        }));
    }
    if let Objects::Captured(policies) = view.objects(ObjectKind::ExternalAccessPolicy) {
        xmpp = policies.iter().any(|l| l.object.get("EnableXmppAccess").and_then(|(_, v)| as_bool(v)) == Some(true));
    }
    Targets {
        domains: all_domains.into_iter().collect(),
        edges: all_edges.into_iter().collect(),
        xmpp,
        edge_port: None,
        partners: Vec::new(),
    }
}

/// A DNS question: which view, which name, which type.
pub type Question = (DnsView, String, RecordKind);

/// The questions asked first, before any answer is known.
pub fn first_questions(targets: &Targets, internal: bool) -> Vec<Question> {
    let mut questions = Vec::new();
    for domain in &targets.domains {
        let external = |name: String, kind| (DnsView::External, name, kind);
        questions.push(external(format!("_sipfederationtls._tcp.{domain}"), RecordKind::Srv));
        questions.push(external(format!("_sip._tls.{domain}"), RecordKind::Srv));
        for host in ["sip", "lyncdiscover"] {
            questions.push(external(format!("{host}.{domain}"), RecordKind::A));
            questions.push(external(format!("{host}.{domain}"), RecordKind::Aaaa));
        }
        if targets.xmpp {
            questions.push(external(format!("_xmpp-server._tcp.{domain}"), RecordKind::Srv));
        }
        if internal {
            questions.push((DnsView::Internal, format!("_sipfederationtls._tcp.{domain}"), RecordKind::Srv));
            questions.push((DnsView::Internal, format!("lyncdiscover.{domain}"), RecordKind::A));
            questions.push((DnsView::Internal, format!("lyncdiscover.{domain}"), RecordKind::Aaaa));
        }
    }
    for edge in &targets.edges {
        questions.push((DnsView::External, edge.clone(), RecordKind::A));
        questions.push((DnsView::External, edge.clone(), RecordKind::Aaaa));
    }
    for partner in targets.partners.iter().filter(|p| !targets.domains.contains(p)) {
        questions.push((DnsView::External, format!("_sipfederationtls._tcp.{partner}"), RecordKind::Srv));
    }
    // The Access Edge FQDN is often sip.<domain>, asked above already.
    let mut asked = BTreeSet::new();
    questions.retain(|q| asked.insert(q.clone()));
    questions
}

/// Asks every question once, at most `concurrency` at a time.
async fn ask(
    questions: Vec<Question>,
    external: &Arc<DnsProbe>,
    internal: Option<&Arc<DnsProbe>>,
    concurrency: usize,
) -> Vec<DnsFact> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (view, name, kind) in questions {
        let probe = match view {
            DnsView::External => Arc::clone(external),
            DnsView::Internal => match internal {
                Some(probe) => Arc::clone(probe),
                None => continue,
            },
        };
        let limit = Arc::clone(&limit);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
            probe.query(&name, kind).await
        });
    }
    let mut facts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(fact) = joined {
            facts.push(fact);
        }
    }
    facts
}

/// Gathers the DNS facts for the targets: the service records and hosts of
/// every domain first, then the addresses of every SRV target found.
pub async fn gather_dns(
    targets: &Targets,
    external: &ResolverSettings,
    internal: Option<&ResolverSettings>,
    concurrency: usize,
) -> Result<Vec<DnsFact>, String> {
    let external = Arc::new(DnsProbe::new(DnsView::External, external)?);
    let internal = internal.map(|s| DnsProbe::new(DnsView::Internal, s).map(Arc::new)).transpose()?;
    let questions = first_questions(targets, internal.is_some());
    let mut facts = ask(questions, &external, internal.as_ref(), concurrency).await;
    let follow_up = follow_up_questions(&facts);
    facts.extend(ask(follow_up, &external, internal.as_ref(), concurrency).await);
    facts.sort_by(|a, b| (a.view, &a.name, a.rtype).cmp(&(b.view, &b.name, b.rtype)));
    Ok(facts)
}

/// The questions the first answers lead to: the addresses of every SRV
/// target (at most [`MAX_SRV_TARGETS`] per SRV name) not asked already.
pub fn follow_up_questions(facts: &[DnsFact]) -> Vec<Question> {
    let mut asked: BTreeSet<Question> = facts.iter().map(|f| (f.view, f.name.clone(), f.rtype)).collect();
    let mut follow_up = Vec::new();
    for fact in facts.iter().filter(|f| f.view == DnsView::External && f.rtype == RecordKind::Srv) {
        let DnsOutcome::Answer { records } = &fact.outcome else { continue };
        let mut targets: Vec<&str> = records
            .iter()
            .filter_map(|r| match &r.data {
                RecordData::Srv { target, .. } if target != "." && !target.is_empty() => Some(target.as_str()),
                _ => None,
            })
            .collect();
        targets.dedup();
        for target in targets.into_iter().take(MAX_SRV_TARGETS) {
            for kind in [RecordKind::A, RecordKind::Aaaa] {
                let question = (DnsView::External, target.to_string(), kind);
                if asked.insert(question.clone()) {
                    follow_up.push(question);
                }
            }
        }
    }
    follow_up
}

/// The TLS endpoints the DNS facts lead to: every address of every federation
/// SRV target on the record's port, and every address of each Access Edge
/// FQDN on the federation port; each (SNI, address, port) once. Each comes
/// with the SIP domain that led to it, and the partner it belongs to, if any.
pub fn federation_endpoints(facts: &Facts) -> Vec<(crate::facts::tls::Endpoint, String, Option<String>)> {
    use crate::facts::tls::Endpoint;
    let dns = crate::checks::dns::DnsIndex::new(&facts.dns);
    let addresses = |host: &str| -> Vec<std::net::IpAddr> {
        let mut out = Vec::new();
        for kind in [RecordKind::A, RecordKind::Aaaa] {
            let found = dns.get(DnsView::External, host, kind);
            if let Some(DnsFact { outcome: DnsOutcome::Answer { records }, .. }) = found {
                for record in records {
                    match &record.data {
                        RecordData::A { address } => out.push(std::net::IpAddr::V4(*address)),
                        RecordData::Aaaa { address } => out.push(std::net::IpAddr::V6(*address)),
                        _ => {}
                    }
                }
            }
        }
        out
    };
    let mut endpoints: BTreeMap<Endpoint, (String, Option<String>)> = BTreeMap::new();
    let own = facts.targets.domains.iter().map(|d| (d, None));
    let partners =
        facts.targets.partners.iter().filter(|p| !facts.targets.domains.contains(p)).map(|p| (p, Some(p.clone())));
    for (domain, partner) in own.chain(partners) {
        let name = format!("_sipfederationtls._tcp.{domain}");
        let srv = dns.get(DnsView::External, &name, RecordKind::Srv);
        let Some(DnsFact { outcome: DnsOutcome::Answer { records }, .. }) = srv else { continue };
        for record in records.iter().take(MAX_SRV_TARGETS) {
            if let RecordData::Srv { target, port, .. } = &record.data {
                for address in addresses(target) {
                    endpoints
                        .entry(Endpoint { host: target.clone(), address, port: *port })
                        .or_insert_with(|| (domain.clone(), partner.clone()));
                }
            }
        }
    }
    let port = facts.targets.edge_port.unwrap_or(5061);
    let first_domain = facts.targets.domains.first().cloned();
    for edge in &facts.targets.edges {
        let domain =
            first_domain.clone().or_else(|| edge.split_once('.').map(|(_, d)| d.to_string())).unwrap_or_default();
        for address in addresses(edge) {
            endpoints.entry(Endpoint { host: edge.clone(), address, port }).or_insert_with(|| (domain.clone(), None));
        }
    }
    endpoints.into_iter().map(|(endpoint, (domain, partner))| (endpoint, domain, partner)).collect()
}

/// The organization's own TLS endpoints (see [`federation_endpoints`]).
pub fn tls_endpoints(facts: &Facts) -> Vec<crate::facts::tls::Endpoint> {
    federation_endpoints(facts).into_iter().filter(|(_, _, partner)| partner.is_none()).map(|(e, _, _)| e).collect()
}

/// Probes every endpoint (TLS, then SIP OPTIONS over a new connection where
/// TLS was spoken), at most `concurrency` endpoints at a time. OPTIONS to a
/// partner come from `sender`, the organization's own SIP domain.
pub async fn gather_tls(
    endpoints: Vec<(crate::facts::tls::Endpoint, String, Option<String>)>,
    sender: Option<String>,
    identity: Option<Arc<rustls::sign::CertifiedKey>>,
    sip: bool,
    timeout: std::time::Duration,
    concurrency: usize,
) -> (Vec<crate::facts::tls::TlsFact>, Vec<crate::facts::sip::SipFact>) {
    use crate::facts::tls::TlsOutcome;
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (endpoint, domain, partner) in endpoints {
        let limit = Arc::clone(&limit);
        let identity = identity.clone();
        let sender = if partner.is_some() { sender.clone() } else { None };
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
            let mut fact = crate::facts::tls::probe(endpoint.clone(), timeout).await;
            fact.partner = partner;
            let spoke_tls = matches!(
                fact.outcome,
                TlsOutcome::Established { .. }
                    | TlsOutcome::Rejected { .. }
                    | TlsOutcome::ClientCertificateRequired { .. }
            );
            let exchange = if sip && spoke_tls {
                Some(crate::facts::sip::probe(&endpoint, &domain, sender.as_deref(), identity, timeout).await)
            } else {
                None
            };
            (fact, exchange)
        });
    }
    let mut facts = Vec::new();
    let mut exchanges = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((fact, exchange)) = joined {
            facts.push(fact);
            exchanges.extend(exchange);
        }
    }
    facts.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    exchanges.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    (facts, exchanges)
}

/// What the rules that will run need observed: a scan probes DNS and TLS only
/// when an applicable rule reads them.
pub fn needs(rules: &RuleSet, selection: &Selection, profiles: &[Profile], now: OffsetDateTime) -> Needs {
    let active = Profile::expand(profiles);
    rules
        .rules
        .iter()
        .filter(|r| selection.includes(r) && not_applicable(r, selection, &active, now).is_none())
        .map(|r| r.check.needs())
        .max()
        .unwrap_or(Needs::Config)
}

/// Evaluates the selected rules over the facts.
pub fn evaluate(
    rules: &RuleSet,
    selection: &Selection,
    facts: &Facts,
    profiles: &[Profile],
    now: OffsetDateTime,
    expiry_warn_days: Option<u32>,
) -> Vec<Finding> {
    let active = Profile::expand(profiles);
    let view = ConfigView::new(facts);
    let dns = crate::checks::dns::DnsIndex::new(&facts.dns);
    let ctx = EvalContext {
        facts,
        config: &view,
        dns: &dns,
        targets: &facts.targets,
        now,
        partners: &facts.inputs.partners,
        expiry_warn_days,
        certificates: Default::default(),
    };
    let mut findings = Vec::new();
    for rule in rules.rules.iter().filter(|r| selection.includes(r)) {
        if let Some(reason) = not_applicable(rule, selection, &active, now) {
            findings.push(reason);
            continue;
        }
        for outcome in rule.check.evaluate(&ctx) {
            let severity = outcome.severity.map_or(rule.severity, |s| s.min(rule.severity));
            findings.push(Finding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity,
                status: outcome.status,
                target: Some(outcome.target),
                message: outcome.message,
                evidence: outcome.evidence,
                remediation: fill_placeholders(&rule.remediation, &outcome.vars),
                references: rule.references.clone(),
                not_run: None,
            });
        }
    }
    // Stable: by target, then rule ID; findings without a target last.
    findings.sort_by(|a, b| (a.target.is_none(), &a.target, &a.rule).cmp(&(b.target.is_none(), &b.target, &b.rule)));
    findings
}

fn not_applicable(rule: &Rule, selection: &Selection, active: &[Profile], now: OffsetDateTime) -> Option<Finding> {
    let skip = |message: String, why: NotRun| Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        status: Status::Skip,
        target: None,
        message,
        evidence: serde_json::Value::Null,
        remediation: rule.remediation.clone(),
        references: rule.references.clone(),
        not_run: Some(why),
    };
    let names = |profiles: &[Profile]| profiles.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
    if !selection.names(rule) && !rule.profiles.iter().any(|p| active.contains(p)) {
        return Some(skip(
            format!(
                "profile not selected: the rule belongs to {}; the scan ran {}",
                names(&rule.profiles),
                names(active)
            ),
            NotRun::ProfileNotSelected,
        ));
    }
    if let Some(p) = rule.unless_profiles.iter().find(|p| active.contains(p)) {
        return Some(skip(
            format!("does not apply with the {p} profile, whose own rule covers it"),
            NotRun::ProfileNotSelected,
        ));
    }
    if let Some(date) = rule.effective_date.filter(|d| now.date() < *d) {
        return Some(skip(format!("not yet in effect: applies from {date}"), NotRun::NotYetEffective));
    }
    if let Some(date) = rule.ineffective_date.filter(|d| now.date() >= *d) {
        return Some(skip(
            format!("no longer in effect since {date}; to audit as of an earlier date, use --now"),
            NotRun::NoLongerEffective,
        ));
    }
    None
}

fn fill_placeholders(template: &str, vars: &BTreeMap<&'static str, String>) -> String {
    let mut out = template.to_string();
    for name in ["identity", "domain", "fqdn"] {
        let key = format!("{{{name}}}");
        if out.contains(&key) {
            let value = match vars.get(name) {
                Some(v) if name == "identity" => powershell_quote(v),
                Some(v) => v.clone(),
                None if name == "fqdn" => "<Access Edge FQDN>".to_string(),
                None => format!("<{name}>"),
            };
            out = out.replace(&key, &value);
        }
    }
    out
}

/// Rules are judged as of `--now`, or else as of the moment the facts were
/// gathered: a live scan and any later replay of its facts agree.
pub fn evaluation_time(requested: Option<OffsetDateTime>, facts: &Facts) -> OffsetDateTime {
    requested.unwrap_or(facts.gathered_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_named_sip_domain_is_asked_once() {
        let targets = Targets {
            domains: vec!["contoso.com".into()],
            edges: vec!["sip.contoso.com".into()],
            partners: vec!["contoso.com".into(), "fabrikam.com".into()],
            ..Default::default()
        };
        let questions = first_questions(&targets, false);
        let distinct: BTreeSet<&Question> = questions.iter().collect();
        assert_eq!(distinct.len(), questions.len(), "{questions:#?}");
        assert!(questions.contains(&(DnsView::External, "sip.contoso.com".into(), RecordKind::A)));
        assert!(questions.contains(&(
            DnsView::External,
            "_sipfederationtls._tcp.fabrikam.com".into(),
            RecordKind::Srv
        )));
    }
}
