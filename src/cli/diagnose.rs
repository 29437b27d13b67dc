//! `gitaiops diagnose` and `gitaiops eval logdx`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::args::{DiagnoseArgs, EvalCmd, GlobalArgs};
use crate::config::Settings;
use crate::diagnose::engine;
use crate::diagnose::eval::{self, CaseResult};
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Diagnosis, JobContext};
use crate::diagnose::rules;
use crate::diagnose::score;
use crate::gitlab::client::GitlabClient;
use crate::plan::run::Planner;
use crate::redact::redact;

pub async fn run_diagnose(global: GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    let planner = planner_for(&settings)?;
    let (bytes, ctx) = match (&args.log, args.job) {
        (Some(path), _) => (read_log(path)?, JobContext::default()),
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
        // Which engine answered (and why a model fell back) matters to the reader, not to a
        // JSON consumer's schema: stderr.
        eprintln!("diagnosed by: {}", redact(&engine));
    }
    if args.json {
        let json = serde_json::to_string_pretty(&d)?;
        println!("{}", redact(&json));
    } else {
        print!("{}", redact(&render_human(&d)));
    }
    Ok(ExitCode::SUCCESS)
}

/// The configured planner (`--provider`, `[planner]`, GEMINI_API_KEY / OPENAI_BASE_URL; rules
/// otherwise): its model diagnoses when it has one.
fn planner_for(settings: &Settings) -> anyhow::Result<Planner> {
    let ps = super::plan::planner_settings(settings, None)?;
    Planner::from_settings(&ps).map_err(|e| anyhow::anyhow!(e))
}

fn read_log(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read log {}", path.display()))
}

/// Job and trace through the configured GitLab (config file, env, flags), read-only.
async fn fetch_job_with(settings: &Settings, job_id: u64) -> anyhow::Result<(Vec<u8>, JobContext)> {
    let project = settings.project()?.to_string();
    let mut cc = settings.client_config()?;
    // Diagnosis only reads.
    cc.read_only = true;
    let client = GitlabClient::new(cc)?;
    fetch_job(&client, &project, job_id).await
}

/// The job (for its name, stage and `failure_reason`) and its trace bytes.
pub async fn fetch_job(
    client: &GitlabClient,
    project: &str,
    job_id: u64,
) -> anyhow::Result<(Vec<u8>, JobContext)> {
    let p = client.project(project).await?;
    let job = client.job(p.id, job_id).await?;
    let trace = client.job_trace(p.id, job_id).await?;
    let path = if p.path_with_namespace.is_empty() {
        project.to_string()
    } else {
        p.path_with_namespace.clone()
    };
    let ctx = JobContext {
        project: Some(path),
        job_id: Some(job.id),
        job_name: Some(job.name.clone()).filter(|s| !s.is_empty()),
        stage: Some(job.stage.clone()).filter(|s| !s.is_empty()),
        failure_reason: job.failure_reason.clone(),
        allow_failure: job.allow_failure,
        ..Default::default()
    };
    Ok((trace, ctx))
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

pub async fn run_eval(global: GlobalArgs, cmd: EvalCmd) -> anyhow::Result<ExitCode> {
    let planner = Arc::new(planner_for(&Settings::load(&global)?)?);
    let engine_name = planner.label();
    let EvalCmd::Logdx { dir, limit, json } = cmd;
    let mut cases = eval::load_cases(&dir)?;
    if let Some(n) = limit {
        cases.truncate(n);
    }
    if cases.is_empty() {
        bail!("{}: no cases found", dir.display());
    }
    // The corpus is CPU-bound work: keep it off the async workers.
    let handle = tokio::runtime::Handle::current();
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<CaseResult>> {
        // With a model, a failed answer scores 0 for its case (the corpus's rule), never a
        // silent fallback to the rules.
        let mut diag = |l: &LogIndex, c: &JobContext| match planner.llm() {
            None => Ok(rules::diagnose(l, c)),
            Some(m) => handle.block_on(engine::model_only(
                m,
                planner.options().max_output_tokens,
                l,
                c,
            )),
        };
        cases.iter().map(|c| eval::run_case(c, &mut diag)).collect()
    })
    .await??;
    let scored: Vec<score::CaseScore> = results.iter().filter_map(|r| r.score.clone()).collect();
    let summary = score::aggregate(&scored);
    if json {
        for r in &results {
            println!("{}", serde_json::to_string(r)?);
        }
        println!(
            "{}",
            serde_json::json!({"summary": summary, "provider": engine_name,
                "skipped": results.iter().filter(|r| r.skipped.is_some()).count()})
        );
    } else {
        print!("{}", render_eval(&results, &summary));
    }
    Ok(ExitCode::SUCCESS)
}

fn render_eval(results: &[CaseResult], summary: &score::Summary) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<46} {:<22} {:<22} {:>6} {:>5} {:>5} {:>5} {:>5} {:>6}",
        "case", "expected", "predicted", "score", "crit", "must", "files", "tests", "ms"
    );
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for r in results {
        match &r.score {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "{:<46} {:<22} {:<22} {:>6.4} {:>5} {:>5} {:>5} {:>5} {:>6}{}",
                    r.case_id,
                    r.expected,
                    r.predicted.as_deref().unwrap_or("-"),
                    c.diagnosis_score_v1_1,
                    pct(c.critical_signal_mention_recall),
                    pct(c.must_mention_coverage),
                    pct(c.relevant_file_recall),
                    pct(c.relevant_test_recall),
                    r.millis,
                    if c.forbidden_claim_violations.is_empty() {
                        String::new()
                    } else {
                        format!("  forbidden: {:?}", c.forbidden_claim_violations)
                    }
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "{:<46} {:<22} skipped: {}",
                    r.case_id,
                    r.expected,
                    r.skipped.as_deref().unwrap_or("")
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\nrules engine over {} scored cases ({} skipped): mean diagnosis_score_v1_1 {:.4}",
        summary.cases,
        results.len() - summary.cases,
        summary.mean_diagnosis_score_v1_1
    );
    let _ = writeln!(
        s,
        "category match {}  critical signals {}  must-mention {}  files {}  tests {}  quotes {}  forbidden-claim rate {:.4}  confident-error rate {:.4}",
        pct(summary.category_match_score_v1_1),
        pct(summary.critical_signal_mention_recall),
        pct(summary.must_mention_coverage),
        pct(summary.relevant_file_recall),
        pct(summary.relevant_test_recall),
        pct(summary.valid_evidence_quote_rate),
        summary.forbidden_claim_rate,
        summary.confident_error_v1_1_rate,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Category;
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
}
