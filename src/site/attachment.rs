//! Which files a document links to may be copied into the evidence site.
//!
//! An auditor opens the site from `file://`, where a browser picks a file's type from its name
//! and, for some types (HTML, XHTML, SVG, and every XML-family name it knows: `.xsd`, `.rss`,
//! `.atom`, `.rng`, `.xbl`, server-side-include names such as `.shtm`…), runs the script inside.
//! A deny-list of such names can never be complete, so this is an ALLOW-LIST of passive types:
//! a file is copied only when its extension is one of [`PASSIVE`] AND its bytes look like that
//! type ([`Sniff`]): the magic bytes of a binary format, or, for text types, valid UTF-8 with no
//! markup start (`<` followed by a letter, `/`, `!` or `?`). Every other file the site lists
//! (name, size, SHA-256, where the auditor bundle holds it) and does not copy.

/// How the bytes of an allowed type are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// The file starts with one of these byte strings.
    Magic(&'static [&'static [u8]]),
    /// `at` bytes into the file, one of these byte strings.
    MagicAt(usize, &'static [&'static [u8]]),
    /// Valid UTF-8 with no markup start.
    Text,
}

const ZIP: &[&[u8]] = &[b"PK\x03\x04", b"PK\x05\x06"];
const OLE: &[&[u8]] = &[b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"];

/// The passive types: extension (lower case) -> how its bytes are checked. README "Security"
/// lists these.
pub const PASSIVE: &[(&str, Sniff)] = &[
    // documents
    ("pdf", Sniff::Magic(&[b"%PDF-"])),
    ("rtf", Sniff::Magic(&[b"{\\rtf"])),
    ("docx", Sniff::Magic(ZIP)),
    ("xlsx", Sniff::Magic(ZIP)),
    ("pptx", Sniff::Magic(ZIP)),
    ("odt", Sniff::Magic(ZIP)),
    ("ods", Sniff::Magic(ZIP)),
    ("odp", Sniff::Magic(ZIP)),
    ("doc", Sniff::Magic(OLE)),
    ("xls", Sniff::Magic(OLE)),
    ("ppt", Sniff::Magic(OLE)),
    // images (never SVG: see `super::html::is_passive_svg` for SVG through `<img>`)
    ("png", Sniff::Magic(&[b"\x89PNG\r\n\x1a\n"])),
    ("jpg", Sniff::Magic(&[b"\xFF\xD8\xFF"])),
    ("jpeg", Sniff::Magic(&[b"\xFF\xD8\xFF"])),
    ("gif", Sniff::Magic(&[b"GIF87a", b"GIF89a"])),
    ("webp", Sniff::MagicAt(8, &[b"WEBP"])),
    ("avif", Sniff::MagicAt(4, &[b"ftypavif", b"ftypavis"])),
    ("bmp", Sniff::Magic(&[b"BM"])),
    ("ico", Sniff::Magic(&[b"\x00\x00\x01\x00"])),
    ("tif", Sniff::Magic(&[b"II*\x00", b"MM\x00*"])),
    ("tiff", Sniff::Magic(&[b"II*\x00", b"MM\x00*"])),
    // text
    ("txt", Sniff::Text),
    ("csv", Sniff::Text),
    ("md", Sniff::Text),
    // archives
    ("zip", Sniff::Magic(ZIP)),
    ("gz", Sniff::Magic(&[b"\x1F\x8B"])),
    ("tgz", Sniff::Magic(&[b"\x1F\x8B"])),
    ("tar", Sniff::MagicAt(257, &[b"ustar"])),
    ("7z", Sniff::Magic(&[b"7z\xBC\xAF\x27\x1C"])),
];

/// Image types an `<img>` may show (SVG aside, which is inspected on its own).
pub const IMAGES: &[&str] = &["png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico"];

/// The lower-cased extension of the last path segment, if any.
pub fn extension(path: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .filter(|(stem, _)| !stem.is_empty())
        .map(|(_, e)| e.to_ascii_lowercase())
}

/// Why a file is not copied, or `None` when it is a passive type whose bytes match it.
pub fn refusal(path: &str, bytes: Option<&[u8]>) -> Option<&'static str> {
    let Some(ext) = extension(path) else {
        return Some("no file extension");
    };
    let Some((_, sniff)) = PASSIVE.iter().find(|(e, _)| *e == ext) else {
        return Some("not a passive file type");
    };
    let Some(bytes) = bytes else {
        return Some("not read (not a regular file, or over `max_file_size`)");
    };
    let ok = match sniff {
        Sniff::Magic(m) => m.iter().any(|m| bytes.starts_with(m)),
        Sniff::MagicAt(at, m) => bytes
            .get(*at..)
            .is_some_and(|rest| m.iter().any(|m| rest.starts_with(m))),
        Sniff::Text => is_plain_text(bytes),
    };
    (!ok).then_some("its content does not match its extension")
}

/// Valid UTF-8 with no markup start: no `<` followed by a letter, `/`, `!` or `?` (a `<` in
/// "a < b" is fine; `<script`, `</x`, `<!--`, `<?xml` are not), and no NUL.
pub fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let b = text.as_bytes();
    !b.contains(&0)
        && !b.windows(2).any(|w| {
            w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passive_types_with_matching_bytes_are_copied() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(refusal("a/r.pdf", Some(b"%PDF-1.4\n%%EOF\n")), None);
        assert_eq!(refusal("a/F.PNG", Some(png)), None);
        assert_eq!(refusal("notes.txt", Some(b"a < b, and 3<4\n")), None);
        assert_eq!(refusal("d.docx", Some(b"PK\x03\x04rest")), None);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(refusal("x.tar", Some(&tar)), None);
        let html = b"<html><script>alert(1)</script></html>";
        // a .pdf that is HTML, a .png that is HTML, a text file with markup
        for (path, bytes) in [
            ("r.pdf", &html[..]),
            ("i.png", &html[..]),
            ("n.txt", b"hello <script>alert(1)</script>"),
            ("n.csv", b"<?xml version=\"1.0\"?><x/>"),
            ("n.md", b"text\n<!-- c -->"),
            ("n.txt", b"\xFF\xFE not utf-8"),
            ("x.tar", b"short"),
        ] {
            assert_eq!(
                refusal(path, Some(bytes)),
                Some("its content does not match its extension"),
                "{path}"
            );
        }
        for path in [
            "a.html", "a.svg", "a.xml", "a.xsd", "a.rss", "a.atom", "a.rng", "a.xbl", "a.shtm",
            "a.ehtml", "a.xhtml", "a.js", "a.json", "a.wasm", "a.exe", "README", ".pdf",
        ] {
            assert!(refusal(path, Some(b"%PDF-")).is_some(), "{path}");
        }
        assert!(refusal("big.pdf", None).is_some());
    }
}
