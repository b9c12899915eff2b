//! The emulator's key pairs and instances, and every action's effect on them, pure and in
//! memory.
//!
//! Every action is all or nothing, as the API's are: a request is checked completely (counts,
//! formats, existence, states, bindings) before anything changes. Key pairs and instances are
//! kept ordered by id so Describe pages are stable.
//!
//! Which key pairs an instance uses is held on the instance, as in the API (the instance's
//! `LoginSettings.KeyIds`); a key pair's `AssociatedInstanceIds` are derived from them.
//! (Dis)associating is asynchronous: the request is accepted at once and the instance shows
//! `LatestOperationState` `OPERATING`; the change becomes visible — in `AssociatedInstanceIds`,
//! to DeleteKeyPairs and in `LoginSettings` — when [`Settings::async_delay`] has passed on the
//! caller's monotonic clock, which every method that reads or changes state is given.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::api::ApiError;
use super::faults::SplitMix64;
use super::keys;
use super::params::{Filter, Params, TagSpec};

/// The most ids of one kind one request may name.
const MAX_IDS: usize = 100;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const DEFAULT_CREATED_TIME: &str = "2024-01-01T00:00:00Z";
/// What an instance runs when a seed does not say.
pub(crate) const DEFAULT_OS_NAME: &str = "TencentOS Server 3.1 (TK4)";
const MAX_KEY_NAME: usize = 25;
const MAX_DESCRIPTION: usize = 60;

/// A key pair id, an instance id or a seed file the emulator refuses; its `Display` says which
/// and why, e.g. `invalid key pair id "skey-1122": a key pair id is "skey-" and 8 characters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub(crate) String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// The shape of one kind of id: a prefix and eight of `[0-9a-z]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdRule {
    prefix: &'static str,
    noun: &'static str,
    article: &'static str,
    malformed: &'static str,
}

pub(crate) const KEY_IDS: IdRule =
    IdRule { prefix: "skey-", noun: "key pair", article: "a", malformed: "InvalidKeyPairId.Malformed" };
pub(crate) const INSTANCE_IDS: IdRule =
    IdRule { prefix: "ins-", noun: "instance", article: "an", malformed: "InvalidInstanceId.Malformed" };

impl IdRule {
    /// Why `id` is not such an id, if it is not one.
    fn problem(self, id: &str) -> Option<String> {
        let (prefix, noun, a) = (self.prefix, self.noun, self.article);
        let Some(rest) = id.strip_prefix(prefix) else {
            return Some(format!("{a} {noun} id starts with {prefix:?}"));
        };
        if rest.len() != 8 {
            return Some(format!("{a} {noun} id is {prefix:?} and 8 characters"));
        }
        if !rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
            return Some(format!("after {prefix:?} only 0-9 and a-z are allowed"));
        }
        None
    }

    /// Checks that `id` is such an id; the error quotes it (at most 64 characters).
    pub(crate) fn check(self, id: &str) -> Result<(), InputError> {
        match self.problem(id) {
            None => Ok(()),
            Some(why) => Err(InputError(format!("invalid {} id {}: {why}", self.noun, quoted(id, 64)))),
        }
    }

    /// Checks the count and format of `ids` in a request; returns them in order, repeats
    /// removed. `name` is the parameter, for `MissingParameter`.
    fn list(self, ids: Option<&[String]>, name: &str) -> Result<Vec<String>, ApiError> {
        let ids = match ids {
            Some(ids) if !ids.is_empty() => ids,
            _ => return Err(missing(name)),
        };
        if ids.len() > MAX_IDS {
            return Err(ApiError::new(
                "InvalidParameterValue.LimitExceeded",
                format!("At most {MAX_IDS} {} ids per request, got {}.", self.noun, ids.len()),
            ));
        }
        let malformed: Vec<String> =
            ids.iter().filter(|id| self.problem(id).is_some()).map(|id| quoted(id, 32)).collect();
        if !malformed.is_empty() {
            return Err(ApiError::new(
                self.malformed,
                format!(
                    "Malformed {} ids [{}]; an id is {} and 8 of [0-9a-z].",
                    self.noun,
                    malformed.join(", "),
                    self.prefix
                ),
            ));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        Ok(ids.iter().filter(|id| seen.insert(id.as_str())).cloned().collect())
    }
}

fn missing(name: &str) -> ApiError {
    ApiError::new("MissingParameter", format!("The request is missing the required parameter `{name}`."))
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

/// One key pair held by the emulator; also one key pair object of a seed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyPair {
    /// The id, `skey-` and eight of `[0-9a-z]` (checked by [`KeyPair::new`], [`parse_seed`](crate::parse_seed),
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
    /// Instances using the key pair (`ins-` and eight of `[0-9a-z]`); a bound key pair cannot
    /// be deleted. An instance the emulator does not have yet is added, `STOPPED` and running
    /// Linux.
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
    /// assert_eq!(kp.key_name, "key_aaaaaaaa");
    /// assert_eq!(
    ///     KeyPair::new("skey-AAAAAAAA").unwrap_err().to_string(),
    ///     r#"invalid key pair id "skey-AAAAAAAA": after "skey-" only 0-9 and a-z are allowed"#
    /// );
    /// # Ok::<(), cvm_keypairs_emulator::InputError>(())
    /// ```
    pub fn new(key_id: &str) -> Result<Self, InputError> {
        KEY_IDS.check(key_id)?;
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

    pub(crate) fn fill_defaults(&mut self) {
        let id = self.key_id.as_str();
        if self.key_name.is_empty() {
            self.key_name = format!("key_{}", id.strip_prefix(KEY_IDS.prefix).unwrap_or(id));
        }
        if self.public_key.is_empty() {
            // A well-formed key line whose 32 key bytes spell "emulator placeholder public key!".
            self.public_key = format!(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVtdWxhdG9yIHBsYWNlaG9sZGVyIHB1YmxpYyBrZXkh {id}"
            );
        }
        if self.created_time.is_empty() {
            self.created_time = DEFAULT_CREATED_TIME.to_owned();
        }
    }

    /// Whether an instance or an image uses the key pair.
    pub fn is_bound(&self) -> bool {
        !self.associated_instance_ids.is_empty() || !self.associated_image_ids.is_empty()
    }

    /// Checks its id and those of its instances.
    pub(crate) fn check_ids(&self) -> Result<(), InputError> {
        KEY_IDS.check(&self.key_id)?;
        self.associated_instance_ids.iter().try_for_each(|id| INSTANCE_IDS.check(id))
    }

    /// The key pair as DescribeKeyPairs shows it: no `PrivateKey` (the API leaves it out, it
    /// does not send null) and no image bindings.
    fn to_api(&self, instance_ids: &[String]) -> Value {
        json!({
            "KeyId": self.key_id,
            "KeyName": self.key_name,
            "ProjectId": self.project_id,
            "Description": self.description,
            "PublicKey": self.public_key,
            "AssociatedInstanceIds": instance_ids,
            "CreatedTime": self.created_time,
            "Tags": self.tags,
        })
    }
}

/// An instance's state; only these two are emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InstanceState {
    /// `RUNNING`: key pairs can be (dis)associated only with `ForceStop`.
    Running,
    /// `STOPPED`.
    Stopped,
}

impl InstanceState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InstanceState::Running => "RUNNING",
            InstanceState::Stopped => "STOPPED",
        }
    }
}

