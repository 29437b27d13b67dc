//! Background diagnoses in a child process (`gitaiops diagnose-worker`): what the TUI sends
//! and what the worker answers.
//!
//! A diagnosis compiles the rule sets and grows their lazy DFA caches: a few MiB of heap for a
//! moment, which glibc then keeps resident in a long-running process (measured: 13.3 MiB of TUI
//! RSS on a small project without the background diagnoses, 22.5 with them). In a short-lived
//! child all of it goes back to the system when the child exits, and a hostile log cannot grow
//! the TUI's heap at all.
//!
//! Request: one line of JSON (the job's context), then the log's bytes up to the end of
//! standard input. Answer: the diagnosis as JSON on standard output.

use serde::{Deserialize, Serialize};

use super::model::{Diagnosis, JobContext};
use crate::gitlab::models::FailureReason;

/// The most a request may carry: the TUI sends a trace's last 512 KiB.
pub const MAX_REQUEST: usize = 16 << 20;
/// The most an answer may be: a diagnosis is a few KiB (its quotes and lists are bounded).
pub const MAX_ANSWER: usize = 1 << 20;

/// The job context as it crosses the pipe.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Context {
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    job_id: Option<u64>,
    #[serde(default)]
    job_name: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    framework: Option<String>,
    #[serde(default)]
    failure_reason: Option<FailureReason>,
    #[serde(default)]
    allow_failure: bool,
}

/// The request for one log.
pub fn encode_request(ctx: &JobContext, log: &[u8]) -> Vec<u8> {
    let c = Context {
        project: ctx.project.clone(),
        job_id: ctx.job_id,
        job_name: ctx.job_name.clone(),
        stage: ctx.stage.clone(),
        workflow: ctx.workflow.clone(),
        repo: ctx.repo.clone(),
        framework: ctx.framework.clone(),
        failure_reason: ctx.failure_reason.clone(),
        allow_failure: ctx.allow_failure,
    };
    // Serialising plain strings and numbers cannot fail; an empty object is a valid context.
    let mut out = serde_json::to_vec(&c).unwrap_or_else(|_| b"{}".to_vec());
    out.push(b'\n');
    out.extend_from_slice(log);
    out
}

/// The context and the log of a request.
pub fn decode_request(buf: &[u8]) -> Result<(JobContext, &[u8]), String> {
    if buf.len() > MAX_REQUEST {
        return Err(format!("request larger than {MAX_REQUEST} bytes"));
    }
    let nl = memchr::memchr(b'\n', buf).ok_or("request without a context line")?;
    let c: Context = serde_json::from_slice(&buf[..nl]).map_err(|e| format!("context: {e}"))?;
    let ctx = JobContext {
        project: c.project,
        job_id: c.job_id,
        job_name: c.job_name,
        stage: c.stage,
        workflow: c.workflow,
        repo: c.repo,
        framework: c.framework,
        failure_reason: c.failure_reason,
        allow_failure: c.allow_failure,
    };
    Ok((ctx, &buf[nl + 1..]))
}

/// The diagnosis a worker answered.
pub fn decode_answer(buf: &[u8]) -> Result<Diagnosis, String> {
    if buf.len() > MAX_ANSWER {
        return Err(format!("answer larger than {MAX_ANSWER} bytes"));
    }
    serde_json::from_slice(buf).map_err(|e| format!("answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::log::LogIndex;
    use crate::diagnose::rules;
    use std::sync::Arc;

    /// What crosses the pipe is what the TUI would have diagnosed in its own process.
    #[test]
    fn a_diagnosis_survives_the_round_trip() {
        let log = b"$ cargo test\ntest tests::adds ... FAILED\ntest result: FAILED. 0 passed; 1 failed\nexport TOKEN=glpat-abcdefghijklmnopqrst\nERROR: Job failed: exit code 101\n";
        let ctx = JobContext {
            project: Some("acme/app".into()),
            job_id: Some(9_007_199_254_740_993),
            job_name: Some("test:unit".into()),
            stage: Some("test".into()),
            failure_reason: Some(FailureReason::ScriptFailure),
            ..JobContext::default()
        };
        let req = encode_request(&ctx, log);
        let (got_ctx, got_log) = decode_request(&req).unwrap();
        assert_eq!(got_ctx, ctx);
        assert_eq!(got_log, log);
        let d = rules::diagnose(&LogIndex::parse(Arc::new(got_log.to_vec())), &got_ctx);
        assert!(!d.secrets.is_empty());
        let answer = serde_json::to_vec(&d).unwrap();
        assert_eq!(decode_answer(&answer).unwrap(), d);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_request(b"").is_err());
        assert!(decode_request(b"no newline").is_err());
        assert!(decode_request(b"[1,2]\nlog").is_err());
        assert!(decode_request(&vec![b'x'; MAX_REQUEST + 1]).is_err());
        assert!(decode_answer(b"{\"category\": 1}").is_err());
        assert!(decode_answer(&vec![b' '; MAX_ANSWER + 1]).is_err());
        // An unknown failure reason is kept, not refused (GitLab adds new ones).
        let (ctx, log) = decode_request(b"{\"failure_reason\":\"new_kind\"}\nx").unwrap();
        assert!(ctx.failure_reason.is_some());
        assert_eq!(log, b"x");
    }
}
