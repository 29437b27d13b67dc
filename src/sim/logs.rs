//! Job logs, generated on demand and deterministically from (seed, job id): nothing is stored,
//! so a world with thousands of jobs costs no log memory. The bytes follow gitlab-runner's wire
//! form: `\e[0K` erase-line, SGR colours (16, 256 and truecolor), `\r` progress redraws and
//! section markers `\e[0Ksection_start:<ts>:<name>[opts]\r\e[0K<header>` … `section_end`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use super::state::mix;

/// What a job prints. Failing kinds end with the matching `ERROR: Job failed` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    CargoBuild,
    CargoBuildError,
    CargoTest,
    CargoTestFail,
    Clippy,
    ClippyFail,
    Jest,
    JestFail,
    Pytest,
    PytestFail,
    CargoAudit,
    CargoAuditFail,
    DockerBuild,
    Deploy,
    RunnerSystemFailure,
    Timeout,
    NpmNetworkFail,
    SecretLeak,
    Docs,
    DocsLinks,
    E2e,
}

const NAMES: &[(LogKind, &str)] = &[
    (LogKind::CargoBuild, "cargo_build"),
    (LogKind::CargoBuildError, "cargo_build_error"),
    (LogKind::CargoTest, "cargo_test"),
    (LogKind::CargoTestFail, "cargo_test_fail"),
    (LogKind::Clippy, "clippy"),
    (LogKind::ClippyFail, "clippy_fail"),
    (LogKind::Jest, "jest"),
    (LogKind::JestFail, "jest_fail"),
    (LogKind::Pytest, "pytest"),
    (LogKind::PytestFail, "pytest_fail"),
    (LogKind::CargoAudit, "cargo_audit"),
    (LogKind::CargoAuditFail, "cargo_audit_fail"),
    (LogKind::DockerBuild, "docker_build"),
    (LogKind::Deploy, "deploy"),
    (LogKind::RunnerSystemFailure, "runner_system_failure"),
    (LogKind::Timeout, "timeout"),
    (LogKind::NpmNetworkFail, "npm_network_fail"),
    (LogKind::SecretLeak, "secret_leak"),
    (LogKind::Docs, "docs"),
    (LogKind::DocsLinks, "docs_links"),
    (LogKind::E2e, "e2e"),
];

impl LogKind {
    pub fn parse(s: &str) -> Option<Self> {
        NAMES.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("unknown", |(_, n)| n)
    }

    /// The healthy log of a job after a transient failure is retried, by the job's name.
    pub fn healthy_for(job_name: &str) -> Self {
        let n = job_name.to_ascii_lowercase();
        if n.contains("web") || n.contains("jest") {
            Self::Jest
        } else if n.contains("ml") || n.contains("py") {
            Self::Pytest
        } else if n.contains("lint") || n.contains("clippy") {
            Self::Clippy
        } else if n.contains("audit") {
            Self::CargoAudit
        } else if n.contains("docker") {
            Self::DockerBuild
        } else if n.contains("deploy") {
            Self::Deploy
        } else if n.contains("docs:links") {
            Self::DocsLinks
        } else if n.contains("docs") {
            Self::Docs
        } else if n.contains("e2e") {
            Self::E2e
        } else if n.starts_with("build") {
            Self::CargoBuild
        } else {
            Self::CargoTest
        }
    }
}

/// What the log is about.
pub struct LogCtx<'a> {
    pub seed: u64,
    pub job_id: u64,
    pub job_name: &'a str,
    pub image: &'a str,
    pub project_path: &'a str,
    pub project_id: u64,
    pub sha: &'a str,
    pub git_ref: &'a str,
    pub started_s: i64,
    pub dur_s: i64,
    pub environment: Option<&'a str>,
}

/// A full log: `body` grows while the job runs; `footer` (cleanup and the verdict line) appears
/// only once it finished.
pub struct Rendered {
    pub body: Vec<u8>,
    pub footer: Vec<u8>,
}

const R: &str = "\x1b[0;m";
const GREEN: &str = "\x1b[32;1m";
const CYAN: &str = "\x1b[36;1m";
const RED: &str = "\x1b[31;1m";

struct W<'a> {
    out: String,
    ctx: &'a LogCtx<'a>,
    rng: u64,
}

impl<'a> W<'a> {
    fn new(ctx: &'a LogCtx<'a>) -> Self {
        W {
            out: String::with_capacity(8 * 1024),
            ctx,
            rng: mix(ctx.seed ^ mix(ctx.job_id)),
        }
    }

