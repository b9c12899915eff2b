//! The emulator's key pairs and the two actions' effect on them, pure and in memory.
//!
//! A delete is all or nothing, as the API's is: it is checked completely (count, format,
//! existence, bindings) before any key pair is removed. Key pairs are kept ordered by id so
//! DescribeKeyPairs pages are stable.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api::ApiError;
use super::params::{Filter, Params};

/// The most ids one request may name.
const MAX_IDS: usize = 100;
const KEY_ID_PREFIX: &str = "skey-";
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const DEFAULT_CREATED_TIME: &str = "2024-01-01T00:00:00Z";

/// A key pair id or a seed file the emulator refuses; its `Display` says which and why, e.g.
/// `invalid key pair id "skey-1122": a key pair id is "skey-" and 8 characters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Why `id` is not a key pair id (`skey-` and eight of `[0-9a-z]`), if it is not one.
fn key_id_problem(id: &str) -> Option<&'static str> {
    let Some(rest) = id.strip_prefix(KEY_ID_PREFIX) else {
        return Some("a key pair id starts with \"skey-\"");
    };
    if rest.len() != 8 {
        return Some("a key pair id is \"skey-\" and 8 characters");
    }
    if !rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
        return Some("after \"skey-\" only 0-9 and a-z are allowed");
    }
    None
}

/// Checks that `id` is a key pair id; the error quotes it (at most 64 characters).
pub(crate) fn check_key_id(id: &str) -> Result<(), InputError> {
    match key_id_problem(id) {
        None => Ok(()),
        Some(why) => Err(InputError(format!("invalid key pair id {}: {why}", quoted(id, 64)))),
    }
}

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
    /// The id, `skey-` and eight of `[0-9a-z]` (checked by [`KeyPair::new`], [`parse_seed`],
    /// [`Emulator::start`](crate::Emulator::start) and [`Emulator::insert`](crate::Emulator::insert)).
    pub key_id: String,
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
    /// An unbound key pair with a name, public key and creation time derived from its id;
    /// fails if the id is malformed.
    ///
    /// ```
    /// use cvm_keypairs_emulator::KeyPair;
    /// let mut kp = KeyPair::new("skey-aaaaaaaa")?;
    /// kp.associated_instance_ids.push("ins-12345678".into());
    /// assert_eq!(kp.key_name, "key-aaaaaaaa");
    /// assert_eq!(
    ///     KeyPair::new("skey-AAAAAAAA").unwrap_err().to_string(),
    ///     r#"invalid key pair id "skey-AAAAAAAA": after "skey-" only 0-9 and a-z are allowed"#
    /// );
    /// # Ok::<(), cvm_keypairs_emulator::InputError>(())
    /// ```
    pub fn new(key_id: &str) -> Result<Self, InputError> {
        check_key_id(key_id)?;
        let mut kp = KeyPair {
            key_id: key_id.to_owned(),
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
        Ok(kp)
    }

    fn fill_defaults(&mut self) {
        let id = self.key_id.as_str();
        if self.key_name.is_empty() {
            self.key_name = format!("key-{}", id.strip_prefix(KEY_ID_PREFIX).unwrap_or(id));
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

/// The largest seed text [`parse_seed`] accepts: 1 MiB, room for some 60,000 ids or 3,000 key
/// pairs with every field. It bounds the memory a seed can take to a few tens of MiB.
pub const MAX_SEED_BYTES: usize = 1 << 20;
const SEED_FIELDS: &str = "KeyId, KeyName, ProjectId, Description, PublicKey, AssociatedInstanceIds, \
                           AssociatedImageIds, CreatedTime, Tags";

/// Parses a seed file: a JSON array of key pair ids, or of [`KeyPair`] objects (only `KeyId`
/// required), or a mix; at most [`MAX_SEED_BYTES`] long.
///
/// An error names the entry (counted from 0) and, when it is known, its id, then the field and
/// what is wrong with it: `entry 3 (skey-bbbbbbbb): AssociatedInstanceIds[1]: expected a
/// string, got the number 7`. Unknown fields, a missing or malformed `KeyId` and an id listed
/// twice are errors; text that is not JSON is reported with its line and column.
///
/// ```
/// use cvm_keypairs_emulator::parse_seed;
/// let seed = r#"["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": ["ins-1"]}]"#;
/// let pairs = parse_seed(seed)?;
/// assert!(!pairs[0].is_bound() && pairs[1].is_bound());
/// let wrong = r#"[{"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": "ins-1"}]"#;
/// assert_eq!(
///     parse_seed(wrong).unwrap_err().to_string(),
///     "entry 0 (skey-bbbbbbbb): AssociatedInstanceIds: expected an array of strings, got a string"
/// );
/// # Ok::<(), cvm_keypairs_emulator::InputError>(())
/// ```
pub fn parse_seed(json: &str) -> Result<Vec<KeyPair>, InputError> {
    if json.len() > MAX_SEED_BYTES {
        return Err(InputError(format!("more than {MAX_SEED_BYTES} bytes, the most a seed file may hold")));
    }
    let mut seed = Seed::default();
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed =
        serde::Deserializer::deserialize_seq(&mut de, SeedVisitor(&mut seed)).and_then(|()| de.end());
    match parsed {
        Ok(()) => Ok(seed.pairs),
        Err(e) => Err(InputError(seed.refused.unwrap_or_else(|| e.to_string()))),
    }
}

/// What parsing a seed has gathered: the key pairs, where each id first came, and why an
/// entry was refused.
#[derive(Default)]
struct Seed {
    pairs: Vec<KeyPair>,
    first_at: std::collections::HashMap<String, usize>,
    refused: Option<String>,
}

/// Takes the array one entry at a time, so memory follows the key pairs, not the text.
struct SeedVisitor<'a>(&'a mut Seed);

impl<'de> Visitor<'de> for SeedVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of key pair ids and objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let seed = self.0;
        while let Some(entry) = entries.next_element::<SeedEntry>()? {
            let index = seed.pairs.len();
            let checked =
                seed_key_pair(entry).and_then(|kp| match seed.first_at.insert(kp.key_id.clone(), index) {
                    Some(first) => Err((Some(kp.key_id), format!("KeyId: listed already as entry {first}"))),
                    None => Ok(kp),
                });
            match checked {
                Ok(kp) => seed.pairs.push(kp),
                Err((id, why)) => {
                    let id = id.map(|id| format!(" ({id})")).unwrap_or_default();
                    seed.refused = Some(format!("entry {index}{id}: {why}"));
                    return Err(de::Error::custom("refused"));
                }
            }
        }
        Ok(())
    }
}

