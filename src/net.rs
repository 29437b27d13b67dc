//! Facts about URLs that several clients need: whether a server is on this machine (then no
//! proxy is used). A leaf, so the GitLab client, the LLM providers and the config agree.

use reqwest::Url;

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

#[cfg(test)]
mod tests {
    use super::*;

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
