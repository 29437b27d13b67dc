use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use gitaiops::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match gitaiops::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: scripts read stderr. Written, not eprintln!: when the
            // terminal is gone (the TUI ends because of that) a failed write must not panic.
            let msg = format!("{e:#}").replace('\n', " ");
            let _ = writeln!(std::io::stderr(), "gitaiops: {msg}");
            ExitCode::FAILURE
        }
    }
}
