//! Action parameters from a GET query or a POST JSON body, into one shape.
//!
//! GET flattens arrays and objects as `KeyIds.0=…`, `Filters.0.Values.1=…` and
//! `TagSpecification.0.Tags.0.Key=…`, and form-encodes names and values (`+` for space, `%XX`
//! for other bytes); POST sends the same parameters as a JSON object. A query is first put back
//! into that JSON shape (every value a string), then both are read by the same code into
//! [`Params`]. Anything no action defines is `UnknownParameter` (in a query, so is a name whose
//! shape is wrong, such as `KeyIds=…` without an index), so a client typo shows up here rather
//! than being silently ignored; which parameters each action takes is checked by the caller
//! ([`Params::given`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::api::ApiError;

/// The most array elements one query parameter may list (requests are size-bounded anyway).
const MAX_INDEX: usize = 10_000;
/// The most dot-separated parts of a query name (`TagSpecification.0.Tags.0.Key` has 5).
const MAX_NAME_PARTS: usize = 8;

/// A Describe filter: an item matches when its field named `name` equals any of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) name: String,
    pub(crate) values: Vec<String>,
}

/// One `TagSpecification` item, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TagSpec {
    pub(crate) resource_type: Option<String>,
    pub(crate) tags: Vec<TagParam>,
}

/// One tag of a `TagSpecification`, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TagParam {
    pub(crate) key: Option<String>,
    pub(crate) value: Option<String>,
}

/// The parameters of any action, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) key_ids: Option<Vec<String>>,
    pub(crate) instance_ids: Option<Vec<String>>,
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) offset: Option<i64>,
    pub(crate) limit: Option<i64>,
    pub(crate) key_id: Option<String>,
    pub(crate) key_name: Option<String>,
    pub(crate) project_id: Option<i64>,
    pub(crate) public_key: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) force_stop: Option<bool>,
    pub(crate) tag_specification: Option<Vec<TagSpec>>,
    pub(crate) role_arn: Option<String>,
    pub(crate) role_session_name: Option<String>,
    pub(crate) duration_seconds: Option<i64>,
    pub(crate) policy: Option<String>,
    pub(crate) provider_id: Option<String>,
    pub(crate) web_identity_token: Option<Secret>,
}

/// A parameter that is a credential (the web identity token): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameter", message)
}

fn unknown(name: &str) -> ApiError {
    let shown: String = name.chars().take(64).collect();
    ApiError::new("UnknownParameter", format!("The parameter `{shown}` is not recognized."))
}

fn twice(name: &str) -> ApiError {
    let shown: String = name.chars().take(64).collect();
    invalid(format!("The parameter `{shown}` is given twice."))
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

/// A query put back together: a value, or items by index, or fields by name.
#[derive(Debug, Default)]
enum Node {
    #[default]
    Empty,
    Leaf(String),
    Items(BTreeMap<usize, Node>),
    Fields(BTreeMap<String, Node>),
}

/// Parses the decimal array index `s` (no sign, no leading zeros), if it is one.
fn index(s: &str) -> Option<usize> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    s.parse::<usize>().ok().filter(|&n| ok && n < MAX_INDEX)
}

impl Node {
    /// Puts `value` at the path `parts` of the query name `name`.
    fn put(&mut self, parts: &[&str], name: &str, value: String) -> Result<(), ApiError> {
        let Some((first, rest)) = parts.split_first() else {
            return match self {
                Node::Empty => {
                    *self = Node::Leaf(value);
                    Ok(())
                }
                _ => Err(twice(name)),
            };
        };
        let is_index = first.bytes().all(|b| b.is_ascii_digit());
        if matches!(self, Node::Empty) {
            *self = if is_index { Node::Items(BTreeMap::new()) } else { Node::Fields(BTreeMap::new()) };
        }
        let child = match self {
            Node::Items(items) if is_index => {
                items.entry(index(first).ok_or_else(|| unknown(name))?).or_default()
            }
            Node::Fields(fields) if !is_index => fields.entry((*first).to_owned()).or_default(),
            // `A=1&A.0=2`, `A.0=1&A.x=2`: no action has such a parameter.
            _ => return Err(unknown(name)),
        };
        child.put(rest, name, value)
    }

