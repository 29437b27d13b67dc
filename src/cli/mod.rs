//! The front ends: one function per subcommand, each resolving settings (config file,
//! environment, flags) and calling the layers below. Nothing below `cli` reads the config file,
//! the environment's settings or clap's types.

pub mod apply;
pub mod codeowners;
pub mod config;
pub mod diagnose;
pub mod exit;
pub mod exporter;
pub mod manual;
pub mod out;
pub mod plan;
#[cfg(feature = "sim")]
pub mod sim;
pub mod status;
pub mod tui;

use std::process::ExitCode;

use crate::args::{Cli, Cmd, ConfigCmd};

/// Dispatches a parsed command line. Every subcommand returns its exit code or an error that
/// `main` prints as one line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Generated from the clap definitions: no settings, no log, no runtime.
    match &cli.command {
        Some(Cmd::Completions(args)) => return manual::completions(args),
        Some(Cmd::Man(args)) => return manual::man(args),
        // A child of the TUI: no log of its own, no runtime, gone when its answer is written.
        Some(Cmd::DiagnoseWorker) => return diagnose::run_worker(),
        _ => {}
    }
    let global = cli.global;
    one_malloc_arena();
    // Whatever this process creates (logs, audit log, its key and lock) is the operator's alone.
    crate::paths::private_umask();
    // A file log for everything long-running or talking to a server; `config path` and the
    // `redact` filter have nothing worth logging. Without a usable state dir we run unlogged.
    let wants_log = !matches!(
        cli.command,
        Some(Cmd::Config(
            ConfigCmd::Path { .. } | ConfigCmd::Init { .. } | ConfigCmd::Projects
        )) | Some(Cmd::Redact)
    );
    let _log = wants_log.then(crate::logging::init).and_then(Result::ok);
    // Only the subcommand's name: its arguments may hold a token (`sim --token`).
    let name: &'static str = cli.command.as_ref().map_or("tui", |c| c.into());
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = name, "start");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            None => tui::run_live(global, cli.metrics).await,
            #[cfg(feature = "sim")]
            Some(Cmd::Demo(args)) => tui::run_demo(global, args).await,
            #[cfg(feature = "sim")]
            Some(Cmd::Sim(args)) => sim::run(args).await,
            #[cfg(not(feature = "sim"))]
            Some(Cmd::Demo(_) | Cmd::Sim(_)) => Err(without_sim(name)),
            Some(Cmd::Status(args)) => status::run(global, args).await,
            Some(Cmd::Config(cmd)) => config::run(global, cmd),
            Some(Cmd::Plan(args)) => plan::run_plan(global, args).await,
            Some(Cmd::Apply(args)) => apply::run_apply(global, args).await,
            Some(Cmd::Diagnose(args)) => diagnose::run_diagnose(global, args).await,
            Some(Cmd::Redact) => plan::run_redact(),
            Some(Cmd::Audit(args)) => apply::run_audit(global, args).await,
            Some(Cmd::Eval(cmd)) => diagnose::run_eval(global, cmd).await,
            Some(Cmd::Codeowners(args)) => codeowners::run_codeowners(args),
            Some(Cmd::Exporter(args)) => exporter::run(global, args).await,
            Some(Cmd::Completions(args)) => manual::completions(&args),
            Some(Cmd::Man(args)) => manual::man(&args),
            Some(Cmd::DiagnoseWorker) => diagnose::run_worker(),
        }
    })
}

/// One glibc heap for every thread. By default each thread that allocates gets its own arena,
/// and memory freed in one is not reused by another: the poller parses on a worker, the screen
/// draws on another, a diagnosis runs on a blocking thread, so each kept its own high-water
/// mark. Measured with `scripts/measure_memory.sh`: 2.6 MiB less RSS on the scenario project,
/// 6 MiB less at 1,000 open MRs. The threads rarely allocate at the same moment, so sharing one
/// lock costs nothing measurable.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it runs before this program starts
    // any thread (the log writer, the runtime).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// `demo` and `sim` in a build without the simulator (a jump-host build leaves it out).
#[cfg(not(feature = "sim"))]
fn without_sim(command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`gitaiops {command}` is not in this build: it was built without the simulator \
         (`--no-default-features`); a default build (`cargo build --release`) has it"
    )
}
