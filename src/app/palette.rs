//! The `:` command palette: parsing and the list of commands it offers.

use super::mrs::MrSort;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteCmd {
    /// Switch to another project (full path).
    Project(String),
    Refresh,
    Quit,
    /// Turn read-only on for the rest of the session (`:readonly`), or report it (`:readonly?`).
    ReadOnly,
    Sort(MrSort),
    Filter(String),
    Help,
    /// Open a job's log by id.
    Log(u64),
    /// An operator-made command on the selected item (`retry`, `label +a -b`, …), for
    /// `command::operator::from_palette`.
    Operator(String),
}

/// Name, argument, description: what the palette lists while typing.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "project",
        "[group/name]",
        "switch project (alone: the next watched one; a name completes from them)",
    ),
    ("refresh", "", "refresh from GitLab now"),
    (
        "readonly",
        "",
        "refuse every GitLab change for the rest of the session",
    ),
    (
        "sort",
        "<updated|age|iid|title|author|pipeline|approvals>",
        "sort merge requests",
    ),
    ("filter", "<words>", "filter the focused list"),
    ("log", "<job id>", "open a job's log"),
    (
        "retry",
        "",
        "retry the selected job or pipeline (proposed, then approve)",
    ),
    ("cancel", "", "cancel the selected pipeline"),
    ("play", "", "run the selected manual job"),
    ("comment", "<text>", "comment on the selected MR"),
    ("label", "<+add -remove>", "change the selected MR's labels"),
    ("reviewers", "<user…>", "set the selected MR's reviewers"),
    ("merge", "", "merge the selected MR at its current head"),
    ("rebase", "", "rebase the selected MR"),
    ("help", "", "show the key bindings"),
    ("quit", "", "quit gitaiops"),
];

/// Commands whose name starts with what was typed so far.
pub fn suggestions(input: &str) -> Vec<&'static (&'static str, &'static str, &'static str)> {
    let word = input.split_whitespace().next().unwrap_or("");
    COMMANDS
        .iter()
        .filter(|(n, _, _)| n.starts_with(word))
        .collect()
}

pub fn parse(input: &str) -> Result<PaletteCmd, String> {
    let input = input.trim().trim_start_matches(':');
    let (name, arg) = match input.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (input, ""),
    };
    let name = name.to_ascii_lowercase();
    // A unique prefix is enough (`:ref`, `:q`).
    let matches: Vec<&str> = COMMANDS
        .iter()
        .map(|(n, _, _)| *n)
        .filter(|n| n.starts_with(name.as_str()))
        .collect();
    let full = match (matches.as_slice(), name.as_str()) {
        (_, "") => return Err("type a command; Esc closes".into()),
        (_, "q") => "quit",
        (_, n) if matches.contains(&n) => n,
        ([one], _) => one,
        ([], _) => return Err(format!("unknown command :{name}")),
        (many, _) => return Err(format!("ambiguous :{name} ({})", many.join(", "))),
    };
    match full {
        // Empty: the next watched project; a bare name: one of the watched (see
        // `update::watched_project`).
        "project" if arg.contains(char::is_whitespace) => {
            Err(format!("not a project path: {arg:?} (expected group/name)"))
        }
        "project" => Ok(PaletteCmd::Project(arg.trim_matches('/').to_string())),
        "refresh" => Ok(PaletteCmd::Refresh),
        "quit" => Ok(PaletteCmd::Quit),
        "readonly" => Ok(PaletteCmd::ReadOnly),
        "sort" => MrSort::parse(arg)
            .map(PaletteCmd::Sort)
            .ok_or_else(|| format!("unknown sort {arg:?}")),
        "filter" => Ok(PaletteCmd::Filter(arg.to_string())),
        "help" => Ok(PaletteCmd::Help),
        v @ ("retry" | "cancel" | "play" | "comment" | "label" | "reviewers" | "merge"
        | "rebase") => Ok(PaletteCmd::Operator(
            format!("{v} {arg}").trim().to_string(),
        )),
        "log" => arg
            .trim_start_matches('#')
            .parse()
            .map(PaletteCmd::Log)
            .map_err(|_| format!(":log needs a job id, got {arg:?}")),
        other => Err(format!("unknown command :{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_prefixes() {
        assert_eq!(
            parse("project acme/web"),
            Ok(PaletteCmd::Project("acme/web".into()))
        );
        assert_eq!(parse(":refresh"), Ok(PaletteCmd::Refresh));
        assert_eq!(parse("ref"), Ok(PaletteCmd::Refresh));
        assert_eq!(parse("q"), Ok(PaletteCmd::Quit));
        assert_eq!(parse("quit"), Ok(PaletteCmd::Quit));
        assert_eq!(parse("readonly"), Ok(PaletteCmd::ReadOnly));
        assert_eq!(parse("sort title"), Ok(PaletteCmd::Sort(MrSort::Title)));
        assert_eq!(parse("log #4711"), Ok(PaletteCmd::Log(4711)));
        assert_eq!(
            parse("filter ~bug -draft"),
            Ok(PaletteCmd::Filter("~bug -draft".into()))
        );
    }

    #[test]
    fn explains_bad_input() {
        assert!(parse("").is_err());
        // Alone or with a bare name, the watched projects decide (`update::watched_project`).
        assert_eq!(parse("project"), Ok(PaletteCmd::Project(String::new())));
        assert_eq!(parse("project web"), Ok(PaletteCmd::Project("web".into())));
        assert!(parse("project foo bar").is_err());
        assert!(parse("frobnicate").unwrap_err().contains("unknown"));
        assert!(parse("sort sideways").is_err());
        assert!(parse("log abc").is_err());
        assert_eq!(
            suggestions("re").len(),
            5,
            "refresh, readonly, retry, reviewers, rebase"
        );
        assert_eq!(parse("retry"), Ok(PaletteCmd::Operator("retry".into())));
        assert_eq!(
            parse(":label +a -b"),
            Ok(PaletteCmd::Operator("label +a -b".into()))
        );
    }
}
