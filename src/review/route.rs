//! Reviewer routing: who should review an MR, and why.
//!
//! Public API:
//! - [`route`]`(&RouteInput, &RouteConfig) -> Routing`: ranks every candidate found in the
//!   CODEOWNERS rules for the changed files, in the recent commits to those files and among
//!   the MR's current reviewers; excludes the author, configured names, bots, non-members,
//!   members whose state is not `active`, and anyone with more open reviews than
//!   `busy_open_reviews`; picks reviewers that cover every required CODEOWNERS section the MR
//!   touches (greedy set cover, fewest people, best score first), else the best-evidenced
//!   candidate; and proposes [`Command::AssignReviewers`] (current reviewers kept, since the
//!   command sets the whole list) with a rationale and one evidence line per fact.
//! - [`RouteInput::new`]`(snapshot, mr_iid, now)` fills the diffs from the snapshot; set
//!   `codeowners`, `recent_commits`, `groups` and `emails` when the caller has them.
//! - [`RecentCommit`]: one (path, author, time) from the commits API, author as a username or
//!   an e-mail (resolved through `emails`).
//!
//! Scores: ownership counts 1 per changed file owned in a required section and 0.5 in an
//! optional one, over the number of changed files (×2); recent commits to the changed files
//! decay with a 30-day half-life (capped at 1); the sum is divided by `1 + open_reviews / 4`
//! so loaded people rank lower before they are excluded as busy.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::codeowners::{CodeOwners, Owner};
use crate::command::Command;
use crate::gitlab::models::{MergeRequest, MrDiff, MrState};
use crate::gitlab::snapshot::ProjectSnapshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteConfig {
    /// New reviewers proposed at most.
    pub max_reviewers: usize,
    /// More open reviews than this makes a candidate busy (excluded).
    pub busy_open_reviews: usize,
    /// Commits older than this many days are not evidence.
    pub recent_days: i64,
    /// Usernames never proposed (people away, service accounts).
    pub exclude: Vec<String>,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            max_reviewers: 2,
            busy_open_reviews: 5,
            recent_days: 90,
            exclude: Vec::new(),
        }
    }
}

/// One commit touching one file (the commits API with `path=`, or a commit's diff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentCommit {
    pub path: String,
    /// Username, or the author's e-mail when that is all the API gave.
    pub author: String,
    pub at: Timestamp,
}

pub struct RouteInput<'a> {
    pub snapshot: &'a ProjectSnapshot,
    pub mr_iid: u64,
    pub diffs: &'a [MrDiff],
    pub codeowners: Option<&'a CodeOwners>,
    pub recent_commits: &'a [RecentCommit],
    /// Group full path -> usernames of its direct members, for the groups the caller resolved.
    pub groups: &'a BTreeMap<String, Vec<String>>,
    /// E-mail -> username, for the addresses the caller resolved.
    pub emails: &'a BTreeMap<String, String>,
    pub now: Timestamp,
}

static EMPTY_MAP: BTreeMap<String, Vec<String>> = BTreeMap::new();
static EMPTY_EMAILS: BTreeMap<String, String> = BTreeMap::new();

impl<'a> RouteInput<'a> {
    /// Diffs from the snapshot (empty when not fetched); no CODEOWNERS, commits or groups.
    pub fn new(snapshot: &'a ProjectSnapshot, mr_iid: u64, now: Timestamp) -> Self {
        RouteInput {
            snapshot,
            mr_iid,
            diffs: snapshot
                .diffs
                .get(&mr_iid)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            codeowners: None,
            recent_commits: &[],
            groups: &EMPTY_MAP,
            emails: &EMPTY_EMAILS,
            now,
        }
    }
}

/// Why a candidate cannot be proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Exclusion {
    Author,
    Configured,
    Bot,
    NotMember,
    Inactive { state: String },
    Busy { open_reviews: usize, limit: usize },
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::Author => f.write_str("the author"),
            Exclusion::Configured => f.write_str("excluded by config"),
            Exclusion::Bot => f.write_str("a bot account"),
            Exclusion::NotMember => f.write_str("not a project member"),
            Exclusion::Inactive { state } => write!(f, "{state}"),
            Exclusion::Busy {
                open_reviews,
                limit,
            } => write!(f, "busy: {open_reviews} open reviews > {limit}"),
        }
    }
}

