//! `touchup [IMAGE]` opens the editor; subcommands run headless for scripts.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
