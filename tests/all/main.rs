//! Every integration test, in one binary (as ripgrep has it): one link
//! for all of them, one set of helpers (`common`) and test peers (`peers`).
//! Each module is one area: `cargo test --test all diagnose::` runs one.

mod common;
mod peers;

mod batch;
mod cli;
mod crashed_probes;
mod diagnose;
mod dns;
mod end_to_end;
mod fuzz_corpus;
mod hostile_dns;
mod hostile_files;
mod hostile_sip;
mod hostile_tls;
mod kamailio;
mod onpremdiag;
mod reports;
mod rule_cases;
mod serve;
mod snapshots;
mod srv_order;
mod tickets;
mod tls;
mod tls_legacy;
mod x509_suites;
mod zones;
