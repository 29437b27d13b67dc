//! Server-sent events for both providers, with an idle timeout instead of a wall-clock one.
//!
//! A CPU-bound server may spend minutes on the prompt before its first token and then write a
//! few tokens a second: what matters is that bytes keep coming, so every wait (the response
//! head, each chunk) is bounded by the same idle timeout and nothing bounds the whole answer.
//! Hand-written rather than a crate: Gemini sends an error in the middle of a stream as bare
//! JSON outside any `data:` field (llm-api.md §1.7) and llama.cpp as an `error:` field, which
//! generic SSE parsers drop as unknown fields.

use std::future::Future;
use std::time::{Duration, Instant};

use super::provider::{ProviderError, StreamProgress, TokenSink, transport_error};

/// Longest line accepted in a stream; a server sending more without a newline is broken.
const MAX_LINE: usize = 1 << 20;
/// Most bytes read from one streamed answer (a plan is a few kilobytes).
pub const MAX_STREAM_BYTES: usize = super::provider::MAX_RESPONSE_BYTES;
/// Most bytes of an error body kept for its message.
const MAX_ERROR_BODY: usize = 64 << 10;

/// One thing a stream said.
#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    /// The `data:` of an event (several `data:` lines joined with newlines).
    Data(String),
    /// An `error:` field (llama.cpp) or a bare JSON line outside any field (Gemini).
    Error(String),
}

/// Splits a byte stream into events; accepts `\n`, `\r\n` and `\r` line ends.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    data: Vec<String>,
    /// A bare JSON error spans lines until its braces balance.
    bare: Option<String>,
    last_cr: bool,
}

impl SseParser {
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseItem>, ProviderError> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.last_cr && b == b'\n' {
                self.last_cr = false;
                continue;
            }
            self.last_cr = b == b'\r';
            if b == b'\n' || b == b'\r' {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                self.line_done(&line, &mut out);
            } else {
                if self.line.len() >= MAX_LINE {
                    return Err(ProviderError::Protocol {
                        detail: format!("a stream line is longer than {MAX_LINE} bytes"),
                    });
                }
                self.line.push(b);
            }
        }
        Ok(out)
    }

    /// The end of the stream: whatever was pending.
    pub fn finish(&mut self) -> Vec<SseItem> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = String::from_utf8_lossy(&self.line).into_owned();
            self.line.clear();
            self.line_done(&line, &mut out);
        }
        self.dispatch(&mut out);
        if let Some(b) = self.bare.take() {
            out.push(SseItem::Error(b));
        }
        out
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if !self.data.is_empty() {
            out.push(SseItem::Data(self.data.join("\n")));
            self.data.clear();
        }
    }

    fn line_done(&mut self, line: &str, out: &mut Vec<SseItem>) {
        if let Some(b) = &mut self.bare {
            b.push('\n');
            b.push_str(line);
            if balanced(b) {
                out.push(SseItem::Error(std::mem::take(b)));
                self.bare = None;
            }
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let t = line.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            // Not a field: Gemini's mid-stream error object (possibly pretty-printed).
            self.dispatch(out);
            if balanced(t) {
                out.push(SseItem::Error(t.to_string()));
            } else {
                self.bare = Some(t.to_string());
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "error" => {
                self.dispatch(out);
                out.push(SseItem::Error(value.to_string()));
            }
            _ => {} // event, id, retry
        }
    }
}

/// Whether a JSON text's brackets are closed (strings and escapes respected).
fn balanced(s: &str) -> bool {
    let (mut depth, mut in_str, mut esc) = (0i64, false, false);
    for c in s.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth <= 0
}

/// `fut` bounded by the idle timeout.
pub async fn idle<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, reqwest::Error>>,
) -> Result<T, ProviderError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(|e| transport_error(&e, limit)),
        Err(_) => Err(ProviderError::Timeout { after: limit }),
    }
}

