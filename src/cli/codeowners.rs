//! `gitaiops codeowners FILE [PATH...]`: the CODEOWNERS parser from the command line, to check
//! a file and see which rule owns a path in each section.

use std::process::ExitCode;

use anyhow::Context;

use crate::args::CodeownersArgs;
use crate::review::codeowners::CodeOwners;

use super::out;

/// Exit code 0 when the file has no problems, 1 when it has some (each printed).
pub fn run_codeowners(args: CodeownersArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let co = CodeOwners::parse(&String::from_utf8_lossy(&bytes));
    let lookups: Vec<(String, Vec<crate::review::codeowners::SectionMatch>)> = args
        .paths
        .iter()
        .map(|p| (p.clone(), co.owners_of(p)))
        .collect();
    if args.json {
        let v = serde_json::json!({
            "sections": co.sections.iter().map(|s| serde_json::json!({
                "name": s.name, "optional": s.optional, "approvals": s.approvals,
                "default_owners": s.default_owners, "rules": s.rules.len(),
            })).collect::<Vec<_>>(),
            "problems": co.problems,
            "paths": lookups.iter().map(|(p, m)| serde_json::json!({"path": p, "sections": m})).collect::<Vec<_>>(),
        });
        out::print_json(&serde_json::to_string_pretty(&v)?)?;
    } else {
        for s in &co.sections {
            out::println(&format!(
                "section {}{}: {} rule(s), {} approval(s){}",
                if s.optional { "^" } else { "" },
                s.name,
                s.rules.len(),
                s.approvals,
                if s.default_owners.is_empty() {
                    String::new()
                } else {
                    format!(", default owners {}", owners(&s.default_owners))
                }
            ))?;
        }
        for (path, matches) in &lookups {
            if matches.is_empty() {
                out::println(&format!("{path}: no owners"))?;
            }
            for m in matches {
                let who = if m.excluded {
                    "excluded".to_string()
                } else if m.owners.is_empty() {
                    "no owners (auto-approved)".to_string()
                } else {
                    owners(&m.owners)
                };
                out::println(&format!(
                    "{path}: [{}]{} line {} `{}` -> {who}",
                    m.section,
                    if m.optional { " (optional)" } else { "" },
                    m.line,
                    m.pattern
                ))?;
            }
        }
        for p in &co.problems {
            out::eprintln(&p.to_string());
        }
    }
    Ok(if co.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn owners(o: &[crate::review::codeowners::Owner]) -> String {
    o.iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