/// One instance held by the emulator; also one instance object of a seed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The id, `ins-` and eight of `[0-9a-z]`.
    pub instance_id: String,
    /// Its state as DescribeInstances shows it now.
    pub instance_state: InstanceState,
    /// Its operating system; one whose name contains `windows` (any case) takes no key pairs.
    pub os_name: String,
}

impl Instance {
    /// A `STOPPED` Linux instance; fails if the id is malformed.
    ///
    /// ```
    /// use cvm_keypairs_emulator::{Instance, InstanceState};
    /// let running = Instance { instance_state: InstanceState::Running, ..Instance::new("ins-12345678")? };
    /// assert_eq!(running.os_name, "TencentOS Server 3.1 (TK4)");
    /// # Ok::<(), cvm_keypairs_emulator::InputError>(())
    /// ```
    pub fn new(instance_id: &str) -> Result<Self, InputError> {
        INSTANCE_IDS.check(instance_id)?;
        Ok(Instance {
            instance_id: instance_id.to_owned(),
            instance_state: InstanceState::Stopped,
            os_name: DEFAULT_OS_NAME.to_owned(),
        })
    }

    fn is_windows(&self) -> bool {
        self.os_name.to_ascii_lowercase().contains("windows")
    }
}

/// How the store behaves, from [`EmulatorConfig`](crate::EmulatorConfig).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) bound_behavior: BoundBehavior,
    pub(crate) key_quota: usize,
    pub(crate) async_delay: Duration,
    pub(crate) force_stop_restarts: bool,
}

/// An instance and the work on it.
#[derive(Debug)]
struct Machine {
    instance: Instance,
    /// The key pairs it uses, as visible now.
    key_ids: Vec<String>,
    latest: Option<Operation>,
    pending: Option<Pending>,
}

/// The instance's latest operation, as DescribeInstances shows it.
#[derive(Debug)]
struct Operation {
    action: &'static str,
    request_id: String,
    done: bool,
}

/// What an accepted (dis)association does when its delay is over.
#[derive(Debug)]
struct Pending {
    due: Instant,
    key_ids: Vec<String>,
    state: InstanceState,
}

impl Machine {
    fn new(instance: Instance) -> Self {
        Machine { instance, key_ids: Vec::new(), latest: None, pending: None }
    }

    fn to_api(&self) -> Value {
        let latest = self.latest.as_ref();
        json!({
            "InstanceId": self.instance.instance_id,
            "InstanceState": self.instance.instance_state,
            "OsName": self.instance.os_name,
            "LoginSettings": {"KeyIds": self.key_ids},
            "LatestOperation": latest.map(|op| op.action),
            "LatestOperationState": latest.map(|op| if op.done { "SUCCESS" } else { "OPERATING" }),
            "LatestOperationRequestId": latest.map(|op| op.request_id.as_str()),
        })
    }
}

/// The key pairs and instances, by id.
#[derive(Debug)]
pub(crate) struct Store {
    /// Their `associated_instance_ids` are empty: the instances hold the bindings.
    pairs: BTreeMap<String, KeyPair>,
    instances: BTreeMap<String, Machine>,
    settings: Settings,
    /// How many instances have a pending operation, so settling is free when none has.
    pending: usize,
    rng: SplitMix64,
}

/// One (dis)association request, checked.
struct Binding {
    instance_ids: Vec<String>,
    key_ids: Vec<String>,
    force_stop: bool,
}

impl Store {
    pub(crate) fn new(pairs: Vec<KeyPair>, instances: Vec<Instance>, settings: Settings, seed: u64) -> Self {
        let mut store = Store {
            pairs: BTreeMap::new(),
            instances: BTreeMap::new(),
            settings,
            pending: 0,
            rng: SplitMix64::new(seed),
        };
        for instance in instances {
            store.instances.insert(instance.instance_id.clone(), Machine::new(instance));
        }
        for kp in pairs {
            store.insert(kp);
        }
        store
    }

    /// Adds a key pair or replaces the one with its id; its `associated_instance_ids` become
    /// the instances' (added when missing) at once.
    pub(crate) fn insert(&mut self, mut kp: KeyPair) {
        kp.fill_defaults();
        // Only a key pair already present can be bound; a large seed adds none twice.
        if self.pairs.contains_key(&kp.key_id) {
            for machine in self.instances.values_mut() {
                machine.key_ids.retain(|id| *id != kp.key_id);
            }
        }
        for instance_id in std::mem::take(&mut kp.associated_instance_ids) {
            let machine = self.instances.entry(instance_id.clone()).or_insert_with(|| {
                Machine::new(Instance {
                    instance_id,
                    instance_state: InstanceState::Stopped,
                    os_name: DEFAULT_OS_NAME.to_owned(),
                })
            });
            if !machine.key_ids.contains(&kp.key_id) {
                machine.key_ids.push(kp.key_id.clone());
            }
        }
        self.pairs.insert(kp.key_id.clone(), kp);
    }

    /// Applies every (dis)association whose delay is over at `now`.
    pub(crate) fn settle(&mut self, now: Instant) {
        if self.pending == 0 {
            return;
        }
        for machine in self.instances.values_mut() {
            if machine.pending.as_ref().is_some_and(|p| p.due <= now) {
                let Some(done) = machine.pending.take() else { continue };
                // A key pair deleted in the meantime is not bound to anything.
                machine.key_ids = done.key_ids.into_iter().filter(|id| self.pairs.contains_key(id)).collect();
                machine.instance.instance_state = done.state;
                if let Some(op) = &mut machine.latest {
                    op.done = true;
                }
                self.pending -= 1;
            }
        }
    }

    /// Which instances use each key pair, as visible now.
    fn bindings(&self) -> HashMap<&str, Vec<String>> {
        let mut by_key: HashMap<&str, Vec<String>> = HashMap::new();
        for (instance_id, machine) in &self.instances {
            for key_id in &machine.key_ids {
                by_key.entry(key_id).or_default().push(instance_id.clone());
            }
        }
        by_key
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.pairs.contains_key(id)
    }

    /// The key pairs with their instances, by id.
    pub(crate) fn all(&self) -> Vec<KeyPair> {
        let bindings = self.bindings();
        let with_instances = |kp: &KeyPair| KeyPair {
            associated_instance_ids: bindings.get(kp.key_id.as_str()).cloned().unwrap_or_default(),
            ..kp.clone()
        };
        self.pairs.values().map(with_instances).collect()
    }

    /// The instances, by id.
    pub(crate) fn instances(&self) -> Vec<Instance> {
        self.instances.values().map(|m| m.instance.clone()).collect()
    }

    /// DeleteKeyPairs, all or nothing; returns the ids actually deleted.
    pub(crate) fn delete(&mut self, ids: Option<&[String]>) -> Result<Vec<String>, ApiError> {
        let ids = KEY_IDS.list(ids, "KeyIds")?;
        self.check_exist(&ids)?;
        let bindings = self.bindings();
        let is_bound = |id: &String| bindings.contains_key(id.as_str()) || self.pairs[id].is_bound();
        let bound: Vec<&str> = ids.iter().filter(|id| is_bound(id)).map(String::as_str).collect();
        if !bound.is_empty() && self.settings.bound_behavior == BoundBehavior::Error {
            return Err(ApiError::new(
                "InvalidParameterValue.KeyPairNotSupported",
                format!(
                    "The key pairs [{}] are used by an instance or image and cannot be deleted.",
                    bound.join(", ")
                ),
            ));
        }
        let deleted: Vec<String> = ids.into_iter().filter(|id| !is_bound(id)).collect();
        for id in &deleted {
            self.pairs.remove(id);
        }
        Ok(deleted)
    }

