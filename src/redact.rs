//! Secret redaction, applied to every text before it enters a prompt, the log file, the audit log
//! or a cache.
//!
//! A fixed list of rules runs in order over the text. Format-specific rules (GitLab, AWS, Google,
//! GitHub, Slack tokens, JWTs, private keys) come first; then headers and URL credentials; then
//! `key=value` assignments whose key names a secret; last, high-entropy values in any
//! `key=value`. Every replacement is a `[REDACTED...]` marker that no rule matches, and every rule
//! leaves a value that already is a marker alone, so redaction is idempotent.
//!
//! Deliberately kept: commit shas and other hex digests, numeric ids, UUIDs, `$VARIABLE`
//! references (the name of a secret is not the secret) and GitLab's own `[MASKED]` values.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use regex::{Captures, Regex};
use regex_automata::{Input, PatternID, PatternSet, meta};
use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// Marker for values whose kind is only known from their key.
pub const MARKER: &str = "[REDACTED]";

struct Rule {
    re: Regex,
    apply: fn(&Captures) -> String,
}

fn rule(pattern: &str, apply: fn(&Captures) -> String) -> Rule {
    // The patterns are constants covered by the tests below; a typo is a programming error.
    #[allow(clippy::expect_used)]
    let re = Regex::new(pattern).expect("redaction pattern compiles");
    Rule { re, apply }
}

/// A whole-match replacement by a kind marker.
macro_rules! kind {
    ($k:literal) => {
        |_c: &Captures| concat!("[REDACTED:", $k, "]").to_string()
    };
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Private key blocks (PEM, OpenSSH, PGP), also inside JSON strings with literal `\n`.
        rule(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
            kind!("private-key"),
        ),
        // A block cut off before its END line (truncated logs): the header and the base64 body.
        rule(
            // Each following line must be key material to its end (`$`): the first log line
            // after the key that is not ends the block.
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?m:(?:\r?\n(?:(?:Proc-Type|DEK-Info|Comment|Version|Hash):[^\n]*|[ \t]*[A-Za-z0-9+/]*={0,2}[ \t]*\r?$))*)",
            kind!("private-key"),
        ),
        // The same inside a JSON string (`\n` escapes): to the end of the string.
        rule(
            r#"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----\\n[^"\n]*"#,
            kind!("private-key"),
        ),
        // GitLab tokens. Routable tokens carry dot-separated parts; a trailing dot is punctuation.
        rule(
            r"\b(?:glpat|gloas|gldt|glrt|glrtr|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt)-[0-9A-Za-z_\-]{10,}(?:\.[0-9A-Za-z_\-]+)*",
            kind!("gitlab-token"),
        ),
        rule(
            r"\bGR1348941[0-9A-Za-z_\-]{16,}",
            kind!("gitlab-runner-token"),
        ),
        rule(r"\b(_gitlab_session=)[0-9A-Za-z]{16,}", |c| {
            format!("{}{MARKER}", &c[1])
        }),
        // GitHub, Slack, Google, AWS and other vendors' self-describing formats.
        rule(
            r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}",
            kind!("github-token"),
        ),
        rule(
            r"\bxox[abposre]-[0-9A-Za-z\-]{10,}|\bxapp-[0-9]-[0-9A-Za-z\-]{10,}",
            kind!("slack-token"),
        ),
        rule(
            r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_\-]+",
            |c| format!("{}{MARKER}", &c[1]),
        ),
        rule(r"\bAIza[0-9A-Za-z_\-]{35}", kind!("google-api-key")),
        rule(
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b",
            kind!("aws-access-key"),
        ),
        rule(
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
            kind!("jwt"),
        ),
        rule(
            r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}|\b[rs]k_live_[0-9A-Za-z]{16,}|\bnpm_[A-Za-z0-9]{36}\b|\bpypi-AgE[A-Za-z0-9_\-]{50,}|\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}|\bdckr_pat_[A-Za-z0-9_\-]{20,}|\bhvs\.[A-Za-z0-9_\-]{24,}",
            kind!("api-token"),
        ),
        // Authorization-style headers: the scheme stays, the credential goes.
        rule(
            r#"(?i)\b((?:proxy-)?authorization|private-token|job-token|deploy-token|x-api-key|x-goog-api-key|api-key|x-auth-token|x-gitlab-token)(["']?[ \t]*[:=][ \t]*["']?)(?:(bearer|basic|token|digest|negotiate|ntlm|bot|apikey|gitlab-ci-token)[ \t]+)?([^\s"',;]+)"#,
            |c| {
                let value = &c[4];
                if keep_value(value, false) {
                    return c[0].to_string();
                }
                match c.get(3) {
                    Some(scheme) => format!("{}{}{} {MARKER}", &c[1], &c[2], scheme.as_str()),
                    None => format!("{}{}{MARKER}", &c[1], &c[2]),
                }
            },
        ),
        // A bare `Bearer <credential>` (a header echoed without its name, a curl -H cut short).
        rule(r"\b([Bb]earer)[ \t]+([A-Za-z0-9\-._~+/]{8,}=*)", |c| {
            if keep_value(&c[2], false) || c[2].starts_with("[REDACTED") {
                return c[0].to_string();
            }
            format!("{} {MARKER}", &c[1])
        }),
        // `docker login -p SECRET`, `--password SECRET` is covered below; `-p` only after a
        // registry login (elsewhere `-p` is a port or a path).
        rule(
            r#"(?i)\b((?:docker|podman|buildah|nerdctl|skopeo|helm(?:\s+registry)?|crane|oras)\s+login\b[^\n]*?\s-p)(=|[ \t]+)("[^"\n]*"|'[^'\n]*'|[^\s"'`]+)"#,
            |c| {
                if keep_value(&c[3], true) {
                    return c[0].to_string();
                }
                format!("{}{}{MARKER}", &c[1], &c[2])
            },
        ),
        // Docker config `auths`: `"auth": "<base64 of user:password>"` (DOCKER_AUTH_CONFIG,
        // ~/.docker/config.json, .dockerconfigjson), and `"identitytoken"`.
        rule(
            r#"(?i)("(?:auth|identitytoken|registrytoken)"\s*:\s*")([A-Za-z0-9+/=_\-.]{8,})(")"#,
            |c| format!("{}{MARKER}{}", &c[1], &c[3]),
        ),
        // user:password@ in URLs (git remotes, registry URLs, database DSNs).
        rule(
            r#"\b([A-Za-z][A-Za-z0-9+.\-]{1,20}://)([^\s/?#@:"'<>]*):([^\s/?#@"'<>]+)@"#,
            |c| {
                if keep_value(&c[3], false) {
                    return c[0].to_string();
                }
                format!("{}{}:{MARKER}@", &c[1], &c[2])
            },
        ),
        // A bare token as the userinfo (https://TOKEN@host).
        rule(
            r"\b([A-Za-z][A-Za-z0-9+.\-]{1,20}://)([A-Za-z0-9_\-]{20,})@",
            |c| {
                if looks_random(&c[2]) {
                    format!("{}{MARKER}@", &c[1])
                } else {
                    c[0].to_string()
                }
            },
        ),
        // --password VALUE, --token=VALUE
        rule(
            r#"(?i)(\s--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|token|secret|api-key|apikey|access-key|private-key)(?:-[a-z0-9]+)*)(=|[ \t]+)("[^"\n]*"|'[^'\n]*'|[^\s"'`]+)"#,
            |c| {
                let flag = c[1].to_ascii_lowercase();
                let takes_no_secret = ["-stdin", "-file", "-env", "-path", "-type", "-name"]
                    .iter()
                    .any(|s| flag.ends_with(s));
                if takes_no_secret || keep_value(&c[3], true) {
                    return c[0].to_string();
                }
                format!("{}{}{MARKER}", &c[1], &c[2])
            },
        ),
        // key = value where the key names a secret (env dumps, YAML, JSON, query strings).
        // On the runner's artifacts line the group takes the line from `artifacts` on (see
        // `runner_short_token`): the key is then its last word.
        rule(
            r#"(?i)((?:artifacts [^\n]*?coordinator\.\.\.[^\n]*?[ \t]responseStatus=[^\n]*?[ \t])?[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|passphrase|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|(?:master|signing|encryption|secret|ssh|deploy|license|session)[_\-]?key|credentials?|pwd)[A-Za-z0-9_.\-]*)(["']?[ \t]*(?:=>|:=|=|:)[ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\$\{[A-Za-z_][A-Za-z0-9_]*\}|unbound variable\b|parameter null or not set\b|[^\s"'`,;&<>(){}]+)"#,
            |c| {
                let key = &c[1];
                let value = &c[3];
                let (context, bare_key) = key.rsplit_once([' ', '\t']).unwrap_or(("", key));
                if !context.is_empty() && runner_short_token(bare_key, value) {
                    return c[0].to_string();
                }
                let lower = bare_key.to_ascii_lowercase();
                // The shell's words about a variable it does not have (`set -u`, `${X:?}`):
                // `DEPLOY_TOKEN: unbound variable` names the secret, it prints none.
                let shell_says_unset =
                    matches!(value, "unbound variable" | "parameter null or not set");
                if lower == "pwd"
                    || lower == "oldpwd"
                    || shell_says_unset
                    || is_source_location(bare_key, value)
                {
                    return c[0].to_string();
                }
                let strict = ["pass", "pwd", "secret", "credential", "private"]
                    .iter()
                    .any(|w| lower.contains(w));
                if keep_value(value, strict) {
                    return c[0].to_string();
                }
                let quoted = value.len() >= 2
                    && (value.starts_with('"') || value.starts_with('\''))
                    && value.ends_with(&value[..1]);
                if quoted {
                    let q = &value[..1];
                    format!("{key}{}{q}{MARKER}{q}", &c[2])
                } else {
                    format!("{key}{}{MARKER}", &c[2])
                }
            },
        ),
        // Any key=value whose value looks like random key material.
        rule(
            r#"\b([A-Za-z_][A-Za-z0-9_.\-]*)(["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9+/=_\-]{20,})([^A-Za-z0-9+/=_\-.:@\[]|$)"#,
            |c| {
                if !names_an_identifier(&c[1]) && looks_random(&c[3]) {
                    format!("{}{}{MARKER}{}", &c[1], &c[2], &c[4])
                } else {
                    c[0].to_string()
                }
            },
        ),
    ]
});

