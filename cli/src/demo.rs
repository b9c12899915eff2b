//! `cvm-keypairs demo`: the main job, end to end, on a fresh machine with no cloud account.
//!
//! It starts the emulator in this process on a free loopback port, seeds a few key pairs (one
//! bound to an instance), and runs the very code `describe` and `delete` run — same client,
//! same batch call, same report — printing each step and each request the emulator answers.

use std::fmt::Write as _;
use std::sync::Arc;

use cvm_keypairs::{Credentials, DeleteKeyPairs, Error, HttpRequest, KeyId, Method};
use cvm_keypairs_emulator::{BoundBehavior, Emulator, EmulatorConfig, KeyPair, RequestRecord};

use crate::args::{unknown_option, Args, UsageError};
use crate::connect::{self, Connection};
use crate::describe::Output;
use crate::exit;
use crate::output;
use crate::select::Selector;
use crate::{delete, describe};

pub const HELP: &str = "\
Run the delete-and-describe flow against a built-in emulator of the API: no account,
credentials or configuration needed, nothing leaves 127.0.0.1.

Usage: cvm-keypairs demo [OPTIONS]

The emulator starts on a free port of 127.0.0.1 with fixed demo credentials and six key
pairs, one of them bound to an instance. The demo lists them, shows the signed request, deletes
five of them plus the bound one and an id that does not exist, and lists what is left. Every
request the emulator answers is printed with its RequestId and result.

Options:
  --method <METHOD>          GET or POST [default: POST]
  --bound-behavior <MODE>    How the emulator treats the bound key: `error` fails the request
                             with InvalidParameterValue.KeyPairNotSupported, `skip` silently
                             keeps it (caught by verification) [default: error]
  -h, --help                 Print this help

Exit codes: 0 the demo ran as expected; 1 it did not; 3 the emulator could not start; 5 its
output could not be written to stdout.
";

const FREE: [&str; 5] = ["skey-demo0001", "skey-demo0002", "skey-demo0003", "skey-demo0004", "skey-demo0005"];
const BOUND: &str = "skey-bound001";
const UNKNOWN: &str = "skey-gone0001";
const REGION: &str = "ap-guangzhou";

/// Runs `demo` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let (method, bound_behavior) = match parse(Args::new(args)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return crate::print_text(HELP),
        Err(e) => return crate::command_usage_error("demo", &e, false),
    };
    match demo(method, bound_behavior) {
        Ok(code) => code,
        Err(e) => {
            connect::report_error(&e);
            exit::FAILED
        }
    }
}

fn parse(mut args: Args) -> Result<Option<(Method, BoundBehavior)>, UsageError> {
    let (mut method, mut bound) = (Method::Post, BoundBehavior::Error);
    while let Some(name) = args.next_option()? {
        match name.as_str() {
            "h" | "help" => return Ok(None),
            "method" => method = args.parsed(&name, "GET or POST")?,
            "bound-behavior" => {
                bound = match args.value(&name)?.as_str() {
                    "error" => BoundBehavior::Error,
                    "skip" => BoundBehavior::Skip,
                    other => {
                        return Err(UsageError(format!(
                            "--bound-behavior takes error or skip, not {other:?}"
                        )))
                    }
                }
            }
            _ => return Err(unknown_option("demo", &name)),
        }
    }
    Ok(Some((method, bound)))
}

fn ids(list: &[&str]) -> Vec<KeyId> {
    list.iter()
        .map(|id| id.parse().unwrap_or_else(|_| unreachable!("the demo's ids are well-formed")))
        .collect()
}

fn demo_key_pair(id: &str) -> KeyPair {
    KeyPair::new(id).unwrap_or_else(|_| unreachable!("the demo's ids are well-formed"))
}

fn step(text: &str) {
    output::print(&format!("\n=== {text}\n"));
}

