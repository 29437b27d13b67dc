//! The shared reference folder (real API payloads, the LogDx corpus), found beside the
//! repository as CI lays it out (`../shared`), else at `/work/shared`.

use std::path::PathBuf;

use serde_json::Value;

/// A path under the shared folder: `shared_path("eval/logdx")`.
pub fn shared_path(rel: &str) -> PathBuf {
    let near = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let base = if near.is_dir() {
        near
    } else {
        PathBuf::from("/work/shared")
    };
    base.join(rel)
}

/// A path under `fixtures/`: `fixture_path("gitlab/jobs.json")`.
pub fn fixture_path(rel: &str) -> PathBuf {
    shared_path("fixtures").join(rel)
}

/// A JSON fixture, parsed: `fixture_json("llm/gemini/generate-content-success.json")`.
pub fn fixture_json(rel: &str) -> Value {
    let path = fixture_path(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
