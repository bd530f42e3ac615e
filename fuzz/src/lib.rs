//! What each fuzz target feeds to auditbook and the invariants it checks (issue 8).
//!
//! Every function takes raw bytes, runs one parser of untrusted input exactly as the pipeline
//! does, and panics when an invariant breaks. The fuzz targets in `fuzz_targets/` call these
//! functions; `tests/testsuite/fuzz_regressions.rs` includes this very file (`#[path]`) and runs
//! every kept input in `tests/fuzz-regressions/<target>/` through them under plain `cargo test`,
//! so a fixed crash stays fixed without a nightly toolchain.
//!
//! Invariants, beyond "no panic, no hang":
//! - every finding has a registered code (a `debug_assert` in `Diagnostic::new`), and a position
//!   inside the text it is about (1-based, on an existing line);
//! - accepted ids are valid ids (they name output files);
//! - heading anchors of a body are unique and non-empty; links classify the same way twice;
//!   `javascript:`-like links are never external; a resolved relative link never leaves the SMS;
//! - a YAML tree respects the depth and node budgets it was parsed with;
//! - rendered HTML holds no script, event handler, style, frame, SVG or form, no URL with a
//!   scheme other than http, https and mailto, no remote image, and every generated heading id
//!   exactly once.

use auditbook::config::Config;
use auditbook::diag::Diagnostic;
use auditbook::markdown::{self, LinkTarget, Split};
use auditbook::site::html::{self, Links};
use auditbook::yaml::{self, Node, Value};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// A minimal valid sms.yaml: the default settings every target runs with.
const MINIMAL_CONFIG: &str =
    "organisation: Fuzz Ltd\nscope: Fuzzing.\nframework: iso20000-1:2018\n";

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        auditbook::config::parse(Path::new("/sms"), MINIMAL_CONFIG)
            .expect("the minimal sms.yaml parses")
            .0
    })
}

/// The input as text: the pipeline refuses non-UTF-8 files before parsing, so lossy decoding
/// only widens what the parsers see.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Number of lines of `text` as a position can name them (a final newline opens one more).
fn line_count(text: &str) -> u32 {
    text.split('\n').count() as u32
}

/// Every finding about `path` points at an existing line and a column >= 1.
fn check_positions(text: &str, path: &str, diags: &[Diagnostic]) {
    let lines = line_count(text);
    for d in diags {
        if let Some(pos) = d.pos {
            assert!(
                pos.line >= 1 && pos.line <= lines && pos.col >= 1,
                "finding {} at {}:{} outside a text of {lines} lines: {}",
                d.code,
                pos.line,
                pos.col,
                d.message
            );
        }
        if let Some(p) = &d.path {
            assert_eq!(p, path, "finding {} about another file", d.code);
        }
    }
}

fn depth(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 0,
        Value::Seq(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| depth(k).max(depth(v)))
                .max()
                .unwrap_or(0)
        }
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
    }
}

/// A parsed YAML tree stays within its budgets and its positions within the text.
fn check_yaml(text: &str, limits: yaml::Limits) {
    match yaml::parse(text, limits) {
        Ok(Some(node)) => {
            assert!(
                depth(&node) <= limits.max_depth,
                "YAML deeper than its limit"
            );
            assert!(
                count(&node) <= limits.max_nodes,
                "YAML larger than its node budget"
            );
            let lines = line_count(text);
            assert!(
                node.pos.line >= 1 && node.pos.line <= lines,
                "root at {:?}",
                node.pos
            );
        }
        Ok(None) => {}
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(
                e.pos.line <= line_count(text) + 1,
                "YAML error at {:?} beyond the text",
                e.pos
            );
        }
    }
}

/// `frontmatter`: normalise, split, parse the YAML block, then `source::parse_document`.
pub fn frontmatter(data: &[u8]) {
    let raw = text(data);
    let norm = markdown::normalise(&raw);
    assert!(!norm.contains('\r'), "normalise left a CR");
    let norm = norm.into_owned();
    match markdown::split(&norm) {
        Split::Missing => assert!(!norm.starts_with("---\n") && norm != "---"),
        Split::Unclosed => assert!(norm.starts_with("---")),
        Split::Found {
            yaml: block,
            yaml_line,
            body,
            body_line,
        } => {
            assert_eq!(yaml_line, 2);
            assert!(norm.starts_with("---\n"));
            assert!(norm.ends_with(body), "the body is the end of the file");
            let head = &norm[..norm.len() - body.len()];
            if !body.is_empty() {
                let newlines = head.matches('\n').count() as u32;
                assert_eq!(body_line, newlines + 1, "body_line does not match the text");
            }
            assert_eq!(
                &norm[4..4 + block.len()],
                block,
                "the YAML block follows `---`"
            );
            check_yaml(block, yaml::Limits::default());
        }
    }
    let mut diags = Vec::new();
    let path = "policies/fuzz.md";
    let doc = auditbook::source::parse_document(config(), path, &norm, &mut diags);
    check_positions(&norm, path, &diags);
    if let Some(doc) = doc {
        assert_eq!(
            auditbook::ids::invalid_reason(&doc.id),
            None,
            "accepted id {:?}",
            doc.id
        );
        let lines = line_count(&norm);
        assert!(doc.body_line >= 1 && doc.body_line <= lines + 1);
        check_body(&doc.parsed, doc.body_line, lines);
    }
}

