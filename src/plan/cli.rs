use std::process::ExitCode;

use crate::cli::{GlobalArgs, PlanArgs};

pub async fn run_plan(_global: GlobalArgs, _args: PlanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the planner is not built yet")
}

pub fn run_redact() -> anyhow::Result<ExitCode> {
    anyhow::bail!("redaction is not built yet")
}
