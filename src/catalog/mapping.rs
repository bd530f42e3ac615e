//! Mappings between the clauses of two frameworks (`mappings/*.yaml`) -> [`Mapping`].
//!
//! A mapping is information for people — "ISO/IEC 27001 9.2.2 asks for the same kind of audit
//! programme as ISO/IEC 20000-1 9.2" — and never evidence: citing one side covers nothing on the
//! other (docs/catalog.md says why). The built-in mappings are validated like user files; every
//! problem is a `mapping-invalid` finding at the file's line, and a file with any problem is
//! skipped as a whole.

use super::Catalog;
use crate::diag::Diagnostic;
use crate::yaml::{self, Node, Pos};
use std::collections::BTreeSet;

/// How the `from` clause of a pair relates to its `to` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// Both ask for the same thing (in the harmonised structure: the same common text).
    Equivalent,
    /// What `from` asks for is part of what `to` asks for; `to` asks for more.
    Subset,
    /// What `from` asks for includes what `to` asks for, and more (the inverse of `subset`).
    Superset,
    /// They overlap or deal with the same subject, without one containing the other.
    Related,
}

impl Relation {
    pub const ALL: [Relation; 4] = [
        Relation::Equivalent,
        Relation::Subset,
        Relation::Superset,
        Relation::Related,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Equivalent => "equivalent",
            Relation::Subset => "subset",
            Relation::Superset => "superset",
            Relation::Related => "related",
        }
    }

    pub fn parse(text: &str) -> Option<Relation> {
        Relation::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The relation read from the `to` side.
    pub fn inverse(self) -> Relation {
        match self {
            Relation::Subset => Relation::Superset,
            Relation::Superset => Relation::Subset,
            other => other,
        }
    }
}

/// One mapping file: pairs of clauses of the framework `from` and the framework `to`.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub id: String,
    pub title: String,
    pub from: String,
    pub to: String,
    pub pairs: Vec<Pair>,
    /// Where it was read from (`mappings/x.yaml`, or `<built-in mappings/x.yaml>`).
    pub path: String,
    /// SHA-256 of the source text, for the manifest.
    pub hash: String,
}

#[derive(Debug, Clone)]
pub struct Pair {
    pub from: String,
    pub to: String,
    pub relation: Relation,
    /// Record kinds or named documents that both catalogues define under this id: the same kind
    /// of documented information is demanded on both sides, so one record or document can be
    /// written to serve both (it must still cite each clause it is evidence for).
    pub shared: Vec<String>,
    pub note: Option<String>,
    /// Where the pair is written.
    pub pos: Pos,
}

/// A clause of another framework that a mapping relates to the clause asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related<'a> {
    pub framework: &'a str,
    pub clause: &'a str,
    /// Read from the side of the clause asked about: `subset` means it is part of `clause`.
    pub relation: Relation,
    pub shared: &'a [String],
    pub note: Option<&'a str>,
    /// The mapping file that says so.
    pub mapping: &'a str,
}

/// The clauses that `mappings` relate to clause `clause` of framework `framework`, in both
/// directions, sorted by framework then clause order of appearance in the mapping files.
pub fn related<'a>(mappings: &'a [Mapping], framework: &str, clause: &str) -> Vec<Related<'a>> {
    let mut out = Vec::new();
    for m in mappings {
        for p in &m.pairs {
            if m.from == framework && p.from == clause {
                out.push(Related {
                    framework: &m.to,
                    clause: &p.to,
                    relation: p.relation,
                    shared: &p.shared,
                    note: p.note.as_deref(),
                    mapping: &m.id,
                });
            }
            if m.to == framework && p.to == clause {
                out.push(Related {
                    framework: &m.from,
                    clause: &p.from,
                    relation: p.relation.inverse(),
                    shared: &p.shared,
                    note: p.note.as_deref(),
                    mapping: &m.id,
                });
            }
        }
    }
    out.sort_by(|a, b| a.framework.cmp(b.framework));
    out
}

