//! `gitaiops diagnose` and `gitaiops eval`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::args::{DiagnoseArgs, EvalArgs, GlobalArgs};
use crate::config::Settings;
use crate::diagnose::engine;
use crate::diagnose::eval;
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Diagnosis, JobContext};
use crate::gitlab::client::GitlabClient;
use crate::plan::run::Planner;
use crate::redact::redact;

use super::out;

pub async fn run_diagnose(global: GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    let planner = planner_for(&settings, args.model.as_deref())?;
    let (bytes, ctx) = match (&args.log, args.job) {
        (Some(path), _) => {
            // A big log's matcher is built on the other core while the file is read.
            if let Ok(meta) = std::fs::metadata(path) {
                let size = meta.len();
                std::thread::spawn(move || crate::diagnose::extract::prepare_for(size));
            }
            (read_log(path)?, JobContext::default())
        }
        (None, Some(job_id)) => fetch_job_with(&settings, job_id).await?,
        (None, None) => bail!("give a log file (--log FILE) or a job (--project P --job ID)"),
    };
    let log =
        tokio::task::spawn_blocking(move || Arc::new(LogIndex::parse(Arc::new(bytes)))).await?;
    let (d, engine) =
        engine::diagnose_with_model(planner.llm(), planner.options().max_output_tokens, log, ctx)
            .await;
    let d = d.map_err(|e| anyhow::anyhow!(e))?;
    if engine != "rules" {
        // Which engine answered (and why a model fell back) goes to stderr for the reader and
        // into --json as `engine`.
        out::eprintln(&format!("diagnosed by: {}", redact(&engine)));
    }
    if args.json {
        let mut v = serde_json::to_value(&d)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("engine".into(), serde_json::Value::String(engine.clone()));
        }
        crate::redact::redact_json(&mut v);
        out::print_json(&serde_json::to_string_pretty(&v)?)?;
    } else {
        out::print(&redact_human(&d))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The configured planner (`--provider`, `[planner]`, GEMINI_API_KEY / OPENAI_BASE_URL; rules
/// otherwise): its model diagnoses when it has one.
fn planner_for(settings: &Settings, model: Option<&str>) -> anyhow::Result<Planner> {
    let ps = super::plan::planner_settings(settings, model)?;
    Planner::from_settings(&ps).map_err(|e| anyhow::anyhow!(e))
}

/// `gitaiops diagnose-worker`: one request on standard input (see `diagnose::worker`), its
/// diagnosis on standard output. The TUI runs one per failed job it explains in the background.
pub fn run_worker() -> anyhow::Result<ExitCode> {
    use std::io::{Read, Write};

    use crate::diagnose::worker;
    let mut buf = Vec::new();
    std::io::stdin()
        .take(worker::MAX_REQUEST as u64 + 1)
        .read_to_end(&mut buf)?;
    let (ctx, log) = worker::decode_request(&buf).map_err(anyhow::Error::msg)?;
    let index = LogIndex::parse(Arc::new(log.to_vec()));
    drop(buf);
    let d = crate::diagnose::rules::diagnose(&index, &ctx);
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &d)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A log file, or standard input for `-` (`glab ci trace 123 | gitaiops diagnose --log -`).
fn read_log(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        use std::io::Read;
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("cannot read the log from standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read log {}", path.display()))
}

/// Job and trace through the configured GitLab (config file, env, flags), read-only.
async fn fetch_job_with(settings: &Settings, job_id: u64) -> anyhow::Result<(Vec<u8>, JobContext)> {
    let project = settings.project()?.to_string();
    let mut cc = settings.client_config()?;
    // Diagnosis only reads.
    cc.read_only = true;
    let client = GitlabClient::new(cc)?;
    let (bytes, ctx, notice) =
        crate::driver::diagnosis::fetch_job(&client, &project, job_id).await?;
    if let Some(n) = notice {
        out::eprintln(&format!("job {job_id}: {n}"));
    }
    Ok((bytes, ctx))
}

/// [`render_human`] redacted, but for the SECRETS warning: it names only kinds and line
/// numbers (`this log printed secrets: credential (line 2)`), which the key=value rule would
/// read as `SECRETS: this` and `secrets: credential` and print as `[REDACTED] log printed
/// secrets: [REDACTED]`.
pub fn redact_human(d: &Diagnosis) -> String {
    let text = render_human(d);
    let Some(warning) = d.secrets_warning() else {
        return redact(&text).into_owned();
    };
    let line = format!("SECRETS:    {warning}\n");
    match text.split_once(&line) {
        Some((before, after)) => format!("{}{line}{}", redact(before), redact(after)),
        None => redact(&text).into_owned(),
    }
}

/// The terminal rendering: category, summary, evidence with line numbers, fix.
pub fn render_human(d: &Diagnosis) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Category:   {} ({})  confidence {:.2}{}",
        d.category.label(),
        d.category.as_str(),
        d.confidence,
        if d.infra_or_flaky {
            "  [infrastructure/flaky]"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "Summary:    {}", d.summary);
    let _ = writeln!(s, "Root cause: {}", d.root_cause);
    if let Some(w) = d.secrets_warning() {
        let _ = writeln!(s, "SECRETS:    {w}");
    }
    if !d.evidence.is_empty() {
        let _ = writeln!(s, "Evidence:");
        let width = d
            .evidence
            .iter()
            .map(|e| e.line.to_string().len())
            .max()
            .unwrap_or(1);
        for e in &d.evidence {
            let _ = writeln!(s, "  {:>width$} | {}", e.line, e.text);
        }
    }
    if !d.tests.is_empty() {
        let _ = writeln!(s, "Tests:      {}", d.tests.join(", "));
    }
    if !d.files.is_empty() {
        let _ = writeln!(s, "Files:      {}", d.files.join(", "));
    }
    let _ = writeln!(s, "Fix:        {}", d.fix);
    for c in &d.commands {
        let json = serde_json::to_string(c).unwrap_or_default();
        let _ = writeln!(
            s,
            "Proposed:   {json}  (needs approval: gitaiops apply / the TUI queue)"
        );
    }
    s
}

