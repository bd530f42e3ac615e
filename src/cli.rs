//! The command-line front end: parse arguments, run a phase, print, choose the exit code.
//!
//! Exit codes: 0 no finding at error level; 1 findings at error level; 2 the tool could not run
//! (bad arguments, no SMS, unreadable repository, invalid sms.yaml syntax).

use crate::check::{self, Options};
use crate::report::{self, Format};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "Exit codes:\n  0  no finding at error level\n  1  findings at error level\n  2  the tool could not run (bad arguments, no sms.yaml, unreadable files)";

/// `--sample-*` of `build` and `bundle`: the auditor's sample, drawn as `auditbook sample`
/// draws it, shown on the site (`sample.html`, `sample.csv`, a page for each picked record) and
/// recorded in the bundle's manifest.
#[derive(clap::Args, Debug, Clone)]
pub struct SampleArgs {
    /// Draw an auditor's sample of this record kind into the site (and the bundle's manifest).
    #[arg(long = "sample-kind", value_name = "KIND", requires = "sample_seed")]
    sample_kind: Option<String>,
    /// How many records the sample picks.
    #[arg(long = "sample-size", value_name = "N", default_value_t = 25)]
    sample_size: usize,
    /// The sample's seed (any text), chosen by the auditor.
    #[arg(long = "sample-seed", value_name = "TEXT", requires = "sample_kind")]
    sample_seed: Option<String>,
    /// Only records dated on or after this date.
    #[arg(long = "sample-from", value_name = "DATE", value_parser = parse_date_arg, requires = "sample_kind")]
    sample_from: Option<jiff::civil::Date>,
    /// Only records dated on or before this date.
    #[arg(long = "sample-to", value_name = "DATE", value_parser = parse_date_arg, requires = "sample_kind")]
    sample_to: Option<jiff::civil::Date>,
    /// Only records whose field has this value (repeat for more).
    #[arg(long = "sample-where", value_name = "FIELD=VALUE", value_parser = crate::sample::parse_condition, requires = "sample_kind")]
    sample_where: Vec<(String, String)>,
}

impl SampleArgs {
    fn request(self) -> Option<crate::sample::Request> {
        Some(crate::sample::Request {
            kind: self.sample_kind?,
            size: self.sample_size,
            seed: self.sample_seed.unwrap_or_default(),
            from: self.sample_from,
            to: self.sample_to,
            conditions: self.sample_where,
        })
    }
}

