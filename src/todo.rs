//! `todo`: each owner's open items — reviews overdue or due soon, open nonconformities and other
//! actions with a due date, suspect documents — the list a quality manager works from on a
//! Monday. It is a list, not a gate: it reads what `check` reads and never fails on findings.
//!
//! Nothing here decides anew what is due: review dates come from the model's review state (the
//! one `review-overdue` reads), open actions from [`rules::open_action`] (the one
//! `nonconformity-overdue` reads), and suspect documents from findings of [`SUSPECT_CODES`].

use crate::config::{Config, Person};
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::rules;
use jiff::civil::Date;
use serde::Serialize;
use std::fmt::Write as _;

/// `--days` by default: reviews due within this many days are listed.
pub const DEFAULT_DAYS: u32 = 30;

/// Finding codes whose subject document is "suspect": something it rests on changed, so its
/// owner should look at it again.
pub const SUSPECT_CODES: &[&str] = &["derived-from-changed"];

/// What an item asks its owner to do. The order is the order of urgency within one due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// A document's periodic review is past its due date.
    ReviewOverdue,
    /// An open nonconformity (or other action) is past its due date.
    ActionOverdue,
    /// A document is suspect (a finding of [`SUSPECT_CODES`]).
    Suspect,
    /// A document's periodic review is due within the window.
    ReviewDue,
    /// An open nonconformity (or other action) not yet due, or without a due date.
    ActionOpen,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::ReviewOverdue => "review-overdue",
            Task::ActionOverdue => "action-overdue",
            Task::Suspect => "suspect",
            Task::ReviewDue => "review-due",
            Task::ActionOpen => "action-open",
        }
    }

    /// A short label for people.
    pub fn label(self) -> &'static str {
        match self {
            Task::ReviewOverdue => "review overdue",
            Task::ActionOverdue => "past due",
            Task::Suspect => "suspect",
            Task::ReviewDue => "review due",
            Task::ActionOpen => "open",
        }
    }

    /// The item is late.
    pub fn past_due(self) -> bool {
        match self {
            Task::ReviewOverdue | Task::ActionOverdue => true,
            Task::Suspect | Task::ReviewDue | Task::ActionOpen => false,
        }
    }
}

/// Whether an item is about a document or a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    Document,
    Record,
}

/// One thing an owner has to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub task: Task,
    pub subject: Subject,
    /// The document's or record's id.
    pub id: String,
    pub title: String,
    /// The record's kind (records only).
    pub kind: Option<String>,
    /// The record's status (records only).
    pub status: Option<String>,
    /// The file, SMS-root relative, and the line the item points at.
    pub path: String,
    pub line: u32,
    /// When the review or the action is (or was) due; `None` for an action without a due date
    /// and for a suspect document.
    #[serde(serialize_with = "date_text")]
    pub due: Option<Date>,
    pub past_due: bool,
    /// The finding that makes a document suspect.
    pub code: Option<&'static str>,
    /// What to do, in a sentence.
    pub action: String,
}

/// Whose items a group holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// A person of sms.yaml `people` (by index, people being kept in sms.yaml order).
    Person(usize),
    /// An `owner:` that names no person (a role, a team, a name not in `people`).
    Named(String),
    /// No `owner:` at all.
    Unowned,
}

/// One owner's items, most urgent first.
#[derive(Debug, Clone)]
pub struct Group {
    pub owner: Owner,
    /// The person's id, the owner text, or `None` when unowned.
    pub id: Option<String>,
    /// For people: "Name (id)"; for other owners the text; "Unowned".
    pub label: String,
    pub items: Vec<Item>,
}

/// Every owner's items on the as-of date.
#[derive(Debug, Clone)]
pub struct TodoList {
    pub as_of: Date,
    pub days: u32,
    /// The last day a review counts as "due soon": the as-of date plus `days`.
    pub due_by: Date,
    /// The groups: people in id order (every person, even with nothing to do), then other
    /// owners by text, then the unowned items.
    pub groups: Vec<Group>,
}

impl TodoList {
    /// Keep only the group of person `p` (index into `people`).
    pub fn only(mut self, p: usize) -> TodoList {
        self.groups.retain(|g| g.owner == Owner::Person(p));
        self
    }

    pub fn items(&self) -> usize {
        self.groups.iter().map(|g| g.items.len()).sum()
    }
}

