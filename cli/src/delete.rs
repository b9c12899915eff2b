//! `cvm-keypairs delete`: delete any number of key pairs through the verified batch call, by id
//! or chosen by selectors (planned first), detached from their instances if asked; or print
//! the signed requests without sending them (`--dry-run`).

use std::fmt::Write as _;
use std::io::{self, IsTerminal};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cvm_keypairs::{BatchControl, BatchOptions, Client, DeleteKeyPairs, DeletionReport, HttpRequest, KeyId};
use serde_json::{json, Value};

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::ids::{Ids, PER_REQUEST};
use crate::output::{self, count};
use crate::report;
use crate::select::{self, Selector};
use crate::signals;
use crate::status::Status;

pub const HELP: &str = "\
Delete CVM key pairs, any number of them, and report what became of each.

Usage: cvm-keypairs delete [OPTIONS] <KEY_ID>...
       cvm-keypairs delete [OPTIONS] [KEY_ID]... -     (`-`: more ids from stdin)
       cvm-keypairs delete [OPTIONS] <SELECTORS> [--yes]   (e.g. --name 'ci_*' --older-than 1d)

Every id is checked first (skey- and 8 of 0-9a-z); if any is malformed nothing is sent.
Repeated ids count once. Requests carry up to 100 ids and are paced to the API's limit; a
request failing because of some ids is split so the others are still deleted; afterwards
DescribeKeyPairs confirms each deleted key is gone (a key bound to an instance or image can be
kept silently by the API). A key is called deleted or not found only on DescribeKeyPairs'
complete answer; otherwise it fails as VerificationIncomplete.

Transient failures are retried (--max-retries); throttling (RequestLimitExceeded: the account's
10 requests per second are used up, maybe by another job) is waited out apart from that, at
least 1 s at a time, up to 10 times per request. Keys still failing transiently are checked
again and retried in up to 3 more rounds, 1, 2 and 4 s apart, while a round settles something.
When nothing at all has answered for 60 s (or --timeout, if longer), the run sends nothing
more and the keys left fail with the network error.

While it runs, stderr shows progress after every request, every wait of a second or more with
what it is for, and, whenever nothing was said for 10 s, what the run is still waiting for.
On SIGINT or SIGTERM (Ctrl-C, a CI job cancelled) nothing more is sent: the request in flight
is given 2 s to return, then the report of what was settled is printed, the keys not settled
failed as Interrupted (the message says whether a DeleteKeyPairs had accepted them or was in
flight), and the exit code is 130 or 143.

With selectors instead of ids (listed below), the key pairs they choose are listed first.
Without --yes that list is the plan: a line per key pair (KeyId, name, CreatedTime, instances)
on stdout, and nothing is deleted (exit 0, or 1 when the listing is incomplete). With --yes
the key pairs chosen are deleted and the usual report printed; none chosen is an empty report
(exit 0). Ids and selectors do not go together (exit 2).

A key pair bound to an instance cannot be deleted. With --detach it is first unbound
(DisassociateInstancesKeyPairs, 100 key pairs a request), the run waits (at most 300 s) until
DescribeKeyPairs shows it bound to nothing, then deletes and verifies it. Only stopped
instances are unbound: a key pair bound to a RUNNING one is kept (KeyPairStillBound, the
message naming the running instances) unless --force-stop lets the API stop the instance
first (depending on the API version it then stays stopped or is started again; the report
lists every instance this run force-stopped with its state at the end). A key pair the API
still refuses, e.g. one an image uses, is kept with the API's code and what to do.

Ids from stdin are separated by any whitespace (spaces, tabs, newlines, CRLF); `#` starts a
comment that runs to the end of the line; a UTF-8 byte order mark at the start is skipped.
Stdin holding no id at all is nothing to do, not an error: exit 0 with an empty report and
nothing sent (like `xargs -r`). At most 100000 ids and 16 MiB are read from stdin; a word
longer than 64 bytes, more ids or more input is refused (exit 2) before anything is sent.

