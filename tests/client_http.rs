//! The client over real HTTP/1.1 on 127.0.0.1: what arrives is what was signed, connections are
//! reused, and every way the server can fail ends in the right error within its time bound.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cvm_keypairs::{
    Action, AssociateInstancesKeyPairs, Client, CreateKeyPair, Credentials, DeleteKeyPairs,
    DescribeInstances, DescribeKeyPairs, DisassociateInstancesKeyPairs, Error, Filter, HttpRequest,
    ImportKeyPair, Method, ModifyKeyPairAttribute, TransportKind, UreqTransport, UreqTransportBuilder,
};
use serde_json::Value;
use support::{Reply, Request, Server};

const OK: &str = r#"{"Response":{"RequestId":"req-ok"}}"#;

fn transport(timeout: Duration, body_limit: usize) -> Arc<UreqTransport> {
    Arc::new(
        UreqTransportBuilder::default()
            .proxy(None)
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .timeout(timeout)
            .body_limit(body_limit)
            .build()
            .unwrap(),
    )
}

fn client_for(server: &Server, method: Method, transport: Arc<UreqTransport>) -> Client {
    let credentials =
        Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap().with_token("token-EXAMPLE").unwrap();
    Client::builder()
        .credentials(credentials)
        .region("ap-guangzhou")
        .endpoint(&server.url())
        .method(method)
        .transport(transport)
        .build()
        .unwrap()
}

fn client(server: &Server) -> Client {
    client_for(server, Method::Post, transport(Duration::from_secs(2), 1 << 20))
}

fn delete() -> DeleteKeyPairs {
    DeleteKeyPairs::new(["skey-mv9yzyjj", "skey-1a2b3c4d"]).unwrap()
}

/// The RequestId of a successful `DeleteKeyPairs` through `client`.
fn deleted(client: &Client) -> Result<String, Error> {
    client.execute(&delete()).map(|out| out.request_id)
}

/// The time a request was signed at, from its `X-TC-Timestamp` header.
fn signed_at(headers: &[(String, String)]) -> i64 {
    let (_, value) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("X-TC-Timestamp")).unwrap();
    value.parse().unwrap()
}

/// The path and query of a request's URL.
fn path_and_query<'a>(request: &'a HttpRequest) -> &'a str {
    let after_scheme = request.url.find("://").unwrap() + 3;
    &request.url[after_scheme + request.url[after_scheme..].find('/').unwrap()..]
}