/// The mappings that apply to a run over the frameworks `loaded` (the catalogues sms.yaml names,
/// uncombined, primary first): the built-in mappings between two of them, then the SMS's own
/// mapping files `user` (path, text; validated against `loaded`, problems are `mapping-invalid`
/// findings). A user mapping with the id of a built-in one replaces it; a second user file with
/// an id already used is an error and skipped. Pairs of a built-in mapping whose clauses a
/// framework file (with a built-in id) does not define are left out.
pub fn select(
    builtin: &[Mapping],
    loaded: &[&Catalog],
    user: &[(String, String)],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Mapping> {
    let has = |fw: &str| loaded.iter().find(|c| c.id == fw);
    let mut own: Vec<Mapping> = Vec::new();
    for (path, text) in user {
        let Some(m) = parse(text, path, loaded, diags) else {
            continue;
        };
        if let Some(first) = own.iter().find(|o| o.id == m.id) {
            diags.push(
                Diagnostic::new(
                    "mapping-invalid",
                    path.clone(),
                    format!(
                        "the mapping id `{}` is already used by {}; this file is skipped",
                        m.id, first.path
                    ),
                )
                .at(path, Pos::new(1, 1)),
            );
            continue;
        }
        own.push(m);
    }
    let mut out: Vec<Mapping> = Vec::new();
    for m in builtin {
        if own.iter().any(|o| o.id == m.id) {
            continue;
        }
        let (Some(from), Some(to)) = (has(&m.from), has(&m.to)) else {
            continue;
        };
        let mut m = m.clone();
        m.pairs
            .retain(|p| from.clause(&p.from).is_some() && to.clause(&p.to).is_some());
        out.push(m);
    }
    out.extend(own);
    out
}

/// The id a clause of a mapping has in a combined catalogue: plain for the primary framework,
/// `<framework>:<id>` for the others; `None` when the framework is not loaded.
pub fn combined_id(catalog: &Catalog, framework: &str, clause: &str) -> Option<String> {
    match catalog.framework_index(framework)? {
        0 => Some(clause.to_string()),
        _ => Some(format!("{framework}:{clause}")),
    }
}

const KNOWN_KEYS: [&str; 5] = ["id", "title", "from", "to", "pairs"];
const PAIR_KEYS: [&str; 5] = ["from", "to", "relation", "shared", "note"];

/// Parse a mapping file against the catalogues it may name. Problems are `mapping-invalid`
/// findings at `path` with the line they are on; `None` when there is any (the file is skipped).
pub fn parse(
    text: &str,
    path: &str,
    catalogs: &[&Catalog],
    diags: &mut Vec<Diagnostic>,
) -> Option<Mapping> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut bad = |pos: Pos, msg: String| {
        found.push(Diagnostic::new("mapping-invalid", path.to_string(), msg).at(path, pos));
    };
    let root = match yaml::parse(text, yaml::Limits::default()) {
        Ok(Some(n)) => n,
        Ok(None) => {
            bad(Pos::new(1, 1), "the mapping file is empty".into());
            diags.extend(found);
            return None;
        }
        Err(e) => {
            bad(e.pos, e.message);
            diags.extend(found);
            return None;
        }
    };
    let Some(entries) = root.as_map() else {
        bad(
            root.pos,
            format!("a mapping file is a mapping, found {}", root.describe()),
        );
        diags.extend(found);
        return None;
    };
    for (k, _) in entries {
        let k_text = k.as_scalar().unwrap_or("");
        if !KNOWN_KEYS.contains(&k_text) {
            bad(
                k.pos,
                format!(
                    "unknown key `{k_text}`; known keys: {}",
                    KNOWN_KEYS.join(", ")
                ),
            );
        }
    }
    let text_of = |bad: &mut dyn FnMut(Pos, String), key: &str| -> Option<String> {
        match root.get(key) {
            None => {
                bad(root.pos, format!("a mapping needs `{key}`"));
                None
            }
            Some(n) => match n.as_scalar() {
                Some(t) if !n.is_null() && !t.trim().is_empty() => Some(t.to_string()),
                _ => {
                    bad(
                        n.pos,
                        format!("`{key}` must be text, found {}", n.describe()),
                    );
                    None
                }
            },
        }
    };
    let id = text_of(&mut bad, "id");
    let title = text_of(&mut bad, "title");
    let framework = |bad: &mut dyn FnMut(Pos, String), key: &str| -> Option<&Catalog> {
        let name = text_of(bad, key)?;
        let found = catalogs.iter().copied().find(|c| c.id == name);
        if found.is_none() {
            let pos = root.get(key).map_or(root.pos, |n| n.pos);
            let known: Vec<&str> = catalogs.iter().map(|c| c.id.as_str()).collect();
            let hint = crate::ids::closest(&name, known.iter().copied(), 2)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            bad(
                pos,
                format!(
                    "`{key}` names framework `{name}`, which is not loaded; {hint}known: {}",
                    known.join(", ")
                ),
            );
        }
        found
    };
    let from = framework(&mut bad, "from");
    let to = framework(&mut bad, "to");
    if let (Some(f), Some(t)) = (from, to) {
        if f.id == t.id {
            bad(
                root.get("to").map_or(root.pos, |n| n.pos),
                format!(
                    "`from` and `to` are both `{}`; a mapping joins two frameworks",
                    f.id
                ),
            );
        }
    }

    let mut pairs = Vec::new();
    let mut seen = BTreeSet::new();
    match root.get("pairs") {
        None => bad(root.pos, "a mapping needs a `pairs` list".into()),
        Some(list) => match list.as_seq() {
            None => bad(
                list.pos,
                format!("`pairs` must be a list, found {}", list.describe()),
            ),
            Some([]) => bad(list.pos, "`pairs` is empty".into()),
            Some(items) => {
                for item in items {
                    if let Some(p) = read_pair(item, from, to, &mut bad) {
                        if !seen.insert((p.from.clone(), p.to.clone())) {
                            bad(
                                p.pos,
                                format!("the pair `{}` -> `{}` is listed twice", p.from, p.to),
                            );
                            continue;
                        }
                        pairs.push(p);
                    }
                }
            }
        },
    }
    let ok = found.is_empty();
    diags.extend(found);
    if !ok {
        return None;
    }
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(Mapping {
        id: id?,
        title: title?,
        from: from?.id.clone(),
        to: to?.id.clone(),
        pairs,
        path: path.to_string(),
        hash,
    })
}

