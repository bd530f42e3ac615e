//! Tabular record files (CSV, TSV, JSON lines, JSON arrays): one record per row, column
//! mappings and presets, per-row rules with aggregation, `records inspect` and `sample`.

use crate::support::*;

fn sms() -> Sms {
    let s = Sms::new();
    s.file("policies/a.md", &doc("POL-A", &["8.6.1"], "", "Text."));
    s
}

/// `auditbook records inspect FILE` (FILE relative to the SMS).
fn inspect(s: &Sms, rel: &str) -> Run {
    let mut c = auditbook();
    c.args(["records", "inspect"]).arg(s.path().join(rel));
    run(c)
}

fn finding_lines(run: &Run, code: &str) -> Vec<(String, u64)> {
    run.findings(code)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn csv_rows_are_records_of_the_folder_kind() {
    // Each row is a record: unique ids across files, `refs` between rows and YAML records.
    let s = sms();
    s.file(
        "records/incident/2026-01.csv",
        "id,date,title,status,priority,service,refs\n\
         INC-1,2026-01-03,Mail down,closed,P2,Mail,PRB-1\n\
         INC-2,2026-01-04,\"Printer, 2nd floor\",closed,P4,Desk,\n",
    );
    s.file(
        "records/problem/p.yaml",
        "id: PRB-1\nkind: problem\ndate: 2026-01-05\ntitle: Mail\nstatus: open\n",
    );
    let r = s.check_json();
    let codes = r.codes();
    assert!(
        !codes.iter().any(|c| c.starts_with("table-")
            || c == "field-missing"
            || c == "broken-ref"
            || c == "record-kind-unknown"),
        "{codes:?}\n{}",
        r.stdout
    );
    // A second file reusing an id is a duplicate at the row's line.
    s.file(
        "records/incident/2026-02.jsonl",
        "{\"id\": \"INC-3\", \"date\": \"2026-02-01\", \"title\": \"T\", \"status\": \"closed\", \"priority\": \"P3\", \"service\": \"Mail\"}\n\n\
         {\"id\": \"INC-1\", \"date\": \"2026-02-02\", \"title\": \"T\", \"status\": \"closed\", \"priority\": \"P3\", \"service\": \"Mail\"}\n",
    );
    let r = s.check_json();
    assert_eq!(
        finding_lines(&r, "id-duplicate"),
        vec![("records/incident/2026-02.jsonl".to_string(), 3)],
        "{}",
        r.stdout
    );
}

#[test]
fn malformed_rows_are_reported_with_line_and_column_and_reading_goes_on() {
    let s = sms();
    s.file(
        "records/incident/x.csv",
        "id,date,title,status,priority,service\n\
         INC-1,2026-01-03,A,closed,P2\n\
         INC-2,2026-13-04,\"multi\nline\",closed,P4,Desk\n\
         INC-3,2026-01-05,C,closed,P4,Desk,extra\n\
         INC-4,2026-01-06,D,closed,P4,Desk\n",
    );
    let r = s.check_json();
    let bad = r.findings("table-malformed");
    assert_eq!(bad.len(), 2, "{}", r.stdout);
    assert_eq!(bad[0]["line"], 2);
    assert!(
        bad[0]["message"]
            .as_str()
            .unwrap()
            .contains("column `service`"),
        "{bad:?}"
    );
    assert_eq!(bad[1]["line"], 5);
    // The bad date names its row (line 3, a quoted cell spans lines 3-4) and the field.
    let dates = r.findings("field-invalid");
    assert_eq!(dates.len(), 1, "{}", r.stdout);
    assert_eq!(dates[0]["line"], 3);
    assert!(dates[0]["message"]
        .as_str()
        .unwrap()
        .contains("`2026-13-04`"));
    // INC-4, after the bad rows, is read.
    assert!(!r.stdout.contains("INC-4"), "INC-4 has no finding");
    let site = s.run("check", &["--format", "json"]);
    assert_eq!(site.code, 1);
}

#[test]
fn json_arrays_and_bad_json_lines() {
    let s = sms();
    s.file(
        "records/incident/a.json",
        "[\n  {\"id\": \"INC-1\", \"date\": \"2026-01-03T23:30:00Z\", \"title\": \"A\", \"status\": \"closed\", \"priority\": 2, \"service\": \"Mail\"},\n  {\"id\": \"INC-2\", \"title\": \"B\", \"status\": \"closed\", \"priority\": 2, \"service\": \"Mail\"}\n]\n",
    );
    s.file(
        "records/incident/b.jsonl",
        "{\"id\": \"INC-3\", \"date\": \"2026-01-03\", \"title\": \"A\", \"status\": \"closed\", \"priority\": 2, \"service\": \"Mail\"}\n[1, 2]\n{oops\n",
    );
    let r = s.check_json();
    assert_eq!(
        finding_lines(&r, "table-malformed"),
        vec![
            ("records/incident/b.jsonl".to_string(), 2),
            ("records/incident/b.jsonl".to_string(), 3)
        ],
        "{}",
        r.stdout
    );
    // The second element of the array (line 3) has no date.
    assert_eq!(
        finding_lines(&r, "field-missing"),
        vec![("records/incident/a.json".to_string(), 3)]
    );
}

#[test]
fn a_preset_maps_a_real_export_and_the_user_overrides_it() {
    // ServiceNow incident export: element names in the header, date-times in the desk's zone.
    let s = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}timezone: Europe/Berlin\ntables:\n  - kind: incident\n    preset: servicenow-incident\n    timezone: UTC\n    fields:\n      service: u_service\n    keep: [assignment_group]\n"
    ));
    s.file("policies/a.md", &doc("POL-A", &["8.6.1"], "", "Text."));
    s.file(
        "records/incident/sn-2026-01.csv",
        "\"number\",\"opened_at\",\"short_description\",\"state\",\"priority\",\"u_service\",\"assignment_group\",\"closed_at\",\"resolved_at\",\"caller_id\"\n\
         \"INC0010001\",\"2026-01-31 23:30:00\",\"VPN down\",\"Closed\",\"2 - High\",\"VPN\",\"Network\",\"2026-02-02 08:00:00\",\"\",\"Abel Tuter\"\n",
    );
    let r = inspect(&s, "records/incident/sn-2026-01.csv");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // 23:30 UTC is 00:30 the next day in Berlin: the SMS's calendar date.
    assert!(r.stdout.contains("date: 2026-02-01"), "{}", r.stdout);
    assert!(r.stdout.contains("servicenow-incident"), "{}", r.stdout);
    assert!(r.stdout.contains("service <- u_service"), "{}", r.stdout);
    assert!(
        r.stdout.contains("assignment_group: Network"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("caller_id: Abel"),
        "not kept: {}",
        r.stdout
    );
    let c = s.check_json();
    assert!(c.findings("field-missing").is_empty(), "{}", c.stdout);
    // A column the mapping needs and the header lacks is one finding for the file.
    s.edit("sms.yaml", "service: u_service", "service: u_servise");
    let c = s.check_json();
    let missing = c.findings("table-column-missing");
    assert_eq!(missing.len(), 1, "{}", c.stdout);
    assert!(missing[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `u_service`"));
}

#[test]
fn jira_dates_and_glpi_semicolons() {
    let s = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}tables:\n  - files: \"incident/jira-*.csv\"\n    preset: jira-service-management\n    values: {{service: Desk}}\n  - files: \"service-request/*.csv\"\n    preset: glpi-ticket\n    id_prefix: GLPI-\n    values: {{service: Desk}}\n"
    ));
    s.file(
        "policies/a.md",
        &doc("POL-A", &["8.6.1", "8.6.2"], "", "Text."),
    );
    s.file(
        "records/incident/jira-2026-03.csv",
        "Summary,Issue key,Issue id,Issue Type,Status,Priority,Created,Resolved,Due date\n\
         Laptop broken,ITSM-12,10012,Incident,Done,High,05/Mar/26 9:12 AM,06/Mar/26 4:40 PM,\n",
    );
    s.file(
        "records/service-request/glpi.csv",
        "ID;Title;Status;Opening date;Priority;Category;Time to resolve;Closing date\n\
         42;New account;Closed;2026-03-02 10:00;Medium;Accounts;2026-03-04 10:00;2026-03-03 09:00\n",
    );
    let r = inspect(&s, "records/incident/jira-2026-03.csv");
    assert!(r.stdout.contains("date: 2026-03-05"), "{}", r.stdout);
    assert!(r.stdout.contains("resolved: 2026-03-06"), "{}", r.stdout);
    let r = inspect(&s, "records/service-request/glpi.csv");
    assert!(r.stdout.contains("id: GLPI-42"), "{}", r.stdout);
    let c = s.check_json();
    let codes = c.codes();
    assert!(
        !codes
            .iter()
            .any(|c| c.starts_with("table-") || c.starts_with("field-")),
        "{}",
        c.stdout
    );
}

