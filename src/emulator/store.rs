//! The emulator's key pairs and the two actions' effect on them, pure and in memory.
//!
//! A delete is all or nothing, as the API's is: it is checked completely (count, format,
//! existence, bindings) before any key pair is removed. Key pairs are kept ordered by id so
//! DescribeKeyPairs pages are stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::ApiError;
use super::params::{Filter, Params};
use crate::error::Error;
use crate::key_id::KeyId;

/// The most ids one request may name.
const MAX_IDS: usize = 100;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const DEFAULT_CREATED_TIME: &str = "2024-01-01T00:00:00Z";

/// What the emulator does with key pairs bound to an instance or image in a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundBehavior {
    /// Fail the whole request with `InvalidParameterValue.KeyPairNotSupported`; nothing in it is
    /// deleted.
    #[default]
    Error,
    /// Succeed, delete the unbound ones and silently keep the bound ones (the API page warns
    /// this can happen).
    Skip,
}

/// A tag on a key pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    /// The tag key.
    pub key: String,
    /// The tag value.
    pub value: String,
}

/// One key pair held by the emulator; also one object of a seed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyPair {
    /// The id, `skey-` and eight of `[0-9a-z]`.
    pub key_id: KeyId,
    /// The name; empty in a seed file means `key-<the id's last 8 characters>`.
    #[serde(default)]
    pub key_name: String,
    /// The project, 0 by default.
    #[serde(default)]
    pub project_id: i64,
    /// A free description.
    #[serde(default)]
    pub description: String,
    /// The public key; empty in a seed file means a placeholder naming the id.
    #[serde(default)]
    pub public_key: String,
    /// Instances using the key pair; a bound key pair cannot be deleted.
    #[serde(default)]
    pub associated_instance_ids: Vec<String>,
    /// Images using the key pair; a bound key pair cannot be deleted. Not shown by
    /// DescribeKeyPairs, as in the API.
    #[serde(default)]
    pub associated_image_ids: Vec<String>,
    /// ISO 8601 creation time; empty in a seed file means `2024-01-01T00:00:00Z`.
    #[serde(default)]
    pub created_time: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl KeyPair {
    /// An unbound key pair with a name, public key and creation time derived from its id.
    ///
    /// ```
    /// use cvm_keypairs::emulator::KeyPair;
    /// let mut kp = KeyPair::new("skey-aaaaaaaa".parse().unwrap());
    /// kp.associated_instance_ids.push("ins-12345678".into());
    /// assert_eq!(kp.key_name, "key-aaaaaaaa");
    /// ```
    pub fn new(key_id: KeyId) -> Self {
        let mut kp = KeyPair {
            key_id,
            key_name: String::new(),
            project_id: 0,
            description: String::new(),
            public_key: String::new(),
            associated_instance_ids: Vec::new(),
            associated_image_ids: Vec::new(),
            created_time: String::new(),
            tags: Vec::new(),
        };
        kp.fill_defaults();
        kp
    }

    fn fill_defaults(&mut self) {
        let id = self.key_id.as_str();
        if self.key_name.is_empty() {
            self.key_name = format!("key-{}", &id[5..]);
        }
        if self.public_key.is_empty() {
            self.public_key =
                format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmulatorPlaceholderPublicKey {id}");
        }
        if self.created_time.is_empty() {
            self.created_time = DEFAULT_CREATED_TIME.to_owned();
        }
    }

    /// Whether an instance or an image uses the key pair.
    pub fn is_bound(&self) -> bool {
        !self.associated_instance_ids.is_empty() || !self.associated_image_ids.is_empty()
    }

    /// The key pair as DescribeKeyPairs shows it.
    fn to_api(&self) -> Value {
        json!({
            "KeyId": self.key_id,
            "KeyName": self.key_name,
            "ProjectId": self.project_id,
            "Description": self.description,
            "PublicKey": self.public_key,
            "PrivateKey": null,
            "AssociatedInstanceIds": self.associated_instance_ids,
            "CreatedTime": self.created_time,
            "Tags": self.tags,
        })
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SeedEntry {
    Id(KeyId),
    KeyPair(Box<KeyPair>),
}

/// Parses a seed file: a JSON array of key pair ids, or of [`KeyPair`] objects (only `KeyId`
/// required), or a mix. Repeated ids and unknown fields are errors.
///
/// ```
/// use cvm_keypairs::emulator::parse_seed;
/// let seed = r#"["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": ["ins-1"]}]"#;
/// let pairs = parse_seed(seed)?;
/// assert!(!pairs[0].is_bound() && pairs[1].is_bound());
/// # Ok::<(), cvm_keypairs::Error>(())
/// ```
pub fn parse_seed(json: &str) -> Result<Vec<KeyPair>, Error> {
    let entries: Vec<SeedEntry> = serde_json::from_str(json).map_err(|e| {
        Error::InvalidInput(format!(
            "seed file: {e} (expected a JSON array of key pair ids or of objects with KeyId, KeyName, \
             ProjectId, Description, PublicKey, AssociatedInstanceIds, AssociatedImageIds, CreatedTime, Tags)"
        ))
    })?;
    let mut pairs = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::new();
    for entry in entries {
        let mut kp = match entry {
            SeedEntry::Id(id) => KeyPair::new(id),
            SeedEntry::KeyPair(kp) => *kp,
        };
        kp.fill_defaults();
        if !seen.insert(kp.key_id) {
            return Err(Error::InvalidInput(format!("seed file: key pair {} is listed twice", kp.key_id)));
        }
        pairs.push(kp);
    }
    Ok(pairs)
}

/// The key pairs, by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pairs: BTreeMap<KeyId, KeyPair>,
    bound_behavior: BoundBehavior,
}

impl Store {
    pub(crate) fn new(pairs: Vec<KeyPair>, bound_behavior: BoundBehavior) -> Self {
        let mut store = Store { pairs: BTreeMap::new(), bound_behavior };
        for kp in pairs {
            store.insert(kp);
        }
        store
    }

    pub(crate) fn insert(&mut self, mut kp: KeyPair) {
        kp.fill_defaults();
        self.pairs.insert(kp.key_id, kp);
    }

    pub(crate) fn get(&self, id: &KeyId) -> Option<&KeyPair> {
        self.pairs.get(id)
    }

    pub(crate) fn all(&self) -> Vec<KeyPair> {
        self.pairs.values().cloned().collect()
    }

    /// Deletes `ids` all or nothing; returns the ids actually deleted.
    pub(crate) fn delete(&mut self, ids: Option<&[String]>) -> Result<Vec<KeyId>, ApiError> {
        let ids = match ids {
            Some(ids) if !ids.is_empty() => check_ids(ids)?,
            _ => {
                return Err(ApiError::new(
                    "MissingParameter",
                    "The request is missing the required parameter `KeyIds`.",
                ))
            }
        };
        let missing: Vec<&str> =
            ids.iter().filter(|id| !self.pairs.contains_key(id)).map(KeyId::as_str).collect();
        if !missing.is_empty() {
            return Err(ApiError::new(
                "InvalidKeyPairId.NotFound",
                format!("The key pair ids [{}] do not exist.", missing.join(", ")),
            ));
        }
        let bound: Vec<&str> =
            ids.iter().filter(|id| self.pairs[*id].is_bound()).map(KeyId::as_str).collect();
        if !bound.is_empty() && self.bound_behavior == BoundBehavior::Error {
            return Err(ApiError::new(
                "InvalidParameterValue.KeyPairNotSupported",
                format!(
                    "The key pairs [{}] are used by an instance or image and cannot be deleted.",
                    bound.join(", ")
                ),
            ));
        }
        let deleted: Vec<KeyId> = ids.into_iter().filter(|id| !self.pairs[id].is_bound()).collect();
        for id in &deleted {
            self.pairs.remove(id);
        }
        Ok(deleted)
    }

    /// Answers DescribeKeyPairs: the total count and the `KeyPairSet` page.
    pub(crate) fn describe(&self, q: &Params) -> Result<(usize, Vec<Value>), ApiError> {
        if q.key_ids.is_some() && q.filters.is_some() {
            return Err(ApiError::new(
                "InvalidParameter",
                "KeyIds and Filters cannot be specified at the same time.",
            ));
        }
        let offset = q.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::new(
                "InvalidParameterValueOffset",
                format!("Offset {offset} is negative."),
            ));
        }
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::new(
                "InvalidParameterValueLimit",
                format!("Limit {limit} is not from 1 to {MAX_LIMIT}."),
            ));
        }
        let matching: Vec<&KeyPair> = match (&q.key_ids, &q.filters) {
            (Some(ids), _) => {
                let ids = check_ids(ids)?;
                ids.iter().filter_map(|id| self.pairs.get(id)).collect()
            }
            (None, Some(filters)) => {
                let checks = filters.iter().map(compile_filter).collect::<Result<Vec<_>, _>>()?;
                self.pairs.values().filter(|kp| checks.iter().all(|check| check(kp))).collect()
            }
            (None, None) => self.pairs.values().collect(),
        };
        let page = matching.iter().skip(offset as usize).take(limit as usize).map(|kp| kp.to_api()).collect();
        Ok((matching.len(), page))
    }
}

