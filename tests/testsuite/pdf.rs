//! `auditbook pdf`: the printable evidence. Each test writes a real PDF and reads it back with
//! poppler's `pdftotext` and `pdfinfo` (they must be installed: a test without them fails, it
//! does not pass unseen). Repositories are made with the git command line at fixed commit times.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pdftotext -layout FILE -`: the text of every page, pages separated by form feeds.
fn text_of(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed to test the PDF");
    assert!(
        out.status.success(),
        "pdftotext failed on {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The pages of the PDF as text (pdftotext ends each page with a form feed).
fn pages_of(pdf: &Path) -> Vec<String> {
    let text = text_of(pdf);
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// `pdfinfo FILE` as (key, value) lines; it fails on a malformed file.
fn info_of(pdf: &Path) -> Vec<(String, String)> {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils) must be installed to test the PDF");
    assert!(
        out.status.success(),
        "pdfinfo failed on {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "pdfinfo complained about {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn info(pdf: &Path, key: &str) -> String {
    info_of(pdf)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("pdfinfo shows no {key}"))
}

/// `git ARGS` in `dir` at `date`; returns HEAD's id afterwards.
fn commit(sms: &Sms, message: &str, date: &str) -> String {
    git_at(sms.path(), &["add", "-A"], date);
    git_at(sms.path(), &["commit", "-q", "-m", message], date);
    let out = Command::new("git")
        .current_dir(sms.path())
        .args(["rev-parse", "HEAD"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn policy(version: &str, approved: &str, body: &str) -> String {
    format!(
        "---\nid: POL-CHG\ntitle: Change policy\ntype: policy\nowner: Owner\napprover: Approver\nversion: \"{version}\"\nstatus: approved\napproved: {approved}\nreview_interval: 12 months\nclauses: [\"8.5.1.1\"]\n---\n\n# Change policy\n\n{body}\n"
    )
}

/// An SMS with two commits: the change policy 1.0 in March, 2.0 and a service policy in June.
fn two_commits() -> (Sms, String, String) {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services for test customers.\nframework: iso20000-1:2018\n",
    );
    git_at(
        sms.path(),
        &["init", "-q", "-b", "main"],
        "2026-03-02T09:00:00+00:00",
    );
    sms.file(
        "policies/change.md",
        &policy(
            "1.0",
            "2026-03-02",
            "Changes are approved by the CAB (first text).",
        ),
    );
    let march = commit(&sms, "Change policy 1.0", "2026-03-02T10:00:00+00:00");
    sms.file(
        "policies/change.md",
        &policy(
            "2.0",
            "2026-06-01",
            "Changes are approved by the owner (second text).",
        ),
    );
    sms.file(
        "policies/service.md",
        &doc("POL-SVC", &["8.2.1"], "", "The service policy text."),
    );
    let june = commit(&sms, "Change policy 2.0", "2026-06-01T10:00:00+00:00");
    (sms, march, june)
}

fn out_pdf(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// `pdf` of HEAD: title page, sections and documents are there, every page is numbered and
/// pdfinfo reads the file without a complaint.
#[test]
fn the_pdf_of_head_holds_every_part_and_numbers_its_pages() {
    let (sms, _, june) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let pdf = out_pdf(&out, "e.pdf");
    let r = sms.run("pdf", &["--out", pdf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("wrote "), "{}", r.stderr);
    let pages = pages_of(&pdf);
    let n = pages.len();
    assert_eq!(info(&pdf, "Pages"), n.to_string());
    assert!(n >= 5, "{n} pages");
    for (i, p) in pages.iter().enumerate() {
        assert!(
            p.contains(&format!("page {} of {n}", i + 1)),
            "page {} has no number:\n{p}",
            i + 1
        );
    }
    let title = &pages[0];
    assert!(title.contains("Test Ltd"), "{title}");
    assert!(
        title.contains("Scope: Test services for test customers."),
        "{title}"
    );
    assert!(title.contains(&format!("Commit: {june}")), "{title}");
    assert!(title.contains(&format!("As of: {AS_OF}")), "{title}");
    assert!(!title.contains("PAST STATE"), "{title}");
    let all = pages.join("\n");
    for part in ["Dashboard", "Document register", "Clause coverage"] {
        assert!(all.contains(part), "no {part}:\n{all}");
    }
    assert!(all.contains("second text"), "{all}");
    assert!(all.contains("The service policy text."), "{all}");
    assert!(!all.contains("first text"), "{all}");
}

/// Two runs on the same commit and as-of date give the same bytes.
#[test]
fn the_same_commit_and_date_give_the_same_bytes() {
    let (sms, _, _) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out_pdf(&out, "a.pdf"), out_pdf(&out, "b.pdf"));
    assert_eq!(sms.run("pdf", &["--out", a.to_str().unwrap()]).code, 0);
    assert_eq!(sms.run("pdf", &["--out", b.to_str().unwrap()]).code, 0);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// `pdf --at DATE` shows the commit of that date exactly as `build --at` does: the old text,
/// not the later document, and the title page and page feet say "as it stood on".
#[test]
fn at_a_date_shows_the_past_commit_and_says_so() {
    let (sms, march, _) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let pdf = out_pdf(&out, "past.pdf");
    // No --as-of (Sms::run would pass one): it defaults to the date --at names.
    let mut c = auditbook();
    c.arg("pdf")
        .arg(sms.path())
        .args(["--at", "2026-04-15", "--out", pdf.to_str().unwrap()]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let short = &march[..12];
    assert!(
        r.stderr.contains(&format!(
            "PAST STATE: the PDF shows the SMS as it stood on 2026-04-15 (commit {short})"
        )),
        "{}",
        r.stderr
    );
    let pages = pages_of(&pdf);
    let title = &pages[0];
    assert!(title.contains(&format!("Commit: {march}")), "{title}");
    assert!(
        title.contains(&format!("as it stood on 2026-04-15 (commit {short})")),
        "{title}"
    );
    assert!(title.contains("As of: 2026-04-15"), "{title}");
    for p in &pages {
        assert!(p.contains("as it stood on 2026-04-15"), "{p}");
    }
    let all = pages.join("\n");
    assert!(all.contains("first text"), "{all}");
    assert!(!all.contains("second text"), "{all}");
    assert!(!all.contains("POL-SVC"), "{all}");
}

/// `pdf --at REV` takes any revision; a date before the first commit and an unknown revision
/// are exit-2 errors that name the fix, and no file is written.
#[test]
fn at_a_revision_works_and_bad_ones_are_clear_errors() {
    let (sms, march, _) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let pdf = out_pdf(&out, "rev.pdf");
    let r = sms.run("pdf", &["--at", "HEAD~1", "--out", pdf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let title = &pages_of(&pdf)[0];
    assert!(title.contains(&format!("Commit: {march}")), "{title}");
    assert!(title.contains("as it stood on 2026-03-02"), "{title}");

    let bad = out_pdf(&out, "bad.pdf");
    let r = sms.run(
        "pdf",
        &["--at", "2025-01-01", "--out", bad.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("before the first commit"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("help: pass a date on or after 2026-03-02"),
        "{}",
        r.stderr
    );
    let r = sms.run(
        "pdf",
        &["--at", "no-such-tag", "--out", bad.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("neither a date"), "{}", r.stderr);
    assert!(!bad.exists());
    let r = sms.run(
        "pdf",
        &[
            "--at",
            "HEAD",
            "--allow-dirty",
            "--out",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

/// The outline (bookmarks) of the PDF as (depth, page, title), read with `pdftohtml -xml`.
fn outline_of(pdf: &Path) -> Vec<(usize, usize, String)> {
    let out = Command::new("pdftohtml")
        .args(["-xml", "-i", "-q", "-stdout"])
        .arg(pdf)
        .output()
        .expect("pdftohtml (poppler-utils) must be installed to test the PDF");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    let mut depth = 0usize;
    let mut items = Vec::new();
    let mut rest = xml.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        if rest.starts_with("<outline") {
            depth += 1;
        } else if rest.starts_with("</outline>") {
            depth -= 1;
        } else if let Some(item) = rest.strip_prefix("<item page=\"") {
            let (page, tail) = item.split_once('"').unwrap();
            let start = tail.find('>').unwrap() + 1;
            let end = tail.find("</item>").unwrap();
            let title = tail[start..end].replace("&amp;", "&");
            items.push((depth, page.parse().unwrap(), title));
        }
        rest = &rest[1..];
    }
    items
}

/// After the title page come the contents: every part and every effective document with the
/// page it starts on, and that page shows its heading at the top. The outline lists the same,
/// documents nested under "Effective documents", with titles in full Unicode (the page text
/// shows `?` for a character outside Windows-1252).
#[test]
fn contents_and_outline_give_the_right_pages() {
    let (sms, _, _) = two_commits();
    sms.edit(
        "policies/service.md",
        "title: Document POL-SVC",
        "title: Service policy of Łódź",
    );
    commit(&sms, "Łódź", "2026-06-02T10:00:00+00:00");
    let out = tempfile::tempdir().unwrap();
    let pdf = out_pdf(&out, "toc.pdf");
    let r = sms.run("pdf", &["--out", pdf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pages = pages_of(&pdf);
    let toc = &pages[1];
    assert!(toc.trim_start().starts_with("Contents"), "{toc}");
    let expected = [
        (1, "Dashboard"),
        (1, "Document register"),
        (1, "Clause coverage"),
        (1, "Effective documents"),
        (2, "POL-CHG Change policy"),
        (2, "POL-SVC Service policy of ?\u{f3}d?"),
    ];
    let mut entries = Vec::new();
    for (_, title) in expected {
        let line = toc
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{title} .")))
            .unwrap_or_else(|| panic!("no contents line for {title}:\n{toc}"));
        let page: usize = line.split_whitespace().last().unwrap().parse().unwrap();
        let heading = title
            .strip_prefix("Effective documents")
            .map_or(title, |_| "POL-CHG");
        let top = pages[page - 1].trim_start();
        assert!(
            top.starts_with(heading),
            "page {page} does not start with {heading}:\n{top}"
        );
        entries.push(page);
    }
    assert!(entries.windows(2).all(|w| w[0] <= w[1]), "{entries:?}");
    let outline = outline_of(&pdf);
    let want: Vec<(usize, usize, String)> = expected
        .iter()
        .zip(&entries)
        .map(|((depth, title), page)| {
            (
                *depth,
                *page,
                title.replace("?\u{f3}d?", "Łódź").to_string(),
            )
        })
        .collect();
    assert_eq!(outline, want);
}

/// `bundle` of the SMS at HEAD, written to `zip`.
fn make_bundle(sms: &Sms, zip: &Path) {
    let r = sms.run("bundle", &["--out", zip.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(zip.is_file(), "{}", r.stderr);
}

/// `pdf --bundle ZIP --out OUT` (no SMS path, no --as-of: the bundle fixes both).
fn pdf_of_bundle(zip: &Path, out: &Path) -> Run {
    let mut c = auditbook();
    c.arg("pdf").arg("--bundle").arg(zip).arg("--out").arg(out);
    run(c)
}

/// The fingerprint `verify` prints for a bundle.
fn fingerprint(zip: &Path) -> String {
    let mut c = auditbook();
    c.arg("verify").arg(zip);
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("fingerprint"))
        .unwrap()
        .trim()
        .to_string()
}

/// The PDF of a bundle equals the PDF of the commit it was made from, page for page, apart from
/// the title page, which adds the bundle's fingerprint. A document whose committed revision is a
/// draft still covers its clauses through the approved text in the bundle's `effective/`, as it
/// does through the history. Two runs give the same bytes.
#[test]
fn the_pdf_of_a_bundle_equals_the_pdf_of_its_commit() {
    let (sms, _, _) = two_commits();
    sms.file(
        "policies/change.md",
        &policy("3.0", "2026-06-01", "A revision in progress (third text).")
            .replace("status: approved", "status: draft"),
    );
    let head = commit(
        &sms,
        "Change policy 3.0 drafted",
        "2026-07-01T10:00:00+00:00",
    );
    let out = tempfile::tempdir().unwrap();
    let zip = out_pdf(&out, "evidence.zip");
    make_bundle(&sms, &zip);
    let direct = out_pdf(&out, "direct.pdf");
    assert_eq!(sms.run("pdf", &["--out", direct.to_str().unwrap()]).code, 0);
    let from = out_pdf(&out, "from.pdf");
    let r = pdf_of_bundle(&zip, &from);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fp = fingerprint(&zip);
    assert!(
        r.stderr
            .contains(&format!("which verified (fingerprint {fp})")),
        "{}",
        r.stderr
    );
    let (a, b) = (pages_of(&direct), pages_of(&from));
    assert_eq!(a.len(), b.len());
    assert_eq!(a[1..], b[1..], "the pages after the title page differ");
    let title = &b[0];
    assert!(
        title.contains(&format!("Commit: {head} (2026-07-01)")),
        "{title}"
    );
    assert!(title.contains(&format!("As of: {AS_OF}")), "{title}");
    assert!(title.contains(&fp), "{title}");
    assert!(!a[0].contains(&fp), "{}", a[0]);
    // The draft is printed in its text in force (2.0), not its draft text, in both.
    for pages in [&a, &b] {
        let all = pages.join("\n");
        assert!(all.contains("second text"), "{all}");
        assert!(!all.contains("third text"), "{all}");
        assert!(
            all.contains("The approved version in force; a revision (version 3.0, draft) is in"),
            "{all}"
        );
        assert!(all.contains("POL-CHG Change policy ....."), "{all}");
    }
    // The draft covers its clause through its effective version, in both.
    for pages in [&a, &b] {
        let row = pages
            .iter()
            .flat_map(|p| p.lines())
            .find(|l| l.trim_start().starts_with("8.5.1.1 "))
            .unwrap();
        assert!(row.contains("POL-CHG"), "{row}");
        assert!(!row.contains("missing"), "{row}");
    }
    let again = out_pdf(&out, "again.pdf");
    assert_eq!(pdf_of_bundle(&zip, &again).code, 0);
    assert_eq!(
        std::fs::read(&from).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// A bundle of `--at`: the PDF says "as it stood on" as the bundle's manifest does.
#[test]
fn the_pdf_of_an_at_bundle_says_past_state() {
    let (sms, march, _) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let zip = out_pdf(&out, "past.zip");
    let r = sms.run(
        "bundle",
        &[
            "--at",
            "2026-04-15",
            "--as-of",
            "2026-04-15",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert!(zip.is_file(), "{}", r.stderr);
    let pdf = out_pdf(&out, "past.pdf");
    let r = pdf_of_bundle(&zip, &pdf);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("PAST STATE"), "{}", r.stderr);
    let pages = pages_of(&pdf);
    assert!(
        pages[0].contains(&format!("Commit: {march}")),
        "{}",
        pages[0]
    );
    assert!(pages[0].contains("As of: 2026-04-15"), "{}", pages[0]);
    for p in &pages {
        assert!(p.contains("as it stood on 2026-04-15"), "{p}");
    }
    assert!(pages.join("\n").contains("first text"));
}

/// A bundle with one altered source, or one not a zip at all, gives no PDF: exit 2 with what
/// `verify` found and what to do.
#[test]
fn a_tampered_bundle_gives_no_pdf() {
    let (sms, _, _) = two_commits();
    let out = tempfile::tempdir().unwrap();
    let good = out_pdf(&out, "good.zip");
    make_bundle(&sms, &good);
    let bad = out_pdf(&out, "bad.zip");
    crate::bundle::rewrite(
        &good,
        &bad,
        |name, b| {
            Some(if name == "sources/policies/change.md" {
                String::from_utf8(b)
                    .unwrap()
                    .replace("second text", "forged text")
                    .into_bytes()
            } else {
                b
            })
        },
        &[],
    );
    let pdf = out_pdf(&out, "bad.pdf");
    let r = pdf_of_bundle(&bad, &pdf);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("does not verify (1 problem), so no PDF is made from it"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("altered: sources/policies/change.md"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("help: ask the organisation for the bundle again"),
        "{}",
        r.stderr
    );
    assert!(!pdf.exists());

    let junk = out_pdf(&out, "junk.zip");
    std::fs::write(&junk, b"not a zip").unwrap();
    let r = pdf_of_bundle(&junk, &pdf);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not a readable zip archive"),
        "{}",
        r.stderr
    );
    assert!(!pdf.exists());

    // --bundle fixes the commit and the date: the options that choose them are refused.
    let mut c = auditbook();
    c.args(["pdf", "--bundle"])
        .arg(&good)
        .args(["--at", "HEAD", "--out"])
        .arg(&pdf);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

/// Every word of the PDF with its page (from 1) and box, from `pdftotext -bbox`.
fn words_of(pdf: &Path) -> Vec<(usize, f32, f32, f32, String)> {
    let out = Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed to test the PDF");
    assert!(out.status.success());
    let html = String::from_utf8(out.stdout).unwrap();
    let attr = |line: &str, name: &str| -> f32 {
        let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[start..].split('"').next().unwrap().parse().unwrap()
    };
    let mut page = 0;
    let mut words = Vec::new();
    for line in html.lines() {
        if line.contains("<page ") {
            page += 1;
        } else if line.trim_start().starts_with("<word ") {
            let text = line.split('>').nth(1).unwrap().split('<').next().unwrap();
            words.push((
                page,
                attr(line, "xMin"),
                attr(line, "xMax"),
                attr(line, "yMin"),
                text.to_string(),
            ));
        }
    }
    words
}

/// A hostile document: a long organisation name, a word and a URL longer than a line, a table
/// with fourteen columns, a code line of 400 characters, lists nested 25 deep, and a table long
/// enough to go over a page. No word is set outside the margins of the A4 page (56 pt each
/// side), every foot still ends with "page N of M", the wide table is shown row by row, and the
/// long table repeats its header on the page it goes on to, with no row cut in two.
#[test]
fn overlong_content_wraps_within_the_page() {
    let sms = Sms::with_config(
        "organisation: \"The Extremely Long Named Organisation for Testing Footers and Title Pages of Evidence Documents International Holdings plc\"\nscope: Test services.\nframework: iso20000-1:2018\n",
    );
    let cols = 14;
    let head: Vec<String> = (0..cols).map(|i| format!("Column heading {i}")).collect();
    let wide_row: Vec<String> = (0..cols)
        .map(|i| format!("cell-{i}-with-a-longish-value"))
        .collect();
    let nested: String = (0..25)
        .map(|i| {
            format!(
                "{}- level {i} item with words enough to wrap at the end of a deep line\n",
                "  ".repeat(i)
            )
        })
        .collect();
    let long_rows: String = (0..80)
        .map(|i| format!("| R{i:02} | a value that wraps over two lines in a column of this long table, with more words to be sure of it, row {i} | x |\n"))
        .collect();
    let body = format!(
        "A word: {}\n\nA URL: https://example.com/{}end\n\n| {} |\n|{}\n| {} |\n\n```\n{}\n```\n\n{nested}\n| Key | Text | Mark |\n|---|---|---|\n{long_rows}",
        "x".repeat(300),
        "a/".repeat(80),
        head.join(" | "),
        "---|".repeat(cols),
        wide_row.join(" | "),
        "y".repeat(400),
    );
    sms.file("policies/h.md", &doc("POL-H", &["8.5.1.1"], "", &body));
    let out = tempfile::tempdir().unwrap();
    let pdf = out_pdf(&out, "h.pdf");
    let r = sms.run("pdf", &["--out", pdf.to_str().unwrap(), "--allow-dirty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let outside: Vec<_> = words_of(&pdf)
        .into_iter()
        .filter(|(_, x0, x1, _, _)| *x0 < 55.5 || *x1 > 595.0 - 55.5)
        .collect();
    assert!(outside.is_empty(), "words outside the margins: {outside:?}");
    let pages = pages_of(&pdf);
    let n = pages.len();
    for (i, p) in pages.iter().enumerate() {
        assert!(p.contains(&format!("page {} of {n}", i + 1)), "{p}");
    }
    let all = pages.join("\n");
    assert!(
        all.contains("Column heading 0: cell-0-with-a-longish-value"),
        "{all}"
    );
    assert!(
        all.contains("Column heading 13: cell-13-with-a-longish-value"),
        "{all}"
    );
    // The long table goes over a page: the next page starts with its header again.
    let first = pages.iter().position(|p| p.contains("R00")).unwrap();
    let next = &pages[first + 1];
    let top = next.lines().find(|l| !l.trim().is_empty()).unwrap();
    assert!(top.trim_start().starts_with("Key"), "{next}");
    // No row is cut in two: each row's two lines are on one page.
    for i in 0..80 {
        let row = format!("R{i:02}");
        let p = pages.iter().find(|p| p.contains(&row)).unwrap();
        let end = format!("row {i}");
        assert!(
            p.lines()
                .any(|l| l.trim_end().ends_with(&end) && !l.contains(&row)),
            "row {i} is cut or not wrapped:\n{p}"
        );
    }
}
