//! The fields of a record: the YAML nodes of a record file, or the compact form of one row of a
//! tabular file.
//!
//! A tabular file may hold a million rows, and a row's fields as YAML nodes (an owned key and an
//! owned value per field, each with its position) cost over a kilobyte a row. A row's fields are
//! therefore kept as one text holding every value one after another, a slot per field (the
//! field's name as an index into the names of its file, interned once per file, what the value
//! is, where it ends) and nothing else: every field of a row is at the row's line. The YAML node
//! of a field is made when asked for ([`Fields::get`], [`Fields::iter`]), the same node the row
//! reader used to keep, so every consumer sees exactly what it saw before.

use crate::yaml::{Node, Pos, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// What a row's field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// An empty cell: a plain null.
    Null,
    /// One text.
    Text,
    /// A list: every item is followed by a NUL byte (text never holds NUL: such files are not
    /// read), so an empty list and a list of one empty item differ.
    List,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    name: u16,
    cell: Cell,
    /// The end of the value in the row's text; it starts where the one before ends.
    end: u32,
}

/// The field names of one file, shared by its rows.
#[derive(Debug, Clone, Default)]
pub struct Names {
    names: Arc<Vec<Box<str>>>,
}

impl Names {
    fn index(&mut self, name: &str) -> Option<u16> {
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return Some(i as u16);
        }
        if self.names.len() >= usize::from(u16::MAX) {
            return None;
        }
        // Rows made before keep the shorter list they point into.
        Arc::make_mut(&mut self.names).push(name.into());
        Some((self.names.len() - 1) as u16)
    }
}

/// A row's fields, compact (see the module comment).
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<Vec<Box<str>>>,
    text: Box<str>,
    slots: Box<[Slot]>,
}

/// Builds the [`Row`]s of one file.
#[derive(Debug, Default)]
pub struct RowBuilder {
    names: Names,
    text: String,
    slots: Vec<Slot>,
}

impl RowBuilder {
    /// Add a field; `items` is the text (one item) or the list items. False when the file has
    /// more field names than a row can index (65,535) or the row's text is over 4 GiB.
    pub fn push(&mut self, name: &str, cell: Cell, items: &[&str]) -> bool {
        let Some(name) = self.intern(name) else {
            return false;
        };
        self.push_at(name, cell, items.iter().copied())
    }

    /// The index of a field name among the file's names (added when new): what
    /// [`RowBuilder::push_at`] takes, so a reader that knows a file's fields up front looks
    /// each name up once, not once a row. `None` past 65,535 names.
    pub fn intern(&mut self, name: &str) -> Option<u16> {
        self.names.index(name)
    }

    /// Start a new row: forget what was pushed since the last [`RowBuilder::finish`].
    pub fn clear(&mut self) {
        self.text.clear();
        self.slots.clear();
    }

    /// [`RowBuilder::push`] by the name's index (from [`RowBuilder::intern`]); a text cell
    /// takes the first item. False when an item of a list holds a NUL byte (the list's
    /// separator) or the row's text is over 4 GiB.
    pub fn push_at<'i>(
        &mut self,
        name: u16,
        cell: Cell,
        items: impl IntoIterator<Item = &'i str>,
    ) -> bool {
        let mut items = items.into_iter();
        match cell {
            Cell::Null => {}
            Cell::Text => self.text.push_str(items.next().unwrap_or("")),
            Cell::List => {
                for i in items {
                    if i.contains('\0') {
                        return false;
                    }
                    self.text.push_str(i);
                    self.text.push('\0');
                }
            }
        }
        let Ok(end) = u32::try_from(self.text.len()) else {
            return false;
        };
        self.slots.push(Slot { name, cell, end });
        true
    }

    /// The row of the fields pushed since the last call.
    pub fn finish(&mut self) -> Row {
        let row = Row {
            names: Arc::clone(&self.names.names),
            text: self.text.as_str().into(),
            slots: self.slots.as_slice().into(),
        };
        self.text.clear();
        self.slots.clear();
        row
    }
}

