//! Terminal setup and teardown: raw mode and the alternate screen (no mouse capture: text
//! selection over SSH keeps working), restored by a Drop guard, by the panic hook, on signals
//! and around Ctrl-Z.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;

/// A frame is written in one go: the whole diff goes out in a single `write` on flush.
/// crossterm's backend, speaking classic SGR on terminals with fewer than 256 colours.
pub type Backend = super::sgr::DepthBackend<BufWriter<Stdout>>;

/// Whether our modes are on, so that restoring twice (guard, hook, signal) is harmless.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Woken by the panic hook. A panic on a background task (a parser, a poller) must not leave the
/// UI drawing on a restored terminal: the event loop ends the session instead.
pub static PANICKED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Enters raw mode and the alternate screen.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen)?;
    Ok(())
}

/// Leaves the alternate screen and raw mode. Errors are ignored: when the tty is gone there
/// is nothing left to restore, and this must never fail a shutdown.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, LeaveAlternateScreen, Show);
        let _ = out.flush();
        let _ = disable_raw_mode();
    }
}

/// Restores the terminal before the default panic message is printed, and logs the panic
/// (with a backtrace) to the log file. Installed once, before entering raw mode.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            let bt = std::backtrace::Backtrace::force_capture();
            tracing::error!(panic = %info, backtrace = %bt, "panic");
            previous(info);
            PANICKED.notify_one();
        }));
    });
}

/// Owns the terminal session: restores on drop, whatever the exit path.
pub struct TerminalGuard {
    pub terminal: Terminal<Backend>,
}

impl TerminalGuard {
    pub fn new() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enter()?;
        let backend = super::sgr::DepthBackend::new(
            BufWriter::with_capacity(1 << 16, io::stdout()),
            super::theme::depth_from_env(),
        );
        match Terminal::new(backend) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Hands the terminal back to the shell, stops the process (SIGTSTP, as the shell's
    /// Ctrl-Z would), and takes the terminal again when continued (`fg`).
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        #[cfg(unix)]
        {
            let _ = signal_hook::low_level::raise(signal_hook::consts::SIGTSTP);
        }
        enter()?;
        self.terminal.clear()?;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
