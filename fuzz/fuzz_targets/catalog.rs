//! Fuzz target `catalog`: see `auditbook_fuzz::catalog` for what it feeds and the invariants it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditbook_fuzz::catalog(data));
