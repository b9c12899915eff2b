//! The real `cvm-keypairs` client commands against the real `cvm-keypairs emulate`, over
//! 127.0.0.1: delete over GET and POST, every emulator error the client can meet and its exit
//! code, session tokens, bound keys in both modes, `--json` for every outcome, stdin (its
//! format and its bounds), `describe`, `--dry-run` byte for byte, clock skew, the demo, a stdout
//! that cannot be written or whose reader left, a hostile loopback server's terminal escapes,
//! and no secret in any output (checked by every run).

mod cli_support;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_support::*;
use cvm_keypairs::{Credentials, DeleteKeyPairs, Endpoint, HttpRequest, Method, RequestConfig};
use serde_json::{json, Value};

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
    assert_eq!(dry.json()["requests"][0]["headers"]["X-TC-Token"], "***", "{}", dry.stdout);
    let wire = run(&[&base[..5], &["--dry-run", "skey-aaaaaaaa"]].concat(), Creds::Good(Some(TOKEN)), None);
    assert!(wire.stdout.contains("\r\nx-tc-token: ***\r\n"), "{}", wire.stdout);
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
        let f = &out.json()["kept"][0];
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
fn stdin_ids_are_separated_by_any_whitespace_with_comments_and_a_byte_order_mark() {
    let emu = Emu::start(
        &["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc", "skey-dddddddd", "skey-eeeeeeee"]
            .map(|id| seed_entry(id, false)),
        &[],
    );
    let input = "\u{feff}# exported by a script\r\nskey-aaaaaaaa\n\n  skey-bbbbbbbb  \r\n\
                 skey-cccccccc skey-dddddddd\tskey-aaaaaaaa  # web, kept twice\n#skey-eeeeeeee\n";
    let out = delete(&emu, &["--json", "-"], Some(input));
    assert_eq!(out.code, 0, "{out:?}");
    check_json(&out.json(), &strings(&["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc", "skey-dddddddd"]));
    assert_eq!(present(&emu), set(&["skey-eeeeeeee"]), "the commented-out id is left alone");
    assert_eq!(emu.finish().iter().filter(|r| r["action"] == "DeleteKeyPairs").count(), 1);
}

#[test]
fn stdin_without_any_id_is_an_empty_report_and_sends_nothing() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    // No region and no credentials either: there is nothing to sign.
    for input in ["", "\n \r\n\t\n", "\u{feff}", "# nothing to delete today\n\n"] {
        let human = run(&["delete", "--endpoint", &emu.url, "-"], Creds::None, Some(input));
        assert_eq!(
            (human.code, human.stdout.as_str()),
            (0, "0 key pairs: 0 deleted, 0 not found, 0 kept, 0 failed\n"),
            "{input:?}: {human:?}"
        );
        let json = run(&["delete", "--endpoint", &emu.url, "--json", "-"], Creds::None, Some(input));
        assert_eq!(json.code, 0, "{json:?}");
        assert_eq!(check_json(&json.json(), &[]).0.len(), 0);
        let dry = run(&["delete", "--dry-run", "--json", "-"], Creds::None, Some(input));
        assert_eq!((dry.code, dry.json()), (0, serde_json::json!({"requests": []})), "{dry:?}");
        let listed = run(&["describe", "--endpoint", &emu.url, "--json", "-"], Creds::None, Some(input));
        assert_eq!(listed.code, 0, "{listed:?}");
        assert_eq!(
            listed.json(),
            serde_json::json!({"key_pairs": [], "not_found": [], "unknown": [], "complete": true}),
            "not every key pair"
        );
        let table = run(&["describe", "--endpoint", &emu.url, "-"], Creds::None, Some(input));
        assert_eq!((table.code, table.stdout.as_str()), (0, "0 key pairs\n"), "{table:?}");
    }
    let no_ids_at_all = run(&["delete", "--json"], Creds::None, None);
    assert_eq!(no_ids_at_all.code, 2, "without `-`, no ids is still a usage error: {no_ids_at_all:?}");
    assert_eq!(emu.finish(), Vec::<Value>::new(), "the emulator received nothing");
}

