//! `cvm-keypairs associate` and `disassociate`: bind key pairs to instances, or unbind them,
//! and wait until DescribeKeyPairs shows it.
//!
//! The API answers these actions before it makes the change, so by default the command waits
//! (bounded) for the only evidence there is, a listing that shows every key pair bound to
//! every instance, or to none of them; past the bound it says which pairs are not done.

use std::time::{Duration, Instant};

use cvm_keypairs::{
    AssociateInstancesKeyPairs, Client, DisassociateInstancesKeyPairs, Error, KeyId, Receipt,
};
use serde_json::json;

use crate::args::{unknown_option, Arg, Args, UsageError};
use crate::connect::{self, Connection};
use crate::exit;
use crate::output::{self, count, for_people};
use crate::status::Status;

pub const ASSOCIATE_HELP: &str = "\
Bind key pairs to instances (AssociateInstancesKeyPairs), and wait until that shows.

Usage: cvm-keypairs associate [OPTIONS] <KEY_ID>... --instance <INS_ID>...

Each key pair is bound to each instance (1 to 100 of each; ids are checked before anything is
sent, exit 2). An instance's other key pairs stop working (\"the old key will become
invalid\"), and one that logged in by password no longer can. The API binds only stopped Linux
instances: a RUNNING one is refused (UnsupportedOperation.InstanceStateRunning) unless
--force-stop lets the API stop it first.
";

pub const DISASSOCIATE_HELP: &str = "\
Unbind key pairs from instances (DisassociateInstancesKeyPairs), and wait until that shows.

Usage: cvm-keypairs disassociate [OPTIONS] <KEY_ID>... --instance <INS_ID>...

Each key pair is unbound from each instance (1 to 100 of each; ids are checked before anything
is sent, exit 2). The API unbinds only stopped Linux instances: a RUNNING one is refused
(UnsupportedOperation.InstanceStateRunning) unless --force-stop lets the API stop it first.
";

/// The part of the help both commands share.
const OPTIONS_HELP: &str = "
The API answers before it makes the change. So the command then waits, looking with
DescribeKeyPairs (a little less often each time, at most every 2 s), until it shows every key
pair bound to every instance (associate) or to none of them (disassociate), at most
--wait-timeout; stderr tells how it goes. Past that bound the command exits 1 and lists the
pairs not done. Interrupting the wait (Ctrl-C) does not undo the change: the API carries it
out all the same. The request is sent once, whatever --max-retries says: after a lost answer
a repeat would be refused while the first is carried out
(OperationDenied.InstanceOperationInProgress); only a throttled answer (RequestLimitExceeded,
given without doing anything) is waited out and the request sent again. When no answer came
(exit 4), the change may be under way: look with `cvm-keypairs describe`.

