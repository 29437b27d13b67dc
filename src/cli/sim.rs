//! `gitaiops sim`: the simulated GitLab alone on a loopback port.

use std::io::Write;
use std::process::ExitCode;

use crate::args::SimArgs;
use crate::sim::{SimClock, SimConfig, loopback_addr, start};

/// `gitaiops sim`: prints the base URL as the first stdout line, serves until SIGINT/SIGTERM.
pub async fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let listen = loopback_addr(&args.listen)?;
    let handle = start(SimConfig {
        listen,
        scale: args.scale,
        seed: args.seed,
        token: args.token.clone(),
        clock: if args.frozen {
            SimClock::Manual
        } else {
            SimClock::Real
        },
        edition: match args.edition {
            crate::args::SimEdition::Ee => crate::sim::Edition::Ee,
            crate::args::SimEdition::Ce => crate::sim::Edition::Ce,
        },
        projects: args.projects.into(),
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handle.base_url())?;
        out.flush()?;
    }
    tracing::info!(url = %handle.base_url(), scale = args.scale, seed = args.seed, "simulated GitLab serving");
    wait_for_signal().await;
    handle.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
