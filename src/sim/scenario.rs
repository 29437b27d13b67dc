//! The seeded scenario: `assets/sim/scenario.json` (a believable project written by hand) turned
//! into a [`World`], or scaled up to N MRs and N pipelines for benchmarks.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::logs::LogKind;
use super::state::{
    CommitRec, EnvSpec, FileChange, Generated, MR_ID_BASE, Mr, Ms, NoteRec, PipelineSpec,
    ProjectInfo, TemplateJob, UserRec, UserStatusRec, World, pick, sha_for,
};

const SCENARIO: &str = include_str!("../../assets/sim/scenario.json");

const HOUR: f64 = 3_600_000.0;
const DAY: Ms = 86_400_000;

#[derive(Debug, Deserialize)]
struct Scenario {
    project: ProjectDef,
    current_user: String,
    members: Vec<MemberDef>,
    groups: Vec<GroupDef>,
    codeowners: String,
    files: BTreeMap<String, String>,
    history: Vec<(String, String, u32, String)>,
    templates: BTreeMap<String, Vec<TemplateDef>>,
    mrs: Vec<MrDef>,
    main_pipelines: Vec<MainDef>,
    arrivals: ArrivalDef,
}

#[derive(Debug, Deserialize)]
struct ProjectDef {
    id: u64,
    path: String,
    name: String,
    namespace: String,
    namespace_id: u64,
    description: String,
    default_branch: String,
    created_days_ago: i64,
}

#[derive(Debug, Deserialize)]
struct MemberDef {
    id: u64,
    username: String,
    name: String,
    access_level: u32,
    #[serde(default)]
    bot: bool,
    #[serde(default)]
    public_email: String,
    #[serde(default)]
    status: Option<StatusDef>,
}

