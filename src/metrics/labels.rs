//! Label values: what may go into one, and how long it may be.
//!
//! The encoder escapes `\`, `"` and newlines (OpenMetrics' three escapes). Everything else a
//! server-controlled name could carry — other control characters, a megabyte-long ref — is
//! made harmless here, so a scrape stays parseable and bounded whatever GitLab sent.

pub type Labels = Vec<(String, String)>;

/// Longest label value kept (GitLab caps ref names at 255 bytes; project paths are shorter).
pub const MAX_VALUE_BYTES: usize = 256;

/// A label set from pairs, every value made safe.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), value(v)))
        .collect()
}

/// A value as it may appear in a label: control characters other than the newline (which the
/// encoder escapes) become U+FFFD, and a value over `MAX_VALUE_BYTES` is cut at a character
/// boundary and marked with `…`.
pub fn value(v: &str) -> String {
    let mut out = String::with_capacity(v.len().min(MAX_VALUE_BYTES + 3));
    for c in v.chars() {
        if out.len() + c.len_utf8() > MAX_VALUE_BYTES {
            out.push('…');
            break;
        }
        if c.is_control() && c != '\n' {
            out.push('\u{FFFD}');
        } else {
            out.push(c);
        }
    }
    out
}

/// A word from a closed vocabulary (a status, a kind, a provider): kept when it looks like one
/// (short, lowercase ASCII, digits, `_`, `-`, `.`), else `other`, so nothing unexpected can
/// grow the number of series.
pub fn word(v: &str) -> &str {
    let ok = !v.is_empty()
        && v.len() <= 40
        && v.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    if ok { v } else { "other" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lose_controls_and_length_but_keep_text() {
        assert_eq!(value("feature/x-1"), "feature/x-1");
        assert_eq!(value("a\x1b[31mred\r"), "a\u{FFFD}[31mred\u{FFFD}");
        assert_eq!(
            value("line\nbreak"),
            "line\nbreak",
            "the encoder escapes \\n"
        );
        let long = "é".repeat(400);
        let v = value(&long);
        assert!(v.len() <= MAX_VALUE_BYTES + '…'.len_utf8());
        assert!(v.ends_with('…'));
    }

    #[test]
    fn words_outside_the_vocabulary_become_other() {
        assert_eq!(word("retry_job"), "retry_job");
        assert_eq!(word("gpt-4.1"), "gpt-4.1");
        assert_eq!(word("Fix the login page"), "other");
        assert_eq!(word(""), "other");
        assert_eq!(word(&"a".repeat(41)), "other");
    }
}
