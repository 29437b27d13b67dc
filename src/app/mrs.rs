//! The merge-request list: filter, sort and the rows on screen, derived from the snapshot.

use std::cmp::Ordering;

use crate::gitlab::{DetailedMergeStatus, MergeRequest, ProjectSnapshot, Status};

use super::list::ListCursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrSort {
    Updated,
    Created,
    Iid,
    Title,
    Author,
    Pipeline,
    Approvals,
}

/// Ready to merge as an operator means it: not a draft, no conflicts, GitLab says mergeable,
/// its pipeline green, and the approvals (when fetched) satisfied.
pub fn ready_to_merge(mr: &MergeRequest, snap: &ProjectSnapshot) -> bool {
    !mr.is_draft()
        && !mr.conflicts()
        && mr.detailed_merge_status == Some(DetailedMergeStatus::Mergeable)
        && snap
            .pipeline_for_mr(mr)
            .is_some_and(|p| p.status == Status::Success)
        && snap.approvals.get(&mr.iid).is_none_or(|a| a.satisfied())
}

/// What an MR asks of the signed-in user, for its row: `ready` (see [`ready_to_merge`]),
/// `review me` (a review is requested from them), `assigned me`.
pub fn personal_flags(mr: &MergeRequest, snap: &ProjectSnapshot) -> Vec<&'static str> {
    let mut v = Vec::new();
    if ready_to_merge(mr, snap) {
        v.push("ready");
    }
    if let Some(me) = &snap.user {
        if mr.reviewers.iter().any(|r| r.id == me.id) {
            v.push("review me");
        }
        if mr.assignees.iter().any(|a| a.id == me.id) {
            v.push("assigned me");
        }
    }
    v
}

/// The first words of an MR's Signals cell, most pressing first: `draft`, `conflict`,
/// `on author` (the next move is the author's: changes requested, a rebase, threads to
/// answer; not said again after `draft` or `conflict`, which say it already, and the room is
/// short), then [`personal_flags`], then its unresolved threads:
/// the exact count once its detail was opened (the list carries no count), else `unresolved`
/// when GitLab says threads block the merge.
pub fn row_flags(mr: &MergeRequest, snap: &ProjectSnapshot) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if mr.is_draft() {
        v.push("draft".into());
    }
    if mr.conflicts() {
        v.push("conflict".into());
    }
    if mr.waiting_on_author() && !mr.is_draft() && !mr.conflicts() {
        v.push("on author".into());
    }
    v.extend(personal_flags(mr, snap).into_iter().map(String::from));
    if let Some(t) = thread_flag(mr, snap) {
        v.push(t);
    }
    v
}

/// `3 unresolved` when the MR's threads are known, `unresolved` when only the list's
/// `blocking_discussions_resolved` (or the merge status) says some block the merge.
pub fn thread_flag(mr: &MergeRequest, snap: &ProjectSnapshot) -> Option<String> {
    match super::threads::unresolved_count(snap, mr.iid) {
        Some(0) => None,
        Some(n) => Some(format!("{n} unresolved")),
        None => (mr.blocking_discussions_resolved == Some(false)
            || mr.detailed_merge_status == Some(DetailedMergeStatus::DiscussionsNotResolved))
        .then(|| "unresolved".to_string()),
    }
}

impl MrSort {
    pub const ALL: [MrSort; 7] = [
        MrSort::Updated,
        MrSort::Created,
        MrSort::Iid,
        MrSort::Title,
        MrSort::Author,
        MrSort::Pipeline,
        MrSort::Approvals,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MrSort::Updated => "updated",
            MrSort::Created => "age",
            MrSort::Iid => "iid",
            MrSort::Title => "title",
            MrSort::Author => "author",
            MrSort::Pipeline => "pipeline",
            MrSort::Approvals => "approvals",
        }
    }

    pub fn parse(s: &str) -> Option<MrSort> {
        let s = s.trim().to_ascii_lowercase();
        MrSort::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .or(match s.as_str() {
                "created" => Some(MrSort::Created),
                "id" => Some(MrSort::Iid),
                _ => None,
            })
    }

    pub fn next(self) -> MrSort {
        let i = MrSort::ALL.iter().position(|k| *k == self).unwrap_or(0);
        MrSort::ALL[(i + 1) % MrSort::ALL.len()]
    }

    /// The natural direction: newest first for times, A-Z for text, worst first for pipelines.
    pub fn default_descending(self) -> bool {
        matches!(self, MrSort::Updated | MrSort::Iid)
    }
}

