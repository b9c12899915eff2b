//! Action parameters from a GET query or a POST JSON body, into one shape.
//!
//! GET flattens arrays as `KeyIds.0=…` and `Filters.0.Values.1=…` and form-encodes names and
//! values (`+` for space, `%XX` for other bytes); POST sends the same parameters as a JSON
//! object. Both become [`Params`]. Anything the two actions do not define is
//! `UnknownParameter`, so a client typo shows up here rather than being silently ignored.

use std::collections::BTreeMap;

use serde_json::Value;

use super::api::ApiError;

/// The most array elements one query parameter may list (requests are size-bounded anyway).
const MAX_INDEX: usize = 10_000;

/// A DescribeKeyPairs filter: a key pair matches when its field named `name` (`key-id`,
/// `key-name` or `project-id`) equals any of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) name: String,
    pub(crate) values: Vec<String>,
}

/// The parameters of either action, as received; which are allowed is the action's business.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) key_ids: Option<Vec<String>>,
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) offset: Option<i64>,
    pub(crate) limit: Option<i64>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter", message)
}

fn unknown(name: &str) -> ApiError {
    let shown: String = name.chars().take(64).collect();
    ApiError::new("UnknownParameter", format!("The parameter `{shown}` is not recognized."))
}

/// Splits a query into decoded `(name, value)` pairs, in order.
pub(crate) fn decode_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

fn form_decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| invalid("The query has a `%` not followed by two hex digits."))?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| invalid("The query decodes to bytes that are not UTF-8."))
}

/// Parses the decimal array index `s` (no sign, no leading zeros).
fn index(s: &str, name: &str) -> Result<usize, ApiError> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    match s.parse::<usize>() {
        Ok(n) if ok && n < MAX_INDEX => Ok(n),
        _ => Err(unknown(name)),
    }
}

/// Collects indexed elements, which must be exactly 0..n, into a vector.
fn dense<T>(items: BTreeMap<usize, T>, what: &str) -> Result<Vec<T>, ApiError> {
    if items.keys().enumerate().any(|(expected, &i)| i != expected) {
        return Err(invalid(format!("The indices of `{what}` must run from 0 without gaps.")));
    }
    Ok(items.into_values().collect())
}

fn insert_once<T>(items: &mut BTreeMap<usize, T>, i: usize, value: T, name: &str) -> Result<(), ApiError> {
    if items.insert(i, value).is_some() {
        return Err(invalid(format!("The parameter `{name}` is given twice.")));
    }
    Ok(())
}

fn integer(value: &str, name: &str) -> Result<i64, ApiError> {
    value.parse().map_err(|_| {
        ApiError::new("InvalidParameterValue", format!("The parameter `{name}` must be an integer."))
    })
}

impl Params {
    /// Parameters from a raw (still encoded) GET query.
    pub(crate) fn from_query(query: &str) -> Result<Params, ApiError> {
        let mut key_ids = BTreeMap::new();
        let mut filters: BTreeMap<usize, (Option<String>, BTreeMap<usize, String>)> = BTreeMap::new();
        let mut params = Params::default();
        for (name, value) in decode_query(query)? {
            let parts: Vec<&str> = name.split('.').collect();
            match parts.as_slice() {
                ["KeyIds", i] => insert_once(&mut key_ids, index(i, &name)?, value, &name)?,
                ["Filters", i, "Name"] => {
                    let slot = &mut filters.entry(index(i, &name)?).or_default().0;
                    if slot.replace(value).is_some() {
                        return Err(invalid(format!("The parameter `{name}` is given twice.")));
                    }
                }
                ["Filters", i, "Values", j] => {
                    let (i, j) = (index(i, &name)?, index(j, &name)?);
                    insert_once(&mut filters.entry(i).or_default().1, j, value, &name)?;
                }
                ["Offset"] | ["Limit"] => {
                    let slot = if parts[0] == "Offset" { &mut params.offset } else { &mut params.limit };
                    if slot.replace(integer(&value, &name)?).is_some() {
                        return Err(invalid(format!("The parameter `{name}` is given twice.")));
                    }
                }
                _ => return Err(unknown(&name)),
            }
        }
        if !key_ids.is_empty() {
            params.key_ids = Some(dense(key_ids, "KeyIds")?);
        }
        if !filters.is_empty() {
            let mut list = Vec::with_capacity(filters.len());
            for (i, (name, values)) in dense(filters, "Filters")?.into_iter().enumerate() {
                let name = name.ok_or_else(|| {
                    ApiError::new("MissingParameter", format!("The parameter `Filters.{i}.Name` is missing."))
                })?;
                list.push(Filter { name, values: dense(values, "Filters.N.Values")? });
            }
            params.filters = Some(list);
        }
        Ok(params)
    }

