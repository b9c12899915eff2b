//! The key-pair lifecycle commands, the real binary against the real `cvm-keypairs emulate` (or
//! a loopback server where the emulator cannot misbehave as needed): `create` (the private key
//! in a new 0600 file or on stdout and nowhere else, refused paths, a key that cannot be
//! written), `import` (file, stdin, bounds, bad keys), `modify`, and `associate` /
//! `disassociate` (waiting until the change shows, past the bound, `--no-wait`, running
//! instances and `--force-stop`), with what is refused before anything is sent.

mod cli_support;
#[path = "../../tests/support/hostile.rs"]
mod hostile;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cli_support::*;
use serde_json::{json, Value};

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOElZj61MyJ5RirUtg8VgOnApmujaveDP/AHaGwUb+Qx e2e0@test";
const OTHER_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAj+b/mgjwV8/NOdDOm+xMbxUJ/H+BCSIF0vY9S8sKPd e2e1@test";

fn seed(key_pairs: Value, instances: Value) -> Value {
    json!({"KeyPairs": key_pairs, "Instances": instances})
}

/// Asserts `key` (a private key) is in none of `texts`, whole or by any of its lines.
fn assert_nowhere(key: &str, texts: &[(&str, &str)]) {
    let lines: Vec<&str> = key.lines().filter(|l| l.len() >= 16 && !l.starts_with("-----")).collect();
    assert!(!lines.is_empty(), "a key with a body: {key:?}");
    for (what, text) in texts {
        assert!(!text.contains(key), "the private key is in {what}: {text}");
        for line in &lines {
            assert!(!text.contains(line), "a line of the private key is in {what}: {text}");
        }
    }
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_writes_exactly_the_private_key_to_a_new_owner_only_file_or_stdout_and_nowhere_else() {
    let emu = Emu::start(&[], &[]);
    let dir = TempDir::new("create");
    let path = dir.0.join("ci_deploy.pem");
    let path_arg = path.to_str().unwrap();
    let args = ["ci_deploy", "--private-key-out", path_arg, "--project-id", "3", "--tag", "env=ci"];
    let made = client(&emu, "create", &args, None);
    assert_eq!(made.code, 0, "{made:?}");
    let key = std::fs::read_to_string(&path).unwrap();
    assert!(key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "{key}");
    assert!(key.ends_with("\n-----END OPENSSH PRIVATE KEY-----\n"), "exactly as the API gave it: {key:?}");
    assert_eq!(mode(&path), 0o600);
    let id = made.stdout.strip_suffix('\n').unwrap().to_owned();
    assert!(id.starts_with("skey-") && id.len() == 13, "stdout holds the KeyId: {:?}", made.stdout);
    assert!(
        made.stderr.contains(&format!("created key pair {id} (ci_deploy) in project 3")),
        "{}",
        made.stderr
    );
    assert!(made.stderr.contains("(mode 0600)"), "{}", made.stderr);
    let listed = &key_pairs(&emu)[&id];
    assert_eq!((listed["KeyName"].clone(), listed["ProjectId"].clone()), (json!("ci_deploy"), json!(3)));
    assert_eq!(listed["Tags"], json!([{"Key": "env", "Value": "ci"}]));

    let as_json = client(
        &emu,
        "create",
        &["ci_json", "--json", "--private-key-out", dir.0.join("j.pem").to_str().unwrap()],
        None,
    );
    assert_eq!(as_json.code, 0, "{as_json:?}");
    let object = as_json.json();
    let fields: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["key_id", "key_name", "project_id", "public_key", "request_id"], "{object}");
    let listed = &key_pairs(&emu)[object["key_id"].as_str().unwrap()];
    assert_eq!(
        (&object["key_name"], &object["project_id"]),
        (&json!("ci_json"), &json!(0)),
        "ProjectId 0 by default"
    );
    assert_eq!(object["public_key"], listed["PublicKey"]);
    assert!(object["public_key"].as_str().unwrap().starts_with("ssh-rsa "), "{object}");
    let json_key = std::fs::read_to_string(dir.0.join("j.pem")).unwrap();

    let to_stdout = client(&emu, "create", &["ci_stdout", "--private-key-out", "-"], None);
    assert_eq!(to_stdout.code, 0, "{to_stdout:?}");
    let stdout_key = &to_stdout.stdout;
    assert!(
        stdout_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        "stdout is the key: {stdout_key:?}"
    );
    assert!(
        stdout_key.ends_with("\n-----END OPENSSH PRIVATE KEY-----\n"),
        "and only the key: {stdout_key:?}"
    );
    assert!(
        to_stdout.stderr.contains("created key pair skey-"),
        "the KeyId goes to stderr: {}",
        to_stdout.stderr
    );
    assert!(to_stdout.stderr.contains("its private key went to stdout"), "{}", to_stdout.stderr);

    let records = format!("{:?}", emu.finish());
    for (key, out) in [(&key, &made), (&json_key, &as_json)] {
        assert_nowhere(
            key,
            &[("stdout", &out.stdout), ("stderr", &out.stderr), ("the emulator's log", &records)],
        );
    }
    assert_nowhere(stdout_key, &[("stderr", &to_stdout.stderr), ("the emulator's log", &records)]);
    assert!(key != json_key && key != *stdout_key, "three key pairs, three private keys");
}

