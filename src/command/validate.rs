//! Validation of a parsed command against the project as we last saw it.
//!
//! Every check a GitLab call would otherwise fail on late (or worse, succeed on wrongly) is made
//! here, with a reason the operator can read. The executor runs the same checks again on freshly
//! fetched state, so a reason must read well both as "invalid: ..." and as "stale: ...".

use crate::gitlab::{DetailedMergeStatus, MrState, ProjectSnapshot, Status};

use super::model::Command;

pub const MAX_RATIONALE_CHARS: usize = 2_000;
pub const MAX_NOTE_CHARS: usize = 4_000;
/// GitLab accepts notes up to 1 MB; a comment an operator can read before approving is shorter.
pub const MAX_BODY_CHARS: usize = 8_000;
pub const MAX_LABELS: usize = 20;
/// GitLab's limit on a label title.
pub const MAX_LABEL_CHARS: usize = 255;
pub const MAX_REVIEWERS: usize = 10;
pub const MAX_EVIDENCE: usize = 20;
pub const MAX_EVIDENCE_CHARS: usize = 1_000;

/// Checks `cmd` against `snap`; every problem found is listed.
pub fn validate(cmd: &Command, snap: &ProjectSnapshot) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    common(cmd, snap, &mut errs);
    match cmd {
        Command::Note { text, .. } => {
            text_field("text", text, MAX_NOTE_CHARS, &mut errs);
        }
        Command::CommentMr { mr_iid, body, .. } => {
            mr_exists(*mr_iid, snap, &mut errs);
            text_field("body", body, MAX_BODY_CHARS, &mut errs);
            let lower = body.to_lowercase();
            for mass in ["@all", "@here"] {
                if contains_mention(&lower, mass) {
                    errs.push(format!("body mentions {mass}, which notifies everyone"));
                }
            }
        }
        Command::SetLabels {
            mr_iid,
            add,
            remove,
            ..
        } => {
            mr_exists(*mr_iid, snap, &mut errs);
            labels(add, remove, &mut errs);
        }
        Command::RetryJob { job_id, .. } => match snap.job(*job_id) {
            None => errs.push(format!("job {job_id} was not found in the project")),
            Some(job) => match &job.status {
                Status::Failed | Status::Canceled => {
                    // GitLab keeps a retried job failed and adds a new one with the same name.
                    if let Some(newer) = snap.all_jobs().find(|j| {
                        j.id > job.id && j.name == job.name && j.pipeline_id() == job.pipeline_id()
                    }) {
                        errs.push(format!(
                            "job {job_id} was already retried as job {} ({})",
                            newer.id, newer.status
                        ));
                    }
                }
                s if s.is_active() => errs.push(format!("job {job_id} is already {s}")),
                s => errs.push(format!(
                    "job {job_id} is {s}; only failed or canceled jobs can be retried"
                )),
            },
        },
        Command::PlayJob { job_id, .. } => match snap.job(*job_id) {
            None => errs.push(format!("job {job_id} was not found in the project")),
            Some(job) => match &job.status {
                Status::Manual => {}
                s if s.is_active() => errs.push(format!("job {job_id} is already {s}")),
                s => errs.push(format!(
                    "job {job_id} is {s}; only manual jobs can be played"
                )),
            },
        },
        Command::AssignReviewers {
            mr_iid, reviewers, ..
        } => {
            if let Some(mr) = mr_exists(*mr_iid, snap, &mut errs) {
                mr_open(mr, &mut errs);
            }
            reviewer_list(*mr_iid, reviewers, snap, &mut errs);
        }
        Command::RetryPipeline { pipeline_id, .. } => match snap.pipeline(*pipeline_id) {
            None => errs.push(format!(
                "pipeline {pipeline_id} was not found in the project"
            )),
            Some(p) => match &p.status {
                Status::Failed | Status::Canceled => {}
                s if s.is_active() => {
                    errs.push(format!("pipeline {pipeline_id} is already {s}"))
                }
                s => errs.push(format!(
                    "pipeline {pipeline_id} is {s}; only failed or canceled pipelines can be retried"
                )),
            },
        },
        Command::CancelPipeline { pipeline_id, .. } => match snap.pipeline(*pipeline_id) {
            None => errs.push(format!(
                "pipeline {pipeline_id} was not found in the project"
            )),
            Some(p) => match &p.status {
                Status::Canceling => {
                    errs.push(format!("pipeline {pipeline_id} is already canceling"))
                }
                s if s.is_active() || *s == Status::Scheduled => {}
                s => errs.push(format!(
                    "pipeline {pipeline_id} is already {s}; only a pending or running pipeline can be canceled"
                )),
            },
        },
        Command::RebaseMr { mr_iid, .. } => {
            if let Some(mr) = mr_exists(*mr_iid, snap, &mut errs) {
                mr_open(mr, &mut errs);
                if mr.conflicts() {
                    errs.push(format!(
                        "!{mr_iid} has merge conflicts; a rebase would fail"
                    ));
                }
            }
        }
        Command::MergeMr { mr_iid, sha, .. } => {
            if let Some(mr) = mr_exists(*mr_iid, snap, &mut errs) {
                merge_preconditions(mr, sha, snap, &mut errs);
            }
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn common(cmd: &Command, snap: &ProjectSnapshot, errs: &mut Vec<String>) {
    if !cmd.project().eq_ignore_ascii_case(snap.path()) {
        errs.push(format!(
            "project \"{}\" is not the project in view ({})",
            clip(cmd.project()),
            snap.path()
        ));
    }
    text_field("rationale", cmd.rationale(), MAX_RATIONALE_CHARS, errs);
    if let Some(c) = cmd.confidence()
        && !(c.is_finite() && (0.0..=1.0).contains(&c))
    {
        errs.push(format!("confidence {c} is outside 0..1"));
    }
    let evidence = cmd.evidence();
    if evidence.len() > MAX_EVIDENCE {
        errs.push(format!(
            "{} evidence items; at most {MAX_EVIDENCE}",
            evidence.len()
        ));
    }
    if evidence
        .iter()
        .any(|e| e.chars().count() > MAX_EVIDENCE_CHARS)
    {
        errs.push(format!(
            "an evidence item is longer than {MAX_EVIDENCE_CHARS} characters"
        ));
    }
}

fn mr_exists<'a>(
    iid: u64,
    snap: &'a ProjectSnapshot,
    errs: &mut Vec<String>,
) -> Option<&'a crate::gitlab::MergeRequest> {
    let mr = snap.mr(iid);
    if mr.is_none() {
        errs.push(format!(
            "!{iid} is not an open merge request of the project"
        ));
    }
    mr
}