/// Heading anchors unique and non-empty, positions inside the file, links classified stably.
fn check_body(body: &markdown::Body, first_line: u32, lines: u32) {
    let mut anchors = HashSet::new();
    for h in &body.headings {
        assert!(!h.anchor.is_empty(), "empty anchor for {:?}", h.text);
        assert!(
            !h.anchor.contains(['_', '"', '<', '>', '&', '#', ' ']),
            "anchor {:?} holds a character slugs never hold",
            h.anchor
        );
        assert!(
            anchors.insert(h.anchor.as_str()),
            "anchor {:?} given twice",
            h.anchor
        );
        assert!(
            h.pos.line >= first_line && h.pos.line <= lines,
            "heading at {:?}",
            h.pos
        );
    }
    for l in &body.links {
        assert!(
            l.pos.line >= first_line && l.pos.line <= lines,
            "link at {:?}",
            l.pos
        );
        assert_eq!(
            markdown::classify(&l.raw),
            l.target,
            "classify is not stable"
        );
    }
    for p in &body.raw_html {
        assert!(p.line >= first_line && p.line <= lines, "raw HTML at {p:?}");
    }
}

/// `records`: `source::parse_records` on a record file.
pub fn records(data: &[u8]) {
    let t = markdown::normalise(&text(data)).into_owned();
    check_yaml(&t, yaml::Limits::default());
    let mut diags = Vec::new();
    let path = "records/incident/fuzz.yaml";
    let records = auditbook::source::parse_records(config(), path, &t, &mut diags);
    check_positions(&t, path, &diags);
    let mut ids = HashSet::new();
    for r in &records {
        assert_eq!(
            auditbook::ids::invalid_reason(&r.id),
            None,
            "accepted id {:?}",
            r.id
        );
        ids.insert(r.id.as_str());
        let mut keys = HashSet::new();
        for (k, _) in r.all_fields() {
            assert!(keys.insert(k), "field {k:?} twice in one record");
        }
    }
}

/// `sms_yaml`: `config::parse` on the text of an sms.yaml.
pub fn sms_yaml(data: &[u8]) {
    let t = text(data);
    match auditbook::config::parse(Path::new("/sms"), &t) {
        Ok((c, diags)) => {
            check_positions(
                &markdown::normalise(&t),
                auditbook::config::FILE_NAME,
                &diags,
            );
            assert!(!c.framework.is_empty());
            assert!(c.limits.yaml.max_depth <= 1024);
            for p in [
                &c.paths.records,
                &c.paths.frameworks,
                &c.paths.templates,
                &c.paths.output,
            ] {
                assert!(
                    !p.is_empty()
                        && !p.starts_with('/')
                        && p.split('/').all(|s| !matches!(s, "" | "." | "..")),
                    "configured folder {p:?} leaves the SMS root"
                );
            }
            for person in &c.people {
                assert!(!person.id.is_empty());
            }
        }
        Err(e) => {
            let m = format!("{e:#}");
            assert!(
                m.starts_with("sms.yaml:"),
                "a failure without a position: {m}"
            );
        }
    }
}

/// `catalog`: `catalog::parse` on a user framework file.
pub fn catalog(data: &[u8]) {
    // Framework files reach `catalog::parse` normalised by `source` (BOM, CRLF, lone CR).
    let t = markdown::normalise(&text(data)).into_owned();
    let mut diags = Vec::new();
    let path = "frameworks/fuzz.yaml";
    let cat = auditbook::catalog::parse(&t, path, &mut diags);
    check_positions(&t, path, &diags);
    if let Some(cat) = cat {
        let mut ids = HashSet::new();
        for c in &cat.clauses {
            assert!(ids.insert(c.id.as_str()), "clause {:?} twice", c.id);
            assert!(cat.clause(&c.id).is_some());
            // Walking up the tree ends: parents are defined before their children.
            let mut steps = 0;
            let mut at = c.parent.as_deref();
            while let Some(p) = at {
                steps += 1;
                assert!(
                    steps <= cat.clauses.len(),
                    "a cycle of parents at {:?}",
                    c.id
                );
                at = cat.clause(p).and_then(|c| c.parent.as_deref());
            }
            let _ = cat.covered_by_citation(&c.id);
        }
    }
}

