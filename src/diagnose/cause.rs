//! Cause-first reasoning over extracted error lines: which tool the failing command is, which
//! errors are follow-ons of an earlier one (a cascade), and which earlier error started it.
//!
//! A failed job often prints its real cause early and a louder symptom late: `protoc` is
//! missing, so the generated package is never written, so `go build` reports `undefined:
//! billingpb.Invoice`; a package install fails on the network and is tolerated, so the tests
//! fail on `ModuleNotFoundError`. The symptom is what the failing command printed; the cause is
//! the earliest error that explains it.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::boilerplate::is_runner_boilerplate;
use super::extract::{self, Extraction, Hit, Role};
use super::log::LogIndex;
use super::model::Category;

/// Where a command's program is among its words: past the wrappers that run the next word as
/// the tool (`npx`, `poetry run`, `python -m`, `sudo`, `env` and its assignments) and their
/// flags.
pub fn program_index(words: &[&str]) -> usize {
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "npx" | "pnpx" | "bunx" | "poetry" | "uv" | "pipx" | "pdm" | "hatch" | "bundle"
            | "exec" | "time" | "sudo" | "env" | "command" | "pipenv" => i += 1,
            "run" if i > 0 => i += 1,
            "python" | "python3" | "py" if words.get(i + 1) == Some(&"-m") => i += 2,
            w if w.starts_with('-') && i > 0 => i += 1,
            // `env A=1 cmd`: the assignments `env` takes.
            w if w.contains('=') && i > 0 => i += 1,
            _ => break,
        }
    }
    i
}

/// The category of the tool a step runs (`$ cargo clippy -- -D warnings`, `##[group]Run npm
/// ci`): the first program word after wrappers (`npx`, `python -m`, `poetry run`, env
/// assignments). `None` for scripts and tools that can fail in many ways.
pub fn tool_category(cmd: &str) -> Option<Category> {
    let words: Vec<&str> = cmd
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .collect();
    // Package managers that are also wrappers (`bundle exec rspec`, `poetry run pytest`):
    // their own install commands first.
    if let [tool, sub, ..] = words.as_slice()
        && matches!(
            *tool,
            "bundle" | "poetry" | "uv" | "pipenv" | "pdm" | "hatch" | "composer"
        )
        && matches!(
            *sub,
            "install" | "sync" | "lock" | "update" | "add" | "require" | "check"
        )
    {
        return Some(Category::DependencyInstall);
    }
    let i = program_index(&words);
    let w = |k: usize| words.get(i + k).copied().unwrap_or("");
    let base = w(0).rsplit('/').next().unwrap_or("");
    let sub = w(1);
    let check = words.iter().any(|a| {
        matches!(
            *a,
            "--check" | "--check-formatted" | "--dry-run" | "--diff" | "-check" | "--verify"
        )
    });
    use Category as C;
    let c = match (base, sub) {
        ("cargo", "test" | "nextest") | ("go", "test") | ("npm" | "yarn" | "pnpm", "test") => {
            C::TestAssertion
        }
        ("cargo", "clippy") | ("go", "vet") => C::LintFailure,
        ("cargo", "fmt") | ("ruff" | "dotnet" | "dart" | "biome", "format") => C::FormattingFailure,
        ("mix", "format") | ("terraform" | "tofu" | "deno", "fmt") => C::FormattingFailure,
        ("cargo", "build" | "check" | "rustc") | ("go", "build" | "install") => C::CompileError,
        ("mix", "compile") | ("rebar3", "compile" | "escriptize" | "release") => C::CompileError,
        ("dotnet" | "swift" | "stack" | "cabal" | "zig", "build") | ("sbt", "compile") => {
            C::CompileError
        }
        ("php", "-l") => C::CompileError,
        ("dune", "build") | ("meson", "compile") => C::CompileError,
        ("dune", "test" | "runtest") | ("meson", "test") => C::TestAssertion,
        ("dune", "fmt") => C::FormattingFailure,
        ("opam", "install") | ("cpanm", _) => C::DependencyInstall,
        ("cargo", "fetch") | ("go", "mod") | ("pip" | "pip3", "install" | "download") => {
            C::DependencyInstall
        }
        ("npm" | "pnpm", "ci" | "install" | "i") | ("yarn", "install" | "") => C::DependencyInstall,
        ("mix", "deps.get" | "deps.compile") | ("rebar3", "get-deps" | "upgrade") => {
            C::DependencyInstall
        }
        ("gem" | "luarocks" | "conda" | "mamba", "install") | ("dotnet", "restore") => {
            C::DependencyInstall
        }
        ("docker" | "podman" | "buildah", "build" | "buildx") => C::DockerBuild,
        ("node", "--test") => C::TestAssertion,
        // A file compared with the copy a formatter wrote of it (`diff -u main.beancount
        // /tmp/formatted.beancount`): the file is not formatted.
        ("diff", _)
            if words[i + 1..]
                .iter()
                .any(|a| a.to_ascii_lowercase().contains("formatted")) =>
        {
            C::FormattingFailure
        }
        // A render or a computation compared with the copy a test keeps of it (`diff -u
        // golden/prod.json rendered/prod.json`, `diff fixtures/x.expected out.txt`): a test.
        // (Not any baseline: an ABI's symbol list against `abi/expected.txt` is a change of the
        // library's interface.)
        ("diff", _)
            if words[i + 1..].iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a.contains("golden")
                    || a.contains("snapshot")
                    || a.ends_with(".expected")
                    || a.contains("expected_output")
                    || a.contains("expected-output")
            }) =>
        {
            C::TestAssertion
        }
        ("mix", "test") | ("rebar3", "eunit" | "ct" | "proper") | ("rake", "test" | "spec") => {
            C::TestAssertion
        }
        (
            "dotnet" | "swift" | "deno" | "bun" | "dart" | "flutter" | "sbt" | "stack" | "cabal"
            | "zig",
            "test",
        ) => C::TestAssertion,
        ("mix", "credo" | "dialyzer")
        | ("deno" | "dart", "lint" | "analyze")
        | ("buf", "lint" | "breaking" | "format") => C::LintFailure,
        (
            "pytest" | "py.test" | "tox" | "nox" | "jest" | "vitest" | "mocha" | "rspec"
            | "phpunit" | "unittest" | "ctest" | "busted" | "pest" | "ava" | "karma" | "prove"
            | "bats",
            _,
        ) => C::TestAssertion,
        ("mypy" | "pyright" | "tsc" | "vue-tsc" | "stubtest", _) => C::TypeError,
        (
            "prettier" | "black" | "isort" | "rustfmt" | "gofmt" | "clang-format" | "shfmt"
            | "stylua" | "ktfmt" | "google-java-format" | "yapf" | "autopep8" | "swift-format",
            _,
        ) => C::FormattingFailure,
        ("php-cs-fixer", _) if check => C::FormattingFailure,
        (
            "eslint" | "ruff" | "flake8" | "pylint" | "golangci-lint" | "staticcheck"
            | "shellcheck" | "hadolint" | "rubocop" | "stylelint" | "cppcheck" | "clang-tidy"
            | "markdownlint" | "markdownlint-cli2" | "lintr" | "yamllint" | "luacheck" | "phpstan"
            | "psalm" | "phpcs" | "php-cs-fixer" | "standardrb" | "reek" | "sqlfluff" | "ktlint"
            | "detekt" | "swiftlint" | "hlint" | "tflint" | "ansible-lint" | "actionlint"
            | "codespell" | "vale" | "oxlint" | "pycodestyle" | "pydocstyle" | "bandit" | "revive"
            | "lintian" | "perlcritic" | "commitlint",
            _,
        ) => C::LintFailure,
        (
            "gcc" | "g++" | "clang" | "clang++" | "cc" | "javac" | "kotlinc" | "rustc" | "erlc"
            | "elixirc" | "ghc" | "scalac" | "gfortran" | "ocamlfind" | "ocamlopt",
            _,
        ) => C::CompileError,
        _ => return None,
    };
    Some(c)
}

