//! A document's Markdown as PDF lines, from pulldown-cmark's events (the options of
//! `crate::markdown`): headings, paragraphs, lists, block quotes, tables and code. Raw HTML is
//! shown as text; links keep their text and show their target in brackets.

use super::writer::Font;
use super::{Composer, BODY};
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

pub fn render(c: &mut Composer, body: &str) {
    let text = crate::markdown::normalise(body);
    let mut buf = String::new();
    let mut heading: Option<u8> = None;
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote = 0usize;
    let mut item_prefix: Option<String> = None;
    let mut code: Option<String> = None;
    let mut table: Option<(Vec<String>, Vec<Vec<String>>)> = None;
    let mut row: Vec<String> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let indent = |lists: &Vec<Option<u64>>, quote: usize| (lists.len() + quote) as f32 * 14.0;
    let flush = |c: &mut Composer, buf: &mut String, prefix: &mut Option<String>, ind: f32| {
        let t = buf.trim().to_string();
        buf.clear();
        match prefix.take() {
            Some(p) => c.item((ind - 14.0).max(0.0), 2.0, &p, &t),
            None if !t.is_empty() => c.para(Font::Regular, BODY, ind, 5.0, &t),
            None => {}
        }
    };
    for event in Parser::new_ext(&text, crate::markdown::options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                heading = Some(match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    _ => 3,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                c.heading(heading.take().unwrap_or(3).max(2), buf.trim());
                buf.clear();
            }
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) if table.is_none() => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
            }
            Event::End(TagEnd::Paragraph) => {}
            Event::Start(Tag::List(start)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                let p = match lists.last_mut() {
                    Some(Some(n)) => {
                        let p = format!("{n}. ");
                        *n += 1;
                        p
                    }
                    _ => "- ".to_string(),
                };
                item_prefix = Some(p);
            }
            Event::End(TagEnd::Item) => flush(c, &mut buf, &mut item_prefix, indent(&lists, quote)),
            Event::Start(Tag::BlockQuote(_)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                quote += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                quote = quote.saturating_sub(1);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                code = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(t) = code.take() {
                    c.verbatim(indent(&lists, quote) + 10.0, t.trim_end_matches('\n'));
                }
            }
            Event::Start(Tag::Table(_)) => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                table = Some((Vec::new(), Vec::new()));
            }
            Event::End(TagEnd::TableHead) => {
                if let Some((head, _)) = &mut table {
                    *head = std::mem::take(&mut row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some((_, rows)) = &mut table {
                    rows.push(std::mem::take(&mut row));
                }
            }
            Event::End(TagEnd::TableCell) => {
                row.push(buf.trim().to_string());
                buf.clear();
            }
            Event::End(TagEnd::Table) => {
                if let Some((head, rows)) = table.take() {
                    let head: Vec<&str> = head.iter().map(String::as_str).collect();
                    c.table(&head, &rows);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop() {
                    if !url.is_empty() && !buf.trim_end().ends_with(url.as_str()) {
                        buf.push_str(&format!(" [{url}]"));
                    }
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                buf.push_str(&format!("[image {dest_url}: "))
            }
            Event::End(TagEnd::Image) => buf.push(']'),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                match &mut code {
                    Some(code) => code.push_str(&t),
                    None => buf.push_str(&t),
                }
            }
            Event::Html(t) | Event::InlineHtml(t) => match &mut code {
                Some(code) => code.push_str(&t),
                None if heading.is_none() && table.is_none() && buf.is_empty() => {
                    c.verbatim(indent(&lists, quote), t.trim_end_matches('\n'));
                }
                None => buf.push_str(&t),
            },
            Event::SoftBreak | Event::HardBreak => buf.push(' '),
            Event::Rule => {
                flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
                c.para(Font::Regular, BODY, 0.0, 4.0, &"-".repeat(40));
            }
            Event::TaskListMarker(done) => buf.push_str(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(r) => buf.push_str(&format!("[{r}]")),
            _ => {}
        }
    }
    flush(c, &mut buf, &mut item_prefix, indent(&lists, quote));
}
