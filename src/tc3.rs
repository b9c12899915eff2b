//! The TC3-HMAC-SHA256 signer, pure: every output is a function of the inputs.
//!
//! Signing follows Tencent Cloud API 3.0: a canonical request is hashed into a string to sign,
//! which is signed with a key derived from the secret key, the UTC date and the service. Each
//! step is returned as a value ([`Signature`]) so it can be printed and compared with another
//! implementation.
//!
//! The derived key depends only on (secret key, UTC date, service), so [`Signer`] keeps the last
//! one and re-derives it only when one of those changes. The cache is invisible to callers: the
//! same input always gives the same output, cached or not.

use std::fmt;
use std::sync::Mutex;

use ring::{digest, hmac};

use crate::credentials::{Credentials, Fingerprint};
use crate::error::Error;

/// The algorithm name, first word of the string to sign and of the `Authorization` value.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The most headers one signature may cover.
pub(crate) const MAX_SIGNED_HEADERS: usize = 16;

/// The literal hashed in place of the body when the payload is not signed.
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

// The signing steps are the crate's own; they are `pub` only so that the `testing` feature can
// hand them to the fuzz targets.

/// What the signature covers of the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub enum Payload<'a> {
    /// The exact body bytes (empty for GET).
    Bytes(&'a [u8]),
    /// The body is not signed: the hash of `UNSIGNED-PAYLOAD` is used instead, and the
    /// request must carry `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`.
    Unsigned,
}

/// Everything one signature is computed from.
///
/// `headers` are the headers to sign as `(name, value)` as they are sent, normally
/// `content-type`, `host` (with `:port` when it is not the scheme's default) and optionally
/// `x-tc-action`. Names are matched case-insensitively and must be unique.
#[derive(Clone, Copy)]
#[allow(unreachable_pub)]
pub struct SigningInput<'a> {
    /// The secret id (`AKID…`), which appears in the credential scope.
    pub secret_id: &'a str,
    /// The secret key; only ever used to derive the signing key.
    pub secret_key: &'a str,
    /// The service name, `cvm` for this crate.
    pub service: &'a str,
    /// Unix seconds; its UTC date is the credential scope date.
    pub timestamp: i64,
    /// The HTTP method, `GET` or `POST`.
    pub method: &'a str,
    /// The canonical query string exactly as sent (empty for POST).
    pub query: &'a str,
    /// The headers to sign.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, or [`Payload::Unsigned`].
    pub payload: Payload<'a>,
}

impl fmt::Debug for SigningInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningInput")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .field("service", &self.service)
            .field("timestamp", &self.timestamp)
            .field("method", &self.method)
            .field("query", &self.query)
            .field("headers", &self.headers)
            .field("payload", &self.payload)
            .finish()
    }
}

#[cfg(any(test, feature = "testing"))]
/// The result of signing, step by step. None of it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub struct Signature {
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// The string that was signed.
    pub string_to_sign: String,
    /// The signature, lower-case hex.
    pub signature: String,
    /// The complete `Authorization` header value.
    pub authorization: String,
}

/// A signer that caches the derived signing key for the last (secret key, UTC date, service).
///
/// One value can be shared by many threads; steady-state signing is then one HMAC and two
/// SHA-256. The cache is keyed by a fingerprint of the secret key, never a copy of it, and is
/// invisible to callers: the same input gives the same output, cached or not.
#[derive(Default)]
#[allow(unreachable_pub)]
pub struct Signer {
    cache: Mutex<Option<CachedKey>>,
}

struct CachedKey {
    // A changed secret must never reuse an old key: its fingerprint is part of the cache key.
    fingerprint: Fingerprint,
    service: String,
    day: i64,
    date: Date,
    key: hmac::Key,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { .. }")
    }
}

impl Signer {
    /// A signer with an empty key cache.
    #[allow(unreachable_pub)]
    pub fn new() -> Self {
        Self::default()
    }

