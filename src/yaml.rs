//! YAML into a positioned node tree.
//!
//! Every finding auditbook reports points at a line and column, and several fields must be read
//! from their *source text* (a `version` of `2.10` is not `2.1`; a clause id `8.10` written
//! unquoted must be noticed). A serde target type loses both, so this module reads the event
//! stream of serde-saphyr's parser (`granit-parser`, re-exported by serde-saphyr) into a small tree
//! of [`Node`]s that keep position, source style and text. It is the only module that knows the
//! YAML library: swapping it costs this one file.
//!
//! Hostile input is bounded here: nesting depth, the number of nodes (alias expansion counts, so an
//! alias bomb stops early), duplicate keys and multi-document streams are reported as errors with
//! their position, never as a panic or a hang.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// A position in a text: 1-based line, 1-based column in characters.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
    /// The same position in a file where this text starts `lines` lines further down.
    pub fn shifted(self, lines: u32) -> Pos {
        Pos {
            line: self.line + lines,
            col: self.col,
        }
    }
}

/// One YAML node with where it starts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    /// A scalar with its text after escapes; `plain` is true when it was written without quotes
    /// or block style, and so is subject to YAML's implicit typing (`8.10` reads as a number).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Bounds on what one YAML text may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000,
        }
    }
}

/// A YAML text that could not be read, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
    pub kind: YamlErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    Syntax,
    DuplicateKey,
    TooDeep,
    TooManyNodes,
    MultipleDocuments,
}

impl Node {
    /// The value in a canonical text, without positions or quoting style (`"a"` and `a` are the
    /// same): what a content hash of a YAML value is taken over.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.write_canonical(&mut out);
        out
    }

    /// [`Self::canonical`], appended to `out`.
    pub fn write_canonical(&self, out: &mut String) {
        match &self.value {
            Value::Scalar { text, .. } => {
                out.push('"');
                out.push_str(&text.replace('\\', "\\\\").replace('"', "\\\""));
                out.push('"');
            }
            Value::Seq(items) => {
                out.push('[');
                for i in items {
                    i.write_canonical(out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (k, v) in entries {
                    k.write_canonical(out);
                    out.push(':');
                    v.write_canonical(out);
                    out.push(',');
                }
                out.push('}');
            }
        }
    }

    /// The text of a scalar node; `None` for a sequence or a mapping.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// True for an explicit or implicit null (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar { text, plain: true } => {
                matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            Value::Scalar { .. } | Value::Seq(_) | Value::Map(_) => false,
        }
    }

    /// True for a plain scalar that YAML would read as a number (so its text is not what the
    /// author meant when the author meant a string such as a clause id).
    pub fn is_plain_number(&self) -> bool {
        match &self.value {
            Value::Scalar { text, plain: true } => looks_numeric(text),
            Value::Scalar { .. } | Value::Seq(_) | Value::Map(_) => false,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            Value::Scalar { .. } | Value::Seq(_) => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            Value::Scalar { .. } | Value::Map(_) => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// What kind of node this is, for messages ("expected a list, found a mapping").
    /// The value as one line of text: a scalar's text, a list's items joined with `, `, a
    /// mapping's `key: value` pairs joined with `; ` (a table cell, a search entry).
    pub fn display_text(&self) -> String {
        match &self.value {
            Value::Scalar { text, .. } => text.clone(),
            Value::Seq(items) => items
                .iter()
                .map(Node::display_text)
                .collect::<Vec<_>>()
                .join(", "),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| format!("{}: {}", k.display_text(), v.display_text()))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "nothing (null)",
            Value::Scalar { .. } if self.is_plain_number() => "a number",
            Value::Scalar { text, plain: true } if is_bool(text) => "a boolean",
            Value::Scalar { .. } => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Shift every position by `lines` (a block that starts further down in its file).
    pub fn shift(&mut self, lines: u32) {
        self.pos = self.pos.shifted(lines);
        match &mut self.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift(lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.shift(lines);
                v.shift(lines);
            }),
        }
    }
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "no" | "on" | "off"
    )
}

/// Whether a plain scalar would be typed as an int or a float by YAML 1.2's core schema.
pub fn looks_numeric(text: &str) -> bool {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    if t.is_empty() {
        return false;
    }
    if matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits_and_dot = mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().filter(|&c| c == '.').count() <= 1
        && mantissa.chars().any(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    digits_and_dot && exponent_ok
}

/// Parse one YAML document. `Ok(None)` for a text with no document (empty, or only comments).
pub fn parse(text: &str, limits: Limits) -> Result<Option<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        limits,
        nodes: 0,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            YamlError {
                pos: Pos::new(m.line() as u32, m.col() as u32 + 1),
                message: e.kind().to_string(),
                kind: YamlErrorKind::Syntax,
            }
        })?;
        let pos = Pos::new(span.start.line() as u32, span.start.col() as u32 + 1);
        if builder.event(event, pos)? {
            break;
        }
    }
    Ok(builder.root)
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

