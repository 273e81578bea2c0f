//! How far the scan has got, as counters the probe loops update and a
//! display may read (the progress bar on standard error): the loops own the
//! work, these only count it. Relaxed atomics: a count read a moment late
//! is fine for a person watching.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    /// SIP domains (the organization's and partners') being scanned.
    pub domains: AtomicUsize,
    /// Domains whose every question and endpoint is done.
    pub domains_done: AtomicUsize,
    /// DNS questions known so far (both rounds).
    pub questions: AtomicUsize,
    /// Questions done, whatever the outcome.
    pub questions_done: AtomicUsize,
    /// Questions the resolver answered (any response code): a resolver that
    /// answers none is unreachable or dropping the queries.
    pub responses: AtomicUsize,
    pub questions_in_flight: AtomicUsize,
    /// Endpoints to probe (TLS, then SIP).
    pub endpoints: AtomicUsize,
    pub endpoints_done: AtomicUsize,
    pub handshakes_in_flight: AtomicUsize,
    /// Connections and full handshakes, counted by the probes themselves.
    pub work: std::sync::Arc<crate::probe::tls::Work>,
    /// How long the DNS questions took, all of them, in microseconds.
    pub dns_micros: std::sync::atomic::AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub domains: usize,
    pub domains_done: usize,
    pub questions: usize,
    pub questions_done: usize,
    pub responses: usize,
    pub questions_in_flight: usize,
    pub endpoints: usize,
    pub endpoints_done: usize,
    pub handshakes_in_flight: usize,
}

impl Progress {
    pub fn add(counter: &AtomicUsize, n: usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicUsize, n: usize) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn counts(&self) -> Counts {
        let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        Counts {
            domains: get(&self.domains),
            domains_done: get(&self.domains_done),
            questions: get(&self.questions),
            questions_done: get(&self.questions_done),
            responses: get(&self.responses),
            questions_in_flight: get(&self.questions_in_flight),
            endpoints: get(&self.endpoints),
            endpoints_done: get(&self.endpoints_done),
            handshakes_in_flight: get(&self.handshakes_in_flight),
        }
    }
}

/// Decrements a counter when dropped: an in-flight count stays right when
/// a probe is cancelled or panics.
pub struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    pub fn start(counter: &'a AtomicUsize) -> InFlight<'a> {
        Progress::add(counter, 1);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        Progress::sub(self.0, 1);
    }
}
