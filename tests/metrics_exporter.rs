//! The metrics from the binary, end to end over loopback: `gitaiops exporter` against
//! `gitaiops sim`, read by a strict OpenMetrics reader, by `promtool check metrics`, and by a
//! real Prometheus server that scrapes it; and the TUI (`demo --metrics-listen`, in tmux)
//! serving the same self metrics while it runs.
//!
//! promtool and prometheus come from Debian's `prometheus` package: `scripts/test` unpacks it
//! into target/prometheus when they are not on PATH (PROMTOOL / PROMETHEUS name others).

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gitaiops::testkit::openmetrics;

const BIN: &str = env!("CARGO_BIN_EXE_gitaiops");

/// Children are killed (by their own pid) when the test ends, passed or not.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One GET with HTTP/1.1 and `Connection: close`: (status, body).
fn get(addr: &str, path: &str, accept: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Isolated config and state: no user config, no keys.
fn isolated(cmd: &mut Command, dir: &Path) {
    cmd.env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("GITAIOPS_CONFIG")
        .env_remove("GEMINI_API_KEY")
        .env_remove("OPENAI_API_KEY");
}

/// `gitaiops sim` on a free loopback port: its base URL.
fn start_sim(dir: &Path, scale: usize) -> (Kill, String) {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--scale",
        &scale.to_string(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    isolated(&mut cmd, dir);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "sim said {line:?}");
    (Kill(child), url)
}

/// `gitaiops exporter --listen 127.0.0.1:0` against `url`: its address.
fn start_exporter(dir: &Path, url: &str, projects: &str) -> (Kill, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["exporter", "--listen", "127.0.0.1:0"])
        .env("GITLAB_TOKEN", "sim-token")
        .env("GITLAB_HOST", url)
        .env("GITAIOPS_PROJECT", projects)
        .env("GITAIOPS_REFRESH_SECS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    isolated(&mut cmd, dir);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("gitaiops exporter: serving http://")
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("exporter said {line:?}"))
        .to_string();
    (Kill(child), addr)
}

/// promtool / prometheus: the variable, PATH, or what scripts/test unpacked.
fn tool(name: &str, var: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var) {
        return PathBuf::from(p);
    }
    let unpacked =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/prometheus/usr/bin/{name}"));
    if unpacked.exists() {
        return unpacked;
    }
    let on_path = Command::new(name).arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from(name);
    }
    panic!("{name} is missing: run scripts/test, which unpacks Debian's prometheus package");
}

/// The CI series gitlab-ci-pipelines-exporter's dashboards (10620, 13328, 13329) query and the
/// issue lists, with the labels they group by.
const GCPE_NAMES: &[&str] = &[
    "gitlab_ci_pipeline_status",
    "gitlab_ci_pipeline_id",
    "gitlab_ci_pipeline_duration_seconds",
    "gitlab_ci_pipeline_queued_duration_seconds",
    "gitlab_ci_pipeline_timestamp",
    "gitlab_ci_pipeline_run_count",
    "gitlab_ci_pipeline_job_status",
    "gitlab_ci_pipeline_job_duration_seconds",
    "gitlab_ci_pipeline_job_run_count",
];

