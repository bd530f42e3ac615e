//! Progress bars and phase timings on stderr (`--quiet`, `--verbose`).
//!
//! Long runs (the history walk of a large repository, rendering the site, writing the bundle)
//! show a bar on stderr, but only when stderr is a terminal and not under `--quiet`: a pipe, a
//! file or a CI log gets nothing, so every output stays byte-identical (DESIGN "Determinism").
//! The phases of a run (load, history, rules, render, write — the phases BENCHMARKS.md quotes)
//! are timed always, which costs a clock read each; `--verbose` prints them at the end.
//!
//! The mode is process-wide state set once by the CLI, not a parameter threaded through every
//! phase: progress is a side channel that never changes what a phase computes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How much the run says on stderr beyond its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Progress bars on a terminal; no timings.
    Normal,
    /// No progress bars, no timings.
    Quiet,
    /// Progress bars on a terminal, and the phase timings at the end.
    Verbose,
}

static MODE: AtomicU8 = AtomicU8::new(0);
static STARTED: OnceLock<Instant> = OnceLock::new();
static TIMES: Mutex<[Option<Duration>; 5]> = Mutex::new([None; 5]);

/// Set the mode for this process (the CLI does it once, first) and start the run's clock.
pub fn set_mode(mode: Mode) {
    let v = match mode {
        Mode::Normal => 0,
        Mode::Quiet => 1,
        Mode::Verbose => 2,
    };
    MODE.store(v, Ordering::Relaxed);
    let _ = STARTED.get_or_init(Instant::now);
}

pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Quiet,
        2 => Mode::Verbose,
        _ => Mode::Normal,
    }
}

/// A timed phase of a run, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// sms.yaml, the file list and parsing every document and record.
    Load,
    /// The git history walk (from its cache when it is warm); runs beside `Load`.
    History,
    /// Linking the model and every rule.
    Rules,
    /// Rendering the site's pages (in `build`, the writing of each chunk overlaps the next).
    Render,
    /// Writing the site folder or the bundle zip.
    Write,
}

impl Phase {
    const ALL: [Phase; 5] = [
        Phase::Load,
        Phase::History,
        Phase::Rules,
        Phase::Render,
        Phase::Write,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Load => "load",
            Phase::History => "history",
            Phase::Rules => "rules",
            Phase::Render => "render",
            Phase::Write => "write",
        }
    }

    fn index(self) -> usize {
        match self {
            Phase::Load => 0,
            Phase::History => 1,
            Phase::Rules => 2,
            Phase::Render => 3,
            Phase::Write => 4,
        }
    }
}

/// Run `f` as (part of) `phase`: its duration is added to the phase's.
pub fn timed<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    record(phase, start.elapsed());
    out
}

/// Add `took` to the time of `phase`.
pub fn record(phase: Phase, took: Duration) {
    if let Ok(mut times) = TIMES.lock() {
        let slot = &mut times[phase.index()];
        *slot = Some(slot.unwrap_or_default() + took);
    }
}

/// The `--verbose` line: every phase that ran with its duration, then the run's wall time
/// (load and history run at the same time, so the phases need not add up to it). Empty when no
/// phase ran (e.g. `explain`).
pub fn timings() -> String {
    let Ok(times) = TIMES.lock() else {
        return String::new();
    };
    let parts: Vec<String> = Phase::ALL
        .iter()
        .filter_map(|p| times[p.index()].map(|d| format!("{} {}", p.name(), seconds(d))))
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    let total = STARTED.get().map(Instant::elapsed).unwrap_or_default();
    format!("timings: {}; total {}\n", parts.join(", "), seconds(total))
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// A progress bar on stderr, or nothing (not a terminal, `--quiet`). Safe to share between
/// threads; cleared when dropped.
pub struct Bar(Option<ProgressBar>);

/// A bar of `len` steps labelled `what` (e.g. "render").
pub fn bar(what: &'static str, len: u64) -> Bar {
    if mode() == Mode::Quiet || len == 0 || !std::io::stderr().is_terminal() {
        return Bar(None);
    }
    let style = ProgressStyle::with_template("{prefix:>9} [{bar:40}] {pos}/{len} {elapsed}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    pb.set_style(style);
    pb.set_prefix(what);
    pb.tick();
    Bar(Some(pb))
}

impl Bar {
    pub fn inc(&self, n: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(n);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
