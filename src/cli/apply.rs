//! `gitaiops apply PLAN.json` and `gitaiops audit`.
//!
//! `apply` works like terraform's: every command is validated against state fetched now, shown
//! with its risk and the request it sends, and asked about on the terminal (default No). `--yes`
//! answers for low and medium risk only; high risk always needs the operator to type the target,
//! so without a terminal it is refused. Details go to stderr, one result line per command to
//! stdout.

use std::io::{BufRead, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::args::{ApplyArgs, AuditArgs, GlobalArgs};
use crate::config::Settings;
use crate::gitlab::{GitlabClient, ProjectSnapshot};

use crate::command::audit::{
    self, AuditEvent, AuditLog, AuditRecord, RecordHeader, format_human, new_session_id,
    operator_id,
};
use crate::command::executor::{ExecContext, execute, snapshot_for};
use crate::command::model::Command;
use crate::command::parse::{ParsedPlan, RejectedItem, parse_plan_file};
use crate::command::policy::Policy;
use crate::command::queue::{Approval, Proposed, Queue, QueueError, Source, Status};
use crate::command::request::details;
use crate::command::risk::Risk;

/// Largest plan file read.
const MAX_PLAN_BYTES: u64 = 4 * 1024 * 1024;
/// Plan items considered one by one (valid or not); the rest are refused together, in one line
/// and one audit record, however many there are.
pub const MAX_PLAN_ITEMS: usize = 100;
use super::out;
use crate::command::audit::REMEMBER_DONE;

pub async fn run_apply(global: GlobalArgs, args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    let policy = Policy::from_config(&settings.file.policy, global.read_only)
        .map_err(|e| anyhow::anyhow!("{e} (in {})", settings.config_path.display()))?;
    let plan = read_plan(&args.plan)?;
    let project = match settings.projects().first() {
        Some(p) if !p.trim().is_empty() => p.trim().to_string(),
        _ => plan_project(&plan)?,
    };
    let audit_path = audit::resolve_path(settings.file.audit.path.as_deref())?;
    let audit_log = AuditLog::open(&audit_path)?;
    let client = settings.gitlab_client()?;
    let mut term = Terminal;
    let outcome = apply_plan(
        &client, &audit_log, policy, &project, &plan, args.yes, args.json, &mut term,
    )
    .await?;
    if args.json {
        out::print_json(&serde_json::to_string(&outcome.summary())?)?;
    }
    Ok(outcome.exit_code())
}

fn read_plan(path: &Path) -> anyhow::Result<ParsedPlan> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open plan file {}", path.display()))?;
    let mut text = String::new();
    f.take(MAX_PLAN_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read plan file {} as UTF-8", path.display()))?;
    if text.len() as u64 > MAX_PLAN_BYTES {
        bail!(
            "plan file {} is larger than {} MiB",
            path.display(),
            MAX_PLAN_BYTES / 1024 / 1024
        );
    }
    parse_plan_file(&text).map_err(|e| anyhow::anyhow!("plan file {}: {e}", path.display()))
}

/// The project named by the plan's commands, when they agree on one.
fn plan_project(plan: &ParsedPlan) -> anyhow::Result<String> {
    let mut names: Vec<&str> = plan.commands.iter().map(|(_, c)| c.project()).collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        [] => bail!("the plan holds no valid command; nothing to apply"),
        _ => bail!(
            "the plan names several projects ({}); choose one with --project",
            names.join(", ")
        ),
    }
}

/// Where `apply` asks its questions: the terminal, or a script in tests.
pub trait Confirm {
    /// Whether a person can answer.
    fn interactive(&self) -> bool;
    /// Shows `prompt` and reads one line; `None` at end of input.
    fn ask(&mut self, prompt: &str) -> Option<String>;
}

/// stdin/stderr; interactive only when stdin is a terminal.
pub struct Terminal;

