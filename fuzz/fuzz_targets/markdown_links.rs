//! Fuzz target `markdown_links`: see `auditbook_fuzz::markdown_links` for what it feeds and the invariants it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditbook_fuzz::markdown_links(data));
