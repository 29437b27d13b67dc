//! Test helpers shared by the crate's unit tests.

use std::path::PathBuf;

/// A path under the shared reference folder (fixtures, the LogDx corpus):
/// `$CARGO_MANIFEST_DIR/../shared` as CI lays it out, else `/work/shared`.
pub fn shared_path(rel: &str) -> PathBuf {
    let near = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let base = if near.is_dir() {
        near
    } else {
        PathBuf::from("/work/shared")
    };
    base.join(rel)
}