#[test]
fn a_rule_on_many_rows_of_one_file_gives_one_finding_with_every_row_in_json() {
    // Eight rows without `service` (required by the incident kind), one without a `priority`.
    let s = sms();
    let mut csv = String::from("id,date,title,status,priority\n");
    for i in 1..=8 {
        csv.push_str(&format!("INC-{i},2026-01-0{i},T,closed,P3\n"));
    }
    s.file("records/incident/many.csv", &csv);
    s.file(
        "records/incident/few.csv",
        "id,date,title,status,priority,service\nINC-20,2026-01-03,T,closed,,Mail\nINC-21,2027-01-03,T,closed,P2,Mail\n",
    );
    let r = s.check_json();
    let missing = r.findings("field-missing");
    let many: Vec<_> = missing
        .iter()
        .filter(|f| f["path"] == "records/incident/many.csv")
        .collect();
    assert_eq!(many.len(), 1, "{}", r.stdout);
    let rows: Vec<u64> = many[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(rows, (2..=9).collect::<Vec<u64>>());
    let msg = many[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("8 rows of `records/incident/many.csv`"),
        "{msg}"
    );
    assert!(msg.contains("lines 2, 3, 4, 5, 6, …"), "{msg}");
    assert_eq!(many[0]["subject"], "records/incident/many.csv");
    // Few findings in a file stay one per row, at the row's line: the per-row kind rules.
    assert_eq!(
        finding_lines(&r, "field-missing")
            .into_iter()
            .filter(|(p, _)| p.ends_with("few.csv"))
            .collect::<Vec<_>>(),
        vec![("records/incident/few.csv".to_string(), 2)]
    );
    assert_eq!(
        finding_lines(&r, "record-in-future"),
        vec![("records/incident/few.csv".to_string(), 3)]
    );
    // The human report says it once too.
    let human = s.run("check", &[]);
    assert_eq!(
        human.stdout.matches("8 rows of").count(),
        1,
        "{}",
        human.stdout
    );
}

#[test]
fn open_nonconformities_past_due_are_found_in_rows() {
    let s = sms();
    s.file(
        "records/nonconformity/nc.csv",
        "id,date,title,status,due,corrective_action,source,clauses\n\
         NC-1,2026-01-03,Late,open,2026-02-01,Fix it,audit,8.6.1\n\
         NC-2,2026-01-03,Done,closed,2026-02-01,Fixed,audit,8.6.1\n",
    );
    let r = s.check_json();
    assert_eq!(
        finding_lines(&r, "nonconformity-overdue"),
        vec![("records/nonconformity/nc.csv".to_string(), 2)],
        "{}",
        r.stdout
    );
}

fn sample_run(s: &Sms, args: &[&str]) -> Run {
    let mut c = auditbook();
    c.arg("sample").arg(s.path()).args(args);
    run(c)
}

#[test]
fn sample_is_the_lowest_sha256_of_seed_and_id_and_reproducible() {
    let s = sms();
    let mut csv = String::from("id,date,title,status,priority,service\n");
    for i in 1..=40 {
        let service = if i % 2 == 0 { "Mail" } else { "VPN" };
        csv.push_str(&format!(
            "INC-{i},2026-{:02}-10,T{i},closed,P3,{service}\n",
            1 + i % 12
        ));
    }
    s.file("records/incident/all.csv", &csv);
    s.file(
        "records/incident/y.yaml",
        "id: INC-Y\nkind: incident\ndate: 2026-03-01\ntitle: Y\nstatus: closed\npriority: P2\nservice: Mail\n",
    );
    let args = [
        "--kind",
        "incident",
        "--size",
        "5",
        "--seed",
        "auditor 2026",
        "--from",
        "2026-03-01",
        "--to",
        "2026-08-31",
        "--where",
        "service=Mail",
    ];
    let a = sample_run(&s, &args);
    assert_eq!(a.code, 0, "{}", a.stderr);
    // The expected sample, computed here from the documented algorithm.
    use sha2::{Digest, Sha256};
    let mut pop: Vec<(String, String)> = (1..=40)
        .filter(|i| i % 2 == 0 && (2..=7).contains(&(i % 12)))
        .map(|i| format!("INC-{i}"))
        .chain(["INC-Y".to_string()])
        .map(|id| {
            let mut h = Sha256::new();
            h.update(b"auditor 2026\0");
            h.update(id.as_bytes());
            let k: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            (k, id)
        })
        .collect();
    pop.sort();
    let ids: Vec<&str> = a
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    let want: Vec<&str> = pop.iter().take(5).map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, want, "{}", a.stdout);
    assert!(
        a.stderr.contains(&format!("sampled 5 of {}", pop.len())),
        "{}",
        a.stderr
    );
    // Same input, same sample; another seed, another sample.
    assert_eq!(sample_run(&s, &args).stdout, a.stdout);
    let mut other = args;
    other[5] = "another seed";
    assert_ne!(sample_run(&s, &other).stdout, a.stdout);
    // --out writes the file.
    let out = s.path().join("sample.csv");
    let w = sample_run(&s, &[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(w.code, 0);
    assert_eq!(std::fs::read_to_string(out).unwrap(), a.stdout);
    // A bad --where is a usage error.
    assert_eq!(
        sample_run(
            &s,
            &["--kind", "incident", "--seed", "x", "--where", "nope"]
        )
        .code,
        2
    );
}

/// An SMS with 2,000 incident rows in one CSV export and a problem record naming row 7.
fn two_thousand_rows() -> Sms {
    let s = sms();
    let mut csv = String::from("id,date,title,status,priority,service\r\n");
    for i in 1..=2000 {
        csv.push_str(&format!(
            "INC-{i},2026-01-{:02},Row {i},closed,P3,Mail\r\n",
            1 + i % 28
        ));
    }
    s.file("records/incident/2026-01.csv", &csv);
    s.file(
        "records/problem/p.yaml",
        "id: PRB-1\nkind: problem\ndate: 2026-01-05\ntitle: Mail\nstatus: open\nrefs: [INC-7]\n",
    );
    s
}

fn site_files(dir: &std::path::Path, under: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join(under))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn a_big_export_gets_table_pages_not_a_page_per_row() {
    // 2,000 rows: 4 table pages of 500 and one page for the row a problem names.
    let s = two_thousand_rows();
    let out = s.path().join("_site");
    let r = s.run(
        "build",
        &["--out", out.to_str().unwrap(), "--as-of", "2026-02-01"],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(
        site_files(&out, "kinds"),
        [
            "incident.html",
            "incident.rows.js",
            "incident~2.html",
            "incident~3.html",
            "incident~4.html",
            "problem.html"
        ]
    );
    assert_eq!(site_files(&out, "records"), ["INC-7.html", "PRB-1.html"]);
    let page2 = std::fs::read_to_string(out.join("kinds/incident~2.html")).unwrap();
    assert_eq!(page2.matches("<tr id=r-").count(), 500);
    assert!(
        page2.contains("Rows 501–1000 of 2000, page 2 of 4"),
        "{page2}"
    );
    assert!(page2.contains("href=\"../kinds/incident~3.html\" rel=\"next\""));
    // A long table links the first, last and nearby pages, with a gap mark between.
    let mut csv = String::from("id,date,title,status,priority,service\n");
    for i in 1..=6000 {
        csv.push_str(&format!("BIG-{i},2026-01-10,Big {i},closed,P3,Mail\n"));
    }
    let big = sms();
    big.file("records/incident/big.csv", &csv);
    let big_out = big.path().join("_site");
    let r = big.run(
        "build",
        &["--out", big_out.to_str().unwrap(), "--as-of", "2026-02-01"],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    let first = std::fs::read_to_string(big_out.join("kinds/incident.html")).unwrap();
    assert!(
        first.contains("<a href=\"../kinds/incident~4.html\">4</a> … <a href=\"../kinds/incident~11.html\">11</a>"),
        "{first}"
    );
    // The linked row's link goes to its page; the problem page links to it.
    assert!(page2.contains("data-rows=\"../kinds/incident.rows.js\""));
    let prb = std::fs::read_to_string(out.join("records/PRB-1.html")).unwrap();
    assert!(prb.contains("href=\"../records/INC-7.html\""), "{prb}");
    // Every row is in the filter's data, by column; the page that shows a row follows from its
    // position (500 a page), and the row a problem names has a page of its own.
    let js = std::fs::read_to_string(out.join("kinds/incident.rows.js")).unwrap();
    let data: serde_json::Value = serde_json::from_str(
        js.strip_prefix("window.AUDITBOOK_ROWS = ")
            .and_then(|j| j.trim_end().strip_suffix(';'))
            .expect("a script that sets the rows"),
    )
    .unwrap();
    assert_eq!(data["v"], 2);
    assert_eq!(data["n"], 2000);
    assert_eq!(data["per"], 500);
    let ids = data["cols"][0]["s"].as_str().expect("ids joined");
    let sep = data["cols"][0]["p"].as_str().unwrap();
    let ids: Vec<&str> = ids.split(sep).collect();
    assert_eq!(ids.len(), 2000);
    let seven = ids.iter().position(|i| *i == "INC-7").unwrap();
    assert_eq!(data["own"], serde_json::json!([seven]));
    // Few distinct statuses: one digit a row, indexing the dictionary.
    assert_eq!(data["cols"][3]["d"], serde_json::json!(["closed"]));
    assert_eq!(data["cols"][3]["i"].as_str().unwrap().len(), 2000);
    assert!(js.len() < 2000 * 30, "{} bytes", js.len());
    let page = ids
        .iter()
        .position(|i| *i == "INC-1999")
        .expect("row 1999 in the data")
        / 500
        + 1;
    let file = if page == 1 {
        "kinds/incident.html".to_string()
    } else {
        format!("kinds/incident~{page}.html")
    };
    let table = std::fs::read_to_string(out.join(&file)).unwrap();
    assert!(
        table.contains("<tr id=r-INC-1999><td>INC-1999<td>"),
        "{file}: a row without a page of its own is not a link"
    );
    let all: String = (1..=4)
        .map(|n| match n {
            1 => "kinds/incident.html".to_string(),
            n => format!("kinds/incident~{n}.html"),
        })
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
        .collect();
    assert!(all.contains("<td><a href=\"../records/INC-7.html\">INC-7</a><td>"));
    // The search index holds the rows' titles, linked to their rows.
    let index = crate::search::Index::load(&out);
    assert!(
        index
            .search("row 1999")
            .iter()
            .any(|h| h.title == "INC-1999 Row 1999" && h.kind == "record"),
        "row titles are searchable"
    );
}

#[test]
fn a_sample_in_the_build_gets_its_page_csv_and_record_pages_and_the_manifest_records_it() {
    let s = two_thousand_rows();
    git_at(
        s.path(),
        &["init", "-q", "-b", "main"],
        "2026-01-31T10:00:00+00:00",
    );
    git_at(s.path(), &["add", "-A"], "2026-01-31T10:00:00+00:00");
    git_at(
        s.path(),
        &["commit", "-q", "-m", "January export"],
        "2026-01-31T10:00:00+00:00",
    );
    let sample_args = [
        "--kind",
        "incident",
        "--size",
        "4",
        "--seed",
        "chosen by the auditor",
        "--where",
        "service=Mail",
    ];
    let drawn = sample_run(&s, &sample_args);
    assert_eq!(drawn.code, 0, "{}", drawn.stderr);
    let ids: Vec<String> = drawn
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 4);
    let build_args = [
        "--as-of",
        "2026-02-01",
        "--sample-kind",
        "incident",
        "--sample-size",
        "4",
        "--sample-seed",
        "chosen by the auditor",
        "--sample-where",
        "service=Mail",
    ];
    // The site: the sample page, its CSV (as `auditbook sample` writes it), a page per pick.
    let out = s.path().join("_site");
    let mut args = vec!["--out", out.to_str().unwrap()];
    args.extend(build_args);
    let r = s.run("build", &args);
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("sample.csv")).unwrap(),
        drawn.stdout
    );
    let page = std::fs::read_to_string(out.join("sample.html")).unwrap();
    assert!(page.contains("4 of 2000 records"), "{page}");
    assert!(page.contains(
        "auditbook sample --kind incident --size 4 --seed &#39;chosen by the auditor&#39; --where service=Mail"
    ));
    let mut pages = site_files(&out, "records");
    let mut expected: Vec<String> = ids.iter().map(|i| format!("{i}.html")).collect();
    expected.extend(["INC-7.html".to_string(), "PRB-1.html".to_string()]);
    expected.sort();
    expected.dedup();
    pages.sort();
    assert_eq!(pages, expected);
    for id in &ids {
        assert!(
            page.contains(&format!("href=\"records/{id}.html\"")),
            "{id}"
        );
    }
    // The bundle: the manifest records request, population and ids; the export is carried
    // byte for byte as committed (CRLF line ends kept).
    let zips = tempfile::tempdir().unwrap();
    let zip = zips.path().join("bundle-sample.zip");
    let mut args = vec!["--out", zip.to_str().unwrap()];
    args.extend(build_args);
    let r = s.run("bundle", &args);
    assert!(r.code <= 1, "{}", r.stderr);
    let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let read = |a: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut a.by_name(name).unwrap(), &mut buf).unwrap();
        buf
    };
    let m: serde_json::Value = serde_json::from_slice(&read(&mut a, "manifest.json")).unwrap();
    let sm = &m["sample"];
    assert_eq!(sm["seed"], "chosen by the auditor");
    assert_eq!(sm["kind"], "incident");
    assert_eq!(sm["size"], 4);
    assert_eq!(sm["population"], 2000);
    assert_eq!(sm["where"], serde_json::json!(["service=Mail"]));
    assert_eq!(sm["ids"], serde_json::json!(ids));
    assert!(sm["algorithm"].as_str().unwrap().contains("SHA-256"));
    assert_eq!(
        read(&mut a, "sources/records/incident/2026-01.csv"),
        std::fs::read(s.path().join("records/incident/2026-01.csv")).unwrap()
    );
    assert!(read(&mut a, "site/sample.html").len() > 100);
    // The manifest with its sample still verifies.
    let mut v = auditbook();
    v.arg("verify").arg(&zip);
    let v = run(v);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// Write `records/incident/<name>` (a header and rows) and commit everything at `date`.
