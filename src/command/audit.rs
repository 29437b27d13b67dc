//! The audit log: append-only JSONL, one record per proposal, decision and execution.
//!
//! Each append is one `write` on a file opened with O_APPEND under an advisory lock, followed by
//! fsync, before the caller shows the outcome: a crash (even `kill -9`) loses nothing already
//! shown, and concurrent writers (TUI and `apply` at once) never interleave within a line. A
//! record always starts on a new line (a line torn by a crash or a full disk is left alone, not
//! glued to), and a failed append is cut back off. Every string is passed through redaction
//! before it is written.
//!
//! Exactly once: an execution holds a second lock (`<log>.lock`) from the check "was this done
//! already?" to the record of what it did, so two processes cannot both run the same command.
//! The check compares a keyed hash of the unredacted command identity (`identity` in execution
//! records; the key lives beside the log in `<log>.key`, mode 0600), so a comment whose body was
//! redacted in the log still matches itself, and nothing secret can be recovered from the hash.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::Command;
use super::request::HttpRequest;
use super::risk::Risk;

/// Fields every record carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339, UTC.
    pub time: String,
    /// Random per process, so item numbers from different runs are told apart.
    pub session: String,
    /// Queue item number within the session.
    pub item: u64,
    pub project: String,
    pub kind: String,
    /// `!42`, `job 11`, `pipeline 100`.
    pub target: String,
    /// The GitLab instance acted on (its canonical origin; older records hold host[:port]); set
    /// on execution records, where it decides which earlier executions count as "already done".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<String>,
    /// Keyed hash of the unredacted command identity, with the project by id (execution
    /// records): what "already executed" compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(flatten)]
    pub event: AuditEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A command entered the queue (from the planner, the rules, the operator or a plan file).
    Proposal {
        source: String,
        risk: Risk,
        /// proposed, invalid or rejected (policy)
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        command: Value,
    },
    /// What the operator (or the policy, for auto-approval) decided.
    Decision {
        /// user@host, or `policy` for auto-approval
        operator: String,
        /// approve, reject, edit, confirm, decline, refuse, auto_approve
        decision: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The command as proposed, before any edit.
        original: Value,
        /// The command as decided (equal to `original` unless edited).
        command: Value,
    },
    /// What was sent and what came back.
    Execution {
        operator: String,
        /// done, failed, stale, refused
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        summary: String,
        duration_ms: u64,
        command: Value,
    },
}

impl AuditRecord {
    pub fn event_name(&self) -> &'static str {
        match self.event {
            AuditEvent::Proposal { .. } => "proposal",
            AuditEvent::Decision { .. } => "decision",
            AuditEvent::Execution { .. } => "execution",
        }
    }
}

/// Who is at the keyboard: `user@host`.
pub fn operator_id() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(login_name)
        .unwrap_or_else(|| "unknown".into());
    format!("{}@{}", user.trim(), hostname())
}

/// The login name for our uid from the password file, when no variable names the user.
fn login_name() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            (id == uid && !name.is_empty()).then(|| name.to_string())
        })
    }
    #[cfg(not(unix))]
    None
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A fresh session id (12 hex digits).
pub fn new_session_id() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// `audit.jsonl` in the state dir (`$GITAIOPS_STATE_DIR`, else `~/.local/state/gitaiops`).
pub fn default_path() -> io::Result<PathBuf> {
    crate::paths::state_dir()
        .map(|d| d.join("audit.jsonl"))
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{e:#}; set [audit] path in the config"),
            )
        })
}

/// The configured path, else the default.
pub fn resolve_path(configured: Option<&Path>) -> io::Result<PathBuf> {
    match configured {
        Some(p) if !p.as_os_str().is_empty() => Ok(p.to_path_buf()),
        _ => default_path(),
    }
}

/// Redaction of every string that enters the log: the planner's redactor, the single
/// implementation used for prompts, logs and the audit.
pub fn redact(s: &str) -> Cow<'_, str> {
    crate::redact::redact(s)
}