    fn next(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng = mix(self.rng);
        if hi <= lo {
            lo
        } else {
            lo + self.rng % (hi - lo)
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Timestamp at a fraction of the job's run time.
    fn ts(&self, frac: f64) -> i64 {
        self.ctx.started_s + (self.ctx.dur_s as f64 * frac) as i64
    }

    fn start(&mut self, name: &str, opts: &str, header: &str, frac: f64) {
        let ts = self.ts(frac);
        let _ = writeln!(
            self.out,
            "\x1b[0Ksection_start:{ts}:{name}{opts}\r\x1b[0K{header}"
        );
    }

    fn end(&mut self, name: &str, frac: f64) {
        let ts = self.ts(frac);
        let _ = writeln!(self.out, "\x1b[0Ksection_end:{ts}:{name}\r\x1b[0K");
    }

    fn runner_section(&mut self, name: &str, title: &str, frac: f64) {
        let header = format!("\x1b[0K{CYAN}{title}{R}{R}");
        self.start(name, "", &header, frac);
    }

    fn cmd(&mut self, c: &str) {
        let _ = writeln!(self.out, "{GREEN}$ {c}{R}");
    }

    fn short_sha(&self) -> &str {
        &self.ctx.sha[..8.min(self.ctx.sha.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::new();
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next(0, u64::MAX));
        }
        s.truncate(n);
        s
    }

    fn prologue(&mut self) {
        let runner = self.next(1, 6);
        let token = self.hex(8);
        let sys = self.hex(12);
        let _ = writeln!(
            self.out,
            "\x1b[0KRunning with gitlab-runner 17.5.2 (c6eae8d7){R}"
        );
        let _ = writeln!(
            self.out,
            "\x1b[0K  on acme-docker-runner-0{runner} t3_{token}, system ID: s_{sys}{R}"
        );
        self.runner_section("prepare_executor", "Preparing the \"docker\" executor", 0.0);
        let image = self.ctx.image.to_string();
        let digest = self.hex(64);
        let _ = writeln!(
            self.out,
            "\x1b[0KUsing Docker executor with image {image} ...{R}"
        );
        let _ = writeln!(self.out, "\x1b[0KPulling docker image {image} ...{R}");
        let _ = writeln!(
            self.out,
            "\x1b[0KUsing docker image sha256:{} for {image} with digest {}@sha256:{digest} ...{R}",
            &digest[..64],
            image.split(':').next().unwrap_or("image")
        );
        self.end("prepare_executor", 0.03);
    }

    fn sources(&mut self) {
        self.runner_section("prepare_script", "Preparing environment", 0.03);
        let p = self.ctx.project_id;
        let _ = writeln!(
            self.out,
            "Running on runner-t3qx9zkc-project-{p}-concurrent-0 via acme-docker-runner-02..."
        );
        self.end("prepare_script", 0.04);
        self.runner_section("get_sources", "Getting source from Git repository", 0.04);
        let _ = writeln!(
            self.out,
            "{GREEN}Fetching changes with git depth set to 20...{R}"
        );
        let path = self.ctx.project_path.to_string();
        self.line(&format!(
            "Initialized empty Git repository in /builds/{path}/.git/"
        ));
        let _ = writeln!(self.out, "{GREEN}Created fresh repository.{R}");
        let (short, r) = (self.short_sha().to_string(), self.ctx.git_ref.to_string());
        let _ = writeln!(
            self.out,
            "{GREEN}Checking out {short} as detached HEAD (ref is {r})...{R}"
        );
        let _ = writeln!(self.out, "\n{GREEN}Skipping Git submodules setup{R}");
        self.end("get_sources", 0.07);
    }

    fn cache(&mut self, key: &str) {
        let header = format!("\x1b[0K{CYAN}Restoring cache{R}{R}");
        self.start("restore_cache", "[collapsed=true]", &header, 0.07);
        let _ = writeln!(self.out, "{GREEN}Checking cache for {key}-protected...{R}");
        let etag = self.hex(32);
        let _ = writeln!(
            self.out,
            "Downloading cache from https://storage.googleapis.com/acme-runner-cache/project/{}/{key}-protected{R}  ETag=\"{etag}\"",
            self.ctx.project_id
        );
        let _ = writeln!(self.out, "{GREEN}Successfully extracted cache{R}");
        self.end("restore_cache", 0.1);
    }

    fn step_script(&mut self) {
        self.runner_section(
            "step_script",
            "Executing \"step_script\" stage of the job script",
            0.1,
        );
        let image = self.ctx.image.to_string();
        let digest = self.hex(64);
        let _ = writeln!(
            self.out,
            "\x1b[0KUsing docker image sha256:{digest} for {image} ...{R}"
        );
    }

    /// A script step in its own collapsed, duration-less section (FF_SCRIPT_SECTIONS).
    fn script_step(&mut self, idx: usize, cmd: &str, output: &[&str], frac: f64) {
        let name = format!("section_script_step_{idx}");
        let header = format!("{GREEN}$ {cmd}{R}");
        self.start(&name, "[hide_duration=true,collapsed=true]", &header, frac);
        for l in output {
            self.line(l);
        }
        self.end(&name, frac + 0.01);
    }

    fn finish(mut self, ok: bool, fail_line: &str, artifacts: Option<&str>) -> Rendered {
        let body = std::mem::take(&mut self.out);
        self.end("step_script", 0.95);
        if let Some(paths) = artifacts {
            let (name, title) = if ok {
                (
                    "upload_artifacts_on_success",
                    "Uploading artifacts for successful job",
                )
            } else {
                (
                    "upload_artifacts_on_failure",
                    "Uploading artifacts for failed job",
                )
            };
            self.runner_section(name, title, 0.96);
            let _ = writeln!(self.out, "{GREEN}Uploading artifacts...{R}");
            let _ = writeln!(
                self.out,
                "{paths}: found 1 matching artifact files and directories{R} "
            );
            let id = self.ctx.job_id;
            let _ = writeln!(
                self.out,
                "Uploading artifacts as \"archive\" to coordinator... 201 Created{R}  id{R}={id} responseStatus{R}=201 Created token{R}=glcbt-64"
            );
            self.end(name, 0.98);
        }
        self.runner_section(
            "cleanup_file_variables",
            "Cleaning up project directory and file based variables",
            0.98,
        );
        self.end("cleanup_file_variables", 1.0);
        self.line("");
        if ok {
            let _ = writeln!(self.out, "{GREEN}Job succeeded{R}");
        } else {
            let _ = writeln!(self.out, "{RED}{fail_line}\n{R}");
        }
        Rendered {
            body: body.into_bytes(),
            footer: self.out.into_bytes(),
        }
    }
}

/// The tools' output, one file per family; see the note at the top of each for the format.
const TEXT_FILES: [&str; 5] = [
    include_str!("../../assets/sim/logs/cargo.txt"),
    include_str!("../../assets/sim/logs/web.txt"),
    include_str!("../../assets/sim/logs/python.txt"),
    include_str!("../../assets/sim/logs/deploy.txt"),
    include_str!("../../assets/sim/logs/docs.txt"),
];

/// Every block of every text file by name, escapes resolved, parsed once.
static TEXT: LazyLock<BTreeMap<&'static str, String>> =
    LazyLock::new(|| TEXT_FILES.iter().flat_map(|f| parse_blocks(f)).collect());

/// `@@ name` starts a block that runs to the next one; what comes before the first is a note.
fn parse_blocks(src: &'static str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for line in src.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("@@ ") {
            out.push((name.trim_end(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            let line = line.strip_suffix("\\c\n").unwrap_or(line);
            body.push_str(&line.replace("\\e", "\x1b").replace("\\r", "\r"));
        }
    }
    out
}

/// A block's text; empty for an unknown name (the pinned-log test fails on that).
fn block(name: &str) -> &'static str {
    let text = TEXT.get(name).map_or("", String::as_str);
    debug_assert!(!text.is_empty(), "no log text block {name:?}");
    text
}

/// A block's lines, for lists (crates, test names, suites).
fn list(name: &str) -> impl Iterator<Item = &'static str> {
    block(name).lines()
}

/// Rust crates as `(name, version)`, for believable `Compiling` lines.
fn crates() -> impl Iterator<Item = (&'static str, &'static str)> {
    list("crates").filter_map(|l| l.split_once(' '))
}

impl W<'_> {
    /// Writes a block as it stands.
    fn text(&mut self, name: &str) {
        self.out.push_str(block(name));
    }

