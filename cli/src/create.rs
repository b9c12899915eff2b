//! `cvm-keypairs create`: have the API make a key pair, and keep its private key, which the
//! API gives this once: in a new file only its owner can read, or on stdout.
//!
//! The file is created (never replaced) before anything is sent, so a path that exists or
//! cannot be created costs nothing. The request is sent once: a retry after a lost answer
//! would be refused for the name the first one took, and that key pair's private key would be
//! lost. Success is reported only once the key is written and synced to disk. The private key
//! goes nowhere else: not in a message, the JSON or an error.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::PathBuf;

use cvm_keypairs::{CreateKeyPair, CreateKeyPairOutput, Error};
use serde_json::json;

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::output::{self, for_people};

pub const HELP: &str = "\
Create a key pair: the API makes it and gives its private key, this once.

Usage: cvm-keypairs create [OPTIONS] <NAME> --private-key-out <PATH|->

NAME is 1 to 25 of A-Z, a-z, 0-9 and _, unique in the account. The private key is written to
PATH, a new file created with mode 0600 (only its owner can read it) before anything is sent:
a PATH that exists (even as a dangling symbolic link), or that cannot be created, is refused
with exit 2 and nothing is sent. `-` writes the private key to stdout instead (the KeyId then
goes to stderr, and --json does not go with it). The file, or stdout, holds exactly the
private key as the API gave it, synced to disk before success is reported; the private key
appears nowhere else (no message, JSON or error holds it).

CreateKeyPair is sent once, whatever --max-retries says: a retry after an answer that was lost
would be refused for the name the first request took, and that key pair's private key would be
lost. (A throttled answer, RequestLimitExceeded, which the API gives without doing anything, is
waited out and the request sent again.)
When no answer came (exit 4) the key pair may exist all the same: look with
`cvm-keypairs describe --name NAME`, and delete it. Should the private key not be written
once the key pair was made (a full disk, stdout closed), the command says so, naming the
KeyId, and exits 5: the private key is lost and the key pair useless: delete it and create
another.

Options:
  --private-key-out <PATH|->  Where the private key goes: a new file, or `-` for stdout
                             (required)
  --project-id <N>           The project [default: 0, the default project]
  --tag <KEY=VALUE>          A tag on the key pair; repeatable (at most 50, each key once)
  --json                     Print one line of JSON on stdout:
                             {\"key_id\",\"key_name\",\"project_id\",\"public_key\",\"request_id\"}
                             when created (exit 0); {\"error\":{\"code\",\"message\",\"request_id\"}}
                             otherwise, with \"key_id\" as well when the key pair was made but
                             its private key not written (code PrivateKeyNotWritten, exit 5)
  -h, --help                 Print this help

Without --json, stdout holds the KeyId and a line on stderr tells where the private key went.

";

/// The exit-code section of `create --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 created and the private key written; 1 the API refused (e.g.
InvalidKeyPairName.Duplicate, InvalidKeyPair.LimitExceeded); 2 usage error or invalid input
(a bad name or tag, a PATH that exists or cannot be created), nothing sent; 3 credentials,
authentication or configuration; 4 no answer from the API (the key pair may exist: see
above); 5 the private key could not be written (the key pair exists: delete it), or the
output could not be written to stdout (the key pair and its key file are fine).
";

/// Where the private key goes.
#[derive(Debug)]
enum Target {
    Stdout,
    File(PathBuf),
}

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    connection: Connection,
    name: String,
    target: Target,
    project_id: u64,
    tags: Vec<(String, String)>,
    json: bool,
}

/// Runs `create` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let mut o = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{EXIT_HELP}", connect::OPTIONS_HELP)),
        Err(e) => return crate::command_usage_error("create", &e, json),
    };
    let action =
        CreateKeyPair::new(&o.name).and_then(|a| a.with_project_id(o.project_id).with_tags(o.tags.clone()));
    let action = match action {
        Ok(action) => action,
        Err(e) => return crate::invalid(&e, o.json),
    };
    o.connection.send_once();
    let client = match o.connection.client(o.json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let mut sink = match Sink::open(o.target) {
        Ok(sink) => sink,
        Err(why) => return crate::refuse("InvalidInput", &why, o.json),
    };
    let created = match client.execute_retrying(&action) {
        Ok(created) => created,
        Err(e) => {
            sink.discard();
            return unanswered(&e, &o.name, o.json);
        }
    };
    match sink.write(created.private_key.expose_secret()) {
        Ok(()) => report(&created, &sink, o.json),
        Err(why) => lost(&created, &why, o.json),
    }
}

fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let (mut connection, mut name, mut target) = (Connection::default(), None, None);
    let (mut project_id, mut tags, mut json) = (0, Vec::new(), false);
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(p) if name.is_none() => name = Some(p),
            Arg::Positional(p) => {
                return Err(UsageError(format!("unexpected argument {p:?}: give one NAME")))
            }
            Arg::Option(option) => match option.as_str() {
                "h" | "help" => return Ok(None),
                "json" => json = true,
                "private-key-out" => {
                    target = Some(match args.value(&option)?.as_str() {
                        "-" => Target::Stdout,
                        path => Target::File(path.into()),
                    })
                }
                "project-id" => project_id = args.parsed(&option, "a project id (0 or more)")?,
                "tag" => tags.push(args.tag(&option)?),
                _ if connection.take(&option, &mut args)? => {}
                _ => return Err(unknown_option("create", &option)),
            },
        }
    }
    let name = name.ok_or_else(|| UsageError("give the NAME of the key pair to create".into()))?;
    let target = target.ok_or_else(|| {
        UsageError("--private-key-out is required: a new file for the private key, or `-` for stdout".into())
    })?;
    if json && matches!(target, Target::Stdout) {
        return Err(UsageError(
            "--json does not go with --private-key-out -: stdout holds the private key".into(),
        ));
    }
    Ok(Some(Options { connection, name, target, project_id, tags, json }))
}

