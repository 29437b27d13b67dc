//! Reviewer routing: who should review an MR so that GitLab's code-owner rules can be met,
//! and why.
//!
//! Public API:
//! - [`route`]`(&RouteInput, &RouteConfig) -> Routing`.
//! - [`RouteInput::new`]`(snapshot, mr_iid, now)` fills the diffs from the snapshot; set
//!   `codeowners`, `recent_commits`, `groups` and `people` when the caller has them.
//! - [`needs`]`(&RouteInput)`: the groups and people routing would look at, so the caller
//!   fetches those and nothing else.
//!
//! What GitLab does (`sync_code_owner_approval_rules.rb`, `approval_wrapped_code_owner_rule.rb`,
//! `approval_wrapped_rule.rb`), and so what routing aims at:
//! - One approval rule per matched (section, pattern), not per section: a section with
//!   `*.rb @alice` and `*.go @bob` needs both when both kinds of files change.
//! - A rule needs `max(N, 1)` approvals from its own owners (`[Section][N]`), 0 in an optional
//!   section. One person's approval counts for every rule they own.
//! - Owners: `@user` (a project member, case-insensitive), `@group` (its *direct* members),
//!   `@@role` (members with exactly that role), e-mails (the user with that address). The
//!   author cannot approve. A rule with no eligible approver, or fewer than it needs, is
//!   approved by GitLab automatically; routing still proposes who it can and says so.
//!
//! How routing chooses: every required rule short of approvals (current reviewers and people
//! who already approved count) gets owners until it has enough, fewest people first; among
//! equals available people, then fewer open reviews, then recent commits to the changed
//! files, then name. Bots, people excluded by config and inactive members are never
//! proposed. Busy people (GitLab status "busy", or more open reviews than
//! `busy_open_reviews`) are proposed only for rules nobody available can cover, with a
//! warning, rather than a non-owner. When no rule asks for anyone and the MR has no reviewer,
//! one reviewer is proposed from owners of optional sections, else recent authors of the
//! changed files, else the least-loaded developer, and the rationale says which it was and
//! which required rules stay uncovered. Current reviewers are kept: the command sets the
//! whole list.

mod explain;
mod people;
mod select;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::codeowners::{CodeOwners, Owner};
use crate::command::Command;
use crate::gitlab::models::{MergeRequest, MrDiff, MrState};
use crate::gitlab::snapshot::ProjectSnapshot;

use people::Directory;
pub use people::bot_name;

/// GitLab's and our limit on reviewers of one MR (`command::validate::MAX_REVIEWERS`).
const MAX_TOTAL_REVIEWERS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteConfig {
    /// Reviewers proposed when no required rule asks for anyone (the fallback).
    pub max_reviewers: usize,
    /// More open reviews than this makes a candidate busy (proposed only when needed).
    pub busy_open_reviews: usize,
    /// Commits older than this many days are not evidence.
    pub recent_days: i64,
    /// Usernames never proposed (people away, service accounts).
    pub exclude: Vec<String>,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            max_reviewers: 1,
            busy_open_reviews: 5,
            recent_days: 90,
            exclude: Vec::new(),
        }
    }
}

/// One commit touching one file (the commits API with `path=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentCommit {
    pub path: String,
    pub author_name: String,
    pub author_email: String,
    pub at: Timestamp,
}

/// What the caller learned about a person beyond the member list (`GET /users/:id`,
/// `GET /users/:id/status`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub bot: Option<bool>,
    pub user_type: Option<String>,
    pub state: Option<String>,
    pub public_email: Option<String>,
    /// `availability` of the status: `busy` or `not_set`.
    pub availability: Option<String>,
    pub status_message: Option<String>,
}

pub struct RouteInput<'a> {
    pub snapshot: &'a ProjectSnapshot,
    pub mr_iid: u64,
    pub diffs: &'a [MrDiff],
    pub codeowners: Option<&'a CodeOwners>,
    pub recent_commits: &'a [RecentCommit],
    /// Group full path -> usernames of its direct members, for the groups the caller resolved.
    pub groups: &'a BTreeMap<String, Vec<String>>,
    /// Username -> what the caller learned about them.
    pub people: &'a BTreeMap<String, PersonFacts>,
    pub now: Timestamp,
}

static EMPTY_GROUPS: BTreeMap<String, Vec<String>> = BTreeMap::new();
static EMPTY_PEOPLE: BTreeMap<String, PersonFacts> = BTreeMap::new();