impl Confirm for Terminal {
    fn interactive(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn ask(&mut self, prompt: &str) -> Option<String> {
        out::eprint(prompt);
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }
}

/// What became of one plan item (`apply --json` prints one per line; docs/cli-json.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemResult {
    /// Always "command" (the summary line says "summary").
    #[serde(rename = "type")]
    pub record: &'static str,
    /// 1-based position in the plan file.
    pub item: usize,
    /// Last position when one result covers a range (the items over the limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_item: Option<usize>,
    /// The command's kind; null for an item that did not parse.
    pub kind: Option<String>,
    /// What it acts on (`!42`, `job #7`); null for an item that did not parse.
    pub target: Option<String>,
    /// "done", "failed", "refused" or "skipped".
    pub outcome: &'static str,
    /// What GitLab answered, or why it was refused or skipped.
    pub detail: String,
}

impl ItemResult {
    /// The human line, as `apply` prints it without `--json`.
    pub fn line(&self) -> String {
        match (&self.kind, self.last_item) {
            (_, Some(last)) => format!("{}–{last}. {}: {}", self.item, self.outcome, self.detail),
            (None, None) => format!(
                "{}. (invalid): {}: {}",
                self.item, self.outcome, self.detail
            ),
            (Some(kind), None) => {
                let target = self.target.as_deref().unwrap_or_default();
                if self.outcome == "done" {
                    format!("{}. {kind} {target}: done ({})", self.item, self.detail)
                } else {
                    format!(
                        "{}. {kind} {target}: {}: {}",
                        self.item, self.outcome, self.detail
                    )
                }
            }
        }
    }
}

/// How a plan went.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ApplyOutcome {
    /// One line per command, as printed.
    pub lines: Vec<String>,
    /// The same, as records.
    pub results: Vec<ItemResult>,
    pub done: usize,
    pub failed: usize,
    pub refused: usize,
    /// Declined at the prompt: the operator's choice, not an error.
    pub declined: usize,
    /// Done by an earlier run (audit log): re-applying a plan is idempotent, not an error.
    pub already: usize,
}

impl ApplyOutcome {
    /// 3 (partial) when anything failed or was refused (invalid, stale, policy, no terminal);
    /// declined at the prompt and already executed are the operator's choice and success.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_status())
    }

    pub fn exit_status(&self) -> u8 {
        if self.failed + self.refused > 0 {
            super::exit::PARTIAL
        } else {
            super::exit::OK
        }
    }

    /// The last line of `apply --json`.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "summary",
            "done": self.done,
            "failed": self.failed,
            "refused": self.refused,
            "skipped": self.declined,
            "already_executed": self.already,
            "exit_code": self.exit_status(),
        })
    }
}

/// A result of a parsed command.
fn result(n: usize, kind: &str, target: &str, outcome: &'static str, detail: String) -> ItemResult {
    ItemResult {
        record: "command",
        item: n,
        last_item: None,
        kind: Some(kind.to_string()),
        target: Some(target.to_string()),
        outcome,
        detail,
    }
}

/// A result of an item that did not parse.
fn invalid_item(n: usize, error: &str) -> ItemResult {
    ItemResult {
        record: "command",
        item: n,
        last_item: None,
        kind: None,
        target: None,
        outcome: "refused",
        detail: format!("invalid: {error}"),
    }
}

