//! `gitaiops config path|show`.

use std::process::ExitCode;

use crate::args::{ConfigCmd, GlobalArgs};
use crate::config::{Settings, config_path};

pub fn run(global: GlobalArgs, cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Path => {
            println!("{}", config_path(&global)?.display());
        }
        ConfigCmd::Show => {
            let settings = Settings::load(&global)?;
            print!("{}", settings.render_show());
        }
    }
    Ok(ExitCode::SUCCESS)
}
