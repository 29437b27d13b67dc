//! `gitaiops diagnose` and `gitaiops eval logdx`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};

use super::eval::{self, CaseResult};
use super::log::LogIndex;
use super::model::{Diagnosis, JobContext};
use super::rules;
use super::score;
use crate::cli::{DiagnoseArgs, EvalCmd, GlobalArgs};
use crate::gitlab::client::{ClientConfig, GitlabClient};
use crate::plan::redact::redact;

pub async fn run_diagnose(global: GlobalArgs, args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    require_rules_provider(&global)?;
    let (bytes, ctx) = match (&args.log, args.job) {
        (Some(path), _) => (read_log(path)?, JobContext::default()),
        (None, Some(job_id)) => fetch_job_from_global(&global, job_id).await?,
        (None, None) => bail!("give a log file (--log FILE) or a job (--project P --job ID)"),
    };
    // Indexing and matching a multi-megabyte trace is CPU work: off the async workers.
    let d = tokio::task::spawn_blocking(move || {
        let log = LogIndex::parse(Arc::new(bytes));
        rules::diagnose(&log, &ctx)
    })
    .await?;
    if args.json {
        let json = serde_json::to_string_pretty(&d)?;
        println!("{}", redact(&json));
    } else {
        print!("{}", redact(&render_human(&d)));
    }
    Ok(ExitCode::SUCCESS)
}

/// Only the rules engine is wired into the CLI today; an LLM provider name is refused with a
/// clear message instead of being silently ignored.
fn require_rules_provider(global: &GlobalArgs) -> anyhow::Result<()> {
    match global.provider.as_deref() {
        None | Some("rules") => Ok(()),
        Some(p) => bail!(
            "provider `{p}` is not wired into diagnosis yet (the LLM path exists as \
             diagnose::llm::diagnose_with but no CLI provider is connected to it); use \
             --provider rules"
        ),
    }
}

fn read_log(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read log {}", path.display()))
}

/// A read-only client from `--gitlab-url`/`GITLAB_HOST` and `GITLAB_TOKEN`.
fn client_from_global(global: &GlobalArgs) -> anyhow::Result<GitlabClient> {
    let Some(url) = global.gitlab_url.clone() else {
        bail!("--job needs a GitLab URL: --gitlab-url https://gitlab.example.com (or GITLAB_HOST)");
    };
    let base_url = if url.contains("://") {
        url
    } else {
        format!("https://{url}")
    };
    let token = std::env::var("GITLAB_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(secrecy::SecretString::from);
    // A proxy has no business between us and a GitLab on this machine.
    let loopback = base_url.contains("://127.0.0.1") || base_url.contains("://localhost");
    Ok(GitlabClient::new(ClientConfig {
        base_url,
        token,
        // Diagnosis only reads.
        read_only: true,
        no_proxy: loopback,
        ..ClientConfig::default()
    })?)
}

async fn fetch_job_from_global(
    global: &GlobalArgs,
    job_id: u64,
) -> anyhow::Result<(Vec<u8>, JobContext)> {
    let Some(project) = global.project.first().cloned() else {
        bail!("--job needs a project: --project group/name (or GITAIOPS_PROJECT)");
    };
    let client = client_from_global(global)?;
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
    require_rules_provider(&global)?;
    let EvalCmd::Logdx { dir, limit, json } = cmd;
    let mut cases = eval::load_cases(&dir)?;
    if let Some(n) = limit {
        cases.truncate(n);
    }
    if cases.is_empty() {
        bail!("{}: no cases found", dir.display());
    }
    // The corpus is CPU-bound work: keep it off the async workers.
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<CaseResult>> {
        let mut diag = |l: &LogIndex, c: &JobContext| Ok(rules::diagnose(l, c));
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
            serde_json::json!({"summary": summary, "provider": "rules",
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
    use crate::diagnose::testutil::shared_path;
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
        let (bytes, ctx) = fetch_job_from_global(&global, job_id).await.unwrap();
        assert!(bytes.starts_with(b"\x1b[0KRunning with gitlab-runner"));
        assert_eq!(ctx.project.as_deref(), Some("acme/platform"));
        assert_eq!(ctx.job_id, Some(job_id));
        let d = rules::diagnose(&LogIndex::parse(Arc::new(bytes)), &ctx);
        // GitLab blamed its runner: infrastructure, and a retry is proposed.
        assert_eq!(d.category, Category::Infrastructure);
        assert_eq!(d.commands.len(), 1);
        assert!(render_human(&d).contains("Proposed:"));
    }

    #[tokio::test]
    async fn explains_missing_arguments() {
        let err = fetch_job_from_global(&GlobalArgs::default(), 1)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--project"), "{err}");
        let global = GlobalArgs {
            project: vec!["a/b".into()],
            ..Default::default()
        };
        let err = fetch_job_from_global(&global, 1)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("--gitlab-url"), "{err}");
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