/// `markdown_links`: `markdown::parse_body`, `classify` and `resolve_relative`. The first line
/// of the input is also used as the path of the linking file.
pub fn markdown_links(data: &[u8]) {
    let t = markdown::normalise(&text(data)).into_owned();
    let body = markdown::parse_body(&t, 1);
    check_body(&body, 1, line_count(&t));
    let from_line = t.lines().next().unwrap_or("");
    for l in &body.links {
        check_classified(&l.raw, &l.target);
        if let LinkTarget::Relative { path, .. } = &l.target {
            for from in ["policies/sub/a.md", "a.md", from_line] {
                check_resolved(from, path);
            }
        }
    }
    // Every line also as a destination of its own, with the first line as the linking file.
    for line in t.lines().take(64) {
        let target = markdown::classify(line);
        check_classified(line, &target);
        check_resolved(from_line, line);
    }
}

/// What a destination's scheme allows it to be classified as.
fn check_classified(raw: &str, target: &LinkTarget) {
    let d = raw.trim().to_ascii_lowercase();
    match target {
        LinkTarget::External => assert!(
            d.starts_with("http:")
                || d.starts_with("https:")
                || d.starts_with("mailto:")
                || d.starts_with("//"),
            "{raw:?} classified as external"
        ),
        LinkTarget::Relative { .. } | LinkTarget::Anchor(_) => {
            if let Some(s) = scheme_of(&d) {
                panic!("{raw:?} has the scheme {s:?} but was classified as {target:?}");
            }
        }
        LinkTarget::Clause(_) | LinkTarget::Doc { .. } | LinkTarget::Unsafe => {}
    }
    for bad in ["javascript:", "vbscript:", "data:", "file:"] {
        if d.starts_with(bad) {
            assert_eq!(*target, LinkTarget::Unsafe, "{raw:?}");
        }
    }
}

/// The scheme of a destination as `classify` reads one (letters, digits, `+-.` before a `:`).
fn scheme_of(s: &str) -> Option<&str> {
    let sch = &s[..s.find(':')?];
    let ok = !sch.is_empty()
        && sch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some(sch)
}

/// A relative link resolved from a plain SMS path never leaves the SMS root.
fn check_resolved(from: &str, target: &str) {
    let plain_from = !from.is_empty()
        && !from.starts_with('/')
        && from.split('/').all(|s| !matches!(s, "" | "." | ".."));
    if let Some(r) = markdown::resolve_relative(from, target) {
        if plain_from {
            assert!(
                !r.starts_with('/') && r.split('/').all(|s| !matches!(s, "." | "..")),
                "{target:?} from {from:?} resolved to {r:?}"
            );
            assert!(r.is_empty() || r.split('/').all(|s| !s.is_empty()), "{r:?}");
        }
    }
}

/// The links a rendered test page may resolve: one other document, one clause, a few files.
fn links() -> &'static Arc<Links> {
    static LINKS: OnceLock<Arc<Links>> = OnceLock::new();
    LINKS.get_or_init(|| {
        let mut l = Links::default();
        l.documents.insert("pol-a".into(), "POL-A".into());
        l.document_paths
            .insert("policies/a.md".into(), "POL-A".into());
        l.clauses.insert("8.5.1".into(), "8.5.1".into());
        for f in [
            "policies/img/a.png",
            "policies/x.html",
            "policies/d.svg",
            "policies/r.pdf",
            "policies/sub/evil.svg",
        ] {
            l.files.insert(f.into());
        }
        // what the site's allow-list would let through (`site::attachment`)
        for f in ["policies/img/a.png", "policies/r.pdf"] {
            l.copyable.insert(f.into());
        }
        for f in ["policies/img/a.png", "policies/d.svg"] {
            l.images.insert(f.into());
        }
        Arc::new(l)
    })
}