fn transport_kind(result: Result<String, Error>) -> TransportKind {
    match result {
        Err(Error::Transport { kind, .. }) => kind,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[test]
fn get_and_post_arrive_exactly_as_signed() {
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = seen.clone();
    let server = Server::start(move |r| {
        log.lock().unwrap().push(r.clone());
        Reply::json(OK)
    });
    for method in [Method::Get, Method::Post] {
        let client = client_for(&server, method, transport(Duration::from_secs(2), 1 << 20));
        assert_eq!(deleted(&client).unwrap(), "req-ok");
        let got = seen.lock().unwrap().pop().unwrap();
        // What the client would have built at the time the request says it was signed.
        let signed = client.sign_at(&delete(), signed_at(&got.headers)).unwrap();

        assert_eq!(got.method, method.to_string());
        assert_eq!(got.target, path_and_query(&signed));
        assert_eq!(got.body, signed.body);
        for (name, value) in &signed.headers {
            assert_eq!(got.all(name), [value.as_ref()], "{method} header {name}");
        }
        assert_eq!(got.all("Host"), [format!("127.0.0.1:{}", server.url().rsplit(':').next().unwrap())]);
        match method {
            Method::Get => {
                assert!(got.target.starts_with("/?KeyIds.0=skey-mv9yzyjj&KeyIds.1=skey-1a2b3c4d"));
                assert!(got.all("Content-Length").is_empty() && got.body.is_empty(), "{:?}", got.headers);
            }
            Method::Post => assert_eq!(got.all("Content-Length"), [signed.body.len().to_string()]),
        }
    }
}

/// Answers each key-pair action as the API does, by its `X-TC-Action`.
fn key_pair_api(log: Arc<Mutex<Vec<Request>>>) -> Server {
    Server::start(move |r| {
        log.lock().unwrap().push(r.clone());
        let answer = match r.all("X-TC-Action")[0] {
            "CreateKeyPair" => {
                r#""KeyPair":{"KeyId":"skey-3glfot13","KeyName":"ci","ProjectId":0,
                "PublicKey":"ssh-rsa AAAA","PrivateKey":"-----BEGIN RSA PRIVATE KEY-----\nmade up\n-----END RSA PRIVATE KEY-----",
                "AssociatedInstanceIds":null,"CreatedTime":"2026-01-02T03:04:05Z","Tags":[{"Key":"env","Value":"ci"}]}"#
            }
            "ImportKeyPair" => r#""KeyId":"skey-3glfot14""#,
            "DescribeInstances" => {
                r#""TotalCount":2,"InstanceSet":[{"InstanceId":"ins-1e4r6y8i","InstanceState":"STOPPED",
                "OsName":"TencentOS Server 3.1","LatestOperationState":"SUCCESS","CPU":2}]"#
            }
            "DescribeKeyPairs" => r#""TotalCount":0,"KeyPairSet":[]"#,
            _ => r#""Unknown":1"#,
        };
        let action = r.all("X-TC-Action")[0];
        Reply::json(&format!(r#"{{"Response":{{{answer},"RequestId":"r-{action}"}}}}"#))
    })
}

/// Executes `action`, checks that what arrived is what the client signs for it, and gives the
/// answer.
fn round_trip<A: Action>(client: &Client, seen: &Mutex<Vec<Request>>, action: &A) -> A::Output {
    let output = client.execute(action).unwrap();
    let got = seen.lock().unwrap().pop().unwrap();
    let signed = client.sign_at(action, signed_at(&got.headers)).unwrap();
    assert_eq!((got.target.as_str(), got.body.as_slice()), (path_and_query(&signed), signed.body.as_slice()));
    assert_eq!(got.all("Authorization"), [signed.header("Authorization").unwrap()]);
    assert_eq!(got.all("X-TC-Action"), [action.name()]);
    output
}

#[test]
fn every_key_pair_action_arrives_as_signed_and_its_answer_is_parsed() {
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let server = key_pair_api(seen.clone());
    let public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKTdthVklA9fhih2OIjBQGqdjtK62tDD50tjFMOSNQqs ci@example";
    let (keys, instances) = (["skey-mv9yzyjj"], ["ins-1e4r6y8i", "ins-3e56fg78"]);
    for method in [Method::Get, Method::Post] {
        let client = client_for(&server, method, transport(Duration::from_secs(2), 1 << 20));
        let create = CreateKeyPair::new("ci").unwrap().with_tags([("env", "ci")]).unwrap();
        let created = round_trip(&client, &seen, &create);
        assert_eq!(
            (created.key_pair.key_id.to_string(), created.request_id.as_str()),
            ("skey-3glfot13".into(), "r-CreateKeyPair")
        );
        assert!(created.private_key.expose_secret().ends_with("-----END RSA PRIVATE KEY-----"));
        let import = ImportKeyPair::new("laptop", public_key).unwrap().with_project_id(7);
        assert_eq!(round_trip(&client, &seen, &import).key_id.to_string(), "skey-3glfot14");
        let modify = ModifyKeyPairAttribute::new(keys[0], Some("ci_old"), Some("retired 2026")).unwrap();
        assert_eq!(round_trip(&client, &seen, &modify).request_id, "r-ModifyKeyPairAttribute");
        let associate = AssociateInstancesKeyPairs::new(keys, instances).unwrap().with_force_stop(true);
        assert_eq!(round_trip(&client, &seen, &associate).request_id, "r-AssociateInstancesKeyPairs");
        let disassociate = DisassociateInstancesKeyPairs::new(keys, instances).unwrap();
        assert_eq!(round_trip(&client, &seen, &disassociate).request_id, "r-DisassociateInstancesKeyPairs");
        let listed = round_trip(&client, &seen, &DescribeInstances::by_ids(instances).unwrap());
        assert_eq!((listed.total_count, listed.instances[0].instance_state.as_str()), (2, "STOPPED"));
        assert!(!listed.is_complete(), "one of the two counted came back");
        let tagged = DescribeKeyPairs::filtered([Filter::tag("env", ["ci"])]).unwrap();
        assert_eq!(round_trip(&client, &seen, &tagged).request_id, "r-DescribeKeyPairs");
    }
}

#[test]
fn the_printed_request_is_the_bytes_on_the_wire() {
    use std::io::{Read, Write};
    for method in [Method::Post, Method::Get] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let capture = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut wire = Vec::new();
            let mut buf = [0u8; 4096];
            // Read until the whole request (headers and any body) has arrived.
            while !String::from_utf8_lossy(&wire).contains("\r\n\r\n")
                || (wire.ends_with(b"\r\n\r\n") && wire.starts_with(b"POST"))
            {
                let n = stream.read(&mut buf).unwrap();
                wire.extend_from_slice(&buf[..n]);
            }
            stream
                .write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{OK}", OK.len()).as_bytes())
                .unwrap();
            wire
        });
        let transport = transport(Duration::from_secs(2), 1 << 20);
        let client = Client::builder()
            .credentials(
                Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")
                    .unwrap()
                    .with_token("token-EXAMPLE")
                    .unwrap(),
            )
            .region("ap-guangzhou")
            .endpoint(&url)
            .method(method)
            .transport(transport)
            .build()
            .unwrap();
        deleted(&client).unwrap();
        let wire = String::from_utf8(capture.join().unwrap()).unwrap();
        let timestamp = wire.split("\r\n").find_map(|line| line.strip_prefix("x-tc-timestamp: ")).unwrap();
        let printed = client.sign_at(&delete(), timestamp.parse().unwrap()).unwrap().to_string();
        assert_eq!(wire.replace("x-tc-token: token-EXAMPLE", "x-tc-token: ***"), printed, "{method}");
    }
}

