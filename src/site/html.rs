//! Markdown bodies -> sanitised HTML for the evidence site.
//!
//! A document's body is untrusted: a policy author must not be able to run code in an auditor's
//! browser. pulldown-cmark renders the body (with `markdown::options()`), then ammonia sanitises
//! the whole result, raw HTML and Markdown alike, with an allow-list of tags and attributes.
//! Every URL goes through one resolver ([`Links::resolve`]): `clause:` and `doc:` links and
//! relative links to documents become relative page URLs; other files inside the SMS are copied
//! into the site (`files/…`); http, https and mailto links stay; anything else is dropped.
//!
//! Ids: heading ids come from the same slugs as `markdown::parse_body` (so `doc:X#anchor`
//! works), footnote ids are `fn_<slug>` / `fnref_<slug>`, and every other id (author HTML) gets the
//! prefix `u_`. Slugs never hold `_`, so the three can never collide.

use crate::markdown::{self, LinkTarget};
use crate::snapshot::{EntryKind, Snapshot};
use pulldown_cmark::{Alignment, CowStr, Event, LinkType, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What a rendered page may link to: owned, so the sanitiser's `'static` callback can hold it.
#[derive(Debug, Default)]
pub struct Links {
    /// Lower-cased document id -> (id as written, site file stem).
    pub documents: HashMap<String, String>,
    /// SMS path of a document -> its id.
    pub document_paths: HashMap<String, String>,
    /// Clause id -> file stem of its page.
    pub clauses: HashMap<String, String>,
    /// SMS paths of regular files that may be copied into the site.
    pub files: HashSet<String>,
    /// Files that may be copied into the site for a link: a passive type whose bytes match it
    /// (see [`super::attachment`]). Any other file a body links to is listed on its page.
    pub copyable: HashSet<String>,
    /// Files that may be copied into the site for an `<img>`: a passive image type whose bytes
    /// match it, or an SVG with no active content ([`is_passive_svg`]; an SVG opened directly
    /// from `files/` would run its own script).
    pub images: HashSet<String>,
}

impl Links {
    /// Links of a snapshot. A file may be copied only when it is a regular file within the size
    /// limits with a portable name (FIFOs, devices, files over `limits.max_file_size` or past
    /// `limits.max_output_size`, and names that collide when unzipped are not) AND passes the
    /// attachment allow-list; any other file a body links to is listed on its page.
    pub fn new(snapshot: &Snapshot, limits: &crate::config::Limits) -> Links {
        let not_copied = snapshot.not_copied(limits);
        let mut links = Links::default();
        for e in &snapshot.entries {
            let bytes = match &e.kind {
                EntryKind::File { bytes, .. } => bytes.as_deref(),
                EntryKind::TooLarge { .. } | EntryKind::NotRegular { .. } => None,
                EntryKind::Symlink { .. } | EntryKind::Submodule => continue,
            };
            links.files.insert(e.path.clone());
            if !snapshot.copyable(&not_copied, &e.path) {
                continue;
            }
            let ext = super::attachment::extension(&e.path).unwrap_or_default();
            let passive = super::attachment::refusal(&e.path, bytes).is_none();
            if passive {
                links.copyable.insert(e.path.clone());
            }
            let image = if ext == "svg" {
                bytes.is_some_and(is_passive_svg)
            } else {
                passive && super::attachment::IMAGES.contains(&ext.as_str())
            };
            if image {
                links.images.insert(e.path.clone());
            }
        }
        links
    }
}

impl Links {
    /// A digest of every target a link can resolve to: a body rendered with links of the same
    /// key resolves every URL the same way.
    pub fn key(&self) -> super::pages::Key {
        let mut h = super::pages::KeyHasher::default();
        let mut pairs = |map: &HashMap<String, String>| {
            let mut sorted: Vec<(&String, &String)> = map.iter().collect();
            sorted.sort_unstable();
            h.part(&(sorted.len() as u64).to_le_bytes());
            for (k, v) in sorted {
                h.part(k.as_bytes());
                h.part(v.as_bytes());
            }
        };
        pairs(&self.documents);
        pairs(&self.document_paths);
        pairs(&self.clauses);
        for set in [&self.files, &self.copyable, &self.images] {
            let mut sorted: Vec<&String> = set.iter().collect();
            sorted.sort_unstable();
            h.part(&(sorted.len() as u64).to_le_bytes());
            for p in sorted {
                h.part(p.as_bytes());
            }
        }
        h.finish()
    }
}

/// Where a URL in a body leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Use this URL (relative to the page, or external).
    Url(String),
    /// A file of the SMS, copied into the site; the URL is relative to the page.
    Attachment { url: String, path: String },
    /// A file of the SMS that is never copied (not a passive type, or its bytes do not match its
    /// extension): the page lists it with its size and SHA-256, and a link goes to that entry
    /// ([`listing_anchor`]); a Markdown image becomes a link (see [`render`]), and an `<img>`
    /// in raw HTML loses its `src`.
    Refused(String),
    /// Drop the URL.
    Dead,
}

/// Whether an SVG file holds nothing that could run when the file is opened directly: no script
/// element, event handler, `javascript:` or `data:` reference, foreign object or embedded frame.
/// Deliberately strict: an SVG that is not plainly passive is refused, not cleaned.
pub fn is_passive_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if markdown::is_active_html(text) {
        return false;
    }
    // what SVG adds to HTML's ways of running code or loading content
    let lower = text.to_ascii_lowercase();
    let svg_only = [
        "data:",
        "<foreignobject",
        "<handler",
        "<!entity",
        "xml-stylesheet",
    ];
    !svg_only.iter().any(|w| lower.contains(w))
}

/// The id of a file's entry in a page's list of files not copied: `file_` and the start of the
/// SHA-256 of its path (no slug holds `_`, and author ids start with `u_`).
pub fn listing_anchor(path: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(path.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("file_{hex}")
}

impl Links {
    /// Resolve a URL written in the body of the document at `from` (SMS path), for a page whose
    /// path to the site root is `root` (`../`). `image`: the URL is an `<img src>`.
    pub fn resolve(&self, from: &str, root: &str, dest: &str, image: bool) -> Resolved {
        match markdown::classify(dest) {
            LinkTarget::Clause(id) if !image => match self.clauses.get(id.trim()) {
                Some(stem) => Resolved::Url(format!("{root}clauses/{stem}.html")),
                None => Resolved::Dead,
            },
            LinkTarget::Doc { id, anchor } if !image => self.document_url(&id, anchor, root),
            LinkTarget::Clause(_) | LinkTarget::Doc { .. } => Resolved::Dead,
            LinkTarget::Anchor(a) if !image => Resolved::Url(format!("#{}", fragment(&a))),
            LinkTarget::Anchor(_) => Resolved::Dead,
            LinkTarget::External => {
                let d = dest.trim();
                if image || d.starts_with("//") {
                    Resolved::Dead
                } else {
                    Resolved::Url(d.to_string())
                }
            }
            LinkTarget::Unsafe => Resolved::Dead,
            LinkTarget::Relative { path, anchor } => {
                if path.is_empty() {
                    return match anchor {
                        Some(a) if !image => Resolved::Url(format!("#{}", fragment(&a))),
                        _ => Resolved::Dead,
                    };
                }
                let Some(target) = markdown::resolve_relative(from, &path) else {
                    return Resolved::Dead;
                };
                if !image {
                    if let Some(id) = self.document_paths.get(&target) {
                        return self.document_url(id, anchor, root);
                    }
                }
                if !self.files.contains(&target) {
                    return Resolved::Dead;
                }
                let allowed = if image {
                    self.images.contains(&target)
                } else {
                    self.copyable.contains(&target)
                };
                if !allowed {
                    return Resolved::Refused(target);
                }
                Resolved::Attachment {
                    url: format!("{root}files/{}", encode_path(&target)),
                    path: target,
                }
            }
        }
    }

    fn document_url(&self, id: &str, anchor: Option<String>, root: &str) -> Resolved {
        match self.documents.get(&crate::ids::key(id)) {
            Some(stem) => {
                let frag = anchor
                    .filter(|a| !a.is_empty())
                    .map(|a| format!("#{}", fragment(&a)))
                    .unwrap_or_default();
                Resolved::Url(format!("{root}documents/{stem}.html{frag}"))
            }
            None => Resolved::Dead,
        }
    }
}

/// Percent-encode each segment of an SMS path for a URL.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fragment for an href: characters that would end or break the attribute are encoded.
fn fragment(a: &str) -> String {
    let mut out = String::with_capacity(a.len());
    for c in a.chars() {
        if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '~') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Decode `%XX` escapes (for fragments compared with ids).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One section of a body as plain text, for the search index.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// `None` for the text before the first heading.
    pub anchor: Option<String>,
    pub heading: String,
    pub text: String,
}

/// A rendered body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    pub sections: Vec<Section>,
    /// SMS paths of files the body links to, to be copied into the site.
    pub attachments: BTreeSet<String>,
    /// SMS paths of files the body links to that are never copied.
    pub refused: BTreeSet<String>,
}

/// Per-body state shared with the sanitiser's callback.
#[derive(Default)]
struct State {
    /// The prefix our generated ids carry until the sanitiser strips it (see [`id_marker`]).
    marker: String,
    /// Every generated id, for same-page links.
    known: HashSet<String>,
    attachments: BTreeSet<String>,
    refused: BTreeSet<String>,
}

/// The prefix of ids written by the author.
pub const AUTHOR_ID_PREFIX: &str = "u_";

/// A prefix that marks the ids we generate (headings, footnotes) before sanitising, so the
/// sanitiser tells them from ids in the author's HTML whatever their order (an author's
/// `<span id="scope">` above `# Scope` must not take the heading's id). It is derived from the
/// body's hash, which the body cannot contain.
fn id_marker(body: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("auditbook-{hex}-")
}

/// Render a document body at `from` (SMS path) for a page at `root` (`../`), with what
/// `markdown::parse_body` found in it: the heading anchors (in order; headings past them get no
/// id and no section) and where the body nests too deep (the rest is shown as plain text).
pub fn render(
    links: &Arc<Links>,
    from: &str,
    root: &str,
    body: &str,
    parsed: &markdown::Body,
) -> Rendered {
    let anchors: Vec<&str> = parsed.headings.iter().map(|h| h.anchor.as_str()).collect();
    let mut generated: HashSet<String> = anchors.iter().map(|a| a.to_string()).collect();
    let marker = id_marker(body);
    let mut sections = vec![Section::default()];
    let mut heading_no = 0usize;
    let mut in_heading = false;
    // Footnotes: numbered in order of first reference, like pulldown-cmark.
    let mut footnote_numbers: HashMap<String, usize> = HashMap::new();
    let mut footnote_ids: HashMap<String, String> = HashMap::new();
    let mut used_fn_ids: HashSet<String> = HashSet::new();
    // Footnotes defined so far: a second definition of the same name gets no second id.
    let mut defined_fn_ids: HashSet<String> = HashSet::new();
    let fn_id = |name: &str, used: &mut HashSet<String>, ids: &mut HashMap<String, String>| {
        if let Some(id) = ids.get(name) {
            return id.clone();
        }
        let base = format!("fn_{}", crate::ids::slug(name));
        let mut id = base.clone();
        let mut n = 1;
        while used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        used.insert(id.clone());
        ids.insert(name.to_string(), id.clone());
        id
    };
    // Remote images become links: a stack of "this image became a link, had text?".
    let mut image_stack: Vec<Option<bool>> = Vec::new();
    // Table cells: pulldown-cmark writes a column's alignment as a `style` attribute, which the
    // sanitiser drops; we write it as a class instead (`align-left|center|right`).
    let mut alignments: Vec<Alignment> = Vec::new();
    let (mut in_head, mut column) = (false, 0usize);

    let mut events: Vec<Event<'_>> = Vec::new();
    // Top-level blocks as (end in `events`, holds the author's raw HTML), for `sanitise`.
    let mut blocks: Vec<(usize, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut author_html = false;
    // Bytes of Markdown text since the last tag (one text node for the sanitiser), and whether
    // the current block opened an element whose content is raw text (see [`push_text`]).
    let mut run = 0usize;
    let mut raw_text = false;
    let mut html_scan = HtmlRuns::default();
    // Where the body nests too deep: up to there it is Markdown, the rest plain text.
    let cut = parsed.nesting_cut;
    let text = match cut {
        Some(c) => body.get(..c.parsed_len).unwrap_or(body),
        None => body,
    };
    let mut cut_done = false;
    // The text past the cut, escaped here and added after sanitising: megabytes of plain text
    // gain nothing from the HTML parser but its time.
    let mut tail = String::new();
    for (n, event) in Parser::new_ext(text, markdown::options()).enumerate() {
        if let Some(c) = cut.filter(|c| c.event == Some(n)) {
            close_open_tags(&mut events);
            blocks.push((events.len(), author_html));
            tail = push_cut(
                &mut sections,
                body.get(c.offset..).unwrap_or_default(),
                c.reason,
            );
            cut_done = true;
            break;
        }
        match &event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Html(t) | Event::InlineHtml(t) => {
                author_html = true;
                raw_text |= opens_raw_text(t);
            }
            _ => {}
        }
        if !matches!(event, Event::Text(_)) {
            run = 0;
        }
        // Never inside an image: its text becomes the `alt` attribute.
        let split = !raw_text && image_stack.is_empty();
        match event {
            Event::Start(Tag::Heading { level, .. }) if heading_no >= anchors.len() => {
                // Past `limits.max_headings`: a plain heading, its text part of the section.
                heading_no += 1;
                events.push(Event::Start(Tag::Heading {
                    level,
                    id: None,
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
            }
            Event::Start(Tag::Heading { level, .. }) => {
                let anchor = anchors[heading_no].to_string();
                heading_no += 1;
                in_heading = true;
                sections.push(Section {
                    anchor: Some(anchor.clone()),
                    ..Section::default()
                });
                events.push(Event::Start(Tag::Heading {
                    level: below(level),
                    id: Some(CowStr::from(format!("{marker}{anchor}"))),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
            }
            Event::End(TagEnd::Heading(l)) => {
                in_heading = false;
                events.push(Event::End(TagEnd::Heading(below(l))));
            }
            Event::Text(t) | Event::Code(t) if in_heading => {
                if let Some(s) = sections.last_mut() {
                    s.heading.push_str(&t);
                }
                if let Some(Some(had)) = image_stack.last_mut() {
                    *had = true;
                }
                push_text(&mut events, t, &mut run, split);
            }
            Event::Text(t) => {
                if let Some(s) = sections.last_mut() {
                    s.text.push_str(&t);
                    s.text.push(' ');
                }
                if let Some(Some(had)) = image_stack.last_mut() {
                    *had = true;
                }
                push_text(&mut events, t, &mut run, split);
            }
            Event::Code(t) => {
                if let Some(s) = sections.last_mut() {
                    s.text.push_str(&t);
                    s.text.push(' ');
                }
                if let Some(Some(had)) = image_stack.last_mut() {
                    *had = true;
                }
                if split && t.len() > TEXT_RUN {
                    // what the writer writes for `Code`, with the text split
                    events.push(Event::InlineHtml(CowStr::Borrowed("<code>")));
                    let mut run = 0;
                    push_text(&mut events, t, &mut run, true);
                    events.push(Event::InlineHtml(CowStr::Borrowed("</code>")));
                } else {
                    events.push(Event::Code(t));
                }
            }
            // A remote image, or one the page may not show (a file the allow-list does not
            // let into an `<img>`, a dead target): a link instead, which then resolves as one
            // (to the file's entry in the list of files not copied), never an `<img>` with no
            // `src`.
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) if matches!(markdown::classify(&dest_url), LinkTarget::External)
                || !matches!(
                    links.resolve(from, root, &dest_url, true),
                    Resolved::Attachment { .. } | Resolved::Url(_)
                ) =>
            {
                image_stack.push(Some(false));
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title,
                    id: CowStr::from(""),
                }));
            }
            Event::Start(t @ Tag::Image { .. }) => {
                image_stack.push(None);
                events.push(Event::Start(t));
            }
            Event::End(TagEnd::Image) => match image_stack.pop() {
                Some(Some(had_text)) => {
                    if !had_text {
                        // An image link with no alt text: show where it points.
                        if let Some(Event::Start(Tag::Link { dest_url, .. })) = events
                            .iter()
                            .rev()
                            .find(|e| matches!(e, Event::Start(Tag::Link { .. })))
                        {
                            let text = format!("image: {dest_url}");
                            events.push(Event::Text(CowStr::from(text)));
                        }
                    }
                    events.push(Event::End(TagEnd::Link));
                }
                _ => events.push(Event::End(TagEnd::Image)),
            },
            Event::FootnoteReference(name) => {
                let next = footnote_numbers.len() + 1;
                let n = *footnote_numbers.entry(name.to_string()).or_insert(next);
                let id = fn_id(&name, &mut used_fn_ids, &mut footnote_ids);
                let refid = format!("fnref_{}", &id[3..]);
                let html = if generated.contains(&refid) {
                    // Second reference to the same note: no second id.
                    format!("<sup class=\"footnote-reference\"><a href=\"#{id}\">{n}</a></sup>")
                } else {
                    generated.insert(refid.clone());
                    format!(
                        "<sup class=\"footnote-reference\" id=\"{marker}{refid}\"><a href=\"#{id}\">{n}</a></sup>"
                    )
                };
                generated.insert(id);
                events.push(Event::InlineHtml(CowStr::from(html)));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let next = footnote_numbers.len() + 1;
                let n = *footnote_numbers.entry(name.to_string()).or_insert(next);
                let id = fn_id(&name, &mut used_fn_ids, &mut footnote_ids);
                generated.insert(id.clone());
                let id_attr = if defined_fn_ids.insert(id.clone()) {
                    format!(" id=\"{marker}{id}\"")
                } else {
                    String::new()
                };
                events.push(Event::Html(CowStr::from(format!(
                    "<div class=\"footnote-definition\"{id_attr}><sup class=\"footnote-definition-label\">{n}</sup>"
                ))));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                events.push(Event::Html(CowStr::from("</div>\n")));
            }
            Event::Start(Tag::Table(a)) => {
                alignments = a.clone();
                events.push(Event::Start(Tag::Table(a)));
            }
            Event::Start(Tag::TableHead) => {
                (in_head, column) = (true, 0);
                events.push(Event::Start(Tag::TableHead));
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                events.push(Event::End(TagEnd::TableHead));
            }
            Event::Start(Tag::TableRow) => {
                column = 0;
                events.push(Event::Start(Tag::TableRow));
            }
            Event::Start(Tag::TableCell) => {
                let class = match alignments.get(column) {
                    Some(Alignment::Left) => Some("align-left"),
                    Some(Alignment::Center) => Some("align-center"),
                    Some(Alignment::Right) => Some("align-right"),
                    Some(Alignment::None) | None => None,
                };
                column += 1;
                // The writer closes the cell (`</th>` or `</td>`) itself.
                events.push(match class {
                    Some(c) => {
                        let cell = if in_head { "th" } else { "td" };
                        Event::InlineHtml(CowStr::from(format!("<{cell} class=\"{c}\">")))
                    }
                    None => Event::Start(Tag::TableCell),
                });
            }
            // The author's HTML, with its long runs of text split like Markdown text.
            Event::Html(t) if split => events.push(Event::Html(html_scan.split(t))),
            Event::InlineHtml(t) if split => events.push(Event::InlineHtml(html_scan.split(t))),
            other => events.push(other),
        }
        if depth == 0 {
            blocks.push((events.len(), author_html));
            author_html = false;
            raw_text = false;
            html_scan = HtmlRuns::default();
        }
    }
    if let (Some(c), false) = (cut, cut_done) {
        close_open_tags(&mut events);
        blocks.push((events.len(), author_html));
        tail = push_cut(
            &mut sections,
            body.get(c.offset..).unwrap_or_default(),
            c.reason,
        );
    }
    // Each top-level block with raw HTML is sanitised on its own, the blocks between them
    // together: an unclosed `<style>`, `<textarea>` or `<plaintext>` then swallows at most the
    // rest of its own block, never the headings and text that follow (found by fuzzing).
    let mut lengths: Vec<usize> = Vec::new();
    let (mut last, mut run) = (0usize, 0usize);
    for (end, author) in blocks {
        let n = end - last;
        last = end;
        if author {
            if run > 0 {
                lengths.push(run);
                run = 0;
            }
            lengths.push(n);
        } else {
            run += n;
        }
    }
    lengths.push(run + events.len() - last);
    let mut events = events.into_iter();
    let chunks: Vec<String> = lengths
        .into_iter()
        .filter(|&n| n > 0)
        .map(|n| {
            let mut raw = String::new();
            pulldown_cmark::html::push_html(&mut raw, events.by_ref().take(n));
            raw
        })
        .collect();

    let state = Arc::new(Mutex::new(State {
        known: generated,
        marker,
        ..State::default()
    }));
    let mut html = sanitise(&chunks, links, from, root, &state);
    html.push_str(&tail);
    let (attachments, refused) = match state.lock() {
        Ok(mut s) => (
            std::mem::take(&mut s.attachments),
            std::mem::take(&mut s.refused),
        ),
        Err(_) => Default::default(),
    };
    for s in &mut sections {
        let t = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
        s.text = t;
    }
    sections.retain(|s| s.anchor.is_some() || !s.text.is_empty());
    Rendered {
        html,
        sections,
        attachments,
        refused,
    }
}

/// The part of a body past `limits.max_nesting_depth` or `limits.max_elements` as HTML: a
/// notice, then the text as written, escaped.
fn push_cut(sections: &mut [Section], rest: &str, reason: markdown::CutReason) -> String {
    if let Some(s) = sections.last_mut() {
        s.text.push_str(rest);
    }
    let mut html = String::with_capacity(rest.len() + rest.len() / 4 + 256);
    html.push_str(match reason {
        markdown::CutReason::Nesting => "<p><strong>The rest of this document nests too deep to be shown as formatted text (finding <code>nesting-too-deep</code>); it follows as written.</strong></p>\n<pre><code>",
        markdown::CutReason::Elements => "<p><strong>The rest of this document holds too many elements to be shown as formatted text (finding <code>too-many-elements</code>); it follows as written.</strong></p>\n<pre><code>",
    });
    for c in rest.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    html.push_str("</code></pre>\n");
    html
}

/// The longest run of Markdown text the sanitiser gets as one text node. Its serialiser
/// (html5ever 0.40) searches the rest of a text node for the next `<` or `>` at every `&` and
/// every character from U+0080 to U+00BF, so one paragraph of megabytes of `&amp;` or `°` took
/// minutes; an empty comment (which the sanitiser removes) between two runs ends the node
/// without changing the page.
const TEXT_RUN: usize = 256;

/// Push `text` as one or more `Text` events, with an empty comment between runs longer than
/// [`TEXT_RUN`] when `split` (not inside an image, whose text is an attribute, nor after raw
/// HTML that opens an element whose content is raw text, where a comment would be text).
fn push_text<'a>(events: &mut Vec<Event<'a>>, text: CowStr<'a>, run: &mut usize, split: bool) {
    if !split || *run + text.len() <= TEXT_RUN {
        *run += text.len();
        events.push(Event::Text(text));
        return;
    }
    let s: &str = &text;
    let mut start = 0;
    while start < s.len() {
        if *run >= TEXT_RUN {
            events.push(Event::InlineHtml(CowStr::Borrowed("<!---->")));
            *run = 0;
        }
        let mut end = (start + TEXT_RUN - *run).min(s.len());
        while !s.is_char_boundary(end) {
            end += 1;
        }
        events.push(Event::Text(CowStr::from(s[start..end].to_string())));
        *run += end - start;
        start = end;
    }
}

/// Where the author's raw HTML of one block stands, to split its long runs of text (see
/// [`TEXT_RUN`]) with an empty comment. Wherever this reading could differ from the HTML
/// parser's, it stays inside the tag, comment or CDATA section longer than the parser does, so a
/// comment is only ever put into text (never into a tag, an attribute value or a comment); a
/// block that mentions an element whose content is raw text is not split at all.
#[derive(Default)]
struct HtmlRuns {
    /// Inside a tag (`<x`, `</`, `<!`, `<?` up to `>`), with the open quote of an attribute.
    tag: Option<Option<u8>>,
    /// Inside `<!--` up to `-->`, or `<![CDATA[` up to `]]>`: the end looked for.
    until: Option<&'static str>,
    /// Bytes of text since the last tag.
    run: usize,
}

impl HtmlRuns {
    fn split<'a>(&mut self, html: CowStr<'a>) -> CowStr<'a> {
        let b = html.as_bytes();
        let mut cuts: Vec<usize> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if let Some(end) = self.until {
                match html[i..].find(end) {
                    Some(at) => {
                        i += at + end.len();
                        self.until = None;
                    }
                    None => i = b.len(),
                }
                continue;
            }
            match self.tag {
                Some(quote) => {
                    match (quote, b[i]) {
                        (None, b'>') => self.tag = None,
                        (None, q @ (b'"' | b'\'')) => self.tag = Some(Some(q)),
                        (Some(q), c) if c == q => self.tag = Some(None),
                        _ => {}
                    }
                    i += 1;
                }
                None if b[i] == b'<' => {
                    let rest = &b[i + 1..];
                    if rest.starts_with(b"!--") {
                        self.until = Some("-->");
                        i += 4;
                    } else if rest.starts_with(b"![CDATA[") {
                        self.until = Some("]]>");
                        i += 9;
                    } else if rest
                        .first()
                        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?'))
                    {
                        self.tag = Some(None);
                        i += 1;
                    } else {
                        self.run += 1;
                        i += 1;
                    }
                    self.run = 0;
                }
                None => {
                    // Never inside a character reference (`&amp;`, `&#38;`): only before a
                    // character that cannot be part of one.
                    let c = b[i];
                    if self.run >= TEXT_RUN
                        && html.is_char_boundary(i)
                        && !(c.is_ascii_alphanumeric() || c == b'#' || c == b';')
                    {
                        cuts.push(i);
                        self.run = 0;
                    }
                    self.run += 1;
                    i += 1;
                }
            }
        }
        if cuts.is_empty() {
            return html;
        }
        let mut out = String::with_capacity(html.len() + cuts.len() * 7);
        let mut last = 0;
        for at in cuts {
            out.push_str(&html[last..at]);
            out.push_str("<!---->");
            last = at;
        }
        out.push_str(&html[last..]);
        CowStr::from(out)
    }
}