/// A command in the log's form (wire form, redacted on write).
pub fn command_value(cmd: &Command) -> Value {
    serde_json::to_value(cmd).unwrap_or(Value::Null)
}

/// One line of JSON for `rec`, redacted, without the newline.
pub fn encode(rec: &AuditRecord) -> io::Result<String> {
    let mut v = serde_json::to_value(rec).map_err(io::Error::other)?;
    crate::redact::redact_json(&mut v);
    serde_json::to_string(&v).map_err(io::Error::other)
}

/// How long an execution waits for another one (this process or another) to finish with the log.
pub const EXECUTION_LOCK_WAIT: Duration = Duration::from_secs(120);
/// Executions done this recently are never repeated (by `apply`, the TUI or the executor).
pub const REMEMBER_DONE: Duration = Duration::from_secs(24 * 3600);

/// The open log. Clones share the file; writes are serialised.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Mutex<File>>,
    path: Arc<PathBuf>,
    key: Arc<ring::hmac::Key>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Held from "was this done already?" to the record of the execution; dropping it unlocks.
#[derive(Debug)]
pub struct ExecutionLock {
    _file: File,
}

impl AuditLog {
    /// Opens (creating with mode 0600, parent directories 0700) for appending, with its
    /// identity key (created on first use).
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir).map_err(|e| annotate(e, dir))?;
        }
        let file = private_file(OpenOptions::new().read(true).append(true).create(true))
            .open(path)
            .map_err(|e| annotate(e, path))?;
        let key = load_or_create_key(&sibling(path, "key"))?;
        Ok(AuditLog {
            inner: Arc::new(Mutex::new(file)),
            path: Arc::new(path.to_path_buf()),
            key: Arc::new(key),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keyed hash of `cmd`'s identity, the project by id when known (0: by path).
    pub fn identity_hash(&self, cmd: &Command, project_id: u64) -> String {
        let identity = if project_id == 0 {
            cmd.identity()
        } else {
            cmd.identity_in_project(project_id)
        };
        let tag = ring::hmac::sign(&self.key, identity.as_bytes());
        format!("h1:{}", hex(&tag.as_ref()[..16]))
    }

    /// Waits (up to `wait`) until no other execution holds the log, then holds it.
    pub async fn lock_for_execution(&self, wait: Duration) -> io::Result<ExecutionLock> {
        let lock_path = sibling(&self.path, "lock");
        let file = private_file(OpenOptions::new().read(true).write(true).create(true))
            .open(&lock_path)
            .map_err(|e| annotate(e, &lock_path))?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ExecutionLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::WouldBlock,
                            format!(
                                "another execution has held {} for {}s",
                                lock_path.display(),
                                wait.as_secs()
                            ),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(annotate(e, &lock_path)),
            }
        }
    }

    /// When `cmd` (on `project_id` at the instance `origin`) was last executed with outcome
    /// `done` at or after `since`, per the log as it is now. Call it under `lock_for_execution`.
    pub fn executed_since(
        &self,
        cmd: &Command,
        project_id: u64,
        origin: &str,
        since: jiff::Timestamp,
    ) -> io::Result<Option<String>> {
        let records = read_all(&self.path)?;
        let hashes = [
            self.identity_hash(cmd, project_id),
            self.identity_hash(cmd, 0),
        ];
        let plain = cmd.identity();
        Ok(records
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| done_record(r, since, origin))
            .filter(|(r, c)| match &r.identity {
                Some(h) => hashes.contains(h),
                // Older records: the (redacted) command's own identity.
                None => c.as_ref().is_some_and(|c| c.identity() == plain),
            })
            .map(|(r, _)| r.time.clone())
            .next_back())
    }

    /// Writes one record and syncs it to disk before returning.
    pub fn append(&self, rec: &AuditRecord) -> io::Result<()> {
        self.append_all(std::slice::from_ref(rec))
    }

    /// Writes records (one line each, one `write` call) and syncs once.
    pub fn append_all(&self, recs: &[AuditRecord]) -> io::Result<()> {
        if recs.is_empty() {
            return Ok(());
        }
        let mut buf = String::new();
        for r in recs {
            buf.push_str(&encode(r)?);
            buf.push('\n');
        }
        let mut f = self
            .inner
            .lock()
            .map_err(|_| io::Error::other("audit log lock poisoned"))?;
        // Other processes append too: the file lock makes "look at the end, write, repair"
        // one step.
        f.lock().map_err(|e| annotate(e, &self.path))?;
        let result = append_locked(&mut f, buf.as_bytes(), |f, b| f.write_all(b));
        let _ = f.unlock();
        result.map_err(|e| annotate(e, &self.path))
    }
}