fn read_pair(
    item: &Node,
    from: Option<&Catalog>,
    to: Option<&Catalog>,
    bad: &mut dyn FnMut(Pos, String),
) -> Option<Pair> {
    let Some(entries) = item.as_map() else {
        bad(
            item.pos,
            format!(
                "each pair is a mapping with `from`, `to` and `relation`, found {}",
                item.describe()
            ),
        );
        return None;
    };
    for (k, _) in entries {
        let k_text = k.as_scalar().unwrap_or("");
        if !PAIR_KEYS.contains(&k_text) {
            bad(
                k.pos,
                format!(
                    "unknown pair key `{k_text}`; known keys: {}",
                    PAIR_KEYS.join(", ")
                ),
            );
        }
    }
    let mut ok = true;
    let mut clause = |key: &str, cat: Option<&Catalog>| -> Option<String> {
        let Some(n) = item.get(key) else {
            bad(item.pos, format!("the pair has no `{key}` clause"));
            return None;
        };
        let Some(id) = n.as_scalar().filter(|_| !n.is_null()) else {
            bad(
                n.pos,
                format!("`{key}` must be a clause id, found {}", n.describe()),
            );
            return None;
        };
        if n.is_plain_number() {
            bad(n.pos, format!("clause id `{id}` must be quoted"));
        }
        // Without the catalogue (an unknown framework, already reported) the id cannot be checked.
        let cat = cat?;
        if cat.clause(id).is_none() {
            let hint = cat
                .suggest_clause(id)
                .map(|s| format!("; {s}"))
                .unwrap_or_default();
            bad(
                n.pos,
                format!("`{key}` clause `{id}` is not a clause of {}{hint}", cat.id),
            );
            return None;
        }
        Some(id.to_string())
    };
    let from_id = clause("from", from);
    let to_id = clause("to", to);
    let relation = match item.get("relation") {
        None => {
            bad(item.pos, "the pair has no `relation`".into());
            None
        }
        Some(n) => {
            let r = n.as_scalar().and_then(Relation::parse);
            if r.is_none() {
                bad(
                    n.pos,
                    format!(
                        "`relation` must be one of {}, found `{}`",
                        Relation::ALL.map(Relation::as_str).join(", "),
                        n.as_scalar().unwrap_or(n.describe())
                    ),
                );
            }
            r
        }
    };
    let mut shared = Vec::new();
    if let Some(n) = item.get("shared") {
        match n.as_seq() {
            None => {
                ok = false;
                bad(
                    n.pos,
                    format!(
                        "`shared` must be a list of record kinds or named documents, found {}",
                        n.describe()
                    ),
                );
            }
            Some(items) => {
                for s in items {
                    let Some(name) = s.as_scalar().filter(|_| !s.is_null()) else {
                        ok = false;
                        bad(s.pos, format!("`shared` holds {}", s.describe()));
                        continue;
                    };
                    for cat in [from, to].into_iter().flatten() {
                        if cat.record_kind(name).is_none() && cat.named_document(name).is_none() {
                            ok = false;
                            bad(
                                s.pos,
                                format!(
                                    "`shared` names `{name}`, which is neither a record kind nor a named document of {}",
                                    cat.id
                                ),
                            );
                        }
                    }
                    shared.push(name.to_string());
                }
            }
        }
    }
    let note = match item.get("note") {
        None => None,
        Some(n) => match n.as_scalar().filter(|_| !n.is_null()) {
            Some(t) => Some(t.to_string()),
            None => {
                ok = false;
                bad(
                    n.pos,
                    format!("`note` must be text, found {}", n.describe()),
                );
                None
            }
        },
    };
    if !ok {
        return None;
    }
    Some(Pair {
        from: from_id?,
        to: to_id?,
        relation: relation?,
        shared,
        note,
        pos: item.pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{builtin_by_id, Catalog};

    fn cats() -> Vec<Catalog> {
        ["iso20000-1:2018", "iso27001:2022"]
            .iter()
            .map(|id| builtin_by_id(id).unwrap().unwrap())
            .collect()
    }

    fn run(text: &str) -> (Option<Mapping>, Vec<Diagnostic>) {
        let cats = cats();
        let refs: Vec<&Catalog> = cats.iter().collect();
        let mut d = Vec::new();
        let m = parse(text, "mappings/x.yaml", &refs, &mut d);
        (m, d)
    }

    const HEAD: &str = "id: x\ntitle: X\nfrom: iso20000-1:2018\nto: iso27001:2022\npairs:\n";

    #[test]
    fn a_valid_mapping_reads_with_positions() {
        let (m, d) = run(&format!(
            "{HEAD}  - from: \"9.2\"\n    to: \"9.2.2\"\n    relation: superset\n    shared: [audit-programme]\n    note: One programme can serve both.\n"
        ));
        assert!(d.is_empty(), "{d:?}");
        let m = m.unwrap();
        assert_eq!(m.pairs.len(), 1);
        assert_eq!(m.pairs[0].pos.line, 6);
        assert_eq!(m.pairs[0].relation, Relation::Superset);
        let r = related(std::slice::from_ref(&m), "iso27001:2022", "9.2.2");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].framework, r[0].clause), ("iso20000-1:2018", "9.2"));
        assert_eq!(r[0].relation, Relation::Subset);
        assert!(related(std::slice::from_ref(&m), "iso27001:2022", "9.2.1").is_empty());
    }

    #[test]
    fn unknown_clause_ids_are_errors_at_their_line() {
        let (m, d) = run(&format!(
            "{HEAD}  - from: \"9.2\"\n    to: \"9.2.2\"\n    relation: equivalent\n  - from: \"9.9\"\n    to: \"A.5.99\"\n    relation: related\n"
        ));
        assert!(m.is_none(), "a file with an error is skipped");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.code == "mapping-invalid"));
        assert_eq!(d[0].path.as_deref(), Some("mappings/x.yaml"));
        assert_eq!(d[0].pos.unwrap().line, 9);
        assert!(d[0]
            .message
            .contains("`9.9` is not a clause of iso20000-1:2018"));
        assert_eq!(d[1].pos.unwrap().line, 10);
        assert!(
            d[1].message
                .contains("`A.5.99` is not a clause of iso27001:2022"),
            "{}",
            d[1].message
        );
        assert!(d[1].message.contains("did you mean"), "{}", d[1].message);
    }

    #[test]
    fn every_kind_of_mistake_is_located() {
        let cases: &[(&str, u32, &str)] = &[
            (
                "id: x\ntitle: X\nfrom: iso27001:2013\nto: iso27001:2022\npairs:\n  - {from: \"4.1\", to: \"4.1\", relation: equivalent}\n",
                3,
                "did you mean `iso27001:2022`?",
            ),
            (
                "id: x\ntitle: X\nfrom: iso27001:2022\nto: iso27001:2022\npairs:\n  - {from: \"4.1\", to: \"4.1\", relation: equivalent}\n",
                4,
                "a mapping joins two frameworks",
            ),
            (
                &format!("{HEAD}  - {{from: \"4.1\", to: \"4.1\", relation: same}}\n"),
                6,
                "`relation` must be one of equivalent, subset, superset, related",
            ),
            (
                &format!("{HEAD}  - {{from: \"4.1\", to: \"4.1\", relation: related, shared: [sla]}}\n"),
                6,
                "neither a record kind nor a named document of iso27001:2022",
            ),
            (
                &format!("{HEAD}  - {{from: \"4.1\", to: \"4.1\", relation: related}}\n  - {{from: \"4.1\", to: \"4.1\", relation: equivalent}}\n"),
                7,
                "listed twice",
            ),
            (
                &format!("{HEAD}  - {{from: 4.1, to: \"4.1\", relation: related}}\n"),
                6,
                "must be quoted",
            ),
            (
                &format!("{HEAD}  - {{from: \"4.1\", relation: related, why: x}}\n"),
                6,
                "unknown pair key `why`",
            ),
            (&format!("{HEAD}  - {{from: \"4.1\", relation: related}}\n"), 6, "no `to` clause"),
            ("id: x\ntitle: X\nfrom: iso20000-1:2018\nto: iso27001:2022\npairs: []\n", 5, "`pairs` is empty"),
            ("id: x\nfrom: iso20000-1:2018\nto: iso27001:2022\npairs: 3\n", 1, "needs `title`"),
            ("- a\n", 1, "a mapping file is a mapping"),
            ("id: [x\n", 1, ""),
            ("", 1, "empty"),
        ];
        for (text, line, want) in cases {
            let (m, d) = run(text);
            assert!(m.is_none(), "{text}");
            assert!(!d.is_empty(), "{text}");
            assert!(d.iter().all(|d| d.code == "mapping-invalid"), "{d:?}");
            assert!(
                d.iter()
                    .any(|d| d.pos.unwrap().line == *line && d.message.contains(want)),
                "{text}\n{d:#?}"
            );
        }
    }

    #[test]
    fn any_prefix_of_a_builtin_mapping_gives_a_mapping_or_findings_never_a_panic() {
        let cats = cats();
        let refs: Vec<&Catalog> = cats.iter().collect();
        let (_, text) = crate::catalog::BUILTIN_MAPPINGS[0];
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                let mut d = Vec::new();
                let m = parse(&text[..cut], "mappings/x.yaml", &refs, &mut d);
                assert!(m.is_some() == d.is_empty(), "at {cut}: {d:?}");
                assert!(d.iter().all(|d| d.pos.is_some()), "at {cut}");
            }
            cut += 13;
        }
    }
}
