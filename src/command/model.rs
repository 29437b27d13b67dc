//! The closed set of commands: the contract between planner, operator and executor.
//!
//! One enum, tagged by `kind`, with the wire form of the design. The JSON schema handed to the
//! LLM is generated from these same types (`schema()`), so the two cannot drift.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A proposed or operator-made command, in wire form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Advice for the operator; no GitLab call.
    Note {
        project: String,
        text: String,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// POST a note on a merge request.
    CommentMr {
        project: String,
        mr_iid: u64,
        body: String,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Add and remove labels on a merge request.
    SetLabels {
        project: String,
        mr_iid: u64,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Retry a failed or canceled job.
    RetryJob {
        project: String,
        job_id: u64,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Set the reviewers of a merge request (usernames).
    AssignReviewers {
        project: String,
        mr_iid: u64,
        reviewers: Vec<String>,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Retry the failed and canceled jobs of a pipeline.
    RetryPipeline {
        project: String,
        pipeline_id: u64,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Cancel a pipeline.
    CancelPipeline {
        project: String,
        pipeline_id: u64,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Run a manual job.
    PlayJob {
        project: String,
        job_id: u64,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Rebase a merge request onto its target branch.
    RebaseMr {
        project: String,
        mr_iid: u64,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
    /// Merge a merge request at the head sha that was observed.
    MergeMr {
        project: String,
        mr_iid: u64,
        sha: String,
        rationale: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confidence: Option<f64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
    },
}

/// The kinds, for policy lists (`deny`, `auto_approve`) and display.
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
    JsonSchema,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    Note,
    CommentMr,
    SetLabels,
    RetryJob,
    AssignReviewers,
    RetryPipeline,
    CancelPipeline,
    PlayJob,
    RebaseMr,
    MergeMr,
}

impl Kind {
    pub const ALL: &[Kind] = <Kind as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Kind> {
        s.parse().ok()
    }
}

/// What a command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Target {
    Project,
    Mr(u64),
    Job(u64),
    Pipeline(u64),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Project => f.write_str("project"),
            Target::Mr(iid) => write!(f, "!{iid}"),
            Target::Job(id) => write!(f, "job {id}"),
            Target::Pipeline(id) => write!(f, "pipeline {id}"),
        }
    }
}

impl Command {
    pub fn kind(&self) -> Kind {
        match self {
            Command::Note { .. } => Kind::Note,
            Command::CommentMr { .. } => Kind::CommentMr,
            Command::SetLabels { .. } => Kind::SetLabels,
            Command::RetryJob { .. } => Kind::RetryJob,
            Command::AssignReviewers { .. } => Kind::AssignReviewers,
            Command::RetryPipeline { .. } => Kind::RetryPipeline,
            Command::CancelPipeline { .. } => Kind::CancelPipeline,
            Command::PlayJob { .. } => Kind::PlayJob,
            Command::RebaseMr { .. } => Kind::RebaseMr,
            Command::MergeMr { .. } => Kind::MergeMr,
        }
    }

    pub fn project(&self) -> &str {
        match self {
            Command::Note { project, .. }
            | Command::CommentMr { project, .. }
            | Command::SetLabels { project, .. }
            | Command::RetryJob { project, .. }
            | Command::AssignReviewers { project, .. }
            | Command::RetryPipeline { project, .. }
            | Command::CancelPipeline { project, .. }
            | Command::PlayJob { project, .. }
            | Command::RebaseMr { project, .. }
            | Command::MergeMr { project, .. } => project,
        }
    }

    pub fn target(&self) -> Target {
        match self {
            Command::Note { .. } => Target::Project,
            Command::CommentMr { mr_iid, .. }
            | Command::SetLabels { mr_iid, .. }
            | Command::AssignReviewers { mr_iid, .. }
            | Command::RebaseMr { mr_iid, .. }
            | Command::MergeMr { mr_iid, .. } => Target::Mr(*mr_iid),
            Command::RetryJob { job_id, .. } | Command::PlayJob { job_id, .. } => {
                Target::Job(*job_id)
            }
            Command::RetryPipeline { pipeline_id, .. }
            | Command::CancelPipeline { pipeline_id, .. } => Target::Pipeline(*pipeline_id),
        }
    }

    pub fn rationale(&self) -> &str {
        match self {
            Command::Note { rationale, .. }
            | Command::CommentMr { rationale, .. }
            | Command::SetLabels { rationale, .. }
            | Command::RetryJob { rationale, .. }
            | Command::AssignReviewers { rationale, .. }
            | Command::RetryPipeline { rationale, .. }
            | Command::CancelPipeline { rationale, .. }
            | Command::PlayJob { rationale, .. }
            | Command::RebaseMr { rationale, .. }
            | Command::MergeMr { rationale, .. } => rationale,
        }
    }

    pub fn confidence(&self) -> Option<f64> {
        match self {
            Command::Note { confidence, .. }
            | Command::CommentMr { confidence, .. }
            | Command::SetLabels { confidence, .. }
            | Command::RetryJob { confidence, .. }
            | Command::AssignReviewers { confidence, .. }
            | Command::RetryPipeline { confidence, .. }
            | Command::CancelPipeline { confidence, .. }
            | Command::PlayJob { confidence, .. }
            | Command::RebaseMr { confidence, .. }
            | Command::MergeMr { confidence, .. } => *confidence,
        }
    }

    pub fn evidence(&self) -> &[String] {
        match self {
            Command::Note { evidence, .. }
            | Command::CommentMr { evidence, .. }
            | Command::SetLabels { evidence, .. }
            | Command::RetryJob { evidence, .. }
            | Command::AssignReviewers { evidence, .. }
            | Command::RetryPipeline { evidence, .. }
            | Command::CancelPipeline { evidence, .. }
            | Command::PlayJob { evidence, .. }
            | Command::RebaseMr { evidence, .. }
            | Command::MergeMr { evidence, .. } => evidence,
        }
    }

    /// Identity for de-duplication: the same action on the same target with the same payload is
    /// the same command, whatever the rationale says. Spellings GitLab treats as one are one
    /// here: the project path in any letter case, reviewers with or without `@` in any case and
    /// order, labels in any order, the sha in any case. Held in memory only: what the audit log
    /// keeps is a keyed hash of it (`audit::AuditLog::identity_hash`).
    pub fn identity(&self) -> String {
        self.identity_with(&normalize_project(self.project()))
    }

    /// The identity with the project given by its GitLab id (`#123`) instead of its path: a
    /// project renamed, moved or spelled another way is still the same project.
    pub fn identity_in_project(&self, project_id: u64) -> String {
        self.identity_with(&format!("#{project_id}"))
    }

    fn identity_with(&self, project: &str) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("rationale");
            o.remove("confidence");
            o.remove("evidence");
            o.insert("project".into(), serde_json::Value::String(project.into()));
            let sorted = |o: &mut serde_json::Map<String, serde_json::Value>,
                          key: &str,
                          norm: fn(&str) -> String| {
                if let Some(serde_json::Value::Array(a)) = o.get_mut(key) {
                    let mut items: Vec<String> =
                        a.iter().filter_map(|x| x.as_str()).map(norm).collect();
                    items.sort();
                    items.dedup();
                    *a = items.into_iter().map(serde_json::Value::String).collect();
                }
            };
            sorted(o, "add", |s| s.trim().to_string());
            sorted(o, "remove", |s| s.trim().to_string());
            sorted(o, "reviewers", |s| {
                s.trim().trim_start_matches('@').to_lowercase()
            });
            if let Some(serde_json::Value::String(sha)) = o.get_mut("sha") {
                *sha = sha.trim().to_ascii_lowercase();
            }
        }
        // serde_json's maps are ordered by key: the text is canonical.
        v.to_string()
    }
}

/// A project path as GitLab resolves it: case-insensitive, no surrounding slashes or spaces.
pub fn normalize_project(path: &str) -> String {
    path.trim().trim_matches('/').to_lowercase()
}

/// A plan: the planner's response, `plan --json`'s output and `apply`'s input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    pub summary: String,
    pub commands: Vec<Command>,
}

/// The JSON schema of a plan, generated from the types above.
pub fn plan_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips() {
        let v = serde_json::json!({"kind": "retry_job", "project": "group/app", "job_id": 4711,
            "rationale": "runner_system_failure", "confidence": 0.8,
            "evidence": ["ERROR: Job failed (system failure)"]});
        let c: Command = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.kind(), Kind::RetryJob);
        assert_eq!(c.target(), Target::Job(4711));
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        let extra = serde_json::json!({"kind": "retry_job", "project": "g/a", "job_id": 1,
            "rationale": "r", "risk": "low"});
        assert!(serde_json::from_value::<Command>(extra).is_err());
        let unknown =
            serde_json::json!({"kind": "delete_project", "project": "g/a", "rationale": "r"});
        assert!(serde_json::from_value::<Command>(unknown).is_err());
    }

    #[test]
    fn identities_fold_what_gitlab_treats_as_one() {
        let c = |v: serde_json::Value| serde_json::from_value::<Command>(v).unwrap();
        let a = c(
            serde_json::json!({"kind": "assign_reviewers", "project": "Group/App",
            "mr_iid": 4, "reviewers": ["@Bob", "alice"], "rationale": "x"}),
        );
        let b = c(
            serde_json::json!({"kind": "assign_reviewers", "project": "group/app/",
            "mr_iid": 4, "reviewers": ["ALICE", "bob", "bob"], "rationale": "y", "confidence": 0.3}),
        );
        assert_eq!(a.identity(), b.identity());
        assert_eq!(a.identity_in_project(7), b.identity_in_project(7));
        assert_ne!(a.identity_in_project(7), a.identity_in_project(8));
        let m1 = c(
            serde_json::json!({"kind": "merge_mr", "project": "g/a", "mr_iid": 1, "sha": "ABCDEF1", "rationale": "r"}),
        );
        let m2 = c(
            serde_json::json!({"kind": "merge_mr", "project": "G/A", "mr_iid": 1, "sha": "abcdef1", "rationale": "r"}),
        );
        assert_eq!(m1.identity(), m2.identity());
        // The payload still counts: another body is another command.
        let n1 = c(
            serde_json::json!({"kind": "comment_mr", "project": "g/a", "mr_iid": 1, "body": "Hi", "rationale": "r"}),
        );
        let n2 = c(
            serde_json::json!({"kind": "comment_mr", "project": "g/a", "mr_iid": 1, "body": "hi", "rationale": "r"}),
        );
        assert_ne!(n1.identity(), n2.identity());
        let l1 = c(
            serde_json::json!({"kind": "set_labels", "project": "g/a", "mr_iid": 1, "add": ["b", "a"], "rationale": "r"}),
        );
        let l2 = c(
            serde_json::json!({"kind": "set_labels", "project": "g/a", "mr_iid": 1, "add": ["a", "b"], "remove": [], "rationale": "r"}),
        );
        assert_eq!(l1.identity(), l2.identity());
    }

    #[test]
    fn screen_names_are_the_wire_names() {
        use crate::command::{Risk, Source, Status};
        fn check<T>()
        where
            T: Serialize + strum::VariantArray + Into<&'static str> + Copy + std::fmt::Display,
        {
            for v in T::VARIANTS {
                let name: &'static str = (*v).into();
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
                assert_eq!(v.to_string(), name);
            }
        }
        check::<Kind>();
        check::<Risk>();
        check::<Status>();
        check::<Source>();
        assert_eq!(Kind::parse("merge_mr"), Some(Kind::MergeMr));
        assert_eq!(Kind::parse("MergeMr"), None);
        assert_eq!(Source::PlanFile.as_str(), "plan_file");
    }

    #[test]
    fn every_kind_name_is_in_the_schema() {
        let s = plan_schema().to_string();
        for k in Kind::ALL {
            assert!(s.contains(k.as_str()), "{k} missing from schema");
        }
    }
}