fn mr_open(mr: &crate::gitlab::MergeRequest, errs: &mut Vec<String>) {
    if mr.state != MrState::Opened {
        errs.push(format!("!{} is already {}", mr.iid, mr.state));
    }
}

fn merge_preconditions(
    mr: &crate::gitlab::MergeRequest,
    sha: &str,
    snap: &ProjectSnapshot,
    errs: &mut Vec<String>,
) {
    let iid = mr.iid;
    mr_open(mr, errs);
    if mr.is_draft() {
        errs.push(format!("!{iid} is a draft"));
    }
    if mr.conflicts() {
        errs.push(format!("!{iid} has merge conflicts"));
    }
    match mr.sha.as_deref() {
        None => errs.push(format!("!{iid} has no known head sha")),
        Some(head) if !sha_matches(sha, head) => errs.push(format!(
            "!{iid} head moved: command is for {}, the head is now {}",
            short(sha),
            short(head)
        )),
        Some(_) => {}
    }
    match snap.pipeline_for_mr(mr) {
        None => errs.push(format!("!{iid} has no pipeline")),
        Some(p) if p.status != Status::Success => {
            errs.push(format!("!{iid}'s pipeline {} is {}", p.id, p.status))
        }
        // A merged-results or merge-train pipeline tests the merge commit: its sha is never
        // the head's (the merge call's `sha` parameter pins the head instead).
        Some(p)
            if !crate::gitlab::snapshot::mr_ref(p.git_ref.as_deref())
                .is_some_and(|(_, k)| k.tests_a_merge_commit())
                && p.sha
                    .as_deref()
                    .is_some_and(|ps| Some(ps) != mr.sha.as_deref()) =>
        {
            errs.push(format!(
                "!{iid}'s successful pipeline {} is not for the head sha",
                p.id
            ))
        }
        Some(_) => {}
    }
    // `unchecked`/`checking` are transient and GitLab re-checks on merge; everything else that is
    // not `mergeable` is a blocker it would refuse with.
    if let Some(s) = &mr.detailed_merge_status {
        let ok = matches!(
            s,
            DetailedMergeStatus::Mergeable
                | DetailedMergeStatus::Unchecked
                | DetailedMergeStatus::Checking
                | DetailedMergeStatus::Preparing
                | DetailedMergeStatus::ApprovalsSyncing
        );
        // Reported separately above with a better message.
        let covered = matches!(
            s,
            DetailedMergeStatus::Conflict
                | DetailedMergeStatus::DraftStatus
                | DetailedMergeStatus::NotOpen
        );
        if !ok && !covered {
            errs.push(format!("GitLab reports !{iid} as {s}"));
        }
    }
    if let Some(a) = snap.approvals.get(&iid)
        && !a.satisfied()
    {
        errs.push(format!(
            "!{iid} needs {} more approval(s)",
            a.approvals_left.unwrap_or(1)
        ));
    }
}