#[derive(Parser, Debug)]
#[command(name = "auditbook", version, about = "ISO/IEC 20000-1 compliance as a build step: check an SMS kept in git", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress bars (they are shown only when stderr is a terminal) and no timings.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print the time each phase took (load, history, rules, render, write) to stderr at the end.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check an SMS: clause coverage, document control, records, links.
    #[command(after_help = AFTER_HELP)]
    Check {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The date the check is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
        /// Output format: human, json, github (annotations + job summary), sarif, junit, gitlab (Code Quality).
        #[arg(long, value_enum, default_value = "human")]
        format: report::FindingsFormat,
        /// Fail (as errors) when git history is missing: a shallow clone, or no git repository.
        #[arg(long)]
        require_history: bool,
        /// Pull-request gate: compare with merge-base(REV, HEAD), e.g. `origin/main`, judged by
        /// the base's policy; report what the change does and which findings are new.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Which error-level findings fail: `new` ones only (the default with --base) or `all`.
        #[arg(long, value_enum, requires = "base")]
        fail_on: Option<crate::gate::FailOn>,
        /// Check and show only this framework's clauses (one of sms.yaml `frameworks:`); the
        /// others' ids stay known.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        /// Check the SMS as staged in the git index (what `git commit` would commit), not the
        /// work tree: unstaged edits are ignored. For pre-commit hooks.
        #[arg(long, conflicts_with = "base")]
        staged: bool,
        /// Show the SMS as it stood at a past commit: the newest first-parent commit of HEAD
        /// dated on or before DATE (YYYY-MM-DD, committer date in its own offset), or REV (any
        /// branch, tag or commit id). The history is read up to that commit only; --as-of
        /// defaults to DATE (for a REV, its committer date).
        #[arg(long, value_name = "DATE|REV", value_parser = parse_at_arg, conflicts_with_all = ["base", "staged"])]
        at: Option<crate::check::AtArg>,
    },
    /// List each owner's open items: reviews overdue or due soon, open nonconformities and
    /// actions, suspect documents (the list to work from each Monday).
    #[command(
        after_help = "Reads the SMS as `check` does (the work tree, with the git history for effective versions and\nreview dates). Owners are the `owner:` of documents and records, matched to sms.yaml `people` by\nid, name or e-mail; other owners are listed under their own text, items without one as Unowned.\nIt is a list, not a gate: findings do not change the exit code.\n\nExit codes:\n  0  the list was printed (whatever it holds)\n  2  the tool could not run (bad arguments, unknown --owner, no sms.yaml, unreadable files)"
    )]
    Todo {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only this person's items: a `people` id, name or e-mail from sms.yaml.
        #[arg(long, value_name = "PERSON")]
        owner: Option<String>,
        /// List reviews due within this many days of the as-of date.
        #[arg(long, value_name = "N", default_value_t = crate::todo::DEFAULT_DAYS)]
        days: u32,
        /// Output format: human or json.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// The date the list is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
        /// Only this framework's clauses and record kinds (one of sms.yaml `frameworks:`).
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
    },
    /// Print the clause tree of a built-in catalogue (default: ISO/IEC 20000-1:2018).
    Clauses {
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// The built-in framework to print: iso20000-1:2018, iso27001:2022, iso9001:2015 or
        /// iso20000-1:2011.
        #[arg(long, value_name = "ID", default_value = crate::catalog::BUILTIN_ID)]
        framework: String,
        /// List the record kinds, their required fields and freshness instead.
        #[arg(long, conflicts_with = "documents")]
        kinds: bool,
        /// List the named documents the standard demands instead.
        #[arg(long, conflicts_with = "mappings")]
        documents: bool,
        /// List the clauses of other built-in frameworks that the built-in mappings relate to
        /// each clause instead (information only: a mapping never confers coverage).
        #[arg(long, conflicts_with = "kinds")]
        mappings: bool,
    },
    /// Start a new SMS in DIR from the built-in starter kit (templates, sms.yaml, example records).
    #[command(
        after_help = "Never overwrites a file: with --force, only the kit's missing files are added.\n\nExit codes:\n  0  the SMS was created\n  2  it could not be (non-empty folder without --force, unwritable folder)"
    )]
    Init {
        /// The folder to create the SMS in (created if missing; must be empty unless --force).
        dir: PathBuf,
        /// The organisation's name, written to sms.yaml and into the templates.
        #[arg(long, value_name = "NAME", default_value = crate::init::DEFAULT_ORGANISATION)]
        org: String,
        /// Allow a non-empty folder: add the missing files, leave every existing one unchanged.
        #[arg(long)]
        force: bool,
        /// Do not run `git init`.
        #[arg(long)]
        no_git: bool,
        /// The frameworks of the new SMS, comma-separated, the first primary (default
        /// iso20000-1:2018; may add iso27001:2022 and iso9001:2015): templates for the union of the
        /// documents they demand, shared ones once, each citing every framework it serves.
        #[arg(long, value_name = "ID,...", value_delimiter = ',')]
        framework: Vec<String>,
    },
    /// Adopt an existing folder of Markdown: propose sms.yaml and frontmatter (a dry run unless --write).
    #[command(
        after_help = "For every Markdown document without frontmatter it proposes a block to put in front: id from\nthe file name (made valid and unique), title from the first heading, type from the folder,\nstatus draft, and clauses guessed from the text against the catalogue's titles and keywords\n(marked as guesses, with the matched words). Writes sms.yaml if the folder has none.\nWithout --write it only prints what it would write. It never changes a body (byte-identical,\nline endings kept) nor a file that already has frontmatter; links, devices and non-UTF-8\nfiles are skipped. See docs/adopt.md.\n\nExit codes:\n  0  the proposals were printed (and, with --write, written)\n  2  the tool could not run (not a folder, invalid sms.yaml, unknown framework, unwritable sms.yaml),\n     or --write could not write a file (listed as NOT WRITTEN)"
    )]
    Adopt {
        /// The folder of existing Markdown (or the SMS root, or any folder below it).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Write sms.yaml and the frontmatter (default: only report what would be written).
        #[arg(long)]
        write: bool,
        /// Guess clauses of this framework: a built-in id for a new sms.yaml (which then names
        /// it), else one of sms.yaml `frameworks:`; default: the primary framework.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        /// The organisation's name, written to a new sms.yaml.
        #[arg(long, value_name = "NAME", default_value = crate::init::DEFAULT_ORGANISATION)]
        org: String,
    },
    /// Check the SMS, then render the evidence site (even with findings) into --out.
    #[command(
        after_help = "The site shows HEAD's tree: uncommitted changes are left out (and listed on stderr) unless\n--allow-dirty, which renders the work tree as a DRAFT. With --at DATE|REV it shows a past commit's tree and\nthe history up to it, under a PAST STATE banner on every page. Outside git, or before the first\ncommit, the work tree is rendered (as a DRAFT when there is a repository).\nThe site is rendered even when there are findings, so the auditor sees the gaps.\nThe output folder (default: PATH/_site) is replaced atomically; auditbook refuses a non-empty\nfolder it did not make, a symbolic link, and any folder that is or contains the SMS root.\n\nExit codes:\n  0  the site was built; no finding at error level\n  1  the site was built; findings at error level\n  2  the tool could not run (bad arguments, no sms.yaml, refused output folder, unwritable files)"
    )]
    Build {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The output folder; default: `paths.output` of sms.yaml (`_site`) in the SMS root.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The date the site is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
        /// Format of the findings printed to stdout (human, json, github, sarif, junit, gitlab).
        #[arg(long, value_enum, default_value = "human")]
        format: report::FindingsFormat,
        /// Add a "changes since" page: documents and records added, changed or removed since REV.
        #[arg(long, value_name = "REV")]
        since: Option<String>,
        /// Render the work tree even when it differs from HEAD (the site is then a DRAFT).
        #[arg(long)]
        allow_dirty: bool,
        /// Show the SMS as it stood at a past commit: the newest first-parent commit of HEAD
        /// dated on or before DATE (YYYY-MM-DD, committer date in its own offset), or REV (any
        /// branch, tag or commit id). The history is read up to that commit only; --as-of
        /// defaults to DATE (for a REV, its committer date).
        #[arg(long, value_name = "DATE|REV", value_parser = parse_at_arg, conflicts_with = "allow_dirty")]
        at: Option<crate::check::AtArg>,
        /// Check and show only this framework's clauses (one of sms.yaml `frameworks:`); the
        /// others' ids stay known.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        #[command(flatten)]
        sample: SampleArgs,
    },
    /// Write the evidence as one printable PDF: title page, dashboard figures, document register,
    /// clause coverage, the Statement of Applicability and every effective document's text.
    #[command(
        after_help = "Like `build`, the PDF shows HEAD's tree unless --allow-dirty; with --at DATE|REV it shows a past\ncommit's tree and the history up to it, and its title page and every page foot say so.\nWith --bundle FILE.zip it is made from an auditor bundle instead: verified first (a bundle with\nany problem gives no PDF), then rendered from its sources/ and manifest, with its fingerprint on\nthe title page. The same commit and as-of date (or the same bundle) give the same bytes. Text is\nset in the PDF standard Courier fonts; a character outside Windows-1252 is shown as `?`.\nSee docs/pdf.md.\n\nExit codes:\n  0  the PDF was written\n  2  the tool could not run (bad arguments, no sms.yaml, unwritable file, a bundle that does not\n     verify)"
    )]
    Pdf {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The PDF file to write.
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
        /// The date the PDF is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
        /// Render the work tree even when it differs from HEAD (the PDF then says DRAFT).
        #[arg(long)]
        allow_dirty: bool,
        /// Show the SMS as it stood at a past commit: the newest first-parent commit of HEAD
        /// dated on or before DATE (YYYY-MM-DD, committer date in its own offset), or REV (any
        /// branch, tag or commit id). The history is read up to that commit only; --as-of
        /// defaults to DATE (for a REV, its committer date).
        #[arg(long, value_name = "DATE|REV", value_parser = parse_at_arg, conflicts_with = "allow_dirty")]
        at: Option<crate::check::AtArg>,
        /// Show only this framework's clauses (one of sms.yaml `frameworks:`).
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        /// Make the PDF from this auditor bundle (verified first, as `verify` does) instead of
        /// the repository: its sources/ and manifest fix the commit, the date and the frameworks.
        #[arg(long, value_name = "FILE.zip", conflicts_with_all = ["path", "as_of", "allow_dirty", "at", "framework"])]
        bundle: Option<PathBuf>,
    },
    /// Build the evidence site of the work tree and serve it on 127.0.0.1, rebuilding when a source file changes.
    #[command(
        after_help = "A preview: the site shows the work tree, uncommitted changes included (marked DRAFT), while\n`build` shows HEAD. A rebuild reads, parses, renders and writes only what the change touched.\nServes only on the loopback address and answers only Host localhost:PORT or 127.0.0.1:PORT.\nOpen pages reload after each rebuild; a rebuild that fails keeps the previous site and shows why.\n\nExit codes:\n  2  the server could not start (no sms.yaml, refused output folder, port in use)"
    )]
    Serve {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// The output folder; default: `paths.output` of sms.yaml (`_site`) in the SMS root.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The date the site is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
    },
    /// Write the auditor bundle: one zip with the evidence site, the sources as committed, the manifest and SHA256SUMS.
    #[command(
        after_help = "The bundle holds HEAD's tree: uncommitted changes are left out unless --allow-dirty, which\nmakes a DRAFT bundle; --at DATE|REV bundles a past commit (the manifest's `at` says which).\nOutside git the work tree is bundled as a DRAFT (no commit). The same\ncommit and as-of date give a byte-identical zip. The fingerprint printed at the end is the\nSHA-256 of the bundle's SHA256SUMS: send it to the auditor through another channel.\n\nExit codes:\n  0  the bundle was written; no finding at error level\n  1  the bundle was written; findings at error level (the auditor will see them)\n  2  the tool could not run (bad arguments, no sms.yaml, unreadable repository, unwritable file)"
    )]
    Bundle {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The zip to write; default: <organisation>-evidence-<commit>.zip in the current folder.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The date the bundle is made for (YYYY-MM-DD); default: today in the SMS's time zone.
        #[arg(long, value_parser = parse_date_arg)]
        as_of: Option<jiff::civil::Date>,
        /// Bundle the work tree even when it differs from HEAD (the bundle is then a DRAFT).
        #[arg(long)]
        allow_dirty: bool,
        /// Show the SMS as it stood at a past commit: the newest first-parent commit of HEAD
        /// dated on or before DATE (YYYY-MM-DD, committer date in its own offset), or REV (any
        /// branch, tag or commit id). The history is read up to that commit only; --as-of
        /// defaults to DATE (for a REV, its committer date).
        #[arg(long, value_name = "DATE|REV", value_parser = parse_at_arg, conflicts_with = "allow_dirty")]
        at: Option<crate::check::AtArg>,
        /// Check and show only this framework's clauses (one of sms.yaml `frameworks:`); the
        /// others' ids stay known.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        #[command(flatten)]
        sample: SampleArgs,
        /// Sign SHA256SUMS with this OpenSSH private key (Ed25519, unencrypted), written into the
        /// zip as SHA256SUMS.sig (namespace auditbook-bundle; `ssh-keygen -Y verify` checks it).
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
    /// Check an auditor bundle: every file against SHA256SUMS and manifest.json, without extracting.
    #[command(
        after_help = "Reports each file altered, added or missing; refuses unsafe entry names (absolute, `..`,\nbackslashes, drive letters) and symbolic links. On success prints the fingerprint (the SHA-256\nof SHA256SUMS): compare it with the one the organisation sent you separately. A signed bundle\n(SHA256SUMS.sig) is checked with --signer ALLOWED_SIGNERS and names who signed; without it the\nsignature is reported as present but unchecked. With --reproduce REPO the bundle is made again\nfrom its commit in a fresh clone of REPO and compared entry by entry.\n\nExit codes:\n  0  every file matches (and, with --signer, the signature is good and by a listed key; with\n     --reproduce, every entry equals the one made again)\n  1  something does not match, the manifest is missing or malformed, (with --signer) the\n     signature is missing, bad or by a key not listed, or (with --reproduce) an entry differs\n  2  a file cannot be read, or the bundle is not a readable zip, or the allowed signers file\n     is malformed, or (with --reproduce) the commit is not in REPO"
    )]
    Verify {
        /// The bundle (.zip).
        file: PathBuf,
        /// Check SHA256SUMS.sig against this allowed signers file (OpenSSH/git format:
        /// `principals [namespaces="..."] key`); a missing or bad signature, or a key not listed, fails.
        #[arg(long, value_name = "ALLOWED_SIGNERS")]
        signer: Option<PathBuf>,
        /// Make the bundle again from the commit its manifest names, in a fresh clone of this
        /// repository, and compare every entry byte for byte; any difference fails.
        #[arg(long, value_name = "REPO")]
        reproduce: Option<PathBuf>,
    },
    /// Tabular record files (CSV, TSV, JSON lines, JSON exports of a service desk).
    Records {
        #[command(subcommand)]
        action: RecordsAction,
    },
    /// Draw a seeded, reproducible sample of records for an auditor and write it as CSV.
    #[command(
        after_help = "The sample is the SIZE records of the kind (after --from/--to/--where) with the lowest\nSHA-256(seed, NUL byte, id): the same records and seed always give the same sample. The\nauditor, not the auditee, chooses the seed, after the records are committed. Reads the work\ntree: run it on a clean checkout of the audited commit.\n\nExit codes:\n  0  the sample was written\n  2  the tool could not run (bad arguments, no sms.yaml, unwritable file)"
    )]
    Sample {
        /// The SMS root (the folder holding sms.yaml) or any folder below it.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The record kind to sample from, e.g. incident.
        #[arg(long)]
        kind: String,
        /// How many records to pick.
        #[arg(long, default_value_t = 25)]
        size: usize,
        /// Any text, chosen by the auditor.
        #[arg(long)]
        seed: String,
        /// Only records dated on or after this date.
        #[arg(long, value_parser = parse_date_arg)]
        from: Option<jiff::civil::Date>,
        /// Only records dated on or before this date.
        #[arg(long, value_parser = parse_date_arg)]
        to: Option<jiff::civil::Date>,
        /// Only records whose field has this value (`field=value`; repeat for more).
        #[arg(long = "where", value_name = "FIELD=VALUE", value_parser = crate::sample::parse_condition)]
        conditions: Vec<(String, String)>,
        /// Write the CSV here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of sms.yaml, document frontmatter or record files (for editors).
    #[command(
        after_help = "The same schemas are shipped in the repository under schemas/. In VS Code (YAML extension),\nput `# yaml-language-server: $schema=<path or URL of the schema>` at the top of a file, or map\nfiles to schemas with the `yaml.schemas` setting (README, \"Editor support\")."
    )]
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value = "sms")]
        which: crate::schema::Which,
    },
    /// Explain a finding code: what it means, why it matters, how to fix it.
    Explain {
        /// The code, e.g. clause-undocumented.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its default level.
        #[arg(long)]
        list: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RecordsAction {
    /// Print the columns a records file has, the mapping auditbook applies to it, and its first
    /// parsed rows.
    #[command(
        after_help = "Exit codes:\n  0  the file reads without findings\n  1  reading it gives findings (listed)\n  2  the file cannot be read, or is not a records file of an SMS"
    )]
    Inspect {
        /// The file (under the SMS's records folder).
        file: PathBuf,
        /// How many parsed rows to print.
        #[arg(long, default_value_t = 3)]
        rows: usize,
    },
}