#[test]
fn describe_reads_ids_from_stdin_like_delete() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false), seed_entry("skey-bbbbbbbb", true)], &[]);
    let base = ["describe", "--region", REGION, "--endpoint", &emu.url, "--json"];
    let out = run(
        &[&base[..], &["skey-zzzzzzzz", "-"]].concat(),
        Creds::Good(None),
        Some("\u{feff}skey-bbbbbbbb # bound\r\nskey-aaaaaaaa skey-bbbbbbbb\n"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(ids_of(&out.json()["key_pairs"], "KeyId"), set(&["skey-aaaaaaaa", "skey-bbbbbbbb"]));
    assert_eq!(out.json()["not_found"], serde_json::json!(["skey-zzzzzzzz"]));
    let bad = run(&[&base[..], &["-"]].concat(), Creds::Good(None), Some("skey-aaaaaaaa\nnot-an-id\n"));
    assert_eq!(bad.code, 2, "{bad:?}");
    assert_eq!(bad.json()["error"]["code"], "InvalidKeyIds");
    let twice = run(&[&base[..], &["-", "-"]].concat(), Creds::Good(None), Some(""));
    assert_eq!(twice.code, 2, "{twice:?}");
    let records = emu.finish();
    assert_eq!(records.len(), 1, "one DescribeKeyPairs, nothing for the refused runs: {records:?}");
}

#[test]
fn malformed_ids_exit_2_and_nothing_is_sent() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let out = delete(&emu, &["skey-aaaaaaaa", "skey-TOOLONG123", "key-aaaaaaaa", "--json"], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("skey-TOOLONG123") && out.stderr.contains("key-aaaaaaaa"), "{}", out.stderr);
    assert!(out.stderr.contains("2 invalid key pair ids") && out.stderr.contains("Nothing was sent"));
    assert_eq!(out.json()["error"]["code"], "InvalidKeyIds", "{}", out.stdout);
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
        "  5  the report could not be written",
        "AuthFailure.SignatureExpire",
        "Date header",
        "`#` starts a",
        "{\"error\":{\"code\",\"message\",\"request_id\"}}",
        "{\"requests\":[",
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
    let describe = run(&["describe", "--help"], Creds::None, None);
    for text in
        ["5 the list could not be written", "AuthFailure.SignatureExpire", "Date header", "--json", "-     ("]
    {
        assert!(describe.stdout.contains(text), "{text:?} missing from:\n{}", describe.stdout);
    }
    let top = run(&["--help"], Creds::None, None);
    assert!(top.stdout.contains("5 the output could not be written"), "{}", top.stdout);
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
    assert_eq!(json["unknown"], serde_json::json!([]), "the answer was complete");
    let fields: Vec<&String> = json["key_pairs"][0].as_object().unwrap().keys().collect();
    let expected = [
        "AssociatedInstanceIds",
        "CreatedTime",
        "Description",
        "KeyId",
        "KeyName",
        "ProjectId",
        "PublicKey",
        "Tags",
    ];
    assert_eq!(fields, expected, "the key pair as the library serialises it");
    let human = run(&[&base[..], &["skey-bbbbbbbb", "skey-zzzzzzzz"]].concat(), Creds::Good(None), None);
    assert_eq!(human.code, 0, "{human:?}");
    assert!(human.stdout.starts_with("KEY ID "), "{}", human.stdout);
    assert!(human.stdout.contains("skey-bbbbbbbb") && human.stdout.contains("ins-e2e00001"));
    assert!(human.stdout.ends_with("\n1 key pair\nnot found: skey-zzzzzzzz\n"), "{}", human.stdout);
    let records = emu.finish();
    assert!(records.iter().all(|r| r["action"] == "DescribeKeyPairs" && r["code"] == "OK"), "{records:?}");
}

/// The request the library builds for `ids` with the CLI's settings.
fn library_build(
    url: &str,
    method: Method,
    creds: &Credentials,
    ids: &[String],
    ts: i64,
) -> HttpRequest<'static> {
    let mut config = RequestConfig::default();
    config.endpoint = Endpoint::parse(url).unwrap();
    config.region = REGION.into();
    config.method = method;
    let action = DeleteKeyPairs::new(ids).unwrap();
    config.build(creds, &action, ts).unwrap().into_owned()
}