/// An error that says something is *missing* (a module, a package, a generated name, a
/// library): the typical follow-on of an install, download or code-generation step that failed
/// earlier.
pub fn is_missing_symptom(h: &Hit) -> bool {
    if h.weight == 0 {
        return false;
    }
    let t = h.clean();
    match h.rule {
        "module_not_found" | "node_pkg_missing" | "js_file_missing" => true,
        // A signature checked without the signer's key: the key an earlier import failed to
        // bring (or never brought).
        "gpg_no_public_key" => true,
        // javac's classpath without a library: its packages and their names are missing.
        "javac_error" => t.contains("error: package ") && t.contains(" does not exist"),
        // PHP's autoloader found no file for a class.
        "py_exception" if t.starts_with("Error: Class \"") && t.ends_with("\" not found") => true,
        // (Or a record an ORM did not find: what a load that failed should have put there.)
        "py_exception" => matches!(
            h.name.as_deref(),
            Some("ModuleNotFoundError" | "ImportError" | "DoesNotExist" | "ObjectDoesNotExist")
        ),
        "tsc" => t.contains("error TS2307:") || t.contains("error TS2792:"),
        // An input that does not parse because it is empty or cut short.
        "json_parse" | "malformed_input" => true,
        "go_build" => {
            // `undefined: pkg.Name` (a package-qualified name: the package is empty or absent),
            // a package no module provides.
            t.split("undefined: ")
                .nth(1)
                .is_some_and(|r| r.contains('.'))
                || t.contains("no required module provides package")
                || t.contains("cannot find package")
                || t.contains("missing go.sum entry")
                // A method a generator should have written (`go:generate stringer`).
                || t.contains("has no field or method String")
        }
        // A path that does not resolve, or a name a module lacks (a generated module left
        // empty).
        "rustc_error" => {
            t.contains("error[E0432]")
                || t.contains("error[E0433]")
                || (t.contains("error[E0425]") && t.contains(" in module `"))
        }
        // A crate that an earlier fetch should have put in the cache (`--offline` builds).
        "cargo_resolve" => t.contains("no matching package named"),
        // A header or a generated file that is missing or empty: its names are undeclared.
        "cc_error" => {
            t.contains("No such file or directory")
                || t.contains("undeclared")
                || t.contains("was not declared in this scope")
                || t.contains("unknown type name")
        }
        // A downloaded archive that is an error page or cut short.
        "corrupt_archive" => true,
        // A macro TeX does not know: the file that should define it (a generated
        // `version.tex`) is empty or absent.
        "tex_error" => t.contains("Undefined control sequence"),
        // pytest's report of a module that failed to import (a collection error).
        "pytest_e_line" => t.contains("ImportError: ") || t.contains("ModuleNotFoundError: "),
        // apt's index did not download (a mirror unreachable), so the package is unknown.
        "apt_missing" => {
            t.contains("Unable to locate package") || t.contains("has no installation candidate")
        }
        // A library the link lacks, or a function whose object did not compile.
        "linker" => {
            t.contains("cannot find -l")
                || t.contains("unable to find library")
                || t.contains("undefined reference to `")
        }
        // A file an ExUnit test could not read (a fixture an earlier step should have made);
        // a test binary ctest could not find (its build failed).
        "elixir_file_missing" | "ctest_exec_missing" => true,
        // A gem, a Hex package or an R package that is not there (`cannot load such file`,
        // `Could not find Hex`, `there is no package called`).
        "pkg_missing_ecosystems" => !t.contains("Your requirements could not be resolved"),
        // A provider or module an init that failed should have installed (terraform).
        "tf_config_error" => {
            t.contains("Missing required provider") || t.contains("Module not installed")
        }
        // A class or jar the build should have produced.
        "java_launch" => {
            t.contains("Could not find or load main class")
                || t.contains("Unable to access jarfile")
        }
        // An input file a skipped step should have written (R's wording, Node's and Python's
        // exceptions), a file or an export a bundler expected from a generator.
        "input_missing" | "bundler_pkg_missing" | "bundler_file_missing" => true,
        // pgTAP's existence checks (`has_index`, `has_view`: "Index x should exist"): the
        // schema object a migration should have made.
        "pgtap_failed" => t.ends_with("should exist\""),
        // A database, table or role an earlier step should have created (PostgreSQL's
        // wording, through any client).
        _ if is_missing_db_object(t) => true,
        // A design unit or module an analysis that failed should have put in the library
        // (GHDL's `unit "fir4" not found in library "work"`, Icarus' unknown module type).
        "hdl_compile_error" => {
            t.contains("not found in library") || t.contains("Unknown module type")
        }
        // waf refusing to build after a configure that did not succeed.
        "waf_not_configured" => true,
        // An nftables variable a generator should have defined.
        "conf_file_error" => t.contains("unknown identifier"),
        // A shared library the job should have built (`/builds/g/p/pkg/libx.so`, `./libx.so`).
        "shared_lib_missing" => ["/builds/", "/home/runner/work/", " ./", " ../"]
            .iter()
            .any(|p| t.contains(p)),
        // A program the job should have built (`./bin/app`, `dist/tool`): a relative path, or
        // one inside the job's checkout or a build tree (`/builds/g/p/dist-newstyle/...`).
        "exec_missing" => h.name.as_deref().is_some_and(|n| {
            n.contains('/')
                && (!n.starts_with('/')
                    || n.starts_with("/builds/")
                    || n.starts_with("/home/runner/work/")
                    || [
                        "/dist-newstyle/",
                        "/target/",
                        "/_build/",
                        "/build/",
                        "/dist/",
                    ]
                    .iter()
                    .any(|d| n.contains(d)))
        }),
        _ => false,
    }
}

/// PostgreSQL's `database "x" does not exist` (also relation, role, schema, extension),
/// SQLite's `no such table: x`.
fn is_missing_db_object(t: &str) -> bool {
    // SQLite's wording (through any client: better-sqlite3, sqlite3, Python's).
    if t.contains("no such table: ") || t.contains("no such column: ") {
        return true;
    }
    [
        "database \"",
        "relation \"",
        "role \"",
        "schema \"",
        "extension \"",
    ]
    .iter()
    .any(|kind| {
        t.split(kind).skip(1).any(|rest| {
            rest.split_once('"')
                .is_some_and(|(_, after)| after.starts_with(" does not exist"))
        })
    })
}

/// Whether a command starts a server that detaches (`mosquitto -d`, `redis-server
/// --daemonize yes`, `pg_ctl start`, `service nginx start`).
fn starts_daemon(cmd: &str) -> bool {
    cmd.split_whitespace().any(|w| {
        matches!(
            w,
            "-d" | "--daemon" | "--daemonize" | "--detach" | "--fork" | "start" | "restart"
        )
    })
}

