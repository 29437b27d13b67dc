//! Facts about URLs that several clients need: whether a server is on this machine (then no
//! proxy is used), which instance a URL names (its canonical origin), whether it carries
//! credentials. A leaf, so the GitLab client, the LLM providers, the audit log and the config
//! agree.

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

/// The instance a URL names, one spelling per instance: scheme, lower-case host, explicit port,
/// path prefix without `/api/v4` or a trailing slash. Every loopback name (`localhost`,
/// `127.x.y.z`, `::1`) is `127.0.0.1`, so the simulator or a tunnel reached two ways is one
/// instance. `None` for what is not an http(s) URL.
pub fn canonical_origin(url: &str) -> Option<String> {
    let u = parse_lenient(url)?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.trim_matches(['[', ']']).trim_end_matches('.');
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    let host = if loopback {
        "127.0.0.1".to_string()
    } else if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let port = u.port_or_known_default()?;
    let path = u.path().trim_end_matches('/');
    let path = path.strip_suffix("/api/v4").unwrap_or(path);
    Some(format!("{}://{host}:{port}{path}", u.scheme()))
}

/// Whether an instance recorded as `recorded` (a canonical origin, or the `host[:port]` older
/// audit records carry) is the instance `origin` (a canonical origin).
pub fn same_instance(recorded: &str, origin: &str) -> bool {
    if recorded.contains("://") {
        return canonical_origin(recorded).is_some_and(|r| r == origin);
    }
    // host[:port] without a scheme: compare with the origin's host and port.
    let Some(o) = parse_lenient(origin) else {
        return false;
    };
    let with_scheme = format!("{}://{recorded}", o.scheme());
    match (canonical_origin(&with_scheme), canonical_origin(origin)) {
        (Some(r), Some(o)) => {
            let strip = |s: &str| {
                s.split_once("://")
                    .map(|(_, h)| h.split('/').next().unwrap_or("").to_string())
            };
            strip(&r) == strip(&o)
        }
        _ => false,
    }
}

/// The canonical host (loopback names as `127.0.0.1`) and the port when one is written, of a
/// URL or a bare `host[:port]`.
pub fn host_and_port(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p))
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') =>
        {
            (h, p.parse::<u16>().ok())
        }
        _ => (authority, None),
    };
    let origin = canonical_origin(&format!("http://{host}"))?;
    let h = origin.split_once("://")?.1.rsplit_once(':')?.0.to_string();
    Some((h, port))
}

/// A user name or password before the host (`https://user:pass@host`).
pub fn has_userinfo(u: &Url) -> bool {
    !u.username().is_empty() || u.password().is_some()
}

/// `raw` with anything between `://` and `@` cut out, for messages.
pub fn without_userinfo(raw: &str) -> String {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), raw),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***@{}", &rest[at + 1..]),
        None => raw.to_string(),
    }
}

/// Why a URL with user-info is refused, without echoing the secret.
pub fn userinfo_message(raw: &str) -> String {
    format!(
        "the GitLab URL must not hold a user name or password ({}): pass the token in GITLAB_TOKEN, token_cmd or --token-cmd",
        without_userinfo(raw.trim())
    )
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
    fn one_instance_has_one_canonical_origin() {
        let o = |s: &str| canonical_origin(s).unwrap();
        assert_eq!(o("http://localhost:4567"), "http://127.0.0.1:4567");
        assert_eq!(o("http://127.0.0.1:4567/"), "http://127.0.0.1:4567");
        assert_eq!(o("http://[::1]:4567/api/v4"), "http://127.0.0.1:4567");
        assert_eq!(
            o("HTTPS://GitLab.Example.COM"),
            "https://gitlab.example.com:443"
        );
        assert_eq!(o("gitlab.example.com."), "https://gitlab.example.com:443");
        assert_eq!(
            o("https://gitlab.example.com:443/"),
            o("gitlab.example.com")
        );
        assert_eq!(
            o("https://example.org/gitlab/api/v4"),
            "https://example.org:443/gitlab"
        );
        assert_ne!(o("http://127.0.0.1:1"), o("http://127.0.0.1:2"));
        assert!(canonical_origin("ftp://x").is_none());
        // Older audit records carry host[:port] only.
        assert!(same_instance("localhost:4567", "http://127.0.0.1:4567"));
        assert!(same_instance("127.0.0.1:4567", &o("http://localhost:4567")));
        assert!(same_instance(
            "gitlab.example.com",
            &o("https://gitlab.example.com")
        ));
        assert!(!same_instance("other:4567", "http://127.0.0.1:4567"));
        assert!(same_instance(
            "http://LOCALHOST:4567/",
            "http://127.0.0.1:4567"
        ));
    }

    #[test]
    fn hosts_and_ports_are_read_from_either_form() {
        assert_eq!(
            host_and_port("localhost:4567"),
            Some(("127.0.0.1".into(), Some(4567)))
        );
        assert_eq!(
            host_and_port("http://127.0.0.1:4567/x"),
            Some(("127.0.0.1".into(), Some(4567)))
        );
        assert_eq!(
            host_and_port("GitLab.example.com"),
            Some(("gitlab.example.com".into(), None))
        );
        assert_eq!(
            host_and_port("https://gitlab.example.com:443"),
            Some(("gitlab.example.com".into(), Some(443)))
        );
    }

    #[test]
    fn user_info_is_found_and_never_echoed() {
        assert!(has_userinfo(&Url::parse("https://a:b@h").unwrap()));
        assert!(has_userinfo(&Url::parse("https://tok@h").unwrap()));
        assert!(!has_userinfo(&Url::parse("https://h/a@b").unwrap()));
        assert_eq!(
            without_userinfo("https://a:secret@h/x@y"),
            "https://***@h/x@y"
        );
        assert_eq!(without_userinfo("h.example"), "h.example");
        assert!(!userinfo_message("https://a:secret@h").contains("secret"));
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
