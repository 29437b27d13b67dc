//! Typed GitLab REST v4 payloads.
//!
//! GitLab adds fields and enum values over time and self-managed instances lag behind, so every
//! struct ignores unknown fields, every enum keeps an `Unknown(String)` variant, and everything the
//! contract documents as nullable (or absent on some endpoints) is an `Option` or defaults.
//! Timestamps that fail to parse become `None` rather than failing the whole payload, and a `null`
//! where text is expected (a title, a branch, a job name) becomes empty text. What still does not
//! fit (a `null` state, a string id) fails that one item; the client skips it and says so.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares an open string enum: known values get variants, anything else is kept verbatim.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            Unknown(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(s) => s.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(Self::from(s.as_str()))
            }
        }
    };
}

open_enum!(
    /// Pipeline and job status (shared set; `canceling` and `waiting_for_callback` are newer).
    Status {
        Created => "created",
        WaitingForResource => "waiting_for_resource",
        Preparing => "preparing",
        Pending => "pending",
        Running => "running",
        Success => "success",
        Failed => "failed",
        Canceled => "canceled",
        Canceling => "canceling",
        Skipped => "skipped",
        Manual => "manual",
        Scheduled => "scheduled",
        WaitingForCallback => "waiting_for_callback",
    }
);

impl Status {
    /// Terminal states never change again without a retry.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Canceled | Self::Skipped
        )
    }

    /// States in which work is queued or executing.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Self::Created
                | Self::WaitingForResource
                | Self::Preparing
                | Self::Pending
                | Self::Running
                | Self::Canceling
                | Self::WaitingForCallback
        )
    }
}

open_enum!(
    /// Merge request state.
    MrState {
        Opened => "opened",
        Closed => "closed",
        Merged => "merged",
        Locked => "locked",
    }
);

open_enum!(
    /// `detailed_merge_status` (15.6+). Only `mergeable` means the MR can merge now.
    DetailedMergeStatus {
        ApprovalsSyncing => "approvals_syncing",
        Checking => "checking",
        CiMustPass => "ci_must_pass",
        CiStillRunning => "ci_still_running",
        CommitsStatus => "commits_status",
        Conflict => "conflict",
        DiscussionsNotResolved => "discussions_not_resolved",
        DraftStatus => "draft_status",
        JiraAssociationMissing => "jira_association_missing",
        Mergeable => "mergeable",
        MergeRequestBlocked => "merge_request_blocked",
        MergeTime => "merge_time",
        NeedRebase => "need_rebase",
        NotApproved => "not_approved",
        NotOpen => "not_open",
        Preparing => "preparing",
        RequestedChanges => "requested_changes",
        SecurityPolicyViolations => "security_policy_violations",
        StatusChecksMustPass => "status_checks_must_pass",
        Unchecked => "unchecked",
        LockedPaths => "locked_paths",
        LockedLfsFiles => "locked_lfs_files",
        BlockedStatus => "blocked_status",
        ExternalStatusChecks => "external_status_checks",
    }
);

open_enum!(
    /// Job `failure_reason` (open set; absent on jobs that did not fail).
    FailureReason {
        ScriptFailure => "script_failure",
        StuckOrTimeoutFailure => "stuck_or_timeout_failure",
        RunnerSystemFailure => "runner_system_failure",
        JobExecutionTimeout => "job_execution_timeout",
        ApiFailure => "api_failure",
        UnmetPrerequisites => "unmet_prerequisites",
        SchedulerFailure => "scheduler_failure",
        DataIntegrityFailure => "data_integrity_failure",
        RunnerUnsupported => "runner_unsupported",
        StaleSchedule => "stale_schedule",
        ArchivedFailure => "archived_failure",
        UnknownFailure => "unknown_failure",
    }
);

// The enum comes out of `open_enum!`, which has no way to mark a `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for MrState {
    fn default() -> Self {
        Self::Opened
    }
}

impl FailureReason {
    /// Failures caused by the CI infrastructure rather than by the code under test: a retry is
    /// a reasonable first response to these and only these.
    pub fn is_infrastructure(&self) -> bool {
        matches!(
            self,
            Self::RunnerSystemFailure
                | Self::StuckOrTimeoutFailure
                | Self::ApiFailure
                | Self::SchedulerFailure
                | Self::DataIntegrityFailure
                | Self::RunnerUnsupported
        )
    }
}

/// Lenient timestamp: GitLab sends RFC 3339 with `Z` or an offset; anything unparseable is `None`.
pub mod ts {
    use super::*;

    pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let v: Option<serde_json::Value> = Option::deserialize(d)?;
        Ok(match v {
            Some(serde_json::Value::String(s)) => parse(&s),
            _ => None,
        })
    }

    pub fn parse(s: &str) -> Option<Timestamp> {
        s.parse::<Timestamp>().ok()
    }

    pub fn ser<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_ms(*t)),
            None => s.serialize_none(),
        }
    }

    /// GitLab's own wire form: UTC with milliseconds, `2019-08-20T09:09:56.690Z`.
    pub fn format_ms(t: Timestamp) -> String {
        let secs = t.as_second();
        let ms = t.subsec_millisecond();
        let base = Timestamp::from_second(secs).unwrap_or(t);
        let s = base.to_string(); // "2019-08-20T09:09:56Z"
        match s.strip_suffix('Z') {
            Some(head) => format!("{head}.{ms:03}Z"),
            None => s,
        }
    }
}

/// Numbers that GitLab sends as a number on one endpoint and a string on another
/// (`coverage`, `changes_count`).
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim_end_matches('+').parse().ok(),
        _ => None,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `null` becomes the type's default (GitLab sends `null` for some empty lists and flags).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Labels are strings, or objects with `name` when `with_labels_details=true`.
fn labels_de<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Option<Vec<serde_json::Value>> = Option::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .filter_map(|l| match l {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(o) => {
                o.get("name").and_then(|n| n.as_str()).map(String::from)
            }
            _ => None,
        })
        .collect())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub username: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
}

/// `GET /user` and `GET /users/:id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub username: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub bot: Option<bool>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// `GET /users/:id`: empty unless the user made it public.
    #[serde(default)]
    pub public_email: Option<String>,
    /// Admin views and newer versions: `human`, `project_bot`, `service_account`, ...
    #[serde(default)]
    pub user_type: Option<String>,
}

/// `GET /users/:id_or_username/status` (every field null when no status is set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserStatus {
    #[serde(default)]
    pub emoji: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// `busy` or `not_set`.
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub clear_status_at: Option<String>,
}

/// `GET /projects/:id/members/all`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub username: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub access_level: u32,
    /// A date (`2012-10-22`) on real GitLab, a datetime in some client test data: kept as text.
    #[serde(default, deserialize_with = "lenient_string")]
    pub expires_at: Option<String>,
    /// Shown to group owners for enterprise users only.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub full_path: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

/// `GET /projects/:id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub path_with_namespace: String,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub merge_method: Option<String>,
    #[serde(default)]
    pub only_allow_merge_if_pipeline_succeeds: Option<bool>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub namespace: Option<Namespace>,
    /// When anything last happened in the project (a group's projects are picked by it).
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub last_activity_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    #[serde(default)]
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffRefs {
    #[serde(default)]
    pub base_sha: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub start_sha: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct References {
    #[serde(default)]
    pub short: Option<String>,
    #[serde(default)]
    pub full: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MrUserPermissions {
    #[serde(default)]
    pub can_merge: Option<bool>,
}

/// `GET /projects/:id/merge_requests[/:iid]`. List items lack `head_pipeline`, `diff_refs`,
/// `changes_count` and `user`: those are `None` until the single MR is fetched.
///
/// Held for every open MR (thousands on a big project), so what most MRs lack or what is
/// large and rarely there is boxed: the inline size went from 1,488 to ~700 bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeRequest {
    pub id: u64,
    pub iid: u64,
    #[serde(default)]
    pub project_id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    pub state: MrState,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub merged_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "null_default")]
    pub target_branch: String,
    #[serde(default, deserialize_with = "null_default")]
    pub source_branch: String,
    /// Users are shared (`Arc`): the same few people author and review most MRs, and the
    /// snapshot keeps one copy of each (`delta::apply_mr_delta` interns them).
    #[serde(default)]
    pub author: Option<Arc<UserRef>>,
    #[serde(default, deserialize_with = "null_default")]
    pub assignees: Vec<Arc<UserRef>>,
    #[serde(default, deserialize_with = "null_default")]
    pub reviewers: Vec<Arc<UserRef>>,
    #[serde(default, deserialize_with = "labels_de")]
    pub labels: Vec<String>,
    #[serde(default)]
    pub milestone: Option<Box<Milestone>>,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub work_in_progress: Option<bool>,
    #[serde(default)]
    pub detailed_merge_status: Option<DetailedMergeStatus>,
    #[serde(default)]
    pub merge_status: Option<String>,
    #[serde(default)]
    pub has_conflicts: Option<bool>,
    #[serde(default)]
    pub blocking_discussions_resolved: Option<bool>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub merge_commit_sha: Option<String>,
    #[serde(default)]
    pub user_notes_count: Option<u64>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub references: Option<Box<References>>,
    #[serde(default)]
    pub merge_user: Option<Box<UserRef>>,
    #[serde(default)]
    pub merge_when_pipeline_succeeds: Option<bool>,
    #[serde(default)]
    pub head_pipeline: Option<Box<Pipeline>>,
    #[serde(default)]
    pub diff_refs: Option<Box<DiffRefs>>,
    /// A string on the wire that can be `"1000+"`; `None` until GitLab has computed it.
    #[serde(default, deserialize_with = "lenient_string")]
    pub changes_count: Option<String>,
    #[serde(default)]
    pub merge_error: Option<String>,
    /// Only with `?include_rebase_in_progress=true`: a rebase GitLab is still running.
    #[serde(default)]
    pub rebase_in_progress: Option<bool>,
    #[serde(default)]
    pub user: Option<MrUserPermissions>,
}

