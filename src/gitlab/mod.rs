//! GitLab REST v4: typed models, the HTTP client, and the pollers that keep a snapshot fresh.

pub mod client;
pub mod delta;
pub mod deploys;
pub mod error;
pub mod models;
pub mod overview;
pub mod overview_poller;
pub mod poller;
pub mod quick_actions;
pub mod snapshot;
pub mod stats;
pub mod transport;

pub use client::{
    ClientConfig, GitlabClient, Listed, MrQuery, PageInfo, PipelineQuery, Trace, WriteResponse,
};
pub use deploys::{DeployFact, Deployments};
pub use error::GitlabError;
pub use models::*;
pub use snapshot::{DiffPages, ProjectKey, ProjectSnapshot};