fn commit_export(s: &Sms, name: &str, rows: &[&str], date: &str, message: &str) {
    let mut csv = String::from("id,date,title,status,priority,service\n");
    for r in rows {
        csv.push_str(r);
        csv.push('\n');
    }
    s.file(&format!("records/incident/{name}"), &csv);
    git_at(s.path(), &["add", "-A"], date);
    git_at(s.path(), &["commit", "-q", "-m", message], date);
}

fn history_subjects(s: &Sms, code: &str) -> Vec<String> {
    let r = s.run("check", &["--format", "json", "--as-of", "2026-06-30"]);
    let mut out: Vec<String> = r
        .findings(code)
        .iter()
        .map(|f| f["subject"].as_str().unwrap_or("").to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn history_of_rows_back_dated_rewritten_and_deleted_compared_by_id() {
    // Monthly exports: each replaces the previous month's file. Rows are compared by id, so a
    // reordered, re-quoted export is no change; a dropped row, a changed date, a changed id and
    // a row first committed long after its date are findings about that row.
    let s = sms();
    git_at(
        s.path(),
        &["init", "-q", "-b", "main"],
        "2026-01-31T10:00:00+00:00",
    );
    commit_export(
        &s,
        "export.csv",
        &[
            "INC-1,2026-01-03,One,closed,P3,Mail",
            "INC-2,2026-01-04,Two,closed,P3,Mail",
            "INC-3,2026-01-05,Three,closed,P3,Mail",
            "INC-4,2026-01-06,Four,closed,P3,Mail",
        ],
        "2026-01-31T10:00:00+00:00",
        "January export",
    );
    // February: the file is replaced — rows reordered and quoted, INC-1 dropped, INC-3's date
    // changed, February's rows added, one of them dated eight months back.
    commit_export(
        &s,
        "export.csv",
        &[
            "INC-5,2026-02-02,Five,closed,P3,Mail",
            "\"INC-4\",\"2026-01-06\",\"Four\",\"closed\",\"P3\",\"Mail\"",
            "INC-3,2026-01-15,Three,closed,P3,Mail",
            "INC-2,2026-01-04,Two,closed,P3,Mail",
            "INC-0,2025-06-01,Zero,closed,P3,Mail",
        ],
        "2026-02-28T10:00:00+00:00",
        "February export",
    );
    assert_eq!(history_subjects(&s, "record-deleted"), ["INC-1"]);
    assert_eq!(history_subjects(&s, "record-rewritten"), ["INC-3"]);
    assert_eq!(history_subjects(&s, "record-backdated"), ["INC-0"]);
    let r = s.run("check", &["--format", "json", "--as-of", "2026-06-30"]);
    let rewritten = &r.findings("record-rewritten")[0];
    assert_eq!(rewritten["path"], "records/incident/export.csv");
    assert_eq!(rewritten["line"], 4, "the row's line in the current export");
    assert!(rewritten["message"]
        .as_str()
        .unwrap()
        .contains("date was changed from 2026-01-05 to 2026-01-15"));

    // March: a new file name holding every row (the old one removed) moves the rows, and one
    // row's id changed in place.
    s.remove("records/incident/export.csv");
    commit_export(
        &s,
        "2026-03.csv",
        &[
            "INC-5,2026-02-02,Five,closed,P3,Mail",
            "INC-4,2026-01-06,Four,closed,P3,Mail",
            "INC-3,2026-01-15,Three,closed,P3,Mail",
            "INC-2,2026-01-04,Two,closed,P3,Mail",
            "INC-0,2025-06-01,Zero,closed,P3,Mail",
        ],
        "2026-03-31T10:00:00+00:00",
        "March export under its own name",
    );
    assert_eq!(history_subjects(&s, "record-deleted"), ["INC-1"]);
    commit_export(
        &s,
        "2026-03.csv",
        &[
            "INC-5,2026-02-02,Five,closed,P3,Mail",
            "INC-44,2026-01-06,Four,closed,P3,Mail",
            "INC-3,2026-01-15,Three,closed,P3,Mail",
            "INC-2,2026-01-04,Two,closed,P3,Mail",
            "INC-0,2025-06-01,Zero,closed,P3,Mail",
        ],
        "2026-04-01T10:00:00+00:00",
        "An id changed",
    );
    assert_eq!(
        history_subjects(&s, "record-rewritten"),
        ["INC-3", "INC-44"]
    );
    assert_eq!(history_subjects(&s, "record-deleted"), ["INC-1"]);
    // An id changed while the export also gained rows: the row with the same content but for
    // its id is the same record (not a deletion and a back-dated addition).
    commit_export(
        &s,
        "2026-03.csv",
        &[
            "INC-55,2026-02-02,Five,closed,P3,Mail",
            "INC-44,2026-01-06,Four,closed,P3,Mail",
            "INC-3,2026-01-15,Three,closed,P3,Mail",
            "INC-2,2026-01-04,Two,closed,P3,Mail",
            "INC-0,2025-06-01,Zero,closed,P3,Mail",
            "INC-6,2026-04-01,Six,closed,P3,Mail",
            "INC-7,2026-04-02,Seven,closed,P3,Mail",
        ],
        "2026-04-03T10:00:00+00:00",
        "An id changed, two rows added",
    );
    assert_eq!(
        history_subjects(&s, "record-rewritten"),
        ["INC-3", "INC-44", "INC-55"]
    );
    assert_eq!(history_subjects(&s, "record-deleted"), ["INC-1"]);
    assert_eq!(history_subjects(&s, "record-backdated"), ["INC-0"]);
}

#[test]
fn an_export_dropping_many_rows_gives_one_finding_for_the_file() {
    // Twelve rows gone within their retention: one record-deleted finding for the file (with
    // every row in JSON), not twelve.
    let s = sms();
    git_at(
        s.path(),
        &["init", "-q", "-b", "main"],
        "2026-01-31T10:00:00+00:00",
    );
    let rows: Vec<String> = (1..=20)
        .map(|i| format!("INC-{i},2026-01-{:02},Row {i},closed,P3,Mail", i))
        .collect();
    let all: Vec<&str> = rows.iter().map(String::as_str).collect();
    commit_export(
        &s,
        "export.csv",
        &all,
        "2026-01-31T10:00:00+00:00",
        "January",
    );
    commit_export(
        &s,
        "export.csv",
        &all[12..],
        "2026-02-28T10:00:00+00:00",
        "February",
    );
    let r = s.run("check", &["--format", "json", "--as-of", "2026-06-30"]);
    let deleted = r.findings("record-deleted");
    assert_eq!(deleted.len(), 1, "{deleted:#?}");
    assert!(
        deleted[0]["message"].as_str().unwrap().contains("12"),
        "{deleted:#?}"
    );
}

// --- record kinds held in another system (`external:`) -------------------------------------------

const HELD_IN_SERVICENOW: &str = "external:\n  - kind: incident\n    system: ServiceNow\n    location: https://desk.example/incident_list.do\n    owner: Service desk lead\n    evidenced_by: service-report\n";

/// The status of a clause in a JSON check report.
fn status_of(r: &Run, clause: &str) -> String {
    r.json()["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == clause)
        .unwrap_or_else(|| panic!("no clause {clause}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn subjects(r: &Run, code: &str) -> Vec<String> {
    r.findings(code)
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_kind_held_elsewhere_is_evidenced_by_the_kind_that_stands_for_it() {
    let s = Sms::sample();
    std::fs::remove_dir_all(s.path().join("records/incident")).unwrap();
    let r = s.check_json();
    assert!(subjects(&r, "records-missing").contains(&"8.6.1#incident".to_string()));
    assert_ne!(status_of(&r, "8.6.1"), "covered");

    // Declared as held in the service desk, with the monthly service report standing for it.
    let config = s.read("sms.yaml");
    s.file("sms.yaml", &format!("{config}{HELD_IN_SERVICENOW}"));
    let r = s.check_json();
    assert!(
        !subjects(&r, "records-missing").contains(&"8.6.1#incident".to_string()),
        "{:#?}",
        r.findings("records-missing")
    );
    assert!(r.findings("config-invalid").is_empty(), "{}", r.stdout);
    assert_eq!(status_of(&r, "8.6.1"), "covered");

    // The clause page says where the records are and what is counted instead.
    let out = s.path().join("_site");
    let b = s.run("build", &["--out", out.to_str().unwrap()]);
    assert!(b.code <= 1, "{}", b.stderr);
    let page = std::fs::read_to_string(out.join("clauses/8.6.1.html")).unwrap();
    assert!(
        page.contains("Held in ServiceNow (https://desk.example/incident_list.do), owner Service desk lead; sample there."),
        "{page}"
    );
    assert!(
        page.contains("the <code>service-report</code> records")
            || page.contains("`service-report` records"),
        "{page}"
    );

    // Years later the stand-in is stale: the finding keeps the demanded kind as its subject
    // and names the stand-in.
    let r = s.run("check", &["--format", "json", "--as-of", "2031-11-26"]);
    let stale = r.findings("records-stale");
    let f = stale
        .iter()
        .find(|f| f["subject"] == "8.6.1#incident")
        .expect("8.6.1#incident stale");
    assert!(
        f["message"].as_str().unwrap().contains("`service-report`"),
        "{f}"
    );

    // Without any stand-in record the demanded kind is missing, reported at the entry's line.
    std::fs::remove_dir_all(s.path().join("records/service-report")).unwrap();
    let r = s.check_json();
    let missing = r.findings("records-missing");
    let f = missing
        .iter()
        .find(|f| f["subject"] == "8.6.1#incident")
        .expect("8.6.1#incident missing");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("held in ServiceNow"),
        "{f}"
    );
    let line = s
        .read("sms.yaml")
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| *l == "  - kind: incident")
        .unwrap()
        + 1;
    assert_eq!(f["path"], "sms.yaml");
    assert_eq!(f["line"], line as u64);
}

#[test]
fn a_kind_switched_from_external_to_exported_files_keeps_its_clauses() {
    // The sample holds its incidents in git (YAML and a CSV export). Declared external as
    // well, its own records count: the page shows them, with no stand-in.
    let s = Sms::sample();
    let before = s.check_json();
    let config = s.read("sms.yaml");
    s.file("sms.yaml", &format!("{config}{HELD_IN_SERVICENOW}"));
    let after = s.check_json();
    assert_eq!(status_of(&after, "8.6.1"), status_of(&before, "8.6.1"));
    assert_eq!(after.codes(), before.codes());
    let out = s.path().join("_site");
    let b = s.run("build", &["--out", out.to_str().unwrap()]);
    assert!(b.code <= 1, "{}", b.stderr);
    let page = std::fs::read_to_string(out.join("clauses/8.6.1.html")).unwrap();
    assert!(!page.contains("Held in ServiceNow"), "{page}");
}

#[test]
fn external_entries_are_checked() {
    let s = Sms::sample();
    let config = s.read("sms.yaml");
    s.file(
        "sms.yaml",
        &format!(
            "{config}external:\n  - kind: incidnet\n    system: ServiceNow\n    evidenced_by: service-report\n  - kind: change\n    system: Jira\n  - kind: problem\n    system: Jira\n    evidenced_by: problem\n"
        ),
    );
    let r = s.check_json();
    // an entry that cannot be read is a field finding; a kind no framework has, a config one
    let mut invalid = r.findings("config-invalid");
    invalid.extend(r.findings("field-invalid"));
    let messages: Vec<&str> = invalid
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("`incidnet`")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("needs `kind`, `system` and `evidenced_by`")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("cannot stand for itself")),
        "{messages:#?}"
    );
    assert!(invalid
        .iter()
        .all(|f| f["path"] == "sms.yaml" && f["line"].as_u64().unwrap() > 1));
}
