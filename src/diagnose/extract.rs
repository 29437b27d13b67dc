//! Error-line extraction: a table of toolchain patterns run over every plain log line.
//!
//! Each rule says what a matching line *is* (a cause, a failed test, a summary, an exit code, a
//! source location or the echo of the failing command), which failure category it points at and
//! how strongly. Patterns are matched with one multi-pattern pass per line; captures run only on
//! the lines that matched.

use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind as AcMatchKind};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternSet, meta};
use regex_syntax::hir::{Hir, HirKind};

use super::boilerplate::is_runner_boilerplate;
use super::gate::{self, Gate};
use super::log::LogIndex;
use super::model::Category;

/// What a matching line tells us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An error message that can explain the failure.
    Cause,
    /// Names a failed test (capture `t`) or failed file.
    Test,
    /// A tool's failure summary ("3 failed, 10 passed", "BUILD FAILED").
    Summary,
    /// An exit status (capture `code`).
    Exit,
    /// A source location (capture `f`).
    Location,
    /// Echo of the command being run (`$ cmd`, `##[group]Run cmd`).
    Step,
    /// Detail that belongs with a nearby cause (assertion diffs, expected/received).
    Detail,
}

/// How a rule decides its category.
#[derive(Debug, Clone, Copy)]
enum Cat {
    None,
    Is(Category),
    /// From the captured name `n` (a Gradle task, a pre-commit hook, a failing command).
    ByName(Category),
}

struct Rule {
    id: &'static str,
    role: Role,
    cat: Cat,
    weight: u8,
    pattern: &'static str,
}

const fn r(id: &'static str, role: Role, cat: Cat, weight: u8, pattern: &'static str) -> Rule {
    Rule {
        id,
        role,
        cat,
        weight,
        pattern,
    }
}

use Category as C;
use Role::*;

/// Paths of source files as tools print them (no spaces; an extension of 1-5 letters).
macro_rules! path {
    () => {
        r"(?P<f>[\w@.+/\\-]*[\w@+-]\.[A-Za-z][A-Za-z0-9]{0,4})"
    };
}

/// A path whose extension may be longer (`.thrift`, `.beancount`'s first eight letters), as the
/// named group: the located errors of tools whose sources are not the common languages'.
macro_rules! code_path {
    ($group:literal) => {
        concat!(
            "(?P<",
            $group,
            r">[\w@.+/\\-]*[\w@+-]\.[A-Za-z][A-Za-z0-9]{0,7})"
        )
    };
}

