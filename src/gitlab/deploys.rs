//! Which jobs deploy, from GitLab's own record of it. The REST job entity has no
//! `environment`: GitLab creates a deployment (status `created`) for every job with an
//! `environment:` when its pipeline is created, and `GET /projects/:id/deployments` names each
//! one's job (`deployable`). One page of the newest deployments, read when new pipelines
//! appear, answers "does this job deploy?" for the jobs it covers — and says "unknown" for the
//! rest, so the caller can be cautious instead of guessing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::models::{Deployment, Job};

/// The project's newest deployments, as one answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deployments {
    /// Environment name by job id, for every job that is a listed deployment's `deployable`.
    pub by_job: BTreeMap<u64, String>,
    /// When GitLab answered (its `Date` header; `None` without one): a job created later may
    /// have a deployment this answer does not list.
    #[serde(default, with = "super::snapshot::opt_ts")]
    pub as_of: Option<Timestamp>,
    /// The page was full: deployments older than the oldest one listed may be missing, so
    /// jobs created before this are not covered.
    #[serde(default, with = "super::snapshot::opt_ts")]
    pub covers_from: Option<Timestamp>,
}

/// What the deployments say about one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployFact<'a> {
    /// A deployment names this job: it deploys to this environment.
    Deploys(&'a str),
    /// The answer covers the job and no deployment names it.
    NoDeployment,
    /// The answer cannot tell (the job is newer or older than what it covers, it has no
    /// creation time, or no answer was had).
    Unknown,
}

impl Deployments {
    /// The index of one page of deployments, newest first. `full` says the page was full (more
    /// pages exist), `as_of` is when GitLab answered (its `Date` header: without it, our own
    /// clock could be ahead of GitLab's, so nothing unlisted is known to be covered).
    pub fn from_page(list: Vec<Deployment>, full: bool, as_of: Option<Timestamp>) -> Deployments {
        let covers_from = if full {
            // Nothing older than the oldest listed is known: a job created at the same
            // instant as it may still have an unlisted sibling, so that instant is excluded
            // by `fact` (strictly later only).
            Some(
                list.iter()
                    .filter_map(|d| d.created_at)
                    .min()
                    .unwrap_or(Timestamp::MAX),
            )
        } else {
            None
        };
        let by_job = list
            .into_iter()
            .filter_map(|d| {
                let job = d.deployable.as_ref()?.id;
                let env = d.environment.and_then(|e| e.name).unwrap_or_default();
                Some((job, env))
            })
            .collect();
        Deployments {
            by_job,
            as_of,
            covers_from,
        }
    }

    /// What this answer says about `job` (of the project the deployments were listed for).
    pub fn fact(&self, job: &Job) -> DeployFact<'_> {
        if let Some(env) = self.by_job.get(&job.id) {
            return DeployFact::Deploys(env.as_str());
        }
        let (Some(created), Some(as_of)) = (job.created_at, self.as_of) else {
            return DeployFact::Unknown;
        };
        // `Date` has whole seconds and GitLab creates the deployment in the same transaction
        // as the job: a job from the answer's second is not known to be covered.
        if created.as_second() >= as_of.as_second() {
            return DeployFact::Unknown;
        }
        if self.covers_from.is_some_and(|from| created <= from) {
            return DeployFact::Unknown;
        }
        DeployFact::NoDeployment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(id: u64, created: &str) -> Job {
        serde_json::from_value(json!({"id": id, "name": "x", "status": "manual",
            "created_at": created}))
        .unwrap()
    }

    fn dep(id: u64, job: u64, env: &str, created: &str) -> Deployment {
        serde_json::from_value(json!({"id": id, "status": "created", "created_at": created,
            "environment": {"id": 1, "name": env}, "deployable": {"id": job, "name": "x"}}))
        .unwrap()
    }

    const T: &str = "2026-12-05T10:00:00Z";

    #[test]
    fn a_listed_job_deploys_and_an_unlisted_covered_one_does_not() {
        let d = Deployments::from_page(
            vec![dep(2, 11, "production/eu", "2026-12-05T09:00:00Z")],
            false,
            T.parse().ok(),
        );
        assert_eq!(
            d.fact(&job(11, "2026-12-05T09:00:00Z")),
            DeployFact::Deploys("production/eu")
        );
        assert_eq!(
            d.fact(&job(12, "2026-12-05T09:00:00Z")),
            DeployFact::NoDeployment
        );
        // An old job is covered too when the page was not full: every deployment was listed.
        assert_eq!(
            d.fact(&job(3, "2020-01-01T00:00:00Z")),
            DeployFact::NoDeployment
        );
    }

    #[test]
    fn what_the_answer_cannot_cover_is_unknown() {
        let d = Deployments::from_page(
            vec![dep(2, 11, "production", "2026-12-05T09:00:00Z")],
            true,
            T.parse().ok(),
        );
        // Created after (or in the second of) the answer.
        assert_eq!(
            d.fact(&job(20, "2026-12-05T10:00:00.400Z")),
            DeployFact::Unknown
        );
        assert_eq!(
            d.fact(&job(21, "2026-12-05T11:00:00Z")),
            DeployFact::Unknown
        );
        // Older than the oldest deployment of a full page.
        assert_eq!(d.fact(&job(5, "2026-12-05T08:00:00Z")), DeployFact::Unknown);
        assert_eq!(
            d.fact(&job(6, "2026-12-05T09:30:00Z")),
            DeployFact::NoDeployment
        );
        // No creation time.
        let mut j = job(7, T);
        j.created_at = None;
        assert_eq!(d.fact(&j), DeployFact::Unknown);
    }

    #[test]
    fn deployments_without_a_job_are_skipped() {
        // Deployments created through the API have `deployable: null`.
        let list: Vec<Deployment> = serde_json::from_value(json!([
            {"id": 1, "status": "success", "deployable": null, "environment": {"name": "prod"}},
            {"id": 2, "status": "created", "deployable": {"id": 9}, "environment": null}
        ]))
        .unwrap();
        let d = Deployments::from_page(list, false, T.parse().ok());
        assert_eq!(d.by_job.len(), 1);
        assert_eq!(
            d.fact(&job(9, "2026-12-05T09:00:00Z")),
            DeployFact::Deploys("")
        );
    }

    /// Without GitLab's `Date`, our clock could be ahead of GitLab's: nothing unlisted counts
    /// as covered.
    #[test]
    fn without_the_servers_time_only_listed_jobs_are_known() {
        let d = Deployments::from_page(
            vec![dep(2, 11, "production", "2026-12-05T09:00:00Z")],
            false,
            None,
        );
        assert_eq!(d.fact(&job(11, T)), DeployFact::Deploys("production"));
        assert_eq!(
            d.fact(&job(12, "2020-01-01T00:00:00Z")),
            DeployFact::Unknown
        );
    }
}
