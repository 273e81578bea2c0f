//! Check kinds: the code that rules instantiate. One file per kind, each a
//! parameter struct that evaluates facts and never does I/O. Every kind is
//! registered once, in `check_kinds!` below.

pub mod dns;
pub mod ms_diagnostics;
pub mod value;
pub mod x509;

mod cert_chain;
mod cert_crl;
mod cert_eku;
mod cert_key;
mod cert_no_wildcard;
mod cert_pool;
mod cert_san_names;
mod cert_signature;
mod cert_subject;
mod cert_validity;
mod config_count;
mod config_field;
mod config_implies;
mod domain_lists_disjoint;
mod dual_stack;
mod edge_fqdn_in_sip_domain;
mod host_alias;
mod host_resolves;
mod internal_absent;
mod partner_domain;
mod partner_path;
mod policy_granted;
mod product_level;
mod product_lifecycle;
mod provider_unique;
pub mod sip_options;
mod split_brain;
mod srv_port;
mod srv_present;
mod srv_priorities;
mod srv_target;
mod srv_target_edge;
mod srv_target_in_domain;
mod srv_target_public;
mod srv_target_resolves;
mod tenant;
mod tenant_federation_mode;
mod tenant_list_parity;
mod tls_client_auth;
mod tls_connect;
mod tls_versions;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::facts::config_view::{ConfigView, Located, Objects};
use crate::facts::snapshot::ObjectKind;
use crate::findings::Status;
use crate::rules::Severity;

/// What a check may read: the facts (through the configuration view), the
/// evaluation clock and the user's declared inputs.
pub struct EvalContext<'a> {
    pub facts: &'a crate::facts::Facts,
    pub config: &'a ConfigView<'a>,
    pub dns: &'a dns::DnsIndex<'a>,
    /// The domains and Edges probed live.
    pub targets: &'a crate::facts::Targets,
    pub now: OffsetDateTime,
    pub partners: &'a [String],
    /// `--expiry-warn-days`, overriding the rule's own.
    pub expiry_warn_days: Option<u32>,
    /// The certificates the TLS rules judge, read on first use: each rule
    /// would otherwise decode and parse every chain again.
    pub certificates: std::cell::OnceCell<x509::Certificates<'a>>,
}

/// One conclusion of a check about one target.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub target: String,
    pub message: String,
    pub evidence: Value,
    /// A severity below the rule's, for outcomes the rule treats as milder.
    pub severity: Option<Severity>,
    /// Values for the remediation's placeholders (`{identity}`, ...).
    pub vars: BTreeMap<&'static str, String>,
}

impl Outcome {
    pub fn new(status: Status, target: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            status,
            target: target.into(),
            message: message.into(),
            evidence: Value::Null,
            severity: None,
            vars: BTreeMap::new(),
        }
    }
    pub fn pass(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Pass, target, message)
    }
    pub fn fail(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Fail, target, message)
    }
    pub fn error(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Error, target, message)
    }
    pub fn skip(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Status::Skip, target, message)
    }
    pub fn evidence(mut self, evidence: Value) -> Self {
        self.evidence = evidence;
        self
    }
    pub fn severity(mut self, severity: Option<Severity>) -> Self {
        self.severity = severity;
        self
    }
    pub fn target_to(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }
    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.vars.insert(name, value.into());
        self
    }
}

/// What a check reads, so that a scan probes only what its rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Needs {
    /// Configuration snapshots only.
    Config,
    /// Live DNS answers.
    Dns,
    /// TLS handshakes (whose endpoints come from DNS).
    Tls,
    /// SIP OPTIONS over TLS (after DNS and TLS).
    Sip,
}

pub trait Check {
    fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome>;

    fn needs(&self) -> Needs {
        Needs::Config
    }

    /// Problems with the parameters that serde cannot see (empty lists,
    /// contradictory bounds); reported when the rule file is loaded.
    fn validate(&self) -> Vec<String> {
        Vec::new()
    }
}

macro_rules! check_kinds {
    ($($module:ident :: $kind:ident),+ $(,)?) => {
        /// A rule's `[rule.check]` table: `kind` names the check kind, the
        /// other keys are its typed parameters.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum CheckSpec {
            $($kind($module::$kind)),+
        }

        impl CheckSpec {
            /// Every kind's name as written in rule files.
            pub const KINDS: &[&str] = &[$(stringify!($module)),+];

            fn check(&self) -> &dyn Check {
                match self {
                    $(CheckSpec::$kind(params) => params),+
                }
            }

            /// Parses a check table's parameters (the table's text with its
            /// header and `kind` line blanked) as the kind's own type, without
            /// the buffering of the tagged enum, so that an error keeps the
            /// span of the offending value.
            pub fn parameter_error(kind: &str, text: &str) -> Option<toml::de::Error> {
                match kind {
                    $(stringify!($module) => toml::from_str::<$module::$kind>(text).err(),)+
                    _ => None,
                }
            }

            /// The kind's name as written in rule files (its module's name).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(CheckSpec::$kind(_) => stringify!($module)),+
                }
            }
        }
    };
}

