//! gitaiops: a terminal mission-control for GitLab with a human-in-the-loop AI planner.
//!
//! Only `tui` touches the terminal; `app` is pure state and logic; everything else knows nothing
//! about the terminal.

pub mod app;
pub mod args;
pub mod cli;
pub mod command;
pub mod config;
pub mod diagnose;
pub mod driver;
pub mod gitlab;
pub mod llm;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod paths;
pub mod plan;
pub mod redact;
pub mod review;
#[cfg(feature = "sim")]
pub mod sim;
pub mod strict_json;
#[doc(hidden)]
pub mod testkit;
pub mod text;
pub mod tui;

pub use cli::run;
