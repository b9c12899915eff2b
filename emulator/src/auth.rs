//! TC3-HMAC-SHA256 verification: the emulator re-signs each request and compares.
//!
//! The signature is recomputed with the library's own pure signer ([`tc3::sign_uncached`]) from
//! what was received: the method, the raw query, the headers the `Authorization` value names
//! (with their received values) and the body, or `UNSIGNED-PAYLOAD` when
//! `X-TC-Content-SHA256` says so. A client and the emulator that disagree on any byte therefore
//! fail here exactly as they would against the real API.

use super::api::ApiError;
use super::wire::ParsedRequest;
use crate::credentials::Credentials;
use crate::request::SERVICE;
use crate::tc3::{self, Date, Payload, SigningInput};

/// The largest accepted difference between the request's timestamp and the emulator's clock.
pub(crate) const MAX_SKEW_SECS: i64 = 300;

/// The three parts of an `Authorization` value.
struct Authorization<'a> {
    secret_id: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(tc3::ALGORITHM)?.strip_prefix(' ')?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let mut scope = credential?.rsplitn(4, '/');
    let (terminator, service, date, secret_id) = (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if terminator != "tc3_request" || secret_id.is_empty() {
        return None;
    }
    Some(Authorization { secret_id, date, service, signed_headers: signed_headers?, signature: signature? })
}

