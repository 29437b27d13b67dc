//! The module graph stays layered: a top-level module of `src/` may only name (`crate::x`)
//! modules below it in `LAYERS`, so there is no cycle and no lower layer reaching up to the
//! CLI, the config or the terminal. Test-only code (`#[cfg(test)]` modules) is exempt: a test
//! may build whatever it needs. docs/INTERFACES.md shows the same order.

// Test code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first. Each module may import only modules listed before it.
const LAYERS: &[&str] = &[
    "args",
    "paths",
    "net",
    "redact",
    "text",
    "strict_json",
    "logging",
    "gitlab",
    "llm",
    "sim",
    "command",
    "review",
    "diagnose",
    "plan",
    "metrics",
    "app",
    "testkit",
    "driver",
    "tui",
    "config",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Files declared as `#[cfg(test)] mod name;` (their whole content is test code).
fn test_only_files(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let dir = if f
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            f.parent().unwrap().to_path_buf()
        } else {
            f.with_extension("")
        };
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            if w[0].trim() == "#[cfg(test)]"
                && let Some(name) = w[1]
                    .trim()
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub ")
                    .strip_prefix("mod ")
                    .and_then(|r| r.strip_suffix(';'))
            {
                out.push(dir.join(format!("{name}.rs")));
                out.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

/// The file's text without its inline `#[cfg(test)]` module (by convention the file's end).
fn non_test_text(text: &str) -> &str {
    let mut at = text.len();
    let mut from = 0;
    while let Some(i) = text[from..].find("#[cfg(test)]") {
        let i = from + i;
        let rest = text[i + "#[cfg(test)]".len()..].trim_start();
        // `pub(crate) mod tests` shares its fixtures with other test modules; still test code.
        let rest = rest
            .strip_prefix("pub(crate) ")
            .or_else(|| rest.strip_prefix("pub(super) "))
            .unwrap_or(rest);
        if rest.starts_with("mod ") && rest.lines().next().is_some_and(|l| l.ends_with('{')) {
            at = i;
            break;
        }
        from = i + 1;
    }
    &text[..at]
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let exempt = test_only_files(&files);
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if matches!(top.as_str(), "lib" | "main") || exempt.contains(f) {
            continue;
        }
        let Some(&mine) = rank.get(top.as_str()) else {
            problems.push(format!(
                "src/{}: module `{top}` is not in LAYERS",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in non_test_text(&text).lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                let after = &rest[i + "crate::".len()..];
                let ident = |s: &str| -> String {
                    s.trim_start()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect()
                };
                // `crate::x::…` or a group `crate::{x, y::z}` (first segment of each item).
                let names: Vec<String> = match after.strip_prefix('{') {
                    Some(group) => group
                        .split('}')
                        .next()
                        .unwrap_or("")
                        .split(',')
                        .map(ident)
                        .collect(),
                    None => vec![ident(after)],
                };
                for name in names {
                    if let Some(&theirs) = rank.get(name.as_str())
                        && theirs > mine
                    {
                        problems.push(format!(
                            "src/{}:{}: `{top}` imports `{name}`, a layer above it",
                            rel.display(),
                            n + 1
                        ));
                    }
                }
                rest = after;
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
