//! OpenAI-compatible chat completions (api.openai.com, Azure OpenAI, Ollama, vLLM, llama.cpp
//! `llama-server`) as a planner backend, coded to llm-api.md §2: the nested
//! `response_format.json_schema` form every one of them reads, the schema in the dialect the
//! target enforces (strict for OpenAI's own API, bounded and relaxed for grammar-based servers),
//! the token-limit and sampling fields the target accepts, streamed answers with an idle
//! timeout, only `message.content` parsed, and both error envelopes.

use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::provider::{
    ContextWindow, LlmRequest, Provider, ProviderError, RawPlan, Usage, retry_delay_in_message,
    server_text,
};
use super::schema::{Dialect, OrderedJson, to_dialect};
use super::stream::{SseItem, TokenMeter, idle, read_body, read_events};

/// Which field carries the output cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    /// What llama.cpp, Ollama and vLLM read.
    MaxTokens,
    /// What OpenAI wants (reasoning models refuse `max_tokens`).
    MaxCompletionTokens,
}

/// What a target expects on the wire, beyond the chat format itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WireOptions {
    /// Strict Structured Outputs (OpenAI, Azure) or the relaxed, bounded schema.
    pub strict_schema: bool,
    pub token_field: TokenField,
    /// `None`: not sent (OpenAI's reasoning models refuse it).
    pub temperature: Option<f32>,
    /// `stream: true` with server-sent events.
    pub stream: bool,
}

impl WireOptions {
    /// What the target at `base_url` running `model` expects: OpenAI's own API (and Azure's)
    /// gets the strict schema and `max_completion_tokens`, and no temperature for its reasoning
    /// models; every other server what the self-hosted ones accept.
    pub fn for_target(base_url: &str, model: Option<&str>) -> WireOptions {
        let openai = is_openai_host(base_url);
        let reasoning = model.is_some_and(is_reasoning_model);
        WireOptions {
            strict_schema: openai,
            token_field: if openai {
                TokenField::MaxCompletionTokens
            } else {
                TokenField::MaxTokens
            },
            temperature: if openai && reasoning { None } else { Some(0.1) },
            stream: true,
        }
    }
}

/// api.openai.com or an Azure OpenAI resource: servers that enforce strict mode.
pub fn is_openai_host(base_url: &str) -> bool {
    crate::net::parse_lenient(base_url)
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| {
            h == "api.openai.com"
                || h.ends_with(".openai.azure.com")
                || h.ends_with(".cognitiveservices.azure.com")
        })
}

/// OpenAI's reasoning families (o1, o3, o4-mini, gpt-5...): no `temperature`.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.trim().to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    (m.starts_with('o') && m.chars().nth(1).is_some_and(|c| c.is_ascii_digit()))
        || m.starts_with("gpt-5")
}

#[derive(Clone)]
pub struct OpenAiConfig {
    /// Used as given, like the openai SDK's `OPENAI_BASE_URL`: `http://localhost:8080/v1`,
    /// `https://generativelanguage.googleapis.com/v1beta/openai/`; `/chat/completions` and
    /// `/models` are appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// When unset, the first model `GET /models` lists is used.
    pub model: Option<String>,
    /// Longest silence allowed: waiting for the first token (prompt processing on a CPU
    /// server) included. Not a limit on the whole answer.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub no_proxy: bool,
    pub wire: WireOptions,
}

