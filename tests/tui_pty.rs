//! End-to-end: the built binary in a real pseudo-terminal (tmux). `gitaiops demo` shows live
//! MR and pipeline rows, opens a job log, quits with `q` and leaves the terminal as it found
//! it; SIGHUP and a vanished terminal end it within 2 s. Every wait is bounded and polls.

// Runs against the embedded simulator (the default `sim` feature).
#![cfg(feature = "sim")]
// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A private tmux server (own socket, no user config) with one 120x40 session.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// `command` runs in the session's only pane; the pane stays after it exits.
    fn start(command: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = format!(
            "gitaiops-pty-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let conf = dir.path().join("tmux.conf");
        std::fs::write(&conf, "set -g remain-on-exit on\nset -g history-limit 0\n").unwrap();
        let t = Tmux { socket, dir };
        let env = t.env();
        let out = Command::new("tmux")
            .args(["-L", &t.socket, "-f"])
            .arg(&conf)
            .args(["new-session", "-d", "-s", "main", "-x", "120", "-y", "40"])
            .arg(format!("{env} {command}"))
            .output()
            .expect("tmux must be installed to run the PTY tests");
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    /// Isolated XDG dirs and HOME: no user config, logs in the tempdir.
    fn env(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "env HOME={d} XDG_CONFIG_HOME={d}/config XDG_STATE_HOME={d}/state XDG_DATA_HOME={d}/data TERM=xterm-256color PS1='$ ' GITLAB_TOKEN= GITAIOPS_PROJECT="
        )
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(out.status.success());
    }

    /// Typed literally (no key-name lookup).
    fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "main", "-l", text]);
        assert!(out.status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    fn format(&self, f: &str) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["display-message", "-p", "-t", "main", f])
                .stdout,
        )
        .trim()
        .to_string()
    }

    /// Polls the screen until `pred` holds; panics with the screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pane's exit status once tmux has reaped its process. tmux reaps on its own schedule
    /// (it can take seconds on a loaded machine), so this waits longer than the exit itself may.
    fn wait_exit_status(&self, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let status = self.format("#{pane_dead_status}");
            if !status.is_empty() || start.elapsed() > timeout {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn logs(&self) -> String {
        let dir = self.dir.path().join("state");
        let mut out = String::new();
        for e in walk(&dir) {
            out.push_str(&std::fs::read_to_string(e).unwrap_or_default());
        }
        out
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Running (not gone, not a zombie waiting for a parent that may never reap it).
/// The exit code of a zombie process (field 52 of /proc/PID/stat, in waitpid form), or None
/// when the process is already reaped or not a zombie.
fn zombie_exit_code(pid: &str) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    // `rest[0]` is field 3 (state); field 52 is rest[49].
    if rest.first() != Some(&"Z") {
        return None;
    }
    let wait_status: i32 = rest.get(49)?.parse().ok()?;
    // Exited normally: the code is in bits 8..16; killed by a signal: report 128 + signal.
    if wait_status & 0x7f == 0 {
        Some((wait_status >> 8) & 0xff)
    } else {
        Some(128 + (wait_status & 0x7f))
    }
}

fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_gitaiops");
const LONG: Duration = Duration::from_secs(20);

fn has_rows(s: &str) -> bool {
    s.contains("Merge requests (")
        && s.lines().any(|l| l.contains("│ !") || l.contains("│▌!"))
        && s.contains("Pipelines (")
        && s.lines().any(|l| {
            l.contains(" #")
                && (l.contains("failed") || l.contains("success") || l.contains("running"))
        })
}

#[test]
fn demo_shows_live_rows_opens_a_job_log_and_restores_the_terminal_on_q() {
    let t = Tmux::start("sh");
    t.wait_for("a shell prompt", LONG, |s| s.contains('$'));
    t.type_text(&format!(
        "stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; {BIN} demo; echo exit=$?"
    ));
    t.keys(&["Enter"]);
    let s = t.wait_for("MR and pipeline rows", LONG, has_rows);
    assert!(s.contains("● live"), "{s}");
    assert_eq!(
        t.format("#{alternate_on}"),
        "1",
        "the TUI runs on the alternate screen"
    );

    // Pipelines pane, expand the newest pipeline, go to its first job, open the log.
    t.keys(&["Tab", "Enter"]);
    t.wait_for("the pipeline's jobs", LONG, |s| {
        s.lines().any(|l| l.contains("│▌▾") || l.contains("│ ▾"))
            && s.lines().filter(|l| l.contains("│      ")).count() > 0
    });
    t.keys(&["j", "j", "Enter"]);
    let s = t.wait_for("the job log", LONG, |s| {
        s.contains("Log · ") && s.contains("Running with gitlab-runner")
    });
    assert!(!s.contains("\u{1b}"), "no raw escapes on screen");

    // q goes back from the log view, then quits (nothing is waiting in the queue).
    t.keys(&["q"]);
    t.wait_for("back on the panes", LONG, |s| {
        !s.contains("Log · ") && has_rows(s)
    });
    t.keys(&["q"]);
    let s = t.wait_for("the shell after exit", LONG, |s| s.contains("exit=0"));
    assert_eq!(t.format("#{alternate_on}"), "0", "alternate screen left");
    assert!(
        !s.contains("Merge requests"),
        "the TUI's screen is gone from the normal screen:\n{s}"
    );
    // The line before the TUI ran shows the terminal was in canonical mode; check it still is.
    t.type_text("stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo done=1");
    t.keys(&["Enter"]);
    let s = t.wait_for("stty output", LONG, |s| {
        s.lines().any(|l| l.trim() == "done=1")
    });
    let modes: Vec<&str> = s
        .lines()
        .filter(|l| l.trim() == "icanon" || l.trim() == "-icanon")
        .collect();
    assert_eq!(
        modes,
        vec!["icanon", "icanon"],
        "raw mode left behind:\n{s}"
    );
    assert!(t.logs().contains("tui exiting reason=quit"), "{}", t.logs());
}

#[test]
fn sighup_and_a_vanished_terminal_end_the_demo_within_two_seconds() {
    for how in ["sighup", "tty-gone"] {
        let t = Tmux::start(&format!("{BIN} demo"));
        t.wait_for("MR and pipeline rows", LONG, has_rows);
        let pid = t.format("#{pane_pid}");
        assert!(pid.parse::<u32>().is_ok(), "{pid}");
        // `env ... gitaiops` execs, so the pane's process is gitaiops itself.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "gitaiops");
        if how == "sighup" {
            assert!(
                // bash's own kill: procps (/bin/kill) is not on every machine.
                Command::new("bash")
                    .args(["-c", &format!("kill -HUP {pid}")])
                    .status()
                    .unwrap()
                    .success()
            );
            // Our latency: the process has exited (a zombie counts) within 2 s.
            let start = Instant::now();
            while alive(&pid) && start.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(!alive(&pid), "still running 2 s after SIGHUP");
            // The exit status: from the zombie's /proc entry while tmux has not reaped it (tmux
            // 3.3 sometimes reaps late), else from tmux.
            let status = match zombie_exit_code(&pid) {
                Some(code) => code.to_string(),
                None => t.wait_exit_status(Duration::from_secs(10)),
            };
            assert_eq!(status, "0", "clean exit status");
            assert!(t.logs().contains("reason=SIGHUP"), "{}", t.logs());
        } else {
            // Closing the pty (the ssh session dies): the process must not be left spinning.
            let _ = t.tmux(&["kill-server"]);
            let start = Instant::now();
            while alive(&pid) && start.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                !alive(&pid),
                "still running 2 s after its terminal went away"
            );
        }
    }
}

/// A hung GitLab (the simulator stopped with SIGSTOP): within twice the refresh period plus
/// one request timeout the header says STALE (in words, with the time of its data) and the
/// retry, the panes keep the last good rows, and after SIGCONT it is live again.
#[test]
fn a_hung_gitlab_shows_stale_within_two_refresh_periods() {
    use std::io::BufRead;
    let mut sim = Command::new(BIN)
        .args(["sim", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let pid = self.0.id().to_string();
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut line = String::new();
    std::io::BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let sim = Kill(sim);
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // `Tmux::start` clears GITLAB_TOKEN; the sim accepts any token.
    let t = Tmux::start(&format!(
        "env GITLAB_TOKEN=x GITAIOPS__GITLAB__REQUEST_TIMEOUT_SECS=3 {BIN} --gitlab-url {url} --project acme/platform --refresh-secs 2"
    ));
    t.wait_for("live rows", Duration::from_secs(20), |s| {
        has_rows(s) && s.contains("live")
    });
    let pid = sim.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let s = t.wait_for("STALE in the header", Duration::from_secs(20), |s| {
        s.lines().next().is_some_and(|l| l.contains("STALE"))
    });
    // 2 × 2 s refresh, plus the request in flight that has to time out (3 s), plus slack.
    assert!(
        stopped.elapsed() < Duration::from_secs(12),
        "stale only after {:?}",
        stopped.elapsed()
    );
    assert!(s.contains("data from"), "{s}");
    assert!(has_rows(&s), "the last good data stays on screen:\n{s}");
    let s = t.wait_for("the retry countdown", Duration::from_secs(20), |s| {
        s.lines().next().is_some_and(|l| l.contains("retrying"))
    });
    assert!(
        s.lines().next().unwrap().contains('✗'),
        "the last error is shown: {s}"
    );
    assert!(
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    t.wait_for("live again", Duration::from_secs(30), |s| {
        s.lines().next().is_some_and(|l| l.contains("● live"))
    });
    t.keys(&["q"]);
}

/// `y` writes the selected MR's address to the terminal as OSC 52 (the bytes the program sends,
/// read raw through tmux's `pipe-pane -O` before tmux interprets them): a well-formed
/// `ESC ] 52 ; c ; <base64> BEL` whose payload is the MR's web URL.
#[test]
fn y_sends_the_selected_mrs_address_as_osc52() {
    let t = Tmux::start(&format!("{BIN} demo"));
    t.wait_for("MR and pipeline rows", LONG, has_rows);
    let raw = t.dir.path().join("raw.out");
    let out = t.tmux(&[
        "pipe-pane",
        "-O",
        "-t",
        "main",
        &format!("cat > '{}'", raw.display()),
    ]);
    assert!(out.status.success());
    // The first MR row is selected on start.
    t.keys(&["y"]);
    let start = Instant::now();
    let payload = loop {
        let bytes = std::fs::read(&raw).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(i) = text.find("\x1b]52;c;")
            && let Some(len) = text[i + 7..].find('\x07')
        {
            break text[i + 7..i + 7 + len].to_string();
        }
        assert!(start.elapsed() < LONG, "no OSC 52 in the output: {text:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    use base64::Engine;
    let url = base64::engine::general_purpose::STANDARD
        .decode(payload.as_bytes())
        .expect("the payload is base64");
    let url = String::from_utf8(url).unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/acme/platform/-/merge_requests/"),
        "{url}"
    );
    let s = t.wait_for("the status line", LONG, |s| s.contains("copied !"));
    assert!(s.contains(&url), "{s}");
}
