//! One planning run: prompt -> provider (with waits, backoff and cancellation) -> strict
//! checking -> at most one corrective re-ask -> result, cached by (provider, model, prompt hash).
//! Nothing here executes a command: results are proposals for the queue.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::fence::Fence;
use super::parse::{Checked, Rejected, check_answer, check_value, salvage};
use super::prompt::{Prompt, PromptOptions, TEMPLATE_VERSION, build_prompt};
use super::rules::{RulesOptions, plan_rules_with};
use super::settings::{PlannerSettings, ProviderKind};
use super::snapshot::JobLogs;
use crate::command::Command;
use crate::gitlab::snapshot::ProjectSnapshot;
use crate::llm::Model;
use crate::llm::cost::{Pricing, cost, list_price};
use crate::llm::gemini::{GeminiConfig, GeminiProvider};
use crate::llm::openai::{OpenAiConfig, OpenAiProvider};
use crate::llm::provider::{
    ContextWindow, Followup, LlmRequest, Provider, ProviderError, RawPlan, RetryAdvice,
    StreamProgress, TokenSink, Usage,
};

/// The backends, chosen at run time: a model, or the offline rules.
// One per planner, built once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    Llm(Model),
    Rules,
}

#[derive(Debug, Clone)]
pub struct PlannerOptions {
    pub prompt: PromptOptions,
    pub rules: RulesOptions,
    pub max_output_tokens: u32,
    /// First backoff after a 5xx or a network error (doubled, with jitter).
    pub backoff_base: Duration,
    /// Longest rate-limit wait honoured; a longer one fails the run with its delay.
    pub max_wait: Duration,
    pub pricing: Option<Pricing>,
    pub cache_ttl: Duration,
    /// Size the prompt budget / the output cap to the context the server reports (they were
    /// not configured).
    pub fit_budget: bool,
    pub fit_output: bool,
    /// Where the settings that fix a failure live (`[planner.openai]`) and the idle timeout in
    /// force, for messages that name them.
    pub section: String,
    pub timeout_secs: u64,
}

impl Default for PlannerOptions {
    fn default() -> Self {
        Self {
            prompt: PromptOptions::default(),
            rules: RulesOptions::default(),
            max_output_tokens: 8_192,
            backoff_base: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            pricing: None,
            cache_ttl: Duration::from_secs(600),
            fit_budget: true,
            fit_output: true,
            section: "[planner]".into(),
            timeout_secs: 120,
        }
    }
}

/// The prompt budget and output cap for a server holding `ctx` tokens: a quarter of the window
/// for the answer (at least 512), three quarters of the rest for the prompt (the estimate counts
/// four characters a token; code and JSON run denser), configured values kept when smaller.
pub fn fit_to_context(ctx: u32, opts: &PlannerOptions) -> (usize, u32) {
    let ctx = ctx as usize;
    let fitted_out = (ctx / 4).clamp(512, 8_192).min(ctx / 2);
    let out = if opts.fit_output {
        fitted_out
    } else {
        (opts.max_output_tokens as usize).min(ctx / 2)
    };
    let room = ctx.saturating_sub(out) * 3 / 4;
    let budget = if opts.fit_budget {
        room.min(super::snapshot::DEFAULT_TOKEN_BUDGET)
    } else {
        opts.prompt.token_budget.min(room)
    };
    (budget.max(1_000), u32::try_from(out).unwrap_or(u32::MAX))
}

/// What the planner looks at.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub snapshot: Arc<ProjectSnapshot>,
    pub logs: JobLogs,
    /// CODEOWNERS and recent commits for reviewer routing (empty unless fetched).
    pub review: super::rules::ReviewData,
    /// Ages in the prompt are relative to this (the server time of the snapshot).
    pub now: Timestamp,
}

impl PlanInput {
    pub fn new(snapshot: Arc<ProjectSnapshot>, logs: JobLogs) -> Self {
        let now = snapshot.fetched_at.unwrap_or_else(Timestamp::now);
        Self {
            snapshot,
            logs,
            review: Default::default(),
            now,
        }
    }
}

/// Where a run is, for the progress line.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The prompt is built: estimated tokens, and how many lines say what was left out.
    Prompt { tokens: usize, omitted: usize },
    /// A call is in flight (1-based, counting retries).
    Asking { attempt: u32 },
    /// Waiting before the next call.
    Waiting { reason: String, secs: f64 },
    /// The answer had problems; asking once more with the validator's errors.
    Reasking { errors: usize },
    /// The same prompt was answered recently: served from the cache.
    Cached,
    /// The server said how much it holds; the prompt and the answer were sized to it.
    Context { tokens: u32, source: String },
    /// The server is reading the prompt (llama.cpp says how far it got).
    ReadingPrompt { done: u64, total: u64 },
    /// The answer is streaming in.
    Streaming { tokens: u64, per_sec: f64 },
}

