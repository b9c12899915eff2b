//! Drives the real `cvm-keypairs` binary twice over 127.0.0.1: `emulate` in one process (its
//! `--log` lines collected), the client command in another with credentials in its environment,
//! HOME pointed at an empty directory and no proxy. Every client run is checked for leaked
//! secrets before its output is handed to the test.
#![allow(dead_code)] // Each test binary uses a different part of it.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_cvm-keypairs");
pub const SECRET_ID: &str = "AKIDcliE2E0000000000000000000000";
pub const SECRET_KEY: &str = "cli-e2e-SECRET-key-must-never-be-printed";
pub const TOKEN: &str = "cli-e2e-session-TOKEN-must-never-be-printed";
pub const REGION: &str = "ap-guangzhou";

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("cvm-keypairs-cli-{}-{n}-{name}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// Writes `contents` to `name` inside the directory; returns its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `cvm-keypairs emulate --log --exit-on-stdin-close` process.
pub struct Emu {
    child: Child,
    pub url: String,
    records: Arc<Mutex<Vec<Value>>>,
    reader: Option<JoinHandle<()>>,
    _dir: TempDir,
}

/// A key pair for a seed file: unbound, or bound to an instance.
pub fn seed_entry(id: &str, bound: bool) -> Value {
    if bound {
        serde_json::json!({"KeyId": id, "AssociatedInstanceIds": ["ins-e2e00001"]})
    } else {
        Value::String(id.to_owned())
    }
}

impl Emu {
    /// Starts the emulator with the test credentials, `seed` as its key pairs, and `args`.
    pub fn start(seed: &[Value], args: &[&str]) -> Emu {
        Emu::start_seeded(&Value::Array(seed.to_vec()), args)
    }

    /// Starts the emulator with the test credentials, the seed file `seed` (a list of key
    /// pairs, or `{"KeyPairs": [...], "Instances": [...]}`), and `args`.
    pub fn start_seeded(seed: &Value, args: &[&str]) -> Emu {
        let dir = TempDir::new("emu");
        let seed_path = dir.file("seed.json", &seed.to_string());
        let mut child = Command::new(BIN)
            .args(["emulate", "--port", "0", "--log", "--exit-on-stdin-close", "--seed", &seed_path])
            .args(["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix("listening on "))
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = records.clone();
        let reader = std::thread::spawn(move || {
            for line in stdout.lines() {
                let line = line.unwrap();
                let record: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"));
                sink.lock().unwrap().push(record);
            }
        });
        Emu { child, url, records, reader: Some(reader), _dir: dir }
    }

    /// Stops the emulator (closing its stdin) and returns every request it logged.
    pub fn finish(mut self) -> Vec<Value> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the emulator did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.reader.take().unwrap().join().unwrap();
        let records = self.records.lock().unwrap().clone();
        records
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How many logged requests answered with `code`.
pub fn count_code(records: &[Value], code: &str) -> usize {
    records.iter().filter(|r| r["code"] == code).count()
}

/// What a client run printed and how it ended.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout as the one JSON object it must be.
    pub fn json(&self) -> Value {
        let text = self.stdout.trim_end_matches('\n');
        assert!(!text.contains('\n'), "one line of JSON expected: {text}");
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
    }
}

/// The client's environment: which credentials it finds.
#[derive(Debug, Clone, Copy)]
pub enum Creds<'a> {
    /// The test's secret id and key, and the token if given.
    Good(Option<&'a str>),
    /// The test's secret id with this key.
    Key(&'a str),
    /// This secret id with the test's key.
    Id(&'a str),
    /// No credentials in the environment, and a credentials file that does not exist, so the
    /// chain stops there and never asks the instance metadata service (not on 127.0.0.1).
    None,
}

/// `cvm-keypairs <args>` with `creds`, HOME in `home` (an empty directory) and no other
/// configuration: no proxy, no region, no profile.
pub fn command(args: &[&str], creds: Creds, home: &TempDir) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).env("HOME", &home.0);
    for var in [
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_TOKEN",
        "TENCENTCLOUD_SESSION_TOKEN",
        "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_ROLE_ARN",
        "TENCENTCLOUD_ROLE_SESSION_NAME",
        "TENCENTCLOUD_STS_ENDPOINT",
        "TKE_PROVIDER_ID",
        "TKE_WEB_IDENTITY_TOKEN_FILE",
        "TKE_ROLE_ARN",
        "TKE_REGION",
        "TENCENTCLOUD_REGION",
        "TENCENTCLOUD_PROFILE",
        "TENCENTCLOUD_CREDENTIALS_FILE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    match creds {
        Creds::Good(token) => {
            command.env("TENCENTCLOUD_SECRET_ID", SECRET_ID).env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY);
            if let Some(token) = token {
                command.env("TENCENTCLOUD_TOKEN", token);
            }
        }
        Creds::Key(key) => {
            command.env("TENCENTCLOUD_SECRET_ID", SECRET_ID).env("TENCENTCLOUD_SECRET_KEY", key);
        }
        Creds::Id(id) => {
            command.env("TENCENTCLOUD_SECRET_ID", id).env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY);
        }
        Creds::None => {
            command.env("TENCENTCLOUD_CREDENTIALS_FILE", home.0.join("no-such-credentials-file"));
        }
    }
    command
}

/// Runs `cvm-keypairs <args>` as [`command`] makes it, with `stdin`; asserts neither the secret
/// key nor the token appears in its output.
pub fn run(args: &[&str], creds: Creds, stdin: Option<&str>) -> Out {
    run_with(args, creds, stdin, &[])
}

/// How long a client run may take before the test kills it and fails.
pub const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// [`run`] with the variables `env` set on top (after the ones `creds` sets), killed and
/// failed should it outlive [`RUN_DEADLINE`].
pub fn run_with(args: &[&str], creds: Creds, stdin: Option<&str>, env: &[(&str, &str)]) -> Out {
    let home = TempDir::new("home");
    let mut child = command(args, creds, &home)
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_owned();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + RUN_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} ran longer than {RUN_DEADLINE:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    };
    let out = Out {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    for secret in [SECRET_KEY, TOKEN] {
        for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(!text.contains(secret), "{args:?}: a secret is on {name}:\n{text}");
        }
    }
    if let Creds::Key(key) = creds {
        assert!(!out.stdout.contains(key) && !out.stderr.contains(key), "the wrong key was printed");
    }
    out
}

