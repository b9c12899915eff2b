//! Writes seed inputs from the repository's vectors and fixtures into the fuzz corpora:
//! `cargo run --no-default-features --example seed -- <vectors dir> <fixtures dir> <corpus dir>`.
//!
//! Signing cases become `sign` inputs (in [`SignCase`]'s byte format); query cases become
//! `query` inputs (their `params` as JSON) and `key_id` inputs (each id alone, and each case's
//! ids one per line). The response fixtures become `response` inputs (status, header lines,
//! body) along with the inputs of crashes fixed since (`REGRESSIONS`), a few profile files become
//! `credentials_file` inputs, and requests built and signed by the crate, as they go on the
//! wire, become `emulator_request` inputs. A vector or fixture this
//! generator cannot read is an error, so a schema change is noticed rather than silently seeding
//! nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cvm_keypairs::{
    Action, Credentials, DeleteKeyPairs, DescribeKeyPairs, Endpoint, Filter, Language, Method, RequestConfig,
};
use cvm_keypairs_emulator::wire::parse_request;
use cvm_keypairs_fuzz::SignCase;
use serde_json::Value;

#[path = "../../tests/support/base64.rs"]
mod base64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [vectors, fixtures, corpus] = args.as_slice() else {
        eprintln!("usage: seed <vectors dir> <fixtures dir> <corpus dir>");
        return ExitCode::FAILURE;
    };
    match run(Path::new(vectors), Path::new(fixtures), Path::new(corpus)) {
        Ok(counts) => {
            for (target, n) in counts {
                println!("seeded {target}: {n} inputs");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed: {e}");
            ExitCode::FAILURE
        }
    }
}

