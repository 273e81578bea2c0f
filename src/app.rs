//! What each command does, from parsed arguments to an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{Cli, ColorChoice, Command, DiagnoseArgs, Format, MergeArgs, ReportFormat, RulesCommand, ScanArgs};
use crate::engine::evaluate::order;
use crate::engine::plan::Aim;
use crate::engine::{self, NetworkSettings, ScanRequest};
use crate::facts::certs::{MOZILLA, TrustStore, load_trust};
use crate::facts::chunked_file::ChunkedFactsFile;
use crate::facts::dns::{ResolverSettings, parse_resolver};
use crate::facts::names::{parse_fqdn, shard_of};
use crate::facts::{Facts, Inputs, ShardOf, shard_set_problem};
use crate::files::{
    Destination, MAX_CERTIFICATE_FILE, MAX_LIST_FILE, check_writable, read_bounded, read_text_bounded, same_file,
    write_output_with,
};
use crate::findings::Status;
use crate::report::{self, BaselineReport, ExitPolicy, InputNote, Report, ReportInputs, Tool, exit, table};
use crate::rules::{Profile, RuleSet, RuleSource, Selection, builtin_sources, load_rules, sources_from_paths};
use crate::text::{escape_terminal, escape_terminal_lines, to_json};
use crate::triage::{Baseline, DEFAULT_IGNORE_FILE, Suppressions};
use clap::{Args, FromArgMatches};

/// Standard error: a message that cannot be written has nowhere else to go.
macro_rules! err {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Rules(command) => rules(command),
        Command::Diagnose(args) => diagnose(args),
        Command::Merge(args) => merge(args),
        Command::Completions { shell } => {
            // Generated whole first: clap_complete panics on a failed write.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "fedscan", &mut script);
            print(&script).map(|()| exit::CLEAN)
        }
        Command::Man { dir } => manual(dir.as_deref()),
    };
    result.unwrap_or_else(|code| code)
}

/// `fedscan man`: the top-level page on standard output, or with `--dir`
/// one page per command (as `clap_mangen::generate_to` names them), each
/// written as every output is (a link followed, a device never replaced).
fn manual(dir: Option<&Path>) -> Result<u8, u8> {
    let mut command = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    command.build();
    let render = |command: clap::Command| {
        let man = clap_mangen::Man::new(command);
        let mut page = Vec::new();
        man.render(&mut page)
            .map(|()| (man.get_filename(), page))
            .map_err(|e| usage_error(format!("the manual page could not be made: {e}")))
    };
    let Some(dir) = dir else {
        let (_, page) = render(command)?;
        return print(&page).map(|()| exit::CLEAN);
    };
    std::fs::create_dir_all(dir).map_err(|e| usage_error(format!("--dir {}: {e}", dir.display())))?;
    // Every command, depth first, as the pages refer to each other.
    let mut commands = vec![command];
    let mut written = 0;
    while let Some(command) = commands.pop() {
        commands.extend(command.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
        let (name, page) = render(command)?;
        let path = dir.join(&name);
        write_output(Some(&path), |out| out.write_all(&page))?;
        written += 1;
    }
    err!("fedscan: {written} manual pages written to {}", escape_terminal(&dir.display().to_string()));
    Ok(exit::CLEAN)
}

/// What the argument parser stopped at: `--help` and `--version` printed as
/// any output is (a closed pipe is quiet, a full disk exit 2); a usage error
/// on standard error with the arguments it quotes escaped, exit 2.
pub fn argument_error(error: &clap::Error) -> u8 {
    if error.use_stderr() {
        err!("{}", escape_terminal_lines(error.render().to_string().trim_end()));
        return u8::try_from(error.exit_code()).unwrap_or(exit::INPUT);
    }
    // The help text is our own: styled on a terminal that wants colour.
    let styled = color_wanted(std::io::stdout().is_terminal(), |name| std::env::var_os(name));
    let rendered = error.render();
    let text = if styled { rendered.ansi().to_string() } else { rendered.to_string() };
    print(text.as_bytes()).map_or_else(|code| code, |()| exit::CLEAN)
}

/// Writes one output: to standard output when `path` is none or `-`, else
/// to what the path leads to ([`Destination`]). A reader that went away
/// (`| head`) ends the output quietly, as it does for any Unix tool; any
/// other failure to write (a full disk) is exit 2, with the reason.
fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), u8> {
    let written = match path {
        Some(path) => write_output_with(path, write),
        None => Destination::Stdout.write_with(write),
    };
    match written {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(usage_error(format!("{}: {e}", output_name(path)))),
    }
}

/// Writes `bytes` to standard output (see [`write_output`]).
fn print(bytes: &[u8]) -> Result<(), u8> {
    write_output(None, |out| out.write_all(bytes))
}

/// Whether an output goes to standard output.
fn to_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(crate::files::is_stdin)
}

/// How messages name an output.
fn output_name(path: Option<&Path>) -> String {
    match path.filter(|p| !crate::files::is_stdin(p)) {
        Some(path) => escape_terminal(&path.display().to_string()).into_owned(),
        None => "standard output".to_string(),
    }
}