#[test]
fn create_refuses_a_path_that_exists_or_cannot_be_created_and_bad_input_before_sending() {
    let emu = Emu::start(&[], &[]);
    let dir = TempDir::new("refuse");
    let existing = dir.file("existing.pem", "keep me");
    let dangling = dir.0.join("dangling.pem");
    std::os::unix::fs::symlink(dir.0.join("target.pem"), &dangling).unwrap();
    let missing_dir = dir.0.join("no-such-dir").join("k.pem");
    let fresh = dir.0.join("fresh.pem");
    let fresh = fresh.to_str().unwrap();
    for (args, code, needle) in [
        (
            vec!["ci_1", "--private-key-out", existing.as_str()],
            "InvalidInput",
            "exists: the private key goes only to a new file",
        ),
        (vec!["ci_1", "--private-key-out", dangling.to_str().unwrap()], "InvalidInput", "exists"),
        (vec!["ci_1", "--private-key-out", missing_dir.to_str().unwrap()], "InvalidInput", "cannot create"),
        (vec!["ci_1", "--private-key-out", "-"], "UsageError", "--json does not go with --private-key-out -"),
        (vec!["bad name", "--private-key-out", fresh], "InvalidInput", "key pair name \"bad name\""),
        (
            vec!["ci_1", "--private-key-out", fresh, "--tag", "a=1", "--tag", "a=2"],
            "InvalidInput",
            "tag key \"a\" is given twice",
        ),
        (vec!["ci_1", "--private-key-out", fresh, "--tag", "novalue"], "UsageError", "--tag takes KEY=VALUE"),
        (vec!["ci_1"], "UsageError", "--private-key-out is required"),
    ] {
        let out = client(&emu, "create", &[&args[..], &["--json"]].concat(), None);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(out.json()["error"]["code"], code, "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me", "an existing file is never touched");
    assert!(!dir.0.join("target.pem").exists(), "a symbolic link is not followed");
    assert!(!std::path::Path::new(fresh).exists(), "no file is left by a refused run");
    assert_eq!(emu.finish(), Vec::<Value>::new(), "nothing was sent");
}

/// `cvm-keypairs <args>` run by `sh` with no file size allowed (`ulimit -f 0`, SIGXFSZ ignored),
/// so writing any byte to a file fails with EFBIG.
fn run_without_file_space(args: &[&str]) -> Out {
    let home = TempDir::new("home");
    let base = command(args, Creds::Good(None), &home);
    let mut sh = Command::new("sh");
    sh.args(["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"", BIN]).args(args);
    for (name, value) in base.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    let output = sh.stdin(Stdio::null()).output().unwrap();
    Out {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn a_private_key_that_cannot_be_written_is_reported_lost_naming_the_key_pair_to_delete() {
    let emu = Emu::start(&[], &[]);
    let dir = TempDir::new("lost");
    let path = dir.0.join("k.pem");
    let base = ["create", "--region", REGION, "--endpoint", &emu.url];
    let out = run_without_file_space(
        &[&base[..], &["ci_lost", "--private-key-out", path.to_str().unwrap(), "--json"]].concat(),
    );
    assert_eq!(out.code, 5, "{out:?}");
    let error = &out.json()["error"];
    let id = error["key_id"].as_str().unwrap().to_owned();
    assert_eq!(error["code"], "PrivateKeyNotWritten");
    assert!(error["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{error}");
    for text in [error["message"].as_str().unwrap(), &out.stderr] {
        assert!(text.contains(&format!("key pair {id} (ci_lost) was created")), "{text}");
        assert!(
            text.contains("so it is lost") && text.contains(&format!("`cvm-keypairs delete {id}`")),
            "{text}"
        );
        assert!(text.contains("(the file was removed)"), "{text}");
    }
    assert!(!path.exists(), "a file that may hold part of the key is removed");
    assert!(key_pairs(&emu).contains_key(&id), "the key pair exists, as the message says");

    // Stdout that cannot take the key: /dev/full.
    let home = TempDir::new("home");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output =
        command(&[&base[..], &["ci_lost_too", "--private-key-out", "-"]].concat(), Creds::Good(None), &home)
            .stdin(Stdio::null())
            .stdout(full)
            .output()
            .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("was created, but its private key could not be written to stdout: "), "{stderr}");
    assert!(stderr.contains("`cvm-keypairs delete skey-"), "{stderr}");
    let records = emu.finish();
    assert_eq!(
        records.iter().filter(|r| r["action"] == "CreateKeyPair").count(),
        2,
        "each sent once: {records:?}"
    );
}

#[test]
fn create_writes_the_key_byte_for_byte_and_leaves_no_file_when_refused_or_unanswered() {
    // No final newline, and a line of its own: written exactly as it came.
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    let throttled = AtomicBool::new(false);
    let (server, log) =
        hostile::api_server(100, move |action, params| match (action, params["KeyName"].as_str()) {
            ("CreateKeyPair", Some("refused")) => {
                json!({"Error": {"Code": "InvalidKeyPairName.Duplicate", "Message": "taken"}})
            }
            ("CreateKeyPair", Some("internal")) => {
                json!({"Error": {"Code": "InternalError", "Message": "again"}})
            }
            ("CreateKeyPair", Some("throttled")) if !throttled.swap(true, Ordering::SeqCst) => {
                json!({"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}})
            }
            ("CreateKeyPair", Some(name)) => json!({"KeyPair": {"KeyId": "skey-k0000001", "KeyName": name,
            "ProjectId": 0, "PublicKey": "ssh-rsa AAAA", "PrivateKey": key}}),
            _ => json!({"Error": {"Code": "InvalidAction", "Message": action}}),
        });
    let silent = support::Server::start(|_| support::Reply::Close);
    let dir = TempDir::new("exact");
    let at = |name: &str| dir.0.join(name).to_str().unwrap().to_owned();
    let create = |url: &str, name: &str, path: &str| {
        run(
            &["create", "--region", REGION, "--endpoint", url, name, "--private-key-out", path],
            Creds::Good(None),
            None,
        )
    };
    let made = create(&server.url(), "exact", &at("exact.pem"));
    assert_eq!(made.code, 0, "{made:?}");
    assert_eq!(std::fs::read(at("exact.pem")).unwrap(), key.as_bytes());
    assert_eq!(made.stdout, "skey-k0000001\n");
    assert_nowhere(key, &[("stderr", &made.stderr)]);

    let refused = create(&server.url(), "refused", &at("refused.pem"));
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("InvalidKeyPairName.Duplicate"), "{}", refused.stderr);
    assert!(!dir.0.join("refused.pem").exists(), "no empty key file is left behind");

    let unanswered = create(&silent.url(), "lost_answer", &at("unanswered.pem"));
    assert_eq!(unanswered.code, 4, "{unanswered:?}");
    assert!(!dir.0.join("unanswered.pem").exists());
    assert!(
        unanswered.stderr.contains("key pair lost_answer may have been created all the same"),
        "{}",
        unanswered.stderr
    );
    assert!(
        unanswered.stderr.contains("`cvm-keypairs describe --name lost_answer`"),
        "{}",
        unanswered.stderr
    );
    let internal = create(&server.url(), "internal", &at("internal.pem"));
    assert_eq!(internal.code, 1, "{internal:?}");
    assert!(!dir.0.join("internal.pem").exists());
    let after_throttling = create(&server.url(), "throttled", &at("throttled.pem"));
    assert_eq!(after_throttling.code, 0, "a throttled request did nothing: sent again: {after_throttling:?}");
    assert_eq!(std::fs::read(at("throttled.pem")).unwrap(), key.as_bytes());
    let names: Vec<String> =
        log.lock().unwrap().iter().map(|(_, p)| p["KeyName"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        names,
        ["exact", "refused", "internal", "throttled", "throttled"],
        "once, even after InternalError"
    );
    assert_eq!(silent.connections(), 1, "sent once, not retried after the lost answer");
}

#[test]
fn import_reads_a_public_key_from_a_file_or_stdin_bounded_and_checked_before_sending() {
    let emu = Emu::start(&[], &[]);
    let dir = TempDir::new("import");
    let file = dir.file("id.pub", &format!("{PUBLIC_KEY}\n"));
    let from_file =
        client(&emu, "import", &["from_file", "--public-key", &file, "--json", "--tag", "env=ci"], None);
    assert_eq!(from_file.code, 0, "{from_file:?}");
    let object = from_file.json();
    let fields: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["key_id", "key_name", "request_id"], "{object}");
    assert_eq!(object["key_name"], "from_file");
    let id = object["key_id"].as_str().unwrap();
    let from_stdin = client(
        &emu,
        "import",
        &["from_stdin", "--public-key", "-", "--project-id", "2"],
        Some(OTHER_PUBLIC_KEY),
    );
    assert_eq!(from_stdin.code, 0, "{from_stdin:?}");
    let stdin_id = from_stdin.stdout.strip_suffix('\n').unwrap();
    let listed = key_pairs(&emu);
    assert_eq!(listed[id]["PublicKey"], PUBLIC_KEY);
    assert_eq!(listed[id]["Tags"], json!([{"Key": "env", "Value": "ci"}]));
    assert_eq!(
        (listed[stdin_id]["PublicKey"].as_str(), listed[stdin_id]["ProjectId"].as_i64()),
        (Some(OTHER_PUBLIC_KEY), Some(2))
    );

    let again = client(&emu, "import", &["again", "--public-key", "-", "--json"], Some(PUBLIC_KEY));
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(again.json()["error"]["code"], "InvalidPublicKey.Duplicate");

    let big = format!("{PUBLIC_KEY}{}", " ".repeat(16 << 10));
    for (args, stdin, needle) in [
        (&["bad", "--public-key", "-"][..], Some("ssh-ed25519 not-base64!"), "public key"),
        (
            &["bad", "--public-key", "-"][..],
            Some("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOElZj61MyJ5RirUtg8VgOnApmujaveDP/AHaGwUb+Qx"),
            "public key",
        ),
        (&["bad", "--public-key", "-"][..], Some(&big), "stdin holds more than 16 KiB"),
        (&["bad", "--public-key", "-"][..], Some(""), "public key"),
        (&["bad", "--public-key", dir.0.to_str().unwrap()][..], None, "is not a regular file"),
        (&["bad", "--public-key", "/nonexistent/id.pub"][..], None, "cannot read the public key"),
        (&["bad name", "--public-key", "-"][..], Some(OTHER_PUBLIC_KEY), "key pair name"),
        (&["bad"][..], None, "--public-key is required"),
    ] {
        let out = client(&emu, "import", args, stdin);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    let records = emu.finish();
    let imports = records.iter().filter(|r| r["action"] == "ImportKeyPair").count();
    assert_eq!(imports, 3, "the refused ones sent nothing: {records:?}");
}

#[test]
fn modify_renames_and_redescribes_and_refuses_what_cannot_be_sent() {
    let emu = Emu::start(&[seed_entry("skey-aaaaaaaa", false)], &[]);
    let json_out = client(
        &emu,
        "modify",
        &["skey-aaaaaaaa", "--name", "renamed", "--description", "for CI", "--json"],
        None,
    );
    assert_eq!(json_out.code, 0, "{json_out:?}");
    let object = json_out.json();
    assert_eq!(object.as_object().unwrap().keys().collect::<Vec<_>>(), ["key_id", "request_id"]);
    assert_eq!(object["key_id"], "skey-aaaaaaaa");
    let listed = &key_pairs(&emu)["skey-aaaaaaaa"];
    assert_eq!((&listed["KeyName"], &listed["Description"]), (&json!("renamed"), &json!("for CI")));
    let text = client(&emu, "modify", &["skey-aaaaaaaa", "--description", "tab\there"], None);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout.starts_with("modified skey-aaaaaaaa: description \"tab\\u{9}here\" (RequestId "),
        "{}",
        text.stdout
    );
    assert_eq!(key_pairs(&emu)["skey-aaaaaaaa"]["Description"], "tab\there");

    let unknown = client(&emu, "modify", &["skey-zzzzzzzz", "--name", "x", "--json"], None);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert_eq!(unknown.json()["error"]["code"], "InvalidKeyPairId.NotFound");
    let sent = 3;
    for (args, code) in [
        (&["skey-aaaaaaaa"][..], "UsageError"),
        (&["skey-bad", "--name", "x"][..], "InvalidKeyIds"),
        (&["skey-aaaaaaaa", "--name", "no-hyphens"][..], "InvalidInput"),
        (&["skey-aaaaaaaa", "--description", &"x".repeat(61)][..], "InvalidInput"),
    ] {
        let out = client(&emu, "modify", &[args, &["--json"]].concat(), None);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(out.json()["error"]["code"], code, "{args:?}");
    }
    let records = emu.finish();
    assert_eq!(
        records.iter().filter(|r| r["action"] == "ModifyKeyPairAttribute").count(),
        sent,
        "{records:?}"
    );
}

fn bound_to(emu: &Emu, id: &str) -> Vec<String> {
    let listed = key_pairs(emu);
    let ids = listed[id]["AssociatedInstanceIds"].as_array().unwrap();
    let mut ids: Vec<String> = ids.iter().map(|i| i.as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

#[test]
fn associate_and_disassociate_wait_until_describe_shows_every_change() {
    let emu = Emu::start_seeded(
        &seed(json!(["skey-aaaaaaaa", "skey-bbbbbbbb"]), json!(["ins-00000001", "ins-00000002"])),
        &["--async-delay-ms", "400"],
    );
    let started = Instant::now();
    let bound = client(
        &emu,
        "associate",
        &["skey-aaaaaaaa", "skey-bbbbbbbb", "--instance", "ins-00000001", "ins-00000002", "--json"],
        None,
    );
    let took = started.elapsed();
    assert_eq!(bound.code, 0, "{bound:?}");
    let object = bound.json();
    assert_eq!((&object["done"], &object["pending"]), (&json!(true), &json!([])), "{object}");
    assert_eq!(object.as_object().unwrap().len(), 3, "request_id, done, pending: {object}");
    assert!(took >= Duration::from_millis(400), "it waited for the change: {took:?}");
    assert!(
        bound
            .stderr
            .contains("; waiting until DescribeKeyPairs shows 4 key pair bindings made (at most 300 s)"),
        "{}",
        bound.stderr
    );
    assert!(
        bound.stderr.contains("DescribeKeyPairs shows 4 of 4 key pair bindings made"),
        "{}",
        bound.stderr
    );
    for key in ["skey-aaaaaaaa", "skey-bbbbbbbb"] {
        assert_eq!(
            bound_to(&emu, key),
            ["ins-00000001", "ins-00000002"],
            "{key}: shown when the command returned"
        );
    }

    let unbound = client(
        &emu,
        "disassociate",
        &["skey-aaaaaaaa", "--instance", "ins-00000001", "--instance", "ins-00000002"],
        None,
    );
    assert_eq!(unbound.code, 0, "{unbound:?}");
    assert!(
        unbound.stdout.starts_with("done: 2 key pair bindings removed (RequestId "),
        "{}",
        unbound.stdout
    );
    assert_eq!(bound_to(&emu, "skey-aaaaaaaa"), Vec::<String>::new());
    assert_eq!(bound_to(&emu, "skey-bbbbbbbb"), ["ins-00000001", "ins-00000002"]);
    let records = emu.finish();
    let looks = records.iter().filter(|r| r["action"] == "DescribeKeyPairs").count();
    assert!(looks >= 4, "each wait looked until the change showed: {records:?}");
    assert_eq!(count_code(&records, "OperationDenied.InstanceOperationInProgress"), 0);
}

#[test]
fn a_wait_past_its_bound_exits_1_naming_the_pairs_not_done_and_no_wait_does_not_wait() {
    let emu = Emu::start_seeded(
        &seed(json!(["skey-aaaaaaaa"]), json!(["ins-00000001", "ins-00000002", "ins-00000003"])),
        &["--async-delay-ms", "5000"],
    );
    let started = Instant::now();
    let late = client(
        &emu,
        "associate",
        &["skey-aaaaaaaa", "--instance", "ins-00000001", "--wait-timeout", "1", "--json"],
        None,
    );
    assert!(started.elapsed() < Duration::from_secs(4), "bounded by --wait-timeout: {:?}", started.elapsed());
    assert_eq!(late.code, 1, "{late:?}");
    let object = late.json();
    assert_eq!(object["done"], false);
    assert_eq!(object["pending"], json!([{"key_id": "skey-aaaaaaaa", "instance_id": "ins-00000001"}]));

    let late_text = client(
        &emu,
        "associate",
        &["skey-aaaaaaaa", "--instance", "ins-00000002", "--wait-timeout", "1"],
        None,
    );
    assert_eq!(late_text.code, 1, "{late_text:?}");
    assert!(
        late_text
            .stdout
            .starts_with("not done after 1 s: 1 of 1 key pair binding not yet shown made (RequestId "),
        "{}",
        late_text.stdout
    );
    assert!(late_text.stdout.ends_with("):\n  skey-aaaaaaaa  ins-00000002\n"), "{}", late_text.stdout);

    let started = Instant::now();
    let no_wait = client(
        &emu,
        "associate",
        &["skey-aaaaaaaa", "--instance", "ins-00000003", "--no-wait", "--json"],
        None,
    );
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(no_wait.code, 0, "{no_wait:?}");
    let object = no_wait.json();
    assert_eq!(object["done"], false, "not checked");
    assert_eq!(object["pending"], json!([{"key_id": "skey-aaaaaaaa", "instance_id": "ins-00000003"}]));
    let records = emu.finish();
    let after_no_wait =
        records.iter().rev().take_while(|r| r["action"] != "AssociateInstancesKeyPairs").count();
    assert_eq!(after_no_wait, 0, "--no-wait looked at nothing: {records:?}");
}

#[test]
fn running_instances_need_force_stop_and_bad_ids_are_never_sent() {
    let instances = json!([{"InstanceId": "ins-00000001", "InstanceState": "RUNNING"},
                           {"InstanceId": "ins-00000002", "OsName": "Windows Server 2022"}]);
    let emu = Emu::start_seeded(&seed(json!(["skey-aaaaaaaa"]), instances), &["--async-delay-ms", "100"]);
    let refused = client(&emu, "associate", &["skey-aaaaaaaa", "--instance", "ins-00000001", "--json"], None);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_eq!(refused.json()["error"]["code"], "UnsupportedOperation.InstanceStateRunning");
    let forced =
        client(&emu, "associate", &["skey-aaaaaaaa", "--instance", "ins-00000001", "--force-stop"], None);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(bound_to(&emu, "skey-aaaaaaaa"), ["ins-00000001"]);
    for (instance, code) in [
        ("ins-00000002", "UnsupportedOperation.InstanceOsWindows"),
        ("ins-0000000z", "InvalidInstanceId.NotFound"),
    ] {
        let out = client(&emu, "associate", &["skey-aaaaaaaa", "--instance", instance, "--json"], None);
        assert_eq!((out.code, out.json()["error"]["code"].as_str()), (1, Some(code)), "{out:?}");
    }
    let sent = 4;
    for (command, args, code) in [
        ("associate", &["skey-aaaaaaaa", "--instance", "i-123"][..], "InvalidInput"),
        ("disassociate", &["skey-bad", "--instance", "ins-00000001"][..], "InvalidKeyIds"),
        ("associate", &["skey-aaaaaaaa"][..], "UsageError"),
        ("associate", &["ins-00000001", "skey-aaaaaaaa"][..], "UsageError"),
        (
            "disassociate",
            &["skey-aaaaaaaa", "--instance", "ins-00000001", "--no-wait", "--wait-timeout", "9"][..],
            "UsageError",
        ),
    ] {
        let out = client(&emu, command, &[args, &["--json"]].concat(), None);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert_eq!(out.json()["error"]["code"], code, "{args:?}");
    }
    let many: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
    let mut args = vec!["skey-aaaaaaaa", "--instance"];
    args.extend(many.iter().map(String::as_str));
    let too_many = client(&emu, "associate", &args, None);
    assert_eq!(too_many.code, 2, "{too_many:?}");
    assert!(too_many.stderr.contains("1 to 100 instance ids, got 101"), "{}", too_many.stderr);
    let records = emu.finish();
    assert_eq!(
        records.iter().filter(|r| r["action"] == "AssociateInstancesKeyPairs").count(),
        sent,
        "{records:?}"
    );
    assert_eq!(records.iter().filter(|r| r["action"] == "DisassociateInstancesKeyPairs").count(), 0);
}

#[test]
fn every_new_command_and_option_has_help() {
    for (command, needles) in [
        (
            "create",
            &["--private-key-out", "--project-id", "--tag", "--json", "mode 0600", "Exit codes:", "--region"]
                [..],
        ),
        ("import", &["--public-key", "--project-id", "--tag", "16 KiB", "Exit codes:"][..]),
        ("modify", &["--name", "--description", "at most 60", "Exit codes:"][..]),
        (
            "associate",
            &["--instance", "--force-stop", "--no-wait", "--wait-timeout", "[default: 300]", "Exit codes:"][..],
        ),
        ("disassociate", &["--instance", "--force-stop", "--no-wait", "--wait-timeout", "\"pending\""][..]),
        (
            "delete",
            &[
                "--yes",
                "--detach",
                "--force-stop",
                "--name",
                "--exclude-name",
                "--older-than",
                "--tag",
                "--project-id",
                "\"plan\"",
            ][..],
        ),
        ("describe", &["--output", "ids", "--name", "--older-than", "\"complete\""][..]),
    ] {
        for args in [vec![command, "--help"], vec!["help", command]] {
            let out = run(&args, Creds::None, None);
            assert_eq!(out.code, 0, "{args:?}");
            assert!(out.stdout.contains(&format!("Usage: cvm-keypairs {command} ")), "{}", out.stdout);
            for needle in needles {
                assert!(out.stdout.contains(needle), "{command}: {needle:?} missing:\n{}", out.stdout);
            }
        }
    }
    let top = run(&["--help"], Creds::None, None);
    for command in ["create", "import", "modify", "associate", "disassociate"] {
        assert!(top.stdout.contains(&format!("\n  {command} ")), "{command}: {}", top.stdout);
    }
}