Options:
  --instance <INS_ID>...     The instances (ins- and 8 of 0-9a-z): takes every argument after
                             it up to the next option, and may be repeated (required)
  --force-stop               Let the API stop RUNNING instances first (ForceStop; depending on
                             the API version they stay stopped or are started again)
  --no-wait                  Do not wait: exit 0 once the API has accepted the request
  --wait-timeout <SECS>      Wait at most SECS, 1 to 3600 [default: 300]
  --json                     Print one line of JSON on stdout:
                             {\"request_id\",\"done\":bool,\"pending\":[{\"key_id\",\"instance_id\"}]}
                             once the request is accepted: done when DescribeKeyPairs shows
                             every change (exit 0), pending the pairs it does not show yet
                             (exit 1 past --wait-timeout; with --no-wait, done is false and
                             pending holds every pair, exit 0); {\"error\":{\"code\",\"message\",
                             \"request_id\"}} otherwise
  -h, --help                 Print this help

Without --json, stdout says whether every change shows, and lists the pairs that do not.

";

/// The exit-code section of both commands' help.
pub const EXIT_HELP: &str = "
Exit codes: 0 accepted, and the change shows (or --no-wait); 1 the API refused (e.g.
UnsupportedOperation.InstanceStateRunning, InvalidInstanceId.NotFound), or the change did not
show within --wait-timeout; 2 usage error or invalid input, nothing sent; 3 credentials,
authentication or configuration; 4 no answer from the API; 5 the output could not be written
to stdout.
";

/// The default bound of the wait.
const DEFAULT_WAIT: Duration = Duration::from_secs(300);
/// The longest `--wait-timeout`.
const MAX_WAIT_SECS: u64 = 3600;

/// Which of the two commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Associate,
    Disassociate,
}

impl Kind {
    fn command(self) -> &'static str {
        match self {
            Kind::Associate => "associate",
            Kind::Disassociate => "disassociate",
        }
    }

    /// Whether the key pairs are to be bound afterwards.
    fn binds(self) -> bool {
        self == Kind::Associate
    }

    fn change(self) -> &'static str {
        if self.binds() {
            "made"
        } else {
            "removed"
        }
    }

    /// The command's whole help.
    pub fn help(self) -> String {
        let head = if self.binds() { ASSOCIATE_HELP } else { DISASSOCIATE_HELP };
        format!("{head}{OPTIONS_HELP}{}{EXIT_HELP}", connect::OPTIONS_HELP)
    }
}

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    connection: Connection,
    key_ids: Vec<String>,
    instance_ids: Vec<String>,
    force_stop: bool,
    /// How long to wait; `None` with `--no-wait`.
    wait: Option<Duration>,
    json: bool,
}

/// The request, checked.
enum Request {
    Associate(AssociateInstancesKeyPairs),
    Disassociate(DisassociateInstancesKeyPairs),
}

impl Request {
    fn new(kind: Kind, o: &Options) -> Result<Request, Error> {
        let (keys, instances) = (&o.key_ids, &o.instance_ids);
        Ok(match kind {
            Kind::Associate => {
                let action = AssociateInstancesKeyPairs::new(keys, instances)?;
                Request::Associate(if o.force_stop { action.with_force_stop(true) } else { action })
            }
            Kind::Disassociate => {
                let action = DisassociateInstancesKeyPairs::new(keys, instances)?;
                Request::Disassociate(if o.force_stop { action.with_force_stop(true) } else { action })
            }
        })
    }

    /// Sends it: once, as [`Connection::send_once`] says.
    fn send(&self, client: &Client) -> Result<Receipt, Error> {
        match self {
            Request::Associate(action) => client.execute_retrying(action),
            Request::Disassociate(action) => client.execute_retrying(action),
        }
    }
}

/// Runs `associate` or `disassociate` with its arguments; returns the exit code.
pub fn run(kind: Kind, args: Vec<String>) -> u8 {
    let json = crate::wants_json(&args);
    let mut o = match parse(kind, Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(&kind.help()),
        Err(e) => return crate::command_usage_error(kind.command(), &e, json),
    };
    let request = match Request::new(kind, &o) {
        Ok(request) => request,
        Err(e) => return crate::invalid(&e, o.json),
    };
    o.connection.send_once();
    let client = match o.connection.client(o.json) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let receipt = match request.send(&client) {
        Ok(receipt) => receipt,
        Err(e) => {
            let code = crate::fail(&e, o.json);
            if connect::may_have_taken_effect(&e) {
                eprintln!(
                    "note: without an answer, the change may be under way: look with `cvm-keypairs describe`"
                );
            }
            return code;
        }
    };
    let pairs = pairs(&o.key_ids, &o.instance_ids);
    let Some(timeout) = o.wait else {
        return finish(kind, &receipt, None, &pairs, o.json);
    };
    match wait(kind, &client, &o, &receipt, timeout) {
        Ok(waited) => finish(kind, &receipt, Some(waited), &pairs, o.json),
        Err(e) => {
            let code = crate::fail(&e, o.json);
            eprintln!(
                "note: the API accepted the request (RequestId {}); only the wait for it to show failed",
                for_people(&receipt.request_id)
            );
            code
        }
    }
}

