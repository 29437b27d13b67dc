//! The planner's prompt: system instruction, user message (the snapshot context) and response
//! schema, from the templates in `assets/prompts/`. The template version goes into the audit
//! record with each proposal.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::fence::Fence;
use super::schema::{MAX_COMMANDS, kinds_summary, provider_schema};
use super::snapshot::{ContextOptions, JobLogs, build_context, estimate_tokens};
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::redact::redact_owned;

const SYSTEM_TEMPLATE: &str = include_str!("../../assets/prompts/plan_system.md");
const USER_TEMPLATE: &str = include_str!("../../assets/prompts/plan_user.md");
const REASK_TEMPLATE: &str = include_str!("../../assets/prompts/plan_reask.md");

/// Bumped by hand when the prompt's meaning changes; the hash suffix changes with any edit.
const TEMPLATE_SERIES: &str = "plan-2";

/// `plan-2+<8 hex of the templates' sha256>`: recorded with every proposal.
pub static TEMPLATE_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for t in [SYSTEM_TEMPLATE, USER_TEMPLATE, REASK_TEMPLATE] {
        h.update(t.as_bytes());
        h.update([0]);
    }
    format!("{TEMPLATE_SERIES}+{}", &hex(&h.finalize())[..8])
});

/// A prompt ready for a provider.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    /// The response schema (`schema::provider_schema`).
    pub schema: Value,
    pub template_version: String,
    /// Project full path the commands must name.
    pub project: String,
    /// Estimated tokens of system + user + schema.
    pub est_tokens: usize,
    /// What the budget left out (also stated in the prompt).
    pub omitted: Vec<String>,
    nonce: String,
}

#[derive(Debug, Clone)]
pub struct PromptOptions {
    /// Whole-prompt budget in tokens (`[planner] token_budget`).
    pub token_budget: usize,
    pub stale_days: i64,
    pub log_lines: usize,
}

impl Default for PromptOptions {
    fn default() -> Self {
        Self {
            token_budget: super::snapshot::DEFAULT_TOKEN_BUDGET,
            stale_days: 7,
            log_lines: 20,
        }
    }
}

