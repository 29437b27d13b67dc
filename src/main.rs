use std::process::ExitCode;

use clap::Parser;
use gitaiops::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match gitaiops::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace: scripts read stderr.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("gitaiops: {msg}");
            ExitCode::FAILURE
        }
    }
}
