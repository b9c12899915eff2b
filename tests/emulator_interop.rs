//! Requests the library signs, as the independent emulator (`cvm-keypairs-emulator`, which
//! shares no code with the library) receives them over 127.0.0.1: every shape of request is
//! accepted as built, and the client survives the emulator evicting its pooled connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cvm_keypairs::{
    Client, Credentials, DeleteKeyPairs, DescribeKeyPairs, Endpoint, HttpRequest, Method, RequestConfig,
};
use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};
use serde_json::Value;

const TOKEN: &str = "interop-session-token";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn credentials() -> Credentials {
    Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY).unwrap()
}

/// Sends `request` as its wire bytes (the session token in clear, where `Display` masks it) on
/// a fresh connection; returns the API's error code, or `OK`.
fn send(emulator: &Emulator, request: &HttpRequest) -> String {
    let mut text = request.to_string();
    if let Some(token) = request.header("X-TC-Token") {
        text = text.replace("x-tc-token: ***", &format!("x-tc-token: {token}"));
    }
    let mut stream = TcpStream::connect(emulator.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let body: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    body["Response"]["Error"]["Code"].as_str().unwrap_or("OK").to_owned()
}

#[test]
fn every_shape_of_request_the_library_builds_is_accepted_as_is() {
    for token in [None, Some(TOKEN)] {
        let ids: Vec<String> = (0..8).map(|n| format!("skey-interop{n}")).collect();
        let emulator = Emulator::start(EmulatorConfig {
            key_pairs: ids.iter().map(|id| KeyPair::new(id).unwrap()).collect(),
            token: token.map(str::to_owned),
            rate_limit: 0,
            ..EmulatorConfig::default()
        })
        .unwrap();
        let credentials = match token {
            Some(token) => credentials().with_token(token).unwrap(),
            None => credentials(),
        };
        let mut ids = ids.iter();
        for method in [Method::Get, Method::Post] {
            for sign_action_header in [true, false] {
                for unsigned_payload in [false, true] {
                    let mut config = RequestConfig::default();
                    config.endpoint = Endpoint::parse(&emulator.url()).unwrap();
                    config.region = "ap-guangzhou".into();
                    config.method = method;
                    config.sign_action_header = sign_action_header;
                    config.unsigned_payload = unsigned_payload;
                    let id = ids.next().unwrap();
                    let action = DeleteKeyPairs::new([id]).unwrap();
                    let request = config.build(&credentials, &action, now()).unwrap();
                    let shape = format!(
                        "{method} action signed {sign_action_header} unsigned {unsigned_payload} token {token:?}"
                    );
                    assert_eq!(send(&emulator, &request), "OK", "{shape}");
                    assert!(!emulator.contains(id), "{shape}");
                }
            }
        }
        assert!(emulator.key_pairs().is_empty());
    }
}

#[test]
fn a_pooled_connection_the_emulator_evicts_is_replaced_without_a_retry() {
    let emulator =
        Emulator::start(EmulatorConfig { max_connections: 1, ..EmulatorConfig::default() }).unwrap();
    let client = Client::builder()
        .credentials(credentials())
        .endpoint(&emulator.url())
        .region("ap-guangzhou")
        .build()
        .unwrap();
    client.execute(&DescribeKeyPairs::all()).unwrap();

    // Another client takes the only place: the pooled connection, idle, is evicted for it.
    let mut other = TcpStream::connect(emulator.addr()).unwrap();
    other.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    other.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("\"Code\":\"MissingParameter\""), "{answer}");

    // ureq sees the pooled connection closed before reusing it and connects anew.
    let asked = Instant::now();
    // One attempt: a stale connection ureq did not replace would fail it.
    client.execute(&DescribeKeyPairs::all()).unwrap();
    assert!(asked.elapsed() < Duration::from_secs(1), "answered after {:?}", asked.elapsed());
    assert_eq!(emulator.stats().requests_for("DescribeKeyPairs"), 2, "one request each time, no retry");
}