#[derive(Debug, Deserialize)]
struct StatusDef {
    availability: String,
    emoji: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct GroupDef {
    path: String,
    members: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TemplateDef {
    name: String,
    stage: String,
    log: String,
    secs: u32,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    allow_failure: bool,
    #[serde(default)]
    manual: bool,
    #[serde(default)]
    environment: Option<EnvDef>,
}

#[derive(Debug, Deserialize)]
struct EnvDef {
    name: String,
    tier: String,
}

/// Per-job changes to a template for one pipeline.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobOverride {
    pub result: Option<String>,
    pub reason: Option<String>,
    pub log: Option<String>,
    pub flaky: Option<bool>,
    pub secs: Option<u32>,
    pub name: Option<String>,
    pub allow_failure: Option<bool>,
    pub wait_for_resource_s: Option<u64>,
    /// `when: delayed` with `start_in` of this many seconds: `scheduled` until then.
    pub delayed_s: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
struct PipelineDef {
    template: String,
    ago_h: f64,
    #[serde(default)]
    jobs: BTreeMap<String, JobOverride>,
}

#[derive(Debug, Clone, Deserialize)]
struct MrDef {
    iid: u64,
    title: String,
    author: String,
    branch: String,
    state: String,
    created_h: f64,
    updated_h: f64,
    #[serde(default)]
    closed_h: Option<f64>,
    #[serde(default)]
    conflicts: bool,
    reviewers: Vec<String>,
    assignees: Vec<String>,
    labels: Vec<String>,
    approvals_required: u32,
    approved_by: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    files: Vec<(String, u32, u32)>,
    #[serde(default)]
    generated: Option<GeneratedDef>,
    pipelines: Vec<PipelineDef>,
    #[serde(default)]
    notes: Vec<(String, f64, String)>,
    /// Resolvable threads: replies of (who, hours ago, body), resolved or not.
    #[serde(default)]
    threads: Vec<ThreadDef>,
    #[serde(default)]
    illustrates: Option<String>,
    /// Merged results pipelines (`refs/merge-requests/<iid>/merge`, on a merge commit).
    #[serde(default)]
    merged_results: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct ThreadDef {
    notes: Vec<(String, f64, String)>,
    /// Who resolved it, and how many hours ago.
    #[serde(default)]
    resolved: Option<(String, f64)>,
}

#[derive(Debug, Clone, Deserialize)]
struct GeneratedDef {
    prefix: String,
    count: u32,
    add: u32,
}

#[derive(Debug, Deserialize)]
struct MainDef {
    ago_h: f64,
    author: String,
    title: String,
    /// GitLab's `source`: `push` unless said (`schedule`, `web`, `api`, `trigger`,
    /// `pipeline` for a multi-project upstream).
    #[serde(default)]
    source: Option<String>,
    /// The template's name: `main` unless said.
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    jobs: BTreeMap<String, JobOverride>,
    #[serde(default)]
    bridge: Option<BridgeDef>,
}

#[derive(Debug, Deserialize)]
struct BridgeDef {
    name: String,
    stage: String,
    jobs: Vec<TemplateDef>,
    /// Per-job changes in the child pipeline (a failing downstream job).
    #[serde(default)]
    child_jobs: BTreeMap<String, JobOverride>,
}

#[derive(Debug, Deserialize)]
struct ArrivalDef {
    min_s: u64,
    max_s: u64,
}

/// A child pipeline behind a trigger job: the bridge's name and stage, the child's jobs and
/// their per-job changes.
struct ChildDef {
    name: String,
    stage: String,
    jobs: Vec<TemplateJob>,
    overrides: BTreeMap<String, JobOverride>,
}

/// A pipeline to create, collected first so ids can follow creation time.
enum PendingPipeline {
    Mr {
        iid: u64,
        def: PipelineDef,
        at: Ms,
        sha: String,
        author: u64,
        title: String,
    },
    Main {
        at: Ms,
        author: u64,
        title: String,
        source: String,
        template: String,
        jobs: BTreeMap<String, JobOverride>,
        bridge: Option<ChildDef>,
    },
}

impl PendingPipeline {
    fn at(&self) -> Ms {
        match self {
            Self::Mr { at, .. } | Self::Main { at, .. } => *at,
        }
    }
}

fn ago(now: Ms, hours: f64) -> Ms {
    now - (hours * HOUR) as Ms
}

fn template_job(d: &TemplateDef) -> TemplateJob {
    TemplateJob {
        name: d.name.clone(),
        stage: d.stage.clone(),
        log: LogKind::parse(&d.log).unwrap_or(LogKind::CargoBuild),
        secs: d.secs,
        image: d.image.clone().unwrap_or_else(|| "rust:1.88".into()),
        allow_failure: d.allow_failure,
        manual: d.manual,
        environment: d.environment.as_ref().map(|e| EnvSpec {
            name: e.name.clone(),
            tier: e.tier.clone(),
        }),
    }
}

/// Builds the world at time `now`. `scale == 0` is the scenario as written; otherwise `scale`
/// MRs with one pipeline each, cycling through the written MRs as profiles.
#[cfg(test)]
pub fn build(seed: u64, scale: usize, now: Ms) -> anyhow::Result<World> {
    build_project(seed, scale, now, 0)
}

/// The other projects of a simulated instance (`sim --projects N`), in the scenario's group:
/// siblings of `acme/platform` with their own ids, SHAs and a varied share of its MRs, so the
/// overview has projects that need attention and quiet ones.
pub const SIBLINGS: [&str; 9] = [
    "billing", "web", "infra", "docs", "mobile", "search", "identity", "data", "payments",
];

/// How far apart the projects' id ranges are (see [`World::id_shift`]).
const SLOT_ID_SHIFT: u64 = 20_000_000;

/// Project `slot` of the instance: 0 is the scenario's project as written; slot k > 0 is a
/// sibling (`acme/billing`, ...) built from the same scenario with a different seed.
pub fn build_project(seed: u64, scale: usize, now: Ms, slot: usize) -> anyhow::Result<World> {
    let seed = seed.wrapping_add(slot as u64 * 7919);
    let id_shift = slot as u64 * SLOT_ID_SHIFT;
    let sc: Scenario = serde_json::from_str(SCENARIO)
        .map_err(|e| anyhow::anyhow!("assets/sim/scenario.json is invalid: {e}"))?;
    let users: Vec<UserRec> = sc
        .members
        .iter()
        .map(|m| UserRec {
            id: m.id,
            username: m.username.clone(),
            name: m.name.clone(),
            access_level: m.access_level,
            bot: m.bot,
            public_email: m.public_email.clone(),
            status: m.status.as_ref().map(|s| UserStatusRec {
                availability: s.availability.clone(),
                emoji: s.emoji.clone(),
                message: s.message.clone(),
            }),
        })
        .collect();
    let directory = users.clone();
    let uid = |name: &str| directory.iter().find(|u| u.username == name).map(|u| u.id);
    let current_user = uid(&sc.current_user).unwrap_or(users[0].id);
    let groups = sc
        .groups
        .iter()
        .map(|g| {
            (
                g.path.clone(),
                g.members.iter().filter_map(|m| uid(m)).collect(),
            )
        })
        .collect();
    let templates = sc
        .templates
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(template_job).collect()))
        .collect();
    let commits = sc
        .history
        .iter()
        .enumerate()
        .map(|(i, (path, author, days, title))| CommitRec {
            sha: sha_for(seed, 0xC0_0000 + i as u64),
            path: path.clone(),
            author: uid(author).unwrap_or(current_user),
            at: now - *days as Ms * DAY - pick(seed, i as u64, 21, 0, 8 * 3_600_000) as Ms,
            title: title.clone(),
        })
        .collect();
    let p = &sc.project;
    let (path, name) = match slot {
        0 => (p.path.clone(), p.name.clone()),
        k => {
            let name = SIBLINGS
                .get(k - 1)
                .map_or_else(|| format!("service-{k}"), |n| n.to_string());
            (format!("{}/{name}", p.namespace), name)
        }
    };
    let mut world = World {
        ce: false,
        threads_must_be_resolved: false,
        id_shift,
        seed,
        project: ProjectInfo {
            // Real project ids are 8 digits on gitlab.com; the siblings get such ids.
            id: if slot == 0 {
                p.id
            } else {
                61_024_000 + slot as u64 * 37
            },
            path,
            name,
            namespace: p.namespace.clone(),
            namespace_id: p.namespace_id,
            description: p.description.clone(),
            default_branch: p.default_branch.clone(),
            created_at: now - p.created_days_ago * DAY,
        },
        users,
        current_user,
        groups,
        codeowners: sc.codeowners.clone(),
        files: sc.files.clone(),
        commits,
        templates,
        mrs: BTreeMap::new(),
        pipelines: Vec::new(),
        jobs: Vec::new(),
        notes: Vec::new(),
        next_arrival: now + pick(seed, 0, 15, sc.arrivals.min_s, sc.arrivals.max_s) as Ms * 1000,
        arrival_gap_s: (sc.arrivals.min_s, sc.arrivals.max_s),
        arrivals: 0,
        sha_counter: 0,
        trace_padding: 0,
        base_url: String::new(),
    };

    let mut defs: Vec<MrDef> = if scale == 0 {
        sc.mrs.clone()
    } else {
        scaled_mrs(&sc.mrs, scale)
    };
    if slot > 0 {
        // A sibling keeps a seeded share of the MRs (from about a third to all but a few), so
        // projects differ in what they need; every third sibling has no open MR at all.
        let keep = pick(seed, slot as u64, 0x51B, 30, 95);
        defs.retain(|d| {
            !slot.is_multiple_of(3) && pick(seed, d.iid, 0x51C, 0, 100) < keep
                || d.state != "opened"
        });
    }
    let mut pending: Vec<(PendingPipeline, usize)> = Vec::new();
    let mut notes: Vec<NoteRec> = Vec::new();
    for (order, def) in defs.iter().enumerate() {
        let author = uid(&def.author).unwrap_or(current_user);
        let ids = |names: &[String]| names.iter().filter_map(|n| uid(n)).collect::<Vec<u64>>();
        let created_at = ago(now, def.created_h);
        let updated_at = ago(now, def.updated_h);
        let sha = sha_for(seed, 0x4D52_0000 + def.iid);
        let approved_by = ids(&def.approved_by)
            .into_iter()
            .enumerate()
            .map(|(k, u)| (u, updated_at - (k as Ms + 1) * 600_000))
            .collect();
        let state: &'static str = match def.state.as_str() {
            "merged" => "merged",
            "closed" => "closed",
            _ => "opened",
        };
        let closed_at = def.closed_h.map(|h| ago(now, h));
        let spec = def
            .pipelines
            .last()
            .map_or_else(PipelineSpec::default, |p| PipelineSpec {
                template: p.template.clone(),
                overrides: p.jobs.clone(),
            });
        let mr = Mr {
            iid: def.iid,
            id: MR_ID_BASE + id_shift + def.iid,
            title: def.title.clone(),
            description: def.description.clone().unwrap_or_else(|| {
                format!(
                    "## What does this MR do?\n\n{}.\n\n## How to test\n\nRun `cargo test` and the web suite.",
                    def.title
                )
            }),
            author,
            source_branch: def.branch.clone(),
            target_branch: p.default_branch.clone(),
            state,
            created_at,
            updated_at,
            merged_at: (state == "merged").then_some(closed_at.unwrap_or(updated_at)),
            closed_at: (state == "closed").then_some(closed_at.unwrap_or(updated_at)),
            merge_user: (state == "merged").then_some(current_user),
            closed_by: (state == "closed").then_some(author),
            reviewers: ids(&def.reviewers),
            assignees: ids(&def.assignees),
            labels: def.labels.clone(),
            approvals_required: def.approvals_required,
            approved_by,
            conflicts: def.conflicts,
            sha: sha.clone(),
            base_sha: sha_for(seed, 0x0BA5_E000 + def.iid),
            merge_commit_sha: (state == "merged").then(|| sha_for(seed, 0x3E_0000 + def.iid)),
            files: def
                .files
                .iter()
                .map(|(path, add, del)| FileChange {
                    path: path.clone(),
                    add: *add,
                    del: *del,
                    new_file: *del == 0,
                })
                .collect(),
            generated: def.generated.as_ref().map(|g| Generated {
                prefix: g.prefix.clone(),
                count: g.count,
                add: g.add,
            }),
            pipelines: Vec::new(),
            spec,
            merge_error: None,
            illustrates: def.illustrates.clone(),
            auto_merge: false,
            merged_results: def.merged_results,
        };
        for (k, (who, h, body)) in def.notes.iter().enumerate() {
            notes.push(NoteRec {
                id: 0,
                mr_iid: def.iid,
                author: uid(who).unwrap_or(author),
                body: body.clone(),
                created_at: ago(now, *h) + k as Ms,
                system: false,
                thread: None,
                resolved: None,
            });
        }
        for (t, thread) in def.threads.iter().enumerate() {
            let resolved = thread
                .resolved
                .as_ref()
                .map(|(who, h)| (uid(who).unwrap_or(author), ago(now, *h)));
            for (who, h, body) in &thread.notes {
                notes.push(NoteRec {
                    id: 0,
                    mr_iid: def.iid,
                    author: uid(who).unwrap_or(author),
                    body: body.clone(),
                    created_at: ago(now, *h),
                    system: false,
                    thread: Some(def.iid * 1000 + t as u64),
                    resolved,
                });
            }
        }
        if !mr.reviewers.is_empty() {
            let names: Vec<String> = mr
                .reviewers
                .iter()
                .filter_map(|&r| uid_name(&world.users, r))
                .map(|n| format!("@{n}"))
                .collect();
            notes.push(NoteRec {
                id: 0,
                mr_iid: def.iid,
                author,
                body: format!("requested review from {}", names.join(" and ")),
                created_at: created_at + 60_000,
                system: true,
                thread: None,
                resolved: None,
            });
        }
        for (k, pdef) in def.pipelines.iter().enumerate() {
            let last = k + 1 == def.pipelines.len();
            pending.push((
                PendingPipeline::Mr {
                    iid: def.iid,
                    def: pdef.clone(),
                    at: ago(now, pdef.ago_h),
                    sha: if last {
                        sha.clone()
                    } else {
                        sha_for(seed, 0x4D53_0000 + def.iid * 16 + k as u64)
                    },
                    author,
                    title: def.title.clone(),
                },
                order,
            ));
        }
        world.mrs.insert(def.iid, mr);
    }
    if scale == 0 {
        for (k, m) in sc.main_pipelines.iter().enumerate() {
            pending.push((
                PendingPipeline::Main {
                    at: ago(now, m.ago_h),
                    author: uid(&m.author).unwrap_or(current_user),
                    title: m.title.clone(),
                    source: m.source.clone().unwrap_or_else(|| "push".into()),
                    template: m.template.clone().unwrap_or_else(|| "main".into()),
                    // Every other sibling's default branch is green: its main pipelines run
                    // the template as written, without the scenario's failures.
                    jobs: if slot > 0 && slot.is_multiple_of(2) {
                        Default::default()
                    } else {
                        m.jobs.clone()
                    },
                    bridge: m.bridge.as_ref().map(|b| ChildDef {
                        name: b.name.clone(),
                        stage: b.stage.clone(),
                        jobs: b.jobs.iter().map(template_job).collect(),
                        overrides: b.child_jobs.clone(),
                    }),
                },
                10_000 + k,
            ));
        }
    }
    // Pipeline ids grow with creation time, as on a real instance.
    pending.sort_by_key(|(p, order)| (p.at(), *order));
    let mut bridge_id = 0u64;
    for (p, _) in pending {
        match p {
            PendingPipeline::Mr {
                iid,
                def,
                at,
                sha,
                author,
                title,
            } => {
                let merged_results = world.mrs.get(&iid).is_some_and(|m| m.merged_results);
                let (git_ref, sha) = if merged_results {
                    (super::state::mr_ref(iid, true), world.merge_sha(&sha))
                } else {
                    (super::state::mr_ref(iid, false), sha)
                };
                let pi = world.add_pipeline(
                    &def.template,
                    &def.jobs,
                    git_ref,
                    "merge_request_event",
                    Some(iid),
                    sha,
                    at,
                    author,
                    title,
                );
                let pid = world.pipelines[pi].id;
                if let Some(mr) = world.mrs.get_mut(&iid) {
                    mr.pipelines.push(pid);
                }
            }
            PendingPipeline::Main {
                at,
                author,
                title,
                source,
                template,
                jobs,
                bridge,
            } => {
                let sha = world.next_sha();
                let branch = world.project.default_branch.clone();
                let pi = world.add_pipeline(
                    &template, &jobs, branch, &source, None, sha, at, author, title,
                );
                if let Some(child) = bridge {
                    add_bridge(&mut world, pi, child, &mut bridge_id);
                }
            }
        }
    }
    notes.sort_by_key(|n| n.created_at);
    for mut n in notes {
        n.id = world.note_base() + world.notes.len() as u64;
        world.notes.push(n);
    }
    Ok(world)
}