/// `fedscan diagnose`: reads the trace once, streaming, and reports each
/// failed transaction.
fn diagnose(args: DiagnoseArgs) -> Result<u8, u8> {
    let ours = args
        .domain
        .iter()
        .map(|d| parse_fqdn(d).map_err(|e| usage_error(format!("--domain: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let from_stdin = crate::files::is_stdin(&args.input);
    let display = if from_stdin { "<stdin>".to_string() } else { args.input.display().to_string() };
    if let Some(output) = args.output.as_deref().filter(|o| !to_stdout(Some(o))) {
        if !from_stdin && same_file(output, &args.input) {
            return Err(usage_error(format!(
                "--output {}: that is the trace being read; give another path",
                output.display()
            )));
        }
        check_writable(output).map_err(|e| usage_error(format!("--output {}: {e}", output.display())))?;
    }
    let fail = |message: String| usage_error(format!("{display}: {message}"));
    let result = if from_stdin {
        crate::diagnose::diagnose(std::io::stdin().lock(), &display, &ours)
    } else {
        let meta = std::fs::metadata(&args.input).map_err(|e| fail(format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(fail("not a regular file (a directory, a device or a pipe cannot be read as one)".into()));
        }
        let file = std::fs::File::open(&args.input).map_err(|e| fail(format!("cannot read: {e}")))?;
        crate::diagnose::diagnose(std::io::BufReader::with_capacity(64 * 1024, file), &display, &ours)
    };
    let diagnosis = result.map_err(|e| fail(e.0))?;
    let text = match args.format {
        Format::Json => report::diagnosis::json(&diagnosis),
        Format::Table => report::diagnosis::text(&diagnosis),
    };
    let output = args.output.as_deref();
    write_output(output, |out| out.write_all(text.as_bytes()))?;
    if !to_stdout(output) {
        err!("fedscan: {}; diagnosis written to {}", report::diagnosis::summary(&diagnosis), output_name(output));
    }
    Ok(if diagnosis.has_failures() {
        exit::FAILED
    } else if diagnosis.inconclusive().is_some() {
        exit::INCOMPLETE
    } else {
        exit::CLEAN
    })
}

/// Prints an error (which may quote an argument or a file) and gives exit 2.
fn usage_error(message: impl std::fmt::Display) -> u8 {
    err!("fedscan: error: {}", escape_terminal(&message.to_string()));
    exit::INPUT
}

/// Built-in rules plus the user's, or the diagnostics (printed) and exit 2.
fn load(extra: &[PathBuf]) -> Result<RuleSet, u8> {
    let mut sources = builtin_sources();
    match sources_from_paths(extra) {
        Ok(user) => sources.extend(user),
        Err(problems) => return Err(report_rule_problems(&problems)),
    }
    load_rules(&sources).map_err(|problems| report_rule_problems(&problems))
}

fn report_rule_problems(problems: &[crate::rules::Diagnostic]) -> u8 {
    report_file_problems(problems, "the rule files")
}

/// Each problem drawn under its line, then how many, in `files`; exit 2.
fn report_file_problems(problems: &[crate::rules::Diagnostic], files: &str) -> u8 {
    let styled = std::io::stderr().is_terminal();
    for problem in problems {
        err!("fedscan: error: {}", problem.render(styled));
    }
    err!("fedscan: {} problem(s) in {files}; nothing was scanned", problems.len());
    exit::INPUT
}

/// The client certificate and key of --client-cert/--client-key.
fn load_identity(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<std::sync::Arc<rustls::sign::CertifiedKey>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert_pem =
        read_bounded(cert, MAX_CERTIFICATE_FILE).map_err(|e| format!("--client-cert {}: {e}", cert.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--client-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--client-cert {}: no certificate in the file", cert.display()));
    }
    let key_pem =
        read_bounded(key, MAX_CERTIFICATE_FILE).map_err(|e| format!("--client-key {}: {e}", key.display()))?;
    let private =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("--client-key {}: {e}", key.display()))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&private)
        .map_err(|e| format!("--client-key {}: {e}", key.display()))?;
    Ok(std::sync::Arc::new(rustls::sign::CertifiedKey::new(chain, signer)))
}

fn parse_resolvers(flag: &str, values: &[String]) -> Result<Vec<std::net::SocketAddr>, u8> {
    values.iter().map(|v| parse_resolver(v).map_err(|e| usage_error(format!("{flag}: {e}")))).collect()
}

/// `FQDN[:PORT]` of `--edge`.
fn parse_edge(text: &str) -> Result<(String, Option<u16>), String> {
    let (name, port) = match text.rsplit_once(':') {
        Some((name, port)) => {
            (name, Some(port.parse::<u16>().map_err(|_| format!("--edge {text}: {port:?} is not a port number"))?))
        }
        None => (text, None),
    };
    Ok((parse_fqdn(name).map_err(|e| format!("--edge: {e}"))?, port))
}

/// One domain per line; `#` starts a comment; blank lines are ignored.
/// Each domain with its line.
fn read_domains_file(path: &std::path::Path) -> Result<Vec<(String, usize)>, u8> {
    let text = read_text_bounded(path, MAX_LIST_FILE)
        .map_err(|e| usage_error(format!("--domains-file {}: {e}", path.display())))?;
    let mut domains = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let domain = parse_fqdn(line).map_err(|e| usage_error(format!("{}:{}: {e}", path.display(), index + 1)))?;
        domains.push((domain, index + 1));
    }
    Ok(domains)
}

fn parse_time(text: &str) -> Result<OffsetDateTime, u8> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| usage_error(format!("--now {text:?}: not an RFC 3339 time such as 2026-01-31T00:00:00Z ({e})")))
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

/// Where a scan's facts come from.
enum Source {
    /// Gathered now, from the inputs and (unless offline) the network.
    Gather(Box<ScanRequest>),
    /// Replayed from facts files (merged when several), with what the
    /// command line overrides.
    Replay {
        paths: Vec<PathBuf>,
        partners: Vec<String>,
        domains: Vec<String>,
        trust: Option<Vec<TrustStore>>,
        /// `--allow-partial`: a set of shards that is not whole is judged,
        /// marked partial, instead of refused.
        allow_partial: bool,
    },
}

/// `fedscan scan`'s arguments, checked: everything a scan needs, and
/// nothing left to parse.
struct ScanJob {
    rules: RuleSet,
    selection: Selection,
    profiles: Vec<Profile>,
    /// `--now`.
    now: Option<OffsetDateTime>,
    source: Source,
    save_facts: Option<PathBuf>,
    expiry_warn_days: Option<u32>,
    policy: ExitPolicy,
    /// The reports to write: the first to --output or standard output.
    outputs: Vec<(ReportFormat, Option<PathBuf>)>,
    presentation: Presentation,
    /// `--quiet`: no progress on standard error.
    quiet: bool,
    /// A live batch without the organization's own context, gathered and
    /// judged in chunks of this many domains (whole organizations).
    batch_chunks: Option<usize>,
    /// Such a batch written as NDJSON and nothing else: each chunk's
    /// findings written as it is judged, nothing kept.
    streamed: bool,
    /// `--expiry-warn-days` etc. are above; the scan's partners are in the source.
    baseline: Option<(PathBuf, Baseline)>,
    suppressions: Option<(PathBuf, Suppressions)>,
    /// The rule files, as the report names them.
    rule_inputs: Vec<String>,
    /// Where each domain of --domains-file was read.
    domain_lines: std::collections::HashMap<String, (String, usize)>,
}

/// How the terminal report is drawn.
struct Presentation {
    color: ColorChoice,
    show: Vec<Status>,
    layout: table::Layout,
}

/// Turns the flags into a [`ScanJob`], or a usage error (exit 2) before
/// anything is scanned.
fn check_scan_args(args: ScanArgs) -> Result<ScanJob, u8> {
    let rules = load(&args.rule_args.rules)?;
    let selection = Selection::new(&args.rule_args.only, &args.rule_args.skip, &rules).map_err(usage_error)?;
    let live = !args.offline && args.facts.is_empty();
    let mut domains = args.domains.iter().map(|d| parse_fqdn(d).map_err(usage_error)).collect::<Result<Vec<_>, _>>()?;
    let mut domain_lines = std::collections::HashMap::new();
    if let Some(path) = &args.domains_file {
        for (domain, line) in read_domains_file(path)? {
            domain_lines.entry(domain.clone()).or_insert_with(|| (path.display().to_string(), line));
            domains.push(domain);
        }
    }
    let parsed_edges = args.edge.iter().map(|e| parse_edge(e).map_err(usage_error)).collect::<Result<Vec<_>, _>>()?;
    let edges: Vec<String> = parsed_edges.iter().map(|(fqdn, _)| fqdn.clone()).collect();
    let mut edge_ports: Vec<u16> = parsed_edges.iter().filter_map(|(_, port)| *port).collect();
    edge_ports.dedup();
    if edge_ports.len() > 1 {
        return Err(usage_error("--edge: the Access Edges name different federation ports; give one"));
    }
    let resolvers = parse_resolvers("--resolver", &args.resolver)?;
    let internal_resolvers = parse_resolvers("--internal-resolver", &args.internal_resolver)?;
    if !live && (!resolvers.is_empty() || !internal_resolvers.is_empty()) {
        return Err(usage_error(
            "--resolver and --internal-resolver are for live scans; drop them with --offline or --facts",
        ));
    }
    if !(args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err(usage_error(format!("--timeout {}: give seconds between 0 and 600", args.timeout)));
    }
    if !args.facts.is_empty() && !args.config.is_empty() {
        return Err(usage_error("--facts replays saved facts and cannot be combined with --config"));
    }
    let identity = match (&args.client_cert, &args.client_key) {
        (Some(cert), Some(key)) => Some(load_identity(cert, key).map_err(usage_error)?),
        _ => None,
    };
    let trust_specs = if args.trust.is_empty() { vec![MOZILLA.to_string()] } else { args.trust.clone() };
    let trust = trust_specs.iter().map(|spec| load_trust(spec).map_err(usage_error)).collect::<Result<Vec<_>, _>>()?;
    if args.facts.is_empty()
        && args.config.is_empty()
        && args.cert_file.is_empty()
        && (args.offline || (domains.is_empty() && edges.is_empty()))
    {
        return Err(usage_error(if args.offline {
            "nothing to audit offline: give a configuration snapshot (--config PATH), a certificate (--cert-file PATH) or saved facts (--facts FILE)"
        } else {
            "nothing to audit: name SIP domains (DOMAIN, --domains-file), an Edge (--edge), a snapshot (--config) or saved facts (--facts)"
        }));
    }
    refuse_to_overwrite_inputs(&args)?;
    // A shard keeps its part of the domain list (an empty part is a shard
    // with nothing to scan, not an error) and records which part of which
    // list it is, for the merge.
    let this_shard = args.shard.map(|shard| ShardOf::new(shard.index, shard.count, &domains));
    if let Some(shard) = args.shard {
        if !args.facts.is_empty() {
            return Err(usage_error("--shard splits a live scan's domains; merge saved shards with `fedscan merge`"));
        }
        domains.retain(|d| shard_of(d, shard.count) == shard.index);
        domain_lines.retain(|d, _| shard_of(d, shard.count) == shard.index);
    }
    // Partners are compared with list entries and DNS names: normalized
    // like every other domain argument (IDNA, lower case, no trailing dot).
    let partners = args
        .partner
        .iter()
        .map(|p| parse_fqdn(p).map_err(|e| usage_error(format!("--partner: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let source = match args.facts.is_empty() {
        false => Source::Replay {
            paths: args.facts.clone(),
            partners: partners.clone(),
            domains: domains.clone(),
            // A replay keeps the trust stores it recorded unless --trust says otherwise.
            trust: (!args.trust.is_empty()).then_some(trust),
            allow_partial: args.allow_partial,
        },
        true => {
            let timeout = std::time::Duration::from_secs_f64(args.timeout);
            let resolver = |servers: Vec<std::net::SocketAddr>| ResolverSettings {
                servers,
                timeout,
                attempts: args.dns_attempts.max(1),
            };
            Source::Gather(Box::new(ScanRequest {
                inputs: Inputs {
                    domains: domains.clone(),
                    partners: partners.clone(),
                    config: args.config.iter().map(|p| p.display().to_string()).collect(),
                    edges: args.edge.clone(),
                    shard: this_shard,
                },
                aim: Aim { domains, edges, edge_port: edge_ports.first().copied(), partners },
                config: args.config.clone(),
                cert_files: args.cert_file.clone(),
                trust,
                network: live.then(|| NetworkSettings {
                    external: resolver(resolvers),
                    internal: (!internal_resolvers.is_empty()).then(|| resolver(internal_resolvers)),
                    timeout,
                    limits: engine::gather::Limits {
                        concurrency: concurrency_within_open_files(args.concurrency, args.report.quiet),
                        qps: args.qps,
                        per_address: Some(args.max_per_address),
                    },
                    identity,
                    own_sip_connection: args.sip_own_connection,
                    progress: Default::default(),
                }),
            }))
        }
    };
    let mut rule_inputs = vec!["built-in".to_string()];
    rule_inputs.extend(args.rule_args.rules.iter().map(|p| p.display().to_string()));
    let baseline = match &args.report.baseline {
        Some(path) => Some((
            path.clone(),
            Baseline::load(path).map_err(|e| usage_error(format!("--baseline {}: {e}", path.display())))?,
        )),
        None => None,
    };
    let ignore_file = match (&args.report.ignore_file, args.report.no_ignore_file) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(DEFAULT_IGNORE_FILE)).filter(|p| p.exists()),
        (None, true) => None,
    };
    let suppressions = match ignore_file {
        Some(path) => {
            let loaded = Suppressions::load(&path, &rules)
                .map_err(|problems| report_file_problems(&problems, "the suppressions file"))?;
            Some((path, loaded))
        }
        None => None,
    };
    // A live batch of domains without the organization's own context is
    // gathered and judged chunk by chunk (whole organizations at a time):
    // every cross-domain rule then compares domains within one
    // organization. Written as NDJSON and nothing else, each chunk's
    // findings are written as it is judged and no finding is kept.
    let batch_chunks = (live
        && args.config.is_empty()
        && args.edge.is_empty()
        && args.cert_file.is_empty()
        && args.partner.is_empty())
    .then_some(args.chunk_domains);
    let streamed = batch_chunks.is_some()
        && args.report.format == ReportFormat::Ndjson
        && args.report.extra_reports.is_empty()
        && args.report.baseline.is_none();
    let mut outputs = vec![(args.report.format, args.report.output.clone())];
    outputs.extend(args.report.extra_reports.iter().map(|r| (r.format, Some(r.path.clone()))));
    let show = match (args.report.show.is_empty(), args.report.quiet) {
        (false, _) => args.report.show.clone(),
        (true, true) => vec![Status::Fail, Status::Error],
        (true, false) => Status::ALL.to_vec(),
    };
    Ok(ScanJob {
        rules,
        selection,
        profiles: if args.rule_args.profile.is_empty() {
            Profile::DEFAULT.to_vec()
        } else {
            args.rule_args.profile.clone()
        },
        now: args.now.as_deref().map(parse_time).transpose()?,
        source,
        save_facts: args.save_facts,
        expiry_warn_days: args.expiry_warn_days,
        policy: ExitPolicy { fail_on: args.report.fail_on, only_new: args.report.fail_on_new },
        outputs,
        presentation: Presentation { color: args.report.color, show, layout: args.report.layout },
        quiet: args.report.quiet,
        batch_chunks,
        streamed,
        baseline,
        suppressions,
        rule_inputs,
        domain_lines,
    })
}

/// `--concurrency`, lowered (and said so) when the sockets it needs would
/// not fit within the open-file limit, raised first to its hard limit.
fn concurrency_within_open_files(requested: usize, quiet: bool) -> usize {
    let Some(open_files) = engine::gather::raise_open_file_limit() else { return requested };
    let fitting = engine::gather::Limits::fitting(open_files);
    if requested <= fitting {
        return requested;
    }
    if !quiet {
        err!(
            "fedscan: warning: --concurrency {requested} needs more sockets than the open-file limit ({open_files}) \
             allows; scanning {fitting} at a time (raise the limit with `ulimit -n` for more)"
        );
    }
    fitting
}

/// Refuses, before anything is scanned, an output path that names an input
/// or the other output, or that cannot be written: nothing given to fedscan
/// is ever overwritten, and no report is lost at the end of a scan.
fn refuse_to_overwrite_inputs(args: &ScanArgs) -> Result<(), u8> {
    let mut outputs: Vec<(&str, &Path)> = [("--output", &args.report.output), ("--save-facts", &args.save_facts)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
        .collect();
    outputs.extend(args.report.extra_reports.iter().map(|r| ("--report", r.path.as_path())));
    // Standard output takes one output: the report unless --output sends it
    // elsewhere, or one path given as `-`.
    let mut to_standard_output: Vec<&str> =
        outputs.iter().filter(|(_, p)| to_stdout(Some(p))).map(|(f, _)| *f).collect();
    if args.report.output.is_none() {
        to_standard_output.insert(0, "the report (no --output)");
    }
    if to_standard_output.len() > 1 {
        return Err(usage_error(format!(
            "{} both write to standard output; give one of them a file",
            to_standard_output[..2].join(" and ")
        )));
    }
    outputs.retain(|(_, p)| !to_stdout(Some(p)));
    if outputs.is_empty() {
        return Ok(());
    }
    let mut inputs: Vec<(&str, PathBuf)> = Vec::new();
    inputs.extend(engine::gather::expand_config_paths(&args.config).0.into_iter().map(|p| ("--config", p)));
    inputs.extend(args.facts.iter().map(|p| ("--facts", p.clone())));
    inputs.extend(args.cert_file.iter().map(|p| ("--cert-file", p.clone())));
    inputs.extend(args.domains_file.iter().map(|p| ("--domains-file", p.clone())));
    inputs.extend(args.report.baseline.iter().map(|p| ("--baseline", p.clone())));
    inputs.extend(args.report.ignore_file.iter().map(|p| ("--ignore-file", p.clone())));
    if args.report.ignore_file.is_none() && !args.report.no_ignore_file {
        inputs.push(("--ignore-file", PathBuf::from(DEFAULT_IGNORE_FILE)));
    }
    inputs.extend(args.client_cert.iter().map(|p| ("--client-cert", p.clone())));
    inputs.extend(args.client_key.iter().map(|p| ("--client-key", p.clone())));
    inputs.extend(args.trust.iter().filter(|t| *t != MOZILLA && *t != "system").map(|t| ("--trust", PathBuf::from(t))));
    for rules in &args.rule_args.rules {
        let files: Vec<PathBuf> = match std::fs::read_dir(rules) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(_) => vec![rules.clone()],
        };
        inputs.extend(files.into_iter().map(|p| ("--rules", p)));
    }
    for (i, (first, a)) in outputs.iter().enumerate() {
        // A character device (`/dev/null`) takes any number of outputs; a
        // file or a FIFO only one.
        if matches!(Destination::of(a), Ok(Destination::Stream(ref d)) if is_char_device(d)) {
            continue;
        }
        if let Some((second, b)) = outputs[i + 1..].iter().find(|(_, b)| same_file(a, b)) {
            return Err(usage_error(format!(
                "{first} and {second} name the same file ({}); give each output its own path",
                b.display()
            )));
        }
    }
    for (flag, output) in &outputs {
        if let Some((input_flag, input)) = inputs.iter().find(|(_, input)| same_file(output, input)) {
            return Err(usage_error(format!(
                "{flag} {} is the file given to {input_flag} ({}): fedscan does not overwrite its inputs",
                output.display(),
                input.display()
            )));
        }
        check_writable(output)
            .map_err(|e| usage_error(format!("{flag} {}: cannot write there: {e}", output.display())))?;
    }
    Ok(())
}

fn is_char_device(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// `fedscan merge`: the shards' facts, merged and judged as one scan's.
fn merge(args: MergeArgs) -> Result<u8, u8> {
    // The scan command's own defaults, then what merge was given.
    let defaults = ScanArgs::augment_args(clap::Command::new("scan")).get_matches_from(["scan"]);
    let mut scan_args = ScanArgs::from_arg_matches(&defaults).map_err(|e| usage_error(e.to_string()))?;
    scan_args.facts = args.files;
    scan_args.report = args.report;
    scan_args.save_facts = args.save_facts;
    scan_args.now = args.now;
    scan_args.allow_partial = args.allow_partial;
    scan_args.rule_args = args.rule_args;
    scan(scan_args)
}

fn scan(args: ScanArgs) -> Result<u8, u8> {
    let job = check_scan_args(args)?;
    let started_at = OffsetDateTime::now_utc();
    if let (Some(chunk_domains), true, Source::Gather(_)) = (job.batch_chunks, job.streamed, &job.source) {
        return scan_streamed(job, chunk_domains, started_at);
    }
    // What a set of shards that is not whole lacks (--allow-partial).
    let mut partial = None;
    let (source, replayed, network) = match job.source {
        Source::Replay { paths, partners, domains, trust, allow_partial } => {
            let loaded =
                paths.iter().map(|path| Facts::load(path).map_err(usage_error)).collect::<Result<Vec<_>, _>>()?;
            let set: Vec<(String, Option<&ShardOf>)> =
                paths.iter().zip(&loaded).map(|(p, f)| (p.display().to_string(), f.inputs.shard.as_ref())).collect();
            if let Some(problem) = shard_set_problem(&set) {
                if !allow_partial {
                    return Err(usage_error(format!(
                        "{problem}; give every shard of one scan, or --allow-partial to report this part as partial"
                    )));
                }
                partial = Some(problem);
            }
            let mut merged: Option<Facts> = None;
            for shard in loaded {
                match &mut merged {
                    Some(facts) => facts.merge(shard),
                    None => merged = Some(shard),
                }
            }
            let Some(mut facts) = merged else { return Err(usage_error("--facts: no facts file given")) };
            if !partners.is_empty() {
                facts.inputs.partners = partners;
            }
            if !domains.is_empty() {
                facts.inputs.domains = domains;
            }
            if let Some(trust) = trust {
                facts.trust = trust;
            }
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            (engine::scan::Source::Replay(Box::new(facts)), Some(names.join(", ")), None)
        }
        Source::Gather(request) => {
            let display = progress_display(request.network.as_ref(), job.quiet);
            let progress = request.network.as_ref().map(|n| std::sync::Arc::clone(&n.progress));
            (engine::scan::Source::Gather { request, in_chunks: job.batch_chunks }, None, Some((display, progress)))
        }
    };
    // A batch judged chunk by chunk saves its facts as it goes.
    let in_chunks = matches!(source, engine::scan::Source::Gather { in_chunks: Some(_), .. });
    let facts_file = match job.save_facts.as_deref().filter(|_| in_chunks) {
        Some(path) => Some(ChunkedFactsFile::create(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?),
        None => None,
    };
    let mut sink = Collect { findings: Vec::new(), parts: Vec::new(), facts_file };
    let judging = engine::scan::Judging {
        rules: &job.rules,
        selection: &job.selection,
        profiles: &job.profiles,
        now: job.now,
        expiry_warn_days: job.expiry_warn_days,
        suppressions: job.suppressions.as_ref().map(|(_, s)| s),
    };
    let ended = engine::scan::run(&judging, source, started_at, &mut sink);
    let mut work = None;
    if let Some((display, progress)) = network {
        if let Some(display) = display {
            display.finish();
        }
        work = progress.as_deref().map(work_done);
    }
    let ended = ended.map_err(usage_error)?;
    let mut facts = ended.facts;
    if let (Some(file), Some(path)) = (sink.facts_file.take(), &job.save_facts) {
        finish_facts_file(file, &facts, path).map_err(usage_error)?;
    }
    let mut findings = sink.findings;
    if in_chunks {
        order(&mut findings);
        facts.absorb(sink.parts);
    }
    for error in &facts.input_errors {
        err!("fedscan: error: {}", escape_terminal(&error.to_string()));
    }
    if let Some(path) = job.save_facts.as_ref().filter(|_| !in_chunks) {
        facts.save(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?;
    }
    if facts.interrupted && replayed.is_none() {
        let kept = match &job.save_facts {
            Some(path) => format!(
                "the facts gathered so far were saved to {}, marked incomplete",
                escape_terminal(&path.display().to_string())
            ),
            None => "nothing was saved (--save-facts FILE keeps what was gathered)".to_string(),
        };
        err!("fedscan: interrupted; {kept}");
        return Ok(exit::INTERRUPTED);
    }

    let evaluated_at = ended.evaluated_at;
    let mut notes = report::notes(&facts, replayed.as_deref());
    if let Some(partial) = &partial {
        notes.push(InputNote {
            path: replayed.clone().unwrap_or_default(),
            line: None,
            message: format!("a partial set of shards was judged (--allow-partial): {partial}"),
        });
    }
    notes.extend(ended.unaccepted.into_iter().map(InputNote::from));
    let baseline = job.baseline.as_ref().map(|(path, baseline)| BaselineReport {
        path: path.display().to_string(),
        fixed: baseline.compare(&mut findings).into_iter().map(Into::into).collect(),
    });
    let fixed = baseline.as_ref().map(|b| b.fixed.len());
    let mut summary = report::summarize(&findings, &facts.input_errors, job.policy, fixed);
    summary.work = work;
    summary.interrupted = facts.interrupted;
    summary.partial = partial;
    // Replayed facts of an interrupted scan, or a part of a batch, cannot
    // give a clean bill.
    if (facts.interrupted || summary.partial.is_some()) && summary.exit_code == exit::CLEAN {
        summary.exit_code = exit::INCOMPLETE;
    }
    let code = summary.exit_code;
    let report = Report {
        schema: report::REPORT_SCHEMA,
        tool: Tool { name: "fedscan", version: env!("CARGO_PKG_VERSION") },
        started_at: rfc3339(started_at),
        finished_at: rfc3339(OffsetDateTime::now_utc()),
        evaluated_at: rfc3339(evaluated_at),
        profiles: Profile::expand(&job.profiles),
        fail_on: job.policy.fail_on,
        fail_on_new: job.policy.only_new,
        inputs: ReportInputs {
            domains: facts.inputs.domains.clone(),
            partners: facts.inputs.partners.clone(),
            config: facts.inputs.config.clone(),
            facts: replayed.clone(),
            rules: job.rule_inputs,
        },
        input_errors: facts.input_errors.clone(),
        notes,
        discovery: report::discovery::discovery(&facts, evaluated_at),
        certificate_files: report::discovery::certificate_files(&facts, evaluated_at),
        baseline,
        suppressions: job.suppressions.as_ref().map(|(path, _)| path.display().to_string()),
        summary,
        findings,
        domain_lines: job.domain_lines,
    };
    for (format, output) in &job.outputs {
        write_report(&report, &job.rules, *format, &job.presentation, output.as_deref(), job.quiet)?;
    }
    Ok(code)
}

/// The buffered report's sink: every finding, and a batch's chunks of facts
/// (written to `--save-facts` as they come, and kept to be put back
/// together as one gathering would have them).
struct Collect {
    findings: Vec<crate::findings::Finding>,
    parts: Vec<Facts>,
    facts_file: Option<ChunkedFactsFile>,
}

impl engine::scan::Sink for Collect {
    fn part(&mut self, part: Facts) {
        if let Some(file) = self.facts_file.as_mut() {
            file.add(&part);
        }
        self.parts.push(part);
    }

    fn findings(&mut self, findings: Vec<crate::findings::Finding>) {
        self.findings.extend(findings);
    }
}

/// Why `--save-facts` could not write its file.
fn cannot_save_facts(path: &Path, error: &std::io::Error) -> String {
    format!("--save-facts {}: {error}", escape_terminal(&path.display().to_string()))
}

/// Ends a facts file written chunk by chunk, and says when it came out
/// larger than `--facts` and `merge` read back.
fn finish_facts_file(file: ChunkedFactsFile, context: &Facts, path: &Path) -> Result<(), String> {
    let bytes = file.finish(context).map_err(|e| cannot_save_facts(path, &e))?;
    if bytes > crate::files::MAX_FACTS_FILE {
        err!(
            "fedscan: warning: {} is {} MiB, more than the {} MiB that --facts and merge read; \
             split such a batch with --shard K/N",
            escape_terminal(&path.display().to_string()),
            bytes >> 20,
            crate::files::MAX_FACTS_FILE >> 20
        );
    }
    Ok(())
}

/// The progress of a live scan on standard error, unless `--quiet`.
fn progress_display(network: Option<&engine::NetworkSettings>, quiet: bool) -> Option<crate::progress::Display> {
    let network = network.filter(|_| !quiet)?;
    Some(crate::progress::Display::start(std::sync::Arc::clone(&network.progress), &network.external.servers))
}

/// The network work a live scan did, for its summary.
fn work_done(progress: &engine::progress::Progress) -> report::WorkDone {
    let counts = progress.counts();
    let load = |c: &std::sync::atomic::AtomicUsize| c.load(std::sync::atomic::Ordering::Relaxed);
    report::WorkDone {
        domains: counts.domains,
        dns_questions: counts.questions,
        endpoints: counts.endpoints,
        connections: load(&progress.work.connections),
        full_handshakes: load(&progress.work.handshakes),
    }
}

/// A batch judged and written chunk by chunk as NDJSON: each chunk's
/// findings about its own domains and endpoints are written as soon as it is
/// judged; the findings about the scan as a whole (the rules not run, what
/// no chunk could check) are the same in every chunk that gives them, and
/// are written once at the end when every chunk gave them — as one run
/// over every domain would.
fn scan_streamed(job: ScanJob, chunk_domains: usize, started_at: OffsetDateTime) -> Result<u8, u8> {
    let Source::Gather(request) = job.source else { return Err(usage_error("a streamed scan is a live scan")) };
    let now = job.now.unwrap_or(started_at);
    let progress = request.network.as_ref().map(|n| std::sync::Arc::clone(&n.progress));
    let display = progress_display(request.network.as_ref(), job.quiet);
    let inputs = ReportInputs {
        domains: request.inputs.domains.clone(),
        partners: Vec::new(),
        config: Vec::new(),
        facts: None,
        rules: job.rule_inputs.clone(),
    };
    let head = Report {
        schema: report::REPORT_SCHEMA,
        tool: Tool { name: "fedscan", version: env!("CARGO_PKG_VERSION") },
        started_at: rfc3339(started_at),
        finished_at: String::new(),
        evaluated_at: rfc3339(now),
        profiles: Profile::expand(&job.profiles),
        fail_on: job.policy.fail_on,
        fail_on_new: false,
        inputs,
        input_errors: Vec::new(),
        notes: Vec::new(),
        discovery: Vec::new(),
        certificate_files: Vec::new(),
        baseline: None,
        suppressions: job.suppressions.as_ref().map(|(path, _)| path.display().to_string()),
        summary: report::summarize(&[], &[], job.policy, None),
        findings: Vec::new(),
        domain_lines: Default::default(),
    };
    let policy = job.policy;
    // --save-facts: each chunk's facts are written out as it ends, as its
    // findings are.
    let mut facts_file = match &job.save_facts {
        Some(path) => Some(ChunkedFactsFile::create(path).map_err(|e| usage_error(cannot_save_facts(path, &e)))?),
        None => None,
    };
    // What ends the scan that is not a failed write of the findings (a
    // gathering or facts file that failed): said as such, not as the
    // output's failure.
    let mut failure = None;
    let mut outcome = None;
    let run = |out: &mut (dyn Write + Send)| -> std::io::Result<()> {
        // A failed write of the findings stops the writing, not the scan:
        // the facts are still saved, and every finding is counted for the
        // exit code.
        let written = report::ndjson::write_head(&head, out);
        let mut sink = Stream { out, written, tally: report::Tally::default(), policy, facts_file: facts_file.take() };
        let judging = engine::scan::Judging {
            rules: &job.rules,
            selection: &job.selection,
            profiles: &job.profiles,
            now: job.now,
            expiry_warn_days: job.expiry_warn_days,
            suppressions: job.suppressions.as_ref().map(|(_, s)| s),
        };
        let source = engine::scan::Source::Gather { request, in_chunks: Some(chunk_domains) };
        let ended = engine::scan::run(&judging, source, started_at, &mut sink);
        let Stream { out, mut written, tally, facts_file, .. } = sink;
        let ended = match ended {
            Ok(ended) => ended,
            Err(e) => {
                failure = Some(e);
                return Ok(());
            }
        };
        let facts = ended.facts;
        if let (Some(file), Some(path)) = (facts_file, &job.save_facts)
            && let Err(e) = finish_facts_file(file, &facts, path)
        {
            failure = Some(e);
            return Ok(());
        }
        // Suppressions that covered a problem without accepting it, over
        // every chunk: the JSON report's notes, at the end of the stream.
        for note in ended.unaccepted.into_iter().map(InputNote::from) {
            if written.is_ok() {
                written = report::ndjson::write_note(&note, out);
            }
        }
        let mut summary = tally.summary(&facts.input_errors, None);
        summary.work = progress.as_deref().map(work_done);
        summary.interrupted = facts.interrupted;
        if facts.interrupted && summary.exit_code == exit::CLEAN {
            summary.exit_code = exit::INCOMPLETE;
        }
        outcome = Some((summary.exit_code, facts.interrupted));
        written?;
        report::ndjson::write_tail(&summary, &rfc3339(OffsetDateTime::now_utc()), out)
    };
    let output = job.outputs.first().and_then(|(_, path)| path.clone());
    let written = write_output(output.as_deref(), run);
    if let Some(display) = display {
        display.finish();
    }
    if let Some(failure) = failure {
        return Err(usage_error(failure));
    }
    written?;
    match outcome {
        Some((_, true)) => {
            let facts = match &job.save_facts {
                Some(path) => format!(
                    "the facts gathered so far were saved to {}, marked incomplete; ",
                    escape_terminal(&path.display().to_string())
                ),
                None => String::new(),
            };
            err!("fedscan: interrupted; {facts}the findings written so far are kept, the summary says so");
            Ok(exit::INTERRUPTED)
        }
        Some((code, false)) => Ok(code),
        None => Err(usage_error("the scan ended before its summary")),
    }
}

/// The streamed NDJSON sink: each finding written and counted as it is
/// judged, a chunk's together; each chunk's facts written to `--save-facts`
/// and then dropped.
struct Stream<'o> {
    out: &'o mut (dyn Write + Send),
    /// A failed write stops the writing, not the scan.
    written: std::io::Result<()>,
    tally: report::Tally,
    policy: ExitPolicy,
    facts_file: Option<ChunkedFactsFile>,
}

impl engine::scan::Sink for Stream<'_> {
    fn part(&mut self, part: Facts) {
        if let Some(file) = self.facts_file.as_mut() {
            file.add(&part);
        }
    }

    fn findings(&mut self, findings: Vec<crate::findings::Finding>) {
        for finding in findings {
            self.tally.add(&finding, self.policy);
            if self.written.is_ok() {
                self.written = report::ndjson::write_finding(&finding, self.out);
            }
        }
        // A chunk's domains are done: their findings go out together.
        if self.written.is_ok() {
            self.written = self.out.flush();
        }
    }
}

/// What writes one report to its destination.
type WriteOut<'a> = Box<dyn FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()> + 'a>;

/// Renders the report in one format and writes it to its file or to
/// standard output.
fn write_report(
    report: &Report,
    rules: &RuleSet,
    format: ReportFormat,
    presentation: &Presentation,
    output: Option<&Path>,
    quiet: bool,
) -> Result<(), u8> {
    let to_terminal = to_stdout(output) && std::io::stdout().is_terminal();
    let text = |text: String| move |out: &mut (dyn Write + Send)| out.write_all(text.as_bytes());
    // The machine formats of large batches are written as they are
    // produced, never held whole; the others are rendered, then written.
    let write: WriteOut = match format {
        ReportFormat::Json => Box::new(|out: &mut (dyn Write + Send)| report::json::write(report, out)),
        ReportFormat::Ndjson => Box::new(|out: &mut (dyn Write + Send)| report::ndjson::write(report, out)),
        ReportFormat::Sarif => Box::new(text(report::sarif::render(report, rules))),
        ReportFormat::Junit => Box::new(text(report::junit::render(report))),
        ReportFormat::Markdown => Box::new(text(report::markdown::render(report))),
        ReportFormat::Html => Box::new(text(report::html::render(report))),
        ReportFormat::Csv => Box::new(text(report::csv::render(report))),
        ReportFormat::Table => {
            let color = match presentation.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => color_wanted(to_terminal, |name| std::env::var_os(name)),
            };
            let width = if to_terminal { comfy_table::Table::new().width() } else { None };
            let style = table::Style { color, width, show: presentation.show.clone(), layout: presentation.layout };
            Box::new(text(table::render(report, &style)))
        }
    };
    write_output(output, write)?;
    if !to_stdout(output) && !quiet {
        err!("fedscan: {}; report written to {}", report::summary_line(&report.summary), output_name(output));
    }
    Ok(())
}

/// `--color auto`, as the conventions of terminal tools have it: `NO_COLOR`
/// (set and not empty) turns colour off; `CLICOLOR_FORCE` (set and not `0`)
/// turns it on where it is not a terminal; `CLICOLOR=0` and `TERM=dumb`
/// turn it off; otherwise colour on a terminal only.
fn color_wanted(to_terminal: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if set("CLICOLOR").is_some_and(|v| v == "0") || set("TERM").is_some_and(|v| v == "dumb") {
        return false;
    }
    to_terminal
}

fn rules(command: RulesCommand) -> Result<u8, u8> {
    use std::fmt::Write as _;
    // What the command prints, written at once at the end (see `print`).
    let mut printed = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(printed, $($arg)*);
        }};
    }
    match command {
        RulesCommand::List { profile, format, rules } => {
            let set = load(&rules)?;
            let listed: Vec<_> = set.rules.iter().filter(|r| profile.is_none_or(|p| r.profiles.contains(&p))).collect();
            let text = match format {
                Format::Json => {
                    let items: Vec<_> = listed
                        .iter()
                        .map(|r| {
                            json!({
                                "id": r.id, "title": r.title, "severity": r.severity, "profiles": r.profiles,
                                "kind": r.check.kind(), "rationale": r.rationale, "remediation": r.remediation,
                                "references": r.references, "origin": r.origin.to_string(),
                            })
                        })
                        .collect();
                    format!("{}\n", to_json(&items).expect("rules serialize"))
                }
                Format::Table => {
                    let mut table = Table::new();
                    table.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
                    if !std::io::stdout().is_terminal() {
                        table.set_width(140);
                    }
                    table.set_header(vec!["Rule", "Severity", "Profiles", "Title"]);
                    for rule in &listed {
                        let profiles: Vec<&str> = rule.profiles.iter().map(|p| p.name()).collect();
                        table.add_row(vec![
                            rule.id.clone(),
                            rule.severity.to_string(),
                            profiles.join(", "),
                            escape_terminal(&rule.title).into_owned(),
                        ]);
                    }
                    format!("{table}\n{} rules\n", listed.len())
                }
            };
            out!("{}", text.trim_end_matches('\n'));
        }
        RulesCommand::Explain { id, rules } => {
            let set = load(&rules)?;
            let Some(rule) = set.get(&id) else {
                return Err(usage_error(format!("no rule {id} (see `fedscan rules list`)")));
            };
            let profiles: Vec<&str> = rule.profiles.iter().map(|p| p.name()).collect();
            out!("{}: {}", rule.id, escape_terminal(&rule.title));
            out!("severity: {}    profiles: {}    check: {}", rule.severity, profiles.join(", "), rule.check.kind());
            if let Some(date) = rule.effective_date {
                out!("in effect from: {date}");
            }
            if let Some(date) = rule.ineffective_date {
                out!("no longer in effect from: {date}");
            }
            let indented = |text: &str| escape_terminal_lines(text.trim()).replace('\n', "\n  ");
            out!("\nWhy it matters\n  {}", indented(&rule.rationale));
            out!("\nHow to fix a failure\n  {}", indented(&rule.remediation));
            out!("\nReferences");
            for reference in &rule.references {
                out!("  {}", escape_terminal(reference));
            }
            let origin = escape_terminal(&rule.origin.to_string()).into_owned();
            out!("\nDefinition ({origin})\n{}", escape_terminal_lines(&rule.source_text));
        }
        RulesCommand::Validate { paths } => {
            let given = sources_from_paths(&paths).map_err(|p| report_rule_problems(&p))?;
            // Check against the built-in IDs too, except where a given file is
            // a built-in file itself (validating the repository's rules/).
            let mut sources: Vec<RuleSource> =
                builtin_sources().into_iter().filter(|b| !given.iter().any(|g| g.text == b.text)).collect();
            let builtin_count = sources.len();
            sources.extend(given.iter().cloned());
            let set = load_rules(&sources).map_err(|p| report_rule_problems(&p))?;
            let checked =
                set.rules.iter().filter(|r| sources[..builtin_count].iter().all(|b| b.name != r.origin.file)).count();
            out!("fedscan: {} file(s), {checked} rule(s): no problems", given.len());
        }
    }
    print(printed.as_bytes()).map(|()| exit::CLEAN)
}
