//! The STS credential sources over real HTTP against hostile servers on 127.0.0.1: the CVM calls
//! of a client are signed with what AssumeRole issued, a web identity's token file is read
//! afresh at each refresh, STS errors keep their code and RequestId, and huge or malformed
//! answers are bounded errors.

#[path = "support/hostile.rs"]
mod hostile;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cvm_keypairs::{
    AssumeRoleProvider, Client, Credentials, DeleteKeyPairs, ProvideCredentials, UreqTransportBuilder,
    WebIdentityProvider,
};
use hostile::api_server;
use serde_json::{json, Value};
use support::{Reply, Server};

const ARN: &str = "qcs::cam::uin/100000000001:roleName/cleanup";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An AssumeRole or AssumeRoleWithWebIdentity answer issuing `AKIDtmp<n>`, valid `lifetime`
/// seconds.
fn issued(n: usize, lifetime: i64) -> Value {
    json!({
        "Credentials": {"Token": format!("token-{n}"), "TmpSecretId": format!("AKIDtmp{n}"), "TmpSecretKey": "tmp-key"},
        "ExpiredTime": now() + lifetime,
        "Expiration": "2030-01-01T00:00:00Z",
    })
}

fn transport(body_limit: usize) -> Arc<cvm_keypairs::UreqTransport> {
    let builder = UreqTransportBuilder::default().proxy(None).unwrap();
    Arc::new(builder.timeout(Duration::from_secs(5)).body_limit(body_limit).build().unwrap())
}

#[test]
fn cvm_calls_are_signed_with_the_temporary_keys_and_token_that_assume_role_issued() {
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    let server = Server::start(move |r| {
        let header = |name: &str| r.all(name).first().copied().unwrap_or_default().to_owned();
        log.lock().unwrap().push((header("X-TC-Action"), header("Authorization"), header("X-TC-Token")));
        let body = match header("X-TC-Action").as_str() {
            "AssumeRole" => issued(1, 7200),
            _ => json!({}),
        };
        let mut body = body;
        body["RequestId"] = "r-1".into();
        Reply::json(&json!({ "Response": body }).to_string())
    });
    let provider = AssumeRoleProvider::new(Credentials::new("AKIDbase", "base-key").unwrap(), ARN)
        .and_then(|p| p.with_endpoint(&server.url()))
        .unwrap()
        .with_transport(transport(1 << 20));
    let client = Client::builder()
        .credentials(provider)
        .endpoint(&server.url())
        .region("ap-guangzhou")
        .transport(transport(1 << 20))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.execute(&DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap()).unwrap();
    }
    let seen = seen.lock().unwrap();
    let actions: Vec<&str> = seen.iter().map(|(action, _, _)| action.as_str()).collect();
    assert_eq!(actions, ["AssumeRole", "DeleteKeyPairs", "DeleteKeyPairs", "DeleteKeyPairs"], "one STS call");
    assert!(
        seen[0].1.starts_with("TC3-HMAC-SHA256 Credential=AKIDbase/")
            && seen[0].1.contains("/sts/tc3_request")
    );
    for (_, authorization, token) in &seen[1..] {
        assert!(authorization.starts_with("TC3-HMAC-SHA256 Credential=AKIDtmp1/"), "{authorization}");
        assert!(authorization.contains("/cvm/tc3_request"), "{authorization}");
        assert_eq!(token, "token-1");
    }
}

#[test]
fn a_web_identity_token_file_rotated_between_refreshes_is_sent_anew() {
    let (server, log) = api_server(10, |_, _| issued(1, 2));
    let dir = std::env::temp_dir().join(format!("cvm-keypairs-sts-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "first.token.value\n").unwrap();
    let provider = WebIdentityProvider::new("OIDC", &file, ARN)
        .and_then(|p| p.with_endpoint(&server.url()))
        .unwrap()
        .with_transport(transport(1 << 20));
    provider.credentials().unwrap();
    std::fs::write(&file, "second.token.value").unwrap();
    provider.credentials().unwrap();
    assert_eq!(log.lock().unwrap().len(), 1, "still fresh: no call, no read");
    // Issued for 2 seconds (refreshed after half of that): past it whichever second STS counted from.
    std::thread::sleep(Duration::from_millis(2100));
    provider.credentials().unwrap();
    let log = log.lock().unwrap();
    let tokens: Vec<&str> =
        log.iter().map(|(_, params)| params["WebIdentityToken"].as_str().unwrap()).collect();
    assert_eq!(tokens, ["first.token.value", "second.token.value"]);
    assert!(log.iter().all(|(action, _)| action == "AssumeRoleWithWebIdentity"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_sts_refusal_over_http_keeps_its_code_and_request_id() {
    let (server, _) = api_server(
        10,
        |_, _| json!({"Error": {"Code": "InvalidParameter.WebIdentityTokenError", "Message": "bad token"}, "RequestId": "r-sts-9"}),
    );
    let dir = std::env::temp_dir().join(format!("cvm-keypairs-sts-refusal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), "a.b.c").unwrap();
    let provider = WebIdentityProvider::new("OIDC", dir.join("token"), ARN)
        .and_then(|p| p.with_endpoint(&server.url()))
        .unwrap()
        .with_transport(transport(1 << 20));
    let err = provider.credentials().unwrap_err();
    assert_eq!(err.code().unwrap().as_str(), "InvalidParameter.WebIdentityTokenError");
    assert_eq!(err.request_id(), Some("r-sts-9"));
    assert!(err
        .to_string()
        .contains(&format!("web identity for role {ARN}: sts:AssumeRoleWithWebIdentity failed")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn huge_or_malformed_sts_answers_are_bounded_errors() {
    let huge_token = "t".repeat(600_000);
    let (server, _) = api_server(100, move |_, params| match params["RoleSessionName"].as_str().unwrap() {
        "huge-token" => {
            let mut answer = issued(1, 7200);
            answer["Credentials"]["Token"] = huge_token.clone().into();
            answer
        }
        "huge-body" => json!({"Pad": "p".repeat(2 << 20)}),
        "no-credentials" => json!({"ExpiredTime": 1}),
        _ => json!({"Credentials": [1, 2, 3], "ExpiredTime": "soon"}),
    });
    for (session, why) in [
        ("huge-token", "Credentials.Token is longer than 16384 bytes"),
        ("huge-body", "BodyTooLarge"),
        ("no-credentials", "the answer has no Credentials.TmpSecretId string"),
        ("wrong-types", "the answer has no Credentials.TmpSecretId string"),
    ] {
        let provider = AssumeRoleProvider::new(Credentials::new("AKIDbase", "base-key").unwrap(), ARN)
            .and_then(|p| p.with_endpoint(&server.url()))
            .and_then(|p| p.with_session_name(session))
            .unwrap()
            .with_transport(transport(1 << 20));
        let err = provider.credentials().unwrap_err().to_string();
        assert!(err.contains(why), "{session}: {err}");
        assert!(err.len() < 600, "{session}: {} characters", err.len());
    }
}
