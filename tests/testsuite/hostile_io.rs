//! Hostile file-system and network inputs (issue 12, items 4, 5, 8, 9, 10): special files, size
//! limits, output paths, bundle names that collide when unzipped, `serve` requests. A watchdog
//! kills a run that hangs (the test then fails); nothing is timed.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `c` and kill it if it has not finished after `limit` (a hang guard, never a measurement):
/// the test fails instead of hanging.
fn run_guarded(mut c: Command, limit: Duration) -> Run {
    use std::io::Read;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run auditbook");
    // Drained while it runs, so a large output cannot fill the pipe and stall the child.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run hung: killed after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let r = Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    r
}

/// `auditbook SUBCOMMAND <sms> ARGS… --as-of` with the hang guard.
fn guarded(sms: &Sms, subcommand: &str, args: &[&str]) -> Run {
    let mut c = auditbook();
    c.arg(subcommand)
        .arg(sms.path())
        .args(args)
        .args(["--as-of", AS_OF]);
    run_guarded(c, Duration::from_secs(60))
}

/// Names of the entries of a zip.
fn zip_names(zip: &Path) -> Vec<String> {
    let f = std::fs::File::open(zip).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
        .collect()
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A FIFO linked as `f.pdf` (the work tree, outside git): `check`, `build` and `bundle` finish,
/// each reports `file-not-regular` at the FIFO, and neither the site nor the bundle holds it.
#[cfg(unix)]
#[test]
fn a_fifo_linked_as_an_attachment_is_never_opened() {
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["8.5.1.1"], "", "See [the contract](f.pdf)."),
    );
    mkfifo(&sms.path().join("policies/f.pdf"));
    let check = guarded(&sms, "check", &["--format", "json"]);
    let found = check.findings("file-not-regular");
    assert_eq!(found.len(), 1, "{}", check.stdout);
    assert_eq!(found[0]["path"], "policies/f.pdf");
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("a FIFO (named pipe)"));

    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let build = guarded(
        &sms,
        "build",
        &["--format", "json", "--out", site.to_str().unwrap()],
    );
    assert!(build.code == 0 || build.code == 1, "{}", build.stderr);
    assert_eq!(build.findings("file-not-regular").len(), 1);
    assert!(!site.join("files/policies/f.pdf").exists());
    assert!(site.join("index.html").is_file());

    let zip = out.path().join("b.zip");
    let bundle = guarded(&sms, "bundle", &["--out", zip.to_str().unwrap()]);
    assert!(bundle.code == 0 || bundle.code == 1, "{}", bundle.stderr);
    let names = zip_names(&zip);
    assert!(!names.iter().any(|n| n.ends_with("f.pdf")), "{names:?}");
    assert!(names.contains(&"sources/policies/a.md".to_string()));
    // the manifest says why it is left out
    let manifest = zip_entry(&zip, "manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert!(
        m["not_included"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["path"] == "policies/f.pdf"
                && n["reason"] == "not a regular file: never opened"),
        "{}",
        m["not_included"]
    );
}

/// The bytes of one entry of a zip.
fn zip_entry(zip: &Path, name: &str) -> Vec<u8> {
    use std::io::Read;
    let f = std::fs::File::open(zip).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut e = z.by_name(name).unwrap();
    let mut out = Vec::new();
    e.read_to_end(&mut out).unwrap();
    out
}

/// `git` in `dir` with a fixed identity and time, the user's configuration kept out.
fn git(dir: &Path, args: &[&str]) {
    git_at(dir, args, "2026-06-01T12:00:00+00:00");
}

/// Commit everything in the SMS folder (a new repository).
fn commit_all(sms: &Sms) {
    git(sms.path(), &["init", "-q", "-b", "main"]);
    git(sms.path(), &["add", "-A"]);
    git(sms.path(), &["commit", "-q", "-m", "SMS"]);
}