    /// Writes a block with its `{{var}}`s filled from `vars`; an unknown one stays as written.
    fn fill(&mut self, name: &str, vars: &[(&str, &dyn std::fmt::Display)]) {
        let mut rest = block(name);
        while let Some(open) = rest.find("{{") {
            self.out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                rest = &rest[open..];
                break;
            };
            let key = &after[..close];
            match vars.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => {
                    let _ = write!(self.out, "{v}");
                }
                None => self.out.push_str(&rest[open..open + close + 4]),
            }
            rest = &after[close + 2..];
        }
        self.out.push_str(rest);
    }

    fn cargo_version_step(&mut self) {
        self.script_step(
            0,
            "cargo --version",
            &[block("cargo_version").trim_end()],
            0.11,
        );
    }

    /// `Compiling`/`Checking` of the platform crate itself.
    fn own_crate(&mut self, block: &str) {
        let version = format!("0.14.2 (/builds/{})", self.ctx.project_path);
        self.fill(block, &[("name", &"platform"), ("version", &version)]);
    }
}

fn cargo_compile(w: &mut W, profile: &str) {
    let total = crates().count() + 1;
    for (i, (name, version)) in crates().enumerate() {
        w.fill("cargo_compiling", &[("name", &name), ("version", &version)]);
        if i % 6 == 5 {
            // cargo redraws its progress bar in place with `\r`
            let done = i + 1;
            let bar = format!("{:<25}", "=".repeat(done * 25 / total));
            w.fill(
                "cargo_building",
                &[
                    ("bar", &bar),
                    ("done", &done),
                    ("total", &total),
                    ("name", &name),
                ],
            );
        }
    }
    w.own_crate("cargo_compiling");
    let secs = w.next(40, 140);
    let sec = format!("{:02}", secs % 60);
    w.fill(
        "cargo_finished_release",
        &[("profile", &profile), ("min", &(secs / 60)), ("sec", &sec)],
    );
}

