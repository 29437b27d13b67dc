//! Language-model providers: the wire formats of Gemini's `generateContent` and of
//! OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp), every failure as its own state,
//! and what a call costs. A leaf: it knows prompts only as text and a JSON schema, so the
//! planner and the diagnoser both build on it without depending on each other.

pub mod cost;
pub mod gemini;
pub mod openai;
pub mod provider;

use serde_json::Value;

use gemini::GeminiProvider;
use openai::OpenAiProvider;
use provider::{LlmRequest, PromptParts, Provider, ProviderError, RawPlan};

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

    /// One call with a free-form prompt (the diagnoser's): the answer text, or the provider's
    /// error on one line. No retries: the caller falls back to the rules.
    pub async fn ask_text(
        &self,
        system: &str,
        user: &str,
        schema: &Value,
        max_output_tokens: u32,
    ) -> Result<String, String> {
        let req = LlmRequest {
            prompt: PromptParts {
                system,
                user,
                schema,
            },
            followup: None,
            max_output_tokens,
        };
        self.complete(&req)
            .await
            .map(|raw| raw.text)
            .map_err(|e| e.to_string())
    }
}
