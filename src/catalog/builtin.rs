//! The catalogues and mappings built into the binary: data files under `src/catalog/`, embedded
//! with `include_str!`, looked up by framework id.

/// One built-in catalogue: its framework id (what `framework:` in sms.yaml names) and its YAML.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub id: &'static str,
    pub source: &'static str,
}

/// The built-in catalogues. The first is the default framework ([`super::BUILTIN_ID`]).
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        id: "iso20000-1:2018",
        source: super::BUILTIN_SOURCE,
    },
    Builtin {
        id: "iso27001:2022",
        source: include_str!("iso27001-2022.yaml"),
    },
    Builtin {
        id: "iso9001:2015",
        source: include_str!("iso9001-2015.yaml"),
    },
    Builtin {
        id: "iso20000-1:2011",
        source: include_str!("iso20000-1-2011.yaml"),
    },
];

/// The built-in mappings: (file name, YAML), validated against [`BUILTINS`].
pub const BUILTIN_MAPPINGS: &[(&str, &str)] = &[
    (
        "harmonised-20000-1-2018-27001-2022.yaml",
        include_str!("mappings/harmonised-20000-1-2018-27001-2022.yaml"),
    ),
    (
        "harmonised-20000-1-2018-9001-2015.yaml",
        include_str!("mappings/harmonised-20000-1-2018-9001-2015.yaml"),
    ),
    (
        "harmonised-27001-2022-9001-2015.yaml",
        include_str!("mappings/harmonised-27001-2022-9001-2015.yaml"),
    ),
    (
        "iso20000-1-2011-to-2018.yaml",
        include_str!("mappings/iso20000-1-2011-to-2018.yaml"),
    ),
];

/// The built-in catalogue with this framework id.
pub fn lookup(id: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.id == id)
}

#[cfg(test)]
mod tests {
    use super::super::{builtin_by_id, builtin_mappings, builtins, Catalog, Evidence};
    use super::*;
    use std::collections::BTreeSet;

    fn cat(id: &str) -> Catalog {
        builtin_by_id(id).expect("built in").expect("valid")
    }

