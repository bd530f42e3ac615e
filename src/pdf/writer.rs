//! A small PDF 1.4 writer: A4 pages of wrapped lines in the standard Courier fonts (every PDF
//! reader has them, so nothing is embedded and no crate is needed). The bytes depend only on the
//! lines given: no creation date, no random file id.

/// A4 in points.
pub const PAGE_W: f32 = 595.0;
pub const PAGE_H: f32 = 842.0;
pub const MARGIN: f32 = 56.0;
/// Courier's advance width is 600/1000 of the font size for every glyph.
pub const ADVANCE: f32 = 0.6;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Font {
    #[default]
    Regular,
    Bold,
}

/// One laid-out line.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub font: Font,
    pub size: f32,
    pub indent: f32,
    pub text: String,
    /// Space above the line, in points, besides its own height.
    pub gap: f32,
    /// Keep this line on the page of the next one (a heading, a table row of several lines).
    pub keep: bool,
    /// Lines to repeat at the top of a page this line continues onto (a table's header).
    pub header: Option<std::sync::Arc<Vec<Line>>>,
}

/// Size of the page foot's text, and how many of its characters fit across the text width.
pub const FOOT_SIZE: f32 = 8.0;
pub const FOOT_CHARS: usize = ((PAGE_W - 2.0 * MARGIN) / (FOOT_SIZE * ADVANCE)) as usize;

/// How many characters of `size` fit in `width` points.
pub fn chars_per_line(size: f32, width: f32) -> usize {
    ((width / (size * ADVANCE)).floor() as usize).max(8)
}

pub fn text_width() -> f32 {
    PAGE_W - 2.0 * MARGIN
}

/// Cuts `text` into lines of at most `max` characters at spaces (a longer word is cut).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let need = if cur_len == 0 {
                word.len()
            } else {
                cur_len + 1 + word.len()
            };
            if need <= max {
                if cur_len > 0 {
                    cur.push(' ');
                    cur_len += 1;
                }
                cur.extend(word.iter());
                cur_len += word.len();
                break;
            }
            if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
                continue;
            }
            let rest = word.split_off(max);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if cur_len > 0 || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A page break marker is a line with this text and size 0.
pub const PAGE_BREAK: &str = "\u{c}";

/// A line placed on a page: `y` is the top of the line's box, in points from the page's foot.
#[derive(Clone, Copy, Debug)]
pub struct Placed<'a> {
    pub line: &'a Line,
    pub y: f32,
}

/// Where a line of the input was placed: its page (from 0) and the top of its box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    pub page: usize,
    pub y: f32,
}

/// Splits lines into pages (a page break line starts a new page). A run of lines that keep
/// together starts a new page when it does not fit on the current one (unless it is taller
/// than a page); a line that carries a header and opens a page gets that header above it.
/// Returns the pages and, for each input line, where it went (`None` for a page break).
pub fn paginate(lines: &[Line]) -> (Vec<Vec<Placed<'_>>>, Vec<Option<Spot>>) {
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut spots = Vec::with_capacity(lines.len());
    let bottom = MARGIN + 24.0;
    let top = PAGE_H - MARGIN;
    let mut y = top;
    let height = |l: &Line, first: bool| l.size * 1.3 + if first { 0.0 } else { l.gap };
    for (i, line) in lines.iter().enumerate() {
        if line.size == 0.0 && line.text == PAGE_BREAK {
            if !pages.last().is_some_and(Vec::is_empty) {
                pages.push(Vec::new());
            }
            y = top;
            spots.push(None);
            continue;
        }
        let first = pages.last().is_some_and(Vec::is_empty);
        // The first line of a run that keeps together: does the run fit below?
        let starts_run = line.keep && (i == 0 || !lines[i - 1].keep);
        let needed = if starts_run {
            let end = lines[i..]
                .iter()
                .position(|l| !l.keep)
                .map_or(lines.len(), |k| i + k + 1);
            lines[i..end]
                .iter()
                .enumerate()
                .map(|(k, l)| height(l, first && k == 0))
                .sum::<f32>()
        } else {
            height(line, first)
        };
        let fits_a_page = needed <= top - bottom;
        if !first && y - needed < bottom && (fits_a_page || y - height(line, false) < bottom) {
            pages.push(Vec::new());
            y = top;
            if let Some(header) = &line.header {
                for h in header.iter() {
                    let at_top = pages.last().is_some_and(Vec::is_empty);
                    y -= if at_top { 0.0 } else { h.gap };
                    let page = pages.len() - 1;
                    pages[page].push(Placed { line: h, y });
                    y -= h.size * 1.3;
                }
            }
        }
        let first = pages.last().is_some_and(Vec::is_empty);
        y -= if first { 0.0 } else { line.gap };
        let page = pages.len() - 1;
        pages[page].push(Placed { line, y });
        spots.push(Some(Spot { page, y }));
        y -= line.size * 1.3;
    }
    (pages, spots)
}

