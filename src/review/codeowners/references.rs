//! Owner references in a piece of CODEOWNERS text, found the way GitLab's
//! `Gitlab::CodeOwners::ReferenceExtractor` finds them: three independent scans of the text.
//!
//! - names: `(?<![\w@])@` then `FULL_NAMESPACE_FORMAT_REGEX` (path segments of
//!   `[A-Za-z0-9_.-]`, not starting with `-`, ending in a letter, digit, `_` or `-`, never in
//!   `.git` or `.atom`, joined by `/`). `@alice,@bob` holds two names; `@bad!x` holds `bad`.
//! - roles: `(?<![\w@])@@(developer|maintainer|owner)s?` followed by whitespace or the end,
//!   case-insensitive.
//! - e-mails: `[^@\s]{1,100}@[^@\s]{1,255}` ending in a word character: no dot needed
//!   (`alice@localhost` is an address), and `alice,@bob` is one too.
//!
//! `\w`, `\s` and `\d` are ASCII here, as in Ruby.

use super::{Owner, Role};

/// Ruby's `\s`.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Ruby's `\w`.
pub(crate) fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// What one scan of a text found, in the order of each scan.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct References {
    /// `@name` references, without the `@`, as written.
    pub names: Vec<String>,
    /// `@@role` references as written after the `@@` (`DEVelopers`).
    pub roles: Vec<String>,
    pub emails: Vec<String>,
}

