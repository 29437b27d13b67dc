//! Embedded simulated GitLab: the REST subset and JSON shapes of GitLab v4 on a loopback port,
//! seeded from `assets/sim/scenario.json`. Used by the demo, by tests of the client and pollers,
//! and by the python-gitlab conformance script.

mod ci;
mod deploys;
pub mod faults;
mod http;
mod json;
pub mod logs;
mod mrs;
mod paginate;
mod repo;
mod routes;
mod scenario;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultKind, RequestRecord};

/// How scenario time moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimClock {
    /// Wall-clock time from the moment of start (the demo): pipelines progress by themselves.
    #[default]
    Real,
    /// Frozen at 2025-06-02T09:00:00Z; only `advance` moves it (tests).
    Manual,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    /// 0 = the scenario as written; N = N MRs and N pipelines (benchmarks).
    pub scale: usize,
    pub seed: u64,
    /// When set, only this token (Bearer or PRIVATE-TOKEN) is accepted; otherwise any or none.
    pub token: Option<String>,
    pub clock: SimClock,
    /// Which GitLab to imitate where editions differ (the approvals answer).
    pub edition: Edition,
    /// How many projects the instance serves: the scenario's `acme/platform` and its siblings
    /// in the `acme` group (`acme/billing`, `acme/web`, ...).
    pub projects: usize,
}

/// GitLab's editions, where their API answers differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Edition {
    /// Premium/Ultimate: approval rules, `approvals_required` and `approvals_left`.
    #[default]
    Ee,
    /// CE/FOSS: no approval rules; the approvals answer has only `approved`, `approved_by`,
    /// `user_has_approved` and `user_can_approve`, and approvals never block a merge.
    Ce,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            scale: 0,
            seed: 42,
            token: None,
            clock: SimClock::Real,
            edition: Edition::Ee,
            projects: 1,
        }
    }
}

/// The fixed start of the manual clock, so test output is reproducible.
pub const MANUAL_EPOCH_MS: i64 = 1_748_854_800_000;

/// Far enough for any scenario (about 1000 years), near enough that timestamps stay valid.
const MAX_OFFSET_MS: i64 = 1000 * 365 * 24 * 3600 * 1000;

pub(crate) struct Clock {
    anchor: i64,
    started: Instant,
    real: bool,
    offset: AtomicI64,
}

impl Clock {
    fn new(kind: SimClock) -> Clock {
        let (anchor, real) = match kind {
            SimClock::Real => (jiff::Timestamp::now().as_millisecond(), true),
            SimClock::Manual => (MANUAL_EPOCH_MS, false),
        };
        Clock {
            anchor,
            started: Instant::now(),
            real,
            offset: AtomicI64::new(0),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        let elapsed = if self.real {
            self.started.elapsed().as_millis() as i64
        } else {
            0
        };
        self.anchor
            .saturating_add(elapsed)
            .saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// `POST /-/sim/advance?seconds=1e300` must not overflow the clock (a panic in the handler):
    /// the offset saturates at `MAX_OFFSET_MS`.
    pub(crate) fn advance(&self, ms: i64) {
        let _ = self
            .offset
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(ms.max(0)).min(MAX_OFFSET_MS))
            });
    }
}

/// Most projects one simulated instance serves.
pub const MAX_PROJECTS: usize = 40;

pub(crate) struct Shared {
    /// The instance's projects, the scenario's first. Every request locks them all in this
    /// order (never in another, so two requests cannot deadlock).
    worlds: Vec<Mutex<state::World>>,
    clock: Clock,
    faults: Mutex<faults::FaultSet>,
    requests: Mutex<faults::RequestLog>,
    token: Option<String>,
    base_url: String,
    /// The rate-limit window: (minute since the epoch, requests counted in it).
    throttle: Mutex<(i64, u64)>,
}

