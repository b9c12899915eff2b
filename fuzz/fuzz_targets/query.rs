//! The query encoder: a JSON parameter list (the shape of `tests/vectors/query-encoding.json`'s
//! `params`) or object encodes to allowed bytes only, and decoding the query as a form gives
//! back the flattened parameters in order. Any input, read as text, also round-trips through
//! `form_encode`.
#![no_main]

use cvm_keypairs::query::{encode_object, encode_params, form_encode};
use cvm_keypairs_fuzz::check;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn check_query(query: &str, params: &[(&str, &Value)]) {
    assert!(query.bytes().all(check::allowed_in_query), "disallowed byte in {query:?}");
    let mut expected = Vec::new();
    for (name, value) in params {
        check::flatten(name, value, &mut expected);
    }
    assert_eq!(check::parse_form(query), Some(expected), "{query:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut encoded = String::new();
    form_encode(&mut encoded, &text);
    assert!(encoded.bytes().all(|b| check::allowed_in_query(b) && b != b'=' && b != b'&'));
    assert_eq!(check::form_decode(&encoded).as_deref(), Some(&*text));

    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Array(items)) => {
            let Ok(params) = serde_json::from_value::<Vec<(String, Value)>>(Value::Array(items)) else {
                return;
            };
            let params: Vec<(&str, &Value)> = params.iter().map(|(k, v)| (k.as_str(), v)).collect();
            check_query(&encode_params(params.iter().copied()), &params);
        }
        Ok(Value::Object(object)) => {
            let params: Vec<(&str, &Value)> = object.iter().map(|(k, v)| (k.as_str(), v)).collect();
            check_query(&encode_object(&object), &params);
        }
        _ => {}
    }
});
