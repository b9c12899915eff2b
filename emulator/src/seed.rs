//! Seed files: the key pairs and instances an emulator starts with, read entry by entry so a
//! refusal names the entry, its id and the field, and memory follows the entries, not the text.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::store::{quoted, InputError, Instance, InstanceState, KeyPair, Tag, INSTANCE_IDS};

/// The largest seed text [`parse_seed`] accepts: 1 MiB, room for some 60,000 ids or 3,000 key
/// pairs with every field. It bounds the memory a seed can take to a few tens of MiB.
pub const MAX_SEED_BYTES: usize = 1 << 20;
const KEY_PAIR_FIELDS: &str = "KeyId, KeyName, ProjectId, Description, PublicKey, AssociatedInstanceIds, \
                               AssociatedImageIds, CreatedTime, Tags";
const INSTANCE_FIELDS: &str = "InstanceId, InstanceState, OsName";

/// What a seed file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seed {
    /// The key pairs, in the file's order.
    pub key_pairs: Vec<KeyPair>,
    /// The instances the file lists, in its order (the emulator adds, `STOPPED` and running
    /// Linux, any other instance a key pair names).
    pub instances: Vec<Instance>,
}

/// Parses a seed file, at most [`MAX_SEED_BYTES`] long: either a JSON array of key pairs, or an
/// object `{"KeyPairs": [...], "Instances": [...]}` (both optional). A key pair is its id or a
/// [`KeyPair`] object (only `KeyId` required); an instance is its id or an object with
/// `InstanceId` (required), `InstanceState` (`RUNNING` or `STOPPED`, the default) and `OsName`
/// (a Linux by default).
///
/// An error names the entry (counted from 0, `KeyPairs entry 3` or `Instances entry 0` in the
/// object form) and, when it is known, its id, then the field and what is wrong with it:
/// `entry 3 (skey-bbbbbbbb): AssociatedInstanceIds[1]: expected a string, got the number 7`.
/// Unknown fields, a missing or malformed id and an id listed twice are errors; text that is
/// not JSON is reported with its line and column.
///
/// ```
/// use cvm_keypairs_emulator::{parse_seed, InstanceState};
/// let seed = r#"{"KeyPairs": ["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": ["ins-12345678"]}],
///                "Instances": [{"InstanceId": "ins-12345678", "InstanceState": "RUNNING"}]}"#;
/// let seed = parse_seed(seed)?;
/// assert!(!seed.key_pairs[0].is_bound() && seed.key_pairs[1].is_bound());
/// assert_eq!(seed.instances[0].instance_state, InstanceState::Running);
/// let wrong = r#"[{"KeyId": "skey-bbbbbbbb", "AssociatedInstanceIds": "ins-12345678"}]"#;
/// assert_eq!(
///     parse_seed(wrong).unwrap_err().to_string(),
///     "entry 0 (skey-bbbbbbbb): AssociatedInstanceIds: expected an array of strings, got a string"
/// );
/// # Ok::<(), cvm_keypairs_emulator::InputError>(())
/// ```
pub fn parse_seed(json: &str) -> Result<Seed, InputError> {
    if json.len() > MAX_SEED_BYTES {
        return Err(InputError(format!("more than {MAX_SEED_BYTES} bytes, the most a seed file may hold")));
    }
    let mut state = State::default();
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed =
        serde::Deserializer::deserialize_any(&mut de, SeedVisitor(&mut state)).and_then(|()| de.end());
    match parsed {
        Ok(()) => Ok(state.seed),
        Err(e) => Err(InputError(state.refused.unwrap_or_else(|| e.to_string()))),
    }
}

/// What parsing a seed has gathered: the seed, where each id first came, and why an entry was
/// refused.
#[derive(Default)]
struct State {
    seed: Seed,
    first_at: HashMap<String, usize>,
    refused: Option<String>,
}

impl State {
    /// Records a refusal; the error only stops the parser, the message is the refusal's.
    fn refuse<E: de::Error>(&mut self, why: String) -> E {
        self.refused = Some(why);
        E::custom("refused")
    }
}

struct SeedVisitor<'a>(&'a mut State);

