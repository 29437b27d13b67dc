//! The deterministic diagnoser: extracted error lines -> category, evidence, files, tests, fix.
//!
//! Categories are chosen by the strongest rule that fired (with a small bonus for repeated
//! signals, the failing step's name and the framework hint); GitLab's `failure_reason` overrides
//! the log when it names an infrastructure or timeout cause.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::boilerplate::is_runner_boilerplate;
use super::cause;
use super::extract::{self, Extraction, Hit, Role};
use super::log::LogIndex;
use super::model::{Category, Diagnosis, Evidence, JobContext};
use super::policy;
use crate::gitlab::models::FailureReason;

/// Evidence quotes are cut to this many bytes (a prefix of a line is still verbatim).
const QUOTE_MAX: usize = 300;
const MAX_EVIDENCE: usize = 24;
const MAX_FILES: usize = 12;
const MAX_TESTS: usize = 15;

/// The failing command's only time-outs are its own waits for something (a test's
/// `TimeoutError` waiting on a worker's result, a client's timeout): a cause found earlier
/// (the worker that never started) explains them. A job or step time limit, an OOM kill or
/// an exhausted pool is a cause of its own.
fn only_waited(ex: &Extraction, (start, end): (usize, usize)) -> bool {
    let timeouts: Vec<&Hit> = ex
        .hits
        .iter()
        .filter(|h| {
            h.line >= start
                && h.line <= end
                && h.weight >= 4
                && h.category == Some(Category::TimeoutOrOom)
        })
        .collect();
    // (A program's own `TimeoutError: Waiting for selector ... failed` is a wait too.)
    !timeouts.is_empty()
        && timeouts.iter().all(|h| {
            matches!(h.rule, "timed_out" | "tests_timeout")
                || (h.rule == "py_exception" && h.name.as_deref() == Some("TimeoutError"))
        })
}

/// Diagnoses a log with the rules engine.
pub fn diagnose(log: &LogIndex, ctx: &JobContext) -> Diagnosis {
    // The secrets scan renders and redacts every line again and needs nothing from the
    // diagnosis: on a big log it runs on a second core, beside the extraction (half the wall
    // time of a 200 MB trace). A small log is not worth a thread.
    if log.line_count() < PARALLEL_SCAN_LINES {
        let mut d = diagnose_owned(log, extract::extract(log), ctx);
        d.secrets = super::secrets::scan(log);
        return d;
    }
    let (mut d, secrets) = std::thread::scope(|s| {
        let scan = s.spawn(|| super::secrets::scan(log));
        let d = diagnose_owned(log, extract::extract(log), ctx);
        (d, scan.join())
    });
    // A scan that panicked is run again here rather than reported as "no secrets".
    d.secrets = secrets.unwrap_or_else(|_| super::secrets::scan(log));
    d
}

/// Lines from which the secrets scan gets its own thread (about 5 MB of typical trace).
const PARALLEL_SCAN_LINES: usize = 50_000;

/// Same as [`diagnose`] for an extraction already made (the LLM path reuses it).
pub fn diagnose_extracted(log: &LogIndex, ex: &Extraction, ctx: &JobContext) -> Diagnosis {
    diagnose_owned(log, ex.clone(), ctx)
}

/// The diagnosis of an extraction it may change: the weights outside the failing command are
/// demoted in place, so a big log's hits are not held twice.
fn diagnose_owned(log: &LogIndex, ex: Extraction, ctx: &JobContext) -> Diagnosis {
    if ctx.failure_reason.is_none()
        && let Some(line) = succeeded(log)
    {
        return nothing_failed(log, line, ctx);
    }
    let region = failure_region(log, &ex);
    // The script passed and the runner failed the job while uploading its artifacts: no
    // command of the script failed.
    let artifacts_upload = log
        .section_at(region.0)
        .is_some_and(|s| s.start_line == region.0 && s.name == "upload_artifacts_on_success");
    let failing_step = if artifacts_upload {
        None
    } else {
        failing_step(log, &ex, region)
    };
    // The cascade check reads the weights and categories as extracted, before the demotion
    // and the step's adjustments: taken now, kept as one hit.
    let cascade_candidate = cause::cascade_root(log, &ex, region);
    let printed_later = cause::printed_later_cause(&ex, region);
    let server_log = cause::server_log_cause(&ex, region);
    let ex = &adjust_for_step(demote_outside(ex, region), failing_step.as_ref(), region);
    let scores = score_categories(ex, ctx, failing_step.as_ref());
    let (mut category, top, runner_up) = pick(&scores, ex, ctx, failing_step.as_ref());
    // Cause first: an earlier error that explains what the failing command reports wins over
    // the symptom (GitLab's own failure_reason still decides when it names the runner).
    let infra_reason = ctx
        .failure_reason
        .as_ref()
        .is_some_and(|r| r.is_infrastructure() || *r == FailureReason::JobExecutionTimeout);
    let own_crash: Option<Hit>;
    let mut cascade: Option<&Hit> = None;
    // Two plausible causes in the failing command (a network error, then a test failure).
    let mut contested = false;
    if !infra_reason {
        if let Some(root) = cascade_candidate.as_ref()
            && root.category.is_some_and(|c| c != category)
            && (!matches!(category, Category::TimeoutOrOom | Category::Infrastructure)
                || (category == Category::TimeoutOrOom && only_waited(ex, region)))
        {
            category = root.category.unwrap_or(category);
            cascade = Some(root);
        } else if category == Category::NetworkOrFlaky
            && let Some(c) = cause::network_recovered(ex, region)
        {
            category = c;
            contested = true;
        } else if let Some(c) = cause::wrapped_cause(ex, region, category) {
            category = c;
        }
    }

    // The job's own server (started in the background) answered with an HTTP error: the
    // service failed, not the network.
    if !infra_reason
        && cascade.is_none()
        && category == Category::NetworkOrFlaky
        && cause::own_service_answered(ex, region, failing_step.as_ref())
    {
        category = Category::Other;
    }

    // The job's own server threw while the failing command talked to it: the client saw a
    // broken connection, the server's exception says why.
    if !infra_reason
        && cascade.is_none()
        && category == Category::NetworkOrFlaky
        && let Some(root) = cause::own_service_crashed(ex, region, failing_step.as_ref())
    {
        category = root.category.unwrap_or(Category::Other);
        own_crash = Some(root);
        cascade = own_crash.as_ref();
    }

    // The server the failing command needed did not start, and its log (printed afterwards)
    // says why.
    if !infra_reason
        && cascade.is_none()
        && let Some(root) = server_log.as_ref()
    {
        category = root.category.unwrap_or(category);
        cascade = Some(root);
    }

    // The reason the failing command missed something was printed only afterwards (a build
    // log shown by after_script).
    if !infra_reason
        && cascade.is_none()
        && let Some(root) = printed_later.as_ref()
    {
        category = root.category.unwrap_or(category);
        cascade = Some(root);
    }

    // An earlier cause of the same kind as the failing command's (pip failing in `set +e`,
    // then the tests missing its package): the earliest line is still the one to quote.
    if cascade.is_none()
        && let Some(root) = cascade_candidate.as_ref()
        && root.category == Some(category)
    {
        cascade = Some(root);
    }

    // The runner's time limit hit a download that printed nothing: the transfer stalled.
    let mut stalled = None;
    if category == Category::TimeoutOrOom
        && ctx
            .failure_reason
            .as_ref()
            .is_none_or(|r| *r == FailureReason::JobExecutionTimeout)
        && let Some(line) = cause::stalled_fetch(log, ex)
    {
        category = Category::NetworkOrFlaky;
        stalled = Some(line);
    }

    // A test that timed out waiting for a peer it had connected to: the peer never answered.
    if stalled.is_none()
        && category == Category::TimeoutOrOom
        && !infra_reason
        && let Some(line) = cause::test_waited_on_peer(log, ex, region)
    {
        category = Category::NetworkOrFlaky;
        stalled = Some(line);
    }

    // `git diff --exit-code` (or `diff`) failing after an earlier command of the job rewrote the
    // sources with a formatter (`clang-format -i`, `gofmt -w`, `prettier --write`): the files
    // it reports changed are the formatter's changes, the code is not formatted. (Only when
    // nothing but a generic word was recognised.)
    if (category == Category::Unknown || (category == Category::Other && top < 2.0))
        && let Some(step) = failing_step.as_ref()
        && compares_files(step.name.as_deref().unwrap_or(""))
        && ex.hits.iter().any(|h| {
            matches!(h.rule, "gha_step" | "shell_step")
                && h.line < step.line
                && !in_after_section(log, h.line)
                && formats_in_place(h.name.as_deref().unwrap_or(""))
        })
    {
        category = Category::FormattingFailure;
    }

    // Nothing printed, and the failing command pipes into `grep` (`n=$(cmd | grep -c x)`):
    // grep exits 1 when it selects no line, even `-c` printing 0, and `set -e` with pipefail
    // turns that into the job's failure without a word. The script's logic, not no information.
    let silent_grep = category == Category::Unknown
        && failing_step
            .as_ref()
            .is_some_and(|s| pipes_into_grep(s.name.as_deref().unwrap_or("")))
        && last_output_lines(log, region, 1).is_empty();
    if silent_grep {
        category = Category::Other;
    }

    // Nothing recognised, but the failing command said something before it failed (a script's
    // own check): that is some failure, not no information.
    if category == Category::Unknown
        && failing_step.is_some()
        && !last_output_lines(log, region, 1).is_empty()
    {
        category = Category::Other;
    }

    // The log was cut at the runner's output limit and nothing before the cut names a cause: the
    // task's name (`make test`) is no evidence of what failed after it.
    let truncated = truncated_at(log);
    if truncated.is_some() && top < 4.0 && cascade.is_none() && !infra_reason {
        category = Category::Unknown;
    }

    let mut anchors = anchors(ex, category);
    if let Some(root) = cascade
        && !anchors.iter().any(|a| a.line == root.line)
    {
        anchors.insert(0, root);
    }
    let tests = collect_tests(ex);
    let files = collect_files(ex, &anchors, category, ctx);
    let mut evidence = build_evidence(
        log,
        ex,
        &anchors,
        category,
        failing_step.as_ref(),
        region,
        cascade,
    );
    // What the runner's limits cut short: the fetch that stalled, the log's last words.
    for line in [stalled, truncated.map(|(line, _)| line)]
        .into_iter()
        .flatten()
    {
        if !evidence.iter().any(|e| e.line == line + 1) {
            let text = log.plain_cow(line);
            evidence.push(Evidence {
                line: line + 1,
                text: extract::strip_ci_timestamp(&text).trim().to_string(),
            });
        }
    }
    evidence.sort_by_key(|e| e.line);
    let exit_code = ex.by_role(Role::Exit).filter_map(|h| h.exit_code).last();
    let conflict = ex
        .hits
        .iter()
        .any(|h| h.rule == "merge_conflict" && category == Category::CompileError);

    let facts = Facts {
        category,
        anchors: &anchors,
        tests: &tests,
        files: &files,
        exit_code,
        step: failing_step
            .as_ref()
            .map(|h| h.name.as_deref().unwrap_or("")),
        conflict,
        cascade,
        memory: ex
            .hits
            .iter()
            .any(|h| matches!(h.rule, "oom" | "killed") && h.weight >= 4),
        sigkill: ex.hits.iter().any(|h| {
            matches!(h.rule, "shell_killed" | "tool_killed" | "kernel_died") && h.weight >= 4
        }),
        truncated: truncated.map(|(_, limit)| limit),
        artifacts_upload,
        silent_grep,
        ctx,
    };
    let mut confidence = confidence(category, top, runner_up, ctx);
    if category != Category::Unknown && !infra_reason {
        confidence = calibrate(
            confidence,
            category,
            ex,
            region,
            failing_step.as_ref(),
            cascade,
        );
        // A network or runner error inside the failing command makes any code-level answer
        // less sure: the tests may have failed because of it.
        let outside_cause = ex.hits.iter().any(|h| {
            h.line >= region.0
                && h.line <= region.1
                && h.role == Role::Cause
                && h.weight >= 7
                && h.category
                    .is_some_and(|c| c != category && c.is_infra_or_flaky())
        });
        if contested || outside_cause {
            confidence = confidence.min(0.55);
        }
    }
    if contested_reading(category, &anchors) {
        confidence = confidence.min(0.55);
    }
    // The runner stopped collecting output at its limit: whatever the job printed after the cut
    // (often the failure and the test runner's summary) is not in the log, so no answer drawn
    // from the lines before it can be sure.
    if truncated.is_some() {
        confidence = confidence.min(0.4);
    }
    let (summary, root_cause, fix) = (summary(&facts), root_cause(&facts), fix(&facts));
    let mut d = Diagnosis {
        category,
        summary,
        root_cause,
        evidence,
        files,
        tests,
        fix,
        confidence,
        infra_or_flaky: false,
        commands: Vec::new(),
        secrets: Vec::new(),
    };
    d.verify_evidence(log);
    d.redact();
    policy::apply(&mut d, ctx);
    d
}

