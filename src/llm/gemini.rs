//! Google Gemini (`generateContent`, v1beta) as a planner backend, coded to llm-api.md §1.
//!
//! Structured output through `responseMimeType: application/json` + `responseJsonSchema` (the
//! standard JSON Schema dialect; `responseSchema` would reject `additionalProperties`). The key
//! travels in `x-goog-api-key`, never in the URL. No sampling parameters (deprecated from 3.6
//! Flash); thinking level LOW on Gemini 3 models, whose thinking shares `maxOutputTokens`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::provider::{
    LlmRequest, Provider, ProviderError, RawPlan, Usage, parse_proto_duration,
    retry_delay_in_message, server_text, transport_error,
};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-3.8-flash";

#[derive(Clone)]
pub struct GeminiConfig {
    pub api_key: SecretString,
    /// Replaces `https://generativelanguage.googleapis.com`; `/v1beta/models/...` is appended.
    pub base_url: String,
    pub model: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Loopback test servers and gateways that must bypass HTTPS_PROXY.
    pub no_proxy: bool,
}

pub struct GeminiProvider {
    http: reqwest::Client,
    url: String,
    key: SecretString,
    model: String,
    timeout: Duration,
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
            key: cfg.api_key,
            model,
            timeout: cfg.timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
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
        "responseJsonSchema": p.schema,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Candidate {
    content: Option<Value>,
    finish_reason: Option<String>,
    finish_message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PromptFeedback {
    block_reason: Option<String>,
    block_reason_message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
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

/// Interprets an HTTP 200 body (llm-api.md §1.6, checklist rows 8-11).
pub fn parse_success(body: &str, max_output_tokens: u32) -> Result<RawPlan, ProviderError> {
    let resp: GenerateResponse =
        serde_json::from_str(body).map_err(|e| ProviderError::Protocol {
            detail: format!("generateContent response is not the expected JSON: {e}"),
        })?;
    let usage = resp
        .usage_metadata
        .as_ref()
        .map(Usage::from)
        .unwrap_or(Usage {
            calls: 1,
            ..Usage::default()
        });
    let candidates = resp.candidates.unwrap_or_default();
    let Some(cand) = candidates.into_iter().next() else {
        let fb = resp.prompt_feedback.unwrap_or_default();
        return match (fb.block_reason, fb.block_reason_message) {
            (None, None) => Err(ProviderError::Empty {
                reason: "no candidates and no prompt feedback".into(),
                usage,
            }),
            (reason, message) => Err(ProviderError::Blocked {
                reason: reason.unwrap_or_else(|| "unspecified".into()),
                message: message.as_deref().and_then(server_text),
            }),
        };
    };
    let text = cand
        .content
        .as_ref()
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<String>()
        })
        .unwrap_or_default();
    let reason = cand
        .finish_reason
        .clone()
        .unwrap_or_else(|| "FINISH_REASON_UNSPECIFIED".into());
    let message = cand.finish_message.as_deref().and_then(server_text);
    match reason.as_str() {
        "STOP" if !text.trim().is_empty() => Ok(RawPlan {
            text,
            usage,
            model_version: resp.model_version,
            turn: cand.content,
        }),
        "STOP" => Err(ProviderError::Empty {
            reason: "STOP with no text".into(),
            usage,
        }),
        "MAX_TOKENS" => Err(ProviderError::Truncated {
            limit: max_output_tokens,
            usage,
        }),
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => Err(ProviderError::Stopped { reason, message }),
        // OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, unknown future values: partial
        // text is never used.
        other => Err(ProviderError::Empty {
            reason: match message {
                Some(m) => format!("{other}: {m}"),
                None => other.to_string(),
            },
            usage,
        }),
    }
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
            match (daily, delay) {
                (false, Some(d)) => ProviderError::RateLimited {
                    retry_after: d,
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

impl Provider for GeminiProvider {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, req: &LlmRequest<'_>) -> Result<RawPlan, ProviderError> {
        let body = request_body(req, &self.model);
        let resp = self
            .http
            .post(&self.url)
            .header("x-goog-api-key", self.key.expose_secret())
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error(&e, self.timeout))?;
        let (status, text) =
            super::provider::read_response(resp, self.timeout, "GEMINI_BASE_URL").await?;
        if status == 200 {
            parse_success(&text, req.max_output_tokens)
        } else {
            Err(classify_error(status, &text, &self.model))
        }
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
            matches!(e, ProviderError::Truncated { limit: 8192, usage } if usage.thinking_tokens == 8000)
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
                retry_after: Duration::from_secs(15),
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
        };
        let p = GeminiProvider::new(cfg("k", "http://127.0.0.1:9/", "models/gemini-3.8-flash"))
            .unwrap();
        assert_eq!(
            p.url(),
            "http://127.0.0.1:9/v1beta/models/gemini-3.8-flash:generateContent"
        );
        assert!(GeminiProvider::new(cfg("", DEFAULT_BASE_URL, DEFAULT_MODEL)).is_err());
        assert!(GeminiProvider::new(cfg("k", "ftp://x", DEFAULT_MODEL)).is_err());
        assert!(GeminiProvider::new(cfg("k", DEFAULT_BASE_URL, "../evil")).is_err());
    }
}