fn fill(template: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the prompt for a snapshot. `fence` carries the nonce (random in production).
pub fn build_prompt(
    snap: &ProjectSnapshot,
    logs: &JobLogs,
    now: Timestamp,
    fence: &Fence,
    opts: &PromptOptions,
) -> Prompt {
    let project = snap.path().to_string();
    let mut vars = BTreeMap::new();
    vars.insert("kinds", kinds_summary());
    vars.insert("project", project.clone());
    vars.insert("max_commands", MAX_COMMANDS.to_string());
    vars.insert("tag", format!("{}-{}", super::fence::TAG, fence.nonce()));
    let system = fill(SYSTEM_TEMPLATE, &vars);
    let schema = provider_schema();
    let fixed = estimate_tokens(&system)
        + estimate_tokens(&schema.to_string())
        + estimate_tokens(USER_TEMPLATE)
        + estimate_tokens(&project);
    let ctx_opts = ContextOptions {
        budget_tokens: opts.token_budget.saturating_sub(fixed),
        stale_days: opts.stale_days,
        log_lines: opts.log_lines,
        ..ContextOptions::default()
    };
    let ctx = build_context(snap, logs, now, fence, &ctx_opts);
    vars.insert("context", ctx.text);
    // Free text was redacted when fenced; this pass covers everything else once more.
    let user = redact_owned(fill(USER_TEMPLATE, &vars));
    let est_tokens = fixed + ctx.tokens;
    Prompt {
        system,
        user,
        schema,
        template_version: TEMPLATE_VERSION.clone(),
        project,
        est_tokens,
        omitted: ctx.omitted,
        nonce: fence.nonce().to_string(),
    }
}

impl Prompt {
    /// The parts a provider sends.
    pub fn parts(&self) -> crate::llm::provider::PromptParts<'_> {
        crate::llm::provider::PromptParts {
            system: &self.system,
            user: &self.user,
            schema: &self.schema,
        }
    }

    /// A prompt from parts (providers' tests, the rules planner's bookkeeping).
    pub fn from_parts(system: &str, user: &str, project: &str) -> Prompt {
        Prompt {
            system: system.to_string(),
            user: user.to_string(),
            schema: provider_schema(),
            template_version: TEMPLATE_VERSION.clone(),
            project: project.to_string(),
            est_tokens: estimate_tokens(system) + estimate_tokens(user),
            omitted: Vec::new(),
            nonce: String::new(),
        }
    }

    /// Cache key material: the prompt with its random nonce masked, so the same snapshot gives
    /// the same hash across runs.
    pub fn hash(&self) -> String {
        let mask = |s: &str| {
            if self.nonce.is_empty() {
                s.to_string()
            } else {
                s.replace(&self.nonce, "NONCE")
            }
        };
        let mut h = Sha256::new();
        h.update(mask(&self.system).as_bytes());
        h.update([0]);
        h.update(mask(&self.user).as_bytes());
        h.update([0]);
        h.update(self.schema.to_string().as_bytes());
        hex(&h.finalize())
    }

    /// The corrective follow-up carrying the validator's errors.
    pub fn reask(errors: &[String]) -> String {
        let list: Vec<String> = errors
            .iter()
            .take(20)
            .map(|e| format!("- {}", super::fence::clean(e, 400)))
            .collect();
        let mut vars = BTreeMap::new();
        vars.insert("errors", list.join("\n"));
        redact_owned(fill(REASK_TEMPLATE, &vars))
    }

    /// What `plan --dry-prompt` prints.
    pub fn display(&self) -> String {
        let schema = serde_json::to_string_pretty(&self.schema).unwrap_or_default();
        format!(
            "=== system (template {}) ===\n{}\n=== user (~{} tokens in all) ===\n{}\n=== response schema ===\n{}\n",
            self.template_version, self.system, self.est_tokens, self.user, schema
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::snapshot::tests::{now, sample};

    #[test]
    fn prompt_carries_kinds_rules_and_fenced_context() {
        let p = build_prompt(
            &sample(),
            &JobLogs::new(),
            now(),
            &Fence::with_nonce("abc123"),
            &PromptOptions::default(),
        );
        assert!(p.system.contains("- retry_job (job_id)"));
        assert!(p.system.contains("Never propose `merge_mr` unless"));
        assert!(p.system.contains("<untrusted-abc123>"));
        assert!(p.system.contains("\"project\": \"acme/platform\""));
        assert!(!p.system.contains("{{"), "unfilled placeholder");
        assert!(p.user.contains("## Blocked merge requests"));
        assert!(!p.user.contains("{{"));
        assert!(p.template_version.starts_with("plan-2+"));
        // The example is placeholders, never a plausible fact a small model copies.
        assert!(p.system.contains("\"job_id\": <JOB_ID>"));
        assert!(!p.system.contains("4711"));
        assert!(p.est_tokens < 32_000);
    }

    #[test]
    fn hash_ignores_the_nonce_but_not_the_content() {
        let o = PromptOptions::default();
        let a = build_prompt(
            &sample(),
            &JobLogs::new(),
            now(),
            &Fence::with_nonce("n1aaaa"),
            &o,
        );
        let b = build_prompt(
            &sample(),
            &JobLogs::new(),
            now(),
            &Fence::with_nonce("n2bbbb"),
            &o,
        );
        assert_ne!(a.user, b.user);
        assert_eq!(a.hash(), b.hash());
        let mut other = sample();
        std::sync::Arc::make_mut(&mut other.mrs).remove(&44);
        let c = build_prompt(
            &other,
            &JobLogs::new(),
            now(),
            &Fence::with_nonce("n1aaaa"),
            &o,
        );
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn whole_prompt_respects_the_budget() {
        let o = PromptOptions {
            token_budget: 3_500,
            ..Default::default()
        };
        let p = build_prompt(&sample(), &JobLogs::new(), now(), &Fence::random(), &o);
        assert!(p.est_tokens <= 3_500, "{}", p.est_tokens);
    }

    #[test]
    fn reask_lists_errors_redacted() {
        let t = Prompt::reask(&[
            "commands[0]: job 9 is not in the snapshot".into(),
            "token glpat-Abc123xYz789DefGhi012".into(),
        ]);
        assert!(t.contains("- commands[0]: job 9 is not in the snapshot"));
        assert!(!t.contains("glpat-Abc"));
    }
}
