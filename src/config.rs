//! Settings: confy TOML file + environment + flags -> `Settings`.
//!
//! Each section belongs to one area of the code; add keys to your own section only. Every key
//! must stay optional (`#[serde(default)]`) so older files keep loading.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub mod template;

use crate::args::GlobalArgs;
pub use crate::command::policy::PolicySection;
use crate::gitlab::{ClientConfig, GitlabClient};
pub use crate::plan::settings::PlannerSection;

/// The file as stored (TOML in the XDG config dir).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    pub gitlab: GitlabSection,
    pub policy: PolicySection,
    pub planner: PlannerSection,
    pub ui: UiSection,
    pub audit: AuditSection,
    /// More GitLab instances (`[[instances]]`), each with its own token and projects/groups;
    /// `[gitlab]` stays the first (and the only one when this is empty).
    pub instances: Vec<InstanceSection>,
}

/// One more GitLab instance to watch beside `[gitlab]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceSection {
    /// Short name shown in the overview (default: the host)
    pub name: Option<String>,
    /// Base URL, e.g. https://gitlab.corp.example
    pub url: Option<String>,
    /// Personal access token; a file holding one must be mode 0600
    #[serde(
        serialize_with = "expose_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub token: Option<secrecy::SecretString>,
    /// A command that prints the token (e.g. `pass show corp-gitlab`)
    pub token_cmd: Option<String>,
    /// An environment variable that holds the token (e.g. CORP_GITLAB_TOKEN)
    pub token_env: Option<String>,
    /// Extra CA bundle (PEM) trusted on top of the system store
    pub ca_file: Option<PathBuf>,
    /// Refuse every request that is not a GET on this instance
    pub read_only: bool,
    /// Projects to watch (full paths)
    pub projects: Vec<String>,
    /// Groups to watch: every non-archived project with recent activity
    pub groups: Vec<String>,
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
    /// Groups to watch (full paths): every non-archived project with recent activity, its
    /// MRs read in one request per refresh (flag --group)
    pub groups: Vec<String>,
    /// Refresh period in seconds (10-15 recommended)
    pub refresh_secs: Option<u64>,
    /// Whole-request timeout in seconds (default 15)
    pub request_timeout_secs: Option<u64>,
    /// Connection timeout in seconds (default 5)
    pub connect_timeout_secs: Option<u64>,
    /// Job logs larger than this many MB keep their last part (default 32)
    pub max_trace_mb: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiSection {
    pub ascii: bool,
    /// Built-in colours: "dark" (default), "light" or "high-contrast"
    pub theme: Option<String>,
    /// A skin file (TOML) overriding named colour roles of the theme
    pub skin: Option<PathBuf>,
    /// Key overrides: action name -> key spec ("a", "ctrl-r", "shift-tab")
    pub keymap: BTreeMap<String, String>,
    /// `y` copies through OSC 52 (default on); off for terminals that refuse or mangle it
    pub osc52: Option<bool>,
    /// MR and pipeline ids are OSC 8 hyperlinks (default on, off under TERM=linux or dumb)
    pub hyperlinks: Option<bool>,
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
    match t {
        Some(t) => s.serialize_str(t.expose_secret()),
        None => s.serialize_none(),
    }
}

pub use crate::paths::{APP_NAME, state_dir};
pub const CONFIG_NAME: &str = "config";
pub const DEFAULT_GITLAB_URL: &str = "https://gitlab.com";
/// `GITAIOPS__<SECTION>__<KEY>=value` overrides any key of the file (e.g.
/// `GITAIOPS__POLICY__MODE=suggest`, `GITAIOPS__PLANNER__TOKEN_BUDGET=16000`).
pub const ENV_PREFIX: &str = "GITAIOPS__";

/// `~/.config/gitaiops/config.toml` on Linux (confy's XDG location).
pub fn default_config_path() -> anyhow::Result<PathBuf> {
    confy::get_configuration_file_path(APP_NAME, CONFIG_NAME)
        .context("cannot locate the config directory")
}

pub fn config_path(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    match &global.config {
        Some(p) => Ok(p.clone()),
        None => default_config_path(),
    }
}

/// Reads the file with confy. A missing file means defaults and is not created (a config is
/// written by the operator, never by a read); a broken file is an error naming it and is left
/// untouched; a file holding a secret must not be readable by group or others.
pub fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => bail!("cannot read config file {}: {e}", path.display()),
    }
    let cfg: FileConfig = confy::load_path(path).map_err(|e| {
        anyhow::anyhow!(
            "config file {} is not valid: {}",
            path.display(),
            confy_error_line(&e)
        )
    })?;
    check_permissions(path, &cfg)?;
    Ok(cfg)
}

/// One warning per key of the file that no setting reads: a typo (`refesh_secs`) would
/// otherwise leave the default in force without a word.
pub fn unknown_key_warnings(path: &Path) -> Vec<String> {
    unknown_keys(path)
        .into_iter()
        .map(|key| {
            let hint = match suggest_key(&key) {
                Some(s) => format!("; did you mean {s}?"),
                None => " (see `gitaiops config show`)".into(),
            };
            format!(
                "{}: unknown setting `{key}` is ignored{hint}",
                path.display()
            )
        })
        .collect()
}

/// The known key nearest to an unknown dotted one: a close spelling at the same level
/// (`gitlab.uri` -> `url`), else the same name in another section (`gitlab.provider` ->
/// `[planner] provider`).
pub fn suggest_key(unknown: &str) -> Option<String> {
    let tree = known_keys_tree();
    let (parent, name) = match unknown.rsplit_once('.') {
        Some((p, n)) => (Some(p), n),
        None => (None, unknown),
    };
    let level = match parent {
        None => Some(&tree),
        Some(p) => p.split('.').try_fold(&tree, |v, k| v.get(k)),
    };
    let siblings: Vec<&String> = level
        .and_then(|v| v.as_object())
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    if let Some(best) = nearest(name, siblings.iter().map(|s| s.as_str())) {
        return Some(match parent {
            None => format!("[{best}]"),
            Some(_) => best.to_string(),
        });
    }
    // The right name in the wrong section.
    let mut found = None;
    if let Some(sections) = tree.as_object() {
        for (section, keys) in sections {
            if Some(section.as_str()) != parent
                && keys.as_object().is_some_and(|o| o.contains_key(name))
            {
                found = Some(format!("[{section}] {name}"));
                break;
            }
        }
    }
    found
}