    fn check_exist(&self, ids: &[String]) -> Result<(), ApiError> {
        let missing: Vec<&str> =
            ids.iter().filter(|id| !self.pairs.contains_key(*id)).map(String::as_str).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            "InvalidKeyPairId.NotFound",
            format!("The key pair ids [{}] do not exist.", missing.join(", ")),
        ))
    }

    /// DescribeKeyPairs: the total count and the `KeyPairSet` page.
    pub(crate) fn describe(&self, q: &Params) -> Result<(usize, Vec<Value>), ApiError> {
        if q.key_ids.is_some() && q.filters.is_some() {
            return Err(ApiError::new(
                "InvalidParameter",
                "KeyIds and Filters cannot be specified at the same time.",
            ));
        }
        let (offset, limit) = page(q)?;
        let matching: Vec<&KeyPair> = match (&q.key_ids, &q.filters) {
            (Some(ids), _) => {
                let ids = KEY_IDS.list(Some(ids), "KeyIds")?;
                ids.iter().filter_map(|id| self.pairs.get(id)).collect()
            }
            (None, Some(filters)) => {
                let checks = filters.iter().map(key_pair_filter).collect::<Result<Vec<_>, _>>()?;
                self.pairs.values().filter(|kp| checks.iter().all(|check| check(kp))).collect()
            }
            (None, None) => self.pairs.values().collect(),
        };
        let bindings = self.bindings();
        let page = matching
            .iter()
            .skip(offset)
            .take(limit)
            .map(|kp| kp.to_api(bindings.get(kp.key_id.as_str()).map_or(&[][..], Vec::as_slice)))
            .collect();
        Ok((matching.len(), page))
    }

    /// CreateKeyPair: the new key pair as the API returns it, `PrivateKey` included (it is
    /// kept nowhere).
    pub(crate) fn create(
        &mut self,
        q: &Params,
        created_time: String,
    ) -> Result<Map<String, Value>, ApiError> {
        let kp = self.new_key_pair(q, None, created_time)?;
        let (public_key, private_key) = keys::generate(&mut self.rng, &kp.key_name);
        let kp = KeyPair { public_key, ..kp };
        let mut shown = kp.to_api(&[]);
        shown["PrivateKey"] = Value::String(private_key);
        self.insert(kp);
        let mut response = Map::new();
        response.insert("KeyPair".into(), shown);
        Ok(response)
    }

    /// ImportKeyPair: the new key pair's id.
    pub(crate) fn import(&mut self, q: &Params, created_time: String) -> Result<String, ApiError> {
        let public_key = q.public_key.as_deref().ok_or_else(|| missing("PublicKey"))?.trim();
        if let Some(why) = keys::public_key_problem(public_key) {
            return Err(ApiError::new(
                "InvalidPublicKey.Malformed",
                format!("The public key is malformed: {why}."),
            ));
        }
        let kp = self.new_key_pair(q, Some(public_key), created_time)?;
        let key_id = kp.key_id.clone();
        self.insert(kp);
        Ok(key_id)
    }

    /// The checks CreateKeyPair and ImportKeyPair share, in the order the API applies them,
    /// and the key pair they would add.
    fn new_key_pair(
        &mut self,
        q: &Params,
        public_key: Option<&str>,
        created_time: String,
    ) -> Result<KeyPair, ApiError> {
        let key_name = q.key_name.as_deref().ok_or_else(|| missing("KeyName"))?;
        let project_id = q.project_id.ok_or_else(|| missing("ProjectId"))?;
        check_key_name(key_name)?;
        if project_id < 0 {
            return Err(ApiError::new(
                "InvalidProjectId.NotFound",
                format!("There is no project {project_id}."),
            ));
        }
        let tags = tags(q.tag_specification.as_deref().unwrap_or_default())?;
        self.check_name_free(key_name, None)?;
        if let Some(public_key) = public_key {
            let identity = keys::public_key_identity(public_key);
            if let Some(other) =
                self.pairs.values().find(|kp| keys::public_key_identity(&kp.public_key) == identity)
            {
                return Err(ApiError::new(
                    "InvalidPublicKey.Duplicate",
                    format!("The public key is already imported as {}.", other.key_id),
                ));
            }
        }
        if self.pairs.len() >= self.settings.key_quota {
            return Err(ApiError::new(
                "InvalidKeyPair.LimitExceeded",
                format!("The account has {} key pairs, the most it may have.", self.settings.key_quota),
            ));
        }
        let key_id = loop {
            const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
            let bits = self.rng.next_u64();
            let suffix: String =
                (0..8).map(|i| char::from(DIGITS[(bits >> (i * 6)) as usize % 36])).collect();
            let id = format!("{}{suffix}", KEY_IDS.prefix);
            if !self.pairs.contains_key(&id) {
                break id;
            }
        };
        Ok(KeyPair {
            key_id,
            key_name: key_name.to_owned(),
            project_id,
            description: String::new(),
            public_key: public_key.unwrap_or_default().to_owned(),
            associated_instance_ids: Vec::new(),
            associated_image_ids: Vec::new(),
            created_time,
            tags,
        })
    }

    fn check_name_free(&self, name: &str, except: Option<&str>) -> Result<(), ApiError> {
        match self.pairs.values().find(|kp| kp.key_name == name && Some(kp.key_id.as_str()) != except) {
            Some(other) => Err(ApiError::new(
                "InvalidKeyPairName.Duplicate",
                format!("The key pair name {} is used by {}.", quoted(name, 32), other.key_id),
            )),
            None => Ok(()),
        }
    }

    /// ModifyKeyPairAttribute.
    pub(crate) fn modify(&mut self, q: &Params) -> Result<(), ApiError> {
        let key_id = KEY_IDS.list(q.key_id.as_ref().map(std::slice::from_ref), "KeyId")?.remove(0);
        self.check_exist(std::slice::from_ref(&key_id))?;
        if q.key_name.is_none() && q.description.is_none() {
            return Err(ApiError::new("MissingParameter", "Give KeyName, Description or both."));
        }
        if let Some(name) = &q.key_name {
            check_key_name(name)?;
            self.check_name_free(name, Some(&key_id))?;
        }
        if let Some(description) = &q.description {
            let length = description.chars().count();
            if length > MAX_DESCRIPTION {
                return Err(ApiError::new(
                    "InvalidParameterValue.TooLong",
                    format!("A description has at most {MAX_DESCRIPTION} characters, this one {length}."),
                ));
            }
        }
        let kp = self.pairs.get_mut(&key_id).expect("checked to exist");
        if let Some(name) = &q.key_name {
            kp.key_name.clone_from(name);
        }
        if let Some(description) = &q.description {
            kp.description.clone_from(description);
        }
        Ok(())
    }

    /// The checks AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs share.
    fn binding(&self, q: &Params) -> Result<Binding, ApiError> {
        let instance_ids = INSTANCE_IDS.list(q.instance_ids.as_deref(), "InstanceIds")?;
        let key_ids = KEY_IDS.list(q.key_ids.as_deref(), "KeyIds")?;
        self.check_exist(&key_ids)?;
        let unknown: Vec<&str> =
            instance_ids.iter().filter(|id| !self.instances.contains_key(*id)).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(ApiError::new(
                "InvalidInstanceId.NotFound",
                format!("The instances [{}] do not exist.", unknown.join(", ")),
            ));
        }
        let force_stop = q.force_stop.unwrap_or(false);
        let machines: Vec<&Machine> = instance_ids.iter().map(|id| &self.instances[id]).collect();
        let refuse = |code: &'static str, why: &str, which: &dyn Fn(&Machine) -> bool| {
            let ids: Vec<&str> =
                machines.iter().filter(|m| which(m)).map(|m| m.instance.instance_id.as_str()).collect();
            if ids.is_empty() {
                return Ok(());
            }
            Err(ApiError::new(code, format!("The instances [{}] {why}.", ids.join(", "))))
        };
        refuse("UnsupportedOperation.InstanceOsWindows", "run Windows, which takes no key pairs", &|m| {
            m.instance.is_windows()
        })?;
        refuse(
            "OperationDenied.InstanceOperationInProgress",
            "have an operation in progress; wait for LatestOperationState SUCCESS",
            &|m| m.pending.is_some(),
        )?;
        refuse(
            "UnsupportedOperation.InstanceStateRunning",
            "are RUNNING; stop them first or set ForceStop",
            &|m| m.instance.instance_state == InstanceState::Running && !force_stop,
        )?;
        Ok(Binding { instance_ids, key_ids, force_stop })
    }

    /// AssociateInstancesKeyPairs: each instance will use exactly these key pairs (its others
    /// become invalid, as the API says).
    pub(crate) fn associate(&mut self, q: &Params, now: Instant, request_id: &str) -> Result<(), ApiError> {
        let binding = self.binding(q)?;
        let keys = binding.key_ids.clone();
        self.start_binding(binding, "AssociateInstancesKeyPairs", now, request_id, |_| keys.clone());
        Ok(())
    }

    /// DisassociateInstancesKeyPairs: each instance stops using these key pairs (one it does
    /// not use is left as it is).
    pub(crate) fn disassociate(
        &mut self,
        q: &Params,
        now: Instant,
        request_id: &str,
    ) -> Result<(), ApiError> {
        let binding = self.binding(q)?;
        let keys = binding.key_ids.clone();
        self.start_binding(binding, "DisassociateInstancesKeyPairs", now, request_id, |current| {
            current.iter().filter(|id| !keys.contains(id)).cloned().collect()
        });
        Ok(())
    }

    /// Starts the checked `binding` on every instance: a RUNNING one is stopped at once (it
    /// had ForceStop); the new key pairs, and the state after a forced stop, show after the
    /// delay.
    fn start_binding(
        &mut self,
        binding: Binding,
        action: &'static str,
        now: Instant,
        request_id: &str,
        key_ids_after: impl Fn(&[String]) -> Vec<String>,
    ) {
        let due = now + self.settings.async_delay;
        for id in &binding.instance_ids {
            let machine = self.instances.get_mut(id).expect("checked to exist");
            let was_running = machine.instance.instance_state == InstanceState::Running;
            let state = if was_running && binding.force_stop && self.settings.force_stop_restarts {
                InstanceState::Running
            } else {
                InstanceState::Stopped
            };
            machine.instance.instance_state = InstanceState::Stopped;
            machine.pending = Some(Pending { due, key_ids: key_ids_after(&machine.key_ids), state });
            machine.latest = Some(Operation { action, request_id: request_id.to_owned(), done: false });
            self.pending += 1;
        }
    }

    /// DescribeInstances: the total count and the `InstanceSet` page.
    pub(crate) fn describe_instances(&self, q: &Params) -> Result<(usize, Vec<Value>), ApiError> {
        if q.instance_ids.is_some() && q.filters.is_some() {
            return Err(ApiError::new(
                "InvalidParameter",
                "InstanceIds and Filters cannot be specified at the same time.",
            ));
        }
        let (offset, limit) = page(q)?;
        let matching: Vec<&Machine> = match (&q.instance_ids, &q.filters) {
            (Some(ids), _) => {
                let ids = INSTANCE_IDS.list(Some(ids), "InstanceIds")?;
                ids.iter().filter_map(|id| self.instances.get(id)).collect()
            }
            (None, Some(filters)) => {
                let checks = filters.iter().map(instance_filter).collect::<Result<Vec<_>, _>>()?;
                self.instances.values().filter(|m| checks.iter().all(|check| check(&m.instance))).collect()
            }
            (None, None) => self.instances.values().collect(),
        };
        let page = matching.iter().skip(offset).take(limit).map(|m| m.to_api()).collect();
        Ok((matching.len(), page))
    }
}

