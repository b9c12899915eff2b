//! Every `tests/vectors/*.json` file, every case: the signer and the query encoder must match
//! the official SDK and the public signature example byte for byte.
//!
//! A case with `expected.canonical_request` checks the signer step by step; one with
//! `expected_query` checks the serde query flattener. Signing cases that list the SDK's
//! `api_headers` are also rebuilt through `RequestConfig::build`, so the whole request (headers,
//! URL, body and Authorization) is proven, not only the signer. A case of any other shape, or
//! with a field this test does not know, fails the run: nothing is skipped.
//!
//! The cases of `tc3-signing-actions.json` (made by `tests/support/sdk_action_vectors.py` with
//! the SDK's own typed requests) are also built from the library's own action types: a GET
//! request must be the SDK's byte for byte, query and signature; a POST body must be the SDK's
//! JSON token for token (the SDK writes `", "` and `": "` between them, serde_json nothing, so
//! the bodies, and hence their signatures, differ only in that spacing).

use std::path::Path;

use cvm_keypairs::testing::{self, Payload, Signer, SigningInput};
use cvm_keypairs::{
    Action, AssociateInstancesKeyPairs, CreateKeyPair, Credentials, DescribeInstances, DescribeKeyPairs,
    DisassociateInstancesKeyPairs, Endpoint, Error, Filter, HttpRequest, ImportKeyPair, Language, Method,
    ModifyKeyPairAttribute, RequestConfig,
};
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

#[derive(Clone, Deserialize)]
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

#[derive(Clone, Deserialize)]
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

/// The configuration and credentials the SDK signed `case` with.
fn sdk_setup(case: &SigningCase) -> Result<(RequestConfig, Credentials), String> {
    let api = |name: &str| case.api_headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let names: Vec<&str> = case.signed_headers.iter().map(|(n, _)| n.as_str()).collect();
    let sign_action_header = match names.as_slice() {
        ["content-type", "host"] => false,
        ["content-type", "host", "x-tc-action"] => true,
        other => return Err(format!("the builder cannot sign the header set {other:?}")),
    };
    let mut config = RequestConfig::default();
    config.endpoint = Endpoint::parse(&case.host).map_err(|e| e.to_string())?;
    config.region = api("X-TC-Region").unwrap_or("").to_owned();
    config.method = case.method.parse().map_err(|e: Error| e.to_string())?;
    config.language =
        api("X-TC-Language").map(str::parse::<Language>).transpose().map_err(|e| e.to_string())?;
    config.sign_action_header = sign_action_header;
    config.unsigned_payload = case.unsigned_payload;
    let mut credentials = Credentials::new(&case.secret_id, &case.secret_key).map_err(|e| e.to_string())?;
    if let Some(token) = api("X-TC-Token") {
        credentials = credentials.with_token(token).map_err(|e| e.to_string())?;
    }
    Ok((config, credentials))
}

fn check_built_request(case: &SigningCase, payload: &[u8]) -> Result<(), String> {
    let (config, credentials) = sdk_setup(case)?;
    let method = config.method;
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

/// One parameter of what the SDK sent: from its JSON body (POST) or its query (GET).
fn sdk_param(case: &SigningCase, name: &str) -> Result<String, String> {
    let found = if case.method == "POST" {
        let payload = base64_decode(&case.payload_base64).ok_or("payload_base64 is not base64")?;
        let body: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        body[name].as_str().map(str::to_owned)
    } else {
        let pairs = check::parse_form(&case.query).ok_or("the query is not form-encoded")?;
        pairs.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    };
    found.ok_or_else(|| format!("the SDK sent no {name}"))
}

/// The library's own request for a case of `tc3-signing-actions.json`: the action a user
/// builds for the parameters the generator gave the SDK.
fn typed_request<'a>(
    case: &SigningCase,
    config: &'a RequestConfig,
    credentials: &Credentials,
) -> Result<HttpRequest<'a>, String> {
    fn build<'a, A: Action>(
        config: &'a RequestConfig,
        credentials: &Credentials,
        timestamp: i64,
        action: Result<A, Error>,
    ) -> Result<HttpRequest<'a>, String> {
        let action = action.map_err(|e| format!("the library refused the parameters: {e}"))?;
        config.build(credentials, &action, timestamp).map_err(|e| e.to_string())
    }
    let (c, k, t) = (config, credentials, case.timestamp);
    let tags = [("env", "ci"), ("owner", "team a")];
    let (key, keys) = (["skey-mv9yzyjj"], ["skey-mv9yzyjj", "skey-1a2b3c4d"]);
    let (instance, instances) = (["ins-1e4r6y8i"], ["ins-1e4r6y8i", "ins-3e56fg78"]);
    match case.name.as_str() {
        "create_key_pair_post_tags" => {
            build(c, k, t, CreateKeyPair::new("ci_deploy").and_then(|a| a.with_tags(tags)))
        }
        "create_key_pair_get_tags" => {
            let create = CreateKeyPair::new("ci_deploy").map(|a| a.with_project_id(1_002_189));
            build(c, k, t, create.and_then(|a| a.with_tags(tags)))
        }
        "import_key_pair_post" => {
            build(c, k, t, ImportKeyPair::new("laptop", &sdk_param(case, "PublicKey")?))
        }
        "import_key_pair_get_tags" => {
            let import = ImportKeyPair::new("deploy_rsa", &sdk_param(case, "PublicKey")?);
            build(c, k, t, import.and_then(|a| a.with_project_id(7).with_tags(tags)))
        }
        "associate_post_force_stop" => {
            build(c, k, t, AssociateInstancesKeyPairs::new(key, instances).map(|a| a.with_force_stop(true)))
        }
        "associate_get" => build(c, k, t, AssociateInstancesKeyPairs::new(keys, instance)),
        "disassociate_post" => build(
            c,
            k,
            t,
            DisassociateInstancesKeyPairs::new(key, instance).map(|a| a.with_force_stop(false)),
        ),
        "modify_key_pair_attribute_get" => {
            build(c, k, t, ModifyKeyPairAttribute::new(key[0], Some("ci_old"), Some("CI key / retired")))
        }
        "describe_instances_post_ids" => build(c, k, t, DescribeInstances::by_ids(instances)),
        "describe_key_pairs_get_tag_filters" => {
            let filters = [Filter::tag_keys(["env"]), Filter::tag("owner", ["team a"])];
            build(c, k, t, DescribeKeyPairs::filtered(filters))
        }
        other => Err(format!("no library action is written for the case {other:?}")),
    }
}

