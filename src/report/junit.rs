//! `--format junit`: coverage and rules as test results, for CI dashboards (GitLab's merge-request
//! test summary, Jenkins, Azure DevOps).
//!
//! Two suites. `auditbook.clauses` has one test case per catalogue clause, failing when the
//! clause is not covered (partial or missing), with what it lacks; with several frameworks there
//! is one such suite per framework, `auditbook.clauses.<framework>`, primary first.
//! `auditbook.rules` has one test case per finding subject and code (classname
//! `auditbook.rules.<code>`), failing with one `<failure>` when the finding is at error level (with
//! `--base --fail-on new`, only when it is new), the other findings as `system-out`; a code with no
//! finding is one passing case.
//! The XML is written by hand (it is small) with full escaping; the shape is validated in the
//! tests against the Jenkins xUnit schema (`junit-10.xsd`).

use crate::check::Loaded;
use crate::codes;
use crate::diag::{Diagnostic, Severity};
use crate::gate::Gate;
use crate::model::Model;
use std::collections::HashMap;
use std::fmt::Write as _;

/// XML text (or attribute value) with markup escaped and characters XML 1.0 forbids replaced.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept through attribute-value normalisation.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    name: String,
    classname: String,
    failures: Vec<(String, String, String)>, // (type, message, text)
    out: Vec<String>,
}

fn suite(out: &mut String, name: &str, props: &[(&str, String)], cases: &[Case]) {
    let failures = cases.iter().filter(|c| !c.failures.is_empty()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">",
        escape(name),
        cases.len()
    );
    out.push_str("    <properties>\n");
    for (k, v) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape(k),
            escape(v)
        );
    }
    out.push_str("    </properties>\n");
    for c in cases {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
            escape(&c.name),
            escape(&c.classname)
        );
        if c.failures.is_empty() && c.out.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        for (kind, message, text) in &c.failures {
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape(kind),
                escape(message),
                escape(text)
            );
        }
        if !c.out.is_empty() {
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                escape(&c.out.join("\n"))
            );
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn describe(d: &Diagnostic, prefix: &str) -> String {
    let loc = super::ci::location(prefix, d);
    let mut s = format!(
        "{}:{}:{}: {}[{}]: {}",
        loc.path,
        loc.line,
        loc.column,
        d.severity.as_str(),
        d.code,
        d.message
    );
    if let Some(h) = &d.help {
        s.push_str("\nhelp: ");
        s.push_str(h);
    }
    s
}

/// A clause suite: name, properties, test cases.
type ClauseSuite<'p> = (String, Vec<(&'p str, String)>, Vec<Case>);

