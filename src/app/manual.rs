//! `fedscan man`: the manual pages.

use super::{Failure, print, usage_error, write_output};
use crate::cli::Cli;
use crate::report::exit;
use crate::text::escape_terminal;
use std::path::Path;

/// `fedscan man`: the top-level page on standard output, or with `--dir`
/// one page per command (as `clap_mangen::generate_to` names them), each
/// written as every output is (a link followed, a device never replaced).
pub(super) fn manual(dir: Option<&Path>) -> Result<u8, Failure> {
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
