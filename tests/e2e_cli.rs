//! The real `cvm-keypairs` client commands against the real `cvm-keypairs emulate`, over
//! 127.0.0.1: delete over GET and POST, every emulator error the client can meet and its exit
//! code, session tokens, bound keys in both modes, `--json`, stdin, `describe`, `--dry-run`
//! byte for byte, clock skew, the demo, and no secret in any output (checked by every run).

mod cli_support;

use std::collections::HashSet;
use std::io::{Read, Write};

use cli_support::*;
use cvm_keypairs::{Credentials, DeleteKeyPairs, Endpoint, Method, RequestConfig, Signer};
use serde_json::Value;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn set(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn delete_over_get_and_post_deletes_and_reports_unknown_ids_as_not_found() {
    for method in ["GET", "POST"] {
        let emu = Emu::start(
            &[
                seed_entry("skey-aaaaaaaa", false),
                seed_entry("skey-bbbbbbbb", false),
                seed_entry("skey-cccccccc", false),
            ],
            &[],
        );
        let out =
            delete(&emu, &["--method", method, "skey-aaaaaaaa", "skey-bbbbbbbb", "skey-zzzzzzzz"], None);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.starts_with("3 key pairs: 2 deleted, 1 not found, 0 kept, 0 failed\n"), "{out:?}");
        assert!(out.stdout.contains("\nDeleted:\n  skey-aaaaaaaa\n  skey-bbbbbbbb\n"), "{}", out.stdout);
        assert!(out.stdout.contains("\nNot found (already absent):\n  skey-zzzzzzzz\n"), "{}", out.stdout);
        assert!(out.stderr.contains("deleted "), "progress on stderr: {}", out.stderr);
        assert_eq!(present(&emu), set(&["skey-cccccccc"]));
        let records = emu.finish();
        assert!(records.iter().filter(|r| r["action"] == "DeleteKeyPairs").all(|r| r["method"] == method));
        assert_eq!(count_code(&records, "InvalidKeyPairId.NotFound"), 1, "{records:?}");
    }
}

#[test]
fn session_tokens_are_sent_checked_and_never_printed() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &["--token", TOKEN]);
    let base = ["delete", "--region", REGION, "--endpoint", &emu.url, "--json"];
    let without = run(&[&base[..], &["skey-aaaaaaaa"]].concat(), Creds::Good(None), None);
    assert_eq!(without.code, 3, "{without:?}");
    assert!(without.stderr.contains("AuthFailure.TokenFailure"), "{}", without.stderr);
    assert_eq!(without.json()["error"]["code"], "AuthFailure.TokenFailure");
    let wrong = run(&[&base[..], &["skey-aaaaaaaa"]].concat(), Creds::Good(Some("another-token")), None);
    assert_eq!(wrong.code, 3, "{wrong:?}");
    assert!(!wrong.stdout.contains("another-token") && !wrong.stderr.contains("another-token"));
    let good = run(&[&base[..], &["skey-aaaaaaaa"]].concat(), Creds::Good(Some(TOKEN)), None);
    assert_eq!(good.code, 0, "{good:?}");
    assert_eq!(good.json()["deleted"], serde_json::json!(["skey-aaaaaaaa"]));
    let dry = run(&[&base[..], &["--dry-run", "skey-aaaaaaaa"]].concat(), Creds::Good(Some(TOKEN)), None);
    assert!(dry.stdout.contains("\r\nx-tc-token: ***\r\n"), "{}", dry.stdout);
    let records = emu.finish();
    assert_eq!(count_code(&records, "AuthFailure.TokenFailure"), 2, "{records:?}");
    assert_eq!(count_code(&records, "OK"), 2, "one delete and one verification");
}

