//! The `outreach` binary. Everything it does lives in the library (`outreach_cli::run`), so
//! tests exercise the same code users run.

fn main() -> std::process::ExitCode {
    outreach_cli::main()
}
