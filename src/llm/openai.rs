//! OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp `llama-server`) as a planner
//! backend, coded to llm-api.md §2: the nested `response_format.json_schema` form every one of
//! them reads, a low temperature, only `message.content` parsed, and both error envelopes.

use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::provider::{
    LlmRequest, Provider, ProviderError, RawPlan, Usage, retry_delay_in_message, server_text,
    transport_error,
};

#[derive(Clone)]
pub struct OpenAiConfig {
    /// `http://localhost:11434` or `http://localhost:8000/v1`; `/v1/chat/completions` is
    /// appended unless the URL already ends in `/v1`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// When unset, the first model `GET /v1/models` lists is used.
    pub model: Option<String>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub no_proxy: bool,
}

pub struct OpenAiProvider {
    http: reqwest::Client,
    v1: String,
    key: Option<SecretString>,
    configured: Option<String>,
    resolved: Mutex<Option<String>>,
    timeout: Duration,
}

impl OpenAiProvider {
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = cfg.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ProviderError::Config(format!(
                "OPENAI_BASE_URL must start with http:// or https://, got {base:?}"
            )));
        }
        let v1 = if base.ends_with("/v1") {
            base.to_string()
        } else {
            format!("{base}/v1")
        };
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("gitaiops/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            // Never follow: the key and the prompt would go wherever a 3xx points.
            .redirect(reqwest::redirect::Policy::none());
        if cfg.no_proxy {
            b = b.no_proxy();
        }
        let http = b
            .build()
            .map_err(|e| ProviderError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            v1,
            key: cfg.api_key.filter(|k| !k.expose_secret().trim().is_empty()),
            configured: cfg.model.filter(|m| !m.trim().is_empty()),
            resolved: Mutex::new(None),
            timeout: cfg.timeout,
        })
    }

    pub fn chat_url(&self) -> String {
        format!("{}/chat/completions", self.v1)
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(k) => rb.bearer_auth(k.expose_secret()),
            None => rb,
        }
    }

    /// The configured model, else the first one the server lists (cached).
    async fn model_name(&self) -> Result<String, ProviderError> {
        if let Some(m) = &self.configured {
            return Ok(m.clone());
        }
        if let Some(m) = self.resolved.lock().ok().and_then(|g| g.clone()) {
            return Ok(m);
        }
        let resp = self
            .auth(self.http.get(format!("{}/models", self.v1)))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| transport_error(&e, self.timeout))?;
        let (status, text) =
            super::provider::read_response(resp, self.timeout, "OPENAI_BASE_URL").await?;
        if status != 200 {
            return Err(classify_error(status, None, &text, "(unset)"));
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| ProviderError::Protocol {
            detail: format!("/v1/models is not JSON: {e}"),
        })?;
        let id = v
            .pointer("/data/0/id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| {
                ProviderError::Config(
                    "no model configured and the server lists none: set OPENAI_MODEL or --model"
                        .into(),
                )
            })?;
        if let Ok(mut g) = self.resolved.lock() {
            *g = Some(id.clone());
        }
        Ok(id)
    }
}

