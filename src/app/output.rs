//! Where every command's output goes: standard output or what a path leads
//! to, a closed pipe ending it quietly, any other failure to write said once.

use std::io::Write;
use std::path::Path;

use super::{Failure, usage_error};
use crate::files::{Destination, write_output_with};
use crate::text::escape_terminal;

/// Writes one output: to standard output when `path` is none or `-`, else
/// to what the path leads to ([`Destination`]). A reader that went away
/// (`| head`) ends the output quietly, as it does for any Unix tool; any
/// other failure to write (a full disk) is exit 2, with the reason.
pub(super) fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), Failure> {
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
pub(super) fn print(bytes: &[u8]) -> Result<(), Failure> {
    write_output(None, |out| out.write_all(bytes))
}

/// Whether an output goes to standard output.
pub(super) fn to_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(crate::files::is_stdin)
}

/// How messages name an output.
pub(super) fn output_name(path: Option<&Path>) -> String {
    match path.filter(|p| !crate::files::is_stdin(p)) {
        Some(path) => escape_terminal(&path.display().to_string()).into_owned(),
        None => "standard output".to_string(),
    }
}
