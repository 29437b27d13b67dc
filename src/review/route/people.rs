//! Who a name, a group, a role or an e-mail stands for, and whether they can review.
//!
//! GitLab compares usernames and group paths case-insensitively, and maps an e-mail to the
//! user who has it. We know e-mails from the member list (`email`, shown to group owners for
//! enterprise users) and from user profiles (`public_email`); commit authors are matched by
//! e-mail first, then by a unique display name.

use std::collections::BTreeMap;

use crate::gitlab::models::Member;
use crate::gitlab::snapshot::ProjectSnapshot;

use super::PersonFacts;

/// Lookups over the project's members, the groups and what the caller learned about people.
pub struct Directory<'a> {
    /// Lower-cased username -> member.
    members: BTreeMap<String, &'a Member>,
    /// Lower-cased group path -> usernames of its direct members.
    groups: BTreeMap<String, &'a [String]>,
    /// Lower-cased e-mail -> username.
    emails: BTreeMap<String, String>,
    /// Lower-cased display name -> usernames with that name.
    names: BTreeMap<String, Vec<String>>,
    people: BTreeMap<String, &'a PersonFacts>,
    /// Whether the member list was fetched at all (an empty one says nothing).
    pub members_known: bool,
}

impl<'a> Directory<'a> {
    pub fn new(
        snap: &'a ProjectSnapshot,
        groups: &'a BTreeMap<String, Vec<String>>,
        people: &'a BTreeMap<String, PersonFacts>,
    ) -> Self {
        let mut d = Directory {
            members: BTreeMap::new(),
            groups: groups
                .iter()
                .map(|(k, v)| (k.to_lowercase(), v.as_slice()))
                .collect(),
            emails: BTreeMap::new(),
            names: BTreeMap::new(),
            people: people.iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
            members_known: !snap.members.is_empty(),
        };
        for m in snap.members.iter() {
            d.members.insert(m.username.to_lowercase(), m);
            if let Some(e) = m.email.as_deref().filter(|e| !e.is_empty()) {
                d.emails.insert(e.to_lowercase(), m.username.clone());
            }
            if !m.name.trim().is_empty() {
                d.names
                    .entry(m.name.trim().to_lowercase())
                    .or_default()
                    .push(m.username.clone());
            }
        }
        for (user, facts) in people {
            if let Some(e) = facts.public_email.as_deref().filter(|e| !e.is_empty()) {
                d.emails.entry(e.to_lowercase()).or_insert_with(|| {
                    d.members
                        .get(&user.to_lowercase())
                        .map_or_else(|| user.clone(), |m| m.username.clone())
                });
            }
        }
        d
    }

    /// The member with this username (any case).
    pub fn member(&self, username: &str) -> Option<&'a Member> {
        self.members.get(&username.to_lowercase()).copied()
    }

    /// Usernames of the direct members of a group the caller resolved.
    pub fn group(&self, path: &str) -> Option<&'a [String]> {
        self.groups.get(&path.to_lowercase()).copied()
    }

    pub fn by_email(&self, email: &str) -> Option<&str> {
        self.emails.get(&email.to_lowercase()).map(String::as_str)
    }

    /// A commit author as a member's username: e-mail first, then a display name only one
    /// member has.
    pub fn commit_author(&self, name: &str, email: &str) -> Option<String> {
        if let Some(u) = self.by_email(email) {
            return Some(u.to_string());
        }
        match self
            .names
            .get(&name.trim().to_lowercase())
            .map(Vec::as_slice)
        {
            Some([one]) => Some(one.clone()),
            _ => None,
        }
    }

    pub fn facts(&self, username: &str) -> Option<&'a PersonFacts> {
        self.people.get(&username.to_lowercase()).copied()
    }

    /// The username as the member list spells it (GitLab's own spelling), else as given.
    pub fn canonical(&self, username: &str) -> String {
        self.member(username)
            .map_or_else(|| username.to_string(), |m| m.username.clone())
    }

    /// Members with exactly this access level (`@@role`).
    pub fn with_access(&self, level: u32) -> Vec<String> {
        self.members
            .values()
            .filter(|m| m.access_level == level)
            .map(|m| m.username.clone())
            .collect()
    }

    /// Active developers and above: who can review when no rule names anyone.
    pub fn developers(&self) -> Vec<String> {
        self.members
            .values()
            .filter(|m| m.access_level >= 30)
            .map(|m| m.username.clone())
            .collect()
    }

    /// A bot or service account: what GitLab says (`bot`, `user_type`), then the names GitLab
    /// gives its own bots and the usual automation accounts.
    pub fn is_bot(&self, username: &str) -> bool {
        if let Some(f) = self.facts(username) {
            if f.bot == Some(true) {
                return true;
            }
            if f.user_type.as_deref().is_some_and(|t| t != "human") {
                return true;
            }
        }
        bot_name(username)
    }
}

/// Names of GitLab's bot users (`ghost`, `support-bot`, access-token bots
/// `project_<id>_bot_<hex>` / `group_<id>_bot_<hex>`, `service_account_…`) and of the usual
/// dependency bots, which often run under ordinary accounts.
pub fn bot_name(username: &str) -> bool {
    let l = username.to_ascii_lowercase();
    let token_bot = |prefix: &str| {
        l.strip_prefix(prefix)
            .and_then(|r| r.split_once('_'))
            .is_some_and(|(id, rest)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("bot")
            })
    };
    const KNOWN: [&str; 6] = [
        "ghost",
        "renovate",
        "dependabot",
        "snyk",
        "gitlab-bot",
        "gitlab-admin-bot",
    ];
    KNOWN.contains(&l.as_str())
        || l.ends_with("-bot")
        || l.ends_with("_bot")
        || l.ends_with("[bot]")
        || l.starts_with("service_account_")
        || token_bot("project_")
        || token_bot("group_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_names() {
        for b in [
            "ghost",
            "renovate",
            "Renovate-Bot",
            "release-bot",
            "project_42_bot_3f2a",
            "group_7_bot",
            "service_account_group_9_ab12",
            "dependabot[bot]",
        ] {
            assert!(bot_name(b), "{b}");
        }
        for h in ["bob", "robotics", "project_x", "abbot", "renovated"] {
            assert!(!bot_name(h), "{h}");
        }
    }
}