/// The closest candidate within a small edit distance (about one typo per three letters).
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Every section and key `FileConfig` reads, as a JSON tree (the token included).
fn known_keys_tree() -> serde_json::Value {
    let mut v = serde_json::to_value(FileConfig::default()).unwrap_or_default();
    if let Some(g) = v.get_mut("gitlab").and_then(|g| g.as_object_mut()) {
        g.insert("token".into(), serde_json::Value::Null);
    }
    v
}

/// Keys in the file that no setting reads. The file already parsed; a read error here is
/// reported by the load itself.
pub fn unknown_keys(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    unknown_keys_in(&text)
}

pub(crate) fn unknown_keys_in(text: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let Ok(de) = toml::Deserializer::parse(text) else {
        return unknown;
    };
    let _: Result<FileConfig, _> = serde_ignored::deserialize(de, |path| {
        unknown.push(path.to_string());
    });
    unknown
}

/// One line from a confy error: the TOML position and message without the source snippet (the
/// snippet would echo the offending line, which may be the token itself).
fn confy_error_line(e: &confy::ConfyError) -> String {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text = s.to_string();
        src = s.source();
    }
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|'))
        .collect();
    kept.join(": ")
}

/// A config holding a token is refused when group or others can read it.
pub fn check_permissions(path: &Path, cfg: &FileConfig) -> anyhow::Result<()> {
    if !holds_secret(cfg) {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot stat {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            bail!(
                "config file {} holds a token but is readable by others (mode {:03o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                shell_quote(&path.display().to_string())
            );
        }
    }
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+~@%:,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn is_secret_key(k: &str) -> bool {
    k == "token"
        || k.ends_with("_token")
        || k.ends_with("api_key")
        || k == "password"
        || k.ends_with("_password")
        || k == "secret"
        || k.ends_with("_secret")
}

/// Any secret-looking key with a value, in any section (other areas may add their own keys,
/// such as a planner API key).
pub fn holds_secret(cfg: &FileConfig) -> bool {
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| {
                (is_secret_key(k) && v.as_str().is_some_and(|s| !s.trim().is_empty())) || walk(v)
            }),
            // `[[instances]]` are an array of tables.
            serde_json::Value::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    serde_json::to_value(cfg).is_ok_and(|v| walk(&v))
}

/// `glpa…(masked)`: enough to tell two tokens apart, never enough to use one.
pub fn mask_secret(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() < 12 {
        return "(masked)".into();
    }
    let head: String = s.chars().take(4).collect();
    format!("{head}…(masked)")
}

/// Applies `GITAIOPS__<SECTION>__<KEY>` variables. Values are read as JSON when that fits the
/// key (numbers, booleans, arrays), else as text; a comma list fills an array key.
pub fn apply_env_overrides<I>(cfg: &FileConfig, vars: I) -> anyhow::Result<FileConfig>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    if vars.is_empty() {
        return Ok(cfg.clone());
    }
    vars.sort();
    let mut value = serde_json::to_value(cfg).context("cannot represent the config")?;
    for (name, raw) in vars {
        let rest = &name[ENV_PREFIX.len()..];
        let Some((section, key)) = rest.split_once("__") else {
            bail!("{name}: expected {ENV_PREFIX}<SECTION>__<KEY>");
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let Some(obj) = value.get(&section).and_then(|s| s.as_object()) else {
            bail!("{name}: the config has no [{section}] section");
        };
        let is_secret = section == "gitlab" && key == "token";
        if !obj.contains_key(&key) && !is_secret {
            bail!("{name}: [{section}] has no key {key}");
        }
        let mut candidates = Vec::new();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&raw) {
            candidates.push(v);
        }
        candidates.push(serde_json::Value::String(raw.clone()));
        candidates.push(serde_json::Value::Array(
            raw.split(',')
                .map(|s| serde_json::Value::String(s.trim().to_string()))
                .filter(|s| s.as_str() != Some(""))
                .collect(),
        ));
        let mut accepted = false;
        for c in candidates {
            let mut trial = value.clone();
            trial[&section][&key] = c;
            if serde_json::from_value::<FileConfig>(trial.clone()).is_ok() {
                value = trial;
                accepted = true;
                break;
            }
        }
        if !accepted {
            bail!("{name}: value does not fit [{section}] {key}");
        }
    }
    serde_json::from_value(value).context("cannot apply environment overrides")
}

/// A command line (or the settings standing in for it) a command cannot run with: exits 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Where the token comes from; the command is run only when a token is needed.
#[derive(Clone)]
enum TokenSource {
    None,
    Env(SecretString),
    /// The command, and whether it came from `--token-cmd` (else the config file).
    Command(String, bool),
    File(SecretString),
}

/// How long `token_cmd` may take (a password manager waiting on a locked agent must not hang
/// the program).
pub const TOKEN_CMD_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variables that hold the operator's secrets: registered for redaction as
/// literals (they may have no recognisable shape).
const SECRET_VARS: [&str; 5] = [
    "GITLAB_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_API_KEY",
    "GITAIOPS_SIM_TOKEN",
];

/// One instance to watch, resolved: how to reach it and what to watch there.
#[derive(Clone)]
pub struct InstanceSpec {
    /// As shown: `[[instances]] name`, else the host.
    pub name: String,
    pub client: ClientConfig,
    pub projects: Vec<String>,
    pub groups: Vec<String>,
}

/// `gitlab.example.com` of `https://gitlab.example.com/`; the text itself when it is no URL.
pub fn host_of(url: &str) -> String {
    crate::net::parse_lenient(url)
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| url.trim().to_string())
}

/// The token of an `[[instances]]` entry: its variable, then its command, then the file's.
fn instance_token(inst: &InstanceSection, what: &str) -> anyhow::Result<SecretString> {
    if let Some(var) = inst
        .token_env
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let t = std::env::var(var).unwrap_or_default();
        if t.trim().is_empty() {
            bail!(UsageError(format!(
                "{what}: token_env names {var}, which is not set"
            )));
        }
        crate::redact::register_secret(t.trim());
        return Ok(SecretString::from(t.trim().to_string()));
    }
    if let Some(cmd) = inst.token_cmd.as_deref().filter(|c| !c.trim().is_empty()) {
        let t = run_token_cmd(cmd, TOKEN_CMD_TIMEOUT, "token_cmd of [[instances]]")?;
        crate::redact::register_secret(t.expose_secret());
        return Ok(t);
    }
    match &inst.token {
        Some(t) if !t.expose_secret().trim().is_empty() => Ok(t.clone()),
        _ => bail!(UsageError(format!(
            "{what}: no token (set token_env, token_cmd or token)"
        ))),
    }
}