/// A parsed filter: every term must match. `-word` excludes, `@user` matches author or
/// reviewer, `~label` a label, `!42` an iid; other words match title, branch, author, labels,
/// pipeline status and the `draft`/`conflict` flags, case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    terms: Vec<(bool, Term)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    User(String),
    Label(String),
    Iid(u64),
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|raw| {
                let (neg, t) = match raw.strip_prefix('-') {
                    Some(rest) if !rest.is_empty() => (true, rest),
                    _ => (false, raw),
                };
                let t = t.to_lowercase();
                let term = if let Some(u) = t.strip_prefix('@') {
                    Term::User(u.to_string())
                } else if let Some(l) = t.strip_prefix('~') {
                    Term::Label(l.to_string())
                } else if let Some(n) = t.strip_prefix('!').and_then(|n| n.parse().ok()) {
                    Term::Iid(n)
                } else {
                    Term::Word(t)
                };
                (neg, term)
            })
            .collect();
        Filter { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Matches against an arbitrary haystack (used for pipelines, where only words apply).
    pub fn matches_text(&self, haystack: &str) -> bool {
        let hay = haystack.to_lowercase();
        self.terms.iter().all(|(neg, t)| {
            let hit = match t {
                Term::Word(w) | Term::User(w) | Term::Label(w) => hay.contains(w.as_str()),
                Term::Iid(n) => hay.contains(&n.to_string()),
            };
            hit != *neg
        })
    }

    pub fn matches_mr(&self, mr: &MergeRequest, snap: &ProjectSnapshot) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let mut words = format!(
            "{} {} {} {}",
            mr.title,
            mr.source_branch,
            mr.author_username(),
            mr.author.as_ref().map(|a| a.name.as_str()).unwrap_or("")
        );
        for l in &mr.labels {
            words.push(' ');
            words.push_str(l);
        }
        if mr.is_draft() {
            words.push_str(" draft");
        }
        if mr.conflicts() {
            words.push_str(" conflict");
        }
        if let Some(p) = snap.pipeline_for_mr(mr) {
            words.push(' ');
            words.push_str(p.status.as_str());
        }
        let words = words.to_lowercase();
        self.terms.iter().all(|(neg, t)| {
            let hit = match t {
                Term::Word(w) => words.contains(w.as_str()),
                Term::User(u) => {
                    let is = |name: &str| name.to_lowercase().contains(u.as_str());
                    is(mr.author_username())
                        || mr.reviewers.iter().any(|r| is(&r.username))
                        || mr.assignees.iter().any(|r| is(&r.username))
                }
                // Whole labels (`~ci` is not `dependencies`); a scoped label's key matches
                // every value (`~priority` matches `priority::high`).
                Term::Label(l) => mr.labels.iter().any(|x| {
                    let x = x.to_lowercase();
                    x == *l
                        || x.strip_prefix(l.as_str())
                            .is_some_and(|r| r.starts_with("::"))
                }),
                Term::Iid(n) => mr.iid == *n,
            };
            hit != *neg
        })
    }
}

#[derive(Debug, Clone)]
pub struct MrList {
    pub filter_text: String,
    filter: Filter,
    pub sort: MrSort,
    pub descending: bool,
    /// iids in display order.
    pub rows: Vec<u64>,
    pub cursor: ListCursor,
}

impl Default for MrList {
    fn default() -> Self {
        MrList {
            filter_text: String::new(),
            filter: Filter::default(),
            sort: MrSort::Updated,
            descending: true,
            rows: Vec::new(),
            cursor: ListCursor::default(),
        }
    }
}

