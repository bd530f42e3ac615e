//! What changed between two readings of the SMS, matched by id (never by path: a moved file keeps
//! its identity). Used by the pull-request gate (`check --base`) and the site's "changes since"
//! page, each with its own notion of "differs".

use crate::source::{Document, Record};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    Added,
    Changed,
    Removed,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Added => "added",
            How::Changed => "changed",
            How::Removed => "removed",
        }
    }
}

/// One item that differs: `before` is absent when added, `after` when removed.
pub struct Diff<'a, T> {
    pub how: How,
    pub before: Option<&'a T>,
    pub after: Option<&'a T>,
}

impl<'a, T> Diff<'a, T> {
    /// The item as it is now, or as it was when removed.
    pub fn item(&self) -> &'a T {
        match (self.after, self.before) {
            (Some(t), _) | (None, Some(t)) => t,
            (None, None) => unreachable!("a diff has at least one side"),
        }
    }
}

/// Items added, changed (where `differs` says so) or removed, by case-insensitive id, sorted by
/// how and then id. The first of two items sharing an id stands for both (duplicates are a
/// finding of their own).
pub fn by_id<'a, T>(
    before: &'a [T],
    after: &'a [T],
    id: impl Fn(&T) -> &str,
    differs: impl Fn(&T, &T) -> bool,
) -> Vec<Diff<'a, T>> {
    let index = |items: &'a [T]| -> BTreeMap<String, &'a T> {
        let mut m = BTreeMap::new();
        for t in items {
            m.entry(crate::ids::key(id(t))).or_insert(t);
        }
        m
    };
    let (b, a) = (index(before), index(after));
    let mut out = Vec::new();
    for (k, &new) in &a {
        match b.get(k) {
            None => out.push(Diff {
                how: How::Added,
                before: None,
                after: Some(new),
            }),
            Some(&old) if differs(old, new) => out.push(Diff {
                how: How::Changed,
                before: Some(old),
                after: Some(new),
            }),
            Some(_) => {}
        }
    }
    for (k, &old) in &b {
        if !a.contains_key(k) {
            out.push(Diff {
                how: How::Removed,
                before: Some(old),
                after: None,
            });
        }
    }
    out.sort_by(|x, y| (x.how, id(x.item())).cmp(&(y.how, id(y.item()))));
    out
}

/// A document's state for a change list: `v2.1 approved`.
pub fn document_state(d: &Document) -> String {
    match &d.version {
        Some(v) => format!("v{} {}", v.text, d.status.as_str()),
        None => d.status.as_str().to_string(),
    }
}

/// A record's state for a change list: its date and status.
pub fn record_state(r: &Record) -> String {
    let status = r
        .field("status")
        .and_then(|n| n.as_scalar())
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    format!(
        "{}{status}",
        r.date.map(|d| d.to_string()).unwrap_or_default()
    )
    .trim()
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_changed_removed_by_case_insensitive_id() {
        let before = [("A", 1), ("b", 1), ("C", 1)];
        let after = [("a", 1), ("B", 2), ("D", 1)];
        let d = by_id(&before, &after, |t| t.0, |x, y| x.1 != y.1);
        let got: Vec<(How, &str)> = d.iter().map(|d| (d.how, d.item().0)).collect();
        assert_eq!(
            got,
            [(How::Added, "D"), (How::Changed, "B"), (How::Removed, "C")]
        );
    }
}