/// Applies a parsed plan: fresh state, policy, per-command confirmation, execution, audit.
/// Result lines (JSON records with `json`) go to stdout as each command ends, and into the
/// outcome; details to stderr.
#[allow(clippy::too_many_arguments)]
pub async fn apply_plan(
    client: &GitlabClient,
    audit_log: &AuditLog,
    policy: Policy,
    project: &str,
    plan: &ParsedPlan,
    yes: bool,
    json: bool,
    confirm: &mut dyn Confirm,
) -> anyhow::Result<ApplyOutcome> {
    let session = new_session_id();
    let mut queue = Queue::new(policy, operator_id(), session.clone());
    let cmds: Vec<&Command> = plan
        .commands
        .iter()
        .filter(|(i, _)| *i < MAX_PLAN_ITEMS)
        .map(|(_, c)| c)
        .collect();
    let (snap, unfetched) = snapshot_for(client, project, &cmds)
        .await
        .with_context(|| format!("cannot fetch {project} to validate the plan"))?;
    // Position in the plan -> why its target could not be fetched (that command only is stale).
    let unfetched: std::collections::BTreeMap<usize, String> = plan
        .commands
        .iter()
        .filter(|(i, _)| *i < MAX_PLAN_ITEMS)
        .enumerate()
        .filter_map(|(k, (i, _))| unfetched.get(&k).map(|why| (*i, why.clone())))
        .collect();
    // What was done already (also checked again, under a lock, right before each execution):
    // by the logged command, and by keyed hash for commands whose payload the log redacted.
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::try_from(REMEMBER_DONE).unwrap_or_default())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let records = audit::read_all(audit_log.path())?;
    let origin = client.origin();
    for (identity, when) in audit::done_identities(&records, since, origin)
        .into_iter()
        .chain(audit::done_among(
            audit_log,
            &records,
            since,
            origin,
            snap.project.id,
            &cmds,
        ))
    {
        queue.remember_done(identity, &when);
    }
    drop(records);
    let ctx = ExecContext {
        client: client.clone(),
        audit: audit_log.clone(),
    };
    let total = plan.commands.len() + plan.rejected.len();
    out::eprintln(&format!(
        "Applying {total} command(s) to {} on {} — policy: {}; audit: {}",
        snap.path(),
        snap.host,
        queue.policy().describe(),
        audit_log.path().display()
    ));
    if !plan.summary.trim().is_empty() {
        out::eprintln(&format!("Plan: {}", one_line(&plan.summary, 300)));
    }
    let mut out = ApplyOutcome::default();
    let emit = |out: &mut ApplyOutcome, r: ItemResult| {
        let line = out::human(&r.line());
        if json {
            let _ = serde_json::to_string(&r).map(|text| out::print_json(&text));
        } else {
            let _ = out::println(&line);
        }
        out.lines.push(line);
        out.results.push(r);
    };

    // Items past the limit are refused together: one line, one record.
    let over = plan
        .commands
        .iter()
        .map(|(i, _)| *i)
        .chain(plan.rejected.iter().map(|r| r.index))
        .filter(|i| *i >= MAX_PLAN_ITEMS)
        .count();
    // Invalid items within the limit: one record each, written together (one sync).
    let invalid: Vec<&RejectedItem> = plan
        .rejected
        .iter()
        .filter(|r| r.index < MAX_PLAN_ITEMS)
        .collect();
    let mut batch: Vec<AuditRecord> = invalid
        .iter()
        .map(|r| rejected_record(&session, project, r))
        .collect();
    if over > 0 {
        batch.push(over_limit_record(&session, project, over));
    }
    audit_log.append_all(&batch)?;

    // Walk the input in order: parsed commands and rejected items interleaved by position.
    let mut rejected = invalid.into_iter().peekable();
    for (index, cmd) in plan.commands.iter().filter(|(i, _)| *i < MAX_PLAN_ITEMS) {
        while let Some(r) = rejected.next_if(|r| r.index < *index) {
            out.refused += 1;
            emit(&mut out, invalid_item(r.index + 1, &r.error.to_string()));
        }
        let n = index + 1;
        if let Some(why) = unfetched.get(index) {
            out.refused += 1;
            emit(
                &mut out,
                result(
                    n,
                    &cmd.kind().to_string(),
                    &cmd.target().to_string(),
                    "refused",
                    format!(
                        "stale: cannot fetch the target again: {}",
                        one_line(why, 300)
                    ),
                ),
            );
            continue;
        }
        let proposed = queue.propose(cmd.clone(), Source::PlanFile, &snap, jiff::Timestamp::now());
        audit_log.append_all(&queue.drain_records())?;
        let id = match proposed {
            Proposed::Duplicate(existing) => {
                out.refused += 1;
                let detail = format!(
                    "duplicate of command {} in this plan",
                    existing_position(&plan.commands, &queue, existing)
                );
                emit(
                    &mut out,
                    result(
                        n,
                        &cmd.kind().to_string(),
                        &cmd.target().to_string(),
                        "refused",
                        detail,
                    ),
                );
                continue;
            }
            Proposed::New(id, _) => id,
        };
        let Some(item) = queue.get(id).cloned() else {
            continue;
        };
        let head = format!("{n}. {} {}", item.kind(), item.target_label);
        let kind = item.kind().to_string();
        let target = item.target_label.clone();
        let res = |outcome, detail| result(n, &kind, &target, outcome, detail);
        show_details(&item.command, item.risk, &snap, &head);
        if item.status == Status::Rejected
            && let Some(why) = item
                .reason
                .as_deref()
                .filter(|r| r.starts_with("already executed"))
        {
            out.already += 1;
            emit(&mut out, res("skipped", why.to_string()));
            continue;
        }
        if matches!(item.status, Status::Invalid | Status::Rejected) {
            out.refused += 1;
            let why = item.reason.clone().unwrap_or_default();
            let prefix = if item.status == Status::Invalid {
                "invalid: "
            } else {
                ""
            };
            emit(&mut out, res("refused", format!("{prefix}{why}")));
            continue;
        }
        let decided = decide(&mut queue, id, item.risk, yes, confirm);
        audit_log.append_all(&queue.drain_records())?;
        match decided {
            Decided::Go => {}
            Decided::Acknowledged => {
                out.done += 1;
                emit(
                    &mut out,
                    res("done", "note acknowledged, no GitLab call".into()),
                );
                continue;
            }
            Decided::Declined(why) => {
                out.declined += 1;
                emit(&mut out, res("skipped", why));
                continue;
            }
            Decided::Refused(why) => {
                out.refused += 1;
                emit(&mut out, res("refused", why));
                continue;
            }
        }
        let ticket = match queue.start(id, jiff::Timestamp::now()) {
            Ok(t) => t,
            Err(e) => {
                audit_log.append_all(&queue.drain_records())?;
                out.refused += 1;
                emit(&mut out, res("refused", refusal_text(&e)));
                continue;
            }
        };
        let report = execute(&ctx, &ticket, &snap).await;
        let _ = queue.finish(id, report.finish.clone(), jiff::Timestamp::now());
        if let Some(e) = &report.audit_error {
            // The action happened but is not on record: stop before doing anything else.
            let _ = out::println(&format!("{head}: {}", report.line()));
            bail!("audit log could not be written ({e}); stopping");
        }
        let r = match &report.finish {
            crate::command::queue::Finish::Done(s) => {
                out.done += 1;
                res("done", s.clone())
            }
            crate::command::queue::Finish::Failed(s) => {
                out.failed += 1;
                res("failed", s.clone())
            }
            crate::command::queue::Finish::Stale(s) => {
                out.refused += 1;
                res("refused", format!("stale: {s}"))
            }
        };
        emit(&mut out, r);
    }
    for r in rejected {
        out.refused += 1;
        emit(&mut out, invalid_item(r.index + 1, &r.error.to_string()));
    }
    if over > 0 {
        out.refused += over;
        emit(
            &mut out,
            ItemResult {
                record: "command",
                item: MAX_PLAN_ITEMS + 1,
                last_item: Some(total),
                kind: None,
                target: None,
                outcome: "refused",
                detail: format!(
                    "{over} item(s) over the limit of {MAX_PLAN_ITEMS} per plan (not considered)"
                ),
            },
        );
    }
    out::eprintln(&format!(
        "{} done, {} failed, {} refused, {} skipped",
        out.done, out.failed, out.refused, out.declined
    ));
    Ok(out)
}