    /// The JSON shape; `path` names it for errors. Items must be numbered from 0 without gaps.
    fn into_value(self, path: &str) -> Result<Value, ApiError> {
        Ok(match self {
            Node::Empty => Value::Null,
            Node::Leaf(text) => Value::String(text),
            Node::Items(items) => {
                if items.keys().enumerate().any(|(expected, &i)| i != expected) {
                    return Err(invalid(format!("The indices of `{path}` must run from 0 without gaps.")));
                }
                let items = items.into_values().map(|node| node.into_value(&format!("{path}.N")));
                Value::Array(items.collect::<Result<_, _>>()?)
            }
            Node::Fields(fields) => {
                let mut object = Map::new();
                for (field, node) in fields {
                    let value = node.into_value(&format!("{path}.{field}"))?;
                    object.insert(field, value);
                }
                Value::Object(object)
            }
        })
    }
}

/// Where parameters came from; it decides which error a value of the wrong shape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A flattened name of the wrong shape does not exist: `UnknownParameter`.
    Query,
    /// A JSON value of the wrong type: `InvalidParameter`.
    Json,
}

impl Params {
    /// Parameters from a raw (still encoded) GET query.
    pub(crate) fn from_query(query: &str) -> Result<Params, ApiError> {
        let mut root: BTreeMap<String, Node> = BTreeMap::new();
        for (name, value) in decode_query(query)? {
            let parts: Vec<&str> = name.split('.').collect();
            if parts.len() > MAX_NAME_PARTS || parts.iter().any(|p| p.is_empty()) {
                return Err(unknown(&name));
            }
            root.entry(parts[0].to_owned()).or_default().put(&parts[1..], &name, value)?;
        }
        let mut fields = Map::new();
        for (name, node) in root {
            let value = node.into_value(&name)?;
            fields.insert(name, value);
        }
        Params::from_fields(&fields, Source::Query)
    }

    /// Parameters from a POST body, a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| invalid(format!("The body is not valid JSON: {e}.")))?;
        let Value::Object(fields) = value else {
            return Err(invalid("The body must be a JSON object."));
        };
        Params::from_fields(&fields, Source::Json)
    }

    fn from_fields(fields: &Map<String, Value>, source: Source) -> Result<Params, ApiError> {
        let read = Reader { source };
        let mut params = Params::default();
        for (name, value) in fields {
            if value.is_null() {
                continue;
            }
            match name.as_str() {
                "KeyIds" => params.key_ids = Some(read.strings(value, name)?),
                "InstanceIds" => params.instance_ids = Some(read.strings(value, name)?),
                "Filters" => params.filters = Some(read.list(value, name, |v, at| read.filter(v, at))?),
                "Offset" => params.offset = Some(read.integer(value, name)?),
                "Limit" => params.limit = Some(read.integer(value, name)?),
                "ProjectId" => params.project_id = Some(read.integer(value, name)?),
                "KeyId" => params.key_id = Some(read.string(value, name)?),
                "KeyName" => params.key_name = Some(read.string(value, name)?),
                "PublicKey" => params.public_key = Some(read.string(value, name)?),
                "Description" => params.description = Some(read.string(value, name)?),
                "ForceStop" => params.force_stop = Some(read.boolean(value, name)?),
                "TagSpecification" => {
                    params.tag_specification = Some(read.list(value, name, |v, at| read.tag_spec(v, at))?)
                }
                "RoleArn" => params.role_arn = Some(read.string(value, name)?),
                "RoleSessionName" => params.role_session_name = Some(read.string(value, name)?),
                "DurationSeconds" => params.duration_seconds = Some(read.integer(value, name)?),
                "Policy" => params.policy = Some(read.string(value, name)?),
                "ProviderId" => params.provider_id = Some(read.string(value, name)?),
                "WebIdentityToken" => params.web_identity_token = Some(Secret(read.string(value, name)?)),
                other => return Err(unknown(other)),
            }
        }
        Ok(params)
    }

    /// The names of the parameters given, for the action to refuse those it does not take.
    pub(crate) fn given(&self) -> Vec<&'static str> {
        let present = [
            ("KeyIds", self.key_ids.is_some()),
            ("InstanceIds", self.instance_ids.is_some()),
            ("Filters", self.filters.is_some()),
            ("Offset", self.offset.is_some()),
            ("Limit", self.limit.is_some()),
            ("KeyId", self.key_id.is_some()),
            ("KeyName", self.key_name.is_some()),
            ("ProjectId", self.project_id.is_some()),
            ("PublicKey", self.public_key.is_some()),
            ("Description", self.description.is_some()),
            ("ForceStop", self.force_stop.is_some()),
            ("TagSpecification", self.tag_specification.is_some()),
            ("RoleArn", self.role_arn.is_some()),
            ("RoleSessionName", self.role_session_name.is_some()),
            ("DurationSeconds", self.duration_seconds.is_some()),
            ("Policy", self.policy.is_some()),
            ("ProviderId", self.provider_id.is_some()),
            ("WebIdentityToken", self.web_identity_token.is_some()),
        ];
        present.into_iter().filter(|(_, given)| *given).map(|(name, _)| name).collect()
    }
}

