//! Each kind's job script: which commands run in which order, with the random values they
//! print; the printed text comes from the asset blocks.

use super::LogKind;
use super::text::{block, block_of, crates, list};
use super::writer::W;

fn cargo_compile(w: &mut W, profile: &str) {
    let total = crates().len() + 1;
    let (compiling, building) = (block_of("cargo_compiling"), block_of("cargo_building"));
    for (i, (name, version)) in crates().iter().enumerate() {
        w.fill_block(compiling, &[("name", name), ("version", version)]);
        if i % 6 == 5 {
            // cargo redraws its progress bar in place with `\r`
            let done = i + 1;
            let bar = format!("{:<25}", "=".repeat(done * 25 / total));
            w.fill_block(
                building,
                &[
                    ("bar", &bar),
                    ("done", &done),
                    ("total", &total),
                    ("name", name),
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

/// `billing::tests::case_007`, written straight into the log (no string per line).
struct CaseName(&'static str, u64);

impl std::fmt::Display for CaseName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::tests::case_{:03}", self.0, self.1)
    }
}

/// The test run's lines up to the verdict; returns the number of tests.
fn cargo_test_lines(w: &mut W, failing: bool) -> u64 {
    let extra = w.next(120, 180);
    let total = list("rust_tests").count() as u64 + extra + u64::from(failing);
    let hash = w.hex(16);
    w.fill("cargo_test_running", &[("hash", &hash), ("total", &total)]);
    let ok = block_of("cargo_test_ok");
    for t in list("rust_tests") {
        w.fill_block(ok, &[("name", &t)]);
    }
    for i in 0..extra {
        let module = ["api", "billing", "worker", "db", "config"][(i % 5) as usize];
        w.fill_block(ok, &[("name", &CaseName(module, i))]);
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
pub(super) fn render_kind(kind: LogKind, w: &mut W) -> (bool, String, Option<&'static str>) {
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
                for (name, version) in &crates()[..28] {
                    w.fill("cargo_compiling", &[("name", name), ("version", version)]);
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
            for (name, version) in &crates()[10..26] {
                w.fill("cargo_checking", &[("name", name), ("version", version)]);
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
        LogKind::Docs | LogKind::DocsLinks | LogKind::DocsArtifactsTooLarge => {
            w.prologue();
            w.sources();
            w.step_script();
            if kind != LogKind::DocsLinks {
                w.cmd("mdbook build docs");
                w.text("mdbook");
                // The script passes; the runner's upload of the book then fails the job.
                let fail = if kind == LogKind::DocsArtifactsTooLarge {
                    exit(1)
                } else {
                    String::new()
                };
                (true, fail, Some("docs/book"))
            } else {
                w.cmd("lychee --no-progress 'docs/**/*.md' README.md");
                let n = w.next(80, 140);
                w.fill("lychee", &[("n", &n)]);
                (true, String::new(), None)
            }
        }
        LogKind::CargoTestOutputLimit => {
            w.prologue();
            w.sources();
            w.cache("cargo-main");
            w.step_script();
            w.cmd("RUST_LOG=sqlx=debug cargo test --locked --workspace -- --nocapture");
            cargo_compile(w, "test");
            let total = w.next(380, 440);
            let hash = w.hex(16);
            w.fill("cargo_test_running", &[("hash", &hash), ("total", &total)]);
            // A few hundred lines stand for the megabytes before the cut: the words matter.
            let (debug, ok) = (block_of("sqlx_debug"), block_of("cargo_test_ok"));
            let queries: Vec<&str> = list("sqlx_queries").collect();
            for i in 0..100u64 {
                for _ in 0..2 {
                    let summary = queries[w.next(0, queries.len() as u64) as usize];
                    let returned = w.next(0, 40);
                    let elapsed = format!("{}.{}", w.next(90, 900), w.next(0, 10));
                    w.fill_block(
                        debug,
                        &[
                            ("summary", &summary),
                            ("affected", &u64::from(!summary.starts_with("SELECT"))),
                            ("returned", &returned),
                            ("elapsed", &elapsed),
                        ],
                    );
                }
                let module = ["db", "billing", "api", "worker"][(i % 4) as usize];
                w.fill_block(ok, &[("name", &CaseName(module, i))]);
            }
            // The write that crossed the limit is cut where the limit fell, mid-line.
            let start = w.out.len();
            w.fill_block(
                debug,
                &[("summary", &queries[0]), ("affected", &0), ("returned", &1)],
            );
            let cut = w.out[start..]
                .find("db.statement")
                .map_or(start, |i| start + i);
            w.out.truncate(cut);
            w.output_limit_exceeded(4_194_304);
            // No verdict line: the runner writes nothing after the limit (see `render`).
            (false, String::new(), None)
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