type FilterCheck = Box<dyn Fn(&KeyPair) -> bool>;

fn compile_filter(filter: &Filter) -> Result<FilterCheck, ApiError> {
    let values = filter.values.clone();
    match filter.name.as_str() {
        "key-id" => Ok(Box::new(move |kp| values.iter().any(|v| v == kp.key_id.as_str()))),
        "key-name" => Ok(Box::new(move |kp| values.contains(&kp.key_name))),
        "project-id" => {
            let projects =
                values.iter().map(|v| v.parse::<i64>()).collect::<Result<Vec<_>, _>>().map_err(|_| {
                    ApiError::new("InvalidParameterValue", "project-id filter values must be integers.")
                })?;
            Ok(Box::new(move |kp| projects.contains(&kp.project_id)))
        }
        other => Err(ApiError::new(
            "InvalidFilter",
            format!("Filter {other:?} is not supported; use key-id, key-name or project-id."),
        )),
    }
}

/// Checks the count and format of ids; returns them parsed, repeats removed.
fn check_ids(ids: &[String]) -> Result<Vec<KeyId>, ApiError> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("At most {MAX_IDS} key pair ids per request, got {}.", ids.len()),
        ));
    }
    let malformed: Vec<&str> =
        ids.iter().filter(|id| id.parse::<KeyId>().is_err()).map(String::as_str).collect();
    if !malformed.is_empty() {
        let shown: Vec<String> =
            malformed.iter().map(|id| format!("{:?}", id.chars().take(32).collect::<String>())).collect();
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!("Malformed key pair ids [{}]; an id is skey- and 8 of [0-9a-z].", shown.join(", ")),
        ));
    }
    let mut parsed: Vec<KeyId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
    crate::key_id::dedup(&mut parsed);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(id: &str) -> KeyPair {
        KeyPair::new(id.parse().unwrap())
    }

    fn bound(id: &str) -> KeyPair {
        KeyPair { associated_instance_ids: vec!["ins-00000001".into()], ..kp(id) }
    }

    fn image_bound(id: &str) -> KeyPair {
        KeyPair { associated_image_ids: vec!["img-00000001".into()], ..kp(id) }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn left(store: &Store) -> Vec<String> {
        store.all().iter().map(|kp| kp.key_id.to_string()).collect()
    }

    fn code(result: Result<impl std::fmt::Debug, ApiError>) -> &'static str {
        result.expect_err("an error").code
    }

    fn store(bound_behavior: BoundBehavior) -> Store {
        Store::new(
            vec![
                kp("skey-aaaaaaaa"),
                kp("skey-bbbbbbbb"),
                bound("skey-cccccccc"),
                image_bound("skey-dddddddd"),
            ],
            bound_behavior,
        )
    }

    #[test]
    fn delete_removes_the_named_key_pairs_once_each() {
        let mut s = store(BoundBehavior::Error);
        let deleted = s.delete(Some(&ids(&["skey-bbbbbbbb", "skey-aaaaaaaa", "skey-bbbbbbbb"]))).unwrap();
        assert_eq!(deleted.iter().map(KeyId::as_str).collect::<Vec<_>>(), ["skey-bbbbbbbb", "skey-aaaaaaaa"]);
        assert_eq!(left(&s), ["skey-cccccccc", "skey-dddddddd"]);
        assert_eq!(code(s.delete(Some(&ids(&["skey-aaaaaaaa"])))), "InvalidKeyPairId.NotFound");
    }

    #[test]
    fn one_unknown_id_fails_the_whole_delete() {
        let mut s = store(BoundBehavior::Skip);
        let err = s.delete(Some(&ids(&["skey-aaaaaaaa", "skey-zzzzzzzz", "skey-yyyyyyyy"]))).unwrap_err();
        assert_eq!(err.code, "InvalidKeyPairId.NotFound");
        assert!(err.message.contains("skey-zzzzzzzz, skey-yyyyyyyy"), "{}", err.message);
        assert_eq!(left(&s).len(), 4);
    }

    #[test]
    fn malformed_too_many_and_missing_ids_are_rejected_before_anything_else() {
        let mut s = store(BoundBehavior::Error);
        let err = s.delete(Some(&ids(&["skey-aaaaaaaa", "skey-1122", "skey-zzzzzzzz"]))).unwrap_err();
        assert_eq!(err.code, "InvalidKeyPairId.Malformed");
        assert!(err.message.contains("\"skey-1122\"") && !err.message.contains("zzzz"), "{}", err.message);
        let many: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
        assert_eq!(code(s.delete(Some(&many))), "InvalidParameterValue.LimitExceeded");
        assert_eq!(code(s.delete(Some(&[]))), "MissingParameter");
        assert_eq!(code(s.delete(None)), "MissingParameter");
        assert_eq!(left(&s).len(), 4);
    }

    #[test]
    fn bound_key_pairs_fail_the_request_in_error_mode() {
        let mut s = store(BoundBehavior::Error);
        for bound_id in ["skey-cccccccc", "skey-dddddddd"] {
            let err = s.delete(Some(&ids(&["skey-aaaaaaaa", bound_id]))).unwrap_err();
            assert_eq!(err.code, "InvalidParameterValue.KeyPairNotSupported");
            assert!(err.message.contains(bound_id));
        }
        assert_eq!(left(&s).len(), 4, "nothing in a failed request is deleted");
    }

    #[test]
    fn bound_key_pairs_are_silently_kept_in_skip_mode() {
        let mut s = store(BoundBehavior::Skip);
        let deleted = s.delete(Some(&ids(&["skey-aaaaaaaa", "skey-cccccccc", "skey-dddddddd"]))).unwrap();
        assert_eq!(deleted.iter().map(KeyId::as_str).collect::<Vec<_>>(), ["skey-aaaaaaaa"]);
        assert_eq!(left(&s), ["skey-bbbbbbbb", "skey-cccccccc", "skey-dddddddd"]);
    }

    fn described(s: &Store, q: Params) -> (usize, Vec<String>) {
        let (total, page) = s.describe(&q).unwrap();
        (total, page.iter().map(|kp| kp["KeyId"].as_str().unwrap().to_owned()).collect())
    }

    #[test]
    fn describe_by_ids_returns_those_that_exist() {
        let s = store(BoundBehavior::Error);
        let q = Params {
            key_ids: Some(ids(&["skey-bbbbbbbb", "skey-zzzzzzzz", "skey-aaaaaaaa"])),
            ..Default::default()
        };
        assert_eq!(described(&s, q), (2, vec!["skey-bbbbbbbb".to_owned(), "skey-aaaaaaaa".to_owned()]));
        let bad = Params { key_ids: Some(ids(&["skey-AAAAAAAA"])), ..Default::default() };
        assert_eq!(code(s.describe(&bad)), "InvalidKeyPairId.Malformed");
    }

    #[test]
    fn describe_pages_with_offset_and_limit_and_counts_everything() {
        let s = Store::new((0..45).map(|i| kp(&format!("skey-{i:08}"))).collect(), BoundBehavior::Error);
        let (total, first) = described(&s, Params::default());
        assert_eq!((total, first.len(), first[0].as_str()), (45, 20, "skey-00000000"));
        let q = Params { offset: Some(40), limit: Some(100), ..Default::default() };
        let (total, last) = described(&s, q);
        assert_eq!((total, last.len(), last[0].as_str()), (45, 5, "skey-00000040"));
        for (offset, limit, expected) in [
            (Some(-1), None, "InvalidParameterValueOffset"),
            (None, Some(0), "InvalidParameterValueLimit"),
            (None, Some(101), "InvalidParameterValueLimit"),
        ] {
            assert_eq!(code(s.describe(&Params { offset, limit, ..Default::default() })), expected);
        }
    }

    #[test]
    fn describe_filters_combine_with_and_and_values_with_or() {
        let mut a = kp("skey-aaaaaaaa");
        a.project_id = 7;
        let mut b = kp("skey-bbbbbbbb");
        b.key_name = "shared".into();
        b.project_id = 7;
        let s = Store::new(vec![a, b, kp("skey-cccccccc")], BoundBehavior::Error);
        let filter = |name: &str, values: &[&str]| Filter { name: name.into(), values: ids(values) };
        let q = |filters| Params { filters: Some(filters), ..Default::default() };
        assert_eq!(described(&s, q(vec![filter("project-id", &["7"])])).0, 2);
        assert_eq!(
            described(&s, q(vec![filter("project-id", &["7"]), filter("key-name", &["shared"])])).1,
            ["skey-bbbbbbbb"]
        );
        assert_eq!(described(&s, q(vec![filter("key-id", &["skey-cccccccc", "skey-aaaaaaaa"])])).0, 2);
        assert_eq!(code(s.describe(&q(vec![filter("zone", &["x"])]))), "InvalidFilter");
        assert_eq!(code(s.describe(&q(vec![filter("project-id", &["x"])]))), "InvalidParameterValue");
        let both = Params { key_ids: Some(vec![]), filters: Some(vec![]), ..Default::default() };
        assert_eq!(code(s.describe(&both)), "InvalidParameter");
    }

    #[test]
    fn describe_shows_the_documented_fields_but_not_image_bindings() {
        let s = store(BoundBehavior::Error);
        let (_, page) = s.describe(&Params::default()).unwrap();
        let mut fields: Vec<&String> = page[2].as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "AssociatedInstanceIds",
                "CreatedTime",
                "Description",
                "KeyId",
                "KeyName",
                "PrivateKey",
                "ProjectId",
                "PublicKey",
                "Tags"
            ]
        );
        assert_eq!(page[2]["AssociatedInstanceIds"], json!(["ins-00000001"]));
    }

    #[test]
    fn seed_files_take_ids_objects_or_both() {
        let pairs = parse_seed(
            r#"["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "KeyName": "n", "ProjectId": 3,
                "AssociatedImageIds": ["img-1"], "Tags": [{"Key": "k", "Value": "v"}]}]"#,
        )
        .unwrap();
        assert_eq!(pairs[0], kp("skey-aaaaaaaa"));
        assert_eq!((pairs[1].key_name.as_str(), pairs[1].project_id, pairs[1].is_bound()), ("n", 3, true));
        assert_eq!(pairs[1].created_time, DEFAULT_CREATED_TIME);
        for bad in [
            "{}",
            r#"["skey-1122"]"#,
            r#"[{"KeyName": "no id"}]"#,
            r#"[{"KeyId": "skey-aaaaaaaa", "Typo": 1}]"#,
            r#"["skey-aaaaaaaa", {"KeyId": "skey-aaaaaaaa"}]"#,
        ] {
            assert!(matches!(parse_seed(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
        assert!(parse_seed("[]").unwrap().is_empty());
    }
}