/// Where gitlab-runner wrote that the log exceeded its `output_limit`, and the limit in bytes.
/// The runner writes nothing of the job's after it (runner 15+ adds "Job execution will continue
/// but no more output will be collected."), so only the last lines are read.
fn truncated_at(log: &LogIndex) -> Option<(usize, u64)> {
    const MARK: &str = "Job's log exceeded limit of ";
    let n = log.line_count();
    (n.saturating_sub(12)..n).rev().find_map(|i| {
        let line = log.plain_cow(i);
        let rest = &line[line.find(MARK)? + MARK.len()..];
        let digits = rest.split(' ').next()?;
        Some((i, digits.parse().ok()?))
    })
}

// ---------------------------------------------------------------------------------------------
// A job that did not fail

/// The line of GitLab's final `Job succeeded`, when it is the last word of the trace.
fn succeeded(log: &LogIndex) -> Option<usize> {
    let n = log.line_count();
    (n.saturating_sub(5)..n).rev().find(|&i| {
        let t = log.plain_cow(i);
        let t = t.trim();
        t == "Job succeeded"
    })
}

fn nothing_failed(log: &LogIndex, line: usize, ctx: &JobContext) -> Diagnosis {
    let mut d = Diagnosis {
        category: Category::Unknown,
        summary: "The job succeeded: there is no failure to diagnose.".into(),
        root_cause: "The trace ends with GitLab's `Job succeeded`; error lines printed earlier \
                     did not fail the job."
            .into(),
        evidence: vec![Evidence {
            line: line + 1,
            text: "Job succeeded".into(),
        }],
        files: Vec::new(),
        tests: Vec::new(),
        fix: "Nothing to fix.".into(),
        confidence: 0.9,
        infra_or_flaky: false,
        commands: Vec::new(),
        secrets: Vec::new(),
    };
    d.verify_evidence(log);
    d.redact();
    policy::apply(&mut d, ctx);
    d
}

// ---------------------------------------------------------------------------------------------
// Where the job failed

/// GitLab sections that run after the job's script; their errors never explain the failure.
const AFTER_SECTIONS: [&str; 7] = [
    "after_script",
    "upload_artifacts_on_failure",
    "upload_artifacts_on_success",
    "archive_cache",
    "archive_cache_on_failure",
    "cleanup_file_variables",
    "cleanup",
];

/// Lines `[start, end]` (0-based) of the step that failed: from the last step start (GitHub
/// `##[group]Run`, GitLab script section) before the final exit status to that status. Errors
/// printed by earlier steps that went on to succeed (configure probes, retried downloads,
/// tolerated warnings) did not fail the job.
fn failure_region(log: &LogIndex, ex: &Extraction) -> (usize, usize) {
    let last = log.line_count().saturating_sub(1);
    // The runner uploads artifacts "for successful job" only after the script passed: when that
    // upload failed, the upload failed the job, not any command of the script.
    if let Some(s) = ex
        .hits
        .iter()
        .filter(|h| matches!(h.rule, "artifact_upload_5xx" | "artifact_too_large"))
        .find_map(|h| log.section_at(h.line))
        .filter(|s| s.name == "upload_artifacts_on_success")
    {
        return (s.start_line, s.end_line.unwrap_or(last));
    }
    // The last `##[error]` (GitHub) or `ERROR: Job failed` (GitLab) line; post-job cleanup
    // steps that follow it do not matter.
    let end = ex
        .hits
        .iter()
        .filter(|h| {
            h.text.starts_with("##[error]")
                || h.text.contains("Process completed with exit code")
                || h.text.contains("Job failed")
        })
        .map(|h| h.line)
        .next_back()
        .unwrap_or(last);
    let gha = ex
        .hits
        .iter()
        .filter(|h| h.rule == "gha_step" && h.line <= end)
        .map(|h| h.line)
        .next_back();
    let gitlab = log
        .sections()
        .iter()
        .filter(|s| s.start_line <= end && !AFTER_SECTIONS.contains(&s.name.as_str()))
        .filter(|s| s.end_line.is_none_or(|e| e > s.start_line + 1))
        .map(|s| s.start_line)
        .max();
    let start = match (gha, gitlab) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 0,
    };
    // A GitLab script runs under `set -e`: the last command it echoed (`$ cmd`) before the
    // script's section ended is the one that failed. after_script and the runner's upload and
    // cleanup sections come later and do not count.
    let script_end = log
        .section_at(start)
        .filter(|s| s.start_line == start)
        .and_then(|s| s.end_line)
        .filter(|&e| e <= end)
        .unwrap_or(end);
    let echo = ex
        .hits
        .iter()
        .filter(|h| h.rule == "shell_step" && h.line >= start && h.line <= script_end)
        .filter(|h| !in_after_section(log, h.line))
        .map(|h| h.line)
        .next_back();
    match echo {
        Some(e) => (e, script_end),
        None => (start, end),
    }
}

/// Inside one of the runner's after-script sections. Its marker lines do not count: the
/// `section_end` marker shares its line with whatever the runner prints next (the final
/// `ERROR: Job failed: ...`).
fn in_after_section(log: &LogIndex, line: usize) -> bool {
    log.sections().iter().any(|s| {
        AFTER_SECTIONS.contains(&s.name.as_str())
            && s.start_line < line
            && s.end_line.is_none_or(|e| line < e)
    })
}

/// Hits outside the failing step lose 3 points of weight: they still count when nothing in the
/// step explains the failure.
fn demote_outside(mut out: Extraction, (start, end): (usize, usize)) -> Extraction {
    for h in &mut out.hits {
        if (h.line < start || h.line > end) && h.role != Role::Exit {
            h.weight = h.weight.saturating_sub(3);
        }
    }
    out
}

