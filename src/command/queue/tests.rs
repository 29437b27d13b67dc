use super::*;
use crate::command::policy::PolicySection;
use crate::command::validate::tests::snap;
use crate::gitlab::Status as GlStatus;
use serde_json::json;

fn now() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

fn q() -> Queue {
    Queue::new(Policy::default(), "op@host", "sess")
}

fn c(v: serde_json::Value) -> Command {
    serde_json::from_value(v).unwrap()
}

fn retry(job: u64) -> Command {
    c(json!({"kind": "retry_job", "project": "g/app", "job_id": job, "rationale": "flaky"}))
}

fn merge42() -> Command {
    c(json!({"kind": "merge_mr", "project": "g/app", "mr_iid": 42,
        "sha": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "rationale": "green"}))
}

fn decisions(q: &mut Queue) -> Vec<String> {
    q.drain_records()
        .into_iter()
        .filter_map(|r| match r.event {
            AuditEvent::Decision { decision, .. } => Some(decision),
            _ => None,
        })
        .collect()
}

#[test]
fn propose_validates_and_records() {
    let mut q = q();
    let s = snap();
    let ok = q.propose(retry(11), Source::Planner, &s, now());
    assert_eq!(ok, Proposed::New(1, Status::Proposed));
    let bad = q.propose(retry(12), Source::Planner, &s, now());
    assert_eq!(bad, Proposed::New(2, Status::Invalid));
    assert_eq!(
        q.get(2).unwrap().reason.as_deref(),
        Some("job 12 is already running")
    );
    assert_eq!(
        q.get(1).unwrap().target_label,
        "job 11 rspec in pipeline 100"
    );
    let recs = q.drain_records();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.event_name() == "proposal"));
}

#[test]
fn approve_start_finish_happy_path() {
    let mut q = q();
    let s = snap();
    let id = q.propose(retry(11), Source::Planner, &s, now()).id();
    assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
    assert_eq!(q.get(id).unwrap().approved_by.as_deref(), Some("op@host"));
    assert_eq!(q.startable(), vec![id]);
    let t = q.start(id, now()).unwrap();
    assert_eq!(t.command, retry(11));
    assert_eq!(t.operator, "op@host");
    assert_eq!(t.session, "sess");
    assert_eq!(q.get(id).unwrap().status, Status::Executing);
    q.finish(id, Finish::Done("201: job 99 created".into()), now())
        .unwrap();
    let item = q.get(id).unwrap();
    assert_eq!(item.status, Status::Done);
    assert_eq!(item.reason.as_deref(), Some("201: job 99 created"));
}

#[test]
fn double_approval_and_double_start_change_nothing() {
    let mut q = q();
    let id = q.propose(retry(11), Source::Planner, &snap(), now()).id();
    q.approve(id, now()).unwrap();
    assert!(matches!(
        q.approve(id, now()),
        Err(QueueError::WrongStatus { .. })
    ));
    q.start(id, now()).unwrap();
    assert!(matches!(
        q.start(id, now()),
        Err(QueueError::WrongStatus { .. })
    ));
    assert!(matches!(
        q.approve(id, now()),
        Err(QueueError::WrongStatus { .. })
    ));
}

#[test]
fn the_same_command_never_executes_twice() {
    let mut q = q();
    let s = snap();
    let id = q.propose(retry(11), Source::Planner, &s, now()).id();
    // Re-proposal while it is pending: no new item.
    assert_eq!(
        q.propose(retry(11), Source::Rules, &s, now()),
        Proposed::Duplicate(id)
    );
    q.approve(id, now()).unwrap();
    q.start(id, now()).unwrap();
    q.finish(id, Finish::Done("ok".into()), now()).unwrap();
    // Re-proposal of something done: still the same item.
    assert_eq!(
        q.propose(retry(11), Source::Planner, &s, now()),
        Proposed::Duplicate(id)
    );
    // A different rationale is the same command.
    let mut other = retry(11);
    if let Command::RetryJob { rationale, .. } = &mut other {
        *rationale = "again".into();
    }
    assert_eq!(
        q.propose(other, Source::Planner, &s, now()),
        Proposed::Duplicate(id)
    );
}

