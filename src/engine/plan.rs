//! The plan: from the rules a scan runs and the targets it was given, what
//! to ask the network. Each check kind declares the facts it reads
//! ([`Need`]); the plan is their union, each DNS question once, so a user's
//! rule about `meet.<domain>` gets `meet.<domain>` asked, and a scan of DNS
//! rules alone opens no TLS connection.

use std::collections::BTreeSet;

use crate::facts::config_view::{ConfigView, Objects};
use crate::facts::dns::{DnsFact, DnsView, RecordKind, srv_name};
use crate::facts::endpoints::{FEDERATION_SERVICE, FederationEndpoint, federation_endpoints};
use crate::facts::names::parse_fqdn;
use crate::facts::need::Need;
use crate::facts::snapshot::ObjectKind;
use crate::facts::srv::{Srv, followed_targets};
use crate::facts::values::as_bool;
use crate::facts::{Facts, Targets};
use crate::probe::tls::VersionQuestions;
use crate::rules::{RuleSet, Scope};

/// A DNS question: which view, which name, which type.
pub type Question = (DnsView, String, RecordKind);

/// The Access Edges named with `--edge`, checked: canonical FQDNs, and the
/// federation port given with the first.
#[derive(Debug, Clone, Default)]
pub struct NamedEdges {
    pub fqdns: Vec<String>,
    pub port: Option<u16>,
}

/// The live targets: the domains the user named (as the facts record them)
/// and the Edges, with the SIP domains and Access Edge FQDNs of the
/// snapshots. Partners are added by the plan when a rule follows their path.
pub fn targets(facts: &Facts, named: &NamedEdges) -> Targets {
    let view = ConfigView::new(facts);
    let mut domains: BTreeSet<String> = facts.inputs.domains.iter().cloned().collect();
    domains.extend(view.sip_domains().names.iter().filter_map(|d| parse_fqdn(d).ok()));
    let mut edges: BTreeSet<String> = named.fqdns.iter().cloned().collect();
    if let Objects::Captured(services) = view.objects(ObjectKind::EdgeService) {
        edges.extend(services.iter().filter(|l| l.object.doubt("AccessEdgeExternalFqdn").is_none()).filter_map(|l| {
            l.object.get("AccessEdgeExternalFqdn").and_then(|(_, v)| v.as_str()).and_then(|f| parse_fqdn(f).ok())
        }));
    }
    let xmpp = match view.objects(ObjectKind::ExternalAccessPolicy) {
        Objects::Captured(policies) => {
            policies.iter().any(|l| l.object.get("EnableXmppAccess").and_then(|(_, v)| as_bool(v)) == Some(true))
        }
        _ => false,
    };
    Targets {
        domains: domains.into_iter().collect(),
        edges: edges.into_iter().collect(),
        xmpp,
        edge_port: named.port,
        partners: Vec::new(),
    }
}

/// What a scan asks, derived from the rules it runs.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub targets: Targets,
    needs: BTreeSet<Need>,
}

impl ScanPlan {
    /// The protocol versions a running rule reads of each Edge.
    pub fn version_questions(&self) -> VersionQuestions {
        VersionQuestions {
            current: self.needs.contains(&Need::TlsVersions),
            legacy: self.needs.contains(&Need::TlsLegacyVersions),
        }
    }

    /// The union of what the running rules need for these targets. A rule
    /// that follows partners' paths brings the partners into the targets.
    pub fn new(rules: &RuleSet, scope: &Scope, mut targets: Targets, partners: &[String]) -> ScanPlan {
        let mut needs: BTreeSet<Need> =
            rules.rules.iter().filter(|r| scope.runs(r)).flat_map(|r| r.check.needs(&targets)).collect();
        // What some facts are read through: endpoints come from the
        // federation record's targets and the Edges' addresses, and SIP is
        // spoken over TLS.
        if needs.contains(&Need::Sip) {
            needs.insert(Need::Tls);
        }
        if needs.contains(&Need::Tls) {
            needs.insert(Need::Srv { view: DnsView::External, service: FEDERATION_SERVICE.into() });
            needs.insert(Need::SrvTargets { service: FEDERATION_SERVICE.into() });
            needs.insert(Need::EdgeAddresses);
        }
        if needs.contains(&Need::PartnerPaths) {
            targets.partners = partners.to_vec();
        }
        ScanPlan { targets, needs }
    }

    /// Whether the plan asks anything of the network at all.
    pub fn is_empty(&self) -> bool {
        self.needs.is_empty()
    }

    pub fn needs(&self, need: &Need) -> bool {
        self.needs.contains(need)
    }