/// `render`: `site::html::render` of an untrusted body, then a scan of the HTML it emits.
pub fn render(data: &[u8]) {
    let t = markdown::normalise(&text(data)).into_owned();
    let parsed = markdown::parse_body(&t, 1);
    let anchors: Vec<String> = parsed.headings.iter().map(|h| h.anchor.clone()).collect();
    let r = html::render(links(), "policies/sub/p.md", "../", &t, &parsed);
    check_html(&r.html, &anchors);
    for a in &r.attachments {
        assert!(
            links().copyable.contains(a) || links().images.contains(a),
            "attachment {a:?} is not a file the allow-list lets through"
        );
    }
}

/// Tags that must never come out of the sanitiser.
const FORBIDDEN_TAGS: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "link",
    "meta",
    "base",
    "form",
    "textarea",
    "button",
    "select",
    "template",
    "noscript",
    "audio",
    "video",
    "source",
    "track",
    "canvas",
    "portal",
    "html",
    "head",
    "body",
    "title",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "marquee",
    "image",
    "use",
    "foreignobject",
];

/// Attributes that could run code, load a resource or restyle the page.
const FORBIDDEN_ATTRIBUTES: &[&str] = &[
    "style",
    "srcdoc",
    "formaction",
    "action",
    "srcset",
    "xlink:href",
    "background",
    "poster",
    "ping",
    "data",
    "codebase",
    "dynsrc",
    "lowsrc",
    "http-equiv",
    "content",
    "target",
];

#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// The start tags of sanitised HTML (as html5ever serialises it: every `<` in text is escaped,
/// attribute values are double-quoted).
fn start_tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if b.get(i) == Some(&b'/') {
            let end = html[i..].find('>').expect("an end tag is closed");
            let name = &html[i + 1..i + end];
            assert!(
                !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric()),
                "odd end tag {name:?}"
            );
            i += end + 1;
            continue;
        }
        let start = i;
        while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        assert!(!name.is_empty(), "a raw `<` in the output at byte {start}");
        let mut attrs = Vec::new();
        loop {
            while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            match b.get(i) {
                None => panic!("unclosed tag <{name}"),
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(b'/') if b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break;
                }
                Some(_) => {}
            }
            let a = i;
            while b
                .get(i)
                .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
            {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            assert!(!attr.is_empty(), "odd attribute in <{name}");
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                assert_eq!(b.get(i), Some(&b'"'), "unquoted value of {attr} in <{name}");
                let end = html[i + 1..].find('"').expect("a closed attribute value");
                value = decode_entities(&html[i + 1..i + 1 + end]);
                i += end + 2;
            }
            attrs.push((attr, value));
        }
        out.push(Tag { name, attrs });
    }
    out
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let ent = &rest[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "nbsp" => Some('\u{a0}'),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The scheme of a URL as a browser reads it: ASCII whitespace and controls removed first.
fn url_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let end = cleaned.find([':', '/', '?', '#'])?;
    (cleaned.as_bytes()[end] == b':').then(|| cleaned[..end].to_string())
}

fn check_html(html: &str, anchors: &[String]) {
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<svg", "<style", "<object", "<embed"] {
        assert!(!lower.contains(bad), "{bad} in the rendered HTML:\n{html}");
    }
    let tags = start_tags(html);
    let mut plain_ids = HashSet::new();
    let mut heading_ids = HashSet::new();
    for t in &tags {
        assert!(
            !FORBIDDEN_TAGS.contains(&t.name.as_str()),
            "<{}> in:\n{html}",
            t.name
        );
        for (a, v) in &t.attrs {
            assert!(
                !a.starts_with("on"),
                "event handler {a} on <{}>:\n{html}",
                t.name
            );
            assert!(
                !FORBIDDEN_ATTRIBUTES.contains(&a.as_str()),
                "{a} on <{}>:\n{html}",
                t.name
            );
            if matches!(a.as_str(), "href" | "src") {
                if let Some(s) = url_scheme(v) {
                    assert!(
                        matches!(s.as_str(), "http" | "https" | "mailto") && a == "href",
                        "{a}={v:?} on <{}>:\n{html}",
                        t.name
                    );
                }
                if a == "src" {
                    assert!(!v.trim_start().starts_with("//"), "remote image {v:?}");
                }
            }
            if a == "id" && !v.starts_with(html::AUTHOR_ID_PREFIX) {
                assert!(plain_ids.insert(v.clone()), "id {v:?} twice:\n{html}");
                if matches!(t.name.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                    heading_ids.insert(v.clone());
                }
            }
        }
    }
    for a in anchors {
        assert!(
            heading_ids.contains(a),
            "heading anchor {a:?} is not a heading's id:\n{html}"
        );
    }
}
