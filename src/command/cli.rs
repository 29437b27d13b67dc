use std::process::ExitCode;

use crate::cli::{ApplyArgs, AuditArgs, GlobalArgs};

pub async fn run_apply(_global: GlobalArgs, _args: ApplyArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("apply is not built yet")
}

pub async fn run_audit(_global: GlobalArgs, _args: AuditArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the audit log is not built yet")
}
