//! The planner: snapshot builder, redaction, token budget, providers, strict parsing.

pub mod cli;
pub mod fence;
pub mod prompt;
pub mod redact;
pub mod schema;
pub mod snapshot;