/// [`library_build`] as it goes on the wire.
fn library_request(url: &str, method: Method, creds: &Credentials, ids: &[String], ts: i64) -> String {
    library_build(url, method, creds, ids, ts).to_string()
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
        assert!(!out.stdout.contains(cvm_keypairs_emulator::EmulatorConfig::DEFAULT_SECRET_KEY));
        assert!(
            out.stdout.contains("TENCENTCLOUD_SECRET_ID and\nTENCENTCLOUD_SECRET_KEY set"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains(" (0 ids) -> ") && out.stdout.contains(" (7 ids) -> "), "{}", out.stdout);
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
    // The last second of the year 9999 is signed; the next is refused before signing.
    let last = delete(&emu, &["--dry-run", "--timestamp", "253402300799", "skey-aaaaaaaa"], None);
    assert_eq!(last.code, 0, "{last:?}");
    assert!(last.stdout.contains("\r\nx-tc-timestamp: 253402300799\r\n"), "{}", last.stdout);
    let past = delete(&emu, &["--dry-run", "--timestamp", "253402300800", "skey-aaaaaaaa"], None);
    assert_eq!(past.code, 2, "{past:?}");
    assert!(past.stderr.contains("after the year 9999") && past.stderr.contains("Nothing was sent"));
}

/// A loopback port that never answers and tells whether anyone connected to it.
struct Listener(std::net::TcpListener);

impl Listener {
    fn new() -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Listener(listener)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    /// Whether a connection is waiting: the kernel queues one even though nobody accepts it.
    fn connected(&self) -> bool {
        match self.0.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_proxy_variable_the_client_cannot_use_exits_3_naming_it_and_nothing_is_sent() {
    const PROXY_PASSWORD: &str = "proxy-PASSWORD-never-printed";
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let proxy = Listener::new();
    let port = proxy.port();
    let cases = [
        ("HTTPS_PROXY", format!("socks5://127.0.0.1:{port}")),
        ("ALL_PROXY", format!("socks5h://user:{PROXY_PASSWORD}@127.0.0.1:{port}")),
        ("https_proxy", format!("socks4://127.0.0.1:{port}")),
        ("http_proxy", format!("http://user:{PROXY_PASSWORD}@[::1")),
    ];
    let delete = ["delete", "--region", REGION, "--endpoint", &emu.url, "skey-aaaaaaaa"];
    let describe = ["describe", "--region", REGION, "--endpoint", &emu.url];
    let dry_run = [&delete[..], &["--dry-run"]].concat();
    for (var, value) in &cases {
        for args in [&delete[..], &describe[..], &dry_run[..]] {
            let out = run_with(args, Creds::Good(None), None, &[(var, value)]);
            assert_eq!(out.code, 3, "{var}: {out:?}");
            assert!(out.stderr.starts_with(&format!("error: invalid input: {var} ")), "{}", out.stderr);
            assert!(out.stdout.is_empty(), "{var}: {}", out.stdout);
            for shown in [&out.stdout, &out.stderr] {
                assert!(!shown.contains(PROXY_PASSWORD) && !shown.contains(value.as_str()), "{shown}");
            }
        }
    }
    assert!(!proxy.connected(), "nothing went to the proxy");
    // A usable proxy is accepted, and the loopback emulator is still reached directly.
    let usable = format!("http://127.0.0.1:{port}");
    let out = run_with(&delete, Creds::Good(None), None, &[("HTTPS_PROXY", &usable)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!proxy.connected(), "loopback requests never go through a proxy");
    let records = emu.finish();
    assert_eq!(records.len(), 2, "only the last run sent anything, a delete and its check: {records:?}");
}

#[test]
fn an_empty_or_missing_region_exits_3_saying_no_region_and_nothing_is_sent() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let url = emu.url.as_str();
    type Env<'a> = &'a [(&'a str, &'a str)];
    let runs: [(&[&str], Env); 7] = [
        (&["delete", "--region", "", "--endpoint", url, "skey-aaaaaaaa"], &[]),
        (&["delete", "--region=", "--endpoint", url, "--dry-run", "skey-aaaaaaaa"], &[]),
        (&["describe", "--region", "", "--endpoint", url], &[]),
        // An empty --region is not replaced by the variable.
        (&["delete", "--region", "", "--endpoint", url, "skey-aaaaaaaa"], &[("TENCENTCLOUD_REGION", REGION)]),
        (&["delete", "--endpoint", url, "skey-aaaaaaaa"], &[("TENCENTCLOUD_REGION", "")]),
        (&["delete", "--endpoint", url, "--json", "skey-aaaaaaaa"], &[]),
        (&["describe", "--endpoint", url], &[]),
    ];
    for (args, env) in runs {
        let out = run_with(args, Creds::Good(None), None, env);
        assert_eq!(out.code, 3, "{args:?} {env:?}: {out:?}");
        assert!(out.stderr.contains("no region"), "{args:?} {env:?}: {}", out.stderr);
        if args.contains(&"--json") {
            assert!(out.json()["error"]["message"].as_str().unwrap().contains("no region"), "{}", out.stdout);
        } else {
            assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        }
    }
    assert_eq!(emu.finish(), Vec::<Value>::new(), "the emulator received nothing");
}

#[cfg(unix)]
#[test]
fn a_profile_file_others_can_read_is_used_with_one_warning() {
    use std::os::unix::fs::PermissionsExt;
    let asked = ids("m", 300);
    let emu = Emu::start(&asked.iter().map(|id| seed_entry(id, false)).collect::<Vec<_>>(), &[]);
    let dir = TempDir::new("profile-mode");
    let profile = format!("[default]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\n");
    let file = dir.file(
        "credentials",
        &format!("{profile}[e2e]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\n"),
    );
    let env = [("TENCENTCLOUD_CREDENTIALS_FILE", file.as_str())];
    for (mode, batch) in [(0o644, &asked[..150]), (0o600, &asked[150..])] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        // Two DeleteKeyPairs and their checks, all signed with the profile's credentials.
        let mut delete = vec!["delete", "--region", REGION, "--endpoint", &emu.url, "--profile", "e2e"];
        delete.extend(batch.iter().map(String::as_str));
        let describe = ["describe", "--region", REGION, "--endpoint", &emu.url, "--json"];
        for args in [&delete[..], &describe[..]] {
            let out = run_with(args, Creds::None, None, &env);
            assert_eq!(out.code, 0, "{mode:o} {:?}: {out:?}", args[0]);
            let warnings = out.stderr.matches("warning:").count();
            if mode == 0o644 {
                let expected = format!("warning: {file} is readable by others (mode 0644); chmod 600 it\n");
                assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
                assert_eq!(warnings, 1, "{}", out.stderr);
            } else {
                assert_eq!(warnings, 0, "{}", out.stderr);
            }
        }
    }
    assert!(present(&emu).is_empty(), "both deletions went through");
}

#[cfg(unix)]
#[test]
fn a_profile_path_that_is_not_a_regular_file_exits_3_at_once() {
    let dir = TempDir::new("profile-special");
    let fifo = dir.0.join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let server = Listener::new();
    let endpoint = format!("http://127.0.0.1:{}", server.port());
    for path in [fifo.to_str().unwrap(), "/dev/null", "/dev/zero", dir.0.to_str().unwrap()] {
        for profile in [&["--profile", "default"][..], &[]] {
            let args = [&["describe", "--region", REGION, "--endpoint", &endpoint][..], profile].concat();
            let out = run_with(&args, Creds::None, None, &[("TENCENTCLOUD_CREDENTIALS_FILE", path)]);
            assert_eq!(out.code, 3, "{path} {profile:?}: {out:?}");
            assert!(out.stderr.contains(&format!("profile file {path}")), "{}", out.stderr);
            assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
        }
    }
    assert!(!server.connected(), "nothing was sent");
}

/// Runs `args` with good credentials, stdout on `/dev/full` (every write fails: disk full);
/// returns the exit code and stderr.
fn run_with_full_stdout(args: &[&str]) -> (i32, String) {
    let home = TempDir::new("home");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output = command(args, Creds::Good(None), &home)
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stderr).unwrap())
}

