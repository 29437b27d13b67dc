//! Lines the CI runner writes around every job, whatever failed: they say that the job failed,
//! never why. The engine quotes them only when nothing else explains the failure, and the
//! evaluation counts quotes spent on them.

/// True for a runner line that carries no cause: the final `ERROR: Job failed: exit code N`,
/// section headers of the runner's own stages (preparation, sources, cache, artifacts,
/// cleanup) and their progress lines. GitHub's `##[error]Process completed with exit code N` is
/// an annotation of the failed step (LogDx counts it as a signal) and stays quotable.
///
/// A runner line that does say why (`ERROR: Job failed (system failure): ...`, `... execution
/// took longer than 1h0m0s seconds`, `failed to pull image ...`) is not boilerplate.
pub fn is_runner_boilerplate(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    if let Some(rest) = t
        .strip_prefix("ERROR: Job failed: ")
        .or_else(|| t.strip_prefix("Job failed: "))
    {
        return bare_exit_status(rest);
    }
    const EXACT: [&str; 12] = [
        "Job succeeded",
        "Cleaning up project directory and file based variables",
        "Cleaning up file based variables",
        "Uploading artifacts...",
        "Uploading artifacts for failed job",
        "Uploading artifacts for successful job",
        "Running after_script",
        "Running after script...",
        "Preparing environment",
        "Getting source from Git repository",
        "Skipping Git submodules setup",
        "Created fresh repository.",
    ];
    if EXACT.contains(&t) {
        return true;
    }
    const PREFIXES: [&str; 16] = [
        "Running with gitlab-runner ",
        "Preparing the \"",
        "Using Docker executor with image ",
        "Using docker image ",
        "Pulling docker image ",
        "Starting service ",
        "Waiting for services to be up and running",
        "Running on runner-",
        "Fetching changes",
        "Initialized empty Git repository in ",
        "Checking out ",
        "Executing \"step_script\" stage of the job script",
        "Restoring cache",
        "Saving cache",
        "Checking cache for ",
        "Uploading artifacts as \"archive\" to coordinator",
    ];
    if PREFIXES.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    // Artifact globs: `target/junit.xml: found 3 matching artifact files and directories`.
    t.contains(": found ") && t.contains(" matching artifact files and directories")
}

/// `exit code 1`, `exit status 2`, `command terminated with exit code 137`: nothing more.
fn bare_exit_status(rest: &str) -> bool {
    let rest = rest.trim();
    let rest = rest
        .strip_prefix("command terminated with ")
        .unwrap_or(rest);
    let num = rest
        .strip_prefix("exit code ")
        .or_else(|| rest.strip_prefix("exit status "));
    num.is_some_and(|n| n.trim().parse::<i32>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_lines_without_a_cause_are_boilerplate() {
        for t in [
            "ERROR: Job failed: exit code 1",
            "ERROR: Job failed: exit status 2",
            "ERROR: Job failed: command terminated with exit code 137",
            "Cleaning up project directory and file based variables",
            "Running with gitlab-runner 17.11.1 (96856197)",
            "Uploading artifacts as \"archive\" to coordinator... 201 Created  id=1",
            "target/junit.xml: found 3 matching artifact files and directories ",
            "",
        ] {
            assert!(is_runner_boilerplate(t), "{t:?}");
        }
    }

    #[test]
    fn runner_lines_that_say_why_are_not() {
        for t in [
            "ERROR: Job failed: execution took longer than 1h0m0s seconds",
            "ERROR: Job failed (system failure): prepare environment: no space left on device",
            "ERROR: Job failed: failed to pull image \"node:20\" with specified policies [always]: toomanyrequests",
            "error[E0308]: mismatched types",
            "##[error]Process completed with exit code 1.",
            "ERROR: Job failed: exit code 1 because the deploy was refused",
        ] {
            assert!(!is_runner_boilerplate(t), "{t:?}");
        }
    }
}
