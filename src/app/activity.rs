//! The activity feed: poll errors, pipeline transitions, proposals, decisions and executions,
//! each with its time. Bounded: the oldest entries fall off.

use std::collections::VecDeque;

use jiff::Timestamp;

use crate::gitlab::{ProjectSnapshot, Status};

use super::list::ListCursor;

pub const CAPACITY: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Info,
    Error,
    Pipeline,
    Proposal,
    Decision,
    Execution,
}

impl ActivityKind {
    pub fn label(self) -> &'static str {
        match self {
            ActivityKind::Info => "info",
            ActivityKind::Error => "error",
            ActivityKind::Pipeline => "ci",
            ActivityKind::Proposal => "proposal",
            ActivityKind::Decision => "decision",
            ActivityKind::Execution => "exec",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEntry {
    pub at: Timestamp,
    pub kind: ActivityKind,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// Newest first.
    pub entries: VecDeque<ActivityEntry>,
    pub cursor: ListCursor,
}

impl Activity {
    pub fn push(&mut self, at: Timestamp, kind: ActivityKind, text: impl Into<String>) {
        let text = text.into();
        // A poller that keeps failing the same way says so once, not every 10 s.
        if let Some(first) = self.entries.front_mut()
            && first.kind == kind
            && first.text == text
        {
            first.at = at;
            return;
        }
        self.entries.push_front(ActivityEntry { at, kind, text });
        self.entries.truncate(CAPACITY);
        // Keep the operator's place when they are reading older entries.
        if self.cursor.selected > 0 {
            self.cursor.selected = (self.cursor.selected + 1).min(self.entries.len() - 1);
            self.cursor.offset += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Pipeline transitions worth telling the operator about between two snapshots: new
/// pipelines, and pipelines that finished.
pub fn pipeline_changes(
    old: &ProjectSnapshot,
    new: &ProjectSnapshot,
) -> Vec<(ActivityKind, String)> {
    let mut out = Vec::new();
    for (id, p) in new.pipelines.iter() {
        let r = p.git_ref.as_deref().unwrap_or("?");
        match old.pipelines.get(id) {
            None => out.push((
                ActivityKind::Pipeline,
                format!("pipeline #{id} on {r}: {}", p.status),
            )),
            Some(o)
                if o.status != p.status
                    && (p.status.is_terminal() || p.status == Status::Running) =>
            {
                out.push((
                    ActivityKind::Pipeline,
                    format!("pipeline #{id} on {r}: {} -> {}", o.status, p.status),
                ))
            }
            _ => {}
        }
    }
    for (id, jobs) in new.jobs.iter() {
        for j in jobs {
            let before = old
                .jobs
                .get(id)
                .and_then(|js| js.iter().find(|o| o.id == j.id))
                .map(|o| &o.status);
            if j.status == Status::Failed && before.is_some_and(|b| *b != Status::Failed) {
                let why = j
                    .failure_reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                out.push((
                    ActivityKind::Pipeline,
                    format!("job {} #{} failed{why}", j.name, j.id),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn repeated_errors_collapse_and_capacity_holds() {
        let mut a = Activity::default();
        let t = testkit::now();
        a.push(t, ActivityKind::Error, "timeout");
        a.push(t, ActivityKind::Error, "timeout");
        assert_eq!(a.len(), 1);
        for i in 0..CAPACITY + 10 {
            a.push(t, ActivityKind::Info, format!("{i}"));
        }
        assert_eq!(a.len(), CAPACITY);
    }

    #[test]
    fn reports_finished_and_new_pipelines() {
        let old = testkit::snapshot();
        let mut new = old.clone();
        std::sync::Arc::make_mut(&mut new.pipelines)
            .get_mut(&103)
            .unwrap()
            .status = Status::Success;
        std::sync::Arc::make_mut(&mut new.pipelines).remove(&106);
        let mut extra = old.pipelines[&105].clone();
        extra.id = 107;
        std::sync::Arc::make_mut(&mut new.pipelines).insert(107, extra);
        let changes = pipeline_changes(&old, &new);
        let texts: Vec<_> = changes.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "pipeline #103 on refs/merge-requests/3/head: running -> success",
                "pipeline #107 on main: success"
            ]
        );
        assert!(pipeline_changes(&old, &old).is_empty());
    }
}
