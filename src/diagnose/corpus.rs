//! The labelled CI-log corpus (`tests/corpus/ci-logs`): loading, the dev/held-out split, and
//! the per-case checks `gitaiops eval` reports (category, decisive line, the tail-20 baseline,
//! confident mistakes, retries, infra flags, quotes spent on runner boilerplate).
//!
//! The same decisive-line checks run on LogDx-CI, whose ground truth marks evidence spans.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::boilerplate::is_runner_boilerplate;
use super::log::LogIndex;
use super::model::{Category, Diagnosis, JobContext};
use crate::command::Command;
use crate::gitlab::models::FailureReason;

/// Lines the tail baseline reads: what someone sees at the end of the job page.
pub const TAIL_LINES: usize = 20;
/// A category given with at least this confidence is a confident answer.
pub const CONFIDENT: f64 = 0.6;

/// `label.json` of one case (see the corpus README).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Label {
    pub case: String,
    pub category: String,
    #[serde(default)]
    pub accept: Vec<String>,
    pub infra_or_flaky: bool,
    pub decisive: Vec<DecisiveLine>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub job_name: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub how: String,
    #[serde(default)]
    pub source: String,
    /// Which batch of scenarios the case came from (1, 2, 3, ...; labels before round 2 have
    /// none). Each round was generated before the engine was run on it, so the newest round
    /// is the only out-of-sample figure for the engine as it stands.
    #[serde(default = "first_round")]
    pub round: u32,
}

fn first_round() -> u32 {
    1
}

/// Rounds after the first two whose misses were read and fixed: their figures are in-sample
/// now (each one's out-of-sample figure, taken before, is in BENCHMARKS.md). A round of the
/// corpus not listed here was generated after the engine and not read yet: `gitaiops eval`
/// labels it out-of-sample and does not list its misses. Add a round here in the commit that
/// starts fixing its misses.
pub const TUNED_ROUNDS: &[u32] = &[
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
    29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
    77, 78, 79, 80, 81, 82, 83, 84, 85,
];

/// Tuned rounds whose misses were read and fixed only in part: the ones left are listed by
/// `gitaiops eval corpus --round N` and in BENCHMARKS.md. The floors test holds them to the
/// figures they reached, not to the 0.97 of the others.
pub const PARTLY_FIXED_ROUNDS: &[u32] = &[
    38, 39, 52, 53, 55, 57, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 74, 78, 79, 80, 81,
    82, 83, 84, 85,
];

/// Rounds 1 and 2 are split into dev and held-out instead (both read by now).
pub const FIRST_OWN_ROUND: u32 = 3;

/// Whether rules were written (or fixed) reading this round's cases.
pub fn round_is_tuned(round: u32) -> bool {
    round < FIRST_OWN_ROUND || TUNED_ROUNDS.contains(&round)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DecisiveLine {
    /// 1-based.
    pub line: usize,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    Dev,
    HeldOut,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Dev => "dev",
            Split::HeldOut => "held-out",
        }
    }
}

/// The split rule, fixed before the corpus was generated: held-out when the first byte of
/// SHA-256 of the case name is divisible by 3.
pub fn split_of(name: &str) -> Split {
    if Sha256::digest(name.as_bytes())[0] % 3 == 0 {
        Split::HeldOut
    } else {
        Split::Dev
    }
}

#[derive(Debug, Clone)]
pub struct CorpusCase {
    pub name: String,
    pub dir: PathBuf,
    pub label: Label,
    pub split: Split,
}

impl CorpusCase {
    /// What the diagnoser may know besides the log: what GitLab's job API gives. A job id is
    /// set so a retry can be proposed (and counted when it should not be).
    pub fn job_context(&self) -> JobContext {
        JobContext {
            project: self.label.project.clone(),
            job_id: Some(1),
            job_name: self.label.job_name.clone(),
            stage: self.label.stage.clone(),
            failure_reason: self
                .label
                .failure_reason
                .as_deref()
                .map(FailureReason::from),
            ..Default::default()
        }
    }

