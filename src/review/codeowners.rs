//! GitLab `CODEOWNERS` parsing and lookup, following GitLab's own parser
//! (`ee/lib/gitlab/code_owners/file.rb`, `section_parser.rb`, `reference_extractor.rb`).
//!
//! Public API:
//! - [`CodeOwners::parse`]`(text) -> CodeOwners`: never fails; GitLab's syntax errors are kept
//!   in [`CodeOwners::problems`], each with GitLab's error code (`invalid_approval_requirement`,
//!   `malformed_entry_owner`, ...) and line, and the rest of the file still applies as GitLab
//!   applies it.
//! - [`CodeOwners::owners_of`]`(path) -> Vec<SectionMatch>`: for each section with a rule for
//!   the path, the deciding rule (or `excluded: true` when a `!pattern` of that section
//!   matches). Paths are repository-relative (`app/models/user.rb`; a leading `/` is ignored).
//! - [`CodeOwners::sections`], [`Section`], [`Rule`], [`Owner`] (`@user` / `@group/sub`
//!   handles, `@@role`, e-mail addresses).
//!
//! Semantics (GitLab's code is the reference where its docs differ):
//! - Lines are stripped; blank lines and lines starting with `#` are skipped.
//! - Headings: see [`heading`]. Entries before the first heading form the default section
//!   ([`DEFAULT_SECTION`]). Until a named section exists a heading's name is used as written
//!   (so `[codeowners]` joins the default section and `[CodeOwners]` does not); afterwards
//!   names compare case-insensitively and repeated sections combine under the first spelling.
//! - A line starting with `[` or `^[` that is no heading is reported and skipped.
//! - Entries: the pattern ends at the first whitespace not preceded by `\`; `!pattern`
//!   excludes. Owners are every reference in the rest of the line (see [`references`]): words
//!   that are none are reported once per line (`malformed_entry_owner`) and ignored, so an
//!   inline "comment" costs an error but its `@handles` still count. An entry without owner
//!   text takes its heading's default owners; with neither it is `missing_entry_owner`.
//! - Each entry carries its heading's `^` and `[N]`; a section is optional only when every
//!   entry in it is. A rule needs `max(N, 1)` approvals.
//! - A later entry with the same normalized pattern in a section replaces the earlier one in
//!   its place. Lookup goes through a section's patterns from the last to the first: if any
//!   matching one is an exclusion the section has no say, otherwise the first match decides.
//! - Patterns: see [`glob`].

mod glob;
pub mod heading;
pub mod references;

use std::collections::BTreeSet;
use std::fmt;

use globset::{GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use references::{References, is_space};

/// Name of the section that holds entries written before any heading.
pub const DEFAULT_SECTION: &str = "codeowners";

/// Who a rule names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Owner {
    /// `@name` or `@group/subgroup`, without the `@`, as written. A name without `/` may be a
    /// user or a top-level group; only the member list can tell. GitLab compares names
    /// case-insensitively.
    Handle(String),
    /// `@@developer`, `@@maintainer`, `@@owner` (plural accepted): direct members with exactly
    /// that role.
    Role(Role),
    /// An e-mail address, resolved to a user by whoever knows the mapping.
    Email(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Developer,
    Maintainer,
    Owner,
}

impl Role {
    /// GitLab's `access_level` for the role.
    pub fn access_level(self) -> u32 {
        match self {
            Role::Developer => 30,
            Role::Maintainer => 40,
            Role::Owner => 50,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Handle(h) => write!(f, "@{h}"),
            Owner::Role(r) => write!(f, "@@{}", format!("{r:?}").to_lowercase()),
            Owner::Email(e) => f.write_str(e),
        }
    }
}

/// GitLab's CODEOWNERS syntax errors (`Gitlab::CodeOwners::Error`), by their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    InvalidSectionFormat,
    MissingSectionName,
    InvalidApprovalRequirement,
    InvalidSectionOwnerFormat,
    MalformedEntryOwner,
    MissingEntryOwner,
}