/// Whether raw HTML opens an element whose content the HTML parser reads as raw text (where a
/// comment is not a comment): checked loosely, any mention counts.
fn opens_raw_text(html: &str) -> bool {
    const RAW_TEXT: &[&str] = &[
        "<textarea",
        "<title",
        "<xmp",
        "<plaintext",
        "<noembed",
        "<noframes",
        "<iframe",
        "<noscript",
        "<style",
        "<script",
    ];
    let lower = html.to_ascii_lowercase();
    RAW_TEXT.iter().any(|t| lower.contains(t))
}

/// End every tag still open in `events`, innermost first (where a body is cut short).
fn close_open_tags(events: &mut Vec<Event<'_>>) {
    let mut open: Vec<TagEnd> = Vec::new();
    for e in events.iter() {
        match e {
            Event::Start(t) => open.push(t.to_end()),
            // A cell with an alignment class starts as raw HTML: its end matches no start.
            Event::End(end) if open.last() == Some(end) => {
                open.pop();
            }
            _ => {}
        }
    }
    events.extend(open.into_iter().rev().map(Event::End));
}

/// Classes of aligned table columns (see [`render`]).
const ALIGNMENTS: [&str; 3] = ["align-left", "align-center", "align-right"];

/// Elements the sanitiser keeps (README "Security" lists exactly these).
pub const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "var",
];

