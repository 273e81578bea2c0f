//! A probe that crashes leaves a fact that says so, and its rules end in
//! `error` (exit 3), never "not checked"; the other domains of the scan are
//! judged as if nothing happened. The crash is a test hook compiled into this
//! test only: a network that delegates to the live one (real DNS, TLS and
//! SIP peers on loopback) but panics on one domain's DNS question and on one
//! Edge's TLS probe.

use crate::peers;
use std::sync::Arc;
use std::time::Duration;

use fedscan::engine::evaluate::evaluate;
use fedscan::engine::gather::{self, LiveNetwork, Probe, Resolve};
use fedscan::engine::plan::{self, NamedEdges, Question, ScanPlan};
use fedscan::facts::dns::{DnsFact, DnsView, ResolverSettings};
use fedscan::facts::sip::SipFact;
use fedscan::facts::tls::{Endpoint, TlsFact};
use fedscan::facts::{Facts, Inputs};
use fedscan::findings::{Finding, Status};
use fedscan::probe::tls::Budget;
use fedscan::report::{ExitPolicy, FailOn, summarize};
use fedscan::rules::{Profile, Scope, Selection, builtin_sources, load_rules};
use peers::dns::{DnsServer, federation_zone};
use peers::sip::{Behaviour, SipServer};
use peers::tls::{LeafSpec, Pki};
use time::macros::datetime;

/// The live network, but the DNS probe crashes on `dns_crash.test` names
/// and the endpoint probe on `sip.tls-crash.test`.
struct Crashing(LiveNetwork);

impl Resolve for Crashing {
    async fn query(&self, question: &Question) -> DnsFact {
        if question.1.ends_with("dns-crash.test") {
            panic!("test hook: the DNS probe crashes");
        }
        self.0.query(question).await
    }

    fn resolver(&self, view: DnsView) -> String {
        self.0.resolver(view)
    }
}

impl Probe for Crashing {
    fn budget(&self) -> Budget {
        self.0.budget()
    }

    async fn tls(&self, endpoint: &Endpoint, budget: Budget) -> TlsFact {
        if endpoint.host == "sip.tls-crash.test" {
            panic!("test hook: the TLS probe crashes");
        }
        self.0.tls(endpoint, budget).await
    }

    async fn sip(&self, endpoint: &Endpoint, domain: &str, sender: Option<&str>, budget: Budget) -> SipFact {
        self.0.sip(endpoint, domain, sender, budget).await
    }
}

fn of<'a>(findings: &'a [Finding], rule: &str, target: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| &*f.rule == rule && f.target.as_ref().is_some_and(|t| t.to_string().starts_with(target)))
        .collect()
}

#[test]
fn a_crashed_probe_is_an_error_naming_the_probe_and_the_rest_is_judged() {
    let pki = Pki::new("Crash");
    let answer = b"SIP/2.0 200 OK\r\nServer: RTC/6.0\r\nContent-Length: 0\r\n\r\n".to_vec();
    let edge = SipServer::start(&pki.leaf(&LeafSpec::default()), Behaviour::Answer(answer));
    let port = edge.addr.port();
    let domains = ["contoso.test", "dns-crash.test", "tls-crash.test"];
    let zones: Vec<(String, String)> = domains.iter().map(|d| (d.to_string(), federation_zone(d, port))).collect();
    let zone_refs: Vec<(&str, &str)> = zones.iter().map(|(d, z)| (d.as_str(), z.as_str())).collect();
    let dns = DnsServer::start(&zone_refs);

    let now = datetime!(2026-06-01 0:00 UTC);
    let rules = load_rules(&builtin_sources()).unwrap();
    let only: Vec<String> =
        ["DNS-FED-01", "TLS-CON-01", "TLS-VER-01", "TLS-EXP-01", "SIP-OPT-01"].iter().map(|s| s.to_string()).collect();
    let scope = Scope::new(Selection::new(&only, &[], &rules).unwrap(), &Profile::DEFAULT, now);
    let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
    let mut facts = Facts::new(Inputs { domains, ..Inputs::default() }, now);
    let plan = ScanPlan::new(&rules, &scope, plan::targets(&facts, &NamedEdges::default()), &[]);
    let timeout = Duration::from_secs(2);
    let resolver = ResolverSettings { servers: vec![dns.addr], timeout, attempts: 1 };
    let network = Crashing(LiveNetwork::new(&resolver, None, timeout, None).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let progress = Default::default();
    runtime.block_on(gather::network(
        &plan,
        &mut facts,
        Arc::new(network),
        false,
        &gather::Limits::concurrency(8),
        &gather::Stop::never(),
        &progress,
        None,
    ));
    let findings = evaluate(&rules, &scope, &facts, now, None);

    // The DNS question that crashed: its rule is an error that names the probe.
    let srv = of(&findings, "DNS-FED-01", "dns-crash.test");
    assert_eq!(srv.len(), 1, "{findings:#?}");
    assert_eq!(srv[0].status, Status::Error, "{:#?}", srv[0]);
    assert!(
        srv[0].message.contains("the DNS probe of _sipfederationtls._tcp.dns-crash.test SRV crashed: test hook"),
        "{}",
        srv[0].message
    );

    // The endpoint whose probe crashed: every rule about it is an error.
    let crashed_edge = format!("sip.tls-crash.test:{port}");
    for rule in ["TLS-CON-01", "TLS-VER-01", "TLS-EXP-01", "SIP-OPT-01"] {
        let found = of(&findings, rule, &crashed_edge);
        assert_eq!(found.len(), 1, "{rule}: {findings:#?}");
        assert_eq!(found[0].status, Status::Error, "{rule}: {:#?}", found[0]);
        assert!(
            found[0].message.contains(&format!("the TLS and SIP probe of {crashed_edge} (127.0.0.1) crashed")),
            "{rule}: {}",
            found[0].message
        );
    }

    // The healthy domain is judged in full.
    assert_eq!(of(&findings, "DNS-FED-01", "contoso.test")[0].status, Status::Pass);
    let healthy_edge = format!("sip.contoso.test:{port}");
    for rule in ["TLS-CON-01", "TLS-VER-01", "TLS-EXP-01", "SIP-OPT-01"] {
        let found = of(&findings, rule, &healthy_edge);
        assert_eq!(found.iter().map(|f| f.status).collect::<Vec<_>>(), [Status::Pass], "{rule}: {found:#?}");
    }

    assert_eq!(
        summarize(&findings, &facts.input_errors, ExitPolicy { fail_on: FailOn::High, only_new: false }, None)
            .exit_code,
        3
    );
}