#[test]
fn a_report_that_cannot_be_written_is_an_error_with_exit_5_though_the_keys_are_deleted() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false), seed_entry("skey-bbbbbbbb", false)], &[]);
    let base = ["--region", REGION, "--endpoint", &emu.url];
    for (args, what) in [
        (vec!["delete", "skey-aaaaaaaa"], "the human report"),
        (vec!["delete", "--json", "skey-bbbbbbbb"], "the JSON report"),
        (vec!["describe"], "the table"),
        (vec!["describe", "--json"], "the JSON list"),
        (vec!["delete", "--dry-run", "skey-cccccccc"], "the signed requests"),
    ] {
        let all: Vec<&str> = args[..1].iter().chain(&base).chain(&args[1..]).copied().collect();
        let (code, stderr) = run_with_full_stdout(&all);
        assert_eq!(code, 5, "{what}: {stderr}");
        assert!(stderr.contains("error: cannot write to stdout: "), "{what}: {stderr}");
        assert!(stderr.contains("the output is incomplete"), "{what}: {stderr}");
    }
    let (code, stderr) = run_with_full_stdout(&["delete", "--help"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(present(&emu).is_empty(), "both deletions happened; only their reports were lost");
}

#[test]
fn a_reader_that_stops_reading_ends_the_run_quietly_with_its_own_exit_code() {
    let asked = ids("p", 150);
    let emu = Emu::start(&asked.iter().map(|id| seed_entry(id, false)).collect::<Vec<_>>(), &[]);
    for (command_name, code) in [("describe", 0), ("delete", 0), ("describe", 0)] {
        let home = TempDir::new("home");
        let args = [command_name, "--region", REGION, "--endpoint", &emu.url, "-"];
        let mut child = command(&args, Creds::Good(None), &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away first (`| head -0`); the command only writes once stdin ends.
        drop(child.stdout.take());
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(asked.join("\n").as_bytes()).unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(code), "{command_name}: {stderr}");
        assert!(stderr.lines().all(|l| l.starts_with("deleted ")), "{command_name}: only progress: {stderr}");
    }
    assert!(present(&emu).is_empty(), "the delete went through");
}

#[test]
fn with_json_every_outcome_is_one_json_object_even_usage_errors_and_bad_input() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let long_word = "x".repeat(100);
    // Arguments, credentials, stdin, exit code, JSON error code.
    type Case<'a> = (&'a [&'a str], Creds<'a>, Option<&'a str>, i32, &'a str);
    let cases: &[Case] = &[
        (&["delete", "skey-bad", "--json"], Creds::Good(None), None, 2, "InvalidKeyIds"),
        (&["delete", "--frobnicate", "skey-aaaaaaaa", "--json"], Creds::Good(None), None, 2, "UsageError"),
        (&["delete", "--json"], Creds::Good(None), None, 2, "UsageError"),
        (&["delete", "--json=yes", "skey-aaaaaaaa"], Creds::Good(None), None, 2, "UsageError"),
        (&["delete", "--timeout", "0", "skey-aaaaaaaa", "--json"], Creds::Good(None), None, 2, "UsageError"),
        (
            &["delete", "--dry-run", "--timestamp", "-1", "skey-aaaaaaaa", "--json"],
            Creds::Good(None),
            None,
            2,
            "UsageError",
        ),
        (&["delete", "--json", "-"], Creds::Good(None), Some(&long_word), 2, "InvalidInput"),
        (&["delete", "--json", "-"], Creds::Good(None), Some("skey-aaaaaaaa skey-b"), 2, "InvalidKeyIds"),
        (&["describe", "bad", "--json"], Creds::Good(None), None, 2, "InvalidKeyIds"),
        (&["describe", "--frobnicate", "--json"], Creds::Good(None), None, 2, "UsageError"),
        (
            &[
                "delete",
                "--region",
                REGION,
                "--dry-run",
                "--timestamp",
                "999999999999",
                "skey-aaaaaaaa",
                "--json",
            ],
            Creds::Good(None),
            None,
            2,
            "InvalidTimestamp",
        ),
        (
            &["delete", "--region", REGION, "--endpoint", &emu.url, "skey-aaaaaaaa", "--json"],
            Creds::None,
            None,
            3,
            "Credentials",
        ),
        (
            &["delete", "--region", REGION, "--endpoint", "http://example.com", "skey-aaaaaaaa", "--json"],
            Creds::Good(None),
            None,
            3,
            "InvalidEndpoint",
        ),
        (
            &["describe", "--region", REGION, "--endpoint", &emu.url, "--json"],
            Creds::Key("wrong-key"),
            None,
            3,
            "AuthFailure.SignatureFailure",
        ),
    ];
    for &(args, creds, stdin, exit, code) in cases {
        let out = run(args, creds, stdin);
        assert_eq!(out.code, exit, "{args:?}: {out:?}");
        let error = &out.json()["error"];
        assert_eq!(error["code"], code, "{args:?}: {}", out.stdout);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{args:?}: {error}");
        assert_eq!(error.as_object().unwrap().len(), 3, "code, message, request_id: {error}");
        assert!(out.stderr.starts_with("error: "), "the message is on stderr too: {args:?}: {}", out.stderr);
    }
    assert!(present(&emu).contains("skey-aaaaaaaa"), "nothing was deleted");
}