impl References {
    pub fn scan(text: &str) -> References {
        let chars: Vec<char> = text.chars().collect();
        References {
            names: uniq(scan_names(&chars)),
            roles: uniq(scan_roles(&chars)),
            emails: uniq(scan_emails(&chars)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.roles.is_empty() && self.emails.is_empty()
    }

    /// GitLab's `raw_references`: each reference as it would be written.
    pub fn raw(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|n| format!("@{n}"))
            .chain(self.roles.iter().map(|r| format!("@@{r}")))
            .chain(self.emails.iter().cloned())
            .collect()
    }

    /// The owners named, in GitLab's order (names, roles, e-mails), without duplicates.
    pub fn owners(&self) -> Vec<Owner> {
        let mut out: Vec<Owner> = Vec::new();
        let roles = self.roles.iter().filter_map(|r| role(r)).map(Owner::Role);
        for o in self
            .names
            .iter()
            .map(|n| Owner::Handle(n.clone()))
            .chain(roles)
            .chain(self.emails.iter().map(|e| Owner::Email(e.clone())))
        {
            if !out.contains(&o) {
                out.push(o);
            }
        }
        out
    }
}

fn uniq(v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(v.len());
    v.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

fn role(written: &str) -> Option<Role> {
    let l = written.to_ascii_lowercase();
    match l
        .strip_suffix('s')
        .filter(|r| ROLES.contains(r))
        .unwrap_or(&l)
    {
        "developer" => Some(Role::Developer),
        "maintainer" => Some(Role::Maintainer),
        "owner" => Some(Role::Owner),
        _ => None,
    }
}

const ROLES: [&str; 3] = ["developer", "maintainer", "owner"];

/// A reference may start at `i` only if the character before is neither `\w` nor `@`.
fn boundary(chars: &[char], i: usize) -> bool {
    i == 0 || !(is_word(chars[i - 1]) || chars[i - 1] == '@')
}

fn scan_names(chars: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@'
            && boundary(chars, i)
            && let Some(len) = full_namespace(&chars[i + 1..])
        {
            out.push(chars[i + 1..i + 1 + len].iter().collect());
            i += 1 + len;
            continue;
        }
        i += 1;
    }
    out
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// `NAMESPACE_FORMAT_REGEX` on a whole segment.
fn segment_ok(seg: &[char]) -> bool {
    let Some((&first, &last)) = seg.first().zip(seg.last()) else {
        return false;
    };
    let shape = if seg.len() == 1 {
        is_word(first)
    } else {
        (is_word(first) || first == '.') && (is_word(last) || last == '-')
    };
    let ends = |suffix: &[char]| seg.ends_with(suffix);
    shape && !ends(&['.', 'g', 'i', 't']) && !ends(&['.', 'a', 't', 'o', 'm'])
}

/// The longest prefix of a run of path characters that is a valid segment.
fn longest_segment(run: &[char]) -> Option<usize> {
    (1..=run.len()).rev().find(|&k| segment_ok(&run[..k]))
}

/// Length of the `FULL_NAMESPACE_FORMAT_REGEX` match at the start of `s` (`(NS/)*NS`,
/// greedy, so the longest), if any.
fn full_namespace(s: &[char]) -> Option<usize> {
    let mut pos = 0;
    let mut previous_end: Option<usize> = None;
    loop {
        let run_len = s[pos..].iter().take_while(|c| path_char(**c)).count();
        let run = &s[pos..pos + run_len];
        let slash_follows = s.get(pos + run_len) == Some(&'/');
        if slash_follows && segment_ok(run) {
            previous_end = Some(pos + run_len);
            pos += run_len + 1;
            continue;
        }
        return match longest_segment(run) {
            Some(k) => Some(pos + k),
            None => previous_end,
        };
    }
}

fn scan_roles(chars: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] == '@' && chars[i + 1] == '@' && boundary(chars, i) {
            let rest = &chars[i + 2..];
            let mut matched = None;
            for r in ROLES {
                let n = r.len();
                let word_ok = rest.len() >= n
                    && rest[..n]
                        .iter()
                        .zip(r.chars())
                        .all(|(a, b)| a.to_ascii_lowercase() == b);
                if !word_ok {
                    continue;
                }
                let ends_at = |k: usize| rest.get(k).is_none_or(|c| is_space(*c));
                // `s?` is greedy: the plural first, then the singular.
                if rest.get(n).is_some_and(|c| c.eq_ignore_ascii_case(&'s')) && ends_at(n + 1) {
                    matched = Some(n + 1);
                } else if ends_at(n) {
                    matched = Some(n);
                }
                break;
            }
            if let Some(len) = matched {
                out.push(rest[..len].iter().collect());
                // The match also takes the whitespace after the role.
                i += 2 + len + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn scan_emails(chars: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    // stop[i]: the first index at or after i holding `@` or whitespace (so runs cost O(1)).
    let mut stop = vec![chars.len(); chars.len() + 1];
    for i in (0..chars.len()).rev() {
        stop[i] = if chars[i] == '@' || is_space(chars[i]) {
            i
        } else {
            stop[i + 1]
        };
    }
    let mut i = 0;
    while i < chars.len() {
        let at = stop[i];
        let run = at - i;
        if (1..=100).contains(&run) && chars.get(at) == Some(&'@') {
            let domain_run = (stop[at + 1] - (at + 1)).min(255);
            // Backtrack until the address ends in a word character.
            if let Some(k) = (1..=domain_run).rev().find(|&k| is_word(chars[at + k])) {
                let end = at + 1 + k;
                out.push(chars[i..end].iter().collect());
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        References::scan(t).names
    }

    #[test]
    fn names_follow_gitlabs_namespace_format() {
        assert_eq!(names("@alice"), ["alice"]);
        assert_eq!(names("@alice,@bob"), ["alice", "bob"]);
        assert_eq!(
            names("@group/with-nested/subgroup"),
            ["group/with-nested/subgroup"]
        );
        assert_eq!(names("@rrr.dev"), ["rrr.dev"]);
        // A trailing `.` or `/` is not part of the name; `.git` may not end a segment.
        assert_eq!(names("@alice."), ["alice"]);
        assert_eq!(names("@group/"), ["group"]);
        assert_eq!(names("@foo.git"), ["foo.gi"]);
        assert_eq!(names("@bad!name"), ["bad"]);
        // Not after a word character or another `@` (e-mails, roles).
        assert!(names("jane@example.com").is_empty());
        assert!(names("@@developer").is_empty());
        assert!(names("@-x @ @ß").is_empty());
        assert_eq!(names("@a"), ["a"]);
    }

    #[test]
    fn roles_need_whitespace_or_the_end_after_them() {
        let r = |t: &str| References::scan(t).roles;
        assert_eq!(r("@@developer @@maintainers"), ["developer", "maintainers"]);
        assert_eq!(r("@@DEVeloper @maintainers @OWNER"), ["DEVeloper"]);
        assert!(r("@@dev").is_empty());
        assert!(r("@@guest").is_empty());
        assert!(r("@@developerx").is_empty());
        assert!(r("x@@developer").is_empty());
        assert_eq!(
            References::scan("@@owners").owners(),
            vec![Owner::Role(Role::Owner)]
        );
    }

    #[test]
    fn emails_need_no_dot_and_end_in_a_word_character() {
        let e = |t: &str| References::scan(t).emails;
        assert_eq!(e("janedoe@gitlab.com"), ["janedoe@gitlab.com"]);
        assert_eq!(e("alice@localhost"), ["alice@localhost"]);
        assert_eq!(e("<jane@example.com>."), ["<jane@example.com"]);
        assert_eq!(e("@alice,@bob"), ["alice,@bob"]);
        assert!(e("@alice").is_empty());
        assert!(e("a@.").is_empty());
        assert_eq!(e("a@b@c"), ["a@b"]);
    }

    #[test]
    fn raw_references_and_owners() {
        let r = References::scan("@doc @@Developers x@y.z @doc");
        assert_eq!(r.raw(), ["@doc", "@@Developers", "x@y.z"]);
        assert_eq!(
            r.owners(),
            vec![
                Owner::Handle("doc".into()),
                Owner::Role(Role::Developer),
                Owner::Email("x@y.z".into())
            ]
        );
        assert!(References::scan("not_a_user_not_an_email").is_empty());
        assert!(References::scan("#").is_empty());
    }

    #[test]
    fn long_hostile_text_is_linear_enough() {
        let t = "a".repeat(50_000) + "@" + &".".repeat(50_000);
        let _ = References::scan(&t);
        let t = "@a.".repeat(20_000);
        assert_eq!(References::scan(&t).names.len(), 1);
    }
}