/// Whether a shell command line puts a program in the background: a lone `&` outside quotes
/// (`server &`, `server & PID=$!; trap 'kill $PID' EXIT`), not `&&`, `2>&1` or `&>`.
pub fn starts_background(cmd: &str) -> bool {
    let b = cmd.as_bytes();
    let mut quote = None;
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'&') => {
                let prev = i.checked_sub(1).map(|j| b[j]);
                let next = b.get(i + 1).copied();
                if !matches!(prev, Some(b'&' | b'>' | b'<' | b'|'))
                    && !matches!(next, Some(b'&' | b'>'))
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Categories whose failure makes later steps fail for want of what they should have
/// provided: a download, an install, a tool, a permission.
fn can_cascade(c: Category) -> bool {
    matches!(
        c,
        Category::NetworkOrFlaky
            | Category::Infrastructure
            | Category::GithubActionsConfig
            | Category::DependencyInstall
            | Category::PermissionOrSecret
    )
}

/// The earliest error before the failing command that explains what it reports: the failing
/// command's region `(start, end)` (0-based lines) holds a *missing* symptom, and an earlier
/// line holds a strong error of a kind that leaves things missing (or the disk filled up
/// earlier, which explains anything). Weights are the extracted
/// ones, before the failing step's region demoted what lies outside it.
pub fn cascade_root(log: &LogIndex, ex: &Extraction, (start, end): (usize, usize)) -> Option<Hit> {
    // A full disk breaks whatever is written after it, in any way (truncated files, corrupt
    // archives): it explains any later failure.
    if let Some(full) = ex
        .hits
        .iter()
        .find(|h| h.line < start && h.role == Role::Cause && h.weight >= 7 && h.rule == "no_space")
        && ex
            .hits
            .iter()
            .any(|h| h.line >= start && h.line <= end && h.weight >= 4)
    {
        return Some(full.clone());
    }
    if let Some(root) = swallowed_failure(log, ex, (start, end)) {
        return Some(root);
    }
    if let Some(root) = ignored_input_error(ex, (start, end)) {
        return Some(root);
    }
    let first_symptom = ex
        .hits
        .iter()
        .filter(|h| h.line >= start && h.line <= end)
        .find(|h| is_missing_symptom(h))?;
    // A script that runs on inside one step (a heredoc, a script without `set -e`): a program
    // or file it then misses was not made by its own earlier command, whose error is the cause.
    if matches!(first_symptom.rule, "exec_missing" | "input_missing")
        && let Some(root) = ex.hits.iter().find(|h| {
            h.line >= start
                && h.line < first_symptom.line
                && h.role == Role::Cause
                && h.weight >= 7
                && h.category.is_some_and(|c| {
                    can_cascade(c) || matches!(c, Category::CompileError | Category::TypeError)
                })
        })
    {
        return Some(root.clone());
    }
    // A code generator that failed inside the build step itself (a build script's warning, a
    // generator's uncaught Python exception in a make recipe): the compiler's missing names
    // follow from it. The root keeps the build's category; its line is the one to quote.
    if matches!(first_symptom.rule, "cc_error" | "rustc_error")
        && let Some(root) = ex.hits.iter().find(|h| {
            h.line >= start
                && h.line < end
                && h.role == Role::Cause
                && (h.rule == "buildrs_warning"
                    || (h.rule == "py_exception"
                        && !h.text.starts_with([' ', '\t'])
                        && h.line < first_symptom.line))
        })
    {
        let mut root = root.clone();
        root.category = first_symptom.category;
        root.weight = root.weight.max(7);
        return Some(root);
    }
    // A runner that said it went on past a failed command (tox's `-` prefix: "command failed
    // but is marked ignore outcome"; make's `(ignored)`), then a module or file missing: the
    // ignored command's own error, printed just before the runner said so, is the cause.
    // (The ignored command's own error may be a missing module itself: the symptom is the
    // first one after the runner's word.)
    if let Some(marker) = ex
        .hits
        .iter()
        .find(|h| h.rule == "ignored_failure" && h.line >= start && h.line <= end)
        && ex
            .hits
            .iter()
            .any(|s| s.line > marker.line && s.line <= end && is_missing_symptom(s))
        && let Some(root) = before_ignored(ex, start, marker.line)
            .iter()
            .rev()
            .find(|h| {
                h.role == Role::Cause
                    && h.category.is_some()
                    // (An error any tool located in a source file is one too.)
                    && (h.weight >= 6 || is_uncaught_exception(h) || h.rule == "located_error")
            })
    {
        let mut root = root.clone();
        root.weight = root.weight.max(7);
        return Some(root);
    }
    // An input that does not parse (empty JSON, a 404 page where rules were expected) after an
    // earlier command crashed or failed without stopping the job (a heredoc's command
    // substitution, `local x=$(...)`): the nearest such failure made that input.
    if matches!(first_symptom.rule, "json_parse" | "malformed_input")
        && let Some(root) = ex.hits[..ex.hits.partition_point(|h| h.line < start)]
            .iter()
            .rev()
            .find(|h| {
                h.role == Role::Cause
                    && !in_loop(ex, h.line)
                    && (h.weight >= 7 && h.category.is_some() || is_uncaught_exception(h))
            })
    {
        let mut root = root.clone();
        root.category = root.category.or(Some(Category::Other));
        root.weight = root.weight.max(7);
        return Some(root);
    }
    ex.hits
        .iter()
        .find(|h| {
        h.line < start
            && h.line < first_symptom.line
            && h.role == Role::Cause
            && h.weight >= 7
            && h.category.is_some_and(can_cascade)
            // The same tool's install error explains its own later "missing" errors only
            // through a real cause (network, tool, permission), not by itself re-reporting.
            && !(h.category == Some(Category::DependencyInstall) && first_symptom.category == h.category)
            // A retry loop's errors are the attempts before one succeeded.
            && !in_loop(ex, h.line)
        })
        .cloned()
}

/// How far before a runner's "ignored" line the ignored command's error is looked for.
const IGNORED_REACH: usize = 60;

/// The hits just before a runner's "ignored" line (at most `IGNORED_REACH` lines, not before
/// `start`), by bisection: hits are in line order.
fn before_ignored(ex: &Extraction, start: usize, marker: usize) -> &[Hit] {
    let from = ex
        .hits
        .partition_point(|h| h.line < start.max(marker.saturating_sub(IGNORED_REACH)));
    &ex.hits[from..ex.hits.partition_point(|h| h.line < marker)]
}

/// A program's uncaught exception as its runtime prints it at column 0 (`KeyError: 'x'`,
/// `Exception in thread "main" ...`), not a traceback's quoted source and not a warning
/// (`Warning: prerequisite X not found.`).
pub fn is_uncaught_exception(h: &Hit) -> bool {
    matches!(
        h.rule,
        "py_exception" | "jvm_uncaught" | "dotnet_uncaught" | "beam_ocaml_uncaught"
    ) && !h.text.starts_with([' ', '\t'])
        && !h.name.as_deref().is_some_and(|n| n.ends_with("Warning"))
}

/// make's `(ignored)` (or tox's `-`) after a recipe that could not read its input (a YAML or
/// JSON file that does not parse, the job's configuration) or could not run its program (a
/// generator without its executable bit): the tests that ran next then miss what it was to
/// render, whatever words they use for it. The recipe's error, printed just before the runner
/// said it went on, is the cause. Only an input, the configuration or a permission: an
/// ignored lint or test failure says nothing about the tests after it.
fn ignored_input_error(ex: &Extraction, (start, end): (usize, usize)) -> Option<Hit> {
    let marker = ex
        .hits
        .iter()
        .find(|h| h.rule == "ignored_failure" && h.line >= start && h.line <= end)?;
    ex.hits
        .iter()
        .any(|h| h.role == Role::Test && h.line > marker.line && h.line <= end)
        .then_some(())?;
    // (A parser's exception names the input: `yaml.scanner.ScannerError`, `JSONDecodeError`,
    // `tomllib.TOMLDecodeError`.)
    const PARSE_ERRORS: [&str; 5] = [
        "ScannerError",
        "ParserError",
        "ComposerError",
        "JSONDecodeError",
        "TOMLDecodeError",
    ];
    let root = before_ignored(ex, start, marker.line)
        .iter()
        .rev()
        .find(|h| {
            h.role == Role::Cause
                && ((h.weight >= 7 && h.category == Some(Category::GithubActionsConfig))
                    // A generator it could not run (its executable bit lost): nothing was
                    // rendered either.
                    || (h.weight >= 6 && h.category == Some(Category::PermissionOrSecret))
                    || (h.rule == "py_exception"
                        && is_uncaught_exception(h)
                        && h.name.as_deref().is_some_and(|n| PARSE_ERRORS.contains(&n))))
        })?;
    let mut root = root.clone();
    root.category = root.category.or(Some(Category::Other));
    root.weight = root.weight.max(7);
    Some(root)
}

/// The failing command asked a server the job itself started in the background (`server &`,
/// then `curl http://127.0.0.1:...`) and got an HTTP error answer: the job's own service
/// answered, so the network works and the service is what failed (a 503 from its health check
/// saying why). A refused connection or a timeout is left as it is.
pub fn own_service_answered(
    ex: &Extraction,
    (start, end): (usize, usize),
    step: Option<&Hit>,
) -> bool {
    if !asks_own_server(ex, start, step) {
        return false;
    }
    let net: Vec<&Hit> = ex
        .hits
        .iter()
        .filter(|h| h.line >= start && h.line <= end)
        .filter(|h| h.role == Role::Cause && h.category == Some(Category::NetworkOrFlaky))
        .collect();
    !net.is_empty()
        && net
            .iter()
            .all(|h| h.rule == "http_5xx" && !is_refused_connection(h))
}

/// The failing command (`step`, from line `start`) asks a loopback address, and an earlier
/// step started something in the background: the server it asks is the job's own.
fn asks_own_server(ex: &Extraction, start: usize, step: Option<&Hit>) -> bool {
    let Some(cmd) = step.and_then(|s| s.name.as_deref()) else {
        return false;
    };
    let loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| cmd.contains(&format!("://{h}")));
    loopback && started_in_background(ex, start)
}

/// Whether a step before line `before` started a program in the background (`server &`): a
/// server the job itself runs.
pub fn started_in_background(ex: &Extraction, before: usize) -> bool {
    ex.hits[..ex.hits.partition_point(|h| h.line < before)]
        .iter()
        .any(|h| h.role == Role::Step && h.name.as_deref().is_some_and(starts_background))
}

