//! The audit log: append-only JSONL, one record per proposal, decision and execution.
//!
//! Each record is one `write` of one line on a file opened with O_APPEND, followed by fsync,
//! before the caller shows the outcome: a crash (even `kill -9`) loses nothing already shown, and
//! concurrent writers (TUI and `apply` at once) never interleave within a line. Every string is
//! passed through redaction before it is written.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    /// The GitLab instance acted on (host[:port]); set on execution records, where it decides
    /// which earlier executions count as "already done".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<String>,
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

fn redact_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_value),
        Value::Object(o) => o.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// A command in the log's form (wire form, redacted on write).
pub fn command_value(cmd: &Command) -> Value {
    serde_json::to_value(cmd).unwrap_or(Value::Null)
}

/// One line of JSON for `rec`, redacted, without the newline.
pub fn encode(rec: &AuditRecord) -> io::Result<String> {
    let mut v = serde_json::to_value(rec).map_err(io::Error::other)?;
    redact_value(&mut v);
    serde_json::to_string(&v).map_err(io::Error::other)
}

/// The open log. Clones share the file; writes are serialised.
#[derive(Clone, Debug)]
pub struct AuditLog {
    inner: Arc<Mutex<File>>,
    path: Arc<PathBuf>,
}

impl AuditLog {
    /// Opens (creating with mode 0600, parent directories 0700) for appending.
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir).map_err(|e| annotate(e, dir))?;
        }
        let mut o = OpenOptions::new();
        o.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let file = o.open(path).map_err(|e| annotate(e, path))?;
        Ok(AuditLog {
            inner: Arc::new(Mutex::new(file)),
            path: Arc::new(path.to_path_buf()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        f.write_all(buf.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| annotate(e, &self.path))
    }
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

/// Identities of commands executed successfully (outcome `done`) at or after `since`: a plan
/// applied twice, or a restarted TUI, never repeats them.
/// Commands executed on `gitlab` (host[:port]) since `since`: the same project path and ids on
/// another instance (or another simulator) are other objects. Records without a host are
/// counted, so an older log errs on the side of not running twice.
pub fn done_identities(
    records: &[Result<AuditRecord, (usize, String)>],
    since: jiff::Timestamp,
    gitlab: &str,
) -> Vec<(String, String)> {
    records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| r.gitlab.as_deref().is_none_or(|h| h == gitlab))
        .filter_map(|r| match &r.event {
            AuditEvent::Execution {
                outcome, command, ..
            } if outcome == "done" => {
                let t: jiff::Timestamp = r.time.parse().ok()?;
                if t < since {
                    return None;
                }
                let cmd = super::parse::parse_command(command).ok()?;
                Some((cmd.identity(), r.time.clone()))
            }
            _ => None,
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