/// The page `Offset` and `Limit` ask for.
fn page(q: &Params) -> Result<(usize, usize), ApiError> {
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::new("InvalidParameterValueOffset", format!("Offset {offset} is negative.")));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            "InvalidParameterValueLimit",
            format!("Limit {limit} is not from 1 to {MAX_LIMIT}."),
        ));
    }
    Ok((usize::try_from(offset).unwrap_or(usize::MAX), limit as usize))
}

/// A key pair name is 1 to 25 of letters, digits and underscore.
fn check_key_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::new("InvalidKeyPairNameEmpty", "The key pair name is empty."));
    }
    if name.chars().count() > MAX_KEY_NAME {
        return Err(ApiError::new(
            "InvalidKeyPairNameTooLong",
            format!("A key pair name has at most {MAX_KEY_NAME} characters."),
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::new(
            "InvalidKeyPairNameIncludeIllegalChar",
            format!(
                "The key pair name {} has characters other than letters, digits and _.",
                quoted(name, 32)
            ),
        ));
    }
    Ok(())
}

/// The tags of a `TagSpecification` list: only `keypair` resources, each tag with a `Key` and a
/// `Value`, no key twice.
fn tags(specs: &[TagSpec]) -> Result<Vec<Tag>, ApiError> {
    let mut tags: Vec<Tag> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match spec.resource_type.as_deref() {
            None => return Err(missing(&format!("TagSpecification.{i}.ResourceType"))),
            Some("keypair") => {}
            Some(other) => {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!(
                        "TagSpecification.{i}.ResourceType is {}; a key pair takes \"keypair\".",
                        quoted(other, 32)
                    ),
                ))
            }
        }
        for (j, tag) in spec.tags.iter().enumerate() {
            let (Some(key), Some(value)) = (&tag.key, &tag.value) else {
                let part = if tag.key.is_none() { "Key" } else { "Value" };
                return Err(missing(&format!("TagSpecification.{i}.Tags.{j}.{part}")));
            };
            if key.is_empty() {
                return Err(ApiError::new("InvalidParameterValue", "A tag key is empty."));
            }
            if tags.iter().any(|t| t.key == *key) {
                return Err(ApiError::new(
                    "InvalidParameterValue.DuplicateTags",
                    format!("The tag key {} is given twice.", quoted(key, 32)),
                ));
            }
            tags.push(Tag { key: key.clone(), value: value.clone() });
        }
    }
    Ok(tags)
}

type Check<T> = Box<dyn Fn(&T) -> bool>;