    #[cfg(any(test, feature = "testing"))]
    /// Signs `input` and returns every step, re-deriving the signing key only when the secret
    /// key, the UTC date or the service differs from the previous call.
    #[allow(unreachable_pub)]
    pub fn sign(&self, input: &SigningInput<'_>) -> Result<Signature, Error> {
        check_inputs(input)?;
        Ok(self.worked(&Fingerprint::of(input.secret_key), input)?.into_signature())
    }

    /// The `Authorization` value for inputs whose headers, method, service and secret id the
    /// caller has already validated ([`crate::RequestConfig::build`] builds them from checked
    /// parts), signed with `credentials` (whose fingerprint keys the cache); only the query,
    /// which any action may write, is checked here.
    pub(crate) fn authorization_prevalidated(
        &self,
        credentials: &Credentials,
        input: &SigningInput<'_>,
    ) -> Result<String, Error> {
        check_query(input.query)?;
        Ok(self.worked(credentials.fingerprint(), input)?.authorization())
    }

    /// Works `input` with the cached key, deriving it first when the cache does not fit. The
    /// lock is held while signing, which spares copying the key out.
    fn worked(&self, fingerprint: &Fingerprint, input: &SigningInput<'_>) -> Result<Worked, Error> {
        let day = input.timestamp.div_euclid(86_400);
        let mut slot = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let fits =
            |c: &&CachedKey| c.day == day && c.fingerprint == *fingerprint && c.service == input.service;
        if let Some(cached) = slot.as_ref().filter(fits) {
            return Ok(Worked::new(input, cached.date, &cached.key));
        }
        let date = Date::from_timestamp(input.timestamp)?;
        let cached = slot.insert(CachedKey {
            fingerprint: *fingerprint,
            service: input.service.to_owned(),
            day,
            date,
            key: derive_key(input.secret_key, date.as_str(), input.service),
        });
        Ok(Worked::new(input, cached.date, &cached.key))
    }
}

/// Signs `input`, deriving the signing key from scratch.
#[cfg(any(test, feature = "testing"))]
#[allow(unreachable_pub)]
pub fn sign_uncached(input: &SigningInput<'_>) -> Result<Signature, Error> {
    check_inputs(input)?;
    let date = Date::from_timestamp(input.timestamp)?;
    let key = derive_key(input.secret_key, date.as_str(), input.service);
    Ok(Worked::new(input, date, &key).into_signature())
}

fn derive_key(secret_key: &str, date: &str, service: &str) -> hmac::Key {
    let mut k_secret = Vec::with_capacity(3 + secret_key.len());
    k_secret.extend_from_slice(b"TC3");
    k_secret.extend_from_slice(secret_key.as_bytes());
    let k_date = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &k_secret), date.as_bytes());
    let k_service = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_date.as_ref()), service.as_bytes());
    let k_signing = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k_service.as_ref()), b"tc3_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// One signing, worked in a single buffer: the start of the `Authorization` value (all of it
/// but the signature), then the canonical request, then the string to sign. The first part
/// becomes the `Authorization` value once the signature is appended, so the hot path allocates
/// one buffer for all of it.
struct Worked {
    buf: Vec<u8>,
    canonical_start: usize,
    // Read only where the steps are handed out (tests and fuzz targets).
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    string_to_sign_start: usize,
    tag: hmac::Tag,
}

impl Worked {
    fn new(input: &SigningInput<'_>, date: Date, key: &hmac::Key) -> Self {
        let mut order = [0usize; MAX_SIGNED_HEADERS];
        let order = header_order(input, &mut order);
        // Bytes, not a String: everything written is UTF-8 already, and hex digits can then be
        // appended without re-checking them.
        let mut buf = Vec::with_capacity(600 + input.query.len() + 2 * input.service.len());
        let (scope, signed_headers) = write_authorization_start(&mut buf, input, date, order);
        let canonical_start = buf.len();
        write_canonical_request(&mut buf, input, order, signed_headers);
        let canonical_hash = digest::digest(&digest::SHA256, &buf[canonical_start..]);
        let string_to_sign_start = buf.len();
        buf.extend_from_slice(ALGORITHM.as_bytes());
        buf.push(b'\n');
        buf.extend_from_slice(Decimal::new(input.timestamp).as_bytes());
        buf.push(b'\n');
        buf.extend_from_within(scope);
        buf.push(b'\n');
        hex_into(&mut buf, canonical_hash.as_ref());
        let tag = hmac::sign(key, &buf[string_to_sign_start..]);
        Worked { buf, canonical_start, string_to_sign_start, tag }
    }

