//! TC3-HMAC-SHA256 verification, written from the documented algorithm on `ring` alone.
//!
//! The emulator computes the signature of what it received — the method, the raw query, the
//! headers the `Authorization` value names (with their received values, in the order named)
//! and the body, or `UNSIGNED-PAYLOAD` when `X-TC-Content-SHA256` says so — and compares it
//! with the one sent. It shares no code with any client: a client that disagrees with the
//! documented algorithm on any byte fails here as it would against the real API. The steps
//! ([`canonical_request`], [`string_to_sign`], [`signature`]) are checked one by one against the
//! official SDK's signing vectors in this module's tests.

use ring::{digest, hmac};

use super::api::ApiError;
use super::wire::ParsedRequest;
use super::EmulatorConfig;

/// The algorithm, first word of the `Authorization` value and of the string to sign.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The service of the credential scope.
pub(crate) const SERVICE: &str = "cvm";
/// What `X-TC-Content-SHA256` says, and what is hashed instead of the body, when the body is
/// not signed.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The largest accepted difference between the request's timestamp and the emulator's clock.
pub(crate) const MAX_SKEW_SECS: i64 = 300;

/// The parts of an `Authorization` value.
struct Authorization<'a> {
    secret_id: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
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

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
}

/// The UTC date `YYYY-MM-DD` of a Unix timestamp, the date of the credential scope; `None`
/// outside years 0 to 9999.
pub(crate) fn utc_date(timestamp: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(timestamp).ok()?;
    (0..=9999)
        .contains(&t.year())
        .then(|| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
}

/// `METHOD\n/\nQUERY\nname:value\n…\n\nname;…\nhex(sha256(payload))`: each header as
/// `name:value` with the value trimmed and lower-cased, in the order given, and the names
/// joined by `;`. `payload` is the body, or [`UNSIGNED_PAYLOAD`] when it is not signed.
pub(crate) fn canonical_request(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    let mut out = format!("{method}\n/\n{query}\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&value.trim().to_lowercase());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&headers.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";"));
    out.push('\n');
    out.push_str(&sha256_hex(payload));
    out
}

/// `TC3-HMAC-SHA256\nTIMESTAMP\nDATE/cvm/tc3_request\nhex(sha256(canonical request))`.
pub(crate) fn string_to_sign(timestamp: i64, date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{SERVICE}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Lower-case hex of `HMAC(key, string to sign)`, where the key is
/// `HMAC(HMAC(HMAC("TC3" + secret key, DATE), "cvm"), "tc3_request")`.
pub(crate) fn signature(secret_key: &str, date: &str, string_to_sign: &str) -> String {
    let dated = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let service = hmac_sha256(dated.as_ref(), SERVICE.as_bytes());
    let key = hmac_sha256(service.as_ref(), b"tc3_request");
    hex(hmac_sha256(key.as_ref(), string_to_sign.as_bytes()).as_ref())
}

/// Checks the request's credentials and signature against `config` at time `now`.
pub(crate) fn verify(request: &ParsedRequest, config: &EmulatorConfig, now: i64) -> Result<(), ApiError> {
    let auth = request.header("Authorization").and_then(parse_authorization).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is missing or is not `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.",
        )
    })?;
    if auth.secret_id != config.secret_id {
        return Err(ApiError::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    }
    match (&config.token, request.header("X-TC-Token")) {
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
    let date = utc_date(timestamp).ok_or_else(|| failure("timestamp out of range"))?;
    if auth.date != date {
        return Err(failure("the credential scope date is not the UTC date of X-TC-Timestamp"));
    }
    if auth.service != SERVICE {
        return Err(failure("the credential scope service is not cvm"));
    }

    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in auth.signed_headers.split(';') {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(failure("SignedHeaders must be lower-case names separated by `;`"));
        }
        if headers.iter().any(|(seen, _)| *seen == name) {
            return Err(failure("SignedHeaders names a header twice"));
        }
        let value = request.header(name).ok_or_else(|| failure("a signed header is missing"))?;
        headers.push((name, value));
    }
    if !headers.iter().any(|(n, _)| *n == "content-type") || !headers.iter().any(|(n, _)| *n == "host") {
        return Err(failure("SignedHeaders must include content-type and host"));
    }
    let unsigned = request.header("X-TC-Content-SHA256") == Some(UNSIGNED_PAYLOAD);
    let payload = if unsigned { UNSIGNED_PAYLOAD.as_bytes() } else { &request.body };
    let canonical = canonical_request(&request.method, request.query(), &headers, payload);
    let expected = signature(&config.secret_key, &date, &string_to_sign(timestamp, &date, &canonical));
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(failure("signature mismatch"));
    }
    Ok(())
}

/// Compares without an early exit, so timing tells nothing about where a guess went wrong.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
