//! Section headings, read as GitLab's `Gitlab::CodeOwners::SectionParser` reads them.
//!
//! A line is a heading when it matches (from its start, not necessarily to its end)
//! `^(\^)?\[(.*?)\](\[[\s\d]*\])?(\s*[@\w.\-/\s]*)?`; the rest of the line is then ignored,
//! so `[Docs].md @x` is the heading `Docs` (whose default owners `.md @x` are reported as
//! malformed). A line starting with `[` or `^[` that is not a heading (no `]`) is reported as
//! `invalid_section_format` and skipped. A heading is also checked against the strict form
//! `^(\^)?\[[^\]]+\](\[\d+\])?(\s+[@\w.\-/\s]+)?$` when nothing else was wrong with it.

use super::ProblemKind;
use super::references::{References, is_space, is_word};

/// What the heading regex captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading<'a> {
    pub optional: bool,
    pub name: &'a str,
    /// The text between the second pair of brackets, when there is one.
    pub raw_approvals: Option<&'a str>,
    /// Default owners, trimmed.
    pub default_owners: &'a str,
}

impl Heading<'_> {
    /// `raw_approvals.to_i`: leading whitespace, then digits (saturating); 0 otherwise.
    pub fn approvals(&self) -> u32 {
        let Some(raw) = self.raw_approvals else {
            return 0;
        };
        raw.trim_start_matches(is_space)
            .chars()
            .map_while(|c| c.to_digit(10))
            .fold(0u32, |n, d| n.saturating_mul(10).saturating_add(d))
    }
}

/// What a line is, with the problems GitLab reports for it.
pub enum Line<'a> {
    Heading(Heading<'a>, Vec<ProblemKind>),
    /// Starts like a heading but is none: skipped.
    Unparsable,
    Entry,
}

fn owner_char(c: char) -> bool {
    is_word(c) || is_space(c) || matches!(c, '@' | '.' | '-' | '/')
}

pub fn classify(line: &str) -> Line<'_> {
    let Some(h) = parse(line) else {
        let rest = line.strip_prefix('^').unwrap_or(line);
        return if rest.starts_with('[') {
            Line::Unparsable
        } else {
            Line::Entry
        };
    };
    let mut problems = Vec::new();
    if h.name.trim().is_empty() {
        problems.push(ProblemKind::MissingSectionName);
    }
    if invalid_approvals(&h) {
        problems.push(ProblemKind::InvalidApprovalRequirement);
    }
    if invalid_default_owners(h.default_owners) {
        problems.push(ProblemKind::InvalidSectionOwnerFormat);
    }
    if problems.is_empty() && !strict(line) {
        problems.push(ProblemKind::InvalidSectionFormat);
    }
    Line::Heading(h, problems)
}

/// The permissive heading regex (`HEADER_REGEX`).
fn parse(line: &str) -> Option<Heading<'_>> {
    let (optional, rest) = match line.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, line),
    };
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    let name = &rest[..close];
    let mut rest = &rest[close + 1..];
    let mut raw_approvals = None;
    if let Some(inner) = rest.strip_prefix('[') {
        let n = inner
            .find(|c: char| !(is_space(c) || c.is_ascii_digit()))
            .unwrap_or(inner.len());
        if inner[n..].starts_with(']') {
            raw_approvals = Some(&inner[..n]);
            rest = &inner[n + 1..];
        }
    }
    let n = rest.find(|c: char| !owner_char(c)).unwrap_or(rest.len());
    Some(Heading {
        optional,
        name,
        raw_approvals,
        default_owners: rest[..n].trim_matches(is_space),
    })
}

/// `[]`, `[ ]`, `[1 0]` are invalid counts; so is any count on an optional section.
fn invalid_approvals(h: &Heading<'_>) -> bool {
    let Some(raw) = h.raw_approvals else {
        return false;
    };
    let digits = raw.trim_matches(is_space);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    h.optional && h.approvals() > 0
}

