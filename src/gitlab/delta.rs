//! Pure merging of list responses into a snapshot: what the poller does with the bytes it
//! fetched, kept free of IO so it can be tested item by item.
//!
//! Deltas overlap on purpose (the `updated_after` window starts ~60 s before the previous
//! refresh), so an item whose `updated_at` did not move is a duplicate and changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::models::{Bridge, MergeRequest, MrState, Pipeline, UserRef};
use super::snapshot::{ProjectSnapshot, remove_shared};

/// What one merge changed: ids of items added or modified, and of items that left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    pub updated: BTreeSet<u64>,
    pub removed: BTreeSet<u64>,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Merges MRs of any state (a `state=all` delta): open ones are inserted or replaced, merged,
/// closed and locked ones leave the open set together with their cached details.
pub fn apply_mr_delta(snap: &mut ProjectSnapshot, items: Vec<MergeRequest>) -> Changed {
    let mut changed = Changed::default();
    let mut users = Users::of(snap, !items.is_empty());
    for mut mr in items {
        let iid = mr.iid;
        if mr.state != MrState::Opened {
            if remove_shared(&mut snap.mrs, &iid).is_some() {
                forget_mr_details(snap, iid);
                changed.removed.insert(iid);
            }
            continue;
        }
        match snap.mrs.get(&iid) {
            Some(old) if old.id == mr.id && old.updated_at == mr.updated_at => {}
            old => {
                users.intern(&mut mr);
                let merged = keep_detail_fields(old.map(|m| &**m), mr);
                Arc::make_mut(&mut snap.mrs).insert(iid, Arc::new(merged));
                changed.updated.insert(iid);
            }
        }
    }
    changed
}

/// The users the held MRs refer to, one `Arc` each: a parsed MR's author, assignees and
/// reviewers are replaced by the one already held when it is the same (same id and fields),
/// so thousands of MRs by a few dozen people keep a few dozen users, not thousands.
struct Users(HashMap<u64, Arc<UserRef>>);

impl Users {
    /// Collected from the MRs held (none when there is nothing to merge).
    fn of(snap: &ProjectSnapshot, wanted: bool) -> Users {
        let mut map = HashMap::new();
        if wanted {
            for mr in snap.mrs.values() {
                for u in mr.author.iter().chain(&mr.assignees).chain(&mr.reviewers) {
                    map.entry(u.id).or_insert_with(|| u.clone());
                }
            }
        }
        Users(map)
    }

    fn intern(&mut self, mr: &mut MergeRequest) {
        let users = mr
            .author
            .iter_mut()
            .chain(&mut mr.assignees)
            .chain(&mut mr.reviewers);
        for u in users {
            match self.0.get(&u.id) {
                Some(held) if Arc::ptr_eq(held, u) => {}
                Some(held) if **held == **u => *u = held.clone(),
                // A user whose name or state changed: the newer one is kept from now on.
                _ => {
                    self.0.insert(u.id, u.clone());
                }
            }
        }
    }
}

/// Merges the complete list of open MRs (the periodic reconcile): anything missing from it left
/// the open set, whatever the deltas said.
pub fn reconcile_open_mrs(snap: &mut ProjectSnapshot, open: Vec<MergeRequest>) -> Changed {
    let listed: BTreeSet<u64> = open
        .iter()
        .filter(|m| m.state == MrState::Opened)
        .map(|m| m.iid)
        .collect();
    let gone: Vec<u64> = snap
        .mrs
        .keys()
        .filter(|iid| !listed.contains(iid))
        .copied()
        .collect();
    let mut changed = apply_mr_delta(snap, open);
    for iid in gone {
        remove_shared(&mut snap.mrs, &iid);
        forget_mr_details(snap, iid);
        changed.removed.insert(iid);
    }
    changed
}

