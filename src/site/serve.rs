//! `auditbook serve`: build the site, serve it on 127.0.0.1, rebuild when a source file changes,
//! and make open pages reload.
//!
//! Safety: the server listens on the loopback address only, answers only requests whose `Host`
//! is `localhost:<port>` or `127.0.0.1:<port>` (so a web page cannot reach it through DNS
//! rebinding), refuses requests that another site makes (`Sec-Fetch-Site`, `Origin`, `Referer`)
//! and marks every response `Cross-Origin-Resource-Policy: same-origin` (so no page elsewhere can
//! read the search index through `<script src>`), serves GET and HEAD only and refuses request
//! bodies before reading them (see `http`), serves nothing outside the output folder, and bounds
//! connections (32 at a time, 10 s to send a request).
//!
//! Watching: any event that may change a file below the SMS root (not the output folder, not
//! hidden folders such as `.git`) starts a rebuild once events have stopped for 250 ms; opening
//! and reading files are not changes (a rebuild reads files itself).
//!
//! Reloading: HTML responses (and only those of the server; built files on disk never change)
//! get one `<script src="/__auditbook/reload.js">` that polls `/__auditbook/version`, and their
//! Content-Security-Policy gets `connect-src 'self'` so that the poll is allowed. A failed rebuild
//! keeps the previous site and shows the error on every page; a build with findings is a
//! successful build, and its pages show the findings.

use super::http;
use anyhow::{anyhow, Result};
use notify::Watcher as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a build reports to the server.
#[derive(Debug, Clone, Default)]
pub struct BuildStatus {
    /// One line: pages, findings.
    pub summary: String,
    /// Error-level findings, one line each (shown on pages that went missing).
    pub errors: Vec<String>,
}

#[derive(Default)]
struct State {
    version: u64,
    /// The last rebuild failed: why.
    failure: Option<String>,
    status: BuildStatus,
}

pub struct Options {
    /// The SMS root, watched for changes.
    pub root: PathBuf,
    /// The output folder, served.
    pub out: PathBuf,
    pub port: u16,
    /// Stop after this many requests (tests); `None`: run until killed.
    pub max_requests: Option<usize>,
}

const RELOAD_JS: &str = r#"// auditbook serve: reload the page when the site is rebuilt.
(function () {
  "use strict";
  var seen = null;
  function poll() {
    fetch("/__auditbook/version", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (v) {
        if (seen === null) { seen = v; } else if (v !== seen) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
"#;

const CSP_BUILT: &str = "default-src 'none';";
const CSP_SERVED: &str = "default-src 'none'; connect-src 'self';";

/// Run the server until it is killed (or `max_requests` were answered). `rebuild` builds the
/// site into `opts.out`; `log` reports progress; `ready` receives the bound address once the
/// first build is done.
pub fn run(
    opts: Options,
    rebuild: impl Fn() -> Result<BuildStatus> + Send + Sync + 'static,
    log: impl Fn(&str) + Send + Sync + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let rebuild = Arc::new(rebuild);
    let log = Arc::new(log);
    let state = Arc::new(Mutex::new(State::default()));
    run_build(&*rebuild, &state, &*log);

    let listener = std::net::TcpListener::bind(("127.0.0.1", opts.port))
        .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{}: {e}", opts.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{}: {e}", opts.port))?;

    // Watch the SMS; rebuild on one thread, once a burst of events is over.
    let (tx, rx) = mpsc::channel::<()>();
    let ignore = Ignore::new(&opts.root, &opts.out);
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if changes_content(&event.kind) && event.paths.iter().any(|p| !ignore.ignored(p)) {
                let _ = tx.send(());
            }
        }
    })
    .map_err(|e| anyhow!("cannot watch `{}`: {e}", opts.root.display()))?;
    watcher
        .watch(&opts.root, notify::RecursiveMode::Recursive)
        .map_err(|e| anyhow!("cannot watch `{}`: {e}", opts.root.display()))?;
    {
        let state = Arc::clone(&state);
        let rebuild = Arc::clone(&rebuild);
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            while rx.recv().is_ok() {
                // An editor's save is a burst of events: wait until it is over (and take what
                // queued up while the previous build ran), so that one build covers it all.
                while rx.recv_timeout(QUIET).is_ok() {}
                log("change detected; rebuilding");
                run_build(&*rebuild, &state, &*log);
            }
        });
    }

    ready(addr);
    // One thread per connection, at most MAX_CONNECTIONS at a time (beyond that a connection gets
    // 503 and is closed at once); each answers one request under read and write timeouts.
    let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let out = Arc::new(opts.out.clone());
    let port = addr.port();
    let mut last = None;
    for (n, stream) in listener.incoming().enumerate() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(http::TIMEOUT));
        let _ = stream.set_write_timeout(Some(http::TIMEOUT));
        use std::sync::atomic::Ordering;
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = http::respond(
                &stream,
                503,
                &[("Content-Type", "text/plain; charset=utf-8")],
                b"too many connections\n",
                false,
            );
        } else {
            let (active, out, state) = (Arc::clone(&active), Arc::clone(&out), Arc::clone(&state));
            last = Some(std::thread::spawn(move || {
                let _ = handle(&stream, &out, port, &state);
                active.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        if opts.max_requests.is_some_and(|m| n + 1 >= m) {
            break;
        }
    }
    if let Some(t) = last {
        let _ = t.join();
    }
    drop(watcher);
    Ok(())
}

/// Connections served at the same time.
const MAX_CONNECTIONS: usize = 32;

/// How long the watcher must be quiet before a rebuild starts.
const QUIET: Duration = Duration::from_millis(250);

/// Whether a file-system event may change what a file holds. Opening and reading are events too
/// (inotify reports them), and a rebuild opens every folder it lists and every file it reads:
/// counting those would make each rebuild trigger the next one.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Other => true,
    }
}