#[test]
fn remembered_executions_are_refused() {
    let mut q = q();
    q.remember_done(retry(11).identity(), "2026-03-01T11:00:00Z");
    let p = q.propose(retry(11), Source::PlanFile, &snap(), now());
    assert_eq!(p, Proposed::New(1, Status::Rejected));
    assert!(
        q.get(1)
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("already executed")
    );
}

#[test]
fn failed_commands_may_be_proposed_again_within_the_retry_budget() {
    let mut q = q().with_retry_budget(1);
    let s = snap();
    let id = q.propose(retry(11), Source::Planner, &s, now()).id();
    q.approve(id, now()).unwrap();
    q.start(id, now()).unwrap();
    q.finish(id, Finish::Failed("500 from gitlab".into()), now())
        .unwrap();
    let again = q.propose(retry(11), Source::Planner, &s, now());
    assert_eq!(again, Proposed::New(2, Status::Proposed));
    let e = q.approve(2, now()).unwrap_err();
    assert!(
        matches!(&e, QueueError::Refused { reason, .. } if reason.contains("retry budget")),
        "{e}"
    );
    assert_eq!(q.get(2).unwrap().status, Status::Rejected);
    assert!(decisions(&mut q).contains(&"refuse".to_string()));
}

#[test]
fn stale_executions_do_not_spend_the_budget() {
    let mut q = q().with_retry_budget(1);
    let s = snap();
    let id = q.propose(retry(11), Source::Planner, &s, now()).id();
    q.approve(id, now()).unwrap();
    q.start(id, now()).unwrap();
    q.finish(id, Finish::Stale("job 11 is already running".into()), now())
        .unwrap();
    assert_eq!(q.get(id).unwrap().status, Status::Stale);
    // Stale twin is re-checked on re-proposal: it holds on this snapshot again.
    assert_eq!(
        q.propose(retry(11), Source::Planner, &s, now()),
        Proposed::Duplicate(id)
    );
    assert_eq!(q.get(id).unwrap().status, Status::Proposed);
    assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
}

