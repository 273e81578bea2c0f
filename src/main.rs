use std::process::ExitCode;

use clap::Parser;

/// A batch builds and drops hundreds of thousands of small strings and
/// JSON values: the system allocator spent a third of a large replay in
/// malloc and free (measured with perf), mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = fedscan::cli::Cli::parse();
    ExitCode::from(fedscan::app::run(cli))
}
