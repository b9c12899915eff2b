//! Waiting until DescribeKeyPairs shows key pairs bound to instances, or no longer bound.
//!
//! AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs answer before the change is
//! made: a DeleteKeyPairs right after an unbind can still fail. Only a listing that shows the
//! change is evidence of it, so this polls DescribeKeyPairs, a little more slowly each time,
//! until every pair shows it or the time allowed is spent.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::Api;
use crate::actions::describe_key_pairs::DescribeKeyPairs;
use crate::actions::validate::MAX_IDS;
use crate::error::Error;
use crate::key_id::KeyId;
use crate::observe::{Hooks, WaitReason};

/// The first pause between two looks, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// A key pair and an instance.
pub(crate) type Pair = (KeyId, String);

/// What the last look showed, once every pair showed the change or the time was spent.
#[derive(Debug, Default)]
pub(crate) struct Waited {
    /// The pairs that did not show the change (or whose key pair the listing could not show).
    pub(crate) pending: Vec<Pair>,
    /// The RequestId of every listing page, in order.
    pub(crate) request_ids: Vec<String>,
    /// The latest transient failure of a look, if the last one failed.
    pub(crate) last_error: Option<Error>,
}

/// Looks with DescribeKeyPairs until each of `pairs` shows its key pair bound to its instance
/// (`bound`) or not, or `timeout` has passed, or a stop is requested. A key pair shown absent by
/// a complete answer has no binding. A transient failure of a look leaves its pairs pending, to
/// be looked at again; any other failure ends the wait with it.
pub(crate) fn wait_for(
    client: &dyn Api,
    pairs: &[Pair],
    bound: bool,
    timeout: Duration,
    hooks: &mut Hooks<'_>,
) -> Result<Waited, Error> {
    let deadline = Instant::now() + timeout;
    let mut waited = Waited { pending: pairs.to_vec(), ..Waited::default() };
    let mut pause = FIRST_PAUSE;
    loop {
        waited.last_error = None;
        waited.pending = still_pending(client, bound, hooks, &mut waited)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if waited.pending.is_empty() || left.is_zero() || hooks.stop_requested() {
            return Ok(waited);
        }
        let reason = WaitReason::Binding { pairs: waited.pending.len(), bound, left };
        hooks.wait(pause.min(left), reason);
        pause = (pause * 3 / 2).min(LONGEST_PAUSE);
    }
}

/// The pairs of `pending` that one look does not show changed.
fn still_pending(
    client: &dyn Api,
    bound: bool,
    hooks: &mut Hooks<'_>,
    waited: &mut Waited,
) -> Result<Vec<Pair>, Error> {
    let mut keys: Vec<KeyId> = waited.pending.iter().map(|(key, _)| *key).collect();
    crate::key_id::dedup(&mut keys);
    // For each key pair looked at: its instances, or None when the listing cannot tell.
    let mut shown: HashMap<KeyId, Option<Vec<String>>> = HashMap::new();
    for chunk in keys.chunks(MAX_IDS) {
        let listed = client.list(&DescribeKeyPairs::of(chunk.to_vec())?, hooks);
        let (list, ids) = match listed {
            Ok(listed) => listed,
            Err(e) if e.is_retryable() => {
                waited.request_ids.extend(e.request_id().map(str::to_owned));
                waited.last_error = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        waited.request_ids.extend(ids);
        let complete = list.is_complete();
        let mut found: HashMap<KeyId, Vec<String>> =
            list.key_pairs.into_iter().map(|k| (k.key_id, k.associated_instance_ids)).collect();
        for key in chunk {
            let instances = found.remove(key).or_else(|| complete.then(Vec::new));
            shown.insert(*key, instances);
        }
    }
    Ok(waited
        .pending
        .iter()
        .filter(|(key, instance)| match shown.get(key) {
            Some(Some(instances)) => instances.contains(instance) != bound,
            _ => true,
        })
        .cloned()
        .collect())
}