impl MergeRequest {
    /// `draft` when present, else the deprecated `work_in_progress`, else the title prefix.
    pub fn is_draft(&self) -> bool {
        self.draft.or(self.work_in_progress).unwrap_or_else(|| {
            let t = self.title.trim_start().to_ascii_lowercase();
            t.starts_with("draft:") || t.starts_with("[draft]") || t.starts_with("(draft)")
        })
    }

    /// GitLab says it can merge now: not a draft, no conflicts, and `detailed_merge_status`
    /// `mergeable`, which on GitLab 15.6+ already covers required approvals, a pipeline that
    /// must pass and threads that must be resolved. From the list entry alone.
    pub fn can_merge_now(&self) -> bool {
        !self.is_draft()
            && !self.conflicts()
            && self.detailed_merge_status == Some(DetailedMergeStatus::Mergeable)
    }

    /// The next move is the author's: changes were requested, threads wait to be resolved,
    /// it conflicts or needs a rebase, or it is still a draft.
    pub fn waiting_on_author(&self) -> bool {
        use DetailedMergeStatus as D;
        self.is_draft()
            || self.conflicts()
            || self.blocking_discussions_resolved == Some(false)
            || matches!(
                self.detailed_merge_status,
                Some(
                    D::RequestedChanges
                        | D::DiscussionsNotResolved
                        | D::NeedRebase
                        | D::DraftStatus
                )
            )
    }

    pub fn conflicts(&self) -> bool {
        self.has_conflicts.unwrap_or(false)
            || matches!(
                self.detailed_merge_status,
                Some(DetailedMergeStatus::Conflict)
            )
            // GitLab < 15.6 has no detailed_merge_status; its `merge_status` says the same.
            || (self.detailed_merge_status.is_none()
                && self.merge_status.as_deref() == Some("cannot_be_merged"))
    }

    /// The merge state to show: `detailed_merge_status`, else (GitLab < 15.6) the legacy
    /// `merge_status` (`can_be_merged`, `cannot_be_merged`, `unchecked`, …), else nothing.
    pub fn merge_state(&self) -> Option<&str> {
        self.detailed_merge_status
            .as_ref()
            .map(|s| s.as_str())
            .or(self.merge_status.as_deref())
    }

    pub fn author_username(&self) -> &str {
        self.author
            .as_ref()
            .map(|a| a.username.as_str())
            .unwrap_or("?")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetailedStatus {
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
}

/// `GET /projects/:id/pipelines[/:id]`. The list lacks `duration`, `user` and `detailed_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: u64,
    #[serde(default)]
    pub iid: Option<u64>,
    #[serde(default)]
    pub project_id: Option<u64>,
    pub status: Status,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub started_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub finished_at: Option<Timestamp>,
    /// Seconds; an integer on pipelines.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub queued_duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub coverage: Option<f64>,
    #[serde(default)]
    pub user: Option<UserRef>,
    #[serde(default)]
    pub detailed_status: Option<DetailedStatus>,
    #[serde(default)]
    pub yaml_errors: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobPipelineRef {
    pub id: u64,
    #[serde(default)]
    pub project_id: Option<u64>,
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Runner {
    pub id: u64,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_shared: Option<bool>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub short_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub author_name: Option<String>,
    #[serde(default)]
    pub author_email: Option<String>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
}

/// One of `GET /projects/:id/deployments` (GitLab's `Entities::Deployment`): the record that
/// a job deploys to an environment. Only what says which job and where is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: u64,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
    /// `created`, `running`, `success`, `failed`, `canceled`, `skipped`, `blocked`.
    #[serde(default)]
    pub status: Option<String>,
    /// When it finished (GitLab 15.x+; `null` while it runs).
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub environment: Option<DeploymentEnvironment>,
    /// The job that deploys; `null` for deployments created through the API.
    #[serde(default)]
    pub deployable: Option<Deployable>,
}

/// `EnvironmentBasic` as a deployment carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentEnvironment {
    #[serde(default)]
    pub name: Option<String>,
}

/// A deployment's job: only its id matters here (the whole job entity comes along).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployable {
    pub id: u64,
}

