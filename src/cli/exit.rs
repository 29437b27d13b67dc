//! The exit codes scripts and CI jobs rely on (docs/cli-json.md): 0 ok, 1 runtime error,
//! 2 usage error (clap's own, and settings a command cannot run without), 3 partial (`apply`:
//! some commands refused or failed).

use std::process::ExitCode;

pub const OK: u8 = 0;
pub const RUNTIME_ERROR: u8 = 1;
pub const USAGE_ERROR: u8 = 2;
pub const PARTIAL: u8 = 3;

/// The code `main` exits with for an error: 2 when the command line (or the settings standing
/// in for it) was wrong, else 1.
pub fn for_error(e: &anyhow::Error) -> ExitCode {
    if e.chain()
        .any(|c| c.downcast_ref::<crate::config::UsageError>().is_some())
    {
        ExitCode::from(USAGE_ERROR)
    } else {
        ExitCode::from(RUNTIME_ERROR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_others_1() {
        let usage = anyhow::Error::new(crate::config::UsageError("no project".into()));
        assert_eq!(for_error(&usage), ExitCode::from(2));
        assert_eq!(
            for_error(&usage.context("cannot start")),
            ExitCode::from(2),
            "a cause counts"
        );
        assert_eq!(for_error(&anyhow::anyhow!("timeout")), ExitCode::from(1));
    }
}
