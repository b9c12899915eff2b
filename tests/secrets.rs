//! No secret key, session token or proxy password in any `Debug` or `Display` of a public type
//! that holds one, nor in any error the client can produce, even when a server echoes the
//! request back; and no private key from a `CreateKeyPair` answer anywhere but
//! `PrivateKey::expose_secret`, however the answer goes wrong.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cvm_keypairs::testing::{Payload, Signer, SigningInput};
use cvm_keypairs::{
    AssumeRoleProvider, Client, ClientBuilder, CreateKeyPair, Credentials, CredentialsChain, DeleteKeyPairs,
    DescribeKeyPairsOutput, Error, Method, ProvideCredentials, UreqTransportBuilder, WebIdentityProvider,
};
use serde_json::Value;
use support::{Reply, Server};

const SECRET_KEY: &str = "sk-Gu5t9xGARNpq86cd98joQYCN3";
const TOKEN: &str = "tk-Vx7Qw2Lp9Zr4Ty8Un3Mb6Kc1Hd5";
const PROXY_PASSWORD: &str = "pw-Fj3Kd8Lq2Mz7";
const WEB_IDENTITY_TOKEN: &str = "wi-Hq4Rt6Yp1Wn8Xs3Ze5Ab";
const TMP_KEY: &str = "tk-Jm2Nb7Vc4Lo9Pq6Rs1";
const TMP_TOKEN: &str = "tt-Dg5Fh8Jk3Lz6Mx9Nc2";

fn credentials() -> Credentials {
    Credentials::new("AKIDvisible", SECRET_KEY).unwrap().with_token(TOKEN).unwrap()
}

/// Fails if `shown` holds any 8 consecutive characters of a secret.
fn assert_clean(what: &str, shown: &str) {
    for secret in [SECRET_KEY, TOKEN, PROXY_PASSWORD, WEB_IDENTITY_TOKEN, TMP_KEY, TMP_TOKEN] {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(8) {
            let part: String = window.iter().collect();
            assert!(!shown.contains(&part), "{what} shows part of a secret ({part}): {shown}");
        }
    }
}

fn assert_error_clean(what: &str, err: &Error) {
    assert_clean(what, &format!("{err} | {err:?} | {err:#?}"));
}

