//! The running emulator over real loopback TCP: requests signed by the test client
//! ([`crate::test_support`]), answers read back byte by byte.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;
use crate::test_support::{set_header, to_wire, TestRequest};

mod sts;

/// Any action, with a JSON object of parameters.
struct Raw {
    name: &'static str,
    params: Value,
}

fn delete(ids: &[&str]) -> Raw {
    Raw { name: "DeleteKeyPairs", params: json!({ "KeyIds": ids }) }
}

fn describe(params: Value) -> Raw {
    Raw { name: "DescribeKeyPairs", params }
}

/// A real (public) ed25519 key line.
const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

fn key_pairs(ids: &[&str]) -> Vec<KeyPair> {
    ids.iter().map(|id| KeyPair::new(id).unwrap()).collect()
}

fn bound(id: &str) -> KeyPair {
    KeyPair { associated_instance_ids: vec!["ins-00000001".into()], ..KeyPair::new(id).unwrap() }
}

fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("the emulator starts")
}

/// `action` over `method` (`GET` or `POST`), for the default credentials, now.
fn build(method: &'static str, action: &Raw) -> TestRequest {
    TestRequest::new(method, action.name, action.params.clone())
}

/// The request's wire bytes.
fn wire(request: &TestRequest) -> Vec<u8> {
    request.wire()
}

#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The error code, or `OK`.
    fn code(&self) -> String {
        let v = self.json();
        v["Response"]["Error"]["Code"].as_str().unwrap_or("OK").to_owned()
    }
}

/// One client connection, kept alive across exchanges.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connects");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Conn { stream, buf: Vec::new() }
    }

    /// Sends `bytes` and reads one response; `None` if the connection closed without one.
    fn exchange(&mut self, bytes: &[u8]) -> Option<Response> {
        self.stream.write_all(bytes).ok()?;
        self.read_response()
    }

    fn read_response(&mut self) -> Option<Response> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
                let length: usize = head
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |v| v.parse().unwrap());
                if self.buf.len() >= end + 4 + length {
                    let body = self.buf[end + 4..end + 4 + length].to_vec();
                    self.buf.drain(..end + 4 + length);
                    let status = head[9..12].parse().unwrap();
                    return Some(Response { status, head, body });
                }
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Whether the server closed the connection (reads EOF or a reset, not a timeout).
    fn is_closed(&mut self) -> bool {
        match self.stream.read(&mut [0u8; 1]) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }
}

fn now() -> i64 {
    unix_now()
}

fn call(emulator: &Emulator, method: &'static str, action: &Raw) -> Response {
    Conn::open(emulator.addr()).exchange(&wire(&build(method, action))).expect("an answer")
}

fn ids_left(emulator: &Emulator) -> Vec<String> {
    emulator.key_pairs().into_iter().map(|kp| kp.key_id).collect()
}

#[test]
fn get_and_post_deletes_answer_the_documented_shape() {
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"]),
        ..Default::default()
    });
    for (method, id) in [("GET", "skey-aaaaaaaa"), ("POST", "skey-bbbbbbbb")] {
        let response = call(&emulator, method, &delete(&[id]));
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let body = response.json();
        let members: Vec<&String> = body["Response"].as_object().unwrap().keys().collect();
        assert_eq!(members, ["RequestId"], "{body}");
        let request_id = body["Response"]["RequestId"].as_str().unwrap();
        assert_eq!(request_id.len(), 36);
        assert_eq!(request_id.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    }
    assert_eq!(ids_left(&emulator), ["skey-cccccccc"]);
    let stats = emulator.stats();
    assert_eq!((stats.requests_for("DeleteKeyPairs"), stats.answers_with("OK")), (2, 2));
}

#[test]
fn errors_carry_code_message_and_request_id() {
    let emulator = start(EmulatorConfig { key_pairs: key_pairs(&["skey-aaaaaaaa"]), ..Default::default() });
    let response = call(&emulator, "POST", &delete(&["skey-aaaaaaaa", "skey-zzzzzzzz"]));
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["Response"]["Error"]["Code"], "InvalidKeyPairId.NotFound");
    assert!(body["Response"]["Error"]["Message"].as_str().unwrap().contains("skey-zzzzzzzz"));
    assert_eq!(body["Response"]["RequestId"].as_str().unwrap().len(), 36);
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa"], "one unknown id fails the whole delete");
    assert_eq!(emulator.stats().answers_with("InvalidKeyPairId.NotFound"), 1);
}

fn raw(name: &'static str, params: Value) -> Raw {
    Raw { name, params }
}

