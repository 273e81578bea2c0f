//! `fedscan diagnose`.

use super::{Failure, output_name, to_stdout, usage_error, write_output};
use crate::cli::DiagnoseArgs;
use crate::cli::Format;
use crate::facts::names::parse_fqdn;
use crate::files::check_writable;
use crate::files::same_file;
use crate::report;
use crate::report::exit;

/// `fedscan diagnose`: reads the trace once, streaming, and reports each
/// failed transaction.
pub(super) fn diagnose(args: DiagnoseArgs) -> Result<u8, Failure> {
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
