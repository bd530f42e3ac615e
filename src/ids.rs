//! Ids of documents and records, and "did you mean" suggestions.
//!
//! Ids name output files, so they are checked strictly: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`, and
//! never a Windows reserved device name. Uniqueness is case-insensitive.

/// Why an id is not acceptable, or `None` when it is.
pub fn invalid_reason(id: &str) -> Option<String> {
    let mut chars = id.chars();
    match chars.next() {
        None => return Some("the id is empty".into()),
        Some(c) if !c.is_ascii_alphanumeric() => {
            return Some(format!("`{id}` must start with a letter or digit"))
        }
        Some(_) => {}
    }
    if id.len() > 64 {
        return Some(format!("`{id}` is longer than 64 characters"));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "`{id}` contains `{bad}`; only letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    // The stem is ASCII (checked above): compared without case, with no copy (a million row
    // ids are checked).
    let stem = id.split('.').next().unwrap_or(id).as_bytes();
    let is = |word: &[u8]| stem.eq_ignore_ascii_case(word);
    let reserved = is(b"CON")
        || is(b"PRN")
        || is(b"AUX")
        || is(b"NUL")
        || (stem.len() == 4
            && (stem[..3].eq_ignore_ascii_case(b"COM") || stem[..3].eq_ignore_ascii_case(b"LPT"))
            && stem[3].is_ascii_digit());
    if reserved {
        return Some(format!("`{id}` is a reserved device name on Windows"));
    }
    None
}

/// The key under which ids are compared for uniqueness.
pub fn key(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// [`key`] for a lookup, without allocating for the usual short id: `f` gets the key.
pub fn with_key<T>(id: &str, f: impl FnOnce(&str) -> T) -> T {
    let mut buf = [0u8; 64];
    if id.len() <= buf.len() {
        let buf = &mut buf[..id.len()];
        buf.copy_from_slice(id.as_bytes());
        buf.make_ascii_lowercase();
        // ASCII lower-casing keeps UTF-8 valid.
        if let Ok(k) = std::str::from_utf8(buf) {
            return f(k);
        }
    }
    f(&key(id))
}

/// The candidate closest to `word` within `max` edits (ties: the first in order).
pub fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(word, c);
        if d <= max && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A file-name-safe lower-case slug of a text (for anchors and file names).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == ' ' || c == '-' || c == '_' {
            out.push('-');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for id in ["POL-CHG", "INC-2026-0042", "a", "x.y_z-1"] {
            assert_eq!(invalid_reason(id), None, "{id}");
        }
    }

    #[test]
    fn refuses_traversal_reserved_and_odd_ids() {
        for id in [
            "../../x",
            "",
            "-rf",
            "a/b",
            "CON",
            "com1",
            "nul.txt",
            "Lpt9.x",
            "aux",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(invalid_reason(id).is_some(), "{id}");
        }
    }

    /// Names that only start like a reserved device name are fine.
    #[test]
    fn near_reserved_names_are_ids() {
        for id in ["COM10", "CONS", "LPTX", "NULL", "com.1", "AUX-1"] {
            assert_eq!(invalid_reason(id), None, "{id}");
        }
    }

    #[test]
    fn slugs_like_the_format_docs_say() {
        assert_eq!(slug("Risk assessment"), "risk-assessment");
        assert_eq!(slug("8.5.1 Change (normal)"), "851-change-normal");
    }

    #[test]
    fn closest_suggests_within_distance() {
        let c = ["approved", "approver", "owner"];
        assert_eq!(closest("aproved", c.iter().copied(), 2), Some("approved"));
        assert_eq!(closest("zzzzzz", c.iter().copied(), 2), None);
    }
}
