//! The words of a routing: why each reviewer, which rules they cover, which stay uncovered.
//!
//! Everything shown comes from GitLab data (names, CODEOWNERS text) and is cleaned of control
//! and invisible characters and clipped, so the command passes validation (rationale at most
//! 2000 characters, at most 20 evidence lines of at most 1000).

use jiff::Timestamp;

use super::{Candidate, Fallback, RouteConfig, Routing, RuleCheck};
use crate::command::Command;
use crate::gitlab::models::MergeRequest;
use crate::gitlab::snapshot::ProjectSnapshot;

const MAX_RATIONALE: usize = 1_900;
const MAX_EVIDENCE: usize = 20;
const MAX_EVIDENCE_LINE: usize = 900;

/// Text from GitLab made safe to show: no control or invisible characters, no backticks (they
/// would break the quoting), at most `max` characters.
pub fn clean(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            let hidden = c.is_control()
                || matches!(c,
                    '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
                    | '\u{00AD}');
            if hidden {
                '?'
            } else if c == '`' {
                '\''
            } else {
                c
            }
        })
        .take(max + 1)
        .collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    out
}

pub fn section_label(s: &str) -> String {
    if s == super::super::codeowners::DEFAULT_SECTION {
        "default section".into()
    } else {
        format!("[{}]", clean(s, 60))
    }
}

/// `[Backend] `Cargo.toml``.
pub fn rule_label(r: &RuleCheck) -> String {
    format!("{} `{}`", section_label(&r.section), clean(&r.pattern, 80))
}

fn at(name: &str) -> String {
    format!("@{}", clean(name, 60))
}

fn at_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| at(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn find<'a>(cands: &'a [Candidate], name: &str) -> Option<&'a Candidate> {
    cands.iter().find(|c| c.username.eq_ignore_ascii_case(name))
}