/// One value of a row, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct RowValue<'a> {
    pub cell: Cell,
    text: &'a str,
}

impl<'a> RowValue<'a> {
    /// The text of a text cell; "" for a null (as [`Node::as_scalar`] gives); `None` for a list.
    pub fn scalar(self) -> Option<&'a str> {
        match self.cell {
            Cell::Null | Cell::Text => Some(self.text),
            Cell::List => None,
        }
    }

    /// The items of a list cell.
    pub fn items(self) -> impl Iterator<Item = &'a str> {
        let list = if self.cell == Cell::List {
            self.text
        } else {
            ""
        };
        list.split_terminator('\0')
    }

    /// The YAML node the row reader makes of the value.
    pub fn node(self, pos: Pos) -> Node {
        let scalar = |text: &str, plain: bool| Node {
            value: Value::Scalar {
                text: text.to_string(),
                plain,
            },
            pos,
        };
        match self.cell {
            Cell::Null => scalar("", true),
            Cell::Text => scalar(self.text, false),
            Cell::List => Node {
                value: Value::Seq(self.items().map(|i| scalar(i, false)).collect()),
                pos,
            },
        }
    }
}

impl Row {
    /// The row of a row reader's mapping node (see `tabular`): plain empty scalars are nulls,
    /// other scalars texts, sequences of scalars lists. `None` for anything else, which the
    /// caller keeps as nodes.
    pub fn from_entries(entries: &[(Node, Node)], builder: &mut RowBuilder) -> Option<Row> {
        builder.text.clear();
        builder.slots.clear();
        for (k, v) in entries {
            let Value::Scalar { text: name, .. } = &k.value else {
                return None;
            };
            let ok = match &v.value {
                Value::Scalar { text, plain: true } if text.is_empty() => {
                    builder.push(name, Cell::Null, &[])
                }
                Value::Scalar { plain: true, .. } | Value::Map(_) => return None,
                Value::Scalar { text, plain: false } => {
                    builder.push(name, Cell::Text, &[text.as_str()])
                }
                Value::Seq(items) => {
                    let mut texts = Vec::with_capacity(items.len());
                    for i in items {
                        match &i.value {
                            Value::Scalar { text, plain: false } if !text.contains('\0') => {
                                texts.push(text.as_str());
                            }
                            _ => return None,
                        }
                    }
                    builder.push(name, Cell::List, &texts)
                }
            };
            if !ok {
                return None;
            }
        }
        Some(builder.finish())
    }

    /// The first field of this name: the name looked up once among the file's names, then its
    /// slot by index (the rules ask a million rows for a few fields each).
    fn get(&self, key: &str) -> Option<RowValue<'_>> {
        let name = self.names.iter().position(|n| &**n == key)?;
        let j = self
            .slots
            .iter()
            .position(|s| usize::from(s.name) == name)?;
        let start = j.checked_sub(1).map_or(0, |i| self.slots[i].end as usize);
        let s = &self.slots[j];
        Some(RowValue {
            cell: s.cell,
            text: self.text.get(start..s.end as usize)?,
        })
    }

    fn values(&self) -> impl Iterator<Item = (&str, RowValue<'_>)> {
        let mut start = 0usize;
        self.slots.iter().map(move |s| {
            let end = s.end as usize;
            let v = RowValue {
                cell: s.cell,
                text: &self.text[start..end],
            };
            start = end;
            (&*self.names[usize::from(s.name)], v)
        })
    }
}

/// The fields of a record, in file order.
#[derive(Debug, Clone)]
pub enum Fields {
    /// A YAML record's fields as parsed.
    Nodes(Vec<(String, Node)>),
    /// A row of a tabular file; every field is at the row's position.
    Row(Row),
}

impl Default for Fields {
    fn default() -> Fields {
        Fields::Nodes(Vec::new())
    }
}