fn parse(kind: Kind, mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut o = Options {
        connection: Connection::default(),
        key_ids: Vec::new(),
        instance_ids: Vec::new(),
        force_stop: false,
        wait: Some(DEFAULT_WAIT),
        json: false,
    };
    let (mut no_wait, mut timeout) = (false, None);
    while let Some(arg) = args.next_arg()? {
        let name = match arg {
            Arg::Positional(id) if id.starts_with("ins-") => {
                return Err(UsageError(format!("{id:?} is an instance id: give instances with --instance")))
            }
            Arg::Positional(id) => {
                o.key_ids.push(id);
                continue;
            }
            Arg::Option(name) => name,
        };
        match name.as_str() {
            "h" | "help" => return Ok(None),
            "json" => o.json = true,
            "instance" => o.instance_ids.extend(args.values(&name)?),
            "force-stop" => o.force_stop = true,
            "no-wait" => no_wait = true,
            "wait-timeout" => {
                let secs: u64 = args.parsed(&name, "whole seconds, 1 to 3600")?;
                if !(1..=MAX_WAIT_SECS).contains(&secs) {
                    return Err(UsageError(format!(
                        "--wait-timeout takes 1 to {MAX_WAIT_SECS} seconds, not {secs}"
                    )));
                }
                timeout = Some(Duration::from_secs(secs));
            }
            _ if o.connection.take(&name, &mut args)? => {}
            _ => return Err(unknown_option(kind.command(), &name)),
        }
    }
    if o.key_ids.is_empty() {
        return Err(UsageError("give at least one KEY_ID".into()));
    }
    if o.instance_ids.is_empty() {
        return Err(UsageError("give at least one instance with --instance".into()));
    }
    match (no_wait, timeout) {
        (true, Some(_)) => return Err(UsageError("--no-wait and --wait-timeout do not go together".into())),
        (true, None) => o.wait = None,
        (false, timeout) => o.wait = timeout.or(o.wait),
    }
    Ok(Some(o))
}

/// Every (key pair, instance) pair, each once. The ids were checked when the request was made.
fn pairs(key_ids: &[String], instance_ids: &[String]) -> Vec<(KeyId, String)> {
    let mut keys: Vec<KeyId> = key_ids.iter().filter_map(|id| id.parse().ok()).collect();
    let mut instances: Vec<&String> = instance_ids.iter().collect();
    dedup(&mut keys);
    dedup(&mut instances);
    keys.iter().flat_map(|key| instances.iter().map(|id| (*key, (*id).clone()))).collect()
}

/// Removes repeats, keeping each first occurrence.
fn dedup<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    items.retain(|item| {
        let new = !seen.contains(item);
        if new {
            seen.push(item.clone());
        }
        new
    });
}

/// Waits until DescribeKeyPairs shows the change, saying how it goes on stderr; returns the
/// pairs that do not show it and how long the wait took.
fn wait(
    kind: Kind,
    client: &Client,
    o: &Options,
    receipt: &Receipt,
    timeout: Duration,
) -> Result<(Vec<(KeyId, String)>, Duration), Error> {
    let total = pairs(&o.key_ids, &o.instance_ids).len();
    let status = Status::start(o.connection.timeout());
    status.say(&format!(
        "accepted (RequestId {}); waiting until DescribeKeyPairs shows {} {} (at most {} s)",
        for_people(&receipt.request_id),
        count(total, "key pair binding"),
        kind.change(),
        timeout.as_secs()
    ));
    let started = Instant::now();
    let pending =
        client.wait_for_bindings(&o.key_ids, &o.instance_ids, kind.binds(), timeout, |e| status.event(e));
    let took = started.elapsed();
    if let Ok(pending) = &pending {
        status.say(&format!(
            "after {:.1} s, DescribeKeyPairs shows {} of {} {}",
            took.as_secs_f64(),
            total - pending.len(),
            count(total, "key pair binding"),
            kind.change()
        ));
    }
    status.finish();
    pending.map(|pending| (pending, took))
}