/// Attributes the sanitiser keeps, by element (`*`: on every allowed element). README
/// "Security" lists exactly these, and a test compares the two.
pub const ATTRIBUTES: &[(&str, &[&str])] = &[
    ("*", &["id", "title", "lang"]),
    ("a", &["href"]),
    ("img", &["src", "alt", "width", "height"]),
    ("input", &["type", "checked", "disabled"]),
    ("ol", &["start"]),
    ("td", &["colspan", "rowspan"]),
    ("th", &["colspan", "rowspan"]),
];

/// Classes the sanitiser keeps, by element; every other class is dropped.
pub const CLASSES: &[(&str, &[&str])] = &[
    ("div", &["footnote-definition"]),
    ("sup", &["footnote-reference", "footnote-definition-label"]),
    ("td", &ALIGNMENTS),
    ("th", &ALIGNMENTS),
];

/// URL schemes that pass the sanitiser; `doc` and `clause` pass only to be rewritten by
/// [`filter`] into page links. Relative URLs pass too (then [`Links::resolve`] decides).
pub const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "doc", "clause"];

/// Elements dropped together with their content (every other element not in [`TAGS`] is
/// dropped and its content kept, as text).
pub const CLEAN_CONTENT: &[&str] = &["script", "style"];

/// The sanitiser, configured only from the constants above: none of ammonia's defaults (which
/// allow more, e.g. `cite` with no URL check, `hreflang`, and schemes such as `ftp` or `tel`)
/// survives.
fn builder() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(CLEAN_CONTENT.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .generic_attribute_prefixes(HashSet::new())
        .tag_attributes(HashMap::new())
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .allowed_classes(HashMap::new())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .id_prefix(None)
        .strip_comments(true);
    for (tag, attributes) in ATTRIBUTES {
        match *tag {
            "*" => b.add_generic_attributes(attributes.iter().copied()),
            tag => b.add_tag_attributes(tag, attributes.iter().copied()),
        };
    }
    for (tag, classes) in CLASSES {
        b.add_allowed_classes(tag, classes.iter().copied());
    }
    b
}

