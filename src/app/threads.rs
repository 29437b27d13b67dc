//! The MR detail's threads: resolvable discussions with their state, unresolved first, and
//! the unresolved count the MR rows show once an MR's threads are known. Bodies are
//! untrusted and shown as sanitized plain text, like notes.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::gitlab::{Discussion, Note, ProjectSnapshot};

use super::detail::{Tone, ToneLine};
use super::symbols::{self, StatusClass};
use super::text;

/// Threads shown in full (an MR with hundreds of them is read in the browser).
const MAX_THREADS: usize = 30;
/// Notes shown of an unresolved thread; the rest are counted.
const MAX_THREAD_NOTES: usize = 6;

/// Unresolved threads of MR `iid`, when its discussions were fetched (detail opened).
pub fn unresolved_count(snap: &ProjectSnapshot, iid: u64) -> Option<usize> {
    snap.discussions
        .get(&iid)
        .map(|d| d.iter().filter(|d| d.unresolved()).count())
}

/// Ids of the notes that belong to a thread: the detail's "recent notes" leaves them out,
/// since the threads above show them.
pub fn thread_note_ids(discussions: &[Discussion]) -> BTreeSet<u64> {
    discussions
        .iter()
        .filter(|d| !d.individual_note)
        .flat_map(|d| d.notes.iter().map(|n| n.id))
        .collect()
}

/// "Threads (2 unresolved of 5)" and each thread: unresolved ones in full (a few notes),
/// resolved ones as one line (who resolved it, and how it started).
pub fn lines(
    discussions: Option<&Vec<Discussion>>,
    width: usize,
    now: Timestamp,
    ascii: bool,
    out: &mut Vec<ToneLine>,
) {
    let Some(all) = discussions else {
        out.push(vec![("Threads".into(), Tone::Heading)]);
        out.push(vec![("loading…".into(), Tone::Dim)]);
        return;
    };
    // System notes and plain comments are discussions of their own: not threads.
    let mut threads: Vec<&Discussion> = all
        .iter()
        .filter(|d| !d.individual_note && d.notes.iter().any(|n| !n.system))
        .collect();
    let open = threads.iter().filter(|d| d.unresolved()).count();
    out.push(vec![(
        if threads.is_empty() {
            "Threads".to_string()
        } else {
            format!("Threads ({open} unresolved of {})", threads.len())
        },
        Tone::Heading,
    )]);
    if threads.is_empty() {
        out.push(vec![("(no threads)".into(), Tone::Dim)]);
        return;
    }
    // Unresolved first; GitLab's order (oldest first) within each group.
    threads.sort_by_key(|d| !d.unresolved());
    for d in threads.iter().take(MAX_THREADS) {
        thread(d, width, now, ascii, out);
    }
    if threads.len() > MAX_THREADS {
        out.push(vec![(
            format!(
                "  … {} more thread(s): open the MR in the browser (o)",
                threads.len() - MAX_THREADS
            ),
            Tone::Dim,
        )]);
    }
}

fn thread(d: &Discussion, width: usize, now: Timestamp, ascii: bool, out: &mut Vec<ToneLine>) {
    let notes: Vec<&Note> = d.notes.iter().filter(|n| !n.system).collect();
    let Some(first) = notes.first() else {
        return;
    };
    let (state, tone) = if d.unresolved() {
        (
            format!(
                "{} unresolved",
                symbols::symbol(StatusClass::Pending, ascii)
            ),
            Tone::Warn,
        )
    } else if d.resolved() {
        // The thread's author follows on the same line: not named twice.
        let author = first.author.as_ref().map(|a| a.username.as_str());
        let by = match d.resolved_by() {
            Some(u) if Some(u.username.as_str()) == author => " by its author".to_string(),
            Some(u) => format!(" by {}", text::sanitize_line(&u.username)),
            None => String::new(),
        };
        (
            format!(
                "{} resolved{by}",
                symbols::symbol(StatusClass::Success, ascii)
            ),
            Tone::Status(StatusClass::Success),
        )
    } else {
        // A thread GitLab does not let anyone resolve (a commit's, an imported one).
        ("thread".to_string(), Tone::Dim)
    };
    let replies = match notes.len() - 1 {
        0 => String::new(),
        1 => " · 1 reply".into(),
        n => format!(" · {n} replies"),
    };
    let head = format!(" · {}{replies}", who_when(first, now));
    out.push(vec![
        ("  ".into(), Tone::Normal),
        (state, tone),
        (
            text::truncate(&head, width.saturating_sub(16), ascii).into_owned(),
            Tone::Dim,
        ),
    ]);
    if !d.unresolved() {
        // Settled: how it started is enough to recognise it.
        if let Some(l) = text::sanitize_lines(&first.body)
            .into_iter()
            .find(|l| !l.trim().is_empty())
        {
            out.push(vec![(
                format!("    {}", text::truncate(&l, width.saturating_sub(4), ascii)),
                Tone::Dim,
            )]);
        }
        return;
    }
    for (i, n) in notes.iter().take(MAX_THREAD_NOTES).enumerate() {
        if i > 0 {
            out.push(vec![(
                format!("    {} {}", if ascii { ">" } else { "↳" }, who_when(n, now)),
                Tone::Dim,
            )]);
        }
        let indent = if i == 0 { "    " } else { "      " };
        for l in text::sanitize_lines(&n.body) {
            for w in text::wrap(&l, width.saturating_sub(indent.len())) {
                out.push(vec![(format!("{indent}{w}"), Tone::Normal)]);
            }
        }
    }
    if notes.len() > MAX_THREAD_NOTES {
        out.push(vec![(
            format!("      … {} more repl(ies)", notes.len() - MAX_THREAD_NOTES),
            Tone::Dim,
        )]);
    }
}

