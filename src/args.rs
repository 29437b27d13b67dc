//! The command line as clap parses it: every subcommand's flags. Plain data; `cli` dispatches.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Subcommands that use none of the global flags (no GitLab, no planner, no terminal UI):
/// their help does not list them. The flags stay accepted, so scripts that pass them to every
/// subcommand keep working.
const NO_GLOBALS: [&str; 5] = ["sim", "redact", "codeowners", "completions", "man"];

/// The command line as the binary parses it: `Cli`'s, with the global flags hidden from the
/// help of the subcommands they do not apply to (`sim --help` listed `--provider`).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // A subcommand that has an argument of a global's id does not get that global: a hidden
    // copy takes its place there (accepted, not listed).
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().global(false).hide(true))
        .collect();
    for name in NO_GLOBALS {
        if cmd.find_subcommand(name).is_some() {
            cmd = cmd.mut_subcommand(name, |sc| sc.args(hidden.iter().cloned()));
        }
    }
    cmd
}

/// Parses the process's arguments (clap's usage errors and `--help` exit here, as `parse` does).
pub fn parse() -> Cli {
    let mut matches = command().get_matches();
    Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Parser)]
#[command(
    name = "gitaiops",
    version,
    about = "Terminal mission-control for GitLab with a human-in-the-loop AI planner"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The TUI's metrics listener (plain `gitaiops`; `demo` has its own)
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// A Prometheus listener beside the TUI: off unless asked for.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsArgs {
    /// Serve this session's Prometheus metrics on IP:PORT (/metrics, /healthz, /readyz), e.g. 127.0.0.1:9464
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Allow a --metrics-listen address that is not loopback
    #[arg(long)]
    pub metrics_allow_remote: bool,
}

/// Flags shared by every subcommand; each also has an environment variable.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// GitLab base URL or host (https://gitlab.example.com)
    #[arg(long, global = true, env = "GITLAB_HOST")]
    pub gitlab_url: Option<String>,
    /// Project full path (group/name); repeat for several projects
    #[arg(long, global = true, env = "GITAIOPS_PROJECT", value_delimiter = ',')]
    pub project: Vec<String>,
    /// Group full path: watch its active, non-archived projects; repeat for several groups
    #[arg(long, global = true, env = "GITAIOPS_GROUP", value_delimiter = ',')]
    pub group: Vec<String>,
    /// Config file (default: the XDG config dir)
    #[arg(long, global = true, env = "GITAIOPS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Refuse every request that is not a GET
    #[arg(long, global = true, env = "GITAIOPS_READ_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    pub read_only: bool,
    /// Planner provider: gemini, openai or rules
    #[arg(long, global = true, env = "GITAIOPS_PROVIDER")]
    pub provider: Option<String>,
    /// Plain ASCII symbols for terminals without Unicode
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Extra CA bundle (PEM) trusted on top of the system store
    #[arg(long, global = true, env = "GITAIOPS_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Command that prints the GitLab token (e.g. "pass show gitlab"); GITLAB_TOKEN wins over it
    #[arg(long, global = true, env = "GITAIOPS_TOKEN_CMD")]
    pub token_cmd: Option<String>,
    /// Refresh period in seconds
    #[arg(long, global = true, env = "GITAIOPS_REFRESH_SECS")]
    pub refresh_secs: Option<u64>,
}

/// The subcommands; `IntoStaticStr` names them for the log (never their arguments, which may
/// hold a token).
#[derive(Debug, Subcommand, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Cmd {
    /// The TUI against the embedded simulated GitLab: no token, no network
    Demo(DemoArgs),
    /// Run the simulated GitLab alone on a loopback port
    Sim(SimArgs),
    /// Fetch one snapshot of the project and print it
    Status(StatusArgs),
    /// Show or locate the config file
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Ask the planner for commands; never executes anything
    Plan(PlanArgs),
    /// Validate and execute a plan file, asking per command
    Apply(ApplyArgs),
    /// Explain a failed CI job
    Diagnose(DiagnoseArgs),
    /// Redact secrets: stdin to stdout
    Redact,
    /// Print the audit log
    Audit(AuditArgs),
    /// Evaluate the diagnoser on the labelled corpora (ours and LogDx-CI, side by side)
    Eval(EvalArgs),
    /// Show which CODEOWNERS rules own the given paths, and the file's problems (offline)
    Codeowners(CodeownersArgs),
    /// Poll the configured projects and serve Prometheus metrics (/metrics, /healthz, /readyz)
    Exporter(ExporterArgs),
    /// Print a shell completion script (e.g. `source <(gitaiops completions bash)`)
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir
    Man(ManArgs),
    /// Diagnose one log for the TUI in a child process (a context line, then the log, on
    /// standard input; the diagnosis as JSON on standard output)
    #[command(hide = true)]
    DiagnoseWorker,
}

#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    /// Address to serve on
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: String,
    /// Allow a --listen address that is not loopback
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DemoArgs {
    /// Number of MRs and pipelines in the simulated project (0 = the scenario as written)
    #[arg(long, default_value_t = 0)]
    pub scale: usize,
    /// Random seed of the simulation
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Freeze the simulated clock: nothing changes unless you act (screenshots, measurements)
    #[arg(long)]
    pub frozen: bool,
    /// Simulate this many projects of the `acme` group (2 or more opens the overview)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=40))]
    pub projects: u16,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Number of MRs and pipelines (0 = the scenario as written)
    #[arg(long, default_value_t = 0)]
    pub scale: usize,
    /// Random seed
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Serve this many projects in the `acme` group: acme/platform, acme/billing, acme/web, ...
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=40))]
    pub projects: u16,
    /// Require this token (Bearer or PRIVATE-TOKEN); any token is accepted when unset
    #[arg(long, env = "GITAIOPS_SIM_TOKEN")]
    pub token: Option<String>,
    /// Freeze the simulated clock: nothing changes unless a client acts or
    /// `POST /-/sim/advance` moves it (request-budget measurements)
    #[arg(long)]
    pub frozen: bool,
    /// Imitate this GitLab edition: ee (approval rules) or ce (no approval rules; the CE
    /// approvals answer)
    #[arg(long, value_enum, default_value = "ee")]
    pub edition: SimEdition,
}