    /// The `Authorization` value: the buffer's first part and the signature.
    fn authorization(mut self) -> String {
        self.buf.truncate(self.canonical_start);
        self.buf.extend_from_slice(b", Signature=");
        hex_into(&mut self.buf, self.tag.as_ref());
        // Only UTF-8 text and ASCII were written.
        String::from_utf8(self.buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    #[cfg(any(test, feature = "testing"))]
    fn into_signature(self) -> Signature {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let canonical_request = text(&self.buf[self.canonical_start..self.string_to_sign_start]);
        let string_to_sign = text(&self.buf[self.string_to_sign_start..]);
        let authorization = self.authorization();
        let signature = authorization[authorization.len() - 64..].to_owned();
        Signature { canonical_request, string_to_sign, signature, authorization }
    }
}

/// The indices of the signed headers sorted by lower-cased name. Few headers are signed, so
/// sorting on the stack avoids an allocation.
fn header_order<'o>(input: &SigningInput<'_>, order: &'o mut [usize; MAX_SIGNED_HEADERS]) -> &'o [usize] {
    let order = &mut order[..input.headers.len()];
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (input.headers[a].0.bytes(), input.headers[b].0.bytes());
        a.map(|c| c.to_ascii_lowercase()).cmp(b.map(|c| c.to_ascii_lowercase()))
    });
    order
}

/// Writes `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b` and
/// returns where the scope and the signed header names are in `buf`.
fn write_authorization_start(
    buf: &mut Vec<u8>,
    input: &SigningInput<'_>,
    date: Date,
    order: &[usize],
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    buf.extend_from_slice(ALGORITHM.as_bytes());
    buf.extend_from_slice(b" Credential=");
    buf.extend_from_slice(input.secret_id.as_bytes());
    buf.push(b'/');
    let scope_start = buf.len();
    buf.extend_from_slice(&date.0);
    buf.push(b'/');
    buf.extend_from_slice(input.service.as_bytes());
    buf.extend_from_slice(b"/tc3_request");
    let scope = scope_start..buf.len();
    buf.extend_from_slice(b", SignedHeaders=");
    let signed_start = buf.len();
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            buf.push(b';');
        }
        buf.extend_from_slice(input.headers[i].0.as_bytes());
    }
    buf[signed_start..].make_ascii_lowercase();
    (scope, signed_start..buf.len())
}

/// Writes the canonical request: `METHOD\n/\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nPAYLOAD_HASH`,
/// the signed header names copied from `signed_headers` in `buf`.
fn write_canonical_request(
    buf: &mut Vec<u8>,
    input: &SigningInput<'_>,
    order: &[usize],
    signed_headers: std::ops::Range<usize>,
) {
    buf.extend_from_slice(input.method.as_bytes());
    buf.extend_from_slice(b"\n/\n");
    buf.extend_from_slice(input.query.as_bytes());
    buf.push(b'\n');
    let headers_start = buf.len();
    for &i in order {
        let (name, value) = input.headers[i];
        buf.extend_from_slice(name.as_bytes());
        buf.push(b':');
        buf.extend_from_slice(value.trim().as_bytes());
        buf.push(b'\n');
    }
    // Names and values are lower-cased as in the public signature example; only ASCII letters
    // change, so UTF-8 in a value passes through untouched. One pass over the whole block is
    // cheaper than one per header.
    buf[headers_start..].make_ascii_lowercase();
    buf.push(b'\n');
    buf.extend_from_within(signed_headers);
    buf.push(b'\n');
    let payload_hash = match input.payload {
        Payload::Bytes(body) => digest::digest(&digest::SHA256, body),
        Payload::Unsigned => digest::digest(&digest::SHA256, UNSIGNED_PAYLOAD.as_bytes()),
    };
    hex_into(buf, payload_hash.as_ref());
}

