//! Attachments: files that documents link to. The site copies only passive types whose bytes
//! match their extension (`src/site/attachment.rs`); every other linked file is listed on the
//! page with its size and SHA-256. A real headless Chromium, driven over the DevTools protocol
//! (`--remote-debugging-pipe`), clicks every attachment link of a page that links one hostile
//! file of each of 85 extensions and must see no JavaScript dialog.

use crate::support::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// An XHTML document whose script opens a dialog: it runs wherever a browser parses the file as
/// HTML, XHTML, SVG or any other XML type.
fn payload(ext: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>{ext}</title></head>\
         <body><script>alert('PWNED {ext}')</script><p>x</p></body></html>\n"
    )
}

/// Extensions a hostile author might link, each given the payload above: the XML and HTML
/// families, script and executable types, and the passive types too (whose bytes then do not
/// match their name).
const EXTENSIONS: &[&str] = &[
    "html", "htm", "xhtml", "xht", "shtml", "shtm", "ehtml", "mht", "mhtml", "svg", "svgz", "xml",
    "xsd", "xsl", "xslt", "rss", "atom", "rdf", "rng", "xbl", "xul", "mathml", "mml", "smil",
    "wsdl", "kml", "gpx", "plist", "dtd", "xlf", "xaml", "opf", "ncx", "js", "mjs", "json",
    "jsonld", "wasm", "css", "php", "asp", "aspx", "jsp", "cgi", "pl", "py", "sh", "bat", "cmd",
    "exe", "swf", "jar", "vbs", "wsf", "hta", "url", "desktop", "appcache", "vtt", "ics", "vcf",
    "eml", "jnlp", "epub", "pdf", "png", "jpg", "jpeg", "gif", "webp", "bmp", "ico", "tif", "txt",
    "csv", "md", "docx", "xlsx", "odt", "doc", "rtf", "zip", "gz", "tar", "7z",
];

/// Genuinely passive files, which the site copies (so the browser does open some links).
fn passive_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "real.pdf",
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
        ),
        (
            "real.txt",
            b"Minutes of the review: risk 3 < 4, accepted.\n".to_vec(),
        ),
        ("real.csv", b"date,owner\n2026-10-01,Helen\n".to_vec()),
        (
            "real.zip",
            b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
        ),
    ]
}

/// An SMS with one document linking every file of [`EXTENSIONS`] and [`passive_files`].
fn hostile_attachments() -> Sms {
    let sms = Sms::new();
    let mut body = String::from("Attachments:\n\n");
    for ext in EXTENSIONS {
        sms.bytes(&format!("policies/att/a.{ext}"), payload(ext).as_bytes());
        body.push_str(&format!("- [{ext}](att/a.{ext})\n"));
    }
    for (name, bytes) in passive_files() {
        sms.bytes(&format!("policies/att/{name}"), &bytes);
        body.push_str(&format!("- [{name}](att/{name})\n"));
    }
    sms.file("policies/attach.md", &doc("POL-ATT", &[], "", &body));
    sms
}

