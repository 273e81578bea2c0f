//! `fedscan scan`'s flags made into one checked configuration, a
//! [`ScanJob`]: everything a scan needs, nothing left to parse; a usage
//! error (exit 2) before anything is scanned.

use super::{Failure, load, report_file_problems, to_stdout, usage_error};
use crate::cli::ColorChoice;
use crate::cli::ReportFormat;
use crate::cli::ScanArgs;
use crate::engine;
use crate::engine::NetworkSettings;
use crate::engine::ScanRequest;
use crate::engine::plan::NamedEdges;
use crate::engine::source::{ReplayFiles, Source};
use crate::facts::Inputs;
use crate::facts::ShardOf;
use crate::facts::certs::MOZILLA;
use crate::facts::certs::load_trust;
use crate::facts::dns::ResolverSettings;
use crate::facts::dns::parse_resolver;
use crate::facts::names::parse_fqdn;
use crate::facts::names::shard_of;
use crate::facts::zone::{files_read, parse_zone_arg, zone_paths};
use crate::files::Destination;
use crate::files::MAX_CERTIFICATE_FILE;
use crate::files::MAX_LIST_FILE;
use crate::files::check_writable;
use crate::files::read_bounded;
use crate::files::read_text_bounded;
use crate::files::same_file;
use crate::findings::Status;
use crate::report::ExitPolicy;
use crate::report::table;
use crate::rules::Profile;
use crate::rules::RuleSet;
use crate::rules::Selection;
use crate::triage::Baseline;
use crate::triage::DEFAULT_IGNORE_FILE;
use crate::triage::Suppressions;
use std::path::Path;
use std::path::PathBuf;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The client certificate and key of --client-cert/--client-key.
pub(super) fn load_identity(
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

pub(super) fn parse_resolvers(flag: &str, values: &[String]) -> Result<Vec<std::net::SocketAddr>, Failure> {
    values.iter().map(|v| parse_resolver(v).map_err(|e| usage_error(format!("{flag}: {e}")))).collect()
}

/// `FQDN[:PORT]` of `--edge`.
pub(super) fn parse_edge(text: &str) -> Result<(String, Option<u16>), String> {
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
pub(super) fn read_domains_file(path: &std::path::Path) -> Result<Vec<(String, usize)>, Failure> {
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

pub(super) fn parse_time(text: &str) -> Result<OffsetDateTime, Failure> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| usage_error(format!("--now {text:?}: not an RFC 3339 time such as 2026-01-31T00:00:00Z ({e})")))
}

/// `fedscan scan`'s arguments, checked: everything a scan needs, and
/// nothing left to parse (where its facts come from is the [`Source`] given
/// beside it).
pub(super) struct ScanJob {
    pub(super) rules: RuleSet,
    pub(super) selection: Selection,
    pub(super) profiles: Vec<Profile>,
    /// `--now`.
    pub(super) now: Option<OffsetDateTime>,
    pub(super) save_facts: Option<PathBuf>,
    pub(super) expiry_warn_days: Option<u32>,
    pub(super) policy: ExitPolicy,
    /// The reports to write: the first to --output or standard output.
    pub(super) outputs: Vec<(ReportFormat, Option<PathBuf>)>,
    pub(super) presentation: Presentation,
    /// `--quiet`: no progress on standard error.
    pub(super) quiet: bool,
    /// A batch gathered in chunks (see [`Source::Gather`]) written as
    /// NDJSON and nothing else: each chunk's findings written as it is
    /// judged, nothing kept.
    pub(super) streamed: bool,
    /// A batch's findings held in memory, not kept on disk (`--hold-findings`).
    pub(super) hold_findings: bool,
    /// `--expiry-warn-days` etc. are above; the scan's partners are in the source.
    pub(super) baseline: Option<(PathBuf, Baseline)>,
    pub(super) suppressions: Option<(PathBuf, Suppressions)>,
    /// The rule files, as the report names them.
    pub(super) rule_inputs: Vec<String>,
    /// Where each domain of --domains-file was read.
    pub(super) domain_lines: std::collections::HashMap<String, (String, usize)>,
}

impl ScanJob {
    /// How the scan's facts are judged, for [`engine::scan::run`].
    pub(super) fn judging(&self) -> engine::scan::Judging<'_> {
        engine::scan::Judging {
            rules: &self.rules,
            selection: &self.selection,
            profiles: &self.profiles,
            now: self.now,
            expiry_warn_days: self.expiry_warn_days,
            suppressions: self.suppressions.as_ref().map(|(_, s)| s),
        }
    }
}

