//! Choosing reviewers so that every required rule gets the approvals it needs.
//!
//! A rule needing N approvals needs N distinct people among its owners; one person counts for
//! every rule they own (GitLab counts one approval towards each rule the approver is eligible
//! for). Greedy multi-cover: each step takes whoever helps the most rules still short; among
//! equals the better [`Rank`]. Busy people are taken only for rules nobody available can help.

use std::cmp::Ordering;

/// How to order people who help equally: available first, then fewer open reviews, then
/// more recent activity in the changed paths, then name.
#[derive(Debug, Clone)]
pub struct Rank {
    pub busy: bool,
    pub open_reviews: usize,
    pub activity: f64,
    pub username: String,
}

impl Rank {
    /// `Less` means better.
    pub fn better(&self, other: &Rank) -> Ordering {
        self.busy
            .cmp(&other.busy)
            .then(self.open_reviews.cmp(&other.open_reviews))
            .then(other.activity.total_cmp(&self.activity))
            .then_with(|| self.username.cmp(&other.username))
    }
}

/// Indices of the people chosen, in choice order. `remaining[r]` is how many more approvals
/// rule `r` needs (updated); `helps[p]` the rules person `p` can approve.
pub fn cover(
    remaining: &mut [u32],
    helps: &[Vec<usize>],
    rank: &[Rank],
    limit: usize,
) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    for allow_busy in [false, true] {
        while chosen.len() < limit {
            let gain = |p: usize| helps[p].iter().filter(|&&r| remaining[r] > 0).count();
            let best = (0..helps.len())
                .filter(|p| !chosen.contains(p) && (allow_busy || !rank[*p].busy))
                .map(|p| (p, gain(p)))
                .filter(|&(_, g)| g > 0)
                .min_by(|a, b| b.1.cmp(&a.1).then_with(|| rank[a.0].better(&rank[b.0])));
            let Some((p, _)) = best else { break };
            for &r in &helps[p] {
                remaining[r] = remaining[r].saturating_sub(1);
            }
            chosen.push(p);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(name: &str, busy: bool, load: usize, activity: f64) -> Rank {
        Rank {
            busy,
            open_reviews: load,
            activity,
            username: name.into(),
        }
    }

    #[test]
    fn fewest_people_then_rank() {
        // Rules: 0 needs 1, 1 needs 2, 2 needs 1. a owns 0 and 1; b owns 1 and 2; c owns 1.
        let mut need = vec![1, 2, 1];
        let helps = vec![vec![0, 1], vec![1, 2], vec![1]];
        let ranks = vec![
            rank("a", false, 3, 0.0),
            rank("b", false, 1, 0.0),
            rank("c", false, 0, 0.0),
        ];
        let got = cover(&mut need, &helps, &ranks, 10);
        assert_eq!(got, vec![1, 0], "b (less loaded) then a; c is not needed");
        assert_eq!(need, vec![0, 0, 0]);
    }

    #[test]
    fn busy_only_when_nobody_else_helps() {
        let mut need = vec![2];
        let helps = vec![vec![0], vec![0], vec![0]];
        let ranks = vec![
            rank("a", true, 0, 9.0),
            rank("b", false, 4, 0.0),
            rank("c", false, 4, 0.5),
        ];
        assert_eq!(cover(&mut need, &helps, &ranks, 10), vec![2, 1]);
        let mut need = vec![3];
        assert_eq!(cover(&mut need, &helps, &ranks, 10), vec![2, 1, 0]);
        let mut need = vec![3];
        assert_eq!(
            cover(&mut need, &helps, &ranks, 2),
            vec![2, 1],
            "limit holds"
        );
        assert_eq!(need, vec![1]);
    }
}
