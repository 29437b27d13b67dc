//! Typed GitLab errors. Each one displays as a single readable line that tells the operator what
//! happened and, where there is one, what to do about it.

use std::time::Duration;

use thiserror::Error;

pub type Result<T, E = GitlabError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Error)]
pub enum GitlabError {
    /// `token_from` names where the token came from (`GITLAB_TOKEN`, `--token-cmd`, ...), so the
    /// operator fixes the right thing.
    #[error("401 from {host}: token rejected — check {token_from}")]
    Unauthorized { host: String, token_from: String },
    #[error("403 from {host}: {message}")]
    Forbidden { host: String, message: String },
    #[error("404 from {host}: {what} not found (or the token cannot see it)")]
    NotFound { host: String, what: String },
    #[error("429 from {host}: rate limited{}", fmt_retry(.retry_after))]
    RateLimited {
        host: String,
        retry_after: Option<Duration>,
    },
    #[error("{status} from {host}: server error{}", fmt_message(.message))]
    Server {
        host: String,
        status: u16,
        message: String,
    },
    #[error("{status} from {host}{}", fmt_message(.message))]
    Status {
        host: String,
        status: u16,
        message: String,
    },
    #[error("timeout talking to {host}")]
    Timeout { host: String },
    #[error("cannot reach {host}: {detail}")]
    Network { host: String, detail: String },
    #[error("unexpected response from {host} for {path}: {detail}")]
    Parse {
        host: String,
        path: String,
        detail: String,
    },
    /// A 3xx. A REST client follows no redirect: credentials must never reach another origin,
    /// and a redirected write must never pass for done. `location` is the target's origin.
    #[error("GitLab at {host} answered {status} to {location}; check --gitlab-url")]
    Redirect {
        host: String,
        status: u16,
        location: String,
    },
    /// A body larger than the cap, counted after decompression.
    #[error("response from {host} for {path} is larger than {limit_mb} MB; refused")]
    TooLarge {
        host: String,
        path: String,
        limit_mb: u64,
    },
    #[error("read-only mode: refused {method} {path}")]
    ReadOnly { method: String, path: String },
    #[error("{0}")]
    Config(String),
}

fn fmt_retry(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!(", retry in {}s", d.as_secs_f64().ceil() as u64),
        None => String::new(),
    }
}

fn fmt_message(m: &str) -> String {
    if m.is_empty() {
        String::new()
    } else {
        format!(": {m}")
    }
}

impl GitlabError {
    /// The HTTP status behind the error, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::NotFound { .. } => Some(404),
            Self::RateLimited { .. } => Some(429),
            Self::Server { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Errors worth another try of an idempotent request: they say nothing about the request
    /// itself.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Network { .. }
        )
    }
}

/// Turns a GitLab error body into one short line. GitLab sends `{"message": ...}` where the
/// message is a string, an object of field errors or an array, or `{"error": ..,
/// "error_description": ..}` (OAuth-style, e.g. `insufficient_scope`).
pub fn error_body_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => json_message(&v),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    one_line(&text, 200)
}

fn json_message(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            if let Some(desc) = o.get("error_description").and_then(Value::as_str) {
                let scope = o
                    .get("scope")
                    .and_then(Value::as_str)
                    .map(|s| format!(" (needs scope: {s})"))
                    .unwrap_or_default();
                return format!("{desc}{scope}");
            }
            if let Some(m) = o.get("message") {
                return json_message(m);
            }
            if let Some(e) = o.get("error") {
                return json_message(e);
            }
            o.iter()
                .map(|(k, v)| format!("{k} {}", json_message(v)))
                .collect::<Vec<_>>()
                .join("; ")
        }
        Value::Array(a) => a.iter().map(json_message).collect::<Vec<_>>().join(", "),
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub use crate::text::one_line;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_is_one_readable_line() {
        let e = GitlabError::Unauthorized {
            host: "gitlab.example.com".into(),
            token_from: "GITLAB_TOKEN".into(),
        };
        assert_eq!(
            e.to_string(),
            "401 from gitlab.example.com: token rejected — check GITLAB_TOKEN"
        );
        let e = GitlabError::Unauthorized {
            host: "g".into(),
            token_from: "--token-cmd".into(),
        };
        assert!(e.to_string().ends_with("check --token-cmd"), "{e}");
    }

    #[test]
    fn rate_limited_mentions_the_wait() {
        let e = GitlabError::RateLimited {
            host: "h".into(),
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(e.to_string(), "429 from h: rate limited, retry in 2s");
    }

    #[test]
    fn error_bodies_of_every_shape_become_one_line() {
        assert_eq!(
            error_body_message(br#"{"message":"403 Forbidden"}"#),
            "403 Forbidden"
        );
        assert_eq!(
            error_body_message(br#"{"message":{"title":["can't be blank"]}}"#),
            "title can't be blank"
        );
        assert_eq!(
            error_body_message(
                br#"{"error":"insufficient_scope","error_description":"The request requires higher privileges.","scope":"api"}"#
            ),
            "The request requires higher privileges. (needs scope: api)"
        );
        assert_eq!(
            error_body_message(b"<html>\n\n oops</html>"),
            "<html> oops</html>"
        );
        let long = "x".repeat(500);
        assert!(error_body_message(long.as_bytes()).chars().count() <= 201);
    }
}
