//! GitLab's quick actions in note bodies: a line `/close`, `/merge`, `/approve`,
//! `/label ~x`, `/assign_reviewer @u` in a comment changes the MR. The simulator runs them as
//! GitLab does; the command layer keeps a comment from carrying one the operator did not
//! approve as that action.

/// The quick actions GitLab would run in a note body: `/command args` at the very start of a
/// line, outside fenced code blocks (`Gitlab::QuickActions::Extractor`). A command inside
/// backticks or indented is text.
pub fn parse(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in body.lines() {
        let t = line.trim_end();
        if t.trim_start().starts_with("```") || t.trim_start().starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let Some(rest) = t.strip_prefix('/') else {
            continue;
        };
        let cmd: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if cmd.is_empty() {
            continue;
        }
        let arg = rest[cmd.len()..].trim().to_string();
        out.push((cmd.to_ascii_lowercase(), arg));
    }
    out
}

/// The body with every line GitLab would run as a quick action put in a code span
/// (`` `/close` ``), which GitLab shows as text and does not run; and how many lines changed.
pub fn neutralise(body: &str) -> (String, usize) {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut changed = 0;
    for line in body.split('\n') {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            out.push(line.to_string());
            continue;
        }
        if !fenced && !parse(line).is_empty() {
            changed += 1;
            let line = line.trim_end_matches('\r');
            // A backtick inside needs a longer fence around the span.
            let ticks = if line.contains('`') { "``" } else { "`" };
            out.push(format!("{ticks}{line}{ticks}"));
        } else {
            out.push(line.to_string());
        }
    }
    (out.join("\n"), changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_gitlab_would_run_are_found_outside_code_only() {
        let body = "Looks good.\n/approve\n/label ~ci ~bug\n  /close\n```\n/merge\n```\nsee `/merge`\n/ not a command";
        assert_eq!(
            parse(body),
            vec![
                ("approve".to_string(), String::new()),
                ("label".to_string(), "~ci ~bug".to_string())
            ]
        );
    }

    #[test]
    fn neutralised_bodies_run_nothing_and_keep_their_text() {
        let (n, changed) = neutralise("Thanks!\n/merge\n/assign_reviewer @bob\nbye");
        assert_eq!(changed, 2);
        assert_eq!(n, "Thanks!\n`/merge`\n`/assign_reviewer @bob`\nbye");
        assert!(parse(&n).is_empty());
        let (same, none) = neutralise("no actions here\n\nsecond paragraph");
        assert_eq!(
            (same.as_str(), none),
            ("no actions here\n\nsecond paragraph", 0)
        );
    }
}
