//! Facts about URLs that several clients need: whether a server is on this machine (then no
//! proxy is used). A leaf, so the GitLab client, the LLM providers and the config agree.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::Url;
use reqwest::header::HeaderMap;

/// Parses `url`, accepting a bare host (`gitlab.example.com`, `127.0.0.1:8080`) as https.
pub fn parse_lenient(url: &str) -> Option<Url> {
    let url = url.trim();
    if url.contains("://") {
        Url::parse(url).ok()
    } else {
        Url::parse(&format!("https://{url}")).ok()
    }
}

/// A server on this machine: `localhost` or a loopback address (the simulator, a local model).
/// Decided on the parsed host, so `localhost.corp.example` or `127x.example.com` are not.
pub fn is_loopback_url(url: &str) -> bool {
    parse_lenient(url)
        .and_then(|u| {
            let h = u.host_str()?.trim_matches(['[', ']']).to_ascii_lowercase();
            Some(
                h == "localhost"
                    || h.ends_with(".localhost")
                    || h.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback()),
            )
        })
        .unwrap_or(false)
}

/// `Tue, 15 Nov 1994 08:12:31 GMT` (the `Date` header) as a timestamp.
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s.trim())
        .ok()
}

/// How long a 429 asks us to wait: `Retry-After` (seconds or HTTP date), else
/// `RateLimit-Reset` (unix seconds), else `RateLimit-ResetTime` (HTTP date), measured from `now`
/// (the server's clock when it sent one). `None` when the response gives no hint.
pub fn rate_limit_wait(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    rate_limit_hint(headers, now).map(|d| d.min(MAX_RATE_LIMIT_WAIT))
}

/// The longest pause a 429 can impose: a hostile or broken `Retry-After: 18446744073709551615`
/// would otherwise overflow `Instant + d` (a panic) or stall polling for years.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3600);

fn rate_limit_hint(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let until = |t: Timestamp| -> Duration {
        let secs = t.as_second() - now.as_second();
        Duration::from_secs(secs.max(0) as u64)
    };
    if let Some(v) = header_str(headers, "retry-after") {
        let v = v.trim();
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Some(t) = parse_http_date(v) {
            return Some(until(t));
        }
    }
    if let Some(reset) = header_str(headers, "ratelimit-reset").and_then(|v| v.trim().parse().ok())
        && let Ok(t) = Timestamp::from_second(reset)
    {
        return Some(until(t));
    }
    header_str(headers, "ratelimit-resettime")
        .and_then(parse_http_date)
        .map(until)
}

/// Exponential backoff for attempt 0, 1, 2… : `base`, `2·base`, `4·base`… capped at `cap`, with
/// ±20 % jitter (`r` in [0, 1)) so that many clients do not retry in lockstep.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, r: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(30));
    let exp = base.saturating_mul(factor).min(cap);
    let jitter = 0.8 + 0.4 * r.clamp(0.0, 1.0);
    exp.mul_f64(jitter).min(cap)
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn backoff_doubles_and_caps_with_bounded_jitter() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff_delay(0, base, cap, 0.5), Duration::from_secs(1));
        assert_eq!(backoff_delay(1, base, cap, 0.5), Duration::from_secs(2));
        assert_eq!(backoff_delay(2, base, cap, 0.5), Duration::from_secs(4));
        assert_eq!(backoff_delay(10, base, cap, 0.5), cap);
        assert_eq!(backoff_delay(1000, base, cap, 0.99), cap);
        let low = backoff_delay(3, base, cap, 0.0);
        let high = backoff_delay(3, base, cap, 0.999);
        assert!(low >= Duration::from_millis(6400) && low <= Duration::from_secs(8));
        assert!(high > Duration::from_secs(9) && high <= Duration::from_millis(9600));
    }

    #[test]
    fn rate_limit_wait_prefers_retry_after_then_reset() {
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let h = headers(&[("retry-after", "7"), ("ratelimit-reset", "1704067230")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(7)));
        let h = headers(&[("ratelimit-reset", "1704067230")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(30)));
        let h = headers(&[("retry-after", "Mon, 01 Jan 2024 00:00:12 GMT")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(12)));
        let h = headers(&[("ratelimit-resettime", "Mon, 01 Jan 2024 00:01:00 GMT")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(60)));
        // A reset in the past (clock skew) means "now", never a negative or huge wait.
        let h = headers(&[("ratelimit-reset", "1704060000")]);
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::ZERO));
        assert_eq!(rate_limit_wait(&headers(&[]), now), None);
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(rate_limit_wait(&h, now), None);
        // Absurd hints are capped so that `Instant::now() + wait` cannot overflow.
        let h = headers(&[("retry-after", "18446744073709551615")]);
        assert_eq!(rate_limit_wait(&h, now), Some(MAX_RATE_LIMIT_WAIT));
        let h = headers(&[("ratelimit-reset", "4102444800")]);
        assert_eq!(rate_limit_wait(&h, now), Some(MAX_RATE_LIMIT_WAIT));
    }

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Tue, 15 Nov 1994 08:12:31 GMT").unwrap();
        assert_eq!(t.to_string(), "1994-11-15T08:12:31Z");
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn loopback_is_decided_on_the_host() {
        assert!(is_loopback_url("http://127.0.0.1:8080"));
        assert!(is_loopback_url("http://127.1.2.3:8080"));
        assert!(is_loopback_url("http://localhost:11434"));
        assert!(is_loopback_url("http://LOCALHOST:11434/v1"));
        assert!(is_loopback_url("http://[::1]:80"));
        assert!(is_loopback_url("127.0.0.1:4567"));
        assert!(!is_loopback_url(
            "https://generativelanguage.googleapis.com"
        ));
        assert!(!is_loopback_url("https://127x.example.com"));
        assert!(!is_loopback_url("http://localhost.corp.example:8080"));
        assert!(!is_loopback_url("not a url at all ::"));
    }
}