/// One entry of a seed array as written: an id, an object's fields in order (repeats kept, so
/// they can be refused), or what else it was.
enum SeedEntry {
    Id(String),
    Fields(Vec<(String, Value)>),
    Other(String),
}

impl<'de> Deserialize<'de> for SeedEntry {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SeedEntryVisitor)
    }
}

struct SeedEntryVisitor;

impl<'de> Visitor<'de> for SeedEntryVisitor {
    type Value = SeedEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key pair id or an object")
    }

    fn visit_str<E>(self, id: &str) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Id(id.to_owned()))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<SeedEntry, A::Error> {
        let mut fields = Vec::new();
        while let Some(field) = map.next_entry()? {
            fields.push(field);
        }
        Ok(SeedEntry::Fields(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<SeedEntry, A::Error> {
        while items.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(SeedEntry::Other("an array".into()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Other("a boolean".into()))
    }

    fn visit_i64<E>(self, n: i64) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Other(format!("the number {n}")))
    }

    fn visit_u64<E>(self, n: u64) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Other(format!("the number {n}")))
    }

    fn visit_f64<E>(self, n: f64) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Other(format!("the number {n}")))
    }

    fn visit_unit<E>(self) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Other("null".into()))
    }
}

/// One seed entry as a key pair, or why not: its id when known, and what is wrong.
fn seed_key_pair(entry: SeedEntry) -> Result<KeyPair, (Option<String>, String)> {
    let fields = match entry {
        SeedEntry::Id(id) => return KeyPair::new(&id).map_err(|e| (None, e.0)),
        SeedEntry::Fields(fields) => fields,
        SeedEntry::Other(what) => {
            return Err((None, format!("expected a key pair id or an object, got {what}")))
        }
    };
    let mut kp = match fields.iter().find(|(name, _)| name == "KeyId") {
        None => return Err((None, "KeyId: missing; every object needs one".into())),
        Some((_, Value::String(id))) => KeyPair::new(id).map_err(|e| (None, format!("KeyId: {e}")))?,
        Some((_, other)) => return Err((None, format!("KeyId: expected a string, got {}", kind(other)))),
    };
    let key_id = kp.key_id.clone();
    let refused = |why: String| (Some(key_id.clone()), why);
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in fields {
        if seen.contains(&name) {
            return Err(refused(format!("{name}: given twice")));
        }
        // `why` goes on from the field's name: `: what is wrong`, or `[i]…` into an array.
        let at = |why: String| refused(format!("{name}{why}"));
        match name.as_str() {
            "KeyId" => {}
            "KeyName" => kp.key_name = seed_string(value).map_err(at)?,
            "ProjectId" => {
                kp.project_id = value
                    .as_i64()
                    .ok_or_else(|| at(format!(": expected a 64-bit integer, got {}", kind(&value))))?
            }
            "Description" => kp.description = seed_string(value).map_err(at)?,
            "PublicKey" => kp.public_key = seed_string(value).map_err(at)?,
            "AssociatedInstanceIds" => kp.associated_instance_ids = seed_strings(value).map_err(at)?,
            "AssociatedImageIds" => kp.associated_image_ids = seed_strings(value).map_err(at)?,
            "CreatedTime" => kp.created_time = seed_string(value).map_err(at)?,
            "Tags" => kp.tags = seed_tags(value).map_err(at)?,
            _ => {
                return Err(refused(format!(
                    "unknown field {}; the fields are {SEED_FIELDS}",
                    quoted(&name, 32)
                )))
            }
        }
        seen.push(name);
    }
    kp.fill_defaults();
    Ok(kp)
}