#[test]
fn wrong_or_missing_credentials_exit_3_and_name_the_problem() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let args = ["delete", "--region", REGION, "--endpoint", &emu.url, "skey-aaaaaaaa"];
    let wrong_key = run(&args, Creds::Key("not-the-right-secret-key"), None);
    assert_eq!(wrong_key.code, 3, "{wrong_key:?}");
    assert!(wrong_key.stderr.contains("AuthFailure.SignatureFailure"), "{}", wrong_key.stderr);
    assert!(wrong_key.stderr.contains("RequestId"), "the RequestId is kept: {}", wrong_key.stderr);
    let unknown_id = run(&args, Creds::Id("AKIDunknown0000000000000000000000"), None);
    assert_eq!(unknown_id.code, 3, "{unknown_id:?}");
    assert!(unknown_id.stderr.contains("AuthFailure.SecretIdNotFound"), "{}", unknown_id.stderr);
    let none = run(&args, Creds::None, None);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(none.stderr.contains("no-such-credentials-file"), "{}", none.stderr);
    let no_region = run(&["delete", "--endpoint", &emu.url, "skey-aaaaaaaa"], Creds::Good(None), None);
    assert_eq!(no_region.code, 3, "{no_region:?}");
    assert!(no_region.stderr.contains("TENCENTCLOUD_REGION"), "{}", no_region.stderr);
    let remote_http = run(
        &["delete", "--region", REGION, "--endpoint", "http://cvm.tencentcloudapi.com", "skey-aaaaaaaa"],
        Creds::Good(None),
        None,
    );
    assert_eq!(remote_http.code, 3, "plain http to a remote host is refused: {remote_http:?}");
    let missing_profile = run(
        &["delete", "--region", REGION, "--endpoint", &emu.url, "--profile", "prod", "skey-aaaaaaaa"],
        Creds::Good(None),
        None,
    );
    assert_eq!(missing_profile.code, 3, "{missing_profile:?}");
    let describe = run(&["describe", "--region", REGION, "--endpoint", &emu.url], Creds::Key("wrong"), None);
    assert_eq!(describe.code, 3, "{describe:?}");
    assert!(emu.finish().iter().all(|r| r["code"] != "OK"), "nothing was deleted or listed");
}

#[test]
fn a_profile_named_on_the_command_line_is_used() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let dir = TempDir::new("profile");
    let file =
        dir.file("credentials", &format!("[e2e]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\n"));
    let home = TempDir::new("home-with-profile");
    let out = std::process::Command::new(BIN)
        .args(["delete", "--region", REGION, "--endpoint", &emu.url, "--profile", "e2e", "skey-aaaaaaaa"])
        .env_remove("TENCENTCLOUD_SECRET_ID")
        .env_remove("TENCENTCLOUD_SECRET_KEY")
        .env("TENCENTCLOUD_CREDENTIALS_FILE", &file)
        .env("HOME", &home.0)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains(SECRET_KEY) && !stderr.contains(SECRET_KEY));
    assert!(present(&emu).is_empty());
}

#[test]
fn bound_keys_are_kept_and_reported_in_both_modes() {
    for (mode, code) in
        [("error", "InvalidParameterValue.KeyPairNotSupported"), ("skip", "KeyPairStillPresent")]
    {
        let emu = Emu::start(
            &[
                seed_entry("skey-aaaaaaaa", false),
                seed_entry("skey-bbbbbbbb", true),
                seed_entry("skey-cccccccc", false),
            ],
            &["--bound-behavior", mode],
        );
        let asked = strings(&["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc", "skey-dddddddd"]);
        let args: Vec<&str> = ["--json"].into_iter().chain(asked.iter().map(String::as_str)).collect();
        let out = delete(&emu, &args, None);
        assert_eq!(out.code, 1, "{mode}: {out:?}");
        let (deleted, not_found, failed) = check_json(&out.json(), &asked);
        assert_eq!(deleted, set(&["skey-aaaaaaaa", "skey-cccccccc"]), "{mode}");
        assert_eq!(not_found, set(&["skey-dddddddd"]), "{mode}");
        assert_eq!(failed.get("skey-bbbbbbbb").map(String::as_str), Some(code), "{mode}: {failed:?}");
        let f = &out.json()["failed"][0];
        assert!(f["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{f}");
        assert!(!f["message"].as_str().unwrap().is_empty());

        let human = delete(&emu, &["skey-bbbbbbbb"], None);
        assert_eq!(human.code, 1, "{human:?}");
        assert!(
            human.stdout.contains("Kept (still present after deletion):\n  skey-bbbbbbbb  "),
            "{}",
            human.stdout
        );
        assert!(human.stdout.contains("(RequestId: "), "{}", human.stdout);
        assert_eq!(present(&emu), set(&["skey-bbbbbbbb"]), "{mode}");
    }
}

#[test]
fn ids_come_from_stdin_one_per_line_blanks_ignored() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false), seed_entry("skey-bbbbbbbb", false)], &[]);
    let out = delete(&emu, &["--json", "-"], Some("skey-aaaaaaaa\n\n  skey-bbbbbbbb  \r\n\nskey-aaaaaaaa\n"));
    assert_eq!(out.code, 0, "{out:?}");
    check_json(&out.json(), &strings(&["skey-aaaaaaaa", "skey-bbbbbbbb"]));
    let empty = delete(&emu, &["-"], Some("\n \n"));
    assert_eq!(empty.code, 2, "{empty:?}");
    assert!(present(&emu).is_empty());
}

