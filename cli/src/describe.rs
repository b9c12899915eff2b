//! `cvm-keypairs describe`: list every key pair (all pages), or the ones with the given ids.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;

use cvm_keypairs::{Client, DescribeKeyPairs, Error, KeyId, KeyPair};

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::ids::{Ids, PER_REQUEST};
use crate::output::{self, count, for_people};

pub const HELP: &str = "\
List CVM key pairs: all of them (every page), or those with the given ids.

Usage: cvm-keypairs describe [OPTIONS] [KEY_ID]...
       cvm-keypairs describe [OPTIONS] [KEY_ID]... -     (`-`: more ids from stdin)

Ids from stdin are read as by `delete` (whitespace-separated, `#` comments, at most 100000
ids and 16 MiB). Stdin holding no id at all lists nothing (not every key pair): exit 0 with
an empty list and nothing sent.

Of the ids given, those not listed are reported as not found only when the API's answer was
complete. When it counted more key pairs than it returned, they are unknown instead (a line
`unknown: <KEY_ID> (the API's answer was incomplete)` each, or the JSON list unknown), and
the exit code is 1.

Options:
  --json                     Print exactly one line of JSON on stdout, whatever the outcome:
                             {\"key_pairs\":[{\"KeyId\",\"KeyName\",\"ProjectId\",\"Description\",
                             \"PublicKey\",\"AssociatedInstanceIds\",\"CreatedTime\",
                             \"Tags\":[{\"Key\",\"Value\"}]}],\"not_found\":[ids],\"unknown\":[ids]}
                             when listed (exit 0, or 1 when unknown is not empty);
                             {\"error\":{\"code\",\"message\",\"request_id\"}} otherwise (exit 1 to
                             4, codes as in `delete --help`); exit 5: the line is missing or
                             cut short
  -h, --help                 Print this help

";

/// The exit-code section of `describe --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 listed (ids that do not exist are reported, not an error); 1 the API answered
with an error, or so incompletely that some ids given are unknown; 2 usage error or
malformed id, nothing sent; 3 credentials, authentication or configuration; 4 network or
transport failure; 5 the list could not be written to stdout.
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
        print(&Listing::default(), &[], json);
        return exit::OK;
    }
    let client = match connection.client(json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    match list(&client, &ids) {
        Ok(listing) => {
            print(&listing, &ids, json);
            if listing.unknown.is_empty() {
                exit::OK
            } else {
                exit::FAILED
            }
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

/// What a listing found: the key pairs, and the ids asked for whose absence it cannot tell
/// because the API counted more key pairs than it returned for them.
#[derive(Debug, Default)]
pub struct Listing {
    /// The key pairs listed.
    pub key_pairs: Vec<KeyPair>,
    /// The ids asked for that are neither listed nor proven absent.
    unknown: Vec<KeyId>,
}

/// Every key pair, or those of `ids` that exist (asked 100 ids at a time).
pub fn list(client: &Client, ids: &[KeyId]) -> Result<Listing, Error> {
    if ids.is_empty() {
        let key_pairs = client.describe_all_key_pairs(&DescribeKeyPairs::all())?.key_pairs;
        return Ok(Listing { key_pairs, unknown: Vec::new() });
    }
    let mut listing = Listing::default();
    for chunk in ids.chunks(PER_REQUEST) {
        let found = client.describe_all_key_pairs(&DescribeKeyPairs::by_ids(chunk)?)?;
        if !found.is_complete() {
            // Missing from an incomplete answer proves nothing: maybe cut, maybe absent.
            let listed: HashSet<&KeyId> = found.key_pairs.iter().map(|k| &k.key_id).collect();
            listing.unknown.extend(chunk.iter().filter(|id| !listed.contains(id)));
        }
        listing.key_pairs.extend(found.key_pairs);
    }
    Ok(listing)
}

/// Prints the key pairs listed as a table (or JSON), and the ids asked for that were not found
/// or are unknown.
pub fn print(listing: &Listing, asked: &[KeyId], json: bool) {
    let listed_or_unknown: HashSet<&KeyId> =
        listing.key_pairs.iter().map(|k| &k.key_id).chain(&listing.unknown).collect();
    let not_found: Vec<&KeyId> = asked.iter().filter(|id| !listed_or_unknown.contains(id)).collect();
    if json {
        output::print_json_text(json_text(listing, &not_found));
    } else {
        output::print(&table(listing, &not_found));
    }
}

/// The one line of `--json`, each key pair as the library serialises it.
fn json_text(listing: &Listing, not_found: &[&KeyId]) -> serde_json::Result<String> {
    Ok(format!(
        r#"{{"key_pairs":{},"not_found":{},"unknown":{}}}"#,
        serde_json::to_string(&listing.key_pairs)?,
        serde_json::to_string(not_found)?,
        serde_json::to_string(&listing.unknown)?
    ))
}

/// The table for people, text from the API escaped.
fn table(listing: &Listing, not_found: &[&KeyId]) -> String {
    let key_pairs = &listing.key_pairs;
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
                k.key_id.as_ref() as &str,
                k.project_id,
            );
        }
    }
    let _ = writeln!(out, "{}", count(key_pairs.len(), "key pair"));
    for id in not_found {
        let _ = writeln!(out, "not found: {id}");
    }
    for id in &listing.unknown {
        let _ = writeln!(out, "unknown: {id} (the API's answer was incomplete)");
    }
    out
}
