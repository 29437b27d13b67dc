use super::*;
use crate::gitlab::models::{Member, Project, UserRef};

fn user(name: &str) -> UserRef {
    UserRef {
        id: name.len() as u64,
        username: name.into(),
        name: name.into(),
        ..Default::default()
    }
}

fn member(name: &str, state: &str, access_level: u32) -> Member {
    Member {
        id: name.len() as u64,
        username: name.into(),
        name: name.into(),
        state: Some(state.into()),
        access_level,
        ..Default::default()
    }
}

fn mr(iid: u64, author: &str, reviewers: &[&str]) -> MergeRequest {
    MergeRequest {
        id: 1000 + iid,
        iid,
        project_id: 1,
        title: format!("MR {iid}"),
        state: MrState::Opened,
        author: Some(user(author)),
        reviewers: reviewers.iter().map(|r| user(r)).collect(),
        ..Default::default()
    }
}

fn diff(path: &str) -> MrDiff {
    MrDiff {
        old_path: path.into(),
        new_path: path.into(),
        diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
        ..Default::default()
    }
}

fn now() -> Timestamp {
    "2026-05-20T12:00:00Z".parse().unwrap()
}

fn days_ago(d: i64) -> Timestamp {
    now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * d))
        .unwrap()
}

/// acme/platform: !42 by carol touches backend and docs files; dave reviews 7 other MRs.
fn snapshot() -> ProjectSnapshot {
    let mut s = ProjectSnapshot {
        host: "gitlab.example.com".into(),
        project: Project {
            id: 1,
            name: "platform".into(),
            path_with_namespace: "acme/platform".into(),
            ..Default::default()
        },
        members: vec![
            member("alice", "active", 30),
            member("bob", "active", 30),
            member("carol", "active", 40),
            member("dave", "active", 40),
            member("erin", "blocked", 30),
            member("frank", "active", 30),
            member("gina", "active", 50),
        ],
        ..Default::default()
    };
    s.mrs.insert(42, mr(42, "carol", &[]));
    for i in 0..7 {
        s.mrs.insert(100 + i, mr(100 + i, "frank", &["dave"]));
    }
    s.mrs.insert(200, mr(200, "frank", &["alice"]));
    s.diffs.insert(
        42,
        vec![
            diff("app/models/user.rb"),
            diff("app/api/users.rb"),
            diff("docs/api.md"),
        ],
    );
    s
}

const CODEOWNERS: &str = "\
* @gina
[Backend] @backend
app/
app/models/ @dave @carol
^[Docs]
docs/ @bob
";

fn groups() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "backend".to_string(),
        vec!["alice".to_string(), "erin".to_string(), "carol".to_string()],
    )])
}