/// A field's value: a YAML node, or a row's cell.
#[derive(Debug, Clone, Copy)]
pub enum FieldRef<'a> {
    Node(&'a Node),
    Cell(RowValue<'a>, Pos),
}

impl<'a> FieldRef<'a> {
    /// [`Node::as_scalar`].
    pub fn as_scalar(self) -> Option<&'a str> {
        match self {
            FieldRef::Node(n) => n.as_scalar(),
            FieldRef::Cell(v, _) => v.scalar(),
        }
    }

    /// [`Node::is_null`].
    pub fn is_null(self) -> bool {
        match self {
            FieldRef::Node(n) => n.is_null(),
            FieldRef::Cell(v, _) => v.cell == Cell::Null,
        }
    }

    pub fn pos(self) -> Pos {
        match self {
            FieldRef::Node(n) => n.pos,
            FieldRef::Cell(_, pos) => pos,
        }
    }

    /// The value as a YAML node (made for a row's cell).
    pub fn node(self) -> Cow<'a, Node> {
        match self {
            FieldRef::Node(n) => Cow::Borrowed(n),
            FieldRef::Cell(v, pos) => Cow::Owned(v.node(pos)),
        }
    }

    /// [`Node::describe`].
    pub fn describe(self) -> &'static str {
        match self {
            FieldRef::Node(n) => n.describe(),
            FieldRef::Cell(v, _) => match v.cell {
                Cell::Null => "nothing (null)",
                Cell::Text => "text",
                Cell::List => "a list",
            },
        }
    }

    /// The value as one line of text ([`Node::display_text`]).
    pub fn text(self) -> String {
        match self {
            FieldRef::Node(n) => n.display_text(),
            FieldRef::Cell(v, _) => match v.cell {
                Cell::Null | Cell::Text => v.text.to_string(),
                Cell::List => v.items().collect::<Vec<_>>().join(", "),
            },
        }
    }

    /// [`Node::write_canonical`].
    pub fn write_canonical(self, out: &mut String) {
        // In quotes, with `\` and `"` escaped (in one pass: a cold history walk writes every
        // cell of every row).
        let quoted = |t: &str, out: &mut String| {
            out.push('"');
            let mut rest = t;
            while let Some(i) = rest.find(['\\', '"']) {
                out.push_str(&rest[..i]);
                out.push('\\');
                out.push_str(&rest[i..i + 1]);
                rest = &rest[i + 1..];
            }
            out.push_str(rest);
            out.push('"');
        };
        match self {
            FieldRef::Node(n) => n.write_canonical(out),
            FieldRef::Cell(v, _) => match v.cell {
                Cell::Null | Cell::Text => quoted(v.text, out),
                Cell::List => {
                    out.push('[');
                    for i in v.items() {
                        quoted(i, out);
                        out.push(',');
                    }
                    out.push(']');
                }
            },
        }
    }

    /// Every text of the value with its position, depth first (a null is the empty text).
    pub fn for_each_text(self, f: &mut dyn FnMut(&'a str, Pos)) {
        fn walk<'n>(node: &'n Node, f: &mut dyn FnMut(&'n str, Pos)) {
            match &node.value {
                Value::Seq(items) => items.iter().for_each(|n| walk(n, f)),
                Value::Map(entries) => entries.iter().for_each(|(_, v)| walk(v, f)),
                Value::Scalar { text, .. } => f(text, node.pos),
            }
        }
        match self {
            FieldRef::Node(n) => walk(n, f),
            FieldRef::Cell(v, pos) => match v.cell {
                Cell::Null | Cell::Text => f(v.text, pos),
                Cell::List => v.items().for_each(|i| f(i, pos)),
            },
        }
    }
}

impl Fields {
    /// False when no text of the fields holds `needle` (a row's texts are looked at all at
    /// once); true when one may (always, for YAML nodes). `needle` holds no NUL byte.
    pub fn may_contain(&self, needle: &str) -> bool {
        match self {
            Fields::Nodes(_) => true,
            Fields::Row(row) => row.text.contains(needle),
        }
    }