#[test]
fn malformed_ids_exit_2_and_nothing_is_sent() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let out = delete(&emu, &["skey-aaaaaaaa", "skey-TOOLONG123", "key-aaaaaaaa", "--json"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("skey-TOOLONG123") && out.stderr.contains("key-aaaaaaaa"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let from_stdin = delete(&emu, &["-"], Some("skey-aaaaaaaa\nnot-an-id\n"));
    assert_eq!(from_stdin.code, 2, "{from_stdin:?}");
    let dry = delete(&emu, &["--dry-run", "skey-aaaaaaaa", "x"], None);
    assert_eq!(dry.code, 2, "{dry:?}");
    assert!(dry.stdout.is_empty());
    let describe =
        run(&["describe", "--region", REGION, "--endpoint", &emu.url, "bad"], Creds::Good(None), None);
    assert_eq!(describe.code, 2, "{describe:?}");
    assert_eq!(emu.finish(), Vec::<Value>::new(), "the emulator received nothing");
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    for args in [
        &["delete", "--timestamp", "1700000000", "skey-aaaaaaaa"][..],
        &["delete", "--region", REGION][..],
        &["delete", "--frobnicate", "skey-aaaaaaaa"][..],
        &["delete", "--method", "PUT", "skey-aaaaaaaa"][..],
        &["delete", "--max-retries", "many", "skey-aaaaaaaa"][..],
        &["describe", "--json=yes"][..],
        &["demo", "extra"][..],
        &["undelete"][..],
    ] {
        let out = run(args, Creds::Good(None), None);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with("error: "), "{args:?}: {}", out.stderr);
    }
    let help = run(&["delete", "--help"], Creds::None, None);
    assert_eq!(help.code, 0);
    for line in [
        "Exit codes:",
        "  0  every requested key pair is absent",
        "  1  some key pairs remain",
        "  2  usage",
        "  3  credentials",
        "  4  network",
        "--no-verify",
        "--max-retries",
        "--rate-limit",
        "--dry-run",
        "--profile",
    ] {
        assert!(help.stdout.contains(line), "{line:?} missing from:\n{}", help.stdout);
    }
    for command in ["describe", "demo", "emulate"] {
        let out = run(&["help", command], Creds::None, None);
        assert_eq!(out.code, 0, "{command}");
        assert!(out.stdout.contains(&format!("cvm-keypairs {command}")), "{}", out.stdout);
    }
}

#[test]
fn describe_lists_everything_or_the_given_ids() {
    let mut seed: Vec<Value> = ids("d", 150).iter().map(|id| seed_entry(id, false)).collect();
    seed.push(seed_entry("skey-bbbbbbbb", true));
    let emu = Emu::start(&seed, &[]);
    let base = ["describe", "--region", REGION, "--endpoint", &emu.url];
    let all = run(&[&base[..], &["--json"]].concat(), Creds::Good(None), None);
    assert_eq!(all.code, 0, "{all:?}");
    assert_eq!(ids_of(&all.json()["key_pairs"], "KeyId").len(), 151, "every page");
    let some = run(
        &[&base[..], &["--method", "GET", "--json", "skey-bbbbbbbb", "skey-zzzzzzzz"]].concat(),
        Creds::Good(None),
        None,
    );
    assert_eq!(some.code, 0, "{some:?}");
    let json = some.json();
    assert_eq!(json["key_pairs"][0]["KeyId"], "skey-bbbbbbbb");
    assert_eq!(json["key_pairs"][0]["AssociatedInstanceIds"], serde_json::json!(["ins-e2e00001"]));
    assert_eq!(json["not_found"], serde_json::json!(["skey-zzzzzzzz"]));
    let human = run(&[&base[..], &["skey-bbbbbbbb", "skey-zzzzzzzz"]].concat(), Creds::Good(None), None);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.starts_with("KEY ID "), "{}", human.stdout);
    assert!(human.stdout.contains("skey-bbbbbbbb") && human.stdout.contains("ins-e2e00001"));
    assert!(human.stdout.ends_with("1 key pair(s)\nnot found: skey-zzzzzzzz\n"), "{}", human.stdout);
    let records = emu.finish();
    assert!(records.iter().all(|r| r["action"] == "DescribeKeyPairs" && r["code"] == "OK"), "{records:?}");
}

