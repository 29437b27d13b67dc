//! The literals a rule cannot match without: a line that holds none of them is not given to
//! that rule's set at all.
//!
//! Most lines of a CI log match no rule, yet every one of them walked each rule set's lazy DFA,
//! and building that DFA's states was half of a cold `diagnose`. A rule such as
//! `(?i)\bno space left on device\b` cannot match a line that lacks `no space left on device`;
//! one Aho-Corasick pass over the line for all such literals decides which lines the gated sets
//! need to see. The literals come from each pattern's parsed form, so a new rule is gated (or
//! not) without anyone writing its literals by hand; a rule with no literal of
//! [`MIN_WORTH`] that every match must contain runs on every line, as before.
//!
//! The analysis only ever over-approximates: literals are compared ASCII-case-insensitively and
//! a set that grows too large is dropped rather than trimmed, so a gate can let through a line
//! no rule matches but never holds back one a rule matches.

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Literals worth less than this ([`worth`]: about three letters) let nearly every line
/// through (`: `, `$ `): their rules are not gated.
pub const MIN_WORTH: usize = 6;

/// An exact set (every string a piece can match) larger than this is given up on.
const EXACT_MAX: usize = 64;

/// A rule's alternatives may each need their own words (a rule for every registry's network
/// error): up to this many in one set.
const NEED_MAX: usize = 512;

/// A class of more bytes than this (after folding case) is not spelled out.
const CLASS_MAX: usize = 4;

type Lits = BTreeSet<Vec<u8>>;

/// What a piece of a pattern tells about the text it matches. Every set is case-folded and
/// `None` when unknown or too large.
#[derive(Debug, Default, Clone)]
struct Info {
    /// Every string the piece can match.
    exact: Option<Lits>,
    /// Strings one of which every match starts with.
    prefix: Option<Lits>,
    /// Strings one of which every match ends with.
    suffix: Option<Lits>,
    /// Strings one of which every match contains.
    need: Option<Lits>,
}

impl Info {
    fn exact(set: Option<Lits>) -> Info {
        Info {
            prefix: set.clone(),
            suffix: set.clone(),
            exact: set,
            need: None,
        }
    }

    /// The best filter it gives.
    fn best(self) -> Option<Lits> {
        [self.prefix, self.suffix, self.need]
            .into_iter()
            .fold(self.exact, better)
    }
}

/// How rarely a literal occurs in a log, roughly: spaces are everywhere and words common,
/// punctuation and non-ASCII symbols (`×`, `✗`) less so: `" > "` is worth less than `"×"`,
/// and `"___ "` (a pytest section) more than `"test"`.
fn rarity(lit: &[u8]) -> usize {
    lit.iter()
        .map(|&b| match b {
            b' ' | b'\t' => 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => 2,
            _ => 3,
        })
        .sum()
}

/// What a set is worth as a filter: its rarest-to-miss member's [`rarity`] (0 for a set
/// holding ""), then its members' mean (of `A.*B`, the side with longer words is likely
/// rarer).
fn worth(set: &Lits) -> (usize, usize) {
    let min = set.iter().map(|l| rarity(l)).min().unwrap_or(0);
    let total: usize = set.iter().map(|l| rarity(l)).sum();
    (min, total * 16 / set.len().max(1))
}

/// The better filter of two.
fn better(a: Option<Lits>, b: Option<Lits>) -> Option<Lits> {
    match (a, b) {
        (Some(a), Some(b)) => {
            if worth(&a) >= worth(&b) {
                Some(a)
            } else {
                Some(b)
            }
        }
        (a, b) => a.or(b),
    }
}

fn one(s: &[u8]) -> Lits {
    BTreeSet::from([s.to_ascii_lowercase()])
}

/// Every concatenation of a string of `a` and one of `b`, or `None` past [`EXACT_MAX`].
fn product(a: Option<&Lits>, b: Option<&Lits>) -> Option<Lits> {
    let (a, b) = (a?, b?);
    if a.len().saturating_mul(b.len()) > EXACT_MAX {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y].concat()))
            .collect(),
    )
}

/// `k` copies of one of `set`'s strings in a row.
fn power(set: &Lits, k: u32) -> Option<Lits> {
    let mut out = BTreeSet::from([Vec::new()]);
    for _ in 0..k.min(8) {
        out = product(Some(&out), Some(set))?;
    }
    Some(out)
}

/// The union of every branch's set, or `None` when one branch has none or it outgrows `max`.
fn union<'a>(mut sets: impl Iterator<Item = Option<&'a Lits>>, max: usize) -> Option<Lits> {
    sets.try_fold(Lits::new(), |mut acc, s| {
        acc.extend(s?.iter().cloned());
        (acc.len() <= max).then_some(acc)
    })
}

/// The bytes of a class, case-folded, when there are few.
fn class_bytes(class: &Class) -> Option<Lits> {
    let mut out = Lits::new();
    let mut add = |lo: u32, hi: u32| -> Option<()> {
        for b in lo..=hi {
            let b = u8::try_from(b).ok()?;
            out.insert(vec![b.to_ascii_lowercase()]);
            if out.len() > CLASS_MAX {
                return None;
            }
        }
        Some(())
    };
    match class {
        Class::Bytes(c) => {
            for r in c.iter() {
                add(u32::from(r.start()), u32::from(r.end()))?;
            }
        }
        Class::Unicode(c) => {
            for r in c.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                // A non-ASCII scalar is several bytes: not spelled out.
                if hi >= 0x80 {
                    return None;
                }
                add(lo, hi)?;
            }
        }
    }
    Some(out)
}