/// A DescribeKeyPairs filter: a key pair matches when its field named by the filter equals any
/// of the values.
fn key_pair_filter(filter: &Filter) -> Result<Check<KeyPair>, ApiError> {
    let values = filter.values.clone();
    let name = filter.name.as_str();
    if let Some(tag_key) = name.strip_prefix("tag:").filter(|key| !key.is_empty()) {
        let tag_key = tag_key.to_owned();
        return Ok(Box::new(move |kp| kp.tags.iter().any(|t| t.key == tag_key && values.contains(&t.value))));
    }
    match name {
        "key-id" => Ok(Box::new(move |kp| values.contains(&kp.key_id))),
        "key-name" => Ok(Box::new(move |kp| values.contains(&kp.key_name))),
        "tag-key" => Ok(Box::new(move |kp| kp.tags.iter().any(|t| values.contains(&t.key)))),
        "tag-value" => Ok(Box::new(move |kp| kp.tags.iter().any(|t| values.contains(&t.value)))),
        "project-id" => {
            let projects =
                values.iter().map(|v| v.parse::<i64>()).collect::<Result<Vec<_>, _>>().map_err(|_| {
                    ApiError::new("InvalidParameterValue", "project-id filter values must be integers.")
                })?;
            Ok(Box::new(move |kp| projects.contains(&kp.project_id)))
        }
        other => Err(ApiError::new(
            "InvalidFilter",
            format!(
                "Filter {} is not supported; use key-id, key-name, project-id, tag-key, tag-value or tag:<key>.",
                quoted(other, 32)
            ),
        )),
    }
}

/// A DescribeInstances filter; only `instance-id` and `instance-state` are emulated.
fn instance_filter(filter: &Filter) -> Result<Check<Instance>, ApiError> {
    let values = filter.values.clone();
    match filter.name.as_str() {
        "instance-id" => Ok(Box::new(move |i| values.contains(&i.instance_id))),
        "instance-state" => Ok(Box::new(move |i| values.iter().any(|v| v == i.instance_state.as_str()))),
        other => Err(ApiError::new(
            "InvalidFilter",
            format!("Filter {} is not emulated; use instance-id or instance-state.", quoted(other, 32)),
        )),
    }
}

/// Text from outside, quoted for a message: control characters escaped, at most `max`
/// characters.
pub(crate) fn quoted(text: &str, max: usize) -> String {
    format!("{:?}", text.chars().take(max).collect::<String>())
}

