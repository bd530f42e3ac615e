//! `auditbook schema`: the JSON Schemas shipped under schemas/ are exactly what the command
//! prints (so they cannot drift from the parser they are made from), and the sample SMS — its
//! sms.yaml, every document's frontmatter, every record file — validates against them with a
//! real validator (Python `jsonschema`, which .ci/run installs). A wrong type fails.

use crate::support::*;
use auditbook::markdown::{self, Split};
use auditbook::yaml::{self, Node, Value as Yaml};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const WHICH: [(&str, &str); 3] = [
    ("sms", "sms.schema.json"),
    ("frontmatter", "frontmatter.schema.json"),
    ("record", "record.schema.json"),
];

fn schema_text(which: &str) -> String {
    let mut c = auditbook();
    c.args(["schema", which]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// A YAML node as JSON, typed as an editor (YAML 1.2 core schema) types it: plain `true` is a
/// boolean, plain `12` a number, plain `2026-01-05` a string.
fn to_json(node: &Node) -> Value {
    match &node.value {
        Yaml::Scalar { text, plain } => {
            if !plain {
                return Value::String(text.clone());
            }
            if node.is_null() {
                return Value::Null;
            }
            match text.as_str() {
                "true" | "True" | "TRUE" => return Value::Bool(true),
                "false" | "False" | "FALSE" => return Value::Bool(false),
                _ => {}
            }
            if yaml::looks_numeric(text) {
                if let Ok(n) = text.parse::<i64>() {
                    return Value::from(n);
                }
                if let Ok(f) = text.parse::<f64>() {
                    return Value::from(f);
                }
            }
            Value::String(text.clone())
        }
        Yaml::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
    }
}

fn yaml_json(text: &str) -> Value {
    let text = markdown::normalise(text);
    let node = yaml::parse(&text, yaml::Limits::default())
        .expect("valid YAML")
        .expect("not empty");
    to_json(&node)
}

/// Validate each (name, instance) against the schema file with Python's `jsonschema`; returns
/// the error lines (empty when every instance is valid).
fn validate(schema: &Path, instances: &[(String, Value)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("instances.json");
    let as_json: Vec<Value> = instances
        .iter()
        .map(|(n, v)| serde_json::json!([n, v]))
        .collect();
    std::fs::write(&list, serde_json::to_vec(&as_json).unwrap()).unwrap();
    let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\ncls = jsonschema.validators.validator_for(schema)\ncls.check_schema(schema)\nv = cls(schema)\nfor name, doc in json.load(open(sys.argv[2])):\n    for e in v.iter_errors(doc):\n        print(f'{name}: {list(e.absolute_path)}: {e.message}')\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema)
        .arg(&list)
        .output()
        .expect("python3 is needed to validate JSON (.ci/run installs python3-jsonschema)");
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

fn schema_file(name: &str) -> std::path::PathBuf {
    repo_root().join("schemas").join(name)
}

/// The shipped schemas are byte for byte what `auditbook schema` prints; `schema` with no
/// argument prints the sms.yaml one.
#[test]
fn shipped_schemas_equal_the_printed_ones() {
    for (which, file) in WHICH {
        let shipped = std::fs::read_to_string(schema_file(file))
            .unwrap_or_else(|e| panic!("schemas/{file}: {e}"));
        assert_eq!(
            shipped,
            schema_text(which),
            "schemas/{file} is stale: run `auditbook schema {which} > schemas/{file}`"
        );
    }
    let mut c = auditbook();
    c.arg("schema");
    assert_eq!(run(c).stdout, schema_text("sms"));
    let mut c = auditbook();
    c.args(["schema", "nonsense"]);
    assert_eq!(run(c).code, 2);
}

/// The sample's sms.yaml, the frontmatter of each of its documents and each of its record
/// files are valid.
#[test]
fn the_sample_validates_against_the_schemas() {
    let sample = repo_root().join("sample-sms");
    let sms = vec![(
        "sms.yaml".to_string(),
        yaml_json(&std::fs::read_to_string(sample.join("sms.yaml")).unwrap()),
    )];
    let mut docs = Vec::new();
    let mut records = Vec::new();
    for entry in walkdir::WalkDir::new(&sample).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&sample).unwrap();
        let rel_s = rel.to_string_lossy().to_string();
        if !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if rel_s.ends_with(".md") {
            let text = markdown::normalise(&text);
            if let Split::Found { yaml, .. } = markdown::split(&text) {
                docs.push((rel_s, yaml_json(yaml)));
            }
        } else if rel.starts_with("records") && rel_s.ends_with(".yaml") {
            records.push((rel_s, yaml_json(&text)));
        }
    }
    assert!(docs.len() >= 40, "{} documents", docs.len());
    assert!(records.len() >= 100, "{} record files", records.len());
    for (file, instances) in [
        ("sms.schema.json", &sms),
        ("frontmatter.schema.json", &docs),
        ("record.schema.json", &records),
    ] {
        let errors = validate(&schema_file(file), instances);
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
    }
}

/// Validate the cases in one run of the validator; each must give an error.
fn each_fails(schema: &str, cases: &[(&str, Value)]) {
    let named: Vec<(String, Value)> = cases
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    let errors = validate(&schema_file(schema), &named);
    for (what, _) in cases {
        let prefix = format!("{what}: ");
        assert!(
            errors.iter().any(|e| e.starts_with(&prefix)),
            "{what} passes {schema}; errors: {errors:#?}"
        );
    }
}

/// Wrong types, unknown keys and missing required fields fail validation, each where the
/// parser gives a finding too.
#[test]
fn wrong_values_fail_validation() {
    let sms = |extra: &str| {
        yaml_json(&format!(
            "organisation: A\nscope: B\nframework: iso20000-1:2018\n{extra}"
        ))
    };
    let cases = [
        ("review_interval", sms("review_interval: [12, months]\n")),
        ("people", sms("people: {id: x}\n")),
        ("limits", sms("limits:\n  max_documents: -3\n")),
        ("version_scheme", sms("version_scheme: semver\n")),
        ("rules", sms("rules:\n  no-such-code: deny\n")),
        ("unknown key", sms("colour: blue\n")),
        ("both frameworks", sms("frameworks: [iso27001:2022]\n")),
        (
            "no organisation",
            yaml_json("scope: B\nframework: iso20000-1:2018\n"),
        ),
    ];
    each_fails("sms.schema.json", &cases);
    // The same wrong type is a finding of the parser.
    let bad = Sms::with_config(&format!("{MINIMAL_CONFIG}review_interval: [12, months]\n"));
    assert!(bad
        .check_json()
        .codes()
        .contains(&"field-invalid".to_string()));

    let doc = |text: &str| yaml_json(text);
    let fm = [
        (
            "bad status",
            doc("id: A\ntitle: T\ntype: policy\nowner: o\nversion: \"1\"\nstatus: done\n"),
        ),
        (
            "approved without approver",
            doc("id: A\ntitle: T\ntype: policy\nowner: o\nversion: \"1\"\nstatus: approved\napproved: 2026-01-05\n"),
        ),
        (
            "bad date",
            doc("id: A\ntitle: T\ntype: policy\nowner: o\nversion: \"1\"\nstatus: draft\nnext_review: 5 March\n"),
        ),
    ];
    each_fails("frontmatter.schema.json", &fm);
    let rec = [
        (
            "incident without status",
            yaml_json("id: INC-1\nkind: incident\ndate: 2026-01-05\ntitle: T\n"),
        ),
        (
            "a list with a stray key",
            yaml_json(
                "records:\n  - id: X\n    kind: k\n    date: 2026-01-05\n    title: T\nother: 1\n",
            ),
        ),
        (
            "a review period that is not {from, to}",
            yaml_json("id: MR-1\nkind: management-review\ndate: 2026-01-05\ntitle: T\nattendees: [A]\nperiod: \"2026\"\n"),
        ),
        (
            "a review input with an unknown key",
            yaml_json("id: MR-1\nkind: management-review\ndate: 2026-01-05\ntitle: T\nattendees: [A]\ninputs:\n  resources: {sumary: x}\n"),
        ),
    ];
    each_fails("record.schema.json", &rec);
}
