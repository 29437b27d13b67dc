//! The pipelines pane: recent pipelines, each expandable into its stages and jobs.

use std::collections::BTreeSet;

use crate::gitlab::{Job, Pipeline, ProjectSnapshot, Status};

use super::list::ListCursor;
use super::mrs::Filter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipeRow {
    Pipeline(u64),
    Stage {
        pipeline: u64,
        stage: String,
    },
    Job {
        pipeline: u64,
        job: u64,
    },
    /// Expanded, but the jobs have not been fetched yet.
    Loading(u64),
    /// A trigger job of `pipeline` (or of a pipeline below it, at `depth` > 1) and the
    /// downstream pipeline it started; that pipeline's jobs follow as `Job` rows of `pipeline`
    /// (the pipeline in the list they belong under).
    Downstream {
        pipeline: u64,
        bridge: u64,
        child: u64,
        depth: usize,
    },
}

impl PipeRow {
    /// The pipeline of the list this row belongs under.
    pub fn pipeline_id(&self) -> u64 {
        match self {
            PipeRow::Pipeline(p) | PipeRow::Loading(p) => *p,
            PipeRow::Stage { pipeline, .. }
            | PipeRow::Job { pipeline, .. }
            | PipeRow::Downstream { pipeline, .. } => *pipeline,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PipelineTree {
    pub expanded: BTreeSet<u64>,
    pub filter_text: String,
    filter: Filter,
    pub rows: Vec<PipeRow>,
    pub cursor: ListCursor,
}

/// Stages in pipeline order. GitLab lists jobs newest first, so order by the smallest job id
/// of each stage (jobs are created stage by stage).
pub fn stages(jobs: &[Job]) -> Vec<(String, Vec<&Job>)> {
    let mut out: Vec<(String, Vec<&Job>)> = Vec::new();
    let mut sorted: Vec<&Job> = jobs.iter().collect();
    sorted.sort_by_key(|j| j.id);
    for j in sorted {
        match out.iter_mut().find(|(s, _)| *s == j.stage) {
            Some((_, v)) => v.push(j),
            None => out.push((j.stage.clone(), vec![j])),
        }
    }
    out
}

/// A stage's status from its jobs (GitLab's own stage status is unreliable): a blocking
/// failure wins, then anything still moving, then the rest.
pub fn stage_status(jobs: &[&Job]) -> Status {
    let any = |f: &dyn Fn(&Job) -> bool| jobs.iter().any(|j| f(j));
    if any(&|j| j.status == Status::Failed && !j.allow_failure) {
        Status::Failed
    } else if any(&|j| j.status == Status::Running) {
        Status::Running
    } else if any(&|j| j.status.is_active()) {
        Status::Pending
    } else if any(&|j| j.status == Status::Manual) {
        Status::Manual
    } else if any(&|j| j.status == Status::Success || j.status == Status::Failed) {
        Status::Success
    } else if any(&|j| j.status == Status::Canceled) {
        Status::Canceled
    } else {
        Status::Skipped
    }
}

fn haystack(p: &Pipeline) -> String {
    format!(
        "{} {} {} {} {}",
        p.id,
        p.status,
        p.git_ref.as_deref().unwrap_or(""),
        p.source.as_deref().unwrap_or(""),
        p.user.as_ref().map(|u| u.username.as_str()).unwrap_or("")
    )
}

impl PipelineTree {
    pub fn set_filter(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.filter = Filter::parse(text);
    }

    pub fn selected(&self) -> Option<&PipeRow> {
        self.rows.get(self.cursor.selected)
    }

    /// Pipelines whose rows (or jobs) are on screen: the poller fetches jobs for these.
    pub fn visible_pipelines(&self, height: usize) -> Vec<u64> {
        let mut ids: Vec<u64> = self.rows[self.cursor.visible(self.rows.len(), height)]
            .iter()
            .map(PipeRow::pipeline_id)
            .collect();
        ids.extend(self.expanded.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn rebuild(&mut self, snap: Option<&ProjectSnapshot>, height: usize) {
        let keep = self.selected().cloned();
        self.rows.clear();
        let Some(snap) = snap else {
            self.cursor = ListCursor::default();
            return;
        };
        // Forget expansions of pipelines that left the snapshot.
        self.expanded.retain(|id| snap.pipelines.contains_key(id));
        for p in snap.pipelines.values().rev() {
            if !self.filter.is_empty() && !self.filter.matches_text(&haystack(p)) {
                continue;
            }
            self.rows.push(PipeRow::Pipeline(p.id));
            if !self.expanded.contains(&p.id) {
                continue;
            }
            match snap.jobs.get(&p.id) {
                None => self.rows.push(PipeRow::Loading(p.id)),
                Some(jobs) => {
                    for (stage, jobs) in stages(jobs) {
                        self.rows.push(PipeRow::Stage {
                            pipeline: p.id,
                            stage,
                        });
                        for j in jobs {
                            self.rows.push(PipeRow::Job {
                                pipeline: p.id,
                                job: j.id,
                            });
                        }
                    }
                }
            }
            // Child and multi-project pipelines under their trigger jobs: the list leaves
            // them out, and a failure downstream shows no failed job above.
            for (depth, b, d) in snap.downstream_tree(p.id) {
                self.rows.push(PipeRow::Downstream {
                    pipeline: p.id,
                    bridge: b.id,
                    child: d.id,
                    depth,
                });
                for (_, jobs) in stages(snap.jobs.get(&d.id).map_or(&[][..], |v| v)) {
                    for j in jobs {
                        self.rows.push(PipeRow::Job {
                            pipeline: p.id,
                            job: j.id,
                        });
                    }
                }
            }
        }
        if let Some(k) = keep {
            let pos = self.rows.iter().position(|r| *r == k).or_else(|| {
                // The job vanished (e.g. jobs refetched): stay on its pipeline.
                self.rows
                    .iter()
                    .position(|r| *r == PipeRow::Pipeline(k.pipeline_id()))
            });
            if let Some(pos) = pos {
                self.cursor.selected = pos;
            }
        }
        self.cursor.clamp(self.rows.len(), height);
        // Newer pipelines arriving above the selection (or a first list drawn before the pane
        // had its height) must not stay scrolled off: the newest is what the pane is for.
        self.cursor.prefer_top(height);
    }

    /// Expands (true) or collapses the pipeline of the selected row. Returns whether anything
    /// changed.
    pub fn set_expanded(&mut self, expand: bool) -> bool {
        let Some(row) = self.selected().cloned() else {
            return false;
        };
        let id = row.pipeline_id();
        let changed = if expand {
            self.expanded.insert(id)
        } else {
            self.expanded.remove(&id)
        };
        if changed && !expand {
            // Put the cursor back on the pipeline row it came from.
            if let Some(pos) = self.rows.iter().position(|r| *r == PipeRow::Pipeline(id)) {
                self.cursor.selected = pos;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn expands_into_stages_and_jobs_in_pipeline_order() {
        let snap = testkit::snapshot();
        let mut t = PipelineTree::default();
        t.rebuild(Some(&snap), 20);
        assert_eq!(
            t.rows.first(),
            Some(&PipeRow::Pipeline(106)),
            "newest first"
        );
        let pos = t
            .rows
            .iter()
            .position(|r| *r == PipeRow::Pipeline(101))
            .unwrap();
        t.cursor.selected = pos;
        assert!(t.set_expanded(true));
        t.rebuild(Some(&snap), 20);
        let after: Vec<_> = t.rows[pos..pos + 4].to_vec();
        assert_eq!(
            after,
            vec![
                PipeRow::Pipeline(101),
                PipeRow::Stage {
                    pipeline: 101,
                    stage: "build".into()
                },
                PipeRow::Job {
                    pipeline: 101,
                    job: 1001
                },
                PipeRow::Stage {
                    pipeline: 101,
                    stage: "test".into()
                },
            ]
        );
        // Collapsing from a job row returns to the pipeline row.
        t.cursor.selected = pos + 2;
        assert!(t.set_expanded(false));
        t.rebuild(Some(&snap), 20);
        assert_eq!(t.selected(), Some(&PipeRow::Pipeline(101)));
    }

    /// A list first laid out before the pane had its height, then newer pipelines arriving
    /// above the selection: the newest stay on screen, the selection stays where it was.
    #[test]
    fn newer_pipelines_above_the_selection_are_shown() {
        let snap = testkit::snapshot();
        let newest = *snap.pipelines.keys().next_back().unwrap();
        let older: Vec<u64> = snap.pipelines.keys().rev().skip(2).copied().collect();
        let mut t = PipelineTree::default();
        let mut first = snap.clone();
        std::sync::Arc::make_mut(&mut first.pipelines).retain(|id, _| older.contains(id));
        // Height 0: drawn before the first resize.
        t.rebuild(Some(&first), 0);
        t.cursor.selected = 0;
        t.rebuild(Some(&snap), 0);
        assert_eq!(
            t.selected(),
            Some(&PipeRow::Pipeline(older[0])),
            "same pipeline selected"
        );
        t.rebuild(Some(&snap), 3);
        assert_eq!(t.cursor.offset, 0, "the newest is on screen");
        assert_eq!(t.rows[0], PipeRow::Pipeline(newest));
        // A selection beyond the first screen still scrolls as before.
        t.cursor.selected = t.rows.len() - 1;
        t.rebuild(Some(&snap), 2);
        assert!(t.cursor.offset > 0);
    }

    #[test]
    fn unfetched_jobs_show_a_loading_row() {
        let snap = testkit::snapshot();
        let mut t = PipelineTree::default();
        t.expanded.insert(105);
        t.rebuild(Some(&snap), 20);
        assert!(t.rows.contains(&PipeRow::Loading(105)));
        assert!(t.visible_pipelines(1).contains(&105));
    }

    #[test]
    fn downstream_pipelines_and_their_jobs_follow_their_trigger_job() {
        let mut snap = testkit::snapshot();
        let child: Pipeline = serde_json::from_value(serde_json::json!({
            "id": 9001, "status": "failed", "source": "parent_pipeline", "ref": "main"}))
        .unwrap();
        let bridge: crate::gitlab::Bridge = serde_json::from_value(serde_json::json!({
            "id": 7001, "name": "trigger:e2e", "stage": "deploy", "status": "failed",
            "downstream_pipeline": child}))
        .unwrap();
        std::sync::Arc::make_mut(&mut snap.bridges).insert(101, vec![bridge]);
        let mut j = snap.jobs[&101][0].clone();
        j.id = 9100;
        j.status = Status::Failed;
        j.pipeline =
            Some(serde_json::from_value(serde_json::json!({"id": 9001, "ref": "main"})).unwrap());
        std::sync::Arc::make_mut(&mut snap.jobs).insert(9001, vec![j]);
        let mut t = PipelineTree::default();
        t.expanded.insert(101);
        t.rebuild(Some(&snap), 40);
        let at = t
            .rows
            .iter()
            .position(|r| matches!(r, PipeRow::Downstream { child: 9001, .. }))
            .expect("a downstream row");
        assert_eq!(
            t.rows[at],
            PipeRow::Downstream {
                pipeline: 101,
                bridge: 7001,
                child: 9001,
                depth: 1
            }
        );
        assert_eq!(
            t.rows[at + 1],
            PipeRow::Job {
                pipeline: 101,
                job: 9100
            }
        );
        // Collapsed: nothing below the pipeline row.
        t.expanded.clear();
        t.rebuild(Some(&snap), 40);
        assert!(
            !t.rows
                .iter()
                .any(|r| matches!(r, PipeRow::Downstream { .. }))
        );
    }

    #[test]
    fn stage_status_from_jobs() {
        let snap = testkit::snapshot();
        let st = stages(&snap.jobs[&101]);
        let status: Vec<_> = st
            .iter()
            .map(|(n, j)| (n.as_str(), stage_status(j)))
            .collect();
        assert_eq!(
            status,
            vec![
                ("build", Status::Success),
                ("test", Status::Failed),
                ("deploy", Status::Skipped)
            ]
        );
    }

    #[test]
    fn filter_by_ref_and_status() {
        let snap = testkit::snapshot();
        let mut t = PipelineTree::default();
        t.set_filter("main");
        t.rebuild(Some(&snap), 20);
        assert_eq!(t.rows, vec![PipeRow::Pipeline(106), PipeRow::Pipeline(105)]);
        t.set_filter("failed -main");
        t.rebuild(Some(&snap), 20);
        assert_eq!(t.rows, vec![PipeRow::Pipeline(101)]);
    }
}