/// The test run's lines up to the verdict; returns the number of tests.
fn cargo_test_lines(w: &mut W, failing: bool) -> u64 {
    let extra = w.next(120, 180);
    let total = list("rust_tests").count() as u64 + extra + u64::from(failing);
    let hash = w.hex(16);
    w.fill("cargo_test_running", &[("hash", &hash), ("total", &total)]);
    for t in list("rust_tests") {
        w.fill("cargo_test_ok", &[("name", &t)]);
    }
    for i in 0..extra {
        let module = ["api", "billing", "worker", "db", "config"][(i % 5) as usize];
        let name = format!("{module}::tests::case_{i:03}");
        w.fill("cargo_test_ok", &[("name", &name)]);
        if i == extra / 2 {
            w.text("cargo_test_ignored");
        }
    }
    if failing {
        w.text("cargo_test_failed");
    }
    total
}

/// The job's script: what runs in which order, with its random values; the output text comes
/// from the blocks. Returns (succeeded, verdict line when failed, artifact paths).
fn render_kind(kind: LogKind, w: &mut W) -> (bool, String, Option<&'static str>) {
    let exit = |code: u32| format!("ERROR: Job failed: exit code {code}");
    match kind {
        LogKind::CargoBuild | LogKind::CargoBuildError => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.cargo_version_step();
            w.cmd("cargo build --locked --release");
            if kind == LogKind::CargoBuild {
                cargo_compile(w, "release");
                (true, String::new(), Some("target/release/platform"))
            } else {
                for (name, version) in crates().take(28) {
                    w.fill("cargo_compiling", &[("name", &name), ("version", &version)]);
                }
                w.own_crate("cargo_compiling");
                w.text("cargo_build_error");
                (false, exit(101), None)
            }
        }
        LogKind::CargoTest | LogKind::CargoTestFail | LogKind::Timeout => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.cargo_version_step();
            w.cmd("cargo test --locked --workspace");
            cargo_compile(w, "test");
            if kind == LogKind::Timeout {
                w.text("cargo_test_hangs");
                for i in 0..18 {
                    let name = format!("integration::checkout::flow_{i:02}");
                    w.fill("cargo_test_ok", &[("name", &name)]);
                }
                w.text("cargo_test_stuck");
                return (false, block("verdict_timeout").trim_end().into(), None);
            }
            let fail = kind == LogKind::CargoTestFail;
            let total = cargo_test_lines(w, fail);
            let secs = format!("{:.2}", w.next(280, 520) as f64 / 100.0);
            if fail {
                let passed = total - 2;
                w.fill(
                    "cargo_test_failures",
                    &[("passed", &passed), ("secs", &secs)],
                );
                (false, exit(101), None)
            } else {
                let passed = total - 1;
                w.fill(
                    "cargo_test_result_ok",
                    &[("passed", &passed), ("secs", &secs)],
                );
                let cov = format!("{:.2}", 70.0 + w.next(0, 2000) as f64 / 100.0);
                w.cmd("cargo llvm-cov report --summary-only | tail -1");
                w.fill("llvm_cov_total", &[("cov", &cov)]);
                (true, String::new(), Some("coverage/cobertura.xml"))
            }
        }
        LogKind::Clippy | LogKind::ClippyFail => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.cmd("rustup component add clippy");
            w.text("rustup_clippy");
            w.cmd("cargo clippy --all-targets --locked -- -D warnings");
            for (name, version) in crates().skip(10).take(16) {
                w.fill("cargo_checking", &[("name", &name), ("version", &version)]);
            }
            w.own_crate("cargo_checking");
            if kind == LogKind::ClippyFail {
                w.text("clippy_errors");
                (false, exit(101), None)
            } else {
                let secs = w.next(20, 70);
                let frac = format!("{:02}", w.next(0, 100));
                w.fill("cargo_finished_dev", &[("secs", &secs), ("frac", &frac)]);
                (true, String::new(), None)
            }
        }
        LogKind::Jest | LogKind::JestFail | LogKind::NpmNetworkFail => {
            w.prologue();
            w.sources();
            w.cache("npm-main");
            w.step_script();
            w.cmd("cd web");
            w.cmd("npm ci --no-audit --prefer-offline");
            // npm's spinner redraws in place
            for (i, phase) in list("npm_phases").enumerate() {
                let bar = format!("{:░<14}", "█".repeat(i * 4 + 2));
                w.fill("npm_spinner", &[("bar", &bar), ("phase", &phase)]);
            }
            if kind == LogKind::NpmNetworkFail {
                w.text("npm_network_error");
                return (false, exit(1), None);
            }
            let packages = w.next(1100, 1400);
            let secs = w.next(14, 40);
            w.fill("npm_added", &[("packages", &packages), ("secs", &secs)]);
            w.cmd("npm test -- --ci --colors");
            w.text("jest_banner");
            let suites = list("jest_suites").count();
            for s in list("jest_suites") {
                let (dir, file) = s.rsplit_once('/').unwrap_or(("", s));
                let secs = format!("{}.{}", w.next(1, 6), w.next(0, 10));
                w.fill(
                    "jest_pass",
                    &[("dir", &dir), ("file", &file), ("secs", &secs)],
                );
            }
            let total = w.next(160, 200);
            if kind == LogKind::JestFail {
                w.fill(
                    "jest_failed",
                    &[
                        ("passed_suites", &suites),
                        ("suites", &(suites + 1)),
                        ("passed", &(total - 1)),
                        ("total", &total),
                    ],
                );
                (false, exit(1), None)
            } else {
                w.fill("jest_passed", &[("suites", &suites), ("total", &total)]);
                (true, String::new(), Some("web/coverage/"))
            }
        }
        LogKind::Pytest | LogKind::PytestFail => {
            w.prologue();
            w.sources();
            w.cache("pip-main");
            w.step_script();
            w.cmd("pip install -q -r ml/requirements.txt");
            w.cmd("cd ml && pytest -q --color=yes");
            let n = w.next(60, 70);
            let path = w.ctx.project_path;
            w.fill("pytest_start", &[("path", &path), ("n", &n)]);
            if kind == LogKind::PytestFail {
                w.fill("pytest_failed", &[("passed", &(n - 1))]);
                (false, exit(1), None)
            } else {
                w.fill("pytest_passed", &[("n", &n)]);
                (true, String::new(), None)
            }
        }
        LogKind::CargoAudit | LogKind::CargoAuditFail => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("cargo audit --color always");
            let advisories = w.next(600, 700);
            let crates = w.next(280, 340);
            w.fill(
                "cargo_audit_start",
                &[("advisories", &advisories), ("crates", &crates)],
            );
            if kind == LogKind::CargoAuditFail {
                w.text("cargo_audit_vulnerable");
                (false, exit(1), None)
            } else {
                w.text("cargo_audit_ok");
                (true, String::new(), None)
            }
        }
        LogKind::DockerBuild => {
            w.prologue();
            w.sources();
            w.step_script();
            let image = format!("registry.acme.dev/{}:{}", w.ctx.project_path, w.short_sha());
            w.cmd(&format!("docker build --pull -t {image} ."));
            for (i, step) in list("docker_steps").enumerate() {
                let secs = format!("{}.{}", w.next(0, 40), w.next(0, 10));
                w.fill(
                    "docker_step",
                    &[("n", &(i + 1)), ("step", &step), ("secs", &secs)],
                );
            }
            w.cmd(&format!("docker push {image}"));
            for layer in 0..3 {
                let id = w.hex(12);
                let size = w.next(8, 60);
                for step in 1..=5 {
                    let bar = format!("{:<49}", "=".repeat((step * 10) as usize));
                    let done = format!("{}.{}", size * step / 5, w.next(0, 10));
                    w.fill(
                        "docker_pushing",
                        &[
                            ("layer", &id),
                            ("bar", &bar),
                            ("done", &done),
                            ("size", &size),
                        ],
                    );
                }
                let pad = " ".repeat(50);
                w.fill("docker_pushed", &[("layer", &id), ("pad", &pad)]);
                if layer == 2 {
                    let digest = w.hex(64);
                    let tag = w.short_sha().to_string();
                    w.fill("docker_digest", &[("tag", &tag), ("digest", &digest)]);
                }
            }
            (true, String::new(), None)
        }
        LogKind::Deploy => {
            w.prologue();
            w.sources();
            w.step_script();
            let env = w.ctx.environment.unwrap_or("staging");
            w.cmd(&format!("./deploy/rollout.sh {env}"));
            let (path, tag) = (w.ctx.project_path, w.short_sha().to_string());
            let p95 = w.next(110, 190);
            w.fill(
                "rollout",
                &[("env", &env), ("path", &path), ("tag", &tag), ("p95", &p95)],
            );
            (true, String::new(), None)
        }
        LogKind::RunnerSystemFailure => {
            w.prologue();
            w.text("docker_pull_refused");
            (
                false,
                block("verdict_system_failure").trim_end().into(),
                None,
            )
        }
        LogKind::SecretLeak => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("echo \"debugging deploy credentials\"");
            w.text("echo_debugging");
            w.cmd("env | sort | grep -E 'AWS|TOKEN|DEPLOY'");
            // Fake but well-formed credentials so redaction has something to do.
            const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let mut pick = |set: &[u8], n: usize| -> String {
                (0..n)
                    .map(|_| set[w.next(0, set.len() as u64) as usize] as char)
                    .collect()
            };
            let access_key = format!("AKIA{}", pick(UPPER, 16));
            let secret_key = format!("{}/{}", pick(ALNUM, 20), pick(ALNUM, 19));
            let token = format!("glpat-{}", pick(ALNUM, 20));
            w.fill(
                "env_secrets",
                &[
                    ("access_key", &access_key),
                    ("secret_key", &secret_key),
                    ("token", &token),
                ],
            );
            w.cmd(&format!(
                "curl -sf -H \"PRIVATE-TOKEN: {token}\" https://gitlab.acme.dev/api/v4/projects/1/deployments | head -c 200"
            ));
            w.cmd("aws sts get-caller-identity");
            w.text("aws_invalid_token");
            (false, exit(254), None)
        }
        LogKind::Docs | LogKind::DocsLinks => {
            w.prologue();
            w.sources();
            w.step_script();
            if kind == LogKind::Docs {
                w.cmd("mdbook build docs");
                w.text("mdbook");
                (true, String::new(), Some("docs/book"))
            } else {
                w.cmd("lychee --no-progress 'docs/**/*.md' README.md");
                let n = w.next(80, 140);
                w.fill("lychee", &[("n", &n)]);
                (true, String::new(), None)
            }
        }
        LogKind::E2e => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("npx playwright test --reporter=line");
            let n = w.next(30, 45);
            w.fill("playwright_running", &[("n", &n)]);
            for i in 1..=n {
                w.fill(
                    "playwright_progress",
                    &[("i", &i), ("n", &n), ("line", &(10 + i))],
                );
            }
            w.fill("playwright_passed", &[("n", &n)]);
            (true, String::new(), Some("playwright-report/"))
        }
    }
}