fn demo(method: Method, bound_behavior: BoundBehavior) -> Result<u8, Error> {
    let emulator = match start_emulator(bound_behavior) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot start the emulator on 127.0.0.1: {e}");
            return Ok(exit::CONFIG);
        }
    };
    let endpoint = emulator.url();
    step(&format!(
        "1. Emulator listening on {endpoint} (bound keys: {}); demo credentials, secret id {}",
        match bound_behavior {
            BoundBehavior::Error => "error",
            BoundBehavior::Skip => "skip",
        },
        EmulatorConfig::DEFAULT_SECRET_ID
    ));

    let connection = Connection::to_endpoint(endpoint, method);
    let credentials =
        Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY)?;
    let client = connection.client_with(Some(Arc::new(credentials)), Some(REGION))?;

    step("2. describe: the key pairs present");
    let everything = Selector::default();
    describe::print(&describe::list(&client, &[], &everything)?, &[], Output::Table);

    let targets = ids(&[FREE[0], FREE[1], FREE[2], FREE[3], FREE[4], BOUND, UNKNOWN]);
    step(&format!("3. delete {} key pairs: the first request, as signed (headers)", targets.len()));
    show_headers(&client.sign_at(&DeleteKeyPairs::new(&targets)?, delete::now())?);

    step("4. delete: each request as the emulator answered it, then the report");
    let settings = delete::Settings {
        verify: true,
        detach: false,
        force_stop: false,
        json: false,
        timeout: connection.timeout(),
    };
    let code = delete::execute(&client, &targets, &settings, None);

    step("5. describe: what is left");
    let left = describe::list(&client, &[], &everything)?;
    describe::print(&left, &[], Output::Table);
    Ok(conclude(code, &left.key_pairs))
}

/// The emulator on a free loopback port, seeded with the demo's key pairs, printing every
/// request it answers.
fn start_emulator(bound_behavior: BoundBehavior) -> std::io::Result<Emulator> {
    let mut key_pairs: Vec<KeyPair> = FREE.iter().map(|id| demo_key_pair(id)).collect();
    let mut bound = demo_key_pair(BOUND);
    bound.key_name = "web-server".into();
    bound.associated_instance_ids.push("ins-demo0001".into());
    key_pairs.push(bound);
    Emulator::start(EmulatorConfig {
        key_pairs,
        bound_behavior,
        on_request: Some(Arc::new(print_record)),
        ..EmulatorConfig::default()
    })
}

/// Prints the head of `request` as it goes on the wire, and the size of its body.
fn show_headers(request: &HttpRequest<'_>) {
    let mut shown = String::new();
    for line in request.to_string().split("\r\n").take_while(|line| !line.is_empty()) {
        let _ = writeln!(shown, "    {line}");
    }
    let _ = writeln!(shown, "    (body: {} bytes)", request.body.len());
    output::print(&shown);
}

/// Says whether the demo ended as it should, `delete` having exited `code` and `left` being
/// the key pairs left; returns the demo's exit code.
fn conclude(code: u8, left: &[cvm_keypairs::KeyPair]) -> u8 {
    if left.len() == 1 && left[0].key_id.to_string() == BOUND && code == exit::FAILED {
        output::print(&format!(
            "\nDone: 5 key pairs deleted, {UNKNOWN} reported not found, and {BOUND} kept because it is bound\n\
             to an instance (exit code {code} from `delete`: some key pairs remain). Against the real API,\n\
             run `cvm-keypairs delete --region <REGION> <KEY_ID>...` with TENCENTCLOUD_SECRET_ID and\n\
             TENCENTCLOUD_SECRET_KEY set.\n"
        ));
        exit::OK
    } else {
        output::print(&format!(
            "\nUnexpected outcome: delete exited {code} and {} left\n",
            output::count(left.len(), "key pair")
        ));
        exit::FAILED
    }
}

fn print_record(r: &RequestRecord) {
    output::print(&format!(
        "  [emulator] #{} {} {} ({}) -> HTTP {} {} RequestId {} ({} deleted)\n",
        r.seq,
        r.method,
        r.action,
        output::count(r.key_ids, "id"),
        r.status,
        r.code,
        if r.request_id.is_empty() { "-" } else { &r.request_id },
        r.deleted
    ));
}