/// Files over `max_file_size` (a committed attachment and a committed document) get
/// `file-too-large` and are copied neither into the site nor into the bundle's `sources/`.
#[test]
fn files_over_max_file_size_are_not_copied_into_site_or_bundle() {
    let sms = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_file_size: 1 KiB\n"
    ));
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            "See [big](big.pdf) and [small](small.pdf).",
        ),
    );
    sms.bytes("policies/big.pdf", &vec![b'x'; 2048]);
    sms.bytes("policies/small.pdf", b"%PDF-1.4 small");
    sms.file(
        "policies/big.md",
        &doc("POL-BIG", &["8.5.1.2"], "", &"word ".repeat(300)),
    );
    commit_all(&sms);
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let build = guarded(
        &sms,
        "build",
        &["--format", "json", "--out", site.to_str().unwrap()],
    );
    assert!(build.code == 1, "{}", build.stderr);
    let paths: Vec<String> = build
        .findings("file-too-large")
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["policies/big.md", "policies/big.pdf"]);
    assert!(site.join("files/policies/small.pdf").is_file());
    assert!(!site.join("files/policies/big.pdf").exists());

    let zip = out.path().join("b.zip");
    let bundle = guarded(&sms, "bundle", &["--out", zip.to_str().unwrap()]);
    assert!(bundle.code == 0 || bundle.code == 1, "{}", bundle.stderr);
    let names = zip_names(&zip);
    assert!(names.contains(&"sources/policies/small.pdf".to_string()));
    assert!(names.contains(&"site/files/policies/small.pdf".to_string()));
    for big in ["policies/big.pdf", "policies/big.md"] {
        assert!(
            !names.iter().any(|n| n.ends_with(big)),
            "{big} in {names:?}"
        );
    }
    let m: serde_json::Value = serde_json::from_slice(&zip_entry(&zip, "manifest.json")).unwrap();
    let reasons: Vec<(String, String)> = m["not_included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["path"].as_str().unwrap().into(),
                n["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(reasons.contains(&(
        "policies/big.pdf".into(),
        "over limits.max_file_size".into()
    )));
    assert!(reasons.contains(&("policies/big.md".into(), "over limits.max_file_size".into())));
}

/// `max_output_size`: files past it (sizes summed in path order) give one `output-too-large` on
/// sms.yaml in `check`, and the bundle and site leave them out.
#[test]
fn max_output_size_caps_what_site_and_bundle_copy() {
    let sms = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_output_size: 4 KiB\n"
    ));
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            "[one](files/1.pdf) [two](files/2.pdf) [three](files/3.pdf)",
        ),
    );
    for n in 1..=3 {
        // Real PDFs (the attachment allow-list checks the signature), 1500 bytes each.
        let mut pdf = b"%PDF-1.4\n".to_vec();
        pdf.resize(1500, b'p');
        sms.bytes(&format!("policies/files/{n}.pdf"), &pdf);
    }
    let check = guarded(&sms, "check", &["--format", "json"]);
    let found = check.findings("output-too-large");
    assert_eq!(found.len(), 1, "{}", check.stdout);
    assert_eq!(found[0]["path"], "sms.yaml");
    let msg = found[0]["message"].as_str().unwrap();
    assert!(msg.contains("(4096 bytes)"), "{msg}");
    // a.md (~250 bytes) + 1.pdf + 2.pdf fit; 3.pdf and sms.yaml (last in path order) do not
    assert!(
        msg.contains("2 files from `policies/files/3.pdf` on"),
        "{msg}"
    );

    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    guarded(&sms, "build", &["--out", site.to_str().unwrap()]);
    assert!(site.join("files/policies/files/2.pdf").is_file());
    assert!(!site.join("files/policies/files/3.pdf").exists());
    let zip = out.path().join("b.zip");
    guarded(&sms, "bundle", &["--out", zip.to_str().unwrap()]);
    let names = zip_names(&zip);
    assert!(names.contains(&"sources/policies/files/2.pdf".to_string()));
    assert!(!names.iter().any(|n| n.ends_with("3.pdf")), "{names:?}");
}

