//! Reading TLS facts for the TLS and certificate kinds (not a kind itself):
//! every endpoint or certificate of the organization's own, or the outcome
//! that says why there is none, and the names a certificate must carry.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;

use super::{Check, see};
use crate::facts::Targets;
use crate::facts::cert_listing::{ACCESS_EDGE_EXTERNAL, ListedCertificate};
use crate::facts::endpoints::{MAX_ADDRESSES_PER_HOST, own_endpoints};
use crate::facts::need::Need;
use crate::facts::tls::{ChainSource, ClientAuthRequest, TlsFact, TlsOutcome, VersionSupport};
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::{AsEvidence, Outcome, Source, Step, Target, location_in};

/// A certificate kind: a verdict on each certificate the scan saw. What
/// every such kind declares alike is declared once, here: it reads the
/// handshakes, it judges the certificate step of the path, and it points at
/// the rule that reports why no Edge presented a certificate.
pub trait CertificateCheck: Send + Sync {
    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome>;

    /// The `connection_rule` parameter.
    fn connection_rule(&self) -> &Option<String>;

    /// Judges a certificate as `Get-CsCertificate` lists it (names, dates
    /// and roles only), or `None` when the kind needs the certificate itself.
    fn judge_listed(&self, _ctx: &FactView, _cert: &ListedCertificate) -> Option<Vec<Outcome>> {
        None
    }
}

impl<T: CertificateCheck> Check for T {
    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        let listed = &ctx.certificates().listed;
        let from_listing: Option<Vec<Outcome>> = if listed.is_empty() {
            None
        } else {
            listed.iter().map(|cert| self.judge_listed(ctx, cert)).collect::<Option<Vec<_>>>().map(|v| v.concat())
        };
        per_certificate(ctx, self.connection_rule().as_slice(), |cert| self.judge(ctx, cert), from_listing)
    }

    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step {
        Step::Certificate
    }
}

/// Runs `judge` for every certificate, adds the verdicts on the listed
/// certificates (`None`: the kind cannot judge a listing), or says there is
/// none to judge; `connection_rule` reports why no Edge presented one.
pub fn per_certificate(
    ctx: &FactView,
    connection_rule: &[String],
    judge: impl Fn(&SeenCertificate) -> Vec<Outcome>,
    from_listing: Option<Vec<Outcome>>,
) -> Vec<Outcome> {
    let certificates = ctx.certificates();
    // An endpoint the probe observed nothing of may have presented anything.
    let unobserved: Vec<Outcome> = ctx
        .facts
        .tls
        .iter()
        .filter(|f| f.partner.is_none() && matches!(f.outcome, TlsOutcome::Unobserved { .. }))
        .map(|f| Outcome::error(&f.endpoint, format!("its certificate is unknown: {}", f.outcome.describe())))
        .chain(ctx.unresolved_edges().iter().filter_map(|edge| {
            let target = Target::Service { host: edge.host.clone(), port: edge.port };
            Some(Outcome::error(target, format!("its certificate is unknown: {}", edge.unknown()?)))
        }))
        .collect();
    let from_listing_count = from_listing.as_ref().map_or(0, Vec::len);
    if certificates.seen.is_empty() && certificates.unreadable.is_empty() && unobserved.is_empty() {
        if from_listing_count > 0 {
            return from_listing.unwrap_or_default();
        }
        let mut why = if ctx.facts.tls.is_empty() {
            "no certificate to judge: no Edge was reached over TLS and no --cert-file was given".to_string()
        } else {
            format!("no certificate to judge: no Edge presented one{}", see::in_parentheses(connection_rule))
        };
        if !certificates.listed.is_empty() {
            why.push_str(match from_listing {
                None => "; the Get-CsCertificate listing shows names, dates and roles, not what this rule reads (give the certificate with --cert-file)",
                Some(_) => "; the Get-CsCertificate listing has no certificate this rule applies to",
            });
        }
        return vec![Outcome::skip(Target::area("TLS"), why)];
    }
    let mut outcomes = unobserved;
    outcomes.extend(certificates.unreadable.iter().map(|(origin, error)| Outcome::error(origin, error.clone())));
    outcomes.extend(certificates.seen.iter().flat_map(judge));
    outcomes.extend(from_listing.unwrap_or_default());
    outcomes.extend(unprobed_errors(ctx));
    outcomes
}

/// What the name rules read of a certificate, wherever it was seen: the
/// whole certificate (presented or a file) or a `Get-CsCertificate` listing.
pub struct CertNames<'c> {
    pub target: Target,
    pub subject: &'c str,
    pub common_name: Option<&'c str>,
    pub dns_names: &'c [String],
    pub ip_names: &'c [IpAddr],
    /// Why the DNS names are not known whole, if they are not.
    pub names_doubt: Option<String>,
    /// Why the subject is not known, if it is not.
    pub subject_doubt: Option<String>,
    /// The Access Edge FQDNs it must name: the host it was reached at, and
    /// the Edge FQDNs known from --edge and the snapshot.
    pub edge_names: Vec<String>,
    /// The evidence every name rule shows, written once, and where it was read.
    pub evidence: (Box<RawValue>, Option<Source>),
}