/// Reads typed values out of the JSON shape. In a query every value is a string, so integers
/// and booleans are taken as their text there (and in JSON too: the API's own examples send
/// `"ProjectId": "0"`).
struct Reader {
    source: Source,
}

impl Reader {
    /// The error for a value of the wrong shape at `name`.
    fn wrong(&self, name: &str, expected: &str) -> ApiError {
        match self.source {
            Source::Query => unknown(name),
            Source::Json => invalid(format!("`{name}` must be {expected}.")),
        }
    }

    fn string(&self, value: &Value, name: &str) -> Result<String, ApiError> {
        value.as_str().map(str::to_owned).ok_or_else(|| self.wrong(name, "a string"))
    }

    fn strings(&self, value: &Value, name: &str) -> Result<Vec<String>, ApiError> {
        let bad = || self.wrong(name, "an array of strings");
        value
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect()
    }

    fn list<T>(
        &self,
        value: &Value,
        name: &str,
        item: impl Fn(&Value, &str) -> Result<T, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        let items = value.as_array().ok_or_else(|| self.wrong(name, "an array"))?;
        items.iter().enumerate().map(|(i, v)| item(v, &format!("{name}.{i}"))).collect()
    }

    fn integer(&self, value: &Value, name: &str) -> Result<i64, ApiError> {
        let number = match value {
            Value::String(text) => text.parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => return Err(self.wrong(name, "an integer")),
        };
        number.ok_or_else(|| {
            ApiError::new("InvalidParameterValue", format!("The parameter `{name}` must be an integer."))
        })
    }

    fn boolean(&self, value: &Value, name: &str) -> Result<bool, ApiError> {
        match value {
            Value::Bool(b) => Ok(*b),
            // The Python SDK writes a GET boolean as Python does: `True`.
            Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
            Value::String(_) => Err(ApiError::new(
                "InvalidParameterValue",
                format!("The parameter `{name}` must be true or false."),
            )),
            _ => Err(self.wrong(name, "a boolean")),
        }
    }