    /// Parameters from a POST body, a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| invalid(format!("The body is not valid JSON: {e}.")))?;
        let Value::Object(fields) = value else {
            return Err(invalid("The body must be a JSON object."));
        };
        let mut params = Params::default();
        for (name, value) in &fields {
            if value.is_null() {
                continue;
            }
            match name.as_str() {
                "KeyIds" => params.key_ids = Some(strings(value, "KeyIds")?),
                "Filters" => {
                    let items = value.as_array().ok_or_else(|| invalid("`Filters` must be an array."))?;
                    params.filters = Some(items.iter().map(filter).collect::<Result<_, _>>()?);
                }
                "Offset" => params.offset = Some(json_integer(value, "Offset")?),
                "Limit" => params.limit = Some(json_integer(value, "Limit")?),
                other => return Err(unknown(other)),
            }
        }
        Ok(params)
    }
}

fn strings(value: &Value, what: &str) -> Result<Vec<String>, ApiError> {
    let bad = || invalid(format!("`{what}` must be an array of strings."));
    value.as_array().ok_or_else(bad)?.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(bad)).collect()
}

fn filter(value: &Value) -> Result<Filter, ApiError> {
    let bad =
        || invalid("Each filter must be an object with a string `Name` and an array `Values` of strings.");
    let fields = value.as_object().ok_or_else(bad)?;
    if let Some(other) = fields.keys().find(|k| *k != "Name" && *k != "Values") {
        return Err(unknown(&format!("Filters.N.{other}")));
    }
    let name = fields.get("Name").and_then(Value::as_str).ok_or_else(bad)?.to_owned();
    let values = match fields.get("Values") {
        Some(v) => strings(v, "Filters.N.Values")?,
        None => return Err(bad()),
    };
    Ok(Filter { name, values })
}

