//! `gitaiops completions <shell>` and `gitaiops man`: both generated from the clap definitions
//! (`args::Cli`), so every subcommand and flag is covered without a hand-written script.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};

const BIN: &str = "gitaiops";

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN, &mut buf);
    write_stdout(&buf)?;
    Ok(ExitCode::SUCCESS)
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
        for sub in Cli::command().get_subcommands() {
            let title = format!(".SH \"GITAIOPS {}\"", sub.get_name().to_uppercase());
            assert!(page.contains(&title), "{title} missing");
        }
        assert!(page.contains(".SH \"GITAIOPS CONFIG INIT\""));
        assert!(page.contains("with\\-token"), "nested flags are listed");
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
