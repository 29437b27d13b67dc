//! Merge-request refs: which pipelines belong to an MR.
//!
//! GitLab runs MR pipelines on three refs: `refs/merge-requests/<iid>/head` (detached, at the
//! MR's sha), `…/merge` (merged-results: a merge commit of source into target, so the pipeline's
//! `sha` is never the MR's `sha`) and `…/train` (merge trains, also a merge commit).

/// Which of the MR refs a pipeline ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrRefKind {
    Head,
    Merge,
    Train,
}

impl MrRefKind {
    /// Whether the pipeline's sha is a merge commit GitLab made, not the MR's head sha.
    pub fn is_merge_commit(self) -> bool {
        !matches!(self, MrRefKind::Head)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MrRefKind::Head => "head",
            MrRefKind::Merge => "merge",
            MrRefKind::Train => "train",
        }
    }
}

/// Parses `refs/merge-requests/<iid>/{head,merge,train}`; anything else is `None`.
pub fn parse(git_ref: &str) -> Option<(u64, MrRefKind)> {
    let rest = git_ref.strip_prefix("refs/merge-requests/")?;
    let (iid, kind) = rest.split_once('/')?;
    let kind = match kind {
        "head" => MrRefKind::Head,
        "merge" => MrRefKind::Merge,
        "train" => MrRefKind::Train,
        _ => return None,
    };
    // Digits only: `+1` or ` 1` would parse as u64 but is no ref GitLab makes.
    if iid.is_empty() || !iid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((iid.parse().ok()?, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_mr_refs() {
        assert_eq!(
            parse("refs/merge-requests/154421/head"),
            Some((154421, MrRefKind::Head))
        );
        assert_eq!(
            parse("refs/merge-requests/7/merge"),
            Some((7, MrRefKind::Merge))
        );
        assert_eq!(
            parse("refs/merge-requests/7/train"),
            Some((7, MrRefKind::Train))
        );
        assert_eq!(parse("refs/merge-requests/7/other"), None);
        assert_eq!(parse("refs/merge-requests/+7/head"), None);
        assert_eq!(parse("main"), None);
    }
}