fn uid_name(users: &[UserRec], id: u64) -> Option<String> {
    users
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.username.clone())
}

/// A trigger job whose downstream child pipeline starts when the parent's last stage is reached.
fn add_bridge(world: &mut World, parent: usize, child: ChildDef, counter: &mut u64) {
    let ChildDef {
        name,
        stage,
        jobs: tjobs,
        overrides,
    } = child;
    let p = &world.pipelines[parent];
    let start = p
        .jobs
        .iter()
        .map(|&j| world.jobs[j].queued_at)
        .max()
        .unwrap_or(p.created_at);
    let (sha, git_ref, user) = (p.sha.clone(), p.git_ref.clone(), p.user_id);
    let key = format!("child:{}", p.id);
    world.templates.insert(key.clone(), tjobs);
    let ci = world.add_pipeline(
        &key,
        &overrides,
        git_ref,
        "parent_pipeline",
        None,
        sha,
        start,
        user,
        "Downstream end-to-end tests".into(),
    );
    let downstream = world.pipelines[ci].id;
    *counter += 1;
    // Bridges share the job id space on GitLab; keep them out of the dense job range.
    let id = world.bridge_base() + *counter;
    world.pipelines[parent]
        .bridges
        .push(super::state::BridgeRec {
            id,
            name,
            stage,
            downstream,
        });
}

