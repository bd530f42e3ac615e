//! Markdown documents: our own frontmatter splitter, and the links and headings of the body with
//! their positions in the file.
//!
//! The frontmatter is split here, not by pulldown-cmark: pulldown-cmark takes a `---` pair in the
//! middle of a body as metadata, silently accepts an unclosed block and misses a byte-order mark.
//! A file has frontmatter only when its first line is exactly `---`; the block ends at the next
//! line that is exactly `---` or `...`. The body is parsed with metadata blocks disabled and every
//! position is shifted by the body's starting line.

use crate::yaml::Pos;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Result of splitting a document's text (already BOM-stripped and LF-normalised).
#[derive(Debug, PartialEq, Eq)]
pub enum Split<'a> {
    /// No frontmatter: the file does not start with a `---` line.
    Missing,
    /// Starts with `---` but never closes.
    Unclosed,
    Found {
        yaml: &'a str,
        /// 1-based line of the file on which the YAML starts (always 2).
        yaml_line: u32,
        body: &'a str,
        /// 1-based line of the file on which the body starts.
        body_line: u32,
    },
}

/// Strip a byte-order mark and turn CRLF and lone CR into LF.
pub fn normalise(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    // One pass and one copy (a month of a service desk's export can be 25 MB).
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

pub fn split(text: &str) -> Split<'_> {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| (text == "---").then_some(""))
    else {
        return Split::Missing;
    };
    let mut offset = 0;
    for (line, l) in (2u32..).zip(rest.split_inclusive('\n')) {
        let content = l.strip_suffix('\n').unwrap_or(l);
        if content == "---" || content == "..." {
            return Split::Found {
                yaml: &rest[..offset],
                yaml_line: 2,
                body: &rest[offset + l.len()..],
                body_line: line + 1,
            };
        }
        offset += l.len();
    }
    Split::Unclosed
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub anchor: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub target: LinkTarget,
    /// The destination as written.
    pub raw: String,
    pub is_image: bool,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LinkTarget {
    Clause(String),
    Doc {
        id: String,
        anchor: Option<String>,
    },
    /// `#anchor` in the same document.
    Anchor(String),
    /// A path relative to the linking file, percent-decoded, with an optional anchor.
    Relative {
        path: String,
        anchor: Option<String>,
    },
    /// http, https or mailto.
    External,
    /// Any other scheme (javascript:, data:, file:…): never followed, dropped by the site.
    Unsafe,
}

/// Bounds on what one body may hold (`sms.yaml` `limits:`), so that no body, however built, costs
/// the site more than time and memory proportional to its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deep Markdown containers (block quotes, lists, emphasis…) and raw HTML elements may
    /// nest, counted together as the elements of the rendered HTML.
    pub max_nesting_depth: usize,
    /// Headings per document that get an anchor, a table-of-contents entry and a search section.
    pub max_headings: usize,
    /// Markdown elements per document body: parser events (a tag's start and end, a run of
    /// text, a piece of inline code or raw HTML…). Past it the body is cut like one that nests too
    /// deep, so no body costs the parser, the rules and the sanitiser more than this much work.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nesting_depth: 64,
            max_headings: 1000,
            max_elements: 500_000,
        }
    }
}

/// Why a body was cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CutReason {
    /// It nests deeper than `limits.max_nesting_depth` (`nesting-too-deep`).
    Nesting,
    /// It holds more than `limits.max_elements` elements (`too-many-elements`).
    Elements,
}

/// Where a body first nests deeper than `limits.max_nesting_depth`, or reaches
/// `limits.max_elements`: the site renders what comes before as Markdown and the rest, from
/// `offset`, as plain escaped text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NestingCut {
    pub reason: CutReason,
    /// Number of parser events before the one that went too deep; `None` when a line opened too
    /// many containers at once ([`prefix_cut`]) or the body holds too many elements, and only
    /// the text before `offset` is parsed by the site.
    pub event: Option<usize>,
    /// Byte offset in the body where that event (or that line) starts.
    pub offset: usize,
    /// How much of the body the parser was given (all of it unless a line was cut).
    pub parsed_len: usize,
    pub pos: Pos,
}

/// Headings past `limits.max_headings`: rendered as headings, but with no anchor of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeadingsOver {
    /// How many headings the body holds past the limit.
    pub count: usize,
    /// The first of them.
    pub pos: Pos,
}

