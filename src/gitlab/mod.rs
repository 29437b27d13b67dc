//! GitLab REST v4: typed models, the HTTP client, and the pollers that keep a snapshot fresh.

pub mod models;
pub mod snapshot;

pub use models::*;
pub use snapshot::{ProjectKey, ProjectSnapshot};
pub mod status;