/// A short sha from the model may abbreviate the head; never shorter than 7 hex digits.
fn sha_matches(given: &str, head: &str) -> bool {
    let g = given.trim().to_ascii_lowercase();
    g.len() >= 7
        && g.chars().all(|c| c.is_ascii_hexdigit())
        && head.to_ascii_lowercase().starts_with(&g)
}

fn short(sha: &str) -> String {
    clip(&sha.chars().take(12).collect::<String>())
}

fn labels(add: &[String], remove: &[String], errs: &mut Vec<String>) {
    if add.is_empty() && remove.is_empty() {
        errs.push("no labels to add or remove".into());
    }
    if add.len() + remove.len() > MAX_LABELS {
        errs.push(format!("more than {MAX_LABELS} labels"));
    }
    for (i, l) in add.iter().chain(remove).enumerate() {
        let n = l.chars().count();
        if l.trim().is_empty() {
            errs.push("an empty label".into());
        } else if n > MAX_LABEL_CHARS {
            errs.push(format!(
                "a label is longer than {MAX_LABEL_CHARS} characters"
            ));
        } else if l.contains(',') {
            // GitLab takes add_labels/remove_labels as a comma-separated list.
            errs.push(format!("label \"{}\" contains a comma", clip(l)));
        } else if has_hidden_chars(l) || l.contains('\n') {
            errs.push(format!(
                "label \"{}\" contains control or invisible characters",
                clip(l)
            ));
        } else if add.iter().chain(remove).take(i).any(|p| p == l) {
            errs.push(format!("label \"{}\" is listed twice", clip(l)));
        }
    }
}

fn reviewer_list(iid: u64, reviewers: &[String], snap: &ProjectSnapshot, errs: &mut Vec<String>) {
    if reviewers.is_empty() {
        errs.push("no reviewers given".into());
    }
    if reviewers.len() > MAX_REVIEWERS {
        errs.push(format!("more than {MAX_REVIEWERS} reviewers"));
    }
    let author = snap.mr(iid).map(|m| m.author_username());
    for (i, r) in reviewers.iter().enumerate() {
        let name = r.trim_start_matches('@');
        if reviewers[..i]
            .iter()
            .any(|p| p.trim_start_matches('@').eq_ignore_ascii_case(name))
        {
            errs.push(format!("reviewer {} is listed twice", clip(name)));
            continue;
        }
        if author.is_some_and(|a| a.eq_ignore_ascii_case(name)) {
            errs.push(format!("{} is the author of !{iid}", clip(name)));
            continue;
        }
        if snap.members.is_empty() {
            errs.push("project members are not loaded; reviewers cannot be checked".into());
            break;
        }
        if !snap
            .members
            .iter()
            .any(|m| m.username.eq_ignore_ascii_case(name))
        {
            errs.push(format!("{} is not a member of the project", clip(name)));
        }
    }
}

