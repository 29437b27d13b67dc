//! The planner: snapshot builder, redaction, token budget, providers, strict parsing.

pub mod cli;
pub mod redact;
