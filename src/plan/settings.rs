//! Which planner runs, and with what: `--provider` / `[planner] provider`, else Gemini when
//! `GEMINI_API_KEY` is set, else an OpenAI-compatible server when `OPENAI_BASE_URL` is set,
//! else the offline rules.
//!
//! Timeouts and budgets differ between a cloud API and a model on a CPU next door: a server on
//! a loopback or private address gets a longer idle timeout and a smaller prompt, and either
//! is sized to the context the server reports (`plan::run`). `[planner.openai]` and
//! `[planner.gemini]` override `[planner]` for their provider.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::llm::cost::Pricing;
use crate::llm::gemini;
use crate::llm::openai::{TokenField, WireOptions};
use serde::{Deserialize, Serialize};

/// `[planner]` in the config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlannerSection {
    /// gemini, openai or rules
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Prompt token budget (default 32000)
    pub token_budget: Option<usize>,
    /// Plan automatically every N seconds (off when unset)
    pub interval_secs: Option<u64>,
    /// Provider base URL when GEMINI_BASE_URL / OPENAI_BASE_URL are unset
    pub base_url: Option<String>,
    /// Seconds before a model call is cancelled (default 120)
    pub timeout_secs: Option<u64>,
    /// Output cap per call, thinking included (default 8192)
    pub max_output_tokens: Option<u32>,
    /// Quiet seconds after a new failure or MR before planning (default 20)
    pub debounce_secs: Option<u64>,
    /// Days without activity that make an MR stale (default 7)
    pub stale_days: Option<i64>,
    /// USD per million input / output tokens, overriding the built-in list prices
    pub price_input_per_mtok: Option<f64>,
    pub price_output_per_mtok: Option<f64>,
    /// Settings for the Gemini provider only
    pub gemini: ProviderSection,
    /// Settings for OpenAI-compatible servers only
    pub openai: ProviderSection,
}

/// `[planner.gemini]` / `[planner.openai]`: what differs between a cloud API and a local server.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderSection {
    /// Seconds without any data from the server before a call is given up (the wait for the
    /// first token included). Default 120; 600 for a server on a loopback or private address
    pub timeout_secs: Option<u64>,
    /// Prompt token budget. Default 32000; 6000 for a local server; never more than the
    /// context the server reports leaves room for
    pub token_budget: Option<usize>,
    /// Output cap per call, thinking included. Default 8192; 2048 for a local server
    pub max_output_tokens: Option<u32>,
    /// Stream answers (progress and an idle timeout). Default true
    pub stream: Option<bool>,
    /// openai: "strict" (OpenAI's Structured Outputs rules) or "relaxed" (bounded, for
    /// llama.cpp/Ollama/vLLM). Default strict for api.openai.com and Azure, else relaxed
    pub schema: Option<String>,
    /// openai: "max_tokens" or "max_completion_tokens". Default max_completion_tokens for
    /// api.openai.com and Azure, else max_tokens
    pub token_param: Option<String>,
    /// openai: sampling temperature; a negative value leaves it out. Default 0.1, none for
    /// OpenAI's reasoning models
    pub temperature: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Gemini,
    OpenAi,
    Rules,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Rules => "rules",
        }
    }
}

/// Everything the planner needs, resolved from flags, environment and the config file.
#[derive(Clone)]
pub struct PlannerSettings {
    pub kind: ProviderKind,
    /// How the kind was chosen, for the UI ("--provider", "GEMINI_API_KEY is set", ...).
    pub chosen_by: String,
    pub model: Option<String>,
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub token_budget: usize,
    /// The budget was configured (else it is sized to the server's context).
    pub budget_explicit: bool,
    /// Idle timeout: the longest silence from the server.
    pub timeout: Duration,
    pub max_output_tokens: u32,
    pub output_explicit: bool,
    /// The server is on a loopback or private address.
    pub local: bool,
    /// Where the provider's settings live, for messages: `[planner.openai]`.
    pub section: &'static str,
    pub stream: bool,
    /// What the OpenAI-compatible target expects on the wire.
    pub wire: WireOptions,
    pub interval: Option<Duration>,
    pub debounce: Duration,
    pub stale_days: i64,
    pub pricing: Option<Pricing>,
    /// Bypass HTTPS_PROXY (loopback servers in tests).
    pub no_proxy: bool,
}