impl<'c> CertNames<'c> {
    pub fn of_seen(ctx: &FactView, cert: &'c SeenCertificate) -> Self {
        let mut edge_names: Vec<String> = cert.host().map(str::to_string).into_iter().collect();
        for edge in &ctx.targets.edges {
            if !edge_names.contains(edge) {
                edge_names.push(edge.clone());
            }
        }
        CertNames {
            target: Target::from(&cert.origin),
            subject: &cert.leaf.subject,
            common_name: cert.leaf.common_name.as_deref(),
            dns_names: &cert.leaf.dns_names,
            ip_names: &cert.leaf.ip_names,
            names_doubt: None,
            subject_doubt: None,
            edge_names,
            evidence: (cert.written_evidence(ctx.now), None),
        }
    }

    /// The names of a listed certificate assigned to the Access Edge's
    /// external interface; `None` for other roles, which partners never see.
    pub fn of_listed(ctx: &FactView, cert: &'c ListedCertificate) -> Option<Self> {
        cert.is_used_for(ACCESS_EDGE_EXTERNAL).then(|| CertNames {
            target: Target::from(cert),
            subject: cert.subject.as_deref().unwrap_or_default(),
            common_name: cert.common_name.as_deref(),
            dns_names: &cert.dns_names,
            ip_names: &[],
            names_doubt: cert.names_doubt.clone(),
            subject_doubt: match cert.subject {
                None => Some(format!("the listing ({}) leaves out Subject", cert.location(None))),
                Some(_) => cert.objects[0].object.doubt("Subject"),
            },
            edge_names: ctx.targets.edges.clone(),
            evidence: {
                let evidence = cert.evidence();
                let written = serde_json::value::to_raw_value(&evidence).unwrap_or_else(|_| RawValue::NULL.to_owned());
                (written, location_in(&evidence))
            },
        })
    }

    /// Whether `name` is one of the DNS names, exactly (wildcards do not
    /// count: the Access Edge needs its exact name).
    pub fn has_exactly(&self, name: &str) -> bool {
        self.dns_names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// A wildcard of the certificate that covers `name`, if any.
    pub fn wildcard_covering(&self, name: &str) -> Option<&'c str> {
        self.dns_names.iter().map(String::as_str).find(|pattern| {
            pattern
                .strip_prefix("*.")
                .is_some_and(|suffix| name.split_once('.').is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)))
        })
    }
}

/// The verdicts of a name rule on every certificate: `judge` sees the
/// names of presented and file certificates, and of listed certificates
/// assigned to the Access Edge.
pub trait NamesCheck: Send + Sync {
    fn judge_names(&self, ctx: &FactView, names: &CertNames) -> Outcome;
    fn connection_rule(&self) -> &Option<String>;
}

impl<T: NamesCheck> CertificateCheck for T {
    fn connection_rule(&self) -> &Option<String> {
        NamesCheck::connection_rule(self)
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let names = CertNames::of_seen(ctx, cert);
        let (evidence, location) = names.evidence.clone();
        vec![self.judge_names(ctx, &names).written_evidence_at(evidence, location)]
    }

    fn judge_listed(&self, ctx: &FactView, cert: &ListedCertificate) -> Option<Vec<Outcome>> {
        // Whether partners see it is unknown when its roles are.
        if let Some(why) = &cert.uses_doubt {
            let outcome = Outcome::error(Target::from(cert), format!("the roles it is assigned to are unknown: {why}"));
            return Some(vec![outcome.evidence(cert.evidence())]);
        }
        Some(
            CertNames::of_listed(ctx, cert)
                .map(|names| {
                    let (evidence, location) = names.evidence.clone();
                    self.judge_names(ctx, &names).written_evidence_at(evidence, location)
                })
                .into_iter()
                .collect(),
        )
    }
}

/// What a TLS kind says of an Access Edge named to the scan that DNS gave no
/// address.
#[derive(Clone, Copy)]
pub enum NoAddress {
    /// The connection kind: a name without an address cannot be connected
    /// to, a failure of the Edge the user named.
    Fails,
    /// The others: there is nothing to judge there.
    Skips,
}

/// A kind that judges each of the organization's federation endpoints from
/// its handshake alone. What every such kind declares alike comes with it:
/// the named Edges DNS gave no address, the scan that probed none, the
/// probes cut short. Registered as [`Endpoints`] of its parameters.
pub trait EndpointCheck: Send + Sync {
    /// The rules that report why DNS led to no endpoint.
    fn discovery_rules(&self) -> &[String];

    /// What a named Edge without an address is to this kind.
    fn no_address(&self) -> NoAddress;

    /// What the kind reads: the handshakes, and what else it names.
    fn needs(&self) -> Vec<Need> {
        vec![Need::Tls]
    }