/// `paths.output` into the git directory (it once wrote a site into `.git/refs/tags`, creating
/// tags) or among the SMS sources is refused with exit 2 before anything is written.
#[test]
fn output_paths_into_git_or_the_sources_are_refused() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    sms.file(
        "records/incident/i.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-01\ntitle: T\n",
    );
    commit_all(&sms);
    let tags = sms.path().join(".git/refs/tags");
    let cases = [
        (".git/refs/tags", "inside the git directory"),
        (".GIT/hooks/site", "inside the git directory"),
        (
            "policies/_site",
            "it lies in `policies`, which holds SMS files (`policies/a.md`)",
        ),
        (
            "records/site",
            "it lies in `records`, the SMS's `paths.records` folder",
        ),
    ];
    for (output, why) in cases {
        sms.file(
            "sms.yaml",
            &format!("{MINIMAL_CONFIG}paths:\n  output: {output}\n"),
        );
        let r = guarded(&sms, "build", &["--allow-dirty"]);
        assert_eq!(r.code, 2, "{output}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{output}: {}", r.stderr);
        if !output.to_ascii_lowercase().starts_with(".git") {
            assert!(!sms.path().join(output).exists(), "{output} was written");
        }
    }
    assert_eq!(
        std::fs::read_dir(&tags).unwrap().count(),
        0,
        "a tag was created"
    );
    // an explicit --out into .git is refused too, for the site and for the bundle
    let r = guarded(
        &sms,
        "build",
        &[
            "--allow-dirty",
            "--out",
            sms.path().join(".git/x").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = guarded(
        &sms,
        "bundle",
        &[
            "--allow-dirty",
            "--out",
            sms.path().join(".git/b.zip").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("inside the git directory"),
        "{}",
        r.stderr
    );
    // the default `_site` still builds
    sms.file("sms.yaml", MINIMAL_CONFIG);
    let r = guarded(&sms, "build", &["--allow-dirty"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(sms.path().join("_site/index.html").is_file());
}

/// File names that would overwrite each other (or cannot be created) when the bundle is unzipped
/// on Windows or macOS: `file-name-unportable` for each, left out of the bundle and the site; the
/// first of colliding names (path order) is kept.
#[cfg(target_os = "linux")]
#[test]
fn bundle_names_that_collide_when_unzipped_are_left_out() {
    let sms = Sms::new();
    let nfc = "policies/caf\u{e9}.pdf";
    let nfd = "policies/cafe\u{301}.pdf";
    let files = [
        "policies/Evidence.pdf",
        "policies/evidence.pdf",
        "policies/evidence.pdf.",
        "policies/CON",
        "policies/aux.txt",
        "policies/com1.tar.gz",
        nfc,
        nfd,
    ];
    for f in files {
        sms.bytes(f, b"%PDF-1.4");
    }
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            "[a](Evidence.pdf) [b](evidence.pdf) [c](CON)",
        ),
    );
    let check = guarded(&sms, "check", &["--format", "json"]);
    let mut flagged: Vec<String> = check
        .findings("file-name-unportable")
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    flagged.sort();
    let mut want = vec![
        "policies/CON".to_string(),
        "policies/aux.txt".into(),
        nfc.into(),
        "policies/com1.tar.gz".into(),
        "policies/evidence.pdf".into(),
        "policies/evidence.pdf.".into(),
    ];
    want.sort();
    assert_eq!(flagged, want, "{}", check.stdout);
    let collision = check
        .findings("file-name-unportable")
        .into_iter()
        .find(|f| f["path"] == "policies/evidence.pdf")
        .unwrap();
    assert!(collision["message"]
        .as_str()
        .unwrap()
        .contains("and `policies/Evidence.pdf` name one file"));

    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let bundle = guarded(&sms, "bundle", &["--out", zip.to_str().unwrap()]);
    assert!(bundle.code == 0 || bundle.code == 1, "{}", bundle.stderr);
    let names = zip_names(&zip);
    let sources: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("sources/policies/"))
        .collect();
    assert_eq!(
        sources,
        [
            "sources/policies/Evidence.pdf",
            "sources/policies/a.md",
            &format!("sources/{nfd}"),
        ],
        "{names:?}"
    );
    assert!(names.contains(&"site/files/policies/Evidence.pdf".to_string()));
    assert!(!names.iter().any(|n| n.ends_with("/CON")));
    // the bundle verifies: nothing in it collides
    let mut c = auditbook();
    c.arg("verify").arg(&zip);
    let v = run_guarded(c, Duration::from_secs(60));
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// `verify` reports names in a received zip that collide when unzipped (case, NFC/NFD, trailing
/// dots) or are Windows reserved names.
#[test]
fn verify_reports_names_that_collide_when_unzipped() {
    use std::io::Write;
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("bad.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for name in [
        "sources/Evidence.pdf",
        "sources/evidence.pdf",
        "sources/evidence.pdf.",
        "sources/caf\u{e9}.md",
        "sources/cafe\u{301}.md",
        "sources/NUL.txt",
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(b"x").unwrap();
    }
    w.finish().unwrap();
    let mut c = auditbook();
    c.arg("verify").arg(&bad);
    let v = run_guarded(c, Duration::from_secs(60));
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    for line in [
        "refused: sources/evidence.pdf: a name that collides with another when unzipped",
        "refused: sources/evidence.pdf.: a name that ends with a dot or a space",
        "refused: sources/caf\u{e9}.md: a name that collides",
        "refused: sources/NUL.txt: a Windows reserved name",
    ] {
        assert!(
            v.stdout.lines().any(|l| l.starts_with(line)),
            "no {line:?} in:\n{}",
            v.stdout
        );
    }
    assert!(
        v.stdout
            .contains("it and `sources/Evidence.pdf` would be one file"),
        "{}",
        v.stdout
    );
}

/// A running `serve` of an SMS; killed when dropped.
struct Served {
    child: std::process::Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(sms: &Sms) -> Served {
    use std::io::BufRead;
    let mut child = auditbook()
        .arg("serve")
        .arg(sms.path())
        .args(["--port", "0", "--as-of", AS_OF])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start auditbook serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve prints its address");
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Served { child, port }
}

/// Send raw bytes to the server and read the whole answer (status, head, body).
fn raw(port: u16, request: &[u8]) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_string(), body.to_string())
}

fn get(port: u16, path: &str, extra: &str) -> (u16, String, String) {
    raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n").as_bytes(),
    )
}

