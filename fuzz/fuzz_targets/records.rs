//! Fuzz target `records`: see `auditbook_fuzz::records` for what it feeds and the invariants it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditbook_fuzz::records(data));