#[test]
fn reject_with_and_without_reason() {
    let mut q = q();
    let s = snap();
    let a = q.propose(retry(11), Source::Planner, &s, now()).id();
    let b = q
        .propose(
            c(
                json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42,
        "rationale": "r"}),
            ),
            Source::Planner,
            &s,
            now(),
        )
        .id();
    q.drain_records();
    q.reject(a, Some("  not flaky ".into()), now()).unwrap();
    q.reject(b, None, now()).unwrap();
    assert_eq!(
        q.get(a).unwrap().reason.as_deref(),
        Some("rejected by operator: not flaky")
    );
    assert_eq!(q.get(b).unwrap().status, Status::Rejected);
    assert!(matches!(
        q.approve(a, now()),
        Err(QueueError::WrongStatus { .. })
    ));
    assert!(matches!(
        q.reject(a, None, now()),
        Err(QueueError::WrongStatus { .. })
    ));
    let recs = q.drain_records();
    assert_eq!(recs.len(), 2);
    match &recs[0].event {
        AuditEvent::Decision {
            decision,
            reason,
            operator,
            ..
        } => {
            assert_eq!(decision, "reject");
            assert_eq!(reason.as_deref(), Some("not flaky"));
            assert_eq!(operator, "op@host");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn high_risk_needs_a_confirmation_naming_the_target() {
    let mut q = q();
    let s = snap();
    let id = q.propose(merge42(), Source::Planner, &s, now()).id();
    assert_eq!(q.get(id).unwrap().risk, Risk::High);
    let a = q.approve(id, now()).unwrap();
    assert_eq!(
        a,
        Approval::NeedsConfirmation {
            phrase: "merge !42".into()
        }
    );
    assert_eq!(
        q.get(id).unwrap().status,
        Status::Proposed,
        "not approved yet"
    );
    assert!(q.start(id, now()).is_err());
    // Wrong phrase: declined, stays proposed, recorded.
    assert!(matches!(
        q.confirm(id, "merge !43", now()),
        Err(QueueError::Refused { .. })
    ));
    assert_eq!(q.get(id).unwrap().status, Status::Proposed);
    assert!(
        matches!(
            q.confirm(id, "merge !42", now()),
            Err(QueueError::WrongStatus { .. })
        ),
        "a new approve is needed after a decline"
    );
    q.approve(id, now()).unwrap();
    q.decline_confirmation(id, now()).unwrap();
    assert_eq!(q.get(id).unwrap().status, Status::Proposed);
    q.approve(id, now()).unwrap();
    assert_eq!(
        q.confirm(id, "  Merge   !42 ", now()),
        Ok(Approval::Approved)
    );
    assert_eq!(q.get(id).unwrap().status, Status::Approved);
    let d = decisions(&mut q);
    assert_eq!(d, ["decline", "decline", "confirm"]);
}

#[test]
fn notes_are_acknowledged_without_execution() {
    let mut q = q();
    let id = q
        .propose(
            c(
                json!({"kind": "note", "project": "g/app", "text": "look at runner 3",
            "rationale": "r"}),
            ),
            Source::Rules,
            &snap(),
            now(),
        )
        .id();
    assert_eq!(q.approve(id, now()), Ok(Approval::Acknowledged));
    assert_eq!(q.get(id).unwrap().status, Status::Done);
    assert!(q.startable().is_empty());
}

#[test]
fn edits_revalidate_and_keep_the_original() {
    let mut q = q();
    let s = snap();
    let cmd = c(
        json!({"kind": "assign_reviewers", "project": "g/app", "mr_iid": 42,
        "reviewers": ["bob"], "rationale": "r"}),
    );
    let id = q.propose(cmd.clone(), Source::Planner, &s, now()).id();
    assert_eq!(Edit::initial_text(&cmd).as_deref(), Some("bob"));
    let e = Edit::from_text(&cmd, "alice, mallory").unwrap();
    assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Invalid));
    let item = q.get(id).unwrap();
    assert!(
        item.reason
            .as_deref()
            .unwrap()
            .contains("alice is the author")
    );
    assert_eq!(item.original, cmd);
    assert!(item.edited());
    assert!(q.approve(id, now()).is_err());
    let e = Edit::from_text(&cmd, "@carol\n").unwrap();
    assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Proposed));
    q.approve(id, now()).unwrap();
    let recs = q.drain_records();
    match &recs.last().unwrap().event {
        AuditEvent::Decision {
            decision,
            original,
            command,
            ..
        } => {
            assert_eq!(decision, "approve");
            assert_eq!(original["reviewers"], json!(["bob"]));
            assert_eq!(command["reviewers"], json!(["carol"]));
        }
        e => panic!("{e:?}"),
    }
    // Editing after approval is not possible.
    assert!(matches!(
        q.edit(id, &e, &s, now()),
        Err(QueueError::WrongStatus { .. })
    ));
}

#[test]
fn label_and_body_edits() {
    let mut q = q();
    let s = snap();
    let labels = c(
        json!({"kind": "set_labels", "project": "g/app", "mr_iid": 42,
        "add": ["a"], "remove": [], "rationale": "r"}),
    );
    let text = Edit::initial_text(&labels).unwrap();
    assert_eq!(text, "add: a\nremove: ");
    let id = q.propose(labels.clone(), Source::Planner, &s, now()).id();
    let e = Edit::from_text(&labels, "add: ci::broken, triage\nremove: a").unwrap();
    assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Proposed));
    assert!(Edit::from_text(&labels, "plus: x").is_err());
    let comment = c(
        json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
        "body": "hello", "rationale": "r"}),
    );
    let id = q.propose(comment.clone(), Source::Planner, &s, now()).id();
    let e = Edit::from_text(&comment, "").unwrap();
    assert_eq!(q.edit(id, &e, &s, now()), Ok(Status::Invalid));
    assert!(matches!(
        q.edit(id, &Edit::Reviewers(vec![]), &s, now()),
        Err(QueueError::BadEdit(_))
    ));
    assert!(Edit::from_text(&retry(11), "x").is_err());
}

