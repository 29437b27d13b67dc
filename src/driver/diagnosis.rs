//! A diagnosis as a task: the trace (the one on screen, or a fresh read-only fetch), then the
//! model when one is configured (the rules as fallback) or the rules. `gitaiops diagnose --job`
//! fetches a job the same way.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::app::diagnosis::DiagMsg;
use crate::app::msg::DiagnoseRequest;
use crate::diagnose::engine::diagnose_with_model;
use crate::diagnose::log::LogIndex;
use crate::diagnose::model::{Diagnosis, JobContext};
use crate::diagnose::worker;
use crate::gitlab::client::GitlabClient;
use crate::gitlab::error::GitlabError;
use crate::plan::run::Planner;

/// The job (for its name, stage and `failure_reason`), its trace bytes and, when the trace was
/// larger than the configured cap, the notice saying only its tail was kept (the end is where
/// jobs fail).
pub async fn fetch_job(
    client: &GitlabClient,
    project: &str,
    job_id: u64,
) -> Result<(Vec<u8>, JobContext, Option<String>), GitlabError> {
    let p = client.project(project).await?;
    let job = client.job(p.id, job_id).await?;
    let tail = client.job_trace_tail(p.id, job_id).await?;
    let notice = tail.notice();
    let trace = tail.bytes;
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
    Ok((trace, ctx, notice))
}

/// A trace tail's rules diagnosis: in a child process when a worker binary is set (its memory
/// is gone with it), else, or when the child fails (a replaced binary, no process slot), here.
async fn diagnose_tail(
    worker: Option<&Worker>,
    bytes: Vec<u8>,
    ctx: &JobContext,
) -> Result<Diagnosis, String> {
    if let Some(w) = worker {
        match diagnose_in_child(&w.exe, &bytes, ctx).await {
            Ok(d) => {
                w.answered.fetch_add(1, Ordering::Relaxed);
                return Ok(d);
            }
            Err(e) => {
                w.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "diagnosis worker failed; diagnosing in process");
            }
        }
    }
    let index = parse_trace(bytes).await?;
    crate::diagnose::engine::rules_async(index, ctx.clone()).await
}

/// Where background diagnoses run: a binary's `diagnose-worker`, and how its runs went.
#[derive(Debug)]
pub struct Worker {
    pub exe: PathBuf,
    /// Diagnoses the workers answered.
    pub answered: AtomicU64,
    /// Workers that failed (each diagnosis then ran in this process).
    pub failed: AtomicU64,
}