    /// The first field of this name. `pos` is the record's position (a row's fields are there).
    pub fn get(&self, key: &str, pos: Pos) -> Option<FieldRef<'_>> {
        match self {
            Fields::Nodes(list) => list
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| FieldRef::Node(v)),
            Fields::Row(row) => row.get(key).map(|v| FieldRef::Cell(v, pos)),
        }
    }

    /// Every field, in file order.
    pub fn iter(&self, pos: Pos) -> Box<dyn Iterator<Item = (&str, FieldRef<'_>)> + '_> {
        match self {
            Fields::Nodes(list) => {
                Box::new(list.iter().map(|(k, v)| (k.as_str(), FieldRef::Node(v))))
            }
            Fields::Row(row) => {
                Box::new(row.values().map(move |(k, v)| (k, FieldRef::Cell(v, pos))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str, plain: bool, pos: Pos) -> Node {
        Node {
            value: Value::Scalar {
                text: text.into(),
                plain,
            },
            pos,
        }
    }

    /// A row keeps exactly the nodes the row reader made: texts, nulls, lists (empty, of one
    /// empty item, of several), and the names of later rows may grow the file's list.
    #[test]
    fn a_row_gives_back_the_nodes_it_was_made_of() {
        let pos = Pos::new(7, 1);
        let seq = |items: &[&str]| Node {
            value: Value::Seq(items.iter().map(|i| scalar(i, false, pos)).collect()),
            pos,
        };
        let rows = [
            vec![
                ("id", scalar("INC-1", false, pos)),
                ("owner", scalar("", true, pos)),
                ("refs", seq(&[])),
                ("clauses", seq(&[""])),
                ("title", scalar("a \"quoted\", text\\", false, pos)),
            ],
            vec![
                ("id", scalar("INC-2", false, pos)),
                ("new", scalar("x", false, pos)),
                ("refs", seq(&["A", "B", ""])),
            ],
        ];
        let mut builder = RowBuilder::default();
        let mut made = Vec::new();
        for fields in &rows {
            let entries: Vec<(Node, Node)> = fields
                .iter()
                .map(|(k, v)| (scalar(k, false, pos), v.clone()))
                .collect();
            made.push(Fields::Row(
                Row::from_entries(&entries, &mut builder).expect("representable"),
            ));
        }
        for (fields, row) in rows.iter().zip(&made) {
            let back: Vec<(&str, Node)> = row
                .iter(pos)
                .map(|(k, v)| (k, v.node().into_owned()))
                .collect();
            let want: Vec<(&str, Node)> = fields.iter().map(|(k, v)| (*k, v.clone())).collect();
            assert_eq!(back, want);
            for (k, v) in fields {
                let f = row.get(k, pos).unwrap();
                assert_eq!(f.as_scalar(), v.as_scalar());
                assert_eq!(f.is_null(), v.is_null());
                assert_eq!(f.describe(), v.describe());
                assert_eq!(f.text(), v.display_text());
                let mut a = String::new();
                f.write_canonical(&mut a);
                assert_eq!(a, v.canonical());
            }
            assert!(row.get("missing", pos).is_none());
        }
        // A row may hold a text only when one of its values does; nodes always may.
        let mut b = RowBuilder::default();
        let (title, refs) = (b.intern("title").unwrap(), b.intern("refs").unwrap());
        assert!(b.push_at(title, Cell::Text, ["plain"]));
        assert!(b.push_at(refs, Cell::List, ["A", "x{{FILL: y}}"]));
        let marked = Fields::Row(b.finish());
        assert!(marked.may_contain("{{FILL:"));
        assert!(!made[0].may_contain("{{FILL:"));
        assert!(Fields::Nodes(Vec::new()).may_contain("{{FILL:"));
        // A list item cannot hold the separator.
        assert!(!b.push_at(refs, Cell::List, ["a\0b"]));
        // A mapping value cannot be a cell: the caller keeps such a record as nodes.
        let nested = vec![(
            scalar("m", false, pos),
            Node {
                value: Value::Map(vec![]),
                pos,
            },
        )];
        assert!(Row::from_entries(&nested, &mut builder).is_none());
    }
}