/// The error codes of every action, each with a request that meets it.
fn error_cases() -> Vec<(Raw, &'static str)> {
    let hundred_and_one: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
    let many: Vec<&str> = hundred_and_one.iter().map(String::as_str).collect();
    let create = |name: &str| json!({"KeyName": name, "ProjectId": 0});
    let import = |name: &str, key: &str| json!({"KeyName": name, "ProjectId": 0, "PublicKey": key});
    let tags = |tags: Value| json!({"KeyName": "fresh", "ProjectId": 0, "TagSpecification": [{"ResourceType": "keypair", "Tags": tags}]});
    let bind = |instances: &[&str], keys: &[&str]| json!({"InstanceIds": instances, "KeyIds": keys});
    let placeholder = KeyPair::new("skey-cccccccc").unwrap().public_key;
    vec![
        (delete(&["skey-1122"]), "InvalidKeyPairId.Malformed"),
        (delete(&many), "InvalidParameterValue.LimitExceeded"),
        (raw("DeleteKeyPairs", json!({})), "MissingParameter"),
        (delete(&["skey-cccccccc"]), "InvalidParameterValue.KeyPairNotSupported"),
        (delete(&["skey-zzzzzzzz"]), "InvalidKeyPairId.NotFound"),
        (raw("DeleteKeyPairs", json!({"KeyIds": ["skey-cccccccc"], "Limit": 1})), "UnknownParameter"),
        (raw("RunInstances", json!({})), "InvalidAction"),
        (describe(json!({"Filters": [{"Name": "zone", "Values": ["x"]}]})), "InvalidFilter"),
        (describe(json!({"Limit": 101})), "InvalidParameterValueLimit"),
        (describe(json!({"Offset": -1})), "InvalidParameterValueOffset"),
        (
            describe(
                json!({"KeyIds": ["skey-cccccccc"], "Filters": [{"Name": "key-id", "Values": ["skey-cccccccc"]}]}),
            ),
            "InvalidParameter",
        ),
        (raw("CreateKeyPair", json!({"KeyName": "fresh"})), "MissingParameter"),
        (
            raw("CreateKeyPair", json!({"KeyName": "fresh", "ProjectId": 0, "KeyIds": ["skey-aaaaaaaa"]})),
            "UnknownParameter",
        ),
        (raw("CreateKeyPair", create("")), "InvalidKeyPairNameEmpty"),
        (raw("CreateKeyPair", create(&"n".repeat(26))), "InvalidKeyPairNameTooLong"),
        (raw("CreateKeyPair", create("no spaces")), "InvalidKeyPairNameIncludeIllegalChar"),
        (raw("CreateKeyPair", create("taken_name")), "InvalidKeyPairName.Duplicate"),
        (raw("CreateKeyPair", json!({"KeyName": "fresh", "ProjectId": -1})), "InvalidProjectId.NotFound"),
        (
            raw("CreateKeyPair", tags(json!([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]))),
            "InvalidParameterValue.DuplicateTags",
        ),
        (raw("CreateKeyPair", tags(json!([{"Key": "", "Value": "1"}]))), "InvalidParameterValue"),
        (raw("CreateKeyPair", create("fresh")), "InvalidKeyPair.LimitExceeded"),
        (raw("ImportKeyPair", import("fresh", "ssh-rsa AAAA")), "InvalidPublicKey.Malformed"),
        (raw("ImportKeyPair", import("fresh", &placeholder)), "InvalidPublicKey.Duplicate"),
        (raw("ImportKeyPair", import("fresh", ED25519)), "InvalidKeyPair.LimitExceeded"),
        (
            raw("ModifyKeyPairAttribute", json!({"KeyId": "skey-zzzzzzzz", "KeyName": "x"})),
            "InvalidKeyPairId.NotFound",
        ),
        (
            raw("ModifyKeyPairAttribute", json!({"KeyId": "skey-cccccccc", "Description": "d".repeat(61)})),
            "InvalidParameterValue.TooLong",
        ),
        (
            raw("AssociateInstancesKeyPairs", bind(&["ins-0000000z"], &["skey-cccccccc"])),
            "InvalidInstanceId.NotFound",
        ),
        (
            raw("AssociateInstancesKeyPairs", bind(&["ins-1"], &["skey-cccccccc"])),
            "InvalidInstanceId.Malformed",
        ),
        (
            raw("AssociateInstancesKeyPairs", bind(&["ins-00000002"], &["skey-cccccccc"])),
            "UnsupportedOperation.InstanceStateRunning",
        ),
        (
            raw("DisassociateInstancesKeyPairs", bind(&["ins-00000003"], &["skey-cccccccc"])),
            "UnsupportedOperation.InstanceOsWindows",
        ),
        (
            raw("DisassociateInstancesKeyPairs", bind(&["ins-00000004"], &["skey-cccccccc"])),
            "OperationDenied.InstanceOperationInProgress",
        ),
        (
            raw(
                "DescribeInstances",
                json!({"InstanceIds": ["ins-00000001"], "Filters": [{"Name": "instance-id", "Values": ["ins-00000001"]}]}),
            ),
            "InvalidParameter",
        ),
        (
            raw("DescribeInstances", json!({"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})),
            "InvalidFilter",
        ),
    ]
}

#[test]
fn every_action_error_code_is_reachable_over_http() {
    let taken = KeyPair { key_name: "taken_name".into(), ..KeyPair::new("skey-aaaaaaaa").unwrap() };
    let instance = |id: &str, state, os: &str| Instance {
        instance_state: state,
        os_name: os.into(),
        ..Instance::new(id).unwrap()
    };
    let emulator = start(EmulatorConfig {
        key_pairs: vec![taken, bound("skey-cccccccc")],
        instances: vec![
            instance("ins-00000002", InstanceState::Running, "CentOS 7.9 64位"),
            instance("ins-00000003", InstanceState::Stopped, "Windows Server 2019 数据中心版"),
            instance("ins-00000004", InstanceState::Stopped, "CentOS 7.9 64位"),
        ],
        key_quota: 2,
        async_delay: Duration::from_secs(60),
        rate_limit: 0,
        ..Default::default()
    });
    let busy = raw(
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": ["ins-00000004"], "KeyIds": ["skey-aaaaaaaa"]}),
    );
    assert_eq!(call(&emulator, "POST", &busy).code(), "OK");
    for method in ["GET", "POST"] {
        for (action, expected) in &error_cases() {
            assert_eq!(
                call(&emulator, method, action).code(),
                *expected,
                "{method} {} {}",
                action.name,
                action.params
            );
        }
    }
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa", "skey-cccccccc"]);
}

/// Every error code the emulator's own code can answer with: the first argument of each
/// `ApiError::new` and of the instance checks' `refuse`, and each id rule's `malformed` code,
/// outside the tests.
fn codes_in_the_source() -> std::collections::BTreeSet<String> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|f| {
        f.extension().is_some_and(|e| e == "rs")
            && !f.ends_with("tests.rs")
            && !f.ends_with("test_support.rs")
    });
    let mut codes = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for marker in ["ApiError::new(", "refuse(", "malformed: "] {
            for (at, _) in text.match_indices(marker) {
                let rest = text[at + marker.len()..].trim_start();
                if let Some(literal) = rest.strip_prefix('"') {
                    codes.insert(literal[..literal.find('"').unwrap()].to_owned());
                }
            }
        }
    }
    codes
}

#[test]
fn every_code_the_emulator_can_answer_is_documented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/error-codes.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let documented: std::collections::HashSet<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert!(documented.len() > 400, "{} codes in {}", documented.len(), path.display());
    let answered = codes_in_the_source();
    for expected in [
        "AuthFailure.SignatureFailure",
        "UnsupportedRegion",
        "InvalidInstanceId.Malformed",
        "InvalidPublicKey.Duplicate",
    ] {
        assert!(answered.contains(expected), "the scan found {expected}: {answered:?}");
    }
    let undocumented: Vec<&String> = answered.iter().filter(|c| !documented.contains(c.as_str())).collect();
    assert!(undocumented.is_empty(), "not in {}: {undocumented:?}", path.display());
    let cases = error_cases();
    for (_, code) in &cases {
        assert!(answered.contains(*code), "{code} is expected by a test but not in the source");
    }
}

