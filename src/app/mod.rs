//! What each command does, from parsed arguments to an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{Cli, Command};
use crate::report::exit;
use crate::rules::{RuleSet, builtin_sources, load_rules, sources_from_paths};
use crate::text::{escape_terminal, escape_terminal_lines};

/// Standard error: a message that cannot be written has nowhere else to go.
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod diagnose;
mod job;
mod manual;
mod output;
mod rules;
mod scan;
mod serve;

use diagnose::diagnose;
use job::*;
use manual::manual;
use output::{output_name, print, to_stdout, write_output};
use rules::rules;
use scan::*;

pub fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Rules(command) => rules(command),
        Command::Diagnose(args) => diagnose(args),
        Command::Merge(args) => merge(args),
        Command::Serve(args) => serve::serve(args),
        Command::Completions { shell } => {
            // Generated whole first: clap_complete panics on a failed write.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "fedscan", &mut script);
            print(&script).map(|()| exit::CLEAN)
        }
        Command::Man { dir } => manual(dir.as_deref()),
    };
    result.unwrap_or_else(Failure::report)
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
    print(text.as_bytes()).map_or_else(Failure::report, |()| exit::CLEAN)
}

/// Why a command ends without its result; said once, where every command
/// ends ([`run`]), and mapped to its exit code there.
enum Failure {
    /// A usage or input error (which may quote an argument or a file): exit 2.
    Usage(String),
    /// Problems in files (rule files, a suppressions file), each at its
    /// line: exit 2.
    Problems { problems: Vec<crate::rules::Diagnostic>, files: &'static str },
}

impl Failure {
    /// In one line, for a caller that says it elsewhere (a probe's metrics).
    fn message(&self) -> String {
        match self {
            Failure::Usage(message) => message.clone(),
            Failure::Problems { problems, files } => format!("{} problem(s) in {files}", problems.len()),
        }
    }

    /// Says it on standard error; its exit code.
    fn report(self) -> u8 {
        match self {
            Failure::Usage(message) => err!("fedscan: error: {}", escape_terminal(&message)),
            Failure::Problems { problems, files } => {
                // Each problem drawn under its line, then how many.
                let styled = std::io::stderr().is_terminal();
                for problem in &problems {
                    err!("fedscan: error: {}", problem.render(styled));
                }
                err!("fedscan: {} problem(s) in {files}; nothing was scanned", problems.len());
            }
        }
        exit::INPUT
    }
}

/// A usage or input error, to be said where the command ends.
fn usage_error(message: impl std::fmt::Display) -> Failure {
    Failure::Usage(message.to_string())
}

/// Built-in rules plus the user's, or the diagnostics (printed) and exit 2.
fn load(extra: &[PathBuf]) -> Result<RuleSet, Failure> {
    let mut sources = builtin_sources();
    match sources_from_paths(extra) {
        Ok(user) => sources.extend(user),
        Err(problems) => return Err(report_rule_problems(&problems)),
    }
    load_rules(&sources).map_err(|problems| report_rule_problems(&problems))
}

fn report_rule_problems(problems: &[crate::rules::Diagnostic]) -> Failure {
    report_file_problems(problems, "the rule files")
}

/// Problems in `files`, each at its line: exit 2.
fn report_file_problems(problems: &[crate::rules::Diagnostic], files: &'static str) -> Failure {
    Failure::Problems { problems: problems.to_vec(), files }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}
