//! The LLM provider trait, its request/response types, and every failure as its own state.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::redact::redact;
use crate::text::clean;

/// What a model is asked: the instructions, the user turn, and the JSON schema of the answer.
#[derive(Debug, Clone, Copy)]
pub struct PromptParts<'a> {
    pub system: &'a str,
    pub user: &'a str,
    pub schema: &'a Value,
}

/// One call to a model: the prompt, and for the corrective re-ask the previous answer and the
/// validator's errors.
#[derive(Debug, Clone, Copy)]
pub struct LlmRequest<'a> {
    pub prompt: PromptParts<'a>,
    pub followup: Option<Followup<'a>>,
    pub max_output_tokens: u32,
    /// Told how many tokens have streamed in so far (streaming providers only).
    pub on_tokens: Option<TokenSink<'a>>,
}

/// Tokens received so far while an answer streams in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamProgress {
    pub tokens: u64,
    /// Since the first token (prompt processing excluded).
    pub per_sec: f64,
    /// Prompt tokens processed so far and in all, while a server that reports it (llama.cpp
    /// `prompt_progress`) is still reading the prompt; zero otherwise.
    pub prompt_done: u64,
    pub prompt_total: u64,
}

/// Where streaming progress goes.
#[derive(Clone, Copy)]
pub struct TokenSink<'a>(pub &'a (dyn Fn(StreamProgress) + Send + Sync));

impl std::fmt::Debug for TokenSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSink")
    }
}

/// How many tokens a server can hold (prompt and answer together), when it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextWindow {
    pub tokens: u32,
    /// Where it was read: `llama.cpp /props`, `vLLM /v1/models`, `Ollama /api/show`.
    pub source: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Followup<'a> {
    pub previous: &'a RawPlan,
    pub correction: &'a str,
}

/// Tokens as the provider counted them (all attempts of a run are summed by the runner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    /// Visible output.
    pub output_tokens: u64,
    /// Thinking tokens (billed as output on Gemini).
    pub thinking_tokens: u64,
    pub total_tokens: u64,
    /// Calls made (retries and the re-ask included).
    pub calls: u32,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.output_tokens += other.output_tokens;
        self.thinking_tokens += other.thinking_tokens;
        self.total_tokens += other.total_tokens;
        self.calls += other.calls;
    }
}

/// A model's answer before parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPlan {
    /// The answer text (thought parts and `<think>` blocks removed).
    pub text: String,
    pub usage: Usage,
    /// The model that answered, when the provider says (`modelVersion`, `model`).
    pub model_version: Option<String>,
    /// The assistant turn as the provider sent it, echoed back unchanged in a re-ask (Gemini
    /// thought signatures must survive the round trip).
    pub turn: Option<Value>,
}

/// Why a provider call produced no usable answer. Each is a state the UI names.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// HTTP 200 without candidates: the prompt itself was refused.
    #[error("the prompt was blocked ({reason}){}", opt(message))]
    Blocked {
        reason: String,
        message: Option<String>,
    },
    /// The answer was stopped by a safety or recitation filter.
    #[error(
        "the answer was stopped by the model's filter ({reason}){}",
        opt(message)
    )]
    Stopped {
        reason: String,
        message: Option<String>,
    },
    /// The output cap was reached before the JSON was complete. `partial` is what came before
    /// the cut (complete commands in it can be salvaged).
    #[error("the answer was cut off at the output limit of {limit} tokens")]
    Truncated {
        limit: u32,
        usage: Usage,
        partial: String,
    },
    /// A candidate without text (finish reason OTHER, ...).
    #[error("the model returned no text ({reason})")]
    Empty { reason: String, usage: Usage },
    /// The model produced a malformed or unexpected tool call instead of the answer; asking
    /// again usually works.
    #[error("the model answered with a malformed or unexpected tool call ({reason})")]
    Malformed { reason: String, usage: Usage },
    /// The account is in a state no retry can change (a policy restriction, a missing
    /// signature the server requires).
    #[error("{reason}: {explanation}; retrying cannot fix this{}", opt(message))]
    Account {
        reason: String,
        explanation: String,
        message: Option<String>,
    },
    /// Rate limited. With a delay the server gave, wait it; without one (a per-minute window
    /// that did not say), back off.
    #[error("rate limited; {}{}", match retry_after {
        Some(d) => format!("retry in {}s", d.as_secs_f64().ceil()),
        None => "no retry delay given, backing off".to_string(),
    }, opt(message))]
    RateLimited {
        retry_after: Option<Duration>,
        message: Option<String>,
    },
    /// The prompt does not fit the server's context window.
    #[error("the prompt does not fit the model's context{}", opt(message))]
    ContextExceeded { message: Option<String> },
    /// 404 for a path, not a model: the base URL is wrong.
    #[error(
        "404 from {url}: check OPENAI_BASE_URL (used as given; OpenAI-compatible servers usually serve under /v1){}",
        opt(message)
    )]
    UrlNotFound {
        url: String,
        message: Option<String>,
    },
    /// A quota that waiting a minute will not fix (daily quota, billing, a zero limit).
    #[error("{} quota exhausted{}", if *daily { "daily" } else { "request" }, opt(message))]
    QuotaExhausted {
        daily: bool,
        message: Option<String>,
    },
    /// 5xx and 499: the server is overloaded or failed.
    #[error("server error {status}{}", opt(message))]
    Server {
        status: u16,
        message: Option<String>,
    },
    /// Nothing (no byte, no token) arrived for `after`.
    #[error("no data from the server for {}s (request cancelled)", after.as_secs())]
    Timeout { after: Duration },
    #[error("cancelled")]
    Cancelled,
    /// 400: the request was refused as malformed or unsupported.
    #[error("request rejected ({status}){}", opt(message))]
    BadRequest {
        status: u16,
        message: Option<String>,
    },
    /// 401/403 or an invalid key.
    #[error("not authorized ({status}){}", opt(message))]
    Auth {
        status: u16,
        message: Option<String>,
    },
    #[error("model {model} not found{}", opt(message))]
    ModelNotFound {
        model: String,
        message: Option<String>,
    },
    #[error("cannot reach the server: {detail}")]
    Network { detail: String },
    #[error("unreadable response: {detail}")]
    Protocol { detail: String },
    #[error("{0}")]
    Config(String),
}

