//! A hostile server on loopback for tests: it records every request it receives (method, path,
//! headers, body) and answers with whatever the test's handler returns — redirects to another
//! origin, gzip bombs, endless streams, HTML login pages, escape sequences in JSON. Tests then
//! assert on what the client did with it and on what reached the server (a token must never
//! reach a foreign origin).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// Any credential-bearing header.
    pub fn credentials(&self) -> Vec<String> {
        ["authorization", "private-token", "x-goog-api-key", "x-api-key"]
            .into_iter()
            .filter_map(|h| self.header(h).map(|v| format!("{h}: {v}")))
            .collect()
    }
}

pub type Handler = dyn Fn(&Seen) -> Response + Send + Sync;

/// A running server.
pub struct Hostile {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Hostile {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same server under the name `localhost` (another host to an HTTP client).
    pub fn url_as_localhost(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Starts a server on 127.0.0.1 that answers every request with `handler`.
pub async fn serve(handler: impl Fn(&Seen) -> Response + Send + Sync + 'static) -> Hostile {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let handler: Arc<Handler> = Arc::new(handler);
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let handler = handler.clone();
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let s = Seen {
                method: parts.method.to_string(),
                uri: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                headers: parts.headers,
                body: body.to_vec(),
            };
            log.lock().unwrap().push(s.clone());
            handler(&s)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Hostile { addr, seen }
}

pub fn redirect(status: u16, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .unwrap()
}

pub fn json(status: u16, v: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.into()))
        .unwrap()
}

/// `n` bytes of `fill`, gzip-compressed, served with `Content-Encoding: gzip`: a ~1000:1 bomb.
pub fn gzip_bomb(n: usize, fill: u8, content_type: &str) -> Response {
    raw_gzip(&gzip_of(n, fill), content_type)
}

pub fn gzip_of(n: usize, fill: u8) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![fill; 64 * 1024];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len());
        enc.write_all(&block[..k]).unwrap();
        left -= k;
    }
    enc.finish().unwrap()
}

pub fn raw_gzip(compressed: &[u8], content_type: &str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(compressed.to_vec()))
        .unwrap()
}

/// A body that streams `chunk` forever (until the client hangs up).
pub fn endless(chunk: &'static [u8], content_type: &str) -> Response {
    let stream = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(Bytes::from_static(chunk)));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Text carrying every kind of terminal escape a hostile server could plant: OSC 52 (writes
/// the clipboard), OSC 0 (window title), CSI 2J (clears the screen), DCS, a C1 CSI, a bidi
/// override and a zero-width space.
pub const HOSTILE_TEXT: &str =
    "evil\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}Pq#0\u{1b}\\\u{9b}31m\u{202e}txt.exe\u{200b}end";

/// Whether `s` holds anything a terminal would act on or reorder.
pub fn has_terminal_controls(s: &str) -> bool {
    s.chars().any(|c| {
        let u = c as u32;
        (c.is_control() && c != '\n' && c != '\t')
            || (0x202A..=0x202E).contains(&u)
            || (0x2066..=0x2069).contains(&u)
            || u == 0x200B
    })
}
