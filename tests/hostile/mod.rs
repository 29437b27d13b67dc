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
        [
            "authorization",
            "private-token",
            "x-goog-api-key",
            "x-api-key",
        ]
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

/// A plain client for the test's own requests (no proxy, no redirects).
pub fn http() -> reqwest::Client {
    gitaiops::gitlab::client::ensure_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What a proxy got from upstream, for its rewrite hook.
pub struct Upstream {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A proxy in front of `upstream` (the simulator): every request is recorded and forwarded,
/// and `rewrite` turns the upstream answer into what the client gets (`None`: forward as is).
/// `intercept` may answer a request itself without forwarding (a redirect, a bomb).
pub async fn serve_proxy(
    upstream: String,
    intercept: impl Fn(&Seen) -> Option<Response> + Send + Sync + 'static,
    rewrite: impl Fn(&Seen, &Upstream) -> Option<Response> + Send + Sync + 'static,
) -> Hostile {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let intercept = Arc::new(intercept);
    let rewrite = Arc::new(rewrite);
    let http = http();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let (intercept, rewrite, log, http, upstream) = (
            intercept.clone(),
            rewrite.clone(),
            log.clone(),
            http.clone(),
            upstream.clone(),
        );
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
            if let Some(r) = intercept(&s) {
                return r;
            }
            let method = reqwest::Method::from_bytes(s.method.as_bytes()).unwrap();
            let mut rb = http.request(method, format!("{upstream}{}", s.uri));
            for (k, v) in &s.headers {
                if k != header::HOST && k != header::CONTENT_LENGTH {
                    rb = rb.header(k.as_str(), v.as_bytes());
                }
            }
            let resp = match rb.body(s.body.clone()).send().await {
                Ok(r) => r,
                Err(e) => return raw(502, "text/plain", e.to_string()),
            };
            let status = resp.status().as_u16();
            let mut headers = HeaderMap::new();
            for (k, v) in resp.headers() {
                if k != header::CONTENT_LENGTH
                    && k != header::TRANSFER_ENCODING
                    && let (Ok(k), Ok(v)) = (
                        header::HeaderName::from_bytes(k.as_str().as_bytes()),
                        header::HeaderValue::from_bytes(v.as_bytes()),
                    )
                {
                    headers.insert(k, v);
                }
            }
            let content_type = resp
                .headers()
                .get("content-type")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            let body = resp.bytes().await.unwrap_or_default().to_vec();
            let up = Upstream {
                status,
                content_type,
                body,
            };
            if let Some(r) = rewrite(&s, &up) {
                return r;
            }
            let mut r = Response::builder().status(status);
            for (k, v) in &headers {
                r = r.header(k, v);
            }
            r.body(Body::from(up.body)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Hostile { addr, seen }
}

/// Every string under one of `keys` in a JSON body gets `suffix` appended (hostile titles,
/// job names, refs); other bodies are left alone.
pub fn poison_json(body: &[u8], keys: &[&str], suffix: &str) -> Option<Vec<u8>> {
    fn walk(v: &mut serde_json::Value, keys: &[&str], suffix: &str) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    match x {
                        serde_json::Value::String(s) if keys.contains(&k.as_str()) => {
                            s.push_str(suffix)
                        }
                        _ => walk(x, keys, suffix),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, keys, suffix)),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
    walk(&mut v, keys, suffix);
    serde_json::to_vec(&v).ok()
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
    let stream =
        futures::stream::repeat_with(move || Ok::<_, std::io::Error>(Bytes::from_static(chunk)));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Text carrying every kind of terminal escape a hostile server could plant: OSC 52 (writes
/// the clipboard), OSC 0 (window title), CSI 2J (clears the screen), DCS, a C1 CSI, a bidi
/// override and a zero-width space.
pub const HOSTILE_TEXT: &str = "evil\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}Pq#0\u{1b}\\\u{9b}31m\u{202e}txt.exe\u{200b}end";

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