fn opt(m: &Option<String>) -> String {
    match m {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
}

/// What the runner does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Exponential backoff with jitter.
    Backoff,
    /// Try once more (with a larger output cap for truncation).
    Once,
    Never,
}

impl ProviderError {
    /// A short state name for the UI and logs (`blocked`, `quota`, `truncated`, ...).
    pub fn state(&self) -> &'static str {
        match self {
            ProviderError::Blocked { .. } => "blocked",
            ProviderError::Stopped { .. } => "stopped",
            ProviderError::Truncated { .. } => "truncated",
            ProviderError::Empty { .. } => "empty",
            ProviderError::Malformed { .. } => "malformed",
            ProviderError::Account { .. } => "account",
            ProviderError::ContextExceeded { .. } => "context",
            ProviderError::UrlNotFound { .. } => "bad_url",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::QuotaExhausted { .. } => "quota",
            ProviderError::Server { .. } => "server_error",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Cancelled => "cancelled",
            ProviderError::BadRequest { .. } => "bad_request",
            ProviderError::Auth { .. } => "unauthorized",
            ProviderError::ModelNotFound { .. } => "model_not_found",
            ProviderError::Network { .. } => "network",
            ProviderError::Protocol { .. } => "protocol",
            ProviderError::Config(_) => "config",
        }
    }

    pub fn advice(&self) -> RetryAdvice {
        match self {
            ProviderError::RateLimited {
                retry_after: Some(d),
                ..
            } => RetryAdvice::Wait(*d),
            ProviderError::RateLimited {
                retry_after: None, ..
            }
            | ProviderError::Server { .. }
            | ProviderError::Network { .. } => RetryAdvice::Backoff,
            ProviderError::Truncated { .. }
            | ProviderError::Empty { .. }
            | ProviderError::Malformed { .. } => RetryAdvice::Once,
            _ => RetryAdvice::Never,
        }
    }

    /// Tokens spent by a call that still failed.
    pub fn usage(&self) -> Usage {
        match self {
            ProviderError::Truncated { usage, .. }
            | ProviderError::Empty { usage, .. }
            | ProviderError::Malformed { usage, .. } => *usage,
            _ => Usage::default(),
        }
    }
}

/// Server-provided text, safe to show: redacted, one line, bounded.
pub fn server_text(s: &str) -> Option<String> {
    let t = clean(&redact(s), 300);
    (!t.is_empty()).then_some(t)
}

/// A model backend.
pub trait Provider: Send + Sync {
    /// `gemini`, `openai`.
    fn name(&self) -> &'static str;
    fn model(&self) -> &str;
    /// One logical call (a Gemini continuation may take several requests). Retries, waits and
    /// the re-ask are the runner's.
    fn complete(
        &self,
        req: &LlmRequest<'_>,
    ) -> impl Future<Output = Result<RawPlan, ProviderError>> + Send;
    /// The server's context window, when it says (asked once, then remembered).
    fn context_window(&self) -> impl Future<Output = Option<ContextWindow>> + Send {
        async { None }
    }
}

/// Maps a transport error from reqwest.
pub fn transport_error(e: &reqwest::Error, timeout: Duration) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout { after: timeout }
    } else if e.is_decode() || e.is_body() {
        ProviderError::Protocol {
            detail: clean(&e.to_string(), 200),
        }
    } else {
        ProviderError::Network {
            detail: clean(&redact(&e.to_string()), 200),
        }
    }
}

