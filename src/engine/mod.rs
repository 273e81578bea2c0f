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

use crate::facts::certs::TrustStore;
use crate::facts::dns::ResolverSettings;
use crate::facts::{InputError, Inputs};
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
    /// `--zone`: planned zone files, each with the origin given for it.
    pub zones: Vec<(Option<String>, PathBuf)>,
    /// `--internal-zone`: the internal view's planned zone files.
    pub internal_zones: Vec<(Option<String>, PathBuf)>,
    pub trust: Vec<TrustStore>,
    /// How to reach the network; `None` for an offline audit.
    pub network: Option<NetworkSettings>,
}

impl ScanRequest {
    /// Whether a batch in chunks of `chunk_domains` domains is one chunk,
    /// known before its inputs are read (planned zones alone name their
    /// domains by their origins, so theirs are not).
    pub fn is_one_chunk(&self, chunk_domains: usize) -> bool {
        let from_zones = self.inputs.domains.is_empty() && !self.zones.is_empty();
        !from_zones && gather::is_one_chunk(self.inputs.domains.len(), chunk_domains)
    }
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

/// Why a scan could not run at all: said as a usage or input error (exit
/// 2) before any finding. What one input or probe could not give is a fact
/// and the rules' `error`, never this.
#[derive(Debug)]
pub enum ScanError {
    /// The runtime the probes run on could not start.
    Runtime(std::io::Error),
    /// A resolver could not be set up (`--resolver`, or the system's
    /// configuration).
    Resolver(String),
    /// A facts file to replay could not be read.
    Facts(InputError),
    /// A set of shards that is not whole, without `--allow-partial`.
    IncompleteShards(String),
    /// Nothing to replay.
    NoFactsFile,
    /// A batch in chunks asked of an offline scan.
    ChunksOffline,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
            ScanError::Resolver(message) => f.write_str(message),
            ScanError::Facts(e) => write!(f, "{e}"),
            ScanError::IncompleteShards(problem) => {
                write!(f, "{problem}; give every shard of one scan, or --allow-partial to report this part as partial")
            }
            ScanError::NoFactsFile => f.write_str("--facts: no facts file given"),
            ScanError::ChunksOffline => f.write_str("a chunked scan is a live scan"),
        }
    }
}

impl std::error::Error for ScanError {}
