//! The `auditbook` binary: everything happens in `auditbook::cli`.

fn main() -> std::process::ExitCode {
    return_large_buffers();
    auditbook::cli::main()
}

/// glibc gives an allocation over its mmap threshold a mapping of its own, unmapped when freed;
/// but each time such a buffer is freed it raises the threshold to that buffer's size (up to
/// 32 MiB), so later buffers of a few MiB — a file's normalised text, a file's records before
/// they are merged — come from the heaps of the threads that parse, and stay there once freed.
/// A fixed threshold of 4 MiB returns them: a check of 10^6 rows peaked 240 MB (15 %) lower,
/// for the same CPU time (BENCHMARKS.md, "Check of 10^6 rows, round 4").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers() {
    // SAFETY: mallopt only sets a tuning parameter of the allocator; it is called before any
    // other thread exists. A refusal (return value 0) leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers() {}