#[test]
fn loopback_requests_never_go_through_a_proxy() {
    let proxy = Server::start(|_| Reply::json(r#"{"Response":{"RequestId":"via-proxy"}}"#));
    let server = Server::start(|_| Reply::json(OK));
    let proxied = UreqTransportBuilder::default()
        .proxy(Some(&proxy.url()))
        .unwrap()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let client = client_for(&server, Method::Post, Arc::new(proxied));
    assert_eq!(deleted(&client).unwrap(), "req-ok");
    assert_eq!(proxy.connections(), 0, "clear-text http to loopback must not leave through a proxy");
}

#[test]
fn one_connection_serves_many_calls() {
    let server = Server::start(|_| Reply::json(OK));
    let client = client(&server);
    for _ in 0..25 {
        assert_eq!(deleted(&client).unwrap(), "req-ok");
    }
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_server_that_never_answers_times_out_within_the_bound() {
    let server = Server::start(|_| Reply::Hang);
    let bound = Duration::from_millis(300);
    let client = client_for(&server, Method::Post, transport(bound, 1 << 20));
    let started = Instant::now();
    let kind = transport_kind(deleted(&client));
    let waited = started.elapsed();
    assert_eq!(kind, TransportKind::Timeout);
    assert!(waited >= bound && waited < bound * 4, "gave up after {waited:?}");
}

#[test]
fn a_body_over_the_cap_is_refused_without_reading_it_all() {
    let limit = 1024;
    let padded = |len: usize| {
        let head = r#"{"Response":{"RequestId":"req-big","Pad":""#;
        format!("{head}{}\"}}}}", "x".repeat(len - head.len() - 3))
    };
    let exact = padded(limit);
    assert_eq!(exact.len(), limit);
    let over = padded(limit + 1);
    // Without Content-Length the body runs until the connection closes.
    let no_length = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}", padded(64 * 1024));
    let server = Server::start(move |r| match r.all("X-TC-Region")[0] {
        "exact" => Reply::json(&exact),
        "over" => Reply::json(&over),
        _ => Reply::Raw(no_length.clone().into_bytes()),
    });
    let capped = |region: &str| {
        Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .endpoint(&server.url())
            .region(region)
            .transport(transport(Duration::from_secs(2), limit))
            .build()
            .unwrap()
    };
    assert_eq!(deleted(&capped("exact")).unwrap(), "req-big");
    assert_eq!(transport_kind(deleted(&capped("over"))), TransportKind::BodyTooLarge);
    assert_eq!(transport_kind(deleted(&capped("unsized"))), TransportKind::BodyTooLarge);
}

#[test]
fn a_closed_connection_is_a_transport_error() {
    let server = Server::start(|_| Reply::Close);
    assert_eq!(transport_kind(deleted(&client(&server))), TransportKind::Io);
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .endpoint(&format!("http://127.0.0.1:{port}"))
        .transport(transport(Duration::from_secs(1), 1 << 20))
        .build()
        .unwrap();
    assert_eq!(transport_kind(deleted(&client)), TransportKind::Connect);
}

#[test]
fn a_server_that_does_not_speak_tls_is_a_tls_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write;
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let client = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .endpoint(&format!("https://127.0.0.1:{port}"))
        .transport(transport(Duration::from_secs(1), 1 << 20))
        .build()
        .unwrap();
    assert_eq!(transport_kind(deleted(&client)), TransportKind::Tls);
}

#[test]
fn api_errors_and_gateway_pages_arrive_as_typed_errors() {
    let server = Server::start(|r| {
        match r.all("X-TC-Region")[0] {
        "api" => Reply::Respond {
            status: 400,
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("Date".into(), "Tue, 14 Nov 2023 22:13:20 GMT".into()),
            ],
            body: br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"req-e"}}"#.to_vec(),
        },
        _ => Reply::with_status(502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    }
    });
    let with_region = |region: &str| {
        Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .endpoint(&server.url())
            .region(region)
            .transport(transport(Duration::from_secs(2), 1 << 20))
            .build()
            .unwrap()
    };
    match deleted(&with_region("api")) {
        Err(e @ Error::Api { .. }) => {
            assert_eq!(e.code().unwrap().as_str(), "AuthFailure.SignatureExpire");
            assert_eq!(e.request_id(), Some("req-e"));
            assert!(e.is_auth() && !e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
    match with_region("gateway").call::<_, Value>("DescribeZones", "2017-03-12", &()) {
        Err(e @ Error::Http { status: 502, .. }) => {
            assert!(e.to_string().contains("502 Bad Gateway"), "{e}");
            assert!(e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_signature_expired_by_the_server_clock_is_resigned_at_its_time() {
    // The server's clock says 2023-11-14 22:13:20 UTC (1_700_000_000): the first request, signed
    // by the client's clock, is refused as expired; the retry must be signed at the server's time.
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let log = seen.clone();
    let server = Server::start(move |r| {
        let mut log = log.lock().unwrap();
        log.push(r.clone());
        if log.len() > 1 {
            return Reply::json(OK);
        }
        Reply::Respond {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Date".into(), "Tue, 14 Nov 2023 22:13:20 GMT".into()),
            ],
            body: br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"req-e"}}"#.to_vec(),
        }
    });
    let client = client(&server);
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let before = now();
    assert_eq!(client.execute_retrying(&delete()).unwrap().request_id, "req-ok");
    let seen = seen.lock().unwrap();
    let times: Vec<i64> = seen.iter().map(|r| signed_at(&r.headers)).collect();
    assert_eq!(times.len(), 2, "one retry, at once");
    assert!((before..=now()).contains(&times[0]), "first signed by the client's clock: {times:?}");
    assert!((times[1] - 1_700_000_000).abs() <= 2, "the retry is signed at the server's time: {times:?}");
}