#[test]
fn bound_key_pairs_in_skip_mode_are_silently_kept() {
    let mut pairs = key_pairs(&["skey-aaaaaaaa"]);
    pairs.push(bound("skey-cccccccc"));
    let emulator =
        start(EmulatorConfig { key_pairs: pairs, bound_behavior: BoundBehavior::Skip, ..Default::default() });
    assert_eq!(call(&emulator, "POST", &delete(&["skey-aaaaaaaa", "skey-cccccccc"])).code(), "OK");
    assert_eq!(ids_left(&emulator), ["skey-cccccccc"]);
}

#[test]
fn describe_lists_pages_and_filters() {
    let ids: Vec<String> = (0..25).map(|i| format!("skey-{i:08}")).collect();
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&ids.iter().map(String::as_str).collect::<Vec<_>>()),
        rate_limit: 0,
        ..Default::default()
    });
    let first = call(&emulator, "POST", &describe(json!({}))).json();
    assert_eq!(first["Response"]["TotalCount"], 25);
    assert_eq!(first["Response"]["KeyPairSet"].as_array().unwrap().len(), 20);
    let rest = call(&emulator, "GET", &describe(json!({"Offset": 20, "Limit": 100}))).json();
    assert_eq!(rest["Response"]["KeyPairSet"].as_array().unwrap().len(), 5);
    assert_eq!(rest["Response"]["KeyPairSet"][0]["KeyId"], "skey-00000020");
    let by_name = json!({"Filters": [{"Name": "key-name", "Values": ["key_00000003", "key_00000007"]}]});
    for method in ["GET", "POST"] {
        let found = call(&emulator, method, &describe(by_name.clone())).json();
        assert_eq!(found["Response"]["TotalCount"], 2, "{method}");
    }
    let by_id =
        call(&emulator, "GET", &describe(json!({"KeyIds": ["skey-00000001", "skey-zzzzzzzz"]}))).json();
    assert_eq!(by_id["Response"]["TotalCount"], 1);
    let pair = &by_id["Response"]["KeyPairSet"][0];
    for field in [
        "KeyId",
        "KeyName",
        "ProjectId",
        "Description",
        "PublicKey",
        "AssociatedInstanceIds",
        "CreatedTime",
        "Tags",
    ] {
        assert!(pair.get(field).is_some(), "{field} in {pair}");
    }
}

#[test]
fn many_requests_share_one_connection() {
    let ids: Vec<String> = (0..50).map(|i| format!("skey-{i:08}")).collect();
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&ids.iter().map(String::as_str).collect::<Vec<_>>()),
        rate_limit: 0,
        ..Default::default()
    });
    let mut conn = Conn::open(emulator.addr());
    for (i, id) in ids.iter().enumerate() {
        let method = if i % 2 == 0 { "GET" } else { "POST" };
        let request = build(method, &delete(&[id]));
        let response = conn.exchange(&wire(&request)).expect("an answer on the same connection");
        assert_eq!((response.code(), response.header("Connection")), ("OK".to_owned(), Some("keep-alive")));
    }
    // Two pipelined requests in one write are answered in order.
    let a = wire(&build("POST", &describe(json!({}))));
    let b = wire(&build("GET", &delete(&["skey-00000000"])));
    let both = conn.exchange(&[a, b].concat()).unwrap();
    assert_eq!(both.json()["Response"]["TotalCount"], 0);
    assert_eq!(conn.read_response().unwrap().code(), "InvalidKeyPairId.NotFound");
    assert!(emulator.key_pairs().is_empty());
}

#[test]
fn connection_close_is_honoured() {
    let emulator = start(EmulatorConfig::default());
    let request = build("POST", &describe(json!({})));
    let bytes = String::from_utf8(wire(&request)).unwrap().replacen("\r\n", "\r\nConnection: close\r\n", 1);
    let mut conn = Conn::open(emulator.addr());
    let response = conn.exchange(bytes.as_bytes()).unwrap();
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(conn.is_closed());
}

#[test]
fn session_token_is_checked_both_ways() {
    let emulator = start(EmulatorConfig { token: Some("session-token-1".into()), ..Default::default() });
    let with_token =
        |token: &str| TestRequest { token: Some(token.into()), ..build("POST", &describe(json!({}))) };
    let ok = with_token("session-token-1");
    assert_eq!(Conn::open(emulator.addr()).exchange(&wire(&ok)).unwrap().code(), "OK");
    let wrong = with_token("other");
    assert_eq!(
        Conn::open(emulator.addr()).exchange(&wire(&wrong)).unwrap().code(),
        "AuthFailure.TokenFailure"
    );
    let none = build("POST", &describe(json!({})));
    assert_eq!(
        Conn::open(emulator.addr()).exchange(&wire(&none)).unwrap().code(),
        "AuthFailure.TokenFailure"
    );
}

#[test]
fn authentication_failures_are_answered_and_change_nothing() {
    let emulator = start(EmulatorConfig { key_pairs: key_pairs(&["skey-aaaaaaaa"]), ..Default::default() });
    let action = delete(&["skey-aaaaaaaa"]);
    let cases = [
        (
            TestRequest { secret_key: "wrong".into(), ..build("POST", &action) },
            "AuthFailure.SignatureFailure",
        ),
        (
            TestRequest { secret_id: "AKIDnobody".into(), ..build("GET", &action) },
            "AuthFailure.SecretIdNotFound",
        ),
        (TestRequest { timestamp: now() - 400, ..build("POST", &action) }, "AuthFailure.SignatureExpire"),
    ];
    for (request, expected) in cases {
        let response = Conn::open(emulator.addr()).exchange(&wire(&request)).unwrap();
        assert_eq!(response.code(), expected);
    }
    let mut request = build("POST", &action).sign();
    set_header(&mut request, "X-TC-Version", "2020-01-01");
    assert_eq!(Conn::open(emulator.addr()).exchange(&to_wire(&request)).unwrap().code(), "NoSuchVersion");
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa"]);
}

