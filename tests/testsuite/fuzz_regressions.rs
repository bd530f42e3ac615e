//! The inputs kept from fuzzing (`tests/fuzz-regressions/<target>/`: every crash and timeout
//! reproducer `cargo fuzz` found, plus a small minimised corpus) run through the same code and
//! the same invariants as the fuzz targets, under plain `cargo test` (no nightly). The invariants
//! live in `fuzz/src/lib.rs`, included here, so the two can never drift apart.

#[path = "../../fuzz/src/lib.rs"]
mod checks;

use crate::support::repo_root;

/// Feed every kept input of `target` to `check`; fail with the names of the inputs that panic.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = repo_root().join("tests/fuzz-regressions").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no kept inputs in {}", dir.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).unwrap();
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} kept inputs break an invariant (messages above): {failed:?}",
        failed.len(),
        inputs.len()
    );
}

/// Frontmatter split, YAML block and `source::parse_document`.
#[test]
fn frontmatter() {
    replay("frontmatter", checks::frontmatter);
}

/// `source::parse_records`.
#[test]
fn records() {
    replay("records", checks::records);
}

/// `config::parse` (sms.yaml).
#[test]
fn sms_yaml() {
    replay("sms_yaml", checks::sms_yaml);
}

/// `catalog::parse` (user frameworks).
#[test]
fn catalog() {
    replay("catalog", checks::catalog);
}

/// `markdown::parse_body`, `classify`, `resolve_relative`.
#[test]
fn markdown_links() {
    replay("markdown_links", checks::markdown_links);
}

/// `site::html::render`: nothing executable survives the sanitiser.
#[test]
fn render() {
    replay("render", checks::render);
}