/// Scaled worlds number their MRs from here (a long-lived project on gitlab.com).
pub const SCALED_IID_BASE: u64 = 150_000;

/// `n` MRs cycling through the written ones, each with exactly one pipeline.
fn scaled_mrs(base: &[MrDef], n: usize) -> Vec<MrDef> {
    (0..n)
        .map(|i| {
            let t = &base[i % base.len()];
            let round = i / base.len();
            let mut d = t.clone();
            // A busy gitlab.com project: 6-digit iids (`!150001`), as the columns must show.
            d.iid = SCALED_IID_BASE + i as u64 + 1;
            if round > 0 {
                d.title = format!("{} (part {})", t.title, round + 1);
                d.branch = format!("{}-{}", t.branch, round + 1);
            }
            let shift = (round as f64) * 0.37;
            d.created_h = t.created_h + shift;
            d.updated_h = t.updated_h + shift;
            d.closed_h = t.closed_h.map(|h| h + shift);
            d.notes.clear();
            d.threads.clear();
            let mut p = t.pipelines.last().cloned().unwrap_or(PipelineDef {
                template: "mr".into(),
                ago_h: d.updated_h,
                jobs: BTreeMap::new(),
            });
            p.ago_h += shift;
            d.pipelines = vec![p];
            d
        })
        .collect()
}

