//! CI failure diagnosis: job-log parsing, error extraction, excerpts, rules and LLM diagnosis.

pub mod cli;
pub mod score;
