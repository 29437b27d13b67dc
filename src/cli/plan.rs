//! `gitaiops plan` and `gitaiops redact`.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::args::{GlobalArgs, PlanArgs};
use crate::command::risk;
use crate::config::Settings;
use crate::gitlab::client::GitlabClient;
use crate::plan::fence::Fence;
use crate::plan::prompt::{PromptOptions, build_prompt};
use crate::plan::run::{PlanInput, PlanOutcome, Planner, Progress, usage_line};
use crate::plan::settings::{PlannerSettings, resolve};

use super::out;

/// The planner's settings from the loaded config and the process environment.
pub fn planner_settings(
    settings: &Settings,
    model_flag: Option<&str>,
) -> anyhow::Result<PlannerSettings> {
    let mut ps = resolve(&settings.file.planner, model_flag, &|k| {
        std::env::var(k).ok()
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    ps.no_proxy = crate::net::is_loopback_url(&ps.base_url);
    if let Some(k) = &ps.api_key {
        // The key of whatever provider was chosen never reaches a prompt, a log or the audit.
        crate::redact::register_secret(secrecy::ExposeSecret::expose_secret(k));
    }
    Ok(ps)
}

/// `gitaiops plan`: fetch a snapshot (read-only client), ask the planner, print proposals.
/// Never executes anything; a provider failure exits non-zero with one line.
pub async fn run_plan(global: GlobalArgs, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    let ps = planner_settings(&settings, args.model.as_deref())?;
    let project = settings.project()?.to_string();
    let mut cc = settings.client_config()?;
    // Planning reads; nothing it does may write, whatever the config says.
    cc.read_only = true;
    cc.no_proxy |= crate::net::is_loopback_url(&cc.base_url);
    let client = GitlabClient::new(cc)?;
    // The same read of the project as the TUI's planner runs.
    let input = crate::driver::planning::read_project(
        &client,
        &project,
        &crate::plan::fetch::ReviewCache::default(),
    )
    .await
    .with_context(|| format!("cannot read {project}"))?;

    if args.dry_prompt {
        let opts = PromptOptions {
            token_budget: ps.token_budget,
            stale_days: ps.stale_days,
            ..PromptOptions::default()
        };
        let prompt = build_prompt(
            &input.snapshot,
            &input.logs,
            input.now,
            &Fence::random(),
            &opts,
        );
        out::print(&prompt.display())?;
        return Ok(ExitCode::SUCCESS);
    }

    let planner = Planner::from_settings(&ps).map_err(|e| anyhow::anyhow!(e))?;
    let tty = std::io::stderr().is_terminal();
    let chatty = tty || !args.json;
    if chatty {
        out::eprintln(&format!(
            "planner: {} ({}); project {}",
            planner.label(),
            ps.chosen_by,
            project
        ));
    }
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let progress = move |p: Progress| {
        if !chatty {
            return;
        }
        match p {
            Progress::Waiting { reason, secs } => {
                out::eprintln(&format!("waiting {secs:.1}s: {reason}"))
            }
            Progress::Reasking { errors } => {
                out::eprintln(&format!("answer had {errors} problem(s); asking once more"))
            }
            Progress::Prompt { tokens, omitted } if omitted > 0 => out::eprintln(&format!(
                "prompt ~{tokens} tokens; some items left out for the budget"
            )),
            Progress::Context { tokens, source } => out::eprintln(&format!(
                "server context {tokens} tokens ({source}); prompt and answer sized to it"
            )),
            // One line rewritten in place on a terminal; nothing in a log.
            Progress::ReadingPrompt { done, total } if tty => out::eprint(&format!(
                "\rserver reading the prompt: {done}/{total} tokens   "
            )),
            Progress::Streaming { tokens, per_sec } if tty => out::eprint(&format!(
                "\r{tokens} tokens received, {per_sec:.1} tokens/s   "
            )),
            _ => {}
        }
    };
    let result = planner.plan(&input, &progress, &cancel).await;
    if tty {
        // Our own control sequence (clear the progress line), written as is.
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    match result {
        Ok(outcome) => {
            if let Some(n) = outcome.salvaged {
                out::eprintln(&format!(
                    "the answer was cut off; {n} complete command(s) were salvaged (see the summary)"
                ));
            }
            if args.json {
                out::print_json(&serde_json::to_string_pretty(&outcome.wire())?)?;
            } else {
                out::print(&human(&outcome, &input))?;
            }
            if chatty && outcome.planner != "rules" {
                out::eprintln(&outcome.usage_line());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            if chatty && f.usage.total_tokens > 0 {
                out::eprintln(&usage_line(&f.usage, f.cost_usd));
            }
            anyhow::bail!("plan failed ({}): {}: {}", f.state, f.planner, f.message)
        }
    }
}

/// The plan for a terminal: summary, then each proposal with its risk (decided by our code).
fn human(o: &PlanOutcome, input: &PlanInput) -> String {
    let mut s = format!(
        "Plan by {} ({}){}\n\n{}\n",
        o.planner,
        o.model,
        if o.cached { ", cached" } else { "" },
        o.summary
    );
    if o.commands.is_empty() {
        s.push_str("\nNo commands proposed.\n");
    }
    for (i, c) in o.commands.iter().enumerate() {
        let r = risk(c, &input.snapshot);
        s.push_str(&format!(
            "\n{}. {} {} [risk: {}]\n   {}\n",
            i + 1,
            c.kind(),
            c.target(),
            r.as_str(),
            c.rationale()
        ));
    }
    if !o.rejected.is_empty() {
        s.push_str(&format!("\nRejected ({}):\n", o.rejected.len()));
        for r in &o.rejected {
            s.push_str(&format!("- {}\n", r.reason));
        }
    }
    s.push_str("\nNothing was executed. Save with --json and run `gitaiops apply FILE` to act.\n");
    s
}

/// `gitaiops redact`: stdin to stdout. Input is read whole because private key blocks span lines;
/// bytes that are not UTF-8 (CI logs are not always) are replaced rather than rejected.
pub fn run_redact() -> anyhow::Result<ExitCode> {
    let mut raw = Vec::new();
    std::io::stdin().lock().read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let out = crate::redact::redact(&text);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
