//! The command line (contract: the flags and their meaning are fixed).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::findings::Status;
use crate::report::FailOn;
use crate::report::table::Layout;
use crate::rules::Profile;

#[derive(Debug, Parser)]
#[command(
    name = "fedscan",
    version,
    about = "Audits Lync Server 2013 / Skype for Business Server SIP federation and Lync–Skype connectivity",
    long_about = "Audits a Lync Server 2013 / Skype for Business Server deployment for SIP federation and \
                  Lync–Skype connectivity (public IM connectivity), along the path a partner takes: the \
                  federation DNS records, the Access Edge's TLS handshake and certificate, and its SIP \
                  answer, live; and the configuration exported from the Management Shell (Format-List or \
                  Format-Table text, or JSON), or a certificate file before it is installed. `diagnose` \
                  explains a SIP trace or ms-diagnostics header. Reports for people and CI (table, JSON, \
                  NDJSON, SARIF, JUnit, Markdown, HTML, CSV), against a baseline and a suppressions file; \
                  large batches sharded over machines and merged (`merge`).\n\n\
                  Exit codes of `scan` and `merge`: 0 no failure at or above --fail-on; 1 failures at or above --fail-on; \
                  2 usage or input error; 3 no failure at the threshold but some checks could not be evaluated; \
                  130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run; the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a deployment: configuration snapshots, and live DNS, TLS and SIP.
    Scan(ScanArgs),
    /// List, explain and validate rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Diagnose a SIP trace: for each failed request, the response and
    /// ms-diagnostics codes, what they mean, which side produced them, the
    /// rules that check the cause and the fix on each side.
    ///
    /// Reads Lync/Skype for Business Server traces (Snooper, CLS,
    /// OCSLogger), Expressway logs, SIP messages, ms-diagnostics headers,
    /// Test-Cs* cmdlet output and error codes named in text, also as pasted
    /// through a ticket, an e-mail or a web page (each repair is noted).
    ///
    /// Exit codes: 0 the trace shows requests answered and no failure; 1 it
    /// shows failures (each diagnosed); 2 usage or input error (not a trace,
    /// unreadable); 3 nothing to conclude (no final response, or error
    /// records that could not be read).
    Diagnose(DiagnoseArgs),
    /// Print a shell completion script: `fedscan completions bash >
    /// /etc/bash_completion.d/fedscan`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `fedscan man > fedscan.1`; or write one
    /// page per command, every flag in it (`fedscan.1`, `fedscan-scan.1`,
    /// `fedscan-rules-list.1`, …), into a directory, made if missing:
    /// `fedscan man --dir ~/.local/share/man/man1`.
    Man {
        /// Write every page into this directory instead of printing the
        /// top-level one.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Merge the facts of shards (`scan --shard K/N --save-facts`) and report
    /// them as one scan: the same findings and exit code as one run over
    /// every domain.
    Merge(MergeArgs),
    /// Serve Prometheus metrics of the federation path: `/probe?target=
    /// DOMAIN&module=NAME` scans one allowed SIP domain with a module's scan
    /// flags and answers with its metrics (each rule's status, certificate
    /// dates, TLS version, the OPTIONS answer); `/metrics` for the
    /// exporter's own, `/-/healthy` for a liveness check. See
    /// deploy/prometheus/serve.toml.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The exporter's configuration (TOML): the address to listen on, the
    /// targets that may be probed, the modules.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The trace: a Lync / Skype for Business Server trace (Snooper, CLS or
    /// OCSLogger text), a Cisco Expressway / VCS log, SIP messages, or
    /// ms-diagnostics headers pasted from anywhere; `-` for standard input.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// The organization's SIP domains, to tell its side from the partner's
    /// in the diagnosis. Repeatable.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Vec<String>,

    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Write the diagnosis to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The formats of a scan's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people at a terminal: each domain's path and findings, what to fix first.
    Table,
    /// The whole report as one JSON document (schemas/report.schema.json).
    Json,
    /// One JSON object per line: a scan record, each finding, the summary.
    Ndjson,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Markdown, for a CI job summary or a pull-request comment.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// One row per finding.
    Csv,
}

/// `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: ReportFormat,
    pub path: PathBuf,
}

fn parse_report_spec(text: &str) -> Result<ReportSpec, String> {
    let (format, path) =
        text.split_once('=').ok_or_else(|| format!("{text:?}: give FORMAT=PATH, such as sarif=fedscan.sarif"))?;
    let format = ReportFormat::from_str(format.trim(), true).map_err(|_| {
        let names: Vec<String> = ReportFormat::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("{format:?} is not a report format (one of {})", names.join(", "))
    })?;
    if path.is_empty() {
        return Err(format!("{text:?}: the path after = is empty"));
    }
    Ok(ReportSpec { format, path: PathBuf::from(path) })
}

