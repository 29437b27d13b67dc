//! `gitaiops status`: one snapshot of the project, as JSON or a short summary.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::args::{GlobalArgs, StatusArgs};
use crate::config::Settings;
use crate::gitlab::GitlabClient;
use crate::gitlab::error::one_line;
use crate::gitlab::models::Status;
use crate::gitlab::poller::{self, PollConfig, PollEvent, fetch_snapshot};
use crate::gitlab::snapshot::ProjectSnapshot;

use super::out;

/// Pipelines listed, and pipelines whose jobs are fetched, for one report.
const PIPELINES: u32 = 20;
const JOBS_FOR_LATEST: usize = 5;
const STALE_DAYS: i64 = 14;

pub async fn run(global: GlobalArgs, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    if !settings.has_token() {
        bail!(
            "no GitLab token: export GITLAB_TOKEN=<token with read_api scope> (or set token_cmd in {}); to try gitaiops without GitLab, run `gitaiops demo`",
            settings.config_path.display()
        );
    }
    let project = settings.project()?.to_string();
    let mut cc = settings.client_config()?;
    // A one-shot command should fail fast rather than sit in long backoffs.
    cc.max_retries = 2;
    if args.watch {
        return watch(
            GitlabClient::new(cc)?,
            project,
            settings.refresh(),
            args.json,
        )
        .await;
    }
    let client = GitlabClient::new(cc)?;
    let snap = fetch_snapshot(&client, &project, PIPELINES, JOBS_FOR_LATEST).await?;
    tracing::info!(
        project = %project,
        requests = client.request_count(),
        mrs = snap.mrs.len(),
        pipelines = snap.pipelines.len(),
        "status fetched"
    );
    for p in client.take_problems() {
        out::eprintln(&format!("gitaiops: warning: {p}"));
    }
    // `status --json | head` closing the pipe early is the reader's choice, not a failure.
    if args.json {
        out::print_json(&serde_json::to_string_pretty(&snap)?)?;
    } else {
        out::print(&summary(
            &snap,
            client.request_count(),
            client.is_read_only(),
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `status --watch`: the poller, printing each changed snapshot. A failure before the first
/// snapshot (bad token, wrong project, no network) ends it with that error; later failures are
/// reported on stderr while the poller backs off and carries on.
async fn watch(
    client: GitlabClient,
    project: String,
    refresh: std::time::Duration,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (tx, mut rx) = mpsc::channel(16);
    let cfg = PollConfig {
        refresh,
        ..PollConfig::default()
    };
    let handle = poller::spawn(client.clone(), project, cfg, tx);
    let mut seen_snapshot = false;
    let result = loop {
        let event = tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(ExitCode::SUCCESS),
            e = rx.recv() => e,
        };
        match event {
            None => break Ok(ExitCode::FAILURE),
            Some(PollEvent::Snapshot { snapshot, .. }) => {
                seen_snapshot = true;
                let text = if json {
                    out::json(&format!("{}\n", serde_json::to_string(&*snapshot)?))
                } else {
                    let at = snapshot
                        .fetched_at
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    out::human(&format!(
                        "--- {at}\n{}",
                        summary(&snapshot, client.request_count(), client.is_read_only())
                    ))
                };
                let mut out = std::io::stdout().lock();
                if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        break Ok(ExitCode::SUCCESS);
                    }
                    break Err(e.into());
                }
            }
            // The poller tries a few times before it slows down: a first snapshot that still
            // fails after those is an error, later failures are reported and watched through.
            Some(PollEvent::Error { error, attempt, .. })
                if !seen_snapshot && attempt >= poller::QUICK_TRIES =>
            {
                break Err(anyhow::anyhow!(error));
            }
            Some(PollEvent::Error {
                error, retry_in, ..
            }) => out::eprintln(&format!(
                "gitaiops: {error} (retrying in {}s)",
                retry_in.as_secs_f64().ceil()
            )),
            Some(PollEvent::Requests {
                total, last_minute, ..
            }) => {
                tracing::debug!(total, last_minute, "requests");
            }
            Some(PollEvent::Warning { text }) => out::eprintln(&format!("gitaiops: {text}")),
            Some(PollEvent::JobLog { .. } | PollEvent::LookedUp { .. }) => {}
        }
    };
    handle.shutdown().await;
    result
}

/// A few lines an operator can read at a glance.
pub fn summary(snap: &ProjectSnapshot, requests: u64, read_only: bool) -> String {
    let mut s = String::new();
    let user = snap
        .user
        .as_ref()
        .map(|u| format!(" as @{}", one_line(&u.username, 60)))
        .unwrap_or_default();
    let ro = if read_only { " (read-only)" } else { "" };
    s.push_str(&format!(
        "{} on {}{user}{ro}\n",
        one_line(snap.path(), 120),
        snap.host
    ));

    let now = snap.fetched_at.unwrap_or_else(Timestamp::now);
    let stale_before = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * STALE_DAYS))
        .unwrap_or(now);
    let mrs = snap.mrs.values();
    let drafts = mrs.clone().filter(|m| m.is_draft()).count();
    let conflicts = mrs.clone().filter(|m| m.conflicts()).count();
    let stale = mrs
        .clone()
        .filter(|m| m.updated_at.is_some_and(|t| t < stale_before))
        .count();
    s.push_str(&format!(
        "merge requests: {} open ({drafts} draft, {conflicts} with conflicts, {stale} idle > {STALE_DAYS} days)\n",
        snap.mrs.len()
    ));

    let mut by_status: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in snap.pipelines.values() {
        *by_status.entry(p.status.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = by_status.iter().map(|(k, v)| format!("{v} {k}")).collect();
    s.push_str(&format!(
        "pipelines (latest {}): {}\n",
        snap.pipelines.len(),
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        }
    ));

    let failed: Vec<_> = snap
        .all_jobs()
        .filter(|j| j.status == Status::Failed && !j.allow_failure)
        .collect();
    if !failed.is_empty() {
        s.push_str("failed jobs:\n");
        for j in failed.iter().take(10) {
            let reason = j
                .failure_reason
                .as_ref()
                .map(|r| r.as_str())
                .unwrap_or("unknown");
            s.push_str(&format!(
                "  job {} {} ({}) in pipeline {}: {reason}\n",
                j.id,
                one_line(&j.name, 60),
                one_line(&j.stage, 30),
                j.pipeline_id().map(|p| p.to_string()).unwrap_or("?".into()),
            ));
        }
        if failed.len() > 10 {
            s.push_str(&format!("  … and {} more\n", failed.len() - 10));
        }
    }
    s.push_str(&format!("requests made: {requests}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_what_matters() {
        let mut snap = ProjectSnapshot {
            host: "g.example".into(),
            fetched_at: Some("2024-02-01T00:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        snap.project.path_with_namespace = "acme/platform".into();
        for (iid, title, updated) in [
            (1, "Draft: wip", "2024-01-31T00:00:00Z"),
            (2, "fix", "2023-12-01T00:00:00Z"),
        ] {
            let mr = serde_json::from_value(serde_json::json!({
                "id": iid, "iid": iid, "title": title, "state": "opened", "updated_at": updated
            }))
            .unwrap();
            std::sync::Arc::make_mut(&mut snap.mrs).insert(iid, mr);
        }
        let p = serde_json::from_value(serde_json::json!({"id": 9, "status": "failed"})).unwrap();
        std::sync::Arc::make_mut(&mut snap.pipelines).insert(9, p);
        let j = serde_json::from_value(serde_json::json!({
            "id": 77, "name": "rspec\u{1b}[31m", "stage": "test", "status": "failed",
            "failure_reason": "script_failure", "pipeline": {"id": 9}
        }))
        .unwrap();
        std::sync::Arc::make_mut(&mut snap.jobs).insert(9, vec![j]);
        let s = summary(&snap, 6, true);
        assert!(
            s.starts_with("acme/platform on g.example (read-only)\n"),
            "{s}"
        );
        assert!(
            s.contains("2 open (1 draft, 0 with conflicts, 1 idle > 14 days)"),
            "{s}"
        );
        assert!(s.contains("pipelines (latest 1): 1 failed"), "{s}");
        assert!(s.contains("job 77 rspec"), "{s}");
        assert!(s.contains("pipeline 9: script_failure"), "{s}");
        assert!(
            !s.contains('\u{1b}'),
            "control characters from the server never reach the terminal"
        );
        assert!(s.contains("requests made: 6"));
    }
}