enum Decided {
    Go,
    Acknowledged,
    Declined(String),
    Refused(String),
}

fn decide(queue: &mut Queue, id: u64, risk: Risk, yes: bool, confirm: &mut dyn Confirm) -> Decided {
    let now = jiff::Timestamp::now;
    let Some(item) = queue.get(id) else {
        return Decided::Refused("vanished from the queue".into());
    };
    if item.status == Status::Approved {
        // Auto-approved by policy (never high risk).
        return Decided::Go;
    }
    let kind = item.kind();
    let phrase = item.confirmation_phrase();
    if let Err(why) = queue.policy().may_execute(kind) {
        let _ = queue.refuse(id, &why, now());
        return Decided::Refused(why);
    }
    if risk == Risk::High {
        if !confirm.interactive() {
            let why = format!(
                "high risk needs the operator to type \"{phrase}\" on a terminal (--yes does not cover it)"
            );
            let _ = queue.refuse(id, &why, now());
            return Decided::Refused(why);
        }
        match queue.approve(id, now()) {
            Ok(Approval::NeedsConfirmation { phrase }) => {
                let typed = confirm
                    .ask(&format!(
                        "  High risk. Type \"{phrase}\" to apply it (anything else skips): "
                    ))
                    .unwrap_or_default();
                match queue.confirm(id, &typed, now()) {
                    Ok(_) => Decided::Go,
                    Err(QueueError::Refused { reason, .. }) => Decided::Declined(reason),
                    Err(e) => Decided::Refused(refusal_text(&e)),
                }
            }
            Ok(Approval::Approved) => Decided::Go,
            Ok(Approval::Acknowledged) => Decided::Acknowledged,
            Err(e) => Decided::Refused(refusal_text(&e)),
        }
    } else {
        let consent = if yes || kind == crate::command::model::Kind::Note {
            true
        } else if confirm.interactive() {
            let a = confirm
                .ask(&format!("  Apply {phrase}? [y/N] "))
                .unwrap_or_default();
            matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        } else {
            let why =
                "needs approval and there is no terminal (--yes approves low and medium risk)";
            let _ = queue.refuse(id, why, now());
            return Decided::Refused(why.into());
        };
        if !consent {
            let _ = queue.reject(id, Some("declined at the prompt".into()), now());
            return Decided::Declined("declined at the prompt".into());
        }
        match queue.approve(id, now()) {
            Ok(Approval::Approved) => Decided::Go,
            Ok(Approval::Acknowledged) => Decided::Acknowledged,
            Ok(Approval::NeedsConfirmation { .. }) => {
                Decided::Refused("unexpected confirmation request".into())
            }
            Err(e) => Decided::Refused(refusal_text(&e)),
        }
    }
}