pub fn render(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    gate: Option<&Gate>,
) -> String {
    let prefix = super::ci::prefix(loaded);
    let catalog = model.catalog;
    let mut props = vec![
        ("organisation", loaded.config.organisation.clone()),
        ("framework", catalog.id.clone()),
        ("as_of", model.as_of.to_string()),
        (
            "tool",
            format!("{} {}", super::TOOL.name, super::TOOL.version),
        ),
    ];
    if let Some(g) = gate {
        props.push(("base", format!("{} ({})", g.rev, g.base_commit)));
        props.push(("fail_on", g.fail_on.as_str().to_string()));
    }

    // Clause findings by clause id (a subject is `<clause>` or `<clause>#<what>`).
    let mut by_clause: HashMap<&str, Vec<&Diagnostic>> = HashMap::new();
    for d in findings.iter().filter(|d| codes::is_whole_sms(d.code)) {
        let clause = d.subject.split('#').next().unwrap_or(&d.subject);
        by_clause.entry(clause).or_default().push(d);
    }
    let top_of = |id: &str| id.split('.').next().unwrap_or(id).to_string();
    let several = catalog.shown_frameworks() > 1;
    let clauses: Vec<(usize, Case)> = catalog
        .clauses
        .iter()
        .zip(&model.coverage)
        .map(|(cl, cov)| {
            let local = catalog.local_id(cl);
            let mut case = Case {
                name: format!("{} {}", cl.id, cl.title),
                classname: if cl.framework == 0 {
                    format!("auditbook.clauses.{}", top_of(local))
                } else {
                    format!(
                        "auditbook.clauses.{}.{}",
                        catalog.framework_of(cl).id,
                        top_of(local)
                    )
                },
                failures: Vec::new(),
                out: Vec::new(),
            };
            let status = cov.status.as_str();
            if !cov.status.is_covered() {
                let mut lacks: Vec<String> = by_clause
                    .get(cl.id.as_str())
                    .into_iter()
                    .flatten()
                    .map(|d| describe(d, &prefix))
                    .collect();
                if lacks.is_empty() && !cl.children.is_empty() {
                    let uncovered: Vec<&str> = cl
                        .children
                        .iter()
                        .filter(|c| model.coverage_of(c).is_some_and(|x| !x.status.is_covered()))
                        .map(String::as_str)
                        .collect();
                    lacks.push(format!("sub-clauses not covered: {}", uncovered.join(", ")));
                }
                case.failures.push((
                    status.to_string(),
                    format!("clause {} is {status}", cl.id),
                    lacks.join("\n"),
                ));
            } else if let Some(why) = &cov.excluded {
                case.out.push(format!(
                    "clause {} is excluded by the Statement of Applicability: {why}",
                    cl.id
                ));
            } else if !cov.current {
                case.out.push(format!(
                    "clause {} is covered, but a review is overdue",
                    cl.id
                ));
            }
            (cl.framework, case)
        })
        .collect();

    // One test case per (code, subject): dashboards that show only a case's first failure show
    // every finding. A code without findings is one passing case.
    let mut by_code: HashMap<&str, Vec<&Diagnostic>> = HashMap::new();
    for d in findings {
        by_code.entry(d.code).or_default().push(d);
    }
    let mut rules: Vec<Case> = Vec::new();
    for c in codes::CODES {
        let Some(found) = by_code.get(c.code) else {
            rules.push(Case {
                name: c.code.to_string(),
                classname: "auditbook.rules".to_string(),
                failures: Vec::new(),
                out: Vec::new(),
            });
            continue;
        };
        // Subjects in the findings' order (path, line), each once.
        let mut subjects: Vec<&str> = Vec::new();
        let mut of_subject: HashMap<&str, Vec<&Diagnostic>> = HashMap::new();
        for d in found {
            let v = of_subject.entry(d.subject.as_str()).or_default();
            if v.is_empty() {
                subjects.push(d.subject.as_str());
            }
            v.push(d);
        }
        for subject in subjects {
            let mut case = Case {
                name: format!("{} {subject}", c.code),
                classname: format!("auditbook.rules.{}", c.code),
                failures: Vec::new(),
                out: Vec::new(),
            };
            let (fail, pass): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
                of_subject[subject].iter().partition(|d| match gate {
                    Some(g) => g.fails(d),
                    None => d.severity == Severity::Error,
                });
            if let Some(first) = fail.first() {
                let text: Vec<String> = fail.iter().map(|d| describe(d, &prefix)).collect();
                case.failures
                    .push(("error".to_string(), first.message.clone(), text.join("\n")));
            }
            for d in pass {
                let mut line = describe(d, &prefix);
                if d.severity == Severity::Error {
                    line.push_str("\n(already at the base: does not fail the gate)");
                }
                case.out.push(line);
            }
            rules.push(case);
        }
    }

    // One clause suite per framework (`auditbook.clauses` alone when there is one), primary
    // first; each names its framework in its properties.
    let mut suites: Vec<ClauseSuite<'_>> = Vec::new();
    for (fi, case) in clauses {
        if suites
            .last()
            .is_none_or(|(_, p, _)| p[1].1 != catalog.frameworks[fi].id)
        {
            let f = &catalog.frameworks[fi];
            let mut p = props.clone();
            p[1].1 = f.id.clone();
            let name = if several {
                format!("auditbook.clauses.{}", f.id)
            } else {
                "auditbook.clauses".to_string()
            };
            suites.push((name, p, Vec::new()));
        }
        if let Some((_, _, cases)) = suites.last_mut() {
            cases.push(case);
        }
    }
    let failing = |v: &[Case]| v.iter().filter(|c| !c.failures.is_empty()).count();
    let clause_count: usize = suites.iter().map(|(_, _, c)| c.len()).sum();
    let clause_failing: usize = suites.iter().map(|(_, _, c)| failing(c)).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"auditbook\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"0\">",
        clause_count + rules.len(),
        clause_failing + failing(&rules)
    );
    for (name, p, cases) in &suites {
        suite(&mut out, name, p, cases);
    }
    if let Some(fi) = catalog.focus {
        props[1].1 = catalog.frameworks[fi].id.clone();
    }
    if several {
        props[1].1 = catalog
            .frameworks
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
    }
    suite(&mut out, "auditbook.rules", &props, &rules);
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_forbidden_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}\n"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}&#10;"
        );
    }
}