/// The resolved settings: the file, then `GITAIOPS__*` variables, then the named variables and
/// flags (`GITLAB_HOST`/`--gitlab-url`, `GITLAB_TOKEN`, `--project`, `--read-only`, ...).
/// Other modules read their section from `file`, which holds the effective values.
#[derive(Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub config_exists: bool,
    /// Effective configuration (file + env + flags). Tokens stay secrets.
    pub file: FileConfig,
    token: TokenSource,
    /// Problems that do not stop a start (unknown keys): printed on stderr by `load`, and
    /// listed in the TUI's activity.
    pub warnings: Vec<String>,
    /// Where each set value came from, by dotted key (`gitlab.url`); absent keys are defaults.
    origins: BTreeMap<String, Origin>,
}

/// Where a setting's value came from, as `config show` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File,
    /// The variable's name.
    Env(String),
    /// The flag, as typed (`--project`).
    Flag(&'static str),
}

impl Origin {
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::File => "file",
            Origin::Env(_) => "env",
            Origin::Flag(_) => "flag",
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Origin::Env(n) => Some(n),
            Origin::Flag(f) => Some(f),
            Origin::Default | Origin::File => None,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} {n}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

/// Dotted paths and values of every non-table value of a JSON tree.
fn json_leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    if let Some(o) = v.as_object() {
        for (k, v) in o {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if v.is_object() {
                json_leaves(&p, v, out);
            } else {
                out.push((p, v.clone()));
            }
        }
    }
}

/// Dotted keys a TOML text sets (the file's part of `config show`).
fn toml_keys(text: &str) -> Vec<String> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&p, t, out),
                _ => out.push(p),
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(t) = text.parse::<toml::Table>() {
        walk("", &t, &mut out);
    }
    out
}

