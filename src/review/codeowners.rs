//! GitLab `CODEOWNERS` parsing and lookup.
//!
//! Public API:
//! - [`CodeOwners::parse`]`(text) -> CodeOwners`: never fails; every line it could not use is
//!   kept in [`CodeOwners::problems`] (`line N: why`) and the rest of the file still applies.
//! - [`CodeOwners::owners_of`]`(path) -> Vec<SectionMatch>`: for each section with a rule for
//!   the path, the last matching rule (or `excluded: true` when a `!pattern` of that section
//!   matches). Paths are repository-relative (`app/models/user.rb`, a leading `/` is ignored).
//! - [`CodeOwners::sections`], [`Section`], [`Rule`], [`Owner`] (`@user` / `@group/sub` handles,
//!   `@@role`, e-mail addresses).
//!
//! Semantics follow GitLab's documentation (user/project/codeowners/reference.md, advanced.md):
//! - `#` starts a comment line; `\#` escapes a leading `#`; `\ ` escapes a space in a path.
//! - `[Name]`, `^[Name]` (optional), `[Name][N]` (N approvals, 0 or junk counts as 1),
//!   `[Name] @a @b` (default owners for entries of that heading that list none). Names compare
//!   case-insensitively and repeated sections combine; combined, a section is optional only
//!   if every heading says so. Entries before the first heading form the unnamed default section.
//! - Within a section the last matching entry wins; all sections apply side by side.
//! - `!pattern` excludes matching files from the section, whatever the order of the entries.
//! - Patterns are matched like GitLab's `File.fnmatch` with `FNM_PATHNAME | FNM_DOTMATCH`:
//!   `*` alone means every file; a pattern without a leading `/` matches at any depth; a trailing
//!   `/` means everything below that directory; `*` and `?` stop at `/`; `**/` spans directories
//!   (a `**` not followed by `/` is a plain `*`, as in Ruby); `{` `}` are literal.
//! - Owner tokens that are not `@handle`, `@@role` or an e-mail are reported and ignored (so
//!   words of an inline "comment" are dropped, and `@handles` in it still count, as in GitLab).

use std::collections::BTreeSet;
use std::fmt;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// Name of the section that holds entries written before any heading.
pub const DEFAULT_SECTION: &str = "codeowners";

/// Who a rule names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Owner {
    /// `@name` or `@group/subgroup`, without the `@`. A name without `/` may be a user or a
    /// top-level group; only the member list can tell.
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

/// A line that could not be used as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CODEOWNERS line {}: {}", self.line, self.message)
    }
}

/// One entry of a section.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The path pattern as written (escapes included, `!` removed).
    pub pattern: String,
    /// 1-based line number.
    pub line: usize,
    /// Owners of matching files: the entry's own, else its heading's defaults. Empty means
    /// GitLab treats the rule as unsatisfiable (auto-approved): matching files have no owner.
    pub owners: Vec<Owner>,
    /// The owners came from the section heading.
    pub default_owners: bool,
    /// `!pattern`: matching files are exempt from this section.
    pub exclusion: bool,
    glob: Glob,
}

/// A section (named, or the default one), with every heading of that name combined.
#[derive(Debug, Clone)]
pub struct Section {
    /// The name as first written (the default section is [`DEFAULT_SECTION`]).
    pub name: String,
    pub optional: bool,
    /// Approvals required from this section's owners (at least 1).
    pub approvals: u32,
    /// Default owners from the heading(s), in order of appearance.
    pub default_owners: Vec<Owner>,
    pub rules: Vec<Rule>,
    /// Headings seen with this name (0 for the default section).
    headings: usize,
    /// All rules' globs, indexed like `rules`: one pass per path instead of one per rule.
    set: GlobSet,
}

impl Section {
    pub fn is_default(&self) -> bool {
        self.name == DEFAULT_SECTION
    }
}

/// The result of a lookup in one section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionMatch {
    pub section: String,
    pub optional: bool,
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
    pub problems: Vec<Problem>,
}

