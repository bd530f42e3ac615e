//! What the CI formats (github, sarif, junit, gitlab) share: repository-relative locations and the order
//! in which findings are shown.
//!
//! Machine formats use paths relative to the git repository's root (the SMS may be a sub-folder;
//! outside git, relative to the SMS root), `/`-separated, and 1-based character columns. A finding
//! about the SMS as a whole has no file of its own: it goes on `sms.yaml:1:1` (with `--base`, the
//! gate has already moved a clause finding onto the file whose change caused it).

use crate::check::Loaded;
use crate::config::FILE_NAME;
use crate::diag::Diagnostic;
use crate::gate::Gate;

/// Where a finding is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

/// The SMS root relative to the repository root, with a trailing `/` (empty at the top or
/// outside git).
pub fn prefix(loaded: &Loaded) -> String {
    match &loaded.history {
        Some(h) => {
            let p = h.prefix.trim_matches('/');
            if p.is_empty() {
                String::new()
            } else {
                format!("{p}/")
            }
        }
        None => String::new(),
    }
}

/// A repository-relative path for an SMS-relative one.
pub fn repo_path(prefix: &str, sms_path: &str) -> String {
    format!("{prefix}{sms_path}")
}

pub fn location(prefix: &str, d: &Diagnostic) -> Location {
    let path = d.path.as_deref().unwrap_or(FILE_NAME);
    let (line, column) = d.pos.map_or((1, 1), |p| (p.line.max(1), p.col.max(1)));
    Location {
        path: repo_path(prefix, path),
        line,
        column,
    }
}

/// Errors first, then (with `--base`) findings on files the change touches, then the usual
/// order (path, line, column, code).
pub fn ordered<'a>(findings: &'a [Diagnostic], gate: Option<&Gate>) -> Vec<&'a Diagnostic> {
    let mut v: Vec<&Diagnostic> = findings.iter().collect();
    let touched =
        |d: &Diagnostic| gate.is_some_and(|g| d.path.as_deref().is_some_and(|p| g.touches(p)));
    v.sort_by(|a, b| {
        (a.severity, !touched(a))
            .cmp(&(b.severity, !touched(b)))
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    v
}

/// For a finding about a clause when the run shows several frameworks: the clause's framework,
/// which GitHub and GitLab annotations name (`None` with one framework: it says nothing new).
pub fn framework_label<'c>(loaded: &'c Loaded, d: &Diagnostic) -> Option<&'c str> {
    if loaded.catalog.shown_frameworks() < 2 {
        return None;
    }
    crate::model::framework_of_finding(&loaded.catalog, d).map(|f| f.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Pos;

    #[test]
    fn whole_sms_findings_go_on_sms_yaml_line_1() {
        let d = Diagnostic::new("clause-undocumented", "8.1", "m");
        assert_eq!(
            location("sms/", &d),
            Location {
                path: "sms/sms.yaml".into(),
                line: 1,
                column: 1
            }
        );
        let d = Diagnostic::new("field-missing", "X", "m").at("a/b.md", Pos::new(3, 4));
        assert_eq!(location("", &d).path, "a/b.md");
        assert_eq!((location("", &d).line, location("", &d).column), (3, 4));
    }
}
