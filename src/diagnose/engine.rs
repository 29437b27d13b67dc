//! Which engine diagnoses: the rules, or the configured model with the rules as fallback.
//! Shared by the TUI's `d`, `gitaiops diagnose` and `gitaiops eval logdx`.

use std::sync::Arc;

use super::llm;
use super::log::LogIndex;
use super::model::{Diagnosis, JobContext};
use super::rules;
use crate::llm::Model;

/// Token budget of the log excerpt sent to a model.
pub const LLM_EXCERPT_BUDGET: usize = 6_000;

/// The rules engine off the async workers (matching a multi-megabyte trace is CPU work).
pub async fn rules_async(index: Arc<LogIndex>, ctx: JobContext) -> Result<Diagnosis, String> {
    tokio::task::spawn_blocking(move || {
        let d = rules::diagnose(&index, &ctx);
        // Called for one log at a time, seconds apart (the TUI): no warm cache is kept.
        super::extract::release_cache();
        d
    })
    .await
    .map_err(|e| format!("diagnosis failed: {e}"))
}

/// The model when one is configured, else the rules. Returns the diagnosis and a label of the
/// engine that produced it; a model failure falls back to the rules and says why.
pub async fn diagnose_with_model(
    model: Option<&Model>,
    max_output_tokens: u32,
    index: Arc<LogIndex>,
    ctx: JobContext,
) -> (Result<Diagnosis, String>, String) {
    let Some(model) = model else {
        return (rules_async(index, ctx).await, "rules".into());
    };
    // The model that will answer, not "(server default)": an OpenAI-compatible server without
    // a configured model is asked which one it serves.
    let mut label = format!("{} {}", model.name(), model.model_in_use().await);
    // Extraction and the rules hint read the whole trace: CPU work kept off the async workers,
    // like `rules_async`.
    let (ix, cx) = (index.clone(), ctx.clone());
    let prompt = tokio::task::spawn_blocking(move || {
        let ex = super::extract::extract(&ix);
        let rules = rules::diagnose_extracted(&ix, &ex, &cx);
        (llm::build_prompt(&ix, &ex, &cx, LLM_EXCERPT_BUDGET), rules)
    })
    .await;
    let answer = match prompt {
        Ok((p, rules)) => match model
            .ask(&p.system, &p.user, &p.schema, max_output_tokens)
            .await
        {
            Ok(raw) => {
                if let Some(m) = &raw.model_version {
                    label = format!("{} {m}", model.name());
                }
                llm::parse_answer(&raw.text, &index, &ctx)
                    .map(|d| temper(d, &rules))
                    .map_err(llm::LlmError::from)
            }
            Err(e) => Err(llm::LlmError::Provider(e.to_string())),
        },
        Err(e) => Err(llm::LlmError::Provider(format!("diagnosis failed: {e}"))),
    };
    match answer {
        Ok(d) => (Ok(d), label),
        Err(e) => {
            let why = crate::redact::redact_owned(e.to_string());
            let why: String = why.split_whitespace().collect::<Vec<_>>().join(" ");
            (
                rules_async(index, ctx).await,
                format!("rules ({label} failed: {why})"),
            )
        }
    }
}

/// The model only, for evaluation: a failure is the case's result, not a silent fallback.
pub async fn model_only(
    model: &Model,
    max_output_tokens: u32,
    index: &LogIndex,
    ctx: &JobContext,
) -> anyhow::Result<Diagnosis> {
    llm::diagnose_with(index, ctx, LLM_EXCERPT_BUDGET, |p| async move {
        model
            .ask_text(&p.system, &p.user, &p.schema, max_output_tokens)
            .await
    })
    .await
    // What the product shows: the same check against the rules as `diagnose_with_model`.
    .map(|d| temper(d, &rules::diagnose(index, ctx)))
    .map_err(|e| anyhow::anyhow!(crate::redact::redact_owned(e.to_string())))
}

/// The most a model's answer may claim when the rules engine, reading the same log, names
/// another category: below the 0.6 at which the screen calls a diagnosis confident. The model
/// proposes; its own confidence is not a fact (a 135M model answered a missing make target
/// as a test failure "at 0.70").
pub const DISPUTED_CONFIDENCE: f64 = 0.5;

/// A model's diagnosis checked against the rules' on the same log.
pub fn temper(mut model: Diagnosis, rules: &Diagnosis) -> Diagnosis {
    if model.category != rules.category && model.confidence > DISPUTED_CONFIDENCE {
        model.confidence = DISPUTED_CONFIDENCE;
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Category;

    fn diag(category: Category, confidence: f64) -> Diagnosis {
        let log = LogIndex::parse(Arc::new(
            b"$ make build\nmake: *** No rule to make target 'build'.  Stop.\n".to_vec(),
        ));
        let mut d = rules::diagnose(&log, &JobContext::default());
        d.category = category;
        d.confidence = confidence;
        d
    }

    #[test]
    fn a_model_that_disagrees_with_the_rules_is_never_confident() {
        let rules = diag(Category::GithubActionsConfig, 0.6);
        let t = temper(diag(Category::TestAssertion, 0.7), &rules);
        assert_eq!(t.confidence, DISPUTED_CONFIDENCE);
        assert_eq!(
            t.category,
            Category::TestAssertion,
            "the model's answer is kept, tempered"
        );
        // Agreement, or a modest claim, is left as it is.
        assert_eq!(
            temper(diag(Category::GithubActionsConfig, 0.9), &rules).confidence,
            0.9
        );
        assert_eq!(
            temper(diag(Category::TestAssertion, 0.3), &rules).confidence,
            0.3
        );
    }
}