/// Appends `buf` on a new line, syncs, and on failure cuts the file back to where it was, so a
/// half-written record (a full disk) neither stays nor swallows the next one. `write` is the
/// raw write (replaced in tests to fail half-way).
fn append_locked(
    f: &mut File,
    buf: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let len = f.metadata()?.len();
    let mut data = Vec::with_capacity(buf.len() + 1);
    if len > 0 && last_byte(f, len)? != Some(b'\n') {
        // A line torn by a crash or an earlier failure: ours starts on the next line.
        data.push(b'\n');
    }
    data.extend_from_slice(buf);
    match write(f, &data).and_then(|()| f.sync_data()) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = f.set_len(len);
            let _ = f.sync_data();
            Err(e)
        }
    }
}

fn last_byte(f: &File, len: u64) -> io::Result<Option<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let mut b = [0u8; 1];
        let n = f.read_at(&mut b, len - 1)?;
        Ok((n == 1).then_some(b[0]))
    }
    #[cfg(not(unix))]
    {
        let _ = (f, len);
        Ok(Some(b'\n'))
    }
}

/// `<log>.<ext>` beside the log.
fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".{ext}"));
    path.with_file_name(name)
}

/// Options creating a file only its owner can read.
fn private_file(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// The identity key: 32 random bytes as hex, created once beside the log with mode 0600.
fn load_or_create_key(path: &Path) -> io::Result<ring::hmac::Key> {
    let parse = |text: &str| -> io::Result<ring::hmac::Key> {
        let bytes = unhex(text.trim())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "audit identity key {} is damaged (expected 64 hex digits)",
                        path.display()
                    ),
                )
            })?;
        Ok(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes))
    };
    match std::fs::read_to_string(path) {
        Ok(t) => return parse(&t),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(annotate(e, path)),
        Err(_) => {}
    }
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| io::Error::other("no system randomness for the audit identity key"))?;
    // Written whole to a private temporary file, then published with a hard link (which, unlike
    // a rename, never replaces an existing key): a second process starting at the same moment
    // sees either no key or a complete one, never an empty file.
    let tmp = path.with_extension(format!("key.tmp.{}", std::process::id()));
    let written = private_file(OpenOptions::new().write(true).create(true).truncate(true))
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(format!("{}\n", hex(&bytes)).as_bytes())?;
            f.sync_all()
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(annotate(e, path));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes)),
        // Another process published first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            parse(&std::fs::read_to_string(path).map_err(|e| annotate(e, path))?)
        }
        Err(e) => Err(annotate(e, path)),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn annotate(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("audit log {}: {e}", path.display()))
}

/// Reads every record; lines that do not parse (a torn last line after a power cut, a foreign
/// edit) are returned as errors with their line number instead of failing the whole read.
pub fn read_all(path: &Path) -> io::Result<Vec<Result<AuditRecord, (usize, String)>>> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(annotate(e, path)),
    };
    Ok(parse_lines(&text, 1))
}

pub fn parse_lines(text: &str, first_line: usize) -> Vec<Result<AuditRecord, (usize, String)>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<AuditRecord>(l).map_err(|e| (first_line + i, e.to_string()))
        })
        .collect()
}