/// How the terminal report is drawn.
pub(super) struct Presentation {
    pub(super) color: ColorChoice,
    pub(super) show: Vec<Status>,
    pub(super) layout: table::Layout,
}

/// Turns the flags into a [`ScanJob`], or a usage error (exit 2) before
/// anything is scanned.
pub(super) fn check_scan_args(args: ScanArgs) -> Result<(ScanJob, Source), Failure> {
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
    let planned_zones = !args.zone.is_empty() || !args.internal_zone.is_empty();
    if !args.facts.is_empty() && planned_zones {
        return Err(usage_error("--facts replays saved facts and cannot be combined with --zone or --internal-zone"));
    }
    if !args.internal_zone.is_empty() && args.zone.is_empty() && args.offline {
        return Err(usage_error("--internal-zone is compared with the external view: give its --zone too"));
    }
    if args.facts.is_empty()
        && args.config.is_empty()
        && args.cert_file.is_empty()
        && args.zone.is_empty()
        && (args.offline || (domains.is_empty() && edges.is_empty()))
    {
        return Err(usage_error(if args.offline {
            "nothing to audit offline: give a configuration snapshot (--config PATH), a certificate (--cert-file PATH), a planned zone (--zone FILE) or saved facts (--facts FILE)"
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
    let source = match args.facts.is_empty() {
        false => Source::Replay(Box::new(
            ReplayFiles {
                paths: args.facts.clone(),
                partners: partners.clone(),
                domains: domains.clone(),
                // A replay keeps the trust stores it recorded unless --trust says otherwise.
                trust: (!args.trust.is_empty()).then_some(trust),
                allow_partial: args.allow_partial,
                chunk_domains: args.chunk_domains,
            }
            .read()
            .map_err(usage_error)?,
        )),
        true => {
            let timeout = std::time::Duration::from_secs_f64(args.timeout);
            let resolver = |servers: Vec<std::net::SocketAddr>| ResolverSettings {
                servers,
                timeout,
                attempts: args.dns_attempts.max(1),
            };
            let request = Box::new(ScanRequest {
                inputs: Inputs {
                    domains,
                    partners,
                    config: args.config.iter().map(|p| p.display().to_string()).collect(),
                    edges: args.edge.clone(),
                    shard: this_shard,
                },
                edges: NamedEdges { fqdns: edges, port: edge_ports.first().copied() },
                config: args.config.clone(),
                cert_files: args.cert_file.clone(),
                zones: zone_files(&args.zone),
                internal_zones: zone_files(&args.internal_zone),
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
            });
            Source::Gather { request, in_chunks: batch_chunks }
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
    let job = ScanJob {
        rules,
        selection,
        profiles: if args.rule_args.profile.is_empty() {
            Profile::DEFAULT.to_vec()
        } else {
            args.rule_args.profile.clone()
        },
        now: args.now.as_deref().map(parse_time).transpose()?,
        save_facts: args.save_facts,
        expiry_warn_days: args.expiry_warn_days,
        policy: ExitPolicy { fail_on: args.report.fail_on, only_new: args.report.fail_on_new },
        outputs,
        presentation: Presentation { color: args.report.color, show, layout: args.report.layout },
        quiet: args.report.quiet,
        streamed,
        hold_findings: args.hold_findings,
        baseline,
        suppressions,
        rule_inputs,
        domain_lines,
    };
    Ok((job, source))
}

/// `--concurrency`, lowered (and said so) when the sockets it needs would
/// not fit within the open-file limit, raised first to its hard limit.
pub(super) fn concurrency_within_open_files(requested: usize, quiet: bool) -> usize {
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
pub(super) fn refuse_to_overwrite_inputs(args: &ScanArgs) -> Result<(), Failure> {
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
    // A zone is every file it reads: a directory's zone files, and what
    // each includes.
    for (flag, zones) in [("--zone", &args.zone), ("--internal-zone", &args.internal_zone)] {
        for zone in zones {
            let (origin, path) = parse_zone_arg(zone);
            let files = zone_paths(Path::new(path)).unwrap_or_else(|_| vec![PathBuf::from(path)]);
            inputs.extend(files.iter().flat_map(|f| files_read(f, origin.as_deref())).map(|f| (flag, f)));
        }
    }
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

pub(super) fn is_char_device(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// `--zone` and `--internal-zone` arguments: each file with the origin
/// given for it.
fn zone_files(args: &[String]) -> Vec<(Option<String>, PathBuf)> {
    args.iter()
        .map(|arg| {
            let (origin, path) = parse_zone_arg(arg);
            (origin, PathBuf::from(path))
        })
        .collect()
}
