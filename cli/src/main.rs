//! `cvm-keypairs`: manage Tencent Cloud CVM key pairs from the command line.
//!
//! `main` only picks the subcommand; each subcommand lives in its own module with its help
//! text, its argument parsing (through [`args`]) and its `run`, which returns the exit code.

mod args;
mod bind;
mod connect;
mod create;
mod credentials;
mod delete;
mod demo;
mod describe;
mod emulate;
#[cfg(test)]
mod fakes;
mod ids;
mod import;
mod modify;
mod output;
mod report;
mod select;
mod signals;
mod status;

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
    /// The output could not be written to stdout; the command itself may have done its work.
    pub const OUTPUT: u8 = 5;
}

const HELP: &str = "\
Manage Tencent Cloud CVM key pairs through API 3.0.

Usage: cvm-keypairs <COMMAND> [OPTIONS]

Commands:
  delete        Delete key pairs (any number; verified), by id or chosen by name, age, tag
                or project (planned first); detached from their instances first with
                --detach; or print the signed requests (--dry-run)
  describe      List key pairs: all of them, the given ids, or those selectors choose; as a
                table, JSON or ids
  create        Create a key pair; its private key goes to a new file (mode 0600) or stdout
  import        Import a public key (an OpenSSH .pub file) as a key pair
  modify        Rename a key pair, or change its description
  associate     Bind key pairs to instances, and wait until that shows
  disassociate  Unbind key pairs from instances, and wait until that shows
  credentials   Say which source of credentials wins, and the region (no secret printed)
  demo          Run the whole delete-and-describe flow against a built-in emulator; needs no
                account, credentials or configuration
  emulate       Serve a local emulator of the key-pair API on 127.0.0.1
  help          Print this help, or a command's help (`help <COMMAND>`)

Options:
  -h, --help       Print help (`cvm-keypairs <COMMAND> --help` for a command's options)
  -V, --version    Print the version

Exit codes: 0 success (delete: every requested key pair is absent afterwards); 1 some key
pairs remain, the API refused the call, a change did not show in time, or a listing was so
incomplete that it may miss key pairs; 2 usage error or invalid input (nothing sent);
3 credentials, authentication or configuration; 4 network or transport failure (no API
answer at all, after the retries); 5 the output could not be written to stdout (key pairs a
delete reached are deleted all the same), or create's private key could not be written.
See each command's --help for the details.
";

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(bad) => {
                eprintln!("error: argument {} is not valid UTF-8", output::for_people(&format!("{bad:?}")));
                return ExitCode::from(exit::USAGE);
            }
        }
    }
    let code = dispatch(args);
    ExitCode::from(output::finish(code))
}

fn dispatch(mut args: Vec<String>) -> u8 {
    if args.is_empty() {
        eprint!("{HELP}");
        return exit::USAGE;
    }
    let command = args.remove(0);
    match command.as_str() {
        "help" | "-h" | "--help" => match args.first() {
            None => print_text(HELP),
            Some(command) => run_command(command, vec!["--help".into()]).unwrap_or_else(|| no_such(command)),
        },
        "-V" | "--version" => print_text(&format!("cvm-keypairs {}\n", env!("CARGO_PKG_VERSION"))),
        other => run_command(other, args).unwrap_or_else(|| no_such(other)),
    }
}

/// Runs the command named `command`, if there is one.
fn run_command(command: &str, args: Vec<String>) -> Option<u8> {
    Some(match command {
        "delete" => delete::run(args),
        "describe" => describe::run(args),
        "create" => create::run(args),
        "import" => import::run(args),
        "modify" => modify::run(args),
        "associate" => bind::run(bind::Kind::Associate, args),
        "disassociate" => bind::run(bind::Kind::Disassociate, args),
        "credentials" => credentials::run(args),
        "demo" => demo::run(args),
        "emulate" => emulate::run(args),
        _ => return None,
    })
}

fn no_such(command: &str) -> u8 {
    usage_error(&format!("no such command {command:?}"))
}

/// Prints help or version text.
fn print_text(text: &str) -> u8 {
    output::print(text);
    exit::OK
}

fn usage_error(message: &str) -> u8 {
    eprintln!("error: {}\nRun `cvm-keypairs --help` for usage.", output::for_people(message));
    exit::USAGE
}

/// Whether `--json` is among `args` (before any `--`), so that even an argument list that fails
/// to parse is answered in JSON.
fn wants_json(args: &[String]) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| a == "--json" || a.starts_with("--json="))
}

fn command_usage_error(command: &str, error: &args::UsageError, json: bool) -> u8 {
    eprintln!("error: {}\nRun `cvm-keypairs {command} --help` for usage.", output::for_people(&error.0));
    if json {
        output::print_json(&error_json("UsageError", &error.0, None));
    }
    exit::USAGE
}

/// Refuses input before anything is sent: the message on stderr (and the `--json` error
/// object with `code`), exit 2.
fn refuse(code: &str, message: &str, json: bool) -> u8 {
    say_error(code, message, json);
    eprintln!("Nothing was sent.");
    exit::USAGE
}

/// Refuses what the library found invalid before anything was sent (a name, an id, a tag, a
/// public key, ...), as [`refuse`] does: exit 2.
fn invalid(error: &cvm_keypairs::Error, json: bool) -> u8 {
    refuse(&connect::error_code(error), &error.to_string(), json)
}

/// Refuses a setting (endpoint, region) before anything is sent, as [`refuse`] does, but
/// with exit 3: configuration.
fn refuse_setting(code: &str, message: &str, json: bool) -> u8 {
    say_error(code, message, json);
    exit::CONFIG
}

/// `error: <message>` on stderr, and with `json` the error object on stdout.
fn say_error(code: &str, message: &str, json: bool) {
    eprintln!("error: {}", output::for_people(message));
    if json {
        output::print_json(&error_json(code, message, None));
    }
}

/// Ends a command that failed as a whole with `error`: why on stderr (and the `--json` error
/// object); returns the exit code.
fn fail(error: &cvm_keypairs::Error, json: bool) -> u8 {
    connect::report_error(error);
    if json {
        output::print_json(&error_json(&connect::error_code(error), &error.to_string(), error.request_id()));
    }
    connect::exit_code(error)
}

/// The `--json` object of a command that failed as a whole.
fn error_json(code: &str, message: &str, request_id: Option<&str>) -> serde_json::Value {
    serde_json::json!({"error": {"code": code, "message": message, "request_id": request_id}})
}