/// An execution record with outcome `done` at or after `since` on the instance `origin`, with
/// its command when it parses. Records without a host are counted, so an older log errs on the
/// side of not running twice.
fn done_record<'a>(
    r: &'a AuditRecord,
    since: jiff::Timestamp,
    origin: &str,
) -> Option<(&'a AuditRecord, Option<Command>)> {
    let AuditEvent::Execution {
        outcome, command, ..
    } = &r.event
    else {
        return None;
    };
    if outcome != "done" {
        return None;
    }
    if !r.gitlab.as_deref().is_none_or(|h| same_gitlab(h, origin)) {
        return None;
    }
    let t: jiff::Timestamp = r.time.parse().ok()?;
    if t < since {
        return None;
    }
    Some((r, super::parse::parse_command(command).ok()))
}

/// `current` may be a canonical origin or a host[:port] (what older callers pass).
fn same_gitlab(recorded: &str, current: &str) -> bool {
    if current.contains("://") {
        return crate::net::same_instance(recorded, current);
    }
    // Only host[:port] is known: the hosts must agree, and the ports where both say one.
    match (
        crate::net::host_and_port(recorded),
        crate::net::host_and_port(current),
    ) {
        (Some((rh, rp)), Some((ch, cp))) => rh == ch && (rp.is_none() || cp.is_none() || rp == cp),
        _ => recorded == current,
    }
}

/// Identities of commands executed successfully (outcome `done`) at or after `since` on the
/// instance `gitlab` (a canonical origin, or host[:port]): a plan applied twice, or a restarted
/// TUI, never repeats them. The identity is that of the logged (redacted) command; commands
/// with a secret in their payload are matched by `done_among` and by the executor's own check.
pub fn done_identities(
    records: &[Result<AuditRecord, (usize, String)>],
    since: jiff::Timestamp,
    gitlab: &str,
) -> Vec<(String, String)> {
    records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|r| done_record(r, since, gitlab))
        .filter_map(|(r, c)| Some((c?.identity(), r.time.clone())))
        .collect()
}

/// Which of `candidates` (commands on the project `project_id`) were done at or after `since`
/// on `origin`, by keyed identity hash, so secrets in their payload do not hide them: (the
/// candidate's `identity()`, when).
pub fn done_among(
    log: &AuditLog,
    records: &[Result<AuditRecord, (usize, String)>],
    since: jiff::Timestamp,
    origin: &str,
    project_id: u64,
    candidates: &[&Command],
) -> Vec<(String, String)> {
    let done: Vec<(&AuditRecord, Option<Command>)> = records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|r| done_record(r, since, origin))
        .collect();
    candidates
        .iter()
        .filter_map(|c| {
            let hashes = [log.identity_hash(c, project_id), log.identity_hash(c, 0)];
            let plain = c.identity();
            done.iter()
                .rev()
                .find(|(r, rc)| match &r.identity {
                    Some(h) => hashes.contains(h),
                    None => rc.as_ref().is_some_and(|rc| rc.identity() == plain),
                })
                .map(|(r, _)| (plain, r.time.clone()))
        })
        .collect()
}

/// One human-readable line per record.
pub fn format_human(r: &AuditRecord) -> String {
    let head = format!(
        "{}  {}#{}  {:<9} {} {}",
        r.time,
        short_session(&r.session),
        r.item,
        r.event_name(),
        r.kind,
        r.target
    );
    let tail = match &r.event {
        AuditEvent::Proposal {
            source,
            risk,
            status,
            reason,
            ..
        } => {
            let mut s = format!("  risk {risk}, {status} (from {source})");
            if let Some(why) = reason {
                s.push_str(&format!(": {why}"));
            }
            s
        }
        AuditEvent::Decision {
            operator,
            decision,
            reason,
            original,
            command,
        } => {
            let mut s = format!("  {decision} by {operator}");
            if original != command {
                s.push_str(" (edited)");
            }
            if let Some(why) = reason {
                s.push_str(&format!(": {why}"));
            }
            s
        }
        AuditEvent::Execution {
            operator,
            outcome,
            method,
            path,
            status,
            summary,
            duration_ms,
            ..
        } => {
            let mut s = format!("  {outcome}");
            if let (Some(m), Some(p)) = (method, path) {
                s.push_str(&format!(" {m} {p}"));
            }
            if let Some(code) = status {
                s.push_str(&format!(" -> {code}"));
            }
            s.push_str(&format!(" in {duration_ms} ms by {operator}"));
            if !summary.is_empty() {
                s.push_str(&format!(": {summary}"));
            }
            s
        }
    };
    format!("{head}{tail}")
}

