use std::process::ExitCode;

use clap::Parser;
use gitaiops::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match gitaiops::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace, nothing a terminal would act on: scripts read stderr, and
            // errors quote what servers said.
            eprintln!("gitaiops: {}", gitaiops::cli::out::error_line(&e));
            ExitCode::FAILURE
        }
    }
}