/// The person an owner, approver or `--owner` text names: their `people` id (any case), their
/// name (any case) or one of their e-mails.
pub fn identify<'c>(config: &'c Config, text: &str) -> Option<(usize, &'c Person)> {
    let t = text.trim();
    let key = crate::ids::key(t);
    let people = || config.people.iter().enumerate();
    people()
        .find(|(_, p)| p.id == t)
        .or_else(|| people().find(|(_, p)| crate::ids::key(&p.id) == key))
        .or_else(|| people().find(|(_, p)| p.name.to_lowercase() == t.to_lowercase()))
        .or_else(|| people().find(|(_, p)| p.emails.contains(&key)))
}

/// `--owner TEXT`: the person it names, or a failure that lists the people sms.yaml knows.
pub fn resolve_owner(config: &Config, text: &str) -> anyhow::Result<usize> {
    if let Some((i, _)) = identify(config, text) {
        return Ok(i);
    }
    if config.people.is_empty() {
        anyhow::bail!(
            "--owner {text}: sms.yaml lists no `people`, so no owner can be matched.\nhelp: add the owners under `people:` in sms.yaml (id, name, role, emails), or run `auditbook todo` without --owner"
        );
    }
    let known: Vec<String> = config
        .people
        .iter()
        .map(|p| format!("{} ({})", p.id, p.name))
        .collect();
    let hint = crate::ids::closest(text, config.people.iter().map(|p| p.id.as_str()), 3)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    anyhow::bail!(
        "--owner {text}: no person in sms.yaml `people` has that id, name or e-mail; known: {}\nhelp: {hint}give a person's id, name or e-mail",
        known.join(", ")
    )
}

/// Every owner's open items, reviews due up to `days` after the as-of date included.
pub fn collect(model: &Model<'_>, findings: &[Diagnostic], days: u32) -> TodoList {
    collect_with(model, findings, days, SUSPECT_CODES)
}

