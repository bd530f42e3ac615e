//! The integration tests: one binary, a module per feature. Each test builds an SMS in a temporary
//! folder (see `support`), runs the real `auditbook` binary and asserts on its exit status and
//! output. See README.md in this folder.

mod support;

mod adopt;
mod adoption;
mod at;
mod attachments;
mod audit_programme;
mod before_control;
mod bundle;
mod catalog;
mod check_cli;
mod conformance;
mod formats;
mod frameworks;
mod fuzz_regressions;
mod gate;
mod history;
mod hostile;
mod hostile_io;
mod init;
mod mappings;
mod memo;
mod pdf;
mod progress;
mod records;
mod review_inputs;
mod rules;
mod schema;
mod search;
mod sign;
mod signatures;
mod site;
mod soa;
mod suspect;
mod todo;
mod wide_history;