/// `timestamp` as the API writes times, `YYYY-MM-DDThh:mm:ssZ` in UTC.
pub(crate) fn iso_time(timestamp: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(timestamp).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::TagParam;

    const DELAY: Duration = Duration::from_secs(1);
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    fn kp(id: &str) -> KeyPair {
        KeyPair::new(id).unwrap()
    }

    fn bound(id: &str) -> KeyPair {
        KeyPair { associated_instance_ids: vec!["ins-00000001".into()], ..kp(id) }
    }

    fn image_bound(id: &str) -> KeyPair {
        KeyPair { associated_image_ids: vec!["img-00000001".into()], ..kp(id) }
    }

    fn instance(id: &str, state: InstanceState, os_name: &str) -> Instance {
        Instance { instance_state: state, os_name: os_name.into(), ..Instance::new(id).unwrap() }
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

    fn settings(bound_behavior: BoundBehavior) -> Settings {
        Settings { bound_behavior, key_quota: 100, async_delay: DELAY, force_stop_restarts: false }
    }

    fn with(pairs: Vec<KeyPair>, instances: Vec<Instance>, settings: Settings) -> Store {
        Store::new(pairs, instances, settings, 1)
    }

    fn store(bound_behavior: BoundBehavior) -> Store {
        let pairs = vec![
            kp("skey-aaaaaaaa"),
            kp("skey-bbbbbbbb"),
            bound("skey-cccccccc"),
            image_bound("skey-dddddddd"),
        ];
        with(pairs, Vec::new(), settings(bound_behavior))
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
        let pairs = (0..45).map(|i| kp(&format!("skey-{i:08}"))).collect();
        let s = with(pairs, Vec::new(), settings(BoundBehavior::Error));
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

    fn filter(name: &str, values: &[&str]) -> Filter {
        Filter { name: name.into(), values: ids(values) }
    }

    fn filtered(filters: Vec<Filter>) -> Params {
        Params { filters: Some(filters), ..Default::default() }
    }

    #[test]
    fn describe_filters_combine_with_and_and_values_with_or() {
        let mut a = kp("skey-aaaaaaaa");
        a.project_id = 7;
        let mut b = kp("skey-bbbbbbbb");
        b.key_name = "shared".into();
        b.project_id = 7;
        let s = with(vec![a, b, kp("skey-cccccccc")], Vec::new(), settings(BoundBehavior::Error));
        assert_eq!(described(&s, filtered(vec![filter("project-id", &["7"])])).0, 2);
        assert_eq!(
            described(&s, filtered(vec![filter("project-id", &["7"]), filter("key-name", &["shared"])])).1,
            ["skey-bbbbbbbb"]
        );
        assert_eq!(described(&s, filtered(vec![filter("key-id", &["skey-cccccccc", "skey-aaaaaaaa"])])).0, 2);
        assert_eq!(code(s.describe(&filtered(vec![filter("zone", &["x"])]))), "InvalidFilter");
        assert_eq!(code(s.describe(&filtered(vec![filter("tag:", &["x"])]))), "InvalidFilter");
        assert_eq!(code(s.describe(&filtered(vec![filter("project-id", &["x"])]))), "InvalidParameterValue");
        let both = Params { key_ids: Some(vec![]), filters: Some(vec![]), ..Default::default() };
        assert_eq!(code(s.describe(&both)), "InvalidParameter");
    }

    #[test]
    fn tag_filters_match_tag_keys_values_and_key_value_pairs() {
        let tag = |key: &str, value: &str| Tag { key: key.into(), value: value.into() };
        let a = KeyPair { tags: vec![tag("team", "web"), tag("env", "ci")], ..kp("skey-aaaaaaaa") };
        let b = KeyPair { tags: vec![tag("team", "db")], ..kp("skey-bbbbbbbb") };
        let c = KeyPair { tags: vec![tag("owner", "web")], ..kp("skey-cccccccc") };
        let s = with(vec![a, b, c, kp("skey-dddddddd")], Vec::new(), settings(BoundBehavior::Error));
        let found = |filters| described(&s, filtered(filters)).1;
        assert_eq!(found(vec![filter("tag-key", &["team"])]), ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert_eq!(found(vec![filter("tag-key", &["env", "owner"])]), ["skey-aaaaaaaa", "skey-cccccccc"]);
        assert_eq!(found(vec![filter("tag-value", &["web"])]), ["skey-aaaaaaaa", "skey-cccccccc"]);
        assert_eq!(found(vec![filter("tag:team", &["web", "db"])]), ["skey-aaaaaaaa", "skey-bbbbbbbb"]);
        assert_eq!(found(vec![filter("tag:team", &["web"])]), ["skey-aaaaaaaa"]);
        assert_eq!(
            found(vec![filter("tag:owner", &["db"])]),
            Vec::<String>::new(),
            "key and value on one tag"
        );
        assert_eq!(
            found(vec![filter("tag:team", &["web", "db"]), filter("tag-key", &["env"])]),
            ["skey-aaaaaaaa"]
        );
    }

    #[test]
    fn describe_shows_the_documented_fields_but_not_image_bindings_nor_a_private_key() {
        let s = store(BoundBehavior::Error);
        let (_, page) = s.describe(&Params::default()).unwrap();
        for shown in &page {
            let mut fields: Vec<&String> = shown.as_object().unwrap().keys().collect();
            fields.sort();
            assert_eq!(
                fields,
                [
                    "AssociatedInstanceIds",
                    "CreatedTime",
                    "Description",
                    "KeyId",
                    "KeyName",
                    "ProjectId",
                    "PublicKey",
                    "Tags"
                ]
            );
        }
        assert_eq!(page[2]["AssociatedInstanceIds"], json!(["ins-00000001"]));
        assert_eq!(page[3]["AssociatedInstanceIds"], json!([]), "an image binding is not shown");
    }

    #[test]
    fn seeded_bindings_live_on_instances_which_are_added_stopped_linux_when_missing() {
        let windows = instance("ins-00000002", InstanceState::Running, "Windows Server 2019");
        let two = KeyPair {
            associated_instance_ids: ids(&["ins-00000002", "ins-00000001"]),
            ..kp("skey-bbbbbbbb")
        };
        let s =
            with(vec![bound("skey-aaaaaaaa"), two], vec![windows.clone()], settings(BoundBehavior::Error));
        assert_eq!(
            s.instances(),
            [instance("ins-00000001", InstanceState::Stopped, DEFAULT_OS_NAME), windows]
        );
        let all = s.all();
        assert_eq!(all[0].associated_instance_ids, ["ins-00000001"]);
        assert_eq!(all[1].associated_instance_ids, ["ins-00000001", "ins-00000002"]);
        let q = Params { instance_ids: Some(ids(&["ins-00000001"])), ..Default::default() };
        let (_, page) = s.describe_instances(&q).unwrap();
        assert_eq!(page[0]["LoginSettings"]["KeyIds"], json!(["skey-aaaaaaaa", "skey-bbbbbbbb"]));
        assert_eq!(page[0]["LatestOperationState"], Value::Null, "no operation yet");
    }

    fn create(name: &str) -> Params {
        Params { key_name: Some(name.into()), project_id: Some(0), ..Default::default() }
    }

    fn import(name: &str, public_key: &str) -> Params {
        Params { public_key: Some(public_key.into()), ..create(name) }
    }

    fn tagged(q: Params, tags: &[(&str, Option<&str>)]) -> Params {
        let tags =
            tags.iter().map(|(k, v)| TagParam { key: Some((*k).into()), value: v.map(Into::into) }).collect();
        Params { tag_specification: Some(vec![TagSpec { resource_type: Some("keypair".into()), tags }]), ..q }
    }

    #[test]
    fn create_returns_the_private_key_once_and_lists_the_key_with_its_tags() {
        let mut s = with(Vec::new(), Vec::new(), settings(BoundBehavior::Error));
        let made = s
            .create(&tagged(create("ci_1"), &[("team", Some("web"))]), "2025-01-02T03:04:05Z".into())
            .unwrap();
        let key = &made["KeyPair"];
        let key_id = key["KeyId"].as_str().unwrap().to_owned();
        assert_eq!(KEY_IDS.problem(&key_id), None, "{key_id}");
        assert_eq!((key["KeyName"].as_str(), key["ProjectId"].as_i64()), (Some("ci_1"), Some(0)));
        assert_eq!(key["CreatedTime"], "2025-01-02T03:04:05Z");
        let armoured: String =
            key["PrivateKey"].as_str().unwrap().lines().filter(|l| !l.starts_with("---")).collect();
        let inner = keys::base64_decode(&armoured).unwrap();
        assert!(String::from_utf8_lossy(&inner).contains("NOT A REAL PRIVATE KEY"));
        assert_eq!(keys::public_key_problem(key["PublicKey"].as_str().unwrap()), None);
        let (_, page) = s.describe(&filtered(vec![filter("tag:team", &["web"])])).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0]["KeyId"], key_id.as_str());
        assert_eq!(page[0]["PublicKey"], key["PublicKey"]);
        assert_eq!(page[0]["Tags"], json!([{"Key": "team", "Value": "web"}]));
        assert!(page[0].get("PrivateKey").is_none(), "the private key is kept nowhere");
        let other = s.create(&create("ci_2"), "2025-01-02T03:04:05Z".into()).unwrap();
        assert_ne!(other["KeyPair"]["PrivateKey"], key["PrivateKey"]);
        assert_ne!(other["KeyPair"]["KeyId"], key["KeyId"]);
    }

    #[test]
    fn create_and_import_refuse_bad_names_missing_parameters_and_bad_tags() {
        let mut s = with(vec![kp("skey-aaaaaaaa")], Vec::new(), settings(BoundBehavior::Error));
        let t = || "2025-01-01T00:00:00Z".to_owned();
        let name_25 = "a".repeat(25);
        assert!(s.create(&create(&name_25), t()).is_ok(), "25 characters are allowed");
        let no_project = Params { key_name: Some("x".into()), ..Default::default() };
        let bad_type = Params {
            tag_specification: Some(vec![TagSpec {
                resource_type: Some("instance".into()),
                tags: Vec::new(),
            }]),
            ..create("x")
        };
        let no_type = Params { tag_specification: Some(vec![TagSpec::default()]), ..create("x") };
        for (q, expected) in [
            (Params::default(), "MissingParameter"),
            (no_project, "MissingParameter"),
            (create(""), "InvalidKeyPairNameEmpty"),
            (create(&"a".repeat(26)), "InvalidKeyPairNameTooLong"),
            (create("web-1"), "InvalidKeyPairNameIncludeIllegalChar"),
            (create("wéb"), "InvalidKeyPairNameIncludeIllegalChar"),
            (create("key-aaaaaaaa"), "InvalidKeyPairNameIncludeIllegalChar"),
            (create(&name_25), "InvalidKeyPairName.Duplicate"),
            (Params { project_id: Some(-1), ..create("x") }, "InvalidProjectId.NotFound"),
            (bad_type, "InvalidParameterValue"),
            (no_type, "MissingParameter"),
            (tagged(create("x"), &[("k", None)]), "MissingParameter"),
            (tagged(create("x"), &[("", Some("v"))]), "InvalidParameterValue"),
            (
                tagged(create("x"), &[("k", Some("1")), ("k", Some("2"))]),
                "InvalidParameterValue.DuplicateTags",
            ),
        ] {
            assert_eq!(code(s.create(&q, t())), expected, "{q:?}");
            let q = Params { public_key: Some(ED25519.into()), ..q };
            assert_eq!(code(s.import(&q, t())), expected, "import {q:?}");
        }
        assert_eq!(code(s.import(&create("x"), t())), "MissingParameter", "no PublicKey");
        assert_eq!(left(&s).len(), 2, "nothing refused was added");
    }

    #[test]
    fn import_checks_the_public_key_and_refuses_one_imported_already() {
        let mut s = with(Vec::new(), Vec::new(), settings(BoundBehavior::Error));
        let t = || "2025-01-01T00:00:00Z".to_owned();
        let key_id = s.import(&import("laptop", &format!("{ED25519}\n")), t()).unwrap();
        let listed = s.all();
        assert_eq!((listed[0].key_id.as_str(), listed[0].public_key.as_str()), (key_id.as_str(), ED25519));
        let renamed = ED25519.replace("user@host", "other comment");
        let err = s.import(&import("again", &renamed), t()).unwrap_err();
        assert_eq!(
            (err.code, err.message.contains(&key_id)),
            ("InvalidPublicKey.Duplicate", true),
            "{err:?}"
        );
        assert_eq!(code(s.import(&import("laptop", "ssh-rsa AAAA"), t())), "InvalidPublicKey.Malformed");
        for bad in ["ssh-dss AAAAB3NzaC1kc3M=", "ssh-rsa AAAAC3NzaC1lZDI1NTE5", "two\nlines", "-----BEGIN"] {
            assert_eq!(code(s.import(&import("other", bad), t())), "InvalidPublicKey.Malformed", "{bad}");
        }
        assert_eq!(left(&s), [key_id]);
    }

    #[test]
    fn the_key_quota_refuses_one_more_key_pair() {
        let quota = Settings { key_quota: 2, ..settings(BoundBehavior::Error) };
        let mut s = with(vec![kp("skey-aaaaaaaa")], Vec::new(), quota);
        let t = || "2025-01-01T00:00:00Z".to_owned();
        s.create(&create("second"), t()).unwrap();
        assert_eq!(code(s.create(&create("third"), t())), "InvalidKeyPair.LimitExceeded");
        assert_eq!(code(s.import(&import("third", ED25519), t())), "InvalidKeyPair.LimitExceeded");
        s.delete(Some(&ids(&["skey-aaaaaaaa"]))).unwrap();
        assert!(s.import(&import("third", ED25519), t()).is_ok(), "a deleted key frees its place");
    }

    #[test]
    fn modify_renames_and_describes_within_the_rules() {
        let mut s =
            with(vec![kp("skey-aaaaaaaa"), kp("skey-bbbbbbbb")], Vec::new(), settings(BoundBehavior::Error));
        let modify = |name: Option<&str>, description: Option<&str>| Params {
            key_id: Some("skey-aaaaaaaa".into()),
            key_name: name.map(Into::into),
            description: description.map(Into::into),
            ..Default::default()
        };
        s.modify(&modify(Some("renamed"), Some(&"é".repeat(60)))).unwrap();
        s.modify(&modify(Some("renamed"), None)).unwrap();
        let a = &s.all()[0];
        assert_eq!((a.key_name.as_str(), a.description.chars().count()), ("renamed", 60));
        for (q, expected) in [
            (modify(None, None), "MissingParameter"),
            (Params { key_id: None, ..modify(Some("x"), None) }, "MissingParameter"),
            (
                Params { key_id: Some("skey-1".into()), ..modify(Some("x"), None) },
                "InvalidKeyPairId.Malformed",
            ),
            (
                Params { key_id: Some("skey-zzzzzzzz".into()), ..modify(Some("x"), None) },
                "InvalidKeyPairId.NotFound",
            ),
            (modify(Some("key-bbbbbbbb"), None), "InvalidKeyPairNameIncludeIllegalChar"),
            (modify(Some(&"b".repeat(26)), None), "InvalidKeyPairNameTooLong"),
            (modify(None, Some(&"d".repeat(61))), "InvalidParameterValue.TooLong"),
            (modify(Some("new"), Some(&"d".repeat(61))), "InvalidParameterValue.TooLong"),
        ] {
            assert_eq!(code(s.modify(&q)), expected, "{q:?}");
        }
        let mut b = s.all()[1].clone();
        b.key_name = "taken".into();
        s.insert(b);
        assert_eq!(code(s.modify(&modify(Some("taken"), None))), "InvalidKeyPairName.Duplicate");
        assert_eq!(s.all()[0].key_name, "renamed", "a refused modify changes nothing");
    }

    fn bind(instances: &[&str], keys: &[&str], force_stop: bool) -> Params {
        Params {
            instance_ids: Some(ids(instances)),
            key_ids: Some(ids(keys)),
            force_stop: force_stop.then_some(true),
            ..Default::default()
        }
    }

    fn bound_to(s: &Store, key_id: &str) -> Vec<String> {
        s.all().into_iter().find(|kp| kp.key_id == key_id).unwrap().associated_instance_ids
    }

    fn operation(s: &Store, instance_id: &str) -> (String, Value, Value) {
        let q = Params { instance_ids: Some(ids(&[instance_id])), ..Default::default() };
        let shown = s.describe_instances(&q).unwrap().1.remove(0);
        (
            shown["InstanceState"].as_str().unwrap().to_owned(),
            shown["LatestOperationState"].clone(),
            shown["LoginSettings"]["KeyIds"].clone(),
        )
    }

    #[test]
    fn an_association_shows_and_blocks_deletion_only_after_the_delay() {
        let stopped = instance("ins-00000001", InstanceState::Stopped, DEFAULT_OS_NAME);
        let mut s = with(vec![kp("skey-aaaaaaaa")], vec![stopped], settings(BoundBehavior::Error));
        let t0 = Instant::now();
        s.associate(&bind(&["ins-00000001"], &["skey-aaaaaaaa"], false), t0, "rid-1").unwrap();
        assert_eq!(operation(&s, "ins-00000001"), ("STOPPED".into(), json!("OPERATING"), json!([])));
        s.settle(t0 + DELAY - Duration::from_millis(1));
        assert!(bound_to(&s, "skey-aaaaaaaa").is_empty(), "not visible before the delay");
        s.settle(t0 + DELAY);
        assert_eq!(bound_to(&s, "skey-aaaaaaaa"), ["ins-00000001"]);
        assert_eq!(
            operation(&s, "ins-00000001"),
            ("STOPPED".into(), json!("SUCCESS"), json!(["skey-aaaaaaaa"]))
        );
        let q = Params { instance_ids: Some(ids(&["ins-00000001"])), ..Default::default() };
        let shown = &s.describe_instances(&q).unwrap().1[0];
        assert_eq!(
            (&shown["LatestOperation"], &shown["LatestOperationRequestId"]),
            (&json!("AssociateInstancesKeyPairs"), &json!("rid-1"))
        );

        let t1 = t0 + DELAY * 2;
        s.disassociate(&bind(&["ins-00000001"], &["skey-aaaaaaaa"], false), t1, "rid-2").unwrap();
        s.settle(t1 + DELAY / 2);
        assert_eq!(
            code(s.delete(Some(&ids(&["skey-aaaaaaaa"])))),
            "InvalidParameterValue.KeyPairNotSupported"
        );
        assert_eq!(bound_to(&s, "skey-aaaaaaaa"), ["ins-00000001"], "still visibly bound");
        s.settle(t1 + DELAY);
        assert!(bound_to(&s, "skey-aaaaaaaa").is_empty());
        assert_eq!(s.delete(Some(&ids(&["skey-aaaaaaaa"]))).unwrap(), ["skey-aaaaaaaa"]);
    }

    #[test]
    fn a_key_pair_deleted_while_its_association_is_pending_is_bound_to_nothing() {
        let mut s =
            with(vec![kp("skey-aaaaaaaa"), kp("skey-bbbbbbbb")], Vec::new(), settings(BoundBehavior::Error));
        s.insert(bound("skey-cccccccc"));
        let t0 = Instant::now();
        s.associate(&bind(&["ins-00000001"], &["skey-aaaaaaaa", "skey-bbbbbbbb"], false), t0, "r").unwrap();
        s.delete(Some(&ids(&["skey-aaaaaaaa"]))).unwrap();
        s.settle(t0 + DELAY);
        assert_eq!(operation(&s, "ins-00000001").2, json!(["skey-bbbbbbbb"]));
    }

    #[test]
    fn associating_replaces_the_instances_other_key_pairs_and_disassociating_removes_only_those_named() {
        let pairs = vec![bound("skey-aaaaaaaa"), bound("skey-bbbbbbbb"), kp("skey-cccccccc")];
        let mut s = with(pairs, Vec::new(), settings(BoundBehavior::Error));
        let t0 = Instant::now();
        s.associate(&bind(&["ins-00000001"], &["skey-cccccccc"], false), t0, "r").unwrap();
        s.settle(t0 + DELAY);
        assert_eq!(operation(&s, "ins-00000001").2, json!(["skey-cccccccc"]), "the old keys become invalid");
        assert!(bound_to(&s, "skey-aaaaaaaa").is_empty() && bound_to(&s, "skey-bbbbbbbb").is_empty());

        s.associate(&bind(&["ins-00000001"], &["skey-aaaaaaaa", "skey-bbbbbbbb"], false), t0 + DELAY, "r")
            .unwrap();
        s.settle(t0 + DELAY * 2);
        s.disassociate(
            &bind(&["ins-00000001"], &["skey-aaaaaaaa", "skey-cccccccc"], false),
            t0 + DELAY * 2,
            "r",
        )
        .unwrap();
        s.settle(t0 + DELAY * 3);
        assert_eq!(
            operation(&s, "ins-00000001").2,
            json!(["skey-bbbbbbbb"]),
            "a key it did not use is left alone"
        );
    }

    #[test]
    fn running_windows_unknown_busy_and_malformed_instances_are_refused_and_nothing_changes() {
        let instances = vec![
            instance("ins-00000001", InstanceState::Stopped, DEFAULT_OS_NAME),
            instance("ins-00000002", InstanceState::Running, "Ubuntu Server 22.04 LTS 64位"),
            instance("ins-00000003", InstanceState::Stopped, "Windows Server 2022 数据中心版 64位中文版"),
            instance("ins-00000004", InstanceState::Stopped, DEFAULT_OS_NAME),
        ];
        let mut s = with(vec![kp("skey-aaaaaaaa")], instances, settings(BoundBehavior::Error));
        let t0 = Instant::now();
        s.associate(&bind(&["ins-00000004"], &["skey-aaaaaaaa"], false), t0, "r").unwrap();
        let hundred_and_one: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
        let many = Params { instance_ids: Some(hundred_and_one), ..bind(&[], &["skey-aaaaaaaa"], false) };
        for (q, expected) in [
            (bind(&["ins-00000002"], &["skey-aaaaaaaa"], false), "UnsupportedOperation.InstanceStateRunning"),
            (
                bind(&["ins-00000001", "ins-00000003"], &["skey-aaaaaaaa"], true),
                "UnsupportedOperation.InstanceOsWindows",
            ),
            (
                bind(&["ins-00000001", "ins-0000000z"], &["skey-aaaaaaaa"], false),
                "InvalidInstanceId.NotFound",
            ),
            (bind(&["ins-00000001", "ins-1"], &["skey-aaaaaaaa"], false), "InvalidInstanceId.Malformed"),
            (bind(&["ins-00000001"], &["skey-zzzzzzzz"], false), "InvalidKeyPairId.NotFound"),
            (bind(&["ins-00000001"], &["skey-1"], false), "InvalidKeyPairId.Malformed"),
            (
                bind(&["ins-00000004"], &["skey-aaaaaaaa"], false),
                "OperationDenied.InstanceOperationInProgress",
            ),
            (bind(&[], &["skey-aaaaaaaa"], false), "MissingParameter"),
            (bind(&["ins-00000001"], &[], false), "MissingParameter"),
            (many, "InvalidParameterValue.LimitExceeded"),
        ] {
            assert_eq!(code(s.associate(&q, t0, "r")), expected, "{q:?}");
            assert_eq!(code(s.disassociate(&q, t0, "r")), expected, "disassociate {q:?}");
        }
        s.settle(t0 + DELAY);
        assert_eq!(bound_to(&s, "skey-aaaaaaaa"), ["ins-00000004"], "only the accepted request applied");
        assert_eq!(operation(&s, "ins-00000002").0, "RUNNING");
        assert_eq!(operation(&s, "ins-00000001").1, Value::Null);
    }

    #[test]
    fn force_stop_stops_a_running_instance_which_restarts_only_when_configured() {
        for restarts in [false, true] {
            let running = instance("ins-00000001", InstanceState::Running, DEFAULT_OS_NAME);
            let config = Settings { force_stop_restarts: restarts, ..settings(BoundBehavior::Error) };
            let mut s = with(vec![kp("skey-aaaaaaaa")], vec![running], config);
            let t0 = Instant::now();
            s.associate(&bind(&["ins-00000001"], &["skey-aaaaaaaa"], true), t0, "r").unwrap();
            assert_eq!(
                operation(&s, "ins-00000001"),
                ("STOPPED".into(), json!("OPERATING"), json!([])),
                "{restarts}"
            );
            s.settle(t0 + DELAY);
            let after = if restarts { "RUNNING" } else { "STOPPED" };
            assert_eq!(
                operation(&s, "ins-00000001"),
                (after.into(), json!("SUCCESS"), json!(["skey-aaaaaaaa"]))
            );
            // A stopped instance stays as it is, ForceStop or not.
            let mut stopped = with(
                vec![kp("skey-aaaaaaaa")],
                vec![instance("ins-00000002", InstanceState::Stopped, DEFAULT_OS_NAME)],
                config,
            );
            stopped.disassociate(&bind(&["ins-00000002"], &["skey-aaaaaaaa"], true), t0, "r").unwrap();
            stopped.settle(t0 + DELAY);
            assert_eq!(operation(&stopped, "ins-00000002").0, "STOPPED", "{restarts}");
        }
    }

    #[test]
    fn describe_instances_pages_and_filters_by_id_and_state() {
        let instances: Vec<Instance> = (0..30)
            .map(|i| {
                let state = if i % 3 == 0 { InstanceState::Running } else { InstanceState::Stopped };
                instance(&format!("ins-{i:08}"), state, DEFAULT_OS_NAME)
            })
            .collect();
        let s = with(Vec::new(), instances, settings(BoundBehavior::Error));
        let listed = |q: Params| {
            let (total, page) = s.describe_instances(&q).unwrap();
            (total, page.iter().map(|i| i["InstanceId"].as_str().unwrap().to_owned()).collect::<Vec<_>>())
        };
        let (total, first) = listed(Params::default());
        assert_eq!((total, first.len()), (30, 20));
        assert_eq!(listed(Params { offset: Some(25), limit: Some(100), ..Default::default() }).1.len(), 5);
        assert_eq!(listed(filtered(vec![filter("instance-state", &["RUNNING"])])).0, 10);
        let by_id = filtered(vec![
            filter("instance-id", &["ins-00000003", "ins-00000004"]),
            filter("instance-state", &["RUNNING"]),
        ]);
        assert_eq!(listed(by_id).1, ["ins-00000003"]);
        let by_ids =
            Params { instance_ids: Some(ids(&["ins-00000002", "ins-0000zzzz"])), ..Default::default() };
        assert_eq!(listed(by_ids), (1, vec!["ins-00000002".to_owned()]));
        assert_eq!(code(s.describe_instances(&filtered(vec![filter("zone", &["x"])]))), "InvalidFilter");
        let bad = Params { instance_ids: Some(ids(&["i-1"])), ..Default::default() };
        assert_eq!(code(s.describe_instances(&bad)), "InvalidInstanceId.Malformed");
        let both = Params { instance_ids: Some(vec![]), filters: Some(vec![]), ..Default::default() };
        assert_eq!(code(s.describe_instances(&both)), "InvalidParameter");
        assert_eq!(
            code(s.describe_instances(&Params { limit: Some(101), ..Default::default() })),
            "InvalidParameterValueLimit"
        );
    }

    #[test]
    fn the_placeholder_public_key_is_well_formed() {
        assert_eq!(keys::public_key_problem(&kp("skey-aaaaaaaa").public_key), None);
    }

    #[test]
    fn times_are_written_as_the_api_writes_them() {
        assert_eq!(iso_time(784_111_777), "1994-11-06T08:49:37Z");
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
    }
}