/// `serve` refuses bodies and other methods before reading a body (a `Content-Length` of
/// 99999999999 used to abort it), refuses requests from other sites (cross-site script inclusion
/// of the search index), marks responses `Cross-Origin-Resource-Policy: same-origin`, and keeps
/// answering while idle connections are open.
#[test]
fn serve_refuses_bodies_foreign_requests_and_outlives_idle_connections() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    let server = serve(&sms);
    let port = server.port;
    let (code, head, _) = get(port, "/searchindex.js", "");
    assert_eq!(code, 200, "{head}");
    assert!(
        head.contains("Cross-Origin-Resource-Policy: same-origin"),
        "{head}"
    );
    // (a) a huge announced body, by POST and by GET: refused, and the server lives on
    let (code, _, body) = raw(
        port,
        format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 99999999999\r\n\r\nxx"
        )
        .as_bytes(),
    );
    assert_eq!(code, 405, "{body}");
    let (code, _, body) = get(port, "/", "Content-Length: 99999999999\r\n");
    assert_eq!(code, 413, "{body}");
    let (code, _, body) = get(port, "/", "Transfer-Encoding: chunked\r\n");
    assert_eq!(code, 413, "{body}");
    // (b) requests another site makes
    for extra in [
        "Sec-Fetch-Site: cross-site\r\n",
        "Sec-Fetch-Site: same-site\r\n",
        "Origin: https://evil.example\r\n",
        "Referer: https://evil.example/page.html\r\n",
        &format!("Referer: http://127.0.0.1:{port}.evil.example/\r\n"),
    ] {
        for path in ["/searchindex.js", "/search/d0.js", "/search/t-626f.js"] {
            let (code, _, body) = get(port, path, extra);
            assert_eq!(code, 403, "{path} {extra}: {body}");
        }
    }
    // its own pages, and a URL typed by the user, still work
    for extra in [
        "Sec-Fetch-Site: same-origin\r\n".to_string(),
        "Sec-Fetch-Site: none\r\n".to_string(),
        format!(
            "Referer: http://localhost:{port}/index.html\r\nOrigin: http://localhost:{port}\r\n"
        ),
    ] {
        for path in ["/searchindex.js", "/search/d0.js", "/search/t-626f.js"] {
            let (code, _, body) = get(port, path, &extra);
            assert_eq!(code, 200, "{path} {extra}: {body}");
        }
    }
    // (c) idle connections (more than the cap) do not stop the server from answering
    let idle: Vec<std::net::TcpStream> = (0..40)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let (code, _, body) = get(port, "/index.html", "");
    assert!(code == 200 || code == 503, "{code}: {body}");
    drop(idle);
    let mut ok = false;
    for _ in 0..100 {
        if get(port, "/index.html", "").0 == 200 {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        ok,
        "the server answers again once idle connections are gone"
    );
    // an oversized request head is refused
    let (code, _, _) = get(port, "/", &format!("X-Pad: {}\r\n", "a".repeat(10_000)));
    assert_eq!(code, 431);
}