/// The failing command talked to a server the job itself started in the background, the
/// connection broke (closed without an answer, reset, refused), and the server printed an
/// uncaught exception meanwhile (its output shares the job's log): the server's exception is
/// the cause, the client's broken connections its symptom. Returns the first such exception.
pub fn own_service_crashed(
    ex: &Extraction,
    (start, end): (usize, usize),
    step: Option<&Hit>,
) -> Option<Hit> {
    if !asks_own_server(ex, start, step) {
        return None;
    }
    let region = || ex.hits.iter().filter(|h| h.line >= start && h.line <= end);
    let broken = |h: &Hit| {
        let t = h.clean();
        is_refused_connection(h)
            || [
                "RemoteDisconnected",
                "Connection reset",
                "ECONNRESET",
                "socket hang up",
                "Server disconnected",
                "closed connection without response",
                "Empty reply from server",
            ]
            .iter()
            .any(|w| t.contains(w))
    };
    let net: Vec<&Hit> = region()
        .filter(|h| h.role == Role::Cause && h.category == Some(Category::NetworkOrFlaky))
        .collect();
    if net.is_empty() || !net.iter().all(|h| broken(h)) {
        return None;
    }
    let mut root = region()
        .find(|h| {
            is_uncaught_exception(h)
                // The client's own report of the broken connection is not the server's.
                && !broken(h)
        })?
        .clone();
    root.category = Some(root.category.unwrap_or(Category::Other));
    root.weight = root.weight.max(7);
    Some(root)
}

/// Whether `line` is output of a shell loop step (`for ...; do ...; done`).
pub fn in_loop(ex: &Extraction, line: usize) -> bool {
    ex.hits[..ex.hits.partition_point(|h| h.line < line)]
        .iter()
        .rev()
        .find(|h| h.role == Role::Step)
        .and_then(|h| h.name.as_deref())
        .is_some_and(is_loop)
}

/// An earlier command whose failure the script ignored (`gen > out.h || echo 'using the old
/// one'`, `|| true`, `cmd; echo "exit $?"`, anything between `set +e` and `set -e`): its error,
/// when the failing command then reports something missing, is where the job went wrong (the
/// generated file, the rendered settings, the client, the package were never made). A service
/// started in the background (`server &`) that died is the cause of the refused connections
/// after it. The error keeps its own category when it has one; a missing input file is the
/// job's setup.
fn swallowed_failure(log: &LogIndex, ex: &Extraction, (start, end): (usize, usize)) -> Option<Hit> {
    let in_region = |h: &&Hit| h.line >= start && h.line <= end;
    let missing = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| is_missing_symptom(h));
    let refused = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| is_refused_connection(h));
    // A variable the failing command needs and does not have (`DATABASE_URL must be set`):
    // what an `eval "$(env.sh)"` that printed nothing to its standard output left unset.
    let unset = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| h.rule == "env_var_missing");
    // Whatever the failing command reported first.
    let failed = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| h.role != Role::Step && h.weight >= 4 && h.category.is_some());
    let waited = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| matches!(h.rule, "timed_out" | "tests_timeout"));
    let refused_auth = ex
        .hits
        .iter()
        .filter(in_region)
        .find(|h| h.category == Some(Category::PermissionOrSecret) && h.weight >= 6);
    let steps: Vec<&Hit> = ex
        .hits
        .iter()
        .filter(|h| h.role == Role::Step && h.line < start && h.name.is_some())
        .collect();
    let mut errexit_off = false;
    for (i, step) in steps.iter().enumerate() {
        let cmd = step.name.as_deref().unwrap_or("").trim();
        match cmd {
            "set +e" => {
                errexit_off = true;
                continue;
            }
            "set -e" => {
                errexit_off = false;
                continue;
            }
            _ => {}
        }
        let background = starts_background(cmd);
        let masked = masks_substitution(cmd) || cmd.contains("<(");
        // `set +e; cmd; set -e` on one line: errexit is off for that command. So it is for a
        // multi-line command that starts with `set +e` (GitLab echoes its first line only).
        let first_line = cmd
            .strip_suffix("# collapsed multi-line command")
            .unwrap_or(cmd);
        let inline_errexit_off = first_line.split(';').next().map(str::trim) == Some("set +e");
        let ignored =
            errexit_off || inline_errexit_off || background || masked || ignores_failure(cmd);
        // Otherwise the job went on past this step under `set -e`, so whatever it printed did
        // not fail it: a failure hidden in a way the echo does not show (a function called in
        // an `&&` list, `a & b & wait`, `find -exec ... \;`, a collapsed multi-line command).
        // Only a strong error counts then, and not from a retry loop, whose errors are the
        // attempts before one succeeded.
        let hidden = !ignored && !is_loop(cmd);
        if !(ignored || hidden) {
            continue;
        }
        let symptom = if background {
            // Tests that waited for a worker which never came up time out instead.
            missing.or(refused).or(waited)
        } else if masked {
            // An empty value (a token, a version, a rendered file) is what the later command
            // then lacks, however it fails for want of it.
            missing.or(refused_auth).or(unset).or(failed)
        } else {
            // A file this step wrote (`gen.ml > src/rates.ml || echo ...`) that the failing
            // command then rejects (`File "src/rates.ml", line 6: Syntax error`): the step
            // that failed while writing it left it broken.
            missing.or_else(|| {
                // A fallback to a file left from before (`build || test -s out/rates.parquet`)
                // that the failing command then reads: the stale file is what it got.
                let stale = fallback_files(cmd);
                if !stale.is_empty()
                    && (start..=end.min(log.line_count().saturating_sub(1)))
                        .take(FALLBACK_SCAN)
                        .any(|i| {
                            let t = log.plain_cow(i);
                            stale.iter().any(|f| t.contains(f))
                        })
                {
                    return failed;
                }
                let wrote = redirect_targets(cmd);
                // (OCaml and dune name the file on the line above the error.)
                failed.filter(|f| {
                    !wrote.is_empty()
                        && (f.line.saturating_sub(NAMED_ABOVE).max(start + 1)..=f.line).any(|i| {
                            let t = log.plain_cow(i);
                            wrote.iter().any(|w| t.contains(w))
                        })
                })
            })
        };
        // The failing command reports the same outside failure an earlier command met and went
        // past (`curl -s` saved a 503 page, which the generator then printed): the earlier
        // report is where it happened. Only for the network and the runner, whose errors are
        // the same event seen twice.
        let same_outside = failed.filter(|f| {
            f.category
                .is_some_and(|c| matches!(c, Category::NetworkOrFlaky | Category::Infrastructure))
        });
        // The failing command failed in its own words, but this step, whose failure the script
        // went past, died of a strong error of its own (an uncaught exception, code that does
        // not compile, a server it could not reach): what it was to make (the pages, the
        // bundle, the tags), the later command did without. Only a strong error, checked below.
        let strong_fallback = symptom.is_none() && ignored && !background && failed.is_some();
        // A failing step that says nothing of its own (a check's `exit 1`: `[ -s out ] ||
        // exit 1`) fails for what an earlier step did not make.
        let symptom_line = match symptom {
            Some(h) => h.line,
            None if failed.is_none() => start,
            None if same_outside.is_some() => start,
            None if strong_fallback => start,
            None => continue,
        };
        // A background process writes while the next steps run: its error may come after them,
        // up to the first refused connection or the failing command, whose own output (a test
        // run's tracebacks) is the symptom's.
        let until = if background {
            symptom_line.min(start)
        } else {
            steps.get(i + 1).map_or(start, |next| next.line)
        };
        // Hits are in line order: only the step's own output is read, so a hostile log of
        // thousands of ignored steps costs one pass, not one per step.
        let from = ex.hits.partition_point(|h| h.line <= step.line);
        let output = || {
            ex.hits[from..]
                .iter()
                .take_while(|h| h.line < until.min(symptom_line))
                .filter(|h| h.role == Role::Cause && h.weight >= 3 && h.category.is_some())
                // A background server's refused connections are the health check's, printed
                // while it waited: the server's own error is the one to find.
                .filter(|h| !(background && is_refused_connection(h)))
        };
        let Some(mut err) = output().max_by_key(|h| (h.weight, std::cmp::Reverse(h.line))) else {
            // `x="$(cmd)"` keeps cmd's standard output: what it printed to the log is its
            // standard error, whatever its wording, and a later step misses what it made (a
            // masked substitution, or a loop inside it whose last iteration's status hid the
            // others').
            if (masked || assigns_substitution(cmd))
                && (missing.is_some() || (masked && unset.is_some()))
                && let Some(mut h) = first_output(log, step.line, until.min(symptom_line))
            {
                // (A script that was to set the job's variables: its error is the job's setup.)
                if missing.is_none() {
                    h.category = Some(Category::GithubActionsConfig);
                }
                return Some(h);
            }
            // A code generator whose failure the script went past (`thrift --gen py ... ||
            // echo 'using checked-in stubs'`), and a later command misses what it was to
            // make: the generator's first words are the cause, whatever their wording.
            if ignores_failure(cmd)
                && missing.is_some()
                && generates_code(cmd)
                && let Some(mut h) = first_output(log, step.line, until.min(symptom_line))
                    .filter(|h| !cmd.contains(h.text.trim()))
            {
                h.category = Some(Category::CompileError);
                return Some(h);
            }
            continue;
        };
        if hidden && err.weight < 7 {
            // A check with nothing to say fails for a missing input as readily as for a
            // strong error (a script that could not open the file it was to read from).
            // A later step missing a name or a file fails for a program that crashed in this
            // one (a code generator's uncaught exception, which cmake's `execute_process`
            // does not check) as readily.
            // (Of a chain, `During handling of the above exception, ...`, the last: the
            // exception the program died of.)
            let crashed = || {
                let mut crashes = output().filter(|h| is_uncaught_exception(h));
                let mut last = crashes.next()?;
                for next in crashes {
                    if !chained_after(log, last.line, next.line) {
                        break;
                    }
                    last = next;
                }
                Some(last)
            };
            // A program the job should have built is missing, and this step's compiler
            // rejected the code (`undefined: ledger.Entry` under a function whose errexit an
            // `if` turned off): the build that did not happen is the cause.
            // (Or the link lacks a function whose object did not compile.)
            let built_missing = symptom.is_some_and(|s| {
                matches!(s.rule, "exec_missing" | "linker" | "shared_lib_missing")
            }) && err.category == Some(Category::CompileError)
                && err.weight >= 6;
            match output().find(|h| h.rule == "input_missing") {
                _ if built_missing => {}
                Some(h) if symptom.is_none() => err = h,
                _ => match crashed() {
                    Some(h) if symptom.is_some() => err = h,
                    _ => continue,
                },
            }
        }
        // A server this step was to start refused its configuration, and the failing command's
        // connections were refused: the server never started.
        let server_refused_config = refused.is_some()
            && err.category == Some(Category::GithubActionsConfig)
            && err.weight >= 7
            && (err.rule == "service_config_error" || starts_daemon(cmd));
        if symptom.is_none()
            && !server_refused_config
            && let Some(f) = same_outside
            && (f.category != err.category || err.weight < 7)
        {
            continue;
        }
        if strong_fallback
            && same_outside.is_none()
            && !server_refused_config
            && !quoted_later(ex, err, (start, end))
            && !failed.is_some_and(|f| strong_ignored_error(err, f))
        {
            continue;
        }
        let mut root = err.clone();
        if root.category == Some(Category::Other) {
            let t = root.clean();
            let missing_input = ["No such file or directory", "ENOENT", "FileNotFoundError"]
                .iter()
                .any(|w| t.contains(w));
            if missing_input {
                root.category = Some(Category::GithubActionsConfig);
            }
        }
        root.weight = root.weight.max(7);
        return Some(root);
    }
    None
}

