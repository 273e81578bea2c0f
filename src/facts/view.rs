//! The facts as a check reads them: indexed once per evaluation, with the
//! clock they are judged by. Checks read this and nothing else.

use std::cell::OnceCell;

use super::certs::TrustAnchors;
use super::organizations::Organizations;

use time::OffsetDateTime;

use super::config_view::ConfigView;
use super::dns::DnsIndex;
use super::endpoints::{Unprobed, federation_endpoints};
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
    /// Read on first use: every certificate rule reads the same ones.
    certificates: OnceCell<Certificates<'a>>,
    unprobed: OnceCell<Vec<Unprobed>>,
    organizations: OnceCell<Organizations>,
    trust_anchors: OnceCell<TrustAnchors>,
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
            certificates: OnceCell::new(),
            unprobed: OnceCell::new(),
            organizations: OnceCell::new(),
            trust_anchors: OnceCell::new(),
        }
    }

    /// The endpoints DNS led to that the scan did not probe (beyond the
    /// addresses it probes per name).
    /// The trust stores made ready for chain validation (once).
    pub fn trust_anchors(&self) -> &TrustAnchors {
        self.trust_anchors.get_or_init(|| TrustAnchors::of(&self.facts.trust))
    }

    /// Which scanned domains belong together (computed once, linear).
    pub fn organizations(&self) -> &Organizations {
        self.organizations.get_or_init(|| Organizations::new(self.facts, &self.dns))
    }

    pub fn unprobed(&self) -> &[Unprobed] {
        self.unprobed.get_or_init(|| federation_endpoints(self.facts).unprobed)
    }

    /// The organization's certificates, presented and from files.
    pub fn certificates(&self) -> &Certificates<'a> {
        self.certificates.get_or_init(|| Certificates::read(self.facts))
    }
}