/// GitLab's token prefixes (the `gitlab-token` rule's alternatives).
const GITLAB_TOKEN_PREFIXES: [&str; 13] = [
    "glpat", "gloas", "gldt", "glrt", "glrtr", "glcbt", "glptt", "glft", "glimt", "glagent",
    "glsoat", "glffct", "glwt",
];

/// A compiler's or a test runner's location (`TokenizerTest.java:3: error`,
/// `password_test.go:41:`, pytest's `test_tokens.py::test_refresh`): a source file named after
/// a secret, then a line number or a test's name, is not a key and its value.
fn is_source_location(key: &str, value: &str) -> bool {
    const SOURCE: &[&str] = &[
        "java", "kt", "kts", "scala", "groovy", "py", "go", "rs", "rb", "js", "mjs", "cjs", "ts",
        "tsx", "jsx", "c", "h", "cc", "cpp", "hpp", "cs", "php", "swift", "ex", "exs", "erl", "hs",
        "ml", "d", "zig", "pas", "f90", "adb", "ads", "lua", "pl", "pm", "sh", "sql",
    ];
    let is_source = key
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && SOURCE.contains(&ext));
    // pytest's node id, `tests/test_tokens.py::test_token_refresh`: the file, then the test.
    let node_id = value.strip_prefix(':').is_some_and(|t| {
        !t.is_empty()
            && t.split("::")
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    });
    if is_source && node_id {
        return true;
    }
    let digits = value.trim_end_matches(':');
    is_source
        && !digits.is_empty()
        && digits
            .split(':')
            .all(|p| !p.is_empty() && p.len() <= 7 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `token=<value>` at the end of gitlab-runner's own artifacts line, `Uploading artifacts as
/// "archive" to coordinator... ok  id=1234567 responseStatus=201 Created token=A2Ehhxi2` (and
/// `Downloading artifacts from coordinator...`): the runner logs the job token through
/// `helpers.ShortenToken`, which keeps its first 8 characters (older runners) or 9 after the
/// `glcbt-` prefix (runners from 2025 on). A prefix no one can use; reporting it as a leaked
/// secret is a false alarm. Only in that line (the key=value rule's pattern matches it whole):
/// `?token=A2Ehhxi2`, `-F token=…`, `--token=…` elsewhere stay secrets.
fn runner_short_token(key: &str, value: &str) -> bool {
    key.eq_ignore_ascii_case("token")
        && matches!(value.len(), 8 | 9)
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Values that are not secrets even under a secret-sounding key.
fn keep_value(raw: &str, strict: bool) -> bool {
    let v = raw.trim_matches(|c| c == '"' || c == '\'');
    // JSON/YAML structure after a key (`"secrets": [`, `token: {`) opens a value, is none.
    if v.is_empty()
        || v.chars().all(|c| "[]{}(),:|>-".contains(c))
        || v.starts_with("[REDACTED")
        || v.starts_with("[MASKED]")
        || v.starts_with("***")
    {
        return true;
    }
    let is_var = |s: &str| {
        let name = s
            .strip_prefix("${")
            .and_then(|s| s.strip_suffix('}'))
            .or_else(|| s.strip_prefix('$'));
        name.is_some_and(|n| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
        })
    };
    if is_var(v) {
        return true;
    }
    // The runner's log of an artifact upload shows the job token cut to its first characters
    // (`responseStatus=201 Created token=glcbt-64`): a prefix no one can use. Every GitLab
    // token is 20 characters or more after its prefix.
    if v.len() < 16
        && GITLAB_TOKEN_PREFIXES
            .iter()
            .any(|p| v.strip_prefix(p).is_some_and(|rest| rest.starts_with('-')))
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "none" | "nil" | "undefined" | "yes" | "no" | "required"
            // Prose and shell around a secret's name, not a secret (`token: export X=…`,
            // `token: missing`, `password is not set`).
            | "export" | "set" | "unset" | "is" | "was" | "not" | "missing" | "expired"
            | "invalid" | "revoked" | "empty" | "unknown" | "optional" | "provided"
    ) {
        return true;
    }
    // A variable's name (`token: DEPLOY_TOKEN`): upper case with an underscore.
    if v.contains('_')
        && v.starts_with(|c: char| c.is_ascii_uppercase())
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return true;
    }
    // Counters and sizes (`max_tokens=8192`) under token-ish keys; never for passwords.
    !strict && v.len() <= 10 && v.chars().all(|c| c.is_ascii_digit())
}

