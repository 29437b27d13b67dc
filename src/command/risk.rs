//! Risk is decided by code from the design's table, never by the model.

use serde::{Deserialize, Serialize};

use crate::gitlab::{DeployFact, ProjectSnapshot};

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
        Command::PlayJob { job_id, .. } => {
            if deploy_reason(*job_id, snap, deploy_patterns).is_some() {
                Risk::High
            } else {
                Risk::Medium
            }
        }
        Command::CancelPipeline { .. } | Command::MergeMr { .. } => Risk::High,
    }
}

/// Why playing job `job_id` counts as a deploy (high risk), or `None` when it is known not to
/// deploy: GitLab's deployments do not name it and neither its name nor its stage says so.
/// When the deployments cannot tell (not readable, or the job is newer than the last read),
/// a manual job counts as a deploy.
pub fn deploy_reason(job_id: u64, snap: &ProjectSnapshot, patterns: &[String]) -> Option<String> {
    let Some(job) = snap.job(job_id) else {
        return Some("the job is not known: it counts as a deploy".into());
    };
    match snap.deploy_fact(job) {
        DeployFact::Deploys("") => Some("GitLab lists a deployment for it".into()),
        DeployFact::Deploys(env) => Some(format!("deploys to environment {env}")),
        _ if job.named_like_deploy(patterns) => Some("its name or stage says it deploys".into()),
        DeployFact::Unknown => Some(
            "GitLab's deployments do not cover it (not readable, or newer than the last read): \
             a manual job counts as a deploy"
                .into(),
        ),
        DeployFact::NoDeployment => None,
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
        let jobs = std::sync::Arc::make_mut(&mut s.jobs).get_mut(&100).unwrap();
        let mut prod = jobs[2].clone();
        prod.id = 16;
        prod.name = "production_manual".into();
        prod.stage = "production".into();
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

    /// GitLab's deployments decide first; when they cannot tell, a manual job is a deploy.
    #[test]
    fn deployments_decide_and_doubt_is_high() {
        let play: Command = serde_json::from_value(
            json!({"kind": "play_job", "project": "g/app", "job_id": 13, "rationale": "r"}),
        )
        .unwrap();
        let mut s = snap();
        assert_eq!(risk(&play, &s), Risk::Medium);
        assert_eq!(deploy_reason(13, &s, &[]), None);
        // A deployment names it: its name (`perf`) does not matter.
        crate::testkit::deploys_to(&mut s, 13, "production/eu-central-1");
        assert_eq!(risk(&play, &s), Risk::High);
        assert_eq!(
            deploy_reason(13, &s, &[]).as_deref(),
            Some("deploys to environment production/eu-central-1")
        );
        // Not readable: in doubt.
        s.deployments = None;
        assert_eq!(risk(&play, &s), Risk::High);
        // Read before the job was created: in doubt too.
        let mut early = snap();
        if let Some(d) = early.deployments.as_mut() {
            d.by_job.clear();
            d.as_of = Some("2026-01-01T00:00:00Z".parse().unwrap());
        }
        assert_eq!(risk(&play, &early), Risk::High);
    }
}