#[test]
fn exporter_against_the_simulator_is_read_by_promtool_and_a_real_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, url) = start_sim(dir.path(), 0);
    let (_exp, addr) = start_exporter(dir.path(), &url, "acme/platform");

    wait_for("/readyz", 60, || {
        matches!(get(&addr, "/readyz", None), Ok((200, _))).then_some(())
    });
    assert_eq!(get(&addr, "/healthz", None).unwrap().0, 200);
    // Jobs are fetched once the newest pipelines are known: wait for their series.
    let om = wait_for("job series", 60, || {
        let (status, body) = get(
            &addr,
            "/metrics",
            Some("application/openmetrics-text; version=1.0.0"),
        )
        .ok()?;
        assert_eq!(status, 200);
        body.contains("gitlab_ci_pipeline_job_status{")
            .then_some(body)
    });
    let e = openmetrics::parse(&om).unwrap_or_else(|err| panic!("{err}\n{om}"));
    for name in GCPE_NAMES {
        let fam = e.get(*name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(fam.kind, "gauge", "{name}");
        for s in &fam.samples {
            assert_eq!(s.labels["project"], "acme/platform");
            for l in ["ref", "kind", "topics", "variables"] {
                assert!(s.labels.contains_key(l), "{name} without {l}");
            }
            assert!(["branch", "tag", "merge-request"].contains(&s.labels["kind"].as_str()));
        }
    }
    // One pipeline status per ref is current.
    let current = e["gitlab_ci_pipeline_status"]
        .samples
        .iter()
        .filter(|s| s.value == 1.0)
        .count();
    assert_eq!(current, e["gitlab_ci_pipeline_id"].samples.len());
    // Request metrics carry templated endpoints only.
    let req = &e["gitaiops_gitlab_requests"];
    assert!(
        req.samples
            .iter()
            .any(|s| s.labels["endpoint"] == "/projects/:id/pipelines")
    );
    for s in &req.samples {
        let ep = &s.labels["endpoint"];
        assert!(
            !ep.contains("acme") && !ep.chars().any(|c| c.is_ascii_digit()),
            "{ep}"
        );
    }
    assert!(!om.contains("sim-token"));

    // promtool reads the Prometheus text format (what a scraper gets without asking for
    // OpenMetrics). Its only findings are the two names gcpe's dashboards need as they are.
    let (status, classic) = get(&addr, "/metrics", None).unwrap();
    assert_eq!(status, 200);
    let mut promtool = Command::new(tool("promtool", "PROMTOOL"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(classic.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<&str> = findings.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "gitlab_ci_pipeline_job_run_count non-histogram and non-summary metrics should not have \"_count\" suffix",
            "gitlab_ci_pipeline_run_count non-histogram and non-summary metrics should not have \"_count\" suffix",
        ],
        "promtool: {findings}"
    );
    // Exit 3 is "lint problems only"; 1 would be a parse error.
    assert_eq!(out.status.code(), Some(3), "promtool: {findings}");

    // A real Prometheus scrapes the exporter and answers queries for both kinds of series.
    let prom_port = free_port();
    let prom_addr = format!("127.0.0.1:{prom_port}");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: gitaiops\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    let prom = Command::new(tool("prometheus", "PROMETHEUS"))
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _prom = Kill(prom);
    for query in [
        "up%7Bjob%3D%22gitaiops%22%7D%3D%3D1",
        "gitlab_ci_pipeline_status",
        "gitaiops_gitlab_requests_total",
        "gitlab_ci_pipeline_job_status",
    ] {
        let body = wait_for(&format!("Prometheus to answer {query}"), 90, || {
            let (status, body) =
                get(&prom_addr, &format!("/api/v1/query?query={query}"), None).ok()?;
            (status == 200
                && body.contains("\"status\":\"success\"")
                && body.contains("\"metric\":{"))
            .then_some(body)
        });
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let result = v["data"]["result"].as_array().unwrap();
        assert!(!result.is_empty(), "{query}: {body}");
        if query == "gitlab_ci_pipeline_status" {
            assert!(
                result
                    .iter()
                    .all(|r| r["metric"]["project"] == "acme/platform")
            );
        }
    }
}

/// The same self metrics from the TUI while it runs: `demo --metrics-listen` in a real
/// terminal (tmux); a planner run (`p`, the offline rules) shows in them.
#[test]
fn the_tui_serves_its_own_metrics_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let socket = format!("gitaiops-metrics-{}", std::process::id());
    let d = dir.path().display();
    let env = format!(
        "env HOME={d} XDG_CONFIG_HOME={d}/config XDG_STATE_HOME={d}/state XDG_DATA_HOME={d}/data TERM=xterm-256color GITLAB_TOKEN= GITAIOPS_PROJECT= GEMINI_API_KEY= OPENAI_API_KEY="
    );
    let status = Command::new("tmux")
        .args(["-L", &socket, "-f", "/dev/null"])
        .args(["new-session", "-d", "-s", "main", "-x", "120", "-y", "40"])
        .arg(format!("{env} {BIN} demo --metrics-listen {addr}"))
        .status()
        .expect("tmux must be installed (scripts/test installs it)");
    assert!(status.success());
    struct Server(String);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    let _server = Server(socket.clone());
    let scrape = || {
        get(&addr, "/metrics", Some("application/openmetrics-text"))
            .ok()
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b)
    };
    let body = wait_for("the TUI's metrics", 60, || {
        scrape().filter(|b| b.contains("gitaiops_polls_total{"))
    });
    let e = openmetrics::parse(&body).unwrap_or_else(|err| panic!("{err}\n{body}"));
    assert!(e.contains_key("gitaiops_gitlab_requests"));
    assert!(e.contains_key("gitaiops_poll_duration_seconds"));
    assert!(e.contains_key("gitlab_ci_pipeline_status"));
    wait_for("/readyz", 30, || {
        matches!(get(&addr, "/readyz", None), Ok((200, _))).then_some(())
    });
    let _ = Command::new("tmux")
        .args(["-L", &socket, "send-keys", "-t", "main", "p"])
        .status();
    let body = wait_for("a planner run in the metrics", 60, || {
        scrape().filter(|b| b.contains("gitaiops_planner_runs_total{provider=\"rules\""))
    });
    openmetrics::parse(&body).unwrap();
}