fn parse_date_arg(s: &str) -> Result<jiff::civil::Date, String> {
    crate::dates::parse_date(s)
}

fn parse_at_arg(s: &str) -> Result<crate::check::AtArg, String> {
    if s.trim().is_empty() {
        return Err("expected a date (YYYY-MM-DD) or a revision (branch, tag, commit id)".into());
    }
    Ok(crate::check::AtArg::parse(s))
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::progress::set_mode(if cli.quiet {
        crate::progress::Mode::Quiet
    } else if cli.verbose {
        crate::progress::Mode::Verbose
    } else {
        crate::progress::Mode::Normal
    });
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = write_stderr(&format!("error: {e:#}\n"));
            2
        }
    };
    if crate::progress::mode() == crate::progress::Mode::Verbose {
        let _ = write_stderr(&crate::progress::timings());
    }
    ExitCode::from(code)
}

/// Human-readable text on stdout: control characters escaped and no line a workflow command
/// (see [`crate::safe_text`]).
fn emit_human(text: &str) -> anyhow::Result<()> {
    emit(&crate::safe_text::terminal(text))
}

/// Text on stderr, which is always human-readable: escaped as [`emit_human`] does.
fn write_stderr(text: &str) -> std::io::Result<()> {
    std::io::stderr().write_all(crate::safe_text::terminal(text).as_bytes())
}

