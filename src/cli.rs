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

#[derive(Parser, Debug)]
#[command(name = "auditbook", version, about = "ISO/IEC 20000-1 compliance as a build step: check an SMS kept in git", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Print the clause tree of the built-in ISO/IEC 20000-1:2018 catalogue.
    Clauses {
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// List the record kinds, their required fields and freshness instead.
        #[arg(long, conflicts_with = "documents")]
        kinds: bool,
        /// List the named documents the standard demands instead.
        #[arg(long)]
        documents: bool,
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

fn parse_date_arg(s: &str) -> Result<jiff::civil::Date, String> {
    crate::dates::parse_date(s)
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
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(2)
        }
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
        } => {
            let (loaded, report) = check::run(&Options { path, as_of })?;
            let model = loaded.model();
            let text = match format {
                Format::Human => report::human(&loaded, &model, &report.findings),
                Format::Json => report::json(&loaded, &model, &report.findings),
            };
            emit(&text)?;
            Ok(if report.counts.errors > 0 { 1 } else { 0 })
        }
        Command::Clauses {
            format,
            kinds,
            documents,
        } => {
            let catalog = crate::catalog::builtin()?;
            emit(&crate::catalog_print::render(
                &catalog, format, kinds, documents,
            ))?;
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
