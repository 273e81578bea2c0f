//! Check kinds: the code that rules instantiate, one file per kind (its
//! parameters, the facts it reads, its verdicts; no I/O), declared by a
//! plain `mod` line (so that `cargo fmt` reaches it) and registered by one
//! line in `check_kinds!` below. The other modules here are what several
//! kinds share.

mod check;
mod config;
mod dns;
mod matcher;
mod see;
mod sip;
#[cfg(test)]
mod testing;
mod tls;

// The kinds, one file each; `check_kinds!` below registers each by one line.
mod cert_chain;
mod cert_crl;
mod cert_eku;
mod cert_key;
mod cert_no_wildcard;
mod cert_pool;
mod cert_san_names;
mod cert_signature;
mod cert_subject;
mod cert_uses;
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
mod sip_options;
mod split_brain;
mod srv_port;
mod srv_present;
mod srv_priorities;
mod srv_target;
mod srv_target_edge;
mod srv_target_in_domain;
mod srv_target_public;
mod srv_target_resolves;
mod tenant_federation_mode;
mod tenant_list_parity;
mod tls_client_auth;
mod tls_connect;
mod tls_legacy_versions;
mod tls_versions;

pub use check::{Check, Problem};
pub use matcher::compile_patterns_when_read;

use crate::facts::Targets;
use crate::facts::need::Need;
use crate::facts::view::FactView;
use crate::findings::{Outcome, Step};

macro_rules! check_kinds {
    ($($module:ident :: $kind:ident),+ $(,)?) => {
        /// A rule's `[rule.check]` table: `kind` names the check kind, the
        /// other keys are its typed parameters.
        #[derive(Debug)]
        pub enum CheckSpec {
            $($kind($module::$kind)),+
        }

        impl CheckSpec {
            /// Every kind's name as written in rule files (its module's name).
            pub const KINDS: &[&str] = &[$(stringify!($module)),+];

            /// Reads the parameters of a check of `kind` (the table without
            /// its `kind` key); `None` for a kind that does not exist.
            pub fn parse<'de, D: serde::Deserializer<'de>>(kind: &str, params: D) -> Option<Result<CheckSpec, D::Error>> {
                match kind {
                    $(stringify!($module) => Some(
                        <$module::$kind as serde::Deserialize>::deserialize(params).map(CheckSpec::$kind),
                    ),)+
                    _ => None,
                }
            }

            /// The kind's name as written in rule files.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(CheckSpec::$kind(_) => stringify!($module)),+
                }
            }

            fn check(&self) -> &dyn Check {
                match self {
                    $(CheckSpec::$kind(params) => params),+
                }
            }
        }
    };
}

check_kinds! {
    config_field::ConfigField,
    cert_uses::CertUses,
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
    tls_legacy_versions::TlsLegacyVersions,
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
    pub fn evaluate(&self, ctx: &FactView) -> Vec<Outcome> {
        self.check().evaluate(ctx)
    }

    pub fn needs(&self, targets: &Targets) -> Vec<Need> {
        self.check().needs(targets)
    }

    pub fn step(&self) -> Step {
        self.check().step()
    }

    pub fn validate(&self) -> Vec<Problem> {
        self.check().validate()
    }
}
