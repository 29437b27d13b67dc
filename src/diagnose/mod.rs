//! CI failure diagnosis: job-log parsing, error extraction, excerpts, rules and LLM diagnosis.

pub mod boilerplate;
pub mod brief;
pub mod cause;
pub mod corpus;
pub mod engine;
pub mod eval;
pub mod excerpt;
pub mod extract;
pub mod gate;
pub mod llm;
pub mod log;
pub mod model;
pub mod policy;
pub mod rules;
pub mod score;
pub mod secrets;
pub mod worker;

pub use model::{Category, Diagnosis, Evidence, JobContext};