/// What the failing command is tells what its output means: `go vet` prints its findings in
/// the compiler's `file.go:line:col: message` shape, and `timeout` reports a time limit only
/// through exit status 124.
fn adjust_for_step(
    mut ex: Extraction,
    step: Option<&Hit>,
    (start, end): (usize, usize),
) -> Extraction {
    let Some(step) = step else { return ex };
    let cmd = step.name.as_deref().unwrap_or("");
    let tool = cause::tool_category(cmd);
    if tool == Some(Category::LintFailure) {
        for h in &mut ex.hits {
            if h.line >= start && h.line <= end && h.rule == "go_build" {
                h.category = Some(Category::LintFailure);
            }
        }
    }
    // Building or installing an OS package: a program its scripts do not find (`make[1]: ronn:
    // No such file or directory` under dpkg-buildpackage, `adduser: not found` in a postinst)
    // is a dependency the package does not declare, not the job's image.
    if builds_os_packages(cmd) {
        for h in &mut ex.hits {
            if h.line >= start && h.line <= end && h.rule == "cmd_not_found" {
                h.category = Some(Category::DependencyInstall);
            }
        }
    }
    // An address already in use after the job itself started a server in the background
    // (`http-server -p "$APP_PORT" &`, then a mock API on the same port): the job's own
    // process holds it, its ports are its configuration, and a retry meets the same clash.
    // (Without such a step, a port held on a shared runner stays a flaky cause.)
    if cause::started_in_background(&ex, start) {
        for h in &mut ex.hits {
            if h.line >= start && h.line <= end && h.rule == "port_in_use" {
                h.category = Some(Category::GithubActionsConfig);
            }
        }
    }
    // A formatter's diff (`shfmt -d`, `black --diff`) names the files it would change.
    if let Some(c @ (Category::FormattingFailure | Category::LintFailure)) = tool {
        for h in &mut ex.hits {
            if h.line >= start && h.line <= end && h.rule == "diff_file_header" {
                h.category = Some(c);
            }
        }
    }
    let exit = ex
        .hits
        .iter()
        .filter(|h| h.role == Role::Exit && h.line >= start)
        .filter_map(|h| h.exit_code)
        .next_back();
    // `timeout` as the command or inside it (`sudo timeout 5 x`, `bash -c "timeout 5 x"`,
    // `xargs timeout 5`): status 124 is its report that the time ran out.
    let timeout_cmd = cmd
        .split_whitespace()
        .filter(|w| !w.contains('='))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .any(|w| w == "timeout" || w.ends_with("/timeout"));
    if exit == Some(124) && timeout_cmd {
        // `timeout` prints nothing: its command line and the status are the evidence.
        let mut h = step.clone();
        h.rule = "timeout_124";
        h.role = Role::Cause;
        h.category = Some(Category::TimeoutOrOom);
        h.weight = 8;
        let at = ex.hits.partition_point(|x| x.line < h.line);
        ex.hits.insert(at, h);
    }
    ex
}

/// Whether a command builds or installs OS packages (Debian's and RPM's tools).
fn builds_os_packages(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let at = cause::program_index(&words);
    let program = words
        .get(at)
        .map_or("", |w| w.rsplit('/').next().unwrap_or(w));
    let sub = words.get(at + 1).copied().unwrap_or("");
    matches!(
        program,
        "dpkg-buildpackage" | "debuild" | "sbuild" | "pdebuild" | "rpmbuild" | "mock"
    ) || (program == "gbp" && sub == "buildpackage")
        || (program == "dpkg" && words.iter().any(|w| *w == "-i" || *w == "--install"))
        || (matches!(program, "apt-get" | "apt") && words.iter().any(|w| w.ends_with(".deb")))
}

// ---------------------------------------------------------------------------------------------
// Category choice

type Scores = BTreeMap<Category, f64>;

fn score_categories(ex: &Extraction, ctx: &JobContext, step: Option<&Hit>) -> Scores {
    // Strongest line per category, plus a little for each *distinct* supporting line (a tool
    // that repeats the same error in a summary adds no evidence).
    let mut best: BTreeMap<Category, (u8, HashSet<&str>)> = BTreeMap::new();
    for h in &ex.hits {
        let Some(c) = h.category else { continue };
        if h.weight == 0 {
            continue;
        }
        let e = best.entry(c).or_insert((0, HashSet::new()));
        e.0 = e.0.max(h.weight);
        e.1.insert(h.clean().trim());
    }
    let mut scores: Scores = best
        .into_iter()
        .map(|(c, (w, n))| (c, f64::from(w) + 0.15 * (n.len().min(6) as f64)))
        .collect();
    // The failing step's command names the tool ("Run yarn prettier-check", "$ mypy ."): a
    // known tool adds to its category; words in a script's name ("check", "health") do not.
    if let Some(c) = step.and_then(|s| s.name.as_deref()).and_then(step_category) {
        *scores.entry(c).or_insert(3.0) += 0.5;
    }
    if let Some(c) = ctx.framework.as_deref().and_then(framework_category)
        && let Some(s) = scores.get_mut(&c)
    {
        *s += 0.5;
    }
    scores
}

/// `(category, its score, the runner-up's score)`.
fn pick(
    scores: &Scores,
    ex: &Extraction,
    ctx: &JobContext,
    step: Option<&Hit>,
) -> (Category, f64, f64) {
    // GitLab knows better than the log about its own runners and limits.
    match &ctx.failure_reason {
        Some(r) if r.is_infrastructure() => return (Category::Infrastructure, 10.0, 0.0),
        Some(FailureReason::JobExecutionTimeout) => return (Category::TimeoutOrOom, 10.0, 0.0),
        _ => {}
    }
    let mut ranked: Vec<(Category, f64)> = scores.iter().map(|(c, s)| (*c, *s)).collect();
    // Highest score first; on a tie, the category whose first strong line comes first.
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| first_line(ex, a.0).cmp(&first_line(ex, b.0)))
    });
    let top = ranked.first().copied();
    let runner_up = ranked.get(1).map_or(0.0, |r| r.1);
    match top {
        Some((c, s)) if s >= 4.0 => (c, s, runner_up),
        _ => {
            // No tool error recognised. A workflow gate (a script's own `exit 1`, an action's
            // `core.setFailed`, an `##[error]` annotation) failed the job: that is the workflow
            // itself, i.e. CI configuration.
            let gate = ex
                .hits
                .iter()
                .any(|h| matches!(h.rule, "exit_cmd" | "setfailed"))
                || ex.hits.iter().any(|h| {
                    h.rule == "annotation" && !h.text.contains("Process completed with exit code")
                });
            if gate && step.is_some() {
                (Category::GithubActionsConfig, 4.0, top.map_or(0.0, |t| t.1))
            } else if let Some(c) = exit_status_category(ex) {
                // Only weak words, but the status itself says how the command ended.
                (c, 3.5, top.map_or(0.0, |t| t.1))
            } else if let Some((c, s)) = top {
                (c, s, runner_up)
            } else if ex.hits.iter().any(|h| h.weight > 0) {
                (Category::Other, 1.0, 0.0)
            } else {
                (Category::Unknown, 0.0, 0.0)
            }
        }
    }
}

/// What the job's final exit status means on its own, for the statuses that name a cause
/// rather than "some error": the shell's and coreutils' conventions (127 not found, 126 not
/// executable, 124 `timeout`, 128+N killed by signal N).
fn exit_status_category(ex: &Extraction) -> Option<Category> {
    let code = ex.by_role(Role::Exit).filter_map(|h| h.exit_code).last()?;
    if code == 124 && ex.hits.iter().any(|h| h.rule == "xargs_abort") {
        return None;
    }
    match code {
        // 124 timeout(1); 137 SIGKILL (the OOM killer, a hard limit); 143 SIGTERM and 142
        // SIGALRM (stopped from outside: a time limit, a cancellation).
        124 | 137 | 142 | 143 => Some(Category::TimeoutOrOom),
        127 => Some(Category::GithubActionsConfig),
        126 => Some(Category::PermissionOrSecret),
        // SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL: the program crashed.
        139 | 134 | 135 | 136 | 132 => Some(Category::TestAssertion),
        _ => None,
    }
}

/// The category a step's command points at: its tool, else a task-like name (`yarn
/// prettier-check`, `make lint`) when the command is a task runner.
fn step_category(cmd: &str) -> Option<Category> {
    if let Some(c) = cause::tool_category(cmd) {
        return Some(c);
    }
    let mut w = cmd.split_whitespace();
    match w.next()? {
        "yarn" | "npm" | "pnpm" | "make" | "just" | "task" | "nox" | "tox" | "rake"
        | "./gradlew" | "gradle" | "mvn" | "./mvnw" => {
            let rest: Vec<&str> = w.filter(|a| *a != "run" && !a.starts_with('-')).collect();
            rest.first().and_then(|t| extract::category_from_name(t))
        }
        _ => None,
    }
}

fn first_line(ex: &Extraction, c: Category) -> usize {
    ex.hits
        .iter()
        .filter(|h| h.category == Some(c) && h.weight >= 4)
        .map(|h| h.line)
        .min()
        .unwrap_or(usize::MAX)
}

fn framework_category(fw: &str) -> Option<Category> {
    let f = fw.to_ascii_lowercase();
    match f.as_str() {
        "pytest" | "jest" | "vitest" | "mocha" | "go" | "gotest" | "go test" | "junit"
        | "maven" | "unittest" | "rspec" | "nextest" => Some(Category::TestAssertion),
        "tsc" | "mypy" | "pyright" => Some(Category::TypeError),
        "eslint" | "ruff" | "prettier" | "clippy" => Some(Category::LintFailure),
        "docker" | "buildx" => Some(Category::DockerBuild),
        _ => None,
    }
}

