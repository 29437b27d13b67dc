//! Commands: the closed enum, validation, risk and policy, executor and audit log.

pub mod audit;
pub mod executor;
pub mod model;
pub mod operator;
pub mod parse;
pub mod policy;
pub mod queue;
pub mod request;
pub mod restore;
pub mod risk;
pub mod validate;

pub use model::{Command, Kind, Plan, Target, plan_schema};
pub use parse::{ParseError, parse_command, parse_plan};
pub use policy::{Mode, Policy};
pub use queue::{Queue, QueueItem, Source, Status};
pub use risk::{Risk, risk};
pub use validate::validate;
