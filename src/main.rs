use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = fedscan::cli::Cli::parse();
    ExitCode::from(fedscan::app::run(cli))
}