/// Reads a whole (error) body, bounded in size and by the idle timeout.
pub async fn read_body(
    mut resp: reqwest::Response,
    limit: Duration,
) -> Result<String, ProviderError> {
    let mut body = Vec::new();
    while let Some(chunk) = idle(limit, resp.chunk()).await? {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room < chunk.len() {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Reads a whole answer body, bounded in size and by the idle timeout.
pub async fn read_all(
    mut resp: reqwest::Response,
    limit: Duration,
) -> Result<String, ProviderError> {
    let mut body = Vec::new();
    while let Some(chunk) = idle(limit, resp.chunk()).await? {
        if body.len() + chunk.len() > MAX_STREAM_BYTES {
            return Err(ProviderError::Protocol {
                detail: format!("answer larger than {} MB; refused", MAX_STREAM_BYTES >> 20),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Reads an event stream to its end, handing each item to `on_item`, which may stop it with an
/// error. Each chunk must arrive within `limit`.
pub async fn read_events(
    mut resp: reqwest::Response,
    limit: Duration,
    mut on_item: impl FnMut(SseItem) -> Result<(), ProviderError>,
) -> Result<(), ProviderError> {
    let mut parser = SseParser::default();
    let mut total = 0usize;
    while let Some(chunk) = idle(limit, resp.chunk()).await? {
        total += chunk.len();
        if total > MAX_STREAM_BYTES {
            return Err(ProviderError::Protocol {
                detail: format!(
                    "streamed answer larger than {} MB; refused",
                    MAX_STREAM_BYTES >> 20
                ),
            });
        }
        for item in parser.push(&chunk)? {
            on_item(item)?;
        }
    }
    for item in parser.finish() {
        on_item(item)?;
    }
    Ok(())
}

/// Counts streamed tokens and reports them at most four times a second.
pub struct TokenMeter<'a> {
    sink: Option<TokenSink<'a>>,
    first: Option<Instant>,
    last_report: Option<Instant>,
    pub tokens: u64,
    prompt: (u64, u64),
}

impl<'a> TokenMeter<'a> {
    pub fn new(sink: Option<TokenSink<'a>>) -> Self {
        Self {
            sink,
            first: None,
            last_report: None,
            tokens: 0,
            prompt: (0, 0),
        }
    }

    /// The server reports how far it has read the prompt (before any token).
    pub fn prompt(&mut self, done: u64, total: u64) {
        self.prompt = (done.min(total), total);
        if self.tokens == 0 {
            self.report(Instant::now());
        }
    }

    /// `n` more tokens arrived (a chunk's delta), or the server's running count `total`.
    pub fn add(&mut self, n: u64, total: Option<u64>) {
        let now = Instant::now();
        self.first.get_or_insert(now);
        self.tokens = match total {
            Some(t) => t.max(self.tokens),
            None => self.tokens + n,
        };
        let due = self
            .last_report
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(250));
        if due {
            self.last_report = Some(now);
            self.report(now);
        }
    }

    fn report(&self, now: Instant) {
        let Some(sink) = self.sink else { return };
        let secs = self
            .first
            .map_or(0.0, |f| now.duration_since(f).as_secs_f64());
        // The first token starts the clock: tokens/s over what came after it.
        let per_sec = if secs > 0.2 {
            (self.tokens.saturating_sub(1)) as f64 / secs
        } else {
            0.0
        };
        let (prompt_done, prompt_total) = if self.tokens == 0 {
            self.prompt
        } else {
            (0, 0)
        };
        (sink.0)(StreamProgress {
            tokens: self.tokens,
            per_sec,
            prompt_done,
            prompt_total,
        });
    }

    /// A last report when the stream ends.
    pub fn done(&self) {
        if self.tokens > 0 {
            self.report(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c).unwrap());
        }
        out.extend(p.finish());
        out
    }

    #[test]
    fn events_split_anywhere_and_every_line_end() {
        let items = all(&[
            b"data: {\"a\"",
            b":1}\r\n\r\nda",
            b"ta: x\ndata: y\n\n: comment\nevent: e\ndata: [DONE]\r\r",
        ]);
        assert_eq!(
            items,
            vec![
                SseItem::Data("{\"a\":1}".into()),
                SseItem::Data("x\ny".into()),
                SseItem::Data("[DONE]".into())
            ]
        );
    }

    #[test]
    fn gemini_mid_stream_error_fixture() {
        let path =
            crate::testkit::shared_path("fixtures/llm/gemini/stream-failure-error-mid-stream.txt");
        let bytes = std::fs::read(path).unwrap();
        let items = all(&[&bytes]);
        assert_eq!(items.len(), 3, "{items:?}");
        let SseItem::Error(e) = &items[2] else {
            panic!("{items:?}")
        };
        let v: serde_json::Value = serde_json::from_str(e).unwrap();
        assert_eq!(v["error"]["code"], 499);
    }

    #[test]
    fn llamacpp_error_field_and_unterminated_tail() {
        let items = all(&[b"data: {}\n\nerror: {\"code\":500,\"message\":\"boom\"}\n\ndata: tail"]);
        assert_eq!(
            items[1],
            SseItem::Error("{\"code\":500,\"message\":\"boom\"}".into())
        );
        assert_eq!(items[2], SseItem::Data("tail".into()));
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = SseParser::default();
        let big = vec![b'x'; MAX_LINE + 1];
        assert!(p.push(&big).is_err());
    }
}