fn short_session(s: &str) -> String {
    let head: String = s.chars().take(6).collect();
    format!("{head}:")
}

/// Execution record for a request that was sent (or refused before sending).
#[allow(clippy::too_many_arguments)]
pub fn execution_record(
    header: RecordHeader,
    operator: &str,
    outcome: &str,
    request: Option<&HttpRequest>,
    status: Option<u16>,
    summary: &str,
    duration_ms: u64,
    cmd: &Command,
) -> AuditRecord {
    header.with(AuditEvent::Execution {
        operator: operator.to_string(),
        outcome: outcome.to_string(),
        method: request.map(|r| r.method.clone()),
        path: request.map(|r| r.path.clone()),
        status,
        summary: summary.to_string(),
        duration_ms,
        command: command_value(cmd),
    })
}

/// The common fields, filled in by whoever knows them.
#[derive(Debug, Clone)]
pub struct RecordHeader {
    pub time: String,
    pub session: String,
    pub item: u64,
    pub project: String,
    pub kind: String,
    pub target: String,
}

impl RecordHeader {
    pub fn for_command(
        time: jiff::Timestamp,
        session: &str,
        item: u64,
        cmd: &Command,
    ) -> RecordHeader {
        RecordHeader {
            time: time
                .round(jiff::Unit::Millisecond)
                .unwrap_or(time)
                .to_string(),
            session: session.to_string(),
            item,
            project: cmd.project().to_string(),
            kind: cmd.kind().to_string(),
            target: cmd.target().to_string(),
        }
    }

    pub fn with(self, event: AuditEvent) -> AuditRecord {
        AuditRecord {
            time: self.time,
            session: self.session,
            item: self.item,
            project: self.project,
            kind: self.kind,
            target: self.target,
            gitlab: None,
            identity: None,
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmd() -> Command {
        serde_json::from_value(
            json!({"kind": "comment_mr", "project": "g/app", "mr_iid": 42,
            "body": "token glpat-abcdefghijklmnopqrstuvwxyz here", "rationale": "r"}),
        )
        .unwrap()
    }

    fn rec(t: &str) -> AuditRecord {
        RecordHeader::for_command(t.parse().unwrap(), "abc123def456", 1, &cmd()).with(
            AuditEvent::Execution {
                operator: "me@host".into(),
                outcome: "done".into(),
                method: Some("POST".into()),
                path: Some("/api/v4/projects/1/merge_requests/42/notes".into()),
                status: Some(201),
                summary: "note 9 created".into(),
                duration_ms: 12,
                command: command_value(&cmd()),
            },
        )
    }

    #[test]
    fn records_round_trip_and_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(&rec("2026-01-02T03:04:05Z")).unwrap();
        log.clone().append(&rec("2026-01-02T03:04:06Z")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("glpat-abc"), "{text}");
        assert!(text.contains("[REDACTED"));
        let back = read_all(&path).unwrap();
        assert_eq!(back.len(), 2);
        let r = back[0].as_ref().unwrap();
        assert_eq!(r.event_name(), "execution");
        assert_eq!(r.target, "!42");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let line = format_human(r);
        assert!(
            line.contains("execution") && line.contains("-> 201"),
            "{line}"
        );
    }

    #[test]
    fn torn_lines_are_reported_not_fatal() {
        let good = encode(&rec("2026-01-02T03:04:05Z")).unwrap();
        let text = format!("{good}\n{{\"time\": \"2026-01-0");
        let parsed = parse_lines(&text, 1);
        assert!(parsed[0].is_ok());
        assert_eq!(parsed[1].as_ref().unwrap_err().0, 2);
    }

    #[test]
    fn done_identities_since() {
        let recs = vec![
            Ok(rec("2026-01-01T00:00:00Z")),
            Ok(rec("2026-01-03T00:00:00Z")),
            Err((3, "bad".into())),
        ];
        let ids = done_identities(&recs, "2026-01-02T00:00:00Z".parse().unwrap(), "h:1");
        assert_eq!(ids.len(), 1);
        let mut elsewhere = rec("2026-01-03T00:00:00Z");
        elsewhere.gitlab = Some("other:2".into());
        let since = "2026-01-02T00:00:00Z".parse().unwrap();
        assert!(done_identities(&[Ok(elsewhere.clone())], since, "h:1").is_empty());
        assert_eq!(done_identities(&[Ok(elsewhere)], since, "other:2").len(), 1);
        // The logged body was redacted, so the identity is that of the redacted command.
        assert!(ids[0].0.contains("comment_mr"));
    }

    #[test]
    fn a_record_after_a_torn_line_starts_on_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let good = encode(&rec("2026-01-02T03:04:05Z")).unwrap();
        // A crash (or a full disk) left half a record without its newline.
        std::fs::write(&path, format!("{good}\n{{\"time\": \"2026-01-0")).unwrap();
        let log = AuditLog::open(&path).unwrap();
        log.append(&rec("2026-01-02T03:04:06Z")).unwrap();
        let back = read_all(&path).unwrap();
        assert_eq!(back.len(), 3, "{back:?}");
        assert!(back[0].is_ok() && back[1].is_err());
        assert_eq!(back[2].as_ref().unwrap().time, "2026-01-02T03:04:06Z");
    }

