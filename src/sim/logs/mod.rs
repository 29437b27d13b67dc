//! Job logs, generated on demand and deterministically from (seed, job id): nothing is stored,
//! so a world with thousands of jobs costs no log memory. The bytes follow gitlab-runner's wire
//! form: `\e[0K` erase-line, SGR colours (16, 256 and truecolor), `\r` progress redraws and
//! section markers `\e[0Ksection_start:<ts>:<name>[opts]\r\e[0K<header>` … `section_end`.

mod script;
#[cfg(test)]
mod tests;
mod text;
mod writer;

use script::render_kind;
use writer::{R, RED, Upload, W};

/// What a job prints. Failing kinds end with the matching `ERROR: Job failed` line. Named in
/// the scenario in snake case (`cargo_test_fail`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
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
    /// The docs build passes, then the runner's artifact upload is refused as too large (413).
    DocsArtifactsTooLarge,
    E2e,
    /// Tests run with every SQL query logged at debug level: the runner stops collecting the
    /// trace at its `output_limit` and writes why; nothing after that, not even the verdict.
    CargoTestOutputLimit,
}

impl LogKind {
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn name(self) -> &'static str {
        self.into()
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

/// The complete log of a job.
pub fn render(kind: LogKind, ctx: &LogCtx) -> Rendered {
    let mut w = W::new(ctx);
    let (ok, fail_line, artifacts) = render_kind(kind, &mut w);
    if kind == LogKind::CargoTestOutputLimit {
        // The runner drops every write after the limit, its own lines too: no section ends,
        // no cleanup, no `ERROR: Job failed` line. The job still fails (GitLab knows it).
        return Rendered {
            body: std::mem::take(&mut w.out).into_bytes(),
            footer: Vec::new(),
        };
    }
    if kind == LogKind::RunnerSystemFailure {
        // A system failure never reaches the script: no cleanup sections follow.
        let body = std::mem::take(&mut w.out).into_bytes();
        let footer = format!("{RED}{fail_line}\n{R}").into_bytes();
        return Rendered { body, footer };
    }
    let upload = if kind == LogKind::DocsArtifactsTooLarge {
        Upload::TooLarge
    } else {
        Upload::Created
    };
    w.finish(ok, &fail_line, artifacts, upload)
}

/// Adds about `bytes` of plain output lines to the end of the body (before the footer): the
/// script of a job that prints a lot. Benchmarks of big logs use it; 0 leaves the log as is.
pub fn pad(r: &mut Rendered, bytes: usize) {
    let bytes = bytes.min(MAX_PADDING);
    r.body.reserve(bytes);
    let mut n = 0u64;
    let end = r.body.len() + bytes;
    while r.body.len() < end {
        n += 1;
        let line = format!("[{n:08}] processed record batch: 512 rows ok, checksum verified\n");
        r.body.extend_from_slice(line.as_bytes());
    }
}

/// The most filler a log gets (a bigger request is cut to this).
pub const MAX_PADDING: usize = 512 * 1024 * 1024;

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