/// Where the named variables and flags (clap merges the two) put a value: the variable when it
/// holds the value in force, else the flag.
fn named_origins(
    global: &GlobalArgs,
    env: &[(String, String)],
    origins: &mut BTreeMap<String, Origin>,
) {
    let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut set = |key: &str, value: Option<String>, name: &str, flag: &'static str| {
        let Some(value) = value else { return };
        let origin = match var(name) {
            Some(v) if v.trim() == value.trim() => Origin::Env(name.to_string()),
            _ => Origin::Flag(flag),
        };
        origins.insert(key.to_string(), origin);
    };
    set(
        "gitlab.url",
        global.gitlab_url.clone().filter(|u| !u.trim().is_empty()),
        "GITLAB_HOST",
        "--gitlab-url",
    );
    set(
        "gitlab.projects",
        (!global.project.is_empty()).then(|| global.project.join(",")),
        "GITAIOPS_PROJECT",
        "--project",
    );
    set(
        "gitlab.ca_file",
        global.ca_file.as_ref().map(|p| p.display().to_string()),
        "GITAIOPS_CA_FILE",
        "--ca-file",
    );
    set(
        "gitlab.token_cmd",
        global.token_cmd.clone().filter(|c| !c.trim().is_empty()),
        "GITAIOPS_TOKEN_CMD",
        "--token-cmd",
    );
    set(
        "gitlab.refresh_secs",
        global.refresh_secs.map(|r| r.to_string()),
        "GITAIOPS_REFRESH_SECS",
        "--refresh-secs",
    );
    set(
        "planner.provider",
        global.provider.clone(),
        "GITAIOPS_PROVIDER",
        "--provider",
    );
    if global.read_only {
        let origin = match var("GITAIOPS_READ_ONLY") {
            Some(v) if !matches!(v.trim(), "" | "0" | "false" | "no" | "off" | "n" | "f") => {
                Origin::Env("GITAIOPS_READ_ONLY".into())
            }
            _ => Origin::Flag("--read-only"),
        };
        origins.insert("policy.read_only".into(), origin);
    }
    if global.ascii {
        origins.insert("ui.ascii".into(), Origin::Flag("--ascii"));
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("config_path", &self.config_path)
            .field("gitlab_url", &self.gitlab_url())
            .field("projects", &self.projects())
            .field("read_only", &self.read_only())
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn load(global: &GlobalArgs) -> anyhow::Result<Settings> {
        let s = Self::load_with(global, std::env::vars())?;
        for w in &s.warnings {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "gitaiops: warning: {}",
                crate::text::one_line(w, 500)
            );
        }
        Ok(s)
    }

    /// `load` with the environment given explicitly (tests).
    pub fn load_with<I>(global: &GlobalArgs, env: I) -> anyhow::Result<Settings>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let config_path = config_path(global)?;
        let config_exists = config_path.exists();
        let from_file = load_file(&config_path)?;
        let mut file = apply_env_overrides(&from_file, env.iter().cloned())?;
        // Read-only is switched on from anywhere and off nowhere: a variable saying `false`
        // must not undo the file's `true`.
        file.policy.read_only |= from_file.policy.read_only;

        if let Some(url) = global.gitlab_url.as_ref().filter(|u| !u.trim().is_empty()) {
            file.gitlab.url = Some(url.trim().to_string());
        }
        if !global.project.is_empty() {
            file.gitlab.projects = global.project.clone();
        }
        if !global.group.is_empty() {
            file.gitlab.groups = global.group.clone();
        }
        if let Some(ca) = &global.ca_file {
            file.gitlab.ca_file = Some(ca.clone());
        }
        if let Some(cmd) = global.token_cmd.as_ref().filter(|c| !c.trim().is_empty()) {
            file.gitlab.token_cmd = Some(cmd.clone());
        }
        if let Some(r) = global.refresh_secs {
            file.gitlab.refresh_secs = Some(r);
        }
        // Read-only can be switched on from anywhere and off only where it was switched on.
        file.policy.read_only |= global.read_only;
        if let Some(p) = &global.provider {
            file.planner.provider = Some(p.clone());
        }
        file.ui.ascii |= global.ascii;

        let env_token = env
            .iter()
            .find(|(k, _)| k == "GITLAB_TOKEN")
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let from_flag = global
            .token_cmd
            .as_ref()
            .is_some_and(|c| !c.trim().is_empty());
        let token = match (env_token, &file.gitlab.token_cmd, &file.gitlab.token) {
            (Some(t), _, _) => TokenSource::Env(SecretString::from(t)),
            (None, Some(cmd), _) if !cmd.trim().is_empty() => {
                TokenSource::Command(cmd.clone(), from_flag)
            }
            (None, _, Some(t)) if !t.expose_secret().trim().is_empty() => {
                TokenSource::File(t.clone())
            }
            _ => TokenSource::None,
        };
        if let TokenSource::Env(t) = &token {
            file.gitlab.token = Some(t.clone());
        }
        if let Some(url) = file.gitlab.url.as_deref()
            && let Some(u) = crate::net::parse_lenient(url)
            && crate::net::has_userinfo(&u)
        {
            bail!("{}", crate::net::userinfo_message(url));
        }
        register_secrets(&file, &env);
        let warnings = if config_exists {
            unknown_key_warnings(&config_path)
        } else {
            Vec::new()
        };
        let mut origins = BTreeMap::new();
        if config_exists && let Ok(text) = std::fs::read_to_string(&config_path) {
            for key in toml_keys(&text) {
                origins.insert(key, Origin::File);
            }
        }
        for (name, _) in env.iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)) {
            if let Some((section, key)) = name[ENV_PREFIX.len()..].split_once("__") {
                let key = format!(
                    "{}.{}",
                    section.to_ascii_lowercase(),
                    key.to_ascii_lowercase()
                );
                // `read_only = false` from a variable cannot undo the file's `true`.
                if key == "policy.read_only" && from_file.policy.read_only {
                    continue;
                }
                origins.insert(key, Origin::Env(name.clone()));
            }
        }
        named_origins(global, &env, &mut origins);
        Ok(Settings {
            config_path,
            config_exists,
            file,
            token,
            warnings,
            origins,
        })
    }

    pub fn gitlab_url(&self) -> &str {
        self.file
            .gitlab
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or(DEFAULT_GITLAB_URL)
    }

    pub fn projects(&self) -> &[String] {
        &self.file.gitlab.projects
    }

    /// The first configured project, or an error saying how to name one.
    pub fn project(&self) -> anyhow::Result<&str> {
        match self.projects().first() {
            Some(p) if !p.trim().is_empty() => Ok(p.trim()),
            _ => Err(UsageError(format!(
                "no project: pass --project group/name, set GITAIOPS_PROJECT, or add projects = [\"group/name\"] under [gitlab] in {}",
                self.config_path.display()
            ))
            .into()),
        }
    }

    pub fn read_only(&self) -> bool {
        self.file.policy.read_only
    }

    /// `[gitlab] groups` / `--group`.
    pub fn groups(&self) -> &[String] {
        &self.file.gitlab.groups
    }

    /// Whether more than one project may be watched (several projects, a group, or another
    /// instance): the session then has an overview.
    pub fn watches_many(&self) -> bool {
        self.projects()
            .iter()
            .filter(|p| !p.trim().is_empty())
            .count()
            > 1
            || !self.groups().is_empty()
            || !self.file.instances.is_empty()
    }

    /// Every instance to watch: `[gitlab]` first (flags and `GITLAB_*` apply to it), then each
    /// `[[instances]]` with its own token. Runs token commands; a missing token or URL is an
    /// error naming the instance.
    pub fn instances(&self) -> anyhow::Result<Vec<InstanceSpec>> {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|p| p.trim().trim_matches('/').to_string())
                .filter(|p| !p.is_empty())
                .collect()
        };
        let first = self.client_config()?;
        let mut out = vec![InstanceSpec {
            name: host_of(&first.base_url),
            client: first.clone(),
            projects: clean(self.projects()),
            groups: clean(self.groups()),
        }];
        let read_only = self.read_only();
        for (i, inst) in self.file.instances.iter().enumerate() {
            let what = inst
                .name
                .clone()
                .unwrap_or_else(|| format!("[[instances]] #{}", i + 1));
            let url = inst
                .url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| UsageError(format!("{what}: url is missing")))?;
            if let Some(u) = crate::net::parse_lenient(url)
                && crate::net::has_userinfo(&u)
            {
                bail!("{what}: {}", crate::net::userinfo_message(url));
            }
            // `[gitlab]`'s limits (timeouts, trace cap) with the instance's own address,
            // token, CA and read-only switch; the session's read-only covers every instance.
            let client = ClientConfig {
                base_url: url.to_string(),
                token: Some(instance_token(inst, &what)?),
                token_origin: format!("the token of {what}"),
                ca_file: inst.ca_file.clone(),
                read_only: read_only || inst.read_only,
                no_proxy: crate::net::is_loopback_url(url),
                ..first.clone()
            };
            let projects = clean(&inst.projects);
            let groups = clean(&inst.groups);
            if projects.is_empty() && groups.is_empty() {
                bail!(UsageError(format!(
                    "{what}: name projects = [\"group/name\"] or groups = [\"group\"]"
                )));
            }
            out.push(InstanceSpec {
                name: inst.name.clone().unwrap_or_else(|| host_of(url)),
                client,
                projects,
                groups,
            });
        }
        // `[gitlab]` without projects or groups is only the default of the flags: leave it out
        // when other instances say what to watch.
        if out.len() > 1 && out[0].projects.is_empty() && out[0].groups.is_empty() {
            out.remove(0);
        }
        Ok(out)
    }

    pub fn refresh(&self) -> Duration {
        Duration::from_secs(self.file.gitlab.refresh_secs.unwrap_or(12).clamp(2, 3600))
    }

    /// A token or a token command is configured (the command has not been run).
    pub fn has_token(&self) -> bool {
        !matches!(self.token, TokenSource::None)
    }

    /// The token, running `token_cmd` when that is its source.
    pub fn token(&self) -> anyhow::Result<Option<SecretString>> {
        match &self.token {
            TokenSource::None => Ok(None),
            TokenSource::Env(t) | TokenSource::File(t) => Ok(Some(t.clone())),
            TokenSource::Command(cmd, _) => {
                let t = run_token_cmd(cmd, TOKEN_CMD_TIMEOUT, self.token_origin())?;
                crate::redact::register_secret(t.expose_secret());
                Ok(Some(t))
            }
        }
    }

    /// Where the token came from, as the operator would fix it (named in a 401).
    pub fn token_origin(&self) -> &'static str {
        match self.token {
            TokenSource::None => "GITLAB_TOKEN (unset)",
            TokenSource::Env(_) => "GITLAB_TOKEN",
            TokenSource::Command(_, true) => "--token-cmd",
            TokenSource::Command(_, false) => "token_cmd in the config file",
            TokenSource::File(_) => "the token in the config file",
        }
    }

    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let g = &self.file.gitlab;
        Ok(ClientConfig {
            base_url: self.gitlab_url().to_string(),
            token: self.token()?,
            token_origin: self.token_origin().to_string(),
            max_trace_bytes: g
                .max_trace_mb
                .map(|mb| mb.clamp(1, 4096) * 1024 * 1024)
                .unwrap_or(crate::gitlab::client::DEFAULT_MAX_TRACE_BYTES),
            ca_file: g.ca_file.clone(),
            request_timeout: Duration::from_secs(g.request_timeout_secs.unwrap_or(15).max(1)),
            connect_timeout: Duration::from_secs(g.connect_timeout_secs.unwrap_or(5).max(1)),
            read_only: self.read_only(),
            // No proxy can reach our loopback, and reqwest's NO_PROXY does not cover it.
            no_proxy: crate::net::is_loopback_url(self.gitlab_url()),
            ..ClientConfig::default()
        })
    }

    pub fn gitlab_client(&self) -> anyhow::Result<GitlabClient> {
        Ok(GitlabClient::new(self.client_config()?)?)
    }

    /// The effective settings as TOML-like text, secrets masked.
    pub fn render_show(&self) -> String {
        let mut out = format!(
            "# {} ({})\n",
            self.config_path.display(),
            if self.config_exists {
                "present"
            } else {
                "absent: defaults"
            }
        );
        let value = serde_json::to_value(&self.file).unwrap_or_default();
        if let Some(sections) = value.as_object() {
            for (name, section) in sections {
                self.render_table(&mut out, name, section);
            }
        }
        out
    }

    /// One `[table]` of `config show`: its keys with where each value came from, then its
    /// sub-tables.
    fn render_table(&self, out: &mut String, path: &str, table: &serde_json::Value) {
        out.push_str(&format!("\n[{path}]\n"));
        let Some(keys) = table.as_object() else {
            return;
        };
        let (section, _) = path.split_once('.').unwrap_or((path, ""));
        for (k, v) in keys.iter().filter(|(_, v)| !v.is_object()) {
            let full = format!("{path}.{k}");
            let origin = self.origin(&full);
            if is_secret_key(k) {
                let shown = v.as_str().map(mask_secret).unwrap_or_default();
                let from = if full == "gitlab.token" {
                    self.token_origin().to_string()
                } else {
                    origin.to_string()
                };
                out.push_str(&format!("{k} = \"{shown}\"  # from {from}\n"));
            } else if v.is_null() {
                match unset_default(section, k) {
                    Some(d) if path == section => {
                        out.push_str(&format!("# {k} = {d}  (default)\n"))
                    }
                    _ => out.push_str(&format!("# {k} (unset)\n")),
                }
            } else if origin == Origin::Default {
                out.push_str(&format!("{k} = {v}  # default\n"));
            } else {
                out.push_str(&format!("{k} = {v}  # from {origin}\n"));
            }
        }
        if path == "gitlab" && !keys.contains_key("token") {
            let how = match self.token {
                TokenSource::Command(..) => "from token_cmd, not run by `config show`",
                _ => "unset: export GITLAB_TOKEN",
            };
            out.push_str(&format!("# token ({how})\n"));
        }
        for (k, v) in keys.iter().filter(|(_, v)| v.is_object()) {
            self.render_table(out, &format!("{path}.{k}"), v);
        }
    }

    /// Where the value of a dotted key came from: the key itself, or a table above it set as a
    /// whole (an environment variable holding a table), or a key below it (a map's entries).
    pub fn origin(&self, key: &str) -> Origin {
        if let Some(o) = self.origins.get(key) {
            return o.clone();
        }
        let mut parent = key;
        while let Some((p, _)) = parent.rsplit_once('.') {
            if let Some(o) = self.origins.get(p) {
                return o.clone();
            }
            parent = p;
        }
        let below = format!("{key}.");
        self.origins
            .iter()
            .find(|(k, _)| k.starts_with(&below))
            .map(|(_, o)| o.clone())
            .unwrap_or(Origin::Default)
    }

    /// `config show --json`: every setting by dotted name with its value (secrets masked), its
    /// source and, for an unset key, the default in force.
    pub fn show_json(&self) -> serde_json::Value {
        let mut settings = serde_json::Map::new();
        let value = serde_json::to_value(&self.file).unwrap_or_default();
        let mut leaves = Vec::new();
        json_leaves("", &value, &mut leaves);
        if !leaves.iter().any(|(k, _)| k == "gitlab.token") {
            leaves.push(("gitlab.token".into(), serde_json::Value::Null));
        }
        leaves.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, v) in leaves {
            let (section, name) = key.split_once('.').unwrap_or((key.as_str(), ""));
            let last = key.rsplit('.').next().unwrap_or(&key);
            let mut entry = serde_json::Map::new();
            let origin = self.origin(&key);
            if is_secret_key(last) {
                entry.insert(
                    "value".into(),
                    v.as_str()
                        .map(mask_secret)
                        .map_or(serde_json::Value::Null, Into::into),
                );
                if key == "gitlab.token" {
                    let from = match self.token {
                        TokenSource::None => None,
                        TokenSource::Env(_) => Some(("env", "GITLAB_TOKEN")),
                        TokenSource::Command(_, true) => Some(("flag", "--token-cmd")),
                        TokenSource::Command(_, false) => Some(("file", "token_cmd")),
                        TokenSource::File(_) => Some(("file", "token")),
                    };
                    let (source, name) = from.unwrap_or(("default", ""));
                    entry.insert("source".into(), source.into());
                    if !name.is_empty() {
                        entry.insert("from".into(), name.into());
                    }
                    settings.insert(key, entry.into());
                    continue;
                }
            } else {
                entry.insert("value".into(), v.clone());
            }
            entry.insert("source".into(), origin.kind().into());
            if let Some(from) = origin.name() {
                entry.insert("from".into(), from.into());
            }
            if v.is_null()
                && !name.contains('.')
                && let Some(d) = unset_default(section, name)
            {
                entry.insert("default".into(), d.into());
            }
            settings.insert(key, entry.into());
        }
        serde_json::json!({
            "path": self.config_path,
            "exists": self.config_exists,
            "settings": settings,
        })
    }
}