/// `a` then `b`.
fn concat(a: Info, b: Info) -> Info {
    let exact = product(a.exact.as_ref(), b.exact.as_ref());
    if exact.is_some() {
        return Info::exact(exact);
    }
    // A match starts the way `a` does, or (when `a` is exact) with `a` then `b`'s start.
    let prefix = match &a.exact {
        Some(e) => product(Some(e), b.prefix.as_ref()).or_else(|| Some(e.clone())),
        None => a.prefix.clone(),
    };
    let suffix = match &b.exact {
        Some(e) => product(a.suffix.as_ref(), Some(e)).or_else(|| Some(e.clone())),
        None => b.suffix.clone(),
    };
    // Where they meet, `a`'s end runs into `b`'s start.
    let cross = product(a.suffix.as_ref(), b.prefix.as_ref());
    let need = [a.need, b.need, a.suffix, b.prefix, a.exact, b.exact]
        .into_iter()
        .fold(cross, better);
    Info {
        exact: None,
        prefix,
        suffix,
        need,
    }
}

fn analyze(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(Some(BTreeSet::from([Vec::new()]))),
        HirKind::Literal(lit) => Info::exact(Some(one(&lit.0))),
        HirKind::Class(c) => Info::exact(class_bytes(c)),
        HirKind::Capture(c) => analyze(&c.sub),
        HirKind::Repetition(rep) => {
            let sub = analyze(&rep.sub);
            match (rep.min, rep.max) {
                // `x?`: the empty string or one of x's.
                (0, Some(1)) => Info::exact(sub.exact.map(|mut e| {
                    e.insert(Vec::new());
                    e
                })),
                (0, _) => Info::default(),
                (1, Some(1)) => sub,
                // At least `min` x's: a match starts and ends with them and holds one x.
                (min, _) => match &sub.exact {
                    Some(e) => {
                        let run = power(e, min).or_else(|| Some(e.clone()));
                        Info {
                            exact: None,
                            prefix: run.clone(),
                            suffix: run.clone(),
                            need: run,
                        }
                    }
                    None => Info {
                        exact: None,
                        prefix: sub.prefix.clone(),
                        suffix: sub.suffix.clone(),
                        need: sub.best(),
                    },
                },
            }
        }
        HirKind::Concat(subs) => subs
            .iter()
            .map(analyze)
            .reduce(concat)
            .unwrap_or_else(|| Info::exact(Some(BTreeSet::from([Vec::new()])))),
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(analyze).collect();
            let exact = union(infos.iter().map(|i| i.exact.as_ref()), EXACT_MAX);
            if exact.is_some() {
                return Info::exact(exact);
            }
            // Each branch must give something: a match takes one branch or another.
            let prefix = union(infos.iter().map(|i| i.prefix.as_ref()), NEED_MAX);
            let suffix = union(infos.iter().map(|i| i.suffix.as_ref()), NEED_MAX);
            let bests: Vec<Option<Lits>> = infos.into_iter().map(Info::best).collect();
            let need = union(bests.iter().map(Option::as_ref), NEED_MAX);
            Info {
                exact: None,
                prefix,
                suffix,
                need,
            }
        }
    }
}

/// The literals (case-folded) one of which every match of `hir` contains, when each is worth
/// at least [`MIN_WORTH`].
pub fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    analyze(hir)
        .best()
        .filter(|set| worth(set).0 >= MIN_WORTH)
        .map(|set| set.into_iter().collect())
}

/// One pass for any of many literals, ASCII case ignored.
pub struct Gate {
    ac: AhoCorasick,
}

impl Gate {
    pub fn new(literals: &[Vec<u8>]) -> Gate {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(literals)
            .unwrap_or_else(|e| unreachable!("literals from constant rule patterns: {e}"));
        Gate { ac }
    }

    /// Whether the text holds one of the literals.
    pub fn admits(&self, hay: &[u8]) -> bool {
        self.ac.is_match(hay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .expect("test pattern");
        required_literals(&hir).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8(l).expect("ascii"))
                .collect()
        })
    }

    #[test]
    fn a_literal_run_is_required_whatever_its_case() {
        assert_eq!(
            lits(r"(?i)\bno space left on device\b"),
            Some(vec!["no space left on device".into()])
        );
        assert_eq!(lits(r"^Killed\s*$"), Some(vec!["killed".into()]));
    }

    #[test]
    fn each_branch_of_an_alternation_gives_its_own() {
        assert_eq!(
            lits(r"^error: (?P<m>.+)|npm ERR! code E\d+"),
            Some(vec!["error: ".into(), "npm err! code e".into()])
        );
    }

    #[test]
    fn a_branch_without_a_literal_ungates_the_rule() {
        assert_eq!(lits(r"error: .+|^\S+$"), None);
        assert_eq!(lits(r"(foo)?bar?"), None);
        assert_eq!(lits(r"^\$ (?P<n>\S.*)$"), None, "two bytes are too few");
    }

    #[test]
    fn optional_and_repeated_pieces_keep_what_they_must_hold() {
        // The optional piece multiplies the run; the repeated one needs one copy.
        assert_eq!(
            lits(r"(?:\* )?FAIL(?:ED)?:"),
            Some(vec![
                "* fail:".into(),
                "* failed:".into(),
                "fail:".into(),
                "failed:".into()
            ])
        );
        assert_eq!(lits(r"x(?:abcd)+y"), Some(vec!["xabcd".into()]));
        assert_eq!(lits(r"\d+ passed"), Some(vec![" passed".into()]));
    }

    #[test]
    fn the_gate_reads_any_case() {
        let gate = Gate::new(&[b"no space left".to_vec(), b"killed".to_vec()]);
        assert!(gate.admits(b"write /tmp/x: No Space Left on device"));
        assert!(gate.admits(b"KILLED"));
        assert!(!gate.admits(b"compiling foo v0.1.0"));
    }
}