impl Worker {
    pub fn new(exe: PathBuf) -> Worker {
        Worker {
            exe,
            answered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

/// How long a worker may take: a 512 KiB tail is diagnosed in well under a second.
const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// One diagnosis by `exe diagnose-worker`. The child gets no environment (no token, no
/// settings): the request carries all it needs. It is killed if it overruns or is dropped.
async fn diagnose_in_child(exe: &Path, log: &[u8], ctx: &JobContext) -> Result<Diagnosis, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut child = tokio::process::Command::new(exe)
        .arg("diagnose-worker")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("the worker has no pipes".into());
    };
    let request = worker::encode_request(ctx, log);
    let run = async {
        stdin
            .write_all(&request)
            .await
            .map_err(|e| format!("writing to the worker: {e}"))?;
        drop(stdin);
        let mut answer = Vec::new();
        stdout
            .take(worker::MAX_ANSWER as u64 + 1)
            .read_to_end(&mut answer)
            .await
            .map_err(|e| format!("reading the worker: {e}"))?;
        if answer.len() > worker::MAX_ANSWER {
            // It would block writing the rest: no waiting for it.
            let _ = child.start_kill();
            return Err(format!(
                "the worker's answer is over {} bytes",
                worker::MAX_ANSWER
            ));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("waiting for the worker: {e}"))?;
        if !status.success() {
            return Err(format!("the worker exited with {status}"));
        }
        worker::decode_answer(&answer)
    };
    tokio::time::timeout(WORKER_TIMEOUT, run)
        .await
        .map_err(|_| format!("the worker took longer than {} s", WORKER_TIMEOUT.as_secs()))?
}

/// Parses a trace off the async workers (a big trace is CPU work).
pub async fn parse_trace(bytes: Vec<u8>) -> Result<Arc<LogIndex>, String> {
    tokio::task::spawn_blocking(move || Arc::new(LogIndex::parse(Arc::new(bytes))))
        .await
        .map_err(|e| format!("log parsing failed: {e}"))
}

/// Diagnoses the requested job; the result is the message for the app.
pub async fn diagnosis_task(
    client: GitlabClient,
    planner: Arc<Planner>,
    req: DiagnoseRequest,
) -> DiagMsg {
    let DiagnoseRequest {
        job_id,
        project_id,
        ctx,
        index,
    } = req;
    let index = match (index, project_id) {
        (Some(i), _) => Ok(i.0),
        (None, None) => Err("no data from GitLab yet".to_string()),
        (None, Some(pid)) => match client.job_trace(pid, job_id).await {
            Ok(bytes) => parse_trace(bytes).await,
            Err(e) => Err(format!("cannot fetch the log of job #{job_id}: {e}")),
        },
    };
    match index {
        Err(e) => DiagMsg {
            job_id,
            result: Err(e),
            engine: "none".into(),
            index: None,
        },
        Ok(index) => {
            let (result, engine) = diagnose_with_model(
                planner.llm(),
                planner.options().max_output_tokens,
                index.clone(),
                ctx,
            )
            .await;
            DiagMsg {
                job_id,
                result,
                engine,
                index: Some(index),
            }
        }
    }
}

/// Background diagnoses (rules only, never a model): each job's trace tail, one message per
/// job as it is done, one job at a time so a burst of failures stays a trickle of requests.
pub async fn causes_task(
    client: GitlabClient,
    req: crate::app::causes::CauseRequest,
    tx: tokio::sync::mpsc::Sender<crate::app::Msg>,
    worker: Option<Arc<Worker>>,
) {
    use crate::app::causes::{CauseMsg, TAIL_BYTES};
    let burst = !req.jobs.is_empty();
    for job in req.jobs {
        let result = match client
            .job_trace_tail_within(job.project_id, job.job_id, TAIL_BYTES)
            .await
        {
            Err(e) => Err(format!("cannot fetch the log of job #{}: {e}", job.job_id)),
            Ok(trace) => diagnose_tail(worker.as_deref(), trace.bytes, &job.ctx).await,
        };
        let msg = CauseMsg {
            epoch: req.epoch,
            job_id: job.job_id,
            pipeline: job.pipeline,
            job_name: job.ctx.job_name.clone().unwrap_or_default(),
            failure_reason: job.ctx.failure_reason.clone(),
            result,
        };
        if tx
            .send(crate::app::Msg::Cause(Box::new(msg)))
            .await
            .is_err()
        {
            return;
        }
    }
    // The burst's traces, parse indexes and lazy DFA caches are gone: give their pages back
    // rather than keep the burst's high-water mark for the rest of the session.
    if burst {
        super::release_freed_memory_soon();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in worker: a shell script that reads its request and answers with `answer`.
    fn fake_worker(dir: &Path, answer: &str) -> PathBuf {
        let exe = dir.join("fake-worker");
        std::fs::write(&exe, format!("#!/bin/sh\ncat > /dev/null\n{answer}\n")).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    #[tokio::test]
    async fn a_worker_that_answers_garbage_too_much_or_fails_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = JobContext::default();
        for answer in [
            "echo not-json",
            // Far over the cap: read up to it, then the child is killed, not waited for.
            "head -c 3000000 /dev/zero",
            "exit 3",
        ] {
            let exe = fake_worker(dir.path(), answer);
            let started = std::time::Instant::now();
            let r = diagnose_in_child(&exe, b"$ make\nerror: x\n", &ctx).await;
            assert!(r.is_err(), "{answer}: {r:?}");
            assert!(started.elapsed() < Duration::from_secs(10), "{answer}");
        }
        let missing = dir.path().join("no-such-binary");
        assert!(diagnose_in_child(&missing, b"x", &ctx).await.is_err());
    }
}