/// What an unset key means, as `config show` prints it: the value in force (the same constants
/// the code uses) or, where it depends on the planner's server, both cases.
fn unset_default(section: &str, key: &str) -> Option<String> {
    let text = match (section, key) {
        ("audit", "path") => format!(
            "\"{}\"",
            crate::command::audit::resolve_path(None)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "(no data directory)".into())
        ),
        ("gitlab", "url") => format!("\"{DEFAULT_GITLAB_URL}\""),
        ("gitlab", "refresh_secs") => "12".into(),
        ("gitlab", "request_timeout_secs") => "15".into(),
        ("gitlab", "connect_timeout_secs") => "5".into(),
        ("gitlab", "max_trace_mb") => {
            (crate::gitlab::client::DEFAULT_MAX_TRACE_BYTES >> 20).to_string()
        }
        ("gitlab", "ca_file") => "the system's roots".into(),
        ("planner", "provider") => {
            "gemini with GEMINI_API_KEY, openai with OPENAI_BASE_URL, else rules".into()
        }
        ("planner", "model") | ("planner", "base_url") => "the provider's default".into(),
        ("planner", "debounce_secs") => "20".into(),
        ("planner", "interval_secs") => "off: plans run on `p`, new failures and new MRs".into(),
        ("planner", "stale_days") => "7".into(),
        ("planner", "timeout_secs") => "120 (600 for a server on this machine or network)".into(),
        ("planner", "token_budget") => format!(
            "{} ({} for a local server that does not say its context)",
            crate::plan::snapshot::DEFAULT_TOKEN_BUDGET,
            crate::plan::settings::LOCAL_TOKEN_BUDGET
        ),
        ("planner", "max_output_tokens") => "8192 (2048 for a local server)".into(),
        ("planner", "price_input_per_mtok") | ("planner", "price_output_per_mtok") => {
            "the known price of the model, if any".into()
        }
        ("policy", "mode") => "\"approve\"".into(),
        ("ui", "theme") => "\"dark\"".into(),
        ("ui", "skin") => "none: the theme's colours".into(),
        _ => return None,
    };
    Some(text)
}

