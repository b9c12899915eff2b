//! The verifier proven on the official SDK's signing vectors (`tests/vectors/tc3-signing.json`):
//! each step of each case gives the vector's bytes, every case's request verifies as the SDK
//! sent it, and tampering with any signed part fails with the code the API gives.

use super::*;
use crate::test_support::{set_header, signing_vectors, to_wire};
use crate::wire::parse_request;

/// The verifier with only `config`'s permanent credentials, as the emulator has them.
fn verify(request: &ParsedRequest, config: &EmulatorConfig, now: i64) -> Result<(), ApiError> {
    super::verify(request, now, |id| Signer::permanent(config, id)).map(|_| ())
}

fn code(result: Result<(), ApiError>) -> &'static str {
    result.expect_err("an error").code
}

/// The vector's request through the wire: written out and parsed as the emulator receives it.
fn received(request: &ParsedRequest) -> ParsedRequest {
    let bytes = to_wire(request);
    let (parsed, used) = parse_request(&bytes).expect("the request parses");
    assert_eq!(used, bytes.len());
    parsed
}

#[test]
fn every_step_of_every_signing_vector_gives_its_bytes() {
    for case in signing_vectors() {
        assert!(SERVICES.iter().any(|s| s.name == case.service), "{}", case.name);
        let headers: Vec<(&str, &str)> =
            case.signed_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let payload =
            if case.unsigned_payload { UNSIGNED_PAYLOAD.as_bytes().to_vec() } else { case.payload() };
        let canonical = canonical_request(&case.method, &case.query, &headers, &payload);
        assert_eq!(canonical, case.expected.canonical_request, "{}", case.name);
        let date = utc_date(case.timestamp).unwrap();
        let to_sign = string_to_sign(case.timestamp, &date, &case.service, &canonical);
        assert_eq!(to_sign, case.expected.string_to_sign, "{}", case.name);
        assert_eq!(
            signature(&case.secret_key, &date, &case.service, &to_sign),
            case.expected.signature,
            "{}",
            case.name
        );
    }
}

#[test]
fn every_signing_vector_request_verifies_as_sent() {
    for case in signing_vectors() {
        let request = received(&case.request());
        let config = case.config();
        for now in [case.timestamp, case.timestamp - MAX_SKEW_SECS, case.timestamp + MAX_SKEW_SECS] {
            assert_eq!(verify(&request, &config, now), Ok(()), "{} at {now}", case.name);
        }
        // Headers outside the signature may change or be added freely.
        let mut more = request.clone();
        more.headers.push(("X-Unsigned".into(), "anything".into()));
        set_header(&mut more, "X-TC-Language", "en-US");
        assert_eq!(verify(&received(&more), &config, case.timestamp), Ok(()), "{}", case.name);
    }
}