/// `--shard K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let parsed =
        text.split_once('/').and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((index, count)) if count >= 1 && index < count => Ok(Shard { index, count }),
        _ => Err(format!("{text:?}: give K/N with 0 <= K < N, such as 0/4")),
    }
}

/// The statuses `--show` takes.
fn parse_status(text: &str) -> Result<Status, String> {
    Status::ALL
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| format!("{text:?} is not a status (pass, fail, error, skip)"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// SIP domains to audit live (DNS). With --offline they are only added to
    /// the snapshot's SIP domains.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,

    /// A file of SIP domains, one per line; `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    pub domains_file: Option<PathBuf>,

    /// The Access Edge's external FQDN (and port, default 5061). Repeatable.
    #[arg(long, value_name = "FQDN[:PORT]")]
    pub edge: Vec<String>,

    /// Configuration snapshot: a file (Format-List or Format-Table text or
    /// JSON, in UTF-8, UTF-16 or Windows-1252), a directory of them, or `-`
    /// for standard input. Repeatable.
    #[arg(long, short = 'c', value_name = "PATH")]
    pub config: Vec<PathBuf>,

    /// Do not touch the network: audit snapshots and saved facts only.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub rule_args: RuleArgs,

    /// A partner domain: its allowed/blocked status is checked in the
    /// snapshot, and in a live scan its federation path (DNS, TLS, SIP) is
    /// probed too. Repeatable.
    #[arg(long, value_name = "DOMAIN")]
    pub partner: Vec<String>,

    /// Evaluate saved facts instead of gathering them. Repeatable: the
    /// facts of several scans (shards) are merged first.
    #[arg(long, value_name = "FILE")]
    pub facts: Vec<PathBuf>,

    /// Scan only shard K of N (K from 0 to N-1): the domains whose stable
    /// hash falls in it, so that N machines share a list and each domain is
    /// always scanned by the same shard. Merge the shards' facts with `fedscan merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    /// With --facts from shards: report a set that is not whole instead of
    /// refusing it, marked partial (see `fedscan merge --allow-partial`).
    #[arg(long, requires = "facts")]
    pub allow_partial: bool,

    /// Save the gathered facts, to replay them later with --facts.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,

    /// Evaluate as of this time (RFC 3339, e.g. 2026-01-31T00:00:00Z).
    /// Default: now, or the time the facts were gathered when replaying.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// DNS resolver to ask (repeatable). Default: the system's configuration.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Vec<String>,

    /// The organization's internal resolver, to compare the internal view of
    /// DNS with the external one (split-brain checks). Repeatable.
    #[arg(long, value_name = "IP[:PORT]")]
    pub internal_resolver: Vec<String>,

    /// How many network questions may be in flight at once (1 to 4096).
    #[arg(long, default_value_t = 32, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub concurrency: usize,

    /// At most this many DNS questions a second over the whole scan, for a
    /// shared resolver (1 to 100000). Default: no limit but --concurrency.
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=100_000))]
    pub qps: Option<u32>,

    /// At most this many endpoints probed at once on one address (an Edge
    /// that hosts many domains), 1 to 4096; each probe holds up to four
    /// connections (the handshake and three version hellos).
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub max_per_address: usize,

    /// Domains per chunk of a live batch (one without the organization's
    /// own context): whole organizations are probed and judged together.
    #[arg(long, hide = true, default_value_t = 64, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub chunk_domains: usize,

    /// Hold a batch's findings in memory for its report rather than keep
    /// them on disk (what the reports of the two ways are compared with).
    #[arg(long, hide = true)]
    pub hold_findings: bool,

    /// Send SIP OPTIONS on a connection of its own rather than on the TLS
    /// probe's (as scans did before they reused it): to compare the two.
    #[arg(long, hide = true)]
    pub sip_own_connection: bool,

    /// Seconds to wait for each network answer (each DNS attempt).
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub timeout: f64,

    /// Tries per DNS question before it counts as unanswered (1 to 10).
    #[arg(long, default_value_t = 2, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10))]
    pub dns_attempts: usize,

    /// A certificate file (PEM or DER, one certificate or a chain, leaf
    /// first) to audit without connecting: the pre-deployment check. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub cert_file: Vec<PathBuf>,

    /// A planned zone whose records the DNS rules read as partners will see
    /// them once published: a BIND master file ($INCLUDE within its
    /// directory, $GENERATE), octoDNS zone YAML, or the JSON/YAML record-set
    /// listing of Azure DNS, Route 53 or Cloud DNS, told apart by content; or
    /// a directory of them (*.zone, db.*, *.dns, *.yaml, *.yml, *.json).
    /// ORIGIN= names the zone when the file does not (no $ORIGIN; an octoDNS
    /// file not named after its zone). Names outside every planned zone
    /// are asked live, or, with --offline, are errors. Repeatable; without
    /// a domain named, the zones' origins are the SIP domains scanned.
    #[arg(long, value_name = "[ORIGIN=]FILE|DIR")]
    pub zone: Vec<String>,

    /// A planned zone of the internal DNS view (as --zone: a file or a
    /// directory), which the split-brain rules compare with the external
    /// one. Repeatable.
    #[arg(long, value_name = "[ORIGIN=]FILE|DIR")]
    pub internal_zone: Vec<String>,

    /// Trust store to validate chains against: mozilla (built in), system, or
    /// a PEM file of CA certificates. Repeatable. Default: mozilla.
    #[arg(long, value_name = "STORE")]
    pub trust: Vec<String>,

    /// A client certificate (PEM chain) to present when an Edge asks for one
    /// during the SIP probe, e.g. the organization's own Edge certificate.
    /// Sent only when given, with --client-key.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Days before expiry from which a certificate fails (at medium
    /// severity), 0 to 3650.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub expiry_warn_days: Option<u32>,
}

