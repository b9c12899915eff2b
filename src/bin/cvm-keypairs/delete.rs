//! `cvm-keypairs delete`: delete any number of key pairs through the verified batch call, or
//! print the signed requests without sending them (`--dry-run`).

use std::io::{self, BufRead, IsTerminal, Write};

use cvm_keypairs::actions::delete_key_pairs::MAX_IDS;
use cvm_keypairs::{key_id, Client, DeleteKeyPairs, Error, Event, KeyId};

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::report::{self, ProgressLine};
use cvm_keypairs::batch::{BatchOptions, DeletionReport};

pub const HELP: &str = "\
Delete CVM key pairs, any number of them, and report what became of each.

Usage: cvm-keypairs delete [OPTIONS] <KEY_ID>...
       cvm-keypairs delete [OPTIONS] -      (ids from stdin, one per line, blank lines ignored)

Every id is checked first (skey- and 8 of 0-9a-z); if any is malformed nothing is sent.
Repeated ids count once. Requests carry up to 100 ids and are paced to the API's limit; a
request failing because of some ids is split so the others are still deleted; transient
failures are retried; afterwards DescribeKeyPairs confirms each deleted key is gone (a key
bound to an instance or image can be kept silently by the API).

Options:
  --json                     Print one JSON object on stdout:
                             {\"deleted\":[ids],\"not_found\":[ids],
                              \"failed\":[{\"key_id\",\"code\",\"message\",\"request_id\"}],
                              \"request_ids\":[...]}
                             Every id given is in exactly one list; keys still present after
                             deletion are under \"failed\" with the code saying why. A run
                             that stops as a whole (exit 3) prints
                             {\"error\":{\"code\",\"message\",\"request_id\"}} instead
  --no-verify                Trust a successful DeleteKeyPairs without checking with
                             DescribeKeyPairs
  --dry-run                  Print each signed request exactly as it would go on the wire
                             (HTTP/1.1, one per 100 ids; X-TC-Token shown as ***) and send
                             nothing. Piped, stdout is the exact byte stream; on a terminal a
                             newline follows each request
  --timestamp <UNIX>         With --dry-run: sign at this time (seconds since 1970), so the
                             output is reproducible
  -h, --help                 Print this help

";

/// The exit-code section of `delete --help`, also the README's.
pub const EXIT_HELP: &str = "
Progress goes to stderr (`deleted 300/1000, 0 kept, 0 failed`), the report to stdout.

Exit codes:
  0  every requested key pair is absent afterwards (deleted now, or not found)
  1  some key pairs remain: kept (e.g. bound to an instance) or failed with an API error
  2  usage error or invalid input (e.g. a malformed id); nothing was sent
  3  credentials, authentication or configuration (no or wrong credentials, invalid endpoint
     or region, clock rejected); the run stopped
  4  network or transport failure: every key that remains failed without an API answer
     (connection refused or dropped, timeout, gateway error page), after the retries
";

/// What the command line asks for.
#[derive(Debug, Default)]
struct Options {
    connection: Connection,
    ids: Vec<String>,
    from_stdin: bool,
    json: bool,
    verify: bool,
    dry_run: bool,
    timestamp: Option<i64>,
}

/// Runs `delete` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let mut options = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&format!("{HELP}{}{}", connect::OPTIONS_HELP, EXIT_HELP)),
        Err(e) => return crate::command_usage_error("delete", &e),
    };
    if options.from_stdin {
        if let Err(e) = read_ids(io::stdin().lock(), &mut options.ids) {
            eprintln!("error: cannot read key pair ids from stdin: {e}");
            return exit::USAGE;
        }
    }
    let ids = match validate(&options.ids) {
        Ok(ids) => ids,
        Err(e) => {
            eprintln!("error: {e}\nNothing was sent.");
            return exit::USAGE;
        }
    };
    let client = match options.connection.client() {
        Ok(client) => client,
        Err(e) => {
            connect::report_error(&e);
            return connect::exit_code(&e);
        }
    };
    if options.dry_run {
        return dry_run(&client, &ids, options.timestamp);
    }
    execute(&client, &ids, options.verify, options.json)
}

/// Parses the options; `None` means help was asked for.
fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut o = Options { verify: true, ..Options::default() };
    while let Some(arg) = args.next_arg()? {
        let name = match arg {
            Arg::Positional(p) if p == "-" => {
                if o.from_stdin {
                    return Err(UsageError("`-` (read ids from stdin) is given twice".into()));
                }
                o.from_stdin = true;
                continue;
            }
            Arg::Positional(id) => {
                o.ids.push(id);
                continue;
            }
            Arg::Option(name) => name,
        };
        match name.as_str() {
            "h" | "help" => return Ok(None),
            "json" => o.json = true,
            "no-verify" => o.verify = false,
            "dry-run" => o.dry_run = true,
            "timestamp" => o.timestamp = Some(args.parsed(&name, "whole seconds since 1970")?),
            _ if o.connection.take(&name, &mut args)? => {}
            _ => return Err(unknown_option("delete", &name)),
        }
    }
    if o.timestamp.is_some() && !o.dry_run {
        return Err(UsageError("--timestamp only goes with --dry-run".into()));
    }
    if o.ids.is_empty() && !o.from_stdin {
        return Err(UsageError("give at least one key pair id, or `-` to read them from stdin".into()));
    }
    Ok(Some(o))
}

