//! The runner's framing around a job's output: the prologue, sections with timestamps at
//! fractions of the run, script steps, artifacts and the verdict; plus `text`/`fill`, which
//! write the asset blocks.

use std::fmt::Write as _;

use super::text::{Block, Part, block, block_of};
use super::{LogCtx, Rendered};
use crate::sim::state::mix;

pub(super) const R: &str = "\x1b[0;m";
pub(super) const GREEN: &str = "\x1b[32;1m";
pub(super) const CYAN: &str = "\x1b[36;1m";
pub(super) const RED: &str = "\x1b[31;1m";
pub(super) const YELLOW: &str = "\x1b[33;1m";

pub(super) struct W<'a> {
    pub(super) out: String,
    pub(super) ctx: &'a LogCtx<'a>,
    pub(super) rng: u64,
}

impl<'a> W<'a> {
    pub(super) fn new(ctx: &'a LogCtx<'a>) -> Self {
        W {
            out: String::with_capacity(8 * 1024),
            ctx,
            rng: mix(ctx.seed ^ mix(ctx.job_id)),
        }
    }

    pub(super) fn next(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng = mix(self.rng);
        if hi <= lo {
            lo
        } else {
            lo + self.rng % (hi - lo)
        }
    }

    pub(super) fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Timestamp at a fraction of the job's run time.
    pub(super) fn ts(&self, frac: f64) -> i64 {
        self.ctx.started_s + (self.ctx.dur_s as f64 * frac) as i64
    }

    pub(super) fn start(&mut self, name: &str, opts: &str, header: &str, frac: f64) {
        let ts = self.ts(frac);
        let _ = writeln!(
            self.out,
            "\x1b[0Ksection_start:{ts}:{name}{opts}\r\x1b[0K{header}"
        );
    }

    pub(super) fn end(&mut self, name: &str, frac: f64) {
        let ts = self.ts(frac);
        let _ = writeln!(self.out, "\x1b[0Ksection_end:{ts}:{name}\r\x1b[0K");
    }

    pub(super) fn runner_section(&mut self, name: &str, title: &str, frac: f64) {
        let header = format!("\x1b[0K{CYAN}{title}{R}{R}");
        self.start(name, "", &header, frac);
    }

    pub(super) fn cmd(&mut self, c: &str) {
        let _ = writeln!(self.out, "{GREEN}$ {c}{R}");
    }

    pub(super) fn short_sha(&self) -> &str {
        &self.ctx.sha[..8.min(self.ctx.sha.len())]
    }

    pub(super) fn hex(&mut self, n: usize) -> String {
        let mut s = String::new();
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next(0, u64::MAX));
        }
        s.truncate(n);
        s
    }

    pub(super) fn prologue(&mut self) {
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

    pub(super) fn sources(&mut self) {
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

    pub(super) fn cache(&mut self, key: &str) {
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

    pub(super) fn step_script(&mut self) {
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

    /// gitlab-runner's words when a trace passes the runner's `output_limit` (bytes); it
    /// collects nothing after them (helpers/trace/buffer.go, `writeLimitExceededMessage`).
    pub(super) fn output_limit_exceeded(&mut self, limit: u64) {
        let _ = writeln!(
            self.out,
            "\n{YELLOW}Job's log exceeded limit of {limit} bytes.\n\
             Job execution will continue but no more output will be collected.{R}"
        );
    }

    /// A script step in its own collapsed, duration-less section (FF_SCRIPT_SECTIONS).
    pub(super) fn script_step(&mut self, idx: usize, cmd: &str, output: &[&str], frac: f64) {
        let name = format!("section_script_step_{idx}");
        let header = format!("{GREEN}$ {cmd}{R}");
        self.start(&name, "[hide_duration=true,collapsed=true]", &header, frac);
        for l in output {
            self.line(l);
        }
        self.end(&name, frac + 0.01);
    }

    pub(super) fn finish(
        mut self,
        ok: bool,
        fail_line: &str,
        artifacts: Option<&str>,
        upload: Upload,
    ) -> Rendered {
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
            match upload {
                Upload::Created => {
                    let _ = writeln!(
                        self.out,
                        "Uploading artifacts as \"archive\" to coordinator... 201 Created{R}  id{R}={id} responseStatus{R}=201 Created token{R}=glcbt-64"
                    );
                }
                // gitlab-runner's words when the instance refuses an archive over its maximum
                // artifacts size: the job fails although its script passed.
                Upload::TooLarge => {
                    let _ = writeln!(
                        self.out,
                        "{RED}ERROR: Uploading artifacts as \"archive\" to coordinator... too large archive{R}  id{R}={id} responseStatus{R}=413 Request Entity Too Large status{R}=413 token{R}=glcbt-64"
                    );
                    let _ = writeln!(
                        self.out,
                        "{RED}FATAL: too large                                   {R}"
                    );
                }
            }
            self.end(name, 0.98);
        }
        let ok = ok && upload == Upload::Created;
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

/// How the runner's upload of a job's artifacts ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upload {
    Created,
    TooLarge,
}

impl W<'_> {
    /// Writes a block as it stands.
    pub(super) fn text(&mut self, name: &str) {
        self.out.push_str(block(name));
    }

    /// Writes a block with its `{{var}}`s filled from `vars`; an unknown one stays as written.
    pub(super) fn fill(&mut self, name: &str, vars: &[(&str, &dyn std::fmt::Display)]) {
        self.fill_block(block_of(name), vars);
    }

    /// `fill` with the block looked up once (for loops).
    pub(super) fn fill_block(&mut self, block: &Block, vars: &[(&str, &dyn std::fmt::Display)]) {
        for part in &block.parts {
            match part {
                Part::Text(t) => self.out.push_str(t),
                Part::Value(key) => match vars.iter().find(|(k, _)| k == key) {
                    Some((_, v)) => {
                        let _ = write!(self.out, "{v}");
                    }
                    None => {
                        let _ = write!(self.out, "{{{{{key}}}}}");
                    }
                },
            }
        }
    }

    pub(super) fn cargo_version_step(&mut self) {
        self.script_step(
            0,
            "cargo --version",
            &[block("cargo_version").trim_end()],
            0.11,
        );
    }

    /// `Compiling`/`Checking` of the platform crate itself.
    pub(super) fn own_crate(&mut self, block: &str) {
        let version = format!("0.14.2 (/builds/{})", self.ctx.project_path);
        self.fill(block, &[("name", &"platform"), ("version", &version)]);
    }
}