pub async fn run_eval(global: GlobalArgs, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let planner = planner_for(&Settings::load(&global)?, None)?;
    let (label, max_output_tokens) = (planner.label(), planner.options().max_output_tokens);
    let engine = eval::EvalEngine {
        model: planner.into_llm(),
        max_output_tokens,
        label,
    };
    print!("{}", eval::run(Arc::new(engine), args).await?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Category, rules};
    use crate::testkit::shared_path;
    use axum::Router;
    use axum::routing::get;

    /// `diagnose --project --job` over real HTTP: a loopback server answering the three GitLab
    /// endpoints with the documented job payload and a real runner trace.
    #[tokio::test]
    async fn fetches_job_and_trace_over_http() {
        let mut job: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(shared_path("fixtures/gitlab/job_get.json")).unwrap(),
        )
        .unwrap();
        job["failure_reason"] = "runner_system_failure".into();
        let job_id = job["id"].as_u64().unwrap();
        let trace =
            std::fs::read(shared_path("fixtures/gitlab/job_trace_runner11_small.log")).unwrap();
        let app = Router::new()
            .route(
                "/api/v4/projects/{id}",
                get(|| async {
                    axum::Json(serde_json::json!({"id": 3, "name": "platform",
                        "path_with_namespace": "acme/platform"}))
                }),
            )
            .route(
                "/api/v4/projects/3/jobs/{job}",
                get(move || {
                    let job = job.clone();
                    async move { axum::Json(job) }
                }),
            )
            .route(
                "/api/v4/projects/3/jobs/{job}/trace",
                get(move || {
                    let t = trace.clone();
                    async move { t }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let global = GlobalArgs {
            gitlab_url: Some(format!("http://{addr}")),
            project: vec!["acme/platform".into()],
            ..Default::default()
        };
        let (bytes, ctx) = fetch_job_with(&test_settings(&global), job_id)
            .await
            .unwrap();
        assert!(bytes.starts_with(b"\x1b[0KRunning with gitlab-runner"));
        assert_eq!(ctx.project.as_deref(), Some("acme/platform"));
        assert_eq!(ctx.job_id, Some(job_id));
        let d = rules::diagnose(&LogIndex::parse(Arc::new(bytes)), &ctx);
        // GitLab blamed its runner: infrastructure, and a retry is proposed.
        assert_eq!(d.category, Category::Infrastructure);
        assert_eq!(d.commands.len(), 1);
        assert!(render_human(&d).contains("Proposed:"));
    }

    /// Settings from flags only: no environment, a config path that does not exist.
    fn test_settings(global: &GlobalArgs) -> Settings {
        let dir = std::env::temp_dir().join(format!("gitaiops-diag-{}", std::process::id()));
        let global = GlobalArgs {
            config: Some(dir.join("absent.toml")),
            ..global.clone()
        };
        Settings::load_with(&global, Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn explains_missing_arguments() {
        let err = fetch_job_with(&test_settings(&GlobalArgs::default()), 1)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--project"), "{err}");
    }

    #[test]
    fn human_output_lists_evidence_with_line_numbers() {
        let log = LogIndex::parse(Arc::new(
            b"$ pytest\nFAILED tests/test_a.py::test_b - assert 1 == 2\n= 1 failed in 0.1s =\n"
                .to_vec(),
        ));
        let d = rules::diagnose(&log, &JobContext::default());
        let out = render_human(&d);
        assert!(
            out.starts_with("Category:   test failure (test_assertion)"),
            "{out}"
        );
        assert!(
            out.contains("2 | FAILED tests/test_a.py::test_b - assert 1 == 2"),
            "{out}"
        );
        assert!(out.contains("Fix:"));
    }

    #[test]
    fn a_log_that_printed_a_token_says_so_and_asks_for_rotation() {
        let log = LogIndex::parse(Arc::new(
            b"$ env\nCI_DEPLOY_TOKEN=glpat-abcdefghij0123456789\n$ pytest\n\
              FAILED tests/test_a.py::test_b - assert 1 == 2\n= 1 failed in 0.1s =\n"
                .to_vec(),
        ));
        let d = rules::diagnose(&log, &JobContext::default());
        let out = render_human(&d);
        assert!(
            out.contains("SECRETS:    this log printed secrets: gitlab-token (line 2)"),
            "{out}"
        );
        assert!(out.contains("rotate them"), "{out}");
        assert!(!out.contains("glpat-abc"), "{out}");
        // What the command prints: redacted, with the warning still readable.
        let printed = redact_human(&d);
        assert!(
            printed.contains("SECRETS:    this log printed secrets: gitlab-token (line 2)"),
            "{printed}"
        );
        assert!(!printed.contains("glpat-abc"), "{printed}");
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["secrets"][0]["kind"], "gitlab-token");
        assert_eq!(json["secrets"][0]["lines"][0], 2);
    }
}
