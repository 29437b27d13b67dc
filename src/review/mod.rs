//! Reviewer routing (CODEOWNERS, recent authors, review load) and MR triage signals.
//!
//! - [`codeowners`]: parse GitLab `CODEOWNERS`, look up the owners of a path per section.
//! - [`route`]: rank reviewers for an MR from owners, recent authors and open review load;
//!   propose `assign_reviewers` with a rationale naming the evidence.
//! - [`triage`]: typed attention signals for open MRs (stale, conflicts, failing pipeline, ...).
//!
//! All pure: the caller fetches CODEOWNERS, commits and members; nothing here does IO.

pub mod codeowners;
pub mod route;
pub mod triage;
