//! Mapping files (`mappings/*.yaml`) in the SMS: validated against the loaded frameworks, merged
//! with the built-in ones, shown on both clause pages as "related, see …" — and never coverage.

use crate::frameworks::two_frameworks;
use crate::support::*;

/// A user mapping between ISO/IEC 20000-1:2018 9.2 and the in-house baseline's 4.1.
const SEC_MAPPING: &str = r#"id: sms-to-sec
title: Our SMS audit and the security baseline
from: iso20000-1:2018
to: "sec:2024"
pairs:
  - from: "9.2"
    to: "4.1"
    relation: related
    note: The baseline's scope names the audited services.
"#;

fn clause<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no clause {id} in the JSON report"))
}

fn build(sms: &Sms, out: &std::path::Path) {
    let r = sms.run("build", &["--allow-dirty", "--out", out.to_str().unwrap()]);
    assert!(r.code <= 1, "{}{}", r.stdout, r.stderr);
}

/// A user mapping is read and shown on both clause pages, linking each other; the document that
/// cites 9.2 still covers nothing of the baseline.
#[test]
fn a_user_mapping_links_clause_pages_both_ways_and_confers_no_coverage() {
    let sms = two_frameworks();
    sms.file("mappings/sec.yaml", SEC_MAPPING);
    sms.file(
        "procedures/audit.md",
        &doc("PRO-AUD", &["9.2"], "", "Audit."),
    );
    let r = sms.check_json();
    assert!(r.findings("mapping-invalid").is_empty(), "{}", r.stdout);
    let j = r.json();
    assert_eq!(clause(&j, "9.2")["documents"][0], "PRO-AUD");
    assert_eq!(clause(&j, "sec:2024:4.1")["status"], "missing");
    assert_eq!(
        clause(&j, "sec:2024:4.1")["documents"],
        serde_json::json!([])
    );
    let undocumented: Vec<String> = r
        .findings("clause-undocumented")
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(undocumented.contains(&"sec:2024:4.1".to_string()));

    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    build(&sms, &site);
    let ours = std::fs::read_to_string(site.join("clauses/9.2.html")).unwrap();
    assert!(
        ours.contains("Related clauses of other frameworks"),
        "{ours}"
    );
    assert!(
        ours.contains("href=\"../clauses/sec_2024_4.1.html\""),
        "{ours}"
    );
    assert!(ours.contains("mapping <code>sms-to-sec</code>"), "{ours}");
    assert!(ours.contains("scope names the audited services."), "{ours}");
    let theirs = std::fs::read_to_string(site.join("clauses/sec_2024_4.1.html")).unwrap();
    assert!(theirs.contains("href=\"../clauses/9.2.html\""), "{theirs}");
    assert!(theirs.contains("never evidence"), "{theirs}");
    // the mapping file is not a document: no page, no finding about frontmatter
    assert!(r.findings("frontmatter-missing").is_empty());
    // a clause no mapping names has no such section
    let other = std::fs::read_to_string(site.join("clauses/8.5.1.1.html")).unwrap();
    assert!(!other.contains("Related clauses of other frameworks"));
}

/// An invalid user mapping is a `mapping-invalid` error at its file and line, and is skipped.
#[test]
fn an_invalid_user_mapping_is_reported_at_its_line_and_skipped() {
    let sms = two_frameworks();
    sms.file(
        "mappings/sec.yaml",
        &SEC_MAPPING.replace("to: \"4.1\"", "to: \"4.9\""),
    );
    sms.file(
        "mappings/other.yaml",
        "id: other\ntitle: Other\nfrom: iso20000-1:2018\nto: iso27001:2022\npairs:\n  - {from: \"9.2\", to: \"9.2.2\", relation: superset}\n",
    );
    let r = sms.check_json();
    assert_eq!(r.code, 1);
    let bad = r.findings("mapping-invalid");
    assert_eq!(bad.len(), 2, "{bad:#?}");
    let at = |path: &str| bad.iter().find(|f| f["path"] == path).unwrap().clone();
    let sec = at("mappings/sec.yaml");
    assert_eq!(sec["severity"], "error");
    assert_eq!(sec["line"], 7, "{sec}");
    assert!(sec["message"]
        .as_str()
        .unwrap()
        .contains("`4.9` is not a clause of sec:2024"));
    // a framework sms.yaml does not load
    let other = at("mappings/other.yaml");
    assert_eq!(other["line"], 4, "{other}");
    assert!(
        other["message"].as_str().unwrap().contains("not loaded"),
        "{other}"
    );

    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    build(&sms, &site);
    let page = std::fs::read_to_string(site.join("clauses/9.2.html")).unwrap();
    assert!(
        !page.contains("Related clauses of other frameworks"),
        "{page}"
    );
}