/// Keys whose values are identifiers or digests by name (`request_id`, `X-Request-Id`, `sha`).
fn names_an_identifier(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "id", "sha", "digest", "hash", "checksum", "etag", "uuid", "ulid",
    ]
    .iter()
    .any(|s| k == *s || k.ends_with(&format!("_{s}")) || k.ends_with(&format!("-{s}")))
        || k.ends_with("id") && key.ends_with("Id")
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Random-looking key material, as opposed to identifiers, words, hex digests and UUIDs.
fn looks_random(v: &str) -> bool {
    if v.len() < 20 {
        return false;
    }
    let seps = v.chars().filter(|c| matches!(c, '-' | '_' | '.')).count();
    // Branch names and paths (`feature/ABC-123_x`) have separators; base64 secrets with `/`
    // have none of `-_.`.
    if v.contains('/') && seps > 0 {
        return false;
    }
    // Tokens made of parts (`linux-x86_64-cargo-<hex>`) are random only when one part is.
    let longest = v
        .split(['-', '_', '.'])
        .max_by_key(|s| s.len())
        .unwrap_or(v);
    longest.len() >= 16 && segment_random(longest)
}

fn segment_random(s: &str) -> bool {
    if s.chars().all(|c| c.is_ascii_hexdigit()) {
        // Commit shas, sha256 digests: identifiers, not secrets.
        return false;
    }
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let upper = s.chars().filter(|c| c.is_ascii_uppercase()).count();
    let lower = s.chars().filter(|c| c.is_ascii_lowercase()).count();
    if digits == 0 || upper + lower == 0 {
        return false;
    }
    // Random strings use nearly every draw for a new symbol; words repeat letters.
    let threshold = ((s.len() as f64).log2() - 0.7).min(4.3);
    let e = entropy(s);
    let mixed = upper > 0 && lower > 0;
    e >= threshold && (mixed || digits * 4 >= s.len())
}

/// The operator's own secrets (the GitLab token, the LLM keys) as configured: redacted as
/// literals wherever they appear, whatever their shape. Self-managed GitLab allows custom token
/// prefixes and legacy tokens have none, so no pattern would catch them.
static CONFIGURED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Marker for a configured secret.
pub const CONFIGURED_MARKER: &str = "[REDACTED:configured-secret]";

/// Shortest value registered: shorter ones would redact ordinary words.
pub const MIN_CONFIGURED_LEN: usize = 8;

/// Adds `secret` to the literals redacted everywhere (prompts, audit, logs, screen) for the
/// rest of the process. Too short or marker-like values are ignored.
pub fn register_secret(secret: &str) {
    let s = secret.trim();
    if s.chars().count() < MIN_CONFIGURED_LEN
        || CONFIGURED_MARKER.contains(s)
        || MARKER.contains(s)
        || s.contains("[REDACTED")
    {
        return;
    }
    let mut g = CONFIGURED.write().unwrap_or_else(|e| e.into_inner());
    if !g.iter().any(|x| x == s) {
        g.push(s.to_string());
        // Longest first, so a secret that contains another is replaced whole.
        g.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

fn redact_configured(text: &str) -> Cow<'_, str> {
    let g = CONFIGURED.read().unwrap_or_else(|e| e.into_inner());
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    for secret in g.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), CONFIGURED_MARKER));
        }
    }
    out
}

/// Every rule as one set, widened (see [`widen`]): a text none of them matches comes out of
/// `redact` unchanged. `None` if the set outgrows the regex size limit; then every text is a
/// candidate for every rule. A `meta::Regex` rather than a `regex::RegexSet`: the set keeps a
/// lazy DFA cache per thread that ever used it for the life of the program (3 MiB after one
/// background diagnosis in the TUI); here the cache belongs to a [`Screen`] and goes with it.
static ANY_RULE: LazyLock<Option<meta::Regex>> = LazyLock::new(|| {
    let config = meta::Config::new()
        .nfa_size_limit(Some(10 << 20))
        // Room for the lazy DFA of all rules at once: when its cache thrashes, matching falls
        // back to a far slower engine.
        .hybrid_cache_capacity(64 << 20)
        // Every rule that matches anywhere, as `RegexSet::matches` reports them.
        .match_kind(regex_automata::MatchKind::All)
        // Which rules match, never where their groups are: the whole match only.
        .which_captures(regex_automata::nfa::thompson::WhichCaptures::Implicit);
    // The rules' own syntax (`regex::Regex`'s defaults: Unicode, UTF-8).
    let syntax = regex_automata::util::syntax::Config::new();
    let hirs = RULES
        .iter()
        .map(|r| {
            regex_automata::util::syntax::parse_with(r.re.as_str(), &syntax)
                .ok()
                .map(widen)
        })
        .collect::<Option<Vec<_>>>()?;
    meta::Builder::new()
        .configure(config)
        .build_many_from_hir(&hirs)
        .ok()
});

