//! STS over real loopback HTTP: AssumeRole and AssumeRoleWithWebIdentity, the temporary
//! credentials they issue signing CVM calls, their expiry, and the routing by credential scope.

use super::*;
use crate::sts::MAX_LIVE_CREDENTIALS;

const ROLE: &str = EmulatorConfig::DEFAULT_ROLE_ARN;
const WEB_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.web-identity.signature";

fn assume(params: Value) -> TestRequest {
    TestRequest::sts("AssumeRole", params)
}

fn role(session: &str) -> Value {
    json!({"RoleArn": ROLE, "RoleSessionName": session})
}

fn send(emulator: &Emulator, request: &TestRequest) -> Response {
    Conn::open(emulator.addr()).exchange(&wire(request)).expect("an answer")
}

/// `(TmpSecretId, TmpSecretKey, Token)` of a successful answer.
fn credentials(response: &Response) -> (String, String, String) {
    let v = response.json();
    let c = &v["Response"]["Credentials"];
    let field = |name: &str| c[name].as_str().unwrap_or_else(|| panic!("{name} in {v}")).to_owned();
    (field("TmpSecretId"), field("TmpSecretKey"), field("Token"))
}

fn borrowed(c: &(String, String, String)) -> (&str, &str, &str) {
    (&c.0, &c.1, &c.2)
}

/// A web identity request exactly as the official Python SDK's `OIDCRoleArnCredential` sends it
/// (common 3.1.195, `_build_req_without_signature`): POST JSON, `Authorization: SKIP`, no token.
fn web_identity(token: &str, provider: Option<&str>) -> Vec<u8> {
    let mut params = json!({"WebIdentityToken": token, "RoleArn": ROLE,
        "RoleSessionName": "tencentcloud-python-sdk-1", "DurationSeconds": 7200});
    if let Some(provider) = provider {
        params["ProviderId"] = json!(provider);
    }
    let headers = [
        ("Host", "sts.tencentcloudapi.com"),
        ("Content-Type", "application/json"),
        ("X-TC-Action", "AssumeRoleWithWebIdentity"),
        ("X-TC-RequestClient", "SDK_PYTHON_3.1.195"),
        ("X-TC-Timestamp", &now().to_string()),
        ("X-TC-Version", "2018-08-13"),
        ("X-TC-Region", "ap-guangzhou"),
        ("Authorization", "SKIP"),
    ];
    let request = crate::wire::ParsedRequest {
        method: "POST".into(),
        target: "/".into(),
        minor_version: 1,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: params.to_string().into_bytes(),
    };
    to_wire(&request)
}

#[test]
fn assume_role_answers_the_documented_shape_and_its_credentials_sign_cvm_calls() {
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&["skey-aaaaaaaa", "skey-bbbbbbbb"]),
        ..Default::default()
    });
    let before = now();
    let answer = send(&emulator, &assume(role("cleanup-job")));
    let v = answer.json();
    let members: Vec<&String> = v["Response"].as_object().unwrap().keys().collect();
    assert_eq!(members, ["Credentials", "Expiration", "ExpiredTime", "RequestId"], "{v}");
    let c: Vec<&String> = v["Response"]["Credentials"].as_object().unwrap().keys().collect();
    assert_eq!(c, ["TmpSecretId", "TmpSecretKey", "Token"]);
    let expired = v["Response"]["ExpiredTime"].as_i64().unwrap();
    assert!((before + 7_200..=now() + 7_200).contains(&expired), "{v}");
    assert_eq!(v["Response"]["Expiration"], crate::store::iso_time(expired));
    let temporary = credentials(&answer);
    assert_ne!(temporary.0, EmulatorConfig::DEFAULT_SECRET_ID);

    let listed = send(&emulator, &build("POST", &describe(json!({}))).with_temporary(borrowed(&temporary)));
    assert_eq!(listed.json()["Response"]["TotalCount"], 2);
    let deleted =
        send(&emulator, &build("GET", &delete(&["skey-aaaaaaaa"])).with_temporary(borrowed(&temporary)));
    assert_eq!(deleted.code(), "OK");
    assert_eq!(ids_left(&emulator), ["skey-bbbbbbbb"]);
    // Temporary credentials may assume a role in turn, and GET works as for CVM.
    let chained = TestRequest {
        method: "GET",
        ..assume(json!({"RoleArn": ROLE, "RoleSessionName": "again",
        "DurationSeconds": 43200}))
    };
    let chained = send(&emulator, &chained.with_temporary(borrowed(&temporary)));
    assert_eq!(chained.code(), "OK");
    assert!(chained.json()["Response"]["ExpiredTime"].as_i64().unwrap() >= before + 43_200);
}

