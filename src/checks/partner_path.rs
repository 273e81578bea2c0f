//! `partner_path`: each partner domain (`--partner`) can be reached the way
//! the organization's Edge reaches it: its federation SRV record, the
//! target's addresses, a TLS handshake, and an answer to OPTIONS. The first
//! step that fails is the finding.

use serde::Deserialize;
use serde_json::json;

use super::Check;
use super::dns::{SrvSet, addresses, show_srv, srv_set};
use super::sip::exchange;
use crate::facts::Targets;
use crate::facts::endpoints::FEDERATION_SERVICE;
use crate::facts::need::Need;
use crate::facts::sip::SipOutcome;
use crate::facts::srv::display_order;
use crate::facts::tls::TlsOutcome;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Placeholder, Status, Step, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerPath {}

impl Check for PartnerPath {
    fn needs(&self, _targets: &Targets) -> Vec<Need> {
        vec![Need::PartnerPaths]
    }

    fn step(&self) -> Step {
        Step::Sip
    }

    fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        if ctx.partners.is_empty() {
            return vec![Outcome::skip(Target::area("partners"), "no partner domains were given (--partner DOMAIN)")];
        }
        if !ctx.dns.gathered || ctx.targets.partners.is_empty() {
            return vec![Outcome::skip(
                Target::area("partners"),
                "partner domains were not probed (an offline audit, or replayed facts without them)",
            )];
        }
        ctx.targets
            .partners
            .iter()
            .map(|partner| {
                let step = |status: Status, message: String| {
                    Outcome::new(status, Target::domain(partner.clone()), message)
                        .var(Placeholder::Domain, partner.clone())
                };
                let records = match srv_set(ctx, partner, FEDERATION_SERVICE) {
                    Err(outcome) => return outcome.target_to(Target::domain(partner.clone())),
                    Ok(SrvSet::Absent(fact)) => {
                        return step(
                            Status::Fail,
                            format!("DNS: _sipfederationtls._tcp.{partner}: {}", fact.outcome.describe()),
                        );
                    }
                    Ok(SrvSet::NotOffered(_)) => {
                        return step(
                            Status::Fail,
                            format!("DNS: {partner} declares federation not offered (\".\" target)"),
                        );
                    }
                    Ok(SrvSet::Records(records, _)) => records,
                };
                // The record a partner's Edge tries first.
                let first = display_order(&records);
                let record = &first[0];
                let found = match addresses(ctx, partner, &record.target) {
                    Ok(found) => found,
                    Err(outcome) => return outcome.target_to(Target::domain(partner.clone())),
                };
                if found.all().next().is_none() {
                    return step(Status::Fail, format!("DNS: the SRV target {} has no address", record.target));
                }
                let handshakes: Vec<_> =
                    ctx.facts.tls.iter().filter(|t| t.partner.as_deref() == Some(partner.as_str())).collect();
                if handshakes.is_empty() {
                    return step(Status::Skip, "TLS was not probed".into());
                }
                // Every member of the partner's pool takes traffic, so the
                // first one that fails is the finding.
                let mut first = None;
                // A member the probe observed nothing of leaves the path
                // undecided, unless another fails.
                let mut unobserved = None;
                for tls in &handshakes {
                    if let TlsOutcome::Unobserved { .. } = tls.outcome {
                        unobserved.get_or_insert_with(|| {
                            format!("TLS: {}: {}", tls.endpoint.label(), tls.outcome.describe())
                        });
                        continue;
                    }
                    if !matches!(
                        tls.outcome,
                        TlsOutcome::Established { .. } | TlsOutcome::ClientCertificateRequired { .. }
                    ) {
                        return step(
                            Status::Fail,
                            format!("TLS: {}: {}", tls.endpoint.label(), tls.outcome.describe()),
                        );
                    }
                    let srv = records
                        .iter()
                        .find(|r| r.target == tls.endpoint.host && r.port == tls.endpoint.port)
                        .unwrap_or(record);
                    let path = format!("{} → {} → TLS {}", show_srv(srv), tls.endpoint.address, tls.outcome.describe());
                    let sent = ctx.facts.sip.iter().find(|s| s.endpoint == tls.endpoint);
                    let Some(fact) = sent else {
                        first.get_or_insert_with(|| (format!("{path}; OPTIONS not sent"), json!({ "path": path })));
                        continue;
                    };
                    let (message, mut evidence) = exchange(fact);
                    evidence["path"] = json!(path);
                    let answered = matches!(
                        fact.outcome,
                        SipOutcome::Response { .. } | SipOutcome::ClientCertificateRequired { .. }
                    );
                    // The handshake worked above: an exchange that could not
                    // connect, or that got only `100 Trying`, says nothing of
                    // whether the SIP service answers.
                    if let SipOutcome::Unobserved { .. }
                    | SipOutcome::NoConnection { .. }
                    | SipOutcome::NoFinalResponse { .. } = fact.outcome
                    {
                        unobserved.get_or_insert(format!("{path}; SIP: {message}"));
                        continue;
                    }
                    if !answered {
                        return step(Status::Fail, format!("{path}; SIP: {message}")).evidence(evidence);
                    }
                    first.get_or_insert((format!("{path}; SIP: {message}"), evidence));
                }
                if let Some(unprobed) = ctx.unprobed().iter().find(|u| u.partner.as_deref() == Some(partner.as_str())) {
                    unobserved.get_or_insert_with(|| {
                        let (host, total) = (&unprobed.host, unprobed.total);
                        format!("TLS: {host} has {total} addresses and the scan did not probe them all")
                    });
                }
                if let Some(message) = unobserved {
                    return step(Status::Error, message);
                }
                let (mut message, evidence) = first.expect("at least one handshake, every one passed");
                if handshakes.len() > 1 {
                    message.push_str(&format!(" (and the {} other endpoints alike)", handshakes.len() - 1));
                }
                step(Status::Pass, message).evidence(evidence)
            })
            .collect()
    }
}