/// A pattern that matches wherever `hir` does, without counted repetitions: `{20,}` becomes
/// `+`, `{0,2}` `*`, `{16}` `+`. The screen only says which rules may match (each rule then
/// runs its own exact regex), and counters are what makes the set's lazy DFA explode: over
/// a log's hashes and base64 every position inside a long token is a different count for each
/// of a dozen `{16,}`..`{50,}` rules at once, so the DFA got a state per combination. On a real
/// 3 MB CI log the exact set built 54 MiB of states in 290 ms before it matched 443 lines; the
/// widened one builds 2.6 MiB in 20 ms and passes 3,094 lines on to the rules.
fn widen(hir: Hir) -> Hir {
    match hir.into_kind() {
        HirKind::Repetition(rep) => {
            let sub = Box::new(widen(*rep.sub));
            let counted = rep.min > 1 || rep.max.is_some_and(|max| max > 1);
            if counted {
                Hir::repetition(Repetition {
                    min: rep.min.min(1),
                    max: None,
                    greedy: rep.greedy,
                    sub,
                })
            } else {
                Hir::repetition(Repetition { sub, ..rep })
            }
        }
        HirKind::Capture(cap) => Hir::capture(Capture {
            sub: Box::new(widen(*cap.sub)),
            ..cap
        }),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(widen).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(widen).collect()),
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
    }
}

/// Redaction for many texts in a row (the diagnosis's secrets scan of every line of a trace):
/// one lazy DFA pass per text says whether any rule, and which, can change it, with a cache
/// that lives as long as the screen.
pub struct Screen {
    cache: Option<meta::Cache>,
    /// The rules that matched the last text (kept to spare an allocation per text).
    found: Option<PatternSet>,
}

impl Default for Screen {
    fn default() -> Self {
        Self::new()
    }
}

impl Screen {
    pub fn new() -> Self {
        Self {
            cache: ANY_RULE.as_ref().map(|re| re.create_cache()),
            found: ANY_RULE
                .as_ref()
                .map(|re| PatternSet::new(re.pattern_len())),
        }
    }

    /// Heap bytes of the lazy DFA cache.
    pub fn memory_usage(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.memory_usage())
    }

    /// `false` only when [`redact`] would return `text` unchanged (no rule matches it and it
    /// holds no configured secret).
    pub fn may_redact(&mut self, text: &str) -> bool {
        let rule_hit = match (ANY_RULE.as_ref(), self.cache.as_mut()) {
            (Some(re), Some(cache)) => re
                .search_with(cache, &Input::new(text).earliest(true))
                .is_some(),
            _ => true,
        };
        rule_hit || holds_configured(text)
    }

    /// The rules that match `text` somewhere; `None` when there is no set (every rule may).
    fn matching_rules(&mut self, text: &str) -> Option<&PatternSet> {
        let (re, cache, set) = (
            ANY_RULE.as_ref()?,
            self.cache.as_mut()?,
            self.found.as_mut()?,
        );
        set.clear();
        re.which_overlapping_matches_with(cache, &Input::new(text), set);
        Some(set)
    }

    /// [`redact`] with this screen's cache.
    pub fn redact<'t>(&mut self, text: &'t str) -> Cow<'t, str> {
        // Which rules match at all: a rule that does not match the text leaves it as it is, so
        // until some rule changes the text, only these need their own search. Nearly every text
        // holds no secret: this one pass is all it costs (and the rules' own lazy DFA caches,
        // one per rule per thread, kept for the life of the program by `regex`, stay with the
        // threads that did see a candidate). Most texts that match anything match one rule
        // that keeps what it found (`image: repo/name:some-long-tag-name`, a compiler flag
        // `-Wno-error=unused-but-set-variable`): one search instead of one per rule (a big
        // trace's secrets scan spent most of its time there).
        let configured = holds_configured(text);
        let mut out: Cow<'_, str> = if configured {
            redact_configured(text)
        } else {
            Cow::Borrowed(text)
        };
        let first = match self.matching_rules(&out) {
            Some(m) if m.is_empty() && !configured => return Cow::Borrowed(text),
            m => m.cloned(),
        };
        let mut pristine = true;
        // A replacement can expose a match to a rule that already ran (a marker ends a word
        // that hid a token's start): run again until nothing changes, which makes redaction
        // idempotent.
        for _ in 0..4 {
            let mut changed = false;
            for (i, rule) in RULES.iter().enumerate() {
                if pristine
                    && first
                        .as_ref()
                        .is_some_and(|m| !m.contains(PatternID::new_unchecked(i)))
                {
                    continue;
                }
                let replaced = rule.re.replace_all(&out, |c: &Captures| (rule.apply)(c));
                if let Cow::Owned(new) = replaced {
                    if new != *out {
                        changed = true;
                        pristine = false;
                    }
                    out = Cow::Owned(new);
                }
            }
            if !changed {
                break;
            }
        }
        out
    }
}

fn holds_configured(text: &str) -> bool {
    let g = CONFIGURED.read().unwrap_or_else(|e| e.into_inner());
    g.iter().any(|s| text.contains(s.as_str()))
}

/// The one screen kept between calls of [`redact`]: taken for a call, put back after it; a
/// concurrent call makes its own and drops it. A pool per thread (what `regex` keeps) would
/// hold one cache per thread that ever redacted, for the life of the program. A cache that a
/// big text grew past this goes with it.
const KEEP_SCREEN_AT_MOST: usize = 1 << 20;

static SPARE_SCREEN: std::sync::Mutex<Option<Screen>> = std::sync::Mutex::new(None);

/// Replaces every secret in `text` by a `[REDACTED...]` marker.
pub fn redact(text: &str) -> Cow<'_, str> {
    let taken = SPARE_SCREEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let mut screen = taken.unwrap_or_default();
    let out = screen.redact(text);
    if screen.memory_usage() <= KEEP_SCREEN_AT_MOST {
        let mut slot = SPARE_SCREEN.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(screen);
        }
    }
    out
}

/// Lines (0-based, inclusive ranges) that belong to a multi-line secret block — a private key
/// from its `-----BEGIN … PRIVATE KEY-----` line to its END line, or, when the END line is
/// missing (a cut log), to the last line that still looks like key material. A viewer that
/// redacts line by line hides these lines whole: a key's body lines match no single-line rule.
pub fn secret_block_lines<'a, I>(lines: I) -> Vec<(usize, usize)>
where
    I: IntoIterator<Item = Cow<'a, str>>,
{
    let mut out = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for (i, line) in lines.into_iter().enumerate() {
        let l = line.as_ref();
        match open {
            None => {
                if opens_private_key(l) {
                    if closes_private_key(l) {
                        out.push((i, i));
                    } else {
                        open = Some((i, i));
                    }
                }
            }
            Some((start, last)) => {
                if closes_private_key(l) {
                    out.push((start, i));
                    open = None;
                } else if is_key_material(l) {
                    open = Some((start, i));
                } else {
                    out.push((start, last));
                    open = None;
                }
            }
        }
    }
    if let Some(range) = open {
        out.push(range);
    }
    out
}