#[test]
fn dry_run_with_json_prints_every_signed_request_as_one_object_token_masked() {
    let asked = ids("j", 150);
    let plain = Credentials::new(SECRET_ID, SECRET_KEY).unwrap();
    let with_token = plain.with_token(TOKEN).unwrap();
    let url = "http://127.0.0.1:9";
    for (method, name) in [(Method::Get, "GET"), (Method::Post, "POST")] {
        let mut args = vec!["delete", "--region", REGION, "--endpoint", url, "--method", name];
        args.extend(["--dry-run", "--json", "--timestamp", "1700000000"]);
        args.extend(asked.iter().map(String::as_str));
        let out = run(&args, Creds::Good(Some(TOKEN)), None);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stderr.contains("dry run: 2 requests for 150 key pairs signed at 1700000000"),
            "{}",
            out.stderr
        );
        let json = out.json();
        let requests = json["requests"].as_array().unwrap();
        assert_eq!((json.as_object().unwrap().len(), requests.len()), (1, 2), "{json}");
        for (shown, chunk) in requests.iter().zip([&asked[..100], &asked[100..]]) {
            let expected = library_build(url, method, &with_token, chunk, 1_700_000_000);
            assert_eq!(shown["method"], name);
            assert_eq!(shown["url"], expected.url.as_ref());
            assert_eq!(shown["body"], String::from_utf8(expected.body.clone()).unwrap());
            let headers = shown["headers"].as_object().unwrap();
            assert_eq!(headers.len(), expected.headers.len(), "{headers:?}");
            for (header, value) in &expected.headers {
                let value = if *header == "X-TC-Token" { "***" } else { value.as_ref() };
                assert_eq!(headers[*header], value, "{header}");
            }
            assert_eq!(headers["X-TC-Token"], "***");
        }
    }
}