/// Rank of a pipeline status when sorting by pipeline: broken first.
fn pipeline_rank(s: Option<&Status>) -> u8 {
    match s {
        Some(Status::Failed) => 0,
        Some(Status::Running) => 1,
        Some(s) if s.is_active() => 2,
        Some(Status::Manual) | Some(Status::Scheduled) => 3,
        Some(Status::Canceled) | Some(Status::Canceling) => 4,
        Some(Status::Success) => 6,
        Some(_) => 5,
        None => 7,
    }
}

impl MrList {
    pub fn set_filter(&mut self, text: &str) {
        self.filter_text = text.to_string();
        self.filter = Filter::parse(text);
    }

    pub fn selected_iid(&self) -> Option<u64> {
        self.rows.get(self.cursor.selected).copied()
    }

    /// Recomputes the rows from the snapshot, keeping the selection on the same MR when it is
    /// still listed.
    pub fn rebuild(&mut self, snap: Option<&ProjectSnapshot>, height: usize) {
        let keep = self.selected_iid();
        self.rows.clear();
        let Some(snap) = snap else {
            self.cursor = ListCursor::default();
            return;
        };
        let mut mrs: Vec<&MergeRequest> = snap
            .mrs
            .values()
            .map(|mr| &**mr)
            .filter(|mr| self.filter.matches_mr(mr, snap))
            .collect();
        let cmp = |a: &&MergeRequest, b: &&MergeRequest| -> Ordering {
            let primary = match self.sort {
                MrSort::Updated => a.updated_at.cmp(&b.updated_at),
                MrSort::Created => a.created_at.cmp(&b.created_at).reverse(),
                MrSort::Iid => a.iid.cmp(&b.iid),
                MrSort::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
                MrSort::Author => a.author_username().cmp(b.author_username()),
                MrSort::Pipeline => pipeline_rank(snap.pipeline_for_mr(a).map(|p| &p.status))
                    .cmp(&pipeline_rank(snap.pipeline_for_mr(b).map(|p| &p.status))),
                MrSort::Approvals => {
                    let left = |m: &MergeRequest| {
                        snap.approvals
                            .get(&m.iid)
                            .map(|ap| ap.approvals_left.unwrap_or(0))
                            .unwrap_or(u32::MAX)
                    };
                    left(a).cmp(&left(b))
                }
            };
            // Ties broken by iid so the order never flickers between refreshes.
            primary.then(a.iid.cmp(&b.iid))
        };
        mrs.sort_by(cmp);
        if self.descending {
            mrs.reverse();
        }
        self.rows = mrs.iter().map(|m| m.iid).collect();
        if let Some(iid) = keep
            && let Some(pos) = self.rows.iter().position(|r| *r == iid)
        {
            self.cursor.selected = pos;
        }
        self.cursor.clamp(self.rows.len(), height);
    }
}

#[cfg(test)]
mod tests {

    /// Threads: the exact count once known, a flag from the list before; `on author` unless
    /// a draft says it already.
    #[test]
    fn row_flags_count_threads_and_say_whose_move_it_is() {
        use crate::gitlab::DetailedMergeStatus;
        let mut snap = crate::testkit::snapshot();
        let mut mr = (*snap.mrs[&2]).clone();
        mr.reviewers.clear();
        assert!(
            !row_flags(&mr, &snap)
                .iter()
                .any(|f| f.contains("unresolved"))
        );
        mr.blocking_discussions_resolved = Some(false);
        mr.detailed_merge_status = Some(DetailedMergeStatus::DiscussionsNotResolved);
        assert_eq!(row_flags(&mr, &snap), ["on author", "unresolved"]);
        std::sync::Arc::make_mut(&mut snap.discussions).insert(2, crate::testkit::discussions());
        assert_eq!(row_flags(&mr, &snap), ["on author", "1 unresolved"]);
        mr.draft = Some(true);
        assert_eq!(row_flags(&mr, &snap), ["draft", "1 unresolved"]);
        // Known and none open: nothing, whatever the (older) list said.
        let mut done = crate::testkit::discussions();
        for d in &mut done {
            for n in &mut d.notes {
                n.resolved = Some(n.resolvable);
            }
        }
        std::sync::Arc::make_mut(&mut snap.discussions).insert(2, done);
        assert_eq!(thread_flag(&mr, &snap), None);
    }

