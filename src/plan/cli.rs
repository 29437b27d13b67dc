use std::io::{Read, Write};
use std::process::ExitCode;

use crate::cli::{GlobalArgs, PlanArgs};

pub async fn run_plan(_global: GlobalArgs, _args: PlanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the planner is not built yet")
}

/// `gitaiops redact`: stdin to stdout. Input is read whole because private key blocks span lines;
/// bytes that are not UTF-8 (CI logs are not always) are replaced rather than rejected.
pub fn run_redact() -> anyhow::Result<ExitCode> {
    let mut raw = Vec::new();
    std::io::stdin().lock().read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let out = super::redact::redact(&text);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
