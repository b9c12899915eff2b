//! `DescribeKeyPairs`: list key pairs by id or by filter, a page at a time.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::validate;
use super::{nullable, Tag};
use crate::error::Error;
use crate::key_id::{self, KeyId};
use crate::request::Action;

#[cfg(feature = "ureq")]
/// The most key pairs one page may hold.
pub(crate) const MAX_LIMIT: u64 = validate::MAX_IDS as u64;

/// A condition on the key pairs listed; several values of one filter match any of them, and
/// a request's filters must all match.
///
/// ```
/// use cvm_keypairs::Filter;
/// let filter = Filter::key_names(["deploy", "ci"]);
/// assert_eq!(serde_json::to_string(&filter)?, r#"{"Name":"key-name","Values":["deploy","ci"]}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    #[serde(rename = "Name")]
    name: Cow<'static, str>,
    #[serde(rename = "Values")]
    values: Vec<String>,
}

impl Filter {
    /// `key-name`: key pairs with one of these names.
    pub fn key_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Filter {
        Filter::new("key-name", names)
    }

    /// `project-id`: key pairs in one of these projects (0 is the default project).
    pub fn project_ids(ids: impl IntoIterator<Item = u64>) -> Filter {
        Filter::new("project-id", ids.into_iter().map(|id| id.to_string()))
    }

    /// `tag-key`: key pairs with a tag of one of these keys, whatever its value.
    pub fn tag_keys<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> Filter {
        Filter::new("tag-key", keys)
    }

    /// `tag-value`: key pairs with a tag of one of these values, whatever its key.
    pub fn tag_values<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Filter {
        Filter::new("tag-value", values)
    }

    /// `tag:<key>`: key pairs whose tag `key` has one of these values.
    ///
    /// ```
    /// use cvm_keypairs::Filter;
    /// let filter = Filter::tag("env", ["ci", "staging"]);
    /// assert_eq!(serde_json::to_string(&filter)?, r#"{"Name":"tag:env","Values":["ci","staging"]}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn tag<S: Into<String>>(key: &str, values: impl IntoIterator<Item = S>) -> Filter {
        Filter::new(format!("tag:{key}"), values)
    }

    fn new<S: Into<String>>(
        name: impl Into<Cow<'static, str>>,
        values: impl IntoIterator<Item = S>,
    ) -> Filter {
        Filter { name: name.into(), values: values.into_iter().map(Into::into).collect() }
    }
}

/// A `DescribeKeyPairs` request: all key pairs, or those with given ids, or those matching
/// filters; with an optional offset and page size. Its parameters go in the official SDK's
/// order: `KeyIds`, `Filters`, `Offset`, `Limit`.
///
/// The API takes ids or filters, not both, so a request holds one or the other.
///
/// ```
/// use cvm_keypairs::{DescribeKeyPairs, Filter};
/// let by_name = DescribeKeyPairs::filtered([Filter::key_names(["deploy"])])?.with_limit(50)?;
/// let by_id = DescribeKeyPairs::by_ids(["skey-mv9yzyjj"])?;
/// let everything = DescribeKeyPairs::all();
/// assert_eq!(serde_json::to_string(&by_id)?, r#"{"KeyIds":["skey-mv9yzyjj"]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DescribeKeyPairs {
    #[serde(rename = "KeyIds", skip_serializing_if = "Vec::is_empty")]
    key_ids: Vec<KeyId>,
    #[serde(rename = "Filters", skip_serializing_if = "Vec::is_empty")]
    filters: Vec<Filter>,
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(rename = "Limit", skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
}

impl DescribeKeyPairs {
    /// Every key pair (a page at a time: see [`DescribeKeyPairs::with_limit`]).
    pub fn all() -> Self {
        Self::default()
    }

    /// The key pairs with these ids (strings or [`KeyId`]s): 1 to 100 distinct ids, repeats
    /// removed.
    pub fn by_ids<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Self, Error> {
        Self::of(key_id::parse_all(ids)?)
    }

    /// The key pairs with these ids, already parsed.
    pub(crate) fn of(key_ids: Vec<KeyId>) -> Result<Self, Error> {
        Ok(DescribeKeyPairs { key_ids: validate::key_id_list(key_ids)?, ..Self::default() })
    }

    /// The key pairs matching every filter. Each filter needs at least one value, and at least
    /// one filter is needed (use [`DescribeKeyPairs::all`] for everything).
    pub fn filtered(filters: impl IntoIterator<Item = Filter>) -> Result<Self, Error> {
        let filters: Vec<Filter> = filters.into_iter().collect();
        if filters.is_empty() {
            return Err(Error::InvalidInput("DescribeKeyPairs::filtered needs at least one filter".into()));
        }
        if let Some(empty) = filters.iter().find(|f| f.values.is_empty()) {
            return Err(Error::InvalidInput(format!(
                "the {} filter has no values",
                validate::shown(&empty.name)
            )));
        }
        if filters.iter().any(|f| f.name == "tag:") {
            return Err(Error::InvalidInput("a tag:<key> filter needs a key".into()));
        }
        Ok(DescribeKeyPairs { filters, ..Self::default() })
    }

