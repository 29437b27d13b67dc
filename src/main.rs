use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = gitaiops::args::parse();
    match gitaiops::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, no backtrace, nothing a terminal would act on: scripts read stderr, and
            // errors quote what servers said. Written, not eprintln!: when the terminal is gone
            // (the TUI ends because of that) a failed write must not panic.
            let _ = writeln!(
                std::io::stderr(),
                "gitaiops: {}",
                gitaiops::cli::out::error_line(&e)
            );
            gitaiops::cli::exit::for_error(&e)
        }
    }
}