/// Every whitespace-separated word of the default owners must be a reference as written.
fn invalid_default_owners(owners: &str) -> bool {
    if owners.trim().is_empty() {
        return false;
    }
    let found = References::scan(owners).raw();
    owners
        .split(is_space)
        .filter(|w| !w.is_empty())
        .any(|w| !found.iter().any(|f| f == w))
}

/// `^(\^)?(\[[^\]]+\])(\[\d+\])?(\s+[@\w\.\-/\s]+)?$`.
fn strict(line: &str) -> bool {
    let rest = line.strip_prefix('^').unwrap_or(line);
    let Some(rest) = rest.strip_prefix('[') else {
        return false;
    };
    let Some(close) = rest.find(']') else {
        return false;
    };
    if close == 0 {
        return false;
    }
    let mut rest = &rest[close + 1..];
    if let Some(inner) = rest.strip_prefix('[') {
        let n = inner
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(inner.len());
        if n > 0 && inner[n..].starts_with(']') {
            rest = &inner[n + 1..];
        }
    }
    rest.is_empty()
        || (rest.starts_with(is_space) && rest.chars().count() >= 2 && rest.chars().all(owner_char))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitLab's `section_parser_spec.rb` table: line, name, optional, approvals, default
    /// owners, problems (`sectional_data` is empty in every row but the ones handled in the
    /// file-level tests).
    #[test]
    fn gitlab_section_parser_spec_table() {
        use ProblemKind::*;
        type Row = (
            &'static str,
            Option<(&'static str, bool, u32, &'static str)>,
            &'static [ProblemKind],
        );
        let rows: &[Row] = &[
            ("[Doc]", Some(("Doc", false, 0, "")), &[]),
            ("^[Doc]", Some(("Doc", true, 0, "")), &[]),
            ("[Doc][1]", Some(("Doc", false, 1, "")), &[]),
            ("[Doc][1] @doc", Some(("Doc", false, 1, "@doc")), &[]),
            (
                "^[Doc] @doc @rrr.dev @dev",
                Some(("Doc", true, 0, "@doc @rrr.dev @dev")),
                &[],
            ),
            (
                "[Doc][2] @doc @rrr.dev @dev",
                Some(("Doc", false, 2, "@doc @rrr.dev @dev")),
                &[],
            ),
            ("[Doc] @doc", Some(("Doc", false, 0, "@doc")), &[]),
            (
                "[Doc] @@developer",
                Some(("Doc", false, 0, "@@developer")),
                &[],
            ),
            (
                "[Doc] @@DEVeloper @maintainers @OWNER",
                Some(("Doc", false, 0, "@@DEVeloper @maintainers @OWNER")),
                &[],
            ),
            (
                "[Doc] @doc @rrr.dev @dev",
                Some(("Doc", false, 0, "@doc @rrr.dev @dev")),
                &[],
            ),
            ("^[Doc] @doc", Some(("Doc", true, 0, "@doc")), &[]),
            ("[]", Some(("", false, 0, "")), &[MissingSectionName]),
            ("^[]", Some(("", true, 0, "")), &[MissingSectionName]),
            ("[][1]", Some(("", false, 1, "")), &[MissingSectionName]),
            (
                "[][1]@owner",
                Some(("", false, 1, "@owner")),
                &[MissingSectionName],
            ),
            (
                "[Doc][]",
                Some(("Doc", false, 0, "")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][]",
                Some(("Doc", true, 0, "")),
                &[InvalidApprovalRequirement],
            ),
            (
                "[Doc][] @doc",
                Some(("Doc", false, 0, "@doc")),
                &[InvalidApprovalRequirement],
            ),
            (
                "[Doc][1 0]",
                Some(("Doc", false, 1, "")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][1]",
                Some(("Doc", true, 1, "")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][1] @doc",
                Some(("Doc", true, 1, "@doc")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][1] @doc @dev",
                Some(("Doc", true, 1, "@doc @dev")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][1] @gl/doc-1",
                Some(("Doc", true, 1, "@gl/doc-1")),
                &[InvalidApprovalRequirement],
            ),
            (
                "^[Doc][2]@owner",
                Some(("Doc", true, 2, "@owner")),
                &[InvalidApprovalRequirement],
            ),
            (
                "[Doc][2] @@dev",
                Some(("Doc", false, 2, "@@dev")),
                &[InvalidSectionOwnerFormat],
            ),
            (
                "[Doc] malformed",
                Some(("Doc", false, 0, "malformed")),
                &[InvalidSectionOwnerFormat],
            ),
            (
                "[Doc] @owner oops",
                Some(("Doc", false, 0, "@owner oops")),
                &[InvalidSectionOwnerFormat],
            ),
            (
                "[Doc] @owner+malformed",
                Some(("Doc", false, 0, "@owner")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][1_0]",
                Some(("Doc", false, 0, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][one]",
                Some(("Doc", false, 0, "")),
                &[InvalidSectionFormat],
            ),
            ("^[Doc", None, &[InvalidSectionFormat]),
            ("[Doc", None, &[InvalidSectionFormat]),
            (
                "^[Doc]]",
                Some(("Doc", true, 0, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc]]",
                Some(("Doc", false, 0, "")),
                &[InvalidSectionFormat],
            ),
            (
                "^[Doc]] @owner",
                Some(("Doc", true, 0, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc]] @owner",
                Some(("Doc", false, 0, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][2]@owner",
                Some(("Doc", false, 2, "@owner")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][ 1]",
                Some(("Doc", false, 1, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][1 ]",
                Some(("Doc", false, 1, "")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc][  1  ]",
                Some(("Doc", false, 1, "")),
                &[InvalidSectionFormat],
            ),
            // The cases: `[0]` is valid, an optional section with a count is not.
            ("[Doc][0]", Some(("Doc", false, 0, "")), &[]),
            ("^[Doc][0]", Some(("Doc", true, 0, "")), &[]),
            (
                "^[Doc][2]",
                Some(("Doc", true, 2, "")),
                &[InvalidApprovalRequirement],
            ),
            // `,` stops the default owners; the strict form then fails.
            (
                "[Doc] @alice,@bob",
                Some(("Doc", false, 0, "@alice")),
                &[InvalidSectionFormat],
            ),
            (
                "[Doc] alice@localhost",
                Some(("Doc", false, 0, "alice@localhost")),
                &[],
            ),
        ];
        for (line, want, problems) in rows {
            match classify(line) {
                Line::Heading(h, p) => {
                    let got = (h.name, h.optional, h.approvals(), h.default_owners);
                    assert_eq!(Some(got), *want, "{line}");
                    assert_eq!(&p[..], *problems, "{line}");
                }
                Line::Unparsable => {
                    assert_eq!(*want, None, "{line}");
                    assert_eq!(*problems, &[InvalidSectionFormat], "{line}");
                }
                Line::Entry => panic!("{line} read as an entry"),
            }
        }
    }

    #[test]
    fn entries_are_not_headings() {
        for line in [
            "/path/to/file.rb @owner",
            "Something before [Partially optional]",
            "^foo @x",
            "*.rb",
        ] {
            assert!(matches!(classify(line), Line::Entry), "{line}");
        }
        // A bracket glob at the start of a line is a heading in GitLab.
        let Line::Heading(h, p) = classify("[abc].rb @x") else {
            panic!("heading expected");
        };
        assert_eq!((h.name, h.default_owners), ("abc", ".rb @x"));
        assert_eq!(p, vec![ProblemKind::InvalidSectionOwnerFormat]);
    }

    #[test]
    fn huge_counts_saturate() {
        let Line::Heading(h, p) = classify("[Doc][99999999999999999999]") else {
            panic!("heading expected");
        };
        assert_eq!((h.approvals(), p.len()), (u32::MAX, 0));
    }
}