/// One request of every emulated action, with valid parameters.
fn one_of_each() -> Vec<Raw> {
    let bind = json!({"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-aaaaaaaa"]});
    vec![
        delete(&["skey-aaaaaaaa"]),
        describe(json!({})),
        Raw { name: "CreateKeyPair", params: json!({"KeyName": "k", "ProjectId": 0}) },
        Raw { name: "ImportKeyPair", params: json!({"KeyName": "k", "ProjectId": 0, "PublicKey": ED25519}) },
        Raw { name: "ModifyKeyPairAttribute", params: json!({"KeyId": "skey-aaaaaaaa", "Description": "d"}) },
        Raw { name: "AssociateInstancesKeyPairs", params: bind.clone() },
        Raw { name: "DisassociateInstancesKeyPairs", params: bind },
        Raw { name: "DescribeInstances", params: json!({}) },
    ]
}

#[test]
fn every_action_needs_a_region_where_cvm_is_offered() {
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&["skey-aaaaaaaa"]),
        rate_limit: 0,
        ..Default::default()
    });
    let actions = one_of_each();
    assert_eq!(actions.len(), api::ACTIONS.len());
    for action in &actions {
        for (region, expected) in [
            (None, "MissingParameter"),
            (Some(""), "MissingParameter"),
            (Some("ap-nowhere"), "UnsupportedRegion"),
            (Some("AP-GUANGZHOU"), "UnsupportedRegion"),
            (Some("ap-guangzhou-3"), "UnsupportedRegion"),
        ] {
            for method in ["GET", "POST"] {
                let request = TestRequest { region, ..build(method, action) };
                let response = Conn::open(emulator.addr()).exchange(&wire(&request)).unwrap();
                assert_eq!(response.code(), expected, "{} {method} {region:?}", action.name);
            }
        }
    }
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa"], "a request refused for its region changes nothing");
    for region in api::REGIONS {
        let request = TestRequest { region: Some(region), ..build("POST", &describe(json!({}))) };
        assert_eq!(Conn::open(emulator.addr()).exchange(&wire(&request)).unwrap().code(), "OK", "{region}");
    }
}

#[test]
fn the_rate_limit_applies_to_every_action() {
    let emulator = start(EmulatorConfig::default());
    for action in one_of_each() {
        let mut conn = Conn::open(emulator.addr());
        // Pipelined in one write, so all eleven arrive well within one second.
        let burst: Vec<u8> = (0..11).flat_map(|_| wire(&build("POST", &action))).collect();
        conn.stream.write_all(&burst).unwrap();
        let codes: Vec<String> = (0..11).map(|_| conn.read_response().unwrap().code()).collect();
        assert!(codes[..10].iter().all(|c| c != "RequestLimitExceeded"), "{}: {codes:?}", action.name);
        assert_eq!(codes[10], "RequestLimitExceeded", "{}", action.name);
    }
    assert_eq!(emulator.stats().answers_with("RequestLimitExceeded"), 8);
}

#[test]
fn clock_offset_shifts_date_and_signature_window() {
    let emulator = start(EmulatorConfig { clock_offset: 3_600, ..Default::default() });
    let late = call(&emulator, "POST", &describe(json!({})));
    assert_eq!(late.code(), "AuthFailure.SignatureExpire");
    let date = late.header("Date").unwrap();
    assert!((-2..=2).any(|d| date == wire::http_date(now() + 3_600 + d)), "{date}");
    let skewed = TestRequest { timestamp: now() + 3_600, ..build("POST", &describe(json!({}))) };
    assert_eq!(Conn::open(emulator.addr()).exchange(&wire(&skewed)).unwrap().code(), "OK");
}

#[test]
fn rate_limit_refuses_the_eleventh_request_in_a_second_per_action() {
    let emulator = start(EmulatorConfig::default());
    let mut conn = Conn::open(emulator.addr());
    // Pipelined in one write, so all twelve arrive well within one second.
    let burst: Vec<u8> = (0..12).flat_map(|_| wire(&build("POST", &describe(json!({}))))).collect();
    conn.stream.write_all(&burst).unwrap();
    let codes: Vec<String> = (0..12).map(|_| conn.read_response().unwrap().code()).collect();
    assert_eq!(codes.iter().filter(|c| *c == "OK").count(), 10, "{codes:?}");
    assert_eq!(codes[10..], ["RequestLimitExceeded", "RequestLimitExceeded"]);
    let other = build("POST", &delete(&["skey-aaaaaaaa"]));
    assert_eq!(
        conn.exchange(&wire(&other)).unwrap().code(),
        "InvalidKeyPairId.NotFound",
        "another action has its own budget"
    );
    assert_eq!(emulator.stats().answers_with("RequestLimitExceeded"), 2);
}

/// Runs `n` sequential deletes of distinct ids against an emulator with faults; returns the
/// outcome codes in order.
fn fault_run(seed: u64, n: usize) -> (Vec<String>, Emulator) {
    let ids: Vec<String> = (0..n).map(|i| format!("skey-{i:08}")).collect();
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&ids.iter().map(String::as_str).collect::<Vec<_>>()),
        rate_limit: 0,
        fail_rate: 0.2,
        drop_rate: 0.2,
        fault_seed: seed,
        ..Default::default()
    });
    let mut codes = Vec::new();
    let mut conn = Conn::open(emulator.addr());
    for id in &ids {
        let request = build("POST", &delete(&[id]));
        match conn.exchange(&wire(&request)) {
            Some(r) if r.status == 500 => {
                assert_eq!(r.header("Content-Type"), Some("text/html"));
                assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
                codes.push("500".to_owned());
            }
            Some(r) => codes.push(r.code()),
            None => {
                codes.push(if emulator.contains(id) { "drop" } else { "drop-after" }.to_owned());
                conn = Conn::open(emulator.addr());
            }
        }
    }
    (codes, emulator)
}

#[test]
fn faults_are_deterministic_for_a_seed_and_drops_may_follow_the_deletion() {
    let (codes, emulator) = fault_run(11, 60);
    assert_eq!(codes, fault_run(11, 60).0);
    assert_ne!(codes, fault_run(12, 60).0);
    for kind in ["OK", "500", "drop", "drop-after"] {
        assert!(codes.iter().any(|c| c == kind), "{kind} missing from {codes:?}");
    }
    let stats = emulator.stats();
    assert_eq!(stats.answers_with("fault:http-500") as usize, codes.iter().filter(|c| *c == "500").count());
    assert_eq!(
        stats.answers_with("fault:drop-after-apply") as usize,
        codes.iter().filter(|c| *c == "drop-after").count()
    );
    let deleted = 60 - emulator.key_pairs().len();
    assert_eq!(deleted, codes.iter().filter(|c| *c == "OK" || *c == "drop-after").count());
}