#[test]
fn bulk_approval_lists_every_target_and_skips_high_risk() {
    let mut q = q();
    let s = snap();
    let a = q.propose(retry(11), Source::Planner, &s, now()).id();
    let b = q.propose(merge42(), Source::Planner, &s, now()).id();
    let bad = q.propose(retry(12), Source::Planner, &s, now()).id();
    let unmarked = q
        .propose(
            c(
                json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42,
        "rationale": "r"}),
            ),
            Source::Planner,
            &s,
            now(),
        )
        .id();
    for id in [a, b, bad] {
        assert!(q.toggle_mark(id).unwrap());
    }
    let p = q.bulk_preview();
    assert_eq!(
        p.approve,
        vec![(
            a,
            "retry_job job 11 rspec in pipeline 100 (low)".to_string()
        )]
    );
    assert_eq!(p.needs_confirmation.len(), 1);
    assert!(p.needs_confirmation[0].1.contains("!42 MR 42"));
    assert_eq!(p.skipped.len(), 1);
    assert!(p.skipped[0].1.contains("is invalid"));
    let r = q.approve_marked(now());
    assert_eq!(r, vec![(a, Ok(Approval::Approved))]);
    assert_eq!(q.get(b).unwrap().status, Status::Proposed);
    assert!(q.get(b).unwrap().marked);
    assert!(!q.get(a).unwrap().marked);
    assert_eq!(q.get(unmarked).unwrap().status, Status::Proposed);
}

#[test]
fn read_only_and_suggest_refuse_approval_and_record_it() {
    for section in [
        PolicySection {
            read_only: true,
            ..Default::default()
        },
        PolicySection {
            mode: Some("suggest".into()),
            ..Default::default()
        },
    ] {
        let mut q = Queue::new(Policy::from_config(&section, false).unwrap(), "op@h", "s");
        let id = q.propose(retry(11), Source::Planner, &snap(), now()).id();
        let e = q.approve(id, now()).unwrap_err();
        assert!(matches!(e, QueueError::Refused { .. }));
        let item = q.get(id).unwrap();
        assert_eq!(item.status, Status::Proposed, "still shown as a suggestion");
        assert!(item.reason.as_deref().unwrap().starts_with("refused: "));
        assert!(q.startable().is_empty());
        assert!(decisions(&mut q).contains(&"refuse".to_string()));
    }
}

#[test]
fn deny_and_auto_approve() {
    let section = PolicySection {
        deny: vec!["rebase_mr".into()],
        auto_approve: vec!["retry_job".into(), "play_job".into()],
        ..Default::default()
    };
    let mut q = Queue::new(Policy::from_config(&section, false).unwrap(), "op@h", "s");
    let s = snap();
    assert_eq!(
        q.propose(retry(11), Source::Planner, &s, now()),
        Proposed::New(1, Status::Approved)
    );
    assert_eq!(q.get(1).unwrap().approved_by.as_deref(), Some("policy"));
    let deploy = c(json!({"kind": "play_job", "project": "g/app", "job_id": 14, "rationale": "r"}));
    assert_eq!(
        q.propose(deploy, Source::Planner, &s, now()),
        Proposed::New(2, Status::Proposed),
        "a high-risk deploy is never auto-approved"
    );
    let rebase =
        c(json!({"kind": "rebase_mr", "project": "g/app", "mr_iid": 42, "rationale": "r"}));
    assert_eq!(
        q.propose(rebase, Source::Planner, &s, now()),
        Proposed::New(3, Status::Rejected)
    );
    assert!(
        q.get(3)
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("policy.deny")
    );
}