/// Two user files with one id: the second is an error and skipped.
#[test]
fn a_mapping_id_used_twice_is_an_error() {
    let sms = two_frameworks();
    sms.file("mappings/a.yaml", SEC_MAPPING);
    sms.file("mappings/b.yaml", SEC_MAPPING);
    let r = sms.check_json();
    let bad = r.findings("mapping-invalid");
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(bad[0]["path"], "mappings/b.yaml");
    assert!(bad[0]["message"]
        .as_str()
        .unwrap()
        .contains("already used by mappings/a.yaml"));
}

/// With ISO/IEC 27001 loaded, the built-in harmonised mapping shows 20000-1 9.2 and 27001 9.2.2
/// as related on each other's pages; citing 9.2 covers nothing of 27001. A user file with the
/// built-in mapping's id replaces it.
#[test]
fn builtin_mappings_show_related_clauses_and_a_user_file_replaces_them() {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services.\nframeworks: [iso20000-1:2018, iso27001:2022]\n",
    );
    sms.file(
        "procedures/audit.md",
        &doc("PRO-AUD", &["9.2"], "", "Audit."),
    );
    let r = sms.check_json();
    assert!(r.findings("mapping-invalid").is_empty());
    let j = r.json();
    assert_eq!(
        clause(&j, "iso27001:2022:9.2.2")["documents"],
        serde_json::json!([])
    );
    assert_eq!(clause(&j, "iso27001:2022:9.2.2")["documented"], false);

    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    build(&sms, &site);
    let ours = std::fs::read_to_string(site.join("clauses/9.2.html")).unwrap();
    assert!(
        ours.contains("href=\"../clauses/iso27001_2022_9.2.2.html\""),
        "{ours}"
    );
    assert!(ours.contains("<code>audit-programme</code>"), "{ours}");
    let theirs = std::fs::read_to_string(site.join("clauses/iso27001_2022_9.2.2.html")).unwrap();
    assert!(theirs.contains("href=\"../clauses/9.2.html\""), "{theirs}");

    // the user's file of the same id replaces the built-in mapping: 9.2 now relates to 27001 4.1
    sms.file(
        "mappings/harmonised.yaml",
        "id: harmonised-20000-1-2018-27001-2022\ntitle: Ours\nfrom: iso20000-1:2018\nto: iso27001:2022\npairs:\n  - {from: \"9.2\", to: \"4.1\", relation: related}\n",
    );
    let site2 = out.path().join("site2");
    build(&sms, &site2);
    let ours = std::fs::read_to_string(site2.join("clauses/9.2.html")).unwrap();
    assert!(ours.contains("iso27001_2022_4.1.html"), "{ours}");
    assert!(!ours.contains("iso27001_2022_9.2.2.html"), "{ours}");
}

/// The bundle's manifest lists the mappings in force — the built-in one between the loaded
/// frameworks and the SMS's own file — with the SHA-256 of each source; the file is in
/// `sources/` like any SMS file.
#[test]
fn the_bundle_manifest_lists_the_mappings_with_their_hashes() {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services.\nframeworks: [iso20000-1:2018, iso27001:2022, \"sec:2024\"]\n",
    );
    sms.file("frameworks/sec.yaml", crate::frameworks::SEC);
    sms.file("mappings/sec.yaml", SEC_MAPPING);
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let r = sms.run("bundle", &["--allow-dirty", "--out", zip.to_str().unwrap()]);
    assert!(r.code <= 1, "{}{}", r.stdout, r.stderr);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap();
    let maps = m["mappings"].as_array().unwrap();
    let ids: Vec<&str> = maps.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["harmonised-20000-1-2018-27001-2022", "sms-to-sec"]);
    let ours = &maps[1];
    assert_eq!(ours["source"], "mappings/sec.yaml");
    assert_eq!(ours["from"], "iso20000-1:2018");
    assert_eq!(ours["to"], "sec:2024");
    assert_eq!(ours["pairs"], 1);
    use sha2::Digest;
    let want: String = sha2::Sha256::digest(SEC_MAPPING.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(ours["sha256"], want.as_str());
    assert!(maps[0]["source"]
        .as_str()
        .unwrap()
        .starts_with("<built-in mappings/"));
    assert!(z.by_name("sources/mappings/sec.yaml").is_ok());
}