/// Whether the failing command's output quotes the ignored step's error verbatim (a test
/// whose assertion shows that the file it read holds `named.conf:4: unknown option ...`, what
/// `cmd | tee out` wrote when cmd failed): the failure read the error as its input.
fn quoted_later(ex: &Extraction, err: &Hit, (start, end): (usize, usize)) -> bool {
    let quote = err.clean();
    let quote = quote.trim();
    quote.len() >= 20
        && ex.hits[ex.hits.partition_point(|h| h.line < start)..]
            .iter()
            .take_while(|h| h.line <= end)
            // (Bounded: a hostile log's thousands of ignored steps each read this many.)
            .take(QUOTED_SCAN)
            .any(|h| h.clean().contains(quote))
}

/// How many of the failing command's hits are read for an ignored step's quoted error.
const QUOTED_SCAN: usize = 200;

/// An ignored step's error strong enough to be the cause of the failing command's `failed`:
/// an uncaught exception or a compile error (whatever the later command reported), or a
/// server it could not reach or a package it could not find when the later command did not
/// fail a test or a build of its own (a tag fetch that could not connect, then `git describe`
/// finding no tags; not an `apt-get update || true` that met a dead mirror before an
/// unrelated test failure).
fn strong_ignored_error(err: &Hit, failed: &Hit) -> bool {
    let own_failure = matches!(
        failed.category,
        Some(
            Category::TestAssertion
                | Category::CompileError
                | Category::TypeError
                | Category::LintFailure
                | Category::FormattingFailure
        )
    );
    is_uncaught_exception(err)
        || (err.category == Some(Category::CompileError) && err.weight >= 7)
        || (matches!(
            err.category,
            Some(Category::NetworkOrFlaky | Category::DependencyInstall)
        ) && err.weight >= 7
            && !own_failure)
}

/// How many lines of the failing command are read for a stale file's name.
const FALLBACK_SCAN: usize = 500;

/// The files a command falls back to when it fails (`|| test -s out/x.parquet`, `|| [ -f x ]`):
/// an older copy the job then goes on with.
fn fallback_files(cmd: &str) -> Vec<&str> {
    let Some((_, alt)) = cmd.split_once("||") else {
        return Vec::new();
    };
    let words: Vec<&str> = alt.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "-s" | "-f" | "-e")
            && i > 0
            && matches!(words[i - 1], "test" | "[")
            && let Some(f) = words.get(i + 1)
        {
            let f = f.trim_matches(['"', '\'', ';', ']']);
            if f.len() >= 3 && (f.contains('/') || f.contains('.')) {
                out.push(f);
            }
        }
    }
    out
}

/// How far above a failing command's first error the file it rejects may be named.
const NAMED_ABOVE: usize = 3;

/// The files a command's output redirections write (`> src/rates.ml`, `>>out.log`), not a
/// descriptor (`2>&1`) or /dev/null. Only paths with a directory or an extension, as a
/// compiler would name them.
fn redirect_targets(cmd: &str) -> Vec<&str> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let Some(pos) = w.find('>') else {
            continue;
        };
        // `2>&1`, `&>`, `>|`: the rest after the operator, or the next word.
        let rest = w[pos..].trim_start_matches(['>', '|']);
        let target = if rest.is_empty() {
            words.get(i + 1).copied().unwrap_or("")
        } else {
            rest
        };
        let target = target.trim_matches(['"', '\'', ';', ')']);
        let file = !target.starts_with('&') && !target.starts_with("/dev/");
        if file && target.len() >= 3 && (target.contains('/') || target.contains('.')) {
            out.push(target);
        }
    }
    out
}

/// `x=$(cmd)` / `x="$(cmd)"`: the step's whole output is captured, so what reaches the log is
/// cmd's standard error. (`docker build -t app:$(git rev-parse HEAD) .` prints its own output.)
fn assigns_substitution(cmd: &str) -> bool {
    cmd.split_whitespace().next().is_some_and(|w| {
        w.split_once('=').is_some_and(|(name, value)| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && ["$(", "\"$(", "`", "\"`"]
                    .iter()
                    .any(|p| value.starts_with(p))
        })
    })
}

/// Whether the exception on line `later` was raised while handling (or from) the one on
/// `earlier`: Python prints the chain's link right under the earlier one.
fn chained_after(log: &LogIndex, earlier: usize, later: usize) -> bool {
    (earlier + 1..later.min(earlier + 4)).any(|i| {
        let t = log.plain_cow(i);
        let t = extract::strip_ci_timestamp(&t).trim();
        t.starts_with("During handling of the above exception")
            || t.starts_with("The above exception was the direct cause")
    })
}

/// Whether a command generates code: a code generator's own flags and words (`thrift --gen
/// py`, `flatc --cpp -o gen`, `protoc --python_out=gen`, `openapi-generator generate`, `sqlc
/// generate`), whatever the tool.
fn generates_code(cmd: &str) -> bool {
    cmd.split_whitespace().any(|w| {
        let w = w.trim_matches(|c| c == '"' || c == '\'');
        matches!(w, "--gen" | "generate" | "codegen" | "gen" | "gen/")
            || (w.starts_with("--") && w.split('=').next().is_some_and(|f| f.ends_with("_out")))
    })
}