impl CodeOwners {
    pub fn parse(text: &str) -> CodeOwners {
        let mut co = CodeOwners::default();
        let mut current = co.section_index(DEFAULT_SECTION);
        // Defaults of the heading in force (not of the combined section: each heading's
        // defaults apply to the entries written under it).
        let mut defaults: Vec<Owner> = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_heading(line) {
                Heading::Valid {
                    name,
                    optional,
                    approvals,
                    owners,
                } => {
                    let approvals = match approvals {
                        None => 1,
                        Some(a) => {
                            match a.parse::<u32>() {
                                Ok(v) if v >= 1 => v,
                                _ => {
                                    co.problem(n, format!("approvals count `[{a}]` is not a number ≥ 1; 1 is required"));
                                    1
                                }
                            }
                        }
                    };
                    defaults = co.owners(n, owners);
                    let idx = co.section_index(name);
                    let s = &mut co.sections[idx];
                    s.optional = if s.headings == 0 {
                        optional
                    } else {
                        s.optional && optional
                    };
                    s.headings += 1;
                    s.approvals = s.approvals.max(approvals);
                    for o in &defaults {
                        if !s.default_owners.contains(o) {
                            s.default_owners.push(o.clone());
                        }
                    }
                    current = idx;
                    continue;
                }
                Heading::Unnamed => {
                    co.problem(n, "section heading without a name; line ignored".into());
                    continue;
                }
                Heading::Entry => {}
            }
            if line.starts_with('[') || line.starts_with("^[") {
                co.problem(
                    n,
                    "looks like a section heading but does not parse; GitLab reads it as an entry"
                        .into(),
                );
            }
            let (pattern, owners_text) = split_entry(line);
            let (exclusion, pattern) = match pattern.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pattern),
            };
            if pattern.is_empty() {
                co.problem(n, "exclusion without a pattern; line ignored".into());
                continue;
            }
            let glob = match compile(pattern) {
                Ok(g) => g,
                Err(e) => {
                    co.problem(
                        n,
                        format!("pattern `{pattern}` is invalid ({e}); line ignored"),
                    );
                    continue;
                }
            };
            let mut owners = co.owners(n, owners_text);
            if exclusion && !owners.is_empty() {
                co.problem(n, "owners on an exclusion (`!`) line are ignored".into());
                owners.clear();
            }
            let mut default_owners = false;
            if owners.is_empty() && !exclusion {
                if defaults.is_empty() {
                    co.problem(
                        n,
                        format!("`{pattern}` has no owners: matching files need no code-owner approval in this section"),
                    );
                } else {
                    owners = defaults.clone();
                    default_owners = true;
                }
            }
            co.sections[current].rules.push(Rule {
                pattern: pattern.to_string(),
                line: n,
                owners,
                default_owners,
                exclusion,
                glob,
            });
        }
        // The default section exists from the start; drop it when the file never used it.
        co.sections
            .retain(|s| !(s.is_default() && s.rules.is_empty()));
        for s in &mut co.sections {
            let mut b = GlobSetBuilder::new();
            for r in &s.rules {
                b.add(r.glob.clone());
            }
            // Every glob already compiled alone, so the set builds; an empty set is the
            // (never matching) fallback should that ever change.
            s.set = b.build().unwrap_or_else(|_| GlobSet::empty());
        }
        co
    }

    /// Owners of a path, one entry per section that has a say (file order of sections).
    pub fn owners_of(&self, path: &str) -> Vec<SectionMatch> {
        let path = rooted(path);
        let mut out = Vec::new();
        let mut hits = Vec::new();
        for s in &self.sections {
            s.set.matches_into(&path, &mut hits);
            // An exclusion wins over any entry of its section; otherwise the last entry does.
            let decisive = hits
                .iter()
                .copied()
                .find(|&i| s.rules[i].exclusion)
                .or_else(|| hits.iter().copied().max());
            if let Some(r) = decisive.map(|i| &s.rules[i]) {
                out.push(SectionMatch {
                    section: s.name.clone(),
                    optional: s.optional,
                    approvals: s.approvals,
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

    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem { line, message });
    }

    fn section_index(&mut self, name: &str) -> usize {
        let key = name.to_lowercase();
        if let Some(i) = self
            .sections
            .iter()
            .position(|s| s.name.to_lowercase() == key)
        {
            return i;
        }
        self.sections.push(Section {
            name: name.to_string(),
            optional: false,
            approvals: 1,
            default_owners: Vec::new(),
            rules: Vec::new(),
            headings: 0,
            set: GlobSet::empty(),
        });
        self.sections.len() - 1
    }

    fn owners(&mut self, line: usize, text: &str) -> Vec<Owner> {
        let mut out: Vec<Owner> = Vec::new();
        for tok in text.split_whitespace() {
            match parse_owner(tok) {
                Some(o) if !out.contains(&o) => out.push(o),
                Some(_) => {}
                None => self.problem(line, format!("malformed owner `{tok}` ignored")),
            }
        }
        out
    }
}

enum Heading<'a> {
    Valid {
        name: &'a str,
        optional: bool,
        approvals: Option<&'a str>,
        owners: &'a str,
    },
    Unnamed,
    Entry,
}

/// `^?[name]([n])?( owners)?`; anything else (including `[abc].rb @x`) is an entry.
fn parse_heading(line: &str) -> Heading<'_> {
    let (optional, rest) = match line.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, line),
    };
    let Some(rest) = rest.strip_prefix('[') else {
        return Heading::Entry;
    };
    let Some(close) = rest.find(']') else {
        return Heading::Entry;
    };
    let name = &rest[..close];
    let mut rest = &rest[close + 1..];
    let mut approvals = None;
    if let Some(r) = rest.strip_prefix('[') {
        let Some(close) = r.find(']') else {
            return Heading::Entry;
        };
        approvals = Some(&r[..close]);
        rest = &r[close + 1..];
    }
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Heading::Entry;
    }
    if name.trim().is_empty() {
        return Heading::Unnamed;
    }
    Heading::Valid {
        name: name.trim(),
        optional,
        approvals,
        owners: rest.trim(),
    }
}

