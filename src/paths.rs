//! Where gitaiops keeps its files on this machine. A leaf: the audit log, the log file and the
//! config all ask here, so none of them has to know about the others.

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