#[test]
fn slow_mode_delays_answers() {
    let emulator = start(EmulatorConfig { slow: Duration::from_millis(150), ..Default::default() });
    let started = std::time::Instant::now();
    assert_eq!(call(&emulator, "POST", &describe(json!({}))).code(), "OK");
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn bad_http_is_answered_with_a_status_and_closed() {
    let emulator = start(EmulatorConfig::default());
    let cases: [(&[u8], u16); 5] = [
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00", 400),
        (b"GET /other HTTP/1.1\r\n\r\n", 404),
        (b"DELETE / HTTP/1.1\r\n\r\n", 405),
    ];
    for (bytes, status) in cases {
        let mut conn = Conn::open(emulator.addr());
        assert_eq!(
            conn.exchange(bytes).map(|r| r.status),
            Some(status),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(wire::MAX_HEAD_BYTES));
    assert_eq!(Conn::open(emulator.addr()).exchange(huge.as_bytes()).map(|r| r.status), Some(431));
    let stats = emulator.stats();
    assert_eq!(
        (stats.answers_with("http:400"), stats.answers_with("http:413"), stats.answers_with("http:431")),
        (2, 1, 1)
    );
    assert_eq!(call(&emulator, "POST", &describe(json!({}))).code(), "OK", "still serving");
}

#[test]
fn post_must_be_json_and_bad_json_is_invalid_parameter() {
    let emulator = start(EmulatorConfig::default());
    let mut request = build("POST", &describe(json!({}))).sign();
    request.body = b"{not json".to_vec();
    let mut bad_body = TestRequest { unsigned_payload: true, ..build("POST", &describe(json!({}))) }.sign();
    bad_body.body = b"{not json".to_vec();
    assert_eq!(Conn::open(emulator.addr()).exchange(&to_wire(&bad_body)).unwrap().code(), "InvalidParameter");
    assert_eq!(
        Conn::open(emulator.addr()).exchange(&to_wire(&request)).unwrap().code(),
        "AuthFailure.SignatureFailure"
    );
}

#[test]
fn idle_connections_are_closed_after_the_timeout() {
    let emulator = start(EmulatorConfig { idle_timeout: Duration::from_millis(100), ..Default::default() });
    let mut conn = Conn::open(emulator.addr());
    conn.stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    assert!(conn.is_closed(), "a half-sent request does not pin the thread");
    let mut silent = Conn::open(emulator.addr());
    assert!(silent.is_closed(), "nor does a connection that never sends a byte");
}

/// Sends one byte of `head` every `every` until the connection is closed; returns how long it
/// stayed open after the first byte.
fn trickle_until_closed(conn: &mut Conn, head: &[u8], every: Duration) -> Duration {
    conn.stream.set_read_timeout(Some(every)).unwrap();
    let first = Instant::now();
    for byte in head {
        if conn.stream.write_all(&[*byte]).is_err() {
            break;
        }
        match conn.stream.read(&mut [0u8; 64]) {
            Ok(_) => break,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    first.elapsed()
}

#[test]
fn a_request_must_arrive_whole_within_the_request_timeout() {
    let limit = Duration::from_millis(300);
    let emulator = start(EmulatorConfig { request_timeout: limit, ..Default::default() });
    // One byte every 20 ms is never idle for long, yet the request must be whole in time.
    let head = [&b"GET / HTTP/1.1\r\nX-Slow: "[..], &[b'a'; 200]].concat();
    let open_for = trickle_until_closed(&mut Conn::open(emulator.addr()), &head, Duration::from_millis(20));
    assert!(open_for >= limit && open_for < limit * 3, "closed after {open_for:?}");

    // The limit runs from the request's first byte: silence before it is idle time, and a
    // kept-alive connection may idle between requests for longer than the limit.
    let mut conn = Conn::open(emulator.addr());
    std::thread::sleep(limit * 2);
    for _ in 0..2 {
        let request = build("POST", &describe(json!({})));
        assert_eq!(conn.exchange(&wire(&request)).map(|r| r.code()).as_deref(), Some("OK"));
        std::thread::sleep(limit * 2);
    }
    // A request that arrives in pieces within the limit is answered.
    let request = wire(&build("POST", &describe(json!({}))));
    let (head, body) = request.split_at(request.len() - 2);
    conn.stream.write_all(head).unwrap();
    std::thread::sleep(limit / 3);
    assert_eq!(conn.exchange(body).map(|r| r.code()).as_deref(), Some("OK"));
}

#[test]
fn a_full_budget_evicts_the_connection_waiting_longest() {
    let emulator = start(EmulatorConfig { max_connections: 2, rate_limit: 0, ..Default::default() });
    let request = || wire(&build("POST", &describe(json!({}))));
    let mut idle = Conn::open(emulator.addr());
    assert_eq!(idle.exchange(&request()).unwrap().code(), "OK");
    // The start of a second request in the same write: it is mid-request from its answer on,
    // so the order of the waits does not hang on when the emulator notices the bytes.
    let mut slow = Conn::open(emulator.addr());
    let answer = slow.exchange(&[request(), b"GET / HTTP/1.1\r\nX-Slow: a".to_vec()].concat());
    assert_eq!(answer.unwrap().code(), "OK");

    // Idle since its answer, before the other's: the first to go.
    let mut third = Conn::open(emulator.addr());
    assert_eq!(third.exchange(&request()).unwrap().code(), "OK");
    assert!(idle.is_closed(), "the longest idle connection was evicted");
    // Part-way through a request since before the third's answer: next.
    let mut fourth = Conn::open(emulator.addr());
    assert_eq!(fourth.exchange(&request()).unwrap().code(), "OK");
    assert!(slow.is_closed(), "the connection trickling a request was evicted");
    assert_eq!(third.exchange(&request()).map(|r| r.code()).as_deref(), Some("OK"));
    assert_eq!(emulator.stats().answers_with("http:503"), 0);
}

#[test]
fn a_newcomer_is_refused_with_503_only_while_every_connection_is_being_answered() {
    let (answering, being_answered) = std::sync::mpsc::channel();
    let answering = Mutex::new(answering);
    let emulator = start(EmulatorConfig {
        max_connections: 1,
        slow: Duration::from_millis(300),
        on_request: Some(Arc::new(move |_: &RequestRecord| {
            let _ = answering.lock().unwrap().send(());
        })),
        ..Default::default()
    });
    let request = || wire(&build("POST", &describe(json!({}))));
    let mut busy = Conn::open(emulator.addr());
    busy.stream.write_all(&request()).unwrap();
    // Told after the request was decided, before the delay: it is being answered now.
    being_answered.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(Conn::open(emulator.addr()).read_response().map(|r| r.status), Some(503));
    assert_eq!(busy.read_response().unwrap().code(), "OK");
    // Answered, it only waits on its client now, and makes room.
    assert_eq!(Conn::open(emulator.addr()).exchange(&request()).unwrap().code(), "OK");
    assert!(busy.is_closed());
    assert_eq!(emulator.stats().answers_with("http:503"), 1);
}

/// Clients that each trickle a request head at one byte a second and, like a real slowloris,
/// reconnect the moment their connection is closed; they stop when this value is dropped, or
/// after 20 s at most.
struct Slowloris {
    stop: Arc<AtomicBool>,
    drops: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Slowloris {
    fn start(addr: SocketAddr, clients: usize) -> Slowloris {
        let stop = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicUsize::new(0));
        let threads = (0..clients)
            .map(|_| {
                let (stop, drops) = (Arc::clone(&stop), Arc::clone(&drops));
                std::thread::spawn(move || {
                    let deadline = Instant::now() + Duration::from_secs(20);
                    let going = || !stop.load(Ordering::Relaxed) && Instant::now() < deadline;
                    while going() {
                        let Ok(mut stream) = TcpStream::connect(addr) else {
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        };
                        stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                        let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaa";
                        let mut next_byte = Instant::now();
                        for byte in head {
                            while going() && Instant::now() < next_byte {
                                // Any answer (a 503) or end of stream means dropped.
                                match stream.read(&mut [0u8; 256]) {
                                    Err(e)
                                        if matches!(
                                            e.kind(),
                                            ErrorKind::WouldBlock | ErrorKind::TimedOut
                                        ) => {}
                                    _ => break,
                                }
                            }
                            if !going() || Instant::now() < next_byte || stream.write_all(&[*byte]).is_err() {
                                break;
                            }
                            next_byte += Duration::from_secs(1);
                        }
                        drops.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Slowloris { stop, drops, threads }
    }

    fn drops(&self) -> usize {
        self.drops.load(Ordering::Relaxed)
    }
}

impl Drop for Slowloris {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[test]
fn slow_clients_that_reconnect_cannot_lock_out_a_prompt_one() {
    let emulator = start(EmulatorConfig { rate_limit: 0, ..Default::default() });
    assert_eq!(EmulatorConfig::default().max_connections, 64);
    let request = || wire(&build("POST", &describe(json!({}))));
    let mut pooled = Conn::open(emulator.addr());
    assert_eq!(pooled.exchange(&request()).unwrap().code(), "OK");

    let attack = Slowloris::start(emulator.addr(), 80);
    let deadline = Instant::now() + Duration::from_secs(5);
    while attack.drops() < 16 {
        assert!(Instant::now() < deadline, "80 slow clients never overflowed 64 connections");
        std::thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..3 {
        let asked = Instant::now();
        let answer = Conn::open(emulator.addr()).exchange(&request());
        let took = asked.elapsed();
        assert_eq!(answer.map(|r| r.code()).as_deref(), Some("OK"));
        assert!(took < Duration::from_secs(1), "answered after {took:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(pooled.is_closed(), "the pooled connection, idle longest, was evicted");
    let dropped_before_stop = attack.drops();
    let stopping = Instant::now();
    emulator.stop();
    assert!(stopping.elapsed() < Duration::from_secs(1), "stopped after {:?}", stopping.elapsed());
    let deadline = Instant::now() + Duration::from_secs(2);
    while attack.drops() < dropped_before_stop + 64 {
        assert!(Instant::now() < deadline, "stop closed every slow connection");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn call_status(emulator: &Emulator) -> u16 {
    let request = build("POST", &describe(json!({})));
    Conn::open(emulator.addr()).exchange(&wire(&request)).map_or(0, |r| r.status)
}

#[test]
fn every_request_is_reported_to_the_callback() {
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&records);
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&["skey-aaaaaaaa", "skey-bbbbbbbb"]),
        on_request: Some(Arc::new(move |r: &RequestRecord| sink.lock().unwrap().push(r.clone()))),
        ..Default::default()
    });
    let answer = call(&emulator, "GET", &delete(&["skey-aaaaaaaa", "skey-bbbbbbbb"]));
    call(&emulator, "POST", &delete(&["skey-1122"]));
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 2);
    let first = &records[0];
    assert_eq!(
        (
            first.seq,
            first.method.as_str(),
            first.action.as_str(),
            first.key_ids,
            first.status,
            first.code.as_str(),
            first.deleted
        ),
        (0, "GET", "DeleteKeyPairs", 2, 200, "OK", 2)
    );
    assert_eq!(first.request_id, answer.json()["Response"]["RequestId"]);
    assert_eq!(
        (records[1].code.as_str(), records[1].key_ids, records[1].deleted),
        ("InvalidKeyPairId.Malformed", 1, 0)
    );
}

#[test]
fn stop_closes_open_connections_and_frees_the_port() {
    let emulator = start(EmulatorConfig::default());
    let addr = emulator.addr();
    let mut idle = Conn::open(addr);
    let request = build("POST", &describe(json!({})));
    assert!(idle.exchange(&wire(&request)).is_some());
    emulator.stop();
    assert!(idle.is_closed());
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn request_ids_are_fresh() {
    let emulator = start(EmulatorConfig { rate_limit: 0, ..Default::default() });
    let ids: std::collections::HashSet<String> = (0..20)
        .map(|_| {
            call(&emulator, "POST", &describe(json!({}))).json()["Response"]["RequestId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 20);
}

#[test]
fn debug_output_hides_the_secret_key_and_token() {
    let config = EmulatorConfig {
        secret_id: "AKIDvisible".into(),
        secret_key: "SECRET-KEY-x".into(),
        token: Some("SECRET-TOKEN-y".into()),
        web_identity_token: Some("SECRET-WEB-IDENTITY-z".into()),
        ..Default::default()
    };
    let shown = format!("{config:?}");
    assert!(shown.contains("AKIDvisible") && !shown.contains("SECRET"), "{shown}");
    let emulator = start(config);
    let shown = format!("{emulator:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    let request = TestRequest {
        secret_id: "AKIDvisible".into(),
        secret_key: "SECRET-KEY-x".into(),
        ..build("POST", &describe(json!({})))
    };
    let response = Conn::open(emulator.addr()).exchange(&wire(&request)).unwrap();
    assert!(!String::from_utf8_lossy(&response.body).contains("SECRET"));
}

#[test]
fn invalid_rates_and_taken_ports_fail_to_start() {
    assert!(Emulator::start(EmulatorConfig { fail_rate: 1.5, ..Default::default() }).is_err());
    assert!(Emulator::start(EmulatorConfig { sts_duration_cap: Some(0), ..Default::default() }).is_err());
    assert!(Emulator::start(EmulatorConfig { drop_rate: f64::NAN, ..Default::default() }).is_err());
    assert!(Emulator::start(EmulatorConfig { fail_rate: 0.6, drop_rate: 0.5, ..Default::default() }).is_err());
    let emulator = start(EmulatorConfig::default());
    assert!(Emulator::start(EmulatorConfig { port: emulator.addr().port(), ..Default::default() }).is_err());
}

#[test]
fn malformed_key_pair_ids_are_refused_wherever_they_come_in() {
    let malformed = KeyPair { key_id: "skey-AAAAAAAA".into(), ..KeyPair::new("skey-aaaaaaaa").unwrap() };
    let refused =
        Emulator::start(EmulatorConfig { key_pairs: vec![malformed.clone()], ..Default::default() });
    let error = refused.expect_err("a malformed seed id is refused");
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        r#"invalid key pair id "skey-AAAAAAAA": after "skey-" only 0-9 and a-z are allowed"#
    );
    let emulator = start(EmulatorConfig::default());
    assert_eq!(emulator.insert(malformed).map_err(|e| e.to_string()), Err(error.to_string()));
    assert!(emulator.key_pairs().is_empty());
    let bad_instance =
        KeyPair { associated_instance_ids: vec!["ins-1".into()], ..KeyPair::new("skey-aaaaaaaa").unwrap() };
    let why = r#"invalid instance id "ins-1": an instance id is "ins-" and 8 characters"#;
    assert_eq!(emulator.insert(bad_instance.clone()).unwrap_err().to_string(), why);
    let refused = Emulator::start(EmulatorConfig { key_pairs: vec![bad_instance], ..Default::default() });
    assert_eq!(refused.unwrap_err().to_string(), why);
    let instance = Instance { instance_id: "ins-ABCDEFGH".into(), ..Instance::new("ins-abcdefgh").unwrap() };
    let refused = Emulator::start(EmulatorConfig { instances: vec![instance], ..Default::default() });
    assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    for (id, why) in [
        ("skey-1122", r#"a key pair id is "skey-" and 8 characters"#),
        ("key-aaaaaaaa", r#"a key pair id starts with "skey-""#),
        ("skey-aaaaaaa\u{e9}", r#"a key pair id is "skey-" and 8 characters"#),
        ("skey-aaaa aaa", r#"after "skey-" only 0-9 and a-z are allowed"#),
    ] {
        let error = KeyPair::new(id).expect_err(id).to_string();
        assert_eq!(error, format!("invalid key pair id {id:?}: {why}"));
    }
}

#[test]
fn seeded_key_pairs_can_be_added_and_read_while_running() {
    let emulator = start(EmulatorConfig::default());
    assert!(!emulator.contains("skey-aaaaaaaa"));
    emulator.insert(bound("skey-aaaaaaaa")).unwrap();
    assert!(emulator.contains("skey-aaaaaaaa") && emulator.key_pairs()[0].is_bound());
    assert_eq!(emulator.instances(), [Instance::new("ins-00000001").unwrap()], "its instance is added");
    assert_eq!(
        call(&emulator, "POST", &delete(&["skey-aaaaaaaa"])).code(),
        "InvalidParameterValue.KeyPairNotSupported"
    );
    emulator.insert(KeyPair::new("skey-aaaaaaaa").unwrap()).unwrap();
    assert!(!emulator.key_pairs()[0].is_bound(), "a replaced key pair takes the new one's bindings");
    assert_eq!(call(&emulator, "POST", &delete(&["skey-aaaaaaaa"])).code(), "OK");
}

#[test]
fn counters_stay_bounded_whatever_action_names_clients_send() {
    let emulator = start(EmulatorConfig::default());
    let burst: String = (0..70).map(|i| format!("POST / HTTP/1.1\r\nX-TC-Action: Made{i}\r\n\r\n")).collect();
    let mut conn = Conn::open(emulator.addr());
    conn.stream.write_all(burst.as_bytes()).unwrap();
    for _ in 0..70 {
        assert_eq!(conn.read_response().unwrap().code(), "MissingParameter");
    }
    let stats = emulator.stats();
    assert_eq!((stats.requests.len(), stats.requests_for("(other)"), stats.total_requests()), (65, 6, 70));
}

#[test]
fn the_handle_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let emulator = start(EmulatorConfig::default());
    shareable(&emulator);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(call_status(&emulator), 200));
        }
    });
    assert_eq!(emulator.stats().answers_with("OK"), 4);
}

/// Asks `action` over POST until `done` holds for its answer, at most 2 s; returns how long
/// that took.
fn until(emulator: &Emulator, action: &Raw, done: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let answer = call(emulator, "POST", action).json();
        if done(&answer["Response"]) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(2), "never done: {answer}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_disassociation_blocks_the_delete_until_it_shows_then_the_key_pair_can_go() {
    let delay = Duration::from_millis(150);
    let emulator = start(EmulatorConfig {
        key_pairs: vec![bound("skey-cccccccc")],
        async_delay: delay,
        rate_limit: 0,
        ..Default::default()
    });
    let unbind = raw(
        "DisassociateInstancesKeyPairs",
        json!({"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-cccccccc"]}),
    );
    let asked = Instant::now();
    assert_eq!(call(&emulator, "GET", &unbind).code(), "OK");
    assert_eq!(
        call(&emulator, "POST", &delete(&["skey-cccccccc"])).code(),
        "InvalidParameterValue.KeyPairNotSupported"
    );
    let instances = raw("DescribeInstances", json!({"InstanceIds": ["ins-00000001"]}));
    let shown = call(&emulator, "POST", &instances).json();
    let instance = &shown["Response"]["InstanceSet"][0];
    assert_eq!(instance["LatestOperationState"], "OPERATING", "{shown}");
    assert_eq!(instance["LatestOperation"], "DisassociateInstancesKeyPairs");
    let listed = |r: &Value| r["KeyPairSet"][0]["AssociatedInstanceIds"] == json!([]);
    until(&emulator, &describe(json!({"KeyIds": ["skey-cccccccc"]})), listed);
    assert!(asked.elapsed() >= delay, "shown after {:?}", asked.elapsed());
    let done = call(&emulator, "POST", &instances).json();
    assert_eq!(done["Response"]["InstanceSet"][0]["LatestOperationState"], "SUCCESS", "{done}");
    assert_eq!(call(&emulator, "POST", &delete(&["skey-cccccccc"])).code(), "OK");
    assert!(emulator.key_pairs().is_empty());
}

#[test]
fn force_stop_over_http_leaves_the_instance_stopped_unless_configured_to_restart() {
    for restarts in [false, true] {
        let emulator = start(EmulatorConfig {
            key_pairs: key_pairs(&["skey-aaaaaaaa"]),
            instances: vec![Instance {
                instance_state: InstanceState::Running,
                ..Instance::new("ins-00000001").unwrap()
            }],
            async_delay: Duration::from_millis(50),
            force_stop_restarts: restarts,
            rate_limit: 0,
            ..Default::default()
        });
        let bind = raw(
            "AssociateInstancesKeyPairs",
            json!({"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-aaaaaaaa"], "ForceStop": true}),
        );
        assert_eq!(call(&emulator, "GET", &bind).code(), "OK");
        assert_eq!(emulator.instances()[0].instance_state, InstanceState::Stopped, "stopped at once");
        let instances = raw("DescribeInstances", json!({}));
        until(&emulator, &instances, |r| r["InstanceSet"][0]["LatestOperationState"] == "SUCCESS");
        let expected = if restarts { InstanceState::Running } else { InstanceState::Stopped };
        assert_eq!(emulator.instances()[0].instance_state, expected, "restarts: {restarts}");
        assert_eq!(emulator.key_pairs()[0].associated_instance_ids, ["ins-00000001"]);
    }
}

#[test]
fn created_imported_and_modified_key_pairs_answer_the_documented_shapes() {
    let emulator = start(EmulatorConfig { rate_limit: 0, clock_offset: -86_400, ..Default::default() });
    // Signed on the emulator's clock, a day behind.
    let call = |emulator: &Emulator, method, action: &Raw| {
        let request = TestRequest { timestamp: now() - 86_400, ..build(method, action) };
        Conn::open(emulator.addr()).exchange(&wire(&request)).expect("an answer")
    };
    let tags = json!([{"ResourceType": "keypair", "Tags": [{"Key": "team", "Value": "ci"}]}]);
    let created = call(
        &emulator,
        "POST",
        &raw("CreateKeyPair", json!({"KeyName": "ci_1", "ProjectId": 0, "TagSpecification": tags})),
    )
    .json();
    let members: Vec<&String> = created["Response"].as_object().unwrap().keys().collect();
    assert_eq!(members, ["KeyPair", "RequestId"], "{created}");
    let key = &created["Response"]["KeyPair"];
    let mut fields: Vec<&String> = key.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "AssociatedInstanceIds",
            "CreatedTime",
            "Description",
            "KeyId",
            "KeyName",
            "PrivateKey",
            "ProjectId",
            "PublicKey",
            "Tags"
        ]
    );
    let yesterday = store::iso_time(now() - 86_400);
    assert_eq!(
        key["CreatedTime"].as_str().unwrap()[..13],
        yesterday[..13],
        "the emulator's clock, offset included"
    );
    let key_id = key["KeyId"].as_str().unwrap();

    let imported = call(
        &emulator,
        "GET",
        &raw("ImportKeyPair", json!({"KeyName": "laptop", "ProjectId": "3", "PublicKey": ED25519})),
    )
    .json();
    let members: Vec<&String> = imported["Response"].as_object().unwrap().keys().collect();
    assert_eq!(members, ["KeyId", "RequestId"], "{imported}");
    let imported_id = imported["Response"]["KeyId"].as_str().unwrap();

    let modify = raw(
        "ModifyKeyPairAttribute",
        json!({"KeyId": imported_id, "KeyName": "laptop_2", "Description": "mine"}),
    );
    let modified = call(&emulator, "GET", &modify).json();
    assert_eq!(modified["Response"].as_object().unwrap().keys().collect::<Vec<_>>(), ["RequestId"]);

    let listed = call(&emulator, "POST", &describe(json!({}))).json();
    let set = listed["Response"]["KeyPairSet"].as_array().unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.iter().all(|kp| kp.get("PrivateKey").is_none()), "{listed}");
    let laptop = set.iter().find(|kp| kp["KeyId"] == imported_id).unwrap();
    assert_eq!(
        (&laptop["KeyName"], &laptop["Description"], &laptop["ProjectId"]),
        (&json!("laptop_2"), &json!("mine"), &json!(3))
    );
    assert_eq!(laptop["PublicKey"], ED25519);
    let by_tag =
        call(&emulator, "GET", &describe(json!({"Filters": [{"Name": "tag:team", "Values": ["ci"]}]})))
            .json();
    assert_eq!(by_tag["Response"]["KeyPairSet"][0]["KeyId"], key_id, "{by_tag}");
    assert_eq!(by_tag["Response"]["TotalCount"], 1);
}

#[test]
fn drops_after_applying_hit_every_action_that_changes_state() {
    let emulator = start(EmulatorConfig { rate_limit: 0, drop_rate: 1.0, ..Default::default() });
    let mut conn = Conn::open(emulator.addr());
    for i in 0..20 {
        let create = raw("CreateKeyPair", json!({"KeyName": format!("k{i}"), "ProjectId": 0}));
        if conn.exchange(&wire(&build("POST", &create))).is_none() {
            conn = Conn::open(emulator.addr());
        }
    }
    let stats = emulator.stats();
    assert!(stats.answers_with("fault:drop-after-apply") > 0, "{stats:?}");
    assert_eq!(emulator.key_pairs().len() as u64, stats.answers_with("fault:drop-after-apply"));
    for _ in 0..20 {
        if conn.exchange(&wire(&build("POST", &describe(json!({}))))).is_none() {
            conn = Conn::open(emulator.addr());
        }
    }
    assert_eq!(
        emulator.stats().answers_with("fault:drop-after-apply"),
        stats.answers_with("fault:drop-after-apply")
    );
}
