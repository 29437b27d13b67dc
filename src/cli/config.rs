//! `gitaiops config path|show|init`.

use std::process::ExitCode;

use crate::args::{ConfigCmd, GlobalArgs};
use crate::config::{Settings, config_path};

use super::out;

pub fn run(global: GlobalArgs, cmd: ConfigCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCmd::Path { json } => {
            let path = config_path(&global)?;
            if json {
                let v = serde_json::json!({"path": path, "exists": path.exists()});
                out::print_json(&serde_json::to_string(&v)?)?;
            } else {
                out::println(&path.display().to_string())?;
            }
        }
        ConfigCmd::Show { json } => {
            let settings = Settings::load(&global)?;
            if json {
                out::print_json(&serde_json::to_string_pretty(&settings.show_json())?)?;
            } else {
                out::print(&settings.render_show())?;
            }
        }
        ConfigCmd::Projects => {
            // Quiet: a shell is completing; warnings would land on the operator's prompt.
            if let Ok(settings) = Settings::load_with(&global, std::env::vars()) {
                for p in settings.projects().iter().filter(|p| !p.trim().is_empty()) {
                    out::println(p.trim())?;
                }
            }
        }
        ConfigCmd::Init { force, with_token } => {
            let path = config_path(&global)?;
            let token = if with_token {
                match std::env::var("GITLAB_TOKEN") {
                    Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
                    _ => {
                        return Err(crate::config::UsageError(
                            "--with-token writes $GITLAB_TOKEN, which is not set".into(),
                        )
                        .into());
                    }
                }
            } else {
                None
            };
            crate::config::template::write_new(&path, force, token.as_deref())?;
            out::eprintln(&format!(
                "wrote {} (mode 0600); `gitaiops config show` prints what is in force",
                path.display()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