/// Prints the outcome (`waited`: the pairs not done and how long the wait took; `None` with
/// `--no-wait`) and returns the exit code.
fn finish(
    kind: Kind,
    receipt: &Receipt,
    waited: Option<(Vec<(KeyId, String)>, Duration)>,
    pairs: &[(KeyId, String)],
    json: bool,
) -> u8 {
    let (pending, done) = match &waited {
        Some((pending, _)) => (&pending[..], pending.is_empty()),
        None => (pairs, false),
    };
    let rid = &receipt.request_id;
    if json {
        let pending: Vec<_> =
            pending.iter().map(|(key, id)| json!({"key_id": key, "instance_id": id})).collect();
        output::print_json(&json!({"request_id": rid, "done": done, "pending": pending}));
    } else {
        let (change, rid) = (kind.change(), for_people(rid));
        let bindings = count(pairs.len(), "key pair binding");
        let mut text = match &waited {
            None => format!("accepted: {bindings} to be {change} (RequestId {rid}); not waited for\n"),
            Some(_) if done => format!("done: {bindings} {change} (RequestId {rid})\n"),
            Some((_, took)) => format!(
                "not done after {} s: {} of {bindings} not yet shown {change} (RequestId {rid}):\n",
                took.as_secs(),
                pending.len()
            ),
        };
        if waited.is_some() {
            for (key, instance) in pending {
                text.push_str(&format!("  {key}  {instance}\n"));
            }
        }
        output::print(&text);
    }
    if waited.is_some() && !done {
        exit::FAILED
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Option<Options>, UsageError> {
        parse(Kind::Associate, Args::new(list.iter().map(|s| s.to_string())))
    }

    #[test]
    fn instances_follow_their_option_and_keys_go_anywhere_else() {
        let o = parse_list(&[
            "skey-aaaaaaaa",
            "--instance",
            "ins-00000001",
            "ins-00000002",
            "--force-stop",
            "skey-bbbbbbbb",
            "--instance=ins-00000003",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.key_ids, ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert_eq!(o.instance_ids, ["ins-00000001", "ins-00000002", "ins-00000003"]);
        assert!(o.force_stop && o.wait == Some(DEFAULT_WAIT));
        let quick = parse_list(&["skey-aaaaaaaa", "--instance", "ins-00000001", "--wait-timeout", "5"]);
        assert_eq!(quick.unwrap().unwrap().wait, Some(Duration::from_secs(5)));
        let no_wait = parse_list(&["skey-aaaaaaaa", "--instance", "ins-00000001", "--no-wait"]);
        assert_eq!(no_wait.unwrap().unwrap().wait, None);
    }

    #[test]
    fn usage_errors() {
        for (list, message) in [
            (&["--instance", "ins-00000001"][..], "give at least one KEY_ID"),
            (&["skey-aaaaaaaa"][..], "give at least one instance with --instance"),
            (
                &["ins-00000001", "skey-aaaaaaaa"][..],
                "\"ins-00000001\" is an instance id: give instances with",
            ),
            (
                &["skey-aaaaaaaa", "--instance", "ins-00000001", "--no-wait", "--wait-timeout", "5"][..],
                "--no-wait and",
            ),
            (
                &["skey-aaaaaaaa", "--instance", "ins-00000001", "--wait-timeout", "0"][..],
                "--wait-timeout takes 1 to 3600",
            ),
            (
                &["skey-aaaaaaaa", "--instance", "ins-00000001", "--wait-timeout", "3601"][..],
                "--wait-timeout takes 1",
            ),
            (&["skey-aaaaaaaa", "--instance"][..], "--instance needs a value"),
        ] {
            let error = parse_list(list).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
    }

    #[test]
    fn pairs_are_every_key_with_every_instance_each_once() {
        let keys = ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-aaaaaaaa"].map(String::from);
        let instances = ["ins-00000001", "ins-00000001", "ins-00000002"].map(String::from);
        let shown: Vec<String> = pairs(&keys, &instances).iter().map(|(k, i)| format!("{k} {i}")).collect();
        assert_eq!(
            shown,
            [
                "skey-aaaaaaaa ins-00000001",
                "skey-aaaaaaaa ins-00000002",
                "skey-bbbbbbbb ins-00000001",
                "skey-bbbbbbbb ins-00000002"
            ]
        );
    }
}