/// The request the library builds for `ids` with the CLI's settings.
fn library_request(url: &str, method: Method, creds: &Credentials, ids: &[String], ts: i64) -> String {
    let config = RequestConfig {
        endpoint: Endpoint::parse(url).unwrap(),
        region: REGION.into(),
        method,
        ..RequestConfig::default()
    };
    let action = DeleteKeyPairs::parse(ids.iter().map(String::as_str)).unwrap();
    config.build(&Signer::new(), creds, &action, ts).unwrap().to_string()
}

#[test]
fn dry_run_prints_what_the_library_signs_byte_for_byte_and_replaying_it_authenticates() {
    let ids150 = ids("r", 150);
    let emu = Emu::start(&ids150.iter().map(|id| seed_entry(id, false)).collect::<Vec<_>>(), &[]);
    let plain = Credentials::new(SECRET_ID, SECRET_KEY).unwrap();
    let with_token = plain.clone().with_token(TOKEN).unwrap();
    for (method, name) in [(Method::Get, "GET"), (Method::Post, "POST")] {
        for (creds, token) in [(&plain, None), (&with_token, Some(TOKEN))] {
            let ts = 1_700_000_000;
            let mut args = vec!["delete", "--region", REGION, "--endpoint", &emu.url, "--method", name];
            args.extend(["--dry-run", "--timestamp", "1700000000"]);
            args.extend(ids150.iter().map(String::as_str));
            let out = run(&args, Creds::Good(token), None);
            assert_eq!(out.code, 0, "{out:?}");
            let expected = library_request(&emu.url, method, creds, &ids150[..100], ts)
                + &library_request(&emu.url, method, creds, &ids150[100..], ts);
            assert_eq!(out.stdout, expected, "{name}, token {}", token.is_some());
            assert!(out.stderr.contains("nothing was sent"), "{}", out.stderr);
        }
    }
    assert_eq!(emu.finish(), Vec::<Value>::new(), "a dry run sends nothing");

    for (method, name) in [(Method::Get, "GET"), (Method::Post, "POST")] {
        let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
        // Near now, so the emulator's 300 s window accepts it.
        let ts = now() - 60;
        let shown = ts.to_string();
        let args = [
            "delete",
            "--region",
            REGION,
            "--endpoint",
            &emu.url,
            "--method",
            name,
            "--dry-run",
            "--timestamp",
            &shown,
            "skey-aaaaaaaa",
        ];
        let out = run(&args, Creds::Good(None), None);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout, library_request(&emu.url, method, &plain, &strings(&["skey-aaaaaaaa"]), ts));
        let mut stream = std::net::TcpStream::connect(emu.url.strip_prefix("http://").unwrap()).unwrap();
        stream.write_all(out.stdout.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(!answer.contains("\"Error\""), "{name}: {answer}");
        assert!(present(&emu).is_empty(), "{name}: the replayed request deleted the key");
    }
}

