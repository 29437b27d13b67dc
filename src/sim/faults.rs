//! Fault injection and the request log: what tests use to provoke client errors and to count
//! (or prove the absence of) requests.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One injected fault. `times: None` applies forever; otherwise to that many matching requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// `GET`, `POST`, … or `None` for any method.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches requests whose raw path starts with this (`/api/v4/projects/1/pipelines`).
    #[serde(default)]
    pub path_prefix: Option<String>,
    pub kind: FaultKind,
    /// For `status`: the code to answer with (500, 403, 502, …).
    #[serde(default)]
    pub status: Option<u16>,
    /// For `rate_limit`: seconds in `Retry-After` (absent when `None`).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// For `rate_limit`: seconds until the window resets, sent as an absolute `RateLimit-Reset`.
    #[serde(default)]
    pub reset_in: Option<u64>,
    /// For `latency`: delay before answering normally.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub times: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Status,
    RateLimit,
    Latency,
    /// The normal answer with its body cut in half (invalid JSON).
    Truncate,
}

impl Fault {
    pub fn status(code: u16) -> Self {
        Fault {
            method: None,
            path_prefix: None,
            kind: FaultKind::Status,
            status: Some(code),
            retry_after: None,
            reset_in: None,
            latency_ms: None,
            times: None,
        }
    }

    pub fn rate_limit(retry_after: Option<u64>, reset_in: Option<u64>) -> Self {
        Fault {
            kind: FaultKind::RateLimit,
            status: None,
            retry_after,
            reset_in,
            ..Fault::status(429)
        }
    }

    pub fn latency(delay: Duration) -> Self {
        Fault {
            kind: FaultKind::Latency,
            status: None,
            latency_ms: Some(delay.as_millis() as u64),
            ..Fault::status(0)
        }
    }

    pub fn truncate() -> Self {
        Fault {
            kind: FaultKind::Truncate,
            status: None,
            ..Fault::status(0)
        }
    }

    pub fn on(mut self, method: Option<&str>, path_prefix: &str) -> Self {
        self.method = method.map(str::to_ascii_uppercase);
        self.path_prefix = Some(path_prefix.to_string());
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
            && self.times != Some(0)
    }
}

/// The active faults, in insertion order; the first match wins and uses up one of its `times`.
#[derive(Debug, Default)]
pub struct FaultSet {
    faults: Vec<Fault>,
}

impl FaultSet {
    pub fn add(&mut self, f: Fault) {
        self.faults.push(f);
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.matches(method, path))?;
        let f = &mut self.faults[i];
        let hit = f.clone();
        if let Some(n) = f.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.faults.remove(i);
            }
        }
        Some(hit)
    }
}

/// One API request as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Sim-clock time, RFC 3339 with milliseconds.
    pub time: String,
}

/// Bounded so a demo left running for days does not grow without limit.
const MAX_RECORDS: usize = 200_000;

#[derive(Debug, Default)]
pub struct RequestLog {
    records: VecDeque<RequestRecord>,
    total: u64,
}

impl RequestLog {
    pub fn push(&mut self, r: RequestRecord) {
        if self.records.len() == MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(r);
        self.total += 1;
    }

    pub fn all(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }

    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_fault_is_used_up() {
        let mut set = FaultSet::default();
        set.add(
            Fault::status(500)
                .on(Some("get"), "/api/v4/projects/1/pipelines")
                .times(2),
        );
        set.add(Fault::truncate());
        assert_eq!(
            set.take("POST", "/api/v4/projects/1/pipelines")
                .map(|f| f.kind),
            Some(FaultKind::Truncate),
            "method filter skips the first"
        );
        for _ in 0..2 {
            let f = set
                .take("GET", "/api/v4/projects/1/pipelines/7001")
                .unwrap();
            assert_eq!(f.status, Some(500));
        }
        assert_eq!(
            set.take("GET", "/api/v4/projects/1/pipelines")
                .map(|f| f.kind),
            Some(FaultKind::Truncate),
            "the 500 is gone after two uses"
        );
        set.clear();
        assert!(set.take("GET", "/").is_none());
    }

    #[test]
    fn fault_json_matches_the_documented_shape() {
        let f: Fault = serde_json::from_str(
            r#"{"method":null,"path_prefix":"/api/v4/","kind":"rate_limit","status":429,"retry_after":2,"reset_in":null,"latency_ms":null,"times":1}"#,
        )
        .unwrap();
        assert_eq!(f.kind, FaultKind::RateLimit);
        assert_eq!(f.retry_after, Some(2));
        assert_eq!(f.times, Some(1));
        let minimal: Fault =
            serde_json::from_str(r#"{"kind":"latency","latency_ms":3000}"#).unwrap();
        assert!(minimal.matches("GET", "/anything"));
    }

    #[test]
    fn request_log_is_bounded() {
        let mut log = RequestLog::default();
        for i in 0..(MAX_RECORDS + 5) {
            log.push(RequestRecord {
                method: "GET".into(),
                path: format!("/{i}"),
                query: None,
                time: String::new(),
            });
        }
        assert_eq!(log.all().len(), MAX_RECORDS);
        assert_eq!(log.total(), (MAX_RECORDS + 5) as u64);
        assert_eq!(log.all()[0].path, "/5");
    }
}