const HOSTILE: &str =
    "boom\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nerror: forged line\u{202e}\u{2066}\u{9b}2J\u{7f}\u{0}";

/// A loopback server answering DeleteKeyPairs (or, with `fail_everything`, every action) with
/// an API error whose code, message and RequestId hold terminal escapes and forged lines, and
/// DescribeKeyPairs with a key pair whose name, date and instance do.
fn hostile_server(fail_everything: bool) -> support::Server {
    support::Server::start(move |request| {
        let action = request.all("X-TC-Action").first().copied().unwrap_or_default().to_owned();
        let body = if fail_everything || action == "DeleteKeyPairs" {
            json!({"Response": {
                "Error": {"Code": "Hostile.\u{1b}[2J", "Message": HOSTILE},
                "RequestId": "rid\u{1b}[31m\r\nerror: forged"
            }})
        } else {
            json!({"Response": {
                "TotalCount": 1,
                "KeyPairSet": [{
                    "KeyId": "skey-aaaaaaaa",
                    "KeyName": format!("web{HOSTILE}"),
                    "CreatedTime": "2024\u{1b}[8m",
                    "AssociatedInstanceIds": ["ins-\u{202e}1\u{85}"],
                    "Tags": [{"Key": format!("k{HOSTILE}"), "Value": HOSTILE}]
                }],
                "RequestId": "rid-describe\u{1b}c"
            }})
        };
        support::Reply::json(&body.to_string())
    })
}

/// Asserts `text` holds no control, bidirectional-formatting or line-separator character but
/// line ends, and no line that a server forged.
fn assert_safe_for_terminals(what: &str, text: &str) {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    assert!(!text.chars().any(unsafe_char), "{what}: a raw control character in {text:?}");
    assert!(!text.lines().any(|l| l.starts_with("error: forged")), "{what}: a forged line in {text:?}");
    assert!(text.contains("\\u{1b}"), "{what}: the escapes are shown, not dropped: {text:?}");
}