/// Echoes the whole request (headers included) back in the way the region header asks.
fn echo_server() -> Server {
    Server::start(|r| {
        let echo = format!("{:?}", r.headers);
        let json_text = echo.replace('"', "'");
        match r.all("X-TC-Region")[0] {
            "api" => Reply::json(&format!(
                r#"{{"Response":{{"Error":{{"Code":"AuthFailure.TokenFailure","Message":"{json_text}"}},"RequestId":"r"}}}}"#
            )),
            "html" => Reply::with_status(502, "text/html", format!("<html>{echo}</html>").as_bytes()),
            "cut" => {
                let token = r.all("X-TC-Token")[0];
                Reply::with_status(502, "text/html", format!("{}{token}", "x".repeat(190)).as_bytes())
            }
            "decode" => {
                let token = r.all("X-TC-Token")[0];
                Reply::json(&format!(r#"{{"Response":{{"TotalCount":"{token}","RequestId":"r"}}}}"#))
            }
            "truncated" => Reply::json(&format!(r#"{{"Response":{{"RequestId":"r","Echo":"{json_text}"#)),
            "hang" => Reply::Hang,
            "close" => Reply::Close,
            _ => Reply::json(&format!(r#"{{"Response":{{"RequestId":"r","Pad":"{}"}}}}"#, "p".repeat(4096))),
        }
    })
}

fn builder(endpoint: &str, region: &str) -> ClientBuilder {
    Client::builder()
        .credentials(credentials())
        .endpoint(endpoint)
        .region(region)
        .transport(short_transport(1024))
}

fn short_transport(body_limit: usize) -> Arc<cvm_keypairs::UreqTransport> {
    let transport = UreqTransportBuilder::default()
        .proxy(None)
        .unwrap()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_millis(300))
        .body_limit(body_limit)
        .build()
        .unwrap();
    Arc::new(transport)
}

#[test]
fn types_holding_secrets_never_show_them() {
    let creds = credentials();
    let b = builder("127.0.0.1:9", "ap-guangzhou");
    assert_clean("ClientBuilder", &format!("{b:?} {b:#?}"));
    let client = b.build().unwrap();
    let request = client.sign_at(&DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap(), 1_700_000_000).unwrap();
    assert_eq!(request.header("X-TC-Token"), Some(TOKEN), "the token is sent");
    let signer = Signer::new();
    let input = SigningInput {
        secret_id: "AKIDvisible",
        secret_key: SECRET_KEY,
        service: "cvm",
        timestamp: 1_700_000_000,
        method: "POST",
        query: "",
        headers: &[("host", "h")],
        payload: Payload::Bytes(b"{}"),
    };
    signer.sign(&input).unwrap();
    let proxied = UreqTransportBuilder::default()
        .proxy(Some(&format!("http://user:{PROXY_PASSWORD}@127.0.0.1:3128")))
        .unwrap();
    let shown = [
        format!("{creds:?} {creds:#?}"),
        format!("{client:?} {client:#?}"),
        format!("{request} {request:?} {request:#?}"),
        format!("{signer:?} {input:?} {input:#?}"),
        format!("{proxied:?} {:?}", proxied.clone().build().unwrap()),
        format!("{:?}", &creds as &dyn ProvideCredentials),
    ];
    for (i, text) in shown.iter().enumerate() {
        assert_clean(&format!("type #{i}"), text);
    }
}

/// What a client and its providers say about where credentials come from: never a secret.
#[test]
fn the_credentials_source_never_shows_secrets() {
    let creds = credentials();
    let shared: Arc<dyn ProvideCredentials> = Arc::new(credentials());
    let chain = CredentialsChain::new(vec![Box::new(CredentialsChain::new(vec![])), Box::new(credentials())]);
    let before = chain.source();
    chain.credentials().unwrap();
    let client = builder("127.0.0.1:9", "ap-guangzhou").build().unwrap();
    let shown = [
        format!("{} {:?}", creds.source(), creds.region()),
        format!("{} {:?}", shared.source(), shared.region()),
        format!("{before} {} {:?}", chain.source(), chain.region()),
        client.credentials_source().unwrap(),
    ];
    assert_eq!(shown[3], "credentials given to the client");
    assert_eq!(chain.source(), "credentials given to the client", "the chain names the source that answered");
    for (i, text) in shown.iter().enumerate() {
        assert_clean(&format!("source #{i}"), text);
    }
}

#[test]
fn errors_the_client_can_produce_never_show_secrets() {
    let server = echo_server();
    let url = server.url();
    let delete = DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap();
    let mut errors = Vec::new();
    for region in ["api", "html", "cut", "truncated", "hang", "close", "large"] {
        for method in [Method::Post, Method::Get] {
            let client = builder(&url, region).method(method).build().unwrap();
            errors.push((region, client.execute(&delete).unwrap_err()));
        }
    }
    let decode = builder(&url, "decode").build().unwrap();
    errors.push((
        "decode",
        decode.call::<_, DescribeKeyPairsOutput>("DescribeKeyPairs", "2017-03-12", &()).unwrap_err(),
    ));
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = builder(&format!("http://127.0.0.1:{refused_port}"), "x").build().unwrap();
    errors.push(("refused", refused.execute(&delete).unwrap_err()));
    let client = builder(&url, "x").build().unwrap();
    errors.push(("not an object", client.call::<_, Value>("DescribeZones", "2017-03-12", &[1]).unwrap_err()));
    errors.push(("timestamp", client.sign_at(&delete, i64::MAX).unwrap_err()));
    errors.push(("endpoint", builder("http://example.com", "x").build().unwrap_err()));
    let no_source =
        Client::builder().credentials(CredentialsChain::new(vec![])).region("ap-guangzhou").build().unwrap();
    errors.push(("no credentials", no_source.sign_at(&delete, 1_700_000_000).unwrap_err()));
    errors.push(("padded key", Credentials::new("AKID", format!("{SECRET_KEY} ")).unwrap_err()));
    errors.push(("bad token", credentials().with_token(format!("{TOKEN}\n")).unwrap_err()));
    errors.push((
        "proxy",
        UreqTransportBuilder::default().proxy(Some(&format!("bad://u:{PROXY_PASSWORD}@:x"))).unwrap_err(),
    ));

    let kinds: Vec<String> =
        errors.iter().map(|(_, e)| format!("{e:?}").split([' ', '(']).next().unwrap().into()).collect();
    for kind in ["Api", "Http", "Decode", "Transport", "InvalidInput", "NoCredentials"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} error was produced: {kinds:?}");
    }
    for (label, kind) in errors.iter().map(|(label, _)| label).zip(&kinds) {
        if ["not an object", "timestamp", "endpoint"].contains(label) {
            assert_eq!(kind, "InvalidInput", "{label}");
        }
    }
    for (what, err) in &errors {
        assert_error_clean(what, err);
    }
}

/// Not a key: PEM-shaped text, made up for this test. Its lines of base64 are what must not leak.
const PRIVATE_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
    MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQYx2eqzDV+xeG8kx/sQFV18S5JGzC0nFz\n\
    ZQ9Xk4Jv2dO1b7hTrWc3m5aL0sYpN8fEg6uKj4iDzVtR2wHxqBoMy1FlnS7aGcUe\n\
    -----END RSA PRIVATE KEY-----\n";

/// Fails if `shown` holds any 8 consecutive characters of the private key's base64 lines.
fn assert_no_private_key(what: &str, shown: &str) {
    for line in PRIVATE_KEY.lines().filter(|l| !l.starts_with("-----")) {
        for start in 0..=line.len() - 8 {
            let part = &line[start..start + 8];
            assert!(!shown.contains(part), "{what} shows part of the private key ({part}): {shown}");
        }
    }
}

/// Answers `CreateKeyPair` in the way the region header asks, always with the private key in
/// the body.
fn create_server() -> Server {
    Server::start(|r| {
        let key = serde_json::to_string(PRIVATE_KEY).unwrap();
        let key_pair =
            format!(r#"{{"KeyId":"skey-mv9yzyjj","KeyName":"ci","ProjectId":0,"PrivateKey":{key}}}"#);
        let answer = format!(r#"{{"Response":{{"KeyPair":{key_pair},"RequestId":"r-1"}}}}"#);
        match r.all("X-TC-Region")[0] {
            "ok" => Reply::json(&answer),
            "status" => Reply::with_status(500, "application/json", answer.as_bytes()),
            "html" => Reply::with_status(502, "text/html", format!("<html><pre>{answer}</pre>").as_bytes()),
            "misplaced" => Reply::json(&answer.replace(r#""ProjectId":0"#, &format!(r#""ProjectId":{key}"#))),
            "badid" => Reply::json(&answer.replace("skey-mv9yzyjj", "skey-bad")),
            "cut" => Reply::json(&answer[..answer.len() / 2]),
            "api" => Reply::json(&format!(
                r#"{{"Response":{{"Error":{{"Code":"InternalError","Message":{key}}},"RequestId":"r-1"}}}}"#
            )),
            _ => Reply::Close,
        }
    })
}

#[test]
fn a_new_key_pair_s_private_key_shows_nowhere_but_where_asked_for() {
    let server = create_server();
    let create = CreateKeyPair::new("ci").unwrap();
    let transport = UreqTransportBuilder::default().proxy(None).unwrap().timeout(Duration::from_secs(5));
    let transport: Arc<dyn cvm_keypairs::Transport> = Arc::new(transport.build().unwrap());
    let client = |region: &str, method: Method| {
        let builder = Client::builder().credentials(credentials()).endpoint(&server.url()).region(region);
        builder.method(method).transport(transport.clone()).build().unwrap()
    };
    let created = client("ok", Method::Post).execute(&create).unwrap();
    assert_eq!(created.private_key.expose_secret(), PRIVATE_KEY);
    let json = serde_json::to_string(&created).unwrap();
    assert_no_private_key("output", &format!("{created:?} {created:#?} {:?} {json}", created.private_key));
    assert!(json.contains("skey-mv9yzyjj"), "{json}");

    let kinds = [
        ("status", "Http"),
        ("html", "Http"),
        ("misplaced", "Decode"),
        ("badid", "Decode"),
        ("cut", "Decode"),
        ("api", "Api"),
        ("close", "Transport"),
    ];
    for (region, kind) in kinds {
        for method in [Method::Post, Method::Get] {
            let error = client(region, method).execute(&create).unwrap_err();
            assert!(format!("{error:?}").starts_with(kind), "{region}: {error:?}");
            let mut shown = format!("{error} | {error:?} | {error:#?}");
            let mut cause = std::error::Error::source(&error);
            while let Some(e) = cause {
                shown.push_str(&format!(" | {e} | {e:?}"));
                cause = e.source();
            }
            assert_no_private_key(region, &shown);
            assert_error_clean(region, &error);
        }
    }
}

/// An STS server echoing every header and the body (the web identity token) back in the way
/// the region asks, or issuing temporary credentials that a later failure must not show.
fn sts_echo_server() -> Server {
    Server::start(|r| {
        let echo = format!("{:?} {}", r.headers, String::from_utf8_lossy(&r.body)).replace('"', "'");
        let issued = format!(
            r#"{{"Response":{{"Credentials":{{"Token":"{TMP_TOKEN}","TmpSecretId":"AKIDtmp","TmpSecretKey":"{TMP_KEY}"}},"ExpiredTime":{},"RequestId":"r"}}}}"#,
            unix_now() + 7200
        );
        match r.all("X-TC-Region")[0] {
            "api" => Reply::json(&format!(
                r#"{{"Response":{{"Error":{{"Code":"InvalidParameter","Message":"{echo}"}},"RequestId":"r"}}}}"#
            )),
            "html" => Reply::with_status(502, "text/html", format!("<html>{echo}</html>").as_bytes()),
            "malformed" => Reply::json(&issued.replace(r#""ExpiredTime""#, r#""Expired""#)),
            "oversized" => {
                Reply::json(&issued.replace(TMP_TOKEN, &format!("{TMP_TOKEN}{}", "t".repeat(20_000))))
            }
            "credentials-string" => Reply::json(&format!(
                r#"{{"Response":{{"Credentials":"{TMP_KEY} {TMP_TOKEN}","ExpiredTime":1,"RequestId":"r"}}}}"#
            )),
            _ => Reply::json(&issued),
        }
    })
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn assumed_roles_and_web_identities_never_show_a_secret_whatever_sts_answers() {
    let server = sts_echo_server();
    let dir = std::env::temp_dir().join(format!("cvm-keypairs-secrets-sts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, WEB_IDENTITY_TOKEN).unwrap();
    let arn = "qcs::cam::uin/100000000001:roleName/cleanup";
    for region in ["issue", "api", "html", "malformed", "oversized", "credentials-string"] {
        let assumed = AssumeRoleProvider::new(credentials(), arn)
            .and_then(|p| p.with_endpoint(&server.url()))
            .and_then(|p| p.with_region(region))
            .unwrap()
            .with_transport(short_transport(64 * 1024));
        let web = WebIdentityProvider::new("OIDC", &token_file, arn)
            .and_then(|p| p.with_endpoint(&server.url()))
            .and_then(|p| p.with_region(region))
            .unwrap()
            .with_transport(short_transport(64 * 1024));
        for provider in [&assumed as &dyn ProvideCredentials, &web] {
            let outcome = match provider.credentials() {
                Ok(c) => {
                    assert_eq!(region, "issue", "only a good answer gives credentials");
                    format!("{c:?} {c:#?}")
                }
                Err(e) => {
                    assert_ne!(region, "issue", "{e}");
                    format!("{e} | {e:?} | {e:#?}")
                }
            };
            assert_clean(&format!("{region}: outcome"), &outcome);
            assert_clean(&format!("{region}: provider"), &format!("{provider:?} {provider:#?}"));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