Options:
  --json                     Print exactly one line of JSON on stdout, whatever the outcome
                             (the shapes are listed below)
  --no-verify                Trust a successful DeleteKeyPairs without checking with
                             DescribeKeyPairs
  --yes                      With selectors: delete what they choose (without it, print the
                             plan and delete nothing)
  --detach                   Unbind key pairs from their instances first, wait until that
                             shows, then delete them
  --force-stop               With --detach: let the API stop RUNNING instances to unbind them
  --dry-run                  Print each signed request exactly as it would go on the wire
                             (HTTP/1.1, one per 100 ids; X-TC-Token shown as ***) and send
                             nothing. Piped, stdout is the exact byte stream; on a terminal a
                             newline follows each request. With --json, one object instead:
                             {\"requests\":[{\"method\",\"url\",\"headers\":{name:value},\"body\"}]}
  --timestamp <UNIX>         With --dry-run: sign at this time (whole seconds since 1970, 0 to
                             253402300799, the end of the year 9999), so the output is
                             reproducible [default: the system clock]
  -h, --help                 Print this help

";

/// The exit-code section of `delete --help`, also the README's.
pub const EXIT_HELP: &str = "
Progress goes to stderr (`deleted 300/1000, 2 not found, 1 kept, 0 failed, 100 awaiting
verification`, counting as the report will: `deleted` only once verified, kept keys as kept),
the report to stdout.

Exit codes:
  0  every requested key pair is absent afterwards (deleted now, or not found); also stdin
     that held no id, a plan printed, or selectors that chose nothing
  1  some key pairs remain: kept (e.g. bound to an instance) or failed with an API error;
     or the listing selectors chose from was incomplete
  2  usage error or invalid input (e.g. a malformed id); nothing was sent
  3  credentials, authentication or configuration (no or wrong credentials, a profile path
     that is not a regular file, invalid endpoint, no or an empty region, a proxy variable
     it cannot use, clock rejected): the run stopped, or every key that remains failed
     authentication
  4  network or transport failure: every key that remains failed without an API answer
     (connection refused or dropped, timeout, gateway error page), after the retries
  5  the report could not be written to stdout (e.g. disk full); key pairs the run deleted
     are deleted all the same
  130, 143  interrupted by SIGINT or SIGTERM; the report of what was settled is printed
A reader that stops reading early (`| head`) is not an error: the exit code is the run's own.

With --json, stdout holds one line:
  the report   when the run went through (exit 0, 1, 3 or 4):
               {\"deleted\":[ids],\"not_found\":[ids],
                \"kept\":[{\"key_id\",\"code\",\"message\",\"request_id\"}],
                \"failed\":[{\"key_id\",\"code\",\"message\",\"request_id\"}],\"request_ids\":[...],
                \"detached\":[{\"key_id\",\"instance_ids\"}],
                \"stopped_instances\":[{\"instance_id\",\"state\"}]}
               and with selectors also \"complete\":bool (false: the listing was incomplete,
               exit 1). Every id given is in exactly one list; keys still present after
               deletion are under \"kept\" with the code saying why (KeyPairStillPresent,
               KeyPairStillBound, or the API's code for a key it refuses to delete).
               detached and stopped_instances (state null when unknown) are empty without
               --detach. Stdin without ids: empty lists.
  the plan     with selectors and without --yes (exit 0, or 1 when complete is false):
               {\"plan\":[{\"key_id\",\"key_name\",\"created_time\",\"instance_ids\"}],
                \"complete\":bool}
  an error     when the run stopped as a whole (exit 1, 3 or 4), and for every usage error or
               invalid input (exit 2): {\"error\":{\"code\",\"message\",\"request_id\"}}, where
               code is the API's code, HTTP<status>, Transport.<kind> or DecodeError, or, for
               what is wrong before sending, UsageError, InvalidInput, InvalidKeyIds,
               InvalidTimestamp, InvalidEndpoint, NoCredentials or Credentials
  the requests with --dry-run (exit 0), as above
  Exit 5: the line is missing or cut short. --help prints this text, not JSON.
";

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    connection: Connection,
    ids: Ids,
    selector: Selector,
    json: bool,
    verify: bool,
    dry_run: bool,
    timestamp: Option<i64>,
    yes: bool,
    detach: bool,
    force_stop: bool,
}

/// How a deletion runs and is reported (the demo's too).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Check with DescribeKeyPairs that deleted keys are gone.
    pub verify: bool,
    /// Unbind key pairs from their instances first.
    pub detach: bool,
    /// With `detach`, let the API stop running instances.
    pub force_stop: bool,
    /// Print the report as JSON.
    pub json: bool,
    /// The transport's timeout, for the heartbeat.
    pub timeout: Duration,
}

/// Runs `delete` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
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
        Err(e) => return crate::command_usage_error("delete", &e, json),
    };
    let json = options.json;
    if let Some(timestamp) = options.timestamp.filter(|&t| t > MAX_TIMESTAMP) {
        let why = format!(
            "--timestamp {timestamp} is after the year 9999; requests are signed with dates in the years 0 \
             to 9999 (at most {MAX_TIMESTAMP})"
        );
        return crate::refuse("InvalidTimestamp", &why, json);
    }
    let settings = Settings {
        verify: options.verify,
        detach: options.detach,
        force_stop: options.force_stop,
        json,
        timeout: options.connection.timeout(),
    };
    if !options.selector.is_empty() {
        return by_selection(&options, &settings);
    }
    let ids = match options.ids.resolve(io::stdin().lock(), json) {
        Ok(ids) => ids,
        Err(code) => return code,
    };
    if ids.is_empty() {
        // Only stdin can be empty; like `xargs -r`, no ids is nothing to do.
        if options.dry_run {
            print_requests(&[], json);
            eprintln!("dry run: no key pair ids, so no requests; nothing was sent");
        } else {
            print_report(&DeletionReport::default(), json, None);
        }
        return exit::OK;
    }
    let client = match options.connection.client(json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    if options.dry_run {
        return self::dry_run(&client, &ids, options.timestamp, json);
    }
    execute(&client, &ids, &settings, None)
}

