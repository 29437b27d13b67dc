//! Job logs, generated on demand and deterministically from (seed, job id): nothing is stored,
//! so a world with thousands of jobs costs no log memory. The bytes follow gitlab-runner's wire
//! form: `\e[0K` erase-line, SGR colours (16, 256 and truecolor), `\r` progress redraws and
//! section markers `\e[0Ksection_start:<ts>:<name>[opts]\r\e[0K<header>` … `section_end`.

use std::fmt::Write as _;

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
const YELLOW: &str = "\x1b[0;33m";

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

/// Crates a Rust build compiles (name, version), for believable `Compiling` lines.
const CRATES: &[(&str, &str)] = &[
    ("proc-macro2", "1.0.86"),
    ("unicode-ident", "1.0.12"),
    ("libc", "0.2.155"),
    ("cfg-if", "1.0.0"),
    ("once_cell", "1.19.0"),
    ("itoa", "1.0.11"),
    ("memchr", "2.7.4"),
    ("pin-project-lite", "0.2.14"),
    ("bytes", "1.6.0"),
    ("quote", "1.0.36"),
    ("syn", "2.0.68"),
    ("serde", "1.0.203"),
    ("serde_derive", "1.0.203"),
    ("tokio-macros", "2.3.0"),
    ("mio", "0.8.11"),
    ("tokio", "1.38.0"),
    ("tracing-core", "0.1.32"),
    ("tracing", "0.1.40"),
    ("http", "1.1.0"),
    ("hyper", "1.3.1"),
    ("tower", "0.4.13"),
    ("axum-core", "0.4.3"),
    ("axum", "0.7.5"),
    ("serde_json", "1.0.117"),
    ("ryu", "1.0.18"),
    ("uuid", "1.9.1"),
    ("chrono", "0.4.38"),
    ("rust_decimal", "1.35.0"),
    ("sqlx-core", "0.7.4"),
    ("sqlx-postgres", "0.7.4"),
    ("sqlx", "0.7.4"),
    ("rustls", "0.23.10"),
    ("reqwest", "0.12.5"),
    ("opentelemetry", "0.23.0"),
    ("anyhow", "1.0.86"),
    ("thiserror", "1.0.61"),
];

fn cargo_compile(w: &mut W, profile: &str) {
    let total = CRATES.len() + 1;
    for (i, (name, ver)) in CRATES.iter().enumerate() {
        let _ = writeln!(w.out, "\x1b[1m\x1b[32m   Compiling\x1b[0m {name} v{ver}");
        if i % 6 == 5 {
            // cargo redraws its progress bar in place with `\r`
            let done = i + 1;
            let bar = "=".repeat(done * 25 / total);
            let _ = write!(
                w.out,
                "\x1b[1m\x1b[36m    Building\x1b[0m [{bar:<25}] {done}/{total}: {name}\r"
            );
            let _ = write!(w.out, "\x1b[K");
        }
    }
    let _ = writeln!(
        w.out,
        "\x1b[1m\x1b[32m   Compiling\x1b[0m platform v0.14.2 (/builds/{})",
        w.ctx.project_path
    );
    let secs = w.next(40, 140);
    let _ = writeln!(
        w.out,
        "\x1b[1m\x1b[32m    Finished\x1b[0m `{profile}` profile [optimized] target(s) in {}m {:02}s",
        secs / 60,
        secs % 60
    );
}

const RUST_TESTS: &[&str] = &[
    "api::accounts::tests::creates_account_with_default_plan",
    "api::accounts::tests::rejects_duplicate_email",
    "api::checkout::tests::session_expires_after_thirty_minutes",
    "api::checkout::tests::idempotency_key_replays_response",
    "api::rate_limit::tests::bucket_refills_over_time",
    "api::routes::tests::healthz_reports_db_latency",
    "billing::currency::tests::minor_units_table_is_complete",
    "billing::invoice::tests::applies_tax_after_discounts",
    "billing::invoice::tests::rounds_half_even",
    "billing::invoice::tests::partial_refund_reduces_total",
    "billing::reconcile::tests::matches_payouts_by_reference",
    "billing::reconcile::tests::flags_orphan_transfers",
    "worker::jobs::tests::webhook_retry_uses_backoff",
    "worker::jobs::tests::dead_letters_after_five_attempts",
    "config::loader::tests::env_overrides_file",
];