fn json_integer(value: &Value, name: &str) -> Result<i64, ApiError> {
    value.as_i64().ok_or_else(|| {
        ApiError::new("InvalidParameterValue", format!("The parameter `{name}` must be an integer."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{encode_query, query_vectors};
    use serde_json::json;

    fn code(result: Result<Params, ApiError>) -> &'static str {
        result.expect_err("an error").code
    }

    #[test]
    fn form_decoding_reads_what_clients_encode() {
        let pairs = decode_query("a+b=c%2Bd%26&e=%E4%B8%AD%F0%9F%98%80&&flag&x=%7e").unwrap();
        let expected = [("a b", "c+d&"), ("e", "中😀"), ("flag", ""), ("x", "~")];
        assert_eq!(pairs, expected.map(|(n, v)| (n.to_owned(), v.to_owned())));
        for bad in ["a=%", "a=%4", "a=%zz", "a=%+1", "a=%FF"] {
            assert_eq!(decode_query(bad).unwrap_err().code, "InvalidParameter", "{bad}");
        }
    }

    #[test]
    fn query_and_json_give_the_same_params() {
        let ids = json!(["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        let filters = json!([{"Name": "key-name", "Values": ["my key", "b&c"]}, {"Name": "project-id", "Values": ["0"]}]);
        let query = encode_query([
            ("Filters", &filters),
            ("KeyIds", &ids),
            ("Offset", &json!(5)),
            ("Limit", &json!(50)),
        ]);
        let body = json!({"KeyIds": ids, "Filters": filters, "Offset": 5, "Limit": 50}).to_string();
        let from_query = Params::from_query(&query).unwrap();
        assert_eq!(from_query, Params::from_json(body.as_bytes()).unwrap());
        assert_eq!(from_query.key_ids.as_deref().unwrap(), ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        let f = from_query.filters.unwrap();
        assert_eq!(
            (f[0].name.as_str(), f[0].values.as_slice()),
            ("key-name", &["my key".to_owned(), "b&c".to_owned()][..])
        );
        assert_eq!((from_query.offset, from_query.limit), (Some(5), Some(50)));
    }

    #[test]
    fn every_query_vector_decodes_to_its_params_as_json_does() {
        for case in query_vectors() {
            let mut flattened = Vec::new();
            for (name, value) in &case.params {
                crate::test_support::flatten(name, value, &mut flattened);
            }
            assert_eq!(decode_query(&case.expected_query).unwrap(), flattened, "{}", case.name);
            let body = Value::Object(case.params.iter().cloned().collect()).to_string();
            let from_json = Params::from_json(body.as_bytes()).unwrap();
            assert_eq!(Params::from_query(&case.expected_query).unwrap(), from_json, "{}", case.name);
        }
    }

    #[test]
    fn query_order_does_not_matter_but_gaps_and_repeats_do() {
        let p = Params::from_query("KeyIds.1=skey-bbbbbbbb&KeyIds.0=skey-aaaaaaaa").unwrap();
        assert_eq!(p.key_ids.unwrap(), ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert_eq!(code(Params::from_query("KeyIds.0=a&KeyIds.2=b")), "InvalidParameter");
        assert_eq!(code(Params::from_query("KeyIds.0=a&KeyIds.0=b")), "InvalidParameter");
        assert_eq!(code(Params::from_query("Limit=1&Limit=2")), "InvalidParameter");
        assert_eq!(code(Params::from_query("Filters.0.Values.0=x")), "MissingParameter");
        assert_eq!(code(Params::from_query("Filters.0.Name=a&Filters.0.Name=b")), "InvalidParameter");
    }

    #[test]
    fn unknown_or_mistyped_parameters_are_errors() {
        for bad in [
            "KeyId.0=a",
            "KeyIds=a",
            "KeyIds.01=a",
            "KeyIds.-1=a",
            "KeyIds.99999=a",
            "Action=DeleteKeyPairs",
            "keyids.0=a",
        ] {
            assert_eq!(code(Params::from_query(bad)), "UnknownParameter", "{bad}");
        }
        assert_eq!(code(Params::from_query("Offset=x")), "InvalidParameterValue");
        assert_eq!(code(Params::from_json(br#"{"KeyId": ["a"]}"#)), "UnknownParameter");
        assert_eq!(
            code(Params::from_json(br#"{"Filters": [{"Name": "a", "Values": [], "X": 1}]}"#)),
            "UnknownParameter"
        );
        for bad in [
            &br#"{"KeyIds": "skey-aaaaaaaa"}"#[..],
            br#"{"KeyIds": [1]}"#,
            br#"{"Filters": [{"Name": "a"}]}"#,
            b"[]",
            b"",
            b"{",
            b"\xff",
        ] {
            assert_eq!(code(Params::from_json(bad)), "InvalidParameter", "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(code(Params::from_json(br#"{"Limit": 1.5}"#)), "InvalidParameterValue");
        assert_eq!(Params::from_json(br#"{"KeyIds": null}"#).unwrap(), Params::default());
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(code(Params::from_json(deep.as_bytes())), "InvalidParameter");
    }
}
