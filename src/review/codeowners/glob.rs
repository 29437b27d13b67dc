//! Path patterns: GitLab's `normalize_pattern`, then Ruby's `File.fnmatch` with
//! `FNM_PATHNAME | FNM_DOTMATCH` translated into a globset glob.
//!
//! - `*` alone means every file; a pattern without a leading `/` matches at any depth
//!   (`/**/` is prepended); a trailing `/` means everything below (`**/*` is appended).
//! - `\#` at the start is a literal `#`; `\` + whitespace is one space; other `\x` escape `x`.
//! - `*` and `?` stop at `/`; `**/` spans directories (a `**` not followed by `/` is a plain
//!   `*`, as in Ruby); `[...]` classes never span `/`; `{` `}` are literal.

use globset::{Glob, GlobBuilder};

use super::references::is_space;

/// GitLab's `normalize_pattern`: also the key that makes a later entry of a section replace
/// an earlier one with the same pattern.
pub fn normalize(pattern: &str) -> String {
    if pattern == "*" {
        return "/**/*".into();
    }
    let p = match pattern.strip_prefix("\\#") {
        Some(rest) => format!("#{rest}"),
        None => pattern.to_string(),
    };
    // `gsub(/\\\s+/, ' ')`
    let mut q = String::with_capacity(p.len());
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| is_space(*n)) {
            while chars.peek().is_some_and(|n| is_space(*n)) {
                chars.next();
            }
            q.push(' ');
        } else {
            q.push(c);
        }
    }
    if !q.starts_with('/') {
        q = format!("/**/{q}");
    }
    if q.ends_with('/') {
        q.push_str("**/*");
    }
    q
}

/// The glob for a normalized pattern.
pub fn compile(normalized: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(&to_globset(normalized))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn to_globset(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => match chars.get(i + 1) {
                Some(&next) => {
                    push_literal(&mut out, next);
                    i += 1;
                }
                None => out.push_str("\\\\"),
            },
            '*' => {
                let start = i;
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
                let run = i - start + 1;
                let at_component_start = start == 0 || chars[start - 1] == '/';
                if run >= 2 && at_component_start && chars.get(i + 1) == Some(&'/') {
                    out.push_str("**");
                } else {
                    out.push('*');
                }
            }
            '?' => out.push('?'),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end;
                }
                // Ruby reads an unclosed `[` literally.
                None => push_literal(&mut out, '['),
            },
            other => push_literal(&mut out, other),
        }
        i += 1;
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
        out.push('\\');
    }
    out.push(c);
}

/// Index of the `]` closing the class opened at `open` (a `]` first in the class is literal).
fn class_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    if matches!(chars.get(j), Some('!' | '^')) {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while j < chars.len() {
        match chars[j] {
            ']' => return Some(j),
            '/' => return None, // a class never spans a separator under FNM_PATHNAME
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_follows_gitlab() {
        // The keys GitLab's file_spec expects for its example file.
        assert_eq!(normalize("*"), "/**/*");
        assert_eq!(
            normalize("\\#file_with_pound.rb"),
            "/**/#file_with_pound.rb"
        );
        assert_eq!(normalize("*.rb"), "/**/*.rb");
        assert_eq!(normalize("/docs/"), "/docs/**/*");
        assert_eq!(normalize("/docs/*"), "/docs/*");
        assert_eq!(normalize("lib/"), "/**/lib/**/*");
        assert_eq!(
            normalize("path\\ with\\ spaces/"),
            "/**/path with spaces/**/*"
        );
        assert_eq!(normalize("ee/docs"), "/**/ee/docs");
        // `!` alone leaves an empty pattern: everything below the root.
        assert_eq!(normalize(""), "/**/**/*");
    }

    #[test]
    fn empty_pattern_matches_every_file() {
        let g = compile(&normalize("")).unwrap().compile_matcher();
        assert!(g.is_match("/a") && g.is_match("/a/b/.c"));
    }
}