#[test]
fn temporary_credentials_without_their_token_or_with_another_are_refused() {
    let emulator = start(EmulatorConfig { key_pairs: key_pairs(&["skey-aaaaaaaa"]), ..Default::default() });
    let first = credentials(&send(&emulator, &assume(role("first"))));
    let second = credentials(&send(&emulator, &assume(role("second"))));
    let action = delete(&["skey-aaaaaaaa"]);
    let no_token = TestRequest { token: None, ..build("POST", &action).with_temporary(borrowed(&first)) };
    let wrong = build("POST", &action).with_temporary((&first.0, &first.1, "not-the-token"));
    let others = build("POST", &action).with_temporary((&first.0, &first.1, &second.2));
    for (what, request) in [("no token", no_token), ("a wrong token", wrong), ("another's token", others)] {
        assert_eq!(send(&emulator, &request).code(), "AuthFailure.TokenFailure", "{what}");
    }
    let wrong_key = build("POST", &action).with_temporary((&first.0, &second.1, &first.2));
    assert_eq!(send(&emulator, &wrong_key).code(), "AuthFailure.SignatureFailure");
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa"]);
}

#[test]
fn temporary_credentials_expire_on_the_emulators_clock_at_the_duration_cap() {
    // The emulator's clock is an hour ahead: expiry follows it, not the system clock.
    let offset = 3_600;
    let emulator = start(EmulatorConfig {
        sts_duration_cap: Some(2),
        clock_offset: offset,
        rate_limit: 0,
        ..Default::default()
    });
    let ahead = |request: TestRequest| TestRequest { timestamp: now() + offset, ..request };
    let answer = send(&emulator, &ahead(assume(role("short"))));
    let expired = answer.json()["Response"]["ExpiredTime"].as_i64().unwrap();
    assert!((now() + offset + 1..=now() + offset + 2).contains(&expired), "{expired}");
    let temporary = credentials(&answer);
    let describe_with = || ahead(build("POST", &describe(json!({}))).with_temporary(borrowed(&temporary)));
    assert_eq!(send(&emulator, &describe_with()).code(), "OK");
    while now() + offset < expired {
        std::thread::sleep(Duration::from_millis(100));
    }
    let refused = send(&emulator, &describe_with());
    assert_eq!(refused.code(), "AuthFailure.TokenFailure");
    assert!(refused.json()["Response"]["Error"]["Message"].as_str().unwrap().contains("expired"));
    let sts_after = ahead(assume(role("again")).with_temporary(borrowed(&temporary)));
    assert_eq!(send(&emulator, &sts_after).code(), "AuthFailure.TokenFailure");
}

