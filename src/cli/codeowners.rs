//! `gitaiops codeowners FILE [PATH...]`: the CODEOWNERS parser from the command line, to check
//! a file the way GitLab checks it and see which rule owns a path in each section.
//!
//! The report goes to stdout (text or `--json`), GitLab's syntax errors to stderr in text mode.
//! A reader that goes away (`| head -1`) ends the output quietly: no panic, no message.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use super::out;
use crate::args::CodeownersArgs;
use crate::review::codeowners::{CodeOwners, Owner, SectionMatch};

/// Exit code 0 when GitLab would report no syntax error, 1 when it would (each printed).
pub fn run_codeowners(args: CodeownersArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let co = CodeOwners::parse(&String::from_utf8_lossy(&bytes));
    let report = if args.json {
        render_json(&co, &args.paths)?
    } else {
        render_text(&co, &args.paths)
    };
    // Made safe for the terminal: a CODEOWNERS file is repository content anyone can write.
    let report = if args.json {
        out::json(&report)
    } else {
        out::human(&report)
    };
    quietly(std::io::stdout().lock(), &report)?;
    if !args.json {
        let mut err = String::new();
        for p in &co.problems {
            err.push_str(&format!("{p}\n"));
        }
        for n in &co.notes {
            err.push_str(&format!("note: {n}\n"));
        }
        quietly(std::io::stderr().lock(), &out::human(&err))?;
    }
    Ok(if co.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes everything, treating a closed pipe as the reader having had enough.
fn quietly(mut w: impl Write, text: &str) -> std::io::Result<()> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn lookups(co: &CodeOwners, paths: &[String]) -> Vec<(String, Vec<SectionMatch>)> {
    paths.iter().map(|p| (p.clone(), co.owners_of(p))).collect()
}

pub fn render_json(co: &CodeOwners, paths: &[String]) -> anyhow::Result<String> {
    let v = serde_json::json!({
        "sections": co.sections.iter().map(|s| serde_json::json!({
            "name": s.name, "optional": s.optional, "approvals": s.approvals,
            "default_owners": s.default_owners, "rules": s.rules.len(),
        })).collect::<Vec<_>>(),
        "problems": co.problems,
        "notes": co.notes,
        "paths": lookups(co, paths).iter().map(|(p, m)| serde_json::json!({"path": p, "sections": m})).collect::<Vec<_>>(),
    });
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}

pub fn render_text(co: &CodeOwners, paths: &[String]) -> String {
    let mut out = String::new();
    for s in &co.sections {
        out.push_str(&format!(
            "section {}{}: {} rule(s), {}{}\n",
            if s.optional { "^" } else { "" },
            if s.name.trim().is_empty() {
                "(no name)"
            } else {
                s.name.as_str()
            },
            s.rules.len(),
            if s.optional {
                "optional".to_string()
            } else {
                format!("{} approval(s) per rule", s.approvals)
            },
            if s.default_owners.is_empty() {
                String::new()
            } else {
                format!(", default owners {}", owners(&s.default_owners))
            }
        ));
    }
    for (path, matches) in lookups(co, paths) {
        if matches.is_empty() {
            out.push_str(&format!("{path}: no owners\n"));
        }
        for m in matches {
            let who = if m.excluded {
                "excluded".to_string()
            } else if m.owners.is_empty() {
                "no owners (auto-approved)".to_string()
            } else {
                owners(&m.owners)
            };
            out.push_str(&format!(
                "{path}: [{}]{} line {} `{}` -> {who}{}\n",
                m.section,
                if m.optional { " (optional)" } else { "" },
                m.line,
                m.pattern,
                if m.approvals > 1 && !m.optional && !m.excluded {
                    format!(" ({} approvals)", m.approvals)
                } else {
                    String::new()
                }
            ));
        }
    }
    out
}

fn owners(o: &[Owner]) -> String {
    o.iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_report_lists_sections_and_lookups() {
        let co = CodeOwners::parse("* @a\n[Backend][2] @acme/backend\n*.rs\n^[Docs]\n*.md @d\n");
        let text = render_text(&co, &["src/x.rs".into(), "README.md".into()]);
        assert!(
            text.contains(
                "section Backend: 1 rule(s), 2 approval(s) per rule, default owners @acme/backend"
            ),
            "{text}"
        );
        assert!(
            text.contains("section ^Docs: 1 rule(s), optional"),
            "{text}"
        );
        assert!(
            text.contains("src/x.rs: [Backend] line 3 `*.rs` -> @acme/backend (2 approvals)"),
            "{text}"
        );
        assert!(
            text.contains("README.md: [Docs] (optional) line 5 `*.md` -> @d"),
            "{text}"
        );
    }

    #[test]
    fn a_closed_pipe_is_not_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        assert!(quietly(Closed, "x").is_ok());
    }
}
