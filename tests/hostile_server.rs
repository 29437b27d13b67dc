//! The model clients against hostile servers on loopback: redirects to another origin (the key
//! and the prompt must never follow), oversized answers (refused at a cap, not buffered whole).
//! The GitLab client's counterparts are in `gitlab_client.rs`; the command line's in
//! `hostile_cli.rs`.

// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use gitaiops::llm::gemini::{GeminiConfig, GeminiProvider};
use gitaiops::llm::openai::{OpenAiConfig, OpenAiProvider, WireOptions};
use gitaiops::llm::provider::{LlmRequest, PromptParts, Provider, ProviderError};
use secrecy::SecretString;
use serde_json::json;

mod hostile;

const KEY: &str = "AIzaSyD-SECRETSECRETSECRETSECRET0123";
const PROMPT_MARK: &str = "PROMPT-MARK-must-not-leave";

fn request(schema: &serde_json::Value) -> LlmRequest<'_> {
    LlmRequest {
        prompt: PromptParts {
            system: "system",
            user: PROMPT_MARK,
            schema,
        },
        followup: None,
        max_output_tokens: 256,
        on_tokens: None,
    }
}

/// A foreign origin that redirects within itself, then answers like a model would.
async fn foreign_two_hop(answer: serde_json::Value) -> hostile::Hostile {
    hostile::serve(move |s| {
        if s.path().ends_with("/second") {
            hostile::json(200, &answer)
        } else {
            hostile::redirect(307, "/second")
        }
    })
    .await
}

fn assert_nothing_reached(foreign: &hostile::Hostile) {
    let seen = foreign.requests();
    assert!(
        seen.is_empty(),
        "the foreign origin received {} request(s); credentials: {:?}",
        seen.len(),
        seen.iter()
            .flat_map(|s| s.credentials())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn gemini_follows_no_redirect_and_its_key_and_prompt_stay_home() {
    let foreign = foreign_two_hop(
        json!({"candidates": [{"content": {"parts": [{"text": "{}"}]},
        "finishReason": "STOP"}]}),
    )
    .await;
    let target = format!("{}/first", foreign.url_as_localhost());
    let ours = hostile::serve(move |_| hostile::redirect(307, &target)).await;
    let p = GeminiProvider::new(GeminiConfig {
        api_key: SecretString::from(KEY),
        base_url: ours.url(),
        model: "gemini-3.8-flash".into(),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        no_proxy: true,
        stream: false,
    })
    .unwrap();
    let schema = json!({"type": "object"});
    let e = p.complete(&request(&schema)).await.unwrap_err();
    let line = e.to_string();
    assert!(
        line.contains(&format!("localhost:{}", foreign.addr.port()))
            && line.contains("GEMINI_BASE_URL"),
        "{line}"
    );
    assert_nothing_reached(&foreign);
    assert_eq!(ours.requests().len(), 1);
}

#[tokio::test]
async fn openai_follows_no_redirect_and_its_key_and_prompt_stay_home() {
    let foreign = foreign_two_hop(json!({"choices": [{"message": {"content": "{}"},
        "finish_reason": "stop"}]}))
    .await;
    let target = format!("{}/first", foreign.url_as_localhost());
    let ours = hostile::serve(move |_| hostile::redirect(302, &target)).await;
    let p = OpenAiProvider::new(OpenAiConfig {
        base_url: ours.url(),
        api_key: Some(SecretString::from("sk-proj-SECRETSECRETSECRET0123456789")),
        model: Some("m".into()),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        no_proxy: true,
        wire: WireOptions::for_target(&ours.url(), None),
    })
    .unwrap();
    let schema = json!({"type": "object"});
    let e = p.complete(&request(&schema)).await.unwrap_err();
    let line = e.to_string();
    assert!(
        line.contains(&format!("localhost:{}", foreign.addr.port()))
            && line.contains("OPENAI_BASE_URL"),
        "{line}"
    );
    assert_nothing_reached(&foreign);

    // The model listing (no model configured) is guarded the same way.
    let p = OpenAiProvider::new(OpenAiConfig {
        base_url: ours.url(),
        api_key: Some(SecretString::from("sk-proj-SECRETSECRETSECRET0123456789")),
        model: None,
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        no_proxy: true,
        wire: WireOptions::for_target(&ours.url(), None),
    })
    .unwrap();
    assert!(matches!(
        p.complete(&request(&schema)).await,
        Err(ProviderError::Config(_))
    ));
    assert_nothing_reached(&foreign);
}

#[tokio::test]
async fn an_oversized_model_answer_is_refused_at_the_cap() {
    let server =
        hostile::serve(|_| hostile::gzip_bomb(64 * 1024 * 1024, b' ', "application/json")).await;
    let p = OpenAiProvider::new(OpenAiConfig {
        base_url: server.url(),
        api_key: None,
        model: Some("m".into()),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        no_proxy: true,
        wire: WireOptions::for_target(&server.url(), None),
    })
    .unwrap();
    let schema = json!({"type": "object"});
    let e = p.complete(&request(&schema)).await.unwrap_err();
    assert_eq!(e.state(), "protocol", "{e}");
    assert!(e.to_string().contains("larger than 8 MB"), "{e}");
}