/// [`collect`], with the codes that make a document suspect given.
pub fn collect_with(
    model: &Model<'_>,
    findings: &[Diagnostic],
    days: u32,
    suspect_codes: &[&str],
) -> TodoList {
    let config = model.config;
    let as_of = model.as_of;
    let due_by = as_of
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap_or(Date::MAX);
    let mut owned: Vec<(Owner, Item)> = Vec::new();
    let owner_of = |text: Option<&str>| match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Owner::Unowned,
        Some(t) => match identify(config, t) {
            Some((i, _)) => Owner::Person(i),
            None => Owner::Named(t.to_string()),
        },
    };

    for (i, d) in model.sources.documents.iter().enumerate() {
        let review = &model.reviews[i];
        let Some(next) = review.next else { continue };
        let task = if review.overdue {
            Task::ReviewOverdue
        } else if review.due_by(due_by) {
            Task::ReviewDue
        } else {
            continue;
        };
        let when = if task.past_due() { "was due" } else { "is due" };
        owned.push((
            owner_of(d.owner.as_deref()),
            Item {
                task,
                subject: Subject::Document,
                id: d.id.clone(),
                title: d.title.clone(),
                kind: None,
                status: None,
                path: d.path.clone(),
                line: d.approved_pos.line,
                due: Some(next),
                past_due: task.past_due(),
                code: None,
                action: format!(
                    "review {} ({when} {next}): record a `document-review` (outcome no-change), or approve a revised version",
                    d.id
                ),
            },
        ));
    }

    for r in &model.sources.records {
        let Some(kind) = model.catalog.record_kind(&r.kind) else {
            continue;
        };
        let Some(open) = rules::open_action(kind, r) else {
            continue;
        };
        let past_due = open.due.is_some_and(|d| d < as_of);
        let task = if past_due {
            Task::ActionOverdue
        } else {
            Task::ActionOpen
        };
        let when = match open.due {
            Some(d) if past_due => format!(", was due {d}"),
            Some(d) => format!(", due {d}"),
            None => ", no due date".to_string(),
        };
        let owner = r.field("owner").and_then(|n| n.as_scalar());
        owned.push((
            owner_of(owner),
            Item {
                task,
                subject: Subject::Record,
                id: r.id.clone(),
                title: r.title.clone(),
                kind: Some(r.kind.to_string()),
                status: Some(open.status.to_string()),
                path: r.path.to_string(),
                line: open.due_pos.line,
                due: open.due,
                past_due,
                code: None,
                action: format!(
                    "{} {} is `{}`{when}: {}, then close it (`status`)",
                    kind.id,
                    r.id,
                    open.status,
                    if r.field("corrective_action").is_some() {
                        "complete the corrective action"
                    } else {
                        "complete it"
                    }
                ),
            },
        ));
    }

    // suspect: documents named by findings of `suspect_codes` (one item per document and code).
    let mut seen = std::collections::HashSet::new();
    for f in findings {
        if !suspect_codes.contains(&f.code) {
            continue;
        }
        let head = f
            .subject
            .split(['#'])
            .next()
            .unwrap_or("")
            .split("->")
            .next()
            .unwrap_or("")
            // `derived-from-changed`: DOC<-PARENT, the document to look at comes first
            .split("<-")
            .next()
            .unwrap_or("");
        let Some(&i) = model.documents_by_id.get(&crate::ids::key(head)) else {
            continue;
        };
        if !seen.insert((i, f.code)) {
            continue;
        }
        let d = &model.sources.documents[i];
        let (path, line) = match (&f.path, f.pos) {
            (Some(p), Some(pos)) => (p.clone(), pos.line),
            _ => (d.path.clone(), d.id_pos.line),
        };
        owned.push((
            owner_of(d.owner.as_deref()),
            Item {
                task: Task::Suspect,
                subject: Subject::Document,
                id: d.id.clone(),
                title: d.title.clone(),
                kind: None,
                status: None,
                path,
                line,
                due: None,
                past_due: false,
                code: Some(f.code),
                action: format!(
                    "check {} against what changed ({}: {})",
                    d.id, f.code, f.message
                ),
            },
        ));
    }

    // People in id order, every one of them; then other owners; then the unowned items.
    let mut people: Vec<usize> = (0..config.people.len()).collect();
    people.sort_by(|&a, &b| config.people[a].id.cmp(&config.people[b].id));
    let mut groups: Vec<Group> = people
        .into_iter()
        .map(|i| {
            let p = &config.people[i];
            Group {
                owner: Owner::Person(i),
                id: Some(p.id.clone()),
                label: format!("{} ({})", p.name, p.id),
                items: Vec::new(),
            }
        })
        .collect();
    owned.sort_by(|(oa, a), (ob, b)| {
        (oa, a.due.is_none(), a.due, &a.id, a.task, a.code).cmp(&(
            ob,
            b.due.is_none(),
            b.due,
            &b.id,
            b.task,
            b.code,
        ))
    });
    for (owner, item) in owned {
        if let Some(g) = groups.iter_mut().find(|g| g.owner == owner) {
            g.items.push(item);
            continue;
        }
        let (id, label) = match &owner {
            Owner::Person(i) => {
                let p = &config.people[*i];
                (Some(p.id.clone()), format!("{} ({})", p.name, p.id))
            }
            Owner::Named(t) => (Some(t.clone()), t.clone()),
            Owner::Unowned => (None, "Unowned".to_string()),
        };
        groups.push(Group {
            owner,
            id,
            label,
            items: vec![item],
        });
    }
    TodoList {
        as_of,
        days,
        due_by,
        groups,
    }
}

/// The list for people: a heading per owner, a line per item.
pub fn human(list: &TodoList, draft: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Open items as of {} (reviews due up to {}, {} days ahead){}",
        list.as_of,
        list.due_by,
        list.days,
        if draft {
            "; DRAFT: the work tree has uncommitted changes"
        } else {
            ""
        }
    );
    // The whole list leaves out people with nothing open (named once at the end); a list of one
    // owner (`--owner`) always shows that owner.
    let one = list.groups.len() == 1;
    let mut idle = Vec::new();
    for g in &list.groups {
        if g.items.is_empty() && !one {
            idle.push(g.label.as_str());
            continue;
        }
        let _ = writeln!(s);
        let what = match &g.owner {
            Owner::Person(_) => String::new(),
            Owner::Named(_) => " (not a person in sms.yaml `people`)".to_string(),
            Owner::Unowned => " (no `owner:`)".to_string(),
        };
        let n = g.items.len();
        let _ = writeln!(
            s,
            "{}{what}: {n} item{}",
            g.label,
            if n == 1 { "" } else { "s" }
        );
        if g.items.is_empty() {
            let _ = writeln!(s, "  nothing open");
        }
        for it in &g.items {
            let date = it
                .due
                .map_or_else(|| "----------".to_string(), |d| d.to_string());
            let _ = writeln!(
                s,
                "  {date}  {:<14}  {}:{}: {}",
                it.task.label(),
                it.path,
                it.line,
                it.action
            );
        }
    }
    if !idle.is_empty() {
        let _ = writeln!(s, "\nNothing open: {}", idle.join(", "));
    }
    let total = list.items();
    let _ = writeln!(
        s,
        "\n{total} open item{} ({} past due)",
        if total == 1 { "" } else { "s" },
        list.groups
            .iter()
            .flat_map(|g| &g.items)
            .filter(|i| i.past_due)
            .count()
    );
    s
}