/// A CODEOWNERS rule that names a candidate for some changed files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ownership {
    pub section: String,
    pub optional: bool,
    pub line: usize,
    pub pattern: String,
    /// The group or role that brought the candidate in (`@backend`, `@@maintainer`).
    pub via: Option<String>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub username: String,
    pub score: f64,
    pub owns: Vec<Ownership>,
    /// Recent commits to the changed files, and which files.
    pub commits: usize,
    pub commit_files: Vec<String>,
    pub last_commit: Option<Timestamp>,
    /// Open MRs (other than this one) where the candidate is a reviewer.
    pub open_reviews: usize,
    pub already_reviewer: bool,
    pub excluded: Option<Exclusion>,
}

impl Candidate {
    fn owned_files(&self) -> BTreeSet<&str> {
        self.owns
            .iter()
            .flat_map(|o| o.files.iter().map(String::as_str))
            .collect()
    }

    fn required_sections(&self) -> BTreeSet<&str> {
        self.owns
            .iter()
            .filter(|o| !o.optional)
            .map(|o| o.section.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub mr_iid: u64,
    /// Eligible candidates by score, then excluded ones by score.
    pub candidates: Vec<Candidate>,
    /// New reviewers chosen (the proposal also keeps the current ones).
    pub chosen: Vec<String>,
    pub proposal: Option<Command>,
    /// Required sections touched by the MR that no current or chosen reviewer covers.
    pub uncovered_sections: Vec<String>,
    /// Changed files no CODEOWNERS rule gives an owner.
    pub unowned_files: Vec<String>,
    /// Owners that could not be turned into users (unknown groups, unmapped e-mails).
    pub unresolved_owners: Vec<String>,
    /// Why there is no proposal, or what limited it.
    pub notes: Vec<String>,
}

pub fn route(input: &RouteInput<'_>, cfg: &RouteConfig) -> Routing {
    let snap = input.snapshot;
    let mut out = Routing {
        mr_iid: input.mr_iid,
        candidates: Vec::new(),
        chosen: Vec::new(),
        proposal: None,
        uncovered_sections: Vec::new(),
        unowned_files: Vec::new(),
        unresolved_owners: Vec::new(),
        notes: Vec::new(),
    };
    let Some(mr) = snap.mr(input.mr_iid) else {
        out.notes
            .push(format!("!{} is not among the open MRs", input.mr_iid));
        return out;
    };
    let files = changed_files(input.diffs);
    if files.is_empty() {
        out.notes
            .push("changed files not fetched: routing on recent commits and load only".into());
    }

    let mut by_name: BTreeMap<String, Candidate> = BTreeMap::new();

    // 1. CODEOWNERS: which rule names whom for which files.
    let mut touched_required: Vec<String> = Vec::new();
    let mut unresolved: BTreeSet<String> = BTreeSet::new();
    if let Some(co) = input.codeowners {
        // (section, line) -> (match, files)
        let mut rules: BTreeMap<(usize, usize), (super::codeowners::SectionMatch, Vec<String>)> =
            BTreeMap::new();
        for f in &files {
            let matches = co.owners_of(f);
            let owned = matches.iter().any(|m| !m.excluded && !m.owners.is_empty());
            if !owned {
                out.unowned_files.push(f.clone());
            }
            for m in matches {
                if m.excluded || m.owners.is_empty() {
                    continue;
                }
                let section_pos = co
                    .sections
                    .iter()
                    .position(|s| s.name == m.section)
                    .unwrap_or(usize::MAX);
                if !m.optional && !touched_required.contains(&m.section) {
                    touched_required.push(m.section.clone());
                }
                rules
                    .entry((section_pos, m.line))
                    .or_insert_with(|| (m.clone(), Vec::new()))
                    .1
                    .push(f.clone());
            }
        }
        for (m, rule_files) in rules.into_values() {
            for owner in &m.owners {
                let (users, via) = resolve(owner, input, &mut unresolved);
                for u in users {
                    let c = candidate(&mut by_name, &u);
                    c.owns.push(Ownership {
                        section: m.section.clone(),
                        optional: m.optional,
                        line: m.line,
                        pattern: m.pattern.clone(),
                        via: via.clone(),
                        files: rule_files.clone(),
                    });
                }
            }
        }
    } else {
        out.notes
            .push("no CODEOWNERS: routing on recent commits and load only".into());
    }
    out.unresolved_owners = unresolved.into_iter().collect();

    // 2. Recent authors of the changed files.
    let file_set: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    for c in input.recent_commits {
        let age_days = input.now.duration_since(c.at).as_secs() as f64 / 86_400.0;
        if !file_set.contains(c.path.trim_start_matches('/')) || age_days > cfg.recent_days as f64 {
            continue;
        }
        let author = input
            .emails
            .get(&c.author)
            .cloned()
            .unwrap_or_else(|| c.author.clone());
        if author.contains('@') {
            continue; // an e-mail nobody mapped to a user
        }
        let cand = candidate(&mut by_name, &author);
        cand.commits += 1;
        let p = c.path.trim_start_matches('/').to_string();
        if !cand.commit_files.contains(&p) {
            cand.commit_files.push(p);
        }
        cand.last_commit = cand.last_commit.max(Some(c.at));
        // Decay: a commit today is worth 1, one 30 days old 0.5.
        cand.score += 0.5f64.powf(age_days.max(0.0) / 30.0);
    }

    // 3. Current reviewers are candidates too (kept, and they may already cover sections).
    for r in &mr.reviewers {
        candidate(&mut by_name, &r.username).already_reviewer = true;
    }

    // 4. Load, eligibility, score.
    let load = open_review_load(snap, mr.iid);
    let n_files = files.len().max(1) as f64;
    for c in by_name.values_mut() {
        c.open_reviews = load.get(c.username.as_str()).copied().unwrap_or(0);
        c.excluded = exclusion(c, mr, snap, cfg);
        let commit_score = c.score.min(1.0);
        let mut own = 0.0;
        let mut counted: BTreeSet<(&str, bool)> = BTreeSet::new();
        for o in &c.owns {
            for f in &o.files {
                if counted.insert((f.as_str(), o.optional)) {
                    own += if o.optional { 0.5 } else { 1.0 };
                }
            }
        }
        let raw = 2.0 * (own / n_files).min(1.0) + commit_score;
        c.score = round3(raw / (1.0 + c.open_reviews as f64 / 4.0));
        c.commit_files.sort();
    }
    let mut cands: Vec<Candidate> = by_name.into_values().collect();
    cands.sort_by(|a, b| {
        (a.excluded.is_some(), b.score, &a.username)
            .partial_cmp(&(b.excluded.is_some(), a.score, &b.username))
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    // 5. Choose: cover the required sections, fewest people first, then best evidence.
    let mut uncovered: BTreeSet<String> = touched_required.iter().cloned().collect();
    for c in cands.iter().filter(|c| c.already_reviewer) {
        for s in c.required_sections() {
            uncovered.remove(s);
        }
    }
    let eligible = |c: &Candidate| c.excluded.is_none() && !c.already_reviewer;
    let mut chosen: Vec<usize> = Vec::new();
    while !uncovered.is_empty() && chosen.len() < cfg.max_reviewers {
        let best = cands
            .iter()
            .enumerate()
            .filter(|(i, c)| eligible(c) && !chosen.contains(i))
            .map(|(i, c)| {
                let covers = c
                    .required_sections()
                    .iter()
                    .filter(|s| uncovered.contains(**s))
                    .count();
                (i, covers)
            })
            .filter(|&(_, covers)| covers > 0)
            // `cands` is sorted by score, so the first of the largest cover wins ties.
            .fold(None, |best: Option<(usize, usize)>, x| match best {
                Some(b) if b.1 >= x.1 => Some(b),
                _ => Some(x),
            });
        let Some((i, _)) = best else { break };
        for s in cands[i].required_sections() {
            uncovered.remove(s);
        }
        chosen.push(i);
    }
    let has_reviewers = cands.iter().any(|c| c.already_reviewer);
    // Nothing required to cover (no CODEOWNERS, or optional sections only): the best evidence.
    let fallback = cands
        .iter()
        .position(|c| eligible(c) && (c.commits > 0 || !c.owns.is_empty()));
    if let Some(i) =
        fallback.filter(|_| chosen.is_empty() && !has_reviewers && cfg.max_reviewers > 0)
    {
        chosen.push(i);
    }
    out.uncovered_sections = touched_required
        .iter()
        .filter(|s| uncovered.contains(*s))
        .cloned()
        .collect();
    out.chosen = chosen.iter().map(|&i| cands[i].username.clone()).collect();

    if !matches!(mr.state, MrState::Opened) {
        out.notes
            .push(format!("!{} is {}, not open", mr.iid, mr.state));
    } else if out.chosen.is_empty() {
        out.notes
            .push(if has_reviewers && out.uncovered_sections.is_empty() {
                "current reviewers already cover the owners' sections".into()
            } else if cands
                .iter()
                .all(|c| c.excluded.is_some() || c.already_reviewer)
                && !cands.is_empty()
            {
                "every candidate is excluded (author, inactive or busy)".into()
            } else {
                "no evidence to route on (no owners, no recent authors)".into()
            });
    } else {
        out.proposal = Some(proposal(snap, mr, &cands, &chosen, &out, cfg, input.now));
    }
    if !out.uncovered_sections.is_empty() {
        out.notes.push(format!(
            "no eligible reviewer for required section(s): {}",
            out.uncovered_sections.join(", ")
        ));
    }
    out.candidates = cands;
    out
}

fn candidate<'m>(by_name: &'m mut BTreeMap<String, Candidate>, u: &str) -> &'m mut Candidate {
    by_name.entry(u.to_string()).or_insert_with(|| Candidate {
        username: u.to_string(),
        score: 0.0,
        owns: Vec::new(),
        commits: 0,
        commit_files: Vec::new(),
        last_commit: None,
        open_reviews: 0,
        already_reviewer: false,
        excluded: None,
    })
}

/// Paths the MR changes (both sides of a rename), in diff order, without duplicates.
fn changed_files(diffs: &[MrDiff]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in diffs {
        for p in [&d.new_path, &d.old_path] {
            let p = p.trim_start_matches('/');
            if !p.is_empty() && !out.iter().any(|x| x == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// Usernames an owner stands for, and the group/role that brought them in.
fn resolve(
    owner: &Owner,
    input: &RouteInput<'_>,
    unresolved: &mut BTreeSet<String>,
) -> (Vec<String>, Option<String>) {
    let members = &input.snapshot.members;
    match owner {
        Owner::Handle(h) => {
            if members.iter().any(|m| &m.username == h) {
                (vec![h.clone()], None)
            } else if let Some(users) = input.groups.get(h) {
                (users.clone(), Some(owner.to_string()))
            } else if members.is_empty() && !h.contains('/') {
                // Members not fetched: take a plain handle for a user; eligibility is then
                // checked on what the snapshot knows.
                (vec![h.clone()], None)
            } else {
                unresolved.insert(owner.to_string());
                (Vec::new(), None)
            }
        }
        Owner::Role(r) => {
            let users: Vec<String> = members
                .iter()
                .filter(|m| m.access_level == r.access_level())
                .map(|m| m.username.clone())
                .collect();
            if users.is_empty() {
                unresolved.insert(owner.to_string());
            }
            (users, Some(owner.to_string()))
        }
        Owner::Email(e) => match input.emails.get(e) {
            Some(u) => (vec![u.clone()], Some(e.clone())),
            None => {
                unresolved.insert(e.clone());
                (Vec::new(), None)
            }
        },
    }
}

/// Open reviews per username, over the open MRs other than `except`.
fn open_review_load(snap: &ProjectSnapshot, except: u64) -> BTreeMap<&str, usize> {
    let mut load = BTreeMap::new();
    for mr in snap.mrs.values() {
        if mr.iid == except || !matches!(mr.state, MrState::Opened) {
            continue;
        }
        for r in &mr.reviewers {
            *load.entry(r.username.as_str()).or_insert(0) += 1;
        }
    }
    load
}

fn exclusion(
    c: &Candidate,
    mr: &MergeRequest,
    snap: &ProjectSnapshot,
    cfg: &RouteConfig,
) -> Option<Exclusion> {
    let u = c.username.as_str();
    if mr.author.as_ref().is_some_and(|a| a.username == u) {
        return Some(Exclusion::Author);
    }
    if cfg.exclude.iter().any(|x| x == u) {
        return Some(Exclusion::Configured);
    }
    if is_bot(u) {
        return Some(Exclusion::Bot);
    }
    if !snap.members.is_empty() {
        match snap.members.iter().find(|m| m.username == u) {
            None => return Some(Exclusion::NotMember),
            Some(m) => {
                if let Some(state) = m.state.as_deref().filter(|s| *s != "active") {
                    return Some(Exclusion::Inactive {
                        state: state.to_string(),
                    });
                }
            }
        }
    }
    // A reviewer already on the MR reports its state on the MR itself.
    if let Some(state) = mr
        .reviewers
        .iter()
        .find(|r| r.username == u)
        .and_then(|r| r.state.as_deref())
        .filter(|s| *s != "active")
    {
        return Some(Exclusion::Inactive {
            state: state.to_string(),
        });
    }
    if c.open_reviews > cfg.busy_open_reviews && !c.already_reviewer {
        return Some(Exclusion::Busy {
            open_reviews: c.open_reviews,
            limit: cfg.busy_open_reviews,
        });
    }
    None
}

/// GitLab's service accounts: `ghost`, `*-bot`, `project_<id>_bot_*`, `group_<id>_bot_*`.
fn is_bot(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    let token_bot = |prefix: &str| {
        l.strip_prefix(prefix)
            .and_then(|r| r.split_once('_'))
            .is_some_and(|(id, rest)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("bot")
            })
    };
    l == "ghost"
        || l.ends_with("-bot")
        || l.ends_with("_bot")
        || token_bot("project_")
        || token_bot("group_")
}

fn proposal(
    snap: &ProjectSnapshot,
    mr: &MergeRequest,
    cands: &[Candidate],
    chosen: &[usize],
    out: &Routing,
    cfg: &RouteConfig,
    now: Timestamp,
) -> Command {
    let mut reviewers: Vec<String> = mr.reviewers.iter().map(|r| r.username.clone()).collect();
    reviewers.extend(chosen.iter().map(|&i| cands[i].username.clone()));

    let mut why: Vec<String> = Vec::new();
    let mut evidence: Vec<String> = Vec::new();
    for &i in chosen {
        let c = &cands[i];
        let mut parts = Vec::new();
        if !c.owns.is_empty() {
            let sections: BTreeSet<String> =
                c.owns.iter().map(|o| section_label(&o.section)).collect();
            parts.push(format!(
                "code owner of {} changed file(s) ({})",
                c.owned_files().len(),
                sections.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if c.commits > 0 {
            parts.push(format!("{} recent commit(s) to them", c.commits));
        }
        parts.push(format!("{} open review(s)", c.open_reviews));
        why.push(format!("@{}: {}", c.username, parts.join(", ")));

        for o in &c.owns {
            evidence.push(
                format!(
                    "CODEOWNERS {} line {} `{}`{}: @{} owns {}",
                    section_label(&o.section),
                    o.line,
                    o.pattern,
                    if o.optional { " (optional)" } else { "" },
                    c.username,
                    list(&o.files, 4)
                ) + &o
                    .via
                    .as_ref()
                    .map(|v| format!(" (via {v})"))
                    .unwrap_or_default(),
            );
        }
        if c.commits > 0 {
            let last = c
                .last_commit
                .map(|t| {
                    format!(
                        ", last {} d ago",
                        now.duration_since(t).as_secs().max(0) / 86_400
                    )
                })
                .unwrap_or_default();
            evidence.push(format!(
                "recent commits: @{} {} to {}{last}",
                c.username,
                c.commits,
                list(&c.commit_files, 4)
            ));
        }
        evidence.push(format!(
            "load: @{} reviews {} other open MR(s) (busy above {})",
            c.username, c.open_reviews, cfg.busy_open_reviews
        ));
    }
    let skipped: Vec<String> = cands
        .iter()
        .filter_map(|c| {
            c.excluded
                .as_ref()
                .map(|e| format!("@{} ({e})", c.username))
        })
        .collect();
    if !skipped.is_empty() {
        evidence.push(format!("excluded: {}", skipped.join(", ")));
    }
    if !out.uncovered_sections.is_empty() {
        evidence.push(format!(
            "not covered: {}",
            out.uncovered_sections
                .iter()
                .map(|s| section_label(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut rationale = format!(
        "Suggest {} for !{}. {}.",
        at_list(&out.chosen),
        mr.iid,
        why.join("; ")
    );
    if !skipped.is_empty() {
        rationale.push_str(&format!(" Skipped {}.", skipped.join(", ")));
    }
    let owned_any = chosen.iter().any(|&i| !cands[i].owns.is_empty());
    let confidence = match (owned_any, out.uncovered_sections.is_empty()) {
        (true, true) => 0.8,
        (true, false) => 0.6,
        (false, _) => 0.45,
    };
    Command::AssignReviewers {
        project: snap.path().to_string(),
        mr_iid: mr.iid,
        reviewers,
        rationale,
        confidence: Some(confidence),
        evidence,
    }
}

fn section_label(s: &str) -> String {
    if s == super::codeowners::DEFAULT_SECTION {
        "default section".into()
    } else {
        format!("[{s}]")
    }
}

fn at_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("@{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
