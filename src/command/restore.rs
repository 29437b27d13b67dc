//! Proposals an earlier session left waiting, read back from the audit log: the operator quit
//! (or the terminal died) with commands in the queue, and they should not be lost. Only for the
//! same GitLab instance and project, only recent, never one that was rejected or executed. They
//! come back as proposals to be validated and approved again.

use std::collections::BTreeMap;

use super::audit::{AuditEvent, AuditRecord};
use super::model::Command;
use super::parse::parse_command;

/// Where an item of an earlier session ended.
enum Last {
    Waiting(Command),
    Over,
}

/// The commands still waiting at the end of their sessions, oldest first, one per identity.
/// `own_session` (this process) is skipped; records without an instance are not trusted to be
/// this one.
pub fn waiting_proposals(
    records: &[Result<AuditRecord, (usize, String)>],
    since: jiff::Timestamp,
    gitlab: &str,
    project: &str,
    own_session: &str,
) -> Vec<Command> {
    let mut items: BTreeMap<(String, u64), (String, Last)> = BTreeMap::new();
    for r in records.iter().filter_map(|r| r.as_ref().ok()) {
        if r.session == own_session
            || r.gitlab.as_deref() != Some(gitlab)
            || !r.project.eq_ignore_ascii_case(project)
        {
            continue;
        }
        let Ok(t) = r.time.parse::<jiff::Timestamp>() else {
            continue;
        };
        if t < since {
            continue;
        }
        let key = (r.session.clone(), r.item);
        let last = match &r.event {
            AuditEvent::Proposal {
                status, command, ..
            } if status == "proposed" => match parse_command(command) {
                Ok(c) => Last::Waiting(c),
                Err(_) => Last::Over,
            },
            AuditEvent::Proposal { .. } => Last::Over,
            AuditEvent::Decision {
                decision, command, ..
            } => match decision.as_str() {
                "reject" | "refuse" => Last::Over,
                // Edited, declined or approved but never executed: waiting again, in the form
                // last decided (approval is asked anew).
                _ => match parse_command(command) {
                    Ok(c) => Last::Waiting(c),
                    Err(_) => Last::Over,
                },
            },
            AuditEvent::Execution { .. } => Last::Over,
        };
        items.insert(key, (r.time.clone(), last));
    }
    let mut waiting: Vec<(String, Command)> = items
        .into_values()
        .filter_map(|(time, last)| match last {
            Last::Waiting(c) => Some((time, c)),
            Last::Over => None,
        })
        .collect();
    waiting.sort_by(|a, b| a.0.cmp(&b.0));
    let mut seen = std::collections::BTreeSet::new();
    waiting
        .into_iter()
        .filter(|(_, c)| seen.insert(c.identity()))
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(time: &str, session: &str, item: u64, event: AuditEvent) -> AuditRecord {
        AuditRecord {
            time: time.into(),
            session: session.into(),
            item,
            project: "acme/platform".into(),
            kind: "retry_job".into(),
            target: "job 1".into(),
            gitlab: Some("gitlab.test".into()),
            identity: None,
            event,
        }
    }

    fn retry(job: u64) -> serde_json::Value {
        json!({"kind": "retry_job", "project": "acme/platform", "job_id": job, "rationale": "r"})
    }

    fn proposed(job: u64) -> AuditEvent {
        AuditEvent::Proposal {
            source: "rules".into(),
            risk: crate::command::Risk::Low,
            status: "proposed".into(),
            reason: None,
            command: retry(job),
        }
    }

    fn decided(job: u64, decision: &str) -> AuditEvent {
        AuditEvent::Decision {
            operator: "me@host".into(),
            decision: decision.into(),
            reason: None,
            original: retry(job),
            command: retry(job),
        }
    }

    #[test]
    fn only_what_was_left_waiting_comes_back() {
        let t = "2026-12-04T10:00:00Z";
        let records = vec![
            Ok(rec(t, "old", 1, proposed(1))),
            Ok(rec(t, "old", 2, proposed(2))),
            Ok(rec(t, "old", 2, decided(2, "reject"))),
            Ok(rec(t, "old", 3, proposed(3))),
            Ok(rec(t, "old", 3, decided(3, "approve"))),
            Ok(rec(t, "old", 4, proposed(4))),
            Ok(rec(
                t,
                "old",
                4,
                AuditEvent::Execution {
                    operator: "me@host".into(),
                    outcome: "done".into(),
                    method: None,
                    path: None,
                    status: Some(201),
                    summary: "ok".into(),
                    duration_ms: 1,
                    command: retry(4),
                },
            )),
            // The same command proposed again in another session: once.
            Ok(rec(t, "older", 9, proposed(1))),
            // Another instance, this session, too old: not restored.
            Ok(AuditRecord {
                gitlab: Some("other.example".into()),
                ..rec(t, "old", 5, proposed(5))
            }),
            Ok(rec(t, "me", 6, proposed(6))),
            Ok(rec("2026-12-01T10:00:00Z", "old", 7, proposed(7))),
        ];
        let since: jiff::Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let back = waiting_proposals(&records, since, "gitlab.test", "ACME/platform", "me");
        let jobs: Vec<String> = back.iter().map(|c| c.target().to_string()).collect();
        assert_eq!(jobs, vec!["job 1", "job 3"]);
    }
}
