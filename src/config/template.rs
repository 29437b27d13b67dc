//! `gitaiops config init`: the commented default config. Every key is listed, commented out,
//! with its default and one line saying what it does; a test uncomments them all and checks
//! that the result is every key `FileConfig` reads, no more, no less.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::UsageError;

/// Every setting, commented out, at its default. `# key = value` lines are settings; other
/// comment lines are explanations.
pub const DEFAULT_CONFIG: &str = r#"# gitaiops configuration. Every setting is shown commented out at its default; uncomment and
# change what you need. Environment variables override the file: GITAIOPS__<SECTION>__<KEY>
# (GITAIOPS__POLICY__MODE=suggest) for any key, and the named ones (GITLAB_HOST, GITLAB_TOKEN,
# GITAIOPS_PROJECT, ...) as `gitaiops --help` lists them; flags override both.
# `gitaiops config show` prints what is in force and where each value came from.

[gitlab]
# GitLab base URL or host (env GITLAB_HOST, flag --gitlab-url)
# url = "https://gitlab.com"
# Personal access token: prefer GITLAB_TOKEN or token_cmd; a file holding one must be mode 0600
# token = "glpat-..."
# A command that prints the token (a password manager), run only when a token is needed
# token_cmd = "pass show gitlab"
# Extra CA bundle (PEM) trusted on top of the system store
# ca_file = "/etc/ssl/private-ca.pem"
# Projects to watch, full paths; the first is the default for headless commands
# projects = ["group/app"]
# Groups to watch: every active, non-archived project of each (flag --group); their MRs cost
# one request per refresh
# groups = ["platform"]
# Refresh period in seconds (2-3600)
# refresh_secs = 12
# Whole-request timeout in seconds
# request_timeout_secs = 15
# Connection timeout in seconds
# connect_timeout_secs = 5
# Job logs larger than this many MB keep only their last part
# max_trace_mb = 32

[policy]
# Refuse every request that is not a GET; once on, no variable or flag turns it off
# read_only = false
# "approve": commands run after the operator approves them; "suggest": shown, never executed
# mode = "approve"
# Command kinds that are never accepted (e.g. ["merge_mr"])
# deny = []
# Low and medium risk kinds approved without asking; high risk is never auto-approved
# auto_approve = []

[planner]
# gemini, openai or rules (default: gemini with GEMINI_API_KEY, openai with OPENAI_BASE_URL, else rules)
# provider = "rules"
# Model name (default: the provider's default)
# model = "gemini-3.8-flash"
# Prompt token budget (6000 for a local server that does not say its context)
# token_budget = 32000
# Plan automatically every N seconds (default off: plans run on `p`, new failures and new MRs)
# interval_secs = 600
# Provider base URL when GEMINI_BASE_URL / OPENAI_BASE_URL are unset
# base_url = "http://127.0.0.1:8080/v1"
# Idle timeout of a model call in seconds (600 for a server on this machine or network)
# timeout_secs = 120
# Output cap per call, thinking included (2048 for a local server)
# max_output_tokens = 8192
# Quiet seconds after a new failure or MR before planning
# debounce_secs = 20
# Days without activity that make an MR stale
# stale_days = 7
# USD per million input tokens, overriding the built-in list price of the model
# price_input_per_mtok = 0.3
# USD per million output tokens, overriding the built-in list price of the model
# price_output_per_mtok = 2.5

# Per-provider settings override [planner] for that provider ([planner.openai] has the same keys)
[planner.gemini]
# Longest silence from the server in seconds, the wait for the first token included
# timeout_secs = 120
# Prompt token budget, never more than the server's context leaves room for
# token_budget = 32000
# Output cap per call, thinking included
# max_output_tokens = 8192
# Stream answers (progress and an idle timeout)
# stream = true
# openai: "strict" (OpenAI Structured Outputs) or "relaxed" (bounded, for llama.cpp/Ollama/vLLM)
# schema = "strict"
# openai: "max_tokens" or "max_completion_tokens"
# token_param = "max_completion_tokens"
# openai: sampling temperature; a negative value leaves it out
# temperature = 0.1

[planner.openai]
# As [planner.gemini]; the defaults for a server on this machine or network are the local ones
# timeout_secs = 600
# token_budget = 6000
# max_output_tokens = 2048
# stream = true
# schema = "relaxed"
# token_param = "max_tokens"
# temperature = 0.1

