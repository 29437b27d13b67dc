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
        (None, Some(job_id)) => fetch_job(&global, job_id).await?,
        (None, None) => bail!("give a log file (--log FILE) or a job (--project P --job ID)"),
    };
    let log = LogIndex::parse(Arc::new(bytes));
    let d = rules::diagnose(&log, &ctx);
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
            "provider `{p}` is not available for diagnosis yet: the LLM path \
             (diagnose::llm::diagnose_with) is wired once the planner's providers land; \
             use --provider rules"
        ),
    }
}

fn read_log(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read log {}", path.display()))
}

async fn fetch_job(global: &GlobalArgs, job_id: u64) -> anyhow::Result<(Vec<u8>, JobContext)> {
    let Some(project) = global.project.first().cloned() else {
        bail!("--job needs a project: --project group/name (or GITAIOPS_PROJECT)");
    };
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
    let client = GitlabClient::new(ClientConfig {
        base_url,
        token,
        // Diagnosis only reads.
        read_only: true,
        ..ClientConfig::default()
    })?;
    let p = client.project(&project).await?;
    let job = client.job(p.id, job_id).await?;
    let trace = client.job_trace(p.id, job_id).await?;
    let ctx = JobContext {
        project: Some(p.path_with_namespace.clone())
            .filter(|s| !s.is_empty())
            .or(Some(project)),
        job_id: Some(job.id),
        job_name: Some(job.name.clone()),
        stage: Some(job.stage.clone()),
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