#[test]
fn tampering_with_any_signed_part_of_a_vector_fails_with_the_apis_code() {
    for case in signing_vectors() {
        let (request, config, now) = (case.request(), case.config(), case.timestamp);
        let check = |what: &str, changed: ParsedRequest, config: &EmulatorConfig, now: i64, expected| {
            let got = verify(&received(&changed), config, now).err().map(|e| e.code);
            assert_eq!(got, expected, "{}: {what}", case.name);
        };
        let failure = Some("AuthFailure.SignatureFailure");

        let mut method = request.clone();
        method.method = if case.method == "GET" { "POST" } else { "GET" }.into();
        check("method", method, &config, now, failure);

        let mut query = request.clone();
        query.target.push_str(if case.query.is_empty() { "?KeyIds.0=skey-aaaaaaaa" } else { "&Limit=1" });
        check("query", query, &config, now, failure);

        for (name, value) in &case.signed_headers {
            let mut header = request.clone();
            set_header(&mut header, name, &format!("{value}x"));
            check(&format!("signed header {name}"), header, &config, now, failure);
        }

        let mut body = request.clone();
        body.body.push(b' ');
        check("body", body, &config, now, if case.unsigned_payload { None } else { failure });
        if case.unsigned_payload {
            let mut signed_again = request.clone();
            set_header(&mut signed_again, "X-TC-Content-SHA256", "something-else");
            check("X-TC-Content-SHA256", signed_again, &config, now, failure);
        }

        let mut timestamp = request.clone();
        set_header(&mut timestamp, "X-TC-Timestamp", &(now + 1).to_string());
        check("timestamp", timestamp, &config, now + 1, failure);
        check("clock 301 s ahead", request.clone(), &config, now + 301, Some("AuthFailure.SignatureExpire"));
        check(
            "clock an hour behind",
            request.clone(),
            &config,
            now - 3_600,
            Some("AuthFailure.SignatureExpire"),
        );

        let mut signature = request.clone();
        let authorization = case.expected.authorization.clone();
        let last = authorization.chars().last().unwrap();
        let flipped =
            format!("{}{}", &authorization[..authorization.len() - 1], if last == '0' { '1' } else { '0' });
        set_header(&mut signature, "Authorization", &flipped);
        check("signature", signature, &config, now, failure);

        let other_secret = EmulatorConfig { secret_key: format!("{}x", case.secret_key), ..case.config() };
        check("secret key", request.clone(), &other_secret, now, failure);
        let other_id = EmulatorConfig { secret_id: "AKIDsomeoneelse".into(), ..case.config() };
        check("secret id", request.clone(), &other_id, now, Some("AuthFailure.SecretIdNotFound"));

        let token = Some("AuthFailure.TokenFailure");
        match &config.token {
            Some(sent) => {
                let none = EmulatorConfig { token: None, ..case.config() };
                check("token not expected", request.clone(), &none, now, token);
                let other = EmulatorConfig { token: Some(format!("{sent}x")), ..case.config() };
                check("another token", request.clone(), &other, now, token);
                let mut missing = request.clone();
                missing.headers.retain(|(n, _)| n != "X-TC-Token");
                check("token missing", missing, &config, now, token);
            }
            None => {
                let required = EmulatorConfig { token: Some("session-token".into()), ..case.config() };
                check("token required", request.clone(), &required, now, token);
            }
        }
    }
}

#[test]
fn malformed_authorization_and_scope_are_rejected() {
    let case = signing_vectors().into_iter().find(|c| c.name == "post_single_key").unwrap();
    let (good, config, now) = (case.request(), case.config(), case.timestamp);
    let auth = case.expected.authorization.clone();
    let cases = [
        ("", "AuthFailure.InvalidAuthorization"),
        ("Basic abc", "AuthFailure.InvalidAuthorization"),
        (&auth.replace("Credential=", "Cred="), "AuthFailure.InvalidAuthorization"),
        (&auth.replace("/tc3_request", "/tc4_request"), "AuthFailure.InvalidAuthorization"),
        (&format!("{auth}, Signature=00"), "AuthFailure.InvalidAuthorization"),
        (&auth.replace("/cvm/", "/cbs/"), "AuthFailure.SignatureFailure"),
        (&auth.replace("2023-11-14", "2023-11-15"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type;host", "host"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type;host", "content-type"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type;", "content-type;x-missing;"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type;", "content-type;content-type;"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type", "Content-Type"), "AuthFailure.SignatureFailure"),
        (&auth.replace("content-type;host", "host;content-type"), "AuthFailure.SignatureFailure"),
    ];
    for (value, expected) in cases {
        let mut request = good.clone();
        set_header(&mut request, "Authorization", value);
        assert_eq!(code(verify(&received(&request), &config, now)), expected, "{value}");
    }
    let mut no_auth = good.clone();
    no_auth.headers.retain(|(n, _)| n != "Authorization");
    assert_eq!(code(verify(&no_auth, &config, now)), "AuthFailure.InvalidAuthorization");
    let mut no_time = good.clone();
    no_time.headers.retain(|(n, _)| n != "X-TC-Timestamp");
    assert_eq!(code(verify(&no_time, &config, now)), "MissingParameter");
    let mut bad_time = good;
    set_header(&mut bad_time, "X-TC-Timestamp", "soon");
    assert_eq!(code(verify(&bad_time, &config, now)), "InvalidParameterValue");
}

#[test]
fn the_scope_date_is_the_utc_date_within_years_0_to_9999() {
    assert_eq!(utc_date(1_704_067_199).as_deref(), Some("2023-12-31"));
    assert_eq!(utc_date(1_704_067_200).as_deref(), Some("2024-01-01"));
    assert_eq!(utc_date(-62_167_219_200).as_deref(), Some("0000-01-01"));
    assert_eq!(utc_date(253_402_300_799).as_deref(), Some("9999-12-31"));
    assert_eq!(utc_date(253_402_300_800), None);
    assert_eq!(utc_date(i64::MIN), None);
}
