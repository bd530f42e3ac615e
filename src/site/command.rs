//! `build` and `serve` as functions the command line calls: load and check the SMS, render the
//! site, and return what to print (the reporting layer prints it). Also the adapter from the
//! git history (`crate::history`) to the site's own small [`GitView`].

use super::serve::{self, BuildStatus};
use super::{output, Change, Changes, GitView, Outcome, Provenance, Revision};
use crate::changes;
use crate::check::{self, Loaded};
use crate::diag::{Diagnostic, Severity};
use crate::history::{self, History};
use crate::model::Model;
use crate::source::{self, Record, Sources, Status};
use anyhow::{bail, Result};
use jiff::civil::Date;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Formats findings for stdout (the command line's `--format`).
pub type FormatFindings<'f> = &'f (dyn Fn(&Loaded, &Model<'_>, &[Diagnostic]) -> String + Sync);

pub struct BuildArgs {
    pub path: PathBuf,
    pub out: Option<PathBuf>,
    pub as_of: Option<Date>,
    pub since: Option<String>,
}

/// What `build` printed and its exit code.
pub struct BuildRun {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
    pub outcome: Outcome,
    pub errors: Vec<String>,
}

/// The output folder for `path` and `--out`, checked (exit 2 on refusal) before any work.
pub fn output_folder(path: &std::path::Path, out: Option<&std::path::Path>) -> Result<PathBuf> {
    let root = crate::config::discover(path)?;
    let (config, _) = crate::config::load(&root)?;
    output::resolve(&root, &config.paths.output, out)
}

/// `auditbook build`: check, print findings, render the site even with findings.
pub fn build(args: &BuildArgs, format: FormatFindings<'_>) -> Result<BuildRun> {
    let out = output_folder(&args.path, args.out.as_deref())?;
    let (loaded, report) = check::run(&check::Options {
        path: args.path.clone(),
        as_of: args.as_of,
    })?;
    let model = loaded.model();
    let findings = report.findings;
    let mut view = git_view(&loaded);
    if let Some(rev) = &args.since {
        view.changes = Some(changes_since(&loaded, rev)?);
    }
    let outcome = super::build(&loaded, &model, &findings, &view, &out)?;
    let stdout = format(&loaded, &model, &findings);
    let counts = crate::diag::count(&findings);
    let mut stderr = String::new();
    for (doc, path) in &outcome.refused {
        stderr.push_str(&format!(
            "note: {doc} links to `{path}`, which the site never copies (HTML and SVG outside <img> could run code)\n"
        ));
    }
    stderr.push_str(&format!(
        "built the evidence site: {} pages, {} files in {}\n",
        outcome.pages,
        outcome.files,
        crate::check::display_root(&outcome.out)
    ));
    if loaded.draft {
        stderr.push_str("DRAFT: the work tree differs from HEAD; every page of the site says so\n");
    }
    if counts.errors > 0 {
        stderr.push_str(&format!(
            "FINDINGS: the site was built, but it shows {} finding{} at error level ({} warning{}); the auditor will see these gaps\n",
            counts.errors,
            if counts.errors == 1 { "" } else { "s" },
            counts.warnings,
            if counts.warnings == 1 { "" } else { "s" },
        ));
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(one_line)
        .collect();
    Ok(BuildRun {
        stdout,
        stderr,
        code: u8::from(counts.errors > 0),
        outcome,
        errors,
    })
}

fn one_line(d: &Diagnostic) -> String {
    match (&d.path, d.pos) {
        (Some(p), Some(pos)) => format!("{p}:{}:{}: {} [{}]", pos.line, pos.col, d.message, d.code),
        (Some(p), None) => format!("{p}: {} [{}]", d.message, d.code),
        (None, _) => format!("{} [{}]", d.message, d.code),
    }
}

pub struct ServeArgs {
    pub path: PathBuf,
    pub out: Option<PathBuf>,
    pub as_of: Option<Date>,
    pub port: u16,
    pub max_requests: Option<usize>,
}

/// `auditbook serve`: build, serve on 127.0.0.1, rebuild on change. `log` gets progress lines;
/// `ready` the address once the first build is done.
pub fn serve(
    args: ServeArgs,
    log: impl Fn(&str) + Send + Sync + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let root = crate::config::discover(&args.path)?;
    let out = output_folder(&root, args.out.as_deref())?;
    let build_args = BuildArgs {
        path: root.clone(),
        out: Some(out.clone()),
        as_of: args.as_of,
        since: None,
    };
    let rebuild = move || -> Result<BuildStatus> {
        let started = std::time::Instant::now();
        let run = build(&build_args, &|_, _, _| String::new())?;
        Ok(BuildStatus {
            summary: format!(
                "built {} pages in {:.2} s; {}",
                run.outcome.pages,
                started.elapsed().as_secs_f64(),
                run.stderr.lines().last().unwrap_or("").trim()
            ),
            errors: run.errors,
        })
    };
    serve::run(
        serve::Options {
            root,
            out,
            port: args.port,
            max_requests: args.max_requests,
        },
        rebuild,
        log,
        ready,
    )
}

/// Provenance and revision tables from the git history, when there is one.
pub fn git_view(loaded: &Loaded) -> GitView {
    let mut view = GitView {
        provenance: Provenance {
            draft: loaded.draft,
            ..Provenance::default()
        },
        ..GitView::default()
    };
    let Some(h) = &loaded.history else {
        return view;
    };
    if let Some(head) = &h.head {
        view.provenance.commit = Some(head.commit.clone());
        view.provenance.commit_date = Some(head.date.to_string());
    }
    if h.state != history::State::Complete {
        return view;
    }
    for (key, doc) in &h.documents {
        let mut revs: Vec<Revision> = doc
            .revisions
            .iter()
            .filter_map(|r| {
                let c = h.commits.get(r.commit)?;
                Some(Revision {
                    commit: c.id.clone(),
                    date: c.date.to_string(),
                    author: c.author_name.clone(),
                    version: r.version.clone(),
                    status: Some(if r.deleted {
                        "removed".to_string()
                    } else {
                        r.status.map(Status::as_str).unwrap_or("?").to_string()
                    }),
                    approval: r.is_approved().then(|| approval(c).to_string()),
                    summary: c.subject.clone(),
                })
            })
            .collect();
        revs.reverse();
        view.revisions.insert(key.clone(), revs);
    }
    view
}

/// How an approval is evidenced in its commit: trailers corroborate the frontmatter's claim.
fn approval(c: &history::Commit) -> &'static str {
    let corroborated = c.trailers.iter().any(|t| {
        t.key.eq_ignore_ascii_case("approved-by") || t.key.eq_ignore_ascii_case("reviewed-by")
    });
    if corroborated {
        "corroborated"
    } else {
        "claimed"
    }
}

/// Documents and records added, changed or removed between `rev` and the SMS being built.
pub fn changes_since(loaded: &Loaded, rev: &str) -> Result<Changes> {
    let Some(h) = &loaded.history else {
        bail!(
            "--since needs git history: `{}` is not in a git repository",
            loaded.config.root.display()
        );
    };
    if h.state == history::State::Shallow {
        bail!("--since needs git history, and this is a shallow clone.\nhelp: fetch the full history (`git fetch --unshallow`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`)");
    }
    let snap = history::snapshot(&loaded.config, rev)?;
    let (before, _) = source::parse(&loaded.config, &snap);
    let (since_commit, since_date) = resolve_commit(h, rev);
    Ok(Changes {
        since: rev.to_string(),
        since_commit,
        since_date,
        changes: diff_sources(&before, &loaded.sources),
    })
}

/// The commit id and date of `rev` when it is (a prefix of) a commit id the walk saw.
fn resolve_commit(h: &History, rev: &str) -> (String, Option<String>) {
    let hex = rev.len() >= 4 && rev.chars().all(|c| c.is_ascii_hexdigit());
    if hex {
        let lower = rev.to_ascii_lowercase();
        if let Some(c) = h.commits.iter().find(|c| c.id.starts_with(&lower)) {
            return (c.id.clone(), Some(c.date.to_string()));
        }
    }
    (String::new(), None)
}

fn diff_sources(before: &Sources, after: &Sources) -> Vec<Change> {
    let mut out = Vec::new();
    let docs = changes::by_id(
        &before.documents,
        &after.documents,
        |d| &d.id,
        |old, new| history::content_hashes(old) != history::content_hashes(new),
    );
    for c in docs {
        out.push(Change {
            what: "document".into(),
            id: c.item().id.clone(),
            title: c.item().title.clone(),
            how: c.how.as_str().into(),
            before: c.before.map(changes::document_state),
            after: c.after.map(changes::document_state),
        });
    }
    let text = |r: &Record| -> Vec<(String, String)> {
        r.fields
            .iter()
            .map(|(k, v)| (k.clone(), super::pages::node_text(v)))
            .collect()
    };
    let recs = changes::by_id(
        &before.records,
        &after.records,
        |r| &r.id,
        |o, n| text(o) != text(n),
    );
    for c in recs {
        out.push(Change {
            what: "record".into(),
            id: c.item().id.clone(),
            title: c.item().title.clone(),
            how: c.how.as_str().into(),
            before: c.before.map(changes::record_state),
            after: c.after.map(changes::record_state),
        });
    }
    // Documents first, then records; within each by id.
    out.sort_by(|x, y| {
        (x.what != "document", crate::ids::key(&x.id), &x.id).cmp(&(
            y.what != "document",
            crate::ids::key(&y.id),
            &y.id,
        ))
    });
    out
}
