//! The binary against hostile servers and hostile files: every command's stdout and stderr are
//! free of terminal controls (OSC 52 clipboard writes, OSC 0 titles, CSI 2J, DCS, C1, bidi
//! overrides) whatever GitLab, a plan file, a log or the audit log holds; a redirecting GitLab
//! makes `status` fail naming where it pointed, with nothing sent there.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;

use gitaiops::sim::{SimClock, SimConfig, SimHandle};
use serde_json::{Value, json};

mod hostile;

use hostile::{HOSTILE_TEXT, has_terminal_controls};

/// Keys whose values GitLab users control (titles, names, branches, usernames, messages).
const POISONED: &[&str] = &[
    "title",
    "name",
    "ref",
    "stage",
    "username",
    "source_branch",
    "target_branch",
    "description",
    "path_with_namespace",
    "failure_reason",
    "status",
];

async fn start_sim() -> SimHandle {
    gitaiops::sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        scale: 0,
        seed: 42,
        token: None,
        clock: SimClock::Manual,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// The simulator behind a proxy that appends hostile text to every user-controlled string.
async fn poisoned_gitlab(sim: &SimHandle) -> hostile::Hostile {
    hostile::serve_proxy(
        sim.base_url(),
        |_| None,
        |s, up| {
            if s.method != "GET" || !up.content_type.contains("json") {
                return None;
            }
            let body = hostile::poison_json(&up.body, POISONED, HOSTILE_TEXT)?;
            Some(hostile::raw(up.status, "application/json", body))
        },
    )
    .await
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_clean(&self, what: &str) {
        assert!(
            !has_terminal_controls(&self.stdout),
            "{what}: stdout carries terminal controls:\n{:?}",
            self.stdout
        );
        assert!(
            !has_terminal_controls(&self.stderr),
            "{what}: stderr carries terminal controls:\n{:?}",
            self.stderr
        );
    }
}

async fn gitaiops(dir: &Path, base: Option<&str>, args: &[&str]) -> Run {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_gitaiops"));
    c.args(args)
        .env("GITLAB_TOKEN", "test-token")
        .env("GITAIOPS_CONFIG", dir.join("absent-config.toml"))
        .env("GITAIOPS_STATE_DIR", dir.join("state"))
        .env("GITAIOPS__AUDIT__PATH", dir.join("audit.jsonl"))
        .env("GITAIOPS_PROVIDER", "rules")
        .env("HOME", dir)
        .env_remove("GITAIOPS_READ_ONLY")
        .env_remove("GITAIOPS_PROJECT")
        .env_remove("GITLAB_HOST")
        .env_remove("GEMINI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(Stdio::null());
    if let Some(b) = base {
        c.arg("--gitlab-url")
            .arg(b)
            .arg("--project")
            .arg("acme/platform");
    }
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_prints_no_terminal_controls_from_gitlab() {
    let sim = start_sim().await;
    let proxy = poisoned_gitlab(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let run = gitaiops(dir.path(), Some(&proxy.url()), &["status"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("evil"),
        "the poisoned text did arrive: {}",
        run.stdout
    );
    run.assert_clean("status");
    let run = gitaiops(dir.path(), Some(&proxy.url()), &["status", "--json"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.assert_clean("status --json");
    // The JSON still carries the text, escaped.
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v.to_string().contains("\\u001b]52"), "data kept, escaped");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_no_terminal_controls_from_gitlab() {
    let sim = start_sim().await;
    let proxy = poisoned_gitlab(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    for args in [&["plan"][..], &["plan", "--json"][..]] {
        let run = gitaiops(dir.path(), Some(&proxy.url()), args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        run.assert_clean(&format!("{args:?}"));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_job_prints_no_terminal_controls_from_gitlab() {
    let sim = start_sim().await;
    let proxy = poisoned_gitlab(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // A failed job of the scenario, through the same proxy.
    let jobs: Value = hostile::http()
        .get(format!(
            "{}/api/v4/projects/1/jobs?scope[]=failed",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = jobs[0]["id"].as_u64().expect("a failed job").to_string();
    for args in [
        &["diagnose", "--job", &id][..],
        &["diagnose", "--json", "--job", &id][..],
    ] {
        let run = gitaiops(dir.path(), Some(&proxy.url()), args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        run.assert_clean(&format!("{args:?}"));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_log_prints_no_terminal_controls_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("job.log");
    std::fs::write(
        &log,
        format!(
            "$ cargo test\nerror[E0308]: mismatched types {HOSTILE_TEXT}\n\u{202e}error: could not compile `app` \u{1b}]0;title\u{7}\nERROR: Job failed: exit code 101\n"
        ),
    )
    .unwrap();
    let path = log.display().to_string();
    for args in [
        &["diagnose", "--log", &path][..],
        &["diagnose", "--json", "--log", &path][..],
    ] {
        let run = gitaiops(dir.path(), None, args).await;
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        run.assert_clean(&format!("{args:?}"));
    }
}

/// A log that printed a secret: the JSON names the kind under `secrets` and stays JSON (the
/// output redactor once took `"secrets": [` for a secret's value and broke the document).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_json_of_a_log_with_a_secret_is_valid_json() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("job.log");
    std::fs::write(
        &log,
        "$ env\nAWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGHJ\n$ aws sts get-caller-identity\n\
         An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation\n\
         ERROR: Job failed: exit code 254\n",
    )
    .unwrap();
    let path = log.display().to_string();
    let run = gitaiops(dir.path(), None, &["diagnose", "--json", "--log", &path]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout));
    assert_eq!(v["secrets"][0]["lines"][0], 2, "{v}");
    assert!(!run.stdout.contains("AKIAQWERTYUIOPASDFGHJ"));
}

/// `apply` shows MR titles, job names, refs and plan strings; `audit` shows what apply wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_audit_print_no_terminal_controls() {
    let sim = start_sim().await;
    let proxy = poisoned_gitlab(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let mrs: Value = hostile::http()
        .get(format!(
            "{}/api/v4/projects/1/merge_requests?state=opened",
            sim.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let iid = mrs[0]["iid"].as_u64().unwrap();
    let plan = json!({"summary": format!("tidy {HOSTILE_TEXT}"), "commands": [
        {"kind": "comment_mr", "project": "acme/platform", "mr_iid": iid,
         "body": format!("hello {HOSTILE_TEXT}"), "rationale": format!("why {HOSTILE_TEXT}")},
        {"kind": "set_labels", "project": "acme/platform", "mr_iid": iid,
         "add": [format!("x{HOSTILE_TEXT}")], "rationale": "r"},
        {"kind": format!("evil{HOSTILE_TEXT}"), "project": "acme/platform", "rationale": "r"},
        {"kind": "note", "project": "acme/platform", "text": HOSTILE_TEXT, "rationale": HOSTILE_TEXT}
    ]});
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let p = plan_path.display().to_string();
    let run = gitaiops(dir.path(), Some(&proxy.url()), &["apply", &p, "--yes"]).await;
    assert!(
        run.stdout.contains("1. comment_mr"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    run.assert_clean("apply");
    for args in [&["audit"][..], &["audit", "--json"][..]] {
        let run = gitaiops(dir.path(), None, args).await;
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(!run.stdout.is_empty());
        run.assert_clean(&format!("{args:?}"));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_config_and_codeowners_print_no_terminal_controls() {
    let dir = tempfile::tempdir().unwrap();
    // A GitLab error body with escapes in it.
    let server = hostile::serve(|_| {
        hostile::json(
            403,
            &json!({"message": format!("403 Forbidden {HOSTILE_TEXT}")}),
        )
    })
    .await;
    let run = gitaiops(dir.path(), Some(&server.url()), &["status"]).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("403"), "{}", run.stderr);
    run.assert_clean("an error line");

    let run = gitaiops(
        dir.path(),
        None,
        &["config", "show", "--project", &format!("g/{HOSTILE_TEXT}")],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.assert_clean("config show");

    let co = dir.path().join("CODEOWNERS");
    std::fs::write(
        &co,
        format!("[Sec{HOSTILE_TEXT}]\n*.rs @al{HOSTILE_TEXT}\n[broken\n"),
    )
    .unwrap();
    let f = co.display().to_string();
    for args in [
        &["codeowners", &f, "src/a.rs"][..],
        &["codeowners", "--json", &f, "src/a.rs"][..],
    ] {
        let run = gitaiops(dir.path(), None, args).await;
        run.assert_clean(&format!("{args:?}"));
    }
}

/// `status` against a GitLab that redirects to another origin: non-zero, the Location origin
/// named, the foreign server never contacted (so the token never reached it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_against_a_redirecting_gitlab_fails_naming_the_location() {
    let foreign = hostile::serve(|s| {
        if s.path().ends_with("/second") {
            hostile::json(200, &json!({"id": 1, "username": "attacker"}))
        } else {
            hostile::redirect(302, "/second")
        }
    })
    .await;
    let target = format!("{}/first", foreign.url_as_localhost());
    let ours = hostile::serve(move |_| hostile::redirect(302, &target)).await;
    let dir = tempfile::tempdir().unwrap();
    let run = gitaiops(dir.path(), Some(&ours.url()), &["status"]).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "answered 302 to http://localhost:{}",
            foreign.addr.port()
        )) && run.stderr.contains("check --gitlab-url"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "nothing printed as GitLab's data: {}",
        run.stdout
    );
    assert!(foreign.requests().is_empty());
}