/// What the body holds that the rules and the site need.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Body {
    /// At most `limits.max_headings`, in order.
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    /// Positions of raw HTML (sanitised by the site).
    pub raw_html: Vec<Pos>,
    /// Positions of raw HTML that could run code (script, handlers, frames, javascript:).
    pub active_html: Vec<Pos>,
    pub words: usize,
    /// Set when the body nests too deep or holds too many elements; nothing past it is parsed (no
    /// headings, links or HTML).
    pub nesting_cut: Option<NestingCut>,
    pub headings_over: Option<HeadingsOver>,
}

/// Tracks how deep the rendered HTML nests, event by event: every Markdown tag counts one level
/// (pulldown-cmark emits one element per tag), and raw HTML elements are followed on a stack that
/// approximates the HTML tree builder: void elements do not nest, an end tag closes up to its
/// open element (a stray one is ignored), a `<p>`, `<li>`, `<td>`… closes an open element of the
/// same name as the builder would, and the stack is emptied at the end of each top-level block
/// (the site sanitises those separately). It can count more than the builder builds (raw-text
/// elements, misnested tags), never much less, so a body under the limit also renders in time
/// proportional to its size.
pub struct Nesting {
    max: usize,
    markdown: usize,
    html: Vec<String>,
}

/// Elements that never hold content.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

/// Elements whose start tag closes an open element of the same name (a simplification of the
/// HTML standard's implied end tags).
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "rtc",
];

impl Nesting {
    pub fn new(max: usize) -> Self {
        Nesting {
            max,
            markdown: 0,
            html: Vec::new(),
        }
    }

    /// Take one event; `false` when the depth has gone over the limit with it.
    pub fn step(&mut self, event: &Event<'_>) -> bool {
        let ok = match event {
            Event::Start(_) => {
                self.markdown += 1;
                self.depth() <= self.max
            }
            Event::End(_) => {
                self.markdown = self.markdown.saturating_sub(1);
                true
            }
            Event::Html(t) | Event::InlineHtml(t) => self.html(t),
            _ => true,
        };
        if self.markdown == 0 {
            self.html.clear();
        }
        ok
    }

    fn depth(&self) -> usize {
        self.markdown + self.html.len()
    }

    /// Follow the tags of a piece of raw HTML; `false` as soon as one opens too deep.
    fn html(&mut self, text: &str) -> bool {
        let b = text.as_bytes();
        let mut i = 0;
        while let Some(lt) = b[i..].iter().position(|&c| c == b'<') {
            i += lt + 1;
            if b[i..].starts_with(b"!--") {
                i = match text[i..].find("-->") {
                    Some(end) => i + end + 3,
                    None => b.len(),
                };
                continue;
            }
            let closing = b.get(i) == Some(&b'/');
            let start = i + usize::from(closing);
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                j += 1;
            }
            if j == start || !b[start].is_ascii_alphabetic() {
                continue;
            }
            let name = text[start..j].to_ascii_lowercase();
            // The end of the tag, skipping quoted attribute values.
            let mut quote = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (None, b'>') => break,
                    (None, q @ (b'"' | b'\'')) => quote = Some(q),
                    (Some(q), c) if c == q => quote = None,
                    _ => {}
                }
                j += 1;
            }
            let self_closed = j > 0 && b.get(j - 1) == Some(&b'/');
            i = j.min(b.len());
            if closing {
                if let Some(at) = self.html.iter().rposition(|n| *n == name) {
                    self.html.truncate(at);
                }
                continue;
            }
            if VOID_ELEMENTS.contains(&name.as_str()) {
                continue;
            }
            // `<x/>` closes itself only inside SVG and MathML; elsewhere the builder opens it.
            if self_closed && self.html.iter().any(|n| n == "svg" || n == "math") {
                continue;
            }
            if SELF_CLOSING_SIBLINGS.contains(&name.as_str()) {
                if let Some(at) = self.html.iter().rposition(|n| *n == name) {
                    self.html.truncate(at);
                }
            }
            self.html.push(name);
            if self.depth() > self.max {
                return false;
            }
        }
        true
    }
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// Maps byte offsets of a text to positions in its file.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    first_line: u32,
    /// The last offset asked for and its column: columns count characters from the line start,
    /// so a run of positions along one long line is counted incrementally, not from the start
    /// each time (a 10 MB line of inline HTML would otherwise cost quadratic time).
    last: std::cell::Cell<(usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str, first_line: u32) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text,
            starts,
            first_line,
            last: std::cell::Cell::new((0, 1)),
        }
    }

    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let (last, last_col) = self.last.get();
        let (from, col) = if last >= start && last <= offset {
            (last, last_col)
        } else {
            (start, 1)
        };
        let col = self
            .text
            .get(from..offset)
            .map_or(1, |s| s.chars().count() + col);
        self.last.set((offset, col));
        Pos::new(self.first_line + line as u32, col as u32)
    }
}