impl<'de> Visitor<'de> for SeedVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of key pair ids and objects, or an object with KeyPairs and Instances")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, entries: A) -> Result<(), A::Error> {
        Entries { state: self.0, list: List::KeyPairs, label: "entry" }.visit_seq(entries)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut seen: Vec<String> = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            if seen.contains(&name) {
                return Err(state.refuse(format!("{name}: given twice")));
            }
            let (list, label) = match name.as_str() {
                "KeyPairs" => (List::KeyPairs, "KeyPairs entry"),
                "Instances" => (List::Instances, "Instances entry"),
                _ => {
                    let why = format!(
                        "unknown field {}; a seed object has KeyPairs and Instances",
                        quoted(&name, 32)
                    );
                    return Err(state.refuse(why));
                }
            };
            map.next_value_seed(Entries { state: &mut *state, list, label })?;
            seen.push(name);
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum List {
    KeyPairs,
    Instances,
}

/// One list of a seed, taken one entry at a time.
struct Entries<'a> {
    state: &'a mut State,
    list: List,
    label: &'static str,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.list {
            List::KeyPairs => f.write_str("an array of key pair ids and objects"),
            List::Instances => f.write_str("an array of instance ids and objects"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let state = self.state;
        while let Some(entry) = entries.next_element::<SeedEntry>()? {
            let seed = &mut state.seed;
            let index = match self.list {
                List::KeyPairs => seed.key_pairs.len(),
                List::Instances => seed.instances.len(),
            };
            let checked = match self.list {
                List::KeyPairs => seed_key_pair(entry).map(|kp| (kp.key_id.clone(), Some(kp), None)),
                List::Instances => seed_instance(entry).map(|i| (i.instance_id.clone(), None, Some(i))),
            };
            // Key pair and instance ids cannot clash: their prefixes differ.
            let checked = checked.and_then(|(id, kp, instance)| match state.first_at.get(&id) {
                Some(first) => {
                    let field = if kp.is_some() { "KeyId" } else { "InstanceId" };
                    Err((Some(id), format!("{field}: listed already as entry {first}")))
                }
                None => {
                    state.first_at.insert(id, index);
                    Ok((kp, instance))
                }
            });
            match checked {
                Ok((kp, instance)) => {
                    seed.key_pairs.extend(kp);
                    seed.instances.extend(instance);
                }
                Err((id, why)) => {
                    let id = id.map(|id| format!(" ({id})")).unwrap_or_default();
                    return Err(state.refuse(format!("{} {index}{id}: {why}", self.label)));
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
        f.write_str("an id or an object")
    }

    fn visit_str<E>(self, id: &str) -> Result<SeedEntry, E> {
        Ok(SeedEntry::Id(id.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SeedEntry, A::Error> {
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

/// Why an entry was refused: its id when known, and what is wrong.
type Refusal = (Option<String>, String);

/// The id and fields of an object entry, its id field checked by `parse_id`; an id entry is
/// the id alone. `what` names the kind for the error on anything else.
fn entry_fields<T>(
    entry: SeedEntry,
    what: &str,
    id_field: &str,
    parse_id: impl Fn(&str) -> Result<T, InputError>,
) -> Result<(T, Vec<(String, Value)>), Refusal> {
    let fields = match entry {
        SeedEntry::Id(id) => return parse_id(&id).map(|t| (t, Vec::new())).map_err(|e| (None, e.0)),
        SeedEntry::Fields(fields) => fields,
        SeedEntry::Other(other) => {
            return Err((None, format!("expected {what} id or an object, got {other}")))
        }
    };
    let (id, parsed) = match fields.iter().find(|(name, _)| name == id_field) {
        None => return Err((None, format!("{id_field}: missing; every object needs one"))),
        Some((_, Value::String(id))) => {
            (id.clone(), parse_id(id).map_err(|e| (None, format!("{id_field}: {e}")))?)
        }
        Some((_, other)) => {
            return Err((None, format!("{id_field}: expected a string, got {}", kind(other))))
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &fields {
        if seen.contains(&name.as_str()) {
            return Err((Some(id), format!("{name}: given twice")));
        }
        seen.push(name);
    }
    Ok((parsed, fields))
}

/// One seed entry as a key pair, or why not.
fn seed_key_pair(entry: SeedEntry) -> Result<KeyPair, Refusal> {
    let (mut kp, fields) = entry_fields(entry, "a key pair", "KeyId", KeyPair::new)?;
    for (name, value) in fields {
        if let Err(why) = set_key_pair_field(&mut kp, &name, value) {
            return Err((Some(kp.key_id), why));
        }
    }
    kp.fill_defaults();
    Ok(kp)
}

/// Sets the field `name` of `kp`, or says what is wrong with it, starting with its name.
fn set_key_pair_field(kp: &mut KeyPair, name: &str, value: Value) -> Result<(), String> {
    // `why` goes on from the field's name: `: what is wrong`, or `[i]…` into an array.
    let at = |why: String| format!("{name}{why}");
    match name {
        "KeyId" => {}
        "KeyName" => kp.key_name = seed_string(value).map_err(at)?,
        "ProjectId" => {
            kp.project_id = value
                .as_i64()
                .ok_or_else(|| at(format!(": expected a 64-bit integer, got {}", kind(&value))))?
        }
        "Description" => kp.description = seed_string(value).map_err(at)?,
        "PublicKey" => kp.public_key = seed_string(value).map_err(at)?,
        "AssociatedInstanceIds" => {
            let ids = seed_strings(value).map_err(at)?;
            for (i, id) in ids.iter().enumerate() {
                INSTANCE_IDS.check(id).map_err(|e| at(format!("[{i}]: {e}")))?;
            }
            kp.associated_instance_ids = ids;
        }
        "AssociatedImageIds" => kp.associated_image_ids = seed_strings(value).map_err(at)?,
        "CreatedTime" => kp.created_time = seed_string(value).map_err(at)?,
        "Tags" => kp.tags = seed_tags(value).map_err(at)?,
        _ => return Err(format!("unknown field {}; the fields are {KEY_PAIR_FIELDS}", quoted(name, 32))),
    }
    Ok(())
}

/// One seed entry as an instance, or why not.
fn seed_instance(entry: SeedEntry) -> Result<Instance, Refusal> {
    let (mut instance, fields) = entry_fields(entry, "an instance", "InstanceId", Instance::new)?;
    for (name, value) in fields {
        let at = |why: String| (Some(instance.instance_id.clone()), format!("{name}{why}"));
        match name.as_str() {
            "InstanceId" => {}
            "InstanceState" => {
                instance.instance_state = match seed_string(value).map_err(at)?.as_str() {
                    "RUNNING" => InstanceState::Running,
                    "STOPPED" => InstanceState::Stopped,
                    other => {
                        return Err(at(format!(": expected RUNNING or STOPPED, got {}", quoted(other, 32))))
                    }
                }
            }
            "OsName" => instance.os_name = seed_string(value).map_err(at)?,
            _ => {
                let why = format!("unknown field {}; the fields are {INSTANCE_FIELDS}", quoted(&name, 32));
                return Err((Some(instance.instance_id), why));
            }
        }
    }
    Ok(instance)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(id: &str) -> KeyPair {
        KeyPair::new(id).unwrap()
    }

    #[test]
    fn seed_files_take_ids_objects_or_both() {
        let seed = parse_seed(
            r#"["skey-aaaaaaaa", {"KeyId": "skey-bbbbbbbb", "KeyName": "n", "ProjectId": 3,
                "AssociatedImageIds": ["img-1"], "Tags": [{"Key": "k", "Value": "v"}]}]"#,
        )
        .unwrap();
        let pairs = &seed.key_pairs;
        assert_eq!(pairs[0], kp("skey-aaaaaaaa"));
        assert_eq!((pairs[1].key_name.as_str(), pairs[1].project_id, pairs[1].is_bound()), ("n", 3, true));
        assert_eq!(pairs[1].created_time, "2024-01-01T00:00:00Z");
        assert!(seed.instances.is_empty());
        assert_eq!(parse_seed("[]").unwrap(), Seed::default());
        assert_eq!(parse_seed("{}").unwrap(), Seed::default());
    }

    #[test]
    fn the_object_form_adds_instances() {
        let seed = parse_seed(
            r#"{"Instances": ["ins-00000001", {"InstanceId": "ins-00000002", "InstanceState": "RUNNING",
                 "OsName": "Windows Server 2019"}, {"InstanceId": "ins-00000003", "InstanceState": "STOPPED"}],
                "KeyPairs": [{"KeyId": "skey-aaaaaaaa", "AssociatedInstanceIds": ["ins-00000002", "ins-0000000x"]}]}"#,
        )
        .unwrap();
        let states: Vec<(&str, InstanceState, &str)> = seed
            .instances
            .iter()
            .map(|i| (i.instance_id.as_str(), i.instance_state, i.os_name.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("ins-00000001", InstanceState::Stopped, "TencentOS Server 3.1 (TK4)"),
                ("ins-00000002", InstanceState::Running, "Windows Server 2019"),
                ("ins-00000003", InstanceState::Stopped, "TencentOS Server 3.1 (TK4)"),
            ]
        );
        assert_eq!(seed.key_pairs[0].associated_instance_ids, ["ins-00000002", "ins-0000000x"]);
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
                format!(r#"[{{{id}, "AssociatedInstanceIds": ["ins-12345678", "ins-1"]}}]"#),
                r#"entry 0 (skey-bbbbbbbb): AssociatedInstanceIds[1]: invalid instance id "ins-1": an instance id is "ins-" and 8 characters"#,
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
            (
                "5".into(),
                "invalid type: integer `5`, expected a JSON array of key pair ids and objects, or an object with \
                 KeyPairs and Instances at line 1 column 1",
            ),
            (r#"["skey-aaaaaaaa""#.into(), "EOF while parsing a list at line 1 column 16"),
            (r#"["skey-aaaaaaaa"] x"#.into(), "trailing characters at line 1 column 19"),
        ] {
            assert_eq!(seed_error(&seed), expected, "{seed}");
        }
    }

    #[test]
    fn object_seed_errors_name_the_list_the_entry_its_id_and_the_field() {
        let ins = r#""InstanceId": "ins-00000001""#;
        for (seed, expected) in [
            (r#"{"KeyPairs": [], "Keys": []}"#.to_owned(), r#"unknown field "Keys"; a seed object has KeyPairs and Instances"#),
            (r#"{"KeyPairs": [], "KeyPairs": []}"#.into(), "KeyPairs: given twice"),
            (
                r#"{"KeyPairs": {"KeyId": "skey-aaaaaaaa"}}"#.into(),
                "invalid type: map, expected an array of key pair ids and objects at line 1 column 13",
            ),
            (r#"{"Instances": "ins-00000001"}"#.into(), "invalid type: string \"ins-00000001\", expected an array of instance ids and objects at line 1 column 28"),
            (
                r#"{"KeyPairs": ["skey-aaaaaaaa", "skey-aaaaaaaa"]}"#.into(),
                "KeyPairs entry 1 (skey-aaaaaaaa): KeyId: listed already as entry 0",
            ),
            (r#"{"Instances": [7]}"#.into(), "Instances entry 0: expected an instance id or an object, got the number 7"),
            (
                r#"{"Instances": ["ins-0000001"]}"#.into(),
                r#"Instances entry 0: invalid instance id "ins-0000001": an instance id is "ins-" and 8 characters"#,
            ),
            (
                r#"{"Instances": [{"InstanceId": "i-00000001"}]}"#.into(),
                r#"Instances entry 0: InstanceId: invalid instance id "i-00000001": an instance id starts with "ins-""#,
            ),
            (r#"{"Instances": [{"InstanceState": "RUNNING"}]}"#.into(), "Instances entry 0: InstanceId: missing; every object needs one"),
            (
                format!(r#"{{"Instances": ["ins-00000002", {{{ins}}}, {{{ins}}}]}}"#),
                "Instances entry 2 (ins-00000001): InstanceId: listed already as entry 1",
            ),
            (
                format!(r#"{{"Instances": [{{{ins}, "InstanceState": "running"}}]}}"#),
                r#"Instances entry 0 (ins-00000001): InstanceState: expected RUNNING or STOPPED, got "running""#,
            ),
            (
                format!(r#"{{"Instances": [{{{ins}, "InstanceState": 1}}]}}"#),
                "Instances entry 0 (ins-00000001): InstanceState: expected a string, got the number 1",
            ),
            (
                format!(r#"{{"Instances": [{{{ins}, "OsName": null}}]}}"#),
                "Instances entry 0 (ins-00000001): OsName: expected a string, got null",
            ),
            (
                format!(r#"{{"Instances": [{{{ins}, "OsName": "a", "OsName": "b"}}]}}"#),
                "Instances entry 0 (ins-00000001): OsName: given twice",
            ),
            (
                format!(r#"{{"Instances": [{{{ins}, "KeyIds": ["skey-aaaaaaaa"]}}]}}"#),
                r#"Instances entry 0 (ins-00000001): unknown field "KeyIds"; the fields are InstanceId, InstanceState, OsName"#,
            ),
        ] {
            assert_eq!(seed_error(&seed), expected, "{seed}");
        }
    }

    #[test]
    fn seed_files_are_bounded_in_size_and_depth() {
        let most = format!("[{}\"skey-aaaaaaaa\"]", " ".repeat(MAX_SEED_BYTES - 17));
        assert_eq!(most.len(), MAX_SEED_BYTES);
        assert_eq!(parse_seed(&most).unwrap().key_pairs.len(), 1);
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
        let deep_instance = format!("{{\"Instances\": [{}{}]}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            seed_error(&deep_instance),
            "Instances entry 0: expected an instance id or an object, got an array"
        );
    }
}
