//! The planner: snapshot builder, redaction, token budget, providers, strict parsing.

pub mod cli;
pub mod cost;
pub mod fence;
pub mod fetch;
pub mod gemini;
pub mod openai;
pub mod parse;
pub mod prompt;
pub mod provider;
pub mod redact;
pub mod rules;
pub mod run;
pub mod schema;
pub mod settings;
pub mod snapshot;
pub mod trigger;