    #[cfg(feature = "ureq")]
    /// Skips the first `offset` key pairs.
    pub(crate) fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Lists at most `limit` key pairs, 1 to 100 (the API's default is 20).
    pub fn with_limit(mut self, limit: u64) -> Result<Self, Error> {
        self.limit = Some(validate::page_size(limit)?);
        Ok(self)
    }

    #[cfg(feature = "ureq")]
    /// The ids asked for, if any.
    pub(crate) fn key_ids(&self) -> &[KeyId] {
        &self.key_ids
    }

    #[cfg(feature = "ureq")]
    /// The offset, if set.
    pub(crate) fn offset(&self) -> Option<u64> {
        self.offset
    }
}

impl Action for DescribeKeyPairs {
    type Output = DescribeKeyPairsOutput;

    fn name(&self) -> &'static str {
        "DescribeKeyPairs"
    }
}

/// What `DescribeKeyPairs` returns: one page of key pairs (or, from
/// [`crate::Client::describe_all_key_pairs`], every page).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct DescribeKeyPairsOutput {
    /// How many key pairs match in all, across pages.
    #[serde(rename = "TotalCount")]
    pub total_count: u64,
    /// This page's key pairs.
    #[serde(rename = "KeyPairSet", default, deserialize_with = "nullable")]
    pub key_pairs: Vec<KeyPair>,
    /// The request's id (of the last page).
    #[serde(rename = "RequestId", deserialize_with = "crate::bounded::request_id")]
    pub request_id: String,
}

impl DescribeKeyPairsOutput {
    /// Whether exactly the key pairs the API counted are here: only then does a key pair
    /// missing from the list not exist (a listing cut short, or a server that counts more
    /// than it returns, is not evidence of absence).
    pub fn is_complete(&self) -> bool {
        self.key_pairs.len() as u64 == self.total_count
    }
}