/// `GET /projects/:id/jobs/:id` and the job lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub stage: String,
    pub status: Status,
    #[serde(default)]
    pub failure_reason: Option<FailureReason>,
    #[serde(default, deserialize_with = "null_default")]
    pub allow_failure: bool,
    #[serde(rename = "ref", default)]
    pub git_ref: Option<String>,
    #[serde(default)]
    pub tag: Option<bool>,
    #[serde(default)]
    pub pipeline: Option<JobPipelineRef>,
    #[serde(default)]
    pub commit: Option<Commit>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub started_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub finished_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub queued_duration: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub coverage: Option<f64>,
    #[serde(default)]
    pub runner: Option<Runner>,
    #[serde(default)]
    pub user: Option<UserRef>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub tag_list: Vec<String>,
}

impl Job {
    pub fn pipeline_id(&self) -> Option<u64> {
        self.pipeline.as_ref().map(|p| p.id)
    }

    /// Whether a word of the job's stage or name says it deploys (built-in words, plus
    /// `extra` lowercase prefixes: the project's own, `[policy] deploy_patterns`). A fallback
    /// and a floor: GitLab's deployments say which jobs deploy (see
    /// [`ProjectSnapshot::deploy_fact`](super::ProjectSnapshot::deploy_fact)).
    pub fn named_like_deploy(&self, extra: &[String]) -> bool {
        says_deploy(&self.stage, extra) || says_deploy(&self.name, extra)
    }
}

/// A trigger job from `GET .../pipelines/:id/bridges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bridge {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub stage: String,
    pub status: Status,
    #[serde(default)]
    pub downstream_pipeline: Option<Pipeline>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovedBy {
    pub user: UserRef,
}

/// `GET .../merge_requests/:iid/approvals` (older shape lacks `approved`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Approvals {
    #[serde(default)]
    pub iid: u64,
    #[serde(default)]
    pub approved: Option<bool>,
    #[serde(default)]
    pub approvals_required: Option<u32>,
    #[serde(default)]
    pub approvals_left: Option<u32>,
    #[serde(default, deserialize_with = "null_default")]
    pub approved_by: Vec<ApprovedBy>,
}

impl Approvals {
    pub fn given(&self) -> u32 {
        self.approved_by.len() as u32
    }

    pub fn required(&self) -> u32 {
        self.approvals_required.unwrap_or(0)
    }

    /// Whether approvals still block a merge. EE answers `approvals_left` (and
    /// `approvals_required`); GitLab CE/FOSS answers only `approved`, where `false` means
    /// "nobody approved yet", not "requirements unmet" — CE has no approval requirement, so
    /// without the EE fields approvals do not block (`detailed_merge_status: not_approved`
    /// is then the signal, and the validator checks it).
    pub fn satisfied(&self) -> bool {
        match (self.approvals_left, self.approvals_required) {
            (Some(left), _) => left == 0,
            (None, Some(required)) => self.given() >= required,
            (None, None) => true,
        }
    }

    /// The CE/FOSS shape: no approval rules, so no requirement.
    pub fn is_ce_shape(&self) -> bool {
        self.approvals_left.is_none() && self.approvals_required.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRule {
    #[serde(default)]
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default)]
    pub approvals_required: Option<u32>,
    #[serde(default)]
    pub approved: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    pub eligible_approvers: Vec<UserRef>,
    #[serde(default, deserialize_with = "null_default")]
    pub approved_by: Vec<UserRef>,
    /// `regular`, `code_owner`, `report_approver`, `any_approver`.
    #[serde(default)]
    pub rule_type: Option<String>,
    /// Groups whose members may approve (their members are in `eligible_approvers`).
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<ApprovalGroup>,
}

