//! The command line as a shell and a script meet it: completions sourced in a real bash (in a
//! PTY) complete subcommands and flags, `man` renders with `man -l`, `config init` then
//! `config show` round-trips, and every documented exit code (docs/cli-json.md) is what the
//! binary returns. Exit 3 (partial) is tested with `apply --json` in command_exec.rs.

// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gitaiops(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitaiops"))
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("GITAIOPS_CONFIG", dir.join("config.toml"))
        .env("GITAIOPS_STATE_DIR", dir.join("state"))
        .env_remove("GITLAB_TOKEN")
        .env_remove("GITLAB_HOST")
        .env_remove("GITAIOPS_PROJECT")
        .env_remove("GITAIOPS_READ_ONLY")
        .env_remove("GITAIOPS_PROVIDER")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn exit_codes_are_the_documented_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 0: ok.
    assert_eq!(gitaiops(d, &["config", "path"]).status.code(), Some(0));
    // 2: a usage error from clap, and a setting a command cannot run without.
    let out = gitaiops(d, &["status", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_gitaiops"))
        .args(["status", "--gitlab-url", "http://127.0.0.1:9"])
        .env("GITAIOPS_CONFIG", d.join("absent.toml"))
        .env("GITLAB_TOKEN", "test-token")
        .env_remove("GITAIOPS_PROJECT")
        .env("HOME", d)
        .env("GITAIOPS_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no project"));
    // 1: a runtime error (nothing listens on the discard port).
    let out = Command::new(env!("CARGO_BIN_EXE_gitaiops"))
        .args([
            "status",
            "--gitlab-url",
            "http://127.0.0.1:9",
            "--project",
            "a/b",
        ])
        .env("GITAIOPS_CONFIG", d.join("absent.toml"))
        .env("GITLAB_TOKEN", "test-token")
        .env("HOME", d)
        .env("GITAIOPS_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // 1: a broken config file.
    std::fs::write(d.join("config.toml"), "[gitlab\n").unwrap();
    assert_eq!(gitaiops(d, &["config", "show"]).status.code(), Some(1));
}

#[test]
fn config_init_then_show_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = gitaiops(d, &["config", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Refuses to overwrite; --force replaces.
    let out = gitaiops(d, &["config", "init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--force"));
    assert_eq!(
        gitaiops(d, &["config", "init", "--force"]).status.code(),
        Some(0)
    );
    // As written: no warning, every value a default.
    let out = gitaiops(d, &["config", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no warnings for the template");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exists"], true);
    let settings = v["settings"].as_object().unwrap();
    assert!(settings.len() > 30, "{}", settings.len());
    assert!(
        settings.values().all(|s| s["source"] == "default"),
        "{settings:?}"
    );
    // Edited: the file's value, an env override and a flag, each named; a typo warned about
    // with the nearest key.
    let p = d.join("config.toml");
    let edited = std::fs::read_to_string(&p)
        .unwrap()
        .replace("# refresh_secs = 12", "refresh_secs = 30")
        .replace("# url = \"https://gitlab.com\"", "uri = \"https://x\"");
    std::fs::write(&p, edited).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gitaiops"))
        .args(["config", "show", "--project", "g/app"])
        .env("GITAIOPS_CONFIG", &p)
        .env("GITAIOPS__POLICY__MODE", "suggest")
        .env("HOME", d)
        .env_remove("GITAIOPS_PROJECT")
        .env_remove("GITLAB_TOKEN")
        .env_remove("GITLAB_HOST")
        .output()
        .unwrap();
    let show = text(&out.stdout);
    assert!(show.contains("refresh_secs = 30  # from file"), "{show}");
    assert!(
        show.contains("mode = \"suggest\"  # from env GITAIOPS__POLICY__MODE"),
        "{show}"
    );
    assert!(
        show.contains("projects = [\"g/app\"]  # from flag --project"),
        "{show}"
    );
    assert!(
        show.contains("# url = \"https://gitlab.com\"  (default)"),
        "{show}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown setting `gitlab.uri` is ignored; did you mean url?"),
        "{err}"
    );
}

#[test]
fn man_renders_with_man_l() {
    let dir = tempfile::tempdir().unwrap();
    let out = gitaiops(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = dir.path().join("gitaiops.1");
    std::fs::write(&page, &out.stdout).unwrap();
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man must be installed");
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let t = text(&rendered.stdout);
    for want in [
        "SYNOPSIS",
        "GITAIOPS APPLY",
        "GITAIOPS CONFIG INIT",
        "--read-only",
    ] {
        assert!(t.contains(want), "{want} missing:\n{t}");
    }
    // --dir: one page per subcommand.
    let mandir = dir.path().join("man1");
    let out = gitaiops(dir.path(), &["man", "--dir", mandir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(mandir.join("gitaiops.1").exists() && mandir.join("gitaiops-apply.1").exists());
}

/// A private tmux server running bash with the completion script sourced: tab completes a
/// subcommand, a flag, and a watched project for --project.
#[test]
fn bash_completion_completes_subcommands_and_flags_in_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = gitaiops(d, &["completions", "bash"]);
    assert_eq!(script.status.code(), Some(0));
    let rc = d.join("bashrc");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gitaiops")).parent().unwrap();
    std::fs::write(d.join("gitaiops.bash"), &script.stdout).unwrap();
    std::fs::write(
        &rc,
        format!(
            "PS1='gx> '\nexport PATH={}:$PATH\nsource {}\nbind 'set show-all-if-ambiguous on'\n",
            bin_dir.display(),
            d.join("gitaiops.bash").display()
        ),
    )
    .unwrap();
    let socket = format!("gitaiops-compl-{}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux must be installed to run the PTY tests")
    };
    // Watched projects, offered for --project.
    let config = d.join("watched.toml");
    std::fs::write(
        &config,
        "[gitlab]\nprojects = [\"acme/platform\", \"group/app\"]\n",
    )
    .unwrap();
    let cmd = format!(
        "env -i HOME={} TERM=xterm GITAIOPS_CONFIG={} bash --noprofile --rcfile {} -i",
        d.display(),
        config.display(),
        rc.display()
    );
    let out = tmux(&[
        "new-session",
        "-d",
        "-s",
        "c",
        "-x",
        "150",
        "-y",
        "40",
        &cmd,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let screen = || text(&tmux(&["capture-pane", "-p", "-t", "c"]).stdout);
    let wait_for = |want: &str| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if screen().contains(want) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(wait_for("gx>"), "{}", screen());
    tmux(&["send-keys", "-t", "c", "gitaiops comp", "Tab"]);
    let ok_sub = wait_for("gitaiops completions");
    tmux(&["send-keys", "-t", "c", "C-u", "gitaiops status --wa", "Tab"]);
    let ok_flag = wait_for("gitaiops status --watch");
    tmux(&[
        "send-keys",
        "-t",
        "c",
        "C-u",
        "gitaiops status --project gr",
        "Tab",
    ]);
    let ok_project = wait_for("gitaiops status --project group/app");
    let shown = screen();
    tmux(&["kill-server"]);
    assert!(ok_sub, "subcommand not completed:\n{shown}");
    assert!(ok_flag, "flag not completed:\n{shown}");
    assert!(
        ok_project,
        "--project not completed from the config:\n{shown}"
    );
}