/// The last second the signer can date: 9999-12-31T23:59:59Z.
const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// Parses the options; `None` means help was asked for.
fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut o = Options { verify: true, ..Options::default() };
    while let Some(arg) = args.next_arg()? {
        let name = match arg {
            Arg::Positional(p) => {
                o.ids.take(p)?;
                continue;
            }
            Arg::Option(name) => name,
        };
        match name.as_str() {
            "h" | "help" => return Ok(None),
            "json" => o.json = true,
            "no-verify" => o.verify = false,
            "dry-run" => o.dry_run = true,
            "yes" => o.yes = true,
            "detach" => o.detach = true,
            "force-stop" => o.force_stop = true,
            "timestamp" => {
                let timestamp = args.parsed(&name, "whole seconds since 1970")?;
                if timestamp < 0 {
                    return Err(UsageError(format!(
                        "--timestamp takes whole seconds since 1970, 0 or more, not {timestamp}"
                    )));
                }
                o.timestamp = Some(timestamp);
            }
            _ if o.selector.take(&name, &mut args)? => {}
            _ if o.connection.take(&name, &mut args)? => {}
            _ => return Err(unknown_option("delete", &name)),
        }
    }
    check(&o)?;
    Ok(Some(o))
}

/// The options that do not go together.
fn check(o: &Options) -> Result<(), UsageError> {
    let refuse = |message: &str| Err(UsageError(message.into()));
    if o.timestamp.is_some() && !o.dry_run {
        return refuse("--timestamp only goes with --dry-run");
    }
    if o.force_stop && !o.detach {
        return refuse("--force-stop only goes with --detach");
    }
    if o.selector.is_empty() {
        if o.ids.none_given() {
            return refuse(
                "give at least one key pair id, or `-` to read them from stdin, or selectors (--name, \
                 --exclude-name, --older-than, --tag, --project-id)",
            );
        }
    } else if !o.ids.none_given() {
        return refuse(
            "give key pair ids or selectors (--name, --exclude-name, --older-than, --tag, --project-id), not both",
        );
    } else if o.dry_run {
        return refuse("--dry-run takes key pair ids, not selectors");
    }
    Ok(())
}

