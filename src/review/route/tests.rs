//! The routing table: for each case (CODEOWNERS, changed files, members, groups, commits,
//! reviews), the exact reviewers proposed and the rules left uncovered. The cases come from
//! GitLab's CODEOWNERS docs (`doc/user/project/codeowners/reference.md`, `advanced.md`,
//! `troubleshooting.md`) and its approval code (`sync_code_owner_approval_rules.rb`: one rule
//! per (section, pattern); `approval_wrapped_code_owner_rule.rb`: `max(N, 1)` approvals, 0 in
//! optional sections and without approvers; `approval_wrapped_rule.rb`: the author cannot
//! approve, fewer approvers than needed makes the rule invalid; `entry.rb`: names match
//! case-insensitively, groups give their direct members).

use super::*;
use crate::gitlab::models::{Approvals, ApprovedBy, Member, Project, UserRef};

fn user(name: &str) -> UserRef {
    UserRef {
        id: name.len() as u64,
        username: name.into(),
        name: name.into(),
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
        author: Some(user(author).into()),
        reviewers: reviewers.iter().map(|r| user(r).into()).collect(),
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

/// One row of the routing table.
#[derive(Default)]
struct Case {
    name: &'static str,
    codeowners: Option<&'static str>,
    files: &'static [&'static str],
    author: &'static str,
    reviewers: &'static [&'static str],
    approved: &'static [&'static str],
    /// (username, display name, access level, state); empty: the default team.
    members: &'static [(&'static str, &'static str, u32, &'static str)],
    groups: &'static [(&'static str, &'static [&'static str])],
    /// (path, author name, author e-mail, days ago)
    commits: &'static [(&'static str, &'static str, &'static str, i64)],
    /// (username, open reviews elsewhere)
    load: &'static [(&'static str, usize)],
    busy: &'static [&'static str],
    bots: &'static [&'static str],
    /// (username, public e-mail)
    emails: &'static [(&'static str, &'static str)],
    want: &'static [&'static str],
    want_uncovered: &'static [&'static str],
    want_fallback: Option<Fallback>,
}

const TEAM: &[(&str, &str, u32, &str)] = &[
    ("alice", "Alice Adams", 30, "active"),
    ("bob", "Bob Brown", 30, "active"),
    ("carol", "Carol Chen", 40, "active"),
    ("dave", "Dave Diaz", 40, "active"),
    ("erin", "Erin Eze", 30, "blocked"),
    ("gina", "Gina Gold", 50, "active"),
];

struct Built {
    snap: ProjectSnapshot,
    co: Option<CodeOwners>,
    commits: Vec<RecentCommit>,
    groups: BTreeMap<String, Vec<String>>,
    people: BTreeMap<String, PersonFacts>,
}