    /// `ready` needs every condition; `review me` and `assigned me` follow the signed-in user.
    #[test]
    fn personal_flags_say_what_the_mr_asks_of_me() {
        use crate::gitlab::{Approvals, DetailedMergeStatus, UserRef};
        let mut snap = crate::testkit::snapshot();
        let me = snap.user.clone().unwrap();
        let iid = *snap
            .mrs
            .iter()
            .find(|(_, m)| {
                snap.pipeline_for_mr(m)
                    .is_some_and(|p| p.status == Status::Success)
            })
            .unwrap()
            .0;
        let mut mr = (*snap.mrs[&iid]).clone();
        mr.draft = Some(false);
        mr.has_conflicts = Some(false);
        mr.detailed_merge_status = Some(DetailedMergeStatus::Mergeable);
        mr.reviewers = vec![
            UserRef {
                id: me.id,
                username: me.username.clone(),
                ..UserRef::default()
            }
            .into(),
        ];
        std::sync::Arc::make_mut(&mut snap.approvals).remove(&iid);
        assert_eq!(personal_flags(&mr, &snap), ["ready", "review me"]);
        mr.assignees = mr.reviewers.clone();
        mr.reviewers.clear();
        assert_eq!(personal_flags(&mr, &snap), ["ready", "assigned me"]);
        // Missing approvals, a draft, or GitLab not saying mergeable: not ready.
        std::sync::Arc::make_mut(&mut snap.approvals).insert(
            iid,
            Approvals {
                approvals_required: Some(2),
                approvals_left: Some(1),
                ..Approvals::default()
            },
        );
        assert!(!ready_to_merge(&mr, &snap));
        std::sync::Arc::make_mut(&mut snap.approvals).remove(&iid);
        mr.draft = Some(true);
        assert!(!ready_to_merge(&mr, &snap));
        mr.draft = Some(false);
        mr.detailed_merge_status = Some(DetailedMergeStatus::CiMustPass);
        assert!(!ready_to_merge(&mr, &snap));
    }

    use super::*;
    use crate::testkit;

    #[test]
    fn filter_terms() {
        let snap = testkit::snapshot();
        let mut list = MrList::default();
        let iids = |list: &mut MrList, f: &str| {
            list.set_filter(f);
            list.rebuild(Some(&snap), 10);
            let mut r = list.rows.clone();
            r.sort();
            r
        };
        assert_eq!(iids(&mut list, ""), vec![1, 2, 3, 4]);
        assert_eq!(iids(&mut list, "draft"), vec![3]);
        assert_eq!(iids(&mut list, "-draft"), vec![1, 2, 4]);
        assert_eq!(iids(&mut list, "@bob"), vec![2]);
        assert_eq!(iids(&mut list, "~backend"), vec![1, 4]);
        // Whole labels: `ci` is inside `dependencies` but is not that label.
        assert_eq!(iids(&mut list, "~ci"), vec![3]);
        assert_eq!(iids(&mut list, "~depend"), Vec::<u64>::new());
        assert_eq!(iids(&mut list, "!2"), vec![2]);
        assert_eq!(iids(&mut list, "failed"), vec![1]);
        assert_eq!(iids(&mut list, "CACHE ~backend"), vec![1]);
        assert_eq!(iids(&mut list, "nothing-like-this"), Vec::<u64>::new());
    }

    #[test]
    fn sort_keeps_selection_on_the_same_mr() {
        let snap = testkit::snapshot();
        let mut list = MrList::default();
        list.rebuild(Some(&snap), 10);
        assert_eq!(list.rows.first(), Some(&4), "most recently updated first");
        list.cursor.selected = list.rows.iter().position(|r| *r == 2).unwrap();
        list.sort = MrSort::Title;
        list.descending = false;
        list.rebuild(Some(&snap), 10);
        assert_eq!(list.selected_iid(), Some(2));
        list.sort = MrSort::Pipeline;
        list.rebuild(Some(&snap), 10);
        assert_eq!(list.rows.first(), Some(&1), "failed pipeline first");
    }
}
