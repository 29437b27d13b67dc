//! `gitaiops config path|show`.

use std::process::ExitCode;

use crate::args::{ConfigCmd, GlobalArgs};
use crate::config::{Settings, config_path};

use super::out;

pub fn run(global: GlobalArgs, cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Path => {
            out::println(&config_path(&global)?.display().to_string())?;
        }
        ConfigCmd::Show => {
            let settings = Settings::load(&global)?;
            out::print(&settings.render_show())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
