//! The site's templates: embedded in the binary, each replaceable by a file of the same name in
//! the SMS's `templates/` folder. Strict about undefined values (a typo in a template fails the
//! build instead of rendering an empty string) and never reloaded from disk while rendering.
//!
//! Custom templates are trusted code of the SMS: the dashboard lists each with its SHA-256.

use crate::check::Loaded;
use crate::snapshot::EntryKind;
use anyhow::{anyhow, Context, Result};
use minijinja::{Environment, UndefinedBehavior};
use sha2::{Digest, Sha256};

/// (name, embedded source). The names are also the file names an SMS may override.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("index.html", include_str!("templates/index.html")),
    ("clauses.html", include_str!("templates/clauses.html")),
    ("clause.html", include_str!("templates/clause.html")),
    ("documents.html", include_str!("templates/documents.html")),
    ("document.html", include_str!("templates/document.html")),
    ("records.html", include_str!("templates/records.html")),
    ("kind.html", include_str!("templates/kind.html")),
    ("record.html", include_str!("templates/record.html")),
    ("sample.html", include_str!("templates/sample.html")),
    ("matrix.html", include_str!("templates/matrix.html")),
    ("findings.html", include_str!("templates/findings.html")),
    ("code.html", include_str!("templates/code.html")),
    ("search.html", include_str!("templates/search.html")),
    ("changes.html", include_str!("templates/changes.html")),
    ("soa.html", include_str!("templates/soa.html")),
    (
        "audit-programme.html",
        include_str!("templates/audit-programme.html"),
    ),
    ("people.html", include_str!("templates/people.html")),
    ("person.html", include_str!("templates/person.html")),
];

/// Static files: (site path, embedded content, name of an SMS override in `templates/`).
pub const STATIC: &[(&str, &str, &str)] = &[
    (
        "assets/style.css",
        include_str!("templates/style.css"),
        "style.css",
    ),
    (
        "assets/site.js",
        include_str!("templates/site.js"),
        "site.js",
    ),
    (
        "assets/search.js",
        include_str!("templates/search.js"),
        "search.js",
    ),
    (
        "assets/favicon.svg",
        include_str!("templates/favicon.svg"),
        "favicon.svg",
    ),
];

/// A template or static file the SMS overrides.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Custom {
    pub name: String,
    pub sha256: String,
}

/// Escaped HTML of `text`, `code spans` as `<code>`, the first letter upper-cased.
pub fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_code = false;
    let mut first = true;
    for c in text.chars() {
        match c {
            '`' => {
                out.push_str(if in_code { "</code>" } else { "<code>" });
                in_code = !in_code;
                first = false;
                continue;
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if first => out.extend(c.to_uppercase()),
            c => out.push(c),
        }
        first = false;
    }
    if in_code {
        out.push_str("</code>");
    }
    out
}

/// A field name as a column title: `_` and `-` as spaces, the first letter a capital.
pub fn heading(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `n` and the noun, singular for exactly one.
fn count_filter(n: i64, one: String, many: Option<String>) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {}", many.unwrap_or_else(|| format!("{one}s")))
    }
}

pub struct Templates {
    pub env: Environment<'static>,
    pub custom: Vec<Custom>,
    /// Static files, after overrides.
    pub statics: Vec<(String, String)>,
}