/// List items lack `head_pipeline`, `diff_refs`, `changes_count` and `user`; a previously
/// fetched single MR keeps them as long as the head sha has not moved.
fn keep_detail_fields(old: Option<&MergeRequest>, mut new: MergeRequest) -> MergeRequest {
    if let Some(old) = old
        && old.sha.is_some()
        && old.sha == new.sha
    {
        if new.head_pipeline.is_none() {
            new.head_pipeline = old.head_pipeline.clone();
        }
        if new.diff_refs.is_none() {
            new.diff_refs = old.diff_refs.clone();
        }
        if new.changes_count.is_none() {
            new.changes_count = old.changes_count.clone();
        }
        if new.user.is_none() {
            new.user = old.user.clone();
        }
    }
    new
}

/// Cached details of an MR that changed are no longer true; absent means "not fetched".
pub fn forget_mr_details(snap: &mut ProjectSnapshot, iid: u64) {
    remove_shared(&mut snap.approvals, &iid);
    remove_shared(&mut snap.diffs, &iid);
    remove_shared(&mut snap.notes, &iid);
    remove_shared(&mut snap.diff_pages, &iid);
    remove_shared(&mut snap.discussions, &iid);
    remove_shared(&mut snap.approval_state, &iid);
}

/// Stores `parent`'s trigger jobs. A downstream pipeline that moved (status or `updated_at`)
/// loses what was fetched below it, so its jobs are fetched again. Returns whether anything
/// changed.
pub fn apply_bridges(snap: &mut ProjectSnapshot, parent: u64, list: Vec<Bridge>) -> bool {
    if snap.bridges.get(&parent) == Some(&list) {
        return false;
    }
    let moved: Vec<u64> = list
        .iter()
        .filter_map(|b| b.downstream_pipeline.as_ref())
        .filter(|d| {
            snap.downstream_pipeline(d.id)
                .is_none_or(|old| old.status != d.status || old.updated_at != d.updated_at)
        })
        .map(|d| d.id)
        .collect();
    for id in moved {
        snap.forget_downstream(id);
        if !snap.pipelines.contains_key(&id) {
            remove_shared(&mut snap.jobs, &id);
        }
    }
    Arc::make_mut(&mut snap.bridges).insert(parent, list);
    true
}

/// Merges pipelines and keeps the newest `keep` by id. Returns which of the kept ones changed
/// and which were dropped (their jobs go with them).
pub fn apply_pipeline_delta(
    snap: &mut ProjectSnapshot,
    items: Vec<Pipeline>,
    keep: usize,
) -> Changed {
    let mut changed = Changed::default();
    let known_before: BTreeSet<u64> = snap.pipelines.keys().copied().collect();
    for p in items {
        match snap.pipelines.get(&p.id) {
            Some(old) if old.updated_at == p.updated_at && old.status == p.status => {}
            _ => {
                changed.updated.insert(p.id);
                Arc::make_mut(&mut snap.pipelines).insert(p.id, p);
            }
        }
    }
    // The newest `keep`, and every pinned one however old.
    let newest: BTreeSet<u64> = snap
        .pipelines
        .keys()
        .rev()
        .take(keep.max(1))
        .copied()
        .collect();
    let drop: Vec<u64> = snap
        .pipelines
        .keys()
        .filter(|id| !newest.contains(id) && !snap.pinned.contains(id))
        .copied()
        .collect();
    for oldest in drop {
        snap.forget_downstream(oldest);
        remove_shared(&mut snap.pipelines, &oldest);
        remove_shared(&mut snap.jobs, &oldest);
        changed.updated.remove(&oldest);
        if known_before.contains(&oldest) {
            changed.removed.insert(oldest);
        }
    }
    changed
}