/// Parse a body with the default [`Limits`].
pub fn parse_body(body: &str, body_line: u32) -> Body {
    parse_body_with(body, body_line, Limits::default())
}

/// The byte offset of the first line that opens too many containers at once (`>` and list
/// markers before its text), counted before pulldown-cmark sees the body: its first pass builds
/// the tree of every block before the first event, so ten million `>` on one line cost gigabytes
/// before [`Nesting`] could stop them. The bound is four times the depth limit, so that
/// [`Nesting`] reports ordinary cases at the exact event; a code block line is counted too.
pub fn prefix_cut(body: &str, max_depth: usize) -> Option<usize> {
    let bound = max_depth.saturating_mul(4).max(64);
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let b = line.as_bytes();
        let (mut i, mut depth) = (0, 0usize);
        while i < b.len() {
            match b[i] {
                b' ' | b'\t' => i += 1,
                b'>' => {
                    depth += 1;
                    i += 1;
                }
                b'-' | b'*' | b'+' if matches!(b.get(i + 1), Some(b' ' | b'\t' | b'\n') | None) => {
                    depth += 2; // a list and its item
                    i += 1;
                }
                b'0'..=b'9' => {
                    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let after = b.get(i + digits + 1);
                    if digits <= 9
                        && matches!(b.get(i + digits), Some(b'.' | b')'))
                        && matches!(after, Some(b' ' | b'\t' | b'\n') | None)
                    {
                        depth += 2;
                        i += digits + 1;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
            if depth > bound {
                return Some(offset);
            }
        }
        offset += line.len();
    }
    None
}

/// Parse a body: headings with unique anchors, links, raw HTML; stop where it nests deeper than
/// the limit.
pub fn parse_body_with(body: &str, body_line: u32, limits: Limits) -> Body {
    let index = LineIndex::new(body, body_line);
    let mut out = Body::default();
    let mut nesting = Nesting::new(limits.max_nesting_depth);
    let prefix = prefix_cut(body, limits.max_nesting_depth);
    let parsed = &body[..prefix.unwrap_or(body.len())];
    let mut heading: Option<(u8, usize, String)> = None;
    // Next suffix to try per slug, and every anchor given (a heading titled `Risk-1` must not
    // collide with the second `Risk`).
    let mut seen_anchors: std::collections::HashMap<String, usize> = Default::default();
    let mut used_anchors: std::collections::HashSet<String> = Default::default();
    for (n, (event, range)) in Parser::new_ext(parsed, options())
        .into_offset_iter()
        .enumerate()
    {
        // Never at an end tag: its range starts where its element does, before text already
        // shown (a run of end tags is as long as the nesting, so the cut comes soon after).
        let reason = if n >= limits.max_elements && !matches!(event, Event::End(_)) {
            Some(CutReason::Elements)
        } else if !nesting.step(&event) {
            Some(CutReason::Nesting)
        } else {
            None
        };
        if let Some(reason) = reason {
            out.nesting_cut = Some(match reason {
                CutReason::Nesting => NestingCut {
                    reason,
                    event: Some(n),
                    offset: range.start,
                    parsed_len: parsed.len(),
                    pos: index.pos(range.start),
                },
                // The site parses only the text before the cut: a megabyte paragraph would
                // otherwise be parsed whole again to reach it. (What comes before may then
                // differ a little: an emphasis or a link closed past the cut stays open.)
                CutReason::Elements => NestingCut {
                    reason,
                    event: None,
                    offset: range.start,
                    parsed_len: range.start,
                    pos: index.pos(range.start),
                },
            });
            break;
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, range.start, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((_, start, _)) = heading.as_ref() {
                    if out.headings.len() >= limits.max_headings {
                        let over = out.headings_over.get_or_insert(HeadingsOver {
                            count: 0,
                            pos: index.pos(*start),
                        });
                        over.count += 1;
                        heading = None;
                    }
                }
                if let Some((level, start, text)) = heading.take() {
                    let base = crate::ids::slug(text.trim());
                    let base = if base.is_empty() {
                        "section".to_string()
                    } else {
                        base
                    };
                    let n = seen_anchors.entry(base.clone()).or_insert(0);
                    let mut anchor = if *n == 0 {
                        base.clone()
                    } else {
                        format!("{base}-{n}")
                    };
                    while used_anchors.contains(&anchor) {
                        *n += 1;
                        anchor = format!("{base}-{n}");
                    }
                    *n += 1;
                    used_anchors.insert(anchor.clone());
                    out.headings.push(Heading {
                        level,
                        text: text.trim().to_string(),
                        anchor,
                        pos: index.pos(start),
                    });
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
                out.words += t.split_whitespace().count();
            }
            Event::Start(Tag::Link { dest_url, .. }) => out.links.push(Link {
                target: classify(&dest_url),
                raw: dest_url.to_string(),
                is_image: false,
                pos: index.pos(range.start),
            }),
            Event::Start(Tag::Image { dest_url, .. }) => out.links.push(Link {
                target: classify(&dest_url),
                raw: dest_url.to_string(),
                is_image: true,
                pos: index.pos(range.start),
            }),
            Event::Html(t) | Event::InlineHtml(t) => {
                let pos = index.pos(range.start);
                out.raw_html.push(pos);
                if is_active_html(&t) {
                    out.active_html.push(pos);
                }
            }
            _ => {}
        }
    }
    if let (None, Some(offset)) = (out.nesting_cut, prefix) {
        out.nesting_cut = Some(NestingCut {
            reason: CutReason::Nesting,
            event: None,
            offset,
            parsed_len: offset,
            pos: index.pos(offset),
        });
    }
    out
}

/// Whether a piece of raw HTML could run code in a browser: a script, frame or embedded object,
/// an `on…=` event handler, or a `javascript:`/`vbscript:` URL. (The site's sanitiser removes all of
/// these; this only decides whether to tell the author.)
pub fn is_active_html(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let tags = [
        "<script", "<iframe", "<frame", "<object", "<embed", "<applet", "<base", "<meta",
    ];
    if tags.iter().any(|t| lower.contains(t))
        || lower.contains("javascript:")
        || lower.contains("vbscript:")
    {
        return true;
    }
    let b = lower.as_bytes();
    (0..b.len().saturating_sub(3)).any(|i| {
        if !(b[i].is_ascii_whitespace() || b[i] == b'/') || b[i + 1] != b'o' || b[i + 2] != b'n' {
            return false;
        }
        let mut j = i + 3;
        while j < b.len() && b[j].is_ascii_alphabetic() {
            j += 1;
        }
        let letters = j > i + 3;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        letters && j < b.len() && b[j] == b'='
    })
}

/// Classify a link destination.
pub fn classify(dest: &str) -> LinkTarget {
    let dest = dest.trim();
    if let Some(id) = dest.strip_prefix("clause:") {
        return LinkTarget::Clause(id.to_string());
    }
    if let Some(rest) = dest.strip_prefix("doc:") {
        let (id, anchor) = split_anchor(rest);
        return LinkTarget::Doc {
            id: id.to_string(),
            anchor,
        };
    }
    if let Some(a) = dest.strip_prefix('#') {
        return LinkTarget::Anchor(percent_decode(a));
    }
    if let Some(colon) = dest.find(':') {
        let scheme = &dest[..colon];
        let is_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !dest[..colon].contains('/');
        if is_scheme {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" | "mailto" => LinkTarget::External,
                _ => LinkTarget::Unsafe,
            };
        }
    }
    if dest.starts_with("//") {
        return LinkTarget::External;
    }
    let (path, anchor) = split_anchor(dest);
    let path = path.split('?').next().unwrap_or(path);
    LinkTarget::Relative {
        path: percent_decode(path),
        anchor,
    }
}

fn split_anchor(s: &str) -> (&str, Option<String>) {
    match s.split_once('#') {
        Some((p, a)) => (p, Some(percent_decode(a))),
        None => (s, None),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolve a relative link from the file at `from` (SMS-relative) to an SMS-relative path;
/// `None` when it leaves the SMS root.
pub fn resolve_relative(from: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        let mut p: Vec<&str> = from.split('/').collect();
        p.pop();
        p
    };
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass normalisation gives what two replacements gave (CRLF, then lone CR),
    /// for every string of up to six characters over `\r`, `\n`, `a` and `é`, after a BOM
    /// or not.
    #[test]
    fn normalise_is_crlf_then_cr_replaced() {
        let alphabet = ['\r', '\n', 'a', 'é'];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.chars().count() == texts.last().map_or(0, |l| l.chars().count()))
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        assert!(texts.len() > 5000);
        for t in &texts {
            let want = t.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(normalise(t), want.as_str(), "{t:?}");
            assert_eq!(normalise(&format!("\u{feff}{t}")), want.as_str(), "{t:?}");
        }
    }

    #[test]
    fn split_finds_frontmatter_and_body_line() {
        let t = "---\nid: A\ntitle: B\n---\n# Body\n";
        match split(t) {
            Split::Found {
                yaml,
                body,
                body_line,
                ..
            } => {
                assert_eq!(yaml, "id: A\ntitle: B\n");
                assert_eq!(body, "# Body\n");
                assert_eq!(body_line, 5);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn split_rejects_unclosed_and_needs_first_line() {
        assert_eq!(split("---\nid: A\n"), Split::Unclosed);
        assert_eq!(split("# Title\n---\nid: A\n---\n"), Split::Missing);
        assert_eq!(split("--- \nid: A\n---\n"), Split::Missing);
        assert!(matches!(
            split("---\nid: A\n...\nbody"),
            Split::Found { .. }
        ));
    }

    #[test]
    fn normalise_strips_bom_and_crlf() {
        assert_eq!(
            normalise("\u{feff}---\r\na: 1\r\n---\r\n"),
            "---\na: 1\n---\n"
        );
    }

    #[test]
    fn frontmatter_delimiter_in_code_block_is_body() {
        let t = "---\nid: A\n---\n```\n---\nnot: yaml\n---\n```\n";
        match split(t) {
            Split::Found { body, .. } => assert!(body.contains("not: yaml")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn body_links_and_headings_have_file_positions() {
        let body = "# Risk assessment\n\nSee [x](clause:8.5.1) and [y](doc:PRO-CHG#risk).\n\n## Risk assessment\n";
        let b = parse_body(body, 10);
        assert_eq!(b.headings[0].anchor, "risk-assessment");
        assert_eq!(b.headings[1].anchor, "risk-assessment-1");
        assert_eq!(b.headings[0].pos, Pos::new(10, 1));
        assert_eq!(b.links[0].target, LinkTarget::Clause("8.5.1".into()));
        assert_eq!(b.links[0].pos, Pos::new(12, 5));
        assert_eq!(
            b.links[1].target,
            LinkTarget::Doc {
                id: "PRO-CHG".into(),
                anchor: Some("risk".into())
            }
        );
    }

    #[test]
    fn heading_anchors_are_unique_even_when_a_title_looks_like_a_suffix() {
        let b = parse_body("# Risk-1\n# Risk\n# Risk\n# Risk 1\n", 1);
        let anchors: Vec<&str> = b.headings.iter().map(|h| h.anchor.as_str()).collect();
        assert_eq!(anchors, ["risk-1", "risk", "risk-2", "risk-1-1"]);
    }

    #[test]
    fn classify_schemes() {
        assert_eq!(classify("https://x"), LinkTarget::External);
        assert_eq!(classify("javascript:alert(1)"), LinkTarget::Unsafe);
        assert_eq!(classify("JaVaScRiPt:alert(1)"), LinkTarget::Unsafe);
        assert_eq!(
            classify("../plans/a%20b.md#x"),
            LinkTarget::Relative {
                path: "../plans/a b.md".into(),
                anchor: Some("x".into())
            }
        );
    }

    #[test]
    fn resolve_relative_stays_inside() {
        assert_eq!(
            resolve_relative("a/b.md", "../c.md").as_deref(),
            Some("c.md")
        );
        assert_eq!(resolve_relative("a/b.md", "../../c.md"), None);
        assert_eq!(
            resolve_relative("b.md", "./x/y.md").as_deref(),
            Some("x/y.md")
        );
    }
}