fn cargo_test_lines(w: &mut W, failing: Option<&str>) -> (u64, u64) {
    let extra = w.next(120, 180);
    let total = RUST_TESTS.len() as u64 + extra + u64::from(failing.is_some());
    let hash = w.hex(16);
    let _ = writeln!(
        w.out,
        "\x1b[1m\x1b[32m     Running\x1b[0m unittests src/lib.rs (target/debug/deps/platform-{hash})"
    );
    w.line("");
    w.line(&format!("running {total} tests"));
    for t in RUST_TESTS {
        let _ = writeln!(w.out, "test {t} ... \x1b[32mok\x1b[0m");
    }
    for i in 0..extra {
        let module = ["api", "billing", "worker", "db", "config"][(i % 5) as usize];
        let _ = writeln!(
            w.out,
            "test {module}::tests::case_{i:03} ... \x1b[32mok\x1b[0m"
        );
        if i == extra / 2 {
            let _ = writeln!(
                w.out,
                "test db::tests::migrations_apply_cleanly ... \x1b[33mignored\x1b[0m, needs postgres"
            );
        }
    }
    if let Some(f) = failing {
        let _ = writeln!(w.out, "test {f} ... \x1b[31mFAILED\x1b[0m");
    }
    (total, extra)
}

fn render_kind(kind: LogKind, w: &mut W) -> (bool, String, Option<&'static str>) {
    let exit = |code: u32| format!("ERROR: Job failed: exit code {code}");
    match kind {
        LogKind::CargoBuild | LogKind::CargoBuildError => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.script_step(
                0,
                "cargo --version",
                &["cargo 1.88.0 (873a06493 2025-05-10)"],
                0.11,
            );
            w.cmd("cargo build --locked --release");
            if kind == LogKind::CargoBuild {
                cargo_compile(w, "release");
                (true, String::new(), Some("target/release/platform"))
            } else {
                for (name, ver) in CRATES.iter().take(28) {
                    let _ = writeln!(w.out, "\x1b[1m\x1b[32m   Compiling\x1b[0m {name} v{ver}");
                }
                let _ = writeln!(
                    w.out,
                    "\x1b[1m\x1b[32m   Compiling\x1b[0m platform v0.14.2 (/builds/{})",
                    w.ctx.project_path
                );
                let e = "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0308]\x1b[0m\x1b[0m\x1b[1m: mismatched types\x1b[0m";
                w.line(e);
                for l in [
                    "\x1b[0m  \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m--> \x1b[0m\x1b[0msrc/billing/account.rs:42:29\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m",
                    "\x1b[0m\x1b[1m\x1b[38;5;12m42\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m \x1b[0m\x1b[0m    let id: AccountId = row.try_get(\"id\")?;\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m             \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m---------\x1b[0m\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;9m^^^^^^^^^^^^^^^^^^\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;9mexpected `AccountId`, found `Uuid`\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m             \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m             \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12mexpected due to this\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m",
                    "\x1b[0m\x1b[1m\x1b[38;5;14mhelp\x1b[0m\x1b[0m: call `Into::into` on this expression to convert `Uuid` into `AccountId`",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m",
                    "\x1b[0m\x1b[1m\x1b[38;5;12m42\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m| \x1b[0m\x1b[0m    let id: AccountId = row.try_get(\"id\")?\x1b[0m\x1b[0m\x1b[38;5;10m.into()\x1b[0m\x1b[0m;",
                    "",
                    "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0599]\x1b[0m\x1b[0m\x1b[1m: no method named `as_uuid` found for struct `AccountId` in the current scope\x1b[0m",
                    "\x1b[0m  \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m--> \x1b[0m\x1b[0msrc/api/accounts.rs:118:38\x1b[0m",
                    "\x1b[0m    \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m",
                    "\x1b[0m\x1b[1m\x1b[38;5;12m118\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m     let key = format!(\"acct:{}\", account.id.as_uuid());\x1b[0m",
                    "\x1b[0m    \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m|\x1b[0m\x1b[0m                                          \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;9m^^^^^^^\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;9mmethod not found in `AccountId`\x1b[0m",
                    "",
                    "\x1b[0m\x1b[1mSome errors have detailed explanations: E0308, E0599.\x1b[0m",
                    "\x1b[0m\x1b[1mFor more information about an error, try `rustc --explain E0308`.\x1b[0m",
                    "\x1b[1m\x1b[31merror\x1b[0m\x1b[1m:\x1b[0m could not compile `platform` (lib) due to 2 previous errors",
                ] {
                    w.line(l);
                }
                (false, exit(101), None)
            }
        }
        LogKind::CargoTest | LogKind::CargoTestFail | LogKind::Timeout => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.script_step(
                0,
                "cargo --version",
                &["cargo 1.88.0 (873a06493 2025-05-10)"],
                0.11,
            );
            w.cmd("cargo test --locked --workspace");
            cargo_compile(w, "test");
            if kind == LogKind::Timeout {
                w.line("     Running tests/integration/main.rs (target/debug/deps/integration-4be1c2d9a07e31f5)");
                w.line("");
                w.line("running 42 tests");
                for i in 0..18 {
                    let _ = writeln!(
                        w.out,
                        "test integration::checkout::flow_{i:02} ... \x1b[32mok\x1b[0m"
                    );
                }
                w.line("test integration::billing::reconcile_large_month has been running for over 60 seconds");
                w.line("test integration::billing::settle_all_tenants has been running for over 60 seconds");
                return (
                    false,
                    "ERROR: Job failed: execution took longer than 1h0m0s seconds".into(),
                    None,
                );
            }
            let failing = "billing::invoice::tests::zero_decimal_currency_rounds_to_whole_units";
            let fail = kind == LogKind::CargoTestFail;
            let (total, _) = cargo_test_lines(w, fail.then_some(failing));
            let secs = w.next(280, 520) as f64 / 100.0;
            if fail {
                w.line("");
                w.line("failures:");
                w.line("");
                w.line(&format!("---- {failing} stdout ----"));
                w.line(&format!(
                    "thread '{failing}' panicked at src/billing/invoice.rs:214:9:"
                ));
                w.line("assertion `left == right` failed: JPY totals must not have minor units");
                w.line("  left: 1235");
                w.line(" right: 1234");
                w.line(
                    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
                );
                w.line("");
                w.line("");
                w.line("failures:");
                w.line(&format!("    {failing}"));
                w.line("");
                let _ = writeln!(
                    w.out,
                    "test result: \x1b[31mFAILED\x1b[0m. {} passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in {secs:.2}s",
                    total - 2
                );
                w.line("");
                let _ = writeln!(
                    w.out,
                    "\x1b[1m\x1b[31merror\x1b[0m\x1b[1m:\x1b[0m test failed, to rerun pass `--lib`"
                );
                (false, exit(101), None)
            } else {
                w.line("");
                let _ = writeln!(
                    w.out,
                    "test result: \x1b[32mok\x1b[0m. {} passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in {secs:.2}s",
                    total - 1
                );
                let cov = 70.0 + w.next(0, 2000) as f64 / 100.0;
                w.cmd("cargo llvm-cov report --summary-only | tail -1");
                w.line(&format!(
                    "TOTAL                             18211    3912  {cov:.2}%"
                ));
                (true, String::new(), Some("coverage/cobertura.xml"))
            }
        }
        LogKind::Clippy | LogKind::ClippyFail => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.cmd("rustup component add clippy");
            w.line("info: component 'clippy' for target 'x86_64-unknown-linux-gnu' is up to date");
            w.cmd("cargo clippy --all-targets --locked -- -D warnings");
            for (name, ver) in CRATES.iter().skip(10).take(16) {
                let _ = writeln!(w.out, "\x1b[1m\x1b[32m    Checking\x1b[0m {name} v{ver}");
            }
            let _ = writeln!(
                w.out,
                "\x1b[1m\x1b[32m    Checking\x1b[0m platform v0.14.2 (/builds/{})",
                w.ctx.project_path
            );
            if kind == LogKind::ClippyFail {
                for l in [
                    "\x1b[0m\x1b[1m\x1b[91merror\x1b[0m\x1b[0m\x1b[1m: used `unwrap()` on a `Result` value\x1b[0m",
                    "\x1b[0m  \x1b[0m\x1b[0m\x1b[1m\x1b[94m--> \x1b[0m\x1b[0msrc/api/error.rs:57:17\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m|\x1b[0m",
                    "\x1b[0m\x1b[1m\x1b[94m57\x1b[0m\x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[94m|\x1b[0m\x1b[0m         let body = serde_json::to_string(&payload).unwrap();\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m|\x1b[0m\x1b[0m                    \x1b[0m\x1b[0m\x1b[1m\x1b[91m^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m|\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m= \x1b[0m\x1b[0m\x1b[1mhelp\x1b[0m\x1b[0m: if this value is an `Err`, it will panic",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m= \x1b[0m\x1b[0m\x1b[1mhelp\x1b[0m\x1b[0m: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#unwrap_used",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m= \x1b[0m\x1b[0m\x1b[1mnote\x1b[0m\x1b[0m: `-D clippy::unwrap-used` implied by `-D warnings`",
                    "",
                    "\x1b[0m\x1b[1m\x1b[91merror\x1b[0m\x1b[0m\x1b[1m: this `match` can be collapsed into the outer `if let`\x1b[0m",
                    "\x1b[0m   \x1b[0m\x1b[0m\x1b[1m\x1b[94m--> \x1b[0m\x1b[0msrc/api/routes.rs:131:13\x1b[0m",
                    "\x1b[0m    \x1b[0m\x1b[0m\x1b[1m\x1b[94m= \x1b[0m\x1b[0m\x1b[1mhelp\x1b[0m\x1b[0m: for further information visit https://rust-lang.github.io/rust-clippy/master/index.html#collapsible_match",
                    "",
                    "\x1b[1m\x1b[91merror\x1b[0m\x1b[1m:\x1b[0m could not compile `platform` (lib) due to 2 previous errors",
                ] {
                    w.line(l);
                }
                (false, exit(101), None)
            } else {
                let secs = w.next(20, 70);
                let frac = w.next(0, 100);
                let _ = writeln!(
                    w.out,
                    "\x1b[1m\x1b[32m    Finished\x1b[0m `dev` profile [unoptimized + debuginfo] target(s) in {secs}.{frac:02}s"
                );
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
            for (i, phase) in [
                "idealTree: timing",
                "reify: timing",
                "reify:webpack: http fetch",
            ]
            .iter()
            .enumerate()
            {
                let fill = "█".repeat(i * 4 + 2);
                let _ = write!(w.out, "({fill:░<14}) ⠋ {phase}\r");
            }
            if kind == LogKind::NpmNetworkFail {
                w.out.push_str("\x1b[K");
                for l in [
                    "npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mcode\x1b[39m ETIMEDOUT",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35msyscall\x1b[39m connect",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35merrno\x1b[39m ETIMEDOUT",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m request to https://registry.npmjs.org/webpack/-/webpack-5.91.0.tgz failed, reason: connect ETIMEDOUT 104.16.27.34:443",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m This is a problem related to network connectivity.",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m In most cases you are behind a proxy or have bad network settings.",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m ",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m If you are behind a proxy, please make sure that the",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m \x1b[35mnetwork\x1b[39m 'proxy' config is set properly.  See: 'npm help config'",
                    "",
                    "\x1b[31mnpm\x1b[39m \x1b[31mERR!\x1b[39m A complete log of this run can be found in: /root/.npm/_logs/2025-06-02T08_41_17_412Z-debug-0.log",
                ] {
                    w.line(l);
                }
                return (false, exit(1), None);
            }
            w.out.push_str("\x1b[K");
            let pkgs = w.next(1100, 1400);
            let secs = w.next(14, 40);
            w.line(&format!("added {pkgs} packages in {secs}s"));
            w.cmd("npm test -- --ci --colors");
            w.line("");
            w.line("> web@0.0.0 test");
            w.line("> jest --ci --colors");
            w.line("");
            let suites = [
                "src/cart/Cart.test.tsx",
                "src/cart/useCart.test.ts",
                "src/checkout/Address.test.tsx",
                "src/checkout/Summary.test.tsx",
                "src/pricing/format.test.ts",
                "src/pricing/currency.test.ts",
                "src/account/Login.test.tsx",
                "src/account/Profile.test.tsx",
            ];
            for s in suites {
                let (dir, file) = s.rsplit_once('/').unwrap_or(("", s));
                let (a, b) = (w.next(1, 6), w.next(0, 10));
                let _ = writeln!(
                    w.out,
                    "\x1b[0m\x1b[7m\x1b[1m\x1b[32m PASS \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2m{dir}/\x1b[22m\x1b[1m{file}\x1b[22m ({a}.{b} s)"
                );
            }
            let total_tests = w.next(160, 200);
            if kind == LogKind::JestFail {
                for l in [
                    "\x1b[0m\x1b[7m\x1b[1m\x1b[31m FAIL \x1b[39m\x1b[22m\x1b[27m\x1b[0m \x1b[2msrc/checkout/\x1b[22m\x1b[1mButton.test.tsx\x1b[22m",
                    "  CheckoutButton",
                    "    \x1b[32m✓\x1b[39m \x1b[2mrenders the amount with currency (38 ms)\x1b[22m",
                    "    \x1b[31m✕\x1b[39m \x1b[2mshows a spinner while the payment is pending (22 ms)\x1b[22m",
                    "",
                    "\x1b[1m\x1b[31m  \x1b[1m● \x1b[22m\x1b[1mCheckoutButton › shows a spinner while the payment is pending\x1b[39m\x1b[22m",
                    "",
                    "    \x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoBeInTheDocument\x1b[2m()\x1b[22m",
                    "",
                    "    \x1b[31mreceived\x1b[39m value must be an HTMLElement or an SVGElement.",
                    "    Received has value: \x1b[31mnull\x1b[39m",
                    "",
                    "    \x1b[0m \x1b[90m 41 |\x1b[39m   it(\x1b[32m'shows a spinner while the payment is pending'\x1b[39m\x1b[33m,\x1b[39m () \x1b[33m=>\x1b[39m {\x1b[0m",
                    "    \x1b[0m \x1b[90m 42 |\x1b[39m     render(\x1b[33m<\x1b[39m\x1b[33mCheckoutButton\x1b[39m state\x1b[33m=\x1b[39m\x1b[32m\"pending\"\x1b[39m \x1b[33m/\x1b[39m\x1b[33m>\x1b[39m)\x1b[33m;\x1b[39m\x1b[0m",
                    "    \x1b[0m\x1b[31m\x1b[1m>\x1b[22m\x1b[39m\x1b[90m 43 |\x1b[39m     expect(screen\x1b[33m.\x1b[39mqueryByRole(\x1b[32m'progressbar'\x1b[39m))\x1b[33m.\x1b[39mtoBeInTheDocument()\x1b[33m;\x1b[39m\x1b[0m",
                    "    \x1b[0m \x1b[90m    |\x1b[39m                                                 \x1b[31m\x1b[1m^\x1b[22m\x1b[39m\x1b[0m",
                    "    \x1b[0m \x1b[90m 44 |\x1b[39m   })\x1b[33m;\x1b[39m\x1b[0m",
                    "",
                    "      \x1b[2mat Object.<anonymous> (\x1b[22msrc/checkout/Button.test.tsx\x1b[2m:43:49)\x1b[22m",
                    "",
                ] {
                    w.line(l);
                }
                let _ = writeln!(
                    w.out,
                    "\x1b[1mTest Suites: \x1b[22m\x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m, \x1b[1m\x1b[32m{} passed\x1b[39m\x1b[22m, {} total",
                    suites.len(),
                    suites.len() + 1
                );
                let _ = writeln!(
                    w.out,
                    "\x1b[1mTests:       \x1b[22m\x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m, \x1b[1m\x1b[32m{} passed\x1b[39m\x1b[22m, {total_tests} total",
                    total_tests - 1
                );
                w.line("\x1b[2mRan all test suites\x1b[22m\x1b[2m.\x1b[22m");
                (false, exit(1), None)
            } else {
                let _ = writeln!(
                    w.out,
                    "\x1b[1mTest Suites: \x1b[22m\x1b[1m\x1b[32m{} passed\x1b[39m\x1b[22m, {} total",
                    suites.len(),
                    suites.len()
                );
                let _ = writeln!(
                    w.out,
                    "\x1b[1mTests:       \x1b[22m\x1b[1m\x1b[32m{total_tests} passed\x1b[39m\x1b[22m, {total_tests} total"
                );
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
            let fail = kind == LogKind::PytestFail;
            w.line("\x1b[1m============================= test session starts ==============================\x1b[0m");
            w.line("platform linux -- Python 3.12.4, pytest-8.2.2, pluggy-1.5.0");
            let path = w.ctx.project_path.to_string();
            w.line(&format!("rootdir: /builds/{path}/ml"));
            w.line(&format!("collected {n} items"));
            w.line("");
            w.line("tests/test_features.py \x1b[32m........................\x1b[0m\x1b[32m                          [ 37%]\x1b[0m");
            if fail {
                w.line("tests/test_model.py \x1b[32m...........\x1b[0m\x1b[31mF\x1b[0m\x1b[32m............\x1b[0m\x1b[31m                            [100%]\x1b[0m");
                for l in [
                    "",
                    "=================================== FAILURES ===================================",
                    "\x1b[31m\x1b[1m________________________ test_score_is_calibrated[high] ________________________\x1b[0m",
                    "",
                    "bucket = 'high'",
                    "",
                    "    @pytest.mark.parametrize(\"bucket\", [\"low\", \"mid\", \"high\"])",
                    "    def test_score_is_calibrated(bucket):",
                    "        scores, labels = load_holdout(bucket)",
                    "        observed = labels.mean()",
                    "        expected = model.predict_proba(scores).mean()",
                    ">       assert abs(observed - expected) < 0.02",
                    "\x1b[1m\x1b[31mE       assert 0.0729 < 0.02\x1b[0m",
                    "\x1b[1m\x1b[31mE        +  where 0.0729 = abs((0.4169 - 0.344))\x1b[0m",
                    "",
                    "\x1b[1m\x1b[31mtests/test_model.py\x1b[0m:88: AssertionError",
                    "\x1b[36m\x1b[1m=========================== short test summary info ============================\x1b[0m",
                    "\x1b[31mFAILED\x1b[0m tests/test_model.py::\x1b[1mtest_score_is_calibrated[high]\x1b[0m - assert 0.0729 < 0.02",
                ] {
                    w.line(l);
                }
                let _ = writeln!(
                    w.out,
                    "\x1b[31m========================= \x1b[31m\x1b[1m1 failed\x1b[0m, \x1b[32m{} passed\x1b[0m\x1b[31m in 12.41s\x1b[0m\x1b[31m =========================\x1b[0m",
                    n - 1
                );
                (false, exit(1), None)
            } else {
                w.line("tests/test_model.py \x1b[32m........................\x1b[0m\x1b[32m                             [100%]\x1b[0m");
                let _ = writeln!(
                    w.out,
                    "\x1b[32m============================== \x1b[32m\x1b[1m{n} passed\x1b[0m\x1b[32m in 11.87s\x1b[0m\x1b[32m ==============================\x1b[0m"
                );
                (true, String::new(), None)
            }
        }
        LogKind::CargoAudit | LogKind::CargoAuditFail => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("cargo audit --color always");
            // cargo-audit's 256-colour palette
            w.line("\x1b[38;5;10m\x1b[1m    Fetching\x1b[0m advisory database from `https://github.com/RustSec/advisory-db.git`");
            let n = w.next(600, 700);
            w.line(&format!(
                "\x1b[38;5;10m\x1b[1m      Loaded\x1b[0m {n} security advisories (from /usr/local/cargo/advisory-db)"
            ));
            w.line("\x1b[38;5;10m\x1b[1m    Updating\x1b[0m crates.io index");
            let n = w.next(280, 340);
            w.line(&format!(
                "\x1b[38;5;10m\x1b[1m    Scanning\x1b[0m Cargo.lock for vulnerabilities ({n} crate dependencies)"
            ));
            if kind == LogKind::CargoAuditFail {
                for l in [
                    "\x1b[38;5;208m\x1b[1mCrate:    \x1b[0m rustls-webpki",
                    "\x1b[38;5;208m\x1b[1mVersion:  \x1b[0m 0.102.2",
                    "\x1b[38;5;208m\x1b[1mTitle:    \x1b[0m CPU denial of service in certificate path building",
                    "\x1b[38;5;208m\x1b[1mDate:     \x1b[0m 2024-04-19",
                    "\x1b[38;5;208m\x1b[1mID:       \x1b[0m RUSTSEC-2024-0336",
                    "\x1b[38;5;208m\x1b[1mURL:      \x1b[0m https://rustsec.org/advisories/RUSTSEC-2024-0336",
                    "\x1b[38;5;208m\x1b[1mSeverity: \x1b[0m 7.5 (high)",
                    "\x1b[38;5;208m\x1b[1mSolution: \x1b[0m Upgrade to >=0.102.3",
                    "Dependency tree:",
                    "rustls-webpki 0.102.2",
                    "└── rustls 0.23.10",
                    "    └── reqwest 0.12.5",
                    "        └── platform 0.14.2",
                    "",
                    "\x1b[38;5;9m\x1b[1merror:\x1b[0m 1 vulnerability found!",
                ] {
                    w.line(l);
                }
                (false, exit(1), None)
            } else {
                w.line("\x1b[38;5;10m\x1b[1m     Success\x1b[0m No vulnerable packages found");
                (true, String::new(), None)
            }
        }
        LogKind::DockerBuild => {
            w.prologue();
            w.sources();
            w.step_script();
            let image = format!("registry.acme.dev/{}:{}", w.ctx.project_path, w.short_sha());
            w.cmd(&format!("docker build --pull -t {image} ."));
            for (i, step) in [
                "[internal] load build definition from Dockerfile",
                "[internal] load metadata for docker.io/library/rust:1.88-slim",
                "[builder 1/6] FROM docker.io/library/rust:1.88-slim",
                "[builder 4/6] RUN cargo build --release --locked",
                "[runtime 2/3] COPY --from=builder /app/target/release/platform /usr/local/bin/",
                "exporting to image",
            ]
            .iter()
            .enumerate()
            {
                let _ = writeln!(w.out, "#{} {step}", i + 1);
                let (a, b) = (w.next(0, 40), w.next(0, 10));
                let _ = writeln!(w.out, "#{} DONE {a}.{b}s", i + 1);
            }
            w.cmd(&format!("docker push {image}"));
            for layer in 0..3 {
                let id = w.hex(12);
                let size = w.next(8, 60);
                for step in 1..=5 {
                    let done = size * step / 5;
                    let bar = "=".repeat((step * 10) as usize);
                    let frac = w.next(0, 10);
                    let _ = write!(
                        w.out,
                        "{id}: Pushing [{bar:<49}>]  {done}.{frac}MB/{size}.0MB\r"
                    );
                }
                let _ = writeln!(w.out, "{id}: Pushed{}", " ".repeat(50));
                if layer == 2 {
                    let digest = w.hex(64);
                    let sha = w.short_sha().to_string();
                    let _ = writeln!(w.out, "{sha}: digest: sha256:{digest} size: 1786");
                }
            }
            (true, String::new(), None)
        }
        LogKind::Deploy => {
            w.prologue();
            w.sources();
            w.step_script();
            let env = w.ctx.environment.unwrap_or("staging").to_string();
            w.cmd(&format!("./deploy/rollout.sh {env}"));
            // the rollout script paints with 24-bit colour
            let (path, short) = (w.ctx.project_path, w.short_sha().to_string());
            let _ = writeln!(
                w.out,
                "\x1b[38;2;120;200;255m▶ rollout\x1b[0m environment={env} image=registry.acme.dev/{path}:{short}"
            );
            w.line("deployment.apps/platform-api configured");
            w.line("deployment.apps/platform-worker configured");
            for i in 1..=3 {
                w.line(&format!(
                    "Waiting for deployment \"platform-api\" rollout to finish: {i} of 3 updated replicas are available..."
                ));
            }
            w.line("deployment \"platform-api\" successfully rolled out");
            let p95 = w.next(110, 190);
            let _ = writeln!(
                w.out,
                "\x1b[38;2;80;220;120m✔ {env} is healthy\x1b[0m (p95 {p95}ms, error rate 0.02%)"
            );
            (true, String::new(), None)
        }
        LogKind::RunnerSystemFailure => {
            w.prologue();
            for attempt in 1..=3 {
                let _ = writeln!(
                    w.out,
                    "{YELLOW}WARNING: Failed to pull image with policy \"always\": error during connect: Post \"http://docker:2375/v1.44/images/create?fromImage=rust&tag=1.88\": dial tcp 10.12.0.5:2375: connect: connection refused (manager.go:250:0s){R}"
                );
                if attempt < 3 {
                    w.line(&format!("Will be retried in 3s ... (attempt {attempt}/3)"));
                }
            }
            (
                false,
                "ERROR: Job failed (system failure): failed to pull image \"rust:1.88\" with specified policies [always]: error during connect: dial tcp 10.12.0.5:2375: connect: connection refused (manager.go:250:0s)".into(),
                None,
            )
        }
        LogKind::SecretLeak => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("echo \"debugging deploy credentials\"");
            w.line("debugging deploy credentials");
            w.cmd("env | sort | grep -E 'AWS|TOKEN|DEPLOY'");
            // Fake but well-formed credentials so redaction has something to do.
            const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
            let mut pick = |set: &[u8], n: usize| -> String {
                (0..n)
                    .map(|_| set[w.next(0, set.len() as u64) as usize] as char)
                    .collect()
            };
            let akid = format!("AKIA{}", pick(UPPER, 16));
            let secret = format!("{}/{}", pick(ALNUM, 20), pick(ALNUM, 19));
            let glpat = format!("glpat-{}", pick(ALNUM, 20));
            w.line(&format!("AWS_ACCESS_KEY_ID={akid}"));
            w.line("AWS_DEFAULT_REGION=eu-central-1");
            w.line(&format!("AWS_SECRET_ACCESS_KEY={secret}"));
            w.line("DEPLOY_TARGET=staging");
            w.line(&format!("DEPLOY_TOKEN={glpat}"));
            w.cmd(&format!(
                "curl -sf -H \"PRIVATE-TOKEN: {glpat}\" https://gitlab.acme.dev/api/v4/projects/1/deployments | head -c 200"
            ));
            w.cmd("aws sts get-caller-identity");
            w.line("");
            w.line("An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.");
            (false, exit(254), None)
        }
        LogKind::Docs | LogKind::DocsLinks => {
            w.prologue();
            w.sources();
            w.step_script();
            if kind == LogKind::Docs {
                w.cmd("mdbook build docs");
                w.line("\x1b[32m INFO\x1b[0m Book building has started");
                w.line("\x1b[32m INFO\x1b[0m Running the html backend");
                (true, String::new(), Some("docs/book"))
            } else {
                w.cmd("lychee --no-progress 'docs/**/*.md' README.md");
                let n = w.next(80, 140);
                w.line(&format!("🔍 {n} Total (in 0s) ✅ {n} OK 🚫 0 Errors"));
                (true, String::new(), None)
            }
        }
        LogKind::E2e => {
            w.prologue();
            w.sources();
            w.step_script();
            w.cmd("npx playwright test --reporter=line");
            let n = w.next(30, 45);
            w.line(&format!("Running {n} tests using 4 workers"));
            for i in 1..=n {
                let _ = write!(
                    w.out,
                    "[{i}/{n}] [chromium] › checkout.spec.ts:{}:5 › flow {i}\r",
                    10 + i
                );
            }
            w.out.push_str("\x1b[K");
            w.line(&format!(
                "  \x1b[32m{n} passed\x1b[39m\x1b[2m (1.9m)\x1b[22m"
            ));
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