#[test]
fn assume_role_refusals_carry_the_documented_codes_and_change_nothing() {
    let custom = "qcs::cam::uin/100000000002:roleName/other";
    let emulator = start(EmulatorConfig { rate_limit: 0, ..Default::default() });
    let long_session = "s".repeat(129);
    let cases = [
        (json!({"RoleSessionName": "s1"}), "MissingParameter"),
        (json!({"RoleArn": ROLE}), "MissingParameter"),
        (json!({"RoleArn": "", "RoleSessionName": "s1"}), "MissingParameter"),
        (role("a"), "InvalidParameter.ParamError"),
        (role(&long_session), "InvalidParameter.ParamError"),
        (role("bad name"), "InvalidParameter.ParamError"),
        (role("semi;colon"), "InvalidParameter.ParamError"),
        (
            json!({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": 43201}),
            "InvalidParameter.OverTimeError",
        ),
        (
            json!({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": 0}),
            "InvalidParameter.ParamError",
        ),
        (json!({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": "x"}), "InvalidParameterValue"),
        (json!({"RoleArn": custom, "RoleSessionName": "s1"}), "ResourceNotFound.RoleNotFound"),
        (
            json!({"RoleArn": ROLE, "RoleSessionName": "s1", "Policy": "p".repeat(2049)}),
            "InvalidParameter.PolicyTooLong",
        ),
        (json!({"RoleArn": ROLE, "RoleSessionName": "s1", "ExternalId": "e"}), "UnknownParameter"),
        (
            json!({"RoleArn": ROLE, "RoleSessionName": "s1", "WebIdentityToken": WEB_TOKEN}),
            "UnknownParameter",
        ),
    ];
    for (params, expected) in cases {
        let answer = send(&emulator, &assume(params.clone()));
        assert_eq!(answer.code(), expected, "{params}");
        assert!(answer.json()["Response"]["RequestId"].is_string());
    }
    assert_eq!(emulator.shared.temporaries().len(), 0);
    let wrong_version = TestRequest { version: "2017-03-12", ..assume(role("s1")) };
    assert_eq!(send(&emulator, &wrong_version).code(), "NoSuchVersion");
    let no_region = TestRequest { region: None, ..assume(role("s1")) };
    assert_eq!(send(&emulator, &no_region).code(), "MissingParameter");
    // The bounds themselves are taken.
    let edge = "aZ09_+=,.@-".to_owned() + &"x".repeat(117);
    let params =
        json!({"RoleArn": ROLE, "RoleSessionName": edge, "DurationSeconds": 1, "Policy": "p".repeat(2048)});
    assert_eq!(send(&emulator, &assume(params)).code(), "OK");
    assert_eq!(send(&emulator, &assume(role("ab"))).code(), "OK");
    // Configured roles replace the default one.
    let emulator = start(EmulatorConfig { roles: vec![custom.into()], ..Default::default() });
    assert_eq!(send(&emulator, &assume(role("s1"))).code(), "ResourceNotFound.RoleNotFound");
    let custom_role = assume(json!({"RoleArn": custom, "RoleSessionName": "s1"}));
    assert_eq!(send(&emulator, &custom_role).code(), "OK");
}

#[test]
fn web_identity_is_taken_unsigned_as_the_sdks_send_it_with_the_configured_token() {
    let emulator = start(EmulatorConfig {
        key_pairs: key_pairs(&["skey-aaaaaaaa"]),
        web_identity_token: Some(WEB_TOKEN.into()),
        ..Default::default()
    });
    let answer = Conn::open(emulator.addr()).exchange(&web_identity(WEB_TOKEN, Some("tke-oidc"))).unwrap();
    assert_eq!(answer.code(), "OK", "{}", answer.json());
    let v = answer.json();
    let members: Vec<&String> = v["Response"].as_object().unwrap().keys().collect();
    assert_eq!(members, ["Credentials", "Expiration", "ExpiredTime", "RequestId"]);
    let temporary = credentials(&answer);
    let deleted =
        send(&emulator, &build("POST", &delete(&["skey-aaaaaaaa"])).with_temporary(borrowed(&temporary)));
    assert_eq!(deleted.code(), "OK");

    for (bytes, expected) in [
        (web_identity("another-token", Some("tke-oidc")), "InvalidParameter.WebIdentityTokenError"),
        (web_identity("", Some("tke-oidc")), "MissingParameter"),
        (web_identity(WEB_TOKEN, None), "MissingParameter"),
    ] {
        assert_eq!(Conn::open(emulator.addr()).exchange(&bytes).unwrap().code(), expected);
    }
    // Only this action may come unsigned.
    let mut unsigned = assume(role("s1")).sign();
    set_header(&mut unsigned, "Authorization", "SKIP");
    let answer = Conn::open(emulator.addr()).exchange(&to_wire(&unsigned)).unwrap();
    assert_eq!(answer.code(), "AuthFailure.InvalidAuthorization");
    // Signed, it is taken too.
    let signed = TestRequest::sts(
        "AssumeRoleWithWebIdentity",
        json!({"ProviderId": "p", "WebIdentityToken": WEB_TOKEN, "RoleArn": ROLE, "RoleSessionName": "s1"}),
    );
    assert_eq!(send(&emulator, &signed).code(), "OK");

    let without = start(EmulatorConfig::default());
    let answer = Conn::open(without.addr()).exchange(&web_identity(WEB_TOKEN, Some("tke-oidc"))).unwrap();
    assert_eq!(answer.code(), "UnsupportedOperation");
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(!body.contains(WEB_TOKEN), "{body}");
}

#[test]
fn a_signature_scoped_to_the_other_service_is_refused() {
    let emulator = start(EmulatorConfig { key_pairs: key_pairs(&["skey-aaaaaaaa"]), ..Default::default() });
    let cvm_scoped_sts = TestRequest { service: "cvm", ..assume(role("s1")) };
    let sts_scoped_cvm = TestRequest { service: "sts", ..build("POST", &delete(&["skey-aaaaaaaa"])) };
    let other_service = TestRequest { service: "cbs", ..assume(role("s1")) };
    for request in [cvm_scoped_sts, sts_scoped_cvm, other_service] {
        let answer = send(&emulator, &request);
        assert_eq!(answer.code(), "AuthFailure.SignatureFailure", "{} {}", request.service, request.action);
    }
    assert_eq!(ids_left(&emulator), ["skey-aaaaaaaa"]);
    let unknown = TestRequest::sts("GetFederationToken", json!({}));
    assert_eq!(send(&emulator, &unknown).code(), "InvalidAction");
}

#[test]
fn sts_requests_are_counted_and_logged_per_action_without_their_secrets() {
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&records);
    let emulator = start(EmulatorConfig {
        web_identity_token: Some(WEB_TOKEN.into()),
        on_request: Some(Arc::new(move |r: &RequestRecord| sink.lock().unwrap().push(r.clone()))),
        ..Default::default()
    });
    let issued = send(&emulator, &assume(role("s1")));
    send(&emulator, &assume(role("a")));
    Conn::open(emulator.addr()).exchange(&web_identity(WEB_TOKEN, Some("p"))).unwrap();
    let stats = emulator.stats();
    assert_eq!((stats.requests_for("AssumeRole"), stats.requests_for("AssumeRoleWithWebIdentity")), (2, 1));
    assert_eq!(stats.answers_with("InvalidParameter.ParamError"), 1);
    let records = records.lock().unwrap();
    let seen: Vec<(&str, &str)> = records.iter().map(|r| (r.action.as_str(), r.code.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("AssumeRole", "OK"),
            ("AssumeRole", "InvalidParameter.ParamError"),
            ("AssumeRoleWithWebIdentity", "OK")
        ]
    );
    assert_eq!(records[0].request_id, issued.json()["Response"]["RequestId"]);
    let logged = serde_json::to_string(&*records).unwrap();
    let (_, key, token) = credentials(&issued);
    for secret in [key.as_str(), token.as_str(), WEB_TOKEN] {
        assert!(!logged.contains(secret), "{logged}");
    }
}

#[test]
fn a_loop_of_assume_role_calls_keeps_a_bounded_number_of_credentials() {
    let emulator = start(EmulatorConfig { rate_limit: 0, ..Default::default() });
    let mut conn = Conn::open(emulator.addr());
    let first = credentials(&conn.exchange(&wire(&assume(role("first")))).unwrap());
    let request = wire(&assume(role("loop")));
    for _ in 0..MAX_LIVE_CREDENTIALS {
        assert_eq!(conn.exchange(&request).unwrap().code(), "OK");
    }
    assert_eq!(emulator.shared.temporaries().len(), MAX_LIVE_CREDENTIALS);
    let last = credentials(&conn.exchange(&request).unwrap());
    let describe_with =
        |c: &(String, String, String)| build("POST", &describe(json!({}))).with_temporary(borrowed(c));
    assert_eq!(send(&emulator, &describe_with(&first)).code(), "AuthFailure.SecretIdNotFound");
    assert_eq!(send(&emulator, &describe_with(&last)).code(), "OK");
}