    fn step(&self) -> Step;

    /// Judges one endpoint's handshake.
    fn judge(&self, ctx: &FactView, fact: &TlsFact) -> Vec<Outcome>;
}

/// An [`EndpointCheck`] kind, its parameters read as written.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Endpoints<T>(T);

impl<T: EndpointCheck> Check for Endpoints<T> {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        self.0.needs()
    }

    fn step(&self) -> Step {
        self.0.step()
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        per_endpoint(ctx, self.0.discovery_rules(), self.0.no_address(), |fact| self.0.judge(ctx, fact))
    }
}

/// Runs `judge` for every TLS endpoint probed, and judges each named Access
/// Edge that DNS gave no address (`no_address`; an error when its DNS
/// questions went unanswered), or says there is none; `discovery_rules`
/// report why DNS led to no endpoint.
pub fn per_endpoint(
    ctx: &FactView,
    discovery_rules: &[String],
    no_address: NoAddress,
    judge: impl Fn(&TlsFact) -> Vec<Outcome>,
) -> Vec<Outcome> {
    let own: Vec<&TlsFact> = ctx.facts.tls.iter().filter(|f| f.partner.is_none()).collect();
    let unresolved = unresolved_edge_outcomes(ctx, discovery_rules, no_address);
    if own.is_empty() && unresolved.is_empty() {
        let why = if ctx.facts.offline {
            "no TLS endpoint was probed: this was an offline audit".to_string()
        } else if !own_endpoints(ctx.facts).is_empty() {
            "TLS was not probed in this scan (its TLS rules were deselected, or the facts were recorded without them)"
                .to_string()
        } else if ctx.dns.gathered {
            format!(
                "no TLS endpoint: no federation SRV target or Edge address was found{}",
                see::in_parentheses(discovery_rules)
            )
        } else {
            "no TLS endpoint was probed (an offline audit, or a certificate file only)".to_string()
        };
        return vec![Outcome::skip(Target::area("TLS"), why)];
    }
    let mut outcomes: Vec<Outcome> = own.into_iter().flat_map(judge).collect();
    outcomes.extend(unresolved);
    outcomes.extend(unprobed_errors(ctx));
    outcomes
}

/// The outcome for each named Access Edge without an address: `error` when
/// its DNS questions went unanswered (whether it has one is unknown), else
/// as `no_address` says.
pub fn unresolved_edge_outcomes(ctx: &FactView, discovery_rules: &[String], no_address: NoAddress) -> Vec<Outcome> {
    ctx.unresolved_edges()
        .iter()
        .map(|edge| {
            let target = Target::Service { host: edge.host.clone(), port: edge.port };
            let evidence =
                json!({ "queries": edge.answers.iter().map(|f| super::dns::evidence(f)).collect::<Vec<_>>() });
            let outcome = match (edge.unknown(), no_address) {
                (Some(unknown), _) => Outcome::error(target, unknown),
                (None, NoAddress::Fails) => Outcome::fail(
                    target,
                    format!("{}: there is nothing to connect to, and partners cannot reach this Edge", edge.describe()),
                ),
                (None, NoAddress::Skips) => Outcome::skip(
                    target,
                    format!("{}: no handshake to judge{}", edge.describe(), see::in_parentheses(discovery_rules)),
                ),
            };
            outcome.evidence(evidence)
        })
        .collect()
}

/// An error for each of the organization's names whose addresses the scan
/// did not all probe: what was not probed is not judged.
pub fn unprobed_errors(ctx: &FactView) -> Vec<Outcome> {
    ctx.unprobed()
        .iter()
        .filter(|u| u.partner.is_none())
        .map(|u| {
            let left_out: Vec<String> = u.addresses.iter().map(|a| a.to_string()).collect();
            Outcome::error(
                Target::Service { host: u.host.clone(), port: u.port },
                format!(
                    "{} has {} addresses; the scan probes the first {MAX_ADDRESSES_PER_HOST} and did not check {}",
                    u.host,
                    u.total,
                    left_out.join(", ")
                ),
            )
        })
        .collect()
}

/// The evidence of one handshake, which four rules show for every
/// endpoint: written as JSON straight from the fact, without a tree of
/// values in between.
#[derive(Serialize)]
pub struct HandshakeEvidence<'a> {
    endpoint: String,
    outcome: String,
    chain_source: &'a Option<ChainSource>,
    versions: &'a [VersionSupport],
    client_auth: &'a Option<ClientAuthRequest>,
}

impl AsEvidence for HandshakeEvidence<'_> {
    /// A handshake is read from the network, not from a file.
    fn location(&self) -> Option<Source> {
        None
    }
}

pub fn handshake_evidence(fact: &TlsFact) -> HandshakeEvidence<'_> {
    HandshakeEvidence {
        endpoint: fact.endpoint.label(),
        outcome: fact.outcome.describe(),
        chain_source: &fact.chain_source,
        versions: &fact.versions,
        client_auth: &fact.client_auth,
    }
}