/// Pipelines among `changed` that just reached `failed`: their jobs are wanted even when not on
/// screen, because failures are what the planner and the diagnoser act on.
pub fn newly_failed(
    before: &BTreeMap<u64, Pipeline>,
    snap: &ProjectSnapshot,
    changed: &Changed,
) -> Vec<u64> {
    changed
        .updated
        .iter()
        .filter(|id| {
            let now_failed = snap
                .pipelines
                .get(id)
                .is_some_and(|p| p.status == super::models::Status::Failed);
            let was_failed = before
                .get(id)
                .is_some_and(|p| p.status == super::models::Status::Failed);
            now_failed && !was_failed
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::models::Status;

    fn mr(iid: u64, state: &str, updated: &str, sha: &str) -> MergeRequest {
        serde_json::from_value(serde_json::json!({
            "id": 1000 + iid, "iid": iid, "project_id": 1, "title": format!("MR {iid}"),
            "state": state, "updated_at": updated, "sha": sha,
        }))
        .unwrap()
    }

    fn pipe(id: u64, status: &str, updated: &str) -> Pipeline {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": status, "ref": "main", "updated_at": updated,
        }))
        .unwrap()
    }

    const T1: &str = "2024-01-01T10:00:00.000Z";
    const T2: &str = "2024-01-01T10:05:00.000Z";

    fn by(iid: u64, author: &str, reviewer: &str, updated: &str) -> MergeRequest {
        let mut m = mr(iid, "opened", updated, "abc");
        let u = |id: u64, name: &str| UserRef {
            id,
            username: name.into(),
            ..UserRef::default()
        };
        m.author = Some(u(7, author).into());
        m.reviewers = vec![u(8, reviewer).into()];
        m
    }

    #[test]
    fn the_same_user_is_held_once_across_mrs_and_deltas() {
        let mut snap = ProjectSnapshot::default();
        apply_mr_delta(
            &mut snap,
            vec![by(1, "ann", "bob", T1), by(2, "ann", "bob", T1)],
        );
        apply_mr_delta(&mut snap, vec![by(3, "ann", "bob", T2)]);
        let author = |iid: u64| snap.mrs[&iid].author.clone().unwrap();
        assert!(Arc::ptr_eq(&author(1), &author(2)));
        assert!(Arc::ptr_eq(&author(1), &author(3)));
        assert!(Arc::ptr_eq(
            &snap.mrs[&3].reviewers[0],
            &snap.mrs[&1].reviewers[0]
        ));
        // A renamed user is not confused with the one held: the new MR says the new name.
        apply_mr_delta(&mut snap, vec![by(4, "ann-2", "bob", T2)]);
        assert_eq!(snap.mrs[&4].author_username(), "ann-2");
        assert_eq!(snap.mrs[&1].author_username(), "ann");
    }

    #[test]
    fn pinned_pipelines_survive_the_trim() {
        let mut snap = ProjectSnapshot::default();
        let p = |id: u64| pipe(id, "success", T1);
        apply_pipeline_delta(&mut snap, (1..=5).map(p).collect(), 5);
        snap.pinned.insert(1);
        let c = apply_pipeline_delta(&mut snap, (6..=8).map(p).collect(), 3);
        assert_eq!(
            snap.pipelines.keys().copied().collect::<Vec<_>>(),
            vec![1, 6, 7, 8]
        );
        assert_eq!(c.removed.into_iter().collect::<Vec<_>>(), vec![2, 3, 4, 5]);
    }

    #[test]
    fn duplicates_from_the_overlap_window_change_nothing() {
        let mut s = ProjectSnapshot::default();
        let c = apply_mr_delta(
            &mut s,
            vec![mr(1, "opened", T1, "a"), mr(2, "opened", T1, "b")],
        );
        assert_eq!(c.updated.len(), 2);
        let c = apply_mr_delta(&mut s, vec![mr(1, "opened", T1, "a")]);
        assert!(c.is_empty());
        let c = apply_mr_delta(&mut s, vec![mr(1, "opened", T2, "a")]);
        assert_eq!(c.updated, BTreeSet::from([1]));
    }

    #[test]
    fn merged_and_closed_leave_the_open_set_with_their_details() {
        let mut s = ProjectSnapshot::default();
        apply_mr_delta(
            &mut s,
            vec![mr(1, "opened", T1, "a"), mr(2, "opened", T1, "b")],
        );
        std::sync::Arc::make_mut(&mut s.approvals).insert(1, Default::default());
        std::sync::Arc::make_mut(&mut s.notes).insert(1, vec![]);
        let c = apply_mr_delta(
            &mut s,
            vec![mr(1, "merged", T2, "a"), mr(9, "closed", T2, "z")],
        );
        assert_eq!(c.removed, BTreeSet::from([1]));
        assert!(c.updated.is_empty());
        assert!(
            !s.mrs.contains_key(&1) && !s.approvals.contains_key(&1) && !s.notes.contains_key(&1)
        );
        assert!(!s.mrs.contains_key(&9), "a closed MR never enters");
    }

    #[test]
    fn reconcile_drops_what_the_deltas_missed() {
        let mut s = ProjectSnapshot::default();
        apply_mr_delta(
            &mut s,
            vec![mr(1, "opened", T1, "a"), mr(2, "opened", T1, "b")],
        );
        let c = reconcile_open_mrs(
            &mut s,
            vec![mr(2, "opened", T1, "b"), mr(3, "opened", T2, "c")],
        );
        assert_eq!(c.removed, BTreeSet::from([1]));
        assert_eq!(c.updated, BTreeSet::from([3]));
        assert_eq!(s.mrs.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn list_items_keep_single_mr_fields_while_the_sha_holds() {
        let mut s = ProjectSnapshot::default();
        let mut single = mr(1, "opened", T1, "a");
        single.head_pipeline = Some(Box::new(pipe(7, "running", T1)));
        std::sync::Arc::make_mut(&mut s.mrs).insert(1, single.into());
        apply_mr_delta(&mut s, vec![mr(1, "opened", T2, "a")]);
        assert_eq!(s.mrs[&1].head_pipeline.as_ref().map(|p| p.id), Some(7));
        apply_mr_delta(
            &mut s,
            vec![mr(1, "opened", "2024-01-01T11:00:00Z", "new-sha")],
        );
        assert!(
            s.mrs[&1].head_pipeline.is_none(),
            "a new push makes it stale"
        );
    }

    #[test]
    fn pipelines_are_windowed_to_the_newest() {
        let mut s = ProjectSnapshot::default();
        let c = apply_pipeline_delta(
            &mut s,
            vec![
                pipe(10, "success", T1),
                pipe(11, "running", T1),
                pipe(12, "pending", T1),
            ],
            2,
        );
        assert_eq!(
            s.pipelines.keys().copied().collect::<Vec<_>>(),
            vec![11, 12]
        );
        assert_eq!(c.updated, BTreeSet::from([11, 12]));
        std::sync::Arc::make_mut(&mut s.jobs).insert(11, vec![]);
        let before = s.pipelines.clone();
        let c = apply_pipeline_delta(
            &mut s,
            vec![
                pipe(11, "failed", T2),
                pipe(12, "pending", T1),
                pipe(13, "created", T2),
            ],
            2,
        );
        assert_eq!(
            s.pipelines.keys().copied().collect::<Vec<_>>(),
            vec![12, 13]
        );
        assert_eq!(c.updated, BTreeSet::from([13]));
        assert_eq!(c.removed, BTreeSet::from([11]));
        assert!(!s.jobs.contains_key(&11));
        assert!(newly_failed(&before, &s, &c).is_empty());
    }

    #[test]
    fn status_change_without_timestamp_change_still_counts_and_failures_are_flagged() {
        let mut s = ProjectSnapshot::default();
        apply_pipeline_delta(&mut s, vec![pipe(5, "running", T1)], 20);
        let before = s.pipelines.clone();
        let c = apply_pipeline_delta(&mut s, vec![pipe(5, "failed", T1)], 20);
        assert_eq!(c.updated, BTreeSet::from([5]));
        assert_eq!(s.pipelines[&5].status, Status::Failed);
        assert_eq!(newly_failed(&before, &s, &c), vec![5]);
    }
}
