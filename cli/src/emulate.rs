//! `cvm-keypairs emulate`: serve the local emulator of the key-pair API on 127.0.0.1.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use cvm_keypairs::Credentials;
use cvm_keypairs_emulator::{
    parse_seed, BoundBehavior, Emulator, EmulatorConfig, RequestRecord, Seed, MAX_SEED_BYTES,
};

use crate::args::{unknown_option, Args, UsageError};
use crate::exit;
use crate::output;

pub const HELP: &str = "\
Serve a local emulator of the CVM key-pair API on 127.0.0.1: DeleteKeyPairs, DescribeKeyPairs,
CreateKeyPair, ImportKeyPair, ModifyKeyPairAttribute, AssociateInstancesKeyPairs,
DisassociateInstancesKeyPairs and DescribeInstances; and on the same port STS (2018-08-13,
credential scope `sts`): AssumeRole and AssumeRoleWithWebIdentity, whose temporary
credentials then sign CVM and STS calls with X-TC-Token until they expire.

Usage: cvm-keypairs emulate [OPTIONS]

The first line on stdout is exactly `listening on http://127.0.0.1:<PORT>`. Point a client at
that endpoint with the emulator's credentials. Requests are checked like the real API does:
TC3-HMAC-SHA256 signature, 300 s clock window, session token, a region where CVM is offered
(UnsupportedRegion otherwise, MissingParameter without one), 10 requests per second per
action, and the documented error codes.

Options:
  --port <PORT>              Port on 127.0.0.1; 0 picks a free one [default: 0]
  --seed <FILE>              What is present at start: a JSON array of key pairs, or an object
                             {\"KeyPairs\": [...], \"Instances\": [...]}. A key pair is its id
                             or an object with KeyId (required), KeyName, ProjectId,
                             Description, PublicKey, AssociatedInstanceIds, AssociatedImageIds,
                             CreatedTime, Tags; one with an associated instance or image is
                             bound. An instance is its id or an object with InstanceId
                             (required), InstanceState (RUNNING or STOPPED, the default) and
                             OsName (a Linux by default; Windows takes no key pairs); an
                             instance a key pair names that is not listed is added STOPPED.
                             At most 1 MiB. An error names the entry (counted from 0; `KeyPairs
                             entry 3` or `Instances entry 0` in the object form), its id when
                             known, the field and what is wrong, e.g. `entry 3 (skey-bbbbbbbb):
                             AssociatedInstanceIds: expected an array of strings, got a string`
  --secret-id <ID>           Secret id accepted [default: AKIDEMULATOR00000000000000000000]
  --secret-key <KEY>         Secret key accepted [default: emulator-secret-key-not-for-production]
                             (give both or neither; this opens only the local emulator)
  --token <TOKEN>            Require this session token in X-TC-Token (and refuse requests
                             without it); without this option a request carrying a token is
                             refused with AuthFailure.TokenFailure
  --role-arn <ARN>           A role that exists for AssumeRole and AssumeRoleWithWebIdentity;
                             repeat for several; any other is ResourceNotFound.RoleNotFound
                             [default: qcs::cam::uin/100000000001:roleName/cvm-keypairs-emulator]
  --web-identity-token <T>   The token AssumeRoleWithWebIdentity accepts (sent unsigned, as the
                             official SDKs send it); another is
                             InvalidParameter.WebIdentityTokenError. Without this option that
                             action is refused with UnsupportedOperation
  --sts-duration-cap <SECS>  Cap the life of the temporary credentials STS issues, whatever
                             DurationSeconds asks (7200 by default, at most 43200), e.g. 2 to
                             see them expire; expired ones get AuthFailure.TokenFailure
  --rate-limit <N>           Requests per action admitted in any sliding second; refused ones
                             get RequestLimitExceeded and do not count; 0 for no limit [default: 10]
  --bound-behavior <MODE>    Deleting a bound key pair: `error` fails the whole request with
                             InvalidParameterValue.KeyPairNotSupported; `skip` succeeds and
                             silently keeps the bound ones [default: error]
  --async-delay-ms <MS>      How long an accepted (dis)association takes to show in
                             DescribeKeyPairs, DescribeInstances and to DeleteKeyPairs; until
                             then the instance's LatestOperationState is OPERATING [default: 1000]
  --force-stop-restarts      An instance stopped by ForceStop is RUNNING again when the change
                             shows; without this option it stays STOPPED
  --key-quota <N>            Most key pairs the account may hold; CreateKeyPair and
                             ImportKeyPair beyond it get InvalidKeyPair.LimitExceeded
                             [default: 100]
  --fail-rate <F>            Share of requests answered HTTP 500 with an HTML body [default: 0]
  --drop-rate <F>            Share of requests whose connection is closed without a reply; for
                             actions that change state half of those after applying them
                             [default: 0] (both are shares of all requests; together at most 1)
  --fault-seed <N>           Seed of the fault draws; same seed, same order of requests, same
                             faults [default: 0]
  --slow-ms <MS>             Delay before every answer [default: 0]
  --clock-offset <SECS>      Shift the emulator's clock (signature window, Date header and the
                             CreatedTime of new key pairs) by SECS, e.g. 3600 or -3600 [default: 0]
  --log                      Print one JSON line per request on stdout: seq, method, action,
                             key_ids, status, code (OK, an API error code, fault:http-500,
                             fault:drop, fault:drop-after-apply, http:<status>), request_id,
                             deleted
  --exit-on-stdin-close      Stop cleanly and exit 0 when stdin reaches end of file
  -h, --help                 Print this help

