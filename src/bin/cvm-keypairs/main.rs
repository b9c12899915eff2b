//! `cvm-keypairs`: manage Tencent Cloud CVM key pairs from the command line.
//!
//! `main` only picks the subcommand; each subcommand lives in its own module with its help
//! text, its argument parsing (through [`args`]) and its `run`, which returns the exit code.

mod args;
mod connect;
mod delete;
mod demo;
mod describe;
mod emulate;
mod report;

use std::process::ExitCode;

/// Exit codes shared by every subcommand (documented in `--help`).
mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Some key pairs remain, or the API refused the call.
    pub const FAILED: u8 = 1;
    /// Usage error or invalid input; nothing was sent.
    pub const USAGE: u8 = 2;
    /// Credentials, authentication or configuration.
    pub const CONFIG: u8 = 3;
    /// No API answer: network, timeout, gateway error page.
    pub const NETWORK: u8 = 4;
}

const HELP: &str = "\
Manage Tencent Cloud CVM key pairs through API 3.0.

Usage: cvm-keypairs <COMMAND> [OPTIONS]

Commands:
  delete     Delete key pairs (any number; verified), or print the signed requests (--dry-run)
  describe   List key pairs: all of them, or the given ids
  demo       Run the whole delete-and-describe flow against a built-in emulator; needs no
             account, credentials or configuration
  emulate    Serve a local emulator of the key-pair API on 127.0.0.1
  help       Print this help, or a command's help (`help <COMMAND>`)

Options:
  -h, --help       Print help (`cvm-keypairs <COMMAND> --help` for a command's options)
  -V, --version    Print the version

Exit codes: 0 success (delete: every requested key pair is absent afterwards); 1 some key
pairs remain or the API refused the call; 2 usage error or invalid input (nothing sent);
3 credentials, authentication or configuration; 4 network or transport failure.
See `cvm-keypairs delete --help` for the details.
";

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(bad) => {
                eprintln!("error: argument {bad:?} is not valid UTF-8");
                return ExitCode::from(exit::USAGE);
            }
        }
    }
    ExitCode::from(dispatch(args))
}

fn dispatch(mut args: Vec<String>) -> u8 {
    if args.is_empty() {
        eprint!("{HELP}");
        return exit::USAGE;
    }
    let command = args.remove(0);
    match command.as_str() {
        "delete" => delete::run(args),
        "describe" => describe::run(args),
        "demo" => demo::run(args),
        "emulate" => emulate::run(args),
        "help" | "-h" | "--help" => match args.first().map(String::as_str) {
            None => print_text(HELP),
            Some("delete") => delete::run(vec!["--help".into()]),
            Some("describe") => describe::run(vec!["--help".into()]),
            Some("demo") => demo::run(vec!["--help".into()]),
            Some("emulate") => print_text(emulate::HELP),
            Some(other) => usage_error(&format!("no such command {other:?}")),
        },
        "-V" | "--version" => print_text(&format!("cvm-keypairs {}\n", env!("CARGO_PKG_VERSION"))),
        other => usage_error(&format!("no such command {other:?}")),
    }
}

/// Prints `text` on stdout; a closed stdout (`| head`) is not an error worth a panic.
fn print_text(text: &str) -> u8 {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    exit::OK
}

fn usage_error(message: &str) -> u8 {
    eprintln!("error: {message}\nRun `cvm-keypairs --help` for usage.");
    exit::USAGE
}

fn command_usage_error(command: &str, error: &args::UsageError) -> u8 {
    eprintln!("error: {error}\nRun `cvm-keypairs {command} --help` for usage.");
    exit::USAGE
}

/// Prints `value` as one line of JSON on stdout.
fn print_json(value: &serde_json::Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// The `--json` object of a command that failed as a whole.
fn error_json(error: &cvm_keypairs::Error) -> serde_json::Value {
    serde_json::json!({"error": {"code": error.code_text(), "message": error.to_string(), "request_id": error.request_id()}})
}
