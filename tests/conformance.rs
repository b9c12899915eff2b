//! Every `tests/vectors/*.json` file, every case: the signer and the query encoder must match
//! the official SDK and the public signature example byte for byte.
//!
//! A case with `expected.canonical_request` checks the signer step by step; one with
//! `expected_query` checks the serde query flattener. Signing cases that list the SDK's
//! `api_headers` are also rebuilt through `RequestConfig::build`, so the whole request (headers,
//! URL, body and Authorization) is proven, not only the signer. A case of any other shape, or
//! with a field this test does not know, fails the run: nothing is skipped.

use std::path::Path;

use cvm_keypairs::testing::{self, Payload, Signer, SigningInput};
use cvm_keypairs::{Action, Credentials, Endpoint, Error, Language, Method, RequestConfig};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

#[path = "support/base64.rs"]
mod base64;
#[allow(dead_code)]
#[path = "support/check.rs"]
mod check;
use base64::base64_decode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    #[allow(dead_code)]
    about: String,
    cases: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningCase {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    source: String,
    secret_id: String,
    secret_key: String,
    service: String,
    action: String,
    timestamp: i64,
    method: String,
    host: String,
    query: String,
    content_type: String,
    signed_headers: Vec<(String, String)>,
    unsigned_payload: bool,
    payload_base64: String,
    expected: Expected,
    api_headers: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    canonical_request: String,
    string_to_sign: String,
    signature: String,
    authorization: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryCase {
    name: String,
    params: Vec<(String, Value)>,
    expected_query: String,
}

#[test]
fn every_vector_file_and_case_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());

    let mut failures = Vec::new();
    for file in &files {
        let shown = file.file_name().unwrap().to_string_lossy().into_owned();
        let checked = check_file(file, &mut failures);
        println!("{shown}: {checked} cases");
        if checked == 0 {
            failures.push(format!("{shown}: no cases"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

fn check_file(path: &Path, failures: &mut Vec<String>) -> usize {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let parsed = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice::<VectorFile>(&bytes).map_err(|e| e.to_string()));
    let cases = match parsed {
        Ok(f) => f.cases,
        Err(e) => {
            failures.push(format!("{file}: not a vector file: {e}"));
            return 0;
        }
    };
    for (i, case) in cases.iter().enumerate() {
        let label =
            format!("{file} case {i} ({})", case.get("name").and_then(Value::as_str).unwrap_or("unnamed"));
        let result = if case.pointer("/expected/canonical_request").is_some() {
            serde_json::from_value::<SigningCase>(case.clone())
                .map_err(|e| e.to_string())
                .map(|c| check_signing(&c))
        } else if case.get("expected_query").is_some() {
            serde_json::from_value::<QueryCase>(case.clone())
                .map_err(|e| e.to_string())
                .map(|c| check_query(&c))
        } else {
            Err("has neither expected.canonical_request nor expected_query".to_owned())
        };
        match result {
            Ok(errors) => failures.extend(errors.into_iter().map(|e| format!("{label}: {e}"))),
            Err(e) => failures.push(format!("{label}: cannot handle this case: {e}")),
        }
    }
    cases.len()
}

fn check_query(case: &QueryCase) -> Vec<String> {
    match testing::query(&check::Ordered(&case.params)) {
        Ok(got) if got == case.expected_query => Vec::new(),
        Ok(got) => {
            vec![format!("{}: query\n  got      {got}\n  expected {}", case.name, case.expected_query)]
        }
        Err(e) => vec![format!("{}: the flattener refused the parameters: {e}", case.name)],
    }
}

fn check_signing(case: &SigningCase) -> Vec<String> {
    let mut errors = Vec::new();
    let payload = match base64_decode(&case.payload_base64) {
        Some(p) => p,
        None => return vec!["payload_base64 is not base64".to_owned()],
    };
    let headers: Vec<(&str, &str)> =
        case.signed_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let input = SigningInput {
        secret_id: &case.secret_id,
        secret_key: &case.secret_key,
        service: &case.service,
        timestamp: case.timestamp,
        method: &case.method,
        query: &case.query,
        headers: &headers,
        payload: if case.unsigned_payload { Payload::Unsigned } else { Payload::Bytes(&payload) },
    };
    let cached = Signer::new();
    for (how, result) in [("uncached", testing::sign_uncached(&input)), ("cached", cached.sign(&input))] {
        match result {
            Err(e) => errors.push(format!("{how} signer failed: {e}")),
            Ok(sig) => {
                let e = &case.expected;
                for (step, got, expected) in [
                    ("canonical request", &sig.canonical_request, &e.canonical_request),
                    ("string to sign", &sig.string_to_sign, &e.string_to_sign),
                    ("signature", &sig.signature, &e.signature),
                    ("authorization", &sig.authorization, &e.authorization),
                ] {
                    if got != expected {
                        errors.push(format!(
                            "{how} {step} differs\n  got      {got:?}\n  expected {expected:?}"
                        ));
                    }
                }
            }
        }
    }
    if !case.api_headers.is_empty() {
        if let Err(e) = check_built_request(case, &payload) {
            errors.push(format!("built request: {e}"));
        }
    }
    errors
}

/// An action that sends a case's parameters exactly as the SDK did: for POST its JSON body
/// verbatim, for GET the `(name, value)` pairs of its query, in order, which the flattener
/// must encode back into the same query.
struct Recorded {
    name: &'static str,
    body: Option<Box<RawValue>>,
    pairs: Vec<(String, String)>,
}

impl Serialize for Recorded {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.body {
            Some(raw) => raw.serialize(s),
            None => check::Ordered(&self.pairs).serialize(s),
        }
    }
}

impl Action for Recorded {
    type Output = serde::de::IgnoredAny;

    fn name(&self) -> &'static str {
        self.name
    }
}

fn check_built_request(case: &SigningCase, payload: &[u8]) -> Result<(), String> {
    let api = |name: &str| case.api_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let names: Vec<&str> = case.signed_headers.iter().map(|(n, _)| n.as_str()).collect();
    let sign_action_header = match names.as_slice() {
        ["content-type", "host"] => false,
        ["content-type", "host", "x-tc-action"] => true,
        other => return Err(format!("the builder cannot sign the header set {other:?}")),
    };
    let method: Method = case.method.parse().map_err(|e: Error| e.to_string())?;
    let mut config = RequestConfig::default();
    config.endpoint = Endpoint::parse(&case.host).map_err(|e| e.to_string())?;
    config.region = api("X-TC-Region").unwrap_or("").to_owned();
    config.method = method;
    config.language =
        api("X-TC-Language").map(str::parse::<Language>).transpose().map_err(|e| e.to_string())?;
    config.sign_action_header = sign_action_header;
    config.unsigned_payload = case.unsigned_payload;
    let mut credentials = Credentials::new(&case.secret_id, &case.secret_key).map_err(|e| e.to_string())?;
    if let Some(token) = api("X-TC-Token") {
        credentials = credentials.with_token(token).map_err(|e| e.to_string())?;
    }
    // Action names are static in the library; a test may leak its few.
    let name: &'static str = Box::leak(case.action.clone().into_boxed_str());
    let action = match method {
        Method::Post => {
            let text = std::str::from_utf8(payload).map_err(|e| format!("the payload is not UTF-8: {e}"))?;
            let raw = RawValue::from_string(text.to_owned()).map_err(|e| format!("the payload: {e}"))?;
            Recorded { name, body: Some(raw), pairs: Vec::new() }
        }
        _ => {
            let pairs = check::parse_form(&case.query).ok_or("the query is not form-encoded")?;
            Recorded { name, body: None, pairs }
        }
    };
    let request = config.build(&credentials, &action, case.timestamp).map_err(|e| e.to_string())?;

    let mut problems = Vec::new();
    let mut expect = |name: &str, expected: Option<&str>| {
        let got = request.header(name);
        if got != expected {
            problems.push(format!("{name}: got {got:?}, expected {expected:?}"));
        }
    };
    expect("Authorization", Some(&case.expected.authorization));
    expect("Content-Type", Some(&case.content_type));
    expect("Host", Some(&case.host));
    let mut ours: Vec<_> = request
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("X-TC-"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let mut theirs = case.api_headers.clone();
    ours.sort();
    theirs.sort();
    if ours != theirs {
        problems.push(format!("X-TC-* headers differ\n  got      {ours:?}\n  expected {theirs:?}"));
    }
    let expected_body: &[u8] = if method == Method::Post { payload } else { b"" };
    if request.body != expected_body {
        problems.push("body differs from the signed payload".to_owned());
    }
    let base = format!("{}/", config.endpoint);
    let expected_url = match case.query.as_str() {
        "" => base,
        q => format!("{base}?{q}"),
    };
    if request.url != expected_url {
        problems.push(format!("url: got {}, expected {expected_url}", request.url));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn a_corrupted_expectation_is_caught() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tc3-signing.json"))
            .unwrap();
    let mut file: VectorFile = serde_json::from_str(&text).unwrap();
    let mut case: SigningCase = serde_json::from_value(file.cases.remove(0)).unwrap();
    assert!(check_signing(&case).is_empty(), "the unmodified case must pass");
    let flipped = if case.expected.signature.starts_with('0') { "1" } else { "0" };
    case.expected.signature.replace_range(0..1, flipped);
    let errors = check_signing(&case);
    assert!(errors.iter().any(|e| e.contains("signature differs")), "{errors:?}");

    // A GET case and a POST case whose SDK headers say otherwise than the built request.
    for i in [0, 1] {
        let mut case: SigningCase = serde_json::from_value(file.cases[i].clone()).unwrap();
        assert!(check_signing(&case).is_empty(), "case {i} unmodified must pass");
        case.api_headers.push(("X-TC-Extra".into(), "1".into()));
        let errors = check_signing(&case);
        assert!(
            errors.len() == 1 && errors[0].starts_with("built request: X-TC-* headers differ"),
            "{errors:?}"
        );
    }
}

#[test]
fn a_case_of_unknown_shape_fails() {
    let dir = std::env::temp_dir().join(format!("cvm-keypairs-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("odd.json");
    std::fs::write(&path, r#"{"about":"x","cases":[{"name":"odd","expected":{}},{"name":"q","params":[],"expected_query":"","extra":1}]}"#).unwrap();
    let mut failures = Vec::new();
    assert_eq!(check_file(&path, &mut failures), 2);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.iter().all(|f| f.contains("cannot handle")), "{failures:?}");
}