fn confidence(category: Category, top: f64, runner_up: f64, ctx: &JobContext) -> f64 {
    if category == Category::Unknown {
        return 0.1;
    }
    if ctx
        .failure_reason
        .as_ref()
        .is_some_and(|r| r.is_infrastructure())
    {
        return 0.85;
    }
    let base: f64 = if top >= 8.0 {
        0.8
    } else if top >= 6.0 {
        0.7
    } else if top >= 4.0 {
        0.55
    } else {
        0.3
    };
    let contested = if runner_up >= top - 0.5 { 0.15 } else { 0.0 };
    ((base - contested) * 100.0).round() / 100.0
}

/// Confidence from where the evidence sits. The chosen category's own line inside the failing
/// command, agreeing with the command's tool, reads as sure; a cause inferred across steps (a
/// cascade), found only outside the failing command, or at odds with the tool does not.
fn calibrate(
    conf: f64,
    category: Category,
    ex: &Extraction,
    (start, end): (usize, usize),
    step: Option<&Hit>,
    cascade: Option<&Hit>,
) -> f64 {
    let mut c = conf;
    let inside = ex
        .hits
        .iter()
        .any(|h| h.category == Some(category) && h.weight >= 4 && h.line >= start && h.line <= end);
    if let Some(root) = cascade {
        // The root is a strong line of its own; the link to the symptom is an inference.
        c = if root.weight >= 8 { 0.55 } else { 0.5 };
    } else if !inside {
        c = c.min(0.45);
    }
    if let Some(tool) = step
        .and_then(|s| s.name.as_deref())
        .and_then(cause::tool_category)
    {
        if tool == category {
            c = (c + 0.05).min(0.85);
        } else if !tool_allows(tool, category) {
            c = c.min(0.5);
        }
    }
    (c * 100.0).round() / 100.0
}

/// Whether a tool's run can plausibly fail with `category` (anything can hit the network, the
/// runner, a time or memory limit, or a missing tool or permission).
fn tool_allows(tool: Category, category: Category) -> bool {
    use Category as C;
    match category {
        C::NetworkOrFlaky
        | C::Infrastructure
        | C::TimeoutOrOom
        | C::PermissionOrSecret
        | C::GithubActionsConfig => true,
        _ => match tool {
            // Image builds run other tools; test runners compile first and import packages.
            C::DockerBuild => true,
            C::TestAssertion => matches!(category, C::CompileError | C::DependencyInstall),
            C::TypeError | C::CompileError => {
                matches!(
                    category,
                    C::CompileError | C::TypeError | C::DependencyInstall
                )
            }
            C::LintFailure => matches!(category, C::FormattingFailure | C::CompileError),
            C::DependencyInstall => matches!(category, C::CompileError | C::DockerBuild),
            _ => false,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Anchors, tests, files

/// The lines that explain the failure: the chosen category's strongest hits, in log order.
fn anchors(ex: &Extraction, category: Category) -> Vec<&Hit> {
    let strongest = ex
        .hits
        .iter()
        .filter(|h| h.category == Some(category))
        .map(|h| h.weight)
        .max()
        .unwrap_or(0);
    let floor = strongest.saturating_sub(2).max(1);
    let mut out: Vec<&Hit> = Vec::new();
    let mut seen_text = HashSet::new();
    for h in &ex.hits {
        if h.category == Some(category)
            && h.weight >= floor
            && matches!(h.role, Role::Cause | Role::Test | Role::Summary)
            && seen_text.insert(h.text.trim())
        {
            out.push(h);
        }
    }
    if out.is_empty() {
        // Nothing categorised: fall back on annotations and generic error lines.
        out.extend(
            ex.hits
                .iter()
                .filter(|h| matches!(h.rule, "annotation" | "generic_error" | "exit_cmd"))
                .filter(|h| !is_runner_boilerplate(&h.text))
                .filter(|h| seen_text.insert(h.text.trim())),
        );
        // The last ones are closest to the failure.
        let n = out.len();
        out.drain(..n.saturating_sub(8));
    }
    out
}

/// Failed tests, whatever the category: when a permission or network problem makes tests fail,
/// they are the visible symptom and still worth naming.
///
/// Jest prints `FAIL <file>` and then a `● Suite › test` bullet per failing test of that file:
/// the file stands for its tests only when none of them is named, otherwise one failing test
/// would be counted twice ("2 failing tests: `cart.test.ts`, `Cart › total`").
fn collect_tests(ex: &Extraction) -> Vec<String> {
    fn clean(t: &str) -> Option<String> {
        let t = t.trim_end_matches(':').trim();
        (t.len() >= 3 && t.len() <= 300).then(|| t.to_string())
    }
    // (name, is a file standing in for its tests, covered by a named test)
    let mut found: Vec<(String, bool, bool)> = Vec::new();
    let mut open_file: Option<usize> = None;
    for h in ex.by_role(Role::Test) {
        match (&h.test, h.rule) {
            // Jest's bullet for a file that did not load names no test: the file does.
            (Some(t), _) if t.trim() == "Test suite failed to run" => {}
            (Some(t), _) => {
                if let Some(i) = open_file {
                    found[i].2 = true;
                }
                if let Some(t) = clean(t) {
                    found.push((t, false, false));
                }
            }
            (None, "jest_fail_file") => {
                open_file = h.file.as_deref().and_then(clean).map(|f| {
                    found.push((f, true, false));
                    found.len() - 1
                });
            }
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|(_, file, covered)| !(*file && *covered))
        .map(|(t, _, _)| t)
        .filter(|t| seen.insert(t.clone()))
        .take(MAX_TESTS)
        .collect()
}

static WORKSPACE_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[A-Za-z]:)?/?(?:(?:home/runner/work|Users/runner/work|__w|a)/[^/]+/[^/]+/|builds/[^/]+/[^/]+/|checkout/|github/workspace/)",
    )
    .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Repository-relative path when the prefix is a known CI workspace; `None` for third-party
/// and toolchain files.
pub fn normalize_path(raw: &str, ctx: &JobContext) -> Option<String> {
    let p = raw.trim().trim_start_matches("file://").replace('\\', "/");
    let p = p.trim_end_matches([':', ',', ')', '.', '\'', '"']);
    let repo_name = ctx
        .repo
        .as_deref()
        .or(ctx.project.as_deref())
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_string);
    if let Some((_, inside)) = p.split_once("site-packages/") {
        // An installed copy of the project under test is the project's own file.
        let first = inside.split('/').next().unwrap_or("");
        return match &repo_name {
            Some(r) if !first.is_empty() && r.replace('-', "_").eq_ignore_ascii_case(first) => {
                Some(inside.to_string())
            }
            _ => None,
        };
    }
    const FOREIGN: [&str; 12] = [
        "node_modules/",
        "/.cargo/registry/",
        "/rustc/",
        "/usr/lib/",
        "/usr/local/lib/",
        "/opt/hostedtoolcache/",
        "<frozen",
        "/.rustup/",
        "/go/pkg/mod/",
        "/.m2/repository/",
        "/.pyenv/",
        "/lib/python3.",
    ];
    if FOREIGN.iter().any(|f| p.contains(f)) || p.starts_with("internal/") && p.ends_with(".js") {
        return None;
    }
    if let Some(project) = ctx.project.as_deref() {
        let prefix = format!("/builds/{project}/");
        if let Some(rest) = p.strip_prefix(&prefix) {
            return Some(rest.to_string());
        }
    }
    let stripped = WORKSPACE_PREFIX.replace(p, "");
    let s = stripped.trim_start_matches("./");
    let base = s.rsplit('/').next().unwrap_or(s);
    let ext_ok = s.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric())
    }) || ["Dockerfile", "Containerfile", "Makefile", "Jenkinsfile"]
        .iter()
        .any(|n| base.starts_with(n));
    if s.len() < 3 || !ext_ok || s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(s.to_string())
}

/// Files named near the anchors first (closest first), then any other file the chosen
/// category's lines name.
fn collect_files(
    ex: &Extraction,
    anchors: &[&Hit],
    category: Category,
    ctx: &JobContext,
) -> Vec<String> {
    // The nearest anchor by bisection: a log can have thousands of anchors and of paths.
    let mut anchor_lines: Vec<usize> = anchors.iter().map(|a| a.line).collect();
    anchor_lines.sort_unstable();
    let near = |line: usize| {
        let i = anchor_lines.partition_point(|&a| a < line);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|k| anchor_lines.get(k))
            .map(|&a| a.abs_diff(line))
            .min()
            .unwrap_or(usize::MAX)
    };
    // A source location counts when it follows (within a few lines) an error, failed test or
    // assertion detail of the chosen category: the frames and paths that explain it.
    let errors: Vec<usize> = ex
        .hits
        .iter()
        .filter(|h| {
            h.category == Some(category)
                && matches!(h.role, Role::Cause | Role::Test | Role::Detail)
        })
        .map(|h| h.line)
        .collect();
    let follows_error = |line: usize| {
        let from = errors.partition_point(|&e| e + 15 < line);
        // Docker prints the Dockerfile excerpt a few lines before its error.
        errors.get(from).is_some_and(|&e| e <= line + 10)
    };
    let mut cands: Vec<(usize, usize, String)> = Vec::new();
    for h in &ex.hits {
        let Some(f) = &h.file else { continue };
        let relevant =
            h.category == Some(category) || (h.role == Role::Location && follows_error(h.line));
        let dist = near(h.line);
        if !relevant {
            continue;
        }
        let Some(mut p) = normalize_path(f, ctx) else {
            continue;
        };
        if h.rule == "go_test_loc"
            && !p.contains('/')
            && let Some(dir) = go_package_dir(ex, h.line)
        {
            p = format!("{dir}/{p}");
        }
        cands.push((dist, h.line, p));
    }
    // Absolute paths outside the CI workspace are mostly toolchain or container internals
    // (`/usr/local/go/src/...`, `/src/solver/...`): after the repository's own, and few.
    cands.sort_by_key(|(d, l, p)| (p.starts_with('/'), *d, *l));
    let mut seen = HashSet::new();
    let mut absolute = 0;
    cands
        .into_iter()
        .filter(|(_, _, p)| {
            let abs = p.starts_with('/');
            absolute += usize::from(abs);
            !abs || absolute <= 2
        })
        .filter_map(|(_, _, p)| seen.insert(p.clone()).then_some(p))
        .take(MAX_FILES)
        .collect()
}

