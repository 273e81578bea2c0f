//! The scan, owned here: [`source`] says where the facts come from,
//! [`plan`] works out what to ask from the rules that run, [`gather`] asks
//! it, [`evaluate`] judges the facts, and [`scan::run`] is the one sequence
//! of them all.

pub mod evaluate;
pub mod gather;
pub mod plan;
pub mod progress;
pub mod scan;
pub mod source;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::facts::Inputs;
use crate::facts::certs::TrustStore;
use crate::facts::dns::ResolverSettings;
use plan::NamedEdges;

/// What to scan, checked: the arguments of `fedscan scan` made into values.
pub struct ScanRequest {
    /// What the user asked, as the facts record it.
    pub inputs: Inputs,
    /// `--edge`, checked.
    pub edges: NamedEdges,
    /// `--config` files and directories.
    pub config: Vec<PathBuf>,
    pub cert_files: Vec<PathBuf>,
    pub trust: Vec<TrustStore>,
    /// How to reach the network; `None` for an offline audit.
    pub network: Option<NetworkSettings>,
}

pub struct NetworkSettings {
    pub external: ResolverSettings,
    pub internal: Option<ResolverSettings>,
    /// Each network step's timeout.
    pub timeout: Duration,
    /// Questions and endpoints in flight at once, DNS rate, cap per address.
    pub limits: gather::Limits,
    /// The client certificate of `--client-cert`, for the SIP probe.
    pub identity: Option<Arc<rustls::sign::CertifiedKey>>,
    /// OPTIONS on a connection of its own (`--sip-own-connection`).
    pub own_sip_connection: bool,
    /// Counted as the scan goes, for a progress display.
    pub progress: Arc<progress::Progress>,
}
