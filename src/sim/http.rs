//! Request parameters and replies: the HTTP plumbing shared by the route handlers.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::paginate::Page;
use super::state::Ms;

/// Query string, form and JSON body parameters merged (body wins). `key[]` is stored as `key`,
/// and every key keeps all its values, so arrays work from any encoding.
#[derive(Debug, Default, Clone)]
pub struct Params {
    map: BTreeMap<String, Vec<String>>,
    /// The query string pairs as sent, for building `Link` URLs.
    pub query: Vec<(String, String)>,
}

pub fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `a=1&b[]=2` into pairs, percent-decoded.
pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn norm(k: &str) -> String {
    k.strip_suffix("[]").unwrap_or(k).to_string()
}

impl Params {
    pub fn new(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, String> {
        let mut p = Params::default();
        if let Some(q) = query {
            p.query = parse_urlencoded(q);
            for (k, v) in p.query.clone() {
                p.map.entry(norm(&k)).or_default().push(v);
            }
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(p);
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        if ct.starts_with("application/x-www-form-urlencoded") {
            let text = String::from_utf8_lossy(body);
            let mut form: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in parse_urlencoded(&text) {
                form.entry(norm(&k)).or_default().push(v);
            }
            p.map.extend(form);
        } else if ct.starts_with("multipart/") {
            // Not used by the clients we serve; ignored rather than misparsed.
        } else {
            let v: Value =
                serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
            let Value::Object(o) = v else {
                return Err("body must be a JSON object".into());
            };
            for (k, v) in o {
                let vals = match v {
                    Value::Array(a) => a.iter().map(scalar).collect(),
                    Value::Null => Vec::new(),
                    other => vec![scalar(&other)],
                };
                p.map.insert(norm(&k), vals);
            }
        }
        Ok(p)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    pub fn all(&self, k: &str) -> Option<&[String]> {
        self.map.get(k).map(Vec::as_slice)
    }

    /// Ids from `k[]=1&k[]=2`, `k=1,2` or a JSON array; `0` and empty values mean "none".
    pub fn ids(&self, k: &str) -> Option<Vec<u64>> {
        let vals = self.all(k)?;
        Some(
            vals.iter()
                .flat_map(|v| v.split(','))
                .filter_map(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v != 0)
                .collect(),
        )
    }

    pub fn flag(&self, k: &str) -> Option<bool> {
        self.get(k).map(|v| {
            ["true", "1", "yes"]
                .iter()
                .any(|t| v.trim().eq_ignore_ascii_case(t))
        })
    }

    pub fn time(&self, k: &str) -> Result<Option<Ms>, String> {
        match self.get(k) {
            None | Some("") => Ok(None),
            Some(s) => parse_time(s)
                .map(Some)
                .ok_or_else(|| format!("{k} is invalid")),
        }
    }

    /// A pair of time filters (`updated_after` / `updated_before`, ...): each may be absent;
    /// one that does not parse is GitLab's 400.
    pub fn time_range(&self, from: &str, to: &str) -> Result<(Option<Ms>, Option<Ms>), Reply> {
        match (self.time(from), self.time(to)) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(e), _) | (_, Err(e)) => Err(Reply::error(400, &e)),
        }
    }

    /// Grape's check of an enumerated parameter: GitLab answers 400
    /// `{"error": "<k> does not have a valid value"}` instead of ignoring a typo.
    pub fn one_of(&self, k: &str, allowed: &[&str]) -> Result<(), Reply> {
        match self.get(k) {
            Some(v) if !allowed.contains(&v) => Err(Reply::error(
                400,
                &format!("{k} does not have a valid value"),
            )),
            _ => Ok(()),
        }
    }

    pub fn page(&self, total: usize) -> Page {
        Page::new(self.get("page"), self.get("per_page"), total)
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// ISO 8601 as clients send it: with `Z`, an offset, or a bare date.
pub fn parse_time(s: &str) -> Option<Ms> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    if let Ok(d) = s.parse::<jiff::civil::DateTime>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_millisecond());
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_millisecond());
    }
    None
}

/// What a route handler answers.
pub enum Reply {
    Json(StatusCode, Value),
    /// One page of a list: pagination headers are added by the dispatcher.
    Page(Page, Vec<Value>),
    Text(StatusCode, Vec<u8>),
}

impl Reply {
    pub fn ok(v: Value) -> Reply {
        Reply::Json(StatusCode::OK, v)
    }

    pub fn created(v: Value) -> Reply {
        Reply::Json(StatusCode::CREATED, v)
    }

    /// GitLab's `{"message": "..."}` error body.
    pub fn message(code: u16, msg: &str) -> Reply {
        Reply::Json(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({ "message": msg }),
        )
    }

    /// Grape's parameter errors: `{"error": "..."}`.
    pub fn error(code: u16, msg: &str) -> Reply {
        Reply::Json(
            StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
            json!({ "error": msg }),
        )
    }

    pub fn not_found(what: &str) -> Reply {
        Reply::message(404, &format!("404 {what} Not Found"))
    }

    /// Builds the list reply for `items` after paging (items must be the full filtered list).
    pub fn list(params: &Params, items: Vec<Value>) -> Reply {
        let page = params.page(items.len());
        let r = page.range();
        let items = items.into_iter().skip(r.start).take(r.len()).collect();
        Reply::Page(page, items)
    }
}

/// The HTTP date of the sim clock, for the `Date` header.
pub fn http_date(now: Ms) -> String {
    jiff::Timestamp::from_millisecond(now)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 GMT".into())
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn render(reply: Reply, base: &str, params: &Params) -> Response {
    match reply {
        Reply::Json(status, v) => json_response(status, &v),
        Reply::Page(page, items) => {
            let mut r = json_response(StatusCode::OK, &Value::Array(items));
            for (k, v) in page.headers(base, &params.query) {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
        Reply::Text(status, bytes) => {
            let mut r = Response::new(Body::from(bytes));
            *r.status_mut() = status;
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_merge_query_form_and_json() {
        let p = Params::new(
            Some("scope[]=failed&scope[]=running&per_page=5&labels=a%2Cb"),
            None,
            b"",
        )
        .unwrap();
        assert_eq!(p.all("scope").unwrap(), ["failed", "running"]);
        assert_eq!(p.get("labels"), Some("a,b"));
        let j = Params::new(
            None,
            Some("application/json"),
            br#"{"reviewer_ids":[12,13],"title":"x","squash":true}"#,
        )
        .unwrap();
        assert_eq!(j.ids("reviewer_ids"), Some(vec![12, 13]));
        assert_eq!(j.flag("squash"), Some(true));
        let f = Params::new(
            None,
            Some("application/x-www-form-urlencoded"),
            b"body=hello+world&assignee_ids=0",
        )
        .unwrap();
        assert_eq!(f.get("body"), Some("hello world"));
        assert_eq!(f.ids("assignee_ids"), Some(vec![]));
        assert!(Params::new(None, Some("application/json"), b"[1]").is_err());
    }

    #[test]
    fn times_parse_in_the_forms_clients_send() {
        assert_eq!(parse_time("2025-06-02T09:00:00Z"), Some(1_748_854_800_000));
        assert_eq!(
            parse_time("2025-06-02T11:00:00+02:00"),
            Some(1_748_854_800_000)
        );
        assert_eq!(parse_time("2025-06-02T09:00:00"), Some(1_748_854_800_000));
        assert!(parse_time("2025-06-02").is_some());
        assert!(parse_time("yesterday").is_none());
        assert_eq!(
            http_date(1_748_854_800_000),
            "Mon, 02 Jun 2025 09:00:00 GMT"
        );
    }
}
