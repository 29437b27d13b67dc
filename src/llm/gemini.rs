//! Google Gemini (`generateContent`, v1beta) as a planner backend, coded to llm-api.md §1.
//!
//! Structured output through `responseMimeType: application/json` + `responseJsonSchema` (the
//! standard JSON Schema dialect; `responseSchema` would reject `additionalProperties`). The key
//! travels in `x-goog-api-key`, never in the URL. No sampling parameters (deprecated from 3.6
//! Flash); thinking level LOW on Gemini 3 models, whose thinking shares `maxOutputTokens`.
//! Answers stream (`:streamGenerateContent?alt=sse`) with an idle timeout; an answer the API
//! stops at its per-request limit with a continuation token is resumed with that token, never
//! asked again from the start. Every finish reason has its own outcome (`finish_outcome`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::provider::{
    LlmRequest, Provider, ProviderError, RawPlan, Usage, parse_proto_duration,
    retry_delay_in_message, server_text,
};
use super::schema::{Dialect, to_dialect};
use super::stream::{SseItem, TokenMeter, idle, read_all, read_body, read_events};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-3.8-flash";

/// Most requests one answer may take through continuation tokens.
const MAX_CONTINUATIONS: usize = 8;

#[derive(Clone)]
pub struct GeminiConfig {
    pub api_key: SecretString,
    /// Replaces `https://generativelanguage.googleapis.com`; `/v1beta/models/...` is appended.
    pub base_url: String,
    pub model: String,
    /// Longest silence allowed (no byte of the answer), not a limit on the whole answer.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Loopback test servers and gateways that must bypass HTTPS_PROXY.
    pub no_proxy: bool,
    /// `streamGenerateContent?alt=sse` instead of `generateContent`.
    pub stream: bool,
}

pub struct GeminiProvider {
    http: reqwest::Client,
    url: String,
    stream_url: String,
    key: SecretString,
    model: String,
    timeout: Duration,
    stream: bool,
}

impl GeminiProvider {
    pub fn new(cfg: GeminiConfig) -> Result<Self, ProviderError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        if cfg.api_key.expose_secret().trim().is_empty() {
            return Err(ProviderError::Config("GEMINI_API_KEY is empty".into()));
        }
        let model = cfg.model.trim().trim_start_matches("models/").to_string();
        if model.is_empty()
            || !model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(ProviderError::Config(format!(
                "invalid Gemini model name {:?}",
                cfg.model
            )));
        }
        let base = cfg.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ProviderError::Config(format!(
                "GEMINI_BASE_URL must start with https:// or http://, got {base:?}"
            )));
        }
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("gitaiops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            // Never follow: the key header and the prompt would go wherever a 3xx points.
            .redirect(reqwest::redirect::Policy::none());
        if cfg.no_proxy {
            b = b.no_proxy();
        }
        let http = b
            .build()
            .map_err(|e| ProviderError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            url: format!("{base}/v1beta/models/{model}:generateContent"),
            stream_url: format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            key: cfg.api_key,
            model,
            timeout: cfg.timeout,
            stream: cfg.stream,
        })
    }

    pub fn url(&self) -> &str {
        if self.stream {
            &self.stream_url
        } else {
            &self.url
        }
    }
}

/// Gemini 3 models take `thinkingLevel`; sending it to a model that does not think is a 400.
fn thinks(model: &str) -> bool {
    model.starts_with("gemini-3")
}