/// Which rules run: shared by `scan` and `merge`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Profiles to audit for (repeatable). Default: federation and skype.
    #[arg(long, value_enum, value_name = "PROFILE")]
    pub profile: Vec<Profile>,

    /// Directory (or file) of extra rules in TOML. Repeatable.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Run only these rules: IDs, ID prefixes ending in * (CFG-AEC-*), or profiles.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Do not run these rules: IDs, ID prefixes ending in *, or profiles.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub skip: Vec<String>,
}

/// What a scan's report is and where it goes: shared by `scan` and `merge`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report's format on standard output (or in --output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the report in FORMAT to PATH, e.g. `--report
    /// sarif=fedscan.sarif --report junit=fedscan.xml`. Repeatable; every path
    /// is checked as writable before the scan starts.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report_spec)]
    pub extra_reports: Vec<ReportSpec>,

    /// Lowest severity of a failure that makes the exit code 1; `none`
    /// reports failures without failing on them (errors still give 3).
    #[arg(long, value_enum, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// A previous JSON or NDJSON report: each failure and error is marked new,
    /// unchanged or changed, and the report lists what was fixed.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,

    /// Only failures and errors the baseline did not have count for the exit code.
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,

    /// Suppressions file: accepted findings, each with a rule, a target
    /// pattern, a reason and an expiry date. Default: .fedscan-ignore.toml in
    /// the current directory, if there is one.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,

    /// Do not read .fedscan-ignore.toml.
    #[arg(long, conflicts_with = "ignore_file")]
    pub no_ignore_file: bool,

    /// Statuses whose rows the table shows, e.g. `--show fail,error`.
    /// Default: all. The summary, what could not be checked and what to fix
    /// are always shown.
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = parse_status)]
    pub show: Vec<Status>,

    /// Failures and errors only in the table, and no progress on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// The table's domains: auto (each path for up to 10 domains, one line
    /// per domain beyond), paths, or overview.
    #[arg(long, value_enum, default_value = "auto", value_name = "LAYOUT")]
    pub layout: Layout,

    /// Colour in the table: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The facts files of the shards (`--save-facts`), each read whole; the
    /// merged facts are judged as one scan's.
    #[arg(value_name = "FACTS", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Save the merged facts, to replay them later with --facts.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,

    /// Evaluate as of this time (RFC 3339). Default: when the first shard's
    /// facts were gathered.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Report a set of shards that is not whole (a shard missing or given
    /// twice, shards of different scans) instead of refusing it; the report
    /// says it is partial, in every format, and exits 3 at best.
    #[arg(long)]
    pub allow_partial: bool,

    #[command(flatten)]
    pub rule_args: RuleArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules.
    List {
        /// Only the rules of this profile.
        #[arg(long, value_enum)]
        profile: Option<Profile>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Extra rules to include.
        #[arg(long, value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Show a rule: what it checks, why, and how to fix a failure.
    Explain {
        #[arg(value_name = "RULE")]
        id: String,
        /// Extra rules to include.
        #[arg(long, value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Check rule files without scanning anything.
    Validate {
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
}
