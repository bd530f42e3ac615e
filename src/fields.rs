//! Typed reading of YAML fields with findings: the shared boundary between raw YAML nodes and the
//! validated types of `config`, `catalog` and `source`. Every wrong value becomes a finding at the
//! value's own line and column, and the reader returns `None` so the caller can go on.

use crate::dates::{self, Interval};
use crate::diag::Diagnostic;
use crate::yaml::{Node, Pos};
use jiff::civil::Date;

/// A string read from YAML with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spanned {
    pub text: String,
    pub pos: Pos,
}

pub struct Reader<'a> {
    pub path: &'a str,
    pub subject: String,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub fn new(path: &'a str, subject: impl Into<String>, diags: &'a mut Vec<Diagnostic>) -> Self {
        Reader {
            path,
            subject: subject.into(),
            diags,
        }
    }

    pub fn invalid(&mut self, node: &Node, key: &str, message: String) {
        self.diags.push(
            Diagnostic::new("field-invalid", format!("{}#{key}", self.subject), message)
                .at(self.path, node.pos),
        );
    }

    /// A scalar as text. Lists, mappings and nulls are findings.
    pub fn text(&mut self, node: &Node, key: &str) -> Option<Spanned> {
        match node.as_scalar() {
            Some(_) if node.is_null() => {
                self.invalid(node, key, format!("`{key}` is empty"));
                None
            }
            Some(t) => Some(Spanned {
                text: t.to_string(),
                pos: node.pos,
            }),
            None => {
                self.invalid(
                    node,
                    key,
                    format!("`{key}` must be text, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub fn date(&mut self, node: &Node, key: &str) -> Option<Date> {
        let t = self.text(node, key)?;
        match dates::parse_date(&t.text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.invalid(node, key, format!("`{key}`: {e}"));
                None
            }
        }
    }

    pub fn interval(&mut self, node: &Node, key: &str) -> Option<Interval> {
        let t = self.text(node, key)?;
        match dates::parse_interval(&t.text) {
            Ok(i) => Some(i),
            Err(e) => {
                self.invalid(node, key, format!("`{key}`: {e}"));
                None
            }
        }
    }

    /// A list of scalars; a single scalar is accepted as a list of one.
    pub fn list(&mut self, node: &Node, key: &str) -> Vec<(Spanned, &'static str)> {
        let items: Vec<&Node> = match &node.value {
            crate::yaml::Value::Seq(items) => items.iter().collect(),
            crate::yaml::Value::Scalar { .. } if node.is_null() => Vec::new(),
            crate::yaml::Value::Scalar { .. } => vec![node],
            crate::yaml::Value::Map(_) => {
                self.invalid(
                    node,
                    key,
                    format!("`{key}` must be a list, found a mapping"),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_scalar() {
                Some(t) if !item.is_null() => out.push((
                    Spanned {
                        text: t.to_string(),
                        pos: item.pos,
                    },
                    item.describe(),
                )),
                _ => self.invalid(
                    item,
                    key,
                    format!(
                        "each entry of `{key}` must be text, found {}",
                        item.describe()
                    ),
                ),
            }
        }
        out
    }

    /// A positive whole number.
    pub fn count(&mut self, node: &Node, key: &str) -> Option<u64> {
        let t = self.text(node, key)?;
        match t.text.replace('_', "").parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                self.invalid(
                    node,
                    key,
                    format!("`{key}` must be a positive whole number"),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, node: &Node, key: &str) -> Option<bool> {
        match node.as_scalar() {
            Some("true" | "True" | "TRUE") => Some(true),
            Some("false" | "False" | "FALSE") => Some(false),
            _ => {
                self.invalid(node, key, format!("`{key}` must be true or false"));
                None
            }
        }
    }
}

/// Parse a byte size such as `10 MiB`, `512 KiB`, `1000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. `10 MiB`"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "KB" | "kB" => 1024,
        "MiB" | "MB" => 1024 * 1024,
        "GiB" | "GB" => 1024 * 1024 * 1024,
        _ => return Err(format!("`{text}`: unknown unit; use B, KiB, MiB or GiB")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{text}` is too large"))
}