// The seed_* helpers' errors go on from the path of the value they were given: `: why`, or
// `[i]…` / `.Name…` for the part at fault.

fn seed_string(value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(format!(": expected a string, got {}", kind(&other))),
    }
}

fn seed_strings(value: Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(format!(": expected an array of strings, got {}", kind(&value)));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| seed_string(item).map_err(|why| format!("[{i}]{why}")))
        .collect()
}

fn seed_tags(value: Value) -> Result<Vec<Tag>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            ": expected an array of {{\"Key\": …, \"Value\": …}} objects, got {}",
            kind(&value)
        ));
    };
    let tag = |item: Value| {
        let Value::Object(fields) = item else {
            return Err(format!(": expected an object with Key and Value, got {}", kind(&item)));
        };
        let (mut key, mut value) = (None, None);
        for (name, field) in fields {
            let slot = match name.as_str() {
                "Key" => &mut key,
                "Value" => &mut value,
                _ => return Err(format!(": unknown field {}; a tag has Key and Value", quoted(&name, 32))),
            };
            *slot = Some(seed_string(field).map_err(|why| format!(".{name}{why}"))?);
        }
        match (key, value) {
            (Some(key), Some(value)) => Ok(Tag { key, value }),
            (None, _) => Err(".Key: missing".into()),
            (_, None) => Err(".Value: missing".into()),
        }
    };
    items.into_iter().enumerate().map(|(i, item)| tag(item).map_err(|why| format!("[{i}]{why}"))).collect()
}

/// What a JSON value is, for errors; numbers are shown, strings are not.
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Text from outside, quoted for a message: control characters escaped, at most `max`
/// characters.
fn quoted(text: &str, max: usize) -> String {
    format!("{:?}", text.chars().take(max).collect::<String>())
}