/// `<out>.tmp-<pid>` and `<out>.old-<pid>` folders of builds killed midway (dead pids) are removed
/// at the next build; those of a live process, and folders auditbook did not make, stay.
#[test]
fn stale_staging_folders_of_dead_builds_are_removed() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    // no process has an id above the kernel's maximum (4194304)
    let dead_tmp = sms.path().join("_site.tmp-99999999");
    let dead_old = sms.path().join("_site.old-99999998");
    let foreign = sms.path().join("_site.tmp-99999997");
    let live = sms.path().join(format!("_site.tmp-{}", std::process::id()));
    for d in [&dead_tmp, &dead_old, &live] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join(".auditbook-site"), "x").unwrap();
    }
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("mine.txt"), "not auditbook's").unwrap();
    let r = guarded(&sms, "build", &[]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        !dead_tmp.exists() && !dead_old.exists(),
        "stale folders stay"
    );
    assert!(live.exists(), "a live process's folder was removed");
    assert!(foreign.join("mine.txt").exists());
    assert!(sms.path().join("_site/index.html").is_file());
}

/// CSV cells holding a separator of any common locale (`;`, `,`, tab, `|`), a quote or a line
/// break are quoted.
#[test]
fn csv_cells_with_separators_of_any_locale_are_quoted() {
    let sms = Sms::new();
    let titles = ["Backup; restore", "Pipe | test", "Tab\there", "It's quoted"];
    for (i, t) in titles.iter().enumerate() {
        let body = doc(&format!("POL-{i}"), &["8.5.1.1"], "", "Body.").replace(
            &format!("title: Document POL-{i}"),
            &format!("title: \"{}\"", t.replace('\t', "\\t")),
        );
        sms.file(&format!("policies/p{i}.md"), &body);
    }
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let r = guarded(&sms, "build", &["--out", site.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let csv = std::fs::read_to_string(site.join("documents.csv")).unwrap();
    for t in titles {
        assert!(
            csv.contains(&format!("\"{t}\"")),
            "{t:?} not quoted in:\n{csv}"
        );
    }
}

/// `verify` reports bytes outside any entry: a prepended stub and appended data.
#[test]
fn verify_reports_bytes_outside_any_entry() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.zip");
    let r = guarded(&sms, "bundle", &["--out", good.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let bytes = std::fs::read(&good).unwrap();
    let verify = |p: &Path| {
        let mut c = auditbook();
        c.arg("verify").arg(p);
        run_guarded(c, Duration::from_secs(60))
    };
    let v = verify(&good);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);

    let appended = work.path().join("appended.zip");
    let mut b = bytes.clone();
    b.extend_from_slice(b"#!/bin/sh\necho hidden\n");
    std::fs::write(&appended, &b).unwrap();
    let v = verify(&appended);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains("22 bytes after the end of the central directory (appended data)"),
        "{}",
        v.stdout
    );

    let stub = work.path().join("stub.zip");
    let mut b = b"MZ-stub-0123456789".to_vec();
    b.extend_from_slice(&bytes);
    std::fs::write(&stub, &b).unwrap();
    let v = verify(&stub);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains("18 bytes before the first entry (a prepended stub)"),
        "{}",
        v.stdout
    );
}