/// The complete log of a job.
pub fn render(kind: LogKind, ctx: &LogCtx) -> Rendered {
    let mut w = W::new(ctx);
    let (ok, fail_line, artifacts) = render_kind(kind, &mut w);
    if kind == LogKind::RunnerSystemFailure {
        // A system failure never reaches the script: no cleanup sections follow.
        let body = std::mem::take(&mut w.out).into_bytes();
        let footer = format!("{RED}{fail_line}\n{R}").into_bytes();
        return Rendered { body, footer };
    }
    w.finish(ok, &fail_line, artifacts)
}

/// The log as seen at `fraction` (0..1) of the run: a prefix of the body cut at a line end.
pub fn partial(r: &Rendered, fraction: f64) -> Vec<u8> {
    let f = fraction.clamp(0.0, 1.0);
    let target = (r.body.len() as f64 * f) as usize;
    let cut = r.body[target..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(r.body.len(), |p| target + p + 1);
    r.body[..cut].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(job_id: u64) -> LogCtx<'static> {
        LogCtx {
            seed: 42,
            job_id,
            job_name: "test:unit",
            image: "rust:1.88",
            project_path: "acme/platform",
            project_id: 1,
            sha: "0123456789abcdef0123456789abcdef01234567",
            git_ref: "refs/merge-requests/8/head",
            started_s: 1_748_854_800,
            dur_s: 130,
            environment: None,
        }
    }

    #[test]
    fn every_kind_renders_with_sections_and_verdict() {
        for (kind, _) in NAMES {
            let r = render(*kind, &ctx(30001));
            let all = [r.body.as_slice(), r.footer.as_slice()].concat();
            let text = String::from_utf8_lossy(&all);
            assert!(text.contains("section_start:"), "{kind:?} has sections");
            assert!(
                text.contains("Job succeeded") || text.contains("ERROR: Job failed"),
                "{kind:?} ends with a verdict"
            );
            assert_eq!(LogKind::parse(kind.name()), Some(*kind));
        }
    }

    #[test]
    fn section_markers_use_the_runner_wire_form() {
        let r = render(LogKind::CargoTest, &ctx(30001));
        let text = String::from_utf8_lossy(&r.body);
        assert!(text.contains("\x1b[0Ksection_start:1748854800:prepare_executor\r\x1b[0K"));
        assert!(text.contains(":restore_cache[collapsed=true]\r\x1b[0K"));
        assert!(text.contains("[hide_duration=true,collapsed=true]\r\x1b[0K"));
        assert!(text.contains("\x1b[0Ksection_end:"));
    }

    #[test]
    fn logs_are_deterministic_per_seed_and_job() {
        let a = render(LogKind::SecretLeak, &ctx(30001));
        let b = render(LogKind::SecretLeak, &ctx(30001));
        let c = render(LogKind::SecretLeak, &ctx(30002));
        assert_eq!(a.body, b.body);
        assert_ne!(a.body, c.body);
        let text = String::from_utf8_lossy(&a.body);
        assert!(text.contains("DEPLOY_TOKEN=glpat-"));
        assert!(text.contains("AWS_ACCESS_KEY_ID=AKIA"));
    }

    #[test]
    fn colours_cover_16_256_and_truecolor() {
        let all: Vec<u8> = NAMES
            .iter()
            .flat_map(|(k, _)| render(*k, &ctx(30001)).body)
            .collect();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("\x1b[31;1m") || text.contains("\x1b[32;1m"));
        assert!(text.contains("\x1b[38;5;208m"));
        assert!(text.contains("\x1b[38;2;"));
        assert!(text.contains("\r"), "progress bars redraw with CR");
    }

    /// SHA-256 of every kind's full log (body, a 0xff separator, footer) over three contexts:
    /// a unit-test job, a deploy to production with another seed, and a job with a short sha
    /// and no run time. Pins the generated bytes so the log text can move between code and
    /// asset files without changing what the simulator serves.
    fn digest(kind: LogKind) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let deploy = LogCtx {
            seed: 7,
            job_name: "deploy:production",
            image: "alpine:3.20",
            environment: Some("production"),
            git_ref: "main",
            ..ctx(30777)
        };
        let short = LogCtx {
            sha: "abc",
            dur_s: 0,
            project_path: "g/sub/app",
            project_id: 12,
            ..ctx(31000)
        };
        for c in [ctx(30001), deploy, short] {
            let r = render(kind, &c);
            h.update(&r.body);
            h.update([0xff]);
            h.update(&r.footer);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    const PINNED: &[(&str, &str)] = &[
        (
            "cargo_build",
            "d91ba6b9ad6c8c8599ac79d3d92bb1ace0e63d76cabc6be9861f6326c633340c",
        ),
        (
            "cargo_build_error",
            "4335834e0e3118ed25bc6f1f478aa5343401a8ef47aa625313e3ec9ba7901829",
        ),
        (
            "cargo_test",
            "3bc49253d4a1de2cbfbe3ebad355ae8880f4388b15d970e827f0cf4e6352148d",
        ),
        (
            "cargo_test_fail",
            "0fad64bcd090fb7ee6dc10f128689b5ef9ec968c9b06111773d6002384a815ea",
        ),
        (
            "clippy",
            "b2f9cb2f3f0bb1b7233172d5312046ee268e78362643e8cc43328d0549ee8659",
        ),
        (
            "clippy_fail",
            "5cb96298c9ce95594db032de1ac71cc4ee38a8c4953b12cc8f689f18880dadf0",
        ),
        (
            "jest",
            "7e8c74a90f0ee76d58cf30a376133593db388953aa1f31973bb5098a75fc75f3",
        ),
        (
            "jest_fail",
            "c3ddc02939a18cb5eb7f450bd43f16b940653cf0f5fda2a67aba29470515e7f9",
        ),
        (
            "pytest",
            "4218effecc0579a18faec89793aa6c5e9c63877ff890679032097d02dbac0897",
        ),
        (
            "pytest_fail",
            "9f8eb8995c0273be2e87f77c7c2207b0d706ce98bed261716f231ed7d1f18f2b",
        ),
        (
            "cargo_audit",
            "d2e5e218f4d9f03b619b8707a165e6592e9769f7d4756f8f4f3cd9908eedc2f7",
        ),
        (
            "cargo_audit_fail",
            "ce61814c645fb73d488d5af8099fd910676caba9d0b36bdcfea598aca44826d4",
        ),
        (
            "docker_build",
            "6f6e47ed33de2d157eb30deeb2315e73791137004cf8a111368307c3e9c5251d",
        ),
        (
            "deploy",
            "efdcd9f30a99317400bff2c63f785cc3fcc821f62ad4bb550213dc43180704b3",
        ),
        (
            "runner_system_failure",
            "678327bdb8319d1c7f1f608a106a3ac89fb72d57d3211b2c944205a40ab7f4c1",
        ),
        (
            "timeout",
            "d1d28f83f1a3f742cae33ef3bf13290cc032878f31f04da3be0b23ebe97639fc",
        ),
        (
            "npm_network_fail",
            "7236753dcead3d8df15b46d213315f3081bd999e711c40c97745532cd1362319",
        ),
        (
            "secret_leak",
            "8a93e8b23229f2d9dd2eb97a2cb2b4506759582108cdf9aa54344860cb6444d4",
        ),
        (
            "docs",
            "913c2262da2b51ca449e2b5b4e35043b9331b53209cd919344656fa3f688e31c",
        ),
        (
            "docs_links",
            "e600a58ecb5a1bd70b71216863efca3459a30bc5f2525273a17bb59fe66717cb",
        ),
        (
            "e2e",
            "bc605d71af701db2be98a90ae1b77edfa98b08b9c477b571c30f00ef98e7daef",
        ),
    ];

    #[test]
    fn generated_logs_are_pinned() {
        let got: Vec<(&str, String)> = NAMES.iter().map(|(k, n)| (*n, digest(*k))).collect();
        let table: String = got
            .iter()
            .map(|(n, d)| format!("        (\"{n}\", \"{d}\"),\n"))
            .collect();
        assert_eq!(got.len(), PINNED.len(), "pin table:\n{table}");
        for ((n, d), (pn, pd)) in got.iter().zip(PINNED) {
            assert_eq!((*n, d.as_str()), (*pn, *pd), "pin table:\n{table}");
        }
    }

    #[test]
    fn text_blocks_are_unique_and_fully_filled() {
        let mut names: Vec<&str> = TEXT_FILES
            .iter()
            .flat_map(|f| parse_blocks(f))
            .map(|(n, _)| n)
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "block names repeat across files");
        for (kind, _) in NAMES {
            let r = render(*kind, &ctx(30001));
            let text = String::from_utf8_lossy(&[r.body, r.footer].concat()).into_owned();
            assert!(!text.contains("{{"), "{kind:?} has an unfilled value");
            assert!(
                !text.contains("\\e") && !text.contains("\\c"),
                "{kind:?} escapes"
            );
        }
    }

    #[test]
    fn partial_log_is_a_line_aligned_prefix() {
        let r = render(LogKind::CargoBuild, &ctx(30001));
        let half = partial(&r, 0.5);
        assert!(half.len() < r.body.len());
        assert!(r.body.starts_with(&half));
        assert_eq!(half.last(), Some(&b'\n'));
        assert_eq!(partial(&r, 1.0), r.body);
        assert!(partial(&r, 0.0).len() < 200);
    }
}
