//! The operator's edit of a command's editable fields (comment body, labels, reviewers), to
//! and from the editor's text.

use crate::command::model::Command;

/// An edit of the editable fields, from the editor.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// comment_mr body.
    Body(String),
    /// set_labels lists.
    Labels {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// assign_reviewers usernames.
    Reviewers(Vec<String>),
}

impl Edit {
    /// The text an editor starts with for `cmd`, or `None` when nothing is editable.
    pub fn initial_text(cmd: &Command) -> Option<String> {
        match cmd {
            Command::CommentMr { body, .. } => Some(body.clone()),
            Command::SetLabels { add, remove, .. } => Some(format!(
                "add: {}\nremove: {}",
                add.join(", "),
                remove.join(", ")
            )),
            Command::AssignReviewers { reviewers, .. } => Some(reviewers.join(", ")),
            _ => None,
        }
    }

    /// Parses the editor's text back for `cmd`'s kind (the inverse of `initial_text`).
    pub fn from_text(cmd: &Command, text: &str) -> Result<Edit, String> {
        let list = |s: &str| -> Vec<String> {
            s.split([',', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        match cmd {
            Command::CommentMr { .. } => Ok(Edit::Body(text.to_string())),
            Command::AssignReviewers { .. } => Ok(Edit::Reviewers(
                text.split([',', '\n', ' '])
                    .map(|s| s.trim().trim_start_matches('@'))
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            )),
            Command::SetLabels { .. } => {
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    let (key, rest) = line.split_once(':').ok_or_else(|| {
                        format!("expected \"add: a, b\" or \"remove: c\", found \"{line}\"")
                    })?;
                    match key.trim() {
                        "add" => add.extend(list(rest)),
                        "remove" => remove.extend(list(rest)),
                        other => {
                            return Err(format!(
                                "unknown line \"{other}:\"; use \"add:\" or \"remove:\""
                            ));
                        }
                    }
                }
                Ok(Edit::Labels { add, remove })
            }
            other => Err(format!("{} has no editable fields", other.kind())),
        }
    }

    pub(super) fn apply(&self, cmd: &Command) -> Result<Command, String> {
        let mut c = cmd.clone();
        match (self, &mut c) {
            (Edit::Body(b), Command::CommentMr { body, .. }) => *body = b.clone(),
            (Edit::Labels { add: a, remove: r }, Command::SetLabels { add, remove, .. }) => {
                *add = a.clone();
                *remove = r.clone();
            }
            (Edit::Reviewers(rv), Command::AssignReviewers { reviewers, .. }) => {
                *reviewers = rv.clone()
            }
            _ => return Err(format!("this edit does not apply to {}", cmd.kind())),
        }
        Ok(c)
    }
}