/// The first line a step printed (between its echo and `until`), as the cause of a cascade.
fn first_output(log: &LogIndex, echo: usize, until: usize) -> Option<Hit> {
    let line = (echo + 1..until).find(|&i| {
        let t = log.plain_cow(i);
        let body = extract::strip_ci_timestamp(&t);
        !body.trim().is_empty() && !is_runner_boilerplate(body)
    })?;
    let text = log.plain_cow(line);
    Some(extract::pass_hit(
        log,
        line,
        extract::strip_ci_timestamp(&text),
        "substitution_stderr",
        Role::Cause,
        Category::Other,
        7,
    ))
}

/// A retry or readiness loop (`for i in $(seq 10); do ... && break; sleep 1; done`, `until
/// ...`, `while ! ...`): its errors are the attempts before one succeeded. A loop over files
/// (`for page in docs/*.md; do ...`) is work, not a retry.
fn is_loop(cmd: &str) -> bool {
    let mut words = cmd.split_whitespace();
    let first = words.next().unwrap_or("");
    if matches!(first, "while" | "until") || cmd.contains("&& break") || cmd.contains("sleep ") {
        return true;
    }
    if first != "for" {
        return false;
    }
    // `for i in $(seq 1 10)`, `for i in {1..5}`, `for attempt in 1 2 3`.
    let list: Vec<&str> = words
        .skip_while(|w| *w != "in")
        .skip(1)
        .take_while(|w| !w.starts_with(';') && *w != "do")
        .collect();
    let counted = list
        .first()
        .is_some_and(|w| w.starts_with("$(seq") || w.starts_with("{1.."))
        || (!list.is_empty()
            && list
                .iter()
                .all(|w| w.trim_end_matches(';').chars().all(|c| c.is_ascii_digit())));
    // A retry stops at the first success (`break`, `exit 0`); a counted loop that cannot stop
    // early runs every iteration (shards started in the background, then one `wait`).
    counted
        && cmd
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| w == "break" || w == "exit" || w == "return")
}

/// A connection refused: what tests report when the service they talk to is not running.
fn is_refused_connection(h: &Hit) -> bool {
    // A database client that found no server socket is the same thing.
    h.rule == "db_unreachable"
        || h.category == Some(Category::NetworkOrFlaky) && {
            let t = h.clean();
            t.contains("Connection refused")
                || t.contains("ECONNREFUSED")
                || t.contains("connection refused")
                || t.contains("actively refused")
                || t.contains("Couldn't connect to server")
                // (Chrome's, in a WebDriver or puppeteer error.)
                || t.contains("ERR_CONNECTION_REFUSED")
        }
}

/// A shell command that carries on when it fails: `cmd || echo ...`, `|| true`, `|| :`,
/// `|| exit 0`, `cmd; echo "exit $?"`.
fn ignores_failure(cmd: &str) -> bool {
    let carries_on = |alt: &str| {
        let alt = alt.trim_start();
        // A group (`|| { echo "failed"; make fallback; }`) carries on unless it stops the job.
        let (alt, group) = match alt.strip_prefix('{') {
            Some(inner) => (inner.trim_start(), true),
            None => (alt, false),
        };
        if group
            && alt.split([';', '&', '|', '}']).map(str::trim).any(|c| {
                c == "false" || (c.starts_with("exit") && c != "exit 0") || c.starts_with("return")
            })
        {
            return false;
        }
        let w = alt.split_whitespace().next().unwrap_or("");
        // Printing a log instead (`|| tail -n 20 build.log`) carries on just the same, and so
        // does keeping the status for later (`|| rc=$?`) when nothing checks it in the step.
        matches!(
            w,
            "echo" | "printf" | "true" | ":" | "/bin/true" | "tail" | "cat" | "head"
        ) || alt.starts_with("exit 0")
            // Falling back to an older file (`|| test -s out.parquet`): the job went on.
            || (matches!(w, "test" | "[") && !fallback_files(cmd).is_empty())
            // Leaving a loop (`for f in *.sql; do psql -f "$f" || break; done`): the loop's
            // status is break's, 0.
            || matches!(w.trim_end_matches(';'), "break" | "continue")
            || (w.contains('=') && !w.starts_with('=') && !cmd.contains("exit"))
    };
    cmd.split("||").skip(1).any(carries_on)
        || cmd
            .rsplit_once(';')
            .is_some_and(|(_, last)| carries_on(last))
}

/// `export NAME=$(cmd)` (also `local`, `readonly`, `declare`): the shell reports the
/// assignment's status, not the command's, so a failing `cmd` leaves an empty value behind and
/// the job goes on.
fn masks_substitution(cmd: &str) -> bool {
    let mut words = cmd.split_whitespace();
    let first = words.next();
    // `eval "$(cmd)"`: an empty output evaluates to nothing, whatever cmd's status; a
    // here-string of a substitution (`jq ... <<< "$(cmd)"`) feeds its empty output on.
    (first == Some("eval") && cmd.contains("$("))
        || cmd.contains("<<< \"$(")
        || cmd.contains("<<<\"$(")
        || cmd.contains("<<< $(")
        || matches!(
            first,
            Some("export" | "local" | "readonly" | "declare" | "typeset")
        ) && words.any(|w| w.contains('=') && (w.contains("$(") || w.contains('`')))
}

/// A server the failing command could not reach (psql's missing socket, a refused
/// connection) whose own log, printed after the failure (`after_script: cat server.log`),
/// says why it is not running: that reason, not the client's error.
pub fn server_log_cause(ex: &Extraction, (start, end): (usize, usize)) -> Option<Hit> {
    let unreachable = ex.hits.iter().any(|h| {
        h.line >= start && h.line <= end && (h.rule == "db_unreachable" || is_refused_connection(h))
    });
    if !unreachable {
        return None;
    }
    if let Some(fatal) = ex
        .hits
        .iter()
        .find(|h| h.line > end && h.rule == "db_server_fatal")
    {
        return Some(fatal.clone());
    }
    // A server the job started in the background (`python -m web.server > server.log 2>&1 &`)
    // that never answered, and whose log, shown afterwards, ends in an error: the first such
    // error (an uncaught exception is the code's, `Other`, unless a rule knows better).
    if !started_in_background(ex, start) {
        return None;
    }
    let mut root = ex
        .hits
        .iter()
        .find(|h| {
            h.line > end
                && h.role == Role::Cause
                && !h.category.is_some_and(Category::is_infra_or_flaky)
                && (h.weight >= 7 || is_uncaught_exception(h))
        })?
        .clone();
    root.category = Some(root.category.unwrap_or(Category::Other));
    root.weight = root.weight.max(7);
    Some(root)
}

/// The failing command missed something (a program the job should have built, an input
/// file) and the reason was printed only afterwards: a build whose output went to a file that
/// after_script shows (`make > build.log 2>&1 || echo ...`, then `tail build.log`). The
/// strongest such error after the script, before the weights outside the failing step are
/// demoted.
pub fn printed_later_cause(ex: &Extraction, (start, end): (usize, usize)) -> Option<Hit> {
    let missing = ex
        .hits
        .iter()
        .any(|h| h.line >= start && h.line <= end && is_missing_symptom(h));
    if !missing {
        return None;
    }
    ex.hits
        .iter()
        .filter(|h| {
            h.line > end
                && h.role == Role::Cause
                && h.weight >= 6
                && h.category.is_some_and(|c| {
                    can_cascade(c) || matches!(c, Category::CompileError | Category::TypeError)
                })
        })
        // Of equal weight, the network or the runner explains the rest (an install that failed
        // because its registry answered 503).
        .max_by_key(|h| {
            (
                h.weight,
                h.category.is_some_and(Category::is_infra_or_flaky),
                std::cmp::Reverse(h.line),
            )
        })
        .cloned()
}

/// Whether a command names a remote endpoint: a URL, or a variable that holds one
/// (`$WFS_URL`, `${FEATURES_API}`, `$REGISTRY_ENDPOINT`).
fn names_a_remote(cmd: &str) -> bool {
    cmd.contains("http://")
        || cmd.contains("https://")
        || cmd.split('$').skip(1).any(|v| {
            let name: String = v
                .trim_start_matches('{')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            ["_URL", "_URI", "_API", "_ENDPOINT", "_HOST"]
                .iter()
                .any(|s| name.ends_with(s))
        })
}

/// Whether a command fetches from a remote (curl, wget, git's fetches, a registry's client).
fn fetches_remote(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let tool = words
        .first()
        .map_or("", |w| w.rsplit('/').next().unwrap_or(w));
    let sub = words.get(1).copied().unwrap_or("");
    matches!(tool, "curl" | "wget" | "rsync" | "scp")
        || matches!(
            (tool, sub),
            ("git", "clone" | "fetch" | "pull" | "submodule" | "lfs")
                | ("docker" | "podman", "pull")
                | ("pip" | "pip3", "download" | "install")
                | ("npm" | "pnpm" | "yarn", "ci" | "install" | "publish")
                | ("twine", "upload")
                | ("gem", "push")
                | ("cargo" | "uv", "publish")
                | ("apt-get" | "apt", "update" | "install")
        )
}