check_kinds! {
    config_field::ConfigField,
    config_count::ConfigCount,
    config_implies::ConfigImplies,
    partner_domain::PartnerDomain,
    domain_lists_disjoint::DomainListsDisjoint,
    provider_unique::ProviderUnique,
    edge_fqdn_in_sip_domain::EdgeFqdnInSipDomain,
    product_lifecycle::ProductLifecycle,
    product_level::ProductLevel,
    policy_granted::PolicyGranted,
    tenant_list_parity::TenantListParity,
    tenant_federation_mode::TenantFederationMode,
    srv_present::SrvPresent,
    srv_port::SrvPort,
    srv_target::SrvTarget,
    srv_target_edge::SrvTargetEdge,
    srv_target_in_domain::SrvTargetInDomain,
    srv_target_resolves::SrvTargetResolves,
    srv_target_public::SrvTargetPublic,
    srv_priorities::SrvPriorities,
    host_resolves::HostResolves,
    host_alias::HostAlias,
    dual_stack::DualStack,
    split_brain::SplitBrain,
    internal_absent::InternalAbsent,
    tls_connect::TlsConnect,
    tls_versions::TlsVersions,
    tls_client_auth::TlsClientAuth,
    cert_chain::CertChain,
    cert_san_names::CertSanNames,
    cert_subject::CertSubject,
    cert_no_wildcard::CertNoWildcard,
    cert_eku::CertEku,
    cert_key::CertKey,
    cert_signature::CertSignature,
    cert_crl::CertCrl,
    cert_validity::CertValidity,
    cert_pool::CertPool,
    sip_options::SipOptions,
    partner_path::PartnerPath,
}

impl CheckSpec {
    pub fn evaluate(&self, ctx: &EvalContext) -> Vec<Outcome> {
        self.check().evaluate(ctx)
    }

    pub fn validate(&self) -> Vec<String> {
        self.check().validate()
    }

    pub fn needs(&self) -> Needs {
        self.check().needs()
    }
}

/// The objects of `kind`, or the outcome that says why they cannot be read:
/// not in any snapshot (skip), the cmdlet failed (error), or a one-instance
/// object missing from its cmdlet's output (error).
pub(crate) fn captured<'a>(ctx: &EvalContext<'a>, kind: ObjectKind) -> Result<Vec<Located<'a>>, Outcome> {
    match ctx.config.objects(kind) {
        Objects::NotCaptured if !ctx.config.has_snapshots() => {
            Err(Outcome::skip(kind.name(), "no configuration snapshot was given (--config)"))
        }
        Objects::NotCaptured => {
            Err(Outcome::skip(kind.name(), format!("the snapshot has no `{}` output", kind.cmdlet())))
        }
        Objects::Failed { location } => Err(Outcome::error(
            kind.name(),
            format!("`{}` printed an error ({location}), so its settings could not be read", kind.cmdlet()),
        )
        .evidence(json!({ "source": location }))),
        Objects::Captured(objects) if objects.is_empty() && kind.is_singleton() => Err(Outcome::error(
            kind.name(),
            format!(
                "`{}` returned nothing; every deployment has one, so the export failed and its settings could not be checked",
                kind.cmdlet()
            ),
        )),
        Objects::Captured(objects) => Ok(objects),
    }
}

/// The product the snapshot shows, or the skip that says it cannot be told.
pub(crate) fn product(ctx: &EvalContext) -> Result<crate::facts::config_view::Product, Outcome> {
    ctx.config.product().ok_or_else(|| {
        Outcome::skip(
            "product",
            "the product version cannot be told from the snapshot; include `Get-CsServerVersion` output",
        )
    })
}

/// Keeps the objects whose properties match every selector. Objects lacking
/// a selected property are left out.
pub(crate) fn select<'a>(objects: Vec<Located<'a>>, selectors: &BTreeMap<String, value::Matcher>) -> Vec<Located<'a>> {
    objects
        .into_iter()
        .filter(|located| {
            selectors.iter().all(|(name, matcher)| {
                located
                    .object
                    .get(name)
                    .is_some_and(|(_, v)| matcher.check(located.object, name, v) == value::Verdict::Match)
            })
        })
        .collect()
}

/// "ProxyFqdn = federation.messenger.msn.com, Enabled = True"
pub(crate) fn describe(selectors: &BTreeMap<String, value::Matcher>) -> String {
    selectors.iter().map(|(k, m)| format!("{k} = {m}")).collect::<Vec<_>>().join(", ")
}

/// Lower-cased, dot-trimmed domain names of allowed/blocked domain entries.
pub(crate) fn domain_names(objects: &[Located]) -> Vec<(String, String)> {
    objects
        .iter()
        .filter_map(|located| {
            let name = located
                .object
                .get("Domain")
                .or_else(|| located.object.get("Identity"))
                .and_then(|(_, v)| v.as_str())?;
            let name = crate::facts::config_view::normalize_domain(name);
            (!name.is_empty()).then(|| (name, located.location(None)))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Building facts from literal snapshots for the kinds' unit tests.
    use super::*;
    use crate::facts::snapshot::parse_snapshot_bytes;
    use crate::facts::{Facts, Inputs};

    pub fn facts(snapshot: &str) -> Facts {
        let mut facts = Facts::new(Inputs::default(), time::macros::datetime!(2026-01-01 0:00 UTC));
        facts.snapshots.push(parse_snapshot_bytes(snapshot.as_bytes(), "test.json").expect("valid snapshot"));
        facts
    }

    pub fn run(check: &dyn Check, snapshot: &str, partners: &[&str]) -> Vec<Outcome> {
        let facts = facts(snapshot);
        let view = ConfigView::new(&facts);
        let partners: Vec<String> = partners.iter().map(|s| s.to_string()).collect();
        let dns = dns::DnsIndex::new(&facts.dns);
        let ctx = EvalContext {
            facts: &facts,
            expiry_warn_days: None,
            config: &view,
            dns: &dns,
            targets: &facts.targets,
            now: facts.gathered_at,
            partners: &partners,
            certificates: Default::default(),
        };
        check.evaluate(&ctx)
    }

    pub fn statuses(outcomes: &[Outcome]) -> Vec<Status> {
        outcomes.iter().map(|o| o.status).collect()
    }

    pub fn parse<T: serde::de::DeserializeOwned>(toml_text: &str) -> T {
        toml::from_str(toml_text).expect("valid parameters")
    }
}