/// Adds the ids of `input`, one per line; surrounding spaces and blank lines are ignored.
fn read_ids(input: impl BufRead, ids: &mut Vec<String>) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        let id = line.trim();
        if !id.is_empty() {
            ids.push(id.to_owned());
        }
    }
    Ok(())
}

/// Every id parsed and de-duplicated, or an error listing every malformed one.
fn validate(ids: &[String]) -> Result<Vec<KeyId>, Error> {
    let mut parsed = key_id::parse_all(ids.iter().map(String::as_str))?;
    key_id::dedup(&mut parsed);
    if parsed.is_empty() {
        return Err(Error::InvalidInput("no key pair ids were given".into()));
    }
    Ok(parsed)
}

/// Prints the signed request of every batch of ids; sends nothing.
fn dry_run(client: &Client, ids: &[KeyId], timestamp: Option<i64>) -> u8 {
    let timestamp = timestamp.unwrap_or_else(|| client.now());
    let mut requests = Vec::new();
    for chunk in ids.chunks(MAX_IDS) {
        match DeleteKeyPairs::new(chunk.iter().copied()).and_then(|action| client.sign_at(&action, timestamp))
        {
            Ok(request) => requests.push(request),
            Err(e) => {
                connect::report_error(&e);
                return match e {
                    Error::InvalidTimestamp(_) => exit::USAGE,
                    e => connect::exit_code(&e),
                };
            }
        }
    }
    let separator = if io::stdout().is_terminal() { "\n" } else { "" };
    let mut out = io::stdout().lock();
    for request in &requests {
        let _ = write!(out, "{request}{separator}");
    }
    let _ = out.flush();
    eprintln!(
        "dry run: {} request(s) for {} key pair(s) signed at {timestamp}; nothing was sent",
        requests.len(),
        ids.len()
    );
    exit::OK
}

/// Deletes `ids` through the batch call with progress on stderr, prints the report on stdout
/// (human or JSON) and returns the exit code. The demo runs this too.
pub fn execute(client: &Client, ids: &[KeyId], verify: bool, json: bool) -> u8 {
    let mut progress = ProgressLine::new();
    let mut options = BatchOptions::default();
    options.verify = verify;
    let result = client.delete_key_pairs_all_with(ids.iter().map(KeyId::as_str), &options, |event| {
        if let Event::Progress(p) = event {
            progress.show(p)
        }
    });
    progress.finish();
    match result {
        Ok(report) => {
            print_report(&report, json);
            report::exit_code(&report)
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

fn print_report(report: &DeletionReport, json: bool) {
    if json {
        crate::print_json(&report::to_json(report));
    } else {
        let mut out = io::stdout().lock();
        let _ = report::write_human(&mut out, report);
        let _ = out.flush();
    }
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
        assert_eq!(o.ids, ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert!(o.json && !o.verify && o.from_stdin && !o.dry_run);
    }

    #[test]
    fn usage_errors() {
        for (args, message) in [
            (&["--timestamp", "5", "skey-aaaaaaaa"][..], "--timestamp only goes with --dry-run"),
            (&["--json"][..], "give at least one key pair id"),
            (&["-", "-"][..], "`-` (read ids from stdin) is given twice"),
            (&["--max-retries", "x", "skey-aaaaaaaa"][..], "--max-retries takes a whole number"),
            (&["--rate-limit", "0", "skey-aaaaaaaa"][..], "--rate-limit takes at least 1"),
            (&["--method", "PUT", "skey-aaaaaaaa"][..], "--method takes GET or POST"),
            (&["--frobnicate", "skey-aaaaaaaa"][..], "unknown option --frobnicate"),
        ] {
            let err = parse_list(args).unwrap_err().0;
            assert!(err.starts_with(message), "{args:?}: {err}");
        }
    }

    #[test]
    fn stdin_ids_skip_blank_lines_and_spaces() {
        let mut ids = vec!["skey-aaaaaaaa".to_owned()];
        read_ids(&b"\n  skey-bbbbbbbb \r\n\n\tskey-cccccccc\n   \n"[..], &mut ids).unwrap();
        assert_eq!(ids, ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"]);
    }

    #[test]
    fn validation_lists_every_bad_id_and_removes_repeats() {
        let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let Err(Error::InvalidKeyIds(bad)) = validate(&ids(&["skey-aaaaaaaa", "x", "skey-AAAAAAAA"])) else {
            panic!()
        };
        assert_eq!(bad.len(), 2);
        let good = validate(&ids(&["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-aaaaaaaa"])).unwrap();
        assert_eq!(good.len(), 2);
        assert!(validate(&[]).is_err());
    }
}
