//! Risk is decided by code from the design's table, never by the model.

use serde::{Deserialize, Serialize};

use crate::gitlab::ProjectSnapshot;

use super::model::Command;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Risk {
    /// No GitLab call at all.
    #[default]
    None,
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The risk of executing `cmd`. A `play_job` whose job is unknown is treated as a deploy: the
/// cautious answer when we cannot tell.
pub fn risk(cmd: &Command, snap: &ProjectSnapshot) -> Risk {
    risk_with(cmd, snap, &[])
}

/// [`risk`], with the project's own deploy words (`[policy] deploy_patterns`) added to the
/// built-in ones: they can only raise a `play_job` to high, never lower one.
pub fn risk_with(cmd: &Command, snap: &ProjectSnapshot, deploy_patterns: &[String]) -> Risk {
    match cmd {
        Command::Note { .. } => Risk::None,
        Command::CommentMr { .. } | Command::SetLabels { .. } | Command::RetryJob { .. } => {
            Risk::Low
        }
        Command::AssignReviewers { .. }
        | Command::RetryPipeline { .. }
        | Command::RebaseMr { .. } => Risk::Medium,
        Command::PlayJob { job_id, .. } => match snap.job(*job_id) {
            Some(job) if !job.deploys_with(deploy_patterns) => Risk::Medium,
            _ => Risk::High,
        },
        Command::CancelPipeline { .. } | Command::MergeMr { .. } => Risk::High,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::validate::tests::snap;
    use serde_json::json;

    fn r(v: serde_json::Value) -> Risk {
        risk(&serde_json::from_value(v).unwrap(), &snap())
    }

    #[test]
    fn table_from_the_design() {
        let p = "g/app";
        assert_eq!(
            r(json!({"kind": "note", "project": p, "text": "t", "rationale": "r"})),
            Risk::None
        );
        assert_eq!(
            r(
                json!({"kind": "comment_mr", "project": p, "mr_iid": 42, "body": "b", "rationale": "r"})
            ),
            Risk::Low
        );
        assert_eq!(
            r(
                json!({"kind": "set_labels", "project": p, "mr_iid": 42, "add": ["x"], "rationale": "r"})
            ),
            Risk::Low
        );
        assert_eq!(
            r(json!({"kind": "retry_job", "project": p, "job_id": 11, "rationale": "r"})),
            Risk::Low
        );
        assert_eq!(
            r(
                json!({"kind": "assign_reviewers", "project": p, "mr_iid": 42, "reviewers": ["bob"], "rationale": "r"})
            ),
            Risk::Medium
        );
        assert_eq!(
            r(
                json!({"kind": "retry_pipeline", "project": p, "pipeline_id": 100, "rationale": "r"})
            ),
            Risk::Medium
        );
        assert_eq!(
            r(json!({"kind": "rebase_mr", "project": p, "mr_iid": 42, "rationale": "r"})),
            Risk::Medium
        );
        assert_eq!(
            r(
                json!({"kind": "cancel_pipeline", "project": p, "pipeline_id": 101, "rationale": "r"})
            ),
            Risk::High
        );
        assert_eq!(
            r(
                json!({"kind": "merge_mr", "project": p, "mr_iid": 42, "sha": "a", "rationale": "r"})
            ),
            Risk::High
        );
    }

    #[test]
    fn play_job_is_high_when_it_deploys_or_is_unknown() {
        let p = "g/app";
        assert_eq!(
            r(json!({"kind": "play_job", "project": p, "job_id": 13, "rationale": "r"})),
            Risk::Medium
        );
        assert_eq!(
            r(json!({"kind": "play_job", "project": p, "job_id": 14, "rationale": "r"})),
            Risk::High
        );
        assert_eq!(
            r(json!({"kind": "play_job", "project": p, "job_id": 999, "rationale": "r"})),
            Risk::High
        );
    }

    /// Auto DevOps' `production_manual` (stage `production`) deploys without saying
    /// "deploy", and GitLab's job entity carries no `environment`: it is high risk, so
    /// `apply --yes` cannot play it without the typed target.
    #[test]
    fn a_production_job_that_does_not_say_deploy_is_high_risk() {
        let mut s = snap();
        let jobs = s.jobs.get_mut(&100).unwrap();
        let mut prod = jobs[2].clone();
        prod.id = 16;
        prod.name = "production_manual".into();
        prod.stage = "production".into();
        prod.environment = None;
        jobs.push(prod);
        let play = |id: u64| {
            risk(
                &serde_json::from_value(
                    json!({"kind": "play_job", "project": "g/app", "job_id": id, "rationale": "r"}),
                )
                .unwrap(),
                &s,
            )
        };
        assert_eq!(play(16), Risk::High);
        // A manual job no word of which says it deploys (`perf`) stays medium.
        assert_eq!(play(13), Risk::Medium);
        // Unless the project says so: `[policy] deploy_patterns = ["perf"]`.
        let cmd = serde_json::from_value(
            json!({"kind": "play_job", "project": "g/app", "job_id": 13, "rationale": "r"}),
        )
        .unwrap();
        assert_eq!(risk_with(&cmd, &s, &["perf".into()]), Risk::High);
        assert_eq!(risk_with(&cmd, &s, &["other".into()]), Risk::Medium);
    }
}