#[test]
fn routes_to_owners_excluding_author_busy_and_blocked_and_explains() {
    let snap = snapshot();
    let co = CodeOwners::parse(CODEOWNERS);
    let groups = groups();
    let commits = vec![
        RecentCommit {
            path: "app/api/users.rb".into(),
            author: "alice".into(),
            at: days_ago(3),
        },
        RecentCommit {
            path: "app/models/user.rb".into(),
            author: "carol".into(),
            at: days_ago(1),
        },
        RecentCommit {
            path: "docs/api.md".into(),
            author: "frank".into(),
            at: days_ago(10),
        },
        RecentCommit {
            path: "unrelated.rb".into(),
            author: "bob".into(),
            at: days_ago(1),
        },
        RecentCommit {
            path: "docs/api.md".into(),
            author: "bob".into(),
            at: days_ago(400),
        },
    ];
    let input = RouteInput {
        codeowners: Some(&co),
        recent_commits: &commits,
        groups: &groups,
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    let by = |u: &str| r.candidates.iter().find(|c| c.username == u).unwrap();
    assert_eq!(by("carol").excluded, Some(Exclusion::Author));
    assert_eq!(
        by("dave").excluded,
        Some(Exclusion::Busy {
            open_reviews: 7,
            limit: 5
        })
    );
    assert_eq!(
        by("erin").excluded,
        Some(Exclusion::Inactive {
            state: "blocked".into()
        })
    );
    assert_eq!(by("alice").open_reviews, 1);
    assert_eq!(by("alice").owns[0].via.as_deref(), Some("@backend"));
    // Commits outside the window or to other files are not evidence.
    assert_eq!(by("bob").commits, 0);
    assert_eq!(by("frank").commits, 1);
    // Required sections: default (gina) and [Backend] (alice, via @backend); [Docs] is optional.
    // gina owns all three files (score 2.0); alice two of three plus a commit, over 1 review.
    assert_eq!(r.chosen, vec!["gina".to_string(), "alice".to_string()]);
    assert!(r.uncovered_sections.is_empty());
    let Some(Command::AssignReviewers {
        project,
        mr_iid,
        reviewers,
        rationale,
        confidence,
        evidence,
    }) = &r.proposal
    else {
        panic!("no proposal: {:?}", r.notes)
    };
    assert_eq!((project.as_str(), *mr_iid), ("acme/platform", 42));
    assert_eq!(reviewers, &vec!["gina".to_string(), "alice".to_string()]);
    assert_eq!(*confidence, Some(0.8));
    assert!(
        rationale.starts_with("Suggest @gina, @alice for !42."),
        "{rationale}"
    );
    assert!(
        rationale.contains("@carol (the author)")
            && rationale.contains("@dave (busy: 7 open reviews > 5)")
            && rationale.contains("@erin (blocked)"),
        "{rationale}"
    );
    let ev = evidence.join("\n");
    assert!(
        ev.contains(
            "CODEOWNERS [Backend] line 3 `app/`: @alice owns app/api/users.rb (via @backend)"
        ),
        "{ev}"
    );
    assert!(ev.contains("CODEOWNERS default section line 1 `*`: @gina owns app/models/user.rb, app/api/users.rb, docs/api.md"), "{ev}");
    assert!(
        ev.contains("recent commits: @alice 1 to app/api/users.rb, last 3 d ago"),
        "{ev}"
    );
    assert!(
        ev.contains("load: @alice reviews 1 other open MR(s)"),
        "{ev}"
    );
    // The proposal is a valid command on the wire.
    let wire = serde_json::to_value(r.proposal.as_ref().unwrap()).unwrap();
    assert_eq!(wire["kind"], "assign_reviewers");
    assert_eq!(
        serde_json::from_value::<Command>(wire).unwrap(),
        *r.proposal.as_ref().unwrap()
    );
}

#[test]
fn one_owner_covering_several_sections_is_enough() {
    let mut snap = snapshot();
    snap.diffs.insert(42, vec![diff("app/x.rb")]);
    let co = CodeOwners::parse("[A]\napp/ @alice @bob\n[B]\n*.rb @bob\n");
    let input = RouteInput {
        codeowners: Some(&co),
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert_eq!(r.chosen, vec!["bob".to_string()], "{:?}", r.candidates);
}

#[test]
fn existing_reviewers_are_kept_and_count_as_coverage() {
    let mut snap = snapshot();
    snap.mrs.insert(42, mr(42, "carol", &["gina"]));
    let co = CodeOwners::parse(CODEOWNERS);
    let groups = groups();
    let input = RouteInput {
        codeowners: Some(&co),
        groups: &groups,
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert_eq!(r.chosen, vec!["alice".to_string()]);
    let Some(Command::AssignReviewers { reviewers, .. }) = &r.proposal else {
        panic!()
    };
    assert_eq!(
        reviewers,
        &vec!["gina".to_string(), "alice".to_string()],
        "the command sets the whole list"
    );

    // Everything covered already: no proposal, and a note saying so.
    snap.mrs.insert(42, mr(42, "carol", &["gina", "alice"]));
    let input = RouteInput {
        codeowners: Some(&co),
        groups: &groups,
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert!(r.proposal.is_none());
    assert_eq!(
        r.notes,
        vec!["current reviewers already cover the owners' sections".to_string()]
    );
}

#[test]
fn missing_owners_unknown_groups_and_uncoverable_sections_are_reported() {
    let snap = snapshot();
    // [Infra] names only the author and an unknown group; the docs file has no rule at all.
    let co = CodeOwners::parse("[Infra]\napp/ @carol @ops/sre ops@example.com\n");
    let input = RouteInput {
        codeowners: Some(&co),
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert!(r.proposal.is_none());
    assert_eq!(r.uncovered_sections, vec!["Infra".to_string()]);
    assert_eq!(r.unowned_files, vec!["docs/api.md".to_string()]);
    assert_eq!(
        r.unresolved_owners,
        vec!["@ops/sre".to_string(), "ops@example.com".to_string()]
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("every candidate is excluded")),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("no eligible reviewer for required section(s): Infra"))
    );
}

#[test]
fn without_codeowners_recent_authors_decide_and_roles_expand() {
    let snap = snapshot();
    let commits = vec![
        RecentCommit {
            path: "app/api/users.rb".into(),
            author: "bob@example.com".into(),
            at: days_ago(2),
        },
        RecentCommit {
            path: "app/api/users.rb".into(),
            author: "frank".into(),
            at: days_ago(60),
        },
        RecentCommit {
            path: "app/api/users.rb".into(),
            author: "project_1_bot_abc".into(),
            at: days_ago(1),
        },
    ];
    let emails = BTreeMap::from([("bob@example.com".to_string(), "bob".to_string())]);
    let input = RouteInput {
        recent_commits: &commits,
        emails: &emails,
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert_eq!(r.chosen, vec!["bob".to_string()]);
    let bot = r
        .candidates
        .iter()
        .find(|c| c.username == "project_1_bot_abc")
        .unwrap();
    assert_eq!(bot.excluded, Some(Exclusion::Bot));
    let Some(Command::AssignReviewers {
        confidence,
        rationale,
        ..
    }) = &r.proposal
    else {
        panic!()
    };
    assert_eq!(*confidence, Some(0.45));
    assert!(
        rationale.contains("@bob: 1 recent commit(s) to them, 0 open review(s)"),
        "{rationale}"
    );

    // `@@owner` is the members with exactly the Owner role.
    let co = CodeOwners::parse("* @@owners\n");
    let input = RouteInput {
        codeowners: Some(&co),
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &RouteConfig::default());
    assert_eq!(r.chosen, vec!["gina".to_string()]);
    assert_eq!(r.candidates[0].owns[0].via.as_deref(), Some("@@owner"));
}

#[test]
fn busy_threshold_config_and_unknown_mr() {
    let snap = snapshot();
    let co = CodeOwners::parse("app/ @dave @alice\n");
    let cfg = RouteConfig {
        busy_open_reviews: 10,
        exclude: vec!["alice".into()],
        ..Default::default()
    };
    let input = RouteInput {
        codeowners: Some(&co),
        ..RouteInput::new(&snap, 42, now())
    };
    let r = route(&input, &cfg);
    assert_eq!(
        r.chosen,
        vec!["dave".to_string()],
        "7 open reviews is fine under a limit of 10"
    );
    assert_eq!(
        r.candidates
            .iter()
            .find(|c| c.username == "alice")
            .unwrap()
            .excluded,
        Some(Exclusion::Configured)
    );
    // Load lowers the score: dave with 7 reviews scores below a free owner would.
    assert!(r.candidates[0].score < 2.0);

    let r = route(&RouteInput::new(&snap, 999, now()), &cfg);
    assert!(r.proposal.is_none() && r.notes[0].contains("!999"));
}

#[test]
fn bot_names() {
    for b in [
        "ghost",
        "renovate-bot",
        "project_12_bot_4f2a",
        "group_3_bot",
        "Alert-Bot",
    ] {
        assert!(is_bot(b), "{b}");
    }
    for h in ["robot", "bottle", "project_x", "abbot", "botany"] {
        assert!(!is_bot(h), "{h}");
    }
}