    /// The questions asked first, before any answer is known: each needed
    /// SRV record and host of each SIP domain, the Edges' addresses and the
    /// partners' federation records. Internal-view questions only when an
    /// internal resolver was given.
    pub fn first_questions(&self, internal: bool) -> Vec<Question> {
        let mut questions = Vec::new();
        for domain in &self.targets.domains {
            for need in &self.needs {
                match need {
                    Need::Srv { view, service } if internal || *view == DnsView::External => {
                        questions.push((*view, srv_name(service, domain), RecordKind::Srv));
                    }
                    Need::SrvTargets { service } => {
                        questions.push((DnsView::External, srv_name(service, domain), RecordKind::Srv));
                    }
                    Need::Host { view, label } if internal || *view == DnsView::External => {
                        for kind in [RecordKind::A, RecordKind::Aaaa] {
                            questions.push((*view, format!("{label}.{domain}"), kind));
                        }
                    }
                    _ => {}
                }
            }
        }
        if self.needs(&Need::EdgeAddresses) {
            for edge in &self.targets.edges {
                questions.push((DnsView::External, edge.clone(), RecordKind::A));
                questions.push((DnsView::External, edge.clone(), RecordKind::Aaaa));
            }
        }
        for partner in self.targets.partner_domains() {
            questions.push((DnsView::External, srv_name(FEDERATION_SERVICE, partner), RecordKind::Srv));
        }
        // The same name may be needed twice (an Edge named sip.<domain>).
        let mut asked = BTreeSet::new();
        questions.retain(|q| asked.insert(q.clone()));
        questions
    }

    /// The questions the first answers lead to: the addresses of the targets
    /// of every SRV record answered (those [`followed_targets`] keeps) not
    /// asked already. Every SRV record is followed, not only those
    /// whose targets a rule reads: the report shows where each leads.
    pub fn follow_up_questions(&self, facts: &[DnsFact]) -> Vec<Question> {
        // Borrowed from the answers: a batch asks hundreds of thousands.
        let asked: std::collections::HashSet<(DnsView, &str, RecordKind)> =
            facts.iter().map(|f| (f.view, f.name.as_str(), f.rtype)).collect();
        let mut added: std::collections::HashSet<Question> = std::collections::HashSet::new();
        let mut follow_up = Vec::new();
        for fact in facts.iter().filter(|f| f.view == DnsView::External && f.rtype == RecordKind::Srv) {
            let records: Vec<Srv> = fact.records().into_iter().filter_map(|r| Srv::from_data(&r.data)).collect();
            for target in followed_targets(&records).0 {
                for kind in [RecordKind::A, RecordKind::Aaaa] {
                    let question = (DnsView::External, target.to_string(), kind);
                    if !asked.contains(&(DnsView::External, target, kind)) && added.insert(question.clone()) {
                        follow_up.push(question);
                    }
                }
            }
        }
        follow_up
    }

    /// The endpoints to probe, from the DNS facts: the organization's own
    /// when a rule reads TLS, partners' when a rule follows their paths.
    pub fn endpoints(&self, facts: &Facts) -> Vec<FederationEndpoint> {
        federation_endpoints(facts)
            .endpoints
            .into_iter()
            .filter(|e| if e.partner.is_some() { self.needs(&Need::PartnerPaths) } else { self.needs(&Need::Tls) })
            .collect()
    }

    /// Whether OPTIONS is sent to an endpoint where TLS was spoken.
    pub fn sends_options(&self, endpoint: &FederationEndpoint) -> bool {
        if endpoint.partner.is_some() { self.needs(&Need::PartnerPaths) } else { self.needs(&Need::Sip) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(needs: &[Need], targets: Targets) -> ScanPlan {
        ScanPlan { targets, needs: needs.iter().cloned().collect() }
    }

    #[test]
    fn an_edge_named_sip_domain_is_asked_once() {
        let targets = Targets {
            domains: vec!["contoso.com".into()],
            edges: vec!["sip.contoso.com".into()],
            partners: vec!["contoso.com".into(), "fabrikam.com".into()],
            ..Default::default()
        };
        let needs = [Need::Host { view: DnsView::External, label: "sip".into() }, Need::EdgeAddresses];
        let questions = plan(&needs, targets).first_questions(false);
        let distinct: BTreeSet<&Question> = questions.iter().collect();
        assert_eq!(distinct.len(), questions.len(), "{questions:#?}");
        assert!(questions.contains(&(DnsView::External, "sip.contoso.com".into(), RecordKind::A)));
        assert!(questions.contains(&(
            DnsView::External,
            "_sipfederationtls._tcp.fabrikam.com".into(),
            RecordKind::Srv
        )));
    }

    #[test]
    fn internal_questions_only_with_an_internal_resolver() {
        let targets = Targets { domains: vec!["contoso.com".into()], ..Default::default() };
        let needs = [Need::Host { view: DnsView::Internal, label: "lyncdiscover".into() }];
        let plan = plan(&needs, targets);
        assert!(plan.first_questions(false).is_empty());
        assert_eq!(plan.first_questions(true).len(), 2);
    }
}