    fn children_of<'a>(c: &'a Catalog, id: &str) -> Vec<&'a str> {
        c.clause(id)
            .unwrap()
            .children
            .iter()
            .map(String::as_str)
            .collect()
    }

    /// No summary may be long enough to be a copied requirement: one line of our own.
    const MAX_SUMMARY_WORDS: usize = 30;

    #[test]
    fn every_builtin_is_valid_and_well_formed() {
        let all = builtins().unwrap();
        assert_eq!(all.len(), BUILTINS.len());
        let ids: BTreeSet<&str> = all.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "framework ids are unique");
        for c in &all {
            assert!(lookup(&c.id).is_some());
            assert!(super::super::builtin_source(&c.id).is_some_and(|s| s.contains(&c.title)));
            let mut seen = BTreeSet::new();
            let mut summaries = BTreeSet::new();
            for cl in &c.clauses {
                assert!(seen.insert(cl.id.as_str()), "{}: {} twice", c.id, cl.id);
                if let Some(p) = &cl.parent {
                    assert!(seen.contains(p.as_str()), "{}: parent of {}", c.id, cl.id);
                    // An id extends its parent's: 8.5.1.2 under 8.5.1, A.5.1 under A.5.
                    assert!(cl.id.starts_with(&format!("{p}.")), "{}: {}", c.id, cl.id);
                } else {
                    assert!(!cl.id.contains('.'), "{}: top-level {}", c.id, cl.id);
                }
                if !cl.children.is_empty() {
                    assert_eq!(cl.evidence, Evidence::Heading, "{}: {}", c.id, cl.id);
                }
                assert!(!cl.title.trim().is_empty(), "{}: {}", c.id, cl.id);
                assert_ne!(cl.summary, cl.title, "{}: {}", c.id, cl.id);
                let words = cl.summary.split_whitespace().count();
                assert!(
                    (5..=MAX_SUMMARY_WORDS).contains(&words),
                    "{}: the summary of {} has {words} words",
                    c.id,
                    cl.id
                );
                assert!(!cl.summary.contains('\n'), "{}: {}", c.id, cl.id);
                // Our summaries do not use the standards' requirement wording.
                assert!(
                    !cl.summary.to_lowercase().contains("shall"),
                    "{}: {}",
                    c.id,
                    cl.id
                );
                assert!(
                    summaries.insert(cl.summary.as_str()),
                    "{}: summary of {} repeats another",
                    c.id,
                    cl.id
                );
            }
            assert!(c.record_kind(crate::catalog::DOCUMENT_REVIEW).is_some());
        }
    }

    #[test]
    fn iso27001_has_clauses_4_to_10_and_93_annex_a_controls_in_four_themes() {
        let c = cat("iso27001:2022");
        let top: Vec<&str> = c
            .clauses
            .iter()
            .filter(|cl| cl.is_top_level())
            .map(|cl| cl.id.as_str())
            .collect();
        assert_eq!(top, ["4", "5", "6", "7", "8", "9", "10", "A"]);
        let main = c
            .clauses
            .iter()
            .filter(|cl| !cl.id.starts_with('A'))
            .count();
        assert_eq!(main, 41);
        assert_eq!(children_of(&c, "A"), ["A.5", "A.6", "A.7", "A.8"]);
        let themes: Vec<usize> = ["A.5", "A.6", "A.7", "A.8"]
            .iter()
            .map(|t| children_of(&c, t).len())
            .collect();
        assert_eq!(themes, [37, 8, 14, 34]);
        let controls: Vec<_> = c
            .clauses
            .iter()
            .filter(|cl| cl.id.starts_with("A.") && cl.depth() == 2)
            .collect();
        assert_eq!(controls.len(), 93);
        // Numbered 1..n without gaps in each theme.
        for (theme, n) in [("5", 37), ("6", 8), ("7", 14), ("8", 34)] {
            let want: Vec<String> = (1..=n).map(|i| format!("A.{theme}.{i}")).collect();
            assert_eq!(children_of(&c, &format!("A.{theme}")), want);
        }
        // Annex A controls may be excluded in the SoA; clauses 4 to 10 may not.
        assert!(c.exclusions_allowed);
        for cl in &c.clauses {
            assert_eq!(
                cl.excludable,
                controls.iter().any(|k| k.id == cl.id),
                "{}",
                cl.id
            );
        }
        assert_eq!(
            c.clause("A.8.34").unwrap().title,
            "Protection of information systems during audit testing"
        );
        assert_eq!(c.clause("6.3").unwrap().title, "Planning of changes");
        assert_eq!(c.clause("10.1").unwrap().title, "Continual improvement");
        // The documented information 27001 demands.
        for d in [
            "isms-scope",
            "information-security-policy",
            "risk-assessment-process",
            "risk-treatment-process",
            "statement-of-applicability",
            "risk-treatment-plan",
            "is-objectives",
        ] {
            assert!(c.named_document(d).is_some(), "{d}");
        }
        assert_eq!(
            c.clause("6.1.3").unwrap().documents,
            [
                "risk-treatment-process",
                "statement-of-applicability",
                "risk-treatment-plan"
            ]
        );
        assert_eq!(c.clause("8.2").unwrap().records, ["risk-assessment"]);
        assert_eq!(
            c.clause("9.2.2").unwrap().records,
            ["audit-programme", "internal-audit"]
        );
        assert_eq!(c.clause("9.3.3").unwrap().records, ["management-review"]);
        assert_eq!(c.clause("10.2").unwrap().records, ["nonconformity"]);
        assert_eq!(c.clause("7.2").unwrap().records, ["competence"]);
    }

    #[test]
    fn iso9001_has_its_clause_tree_and_excludes_only_clause_8_and_7_1_5() {
        let c = cat("iso9001:2015");
        assert_eq!(c.clauses.len(), 75);
        let per_top: Vec<usize> = ["4", "5", "6", "7", "8", "9", "10"]
            .iter()
            .map(|t| {
                c.clauses
                    .iter()
                    .filter(|cl| cl.id == *t || cl.id.starts_with(&format!("{t}.")))
                    .count()
            })
            .collect();
        assert_eq!(per_top, [5, 8, 4, 17, 27, 10, 4]);
        assert_eq!(
            children_of(&c, "8"),
            ["8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7"]
        );
        assert_eq!(children_of(&c, "8.3").len(), 6);
        assert_eq!(children_of(&c, "10"), ["10.1", "10.2", "10.3"]);
        assert!(c.exclusions_allowed);
        for cl in &c.clauses {
            let want = (cl.id.starts_with("8.") && cl.id != "8.1") || cl.id.starts_with("7.1.5");
            assert_eq!(cl.excludable, want, "{}", cl.id);
        }
        assert!(c.named_document("quality-policy").is_some());
        assert!(c.named_document("qms-scope").is_some());
        assert_eq!(
            c.clause("9.3.3").unwrap().title,
            "Management review outputs"
        );
    }

    #[test]
    fn iso20000_2011_has_its_clause_tree() {
        let c = cat("iso20000-1:2011");
        assert_eq!(c.clauses.len(), 53);
        let top: Vec<&str> = c
            .clauses
            .iter()
            .filter(|cl| cl.is_top_level())
            .map(|cl| cl.id.as_str())
            .collect();
        assert_eq!(top, ["4", "5", "6", "7", "8", "9"]);
        assert_eq!(children_of(&c, "4.5.4"), ["4.5.4.1", "4.5.4.2", "4.5.4.3"]);
        assert!(!c.exclusions_allowed);
        assert!(c.clauses.iter().all(|cl| !cl.excludable));
        // Every 2011 id the 2018 catalogue knows as superseded is a clause of the 2011 tree.
        let y2018 = cat("iso20000-1:2018");
        for old in y2018.superseded.keys() {
            assert!(c.clause(old).is_some(), "{old}");
        }
        // The 2018 catalogue is unchanged: nothing in it is excludable.
        assert!(y2018.clauses.iter().all(|cl| !cl.excludable));
    }

    #[test]
    fn every_builtin_mapping_resolves() {
        let maps = builtin_mappings().unwrap();
        assert_eq!(maps.len(), BUILTIN_MAPPINGS.len());
        let all = builtins().unwrap();
        let get = |id: &str| all.iter().find(|c| c.id == id).unwrap();
        for m in &maps {
            let (from, to) = (get(&m.from), get(&m.to));
            assert!(!m.pairs.is_empty(), "{}", m.id);
            for p in &m.pairs {
                assert!(from.clause(&p.from).is_some(), "{}: {}", m.id, p.from);
                assert!(to.clause(&p.to).is_some(), "{}: {}", m.id, p.to);
                for s in &p.shared {
                    for c in [from, to] {
                        assert!(
                            c.record_kind(s).is_some() || c.named_document(s).is_some(),
                            "{}: {s} in {}",
                            m.id,
                            c.id
                        );
                    }
                }
            }
        }
        // The harmonised structure is mapped both ways round between each pair of 2018-era
        // frameworks, and the shared kinds the issue names are flagged.
        let pairs: BTreeSet<(&str, &str)> = maps
            .iter()
            .map(|m| (m.from.as_str(), m.to.as_str()))
            .collect();
        for want in [
            ("iso20000-1:2018", "iso27001:2022"),
            ("iso20000-1:2018", "iso9001:2015"),
            ("iso27001:2022", "iso9001:2015"),
            ("iso20000-1:2011", "iso20000-1:2018"),
        ] {
            assert!(pairs.contains(&want), "{want:?}");
        }
        let r = crate::catalog::mapping::related(&maps, "iso27001:2022", "9.2.2");
        let to_20000 = r.iter().find(|r| r.framework == "iso20000-1:2018").unwrap();
        assert_eq!(to_20000.clause, "9.2");
        assert_eq!(to_20000.relation, crate::catalog::Relation::Subset);
        assert!(to_20000.shared.contains(&"audit-programme".to_string()));
        let to_9001 = r.iter().find(|r| r.framework == "iso9001:2015").unwrap();
        assert_eq!(to_9001.clause, "9.2");
        for (fw, clause, kind) in [
            ("iso20000-1:2018", "9.3", "management-review"),
            ("iso20000-1:2018", "10.1", "nonconformity"),
        ] {
            let r = crate::catalog::mapping::related(&maps, fw, clause);
            assert!(
                r.iter()
                    .filter(|r| r.framework == "iso27001:2022")
                    .all(|r| r.shared.contains(&kind.to_string())),
                "{fw} {clause}"
            );
        }
        // Every 2011 clause that is not a heading has a 2018 counterpart.
        let y2011 = get("iso20000-1:2011");
        let m = maps.iter().find(|m| m.from == "iso20000-1:2011").unwrap();
        for cl in y2011.clauses.iter().filter(|c| c.children.is_empty()) {
            assert!(m.pairs.iter().any(|p| p.from == cl.id), "{}", cl.id);
        }
    }

    #[test]
    fn the_2011_mapping_agrees_with_the_2018_superseded_map() {
        let maps = builtin_mappings().unwrap();
        let m = maps.iter().find(|m| m.from == "iso20000-1:2011").unwrap();
        let y2011 = cat("iso20000-1:2011");
        let y2018 = cat("iso20000-1:2018");
        for (old, successors) in &y2018.superseded {
            if !y2011.clause(old).unwrap().children.is_empty() {
                continue; // the mapping pairs leaves; a heading's successors are its children's
            }
            for s in successors {
                assert!(
                    m.pairs
                        .iter()
                        .any(|p| &p.from == old
                            && (&p.to == s || p.to.starts_with(&format!("{s}.")))),
                    "superseded says {old} -> {s}; the mapping does not"
                );
            }
        }
    }
}
