//! Language-model providers: the wire formats of Gemini's `generateContent` and of
//! OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp), every failure as its own state,
//! and what a call costs. A leaf: it knows prompts only as text and a JSON schema, so the
//! planner and the diagnoser both build on it without depending on each other.

pub mod cost;
pub mod gemini;
pub mod openai;
pub mod provider;
pub mod schema;
pub mod stream;

use serde_json::Value;

use gemini::GeminiProvider;
use openai::OpenAiProvider;
use provider::{ContextWindow, LlmRequest, PromptParts, Provider, ProviderError, RawPlan};

/// A configured model: one of the providers, chosen at run time.
pub enum Model {
    Gemini(GeminiProvider),
    OpenAi(OpenAiProvider),
}

impl Model {
    /// `gemini`, `openai`.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Gemini(p) => p.name(),
            Model::OpenAi(p) => p.name(),
        }
    }

    /// The model name as configured ("server default" is the provider's to say).
    pub fn model(&self) -> &str {
        match self {
            Model::Gemini(p) => p.model(),
            Model::OpenAi(p) => p.model(),
        }
    }

    /// One call, no retries (the caller decides).
    pub async fn complete(&self, req: &LlmRequest<'_>) -> Result<RawPlan, ProviderError> {
        match self {
            Model::Gemini(p) => p.complete(req).await,
            Model::OpenAi(p) => p.complete(req).await,
        }
    }

    /// The server's context window, when it says.
    pub async fn context_window(&self) -> Option<ContextWindow> {
        match self {
            Model::Gemini(p) => p.context_window().await,
            Model::OpenAi(p) => p.context_window().await,
        }
    }

    /// The model that will answer: the configured name, or the one an OpenAI-compatible
    /// server lists first when none is configured.
    pub async fn model_in_use(&self) -> String {
        match self {
            Model::Gemini(p) => p.model().to_string(),
            Model::OpenAi(p) => p
                .model_name()
                .await
                .unwrap_or_else(|_| p.model().to_string()),
        }
    }

    /// One call with a free-form prompt (the diagnoser's): the answer with the model that gave
    /// it. No retries: the caller falls back to the rules.
    pub async fn ask(
        &self,
        system: &str,
        user: &str,
        schema: &Value,
        max_output_tokens: u32,
    ) -> Result<RawPlan, ProviderError> {
        let req = LlmRequest {
            prompt: PromptParts {
                system,
                user,
                schema,
            },
            followup: None,
            max_output_tokens,
            on_tokens: None,
        };
        self.complete(&req).await
    }

    /// [`Model::ask`], the answer text or the error on one line.
    pub async fn ask_text(
        &self,
        system: &str,
        user: &str,
        schema: &Value,
        max_output_tokens: u32,
    ) -> Result<String, String> {
        self.ask(system, user, schema, max_output_tokens)
            .await
            .map(|raw| raw.text)
            .map_err(|e| e.to_string())
    }
}