/// The key pairs, by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pairs: BTreeMap<String, KeyPair>,
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
        self.pairs.insert(kp.key_id.clone(), kp);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&KeyPair> {
        self.pairs.get(id)
    }

    pub(crate) fn all(&self) -> Vec<KeyPair> {
        self.pairs.values().cloned().collect()
    }

    /// Deletes `ids` all or nothing; returns the ids actually deleted.
    pub(crate) fn delete(&mut self, ids: Option<&[String]>) -> Result<Vec<String>, ApiError> {
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
            ids.iter().filter(|id| !self.pairs.contains_key(*id)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(ApiError::new(
                "InvalidKeyPairId.NotFound",
                format!("The key pair ids [{}] do not exist.", missing.join(", ")),
            ));
        }
        let bound: Vec<&str> =
            ids.iter().filter(|id| self.pairs[*id].is_bound()).map(String::as_str).collect();
        if !bound.is_empty() && self.bound_behavior == BoundBehavior::Error {
            return Err(ApiError::new(
                "InvalidParameterValue.KeyPairNotSupported",
                format!(
                    "The key pairs [{}] are used by an instance or image and cannot be deleted.",
                    bound.join(", ")
                ),
            ));
        }
        let deleted: Vec<String> = ids.into_iter().filter(|id| !self.pairs[id].is_bound()).collect();
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
        "key-id" => Ok(Box::new(move |kp| values.contains(&kp.key_id))),
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

/// Checks the count and format of ids; returns them in order, repeats removed.
fn check_ids(ids: &[String]) -> Result<Vec<String>, ApiError> {
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("At most {MAX_IDS} key pair ids per request, got {}.", ids.len()),
        ));
    }
    let malformed: Vec<&str> =
        ids.iter().filter(|id| key_id_problem(id).is_some()).map(String::as_str).collect();
    if !malformed.is_empty() {
        let shown: Vec<String> = malformed.iter().map(|id| quoted(id, 32)).collect();
        return Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!("Malformed key pair ids [{}]; an id is skey- and 8 of [0-9a-z].", shown.join(", ")),
        ));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    Ok(ids.iter().filter(|id| seen.insert(id.as_str())).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(id: &str) -> KeyPair {
        KeyPair::new(id).unwrap()
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
        store.all().into_iter().map(|kp| kp.key_id).collect()
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
        assert_eq!(deleted, ["skey-bbbbbbbb", "skey-aaaaaaaa"]);
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
        assert_eq!(deleted, ["skey-aaaaaaaa"]);
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
        assert!(parse_seed("[]").unwrap().is_empty());
    }

    fn seed_error(seed: &str) -> String {
        match parse_seed(seed) {
            Err(InputError(why)) => why,
            other => panic!("{seed}: {other:?}"),
        }
    }

    #[test]
    fn seed_errors_name_the_entry_its_id_and_the_field() {
        let id = r#""KeyId": "skey-bbbbbbbb""#;
        for (seed, expected) in [
            (r#"["skey-aaaaaaaa", 7]"#.to_owned(), "entry 1: expected a key pair id or an object, got the number 7"),
            (r#"[[1, [2]]]"#.into(), "entry 0: expected a key pair id or an object, got an array"),
            (r#"[null]"#.into(), "entry 0: expected a key pair id or an object, got null"),
            (
                r#"["skey-1122"]"#.into(),
                r#"entry 0: invalid key pair id "skey-1122": a key pair id is "skey-" and 8 characters"#,
            ),
            (r#"["a", {"KeyName": "no id"}]"#.into(), r#"entry 0: invalid key pair id "a": a key pair id starts with "skey-""#),
            (r#"[{"KeyName": "no id"}]"#.into(), "entry 0: KeyId: missing; every object needs one"),
            (r#"[{"KeyId": 5}]"#.into(), "entry 0: KeyId: expected a string, got the number 5"),
            (
                r#"[{"KeyId": "skey-AAAAAAAA"}]"#.into(),
                r#"entry 0: KeyId: invalid key pair id "skey-AAAAAAAA": after "skey-" only 0-9 and a-z are allowed"#,
            ),
            (
                r#"["skey-aaaaaaaa", "skey-cccccccc", {"KeyId": "skey-aaaaaaaa"}]"#.into(),
                "entry 2 (skey-aaaaaaaa): KeyId: listed already as entry 0",
            ),
            (
                format!(r#"[{{"KeyName": "web", {id}, "KeyId": "skey-cccccccc"}}]"#),
                "entry 0 (skey-bbbbbbbb): KeyId: given twice",
            ),
            (format!(r#"[{{{id}, "KeyName": 5}}]"#), "entry 0 (skey-bbbbbbbb): KeyName: expected a string, got the number 5"),
            (
                format!(r#"[{{{id}, "ProjectId": "7"}}]"#),
                "entry 0 (skey-bbbbbbbb): ProjectId: expected a 64-bit integer, got a string",
            ),
            (
                format!(r#"[{{{id}, "ProjectId": 1.5}}]"#),
                "entry 0 (skey-bbbbbbbb): ProjectId: expected a 64-bit integer, got the number 1.5",
            ),
            (format!(r#"[{{{id}, "Description": null}}]"#), "entry 0 (skey-bbbbbbbb): Description: expected a string, got null"),
            (format!(r#"[{{{id}, "PublicKey": []}}]"#), "entry 0 (skey-bbbbbbbb): PublicKey: expected a string, got an array"),
            (format!(r#"[{{{id}, "CreatedTime": {{}}}}]"#), "entry 0 (skey-bbbbbbbb): CreatedTime: expected a string, got an object"),
            (
                format!(r#"["skey-aaaaaaaa", "skey-cccccccc", "skey-dddddddd", {{"AssociatedInstanceIds": "ins-1", {id}}}]"#),
                "entry 3 (skey-bbbbbbbb): AssociatedInstanceIds: expected an array of strings, got a string",
            ),
            (
                format!(r#"[{{{id}, "AssociatedImageIds": ["img-1", 7]}}]"#),
                "entry 0 (skey-bbbbbbbb): AssociatedImageIds[1]: expected a string, got the number 7",
            ),
            (
                format!(r#"[{{{id}, "Tags": {{"Key": "k"}}}}]"#),
                r#"entry 0 (skey-bbbbbbbb): Tags: expected an array of {"Key": …, "Value": …} objects, got an object"#,
            ),
            (
                format!(r#"[{{{id}, "Tags": [{{"Key": "k", "Value": "v"}}, "k=v"]}}]"#),
                "entry 0 (skey-bbbbbbbb): Tags[1]: expected an object with Key and Value, got a string",
            ),
            (format!(r#"[{{{id}, "Tags": [{{"Key": "k"}}]}}]"#), "entry 0 (skey-bbbbbbbb): Tags[0].Value: missing"),
            (
                format!(r#"[{{{id}, "Tags": [{{"Key": 1, "Value": "v"}}]}}]"#),
                "entry 0 (skey-bbbbbbbb): Tags[0].Key: expected a string, got the number 1",
            ),
            (
                format!(r#"[{{{id}, "Tags": [{{"Key": "k", "Value": "v", "Owner": "x"}}]}}]"#),
                r#"entry 0 (skey-bbbbbbbb): Tags[0]: unknown field "Owner"; a tag has Key and Value"#,
            ),
            (
                format!("[{{{id}, \"Ty\\u001bpo\": 1}}]"),
                "entry 0 (skey-bbbbbbbb): unknown field \"Ty\\u{1b}po\"; the fields are KeyId, KeyName, ProjectId, \
                 Description, PublicKey, AssociatedInstanceIds, AssociatedImageIds, CreatedTime, Tags",
            ),
            ("{}".into(), "invalid type: map, expected a JSON array of key pair ids and objects at line 1 column 0"),
            (r#"["skey-aaaaaaaa""#.into(), "EOF while parsing a list at line 1 column 16"),
            (r#"["skey-aaaaaaaa"] x"#.into(), "trailing characters at line 1 column 19"),
        ] {
            assert_eq!(seed_error(&seed), expected, "{seed}");
        }
    }

    #[test]
    fn seed_files_are_bounded_in_size_and_depth() {
        let most = format!("[{}\"skey-aaaaaaaa\"]", " ".repeat(MAX_SEED_BYTES - 17));
        assert_eq!(most.len(), MAX_SEED_BYTES);
        assert_eq!(parse_seed(&most).unwrap().len(), 1);
        let more = format!(" {most}");
        assert_eq!(seed_error(&more), "more than 1048576 bytes, the most a seed file may hold");
        let deep_field = format!(
            "[{{\"KeyId\": \"skey-aaaaaaaa\", \"Tags\": {}{}}}]",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(
            seed_error(&deep_field).starts_with("recursion limit exceeded"),
            "{}",
            seed_error(&deep_field)
        );
        let deep_entry = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(seed_error(&deep_entry), "entry 0: expected a key pair id or an object, got an array");
    }
}