/// `<command> --region R --endpoint URL <extra>...` with good credentials.
pub fn client(emu: &Emu, command: &str, extra: &[&str], stdin: Option<&str>) -> Out {
    let mut args = vec![command, "--region", REGION, "--endpoint", &emu.url];
    args.extend_from_slice(extra);
    run(&args, Creds::Good(None), stdin)
}

/// The key pairs `describe --json` lists now, by KeyId.
pub fn key_pairs(emu: &Emu) -> std::collections::HashMap<String, Value> {
    let out = client(emu, "describe", &["--json", "--max-retries", "10"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let json = out.json();
    json["key_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["KeyId"].as_str().unwrap().to_owned(), k.clone()))
        .collect()
}

/// `delete --region R --endpoint URL <extra>...` with good credentials.
pub fn delete(emu: &Emu, extra: &[&str], stdin: Option<&str>) -> Out {
    let mut args = vec!["delete", "--region", REGION, "--endpoint", &emu.url];
    args.extend_from_slice(extra);
    run(&args, Creds::Good(None), stdin)
}

/// The ids `describe --json` lists now.
pub fn present(emu: &Emu) -> HashSet<String> {
    let out = run(
        &["describe", "--json", "--region", REGION, "--endpoint", &emu.url, "--max-retries", "10"],
        Creds::Good(None),
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    ids_of(&out.json()["key_pairs"], "KeyId")
}

/// The strings at `field` of each object in `list` (or the strings of `list` if `field` is
/// empty), asserting none repeats.
pub fn ids_of(list: &Value, field: &str) -> HashSet<String> {
    let mut set = HashSet::new();
    for item in list.as_array().unwrap_or_else(|| panic!("not a list: {list}")) {
        let id = if field.is_empty() { item } else { &item[field] };
        let id = id.as_str().unwrap().to_owned();
        assert!(set.insert(id.clone()), "{id} is listed twice");
    }
    set
}

/// Checks a `delete --json` object: exactly its seven keys, and every id of `asked` in exactly
/// one list. Returns (deleted, not_found, code by id of the keys kept or failed).
pub fn check_json(
    report: &Value,
    asked: &[String],
) -> (HashSet<String>, HashSet<String>, std::collections::HashMap<String, String>) {
    let mut keys: Vec<&str> = report.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["deleted", "detached", "failed", "kept", "not_found", "request_ids", "stopped_instances"]
    );
    assert!(report["detached"].is_array() && report["stopped_instances"].is_array(), "{report}");
    let deleted = ids_of(&report["deleted"], "");
    let not_found = ids_of(&report["not_found"], "");
    let kept_ids = ids_of(&report["kept"], "key_id");
    let failed_ids = ids_of(&report["failed"], "key_id");
    let mut failed = std::collections::HashMap::new();
    for f in report["kept"].as_array().unwrap().iter().chain(report["failed"].as_array().unwrap()) {
        let fields: HashSet<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, HashSet::from(["key_id", "code", "message", "request_id"]), "{f}");
        failed.insert(f["key_id"].as_str().unwrap().to_owned(), f["code"].as_str().unwrap().to_owned());
    }
    let total = deleted.len() + not_found.len() + kept_ids.len() + failed_ids.len();
    let all: HashSet<&String> =
        deleted.iter().chain(&not_found).chain(&kept_ids).chain(&failed_ids).collect();
    assert_eq!(all.len(), total, "an id is in two lists");
    let asked: HashSet<&String> = asked.iter().collect();
    assert_eq!(all, asked, "the lists are not exactly the ids asked for");
    for rid in report["request_ids"].as_array().unwrap() {
        assert!(!rid.as_str().unwrap().is_empty());
    }
    (deleted, not_found, failed)
}

/// `count` distinct well-formed ids starting with `prefix` (up to 4 characters of [0-9a-z]).
pub fn ids(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("skey-{prefix}{i:0width$}", width = 8 - prefix.len())).collect()
}

/// Asserts two sets of ids are equal, showing at most a few of the differences.
pub fn assert_same(actual: &HashSet<String>, expected: &HashSet<String>, what: &str) {
    let mut extra: Vec<&String> = actual.difference(expected).collect();
    let mut missing: Vec<&String> = expected.difference(actual).collect();
    extra.sort_unstable();
    missing.sort_unstable();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: {} unexpected, e.g. {:?}; {} missing, e.g. {:?}",
        extra.len(),
        &extra[..extra.len().min(5)],
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}
