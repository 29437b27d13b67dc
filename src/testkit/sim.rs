//! The embedded simulator on a loopback port, and a client for it.

use crate::gitlab::client::{ClientConfig, GitlabClient};
use crate::sim::{SimClock, SimConfig, SimHandle};

/// The default scenario with the clock stopped (only `advance` moves it); change fields with
/// `SimConfig { scale: 1000, ..manual_config() }`.
pub fn manual_config() -> SimConfig {
    SimConfig {
        clock: SimClock::Manual,
        ..SimConfig::default()
    }
}

/// The simulator on a loopback port.
pub async fn start_sim(config: SimConfig) -> SimHandle {
    crate::sim::start(config)
        .await
        .expect("the simulator starts on loopback")
}

/// The default scenario with the clock stopped.
pub async fn manual_sim() -> SimHandle {
    start_sim(manual_config()).await
}

/// A client configuration for `sim` (no proxy); change fields with `..client_config(&sim)`.
pub fn client_config(sim: &SimHandle) -> ClientConfig {
    ClientConfig {
        base_url: sim.base_url(),
        no_proxy: true,
        ..ClientConfig::default()
    }
}

pub fn client(sim: &SimHandle) -> GitlabClient {
    GitlabClient::new(client_config(sim)).expect("a client for the simulator")
}

/// Every request the simulator received that could change something, oldest first:
/// `("POST", "/api/v4/projects/1/jobs/30103/retry")`.
pub fn writes(sim: &SimHandle) -> Vec<(String, String)> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.method != "HEAD")
        .map(|r| (r.method, r.path))
        .collect()
}
