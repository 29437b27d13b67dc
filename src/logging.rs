//! Logging to a daily-rolling file in the XDG state dir; never to the terminal.
//!
//! The terminal belongs to the TUI (and stdout to `--json` output), so log lines go through
//! tracing-appender's non-blocking writer into `<state dir>/logs/gitaiops.YYYY-MM-DD.log`. The
//! level comes from `GITAIOPS_LOG` (an `EnvFilter` directive such as `debug` or
//! `gitaiops::gitlab=debug`), default `info`.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

pub const LOG_ENV: &str = "GITAIOPS_LOG";

/// Keeps the background writer alive; dropping it flushes what is buffered.
#[must_use = "logs are lost when the guard is dropped"]
pub struct LogGuard {
    _worker: WorkerGuard,
    pub dir: PathBuf,
}

/// The directory log files go to.
pub fn log_dir() -> anyhow::Result<PathBuf> {
    Ok(crate::paths::state_dir()?.join("logs"))
}

/// Installs the global subscriber. Errors (no home dir, unwritable dir, a subscriber already
/// installed) are returned so the caller can carry on without logs.
pub fn init() -> anyhow::Result<LogGuard> {
    let dir = log_dir()?;
    let directive = std::env::var(LOG_ENV).unwrap_or_default();
    init_in(&dir, &directive)
}

pub fn init_in(dir: &Path, directive: &str) -> anyhow::Result<LogGuard> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create log dir {}: {e}", dir.display()))?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("gitaiops")
        .filename_suffix("log")
        .max_log_files(14)
        .build(dir)
        .map_err(|e| anyhow::anyhow!("cannot open a log file in {}: {e}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(filter(directive))
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    Ok(LogGuard {
        _worker: guard,
        dir: dir.to_path_buf(),
    })
}

/// A bad `GITAIOPS_LOG` falls back to `info` instead of failing the program.
fn filter(directive: &str) -> EnvFilter {
    let d = directive.trim();
    if d.is_empty() {
        return EnvFilter::new("info");
    }
    EnvFilter::try_new(d).unwrap_or_else(|_| EnvFilter::new("info"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_to_a_file_and_not_the_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let guard = init_in(dir.path(), "debug").unwrap();
        tracing::info!(answer = 42, "hello from the log test");
        drop(guard);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().to_string();
        assert!(
            name.starts_with("gitaiops.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("hello from the log test") && text.contains("answer=42"));
        assert!(!text.contains('\u{1b}'), "no ANSI in the file");
    }

    #[test]
    fn bad_directives_fall_back_to_info() {
        assert_eq!(filter("").to_string(), "info");
        assert_eq!(filter("[[[").to_string(), "info");
        assert_eq!(filter("debug").to_string(), "debug");
    }
}