/// Deletes what the selectors choose with `--yes`, or prints the plan without it.
fn by_selection(options: &Options, settings: &Settings) -> u8 {
    let json = settings.json;
    let client = match options.connection.client(json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let selection = match options.selector.select(&client, now()) {
        Ok(selection) => selection,
        Err(e) => return crate::fail(&e, json),
    };
    selection.warn();
    let listing = if selection.complete { exit::OK } else { exit::FAILED };
    if !options.yes {
        selection.print_plan(json, settings.detach);
        return listing;
    }
    let ids: Vec<KeyId> = selection.key_pairs.iter().map(|k| k.key_id).collect();
    if ids.is_empty() {
        let from = if selection.complete { "" } else { " from the incomplete listing" };
        eprintln!("no key pair selected{from}; nothing to delete");
        print_report(&DeletionReport::default(), json, Some(selection.complete));
        return listing;
    }
    match execute(&client, &ids, settings, Some(selection.complete)) {
        exit::OK => listing,
        code => code,
    }
}

/// Prints the signed request of every batch of ids; sends nothing.
fn dry_run(client: &Client, ids: &[KeyId], timestamp: Option<i64>, json: bool) -> u8 {
    let timestamp = timestamp.unwrap_or_else(now);
    let mut requests = Vec::new();
    for chunk in ids.chunks(PER_REQUEST) {
        match DeleteKeyPairs::new(chunk).and_then(|action| client.sign_at(&action, timestamp)) {
            Ok(request) => requests.push(request),
            Err(e) => return crate::fail(&e, json),
        }
    }
    print_requests(&requests, json);
    eprintln!(
        "dry run: {} for {} signed at {timestamp}; nothing was sent",
        count(requests.len(), "request"),
        count(ids.len(), "key pair")
    );
    exit::OK
}

/// The system clock in Unix seconds (negative before 1970).
pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |secs| -secs),
    }
}

/// Prints signed requests: on the wire's terms, or as the JSON object of `--dry-run --json`.
fn print_requests(requests: &[HttpRequest<'_>], json: bool) {
    if json {
        output::print_json(&json!({ "requests": requests.iter().map(request_json).collect::<Vec<_>>() }));
        return;
    }
    let separator = if io::stdout().is_terminal() { "\n" } else { "" };
    let mut text = String::new();
    for request in requests {
        let _ = write!(text, "{request}{separator}");
    }
    output::print(&text);
}

/// A request as JSON, the session token masked as in its wire form.
fn request_json(request: &HttpRequest<'_>) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = if name.eq_ignore_ascii_case("X-TC-Token") { "***" } else { value.as_ref() };
            ((*name).to_owned(), Value::from(shown))
        })
        .collect();
    json!({
        "method": request.method.to_string(),
        "url": request.url,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    })
}

/// Deletes `ids` through the batch call with progress, waits and a heartbeat on stderr,
/// prints the report on stdout (human or JSON; `complete` is a selection's listing, marked in
/// the JSON) and returns the exit code. The demo runs this too.
///
/// On SIGINT or SIGTERM nothing more is sent: the run is stopped, given a moment to let the
/// request in flight return, and what it settled is printed as the report, the keys not
/// settled marked `Interrupted`; the exit code is 130 or 143. Should the request in flight not
/// return in that moment, the report as it stands is printed and the process exits.
pub fn execute(client: &Client, ids: &[KeyId], settings: &Settings, complete: Option<bool>) -> u8 {
    let control = BatchControl::default();
    let mut options = BatchOptions::default();
    options.verify = settings.verify;
    options.detach = settings.detach;
    options.force_stop = settings.force_stop;
    options.control = Some(control.clone());
    signals::catch();
    let status = &Status::start(settings.timeout);
    let (done, finished) = mpsc::channel();
    let interrupted = std::thread::scope(|scope| {
        scope.spawn(move || {
            let result = client.delete_key_pairs_all_with(ids, &options, |e| status.event(e));
            let _ = done.send(result);
        });
        loop {
            if let Ok(result) = finished.recv_timeout(SIGNAL_POLL) {
                return result.map(|report| (report, None));
            }
            let Some(signal) = signals::caught() else { continue };
            control.stop();
            status.say("interrupted: sending nothing more; the report shows what was settled");
            return match finished.recv_timeout(IN_FLIGHT_GRACE) {
                Ok(result) => result.map(|report| (report, Some(signal))),
                // The request in flight is slow to return: report what stands and leave it.
                Err(_) => {
                    status.finish();
                    print_report(&control.report_so_far(), settings.json, complete);
                    std::process::exit(output::finish(signals::exit_code(signal)).into());
                }
            };
        }
    });
    status.finish();
    match interrupted {
        Ok((report, signal)) => {
            print_report(&report, settings.json, complete);
            hint(&report);
            signal.map_or_else(|| report::exit_code(&report), signals::exit_code)
        }
        Err(e) => crate::fail(&e, settings.json),
    }
}

