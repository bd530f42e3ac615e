//! File names that survive being unzipped anywhere. On Windows and macOS two names that differ only
//! in case, in Unicode normalisation (NFC and NFD spellings of `é`) or in trailing dots and spaces
//! (`evidence.pdf.`) name one file, so the second one unzipped overwrites the first; and Windows
//! cannot create a file called `CON`, `NUL`, `COM1`… with any extension. The bundle leaves such
//! files out (`file-name-unportable`) and `verify` reports them in a received zip.

use std::collections::HashMap;

/// Why a path cannot be unzipped as itself on Windows, or `None`.
pub fn reserved(path: &str) -> Option<&'static str> {
    for part in path.split('/') {
        if part.ends_with('.') || part.ends_with(' ') {
            return Some("a name that ends with a dot or a space, which Windows drops");
        }
        let stem = part.split('.').next().unwrap_or(part).trim_end_matches(' ');
        let upper = stem.to_ascii_uppercase();
        let numbered = |prefix: &str| {
            upper.strip_prefix(prefix).is_some_and(|n| {
                (n.len() == 1 && n.as_bytes()[0].is_ascii_digit() && n != "0")
                    || matches!(n, "¹" | "²" | "³")
            })
        };
        if matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
            || numbered("COM")
            || numbered("LPT")
        {
            return Some(
                "a Windows reserved name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension)",
            );
        }
    }
    None
}

/// The name a case-insensitive, normalising file system stores: NFC, lower case, trailing dots
/// and spaces dropped, component by component.
pub fn key(path: &str) -> String {
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
    path.split('/')
        .map(|part| {
            let folded = nfc.normalize(part).to_lowercase();
            nfc.normalize(folded.trim_end_matches(['.', ' ']))
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A path that cannot be unzipped as itself, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unportable<'a> {
    pub path: &'a str,
    /// The earlier path it collides with, when that is the reason.
    pub collides_with: Option<&'a str>,
    pub reason: &'static str,
}

/// Every path of `paths` (in the order given; the first of colliding names is kept) that is a
/// reserved name or collides with an earlier one.
pub fn problems<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<Unportable<'a>> {
    let mut seen: HashMap<String, &'a str> = HashMap::new();
    let mut out = Vec::new();
    for path in paths {
        if let Some(reason) = reserved(path) {
            out.push(Unportable {
                path,
                collides_with: None,
                reason,
            });
            continue;
        }
        match seen.entry(key(path)) {
            std::collections::hash_map::Entry::Occupied(first) => out.push(Unportable {
                path,
                collides_with: Some(first.get()),
                reason: "a name that collides with another when unzipped on Windows or macOS (case, Unicode normalisation, trailing dots or spaces)",
            }),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_with_any_extension() {
        for r in [
            "CON",
            "con.txt",
            "a/Nul.tar.gz",
            "COM1.pdf",
            "lpt9",
            "AUX .md",
            "x/evidence.pdf.",
            "b ",
        ] {
            assert!(reserved(r).is_some(), "{r}");
        }
        for ok in ["CONTRACT.pdf", "com10.txt", "com0", "console.md", "a.b/c"] {
            assert!(reserved(ok).is_none(), "{ok}");
        }
    }

    #[test]
    fn collisions_under_case_nfc_and_trailing_dots() {
        let nfd = "caf\u{65}\u{301}.md";
        let paths = ["Evidence.pdf", "evidence.pdf", "café.md", nfd, "other.md"];
        let p = problems(paths);
        let got: Vec<(&str, Option<&str>)> = p.iter().map(|u| (u.path, u.collides_with)).collect();
        assert_eq!(
            got,
            [
                ("evidence.pdf", Some("Evidence.pdf")),
                (nfd, Some("café.md"))
            ]
        );
        assert_eq!(key("A/B./c. "), "a/b/c");
    }
}
