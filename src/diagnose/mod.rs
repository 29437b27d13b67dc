//! CI failure diagnosis: job-log parsing, error extraction, excerpts, rules and LLM diagnosis.

pub mod cli;
pub mod engine;
pub mod eval;
pub mod excerpt;
pub mod extract;
pub mod llm;
pub mod log;
pub mod model;
pub mod policy;
pub mod rules;
pub mod score;

pub use model::{Category, Diagnosis, Evidence, JobContext};

#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    /// A path under the shared reference folder: `$CARGO_MANIFEST_DIR/../shared`, else
    /// `/work/shared`.
    pub fn shared_path(rel: &str) -> PathBuf {
        let near = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let base = if near.is_dir() {
            near
        } else {
            PathBuf::from("/work/shared")
        };
        base.join(rel)
    }
}