struct Builder {
    limits: Limits,
    nodes: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    /// Feed one event; `Ok(true)` when the stream has ended.
    fn event(&mut self, event: Event<'_>, pos: Pos) -> Result<bool, YamlError> {
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        pos,
                        message: "more than one YAML document in this text (a second `---`)".into(),
                        kind: YamlErrorKind::MultipleDocuments,
                    });
                }
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(n) => n.clone(),
                    None => {
                        return Err(YamlError {
                            pos,
                            message: "alias to an unknown anchor".into(),
                            kind: YamlErrorKind::Syntax,
                        })
                    }
                };
                self.count(count_nodes(&node), pos)?;
                let mut node = node;
                node.pos = pos;
                self.push(node, 0)?;
            }
            Event::Scalar(text, style, anchor, _tag) => {
                self.count(1, pos)?;
                let plain = matches!(style, ScalarStyle::Plain);
                let node = Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain,
                    },
                    pos,
                };
                self.push(node, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                self.count(1, pos)?;
                self.open(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                })?;
            }
            Event::MappingStart(_, anchor, _) => {
                self.count(1, pos)?;
                self.open(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                })?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { pos, anchor, items }) => (
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    ),
                    None => {
                        return Err(YamlError {
                            pos,
                            message: "unbalanced collection end".into(),
                            kind: YamlErrorKind::Syntax,
                        })
                    }
                };
                self.push(node, anchor)?;
            }
            // Comments and anchor metadata are presentation, not data.
            _ => {}
        }
        Ok(false)
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(YamlError {
                pos,
                message: format!(
                    "more than {} YAML nodes (aliases count each time they are used); \
                     this looks like an alias bomb or a file far larger than an SMS needs",
                    self.limits.max_nodes
                ),
                kind: YamlErrorKind::TooManyNodes,
            });
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            let pos = match &frame {
                Frame::Seq { pos, .. } | Frame::Map { pos, .. } => *pos,
            };
            return Err(YamlError {
                pos,
                message: format!(
                    "YAML nested more than {} levels deep",
                    self.limits.max_depth
                ),
                kind: YamlErrorKind::TooDeep,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if let Some(k) = key.as_scalar() {
                        if let Some((first, _)) =
                            entries.iter().find(|(e, _)| e.as_scalar() == Some(k))
                        {
                            return Err(YamlError {
                                pos: key.pos,
                                message: format!(
                                    "duplicate key `{k}` (first given on line {})",
                                    first.pos.line
                                ),
                                kind: YamlErrorKind::DuplicateKey,
                            });
                        }
                    }
                    entries.push((key, node));
                }
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        parse(text, Limits::default()).unwrap().unwrap()
    }

    #[test]
    fn keeps_source_text_and_style_of_scalars() {
        let n = p("version: 2.10\nclause: \"8.10\"\n");
        let v = n.get("version").unwrap();
        assert_eq!(v.as_scalar(), Some("2.10"));
        assert!(v.is_plain_number());
        let c = n.get("clause").unwrap();
        assert_eq!(c.as_scalar(), Some("8.10"));
        assert!(!c.is_plain_number());
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let n = p("a: 1\nbb:\n  - x\n");
        let list = n.get("bb").unwrap().as_seq().unwrap();
        assert_eq!(list[0].pos, Pos::new(3, 5));
        assert_eq!(n.get("a").unwrap().pos, Pos::new(1, 4));
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_lines() {
        let e = parse("a: 1\nb: 2\na: 3\n", Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::DuplicateKey);
        assert_eq!(e.pos.line, 3);
        assert!(e.message.contains("line 1"), "{}", e.message);
    }

    #[test]
    fn alias_bomb_stops_at_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = parse(&text, Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::TooManyNodes);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // past our limit, below the parser's own
        let text = "[".repeat(70) + &"]".repeat(70);
        let e = parse(&text, Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::TooDeep);
        assert_eq!(e.pos, Pos::new(1, 65));
        // far past both: the parser refuses it first, still as an error with a position
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(&text, Limits::default()).is_err());
        let block: String = (0..10_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&block, Limits::default()).is_err());
    }

    #[test]
    fn empty_text_is_no_document() {
        assert_eq!(parse("", Limits::default()).unwrap(), None);
        assert_eq!(
            parse("# only a comment\n", Limits::default()).unwrap(),
            None
        );
    }

    #[test]
    fn second_document_is_an_error() {
        let e = parse("a: 1\n---\nb: 2\n", Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::MultipleDocuments);
    }

    #[test]
    fn numeric_detection() {
        for t in ["8", "8.1", "8.10", "-1", "1e3", "0x1F", ".inf"] {
            assert!(looks_numeric(t), "{t}");
        }
        for t in ["8.5.1", "1.2.3", "v2", "", "1e", "abc", "10.1a"] {
            assert!(!looks_numeric(t), "{t}");
        }
    }
}
