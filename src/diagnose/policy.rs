//! What to propose after a diagnosis. Only one command is ever proposed here, `retry_job`, and
//! only when the cause lies outside the code (runner/system failures per GitLab's
//! `failure_reason`, or a network/flaky cause): retrying a real test or build failure wastes
//! runner time and hides the bug.

use super::model::{Category, Diagnosis, JobContext};
use crate::command::Command;

/// Sets `infra_or_flaky` and `commands` from the category and GitLab's `failure_reason`.
pub fn apply(d: &mut Diagnosis, ctx: &JobContext) {
    let infra_reason = ctx
        .failure_reason
        .as_ref()
        .is_some_and(|r| r.is_infrastructure());
    d.infra_or_flaky = infra_reason || d.category.is_infra_or_flaky();
    d.commands.clear();
    if !d.infra_or_flaky || real_failure(d.category) && !infra_reason {
        return;
    }
    let (Some(project), Some(job_id)) = (ctx.project.clone(), ctx.job_id) else {
        return;
    };
    let reason = match &ctx.failure_reason {
        Some(r) if infra_reason => {
            format!("GitLab failure_reason `{r}` is an infrastructure cause")
        }
        _ => format!("diagnosed as {}", d.category.label()),
    };
    d.commands.push(Command::RetryJob {
        project,
        job_id,
        rationale: format!("Retry: {reason}; {}", d.summary),
        confidence: Some(d.confidence),
        evidence: d
            .evidence
            .iter()
            .take(3)
            .map(|e| format!("line {}: {}", e.line, e.text))
            .collect(),
    });
}

/// Categories that mean the code (or its tests, build, config) is wrong: never retried.
fn real_failure(c: Category) -> bool {
    !c.is_infra_or_flaky()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::models::FailureReason;

    fn diag(category: Category) -> Diagnosis {
        Diagnosis {
            category,
            summary: "s".into(),
            root_cause: String::new(),
            evidence: vec![],
            files: vec![],
            tests: vec![],
            fix: String::new(),
            confidence: 0.7,
            infra_or_flaky: false,
            commands: vec![],
            secrets: Vec::new(),
        }
    }

    fn ctx(reason: Option<FailureReason>) -> JobContext {
        JobContext {
            project: Some("acme/platform".into()),
            job_id: Some(42),
            failure_reason: reason,
            ..Default::default()
        }
    }

    #[test]
    fn retry_only_for_infra_or_flaky() {
        let mut d = diag(Category::NetworkOrFlaky);
        apply(&mut d, &ctx(Some(FailureReason::ScriptFailure)));
        assert!(d.infra_or_flaky);
        assert!(matches!(
            d.commands[..],
            [Command::RetryJob { job_id: 42, .. }]
        ));

        for c in [
            Category::TestAssertion,
            Category::CompileError,
            Category::LintFailure,
            Category::TimeoutOrOom,
            Category::Unknown,
        ] {
            let mut d = diag(c);
            apply(&mut d, &ctx(Some(FailureReason::ScriptFailure)));
            assert!(d.commands.is_empty(), "{c:?}");
            assert!(!d.infra_or_flaky);
        }
    }

    #[test]
    fn runner_failure_reason_is_retried_whatever_the_log_says() {
        let mut d = diag(Category::Infrastructure);
        apply(&mut d, &ctx(Some(FailureReason::RunnerSystemFailure)));
        assert_eq!(d.commands.len(), 1);
    }

    #[test]
    fn no_command_without_a_job() {
        let mut d = diag(Category::NetworkOrFlaky);
        apply(&mut d, &JobContext::default());
        assert!(d.infra_or_flaky);
        assert!(d.commands.is_empty());
    }
}
