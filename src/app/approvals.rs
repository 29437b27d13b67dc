//! The MR detail's approvals: the summary every edition answers, and each approval rule
//! where the instance has them (Premium's `approval_state`). On CE the summary says what
//! CE knows (who approved) and that the edition has no rules: never an error line.

use crate::gitlab::{ApprovalRule, ApprovalState, Approvals, UserRef};

use super::detail::{Tone, ToneLine};
use super::symbols::{self, StatusClass};
use super::text;

/// Names listed per rule before "+N more".
const MAX_NAMES: usize = 8;
/// The label column of the detail's header lines ("Approvals  ").
const LABEL: usize = 11;

pub fn lines(
    approvals: Option<&Approvals>,
    rules: Option<&ApprovalState>,
    width: usize,
    ascii: bool,
    out: &mut Vec<ToneLine>,
) {
    let head = || ("Approvals  ".to_string(), Tone::Heading);
    let Some(a) = approvals else {
        out.push(vec![head(), ("not fetched yet".into(), Tone::Dim)]);
        return;
    };
    let by = names(a.approved_by.iter().map(|u| &u.user));
    if a.is_ce_shape() {
        // CE: `approved` means someone approved; nothing is required.
        let mut parts = vec![head()];
        if by.is_empty() {
            parts.push(("not approved yet".into(), Tone::Dim));
        } else {
            parts.push((
                format!("approved by {by}"),
                Tone::Status(StatusClass::Success),
            ));
        }
        parts.push((" · no approval rules on this edition".into(), Tone::Dim));
        out.push(parts);
        return;
    }
    let tone = if a.satisfied() {
        Tone::Status(StatusClass::Success)
    } else {
        Tone::Warn
    };
    let mut parts = vec![
        head(),
        (format!("{}/{} given", a.given(), a.required()), tone),
    ];
    if !by.is_empty() {
        parts.push((format!(" by {by}"), Tone::Dim));
    }
    out.push(parts);
    if let Some(state) = rules {
        for r in &state.rules {
            rule_lines(r, width, ascii, out);
        }
    }
}

/// `✓ Backend 2/2` and, while it waits, who approved and who still can.
fn rule_lines(r: &ApprovalRule, width: usize, ascii: bool, out: &mut Vec<ToneLine>) {
    let required = r.approvals_required.unwrap_or(0);
    let given = r.approved_by.len() as u32;
    let done = r.approved.unwrap_or(given >= required);
    let (sym, tone) = if done {
        (
            symbols::symbol(StatusClass::Success, ascii),
            Tone::Status(StatusClass::Success),
        )
    } else {
        (symbols::symbol(StatusClass::Pending, ascii), Tone::Warn)
    };
    let kind = match r.rule_type.as_deref() {
        Some("code_owner") => " (code owners)",
        Some("report_approver") => " (security report)",
        Some("any_approver") => " (any eligible)",
        _ => "",
    };
    let count = if required == 0 {
        "optional".to_string()
    } else {
        format!("{given}/{required}")
    };
    let name = text::sanitize_line(&r.name);
    let room = width.saturating_sub(LABEL);
    out.push(vec![
        (" ".repeat(LABEL), Tone::Normal),
        (
            text::truncate(&format!("{sym} {name}{kind} {count}"), room, ascii).into_owned(),
            tone,
        ),
    ]);
    let mut detail = Vec::new();
    let by = names(r.approved_by.iter());
    if !by.is_empty() {
        detail.push(format!("approved by {by}"));
    }
    if !done {
        let can = names(r.can_still_approve());
        let groups: Vec<String> = r
            .groups
            .iter()
            .map(|g| {
                let path = if g.full_path.is_empty() {
                    &g.name
                } else {
                    &g.full_path
                };
                format!("@{}", text::sanitize_line(path))
            })
            .collect();
        match (can.is_empty(), groups.is_empty()) {
            (true, true) => detail.push("nobody else can approve".into()),
            (false, true) => detail.push(format!("can approve: {can}")),
            (true, false) => detail.push(format!("can approve: {}", groups.join(", "))),
            (false, false) => detail.push(format!("can approve: {can} ({})", groups.join(", "))),
        }
    }
    for d in detail {
        for w in text::wrap(&d, room.saturating_sub(2)) {
            out.push(vec![(format!("{}  {w}", " ".repeat(LABEL)), Tone::Dim)]);
        }
    }
}

/// Sanitized usernames, the first few, then how many more.
fn names<'a>(users: impl Iterator<Item = &'a UserRef>) -> String {
    let all: Vec<String> = users
        .map(|u| text::sanitize_line(&u.username).into_owned())
        .collect();
    let mut shown = all
        .iter()
        .take(MAX_NAMES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > MAX_NAMES {
        shown.push_str(&format!(" +{} more", all.len() - MAX_NAMES));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::detail::flat;
    use serde_json::json;

    /// The fixture's shape (gitlab-api.md §2.2): each rule with its eligible approvers and
    /// who approved.
    #[test]
    fn each_rule_says_who_approved_and_who_still_can() {
        let u = |id: u64, n: &str| json!({"id": id, "username": n, "name": n});
        let a: Approvals = serde_json::from_value(json!({
            "approved": false, "approvals_required": 3, "approvals_left": 1,
            "approved_by": [{"user": u(1, "priya")}, {"user": u(2, "lfischer")}]
        }))
        .unwrap();
        let s: ApprovalState = serde_json::from_value(json!({
            "approval_rules_overwritten": false,
            "rules": [
                {"id": 1, "name": "Backend", "rule_type": "regular", "approvals_required": 2,
                 "eligible_approvers": [u(1, "priya"), u(3, "mbianchi"), u(4, "slarsen")],
                 "users": [], "groups": [], "approved_by": [u(1, "priya")], "approved": false},
                {"id": 2, "name": "src/db/\u{1b}[2J", "rule_type": "code_owner", "approvals_required": 1,
                 "eligible_approvers": [u(2, "lfischer")], "groups": [{"id": 7, "name": "dba", "full_path": "acme/dba"}],
                 "approved_by": [u(2, "lfischer")], "approved": true}
            ]
        }))
        .unwrap();
        let mut out = Vec::new();
        lines(Some(&a), Some(&s), 70, false, &mut out);
        let text = flat(&out);
        assert!(
            text.contains("Approvals  2/3 given by priya, lfischer"),
            "{text}"
        );
        assert!(text.contains("○ Backend 1/2"), "{text}");
        assert!(text.contains("approved by priya"), "{text}");
        assert!(text.contains("can approve: mbianchi, slarsen"), "{text}");
        assert!(text.contains("✓ src/db/ (code owners) 1/1"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        // A rule met says who approved, not who else could.
        assert_eq!(text.matches("can approve").count(), 1, "{text}");
    }

    /// CE answers only who approved: said as such, with no error and no "0/0".
    #[test]
    fn ce_says_who_approved_and_that_there_are_no_rules() {
        let a: Approvals = serde_json::from_value(json!({
            "user_has_approved": false, "user_can_approve": true, "approved": true,
            "approved_by": [{"user": {"id": 1, "username": "priya"}}]
        }))
        .unwrap();
        let mut out = Vec::new();
        lines(Some(&a), None, 70, false, &mut out);
        assert_eq!(
            flat(&out),
            "Approvals  approved by priya · no approval rules on this edition"
        );
        let none: Approvals =
            serde_json::from_value(json!({"approved": false, "approved_by": []})).unwrap();
        out.clear();
        lines(Some(&none), None, 70, false, &mut out);
        assert!(flat(&out).contains("not approved yet"));
    }
}
