//! The `auditbook` binary: everything happens in `auditbook::cli`.

fn main() -> std::process::ExitCode {
    auditbook::cli::main()
}