impl std::fmt::Debug for PlannerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannerSettings")
            .field("kind", &self.kind)
            .field("chosen_by", &self.chosen_by)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

/// Resolves the planner. `section.provider` already holds `--provider` when given (the config
/// loader merges it); `model_flag` is `plan --model`. `env` looks a variable up.
pub fn resolve(
    section: &PlannerSection,
    model_flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PlannerSettings, String> {
    let var = |k: &str| {
        env(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let gemini_key = var("GEMINI_API_KEY");
    let openai_base = var("OPENAI_BASE_URL");
    let explicit = section
        .provider
        .as_deref()
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty() && p != "auto");
    let (kind, chosen_by) = match explicit.as_deref() {
        Some("gemini") => (ProviderKind::Gemini, "configured".to_string()),
        Some("openai") => (ProviderKind::OpenAi, "configured".to_string()),
        Some("rules") => (ProviderKind::Rules, "configured".to_string()),
        Some(other) => {
            return Err(format!(
                "unknown planner provider \"{}\": use gemini, openai or rules",
                other.chars().take(40).collect::<String>()
            ));
        }
        None if gemini_key.is_some() => (ProviderKind::Gemini, "GEMINI_API_KEY is set".into()),
        None if openai_base.is_some() => (ProviderKind::OpenAi, "OPENAI_BASE_URL is set".into()),
        None => (
            ProviderKind::Rules,
            "no GEMINI_API_KEY or OPENAI_BASE_URL".into(),
        ),
    };
    let flag_model = model_flag
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(String::from);
    let config_model = section.model.clone().filter(|m| !m.trim().is_empty());
    let (model, base_url, api_key) = match kind {
        ProviderKind::Gemini => {
            let key = gemini_key.ok_or_else(|| {
                "the gemini planner needs GEMINI_API_KEY (or choose --provider openai/rules)"
                    .to_string()
            })?;
            (
                flag_model
                    .or_else(|| var("GEMINI_MODEL"))
                    .or(config_model)
                    .or_else(|| Some(gemini::DEFAULT_MODEL.to_string())),
                var("GEMINI_BASE_URL")
                    .or_else(|| section.base_url.clone())
                    .unwrap_or_else(|| gemini::DEFAULT_BASE_URL.to_string()),
                Some(SecretString::from(key)),
            )
        }
        ProviderKind::OpenAi => (
            flag_model.or_else(|| var("OPENAI_MODEL")).or(config_model),
            openai_base
                .or_else(|| section.base_url.clone())
                .ok_or_else(|| {
                    "the openai planner needs OPENAI_BASE_URL, used as given (e.g. http://localhost:11434/v1 for Ollama, http://localhost:8080/v1 for llama.cpp)"
                        .to_string()
                })?,
            var("OPENAI_API_KEY").map(SecretString::from),
        ),
        ProviderKind::Rules => (Some("rules".into()), String::new(), None),
    };
    let (own, name): (&ProviderSection, &'static str) = match kind {
        ProviderKind::Gemini => (&section.gemini, "[planner.gemini]"),
        _ => (&section.openai, "[planner.openai]"),
    };
    let local = kind != ProviderKind::Rules && is_local_url(&base_url);
    let timeout_secs = own
        .timeout_secs
        .or(section.timeout_secs)
        .unwrap_or(if local { 600 } else { 120 })
        .clamp(1, 7_200);
    let budget = own.token_budget.or(section.token_budget);
    let output = own.max_output_tokens.or(section.max_output_tokens);
    let mut wire = WireOptions::for_target(&base_url, model.as_deref());
    match own.schema.as_deref().map(str::trim) {
        None | Some("") | Some("auto") => {}
        Some("strict") => wire.strict_schema = true,
        Some("relaxed") => wire.strict_schema = false,
        Some(other) => {
            return Err(format!(
                "{name} schema = \"{}\": use strict or relaxed",
                other.chars().take(40).collect::<String>()
            ));
        }
    }
    match own.token_param.as_deref().map(str::trim) {
        None | Some("") | Some("auto") => {}
        Some("max_tokens") => wire.token_field = TokenField::MaxTokens,
        Some("max_completion_tokens") => wire.token_field = TokenField::MaxCompletionTokens,
        Some(other) => {
            return Err(format!(
                "{name} token_param = \"{}\": use max_tokens or max_completion_tokens",
                other.chars().take(40).collect::<String>()
            ));
        }
    }
    if let Some(t) = own.temperature {
        wire.temperature = (t >= 0.0 && t.is_finite()).then_some(t.min(2.0));
    }
    let stream = own.stream.unwrap_or(true);
    wire.stream = stream;
    let pricing = match (section.price_input_per_mtok, section.price_output_per_mtok) {
        (None, None) => None,
        (i, o) => Some(Pricing {
            input_per_mtok: i.unwrap_or(0.0).max(0.0),
            output_per_mtok: o.unwrap_or(0.0).max(0.0),
        }),
    };
    Ok(PlannerSettings {
        kind,
        chosen_by,
        model,
        base_url,
        api_key,
        token_budget: budget
            .unwrap_or(if local {
                LOCAL_TOKEN_BUDGET
            } else {
                super::snapshot::DEFAULT_TOKEN_BUDGET
            })
            .clamp(2_000, 900_000),
        budget_explicit: budget.is_some(),
        timeout: Duration::from_secs(timeout_secs),
        max_output_tokens: output
            .unwrap_or(if local { 2_048 } else { 8_192 })
            .clamp(256, 65_536),
        output_explicit: output.is_some(),
        local,
        section: name,
        stream,
        wire,
        interval: section
            .interval_secs
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(s.max(60))),
        debounce: Duration::from_secs(section.debounce_secs.unwrap_or(20).min(3_600)),
        stale_days: section.stale_days.unwrap_or(7).max(1),
        pricing,
        no_proxy: false,
    })
}

/// Prompt budget for a local server that does not say its context: fits 8192 tokens with the
/// answer.
pub const LOCAL_TOKEN_BUDGET: usize = 6_000;

/// A server on this machine or a private network (loopback, RFC 1918, link-local, ULA): a
/// CPU-bound server more likely than a cloud API.
pub fn is_local_url(url: &str) -> bool {
    if crate::net::is_loopback_url(url) {
        return true;
    }
    let Some(host) = crate::net::parse_lenient(url).and_then(|u| {
        u.host_str()
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
    }) else {
        return false;
    };
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_private() || a.is_link_local(),
        Ok(std::net::IpAddr::V6(a)) => {
            let first = a.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => host.ends_with(".local") || host.ends_with(".internal"),
    }
}

impl PlannerSettings {
    pub fn has_key(&self) -> bool {
        self.api_key
            .as_ref()
            .is_some_and(|k| !k.expose_secret().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| v.iter().find(|(n, _)| n == k).map(|(_, x)| x.clone())
    }

    #[test]
    fn selection_order() {
        let none = PlannerSection::default();
        let s = resolve(&none, None, &env(&[])).unwrap();
        assert_eq!(s.kind, ProviderKind::Rules);
        let s = resolve(
            &none,
            None,
            &env(&[("OPENAI_BASE_URL", "http://127.0.0.1:8000")]),
        )
        .unwrap();
        assert_eq!(s.kind, ProviderKind::OpenAi);
        let both = env(&[("OPENAI_BASE_URL", "http://x"), ("GEMINI_API_KEY", "k")]);
        let s = resolve(&none, None, &both).unwrap();
        assert_eq!(s.kind, ProviderKind::Gemini);
        assert_eq!(s.model.as_deref(), Some("gemini-3.8-flash"));
        assert_eq!(s.base_url, "https://generativelanguage.googleapis.com");
        let rules = PlannerSection {
            provider: Some("rules".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&rules, None, &both).unwrap().kind,
            ProviderKind::Rules
        );
    }

    #[test]
    fn explicit_choice_needs_its_settings() {
        let g = PlannerSection {
            provider: Some("Gemini".into()),
            ..Default::default()
        };
        assert!(
            resolve(&g, None, &env(&[]))
                .unwrap_err()
                .contains("GEMINI_API_KEY")
        );
        let o = PlannerSection {
            provider: Some("openai".into()),
            ..Default::default()
        };
        assert!(
            resolve(&o, None, &env(&[]))
                .unwrap_err()
                .contains("OPENAI_BASE_URL")
        );
        let bad = PlannerSection {
            provider: Some("claude".into()),
            ..Default::default()
        };
        assert!(
            resolve(&bad, None, &env(&[]))
                .unwrap_err()
                .contains("unknown planner provider")
        );
    }

    #[test]
    fn model_and_base_url_precedence() {
        let sec = PlannerSection {
            model: Some("cfg-model".into()),
            ..Default::default()
        };
        let e = env(&[
            ("GEMINI_API_KEY", "k"),
            ("GEMINI_MODEL", "gemini-3.6-flash"),
            ("GEMINI_BASE_URL", "http://127.0.0.1:1"),
        ]);
        let s = resolve(&sec, Some("gemini-3.5-flash-lite"), &e).unwrap();
        assert_eq!(s.model.as_deref(), Some("gemini-3.5-flash-lite"));
        assert_eq!(s.base_url, "http://127.0.0.1:1");
        let s = resolve(&sec, None, &e).unwrap();
        assert_eq!(s.model.as_deref(), Some("gemini-3.6-flash"));
        assert!(format!("{s:?}").contains("(set)"));
        assert!(!format!("{s:?}").contains("\"k\""));
    }

    #[test]
    fn a_local_server_gets_local_defaults_and_its_own_section_wins() {
        let none = PlannerSection::default();
        let local = resolve(
            &none,
            None,
            &env(&[("OPENAI_BASE_URL", "http://192.168.1.20:8080/v1")]),
        )
        .unwrap();
        assert!(local.local);
        assert_eq!(local.timeout, Duration::from_secs(600));
        assert_eq!(local.token_budget, LOCAL_TOKEN_BUDGET);
        assert_eq!(local.max_output_tokens, 2_048);
        assert!(!local.budget_explicit && !local.output_explicit);
        assert!(!local.wire.strict_schema);
        assert_eq!(local.wire.token_field, TokenField::MaxTokens);
        assert_eq!(local.section, "[planner.openai]");
        let cloud = resolve(
            &none,
            Some("o4-mini"),
            &env(&[("OPENAI_BASE_URL", "https://api.openai.com/v1")]),
        )
        .unwrap();
        assert!(!cloud.local);
        assert_eq!(cloud.timeout, Duration::from_secs(120));
        assert!(cloud.wire.strict_schema);
        assert_eq!(cloud.wire.token_field, TokenField::MaxCompletionTokens);
        assert_eq!(
            cloud.wire.temperature, None,
            "reasoning models refuse temperature"
        );
        let own = PlannerSection {
            timeout_secs: Some(50),
            openai: ProviderSection {
                timeout_secs: Some(900),
                token_budget: Some(4_000),
                schema: Some("strict".into()),
                token_param: Some("max_completion_tokens".into()),
                temperature: Some(-1.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let s = resolve(
            &own,
            None,
            &env(&[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")]),
        )
        .unwrap();
        assert_eq!(s.timeout, Duration::from_secs(900));
        assert_eq!(s.token_budget, 4_000);
        assert!(s.budget_explicit);
        assert!(s.wire.strict_schema);
        assert_eq!(s.wire.token_field, TokenField::MaxCompletionTokens);
        assert_eq!(s.wire.temperature, None);
        let bad = PlannerSection {
            openai: ProviderSection {
                schema: Some("loose".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(
            resolve(&bad, None, &env(&[("OPENAI_BASE_URL", "http://x")]))
                .unwrap_err()
                .contains("strict or relaxed")
        );
        assert!(!is_local_url("https://api.openai.com/v1"));
        assert!(is_local_url("http://10.0.0.5:11434"));
        assert!(is_local_url("http://[fd00::1]:8000"));
    }
}