/// Largest model answer read: a plan or a diagnosis is a few KB; more is a broken or hostile
/// server, and it is refused before it can fill memory (counted after decompression).
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// A 3xx as the error it is: the clients follow no redirect (a key or a prompt never reaches
/// another origin), and the operator hears where it pointed and which setting to check.
pub fn redirect_error(resp: &reqwest::Response, base_var: &str) -> Option<ProviderError> {
    let status = resp.status();
    if !status.is_redirection() {
        return None;
    }
    let to = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| resp.url().join(&String::from_utf8_lossy(l.as_bytes())).ok())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|| "(no Location header)".into());
    Some(ProviderError::Config(format!(
        "the model server answered {} to {}; check {base_var}",
        status.as_u16(),
        clean(&to, 100)
    )))
}

/// A model server's answer, read safely: a 3xx is an error naming where it pointed (the HTTP
/// clients follow no redirect, so a key or a prompt never reaches another origin), and the body
/// is read chunk by chunk up to `MAX_RESPONSE_BYTES`. `base_var` names the setting to check.
pub async fn read_response(
    mut resp: reqwest::Response,
    timeout: Duration,
    base_var: &str,
) -> Result<(u16, String), ProviderError> {
    let status = resp.status();
    if let Some(e) = redirect_error(&resp, base_var) {
        return Err(e);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(&e, timeout))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ProviderError::Protocol {
                detail: format!(
                    "answer larger than {} MB; refused",
                    MAX_RESPONSE_BYTES / (1024 * 1024)
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status.as_u16(), String::from_utf8_lossy(&body).into_owned()))
}

/// Strips what models put around JSON despite being asked not to: a `<think>` block (servers
/// without a reasoning parser) and a Markdown code fence.
pub fn strip_wrapping(text: &str) -> &str {
    let mut t = text.trim();
    if t.starts_with("<think>")
        && let Some(end) = t.find("</think>")
    {
        t = t[end + "</think>".len()..].trim();
    }
    if let Some(rest) = t.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        if let Some(body) = rest.trim_end().strip_suffix("```") {
            t = body.trim();
        }
    }
    t
}

/// Parses a protobuf Duration string (`"15s"`, `"38.601658672s"`).
pub fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    // try_: a server-sent "1e30s" must not panic (from_secs_f64 does on overflow).
    Duration::try_from_secs_f64(secs).ok()
}

/// "Please retry in 38.9s." / "retry after 20 seconds" in an error message.
pub fn retry_delay_in_message(msg: &str) -> Option<Duration> {
    let lower = msg.to_ascii_lowercase();
    let idx = lower
        .find("retry in ")
        .map(|i| i + 9)
        .or_else(|| lower.find("retry after ").map(|i| i + 12))?;
    let num: String = lower[idx..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let v: f64 = num.trim_end_matches('.').parse().ok()?;
    let unit = lower[idx + num.len()..].trim_start();
    let secs = if unit.starts_with("ms") {
        v / 1000.0
    } else if unit.starts_with("min") {
        v * 60.0
    } else {
        v
    };
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_server_delays_do_not_panic() {
        assert_eq!(parse_proto_duration("1e30s"), None);
        assert_eq!(parse_proto_duration("-1s"), None);
        assert_eq!(
            retry_delay_in_message("retry in 99999999999999999999999 seconds"),
            None
        );
        assert_eq!(
            retry_delay_in_message("retry in 2s"),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn wrapping_is_stripped() {
        assert_eq!(strip_wrapping("```json\n{\"a\":1}\n```"), "{\"a\":1}");
        assert_eq!(strip_wrapping("<think>hmm</think>\n{\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_wrapping(" {\"a\":1} "), "{\"a\":1}");
    }

    #[test]
    fn delays_parse() {
        assert_eq!(parse_proto_duration("15s"), Some(Duration::from_secs(15)));
        assert_eq!(
            parse_proto_duration("38.5s"),
            Some(Duration::from_millis(38_500))
        );
        assert_eq!(parse_proto_duration("abc"), None);
        assert_eq!(
            retry_delay_in_message("Quota exceeded. Please retry in 38.9s."),
            Some(Duration::from_millis(38_900))
        );
        assert_eq!(
            retry_delay_in_message("retry after 2 minutes"),
            Some(Duration::from_secs(120))
        );
        assert_eq!(retry_delay_in_message("check your plan and billing"), None);
    }

    #[test]
    fn states_and_advice() {
        let rl = ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(15)),
            message: None,
        };
        assert_eq!(rl.advice(), RetryAdvice::Wait(Duration::from_secs(15)));
        assert_eq!(rl.to_string(), "rate limited; retry in 15s");
        let q = ProviderError::QuotaExhausted {
            daily: true,
            message: Some("per day".into()),
        };
        assert_eq!(q.advice(), RetryAdvice::Never);
        assert_eq!(q.state(), "quota");
        assert_eq!(q.to_string(), "daily quota exhausted: per day");
        let per_minute = ProviderError::RateLimited {
            retry_after: None,
            message: None,
        };
        assert_eq!(per_minute.advice(), RetryAdvice::Backoff);
    }
}