/// The `generateContent` body for a request.
pub fn request_body(req: &LlmRequest<'_>, model: &str) -> Value {
    let p = req.prompt;
    let mut contents = vec![json!({"role": "user", "parts": [{"text": p.user}]})];
    if let Some(f) = req.followup {
        let turn = f
            .previous
            .turn
            .clone()
            .unwrap_or_else(|| json!({"role": "model", "parts": [{"text": f.previous.text}]}));
        contents.push(turn);
        // The last turn must be the user's (no prefill on 3.6+).
        contents.push(json!({"role": "user", "parts": [{"text": f.correction}]}));
    }
    let mut generation = json!({
        "responseMimeType": "application/json",
        "responseJsonSchema": to_dialect(p.schema, Dialect::Gemini).to_value(),
        "maxOutputTokens": req.max_output_tokens,
    });
    if thinks(model) {
        generation["thinkingConfig"] = json!({"thinkingLevel": "LOW"});
    }
    json!({
        "systemInstruction": {"parts": [{"text": p.system}]},
        "contents": contents,
        "generationConfig": generation,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GenerateResponse {
    candidates: Option<Vec<Candidate>>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Candidate {
    content: Option<Value>,
    finish_reason: Option<String>,
    finish_message: Option<String>,
    continuation_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PromptFeedback {
    block_reason: Option<String>,
    block_reason_message: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UsageMetadata {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    total_token_count: Option<u64>,
}

impl From<&UsageMetadata> for Usage {
    fn from(u: &UsageMetadata) -> Self {
        let prompt = u.prompt_token_count.unwrap_or(0);
        let output = u.candidates_token_count.unwrap_or(0);
        let thinking = u.thoughts_token_count.unwrap_or(0);
        Usage {
            prompt_tokens: prompt,
            output_tokens: output,
            thinking_tokens: thinking,
            total_tokens: u.total_token_count.unwrap_or(prompt + output + thinking),
            calls: 1,
        }
    }
}

/// One request's answer, from a single body or the events of a stream.
#[derive(Debug, Default)]
struct Hop {
    saw_candidate: bool,
    /// Every part, in order (thought parts and signatures kept for the re-ask turn).
    parts: Vec<Value>,
    finish_reason: Option<String>,
    finish_message: Option<String>,
    continuation: Option<String>,
    usage: Option<UsageMetadata>,
    model_version: Option<String>,
    block: Option<(Option<String>, Option<String>)>,
}

impl Hop {
    /// Folds one `GenerateContentResponse` (a whole answer or one stream event) in.
    fn absorb(&mut self, r: GenerateResponse) {
        if let Some(u) = r.usage_metadata {
            // Running totals while streaming: the last one counts.
            self.usage = Some(u);
        }
        if r.model_version.is_some() {
            self.model_version = r.model_version;
        }
        let cands = r.candidates.unwrap_or_default();
        if cands.is_empty() {
            if let Some(fb) = r.prompt_feedback
                && (fb.block_reason.is_some() || fb.block_reason_message.is_some())
            {
                self.block = Some((fb.block_reason, fb.block_reason_message));
            }
            return;
        }
        self.saw_candidate = true;
        if let Some(c) = cands.into_iter().next() {
            if let Some(parts) = c
                .content
                .as_ref()
                .and_then(|c| c.get("parts"))
                .and_then(Value::as_array)
            {
                self.parts.extend(parts.iter().cloned());
            }
            if c.finish_reason.is_some() {
                self.finish_reason = c.finish_reason;
            }
            if c.finish_message.is_some() {
                self.finish_message = c.finish_message;
            }
            if c.continuation_token.is_some() {
                self.continuation = c.continuation_token;
            }
        }
    }

    fn text(&self) -> String {
        self.parts
            .iter()
            .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect()
    }

    /// The API stopped at its per-request limit and said how to go on.
    fn resumable(&self) -> bool {
        self.continuation.is_some()
            && self.block.is_none()
            && matches!(self.finish_reason.as_deref(), None | Some("CONTINUATION"))
    }
}

/// Parts as the model turn of a re-ask: consecutive plain text parts joined, every part with a
/// thought flag or a signature kept as it came.
fn merged_turn(parts: &[Value]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for p in parts {
        let plain = p
            .as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("text"));
        if plain
            && let Some(last) = out.last_mut()
            && last
                .as_object()
                .is_some_and(|o| o.len() == 1 && o.contains_key("text"))
        {
            let joined = format!(
                "{}{}",
                last["text"].as_str().unwrap_or_default(),
                p["text"].as_str().unwrap_or_default()
            );
            last["text"] = Value::String(joined);
            continue;
        }
        out.push(p.clone());
    }
    json!({"role": "model", "parts": out})
}

/// What a finish reason means for the run (llm-api.md §1.6; the google-genai SDK's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    /// A normal end: the text is the answer.
    Answer,
    /// Cut at the output cap.
    Truncated,
    /// Stopped by a filter: not retried, the reason is shown.
    Blocked,
    /// A malformed or unexpected tool call: asked once more.
    Reask,
    /// The account is in a state no retry changes.
    Account,
    /// The API stopped at its per-request limit: resumed with the continuation token.
    Continue,
    /// No usable text for a reason not otherwise specified: retried once.
    Empty,
}

/// The outcome of each finish reason. Lower-case `stop` (gateways) and a missing reason count
/// as a normal end.
pub fn finish_outcome(reason: Option<&str>) -> FinishOutcome {
    match reason.map(str::trim) {
        None | Some("") => FinishOutcome::Answer,
        Some(r) if r.eq_ignore_ascii_case("stop") => FinishOutcome::Answer,
        Some("MAX_TOKENS") => FinishOutcome::Truncated,
        Some(
            "SAFETY"
            | "RECITATION"
            | "LANGUAGE"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION"
            | "MODEL_ARMOR"
            | "ESCALATION",
        ) => FinishOutcome::Blocked,
        Some(
            "MALFORMED_FUNCTION_CALL"
            | "UNEXPECTED_TOOL_CALL"
            | "TOO_MANY_TOOL_CALLS"
            | "MALFORMED_RESPONSE",
        ) => FinishOutcome::Reask,
        Some("PUP_LIMITED_DISABLED" | "MISSING_THOUGHT_SIGNATURE") => FinishOutcome::Account,
        Some("CONTINUATION") => FinishOutcome::Continue,
        // OTHER, FINISH_REASON_UNSPECIFIED, IMAGE_OTHER, NO_IMAGE and values added later.
        Some(_) => FinishOutcome::Empty,
    }
}

fn account_explanation(reason: &str) -> &'static str {
    match reason {
        "PUP_LIMITED_DISABLED" => {
            "the Gemini account is limited or disabled for Prohibited Use Policy violations"
        }
        "MISSING_THOUGHT_SIGNATURE" => {
            "the API requires the thought signatures of the previous turn, which were not sent"
        }
        _ => "the account cannot use this model",
    }
}

/// Turns what the hops collected into the answer or its error (checklist rows 8-11).
fn conclude(hops: Vec<Hop>, max_output_tokens: u32) -> Result<RawPlan, ProviderError> {
    let mut usage = Usage::default();
    for h in &hops {
        usage.add(&h.usage.as_ref().map(Usage::from).unwrap_or(Usage {
            calls: 1,
            ..Usage::default()
        }));
    }
    let parts: Vec<Value> = hops.iter().flat_map(|h| h.parts.iter().cloned()).collect();
    let text: String = hops.iter().map(Hop::text).collect();
    let Some(last) = hops.last() else {
        return Err(ProviderError::Empty {
            reason: "no response".into(),
            usage,
        });
    };
    if !last.saw_candidate && hops.iter().all(|h| !h.saw_candidate) {
        return match &last.block {
            None => Err(ProviderError::Empty {
                reason: "no candidates and no prompt feedback".into(),
                usage,
            }),
            Some((reason, message)) => Err(ProviderError::Blocked {
                reason: reason.clone().unwrap_or_else(|| "unspecified".into()),
                message: message.as_deref().and_then(server_text),
            }),
        };
    }
    let reason = last.finish_reason.clone();
    let message = last.finish_message.as_deref().and_then(server_text);
    let named = || {
        reason
            .clone()
            .unwrap_or_else(|| "FINISH_REASON_UNSPECIFIED".into())
    };
    match finish_outcome(reason.as_deref()) {
        FinishOutcome::Answer if !text.trim().is_empty() => Ok(RawPlan {
            text,
            usage,
            model_version: hops.iter().rev().find_map(|h| h.model_version.clone()),
            turn: Some(merged_turn(&parts)),
        }),
        FinishOutcome::Answer => Err(ProviderError::Empty {
            reason: format!("{} with no text", named()),
            usage,
        }),
        FinishOutcome::Truncated => Err(ProviderError::Truncated {
            limit: max_output_tokens,
            usage,
            partial: text,
        }),
        FinishOutcome::Blocked => Err(ProviderError::Stopped {
            reason: named(),
            message,
        }),
        FinishOutcome::Reask => Err(ProviderError::Malformed {
            reason: named(),
            usage,
        }),
        FinishOutcome::Account => Err(ProviderError::Account {
            explanation: account_explanation(&named()).into(),
            reason: named(),
            message,
        }),
        // Still CONTINUATION after the last allowed hop, or without a token to go on with.
        FinishOutcome::Continue => Err(ProviderError::Truncated {
            limit: max_output_tokens,
            usage,
            partial: text,
        }),
        FinishOutcome::Empty => Err(ProviderError::Empty {
            reason: match message {
                Some(m) => format!("{}: {m}", named()),
                None => named(),
            },
            usage,
        }),
    }
}

/// Interprets an HTTP 200 body (llm-api.md §1.6, checklist rows 8-11).
pub fn parse_success(body: &str, max_output_tokens: u32) -> Result<RawPlan, ProviderError> {
    conclude(vec![parse_hop(body)?], max_output_tokens)
}

fn parse_hop(body: &str) -> Result<Hop, ProviderError> {
    let resp: GenerateResponse =
        serde_json::from_str(body).map_err(|e| ProviderError::Protocol {
            detail: format!("generateContent response is not the expected JSON: {e}"),
        })?;
    let mut hop = Hop::default();
    hop.absorb(resp);
    Ok(hop)
}

/// An error object met inside a 200 stream (`{"error": ...}` or `[{"error": ...}]`).
fn stream_error(text: &str, model: &str) -> Option<ProviderError> {
    let v: Value = serde_json::from_str(text).ok()?;
    let v = match v {
        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        other => other,
    };
    let code = v.pointer("/error/code").and_then(Value::as_u64)?;
    let status = u16::try_from(code).unwrap_or(500);
    Some(classify_error(status, &v.to_string(), model))
}
/// Interprets an error status and body (llm-api.md §1.10).
pub fn classify_error(status: u16, body: &str, model: &str) -> ProviderError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = v.get("error").cloned().unwrap_or(Value::Null);
    let raw_message = err
        .get("message")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| body.chars().take(300).collect());
    let message = server_text(&raw_message);
    let rpc_status = err.get("status").and_then(Value::as_str).unwrap_or("");
    let details: Vec<Value> = err
        .get("details")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let detail_of = |t: &str| {
        details.iter().find(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|ty| ty.ends_with(t))
        })
    };
    let reason = detail_of("google.rpc.ErrorInfo")
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match status {
        429 => {
            let mut quota_ids: Vec<String> = detail_of("google.rpc.QuotaFailure")
                .and_then(|d| d.get("violations"))
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v.get("quotaId").and_then(Value::as_str))
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            if let Some(limit) = detail_of("google.rpc.ErrorInfo")
                .and_then(|d| d.pointer("/metadata/quota_limit"))
                .and_then(Value::as_str)
            {
                quota_ids.push(limit.to_string());
            }
            let daily = quota_ids.iter().any(|q| q.contains("PerDay"));
            let delay = detail_of("google.rpc.RetryInfo")
                .and_then(|d| d.get("retryDelay"))
                .and_then(Value::as_str)
                .and_then(parse_proto_duration)
                .or_else(|| retry_delay_in_message(&raw_message));
            let per_minute = quota_ids.iter().any(|q| q.contains("PerMinute"));
            // A limit of zero is a project without quota for this model: waiting cannot help.
            let zero_limit = detail_of("google.rpc.ErrorInfo")
                .and_then(|d| d.pointer("/metadata/quota_limit_value"))
                .and_then(Value::as_str)
                == Some("0");
            match (daily, delay) {
                (false, Some(d)) => ProviderError::RateLimited {
                    retry_after: Some(d),
                    message,
                },
                // A per-minute window that did not say how long: back off and try again.
                (false, None) if per_minute && !zero_limit => ProviderError::RateLimited {
                    retry_after: None,
                    message,
                },
                // A daily quota resets at midnight Pacific; no delay means nothing to wait for.
                (daily, _) => ProviderError::QuotaExhausted { daily, message },
            }
        }
        400 if reason == "API_KEY_INVALID" => ProviderError::Auth { status, message },
        400 => {
            let field = detail_of("google.rpc.BadRequest")
                .and_then(|d| d.pointer("/fieldViolations/0/field"))
                .and_then(Value::as_str)
                .map(|f| format!(" (field {f})"))
                .unwrap_or_default();
            let hint = if rpc_status == "FAILED_PRECONDITION" {
                " — the free tier is not available here: enable billing or use the openai/rules planner"
            } else {
                ""
            };
            ProviderError::BadRequest {
                status,
                message: Some(format!(
                    "{}{field}{hint}",
                    message.unwrap_or_else(|| rpc_status.to_string())
                )),
            }
        }
        401 | 403 => ProviderError::Auth { status, message },
        404 => ProviderError::ModelNotFound {
            model: model.to_string(),
            message,
        },
        499..=599 => ProviderError::Server { status, message },
        _ => ProviderError::Protocol {
            detail: format!(
                "HTTP {status}{}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
    }
}

