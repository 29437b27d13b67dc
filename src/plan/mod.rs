//! The planner: snapshot builder, redaction, token budget, providers, strict parsing.
//!
//! Flow of one run (`run::Planner::plan`): `snapshot::build_context` renders the project into a
//! budgeted text (untrusted text cleaned and fenced by `fence`), `prompt::build_prompt` wraps it
//! in the templates of `assets/prompts/` with the response schema of `schema`; a provider
//! (`gemini`, `openai`) answers, or `rules` plans offline; `parse::check_answer` accepts it item
//! by item through `command::parse_plan` and `command::validate`, with at most one corrective
//! re-ask. Results are proposals; nothing here executes. `trigger` decides when to run,
//! `settings` which planner, `cost` what it cost, `fetch` reads a snapshot for `gitaiops plan`.

pub mod fence;
pub mod fetch;
pub mod parse;
pub mod prompt;
pub mod rules;
pub mod run;
pub mod schema;
pub mod security;
pub mod settings;
pub mod snapshot;
pub mod trigger;