impl ApprovalRule {
    /// The eligible approvers who have not approved yet.
    pub fn can_still_approve(&self) -> impl Iterator<Item = &UserRef> {
        self.eligible_approvers
            .iter()
            .filter(|u| !self.approved_by.iter().any(|a| a.id == u.id))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalGroup {
    #[serde(default)]
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub full_path: String,
}

/// `GET .../merge_requests/:iid/approval_state` (Premium).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalState {
    #[serde(default)]
    pub approval_rules_overwritten: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    pub rules: Vec<ApprovalRule>,
}

/// One file of `GET .../merge_requests/:iid/diffs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MrDiff {
    #[serde(default, deserialize_with = "null_default")]
    pub old_path: String,
    #[serde(default, deserialize_with = "null_default")]
    pub new_path: String,
    #[serde(default, deserialize_with = "null_default")]
    pub diff: String,
    #[serde(default)]
    pub new_file: bool,
    #[serde(default)]
    pub renamed_file: bool,
    #[serde(default)]
    pub deleted_file: bool,
}

impl MrDiff {
    /// The file's path after the change (before it, for a deleted file).
    pub fn path(&self) -> &str {
        if self.new_path.is_empty() {
            &self.old_path
        } else {
            &self.new_path
        }
    }

    /// Added and removed line counts from the unified diff body.
    pub fn churn(&self) -> (u32, u32) {
        let (mut add, mut del) = (0, 0);
        for line in self.diff.lines() {
            if line.starts_with('+') && !line.starts_with("+++") {
                add += 1;
            } else if line.starts_with('-') && !line.starts_with("---") {
                del += 1;
            }
        }
        (add, del)
    }
}

/// A note (comment or system event) on an MR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub body: String,
    #[serde(default)]
    pub author: Option<UserRef>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub noteable_type: Option<String>,
    #[serde(default)]
    pub noteable_iid: Option<u64>,
    #[serde(default)]
    pub internal: Option<bool>,
    /// `DiscussionNote` or `DiffNote` for a note of a thread, `null` for a plain comment.
    #[serde(default, rename = "type")]
    pub note_type: Option<String>,
    /// Whether the note belongs to a thread that can be resolved (MR threads, not plain
    /// comments or system notes). Only resolvable notes carry the three fields after it.
    #[serde(default, deserialize_with = "null_default")]
    pub resolvable: bool,
    #[serde(default)]
    pub resolved: Option<bool>,
    #[serde(default)]
    pub resolved_by: Option<UserRef>,
    #[serde(default, deserialize_with = "ts::de", serialize_with = "ts::ser")]
    pub resolved_at: Option<Timestamp>,
}

/// A thread from `GET .../merge_requests/:iid/discussions`: `individual_note` is a plain
/// comment (one note, never resolvable); otherwise a thread of replies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Discussion {
    pub id: String,
    #[serde(default)]
    pub individual_note: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub notes: Vec<Note>,
}

impl Discussion {
    /// Some note of it can be resolved: GitLab resolves a thread as a whole.
    pub fn resolvable(&self) -> bool {
        self.notes.iter().any(|n| n.resolvable)
    }

    /// Resolvable and every resolvable note resolved (GitLab's `Discussion#resolved?`).
    pub fn resolved(&self) -> bool {
        self.resolvable()
            && self
                .notes
                .iter()
                .filter(|n| n.resolvable)
                .all(|n| n.resolved == Some(true))
    }

    /// Resolvable and not resolved: what blocks a merge when the project asks for it.
    pub fn unresolved(&self) -> bool {
        self.resolvable() && !self.resolved()
    }

    /// Who resolved it: the last resolver among its notes.
    pub fn resolved_by(&self) -> Option<&UserRef> {
        self.notes
            .iter()
            .filter(|n| n.resolved == Some(true))
            .max_by_key(|n| n.resolved_at)
            .and_then(|n| n.resolved_by.as_ref())
    }
}

/// Words (of a job's name or stage, split at anything not a letter or digit) that mean it
/// changes a running environment. A word counts when it starts with one of these: `prod`
/// covers `production`, `deploy` covers `deployment`.
pub const DEPLOY_WORDS: &[&str] = &[
    "deploy",
    "prod",
    "release",
    "rollout",
    "rollback",
    "staging",
    "canary",
    "promote",
    "publish",
    "ship",
    "terraform",
    "helm",
    "apply",
    // Jobs that take an environment down (`action: stop` creates no deployment).
    "stop",
    "destroy",
    "teardown",
];

fn says_deploy(s: &str, extra: &[String]) -> bool {
    s.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| {
            !w.is_empty()
                && (DEPLOY_WORDS.iter().any(|d| w.starts_with(d))
                    || extra
                        .iter()
                        .any(|d| !d.is_empty() && w.starts_with(d.as_str())))
        })
}
