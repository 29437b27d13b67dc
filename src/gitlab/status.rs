use std::process::ExitCode;

use crate::cli::{GlobalArgs, StatusArgs};

pub async fn run(_global: GlobalArgs, _args: StatusArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("status is not built yet")
}