fn build_site(sms: &Sms) -> (PathBuf, Run) {
    let out = sms.path().join("_site");
    let r = sms.run("build", &["--out", out.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (out.canonicalize().unwrap(), r)
}

#[test]
fn only_passive_files_whose_bytes_match_are_copied_and_the_rest_is_listed() {
    let sms = hostile_attachments();
    // a .pdf that is HTML, and a PNG and a PDF that are what they say
    sms.bytes("policies/att/fake.pdf", payload("pdf").as_bytes());
    sms.bytes("policies/att/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    sms.file(
        "policies/more.md",
        &doc(
            "POL-MORE",
            &[],
            "",
            "[fake](att/fake.pdf) ![logo](att/logo.png) ![fake image](att/fake.pdf) [real](att/real.pdf)",
        ),
    );
    let (site, r) = build_site(&sms);
    assert!(
        r.stderr
            .contains("POL-MORE links to `policies/att/fake.pdf`, which the site does not copy"),
        "{}",
        r.stderr
    );
    let copied: Vec<String> = std::fs::read_dir(site.join("files/policies/att"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        copied,
        ["logo.png", "real.csv", "real.pdf", "real.txt", "real.zip"]
    );
    let page = std::fs::read_to_string(site.join("documents/POL-MORE.html")).unwrap();
    // The link goes to the file's entry in the list, which says what it is and where it is.
    let anchor = page
        .split("href=\"#file_")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the listing");
    let entry_start = page
        .find(&format!("<li id=\"file_{anchor}\">"))
        .expect("the listed entry");
    let entry = &page[entry_start..];
    let entry = &entry[..entry.find("</li>").unwrap()];
    let sha = {
        use std::fmt::Write as _;
        let digest = sha256(payload("pdf").as_bytes());
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    for want in [
        "<code>policies/att/fake.pdf</code>",
        &format!("{} bytes", payload("pdf").len()),
        &sha,
        "its content does not match its extension",
        "<code>sources/policies/att/fake.pdf</code>",
    ] {
        assert!(entry.contains(want), "{want} not in {entry}");
    }
    // The image that is not an image becomes a link to its entry; the real one is shown.
    assert!(
        page.contains(&format!(
            "href=\"#file_{anchor}\" rel=\"noopener noreferrer\">fake image</a>"
        )),
        "{page}"
    );
    assert_eq!(
        page.matches("<img ").count(),
        page.matches("<img src=").count(),
        "an <img> without src: {page}"
    );
    assert!(
        page.contains("src=\"../files/policies/att/logo.png\""),
        "{page}"
    );
    assert!(
        !page.contains("src=\"../files/policies/att/fake.pdf\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"../files/policies/att/real.pdf\""),
        "{page}"
    );
}

/// SHA-256 by the `sha2` crate the binary uses (a dependency of the package, so usable here).
fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

// ---------------------------------------------------------------- Chromium over DevTools

/// Headless Chromium, or `None` (locally) when it is not installed. Under CI it must be there.
fn chromium() -> Option<PathBuf> {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but chromium is not installed (apt-get install -y chromium); the browser test must run in CI");
    }
    None
}

extern "C" {
    fn dup2(old: i32, new: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}
const F_DUPFD: i32 = 0;

/// A Chromium driven over `--remote-debugging-pipe`: commands go to its fd 3, replies and events
/// come from its fd 4, each a JSON message ended by a NUL byte.
struct Browser {
    child: std::process::Child,
    commands: std::io::PipeWriter,
    messages: Receiver<Value>,
    next_id: u64,
    /// The message of every JavaScript dialog any page opened.
    dialogs: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &Path) -> Browser {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let profile = tempfile::tempdir().unwrap();
        let (their_commands, commands) = std::io::pipe().unwrap();
        let (mut events, their_events) = std::io::pipe().unwrap();
        let (r, w) = (their_commands.as_raw_fd(), their_events.as_raw_fd());
        let mut cmd = std::process::Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec. The ends are
        // first moved above 10 so that placing one at 3 or 4 cannot overwrite the other.
        unsafe {
            cmd.pre_exec(move || {
                let (r2, w2) = (fcntl(r, F_DUPFD, 10), fcntl(w, F_DUPFD, 10));
                if r2 < 0 || w2 < 0 || dup2(r2, 3) < 0 || dup2(w2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start chromium");
        drop(their_commands);
        drop(their_events);
        let (tx, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            loop {
                let n = match events.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Browser {
            child,
            commands,
            messages,
            next_id: 0,
            dialogs: Vec::new(),
            _profile: profile,
        }
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let mut msg = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to chromium");
        self.next_id
    }

    /// Handle one message: a dialog is recorded and dismissed (so the page goes on). Returns
    /// the message for the caller to look at.
    fn handle(&mut self, msg: Value) -> Value {
        if msg["method"] == "Page.javascriptDialogOpening" {
            self.dialogs
                .push(msg["params"]["message"].as_str().unwrap_or("").to_string());
            let session = msg["sessionId"].as_str().map(str::to_string);
            self.send(
                session.as_deref(),
                "Page.handleJavaScriptDialog",
                json!({"accept": true}),
            );
        }
        msg
    }

    /// Send a command and wait for its reply (events meanwhile are handled).
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.send(session, method, params);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(msg) => {
                    let msg = self.handle(msg);
                    if msg["id"].as_u64() == Some(id) {
                        assert!(msg.get("error").is_none(), "{method}: {msg}");
                        return msg["result"].clone();
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer {method}"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium exited during {method}"),
            }
        }
    }

    /// Handle messages until one of `methods` arrives or `wait` passes; whether one arrived.
    fn wait_for(&mut self, methods: &[&str], wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(msg) => {
                    let msg = self.handle(msg);
                    if methods.iter().any(|m| msg["method"] == *m) {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// A new tab with the Page domain on; its session id.
    fn tab(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        self.call(Some(&session), "Page.enable", json!({}));
        self.call(Some(&session), "Runtime.enable", json!({}));
        session
    }

    fn goto(&mut self, session: &str, url: &str) {
        self.call(Some(session), "Page.navigate", json!({"url": url}));
        assert!(
            self.wait_for(&["Page.loadEventFired"], Duration::from_secs(30)),
            "{url} did not load"
        );
    }

    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn chromium_clicks_every_attachment_link_and_no_script_runs() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    assert!(EXTENSIONS.len() >= 70);
    let sms = hostile_attachments();
    let (site, _) = build_site(&sms);
    let mut browser = Browser::start(&chromium);
    browser.call(
        None,
        "Browser.setDownloadBehavior",
        json!({"behavior": "deny"}),
    );
    let tab = browser.tab();

    // The detector works: these files, opened directly from the SMS, do open a dialog (so the
    // old deny-list, which copied `.xsd`, `.rss`, `.atom`, `.rng`, `.xbl`, `.shtm`, `.ehtml`,
    // let them run).
    for ext in ["xsd", "rss", "atom", "rng", "xbl", "xhtml"] {
        let before = browser.dialogs.len();
        let src = sms.path().join(format!("policies/att/a.{ext}"));
        browser.goto(&tab, &file_url(&src.canonicalize().unwrap()));
        assert!(
            browser.dialogs.len() > before,
            "no dialog from a.{ext} opened directly: the test could not see one"
        );
    }
    browser.dialogs.clear();

    // Click every link of the document text, each from a fresh load of the page.
    let page = file_url(&site.join("documents/POL-ATT.html"));
    browser.goto(&tab, &page);
    let hrefs = browser.eval(
        &tab,
        "JSON.stringify(Array.from(document.querySelectorAll('.doc-body a')).map(a => a.getAttribute('href') || ''))",
    );
    let hrefs: Vec<String> = serde_json::from_str(hrefs.as_str().unwrap()).unwrap();
    assert_eq!(
        hrefs.len(),
        EXTENSIONS.len() + passive_files().len(),
        "{hrefs:?}"
    );
    let mut left_page = 0;
    for (i, href) in hrefs.iter().enumerate() {
        let here = browser.eval(&tab, "location.href");
        if here.as_str() != Some(page.as_str())
            && !here.as_str().unwrap_or("").starts_with(&format!("{page}#"))
        {
            browser.goto(&tab, &page);
        }
        browser.eval(
            &tab,
            &format!("document.querySelectorAll('.doc-body a')[{i}].click()"),
        );
        if href.is_empty() || href.starts_with('#') {
            // a same-page link to the file's entry in the list: no navigation
            browser.wait_for(&[], Duration::from_millis(100));
        } else {
            left_page += 1;
            browser.wait_for(
                &[
                    "Page.loadEventFired",
                    "Page.downloadWillBegin",
                    "Page.frameStoppedLoading",
                ],
                Duration::from_secs(10),
            );
            // a dialog would be opened by a script while the file loads; give it time
            browser.wait_for(&[], Duration::from_millis(300));
        }
        assert!(
            browser.dialogs.is_empty(),
            "clicking {href} opened a dialog: {:?}",
            browser.dialogs
        );
    }
    // Some links did open a copied file (the passive ones), and every hostile one is listed.
    assert_eq!(left_page, passive_files().len(), "{hrefs:?}");
    let listed = hrefs.iter().filter(|h| h.starts_with("#file_")).count();
    assert_eq!(listed, EXTENSIONS.len(), "{hrefs:?}");
}
