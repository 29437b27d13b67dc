//! Operator-made commands: the palette (`:retry`, `:cancel`, `:comment`, `:label`,
//! `:reviewers`, `:merge`, `:rebase`, `:play`) on the selected item.
//!
//! The result is an ordinary `Command`: it goes through the same validation, policy, queue,
//! executor and audit as a planner's proposal (`Queue::propose(cmd, Source::Operator, ..)`).

use crate::gitlab::ProjectSnapshot;

use super::model::Command;

/// What is selected in the UI when the palette runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    None,
    Mr(u64),
    Pipeline(u64),
    Job(u64),
}

/// The palette verbs, for completion and help.
pub const VERBS: [(&str, &str); 8] = [
    (
        "retry",
        "retry the selected job or pipeline (an MR: its pipeline)",
    ),
    (
        "cancel",
        "cancel the selected pipeline (an MR: its pipeline)",
    ),
    ("play", "run the selected manual job"),
    ("comment", "comment TEXT on the selected MR"),
    ("label", "label +add -remove on the selected MR"),
    (
        "reviewers",
        "reviewers alice bob: set the selected MR's reviewers",
    ),
    ("merge", "merge the selected MR at its current head"),
    ("rebase", "rebase the selected MR"),
];

/// Builds the command for a palette line (with or without the leading `:`).
pub fn from_palette(line: &str, sel: Selection, snap: &ProjectSnapshot) -> Result<Command, String> {
    let line = line.trim().trim_start_matches(':').trim_start();
    let (verb, rest) = match line.split_once(char::is_whitespace) {
        Some((v, r)) => (v, r.trim()),
        None => (line, ""),
    };
    let project = snap.path().to_string();
    let rationale = format!("made by the operator with :{verb}");
    let mr = |what: &str| match sel {
        Selection::Mr(iid) => Ok(iid),
        _ => Err(format!(":{what} needs a merge request selected")),
    };
    let pipeline_of = |what: &str| match sel {
        Selection::Pipeline(id) => Ok(id),
        Selection::Mr(iid) => snap
            .mr(iid)
            .and_then(|m| snap.pipeline_for_mr(m))
            .map(|p| p.id)
            .ok_or_else(|| format!("!{iid} has no known pipeline to {what}")),
        _ => Err(format!(
            ":{what} needs a pipeline or a merge request selected"
        )),
    };
    let cmd = match verb {
        "retry" => match sel {
            Selection::Job(job_id) => Command::RetryJob {
                project,
                job_id,
                rationale,
                confidence: None,
                evidence: vec![],
            },
            _ => Command::RetryPipeline {
                project,
                pipeline_id: pipeline_of("retry")?,
                rationale,
                confidence: None,
                evidence: vec![],
            },
        },
        "cancel" => Command::CancelPipeline {
            project,
            pipeline_id: pipeline_of("cancel")?,
            rationale,
            confidence: None,
            evidence: vec![],
        },
        "play" => match sel {
            Selection::Job(job_id) => Command::PlayJob {
                project,
                job_id,
                rationale,
                confidence: None,
                evidence: vec![],
            },
            _ => return Err(":play needs a manual job selected".into()),
        },
        "comment" => {
            if rest.is_empty() {
                return Err("usage: :comment TEXT".into());
            }
            Command::CommentMr {
                project,
                mr_iid: mr("comment")?,
                body: rest.to_string(),
                rationale,
                confidence: None,
                evidence: vec![],
            }
        }
        "label" | "labels" => {
            let (mut add, mut remove) = (Vec::new(), Vec::new());
            for word in rest.split([' ', ',']).filter(|w| !w.is_empty()) {
                if let Some(l) = word.strip_prefix('-') {
                    remove.push(l.to_string());
                } else {
                    add.push(word.trim_start_matches('+').to_string());
                }
            }
            if add.is_empty() && remove.is_empty() {
                return Err("usage: :label +add -remove".into());
            }
            Command::SetLabels {
                project,
                mr_iid: mr("label")?,
                add,
                remove,
                rationale,
                confidence: None,
                evidence: vec![],
            }
        }
        "reviewers" | "reviewer" => {
            let reviewers: Vec<String> = rest
                .split([' ', ','])
                .map(|w| w.trim_start_matches('@'))
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect();
            if reviewers.is_empty() {
                return Err("usage: :reviewers alice bob".into());
            }
            Command::AssignReviewers {
                project,
                mr_iid: mr("reviewers")?,
                reviewers,
                rationale,
                confidence: None,
                evidence: vec![],
            }
        }
        "merge" => {
            let iid = mr("merge")?;
            let sha = snap
                .mr(iid)
                .and_then(|m| m.sha.clone())
                .ok_or_else(|| format!("!{iid}'s head sha is not known yet"))?;
            Command::MergeMr {
                project,
                mr_iid: iid,
                sha,
                rationale,
                confidence: None,
                evidence: vec![],
            }
        }
        "rebase" => Command::RebaseMr {
            project,
            mr_iid: mr("rebase")?,
            rationale,
            confidence: None,
            evidence: vec![],
        },
        "" => {
            return Err(
                "type a command: retry, cancel, play, comment, label, reviewers, merge, rebase"
                    .into(),
            );
        }
        other => {
            let names: Vec<&str> = VERBS.iter().map(|(v, _)| *v).collect();
            return Err(format!(
                "unknown command :{other}; known: {}",
                names.join(", ")
            ));
        }
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::model::Kind;
    use crate::command::validate::{tests::snap, validate};

    #[test]
    fn verbs_on_selections() {
        let s = snap();
        let c = from_palette(":retry", Selection::Job(11), &s).unwrap();
        assert_eq!(c.kind(), Kind::RetryJob);
        assert!(validate(&c, &s).is_ok());
        let c = from_palette("retry", Selection::Pipeline(100), &s).unwrap();
        assert_eq!(c.kind(), Kind::RetryPipeline);
        let c = from_palette(":cancel", Selection::Mr(42), &s).unwrap();
        assert_eq!(c.target().to_string(), "pipeline 102");
        let c = from_palette(":merge", Selection::Mr(42), &s).unwrap();
        assert!(validate(&c, &s).is_ok(), "merges at the known head");
        let c = from_palette(":label +ci::broken -triage x", Selection::Mr(42), &s).unwrap();
        match c {
            Command::SetLabels { add, remove, .. } => {
                assert_eq!(add, ["ci::broken", "x"]);
                assert_eq!(remove, ["triage"]);
            }
            other => panic!("{other:?}"),
        }
        let c = from_palette(":reviewers @bob, carol", Selection::Mr(42), &s).unwrap();
        assert!(validate(&c, &s).is_ok());
        let c = from_palette(":comment looks flaky, retrying", Selection::Mr(42), &s).unwrap();
        assert!(
            matches!(c, Command::CommentMr { ref body, .. } if body == "looks flaky, retrying")
        );
        let c = from_palette(":play", Selection::Job(13), &s).unwrap();
        assert_eq!(c.kind(), Kind::PlayJob);
        let c = from_palette(":rebase", Selection::Mr(42), &s).unwrap();
        assert_eq!(c.kind(), Kind::RebaseMr);
    }

    #[test]
    fn misuse_is_explained() {
        let s = snap();
        assert!(
            from_palette(":comment", Selection::Mr(42), &s)
                .unwrap_err()
                .contains("usage")
        );
        assert!(
            from_palette(":merge", Selection::Job(11), &s)
                .unwrap_err()
                .contains("merge request")
        );
        assert!(
            from_palette(":play", Selection::Mr(42), &s)
                .unwrap_err()
                .contains("manual job")
        );
        assert!(from_palette(":cancel", Selection::None, &s).is_err());
        assert!(
            from_palette(":drop", Selection::Mr(42), &s)
                .unwrap_err()
                .contains("unknown command")
        );
        assert!(
            from_palette(":cancel", Selection::Mr(43), &s)
                .unwrap_err()
                .contains("no known pipeline")
        );
    }
}