/// A finished plan: proposals only.
#[derive(Debug, Clone, Serialize)]
pub struct PlanOutcome {
    pub planner: String,
    pub model: String,
    pub summary: String,
    pub commands: Vec<Command>,
    pub rejected: Vec<Rejected>,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    /// Prompt template version, for the audit record of each proposal.
    pub template_version: String,
    pub prompt_hash: String,
    pub prompt_tokens_est: usize,
    pub omitted: Vec<String>,
    pub reasked: bool,
    pub cached: bool,
    /// The answer was cut off; this many complete commands before the cut were kept.
    pub salvaged: Option<usize>,
}

impl PlanOutcome {
    /// `plan --json`: `{planner, model, summary, commands, rejected}`, commands in wire form.
    pub fn wire(&self) -> Value {
        json!({
            "planner": self.planner,
            "model": self.model,
            "summary": self.summary,
            "commands": self.commands,
            "rejected": self.rejected,
        })
    }

    /// "1234 tokens, ~$0.0031" for headers and logs.
    pub fn usage_line(&self) -> String {
        usage_line(&self.usage, self.cost_usd)
    }
}

pub fn usage_line(u: &Usage, cost: Option<f64>) -> String {
    let tokens = format!(
        "{} tokens in, {} out{}",
        u.prompt_tokens,
        u.output_tokens + u.thinking_tokens,
        if u.thinking_tokens > 0 {
            format!(" ({} thinking)", u.thinking_tokens)
        } else {
            String::new()
        }
    );
    match cost {
        Some(c) => format!("{tokens}, ~${c:.4}"),
        None => format!("{tokens}, cost unknown"),
    }
}

/// A run that produced no plan. `message` is one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{planner}: {message}")]
pub struct PlanFailure {
    pub planner: String,
    /// `blocked`, `quota`, `truncated`, `unparseable`, `timeout`, `cancelled`, ...
    pub state: &'static str,
    pub message: String,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
}

/// The planner: one backend, its options, and a small cache.
pub struct Planner {
    backend: Backend,
    model: String,
    opts: PlannerOptions,
    cache: Mutex<BTreeMap<String, (Instant, PlanOutcome)>>,
}

const CACHE_ENTRIES: usize = 16;

