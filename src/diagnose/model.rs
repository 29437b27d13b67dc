//! The diagnosis of a failed job, shared by the rules engine, the LLM path, the CLI and the TUI.

use serde::{Deserialize, Serialize};

use super::log::LogIndex;
use crate::command::Command;
use crate::gitlab::models::FailureReason;

/// Failure category: LogDx's 13 prediction values plus `infrastructure` (runner/system
/// failures). `github_actions_config` keeps LogDx's name on the wire; it means "CI
/// configuration" for any CI system and is displayed that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TestAssertion,
    CompileError,
    TypeError,
    LintFailure,
    FormattingFailure,
    DependencyInstall,
    DockerBuild,
    GithubActionsConfig,
    PermissionOrSecret,
    NetworkOrFlaky,
    TimeoutOrOom,
    Infrastructure,
    Unknown,
    Other,
}

impl Category {
    pub const ALL: [Category; 14] = [
        Category::TestAssertion,
        Category::CompileError,
        Category::TypeError,
        Category::LintFailure,
        Category::FormattingFailure,
        Category::DependencyInstall,
        Category::DockerBuild,
        Category::GithubActionsConfig,
        Category::PermissionOrSecret,
        Category::NetworkOrFlaky,
        Category::TimeoutOrOom,
        Category::Infrastructure,
        Category::Unknown,
        Category::Other,
    ];

    /// The wire name (`snake_case`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::TestAssertion => "test_assertion",
            Category::CompileError => "compile_error",
            Category::TypeError => "type_error",
            Category::LintFailure => "lint_failure",
            Category::FormattingFailure => "formatting_failure",
            Category::DependencyInstall => "dependency_install",
            Category::DockerBuild => "docker_build",
            Category::GithubActionsConfig => "github_actions_config",
            Category::PermissionOrSecret => "permission_or_secret",
            Category::NetworkOrFlaky => "network_or_flaky",
            Category::TimeoutOrOom => "timeout_or_oom",
            Category::Infrastructure => "infrastructure",
            Category::Unknown => "unknown",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Human label for panels and terminal output.
    pub fn label(self) -> &'static str {
        match self {
            Category::TestAssertion => "test failure",
            Category::CompileError => "compile error",
            Category::TypeError => "type-check error",
            Category::LintFailure => "lint/format check",
            Category::FormattingFailure => "formatting check",
            Category::DependencyInstall => "dependency install",
            Category::DockerBuild => "docker build",
            Category::GithubActionsConfig => "CI configuration",
            Category::PermissionOrSecret => "permission or secret",
            Category::NetworkOrFlaky => "network or flaky",
            Category::TimeoutOrOom => "timeout or OOM",
            Category::Infrastructure => "infrastructure",
            Category::Unknown => "unknown",
            Category::Other => "other",
        }
    }

    /// The LogDx prediction vocabulary has no `infrastructure`: runner and system failures are
    /// "clearly none of the above" there.
    pub fn logdx(self) -> &'static str {
        match self {
            Category::Infrastructure => "other",
            c => c.as_str(),
        }
    }

    /// Causes outside the code under test, for which retrying the job is a reasonable answer.
    pub fn is_infra_or_flaky(self) -> bool {
        matches!(self, Category::Infrastructure | Category::NetworkOrFlaky)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A verbatim quote of one log line. `line` is 1-based (as shown to people and models); `text`
/// is a substring of that line's plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub category: Category,
    /// One sentence.
    pub summary: String,
    pub root_cause: String,
    pub evidence: Vec<Evidence>,
    /// Source files a person would open to fix it (repository-relative when recognisable).
    pub files: Vec<String>,
    /// Failing test ids as the tool printed them.
    pub tests: Vec<String>,
    pub fix: String,
    /// 0..=1
    pub confidence: f64,
    /// True when the cause is outside the code (runner, network, flaky service): the only case
    /// where a retry is proposed.
    pub infra_or_flaky: bool,
    /// Proposed commands (only `retry_job`, only for infra/flaky causes); they go to the queue
    /// for approval like any other.
    pub commands: Vec<Command>,
    /// Secrets the job printed into its log (redacted everywhere here, but in GitLab's copy of
    /// the trace): they must be rotated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<super::secrets::SecretFinding>,
}

/// What is known about the failed job besides its log. Everything is optional: an offline
/// `--log FILE` has none of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobContext {
    /// GitLab project path (needed to propose commands).
    pub project: Option<String>,
    pub job_id: Option<u64>,
    pub job_name: Option<String>,
    pub stage: Option<String>,
    /// Pipeline or workflow name.
    pub workflow: Option<String>,
    /// Repository name (owner/name) when different from `project`.
    pub repo: Option<String>,
    /// Test framework or toolchain hint (LogDx `framework`).
    pub framework: Option<String>,
    pub failure_reason: Option<FailureReason>,
    pub allow_failure: bool,
}

impl Diagnosis {
    /// What the operator must do about secrets the job printed, when it printed any.
    pub fn secrets_warning(&self) -> Option<String> {
        if self.secrets.is_empty() {
            return None;
        }
        Some(format!(
            "this log printed secrets: {}. They are hidden here, but GitLab's copy of the \
             log shows them to anyone who can read this job: rotate them, then mask the \
             variables or stop printing them.",
            super::secrets::describe(&self.secrets)
        ))
    }

    /// Secrets out of every text that came from the log (evidence quotes, and summaries or
    /// names built from log lines): a diagnosis is shown, queued as a command's evidence and
    /// audited. Runs after `verify_evidence`, which needs the raw text.
    pub fn redact(&mut self) {
        use crate::redact::redact_owned;
        let r = |s: &mut String| *s = redact_owned(std::mem::take(s));
        r(&mut self.summary);
        r(&mut self.root_cause);
        r(&mut self.fix);
        self.evidence.iter_mut().for_each(|e| r(&mut e.text));
        self.files.iter_mut().for_each(r);
        self.tests.iter_mut().for_each(r);
    }

    /// Drops every evidence quote that is not verbatim in the plain text of the line it names
    /// (after trimming). Returns how many were dropped.
    pub fn verify_evidence(&mut self, log: &LogIndex) -> usize {
        let before = self.evidence.len();
        self.evidence.retain_mut(|e| {
            let quote = e.text.trim();
            if quote.is_empty() || e.line == 0 || e.line > log.line_count() {
                return false;
            }
            if !log.plain_cow(e.line - 1).contains(quote) {
                return false;
            }
            if quote.len() != e.text.len() {
                e.text = quote.to_string();
            }
            true
        });
        let mut seen = std::collections::HashSet::new();
        self.evidence
            .retain(|e| seen.insert((e.line, e.text.clone())));
        before - self.evidence.len()
    }
}