/// `verify` on a FIFO fails at once (exit 2) instead of waiting for a writer.
#[cfg(unix)]
#[test]
fn verify_on_a_fifo_does_not_block() {
    let work = tempfile::tempdir().unwrap();
    let fifo = work.path().join("bundle.zip");
    mkfifo(&fifo);
    let mut c = auditbook();
    c.arg("verify").arg(&fifo);
    let v = run_guarded(c, Duration::from_secs(60));
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stderr.contains("is a FIFO (named pipe), not a zip file"),
        "{}",
        v.stderr
    );
}

/// When the selected framework is a file under frameworks/ that is invalid, the error says why
/// (the file's own errors), not only that the framework is unknown.
#[test]
fn an_invalid_selected_framework_says_why() {
    let sms = Sms::with_config("organisation: T\nscope: S.\nframework: tiny:1\n");
    sms.file(
        "frameworks/tiny.yaml",
        "id: tiny:1\ntitle: Tiny\nclauses:\n  - id: \"1\"\n    title: A\n    parent: \"9\"\n",
    );
    let r = guarded(&sms, "check", &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("are invalid"), "{}", r.stderr);
    assert!(r.stderr.contains("frameworks/tiny.yaml:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("parent `9`"), "{}", r.stderr);
}

/// `git` in `dir` with stdin, returning stdout (trimmed).
fn git_out(dir: &Path, args: &[&str], stdin: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Helen Carter")
        .env("GIT_AUTHOR_EMAIL", "hc@example.com")
        .env("GIT_COMMITTER_NAME", "Helen Carter")
        .env("GIT_COMMITTER_EMAIL", "hc@example.com")
        .env("GIT_AUTHOR_DATE", "2026-06-01T12:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2026-06-01T12:00:00+00:00")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A crafted commit whose tree lists `a.md` twice and holds an entry named `p/x.md` (no git client
/// writes either): `bundle` gives one `file-not-regular` for each and bundles neither.
#[test]
fn crafted_trees_with_duplicate_or_slashed_names_give_one_finding_each() {
    let sms = Sms::new();
    let dir = sms.path();
    git(dir, &["init", "-q", "-b", "main"]);
    let config = git_out(
        dir,
        &["hash-object", "-w", "--stdin"],
        MINIMAL_CONFIG.as_bytes(),
    );
    let text = doc("POL-A", &["8.5.1.1"], "", "Body.");
    let blob = git_out(dir, &["hash-object", "-w", "--stdin"], text.as_bytes());
    let entry = |name: &str, oid: &str| {
        let mut e = format!("100644 {name}\0").into_bytes();
        e.extend((0..20).map(|i| u8::from_str_radix(&oid[2 * i..2 * i + 2], 16).unwrap()));
        e
    };
    let mut tree = Vec::new();
    for (name, oid) in [
        ("a.md", &blob),
        ("a.md", &blob),
        ("p/x.md", &blob),
        ("sms.yaml", &config),
    ] {
        tree.extend(entry(name, oid));
    }
    let tree = git_out(
        dir,
        &["hash-object", "-t", "tree", "-w", "--literally", "--stdin"],
        &tree,
    );
    let commit = git_out(dir, &["commit-tree", &tree], b"crafted\n");
    git(dir, &["update-ref", "refs/heads/main", &commit]);
    // the work tree matches HEAD as far as git can write it
    std::fs::write(dir.join("sms.yaml"), MINIMAL_CONFIG).unwrap();

    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let r = guarded(&sms, "bundle", &["--out", zip.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
    let findings: serde_json::Value =
        serde_json::from_slice(&zip_entry(&zip, "findings.json")).unwrap();
    let special: Vec<(String, String)> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "file-not-regular")
        .map(|f| {
            (
                f["path"].as_str().unwrap().into(),
                f["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(special.len(), 2, "{special:?}");
    assert_eq!(special[0].0, "a.md");
    assert!(special[0].1.contains("lists twice"), "{}", special[0].1);
    assert_eq!(special[1].0, "p/x.md");
    assert!(special[1].1.contains("holds `/`"), "{}", special[1].1);
    let names = zip_names(&zip);
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("sources/a.md") || n.starts_with("sources/p/")),
        "{names:?}"
    );
}