Connections: at most 64 are open at once. A request (head and body) must arrive within 5 s of
its first byte, and a connection silent for 30 s is closed. When all 64 are taken, a new
connection evicts the one that has waited longest on its client (idle between requests,
part-way through sending a request, or not reading its answer), so slow or idle clients cannot
lock out a prompt one, even if they reconnect at once. A connection is never evicted while its
request is being answered, nor before the emulator has read what came with it; only when every
connection is in one of those states is a new one answered 503. An evicted or timed-out
connection is closed without an answer; a client opens a new one for its next request.

The emulator runs until it is killed; SIGINT and SIGTERM end the process (there is no signal
handler). Use --exit-on-stdin-close to stop it from a parent process by closing its stdin.

Exit codes: 0 stopped cleanly; 2 usage error or unreadable/invalid seed file; 3 the port cannot
be bound; 5 stdout could not be written (the emulator served on all the same).
";

/// What the command line asks for, beyond the emulator's own configuration.
#[derive(Debug)]
struct Options {
    config: EmulatorConfig,
    log: bool,
    exit_on_stdin_close: bool,
}

/// Runs `emulate` with its arguments; returns the exit code.
pub fn run(args: Vec<String>) -> u8 {
    let options = match parse(Args::new(args)) {
        Ok(Some(options)) => options,
        Ok(None) => return crate::print_text(HELP),
        Err(e) => {
            eprintln!("error: {e}\nRun `cvm-keypairs emulate --help` for usage.");
            return exit::USAGE;
        }
    };
    serve(options)
}

