//! What the tests and benches share: the hand-made project snapshot, an `AppState` built the way
//! the runtime builds it, paths of the shared fixtures, and the embedded simulator with a client
//! for it. One copy, used by unit tests, integration tests (`gitaiops::testkit`) and benches.
//!
//! Not part of the program: nothing outside tests and benches calls it.

// Test fixtures: a fixture that does not build is a bug in the test, which should stop there
// with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;
mod fixtures;
pub mod openmetrics;
#[cfg(feature = "sim")]
mod sim;
mod snapshot;

pub use app::{AppBuilder, app_state, press, press_all, propose, type_text};
pub use fixtures::{fixture_json, fixture_path, shared_path};
#[cfg(feature = "sim")]
pub use sim::{client, client_config, manual_config, manual_sim, start_sim, writes};
pub use snapshot::{NOW, deploys_to, discussions, now, snapshot};
