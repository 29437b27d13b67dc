//! Reviewer routing (CODEOWNERS, recent authors, review load) and MR triage signals.