/// A findings report: the human one through [`emit_human`], the machine formats as they are
/// (each escapes by its own rules).
fn emit_report(format: report::FindingsFormat, text: &str) -> anyhow::Result<()> {
    match format {
        report::FindingsFormat::Human => emit_human(text),
        _ => emit(text),
    }
}

fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not a failure of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check {
            path,
            as_of,
            format,
            require_history,
            base,
            fail_on,
            framework,
            staged,
            at,
        } => {
            let at_given = at.is_some();
            let opts = Options {
                path,
                as_of,
                framework,
                at,
            };
            if let Some(rev) = base {
                let fail_on = fail_on.unwrap_or(crate::gate::FailOn::New);
                let (loaded, report, gate, base) =
                    crate::gate::run(&opts, &rev, fail_on, require_history)?;
                let model = loaded.model();
                emit_report(
                    format,
                    &report::render(format, &loaded, &model, &report.findings, Some(&gate)),
                )?;
                let code = gate.exit_code(&report.findings);
                // As for a plain check below: the process ends here, and freeing both SMSs (the
                // work tree's and the base's), their histories and the model one allocation at a
                // time would cost the gate most of a second. The operating system takes it back.
                std::mem::forget(model);
                std::mem::forget(loaded);
                std::mem::forget(base);
                std::mem::forget(report);
                std::mem::forget(gate);
                return Ok(code);
            }
            let mut loaded = if staged {
                check::load_staged(&opts)?
            } else if at_given {
                check::load_committed(&opts)?
            } else {
                check::load(&opts)?
            };
            loaded.require_history = require_history;
            // One model for the findings and the report.
            let model = loaded.model();
            let report = loaded.report(&model);
            emit_report(
                format,
                &report::render(format, &loaded, &model, &report.findings, None),
            )?;
            let code = if report.counts.errors > 0 { 1 } else { 0 };
            // The process ends here: freeing the SMS, its history and the model one allocation
            // at a time would cost a tenth of a large check. The operating system takes it back.
            std::mem::forget(model);
            std::mem::forget(loaded);
            Ok(code)
        }
        Command::Todo {
            path,
            owner,
            days,
            format,
            as_of,
            framework,
        } => {
            let opts = Options {
                path,
                as_of,
                framework,
                at: None,
            };
            let loaded = check::load(&opts)?;
            let person = owner
                .as_deref()
                .map(|o| crate::todo::resolve_owner(&loaded.config, o))
                .transpose()?;
            let model = loaded.model();
            let findings = loaded.findings(&model);
            let mut list = crate::todo::collect(&model, &findings, days);
            if let Some(p) = person {
                list = list.only(p);
            }
            match format {
                Format::Human => emit_human(&crate::todo::human(&list, loaded.draft))?,
                Format::Json => emit(&crate::todo::json(&list, &loaded.config, loaded.draft))?,
            }
            Ok(0)
        }
        Command::Clauses {
            format,
            framework,
            kinds,
            documents,
            mappings,
        } => {
            let Some(catalog) = crate::catalog::builtin_by_id(&framework) else {
                anyhow::bail!(
                    "`{framework}` is not a built-in framework; built in: {}",
                    crate::catalog::builtin_ids().join(", ")
                );
            };
            let catalog = catalog?;
            if mappings {
                let maps = crate::catalog::builtin_mappings()?;
                emit(&crate::catalog_print::render_mappings(
                    &catalog, &maps, format,
                ))?;
                return Ok(0);
            }
            emit(&crate::catalog_print::render(
                &catalog, format, kinds, documents,
            ))?;
            Ok(0)
        }
        Command::Init {
            dir,
            org,
            force,
            no_git,
            framework,
        } => {
            let outcome = crate::init::run(&crate::init::Options {
                dir: dir.clone(),
                organisation: org,
                force,
                git: !no_git,
                frameworks: framework,
            })?;
            emit_human(&crate::init::summary(&outcome, &dir.display().to_string()))?;
            Ok(0)
        }
        Command::Adopt {
            path,
            write,
            framework,
            org,
        } => {
            let outcome = crate::adopt::run(&crate::adopt::Options {
                path,
                write,
                framework,
                organisation: org,
            })?;
            emit_human(&crate::adopt::report(&outcome))?;
            let failed = outcome.proposals.iter().any(|p| p.not_written.is_some());
            Ok(if failed { 2 } else { 0 })
        }
        Command::Build {
            path,
            out,
            as_of,
            format,
            since,
            allow_dirty,
            at,
            framework,
            sample,
        } => {
            let args = crate::site::command::BuildArgs {
                path,
                out,
                as_of,
                since,
                allow_dirty,
                framework,
                at,
                sample: sample.request(),
            };
            let run = crate::site::command::build(&args, &|loaded, model, findings| {
                report::render(format, loaded, model, findings, None)
            })?;
            emit_report(format, &run.stdout)?;
            let _ = write_stderr(&run.stderr);
            Ok(run.code)
        }
        Command::Pdf {
            path,
            out,
            as_of,
            allow_dirty,
            at,
            framework,
            bundle,
        } => {
            let msg = crate::pdf::run(&crate::pdf::PdfArgs {
                path,
                out,
                as_of,
                allow_dirty,
                at,
                framework,
                bundle,
            })?;
            let _ = write_stderr(&msg);
            Ok(0)
        }
        Command::Serve {
            path,
            port,
            out,
            as_of,
        } => {
            let args = crate::site::command::ServeArgs {
                path,
                out,
                as_of,
                port,
                max_requests: None,
            };
            crate::site::command::serve(
                args,
                |line| {
                    let _ = write_stderr(&format!("{line}\n"));
                },
                |addr| {
                    let _ = emit(&format!(
                        "serving the evidence site at http://{addr}/ (Ctrl-C stops)\n"
                    ));
                },
            )?;
            Ok(0)
        }
        Command::Bundle {
            path,
            out,
            as_of,
            allow_dirty,
            at,
            framework,
            sample,
            sign,
        } => {
            let outcome = crate::bundle::write(&crate::bundle::Options {
                path,
                out,
                as_of,
                allow_dirty,
                framework,
                sample: sample.request(),
                sign,
                at,
            })?;
            let (stdout, stderr) = crate::bundle::report(&outcome);
            let _ = write_stderr(&stderr);
            emit_human(&stdout)?;
            Ok(u8::from(outcome.counts.errors > 0))
        }
        Command::Records {
            action: RecordsAction::Inspect { file, rows },
        } => {
            let (text, findings) = crate::tabular::inspect::inspect(&file, rows)?;
            emit_human(&text)?;
            Ok(u8::from(findings))
        }
        Command::Sample {
            path,
            kind,
            size,
            seed,
            from,
            to,
            conditions,
            out,
        } => {
            let req = crate::sample::Request {
                kind,
                size,
                seed,
                from,
                to,
                conditions,
            };
            let root = crate::config::discover(&path)?;
            let (config, _) = crate::config::load(&root)?;
            let snapshot = crate::snapshot::from_work_tree(&config)?;
            let sample = crate::sample::draw_streaming(&config, &snapshot, &req)?;
            let csv = crate::sample::to_csv(&sample);
            match out {
                Some(file) => std::fs::write(&file, csv)
                    .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", file.display()))?,
                None => emit(&csv)?,
            }
            let _ = write_stderr(&crate::sample::summary(&sample, &req));
            std::mem::forget(snapshot);
            Ok(0)
        }
        Command::Verify {
            file,
            signer,
            reproduce,
        } => {
            let v = crate::bundle::verify::verify(&file, signer.as_deref())?;
            let (stdout, stderr) = crate::bundle::verify::report(&v);
            emit_human(&stdout)?;
            let _ = write_stderr(&stderr);
            if !v.ok() {
                return Ok(1);
            }
            if let Some(repo) = reproduce {
                let r = crate::bundle::reproduce::reproduce(&file, &repo)?;
                emit_human(&r.report())?;
                return Ok(if r.ok() { 0 } else { 1 });
            }
            Ok(0)
        }
        Command::Schema { which } => {
            emit(&crate::schema::render(which)?)?;
            Ok(0)
        }
        Command::Explain { code, list } => {
            if list {
                let mut s = String::new();
                for c in crate::codes::CODES {
                    s.push_str(&format!(
                        "{:<28} {:<8} {}\n",
                        c.code,
                        c.severity.as_str(),
                        c.summary
                    ));
                }
                emit(&s)?;
                return Ok(0);
            }
            let code = code.unwrap_or_default();
            match crate::codes::lookup(&code) {
                Some(c) => {
                    emit(&format!(
                        "{} ({} by default)\n\n{}.\n\n{}\n\nHow to fix: {}.\n\nChange its level in sms.yaml:\n  rules:\n    {}: deny | warn | allow\n",
                        c.code,
                        c.severity.as_str(),
                        capitalise(c.summary),
                        c.explanation,
                        c.help,
                        c.code
                    ))?;
                    Ok(0)
                }
                None => {
                    let hint = crate::codes::suggest(&code)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_else(|| "; `auditbook explain --list` lists them".into());
                    anyhow::bail!("`{code}` is not a finding code{hint}")
                }
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