/// `json` without the whitespace between its tokens.
fn compact_json(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(json.len()), false, false);
    for &b in json {
        if in_string {
            (in_string, escaped) = (escaped || b != b'"', !escaped && b == b'\\');
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_whitespace() {
            continue;
        }
        out.push(b);
    }
    out
}

/// Whether the library's own action for `case` builds the request the SDK built.
fn check_typed(case: &SigningCase) -> Result<(), String> {
    let (config, credentials) = sdk_setup(case)?;
    let request = typed_request(case, &config, &credentials)?;
    if request.header("X-TC-Action") != Some(case.action.as_str()) {
        return Err(format!("X-TC-Action {:?}, the SDK sent {}", request.header("X-TC-Action"), case.action));
    }
    match config.method {
        Method::Get => {
            let expected_url = format!("{}/?{}", config.endpoint, case.query);
            if request.url != expected_url {
                return Err(format!("url\n  got      {}\n  expected {expected_url}", request.url));
            }
            let authorization = request.header("Authorization");
            if authorization != Some(case.expected.authorization.as_str()) || !request.body.is_empty() {
                return Err(format!("Authorization {authorization:?} or the body differs from the SDK's"));
            }
        }
        Method::Post => {
            let payload = base64_decode(&case.payload_base64).ok_or("payload_base64 is not base64")?;
            if request.body != compact_json(&payload) {
                return Err(format!(
                    "body\n  got      {}\n  expected {}",
                    String::from_utf8_lossy(&request.body),
                    String::from_utf8_lossy(&payload)
                ));
            }
        }
    }
    Ok(())
}

fn action_cases() -> Vec<SigningCase> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tc3-signing-actions.json");
    let file: VectorFile = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    file.cases.into_iter().map(|c| serde_json::from_value(c).unwrap()).collect()
}

#[test]
fn the_library_s_own_actions_build_the_sdk_s_requests() {
    let cases = action_cases();
    let failures: Vec<String> =
        cases.iter().filter_map(|c| check_typed(c).err().map(|e| format!("{}: {e}", c.name))).collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    for (action, method) in [
        ("CreateKeyPair", "GET"),
        ("CreateKeyPair", "POST"),
        ("ImportKeyPair", "GET"),
        ("ImportKeyPair", "POST"),
        ("AssociateInstancesKeyPairs", "GET"),
        ("AssociateInstancesKeyPairs", "POST"),
        ("DisassociateInstancesKeyPairs", "POST"),
        ("ModifyKeyPairAttribute", "GET"),
        ("DescribeInstances", "POST"),
        ("DescribeKeyPairs", "GET"),
    ] {
        assert!(cases.iter().any(|c| c.action == action && c.method == method), "no {method} {action} case");
    }
}

#[test]
fn a_request_other_than_the_sdk_s_is_caught() {
    let cases = action_cases();
    let mut get = cases.iter().find(|c| c.name == "import_key_pair_get_tags").unwrap().clone();
    assert!(check_typed(&get).is_ok());
    get.query = get.query.replace("ProjectId=7", "ProjectId=8");
    assert!(check_typed(&get).unwrap_err().starts_with("url"));
    let mut get = cases.iter().find(|c| c.name == "associate_get").unwrap().clone();
    get.expected.authorization.push('0');
    assert!(check_typed(&get).unwrap_err().starts_with("Authorization"));
    let mut post = cases.iter().find(|c| c.name == "associate_post_force_stop").unwrap().clone();
    assert!(check_typed(&post).is_ok());
    // Another base64 digit: another byte of the body.
    let flipped = if post.payload_base64.as_bytes()[8] == b'A' { "B" } else { "A" };
    post.payload_base64.replace_range(8..9, flipped);
    assert!(check_typed(&post).unwrap_err().starts_with("body"));
    assert_eq!(compact_json(br#"{"a": "x \" y", "b": [1, 2]}"#), br#"{"a":"x \" y","b":[1,2]}"#);
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