fn text_field(name: &str, s: &str, max: usize, errs: &mut Vec<String>) {
    let n = s.chars().count();
    if s.trim().is_empty() {
        errs.push(format!("{name} is empty"));
    } else if n > max {
        errs.push(format!("{name} has {n} characters; at most {max}"));
    }
    if has_hidden_chars(s) {
        errs.push(format!(
            "{name} contains control or invisible characters (zero-width, bidi overrides)"
        ));
    }
}

/// Text the operator approves must be the text that gets posted: no characters that hide or
/// reorder what is shown.
pub fn has_hidden_chars(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t' && c != '\r')
            || matches!(c,
                '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{00AD}')
    })
}

fn contains_mention(lower: &str, mention: &str) -> bool {
    lower.match_indices(mention).any(|(i, _)| {
        let before_ok = lower[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '`');
        let after_ok = lower[i + mention.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '-');
        before_ok && after_ok
    })
}

fn clip(s: &str) -> String {
    crate::text::clip(s, 60).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gitlab::{Approvals, Job, Member, MergeRequest, Pipeline, Project, UserRef};

    pub(crate) fn job(id: u64, pipeline: u64, status: &str, name: &str) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "stage": "test", "status": status,
            "pipeline": {"id": pipeline}, "created_at": "2026-03-01T11:00:00Z"
        }))
        .unwrap()
    }

    pub(crate) fn pipeline(id: u64, status: &str, sha: &str, git_ref: &str) -> Pipeline {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": status, "sha": sha, "ref": git_ref
        }))
        .unwrap()
    }

    pub(crate) fn mr(iid: u64, author: &str, sha: &str) -> MergeRequest {
        MergeRequest {
            id: 1000 + iid,
            iid,
            project_id: 1,
            title: format!("MR {iid}"),
            state: MrState::Opened,
            source_branch: format!("feature-{iid}"),
            target_branch: "main".into(),
            author: Some(
                UserRef {
                    id: 7,
                    username: author.into(),
                    ..UserRef::default()
                }
                .into(),
            ),
            sha: Some(sha.into()),
            draft: Some(false),
            has_conflicts: Some(false),
            detailed_merge_status: Some(DetailedMergeStatus::Mergeable),
            ..MergeRequest::default()
        }
    }

    /// A small project: job 11 failed, 12 running, 13 manual, 14 manual deploy, 15 success;
    /// pipeline 100 failed, 101 running, 102 success for !42 (head aaaa…); !43 draft; !44
    /// conflicts. Members alice (author of !42), bob, carol.
    pub(crate) fn snap() -> ProjectSnapshot {
        let mut s = ProjectSnapshot {
            host: "gitlab.test".into(),
            project: Project {
                id: 1,
                name: "app".into(),
                path_with_namespace: "g/app".into(),
                ..Project::default()
            },
            ..ProjectSnapshot::default()
        };
        let head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        std::sync::Arc::make_mut(&mut s.pipelines)
            .insert(100, pipeline(100, "failed", "bbbb", "main"));
        std::sync::Arc::make_mut(&mut s.pipelines)
            .insert(101, pipeline(101, "running", "cccc", "main"));
        std::sync::Arc::make_mut(&mut s.pipelines).insert(
            102,
            pipeline(102, "success", head, "refs/merge-requests/42/head"),
        );
        let mut deploy = job(14, 100, "manual", "deploy-prod");
        deploy.stage = "deploy".into();
        std::sync::Arc::make_mut(&mut s.jobs).insert(
            100,
            vec![
                job(11, 100, "failed", "rspec"),
                job(12, 100, "running", "build"),
                job(13, 100, "manual", "perf"),
                deploy,
                job(15, 100, "success", "lint"),
            ],
        );
        // GitLab's deployments say job 14 deploys (and, read after, that no other does).
        crate::testkit::deploys_to(&mut s, 14, "production");
        std::sync::Arc::make_mut(&mut s.mrs).insert(42, (mr(42, "alice", head)).into());
        let mut draft = mr(43, "bob", "dddddddddddd");
        draft.draft = Some(true);
        std::sync::Arc::make_mut(&mut s.mrs).insert(43, draft.into());
        let mut conflicted = mr(44, "bob", "eeeeeeeeeeee");
        conflicted.has_conflicts = Some(true);
        conflicted.detailed_merge_status = Some(DetailedMergeStatus::Conflict);
        std::sync::Arc::make_mut(&mut s.mrs).insert(44, conflicted.into());
        for (id, name) in [(7, "alice"), (8, "bob"), (9, "carol")] {
            std::sync::Arc::make_mut(&mut s.members).push(Member {
                id,
                username: name.into(),
                name: name.into(),
                access_level: 30,
                ..Member::default()
            });
        }
        std::sync::Arc::make_mut(&mut s.approvals).insert(
            42,
            Approvals {
                iid: 42,
                approved: Some(true),
                ..Approvals::default()
            },
        );
        s
    }

    fn v(json: serde_json::Value) -> Result<(), Vec<String>> {
        let c: Command = serde_json::from_value(json).unwrap();
        validate(&c, &snap())
    }

    fn reasons(json: serde_json::Value) -> String {
        v(json).unwrap_err().join("; ")
    }

    use serde_json::json;

    #[test]
    fn project_must_match() {
        let r = reasons(
            json!({"kind": "retry_job", "project": "other/app", "job_id": 11,
            "rationale": "r"}),
        );
        assert!(r.contains("not the project in view"), "{r}");
        assert!(
            v(json!({"kind": "retry_job", "project": "G/App", "job_id": 11, "rationale": "r"}))
                .is_ok()
        );
    }

    #[test]
    fn retry_job_only_failed_or_canceled() {
        assert!(
            v(
                json!({"kind": "retry_job", "project": "g/app", "job_id": 11,
            "rationale": "r"})
            )
            .is_ok()
        );
        let r = reasons(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 12,
            "rationale": "r"}),
        );
        assert_eq!(r, "job 12 is already running");
        let r = reasons(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 15,
            "rationale": "r"}),
        );
        assert!(r.contains("only failed or canceled"), "{r}");
        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.jobs)
            .get_mut(&100)
            .unwrap()
            .push(job(21, 100, "running", "rspec"));
        let c: Command = serde_json::from_value(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 11, "rationale": "r"}),
        )
        .unwrap();
        let r = validate(&c, &s).unwrap_err().join("; ");
        assert_eq!(r, "job 11 was already retried as job 21 (running)");
        let r = reasons(
            json!({"kind": "retry_job", "project": "g/app", "job_id": 999,
            "rationale": "r"}),
        );
        assert!(r.contains("was not found in the project"), "{r}");
    }

    #[test]
    fn play_job_only_manual() {
        assert!(
            v(json!({"kind": "play_job", "project": "g/app", "job_id": 13,
            "rationale": "r"}))
            .is_ok()
        );
        let r = reasons(json!({"kind": "play_job", "project": "g/app", "job_id": 11,
            "rationale": "r"}));
        assert!(r.contains("only manual"), "{r}");
    }

    #[test]
    fn merge_needs_head_sha_green_pipeline_open_non_draft_no_conflicts() {
        let head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert!(
            v(
                json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42, "sha": head,
            "rationale": "r"})
            )
            .is_ok()
        );
        assert!(
            v(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42,
            "sha": "aaaaaaa", "rationale": "r"}))
            .is_ok()
        );
        let r = reasons(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42,
            "sha": "bbbbbbbbbbbb", "rationale": "r"}));
        assert!(r.contains("head moved"), "{r}");
        let r = reasons(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42,
            "sha": "aaa", "rationale": "r"}));
        assert!(r.contains("head moved"), "short shas are not accepted: {r}");
        let r = reasons(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 43,
            "sha": "dddddddddddd", "rationale": "r"}));
        assert!(r.contains("draft") && r.contains("no pipeline"), "{r}");
        let r = reasons(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 44,
            "sha": "eeeeeeeeeeee", "rationale": "r"}));
        assert!(r.contains("conflicts"), "{r}");
        let r = reasons(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 99,
            "sha": "eeeeeeeeeeee", "rationale": "r"}));
        assert!(r.contains("!99 is not an open merge request"), "{r}");
    }

    #[test]
    fn merge_refuses_red_pipelines_missing_approvals_and_closed_mrs() {
        let head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let cmd: Command = serde_json::from_value(json!({"kind": "merge_mr", "project": "g/app",
            "mr_iid": 42, "sha": head, "rationale": "r"}))
        .unwrap();
        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.pipelines)
            .get_mut(&102)
            .unwrap()
            .status = Status::Failed;
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("pipeline 102 is failed"), "{r}");

        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.approvals)
            .get_mut(&42)
            .unwrap()
            .approved = Some(false);
        std::sync::Arc::make_mut(&mut s.approvals)
            .get_mut(&42)
            .unwrap()
            .approvals_left = Some(2);
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("2 more approval"), "{r}");

        // Merged-results pipelines: the MR's pipeline runs on refs/merge-requests/42/merge
        // and its sha is the merge commit, never the head. It is the MR's pipeline, and a
        // green one lets the merge through (the merge call pins the head with `sha`).
        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.pipelines).remove(&102);
        std::sync::Arc::make_mut(&mut s.pipelines).insert(
            103,
            pipeline(
                103,
                "success",
                "ffffffffffff",
                "refs/merge-requests/42/merge",
            ),
        );
        let mr = s.mrs[&42].clone();
        assert_eq!(s.pipeline_for_mr(&mr).map(|p| p.id), Some(103));
        assert_eq!(validate(&cmd, &s), Ok(()));
        // A head pipeline for another sha still refuses.
        std::sync::Arc::make_mut(&mut s.pipelines).insert(
            104,
            pipeline(
                104,
                "success",
                "eeeeeeeeeeee",
                "refs/merge-requests/42/head",
            ),
        );
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("not for the head sha"), "{r}");

        // GitLab CE/FOSS answers only these four fields; `approved: false` there means
        // "nobody approved yet" and no rule requires one: the merge is not refused.
        let mut s = snap();
        let ce: crate::gitlab::models::Approvals = serde_json::from_value(serde_json::json!({
            "user_has_approved": false, "user_can_approve": true, "approved": false,
            "approved_by": []
        }))
        .unwrap();
        assert!(ce.satisfied() && ce.is_ce_shape());
        std::sync::Arc::make_mut(&mut s.approvals).insert(42, ce);
        assert_eq!(validate(&cmd, &s), Ok(()));
        // The EE shape (the fixture's: 2 required, 1 left) still blocks: tests/gitlab_fixtures.rs.

        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&42)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .state = MrState::Merged;
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("!42 is already merged"), "{r}");

        let mut s = snap();
        std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&42)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .detailed_merge_status = Some(DetailedMergeStatus::DiscussionsNotResolved);
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("discussions_not_resolved"), "{r}");
    }

    #[test]
    fn before_gitlab_15_6_merge_status_says_conflicts() {
        // GitLab < 15.6: no detailed_merge_status; the legacy merge_status says conflicts.
        let head = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let cmd: Command = serde_json::from_value(json!({"kind": "merge_mr", "project": "g/app",
            "mr_iid": 42, "sha": head, "rationale": "r"}))
        .unwrap();
        let mut s = snap();
        let m = std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&42)
            .map(std::sync::Arc::make_mut)
            .unwrap();
        m.detailed_merge_status = None;
        m.has_conflicts = None;
        m.merge_status = Some("cannot_be_merged".into());
        let r = validate(&cmd, &s).unwrap_err().join("; ");
        assert!(r.contains("conflicts"), "{r}");
        assert_eq!(s.mrs[&42].merge_state(), Some("cannot_be_merged"));
        std::sync::Arc::make_mut(&mut s.mrs)
            .get_mut(&42)
            .map(std::sync::Arc::make_mut)
            .unwrap()
            .merge_status = Some("can_be_merged".into());
        assert_eq!(validate(&cmd, &s), Ok(()));
    }

    #[test]
    fn pipelines_retry_when_failed_cancel_when_active() {
        assert!(
            v(
                json!({"kind": "retry_pipeline", "project": "g/app", "pipeline_id": 100,
            "rationale": "r"})
            )
            .is_ok()
        );
        let r = reasons(json!({"kind": "retry_pipeline", "project": "g/app",
            "pipeline_id": 101, "rationale": "r"}));
        assert_eq!(r, "pipeline 101 is already running");
        assert!(
            v(
                json!({"kind": "cancel_pipeline", "project": "g/app", "pipeline_id": 101,
            "rationale": "r"})
            )
            .is_ok()
        );
        let r = reasons(json!({"kind": "cancel_pipeline", "project": "g/app",
            "pipeline_id": 102, "rationale": "r"}));
        assert!(r.contains("already success"), "{r}");
    }

    #[test]
    fn reviewers_are_members_and_not_the_author() {
        assert!(
            v(
                json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42,
            "reviewers": ["bob", "@carol"], "rationale": "r"})
            )
            .is_ok()
        );
        let r = reasons(
            json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42,
            "reviewers": ["alice", "mallory", "bob", "Bob"], "rationale": "r"}),
        );
        assert!(r.contains("alice is the author"), "{r}");
        assert!(r.contains("mallory is not a member"), "{r}");
        assert!(r.contains("Bob is listed twice"), "{r}");
        let r = reasons(
            json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42,
            "reviewers": [], "rationale": "r"}),
        );
        assert!(r.contains("no reviewers"), "{r}");
    }

    #[test]
    fn labels_and_bodies_are_bounded() {
        let r = reasons(
            json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42,
            "add": ["a,b", "x"], "remove": ["x"], "rationale": "r"}),
        );
        assert!(r.contains("comma") && r.contains("listed twice"), "{r}");
        let many: Vec<String> = (0..MAX_LABELS + 1).map(|i| format!("l{i}")).collect();
        let r = reasons(
            json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42,
            "add": many, "rationale": "r"}),
        );
        assert!(r.contains("more than"), "{r}");
        let r = reasons(
            json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42,
            "rationale": "r"}),
        );
        assert!(r.contains("no labels"), "{r}");
        let r = reasons(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "x".repeat(MAX_BODY_CHARS + 1), "rationale": "r"}),
        );
        assert!(r.contains("at most"), "{r}");
        let r = reasons(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "ok\u{202E}evil", "rationale": "r"}),
        );
        assert!(r.contains("invisible"), "{r}");
        let r = reasons(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "hey @all look", "rationale": "r"}),
        );
        assert!(r.contains("@all"), "{r}");
        assert!(
            v(
                json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "mail me at x@allegro.pl", "rationale": "r"})
            )
            .is_ok()
        );
        let r = reasons(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "  ", "rationale": ""}),
        );
        assert!(
            r.contains("body is empty") && r.contains("rationale is empty"),
            "{r}"
        );
    }

    #[test]
    fn confidence_is_in_unit_range() {
        let r = reasons(json!({"kind": "note", "project": "g/app", "text": "t",
            "rationale": "r", "confidence": 1.5}));
        assert!(r.contains("outside 0..1"), "{r}");
        assert!(
            v(
                json!({"kind": "note", "project": "g/app", "text": "t", "rationale": "r",
            "confidence": 0.0})
            )
            .is_ok()
        );
        let c = Command::Note {
            project: "g/app".into(),
            text: "t".into(),
            rationale: "r".into(),
            confidence: Some(f64::NAN),
            evidence: vec![],
        };
        assert!(validate(&c, &snap()).is_err());
    }
}