/// Parses the options; `None` means help was asked for.
fn parse(mut args: Args) -> Result<Option<Options>, UsageError> {
    let mut config = EmulatorConfig::default();
    let (mut secret_id, mut secret_key, mut token) = (None, None, None);
    let (mut log, mut exit_on_stdin_close) = (false, false);
    let mut roles = Vec::new();
    while let Some(name) = args.next_option()? {
        match name.as_str() {
            "h" | "help" => return Ok(None),
            "role-arn" => roles.push(args.value(&name)?),
            "web-identity-token" => config.web_identity_token = Some(args.value(&name)?),
            "sts-duration-cap" => {
                config.sts_duration_cap = Some(args.parsed(&name, "whole seconds, at least 1")?)
            }
            "port" => config.port = args.parsed(&name, "a port number from 0 to 65535")?,
            "seed" => {
                let seed = read_seed(&args.value(&name)?)?;
                (config.key_pairs, config.instances) = (seed.key_pairs, seed.instances);
            }
            "secret-id" => secret_id = Some(args.value(&name)?),
            "secret-key" => secret_key = Some(args.value(&name)?),
            "token" => token = Some(args.value(&name)?),
            "rate-limit" => {
                config.rate_limit = args.parsed(&name, "a whole number of requests per second")?
            }
            "bound-behavior" => {
                config.bound_behavior = match args.value(&name)?.as_str() {
                    "error" => BoundBehavior::Error,
                    "skip" => BoundBehavior::Skip,
                    other => {
                        return Err(UsageError(format!(
                            "--bound-behavior takes error or skip, not {other:?}"
                        )))
                    }
                }
            }
            "async-delay-ms" => {
                config.async_delay = Duration::from_millis(args.parsed(&name, "milliseconds")?)
            }
            "force-stop-restarts" => config.force_stop_restarts = true,
            "key-quota" => config.key_quota = args.parsed(&name, "a whole number of key pairs")?,
            "fail-rate" => config.fail_rate = rate(&mut args, &name)?,
            "drop-rate" => config.drop_rate = rate(&mut args, &name)?,
            "fault-seed" => config.fault_seed = args.parsed(&name, "a whole number")?,
            "slow-ms" => config.slow = Duration::from_millis(args.parsed(&name, "milliseconds")?),
            "clock-offset" => config.clock_offset = args.parsed(&name, "whole seconds, possibly negative")?,
            "log" => log = true,
            "exit-on-stdin-close" => exit_on_stdin_close = true,
            _ => return Err(unknown_option("emulate", &name)),
        }
    }
    if config.fail_rate + config.drop_rate > 1.0 {
        return Err(UsageError("--fail-rate and --drop-rate add up to more than 1".into()));
    }
    set_credentials(&mut config, (secret_id, secret_key), token)?;
    set_sts(&mut config, roles)?;
    if log {
        config.on_request = Some(Arc::new(print_record));
    }
    Ok(Some(Options { config, log, exit_on_stdin_close }))
}

/// Puts the credentials given (both or neither of the secret id and key) into `config`,
/// checked by the library's rules (no whitespace, no control characters, ...), so that the
/// emulator takes exactly what a client can send.
fn set_credentials(
    config: &mut EmulatorConfig,
    secret: (Option<String>, Option<String>),
    token: Option<String>,
) -> Result<(), UsageError> {
    match secret {
        (None, None) => {}
        (Some(id), Some(key)) => (config.secret_id, config.secret_key) = (id, key),
        _ => return Err(UsageError("give --secret-id and --secret-key together".into())),
    }
    Credentials::new(config.secret_id.as_str(), config.secret_key.as_str())
        .and_then(|credentials| match &token {
            Some(token) => credentials.with_token(token.as_str()),
            None => Ok(credentials),
        })
        .map_err(|e| UsageError(e.to_string()))?;
    config.token = token;
    Ok(())
}

/// Checks the STS options: roles given replace the default one; each, like the web identity
/// token, one line of visible characters (which the errors never echo for the token).
fn set_sts(config: &mut EmulatorConfig, roles: Vec<String>) -> Result<(), UsageError> {
    let printable = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic());
    if let Some(role) = roles.iter().find(|role| !printable(role)) {
        return Err(UsageError(format!("--role-arn takes a role ARN without spaces, not {role:?}")));
    }
    if config.web_identity_token.as_deref().is_some_and(|t| !printable(t)) {
        return Err(UsageError(
            "--web-identity-token must be visible ASCII characters, without spaces".into(),
        ));
    }
    if config.sts_duration_cap == Some(0) {
        return Err(UsageError("--sts-duration-cap takes whole seconds, at least 1, not 0".into()));
    }
    if !roles.is_empty() {
        config.roles = roles;
    }
    Ok(())
}

/// Reads and parses a seed file, never more than one byte past the size limit.
fn read_seed(path: &str) -> Result<Seed, UsageError> {
    let unreadable = |e: io::Error| UsageError(format!("cannot read seed file {path:?}: {e}"));
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_SEED_BYTES as u64 + 1).read_to_string(&mut text))
        .map_err(unreadable)?;
    parse_seed(&text).map_err(|why| UsageError(format!("seed file {path:?}: {why}")))
}

