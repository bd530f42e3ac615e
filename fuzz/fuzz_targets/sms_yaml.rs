//! Fuzz target `sms_yaml`: see `auditbook_fuzz::sms_yaml` for what it feeds and the invariants it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditbook_fuzz::sms_yaml(data));