/// An entry of the PDF's outline (the reader's bookmarks panel), with its children.
#[derive(Clone, Debug)]
pub struct Bookmark {
    pub title: String,
    pub spot: Spot,
    pub children: Vec<Bookmark>,
}

/// `s` as a PDF text string (outside page content: bookmarks, document info): UTF-16BE with a
/// byte order mark, written in hex, so any character shows.
fn text_string(s: &str) -> Vec<u8> {
    let mut out = b"<FEFF".to_vec();
    for unit in s.encode_utf16() {
        out.extend(format!("{unit:04X}").into_bytes());
    }
    out.push(b'>');
    out
}

/// The characters of `s` in WinAnsiEncoding as a PDF string literal body; a character the
/// standard fonts cannot show becomes `?`.
fn pdf_string(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    out.push(b'(');
    for c in s.chars() {
        let b = win_ansi(c).unwrap_or(b'?');
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// WinAnsiEncoding of `c`: ASCII, Latin-1 and the common typographic marks.
pub fn win_ansi(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        0x20..=0x7e => Some(u as u8),
        0xa0..=0xff => Some(u as u8),
        _ => Some(match c {
            '\t' => b' ',
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            _ => return None,
        }),
    }
}

/// The whole file: `pages` of placed lines, each page with "footer - page N of M" at its foot,
/// and the outline `bookmarks` (none: no outline).
pub fn write(
    title: &str,
    footer: &str,
    pages: &[Vec<Placed<'_>>],
    bookmarks: &[Bookmark],
) -> Vec<u8> {
    let n = pages.len().max(1);
    // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then per page: page,
    // content; then the outline root and its items.
    let page_obj = |i: usize| 6 + 2 * i;
    let outline_root = 6 + 2 * n;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", page_obj(i))).collect();
    objects.push(if bookmarks.is_empty() {
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()
    } else {
        format!(
            "<< /Type /Catalog /Pages 2 0 R /Outlines {outline_root} 0 R /PageMode /UseOutlines >>"
        )
        .into_bytes()
    });
    objects.push(format!("<< /Type /Pages /Count {n} /Kids [{}] >>", kids.join(" ")).into_bytes());
    for name in ["Courier", "Courier-Bold"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
            )
            .into_bytes(),
        );
    }
    let mut info = b"<< /Producer (auditbook) /Title ".to_vec();
    info.extend(text_string(title));
    info.extend(b" >>");
    objects.push(info);
    let empty = Vec::new();
    for i in 0..n {
        let lines = pages.get(i).unwrap_or(&empty);
        let mut content = Vec::new();
        for placed in lines {
            let line = placed.line;
            let font = match line.font {
                Font::Regular => "F1",
                Font::Bold => "F2",
            };
            content.extend(
                format!(
                    "BT /{font} {} Tf {} {} Td ",
                    line.size,
                    MARGIN + line.indent,
                    placed.y - line.size
                )
                .into_bytes(),
            );
            content.extend(pdf_string(&line.text));
            content.extend(b" Tj ET\n");
        }
        let foot = format!("{footer} - page {} of {n}", i + 1);
        let x = (PAGE_W - MARGIN - foot.chars().count() as f32 * FOOT_SIZE * ADVANCE).max(MARGIN);
        content.extend(format!("BT /F1 {FOOT_SIZE} Tf {x} {} Td ", MARGIN - 20.0).into_bytes());
        content.extend(pdf_string(&foot));
        content.extend(b" Tj ET\n");
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                page_obj(i) + 1
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend(b"endstream");
        objects.push(stream);
    }
    if !bookmarks.is_empty() {
        outline(&mut objects, bookmarks, &page_obj);
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(obj);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// Appends the outline root (the next object) and one object per bookmark, depth first.
fn outline(objects: &mut Vec<Vec<u8>>, bookmarks: &[Bookmark], page_obj: &dyn Fn(usize) -> usize) {
    // Number every bookmark first (depth first), so links between siblings and parents are known.
    fn count(b: &[Bookmark]) -> usize {
        b.iter().map(|b| 1 + count(&b.children)).sum()
    }
    let root = objects.len() + 1;
    let mut items: Vec<Vec<u8>> = Vec::new();
    fn emit(
        items: &mut Vec<Vec<u8>>,
        level: &[Bookmark],
        parent: usize,
        first_id: usize,
        page_obj: &dyn Fn(usize) -> usize,
    ) {
        // The object id of each bookmark of this level.
        let mut ids = Vec::with_capacity(level.len());
        let mut next = first_id;
        for b in level {
            ids.push(next);
            next += 1 + count(&b.children);
        }
        for (k, b) in level.iter().enumerate() {
            let id = ids[k];
            let mut o = b"<< /Title ".to_vec();
            o.extend(text_string(&b.title));
            o.extend(
                format!(
                    " /Parent {parent} 0 R /Dest [{} 0 R /XYZ 0 {} null]",
                    page_obj(b.spot.page),
                    b.spot.y + 4.0
                )
                .into_bytes(),
            );
            if k > 0 {
                o.extend(format!(" /Prev {} 0 R", ids[k - 1]).into_bytes());
            }
            if let Some(n) = ids.get(k + 1) {
                o.extend(format!(" /Next {n} 0 R").into_bytes());
            }
            if !b.children.is_empty() {
                let last = id + 1 + count(&b.children[..b.children.len() - 1]);
                o.extend(
                    format!(
                        " /First {} 0 R /Last {last} 0 R /Count -{}",
                        id + 1,
                        b.children.len()
                    )
                    .into_bytes(),
                );
            }
            o.extend(b" >>");
            items.push(o);
            emit(items, &b.children, id, id + 1, page_obj);
        }
    }
    emit(&mut items, bookmarks, root, root + 1, page_obj);
    let last = root + 1 + count(&bookmarks[..bookmarks.len() - 1]);
    objects.push(
        format!(
            "<< /Type /Outlines /First {} 0 R /Last {last} 0 R /Count {} >>",
            root + 1,
            bookmarks.len()
        )
        .into_bytes(),
    );
    objects.extend(items);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_cuts_at_spaces_and_long_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
    }

    fn line(text: &str, keep: bool, header: Option<std::sync::Arc<Vec<Line>>>) -> Line {
        Line {
            size: 10.0,
            text: text.to_string(),
            keep,
            header,
            ..Line::default()
        }
    }

    #[test]
    fn a_run_that_keeps_together_moves_to_the_next_page_under_its_header() {
        // A page holds (842 - 56 - 80) / 13 = 54 lines of size 10.
        let header = std::sync::Arc::new(vec![line("HEAD", true, None)]);
        let mut lines: Vec<Line> = (0..53)
            .map(|i| line(&format!("l{i}"), false, None))
            .collect();
        lines.push(line("row a", true, Some(header.clone())));
        lines.push(line("row b", false, Some(header)));
        let (pages, spots) = paginate(&lines);
        assert_eq!(pages.len(), 2);
        let texts: Vec<&str> = pages[1].iter().map(|p| p.line.text.as_str()).collect();
        assert_eq!(texts, ["HEAD", "row a", "row b"]);
        assert_eq!(spots[53].map(|s| s.page), Some(1));
    }

    #[test]
    fn strings_are_escaped_and_unshowable_characters_marked() {
        assert_eq!(pdf_string("a(b)\\é→"), b"(a\\(b\\)\\\\\xe9?)".to_vec());
    }
}