    /// The fields of the object at `name`, which may have only `known` ones.
    fn object<'v>(
        &self,
        value: &'v Value,
        name: &str,
        known: &[&str],
    ) -> Result<&'v Map<String, Value>, ApiError> {
        let fields = value.as_object().ok_or_else(|| self.wrong(name, "an object"))?;
        match fields.keys().find(|k| !known.contains(&k.as_str())) {
            Some(other) => Err(unknown(&format!("{name}.{other}"))),
            None => Ok(fields),
        }
    }

    fn optional_string(
        &self,
        fields: &Map<String, Value>,
        field: &str,
        at: &str,
    ) -> Result<Option<String>, ApiError> {
        match fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string(v, &format!("{at}.{field}")).map(Some),
        }
    }

    fn filter(&self, value: &Value, at: &str) -> Result<Filter, ApiError> {
        let fields = self.object(value, at, &["Name", "Values"])?;
        let name = self.optional_string(fields, "Name", at)?.ok_or_else(|| {
            ApiError::new("MissingParameter", format!("The parameter `{at}.Name` is missing."))
        })?;
        let values = match fields.get("Values") {
            Some(v) if !v.is_null() => self.strings(v, &format!("{at}.Values"))?,
            _ => {
                return Err(ApiError::new(
                    "MissingParameter",
                    format!("The parameter `{at}.Values` is missing."),
                ))
            }
        };
        Ok(Filter { name, values })
    }

    fn tag_spec(&self, value: &Value, at: &str) -> Result<TagSpec, ApiError> {
        let fields = self.object(value, at, &["ResourceType", "Tags"])?;
        let tags = match fields.get("Tags") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => self.list(v, &format!("{at}.Tags"), |tag, tag_at| {
                let tag_fields = self.object(tag, tag_at, &["Key", "Value"])?;
                Ok(TagParam {
                    key: self.optional_string(tag_fields, "Key", tag_at)?,
                    value: self.optional_string(tag_fields, "Value", tag_at)?,
                })
            })?,
        };
        Ok(TagSpec { resource_type: self.optional_string(fields, "ResourceType", at)?, tags })
    }
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
        let f = from_query.filters.as_ref().unwrap();
        assert_eq!(
            (f[0].name.as_str(), f[0].values.as_slice()),
            ("key-name", &["my key".to_owned(), "b&c".to_owned()][..])
        );
        assert_eq!((from_query.offset, from_query.limit), (Some(5), Some(50)));
        assert_eq!(from_query.given(), ["KeyIds", "Filters", "Offset", "Limit"]);
    }

    #[test]
    fn every_new_parameter_reads_the_same_from_a_query_and_from_json() {
        let params = json!({
            "KeyName": "ci_key",
            "ProjectId": 7,
            "PublicKey": "ssh-ed25519 AAAA a b",
            "KeyId": "skey-aaaaaaaa",
            "Description": "for CI",
            "InstanceIds": ["ins-aaaaaaaa", "ins-bbbbbbbb"],
            "ForceStop": true,
            "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "team", "Value": "a b"}, {"Key": "env"}]}],
        });
        let fields = params.as_object().unwrap();
        let query = encode_query(fields.iter().map(|(name, value)| (name.as_str(), value)));
        let from_query = Params::from_query(&query).unwrap();
        assert_eq!(from_query, Params::from_json(params.to_string().as_bytes()).unwrap(), "{query}");
        assert_eq!((from_query.project_id, from_query.force_stop), (Some(7), Some(true)));
        let spec = &from_query.tag_specification.as_ref().unwrap()[0];
        assert_eq!(spec.resource_type.as_deref(), Some("keypair"));
        assert_eq!(spec.tags[1], TagParam { key: Some("env".into()), value: None });
        let string_number = Params::from_json(br#"{"ProjectId": "0", "ForceStop": "false"}"#).unwrap();
        assert_eq!((string_number.project_id, string_number.force_stop), (Some(0), Some(false)));
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
        assert_eq!(code(Params::from_query("Filters.1.Name=a&Filters.1.Values.0=b")), "InvalidParameter");
    }

    #[test]
    fn unknown_or_mistyped_parameters_are_errors() {
        for bad in [
            "KeyId.0=a",
            "KeyIds=a",
            "KeyIds.01=a",
            "KeyIds.-1=a",
            "KeyIds.99999=a",
            "KeyIds.x=a",
            "KeyIds=a&KeyIds.0=b",
            "KeyIds.0=a&KeyIds.x=b",
            "Action=DeleteKeyPairs",
            "keyids.0=a",
            "Offset.0=1",
            "Filters.0.Name.x=a",
            "Filters.0.Other=a",
            "TagSpecification.0.Tags.0.Owner=a",
            "KeyIds..0=a",
            "A.B.C.D.E.F.G.H.I=1",
        ] {
            assert_eq!(code(Params::from_query(bad)), "UnknownParameter", "{bad}");
        }
        assert_eq!(code(Params::from_query("Offset=x")), "InvalidParameterValue");
        assert_eq!(code(Params::from_query("ForceStop=yes")), "InvalidParameterValue");
        for (text, value) in [("true", true), ("True", true), ("false", false), ("FALSE", false)] {
            assert_eq!(
                Params::from_query(&format!("ForceStop={text}")).unwrap().force_stop,
                Some(value),
                "{text}"
            );
        }
        assert_eq!(code(Params::from_json(br#"{"KeyId": ["a"]}"#)), "InvalidParameter");
        assert_eq!(code(Params::from_json(br#"{"KeyIdz": ["a"]}"#)), "UnknownParameter");
        assert_eq!(
            code(Params::from_json(br#"{"Filters": [{"Name": "a", "Values": [], "X": 1}]}"#)),
            "UnknownParameter"
        );
        for bad in [
            &br#"{"KeyIds": "skey-aaaaaaaa"}"#[..],
            br#"{"KeyIds": [1]}"#,
            br#"{"ForceStop": 1}"#,
            br#"{"TagSpecification": [{"Tags": "k=v"}]}"#,
            b"[]",
            b"",
            b"{",
            b"\xff",
        ] {
            assert_eq!(code(Params::from_json(bad)), "InvalidParameter", "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(code(Params::from_json(br#"{"Filters": [{"Name": "a"}]}"#)), "MissingParameter");
        assert_eq!(code(Params::from_json(br#"{"Limit": 1.5}"#)), "InvalidParameterValue");
        assert_eq!(Params::from_json(br#"{"KeyIds": null}"#).unwrap(), Params::default());
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(code(Params::from_json(deep.as_bytes())), "InvalidParameter");
    }
}