impl Planner {
    pub fn new(backend: Backend, opts: PlannerOptions) -> Planner {
        let model = match &backend {
            Backend::Llm(m) => m.model().to_string(),
            Backend::Rules => "rules".to_string(),
        };
        Planner {
            backend,
            model,
            opts,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// The planner the settings describe.
    pub fn from_settings(s: &PlannerSettings) -> Result<Planner, String> {
        let backend = match s.kind {
            ProviderKind::Gemini => Backend::Llm(Model::Gemini(
                GeminiProvider::new(GeminiConfig {
                    api_key: s
                        .api_key
                        .clone()
                        .ok_or("the gemini planner needs GEMINI_API_KEY")?,
                    base_url: s.base_url.clone(),
                    model: s
                        .model
                        .clone()
                        .unwrap_or_else(|| crate::llm::gemini::DEFAULT_MODEL.into()),
                    timeout: s.timeout,
                    connect_timeout: Duration::from_secs(10),
                    no_proxy: s.no_proxy,
                    stream: s.stream,
                })
                .map_err(|e| e.to_string())?,
            )),
            ProviderKind::OpenAi => Backend::Llm(Model::OpenAi(
                OpenAiProvider::new(OpenAiConfig {
                    base_url: s.base_url.clone(),
                    api_key: s.api_key.clone(),
                    model: s.model.clone(),
                    timeout: s.timeout,
                    connect_timeout: Duration::from_secs(10),
                    no_proxy: s.no_proxy,
                    wire: s.wire,
                })
                .map_err(|e| e.to_string())?,
            )),
            ProviderKind::Rules => Backend::Rules,
        };
        let opts = PlannerOptions {
            prompt: PromptOptions {
                token_budget: s.token_budget,
                stale_days: s.stale_days,
                ..PromptOptions::default()
            },
            rules: RulesOptions {
                stale_days: s.stale_days,
                ..RulesOptions::default()
            },
            max_output_tokens: s.max_output_tokens,
            pricing: s.pricing,
            fit_budget: !s.budget_explicit,
            fit_output: !s.output_explicit,
            section: s.section.to_string(),
            timeout_secs: s.timeout.as_secs(),
            ..PlannerOptions::default()
        };
        Ok(Planner::new(backend, opts))
    }

    pub fn options(&self) -> &PlannerOptions {
        &self.opts
    }

    /// `gemini`, `openai`, `rules`.
    pub fn name(&self) -> &'static str {
        match &self.backend {
            Backend::Llm(m) => m.name(),
            Backend::Rules => "rules",
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The model, for a caller that only needs the model (`gitaiops eval`).
    pub fn into_llm(self) -> Option<Model> {
        match self.backend {
            Backend::Llm(m) => Some(m),
            Backend::Rules => None,
        }
    }

    /// The model behind this planner (the diagnoser asks it too); none for the rules.
    pub fn llm(&self) -> Option<&Model> {
        match &self.backend {
            Backend::Llm(m) => Some(m),
            Backend::Rules => None,
        }
    }

    /// What the UI shows: "gemini gemini-3.8-flash", "rules (offline)".
    pub fn label(&self) -> String {
        match self.backend {
            Backend::Rules => "rules (offline)".into(),
            _ => format!("{} {}", self.name(), self.model),
        }
    }

    /// The prompt a run would send (`--dry-prompt`), with a fresh nonce.
    pub fn prompt(&self, input: &PlanInput) -> Prompt {
        self.prompt_with(input, &self.opts.prompt)
    }

    fn prompt_with(&self, input: &PlanInput, opts: &PromptOptions) -> Prompt {
        build_prompt(
            &input.snapshot,
            &input.logs,
            input.now,
            &Fence::random(),
            opts,
        )
    }

    /// The prompt options and output cap for this run: the configured ones, sized down to the
    /// server's context when it reports one.
    async fn fitted(&self, ctx: Option<&ContextWindow>) -> (PromptOptions, u32) {
        let mut prompt = self.opts.prompt.clone();
        let mut out = self.opts.max_output_tokens;
        if let Some(c) = ctx {
            let (budget, cap) = fit_to_context(c.tokens, &self.opts);
            prompt.token_budget = budget;
            out = cap;
        }
        (prompt, out)
    }

    /// What to change when a run fails this way, with the value in force.
    fn hint(&self, e: &ProviderError, budget: usize, ctx: Option<&ContextWindow>) -> String {
        let sec = &self.opts.section;
        let ctx_note = ctx
            .map(|c| format!("; the server holds {} tokens ({})", c.tokens, c.source))
            .unwrap_or_default();
        match e {
            ProviderError::Timeout { .. } => format!(
                " — raise {sec} timeout_secs (now {}) if the server is slow to start answering",
                self.opts.timeout_secs
            ),
            ProviderError::Truncated { limit, .. } => {
                format!(" — raise {sec} max_output_tokens (now {limit}){ctx_note}")
            }
            ProviderError::ContextExceeded { .. } => format!(
                " — lower {sec} token_budget (now {budget}) or give the server a larger context (llama-server -c, Ollama num_ctx){ctx_note}"
            ),
            _ => String::new(),
        }
    }

    fn price(&self, model: &str) -> Option<Pricing> {
        self.opts.pricing.or_else(|| {
            list_price(
                self.name(),
                model,
                Timestamp::now()
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .date(),
            )
        })
    }

    fn failure(&self, state: &'static str, message: String, usage: Usage) -> PlanFailure {
        PlanFailure {
            planner: self.name().to_string(),
            state,
            message,
            usage,
            cost_usd: self.price(&self.model).map(|p| cost(&usage, &p)),
        }
    }

    /// Plans once. `progress` is called as the run moves on; cancelling `cancel` stops it
    /// (the HTTP request in flight is dropped).
    pub async fn plan(
        &self,
        input: &PlanInput,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<PlanOutcome, PlanFailure> {
        let mut out = match &self.backend {
            Backend::Rules => Ok(self.plan_rules(input)),
            Backend::Llm(Model::Gemini(p)) => self.plan_llm(p, input, progress, cancel).await,
            Backend::Llm(Model::OpenAi(p)) => self.plan_llm(p, input, progress, cancel).await,
        };
        if let Ok(o) = &mut out {
            super::security::apply(
                &mut o.summary,
                &mut o.commands,
                &input.snapshot,
                &input.logs,
            );
        }
        out
    }

    fn plan_rules(&self, input: &PlanInput) -> PlanOutcome {
        let plan = plan_rules_with(
            &input.snapshot,
            &input.logs,
            input.now,
            &self.opts.rules,
            &input.review,
        );
        let value = serde_json::to_value(&plan).unwrap_or(Value::Null);
        let checked = check_value(&value, &input.snapshot).unwrap_or_default();
        tracing::info!(
            planner = "rules",
            commands = checked.commands.len(),
            rejected = checked.rejected.len(),
            "plan ready"
        );
        PlanOutcome {
            planner: "rules".into(),
            model: "rules".into(),
            summary: checked.summary,
            commands: checked.commands,
            rejected: checked.rejected,
            usage: Usage::default(),
            cost_usd: Some(0.0),
            template_version: TEMPLATE_VERSION.clone(),
            prompt_hash: String::new(),
            prompt_tokens_est: 0,
            omitted: Vec::new(),
            reasked: false,
            cached: false,
            salvaged: None,
        }
    }

    async fn plan_llm<P: Provider>(
        &self,
        provider: &P,
        input: &PlanInput,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<PlanOutcome, PlanFailure> {
        let ctx = provider.context_window().await;
        if let Some(c) = &ctx {
            progress(Progress::Context {
                tokens: c.tokens,
                source: c.source.clone(),
            });
        }
        let (prompt_opts, max_output_tokens) = self.fitted(ctx.as_ref()).await;
        let prompt = self.prompt_with(input, &prompt_opts);
        progress(Progress::Prompt {
            tokens: prompt.est_tokens,
            omitted: prompt.omitted.len(),
        });
        let key = format!("{}|{}|{}", provider.name(), provider.model(), prompt.hash());
        if let Some(hit) = self.cached(&key) {
            progress(Progress::Cached);
            return Ok(hit);
        }
        let snap = &input.snapshot;
        let mut usage = Usage::default();
        let on_tokens = |p: StreamProgress| {
            progress(if p.tokens == 0 && p.prompt_total > 0 {
                Progress::ReadingPrompt {
                    done: p.prompt_done,
                    total: p.prompt_total,
                }
            } else {
                Progress::Streaming {
                    tokens: p.tokens,
                    per_sec: p.per_sec,
                }
            })
        };
        let sink = TokenSink(&on_tokens);
        let req = LlmRequest {
            prompt: prompt.parts(),
            followup: None,
            max_output_tokens,
            on_tokens: Some(sink),
        };
        let budget = prompt_opts.token_budget;
        let fail = |e: &ProviderError, usage: Usage| {
            let mut f = self.provider_failure(e, usage);
            f.message.push_str(&self.hint(e, budget, ctx.as_ref()));
            f
        };
        let first = match self.call(provider, req, progress, cancel, &mut usage).await {
            Ok(raw) => raw,
            Err(ProviderError::Truncated {
                limit,
                partial,
                usage: spent,
            }) => {
                // Keep the complete commands before the cut rather than asking for it all again.
                match salvage(&partial).and_then(|v| check_value(&v, snap).ok()) {
                    Some(c) if !c.commands.is_empty() => {
                        return Ok(self.finish_salvaged(provider, &prompt, c, limit, usage));
                    }
                    _ => {
                        let _ = spent;
                        // Nothing complete: once more with room for a longer answer.
                        let cap = ctx.as_ref().map_or(65_536, |c| c.tokens / 2).max(limit);
                        let retry = LlmRequest {
                            max_output_tokens: limit.saturating_mul(2).min(cap),
                            ..req
                        };
                        match self
                            .call(provider, retry, progress, cancel, &mut usage)
                            .await
                        {
                            Ok(raw) => raw,
                            Err(e @ ProviderError::Truncated { .. }) => {
                                if let ProviderError::Truncated { partial, limit, .. } = &e
                                    && let Some(c) =
                                        salvage(partial).and_then(|v| check_value(&v, snap).ok())
                                    && !c.commands.is_empty()
                                {
                                    return Ok(
                                        self.finish_salvaged(provider, &prompt, c, *limit, usage)
                                    );
                                }
                                return Err(fail(&e, usage));
                            }
                            Err(e) => return Err(fail(&e, usage)),
                        }
                    }
                }
            }
            Err(e) => return Err(fail(&e, usage)),
        };
        let mut model = first
            .model_version
            .clone()
            .unwrap_or_else(|| provider.model().to_string());
        let first_check = check_answer(&first.text, snap);
        let needs_reask = match &first_check {
            Ok(c) => !c.rejected.is_empty(),
            Err(_) => true,
        };
        let mut reasked = false;
        let checked: Checked = if !needs_reask {
            first_check.unwrap_or_default()
        } else {
            let errors = match &first_check {
                Ok(c) => c.errors(),
                Err(e) => vec![e.clone()],
            };
            progress(Progress::Reasking {
                errors: errors.len(),
            });
            reasked = true;
            let correction = Prompt::reask(&errors);
            let req2 = LlmRequest {
                prompt: prompt.parts(),
                followup: Some(Followup {
                    previous: &first,
                    correction: &correction,
                }),
                ..req
            };
            let second = self
                .call(provider, req2, progress, cancel, &mut usage)
                .await;
            match (first_check, second) {
                (first_check, Ok(raw)) => {
                    if let Some(m) = &raw.model_version {
                        model = m.clone();
                    }
                    match (check_answer(&raw.text, snap), first_check) {
                        (Ok(mut c2), first) => {
                            // What the first answer proposed and lost stays visible.
                            if let Ok(c1) = first {
                                c2.rejected
                                    .extend(c1.rejected.into_iter().map(|r| Rejected {
                                        raw: r.raw,
                                        reason: format!("first answer: {}", r.reason),
                                    }));
                            }
                            c2
                        }
                        (Err(_), Ok(c1)) => c1,
                        (Err(e2), Err(_)) => {
                            return Err(self.failure(
                                "unparseable",
                                format!("answer unusable after one corrective re-ask: {e2}"),
                                usage,
                            ));
                        }
                    }
                }
                (Ok(c1), Err(e)) => {
                    if matches!(e, ProviderError::Cancelled) {
                        return Err(self.provider_failure(&e, usage));
                    }
                    tracing::warn!(
                        state = e.state(),
                        "corrective re-ask failed; keeping the first answer"
                    );
                    c1
                }
                (Err(parse), Err(e)) => {
                    return Err(self.failure(
                        e.state(),
                        format!("answer unusable ({parse}) and the re-ask failed: {e}"),
                        usage,
                    ));
                }
            }
        };
        let cost_usd = self.price(&model).map(|p| cost(&usage, &p));
        let outcome = PlanOutcome {
            planner: provider.name().to_string(),
            model,
            summary: checked.summary,
            commands: checked.commands,
            rejected: checked.rejected,
            usage,
            cost_usd,
            template_version: prompt.template_version.clone(),
            prompt_hash: prompt.hash(),
            prompt_tokens_est: prompt.est_tokens,
            omitted: prompt.omitted.clone(),
            reasked,
            cached: false,
            salvaged: None,
        };
        tracing::info!(
            planner = outcome.planner,
            model = outcome.model,
            commands = outcome.commands.len(),
            rejected = outcome.rejected.len(),
            reasked,
            prompt_tokens = usage.prompt_tokens,
            output_tokens = usage.output_tokens + usage.thinking_tokens,
            "plan ready"
        );
        self.store(key, &outcome);
        Ok(outcome)
    }

    /// A plan from the complete commands of a cut-off answer.
    fn finish_salvaged<P: Provider>(
        &self,
        provider: &P,
        prompt: &Prompt,
        checked: Checked,
        limit: u32,
        usage: Usage,
    ) -> PlanOutcome {
        let n = checked.commands.len();
        let note = format!(
            "[salvaged: the answer was cut off at the output limit of {limit} tokens ({} max_output_tokens); the {n} complete command(s) before the cut were kept and checked]",
            self.opts.section
        );
        let summary = if checked.summary.trim().is_empty() {
            note
        } else {
            format!("{note} {}", checked.summary)
        };
        tracing::warn!(
            planner = provider.name(),
            salvaged = n,
            limit,
            "answer truncated; complete commands kept"
        );
        PlanOutcome {
            planner: provider.name().to_string(),
            model: provider.model().to_string(),
            summary,
            commands: checked.commands,
            rejected: checked.rejected,
            usage,
            cost_usd: self.price(provider.model()).map(|p| cost(&usage, &p)),
            template_version: prompt.template_version.clone(),
            prompt_hash: prompt.hash(),
            prompt_tokens_est: prompt.est_tokens,
            omitted: prompt.omitted.clone(),
            reasked: false,
            cached: false,
            salvaged: Some(n),
        }
    }

    fn provider_failure(&self, e: &ProviderError, usage: Usage) -> PlanFailure {
        tracing::warn!(
            planner = self.name(),
            state = e.state(),
            "planner call failed: {e}"
        );
        self.failure(e.state(), e.to_string(), usage)
    }

    /// One logical call: retried on rate limits (waiting what the server said), 5xx and
    /// network errors (backoff), truncation (once, with a larger cap) and empty answers (once).
    async fn call<P: Provider>(
        &self,
        provider: &P,
        req: LlmRequest<'_>,
        progress: &(dyn Fn(Progress) + Send + Sync),
        cancel: &CancellationToken,
        usage: &mut Usage,
    ) -> Result<RawPlan, ProviderError> {
        let (mut waits, mut backoffs, mut once) = (0u32, 0u32, false);
        let mut attempt = 0;
        loop {
            attempt += 1;
            progress(Progress::Asking { attempt });
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(ProviderError::Cancelled),
                r = provider.complete(&req) => r,
            };
            let err = match result {
                Ok(raw) => {
                    usage.add(&raw.usage);
                    return Ok(raw);
                }
                Err(e) => e,
            };
            let spent = err.usage();
            usage.add(&Usage {
                calls: spent.calls.max(1),
                ..spent
            });
            let wait = match err.advice() {
                RetryAdvice::Wait(d) if waits < 2 && d <= self.opts.max_wait => {
                    waits += 1;
                    Some((format!("rate limited by {}", provider.name()), d))
                }
                RetryAdvice::Backoff if backoffs < 2 => {
                    let wait = crate::net::backoff_delay(
                        backoffs,
                        self.opts.backoff_base,
                        self.opts.max_wait,
                        fastrand::f64(),
                    );
                    backoffs += 1;
                    Some((err.to_string(), wait))
                }
                // Truncation is the caller's: it keeps what was complete first.
                RetryAdvice::Once if !once && !matches!(err, ProviderError::Truncated { .. }) => {
                    once = true;
                    Some((err.to_string(), Duration::ZERO))
                }
                _ => None,
            };
            let Some((reason, d)) = wait else {
                return Err(err);
            };
            tracing::info!(
                planner = provider.name(),
                state = err.state(),
                wait_ms = d.as_millis() as u64,
                "retrying"
            );
            if !d.is_zero() {
                progress(Progress::Waiting {
                    reason,
                    secs: d.as_secs_f64(),
                });
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Err(ProviderError::Cancelled),
                    _ = tokio::time::sleep(d) => {}
                }
            }
        }
    }

    fn cached(&self, key: &str) -> Option<PlanOutcome> {
        let cache = self.cache.lock().ok()?;
        let (at, outcome) = cache.get(key)?;
        (at.elapsed() < self.opts.cache_ttl).then(|| PlanOutcome {
            cached: true,
            usage: Usage::default(),
            cost_usd: Some(0.0),
            ..outcome.clone()
        })
    }

    fn store(&self, key: String, outcome: &PlanOutcome) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, (at, _)| at.elapsed() < self.opts.cache_ttl);
            if cache.len() >= CACHE_ENTRIES
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
            cache.insert(key, (Instant::now(), outcome.clone()));
        }
    }
}