impl Shared {
    /// Every project, locked in order; `None` when a lock is poisoned (a handler panicked).
    fn lock_worlds(&self) -> Option<Vec<std::sync::MutexGuard<'_, state::World>>> {
        self.worlds.iter().map(|w| w.lock().ok()).collect()
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    project_path: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Builds the scenario and serves it. Returns once the listener is bound.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let clock = Clock::new(cfg.clock);
    let mut worlds = Vec::new();
    for slot in 0..cfg.projects.clamp(1, MAX_PROJECTS) {
        worlds.push(scenario::build_project(
            cfg.seed,
            cfg.scale,
            clock.now(),
            slot,
        )?);
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    for world in &mut worlds {
        world.base_url = base_url.clone();
        if cfg.edition == Edition::Ce {
            world.set_ce();
        }
    }
    let project_path = worlds[0].project.path.clone();
    let shared = Arc::new(Shared {
        worlds: worlds.into_iter().map(Mutex::new).collect(),
        clock,
        faults: Mutex::new(faults::FaultSet::default()),
        requests: Mutex::new(faults::RequestLog::default()),
        token: cfg.token.filter(|t| !t.is_empty()),
        base_url,
        throttle: Mutex::new((0, 0)),
    });
    let app = axum::Router::new()
        .fallback(routes::handle)
        .with_state(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!("simulated GitLab stopped: {e}");
        }
    });
    Ok(SimHandle {
        shared,
        addr,
        project_path,
        stop: Some(stop),
        task: Some(task),
    })
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (no `/api/v4`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `acme/platform`.
    pub fn project_path(&self) -> String {
        self.project_path.clone()
    }

    /// The scenario clock now.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.shared.clock.now())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Moves scenario time forward (pipelines progress, pushes arrive).
    pub fn advance(&self, d: Duration) {
        self.shared.clock.advance(d.as_millis() as i64);
    }

    pub fn add_fault(&self, f: Fault) {
        if let Ok(mut set) = self.shared.faults.lock() {
            set.add(f);
        }
    }

    pub fn clear_faults(&self) {
        if let Ok(mut set) = self.shared.faults.lock() {
            set.clear();
        }
    }

    /// Every API request received so far (control endpoints excluded).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .requests
            .lock()
            .map(|l| l.all())
            .unwrap_or_default()
    }

    pub fn clear_requests(&self) {
        if let Ok(mut l) = self.shared.requests.lock() {
            l.clear();
        }
    }

    /// Requests other than GET/HEAD received so far: proof that nothing was written.
    pub fn write_count(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method != "GET" && r.method != "HEAD")
            .count()
    }

    /// Which MR iids, pipeline ids and job ids illustrate what (same JSON as
    /// `GET /-/sim/scenario`).
    pub fn describe(&self) -> serde_json::Value {
        let now = self.shared.clock.now();
        match self.shared.worlds[0].lock() {
            Ok(mut w) => {
                w.tick(now);
                scenario::describe(&w, now)
            }
            Err(_) => serde_json::Value::Null,
        }
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The listen address, refused unless it is loopback: this is a test server with no auth by
/// default and must not be reachable from the network.
pub fn loopback_addr(listen: &str) -> anyhow::Result<SocketAddr> {
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) if listen.starts_with("localhost:") => {
            let port = listen["localhost:".len()..]
                .parse::<u16>()
                .with_context(|| format!("invalid port in --listen {listen}"))?;
            SocketAddr::from(([127, 0, 0, 1], port))
        }
        Err(_) => anyhow::bail!("--listen {listen} is not an address like 127.0.0.1:8080"),
    };
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "--listen {addr} is not a loopback address; the simulator is a test server and only listens on 127.0.0.1 or ::1"
        );
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(loopback_addr("127.0.0.1:0").is_ok());
        assert!(loopback_addr("[::1]:8080").is_ok());
        assert_eq!(loopback_addr("localhost:9").unwrap().port(), 9);
        assert!(loopback_addr("0.0.0.0:80").is_err());
        assert!(loopback_addr("192.168.1.2:80").is_err());
        assert!(loopback_addr("nonsense").is_err());
    }

    #[test]
    fn manual_clock_only_moves_when_advanced() {
        let c = Clock::new(SimClock::Manual);
        assert_eq!(c.now(), MANUAL_EPOCH_MS);
        c.advance(1500);
        assert_eq!(c.now(), MANUAL_EPOCH_MS + 1500);
        c.advance(-10);
        assert_eq!(c.now(), MANUAL_EPOCH_MS + 1500);
        // What `/-/sim/advance?seconds=1e300` turns into: saturates instead of overflowing.
        c.advance(i64::MAX);
        c.advance(i64::MAX);
        assert_eq!(c.now(), MANUAL_EPOCH_MS + MAX_OFFSET_MS);
        assert!(jiff::Timestamp::from_millisecond(c.now()).is_ok());
    }
}