impl GeminiProvider {
    /// One request: its answer (a body or a stream of events), or its error.
    async fn hop(&self, body: &Value, meter: &mut TokenMeter<'_>) -> Result<Hop, ProviderError> {
        let resp = idle(
            self.timeout,
            self.http
                .post(self.url())
                .header("x-goog-api-key", self.key.expose_secret())
                .json(body)
                .send(),
        )
        .await?;
        if let Some(e) = super::provider::redirect_error(&resp, "GEMINI_BASE_URL") {
            return Err(e);
        }
        let status = resp.status().as_u16();
        if status != 200 {
            let text = read_body(resp, self.timeout).await?;
            return Err(classify_error(status, &text, &self.model));
        }
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            let text = read_all(resp, self.timeout).await?;
            if let Some(e) = stream_error(&text, &self.model) {
                return Err(e);
            }
            return parse_hop(&text);
        }
        let mut hop = Hop::default();
        let base = meter.tokens;
        read_events(resp, self.timeout, |item| match item {
            SseItem::Data(d) => {
                if let Some(e) = stream_error(&d, &self.model) {
                    return Err(e);
                }
                let r: GenerateResponse =
                    serde_json::from_str(&d).map_err(|e| ProviderError::Protocol {
                        detail: format!("stream event is not the expected JSON: {e}"),
                    })?;
                hop.absorb(r);
                let running = hop.usage.as_ref().map(|u| {
                    base + u.candidates_token_count.unwrap_or(0)
                        + u.thoughts_token_count.unwrap_or(0)
                });
                meter.add(1, running);
                Ok(())
            }
            SseItem::Error(e) => {
                Err(
                    stream_error(&e, &self.model).unwrap_or_else(|| ProviderError::Protocol {
                        detail: format!(
                            "unexpected text in the stream: {}",
                            crate::text::clean(&e, 120)
                        ),
                    }),
                )
            }
        })
        .await?;
        Ok(hop)
    }
}

