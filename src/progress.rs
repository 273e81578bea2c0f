//! The progress of a live scan on standard error, for a person at a
//! terminal: domains done, DNS questions and handshakes in flight. Drawn by
//! `indicatif` from the engine's counters ([`Progress`]), on a thread of its
//! own, and cleared when the scan ends; nothing is drawn when standard error
//! is not a terminal or with `--quiet`. Whatever the terminal, a resolver that
//! answers none of the first questions is reported at once, not after every
//! question has timed out.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::progress::{Counts, Progress};

/// How many questions must have ended, all without an answer, before the
/// resolver is reported as silent (fewer when the scan asks fewer).
const SILENT_AFTER: usize = 8;

const TICK: Duration = Duration::from_millis(100);

pub struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Starts watching the counters; `resolvers` names the resolver in a warning.
    pub fn start(progress: Arc<Progress>, resolvers: &[SocketAddr]) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        let resolver = match resolvers {
            [] => "the system's resolver".to_string(),
            list => format!("the resolver {}", list.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(", ")),
        };
        let watching = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || watch(&progress, &watching, &resolver))
            .ok();
        Display { stop, thread }
    }

    /// Stops and clears the display.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Wake it from its tick, so that the scan does not wait for one.
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn watch(progress: &Progress, stop: &AtomicBool, resolver: &str) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {elapsed} [{bar:24}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar
    });
    let mut warned = false;
    loop {
        // One last look after the stop: a scan shorter than a tick still
        // reports a silent resolver.
        let stopping = stop.load(Ordering::Relaxed);
        let counts = progress.counts();
        if !warned && is_silent(&counts) {
            warned = true;
            let warning = format!(
                "fedscan: warning: {resolver} has answered none of the first {} DNS questions; \
                 check --resolver and the network (the scan goes on, and what needs DNS will be an error)",
                counts.questions_done
            );
            match &bar {
                Some(bar) => bar.println(warning),
                None => {
                    let _ = writeln!(std::io::stderr().lock(), "{warning}");
                }
            }
        }
        if let Some(bar) = &bar {
            bar.set_length((counts.questions + counts.endpoints) as u64);
            bar.set_position((counts.questions_done + counts.endpoints_done) as u64);
            bar.set_message(message(&counts));
            bar.tick();
        }
        if stopping {
            break;
        }
        std::thread::park_timeout(TICK);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// Whether the first questions have all ended without an answer.
fn is_silent(counts: &Counts) -> bool {
    let enough = SILENT_AFTER.min(counts.questions).max(1);
    counts.questions_done >= enough && counts.responses == 0
}

/// "3/300 domains · DNS 120/1800 (32 asking) · TLS/SIP 0/0 (0 connecting)"
fn message(counts: &Counts) -> String {
    format!(
        "{}/{} domains · DNS {}/{} ({} asking) · TLS/SIP {}/{} ({} connecting)",
        counts.domains_done.min(counts.domains),
        counts.domains,
        counts.questions_done,
        counts.questions,
        counts.questions_in_flight,
        counts.endpoints_done,
        counts.endpoints,
        counts.handshakes_in_flight
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolver_is_silent_only_when_the_first_questions_all_went_unanswered() {
        let none = Counts { questions: 40, questions_done: 8, responses: 0, ..Counts::default() };
        assert!(is_silent(&none));
        assert!(!is_silent(&Counts { responses: 1, ..none }));
        assert!(!is_silent(&Counts { questions_done: 7, ..none }), "too early to tell");
        let small = Counts { questions: 3, questions_done: 3, responses: 0, ..Counts::default() };
        assert!(is_silent(&small), "a scan of fewer questions is judged on all of them");
        assert!(!is_silent(&Counts::default()), "nothing asked yet");
    }
}
