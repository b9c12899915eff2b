//! `cvm-keypairs import`: register a public key made elsewhere (e.g. by `ssh-keygen`) as a key
//! pair. The key is read from a regular file or stdin, bounded in size, and checked by the
//! library before anything is sent.

use std::io::{self, Read};

use cvm_keypairs::ImportKeyPair;
use serde_json::json;

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::output::{self, for_people};

pub const HELP: &str = "\
Import a public key made elsewhere (e.g. by ssh-keygen) as a key pair.

Usage: cvm-keypairs import [OPTIONS] <NAME> --public-key <PATH|->

NAME is 1 to 25 of A-Z, a-z, 0-9 and _, unique in the account. The public key is the text of
an OpenSSH .pub file, read from PATH (a regular file: a FIFO or a device is refused) or, with
`-`, from stdin; at most 16 KiB is read, and more is refused. It must be one line
`TYPE BASE64 [comment]` (surrounding whitespace and the final newline are dropped), TYPE one of
ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 and ecdsa-sha2-nistp521, and
BASE64 a key of that type. Anything else is refused (exit 2) and nothing is sent.

ImportKeyPair is sent once, whatever --max-retries says (a retry after a lost answer would be
refused as a duplicate of the key pair the first request made); only a throttled answer,
RequestLimitExceeded, which the API gives without doing anything, is waited out and the request
sent again. When no answer came (exit 4) the key pair
may exist: look with `cvm-keypairs describe --name NAME`.

Options:
  --public-key <PATH|->      The public key: a file, or `-` for stdin (required)
  --project-id <N>           The project [default: 0, the default project]
  --tag <KEY=VALUE>          A tag on the key pair; repeatable (at most 50, each key once)
  --json                     Print one line of JSON on stdout:
                             {\"key_id\",\"key_name\",\"request_id\"} when imported (exit 0);
                             {\"error\":{\"code\",\"message\",\"request_id\"}} otherwise
  -h, --help                 Print this help

Without --json, stdout holds the KeyId.

";

/// The exit-code section of `import --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 imported; 1 the API refused (e.g. InvalidKeyPairName.Duplicate,
InvalidPublicKey.Duplicate, InvalidKeyPair.LimitExceeded); 2 usage error or invalid input (a
bad name, tag or public key, or one that cannot be read), nothing sent; 3 credentials,
authentication or configuration; 4 no answer from the API; 5 the output could not be written
to stdout.
";

/// The most bytes of public key read: a 16,384-bit RSA key, the largest OpenSSH makes, takes
/// under 3 KiB.
const MAX_BYTES: u64 = 16 << 10;

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    connection: Connection,
    name: String,
    public_key: String,
    project_id: u64,
    tags: Vec<(String, String)>,
    json: bool,
}

/// Runs `import` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let mut o = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{EXIT_HELP}", connect::OPTIONS_HELP)),
        Err(e) => return crate::command_usage_error("import", &e, json),
    };
    let public_key = match read_public_key(&o.public_key) {
        Ok(key) => key,
        Err(why) => return crate::refuse("InvalidInput", &why, o.json),
    };
    let action = ImportKeyPair::new(&o.name, &public_key)
        .and_then(|a| a.with_project_id(o.project_id).with_tags(o.tags.clone()));
    let action = match action {
        Ok(action) => action,
        Err(e) => return crate::invalid(&e, o.json),
    };
    o.connection.send_once();
    let client = match o.connection.client(o.json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let imported = match client.execute_retrying(&action) {
        Ok(imported) => imported,
        Err(e) => {
            let code = crate::fail(&e, o.json);
            if connect::may_have_taken_effect(&e) {
                eprintln!(
                    "note: without an answer, key pair {} may have been imported all the same: look with \
                     `cvm-keypairs describe --name {}`",
                    o.name, o.name
                );
            }
            return code;
        }
    };
    if o.json {
        output::print_json(
            &json!({"key_id": imported.key_id, "key_name": o.name, "request_id": imported.request_id}),
        );
    } else {
        output::print(&format!("{}\n", imported.key_id));
    }
    eprintln!(
        "imported the public key as key pair {} ({}) (RequestId {})",
        imported.key_id,
        o.name,
        for_people(&imported.request_id)
    );
    exit::OK
}

fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let (mut connection, mut name, mut public_key) = (Connection::default(), None, None);
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
                "public-key" => public_key = Some(args.value(&option)?),
                "project-id" => project_id = args.parsed(&option, "a project id (0 or more)")?,
                "tag" => tags.push(args.tag(&option)?),
                _ if connection.take(&option, &mut args)? => {}
                _ => return Err(unknown_option("import", &option)),
            },
        }
    }
    let name = name.ok_or_else(|| UsageError("give the NAME of the key pair to import".into()))?;
    let public_key = public_key
        .ok_or_else(|| UsageError("--public-key is required: the .pub file, or `-` for stdin".into()))?;
    Ok(Some(Options { connection, name, public_key, project_id, tags, json }))
}

/// The text of the public key at `source` (`-`: stdin), or why it cannot be read.
fn read_public_key(source: &str) -> Result<String, String> {
    if source == "-" {
        return read_bounded(io::stdin().lock(), "stdin");
    }
    let shown = format!("\"{}\"", for_people(source));
    let unreadable = |e: io::Error| format!("cannot read the public key {shown}: {e}");
    // A FIFO or a device could block or never end: only a regular file is read.
    if !std::fs::metadata(source).map_err(unreadable)?.is_file() {
        return Err(format!("the public key {shown} is not a regular file"));
    }
    read_bounded(std::fs::File::open(source).map_err(unreadable)?, &shown)
}

/// At most [`MAX_BYTES`] of UTF-8 text from `input`.
fn read_bounded(input: impl Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    input
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the public key from {what}: {e}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("{what} holds more than 16 KiB: not a public key, which is one line"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text, so not a public key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_bounded_and_must_be_text() {
        assert_eq!(read_bounded(&b"ssh-ed25519 AAAA x\n"[..], "stdin").unwrap(), "ssh-ed25519 AAAA x\n");
        let most = vec![b'a'; MAX_BYTES as usize];
        assert_eq!(read_bounded(&most[..], "stdin").unwrap().len(), most.len());
        let more = vec![b'a'; MAX_BYTES as usize + 1];
        assert_eq!(
            read_bounded(&more[..], "stdin").unwrap_err(),
            "stdin holds more than 16 KiB: not a public key, which is one line"
        );
        assert!(read_bounded(&b"\xff\xfe"[..], "stdin").unwrap_err().contains("not UTF-8"));
        assert!(read_public_key("/").unwrap_err().contains("is not a regular file"));
        assert!(read_public_key("/nonexistent/id.pub")
            .unwrap_err()
            .starts_with("cannot read the public key"));
    }

    #[test]
    fn usage_errors() {
        for (list, message) in [
            (&["--public-key", "k.pub"][..], "give the NAME"),
            (&["ci_1"][..], "--public-key is required"),
            (&["ci_1", "x", "--public-key", "-"][..], "unexpected argument \"x\""),
            (&["ci_1", "--public-key", "-", "--frobnicate"][..], "unknown option --frobnicate"),
        ] {
            let error = parse(Args::new(list.iter().map(|s| s.to_string()))).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
    }
}