/// Splits at the first whitespace not escaped by `\`.
fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c.is_whitespace() {
            return (&line[..i], line[i..].trim());
        }
    }
    (line, "")
}

fn parse_owner(tok: &str) -> Option<Owner> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && !s.starts_with(['/', '-'])
            && !s.ends_with(['/', '.'])
            && !s.contains("//")
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
    };
    if let Some(role) = tok.strip_prefix("@@") {
        let role = role.to_ascii_lowercase();
        return match role.strip_suffix('s').unwrap_or(&role) {
            "developer" => Some(Owner::Role(Role::Developer)),
            "maintainer" => Some(Owner::Role(Role::Maintainer)),
            "owner" => Some(Owner::Role(Role::Owner)),
            _ => None,
        };
    }
    if let Some(h) = tok.strip_prefix('@') {
        return name_ok(h).then(|| Owner::Handle(h.to_string()));
    }
    let (local, domain) = tok.split_once('@')?;
    let email_ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !tok
            .chars()
            .any(|c| c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    email_ok.then(|| Owner::Email(tok.to_string()))
}

/// A repository path as GitLab matches it: rooted at `/`.
fn rooted(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// GitLab's normalisation, then translation of Ruby `fnmatch` syntax into globset's.
fn compile(pattern: &str) -> Result<Glob, globset::Error> {
    let glob = to_globset(&normalize(pattern));
    GlobBuilder::new(&glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn normalize(pattern: &str) -> String {
    if pattern == "*" {
        return "/**/*".into();
    }
    let mut p = match pattern.strip_prefix("\\#") {
        Some(rest) => format!("#{rest}"),
        None => pattern.to_string(),
    };
    if !p.starts_with('/') {
        p = format!("/**/{p}");
    }
    if p.ends_with('/') {
        p.push_str("**/*");
    }
    p
}

fn to_globset(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    // `\ ` in a path is a space; other escapes keep their meaning.
                    Some(&next) => {
                        push_literal(&mut out, next);
                        i += 1;
                    }
                    None => out.push_str("\\\\"),
                }
            }
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
mod tests;