fn refusal_text(e: &QueueError) -> String {
    match e {
        QueueError::Refused { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

fn existing_position(commands: &[(usize, Command)], queue: &Queue, id: u64) -> String {
    let Some(item) = queue.get(id) else {
        return format!("#{id}");
    };
    commands
        .iter()
        .find(|(_, c)| *c == item.original)
        .map(|(i, _)| format!("{}", i + 1))
        .unwrap_or_else(|| format!("#{id}"))
}

fn show_details(cmd: &Command, risk: Risk, snap: &ProjectSnapshot, head: &str) {
    out::eprintln(&format!("\n{head} — risk {risk}"));
    for (label, text) in details(cmd, snap) {
        if label == "body" || label == "note" {
            // What is approved is what is posted: the line breaks are shown (a line that
            // reads `/close` on its own means something else run together with others).
            let pad = " ".repeat(label.len() + 5);
            for (i, l) in text.split('\n').take(80).enumerate() {
                let head = if i == 0 {
                    format!("   {label}: ")
                } else {
                    pad.clone()
                };
                out::eprintln(&format!("{head}{}", one_line(l, 400)));
            }
            continue;
        }
        out::eprintln(&format!("   {label}: {}", one_line(&text, 400)));
    }
}

/// Untrusted text on one line, control characters removed, secrets redacted, clipped.
fn one_line(s: &str, max: usize) -> String {
    crate::text::one_line(&crate::redact::redact(s), max)
}

fn plan_header(session: &str, project: &str, kind: String, target: String) -> RecordHeader {
    RecordHeader {
        time: jiff::Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        session: session.to_string(),
        item: 0,
        project: project.to_string(),
        kind,
        target,
    }
}

fn rejected_record(session: &str, project: &str, r: &RejectedItem) -> AuditRecord {
    let kind = r
        .kind
        .map(|k| k.to_string())
        .unwrap_or_else(|| "unknown".into());
    plan_header(session, project, kind, format!("plan item {}", r.index + 1)).with(
        AuditEvent::Proposal {
            source: Source::PlanFile.as_str().into(),
            risk: Risk::None,
            status: Status::Invalid.as_str().into(),
            reason: Some(r.error.to_string()),
            command: Value::String(r.raw.clone()),
        },
    )
}

/// The one record for every item past `MAX_PLAN_ITEMS`.
fn over_limit_record(session: &str, project: &str, n: usize) -> AuditRecord {
    plan_header(
        session,
        project,
        "unknown".into(),
        format!("plan items {}+", MAX_PLAN_ITEMS + 1),
    )
    .with(AuditEvent::Proposal {
        source: Source::PlanFile.as_str().into(),
        risk: Risk::None,
        status: Status::Invalid.as_str().into(),
        reason: Some(format!(
            "{n} item(s) over the limit of {MAX_PLAN_ITEMS} per plan: not considered"
        )),
        command: Value::Null,
    })
}

pub async fn run_audit(global: GlobalArgs, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&global)?;
    let path = audit::resolve_path(settings.file.audit.path.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !args.follow {
                out::eprintln(&format!("no audit log yet at {}", path.display()));
                return Ok(ExitCode::SUCCESS);
            }
            None
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let mut pos = 0u64;
    let mut line_no = 1usize;
    // Bytes, not text: a read may end inside a multi-byte character of a line still being written.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if file.is_none() {
            file = std::fs::File::open(&path).ok();
        }
        if let Some(f) = file.as_mut() {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < pos {
                // Truncated or replaced: start over.
                pos = 0;
                pending.clear();
            }
            if len > pos {
                f.seek(SeekFrom::Start(pos))?;
                let mut buf = Vec::new();
                f.take(len - pos).read_to_end(&mut buf)?;
                pos = len;
                pending.extend_from_slice(&buf);
                // Only complete lines; a half-written last line waits for its newline.
                for line in take_complete_lines(&mut pending) {
                    if !print_record(&mut out, line.trim_end(), line_no, args.json)? {
                        return Ok(ExitCode::SUCCESS);
                    }
                    line_no += 1;
                }
                if out.flush().is_err() {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        if !args.follow {
            let rest = String::from_utf8_lossy(&pending);
            if !rest.trim().is_empty() {
                print_record(&mut out, rest.trim_end(), line_no, args.json)?;
            }
            let _ = out.flush();
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Removes the complete (newline-terminated) lines from `pending` and decodes them; an
/// unfinished last line stays, bytes intact.
fn take_complete_lines(pending: &mut Vec<u8>) -> Vec<String> {
    let Some(last_nl) = pending.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    let done: Vec<u8> = pending.drain(..=last_nl).collect();
    let mut lines: Vec<String> = done
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    // `done` ends with a newline: the last piece is empty.
    lines.pop();
    lines
}

/// Prints one record; `false` once the reader has gone (a closed pipe).
fn print_record(out: &mut dyn Write, line: &str, n: usize, json: bool) -> anyhow::Result<bool> {
    if line.trim().is_empty() {
        return Ok(true);
    }
    match audit::parse_lines(line, n).pop() {
        Some(Ok(rec)) => {
            let text = if json {
                out::json(line)
            } else {
                out::human(&format_human(&rec))
            };
            if let Err(e) = writeln!(out, "{text}") {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(false);
                }
                return Err(e.into());
            }
        }
        Some(Err((n, e))) => out::eprintln(&format!(
            "audit log line {n} is unreadable: {}",
            crate::text::one_line(&e, 200)
        )),
        None => {}
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_inside_a_character_is_kept_whole_until_its_newline() {
        let line = "{\"summary\":\"héllo\"}\n".as_bytes();
        let cut = line.iter().position(|&b| b == 0xc3).unwrap() + 1;
        let mut pending = b"first\n".to_vec();
        pending.extend_from_slice(&line[..cut]);
        assert_eq!(take_complete_lines(&mut pending), ["first"]);
        pending.extend_from_slice(&line[cut..]);
        assert_eq!(
            take_complete_lines(&mut pending),
            ["{\"summary\":\"héllo\"}"]
        );
        assert!(pending.is_empty());
    }
}
