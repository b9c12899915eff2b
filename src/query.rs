//! The GET query string: parameter flattening and form encoding, pure.
//!
//! API 3.0 takes nested parameters as flat names: arrays become `Name.N` (zero-based) and
//! objects `Name.Field`, so `{"Filters":[{"Values":["a"]}]}` is sent as `Filters.0.Values.0=a`.
//! The encoding is the one the official SDKs send and sign (`application/x-www-form-urlencoded`):
//! `A-Z a-z 0-9 - _ . ~` unchanged, space as `+`, every other UTF-8 byte as `%XX` upper-case.
//! Booleans are written `true`/`false` and `null` values are left out.

use serde_json::Value;

/// Appends `s` form-encoded to `out`.
pub fn form_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    // Runs of unreserved bytes are copied whole; they are ASCII, so they start and end on
    // character boundaries.
    let mut run_start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if unreserved(b) {
            continue;
        }
        if run_start < i {
            out.push_str(&s[run_start..i]);
        }
        run_start = i + 1;
        if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    if run_start < s.len() {
        out.push_str(&s[run_start..]);
    }
}

/// Appends one `name=value` pair, with `&` before it unless `out` is empty.
pub fn push_pair(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    form_encode(out, name);
    out.push('=');
    form_encode(out, value);
}

/// Appends an encoded query to `out`, joined with `&`.
pub(crate) fn append(out: &mut String, encoded: &str) {
    if !out.is_empty() && !encoded.is_empty() {
        out.push('&');
    }
    out.push_str(encoded);
}

/// Flattens and encodes ordered parameters into a query string.
///
/// ```
/// use serde_json::json;
/// let filters = json!([{"Name": "key-name", "Values": ["my key"]}]);
/// let query = cvm_keypairs::query::encode_params([("Filters", &filters), ("Limit", &json!(10))]);
/// assert_eq!(query, "Filters.0.Name=key-name&Filters.0.Values.0=my+key&Limit=10");
/// ```
pub fn encode_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a Value)>) -> String {
    let mut out = String::new();
    let mut name = String::new();
    for (key, value) in params {
        name.clear();
        name.push_str(key);
        flatten(&mut out, &mut name, value);
    }
    out
}

/// Encodes a JSON object's members as top-level parameters, in the object's order.
pub fn encode_object(object: &serde_json::Map<String, Value>) -> String {
    encode_params(object.iter().map(|(k, v)| (k.as_str(), v)))
}

fn flatten(out: &mut String, name: &mut String, value: &Value) {
    let base = name.len();
    match value {
        Value::Null => {}
        Value::String(s) => push_pair(out, name, s),
        Value::Bool(b) => push_pair(out, name, if *b { "true" } else { "false" }),
        Value::Number(n) => push_pair(out, name, &n.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                name.push('.');
                name.push_str(&i.to_string());
                flatten(out, name, item);
                name.truncate(base);
            }
        }
        Value::Object(fields) => {
            for (field, item) in fields {
                name.push('.');
                name.push_str(field);
                flatten(out, name, item);
                name.truncate(base);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_byte_outside_the_unreserved_set_is_escaped_upper_case() {
        let mut out = String::new();
        form_encode(&mut out, "aZ09-_.~ /+%&=中\u{1F600}\t");
        assert_eq!(out, "aZ09-_.~+%2F%2B%25%26%3D%E4%B8%AD%F0%9F%98%80%09");
    }

    #[test]
    fn nested_values_flatten_in_order_with_zero_based_indices() {
        let v = json!({"B": [1, true, null, {"X": ["p q"]}], "A": "z"});
        let q = encode_params([("K", &v)]);
        assert_eq!(q, "K.A=z&K.B.0=1&K.B.1=true&K.B.3.X.0=p+q");
    }

    #[test]
    fn keys_are_encoded_too() {
        assert_eq!(encode_params([("a b&", &json!("c"))]), "a+b%26=c");
    }

    #[test]
    fn empty_inputs_give_an_empty_query() {
        assert_eq!(encode_params([("A", &json!([])), ("B", &Value::Null)]), "");
        assert_eq!(encode_object(&serde_json::Map::new()), "");
    }
}
