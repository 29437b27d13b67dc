//! The planner: snapshot builder, redaction, token budget, providers, strict parsing.

pub mod cli;
pub mod fence;
pub mod gemini;
pub mod openai;
pub mod parse;
pub mod prompt;
pub mod provider;
pub mod redact;
pub mod rules;
pub mod schema;
pub mod snapshot;