fn run_build(rebuild: &dyn Fn() -> Result<BuildStatus>, state: &Mutex<State>, log: &dyn Fn(&str)) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(rebuild));
    let (failure, status) = match result {
        Ok(Ok(status)) => {
            log(&status.summary);
            (None, Some(status))
        }
        Ok(Err(e)) => {
            let msg = format!("{e:#}");
            log(&format!("build failed: {msg}"));
            (Some(msg), None)
        }
        Err(_) => {
            let msg =
                "the build panicked (a bug in auditbook); the previous site is shown".to_string();
            log(&msg);
            (Some(msg), None)
        }
    };
    if let Ok(mut s) = state.lock() {
        s.version += 1;
        s.failure = failure;
        if let Some(st) = status {
            s.status = st;
        }
    }
}

/// Paths whose changes do not trigger a rebuild: the output folder, its temporary siblings and
/// hidden folders (`.git`).
struct Ignore {
    root: PathBuf,
    out: PathBuf,
    out_name: String,
}

impl Ignore {
    fn new(root: &Path, out: &Path) -> Ignore {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Ignore {
            root,
            out: out.to_path_buf(),
            out_name: out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    fn ignored(&self, path: &Path) -> bool {
        let in_out = |p: &Path| {
            p.starts_with(&self.out)
                || p.parent().is_some_and(|parent| {
                    self.out.parent() == Some(parent) && {
                        let n = p
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default();
                        n.starts_with(&format!("{}.tmp-", self.out_name))
                            || n.starts_with(&format!("{}.old-", self.out_name))
                    }
                })
        };
        if path.ancestors().any(in_out) {
            return true;
        }
        match path.strip_prefix(&self.root) {
            Ok(rel) => rel.components().any(|c| match c {
                Component::Normal(n) => n.to_string_lossy().starts_with('.'),
                _ => false,
            }),
            Err(_) => false,
        }
    }
}

/// Answer with the headers every response carries.
fn respond(
    stream: &TcpStream,
    request: Option<&http::Request>,
    code: u16,
    content_type: &str,
    body: Vec<u8>,
) -> std::io::Result<()> {
    let head_only = request.is_some_and(|r| r.method == "HEAD");
    http::respond(
        stream,
        code,
        &[
            ("Content-Type", content_type),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            // No other site may read a response through `<script src>` or `<img>` (the search
            // index holds every title and excerpt).
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ],
        &body,
        head_only,
    )
}

fn host_allowed(request: &http::Request, port: u16) -> bool {
    match request.values("Host").as_slice() {
        [h] => {
            let h = h.trim().to_ascii_lowercase();
            h == format!("localhost:{port}") || h == format!("127.0.0.1:{port}")
        }
        _ => false,
    }
}

/// Why a request comes from another site, or `None`: a `Sec-Fetch-Site` other than
/// `same-origin` or `none` (typed by the user), or an `Origin` or `Referer` that is not this
/// server. A page elsewhere could otherwise include `searchindex.js` or the shards under
/// `search/` with `<script src>`. It applies to every path.
fn foreign(request: &http::Request, port: u16) -> Option<&'static str> {
    let own = [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    for v in request.values("Sec-Fetch-Site") {
        if !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "same-origin" | "none"
        ) {
            return Some("Sec-Fetch-Site says the request comes from another site");
        }
    }
    for v in request.values("Origin") {
        if !own.iter().any(|o| v.trim().eq_ignore_ascii_case(o)) {
            return Some("its Origin is another site");
        }
    }
    for v in request.values("Referer") {
        let v = v.trim().to_ascii_lowercase();
        let ours = own
            .iter()
            .any(|o| v == *o || v.starts_with(&format!("{o}/")));
        if !ours {
            return Some("its Referer is another site");
        }
    }
    None
}

fn handle(stream: &TcpStream, out: &Path, port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    let text = "text/plain; charset=utf-8";
    let request = match http::read_request(stream) {
        Ok(r) => r,
        Err(refusal) => {
            return match refusal.status {
                Some(code) => respond(
                    stream,
                    None,
                    code,
                    text,
                    format!("{}\n", refusal.reason).into_bytes(),
                ),
                None => Ok(()),
            }
        }
    };
    // Refused before anything else, and before any body is read (none ever is).
    if request.method != "GET" && request.method != "HEAD" {
        return respond(stream, None, 405, text, b"GET or HEAD only\n".to_vec());
    }
    if request.has_body() {
        return respond(
            stream,
            None,
            413,
            text,
            b"request bodies are refused\n".to_vec(),
        );
    }
    let request = &request;
    if !host_allowed(request, port) {
        return respond(
            stream,
            Some(request),
            403,
            text,
            format!("auditbook serve answers only http://localhost:{port}/ and http://127.0.0.1:{port}/\n").into_bytes(),
        );
    }
    if let Some(why) = foreign(request, port) {
        return respond(
            stream,
            Some(request),
            403,
            text,
            format!("refused: {why}; auditbook serve answers its own pages only\n").into_bytes(),
        );
    }
    let path = request.target.split(['?', '#']).next().unwrap_or("/");
    match path {
        "/__auditbook/version" => {
            let v = state.lock().map(|s| s.version).unwrap_or(0);
            return respond(stream, Some(request), 200, text, v.to_string().into_bytes());
        }
        "/__auditbook/reload.js" => {
            return respond(
                stream,
                Some(request),
                200,
                "text/javascript; charset=utf-8",
                RELOAD_JS.as_bytes().to_vec(),
            );
        }
        _ => {}
    }
    let html = "text/html; charset=utf-8";
    let bytes = resolve(out, path).and_then(|file| {
        // Only regular files of the site, never more than a site file can be.
        match crate::regular::read(&file, MAX_SERVED) {
            Ok(crate::regular::Regular::Bytes(b)) => Some((file, b)),
            _ => None,
        }
    });
    let Some((file, bytes)) = bytes else {
        return respond(
            stream,
            Some(request),
            404,
            html,
            not_found(state, path).into_bytes(),
        );
    };
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let content_type = content_type(&ext);
    if ext == "html" {
        let text = String::from_utf8_lossy(&bytes);
        return respond(
            stream,
            Some(request),
            200,
            content_type,
            inject(&text, state).into_bytes(),
        );
    }
    respond(stream, Some(request), 200, content_type, bytes)
}

/// Largest file served.
const MAX_SERVED: u64 = 1 << 30;

/// The file a URL path names inside `out`, or `None` (outside, hidden, missing, a link).
fn resolve(out: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut file = out.to_path_buf();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => continue,
            ".." => return None,
            s if s.starts_with('.') || s.contains('\\') || s.contains('\0') => return None,
            s => file.push(s),
        }
    }
    let meta = std::fs::symlink_metadata(&file).ok()?;
    if meta.file_type().is_symlink() {
        return None;
    }
    if meta.is_dir() {
        file.push("index.html");
    }
    let canon_out = out.canonicalize().ok()?;
    let canon = file.canonicalize().ok()?;
    (canon.starts_with(&canon_out) && canon.is_file()).then_some(canon)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Add the reload script, allow its poll, and show a failed rebuild.
