//! The one way the command line prints. Every human-readable line on stdout and stderr goes
//! through `text::sanitize_line` (no escape sequence, control, C1, bidi override or zero-width
//! character from GitLab, a model or a plan file reaches the operator's terminal: OSC 52 would
//! write their clipboard, OSC 0 their window title), and JSON output escapes the same
//! characters as `\uXXXX` (the data is unchanged for a JSON reader). A closed pipe
//! (`gitaiops status | head`) ends output quietly.

use std::io::Write;

use crate::text::{is_invisible, sanitize_line};

/// `text` with every line made safe; line breaks are kept, a trailing one included.
pub fn human(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        out.push_str(&sanitize_line(line));
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    out
}

/// Serialised JSON with every character a terminal would act on written as a `\u` escape.
/// Outside strings serde_json writes only ASCII structure and whitespace, so only string
/// contents change, and only in form.
pub fn json(text: &str) -> String {
    if !text.chars().any(|c| is_invisible(c) && c != '\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_invisible(c) && c != '\n' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One error as the single line `main` prints: causes joined, secrets redacted, made safe.
pub fn error_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    crate::text::one_line(&crate::redact::redact(&text), 2000)
}

fn write_to(mut w: impl Write, text: &str) -> std::io::Result<()> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// `text` to stdout, made safe.
pub fn print(text: &str) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), &human(text))
}

/// One line to stdout, made safe.
pub fn println(line: &str) -> std::io::Result<()> {
    print(&format!("{line}\n"))
}

/// JSON text and a newline to stdout, terminal controls escaped.
pub fn print_json(text: &str) -> std::io::Result<()> {
    write_to(std::io::stdout().lock(), &format!("{}\n", json(text)))
}

/// One line to stderr, made safe (stderr is unbuffered; nothing to report if it is closed).
pub fn eprintln(line: &str) {
    let _ = write_to(std::io::stderr().lock(), &human(&format!("{line}\n")));
}

/// A prompt on stderr without a newline, made safe.
pub fn eprint(text: &str) {
    let _ = write_to(std::io::stderr().lock(), &human(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "t\u{1b}]52;c;cm0gLXJm\u{7}\u{1b}]0;x\u{7}\u{1b}[2J\u{1b}Pq\u{1b}\\\u{9b}1m\u{202e}e\u{200b}\r!";

    fn clean(s: &str) -> bool {
        !s.chars().any(|c| is_invisible(c) && c != '\n')
    }

    #[test]
    fn human_text_keeps_lines_and_loses_controls() {
        let out = human(&format!("a {HOSTILE}\nb\n"));
        assert!(clean(&out), "{out:?}");
        assert_eq!(out, "a te !\nb\n");
        assert_eq!(human("x"), "x");
    }

    #[test]
    fn json_output_escapes_what_a_terminal_would_act_on() {
        let v = serde_json::json!({"title": HOSTILE, "n": 1});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let out = json(&text);
        assert!(clean(&out), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v, "the data is unchanged");
        // Outside the BMP: a surrogate pair.
        let tag = serde_json::to_string(&serde_json::json!(["\u{E0041}"])).unwrap();
        assert_eq!(json(&tag), "[\"\\udb40\\udc41\"]");
    }

    #[test]
    fn errors_are_one_safe_redacted_line() {
        let e = anyhow::anyhow!("token glpat-Abc123xYz789DefGhi012\n{HOSTILE}");
        let line = error_line(&e);
        assert!(clean(&line) && !line.contains('\n'), "{line:?}");
        assert!(!line.contains("glpat-Abc"), "{line}");
    }
}