impl Provider for GeminiProvider {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, req: &LlmRequest<'_>) -> Result<RawPlan, ProviderError> {
        let mut body = request_body(req, &self.model);
        let mut meter = TokenMeter::new(req.on_tokens);
        let mut hops: Vec<Hop> = Vec::new();
        loop {
            let hop = self.hop(&body, &mut meter).await?;
            let token = hop.continuation.clone();
            let resume = hop.resumable() && hops.len() + 1 < MAX_CONTINUATIONS;
            hops.push(hop);
            match token {
                // The same request with the token: the server goes on where it stopped.
                Some(t) if resume => body["continuationToken"] = Value::String(t),
                _ => break,
            }
        }
        meter.done();
        conclude(hops, req.max_output_tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::super::provider::PromptParts;
    use super::*;

    fn fixture(name: &str) -> String {
        let path = crate::testkit::shared_path("fixtures/llm/gemini").join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn success_fixture_yields_text_and_usage() {
        let r = parse_success(&fixture("generate-content-success.json"), 8192).unwrap();
        assert!(r.text.contains("Mountain View"));
        assert_eq!(r.usage.prompt_tokens, 7);
        assert_eq!(r.usage.output_tokens, 22);
        assert_eq!(r.usage.total_tokens, 29);
        assert_eq!(r.model_version.as_deref(), Some("gemini-2.0-flash"));
        let arr = parse_success(
            &fixture("generate-content-structured-json-array.json"),
            8192,
        )
        .unwrap();
        assert!(serde_json::from_str::<Value>(&arr.text).is_ok());
    }

    #[test]
    fn thought_parts_are_left_out() {
        let r = parse_success(
            &fixture("generate-content-function-call-thinking-signature.json"),
            8192,
        );
        // Only a thought and a function call: no answer text.
        assert!(matches!(r, Err(ProviderError::Empty { .. })), "{r:?}");
        let body = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "thinking...", "thought": true},
            {"text": "{\"summary\":\"s\",\"commands\":[]}", "thoughtSignature": "c2ln"}
        ]}, "finishReason": "STOP"}]});
        let r = parse_success(&body.to_string(), 8192).unwrap();
        assert_eq!(r.text, "{\"summary\":\"s\",\"commands\":[]}");
        assert!(r.turn.unwrap().to_string().contains("thoughtSignature"));
    }

    #[test]
    fn blocked_prompt_and_filters() {
        let e = parse_success(
            &fixture("generate-content-prompt-blocked-safety.json"),
            8192,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ProviderError::Blocked {
                reason: "SAFETY".into(),
                message: None
            }
        );
        let e = parse_success(
            &fixture("generate-content-prompt-feedback-no-block-reason.json"),
            8192,
        )
        .unwrap_err();
        assert_eq!(e.state(), "blocked");
        let e = parse_success(&fixture("generate-content-finish-reason-safety.json"), 8192)
            .unwrap_err();
        assert!(matches!(e, ProviderError::Stopped { ref reason, .. } if reason == "SAFETY"));
        let e = parse_success(
            &fixture("generate-content-finish-other-no-content.json"),
            8192,
        )
        .unwrap_err();
        assert!(
            matches!(e, ProviderError::Empty { ref reason, .. } if reason.starts_with("OTHER"))
        );
        let trunc = json!({"candidates": [{"content": {"parts": [{"text": "{\"summ"}]},
            "finishReason": "MAX_TOKENS"}], "usageMetadata": {"promptTokenCount": 10,
            "candidatesTokenCount": 5, "thoughtsTokenCount": 8000, "totalTokenCount": 8015}});
        let e = parse_success(&trunc.to_string(), 8192).unwrap_err();
        assert!(
            matches!(e, ProviderError::Truncated { limit: 8192, usage, ref partial } if usage.thinking_tokens == 8000 && partial == "{\"summ")
        );
        let unknown = json!({"candidates": [{"finishReason": "SOMETHING_NEW"}]});
        assert_eq!(
            parse_success(&unknown.to_string(), 1).unwrap_err().state(),
            "empty"
        );
    }

    #[test]
    fn error_fixtures_classify() {
        let m = "gemini-3.8-flash";
        let e = classify_error(
            429,
            &fixture("error-429-resource-exhausted-retryinfo.json"),
            m,
        );
        assert_eq!(
            e,
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(15)),
                message: server_text(
                    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
                ),
            }
        );
        let e = classify_error(429, &fixture("error-429-resource-exhausted-quota.json"), m);
        assert!(
            matches!(e, ProviderError::QuotaExhausted { daily: false, .. }),
            "{e:?}"
        );
        let daily = fixture("error-429-resource-exhausted-retryinfo.json")
            .replace("PerMinutePerProjectPerModel", "PerDayPerProjectPerModel");
        assert!(matches!(
            classify_error(429, &daily, m),
            ProviderError::QuotaExhausted { daily: true, .. }
        ));
        assert!(matches!(
            classify_error(503, &fixture("error-503-unavailable.json"), m),
            ProviderError::Server { status: 503, .. }
        ));
        let e = classify_error(400, &fixture("error-400-api-key-invalid.json"), m);
        assert!(matches!(e, ProviderError::Auth { status: 400, .. }));
        assert!(!e.to_string().contains("key1234"), "DebugInfo is not shown");
        assert!(matches!(
            classify_error(403, &fixture("error-403-service-disabled.json"), m),
            ProviderError::Auth { status: 403, .. }
        ));
        assert!(matches!(
            classify_error(404, &fixture("error-404-model-not-found.json"), m),
            ProviderError::ModelNotFound { .. }
        ));
        let html = classify_error(502, "<html>Bad Gateway</html>", m);
        assert!(matches!(html, ProviderError::Server { status: 502, .. }));
        // The same per-minute quota without its zero limit and without a delay: back off.
        let per_minute = fixture("error-429-resource-exhausted-quota.json")
            .replace("\"quota_limit_value\": \"0\",", "");
        let e = classify_error(429, &per_minute, m);
        assert_eq!(
            e,
            ProviderError::RateLimited {
                retry_after: None,
                message: e_message(&e)
            }
        );
        assert_eq!(e.advice(), super::super::provider::RetryAdvice::Backoff);
    }

    fn e_message(e: &ProviderError) -> Option<String> {
        match e {
            ProviderError::RateLimited { message, .. } => message.clone(),
            _ => None,
        }
    }

    /// Every finish reason the API documents, and what it leads to.
    #[test]
    fn each_finish_reason_has_its_outcome() {
        use FinishOutcome::*;
        let table = [
            (Some("STOP"), Answer),
            (Some("stop"), Answer),
            (None, Answer),
            (Some("MAX_TOKENS"), Truncated),
            (Some("SAFETY"), Blocked),
            (Some("RECITATION"), Blocked),
            (Some("LANGUAGE"), Blocked),
            (Some("BLOCKLIST"), Blocked),
            (Some("PROHIBITED_CONTENT"), Blocked),
            (Some("SPII"), Blocked),
            (Some("IMAGE_SAFETY"), Blocked),
            (Some("IMAGE_PROHIBITED_CONTENT"), Blocked),
            (Some("IMAGE_RECITATION"), Blocked),
            (Some("MODEL_ARMOR"), Blocked),
            (Some("ESCALATION"), Blocked),
            (Some("MALFORMED_FUNCTION_CALL"), Reask),
            (Some("UNEXPECTED_TOOL_CALL"), Reask),
            (Some("TOO_MANY_TOOL_CALLS"), Reask),
            (Some("MALFORMED_RESPONSE"), Reask),
            (Some("PUP_LIMITED_DISABLED"), Account),
            (Some("MISSING_THOUGHT_SIGNATURE"), Account),
            (Some("CONTINUATION"), Continue),
            (Some("OTHER"), Empty),
            (Some("FINISH_REASON_UNSPECIFIED"), Empty),
            (Some("IMAGE_OTHER"), Empty),
            (Some("NO_IMAGE"), Empty),
            (Some("SOMETHING_NEW"), Empty),
        ];
        for (reason, outcome) in table {
            assert_eq!(finish_outcome(reason), outcome, "{reason:?}");
            // And the error each becomes, from a real body with some text.
            let mut cand =
                json!({"content": {"role": "model", "parts": [{"text": "{\"commands\": []"}]}});
            if let Some(r) = reason {
                cand["finishReason"] = json!(r);
            }
            let r = parse_success(&json!({"candidates": [cand]}).to_string(), 100);
            let state = r.as_ref().err().map(ProviderError::state);
            let expected = match outcome {
                Answer => None,
                Truncated | Continue => Some("truncated"),
                Blocked => Some("stopped"),
                Reask => Some("malformed"),
                Account => Some("account"),
                Empty => Some("empty"),
            };
            assert_eq!(state, expected, "{reason:?}: {r:?}");
            if let Err(e) = r {
                let advice = e.advice();
                match outcome {
                    Blocked | Account => {
                        assert_eq!(
                            advice,
                            super::super::provider::RetryAdvice::Never,
                            "{reason:?}"
                        );
                        assert!(e.to_string().contains(reason.unwrap_or("?")), "{e}");
                    }
                    Reask | Empty => assert_eq!(advice, super::super::provider::RetryAdvice::Once),
                    _ => {}
                }
            }
        }
        let pup = parse_success(
            &json!({"candidates": [{"finishReason": "PUP_LIMITED_DISABLED"}]}).to_string(),
            1,
        )
        .unwrap_err();
        assert!(
            pup.to_string().contains("retrying cannot fix this"),
            "{pup}"
        );
    }

    #[test]
    fn streamed_events_accumulate() {
        let text = fixture("stream-success-basic.sse.txt");
        let mut p = crate::llm::stream::SseParser::default();
        let mut items = p.push(text.as_bytes()).unwrap();
        items.extend(p.finish());
        let mut hop = Hop::default();
        for it in items {
            let SseItem::Data(d) = it else {
                panic!("{it:?}")
            };
            hop.absorb(serde_json::from_str(&d).unwrap());
        }
        let r = conclude(vec![hop], 100).unwrap();
        assert!(!r.text.is_empty());
        assert!(r.usage.total_tokens > 0);
        let rec = fixture("stream-failure-recitation.sse.txt");
        let mut p = crate::llm::stream::SseParser::default();
        let mut hop = Hop::default();
        for it in p
            .push(rec.as_bytes())
            .unwrap()
            .into_iter()
            .chain(p.finish())
        {
            if let SseItem::Data(d) = it {
                hop.absorb(serde_json::from_str(&d).unwrap());
            }
        }
        let e = conclude(vec![hop], 100).unwrap_err();
        assert!(
            matches!(e, ProviderError::Stopped { ref reason, .. } if reason == "RECITATION"),
            "{e:?}"
        );
    }

    #[test]
    fn continuation_hops_join_into_one_answer() {
        let hop = |text: &str, finish: &str, token: Option<&str>, out: u64| {
            let mut cand = json!({"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish});
            if let Some(t) = token {
                cand["continuationToken"] = json!(t);
            }
            parse_hop(&json!({"candidates": [cand], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": out, "totalTokenCount": 10 + out}}).to_string()).unwrap()
        };
        let first = hop("{\"commands\": [], ", "CONTINUATION", Some("dG9rZW4="), 5);
        assert!(first.resumable());
        let second = hop("\"summary\": \"ok\"}", "STOP", None, 4);
        assert!(!second.resumable());
        let r = conclude(vec![first, second], 100).unwrap();
        assert_eq!(r.text, "{\"commands\": [], \"summary\": \"ok\"}");
        assert_eq!(r.usage.output_tokens, 9);
        assert_eq!(r.usage.calls, 2);
        assert_eq!(
            r.turn.unwrap()["parts"].as_array().unwrap().len(),
            1,
            "plain text parts joined"
        );
    }

    #[test]
    fn request_body_follows_the_contract() {
        let schema =
            serde_json::json!({"type": "object", "properties": {"commands": {"type": "array"}}});
        let req = LlmRequest {
            prompt: PromptParts {
                system: "sys",
                user: "user text",
                schema: &schema,
            },
            followup: None,
            max_output_tokens: 8192,
            on_tokens: None,
        };
        let b = request_body(&req, "gemini-3.8-flash");
        assert_eq!(b["systemInstruction"]["parts"][0]["text"], "sys");
        assert_eq!(b["contents"][0]["role"], "user");
        let g = &b["generationConfig"];
        assert_eq!(g["responseMimeType"], "application/json");
        assert!(g["responseJsonSchema"].is_object());
        assert!(g.get("responseSchema").is_none());
        assert!(g.get("temperature").is_none());
        assert_eq!(g["thinkingConfig"]["thinkingLevel"], "LOW");
        assert!(
            request_body(&req, "gemini-2.5-flash")["generationConfig"]
                .get("thinkingConfig")
                .is_none()
        );
        let prev = RawPlan {
            text: "{bad".into(),
            usage: Usage::default(),
            model_version: None,
            turn: None,
        };
        let req2 = LlmRequest {
            followup: Some(super::super::provider::Followup {
                previous: &prev,
                correction: "fix it",
            }),
            ..req
        };
        let b = request_body(&req2, "gemini-3.8-flash");
        let contents = b["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 3);
        assert_eq!(contents[1]["role"], "model");
        assert_eq!(contents[2]["role"], "user");
    }

    #[test]
    fn config_is_checked() {
        let cfg = |key: &str, base: &str, model: &str| GeminiConfig {
            api_key: SecretString::from(key.to_string()),
            base_url: base.into(),
            model: model.into(),
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            no_proxy: true,
            stream: false,
        };
        let p = GeminiProvider::new(cfg("k", "http://127.0.0.1:9/", "models/gemini-3.8-flash"))
            .unwrap();
        assert_eq!(
            p.url(),
            "http://127.0.0.1:9/v1beta/models/gemini-3.8-flash:generateContent"
        );
        let streaming = GeminiProvider::new(GeminiConfig {
            stream: true,
            ..cfg("k", "http://127.0.0.1:9", "gemini-3.8-flash")
        })
        .unwrap();
        assert_eq!(
            streaming.url(),
            "http://127.0.0.1:9/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse"
        );
        assert!(GeminiProvider::new(cfg("", DEFAULT_BASE_URL, DEFAULT_MODEL)).is_err());
        assert!(GeminiProvider::new(cfg("k", "ftp://x", DEFAULT_MODEL)).is_err());
        assert!(GeminiProvider::new(cfg("k", DEFAULT_BASE_URL, "../evil")).is_err());
    }
}