#[rustfmt::skip]
static RULES: &[Rule] = &[
    // --- CI runner, system and resource failures
    r("gitlab_system_failure", Cause, Cat::Is(C::Infrastructure), 9, r"ERROR: (Job failed \(system failure\)|Preparation failed|Job failed: failed to pull image)"),
    r("runner_lost", Cause, Cat::Is(C::Infrastructure), 9, r"(?i)runner has received a shutdown signal|lost communication with the server|The runner .* (?:did not|failed to) (?:respond|start)|runner system failure"),
    // A full disk outranks whatever wrapper reports it (a docker build, a compile step).
    r("no_space", Cause, Cat::Is(C::Infrastructure), 9, r"(?i)no space left on device|\bwrite failed: disc full\b|disk quota exceeded|\bENOSPC\b|\bEDQUOT\b|database or disk is full|\bSQLITE_FULL\b|not enough space on the disk|\berrno:? 28\b|\bErrcode: 28\b|\bI/O error: Disk Full\b"),
    // GNU tar's report of a short write: what a full disk looks like to it.
    r("short_write", Cause, Cat::Is(C::Infrastructure), 7, r"^tar: .*: Wrote only \d+ of \d+ bytes"),
    // The runner host's limits, whatever tool meets them: a cloud or storage quota, a volume
    // mounted read-only, no process slot left. None of them is the code's doing.
    r("host_limits", Cause, Cat::Is(C::Infrastructure), 8, r"(?i)\bquota\b[^.]{0,60}\bexceeded\b|\bexceeded\b[^.]{0,40}\bquota\b|\bQuotaExceeded\b|Read-only file system|\bEROFS\b|fork: (retry: )?Resource temporarily unavailable|Cannot fork|The node was low on resource|\bpod .*\bEvicted\b"),
    // The runner's upload of the job's artifacts to GitLab, after the script: a server error
    // (GitLab or its object storage) is outside the job; an archive over the instance's
    // maximum artifacts size is the job's `artifacts:` configuration.
    r("artifact_upload_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^WARNING: Uploading artifacts(?: as \x22\w+\x22)? to coordinator\.\.\. .*\bresponseStatus=5\d\d\b"),
    r("artifact_too_large", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ERROR: Uploading artifacts(?: as \x22\w+\x22)? to coordinator\.\.\. too large archive\b|^FATAL: [Tt]oo large\b"),
    r("docker_daemon", Cause, Cat::Is(C::Infrastructure), 8, r"Cannot connect to the Docker daemon|error during connect: .*docker"),
    r("job_timeout", Cause, Cat::Is(C::TimeoutOrOom), 9, r"(?i)(exceeded the maximum (execution )?time|execution took longer than|ERROR: Job failed: .*timed? ?out|The job was (?:cancel+ed|not started) because .*time|job exceeded the maximum time limit)"),
    r("oom", Cause, Cat::Is(C::TimeoutOrOom), 9, r"(?i)(out of memory|OutOfMemoryError|Cannot allocate memory|JavaScript heap out of memory|\bOOMKilled\b|oom[-_ ]kill|memory limit exceeded|\bENOMEM\b)"),
    r("killed", Cause, Cat::Is(C::TimeoutOrOom), 7, r"(^|\s)Killed\s*$|Killed signal terminated program|signal: killed|SIGKILL: kill|\b(exit code|exit status|code:?) 137\b|\b(terminated|killed) (with|by) signal 9\b|\[Killed\]\s*$|died with <Signals\.SIGKILL: 9>"),
    // A compiler, a linker or a package manager's child killed by SIGKILL: gcc's driver, collect2
    // for ld, cargo for rustc, npm and yarn for a script, a worker pool for its worker (joblib's
    // loky: "The exit codes of the workers are {SIGKILL(-9)}"). The errors the tool prints next
    // ("linking with `cc` failed", "could not compile", TerminatedWorkerError) only report
    // the kill.
    r("tool_killed", Cause, Cat::Is(C::TimeoutOrOom), 8, r#"Killed signal terminated program|\b(?:ld|cc1\w*|collect2|lto1|rustc|javac) terminated with signal 9\b|\(signal: 9, SIGKILL: kill\)|(?:npm (?:ERR!|error)|Command failed with) signal:? "?SIGKILL\b|\bSIGKILL\(-9\)|\b(?:terminated|killed) by signal SIGKILL\b|\breceived signal SIGKILL\b|subprocess was killed by signal \(Killed\)"#),
    // The shell's report of a child killed by SIGKILL (the kernel's OOM killer, a cgroup limit).
    r("shell_killed", Cause, Cat::Is(C::TimeoutOrOom), 8, r"^\S*: line \d+: +\d+ Killed +\S"),
    // SIGTERM (exit 143) and SIGALRM from outside the command: a time limit or a cancellation
    // stopped it (bash's report of the child, Go's `signal: terminated`, the status alone).
    r("terminated", Cause, Cat::Is(C::TimeoutOrOom), 6, r"^\S*: line \d+: +\d+ (Terminated|Alarm clock) +\S|\bsignal: (terminated|alarm clock)\b|\b(exit code|exit status|code:?) 143\b|SIGTERM: termination signal"),
    r("go_test_timeout", Cause, Cat::Is(C::TimeoutOrOom), 8, r"panic: test timed out after"),
    // Test runners' own time limits: the test did not fail, it never finished.
    r("test_runner_timeout", Cause, Cat::Is(C::TimeoutOrOom), 8, r"Exceeded timeout of \d+ ?ms for a (test|hook)|Failed: Timeout \(>[\d.]+s\) from pytest-timeout|^\s*TIMEOUT \[\s*[\d.]+s\]"),
    r("tests_timeout", Cause, Cat::Is(C::TimeoutOrOom), 7, r"\b(FAIL(URE|ED)?|ERROR)\b.*(?i:\btime(d ?out|out)\b)|(?i:\btests? (run )?timed out\b)"),
    r("timed_out", Cause, Cat::Is(C::TimeoutOrOom), 5, r"(?i)\btimed out after\b|\bTimeout \(\d+\) while\b|\btimeout of \d+ ?ms exceeded|\bdeadline exceeded\b|\bTimeoutError\b|Exceeded timeout of \d+"),
    // --- permissions and secrets
    // git refusing a checkout owned by another user than the one running it (a non-root
    // image, a builds directory kept from another uid). LogDx-CI labels it a permission
    // problem, round 55's author the runner's (infrastructure): the two references disagree
    // and the permission reading, ownership, is kept.
    r("dubious_ownership", Cause, Cat::Is(C::PermissionOrSecret), 9, r"detected dubious ownership in repository"),
    r("http_403", Cause, Cat::Is(C::PermissionOrSecret), 8, r"(?i)Resource not accessible by integration|: unauthorized\x22?\s*$|\(HTTP 40[13]\)|\b40[13] Forbidden\b|returned error: 40[13]\b|\b401 Unauthorized\b|Bad credentials|remote: Permission to .* denied|denied: requested access to the resource is denied|unauthorized: (authentication required|incorrect username or password)|HTTP Basic: Access denied|Authentication failed for|could not read Username for"),
    // An HTTP client's report of a 401/403 answer (Python urllib and requests, npm): the
    // request's credentials, whatever the tool.
    r("http_auth_status", Cause, Cat::Is(C::PermissionOrSecret), 8, r"HTTP Error 40[13]: (Unauthorized|Forbidden)|\b40[13] Client Error: (Unauthorized|Forbidden)|npm (ERR!|error) code (ENEEDAUTH|E401|E403)\b|This command requires you to be logged in"),
    r("secret_missing", Cause, Cat::Is(C::PermissionOrSecret), 8, r"(?i)^username is empty\s*$|^password is empty\s*$|Cannot perform an interactive login from a non TTY device|Must provide --username with --password-stdin|Input required and not supplied: \S*(token|key|secret|password)|(token|secret|api[_ -]?key|password)\S* (is )?(not set|missing|empty|undefined)\b|No valid credential sources found|InvalidClientTokenId|ExpiredToken|AccessDenied(Exception)?\b|UnauthorizedOperation|invalid (api )?(token|credentials)"),
    // Encrypted files whose key the job was not given (ansible-vault, sops, gpg, age): a
    // protected or missing CI variable, not the code.
    r("decrypt_key_missing", Cause, Cat::Is(C::PermissionOrSecret), 8, r"Attempting to decrypt but no vault secrets found|no vault secrets were found that could decrypt|A vault password (or secret )?must be specified to decrypt|Failed to get the data key required to decrypt the SOPS file|^gpg: decryption failed: No secret key|no identity matched any of the recipients"),
    r("permission_denied", Cause, Cat::Is(C::PermissionOrSecret), 6, r"(?i)\bpermission denied\b|\bEACCES\b|Operation not permitted"),
    // SSH refusing the host or the key, and cloud/cluster CLIs without (valid) credentials:
    // ssh, git over ssh, aws, gcloud, kubectl/helm, docker/helm registries, maven/cargo.
    r("ssh_auth", Cause, Cat::Is(C::PermissionOrSecret), 8, r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No ED25519 host key is known|Permission denied \((publickey|password|keyboard-interactive)|Load key .*: (invalid format|bad permissions)|UNPROTECTED PRIVATE KEY FILE"),
    // A program that asks for a password or user name in a job with no terminal: the
    // credentials it needs were not given to it (pip's `User for host:`, git's prompt, ssh's
    // passphrase).
    r("cred_prompt", Cause, Cat::Is(C::PermissionOrSecret), 8, r"^(User|Username|Password) for '?[\w.:/@-]+'?: |could not read (Username|Password) for '|^Enter passphrase for (key )?'"),
    // (semantic-release's codes for a release token the job was not given or that was refused.)
    r("cloud_auth", Cause, Cat::Is(C::PermissionOrSecret), 8, r"Unable to locate credentials|The security token included in the request is (invalid|expired)|SignatureDoesNotMatch|You do not currently have an active account selected|Could not automatically determine credentials|Request had insufficient authentication scopes|\bPERMISSION_DENIED\b|\bUNAUTHENTICATED\b|You must be logged in to the server|Error from server \((Forbidden|Unauthorized)\)|is forbidden: User \x22|\bunauthorized: |reason phrase: (Unauthorized|Forbidden)|status code:? 40[13]\b|got 40[13]\b|HTTP 40[13]\b|\(40[13] (Unauthorized|Forbidden)\)|\bENO(?:GL|GH|NPM|GITEA)TOKEN\b|\bEINVALID(?:GL|GH|NPM)TOKEN\b|No (?:GitLab|GitHub|npm) token specified"),
    // --- CI configuration
    // A tool that found no configuration or was asked for something the project does not
    // define: the job's setup, not the code.
    r("tool_config_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"ESLint couldn't find (an eslint\.config|a configuration file)|does not contain this feature: |none of the selected packages contains these features|Package `[^`]+` does not have (the )?feature"),
    // The JVM launcher given a jar or class that cannot start: how the job packages or runs
    // the program, not the code.
    r("java_launch", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^no main manifest attribute, in \S+|^Error: Could not find or load main class \S+|^Error: Unable to access jarfile \S+|^Error: Main method not found in class \S+"),
    // A deployment manifest that does not parse (kubectl, helm, kustomize): the job's
    // configuration. yamllint's own findings are lint.
    // A YAML file the job's tools read that does not parse (PyYAML's wording): the job's
    // configuration, not the code.
    r("config_parse", Cause, Cat::Is(C::GithubActionsConfig), 7, r"(^|^=+> |\]\s+ERROR\s+)while (parsing|scanning) a (flow sequence|flow mapping|block mapping|block collection|simple key|quoted scalar)\b|^expected ',' or '[\]}]', but got |^mapping values are not allowed here|^found character that cannot start any token"),
    // A JSON file that does not parse (V8's JSON.parse wording, jq's): a config file or the data a
    // generator reads; not the program's own syntax, which `SyntaxError:` alone would say.
    r("json_parse", Cause, Cat::Is(C::Other), 8, r"\bis not valid JSON\s*$|\bin JSON at position \d+|Unexpected end of JSON input|^(?:jq: error \(at [^)]*\): )?parse error: .+ at line \d+, column \d+\s*$"),
    r("manifest_yaml", Cause, Cat::Is(C::GithubActionsConfig), 8, r"error converting YAML to JSON: yaml: |^Error: YAML parse error on \S+|^Error: (INSTALLATION|UPGRADE) FAILED: (YAML parse error|unable to build kubernetes objects)|^error: error (parsing|validating) \x22?\S+\.ya?ml\x22?: "),
    // A required environment variable the job does not define, as programs and build scripts
    // report it (Rust's `env::var` error is `NotPresent`): the job's variables, not the code.
    // `X is not set` only as the line's own message: test runners print it as a skip reason.
    // Terraform's required input variable the job does not pass (`-var`, `TF_VAR_x`) is the
    // same family.
    r("env_var_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"No value for required variable|Error: Invalid value for (input )?variable|\b[A-Z][A-Z0-9_]{2,} must be set\b|^((?i:error): )?[A-Z][A-Z0-9_]{2,} (is not set|is required)\b|: NotPresent\s*$|environment variable `?[A-Z][A-Z0-9_]+`? (is )?not (set|defined|found)"),
    // The job asks a test runner for a path or target the repository does not have: the
    // job's command line, not a failing test (pytest exits 4, no test ran).
    r("test_target_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ERROR: (file or directory not found|not found): \S+|^error: no (test|bench|example|bin) target named |^error: package ID specification `[^`]+` did not match any packages|^error: package\(s\) `[^`]+` not found in workspace|Sessions? not found: \S|provided environments not found in configuration file|^ERROR: Unknown config option: \S|^No tests found, exiting with code [01]\b"),
    r("ci_config", Cause, Cat::Is(C::GithubActionsConfig), 9, r"(?i)Invalid workflow file|Unable to resolve action|The workflow is not valid|Unrecognized named-value|This GitLab CI configuration is invalid|config contains unknown keys|jobs:\S+ config|Unknown input|Unexpected input\(s\)|Required property is missing"),
    // A JSON-schema validator's finding in the CI configuration itself (check-jsonschema's
    // `file::$.path: message`), not in the project's data.
    r("ci_config_schema", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\s*(\S+/)?(\.gitlab-ci\.ya?ml|\.github/workflows/[\w.-]+\.ya?ml)::\$\S*: .*\b(is not (of type|one of|valid under)|is a required property|Additional properties are not allowed|does not match|should be|must be)"),
    // The same validator's finding in one of the project's own configuration files (YAML or
    // TOML: a policy, a deploy setting), weaker than a finding in the CI file itself.
    r("config_schema", Cause, Cat::Is(C::GithubActionsConfig), 6, r"^\s*\S+\.(ya?ml|toml|json)::\$\S*: .*\b(is not (of type|one of|valid under)|is a required property|Additional properties are not allowed|does not match|should be|must be|is (less|greater) than the (minimum|maximum)|is too (long|short))"),
    // Go older than the module needs: `go.mod` directives it does not know, a `go` line above
    // its own version (the job's image, not the code).
    r("go_mod_too_new", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^go: errors parsing go\.mod:|go\.mod:\d+: unknown directive: \w+|go\.mod requires go >= [\d.]+ \(running go [\d.]+"),
    // A clone too shallow for a version taken from git tags (setuptools-scm, hatch-vcs): the
    // job's `GIT_DEPTH`, and a development version follows.
    r("shallow_clone", Cause, Cat::Is(C::GithubActionsConfig), 7, r"\bis shallow and may cause errors\b"),
    // alembic's own command errors: a script location or config it cannot find is the job's
    // setup; a revision graph it cannot follow is the migrations'.
    r("alembic_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^FAILED: (Path doesn't exist: \S+\s+Please use the 'init' command|No config file '[^']+' found)"),
    r("alembic_revisions", Cause, Cat::Is(C::Other), 6, r"^FAILED: (Can't locate revision identified by|Multiple head revisions are present|Target database is not up to date)"),
    // A runner that says it went on past a failed command (tox's `-` prefix, make's `-`):
    // what the command printed before is a swallowed failure (`cause::cascade_root`).
    r("ignored_failure", Detail, Cat::None, 0, r"command failed but is marked ignore outcome|^make(\[\d+\])?: \[[^\]]*\] Error \d+ \(ignored\)\s*$"),
    // pip installed without an extra the command asked for: what the extra brings is missing.
    r("pip_extra_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"does not provide the extra '[^']+'"),
    // ExtUtils::MakeMaker's missing prerequisite: only a warning, and `make test` then cannot
    // load the module.
    r("perl_prereq_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^Warning: prerequisite \S+ [\d._]+ not found\."),
    // PyPA build checking the environment it was told not to isolate.
    r("build_unmet", Cause, Cat::Is(C::DependencyInstall), 8, r"^ERROR (Unmet|Missing) dependencies\b"),
    // podchecker's findings (`*** ERROR: ... at line 25 in file x.pm`, `x.pm has 1 pod syntax
    // error.`): documentation lint.
    r("podchecker", Cause, Cat::Is(C::LintFailure), 7, r"^\*\*\* ERROR: .+ at line (\d+|EOF) in file \S+|\bhas [1-9]\d* pod syntax errors?\."),
    // publint's numbered findings on a package's `exports`/`main`/`types`.
    r("publint", Cause, Cat::Is(C::LintFailure), 6, r"^\s*\d+\. pkg\.[\w.\[\]\x22'-]+ (should|is|are|does|has|was) "),
    // Ruby's own syntax errors (`file.rb:15: syntax error, unexpected end-of-input`; `ruby -c`
    // reads `-`).
    r("ruby_syntax", Cause, Cat::Is(C::CompileError), 7, r"^\S+:\d+: syntax errors?(?: found|, unexpected|,)|^\S+\.rb:\d+: syntax error"),
    // A Perl program that died at run time (`Can't locate object method "new" via package`,
    // `Can't call method "x" on an undefined value`): its own words, at a file and line.
    r("perl_die", Cause, Cat::Is(C::Other), 6, r"^(Can't locate object method \x22\w+\x22 via package|Can't call method \x22\w+\x22 on|Undefined subroutine &[\w:]+ called|Not an? (ARRAY|HASH|CODE|SCALAR) reference|Can't use an undefined value as|Illegal division by zero) .*\bat \S+ line \d+\.?\s*$"),
    // Composer skipping a class whose file does not match PSR-4: `Class "X" not found` follows.
    r("psr4_skip", Cause, Cat::Is(C::CompileError), 7, r"does not comply with psr-4 autoloading standard\. Skipping\."),
    // Prettier rejecting its own configuration.
    r("prettier_config", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\[error\] Invalid \w+ value\. Expected "),
    // rollup's warnings (`(!) Unresolved dependencies`), which `--failAfterWarnings` makes the
    // failure; an unresolved import is the bundle's missing module.
    r("rollup_warning", Cause, Cat::Is(C::CompileError), 4, r"^\(!\) \S"),
    r("rollup_unresolved", Cause, Cat::Is(C::CompileError), 7, r"^\(!\) Unresolved dependencies\s*$"),
    r("rollup_fail_after_warnings", Summary, Cat::Is(C::CompileError), 6, r"Warnings occurred and --failAfterWarnings flag present"),
    // pnpm's workspace and lockfile errors by code.
    r("pnpm_code", Cause, Cat::Is(C::DependencyInstall), 8, r"\bERR_PNPM_(WORKSPACE_PKG_NOT_FOUND|NO_MATCHING_VERSION|OUTDATED_LOCKFILE|LOCKFILE_CONFIG_MISMATCH|PEER_DEP_ISSUES)\b"),
    // sqlite3's shell reading a schema or seed file it cannot parse; Ruby's CSV on a malformed
    // file (a seed task that rescues it only warns: strong enough to be a swallowed cause).
    r("data_parse", Cause, Cat::Is(C::Other), 7, r"^Parse error near line \d+: |\bUnclosed quoted field in line \d+|\bIllegal quoting in line \d+|Any value after quoted field isn't allowed in line \d+"),
    r("cmd_not_found", Cause, Cat::Is(C::GithubActionsConfig), 8, r"(^|:\s)(?P<n>[\w.+-]+): (command )?not found\s*$|command not found: (?P<n2>\S+)|(is not recognized as an internal or external command)|^make(\[\d+\])?: (?P<n3>[\w.+-]+): (No such file or directory|Command not found)\s*$"),
    // A tool's plugin subcommand the image does not have (git-lfs, docker buildx/compose, a
    // cargo or helm plugin): the same family as a missing command.
    r("subcommand_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\w+: '[\w.-]+' is not a \w+ command\b|^error: no such (sub)?command: `?[\w.-]+|^Error: unknown (command|flag) \x22?[\w.-]+\x22? for \x22|^Unknown command: \x22?[\w.-]+"),
    // kubectl with no kubeconfig falls back to localhost:8080: the job's cluster configuration
    // (a missing KUBECONFIG variable), not the network. Stronger than the refused connection.
    r("kube_no_config", Cause, Cat::Is(C::GithubActionsConfig), 9, r"The connection to the server localhost:8080 was refused|\bhttps?://localhost:8080/(api|openapi)\b.*connection refused"),
    // pytest collecting two test modules of the same basename without packages: the test
    // layout or configuration, not a failing test.
    r("pytest_import_mismatch", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^import file mismatch:|\bImportPathMismatchError\b"),
    // The job runs something the image or the checkout does not have: a script path that does
    // not exist (bash's 127), a shebang's interpreter (often a CRLF), a binary for another
    // architecture, git-lfs, a make target, a build tool's missing project or task.
    r("exec_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\S*: line \d+: (?P<n>\S+): No such file or directory\s*$|: bad interpreter: |cannot execute binary file|[Ee]xec format error|git-lfs.*(command not found|was not found on your path)|This repository is configured for Git LFS but|external filter '?git-lfs|there is no POM in this directory|Unknown lifecycle phase \x22|No plugin found for prefix '|Task '[^']+' not found in (root )?project|go: cannot find main module"),
    // make asked for a target the Makefile does not define: the job's command line. Weaker than
    // a wrapper's report (a Docker build step running make stays a Docker build).
    r("make_target_missing", Cause, Cat::Is(C::GithubActionsConfig), 6, r"No rule to make target '[^']+'\.\s+Stop\."),
    // A file a rule needs is missing from the tree: the code (or its build description).
    r("make_missing_source", Cause, Cat::Is(C::CompileError), 6, r"No rule to make target '[^']+', needed by '|^ninja: error: '[^']+', needed by '[^']+', missing and no known rule to make it"),
    r("git_push_refused", Cause, Cat::Is(C::PermissionOrSecret), 7, r"! \[remote rejected\] .*\((pre-receive hook declined|protected branch hook declined|permission denied)\)|You are not allowed to push code to protected branches|GH006: Protected branch update failed"),
    r("git_push_rejected", Cause, Cat::Is(C::Other), 5, r"! \[rejected\] .*\((non-fast-forward|fetch first)\)|^CONFLICT \(\w+\): |^Automatic merge failed; fix conflicts"),
    // A build tool missing from the image, as build scripts report it (cargo build.rs, cmake,
    // pkg-config).
    r("build_tool_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"Could not find .?(protoc|cmake|pkg-config|nasm|clang)\b|failed to (run|execute) .?(protoc|cmake|pkg-config|nasm)\b.*(NotFound|No such file|not found|installed)|Is `?(cmake|protoc|pkg-config)`? (not )?installed"),
    // A library the build looks for is not installed (CMake's find_package, autoconf). Not
    // pkg-config's own "not found": build systems probe optional libraries with it (meson);
    // nor CMake's `-- Could NOT find` status line for an optional package (the required one's
    // is indented inside its `CMake Error`).
    r("build_lib_missing", Cause, Cat::Is(C::DependencyInstall), 8, r#"Could not find a package configuration file provided by "[^"]+"|^\s+Could NOT find [\w.-]+|^configure: error: (Package requirements \(|Library \S+ not found|\S+ (library|headers?) (not found|is required))|^configure: error: .*(\.h\b|\blib[\w+-]+|\blibrar(y|ies)\b|\bheaders?\b|\bpackage\b|\bmodule\b).*\b(not found|not installed|is required|are required|missing|could not be found|cannot be found|not satisfied|too old)\b|^Package dependency requirement '[^']+' could not be satisfied|^Requested '[^']+' but version of .+ is |^Package '[^']+' has version '[^']+', required version is "#),
    // tox asked for an interpreter the job's image does not have.
    r("interpreter_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"could not find python interpreter matching any of the specs|InterpreterNotFound: \S+|ERROR: InterpreterNotFound"),
    // A tool given an option it does not know (argparse's wording): the job's command line,
    // or a plugin that provides the option is not installed (`pytest -n` without xdist).
    r("unknown_option", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^[\w.-]+: error: unrecognized arguments: \S"),
    // A database server that refused to start on its configuration (PostgreSQL's log).
    r("db_server_fatal", Cause, Cat::Is(C::GithubActionsConfig), 8, r"FATAL: +(configuration file \S+ contains errors|invalid value for parameter|could not (create|bind|open) \S|data directory \S+ has (wrong ownership|invalid permissions))|LOG: +unrecognized configuration parameter |\[ERROR\] (mariadbd|mysqld): (unknown (variable|option) |Can.t (create|open|lock) |Error while setting value )"),
    // A database server that is up but turns clients away (connection slots used up, still
    // starting, in recovery): the service's state, not the change.
    // A notebook run in CI (nbconvert, papermill, nbval): the cell's own exception follows
    // (`finish` weighs it); a cell past its time limit is a timeout.
    r("notebook_cell_error", Cause, Cat::Is(C::Other), 5, r"CellExecutionError: An error occurred while executing the following cell|PapermillExecutionError:"),
    r("notebook_cell_timeout", Cause, Cat::Is(C::TimeoutOrOom), 8, r"CellTimeoutError: A cell timed out while it was being executed"),
    // Sphinx's autodoc could not import the module it documents: the page is empty, whatever
    // the build's exit status.
    r("autodoc_import", Cause, Cat::Is(C::Other), 7, r"WARNING: (autodoc|autosummary): failed to import "),
    // A value a loader cannot convert (DuckDB, PostgreSQL's COPY, pandas): the data, not the
    // code's types.
    r("data_conversion", Cause, Cat::Is(C::Other), 6, r"Could not convert string \x22[^\x22]*\x22 to |Error when converting column \x22|invalid input syntax for (type )?\w+: "),
    r("db_capacity", Cause, Cat::Is(C::Infrastructure), 8, r"sorry, too many clients already|remaining connection slots are reserved|the database system is (starting up|shutting down|in recovery mode)|^ERROR 1040 \(\w+\): Too many connections|\bFATAL: +too many connections for (role|database)"),
    // A client whose connection attempt timed out: the network or the server's host, not SQL.
    r("db_connect_timeout", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"connection to server (at|on socket) .* failed: (timeout expired|Connection timed out)|Can.t connect to MySQL server on \S+ \((110|4)\)|^ERROR 2013 \(HY000\): Lost connection to MySQL server"),
    // A server that went away mid-session (a restart, a crash, a proxy that dropped it): the
    // service or the network, not the statement.
    r("db_server_gone", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"server closed the connection unexpectedly|SSL SYSCALL error: EOF detected|MySQL server has gone away|Lost connection to (MySQL|MariaDB) server during query"),
    // An administrator (or an orchestrator) shut the database down under the tests
    // (PostgreSQL's SQLSTATE 57P01): a shared server restarted, not the change.
    r("db_admin_shutdown", Cause, Cat::Is(C::Infrastructure), 8, r"terminating connection due to administrator command|\bAdminShutdown\b"),
    // A Redis at its `maxmemory` refuses writes: the shared instance is full, the job was not
    // killed (its own OOM is `oom`, which `service_limits` drops on this line).
    r("redis_maxmemory", Cause, Cat::Is(C::Infrastructure), 9, r"command not allowed when used memory > 'maxmemory'"),
    // A client-side connection pool with no free connection (SQLAlchemy, HikariCP,
    // psycopg_pool, Prisma, sqlx): connections held and not returned, or a pool too small for
    // the code's concurrency. The code's resource budget, not the network: `service_limits`
    // drops the network and timeout readings of this line.
    r("db_pool_exhausted", Cause, Cat::Is(C::TimeoutOrOom), 8, r"QueuePool limit of size \d+ overflow -?\d+ reached|Connection is not available, request timed out after \d+ ?ms|PoolTimeout: couldn.t get a connection after|Timed out fetching a new connection from the connection pool|pool timed out while waiting for an open connection"),
    // PostgreSQL's own clients reporting a statement the server refused (`psql -f` with
    // ON_ERROR_STOP, createdb, createuser, pg_restore): the SQL or the setup, as MySQL's
    // `sql_error`; a client that found no server is `db_unreachable`.
    r("pg_client_error", Cause, Cat::Is(C::Other), 7, r"^psql:\S+?:\d+: (ERROR|FATAL): +\S|^(createdb|dropdb|createuser|dropuser|pg_restore|psql|vacuumdb|reindexdb|clusterdb): error: (database creation failed|creation of new role failed|database removal failed|removal of role \S+ failed|could not execute query|query failed|vacuuming of |reindexing of )"),
    // A Redis error reply (`redis-cli` prints it and still exits 0 when reading commands from
    // its input): the command or the data sent, not the server's health.
    r("redis_error_reply", Cause, Cat::Is(C::Other), 7, r"^(\(error\) )?(ERR (wrong number of arguments|unknown command|syntax error|value is not an? |invalid )|WRONGTYPE Operation against a key|NOSCRIPT No matching script|BUSYKEY Target key name already exists|EXECABORT Transaction discarded)"),
    // A timing that reports both wall-clock and CPU time (hyperfine's mean with User and
    // System, GNU time's %CPU, a script's `0.8s wall (0.04s CPU)`): read by `starved_runner`.
    r("cpu_time_report", Detail, Cat::None, 0, r"Time \(mean [^)]*\):\s+[\d.]+ [^ ]*s\s.*\[User: [\d.]+ [^ ]*s, System: [\d.]+ [^ ]*s\]|\b[\d.]+ ?m?s [Ww]all\b.*\b[\d.]+ ?m?s (of )?(CPU|cpu)\b|Percent of CPU this job got: \d+%|\b[\d.]+user [\d.]+system \S+elapsed \d+%CPU\b"),
    // A compiler that puts the location in parentheses before its verdict (Free Pascal's
    // `unit.pas(13,25) Error:`, D's `app.d(13): Error:`, `Fatal:` for the ones that stop).
    r("paren_loc_compile", Cause, Cat::Is(C::CompileError), 7, r"^\s*(?P<f>[\w./-]+\.[A-Za-z]\w{0,4})\(\d+(,\d+)?\):? (Error|Fatal): \S"),
    // D's runtime errors and failed unittest assertions (`core.exception.AssertError@x.d(34):`,
    // `ArrayIndexError@...`), and dub's summary.
    r("d_runtime_error", Cause, Cat::Is(C::TestAssertion), 6, r"^(?:core\.exception|object|std\.[\w.]+)\.(?P<n>\w+(?:Error|Exception))@(?P<f>[\w./-]+\.d)\(\d+\)|^\d+/\d+ modules FAILED unittests"),
    // Zig's test runner: `error: 'main.test.name' failed:` then std.testing's `expected X, found Y`.
    r("zig_test_failed", Test, Cat::Is(C::TestAssertion), 6, r"^error: '(?P<t>[^']+)' failed:|^\d+ passed; \d+ skipped; [1-9]\d* failed\.?$"),
    r("zig_expect_detail", Detail, Cat::Is(C::TestAssertion), 5, r"^expected \S.*, found \S.*$"),
    // Zig's package fetch failing on the connection (`unable to unpack tarball to temporary
    // directory: ReadFailed`, `unable to connect to server: ConnectionRefused`).
    r("zig_fetch_network", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"error: unable to (connect to server|unpack tarball to temporary directory|fetch \S+): (ReadFailed|EndOfStream|ConnectionRefused|ConnectionResetByPeer|ConnectionTimedOut|TemporaryNameServerFailure|UnknownHostName|NetworkUnreachable)\b|error: bad HTTP response code: '5\d\d "),
    // A test harness's `FAIL: name` / `FAIL name` line (automake's test driver, AUnit's text
    // reporter, home-made runners); Fortran's `ERROR STOP` ends a program on an error.
    r("fail_line", Test, Cat::Is(C::TestAssertion), 6, r"^FAIL:? (?P<t>[A-Za-z_][^\t]*\S)\s*$"),
    r("error_stop", Cause, Cat::None, 5, r"^ERROR STOP\b"),
    // javadoc's own complaints (javac's format, javadoc's messages): the docs, a lint gate.
    r("javadoc_error", Cause, Cat::Is(C::LintFailure), 8, r"\.java:\d+: error: (reference not found|bad use of '[^']+'|unknown tag: |malformed HTML|self-closing element not allowed|unexpected end tag|element not closed|no summary or caption for table|heading used out of sequence|semicolon missing|bad HTML entity)"),
    // The JDK's HTTP client's report of a 5xx (Ant's <get>, URLConnection).
    r("jdk_http_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"Server returned HTTP response code: (5\d\d|429) for URL"),
    // dub and other package tools: the registry did not answer.
    r("registry_download_failed", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"\bFailed to download https?://\S+"),
    // A keystore opened with the wrong password (jarsigner, keytool).
    r("keystore_password", Cause, Cat::Is(C::PermissionOrSecret), 8, r"keystore password was incorrect|Keystore was tampered with, or password was incorrect"),
    // A JDK the job's environment points at that is not there.
    r("java_home_invalid", Cause, Cat::Is(C::GithubActionsConfig), 8, r"JAVA_HOME is (set to an invalid directory|not defined correctly)|The JAVA_HOME environment variable is not defined correctly"),
    // Checkstyle's configuration, not a finding (a module under the wrong parent).
    r("checkstyle_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"CheckstyleException: cannot initialize module \S+|Unable to create Root Module: config"),
    // A measured value over the job's own budget (a p99 latency gate, a size budget, a
    // benchmark compared with its baseline): the code got slower or bigger. Retrying does not
    // help; a noisy runner is told apart by what the measurement says about it, not by this
    // line (`contended_runner`).
    r("budget_exceeded", Cause, Cat::Is(C::Other), 6, r"^\W*(THRESHOLDS? FAILED|[Tt]hresholds? failed|BUDGET (FAILED|EXCEEDED)|[Bb]udget (failed|exceeded)|(PERF(ORMANCE)?|[Pp]erf(ormance)?)[ -](GATE|[Gg]ate):? (FAIL(ED)?|[Ff]ailed))\b|thresholds on metrics '[^']+' (have been|were) crossed|^Performance has regressed:?\s*$|has failed (Percentage|Difference)RegressionCheck: |Package size limit has exceeded by |\b(exceeds|over) (its|the) (size |time |latency )?(budget|threshold)\b"),
    // A client that found no server (psql, libpq): a symptom; the server's own log says why.
    r("db_unreachable", Cause, Cat::Is(C::Other), 4, r"connection to server (on socket|at) .* failed: |^\s*Is the server running (locally|on that host)|could not connect to server: |Can.t connect to local (MySQL |MariaDB )?server through socket |^ERROR 2002 \(HY000\)"),
    // A MySQL/MariaDB server's answer to a statement (a migration): the SQL, not the network
    // (the client's own 2xxx errors, no server to talk to, are `db_unreachable`).
    r("sql_error", Cause, Cat::Is(C::Other), 7, r"^ERROR [13]\d{3} \([0-9A-Z]{5}\)( at line \d+)?: "),
    // Django's migration graph, a document's YAML metadata (pandoc): the project's own files.
    r("project_data_error", Cause, Cat::Is(C::Other), 7, r"django\.db\.migrations\.exceptions\.\w+: |InconsistentMigrationHistory: |Conflicting migrations detected|YAML parse exception at line \d+, column \d+"),
    // A web server whose configuration does not load (`nginx -t`, a server started for the
    // tests): the job's or the deployment's configuration, not the code.
    // Config checkers run in CI: amtool's `Checking 'f'  FAILED: reason` (promtool's
    // `  FAILED: parsing YAML file f: ...` on the line below), a
    // systemd unit's `path.service:10: reason` (systemd-analyze verify) and its verdicts.
    r("config_check_failed", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^Checking '?\S+?'?\s+FAILED: \S|^\s+FAILED: parsing |^(?P<f>\S+\.(?:service|socket|timer|mount|automount|path|target|slice)):\d+: \S|: Unit configuration has fatal error, unit will not be started\.|^Unit \S+ has a bad unit file setting\."),
    // Sphinx's own error report ends with the exception, indented under `Traceback` / `=====`:
    // an extension that does not import, a conf.py that does not parse.
    r("sphinx_error", Cause, Cat::Is(C::Other), 7, r"^\s*sphinx\.errors\.(?P<n>\w+): \S"),
    // MkDocs' `--strict` verdict (the warnings it counts are printed above it).
    r("mkdocs_strict", Cause, Cat::Is(C::Other), 7, r"^Aborted with \d+ warnings? in strict mode!"),
    r("server_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"\[emerg\] \d+#\d+: |^nginx: \[emerg\] |^nginx: configuration file \S+ test failed|^AH00526: Syntax error on line \d+|Invalid command '\S+', perhaps misspelled"),
    r("npm_missing_script", Cause, Cat::Is(C::GithubActionsConfig), 8, r#"npm (ERR!|error) Missing script: "#),
    r("git_ref_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"error: pathspec '.+' did not match any file\(s\) known to git|fatal: You are not currently on a branch|fatal: ref HEAD is not a symbolic ref|fatal: No names found, cannot describe anything|fatal: No tags can describe |fatal: shallow update not allowed|fatal: couldn't find remote ref \S+|fatal: invalid reference: \S+"),
    r("setfailed", Step, Cat::None, 0, r"core\.setFailed\("),
    // --- docker
    r("buildkit_failed", Cause, Cat::Is(C::DockerBuild), 7, r"ERROR: failed to (solve|build)\b|failed to solve with frontend|buildx (bake )?failed|The command '.+' returned a non-zero code: \d+"),
    r("docker_step_failed", Cause, Cat::Is(C::DockerBuild), 5, r"^#\d+ ERROR: |did not complete successfully: exit code: \d+|executor failed running"),
    r("image_pull", Cause, Cat::Is(C::DockerBuild), 6, r"pull access denied|manifest unknown|manifest for \S+ not found|repository does not exist or may require"),
    r("dockerfile_loc", Location, Cat::None, 0, r"^(?P<f>(?:[\w./-]*/)?(?:Dockerfile|Containerfile)[\w.-]*):\d+\s*$"),
    // --- network and remote services
    r("pull_rate_limit", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"toomanyrequests|pull rate limit|API rate limit exceeded|\b429 Too Many Requests\b|secondary rate limit|returned error: 429\b|HTTP error 429\b|(?i:\btoo many requests\b)|status code:? 429\b|\bHTTP 429\b|got 429\b|\bRESOURCE_EXHAUSTED\b|rateLimitExceeded|\bThrottlingException\b|\bSlowDown\b|\bTooManyRequests(?:Exception)?\b|\bRequestLimitExceeded\b|\(Throttling\)|\bRequestThrottled(?:Exception)?\b|\bProvisionedThroughputExceededException\b|\buserRateLimitExceeded\b|(?i:\brate exceeded\b)"),
    // Connection-level failures as curl, libcurl (cargo, git), urllib3 (pip), Go, npm and yarn,
    // the JVM (`Connect timed out`, maven's bare `Connection reset`) and docker's layer
    // downloads print them: the request never got an answer.
    r("network_connect", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"(?i)spurious network error|\[(6|7|28|35|52|56)\] (Could not|Couldn't|Timeout was reached|Failure when receiving|SSL connect)|curl: \((5|6|7|28|35|52|56)\) |Failed to establish a new connection|NewConnectionError|NameResolutionError|ReadTimeoutError|ConnectTimeoutError|network timeout at: |ERR_SOCKET_TIMEOUT|\bENOTFOUND\b|dial tcp\b[^:]*:? .*(connection refused|i/o timeout|no such host|network is unreachable)|lookup \S+( on \S+)?: no such host|Could not resolve hostname|\bother side closed\b|\bUND_ERR_SOCKET\b|\bsocket hang up\b|Remote end closed connection without response|Connection closed by foreign host|lookup \S+ on \S+: server misbehaving|\bESOCKETTIMEDOUT\b|\bconnect timed out\b|: Connection reset(?: -> \[Help \d+\])?\s*$|download failed after attempts=\d+: |Operation too slow\. Less than \d+ bytes/sec transferred|Operation timed out after \d+ milliseconds with \d+ |\b(?:Get|Post|Put|Patch|Delete|Head) \x22?https?://[^\s\x22]+\x22?: (?:context deadline exceeded|EOF\b|read: connection reset)|\{:?bad_status_code, ?50[0234]\}|Unexpected response 50[0234] for https?://|cannot open URL '[^']+'|URL '[^']+': Timeout of \d+ seconds was reached|unable to access index for repository https?://|Failed downloading https?://\S+ - failed downloading|\bread \x22https?:/[^\x22]*\x22: (?:unexpected EOF|connection reset by peer)|(?:failed|unable|could not|couldn't) (?:to )?(?:load|fetch|download|retrieve|get) \x22?'?https?://\S+?:? (?:50[0234]\b|ECONN(?:REFUSED|RESET)|ETIMEDOUT|EAI_AGAIN|ENOTFOUND)"),
    // Go's resolver error when a tool wraps the line after `lookup` (terraform's error blocks):
    // the DNS server and port are still on the line.
    r("dns_no_such_host", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"\bon \[?[0-9a-f.:]+\]?:53: no such host"),
    // Certificate trust failures as curl/OpenSSL, Python, Go and node print them: the server's
    // certificate or the runner's CA bundle, outside the code.
    r("tls_trust", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"The certificate of .* is not (trusted|yet activated)|The certificate has (expired|not yet been activated)|certificate is not yet valid|SSL certificate problem: |CERTIFICATE_VERIFY_FAILED|certificate verify failed|x509: certificate (signed by unknown authority|has expired|is valid for)|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|unable to get local issuer certificate|PKIX path building failed|SSLHandshakeException|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID|certificate has expired|server certificate verification failed|unable to verify the first certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|self[- ]signed certificate"),
    // `openssl verify` / `x509 -checkend` on a certificate the job ships: the certificate is
    // wrong or expired (a credential), not a connection that could be retried.
    r("cert_check", Cause, Cat::Is(C::PermissionOrSecret), 9, r"^error \d+ at \d+ depth lookup: |^error \S+: verification failed\s*$|^Certificate will expire\s*$"),
    // A client's socket read or connect that got no answer in time (Python's socket timeout,
    // urllib's wrapped one, requests' Read/ConnectTimeout, undici's): the remote side did not
    // answer, unlike a test runner's or the job's own time limit (the code did not finish).
    r("socket_timeout", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^\s*(?:[\w.]+\.)?(?:TimeoutError|timeout): timed out\s*$|<urlopen error timed out>|\bRead timed out\b|\b(?:ReadTimeout|ConnectTimeout)\b|\bUND_ERR_(?:CONNECT|HEADERS|BODY)_TIMEOUT\b"),
    r("network", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"(?i)Could not resolve host|Temporary failure in name resolution|Name or service not known|getaddrinfo (ENOTFOUND|EAI_AGAIN)|\bECONNRESET\b|\bECONNREFUSED\b|\bETIMEDOUT\b|\bEAI_AGAIN\b|Connection (reset by peer|refused|timed out)|TLS handshake timeout|The handshake operation timed out|SSL handshake timed out|Network is unreachable|SSL_ERROR_SYSCALL|\bi/o timeout\b|Max retries exceeded with url|too many 50\d error responses|RemoteDisconnected|ReadTimeoutError|ConnectTimeoutError|Could not (GET|HEAD) '|The operation was aborted due to timeout|\bUND_ERR_(CONNECT|HEADERS|BODY)_TIMEOUT\b|\bnet::ERR_(CONNECTION_(REFUSED|RESET|TIMED_OUT|CLOSED)|NAME_NOT_RESOLVED|ADDRESS_UNREACHABLE|TIMED_OUT)\b"),
    // More tools' words for a request that got no answer: the JVM's exceptions (maven, gradle),
    // Apache HttpClient's, kubectl's, helm's, the AWS CLI's, apt's, ssh's, git's, reqwest's,
    // docker's, musl's resolver, and the errno names.
    // A lock another run holds (Terraform's state, a Pulumi stack, a Helm release, Liquibase's
    // changelog): a concurrent or cancelled job, which waiting or a retry resolves.
    // A port another job on the shared runner holds (a fixed port in a test, a service
    // container): the runner's state, not the code; a retry on another runner passes.
    r("port_in_use", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"(?i)\baddress already in use\b|\bEADDRINUSE\b|port is already allocated|Only one usage of each socket address"),
    r("lock_held", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"Error acquiring the state lock|\bstate already locked\b|the stack is currently locked by \d+ lock|another operation \(install/upgrade/rollback\) is in progress|Could not acquire change ?log lock|Waiting for changelog lock|(?i:\bdatabase is locked\b)|\bSQLITE_BUSY\b|Lock wait timeout exceeded|canceling statement due to lock timeout|could not obtain lock on (relation|row)|Could not get lock /var/lib/(dpkg|apt)/|Unable to acquire the dpkg frontend lock|^flock: (?:timeout while waiting to get lock|failed to get lock)|repository is already locked (?:exclusively )?by\b|unable to create lock in backend\b|Failed to create/acquire the lock"),
    r("network_tools", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"Empty reply from server|\b599 Internal Exception\b|Unexpected end of stream while looking for line|Could not connect to '[^']+:\d+': |^500 Can't connect to \S+:\d+|^curl: \(52\) |\bUnrecoverableHttpException Unknown host: |java\.net\.(UnknownHostException|ConnectException|SocketTimeoutException|NoRouteToHostException|SocketException|http\.Http(Connect)?TimeoutException)|\bUnknown host \S+|Connect to \S+ \[[^\]]*\] failed: |The connection to the server \S+ was refused|Unable to connect to the server: |Kubernetes cluster unreachable|Could not connect to the endpoint URL|Temporary failure resolving '|^(Err|E|W):.*\b(Could not connect to|Could not resolve|Unable to connect to) |^E: Some index files failed to download|ssh: connect to host \S+ port \d+: |kex_exchange_identification: |Connection closed by \S+ port \d+|RPC failed; (curl \d+|HTTP 5\d\d)|error sending request for url|\bE(HOST|NET)UNREACH\b|No route to host|Name does not resolve|nodename nor servname provided|No address associated with hostname|npm (ERR!|error) network |proxyconnect tcp|Client\.Timeout exceeded|request canceled while waiting for connection|\bProxyError\b|unable to resolve host address|getaddrinfo failed|Failed to connect to \S+ port \d+( after \d+ ms)?: |Couldn't connect to server|Connection timed out after \d+ milliseconds|Resolving timed out after \d+ milliseconds|rsync error: (timeout in data send/receive|error in socket IO|timeout waiting for daemon connection) \(code \d+\)|\bio timeout after \d+ seconds\b|^rsync: failed to connect to |keyserver (receive|send|refresh|search) failed: (No keyserver available|Connection refused|Connection timed out|No route to host|Network is unreachable|Server indicated a failure|Try again later)|^Error querying OCSP responder|:BIO routines:BIO_wait:transfer timeout:|:SSL routines:\w+:unexpected eof while reading:|:BIO routines:BIO_(do_)?connect:(connect error|Connection refused):|^connect:errno=\d+|^Error connecting BIO\s*$"),
    // Erlang/Elixir (httpc, hex), rubygems and bundler, PHP streams (composer), an egress proxy
    // asking for credentials, and a transfer the server cut short: each ecosystem's own words
    // for the network.
    r("network_ecosystems", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"\{:?failed_connect,|\{:?error, *:?(econnrefused|nxdomain|timeout|closed)\}|\bnxdomain\b|Could not reach host \S+|Could not fetch specs from |Gem::RemoteFetcher::(FetchError|UnknownHostError)|Net::(OpenTimeout|ReadTimeout)\b|Bundler::HTTPError|Failed to open stream: (Connection refused|Connection timed out|php_network_getaddresses|Cannot connect to HTTPS server through proxy|HTTP request failed)|curl error \d+ while downloading |Proxy Authentication Required|Received HTTP code 407 from proxy|downloaded length \d+ != reported length \d+|Transferred a partial file|transfer closed with \d+ bytes remaining to read|curl: \(18\) |Premature end of Content-Length delimited message body|IncompleteRead\(|ChunkedEncodingError|Lost connection to (MySQL |MariaDB )?server (at|during) |Can.t connect to (MySQL |MariaDB )?server on '[^']+' \(1(10|11|13|15)\)|Unknown (MySQL |MariaDB )?server host '|Error: Failed to download module|bad response code: 50[0234]|^code: 50[0234]\s*$|^! cannot open file '[^']*02packages\.details\.txt(\.gz)?'|\S+:\d+ failed to respond|The target server failed to respond|NoHttpResponseException|SocketError: other side closed|\bUND_ERR_SOCKET\b"),
    // git's transfer cut short: usually the network, but also what follows a refused push or an
    // oversized one, so weaker than the reason when the reason is printed.
    r("git_transfer_cut", Cause, Cat::Is(C::NetworkOrFlaky), 6, r"fatal: the remote end hung up unexpectedly|\bearly EOF\b|fatal: (fetch-pack|index-pack): (invalid index-pack output|unexpected disconnect)"),
    // A server that answered that the request itself is wrong (422, 400, 409), as curl and
    // wget report it: the job's request or the service's behaviour, not the network. (A test's
    // own assertion on a status code is the test's.)
    r("http_4xx_rejected", Cause, Cat::Is(C::Other), 7, r"returned error: 4(?:00|09|10|12|13|15|22|23)\b|\bERROR 4(?:00|09|10|12|13|15|22|23): [A-Z]"),
    r("http_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"\bHTTP 50[234]\b|\b50[234] (Bad Gateway|Service Unavailable|Gateway Time-?out)|HTTP/\d(\.\d)? 50[234]\b|\bstatus(?: code)?:? 50[234]\b|returned error: 50[0234]\b|HTTP [Ee]rror 50[0234]\b|\b50[0234] Server Error\b|too many 50\d error responses|unexpected (HTTP )?status( code)?:? 50[234]\b|RPC failed; HTTP 50[234]\b|\((Bad Gateway|Service Unavailable|Gateway Timeout) \(50[234]\)|\bServiceUnavailable\b|\(HTTP [Cc]ode:? 50[0234]\b"),
    // A package registry or mirror answering 5xx to a client that reports the bare status
    // (cargo): as strong as a connection failure, so the dependency error it causes (`failed
    // to get `x` as a dependency`) does not win.
    r("registry_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"failed to get successful HTTP response from .*, got 50[0234]\b|ERR_PNPM_FETCH_50[0234]\b|\b(Bad Gateway|Service Unavailable|Gateway Time-?out) - 50[234]\b|the server is currently unable to handle the request|failed to download openapi: "),
    // Python's asyncio HTTP and WebSocket clients: aiohttp's connection errors and a gateway's
    // status (`ClientResponseError: 503, message='Service Unavailable'`, or only its message
    // as DVC's HTTP remote quotes it, `- 503, message='...', url='...'`; a 500 is the
    // service's own error), websockets' handshake that timed out or was refused by a gateway,
    // asyncio's own words for a refused or unreachable peer (`[Errno 111] Connect call failed`).
    r("py_async_network", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"\b(?:ServerDisconnectedError|ClientConnectorError|ClientConnectorDNSError|ClientConnectionResetError|ServerTimeoutError|ConnectionTimeoutError|SocketTimeoutError|ClientPayloadError|ClientOSError)\b(?::|\s*$)|\bClientResponseError: (?:50[234]|429), message=|\b(?:50[234]|429), message='[^']*', url='|timed out during opening handshake|server rejected WebSocket connection: HTTP (?:50[234]|429)\b|\[Errno (?:111|113|101)\] Connect call failed \("),
    // cargo that could not unpack a crate archive it already had (a runner cache restored with
    // a truncated `.crate`: `failed to unpack package`, then `unexpected end of file`): the
    // cache, not the dependency's version or the code.
    r("cargo_unpack", Cause, Cat::Is(C::Infrastructure), 8, r"^\s*failed to unpack package `[^`]+`"),
    // --- dependency installation
    r("npm_code", Cause, Cat::Is(C::DependencyInstall), 7, r"npm (ERR!|error) code (ERESOLVE|E404|ETARGET|ENOVERSIONS|EINTEGRITY|E40[13]|EBADENGINE)|npm (ERR!|error) 404 Not Found|ERR_PNPM_(NO_MATCHING_VERSION|FETCH_404|PEER_DEP|OUTDATED_LOCKFILE|LOCKFILE|FROZEN_LOCKFILE|NO_OFFLINE|TARBALL)\w*|Your lockfile needs to be updated|lockfile (is )?(out of date|needs to be updated)|Lockfile is not up to date|`npm ci` can only install packages when your package\.json and package-lock\.json"),
    // Any other npm error code: npm failed to install (the network's and permissions' codes
    // have their own, stronger rules).
    r("npm_code_other", Cause, Cat::Is(C::DependencyInstall), 5, r"^npm (ERR!|error) code E[A-Z0-9_]+\s*$"),
    r("npm_lock_detail", Detail, Cat::Is(C::DependencyInstall), 3, r"npm (ERR!|error) (Missing|Invalid): \S+ from lock file"),
    r("audit", Cause, Cat::Is(C::DependencyInstall), 7, r"(?i)\b[1-9]\d* vulnerabilit(y|ies) found|found [1-9]\d* (\w+ severity )?vulnerabilit"),
    r("audit_detail", Detail, Cat::Is(C::DependencyInstall), 3, r"^(│|\|)\s*(low|moderate|high|critical|Package|Vulnerable versions|Patched versions|More info)\s+(│|\|)|^Severity: (low|moderate|high|critical)|GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}"),
    r("apt_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^E: (Unable to locate package \S+|Package '\S+' has no installation candidate|Version '\S+' for '\S+' was not found|Unable to correct problems, you have held broken packages)"),
    // apt could not download an index or a package: the mirror (5xx, DNS, refused). `apt-get
    // update` only warns and exits 0, so the job fails later on a package it cannot find.
    r("apt_fetch", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^[WE]: Failed to fetch \S+\s+(?:.*\b(?:5\d\d|40[48])\s+\S|.*(?:Could not resolve|Temporary failure resolving|Could not connect|Connection (?:failed|refused|timed out)|Unable to connect|Hash Sum mismatch|File has unexpected size))|^Err:\d+ https?://\S+.*|^W: Some index files failed to download"),
    r("pip_resolve", Cause, Cat::Is(C::DependencyInstall), 7, r"Could not find a version that satisfies the requirement|No matching distribution found|ResolutionImpossible|version solving failed|No solution found when resolving dependencies|Cannot install .* because these package versions have conflicting dependencies|conflicting dependencies"),
    // Bundler, Composer, Mix/Hex and R: a package the project needs is not installed or not
    // resolvable (each is also what a skipped or failed install leaves behind).
    // An input file that is not there (what a skipped step leaves behind), as R and Node
    // report it.
    r("input_missing", Cause, Cat::Is(C::Other), 3, r"^error: file does not exist '[^']+'\s*$|^[\w.-]+: open \S+: no such file or directory\s*$|^(cp|mv|tar|cat|ln|install|rsync|zip|gzip|sha256sum|md5sum|stat|ls|tail|head|wc|sort|diff|cmp): .*(cannot stat|Cannot stat|cannot access|No such file or directory|Not found in archive)|no such table: \S+|cannot open file '[^']+': No such file or directory|^Error: ENOENT: no such file or directory, (open|stat|lstat|scandir|access) '|\[Errno 2\] No such file or directory: '"),
    // R: `R CMD check`'s unmet dependencies.
    r("r_pkg_unavailable", Cause, Cat::Is(C::DependencyInstall), 8, r"^Packages? required but not available: |^Packages? suggested but not available: "),
    r("pkg_missing_ecosystems", Cause, Cat::Is(C::DependencyInstall), 7, r"Could not find gem '[^']+' in |Could not find a valid gem '[^']+'|Bundler could not find compatible versions for gem|Could not find [\w.-]+-\d[\w.]* in any of the (gem )?sources|cannot load such file -- \S+|Your requirements could not be resolved to an installable set of packages|Could not find Hex, which is needed to build dependency|Unchecked dependencies for environment|Could not find an SCM for dependency|there is no package called (‘.+’|'[^']+')|dependenc(y|ies) .* (is|are) not available for package|dpkg-checkbuilddeps: error: Unmet build dependencies: |^The following packages have unmet dependencies:|dpkg: dependency problems prevent |meson\.build:\d+:\d+: ERROR: Dependency \x22[^\x22]+\x22 not found|^cabal: Could not resolve dependencies:|^! Couldn't find module or a distribution |^! Installing the dependencies failed: |Can't locate \S+\.pm in @INC"),
    // The image's interpreter is not the one the project declares (Ruby, PHP and its
    // extensions): the job's image, not the code.
    r("runtime_version", Cause, Cat::Is(C::GithubActionsConfig), 8, r"Your Ruby version is \S+, but your Gemfile specified|requires php \S+ but your php version \([^)]*\) does not satisfy|requires PHP extension \S+ \S+ but it is missing from your system|Error: Unsupported Terraform Core version|This configuration does not support Terraform version|The (specified|currently activated) Python version \(\S+\) is not supported by the project"),
    // Ruby's `ENV.fetch` of a variable the job does not define (an upper-case key).
    r("ruby_env_key", Cause, Cat::Is(C::GithubActionsConfig), 7, r"django\.core\.exceptions\.ImproperlyConfigured: |in .fetch': key not found: \x22[A-Z][A-Z0-9_]*\x22 \(KeyError\)"),
    r("cargo_resolve", Cause, Cat::Is(C::DependencyInstall), 7, r"failed to select a version for|no matching package named|failed to download from|failed to get .* as a dependency|failed to load source for dependency|the lock file .* needs to be updated|cannot update the lock file .* because --locked was passed"),
    r("go_mod", Cause, Cat::Is(C::DependencyInstall), 7, r"^go: .*: (reading|verifying|downloading|unknown revision|invalid version)|missing go\.sum entry|go: updates to go\.mod needed|no required module provides package"),
    r("maven_resolve", Cause, Cat::Is(C::DependencyInstall), 7, r"Could not resolve dependencies for project|Could not resolve all (files|dependencies|artifacts) for configuration|Could not find artifact|Could not transfer artifact|Failed to collect dependencies|Could not find \S+:\S+:\S+\.|Non-resolvable (parent POM|import POM)|Plugin \S+ or one of its dependencies could not be resolved|Could not resolve plugin artifact"),
    r("dependabot", Cause, Cat::Is(C::DependencyInstall), 7, r"Dependabot encountered '?\d+'? error|Dependabot encountered an error|security_update_not_needed|dependency_file_not_found|update_not_possible"),
    // `npm ci` without a committed lockfile: npm's usage text follows, the reason is this line.
    r("npm_ci_no_lock", Cause, Cat::Is(C::DependencyInstall), 8, r"command can only install with an existing package-lock\.json"),
    // A test module that cannot import a top-level (third-party) package: unittest reports it
    // as a failed pseudo-test (`_FailedTest`), pytest as a collection error; the cause is the
    // missing package. Dotted names (`app.models`) stay with the weaker rule: those are often
    // the project's own modules.
    r("py_pkg_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^(E\s+)?ModuleNotFoundError: No module named '\w+'\s*$"),
    // A native library a module or program links against is not installed (an `ImportError`
    // of a C extension, a binary's loader error).
    r("shared_lib_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"\S+\.so(\.[\d.]+)?: cannot open shared object file: No such file or directory|error while loading shared libraries: \S+"),
    // Two modules importing each other: the code's structure, not a missing package.
    r("circular_import", Cause, Cat::Is(C::Other), 6, r"partially initialized module .*\(most likely due to a circular import\)"),
    // Node's ESM loader cannot find a *package* (a bare specifier: not `./x` or `/x`) that a
    // file imports: it is not installed (a plugin missing from package.json, an install step
    // skipped). Relative paths stay with the weaker rule: those are the project's own files.
    r("node_pkg_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"\bCannot find package '[^.'/][^']*' imported from "),
    r("module_not_found", Cause, Cat::Is(C::DependencyInstall), 4, r"ModuleNotFoundError: No module named|^\S*python[\d.]*: No module named [\w.]+\s*$|Cannot find module '[^./']|Error: Cannot find package"),
    // A package the tool's configuration names and the job did not install: commitlint's
    // `extends` (`Cannot find module "@org/commitlint-config" from "/builds/..."`, the
    // resolve-from wording), jest's `testEnvironment` and `preset`.
    r("config_package_missing", Cause, Cat::Is(C::DependencyInstall), 8, r#"^(?:\w*Error: )?Cannot find module "(?P<n>[^"./][^"]*)" from "|^\s*Test environment (?P<n2>\S+) cannot be found\.|^\s*Preset (?P<n3>\S+) not found\.|^\s*Module (?P<n4>\S+) in the (?:transform|setupFiles\w*|testEnvironment|reporters) option was not found\."#),
    // Node could not find one of the project's own files (a path, not a package): a renamed
    // or deleted source file, as a compiler's missing header (`finish` gives a path
    // inside node_modules back to the install).
    r("js_file_missing", Cause, Cat::Is(C::CompileError), 6, r"Cannot find module '(?:\.\.?/|/)[^']*'"),
    // A build script's report of a syntax error in one of the project's files
    // (`build: src/checkout.js: SyntaxError: ...`), which the script may survive.
    r("js_file_syntax", Cause, Cat::Is(C::CompileError), 7, r"(?:^|: )\S+\.(?:[cm]?[jt]sx?|vue|svelte)(?::\d+(?::\d+)?)?: SyntaxError: \S"),
    // pip building a package from source: the build backend's subprocess failed.
    r("pip_build_failed", Cause, Cat::Is(C::DependencyInstall), 5, r"^\s*error: (metadata-generation-failed|subprocess-exited-with-error|legacy-install-failure|failed-wheel-build-for-install)\s*$|^\s*ERROR: (Failed building wheel for \S+|Could not build wheels for \S+)"),
    // pip building the job's own checkout (the name of its directory is the package's).
    r("pip_local_project", Detail, Cat::None, 0, r"^Processing (?P<n>(?:/builds/|/home/runner/work/)\S+)\s*$"),
    // The frame of that subprocess's output (`╰─> [18 lines of output]` ... `[end of output]`):
    // the last exception inside it is the reason (see `finish`).
    r("pip_output_frame", Detail, Cat::None, 0, r"^\s*(?:\S+ )?\[\d+ lines? of output\]\s*$|^\s*\[end of output\]\s*$"),
    r("provider_install", Cause, Cat::Is(C::DependencyInstall), 7, r"Failed to query available provider packages|Failed to install provider|Incompatible provider version"),
    // --- compilers
    // A build script's `cargo:warning` that says it could not do its work (a schema it could
    // not read, a generator that failed): the crate then misses what it should have generated.
    r("buildrs_warning", Cause, Cat::Is(C::CompileError), 5, r"^warning: [\w-]+@\d+\.\d+\.\d+\S*: .*(?i:\b(could not|couldn't|cannot|can't|failed|unable to|error|no such file|not found)\b)"),
    r("rustc_error", Cause, Cat::Is(C::CompileError), 8, r"error\[E\d{4}\]: .+"),
    // A procedural macro that panicked while expanding (rustc reports it without a code).
    r("proc_macro_panic", Cause, Cat::Is(C::CompileError), 8, r"^error: (proc-macro derive|custom attribute|proc macro) panicked|^\s*= help: message: \S"),
    r("could_not_compile", Summary, Cat::Is(C::CompileError), 6, r"error: could not compile `|COMPILATION ERROR|Compilation failed|compilation terminated\.|make(\[\d+\])?: \*\*\* \[.*\.o\] Error \d+|ninja: build stopped: subcommand failed"),
    // A formatter that reports as a compiler does (clang-format's `--Werror`, `dotnet format`'s
    // `error WHITESPACE`): formatting, though the line reads `file:l:c: error:`.
    r("format_violation", Cause, Cat::Is(C::FormattingFailure), 8, r"\[-Wclang-format-violations\]|'--assert-tidy' is set but output differs|: error: code should be clang-formatted|^\S+\(\d+,\d+\): error (WHITESPACE|FINALNEWLINE|IMPORTS|CHARSET|ENDOFLINE): "),
    // pkg-config's own "not found": weak alone (meson dumps its probes of optional libraries),
    // a cause when a missing header follows in the same step (`pkgconfig_then_header`).
    r("pkgconfig_missing", Cause, Cat::Is(C::DependencyInstall), 2, r"^Package \S+ was not found in the pkg-config search path|^Package '[^']+', required by '[^']+', not found|^No package '[^']+' found"),
    r("cc_error", Cause, Cat::Is(C::CompileError), 6, concat!("^\\s*", path!(), r":\d+:(\d+:)? (fatal )?error: .+")),
    // A C/C++ analyzer's finding (cppcheck, clang-tidy): the check id in brackets, unlike a
    // compiler's `[-Wflag]`.
    r("c_analyzer", Cause, Cat::Is(C::LintFailure), 7, r"^\S+:\d+:\d+: (?:error|warning|style|performance|portability): .+ \[[A-Za-z][\w.,-]*\]\s*$"),
    // An archive that is not one: a download that saved an error page, a cut transfer.
    // A decompressor's own word about its input, upstream of the `| tar -x` that then finds no
    // archive: the first program of the pipe explains the second's complaint.
    r("decompress_format", Cause, Cat::Is(C::Other), 6, r"^(zstd|gzip|xz|bzip2|lz4|unzstd|pigz|zcat): \S+: (unsupported format|not in (gzip|zstd|\.?\w+) format|unknown (header|suffix)|File format not recognized|unrecognized header)|^(zstd|lz4): .*: unsupported format\s*$"),
    // A tool that would not overwrite its output without being asked (no terminal to ask on):
    // the step's output is stale or missing, and what follows reads it.
    r("not_overwritten", Cause, Cat::Is(C::Other), 7, r"already exists; (overwrite \(y/n\) \? )?[Nn]ot overwritten|^xz: \S+: File exists\s*$|\(EOF or read error, treating as \x22\[N\]one\x22"),
    r("corrupt_archive", Cause, Cat::Is(C::Other), 5, r"^gzip: stdin: not in gzip format|This does not look like a tar archive|End-of-central-directory signature not found|cannot find zipfile directory|^xz: \(stdin\): File format not recognized|^bzip2: \(stdin\) is not a bzip2 file"),
    // An archive cut short (a cache or artifact restored incompletely, a download that
    // stopped): the storage or the transfer, not the code.
    r("truncated_archive", Cause, Cat::Is(C::Infrastructure), 7, r"^gzip: stdin: unexpected end of file|^tar: Unexpected EOF in archive|^xz: \(stdin\): Unexpected end of input|zip file is truncated|^\s*unexpected end of archive"),
    r("javac_error", Cause, Cat::Is(C::CompileError), 7, r"^\[ERROR\] (?P<f>\S+\.(java|kt|scala)):\[\d+(,\d+)?\] .+|^e: (file://)?(?P<f2>\S+\.kts?):\d+:\d+ .+|^(?P<f3>\S+\.java):\d+: error: .+|^\s*\[javac\] (?P<f4>\S+\.java):\d+: error: .+"),
    // `go vet` reports the type checker's errors under its own prefix.
    // Go's own refusals: `-race` without cgo is the job's environment; a module cache whose
    // files changed on disk (a shared runner cache) is the runner's; go generate's report of a
    // generator that failed (the generator's own words are just above it).
    r("go_env_refused", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^go: -race requires cgo|^go: -(?:msan|asan) requires cgo"),
    r("go_modcache_modified", Cause, Cat::Is(C::Infrastructure), 8, r"^\S+ v\S+: dir has been modified \(|: dir has been modified \(\S+@v"),
    r("go_generate_failed", Cause, Cat::Is(C::Other), 6, r#"^(?P<f>\S+\.go):\d+: running "[^"]+": exit status \d+"#),
    // Nim's compiler (`f.nim(8, 27) Error: type mismatch`) and unittest's `Check failed:`
    // (its `[FAILED] name` reads like Ginkgo's `[FAILED] Timed out ...`: not used).
    r("nim_type", Cause, Cat::Is(C::TypeError), 8, r"^(?P<f>\S+\.nim)\(\d+, \d+\) Error: type mismatch"),
    r("nim_error", Cause, Cat::Is(C::CompileError), 7, r"^(?P<f>\S+\.nim)\(\d+, \d+\) Error: "),
    r("nim_check", Cause, Cat::Is(C::TestAssertion), 7, r"^\s*(?P<f>\S+\.nim)\(\d+, \d+\): Check failed: "),
    // Lua's parser (`luac5.4: f.lua:12: 'end' expected ... near <eof>`): a syntax error.
    r("lua_syntax", Cause, Cat::Is(C::CompileError), 7, r"^\S*lua(?:c|jit)?[\d.]*: (?P<f>[^:\s]+\.lua):\d+: .+ near (?:'.*'|<eof>)\s*$"),
    // Cython's diagnostics (`f.pyx:3:21: message`, after "Error compiling Cython file:").
    r("cython_error", Cause, Cat::Is(C::CompileError), 8, r"^(?P<f>\S+\.(?:pyx|pxd|pxi)):\d+:\d+: \S"),
    // CMake's own errors (indented when pip or scikit-build runs it); the message follows,
    // indented. Its category comes from the command it names (`cmake_error_category`).
    r("cmake_error", Cause, Cat::None, 6, r"^\s*CMake Error(?: at (?P<f>\S+?):\d+ \((?P<n>\w+)\))?:"),
    // A compiled extension that does not load: a symbol the build left undefined (an implicit
    // declaration the compiler only warned about), or one built against NumPy 1.x.
    r("extension_undefined_symbol", Cause, Cat::Is(C::CompileError), 8, r"ImportError: \S+\.so: undefined symbol: (?P<n>\w+)"),
    r("implicit_declaration", Cause, Cat::Is(C::CompileError), 5, r"warning: implicit declaration of function"),
    r("numpy_abi", Cause, Cat::Is(C::DependencyInstall), 8, r"A module that was compiled using NumPy 1\.x cannot be run in|numpy\.core\.multiarray failed to import|numpy\.core\._multiarray_umath failed to import"),
    // A build that silently drops its compiled part (`WARNING: Cython is not installed;
    // building x without the _speedups extension`).
    r("build_degraded", Cause, Cat::Is(C::DependencyInstall), 7, r"(?i)\bwarning: \S+ is not installed[;,] building \S+ without\b"),
    // mypy's stubtest: a stub that does not match the compiled module.
    r("stubtest", Cause, Cat::Is(C::TypeError), 7, r"^(?:error: )?[\w.]+ is inconsistent, |^error: [\w.]+ is not present at runtime"),
    // debhelper's test step (the package's `make check` under dh_auto_test).
    r("dh_auto_test", Cause, Cat::Is(C::TestAssertion), 7, r"^dh_auto_test: error: "),
    // A browser the job's image does not have where the test's configuration says, or cannot
    // start as configured (puppeteer's and chromedriver's words; Chromium refusing root
    // without `--no-sandbox`): the job's setup.
    r("browser_launch", Cause, Cat::Is(C::GithubActionsConfig), 8, r"Browser was not found at the configured executablePath|Could not find (?:Chrome|Chromium|Firefox|chrome-headless-shell) \(ver\.|Running as root without --no-sandbox is not supported|session not created: This version of ChromeDriver only supports|unknown error: (?:cannot find Chrome binary|no chrome binary at)|unknown error: DevToolsActivePort file doesn't exist"),
    // Screenshot comparisons: the image diff tools' reports of pixels that differ from the
    // baseline (odiff, pixelmatch scripts, jest-image-snapshot, Playwright).
    r("image_diff", Cause, Cat::Is(C::TestAssertion), 7, r"^Found \d+ different pixels\b|\b\d+ (?:of \d+ )?pixels (?:differ|are different|mismatch(?:ed)?)\b|Expected image to (?:match or be a close match to snapshot|be the same size as the snapshot)|Screenshot comparison failed:|\d+ pixels \(ratio [\d.]+ of all image pixels\) are different"),
    // axe-core's accessibility violations, as its CLI and the usual report scripts print them.
    r("a11y_violation", Cause, Cat::Is(C::TestAssertion), 7, r#"^\[(?:critical|serious|moderate|minor)\] [a-z0-9-]+: .+\(\d+ nodes?\)\s*$|^\s*Violation of "[a-z0-9-]+" with \d+ occurrences!|^\d+ [Aa]ccessibility (?:issues?|violations?) (?:detected|found)"#),
    // Media tools refusing what the job asks of them: ImageMagick's security policy (Debian's
    // forbids PDF), ffmpeg without the codec, svgo's misspelt plugin: the job's configuration.
    r("media_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r#"not allowed by the security policy `|^Unknown (?:encoder|decoder) '[^']+'|^Encoder \S+ not found|^Error: Unknown builtin plugin ""#),
    // ffmpeg's and ffprobe's reading of an HTTP server error.
    r("ffmpeg_http_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"Server returned 5XX Server Error reply|Server returned 50[234] "),
    // Open MPI refusing the launch the job asked for: more ranks than the runner's slots
    // (without `--oversubscribe` or a hostfile), or root without `--allow-run-as-root`.
    r("mpi_launch_refused", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^There are not enough slots available in the system to satisfy the \d+|^mpirun has detected an attempt to run as root\.|^(?:prterun|mpirun|mpiexec) was unable to launch the specified application as it could not (?:access|find) an executable"),
    // h5diff's (and nccmp's) count of values that differ from the reference file: a
    // regression comparison that failed.
    r("data_diff_count", Cause, Cat::Is(C::TestAssertion), 6, r"^\d+ differences? found\s*$"),
    // A file the job reads that is not what its name says: an image Pillow cannot identify,
    // an archive that is not one, a pickle that does not load. Often a Git LFS pointer checked
    // out without git-lfs, or a truncated download: the input, not the code that reads it.
    r("input_undecodable", Cause, Cat::Is(C::Other), 8, r"\bUnidentifiedImageError: cannot identify image file\b|\bBadZipFile: File is not a zip file\b|\bUnpicklingError: invalid load key\b"),
    // Changesets' errors, every line prefixed with its butterfly: a changeset file that does
    // not parse (`invalid version type "mayor"`) is the release's configuration.
    r("changeset_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\u{1F98B}\s+error Error: (?:could not parse changeset\b|.*\binvalid version type\b)|^\u{1F98B}\s+error Some packages have been changed but no changesets were found"),
    // git cloning a repository that is not there (a submodule's URL after a rename, a local
    // path that moved): the repository's configuration names it.
    r("git_repo_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^fatal: repository '[^']+' does not exist\s*$|^fatal: clone of '[^']+' into submodule path '[^']+' failed\s*$"),
    // A signature the job's keyring cannot check (`git verify-commit`, `git verify-tag`): the
    // signer's public key was never given to the job.
    r("gpg_no_public_key", Cause, Cat::Is(C::PermissionOrSecret), 7, r"^gpg: Can't check signature: No public key\s*$"),
    // A key file that gpg could not import (truncated armor, not a key at all): the
    // verification after it misses that key for this reason.
    r("gpg_import_failed", Cause, Cat::Is(C::Other), 8, r"^gpg: import from '[^']+' failed: |^gpg: no valid OpenPGP data found\.\s*$"),
    // semantic-release's coded errors (`[semantic-release] › ✘  ERELEASEBRANCHES The release
    // branches are invalid ...`): the tokens it was not given, or its configuration.
    r("semrel_token", Cause, Cat::Is(C::PermissionOrSecret), 8, r"\[semantic-release\].*\s(?P<n>E(?:NO|INVALID)(?:GH|GL|NPM|GITEA|BB)?TOKEN|EGITNOPERMISSION|EINVALIDNPMAUTH)\s"),
    r("semrel_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"\[semantic-release\].*\s(?P<n>E(?:RELEASEBRANCHES|INVALIDBRANCH|DUPLICATEBRANCHES|MAINTENANCEBRANCH\w*|PRERELEASEBRANCH\w*|INVALIDNEXTVERSION|INVALIDMAINTENANCEMERGE|PLUGINSCONF|PLUGINCONF|ANALYZECOMMITSOUTPUT|NOREPOURL|INVALIDTAGFORMAT|TAGNOVERSION|\w+CONFIG\w*))\s"),
    // A database that refused the statement for want of a privilege (MySQL/MariaDB's coded
    // "command denied to user", "Access denied for user"; PostgreSQL's "permission denied for
    // table", "must be owner of"): the account the job migrates with, not the SQL.
    r("sql_permission", Cause, Cat::Is(C::PermissionOrSecret), 8, r"^ERROR 1(?:044|045|142|143|227|370) \([0-9A-Z]{5}\)(?: at line \d+)?: |\b(?:ERROR|error):\s+(?:permission denied for (?:table|schema|relation|database|sequence|function|view) |must be owner of )"),
    // A PostgreSQL extension the server does not have installed (`CREATE EXTENSION postgis`
    // on a server image without it): a package missing from the database's image.
    r("pg_extension_missing", Cause, Cat::Is(C::DependencyInstall), 8, r#"\bERROR:\s+extension "[^"]+" is not available\b|\bCould not open extension control file "[^"]+": No such file"#),
    // A migration drift gate: the models changed and no migration was written (`alembic
    // check`, Django's `makemigrations --check` listing the operations it would write).
    r("migration_drift", Cause, Cat::Is(C::LintFailure), 7, r"New upgrade operations detected: |^\s+[-+~] (?:Add|Remove|Alter|Rename|Create|Delete) (?:field|model|index|constraint|unique_together|index_together) \S"),
    // A linter's findings in the `warning[rule-name]: ...` form with a kebab-case rule
    // (squawk's migration rules, and its verdict line).
    r("kebab_rule_finding", Cause, Cat::Is(C::LintFailure), 6, r"^(?:warning|error)\[[a-z]+(?:-[a-z]+)+\]: \S|^Found \d+ issues? in \d+ files? \(checked \d+ source files?\)"),
    // An ORM's configuration that does not name what it needs (sequelize-cli given an
    // environment its config file does not define).
    r("orm_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ERROR: Dialect needs to be explicitly supplied as of v\d"),
    // checkbashisms' findings in a `#!/bin/sh` script.
    r("checkbashisms", Cause, Cat::Is(C::LintFailure), 7, r"^possible bashism in \S+ line \d+ \("),
    // zsh's (and `zsh -n`'s) syntax error in a script: the script does not parse.
    r("zsh_parse", Cause, Cat::Is(C::CompileError), 7, r"^\S+:\d+: parse error near `"),
    // GNU make's syntax errors in a Makefile (a recipe indented with spaces): the build's
    // own configuration does not parse.
    r("make_syntax", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\S+:\d+: \*\*\* (?:missing separator|recipe commences before first target|unterminated variable reference|missing 'endif'|invalid syntax in conditional|extraneous text after '\w+' directive)\b"),
    // A bats helper library that `load` could not find (a submodule not checked out): the
    // test's dependency, not its assertion.
    r("bats_helper_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"\bbats_load_(?:safe|library): Could not find '"),
    // A program refusing an option it does not have (BusyBox's grep given GNU's `-P`, a BSD
    // tool given a GNU flag): the script assumed another implementation.
    r("option_unsupported", Cause, Cat::Is(C::Other), 6, r"^[\w.+-]+: (?:invalid|unrecognized) option (?:-- )?'[^']+'\s*$|^[\w.+-]+: unrecognized option '--?[\w-]+'\s*$"),
    // bats' quoted command that failed inside a test, and shunit2's assertion message.
    r("shell_test_assert", Detail, Cat::Is(C::TestAssertion), 5, r"^#\s+`.*' failed(?: with status \d+)?\s*$|^ASSERT:\S"),
    // --- Hardware description languages
    // GHDL's analysis and elaboration errors (`file.vhd:18:7: message`, warnings are written
    // `:warning:` without the space), Verilator's `%Error` and `%Error-CODE` at a source
    // location, Yosys' front-end errors, Icarus' missing root module: code that does not compile.
    r("hdl_compile_error", Cause, Cat::Is(C::CompileError), 7, r"^[\w./-]+\.vhdl?:\d+:\d+: \S|^%Error(?:-[A-Z0-9_]+)?: [\w./-]+:\d+:\d+: |^ERROR: (?:Can't open include file `|Module `[^']+' referenced in module `|Parser error in line |syntax error, unexpected |Identifier `[^']+' is implicitly declared|Re-definition of module `)"),
    r("hdl_root_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r#"^error: Unable to find the root module "[^"]+" in the Verilog source"#),
    // Verilator's lint warnings (`%Warning-WIDTH: file:line:col: ...`), fatal under -Wall, and
    // Yosys' `select -assert-none` gate (no latches, no blackboxes) that found some.
    r("hdl_lint", Cause, Cat::Is(C::LintFailure), 6, r"^%Warning-[A-Z0-9_]+: [\w./-]+:\d+:\d+: |^%Error: Exiting due to \d+ warning\(s\)|^ERROR: Assertion failed: selection is not empty: "),
    // A simulation's assertion (Verilator's `%Error: tb.sv:14: Assertion failed in TOP...`).
    r("hdl_assertion", Cause, Cat::Is(C::TestAssertion), 7, r"%Error: [\w./-]+:\d+: Assertion failed in "),
    // Timing closure that failed (nextpnr's maximum frequency under the constraint).
    r("timing_not_met", Cause, Cat::Is(C::TestAssertion), 7, r"Max frequency for clock '[^']+': [\d.]+ MHz \(FAIL at [\d.]+ MHz\)"),
    // VHDL Style Guide's violations (`ERROR: rtl/x.vhd(11)entity_015 -- Add *entity* keyword`).
    r("vsg_violation", Cause, Cat::Is(C::FormattingFailure), 7, r"^ERROR: \S+\.vhdl?\(\d+\)[a-z_]+_\d{3} -- "),
    // --- Services the job starts refusing their configuration (Mosquitto, NATS, Redis).
    r("service_config_error", Cause, Cat::Is(C::GithubActionsConfig), 8, r"\bError found at \S+:\d+\.\s*$|^\*\*\* FATAL CONFIG FILE ERROR \(Redis|^nats-server: \S+:\d+:\d+: |^Failed to deserialise input \(format: \w+\)"),
    // A broker or cache that refused the job's credentials (MQTT's CONNACK, AMQP's
    // ACCESS_REFUSED, Redis' WRONGPASS and NOAUTH, NATS' authorization violation).
    r("broker_auth", Cause, Cat::Is(C::PermissionOrSecret), 8, r"(?i:connect(?:ion)? refused:? (?:not authori[sz]ed|bad user ?name or password))|ACCESS_REFUSED - Login was refused|\bWRONGPASS invalid username-password pair|\bNOAUTH Authentication required|[Aa]uthorization [Vv]iolation"),
    // --- Python packaging
    // Packaging metadata a build backend or a tool refuses (setuptools' InvalidConfigError,
    // hatch's `Field ... must be`, poetry's missing readme or empty package include).
    r("py_packaging_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"\bInvalidConfigError: |^\w+Error: Field `[^`]+` must be |^Error: Declared README file does not exist: |^\S+ does not contain any element\s*$|^error: externally-managed-environment\s*$"),
    // validate-pyproject's verdict on pyproject.toml.
    r("pyproject_invalid", Cause, Cat::Is(C::LintFailure), 7, r"^\[ERROR\] `(?:project|tool|build-system)\.|\bvalidate_pyproject\.error_reporting\.ValidationError: |^Invalid file: \S*pyproject\.toml\s*$"),
    // Installed packages whose requirements conflict (`pip check`), pins that cannot both hold
    // (pip-sync), a download that does not match the lock's hash.
    r("py_requirements_conflict", Cause, Cat::Is(C::DependencyInstall), 8, r"^\S+ \S+ has requirement .+, but you have .+\.$|^\S+ \S+ requires \S+, which is not installed\.$|^Incompatible requirements found: |THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"),
    // An interpreter the job asks for that the image does not have (pipenv, virtualenv, uv).
    r("py_interpreter_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^Warning: Python [\d.]+ was not found on your system|failed to find interpreter for .*python_spec=|\bNo interpreter found for Python [\d.]+"),
    // --- Build systems beyond make
    // Bazel: a dependency not visible to the target (its BUILD file), an inclusion the rule
    // does not declare (the code's). (Its downloads' unknown hosts are `network_tools`'.)
    r("bazel_visibility", Cause, Cat::Is(C::GithubActionsConfig), 8, r"target '[^']+' is not visible from target '[^']+'"),
    r("bazel_undeclared_inclusion", Cause, Cat::Is(C::CompileError), 7, r"undeclared inclusion\(s\) in rule '"),
    // Ninja's own errors in its build file (two edges for one output, a bad escape). Not
    // `loading 'build.ninja': No such file`: that is a configure step that did not write it.
    r("ninja_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ninja: error: [^:\s]+\.ninja:\d+: "),
    // qmake's project file errors, and a Qt module the image does not have.
    r("qmake_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\S+\.pr[io]:\d+: |^Error processing project file: "),
    r("qt_module_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"^Project ERROR: Unknown module\(s\) in QT: "),
    // premake's and xmake's Lua build description that does not run.
    r("lua_build_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"(?:premake\d?|xmake)\.lua:\d+: "),
    // tup's refusal of an undeclared output.
    r("tup_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^tup error: File '[^']+' was written to, but is not in \.tup/db"),
    // waf's configure checks that found nothing (a header, a program, a library), and its
    // refusal to build without a configure that succeeded.
    r("waf_check_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^Checking for (?:header|program|library|'[^']+') +\S* *: not found\s*$|^Could not find the program \['"),
    r("waf_not_configured", Cause, Cat::Is(C::GithubActionsConfig), 5, r#"^The project was not configured: run "waf configure" first"#),
    // QtTest's failed check (`FAIL!  : TestDuration::parsesMinutes() Compared values ...`).
    r("qtest_fail", Test, Cat::Is(C::TestAssertion), 7, r"^FAIL!\s+: (?P<t>\S+?\(\)) "),
    // node's test runner's YAML block: the assertion's message.
    r("tap_yaml_error", Detail, Cat::Is(C::TestAssertion), 4, r"^\s+error: '.+'\s*$"),
    // --- Shaders and game engines
    // glslangValidator's located errors (`ERROR: shaders/x.frag:7: 'tint' : undeclared
    // identifier`), its link errors, SPIRV-Cross' exceptions, spirv-val's and spirv-as'
    // `error: line N:`, Godot's GDScript parse errors: code that does not compile.
    r("shader_compile_error", Cause, Cat::Is(C::CompileError), 7, r"^ERROR: \S+\.(?:vert|frag|comp|geom|tesc|tese|glsl|rgen|rint|rahit|rchit|rmiss|rcall|mesh|task|hlsl):\d+: |^ERROR: Linking \w+ stage: |^SPIRV-Cross threw an exception: |^error: line \d+: \S|^SCRIPT ERROR: .*\bParse Error: "),
    // Godot exporting without the export templates the image should carry.
    r("godot_templates_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"^No export template found at the expected path:|the export template appears to be missing"),
    // The Khronos glTF validator's issues (`ERROR ACCESSOR_TOO_LONG /accessors/0: ...`).
    r("gltf_validator", Cause, Cat::Is(C::LintFailure), 7, r"^\s*ERROR [A-Z][A-Z0-9_]+ /\S*: \S"),
    // --- Network services' configuration
    // A message located in a `.conf` file (`etc/bind/named.conf:4: unknown option ...`), or
    // naming the line of one (chrony's `Invalid directive at line 3 in file ...`), an nftables
    // ruleset's located error, a zone file named.conf points at that does not load: the
    // service's configuration.
    r("conf_file_error", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\S+\.(?:conf|cnf):\d+: \S|\b(?:Invalid|Unknown|unknown|invalid) (?:directive|option|command|keyword) at line \d+ in file \S+|^\S+\.nft:\d+:\d+(?:-\d+)?: Error: |: loading from master file \S+ failed: "),
    // A zone (or any file) a canonical-form gate found not canonical.
    r("not_canonical", Cause, Cat::Is(C::FormattingFailure), 7, r"\bis not in canonical form\b"),
    // --- rounds 74-76 and 78: typesetting, bioinformatics, geospatial and configuration-language
    // jobs.
    // TeX: a write outside the working directory that TeX Live's `openout_any = p` refuses; a
    // font fontspec cannot find on the system (a package the image lacks); a makeindex style
    // file that is not there; latexmk's `-Werror` turning LaTeX's warnings into the failure (a
    // build error, as a multiply-defined label is: the document does not build clean);
    // lacheck's `"file.tex", line N: ...` findings.
    r("tex_openout_refused", Cause, Cat::Is(C::PermissionOrSecret), 8, r": Not writing to \S+ \(openout_any = [pr]\)\."),
    r("fontspec_font_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"Package fontspec Error: The font \x22[^\x22]+\x22 cannot be found"),
    r("makeindex_style_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^Index style file \S+ not found\.\s*$"),
    r("latexmk_werror", Cause, Cat::Is(C::CompileError), 7, r"Warning\(s\) from latex \(or c\.\) for '[^']+'; treated as error"),
    r("latex_undefined_ref", Detail, Cat::None, 4, r"^\s*(?:LaTeX Warning: )?(?:Reference|Citation) \x60[^']+' on page \d+ undefined"),
    r("lacheck_finding", Cause, Cat::Is(C::LintFailure), 6, r"^\x22[^\x22]+\.(?:tex|ltx|sty)\x22, line \d+: \S"),
    // biber's data source that is not where the document says (`ERROR - Cannot find
    // 'references.bib'!`): the document's configuration, not its syntax.
    r("biber_missing_source", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^ERROR - Cannot find '[^']+'!\s*$"),
    // qpdf's structural check of a damaged PDF (`file is damaged`, `xref not found`).
    r("qpdf_damaged", Cause, Cat::Is(C::Other), 5, r"^WARNING: \S+: file is damaged\s*$|^WARNING: \S+ \(offset \d+\): xref not found\s*$"),
    // Lua runtime errors (a pandoc filter, a LuaTeX helper: `stats.lua:6: bad argument #2 to
    // 'format'`, `callouts.lua:3: attempt to index a nil value`); TeX wraps its lines at 79
    // columns, so only the start of the message is required. Weak, below a failing step's tool:
    // inside a test runner's report (busted) the same words are a failed test's.
    r("lua_runtime", Cause, Cat::Is(C::CompileError), 3, r"\S+\.lua:\d+: (?:attempt to (?:index|call|perform arithmetic on|compare|concatenate) |bad ar)"),
    // A pandoc filter that fails: the corpus's readers call it neither the document's syntax nor
    // a build error of the project's code.
    r("pandoc_filter_error", Cause, Cat::Is(C::Other), 7, r"^Error running filter \S+:\s*$"),
    // wget's answer from a server that is down or busy: `2026-12-07 18:36:13 ERROR 503:
    // Service Unavailable.`
    r("wget_server_error", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )?ERROR (?:429|50[0234]): \w"),
    // htslib's own errors (samtools, bcftools, tabix: `[E::fai_build3_core] Cannot index files
    // compressed with gzip`) and its tools' verdicts: the data is not what the tool needs.
    r("htslib_error", Cause, Cat::Is(C::Other), 7, r"^\[E::\w+\] \S|^\[faidx\] Could not build fai index |^tbx_index_build failed: |^samtools \w+: failed to "),
    // cwltool's schema validation of a tool, workflow or job document.
    r("cwltool_validation", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^ERROR (?:Tool definition|Workflow|Input object|Workflow or tool) (?:failed|uses) validation:?|^\S+\.(?:cwl|ya?ml):\d+:\d+:\s+invalid field '[^']+', expected one of"),
    // Snakemake: its config file against the workflow's schema, a DAG with an input nothing
    // produces, a Snakefile that does not parse.
    r("snakemake_config", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^Error validating config file\.\s*$|^MissingInputException in rule \S+ in file |^Missing input files for rule \S+:"),
    r("snakemake_syntax", Cause, Cat::Is(C::CompileError), 8, r"^SyntaxError in file \x22[^\x22]*Snakefile\x22, line \d+:|^SyntaxError in file \x22[^\x22]+\.smk\x22, line \d+:"),
    // GDAL's and OGR's errors (`ERROR 1: ...`, `ERROR 4: ...`): an HTTP source that is down, a
    // CRS PROJ does not know, a driver name GDAL lacks, a file it cannot open.
    r("gdal_http_error", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^ERROR \d+: HTTP error code ?: ?(?:429|50[0234])\b"),
    r("gdal_crs_unknown", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ERROR \d+: PROJ: proj_create\w*: crs not found|^ERROR \d+: Translating source or target SRS failed"),
    r("gdal_error", Cause, Cat::Is(C::Other), 5, r"^ERROR [1-9]\d?: \S"),
    // Parsers built with Lark (python-hcl2): `Unexpected token Token('$END', '') at line 9`.
    r("lark_unexpected", Cause, Cat::Is(C::CompileError), 7, r"\bUnexpected (?:token Token\('[^']*', |character '.*' at line \d+|end-of-input)"),
    // A render checked against a golden copy that no longer matches.
    r("golden_mismatch", Cause, Cat::Is(C::TestAssertion), 6, r"(?i)\bdiffers? from (?:the )?(?:\S+/)?(?:golden|expected|snapshot|baseline)\b|\bdoes not match (?:the )?(?:golden|snapshot|baseline)\b"),
    // jsonnet through its Python binding (`RuntimeError: envs/x.jsonnet:6:14-22 Unknown
    // variable: defualts`): a static error in the source.
    r("jsonnet_static_located", Cause, Cat::Is(C::CompileError), 7, r"\S+\.(?:jsonnet|libsonnet):\d+:\d+(?:-\d+)?:? (?:Unknown variable|Expected token|Unexpected|Unterminated)"),
    // KCL: a value of the wrong type for its schema (`error[E2G22]: TypeError`, `expected int,
    // got str(3)`) and a schema's `check:` block that fails.
    r("kcl_type_error", Cause, Cat::Is(C::TypeError), 7, r"^error\[E\w+\]: TypeError\s*$|\^+ expected (?:int|str|bool|float|list|dict)\b[^,]*, got \w"),
    r("kcl_check_failed", Cause, Cat::Is(C::GithubActionsConfig), 7, r"Check failed on the condition: \S"),
    // Pkl: a module it cannot load from a host, an environment variable it reads that is not
    // set (a CI/CD variable the job was not given), a type constraint a value breaks, a syntax
    // error, and `pkl test`'s failing facts.
    r("pkl_module_io", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"^I/O error loading module \x60https?://"),
    r("java_connect_refused", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"\bConnectException: (?:Error connecting to host|Connection refused)"),
    r("pkl_env_unset", Cause, Cat::Is(C::PermissionOrSecret), 7, r"^Cannot find resource \x60env:\w+\x60\."),
    r("pkl_constraint", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^Type constraint \x60[^\x60]+\x60 violated\."),
    r("pkl_syntax", Cause, Cat::Is(C::CompileError), 7, r"^Missing \x60.\x60 delimiter\.|^Unexpected token \x60[^\x60]+\x60\. Expected "),
    r("pkl_test_failed", Test, Cat::Is(C::TestAssertion), 5, r"^\s+✘ (?P<t>\S.*)$"),
    r("pkl_test_summary", Summary, Cat::Is(C::TestAssertion), 5, r"^\d+(?:\.\d+)?% tests pass \[\d+/\d+ failed\]"),
    // taplo: a TOML value its schema rejects, and a schema it cannot fetch.
    r("taplo_schema", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^error: .+ is not (?:of type|one of) \x22?\w|schema validation failed path=\x22[^\x22]+\.toml\x22"),
    r("schema_fetch_failed", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"failed to fetch schema error=error sending request|failed to load schema https?://|^TypeError: fetch failed\s*$"),
    // ajv's verdict on a YAML or TOML data file (a configuration), not its JSON examples.
    r("ajv_config_invalid", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\S+\.(?:ya?ml|toml) invalid\s*$"),
    // --- rounds 77 and 79: publishing to registries, smart-contract tooling.
    // gpg asked for a passphrase in batch mode with no way to prompt (`signing failed:
    // Inappropriate ioctl for device`): the key's passphrase was not given to the job.
    r("gpg_no_passphrase", Cause, Cat::Is(C::PermissionOrSecret), 8, r"^gpg: signing failed: (?:Inappropriate ioctl for device|No pinentry|Operation cancelled|Bad passphrase)\s*$"),
    // A package whose manifest names what is not there or forbids publishing: cargo's readme,
    // a gemspec's version, npm's `"private": true`, a dist-tag for a version never published.
    r("cargo_manifest_file_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^error: (?:readme|license file) \x60[^\x60]+\x60 does not appear to exist\b"),
    r("gemspec_invalid", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^Invalid gemspec in \[[^\]]+\]: "),
    r("npm_publish_refused", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^npm (?:error|ERR!) code EPRIVATE\b|^npm (?:error|ERR!) 404 Not Found - (?:PUT|DELETE) \S+/dist-tags/\S+ - this version doesn.t exist"),
    // ethers' request that got no answer in time, and a configuration solhint cannot load.
    r("ethers_timeout", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^Error: request timeout \(code=TIMEOUT\b"),
    r("linter_config_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^ConfigMissingError: Failed to load config \x22[^\x22]+\x22 to extend from"),
    // yargs' refusal of a flag's value (`Invalid values:` then `Argument: chain.hardfork,
    // Given: "cancun", Choices: ...`): the command line's configuration.
    r("cli_invalid_value", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\s+Argument: [\w.-]+, Given: .+, Choices: "),
    // A contract's `require` that rejected a transaction (a deployment's parameter).
    r("evm_revert", Cause, Cat::Is(C::Other), 5, r"VM Exception while processing transaction: revert\b"),
    // (solc's location line under its error, `  --> contracts/Escrow.sol:13:5:`, is
    // `rust_loc`'s: see `solidity_errors`.)
    // Any tool's error that names the file and line it is about (`schema/unit.fbs:17: 0:
    // error: type referenced but not defined`, capnp's `x.capnp:14:3-9: error:`, thrift's
    // `[ERROR:idl/x.thrift:7]`, flex's `x.l:10: undefined definition {ID}`, bison's `x.y: error:
    // 12 shift/reduce conflicts`): whatever the tool, an error located in a source file is that
    // code not compiling. Not any located finding: a linter's or a loader's may be one too
    // (`x.css:3:15: Unknown value`, `x.gpr:1:06: imported project file "u" not found`). A data
    // or configuration file's loses the category (`located_errors`); a known tool's own rule,
    // stronger, decides over it.
    r("located_error", Cause, Cat::Is(C::CompileError), 3, concat!(r"^\s*", code_path!("f"), r":\s?\d+(?::\s?\d+(?:-\d+)?)?:\s*(?:fatal\s+)?error\b|^\s*\[(?:ERROR|FAILURE):(?P<f2>[^\]\s]*[\w@+-]\.[A-Za-z][A-Za-z0-9]{0,7}):\d+\]|^", code_path!("f3"), r":(?:\d+(?::\d+)?: (?i:.*\b(?:undefined|unbound|undeclared|untyped|not (?:defined|declared)|syntax error)\b)| error: .*\bconflicts?\b)")),
    // A line that is only a location (OCaml's family: Coq, Why3, `File "x.v", line 5,
    // characters 48-56:`; Agda's `x.agda:16,16-17`): the message is on the lines under it
    // (`located_messages`).
    r("location_only", Location, Cat::None, 0, concat!(r#"^File "(?P<f>[^"]*\.[A-Za-z][A-Za-z0-9]{0,7})", line \d+, characters \d+-\d+:\s*$|^"#, code_path!("f2"), r":\d+,\d+-\d+(?:,\d+)?\s*$")),
    // A check script's own verdict that the output lacks what it expected (`check-pdf: FAIL:
    // out/invoice.pdf does not contain "Total due"`): a test of that output. (Not a budget's
    // verdict, `sram-budget: FAIL: uses 84% ...`: a limit, not an expectation.)
    r("check_script_fail", Test, Cat::Is(C::TestAssertion), 5, r"^[\w.-]+: (?:FAIL|FAILED): .*\b(?:does not contain|did not contain|not found in|expected)\b"),
    // pydantic's validation of a model that is a tool's configuration (`1 validation error for
    // RawConfig`, `... for Settings`): the configuration file's value is wrong.
    r("config_model_invalid", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\d+ validation errors? for (?P<n>\w*(?:Config|Settings|Configuration|Options))\s*$"),
    // A signing key whose secret part the job does not have (gpg, dpkg-buildpackage's signing).
    r("gpg_no_secret_key", Cause, Cat::Is(C::PermissionOrSecret), 8, r"^gpg: .*: No secret key\s*$|^gpg: signing failed: No secret key|clear-sign failed: No secret key"),
    // A cargo build script that failed (PyO3 refusing the interpreter, a C library's build).
    // PyO3's build script refusing the interpreter it was given.
    r("pyo3_interpreter", Cause, Cat::Is(C::CompileError), 8, r"^\s*error: the configured Python interpreter version \(\S+\) is (?:newer|older) than PyO3's (?:maximum|minimum) supported version"),
    // rpmlint's findings (`pkg.noarch: E: no-signature`) and its verdict.
    r("rpmlint", Cause, Cat::Is(C::LintFailure), 7, r"^\S+: E: [a-z][\w-]+|^\s*\d+ packages? and \d+ specfiles? checked; [1-9]\d* errors?"),
    // A shell test's own failure line (`FAIL bump 1.9.9 minor: expected 1.10.0, got 1.10.9`).
    r("shell_test_fail", Test, Cat::Is(C::TestAssertion), 6, r"^FAIL (?P<t>[^\t:][^:]*): (?:expected|got|want)\b"),
    r("build_script_failed", Cause, Cat::Is(C::CompileError), 6, r"^error: failed to run custom build command for `"),
    // Frontend builds: Next.js and webpack's "Failed to compile.", Vite's "Build failed in",
    // a Vite plugin's located error (6: verdicts, weaker than what they report).
    r("frontend_build_failed", Cause, Cat::Is(C::CompileError), 6, r"^Failed to compile\.\s*$|^> Build failed because of webpack errors|^x Build failed in \d+m?s|^\[(?:vite:|vite-plugin-|plugin )[\w:-]+\] (?:\[plugin [\w:-]+\] )?\S+ \(\d+:\d+\): \S"),
    r("sass_error", Cause, Cat::Is(C::CompileError), 7, r"^Error: (?:Undefined (?:variable|mixin|function)|Can't find stylesheet to import|expected (?:\x22[^\x22]*\x22|[a-z][\w ]*)\.\s*$|Invalid CSS after )"),
    // Next.js giving up on a page whose data fetch did not answer during static generation, and
    // `next/font` failing to download a font.
    r("next_static_timeout", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"Failed to fetch `[^`]+` from Google Fonts|Static page generation for \S+ is still timing out after \d+ attempts|Restarted static page generation for \S+ because it took more than"),
    // The linker refusing objects built for another ABI; the toolchain lacking the target's
    // device support (avr-gcc's device specs).
    r("linker_abi", Cause, Cat::Is(C::CompileError), 7, r"\bld: error: \S+ uses VFP register arguments|\bld: failed to merge target specific data of file"),
    r("toolchain_target_missing", Cause, Cat::Is(C::GithubActionsConfig), 8, r": error: device-specs/specs-\S+: No such file or directory|: error: unknown MCU '"),
    // A program that skipped an input it could not use and went on (`[icons] skipping
    // icons/cart.svg: no viewBox attribute`, `db:seed: skipping db/plans.csv: ...`).
    r("skipped_input", Cause, Cat::Is(C::Other), 7, r"(?i)\bskipping \S+\.\w+: \S"),
    // A core utility run by a recipe or script, in its own words (`date: invalid date '@'`).
    r("coreutil_error", Cause, Cat::Is(C::Other), 6, r"^(?:date|touch|mkdir|ln|chmod|chown|install|realpath|readlink|base64|od|dd|sort|cut|tr|tee): \S.*"),
    r("go_build", Cause, Cat::Is(C::CompileError), 6, r"^(?:vet: )?(?P<f>[\w./-]+\.go):\d+:\d+: .+|\[build failed\]"),
    r("py_syntax", Cause, Cat::Is(C::CompileError), 7, r"^\s*(SyntaxError|IndentationError|TabError): .+"),
    // PHP's parser (`php -l`, a script), Erlang's compiler (erlc, rebar3) and Elixir's.
    r("beam_php_syntax", Cause, Cat::Is(C::CompileError), 7, r"^(PHP )?Parse error: |^Errors parsing \S+|^\S+\.[eh]rl:\d+:(\d+:)? (variable '[^']+' is unbound|function \S+ undefined|syntax error before|head mismatch|illegal |undefined )|^===> Compiling \S+ failed|== Compilation error in file \S+ ==|\*\* \((CompileError|SyntaxError|TokenMissingError)\) "),
    // A bundler that cannot find a *package* (a bare import, not `./x`): it is not installed.
    r("bundler_pkg_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"(Rolldown|Rollup) failed to resolve import \x22[^./\x22]|Could not resolve \x22[^./\x22][^\x22]*\x22|Module not found: Error: Can't resolve '[^./'][^']*'"),
    // A bundler that cannot find a *file* the code imports (`./generated/tokens.css`) or a name
    // a module does not export: often what an earlier generator step did not write.
    r("bundler_file_missing", Cause, Cat::Is(C::CompileError), 7, r"Could not resolve \x22\.\.?/[^\x22]+\x22 from |Module not found: Error: Can't resolve '\.\.?/[^']+'|\x22[\w$]+\x22 is not exported by \x22[^\x22]+\x22"),
    // JS bundlers (esbuild, vite/rolldown, rollup, webpack), protoc, and rustc's errors that
    // have no code (a file `include_str!` cannot read; `cargo package`'s verify build).
    r("bundler_proto_error", Cause, Cat::Is(C::CompileError), 7, r"^\s*✘ \[ERROR\] |^\[(PARSE_ERROR|UNRESOLVED_IMPORT|MISSING_EXPORT|PLUGIN_ERROR)\] |^Build failed with \d+ errors?:|^ERROR in \S+|^Module parse failed: |RollupError: |^\[!\] (RollupError|Error): |Transform failed with \d+ errors?|^\S+\.proto:\d+:\d+: |^error: couldn't read `[^`]+`: |^error: failed to verify package tarball"),
    // GHC, OCaml and gfortran (whose messages point at their source line as `(1)`).
    r("ghc_ocaml_fortran", Cause, Cat::Is(C::CompileError), 7, r"^\S+\.l?hs:\d+:\d+: error:|^Error: (This expression has type|Unbound (value|module|type|constructor|record field) |The (value|module|constructor|type|field) \S+|Syntax error|This (function|variant|pattern)|Signature mismatch)|^Error: .* at \(\d\)"),
    // Interpreters' syntax checks: perl -c, ruby -c, php -l.
    r("script_syntax", Cause, Cat::Is(C::CompileError), 7, r"^syntax error at \S+ line \d+, near |^\S+ had compilation errors\.\s*$|^\s*\S+\.rb:\d+: syntax error(s found|, unexpected)|^(PHP )?Parse error: syntax error, "),
    // pytest's `E   SyntaxError: ...` when a module fails to import during collection: the code
    // does not parse, no test ran.
    r("pytest_syntax", Cause, Cat::Is(C::CompileError), 8, r"^E\s+(SyntaxError|IndentationError|TabError): .+"),
    r("linker", Cause, Cat::Is(C::CompileError), 7, r"error: linking with `[^`]+` failed|\b(?:ld|lld|rust-lld|collect2)(?:\.\w+)?: (?:error: |fatal error: )?(?:cannot find -l|unable to find library -l)|undefined reference to `|multiple definition of `|\bduplicate symbol: \S"),
    r("merge_conflict", Cause, Cat::Is(C::CompileError), 6, r"^\s*(<<<<<<<|>>>>>>>) \S+|^\s*\d+\s*\|\s*(<<<<<<<|>>>>>>>) "),
    r("tf_config_error", Cause, Cat::Is(C::CompileError), 6, r"^(\s*│\s*)?Error: (Invalid|Unsupported|Missing required|Reference to undeclared|Duplicate|Unclosed|Argument or block definition required) .+"),
    // --- type checkers
    // tsc on the project's configuration (a tsconfig file's location; the TS5xxx option
    // errors, TS6053/TS6059 files outside the project, the TS63xx project-reference errors,
    // TS18003 no inputs): the build's setup, not a type in the code. Other TS6xxx codes
    // (TS6133, a value never read) are the code's.
    r("tsconfig_error", Cause, Cat::Is(C::CompileError), 8, r"tsconfig[\w.-]*\.json(:\d+:\d+ - |\(\d+,\d+\): )error TS\d+: |\berror TS(5\d{3}|60(53|59)|63\d{2}|18003): "),
    r("tsc", Cause, Cat::Is(C::TypeError), 7, concat!(path!(), r"(:\d+:\d+ - |\(\d+,\d+\): )error TS\d+: .+|\berror TS\d{3,5}: .+")),
    r("mypy", Cause, Cat::Is(C::TypeError), 7, r"^(?P<f>[\w./-]+\.pyi?):\d+:(\d+:)? error: .+\[[\w-]+\]\s*$|^Found \d+ errors? in \d+ files? \(checked"),
    r("pyright", Cause, Cat::Is(C::TypeError), 7, r"^\s*(?P<f>/?[\w./-]+\.pyi?):\d+:\d+ - error: .+|\d+ errors?, \d+ warnings?, \d+ (informations|notes)"),
    r("found_errors", Summary, Cat::Is(C::TypeError), 5, r"^Found \d+ errors? in \d+ files?\.?\s*$"),
    // --- linters and formatters
    r("eslint", Cause, Cat::Is(C::LintFailure), 7, r"✖ \d+ problems? \([1-9]\d* errors?|^\s*\d+:\d+\s+error\s+.+\s{2,}[\w@/-]+\s*$"),
    // OpenAPI/AsyncAPI linters (redocly, spectral): `line:col  error  rule-id  message`, the
    // rule before the message (eslint puts it after), and their totals.
    r("api_lint", Cause, Cat::Is(C::LintFailure), 7, r"^\s*\d+:\d+\s+error\s+[a-z][\w-]*(/[\w-]+)?\s{2,}\S|Validation failed with [1-9]\d* errors?\b|^✖ [1-9]\d* problems? \([1-9]\d* errors?, \d+ warnings?"),
    // Secret scanners run as a gate (detect-secrets' hook, gitleaks): a credential in the
    // change, which the change has to take out.
    r("secret_scan", Cause, Cat::Is(C::LintFailure), 8, r"Potential secrets about to be committed to git repo|\bleaks found: [1-9]\d*|^Secret Type: \S"),
    // Licence compliance gates: REUSE's lint, cargo-deny's licence check.
    r("licence_gate", Cause, Cat::Is(C::LintFailure), 7, r"^# MISSING COPYRIGHT AND LICENSING INFORMATION|your project is not compliant with version [\d.]+ of the REUSE Specification|^error\[(rejected|unlicensed)\]: |failed to satisfy license requirements"),
    // sqlfluff's findings (`L:   7 | P:   5 | LT01 | ...`, `PRS` for a section it cannot parse).
    // markdownlint (and markdownlint-cli2): `file:line[:col] MD013/line-length Line length ...`.
    // A linter's coded finding at a file position: doc8's `f.rst:6: D002 Trailing whitespace`,
    // cfn-lint's parseable `f.yaml:16:7:16:23:E3002:Additional properties ...`, pylint's.
    // Linters' `file:line:col: style: [rule_linter] message` (lintr) and buf's
    // `f.proto:8:3:message`.
    // stylelint's findings (`  6:1  ✖  Expected class selector ... kebab-case  rule-name`).
    r("stylelint_finding", Cause, Cat::Is(C::LintFailure), 7, r"^\s*\d+:\d+\s+✖\s+\S.*\s{2,}[a-z][\w/-]+\s*$"),
    r("rule_finding", Cause, Cat::Is(C::LintFailure), 6, r"^(?P<f>[\w./-]+\.\w+):\d+:\d+: (?:style|warning|error|convention|refactor|info): \[\w+\] \S|^(?P<f2>[\w./-]+\.proto):\d+:\d+:[A-Z]"),
    r("coded_finding", Cause, Cat::Is(C::LintFailure), 6, r"^(?P<f>[\w./-]+\.[A-Za-z]\w*):\d+(?::\d+){0,3}:\s?[A-Z]{1,4}\d{2,5}(?::|\s)\s*\S"),
    r("markdownlint", Cause, Cat::Is(C::LintFailure), 6, r"^(?P<f>\S+\.(?:md|markdown|mdx)):\d+(?::\d+)? MD\d{3}/[\w-]+ \S"),
    r("sqlfluff", Cause, Cat::Is(C::LintFailure), 6, r"^L:\s*\d+ \| P:\s*\d+ \|\s+[A-Z]{2,3}\d* \| \S"),
    // A bundle over its size budget (size-limit, bundlesize, webpack's performance hints as
    // errors).
    r("size_budget", Cause, Cat::Is(C::Other), 8, r"Package size limit has exceeded by|\bexceeds? (its|the) (size )?(limit|budget)\b|^ERROR in (asset|entrypoint) size limit: "),
    // Linters that print rustc-style diagnostics with a named rule (`error[template-injection]:`,
    // zizmor, biome): lint, or the CI configuration when the location is a workflow file.
    r("named_diagnostic", Cause, Cat::Is(C::LintFailure), 6, r"^error\[[a-z][a-z0-9-]+\]: \S"),
    r("clippy", Cause, Cat::Is(C::LintFailure), 7, r"implied by `?-D warnings|clippy::\w+|#\[deny\(clippy"),
    r("ruff_flake8", Cause, Cat::Is(C::LintFailure), 6, r"^(?P<f>[\w./-]+\.py):\d+:\d+: [A-Z]{1,3}\d{3,4}\b"),
    // ruff's default ("full") format: the code and message first, the location on the next line.
    r("ruff_full", Cause, Cat::Is(C::LintFailure), 5, r"^[A-Z]{1,4}\d{3,4}(?: \[\*\])? \S.*$"),
    r("ruff_summary", Summary, Cat::Is(C::LintFailure), 6, r"^Found \d+ errors?\.\s*(\(\d+ fixed, \d+ remaining\)\.)?\s*$|^\[\*\] \d+ fixable with the `--fix` option"),
    // rust-lang/rust's `x test tidy`.
    // rustdoc's lints (denied with -D warnings): a broken intra-doc link, bad HTML, missing docs.
    r("rustdoc_lint", Cause, Cat::Is(C::LintFailure), 7, r"^error: (unresolved link to `|unclosed HTML tag `|this URL is not a hyperlink|missing documentation for )"),
    // GitHub-annotation output of linters (`ruff --output-format=github`, flake8-github, ...):
    // a title naming the tool and a rule code.
    r("lint_annotation", Cause, Cat::Is(C::LintFailure), 7, r"^::(error|warning) title=[\w.-]+ \([A-Z]{1,4}\d{2,4}\)"),
    // Terraform's and other HCL formatters' `fmt -check -diff` print old/new file headers.
    // A unified diff's file header (`--- ci/build.sh.orig`, `+++ b/src/app.py`): what a
    // formatter's `-d`/`--diff`/`--check` says would change. No category of its own (a diff is
    // also what a generated-code check prints): the failing step's tool gives it one.
    r("diff_file_header", Cause, Cat::None, 3, r"^(?:---|\+\+\+) (?:[ab]/)?(?P<f>[\w./-]+\.\w+)(?:\.orig)?(?:\t.*)?\s*$"),
    r("hcl_fmt_diff", Cause, Cat::Is(C::LintFailure), 6, r"^(---|\+\+\+) (old|new)/(?P<f>\S+\.(tf|tfvars|hcl))\s*$"),
    r("tidy", Cause, Cat::Is(C::LintFailure), 7, r"^tidy error: |^some tidy checks failed"),
    r("formatter", Cause, Cat::Is(C::FormattingFailure), 7, r"(?i)Code style issues (found|were found)|Imports are incorrectly sorted|would reformat (?P<f>\S+)|would be reformatted|Formatting violations found|^Diff in (?P<f2>\S+?)( at line \d+|:\d+)|The following files? (are|is) not formatted|not properly formatted|Run `?\w*format\w*`? to fix|spotless\w*Check|mix format failed due to --check-formatted"),
    // `git diff --check`: whitespace errors in the change.
    r("git_diff_check", Cause, Cat::Is(C::LintFailure), 6, r"^\S+:\d+: (trailing whitespace\.|space before tab in indent\.|new blank line at EOF\.|indent with spaces\.|leftover conflict marker)\s*$"),
    // A check that generated or tidied files are committed (`go mod tidy` then `git diff
    // --exit-code`).
    r("tidy_check", Cause, Cat::Is(C::LintFailure), 6, r"^E: [\w.+-]+: [a-z0-9][a-z0-9-]+( |$)|(?i)\bgo\.(mod|sum)\b.*\bnot tidy\b|\bnot tidy\b.*\bgo mod tidy\b"),
    // Perl::Critic, commitlint and bandit findings.
    r("lint_findings", Cause, Cat::Is(C::LintFailure), 7, r"at line \d+, column \d+\..*\(Severity: \d\)\s*$|^✖\s+.+ \[[a-z-]+\]\s*$|^✖\s+found [1-9]\d* problems?|^>> Issue: \[B\d+:\w+\] "),
    r("prettier_warn", Cause, Cat::Is(C::LintFailure), 5, r"^\[warn\] (?P<f>\S+\.\w+)\s*$|(?i)\b(prettier|black|rustfmt|gofmt|clang-format|ktfmt|biome)\b.*\bformat"),
    r("lint_mention", Cause, Cat::Is(C::LintFailure), 3, r"(?i)\b(prettier|eslint|stylelint|ruff|flake8|pylint|rubocop|golangci-lint|ktlint|detekt|checkstyle|markdownlint|shellcheck|hadolint|yamllint)\b.*\b(fail|error|problem|issue|violation)"),
    // --- test runners
    // A strict xfail test that passed fails the run.
    r("pytest_xpass_strict", Test, Cat::Is(C::TestAssertion), 6, r"^\[XPASS\(strict\)\]|^(FAILED|XPASS) \S+::\S+.*\bXPASS\(strict\)"),
    r("cargo_test_failed", Test, Cat::Is(C::TestAssertion), 6, r"^test (?P<t>\S.*?) \.\.\. FAILED\s*$"),
    r("cargo_test_result", Summary, Cat::Is(C::TestAssertion), 6, r"test result: FAILED\.|error: test failed, to rerun pass|\d+ tests? run: \d+ passed.* \d+ failed|^\s*\d+ of \d+ tests failed"),
    r("nextest_fail", Test, Cat::Is(C::TestAssertion), 6, r"^\s*(FAIL|SIGSEGV|SIGABRT) \[\s*[\d.]+s\](?: \(\d+/\d+\))? (?P<t>\S.*?)\s*$"),
    r("rust_panic", Cause, Cat::Is(C::TestAssertion), 4, r"thread '(?P<t>[^']+)'(?: \(\d+\))? panicked at (?P<f>[^\s:]+):\d+"),
    // Python's doctest report (Sphinx's doctest builder, `python -m doctest`): the example's
    // file and name at column 0 (a traceback's frames are indented), then its summary.
    // ExUnit (`  1) test name (Module)`, doctests too), testthat 3 (`── 1. Failure ('f.R:16'):
    // name ──`), tcltest (`==== name FAILED`), cabal's test-suite verdict.
    r("exunit_failure", Test, Cat::Is(C::TestAssertion), 6, r"^\s+\d+\) (?:test|doctest|property) (?P<t>.+?) \([\w.]+\)\s*$"),
    r("testthat_failure", Test, Cat::Is(C::TestAssertion), 6, r"^── \d+\. (?:Failure|Error) \('(?P<f>[^':]+):\d+'\): (?P<t>.+?) ─"),
    r("tcltest_failed", Test, Cat::Is(C::TestAssertion), 6, r"^==== (?P<t>\S+) .*\bFAILED\s*$"),
    r("test_suite_summary", Summary, Cat::Is(C::TestAssertion), 6, r"^Test suite \S+: FAIL\s*$|^\S+:\s+Total\s+\d+\s+Passed\s+\d+\s+Skipped\s+\d+\s+Failed\s+[1-9]"),
    r("doctest_failed", Test, Cat::Is(C::TestAssertion), 6, r#"^File "(?P<f>[^"]+)", line \d+, in (?P<t>\S+)\s*$"#),
    r("doctest_summary", Summary, Cat::Is(C::TestAssertion), 6, r"^\*\*\*Test Failed\*\*\* \d+ failures?\.|^\s*\d+ failures? in tests\s*$"),
    r("pytest_failed", Test, Cat::Is(C::TestAssertion), 6, r"^(FAILED|ERROR) (?P<t>\S+::\S+?|\S+\.py)(\s+-\s|\s*$)"),
    r("pytest_summary", Summary, Cat::Is(C::TestAssertion), 6, r"^=+ .*\b\d+ (failed|errors?)\b.*=+\s*$|^=+ (FAILURES|ERRORS) =+$"),
    r("pytest_e_line", Detail, Cat::Is(C::TestAssertion), 3, r"^E\s{2,}\S.*"),
    // Section headers of pytest's FAILURES report: the only place `-rs`/`-rN` runs name tests.
    r("pytest_section", Test, Cat::Is(C::TestAssertion), 5, r"^_{3,} (?P<t>(?:\S+::)?test\S*(?: \S+)*?(?:\[.*\])?) _{3,}\s*$"),
    r("pytest_loc", Location, Cat::None, 0, r"^(?P<f>[\w./-]+\.py):\d+: (in \S+|\w*(Error|Exception|Warning)\b.*)$"),
    // The frame of `os.environ[...]` raising KeyError: a missing environment variable.
    r("py_environ_frame", Detail, Cat::None, 0, r#"^\s*File "(<frozen os>|[^"]*/os\.py)", line \d+, in __getitem__"#),
    r("py_traceback_loc", Location, Cat::None, 0, r#"^\s*File "(?P<f>[^"]+)", line \d+"#),
    // A program that caught an exception, logged it and went on (`WARNING score: batch 0
    // failed: KeyError: 'tenure_months'`): a logger's level word, then what failed, then the
    // exception's type and message (or a script's `seed: warning: UndefinedColumnError: ...`).
    // A later step that finds the data missing inherits it.
    r("logged_exception", Cause, Cat::Is(C::Other), 7, r"(?i:^\W{0,2}(?:\S+ ){0,3}\W?(?:warn(?:ing)?|error|err|crit(?:ical)?)\b\W?) .*\b(?:failed|skipp(?:ed|ing)|could not \w+|error)\b[^:]{0,60}: (?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception): \S|^[\w.-]+: (?i:warning|warn|error): (?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception): \S"),
    // (A package's own exceptions module names some without the suffix: `django.urls.
    // exceptions.NoReverseMatch: ...`, `django.template.exceptions.TemplateDoesNotExist: ...`.)
    r("py_exception", Cause, Cat::None, 3, r"^\s*(?:[\w.]+\.)?(?P<n>\w*(Error|Exception|Failure|Warning)): \S.*|^\s*(?:[\w.]+\.)?(?P<n2>\w+(Error|Exception))\s*$|^(?:[a-z_]\w*\.)+(?:exceptions|exc|errors)\.(?P<n3>[A-Z]\w+): \S.*"),
    r("js_uncaught", Cause, Cat::Is(C::Other), 4, r"^(?:Uncaught )?(TypeError|ReferenceError|RangeError|URIError): \S"),
    r("segfault", Cause, Cat::Is(C::TestAssertion), 5, r"Fatal Python error: Segmentation fault|Segmentation fault( \(core dumped\))?|SIGSEGV|signal 11\b|\b(exit code|exit status) 139\b|^\S*: line \d+: +\d+ (Aborted|Bus error|Illegal instruction|Floating point exception)\b"),
    // A sanitizer build's report (ASan, LSan, UBSan, TSan): the code under test is wrong,
    // whatever runs it.
    r("sanitizer", Cause, Cat::Is(C::TestAssertion), 6, r"ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer): |WARNING: ThreadSanitizer: |runtime error: .*\bUndefinedBehaviorSanitizer\b|^\S+:\d+:\d+: runtime error: |^SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer): "),
    // Valgrind's memcheck: a memory error in the program under test, reported whatever the
    // test's own verdict.
    r("valgrind", Cause, Cat::Is(C::TestAssertion), 7, r"^==\d+== (Invalid (read|write|free\(\)|delete|delete\[\]) |Conditional jump or move depends on uninitialised|Use of uninitialised value|Mismatched free\(\)|Source and destination overlap|Syscall param \S+ points to uninitialised|Process terminating with default action)"),
    r("valgrind_summary", Summary, Cat::Is(C::TestAssertion), 5, r"^==\d+== ERROR SUMMARY: [1-9]\d* errors? from|^==\d+==\s+definitely lost: [1-9]"),
    // C/C++ `assert` (glibc's and musl's wording): the program's own check failed, then it aborted.
    r("c_assert", Cause, Cat::Is(C::TestAssertion), 7, r": Assertion `.+' failed\.\s*$|^Assertion failed: .+, file \S+, line \d+|^Fatal error: exception Assert_failure\("),
    r("ocaml_exception", Cause, Cat::Is(C::TestAssertion), 5, r"^Fatal error: exception (?P<n>\S+)"),
    // Unbounded recursion: the thread's stack overflows and the process aborts.
    r("stack_overflow", Cause, Cat::Is(C::TestAssertion), 5, r"thread '[^']+'(?: \(\d+\))? has overflowed its stack|fatal runtime error: stack overflow|java\.lang\.StackOverflowError"),
    r("unittest_fail", Test, Cat::Is(C::TestAssertion), 6, r"^(FAIL|ERROR): (?P<n>\w+) \((?P<t>[\w.]+)\)"),
    r("unittest_summary", Summary, Cat::Is(C::TestAssertion), 6, r"^FAILED \((failures|errors)=\d+|^\d+ tests? failed:?\s*$|^=== \d+ tests? failed"),
    r("coverage_gate", Cause, Cat::Is(C::TestAssertion), 6, r"Required test coverage of [\d.]+% not reached|Coverage failure: total of [\d.]+ is less than fail-under|coverage threshold for \w+ \([\d.]+%\) not met|Coverage for \w+ \([\d.]+%\) does not meet .*threshold"),
    r("should_panic", Cause, Cat::Is(C::TestAssertion), 6, r"note: test did not panic as expected"),
    r("doctest", Cause, Cat::Is(C::TestAssertion), 5, r"DocTestFailure|^\d+ items? had failures:|\*\*\*Test Failed\*\*\*"),
    r("jest_fail_file", Test, Cat::Is(C::TestAssertion), 5, concat!(r"^\s*FAIL\s+", path!(), r"(\s|$)")),
    r("jest_bullet", Test, Cat::Is(C::TestAssertion), 6, r"^\s*● (?P<t>\S.* › .+|\S.*\S)\s*$"),
    r("jest_summary", Summary, Cat::Is(C::TestAssertion), 6, r"^Tests:\s+\d+ failed|^Test Suites:\s+\d+ failed|› \d+ snapshots? failed|^Snapshots:\s+\d+ failed|No tests found, exiting with code 1"),
    // vitest's reason for a failed test: `→ message` under the `×` line (verbose reporter) and
    // its own `Error: [vitest] ...` (a mock without an export the code imports).
    r("vitest_reason", Detail, Cat::Is(C::TestAssertion), 5, r"^\s+→ \S|^\w*Error: \[vitest\] "),
    r("vitest", Test, Cat::Is(C::TestAssertion), 6, r"^\s*(×|✗|❯|FAIL)\s+(?P<t>\S+ > .+?)(\s+\d+ms)?\s*$|^\s*Test Files\s+\d+ failed|^\s*Tests\s+\d+ failed"),
    r("expect_detail", Detail, Cat::Is(C::TestAssertion), 4, r#"expect\(received\)|^\s*(Expected|Received)( value)?:\s|^\s*[-+] (Expected|Received|Snapshot)\b|AssertionError|AssertionFailedError|assert(ion)? failed|\bassert_eq!|Not equal:|expected: <.*> but was: <|Expected .* (to|but)|did not complete in time|^\s*Failure/Error: |^\s+got: \S|^\s+expected: ""#),
    r("mocha_failing", Summary, Cat::Is(C::TestAssertion), 6, r"^\s*\d+ failing\s*$"),
    // TAP (node --test, prove, tap): `not ok 2 - name`.
    r("tap_not_ok", Test, Cat::Is(C::TestAssertion), 6, r"^\s*not ok \d+ - (?P<t>\S.*?)\s*(#.*)?$"),
    // bats (TAP without the dash) and where it says the test is.
    r("bats_not_ok", Test, Cat::Is(C::TestAssertion), 6, r"^\s*not ok \d+ (?P<t>[^-#\s].*?)\s*$"),
    r("bats_loc", Location, Cat::None, 0, r"^# \(in test file (?P<f>\S+), line \d+\)"),
    // CTest: a test that failed or crashed, and one its timeout stopped.
    r("ctest_fail", Test, Cat::Is(C::TestAssertion), 6, r"^\s*\d+/\d+ Test\s+#\d+: (?P<t>\S+) \.*\s*\*{3}(Failed|Exception|Not Run)|^\s*\d+ - (?P<n>\S+) \((Failed|SEGFAULT|Subprocess aborted|Child aborted)\)\s*$"),
    r("ctest_timeout", Cause, Cat::Is(C::TimeoutOrOom), 7, r"^\s*\d+/\d+ Test\s+#\d+: (?P<t>\S+) \.*\s*\*{3}Timeout\b|^\s*\d+ - (?P<n>\S+) \(Timeout\)\s*$"),
    r("ctest_summary", Summary, Cat::Is(C::TestAssertion), 5, r"^\d+% tests passed, [1-9]\d* tests? failed out of \d+|^Errors while running CTest"),
    r("tap_summary", Summary, Cat::Is(C::TestAssertion), 5, r"^# fail [1-9]\d*\s*$|^ℹ fail [1-9]\d*\s*$"),
    // Perl's Test::More under prove.
    // pgTAP through pg_prove: `# Failed test 2: "description"`, then `#   caught:`/`wanted:`,
    // `have:`/`want:` lines.
    r("pgtap_failed", Test, Cat::Is(C::TestAssertion), 6, r#"^\s*#\s+Failed (?:\(TODO\) )?test \d+: "(?P<t>.+)"\s*$"#),
    r("pgtap_detail", Detail, Cat::Is(C::TestAssertion), 5, r"^\s*#\s{2,}(caught|wanted|have|want|got|expected|extra records|missing records|Results differ beginning at row \d+):"),
    r("perl_test_failed", Test, Cat::Is(C::TestAssertion), 6, r"^#\s+Failed test '(?P<t>[^']+)'|^#\s+Failed test at \S+ line \d+\.|^# Looks like you failed \d+ tests? of \d+"),
    r("perl_test_detail", Detail, Cat::Is(C::TestAssertion), 4, r"^#\s+(got|expected): "),
    r("prove_summary", Summary, Cat::Is(C::TestAssertion), 5, r"^Failed \d+/\d+ subtests\s*$|^Result: FAIL\s*$|^Dubious, test returned [1-9]"),
    // dbt's data tests (`Failure in test unique_x (models/schema.yml)`, then the count).
    r("dbt_test", Test, Cat::Is(C::TestAssertion), 6, r"\bFailure in test (?P<t>[\w.]+) \("),
    r("dbt_test_detail", Detail, Cat::Is(C::TestAssertion), 5, r"\bGot \d+ results?, configured to (fail|warn) if "),
    // semgrep's rule tests (`semgrep --test`): a `ruleid:` line the rule missed.
    r("semgrep_test", Cause, Cat::Is(C::TestAssertion), 6, r"^\d+/\d+: \d+ unit tests? did not pass"),
    r("semgrep_test_detail", Detail, Cat::Is(C::TestAssertion), 5, r"^\s*missed lines: \[[\d, ]*\], incorrect lines: \["),
    r("go_test_fail", Test, Cat::Is(C::TestAssertion), 6, r"^\s*--- FAIL: (?P<t>\S+)"),
    r("go_pkg_fail", Summary, Cat::Is(C::TestAssertion), 5, r"^FAIL\s+(?P<n>\S+)\s+[\d.]+s\s*$|^FAIL\s*$"),
    // A Go runtime panic or fatal error (a test's or a program's; `panic: test timed out` is
    // `go_test_timeout`).
    r("go_panic", Cause, Cat::Is(C::TestAssertion), 6, r"^panic: \S.*|^fatal error: (all goroutines are asleep - deadlock!|concurrent map (read and map write|writes|iteration and map write))"),
    r("go_test_loc", Location, Cat::None, 0, r"^\s+(?P<f>[\w./-]+_test\.go):\d+: .+|In \[\w+\] at: (?P<f2>\S+\.go):\d+|^\s*(?P<f3>/\S+\.go):\d+\s*$"),
    r("ginkgo", Test, Cat::Is(C::TestAssertion), 6, r"^\s*\[FAIL\] (?P<t>.+)|^\s*\[FAILED\] \[|^FAIL! -- \d+ Passed \| \d+ Failed|^Summarizing \d+ Failures?:"),
    r("junit_gradle", Test, Cat::Is(C::TestAssertion), 6, r"^(?:Gradle Test Executor \d+ > )?(?P<t>[\w.$]+ > .+?) FAILED\s*$|\d+ tests? completed, \d+ failed"),
    r("maven_test", Test, Cat::Is(C::TestAssertion), 6, r"Tests run: \d+, Failures: \d+, Errors: \d+.*<<< (FAILURE|ERROR)!|^\[ERROR\]\s+(?P<t>[\w.$]+[.#]\w+)(:\d+)? |^\[ERROR\] (Failures|Errors|Tests in error): \s*$|There are test failures"),
    r("gradle_task", Summary, Cat::ByName(C::Other), 4, r"^> Task (?P<n>:\S+) FAILED|Execution failed for task '(?P<n2>[^']+)'"),
    r("maven_goal", Summary, Cat::ByName(C::Other), 4, r"Failed to execute goal (?P<n>\S+)"),
    r("precommit_hook", Test, Cat::ByName(C::LintFailure), 4, r"^(?P<n>\S.*?)\.{4,}Failed\s*$|^- hook id: (?P<n2>\S+)"),
    r("junit_stack", Location, Cat::None, 0, r"^\s+at (?:app//)?[\w.$<>]+\((?P<f>\w+\.(?:java|kt|scala|groovy)):\d+\)"),
    r("js_stack", Location, Cat::None, 0, r"^\s+at (?:.*? \()?(?:file://)?(?P<f>[^()\s:]+\.[cm]?[jt]sx?):\d+:\d+\)?\s*$"),
    r("bare_path", Location, Cat::None, 0, r"^\s*(?:\* )?(?P<f>[\w@.-]+(?:/[\w@.+-]+)+\.[A-Za-z]\w{0,4})\s*$"),
    r("rust_loc", Location, Cat::None, 0, r"^\s*--> (?P<f>[^\s:]+):\d+:\d+"),
    r("tf_loc", Location, Cat::None, 0, r"on (?P<f>\S+\.tf) line \d+"),
    r("harness_failed", Summary, Cat::Is(C::TestAssertion), 3, r"(?i)\btests? (run )?failed\b|\bfailed to pass within \d+ retries|^TEST FAILURE\b"),
    // Other test frameworks' summaries and failure headers: ExUnit, RSpec, minitest, testthat,
    // busted, PHPUnit, cucumber.
    r("test_summaries", Summary, Cat::Is(C::TestAssertion), 6, r"^\d+ (tests?|examples?|specs?|properties|doctests?|features?)(, \d+ \w+)*, [1-9]\d* (failures?|errors?)\b|^\d+ runs, \d+ assertions, (\d+ failures, [1-9]|[1-9]\d* failures)|^\[ FAIL [1-9]\d* \| WARN \d+ \| SKIP \d+ \| PASS \d+ \]|^Error: Test failures\s*$|^\d+ successes? / (\d+ failures? / [1-9]|[1-9]\d* failures?)|^(FAILURES|ERRORS)!\s*$|^Tests: \d+, Assertions: \d+, (Errors|Failures): [1-9]|^\d+ scenarios? \(.*\b[1-9]\d* failed|^\s*\d+/\d+ \S+\s+(FAIL|TIMEOUT)\s+[\d.]+s|^Summary of Failures:\s*$"),
    // JUnit 4's console runner (`JUnitCore`): `There was 1 failure:`, `1) name(Class)`,
    // `FAILURES!!!`, `Tests run: 3,  Failures: 1`.
    r("junit4_console", Test, Cat::Is(C::TestAssertion), 6, r"^There (was|were) [1-9]\d* failures?:\s*$|^FAILURES!!!\s*$|^Tests run: \d+,\s+Failures: [1-9]\d*\s*$|^\d+\) (?P<t>\w+\([\w.$]+\))\s*$"),
    // A JVM program's uncaught exception: its category comes from its type (as Python's).
    r("jvm_uncaught", Cause, Cat::None, 5, r"^Exception in thread \x22[^\x22]+\x22 (?:[\w$]+\.)*(?P<n>[\w$]+)(: |\s*$)"),
    // PHPUnit: `1) Class::method` headers, `There was 1 risky test:`, `Failed asserting that`.
    r("phpunit_test", Test, Cat::Is(C::TestAssertion), 6, r"^\d+\) (?P<t>[\w\\]+::\w+)(?: with data set .+)?\s*$|^There (was|were) [1-9]\d* risky tests?:\s*$"),
    r("phpunit_detail", Detail, Cat::Is(C::TestAssertion), 5, r"^\s*(│\s*)?Failed asserting that |^This test did not perform any assertions\s*$"),
    // minitest's error header: `  1) Error:` then `Class#test_name:`.
    r("minitest_header", Test, Cat::Is(C::TestAssertion), 6, r"^(?P<t>[A-Z][\w:]*#test_\w+)(?: \[[^\]]+\])?:\s*$"),
    r("test_headers", Test, Cat::Is(C::TestAssertion), 6, r"^\s*\d+\) test (?P<t>.+) \([\w.]+\)\s*$|^(Failure|Error) \('(?P<f>[^']+)'\): (?P<t2>.+)$|^\s*Assertion with \S+ failed|^rspec (?P<f2>\./\S+?):\d+ # (?P<t3>.+)$"),
    // --- the test frameworks, compilers and checkers of rounds 40-43's languages and tools
    // Test runners' failure counts: FiveAM's `Fail: 1 (33%)`, SRFI-64's `# of unexpected
    // failures  1`, RackUnit's `1/3 test failures`, clojure.test's `1 failures, 0 errors.`,
    // plunit's `% 2 tests failed`, meson test's `Fail: 1` and `Unexpected Pass: 1`.
    r("test_counts", Summary, Cat::Is(C::TestAssertion), 6, r"^\s*Fail: [1-9]\d* \(\d+%\)|^# of unexpected (failures|passes)\s+[1-9]|^[1-9]\d*/\d+ tests? failures?\s*$|^(?:[1-9]\d* failures, \d+|\d+ failures, [1-9]\d*) errors\.\s*$|^% [1-9]\d* tests? failed\b|^(?:Fail|Unexpected Pass):\s+[1-9]\d*\s*$"),
    // Their failed tests: clojure.test's `FAIL in (gross-test) (tax_test.clj:8)`, SRFI-64's
    // `slug-test.scm:7: FAIL name`, FiveAM's `NAME in SUITE []:`, RackUnit's `FAILURE`,
    // meson test's `2/2 name UNEXPECTEDPASS 0.00s`, plunit's `test net: failed`.
    r("test_fail_headers", Test, Cat::Is(C::TestAssertion), 6, r"^(?:FAIL|ERROR) in \((?P<t>[^)]+)\)|^\S+:\d+: FAIL (?P<t2>\S.*)$|^\s*(?P<t3>[A-Z][A-Z0-9-]+) in [A-Z][A-Z0-9-]+ \[.*\]:\s*$|^FAILURE\s*$|^\s*\d+/\d+ (?P<t4>\S+)\s+(?:FAIL|UNEXPECTEDPASS|TIMEOUT)\s+[\d.]+s\b|^\s+test (?P<t5>\w+): (?:failed|received error)\b"),
    // A .NET program's uncaught exception under Mono (`Unhandled Exception:` then the type,
    // Mono's `[ERROR] FATAL UNHANDLED EXCEPTION: System.FormatException: ...`): its category
    // comes from its type, as a JVM program's does.
    r("dotnet_uncaught", Cause, Cat::None, 6, r"^\s*(?:Unhandled Exception:\s*|\[ERROR\] FATAL UNHANDLED EXCEPTION: )?System(?:\.\w+)*\.(?P<n>\w*Exception): \S"),
    // Guile's error report: `In procedure open-file: No such file or directory: "..."`.
    r("guile_error", Cause, Cat::Is(C::Other), 6, r"^In procedure [^\s:]+: \S"),
    // SBCL's compiler: a full WARNING or ERROR makes `compile-file` report failure.
    r("sbcl_compile", Cause, Cat::Is(C::CompileError), 6, r"^; caught (?:ERROR|WARNING):\s*$|compile-file reported failure\b|^; compilation unit aborted\b"),
    // A language runtime's heap ran out (SBCL's dynamic space, GHC's RTS, Boehm GC users,
    // the BEAM): the program's memory use, not a crash of the runner.
    r("heap_exhausted", Cause, Cat::Is(C::TimeoutOrOom), 8, r"(?i)\bheap exhausted\b|\bheap overflow\b|\bout of heap space\b|GC Warning: (?:Out of Memory|Failed to expand heap)|eheap_alloc: Cannot allocate"),
    // A name the compiler cannot resolve: Clojure's `Unable to resolve symbol: x in this
    // context`, Racket's `f.rkt:6:5: x: unbound identifier`, and their syntax errors.
    r("unresolved_name", Cause, Cat::Is(C::CompileError), 7, r"Unable to resolve symbol: \S+ in this context|^Syntax error (?:compiling|macroexpanding)\b.* at \(|^\S+:\d+:\d+: \S+: unbound identifier\b|^ERROR: \S+:\d+:\d+: Syntax error: "),
    // Typed Racket's checker.
    r("racket_type_checker", Cause, Cat::Is(C::TypeError), 7, r"^\S+:\d+:\d+: Type Checker: "),
    // The C# compiler under Mono (csc, mcs) and MSBuild/xbuild: `error CS2001: ...`.
    r("csharp_error", Cause, Cat::Is(C::CompileError), 7, r"\berror CS\d{4}: "),
    // An offline build (`lein -o`, `mvn -o`, gradle --offline) asked for an artifact it never
    // downloaded: the image's dependency cache.
    r("offline_artifact", Cause, Cat::Is(C::DependencyInstall), 7, r"in offline mode and the artifact \S+ has not been downloaded|^Could not resolve dependencies\s*$|No cached version of \S+ available for offline mode"),
    // A secret that opened nothing: restic's and borg's repository password, gpg's passphrase.
    r("wrong_password", Cause, Cat::Is(C::PermissionOrSecret), 8, r"^gpg: decryption failed: Bad session key|^gpg: .*\bBad passphrase\b|^Fatal: wrong password or no key found|^passphrase supplied in BORG_PASSPHRASE\b.*\bincorrect|^(?:[Ee]rror|[Ff]atal|FATAL|ERROR): (?:incorrect|invalid|bad|wrong) (?:password|passphrase)\b"),
    // JSON Schema's own words (python-jsonschema; ajv's in its reports' `message` fields, as
    // its bare `must be array` is also validate-pyproject's), whichever tool validates a file with
    // it (check-jsonschema, kubernetes-validate, cfn-lint): the file breaks its schema. Below
    // `config_schema`: a finding in the project's own YAML configuration stays configuration.
    r("schema_violation", Cause, Cat::Is(C::LintFailure), 5, r"'[^']*' is not of type '\w+'|\bis not one of \[|'[^']+' is a required property|Additional properties are not allowed \(|\bis (?:greater|less) than the (?:maximum|minimum) of \d|is not valid under any of the given schemas|did not validate for resource \S+|\bmessage\x22?: [\x22']must (?:be|have|NOT|match|pass|contain)\b"),
    // cfn-lint's default and pretty formats (`E3012 'x' is not of type`, `6:3:  E3004  ...`)
    // and its count.
    r("cfn_lint", Cause, Cat::Is(C::LintFailure), 7, r"^[EW]\d{4} \S|^\d+:\d+:\s+E\d{4}\s+\S|^Cfn-lint scanned \d+ templates? against \d+ rules and found [1-9]\d* errors?"),
    // AWS CDK's validation errors at synthesis (`«InvalidBucketNameValue» Invalid S3 bucket
    // name`): the app's own construct props.
    r("cdk_validation", Cause, Cat::Is(C::Other), 7, "^\\[?\u{ab}\\w+\u{bb} \\S"),
    // `set -u` met an environment variable (upper case, by convention) the job does not
    // have: a CI/CD variable missing (a protected variable on an unprotected branch, a typo in
    // its name). A script's own lower-case variable left unset is the script's doing.
    r("unbound_variable", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^(?:\S+: )?(?:line \d+: )?[A-Z_][A-Z0-9_]*: (?:unbound variable|parameter (?:null or )?not set)\s*$|^\S+: line \d+: [A-Z][A-Z0-9_]{2,}: .*\b(?:set|required|must|define|export|missing)\b"),
    // configure and its macros: a build tool the image lacks; an Autoconf Archive macro left
    // unexpanded (autoconf-archive not installed: configure then fails as a shell script).
    r("configure_tool_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^configure: error: (?:\S+ is required\b|(?:cannot find|could not find|no acceptable) \S+|\S+ (?:not found|is not installed)\b|(?:required |missing )?(?:program|tool|command|library|package|dependency) '?[\w.+-]+'? (?:not found|is missing|is required)\b)|possibly undefined macro: A[XC]_\w+|^\./configure: line \d+: syntax error near unexpected token\b"),
    r("compiler_cannot_link", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^configure: error: C\+* compiler cannot create executables"),
    // automake's distcheck: the package's distribution is incomplete or leaves files behind.
    r("distcheck_failed", Cause, Cat::Is(C::Other), 7, r"^ERROR: files left (?:in build directory )?after (?:distclean|uninstall):|^ERROR: distcleancheck\b"),
    // The image's build tool is older than the project asks for.
    r("tool_too_old", Cause, Cat::Is(C::GithubActionsConfig), 7, r"Meson version is \S+ but project requires\b|CMake [\d.]+ or higher is required\.\s+You are running version|^(?:configure\.ac:\d+: error: )?Autoconf version [\d.]+ or higher is required|require Automake [\d.]+, but have [\d.]+"),
    // A subproject or submodule directory that was never checked out.
    r("subproject_missing", Cause, Cat::Is(C::GithubActionsConfig), 7, r"Subproject exists but has no meson\.build file|does not contain a CMakeLists\.txt file|fatal: no submodule mapping found in \.gitmodules"),
    // --- the configuration checks and API contract tools of rounds 44-45
    // jsonnet: a syntax error, an import the library path lacks (vendored libraries not
    // installed, `-J vendor` dropped), an evaluation error.
    r("jsonnet_static", Cause, Cat::Is(C::CompileError), 7, r"^STATIC ERROR: \S"),
    r("jsonnet_import", Cause, Cat::Is(C::DependencyInstall), 7, r"^RUNTIME ERROR: couldn't open import \x22"),
    r("jsonnet_runtime", Cause, Cat::Is(C::CompileError), 6, r"^RUNTIME ERROR: \S"),
    // A format check's own verdict on a file (`UNFORMATTED lib/slo.libsonnet`).
    r("unformatted_file", Cause, Cat::Is(C::FormattingFailure), 6, r"^\W*(?:UNFORMATTED|[Nn]ot formatted|[Nn]eeds formatting):? \S"),
    // promtool's rule unit tests: the alert or expression that failed, and what it got.
    r("promtool_test", Test, Cat::Is(C::TestAssertion), 6, r"^\s*alertname: (?P<t>[\w:]+), time: \S+,|^\s*expr: (?P<t2>.+), time: \S+,?\s*$"),
    r("promtool_got", Detail, Cat::Is(C::TestAssertion), 5, r"^\s*(?:exp|got):\[\]?\s*$"),
    // A fetch that reported its HTTP status (`curl -w`, a script's log): a 404 is an artifact
    // or release that is not there; a 5xx the server's failure.
    r("fetch_status_404", Cause, Cat::Is(C::DependencyInstall), 7, r"(?i)\b(?:fetched|downloaded|downloading|GET)\b.*\bHTTP(?:/[\d.]+)?:? (?:status |code )?404\b"),
    r("fetch_status_5xx", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"(?i)\b(?:fetched|downloaded|downloading|GET)\b.*\bHTTP(?:/[\d.]+)?:? (?:status |code )?5\d\d\b"),
    // dig's report of a server that never answered or refused.
    r("dig_no_answer", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"^;; (?:communications error to \S+: (?:timed out|connection refused|end of file|host unreachable)|no servers could be reached|connection timed out; no servers could be reached)"),
    // A daemon's configuration check at a file position (`unbound.conf:9: error: ...`) and
    // its count: the service's configuration, as nginx's and HAProxy's are.
    r("config_file_error", Cause, Cat::Is(C::GithubActionsConfig), 8, r"^\S+\.(?:conf|cfg|cnf|ini|zone)(?::\d+)+: (?:error|fatal|syntax error)\b|\bread \S+ failed: [1-9]\d* errors? in configuration file"),
    // GraphQL validation (graphql-js's words, GraphQL Inspector's count): a query that does not
    // type-check against the schema.
    r("graphql_invalid", Cause, Cat::Is(C::TypeError), 7, r"Cannot query field \x22?\w+\x22? on type \x22?\w+|Unknown type \x22\w+\x22\.|Unknown argument \x22\w+\x22 on field|must have a selection of subfields|^Detected [1-9]\d* invalid documents?:"),
    // Linters' `line:col message  rule-id` findings (graphql-schema-linter's text format) and
    // their `✖ N errors detected`; Spectral's text format (`f.yaml:50:17 warning rule "msg"`).
    r("lint_rule_finding", Cause, Cat::Is(C::LintFailure), 6, "^\\s*\\d+:\\d+ \\S.*\\S\\s{2,}[a-z]+(?:-[a-z]+)+\\s*$|^\u{2716} [1-9]\\d* errors? detected|^\\S+:\\d+:\\d+ (?:error|warning|information|hint) [\\w.-]+ \\x22"),
    // An API description whose `$ref` does not resolve (Redocly, json-schema-ref-parser).
    r("unresolved_ref", Cause, Cat::Is(C::LintFailure), 7, r"Can't resolve \$ref\b|Error resolving \$ref pointer|\bMissingPointerError\b|Errors encountered while bundling \S+"),
    // A parser given an empty or truncated input (Python's json, YAML into a Go struct, jq):
    // what an earlier step that failed quietly left behind.
    r("malformed_input", Cause, Cat::Is(C::Other), 5, r"Expecting value: line 1 column 1 \(char 0\)|cannot unmarshal !!str\b|parse error: Invalid numeric literal at line 1, column|Premature end of data|\bDocument is empty\b"),
    // --- the functional languages and firmware builds of rounds 46-47
    // Erlang's dialyzer (type discrepancies) and xref (calls to undefined functions).
    r("dialyzer", Cause, Cat::Is(C::TypeError), 7, r"Invalid type specification for function \S+|The success typing is |^===> Warnings occurred running dialyzer: [1-9]|has no local return\b|can never match the type|will never return since it differs in"),
    r("xref", Cause, Cat::Is(C::LintFailure), 7, r"calls undefined function \S+ \(Xref\)|is undefined function \(Xref\)|^===> Xref failed\b"),
    // QuickCheck's falsified property and its counterexample's comparison.
    r("quickcheck_failed", Test, Cat::Is(C::TestAssertion), 7, r"^\*\*\* Failed! (?:Falsified|Exception thrown|Gave up)\b|^\s*Falsifiable \(after \d+ tests?"),
    r("quickcheck_detail", Detail, Cat::Is(C::TestAssertion), 4, r"^\S.* /= \S"),
    // HLint's hints: `src/A.hs:6:15-38: Suggestion: Redundant bracket`.
    r("hlint", Cause, Cat::Is(C::LintFailure), 7, r"^\S+\.l?hs:\d+:\d+(?:-\d+)?: (?:Suggestion|Warning|Error): \S"),
    // An uncaught exception of an Elixir script (`** (File.Error) could not write ...`) or of
    // an OCaml program (`Exception: Failure "..."`, `Fatal error: exception Not_found`), below
    // a test runner's own verdict when there is one; a file an ExUnit test could not read.
    r("beam_ocaml_uncaught", Cause, Cat::Is(C::Other), 5, r"^\*\* \([\w.]+\) \S|^Exception: [A-Z][\w.]*|^Fatal error: exception [A-Z][\w.]*"),
    r("elixir_file_missing", Cause, Cat::None, 3, r"^\s+\*\* \(File\.Error\) could not (?:read|open|stat) .*: no such file or directory"),
    // GNU ld's own diagnostics (a memory region overflowed, a section that fits nowhere, a
    // linker script's ASSERT message `ld: RAM: ...`), not its warnings nor its context lines
    // (`ld: build/main.o: in function`).
    r("ld_message", Cause, Cat::Is(C::CompileError), 7, r"will not fit in region \x60\w+'|region \x60\w+' overflowed by \d+ bytes?|section \x60[^']+' overlaps section|^(?:\S*/)?(?:[\w-]+-)?ld(?:\.bfd)?: (?:[^w/\s.]|w[^a]|wa[^r])[^:/.]*: \S"),
    // --- the localisation jobs and scripting languages of rounds 48-49
    // Message catalogs that do not compile: msgfmt's and pybabel's findings at a `.po`
    // position, their counts, Django's wrapper; ICU MessageFormat's syntax errors and
    // FormatJS's duplicate ids.
    r("catalog_compile", Cause, Cat::Is(C::CompileError), 7, r"^(?:error: |Execution of msgfmt failed: )?\S+\.pot?(?::\d+)+: \S|^msgfmt: found [1-9]\d* fatal errors?|compilemessages generated one or more errors|^[1-9]\d* errors? encountered\.\s*$|SyntaxError: [A-Z][A-Z_]{3,} at line \d+, column \d+|Duplicate message id: \x22"),
    // msgcmp's completeness check (messages the template has and the catalog lacks): the
    // translations, not a catalog that does not compile; above `catalog_compile` on its lines.
    r("catalog_incomplete", Cause, Cat::Is(C::LintFailure), 8, r"this message is used but not defined in \S+|: this message is untranslated\s*$|^msgcmp: found [1-9]\d* fatal errors?"),
    // pybabel skipping a catalog still marked fuzzy: the translations it holds are not built.
    r("catalog_fuzzy_skipped", Cause, Cat::Is(C::Other), 7, r"^catalog \S+ is marked as fuzzy, skipping"),
    // gawk's lint made fatal (`--lint=fatal`), and its syntax errors.
    r("awk_lint_fatal", Cause, Cat::Is(C::LintFailure), 7, r"^g?awk: .*\bfatal: reference to uninitialized (?:variable|element)\b"),
    // An input path that named a directory (an empty variable in `data/${REGION:-}`): gawk
    // warns, skips it and exits 0; a later check then finds nothing.
    r("awk_dir_skipped", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^g?awk: .*warning: command line argument \x60[^']*' is a directory: skipped"),
    r("awk_syntax", Cause, Cat::Is(C::CompileError), 7, r"^g?awk: (?:cmd\. line|\S+):\d+: .*\bsyntax error\b"),
    // GNU Octave: a file that does not parse; webread's failed request.
    r("octave_parse", Cause, Cat::Is(C::CompileError), 7, r"^error: parse error near line \d+ of file \S+"),
    r("octave_http", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"HTTP response code said error\b|^error: webread: "),
    // Raku: the compiler's `===SORRY!===`, a type check at run time, Test's plan not met.
    r("raku_compile", Cause, Cat::Is(C::CompileError), 7, r"^===SORRY!=== Error while compiling \S+"),
    r("raku_type_check", Cause, Cat::Is(C::TypeError), 6, r"^Type check failed in (?:binding|assignment) to "),
    r("tap_plan", Summary, Cat::Is(C::TestAssertion), 6, r"^# You planned \d+ tests?, but ran \d+|^# Looks like you failed [1-9]\d* tests? of \d+"),
    // Tcl's package search: the version a script requires is not on the library path.
    r("tcl_package_missing", Cause, Cat::Is(C::DependencyInstall), 7, r"^can't find package \S+"),
    // busted's failure headers and the assertion message on the spec line below.
    r("busted_failure", Test, Cat::Is(C::TestAssertion), 6, r"^(?:Failure|Error) -> (?P<t>\S+ @ \d+)\s*$"),
    r("busted_message", Detail, Cat::Is(C::TestAssertion), 5, r"^\S+_spec\.lua:\d+: \S"),
    // A program that could not read an input and went on with defaults (`load: unable to find
    // file data/calib.txt; using defaults`): what it then computes is wrong.
    r("fell_back_to_defaults", Cause, Cat::Is(C::Other), 6, r"(?i)(?:unable to (?:find|open|read)|not found|no such file|cannot (?:open|read)|could not (?:find|open|read))[^;]*[;,] (?:using|falling back to) (?:the )?defaults?\b"),
    // --- the Node.js services and technical-writing pipelines of rounds 50-51
    // TeX's errors (`! LaTeX Error: ...`, `! Undefined control sequence.`, `Runaway argument?`,
    // `-file-line-error`'s `f.tex:12:`), LuaTeX's Lua errors (printed after TeX's `)`, not a
    // Lua program's own runtime errors), BibTeX's and biber's.
    r("tex_error", Cause, Cat::Is(C::CompileError), 7, r"^! (?:LaTeX Error: |LaTeX3 Error: |Package [\w-]+ Error: |Class [\w-]+ Error: |Undefined control sequence|Misplaced alignment tab character|File ended while scanning use of |Missing \S+ inserted|Paragraph ended before |Too many \}'s|Extra \}, or forgotten |Illegal unit of measure|Font \S+ not loadable|I can't find file |Argument of \S+ has an extra \}|Emergency stop)|^Runaway argument\?\s*$|^\S+\.(?:tex|sty|cls):\d+: \S|^\[\\directlua\]:\d+: |^\)\S+\.lua:\d+: attempt to "),
    // A LaTeX package or class the TeX installation lacks.
    r("tex_package_missing", Cause, Cat::Is(C::DependencyInstall), 8, r"^! LaTeX Error: File \x60[^']+\.(?:sty|cls|def|fd|cfg)' not found"),
    r("tex_line", Detail, Cat::Is(C::CompileError), 4, r"^l\.\d+ \S"),
    r("bibtex_error", Cause, Cat::Is(C::CompileError), 7, r"^Repeated entry---line \d+ of file \S+|^I was expecting a \x60,' or a \x60\}'|^I couldn't open (?:database|style) file \S+|^ERROR - (?:BibTeX subsystem|.*\bsyntax error\b)"),
    // Documentation linters: chktex's warnings, mandoc's lint, groff's warnings (`-ww`).
    r("doc_lint", Cause, Cat::Is(C::LintFailure), 7, r"^Warning \d+ in \S+ line \d+: \S|^mandoc: \S+:\d+:\d+: (?:WARNING|ERROR|STYLE|UNSUPP): |^(?:troff|groff|grotty): (?:<standard input>|\S+):\d+: warning: "),
    // TeX Live's manager could not read the repository it was given.
    r("tlmgr_repository", Cause, Cat::Is(C::NetworkOrFlaky), 7, r"TLPDB::from_file could not initialize from: (?:https?|ftp)://"),
    // knex and its pool (tarn): the database never gave a connection.
    r("db_pool_timeout_knex", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"KnexTimeoutError: Knex: Timeout acquiring a connection|^Acquire connection error: "),
    // A service's start-up check of its environment (zod's report names the variable).
    r("env_invalid", Cause, Cat::Is(C::GithubActionsConfig), 7, r"(?i)^\W*invalid environment(?: variables)?:?\s*$|^\W*missing required environment variables?\b|^\s*→ at [A-Z][A-Z0-9_]{2,}\s*$"),
    // Node's uncaught error with a code (`PathError [TypeError]: Missing parameter name`): its
    // category comes from its type, as a JVM program's does.
    r("node_error_code", Cause, Cat::None, 6, r"^(?P<n>[A-Z]\w*(?:Error|Exception)) \[\w+\]: \S"),
    // A JSON log line at pino's or bunyan's error or fatal level: the service's own account.
    r("json_log_error", Cause, Cat::Is(C::Other), 6, r#"^\{"level":(?:50|60),"#),
    // knex's migration that failed (its SQL error from SQLite or PostgreSQL below it).
    r("knex_migration_failed", Cause, Cat::Is(C::Other), 7, r#"^migration file "[^"]+" failed|^migration failed with error:|^\s*- near "[^"]*": syntax error"#),
    // supertest's status assertion: what the service answered instead.
    r("supertest_status", Detail, Cat::Is(C::TestAssertion), 5, r#"^\s*Error: expected \d{3} "[^"]+", got \d{3} "[^"]+""#),
    // --- the data pipelines and C++ test frameworks of rounds 52-53
    // GoogleTest: a failed test (`[  FAILED  ] Suite.Name (0 ms)`), its count, the assertion's
    // position and what it says (`f.cpp:12: Failure`, `Expected equality of these values:`,
    // a death test's `Result: threw an exception.`).
    r("gtest_failed", Test, Cat::Is(C::TestAssertion), 7, r"^\[  FAILED  \] (?P<t>[\w/.]+)(?:, where \S.*)? \(\d+ ms\)\s*$|^\[  FAILED  \] [1-9]\d* tests?, listed below:"),
    r("gtest_failure", Detail, Cat::Is(C::TestAssertion), 5, r"^\S+:\d+: Failure\s*$|^Expected equality of these values:|^\s*Result: (?:threw an exception|died but not with expected|failed to die)|^Value of: |^Actual function call count doesn't match "),
    // Catch2: the console reporter's `f.cpp:11: FAILED:`, the compact reporter's `f.cpp:11:
    // failed: ...`, the totals.
    r("catch2_failed", Test, Cat::Is(C::TestAssertion), 7, r"^\S+:\d+: FAILED:\s*$|^\S+:\d+: failed: \S|^test cases: \d+ \| (?:\d+ passed \| )?[1-9]\d* failed|^Failed [1-9]\d* test cases?, failed \d+ assertions?\.|^\S+:\d+: warning:\s*$"),
    r("catch2_expansion", Detail, Cat::Is(C::TestAssertion), 4, r"^with expansion:\s*$"),
    // A sanitizer that could not reserve its shadow memory: the runner's address-space limit
    // (`ulimit -v`), not the code.
    r("sanitizer_shadow", Cause, Cat::Is(C::Infrastructure), 9, r"AddressSanitizer failed to allocate 0x[0-9a-f]+|ReserveShadowMemoryRange failed while trying to map|Perhaps you're using ulimit -v"),
    // ctest asked for a test binary the build did not make.
    r("ctest_exec_missing", Cause, Cat::Is(C::CompileError), 5, r"^Could not find executable \S+"),
    // DuckDB's database file locked by another process (a shared cache another job holds).
    r("duckdb_lock", Cause, Cat::Is(C::NetworkOrFlaky), 8, r"Could not set lock on file \S+: Conflicting lock is held in "),
    // dbt: a data or unit test that failed (`Failure in unit_test name (path)`, `1 of 3 FAIL 2
    // name`), and a project file that does not parse (YAML).
    r("dbt_test_failed", Test, Cat::Is(C::TestAssertion), 7, r"Failure in (?:unit_test|test) (?P<t>\S+) \(|^(?:\d\d:\d\d:\d\d\s+)?\d+ of \d+ FAIL \d+ (?P<t2>\S+)"),
    r("dbt_parse_error", Cause, Cat::Is(C::GithubActionsConfig), 7, r"found a tab character that violates indentation|^(?:\d\d:\d\d:\d\d\s+)?Parsing Error\s*$"),
    // sqlfluff's YAML and JSON reports: a violation's rule code (`code: AM04`).
    r("sqlfluff_code", Cause, Cat::Is(C::LintFailure), 6, r#"^\s*-?\s*"?code"?: "?(?:AL|AM|CP|CV|JJ|LT|RF|ST|TQ|PRS|TMP)\d{2}"?,?\s*$"#),
    // --- the Python web applications and repository hygiene gates of rounds 54-55
    // Django's system checks (`manage.py check`): an object and a check id, `<class 'x.Admin'>:
    // (admin.E108) ...`, `?: (security.W012) ...`. An error is the project's configuration
    // (models, admin, urls); a warning fails only a gate that asked (`--fail-level WARNING`,
    // `check --deploy`): a lint-like finding.
    r("django_check", Cause, Cat::Is(C::Other), 6, r"^(?:<[^>]+>|\?|[\w.]+): \((?:[a-z_]+\.)?E\d{3}\) \S"),
    r("django_check_warning", Cause, Cat::Is(C::LintFailure), 6, r"^(?:<[^>]+>|\?|[\w.]+): \((?:[a-z_]+\.)?W\d{3}\) \S"),
    // WebAssembly toolchains: AssemblyScript's coded errors (`ERROR AS200: Conversion from type
    // 'f64' to 'i32' requires an explicit cast.`, its `FAILURE 1 compile error(s)`), binaryen's
    // validator (`[wasm-validator error in function 0] ...`), Emscripten's link and export
    // errors (`error: undefined symbol: crc32_update (referenced by ...)`, `emcc: error:
    // undefined exported symbol: "_x"`).
    r("wasm_compile", Cause, Cat::Is(C::CompileError), 7, r#"^ERROR (?:AS|TS)\d{3}: \S|^FAILURE [1-9]\d* (?:compile|parse) error\(s\)|^\[wasm-validator error in function [^\]]+\] \S|^(?:emcc: )?error: undefined (?:exported )?symbol: \S"#),
    // The WebAssembly API's own errors in a test's report (`[Error [LinkError]:
    // WebAssembly.instantiate(): Import #0 ...]` under node --test's `✖ name`), wasmtime's
    // `unknown import: `env::abort` has not been defined`.
    r("wasm_runtime", Detail, Cat::Is(C::TestAssertion), 5, r"\b(?:LinkError|CompileError|RuntimeError)\]?: WebAssembly\.\w+\(\): \S|unknown import: `[^`]+` has not been defined"),
    // pytest's `-rs` report of tests skipped because something failed (`SKIPPED [1] t.py:7:
    // codec.wasm could not be instantiated: ...`): a gate on passed tests then fails for it.
    r("pytest_skip_error", Cause, Cat::Is(C::TestAssertion), 7, r"^SKIPPED \[\d+\] \S+:\d+: .*\b(?:could not|cannot|can't|failed|unable to|has not been defined|not found)\b"),
    // A script's warning that a tool it wanted is missing and that it goes on without it
    // (`warning: wasm-opt not found (BINARYEN_ROOT=''), shipping the module unoptimised`): the
    // job's image or variables. (A missing file it replaces with defaults is not a tool.)
    r("tool_missing_went_on", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^(?:warning|WARNING): [\w-]+ not found\b.*\b(?:skipping|shipping|continuing|without)\b"),
    // Ansible: a task that failed (ansible-core 2.19's `[ERROR]: Task failed: 'x' is undefined`,
    // the older `fatal: [host]: FAILED! => {...}`; a network or permission word in its message
    // has its own, stronger rule), and an inventory no plugin could parse (the job's
    // configuration: the yaml, ini, toml or script plugin's reason; `auto`'s is about plugin
    // config files).
    r("ansible_task_failed", Cause, Cat::Is(C::Other), 7, r"^\[ERROR\]: Task failed: \S|^fatal: \[[^\]]+\]: FAILED! => "),
    r("ansible_inventory", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^\[WARNING\]: Failed to parse inventory with '(?:yaml|ini|toml|script|host_list)' plugin: \S|^\[(?:ERROR|WARNING)\]: No inventory was parsed\b"),
    // A pickled model (joblib, pickle) that no longer loads because the code it names moved
    // (`could not load ... model.joblib (ModuleNotFoundError: No module named 'churn.x')`,
    // pickle's `Can't get attribute 'X' on <module ...>`): the artifact and the code disagree,
    // not a package the job failed to install.
    r("model_unpickle", Cause, Cat::Is(C::Other), 6, r"(?i:could not|failed to|cannot|unable to) (?i:load|unpickle|deserializ\w+|read) .*\.(?:joblib|pkl|pickle)\b.*\b(?:ModuleNotFoundError|Can't get attribute)\b|^AttributeError: Can't get attribute '\w+' on <module "),
    // A Jupyter kernel that died under papermill or nbconvert (`Kernel died while waiting for
    // execute reply.`, nbclient's `DeadKernelError`): killed, most often at the memory limit.
    r("kernel_died", Cause, Cat::Is(C::TimeoutOrOom), 7, r"^Kernel died while waiting for execute reply\.|\bDeadKernelError: Kernel died\b|^The kernel appears to have died\."),
    // DVC: data the cache and the remote both lack (`dvc pull --allow-missing` goes on
    // without it; a stage then misses it): the data was never pushed.
    r("dvc_missing_cache", Cause, Cat::Is(C::Other), 7, r"^WARNING: Some of the cache files do not exist neither locally nor on remote\."),
    r("dvc_missing_data", Cause, Cat::Is(C::Other), 6, r"^ERROR: failed to reproduce '[^']+': missing data '"),
    // pandera's lazy validation report (`SchemaErrors: {` then JSON): each failure's "error".
    r("pandera_error", Cause, Cat::Is(C::TestAssertion), 6, r#"^\s*"error": "(?:column '[^']+' not in DataFrameSchema|[Cc]olumn '[^']+' failed|expected series '[^']+' to have type|non-nullable series '[^']+' contains null)"#),
    // A script's own note that it skipped a step and why (`warning: registration skipped:
    // Unable to find a logged_model ...`): what a later step then misses.
    r("step_skipped", Cause, Cat::Is(C::Other), 5, r"^(?:warning|WARNING|error|ERROR): [\w .-]{1,40} skipped: \S"),
    // pytest's own crash before any test ran (`INTERNALERROR> ...Error: ...`): a plugin or an
    // option of the run (`-W error` turning a plugin's deprecation into an error), its setup.
    r("pytest_internalerror", Cause, Cat::Is(C::GithubActionsConfig), 7, r"^INTERNALERROR> (?:[\w.]+\.)?\w*(?:Error|Exception|Warning): \S"),
    // pytest stopped by SIGINT (`timeout -s INT`, a cancelled job): its banner, and in verbose
    // mode the test that was running, named without a result.
    r("pytest_interrupted", Cause, Cat::Is(C::TimeoutOrOom), 6, r"^!{5,} KeyboardInterrupt !{5,}\s*$"),
    r("pytest_unfinished", Detail, Cat::Is(C::TimeoutOrOom), 4, r"^(?P<t>\S+\.py::\S+) ?$"),
    // towncrier's changelog gate: a change without a news fragment, or a fragment whose name
    // is not `<issue>.<type>` with a configured type.
    r("towncrier_check", Cause, Cat::Is(C::LintFailure), 7, r"^Error: Invalid news fragment name: \S|^No new newsfragments found on this branch\."),
    // `reuse lint`: its report's sections (`'Apache2.0' found in:` above the files, the files
    // with no copyright or licensing information) and `--lines`'s `path: unused license`.
    r("reuse_lint", Cause, Cat::Is(C::LintFailure), 7, r"^'[^']+' found in:\s*$|^The following files have no (?:copyright|licensing|copyright and licensing) information:|^\S+: (?:unused license|no copyright notice|no license identifier|(?:bad|missing|deprecated) license\b.*|license without file extension|invalid SPDX License Expression\b.*)\s*$"),
    // pydantic v2's validation errors: each field's message and what it got (`Extra inputs are
    // not permitted [type=extra_forbidden, input_value='cus_1193', input_type=str]`), under
    // the `1 validation error for Model` line.
    r("pydantic_error", Detail, Cat::None, 4, r"^\s*\S.* \[type=[a-z_]+, input_value=.*, input_type=\w+\]\s*$"),
    // --- generic error lines, exits and step echoes
    r("annotation", Cause, Cat::None, 2, r"^(##\[error\]|::error( [^:]*)?::)(?P<n>.+)"),
    r("generic_error", Cause, Cat::None, 1, r"(?i)^\s*(\[?error\]?[:\s!]|fatal[:\s]|\berror\b.*\bfailed\b)|\bERROR\b|\bFAILURE\b|\bfailed with exit code\b|Error: Command failed"),
    r("exit_code", Exit, Cat::None, 0, r"(?i)Process completed with exit code (?P<code>\d+)|ERROR: Job failed: exit (code|status) (?P<code2>\d+)|exited with (exit )?(code|status) (?P<code3>\d+)|with exit code (?P<code4>\d+)|Exit status (?P<code5>\d+)|returned non-zero exit status (?P<code6>\d+)|make(\[\d+\])?: \*\*\* \[.*\] Error (?P<code7>\d+)|exit code: (?P<code8>\d+)"),
    r("gha_step", Step, Cat::None, 0, r"^##\[group\]Run (?P<n>.+)$"),
    r("shell_step", Step, Cat::None, 0, r"^\$ (?P<n>\S.*)$"),
    r("exit_cmd", Step, Cat::None, 0, r"^\s*exit [1-9]\d*\s*$"),
    // xargs stops and exits 124 when a command exits 255: that status is not a time limit.
    r("xargs_abort", Detail, Cat::None, 0, r"^xargs: \S+: exited with status 255; aborting"),
];

// Byte regexes with Unicode classes off: `\w`, `\d`, `\s` and `(?i)` are ASCII-only, which
// keeps the lazy DFA small and fast over long log lines (non-ASCII literals still match their
// UTF-8 bytes). The configuration is `regex::bytes::RegexSet`'s, built as a `meta::Regex` so
// that each `extract` owns its lazy DFA cache: a `RegexSet` keeps one cache per thread that
// ever used it, grown up to the limit below, for as long as the program runs (~8 MiB of a
// TUI session's RSS after a few background diagnoses, none of it needed between them).
fn build_set(rules: &[usize]) -> meta::Regex {
    let config = meta::Config::new()
        .nfa_size_limit(Some(10 << 20))
        // Room for the lazy DFA of ~100 patterns: when its cache thrashes, matching falls back
        // to a far slower engine.
        .hybrid_cache_capacity(64 << 20)
        .match_kind(MatchKind::All)
        .utf8_empty(false)
        // The implicit group (whole match) only: the searches that take a cache need it.
        .which_captures(WhichCaptures::None);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build_many(&rules.iter().map(|&r| RULES[r].pattern).collect::<Vec<_>>())
        .unwrap_or_else(|e| unreachable!("constant rule patterns: {e}"))
}

/// Some of the rules as one set: which rule each of its patterns is.
pub(crate) struct RuleSet {
    re: meta::Regex,
    rules: Vec<usize>,
    /// Every rule in it needs one of [`GATE`]'s literals: a line without one is not searched.
    gated: bool,
}

/// A rule's pattern parsed as the sets read it (ASCII classes, bytes).
fn parsed(ri: usize) -> Hir {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(RULES[ri].pattern)
        .unwrap_or_else(|e| unreachable!("constant rule {}: {e}", RULES[ri].id))
}

/// Each rule's literals (`None`: the rule is searched on every line), from its pattern.
static LITERALS: LazyLock<Vec<Option<Vec<Vec<u8>>>>> = LazyLock::new(|| {
    (0..RULES.len())
        .map(|ri| gate::required_literals(&parsed(ri)))
        .collect()
});

/// Every gated rule's literals in one automaton: the gated sets search only the lines it
/// admits (a tenth of a typical log's lines; see [`gate`]).
static GATE: LazyLock<Gate> = LazyLock::new(|| {
    Gate::new(
        &LITERALS
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect::<Vec<_>>(),
    )
});

/// A small log's rules: `ways` sets of the gated rules (round-robin, so no set holds all of
/// one tool's rules) and one set of the others.
fn rule_sets(ways: usize) -> Vec<RuleSet> {
    let (gated, open): (Vec<usize>, Vec<usize>) =
        (0..RULES.len()).partition(|&r| LITERALS[r].is_some());
    let mut sets: Vec<RuleSet> = (0..ways)
        .map(|k| {
            let rules: Vec<usize> = gated.iter().copied().skip(k).step_by(ways).collect();
            RuleSet {
                re: build_set(&rules),
                rules,
                gated: true,
            }
        })
        .collect();
    if !open.is_empty() {
        sets.push(RuleSet {
            re: build_set(&open),
            rules: open,
            gated: false,
        });
    }
    sets
}

/// The rules as one set or as several. The set's lazy DFA has a state for every combination
/// of partial matches it meets, and ~160 patterns that each keep a thread alive across a line
/// (`^test .* \.\.\. FAILED$`, a path then `: error`) combine: on a real 3 MB CI log one
/// set built 10 MiB of states in ~350 ms before it had matched much, four sets (round-robin, so
/// no set holds all of one tool's rules) built 5 MiB in ~140 ms, and more sets gained little.
/// A small log gets the split sets; one of [`SETS_APART_LINES`] or more is read literal first
/// ([`LiteralFirst`]). One
/// set of every rule, ungated, is what both are checked against in the tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Sets {
    #[cfg(test)]
    One,
    Split,
}

/// How many sets a small log's gated rules are split into: with ~200 rules (rounds 10-14 added
/// ~35), six sets, three per thread, took that 3 MB log's cold run from 0.18 to 0.15-0.16 s.
/// Since the gate (which lets a twelfth of that log's lines through) they are searched on far
/// fewer lines: 0.13-0.14 s with 220 rules, against 0.15-0.16 ungated in the same runs.
const SPLIT_INTO: usize = 6;

/// Every rule in one ungated set: the reference the faster ways are compared with in tests.
#[cfg(test)]
static ONE: LazyLock<Vec<RuleSet>> = LazyLock::new(|| {
    let rules: Vec<usize> = (0..RULES.len()).collect();
    vec![RuleSet {
        re: build_set(&rules),
        rules,
        gated: false,
    }]
});

static SPLIT: LazyLock<Vec<RuleSet>> = LazyLock::new(|| rule_sets(SPLIT_INTO));

impl Sets {
    fn get(self) -> &'static [RuleSet] {
        match self {
            #[cfg(test)]
            Sets::One => &ONE,
            Sets::Split => &SPLIT,
        }
    }
}

/// The rules, literal first, for a log of a few thousand lines or more. One set of all ~500
/// rules is fast on a line once its lazy
/// DFA has the states that line needs, but a real 200 MB trace made it build 26 MiB of them,
/// which took longer than scanning all the rest of the log (1.2 s of the 2.9 s of its
/// diagnosis, on one thread before the other could start from them). Here nothing is built per
/// log: one Aho-Corasick pass finds which literals a line holds, only the rules' alternatives
/// that need one of those are tried, each as its own regex (compiled the first time), and the
/// few rules with no literal run as one small set on every line. The work grows with what a
/// line could match, not with the number of rules.
struct LiteralFirst {
    /// Every distinct literal of the gated rules' alternatives, ASCII case ignored.
    literals: AhoCorasick,
    /// For each literal, the alternatives (indices in `branches`) that cannot match without
    /// one of theirs: this one among them.
    needed_by: Vec<Vec<usize>>,
    branches: Vec<Branch>,
    /// The rules with no literal every match holds.
    open: RuleSet,
}

/// One top-level alternative of a gated rule (the whole pattern when it has none). A rule
/// matches when one of its alternatives does, and each has literals of its own: tried apart,
/// an alternative anchored at the line's start gives up at once on a long line another
/// alternative's literal let through (a compiler command holding `error`, for a lint rule's
/// `^\s*\d+:\d+\s+error` and its `✖ N problems`), and one with a literal prefix finds it
/// with a substring search.
struct Branch {
    rule: usize,
    hir: Hir,
    re: OnceLock<meta::Regex>,
}

impl Branch {
    fn is_match(&self, hay: &[u8]) -> bool {
        self.re
            .get_or_init(|| {
                meta::Builder::new()
                    .configure(meta::Config::new().utf8_empty(false))
                    .build_from_hir(&self.hir)
                    .unwrap_or_else(|e| unreachable!("constant rule {}: {e}", RULES[self.rule].id))
            })
            .is_match(Input::new(hay))
    }
}

/// How a log's literals are searched: a big log's with a DFA (19 MiB for ~2,800 literals and
/// ~60 ms to build, the fastest to search: a 200 MB trace's search took 0.56 s of one core
/// against 0.86 s with the contiguous NFA), a smaller one's with a contiguous NFA (under 1 MiB,
/// quick to build: a cold `diagnose` of a 3 MB log took 0.16-0.18 s with it, 0.20-0.27 s with
/// the DFA).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Automaton {
    Nfa,
    Dfa,
}

impl Automaton {
    fn for_lines(n: usize) -> Automaton {
        if n < PARALLEL_LINES {
            Automaton::Nfa
        } else {
            Automaton::Dfa
        }
    }
}

/// The literal-first matchers, each built by the first log that needs it and dropped with the
/// warm caches ([`release_cache`]): a TUI, which reads a big log now and then (the log viewer's
/// first-error scan), should not hold a big log's 19 MiB automaton between two. A lock each:
/// a smaller log does not wait for a big one's automaton being built ahead ([`prepare_for`]).
static LITERAL_FIRST: [Mutex<Option<Arc<LiteralFirst>>>; 2] = [Mutex::new(None), Mutex::new(None)];

/// Logs from this many bytes are most likely read literal first (a typical trace has 100-250
/// bytes a line; [`PARALLEL_LINES`] decides).
const LIKELY_BIG_BYTES: u64 = 16 << 20;

/// Builds ahead what a log of `bytes` will be read with: a caller that reads a big file first
/// has a core idle meanwhile (a 200 MB trace takes ~0.13 s to read, the matcher ~0.1-0.2 s to
/// build). Smaller logs need nothing built.
pub fn prepare_for(bytes: u64) {
    if bytes >= LIKELY_BIG_BYTES {
        literal_first(Automaton::Dfa);
    }
}

fn literal_first(kind: Automaton) -> Arc<LiteralFirst> {
    // Held while it is built: the halves' two threads wait for one build, not make two.
    let mut kept = LITERAL_FIRST[kind as usize]
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    kept.get_or_insert_with(|| Arc::new(LiteralFirst::new(kind)))
        .clone()
}

impl LiteralFirst {
    fn new(kind: Automaton) -> LiteralFirst {
        let mut index: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut needed_by: Vec<Vec<usize>> = Vec::new();
        let mut branches = Vec::new();
        let mut open = Vec::new();
        for (ri, rule_literals) in LITERALS.iter().enumerate() {
            let Some(rule_literals) = rule_literals else {
                open.push(ri);
                continue;
            };
            let hir = parsed(ri);
            let alternatives = match hir.kind() {
                HirKind::Alternation(alts) => alts.clone(),
                _ => vec![hir],
            };
            for alt in alternatives {
                // The rule's own literals hold for each of its alternatives: the fallback when an
                // alternative alone has none worth gating on.
                let lits = gate::required_literals(&alt).unwrap_or_else(|| rule_literals.clone());
                let b = branches.len();
                branches.push(Branch {
                    rule: ri,
                    hir: alt,
                    re: OnceLock::new(),
                });
                for lit in lits {
                    let id = *index.entry(lit.to_ascii_lowercase()).or_insert_with(|| {
                        literals.push(lit);
                        needed_by.push(Vec::new());
                        literals.len() - 1
                    });
                    if needed_by[id].last() != Some(&b) {
                        needed_by[id].push(b);
                    }
                }
            }
        }
        let literals = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(AcMatchKind::Standard)
            .kind(Some(match kind {
                Automaton::Nfa => AhoCorasickKind::ContiguousNFA,
                Automaton::Dfa => AhoCorasickKind::DFA,
            }))
            .build(&literals)
            .unwrap_or_else(|e| unreachable!("literals from constant rule patterns: {e}"));
        LiteralFirst {
            literals,
            needed_by,
            branches,
            open: RuleSet {
                re: build_set(&open),
                rules: open,
                gated: false,
            },
        }
    }
}

/// Which rules match a line.
trait Matcher {
    /// Pushes the index in `RULES` of every rule that matches `hay` (in any order).
    fn matching(&mut self, hay: &[u8], matched: &mut Vec<usize>);
}

/// Some of the rule sets with their caches (a small log's way).
struct SetMatcher<'a> {
    sets: &'a [RuleSet],
    caches: &'a mut [meta::Cache],
    found: Vec<PatternSet>,
}

impl<'a> SetMatcher<'a> {
    fn new(sets: &'a [RuleSet], caches: &'a mut [meta::Cache]) -> SetMatcher<'a> {
        let found = sets
            .iter()
            .map(|s| PatternSet::new(s.re.pattern_len()))
            .collect();
        SetMatcher {
            sets,
            caches,
            found,
        }
    }
}

impl Matcher for SetMatcher<'_> {
    fn matching(&mut self, hay: &[u8], matched: &mut Vec<usize>) {
        let input = Input::new(hay);
        let mut admitted = None;
        let sets = self.sets.iter().zip(self.caches.iter_mut());
        for ((set, cache), found) in sets.zip(self.found.iter_mut()) {
            found.clear();
            if set.gated && !*admitted.get_or_insert_with(|| GATE.admits(hay)) {
                continue;
            }
            set.re.which_overlapping_matches_with(cache, &input, found);
            // `PatternSet::iter` walks every pattern's slot: most lines match none.
            if !found.is_empty() {
                matched.extend(found.iter().map(|p| set.rules[p.as_usize()]));
            }
        }
    }
}

/// [`LiteralFirst`] on one thread: the open set's cache, and what this line has tried.
struct LiteralMatcher {
    lf: Arc<LiteralFirst>,
    open_cache: meta::Cache,
    found: PatternSet,
    /// The line (counted from 1) on which each alternative was last tried.
    tried_on: Vec<u32>,
    /// The line on which each rule last matched: its other alternatives need no try.
    matched_on: Vec<u32>,
    line: u32,
}

impl LiteralMatcher {
    fn new(kind: Automaton) -> LiteralMatcher {
        let lf = literal_first(kind);
        LiteralMatcher {
            open_cache: lf.open.re.create_cache(),
            found: PatternSet::new(lf.open.re.pattern_len()),
            tried_on: vec![0; lf.branches.len()],
            matched_on: vec![0; RULES.len()],
            line: 0,
            lf,
        }
    }
}

impl Matcher for LiteralMatcher {
    fn matching(&mut self, hay: &[u8], matched: &mut Vec<usize>) {
        let lf = &*self.lf;
        self.line = self.line.checked_add(1).unwrap_or_else(|| {
            self.tried_on.fill(0);
            self.matched_on.fill(0);
            1
        });
        let line = self.line;
        for m in lf.literals.find_overlapping_iter(hay) {
            for &b in &lf.needed_by[m.pattern().as_usize()] {
                let branch = &lf.branches[b];
                if self.tried_on[b] == line || self.matched_on[branch.rule] == line {
                    continue;
                }
                self.tried_on[b] = line;
                if branch.is_match(hay) {
                    self.matched_on[branch.rule] = line;
                    matched.push(branch.rule);
                }
            }
        }
        self.found.clear();
        let input = Input::new(hay);
        lf.open
            .re
            .which_overlapping_matches_with(&mut self.open_cache, &input, &mut self.found);
        matched.extend(self.found.iter().map(|p| lf.open.rules[p.as_usize()]));
    }
}

/// The rule sets' lazy DFA caches between two logs. A batch (`eval`, the planner's logs, the
/// benches) keeps them warm: most logs visit the same few states, and rebuilding them costs a
/// few ms per log. Caches that a log grew past [`spare_cache::KEEP_AT_MOST`] go with that
/// log, a concurrent diagnosis's second set goes when it is done, and a long-running caller
/// drops the spare after its diagnosis ([`release_cache`]): a TUI diagnoses a log every few
/// seconds at most and would otherwise hold megabytes for nothing.
mod spare_cache {
    use std::sync::Mutex;

    use regex_automata::meta;

    use super::{RuleSet, Sets};

    /// Bigger caches are not kept (a big log's can grow to the set's 64 MiB limit).
    pub const KEEP_AT_MOST: usize = 8 << 20;

    static SPARE: Mutex<Option<(Sets, Vec<meta::Cache>)>> = Mutex::new(None);

    pub fn take(kind: Sets, sets: &[RuleSet]) -> Vec<meta::Cache> {
        SPARE
            .lock()
            .ok()
            .and_then(|mut spare| spare.take())
            .filter(|(k, _)| *k == kind)
            .map(|(_, caches)| caches)
            .unwrap_or_else(|| sets.iter().map(|s| s.re.create_cache()).collect())
    }

    pub fn give_back(kind: Sets, caches: Vec<meta::Cache>) {
        let size: usize = caches.iter().map(|c| c.memory_usage()).sum();
        if size <= KEEP_AT_MOST
            && let Ok(mut spare) = SPARE.lock()
        {
            *spare = Some((kind, caches));
        }
    }

    pub fn release() {
        if let Ok(mut spare) = SPARE.lock() {
            *spare = None;
        }
    }
}

/// Drops the rule sets' warm caches (see `spare_cache`) and the literal-first matcher; the next
/// log builds new ones.
pub fn release_cache() {
    spare_cache::release();
    for kept in &LITERAL_FIRST {
        *kept.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Each rule's own regex (for captures), compiled the first time one of its lines matches:
/// a log touches a few tool families, and compiling all ~130 up front was most of the cost of
/// a cold `diagnose`.
static COMPILED: LazyLock<Vec<OnceLock<Regex>>> =
    LazyLock::new(|| RULES.iter().map(|_| OnceLock::new()).collect());

fn compiled(ri: usize) -> &'static Regex {
    COMPILED[ri].get_or_init(|| {
        let r = &RULES[ri];
        RegexBuilder::new(r.pattern)
            .unicode(false)
            .build()
            .unwrap_or_else(|e| unreachable!("constant rule {}: {e}", r.id))
    })
}

/// `gh run view --log` writes escapes in caret notation (`^[[31m`): text, not bytes, so the
/// terminal emulation leaves them. They are removed before matching.
static CARET_ESCAPE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\^\[\[[0-9;?]*[ -/]*[@-~]")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// The `Output` of a `go test -json` (test2json) event line, without its newline; `None` for
/// any other line (checked by its first bytes before any parsing).
fn test_event_output(line: &str) -> Option<String> {
    let t = line.trim();
    if !t.starts_with("{\"Time\":") && !t.starts_with("{\"Action\":") {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Event {
        #[serde(rename = "Output")]
        output: Option<String>,
    }
    let ev: Event = serde_json::from_str(t).ok()?;
    let out = ev.output?;
    let out = out.trim_end_matches(['\n', '\r']);
    (!out.trim().is_empty()).then(|| out.to_string())
}

/// The line without caret-notation escapes (borrowed when there are none).
pub fn clean_caret(s: &str) -> Cow<'_, str> {
    if s.contains("^[[") {
        CARET_ESCAPE.replace_all(s, "")
    } else {
        Cow::Borrowed(s)
    }
}

/// Lines longer than this are matched on their first bytes only (minified bundles, base64
/// blobs: the error is at the start when there is one).
const MATCH_PREFIX: usize = 4096;

/// One rule matching one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// 0-based line index.
    pub line: usize,
    pub rule: &'static str,
    pub role: Role,
    pub category: Option<Category>,
    pub weight: u8,
    /// The line's text without a leading CI timestamp; a substring of the plain line.
    pub text: HitText,
    /// `text` without caret-notation escapes (what the rules matched), empty when equal to
    /// `text` (nearly every log). Not verbatim when they differ: quote `text`, describe with
    /// [`Hit::clean`].
    pub clean_text: String,
    pub test: Option<String>,
    pub file: Option<String>,
    pub exit_code: Option<i32>,
    /// Captured name (task, hook, package, command).
    pub name: Option<String>,
}

/// A hit's text. A big log's hits are mostly plain lines whose text is a slice of the log's
/// own bytes: those point into the log instead of copying it (a 200 MB trace with ~100,000
/// matching lines held ~40 MB of copies); a line that had to be rendered (escapes, `\r`,
/// continuations) owns its text.
#[derive(Clone)]
pub enum HitText {
    Owned(Box<str>),
    /// `bytes[start..start + len]`, valid UTF-8 when made (checked again when read: the bytes
    /// are shared, the check is cheap, and no `unsafe` is needed).
    Shared {
        bytes: Arc<Vec<u8>>,
        start: u32,
        len: u32,
    },
}

impl HitText {
    /// `s` as a slice of `bytes` when it lies inside them, else a copy.
    fn new(s: &str, bytes: &Arc<Vec<u8>>) -> HitText {
        let base = bytes.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        if at >= base
            && at - base + s.len() <= bytes.len()
            && let (Ok(start), Ok(len)) = (u32::try_from(at - base), u32::try_from(s.len()))
        {
            return HitText::Shared {
                bytes: Arc::clone(bytes),
                start,
                len,
            };
        }
        HitText::Owned(s.into())
    }

    pub fn as_str(&self) -> &str {
        match self {
            HitText::Owned(s) => s,
            HitText::Shared { bytes, start, len } => {
                let (start, len) = (*start as usize, *len as usize);
                bytes
                    .get(start..start + len)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .unwrap_or_default()
            }
        }
    }
}

impl From<&str> for HitText {
    fn from(s: &str) -> HitText {
        HitText::Owned(s.into())
    }
}

impl From<String> for HitText {
    fn from(s: String) -> HitText {
        HitText::Owned(s.into_boxed_str())
    }
}

impl std::ops::Deref for HitText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for HitText {
    fn eq(&self, other: &HitText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for HitText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for HitText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Hit {
    /// The line as the rules saw it (caret-notation escapes removed).
    pub fn clean(&self) -> &str {
        if self.clean_text.is_empty() {
            &self.text
        } else {
            &self.clean_text
        }
    }
}

/// Hit texts are kept up to this many bytes: a prefix is still verbatim, and quotes are cut at
/// 300. A huge log with many matching long lines must not hold them all whole (a 200 MB trace
/// with ~100,000 generic `error` lines held ~90 MB of hit text at 1 KiB).
const HIT_TEXT_MAX: usize = 400;

/// Everything extracted from a log.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub hits: Vec<Hit>,
    pub line_count: usize,
}

/// The hits on one line. Hits are in line order, so they are found by bisection: a pass that
/// asks this of every line costs no more than one pass over the hits.
pub fn hits_on(hits: &[Hit], line: usize) -> &[Hit] {
    let from = hits.partition_point(|h| h.line < line);
    let to = from + hits[from..].partition_point(|h| h.line == line);
    &hits[from..to]
}

impl Extraction {
    pub fn by_role(&self, role: Role) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(move |h| h.role == role)
    }

    /// The hits on one line ([`hits_on`]).
    pub fn on_line(&self, line: usize) -> &[Hit] {
        hits_on(&self.hits, line)
    }

    /// Line indexes that carry any error signal (weight > 0 or a test/summary/exit role).
    pub fn signal_lines(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .hits
            .iter()
            .filter(|h| h.weight > 0 || matches!(h.role, Role::Test | Role::Summary | Role::Exit))
            .map(|h| h.line)
            .collect();
        v.dedup();
        v
    }
}

/// Removes a leading GitHub Actions / generic ISO timestamp (`2026-04-23T04:08:22.8180462Z `)
/// and a BOM. GitLab runner prefixes are already gone (`LogIndex` strips them).
pub fn strip_ci_timestamp(line: &str) -> &str {
    let s = line.strip_prefix('\u{feff}').unwrap_or(line);
    let b = s.as_bytes();
    if b.len() < 21 {
        return s;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shaped = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shaped {
        return s;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'Z') {
        i += 1;
    }
    if b.get(i) == Some(&b' ') {
        return &s[i + 1..];
    }
    s
}

fn prefix_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Lines from which a log is big (about 10 MB of typical trace): its literals are searched with
/// a DFA, slower to build but faster to search than the smaller logs' automaton.
pub(crate) const PARALLEL_LINES: usize = 100_000;

/// Lines from which a log is read literal first, in two halves on two threads (below it, by the
/// split sets on this thread, whose states a batch of small logs keeps warm). On the 3 MB LogDx
/// log (31,110 lines) literal first took a cold `diagnose` from 0.28-0.37 s to 0.16-0.21 s.
pub(crate) const SETS_APART_LINES: usize = 4_000;

/// Runs every rule over every line of the log.
pub fn extract(log: &LogIndex) -> Extraction {
    let n = log.line_count();
    let mut hits = if n < SETS_APART_LINES {
        extract_lines(log, 0..n, Some(false), Sets::Split).hits
    } else {
        // Literal first, in two halves on two threads: nothing is built per log that one half
        // could have shared with the other.
        let size = Automaton::for_lines(n);
        let mid = n / 2;
        let (first, second) = std::thread::scope(|s| {
            let second = s.spawn(|| scan_lines(log, mid..n, None, &mut LiteralMatcher::new(size)));
            let first = scan_lines(log, 0..mid, Some(false), &mut LiteralMatcher::new(size));
            (first, second.join())
        });
        // A half that panicked is run again here rather than lost.
        let second = second
            .unwrap_or_else(|_| scan_lines(log, mid..n, None, &mut LiteralMatcher::new(size)));
        join_halves(first, second)
    };
    finish(log, &mut hits);
    Extraction {
        hits,
        line_count: n,
    }
}

/// A hit that a pass over the hits found (a line no rule matched, or a rule's line read
/// again): the line's plain text, without captures.
pub(crate) fn pass_hit(
    log: &LogIndex,
    line: usize,
    body: &str,
    rule: &'static str,
    role: Role,
    category: Category,
    weight: u8,
) -> Hit {
    Hit {
        line,
        rule,
        role,
        category: Some(category),
        weight,
        text: HitText::new(
            prefix_at_char_boundary(body.trim_end(), HIT_TEXT_MAX),
            log.shared_bytes(),
        ),
        clean_text: String::new(),
        test: None,
        file: None,
        exit_code: None,
        name: None,
    }
}

/// What a program said as it failed, on the last non-blank line (of the three) before `line`
/// where its runner reports the failure (`exit status 1`, make's `*** [...] Error 1`): a cause
/// even when no rule knows its wording. `None` when a rule already knows that line, or it is a
/// command's echo or the runner's own.
fn last_words(log: &LogIndex, hits: &[Hit], line: usize) -> Option<Hit> {
    let j = (line.saturating_sub(3)..line)
        .rev()
        .find(|&j| !log.plain_cow(j).trim().is_empty())?;
    let known = hits_on(hits, j)
        .iter()
        .any(|o| o.role != Role::Cause || o.weight >= 5);
    let plain = log.plain_cow(j);
    let body = strip_ci_timestamp(&plain);
    if known || body.starts_with("$ ") || is_runner_boilerplate(body) {
        return None;
    }
    Some(pass_hit(
        log,
        j,
        body,
        "program_error",
        Role::Cause,
        Category::Other,
        7,
    ))
}

/// `go run` reports its program's failure as a bare `exit status N` after the program's own
/// output: the line before it is what the program said as it failed (a code generator's
/// `genenum: states.txt:4: bad line ...`), a cause even when no rule knows its wording. Hits
/// are in line order here (the passes before it keep them so).
fn go_run_last_words(log: &LogIndex, hits: &mut Vec<Hit>) {
    let mut found = Vec::new();
    // Only under a `go run` step: other tools print the same words about other things. The
    // step is tracked in one pass (hits are in line order).
    let mut go_run = false;
    for h in hits.iter() {
        if h.role == Role::Step {
            go_run = h.text.contains("go run ");
            continue;
        }
        if h.rule != "exit_code" || !go_run || h.line == 0 {
            continue;
        }
        let t = h.clean();
        let t = t.trim();
        let bare = t
            .strip_prefix("exit status ")
            .is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()));
        if !bare {
            continue;
        }
        if let Some(words) = last_words(log, hits, h.line) {
            found.push(words);
        }
    }
    if !found.is_empty() {
        hits.extend(found);
        hits.sort_by_key(|h| h.line);
    }
}

/// [`extract`] in one pass on one thread with the given sets, whatever the size (tests
/// compare them).
#[cfg(test)]
pub(crate) fn extract_one_pass(log: &LogIndex, sets: Sets) -> Extraction {
    let mut hits = extract_lines(log, 0..log.line_count(), Some(false), sets).hits;
    finish(log, &mut hits);
    Extraction {
        hits,
        line_count: log.line_count(),
    }
}

/// [`extract`]'s way from a few thousand lines (literal first) in one pass on one thread,
/// whatever the size, with the smaller logs' automaton (a big log's `extract` uses the other).
#[cfg(test)]
pub(crate) fn extract_literal_first(log: &LogIndex) -> Extraction {
    let n = log.line_count();
    let matcher = &mut LiteralMatcher::new(Automaton::Nfa);
    let mut hits = scan_lines(log, 0..n, Some(false), matcher).hits;
    finish(log, &mut hits);
    Extraction {
        hits,
        line_count: n,
    }
}

/// The hits of a run of lines, and the echo state it ends in.
struct Part {
    hits: Vec<Hit>,
    /// Whether the run ends inside a `##[group]Run` echo.
    ends_in_echo: bool,
    /// Hits (a prefix of `hits`) on lines before the run's first group marker, kept whatever
    /// the echo state the run starts in: which of them stand is decided by the preceding run.
    undecided: usize,
}

/// The second half's undecided hits, filtered with the first half's final echo state: exactly
/// what one pass over both would have kept.
fn join_halves(first: Part, second: Part) -> Vec<Hit> {
    let mut hits = first.hits;
    hits.reserve(second.hits.len());
    let mut rest = second.hits.into_iter();
    for h in rest.by_ref().take(second.undecided) {
        if !first.ends_in_echo || h.role == Role::Step {
            hits.push(h);
        }
    }
    hits.extend(rest);
    hits
}

/// Runs every rule over `lines`. `echo_at_start` is the `##[group]Run` echo state before the
/// first line, `None` when not known yet (a second half, run beside the first).
fn extract_lines(
    log: &LogIndex,
    lines: std::ops::Range<usize>,
    echo_at_start: Option<bool>,
    kind: Sets,
) -> Part {
    let sets = kind.get();
    let mut caches = spare_cache::take(kind, sets);
    let part = scan_lines(
        log,
        lines,
        echo_at_start,
        &mut SetMatcher::new(sets, &mut caches),
    );
    spare_cache::give_back(kind, caches);
    part
}

/// [`extract_lines`] with the rules `matcher` tries.
fn scan_lines(
    log: &LogIndex,
    lines: std::ops::Range<usize>,
    echo_at_start: Option<bool>,
    matcher: &mut impl Matcher,
) -> Part {
    // The rules that matched a line, in rule order (as one set reports them).
    let mut matched: Vec<usize> = Vec::new();
    let mut hits = Vec::new();
    // Inside `##[group]Run ...` .. `##[endgroup]` GitHub echoes the step's script and env: what
    // will run, not what happened. Like `$ cmd` and `[command]` echoes, only step rules apply.
    let mut in_echo = echo_at_start;
    let mut undecided = 0;
    for i in lines {
        let plain = log.plain_cow(i);
        let body = strip_ci_timestamp(&plain);
        if body.trim().is_empty() {
            continue;
        }
        let group_run = body.starts_with("##[group]Run ");
        if group_run {
            in_echo = Some(true);
        } else if body.starts_with("##[endgroup]") {
            in_echo = Some(false);
        }
        // An unknown state counts as "not an echo" here; those hits are filtered when the
        // state is known (`join_halves`).
        let echo = in_echo == Some(true) || body.starts_with("$ ") || body.starts_with("[command]");
        let clean = clean_caret(body);
        // `go test -json` wraps every output line in an event: the rules read what the test
        // printed (the quote stays the event line, verbatim).
        let clean = match test_event_output(&clean) {
            Some(out) => Cow::Owned(out),
            None => clean,
        };
        let hay = prefix_at_char_boundary(&clean, MATCH_PREFIX).as_bytes();
        // Most lines match nothing: the allocation-free tests first.
        matched.clear();
        matcher.matching(hay, &mut matched);
        if matched.is_empty() {
            continue;
        }
        matched.sort_unstable();
        // The runner's own lines (preparation, sources, `ERROR: Job failed: exit code N`) carry
        // no cause: a project path that happens to read `oom-killer` is not an OOM kill.
        let boilerplate = is_runner_boilerplate(body);
        for &ri in &matched {
            let rule = &RULES[ri];
            if echo && !matches!(rule.role, Role::Step) {
                continue;
            }
            if boilerplate && !matches!(rule.role, Role::Step | Role::Exit) {
                continue;
            }
            let Some(caps) = compiled(ri).captures(hay) else {
                continue;
            };
            let cap = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| caps.name(n))
                    .map(|m| String::from_utf8_lossy(m.as_bytes()).trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let name = cap(&["n", "n2", "n3"]);
            let category = match rule.cat {
                Cat::None => None,
                Cat::Is(c) => Some(c),
                Cat::ByName(default) => Some(
                    name.as_deref()
                        .and_then(category_from_name)
                        .unwrap_or(default),
                ),
            };
            let exit_code = cap(&[
                "code", "code2", "code3", "code4", "code5", "code6", "code7", "code8",
            ])
            .and_then(|c| c.parse().ok());
            hits.push(Hit {
                line: i,
                rule: rule.id,
                role: rule.role,
                category,
                weight: rule.weight,
                text: HitText::new(
                    prefix_at_char_boundary(body.trim_end(), HIT_TEXT_MAX),
                    log.shared_bytes(),
                ),
                clean_text: if clean.as_ref() == body {
                    String::new()
                } else {
                    prefix_at_char_boundary(clean.trim_end(), HIT_TEXT_MAX).to_string()
                },
                test: cap(&["t", "t2", "t3"]),
                file: cap(&["f", "f2", "f3"]),
                exit_code,
                name,
            });
            if in_echo.is_none() {
                undecided = hits.len();
            }
        }
    }
    Part {
        hits,
        ends_in_echo: in_echo == Some(true),
        undecided,
    }
}

/// A line that names a service's own limit (a Redis at `maxmemory`, a connection pool with no
/// free connection) also reads as an OOM, a timeout or the network to the broader rules: the
/// specific reading is the one kept.
fn service_limits(hits: &mut Vec<Hit>) {
    let lines: Vec<usize> = hits
        .iter()
        .filter(|h| matches!(h.rule, "redis_maxmemory" | "db_pool_exhausted"))
        .map(|h| h.line)
        .collect();
    if lines.is_empty() {
        return;
    }
    hits.retain(|h| {
        !(matches!(h.rule, "oom" | "network" | "timed_out" | "tests_timeout")
            && lines.binary_search(&h.line).is_ok())
    });
}

/// The share of one CPU a timing line says its command got over its wall-clock time.
fn cpu_share(line: &str) -> Option<f64> {
    static HYPERFINE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"Time \(mean [^)]*\):\s+([\d.]+) ([^ ]*s)\s.*\[User: ([\d.]+) ([^ ]*s), System: ([\d.]+) ([^ ]*s)\]")
            .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    });
    static WALL_CPU: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?i)\b([\d.]+) ?(m?s) wall\b.{0,40}?\b([\d.]+) ?(m?s) (?:of )?CPU\b")
            .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    });
    static PERCENT: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"Percent of CPU this job got: (\d+)%|elapsed (\d+)%CPU\b")
            .unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
    });
    let secs = |v: &str, unit: &str| -> Option<f64> {
        let v: f64 = v.parse().ok()?;
        Some(match unit {
            "s" => v,
            "ms" => v / 1e3,
            _ => v / 1e6,
        })
    };
    let share = if let Some(c) = HYPERFINE.captures(line) {
        let wall = secs(&c[1], &c[2])?;
        (secs(&c[3], &c[4])? + secs(&c[5], &c[6])?) / wall
    } else if let Some(c) = WALL_CPU.captures(line) {
        secs(&c[3], &c[4].to_ascii_lowercase())? / secs(&c[1], &c[2].to_ascii_lowercase())?
    } else {
        let c = PERCENT.captures(line)?;
        let pct: f64 = c.get(1).or(c.get(2))?.as_str().parse().ok()?;
        pct / 100.0
    };
    share.is_finite().then_some(share)
}

/// Below this share of a CPU, a timing that missed its budget says the command mostly waited.
const STARVED_SHARE: f64 = 0.35;

/// How far after a timing line its budget verdict is looked for.
const VERDICT_REACH: usize = 30;

/// A time budget missed by a command that got a small share of a CPU over its wall time
/// (`512 ms mean, User 121 ms + System 4 ms`): a CPU-bound benchmark or test that mostly
/// waited ran on a starved runner (a CPU quota, noisy neighbours), not slower code. Only
/// when the timing itself, or a verdict just after it, speaks of a budget or a baseline.
fn starved_runner(hits: &mut [Hit]) {
    let verdict = |h: &Hit| {
        h.rule == "budget_exceeded" || {
            let t = h.clean().to_ascii_lowercase();
            ["budget", "baseline", "deadline", "threshold", "slower than"]
                .iter()
                .any(|w| t.contains(w))
        }
    };
    let starved: Vec<usize> = (0..hits.len())
        .filter(|&i| hits[i].rule == "cpu_time_report")
        .filter(|&i| cpu_share(hits[i].clean()).is_some_and(|s| s < STARVED_SHARE))
        .filter(|&i| {
            let line = hits[i].line;
            hits[i..]
                .iter()
                .take_while(|h| h.line <= line + VERDICT_REACH)
                .any(verdict)
        })
        .collect();
    for i in starved {
        let h = &mut hits[i];
        h.role = Role::Cause;
        h.category = Some(Category::Infrastructure);
        h.weight = 8;
    }
}

/// A PostgreSQL client's error line says only that the server refused a statement; a rule
/// that reads its message (a permission denied, a statement timeout) says what kind of
/// refusal, and is the one kept, as strong as the client's own report.
fn specific_pg_readings(hits: &mut Vec<Hit>) {
    let reported: Vec<usize> = hits
        .iter()
        .filter(|h| h.rule == "pg_client_error")
        .map(|h| h.line)
        .collect();
    if reported.is_empty() {
        return;
    }
    let specific = |h: &Hit| {
        h.rule != "pg_client_error"
            && h.role == Role::Cause
            && h.category.is_some()
            && h.weight >= 5
            && reported.binary_search(&h.line).is_ok()
    };
    let mut read = Vec::new();
    for h in hits.iter_mut().filter(|h| specific(h)) {
        h.weight = h.weight.max(7);
        read.push(h.line);
    }
    hits.retain(|h| h.rule != "pg_client_error" || read.binary_search(&h.line).is_err());
}

/// `FAIL` lines that are not a harness naming a failed test: Python unittest's header
/// `FAIL: test_x (pkg.Class.test_x)` (the unittest rules name the test from the dotted path)
/// and pytest-cov's `FAIL Required test coverage of 90% not reached` are dropped; Jest's `FAIL
/// test/slug.test.js` and a home-made harness's `FAIL t/02-multi-currency` name a file, not a
/// test: they stay a test failure's summary.
fn other_fail_lines(hits: &mut Vec<Hit>) {
    for h in hits.iter_mut().filter(|h| h.rule == "fail_line") {
        let t = h.clean().trim_end();
        let rest = t
            .trim_start_matches("FAIL")
            .trim_start_matches(':')
            .trim_start();
        // Jest's has no colon; automake's `FAIL: tests/parse` names a test by its path.
        let file = !t.starts_with("FAIL:")
            && !rest.contains(' ')
            && (rest.contains('/') || rest.contains('.'));
        if file {
            h.role = Role::Summary;
            h.test = None;
        }
    }
    hits.retain(|h| {
        if h.rule != "fail_line" {
            return true;
        }
        let t = h.clean().trim_end();
        let rest = t
            .trim_start_matches("FAIL")
            .trim_start_matches(':')
            .trim_start();
        let unittest = t.strip_suffix(')').is_some_and(|r| {
            r.rsplit_once(" (")
                .is_some_and(|(_, path)| path.contains('.') && !path.contains(' '))
        });
        !(unittest || rest.starts_with("Required test coverage"))
    });
}

/// What needs every hit at once (and, for `go run`, the lines around them), after the per-line
/// pass.
fn finish(log: &LogIndex, hits: &mut Vec<Hit>) {
    // pytest's FAILURES section headers name the tests only when the short summary does not
    // (`-rs`, `-rN`): with `FAILED path::test` lines they would only repeat them, shorter.
    if hits.iter().any(|h| h.rule == "pytest_failed") {
        hits.retain(|h| h.rule != "pytest_section");
    }
    service_limits(hits);
    starved_runner(hits);
    specific_pg_readings(hits);
    other_fail_lines(hits);
    located_messages(log, hits);
    located_errors(hits);
    pip_subprocess_reason(hits);
    rustc_uncoded_errors(hits);
    workflow_diagnostics(hits);
    notebook_cell_exceptions(hits);
    environ_key_errors(hits);
    main_thread_panics(hits);
    go_panics(hits);
    traceback_endings(log, hits);
    // A Python exception's category depends on its type (a JVM program's uncaught one too).
    for h in hits.iter_mut() {
        if matches!(
            h.rule,
            "jvm_uncaught" | "dotnet_uncaught" | "node_error_code"
        ) {
            h.category = Some(
                h.name
                    .as_deref()
                    .and_then(python_exception_category)
                    .unwrap_or(Category::Other),
            );
        }
        if h.rule == "py_exception" {
            h.category = h.name.as_deref().and_then(python_exception_category);
            if h.name.as_deref() == Some("ImportError") && imports_from_the_project(h.clean()) {
                h.category = Some(Category::CompileError);
            }
            // An uncaught exception ending a traceback (column 0) crashed the program; one
            // indented inside a test report is detail.
            if !h.text.starts_with([' ', '\t']) {
                match h.category {
                    None => h.category = Some(Category::Other),
                    // A program that died of memory, a refused connection or a permission.
                    Some(
                        Category::TimeoutOrOom
                        | Category::NetworkOrFlaky
                        | Category::PermissionOrSecret,
                    ) => h.weight = 6,
                    // A template that does not render: the job's configuration, as strong as
                    // a CI file that does not parse.
                    Some(Category::GithubActionsConfig) => h.weight = 7,
                    Some(_) => {}
                }
            }
        }
    }
    for h in hits.iter_mut() {
        match h.rule {
            "cmake_error" => h.category = cmake_error_category(h),
            // Sphinx's report of an extension that does not import names the missing module.
            "sphinx_error" if h.clean().contains("No module named") => {
                h.category = Some(Category::DependencyInstall);
            }
            // A module path Node could not find inside `node_modules` is an installed
            // package's file: the install, not the project's sources.
            "js_file_missing" if h.clean().contains("/node_modules/") => {
                h.category = Some(Category::DependencyInstall);
            }
            _ => {}
        }
    }
    document_templates(log, hits);
    // A template variable named like a secret that the template engine found undefined
    // (`jinja2.exceptions.UndefinedError: 'stats_password' is undefined`) is the template's
    // input, as any other undefined variable: not a credential a tool was refused for.
    // Nor is a token a parser found at a place in a file (`books/main.beancount:24: Invalid
    // token: '“x”'`): a word of the file, not a credential.
    hits.retain(|h| {
        !(h.rule == "secret_missing"
            && (h.clean().contains("UndefinedError: ") || starts_with_location(h.clean())))
    });
    implicit_declarations_then_undefined(hits);
    data_errors_quote_their_data(hits);
    pytest_source_context(hits);
    sqlite_locks_in_tests(hits);
    rspec_exceptions(log, hits);
    make_keep_going_last_words(log, hits);
    pkgconfig_then_header(hits);
    go_run_last_words(log, hits);
    jsonnet_object_asserts(log, hits);
    solidity_errors(log, hits);
}

/// How far above a template's exception its traceback is read for the template.
const TEMPLATE_FRAMES: usize = 40;

/// A jinja2 template that does not render is the job's configuration (`haproxy.cfg.j2`, a
/// rules file, a playbook's), unless it renders a document: a page, a report, a letter
/// (`File "templates/statement.html.j2"`, docxtpl's Word templates). That is the program's
/// own input, not how the job is set up.
fn document_templates(log: &LogIndex, hits: &mut [Hit]) {
    const DOCUMENTS: &[&str] = &[
        ".html", ".htm", ".md", ".tex", ".rst", ".txt", ".xml", ".docx", ".odt", ".svg",
    ];
    for h in hits.iter_mut().filter(|h| {
        h.rule == "py_exception"
            && h.category == Some(Category::GithubActionsConfig)
            && h.clean().starts_with("jinja2.exceptions.")
    }) {
        let renders_document = (h.line.saturating_sub(TEMPLATE_FRAMES)..h.line).any(|i| {
            let t = log.plain_cow(i);
            let t = t.trim_start();
            t.contains("/docxtpl/")
                || t.strip_prefix("File \"").is_some_and(|rest| {
                    let file = rest.split('"').next().unwrap_or("");
                    let file = [".j2", ".jinja2", ".jinja"]
                        .iter()
                        .find_map(|e| file.strip_suffix(e))
                        .unwrap_or(file);
                    DOCUMENTS.iter().any(|d| file.ends_with(d))
                })
        });
        if renders_document {
            h.category = Some(Category::Other);
        }
    }
}

/// How many lines a traceback is read for the line that ends it (a recursion's thousands of
/// frames end in `RecursionError`, which the rule knows).
const TRACEBACK_LINES: usize = 2_000;

/// The line that ends a Python traceback names the exception whatever its name: a library's
/// own (`pyarrow.lib.ArrowInvalid: Failed to parse string`, `Http404`, `DoesNotExist`) as
/// surely as one that ends in `Error`. It is read from the traceback's shape (the first line
/// after its frames indented as its `Traceback` line is) when no rule knew its wording.
fn traceback_endings(log: &LogIndex, hits: &mut Vec<Hit>) {
    let frames: Vec<usize> = hits
        .iter()
        .filter(|h| h.rule == "py_traceback_loc")
        .map(|h| h.line)
        .collect();
    let mut found = Vec::new();
    // Each traceback is read once, from its first frame.
    let mut read_to = 0;
    for frame in frames {
        if frame < read_to {
            continue;
        }
        let frame_text = log.plain_cow(frame);
        let frame_body = strip_ci_timestamp(&frame_text);
        let indent = frame_body.len() - frame_body.trim_start().len();
        let Some(outer) = indent.checked_sub(2) else {
            continue;
        };
        let end = (frame + 1 + TRACEBACK_LINES).min(log.line_count());
        read_to = end;
        for line in frame + 1..end {
            let text = log.plain_cow(line);
            let body = strip_ci_timestamp(&text);
            let own = body.len() - body.trim_start().len();
            if own > outer || body.trim().is_empty() {
                continue;
            }
            read_to = line;
            // A message that goes on over indented lines (`Trap: error while executing` then
            // `Caused by:` and its reasons) is quoted better by the lines that end the output.
            let goes_on = || {
                (line + 1..end.min(line + 3)).any(|i| {
                    let t = log.plain_cow(i);
                    let b = strip_ci_timestamp(&t);
                    !b.trim().is_empty() && b.len() - b.trim_start().len() > own
                })
            };
            if own == outer
                && let Some(name) = exception_name(body.trim())
                && !goes_on()
                && !hits_on(hits, line)
                    .iter()
                    .any(|h| h.role == Role::Cause && h.weight >= 3)
            {
                let mut h = pass_hit(
                    log,
                    line,
                    body,
                    "py_exception",
                    Role::Cause,
                    Category::Other,
                    3,
                );
                h.category = None;
                h.name = Some(name.to_string());
                found.push(h);
            }
            break;
        }
    }
    if !found.is_empty() {
        hits.extend(found);
        hits.sort_by_key(|h| h.line);
    }
}

/// `pkg.mod.Name: message` or a bare `Name`: the exception's class name, capitalised as
/// Python's classes are.
fn exception_name(t: &str) -> Option<&str> {
    let head = t.split_once(": ").map_or(t, |(head, _)| head);
    let name = head.rsplit('.').next()?;
    let valid = |w: &str| {
        w.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (head.split('.').all(valid) && name.starts_with(|c: char| c.is_ascii_uppercase()))
        .then_some(name)
}

/// Whether a line starts with a place in a file: `path.ext:LINE:`.
fn starts_with_location(t: &str) -> bool {
    let mut parts = t.trim_start().splitn(3, ':');
    let (Some(path), Some(line), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !path.contains(' ')
        && path.rsplit_once('.').is_some_and(|(_, ext)| {
            !ext.is_empty() && ext.len() <= 12 && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
}

/// How far under a location-only line its message may start.
const MESSAGE_UNDER: usize = 2;

/// The message under a location-only line (`location_only`) is an error located in that file,
/// when no rule read it: the first line under it that says anything.
fn located_messages(log: &LogIndex, hits: &mut Vec<Hit>) {
    let mut found = Vec::new();
    for h in hits
        .iter()
        .filter(|h| h.rule == "location_only" && h.file.as_deref().is_some_and(is_code_file))
    {
        let end = (h.line + 1 + MESSAGE_UNDER).min(log.line_count());
        let Some(line) = (h.line + 1..end).find(|&i| !log.plain_cow(i).trim().is_empty()) else {
            continue;
        };
        if hits_on(hits, line)
            .iter()
            .any(|o| o.role == Role::Cause && o.weight >= 3 && o.category.is_some())
        {
            continue;
        }
        let text = log.plain_cow(line);
        let mut m = pass_hit(
            log,
            line,
            strip_ci_timestamp(&text),
            "located_error",
            Role::Cause,
            Category::CompileError,
            3,
        );
        m.file = h.file.clone();
        found.push(m);
    }
    if !found.is_empty() {
        hits.extend(found);
        hits.sort_by_key(|h| h.line);
    }
}

/// A located error (`located_error`) in a data, document or configuration file is not code
/// that does not compile: a validator's, a linter's or a loader's finding, whose category the
/// tool decides. It stays a cause, without one.
fn located_errors(hits: &mut [Hit]) {
    for h in hits.iter_mut().filter(|h| h.rule == "located_error") {
        if !h.file.as_deref().is_some_and(is_code_file) {
            h.category = None;
        }
    }
}

/// Whether a file is code (or a schema, a grammar, a proof) by its extension, rather than
/// data, a document, configuration or a test's expected output.
fn is_code_file(file: &str) -> bool {
    #[rustfmt::skip]
    const NOT_CODE: &[&str] = &[
        "yml", "yaml", "json", "toml", "ini", "cfg", "conf", "txt", "md", "rst", "csv", "tsv",
        "xml", "html", "htm", "log", "properties", "env", "lock", "expected", "out", "output",
        "snap", "golden", "diff", "patch",
    ];
    file.rsplit_once('.')
        .is_some_and(|(_, e)| !NOT_CODE.iter().any(|n| e.eq_ignore_ascii_case(n)))
}

/// solc's errors (`ParserError: Expected ';' but got '}'`, `TypeError: Wrong argument count
/// ...`) are known by the location line under them (`--> contracts/Escrow.sol:13:5:`), not by
/// their names, which JavaScript's own errors share: the line above each location is a compile
/// error, or a missing dependency when it is an import solc cannot find.
fn solidity_errors(log: &LogIndex, hits: &mut Vec<Hit>) {
    let lines: Vec<usize> = hits
        .iter()
        .filter(|h| {
            h.rule == "rust_loc"
                && h.line > 0
                && h.file.as_deref().is_some_and(|f| f.ends_with(".sol"))
        })
        .map(|h| h.line - 1)
        .take(SOLC_ERRORS_MAX)
        .collect();
    if lines.is_empty() {
        return;
    }
    let mut found = Vec::new();
    for line in lines {
        let plain = log.plain_cow(line);
        let body = strip_ci_timestamp(&plain).trim_end();
        let Some((name, message)) = body.split_once(": ") else {
            continue;
        };
        if !name.ends_with("Error") || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let category = if name == "ParserError"
            && message.starts_with("Source \"")
            && message.contains("not found")
        {
            Category::DependencyInstall
        } else {
            Category::CompileError
        };
        found.push(pass_hit(
            log,
            line,
            body,
            "solc_error",
            Role::Cause,
            category,
            8,
        ));
    }
    if found.is_empty() {
        return;
    }
    // The lines' other readings as a cause (a JavaScript `TypeError`) give way; one pass.
    let replaced: std::collections::HashSet<usize> = found.iter().map(|h| h.line).collect();
    hits.retain(|h| !(h.role == Role::Cause && replaced.contains(&h.line)));
    hits.extend(found);
    hits.sort_by_key(|h| h.line);
}

/// At most this many solc errors are read (a hostile log's thousands of locations stay cheap).
const SOLC_ERRORS_MAX: usize = 200;

/// How far below jsonnet's `RUNTIME ERROR:` its stack trace is read for an object's assert.
const JSONNET_TRACE_SCAN: usize = 4;

/// A jsonnet runtime error raised by an object's `assert` (its trace's first frames read
/// `thunk <object_assert>`): the library's author checks the values a configuration gives
/// (`replicas must be odd for quorum, got 4`), so the configuration broke the rule, not the code.
fn jsonnet_object_asserts(log: &LogIndex, hits: &mut [Hit]) {
    for h in hits.iter_mut().filter(|h| h.rule == "jsonnet_runtime") {
        let last = (h.line + JSONNET_TRACE_SCAN).min(log.line_count().saturating_sub(1));
        if (h.line + 1..=last).any(|i| log.plain_cow(i).contains("thunk <object_assert>")) {
            h.category = Some(Category::GithubActionsConfig);
            h.weight = 7;
        }
    }
}

/// What a `CMake Error` is about, by the command it names: a target the build defines (the
/// build's own code), a package it looks for (a dependency), none (`CMake Error: No such
/// preset`, the invocation or the cache: the job's configuration). A `message()` says only
/// what the project chose to print.
fn cmake_error_category(h: &Hit) -> Option<Category> {
    match h.name.as_deref() {
        None => Some(Category::GithubActionsConfig),
        Some(
            "find_package" | "find_library" | "find_path" | "find_program" | "pkg_check_modules"
            | "pkg_search_module",
        ) => Some(Category::DependencyInstall),
        Some(n)
            if n.starts_with("target_")
                || matches!(
                    n,
                    "add_library" | "add_executable" | "set_target_properties" | "add_subdirectory"
                ) =>
        {
            Some(Category::CompileError)
        }
        Some(_) => None,
    }
}

/// A compiled extension that does not load for an undefined symbol (`undefined symbol:
/// crc32c_update`) that the compiler had only warned about (`implicit declaration of function
/// ‘crc32c_update’`): the warning, in the build step the job went past, is the cause.
fn implicit_declarations_then_undefined(hits: &mut [Hit]) {
    // The symbols as gcc quotes them (typographic quotes, or ASCII in the C locale); a few
    // distinct ones are plenty, and keep a hostile log's pairs bounded.
    let mut quoted: Vec<String> = hits
        .iter()
        .filter(|h| h.rule == "extension_undefined_symbol")
        .filter_map(|h| h.name.as_deref())
        .flat_map(|n| [format!("\u{2018}{n}\u{2019}"), format!("'{n}'")])
        .collect();
    quoted.sort_unstable();
    quoted.dedup();
    quoted.truncate(32);
    if quoted.is_empty() {
        return;
    }
    for h in hits.iter_mut() {
        if h.rule == "implicit_declaration" && quoted.iter().any(|q| h.clean().contains(q.as_str()))
        {
            h.weight = 8;
        }
    }
}

/// RSpec prints a failure's exception below its `Failure/Error:` line, indented: the class
/// (`Psych::DisallowedClass:`) and its message on the next line. Both become details.
fn rspec_exceptions(log: &LogIndex, hits: &mut Vec<Hit>) {
    let mut found = Vec::new();
    for h in hits.iter().filter(|h| h.rule == "expect_detail") {
        if !h.text.contains("Failure/Error:") {
            continue;
        }
        let mut seen = 0;
        for j in h.line + 1..(h.line + 6).min(log.line_count()) {
            let plain = log.plain_cow(j);
            let body = strip_ci_timestamp(&plain);
            let t = body.trim();
            if t.is_empty() {
                continue;
            }
            seen += 1;
            let class = t.strip_suffix(':').is_some_and(|c| {
                c.starts_with(|ch: char| ch.is_ascii_uppercase())
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'_')
            });
            if class && body.starts_with(' ') {
                found.push(j);
                if j + 1 < log.line_count() {
                    found.push(j + 1);
                }
                break;
            }
            if seen >= 3 {
                break;
            }
        }
    }
    if found.is_empty() {
        return;
    }
    found.sort_unstable();
    found.dedup();
    for j in found {
        let plain = log.plain_cow(j);
        let body = strip_ci_timestamp(&plain);
        if body.trim().is_empty() {
            continue;
        }
        hits.push(pass_hit(
            log,
            j,
            body,
            "rspec_exception",
            Role::Detail,
            Category::TestAssertion,
            5,
        ));
    }
    hits.sort_by_key(|h| h.line);
}

/// `make -k` (or a parallel make) goes on past a failed recipe, and later targets fail for
/// what it did not make: the first failed recipe's program said why on the line before make's
/// `*** [target] Error N`, a cause even when no rule knows its wording (`data/codes.tsv line
/// 4: expected 3 tab-separated fields, got 1`).
fn make_keep_going_last_words(log: &LogIndex, hits: &mut Vec<Hit>) {
    let Some(first) = hits.iter().position(|h| {
        h.rule == "exit_code" && {
            let t = h.clean();
            t.starts_with("make") && t.contains(": *** [") && t.contains("] Error ")
        }
    }) else {
        return;
    };
    let make_line = hits[first].line;
    // Only when make went on: a later error before the next step.
    let went_on = hits[first + 1..]
        .iter()
        .take_while(|h| h.role != Role::Step)
        .any(|h| matches!(h.role, Role::Cause | Role::Test | Role::Summary) && h.weight >= 4);
    if !went_on || make_line == 0 {
        return;
    }
    // A recipe's own echo (`cc -o x x.c`) carries no message; a program's error does.
    let Some(words) = last_words(log, hits, make_line)
        .filter(|w| w.text.contains(": ") && !w.text.starts_with("make"))
    else {
        return;
    };
    hits.push(words);
    hits.sort_by_key(|h| h.line);
}

/// pytest's long tracebacks print each frame's source, indented (`    except httpcore.
/// ReadTimeout:`, a comment naming `ConnectTimeout`): code, not what happened. Inside a
/// `=== FAILURES ===` or `=== ERRORS ===` section, up to its summary or the next step, an
/// indented line is no cause; the `E   ` lines (column 0) and `path:line: Error` lines are.
fn pytest_source_context(hits: &mut Vec<Hit>) {
    // `retain` visits the hits in order: the section is tracked as it goes.
    let mut inside = false;
    hits.retain(|h| {
        if h.rule == "pytest_summary" {
            let t = h.clean();
            inside = t.contains("= FAILURES =") || t.contains("= ERRORS =");
        } else if h.role == Role::Step {
            inside = false;
        }
        let source = inside && h.text.starts_with("    ");
        !(h.role == Role::Cause && (source || is_assert_introspection(&h.text)))
    });
}

/// pytest's assertion rewriting explains the values it compared (`E    +  where 401 =
/// <Response [401 Unauthorized]>.status_code`, repeated under the short summary): a status or
/// an error named there is what the test got, not what failed the job.
fn is_assert_introspection(text: &str) -> bool {
    let t = text.strip_prefix('E').unwrap_or(text).trim_start();
    t.starts_with("+  where ") || t.starts_with("+    where ") || t.starts_with("+  and ")
}

/// SQLite's `database is locked` reported by pytest as a test's error (`E   sqlite3.
/// OperationalError: database is locked`, `FAILED t.py::test - ...`): a test's database is its
/// own file, so the other connection holding the lock is the code's own (a second connection
/// inside an open write transaction), not another job. Left to the test's report.
fn sqlite_locks_in_tests(hits: &mut Vec<Hit>) {
    let reported: std::collections::HashSet<usize> = hits
        .iter()
        .filter(|h| matches!(h.rule, "pytest_e_line" | "pytest_failed"))
        .map(|h| h.line)
        .collect();
    hits.retain(|h| {
        !(h.rule == "lock_held"
            && reported.contains(&h.line)
            && (h.text.contains("database is locked") || h.text.contains("SQLITE_BUSY")))
    });
}

/// A value error's message quotes the data it rejected (`ValueError: errors.def:5: ... got
/// 'ERR_QUOTA 429 quota exceeded'`): words there about quotas, timeouts or connections are
/// the data's, not the program's failure. Hits are in line order.
fn data_errors_quote_their_data(hits: &mut Vec<Hit>) {
    const DATA_ERRORS: [&str; 12] = [
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "AttributeError",
        "NameError",
        "LookupError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "JSONDecodeError",
        "IllegalArgumentException",
        "NumberFormatException",
    ];
    let lines: Vec<usize> = hits
        .iter()
        .filter(|h| matches!(h.rule, "py_exception" | "jvm_uncaught"))
        .filter(|h| h.name.as_deref().is_some_and(|n| DATA_ERRORS.contains(&n)))
        .map(|h| h.line)
        .collect();
    if lines.is_empty() {
        return;
    }
    hits.retain(|h| {
        let outside = matches!(
            h.category,
            Some(Category::Infrastructure | Category::NetworkOrFlaky | Category::TimeoutOrOom)
        );
        !(outside && h.role == Role::Cause && lines.binary_search(&h.line).is_ok())
    });
}

/// pkg-config's "not found" for a library, then (in the same step) the compiler missing a
/// header: the library is not installed, and the compile error is its consequence (a
/// Makefile's `$(shell pkg-config ...)` fails without stopping make).
fn pkgconfig_then_header(hits: &mut [Hit]) {
    let mut pending: Vec<usize> = Vec::new();
    for i in 0..hits.len() {
        match hits[i].role {
            Role::Step => pending.clear(),
            _ if hits[i].rule == "pkgconfig_missing" => pending.push(i),
            _ if !pending.is_empty() && hits[i].rule == "cc_error" => {
                let t = hits[i].clean();
                if t.contains("fatal error: ") && t.contains(": No such file or directory") {
                    for &j in &pending {
                        hits[j].weight = 8;
                    }
                    pending.clear();
                }
            }
            _ => {}
        }
    }
}

/// A named diagnostic (`error[dangerous-triggers]:`) whose ` --> ` location is a CI workflow
/// file is about the CI configuration.
fn workflow_diagnostics(hits: &mut [Hit]) {
    for i in 0..hits.len() {
        if hits[i].rule != "named_diagnostic" {
            continue;
        }
        let line = hits[i].line;
        let ci_file = hits[i + 1..]
            .iter()
            .take_while(|h| h.line <= line + 2)
            .filter(|h| h.rule == "rust_loc")
            .filter_map(|h| h.file.as_deref())
            .any(|f| f.contains(".github/workflows/") || f.ends_with(".gitlab-ci.yml"));
        if ci_file {
            hits[i].category = Some(Category::GithubActionsConfig);
            hits[i].weight = 7;
        }
    }
}

/// A notebook cell's exception (`ZeroDivisionError: division by zero` after nbclient's
/// `CellExecutionError`) is the notebook's failure: as strong as an uncaught one, whatever the
/// traceback frames around it.
fn notebook_cell_exceptions(hits: &mut [Hit]) {
    let mut open: Option<usize> = None;
    for h in hits.iter_mut() {
        if h.rule == "notebook_cell_error" {
            open = Some(h.line);
            continue;
        }
        if let Some(at) = open
            && h.rule == "py_exception"
            && h.line > at
            && h.line <= at + 80
            && !h.text.starts_with([' ', '\t'])
            && h.clean().contains(": ")
        {
            h.weight = h.weight.max(7);
            h.category.get_or_insert(Category::Other);
            open = None;
        }
    }
}

/// rustc's errors without a code (`error: let chains are only allowed in Rust 2024`, a
/// `compile_error!`, a feature gate) are known by the ` --> file:line:col` on the next line:
/// the generic `error:` hit becomes the compiler's cause, or clippy's under `cargo clippy`.
fn rustc_uncoded_errors(hits: &mut [Hit]) {
    let mut step_is_clippy = false;
    for i in 0..hits.len() {
        if hits[i].role == Role::Step {
            step_is_clippy = hits[i].text.contains("clippy");
            continue;
        }
        if hits[i].rule != "generic_error" {
            continue;
        }
        let line = hits[i].line;
        let t = hits[i].clean();
        if !t.starts_with("error: ") || t.starts_with("error: could not compile") {
            continue;
        }
        let located = hits[i + 1..]
            .iter()
            .take_while(|h| h.line <= line + 1)
            .any(|h| h.line == line + 1 && h.rule == "rust_loc");
        // Another rule that knows the line (rustdoc's lints) keeps it. Hits are in line order:
        // only this line's neighbours are read.
        let mut same_line = hits[..i]
            .iter()
            .rev()
            .take_while(|h| h.line == line)
            .chain(hits[i + 1..].iter().take_while(|h| h.line == line));
        let known = same_line.any(|h| h.rule != "generic_error" && h.category.is_some());
        if !located || known {
            continue;
        }
        // clippy's lints carry a `clippy::` note a few lines on, with or without the step echo.
        let clippy_note = hits[i + 1..]
            .iter()
            .take_while(|h| h.line <= line + 12)
            .any(|h| h.rule == "clippy");
        let h = &mut hits[i];
        if step_is_clippy || clippy_note {
            h.rule = "clippy";
            h.category = Some(Category::LintFailure);
            h.weight = 7;
        } else {
            h.rule = "rustc_error";
            h.category = Some(Category::CompileError);
            h.weight = 8;
        }
    }
}

/// pip prints a failed build subprocess's output indented inside a frame, then its own
/// generic verdict (`error: metadata-generation-failed`). The last exception or `error:` line
/// inside the frame says why (a missing system library or tool, a bad `setup.py`): it becomes
/// a dependency-install cause stronger than pip's verdict. Exceptions keep their own rules
/// when those are stronger (a full disk stays infrastructure).
fn pip_subprocess_reason(hits: &mut [Hit]) {
    // The checkouts pip processed (`Processing /builds/g/seatcalc`), read once: a hostile log's
    // thousands of frames each compare against these few.
    let mut local: Vec<String> = Vec::new();
    for h in hits.iter().filter(|h| h.rule == "pip_local_project") {
        if let Some(dir) = h
            .name
            .as_deref()
            .and_then(|p| p.trim_end_matches('/').rsplit('/').next())
            .map(package_name)
            && !local.contains(&dir)
            && local.len() < LOCAL_PROJECTS
        {
            local.push(dir);
        }
    }
    let mut open: Option<usize> = None;
    for i in 0..hits.len() {
        if hits[i].rule != "pip_output_frame" {
            continue;
        }
        if !hits[i].text.contains("[end of output]") {
            open = Some(hits[i].line);
            continue;
        }
        let Some(start) = open.take() else { continue };
        let end = hits[i].line;
        let reason = (0..i)
            .rev()
            .take_while(|&j| hits[j].line > start)
            .find(|&j| {
                hits[j].line < end && matches!(hits[j].rule, "py_exception" | "generic_error")
            });
        if let Some(j) = reason {
            let strongest_other = hits
                .iter()
                .filter(|h| h.line == hits[j].line && h.category.is_some())
                .map(|h| h.weight)
                .max()
                .unwrap_or(0);
            if strongest_other < 8 {
                // The project's own package (pip was processing the job's checkout) whose C
                // code the compiler rejected: the code does not compile, nothing is missing.
                let own_code = builds_own_project(hits, i, &local)
                    .then(|| {
                        (0..i)
                            .rev()
                            .take_while(|&k| hits[k].line > start)
                            .find(|&k| {
                                hits[k].rule == "cc_error"
                                    && !hits[k].text.contains("No such file or directory")
                            })
                    })
                    .flatten();
                if let Some(k) = own_code {
                    hits[k].weight = 8;
                }
                let h = &mut hits[j];
                h.rule = "pip_subprocess_reason";
                h.role = Role::Cause;
                h.category = Some(if own_code.is_some() {
                    Category::CompileError
                } else {
                    Category::DependencyInstall
                });
                h.weight = 8;
            }
        }
    }
}

/// How many distinct checkouts pip processed are remembered.
const LOCAL_PROJECTS: usize = 16;

/// A distribution's or directory's name as pip compares them (`Fast-Geo` and `fast_geo`).
fn package_name(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(['-', '.'], "_")
}

/// Whether the wheel whose build output ends at `hits[end]` is the job's own project: pip
/// said it was processing the checkout (`Processing /builds/g/seatcalc`, in `local`) and the
/// wheel that failed has that directory's name (`Failed building wheel for seatcalc`).
fn builds_own_project(hits: &[Hit], end: usize, local: &[String]) -> bool {
    !local.is_empty()
        && hits[end..]
            .iter()
            .take(8)
            .find_map(|h| h.text.as_str().split("Failed building wheel for ").nth(1))
            .is_some_and(|n| local.contains(&package_name(n)))
}

/// Ruby's `ENV.fetch` of an upper-case key, and `KeyError: 'NAME'` raised by `os.environ[...]` (the frame before it is `os`'s
/// `__getitem__`): the job does not define a variable the program needs. A credential's name
/// makes it a secret the job lacks (protected variables are not given to every branch).
fn environ_key_errors(hits: &mut [Hit]) {
    for h in hits.iter_mut().filter(|h| h.rule == "ruby_env_key") {
        if names_a_secret(&h.text) {
            h.category = Some(Category::PermissionOrSecret);
        }
    }
    for i in 1..hits.len() {
        if hits[i].rule != "py_exception" || hits[i].name.as_deref() != Some("KeyError") {
            continue;
        }
        let line = hits[i].line;
        let after_environ = hits[..i]
            .iter()
            .rev()
            .take_while(|h| h.line + 3 >= line)
            .any(|h| h.rule == "py_environ_frame");
        if !after_environ {
            continue;
        }
        let secret = names_a_secret(&hits[i].text);
        let h = &mut hits[i];
        h.rule = "env_key_error";
        h.role = Role::Cause;
        h.weight = 7;
        h.category = Some(if secret {
            Category::PermissionOrSecret
        } else {
            Category::GithubActionsConfig
        });
    }
}

/// Whether a missing key's line names a credential (`API_TOKEN`, `DB_PASSWORD`).
fn names_a_secret(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// A panic of thread `main` is a program's crash (a binary, a build script), not a failed
/// test, unless a test harness ran (doc tests run in `main` too): no test name, category
/// "other".
fn main_thread_panics(hits: &mut [Hit]) {
    let harness = hits.iter().any(|h| {
        matches!(
            h.rule,
            "cargo_test_failed" | "cargo_test_result" | "nextest_fail" | "doctest"
        )
    });
    if harness {
        return;
    }
    for h in hits.iter_mut() {
        if h.rule == "rust_panic" && h.test.as_deref() == Some("main") {
            h.category = Some(Category::Other);
            h.test = None;
        }
    }
}

/// A Go panic is a test's failure under `go test` and a program's crash otherwise; a test
/// binary's own timeout panic is `go_test_timeout`'s.
fn go_panics(hits: &mut Vec<Hit>) {
    hits.retain(|h| !(h.rule == "go_panic" && h.text.starts_with("panic: test timed out")));
    let harness = hits
        .iter()
        .any(|h| matches!(h.rule, "go_test_fail" | "go_pkg_fail" | "go_test_timeout"));
    if !harness {
        for h in hits.iter_mut().filter(|h| h.rule == "go_panic") {
            h.category = Some(Category::Other);
        }
    }
}

/// Category hinted by a task, hook or command name (`:app:compileJava`, `checkFormatMain`,
/// `mypy`, `test`).
pub fn category_from_name(name: &str) -> Option<Category> {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&[
        "mypy",
        "pyright",
        "tsc",
        "typecheck",
        "type-check",
        "typing",
        "types",
    ]) {
        Some(Category::TypeError)
    } else if has(&[
        "lint",
        "format",
        "fmt",
        "style",
        "spotless",
        "checkstyle",
        "detekt",
        "ktlint",
        "pmd",
        "spotbugs",
        "prettier",
        "eslint",
        "ruff",
        "flake8",
        "black",
        "isort",
        "clippy",
        "health",
        "apicheck",
        "api-check",
        "codenarc",
    ]) {
        Some(Category::LintFailure)
    } else if has(&["test", "spec", "check"]) {
        Some(Category::TestAssertion)
    } else if has(&["compile", "kapt", "ksp"]) {
        Some(Category::CompileError)
    } else if has(&["docker", "jib", "image"]) {
        Some(Category::DockerBuild)
    } else if has(&["dependencies", "resolve", "install"]) {
        Some(Category::DependencyInstall)
    } else {
        None
    }
}

/// `ImportError: cannot import name 'x' from 'pkg.mod' (path)` where the module is the
/// project's own (its file is in the checkout, or installed from a directory named like the
/// package): a name the code removed or renamed, not a missing dependency. A dependency's
/// (`from 'markupsafe' (.../site-packages/markupsafe/__init__.py)`) stays one.
fn imports_from_the_project(text: &str) -> bool {
    let Some(rest) = text.split("cannot import name ").nth(1) else {
        return false;
    };
    let Some(module) = rest
        .split(" from '")
        .nth(1)
        .and_then(|r| r.split('\'').next())
    else {
        return false;
    };
    let Some(path) = rest
        .rsplit_once(" (")
        .map(|(_, p)| p.trim_end().trim_end_matches(')'))
    else {
        return false;
    };
    let top = module.split('.').next().unwrap_or(module);
    if top.is_empty() || !path.starts_with('/') {
        return false;
    }
    match path
        .find("/site-packages/")
        .or_else(|| path.find("/dist-packages/"))
    {
        Some(at) => path[..at].contains(&format!("/{top}/")),
        None => !path.contains("/lib/python"),
    }
}

fn python_exception_category(name: &str) -> Option<Category> {
    match name {
        "AssertionError"
        | "ComparisonFailure"
        | "AssertionFailedError"
        | "MultipleFailuresError" => Some(Category::TestAssertion),
        // jinja2's: a configuration template that does not render.
        "TemplateSyntaxError"
        | "UndefinedError"
        | "TemplateNotFound"
        | "TemplateAssertionError" => Some(Category::GithubActionsConfig),
        // A TOML configuration file that does not parse (`Cannot declare ('database',) twice`).
        "TOMLDecodeError" => Some(Category::GithubActionsConfig),
        "SyntaxError" | "IndentationError" | "TabError" | "CompileError" => {
            Some(Category::CompileError)
        }
        "ModuleNotFoundError" | "ImportError" => Some(Category::DependencyInstall),
        "PermissionError" => Some(Category::PermissionOrSecret),
        "TimeoutError" => Some(Category::TimeoutOrOom),
        // numpy's `_ArrayMemoryError` and the like subclass MemoryError.
        n if n.ends_with("MemoryError") => Some(Category::TimeoutOrOom),
        "ConnectionError" | "ConnectionResetError" | "ConnectionRefusedError" => {
            Some(Category::NetworkOrFlaky)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn hits(log: &str) -> Vec<Hit> {
        extract(&LogIndex::parse(Arc::new(log.as_bytes().to_vec()))).hits
    }

    fn ids(log: &str) -> Vec<&'static str> {
        hits(log).into_iter().map(|h| h.rule).collect()
    }

    #[test]
    fn every_rule_compiles() {
        assert_eq!(COMPILED.len(), RULES.len());
        for i in 0..RULES.len() {
            compiled(i);
        }
        for kind in [Sets::One, Sets::Split] {
            let mut rules: Vec<usize> = kind.get().iter().flat_map(|s| s.rules.clone()).collect();
            rules.sort_unstable();
            assert_eq!(rules, (0..RULES.len()).collect::<Vec<_>>(), "{kind:?}");
            for s in kind.get() {
                assert_eq!(s.re.pattern_len(), s.rules.len());
            }
        }
        // Literal first: every rule is either open or has alternatives, each needed by one of
        // its literals, and each compiles on its own.
        let lf = literal_first(Automaton::Nfa);
        let mut rules: Vec<usize> = lf.open.rules.clone();
        rules.extend(lf.needed_by.iter().flatten().map(|&b| lf.branches[b].rule));
        for b in &lf.branches {
            b.is_match(b"");
        }
        rules.sort_unstable();
        rules.dedup();
        assert_eq!(rules, (0..RULES.len()).collect::<Vec<_>>());
        assert_eq!(lf.open.re.pattern_len(), lf.open.rules.len());
        let mut seen = std::collections::HashSet::new();
        assert!(RULES.iter().all(|r| seen.insert(r.id)), "duplicate rule id");
    }

    #[test]
    fn strips_github_timestamps_only_when_shaped() {
        assert_eq!(
            strip_ci_timestamp("\u{feff}2026-04-23T04:08:22.8180462Z hello"),
            "hello"
        );
        assert_eq!(strip_ci_timestamp("2026-04-23T04:08:22Z x"), "x");
        assert_eq!(strip_ci_timestamp("2026-04-23 not"), "2026-04-23 not");
        assert_eq!(strip_ci_timestamp("plain"), "plain");
    }

    #[test]
    fn rustc_and_cargo() {
        let h = hits(
            "error[E0308]: mismatched types\n --> src/main.rs:5:5\ntest tests::it_works ... FAILED\ntest result: FAILED. 1 passed; 1 failed\n",
        );
        assert_eq!(h[0].rule, "rustc_error");
        assert_eq!(h[0].category, Some(Category::CompileError));
        let loc = h.iter().find(|h| h.rule == "rust_loc").unwrap();
        assert_eq!(loc.file.as_deref(), Some("src/main.rs"));
        let t = h.iter().find(|h| h.rule == "cargo_test_failed").unwrap();
        assert_eq!(t.test.as_deref(), Some("tests::it_works"));
        assert!(
            ids("        FAIL [   9.875s] (396/396) tests-build::macros compile_fail_full")
                .contains(&"nextest_fail")
        );
    }

    #[test]
    fn pytest_lines() {
        let h = hits(
            "FAILED tests/test_a.py::TestX::test_y[1] - AssertionError: boom\n= 1 failed, 3 passed in 0.5s =\n",
        );
        assert_eq!(
            h[0].test.as_deref(),
            Some("tests/test_a.py::TestX::test_y[1]")
        );
        assert!(h.iter().any(|h| h.rule == "pytest_summary"));
    }

    #[test]
    fn exit_codes() {
        let h = hits(
            "##[error]Process completed with exit code 127.\nERROR: Job failed: exit code 2\n",
        );
        let codes: Vec<i32> = h.iter().filter_map(|h| h.exit_code).collect();
        assert_eq!(codes, [127, 2]);
    }

    #[test]
    fn names_pick_categories() {
        assert_eq!(
            category_from_name(":module:spring-boot-actuator:checkFormatMain"),
            Some(Category::LintFailure)
        );
        assert_eq!(
            category_from_name(":core:test"),
            Some(Category::TestAssertion)
        );
        assert_eq!(
            category_from_name(":app:compileJava"),
            Some(Category::CompileError)
        );
        assert_eq!(
            category_from_name("mypy (stubtest)"),
            Some(Category::TypeError)
        );
        let h = hits("> Task :platform-base:projectHealth FAILED\n");
        assert_eq!(h[0].category, Some(Category::LintFailure));
    }
}