/// Every configured secret (any secret-named key of the file, the known variables) is
/// redacted as a literal from now on.
fn register_secrets(file: &FileConfig, env: &[(String, String)]) {
    fn walk(v: &serde_json::Value) {
        if let serde_json::Value::Object(o) = v {
            for (k, v) in o {
                match v {
                    serde_json::Value::String(s) if is_secret_key(k) => {
                        crate::redact::register_secret(s)
                    }
                    _ => walk(v),
                }
            }
        }
        if let serde_json::Value::Array(a) = v {
            a.iter().for_each(walk);
        }
    }
    if let Ok(v) = serde_json::to_value(file) {
        walk(&v);
    }
    for (k, v) in env {
        if SECRET_VARS.contains(&k.as_str()) {
            crate::redact::register_secret(v);
        }
    }
}

/// Runs `token_cmd` (stdin kept, for a password manager's prompt) for at most `timeout`; its
/// first non-blank line is the token. A failure shows its stderr's first line, redacted and
/// made safe to print.
fn run_token_cmd(cmd: &str, timeout: Duration, origin: &str) -> anyhow::Result<SecretString> {
    use std::io::Read;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {origin}"))?;
    // Readers on threads, so a chatty command cannot block on a full pipe while we wait.
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                // At most 1 MB: a token is short; a flood is the command's problem.
                let _ = r.by_ref().take(1024 * 1024).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let started = std::time::Instant::now();
    let status = loop {
        match child
            .try_wait()
            .with_context(|| format!("cannot wait for {origin}"))?
        {
            Some(st) => break st,
            None if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{origin} did not finish within {}s (is it waiting for input?)",
                    timeout.as_secs()
                );
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&stderr);
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let first = crate::text::one_line(&crate::redact::redact(first), 200);
        if first.is_empty() {
            bail!("{origin} failed ({status}) and printed nothing on stderr");
        }
        bail!("{origin} failed ({status}): {first}");
    }
    let text =
        String::from_utf8(stdout).with_context(|| format!("{origin} printed non-UTF-8 output"))?;
    let token = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string();
    if token.is_empty() {
        if text.is_empty() {
            bail!("{origin} printed nothing");
        }
        bail!("{origin} printed only blank lines");
    }
    Ok(SecretString::from(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global_with(path: &Path) -> GlobalArgs {
        GlobalArgs {
            config: Some(path.to_path_buf()),
            ..GlobalArgs::default()
        }
    }

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let p = dir.join("config.toml");
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn instances_resolve_with_their_own_tokens_and_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        let text = "[gitlab]\nurl = \"https://gitlab.example\"\ngroups = [\"platform\"]\n\n[[instances]]\nname = \"corp\"\nurl = \"https://git.corp.example:8443\"\ntoken = \"glpat-corp-token-0123\"\nread_only = true\nprojects = [\"infra/tf\"]\n";
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let s =
            Settings::load_with(&global_with(&p), env(&[("GITLAB_TOKEN", "glpat-first")])).unwrap();
        assert!(s.watches_many());
        let inst = s.instances().unwrap();
        assert_eq!(inst.len(), 2);
        assert_eq!(inst[0].name, "gitlab.example");
        assert_eq!(inst[0].groups, ["platform"]);
        assert_eq!(inst[1].name, "corp");
        assert_eq!(inst[1].projects, ["infra/tf"]);
        assert!(inst[1].client.read_only && !inst[0].client.read_only);
        assert_eq!(inst[1].client.base_url, "https://git.corp.example:8443");
        assert_eq!(
            host_of("https://git.corp.example:8443/"),
            "git.corp.example:8443"
        );
        // A token variable that is not set is named.
        let text = text.replace(
            "token = \"glpat-corp-token-0123\"",
            "token_env = \"GITAIOPS_TEST_UNSET_TOKEN_VAR\"",
        );
        std::fs::write(&p, text).unwrap();
        let s =
            Settings::load_with(&global_with(&p), env(&[("GITLAB_TOKEN", "glpat-first")])).unwrap();
        let e = s.instances().err().unwrap().to_string();
        assert!(
            e.contains("corp") && e.contains("GITAIOPS_TEST_UNSET_TOKEN_VAR"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_gives_defaults_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/config.toml");
        let s = Settings::load_with(&global_with(&p), env(&[])).unwrap();
        assert!(!p.exists());
        assert!(!s.config_exists);
        assert_eq!(s.gitlab_url(), DEFAULT_GITLAB_URL);
        assert!(!s.has_token());
        assert!(s.project().unwrap_err().to_string().contains("--project"));
    }

    #[test]
    fn broken_toml_names_the_file_and_is_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[gitlab]\ntoken = \"glpat-abcdefghijklmnop\nurl = 3\n";
        let p = write(dir.path(), text, 0o600);
        let e = Settings::load_with(&global_with(&p), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
        assert!(e.contains("line"), "{e}");
        assert!(
            !e.contains("glpat-abcdef"),
            "the snippet must not echo the token: {e}"
        );
        assert!(!e.contains('\n'), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
    }

    #[test]
    fn wrong_types_are_reported_not_defaulted() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "[gitlab]\nrefresh_secs = \"soon\"\n", 0o644);
        let e = Settings::load_with(&global_with(&p), env(&[])).unwrap_err();
        assert!(e.to_string().contains("not valid"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn token_in_a_group_readable_file_is_refused_with_the_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[gitlab]\ntoken = \"glpat-abcdefghijklmnop\"\n",
            0o640,
        );
        let e = Settings::load_with(&global_with(&p), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("chmod 600 {}", p.display())), "{e}");
        assert!(!e.contains("glpat-abcdef"));
        // Same content at 0600 loads.
        let p = write(
            dir.path(),
            "[gitlab]\ntoken = \"glpat-abcdefghijklmnop\"\n",
            0o600,
        );
        let s = Settings::load_with(&global_with(&p), env(&[])).unwrap();
        assert!(s.has_token());
        // No secret: any mode is fine.
        let p = write(dir.path(), "[gitlab]\nurl = \"https://g\"\n", 0o644);
        assert!(Settings::load_with(&global_with(&p), env(&[])).is_ok());
    }

    #[test]
    fn secrets_of_other_sections_count_too() {
        let mut cfg = FileConfig::default();
        assert!(!holds_secret(&cfg));
        cfg.planner.model = Some("m".into());
        assert!(!holds_secret(&cfg));
        cfg.gitlab.token = Some(SecretString::from("x".to_string()));
        assert!(holds_secret(&cfg));
        assert!(is_secret_key("api_key") && is_secret_key("gemini_api_key"));
        assert!(!is_secret_key("token_cmd") && !is_secret_key("token_budget"));
    }

    #[test]
    fn env_and_flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[gitlab]\nurl = \"https://file.example\"\nprojects = [\"a/b\"]\nrefresh_secs = 15\n[planner]\nprovider = \"gemini\"\n",
            0o600,
        );
        let s = Settings::load_with(&global_with(&p), env(&[])).unwrap();
        assert_eq!(s.gitlab_url(), "https://file.example");
        assert_eq!(s.project().unwrap(), "a/b");
        assert_eq!(s.refresh(), Duration::from_secs(15));

        let g = GlobalArgs {
            gitlab_url: Some("https://flag.example".into()),
            project: vec!["c/d".into()],
            read_only: true,
            provider: Some("rules".into()),
            refresh_secs: Some(10),
            ..global_with(&p)
        };
        let s = Settings::load_with(
            &g,
            env(&[
                ("GITLAB_TOKEN", "glpat-from-env-123456"),
                ("GITAIOPS__PLANNER__TOKEN_BUDGET", "16000"),
                ("GITAIOPS__POLICY__DENY", "merge_mr,cancel_pipeline"),
                ("GITAIOPS__POLICY__MODE", "suggest"),
                ("GITAIOPS__UI__ASCII", "true"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.gitlab_url(), "https://flag.example");
        assert_eq!(s.project().unwrap(), "c/d");
        assert!(s.read_only());
        assert_eq!(s.refresh(), Duration::from_secs(10));
        assert_eq!(s.file.planner.provider.as_deref(), Some("rules"));
        assert_eq!(s.file.planner.token_budget, Some(16000));
        assert_eq!(s.file.policy.deny, vec!["merge_mr", "cancel_pipeline"]);
        assert_eq!(s.file.policy.mode.as_deref(), Some("suggest"));
        assert!(s.file.ui.ascii);
        assert_eq!(
            s.token().unwrap().unwrap().expose_secret(),
            "glpat-from-env-123456"
        );
        let cc = s.client_config().unwrap();
        assert!(cc.read_only);
        assert_eq!(cc.base_url, "https://flag.example");
    }

    #[test]
    fn bad_env_overrides_are_errors() {
        let cfg = FileConfig::default();
        let e = apply_env_overrides(&cfg, env(&[("GITAIOPS__NOPE__X", "1")])).unwrap_err();
        assert!(e.to_string().contains("[nope]"));
        let e = apply_env_overrides(&cfg, env(&[("GITAIOPS__GITLAB__NOPE", "1")])).unwrap_err();
        assert!(e.to_string().contains("no key nope"));
        let e = apply_env_overrides(&cfg, env(&[("GITAIOPS__GITLAB__REFRESH_SECS", "soon")]))
            .unwrap_err();
        assert!(e.to_string().contains("does not fit"));
        // A numeric-looking string goes into a text key as text.
        let c = apply_env_overrides(&cfg, env(&[("GITAIOPS__PLANNER__MODEL", "123")])).unwrap();
        assert_eq!(c.planner.model.as_deref(), Some("123"));
    }

    #[test]
    fn token_cmd_runs_lazily_and_env_token_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.toml");
        let g = GlobalArgs {
            token_cmd: Some("echo glpat-from-command-999".into()),
            ..global_with(&p)
        };
        let s = Settings::load_with(&g, env(&[])).unwrap();
        assert!(s.has_token());
        assert_eq!(
            s.token().unwrap().unwrap().expose_secret(),
            "glpat-from-command-999"
        );
        let s = Settings::load_with(&g, env(&[("GITLAB_TOKEN", "glpat-env-0000000")])).unwrap();
        assert_eq!(
            s.token().unwrap().unwrap().expose_secret(),
            "glpat-env-0000000"
        );
        let g = GlobalArgs {
            token_cmd: Some("echo oops >&2; exit 3".into()),
            ..global_with(&p)
        };
        let e = Settings::load_with(&g, env(&[]))
            .unwrap()
            .token()
            .unwrap_err();
        assert!(e.to_string().contains("oops"), "{e}");
    }

    #[test]
    fn read_only_in_the_file_cannot_be_switched_off_by_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "[policy]\nread_only = true\n", 0o644);
        let s = Settings::load_with(
            &global_with(&p),
            env(&[("GITAIOPS__POLICY__READ_ONLY", "false")]),
        )
        .unwrap();
        assert!(s.read_only());
        assert!(s.client_config().unwrap().read_only);
        // Switched on by the environment: fine.
        let p = write(dir.path(), "[gitlab]\n", 0o644);
        let s = Settings::load_with(
            &global_with(&p),
            env(&[("GITAIOPS__POLICY__READ_ONLY", "true")]),
        )
        .unwrap();
        assert!(s.read_only());
    }

    #[test]
    fn user_info_in_the_gitlab_url_is_refused_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.toml");
        let g = GlobalArgs {
            gitlab_url: Some("https://alice:hunter2pass@gitlab.example.com".into()),
            ..global_with(&p)
        };
        let e = Settings::load_with(&g, env(&[])).unwrap_err().to_string();
        assert!(e.contains("user name or password"), "{e}");
        assert!(!e.contains("hunter2pass"), "{e}");
        let p = write(
            dir.path(),
            "[gitlab]\nurl = \"https://tok3nvalue@gitlab.example.com\"\n",
            0o644,
        );
        let e = Settings::load_with(&global_with(&p), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("tok3nvalue"), "{e}");
    }

    #[test]
    fn token_cmd_times_out_and_reports_safely() {
        let e = run_token_cmd("sleep 5", Duration::from_millis(200), "--token-cmd")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not finish within"), "{e}");
        // Leading blank lines are fine.
        let t = run_token_cmd(
            "printf '\\n\\n  glpat-after-blank-lines \\n'",
            TOKEN_CMD_TIMEOUT,
            "x",
        )
        .unwrap();
        assert_eq!(t.expose_secret(), "glpat-after-blank-lines");
        let e = run_token_cmd("printf '\\n\\n'", TOKEN_CMD_TIMEOUT, "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only blank lines"), "{e}");
        assert!(
            run_token_cmd("true", TOKEN_CMD_TIMEOUT, "x")
                .unwrap_err()
                .to_string()
                .contains("printed nothing")
        );
        // A silent failure says so instead of ending with an empty ": ".
        let e = run_token_cmd("false", TOKEN_CMD_TIMEOUT, "--token-cmd")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("and printed nothing on stderr"), "{e}");
        // stderr is redacted and made safe before it is shown.
        let e = run_token_cmd(
            "printf 'bad glpat-Leak1234567890abcdef \\033]52;c;eA==\\007\\n' >&2; exit 2",
            TOKEN_CMD_TIMEOUT,
            "--token-cmd",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--token-cmd failed"), "{e}");
        assert!(
            !e.contains("glpat-Leak") && !e.contains('\u{1b}') && !e.contains('\u{7}'),
            "{e:?}"
        );
    }

    #[test]
    fn a_401_names_token_cmd_when_that_is_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.toml");
        let g = GlobalArgs {
            token_cmd: Some("echo glpat-from-command-999".into()),
            ..global_with(&p)
        };
        let s = Settings::load_with(&g, env(&[])).unwrap();
        assert_eq!(s.client_config().unwrap().token_origin, "--token-cmd");
        let s = Settings::load_with(
            &global_with(&p),
            env(&[("GITLAB_TOKEN", "glpat-x-1234567")]),
        )
        .unwrap();
        assert_eq!(s.client_config().unwrap().token_origin, "GITLAB_TOKEN");
    }

    #[test]
    fn configured_secrets_are_registered_for_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[gitlab]\ntoken = \"legacyllmkey0001\"\n",
            0o600,
        );
        let _ = Settings::load_with(
            &global_with(&p),
            env(&[
                ("GEMINI_API_KEY", "legacytoken12345678"),
                ("OPENAI_API_KEY", "plainkey98765"),
            ]),
        )
        .unwrap();
        let out = crate::redact::redact("a legacytoken12345678 b legacyllmkey0001 c plainkey98765");
        assert!(
            !out.contains("legacytoken") && !out.contains("legacyllm") && !out.contains("plainkey"),
            "{out}"
        );
    }

    #[test]
    fn masking_never_reveals_more_than_four_characters() {
        assert_eq!(mask_secret("glpat-abcdefghijklmnop"), "glpa…(masked)");
        assert_eq!(mask_secret("short"), "(masked)");
        assert_eq!(mask_secret(""), "(masked)");
    }

    #[test]
    fn show_masks_the_token_and_never_prints_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.toml");
        let s = Settings::load_with(
            &global_with(&p),
            env(&[("GITLAB_TOKEN", "glpat-verysecretvalue")]),
        )
        .unwrap();
        let out = s.render_show();
        assert!(
            out.contains("token = \"glpa…(masked)\"  # from GITLAB_TOKEN"),
            "{out}"
        );
        assert!(!out.contains("verysecret"));
        assert!(!format!("{s:?}").contains("verysecret"));
        assert!(out.contains("[policy]") && out.contains("[planner]"));
        // Unset keys show the value in force, not "(unset)".
        for line in [
            "# refresh_secs = 12  (default)",
            "# request_timeout_secs = 15  (default)",
            "# url = \"https://gitlab.com\"  (default)",
            "# mode = \"approve\"  (default)",
        ] {
            assert!(out.contains(line), "{line}: {out}");
        }
    }

    #[test]
    fn shell_quoting_of_odd_paths() {
        assert_eq!(
            shell_quote("/home/a/.config/x.toml"),
            "/home/a/.config/x.toml"
        );
        assert_eq!(shell_quote("/tmp/my dir/c"), "'/tmp/my dir/c'");
        assert_eq!(shell_quote("/tmp/it's"), "'/tmp/it'\\''s'");
    }

    #[test]
    fn typos_in_the_file_are_named_and_maps_take_any_key() {
        let text = "[gitlab]\nrefesh_secs = 5\nurl = \"https://gitlab.example.com\"\n\
                    [planer]\nprovider = \"rules\"\n[ui.keymap]\nquit = \"Q\"\n";
        assert_eq!(unknown_keys_in(text), vec!["gitlab.refesh_secs", "planer"]);
        assert!(unknown_keys_in("[gitlab]\nrefresh_secs = 5\n").is_empty());
    }

    #[test]
    fn unknown_keys_suggest_the_nearest_known_key() {
        assert_eq!(suggest_key("gitlab.uri").as_deref(), Some("url"));
        assert_eq!(
            suggest_key("gitlab.refesh_secs").as_deref(),
            Some("refresh_secs")
        );
        assert_eq!(suggest_key("planer").as_deref(), Some("[planner]"));
        assert_eq!(
            suggest_key("planner.openai.temprature").as_deref(),
            Some("temperature")
        );
        // The right name in the wrong section.
        assert_eq!(
            suggest_key("gitlab.read_only").as_deref(),
            Some("[policy] read_only")
        );
        assert_eq!(suggest_key("gitlab.completely_else"), None);
    }
}
