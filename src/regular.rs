//! Reading SMS files from disk: only regular files, never more than a limit.
//!
//! A FIFO makes `open` or `read` wait for a writer for ever, a character device such as
//! `/dev/zero` never ends, and opening some devices has side effects (a tape rewinds). So a file is
//! opened only when its metadata (taken without following a link) says it is a regular file; on
//! Unix it is opened with `O_NOFOLLOW | O_NONBLOCK` (so a FIFO swapped in between the check and the
//! open cannot block) and checked again on the open handle (same device and inode, still regular)
//! before a byte is read. Reads stop one byte past the limit.

use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::Path;

/// What reading a file gave.
#[derive(Debug)]
pub enum Regular {
    /// The whole file, at most the limit.
    Bytes(Vec<u8>),
    /// Not a regular file (a FIFO, socket or device, or a symbolic link): never opened.
    NotRegular(&'static str),
    /// A regular file over the limit (its size): not read.
    TooLarge(u64),
}

/// What a file that is not regular is, for messages; `None` for a regular file.
pub fn not_regular(ft: FileType) -> Option<&'static str> {
    if ft.is_file() {
        return None;
    }
    if ft.is_symlink() {
        return Some("a symbolic link");
    }
    if ft.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
    }
    Some("not a regular file")
}

/// Read `path` if it is a regular file of at most `limit` bytes (see the module doc).
pub fn read(path: &Path, limit: u64) -> std::io::Result<Regular> {
    let meta = std::fs::symlink_metadata(path)?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Ok(Regular::NotRegular(what));
    }
    if meta.len() > limit {
        return Ok(Regular::TooLarge(meta.len()));
    }
    let file = open(path)?;
    let opened = file.metadata()?;
    if let Some(what) = not_regular(opened.file_type()) {
        return Ok(Regular::NotRegular(what));
    }
    if !same_file(&meta, &opened) {
        return Ok(Regular::NotRegular("a file replaced while it was read"));
    }
    let mut buf = Vec::with_capacity(opened.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Ok(Regular::TooLarge(buf.len() as u64));
    }
    Ok(Regular::Bytes(buf))
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &Metadata, _: &Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, b"12345").unwrap();
        assert!(matches!(read(&p, 5).unwrap(), Regular::Bytes(b) if b == b"12345"));
        assert!(matches!(read(&p, 4).unwrap(), Regular::TooLarge(5)));
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_links_are_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.pdf");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(
            read(&link, 10).unwrap(),
            Regular::NotRegular("a symbolic link")
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), 10).unwrap(),
            Regular::NotRegular("a character device")
        ));
    }
}