impl<'a> RouteInput<'a> {
    /// Diffs from the snapshot (empty when not fetched); no CODEOWNERS, commits, groups.
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
            groups: &EMPTY_GROUPS,
            people: &EMPTY_PEOPLE,
            now,
        }
    }
}

/// Why a candidate is never proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Exclusion {
    Author,
    Configured,
    Bot,
    NotMember,
    Inactive { state: String },
}

impl Exclusion {
    /// GitLab still counts this person as an approver of the rules they own.
    fn approves_for_gitlab(&self) -> bool {
        matches!(self, Exclusion::Configured | Exclusion::Bot)
    }
}

impl std::fmt::Display for Exclusion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exclusion::Author => f.write_str("the author"),
            Exclusion::Configured => f.write_str("excluded by config"),
            Exclusion::Bot => f.write_str("a bot account"),
            Exclusion::NotMember => f.write_str("not a project member"),
            Exclusion::Inactive { state } => write!(f, "{state}"),
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
    /// The group, role or e-mail that brought the candidate in (`@acme/backend`).
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
    /// Approved this MR already.
    pub approved: bool,
    /// Why they may be slow to review (status, load): proposed only when needed.
    pub busy: Option<String>,
    pub excluded: Option<Exclusion>,
}

/// One code-owner approval rule the MR triggers, and how it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCheck {
    pub section: String,
    pub pattern: String,
    pub line: usize,
    pub optional: bool,
    /// Approvals GitLab asks for (`max(N, 1)`; 0 in an optional section).
    pub approvals: u32,
    pub files: Vec<String>,
    /// Owners as written in the file.
    pub owners: Vec<String>,
    /// Who can approve it for GitLab (resolved owners, minus the author, non-members and
    /// inactive accounts).
    pub approvers: Vec<String>,
    /// Current reviewers, people who approved, and newly chosen reviewers who count for it.
    pub covered_by: Vec<String>,
    /// Why a required rule stays short of approvals.
    pub uncovered: Option<String>,
}

/// How the proposed reviewer was found when no required rule asked for anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    OptionalOwner,
    RecentAuthor,
    LowestLoad,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub mr_iid: u64,
    /// Proposable candidates by score, then excluded ones.
    pub candidates: Vec<Candidate>,
    /// New reviewers chosen (the proposal also keeps the current ones).
    pub chosen: Vec<String>,
    pub fallback: Option<Fallback>,
    pub proposal: Option<Command>,
    /// Every rule the changed files trigger, in file order.
    pub rules: Vec<RuleCheck>,
    /// Changed files no CODEOWNERS rule gives an owner.
    pub unowned_files: Vec<String>,
    /// Owners that could not be turned into users (unknown groups or users, unmapped e-mails).
    pub unresolved_owners: Vec<String>,
    /// Recent commit authors matching no member (`Name <e-mail>`).
    pub unmapped_authors: Vec<String>,
    /// Why there is no proposal, or what limited it.
    pub notes: Vec<String>,
}

impl Routing {
    /// Required rules left short of approvals, each with its reason.
    pub fn uncovered(&self) -> impl Iterator<Item = &RuleCheck> {
        self.rules.iter().filter(|r| r.uncovered.is_some())
    }
}

/// The groups and people routing `input` would read: fetch these (and nothing else) before
/// routing. Groups are those named by matched rules that are not project members; people are
/// every candidate a proposal could name, best evidence first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    pub groups: Vec<String>,
    pub people: Vec<String>,
}

pub fn needs(input: &RouteInput<'_>, cfg: &RouteConfig) -> Needs {
    let mut out = Needs::default();
    if input.snapshot.mr(input.mr_iid).is_none() {
        return out;
    }
    let dir = Directory::new(input.snapshot, input.groups, input.people);
    if let Some(co) = input.codeowners {
        for f in changed_files(input.diffs) {
            for m in co.owners_of(&f).into_iter().filter(|m| !m.excluded) {
                for o in &m.owners {
                    if let Owner::Handle(h) = o
                        && dir.member(h).is_none()
                        && !out.groups.iter().any(|g| g.eq_ignore_ascii_case(h))
                    {
                        out.groups.push(h.clone());
                    }
                }
            }
        }
    }
    let routing = route(input, cfg);
    let mut ranked: Vec<&Candidate> = routing
        .candidates
        .iter()
        .filter(|c| proposable(c))
        .collect();
    // Owners of required rules first: they are who a proposal must name.
    ranked.sort_by_key(|c| !c.owns.iter().any(|o| !o.optional));
    out.people = ranked.into_iter().map(|c| c.username.clone()).collect();
    out
}