/// Messages from a background run to the UI. `run` is the number `spawn_plan` was given, so the
/// UI can drop messages of a run it has given up on.
#[derive(Debug, Clone)]
pub enum PlanEvent {
    Progress {
        run: u64,
        progress: Progress,
    },
    /// Boxed: an outcome is large and progress messages are many.
    Finished {
        run: u64,
        result: Box<Result<PlanOutcome, PlanFailure>>,
    },
}

/// A run in the background. Dropping the handle cancels the run.
pub struct PlanHandle {
    pub run: u64,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl PlanHandle {
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for PlanHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Starts a run on the tokio runtime. Progress is sent best-effort (dropped when the channel is
/// full); `Finished` is always sent unless the receiver is gone.
pub fn spawn_plan(
    planner: Arc<Planner>,
    input: PlanInput,
    run: u64,
    tx: mpsc::Sender<PlanEvent>,
) -> PlanHandle {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = tokio::spawn(async move {
        let ptx = tx.clone();
        let progress = move |p: Progress| {
            let _ = ptx.try_send(PlanEvent::Progress { run, progress: p });
        };
        let result = planner.plan(&input, &progress, &token).await;
        let _ = tx
            .send(PlanEvent::Finished {
                run,
                result: Box::new(result),
            })
            .await;
    });
    PlanHandle { run, cancel, task }
}
