//! The registry of finding codes: each has a stable kebab-case name, a default severity, a one-line
//! summary, an explanation (what and why) and a help line (how to fix). `auditbook explain CODE`
//! prints an entry; `sms.yaml` `rules:` changes the severity of any of them.

use crate::diag::Severity;

pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
    pub help: &'static str,
}

macro_rules! codes {
    ($( $code:literal, $sev:ident, $summary:literal, $expl:literal, $help:literal; )*) => {
        pub static CODES: &[CodeInfo] = &[
            $( CodeInfo { code: $code, severity: Severity::$sev, summary: $summary, explanation: $expl, help: $help }, )*
        ];
    };
}

codes! {
    // --- sms.yaml and catalogues -------------------------------------------------------------
    "config-invalid", Error,
        "a value in sms.yaml is missing or has the wrong type",
        "sms.yaml holds the identity and settings of the SMS. A required key (organisation, scope, framework) is missing, or a value has the wrong type or an impossible value. The default is used instead, so other findings may be off.",
        "correct the value as the message says; `docs/format.md` lists every key and its type";
    "config-unknown-key", Error,
        "sms.yaml has a key auditbook does not know",
        "sms.yaml rejects unknown keys so that a misspelt setting (say `review_intervall`) cannot be silently ignored.",
        "rename the key to the one suggested, or remove it";
    "framework-invalid", Error,
        "a clause catalogue under frameworks/ cannot be used",
        "A framework file must follow the catalogue schema (id, title, clauses with id/title/parent, documents, record_kinds). An invalid file is skipped as a whole.",
        "fix the entry named in the message; `docs/catalog.md` gives the schema";
    "mapping-invalid", Error,
        "a mapping between the clauses of two frameworks cannot be used",
        "A mapping file pairs clauses of two frameworks (`from`, `to`) with a relation (equivalent, subset, superset, related). Every framework it names must be loaded and every clause id must exist in its framework; `shared` may only name record kinds or named documents both catalogues define. An invalid file is skipped as a whole. A mapping never confers coverage.",
        "fix the pair on the line named; `docs/catalog.md` (Mappings) gives the schema";
    // --- files ----------------------------------------------------------------------------------
    "file-unreadable", Error,
        "a source file could not be read as text",
        "Documents and records must be UTF-8 text. A file with invalid UTF-8 or NUL bytes (a binary file with a .md or .yaml name) cannot be read and is skipped.",
        "save the file as UTF-8 text, or rename it if it is not a document or record";
    "file-too-large", Error,
        "a source file is larger than the size limit",
        "Files over `limits.max_file_size` (default 10 MiB) are not read, to bound time and memory; this holds for every file (documents, records, attachments, past revisions in git), and such a file is neither copied into the site nor into the bundle's `sources/`. A document that large is almost certainly not a policy or procedure.",
        "split the file, move the payload out of the SMS, or raise `limits.max_file_size` in sms.yaml";
    "file-not-regular", Warning,
        "a file in the SMS is a FIFO, socket or device",
        "auditbook opens only regular files: a FIFO (named pipe) would make a build wait for ever, and a device such as `/dev/zero` never ends. Such a file is listed but never opened, and the site and the bundle leave it out. Git cannot commit one, so it only exists in a work tree. The same finding marks an entry of a crafted git tree that no git client writes (a name holding `/`, or a name the tree lists twice): it is never read from the commit.",
        "remove the special file from the SMS folder, or replace it with the regular file it stands for";
    "output-too-large", Error,
        "the SMS files add up to more than the output size limit",
        "`limits.max_output_size` (default 1 GiB) bounds what one output copies from the SMS: regular files count their sizes in path order, and those past the limit are not copied into the site's `files/` or the bundle's `sources/` (the bundle's manifest lists them as not included). Documents and records past it are still read and checked.",
        "move large payloads out of the SMS, or raise `limits.max_output_size` in sms.yaml";
    "file-name-unportable", Warning,
        "a file name cannot be unzipped as itself on Windows or macOS",
        "On Windows and macOS, names that differ only in case (`Evidence.pdf`, `evidence.pdf`), in Unicode normalisation (NFC and NFD spellings of one accented letter) or in trailing dots and spaces (`evidence.pdf.`) name one file, so unzipping the bundle there would let one overwrite the other; and Windows cannot create `CON`, `PRN`, `AUX`, `NUL`, `COM1`-`COM9` or `LPT1`-`LPT9`, with any extension. The first of colliding names (in path order) is kept; the others and every reserved name are left out of the site and the bundle.",
        "rename the file so that its name differs from every other by more than case or normalisation, and is not a Windows reserved name";
    "file-empty", Warning,
        "a document or record file is empty",
        "An empty file holds no document or record; it is probably a leftover.",
        "write the document or record, or delete the file";
    "table-malformed", Error,
        "a row or the header of a tabular record file cannot be read",
        "A CSV/TSV row with more or fewer fields than the header, a header column without a name or named twice, a JSON-lines line that is not one JSON object, or a `.json` records file that is not an array of objects. The row is not read (it is no record); the other rows are.",
        "fix the export (or the row) at the line named; re-export with the tool's default CSV settings";
    "table-column-missing", Error,
        "a column that the mapping reads is not in the file's header",
        "A `tables:` entry in sms.yaml (or the preset it names) maps a field to a column the file does not have: the export was made with other columns, or the mapping names the column wrongly. Without the `id` column no row of the file is read.",
        "map the field to a column the header has (`auditbook records inspect FILE` lists them), or re-export with the column";
    "symlink-ignored", Warning,
        "a symbolic link in the SMS is not followed",
        "auditbook never reads through a symbolic link, so that nothing outside the repository can end up in the evidence. A link that points outside the SMS root is reported as well.",
        "replace the link with the file itself (git tracks the copy), or remove it";
    "too-many-documents", Error,
        "the SMS holds more documents than the configured limit",
        "`limits.max_documents` bounds the work of one run; documents beyond it are not read.",
        "raise `limits.max_documents` in sms.yaml if the SMS really is this large";
    "no-documents", Error,
        "the SMS holds no documents at all",
        "No Markdown document with frontmatter was found below the SMS root, so no clause can be covered.",
        "add documents (for a start, `auditbook init` writes templates), or point auditbook at the right folder";
    // --- documents ----------------------------------------------------------------------------
    "frontmatter-missing", Error,
        "a Markdown file has no YAML frontmatter",
        "Every Markdown file in the SMS (other than a README.md) is a controlled document and needs frontmatter: a first line `---`, YAML fields, and a closing `---`.",
        "add frontmatter with at least id, title, type, owner, version and status; or name the file README.md if it only explains a folder";
    "frontmatter-unclosed", Error,
        "the frontmatter block is never closed",
        "The file starts with `---` but no later line is exactly `---` or `...`, so the whole file would be read as YAML.",
        "add a line `---` after the last frontmatter field";
    "frontmatter-invalid", Error,
        "the frontmatter or record is not valid YAML, or not a mapping",
        "The YAML could not be read (a syntax error, a duplicate key, nesting or aliases beyond the limits) or is a list or a scalar where a mapping of fields is needed.",
        "fix the YAML at the line shown; fields are written `key: value`, one per line";
    "field-missing", Error,
        "a required field is missing",
        "Documents need id, title, type, owner, version and status (and approver and approved once approved); records need id, kind, date, title and the fields their kind requires.",
        "add the field named in the message";
    "field-invalid", Error,
        "a field has a value of the wrong type or outside its allowed values",
        "Dates must be YYYY-MM-DD, intervals `<n> days|weeks|months|years`, status and type one of the listed values, versions follow `version_scheme`, lists must be lists.",
        "correct the value as the message says";
    "field-name-typo", Warning,
        "an unknown field is very close to a known one",
        "Unknown fields are kept and shown, but one within two edits of a known field is probably a typo that silently loses the value (for example `aproved`).",
        "rename the field to the one suggested";
    "id-invalid", Error,
        "an id does not match the allowed pattern",
        "Ids name output files and links, so they must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ and must not be a reserved Windows device name (CON, NUL, COM1…).",
        "choose an id of letters, digits, '.', '_' and '-', starting with a letter or digit";
    "id-duplicate", Error,
        "two documents or records share an id",
        "Ids are unique across all documents and records, regardless of case; links, coverage and history follow ids.",
        "give one of them a new id";
    "clause-unknown", Error,
        "a clause id is not in the framework",
        "The clause cited does not exist in the catalogue. It may be a typo, a clause of the 2011 edition, or a clause of another framework (write those as `<framework>:<id>`).",
        "use the clause id suggested, or see `auditbook clauses` for the tree";
    "framework-unknown", Error,
        "a qualified id names a framework that sms.yaml does not load",
        "Clause ids of frameworks other than the primary are written `<framework>:<id>` (`iso27001:2022:A.5.1`) in frontmatter `clauses`, `clause:` links, records' `clauses`, `provides` and `applicability`. The framework part of this id is not among the frameworks sms.yaml lists under `frameworks:`, so the id cannot be checked and confers nothing.",
        "correct the framework id as suggested, or add the framework to `frameworks:` in sms.yaml";
    "clause-unquoted", Error,
        "a clause id is written as a YAML number",
        "Unquoted, `8.10` is the number 8.1 and `10.1` becomes 10.1 only by luck: YAML reads plain dotted numbers as floats. Clause ids must be quoted strings.",
        "quote the clause id, e.g. clauses: [\"8.5.1\", \"10.1\"]";
    "clause-not-coverable", Warning,
        "a top-level clause is cited in frontmatter",
        "Top-level clauses (4 to 10) group requirements; citing one covers nothing. Cite the sub-clauses the document addresses.",
        "replace the top-level id with the sub-clauses the document addresses";
    "provides-unknown", Error,
        "`provides` names a document the catalogue does not demand",
        "`provides` says which mandatory named document of the catalogue this document is (sm-policy, sla, continuity-plan…). The name given is not one of them.",
        "use an id listed by `auditbook clauses --documents`";
    "approval-in-future", Error,
        "the approval date is after the as-of date",
        "A document cannot have been approved on a date that has not happened yet.",
        "correct the `approved` date";
    "review-overdue", Warning,
        "a document's periodic review is overdue",
        "The next review is due one review interval after the approval date (or after the latest `document-review` record with outcome no-change, or on `next_review`). The document still counts as coverage, but an auditor will raise the missed review.",
        "review the document: record a `document-review` record (outcome no-change) or approve a new version";
    "approver-lacks-authority", Warning,
        "the approver of a document lacks the role the catalogue demands",
        "Some documents (the service management policy, the information security policy) must be approved by top management. The approver is not mapped in `people` to a person with that role.",
        "have a person with the `top-management` role approve it, or record the approver's role in sms.yaml `people`";
    "unfilled-placeholder", Error,
        "a starter-kit placeholder `{{FILL: …}}` is left in",
        "`auditbook init` writes templates with `{{FILL: …}}` where the organisation's own text belongs. An approved (or retired) document, a record or the scope in sms.yaml that still holds one would otherwise pass as evidence although nobody wrote it. Drafts may hold placeholders.",
        "replace every `{{FILL: …}}` with your own text (the words after `FILL:` say what belongs there)";
    "owner-not-a-person", Warning,
        "the owner or approver of an approved document is not in `people`",
        "Once sms.yaml lists `people`, owners and approvers are matched to them (and, through their git e-mails, to commit authors). A name or role that is not a person id — often the role left from a template — names nobody in particular, and the approval cannot be traced to the person who gave it.",
        "use the id of a person from sms.yaml `people` as `owner` and `approver`, or add the person there";
    "broken-doc-link", Error,
        "a `doc:` link names a document that does not exist",
        "`[text](doc:ID)` links to the document with that id (and `doc:ID#anchor` to a heading in it).",
        "correct the document id, or remove the link";
    "broken-derives", Error,
        "`derives` names no other document",
        "Frontmatter `derives: [ID, …]` lists the documents this one is derived from (a procedure from its policy), so that a new approved version of one makes this document suspect (`derived-from-changed`). Each entry must be the id of another document of the SMS, listed once; a record id, an unknown id or the document's own id is reported here and the entry is ignored. Two documents may derive from each other.",
        "correct the id, or remove the entry from `derives`";
    "derived-from-changed", Warning,
        "a document derives from one that has a newer approved version",
        "A document that says `derives: [P]` was written to carry out P. P got an approved version after this document was last approved or last reviewed with no change, so it may no longer say what P now says. Dates are those of the landing commits when the history holds them, else the `approved` dates; a change on the day of the approval or review does not count. The link is cleared by a new approved version of this document or by a `document-review` record of it, outcome no-change, dated on or after P's change; a review with outcome revision-needed keeps it suspect until the new version is approved. `doc:` links in the body never make a document suspect.",
        "review the document against the new version: approve a new version of it, or record a `document-review` of it with outcome no-change dated on or after the change";
    "broken-clause-link", Error,
        "a `clause:` link names a clause that does not exist",
        "`[text](clause:8.5.1)` cites a clause of the framework; this id is not in it.",
        "correct the clause id";
    "broken-file-link", Error,
        "a relative link points to a file that does not exist",
        "Relative links between SMS files are checked so that the evidence site has no dead links.",
        "correct the path, relative to the file that holds the link";
    "broken-anchor", Error,
        "a link names a heading anchor that does not exist",
        "Anchors are generated from heading text: lower case, letters and digits kept, spaces become '-'.",
        "use one of the anchors the target has (see the message), or fix the heading";
    "link-outside-sms", Error,
        "a relative link leaves the SMS root",
        "Evidence must be self-contained: a link out of the SMS cannot be followed in the evidence site or the bundle.",
        "copy the target into the SMS, or link to it by an https URL";
    "remote-image", Warning,
        "an image is loaded from another site",
        "The evidence site never loads remote content (it must work offline and leak nothing). The image is shown as a link instead.",
        "commit the image into the SMS and link it relatively";
    "unsafe-link", Warning,
        "a link uses a scheme the evidence site never follows",
        "Links may use http, https, mailto, `clause:`, `doc:` or a relative path. Others (javascript:, data:, file:, vbscript:…) could run code or reach outside the evidence in an auditor's browser; the site drops them.",
        "link to an https page or to a file inside the SMS instead";
    "unsafe-html", Warning,
        "raw HTML in a document could run code",
        "Markdown may hold raw HTML, but script elements, event handlers (onerror=, onclick=…), frames, embedded objects and javascript: URLs would run code in an auditor's browser. The evidence site removes them, so the page shows less than the source.",
        "write the content in Markdown, or remove the active HTML";
    "nesting-too-deep", Error,
        "a document body nests deeper than the limit",
        "Block quotes, lists, emphasis and raw HTML elements nested thousands of levels deep cost the HTML tree builder of the site time that grows with the square of the depth: a 50 KB body of `>` took seconds, a few megabytes never finished, while `check` passed. Nesting is counted while the Markdown is parsed (Markdown tags and raw HTML elements together, as the elements of the rendered page); past `limits.max_nesting_depth` (default 64) the rest of the body is shown on the site as plain text, and its links and headings are not read.",
        "flatten the structure (no policy needs 64 levels of quotes or lists), or raise `limits.max_nesting_depth` in sms.yaml (at most 512)";
    "too-many-elements", Error,
        "a document body holds more Markdown elements than the limit",
        "Parsing, checking and sanitising a body costs time per element (a tag, a run of text, a link, a piece of raw HTML): ten megabytes of `[a](b) ` took `check` over a minute, and ten megabytes of `&amp;` or of table rows took `build` 15 s to over a minute. Past `limits.max_elements` (default 500,000; an ordinary policy has a few thousand) the body is not read any further, as past `nesting-too-deep`: the site shows the rest as plain text, and its links and headings are not checked.",
        "split the document, or raise `limits.max_elements` in sms.yaml";
    "too-many-headings", Warning,
        "a document has more headings than the limit",
        "Every heading gets an anchor, an entry in the page's table of contents and a section in the search index; a document of a million headings made a 155 MB page and a 127 MB search index. Headings past `limits.max_headings` (default 1000) are still shown as headings, but get no anchor, no table-of-contents entry and no search section of their own (links to them are `broken-anchor`).",
        "split the document, or raise `limits.max_headings` in sms.yaml";
    // --- records ------------------------------------------------------------------------------
    "record-kind-unknown", Error,
        "a record's kind is not defined by the catalogue",
        "Record kinds, their required fields and default clauses are defined by the catalogue (`auditbook clauses --kinds`).",
        "use one of the known kinds, or add the kind in a framework file";
    "broken-ref", Error,
        "a record's `refs` names an id that does not exist",
        "`refs` links a record to related records or documents (incident -> problem -> change); every id must exist.",
        "correct the id, or remove it from refs";
    "record-in-future", Warning,
        "a record is dated after the as-of date",
        "A record documents something that happened; its date cannot be later than the as-of date.",
        "correct the `date`";
    "review-input-missing", Warning,
        "a review record does not say it considered an input its kind requires",
        "A management review must look at a set list of inputs (the catalogue's `inputs` of the record kind; for ISO/IEC 20000-1:2018: previous-actions, context-changes, nonconformities, monitoring-results, audit-results, objectives, customer-satisfaction, interested-party-feedback, service-performance, risks-opportunities, resources, improvement). Each is answered under `inputs:` by its id, with a summary or `refs` to its evidence; an entry with neither does not count. A record without `inputs:`, or with the older list of notes that names no input, gets one finding for all of them. A review whose status is `planned` need not answer them yet.",
        "add the input under `inputs:` with a summary and `refs` to its evidence, e.g. `audit-results: {summary: \"IA-2026-01 found one minor nonconformity\", refs: [IA-2026-01]}`; if there was nothing to consider, say so in the summary";
    "review-input-unknown", Warning,
        "a review record names an input its kind does not have",
        "The ids under a review's `inputs:` must be the inputs its record kind lists in the catalogue; an unknown id (often a misspelling) answers nothing, so the input it was meant for is reported missing as well.",
        "rename the entry to the input id suggested, or move the text to the input it belongs to";
    "nonconformity-overdue", Warning,
        "an open nonconformity is past its due date",
        "The corrective action was due and the nonconformity is still open: an auditor will ask why.",
        "close the nonconformity with its verification, or agree and record a new due date";
    // --- coverage -----------------------------------------------------------------------------
    "clause-undocumented", Error,
        "no approved document addresses a clause",
        "A clause is documented when an effective approved document lists it in frontmatter `clauses` (or lists a parent marked to expand). Drafts, documents in review and retired documents do not count.",
        "approve a document that addresses the clause, or add the clause to an approved document's `clauses`";
    "named-document-missing", Error,
        "a document the standard demands by name is not provided",
        "The catalogue names documents that must exist (the SMS scope, the service management policy, the SLA…). One is satisfied only by an approved document whose frontmatter says `provides: [<name>]`.",
        "add `provides: [<name>]` to the approved document that is this document, or write it";
    "records-missing", Error,
        "a clause demands records of a kind and there are none",
        "The clause demands retained evidence of this record kind; no record of the kind exists.",
        "add records of the kind under records/<kind>/";
    "records-stale", Error,
        "the newest record of a demanded kind is older than its interval",
        "The kind must happen at planned intervals (management review, internal audit, continuity test…); the newest record is older than the interval allows.",
        "hold and record the activity, or set the interval you actually plan in sms.yaml `intervals`";
    "clause-not-audited", Warning,
        "no completed internal audit covered a clause within the audit programme cycle",
        "Clause 9.2 asks for internal audits at planned intervals under a programme that, over its cycle, looks at the whole SMS. An internal-audit record lists the clauses it looked at in `covered:` (a clause covers the clauses below it); one counts once it is completed (its status is not open and its `completed` date, else its date, is on or before the as-of date) within `audit_programme.cycle` (default 3 years) before the as-of date. Audits still open and the `audits:` entries of an `audit-programme` record are plans: the message names the first one that plans the clause, but only a completed audit clears the finding. The rule runs once the SMS holds an internal-audit record and some audit or programme entry has a `covered:` list; the site's audit-programme page shows the clause × audit heat map.",
        "add the clause to the `covered` list of the completed internal audit that looked at it, or plan and hold an audit that covers it";
    // --- Statement of Applicability (ISO/IEC 27001:2022) ----------------------------------------
    "soa-missing", Error,
        "iso27001:2022 is a framework, but no document is the Statement of Applicability",
        "ISO/IEC 27001:2022 (6.1.3 d) demands a Statement of Applicability: for every Annex A control, whether it applies, why (or why not) and whether it is implemented. auditbook reads it from the document whose frontmatter says `provides: [iso27001:2022:statement-of-applicability]` (plain `statement-of-applicability` when 27001 is the primary framework) and holds a `controls:` table. Without it no control can be excluded, so every Annex A control needs evidence.",
        "add an approved document with that `provides` and a `controls:` table (`auditbook init` writes a template; docs/format.md describes the table)";
    "soa-not-approved", Error,
        "the Statement of Applicability is not approved",
        "The SoA is documented information that must be controlled like any policy: approved, versioned, its changes checked against git history (its `controls:` table is controlled content). While it is a draft, in review or retired (and no approved version is in effect), its exclusions do not count.",
        "have the SoA approved: `status: approved`, a new `version`, `approver` and `approved` date";
    "soa-invalid", Error,
        "an entry of the Statement of Applicability cannot be read",
        "Each entry of the SoA's `controls:` table is a mapping with `control` (an Annex A control id such as `A.5.1`), `applicable` (yes or no), `justification`, `status` (planned, partial or implemented) and `implemented_by` (ids of documents or records). An unknown control id, a second entry for one control, an unknown field, a value of the wrong kind, or a second document that also provides the SoA is reported here; only the first entry for a control, and only the first SoA, is read.",
        "correct the entry as the message says";
    "soa-control-missing", Error,
        "an Annex A control has no entry in the Statement of Applicability",
        "27001 asks the SoA to state, for every one of the 93 Annex A controls, whether it applies. A control without an entry has not been decided, so the SoA is incomplete.",
        "add an entry for the control: `applicable: yes` with what implements it, or `applicable: no` with a justification";
    "soa-justification-missing", Error,
        "the Statement of Applicability excludes a control without saying why",
        "An exclusion of an Annex A control must be justified (6.1.3 d). Without a justification the exclusion does not count: the control still needs evidence like an applicable one.",
        "add `justification:` saying why the control is not needed (no such asset, activity or risk)";
    "soa-exclusion-not-allowed", Error,
        "the Statement of Applicability excludes a clause that cannot be excluded",
        "27001 permits excluding Annex A controls, never the requirements of clauses 4 to 10. An entry with `applicable: no` for such a clause is ignored: the clause still needs its evidence.",
        "remove the entry (the SoA lists Annex A controls), or set `applicable: yes`";
    "soa-implementation-missing", Error,
        "an applicable control names nothing that implements it",
        "The SoA says how each applicable control is implemented. An entry with `applicable: yes` and no `implemented_by` leaves an auditor nothing to sample. For a planned control, name the risk treatment plan that schedules it.",
        "list the ids of the documents or records that implement the control under `implemented_by:`";
    "soa-implementation-unknown", Error,
        "the Statement of Applicability names an implementing document or record that does not exist",
        "Every id under `implemented_by` must be the id of a document or a record of the SMS, so that the evidence site can link the control to its implementation and back.",
        "correct the id, or add the document or record it names";
    "soa-applicability-conflict", Error,
        "sms.yaml says another party operates a control the Statement of Applicability excludes",
        "sms.yaml `applicability` declares who operates a clause; it never removes one. The SoA is the one place where an Annex A control is excluded. A control operated by another party applies, so excluding it contradicts the applicability entry. The SoA decides (the control counts as excluded) and this finding asks for one of the two to be corrected.",
        "mark the control `applicable: yes` in the SoA (implemented by the agreement with the other party), or remove the applicability entry";
    // --- history (git) ------------------------------------------------------------------------
    "changed-after-approval", Error,
        "an approved document changed after its approval without a new version",
        "The controlled content (the body, and the frontmatter title, type, version, status, approved, approver, clauses, review, provides) changed in a commit after the one that landed the effective approved version, and the version stayed the same: the approved text is no longer what is in the repository. Other fields (owner, unknown keys) may change freely.",
        "give the change a new `version` and set `status: draft` or `in-review` until it is approved again, or revert the change";
    "version-regressed", Error,
        "a document's version went backwards, or repeats with different content",
        "Versions identify approved texts. The effective approved version is lower than a version approved earlier, or equals an earlier approved version whose text was different, so one version number names two texts. Ordering follows `version_scheme` (`free` turns the ordering check off).",
        "give the document a version higher than every version approved before";
    "approval-postdates-landing", Warning,
        "the approval date is later than the commit that landed the approved version",
        "The approved version was committed on a date more than one day before its `approved` date: the text was in the repository as approved before it was approved.",
        "correct the `approved` date to the date of approval, or commit approvals when they are given";
    "approval-predates-text", Warning,
        "the approval date is earlier than the first commit holding the approved text",
        "The `approved` date is more than one day earlier than the first commit that holds the approved text, so git cannot show that this text is what was approved. Imported history (sms.yaml `history.baseline`) is exempt.",
        "commit texts before they are approved; for history imported from another system, set `history.baseline` in sms.yaml";
    "approval-trailer-by-author", Note,
        "an approval trailer was written by an author of the changes it approves",
        "An `Approved-by:` or `Reviewed-by:` trailer is a claim made by whoever wrote the commit message, which git records as the committer. The commit that landed the effective version carries such a trailer, but its committer is an author (or co-author) of the changes it lands, so the trailer corroborates nothing: the site shows the approval as \"claimed (trailer by the author)\". A trailer corroborates when the landing merge or squash is committed by someone who is not an author of the changes (the hosting platform, the approver), or when the landed branch holds a separate, empty approving commit by the approver naming themselves.",
        "let the approver (or the hosting platform) make the merge, or have the approver add an empty commit with `Approved-by:` naming themselves to the branch";
    "approval-not-corroborated", Error,
        "the approval evidence of a version is weaker than sms.yaml requires for its type",
        "sms.yaml `approval.require` sets, per document type, the lowest evidence accepted for the effective approved version: `claimed` (the frontmatter alone), `trailer` (an `Approved-by:`/`Reviewed-by:` trailer written by someone other than the authors of the change) or `signed` (the landing commit, or a signed annotated tag on it, is signed by the approver's key from `people[].keys` or the allowed-signers file). The landing of the effective version gives less. Imported history (`history.baseline`) is exempt.",
        "have the approver land the version with a signed commit (`git commit -S`, `git merge -S`) or sign a tag on it (`git tag -s`), or land it with an independent `Approved-by:` trailer, as the level requires";
    "signature-bad", Error,
        "a commit or tag signature does not verify",
        "A commit of the SMS history (or an annotated tag on one) carries an SSH or OpenPGP signature that does not verify for the object with the key it names, or was made for another purpose (an sshsig namespace other than `git`). The commit or tag was altered after signing, or the signature was copied from elsewhere: it must not be taken as evidence. This is checked for every commit that changed SMS files, whoever signed it.",
        "find out who altered the commit or tag; re-sign it (`git commit --amend -S`, `git tag -f -s`) only if its content is known to be right";
    "signature-unknown-key", Warning,
        "an approval commit or tag is signed by a key that is not trusted",
        "The commit that landed an approved revision (or a signed tag on it) has a valid SSH signature by a key listed neither under `people[].keys` in sms.yaml nor in the `signatures.allowed_signers` file, or an OpenPGP signature whose issuer is none of the keys in `signatures.openpgp_keys`; auditbook cannot say whose it is, and the approval does not count as signed.",
        "add the signer's public key line to their `people[].keys` (or to the allowed-signers file), or their armoured OpenPGP key to the `signatures.openpgp_keys` file, if it is theirs; otherwise find out who signed";
    "signature-key-expired", Warning,
        "an approval commit or tag is signed by a key outside its validity",
        "The signature is valid and the key is trusted, but not at the signing time: the allowed-signers file limits the SSH key with `valid-after`/`valid-before` and the commit or tag was signed (by its committer or tagger date) outside that window, or the OpenPGP key had expired or is revoked when the signature was made. As `git verify-commit` does, such a signature is not accepted. Allowed-signers times without `Z` are read in sms.yaml `timezone` (default UTC).",
        "re-sign with a current key, or correct the key's validity in the allowed-signers file if it is wrong";
    "signature-unverifiable", Note,
        "an approval commit or tag carries a signature auditbook cannot verify",
        "The commit that landed an approved revision (or a tag on it) is signed in a form auditbook does not verify in-process: an X.509 (S/MIME) signature, or an SSH signature by an RSA or ECDSA key (auditbook verifies Ed25519 SSH signatures, and OpenPGP signatures against `signatures.openpgp_keys`). It is neither good nor bad; the approval does not count as signed.",
        "sign approvals with an Ed25519 SSH key (`git config gpg.format ssh`, `user.signingkey ~/.ssh/id_ed25519.pub`) listed in sms.yaml, or with an OpenPGP key exported into `signatures.openpgp_keys`";
    "self-approval", Warning,
        "a document is approved by someone who authored changes to it",
        "The approver (a person in sms.yaml `people`, matched by git e-mail) is among the authors (commit authors, Co-authored-by trailers, authors of the commits a merge lands — found by graph, not by date — and a merge's own author when the merge adds content of its own) of the changes since the previous approved version. Checked only where `people` maps e-mails.",
        "have someone who did not write the changes approve the version, and let them merge it with an `Approved-by:` trailer (a trailer written by an author is only a claim)";
    "record-backdated", Warning,
        "a record was added to git long after its own date",
        "A record documents something when it happened. This one was first committed later than its kind's back-dating tolerance allows (catalogue `backdating_tolerance`, default 30 days; sms.yaml `history.backdating_tolerance` overrides). A commit adding many such records gives one finding with the count. Imported history (`history.baseline`) is exempt.",
        "commit records when they are made; for records imported from another system, set `history.baseline` in sms.yaml";
    "record-rewritten", Warning,
        "a record's id, date or kind was changed after it was first committed",
        "Records are evidence: changing what a record is (its kind), when it happened (its date) or how it is referred to (its id) after the fact weakens it. Other fields (a status, a closure note) may change.",
        "restore the original value and record the correction in a field of its own, or explain it in the commit message";
    "record-deleted", Warning,
        "a record was deleted from the history before its retention period ended",
        "The record is in an earlier commit but not in HEAD, and its kind's retention period (catalogue `retention`) had not passed when it was deleted; a kind without a retention period always reports.",
        "restore the record (`git checkout <commit>^ -- <file>`), or record why it was disposed of";
    "uncommitted-changes", Warning,
        "SMS files differ from HEAD: this run is a DRAFT",
        "The work tree holds changes (or new files) that are not committed, so the results describe a state no commit has; every output of this run is marked DRAFT.",
        "commit the changes (or stash them) and run again";
    "history-cache-rejected", Note,
        "the history cache did not match the repository and was discarded",
        "auditbook keeps the result of its history walk in the git folder (`auditbook/history.msgpack`, `auditbook/assembled.msgpack`), and what it made of each work-tree file (`auditbook/parsed.msgpack`). Before using a history cache file it recomputes the file's digest of inputs, compares the recorded tree of the tip commit with the object database, and derives a random sample of entries (commits, blob summaries, document revisions) again from the git objects; of the parse memo it parses a random sample of the files again and compares the results. This one failed a check, so it was not used: the history was read from the git objects (or the files parsed) instead, and the findings are those of the repository. A workspace kept between CI jobs (a self-hosted runner, a restored cache) may have been written by an earlier job.",
        "nothing to fix in the SMS; if it happens again, find out what writes to the git folder of the CI workspace, or start jobs from a clean checkout";
    "git-grafts", Note,
        "the repository has grafts: the history was read with grafted parents",
        "A grafts file (`info/grafts` in the git folder, deprecated in git) replaces the parents of some commits. auditbook follows it, as libgit2 does, so the first-parent history it reads — revisions, landings, contributors — is the grafted one, which anyone with write access to the git folder can change without changing a single commit. Replace refs (`refs/replace/`, `git replace`) are the other way to rewrite history in place; auditbook ignores them: the real objects are the evidence.",
        "remove the grafts (`git replace --convert-graft-file` turns them into replace refs, which auditbook ignores; or rewrite the history for good with `git filter-repo`)";
    "shallow-clone", Note,
        "the repository is a shallow clone: the history rules were skipped",
        "A shallow clone lacks older commits, so revisions, approval dates and record dates cannot be checked without reporting wrong dates. The other rules still run, but on the work tree alone: the effective (last approved) version of a document in revision is unknown when it was approved before the cut, so its coverage and its review date (`review-overdue`) cannot be worked out, and the review rules are incomplete too. `check --require-history` makes this an error.",
        "fetch the full history: `git fetch --unshallow`, or in GitHub Actions `actions/checkout` with `fetch-depth: 0`";
    "no-git-history", Note,
        "the SMS is not in a git repository, or it has no commits: the history rules were skipped",
        "Document control and record integrity come from git history. Without it only the work tree is checked. `check --require-history` makes this an error.",
        "keep the SMS in a git repository (`git init`, then commit it)";
    // --- pull-request gate (check --base) ---------------------------------------------------------
    "gate-config-weakened", Error,
        "the change relaxes the policy that judges it",
        "With `check --base`, policy comes from the base: rule levels, the framework and its catalogue, applicability, intervals and history settings in sms.yaml (and frameworks/) are read from the merge-base, so a pull request cannot pass by relaxing the gate. This change lowers a rule's level or turns it off, lengthens an interval or the audit programme cycle, changes the framework, declares a clause operated by another party, moves the history baseline, lowers the approval evidence `approval.require` asks for, or makes the catalogue demand less; the gate judged the change by the base's settings. Or it trusts a signing key the base did not (in `people[].keys`, the allowed-signers or the OpenPGP key file): signatures are verified with the change's keys, so such a key could sign the change's own approval.",
        "make the policy change in a pull request of its own, reviewed and approved as a change to the SMS policy, or revert it";
}

/// Codes about the SMS as a whole (coverage): placed on `sms.yaml:1` in machine formats, shown
/// without a source line to people.
pub fn is_whole_sms(code: &str) -> bool {
    matches!(
        code,
        "clause-undocumented"
            | "named-document-missing"
            | "records-missing"
            | "records-stale"
            | "no-documents"
            | "uncommitted-changes"
            | "shallow-clone"
            | "no-git-history"
            | "history-cache-rejected"
            | "git-grafts"
    )
}

/// The entry for a code.
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// The closest known code, for "did you mean".
pub fn suggest(code: &str) -> Option<&'static str> {
    crate::ids::closest(code, CODES.iter().map(|c| c.code), 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(
                c.code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{} is not kebab-case",
                c.code
            );
            assert!(!c.summary.is_empty() && !c.explanation.is_empty() && !c.help.is_empty());
        }
    }

    #[test]
    fn every_code_is_in_the_rules_docs() {
        let docs = include_str!("../docs/rules.md");
        for c in CODES {
            let row = format!("| `{}` | {} |", c.code, c.severity.as_str());
            assert!(
                docs.contains(&row),
                "docs/rules.md lacks a row starting {row}"
            );
        }
    }
}