/// How often the command looks for a signal while the run goes on.
const SIGNAL_POLL: Duration = Duration::from_millis(20);
/// How long an interrupted run may take to let its request in flight return.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(2);

/// Says on stderr what to do about the report's failures, each hint once.
fn hint(report: &DeletionReport) {
    let mut hints: Vec<&str> = report.failed.iter().filter_map(|f| connect::hint(f.code())).collect();
    hints.sort_unstable();
    hints.dedup();
    for hint in hints {
        eprintln!("hint: {hint}");
    }
}

/// Prints the report: for people, or as JSON with `"complete"` added when a selection's
/// listing chose the ids.
fn print_report(report: &DeletionReport, json: bool, complete: Option<bool>) {
    if !json {
        output::print(&report::human(report));
        return;
    }
    output::print_json_text(serde_json::to_string(report).map(|text| match complete {
        // The report is an object: the mark goes before its closing brace, after its fields.
        Some(complete) => match text.strip_suffix('}') {
            Some(fields) => format!("{fields},\"complete\":{complete}}}"),
            None => text,
        },
        None => text,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Option<Options>, UsageError> {
        parse(Args::new(list.iter().map(|s| s.to_string())))
    }

    #[test]
    fn options_and_ids_are_taken_in_any_order() {
        let o = parse_list(&[
            "skey-aaaaaaaa",
            "--json",
            "--no-verify",
            "-",
            "--region=ap-guangzhou",
            "skey-bbbbbbbb",
        ])
        .unwrap()
        .unwrap();
        let ids: Vec<String> =
            o.ids.resolve(&b""[..], false).unwrap().iter().map(|id| id.to_string()).collect();
        assert_eq!(ids, ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert!(o.json && !o.verify && !o.dry_run);
    }

    #[test]
    fn usage_errors() {
        for (args, message) in [
            (&["--timestamp", "5", "skey-aaaaaaaa"][..], "--timestamp only goes with --dry-run"),
            (&["--json"][..], "give at least one key pair id"),
            (&["--force-stop", "skey-aaaaaaaa"][..], "--force-stop only goes with --detach"),
            (&["--name", "ci_*", "skey-aaaaaaaa"][..], "give key pair ids or selectors"),
            (&["--tag", "env=ci", "-"][..], "give key pair ids or selectors"),
            (&["--dry-run", "--older-than", "1d"][..], "--dry-run takes key pair ids, not selectors"),
            (&["-", "-"][..], "`-` (read ids from stdin) is given twice"),
            (&["--max-retries", "x", "skey-aaaaaaaa"][..], "--max-retries takes a whole number"),
            (&["--rate-limit", "0", "skey-aaaaaaaa"][..], "--rate-limit takes at least 1"),
            (&["--method", "PUT", "skey-aaaaaaaa"][..], "--method takes GET or POST"),
            (&["--frobnicate", "skey-aaaaaaaa"][..], "unknown option --frobnicate"),
            (
                &["--dry-run", "--timestamp", "-1", "skey-aaaaaaaa"][..],
                "--timestamp takes whole seconds since 1970, 0 or more, not -1",
            ),
            (
                &["--timeout", "0", "skey-aaaaaaaa"][..],
                "--timeout takes more than 0 and at most 3600 seconds, not 0",
            ),
        ] {
            let err = parse_list(args).unwrap_err().0;
            assert!(err.starts_with(message), "{args:?}: {err}");
        }
    }
}