/// A date as `YYYY-MM-DD` (jiff is built without serde).
fn date_text<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// `todo --format json`: the wire shape (documented in the README, frozen by tests).
#[derive(Serialize)]
struct JsonList<'a> {
    tool: &'static str,
    version: &'static str,
    as_of: String,
    days: u32,
    due_by: String,
    draft: bool,
    owners: Vec<JsonOwner<'a>>,
}

#[derive(Serialize)]
struct JsonOwner<'a> {
    /// The person's id, the owner text, or null for unowned items.
    owner: Option<&'a str>,
    /// "person" | "other" | "unowned".
    kind: &'static str,
    name: Option<&'a str>,
    items: &'a [Item],
}

pub fn json(list: &TodoList, config: &Config, draft: bool) -> String {
    let owners = list
        .groups
        .iter()
        .map(|g| JsonOwner {
            owner: g.id.as_deref(),
            kind: match g.owner {
                Owner::Person(_) => "person",
                Owner::Named(_) => "other",
                Owner::Unowned => "unowned",
            },
            name: match g.owner {
                Owner::Person(i) => Some(config.people[i].name.as_str()),
                Owner::Named(_) | Owner::Unowned => None,
            },
            items: &g.items,
        })
        .collect();
    let wire = JsonList {
        tool: "auditbook",
        version: env!("CARGO_PKG_VERSION"),
        as_of: list.as_of.to_string(),
        days: list.days,
        due_by: list.due_by.to_string(),
        draft,
        owners,
    };
    let mut s = serde_json::to_string_pretty(&wire).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document named by a finding of a suspect code is listed under its owner, once per code;
    /// findings of other codes are not.
    #[test]
    fn suspect_documents_come_from_the_code_list() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("sms.yaml"),
            "organisation: T\nscope: S\nframework: iso20000-1:2018\npeople:\n  - id: hc\n    name: Helen Carter\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("policies")).unwrap();
        std::fs::write(
            dir.path().join("policies/a.md"),
            "---\nid: POL-A\ntitle: A\ntype: policy\nowner: hc\napprover: hc\nversion: \"1.0\"\nstatus: approved\napproved: 2026-06-01\nclauses: [\"8.5.1.1\"]\n---\n\nSee [b](doc:POL-NONE) and [c](doc:POL-GONE).\n",
        )
        .unwrap();
        let loaded = crate::check::load(&crate::check::Options {
            path: dir.path().to_path_buf(),
            as_of: Some(jiff::civil::date(2026, 11, 26)),
            ..Default::default()
        })
        .unwrap();
        let model = loaded.model();
        let findings = loaded.findings(&model);
        assert_eq!(
            findings
                .iter()
                .filter(|f| f.code == "broken-doc-link")
                .count(),
            2
        );
        let none = collect(&model, &findings, 30);
        assert_eq!(none.items(), 0);
        let list = collect_with(&model, &findings, 30, &["broken-doc-link"]);
        assert_eq!(list.groups.len(), 1);
        let g = &list.groups[0];
        assert_eq!(g.owner, Owner::Person(0));
        assert_eq!(g.items.len(), 1, "one item per document and code");
        let it = &g.items[0];
        assert_eq!((it.task, it.id.as_str()), (Task::Suspect, "POL-A"));
        assert_eq!(it.code, Some("broken-doc-link"));
        assert_eq!((it.path.as_str(), it.line), ("policies/a.md", 13));
        assert!(it
            .action
            .starts_with("check POL-A against what changed (broken-doc-link: "));
    }
}
