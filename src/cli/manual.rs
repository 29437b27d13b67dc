//! `gitaiops completions <shell>` and `gitaiops man`: both generated from the clap definitions
//! (`args::Cli`), so every subcommand and flag is covered without a hand-written script.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};

const BIN: &str = "gitaiops";

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    write_stdout(completion_script(args.shell).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Asks the binary for the watched projects while completing (`config projects`, quiet).
const PROJECTS_CMD: &str = "gitaiops config projects 2>/dev/null";

/// clap's static script, with `--project` values completed from the config's watched projects
/// in the shells whose scripts can run a command there (bash, zsh, fish).
pub fn completion_script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        clap_complete::Shell::Bash => {
            // Each `--project)` case offers file names; offer the projects instead.
            let mut out = String::with_capacity(text.len());
            let mut after_project = false;
            for line in text.split_inclusive('\n') {
                if after_project && line.contains("compgen -f \"${cur}\"") {
                    out.push_str(&line.replace(
                        "compgen -f \"${cur}\"",
                        &format!("compgen -W \"$({PROJECTS_CMD})\" -- \"${{cur}}\""),
                    ));
                } else {
                    out.push_str(line);
                }
                after_project = line.trim() == "--project)";
            }
            out
        }
        clap_complete::Shell::Zsh => text.replace(
            ":PROJECT:_default'",
            &format!(":PROJECT:{{compadd -- ${{(f)\"$({PROJECTS_CMD})\"}}}}'"),
        ),
        clap_complete::Shell::Fish => {
            let mut out = String::with_capacity(text.len());
            for line in text.split_inclusive('\n') {
                if line.contains(" -l project ") && line.trim_end().ends_with(" -r") {
                    out.push_str(line.trim_end());
                    out.push_str(&format!(" -f -a \"({PROJECTS_CMD})\"\n"));
                } else {
                    out.push_str(line);
                }
            }
            out
        }
        _ => text,
    }
}

pub fn man(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        clap_mangen::generate_to(cmd, dir)
            .with_context(|| format!("cannot write man pages into {}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    write_stdout(&man_page(cmd)?)?;
    Ok(ExitCode::SUCCESS)
}

/// One page: the program's sections, then a section per subcommand with its synopsis and
/// options (`man -l` shows it all; `--dir` writes the per-subcommand pages instead).
pub fn man_page(cmd: clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    let top = clap_mangen::Man::new(cmd.clone());
    top.render_title(&mut out)?;
    top.render_name_section(&mut out)?;
    top.render_synopsis_section(&mut out)?;
    top.render_description_section(&mut out)?;
    top.render_options_section(&mut out)?;
    top.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        sub_sections(&mut out, &format!("{BIN} {}", sub.get_name()), sub)?;
        for nested in sub.get_subcommands().filter(|s| !s.is_hide_set()) {
            sub_sections(
                &mut out,
                &format!("{BIN} {} {}", sub.get_name(), nested.get_name()),
                nested,
            )?;
        }
    }
    top.render_extra_section(&mut out)?;
    top.render_version_section(&mut out)?;
    Ok(out)
}

/// A subcommand as one `.SH` section: its description, synopsis and options, their own
/// section headers demoted to plain paragraphs.
fn sub_sections(out: &mut Vec<u8>, title: &str, sub: &clap::Command) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(sub.clone().bin_name(title));
    writeln!(out, ".SH \"{}\"", title.to_uppercase())?;
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        writeln!(out, "{}", roff_text(&about.to_string()))?;
    }
    for render in [
        clap_mangen::Man::render_synopsis_section as fn(&_, &mut dyn Write) -> std::io::Result<()>,
        clap_mangen::Man::render_options_section,
    ] {
        let mut part = Vec::new();
        render(&man, &mut part)?;
        let text = String::from_utf8_lossy(&part);
        for line in text.lines() {
            if line.starts_with(".SH ") {
                writeln!(out, ".PP")?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

/// Text as a roff paragraph: a leading `.` or `'` would be read as a request.
fn roff_text(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.replace('\\', "\\e")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    match w.write_all(bytes).and_then(|()| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_covers_every_subcommand_and_its_flags() {
        let page = String::from_utf8(man_page(Cli::command()).unwrap()).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH gitaiops"),
            "{page}"
        );
        for sub in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            let title = format!(".SH \"GITAIOPS {}\"", sub.get_name().to_uppercase());
            assert!(page.contains(&title), "{title} missing");
        }
        assert!(page.contains(".SH \"GITAIOPS CONFIG INIT\""));
        // The TUI's internal helper is not a command for people.
        assert!(!page.contains("DIAGNOSE\\-WORKER") && !page.contains("DIAGNOSE-WORKER"));
        assert!(page.contains("with\\-token"), "nested flags are listed");
    }

    #[test]
    fn project_values_come_from_the_watched_projects() {
        use clap_complete::Shell;
        let bash = completion_script(Shell::Bash);
        assert!(
            bash.contains("compgen -W \"$(gitaiops config projects 2>/dev/null)\" -- \"${cur}\""),
            "{bash}"
        );
        // Every --project case, and no other flag's.
        let cases = bash.matches("--project)").count();
        assert!(cases > 1);
        assert_eq!(bash.matches("config projects").count(), cases);
        let zsh = completion_script(Shell::Zsh);
        assert!(!zsh.contains(":PROJECT:_default"), "{zsh}");
        assert!(zsh.contains(":PROJECT:{compadd -- ${(f)\"$(gitaiops config projects"));
        let fish = completion_script(Shell::Fish);
        assert!(
            fish.lines()
                .filter(|l| l.contains(" -l project "))
                .all(|l| l.ends_with("-f -a \"(gitaiops config projects 2>/dev/null)\"")),
            "{fish}"
        );
    }

    #[test]
    fn completions_name_subcommands_and_flags() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), BIN, &mut buf);
            let text = String::from_utf8(buf).unwrap();
            for word in ["completions", "diagnose", "read-only"] {
                assert!(text.contains(word), "{shell}: {word} missing");
            }
        }
    }
}
