//! Policy: what may run at all, and what may run without asking.
//!
//! Built from the config's `[policy]` section plus `--read-only` / `GITAIOPS_READ_ONLY=1`.
//! Read-only is also enforced by the HTTP client (no non-GET request can leave); the policy
//! refuses earlier so the operator sees why, and nothing reaches the executor.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::model::Kind;
use super::risk::Risk;

/// `[policy]` in the config file.
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
    /// More words (prefixes of a word of a job's name or stage) that mark a deploy job, beside
    /// the built-in deploy, prod, release, rollout, staging, …: playing such a job is high risk.
    pub deploy_patterns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Commands run after the operator approves them.
    #[default]
    Approve,
    /// Commands are shown and never executed.
    Suggest,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Policy {
    pub read_only: bool,
    pub mode: Mode,
    pub deny: BTreeSet<Kind>,
    pub auto_approve: BTreeSet<Kind>,
    /// `[policy] deploy_patterns`, lowercased: added to the built-in deploy words.
    pub deploy_patterns: Vec<String>,
}

impl Policy {
    /// Reads the config section; the flag/env can only make it stricter. Unknown kind names and
    /// auto-approval of always-high-risk kinds are errors, not silently ignored.
    pub fn from_config(section: &PolicySection, read_only_flag: bool) -> Result<Policy, String> {
        let mode = match section.mode.as_deref().map(str::trim) {
            None | Some("") | Some("approve") => Mode::Approve,
            Some("suggest") => Mode::Suggest,
            Some(other) => {
                return Err(format!(
                    "policy.mode = \"{other}\": expected \"approve\" or \"suggest\""
                ));
            }
        };
        let kinds = |key: &str, names: &[String]| -> Result<BTreeSet<Kind>, String> {
            names
                .iter()
                .map(|n| {
                    Kind::parse(n.trim()).ok_or_else(|| {
                        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                        format!(
                            "policy.{key}: unknown command kind \"{n}\"; known: {}",
                            all.join(", ")
                        )
                    })
                })
                .collect()
        };
        let deny = kinds("deny", &section.deny)?;
        let auto_approve = kinds("auto_approve", &section.auto_approve)?;
        for k in &auto_approve {
            if matches!(k, Kind::MergeMr | Kind::CancelPipeline) {
                return Err(format!(
                    "policy.auto_approve: {k} is always high risk and is never auto-approved"
                ));
            }
        }
        let mut deploy_patterns = Vec::new();
        for p in &section.deploy_patterns {
            let w = p.trim().to_ascii_lowercase();
            // Matched against words split at anything not a letter or digit.
            if w.is_empty() || !w.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "policy.deploy_patterns: \"{p}\" is not a word (letters and digits; it \
                     matches the start of a word of a job's name or stage)"
                ));
            }
            deploy_patterns.push(w);
        }
        Ok(Policy {
            read_only: section.read_only || read_only_flag,
            mode,
            deny,
            auto_approve,
            deploy_patterns,
        })
    }

    /// Whether a command of this kind may even enter the queue as a candidate.
    pub fn admits(&self, kind: Kind) -> Result<(), String> {
        if self.deny.contains(&kind) {
            Err(format!("denied by policy (policy.deny includes {kind})"))
        } else {
            Ok(())
        }
    }

    /// Whether anything that calls GitLab may be executed in this session.
    pub fn may_execute(&self, kind: Kind) -> Result<(), String> {
        self.admits(kind)?;
        if kind == Kind::Note {
            return Ok(());
        }
        if self.read_only {
            return Err("read-only mode: nothing is sent to GitLab".into());
        }
        if self.mode == Mode::Suggest {
            return Err("suggest mode: commands are shown, never executed".into());
        }
        Ok(())
    }

    /// High risk is never auto-approved, whatever the config says.
    pub fn auto_approves(&self, kind: Kind, risk: Risk) -> bool {
        risk != Risk::High && self.auto_approve.contains(&kind) && self.may_execute(kind).is_ok()
    }

    /// One line for status bars and `apply`'s header.
    pub fn describe(&self) -> String {
        let mut parts = vec![match (self.read_only, self.mode) {
            (true, _) => "read-only".to_string(),
            (false, Mode::Suggest) => "suggest (never executes)".to_string(),
            (false, Mode::Approve) => "approve".to_string(),
        }];
        if !self.deny.is_empty() {
            let d: Vec<&str> = self.deny.iter().map(|k| k.as_str()).collect();
            parts.push(format!("deny {}", d.join(",")));
        }
        if !self.auto_approve.is_empty() {
            let a: Vec<&str> = self.auto_approve.iter().map(|k| k.as_str()).collect();
            parts.push(format!("auto-approve {}", a.join(",")));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(mode: Option<&str>, deny: &[&str], auto: &[&str]) -> PolicySection {
        PolicySection {
            read_only: false,
            mode: mode.map(String::from),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            auto_approve: auto.iter().map(|s| s.to_string()).collect(),
            deploy_patterns: Vec::new(),
        }
    }

    #[test]
    fn deploy_patterns_are_lowercased_words() {
        let s = PolicySection {
            deploy_patterns: vec!["Ship".into(), " cutover ".into()],
            ..PolicySection::default()
        };
        let p = Policy::from_config(&s, false).unwrap();
        assert_eq!(p.deploy_patterns, ["ship", "cutover"]);
        for bad in ["", "deploy:*", "go live"] {
            let s = PolicySection {
                deploy_patterns: vec![bad.into()],
                ..PolicySection::default()
            };
            let e = Policy::from_config(&s, false).unwrap_err();
            assert!(e.contains("policy.deploy_patterns"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn defaults_approve_nothing_automatically() {
        let p = Policy::from_config(&PolicySection::default(), false).unwrap();
        assert_eq!(p.mode, Mode::Approve);
        assert!(!p.read_only);
        for &k in Kind::ALL {
            assert!(!p.auto_approves(k, Risk::Low));
            assert!(p.may_execute(k).is_ok());
        }
    }

    #[test]
    fn read_only_from_flag_or_file() {
        let p = Policy::from_config(&PolicySection::default(), true).unwrap();
        assert!(p.read_only);
        assert!(
            p.may_execute(Kind::RetryJob)
                .unwrap_err()
                .contains("read-only")
        );
        assert!(p.may_execute(Kind::Note).is_ok(), "a note calls nothing");
        let s = PolicySection {
            read_only: true,
            ..PolicySection::default()
        };
        assert!(Policy::from_config(&s, false).unwrap().read_only);
    }

    #[test]
    fn suggest_never_executes() {
        let p = Policy::from_config(&section(Some("suggest"), &[], &["retry_job"]), false).unwrap();
        assert!(
            p.may_execute(Kind::RetryJob)
                .unwrap_err()
                .contains("suggest")
        );
        assert!(!p.auto_approves(Kind::RetryJob, Risk::Low));
    }

    #[test]
    fn deny_and_auto_approve() {
        let p = Policy::from_config(
            &section(None, &["rebase_mr"], &["retry_job", "play_job"]),
            false,
        )
        .unwrap();
        assert!(
            p.admits(Kind::RebaseMr)
                .unwrap_err()
                .contains("policy.deny")
        );
        assert!(p.may_execute(Kind::RebaseMr).is_err());
        assert!(p.auto_approves(Kind::RetryJob, Risk::Low));
        assert!(p.auto_approves(Kind::PlayJob, Risk::Medium));
        assert!(
            !p.auto_approves(Kind::PlayJob, Risk::High),
            "a deploy is never automatic"
        );
        assert!(!p.auto_approves(Kind::CommentMr, Risk::Low));
    }

    #[test]
    fn bad_config_is_a_clear_error() {
        let e = Policy::from_config(&section(Some("yolo"), &[], &[]), false).unwrap_err();
        assert!(e.contains("policy.mode"), "{e}");
        let e = Policy::from_config(&section(None, &["drop_db"], &[]), false).unwrap_err();
        assert!(e.contains("unknown command kind \"drop_db\""), "{e}");
        let e = Policy::from_config(&section(None, &[], &["merge_mr"]), false).unwrap_err();
        assert!(e.contains("never auto-approved"), "{e}");
    }
}