impl ProblemKind {
    /// The code GitLab reports.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::InvalidSectionFormat => "invalid_section_format",
            ProblemKind::MissingSectionName => "missing_section_name",
            ProblemKind::InvalidApprovalRequirement => "invalid_approval_requirement",
            ProblemKind::InvalidSectionOwnerFormat => "invalid_section_owner_format",
            ProblemKind::MalformedEntryOwner => "malformed_entry_owner",
            ProblemKind::MissingEntryOwner => "missing_entry_owner",
        }
    }

    fn explain(self) -> &'static str {
        match self {
            ProblemKind::InvalidSectionFormat => {
                "not a well-formed section heading (`[Name]`, `^[Name]`, `[Name][N]`, then owners after a space)"
            }
            ProblemKind::MissingSectionName => "section heading without a name",
            ProblemKind::InvalidApprovalRequirement => {
                "approval count must be a whole number, and an optional (`^`) section cannot require approvals"
            }
            ProblemKind::InvalidSectionOwnerFormat => {
                "the heading's default owners are not all @user, @group, @@role or e-mail"
            }
            ProblemKind::MalformedEntryOwner => {
                "owner that is no @user, @group, @@role or e-mail (ignored)"
            }
            ProblemKind::MissingEntryOwner => {
                "entry without owners, and its heading has no default owners"
            }
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A syntax error GitLab reports for a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    /// GitLab's error code.
    pub code: ProblemKind,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CODEOWNERS line {}: {}: {}",
            self.line, self.code, self.message
        )
    }
}

/// One entry of a section.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The path pattern as written (escapes included, `!` removed).
    pub pattern: String,
    /// GitLab's normalized form (`/**/*.rb`): the key within the section.
    pub normalized: String,
    /// 1-based line number.
    pub line: usize,
    /// The text the owners were read from: the entry's own, else its heading's defaults
    /// (empty for exclusions).
    pub owner_line: String,
    /// Owners of matching files. Empty means GitLab cannot satisfy the rule and approves it
    /// automatically: matching files have no owner in this section.
    pub owners: Vec<Owner>,
    /// The owners came from the section heading.
    pub default_owners: bool,
    /// `!pattern`: matching files are exempt from this section.
    pub exclusion: bool,
    /// The entry's heading was optional (`^[...]`).
    pub optional: bool,
    /// The entry's heading's `[N]` (0 when none was given).
    pub approvals: u32,
    glob: Option<globset::Glob>,
}

impl Rule {
    /// Approvals GitLab asks from this rule's owners (when the section is required).
    pub fn required_approvals(&self) -> u32 {
        self.approvals.max(1)
    }
}

/// A section (named, or the default one), with every heading of that name combined.
#[derive(Debug, Clone)]
pub struct Section {
    /// The name as first written (the default section is [`DEFAULT_SECTION`]).
    pub name: String,
    /// Every entry of the section is optional (GitLab's `optional_section?`).
    pub optional: bool,
    /// The largest approval count asked by the section's entries (at least 1).
    pub approvals: u32,
    /// Default owners from the heading(s), in order of appearance.
    pub default_owners: Vec<Owner>,
    pub rules: Vec<Rule>,
    /// Globs of the rules that have one, and which rule each is.
    set: GlobSet,
    set_rules: Vec<usize>,
    /// Normalized pattern -> index in `rules` (while parsing).
    keys: std::collections::HashMap<String, usize>,
}

impl Section {
    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_SECTION
    }

    fn new(name: &str) -> Section {
        Section {
            name: name.to_string(),
            optional: false,
            approvals: 1,
            default_owners: Vec::new(),
            rules: Vec::new(),
            set: GlobSet::empty(),
            set_rules: Vec::new(),
            keys: Default::default(),
        }
    }
}

/// The result of a lookup in one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionMatch {
    pub section: String,
    /// The whole section is optional.
    pub optional: bool,
    /// Approvals the deciding rule asks for (`max(N, 1)`).
    pub approvals: u32,
    /// The deciding rule's pattern and line (the exclusion's, when excluded).
    pub pattern: String,
    pub line: usize,
    pub owners: Vec<Owner>,
    pub default_owners: bool,
    pub excluded: bool,
}