/// `sim --edition`: which GitLab edition the simulator imitates (`sim::Edition`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SimEdition {
    /// Premium/Ultimate: approval rules
    #[default]
    Ee,
    /// CE/FOSS: no approval rules, CE's approvals answer
    Ce,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Print the snapshot as JSON (one line per snapshot with --watch)
    #[arg(long)]
    pub json: bool,
    /// Keep polling and print every changed snapshot until interrupted
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCmd {
    /// Print the config file's path
    Path {
        /// Print {"path": ..., "exists": ...} as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the effective settings and where each came from (tokens masked)
    Show {
        /// Print the settings as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Write a commented default config file (mode 0600)
    Init {
        /// Replace an existing file
        #[arg(long)]
        force: bool,
        /// Write $GITLAB_TOKEN into the file in clear (default: a commented placeholder)
        #[arg(long)]
        with_token: bool,
    },
    /// The watched projects, one per line (what shell completion offers for --project)
    #[command(hide = true)]
    Projects,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON (the form `apply` reads)
    #[arg(long)]
    pub json: bool,
    /// Print the redacted prompt instead of calling a model
    #[arg(long)]
    pub dry_prompt: bool,
    /// Model name for the provider
    #[arg(long)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Plan file (JSON, as printed by `plan --json`)
    pub plan: PathBuf,
    /// Approve low and medium risk without asking (high risk still asks)
    #[arg(long)]
    pub yes: bool,
    /// One JSON object per command, then a summary object (JSON Lines on stdout)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    /// Job id to fetch and diagnose
    #[arg(long, conflicts_with = "log")]
    pub job: Option<u64>,
    /// A CI log file to diagnose offline (`-` reads standard input)
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Print the diagnosis as JSON
    #[arg(long)]
    pub json: bool,
    /// Model name for the provider (as `plan --model`)
    #[arg(long)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Keep printing new records
    #[arg(long)]
    pub follow: bool,
    /// Print raw JSONL records
    #[arg(long)]
    pub json: bool,
}

/// `gitaiops eval`: both corpora and the tail-20 baseline side by side, or one corpus.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub cmd: Option<EvalCmd>,
    /// CI-log corpus directory (default tests/corpus/ci-logs)
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// LogDx-CI corpus directory (default ../shared/eval/logdx)
    #[arg(long)]
    pub logdx: Option<PathBuf>,
    /// Print the figures and per-case results as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalSplit {
    All,
    Dev,
    HeldOut,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EvalCmd {
    /// Score the diagnoser on the CI-log corpus alone, one row per case
    Corpus {
        /// Corpus directory (holds cases/; default tests/corpus/ci-logs)
        dir: Option<PathBuf>,
        /// Which cases: dev (rules were tuned on them), held-out, or all
        #[arg(long, value_enum, default_value_t = EvalSplit::All)]
        split: EvalSplit,
        /// Only the cases of this round of scenarios (3: the newest, out-of-sample)
        #[arg(long)]
        round: Option<u32>,
        /// Print per-case results as JSON lines
        #[arg(long)]
        json: bool,
    },
    /// Score the diagnoser on the LogDx-CI corpus
    Logdx {
        /// Corpus directory (holds cases/)
        dir: PathBuf,
        /// Only the first N cases
        #[arg(long)]
        limit: Option<usize>,
        /// Print per-case results as JSON lines
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CodeownersArgs {
    /// The CODEOWNERS file (GitLab syntax)
    pub file: PathBuf,
    /// Repository paths to look up (none: only check the file)
    pub paths: Vec<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write gitaiops.1 and one gitaiops-<subcommand>.1 per subcommand into this directory
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sim --help` listed `--provider` and every other global flag it ignores (issue 11).
    #[test]
    fn subcommands_without_globals_do_not_list_them_but_accept_them() {
        let mut cmd = command();
        // As when parsing: the globals reach the subcommands at build.
        cmd.build();
        let help = cmd
            .find_subcommand_mut("sim")
            .map(|sc| sc.render_long_help().to_string())
            .unwrap_or_default();
        assert!(help.contains("--listen"), "{help}");
        for flag in [
            "--provider",
            "--gitlab-url",
            "--project",
            "--ascii",
            "--refresh-secs",
        ] {
            // Whole words: `sim --projects N` is its own flag, not `--project`.
            let listed = help
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '=' | '<' | '['))
                .any(|w| w == flag);
            assert!(!listed, "{flag} in:\n{help}");
        }
        let status = cmd
            .find_subcommand_mut("status")
            .map(|sc| sc.render_long_help().to_string())
            .unwrap_or_default();
        assert!(
            status.contains("--provider") && status.contains("--project"),
            "{status}"
        );
        // Still accepted where hidden; still global where listed.
        let m = command()
            .try_get_matches_from(["gitaiops", "sim", "--provider", "rules"])
            .map_err(|e| e.to_string());
        assert!(m.is_ok(), "{m:?}");
        let mut m = command()
            .try_get_matches_from(["gitaiops", "status", "--project", "a/b"])
            .unwrap_or_else(|e| panic!("{e}"));
        let cli = Cli::from_arg_matches_mut(&mut m).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.global.project, ["a/b"]);
    }
}
