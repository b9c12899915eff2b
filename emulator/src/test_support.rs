//! What the emulator's tests share: the signing and query vectors (`tests/vectors/`, copies of
//! the library's, checked identical by `.ci/run`), and a small test-only client that builds and
//! signs requests with the verifier's own steps.
//!
//! The client reuses [`auth`]'s steps, so it cannot catch a bug in them: the vectors do that
//! (`auth::tests`), and the library's tests prove a real client and the emulator agree.

use serde::Deserialize;
use serde_json::Value;

use crate::auth::{self, UNSIGNED_PAYLOAD};
use crate::wire::ParsedRequest;
use crate::{unix_now, EmulatorConfig};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile<T> {
    #[allow(dead_code)]
    about: String,
    cases: Vec<T>,
}

/// One case of `tests/vectors/tc3-signing.json`: the inputs of one signed request and what
/// each step must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SigningVector {
    pub(crate) name: String,
    #[allow(dead_code)]
    pub(crate) source: String,
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) service: String,
    #[allow(dead_code)]
    pub(crate) action: String,
    pub(crate) timestamp: i64,
    pub(crate) method: String,
    #[allow(dead_code)]
    pub(crate) host: String,
    pub(crate) query: String,
    #[allow(dead_code)]
    pub(crate) content_type: String,
    pub(crate) signed_headers: Vec<(String, String)>,
    pub(crate) unsigned_payload: bool,
    pub(crate) payload_base64: String,
    pub(crate) expected: Expected,
    pub(crate) api_headers: Vec<(String, String)>,
}

/// The steps of one signing vector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expected {
    pub(crate) canonical_request: String,
    pub(crate) string_to_sign: String,
    pub(crate) signature: String,
    pub(crate) authorization: String,
}

/// One case of `tests/vectors/query-encoding.json`: parameters in order and the exact query
/// the official SDK sends for them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueryVector {
    pub(crate) name: String,
    pub(crate) params: Vec<(String, Value)>,
    pub(crate) expected_query: String,
}

fn vectors<T: serde::de::DeserializeOwned>(file: &str) -> Vec<T> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed: VectorFile<T> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!parsed.cases.is_empty(), "{}: no cases", path.display());
    parsed.cases
}

pub(crate) fn signing_vectors() -> Vec<SigningVector> {
    vectors("tc3-signing.json")
}

pub(crate) fn query_vectors() -> Vec<QueryVector> {
    vectors("query-encoding.json")
}

impl SigningVector {
    pub(crate) fn payload(&self) -> Vec<u8> {
        crate::keys::base64_decode(&self.payload_base64)
            .unwrap_or_else(|| panic!("{}: payload_base64", self.name))
    }

    /// The request as the official SDK sent it: its signed headers, its `X-TC-*` headers (an
    /// `X-TC-Timestamp` added where the case lists none), the Authorization and the body.
    pub(crate) fn request(&self) -> ParsedRequest {
        let target = if self.query.is_empty() { "/".to_owned() } else { format!("/?{}", self.query) };
        let mut headers: Vec<(String, String)> =
            self.signed_headers.iter().chain(&self.api_headers).cloned().collect();
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("X-TC-Timestamp")) {
            headers.push(("X-TC-Timestamp".into(), self.timestamp.to_string()));
        }
        headers.push(("Authorization".into(), self.expected.authorization.clone()));
        ParsedRequest { method: self.method.clone(), target, minor_version: 1, headers, body: self.payload() }
    }

    /// An emulator configuration that accepts exactly this case's credentials.
    pub(crate) fn config(&self) -> EmulatorConfig {
        let token = self.api_headers.iter().find(|(name, _)| name == "X-TC-Token").map(|(_, v)| v.clone());
        EmulatorConfig {
            secret_id: self.secret_id.clone(),
            secret_key: self.secret_key.clone(),
            token,
            ..EmulatorConfig::default()
        }
    }
}

/// Form encoding: `A-Z a-z 0-9 - _ . ~` kept, space as `+`, every other byte as `%XX`.
fn form_encode(out: &mut String, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// The flattened `(name, value)` pairs of one parameter: arrays as `Name.N`, objects as
/// `Name.Field`, nested as deep as they go; nulls are left out.
pub(crate) fn flatten(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(i, v)| flatten(&format!("{name}.{i}"), v, out))
        }
        Value::Object(fields) => {
            fields.iter().for_each(|(field, v)| flatten(&format!("{name}.{field}"), v, out))
        }
        Value::String(text) => out.push((name.to_owned(), text.clone())),
        other => out.push((name.to_owned(), other.to_string())),
    }
}

/// A GET query for `params`, in their order.
pub(crate) fn encode_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a Value)>) -> String {
    let mut pairs = Vec::new();
    for (name, value) in params {
        flatten(name, value, &mut pairs);
    }
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode(&mut out, name);
        out.push('=');
        form_encode(&mut out, value);
    }
    out
}

/// A request for the emulator, signed by [`TestRequest::sign`].
#[derive(Debug, Clone)]
pub(crate) struct TestRequest {
    pub(crate) method: &'static str,
    pub(crate) action: &'static str,
    /// A JSON object: the POST body, or the GET query.
    pub(crate) params: Value,
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) token: Option<String>,
    pub(crate) timestamp: i64,
    pub(crate) region: Option<&'static str>,
    /// Signs `x-tc-action` too, as the library does by default.
    pub(crate) sign_action: bool,
    pub(crate) unsigned_payload: bool,
    /// The service of the credential scope.
    pub(crate) service: &'static str,
    /// `X-TC-Version`.
    pub(crate) version: &'static str,
}