fn build(c: &Case) -> Built {
    let members = if c.members.is_empty() {
        TEAM
    } else {
        c.members
    };
    let mut snap = ProjectSnapshot {
        host: "gitlab.example.com".into(),
        project: Project {
            id: 1,
            name: "platform".into(),
            path_with_namespace: "acme/platform".into(),
            ..Default::default()
        },
        members: members
            .iter()
            .enumerate()
            .map(|(i, (u, n, level, state))| Member {
                id: 100 + i as u64,
                username: (*u).into(),
                name: (*n).into(),
                state: Some((*state).into()),
                access_level: *level,
                ..Default::default()
            })
            .collect::<Vec<_>>()
            .into(),
        ..Default::default()
    };
    std::sync::Arc::make_mut(&mut snap.mrs).insert(1, (mr(1, c.author, c.reviewers)).into());
    std::sync::Arc::make_mut(&mut snap.diffs).insert(1, c.files.iter().map(|f| diff(f)).collect());
    // Other open MRs give the load.
    let mut next = 100;
    for (u, n) in c.load {
        for _ in 0..*n {
            std::sync::Arc::make_mut(&mut snap.mrs)
                .insert(next, (mr(next, "someone", &[u])).into());
            next += 1;
        }
    }
    if !c.approved.is_empty() {
        std::sync::Arc::make_mut(&mut snap.approvals).insert(
            1,
            Approvals {
                iid: 1,
                approved_by: c
                    .approved
                    .iter()
                    .map(|u| ApprovedBy { user: user(u) })
                    .collect(),
                ..Default::default()
            },
        );
    }
    let mut people: BTreeMap<String, PersonFacts> = BTreeMap::new();
    for u in c.busy {
        people.entry((*u).into()).or_default().availability = Some("busy".into());
    }
    for u in c.bots {
        people.entry((*u).into()).or_default().bot = Some(true);
    }
    for (u, e) in c.emails {
        people.entry((*u).into()).or_default().public_email = Some((*e).into());
    }
    Built {
        snap,
        co: c.codeowners.map(CodeOwners::parse),
        commits: c
            .commits
            .iter()
            .map(|(p, n, e, d)| RecentCommit {
                path: (*p).into(),
                author_name: (*n).into(),
                author_email: (*e).into(),
                at: days_ago(*d),
            })
            .collect(),
        groups: c
            .groups
            .iter()
            .map(|(g, m)| ((*g).into(), m.iter().map(|s| s.to_string()).collect()))
            .collect(),
        people,
    }
}

fn run(b: &Built) -> Routing {
    let mut input = RouteInput::new(&b.snap, 1, now());
    input.codeowners = b.co.as_ref();
    input.recent_commits = &b.commits;
    input.groups = &b.groups;
    input.people = &b.people;
    route(&input, &RouteConfig::default())
}

fn uncovered(r: &Routing) -> Vec<String> {
    r.uncovered()
        .map(|u| format!("{} {}", u.section, u.pattern))
        .collect()
}