fn who_when(n: &Note, now: Timestamp) -> String {
    let who = n
        .author
        .as_ref()
        .map(|a| a.username.as_str())
        .unwrap_or("?");
    format!(
        "{} · {} ago",
        text::sanitize_line(who),
        text::age(n.created_at, now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::detail::flat;

    fn sample() -> Vec<Discussion> {
        crate::testkit::discussions()
    }

    #[test]
    fn resolved_state_follows_every_resolvable_note() {
        let d = sample();
        assert!(d[0].resolved() && !d[0].unresolved());
        assert_eq!(
            d[0].resolved_by().map(|u| u.username.as_str()),
            Some("alice")
        );
        assert!(!d[1].resolvable() && !d[1].unresolved());
        assert!(d[2].unresolved());
        let mut half = d[2].clone();
        half.notes[0].resolved = Some(true);
        assert!(
            half.unresolved(),
            "one note left open keeps the thread open"
        );
    }

    #[test]
    fn unresolved_first_with_a_count_and_clean_text() {
        let snap = crate::testkit::snapshot();
        assert_eq!(unresolved_count(&snap, 1), Some(1));
        assert_eq!(unresolved_count(&snap, 2), None);
        let mut out = Vec::new();
        lines(
            snap.discussions.get(&1),
            60,
            crate::testkit::now(),
            false,
            &mut out,
        );
        let text = flat(&out);
        assert!(text.starts_with("Threads (1 unresolved of 2)"), "{text}");
        let open = text.find("○ unresolved · dave").unwrap();
        let done = text.find("✓ resolved by alice · carol").unwrap();
        assert!(open < done, "{text}");
        assert!(text.contains("1 reply"), "{text}");
        assert!(text.contains("↳ alice"), "{text}");
        assert!(text.contains("    Is the TTL right?"), "{text}");
        assert!(
            !text.contains("It looks short"),
            "resolved: first line only: {text}"
        );
        assert!(!text.contains("plain comment") && !text.contains("approved this"));
        // Resolved by the one who opened it: named once.
        let mut own = snap.discussions.get(&1).cloned().unwrap_or_default();
        for d in own.iter_mut().filter(|d| d.resolved()) {
            let opener = d.notes[0].author.clone();
            for n in d.notes.iter_mut() {
                n.resolved_by = opener.clone();
            }
        }
        let mut out = Vec::new();
        lines(Some(&own), 60, crate::testkit::now(), false, &mut out);
        let own_text = flat(&out);
        assert!(
            own_text.contains("✓ resolved by its author · carol"),
            "{own_text}"
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202E}'),
            "{text:?}"
        );
        assert_eq!(thread_note_ids(&sample()), BTreeSet::from([11, 12, 14, 15]));
    }

    #[test]
    fn not_fetched_and_none_say_so() {
        let mut out = Vec::new();
        lines(None, 60, crate::testkit::now(), true, &mut out);
        assert!(flat(&out).contains("loading"));
        out.clear();
        lines(Some(&Vec::new()), 60, crate::testkit::now(), true, &mut out);
        assert!(flat(&out).contains("(no threads)"));
    }
}