fn no_date(timestamp: i64) -> Error {
    Error::InvalidInput(format!("timestamp {timestamp} has no UTC date in years 0 to 9999"))
}

#[cfg(any(test, feature = "testing"))]
/// Rejects what would make the canonical request ambiguous or the headers unsendable.
fn check_inputs(input: &SigningInput<'_>) -> Result<(), Error> {
    let bad = |what: &str| Err(Error::InvalidInput(what.to_owned()));
    if input.headers.is_empty() || input.headers.len() > MAX_SIGNED_HEADERS {
        return bad("between 1 and 16 headers must be signed");
    }
    if input.secret_id.is_empty() || !input.secret_id.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("the secret id must be non-empty printable ASCII without spaces");
    }
    if !is_token(input.method) || !is_token(input.service) || input.service.contains('/') {
        return bad("method and service must be HTTP tokens");
    }
    check_query(input.query)?;
    for (i, (name, value)) in input.headers.iter().enumerate() {
        if !is_token(name) {
            return Err(Error::InvalidInput(format!("header name {name:?} is not an HTTP token")));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(Error::InvalidInput(format!("header {name} has a line break or NUL in its value")));
        }
        if input.headers[..i].iter().any(|(other, _)| other.eq_ignore_ascii_case(name)) {
            return Err(Error::InvalidInput(format!("header {name} is given twice")));
        }
    }
    Ok(())
}

fn check_query(query: &str) -> Result<(), Error> {
    if query.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::InvalidInput("the query must be encoded printable ASCII".to_owned()))
    }
}

#[cfg(any(test, feature = "testing"))]
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| TOKEN[b as usize])
}

#[cfg(any(test, feature = "testing"))]
/// The bytes allowed in an HTTP token (RFC 9110 `tchar`), as a table: checked per byte on the
/// signing path.
const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// Each byte's two lower-case hex digits.
const HEX: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [DIGITS[b >> 4], DIGITS[b & 15]];
        b += 1;
    }
    table
};

fn hex_into(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        out.extend_from_slice(&HEX[b as usize]);
    }
}

/// `00` to `99`.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        table[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    table
};

/// An integer written in decimal on the stack, so formatting it costs no allocation.
pub(crate) struct Decimal {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    // Inlined: a query writes one per sequence item.
    #[inline]
    pub(crate) fn new(n: i64) -> Self {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        let mut rest = n.unsigned_abs();
        // Two digits per division halves the chain of dependent divisions.
        while rest >= 100 {
            start -= 2;
            buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[(rest % 100) as usize]);
            rest /= 100;
        }
        if rest >= 10 {
            start -= 2;
            buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[rest as usize]);
        } else {
            start -= 1;
            buf[start] = b'0' + rest as u8;
        }
        if n < 0 {
            start -= 1;
            buf[start] = b'-';
        }
        Decimal { buf, start }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and '-' are written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("0")
    }

    /// Appends the digits to `out`, sparing the UTF-8 check of [`as_str`](Self::as_str).
    #[inline]
    pub(crate) fn push_to(&self, out: &mut String) {
        for &b in self.as_bytes() {
            out.push(char::from(b));
        }
    }
}

/// A UTC calendar date as `YYYY-MM-DD`, kept inline so copying it costs no allocation.
#[derive(Clone, Copy)]
pub(crate) struct Date([u8; 10]);