impl TestRequest {
    /// `action` with `params` over `method`, for the default credentials, now, in ap-guangzhou.
    pub(crate) fn new(method: &'static str, action: &'static str, params: Value) -> TestRequest {
        TestRequest {
            method,
            action,
            params,
            secret_id: EmulatorConfig::DEFAULT_SECRET_ID.into(),
            secret_key: EmulatorConfig::DEFAULT_SECRET_KEY.into(),
            token: None,
            timestamp: unix_now(),
            region: Some("ap-guangzhou"),
            sign_action: true,
            unsigned_payload: false,
            service: "cvm",
            version: "2017-03-12",
        }
    }

    /// The STS `action` with `params` over POST, as [`TestRequest::new`] otherwise.
    pub(crate) fn sts(action: &'static str, params: Value) -> TestRequest {
        TestRequest { service: "sts", version: "2018-08-13", ..TestRequest::new("POST", action, params) }
    }

    /// The same request signed with temporary credentials: `(TmpSecretId, TmpSecretKey, Token)`.
    pub(crate) fn with_temporary(self, (id, key, token): (&str, &str, &str)) -> TestRequest {
        TestRequest { secret_id: id.into(), secret_key: key.into(), token: Some(token.into()), ..self }
    }

    /// The signed request, as the emulator would receive it.
    pub(crate) fn sign(&self) -> ParsedRequest {
        let (target, body, content_type) = if self.method == "GET" {
            let fields = self.params.as_object().expect("params are an object");
            let query = encode_query(fields.iter().map(|(name, value)| (name.as_str(), value)));
            (format!("/?{query}"), Vec::new(), "application/x-www-form-urlencoded")
        } else {
            ("/".to_owned(), self.params.to_string().into_bytes(), "application/json")
        };
        let mut signed = vec![("content-type", content_type), ("host", "127.0.0.1")];
        if self.sign_action {
            signed.push(("x-tc-action", self.action));
        }
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let payload = if self.unsigned_payload { UNSIGNED_PAYLOAD.as_bytes() } else { &body };
        let date = auth::utc_date(self.timestamp).expect("a timestamp within years 0 to 9999");
        let canonical = auth::canonical_request(self.method, query, &signed, payload);
        let signature = auth::signature(
            &self.secret_key,
            &date,
            self.service,
            &auth::string_to_sign(self.timestamp, &date, self.service, &canonical),
        );
        let names: Vec<&str> = signed.iter().map(|(name, _)| *name).collect();
        let mut headers: Vec<(String, String)> = vec![
            ("Host".into(), "127.0.0.1".into()),
            ("Content-Type".into(), content_type.into()),
            ("X-TC-Action".into(), self.action.into()),
            ("X-TC-Version".into(), self.version.into()),
            ("X-TC-Timestamp".into(), self.timestamp.to_string()),
        ];
        if let Some(region) = self.region {
            headers.push(("X-TC-Region".into(), region.into()));
        }
        if let Some(token) = &self.token {
            headers.push(("X-TC-Token".into(), token.clone()));
        }
        if self.unsigned_payload {
            headers.push(("X-TC-Content-SHA256".into(), UNSIGNED_PAYLOAD.into()));
        }
        headers.push((
            "Authorization".into(),
            format!(
                "{} Credential={}/{date}/{}/tc3_request, SignedHeaders={}, Signature={signature}",
                auth::ALGORITHM,
                self.secret_id,
                self.service,
                names.join(";")
            ),
        ));
        ParsedRequest { method: self.method.into(), target, minor_version: 1, headers, body }
    }

    /// The signed request's bytes on the wire.
    pub(crate) fn wire(&self) -> Vec<u8> {
        to_wire(&self.sign())
    }
}

/// `request` as bytes on the wire, with a `Content-Length` that matches its body (any given one
/// is replaced), so a test may change the body after signing.
pub(crate) fn to_wire(request: &ParsedRequest) -> Vec<u8> {
    let mut head = format!("{} {} HTTP/1.{}\r\n", request.method, request.target, request.minor_version);
    for (name, value) in request.headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("Content-Length")) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !request.body.is_empty() || request.method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", request.body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&request.body);
    out
}

/// Replaces every header named `name` (case-insensitive) with one `name: value`.
pub(crate) fn set_header(request: &mut ParsedRequest, name: &str, value: &str) {
    request.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    request.headers.push((name.to_owned(), value.to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_request;

    #[test]
    fn the_encoder_writes_every_query_vector_exactly() {
        for case in query_vectors() {
            let query = encode_query(case.params.iter().map(|(name, value)| (name.as_str(), value)));
            assert_eq!(query, case.expected_query, "{}", case.name);
        }
    }

    #[test]
    fn test_requests_verify_in_every_shape() {
        let config = EmulatorConfig::default();
        for method in ["GET", "POST"] {
            for sign_action in [false, true] {
                for unsigned_payload in [false, true] {
                    let request = TestRequest {
                        sign_action,
                        unsigned_payload,
                        ..TestRequest::new(
                            method,
                            "DeleteKeyPairs",
                            serde_json::json!({"KeyIds": ["skey-aaaaaaaa"]}),
                        )
                    };
                    let received = parse_request(&request.wire()).expect("parses").0;
                    let permanent = |id: &str| auth::Signer::permanent(&config, id);
                    assert_eq!(
                        auth::verify(&received, request.timestamp, permanent).map(|s| s.name),
                        Ok("cvm"),
                        "{method} {sign_action} {unsigned_payload}"
                    );
                }
            }
        }
    }
}