/// Checks the request's credentials and signature against `credentials` at time `now`.
pub(crate) fn verify(request: &ParsedRequest, credentials: &Credentials, now: i64) -> Result<(), ApiError> {
    let auth = request.header("Authorization").and_then(parse_authorization).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is missing or is not `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.",
        )
    })?;
    if auth.secret_id != credentials.secret_id() {
        return Err(ApiError::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    }
    match (credentials.token(), request.header("X-TC-Token")) {
        (None, None) => {}
        (Some(expected), Some(got)) if constant_time_eq(expected.as_bytes(), got.as_bytes()) => {}
        (None, Some(_)) => {
            return Err(ApiError::new(
                "AuthFailure.TokenFailure",
                "A token was sent, but these credentials take none.",
            ))
        }
        (Some(_), _) => {
            return Err(ApiError::new("AuthFailure.TokenFailure", "The token is missing or invalid."))
        }
    }

    let timestamp = match request.header("X-TC-Timestamp") {
        None => {
            return Err(ApiError::new(
                "MissingParameter",
                "The request is missing the required header `X-TC-Timestamp`.",
            ))
        }
        Some(t) => t.parse::<i64>().map_err(|_| {
            ApiError::new("InvalidParameterValue", "The header `X-TC-Timestamp` must be Unix seconds.")
        })?,
    };
    if now.abs_diff(timestamp) > MAX_SKEW_SECS as u64 {
        return Err(ApiError::new(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than five minutes.",
        ));
    }

    let failure = |why: &str| {
        ApiError::new(
            "AuthFailure.SignatureFailure",
            format!("The provided credentials could not be validated ({why}). Please check your signature is correct."),
        )
    };
    let expected_date = Date::from_timestamp(timestamp).map_err(|_| failure("timestamp out of range"))?;
    if auth.date != expected_date.as_str() {
        return Err(failure("the credential scope date is not the UTC date of X-TC-Timestamp"));
    }
    if auth.service != SERVICE {
        return Err(failure("the credential scope service is not cvm"));
    }

    let mut headers = Vec::new();
    for name in auth.signed_headers.split(';') {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(failure("SignedHeaders must be lower-case names separated by `;`"));
        }
        let value = request.header(name).ok_or_else(|| failure("a signed header is missing"))?;
        headers.push((name, value));
    }
    if !headers.iter().any(|(n, _)| *n == "content-type") || !headers.iter().any(|(n, _)| *n == "host") {
        return Err(failure("SignedHeaders must include content-type and host"));
    }
    let unsigned = request.header("X-TC-Content-SHA256").is_some_and(|v| v == tc3::UNSIGNED_PAYLOAD);
    let signature = tc3::sign_uncached(&SigningInput {
        secret_id: auth.secret_id,
        secret_key: credentials.secret_key(),
        service: SERVICE,
        timestamp,
        method: &request.method,
        query: request.query(),
        headers: &headers,
        payload: if unsigned { Payload::Unsigned } else { Payload::Bytes(&request.body) },
    })
    .map_err(|_| failure("the request cannot be signed as received"))?;
    if !constant_time_eq(signature.signature.as_bytes(), auth.signature.as_bytes()) {
        return Err(failure("signature mismatch"));
    }
    Ok(())
}

/// Compares without an early exit, so timing tells nothing about where a guess went wrong.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::wire::parse_request;
    use crate::{DeleteKeyPairs, Method, RequestConfig, SignedHeaderSet, Signer};

    const NOW: i64 = 1_700_000_000;

    fn creds() -> Credentials {
        Credentials::new("AKIDtest", "secret-key-test").unwrap()
    }

    fn config(method: Method) -> RequestConfig {
        RequestConfig {
            endpoint: crate::Endpoint::parse("http://127.0.0.1:9").unwrap(),
            region: "ap-guangzhou".into(),
            method,
            ..RequestConfig::default()
        }
    }

    /// Builds a signed request and re-parses it from its wire bytes, as the server sees it.
    fn received(config: &RequestConfig, creds: &Credentials, timestamp: i64) -> ParsedRequest {
        let action = DeleteKeyPairs::parse(["skey-aaaaaaaa", "skey-bbbbbbbb"]).unwrap();
        let request = config.build(&Signer::new(), creds, &action, timestamp).unwrap();
        let mut wire = request.to_string();
        if let Some(token) = creds.token() {
            wire = wire.replace("x-tc-token: ***", &format!("x-tc-token: {token}"));
        }
        parse_request(wire.as_bytes()).unwrap().0
    }

    fn code(result: Result<(), ApiError>) -> &'static str {
        result.expect_err("an error").code
    }

    fn set_header(request: &mut ParsedRequest, name: &str, value: &str) {
        request.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        request.headers.push((name.to_owned(), value.to_owned()));
    }

    #[test]
    fn library_requests_verify_in_every_shape() {
        for method in [Method::Get, Method::Post] {
            for signed_headers in [SignedHeaderSet::WithAction, SignedHeaderSet::ContentTypeHost] {
                for unsigned_payload in [false, true] {
                    let config = RequestConfig { signed_headers, unsigned_payload, ..config(method) };
                    let request = received(&config, &creds(), NOW);
                    assert_eq!(
                        verify(&request, &creds(), NOW),
                        Ok(()),
                        "{method} {signed_headers:?} {unsigned_payload}"
                    );
                }
            }
        }
    }

    #[test]
    fn any_changed_byte_fails_the_signature() {
        let post = received(&config(Method::Post), &creds(), NOW);
        let mut body = post.clone();
        body.body[12] ^= 1;
        let mut host = post.clone();
        set_header(&mut host, "Host", "127.0.0.1:10");
        let mut action = post.clone();
        set_header(&mut action, "X-TC-Action", "DescribeKeyPairs");
        let mut method = post.clone();
        method.method = "PUT".into();
        let get = received(&config(Method::Get), &creds(), NOW);
        let mut query = get.clone();
        query.target = query.target.replace("KeyIds.1", "KeyIds.2");
        for request in [body, host, action, method, query] {
            assert_eq!(code(verify(&request, &creds(), NOW)), "AuthFailure.SignatureFailure");
        }
        let other_key = Credentials::new("AKIDtest", "another-key").unwrap();
        assert_eq!(code(verify(&post, &other_key, NOW)), "AuthFailure.SignatureFailure");
    }

    #[test]
    fn unsigned_payload_covers_the_headers_but_not_the_body() {
        let config = RequestConfig { unsigned_payload: true, ..config(Method::Post) };
        let mut request = received(&config, &creds(), NOW);
        request.body = b"{\"KeyIds\":[]}".to_vec();
        assert_eq!(verify(&request, &creds(), NOW), Ok(()));
        set_header(&mut request, "X-TC-Content-SHA256", "something-else");
        assert_eq!(code(verify(&request, &creds(), NOW)), "AuthFailure.SignatureFailure");
    }

    #[test]
    fn unknown_secret_id_is_reported_as_such() {
        let request = received(&config(Method::Post), &Credentials::new("AKIDother", "k").unwrap(), NOW);
        assert_eq!(code(verify(&request, &creds(), NOW)), "AuthFailure.SecretIdNotFound");
    }

    #[test]
    fn skew_beyond_five_minutes_expires() {
        let request = received(&config(Method::Post), &creds(), NOW);
        assert_eq!(verify(&request, &creds(), NOW + 300), Ok(()));
        assert_eq!(verify(&request, &creds(), NOW - 300), Ok(()));
        assert_eq!(code(verify(&request, &creds(), NOW + 301)), "AuthFailure.SignatureExpire");
        assert_eq!(code(verify(&request, &creds(), NOW - 3_600)), "AuthFailure.SignatureExpire");
    }

    #[test]
    fn token_must_match_when_configured_and_be_absent_otherwise() {
        let with_token = creds().with_token("token-A").unwrap();
        let request = received(&config(Method::Post), &with_token, NOW);
        assert_eq!(verify(&request, &with_token, NOW), Ok(()));
        assert_eq!(code(verify(&request, &creds(), NOW)), "AuthFailure.TokenFailure");
        let other = creds().with_token("token-B").unwrap();
        assert_eq!(code(verify(&request, &other, NOW)), "AuthFailure.TokenFailure");
        let plain = received(&config(Method::Post), &creds(), NOW);
        assert_eq!(code(verify(&plain, &with_token, NOW)), "AuthFailure.TokenFailure");
    }

    #[test]
    fn malformed_authorization_and_scope_are_rejected() {
        let good = received(&config(Method::Post), &creds(), NOW);
        let auth = good.header("Authorization").unwrap().to_owned();
        let cases = [
            ("", "AuthFailure.InvalidAuthorization"),
            ("Basic abc", "AuthFailure.InvalidAuthorization"),
            (&auth.replace("Credential=", "Cred="), "AuthFailure.InvalidAuthorization"),
            (&auth.replace("/tc3_request", "/tc4_request"), "AuthFailure.InvalidAuthorization"),
            (&format!("{auth}, Signature=00"), "AuthFailure.InvalidAuthorization"),
            (&auth.replace("/cvm/", "/cbs/"), "AuthFailure.SignatureFailure"),
            (&auth.replace("2023-11-14", "2023-11-15"), "AuthFailure.SignatureFailure"),
            (&auth.replace("content-type;host;", "host;"), "AuthFailure.SignatureFailure"),
            (&auth.replace("content-type;", "content-type;x-missing;"), "AuthFailure.SignatureFailure"),
            (&auth.replace("content-type", "Content-Type"), "AuthFailure.SignatureFailure"),
        ];
        for (value, expected) in cases {
            let mut request = good.clone();
            set_header(&mut request, "Authorization", value);
            assert_eq!(code(verify(&request, &creds(), NOW)), expected, "{value}");
        }
        let mut no_auth = good.clone();
        no_auth.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Authorization"));
        assert_eq!(code(verify(&no_auth, &creds(), NOW)), "AuthFailure.InvalidAuthorization");
        let mut no_time = good.clone();
        no_time.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("X-TC-Timestamp"));
        assert_eq!(code(verify(&no_time, &creds(), NOW)), "MissingParameter");
        let mut bad_time = good;
        set_header(&mut bad_time, "X-TC-Timestamp", "soon");
        assert_eq!(code(verify(&bad_time, &creds(), NOW)), "InvalidParameterValue");
    }
}
