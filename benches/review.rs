//! Reviewer routing and triage at the size of a big monorepo: a 1,000-rule CODEOWNERS in 20
//! sections, an MR touching 300 files (one approval rule per matched section line, groups of
//! 5 to expand), a project with 500 open MRs, 300 commits mapped to members by name.
//! Run: `cargo bench --bench review`.

// Test and benchmark code: a failed setup step should stop with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::hint::black_box;

use gitaiops::gitlab::models::{Member, MergeRequest, MrDiff, MrState, UserRef};
use gitaiops::gitlab::snapshot::ProjectSnapshot;
use gitaiops::review::codeowners::CodeOwners;
use gitaiops::review::route::{RecentCommit, RouteConfig, RouteInput, route};
use gitaiops::review::triage::{TriageConfig, triage_all};

fn main() {
    divan::main();
}

fn codeowners_text() -> String {
    let mut s = String::from("* @platform\n");
    for sec in 0..20 {
        s.push_str(&format!(
            "{}[Area {sec}][2] @area{sec}-team\n",
            if sec % 3 == 0 { "^" } else { "" }
        ));
        for r in 0..50 {
            match r % 5 {
                0 => s.push_str(&format!("/services/svc{sec}/mod{r}/\n")),
                1 => s.push_str(&format!("services/svc{sec}/**/*.proto @proto{r}\n")),
                2 => s.push_str(&format!("*.{sec}x{r} @ext{r}\n")),
                3 => s.push_str(&format!("/docs/area{sec}/*.md @docs{r} @user{r}\n")),
                _ => s.push_str(&format!("!services/svc{sec}/mod{r}/generated/\n")),
            }
        }
    }
    s
}

fn paths(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 4 {
            0 => format!("services/svc{}/mod{}/src/file{i}.rs", i % 20, i % 50),
            1 => format!("services/svc{}/api/v1/x{i}.proto", i % 20),
            2 => format!("docs/area{}/page{i}.md", i % 20),
            _ => format!("tools/scripts/s{i}.sh"),
        })
        .collect()
}

fn user(n: &str) -> UserRef {
    UserRef {
        id: 1,
        username: n.into(),
        ..Default::default()
    }
}

fn snapshot() -> ProjectSnapshot {
    let mut s = ProjectSnapshot::default();
    s.project.path_with_namespace = "acme/monorepo".into();
    s.members = (0..200)
        .map(|i| Member {
            id: i,
            username: format!("user{i}"),
            name: format!("User {i}"),
            state: Some("active".into()),
            access_level: 30,
            ..Default::default()
        })
        .collect::<Vec<_>>()
        .into();
    for iid in 1..=500u64 {
        std::sync::Arc::make_mut(&mut s.mrs).insert(
            iid,
            MergeRequest {
                id: iid,
                iid,
                state: MrState::Opened,
                title: format!("change {iid}"),
                author: Some(user(&format!("user{}", iid % 200)).into()),
                reviewers: vec![user(&format!("user{}", (iid * 7) % 200)).into()],
                updated_at: "2026-04-01T00:00:00Z".parse().ok(),
                created_at: "2026-03-01T00:00:00Z".parse().ok(),
                has_conflicts: Some(iid % 9 == 0),
                changes_count: Some(format!("{}", iid % 80)),
                ..Default::default()
            }
            .into(),
        );
    }
    std::sync::Arc::make_mut(&mut s.diffs).insert(
        1,
        paths(300)
            .into_iter()
            .map(|p| MrDiff {
                old_path: p.clone(),
                new_path: p,
                diff: "+a\n-b\n".into(),
                ..Default::default()
            })
            .collect(),
    );
    s
}

#[divan::bench]
fn parse_codeowners_1000_rules(b: divan::Bencher) {
    let text = codeowners_text();
    b.bench(|| CodeOwners::parse(black_box(&text)));
}

#[divan::bench]
fn owners_of_2000_paths(b: divan::Bencher) {
    let co = CodeOwners::parse(&codeowners_text());
    let ps = paths(2000);
    b.bench(|| {
        ps.iter()
            .map(|p| co.owners_of(black_box(p)).len())
            .sum::<usize>()
    });
}

#[divan::bench]
fn route_mr_with_300_files(b: divan::Bencher) {
    let co = CodeOwners::parse(&codeowners_text());
    let snap = snapshot();
    let now = "2026-05-20T00:00:00Z".parse().unwrap();
    let commits: Vec<RecentCommit> = paths(300)
        .into_iter()
        .enumerate()
        .map(|(i, path)| RecentCommit {
            path,
            // Mapped to members by display name (no e-mails known).
            author_name: format!("User {}", i % 200),
            author_email: format!("user{}@laptop.local", i % 200),
            at: "2026-05-01T00:00:00Z".parse().unwrap(),
        })
        .collect();
    let groups: BTreeMap<String, Vec<String>> = (0..20)
        .map(|i| {
            (
                format!("area{i}-team"),
                (0..5).map(|j| format!("user{}", i * 5 + j)).collect(),
            )
        })
        .collect();
    b.bench(|| {
        let input = RouteInput {
            codeowners: Some(&co),
            recent_commits: &commits,
            groups: &groups,
            ..RouteInput::new(&snap, 1, now)
        };
        route(black_box(&input), &RouteConfig::default())
    });
}

#[divan::bench]
fn triage_500_open_mrs(b: divan::Bencher) {
    let snap = snapshot();
    let now = "2026-05-20T00:00:00Z".parse().unwrap();
    b.bench(|| triage_all(black_box(&snap), now, &TriageConfig::default()));
}
