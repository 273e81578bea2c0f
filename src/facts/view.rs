//! The facts as a check reads them: indexed once per evaluation, with the
//! clock they are judged by. Checks read this and nothing else.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::sync::OnceLock;

use super::certs::TrustAnchors;
use super::chain::{ChainVerdict, validate_with};
use super::organizations::Organizations;

use time::OffsetDateTime;

use super::config_view::ConfigView;
use super::dns::DnsIndex;
use super::endpoints::{Unprobed, UnresolvedEdge, federation_endpoints, unresolved_edges};
use super::x509::Certificates;
use super::{Facts, Targets};

pub struct FactView<'a> {
    pub facts: &'a Facts,
    pub config: ConfigView<'a>,
    pub dns: DnsIndex<'a>,
    /// The domains and Edges probed live.
    pub targets: &'a Targets,
    /// The partner domains the user named (`--partner`).
    pub partners: &'a [String],
    /// The evaluation clock (`--now`, or when the facts were gathered).
    pub now: OffsetDateTime,
    /// `--expiry-warn-days`, overriding the rule's own.
    pub expiry_warn_days: Option<u32>,
    /// Read on first use: every certificate rule reads the same ones; the
    /// views of one evaluation's threads share theirs.
    certificates: OnceLock<Certificates<'a>>,
    shared_certificates: Option<&'a OnceLock<Certificates<'a>>>,
    unprobed: OnceCell<Vec<Unprobed>>,
    organizations: OnceCell<Organizations>,
    trust_anchors: OnceCell<TrustAnchors>,
    /// Verdicts by the chain's digest and the moment judged: many domains
    /// share one Edge (a hosting service's), and so one chain.
    chain_verdicts: RefCell<HashMap<([u8; 32], OffsetDateTime), ChainVerdict>>,
}

impl<'a> FactView<'a> {
    pub fn new(facts: &'a Facts, now: OffsetDateTime, expiry_warn_days: Option<u32>) -> Self {
        FactView {
            facts,
            config: ConfigView::new(facts),
            dns: DnsIndex::new(&facts.dns),
            targets: &facts.targets,
            partners: &facts.inputs.partners,
            now,
            expiry_warn_days,
            certificates: OnceLock::new(),
            shared_certificates: None,
            unprobed: OnceCell::new(),
            organizations: OnceCell::new(),
            trust_anchors: OnceCell::new(),
            chain_verdicts: RefCell::new(HashMap::new()),
        }
    }

    /// The trust stores made ready for chain validation (once).
    pub fn trust_anchors(&self) -> &TrustAnchors {
        self.trust_anchors.get_or_init(|| TrustAnchors::of(&self.facts.trust))
    }

    /// A chain (leaf first) judged against the trust stores at `at`; each
    /// chain once per moment.
    pub fn chain_verdict(&self, chain: &[Vec<u8>], at: OffsetDateTime) -> ChainVerdict {
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        for der in chain {
            digest.update(&(der.len() as u64).to_be_bytes());
            digest.update(der);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(digest.finish().as_ref());
        if let Some(verdict) = self.chain_verdicts.borrow().get(&(key, at)) {
            return verdict.clone();
        }
        let verdict = validate_with(chain, &self.facts.trust, self.trust_anchors(), at);
        self.chain_verdicts.borrow_mut().insert((key, at), verdict.clone());
        verdict
    }

    /// Which scanned domains belong together (computed once, linear).
    pub fn organizations(&self) -> &Organizations {
        self.organizations.get_or_init(|| Organizations::new(self.facts, &self.dns))
    }

    /// The endpoints DNS led to that the scan did not probe (beyond the
    /// addresses it probes per name).
    pub fn unprobed(&self) -> &[Unprobed] {
        self.unprobed.get_or_init(|| federation_endpoints(self.facts).unprobed)
    }

    /// The Access Edges named to the scan that DNS gave no address.
    pub fn unresolved_edges(&self) -> Vec<UnresolvedEdge<'a>> {
        unresolved_edges(self.facts, &self.dns)
    }

    /// The organization's certificates, presented and from files.
    pub fn certificates(&self) -> &Certificates<'a> {
        self.shared_certificates.unwrap_or(&self.certificates).get_or_init(|| Certificates::read(self.facts))
    }

    /// The view reads its certificates into `shared`, or finds them there
    /// when another view of the same facts has read them.
    pub fn sharing_certificates(self, shared: &'a OnceLock<Certificates<'a>>) -> Self {
        FactView { shared_certificates: Some(shared), ..self }
    }
}
