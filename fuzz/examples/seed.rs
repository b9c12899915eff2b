//! Writes seed inputs from the vector files into the fuzz corpora:
//! `cargo run --no-default-features --example seed -- <vectors dir> <corpus dir>`.
//!
//! Signing cases become `sign` inputs (in [`SignCase`]'s byte format); query cases become
//! `query` inputs (their `params` as JSON) and `key_id` inputs (each id alone, and each case's
//! ids one per line). A vector this generator cannot read is an error, so a schema change is
//! noticed rather than silently seeding nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cvm_keypairs_fuzz::SignCase;
use serde_json::Value;

#[path = "../../tests/support/base64.rs"]
mod base64;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [vectors, corpus] = args.as_slice() else {
        eprintln!("usage: seed <vectors dir> <corpus dir>");
        return ExitCode::FAILURE;
    };
    match run(Path::new(vectors), Path::new(corpus)) {
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

fn run(vectors: &Path, corpus: &Path) -> Result<[(&'static str, usize); 3], String> {
    let mut files: Vec<PathBuf> = fs::read_dir(vectors)
        .map_err(|e| format!("{}: {e}", vectors.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut seeds: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
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
    let mut counts = [("sign", 0), ("query", 0), ("key_id", 0)];
    for (target, name, bytes) in seeds {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::write(dir.join(&name), bytes).map_err(|e| format!("{name}: {e}"))?;
        if let Some(count) = counts.iter_mut().find(|(t, _)| *t == target) {
            count.1 += 1;
        }
    }
    Ok(counts)
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
