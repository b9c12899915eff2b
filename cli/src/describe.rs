//! `cvm-keypairs describe`: list every key pair (all pages), the ones with the given ids, or
//! those the selectors choose; as a table, JSON, or ids for a pipeline.

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
use crate::select::{self, Selector};

pub const HELP: &str = "\
List CVM key pairs: all of them (every page), those with the given ids, or those the
selectors choose.

Usage: cvm-keypairs describe [OPTIONS] [KEY_ID]...
       cvm-keypairs describe [OPTIONS] [KEY_ID]... -     (`-`: more ids from stdin)
       cvm-keypairs describe [OPTIONS] [SELECTORS]       (e.g. --name 'ci_*' --older-than 1d)

Ids from stdin are read as by `delete` (whitespace-separated, `#` comments, at most 100000
ids and 16 MiB). Stdin holding no id at all lists nothing (not every key pair): exit 0 with
an empty list and nothing sent. Ids and selectors do not go together (exit 2).

Of the ids given, those not listed are reported as not found only when the API's answer was
complete. When it counted more key pairs than it returned, they are unknown instead (a line
`unknown: <KEY_ID> (the API's answer was incomplete)` each, or the JSON list unknown), and
the exit code is 1; so is it when a listing of all key pairs, or of a selection, is
incomplete (stderr says so).

Options:
  --output <FORMAT>          table: a table for people, with each key pair's tags and
                             instances; json: as --json; ids: one KeyId a line and nothing
                             else, for `| cvm-keypairs delete -` (not found and unknown ids are
                             told on stderr) [default: table]
  --json                     --output json: exactly one line of JSON on stdout, whatever the
                             outcome:
                             {\"key_pairs\":[{\"KeyId\",\"KeyName\",\"ProjectId\",\"Description\",
                             \"PublicKey\",\"AssociatedInstanceIds\",\"CreatedTime\",
                             \"Tags\":[{\"Key\",\"Value\"}]}],\"not_found\":[ids],\"unknown\":[ids],
                             \"complete\":bool} when listed (exit 0, or 1 when complete is
                             false); {\"error\":{\"code\",\"message\",\"request_id\"}} otherwise
                             (exit 1 to 4, codes as in `delete --help`); exit 5: the line is
                             missing or cut short
  -h, --help                 Print this help

";

/// The exit-code section of `describe --help`.
pub const EXIT_HELP: &str = "
Exit codes: 0 listed (ids that do not exist are reported, not an error); 1 the API answered
with an error, or so incompletely that some ids given are unknown or the listing may miss
key pairs; 2 usage error or malformed id, nothing sent; 3 credentials, authentication or
configuration; 4 network or transport failure; 5 the list could not be written to stdout.
A reader that stops reading early (`| head`) is not an error: the exit code is the run's own.
";

/// How the listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// A table for people.
    #[default]
    Table,
    /// One line of JSON.
    Json,
    /// One KeyId a line.
    Ids,
}

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    connection: Connection,
    ids: Ids,
    selector: Selector,
    output: Option<Output>,
}

/// Runs `describe` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args) || wants_json_output(&args);
    let options = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            return crate::print_text(&format!(
                "{HELP}{}{}{}{EXIT_HELP}",
                select::HELP,
                connect::OPTIONS_HELP,
                connect::NOTES_HELP
            ))
        }
        Err(e) => return crate::command_usage_error("describe", &e, json),
    };
    let output = options.output.unwrap_or_default();
    let json = output == Output::Json;
    let from_stdin = options.ids.reads_stdin();
    let ids = match options.ids.resolve(io::stdin().lock(), json) {
        Ok(ids) => ids,
        Err(code) => return code,
    };
    if from_stdin && ids.is_empty() {
        // No ids at all would mean every key pair: stdin without ids asks for none.
        print(&Listing { complete: true, ..Listing::default() }, &[], output);
        return exit::OK;
    }
    let client = match options.connection.client(json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    match list(&client, &ids, &options.selector) {
        Ok(listing) => {
            print(&listing, &ids, output);
            if listing.complete {
                exit::OK
            } else {
                exit::FAILED
            }
        }
        Err(e) => crate::fail(&e, json),
    }
}

/// Whether `--output json` is among `args` (before any `--`), as [`crate::wants_json`].
fn wants_json_output(args: &[String]) -> bool {
    let options: Vec<&String> = args.iter().take_while(|a| *a != "--").collect();
    options.windows(2).any(|pair| pair[0] == "--output" && pair[1] == "json")
        || options.iter().any(|a| *a == "--output=json")
}

fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut o = Options::default();
    let mut json = false;
    while let Some(arg) = args.next_arg()? {
        match arg {
            Arg::Positional(id) => o.ids.take(id)?,
            Arg::Option(name) => match name.as_str() {
                "h" | "help" => return Ok(None),
                "json" => json = true,
                "output" => {
                    o.output = Some(match args.value(&name)?.as_str() {
                        "table" => Output::Table,
                        "json" => Output::Json,
                        "ids" => Output::Ids,
                        other => {
                            return Err(UsageError(format!(
                                "--output takes table, json or ids, not {other:?}"
                            )))
                        }
                    })
                }
                _ if o.selector.take(&name, &mut args)? => {}
                _ if o.connection.take(&name, &mut args)? => {}
                _ => return Err(unknown_option("describe", &name)),
            },
        }
    }
    if json && o.output.is_some_and(|output| output != Output::Json) {
        return Err(UsageError("--json is --output json: give one output format".into()));
    }
    if json {
        o.output = Some(Output::Json);
    }
    if !o.selector.is_empty() && !o.ids.none_given() {
        return Err(UsageError(
            "give key pair ids or selectors (--name, --exclude-name, --older-than, --tag, --project-id), not both"
                .into(),
        ));
    }
    Ok(Some(o))
}

