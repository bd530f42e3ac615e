//! `build` and `serve` as functions the command line calls: load and check the SMS, render the
//! site, and return what to print (the reporting layer prints it). Also the adapter from the
//! git history (`crate::history`) to the site's own small [`GitView`].

use super::serve::{self, BuildStatus};
use super::session::Session;
use super::{output, Change, Changes, GitView, Outcome, Provenance, Revision};
use crate::changes;
use crate::check::{self, Loaded};
use crate::diag::{Diagnostic, Severity};
use crate::history::{self, History};
use crate::model::Model;
use crate::source::{self, Record, Sources, Status};
use anyhow::{bail, Result};
use jiff::civil::Date;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// Formats findings for stdout (the command line's `--format`).
pub type FormatFindings<'f> = &'f (dyn Fn(&Loaded, &Model<'_>, &[Diagnostic]) -> String + Sync);

pub struct BuildArgs {
    pub path: PathBuf,
    pub out: Option<PathBuf>,
    pub as_of: Option<Date>,
    pub since: Option<String>,
    /// Render the work tree even where it differs from HEAD (the site is then a DRAFT); without
    /// it the site shows HEAD's tree.
    pub allow_dirty: bool,
    /// `--framework ID`: only that framework's clauses.
    pub framework: Option<String>,
    /// `--at DATE|REV`: the SMS as it stood at a past commit.
    pub at: Option<check::AtArg>,
    /// `--sample-*`: the auditor's sample to draw into the site.
    pub sample: Option<crate::sample::Request>,
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
    output::resolve(&config, out)
}

/// `auditbook build`: check, print findings, render the site even with findings. The site shows
/// HEAD's tree (DESIGN "Determinism": the same commit and as-of date give the same site), or the
/// work tree under `--allow-dirty`; outside git, or before the first commit, the work tree.
pub fn build(args: &BuildArgs, format: FormatFindings<'_>) -> Result<BuildRun> {
    let out = output_folder(&args.path, args.out.as_deref())?;
    let opts = check::Options {
        path: args.path.clone(),
        as_of: args.as_of,
        framework: args.framework.clone(),
        at: args.at.clone(),
    };
    let loaded = if args.allow_dirty {
        check::load(&opts)?
    } else {
        check::load_committed(&opts)?
    };
    let model = loaded.model();
    let findings = loaded.findings(&model);
    let mut view = git_view(&loaded);
    if let Some(rev) = &args.since {
        view.changes = Some(changes_since(&loaded, rev)?);
    }
    view.sample = crate::sample::draw_for(&loaded.sources.records, args.sample.clone())?;
    // Attachments come from the tree the pages show: HEAD's, unless the work tree is rendered.
    let head = loaded
        .history
        .as_ref()
        .and_then(|h| h.head.as_ref())
        .filter(|_| !args.allow_dirty);
    let repo = match head {
        Some(_) => history::Repo::open(&loaded.config.root)?,
        None => None,
    };
    let files_from = match (&repo, head) {
        (Some(repo), Some(head)) => super::FilesFrom::Commit {
            repo,
            commit: &head.commit,
        },
        _ => super::FilesFrom::WorkTree,
    };
    let outcome = super::build(&loaded, &model, &findings, &view, &out, &files_from)?;
    let stdout = format(&loaded, &model, &findings);
    let counts = crate::diag::count(&findings);
    let mut stderr = String::new();
    let left_out: &[String] = match (&loaded.history, head) {
        (Some(h), Some(_)) => &h.dirty,
        _ => &[],
    };
    if !left_out.is_empty() {
        let shown: Vec<&str> = left_out.iter().take(5).map(String::as_str).collect();
        let more = left_out.len() - shown.len();
        stderr.push_str(&format!(
            "note: {} uncommitted change{} left out (the site shows HEAD): {}{}; commit them, or pass --allow-dirty for a DRAFT site\n",
            left_out.len(),
            if left_out.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    for (doc, path) in &outcome.refused {
        stderr.push_str(&format!(
            "note: {doc} links to `{path}`, which the site does not copy (not a passive file type whose content matches its name); its page lists it with its SHA-256\n"
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
    if let Some(at) = &loaded.at {
        stderr.push_str(&format!(
            "PAST STATE: the site shows the SMS {}; every page says so\n",
            at.label()
        ));
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
///
/// The site shows the work tree (a preview of what a commit would give). Rebuilds are
/// incremental: the session keeps the SMS as last read and the site as last written, reads and
/// parses only the files that changed, renders only the pages whose input changed and writes only
/// the files whose bytes changed (see [`super::session`] and [`super::update`]).
pub fn serve(
    args: ServeArgs,
    log: impl Fn(&str) + Send + Sync + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let root = crate::config::discover(&args.path)?;
    let out = output_folder(&root, args.out.as_deref())?;
    let live = Mutex::new(Live {
        session: Session::new(check::Options {
            at: None,
            path: root.clone(),
            as_of: args.as_of,
            framework: None,
        }),
        memo: super::Memo::default(),
        pending: None,
    });
    let site = out.clone();
    let rebuild = move || -> Result<BuildStatus> {
        // A panic in an earlier rebuild poisons the lock; the session and the memo dropped what
        // that rebuild had taken, so carrying on is sound (the next build is a full one).
        let mut live = live.lock().unwrap_or_else(PoisonError::into_inner);
        live.rebuild(&site)
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

/// The state of `serve` between rebuilds.
struct Live {
    session: Session,
    memo: super::Memo,
    /// The files changed since the memo's build (the last successful update of the folder);
    /// `None`: not known (a full reload came between), or no build yet.
    pending: Option<HashSet<String>>,
}

impl Live {
    fn rebuild(&mut self, out: &std::path::Path) -> Result<BuildStatus> {
        let started = std::time::Instant::now();
        // Unknown until this rebuild succeeds: a failure (or a panic) anywhere below leaves the
        // changes of this reload unaccounted for.
        let mut pending = self.pending.take();
        let reload = self.session.reload()?;
        match (&reload.full, pending.as_mut()) {
            (None, Some(p)) => p.extend(reload.paths.iter().cloned()),
            _ => pending = None,
        }
        let t_load = started.elapsed();
        let Some(loaded) = self.session.loaded() else {
            anyhow::bail!("internal error: the SMS was not loaded after a successful reload");
        };
        let model = loaded.model();
        let findings = loaded.findings(&model);
        let view = git_view(loaded);
        let t_check = started.elapsed() - t_load;
        let session = &self.session;
        let up = super::update(
            loaded,
            &model,
            &findings,
            &view,
            out,
            &mut self.memo,
            pending.as_ref(),
            &|p: &str| session.stamp(p),
        )?;
        self.pending = Some(HashSet::new());
        let seconds = started.elapsed().as_secs_f64();
        let how = match &reload.full {
            Some(why) => format!("read {} files ({why})", reload.read),
            None => format!(
                "{} changed file{} read again",
                reload.changed,
                if reload.changed == 1 { "" } else { "s" }
            ),
        };
        let summary = format!(
            "built in {seconds:.2} s (load {:.2}, check {:.2}, render {:.2}, write {:.2}): {how}; {} of {} pages rendered, {} file{} written, {} removed{}; {}{}",
            t_load.as_secs_f64(),
            t_check.as_secs_f64(),
            up.render.as_secs_f64(),
            up.write.as_secs_f64(),
            up.rendered,
            up.outcome.pages,
            up.written,
            if up.written == 1 { "" } else { "s" },
            up.removed,
            if up.replaced { " (folder replaced)" } else { "" },
            super::session::findings_line(&findings),
            if loaded.draft { "; DRAFT (uncommitted changes)" } else { "" },
        );
        Ok(BuildStatus {
            summary,
            errors: findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(one_line)
                .collect(),
        })
    }
}

/// Provenance and revision tables from the git history, when there is one.
pub fn git_view(loaded: &Loaded) -> GitView {
    let mut view = GitView {
        provenance: Provenance {
            draft: loaded.draft,
            at: loaded.at.as_ref().map(check::At::label),
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
                    approval: r.is_approved().then(|| {
                        h.evidence(c, r.approver.as_deref(), &loaded.config)
                            .label(c.approval_trailers)
                    }),
                    signature: signature_label(h, c),
                    summary: c.subject.clone(),
                })
            })
            .collect();
        revs.reverse();
        view.revisions.insert(key.clone(), revs);
        let before: Vec<Revision> = doc
            .before
            .iter()
            .rev()
            .filter_map(|&i| {
                let c = h.commits.get(i)?;
                Some(Revision {
                    commit: c.id.clone(),
                    date: c.date.to_string(),
                    author: c.author_name.clone(),
                    version: None,
                    status: None,
                    approval: None,
                    signature: signature_label(h, c),
                    summary: c.subject.clone(),
                })
            })
            .collect();
        if !before.is_empty() {
            view.before_control.insert(key.clone(), before);
        }
    }
    view
}

/// What the signatures of a commit and of the signed tags on it say, whoever signed
/// (`None` when nothing is signed).
fn signature_label(h: &history::History, c: &history::Commit) -> Option<String> {
    let mut parts: Vec<String> = c.signature.iter().map(|s| s.label()).collect();
    for t in h.tags.get(&c.id).into_iter().flatten() {
        parts.push(format!("tag {}: {}", t.name, t.signature.label()));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
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
    // The commit `rev` names (a tag, a branch, `HEAD~2`, an abbreviated id).
    let named = history::Repo::open(&loaded.config.root)?.and_then(|repo| repo.resolve(rev));
    let (since_commit, since_date) = resolve_commit(h, rev, named.as_deref());
    Ok(Changes {
        since: rev.to_string(),
        since_commit,
        since_date,
        changes: diff_sources(&before, &loaded.sources),
    })
}

/// The commit id of `rev` and its date. `named` is the commit git resolves `rev` to (a tag, a
/// branch, `HEAD~2`, an abbreviated id); the date is known when that commit changed the SMS (the
/// walk saw it). Without `named`, `rev` is looked up as (a prefix of) a commit id the walk saw.
fn resolve_commit(h: &History, rev: &str, named: Option<&str>) -> (String, Option<String>) {
    if let Some(id) = named {
        let date = h
            .commits
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.date.to_string());
        return (id.to_string(), date);
    }
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
        r.all_fields()
            .map(|(k, v)| (k.to_string(), v.text()))
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
