//! Commands: the closed enum, validation, risk and policy, executor and audit log.

pub mod model;

pub use model::{Command, Kind, Plan, Target, plan_schema};

pub mod cli;
