//! Embedded simulated GitLab: the REST subset and JSON shapes of GitLab v4 on a loopback port.

use std::process::ExitCode;

use crate::cli::SimArgs;

pub async fn run_cli(_args: SimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the simulator is not built yet")
}