/// The job ran into the runner's time limit while a download printed nothing: the last
/// command before the limit fetches something (curl, wget, git, a package manager, docker
/// pull, rsync), or the program's last words announced a request to a URL, and no error came
/// after it. A stalled transfer, retried, usually passes. Returns the line that shows the
/// fetch: the command's echo, or the program's announcement.
pub fn stalled_fetch(log: &LogIndex, ex: &Extraction) -> Option<usize> {
    let limit = ex.hits.iter().find(|h| h.rule == "job_timeout")?;
    let step = ex
        .hits
        .iter()
        .rev()
        .find(|h| h.role == Role::Step && h.line < limit.line)?;
    // The command, or a loop whose body only fetches and says so (`for f in docs/*.docx; do
    // echo "render: $f"; curl ...; done`): nothing else in it could have hung.
    let fetches = step.name.as_deref().is_some_and(|line| {
        if !line.starts_with("for ") {
            return fetches_remote(line);
        }
        let body: Vec<&str> = line
            .split(';')
            .skip(1)
            .map(|c| c.trim().trim_start_matches("do ").trim())
            .filter(|c| !matches!(*c, "" | "do" | "done"))
            .collect();
        body.iter().any(|c| fetches_remote(c))
            && body
                .iter()
                .all(|c| fetches_remote(c) || c.starts_with("echo ") || c.starts_with("printf "))
    });
    let quiet_after = |line: usize| {
        !ex.hits
            .iter()
            .any(|h| h.line > line && h.line < limit.line && h.role == Role::Cause && h.weight >= 3)
    };
    if fetches {
        return quiet_after(step.line).then_some(step.line);
    }
    // A line the program printed (not blank, not the runner's).
    let speaks = |i: usize| {
        let t = log.plain_cow(i);
        !t.trim().is_empty() && !is_runner_boilerplate(extract::strip_ci_timestamp(&t))
    };
    // A program's own last words before the limit announced a request (`loading
    // http://host/export.csv`, `Downloading https://...`) and nothing came after it.
    let Some(last) = (step.line + 1..limit.line).rev().find(|&i| speaks(i)) else {
        // Or it printed nothing at all, and the command names a remote (`ogrinfo
        // "WFS:$WFS_URL?..."`, `curl`-less clients of an API): it waited on that remote
        // throughout.
        return step
            .name
            .as_deref()
            .is_some_and(names_a_remote)
            .then_some(step.line);
    };
    let words = log.plain_cow(last).to_ascii_lowercase();
    let announces = ["http://", "https://", "ftp://", "s3://", "gs://"]
        .iter()
        .any(|u| words.contains(u))
        && [
            "load", "download", "fetch", "get ", "request", "connect", "pull", "retriev", "read",
            "open", "query", "call", "curl ", "wget ", "resolv", "import", "harvest", "sync",
        ]
        .iter()
        .any(|v| words.contains(v));
    // Or its last words were a transfer's progress short of the whole (`stage-in: x.h5 2048
    // of 67108864 bytes`): the transfer stopped there.
    let progress_short = PROGRESS
        .captures(&words)
        .and_then(|c| Some((c[1].parse::<u64>().ok()?, c[2].parse::<u64>().ok()?)))
        .is_some_and(|(done, whole)| done < whole);
    if (announces || progress_short) && quiet_after(last) {
        return Some(last);
    }
    // Or the program connected to a peer (`connected to 127.0.0.1:37213`, `connecting to HIL
    // simulator 10.0.0.7:4000`) and its last words wait for the peer's answer (`waiting for
    // handshake`, `waiting for simulator reply to PING`): the peer never answered.
    let before = (step.line + 1..last).rev().find(|&i| speaks(i));
    let waits = words.contains("waiting for") || words.contains("awaiting ");
    // (Or its last words were the connection itself: `connecting to the cache at
    // 127.0.0.1:39937`, and nothing came back; `words` is that line, lower-cased.)
    let stalled = PEER.is_match(&words)
        || (waits && before.is_some_and(|i| PEER.is_match(&log.plain_cow(i))));
    (stalled && quiet_after(last)).then_some(last)
}

/// A test run that hit its own time limit (ctest's `***Timeout`) while the test said it had
/// connected to a peer and was waiting for its answer (`connected to 127.0.0.1:39653, waiting
/// for +PONG`): the peer never answered. Returns that line.
pub fn test_waited_on_peer(
    log: &LogIndex,
    ex: &Extraction,
    (start, end): (usize, usize),
) -> Option<usize> {
    ex.hits
        .iter()
        .find(|h| h.rule == "ctest_timeout" && h.line >= start && h.line <= end)?;
    let last = end.min(log.line_count().saturating_sub(1));
    (start..=last).take(PEER_SCAN).find(|&i| {
        let t = log.plain_cow(i);
        t.contains("waiting for") && PEER.is_match(&t)
    })
}

/// How many lines of a timed-out test run are read for a peer it waited on.
const PEER_SCAN: usize = 5_000;

/// A transfer's progress in bytes: `2048 of 67108864 bytes`, `512/4096 bytes`.
static PROGRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,18}) ?(?:of|/) ?(\d{1,18}) bytes\b")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// A peer a program talks to, as it names it: connected or connecting to host:port.
static PEER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bconnect(?:ed|ing)? to\b.*?(?:\b\d{1,3}(?:\.\d{1,3}){3}|\blocalhost|\b[a-z][\w-]*(?:\.[\w-]+)+|\[[0-9a-f:]+\]):\d{2,5}\b")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Inside the failing command, the error a wrapper reports was caused by an earlier network or
/// infrastructure error: pip's "no matching distribution" after its retries timed out, cargo's
/// "failed to get `x` as a dependency" after "Could not connect to server", a docker build's
/// "failed to solve" after a 429 or a full disk. Returns that earlier cause's category.
pub fn wrapped_cause(
    ex: &Extraction,
    (start, end): (usize, usize),
    category: Category,
) -> Option<Category> {
    if !matches!(
        category,
        Category::DependencyInstall | Category::DockerBuild | Category::Other
    ) {
        return None;
    }
    let inside = |h: &&Hit| h.line >= start && h.line <= end;
    // The wrapper's first real error: pip's `error: subprocess-exited-with-error` frame header
    // (5) comes before the output it frames, which holds the cause.
    let first_wrapper = ex
        .hits
        .iter()
        .filter(inside)
        .filter(|h| h.category == Some(category) && h.weight >= 6)
        .map(|h| h.line)
        .min()?;
    ex.hits
        .iter()
        .filter(inside)
        .find(|h| {
            h.line <= first_wrapper
                && h.role == Role::Cause
                && h.weight >= 7
                && (matches!(
                    h.category,
                    Some(Category::NetworkOrFlaky | Category::Infrastructure)
                )
                    // A compiler the wrapper ran, killed for memory (cc1plus under pip).
                    || matches!(h.rule, "tool_killed" | "oom" | "shell_killed"))
                // In an image build, only the builder's own failures (a registry refusing the
                // pull, a full disk, no daemon, its own request for a base image's manifest or
                // token failing) are outside the code: a download that a Dockerfile's RUN step
                // makes is part of the build the Dockerfile defines.
                && (category != Category::DockerBuild
                    || matches!(h.rule, "pull_rate_limit" | "no_space" | "docker_daemon")
                    || builder_request(h.clean()))
        })
        .and_then(|h| h.category)
}