/// The module-relative directory of the Go package whose `FAIL\tpkg` line follows `line`.
fn go_package_dir(ex: &Extraction, line: usize) -> Option<String> {
    // Hits are in line order: start after `line` (a log of many test locations must not read
    // every hit for each).
    let from = ex.hits.partition_point(|h| h.line <= line);
    let pkg = ex.hits[from..]
        .iter()
        .take_while(|h| h.line < line + 200)
        .filter(|h| h.rule == "go_pkg_fail")
        .find_map(|h| h.name.clone())?;
    static MODULE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/]+(?:/v\d+)?(?:/|$)")
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    });
    let m = MODULE.find(&pkg)?;
    Some(pkg[m.end()..].to_string()).filter(|d| !d.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Evidence

/// The last step echoed (`##[group]Run`, `$ cmd`) before the end of the failure region, not
/// counting after_script's.
fn failing_step(log: &LogIndex, ex: &Extraction, (_, limit): (usize, usize)) -> Option<Hit> {
    ex.hits
        .iter()
        .rfind(|h| {
            matches!(h.rule, "gha_step" | "shell_step")
                && h.line <= limit
                && !in_after_section(log, h.line)
        })
        .cloned()
}

fn build_evidence(
    log: &LogIndex,
    ex: &Extraction,
    anchors: &[&Hit],
    category: Category,
    step: Option<&Hit>,
    region: (usize, usize),
    cascade: Option<&Hit>,
) -> Vec<Evidence> {
    let mut picked: BTreeMap<usize, String> = BTreeMap::new();
    // Runner lines (`ERROR: Job failed: exit code 1`, section headers, cleanup) say that the
    // job failed, never why: kept aside, quoted only when nothing else is.
    let mut boilerplate: BTreeMap<usize, String> = BTreeMap::new();
    let mut add = |line: usize, text: &str, picked: &mut BTreeMap<usize, String>| {
        let t = text.trim();
        // Shorter quotes ("FAIL", "}") say nothing on their own, nor do the markers Python
        // and compilers put under a span (`^^^^^^`, `~~~~^~~~`).
        if t.chars().count() < 8 || is_span_marker(t) {
            return;
        }
        if is_runner_boilerplate(t) || in_after_section(log, line) {
            boilerplate
                .entry(line)
                .or_insert_with(|| cut(t, QUOTE_MAX).to_string());
            return;
        }
        if picked.len() < MAX_EVIDENCE {
            picked
                .entry(line)
                .or_insert_with(|| cut(t, QUOTE_MAX).to_string());
        }
    };
    // 0. a cascade's root, even where only the after_script printed it (a server's log)
    if let Some(root) = cascade
        && !is_runner_boilerplate(root.text.trim())
    {
        picked.insert(root.line, cut(root.text.trim(), QUOTE_MAX).to_string());
        for (l, t) in lines_before(log, ex, root.line) {
            add(l, &t, &mut picked);
        }
    }
    // 1. the anchors (the cause, earliest first) and what explains them
    for a in anchors.iter().take(8) {
        add(a.line, &a.text, &mut picked);
        for (l, t) in context_lines(log, ex, a) {
            add(l, &t, &mut picked);
        }
    }
    // 1a. a header or library the compiler or linker cannot find that the build's own probe
    //     had already found missing (`checking for LZ4_compress_default in -llz4... no`):
    //     the configure step went on without it, and that line says why
    if let Some(line) = anchors.iter().find_map(|a| probe_said_no(log, a)) {
        add(line, &log.plain_cow(line), &mut picked);
    }
    // 1b. what the failing step's first error follows: tools state the specific finding just
    //     above their verdict (`Checking 'f'  FAILED: ...` before `amtool: error: failed to
    //     validate 1 file(s)`, a unit file's line before systemd's "fatal error")
    if let Some(first) = anchors
        .iter()
        .filter(|a| a.line > region.0)
        .map(|a| a.line)
        .min()
    {
        for (l, t) in lines_before(log, ex, first) {
            add(l, &t, &mut picked);
        }
    }
    // 2. in a cascade, the symptoms the cause explains
    if cascade.is_some() {
        for h in ex
            .hits
            .iter()
            .filter(|h| h.line >= region.0 && h.line <= region.1 && cause::is_missing_symptom(h))
            .take(3)
        {
            add(h.line, &h.text, &mut picked);
        }
    }
    // 3. failed tests and details of the chosen category
    for h in ex
        .hits
        .iter()
        .filter(|h| h.category == Some(category) && matches!(h.role, Role::Test | Role::Detail))
        .take(10)
    {
        add(h.line, &h.text, &mut picked);
    }
    // 3b. an exception a failed test's captured log or stderr ends with (`--- Captured log call
    //     ---`, then a server's `TypeError: handler() missing 1 required positional argument`):
    //     the other side of what the test saw (a closed connection, a 500)
    if category == Category::TestAssertion {
        for h in ex
            .hits
            .iter()
            .filter(|h| {
                h.rule == "py_exception"
                    && h.line >= region.0
                    && h.line <= region.1
                    && cause::is_uncaught_exception(h)
            })
            // (Each look-up reads up to CAPTURED_SCAN lines: a bounded number of them.)
            .take(CAPTURED_CANDIDATES)
            .filter(|h| in_captured_output(log, h.line))
            .take(2)
        {
            add(h.line, &h.text, &mut picked);
        }
    }
    // 4. strong causes of other kinds inside the failing step: what a wrapper error wraps
    //    (the 502 inside a docker build, the refused push inside a script)
    for h in ex
        .hits
        .iter()
        .filter(|h| {
            h.category.is_some_and(|c| c != category)
                && h.role == Role::Cause
                && h.weight >= 6
                && h.line >= region.0
                && h.line <= region.1
        })
        .take(4)
    {
        add(h.line, &h.text, &mut picked);
        for (l, t) in context_lines(log, ex, h) {
            add(l, &t, &mut picked);
        }
    }
    // 4b. an error an earlier command printed and the job went past (a seed task that only
    //     warned it skipped a malformed file): what the failing command may have inherited.
    //     Not the network's or the runner's (retries print those and succeed), not in a loop.
    //     (Outside the failing command weights are 3 lower here: 7 as extracted.)
    if cascade.is_none()
        && let Some(h) = ex.hits.iter().find(|h| {
            h.line < region.0
                && h.role == Role::Cause
                && h.weight >= 4
                && h.category.is_some_and(|c| !c.is_infra_or_flaky())
                && !in_after_section(log, h.line)
                && !cause::in_loop(ex, h.line)
        })
    {
        add(h.line, &h.text, &mut picked);
        // (MkDocs' WARNING above its "Aborted with 1 warnings in strict mode!")
        for (l, t) in lines_before(log, ex, h.line) {
            add(l, &t, &mut picked);
        }
    }
    // 5. failed tests of other kinds (symptoms) and the tools' final summaries
    for h in ex
        .hits
        .iter()
        .filter(|h| h.category != Some(category) && h.role == Role::Test && h.weight >= 4)
        .take(4)
    {
        add(h.line, &h.text, &mut picked);
    }
    let summaries: Vec<&Hit> = ex
        .hits
        .iter()
        .filter(|h| h.role == Role::Summary && h.weight >= 4)
        .collect();
    for h in summaries.iter().rev().take(3) {
        add(h.line, &h.text, &mut picked);
    }
    let explained_inside = picked.keys().any(|&l| l > region.0 && l <= region.1);
    // 6. the failing command's programs in their own words (`tar: x: Not found in archive`,
    //    `zstd: x: unsupported format`): GNU-style tools name themselves on their
    //    diagnostics, and those are the lines an SRE reads first, known wording or not
    if let Some(s) = step {
        let programs = step_programs(s.name.as_deref().unwrap_or(""));
        let last = region.1.min(log.line_count().saturating_sub(1));
        let mut found = 0;
        for i in (s.line + 1..=last).take(OWN_WORDS_SCAN) {
            let plain = log.plain_cow(i);
            let body = extract::strip_ci_timestamp(&plain);
            if body.starts_with("$ ") {
                break;
            }
            let own = programs.iter().any(|p| {
                body.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with(": "))
            });
            if own {
                add(i, body, &mut picked);
                found += 1;
                if found == OWN_WORDS {
                    break;
                }
            }
        }
    }
    // 6b. a failing `diff` (or `git diff --exit-code`): the lines it reports changed are the
    //     finding (`+kv_hash`, a symbol the library now exports), not its last lines
    if let Some(s) = step
        && compares_files(s.name.as_deref().unwrap_or(""))
    {
        let last = region.1.min(log.line_count().saturating_sub(1));
        let mut found = 0;
        for i in (s.line + 1..=last).take(OWN_WORDS_SCAN) {
            let plain = log.plain_cow(i);
            let body = extract::strip_ci_timestamp(&plain);
            if body.starts_with("$ ") {
                break;
            }
            // (`git diff` names the file first: `diff --git a/x b/x`.)
            if is_changed_line(body) || body.starts_with("diff --git ") {
                picked
                    .entry(i)
                    .or_insert_with(|| cut(body.trim(), QUOTE_MAX).to_string());
                found += 1;
                if found == OWN_WORDS || picked.len() >= MAX_EVIDENCE {
                    break;
                }
            }
        }
    }
    // 7. nothing recognised in the failing command (nothing at all, or only an earlier
    //    command's error the job went past): its last words are the most informative lines
    //    (however short: `jq -e`'s `false` is all it says; not a lone `}`)
    if !explained_inside {
        for (l, t) in last_output_lines(log, region, 3) {
            let short = t.trim().chars().count() < 8;
            if short && t.chars().any(char::is_alphanumeric) && picked.len() < MAX_EVIDENCE {
                picked.entry(l).or_insert_with(|| t.trim().to_string());
            } else {
                add(l, &t, &mut picked);
            }
        }
    }
    // 8. the failing step, and the exit status only when nothing else speaks
    if let Some(s) = step {
        add(s.line, &s.text, &mut picked);
    }
    // GitHub's `##[error]Process completed with exit code N` annotates the failed step; GitLab's
    // `ERROR: Job failed: exit code N` is boilerplate, set aside by `add`.
    if let Some(h) = ex.by_role(Role::Exit).last() {
        add(h.line, &h.text, &mut picked);
    }
    if picked.len() <= 1 {
        picked.append(&mut boilerplate);
    }
    picked
        .into_iter()
        .map(|(line, text)| Evidence {
            line: line + 1,
            text,
        })
        .collect()
}

