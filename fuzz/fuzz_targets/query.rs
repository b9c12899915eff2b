//! The serde query flattener: a JSON parameter list (the shape of
//! `tests/vectors/query-encoding.json`'s `params`) or object flattens to allowed bytes only, and
//! decoding the query as a form gives back the flattened parameters in order. Any input, read
//! as text, also round-trips as one parameter's value.
#![no_main]

use cvm_keypairs::testing;
use cvm_keypairs_fuzz::check::{self, Ordered};
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
    let query = testing::query(&Ordered(&[("N".to_owned(), &*text)])).expect("text is a parameter value");
    let encoded = query.strip_prefix("N=").expect("the parameter's name first");
    assert!(encoded.bytes().all(|b| check::allowed_in_query(b) && b != b'=' && b != b'&'));
    assert_eq!(check::form_decode(encoded).as_deref(), Some(&*text));

    // Every parameter has a name: the flattener refuses a value without one.
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Array(items)) => {
            let Ok(params) = serde_json::from_value::<Vec<(String, Value)>>(Value::Array(items)) else {
                return;
            };
            if params.iter().any(|(name, _)| name.is_empty()) {
                return;
            }
            let query = testing::query(&Ordered(&params)).expect("named parameters flatten");
            let params: Vec<(&str, &Value)> = params.iter().map(|(k, v)| (k.as_str(), v)).collect();
            check_query(&query, &params);
        }
        Ok(Value::Object(object)) if object.keys().all(|name| !name.is_empty()) => {
            let query = testing::query(&object).expect("named parameters flatten");
            let params: Vec<(&str, &Value)> = object.iter().map(|(k, v)| (k.as_str(), v)).collect();
            check_query(&query, &params);
        }
        _ => {}
    }
});