pub struct OpenAiProvider {
    http: reqwest::Client,
    base: String,
    key: Option<SecretString>,
    configured: Option<String>,
    resolved: Mutex<Option<String>>,
    context: tokio::sync::OnceCell<Option<ContextWindow>>,
    timeout: Duration,
    wire: WireOptions,
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
            base: base.to_string(),
            key: cfg.api_key.filter(|k| !k.expose_secret().trim().is_empty()),
            configured: cfg.model.filter(|m| !m.trim().is_empty()),
            resolved: Mutex::new(None),
            context: tokio::sync::OnceCell::new(),
            timeout: cfg.timeout,
            wire: cfg.wire,
        })
    }

    pub fn chat_url(&self) -> String {
        format!("{}/chat/completions", self.base)
    }

    pub fn wire(&self) -> WireOptions {
        self.wire
    }

    /// The server root for the non-OpenAI endpoints (`/props`, `/api/show`): the base URL
    /// without a trailing `/v1`.
    fn root(&self) -> &str {
        self.base.strip_suffix("/v1").unwrap_or(&self.base)
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(k) => rb.bearer_auth(k.expose_secret()),
            None => rb,
        }
    }

    async fn get_json(&self, url: &str) -> Result<(u16, String), ProviderError> {
        let resp = idle(self.timeout, self.auth(self.http.get(url)).send()).await?;
        if let Some(e) = super::provider::redirect_error(&resp, "OPENAI_BASE_URL") {
            return Err(e);
        }
        let status = resp.status().as_u16();
        Ok((status, read_body(resp, self.timeout).await?))
    }

    /// The model in use: the configured one, else the first one the server lists (cached).
    pub async fn model_name(&self) -> Result<String, ProviderError> {
        if let Some(m) = &self.configured {
            return Ok(m.clone());
        }
        if let Some(m) = self.resolved.lock().ok().and_then(|g| g.clone()) {
            return Ok(m);
        }
        let url = format!("{}/models", self.base);
        let (status, text) = self.get_json(&url).await?;
        if status != 200 {
            return Err(classify_error(status, None, &text, "(unset)", &url));
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| ProviderError::Protocol {
            detail: format!("{url} is not JSON: {e}"),
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

    /// Asks the server how many tokens it holds: llama.cpp `GET /props`, vLLM's
    /// `max_model_len` in `/models`, Ollama `POST /api/show`. OpenAI's own API says nothing.
    async fn discover_context(&self) -> Option<ContextWindow> {
        if is_openai_host(&self.base) {
            return None;
        }
        let found = |tokens: u64, source: &str| {
            u32::try_from(tokens)
                .ok()
                .filter(|t| *t >= 256)
                .map(|tokens| ContextWindow {
                    tokens,
                    source: source.to_string(),
                })
        };
        if let Ok((200, body)) = self.get_json(&format!("{}/props", self.root())).await
            && let Ok(v) = serde_json::from_str::<Value>(&body)
            && let Some(n) = v
                .pointer("/default_generation_settings/n_ctx")
                .or_else(|| v.get("n_ctx"))
                .and_then(Value::as_u64)
        {
            return found(n, "llama.cpp /props");
        }
        let model = self.model_name().await.ok();
        if let Ok((200, body)) = self.get_json(&format!("{}/models", self.base)).await
            && let Ok(v) = serde_json::from_str::<Value>(&body)
            && let Some(models) = v.get("data").and_then(Value::as_array)
        {
            let entry = models
                .iter()
                .find(|m| m.get("id").and_then(Value::as_str) == model.as_deref())
                .or_else(|| models.first());
            if let Some(n) = entry
                .and_then(|m| m.get("max_model_len"))
                .and_then(Value::as_u64)
            {
                return found(n, "vLLM /models max_model_len");
            }
        }
        let model = model?;
        let resp = idle(
            self.timeout,
            self.auth(self.http.post(format!("{}/api/show", self.root())))
                .json(&json!({"model": model}))
                .send(),
        )
        .await
        .ok()?;
        if resp.status().as_u16() != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&read_body(resp, self.timeout).await.ok()?).ok()?;
        ollama_context(&v).and_then(|n| found(n, "Ollama /api/show"))
    }
}

/// Ollama runs a model with `num_ctx` tokens: the Modelfile's when it sets one, else the
/// server's default (4096 unless OLLAMA_CONTEXT_LENGTH says otherwise, which the API does not
/// show), never more than the model's trained `<arch>.context_length`.
pub fn ollama_context(show: &Value) -> Option<u64> {
    let trained = show
        .get("model_info")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.ends_with(".context_length"))
                .and_then(|(_, v)| v.as_u64())
        });
    let num_ctx = show
        .get("parameters")
        .and_then(Value::as_str)
        .and_then(|p| {
            p.lines().find_map(|l| {
                let mut it = l.split_whitespace();
                (it.next() == Some("num_ctx")).then(|| it.next()?.parse::<u64>().ok())?
            })
        });
    match (num_ctx, trained) {
        (Some(n), Some(t)) => Some(n.min(t)),
        (Some(n), None) => Some(n),
        (None, Some(t)) => Some(t.min(4096)),
        (None, None) => None,
    }
}