pub fn route(input: &RouteInput<'_>, cfg: &RouteConfig) -> Routing {
    let snap = input.snapshot;
    let mut out = Routing {
        mr_iid: input.mr_iid,
        candidates: Vec::new(),
        chosen: Vec::new(),
        fallback: None,
        proposal: None,
        rules: Vec::new(),
        unowned_files: Vec::new(),
        unresolved_owners: Vec::new(),
        unmapped_authors: Vec::new(),
        notes: Vec::new(),
    };
    let Some(mr) = snap.mr(input.mr_iid) else {
        out.notes
            .push(format!("!{} is not among the open MRs", input.mr_iid));
        return out;
    };
    let dir = Directory::new(snap, input.groups, input.people);
    let files = changed_files(input.diffs);
    if files.is_empty() {
        out.notes
            .push("changed files not fetched: routing on load only".into());
    }
    let mut people = People::default();

    // 1. The rules the changed files trigger, and who each names.
    let mut rule_users: Vec<Vec<String>> = Vec::new();
    if let Some(co) = input.codeowners {
        let (rules, owners) = triggered_rules(co, &files, &mut out.unowned_files);
        let mut unresolved: BTreeSet<String> = BTreeSet::new();
        for (rule, owners) in rules.iter().zip(&owners) {
            let mut users: Vec<String> = Vec::new();
            for owner in owners {
                let (found, via) = resolve(owner, &dir, &mut unresolved);
                for u in found {
                    let key = u.to_lowercase();
                    if !users.iter().any(|x| x.to_lowercase() == key) {
                        users.push(u.clone());
                    }
                    people.get(&u).owns.push(Ownership {
                        section: rule.section.clone(),
                        optional: rule.optional,
                        line: rule.line,
                        pattern: rule.pattern.clone(),
                        via: via.clone(),
                        files: rule.files.clone(),
                    });
                }
            }
            rule_users.push(users);
        }
        out.rules = rules;
        out.unresolved_owners = unresolved.into_iter().collect();
    } else {
        out.notes
            .push("no CODEOWNERS: routing on recent commits and load only".into());
    }

    // 2. Recent authors of the changed files, mapped to members.
    let file_set: BTreeSet<&str> = files.iter().map(String::as_str).collect();
    let mut unmapped: BTreeSet<String> = BTreeSet::new();
    for c in input.recent_commits {
        let path = c.path.trim_start_matches('/');
        let age_days = input.now.duration_since(c.at).as_secs() as f64 / 86_400.0;
        if !file_set.contains(path) || age_days > cfg.recent_days as f64 {
            continue;
        }
        let Some(user) = dir.commit_author(&c.author_name, &c.author_email) else {
            unmapped.insert(format!("{} <{}>", c.author_name, c.author_email));
            continue;
        };
        let cand = people.get(&user);
        cand.commits += 1;
        if !cand.commit_files.iter().any(|f| f == path) {
            cand.commit_files.push(path.to_string());
        }
        cand.last_commit = cand.last_commit.max(Some(c.at));
        // A commit today is worth 1, one 30 days old 0.5.
        cand.score += 0.5f64.powf(age_days.max(0.0) / 30.0);
    }
    out.unmapped_authors = unmapped.into_iter().take(10).collect();

    // 3. Who already reviews or approved.
    for r in &mr.reviewers {
        people.get(&dir.canonical(&r.username)).already_reviewer = true;
    }
    for a in snap
        .approvals
        .get(&mr.iid)
        .map(|a| a.approved_by.as_slice())
        .unwrap_or(&[])
    {
        people.get(&dir.canonical(&a.user.username)).approved = true;
    }

    // 4. Load, availability, eligibility, score.
    let load = open_review_load(snap, mr.iid);
    let n_files = files.len().max(1) as f64;
    for c in people.by_name.values_mut() {
        c.open_reviews = load
            .get(c.username.to_lowercase().as_str())
            .copied()
            .unwrap_or(0);
        c.excluded = exclusion(c, mr, &dir, cfg);
        c.busy = busy(c, &dir, cfg);
        let owned: BTreeSet<&str> = c
            .owns
            .iter()
            .filter(|o| !o.optional)
            .flat_map(|o| o.files.iter().map(String::as_str))
            .collect();
        let activity = c.score.min(1.0);
        let raw = 2.0 * (owned.len() as f64 / n_files).min(1.0) + activity;
        c.score = round3(raw / (1.0 + c.open_reviews as f64 / 4.0));
        c.commit_files.sort();
    }

    // 5. How many approvals each required rule still needs.
    let mut remaining: Vec<u32> = Vec::with_capacity(out.rules.len());
    for (rule, users) in out.rules.iter_mut().zip(&rule_users) {
        rule.approvers = users
            .iter()
            .filter(|u| {
                people.peek(u).is_some_and(|c| {
                    c.excluded
                        .as_ref()
                        .is_none_or(Exclusion::approves_for_gitlab)
                })
            })
            .cloned()
            .collect();
        rule.covered_by = rule
            .approvers
            .iter()
            .filter(|u| {
                people
                    .peek(u)
                    .is_some_and(|c| c.already_reviewer || c.approved)
            })
            .cloned()
            .collect();
        remaining.push(rule.approvals.saturating_sub(rule.covered_by.len() as u32));
    }

    // 6. Choose owners for what is missing.
    let mut cands: Vec<Candidate> = people.by_name.into_values().collect();
    cands.sort_by(|a, b| {
        (a.excluded.is_some(), b.score, &a.username)
            .partial_cmp(&(b.excluded.is_some(), a.score, &b.username))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let pool: Vec<usize> = (0..cands.len())
        .filter(|&i| proposable(&cands[i]))
        .collect();
    let helps: Vec<Vec<usize>> = pool
        .iter()
        .map(|&i| {
            let name = cands[i].username.to_lowercase();
            (0..out.rules.len())
                .filter(|&r| {
                    out.rules[r]
                        .approvers
                        .iter()
                        .any(|a| a.to_lowercase() == name)
                })
                .collect()
        })
        .collect();
    let ranks: Vec<select::Rank> = pool.iter().map(|&i| rank(&cands[i])).collect();
    let room = MAX_TOTAL_REVIEWERS.saturating_sub(mr.reviewers.len());
    let picked = select::cover(&mut remaining, &helps, &ranks, room);
    let mut chosen: Vec<usize> = picked.iter().map(|&p| pool[p]).collect();
    for (r, rule) in out.rules.iter_mut().enumerate() {
        for &p in &picked {
            if helps[p].contains(&r) && (rule.covered_by.len() as u32) < rule.approvals {
                rule.covered_by.push(cands[pool[p]].username.clone());
            }
        }
    }
    for (r, rule) in out.rules.iter_mut().enumerate() {
        if remaining[r] > 0 {
            rule.uncovered = Some(explain::why_short(
                rule,
                &rule_users[r],
                &cands,
                remaining[r],
                room,
            ));
        }
    }

    // 7. Nobody required: one reviewer from the best other evidence.
    if chosen.is_empty()
        && mr.reviewers.is_empty()
        && cfg.max_reviewers > 0
        && let Some((i, how)) = fallback(&mut cands, &dir, mr, snap, cfg)
    {
        chosen.push(i);
        out.fallback = Some(how);
    }
    out.chosen = chosen.iter().map(|&i| cands[i].username.clone()).collect();

    let has_reviewers = !mr.reviewers.is_empty();
    if !matches!(mr.state, MrState::Opened) {
        out.notes
            .push(format!("!{} is {}, not open", mr.iid, mr.state));
    } else if out.chosen.is_empty() {
        out.notes
            .push(if has_reviewers && out.uncovered().next().is_none() {
                "current reviewers already cover every required rule".into()
            } else if has_reviewers {
                "no eligible owner can be added for the rules still short".into()
            } else {
                "nobody eligible to propose (no owners, recent authors or developers)".into()
            });
    } else {
        out.proposal = Some(explain::proposal(
            snap, mr, &cands, &chosen, &out, cfg, input.now,
        ));
    }
    out.candidates = cands;
    out
}

/// Candidates by lower-cased username.
#[derive(Default)]
struct People {
    by_name: BTreeMap<String, Candidate>,
}

impl People {
    fn get(&mut self, username: &str) -> &mut Candidate {
        self.by_name
            .entry(username.to_lowercase())
            .or_insert_with(|| Candidate {
                username: username.to_string(),
                score: 0.0,
                owns: Vec::new(),
                commits: 0,
                commit_files: Vec::new(),
                last_commit: None,
                open_reviews: 0,
                already_reviewer: false,
                approved: false,
                busy: None,
                excluded: None,
            })
    }

    fn peek(&self, username: &str) -> Option<&Candidate> {
        self.by_name.get(&username.to_lowercase())
    }
}

fn proposable(c: &Candidate) -> bool {
    c.excluded.is_none() && !c.already_reviewer && !c.approved
}

fn rank(c: &Candidate) -> select::Rank {
    select::Rank {
        busy: c.busy.is_some(),
        open_reviews: c.open_reviews,
        activity: c.last_commit.map_or(0.0, |t| t.as_second() as f64),
        username: c.username.clone(),
    }
}

/// The (section, pattern) rules the files trigger, with their owners, in the order of the
/// file's sections and lines.
fn triggered_rules(
    co: &CodeOwners,
    files: &[String],
    unowned: &mut Vec<String>,
) -> (Vec<RuleCheck>, Vec<Vec<Owner>>) {
    let mut index: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut rules: Vec<(usize, RuleCheck, Vec<Owner>)> = Vec::new();
    for f in files {
        let matches = co.owners_of(f);
        if !matches.iter().any(|m| !m.excluded && !m.owners.is_empty()) {
            unowned.push(f.clone());
        }
        for m in matches.into_iter().filter(|m| !m.excluded) {
            let spos = co
                .sections
                .iter()
                .position(|s| s.name == m.section)
                .unwrap_or(usize::MAX);
            let i = *index.entry((spos, m.pattern.clone())).or_insert_with(|| {
                rules.push((
                    spos,
                    RuleCheck {
                        section: m.section.clone(),
                        pattern: m.pattern.clone(),
                        line: m.line,
                        optional: m.optional,
                        approvals: if m.optional { 0 } else { m.approvals.max(1) },
                        files: Vec::new(),
                        owners: m.owners.iter().map(Owner::to_string).collect(),
                        approvers: Vec::new(),
                        covered_by: Vec::new(),
                        uncovered: None,
                    },
                    m.owners.clone(),
                ));
                rules.len() - 1
            });
            rules[i].1.files.push(f.clone());
        }
    }
    rules.sort_by_key(|(spos, r, _)| (*spos, r.line));
    rules.into_iter().map(|(_, r, o)| (r, o)).unzip()
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

/// Usernames an owner stands for, and the group/role/e-mail that brought them in.
fn resolve(
    owner: &Owner,
    dir: &Directory<'_>,
    unresolved: &mut BTreeSet<String>,
) -> (Vec<String>, Option<String>) {
    match owner {
        Owner::Handle(h) => {
            if let Some(m) = dir.member(h) {
                (vec![m.username.clone()], None)
            } else if let Some(users) = dir.group(h) {
                let users: Vec<String> = users.iter().map(|u| dir.canonical(u)).collect();
                if users.is_empty() {
                    unresolved.insert(format!("{owner} (no direct members)"));
                }
                (users, Some(owner.to_string()))
            } else if !dir.members_known && !h.contains('/') {
                // Members not fetched: take a plain handle for a user; eligibility is then
                // checked on what is known.
                (vec![h.clone()], None)
            } else {
                unresolved.insert(owner.to_string());
                (Vec::new(), None)
            }
        }
        Owner::Role(r) => {
            let users = dir.with_access(r.access_level());
            if users.is_empty() {
                unresolved.insert(owner.to_string());
            }
            (users, Some(owner.to_string()))
        }
        Owner::Email(e) => match dir.by_email(e) {
            Some(u) => (vec![dir.canonical(u)], Some(e.clone())),
            None => {
                unresolved.insert(e.clone());
                (Vec::new(), None)
            }
        },
    }
}

/// Open reviews per lower-cased username, over the open MRs other than `except`.
fn open_review_load(snap: &ProjectSnapshot, except: u64) -> BTreeMap<String, usize> {
    let mut load = BTreeMap::new();
    for mr in snap.mrs.values() {
        if mr.iid == except || !matches!(mr.state, MrState::Opened) {
            continue;
        }
        for r in &mr.reviewers {
            *load.entry(r.username.to_lowercase()).or_insert(0) += 1;
        }
    }
    load
}

fn exclusion(
    c: &Candidate,
    mr: &MergeRequest,
    dir: &Directory<'_>,
    cfg: &RouteConfig,
) -> Option<Exclusion> {
    let u = c.username.as_str();
    if mr
        .author
        .as_ref()
        .is_some_and(|a| a.username.eq_ignore_ascii_case(u))
    {
        return Some(Exclusion::Author);
    }
    if cfg.exclude.iter().any(|x| x.eq_ignore_ascii_case(u)) {
        return Some(Exclusion::Configured);
    }
    let member = dir.member(u);
    if dir.members_known && member.is_none() {
        return Some(Exclusion::NotMember);
    }
    let states = [
        member.and_then(|m| m.state.as_deref()),
        dir.facts(u).and_then(|f| f.state.as_deref()),
        mr.reviewers
            .iter()
            .find(|r| r.username.eq_ignore_ascii_case(u))
            .and_then(|r| r.state.as_deref()),
    ];
    if let Some(state) = states.into_iter().flatten().find(|s| *s != "active") {
        return Some(Exclusion::Inactive {
            state: state.to_string(),
        });
    }
    if dir.is_bot(u) {
        return Some(Exclusion::Bot);
    }
    None
}

fn busy(c: &Candidate, dir: &Directory<'_>, cfg: &RouteConfig) -> Option<String> {
    let mut why = Vec::new();
    if let Some(f) = dir.facts(&c.username)
        && f.availability.as_deref() == Some("busy")
    {
        why.push(match f.status_message.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() => format!("status busy: {}", explain::clean(m, 60)),
            _ => "status busy".to_string(),
        });
    }
    if c.open_reviews > cfg.busy_open_reviews {
        why.push(format!(
            "{} open reviews (busy above {})",
            c.open_reviews, cfg.busy_open_reviews
        ));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// One reviewer for an MR no required rule asks anyone for: an owner in an optional
/// section, else a recent author of the changed files, else the least-loaded developer.
fn fallback(
    cands: &mut Vec<Candidate>,
    dir: &Directory<'_>,
    mr: &MergeRequest,
    snap: &ProjectSnapshot,
    cfg: &RouteConfig,
) -> Option<(usize, Fallback)> {
    let best = |cands: &[Candidate], pred: &dyn Fn(&Candidate) -> bool| {
        (0..cands.len())
            .filter(|&i| proposable(&cands[i]) && pred(&cands[i]))
            .min_by(|&a, &b| {
                let (ca, cb) = (&cands[a], &cands[b]);
                ca.busy
                    .is_some()
                    .cmp(&cb.busy.is_some())
                    .then(cb.score.total_cmp(&ca.score))
                    .then_with(|| rank(ca).better(&rank(cb)))
            })
    };
    if let Some(i) = best(cands, &|c| c.owns.iter().any(|o| o.optional)) {
        return Some((i, Fallback::OptionalOwner));
    }
    if let Some(i) = best(cands, &|c| c.commits > 0) {
        return Some((i, Fallback::RecentAuthor));
    }
    let load = open_review_load(snap, mr.iid);
    let mut devs: Vec<Candidate> = dir
        .developers()
        .into_iter()
        .filter(|u| !cands.iter().any(|c| c.username.eq_ignore_ascii_case(u)))
        .map(|u| {
            let mut c = Candidate {
                open_reviews: load.get(&u.to_lowercase()).copied().unwrap_or(0),
                username: u,
                score: 0.0,
                owns: Vec::new(),
                commits: 0,
                commit_files: Vec::new(),
                last_commit: None,
                already_reviewer: false,
                approved: false,
                busy: None,
                excluded: None,
            };
            c.excluded = exclusion(&c, mr, dir, cfg);
            c.busy = busy(&c, dir, cfg);
            c
        })
        .collect();
    let start = cands.len();
    cands.append(&mut devs);
    let i = (start..cands.len())
        .filter(|&i| proposable(&cands[i]))
        .min_by(|&a, &b| rank(&cands[a]).better(&rank(&cands[b])))
        .or_else(|| {
            // Developers already listed as candidates (excluded ones are not proposable).
            best(cands, &|c| {
                dir.member(&c.username)
                    .is_some_and(|m| m.access_level >= 30)
            })
        })?;
    Some((i, Fallback::LowestLoad))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