fn rate(args: &mut Args, name: &str) -> Result<f64, UsageError> {
    let value: f64 = args.parsed(name, "a number from 0 to 1")?;
    if !(0.0..=1.0).contains(&value) {
        return Err(UsageError(format!("--{name} takes a number from 0 to 1, not {value}")));
    }
    Ok(value)
}

fn print_record(record: &RequestRecord) {
    // A stdout that fails does not stop the emulator: it serves on, and the exit code tells.
    if let Ok(line) = serde_json::to_string(record) {
        output::print(&format!("{line}\n"));
    }
}

fn serve(options: Options) -> u8 {
    let (key_pairs, instances) = (options.config.key_pairs.len(), options.config.instances.len());
    let secret_id = options.config.secret_id.clone();
    let emulator = match Emulator::start(options.config) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot serve on 127.0.0.1: {e}");
            return exit::CONFIG;
        }
    };
    output::print(&format!("listening on http://{}\n", emulator.addr()));
    eprintln!(
        "emulating the CVM key-pair API with {} and {} for secret id {secret_id}{}",
        output::count(key_pairs, "key pair"),
        output::count(instances, "listed instance"),
        if options.log { "; one JSON line per request follows on stdout" } else { "" }
    );
    if !options.exit_on_stdin_close {
        loop {
            std::thread::park();
        }
    }
    // Read stdin to its end (the parent closing it), whatever it sends.
    let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
    emulator.stop();
    eprintln!("stdin closed; emulator stopped");
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(list: &[&str]) -> Result<Option<Options>, UsageError> {
        parse(Args::new(list.iter().map(|s| s.to_string())))
    }

    #[test]
    fn every_option_reaches_the_config() {
        let o = parse_list(&[
            "--port=8080",
            "--secret-id",
            "AKIDx",
            "--secret-key",
            "k",
            "--token",
            "t",
            "--rate-limit",
            "3",
            "--fail-rate",
            "0.2",
            "--drop-rate",
            "0.1",
            "--slow-ms",
            "5",
            "--bound-behavior",
            "skip",
            "--clock-offset",
            "-3600",
            "--fault-seed",
            "9",
            "--async-delay-ms",
            "250",
            "--force-stop-restarts",
            "--key-quota",
            "7",
            "--log",
            "--exit-on-stdin-close",
            "--role-arn",
            "qcs::cam::uin/1:roleName/a",
            "--role-arn=qcs::cam::uin/1:roleName/b",
            "--web-identity-token",
            "jwt.body.sig",
            "--sts-duration-cap",
            "2",
        ])
        .unwrap()
        .unwrap();
        let c = &o.config;
        assert_eq!(
            (c.port, c.secret_id.as_str(), c.secret_key.as_str(), c.token.as_deref()),
            (8080, "AKIDx", "k", Some("t"))
        );
        assert_eq!((c.rate_limit, c.fail_rate, c.drop_rate, c.slow), (3, 0.2, 0.1, Duration::from_millis(5)));
        assert_eq!((c.bound_behavior, c.clock_offset, c.fault_seed), (BoundBehavior::Skip, -3600, 9));
        assert_eq!(
            (c.async_delay, c.force_stop_restarts, c.key_quota),
            (Duration::from_millis(250), true, 7)
        );
        assert!(o.log && o.exit_on_stdin_close && c.on_request.is_some());
        assert_eq!(c.roles, ["qcs::cam::uin/1:roleName/a", "qcs::cam::uin/1:roleName/b"]);
        assert_eq!((c.web_identity_token.as_deref(), c.sts_duration_cap), (Some("jwt.body.sig"), Some(2)));
    }

    #[test]
    fn defaults_match_the_help() {
        let o = parse_list(&[]).unwrap().unwrap();
        let c = &o.config;
        assert_eq!(
            (c.port, c.rate_limit, c.bound_behavior, c.token.as_deref()),
            (0, 10, BoundBehavior::Error, None)
        );
        assert_eq!((c.async_delay, c.force_stop_restarts), (Duration::from_secs(1), false));
        for promise in ["[default: 1000]".to_owned(), format!("[default: {}]", c.key_quota)] {
            assert!(HELP.contains(&promise), "{promise}");
        }
        assert!(
            HELP.contains(EmulatorConfig::DEFAULT_SECRET_ID)
                && HELP.contains(EmulatorConfig::DEFAULT_SECRET_KEY)
        );
        assert!(!o.log && !o.exit_on_stdin_close);
        assert_eq!(
            (c.roles.as_slice(), c.web_identity_token.as_deref(), c.sts_duration_cap),
            (&[EmulatorConfig::DEFAULT_ROLE_ARN.to_owned()][..], None, None)
        );
        assert!(HELP.contains(&format!("[default: {}]", EmulatorConfig::DEFAULT_ROLE_ARN)));
        for promise in [
            format!("at most {} are open at once", c.max_connections),
            format!("within {} s of\nits first byte", c.request_timeout.as_secs()),
            format!("silent for {} s is closed", c.idle_timeout.as_secs()),
            format!("When all {} are taken", c.max_connections),
        ] {
            assert!(HELP.contains(&promise), "{promise}");
        }
        assert_eq!(MAX_SEED_BYTES, 1 << 20, "the help says 1 MiB");
    }

    #[test]
    fn bad_arguments_are_usage_errors_that_name_the_problem() {
        for (list, needle) in [
            (&["--port", "70000"][..], "--port"),
            (&["--fail-rate", "1.5"], "--fail-rate"),
            (&["--fail-rate", "0.7", "--drop-rate", "0.4"], "add up"),
            (&["--drop-rate", "x"], "--drop-rate"),
            (&["--bound-behavior", "keep"], "--bound-behavior"),
            (&["--async-delay-ms", "-1"], "--async-delay-ms"),
            (&["--key-quota", "many"], "--key-quota"),
            (&["--force-stop-restarts=no"], "value"),
            (&["--secret-id", "AKIDx"], "together"),
            (&["--secret-id", "AKIDx", "--secret-key", " padded"], "whitespace"),
            (&["--seed", "/nonexistent/seed.json"], "seed file"),
            (&["--frobnicate"], "--frobnicate"),
            (&["extra"], "extra"),
            (&["--log=yes"], "value"),
            (&["--sts-duration-cap", "0"], "--sts-duration-cap"),
            (&["--sts-duration-cap", "-2"], "--sts-duration-cap"),
            (&["--role-arn", "qcs::cam::uin/1:roleName/a b"], "--role-arn"),
            (&["--role-arn", ""], "--role-arn"),
            (&["--web-identity-token", "two words"], "--web-identity-token"),
            (&["--web-identity-token"], "needs a value"),
        ] {
            let message = match parse_list(list) {
                Err(e) => e.0,
                Ok(_) => panic!("{list:?} was accepted"),
            };
            assert!(message.contains(needle), "{list:?}: {message}");
        }
    }

    #[test]
    fn help_is_asked_for_with_either_flag() {
        assert!(parse_list(&["--help"]).unwrap().is_none());
        assert!(parse_list(&["--port", "1", "-h"]).unwrap().is_none());
    }

    #[test]
    fn usage_errors_never_echo_the_secret_key_or_token() {
        let err =
            parse_list(&["--secret-id", "AKIDx", "--secret-key", "SECRET-KEY ", "--token", "t"]).unwrap_err();
        assert!(!err.0.contains("SECRET"), "{}", err.0);
        let err = parse_list(&["--token", "SECRET-TOKEN\n"]).unwrap_err();
        assert!(!err.0.contains("SECRET"), "{}", err.0);
        let err = parse_list(&["--web-identity-token", "SECRET-WEB TOKEN"]).unwrap_err();
        assert!(!err.0.contains("SECRET"), "{}", err.0);
    }
}