#[derive(Debug, Clone, Default)]
pub struct CodeOwners {
    pub sections: Vec<Section>,
    /// GitLab's syntax errors, in line order.
    pub problems: Vec<Problem>,
    /// What this implementation could not do as GitLab would (never seen in practice: a
    /// pattern the glob engine refuses); not GitLab errors.
    pub notes: Vec<String>,
}

/// Ruby's `String#strip`.
fn ruby_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c == '\0' || is_space(c))
}

/// Rails' `blank?`.
fn blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// The heading in force while reading entries.
struct Current {
    section: usize,
    optional: bool,
    approvals: u32,
    defaults: String,
}

impl CodeOwners {
    pub fn parse(text: &str) -> CodeOwners {
        let mut co = CodeOwners {
            sections: vec![Section::new(DEFAULT_SECTION)],
            ..CodeOwners::default()
        };
        let mut cur = Current {
            section: 0,
            optional: false,
            approvals: 0,
            defaults: String::new(),
        };
        for (i, raw) in text.split('\n').enumerate() {
            let n = i + 1;
            let line = ruby_strip(raw);
            if blank(line) || line.starts_with('#') {
                continue;
            }
            match heading::classify(line) {
                heading::Line::Unparsable => {
                    co.problem(n, ProblemKind::InvalidSectionFormat, String::new());
                }
                heading::Line::Heading(h, problems) => {
                    for p in problems {
                        let detail = match p {
                            ProblemKind::InvalidApprovalRequirement => {
                                format!("`[{}]`", h.raw_approvals.unwrap_or(""))
                            }
                            ProblemKind::InvalidSectionOwnerFormat => {
                                format!("`{}`", h.default_owners)
                            }
                            _ => String::new(),
                        };
                        co.problem(n, p, detail);
                    }
                    let name = co.section_name(h.name);
                    let idx = co.section_index(&name);
                    let s = &mut co.sections[idx];
                    for o in References::scan(h.default_owners).owners() {
                        if !s.default_owners.contains(&o) {
                            s.default_owners.push(o);
                        }
                    }
                    cur = Current {
                        section: idx,
                        optional: h.optional,
                        approvals: h.approvals(),
                        defaults: h.default_owners.to_string(),
                    };
                }
                heading::Line::Entry => co.entry(n, line, &cur),
            }
        }
        // The default section exists from the start; drop it when the file never used it.
        co.sections
            .retain(|s| !(s.is_default() && s.rules.is_empty()));
        for s in &mut co.sections {
            let mut b = GlobSetBuilder::new();
            s.set_rules.clear();
            for (i, r) in s.rules.iter().enumerate() {
                if let Some(g) = &r.glob {
                    b.add(g.clone());
                    s.set_rules.push(i);
                }
            }
            // Every glob already compiled alone, so the set builds; an empty set is the
            // (never matching) fallback should that ever change.
            s.set = b.build().unwrap_or_else(|_| GlobSet::empty());
            s.keys = Default::default();
            s.optional = !s.rules.is_empty() && s.rules.iter().all(|r| r.optional);
            s.approvals = s
                .rules
                .iter()
                .map(Rule::required_approvals)
                .max()
                .unwrap_or(1);
        }
        co
    }