/// `secret_block_lines` over an indexed log without touching every line's text: `has_marker(i)`
/// is a cheap byte test (does line `i` mention `PRIVATE KEY` at all?), `text(i)` renders a line
/// only for candidates and the lines of a block. For viewers and excerpts that work line by
/// line on logs of any size.
pub fn secret_block_ranges<'a>(
    n: usize,
    has_marker: impl Fn(usize) -> bool,
    text: impl Fn(usize) -> Cow<'a, str>,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !has_marker(i) || !opens_private_key(&text(i)) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        if !closes_private_key(&text(i)) {
            let mut j = i + 1;
            while j < n {
                let l = text(j);
                if closes_private_key(&l) {
                    end = j;
                    break;
                }
                if !is_key_material(&l) {
                    break;
                }
                end = j;
                j += 1;
            }
        }
        out.push((start, end));
        i = end + 1;
    }
    out
}

/// Whether `line` falls in one of the sorted, disjoint `ranges`.
pub fn in_ranges(ranges: &[(usize, usize)], line: usize) -> bool {
    let i = ranges.partition_point(|&(_, end)| end < line);
    ranges.get(i).is_some_and(|&(start, _)| start <= line)
}

/// The line that starts a private key block.
pub fn opens_private_key(l: &str) -> bool {
    l.contains("-----BEGIN") && l.contains("PRIVATE KEY")
}

/// The line that ends one.
pub fn closes_private_key(l: &str) -> bool {
    l.contains("-----END") && l.contains("PRIVATE KEY")
}