/// The private key's destination, opened before anything is sent.
enum Sink {
    Stdout,
    File { file: File, path: PathBuf },
}

impl Sink {
    /// Creates the file (never one that exists), readable and writable by its owner only.
    fn open(target: Target) -> Result<Sink, String> {
        let path = match target {
            Target::Stdout => return Ok(Sink::Stdout),
            Target::File(path) => path,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let shown = shown(&path);
        match options.open(&path) {
            Ok(file) => Ok(Sink::File { file, path }),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(format!(
                "{shown} exists: the private key goes only to a new file (give another path, or remove it)"
            )),
            Err(e) => Err(format!("cannot create {shown} for the private key: {e}")),
        }
    }

    /// Removes the file again: no key pair was made.
    fn discard(self) {
        if let Sink::File { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Writes `key`, exactly, and syncs it to disk. A file that could not be written whole is
    /// removed, since it may hold part of the key. (Closing after a sync reports nothing more
    /// on the file systems where it could, so the sync's result is the one checked.)
    fn write(&mut self, key: &str) -> Result<(), String> {
        match self {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(key.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("stdout: {e}"))
            }
            Sink::File { file, path } => {
                let Err(e) = file.write_all(key.as_bytes()).and_then(|()| file.sync_all()) else {
                    return Ok(());
                };
                Err(match std::fs::remove_file(&*path) {
                    Ok(()) => format!("{}: {e} (the file was removed)", shown(path)),
                    Err(removal) => format!(
                        "{}: {e}; it may hold part of the private key and could not be removed ({removal}): \
                         remove it",
                        shown(path)
                    ),
                })
            }
        }
    }
}

fn shown(path: &std::path::Path) -> String {
    format!("\"{}\"", for_people(&path.to_string_lossy()))
}

/// Ends a run whose CreateKeyPair failed with `error`: when no answer came, the key pair may
/// exist all the same.
fn unanswered(error: &Error, name: &str, json: bool) -> u8 {
    let code = crate::fail(error, json);
    if connect::may_have_taken_effect(error) {
        eprintln!(
            "note: without an answer, key pair {name} may have been created all the same, its private key \
             lost: look with `cvm-keypairs describe --name {name}` and delete it if it is there"
        );
    }
    code
}

/// Ends a run whose key pair was made but whose private key could not be written.
fn lost(created: &CreateKeyPairOutput, why: &str, json: bool) -> u8 {
    let id = created.key_pair.key_id;
    let message = format!(
        "key pair {id} ({}) was created, but its private key could not be written to {why}. The API gives \
         a private key only once, so it is lost and the key pair cannot be used: delete it \
         (`cvm-keypairs delete {id}`) and create another",
        created.key_pair.key_name
    );
    eprintln!("error: {}", for_people(&message));
    if json {
        output::print_json(&json!({"error": {"code": "PrivateKeyNotWritten", "message": message,
                                             "request_id": created.request_id, "key_id": id}}));
    }
    exit::OUTPUT
}

/// Tells what was made, and where its private key went.
fn report(created: &CreateKeyPairOutput, sink: &Sink, json: bool) -> u8 {
    let k = &created.key_pair;
    let went = match sink {
        Sink::Stdout => "went to stdout".to_owned(),
        Sink::File { path, .. } => format!("is in {} (mode 0600)", shown(path)),
    };
    if json {
        output::print_json(&json!({"key_id": k.key_id, "key_name": k.key_name, "project_id": k.project_id,
                                   "public_key": k.public_key, "request_id": created.request_id}));
    } else if let Sink::File { .. } = sink {
        output::print(&format!("{}\n", k.key_id));
    }
    eprintln!(
        "created key pair {} ({}) in project {}; its private key {went} (RequestId {})",
        k.key_id,
        for_people(&k.key_name),
        k.project_id,
        for_people(&created.request_id)
    );
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Option<Options>, UsageError> {
        parse(Args::new(list.iter().map(|s| s.to_string())))
    }

    #[test]
    fn name_target_project_and_tags_are_taken() {
        let o = parse_list(&["--tag", "env=ci", "ci_1", "--private-key-out", "k.pem", "--project-id=7"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.name.as_str(), o.project_id, &o.tags[..]),
            ("ci_1", 7, &[("env".into(), "ci".into())][..])
        );
        assert!(matches!(o.target, Target::File(ref p) if p.as_os_str() == "k.pem"));
        let o = parse_list(&["ci_1", "--private-key-out", "-"]).unwrap().unwrap();
        assert!(matches!(o.target, Target::Stdout) && !o.json && o.project_id == 0);
    }

    #[test]
    fn usage_errors() {
        for (list, message) in [
            (&["--private-key-out", "k"][..], "give the NAME"),
            (&["ci_1"][..], "--private-key-out is required"),
            (&["ci_1", "ci_2", "--private-key-out", "k"][..], "unexpected argument \"ci_2\""),
            (
                &["ci_1", "--private-key-out", "-", "--json"][..],
                "--json does not go with --private-key-out -",
            ),
            (&["ci_1", "--private-key-out", "k", "--project-id", "x"][..], "--project-id takes a project id"),
            (&["ci_1", "--private-key-out", "k", "--tag", "env"][..], "--tag takes KEY=VALUE"),
            (&["ci_1", "--private-key-out"][..], "--private-key-out needs a value"),
        ] {
            let error = parse_list(list).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
    }
}
