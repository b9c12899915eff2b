//! `cvm-keypairs describe`: list every key pair (all pages), or the ones with the given ids.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;

use cvm_keypairs::actions::describe_key_pairs::MAX_LIMIT;
use cvm_keypairs::{Client, DescribeKeyPairs, Error, KeyId, KeyPair};
use serde_json::{json, Value};

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::ids::Ids;
use crate::output::{self, count, for_people};

pub const HELP: &str = "\
List CVM key pairs: all of them (every page), or those with the given ids.

Usage: cvm-keypairs describe [OPTIONS] [KEY_ID]...
       cvm-keypairs describe [OPTIONS] [KEY_ID]... -     (`-`: more ids from stdin)

Ids from stdin are read as by `delete` (whitespace-separated, `#` comments, at most 100000
ids and 16 MiB). Stdin holding no id at all lists nothing (not every key pair): exit 0 with
an empty list and nothing sent.

Options:
  --json                     Print exactly one line of JSON on stdout, whatever the outcome:
                             {\"key_pairs\":[{\"KeyId\",\"KeyName\",\"ProjectId\",\"Description\",
                             \"AssociatedInstanceIds\",\"CreatedTime\",\"Tags\"}],\"not_found\":[ids]}
                             (not_found: the ids asked for that do not exist) when listed
                             (exit 0); {\"error\":{\"code\",\"message\",\"request_id\"}} otherwise
                             (exit 1 to 4, codes as in `delete --help`); exit 5: the line is
                             missing or cut short
  -h, --help                 Print this help

";

/// The exit-code section of `describe --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 listed (ids that do not exist are reported, not an error); 1 the API answered
with an error; 2 usage error or malformed id, nothing sent; 3 credentials, authentication or
configuration; 4 network or transport failure; 5 the list could not be written to stdout.
A reader that stops reading early (`| head`) is not an error: the exit code is the run's own.
";

/// Runs `describe` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let (connection, ids, json) = match parse(Args::new(args)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            return crate::print_text(&format!(
                "{HELP}{}{}{EXIT_HELP}",
                connect::OPTIONS_HELP,
                connect::NOTES_HELP
            ))
        }
        Err(e) => return crate::command_usage_error("describe", &e, json),
    };
    let from_stdin = ids.reads_stdin();
    let ids = match ids.resolve(io::stdin().lock(), json) {
        Ok(ids) => ids,
        Err(code) => return code,
    };
    if from_stdin && ids.is_empty() {
        // No ids at all would mean every key pair: stdin without ids asks for none.
        print(&[], &[], json);
        return exit::OK;
    }
    match connection.client().and_then(|client| list(&client, &ids)) {
        Ok(key_pairs) => {
            print(&key_pairs, &ids, json);
            exit::OK
        }
        Err(e) => crate::fail(&e, json),
    }
}

fn parse(mut args: Args) -> Result<Option<(Connection, Ids, bool)>, UsageError> {
    let (mut connection, mut ids, mut json) = (Connection::default(), Ids::default(), false);
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(id) => ids.take(id)?,
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
    let found: HashSet<&KeyId> = key_pairs.iter().map(|k| &k.key_id).collect();
    let not_found: Vec<&KeyId> = asked.iter().filter(|id| !found.contains(id)).collect();
    if json {
        output::print_json(&json!({
            "key_pairs": key_pairs.iter().map(key_pair_json).collect::<Vec<_>>(),
            "not_found": not_found.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        }));
    } else {
        output::print(&table(key_pairs, &not_found));
    }
}

/// The table for people, text from the API escaped.
fn table(key_pairs: &[KeyPair], not_found: &[&KeyId]) -> String {
    let mut out = String::new();
    if !key_pairs.is_empty() {
        let rows: Vec<[Cow<'_, str>; 3]> = key_pairs
            .iter()
            .map(|k| {
                let instances = if k.associated_instance_ids.is_empty() {
                    "-".into()
                } else {
                    for_people(&k.associated_instance_ids.join(",")).into_owned().into()
                };
                [for_people(&k.key_name), for_people(&k.created_time), instances]
            })
            .collect();
        let name_width = rows.iter().map(|[name, ..]| name.chars().count()).max().unwrap_or(0).max(4);
        let _ = writeln!(
            out,
            "{:<13}  {:<name_width$}  {:>7}  {:<20}  INSTANCES",
            "KEY ID", "NAME", "PROJECT", "CREATED"
        );
        for (k, [name, created, instances]) in key_pairs.iter().zip(&rows) {
            let _ = writeln!(
                out,
                "{:<13}  {name:<name_width$}  {:>7}  {created:<20}  {instances}",
                k.key_id.as_str(),
                k.project_id,
            );
        }
    }
    let _ = writeln!(out, "{}", count(key_pairs.len(), "key pair"));
    for id in not_found {
        let _ = writeln!(out, "not found: {id}");
    }
    out
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