/// BuildKit's and the docker client's words for their own registry requests (resolving a base
/// image, fetching a token, pulling a layer), as opposed to a RUN step's output (`#5 0.412 ...`).
fn builder_request(text: &str) -> bool {
    [
        "failed to resolve source metadata for ",
        "failed to do request: ",
        "failed to fetch anonymous token",
        "failed to fetch oauth token",
        "failed to authorize: ",
        "error pulling image configuration: ",
        "failed to copy: httpReadSeeker: ",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Whether a network error inside the failing step was only a retried hiccup: a stronger,
/// unrelated failure (a test, a compile or type error, a lint) follows it and nothing is
/// missing. Then the later failure is the cause.
pub fn network_recovered(ex: &Extraction, (start, end): (usize, usize)) -> Option<Category> {
    let inside = |h: &&Hit| h.line >= start && h.line <= end && h.weight > 0;
    let last_net = ex
        .hits
        .iter()
        .filter(inside)
        .filter(|h| h.category == Some(Category::NetworkOrFlaky) && h.role == Role::Cause)
        .map(|h| h.line)
        .max()?;
    if ex.hits.iter().filter(inside).any(is_missing_symptom) {
        return None;
    }
    // The network error is a test's own failure report (`client_test.go:15: Get ...: context
    // deadline exceeded`, pytest's `E   ConnectionError`) and no test reported anything else:
    // the tests failed because of it, so the `--- FAIL` lines after it are its consequence.
    let is_report = |h: &Hit| matches!(h.rule, "go_test_loc" | "pytest_e_line");
    let network_on = |line: usize| {
        ex.on_line(line).iter().any(|h| {
            h.role == Role::Cause && h.category == Some(Category::NetworkOrFlaky) && h.weight >= 7
        })
    };
    let reports: Vec<usize> = ex
        .hits
        .iter()
        .filter(inside_any(start, end))
        .filter(|h| is_report(h))
        .map(|h| h.line)
        .collect();
    let only_network_reports = !reports.is_empty() && reports.iter().all(|&l| network_on(l));
    let detail = ex
        .hits
        .iter()
        .filter(inside)
        .any(|h| h.role == Role::Detail && h.category == Some(Category::TestAssertion));
    if only_network_reports && !detail {
        return None;
    }
    // nextest lists each failed test again under its closing `Summary`: a test whose failure
    // (and output, the network error) came before is no later failure. (A set, so a hostile
    // log of many FAIL lines costs one pass.)
    let failed_before: HashSet<String> = ex
        .hits
        .iter()
        .filter(|e| e.rule == "nextest_fail" && e.line < last_net)
        .map(|e| e.clean().trim().to_string())
        .collect();
    ex.hits
        .iter()
        .filter(inside)
        // A runner's summary of the failure the network error caused restates it, and a build's
        // verdict (CMake's own error, Next's "Failed to compile.") reports what a step it ran
        // (FetchContent's clone, `next/font`'s fetch) did.
        .filter(|h| {
            h.line > last_net
                && h.weight >= 6
                && !is_run_summary(h)
                && !matches!(h.rule, "cmake_error" | "frontend_build_failed")
                && !(h.rule == "nextest_fail" && failed_before.contains(h.clean().trim()))
        })
        .filter_map(|h| h.category)
        .find(|c| {
            matches!(
                c,
                Category::TestAssertion
                    | Category::CompileError
                    | Category::TypeError
                    | Category::LintFailure
            )
        })
}

/// Hits inside `start..=end`, whatever their weight (locations weigh nothing).
fn inside_any(start: usize, end: usize) -> impl Fn(&&Hit) -> bool {
    move |h| h.line >= start && h.line <= end
}

/// A test runner's closing count (`Test Files  1 failed`, `Tests: 2 failed`, pytest's `===
/// 1 failed ===`) or list (ctest's `The following tests FAILED:` then `  2 - name (Failed)`):
/// it repeats the failures above it.
fn is_run_summary(h: &Hit) -> bool {
    // A tool's count of what it found (`Validation failed with 1 error.`, `✖ 3 problems (3
    // errors, 0 warnings)`) restates its findings, whatever they were.
    static COUNT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(?:failed with|found) [1-9]\d* (?:errors?|problems?|issues?)\b|^\W{0,3}[1-9]\d* problems? \(")
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    });
    let t = h.clean().trim_start();
    if COUNT.is_match(t) {
        return true;
    }
    let ctest_list = h.rule == "ctest_fail"
        && t.split_once(" - ")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    h.role == Role::Summary
        || ctest_list
        || ["Test Files", "Tests ", "Tests:", "Test Suites:"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// One candidate cause for a model: the first strong line of a category, and how many strong
/// lines of that category the log has.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// 0-based.
    pub line: usize,
    pub category: Category,
    pub text: String,
    pub lines: usize,
}

/// The engine's candidate causes, earliest first (at most `max`): what a model is asked to
/// choose among (or overrule), each with a line it can quote.
pub fn candidates(ex: &Extraction, max: usize) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for h in &ex.hits {
        let Some(c) = h.category else { continue };
        if h.weight < 5 || !matches!(h.role, Role::Cause | Role::Test | Role::Summary) {
            continue;
        }
        match out.iter_mut().find(|x| x.category == c) {
            Some(x) => x.lines += 1,
            None => out.push(Candidate {
                line: h.line,
                category: c,
                text: h.text.to_string(),
                lines: 1,
            }),
        }
    }
    out.sort_by_key(|c| c.line);
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::extract::extract;
    use crate::diagnose::log::LogIndex;
    use std::sync::Arc;

    #[test]
    fn only_a_captured_substitution_prints_its_standard_error_alone() {
        assert!(assigns_substitution(
            "compiled=\"$(for f in a b; do x \"$f\"; done)\""
        ));
        assert!(assigns_substitution("v=$(git describe --tags)"));
        assert!(assigns_substitution("v=`date`"));
        assert!(!assigns_substitution(
            "docker build -t app:$(git rev-parse HEAD) ."
        ));
        assert!(!assigns_substitution("echo \"$(date)\""));
        assert!(!assigns_substitution("a=1"));
    }

    #[test]
    fn tools_of_common_commands() {
        let c = |s: &str| tool_category(s);
        assert_eq!(
            c("cargo clippy --all-targets -- -D warnings"),
            Some(Category::LintFailure)
        );
        assert_eq!(c("go vet ./..."), Some(Category::LintFailure));
        assert_eq!(c("go test -race ./..."), Some(Category::TestAssertion));
        assert_eq!(c("npx tsc --noEmit"), Some(Category::TypeError));
        assert_eq!(c("python -m pytest -q"), Some(Category::TestAssertion));
        assert_eq!(c("poetry run mypy src"), Some(Category::TypeError));
        assert_eq!(
            c("RUST_LOG=debug cargo test"),
            Some(Category::TestAssertion)
        );
        assert_eq!(
            c("env RUST_BACKTRACE=1 cargo test"),
            Some(Category::TestAssertion)
        );
        assert_eq!(c("npm ci --no-audit"), Some(Category::DependencyInstall));
        assert_eq!(c("docker build -t x ."), Some(Category::DockerBuild));
        // Scripts, and tools whose failures take many forms, say nothing.
        assert_eq!(c("./scripts/check-health.sh"), None);
        assert_eq!(c("curl -fsS http://x/healthz"), None);
        assert_eq!(c("git checkout v1"), None);
        assert_eq!(c("make"), None);
    }

    fn ex(log: &str) -> (LogIndex, Extraction) {
        let ix = LogIndex::parse(Arc::new(log.as_bytes().to_vec()));
        let e = extract(&ix);
        (ix, e)
    }

    #[test]
    fn a_missing_tool_explains_undefined_generated_names() {
        let (ix, e) = ex("$ make generate || echo skipped\n\
            make: protoc: No such file or directory\n\
            make: *** [Makefile:2: generate] Error 127\n\
            skipped\n\
            $ go build ./...\n\
            server/server.go:5:30: undefined: billingpb.Invoice\n");
        let root = cascade_root(&ix, &e, (4, 5)).unwrap();
        assert_eq!(root.line, 1);
        assert_eq!(root.category, Some(Category::GithubActionsConfig));
    }

    #[test]
    fn a_plain_compile_error_has_no_earlier_root() {
        let (ix, e) = ex("$ pip install -r req.txt\n\
            WARNING: Retrying after connection broken by 'NewConnectionError(Connection refused)'\n\
            Successfully installed x\n\
            $ go build ./...\n\
            main.go:10:22: undefined: invoiceSum\n");
        assert!(cascade_root(&ix, &e, (3, 4)).is_none());
    }

    #[test]
    fn a_retried_network_error_does_not_hide_a_test_failure() {
        let (_, e) = ex("$ pytest\n\
            WARNING: Retrying after connection broken by 'NewConnectionError(Connection refused)'\n\
            FAILED tests/test_a.py::test_b - assert 1 == 2\n");
        assert_eq!(network_recovered(&e, (0, 2)), Some(Category::TestAssertion));
        let (_, e) = ex("$ pytest\n\
            WARNING: Retrying after connection broken by 'NewConnectionError(Connection refused)'\n\
            E   ModuleNotFoundError: No module named 'x'\n\
            ERROR tests/test_a.py\n");
        assert_eq!(network_recovered(&e, (0, 3)), None);
    }
}