/// Why a required rule stays short of approvals.
pub fn why_short(
    rule: &RuleCheck,
    users: &[String],
    cands: &[Candidate],
    missing: u32,
    room: usize,
) -> String {
    let who = |u: &String| match find(cands, u).and_then(|c| c.excluded.as_ref()) {
        Some(e) => format!("{} ({e})", at(u)),
        None => at(u),
    };
    if rule.owners.is_empty() {
        return "the rule names no owner; GitLab approves it automatically".into();
    }
    if users.is_empty() {
        return format!(
            "no owner is a project member ({}); GitLab approves a rule without an eligible approver automatically",
            rule.owners
                .iter()
                .map(|o| clean(o, 60))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if rule.approvers.is_empty() {
        let only = if users.len() == 1 {
            "its only owner"
        } else {
            "its owners"
        };
        return format!(
            "{only} {}; GitLab approves a rule without an eligible approver automatically",
            users.iter().map(who).collect::<Vec<_>>().join(", ")
        );
    }
    if (rule.approvers.len() as u32) < rule.approvals {
        return format!(
            "needs {} approvals but only {} can approve ({}); GitLab then treats the rule as invalid and approves it automatically",
            rule.approvals,
            rule.approvers.len(),
            at_list(&rule.approvers)
        );
    }
    let blocked: Vec<String> = rule
        .approvers
        .iter()
        .filter(|u| !rule.covered_by.iter().any(|c| c.eq_ignore_ascii_case(u)))
        .filter(|u| find(cands, u).is_some_and(|c| c.excluded.is_some()))
        .map(who)
        .collect();
    if blocked.is_empty() || room == 0 {
        return format!("{missing} more approval(s) needed; the MR has the most reviewers allowed");
    }
    format!(
        "{missing} more approval(s) needed; the other owners cannot be proposed: {}",
        blocked.join(", ")
    )
}

/// Appends `part` unless the text would grow past the limit; says so once when it stops.
fn push_bounded(text: &mut String, part: &str, stopped: &mut bool) {
    if *stopped {
        return;
    }
    if text.chars().count() + part.chars().count() + 1 > MAX_RATIONALE - 40 {
        text.push_str(" (more in the evidence)");
        *stopped = true;
        return;
    }
    text.push(' ');
    text.push_str(part);
}

pub fn proposal(
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
    let names: Vec<&str> = chosen.iter().map(|&i| cands[i].username.as_str()).collect();
    let uncovered: Vec<&RuleCheck> = out.uncovered().collect();
    let verb = if mr.reviewers.is_empty() {
        format!("Suggest {} for !{}", at_list(&names), mr.iid)
    } else {
        format!(
            "Add {} to the reviewers of !{} (keeping {})",
            at_list(&names),
            mr.iid,
            at_list(
                &mr.reviewers
                    .iter()
                    .map(|r| r.username.as_str())
                    .collect::<Vec<_>>()
            )
        )
    };
    let mut text = match out.fallback {
        None => format!("{verb} so each required code-owner rule has the approvals it needs."),
        Some(how) => {
            let c = &cands[chosen[0]];
            let why = match how {
                Fallback::OptionalOwner => format!(
                    "code owner in optional section(s) {}",
                    c.owns
                        .iter()
                        .filter(|o| o.optional)
                        .map(|o| section_label(&o.section))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Fallback::RecentAuthor => {
                    format!("{} recent commit(s) to the changed files", c.commits)
                }
                Fallback::LowestLoad => format!(
                    "lowest review load among developers ({} open review(s)); no code owner or recent author is available",
                    c.open_reviews
                ),
            };
            let required = if uncovered.is_empty() {
                "no required code-owner rule asks for a reviewer"
            } else {
                "no required code-owner rule can be covered"
            };
            format!("{verb}: {why}; {required}.")
        }
    };
    let mut stopped = false;
    let covering: Vec<String> = out
        .rules
        .iter()
        .filter(|r| !r.optional && r.uncovered.is_none())
        .filter(|r| {
            r.covered_by
                .iter()
                .any(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c)))
        })
        .map(|r| {
            let by: Vec<String> = r
                .covered_by
                .iter()
                .map(|u| {
                    let via = find(cands, u).and_then(|c| {
                        c.owns
                            .iter()
                            .find(|o| o.section == r.section && o.pattern == r.pattern)
                            .and_then(|o| o.via.clone())
                    });
                    match via {
                        Some(v) => format!("{} via {}", at(u), clean(&v, 60)),
                        None => at(u),
                    }
                })
                .collect();
            let needs = if r.approvals > 1 {
                format!(" needs {}", r.approvals)
            } else {
                String::new()
            };
            format!("{}{needs}: {}", rule_label(r), by.join(", "))
        })
        .collect();
    if !covering.is_empty() {
        push_bounded(
            &mut text,
            &format!("Rules: {}.", covering.join("; ")),
            &mut stopped,
        );
    }
    for r in &uncovered {
        push_bounded(
            &mut text,
            &format!(
                "Not covered: {}: {}.",
                rule_label(r),
                r.uncovered.as_deref().unwrap_or("")
            ),
            &mut stopped,
        );
    }
    for &i in chosen {
        if let Some(b) = &cands[i].busy {
            push_bounded(
                &mut text,
                &format!(
                    "{} is busy ({b}) but no available owner can cover it.",
                    at(&cands[i].username)
                ),
                &mut stopped,
            );
        }
    }
    let skipped: Vec<String> = cands
        .iter()
        .filter(|c| !c.owns.is_empty() || c.commits > 0)
        .filter_map(|c| {
            c.excluded
                .as_ref()
                .map(|e| format!("{} ({e})", at(&c.username)))
        })
        .collect();
    if !skipped.is_empty() {
        push_bounded(
            &mut text,
            &format!("Skipped {}.", skipped.join(", ")),
            &mut stopped,
        );
    }

    let confidence = {
        let base: f64 = match out.fallback {
            None => 0.8,
            Some(Fallback::OptionalOwner) => 0.55,
            Some(Fallback::RecentAuthor) => 0.5,
            Some(Fallback::LowestLoad) => 0.45,
        };
        let mut c = base;
        if !uncovered.is_empty() {
            c -= 0.15;
        }
        if chosen.iter().any(|&i| cands[i].busy.is_some()) {
            c -= 0.1;
        }
        (c * 100.0).round() / 100.0
    };

    Command::AssignReviewers {
        project: snap.path().to_string(),
        mr_iid: mr.iid,
        reviewers,
        rationale: text,
        confidence: Some(confidence),
        evidence: evidence(cands, chosen, out, cfg, now),
    }
}

fn evidence(
    cands: &[Candidate],
    chosen: &[usize],
    out: &Routing,
    cfg: &RouteConfig,
    now: Timestamp,
) -> Vec<String> {
    let mut ev: Vec<String> = Vec::new();
    let mut rules: Vec<&RuleCheck> = out.rules.iter().collect();
    // Uncovered first, then required, then optional: what the operator must know.
    rules.sort_by_key(|r| (r.uncovered.is_none(), r.optional));
    for r in rules.iter().take(12) {
        let state = match (&r.uncovered, r.optional) {
            (Some(why), _) => format!("NOT COVERED: {why}"),
            (None, true) => "optional section".to_string(),
            (None, false) => format!("covered by {}", at_list(&r.covered_by)),
        };
        ev.push(format!(
            "CODEOWNERS {} line {}{}: owners {}; files {}; {state}",
            rule_label(r),
            r.line,
            if r.approvals > 1 {
                format!(" (needs {})", r.approvals)
            } else {
                String::new()
            },
            if r.owners.is_empty() {
                "none".to_string()
            } else {
                r.owners
                    .iter()
                    .map(|o| clean(o, 60))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            list(&r.files, 4)
        ));
    }
    if out.rules.len() > 12 {
        ev.push(format!("... and {} more rule(s)", out.rules.len() - 12));
    }
    for &i in chosen {
        let c = &cands[i];
        let mut parts = Vec::new();
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
            parts.push(format!(
                "{} recent commit(s) to {}{last}",
                c.commits,
                list(&c.commit_files, 4)
            ));
        }
        parts.push(format!(
            "reviews {} other open MR(s) (busy above {})",
            c.open_reviews, cfg.busy_open_reviews
        ));
        if let Some(b) = &c.busy {
            parts.push(format!("busy: {b}"));
        }
        ev.push(format!("{}: {}", at(&c.username), parts.join("; ")));
    }
    let excluded: Vec<String> = cands
        .iter()
        .filter(|c| !c.owns.is_empty() || c.commits > 0)
        .filter_map(|c| {
            c.excluded
                .as_ref()
                .map(|e| format!("{} ({e})", at(&c.username)))
        })
        .collect();
    if !excluded.is_empty() {
        ev.push(format!("not proposed: {}", excluded.join(", ")));
    }
    if !out.unresolved_owners.is_empty() {
        ev.push(format!(
            "owners not resolved to users: {}",
            out.unresolved_owners
                .iter()
                .map(|o| clean(o, 60))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !out.unowned_files.is_empty() {
        ev.push(format!(
            "files without code owners: {}",
            list(&out.unowned_files, 5)
        ));
    }
    if !out.unmapped_authors.is_empty() {
        ev.push(format!(
            "recent authors matching no member: {}",
            out.unmapped_authors
                .iter()
                .map(|a| clean(a, 80))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    ev.truncate(MAX_EVIDENCE);
    ev.into_iter()
        .map(|l| match l.char_indices().nth(MAX_EVIDENCE_LINE) {
            Some((cut, _)) => format!("{}…", &l[..cut]),
            None => l,
        })
        .collect()
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .map(|i| clean(i, 120))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}