/// One line per illustrative entity: what the scenario shows and where (for tests and docs).
pub fn describe(world: &World, now: Ms) -> serde_json::Value {
    let mrs: Vec<serde_json::Value> = world
        .mrs
        .values()
        .map(|mr| {
            let head = world.head_pipeline(mr);
            let failed: Vec<serde_json::Value> = head
                .map(|p| {
                    world
                        .current_jobs(p)
                        .into_iter()
                        .map(|j| &world.jobs[j])
                        .filter(|j| matches!(j.plan, super::state::Plan::Failed { .. }))
                        .map(|j| {
                            serde_json::json!({"job_id": j.id, "name": j.name,
                            "reason": j.failure_reason(now.max(j.finished_at.unwrap_or(now))),
                            "log": j.log.name()})
                        })
                        .collect()
                })
                .unwrap_or_default();
            serde_json::json!({
                "iid": mr.iid,
                "title": mr.title,
                "state": mr.state,
                "illustrates": mr.illustrates,
                "detailed_merge_status": world.detailed_merge_status(mr, now),
                "head_pipeline_id": head.map(|p| p.id),
                "head_pipeline_status": head.map(|p| world.pipeline_status(p, now)),
                "failing_jobs": failed,
            })
        })
        .collect();
    let main: Vec<serde_json::Value> = world
        .pipelines
        .iter()
        .filter(|p| p.mr_iid.is_none())
        .map(|p| {
            let jobs: Vec<serde_json::Value> = world
                .current_jobs(p)
                .into_iter()
                .map(|j| &world.jobs[j])
                .map(|j| serde_json::json!({"job_id": j.id, "name": j.name, "status": j.status(now),
                    "manual": j.manual, "allow_failure": j.allow_failure,
                    "environment": j.environment.as_ref().map(|e| e.name.clone())}))
                .collect();
            serde_json::json!({"pipeline_id": p.id, "source": p.source, "ref": p.git_ref,
                "status": world.pipeline_status(p, now),
                "bridges": p.bridges.iter().map(|b| serde_json::json!({"id": b.id, "name": b.name, "downstream_pipeline_id": b.downstream})).collect::<Vec<_>>(),
                "jobs": jobs})
        })
        .collect();
    serde_json::json!({"project": world.project.path, "project_id": world.project.id,
        "merge_requests": mrs, "branch_pipelines": main})
}