/// How many of the failing programs' own lines are quoted, and how far after the step they are
/// looked for (a step's output can be a whole build log).
const OWN_WORDS: usize = 3;
const OWN_WORDS_SCAN: usize = 20_000;

/// The programs a step's command runs (`zstd -d x | tar -x -C out/` gives zstd and tar): for
/// each command of its pipes and lists, past the shell's own words (`if`, `!`, `timeout 60`)
/// and environment assignments, the program [`cause::program_index`] finds, without its
/// directory.
fn step_programs(cmd: &str) -> Vec<&str> {
    const SHELL: [&str; 15] = [
        "!", "{", "}", "(", "if", "then", "else", "elif", "fi", "do", "done", "timeout", "nice",
        "nohup", "time",
    ];
    let mut out: Vec<&str> = Vec::new();
    for seg in cmd.split(['|', '&', ';']) {
        let words: Vec<&str> = seg
            .split_whitespace()
            .skip_while(|w| {
                SHELL.contains(w) || w.contains('=') || w.starts_with(|c: char| c.is_ascii_digit())
            })
            .collect();
        let Some(word) = words.get(cause::program_index(&words)) else {
            continue;
        };
        let name = word
            .rsplit('/')
            .next()
            .unwrap_or(word)
            .trim_matches(['"', '\'', '(', ')']);
        let plain = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+'));
        if name.len() >= 2 && plain && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// How far above a missing header the build's probes are looked for.
const PROBE_SCAN: usize = 20_000;

/// The line above `a` (a compiler's `fatal error: lz4.h: No such file or directory`, a
/// linker's `cannot find -llz4`) where the build's probe for that library said no: autoconf's
/// `checking for lz4.h... no`, meson's `Run-time dependency lz4 found: NO`.
fn probe_said_no(log: &LogIndex, a: &Hit) -> Option<usize> {
    let t = a.clean();
    let name = if let Some(rest) = t.split("fatal error: ").nth(1)
        && rest.contains(": No such file or directory")
    {
        let header = rest.split(':').next()?.trim();
        let file = header.rsplit('/').next()?;
        file.strip_suffix(".h")
            .or_else(|| file.strip_suffix(".hpp"))?
    } else if let Some(rest) = t.split("cannot find -l").nth(1) {
        rest.split(|c: char| c.is_whitespace() || c == ':').next()?
    } else {
        return None;
    };
    let name = name.trim_start_matches("lib");
    if name.len() < 2
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let names = |body: &str| {
        body.to_ascii_lowercase()
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| w == lower || w == format!("l{lower}") || w == format!("lib{lower}"))
    };
    (a.line.saturating_sub(PROBE_SCAN)..a.line)
        .rev()
        .find(|&i| {
            let plain = log.plain_cow(i);
            let body = extract::strip_ci_timestamp(&plain).trim_end();
            let said_no = (body.starts_with("checking ") && body.ends_with("... no"))
                || (body.contains(" found: NO") || body.ends_with(": NO"));
            said_no && names(body)
        })
}

/// A command that compares files and fails on a difference: `diff`, `git diff --exit-code`
/// (`--quiet` prints nothing to quote).
fn compares_files(cmd: &str) -> bool {
    let programs = step_programs(cmd);
    programs.contains(&"diff")
        || (programs.contains(&"git") && cmd.contains(" diff ") && cmd.contains("--exit-code"))
}

/// A category that is a reading of the cause, not a fact the log states, and that careful
/// readers disagree on:
/// - git's "dubious ownership": a permission problem to LogDx-CI's labellers, the runner's
///   setup to round 55's;
/// - a program not found on the PATH: the job's image, or a dependency it did not install;
/// - a Jinja template that does not render: the job's configuration when the template is a
///   config file (jinja2-cli, Ansible's j2 files), the code when it is a DAG's templated field
///   (Airflow); the engine cannot tell whose template it is.
fn contested_reading(category: Category, anchors: &[&Hit]) -> bool {
    match category {
        Category::PermissionOrSecret => anchors.iter().any(|a| a.rule == "dubious_ownership"),
        Category::GithubActionsConfig => anchors.first().is_some_and(|a| {
            // A program the job's image lacks (`xvfb-run: command not found`): its image to
            // some labellers, a dependency the job never installed to others (rounds 62, 65).
            a.rule == "cmd_not_found"
                || a.rule == "py_exception"
                    && a.name.as_deref().is_some_and(|n| {
                        matches!(
                            n,
                            "UndefinedError"
                                | "TemplateNotFound"
                                | "TemplateSyntaxError"
                                | "TemplateAssertionError"
                        )
                    })
        }),
        _ => false,
    }
}

/// A command whose pipeline ends in `grep` (`cmd | grep -c x`, `n=$(cmd | grep -q x)`): its
/// status is grep's, 1 when nothing matched.
fn pipes_into_grep(cmd: &str) -> bool {
    cmd.split('|').skip(1).any(|seg| {
        seg.split_whitespace()
            .next()
            .is_some_and(|w| w == "grep" || w == "egrep")
    })
}

/// A command that runs a formatter that rewrites the files it is given (`clang-format -i`,
/// `gofmt -w`, `prettier --write`, `black src`), not one that only checks or prints a diff.
fn formats_in_place(cmd: &str) -> bool {
    let words: Vec<&str> = cmd
        .split_whitespace()
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect();
    let has = |w: &str| words.contains(&w);
    let checks_only = words.iter().any(|w| {
        matches!(
            *w,
            "--check"
                | "-check"
                | "--dry-run"
                | "--diff"
                | "-l"
                | "--list-different"
                | "--check-formatted"
                | "--output-replacements-xml"
        )
    });
    if checks_only {
        return false;
    }
    let write_flag = has("-i") || has("-w") || has("--write") || has("--in-place");
    let rewrites_with_flag = [
        "clang-format",
        "gofmt",
        "goimports",
        "prettier",
        "shfmt",
        "yapf",
        "autopep8",
        "swift-format",
        "biome",
        "dprint",
    ];
    let rewrites_by_default = ["black", "rustfmt", "isort", "stylua", "nixfmt", "alejandra"];
    (write_flag && rewrites_with_flag.iter().any(|p| has(p)))
        || rewrites_by_default.iter().any(|p| has(p))
        || (has("fmt") && (has("cargo") || has("terraform") || has("tofu") || has("dprint")))
        || (has("format") && (has("ruff") || has("mix") || has("dart") || has("buf")))
}

/// A line a unified or normal diff reports changed: `+kv_hash`, `-old`, `> new`; not the
/// `+++ file` and `--- file` headers.
fn is_changed_line(body: &str) -> bool {
    let header = body.starts_with("+++ ") || body.starts_with("--- ");
    let unified = (body.starts_with('+') || body.starts_with('-'))
        && body.len() > 1
        && !header
        && body != "---";
    unified || body.starts_with("> ") || body.starts_with("< ")
}

/// Up to 2 output lines just above `line` in its own step, when nothing strong above it in the
/// step was recognised: the step's first error then often only sums up what those lines say.
fn lines_before(log: &LogIndex, ex: &Extraction, line: usize) -> Vec<(usize, String)> {
    // Hits are in line order: the ones above `line`, nearest first.
    let above = ex.hits[..ex.hits.partition_point(|h| h.line < line)]
        .iter()
        .rev();
    let mut strong_between = false;
    let mut echo = None;
    for h in above {
        if h.role == Role::Step {
            echo = Some(h.line);
            break;
        }
        // (A weak hit, an input a program could not open, does not count: it is what to quote.)
        strong_between |= h.weight >= 4 && h.role != Role::Location;
    }
    let Some(echo) = echo else {
        return Vec::new();
    };
    if strong_between {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in (echo + 1..line).rev() {
        let t = log.plain_cow(i);
        let body = extract::strip_ci_timestamp(&t);
        if body.trim().is_empty() || is_runner_boilerplate(body) || in_after_section(log, i) {
            continue;
        }
        out.push((i, body.to_string()));
        if out.len() == 2 {
            break;
        }
    }
    out.reverse();
    out
}

/// The last `n` non-blank output lines of the failing command (0-based line, text).
fn last_output_lines(
    log: &LogIndex,
    (start, end): (usize, usize),
    n: usize,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let last = end.min(log.line_count().saturating_sub(1));
    for i in (start + 1..=last).rev() {
        let t = log.plain_cow(i);
        let body = extract::strip_ci_timestamp(&t);
        if body.trim().is_empty() || is_runner_boilerplate(body) || in_after_section(log, i) {
            continue;
        }
        out.push((i, body.to_string()));
        if out.len() >= n {
            break;
        }
    }
    out.reverse();
    out
}

/// How far below a failed ctest test its output is read.
const CTEST_OUTPUT_SCAN: usize = 200;

/// How far below unittest's `ERROR:`/`FAIL:` header its traceback's last line is looked for.
const UNITTEST_BLOCK_SCAN: usize = 200;

/// Lines around an anchor that carry its meaning: the frames before a Python exception, the
/// message after a panic or a test header, assertion details just below.
fn context_lines(log: &LogIndex, ex: &Extraction, a: &Hit) -> Vec<(usize, String)> {
    let body = |i: usize| extract::strip_ci_timestamp(&log.plain_cow(i)).to_string();
    let mut out = Vec::new();
    let python_error = matches!(a.rule, "py_syntax" | "py_exception" | "merge_conflict");
    if python_error {
        for i in a.line.saturating_sub(3)..a.line {
            let t = body(i);
            if !t.trim().is_empty() {
                out.push((i, t));
            }
        }
    }
    if a.role == Role::Test {
        // Go prints a test's messages (`file_test.go:31: got 1, want 0`) before its FAIL line.
        for h in ex
            .hits
            .iter()
            .filter(|h| h.role == Role::Location && h.line < a.line && h.line + 3 >= a.line)
        {
            out.push((h.line, h.text.to_string()));
        }
    }
    // ctest --output-on-failure prints the failed test's own output right below its line, at
    // column 0, up to a blank line: its last lines are the test's words for what failed
    // (`overshoot 34.2% exceeds the 10.0% limit`).
    if a.rule == "ctest_fail" && a.test.is_some() {
        let end = (a.line + 1 + CTEST_OUTPUT_SCAN).min(log.line_count());
        let mut block = Vec::new();
        for i in a.line + 1..end {
            let t = body(i);
            let next_test = t.trim_start().starts_with("Start ") || t.contains(" Test #");
            if t.trim().is_empty() || next_test || is_runner_boilerplate(&t) {
                break;
            }
            block.push((i, t));
        }
        let from = block.len().saturating_sub(2);
        out.extend(block.drain(from..));
        return out;
    }
    // unittest's `ERROR: test_x (mod.Class.test_x)` heads a traceback: the test's own frame
    // (`File ".../tests.py", line 20, in test_x` and its line) and the exception it ends with
    // (`django.urls.exceptions.NoReverseMatch: ...`) say what failed; the frames between are
    // the library's.
    if a.rule == "unittest_fail" {
        let end = (a.line + 1 + UNITTEST_BLOCK_SCAN).min(log.line_count());
        let mut in_traceback = false;
        for i in a.line + 1..end {
            let t = body(i);
            if t.starts_with("=====") || t.starts_with("FAIL: ") || t.starts_with("ERROR: ") {
                break;
            }
            if t.starts_with("Traceback (most recent call last)") {
                in_traceback = true;
                continue;
            }
            if !in_traceback {
                continue;
            }
            if t.trim_start().starts_with("File ") && out.is_empty() {
                out.push((i, t));
                // (and the line of the test it shows, unless it is only a span marker)
                if i + 1 < end {
                    let code = body(i + 1);
                    if !is_span_marker(&code) {
                        out.push((i + 1, code));
                    }
                }
            } else if !t.trim().is_empty()
                && !t.starts_with(' ')
                && !t.starts_with("During handling of the above exception")
                && !t.starts_with("The above exception was the direct cause")
            {
                out.push((i, t));
                return out;
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    // Up to 3 following non-blank lines while they stay indented or are known details.
    let mut taken = 0;
    let end = (a.line + 8).min(log.line_count());
    for i in a.line + 1..end {
        let t = body(i);
        if t.trim().is_empty() {
            continue;
        }
        let on_line = ex.on_line(i);
        let detail = on_line
            .iter()
            .any(|h| matches!(h.role, Role::Detail | Role::Location));
        let indented = t.starts_with(' ') || t.starts_with('\t');
        // Test headers are followed by their (indented) message; an error message by what it
        // lists (files to format, packages, hints).
        let follows_header = matches!(
            a.rule,
            "rust_panic"
                | "jest_bullet"
                | "go_test_fail"
                | "unittest_fail"
                | "jest_fail_file"
                | "phpunit_test"
                | "minitest_header"
                | "junit4_console"
        ) || (a.role == Role::Cause && !python_error);
        let next_step = t.starts_with("##[")
            || t.starts_with("::")
            || is_runner_boilerplate(&t)
            || on_line
                .iter()
                .any(|h| matches!(h.role, Role::Step | Role::Exit));
        if next_step {
            break;
        }
        let lists = a.role == Role::Cause && !python_error;
        // PHPUnit's, minitest's and JUnit 4's headers (`1) Class::method`) are followed by
        // their message at column 0 (`Undefined array key "currency"`, `NoMethodError: ...`).
        let message_below = taken == 0
            && matches!(
                a.rule,
                "phpunit_test" | "minitest_header" | "junit4_console"
            )
            && a.test.is_some();
        if detail || message_below || (follows_header && (indented || lists)) {
            out.push((i, t));
            taken += 1;
            if taken >= 3 {
                break;
            }
        } else if !follows_header {
            // (An indented line that names what the detail below is about, pydantic's field
            // name above its `Extra inputs are not permitted [type=...]`, does not end it.)
            let detail_below = indented
                && (i + 1..(i + 3).min(end))
                    .any(|j| ex.on_line(j).iter().any(|h| h.role == Role::Detail));
            if !detail_below {
                break;
            }
        }
    }
    out
}

/// A line that only marks a span of the line above (`^^^^^^`, `~~~~^~~~`), as Python's
/// tracebacks and compilers print it.
fn is_span_marker(t: &str) -> bool {
    t.chars().all(|c| matches!(c, '^' | '~' | ' ' | '\t'))
}

/// Whether `line` is inside a section of pytest's captured output (`----- Captured log call
/// -----`, `Captured stderr setup`) of the failure it belongs to.
fn in_captured_output(log: &LogIndex, line: usize) -> bool {
    for i in (line.saturating_sub(CAPTURED_SCAN)..line).rev() {
        let t = log.plain_cow(i);
        let t = t.trim();
        if t.starts_with('-') && t.contains(" Captured ") {
            return true;
        }
        // The failure's own header (`____ test_x ____`) or its `E   ` lines come first.
        if t.starts_with("___") || t.starts_with("E ") || t.starts_with("===") {
            return false;
        }
    }
    false
}

/// How far above an exception pytest's `Captured ...` header is looked for.
const CAPTURED_SCAN: usize = 60;

/// How many of the failing command's exceptions are checked for being in captured output.
const CAPTURED_CANDIDATES: usize = 50;

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

// ---------------------------------------------------------------------------------------------
// Text

struct Facts<'a> {
    category: Category,
    anchors: &'a [&'a Hit],
    tests: &'a [String],
    files: &'a [String],
    exit_code: Option<i32>,
    step: Option<&'a str>,
    conflict: bool,
    /// The earlier error a cascade started from.
    cascade: Option<&'a Hit>,
    /// An out-of-memory line fired (timeouts and OOM share a category, not a wording).
    memory: bool,
    /// A program was killed by SIGKILL (or a Jupyter kernel died), which the log does not
    /// explain: the OOM killer or a hard limit (`timeout -s KILL`, a CPU limit).
    sigkill: bool,
    /// The runner's output limit, in bytes, when the log was cut at it.
    truncated: Option<u64>,
    /// The script passed; the runner's upload of its artifacts failed the job.
    artifacts_upload: bool,
    /// The failing command piped into `grep` and printed nothing: grep selected no line.
    silent_grep: bool,
    ctx: &'a JobContext,
}

impl Facts<'_> {
    fn headline(&self) -> Option<&str> {
        // The first anchor that reads like an error message rather than a bare summary.
        self.anchors
            .iter()
            .find(|a| a.role == Role::Cause)
            .or_else(|| self.anchors.first())
            .map(|a| cut(a.clean().trim(), 160))
    }

    fn job(&self) -> String {
        let mut s = String::new();
        if let Some(j) = &self.ctx.job_name {
            s.push_str(&format!("Job `{j}`"));
        } else {
            s.push_str("The job");
        }
        let mut extra = Vec::new();
        if let Some(w) = &self.ctx.workflow {
            extra.push(format!("workflow `{w}`"));
        }
        if let Some(r) = self.ctx.repo.as_ref().or(self.ctx.project.as_ref()) {
            extra.push(format!("repo {r}"));
        }
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }

    fn list(items: &[String], n: usize) -> String {
        let mut s = items
            .iter()
            .take(n)
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if items.len() > n {
            s.push_str(&format!(" and {} more", items.len() - n));
        }
        s
    }
}

fn summary(f: &Facts<'_>) -> String {
    let what = match f.category {
        Category::TestAssertion if !f.tests.is_empty() => format!(
            "{} failing test{}: {}",
            f.tests.len(),
            if f.tests.len() == 1 { "" } else { "s" },
            Facts::list(f.tests, 3)
        ),
        Category::Unknown if f.truncated.is_some() => {
            "the log was cut at the runner's output limit".to_string()
        }
        Category::Unknown => "no error message in the log".to_string(),
        _ if f.anchors.first().is_some_and(|a| a.rule == "timeout_124") => format!(
            "`{}` was stopped by `timeout` (exit status 124)",
            cut(f.step.unwrap_or(""), 120)
        ),
        _ => match (f.cascade, f.headline()) {
            (Some(root), _) => cut(root.clean().trim(), 160).to_string(),
            (None, Some(h)) => h.to_string(),
            (None, None) => match f.step.filter(|s| !s.is_empty()) {
                Some(s) => format!("`{}` failed without a recognised tool error", cut(s, 80)),
                None => "no recognised tool error".to_string(),
            },
        },
    };
    format!("{} failed ({}) — {what}", f.job(), f.category.label())
}

fn root_cause(f: &Facts<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let explain = match f.category {
        Category::TestAssertion => {
            "The tests ran and at least one did not behave as expected (an assertion, an \
             unexpected exception or a crash inside a test)."
        }
        Category::CompileError => "The code does not build: the compiler rejected it.",
        Category::TypeError => "The type checker reported errors, which fail the job.",
        Category::LintFailure | Category::FormattingFailure => {
            "A lint or formatting check failed: the sources do not follow the project's \
             configured rules or formatting."
        }
        Category::DependencyInstall => {
            "Resolving, installing or auditing dependencies failed before the code itself ran."
        }
        Category::DockerBuild => "The container image build failed at one of its steps.",
        Category::GithubActionsConfig => {
            "The failure comes from the CI workflow itself (a missing tool on the runner, a \
             workflow gate or check, or invalid pipeline configuration), not from a compiler \
             or a test."
        }
        Category::PermissionOrSecret => {
            "An operation was refused for lack of permission or credentials (token scope, \
             secret, ownership)."
        }
        Category::NetworkOrFlaky => {
            "A network call to a remote service failed (unreachable host, reset connection, \
             5xx or rate limit); the code under test is probably not at fault."
        }
        Category::TimeoutOrOom if f.memory => {
            "The job or a step was killed for exhausting its memory."
        }
        Category::TimeoutOrOom if f.sigkill => {
            "A program was killed without a word of its own (SIGKILL, or a notebook's kernel \
             that died): usually the kernel's OOM killer at the job's memory limit, else a hard \
             time or CPU limit."
        }
        Category::TimeoutOrOom => "The job, a step or a test exceeded its time limit.",
        Category::Infrastructure => {
            "The CI infrastructure failed (runner, executor or system error), not the job's \
             script."
        }
        Category::Unknown if f.truncated.is_some() => {
            "The log does not say why the job failed: it was cut before the failure."
        }
        Category::Unknown => {
            "The log does not say why the job failed: the failing command printed no error message before it exited."
        }
        Category::Other if f.silent_grep => {
            "No tool reported an error: the failing command's exit status alone ended the job."
        }
        Category::Other if f.anchors.is_empty() => {
            "No known tool error was recognised; the last lines the failing command printed are quoted as evidence."
        }
        Category::Other => "The job failed with an error that fits no known category.",
    };
    parts.push(explain.to_string());
    if f.artifacts_upload {
        parts.push(
            "The script passed: the runner failed the job while uploading its artifacts to \
             GitLab."
                .to_string(),
        );
    }
    if f.silent_grep {
        parts.push(
            "The failing command pipes into `grep` and printed nothing: `grep` exits with \
             status 1 when it selects no line (even with `-c`, which then prints 0), and under \
             `set -e` (with `pipefail` for a pipeline) that status ends the job."
                .to_string(),
        );
    }
    if let Some(limit) = f.truncated {
        parts.push(format!(
            "The runner stopped collecting this log at its output limit ({limit} bytes): what \
             the job printed after that, possibly the failure itself, is not in the log."
        ));
    }
    if let Some(root) = f.cascade {
        parts.push(format!(
            "The first error comes before the failing command: `{}`; the errors the failing command printed follow from it.",
            cut(root.clean().trim(), 200)
        ));
    }
    if let Some(r) = &f.ctx.failure_reason {
        parts.push(format!("GitLab reports failure_reason `{r}`."));
    }
    if f.conflict {
        parts.push(
            "Unresolved merge conflict markers (`<<<<<<<`/`>>>>>>>`) are left in the source."
                .to_string(),
        );
    }
    let mut seen = HashSet::new();
    let key: Vec<&str> = f
        .anchors
        .iter()
        .map(|a| cut(a.clean().trim(), 240))
        .filter(|t| seen.insert(*t))
        .take(6)
        .collect();
    if !key.is_empty() {
        parts.push(format!("Key lines: {}.", key.join(" | ")));
    }
    if !f.tests.is_empty() {
        parts.push(format!("Failing: {}.", Facts::list(f.tests, 5)));
    }
    if !f.files.is_empty() {
        parts.push(format!("Files involved: {}.", Facts::list(f.files, 5)));
    }
    if let Some(s) = f.step.filter(|s| !s.is_empty()) {
        parts.push(format!("Failing step: `{}`.", cut(s, 120)));
    }
    if let Some(c) = f.exit_code {
        parts.push(format!("It exited with exit code {c}."));
    }
    parts.join(" ")
}

fn fix(f: &Facts<'_>) -> String {
    let file_hint = f
        .files
        .first()
        .map(|p| format!(" (start with `{p}`)"))
        .unwrap_or_default();
    let fix = match f.category {
        Category::TestAssertion => format!(
            "Reproduce locally by running {}; compare expected vs actual in the evidence, then \
             fix the code or update the expectation{file_hint}.",
            if f.tests.is_empty() {
                "the failing tests".to_string()
            } else {
                Facts::list(f.tests, 2)
            }
        ),
        Category::CompileError => {
            let mut s = format!("Fix the compiler errors shown in the evidence{file_hint}");
            if f.conflict {
                s.push_str(", resolving the leftover merge conflict markers");
            }
            s.push_str(", then rebuild locally before pushing.");
            s
        }
        Category::TypeError => {
            format!("Fix the reported type errors{file_hint} and rerun the type checker locally.")
        }
        Category::LintFailure | Category::FormattingFailure => format!(
            "Run the project's formatter/linter locally and commit the result{file_hint}; \
             the failing step shows which command the CI runs."
        ),
        Category::DependencyInstall => "Fix the dependency specification or lockfile named in \
             the evidence (version constraints, audit findings, registry access), then reinstall."
            .to_string(),
        Category::DockerBuild => format!(
            "Fix the failing Dockerfile step{file_hint}; if it failed fetching something remote, \
             retry or pin a reachable source."
        ),
        Category::GithubActionsConfig => "Fix the pipeline definition or the runner image: \
             install the missing tool, satisfy the gate or check that failed, or correct the \
             configuration."
            .to_string(),
        Category::PermissionOrSecret => "Grant the job's token the permission it needs or \
             provide the missing secret/credential; check repository ownership settings."
            .to_string(),
        Category::NetworkOrFlaky => "Retry the job; if it keeps failing, add retries/caching \
             for the remote service or check its status page."
            .to_string(),
        Category::TimeoutOrOom if f.memory => "Find what exhausted memory in the evidence \
             (a leak, too much parallelism); raise the limit only if the work legitimately needs \
             it."
        .to_string(),
        Category::TimeoutOrOom if f.sigkill => "Check the killed program's peak memory against \
             the job's memory limit (and any `timeout -s KILL` or CPU limit around it); reduce \
             what it needs, and raise the limit only if the work legitimately needs it."
            .to_string(),
        Category::TimeoutOrOom => "Find what hung or slowed down in the evidence (a deadlock, \
             a service that never answered, a slower dependency); raise the time limit only if \
             the work legitimately needs it."
            .to_string(),
        Category::Infrastructure => "Retry the job; if it fails again on the same runner, \
             report the runner to its administrators."
            .to_string(),
        Category::Unknown | Category::Other => {
            "Read the last lines of the log around the exit status to find the failing command."
                .to_string()
        }
    };
    if f.silent_grep {
        return "If no match is a valid outcome, let it through (`grep -c pattern || true`, or \
                `{ grep pattern || test $? = 1; }`) and test the count or the output instead of \
                grep's exit status."
            .to_string();
    }
    if f.artifacts_upload && f.category == Category::GithubActionsConfig {
        return "The artifacts archive is larger than the instance's maximum artifacts size: \
                narrow `artifacts:paths` (or add `artifacts:exclude`), or have an administrator \
                raise the limit."
            .to_string();
    }
    match f.truncated {
        Some(_) => format!(
            "Raise the runner's `output_limit` (config.toml) or make the job quieter (keep \
             verbose output in a file saved as an artifact), then rerun to see the failure. {fix}"
        ),
        None => fix,
    }
}

#[cfg(test)]
mod tests;