#[test]
fn routing_table() {
    let cases = [
        Case {
            name: "one rule per (section, pattern): both owners of a two-rule section",
            codeowners: Some("[Ruby]\n*.rb @alice\n*.go @bob\n"),
            files: &["app/a.rb", "cmd/b.go"],
            author: "carol",
            want: &["alice", "bob"],
            ..Case::default()
        },
        Case {
            name: "[Documentation][2] needs two owners (advanced.md)",
            codeowners: Some(
                "[Documentation][2]\n*.md @tech-writer-team\n\n[Ruby]\n*.rb @dev-team\n",
            ),
            files: &["README.md"],
            author: "gina",
            groups: &[
                ("tech-writer-team", &["alice", "bob", "carol"]),
                ("dev-team", &["dave"]),
            ],
            load: &[("alice", 3), ("bob", 1), ("carol", 2)],
            want: &["bob", "carol"],
            ..Case::default()
        },
        Case {
            name: "a file in three sections needs three approvals (advanced.md, regular entries)",
            codeowners: Some(
                "* @general-approvers\n\n[Documentation] @docs-team\ndocs/\nREADME.md\n*.txt\n\n[Database] @database-team\nmodel/db/\nconfig/db/database-setup.md @docs-team\n",
            ),
            files: &["model/db/CHANGELOG.txt"],
            author: "gina",
            groups: &[
                ("general-approvers", &["alice"]),
                ("docs-team", &["bob"]),
                ("database-team", &["carol"]),
            ],
            want: &["alice", "bob", "carol"],
            ..Case::default()
        },
        Case {
            name: "one person covers every rule they own",
            codeowners: Some("* @dave\n[Backend][2]\n*.rs @dave @alice @bob\n"),
            files: &["src/lib.rs"],
            author: "gina",
            load: &[("alice", 1), ("bob", 2)],
            want: &["dave", "alice"],
            ..Case::default()
        },
        Case {
            name: "an optional section asks nobody; one owner is still suggested (reference.md)",
            codeowners: Some(
                "[Documentation]\n*.md @root\n\n[Ruby]\n*.rb @root\n\n^[Go]\n*.go @bob\n",
            ),
            files: &["main.go"],
            author: "gina",
            want: &["bob"],
            want_fallback: Some(Fallback::OptionalOwner),
            ..Case::default()
        },
        Case {
            name: "a section is optional only if every heading says so (file.rb optional_section?)",
            codeowners: Some("[Documentation]\n*.go @alice\n\n^[Documentation]\n*.rb @bob\n"),
            files: &["x.rb"],
            author: "gina",
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "the only owner is the author: uncovered, a non-owner by load, said so",
            codeowners: Some("[Backend]\nsrc/worker/ @carol\n"),
            files: &["src/worker/jobs.rs"],
            author: "carol",
            load: &[("alice", 2), ("bob", 1), ("dave", 1), ("gina", 3)],
            want: &["bob"],
            want_uncovered: &["Backend src/worker/"],
            want_fallback: Some(Fallback::LowestLoad),
            ..Case::default()
        },
        Case {
            name: "a busy owner beats a non-owner",
            codeowners: Some("*.rs @alice\n"),
            files: &["a.rs"],
            author: "gina",
            busy: &["alice"],
            want: &["alice"],
            ..Case::default()
        },
        Case {
            name: "busy owners only when the available ones are not enough",
            codeowners: Some("[Backend][2]\n*.rs @backend\n"),
            files: &["a.rs"],
            author: "gina",
            groups: &[("backend", &["alice", "bob", "carol"])],
            busy: &["alice"],
            load: &[("bob", 4), ("carol", 4)],
            want: &["bob", "carol"],
            ..Case::default()
        },
        Case {
            name: "too many open reviews counts as busy",
            codeowners: Some("*.rs @alice @bob\n"),
            files: &["a.rs"],
            author: "gina",
            load: &[("alice", 6), ("bob", 5)],
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "usernames and groups match case-insensitively (entry.rb)",
            codeowners: Some("*.rs @Alice\n*.md @ACME/Docs\n"),
            files: &["a.rs", "a.md"],
            author: "gina",
            groups: &[("acme/docs", &["Bob"])],
            want: &["alice", "bob"],
            ..Case::default()
        },
        Case {
            name: "@@maintainer is exactly the maintainers (reference.md roles)",
            codeowners: Some("/config/ @@maintainer\n"),
            files: &["config/app.yml"],
            author: "carol",
            load: &[("dave", 1)],
            want: &["dave"],
            ..Case::default()
        },
        Case {
            name: "an e-mail owner is the user with that address; unknown owners are unresolved",
            codeowners: Some("LICENSE @legal janedoe@gitlab.com\n"),
            files: &["LICENSE"],
            author: "gina",
            emails: &[("alice", "JaneDoe@gitlab.com")],
            want: &["alice"],
            ..Case::default()
        },
        Case {
            name: "an excluded file has no owner (reference.md exclusions)",
            codeowners: Some("* @alice\n!pom.xml\n"),
            files: &["pom.xml"],
            author: "gina",
            commits: &[("pom.xml", "Bob Brown", "bob@home.example", 3)],
            want: &["bob"],
            want_fallback: Some(Fallback::RecentAuthor),
            ..Case::default()
        },
        Case {
            name: "an MR with one of two required reviewers is topped up",
            codeowners: Some("[Backend][2]\n*.rs @alice @bob @dave\n"),
            files: &["a.rs"],
            author: "gina",
            reviewers: &["alice"],
            load: &[("bob", 2), ("dave", 1)],
            want: &["dave"],
            ..Case::default()
        },
        Case {
            name: "reviewers already covering every rule: nothing to add",
            codeowners: Some("[Backend][2]\n*.rs @alice @bob @dave\n"),
            files: &["a.rs"],
            author: "gina",
            reviewers: &["alice", "bob"],
            want: &[],
            ..Case::default()
        },
        Case {
            name: "an approval already given counts",
            codeowners: Some("[Backend][2]\n*.rs @alice @bob @dave\n"),
            files: &["a.rs"],
            author: "gina",
            approved: &["dave"],
            load: &[("alice", 1)],
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "bots are never proposed: by GitLab's flag, then by name",
            codeowners: Some("*.rs @helper @renovate @alice\n"),
            files: &["a.rs"],
            author: "gina",
            members: &[
                ("helper", "Helper", 30, "active"),
                ("renovate", "Renovate", 30, "active"),
                ("alice", "Alice Adams", 30, "active"),
                ("gina", "Gina Gold", 50, "active"),
            ],
            bots: &["helper"],
            load: &[("alice", 4)],
            want: &["alice"],
            ..Case::default()
        },
        Case {
            name: "fewer eligible owners than approvals: propose who can, rule uncovered",
            codeowners: Some("[Backend][2]\n*.rs @alice @gina\n"),
            files: &["a.rs"],
            author: "gina",
            want: &["alice"],
            want_uncovered: &["Backend *.rs"],
            ..Case::default()
        },
        Case {
            name: "blocked owners cannot approve (troubleshooting.md: inaccessible owners)",
            codeowners: Some("*.rs @erin @bob\n"),
            files: &["a.rs"],
            author: "gina",
            load: &[("bob", 3)],
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "an unknown group is unresolved and its rule uncovered",
            codeowners: Some("* @acme/ghost\n*.md @bob\n"),
            files: &["a.rs", "b.md"],
            author: "gina",
            want: &["bob"],
            want_uncovered: &["codeowners *"],
            ..Case::default()
        },
        Case {
            name: "commit authors map by e-mail, then by a unique name",
            codeowners: None,
            files: &["src/a.rs"],
            author: "gina",
            commits: &[
                ("src/a.rs", "Someone Else", "carol@corp.example", 40),
                ("src/a.rs", "Dave Diaz", "dave@laptop.local", 2),
                ("src/a.rs", "Dave Diaz", "dave@laptop.local", 5),
            ],
            emails: &[("carol", "carol@corp.example")],
            want: &["dave"],
            want_fallback: Some(Fallback::RecentAuthor),
            ..Case::default()
        },
        Case {
            name: "ties: fewer open reviews first",
            codeowners: Some("*.rs @bob @alice\n"),
            files: &["a.rs"],
            author: "gina",
            load: &[("alice", 2), ("bob", 1)],
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "ties: then recent activity in the changed paths, not the name",
            codeowners: Some("*.rs @alice @bob\n"),
            files: &["a.rs"],
            author: "gina",
            commits: &[
                ("a.rs", "Bob Brown", "bob@x.example", 1),
                ("a.rs", "Alice Adams", "a@x.example", 20),
            ],
            want: &["bob"],
            ..Case::default()
        },
        Case {
            name: "ties: then the name",
            codeowners: Some("*.rs @bob @alice\n"),
            files: &["a.rs"],
            author: "gina",
            want: &["alice"],
            ..Case::default()
        },
    ];
    for c in &cases {
        let b = build(c);
        let r = run(&b);
        let mut got = r.chosen.clone();
        got.sort();
        let mut want: Vec<String> = c.want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{}: {:#?}", c.name, r.rules);
        assert_eq!(uncovered(&r), c.want_uncovered, "{}", c.name);
        assert_eq!(r.fallback, c.want_fallback, "{}", c.name);
        if let Some(cmd) = &r.proposal {
            // What the operator approves is valid as a command.
            assert_eq!(
                crate::command::validate::validate(cmd, &b.snap),
                Ok(()),
                "{}",
                c.name
            );
            let Command::AssignReviewers {
                reviewers,
                rationale,
                ..
            } = cmd
            else {
                panic!("{}: not assign_reviewers", c.name);
            };
            for kept in c.reviewers {
                assert!(
                    reviewers.iter().any(|r| r == kept),
                    "{}: keeps {kept}",
                    c.name
                );
            }
            for u in r.uncovered() {
                assert!(
                    rationale.contains(&format!("`{}`", u.pattern))
                        && rationale.contains("Not covered"),
                    "{}: rationale names the uncovered rule: {rationale}",
                    c.name
                );
            }
        } else {
            assert!(c.want.is_empty(), "{}: no proposal: {:?}", c.name, r.notes);
        }
    }
}

#[test]
fn rationale_lists_each_rule_who_covers_it_and_warnings() {
    let c = Case {
        codeowners: Some(
            "* @gina\n[Backend][2] @backend\nsrc/worker/ @carol\nCargo.toml @alice @dave\n[Infra] @sre\nops/\n",
        ),
        files: &["src/worker/jobs.rs", "Cargo.toml", "ops/collector.yaml"],
        author: "carol",
        groups: &[("backend", &["alice", "carol"]), ("sre", &["dave", "gina"])],
        busy: &["dave"],
        ..Case::default()
    };
    let b = build(&c);
    let r = run(&b);
    let mut chosen = r.chosen.clone();
    chosen.sort();
    assert_eq!(chosen, ["alice", "dave", "gina"]);
    assert_eq!(uncovered(&r), ["Backend src/worker/"]);
    let Some(Command::AssignReviewers {
        rationale,
        evidence,
        confidence,
        ..
    }) = &r.proposal
    else {
        panic!("a proposal");
    };
    for part in [
        "[Backend] `Cargo.toml` needs 2: @alice",
        "@dave",
        "[Infra] `ops/`: @gina via @sre",
        "Not covered: [Backend] `src/worker/`: its only owner @carol (the author)",
        "GitLab approves a rule without an eligible approver automatically",
        "@dave is busy (status busy)",
    ] {
        assert!(rationale.contains(part), "{part:?} in {rationale}");
    }
    assert!(
        evidence.iter().any(
            |e| e.starts_with("CODEOWNERS [Backend] `src/worker/` line 3")
                && e.contains("NOT COVERED")
        ),
        "{evidence:#?}"
    );
    assert!(*confidence < Some(0.8));
}

#[test]
fn hostile_codeowners_text_is_cleaned_and_the_command_stays_valid() {
    let many: String = (0..40)
        .map(|i| format!("[S{i}\u{202E}]\nsrc/ @alice\n"))
        .collect();
    let text: &'static str =
        Box::leak(format!("{many}*.rs @ghost-group-{}\n", "x".repeat(300)).into_boxed_str());
    let c = Case {
        codeowners: Some(text),
        files: &["src/a.rs"],
        author: "gina",
        ..Case::default()
    };
    let b = build(&c);
    let r = run(&b);
    assert_eq!(r.chosen, ["alice"]);
    let cmd = r.proposal.expect("a proposal");
    assert_eq!(crate::command::validate::validate(&cmd, &b.snap), Ok(()));
}

#[test]
fn never_more_than_ten_reviewers() {
    let owners: String = (0..15).map(|i| format!("[S{i}]\n*.rs @u{i}\n")).collect();
    let text: &'static str = Box::leak(owners.into_boxed_str());
    let members: Vec<(&'static str, &'static str, u32, &'static str)> = (0..15)
        .map(|i| {
            let n: &'static str = Box::leak(format!("u{i}").into_boxed_str());
            (n, n, 30, "active")
        })
        .chain([("gina", "Gina", 50, "active")])
        .collect();
    let c = Case {
        codeowners: Some(text),
        files: &["a.rs"],
        author: "gina",
        reviewers: &["u0"],
        members: Box::leak(members.into_boxed_slice()),
        ..Case::default()
    };
    let b = build(&c);
    let r = run(&b);
    assert_eq!(r.chosen.len(), 9);
    assert_eq!(r.uncovered().count(), 5);
    let cmd = r.proposal.expect("a proposal");
    assert_eq!(crate::command::validate::validate(&cmd, &b.snap), Ok(()));
}

#[test]
fn needs_lists_groups_to_expand_and_people_to_check() {
    let c = Case {
        codeowners: Some("* @gina\n[Backend] @acme/backend\n*.rs\n^[Docs]\n*.md @bob\n"),
        files: &["a.rs", "b.md"],
        author: "carol",
        ..Case::default()
    };
    let b = build(&c);
    let mut input = RouteInput::new(&b.snap, 1, now());
    input.codeowners = b.co.as_ref();
    let n = needs(&input, &RouteConfig::default());
    assert_eq!(n.groups, ["acme/backend"]);
    assert_eq!(n.people, ["gina", "bob"], "required owners first");
    let groups = BTreeMap::from([("acme/backend".to_string(), vec!["alice".to_string()])]);
    input.groups = &groups;
    let n = needs(&input, &RouteConfig::default());
    assert_eq!(n.people, ["gina", "alice", "bob"]);
}

#[test]
fn nothing_to_route_on_says_why() {
    let snap = ProjectSnapshot::default();
    let r = route(&RouteInput::new(&snap, 7, now()), &RouteConfig::default());
    assert!(r.proposal.is_none() && r.notes[0].contains("!7"));
    let c = Case {
        files: &["a.rs"],
        author: "gina",
        members: &[("gina", "Gina", 50, "active"), ("bot-x", "X", 30, "active")],
        bots: &["bot-x"],
        ..Case::default()
    };
    let r = run(&build(&c));
    assert!(r.proposal.is_none(), "{:?}", r.chosen);
    assert!(
        r.notes.iter().any(|n| n.contains("nobody eligible")),
        "{:?}",
        r.notes
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Whatever CODEOWNERS says, a proposal never names the author, a non-member, a blocked
    /// user or a bot, keeps the current reviewers, has at most 10 reviewers, and passes the
    /// command validation the operator's approval goes through.
    #[test]
    fn proposals_are_always_valid(
        lines in proptest::collection::vec(
            ("(\\^)?\\[(A|B|C)\\](\\[[0-3]\\])?", "(\\*|\\*\\.rs|src/|docs/|!src/x\\.rs)",
             proptest::collection::vec("@(alice|bob|carol|dave|erin|gina|ghost|renovate|grp|@@maintainer|x@y\\.z)", 0..4)),
            0..12),
        reviewers in proptest::collection::vec("(alice|bob|dave)", 0..2),
        busy in proptest::collection::vec("(alice|bob|carol|dave|gina)", 0..3),
    ) {
        let mut text = String::new();
        for (head, pattern, owners) in &lines {
            text.push_str(&format!("{head}\n{pattern} {}\n", owners.join(" ")));
        }
        let mut reviewers: Vec<&'static str> = reviewers
            .iter()
            .map(|r| match r.as_str() { "alice" => "alice", "bob" => "bob", _ => "dave" })
            .collect();
        reviewers.dedup();
        let busy: Vec<&'static str> = busy
            .iter()
            .map(|b| match b.as_str() { "alice" => "alice", "bob" => "bob", "carol" => "carol", "dave" => "dave", _ => "gina" })
            .collect();
        let c = Case {
            codeowners: Some(Box::leak(text.into_boxed_str())),
            files: &["src/x.rs", "docs/a.md", "README.md"],
            author: "carol",
            reviewers: Box::leak(reviewers.into_boxed_slice()),
            groups: &[("grp", &["bob", "erin", "nobody"])],
            busy: Box::leak(busy.into_boxed_slice()),
            ..Case::default()
        };
        let b = build(&c);
        let r = run(&b);
        if let Some(cmd) = &r.proposal {
            proptest::prop_assert_eq!(crate::command::validate::validate(cmd, &b.snap), Ok(()));
            let Command::AssignReviewers { reviewers, .. } = cmd else { unreachable!() };
            for kept in c.reviewers {
                proptest::prop_assert!(reviewers.iter().any(|r| r == kept));
            }
            for name in &r.chosen {
                proptest::prop_assert!(!["carol", "erin", "ghost", "renovate", "nobody"].contains(&name.as_str()), "{}", name);
            }
        }
    }
}