impl Templates {
    pub fn load(loaded: &Loaded) -> Result<Templates> {
        let overrides = read_overrides(loaded)?;
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_reload(false);
        env.set_recursion_limit(200);
        // `{{ n|count("document") }}`: "1 document", "2 documents"; an irregular plural is the
        // second argument (`count("entry", "entries")`).
        env.add_filter("count", count_filter);
        // `{{ "closed_at"|heading }}`: a field name as a column title ("Closed at").
        env.add_filter("heading", |name: String| heading(&name));
        // `{{ text|prose }}`: registry prose (finding explanations) as HTML — escaped, with
        // `backticked` spans as <code> and the first letter a capital.
        env.add_filter("prose", |text: String| {
            minijinja::Value::from_safe_string(prose(&text))
        });
        // HTML-escape what must be escaped (`&<>"'`) and nothing else, so URLs stay readable
        // (minijinja's default also escapes `/`).
        env.set_formatter(|out, state, value| {
            if value.is_safe()
                || value.is_undefined()
                || !matches!(state.auto_escape(), minijinja::AutoEscape::Html)
            {
                return minijinja::escape_formatter(out, state, value);
            }
            let text = value.to_string();
            let mut escaped = String::with_capacity(text.len() + 8);
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#39;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(minijinja::Error::from)
        });
        let mut custom = Vec::new();
        for (name, source) in EMBEDDED {
            let text = match overrides.iter().find(|(n, _)| n == name) {
                Some((_, text)) => {
                    custom.push(Custom {
                        name: name.to_string(),
                        sha256: sha256(text.as_bytes()),
                    });
                    text.clone()
                }
                None => source.to_string(),
            };
            env.add_template_owned(name.to_string(), text)
                .map_err(|e| anyhow!("template `{name}`: {e:#}"))?;
        }
        let mut statics = Vec::new();
        for (path, source, name) in STATIC {
            let text = match overrides.iter().find(|(n, _)| n == name) {
                Some((_, text)) => {
                    custom.push(Custom {
                        name: name.to_string(),
                        sha256: sha256(text.as_bytes()),
                    });
                    text.clone()
                }
                None => source.to_string(),
            };
            statics.push((path.to_string(), text));
        }
        custom.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Templates {
            env,
            custom,
            statics,
        })
    }
}

impl Templates {
    /// Names and hashes of the custom templates and assets: the embedded ones are part of the
    /// binary, so two template sets with the same fingerprint render the same pages.
    pub fn fingerprint(&self) -> String {
        self.custom
            .iter()
            .map(|c| format!("{} {}\n", c.sha256, c.name))
            .collect()
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Templates under the SMS's `templates/` folder whose names auditbook knows; never read
/// through a symbolic link (the snapshot lists links as links; a linked folder is not walked).
fn read_overrides(loaded: &Loaded) -> Result<Vec<(String, String)>> {
    let dir = format!("{}/", loaded.config.paths.templates);
    let known: Vec<&str> = EMBEDDED
        .iter()
        .map(|(n, _)| *n)
        .chain(STATIC.iter().map(|(_, _, n)| *n))
        .collect();
    let mut out = Vec::new();
    for entry in &loaded.snapshot.entries {
        let Some(name) = entry.path.strip_prefix(&dir) else {
            continue;
        };
        if !known.contains(&name) {
            continue;
        }
        let bytes: Vec<u8> = match &entry.kind {
            EntryKind::File { bytes: Some(b), .. } => b.to_vec(),
            EntryKind::File { bytes: None, size } if *size <= 1 << 20 => {
                let path = loaded.config.root.join(&entry.path);
                match crate::regular::read(&path, 1 << 20)
                    .with_context(|| format!("cannot read `{}`", path.display()))?
                {
                    crate::regular::Regular::Bytes(b) => b,
                    crate::regular::Regular::NotRegular(_)
                    | crate::regular::Regular::TooLarge(_) => continue,
                }
            }
            EntryKind::File { .. }
            | EntryKind::TooLarge { .. }
            | EntryKind::NotRegular { .. }
            | EntryKind::Symlink { .. }
            | EntryKind::Submodule => continue,
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("template `{}` is not UTF-8 text", entry.path))?;
        let text = crate::markdown::normalise(&text).into_owned();
        out.push((name.to_string(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod count_tests {
    #[test]
    fn prose_escapes_marks_code_and_capitalises() {
        assert_eq!(
            super::prose("use `doc:<id>` & <b>"),
            "Use <code>doc:&lt;id&gt;</code> &amp; &lt;b&gt;"
        );
        assert_eq!(
            super::prose("`x` unclosed `y"),
            "<code>x</code> unclosed <code>y</code>"
        );
    }

    #[test]
    fn field_names_become_column_titles() {
        assert_eq!(super::heading("closed_at"), "Closed at");
        assert_eq!(super::heading("root-cause"), "Root cause");
        assert_eq!(super::heading("SLA"), "SLA");
    }

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(super::count_filter(1, "draft".into(), None), "1 draft");
        assert_eq!(super::count_filter(0, "draft".into(), None), "0 drafts");
        assert_eq!(
            super::count_filter(2, "entry".into(), Some("entries".into())),
            "2 entries"
        );
    }
}
