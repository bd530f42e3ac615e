//! `--format sarif`: SARIF 2.1.0 for code-scanning upload (GitHub `upload-sarif`, GitLab, IDEs).
//!
//! One run; `tool.driver` carries one rule per finding code used, with the texts of
//! `crate::codes` (summary, explanation, help) and the level sms.yaml gives it. Each result has a
//! physical location relative to the repository root (`uriBaseId: %SRCROOT%`, region with
//! `startLine` and `startColumn` >= 1, columns in characters: `columnKind: unicodeCodePoints`) and
//! the finding's fingerprint as `partialFingerprints`, so a consumer recognises the same finding
//! across runs. With `--base`, `baselineState` says `new` (absent at the base) or `unchanged`; levels
//! stay what sms.yaml makes them (code scanning compares pull request and base by fingerprint).
//!
//! These are our own small serde structs (wire types), not a general SARIF model: the shape is
//! frozen by a test that validates it against the OASIS schema.

use super::ci;
use crate::check::Loaded;
use crate::codes;
use crate::diag::{Diagnostic, Severity};
use crate::gate::Gate;
use crate::model::Model;
use serde::Serialize;
use std::collections::BTreeMap;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of our fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "auditbook/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties<'a>>,
}

/// A result's property bag: the framework of a finding about a clause.
#[derive(Serialize)]
struct ResultProperties<'a> {
    framework: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    organisation: &'a str,
    framework: &'a str,
    as_of: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<BaseProperties<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BaseProperties<'a> {
    rev: &'a str,
    commit: &'a str,
    fail_on: &'static str,
}

fn level(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "error",
        Some(Severity::Warning) => "warning",
        Some(Severity::Note) => "note",
        None => "none",
    }
}

/// A repository-relative path as a URI reference: every byte outside the unreserved set and `/`
/// percent-encoded (so `a:b.md` cannot read as a scheme, and spaces are valid).
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `clause-undocumented` -> `ClauseUndocumented` (SARIF's `name` is a readable identifier).
fn rule_name(code: &str) -> String {
    code.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out = match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

pub fn render(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    gate: Option<&Gate>,
) -> String {
    let prefix = ci::prefix(loaded);
    // One rule per code used, in code order.
    let mut used: Vec<&'static str> = findings.iter().map(|d| d.code).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<Rule<'_>> = used
        .iter()
        .map(|&code| {
            let info = codes::lookup(code);
            let configured = match loaded.config.rules.get(code) {
                Some(l) => *l,
                None => info.map(|c| c.severity),
            };
            let summary = info.map_or(code, |c| c.summary);
            let explanation = info.map_or("", |c| c.explanation);
            let help = info.map_or("", |c| c.help);
            Rule {
                id: code,
                name: rule_name(code),
                short_description: Text {
                    text: sentence(summary),
                },
                full_description: Text {
                    text: explanation.to_string(),
                },
                help: Help {
                    text: format!("{} How to fix: {}. `auditbook explain {code}` says more.", explanation, help),
                    markdown: format!(
                        "{explanation}\n\n**How to fix:** {help}.\n\nChange its level in `sms.yaml`: `rules: {{ {code}: deny | warn | note | allow }}`; `auditbook explain {code}` says more."
                    ),
                },
                default_configuration: Configuration {
                    level: level(configured),
                },
            }
        })
        .collect();
    let results = findings
        .iter()
        .map(|d| {
            let loc = ci::location(&prefix, d);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let baseline_state = gate.map(|g| if g.is_new(d) { "new" } else { "unchanged" });
            SarifResult {
                rule_id: d.code.to_string(),
                rule_index: used.binary_search(&d.code).unwrap_or(0),
                level: level(Some(d.severity)),
                message: Text { text },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: uri(&loc.path),
                            uri_base_id: "%SRCROOT%",
                        },
                        region: Region {
                            start_line: loc.line,
                            start_column: loc.column,
                        },
                    },
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, d.fingerprint())]),
                baseline_state,
                properties: model
                    .framework_of_finding(d)
                    .map(|f| ResultProperties { framework: &f.id }),
            }
        })
        .collect();
    let info = option_env!("CARGO_PKG_REPOSITORY")
        .filter(|s| !s.is_empty())
        .or(option_env!("CARGO_PKG_HOMEPAGE").filter(|s| !s.is_empty()));
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: super::TOOL.name,
                    version: super::TOOL.version,
                    semantic_version: super::TOOL.version,
                    information_uri: info,
                    rules,
                },
            },
            results,
            column_kind: "unicodeCodePoints",
            properties: RunProperties {
                organisation: &loaded.config.organisation,
                framework: &model.catalog.id,
                as_of: model.as_of.to_string(),
                base: gate.map(|g| BaseProperties {
                    rev: &g.rev,
                    commit: &g.base_commit,
                    fail_on: g.fail_on.as_str(),
                }),
            },
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("sms/policies/a b.md"), "sms/policies/a%20b.md");
        assert_eq!(uri("a:b,c%.md"), "a%3Ab%2Cc%25.md");
        assert_eq!(uri("é.md"), "%C3%A9.md");
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(rule_name("clause-undocumented"), "ClauseUndocumented");
    }
}