/// The chat completions body, keys in the order they are written.
#[derive(Serialize)]
pub struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<Value>,
    response_format: ResponseFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<Value>,
    /// llama.cpp: stream `prompt_progress` while it reads the prompt (minutes on a CPU), which
    /// keeps the idle timeout from firing before the first token and shows how far it got.
    #[serde(skip_serializing_if = "Option::is_none")]
    return_progress: Option<bool>,
}

#[derive(Serialize)]
struct ResponseFormat {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: JsonSchemaFormat,
}

#[derive(Serialize)]
struct JsonSchemaFormat {
    name: &'static str,
    strict: bool,
    schema: OrderedJson,
}

/// The chat completions body for a request.
pub fn chat_body<'a>(req: &LlmRequest<'_>, model: &'a str, wire: &WireOptions) -> ChatBody<'a> {
    let p = req.prompt;
    let mut messages = vec![
        json!({"role": "system", "content": p.system}),
        json!({"role": "user", "content": p.user}),
    ];
    if let Some(f) = req.followup {
        messages.push(json!({"role": "assistant", "content": f.previous.text}));
        messages.push(json!({"role": "user", "content": f.correction}));
    }
    let dialect = if wire.strict_schema {
        Dialect::OpenAiStrict
    } else {
        Dialect::OpenAiRelaxed
    };
    let (max_tokens, max_completion_tokens) = match wire.token_field {
        TokenField::MaxTokens => (Some(req.max_output_tokens), None),
        TokenField::MaxCompletionTokens => (None, Some(req.max_output_tokens)),
    };
    ChatBody {
        model,
        messages,
        response_format: ResponseFormat {
            kind: "json_schema",
            json_schema: JsonSchemaFormat {
                name: "gitaiops_answer",
                strict: wire.strict_schema,
                schema: to_dialect(p.schema, dialect),
            },
        },
        temperature: wire.temperature,
        max_tokens,
        max_completion_tokens,
        stream: wire.stream,
        stream_options: wire.stream.then(|| json!({"include_usage": true})),
        return_progress: None,
    }
}

