//! `cvm-keypairs modify`: rename a key pair, or change its description.

use cvm_keypairs::ModifyKeyPairAttribute;
use serde_json::json;

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::output::{self, for_people};

pub const HELP: &str = "\
Rename a key pair, or change its description.

Usage: cvm-keypairs modify [OPTIONS] <KEY_ID> [--name <NAME>] [--description <TEXT>]

At least one of --name and --description is needed (exit 2 otherwise). Everything is checked
before anything is sent (exit 2): the id, the name (1 to 25 of A-Z, a-z, 0-9 and _) and the
description (at most 60 characters; empty clears it). ModifyKeyPairAttribute is retried after a
transient failure, as setting the same values again changes nothing.

Options:
  --name <NAME>              The new name, unique in the account
  --description <TEXT>       The new description
  --json                     Print one line of JSON on stdout: {\"key_id\",\"request_id\"} when
                             modified (exit 0); {\"error\":{\"code\",\"message\",\"request_id\"}}
                             otherwise
  -h, --help                 Print this help

";

/// The exit-code section of `modify --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 modified; 1 the API refused (e.g. InvalidKeyPairId.NotFound,
InvalidKeyPairName.Duplicate); 2 usage error or invalid input, nothing sent; 3 credentials,
authentication or configuration; 4 no answer from the API, after the retries; 5 the output
could not be written to stdout.
";

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    connection: Connection,
    key_id: String,
    name: Option<String>,
    description: Option<String>,
    json: bool,
}

/// Runs `modify` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let o = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{EXIT_HELP}", connect::OPTIONS_HELP)),
        Err(e) => return crate::command_usage_error("modify", &e, json),
    };
    let action = match ModifyKeyPairAttribute::new(&o.key_id, o.name.as_deref(), o.description.as_deref()) {
        Ok(action) => action,
        Err(e) => return crate::invalid(&e, o.json),
    };
    let client = match o.connection.client(o.json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let receipt = match client.execute_retrying(&action) {
        Ok(receipt) => receipt,
        Err(e) => return crate::fail(&e, o.json),
    };
    if o.json {
        output::print_json(&json!({"key_id": o.key_id, "request_id": receipt.request_id}));
    } else {
        let mut changes = Vec::new();
        changes.extend(o.name.as_ref().map(|name| format!("name {name}")));
        changes.extend(o.description.as_ref().map(|text| format!("description \"{}\"", for_people(text))));
        output::print(&format!(
            "modified {}: {} (RequestId {})\n",
            o.key_id,
            changes.join(", "),
            for_people(&receipt.request_id)
        ));
    }
    exit::OK
}

fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut o = Options::default();
    let mut key_id = None;
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(p) if key_id.is_none() => key_id = Some(p),
            Arg::Positional(p) => {
                return Err(UsageError(format!("unexpected argument {p:?}: give one KEY_ID")))
            }
            Arg::Option(option) => match option.as_str() {
                "h" | "help" => return Ok(None),
                "json" => o.json = true,
                "name" => o.name = Some(args.value(&option)?),
                "description" => o.description = Some(args.value(&option)?),
                _ if o.connection.take(&option, &mut args)? => {}
                _ => return Err(unknown_option("modify", &option)),
            },
        }
    }
    o.key_id = key_id.ok_or_else(|| UsageError("give the KEY_ID of the key pair to modify".into()))?;
    if o.name.is_none() && o.description.is_none() {
        return Err(UsageError("give --name, --description or both: there is nothing to change".into()));
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors() {
        for (list, message) in [
            (&["--name", "x"][..], "give the KEY_ID"),
            (&["skey-aaaaaaaa"][..], "give --name, --description or both"),
            (&["skey-aaaaaaaa", "skey-bbbbbbbb", "--name", "x"][..], "unexpected argument \"skey-bbbbbbbb\""),
        ] {
            let error = parse(Args::new(list.iter().map(|s| s.to_string()))).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
        let o = parse(Args::new(["skey-aaaaaaaa", "--description", ""].map(String::from))).unwrap().unwrap();
        assert_eq!((o.name, o.description.as_deref()), (None, Some("")), "an empty description clears it");
    }
}
