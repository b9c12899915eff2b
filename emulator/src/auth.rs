//! TC3-HMAC-SHA256 verification, written from the documented algorithm on `ring` alone.
//!
//! The emulator computes the signature of what it received — the method, the raw query, the
//! headers the `Authorization` value names (with their received values, in the order named)
//! and the body, or `UNSIGNED-PAYLOAD` when `X-TC-Content-SHA256` says so — and compares it
//! with the one sent. It shares no code with any client: a client that disagrees with the
//! documented algorithm on any byte fails here as it would against the real API. The steps
//! ([`canonical_request`], [`string_to_sign`], [`signature`]) are checked one by one against the
//! official SDK's signing vectors in this module's tests.

use std::fmt;

use ring::{digest, hmac};

use super::api::{ApiError, Service, SERVICES};
use super::wire::ParsedRequest;
use super::EmulatorConfig;

/// The algorithm, first word of the `Authorization` value and of the string to sign.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";
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
pub(crate) fn hex(bytes: &[u8]) -> String {
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

/// `TC3-HMAC-SHA256\nTIMESTAMP\nDATE/SERVICE/tc3_request\nhex(sha256(canonical request))`.
pub(crate) fn string_to_sign(timestamp: i64, date: &str, service: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Lower-case hex of `HMAC(key, string to sign)`, where the key is
/// `HMAC(HMAC(HMAC("TC3" + secret key, DATE), SERVICE), "tc3_request")`.
pub(crate) fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    let dated = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let serviced = hmac_sha256(dated.as_ref(), service.as_bytes());
    let key = hmac_sha256(serviced.as_ref(), b"tc3_request");
    hex(hmac_sha256(key.as_ref(), string_to_sign.as_bytes()).as_ref())
}

/// What one secret id stands for: the key it signs with, the token it must send and, for
/// temporary credentials, when they expire (on the emulator's clock). Never shown by `Debug`.
pub(crate) struct Signer {
    pub(crate) secret_key: String,
    pub(crate) token: Option<String>,
    pub(crate) expires: Option<i64>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("expires", &self.expires).finish_non_exhaustive()
    }
}

impl Signer {
    /// `config`'s permanent credentials, if `secret_id` is theirs.
    pub(crate) fn permanent(config: &EmulatorConfig, secret_id: &str) -> Option<Signer> {
        (secret_id == config.secret_id).then(|| Signer {
            secret_key: config.secret_key.clone(),
            token: config.token.clone(),
            expires: None,
        })
    }
}

fn signature_failure(why: &str) -> ApiError {
    ApiError::new(
        "AuthFailure.SignatureFailure",
        format!("The provided credentials could not be validated ({why}). Please check your signature is correct."),
    )
}

/// Checks the request's credentials and signature at time `now` (the emulator's clock);
/// `lookup` gives the credentials of a secret id, if it has any. Returns the service of the
/// credential scope, one of [`SERVICES`].
pub(crate) fn verify(
    request: &ParsedRequest,
    now: i64,
    lookup: impl FnOnce(&str) -> Option<Signer>,
) -> Result<&'static Service, ApiError> {
    let auth = request.header("Authorization").and_then(parse_authorization).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is missing or is not `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.",
        )
    })?;
    let signer = lookup(auth.secret_id).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    })?;
    check_token(&signer, request.header("X-TC-Token"), now)?;
    let timestamp = timestamp(request, now)?;
    let date = utc_date(timestamp).ok_or_else(|| signature_failure("timestamp out of range"))?;
    if auth.date != date {
        return Err(signature_failure("the credential scope date is not the UTC date of X-TC-Timestamp"));
    }
    let service = SERVICES
        .iter()
        .find(|s| s.name == auth.service)
        .ok_or_else(|| signature_failure("the credential scope service is neither cvm nor sts"))?;
    let headers = signed_headers(request, auth.signed_headers)?;
    let unsigned = request.header("X-TC-Content-SHA256") == Some(UNSIGNED_PAYLOAD);
    let payload = if unsigned { UNSIGNED_PAYLOAD.as_bytes() } else { &request.body };
    let canonical = canonical_request(&request.method, request.query(), &headers, payload);
    let to_sign = string_to_sign(timestamp, &date, service.name, &canonical);
    let expected = signature(&signer.secret_key, &date, service.name, &to_sign);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(signature_failure("signature mismatch"));
    }
    Ok(service)
}

/// The token must be the one the credentials were given (none for permanent credentials
/// configured without one), and temporary credentials must not have expired.
fn check_token(signer: &Signer, sent: Option<&str>, now: i64) -> Result<(), ApiError> {
    match (&signer.token, sent) {
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
    match signer.expires {
        Some(expires) if now >= expires => Err(ApiError::new(
            "AuthFailure.TokenFailure",
            "The temporary credentials have expired; request new ones.",
        )),
        _ => Ok(()),
    }
}

/// `X-TC-Timestamp`, which must be within [`MAX_SKEW_SECS`] of `now`.
fn timestamp(request: &ParsedRequest, now: i64) -> Result<i64, ApiError> {
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
    Ok(timestamp)
}

/// The headers `SignedHeaders` names, with their received values: lower-case names, each
/// once, present, and including `content-type` and `host`.
fn signed_headers<'r>(
    request: &'r ParsedRequest,
    names: &'r str,
) -> Result<Vec<(&'r str, &'r str)>, ApiError> {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in names.split(';') {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(signature_failure("SignedHeaders must be lower-case names separated by `;`"));
        }
        if headers.iter().any(|(seen, _)| *seen == name) {
            return Err(signature_failure("SignedHeaders names a header twice"));
        }
        let value = request.header(name).ok_or_else(|| signature_failure("a signed header is missing"))?;
        headers.push((name, value));
    }
    if !headers.iter().any(|(n, _)| *n == "content-type") || !headers.iter().any(|(n, _)| *n == "host") {
        return Err(signature_failure("SignedHeaders must include content-type and host"));
    }
    Ok(headers)
}

/// Compares without an early exit, so timing tells nothing about where a guess went wrong.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