/// A PEM body line (base64, no spaces), an empty line or a PEM/PGP armor header
/// (`Proc-Type: 4,ENCRYPTED`). Anything else ends a block cut off before its END line: the log
/// lines after it (`ERROR: build failed`) are not key material.
pub fn is_key_material(l: &str) -> bool {
    let t = l.trim();
    let base64 = t.trim_end_matches('=');
    t.is_empty()
        || (t.len() - base64.len() <= 2
            && base64
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/')))
        || ["Proc-Type:", "DEK-Info:", "Comment:", "Version:", "Hash:"]
            .iter()
            .any(|h| t.starts_with(h))
}

/// `redact` for owned strings (fields of records about to be written).
/// [`redact`] on every string inside a JSON value (keys are the program's own field names).
/// Serialised JSON must never be redacted as text: a rule that takes a secret's value up to
/// a quote also takes the backslash that escaped it (`Bearer $TOKEN\"` in a quoted shell
/// line), and the output stops being JSON.
pub fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

pub fn redact_owned(text: String) -> String {
    match redact(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One secret per entry, in the context it is usually found in; the needle must not survive.
    const SECRETS: &[(&str, &str)] = &[
        // A key with a dot is still a key when no source file is named (`db.password`).
        ("db.password: 20481024", "20481024"),
        (
            "export GITLAB_TOKEN=glpat-Abc123xYz789DefGhi012",
            "glpat-Abc123xYz789DefGhi012",
        ),
        (
            "using token glpat-xxxxxxxxxxxxxxxxxxxx.01.0r03gxo7a for the API",
            "glpat-xxxxxxxxxxxxxxxxxxxx.01.0r03gxo7a",
        ),
        (
            "deploy token gldt-8sXyZAbCdEfGh1234567 expired",
            "gldt-8sXyZAbCdEfGh1234567",
        ),
        (
            "runner registered with glrt-t1_Yx8pQ2ZkW3rT9vLm4NaB",
            "glrt-t1_Yx8pQ2ZkW3rT9vLm4NaB",
        ),
        (
            "CI_JOB_TOKEN is glcbt-64_Zx9Yw8Vu7Ts6Rq5Po4Nm3",
            "glcbt-64_Zx9Yw8Vu7Ts6Rq5Po4Nm3",
        ),
        (
            "client secret gloas-3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            "gloas-3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
        ),
        (
            "curl -X POST -F token=glptt-0123456789abcdefABCD https://gitlab.example.com/api/v4/projects/1/trigger/pipeline",
            "glptt-0123456789abcdefABCD",
        ),
        (
            "feed: https://gitlab.example.com/dashboard/projects.atom?feed_token=glft-aBcDeFgHiJkLmNoPqRsT",
            "glft-aBcDeFgHiJkLmNoPqRsT",
        ),
        (
            "scim glsoat-Q1w2E3r4T5y6U7i8O9p0AsDf",
            "glsoat-Q1w2E3r4T5y6U7i8O9p0AsDf",
        ),
        (
            "incoming mail glimt-2k3j4h5g6f7d8s9a0qwer",
            "glimt-2k3j4h5g6f7d8s9a0qwer",
        ),
        (
            "agent token glagent-Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh",
            "glagent-Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh",
        ),
        (
            "gitlab-runner register --registration-token GR1348941aBcDeFgHiJkLmNoPqRsT",
            "GR1348941aBcDeFgHiJkLmNoPqRsT",
        ),
        (
            "Cookie: _gitlab_session=4f1c2b3a9e8d7c6b5a4f3e2d1c0b9a8f",
            "4f1c2b3a9e8d7c6b5a4f3e2d1c0b9a8f",
        ),
        (
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "AWS_SESSION_TOKEN=FwoGZXIvYXdzEJr//////////wEaDOexampleSessionToken123",
            "FwoGZXIvYXdzEJr",
        ),
        (
            "key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY&q=x",
            "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        ),
        (
            "x-goog-api-key: AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\nZ1BjP5CE/Wm/Rr500P\n-----END RSA PRIVATE KEY-----",
            "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi",
        ),
        (
            "{\"key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n\"}",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n[log truncated]",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        ),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0z8pQBCADXm5x\n-----END PGP PRIVATE KEY BLOCK-----",
            "lQOYBF0z8pQBCADXm5x",
        ),
        (
            "id_token: eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        (
            "SLACK_TOKEN xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        ),
        (
            "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "T00000000/B00000000",
        ),
        (
            "gh auth with ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
        ),
        ("Authorization: Bearer mF_9.B5f-4.1JqM", "mF_9.B5f-4.1JqM"),
        ("authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        (
            "curl --header \"PRIVATE-TOKEN: s3cr3tvalue\" https://gitlab.example.com/api/v4/user",
            "s3cr3tvalue",
        ),
        ("{\"Authorization\": \"token 0123abcd\"}", "0123abcd"),
        (
            "Cloning into 'app'... https://oauth2:hunter2pass@gitlab.example.com/group/app.git",
            "hunter2pass",
        ),
        (
            "DATABASE_URL=postgres://app:Sup3rS3cret@db.internal:5432/app",
            "Sup3rS3cret",
        ),
        (
            "remote: https://AbCdEf0123456789GhIjKlMn@github.com/org/repo.git",
            "AbCdEf0123456789GhIjKlMn",
        ),
        ("DB_PASSWORD=hunter2", "hunter2"),
        (
            "password: \"correct horse battery staple\"",
            "correct horse",
        ),
        ("{\"client_secret\":\"abc.def-ghi\"}", "abc.def-ghi"),
        ("api_key='k-9f8e7d6c'", "k-9f8e7d6c"),
        ("apiKey: live_1a2b3c", "live_1a2b3c"),
        ("SECRET_KEY_BASE=notveryrandom", "notveryrandom"),
        ("mysql --password=letmein -h db", "letmein"),
        ("vault login --token s.Q1w2e3r4", "s.Q1w2e3r4"),
        (
            "https://api.example.com/v1?access_token=tok123abc&page=2",
            "tok123abc",
        ),
        (
            "RAILS_MASTER_KEY: 9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c",
            "9f8a7b6c5d4e3f2a",
        ),
        (
            "signing_key=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg==",
            "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg",
        ),
        (
            "OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34",
            "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34",
        ),
        (
            "npm config set //registry.npmjs.org/:_authToken npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        (
            "WEBHOOK_SIG=q8Zt2LmX9vKp4Rw7Ny1Bs3Cd ok",
            "q8Zt2LmX9vKp4Rw7Ny1Bs3Cd",
        ),
        (
            "env: HOOK_URL_PART: 'xq81ZT-kd92Lm4Np7Rt1Vw5Ys0Bc3'",
            "kd92Lm4Np7Rt1Vw5Ys0Bc3",
        ),
        (
            "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        ),
        // A short token is still a secret outside the runner's artifacts line.
        (
            "curl -F token=abcd1234 -F ref=main https://gitlab.example.com/api/v4/projects/1/trigger/pipeline",
            "abcd1234",
        ),
        (
            "GET https://hooks.example.com/deploy?token=A2Ehhxi2",
            "A2Ehhxi2",
        ),
        ("$ ./release --token=A2Ehhxi2 --dry-run", "A2Ehhxi2"),
        // On that line, a value longer than the runner's prefix, or under another key.
        (
            "Uploading artifacts as \"archive\" to coordinator... ok  id=1234567 responseStatus=201 Created token=A2Ehhxi2Zx9Yw8Vu7Ts6",
            "A2Ehhxi2Zx9Yw8Vu7Ts6",
        ),
        (
            "Uploading artifacts as \"archive\" to coordinator... ok  id=1234567 responseStatus=201 Created password=A2Ehhxi2",
            "A2Ehhxi2",
        ),
        (
            "$ docker login -u deploy -p Xq9vR2mT7kLp registry.example.com",
            "Xq9vR2mT7kLp",
        ),
        (
            "podman login registry.example.com -u bot -p='s3cr3t pass'",
            "s3cr3t pass",
        ),
        (
            "DOCKER_AUTH_CONFIG={\"auths\":{\"registry.example.com\":{\"auth\":\"ZGVwbG95Omh1bnRlcjI=\"}}}",
            "ZGVwbG95Omh1bnRlcjI=",
        ),
        (
            "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYXNz\", \"identitytoken\": \"eyJhbGciOiJIUzI1NiJ9abc\"}}}",
            "dXNlcjpwYXNz",
        ),
        (
            "curl -H 'Bearer 9f8e7d6c5b4a3f2e1d0c' https://api.example.com",
            "9f8e7d6c5b4a3f2e1d0c",
        ),
        ("sending Bearer abcDEF123456xyz now", "abcDEF123456xyz"),
    ];

    /// Look-alikes that carry meaning for diagnosis and must survive unchanged.
    const BENIGN: &[&str] = &[
        "CI_COMMIT_SHA=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        "Checking out 9f86d081 as detached HEAD (ref is main)...",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "digest=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request_id=123e4567-e89b-12d3-a456-426614174000",
        "X-Request-Id: 01J8Z3K4M5N6P7Q8R9S0T1V2W3",
        "job_id=4711 pipeline_id=901 project_id=1",
        "Job succeeded in 123 seconds",
        "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
        "![screenshot](data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYHBwcHBwYH)",
        "ref=feature/ABC-123_improve-Caching2",
        "image: registry.gitlab.com/acme/platform/builder:1.24.3-bookworm",
        "PWD=/builds/acme/platform",
        "max_tokens=8192",
        "token_budget = 32000",
        "password: $DB_PASSWORD",
        "export GITLAB_TOKEN=${CI_JOB_TOKEN}",
        "docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY",
        "git clone https://gitlab-ci-token:[MASKED]@gitlab.example.com/acme/platform.git",
        "ssh://git@gitlab.example.com:2222/acme/platform.git",
        "Fetching https://gitlab.example.com/acme/platform/-/merge_requests/42",
        "ERROR: Job failed (system failure): Error response from daemon: no such image",
        "npm ERR! code E401 Unable to authenticate, need: Basic realm=\"GitHub\"",
        "The token was rejected: check the scope",
        "author=alice reviewer=bob",
        "module=SomeVeryLongModuleNameForTesting",
        "cache key: linux-x86_64-cargo-abcdef0123456789",
        "coverage: 87.5%",
        "eyJhbGciOi is not a complete token",
        "git-lfs/3.4.0 (GitHub; linux amd64; go 1.21.1)",
        "Uploading artifacts as \"archive\" to coordinator... 201 Created  id=4711 responseStatus=201 Created token=[REDACTED]",
        // The runner prints the job token cut short there: a prefix, not a credential.
        "Uploading artifacts as \"archive\" to coordinator... 201 Created  id=825434252 responseStatus=201 Created token=glcbt-64",
        // Older runners keep the first 8 characters of a token without a prefix, newer ones 9
        // after `glcbt-` (gitlab-runner's helpers/shorten_token.go).
        "Uploading artifacts as \"archive\" to coordinator... ok  id=1234567 responseStatus=201 Created token=A2Ehhxi2",
        "Uploading artifacts as \"archive\" to coordinator... ok  id=1234567 responseStatus=201 Created token=64_Zx9Yw8",
        "Downloading artifacts from coordinator... ok  id=1234566 responseStatus=200 OK token=A2Ehhxi2",
        "docker login -u gitlab-ci-token -p $CI_JOB_TOKEN $CI_REGISTRY",
        "docker run -p 8080:80 nginx",
        "Bearer token was rejected",
        "WWW-Authenticate: Bearer realm=\"GitLab\"",
        // Our own JSON: a key named like a secret opening an array or object.
        "  \"secrets\": [",
        "  \"tokens\": {",
        "api_key: |",
        // Source locations of files named after secrets.
        "src/test/java/com/acme/search/TokenizerTest.java:3: error: package org.junit does not exist",
        "tests/test_password_reset.py:41: AssertionError",
        "FAILED tests/test_tokens.py::test_token_for_billing_scope - ServerDisconnectedError",
        "tests/auth/test_secrets.py::TestRotation::test_rotates PASSED",
        // The shell naming a variable it does not have.
        "/builds/a/deploy.sh: line 9: DEPLOY_TOKEN: unbound variable",
        "bash: line 3: REGISTRY_PASSWORD: parameter null or not set",
    ];

    #[test]
    fn no_secret_survives() {
        for (text, needle) in SECRETS {
            let out = redact(text);
            assert!(
                !out.contains(needle),
                "secret survived:\n  in:  {text}\n  out: {out}"
            );
            assert!(out.contains("[REDACTED"), "no marker in {out}");
        }
    }

    #[test]
    fn benign_look_alikes_are_kept() {
        for text in BENIGN {
            assert_eq!(redact(text), *text, "benign text changed");
        }
    }

    #[test]
    fn the_runners_short_job_token_is_no_secret_finding() {
        let log = "Uploading artifacts for successful job\n\
                   Uploading artifacts as \"archive\" to coordinator... ok  id=1234567 responseStatus=201 Created token=A2Ehhxi2\n\
                   Job succeeded\n";
        let index = crate::diagnose::log::LogIndex::parse(std::sync::Arc::new(log.into()));
        assert_eq!(crate::diagnose::secrets::scan(&index), vec![]);
        // The same value in a URL on the next line is one.
        let log = format!("{log}curl https://hooks.example.com/deploy?token=A2Ehhxi2\n");
        let index = crate::diagnose::log::LogIndex::parse(std::sync::Arc::new(log.into()));
        let found = crate::diagnose::secrets::scan(&index);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].lines, vec![4]);
    }

    #[test]
    fn context_around_a_secret_is_kept() {
        let out = redact("Authorization: Bearer glpat-Abc123xYz789DefGhi012 for job 4711");
        assert_eq!(
            out,
            "Authorization: Bearer [REDACTED:gitlab-token] for job 4711"
        );
        let out = redact("git clone https://oauth2:s3cret@gitlab.example.com/a/b.git");
        assert_eq!(
            out,
            "git clone https://oauth2:[REDACTED]@gitlab.example.com/a/b.git"
        );
        assert_eq!(
            redact("DB_PASSWORD=\"x y\" next"),
            "DB_PASSWORD=\"[REDACTED]\" next"
        );
        assert_eq!(
            redact("password:\nnext: line"),
            "password:\nnext: line",
            "an empty YAML value must not swallow the next line"
        );
    }

    #[test]
    fn configured_secrets_are_redacted_whatever_their_shape() {
        // A legacy token (no prefix), a custom-prefix token, an LLM key of no known format.
        for secret in [
            "a1B2c3D4e5F6g7H8i9J0",
            "corp_tok_Zq81kdmX",
            "llm-key-7hG3pQ",
        ] {
            register_secret(secret);
            let text = format!("token used: {secret}, again:{secret}.");
            let out = redact(&text);
            assert!(!out.contains(secret), "{out}");
            assert!(out.contains(CONFIGURED_MARKER), "{out}");
            assert_eq!(redact(&out), out, "idempotent");
        }
        // Too short to register: ordinary words stay.
        register_secret("pass");
        assert_eq!(redact("bypass the pass"), "bypass the pass");
        register_secret("configured");
        assert_eq!(redact(CONFIGURED_MARKER), CONFIGURED_MARKER);
    }

    #[test]
    fn private_key_bodies_are_found_across_lines() {
        let log = "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\nok\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n$ next command\n";
        let ranges = secret_block_lines(log.lines().map(Cow::Borrowed));
        assert_eq!(ranges, vec![(1, 4), (6, 7)]);
        // Redacting the block before splitting leaves no body line either.
        let whole = redact(log);
        assert!(!whole.contains("b3BlbnNzaC1"), "{whole}");
        assert!(!whole.contains("AAAAEbm9uZQ"), "{whole}");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(redact("nothing to see here"), Cow::Borrowed(_)));
    }

    /// The one-pass screen never lets a secret through: every corpus secret is a candidate,
    /// and a text it clears comes back from `redact` unchanged.
    #[test]
    fn may_redact_screens_exactly() {
        let mut screen = Screen::new();
        let mut may_redact = |t: &str| screen.may_redact(t);
        for (text, _) in SECRETS {
            assert!(may_redact(text), "{text}");
        }
        for text in [
            "nothing to see here",
            "   Compiling serde v1.0.200",
            "rstrip.sh: /home/build/openwrt/lib/modules/5.4.63/gspca.ko: relocatable",
            "token: missing",
        ] {
            if !may_redact(text) {
                assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
            }
        }
        assert!(!may_redact("nothing to see here"));
    }

    /// `redact` as it was before the set guided it: every rule, every pass.
    fn every_rule(text: &str) -> String {
        let mut out = redact_configured(text).into_owned();
        for _ in 0..4 {
            let mut changed = false;
            for rule in RULES.iter() {
                let new = rule
                    .re
                    .replace_all(&out, |c: &Captures| (rule.apply)(c))
                    .into_owned();
                changed |= new != out;
                out = new;
            }
            if !changed {
                break;
            }
        }
        out
    }

    #[test]
    fn set_guided_redaction_equals_every_rule_on_the_corpus() {
        let kept = [
            "Using Docker executor with image openwrtorg/sdk:ath79-generic-master ...",
            "gcc -Wno-error=unused-but-set-variable -Wno-error=unused-result -c x.c",
        ];
        for text in SECRETS
            .iter()
            .map(|(t, _)| *t)
            .chain(BENIGN.iter().copied())
            .chain(kept)
        {
            assert_eq!(redact(text), every_rule(text), "{text}");
        }
    }

    #[test]
    fn corpus_is_idempotent() {
        for (text, _) in SECRETS {
            let once = redact(text).into_owned();
            assert_eq!(redact(&once), once);
        }
    }

    fn fragment() -> impl Strategy<Value = String> {
        let fixed: Vec<String> = SECRETS
            .iter()
            .map(|(t, _)| t.to_string())
            .chain(BENIGN.iter().map(|t| t.to_string()))
            .chain(
                [
                    "token",
                    "password",
                    "=",
                    ": ",
                    "\"",
                    "'",
                    "\n",
                    " ",
                    "://",
                    "@",
                    "Bearer ",
                    "[REDACTED]",
                    "glpat-",
                    "AKIA",
                    "-----BEGIN RSA PRIVATE KEY-----",
                    "\\n",
                ]
                .iter()
                .map(|s| s.to_string()),
            )
            .collect();
        prop_oneof![
            3 => proptest::sample::select(fixed),
            1 => "[A-Za-z0-9+/=_\\-.:@ ]{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn redaction_is_idempotent(parts in proptest::collection::vec(fragment(), 0..8)) {
            let text = parts.concat();
            let once = redact(&text).into_owned();
            let twice = redact(&once).into_owned();
            prop_assert_eq!(twice, once);
        }

        /// Skipping the rules the set says do not match changes nothing: the same text as
        /// running every rule in every pass.
        #[test]
        fn set_guided_redaction_equals_every_rule(parts in proptest::collection::vec(fragment(), 0..8)) {
            let text = parts.concat();
            prop_assert_eq!(redact(&text).into_owned(), every_rule(&text));
        }

        /// The widened screen passes every text some rule matches (it may pass more).
        #[test]
        fn the_screen_passes_whatever_a_rule_matches(parts in proptest::collection::vec(fragment(), 0..8)) {
            let text = parts.concat();
            let exact = RULES.iter().any(|r| r.re.is_match(&text));
            prop_assert!(!exact || Screen::new().may_redact(&text), "{:?}", text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = redact(&text);
        }
    }

    /// Counted repetitions are widened, not dropped: `{0,2}` may match nothing, `{16}` needs
    /// one character at least, and the look-arounds stay.
    #[test]
    fn widening_keeps_what_a_pattern_needs() {
        let syntax = regex_automata::util::syntax::Config::new();
        let widened = |p: &str| {
            let hir = regex_automata::util::syntax::parse_with(p, &syntax).unwrap();
            meta::Regex::builder().build_from_hir(&widen(hir)).unwrap()
        };
        let re = widened(r"\bAKIA[A-Z0-9]{16}\b");
        assert!(re.is_match("id AKIAABCDEFGHIJKLMNOP end"));
        assert!(re.is_match("id AKIAX end"), "{{16}} widened to +");
        assert!(!re.is_match("id AKIA end"), "at least one");
        assert!(!re.is_match("xAKIAB"), "the word boundary stays");
        let re = widened(r"x={0,2}y");
        assert!(re.is_match("xy") && re.is_match("x===y"));
        assert!(!re.is_match("x=z"));
    }

    /// Found measuring a cold `diagnose` of a real 3 MB CI log: the screen's lazy DFA grew to
    /// 54 MiB in 290 ms over lines of hashes and base64, a state for every combination of
    /// counts of the `{16,}`..`{50,}` rules. Widened, it stays small on the same kind of lines.
    #[test]
    fn the_screen_stays_small_over_lines_of_tokens() {
        let mut screen = Screen::new();
        let mut rng = fastrand::Rng::with_seed(7);
        const ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-";
        for _ in 0..2_000 {
            let line: String = (0..8)
                .map(|_| {
                    let n = rng.usize(8..64);
                    let word: String = (0..n)
                        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
                        .collect();
                    format!("{}={word} ", ["sha", "id", "x", "blob"][rng.usize(..4)])
                })
                .collect();
            screen.may_redact(&line);
        }
        let kib = screen.memory_usage() / 1024;
        assert!(kib < 8 * 1024, "the screen's cache grew to {kib} KiB");
    }

    /// Found in round 9 of the diagnosis corpus: `diagnose --json` redacted its serialised
    /// output as text, and the header rule took `$TOKEN\` (the backslash escaping the shell
    /// line's quote) with the value: the output was not JSON. Strings are redacted inside the
    /// value now.
    #[test]
    fn json_stays_json_when_a_value_is_redacted() {
        let line = r#"$ curl -H "Authorization: Bearer $TOKEN" -H "PRIVATE-TOKEN: glpat-abcdefghij0123456789" https://x"#;
        let mut v = serde_json::json!({"evidence": [{"line": 65, "text": line}]});
        redact_json(&mut v);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        let t = back["evidence"][0]["text"].as_str().unwrap();
        assert!(!t.contains("glpat-abcdefghij"), "{t}");
        assert!(t.contains("Authorization: Bearer"), "{t}");
        // What the old way did to the same value: not JSON any more.
        let serialised = serde_json::to_string_pretty(&serde_json::json!({"text": line})).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&redact(&serialised)).is_err());
    }

    /// Found on a first day: a key cut off before its END line swallowed every log line after
    /// it, the error that failed the job included.
    #[test]
    fn an_unterminated_key_hides_the_key_and_not_the_log_after_it() {
        let log = "a\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                   MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nAbC=\n\n\
                   after the key: normal line\nERROR: build failed\n";
        let out = redact(log);
        assert!(!out.contains("MIIEow") && !out.contains("AbC="), "{out}");
        assert!(
            out.contains("after the key: normal line\nERROR: build failed"),
            "{out}"
        );
        let lines: Vec<Cow<str>> = log.lines().map(Cow::Borrowed).collect();
        let blocks = secret_block_lines(lines);
        assert_eq!(blocks, vec![(1, 5)], "the block ends at its last key line");
    }

    /// Found on a first day: error messages lost the words around a secret's name.
    #[test]
    fn words_and_variable_names_after_a_secret_key_stay() {
        for keep in [
            "no GitLab token: export GITLAB_TOKEN=<token with read_api scope>",
            "deploy token: DEPLOY_TOKEN is not set",
            "password: missing",
        ] {
            assert_eq!(redact(keep), keep);
        }
        assert_eq!(redact("token: s3cr3tValue99"), "token: [REDACTED]");
        assert_eq!(redact("password: hunter2"), "password: [REDACTED]");
    }
}