    #[test]
    fn a_failed_append_is_cut_back_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(&rec("2026-01-02T03:04:05Z")).unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        // The disk fills half-way through the record.
        let e = append_locked(&mut f, b"{\"half\": \"a record\"}\n", |f, b| {
            f.write_all(&b[..b.len() / 2])?;
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device",
            ))
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "nothing half-written stays"
        );
        log.append(&rec("2026-01-02T03:04:07Z")).unwrap();
        assert!(read_all(&path).unwrap().iter().all(Result::is_ok));
    }

    #[test]
    fn the_identity_key_is_private_stable_and_secret_bodies_still_match() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let h = log.identity_hash(&cmd(), 3);
        assert!(h.starts_with("h1:") && h.len() == 35, "{h}");
        // Reopened (another process): the same key, the same hash.
        assert_eq!(AuditLog::open(&path).unwrap().identity_hash(&cmd(), 3), h);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("audit.jsonl.key");
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Another log, another key: hashes cannot be compared across logs or guessed.
        let other = AuditLog::open(&dir.path().join("other.jsonl")).unwrap();
        assert_ne!(other.identity_hash(&cmd(), 3), h);

        // The body holds a token: the log keeps it redacted, the check still finds the command.
        let mut r = rec("2026-01-03T00:00:00Z");
        r.gitlab = Some("http://127.0.0.1:4567".into());
        r.identity = Some(h);
        log.append(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("glpat-abcdef"), "{text}");
        let since = "2026-01-02T00:00:00Z".parse().unwrap();
        let found = log
            .executed_since(&cmd(), 3, "http://127.0.0.1:4567", since)
            .unwrap();
        assert_eq!(found.as_deref(), Some("2026-01-03T00:00:00Z"));
        // localhost is the same instance; another port is not.
        assert!(
            log.executed_since(
                &cmd(),
                3,
                &crate::net::canonical_origin("http://localhost:4567").unwrap(),
                since
            )
            .unwrap()
            .is_some()
        );
        assert!(
            log.executed_since(&cmd(), 3, "http://127.0.0.1:4568", since)
                .unwrap()
                .is_none()
        );
        // The plain identity of the redacted command does not match (why the hash is needed).
        let recs = read_all(&path).unwrap();
        let plain = done_identities(&recs, since, "http://127.0.0.1:4567");
        assert!(plain.iter().all(|(id, _)| *id != cmd().identity()));
        let among = done_among(&log, &recs, since, "http://127.0.0.1:4567", 3, &[&cmd()]);
        assert_eq!(among.len(), 1);
    }

    #[tokio::test]
    async fn the_execution_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
        let held = log
            .lock_for_execution(Duration::from_secs(1))
            .await
            .unwrap();
        // Another open (as another process would) cannot take it meanwhile.
        let other = AuditLog::open(log.path()).unwrap();
        let e = other
            .lock_for_execution(Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
        drop(held);
        assert!(
            other
                .lock_for_execution(Duration::from_secs(1))
                .await
                .is_ok()
        );
    }

    mod exactly_once {
        use super::*;
        use proptest::prelude::*;

        /// A spelling of the same command: project case and slashes, the instance by another
        /// loopback name, a secret in the body (redacted in the log).
        fn variant() -> impl Strategy<Value = (String, String, bool)> {
            (
                prop_oneof![Just("G/App"), Just("g/app"), Just("/g/APP/"), Just("G/app")],
                prop_oneof![
                    Just("http://127.0.0.1:4567"),
                    Just("http://localhost:4567"),
                    Just("http://[::1]:4567/"),
                    Just("http://LOCALHOST:4567/api/v4"),
                ],
                any::<bool>(),
            )
                .prop_map(|(p, o, secret)| (p.to_string(), o.to_string(), secret))
        }

        fn comment(project: &str, secret: bool) -> Command {
            let body = if secret {
                "deploy with glpat-Zz9Yy8Xx7Ww6Vv5Uu4Tt please"
            } else {
                "please rebase"
            };
            serde_json::from_value(json!({"kind": "comment_mr", "project": project,
                "mr_iid": 7, "body": body, "rationale": "r"}))
            .unwrap()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Whatever spelling recorded it and whatever spelling asks, a done command is
            /// found done; another payload or another instance is not.
            #[test]
            fn a_done_command_is_found_under_every_spelling(
                done in variant(), asked in variant(),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
                let done_cmd = comment(&done.0, done.2);
                let origin = crate::net::canonical_origin(&done.1).unwrap();
                let mut r = RecordHeader::for_command(jiff::Timestamp::now(), "s", 1, &done_cmd)
                    .with(AuditEvent::Execution {
                        operator: "me@h".into(), outcome: "done".into(), method: None,
                        path: None, status: Some(201), summary: String::new(),
                        duration_ms: 1, command: command_value(&done_cmd),
                    });
                r.gitlab = Some(origin);
                r.identity = Some(log.identity_hash(&done_cmd, 42));
                log.append(&r).unwrap();
                let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
                let asked_origin = crate::net::canonical_origin(&asked.1).unwrap();
                let same_payload = done.2 == asked.2;
                let found = log.executed_since(&comment(&asked.0, asked.2), 42, &asked_origin, since).unwrap();
                prop_assert_eq!(found.is_some(), same_payload);
                // Another instance never matches.
                let elsewhere = log.executed_since(&comment(&asked.0, asked.2), 42, "http://127.0.0.1:9999", since).unwrap();
                prop_assert!(elsewhere.is_none());
            }
        }
    }

    #[test]
    fn redaction_covers_common_formats() {
        for s in [
            "glpat-0123456789abcdefghij",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "AKIAABCDEFGHIJKLMNOP",
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
            "password=hunter22",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        ] {
            assert!(redact(s).contains("[REDACTED"), "{s}");
        }
        assert!(matches!(redact("merge !42 at 0a1b2c3d"), Cow::Borrowed(_)));
    }

    #[test]
    fn operator_is_user_at_host() {
        let op = operator_id();
        assert!(
            op.contains('@') && !op.starts_with('@') && !op.ends_with('@'),
            "{op}"
        );
    }
}
