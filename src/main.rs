//! `touchup [IMAGE]` opens the editor; subcommands run headless for scripts.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread starts: bounded memory over many edits (see src/memory.rs).
    touchup::memory::limit_arenas();
    cli::run()
}
