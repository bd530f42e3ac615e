//! Several frameworks in one [`Catalog`] (sms.yaml `frameworks:`, the first primary).
//!
//! The combined catalogue is an ordinary `Catalog`, so the model, rules, site and gate work on it
//! unchanged: the primary framework's clauses keep their plain ids (`8.5.1`), every other
//! framework's clauses, named documents and superseded ids are qualified `<framework>:<id>`
//! (`iso27001:2022:A.5.1`). Lookups stay hash-indexed whatever the number of frameworks; a
//! primary clause may also be written qualified (`iso20000-1:2018:8.5.1`). Record kinds are shared
//! by id (one `nonconformity` record serves every framework that demands that kind): the first
//! definition, primary first, gives the schema; the default clauses of later ones are added.

use super::{Catalog, Clause};

/// One framework of a combined catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework {
    pub id: String,
    pub title: String,
    /// SHA-256 of its catalogue's source text.
    pub hash: String,
    pub exclusions_allowed: bool,
}

/// Split a qualified id `<framework>:<id>` at its last `:` (framework ids hold one themselves,
/// `iso20000-1:2018`; clause ids never do). `None` for a plain id.
pub fn split_qualified(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once(':')
        .filter(|(f, c)| !f.is_empty() && !c.is_empty())
}

/// Combine catalogues, primary first, into one (see the module doc). The ids must be distinct.
pub fn combine(primary: Catalog, others: Vec<Catalog>) -> Catalog {
    let mut out = primary;
    for (offset, cat) in others.into_iter().enumerate() {
        let fi = offset + 1;
        let prefix = cat.id.clone();
        let q = |id: &str| format!("{prefix}:{id}");
        for c in cat.clauses {
            let clause = Clause {
                id: q(&c.id),
                parent: c.parent.as_deref().map(q),
                children: c.children.iter().map(|x| q(x)).collect(),
                documents: c.documents.iter().map(|x| q(x)).collect(),
                framework: fi,
                ..c
            };
            out.index.insert(clause.id.clone(), out.clauses.len());
            out.clauses.push(clause);
        }
        for mut d in cat.documents {
            d.id = q(&d.id);
            d.clauses = d.clauses.iter().map(|x| q(x)).collect();
            out.documents.push(d);
        }
        for mut k in cat.record_kinds {
            k.clauses = k.clauses.iter().map(|x| q(x)).collect();
            for input in &mut k.inputs {
                input.clauses = input.clauses.iter().map(|x| q(x)).collect();
            }
            match out.record_kinds.iter_mut().find(|e| e.id == k.id) {
                Some(existing) => {
                    for c in k.clauses {
                        if !existing.clauses.contains(&c) {
                            existing.clauses.push(c);
                        }
                    }
                    // Review inputs: the union by id; for an input both define, where to look
                    // for evidence is the union too (the primary's title and summary stay).
                    for input in k.inputs {
                        match existing.inputs.iter_mut().find(|e| e.id == input.id) {
                            Some(e) => {
                                for x in input.records {
                                    if !e.records.contains(&x) {
                                        e.records.push(x);
                                    }
                                }
                                for x in input.clauses {
                                    if !e.clauses.contains(&x) {
                                        e.clauses.push(x);
                                    }
                                }
                            }
                            None => existing.inputs.push(input),
                        }
                    }
                }
                None => out.record_kinds.push(k),
            }
        }
        for (old, new) in cat.superseded {
            out.superseded
                .insert(q(&old), new.iter().map(|x| q(x)).collect());
        }
        out.frameworks.extend(cat.frameworks.into_iter().take(1));
    }
    out.reindex();
    out
}

impl Catalog {
    /// Rebuild the id indexes after the lists changed.
    pub(super) fn reindex(&mut self) {
        self.kind_index.clear();
        for (i, k) in self.record_kinds.iter().enumerate() {
            self.kind_index.entry(k.id.clone()).or_insert(i);
        }
        self.document_index.clear();
        for (i, d) in self.documents.iter().enumerate() {
            self.document_index.entry(d.id.clone()).or_insert(i);
        }
        self.local_index.clear();
        for (i, c) in self.clauses.iter().enumerate() {
            let local = self.local_id(c).to_string();
            self.local_index.entry(local).or_default().push(i);
        }
    }

    /// Keep only the clauses and named documents of framework `fi` (`--framework`). The other
    /// frameworks stay loaded, so their ids are known: citing them is no finding, but they are
    /// neither checked nor shown. Record kinds are kept (they are shared).
    pub fn restrict(&mut self, fi: usize) {
        let (kept, other): (Vec<Clause>, Vec<Clause>) = std::mem::take(&mut self.clauses)
            .into_iter()
            .partition(|c| c.framework == fi);
        self.elsewhere = other.into_iter().map(|c| c.id).collect();
        self.clauses = kept;
        let documents = std::mem::take(&mut self.documents);
        for d in documents {
            let mine = match split_qualified(&d.id).and_then(|(f, _)| self.framework_index(f)) {
                Some(i) => i == fi,
                None => fi == 0,
            };
            if mine {
                self.documents.push(d);
            } else {
                self.elsewhere.insert(d.id);
            }
        }
        self.index = self
            .clauses
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        self.focus = Some(fi);
        self.reindex();
    }

