use std::process::ExitCode;

use crate::cli::{DiagnoseArgs, EvalCmd, GlobalArgs};

pub async fn run_diagnose(_global: GlobalArgs, _args: DiagnoseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("diagnosis is not built yet")
}

pub async fn run_eval(_global: GlobalArgs, _cmd: EvalCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("evaluation is not built yet")
}