    pub fn trace_path(&self) -> PathBuf {
        self.dir.join("trace.log")
    }
}

/// Cases under `DIR/cases/*/label.json`, sorted by name.
pub fn load(dir: &Path) -> anyhow::Result<Vec<CorpusCase>> {
    let root = dir.join("cases");
    let entries = std::fs::read_dir(&root)
        .with_context(|| format!("{}: not a CI-log corpus (no cases/ folder)", dir.display()))?;
    let mut out = Vec::new();
    for e in entries {
        let path = e?.path();
        let label_path = path.join("label.json");
        if !label_path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&label_path)
            .with_context(|| format!("reading {}", label_path.display()))?;
        let label: Label = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid label.json", label_path.display()))?;
        if Category::parse(&label.category).is_none() {
            anyhow::bail!(
                "{}: unknown category `{}`",
                label_path.display(),
                label.category
            );
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(CorpusCase {
            split: split_of(&name),
            name,
            dir: path,
            label,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What one diagnosis got right and wrong on one labelled log.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub case: String,
    pub split: Split,
    pub round: u32,
    pub expected: String,
    pub predicted: String,
    pub confidence: f64,
    pub category_ok: bool,
    /// An evidence quote on a decisive line.
    pub decisive_hit: bool,
    /// A decisive line among the last [`TAIL_LINES`] lines.
    pub tail_hit: bool,
    pub infra_expected: bool,
    pub infra_flagged: bool,
    pub retry_proposed: bool,
    pub quotes: usize,
    pub boilerplate_quotes: usize,
    /// The diagnosis failed (model error): scored as wrong everywhere.
    pub error: Option<String>,
    pub millis: u128,
}

/// Grades a diagnosis (or its failure) of `case`'s log.
pub fn grade(
    case: &CorpusCase,
    log: &LogIndex,
    d: Result<&Diagnosis, String>,
    millis: u128,
) -> Outcome {
    let decisive: Vec<usize> = case.label.decisive.iter().map(|l| l.line).collect();
    let tail_hit = tail_contains(log.line_count(), &decisive);
    let base = Outcome {
        case: case.name.clone(),
        split: case.split,
        round: case.label.round,
        expected: case.label.category.clone(),
        predicted: "-".into(),
        confidence: 0.0,
        category_ok: false,
        decisive_hit: false,
        tail_hit,
        infra_expected: case.label.infra_or_flaky,
        infra_flagged: false,
        retry_proposed: false,
        quotes: 0,
        boilerplate_quotes: 0,
        error: None,
        millis,
    };
    let d = match d {
        Ok(d) => d,
        Err(e) => {
            return Outcome {
                error: Some(e),
                ..base
            };
        }
    };
    let predicted = d.category.as_str();
    Outcome {
        predicted: predicted.to_string(),
        confidence: d.confidence,
        category_ok: predicted == case.label.category
            || case.label.accept.iter().any(|a| a == predicted),
        decisive_hit: d.evidence.iter().any(|e| decisive.contains(&e.line)),
        infra_flagged: d.infra_or_flaky,
        retry_proposed: d
            .commands
            .iter()
            .any(|c| matches!(c, Command::RetryJob { .. })),
        quotes: d.evidence.len(),
        boilerplate_quotes: d
            .evidence
            .iter()
            .filter(|e| is_runner_boilerplate(&e.text))
            .count(),
        ..base
    }
}

/// Whether one of the 1-based `lines` is among the last [`TAIL_LINES`] of a log of
/// `line_count` lines.
pub fn tail_contains(line_count: usize, lines: &[usize]) -> bool {
    let first = line_count.saturating_sub(TAIL_LINES) + 1;
    lines.iter().any(|&l| l >= first && l <= line_count)
}

/// Diagnoses and grades one case.
pub fn run_case(
    case: &CorpusCase,
    diagnose: &mut dyn FnMut(&LogIndex, &JobContext) -> anyhow::Result<Diagnosis>,
) -> anyhow::Result<Outcome> {
    let path = case.trace_path();
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let started = std::time::Instant::now();
    let log = LogIndex::parse(Arc::new(bytes));
    let d = diagnose(&log, &case.job_context()).map_err(|e| e.to_string());
    let millis = started.elapsed().as_millis();
    Ok(grade(case, &log, d.as_ref().map_err(Clone::clone), millis))
}

/// Rates over a set of outcomes. `None` when the set has no case the rate is about.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Rates {
    pub cases: usize,
    pub category_accuracy: Option<f64>,
    pub decisive_hit: Option<f64>,
    pub tail_hit: Option<f64>,
    /// Wrong category with confidence >= [`CONFIDENT`] (a count).
    pub confident_wrong: usize,
    /// Retries proposed where the label says the code is at fault (a count).
    pub retries_on_real_failures: usize,
    pub infra_cases: usize,
    pub infra_flagged: usize,
    /// Real failures flagged infra/flaky (a count).
    pub false_infra: usize,
    pub quotes: usize,
    pub boilerplate_quotes: usize,
    pub mean_confidence_right: Option<f64>,
    pub mean_confidence_wrong: Option<f64>,
    pub errors: usize,
}

pub fn rates<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Rates {
    let v: Vec<&Outcome> = outcomes.into_iter().collect();
    let frac = |n: usize, d: usize| (d > 0).then(|| n as f64 / d as f64);
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let count = |f: &dyn Fn(&Outcome) -> bool| v.iter().filter(|o| f(o)).count();
    Rates {
        cases: v.len(),
        category_accuracy: frac(count(&|o| o.category_ok), v.len()),
        decisive_hit: frac(count(&|o| o.decisive_hit), v.len()),
        tail_hit: frac(count(&|o| o.tail_hit), v.len()),
        confident_wrong: count(&|o| !o.category_ok && o.confidence >= CONFIDENT),
        retries_on_real_failures: count(&|o| o.retry_proposed && !o.infra_expected),
        infra_cases: count(&|o| o.infra_expected),
        infra_flagged: count(&|o| o.infra_expected && o.infra_flagged),
        false_infra: count(&|o| !o.infra_expected && o.infra_flagged),
        quotes: v.iter().map(|o| o.quotes).sum(),
        boilerplate_quotes: v.iter().map(|o| o.boilerplate_quotes).sum(),
        mean_confidence_right: mean(
            v.iter()
                .filter(|o| o.category_ok)
                .map(|o| o.confidence)
                .collect(),
        ),
        mean_confidence_wrong: mean(
            v.iter()
                .filter(|o| !o.category_ok && o.error.is_none())
                .map(|o| o.confidence)
                .collect(),
        ),
        errors: count(&|o| o.error.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ci-logs")
    }

    #[test]
    fn split_rule_is_the_recorded_one() {
        // sha256("a")[0] = 0xca = 202 = 3 * 67 + 1; sha256("b")[0] = 0x3e = 62 = 3 * 20 + 2;
        // sha256("d")[0] = 0x18 = 24 = 3 * 8.
        assert_eq!(split_of("a"), Split::Dev);
        assert_eq!(split_of("b"), Split::Dev);
        assert_eq!(split_of("d"), Split::HeldOut);
    }

    /// Every label is consistent with its log: the decisive lines exist and hold the text the
    /// label recorded (the generator counted lines the way `LogIndex` does), and the runner's
    /// final line is there.
    #[test]
    fn labels_match_their_logs() {
        let cases = load(&corpus_dir()).unwrap();
        assert!(cases.len() >= 100, "{} cases", cases.len());
        let held = cases.iter().filter(|c| c.split == Split::HeldOut).count();
        assert!(held >= 30, "{held} held-out cases");
        for c in &cases {
            let log = LogIndex::parse(Arc::new(std::fs::read(c.trace_path()).unwrap()));
            assert!(!c.label.decisive.is_empty(), "{}", c.name);
            for d in &c.label.decisive {
                assert!(d.line >= 1 && d.line <= log.line_count(), "{}", c.name);
                // Labels keep the first 300 characters of a line.
                let plain = log.plain(d.line - 1);
                assert!(
                    !d.text.is_empty() && plain.trim().starts_with(&d.text),
                    "{} line {}: label and log disagree: {:?} vs {:?}",
                    c.name,
                    d.line,
                    d.text,
                    plain.trim()
                );
            }
            let last = (0..log.line_count())
                .rev()
                .map(|i| log.plain(i))
                .find(|t| !t.trim().is_empty())
                .unwrap_or_default();
            assert!(last.starts_with("ERROR: Job failed"), "{}: {last}", c.name);
            // GitLab gives a job its runner stopped at the time limit the reason
            // job_execution_timeout, never script_failure (some cases give none: offline logs).
            if last.starts_with("ERROR: Job failed: execution took longer than") {
                assert!(
                    matches!(
                        c.label.failure_reason.as_deref(),
                        None | Some("job_execution_timeout")
                    ),
                    "{}: a job timeout with failure_reason {:?}",
                    c.name,
                    c.label.failure_reason
                );
            }
        }
    }

    /// The rules engine over the whole corpus, as `gitaiops eval` runs it: regression floors
    /// at the measured figures (dev in-sample, held-out out-of-sample) and the safety
    /// properties that must hold on every case.
    #[test]
    fn rules_engine_floors_on_the_corpus() {
        let cases = load(&corpus_dir()).unwrap();
        let mut diag = |l: &LogIndex, c: &JobContext| Ok(crate::diagnose::rules::diagnose(l, c));
        let outcomes: Vec<Outcome> = cases
            .iter()
            .map(|c| run_case(c, &mut diag).unwrap())
            .collect();
        // The dev/held-out floors are those of rounds 1 and 2, measured before round 3 existed.
        let old = |o: &&Outcome| o.round < FIRST_OWN_ROUND;
        let dev = rates(
            outcomes
                .iter()
                .filter(old)
                .filter(|o| o.split == Split::Dev),
        );
        let held = rates(
            outcomes
                .iter()
                .filter(old)
                .filter(|o| o.split == Split::HeldOut),
        );
        let all = rates(outcomes.iter().filter(old));
        assert!(dev.category_accuracy.unwrap() >= 0.97, "dev {dev:?}");
        assert!(dev.decisive_hit.unwrap() >= 0.97, "dev {dev:?}");
        assert!(held.category_accuracy.unwrap() >= 0.88, "held-out {held:?}");
        assert!(held.decisive_hit.unwrap() >= 0.93, "held-out {held:?}");
        // Never a retry for a failure of the code, never a real failure called infra.
        assert_eq!(all.retries_on_real_failures, 0);
        assert_eq!(all.false_infra, 0);
        assert!(all.boilerplate_quotes <= 2, "{all:?}");
        // Later rounds after their misses were fixed (in-sample now; their out-of-sample
        // figures, taken before, are in BENCHMARKS.md).
        for &round in TUNED_ROUNDS {
            let r = rates(outcomes.iter().filter(|o| o.round == round));
            // Rounds 38-39 left cascades through a process that exits 0, a decisive line and
            // three infra causes unfixed, rounds 52-53 four cascades' decisive lines and a
            // stalled clone, round 55 git's dubious ownership, whose category the references
            // disagree on, round 57 a make recipe's `a; b` hiding a seed program's error,
            // rounds 60-61 an Emscripten cascade and an Airflow template's category, rounds
            // 62-65 OOM kills labelled infra, two job timeouts, three categories and eight
            // decisive lines, rounds 66-71 OOM kills labelled infra, a misspelt module of the
            // project's own read as a missing package, three decisive lines, and round 68's
            // two categories the rounds' labellers disagree on (a program not on the PATH: the
            // image or a missing dependency; a generator's schema error: its configuration or
            // a lint), round 72 a texture gate's own words, rounds 74 and 78 a font gate's and a
            // tagging policy's own words, round 79 errors a script logged and went past,
            // round 80 a download's announcing echo, round 81 a stylesheet a renderer could not
            // load and went past, and a configuration file's schema finding that round 81's
            // labeller calls configuration and rounds 40-43's a lint, rounds 82-85 read in one
            // pass for the shapes any tool shares (a located error, a location line and the
            // message under it) and not for their tools' words, each with one confident answer
            // its labeller disagrees with an earlier round on (make's missing target, an unset
            // variable that is a credential or not) or left (a grammar error raised in a test's
            // import) (BENCHMARKS.md): the safety floors hold for them as for every round.
            let (category_floor, line_floor, infra_missed, confident_wrong) = match round {
                68 | 81 => (0.93, 0.90, 2, 0),
                82..=85 => (0.75, 0.80, 1, 1),
                _ if PARTLY_FIXED_ROUNDS.contains(&round) => (0.96, 0.90, 2, 0),
                _ => (0.97, 0.97, 0, 0),
            };
            assert!(r.cases >= 30, "round {round} {r:?}");
            assert!(
                r.category_accuracy.unwrap() >= category_floor,
                "round {round} {r:?}"
            );
            assert!(r.decisive_hit.unwrap() >= line_floor, "round {round} {r:?}");
            assert!(r.confident_wrong <= confident_wrong, "round {round} {r:?}");
            assert!(
                r.infra_flagged + infra_missed >= r.infra_cases,
                "round {round} {r:?}"
            );
            assert_eq!(r.retries_on_real_failures + r.false_infra, 0, "{r:?}");
        }
        assert!(all.confident_wrong <= 2, "{all:?}");
    }

    #[test]
    fn tail_window_is_the_last_twenty_lines() {
        assert!(tail_contains(100, &[81]));
        assert!(!tail_contains(100, &[80]));
        assert!(tail_contains(5, &[1]));
        assert!(!tail_contains(5, &[6]));
    }

    #[test]
    fn grading_counts_what_it_should() {
        let case = CorpusCase {
            name: "x".into(),
            dir: PathBuf::new(),
            split: Split::Dev,
            label: Label {
                case: "x".into(),
                category: "compile_error".into(),
                accept: vec!["type_error".into()],
                infra_or_flaky: false,
                decisive: vec![DecisiveLine {
                    line: 2,
                    text: "error[E0308]: mismatched types".into(),
                }],
                failure_reason: Some("script_failure".into()),
                job_name: None,
                stage: None,
                project: Some("acme/x".into()),
                tool: String::new(),
                how: String::new(),
                source: String::new(),
                round: 1,
            },
        };
        let mut text = String::from("$ cargo build\nerror[E0308]: mismatched types\n");
        for i in 0..30 {
            text.push_str(&format!("note {i}\n"));
        }
        text.push_str("ERROR: Job failed: exit code 101\n");
        let log = LogIndex::parse(Arc::new(text.into_bytes()));
        let d = Diagnosis {
            category: Category::TypeError,
            summary: String::new(),
            root_cause: String::new(),
            evidence: vec![
                super::super::model::Evidence {
                    line: 2,
                    text: "error[E0308]".into(),
                },
                super::super::model::Evidence {
                    line: 33,
                    text: "ERROR: Job failed: exit code 101".into(),
                },
            ],
            files: vec![],
            tests: vec![],
            fix: String::new(),
            confidence: 0.7,
            infra_or_flaky: false,
            commands: vec![],
            secrets: Vec::new(),
        };
        let o = grade(&case, &log, Ok(&d), 1);
        assert!(o.category_ok && o.decisive_hit && !o.tail_hit);
        assert_eq!((o.quotes, o.boilerplate_quotes), (2, 1));
        let r = rates([&o]);
        assert_eq!(r.category_accuracy, Some(1.0));
        assert_eq!(r.confident_wrong, 0);
        let failed = grade(&case, &log, Err("model down".into()), 1);
        assert!(!failed.category_ok && failed.error.is_some());
    }
}