fn inject(html: &str, state: &Mutex<State>) -> String {
    let mut s = html.replacen(CSP_BUILT, CSP_SERVED, 1);
    let failure = state.lock().ok().and_then(|s| s.failure.clone());
    if let Some(f) = failure {
        let banner = format!(
            "<div class=\"serve-error\" role=\"alert\">The last rebuild failed; this is the previous site.\n{}</div>",
            escape(&f)
        );
        if let Some(i) = s.find("<body>") {
            s.insert_str(i + "<body>".len(), &banner);
        }
    }
    let script = "<script src=\"/__auditbook/reload.js\"></script>\n";
    match s.rfind("</body>") {
        Some(i) => s.insert_str(i, script),
        None => s.push_str(script),
    }
    s
}

fn not_found(state: &Mutex<State>, path: &str) -> String {
    let (failure, status) = match state.lock() {
        Ok(s) => (s.failure.clone(), s.status.clone()),
        Err(_) => (None, BuildStatus::default()),
    };
    let mut body = format!(
        "<h1>Not in the current build</h1><p><code>{}</code> is not part of the site as it was last built. A document whose frontmatter is broken has no page until it is fixed.</p>",
        escape(path)
    );
    if let Some(f) = failure {
        body.push_str(&format!(
            "<h2>The last rebuild failed</h2><pre>{}</pre>",
            escape(&f)
        ));
    }
    body.push_str(&format!("<p>{}</p>", escape(&status.summary)));
    if !status.errors.is_empty() {
        body.push_str("<h2>Errors</h2><ul>");
        for e in &status.errors {
            body.push_str(&format!("<li>{}</li>", escape(e)));
        }
        body.push_str("</ul>");
    }
    body.push_str(
        "<p><a href=\"/index.html\">Dashboard</a> · <a href=\"/findings.html\">Findings</a></p>",
    );
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:\"><title>Not found</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main id=\"page_main\">{body}</main></body></html>\n"
    );
    inject(&page, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_output_folder() {
        let dir = std::env::temp_dir().join(format!("ab-serve-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("documents"));
        std::fs::write(dir.join("index.html"), "x").unwrap();
        std::fs::write(dir.join("documents/A.html"), "x").unwrap();
        assert!(resolve(&dir, "/").is_some());
        assert!(resolve(&dir, "/documents/A.html").is_some());
        assert!(resolve(&dir, "/../etc/passwd").is_none());
        assert!(resolve(&dir, "/%2e%2e/etc/passwd").is_none());
        assert!(resolve(&dir, "/.auditbook-site").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reading_a_file_is_no_change() {
        use notify::event::{
            AccessKind, AccessMode, CreateKind, DataChange, EventKind, ModifyKind, RemoveKind,
        };
        // A rebuild opens and reads files: those events must not start the next rebuild.
        for read in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
        ] {
            assert!(!changes_content(&read), "{read:?}");
        }
        for change in [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Any,
        ] {
            assert!(changes_content(&change), "{change:?}");
        }
    }

    #[test]
    fn inject_adds_script_and_relaxes_connect_only() {
        let s = Mutex::new(State::default());
        let html = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self'\"><body>x</body>";
        let out = inject(html, &s);
        assert!(out.contains("default-src 'none'; connect-src 'self'; script-src 'self'"));
        assert!(out.contains("<script src=\"/__auditbook/reload.js\"></script>\n</body>"));
    }
}