impl Date {
    /// The UTC date of `timestamp`; years outside 0..=9999 cannot be written as `YYYY-MM-DD`.
    pub(crate) fn from_timestamp(timestamp: i64) -> Result<Self, Error> {
        let date =
            time::OffsetDateTime::from_unix_timestamp(timestamp).map_err(|_| no_date(timestamp))?.date();
        let year = date.year();
        if !(0..=9999).contains(&year) {
            return Err(no_date(timestamp));
        }
        let (month, day) = (u8::from(date.month()) as u32, date.day() as u32);
        let mut out = [0u8; 10];
        let digits = |n: u32, slot: &mut [u8]| {
            let mut n = n;
            for b in slot.iter_mut().rev() {
                *b = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        digits(year as u32, &mut out[0..4]);
        out[4] = b'-';
        digits(month, &mut out[5..7]);
        out[7] = b'-';
        digits(day, &mut out[8..10]);
        Ok(Date(out))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and '-' are ever written.
        std::str::from_utf8(&self.0).unwrap_or("0000-00-00")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(timestamp: i64, secret_key: &'a str, headers: &'a [(&'a str, &'a str)]) -> SigningInput<'a> {
        SigningInput {
            secret_id: "AKIDEXAMPLE",
            secret_key,
            service: "cvm",
            timestamp,
            method: "POST",
            query: "",
            headers,
            payload: Payload::Bytes(b"{}"),
        }
    }

    const HEADERS: &[(&str, &str)] =
        &[("Content-Type", "application/json"), ("Host", "cvm.tencentcloudapi.com")];

    fn scope_date(sig: &Signature) -> &str {
        sig.string_to_sign.split('\n').nth(2).unwrap().split('/').next().unwrap()
    }

    #[test]
    fn decimal_writes_every_digit_and_the_sign() {
        for n in [0, 7, 9, 10, 99, 100, 101, 999, 1_000, 1_700_000_000, -1, -10, -100, i64::MAX, i64::MIN] {
            assert_eq!(Decimal::new(n).as_str(), n.to_string());
        }
    }

    #[test]
    fn scope_date_is_utc_on_both_sides_of_midnight() {
        let before = sign_uncached(&input(1_704_067_199, "k", HEADERS)).unwrap();
        let after = sign_uncached(&input(1_704_067_200, "k", HEADERS)).unwrap();
        assert_eq!(scope_date(&before), "2023-12-31");
        assert_eq!(scope_date(&after), "2024-01-01");
    }

    #[test]
    fn leap_day_and_post_2038_dates() {
        assert_eq!(Date::from_timestamp(1_709_164_800).unwrap().as_str(), "2024-02-29");
        assert_eq!(Date::from_timestamp(1_709_251_199).unwrap().as_str(), "2024-02-29");
        assert_eq!(Date::from_timestamp(2_147_483_648).unwrap().as_str(), "2038-01-19");
        assert_eq!(Date::from_timestamp(4_102_444_800).unwrap().as_str(), "2100-01-01");
        assert_eq!(Date::from_timestamp(253_402_300_799).unwrap().as_str(), "9999-12-31");
        assert_eq!(Date::from_timestamp(-1).unwrap().as_str(), "1969-12-31");
    }

    #[test]
    fn unrepresentable_timestamps_are_errors() {
        for ts in [253_402_300_800, i64::MAX, i64::MIN, -62_167_219_201] {
            let err = sign_uncached(&input(ts, "k", HEADERS)).unwrap_err();
            assert!(matches!(&err, Error::InvalidInput(m) if m.contains(&ts.to_string())), "{ts}: {err:?}");
            assert!(Signer::new().sign(&input(ts, "k", HEADERS)).is_err());
        }
    }

    #[test]
    fn cache_is_invisible_across_midnight_and_secret_change() {
        let signer = Signer::new();
        let cases = [
            (1_704_067_199, "k1"),
            (1_704_067_200, "k1"),
            (1_704_067_201, "k1"),
            (1_704_067_201, "k2"),
            (1_704_067_201, "k1"),
            (1_704_067_199, "k1"),
        ];
        for (ts, key) in cases {
            let cached = signer.sign(&input(ts, key, HEADERS)).unwrap();
            assert_eq!(cached, sign_uncached(&input(ts, key, HEADERS)).unwrap(), "{ts} {key}");
        }
        let a = signer.sign(&input(1_704_067_201, "k1", HEADERS)).unwrap();
        let b = signer.sign(&input(1_704_067_201, "k2", HEADERS)).unwrap();
        assert_ne!(a.signature, b.signature);
    }

    #[test]
    fn cache_keys_on_service() {
        let signer = Signer::new();
        let cvm = signer.sign(&input(1_700_000_000, "k", HEADERS)).unwrap();
        let other =
            signer.sign(&SigningInput { service: "cbs", ..input(1_700_000_000, "k", HEADERS) }).unwrap();
        assert_ne!(cvm.signature, other.signature);
        assert_eq!(
            other,
            sign_uncached(&SigningInput { service: "cbs", ..input(1_700_000_000, "k", HEADERS) }).unwrap()
        );
    }

    #[test]
    fn non_ascii_secret_key_signs_its_utf8_bytes() {
        let sig = sign_uncached(&input(1_700_000_000, "密钥-clé-🔑", HEADERS)).unwrap();
        let ascii = sign_uncached(&input(1_700_000_000, "clé", HEADERS)).unwrap();
        assert_eq!(sig.signature.len(), 64);
        assert_ne!(sig.signature, ascii.signature);
        assert_eq!(sig, Signer::new().sign(&input(1_700_000_000, "密钥-clé-🔑", HEADERS)).unwrap());
    }

    #[test]
    fn headers_are_sorted_lowercased_and_trimmed() {
        let headers = [("X-TC-Action", " DeleteKeyPairs "), ("Host", "H.example"), ("Content-Type", "A/B")];
        let sig = sign_uncached(&input(1_700_000_000, "k", &headers)).unwrap();
        assert!(sig.canonical_request.contains(
            "\ncontent-type:a/b\nhost:h.example\nx-tc-action:deletekeypairs\n\ncontent-type;host;x-tc-action\n"
        ));
        assert!(sig.authorization.contains("SignedHeaders=content-type;host;x-tc-action, "));
    }

    #[test]
    fn one_to_max_signed_headers_are_signed() {
        let names: Vec<String> = (0..=MAX_SIGNED_HEADERS).map(|i| format!("x-h{i}")).collect();
        let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        assert!(sign_uncached(&input(1, "k", &headers[..MAX_SIGNED_HEADERS])).is_ok());
        for wrong in [&headers[..0], &headers[..]] {
            let err = sign_uncached(&input(1, "k", wrong)).unwrap_err();
            assert!(matches!(err, Error::InvalidInput(_)), "{} headers: {err:?}", wrong.len());
        }
    }

    #[test]
    fn unsigned_payload_hashes_the_literal() {
        let body_a = SigningInput { payload: Payload::Unsigned, ..input(1_700_000_000, "k", HEADERS) };
        let sig = sign_uncached(&body_a).unwrap();
        let literal = SigningInput { payload: Payload::Bytes(b"UNSIGNED-PAYLOAD"), ..body_a };
        assert_eq!(sig, sign_uncached(&literal).unwrap());
    }

    #[test]
    fn ambiguous_or_unsendable_inputs_are_rejected() {
        let dup = [("Host", "a"), ("host", "b")];
        let crlf = [("Host", "a\r\nX-Evil: 1")];
        let bad_name = [("Ho st", "a")];
        for headers in [&dup[..], &crlf[..], &bad_name[..], &[][..]] {
            assert!(
                matches!(sign_uncached(&input(1, "k", headers)), Err(Error::InvalidInput(_))),
                "{headers:?}"
            );
        }
        let id = SigningInput { secret_id: "AKID x", ..input(1, "k", HEADERS) };
        assert!(sign_uncached(&id).is_err());
        let query = SigningInput { query: "a=b c", ..input(1, "k", HEADERS) };
        assert!(sign_uncached(&query).is_err());
    }

    #[test]
    fn debug_hides_the_secret_key() {
        let shown = format!("{:?} {:?}", input(1, "s3cr3t-KEY", HEADERS), Signer::new());
        assert!(!shown.contains("s3cr3t-KEY"), "{shown}");
        let signer = Signer::new();
        signer.sign(&input(1, "s3cr3t-KEY", HEADERS)).unwrap();
        assert!(!format!("{signer:?}").contains("s3cr3t"));
    }
}
