//! Oracles written from the documented rules, sharing no code with the library, so the property
//! tests (`tests/properties.rs`) and the fuzz targets (`fuzz/`) can hold the crate against them.
//!
//! Both include this file with `#[path]`; it needs `cvm_keypairs`, `serde`, `serde_json` and
//! `ring`.

use cvm_keypairs::testing::{Payload, Signature, SigningInput};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The most headers one signature may cover.
pub const MAX_SIGNED_HEADERS: usize = 16;
/// What is hashed in place of an unsigned body.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// One signer input, owned, so a generator can build and change it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignCase {
    /// The secret id.
    pub secret_id: String,
    /// The secret key.
    pub secret_key: String,
    /// The service.
    pub service: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The HTTP method.
    pub method: String,
    /// The canonical query string.
    pub query: String,
    /// The headers to sign, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// The body; `None` signs `UNSIGNED-PAYLOAD`.
    pub payload: Option<Vec<u8>>,
}

impl SignCase {
    /// Calls `f` with this case as a `SigningInput`.
    pub fn with<R>(&self, f: impl FnOnce(&SigningInput<'_>) -> R) -> R {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        f(&SigningInput {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            service: &self.service,
            timestamp: self.timestamp,
            method: &self.method,
            query: &self.query,
            headers: &headers,
            payload: match &self.payload {
                Some(body) => Payload::Bytes(body),
                None => Payload::Unsigned,
            },
        })
    }
}

/// Whether the signer must accept `input`: 1 to `MAX_SIGNED_HEADERS` headers; a non-empty
/// printable ASCII secret id; method, service and header names are HTTP tokens (the service
/// without `/`); the query is printable ASCII; header values hold no CR, LF or NUL; header names
/// are unique ignoring case; and the timestamp has a UTC date in years 0 to 9999.
pub fn signable(input: &SigningInput<'_>) -> bool {
    let token = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let graphic = |s: &str| s.bytes().all(|b| (0x21..0x7f).contains(&b));
    let headers = input.headers;
    (1..=MAX_SIGNED_HEADERS).contains(&headers.len())
        && !input.secret_id.is_empty()
        && graphic(input.secret_id)
        && token(input.method)
        && token(input.service)
        && !input.service.contains('/')
        && graphic(input.query)
        && headers.iter().all(|(name, value)| token(name) && !value.contains(['\r', '\n', '\0']))
        && headers
            .iter()
            .enumerate()
            .all(|(i, (a, _))| headers[..i].iter().all(|(b, _)| !a.eq_ignore_ascii_case(b)))
        && utc_date(input.timestamp).is_some()
}

/// Checks every step of `sig` against `input`: the canonical request splits back into method,
/// `/`, query, the sorted `name:value` lines (names lower-cased, values trimmed and their
/// ASCII letters lower-cased), a blank line, the signed names and the payload hash; the string
/// to sign names the UTC date and hashes the canonical request; the `Authorization` has the
/// documented shape and carries the signature.
pub fn check_signature(input: &SigningInput<'_>, sig: &Signature) -> Result<(), String> {
    let mut headers: Vec<(String, String)> =
        input.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_ascii_lowercase())).collect();
    headers.sort();
    let mut expected = vec![input.method.to_owned(), "/".to_owned(), input.query.to_owned()];
    expected.extend(headers.iter().map(|(n, v)| format!("{n}:{v}")));
    expected.push(String::new());
    let names = headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    expected.push(names.clone());
    expected.push(hex_sha256(match input.payload {
        Payload::Bytes(body) => body,
        Payload::Unsigned => UNSIGNED_PAYLOAD.as_bytes(),
    }));
    let lines: Vec<&str> = sig.canonical_request.split('\n').collect();
    if lines != expected {
        return Err(format!("canonical request {:?}, expected lines {expected:?}", sig.canonical_request));
    }

    let date = utc_date(input.timestamp).ok_or("signed a timestamp without a four-digit UTC year")?;
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{date}/{}/tc3_request\n{}",
        input.timestamp,
        input.service,
        hex_sha256(sig.canonical_request.as_bytes())
    );
    if sig.string_to_sign != string_to_sign {
        return Err(format!("string to sign {:?}, expected {string_to_sign:?}", sig.string_to_sign));
    }
    check_authorization(&sig.authorization, input.secret_id, &date, input.service, &names)?;
    if !sig.authorization.ends_with(&format!("Signature={}", sig.signature)) {
        return Err(format!("the Authorization does not carry the signature {:?}", sig.signature));
    }
    Ok(())
}

/// Checks `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request,
/// SignedHeaders=<names>, Signature=<64 lower-case hex digits>`.
pub fn check_authorization(
    auth: &str,
    secret_id: &str,
    date: &str,
    service: &str,
    names: &str,
) -> Result<(), String> {
    let prefix = format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, SignedHeaders={names}, Signature="
    );
    let signature =
        auth.strip_prefix(&prefix).ok_or_else(|| format!("{auth:?} does not start {prefix:?}"))?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("signature {signature:?} is not 64 lower-case hex digits"));
    }
    Ok(())
}

/// The `YYYY-MM-DD` UTC date of a Unix timestamp, by the civil-from-days algorithm; `None`
/// outside years 0 to 9999.
pub fn utc_date(timestamp: i64) -> Option<String> {
    let z = timestamp.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (0..=9999).contains(&year).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a form-encoded query may hold: `A-Z a-z 0-9 - _ . ~`, `+` for space, `%` escapes,
/// and the `=` and `&` separators.
pub fn allowed_in_query(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~+%=&".contains(&b)
}

/// Decodes one form-encoded component; `None` if it is not what the encoder writes (a stray
/// `=` or `&`, a lower-case or broken escape, or bytes that are not UTF-8).
pub fn form_decode(s: &str) -> Option<String> {
    let upper_hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let (hi, lo) = (upper_hex(*bytes.get(i + 1)?)?, upper_hex(*bytes.get(i + 2)?)?);
                out.push(hi << 4 | lo);
                i += 2;
            }
            b'=' | b'&' => return None,
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Decodes a whole query into its `(name, value)` pairs.
pub fn parse_form(query: &str) -> Option<Vec<(String, String)>> {
    if query.is_empty() {
        return Some(Vec::new());
    }
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// Parameters as a map in the order given, as an action's struct serialises its fields: what
/// the query flattener is given.
pub struct Ordered<'a, V>(pub &'a [(String, V)]);

impl<V: Serialize> Serialize for Ordered<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The flattening rule: `Name.N` (zero-based) for arrays, `Name.Field` for objects,
/// `true`/`false`, numbers as JSON writes them (`1.0` stays `1.0`), strings as they are,
/// nulls left out.
pub fn flatten(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((name.to_owned(), b.to_string())),
        Value::Number(n) => out.push((name.to_owned(), n.to_string())),
        Value::String(s) => out.push((name.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{name}.{i}"), item, out);
            }
        }
        Value::Object(fields) => {
            for (field, item) in fields {
                flatten(&format!("{name}.{field}"), item, out);
            }
        }
    }
}

/// `skey-[0-9a-z]{8}`, checked character by character.
pub fn is_key_id(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.len() == 13
        && chars[..5] == ['s', 'k', 'e', 'y', '-']
        && chars[5..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
}