fn sanitise(
    chunks: &[String],
    links: &Arc<Links>,
    from: &str,
    root: &str,
    state: &Arc<Mutex<State>>,
) -> String {
    let mut b = builder();
    let links = Arc::clone(links);
    let (from, root) = (from.to_string(), root.to_string());
    let state = Arc::clone(state);
    b.attribute_filter(move |element, attribute, value| {
        filter(&links, &from, &root, &state, element, attribute, value)
    });
    chunks.iter().map(|raw| b.clean(raw).to_string()).collect()
}

fn filter<'u>(
    links: &Links,
    from: &str,
    root: &str,
    state: &Mutex<State>,
    element: &str,
    attribute: &str,
    value: &'u str,
) -> Option<Cow<'u, str>> {
    let Ok(mut state) = state.lock() else {
        return None;
    };
    match (element, attribute) {
        (_, "id") => match value.strip_prefix(state.marker.as_str()) {
            Some(generated) if !state.marker.is_empty() => Some(Cow::Owned(generated.to_string())),
            _ => Some(Cow::Owned(format!("{AUTHOR_ID_PREFIX}{value}"))),
        },
        ("a", "href") | ("img", "src") => {
            let image = element == "img";
            match links.resolve(from, root, value, image) {
                Resolved::Url(u) => {
                    // Same-page anchors: ids the author wrote carry the prefix.
                    if let Some(frag) = u.strip_prefix('#') {
                        if state.known.contains(&percent_decode(frag)) {
                            return Some(Cow::Owned(u));
                        }
                        return Some(Cow::Owned(format!("#{AUTHOR_ID_PREFIX}{frag}")));
                    }
                    Some(Cow::Owned(u))
                }
                Resolved::Attachment { url, path } => {
                    state.attachments.insert(path);
                    Some(Cow::Owned(url))
                }
                Resolved::Refused(path) => {
                    let anchor = listing_anchor(&path);
                    state.refused.insert(path);
                    // a link goes to the file's entry in the page's list; a raw-HTML image loses its src
                    (!image).then(|| Cow::Owned(format!("#{anchor}")))
                }
                Resolved::Dead => None,
            }
        }
        ("input", "type") => Some(Cow::Borrowed("checkbox")),
        ("input", "disabled") => Some(Cow::Borrowed("")),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// A body heading one level below where the author wrote it: the page's one `h1` is the
/// document's title, so the author's `# Title` becomes an `h2` (and `######` stays `h6`).
fn below(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 => H2,
        H2 => H3,
        H3 => H4,
        H4 => H5,
        H5 | H6 => H6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn links() -> Arc<Links> {
        let mut l = Links::default();
        l.documents.insert("pro-chg".into(), "PRO-CHG".into());
        l.document_paths
            .insert("procedures/change.md".into(), "PRO-CHG".into());
        l.clauses.insert("8.5.1".into(), "8.5.1".into());
        for f in [
            "policies/img/a.png",
            "policies/x.html",
            "policies/d.svg",
            "policies/r.pdf",
        ] {
            l.files.insert(f.into());
        }
        l.copyable.insert("policies/img/a.png".into());
        l.copyable.insert("policies/r.pdf".into());
        l.images.insert("policies/img/a.png".into());
        // d.svg is a plain drawing; e.svg (below) carries a script and is not in this set
        l.images.insert("policies/d.svg".into());
        l.files.insert("policies/e.svg".into());
        Arc::new(l)
    }

    #[test]
    fn only_passive_svgs_are_copied() {
        assert!(is_passive_svg(
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"4\" height=\"4\"/></svg>"
        ));
        for active in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><rect onclick=\"alert(1)\"/></svg>",
            "<svg><rect\nONLOAD = 'x'/></svg>",
            "<svg><a href=\"javascript:alert(1)\"><text>x</text></a></svg>",
            "<svg><foreignObject><div/></foreignObject></svg>",
            "<svg><image href=\"data:image/svg+xml;base64,AAAA\"/></svg>",
        ] {
            assert!(!is_passive_svg(active.as_bytes()), "{active}");
        }
        let l = links();
        assert!(matches!(
            l.resolve("policies/p.md", "../", "d.svg", true),
            Resolved::Attachment { .. }
        ));
        assert_eq!(
            l.resolve("policies/p.md", "../", "e.svg", true),
            Resolved::Refused("policies/e.svg".into())
        );
    }

    fn html(body: &str) -> Rendered {
        let b = markdown::parse_body(body, 1);
        render(&links(), "policies/p.md", "../", body, &b)
    }

    #[test]
    fn headings_get_slug_ids_and_links_are_rewritten() {
        let r = html("# Risk assessment\n\n[c](clause:8.5.1) [d](doc:PRO-CHG#risk) [e](../procedures/change.md#x) [s](#risk-assessment)\n");
        assert!(r.html.contains("<h2 id=\"risk-assessment\">"), "{}", r.html);
        assert!(
            r.html.contains("href=\"../clauses/8.5.1.html\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"../documents/PRO-CHG.html#risk\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"../documents/PRO-CHG.html#x\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"#risk-assessment\""), "{}", r.html);
    }

    #[test]
    fn scripts_handlers_and_unsafe_urls_are_removed() {
        let r = html("<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[j](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">k</a>\n\n<iframe src=\"https://x\"></iframe>\n\n<svg><script>alert(5)</script></svg>\n\n<div style=\"background:url(https://evil/)\">s</div>\n\n<a href=\"data:text/html,hi\">d</a>\n");
        for bad in [
            "<script",
            "onerror",
            "javascript",
            "iframe",
            "<svg",
            "style=",
            "url(",
            "data:",
            "alert",
        ] {
            assert!(
                !r.html.to_lowercase().contains(&bad.to_lowercase()),
                "{bad} in {}",
                r.html
            );
        }
    }

    #[test]
    fn author_ids_are_prefixed_and_generated_ones_kept_once() {
        let r =
            html("# Scope\n\n<span id=\"scope\">x</span> <a id=\"mine\" href=\"#mine\">m</a>\n");
        assert!(r.html.contains("<h2 id=\"scope\">"), "{}", r.html);
        assert!(r.html.contains("id=\"u_scope\""), "{}", r.html);
        assert!(r.html.contains("id=\"u_mine\""), "{}", r.html);
        assert!(r.html.contains("href=\"#u_mine\""), "{}", r.html);
    }

    #[test]
    fn an_author_id_above_a_heading_never_takes_the_heading_id() {
        // the render fuzz target's invariant: the first `id="scope"` used to stay unprefixed
        let r = html("<span id=\"scope\">x</span> <sup id=\"fnref_a\">y</sup>\n\n# Scope\n\nText[^a].\n\n[^a]: Note.\n");
        assert!(r.html.contains("<h2 id=\"scope\">"), "{}", r.html);
        assert!(r.html.contains("id=\"u_scope\""), "{}", r.html);
        assert!(r.html.contains("id=\"u_fnref_a\""), "{}", r.html);
        assert_eq!(r.html.matches("id=\"fnref_a\"").count(), 1, "{}", r.html);
        assert!(!r.html.contains("auditbook-"), "{}", r.html);
    }

    #[test]
    fn a_footnote_defined_twice_has_one_id() {
        // found by fuzzing (render)
        let r = html("Text[^a].\n\n[^a]: One.\n\n[^a]: Two.\n");
        assert_eq!(r.html.matches("id=\"fn_a\"").count(), 1, "{}", r.html);
    }

    #[test]
    fn unclosed_raw_text_elements_swallow_at_most_their_own_block() {
        // found by fuzzing (render): an inline `<style>` hid every heading below it
        for open in [
            "<style>",
            "<textarea>",
            "<plaintext>",
            "<xmp>",
            "<title>",
            "<noscript>",
        ] {
            let r = html(&format!("Text {open} more.\n\n# Later\n\nStill here.\n"));
            assert!(
                r.html.contains("<h2 id=\"later\">Later</h2>"),
                "{open}: {}",
                r.html
            );
            assert!(r.html.contains("<p>Still here.</p>"), "{open}: {}", r.html);
        }
    }

    #[test]
    fn footnotes_are_prefixed() {
        let r = html("Text[^a].\n\n[^a]: The note.\n");
        assert!(r.html.contains("id=\"fnref_a\""), "{}", r.html);
        assert!(r.html.contains("href=\"#fn_a\""), "{}", r.html);
        assert!(r.html.contains("id=\"fn_a\""), "{}", r.html);
    }

    #[test]
    fn remote_images_become_links_and_files_are_copied_or_refused() {
        let r = html("![logo](https://example.com/l.png) ![](img/a.png) [att](r.pdf) [page](x.html) [svg](d.svg) ![svg](d.svg) ![out](../../etc/passwd)\n");
        assert!(
            r.html.contains(
                "<a href=\"https://example.com/l.png\" rel=\"noopener noreferrer\">logo</a>"
            ),
            "{}",
            r.html
        );
        assert!(!r.html.contains("src=\"https"), "{}", r.html);
        assert!(
            r.html.contains("src=\"../files/policies/img/a.png\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"../files/policies/r.pdf\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("src=\"../files/policies/d.svg\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("x.html"), "{}", r.html);
        assert!(!r.html.contains("passwd\""), "{}", r.html);
        assert_eq!(
            r.attachments.iter().collect::<Vec<_>>(),
            ["policies/d.svg", "policies/img/a.png", "policies/r.pdf"]
        );
        assert_eq!(
            r.refused.iter().collect::<Vec<_>>(),
            ["policies/d.svg", "policies/x.html"]
        );
    }

    #[test]
    fn table_alignment_survives_the_sanitiser_as_a_class() {
        let r = html("| Step | Owner | Days |\n|:---|:---:|---:|\n| Raise | CAB | 2 |\n\n| Plain |\n|---|\n| x |\n");
        for cell in [
            "<th class=\"align-left\">Step</th>",
            "<th class=\"align-center\">Owner</th>",
            "<th class=\"align-right\">Days</th>",
            "<td class=\"align-left\">Raise</td>",
            "<td class=\"align-center\">CAB</td>",
            "<td class=\"align-right\">2</td>",
            "<th>Plain</th>",
            "<td>x</td>",
        ] {
            assert!(r.html.contains(cell), "{cell} missing in {}", r.html);
        }
        assert!(!r.html.contains("style"), "{}", r.html);
        // Classes an author writes are kept only when they are these.
        let r = html("<table><tr><td class=\"align-right evil\">1</td></tr></table>\n");
        assert!(
            r.html.contains("<td class=\"align-right\">1</td>"),
            "{}",
            r.html
        );
    }

    /// README "Security"'s allow-list: (what, tag) -> names, e.g. ("attributes", "a") -> href.
    fn readme_allow_list() -> BTreeMap<(String, String), BTreeSet<String>> {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("The allow-list (a unit test")
            .expect("README states the sanitiser's allow-list");
        let mut out = BTreeMap::new();
        let mut current: Option<(String, String)> = None;
        let lines = readme[start..].lines();
        for line in lines.skip_while(|l| !l.starts_with("  - ")) {
            let Some(item) = line.strip_prefix("  - ") else {
                if line.starts_with("    ") {
                    if let Some(k) = &current {
                        let names: &mut BTreeSet<String> = out.get_mut(k).unwrap();
                        names.extend(backticked(line));
                    }
                    continue;
                }
                break;
            };
            let (head, rest) = item.split_once(':').expect("`what: names`");
            let key = match head.split_once(" on ") {
                Some((what, tag)) => (what.to_string(), tag.trim_matches('`').to_string()),
                None => (head.to_string(), String::new()),
            };
            let key = match key.1.as_str() {
                "every tag" => (key.0, "*".to_string()),
                _ => key,
            };
            out.insert(key.clone(), backticked(rest).collect());
            current = Some(key);
        }
        out
    }

    fn backticked(s: &str) -> impl Iterator<Item = String> + '_ {
        s.split('`').skip(1).step_by(2).map(str::to_string)
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_readme_states_exactly_the_sanitisers_allow_list() {
        let readme = readme_allow_list();
        let mut code: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        code.insert(("tags".into(), String::new()), set(TAGS));
        for (tag, attributes) in ATTRIBUTES {
            code.insert(("attributes".into(), tag.to_string()), set(attributes));
        }
        for (tag, classes) in CLASSES {
            code.insert(("classes".into(), tag.to_string()), set(classes));
        }
        code.insert(("URL schemes".into(), String::new()), set(URL_SCHEMES));
        assert_eq!(readme, code);
    }

    /// `(element, attribute)` pairs of serialised HTML (ammonia's output: quoted values, `<`
    /// escaped in text and values).
    fn attributes_of(html: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for tag in html.split('<').skip(1) {
            let Some(inside) = tag.split('>').next() else {
                continue;
            };
            if inside.starts_with('/') {
                continue;
            }
            let mut parts = inside.splitn(2, ' ');
            let name = parts.next().unwrap_or_default().to_string();
            let mut rest = parts.next().unwrap_or_default();
            while let Some((attr, after)) = rest.split_once("=\"") {
                out.push((name.clone(), attr.trim().to_string()));
                rest = after.split_once('"').map_or("", |(_, r)| r);
            }
        }
        out
    }

    #[test]
    fn every_attribute_the_readme_does_not_list_is_dropped() {
        let readme = readme_allow_list();
        let allowed = |tag: &str, attr: &str| {
            let listed = |t: &str| {
                readme
                    .get(&("attributes".to_string(), t.to_string()))
                    .is_some_and(|names| names.contains(attr))
            };
            // `class` survives with listed values only; `rel` is the sanitiser's own.
            listed("*")
                || listed(tag)
                || (attr == "class" && readme.contains_key(&("classes".into(), tag.into())))
                || (tag == "a" && attr == "rel")
        };
        // ammonia's default attributes, the README's, and a sample of others (handlers, style…)
        let probes = [
            "href",
            "hreflang",
            "dir",
            "cite",
            "align",
            "char",
            "charoff",
            "span",
            "datetime",
            "size",
            "width",
            "alt",
            "height",
            "src",
            "start",
            "summary",
            "colspan",
            "headers",
            "rowspan",
            "scope",
            "lang",
            "title",
            "id",
            "class",
            "style",
            "onclick",
            "onerror",
            "onload",
            "type",
            "checked",
            "disabled",
            "name",
            "value",
            "target",
            "rel",
            "ping",
            "download",
            "srcset",
            "formaction",
            "action",
            "data",
            "poster",
            "background",
            "xmlns",
            "xlink:href",
            "data-x",
            "aria-label",
            "role",
            "tabindex",
            "contenteditable",
            "draggable",
            "hidden",
            "open",
            "reversed",
            "usemap",
            "ismap",
            "longdesc",
            "nonce",
            "autofocus",
            "accesskey",
            "itemprop",
            "slot",
            "is",
            "popover",
        ];
        let value = |attr: &str| match attr {
            "href" => "https://example.com/",
            "src" => "img/a.png",
            "class" => "footnote-definition align-left footnote-reference evil",
            _ => "1",
        };
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for attr in probes {
            let v = value(attr);
            let a = format!("{attr}=\"{v}\"");
            let mut body = String::from("<div>\n");
            for tag in TAGS {
                match *tag {
                    "caption" | "col" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead"
                    | "tr" | "table" | "li" | "dd" | "dt" | "summary" | "figcaption" => {}
                    "br" | "hr" | "img" | "input" => body.push_str(&format!("<{tag} {a}>\n")),
                    _ => body.push_str(&format!("<{tag} {a}>x</{tag}>\n")),
                }
            }
            body.push_str(&format!(
                "<table {a}><caption {a}>c</caption><colgroup {a}><col {a}></colgroup>\
                 <thead {a}><tr {a}><th {a}>h</th></tr></thead><tbody {a}><tr><td {a}>d</td></tr>\
                 </tbody><tfoot {a}><tr><td>f</td></tr></tfoot></table>\
                 <ul {a}><li {a}>l</li></ul><dl {a}><dt {a}>t</dt><dd {a}>d</dd></dl>\
                 <details {a}><summary {a}>s</summary>d</details>\
                 <figure {a}><figcaption {a}>f</figcaption></figure>\n</div>\n"
            ));
            let r = html(&body);
            for (tag, attr) in attributes_of(&r.html) {
                assert!(allowed(&tag, &attr), "{attr} kept on {tag}: {}", r.html);
                seen.insert((tag, attr));
            }
        }
        // Not vacuous: every listed attribute survives on its element.
        for tag in TAGS {
            for attr in ["id", "title", "lang"] {
                assert!(
                    seen.contains(&(tag.to_string(), attr.to_string())),
                    "{attr} on {tag}"
                );
            }
        }
        for (tag, attrs) in ATTRIBUTES.iter().filter(|(t, _)| *t != "*") {
            for attr in *attrs {
                assert!(
                    seen.contains(&(tag.to_string(), attr.to_string())),
                    "{attr} on {tag}"
                );
            }
        }
    }

    #[test]
    fn long_text_is_split_for_the_sanitiser_without_changing_the_page() {
        let run = "a & b ° c < d ".repeat(500);
        let r = html(&format!("{run}\n\n`{run}`\n\n![{run}](img/a.png)\n"));
        let escaped = run.trim_end().replace('&', "&amp;").replace('<', "&lt;");
        assert!(r.html.contains(&format!("<p>{escaped}</p>")), "{}", r.html);
        let code = run.replace('&', "&amp;").replace('<', "&lt;");
        assert!(
            r.html.contains(&format!("<p><code>{code}</code></p>")),
            "{}",
            r.html
        );
        // alt text is an attribute: never split
        let alt = r.html.split("alt=\"").nth(1).unwrap_or_default();
        let want = run.replace('&', "&amp;").replace('<', "&lt;");
        assert!(alt.starts_with(&want[..want.len() - 1]), "{alt:.300}");
        assert!(!r.html.contains("&lt;!--"), "{}", r.html);
        // the author's HTML too, but never inside a tag, an attribute, a comment or a reference
        let r = html(&format!(
            "<div title=\"{run}\">\n{run}<!-- {run} --><span>{run}</span>&amp;&#38;{run}\n</div>\n"
        ));
        let text = run.replace('&', "&amp;").replace('<', "&lt;");
        let want = format!(
            "<div title=\"{}\">\n{text}<span>{text}</span>&amp;&amp;{text}\n</div>",
            run.replace('&', "&amp;").replace('<', "&lt;")
        );
        assert!(r.html.contains(&want), "{}", r.html);
        // after an element whose content is raw text, no comment is inserted (it would be text)
        let r = html(&format!("x <textarea> {run}\n"));
        assert!(!r.html.contains("&lt;!--"), "{}", r.html);
    }

    #[test]
    fn sections_follow_headings() {
        let r = html("Intro text.\n\n## Risk\n\nAssess it.\n");
        assert_eq!(r.sections.len(), 2);
        assert_eq!(r.sections[1].anchor.as_deref(), Some("risk"));
        assert_eq!(r.sections[1].heading, "Risk");
        assert_eq!(r.sections[1].text, "Assess it.");
    }
}
