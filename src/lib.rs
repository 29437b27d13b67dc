//! gitaiops: a terminal mission-control for GitLab with a human-in-the-loop AI planner.
//!
//! Only `tui` touches the terminal; `app` is pure state and logic; everything else knows nothing
//! about the terminal.

pub mod app;
pub mod cli;
pub mod command;
pub mod config;
pub mod diagnose;
pub mod gitlab;
pub mod llm;
pub mod logging;
pub mod net;
pub mod paths;
pub mod plan;
pub mod redact;
pub mod review;
pub mod sim;
pub mod text;
pub mod tui;

#[cfg(test)]
pub(crate) mod testutil;

use std::process::ExitCode;

use cli::{Cli, Cmd};

/// Dispatches a parsed command line. Every subcommand returns its exit code or an error that
/// `main` prints as one line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    // A file log for everything long-running or talking to a server; `config path` and the
    // `redact` filter have nothing worth logging. Without a usable state dir we run unlogged.
    let wants_log = !matches!(
        cli.command,
        Some(Cmd::Config(cli::ConfigCmd::Path)) | Some(Cmd::Redact)
    );
    let _log = wants_log.then(logging::init).and_then(Result::ok);
    // Only the subcommand's name: its arguments may hold a token (`sim --token`).
    let name = match &cli.command {
        None => "tui".to_string(),
        Some(c) => format!("{c:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase(),
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = name, "start");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            None => tui::run_live(global).await,
            Some(Cmd::Demo(args)) => tui::run_demo(global, args).await,
            Some(Cmd::Sim(args)) => sim::run_cli(args).await,
            Some(Cmd::Status(args)) => gitlab::status::run(global, args).await,
            Some(Cmd::Config(cmd)) => config::run_cli(global, cmd),
            Some(Cmd::Plan(args)) => plan::cli::run_plan(global, args).await,
            Some(Cmd::Apply(args)) => command::cli::run_apply(global, args).await,
            Some(Cmd::Diagnose(args)) => diagnose::cli::run_diagnose(global, args).await,
            Some(Cmd::Redact) => plan::cli::run_redact(),
            Some(Cmd::Audit(args)) => command::cli::run_audit(global, args).await,
            Some(Cmd::Eval(cmd)) => diagnose::cli::run_eval(global, cmd).await,
            Some(Cmd::Codeowners(args)) => review::cli::run_codeowners(args),
        }
    })
}
