//! auditbook: ISO/IEC 20000-1 compliance as a build step.
//!
//! The crate is a pipeline of plain phases, each a module with a small typed interface:
//! `config` -> `catalog` -> `snapshot` -> `source` -> (`history`) -> `model` -> `rules` -> `report`.
//! `check` runs them all and returns the findings; the binary in `main.rs` is a thin front end.

pub mod adopt;
pub mod bundle;
pub mod catalog;
pub mod catalog_print;
pub mod changes;
pub mod check;
pub mod ci_templates;
pub mod cli;
pub mod codes;
pub mod config;
pub mod dates;
pub mod diag;
pub mod fields;
pub mod gate;
pub mod history;
pub mod ids;
pub mod init;
pub mod keys;
pub mod markdown;
pub mod memo;
pub mod model;
pub mod pdf;
pub mod portable;
pub mod progress;
pub mod record_fields;
pub mod regular;
pub mod report;
pub mod review;
pub mod rules;
pub mod safe_text;
pub mod sample;
pub mod schema;
pub mod site;
pub mod snapshot;
pub mod soa;
pub mod source;
pub mod suspect;
pub mod tabular;
pub mod todo;
pub mod yaml;