/// The chat completions body.
pub fn request_body(req: &LlmRequest<'_>, model: &str) -> Value {
    let p = req.prompt;
    let mut messages = vec![
        json!({"role": "system", "content": p.system}),
        json!({"role": "user", "content": p.user}),
    ];
    if let Some(f) = req.followup {
        messages.push(json!({"role": "assistant", "content": f.previous.text}));
        messages.push(json!({"role": "user", "content": f.correction}));
    }
    json!({
        "model": model,
        "messages": messages,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "gitaiops_plan", "strict": true, "schema": p.schema},
        },
        "temperature": 0.1,
        "max_tokens": req.max_output_tokens,
        "stream": false,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatResponse {
    choices: Option<Vec<Choice>>,
    usage: Option<ChatUsage>,
    model: Option<String>,
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Message {
    content: Option<Value>,
    refusal: Option<String>,
    tool_calls: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    total_tokens: Option<u64>,
    completion_tokens_details: Option<Value>,
}

/// Interprets an HTTP 200 body (llm-api.md §2.3).
pub fn parse_success(body: &str, max_output_tokens: u32) -> Result<RawPlan, ProviderError> {
    let resp: ChatResponse = serde_json::from_str(body).map_err(|e| ProviderError::Protocol {
        detail: format!("chat completion is not the expected JSON: {e}"),
    })?;
    if resp.error.is_some() {
        return Err(classify_error(
            500,
            None,
            body,
            resp.model.as_deref().unwrap_or("?"),
        ));
    }
    let usage = resp
        .usage
        .as_ref()
        .map(|u| {
            let prompt = u.prompt_tokens.unwrap_or(0);
            let completion = u.completion_tokens.unwrap_or(0);
            let reasoning = u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.get("reasoning_tokens"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            Usage {
                prompt_tokens: prompt,
                output_tokens: completion.saturating_sub(reasoning),
                thinking_tokens: reasoning,
                total_tokens: u.total_tokens.unwrap_or(prompt + completion),
                calls: 1,
            }
        })
        .unwrap_or(Usage {
            calls: 1,
            ..Usage::default()
        });
    let Some(choice) = resp.choices.unwrap_or_default().into_iter().next() else {
        return Err(ProviderError::Empty {
            reason: "no choices".into(),
            usage,
        });
    };
    let msg = choice.message.unwrap_or_default();
    let text = match &msg.content {
        Some(Value::String(s)) => s.clone(),
        // Some servers send content parts: [{"type":"text","text":"..."}].
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    };
    let finish = choice.finish_reason.unwrap_or_else(|| "stop".into());
    if let Some(r) = msg.refusal.as_deref().filter(|r| !r.trim().is_empty()) {
        return Err(ProviderError::Stopped {
            reason: "refusal".into(),
            message: server_text(r),
        });
    }
    match finish.as_str() {
        "length" => Err(ProviderError::Truncated {
            limit: max_output_tokens,
            usage,
        }),
        "content_filter" => Err(ProviderError::Stopped {
            reason: "content_filter".into(),
            message: None,
        }),
        _ if text.trim().is_empty() => Err(ProviderError::Empty {
            reason: if msg.tool_calls.is_some_and(|t| !t.is_empty()) {
                "a tool call instead of content".into()
            } else {
                format!("finish_reason {finish} with no content")
            },
            usage,
        }),
        _ => Ok(RawPlan {
            text,
            usage,
            model_version: resp.model,
            turn: None,
        }),
    }
}

/// Interprets an error status and body: `{"error": {...}}`, `{"error": "text"}` or vLLM's flat
/// `{"object": "error", "message": ...}`; `code` may be a number, a string or null.
pub fn classify_error(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    model: &str,
) -> ProviderError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let raw = match v.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(e) => e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        None => v
            .get("message")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| body.chars().take(300).collect()),
    };
    // A 200 carrying an error names its code in the body.
    let status = match v.pointer("/error/code").or_else(|| v.get("code")) {
        Some(Value::Number(n)) if status == 500 => n
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500),
        _ => status,
    };
    let message = server_text(&raw);
    let lower = raw.to_ascii_lowercase();
    match status {
        404 => ProviderError::ModelNotFound {
            model: model.to_string(),
            message,
        },
        400 if lower.contains("model") && lower.contains("not found") => {
            ProviderError::ModelNotFound {
                model: model.to_string(),
                message,
            }
        }
        400 | 413 | 422 => ProviderError::BadRequest { status, message },
        401 | 403 => ProviderError::Auth { status, message },
        429 => {
            // Self-hosted queues are transient: wait what the server says, else a few seconds.
            let d = retry_after
                .or_else(|| retry_delay_in_message(&raw))
                .unwrap_or(Duration::from_secs(5));
            ProviderError::RateLimited {
                retry_after: d,
                message,
            }
        }
        408 | 499 | 500..=599 => ProviderError::Server { status, message },
        _ => ProviderError::Protocol {
            detail: format!(
                "HTTP {status}{}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
    }
}

impl Provider for OpenAiProvider {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn model(&self) -> &str {
        self.configured.as_deref().unwrap_or("(server default)")
    }

    async fn complete(&self, req: &LlmRequest<'_>) -> Result<RawPlan, ProviderError> {
        let model = self.model_name().await?;
        let body = request_body(req, &model);
        let resp = self
            .auth(self.http.post(self.chat_url()))
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error(&e, self.timeout))?;
        let retry_after = crate::net::rate_limit_wait(resp.headers(), jiff::Timestamp::now());
        let (status, text) =
            super::provider::read_response(resp, self.timeout, "OPENAI_BASE_URL").await?;
        if status == 200 {
            let mut raw = parse_success(&text, req.max_output_tokens)?;
            raw.model_version.get_or_insert(model);
            Ok(raw)
        } else {
            Err(classify_error(status, retry_after, &text, &model))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::provider::PromptParts;
    use super::*;

    fn fixture(name: &str) -> String {
        let path = crate::testkit::shared_path("fixtures/llm/openai-compat").join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn success_and_usage() {
        let r = parse_success(&fixture("chat-completion-basic.json"), 100).unwrap();
        assert_eq!(r.text, "Hello! How can I assist you today?");
        assert_eq!(r.usage.prompt_tokens, 19);
        assert_eq!(r.usage.output_tokens, 10);
        assert_eq!(r.model_version.as_deref(), Some("gpt-5.4"));
        let e = parse_success(&fixture("chat-completion-tool-calls.json"), 100).unwrap_err();
        assert!(
            matches!(e, ProviderError::Empty { ref reason, .. } if reason.contains("tool call"))
        );
        // A legacy completions body has no message: empty, never a crash.
        let e = parse_success(&fixture("ollama-completions-response.json"), 100).unwrap_err();
        assert_eq!(e.state(), "empty");
    }

    #[test]
    fn an_out_of_range_body_code_does_not_wrap_into_another_status() {
        // 65936 as u16 is 400: a retryable 500 would have become a final bad request.
        let body = r#"{"error":{"code":65936,"message":"internal"}}"#;
        assert!(matches!(
            classify_error(500, None, body, "m"),
            ProviderError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn finish_reasons_and_refusals() {
        let len =
            json!({"choices": [{"message": {"content": "{\"sum"}, "finish_reason": "length"}]});
        assert!(matches!(
            parse_success(&len.to_string(), 512).unwrap_err(),
            ProviderError::Truncated { limit: 512, .. }
        ));
        let cf =
            json!({"choices": [{"message": {"content": ""}, "finish_reason": "content_filter"}]});
        assert_eq!(
            parse_success(&cf.to_string(), 1).unwrap_err().state(),
            "stopped"
        );
        let refusal = json!({"choices": [{"message": {"content": null, "refusal": "I can't"}, "finish_reason": "stop"}]});
        assert_eq!(
            parse_success(&refusal.to_string(), 1).unwrap_err().state(),
            "stopped"
        );
        // vLLM leaves keys out.
        let sparse = json!({"choices": [{"message": {"content": "{}"}}]});
        assert_eq!(parse_success(&sparse.to_string(), 1).unwrap().text, "{}");
        let err200 = json!({"error": {"message": "boom", "code": 503}});
        assert!(matches!(
            parse_success(&err200.to_string(), 1).unwrap_err(),
            ProviderError::Server { status: 503, .. }
        ));
    }

    #[test]
    fn error_shapes() {
        let e = classify_error(
            404,
            None,
            &fixture("ollama-error-model-not-found.json"),
            "qwen3",
        );
        assert!(matches!(e, ProviderError::ModelNotFound { ref model, .. } if model == "qwen3"));
        let e = classify_error(
            503,
            None,
            &fixture("llamacpp-error-503-loading-model.json"),
            "m",
        );
        assert_eq!(
            e,
            ProviderError::Server {
                status: 503,
                message: Some("Loading model".into())
            }
        );
        let flat = r#"{"object":"error","message":"context too long","type":"BadRequestError","param":null,"code":400}"#;
        assert!(matches!(
            classify_error(400, None, flat, "m"),
            ProviderError::BadRequest { status: 400, ref message } if message.as_deref() == Some("context too long")
        ));
        let s = classify_error(401, None, r#"{"error": "invalid api key"}"#, "m");
        assert!(matches!(s, ProviderError::Auth { status: 401, .. }));
        let rl = classify_error(429, Some(Duration::from_secs(3)), "", "m");
        assert_eq!(
            rl.advice(),
            super::super::provider::RetryAdvice::Wait(Duration::from_secs(3))
        );
    }

    #[test]
    fn request_uses_the_nested_json_schema_form() {
        let schema =
            serde_json::json!({"type": "object", "properties": {"commands": {"type": "array"}}});
        let req = LlmRequest {
            prompt: PromptParts {
                system: "sys",
                user: "usr",
                schema: &schema,
            },
            followup: None,
            max_output_tokens: 4096,
        };
        let b = request_body(&req, "qwen3:8b");
        assert_eq!(b["response_format"]["type"], "json_schema");
        assert_eq!(b["response_format"]["json_schema"]["name"], "gitaiops_plan");
        assert!(
            b["response_format"]["json_schema"]["schema"]["properties"]["commands"].is_object()
        );
        assert_eq!(b["messages"][0]["role"], "system");
        assert_eq!(b["max_tokens"], 4096);
    }

    #[test]
    fn base_url_gets_v1_once() {
        let mk = |u: &str| {
            OpenAiProvider::new(OpenAiConfig {
                base_url: u.into(),
                api_key: None,
                model: Some("m".into()),
                timeout: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(1),
                no_proxy: true,
            })
        };
        assert_eq!(
            mk("http://localhost:11434").unwrap().chat_url(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            mk("http://localhost:8000/v1/").unwrap().chat_url(),
            "http://localhost:8000/v1/chat/completions"
        );
        assert!(mk("localhost:8000").is_err());
    }
}
