//! fedscan audits a Lync Server 2013 / Skype for Business Server deployment
//! for SIP federation and Lync–Skype connectivity.
//!
//! Data flows one way: inputs → a plan and the [`facts`] it gathers
//! ([`engine`]) → [`rules`] instantiating [`checks`] → [`findings`] →
//! [`report`].

pub mod app;
pub mod checks;
pub mod cli;
pub mod diagnose;
pub mod engine;
pub mod facts;
pub mod files;
pub mod findings;
#[doc(hidden)]
pub mod fuzzing;
pub mod probe;
pub mod progress;
pub mod report;
pub mod rules;
pub mod text;
pub mod triage;

#[cfg(test)]
mod layering;

/// The cores this process may use, read once: the standard library reads the
/// cgroup files again at every call.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
