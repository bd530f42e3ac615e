//! `auditbook check` as a CLI: exit codes, formats, messages outside an SMS.

use crate::support::*;

#[test]
fn outside_an_sms_exits_2_and_names_sms_yaml_and_init() {
    let dir = tempfile::tempdir().unwrap();
    let r = run({
        let mut c = auditbook();
        c.arg("check").arg(dir.path());
        c
    });
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("sms.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("auditbook init"), "{}", r.stderr);
}
