//! The real `cvm-keypairs emulate` process, driven over 127.0.0.1 by requests the library signs
//! and ureq sends: the listening line, GET and POST, errors, the `--log` lines, a clean stop
//! on stdin close, exit codes, and no secret in any output.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cvm_keypairs::{
    Credentials, DeleteKeyPairs, DescribeKeyPairs, Endpoint, HttpRequest, Method, RequestConfig,
};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_cvm-keypairs");
const SECRET_ID: &str = "AKIDe2eTEST";
const SECRET_KEY: &str = "e2e-secret-KEY-must-not-leak";
const TOKEN: &str = "e2e-session-TOKEN-must-not-leak";

/// A seed file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("cvm-keypairs-e2e-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    endpoint: Endpoint,
    port: u16,
}

fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .arg("emulate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("listening on "))
        .unwrap_or_else(|| panic!("{first:?}"));
    let port: u16 = url.strip_prefix("http://127.0.0.1:").unwrap().parse().unwrap();
    assert_ne!(port, 0);
    Running { child, stdout, endpoint: Endpoint::parse(url).unwrap(), port }
}

/// Waits (bounded) for the process to exit.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the emulator did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Sends `request` with ureq, exactly its headers and body; returns the status and JSON body.
fn send(agent: &ureq::Agent, request: &HttpRequest) -> (u16, Value) {
    let result = match request.method {
        Method::Get => {
            let mut builder = agent.get(request.url.as_ref());
            for (name, value) in &request.headers {
                builder = builder.header(*name, value.as_ref());
            }
            builder.call()
        }
        Method::Post => {
            let mut builder = agent.post(request.url.as_ref());
            for (name, value) in &request.headers {
                builder = builder.header(*name, value.as_ref());
            }
            builder.send(&request.body[..])
        }
    };
    let mut response = result.expect("an HTTP answer");
    assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
    assert!(response.headers().get("date").unwrap().to_str().unwrap().ends_with(" GMT"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

fn code(body: &Value) -> &str {
    body["Response"]["Error"]["Code"].as_str().unwrap_or("OK")
}

#[test]
fn emulate_serves_signed_get_and_post_logs_each_request_and_stops_on_stdin_close() {
    let seed = TempFile::new(
        "seed.json",
        r#"["skey-aaaaaaaa", "skey-bbbbbbbb", {"KeyId": "skey-cccccccc", "KeyName": "web", "AssociatedInstanceIds": ["ins-12345678"]}]"#,
    );
    let seed_path = seed.0.to_str().unwrap();
    let mut emu = spawn(&[
        "--seed",
        seed_path,
        "--secret-id",
        SECRET_ID,
        "--secret-key",
        SECRET_KEY,
        "--token",
        TOKEN,
        "--log",
        "--exit-on-stdin-close",
    ]);
    let credentials = Credentials::new(SECRET_ID, SECRET_KEY).unwrap().with_token(TOKEN).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let config = |method| {
        let mut config = RequestConfig::default();
        config.endpoint = emu.endpoint.clone();
        config.region = "ap-guangzhou".into();
        config.method = method;
        config
    };

    let (get_config, post_config) = (config(Method::Get), config(Method::Post));
    let get =
        get_config.build(&credentials, &DeleteKeyPairs::new(["skey-aaaaaaaa"]).unwrap(), now()).unwrap();
    let (status, body) = send(&agent, &get);
    assert_eq!((status, code(&body)), (200, "OK"), "{body}");
    let first_request_id = body["Response"]["RequestId"].as_str().unwrap().to_owned();

    let bound = DeleteKeyPairs::new(["skey-bbbbbbbb", "skey-cccccccc"]).unwrap();
    let post = post_config.build(&credentials, &bound, now()).unwrap();
    let (_, body) = send(&agent, &post);
    assert_eq!(code(&body), "InvalidParameterValue.KeyPairNotSupported", "{body}");

    let all = DescribeKeyPairs::all().with_limit(100).unwrap();
    let list = get_config.build(&credentials, &all, now()).unwrap();
    let (_, body) = send(&agent, &list);
    let ids: Vec<&str> = body["Response"]["KeyPairSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kp| kp["KeyId"].as_str().unwrap())
        .collect();
    assert_eq!(
        (body["Response"]["TotalCount"].as_u64(), ids),
        (Some(2), vec!["skey-bbbbbbbb", "skey-cccccccc"])
    );
    assert_eq!(body["Response"]["KeyPairSet"][1]["AssociatedInstanceIds"], json!(["ins-12345678"]));

    let wrong = Credentials::new(SECRET_ID, "not-the-key").unwrap().with_token(TOKEN).unwrap();
    let forged = post_config.build(&wrong, &DescribeKeyPairs::all(), now()).unwrap();
    assert_eq!(code(&send(&agent, &forged).1), "AuthFailure.SignatureFailure");

    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        emu.stdout.read_line(&mut line).unwrap();
        lines.push(serde_json::from_str::<Value>(&line).unwrap_or_else(|_| panic!("{line:?}")));
    }
    let summary: Vec<(&str, &str, u64, &str, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["method"].as_str().unwrap(),
                l["action"].as_str().unwrap(),
                l["key_ids"].as_u64().unwrap(),
                l["code"].as_str().unwrap(),
                l["deleted"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("GET", "DeleteKeyPairs", 1, "OK", 1),
            ("POST", "DeleteKeyPairs", 2, "InvalidParameterValue.KeyPairNotSupported", 0),
            ("GET", "DescribeKeyPairs", 0, "OK", 0),
            ("POST", "DescribeKeyPairs", 0, "AuthFailure.SignatureFailure", 0),
        ]
    );
    assert_eq!(lines[0]["request_id"], first_request_id.as_str());

    drop(emu.child.stdin.take());
    let status = wait(&mut emu.child);
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    emu.stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    emu.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    for output in [&rest, &stderr] {
        assert!(!output.contains(SECRET_KEY) && !output.contains(TOKEN), "{output}");
    }
    assert!(stderr.contains("emulator stopped"), "{stderr}");
}

#[test]
fn fail_rate_one_answers_every_request_with_an_html_500() {
    let mut emu = spawn(&["--fail-rate", "1", "--exit-on-stdin-close"]);
    let credentials =
        Credentials::new("AKIDEMULATOR00000000000000000000", "emulator-secret-key-not-for-production")
            .unwrap();
    let mut config = RequestConfig::default();
    config.endpoint = emu.endpoint.clone();
    let request = config.build(&credentials, &DescribeKeyPairs::all(), now()).unwrap();
    let addr = format!("127.0.0.1:{}", emu.port);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(request.to_string().as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 500 Internal Server Error\r\n"), "{answer}");
    assert!(answer.contains("Content-Type: text/html\r\n") && answer.contains("<html>"));
    drop(emu.child.stdin.take());
    assert_eq!(wait(&mut emu.child).code(), Some(0));
}

fn run_to_end(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_arguments_exit_2_with_a_message_and_help_exits_0() {
    let bad_seed = TempFile::new("bad-seed.json", r#"["skey-1122"]"#);
    for args in [
        &["emulate", "--port", "x"][..],
        &["emulate", "--bound-behavior", "keep"],
        &["emulate", "--drop-rate", "2"],
        &["emulate", "--seed", bad_seed.0.to_str().unwrap()],
        &["emulate", "--secret-key", "k"],
        &["frobnicate"],
        &[],
    ] {
        let (status, stdout, stderr) = run_to_end(args);
        assert_eq!(status, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(!stderr.is_empty(), "{args:?}");
    }
    for args in [&["--help"][..], &["emulate", "--help"], &["help", "emulate"]] {
        let (status, stdout, _) = run_to_end(args);
        assert_eq!(status, Some(0), "{args:?}");
        assert!(stdout.contains("Usage: cvm-keypairs"), "{stdout}");
    }
}

#[test]
fn a_taken_port_exits_3() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (status, stdout, stderr) = run_to_end(&["emulate", "--port", &port]);
    assert_eq!(status, Some(3), "{stderr}");
    assert!(stdout.is_empty() && stderr.contains("cannot serve"), "{stderr}");
}

#[test]
fn a_bad_seed_entry_exits_2_naming_the_file_the_entry_and_the_field() {
    let seed = TempFile::new(
        "wrong-field.json",
        r#"["skey-aaaaaaaa", "skey-cccccccc", "skey-dddddddd",
            {"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": "ins-12345678"}]"#,
    );
    let path = seed.0.to_str().unwrap();
    let (status, stdout, stderr) = run_to_end(&["emulate", "--seed", path]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: seed file {path:?}: entry 3 (skey-bbbbbbbb): AssociatedInstanceIds: expected an array of \
             strings, got a string"
        )
    );

    let huge = TempFile::new("huge.json", &format!("[{}]", "\"skey-aaaaaaaa\",".repeat(70_000)));
    let (status, _, stderr) = run_to_end(&["emulate", "--seed", huge.0.to_str().unwrap()]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("more than 1048576 bytes, the most a seed file may hold"), "{stderr}");
}