/// The body as a value (keys sorted: for inspection).
pub fn request_body(req: &LlmRequest<'_>, model: &str, wire: &WireOptions) -> Value {
    serde_json::to_value(chat_body(req, model, wire)).unwrap_or(Value::Null)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatResponse {
    choices: Option<Vec<Choice>>,
    usage: Option<ChatUsage>,
    model: Option<String>,
    error: Option<Value>,
    /// llama.cpp with `return_progress`: `{total, cache, processed, time_ms}`.
    prompt_progress: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice {
    message: Option<Message>,
    /// Streaming chunks carry `delta` instead of `message`.
    delta: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Message {
    content: Option<Value>,
    refusal: Option<String>,
    tool_calls: Option<Vec<Value>>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    total_tokens: Option<u64>,
    completion_tokens_details: Option<Value>,
}

impl From<&ChatUsage> for Usage {
    fn from(u: &ChatUsage) -> Usage {
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
    }
}

fn content_text(content: &Option<Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        // Some servers send content parts: [{"type":"text","text":"..."}].
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// What an answer amounted to, streamed or not.
#[derive(Debug, Default)]
struct Collected {
    text: String,
    finish: Option<String>,
    refusal: String,
    tool_calls: bool,
    usage: Option<Usage>,
    model: Option<String>,
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
            "",
        ));
    }
    let Some(choice) = resp.choices.unwrap_or_default().into_iter().next() else {
        return Err(ProviderError::Empty {
            reason: "no choices".into(),
            usage: resp.usage.as_ref().map(Usage::from).unwrap_or(Usage {
                calls: 1,
                ..Usage::default()
            }),
        });
    };
    let msg = choice.message.unwrap_or_default();
    finish(
        Collected {
            text: content_text(&msg.content),
            finish: choice.finish_reason,
            refusal: msg.refusal.unwrap_or_default(),
            tool_calls: msg.tool_calls.is_some_and(|t| !t.is_empty()),
            usage: resp.usage.as_ref().map(Usage::from),
            model: resp.model,
        },
        max_output_tokens,
    )
}

fn finish(c: Collected, max_output_tokens: u32) -> Result<RawPlan, ProviderError> {
    let usage = c.usage.unwrap_or(Usage {
        calls: 1,
        ..Usage::default()
    });
    if !c.refusal.trim().is_empty() {
        return Err(ProviderError::Stopped {
            reason: "refusal".into(),
            message: server_text(&c.refusal),
        });
    }
    // A missing finish reason (vLLM chunks, some gateways) with an answer is a normal stop.
    let finish = c
        .finish
        .unwrap_or_else(|| "stop".into())
        .to_ascii_lowercase();
    match finish.as_str() {
        "length" => Err(ProviderError::Truncated {
            limit: max_output_tokens,
            usage,
            partial: c.text,
        }),
        "content_filter" => Err(ProviderError::Stopped {
            reason: "content_filter".into(),
            message: None,
        }),
        _ if c.text.trim().is_empty() => {
            if c.tool_calls || finish == "tool_calls" || finish == "function_call" {
                Err(ProviderError::Malformed {
                    reason: "a tool call instead of content".into(),
                    usage,
                })
            } else {
                Err(ProviderError::Empty {
                    reason: format!("finish_reason {finish} with no content"),
                    usage,
                })
            }
        }
        _ => Ok(RawPlan {
            text: c.text,
            usage,
            model_version: c.model,
            turn: None,
        }),
    }
}

/// Interprets an error status and body: `{"error": {...}}`, `{"error": "text"}` or vLLM's flat
/// `{"object": "error", "message": ...}`; `code` may be a number, a string or null. `url` is
/// the request's, for a 404 that is about the path rather than a model.
pub fn classify_error(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    model: &str,
    url: &str,
) -> ProviderError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = v.get("error");
    let raw = match err {
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
    let code_str = err
        .and_then(|e| e.get("code").or_else(|| e.get("type")))
        .or_else(|| v.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let err_type = err
        .and_then(|e| e.get("type"))
        .or_else(|| v.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
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
    let about_model =
        lower.contains("model") && lower.contains("not found") || code_str == "model_not_found";
    let about_context = err_type == "exceed_context_size_error"
        || code_str == "context_length_exceeded"
        || lower.contains("context length")
        || lower.contains("context size")
        || lower.contains("context window")
        || (lower.contains("context") && lower.contains("exceed"));
    match status {
        404 if about_model || url.is_empty() => ProviderError::ModelNotFound {
            model: model.to_string(),
            message,
        },
        404 => ProviderError::UrlNotFound {
            url: crate::redact::redact(url).into_owned(),
            message,
        },
        400 if about_model => ProviderError::ModelNotFound {
            model: model.to_string(),
            message,
        },
        400 | 413 | 422 if about_context => ProviderError::ContextExceeded { message },
        400 | 413 | 422 => ProviderError::BadRequest { status, message },
        401 | 403 => ProviderError::Auth { status, message },
        429 if code_str == "insufficient_quota" => ProviderError::QuotaExhausted {
            daily: false,
            message,
        },
        429 => ProviderError::RateLimited {
            retry_after: retry_after.or_else(|| retry_delay_in_message(&raw)),
            message,
        },
        408 | 499 | 500..=599 => ProviderError::Server { status, message },
        _ => ProviderError::Protocol {
            detail: format!(
                "HTTP {status}{}",
                message.map(|m| format!(": {m}")).unwrap_or_default()
            ),
        },
    }
}

impl OpenAiProvider {
    /// Reads a streamed answer: content deltas appended, reasoning deltas counted but not kept,
    /// the finish reason and usage of the last chunks, an error chunk turned into its error.
    async fn read_stream(
        &self,
        resp: reqwest::Response,
        req: &LlmRequest<'_>,
        model: &str,
    ) -> Result<RawPlan, ProviderError> {
        let mut c = Collected::default();
        let mut meter = TokenMeter::new(req.on_tokens);
        let mut done = false;
        let url = self.chat_url();
        read_events(resp, self.timeout, |item| {
            let data = match item {
                SseItem::Data(d) if d.trim() == "[DONE]" => {
                    done = true;
                    return Ok(());
                }
                SseItem::Data(d) => d,
                SseItem::Error(e) => {
                    let e = if serde_json::from_str::<Value>(&e).is_ok_and(|v| v.get("error").is_some()) {
                        e
                    } else {
                        json!({"error": serde_json::from_str::<Value>(&e).unwrap_or(Value::String(e))}).to_string()
                    };
                    return Err(classify_error(500, None, &e, model, &url));
                }
            };
            let chunk: ChatResponse =
                serde_json::from_str(&data).map_err(|e| ProviderError::Protocol {
                    detail: format!("stream chunk is not the expected JSON: {e}"),
                })?;
            if chunk.error.is_some() {
                return Err(classify_error(500, None, &data, model, &url));
            }
            if let Some(m) = chunk.model {
                c.model = Some(m);
            }
            if let Some(p) = &chunk.prompt_progress {
                let n = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0);
                meter.prompt(n("processed"), n("total"));
            }
            if let Some(u) = &chunk.usage {
                c.usage = Some(Usage::from(u));
            }
            for choice in chunk.choices.unwrap_or_default().into_iter().take(1) {
                if let Some(d) = choice.delta.or(choice.message) {
                    let text = content_text(&d.content);
                    let thinking = d.reasoning_content.or(d.reasoning).unwrap_or_default();
                    if !text.is_empty() || !thinking.is_empty() {
                        meter.add(1, None);
                    }
                    if c.text.len() + text.len() > super::stream::MAX_STREAM_BYTES {
                        return Err(ProviderError::Protocol {
                            detail: "the streamed answer is too large".into(),
                        });
                    }
                    c.text.push_str(&text);
                    if let Some(r) = d.refusal {
                        c.refusal.push_str(&r);
                    }
                    c.tool_calls |= d.tool_calls.is_some_and(|t| !t.is_empty());
                }
                if choice.finish_reason.is_some() {
                    c.finish = choice.finish_reason;
                }
            }
            Ok(())
        })
        .await?;
        meter.done();
        if !done && c.finish.is_none() {
            return Err(ProviderError::Network {
                detail: "the stream ended before the answer was complete".into(),
            });
        }
        if let Some(u) = &mut c.usage {
            u.calls = 1;
        } else if meter.tokens > 0 {
            // No usage chunk: count what streamed rather than report nothing.
            c.usage = Some(Usage {
                output_tokens: meter.tokens,
                total_tokens: meter.tokens,
                calls: 1,
                ..Usage::default()
            });
        }
        finish(c, req.max_output_tokens)
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
        let body = serde_json::to_vec(&chat_body(req, &model, &self.wire))
            .map_err(|e| ProviderError::Config(format!("cannot encode the request: {e}")))?;
        let url = self.chat_url();
        let resp = idle(
            self.timeout,
            self.auth(self.http.post(&url))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send(),
        )
        .await?;
        if let Some(e) = super::provider::redirect_error(&resp, "OPENAI_BASE_URL") {
            return Err(e);
        }
        let status = resp.status().as_u16();
        let retry_after = crate::net::rate_limit_wait(resp.headers(), jiff::Timestamp::now());
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status != 200 {
            let text = read_body(resp, self.timeout).await?;
            return Err(classify_error(status, retry_after, &text, &model, &url));
        }
        let mut raw = if is_sse {
            self.read_stream(resp, req, &model).await?
        } else {
            // A server that ignored `stream: true` answers in one piece.
            let text = super::stream::read_all(resp, self.timeout).await?;
            parse_success(&text, req.max_output_tokens)?
        };
        raw.model_version.get_or_insert(model);
        Ok(raw)
    }

    async fn context_window(&self) -> Option<ContextWindow> {
        self.context
            .get_or_init(|| self.discover_context())
            .await
            .clone()
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
            matches!(e, ProviderError::Malformed { ref reason, .. } if reason.contains("tool call"))
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
            classify_error(500, None, body, "m", ""),
            ProviderError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn finish_reasons_and_refusals() {
        let len =
            json!({"choices": [{"message": {"content": "{\"sum"}, "finish_reason": "length"}]});
        assert!(matches!(
            parse_success(&len.to_string(), 512).unwrap_err(),
            ProviderError::Truncated { limit: 512, ref partial, .. } if partial == "{\"sum"
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
        // vLLM leaves keys out; a gateway may write STOP in capitals.
        let sparse = json!({"choices": [{"message": {"content": "{}"}}]});
        assert_eq!(parse_success(&sparse.to_string(), 1).unwrap().text, "{}");
        let upper = json!({"choices": [{"message": {"content": "{}"}, "finish_reason": "STOP"}]});
        assert!(parse_success(&upper.to_string(), 1).is_ok());
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
            "http://localhost:11434/v1/chat/completions",
        );
        assert!(matches!(e, ProviderError::ModelNotFound { ref model, .. } if model == "qwen3"));
        // A 404 that is not about a model: the path is wrong.
        let e = classify_error(
            404,
            None,
            "404 page not found",
            "qwen3",
            "http://localhost:11434/chat/completions",
        );
        assert_eq!(e.state(), "bad_url");
        assert!(e.to_string().starts_with(
            "404 from http://localhost:11434/chat/completions: check OPENAI_BASE_URL"
        ));
        let e = classify_error(
            503,
            None,
            &fixture("llamacpp-error-503-loading-model.json"),
            "m",
            "",
        );
        assert_eq!(
            e,
            ProviderError::Server {
                status: 503,
                message: Some("Loading model".into())
            }
        );
        let flat = r#"{"object":"error","message":"maximum context length is 8192 tokens","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(classify_error(400, None, flat, "m", "").state(), "context");
        let llamacpp = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}"#;
        assert_eq!(
            classify_error(400, None, llamacpp, "m", "").state(),
            "context"
        );
        let other = r#"{"error":{"message":"temperature is not supported","type":"invalid_request_error"}}"#;
        assert_eq!(
            classify_error(400, None, other, "m", "").state(),
            "bad_request"
        );
        let s = classify_error(401, None, r#"{"error": "invalid api key"}"#, "m", "");
        assert!(matches!(s, ProviderError::Auth { status: 401, .. }));
        let rl = classify_error(429, Some(Duration::from_secs(3)), "", "m", "");
        assert_eq!(
            rl.advice(),
            super::super::provider::RetryAdvice::Wait(Duration::from_secs(3))
        );
        // A per-minute 429 without a delay backs off; OpenAI's billing 429 does not retry.
        let bare = classify_error(
            429,
            None,
            r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
            "m",
            "",
        );
        assert_eq!(bare.advice(), super::super::provider::RetryAdvice::Backoff);
        let quota = classify_error(
            429,
            None,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            "m",
            "",
        );
        assert_eq!(quota.state(), "quota");
        assert_eq!(quota.advice(), super::super::provider::RetryAdvice::Never);
    }

    fn req<'a>(schema: &'a Value) -> LlmRequest<'a> {
        LlmRequest {
            prompt: PromptParts {
                system: "sys",
                user: "usr",
                schema,
            },
            followup: None,
            max_output_tokens: 4096,
            on_tokens: None,
        }
    }

    #[test]
    fn request_uses_the_nested_json_schema_form() {
        let schema = json!({"type": "object", "required": ["commands"],
            "properties": {"commands": {"type": "array", "items": {"type": "string", "maxLength": 9}}}});
        let local = WireOptions::for_target("http://127.0.0.1:8080/v1", Some("qwen"));
        let b = request_body(&req(&schema), "qwen3:8b", &local);
        assert_eq!(b["response_format"]["type"], "json_schema");
        assert_eq!(
            b["response_format"]["json_schema"]["name"],
            "gitaiops_answer"
        );
        assert_eq!(b["response_format"]["json_schema"]["strict"], false);
        assert_eq!(
            b.pointer("/response_format/json_schema/schema/properties/commands/items/maxLength"),
            Some(&json!(9))
        );
        assert_eq!(b["messages"][0]["role"], "system");
        assert_eq!(b["max_tokens"], 4096);
        assert!(b.get("max_completion_tokens").is_none());
        assert_eq!(b["temperature"], json!(0.1f32));
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"]["include_usage"], true);

        let openai = WireOptions::for_target("https://api.openai.com/v1", Some("o4-mini"));
        let b = request_body(&req(&schema), "o4-mini", &openai);
        assert_eq!(b["response_format"]["json_schema"]["strict"], true);
        assert_eq!(b["max_completion_tokens"], 4096);
        assert!(b.get("max_tokens").is_none());
        assert!(b.get("temperature").is_none(), "reasoning models refuse it");
        let strict = &b["response_format"]["json_schema"]["schema"];
        assert_eq!(
            super::super::schema::strict_violations(strict),
            Vec::<String>::new()
        );
        let gpt4 =
            WireOptions::for_target("https://myres.openai.azure.com/openai/v1", Some("gpt-4.1"));
        assert!(gpt4.strict_schema && gpt4.temperature.is_some());
    }

    #[test]
    fn reasoning_model_names() {
        for m in [
            "o1",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5.4-mini",
            "openai/gpt-5",
        ] {
            assert!(is_reasoning_model(m), "{m}");
        }
        for m in ["gpt-4.1", "gpt-4o", "qwen3:8b", "omni", "llama3"] {
            assert!(!is_reasoning_model(m), "{m}");
        }
    }

    #[test]
    fn base_url_is_used_as_given() {
        let mk = |u: &str| {
            OpenAiProvider::new(OpenAiConfig {
                base_url: u.into(),
                api_key: None,
                model: Some("m".into()),
                timeout: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(1),
                no_proxy: true,
                wire: WireOptions::for_target(u, None),
            })
        };
        assert_eq!(
            mk("http://localhost:11434/v1").unwrap().chat_url(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            mk("http://localhost:8000/v1/").unwrap().chat_url(),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(
            mk("https://generativelanguage.googleapis.com/v1beta/openai/")
                .unwrap()
                .chat_url(),
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"
        );
        assert_eq!(
            mk("http://127.0.0.1:9/compat").unwrap().chat_url(),
            "http://127.0.0.1:9/compat/chat/completions"
        );
        assert_eq!(
            mk("http://127.0.0.1:9/v1").unwrap().root(),
            "http://127.0.0.1:9"
        );
        assert!(mk("localhost:8000").is_err());
    }

    #[test]
    fn ollama_context_is_num_ctx_or_the_server_default() {
        let show = json!({"model_info": {"qwen2.context_length": 32768}, "parameters": "stop \"<|im_end|>\"\nnum_ctx 16384"});
        assert_eq!(ollama_context(&show), Some(16384));
        let default = json!({"model_info": {"llama.context_length": 131072}});
        assert_eq!(ollama_context(&default), Some(4096));
        assert_eq!(ollama_context(&json!({})), None);
    }
}