    /// Whether an id (clause or named document, any spelling) belongs to a framework left out by
    /// [`Catalog::restrict`].
    pub fn is_elsewhere(&self, id: &str) -> bool {
        if self.elsewhere.is_empty() {
            return false;
        }
        self.elsewhere.contains(id)
            || id
                .strip_prefix(self.id.as_str())
                .and_then(|l| l.strip_prefix(':'))
                .is_some_and(|l| self.elsewhere.contains(l))
    }

    /// How many frameworks the outputs show: one under `--framework`, else every loaded one.
    pub fn shown_frameworks(&self) -> usize {
        if self.focus.is_some() {
            1
        } else {
            self.frameworks.len()
        }
    }

    /// A clause's id without its framework prefix.
    pub fn local_id<'c>(&self, clause: &'c Clause) -> &'c str {
        if clause.framework == 0 {
            return &clause.id;
        }
        split_qualified(&clause.id).map_or(clause.id.as_str(), |(_, c)| c)
    }

    /// The index of a loaded framework by id.
    pub fn framework_index(&self, id: &str) -> Option<usize> {
        self.frameworks.iter().position(|f| f.id == id)
    }

    /// The framework an id (clause or named document) is looked up in: its prefix when that is a
    /// loaded framework, else the primary.
    pub fn framework_named_by(&self, id: &str) -> &str {
        split_qualified(id)
            .and_then(|(fw, _)| self.framework_index(fw))
            .map_or(self.id.as_str(), |i| self.frameworks[i].id.as_str())
    }

    /// For a qualified id whose framework is not loaded: the message of the `framework-unknown`
    /// finding and its help (the closest loaded or built-in framework id). `None` when the id is
    /// plain or its framework is loaded.
    pub fn unknown_framework(&self, id: &str) -> Option<(String, String)> {
        let (fw, _) = split_qualified(id)?;
        if self.framework_index(fw).is_some() {
            return None;
        }
        let loaded: Vec<&str> = self.frameworks.iter().map(|f| f.id.as_str()).collect();
        let message = format!(
            "`{id}` names the framework `{fw}`, which sms.yaml does not load (loaded: {})",
            loaded.join(", ")
        );
        let builtin = super::builtin_ids();
        let help = if builtin.contains(&fw) {
            format!("`{fw}` is built in: add it to `frameworks:` in sms.yaml to check against it")
        } else {
            match crate::ids::closest(fw, loaded.iter().copied().chain(builtin.iter().copied()), 3)
            {
                Some(s) => format!("did you mean `{s}:`?"),
                None => "add the framework to `frameworks:` in sms.yaml (built in, or a file under frameworks/)".into(),
            }
        };
        Some((message, help))
    }

    /// Suggestions for an unknown clause id among several frameworks (see `suggest_clause`).
    pub(super) fn suggest_qualified(&self, id: &str) -> Option<String> {
        let (fi, local, written_prefix) = match split_qualified(id) {
            Some((fw, local)) => (self.framework_index(fw)?, local, Some(fw)),
            None => (0, id, None),
        };
        let canonical = if fi == 0 {
            local.to_string()
        } else {
            id.to_string()
        };
        let f = &self.frameworks[fi];
        if let Some(successors) = self.superseded.get(&canonical) {
            return Some(format!(
                "`{local}` is a clause of the previous edition; in {} it became {}",
                f.id,
                successors
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if written_prefix.is_none() {
            // A plain id that another framework has: say how to write it.
            let elsewhere: Vec<&str> = self
                .local_index
                .get(local)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|&i| self.clauses[i].id.as_str())
                .collect();
            if !elsewhere.is_empty() {
                return Some(format!(
                    "plain ids are clauses of the primary framework {}; did you mean {}?",
                    f.id,
                    elsewhere
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
        }
        let candidates = self
            .clauses
            .iter()
            .filter(|c| c.framework == fi)
            .map(|c| self.local_id(c));
        let s = crate::ids::closest(local, candidates, 1)?;
        Some(match written_prefix {
            Some(p) => format!("did you mean `{p}:{s}`?"),
            None => format!("did you mean `{s}`?"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{builtin, parse};
    use super::*;

    const SECOND: &str = "id: \"sec:2024\"\ntitle: S\nclauses:\n  - id: \"4\"\n    title: C\n    evidence: heading\n  - id: \"4.1\"\n    title: Scope\n    parent: \"4\"\n    documents: [scope]\n    records: [incident, audit-log]\ndocuments:\n  - id: scope\n    title: Scope statement\n    clauses: [\"4.1\"]\nrecord_kinds:\n  - id: incident\n    clauses: [\"4.1\"]\n  - id: audit-log\n    clauses: [\"4.1\"]\nsuperseded:\n  \"3.9\": [\"4.1\"]\n";

    fn combined() -> Catalog {
        let mut d = Vec::new();
        let second = parse(SECOND, "frameworks/sec.yaml", &mut d).unwrap();
        assert!(d.is_empty(), "{d:?}");
        combine(builtin().unwrap(), vec![second])
    }

    #[test]
    fn combined_catalogue_qualifies_the_second_framework() {
        let c = combined();
        assert_eq!(c.frameworks.len(), 2);
        assert_eq!(c.frameworks[1].id, "sec:2024");
        let cl = c.clause("sec:2024:4.1").unwrap();
        assert_eq!(
            (cl.framework, cl.parent.as_deref()),
            (1, Some("sec:2024:4"))
        );
        assert_eq!(cl.documents, ["sec:2024:scope"]);
        assert_eq!(c.local_id(cl), "4.1");
        assert_eq!(c.framework_of(cl).id, "sec:2024");
        // plain ids and the primary's qualified ids are the primary's clauses
        assert_eq!(c.clause("4.1").unwrap().framework, 0);
        assert_eq!(c.clause("iso20000-1:2018:4.1").unwrap().id, "4.1");
        assert!(c.named_document("sec:2024:scope").is_some());
        assert!(c.named_document("scope").is_none());
        // a shared record kind keeps the primary's schema and gains the second's clauses
        let inc = c.record_kind("incident").unwrap();
        assert!(
            inc.clauses.contains(&"8.6.1".to_string()),
            "{:?}",
            inc.clauses
        );
        assert!(inc.clauses.contains(&"sec:2024:4.1".to_string()));
        assert_eq!(
            c.record_kind("audit-log").unwrap().clauses,
            ["sec:2024:4.1"]
        );
        assert_eq!(
            c.covered_by_citation("sec:2024:4.1")
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            ["sec:2024:4.1"]
        );
        assert!(c.covered_by_citation("sec:2024:4").is_empty());
    }

    #[test]
    fn combined_catalogue_suggests_across_frameworks() {
        let c = combined();
        assert!(c
            .suggest_clause("sec:2024:3.9")
            .unwrap()
            .contains("`sec:2024:4.1`"));
        assert_eq!(
            c.suggest_clause("sec:2024:4.2").as_deref(),
            Some("did you mean `sec:2024:4.1`?")
        );
        assert!(c.suggest_clause("4.5.4.3").unwrap().contains("9.3"));
        let (msg, help) = c.unknown_framework("sec:2025:4.1").unwrap();
        assert!(msg.contains("sec:2025"), "{msg}");
        assert_eq!(help, "did you mean `sec:2024:`?");
        assert!(c.unknown_framework("sec:2024:4.9").is_none());
        assert!(c.unknown_framework("8.5.1").is_none());
        assert_eq!(
            split_qualified("iso27001:2022:A.5.1"),
            Some(("iso27001:2022", "A.5.1"))
        );
        assert_eq!(split_qualified("8.5.1"), None);
    }

    #[test]
    fn review_inputs_combine_by_id_with_the_union_of_their_evidence() {
        // The second framework's management review shares `audit-results` (adding a kind to look
        // in) and adds `records-of-processing`; its clause ids are qualified.
        let second = "id: \"sec:2024\"\ntitle: S\nclauses:\n  - id: \"4\"\n    title: C\n    evidence: heading\n  - id: \"4.1\"\n    title: Scope\n    parent: \"4\"\n    evidence: documents\nrecord_kinds:\n  - id: audit-log\n  - id: management-review\n    inputs:\n      - {id: audit-results, records: [audit-log]}\n      - {id: records-of-processing, clauses: [\"4.1\"]}\n";
        let mut d = Vec::new();
        let second = parse(second, "frameworks/sec.yaml", &mut d).unwrap();
        assert!(d.is_empty(), "{d:?}");
        let c = combine(builtin().unwrap(), vec![second]);
        let k = c.record_kind("management-review").unwrap();
        assert_eq!(k.inputs.len(), 13);
        assert_eq!(k.inputs[0].id, "previous-actions");
        let audit = k.inputs.iter().find(|i| i.id == "audit-results").unwrap();
        assert_eq!(audit.title, "Audit results");
        assert!(audit.records.contains(&"internal-audit".to_string()));
        assert!(audit.records.contains(&"audit-log".to_string()));
        let extra = k.inputs.last().unwrap();
        assert_eq!(
            (extra.id.as_str(), extra.clauses.as_slice()),
            ("records-of-processing", &["sec:2024:4.1".to_string()][..])
        );
    }
}