#[test]
fn throttling_server_errors_and_dropped_connections_are_reported_per_key_with_their_exit_code() {
    // The emulator admits 1 request per second and the client sends up to 10: throttling has
    // its own retry budget, which `--max-retries 0` (transient failures) leaves alone.
    let seed: Vec<Value> = ids("t", 300).iter().map(|id| seed_entry(id, false)).collect();
    let emu = Emu::start(&seed, &["--rate-limit", "1"]);
    let asked = ids("t", 300);
    let mut args = vec!["--json", "--no-verify", "--max-retries", "0"];
    args.extend(asked.iter().map(String::as_str));
    let out = delete(&emu, &args, None);
    assert_eq!(out.code, 0, "{out:?}");
    let (deleted, _, _) = check_json(&out.json(), &asked);
    assert_eq!(deleted.len(), 300, "throttled requests waited and went through");
    assert!(count_code(&emu.finish(), "RequestLimitExceeded") > 0, "the emulator did throttle");

    for (fault, code) in [("--fail-rate", "HTTP500"), ("--drop-rate", "Transport.Io")] {
        let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[fault, "1"]);
        let out = delete(&emu, &["--json", "--max-retries", "1", "skey-aaaaaaaa"], None);
        assert_eq!(out.code, 4, "{fault}: {out:?}");
        let (_, _, failed) = check_json(&out.json(), &strings(&["skey-aaaaaaaa"]));
        assert_eq!(failed["skey-aaaaaaaa"], code, "{fault}");
        let records = emu.finish();
        let deletes = records.iter().filter(|r| r["action"] == "DeleteKeyPairs").count();
        assert_eq!(deletes, 2, "{fault}: one retry: {records:?}");
        // Either fault may hide a deletion that happened: the batch asks whether the key is gone.
        assert!(records.iter().any(|r| r["action"] == "DescribeKeyPairs"), "{fault}: {records:?}");
    }

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = run(
        &["delete", "--region", REGION, "--endpoint", &url, "--max-retries", "0", "--json", "skey-aaaaaaaa"],
        Creds::Good(None),
        None,
    );
    assert_eq!(out.code, 4, "{out:?}");
    assert_eq!(out.json()["failed"][0]["code"], "Transport.Connect");
    let describe = run(
        &["describe", "--region", REGION, "--endpoint", &url, "--max-retries", "0"],
        Creds::Good(None),
        None,
    );
    assert_eq!(describe.code, 4, "{describe:?}");
}

#[test]
fn a_server_clock_one_hour_ahead_is_corrected_and_reports_no_error() {
    let emu = Emu::start(
        &[seed_entry("skey-aaaaaaaa", false), seed_entry("skey-bbbbbbbb", false)],
        &["--clock-offset", "3600"],
    );
    let out = delete(&emu, &["--json", "skey-aaaaaaaa", "skey-bbbbbbbb"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let (deleted, _, failed) = check_json(&out.json(), &strings(&["skey-aaaaaaaa", "skey-bbbbbbbb"]));
    assert_eq!((deleted.len(), failed.len()), (2, 0));
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
    let records = emu.finish();
    assert_eq!(count_code(&records, "AuthFailure.SignatureExpire"), 1, "corrected once: {records:?}");
}

#[test]
fn the_demo_runs_with_no_configuration_at_all() {
    for extra in [&[][..], &["--bound-behavior", "skip", "--method", "GET"][..]] {
        let out = run(&[&["demo"][..], extra].concat(), Creds::None, None);
        assert_eq!(out.code, 0, "{extra:?}: {out:?}");
        for step in ["=== 1.", "=== 2.", "=== 3.", "=== 4.", "=== 5.", "Done: 5 key pairs deleted"] {
            assert!(out.stdout.contains(step), "{step:?} missing:\n{}", out.stdout);
        }
        assert!(out.stdout.contains("x-tc-action: DeleteKeyPairs"), "the signed request is shown");
        assert!(out.stdout.contains("[emulator] #") && out.stdout.contains("RequestId "), "{}", out.stdout);
        assert!(!out.stdout.contains(cvm_keypairs::emulator::EmulatorConfig::DEFAULT_SECRET_KEY));
    }
}

#[test]
fn timeout_and_language_options_reach_the_requests() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &["--slow-ms", "1500"]);
    let out = delete(&emu, &["--timeout", "0.3", "--max-retries", "0", "--json", "skey-aaaaaaaa"], None);
    assert_eq!(out.code, 4, "{out:?}");
    assert_eq!(out.json()["failed"][0]["code"], "Transport.Timeout", "{}", out.stdout);
    let dry = delete(&emu, &["--dry-run", "--language", "en-US", "skey-aaaaaaaa"], None);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("\r\nx-tc-language: en-US\r\n"), "{}", dry.stdout);
    let bad_timestamp = delete(&emu, &["--dry-run", "--timestamp", "999999999999", "skey-aaaaaaaa"], None);
    assert_eq!(bad_timestamp.code, 2, "{bad_timestamp:?}");
}