/// A key pair as listed. Fields the API leaves out or sends as `null` are empty; fields this
/// crate does not know are ignored. Its JSON form uses the API's names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct KeyPair {
    /// The id, e.g. `skey-mv9yzyjj`.
    #[serde(rename = "KeyId")]
    pub key_id: KeyId,
    /// The name.
    #[serde(rename = "KeyName", default, deserialize_with = "nullable")]
    pub key_name: String,
    /// The project (0 is the default project).
    #[serde(rename = "ProjectId", default, deserialize_with = "nullable")]
    pub project_id: i64,
    /// The description.
    #[serde(rename = "Description", default, deserialize_with = "nullable")]
    pub description: String,
    /// The public key, OpenSSH format.
    #[serde(rename = "PublicKey", default, deserialize_with = "nullable")]
    pub public_key: String,
    /// The instances the key is bound to; a bound key cannot be deleted.
    #[serde(rename = "AssociatedInstanceIds", default, deserialize_with = "nullable")]
    pub associated_instance_ids: Vec<String>,
    /// When the key was created, as the API writes it (ISO 8601, UTC).
    #[serde(rename = "CreatedTime", default, deserialize_with = "nullable")]
    pub created_time: String,
    /// The tags.
    #[serde(rename = "Tags", default, deserialize_with = "nullable")]
    pub tags: Vec<Tag>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn query(req: &DescribeKeyPairs) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    fn json(req: &DescribeKeyPairs) -> Value {
        serde_json::to_value(req).unwrap()
    }

    #[test]
    fn filters_encode_as_the_sdk_vector_says() {
        let vectors: Value =
            serde_json::from_str(include_str!("../../tests/vectors/query-encoding.json")).unwrap();
        let case = vectors["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "describe_get_filters")
            .expect("the describe_get_filters vector");
        let req =
            DescribeKeyPairs::filtered([Filter::key_names(["my key", "k/2"]), Filter::project_ids([0])])
                .unwrap()
                .with_offset(5)
                .with_limit(100)
                .unwrap();
        assert_eq!(query(&req), case["expected_query"].as_str().unwrap());
        let params: serde_json::Map<String, Value> = case["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].clone()))
            .collect();
        assert_eq!(json(&req), Value::Object(params));
    }

    #[test]
    fn ids_and_pages_encode_in_both_forms() {
        let req = DescribeKeyPairs::by_ids(["skey-bbbbbbbb", "skey-aaaaaaaa", "skey-bbbbbbbb"]).unwrap();
        let req = req.with_limit(2).unwrap();
        assert_eq!(query(&req), "KeyIds.0=skey-bbbbbbbb&KeyIds.1=skey-aaaaaaaa&Limit=2");
        assert_eq!(json(&req), serde_json::json!({"KeyIds": ["skey-bbbbbbbb", "skey-aaaaaaaa"], "Limit": 2}));
        let project = DescribeKeyPairs::filtered([Filter::project_ids([7])]);
        assert_eq!(query(&project.unwrap()), "Filters.0.Name=project-id&Filters.0.Values.0=7");
        assert_eq!(query(&DescribeKeyPairs::all()), "");
        assert_eq!(serde_json::to_string(&DescribeKeyPairs::all()).unwrap(), "{}");
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        assert!(
            matches!(DescribeKeyPairs::by_ids(Vec::<KeyId>::new()), Err(Error::InvalidInput(m)) if m.ends_with(", got 0"))
        );
        let many: Vec<KeyId> = (0..101).map(|i| format!("skey-{i:08}").parse().unwrap()).collect();
        assert!(
            matches!(DescribeKeyPairs::by_ids(many), Err(Error::InvalidInput(m)) if m.ends_with(", got 101"))
        );
        assert!(DescribeKeyPairs::filtered([]).is_err());
        assert!(DescribeKeyPairs::filtered([Filter::key_names(Vec::<String>::new())]).is_err());
        assert!(DescribeKeyPairs::all().with_limit(0).is_err());
        assert!(DescribeKeyPairs::all().with_limit(101).is_err());
    }

    #[test]
    fn output_tolerates_nulls_missing_and_unknown_fields() {
        let body = serde_json::json!({
            "TotalCount": 2,
            "KeyPairSet": [
                {"KeyId": "skey-mv9yzyjj", "KeyName": "deploy", "ProjectId": 7, "Description": null,
                 "PublicKey": "ssh-ed25519 AAAA", "AssociatedInstanceIds": ["ins-1"],
                 "CreatedTime": "2020-09-22T09:31:26Z", "Tags": [{"Key": "env", "Value": "prod"}],
                 "PrivateKey": null, "SomethingNew": {"x": 1}},
                {"KeyId": "skey-00000000", "AssociatedInstanceIds": null, "Tags": null}
            ],
            "RequestId": "r-1"
        });
        let out: DescribeKeyPairsOutput = serde_json::from_value(body).unwrap();
        assert_eq!(out.total_count, 2);
        assert_eq!(out.request_id, "r-1");
        let first = &out.key_pairs[0];
        assert_eq!(
            (first.key_name.as_str(), first.project_id, first.description.as_str()),
            ("deploy", 7, "")
        );
        assert_eq!(first.tags, [Tag { key: "env".into(), value: "prod".into() }]);
        assert_eq!(first.associated_instance_ids, ["ins-1"]);
        assert_eq!(out.key_pairs[1].key_id.as_str(), "skey-00000000");
        assert!(out.key_pairs[1].tags.is_empty() && out.key_pairs[1].key_name.is_empty());

        let empty: DescribeKeyPairsOutput =
            serde_json::from_str(r#"{"TotalCount":0,"KeyPairSet":null,"RequestId":"r"}"#).unwrap();
        assert!(empty.key_pairs.is_empty());
        assert!(
            serde_json::from_str::<DescribeKeyPairsOutput>(r#"{"KeyPairSet":[],"RequestId":"r"}"#).is_err()
        );
    }

    #[test]
    fn tag_filters_encode_in_both_forms() {
        let req = DescribeKeyPairs::filtered([
            Filter::tag_keys(["env"]),
            Filter::tag_values(["ci", "prod"]),
            Filter::tag("cost center", ["42"]),
        ])
        .unwrap();
        assert_eq!(
            query(&req),
            "Filters.0.Name=tag-key&Filters.0.Values.0=env\
             &Filters.1.Name=tag-value&Filters.1.Values.0=ci&Filters.1.Values.1=prod\
             &Filters.2.Name=tag%3Acost+center&Filters.2.Values.0=42"
        );
        assert_eq!(
            json(&req),
            serde_json::json!({"Filters": [
                {"Name": "tag-key", "Values": ["env"]},
                {"Name": "tag-value", "Values": ["ci", "prod"]},
                {"Name": "tag:cost center", "Values": ["42"]}
            ]})
        );
        let no_key = DescribeKeyPairs::filtered([Filter::tag("", ["x"])]);
        assert!(matches!(no_key, Err(Error::InvalidInput(m)) if m == "a tag:<key> filter needs a key"));
        let no_values = DescribeKeyPairs::filtered([Filter::tag("env\n", Vec::<String>::new())]);
        assert!(
            matches!(no_values, Err(Error::InvalidInput(m)) if m == r#"the "tag:env\n" filter has no values"#)
        );
    }
}