#[test]
fn text_from_a_hostile_server_is_escaped_for_people_and_exact_in_json() {
    let server = hostile_server(false);
    let url = server.url();
    let base = ["--region", REGION, "--endpoint", &url, "--max-retries", "0"];
    let human = run(&[&["delete"][..], &base, &["skey-aaaaaaaa"]].concat(), Creds::Good(None), None);
    assert_eq!(human.code, 1, "{human:?}");
    assert_safe_for_terminals("delete report", &human.stdout);
    assert!(
        human.stdout.contains("skey-aaaaaaaa  Hostile.\\u{1b}[2J: boom\\u{1b}]0;pwned\\u{7}"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("\\u{d}\\u{a}error: forged line\\u{202e}\\u{2066}\\u{9b}2J\\u{7f}\\u{0}"));
    assert!(human.stderr.lines().all(|l| !l.starts_with("error")), "{}", human.stderr);

    let json = run(&[&["delete", "--json"][..], &base, &["skey-aaaaaaaa"]].concat(), Creds::Good(None), None);
    let failed = &json.json()["failed"][0];
    assert_eq!(failed["code"], "Hostile.\u{1b}[2J", "JSON keeps the exact text");
    assert_eq!(failed["message"], HOSTILE);
    assert_eq!(failed["request_id"], "rid\u{1b}[31m\r\nerror: forged");

    let table = run(&[&["describe"][..], &base].concat(), Creds::Good(None), None);
    assert_eq!(table.code, 0, "{table:?}");
    assert_safe_for_terminals("describe table", &table.stdout);
    assert_eq!(table.stdout.lines().count(), 3, "header, one row, count: {}", table.stdout);
    assert!(table.stdout.contains("ins-\\u{202e}1\\u{85}"), "{}", table.stdout);
    assert!(table.stdout.contains("  kboom\\u{1b}]0;pwned"), "the tags, escaped: {}", table.stdout);
    let listed = run(&[&["describe", "--json"][..], &base].concat(), Creds::Good(None), None);
    assert_eq!(listed.json()["key_pairs"][0]["KeyName"], format!("web{HOSTILE}"));
    assert_eq!(listed.json()["key_pairs"][0]["Tags"][0]["Value"], HOSTILE);
    let plan =
        run(&[&["delete", "--name", "*", "--older-than", "1d"][..], &base].concat(), Creds::Good(None), None);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_safe_for_terminals("delete plan notes", &plan.stderr);
    assert!(
        plan.stderr.contains("CreatedTime cannot be read (e.g. skey-aaaaaaaa: \"2024\\u{1b}[8m\")"),
        "{}",
        plan.stderr
    );
    assert_eq!(
        plan.stdout.lines().count(),
        0,
        "a CreatedTime that cannot be read is not older: {}",
        plan.stdout
    );
    let plan = run(&[&["delete", "--name", "web*"][..], &base].concat(), Creds::Good(None), None);
    assert_safe_for_terminals("delete plan", &plan.stdout);
    assert_eq!(plan.stdout.lines().count(), 1, "{}", plan.stdout);

    let server = hostile_server(true);
    let url = server.url();
    let failing = ["--region", REGION, "--endpoint", &url, "--max-retries", "0"];
    let whole = run(&[&["describe"][..], &failing].concat(), Creds::Good(None), None);
    assert_eq!(whole.code, 1, "{whole:?}");
    assert_safe_for_terminals("error message", &whole.stderr);
    assert_eq!(whole.stderr.lines().filter(|l| l.starts_with("error")).count(), 1, "{}", whole.stderr);
    assert!(whole.stderr.starts_with("error: API error Hostile.\\u{1b}[2J: boom"), "{}", whole.stderr);
    assert!(whole.stdout.is_empty());
}

/// Runs `args` (no credentials, nothing reachable) with `chunks` copies of `chunk` piped to
/// stdin from a thread, as a pipeline would; returns the exit code, stderr, how many bytes the
/// command took before it stopped reading, and how long it ran.
fn run_streaming(args: &[&str], chunk: Vec<u8>, chunks: usize) -> (i32, String, usize, Duration) {
    let home = TempDir::new("home");
    let started = Instant::now();
    let mut child = command(args, Creds::None, &home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut written = 0;
        for _ in 0..chunks {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
            written += chunk.len();
        }
        written
    });
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let written = writer.join().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stderr).unwrap(), written, elapsed)
}