#[test]
fn revalidation_marks_stale_and_back() {
    let mut q = q();
    let s = snap();
    let a = q.propose(retry(11), Source::Planner, &s, now()).id();
    let b = q
        .propose(
            c(json!({"kind": "cancel_pipeline", "project": "g/app",
        "pipeline_id": 101, "rationale": "r"})),
            Source::Planner,
            &s,
            now(),
        )
        .id();
    q.approve(a, now()).unwrap();
    let mut newer = s.clone();
    std::sync::Arc::make_mut(&mut newer.jobs)
        .get_mut(&100)
        .unwrap()[0]
        .status = GlStatus::Running;
    std::sync::Arc::make_mut(&mut newer.pipelines)
        .get_mut(&101)
        .unwrap()
        .status = GlStatus::Success;
    q.revalidate(&newer, now());
    assert_eq!(q.get(a).unwrap().status, Status::Stale);
    assert_eq!(
        q.get(a).unwrap().reason.as_deref(),
        Some("job 11 is already running")
    );
    assert!(q.start(a, now()).is_err(), "a stale approval cannot run");
    assert_eq!(q.get(b).unwrap().status, Status::Stale);
    q.revalidate(&s, now());
    assert_eq!(
        q.get(a).unwrap().status,
        Status::Proposed,
        "needs a new approval"
    );
    assert_eq!(q.get(a).unwrap().approved_by, None);
}

#[test]
fn unknown_items_are_errors() {
    let mut q = q();
    assert_eq!(q.approve(9, now()), Err(QueueError::NoSuchItem(9)));
    assert!(q.reject(9, None, now()).is_err());
    assert!(q.toggle_mark(9).is_err());
    assert!(q.finish(9, Finish::Done(String::new()), now()).is_err());
}

/// Found by the property test: a medium-risk play approved with one key, then a poll shows the
/// job deploys. The approval did not name the target, so it must not carry the deploy.
#[test]
fn an_approval_does_not_survive_the_risk_rising_to_high() {
    let mut q = q();
    let s = snap();
    let play =
        c(json!({"kind": "play_job", "project": "g/app", "job_id": 13, "rationale": "perf"}));
    let id = q.propose(play, Source::Planner, &s, now()).id();
    assert_eq!(q.get(id).unwrap().risk, Risk::Medium);
    assert_eq!(q.approve(id, now()), Ok(Approval::Approved));
    q.drain_records();

    let mut deploys = s.clone();
    crate::testkit::deploys_to(&mut deploys, 13, "production");
    q.revalidate(&deploys, now());
    let item = q.get(id).unwrap();
    assert_eq!(item.risk, Risk::High);
    assert_eq!(item.status, Status::Proposed);
    assert_eq!(item.approved_by, None);
    assert!(q.startable().is_empty());
    assert_eq!(decisions(&mut q), vec!["revoke"]);
    assert!(matches!(
        q.approve(id, now()),
        Ok(Approval::NeedsConfirmation { .. })
    ));

    // The same through the policy: auto-approved at medium, revoked at high.
    let policy = Policy {
        auto_approve: [Kind::PlayJob].into_iter().collect(),
        ..Policy::default()
    };
    let mut q = Queue::new(policy, "op@host", "sess");
    let play =
        c(json!({"kind": "play_job", "project": "g/app", "job_id": 13, "rationale": "perf"}));
    let p = q.propose(play, Source::Planner, &s, now());
    assert_eq!(p, Proposed::New(1, Status::Approved));
    q.revalidate(&deploys, now());
    assert_eq!(q.get(1).unwrap().status, Status::Proposed);
    assert!(matches!(
        q.start(1, now()),
        Err(QueueError::WrongStatus { .. })
    ));
}