    fn entry(&mut self, n: usize, line: &str, cur: &Current) {
        let (pattern, owners_text) = split_entry(line);
        let (exclusion, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        let normalized = glob::normalize(pattern);
        let mut owner_line = String::new();
        let mut default_owners = false;
        if !exclusion {
            let malformed: Vec<&str> = owners_text
                .split(is_space)
                .filter(|w| !w.is_empty() && References::scan(w).is_empty())
                .collect();
            if !malformed.is_empty() {
                let words = malformed
                    .iter()
                    .take(5)
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.problem(n, ProblemKind::MalformedEntryOwner, words);
            }
            if blank(owners_text) {
                owner_line = cur.defaults.clone();
                default_owners = true;
            } else {
                owner_line = owners_text.to_string();
            }
            if blank(&owner_line) {
                self.problem(n, ProblemKind::MissingEntryOwner, format!("`{pattern}`"));
            }
        }
        let glob = match glob::compile(&normalized) {
            Ok(g) => Some(g),
            Err(e) => {
                self.notes.push(format!(
                    "line {n}: pattern `{pattern}` cannot be matched here ({e}); it matches nothing"
                ));
                None
            }
        };
        let rule = Rule {
            pattern: pattern.to_string(),
            owners: References::scan(&owner_line).owners(),
            normalized,
            line: n,
            owner_line,
            default_owners: default_owners && !exclusion,
            exclusion,
            optional: cur.optional,
            approvals: cur.approvals,
            glob,
        };
        let s = &mut self.sections[cur.section];
        match s.keys.get(&rule.normalized) {
            // A Ruby hash keeps a replaced key where it was first inserted.
            Some(&i) => s.rules[i] = rule,
            None => {
                s.keys.insert(rule.normalized.clone(), s.rules.len());
                s.rules.push(rule);
            }
        }
    }

    /// Owners of a path, one entry per section that has a say (file order of sections).
    pub fn owners_of(&self, path: &str) -> Vec<SectionMatch> {
        let path = rooted(path);
        let mut out = Vec::new();
        let mut hits = Vec::new();
        for s in &self.sections {
            s.set.matches_into(&path, &mut hits);
            let matching = || hits.iter().map(|&i| s.set_rules[i]);
            // An exclusion anywhere among the matches wins; otherwise the last pattern does.
            let decisive = matching()
                .filter(|&i| s.rules[i].exclusion)
                .max()
                .or_else(|| matching().max());
            if let Some(r) = decisive.map(|i| &s.rules[i]) {
                out.push(SectionMatch {
                    section: s.name.clone(),
                    optional: s.optional,
                    approvals: r.required_approvals(),
                    pattern: r.pattern.clone(),
                    line: r.line,
                    owners: r.owners.clone(),
                    default_owners: r.default_owners,
                    excluded: r.exclusion,
                });
            }
        }
        out
    }

    /// Every owner named anywhere in the file.
    pub fn all_owners(&self) -> BTreeSet<&Owner> {
        self.sections
            .iter()
            .flat_map(|s| {
                s.rules
                    .iter()
                    .flat_map(|r| &r.owners)
                    .chain(&s.default_owners)
            })
            .collect()
    }

    /// The section named exactly `name` (as [`SectionMatch::section`] reports it).
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    fn problem(&mut self, line: usize, code: ProblemKind, detail: String) {
        let message = if detail.is_empty() {
            code.explain().to_string()
        } else {
            format!("{}: {detail}", code.explain())
        };
        self.problems.push(Problem {
            line,
            code,
            message,
        });
    }

    /// GitLab's `find_section_name`: as written until a named section exists, then the first
    /// existing section of that name in any case.
    fn section_name(&self, name: &str) -> String {
        if self.sections.last().is_some_and(Section::is_default) {
            return name.to_string();
        }
        let key = name.to_lowercase();
        self.sections
            .iter()
            .find(|s| s.name.to_lowercase() == key)
            .map_or_else(|| name.to_string(), |s| s.name.clone())
    }

    fn section_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.sections.iter().position(|s| s.name == name) {
            return i;
        }
        self.sections.push(Section::new(name));
        self.sections.len() - 1
    }
}

/// Splits at the first whitespace not preceded by `\` (`partition(/(?<!\\)\s+/)`).
fn split_entry(line: &str) -> (&str, &str) {
    let mut prev = None;
    for (i, c) in line.char_indices() {
        if is_space(c) && prev != Some('\\') {
            return (&line[..i], line[i..].trim_start_matches(is_space));
        }
        prev = Some(c);
    }
    (line, "")
}

/// A repository path as GitLab matches it: rooted at `/`.
fn rooted(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests;