/// What a listing found: the key pairs, the ids asked for whose absence it cannot tell
/// because the API counted more key pairs than it returned for them, and whether it is
/// complete.
#[derive(Debug, Default)]
pub struct Listing {
    /// The key pairs listed.
    pub key_pairs: Vec<KeyPair>,
    /// The ids asked for that are neither listed nor proven absent.
    unknown: Vec<KeyId>,
    /// Whether the API returned every key pair it counted.
    complete: bool,
}

/// Those of `ids` that exist (asked 100 ids at a time), or when there are none the key pairs
/// `selector` selects (every key pair, with no selector); a selection's warnings go to stderr.
pub fn list(client: &Client, ids: &[KeyId], selector: &Selector) -> Result<Listing, Error> {
    if ids.is_empty() {
        let selection = selector.select(client, crate::delete::now())?;
        selection.warn();
        return Ok(Listing {
            key_pairs: selection.key_pairs,
            unknown: Vec::new(),
            complete: selection.complete,
        });
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
    listing.complete = listing.unknown.is_empty();
    Ok(listing)
}

/// Prints the key pairs listed as `output` says, and the ids asked for that were not found
/// or are unknown (on stderr with [`Output::Ids`], so stdout holds only ids).
pub fn print(listing: &Listing, asked: &[KeyId], output: Output) {
    let listed_or_unknown: HashSet<&KeyId> =
        listing.key_pairs.iter().map(|k| &k.key_id).chain(&listing.unknown).collect();
    let not_found: Vec<&KeyId> = asked.iter().filter(|id| !listed_or_unknown.contains(id)).collect();
    match output {
        Output::Json => output::print_json_text(json_text(listing, &not_found)),
        Output::Table => output::print(&table(listing, &not_found)),
        Output::Ids => {
            let mut ids = String::new();
            for k in &listing.key_pairs {
                let _ = writeln!(ids, "{}", k.key_id);
            }
            output::print(&ids);
            eprint!("{}", absent(listing, &not_found));
        }
    }
}

/// The one line of `--json`, each key pair as the library serialises it.
fn json_text(listing: &Listing, not_found: &[&KeyId]) -> serde_json::Result<String> {
    Ok(format!(
        r#"{{"key_pairs":{},"not_found":{},"unknown":{},"complete":{}}}"#,
        serde_json::to_string(&listing.key_pairs)?,
        serde_json::to_string(not_found)?,
        serde_json::to_string(&listing.unknown)?,
        listing.complete
    ))
}

/// A line for each id not found, and each unknown one.
fn absent(listing: &Listing, not_found: &[&KeyId]) -> String {
    let mut out = String::new();
    for id in not_found {
        let _ = writeln!(out, "not found: {id}");
    }
    for id in &listing.unknown {
        let _ = writeln!(out, "unknown: {id} (the API's answer was incomplete)");
    }
    out
}

/// The table for people, text from the API escaped.
fn table(listing: &Listing, not_found: &[&KeyId]) -> String {
    let key_pairs = &listing.key_pairs;
    let mut out = String::new();
    if !key_pairs.is_empty() {
        let rows: Vec<[Cow<'_, str>; 4]> = key_pairs
            .iter()
            .map(|k| {
                let tags: Vec<String> = k.tags.iter().map(|t| format!("{}={}", t.key, t.value)).collect();
                let tags =
                    if tags.is_empty() { "-".into() } else { for_people(&tags.join(",")).into_owned() };
                let instances = select::instances(&k.associated_instance_ids);
                [for_people(&k.key_name), for_people(&k.created_time), instances.into(), tags.into()]
            })
            .collect();
        let width = |column: usize, title: &str| {
            rows.iter().map(|row| row[column].chars().count()).max().unwrap_or(0).max(title.len())
        };
        let (name_width, instances_width) = (width(0, "NAME"), width(2, "INSTANCES"));
        let _ = writeln!(
            out,
            "{:<13}  {:<name_width$}  {:>7}  {:<20}  {:<instances_width$}  TAGS",
            "KEY ID", "NAME", "PROJECT", "CREATED", "INSTANCES"
        );
        for (k, [name, created, instances, tags]) in key_pairs.iter().zip(&rows) {
            let _ = writeln!(
                out,
                "{:<13}  {name:<name_width$}  {:>7}  {created:<20}  {instances:<instances_width$}  {tags}",
                k.key_id.as_ref() as &str,
                k.project_id,
            );
        }
    }
    let _ = writeln!(out, "{}", count(key_pairs.len(), "key pair"));
    out.push_str(&absent(listing, not_found));
    out
}
