//! Settings: confy TOML file + environment + flags -> `Settings`.
//!
//! Each section belongs to one area of the code; add keys to your own section only. Every key
//! must stay optional (`#[serde(default)]`) so older files keep loading.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::cli::{ConfigCmd, GlobalArgs};

/// The file as stored (TOML in the XDG config dir).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    pub gitlab: GitlabSection,
    pub policy: PolicySection,
    pub planner: PlannerSection,
    pub ui: UiSection,
    pub audit: AuditSection,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GitlabSection {
    /// Base URL, e.g. https://gitlab.example.com (env GITLAB_HOST, flag --gitlab-url)
    pub url: Option<String>,
    /// Personal access token (env GITLAB_TOKEN). A file holding one must be mode 0600.
    #[serde(
        serialize_with = "expose_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub token: Option<secrecy::SecretString>,
    /// A command that prints the token (e.g. `pass show gitlab`)
    pub token_cmd: Option<String>,
    /// Extra CA bundle (PEM) trusted on top of the system store
    pub ca_file: Option<PathBuf>,
    /// Projects to watch (full paths)
    pub projects: Vec<String>,
    /// Refresh period in seconds (10-15 recommended)
    pub refresh_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicySection {
    pub read_only: bool,
    /// "approve" (default) or "suggest" (never executes)
    pub mode: Option<String>,
    /// Command kinds that are never accepted
    pub deny: Vec<String>,
    /// Command kinds approved without asking (never high risk)
    pub auto_approve: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlannerSection {
    /// gemini, openai or rules
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Prompt token budget (default 32000)
    pub token_budget: Option<usize>,
    /// Plan automatically every N seconds (off when unset)
    pub interval_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiSection {
    pub ascii: bool,
    /// Key overrides: action name -> key spec ("a", "ctrl-r", "shift-tab")
    pub keymap: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSection {
    /// Audit log path (default: the XDG state dir)
    pub path: Option<PathBuf>,
}

fn expose_secret<S: serde::Serializer>(
    t: &Option<secrecy::SecretString>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    match t {
        Some(t) => s.serialize_str(t.expose_secret()),
        None => s.serialize_none(),
    }
}

pub fn run_cli(_global: GlobalArgs, _cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("config is not built yet")
}