[ui]
# Plain ASCII symbols and borders for terminals without Unicode (flag --ascii)
# ascii = false
# Built-in colours: "dark", "light" (for light backgrounds) or "high-contrast"
# theme = "dark"
# A skin file overriding named colour roles of the theme (see README, "Themes")
# skin = "~/.config/gitaiops/skin.toml"
# `y` copies the selected MR/pipeline/job address with OSC 52 (works over SSH; in tmux with
# `set -g set-clipboard on`); false for terminals that refuse or show the sequence
# osc52 = true
# MR (!19) and pipeline (#4213) ids are clickable OSC 8 hyperlinks to their GitLab pages (only
# http(s) addresses of the instance itself); default on, off when TERM is linux or dumb
# hyperlinks = true

# Key overrides: action = "keys" (see assets/keymap.toml for the actions and key specs)
[ui.keymap]
# refresh = "ctrl-r"

[audit]
# Audit log path (default: audit.jsonl in the XDG state dir)
# path = "~/.local/state/gitaiops/audit.jsonl"

# More GitLab instances, each with its own token and projects or groups; the overview shows
# them all. Repeat the block for each.
# [[instances]]
# name = "corp"
# url = "https://git.corp.example"
# token_env = "CORP_GITLAB_TOKEN"      # or token_cmd = "pass show corp-gitlab", or token = "..."
# ca_file = "/etc/ssl/corp-ca.pem"
# read_only = true
# projects = ["infra/terraform"]
# groups = ["sre"]
"#;

/// The template with the token line filled in, when asked for.
pub fn render(token: Option<&str>) -> String {
    match token {
        None => DEFAULT_CONFIG.to_string(),
        Some(t) => {
            let value = toml::Value::String(t.to_string()).to_string();
            DEFAULT_CONFIG.replacen("# token = \"glpat-...\"", &format!("token = {value}"), 1)
        }
    }
}

/// Writes the template to `path` with mode 0600 (through a temporary file renamed into place,
/// so a failed write leaves no half file). An existing file is kept unless `force`.
pub fn write_new(path: &Path, force: bool, token: Option<&str>) -> anyhow::Result<()> {
    if path.exists() && !force {
        return Err(UsageError(format!(
            "{} exists; pass --force to replace it",
            path.display()
        ))
        .into());
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(render(token).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FileConfig;

    /// The template with every `# key = value` line uncommented.
    fn uncommented() -> String {
        // Keys, and the `[[instances]]` header of the commented example block.
        let re = regex::Regex::new(r"^# ([a-z_]+ = .*|\[\[[a-z]+\]\])$").unwrap();
        DEFAULT_CONFIG
            .lines()
            .map(|l| match re.captures(l) {
                Some(c) => c[1].to_string(),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Dotted paths of every leaf key of a JSON tree (`ui.keymap`, a map, counts as a leaf).
    fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(o) = v.as_object() {
            if o.is_empty() && !prefix.is_empty() {
                out.push(prefix.to_string());
            }
            for (k, v) in o {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() {
                    leaves(&p, v, out);
                } else {
                    out.push(p);
                }
            }
        }
    }

    #[test]
    fn the_template_lists_every_setting_and_nothing_else() {
        let text = uncommented();
        let unknown = crate::config::unknown_keys_in(&text);
        assert!(
            unknown.is_empty(),
            "unknown keys in the template: {unknown:?}"
        );
        let cfg: FileConfig = toml::from_str(&text).unwrap();
        let mut have = Vec::new();
        leaves("", &serde_json::to_value(&cfg).unwrap(), &mut have);
        let mut want = Vec::new();
        leaves(
            "",
            &serde_json::to_value(FileConfig::default()).unwrap(),
            &mut want,
        );
        want.push("gitlab.token".into());
        want.push("ui.keymap.refresh".into());
        want.retain(|k| k != "ui.keymap");
        have.sort();
        want.sort();
        assert_eq!(have, want);
        // Commented out, the template is exactly the defaults.
        let plain: FileConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(
            serde_json::to_value(plain).unwrap(),
            serde_json::to_value(FileConfig::default()).unwrap()
        );
    }

    #[test]
    fn init_writes_0600_refuses_to_overwrite_and_keeps_the_token_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/config.toml");
        write_new(&p, false, None).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, DEFAULT_CONFIG);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let e = write_new(&p, false, Some("glpat-x")).unwrap_err();
        assert!(e.downcast_ref::<UsageError>().is_some(), "{e}");
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), DEFAULT_CONFIG);
        write_new(&p, true, Some("glpat-asked-for-1234")).unwrap();
        let cfg = crate::config::load_file(&p).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            cfg.gitlab.token.unwrap().expose_secret(),
            "glpat-asked-for-1234"
        );
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
