//! Where gitaiops keeps its files on this machine, and how they are made private. A leaf: the
//! audit log, the log file and the config all ask here, so none of them has to know about the
//! others, and whichever creates the state dir first creates it 0700.

use std::path::PathBuf;

use anyhow::Context;

pub const APP_NAME: &str = "gitaiops";

/// Where logs and the audit log live: `$GITAIOPS_STATE_DIR`, else the XDG state dir
/// (`~/.local/state/gitaiops`).
pub fn state_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GITAIOPS_STATE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    use etcetera::AppStrategy;
    let strategy = etcetera::choose_app_strategy(etcetera::AppStrategyArgs {
        top_level_domain: "rs".into(),
        author: String::new(),
        app_name: APP_NAME.into(),
    })
    .context("cannot locate the home directory for the state dir")?;
    Ok(strategy.state_dir().unwrap_or_else(|| strategy.data_dir()))
}

/// Creates `dir` (and missing parents) with mode 0700. An existing directory that group or
/// others can enter is tightened to 0700 when it is ours (an older version created it 0755).
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    tighten(dir, 0o700);
    Ok(())
}

/// Removes group and other access from `path` when it is ours and has any (best effort: a
/// file we do not own is left as it is).
pub fn tighten(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let Ok(m) = std::fs::metadata(path) else {
            return;
        };
        let ours = std::fs::metadata("/proc/self").is_ok_and(|p| p.uid() == m.uid());
        if ours && m.permissions().mode() & 0o077 != 0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Files this process creates are private from the start: the log files (created by the
/// appender, which takes no mode), the audit log and its key. Set once at start.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only changes the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_0700_whoever_creates_them() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        create_private_dir(&d).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d), 0o700);
        // Created 0755 by someone else first (an older version): tightened.
        let e = t.path().join("old");
        std::fs::create_dir(&e).unwrap();
        std::fs::set_permissions(&e, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&e).unwrap();
        assert_eq!(mode(&e), 0o700);
    }
}