type Seed = (&'static str, String, Vec<u8>);

fn run(vectors: &Path, fixtures: &Path, corpus: &Path) -> Result<Vec<(&'static str, usize)>, String> {
    let mut files: Vec<PathBuf> = fs::read_dir(vectors)
        .map_err(|e| format!("{}: {e}", vectors.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut seeds: Vec<Seed> = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let cases = parsed["cases"].as_array().ok_or_else(|| format!("{}: no cases", file.display()))?;
        for (i, case) in cases.iter().enumerate() {
            let name = format!("vector-{stem}-{i}");
            let what = |e: String| format!("{} case {i}: {e}", file.display());
            if case.pointer("/expected/canonical_request").is_some() {
                let seed = signing_seed(case).map_err(what)?;
                let bytes = seed.encode();
                if SignCase::decode(&bytes).as_ref() != Some(&seed) {
                    return Err(what("its sign input does not read back as written".to_owned()));
                }
                seeds.push(("sign", name, bytes));
            } else if let Some(params) = case.get("params") {
                seeds.push(("query", name.clone(), params.to_string().into_bytes()));
                let mut ids = Vec::new();
                collect_key_ids(params, &mut ids);
                for (j, id) in ids.iter().enumerate() {
                    seeds.push(("key_id", format!("{name}-{j}"), id.as_bytes().to_vec()));
                }
                if !ids.is_empty() {
                    seeds.push(("key_id", format!("{name}-all"), ids.join("\n").into_bytes()));
                }
            } else {
                return Err(what("neither a signing nor a query case".to_owned()));
            }
        }
    }
    response_seeds(&fixtures.join("responses.json"), &mut seeds)?;
    for (target, name, input) in REGRESSIONS {
        let bytes = base64::base64_decode(input).ok_or_else(|| format!("regression {name} is not base64"))?;
        seeds.push((target, format!("regression-{name}"), bytes));
    }
    profile_seeds(&mut seeds);
    request_seeds(&mut seeds).map_err(|e| format!("building a request: {e}"))?;
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for (target, name, bytes) in seeds {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::write(dir.join(&name), bytes).map_err(|e| format!("{name}: {e}"))?;
        match counts.iter_mut().find(|(t, _)| *t == target) {
            Some(count) => count.1 += 1,
            None => counts.push((target, 1)),
        }
    }
    Ok(counts)
}

/// Inputs that once crashed a target, in base64: (target, name, input). The corpus holds them,
/// so every run tries them first.
const REGRESSIONS: [(&str, &str, &str); 1] = [(
    // A RequestId over `ID_CHARS` characters, which the oracle expected kept whole.
    "response",
    "long-request-id",
    "ACVDb250ZW46ZWFwcGxpY2F0aW9uL2pzb24NCg0KeyJSZXNwb25zZSI6eyJSZXF1ZXN0SWQiOiI2ZWY2MGY2MGJlYy0wMjQy\
     LTQzYWYtYmIyMC0yN3swMzU5ZmI1NGE3KysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysr\
     KysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKysifX0=",
)];

/// `response` inputs: the status as 2 bytes big-endian, `Name: value` lines separated by CRLF,
/// an empty line, the body.
fn response_seeds(file: &Path, seeds: &mut Vec<Seed>) -> Result<(), String> {
    let what = |e: String| format!("{}: {e}", file.display());
    let text = fs::read_to_string(file).map_err(|e| what(e.to_string()))?;
    let parsed: Value = serde_json::from_str(&text).map_err(|e| what(e.to_string()))?;
    let cases = parsed["cases"].as_array().ok_or_else(|| what("no cases".to_owned()))?;
    for (i, case) in cases.iter().enumerate() {
        let what = |e: &str| format!("{} case {i}: {e}", file.display());
        let status =
            case["status"].as_u64().and_then(|s| u16::try_from(s).ok()).ok_or_else(|| what("no status"))?;
        let headers = case["headers"].as_array().ok_or_else(|| what("no headers"))?;
        let lines = headers
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(name), Value::String(value)]) => Ok(format!("{name}: {value}")),
                _ => Err(what("a header is not [name, value]")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = case["body"].as_str().ok_or_else(|| what("no body"))?;
        let mut bytes = status.to_be_bytes().to_vec();
        bytes.extend_from_slice(format!("{}\r\n\r\n{body}", lines.join("\r\n")).as_bytes());
        let name = case["name"].as_str().map_or_else(|| i.to_string(), str::to_owned);
        seeds.push(("response", format!("fixture-{name}"), bytes));
    }
    Ok(())
}

/// `credentials_file` inputs: the section asked for on the first line, then the file.
fn profile_seeds(seeds: &mut Vec<Seed>) {
    let files = [
        "default\n[default]\nsecret_id = AKIDEXAMPLE\nsecret_key = secret-key-EXAMPLE\n",
        "prod\n\u{feff}# tccli\r\n[default]\r\nsecret_id = AKIDdefault\r\nsecret_key = k\r\n\r\n[prod]\r\n\
         SECRET_ID = AKIDPROD\r\nSecret_Key = \"secret-key-PROD\"\r\ntoken = 'session-token'\r\nregion = ap-guangzhou\r\n",
        "default\n; comment\n[ default ]\n\tsecret_id=AKID\n secret_key = a=b==\ntoken =\n[other]\nsecret_id = 1\nsecret_id = 2\n",
        "prod\n[default]\nsecret_id = AKID\nsecret_key = k # old\n",
    ];
    for (i, file) in files.iter().enumerate() {
        seeds.push(("credentials_file", format!("profile-{i}"), file.as_bytes().to_vec()));
    }
}

/// `emulator_request` inputs: DeleteKeyPairs and DescribeKeyPairs requests, GET and POST, with
/// and without a session token, as `HttpRequest`'s `Display` writes them on the wire.
fn request_seeds(seeds: &mut Vec<Seed>) -> Result<(), String> {
    let delete = DeleteKeyPairs::new(["skey-mv9yzyjj", "skey-1a2b3c4d"]).map_err(|e| e.to_string())?;
    let describe = DescribeKeyPairs::filtered([Filter::key_names(["deploy key"])])
        .and_then(|d| d.with_limit(20))
        .map_err(|e| e.to_string())?;
    request_seeds_of("delete", &delete, seeds)?;
    request_seeds_of("describe", &describe, seeds)
}

fn request_seeds_of(name: &str, action: &impl Action, seeds: &mut Vec<Seed>) -> Result<(), String> {
    let long_term = Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE").map_err(|e| e.to_string())?;
    let temporary = long_term.clone().with_token("session-token-EXAMPLE").map_err(|e| e.to_string())?;
    for (method, credentials, endpoint, sign_action_header) in [
        (Method::Get, &long_term, "https://cvm.tencentcloudapi.com", true),
        (Method::Post, &temporary, "http://127.0.0.1:8080", false),
    ] {
        let mut config = RequestConfig::default();
        config.endpoint = Endpoint::parse(endpoint).map_err(|e| e.to_string())?;
        config.region = "ap-guangzhou".into();
        config.method = method;
        config.language = Some(Language::EnUs);
        config.sign_action_header = sign_action_header;
        let request = config.build(credentials, action, 1_700_000_000).map_err(|e| e.to_string())?;
        let bytes = request.to_string().into_bytes();
        // A seed the emulator refuses would only test the refusal.
        if !matches!(parse_request(&bytes), Ok((_, used)) if used == bytes.len()) {
            return Err(format!("the emulator refuses {}", String::from_utf8_lossy(&bytes)));
        }
        seeds.push(("emulator_request", format!("request-{name}-{method}"), bytes));
    }
    Ok(())
}

fn signing_seed(case: &Value) -> Result<SignCase, String> {
    let text = |key: &str| case[key].as_str().map(str::to_owned).ok_or_else(|| format!("no string {key}"));
    let headers = case["signed_headers"]
        .as_array()
        .ok_or("no signed_headers")?
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(name), Value::String(value)]) => Ok((name.clone(), value.clone())),
            _ => Err(format!("signed header {pair} is not [name, value]")),
        })
        .collect::<Result<_, String>>()?;
    let body = base64::base64_decode(&text("payload_base64")?).ok_or("payload_base64 is not base64")?;
    let unsigned = case["unsigned_payload"].as_bool().ok_or("no unsigned_payload")?;
    Ok(SignCase {
        secret_id: text("secret_id")?,
        secret_key: text("secret_key")?,
        service: text("service")?,
        timestamp: case["timestamp"].as_i64().ok_or("no timestamp")?,
        method: text("method")?,
        query: text("query")?,
        headers,
        payload: (!unsigned).then_some(body),
    })
}

fn collect_key_ids<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) if s.starts_with("skey-") => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_key_ids(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| collect_key_ids(v, out)),
        _ => {}
    }
}
