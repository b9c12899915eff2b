//! `cvm-keypairs describe`: list every key pair (all pages), or the ones with the given ids.

use std::io::{self, Write};

use cvm_keypairs::actions::describe_key_pairs::MAX_LIMIT;
use cvm_keypairs::{key_id, Client, DescribeKeyPairs, Error, KeyId, KeyPair};
use serde_json::{json, Value};

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;

pub const HELP: &str = "\
List CVM key pairs: all of them (every page), or those with the given ids.

Usage: cvm-keypairs describe [OPTIONS] [KEY_ID]...

Options:
  --json                     Print one JSON object on stdout:
                             {\"key_pairs\":[{\"KeyId\",\"KeyName\",\"ProjectId\",\"Description\",
                             \"AssociatedInstanceIds\",\"CreatedTime\",\"Tags\"}],\"not_found\":[ids]}
                             (not_found: the ids asked for that do not exist)
  -h, --help                 Print this help

";

/// The exit-code section of `describe --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 listed (ids that do not exist are reported, not an error); 1 the API answered
with an error; 2 usage error or malformed id, nothing sent; 3 credentials, authentication or
configuration; 4 network or transport failure.
";

/// Runs `describe` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let (connection, ids, json) = match parse(Args::new(args)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{}", connect::OPTIONS_HELP, EXIT_HELP)),
        Err(e) => return crate::command_usage_error("describe", &e),
    };
    let mut ids = match key_id::parse_all(ids.iter().map(String::as_str)) {
        Ok(ids) => ids,
        Err(e) => {
            eprintln!("error: {e}\nNothing was sent.");
            return exit::USAGE;
        }
    };
    key_id::dedup(&mut ids);
    let result = connection.client().and_then(|client| list(&client, &ids));
    match result {
        Ok(key_pairs) => {
            print(&key_pairs, &ids, json);
            exit::OK
        }
        Err(e) => {
            connect::report_error(&e);
            if json {
                crate::print_json(&crate::error_json(&e));
            }
            connect::exit_code(&e)
        }
    }
}

fn parse(mut args: Args) -> Result<Option<(Connection, Vec<String>, bool)>, UsageError> {
    let (mut connection, mut ids, mut json) = (Connection::default(), Vec::new(), false);
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(id) => ids.push(id),
            Arg::Option(name) => match name.as_str() {
                "h" | "help" => return Ok(None),
                "json" => json = true,
                _ if connection.take(&name, &mut args)? => {}
                _ => return Err(unknown_option("describe", &name)),
            },
        }
    }
    Ok(Some((connection, ids, json)))
}

/// Every key pair, or those of `ids` that exist (asked 100 ids at a time).
pub fn list(client: &Client, ids: &[KeyId]) -> Result<Vec<KeyPair>, Error> {
    if ids.is_empty() {
        return Ok(client.describe_all_key_pairs(&DescribeKeyPairs::all())?.key_pairs);
    }
    let mut found = Vec::new();
    for chunk in ids.chunks(MAX_LIMIT as usize) {
        found.extend(
            client.describe_all_key_pairs(&DescribeKeyPairs::by_ids(chunk.iter().copied())?)?.key_pairs,
        );
    }
    Ok(found)
}

/// Prints `key_pairs` as a table (or JSON), and the ids asked for that were not found.
pub fn print(key_pairs: &[KeyPair], asked: &[KeyId], json: bool) {
    let not_found: Vec<&KeyId> =
        asked.iter().filter(|id| !key_pairs.iter().any(|k| k.key_id == **id)).collect();
    let mut out = io::stdout().lock();
    if json {
        let object = json!({
            "key_pairs": key_pairs.iter().map(key_pair_json).collect::<Vec<_>>(),
            "not_found": not_found.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        });
        let _ = writeln!(out, "{object}");
        return;
    }
    let _ = write_table(&mut out, key_pairs, &not_found);
    let _ = out.flush();
}

fn write_table(out: &mut impl Write, key_pairs: &[KeyPair], not_found: &[&KeyId]) -> io::Result<()> {
    if !key_pairs.is_empty() {
        let name_width = key_pairs.iter().map(|k| k.key_name.chars().count()).max().unwrap_or(0).max(4);
        writeln!(
            out,
            "{:<13}  {:<name_width$}  {:>7}  {:<20}  INSTANCES",
            "KEY ID", "NAME", "PROJECT", "CREATED"
        )?;
        for k in key_pairs {
            let instances = if k.associated_instance_ids.is_empty() {
                "-".to_owned()
            } else {
                k.associated_instance_ids.join(",")
            };
            writeln!(
                out,
                "{:<13}  {:<name_width$}  {:>7}  {:<20}  {instances}",
                k.key_id.as_str(),
                k.key_name,
                k.project_id,
                k.created_time
            )?;
        }
    }
    writeln!(out, "{} key pair(s)", key_pairs.len())?;
    for id in not_found {
        writeln!(out, "not found: {id}")?;
    }
    Ok(())
}

fn key_pair_json(k: &KeyPair) -> Value {
    json!({
        "KeyId": k.key_id.as_str(),
        "KeyName": k.key_name,
        "ProjectId": k.project_id,
        "Description": k.description,
        "AssociatedInstanceIds": k.associated_instance_ids,
        "CreatedTime": k.created_time,
        "Tags": k.tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
    })
}
