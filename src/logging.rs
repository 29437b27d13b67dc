//! Logging to a daily-rolling file in the XDG state dir; never to the terminal.
//!
//! The terminal belongs to the TUI (and stdout to `--json` output), so log lines go through
//! tracing-appender's non-blocking writer into `<state dir>/logs/gitaiops.YYYY-MM-DD.log`. The
//! level comes from `GITAIOPS_LOG` (an `EnvFilter` directive such as `debug` or
//! `gitaiops::gitlab=debug`), default `info`.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

pub const LOG_ENV: &str = "GITAIOPS_LOG";

/// Lines the background writer may have queued before new ones are dropped.
const LOG_QUEUE_LINES: usize = 4096;

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
    prepare_dir(dir)?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("gitaiops")
        .filename_suffix("log")
        .max_log_files(14)
        .build(dir)
        .map_err(|e| anyhow::anyhow!("cannot open a log file in {}: {e}", dir.display()))?;
    // The appender's default queue is 128,000 lines, allocated and written up front: 4 MiB of
    // RSS for a program that logs a few lines a minute. 4,096 lines (128 KiB) absorb any burst
    // it makes; past that, lines are dropped (lossy, the default), never the UI blocked.
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(appender);
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

/// Creates the log dir (and the state dir above it) private: 0700 whoever creates them first
/// (the audit log does the same); files are created 0600 under the process umask
/// (`paths::private_umask`), and older ones are tightened here.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if let Some(state) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::paths::create_private_dir(state)
            .map_err(|e| anyhow::anyhow!("cannot create state dir {}: {e}", state.display()))?;
    }
    crate::paths::create_private_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot create log dir {}: {e}", dir.display()))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            crate::paths::tighten(&e.path(), 0o600);
        }
    }
    Ok(())
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

    #[cfg(unix)]
    #[test]
    fn the_state_dir_is_0700_and_an_old_log_file_0600() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        let logs = state.join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = logs.join("gitaiops.2020-01-01.log");
        std::fs::write(&old, "x").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_dir(&logs).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&logs), 0o700);
        assert_eq!(mode(&old), 0o600);
    }

    #[test]
    fn bad_directives_fall_back_to_info() {
        assert_eq!(filter("").to_string(), "info");
        assert_eq!(filter("[[[").to_string(), "info");
        assert_eq!(filter("debug").to_string(), "debug");
    }
}