#[test]
fn stdin_is_refused_early_with_bounded_memory_when_it_cannot_be_ids() {
    let args = ["delete", "--region", REGION, "--endpoint", "http://127.0.0.1:9", "-"];
    // 300 MB of NUL bytes: one endless word.
    let (code, stderr, written, elapsed) = run_streaming(&args, vec![0; 1 << 20], 300);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 1 of stdin holds a word of more than 64 bytes"), "{stderr}");
    assert!(written < 8 << 20, "stopped reading after a bounded amount, not {written} bytes");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");

    let (code, stderr, written, _) = run_streaming(&args, vec![b' '; 1 << 20], 17);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("stdin holds more than 16 MiB, the most one run reads"), "{stderr}");
    assert!(written < 17 << 20, "{written}");

    let many: Vec<u8> = ids("m", 100_001).join("\n").into_bytes();
    let (code, stderr, _, _) = run_streaming(&args, many, 1);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("stdin holds more than 100000 ids"), "{stderr}");
}

#[test]
fn an_https_endpoint_that_answers_plain_http_gets_a_hint_to_use_http() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let bare = emu.url.strip_prefix("http://").unwrap().to_owned();
    let base = ["--region", REGION, "--endpoint", &bare, "--max-retries", "0"];
    let hint = "hint: the TLS handshake failed; if the endpoint serves plain http";
    let delete = run(&[&["delete"][..], &base, &["skey-aaaaaaaa"]].concat(), Creds::Good(None), None);
    assert_eq!(delete.code, 4, "{delete:?}");
    assert!(delete.stderr.contains(hint) && delete.stderr.contains("http://HOST:PORT"), "{}", delete.stderr);
    let describe = run(&[&["describe"][..], &base].concat(), Creds::Good(None), None);
    assert_eq!(describe.code, 4, "{describe:?}");
    assert!(describe.stderr.contains(hint), "{}", describe.stderr);
    assert!(describe.stderr.contains("allowed only for a loopback host"), "{}", describe.stderr);
    assert_eq!(present(&emu), set(&["skey-aaaaaaaa"]));
}

#[test]
fn messages_state_real_ranges_counts_and_options_that_exist() {
    let timeout = run(&["delete", "--timeout", "0", "skey-aaaaaaaa"], Creds::None, None);
    assert_eq!(timeout.code, 2);
    assert!(
        timeout.stderr.contains("--timeout takes more than 0 and at most 3600 seconds, not 0"),
        "{timeout:?}"
    );
    let negative =
        run(&["delete", "--dry-run", "--timestamp", "-1", "skey-aaaaaaaa"], Creds::Good(None), None);
    assert_eq!(negative.code, 2, "{negative:?}");
    assert!(negative.stderr.contains("0 or more, not -1"), "{}", negative.stderr);
    let remote = run(
        &["delete", "--region", REGION, "--endpoint", "http://example.com", "skey-aaaaaaaa"],
        Creds::Good(None),
        None,
    );
    assert_eq!(remote.code, 3, "{remote:?}");
    assert!(remote.stderr.contains("allows http:// only for a loopback host"), "{}", remote.stderr);
    assert!(!remote.stderr.contains("opt in"), "no flag that does not exist: {}", remote.stderr);
    let none = run(&["delete", "--region", REGION, "skey-aaaaaaaa"], Creds::None, None);
    assert_eq!(none.code, 3, "{none:?}");
    assert!(!none.stderr.contains(";\n") && !none.stderr.contains("; ;"), "no stray `;`: {}", none.stderr);

    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let one = delete(&emu, &["skey-aaaaaaaa"], None);
    assert!(one.stdout.starts_with("1 key pair: 1 deleted, 0 not found"), "{}", one.stdout);
    let dry = delete(&emu, &["--dry-run", "skey-aaaaaaaa"], None);
    assert!(dry.stderr.starts_with("dry run: 1 request for 1 key pair signed at "), "{}", dry.stderr);
    // Without --timestamp, the system clock's time.
    let signed_at: i64 = dry.stderr["dry run: 1 request for 1 key pair signed at ".len()..]
        .split(';')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{}", dry.stderr));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - 60..=now).contains(&signed_at), "signed at {signed_at}, now {now}");
}
