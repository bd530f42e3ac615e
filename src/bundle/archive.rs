//! The deterministic zip writer. Every entry gets the same options, set explicitly: deflate at a
//! fixed level, Unix as the "made by" system, mode 0644 (regular file), the one given time, no
//! extra fields, no directory entries. Entries are appended in the order given (the caller sorts
//! them). The same entries therefore give the same bytes on any machine and any thread count.
//!
//! Streaming: the zip goes straight to `<out>.tmp-<pid>` and is renamed over `<out>` only when
//! complete, so a failed run never leaves a half-written bundle under the final name. Entries are
//! compressed in parallel in bounded batches (rayon) and appended in order; only one batch is in
//! memory at a time.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

/// Deflate level: 6 is zlib's default balance of size and speed.
const LEVEL: i64 = 6;

/// The zip time of a moment given in seconds since the epoch: its UTC date and time clamped to
/// what a DOS timestamp can hold (1980-01-01 00:00:00 .. 2107-12-31 23:59:58, even seconds).
pub fn dos_time(unix_seconds: i64) -> DateTime {
    let dt = jiff::Timestamp::from_second(unix_seconds)
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime())
        .unwrap_or(jiff::civil::DateTime::ZERO);
    if dt.year() < 1980 {
        return DateTime::default();
    }
    if dt.year() > 2107 {
        return DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default();
    }
    DateTime::from_date_and_time(
        dt.year() as u16,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    )
    .unwrap_or_default()
}

/// A bundle being written: the temporary file, until [`Archive::finish`].
pub struct Archive {
    zip: Option<ZipWriter<BufWriter<File>>>,
    tmp: PathBuf,
    out: PathBuf,
    options: SimpleFileOptions,
}

impl Archive {
    /// Start writing `out` (through `<out>.tmp-<pid>`); every entry gets the time `time`.
    pub fn create(out: &Path, time: DateTime) -> Result<Archive> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = out.with_file_name(format!("{name}.tmp-{}", std::process::id()));
        // A leftover of the same name is ours (same pid, earlier crash); remove it, never follow it.
        match std::fs::symlink_metadata(&tmp) {
            Ok(m) if m.is_dir() => anyhow::bail!(
                "`{}` is a folder in the way of the bundle; move it away",
                tmp.display()
            ),
            Ok(_) => std::fs::remove_file(&tmp)
                .with_context(|| format!("cannot remove the leftover `{}`", tmp.display()))?,
            Err(_) => {}
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot create `{}`", tmp.display()))?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(LEVEL))
            .system(System::Unix)
            .unix_permissions(0o644)
            .last_modified_time(time)
            .large_file(false);
        Ok(Archive {
            zip: Some(ZipWriter::new(BufWriter::with_capacity(1 << 20, file))),
            tmp,
            out: out.to_path_buf(),
            options,
        })
    }

    /// Compress a batch of entries in parallel and append them in the given order. Entries of 4 GiB
    /// or more get ZIP64 sizes.
    pub fn append<B: AsRef<[u8]> + Sync>(&mut self, batch: &[(&str, B)]) -> Result<()> {
        let options = self.options;
        let prepared: Vec<zip::result::ZipResult<zip::PreparedZipFile>> = batch
            .par_iter()
            .map(|(name, bytes)| {
                let bytes = bytes.as_ref();
                let large = bytes.len() as u64 >= zip::ZIP64_BYTES_THR;
                zip::PreparedZipFile::from_data(name, options.large_file(large), bytes)
            })
            .collect();
        let zip = self
            .zip
            .as_mut()
            .context("the bundle was already finished")?;
        for (p, (name, _)) in prepared.into_iter().zip(batch) {
            let p = p.with_context(|| format!("cannot compress `{name}`"))?;
            zip.add_prepared_file(p)
                .with_context(|| format!("cannot write `{name}` to `{}`", self.tmp.display()))?;
        }
        Ok(())
    }

    /// Write the central directory with `comment`, flush to disk and rename into place. Returns
    /// the size of the zip in bytes.
    pub fn finish(mut self, comment: &str) -> Result<u64> {
        let mut zip = self.zip.take().context("the bundle was already finished")?;
        zip.set_comment(comment)
            .with_context(|| format!("cannot write `{}`", self.tmp.display()))?;
        let buffered = zip
            .finish()
            .with_context(|| format!("cannot write `{}`", self.tmp.display()))?;
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write `{}`", self.tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot write `{}`", self.tmp.display()))?;
        let size = file
            .metadata()
            .with_context(|| format!("cannot read `{}`", self.tmp.display()))?
            .len();
        drop(file);
        std::fs::rename(&self.tmp, &self.out).with_context(|| {
            format!(
                "cannot move `{}` into place as `{}`",
                self.tmp.display(),
                self.out.display()
            )
        })?;
        Ok(size)
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        if self.zip.take().is_some() {
            // Not finished: a failed run leaves nothing behind.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_times_are_clamped_to_the_dos_range() {
        assert_eq!(dos_time(0), DateTime::default());
        assert_eq!(dos_time(-5), DateTime::default());
        let t = dos_time(1_767_225_600 + 3 * 3600 + 61); // 2026-01-01 03:01:01 UTC
        assert_eq!((t.year(), t.month(), t.day()), (2026, 1, 1));
        assert_eq!((t.hour(), t.minute(), t.second()), (3, 1, 0));
        let far = dos_time(10_000_000_000); // 2286
        assert_eq!(far.year(), 2107);
    }
}
