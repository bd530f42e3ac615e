//! `--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`), the JSON
//! array of issues GitLab shows in the merge-request widget and the changes tab.
//!
//! Each finding is one issue: `description` (the message, then the help), `check_name` (the
//! code), `severity` (error → `major`, warning → `minor`, note → `info`), `location.path`
//! (repository-relative, as in the other CI formats) and `location.lines.begin`. GitLab compares
//! the reports of the merge request and its target by `fingerprint`, and drops issues whose
//! fingerprint repeats within one report: the fingerprint is the finding's own (code and
//! subject, stable across runs), with `-2`, `-3`… for a second or third finding of one subject,
//! so that nothing is hidden.
//!
//! Our own small serde structs, frozen by a test against the schema in `tests/schemas/`.

use super::ci;
use crate::check::Loaded;
use crate::diag::{Diagnostic, Severity};
use crate::gate::Gate;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Issue {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Note => "info",
    }
}

/// The report: issues in the order of the other CI formats (errors first).
pub fn render(loaded: &Loaded, findings: &[Diagnostic], gate: Option<&Gate>) -> String {
    let prefix = ci::prefix(loaded);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<Issue> = ci::ordered(findings, gate)
        .into_iter()
        .map(|d| {
            let loc = ci::location(&prefix, d);
            let mut description = match ci::framework_label(loaded, d) {
                Some(fw) => format!("[{fw}] {}", d.message),
                None => d.message.clone(),
            };
            if let Some(h) = &d.help {
                description.push_str(" (help: ");
                description.push_str(h);
                description.push(')');
            }
            let base = d.fingerprint();
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
            Issue {
                kind: "issue",
                description,
                check_name: d.code,
                fingerprint,
                severity: severity(d.severity),
                categories: ["Compliance"],
                location: Location {
                    path: loc.path,
                    lines: Lines { begin: loc.line },
                },
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_gitlab_levels() {
        assert_eq!(severity(Severity::Error), "major");
        assert_eq!(severity(Severity::Warning), "minor");
        assert_eq!(severity(Severity::Note), "info");
    }
}
