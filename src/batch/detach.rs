//! Detaching key pairs from their instances before deleting them ([`BatchOptions::detach`]).
//!
//! The API deletes no key pair bound to an instance, and unbinds only stopped instances (or
//! running ones it may force-stop), asynchronously. So a detach looks at every key pair, learns
//! the state of the instances they are bound to, unbinds them (a running instance only with
//! [`BatchOptions::force_stop`]), and waits until DescribeKeyPairs shows each unbinding; the
//! rounds then delete them like any other key pair. A key pair that could not be detached is
//! kept, and never sent to DeleteKeyPairs.
//!
//! [`BatchOptions::detach`]: super::BatchOptions::detach
//! [`BatchOptions::force_stop`]: super::BatchOptions::force_stop

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::binding::{self, Pair};
use super::ledger::State;
use super::run::{instances, Run};
use super::{Detached, Reason, StoppedInstance};
use crate::actions::describe_instances::DescribeInstances;
use crate::actions::instances_key_pairs::DisassociateInstancesKeyPairs;
use crate::actions::validate::is_instance_id;
use crate::actions::validate::MAX_IDS;
use crate::error::{Error, FailureCode};
use crate::key_id::KeyId;

/// A key pair and instances it is bound to.
type Binding = (KeyId, Vec<String>);

/// The state of an instance the API can unbind a key pair from only by stopping it first.
const RUNNING: &str = "RUNNING";

impl Run<'_, '_> {
    /// Detaches every key pair still to be deleted that is bound to instances.
    pub(super) fn detach(&mut self) -> Result<(), Error> {
        let bound = self.bound_key_pairs()?;
        if bound.is_empty() || self.stopped() {
            return Ok(());
        }
        let Some(states) = self.instance_states(&bound)? else { return Ok(()) };
        let (plain, forced) = self.plan(bound, &states);
        let mut unbinding = Vec::new();
        self.unbind(plain, None, &mut unbinding)?;
        self.unbind(forced, Some(&states), &mut unbinding)?;
        self.wait_unbound(unbinding);
        self.progress();
        Ok(())
    }

    /// What DescribeKeyPairs shows of the key pairs still to be deleted: those it shows absent
    /// are settled, and those bound to instances returned.
    fn bound_key_pairs(&mut self) -> Result<Vec<Binding>, Error> {
        let ids = self.ledger().ids_where(|s| matches!(s, State::Pending { .. }));
        let mut bound = Vec::new();
        for chunk in ids.chunks(MAX_IDS) {
            if self.stopped() {
                break;
            }
            match self.existing(chunk) {
                Ok(seen) => self.ledger().apply(&seen, |_, id, pair| {
                    if !pair.associated_instance_ids.is_empty() {
                        bound.push((*id, pair.associated_instance_ids.clone()));
                    }
                }),
                Err(e) if e.is_auth() && !e.is_retryable() && self.ledger().untouched() => return Err(e),
                Err(e) => self.check_failed(chunk, &e)?,
            }
        }
        self.progress();
        Ok(bound)
    }

    /// The state of each instance of `bound` that DescribeInstances shows. If it fails, every
    /// key pair of `bound` fails with it (nothing is unbound blind) and there is none.
    fn instance_states(&mut self, bound: &[Binding]) -> Result<Option<HashMap<String, String>>, Error> {
        let mut all: Vec<String> =
            bound.iter().flat_map(|(_, ids)| ids.iter().filter(|id| is_instance_id(id)).cloned()).collect();
        all.sort_unstable();
        all.dedup();
        let mut states = HashMap::new();
        for chunk in all.chunks(MAX_IDS) {
            let outcome = self.client.instances(&DescribeInstances::by_ids(chunk)?, self.hooks);
            self.ledger().request_ids.extend(outcome.request_ids);
            match outcome.result {
                Ok(list) => {
                    self.ledger().request_ids.push(list.request_id);
                    states.extend(list.instances.into_iter().map(|i| (i.instance_id, i.instance_state)));
                }
                Err(e) if e.is_auth() && !e.is_retryable() && self.ledger().untouched() => return Err(e),
                Err(e) => {
                    let keys: Vec<KeyId> = bound.iter().map(|(key, _)| *key).collect();
                    if !self.ends_run(&e, &keys, &[]) {
                        let why =
                            "DescribeInstances failed, so the states of its instances are unknown and it \
                                   was not detached";
                        self.ledger().fail(&keys, &Arc::new(Reason::of(&e).noted(why)), false);
                    }
                    return Ok(None);
                }
            }
        }
        Ok(Some(states))
    }

    /// Splits `bound` into the key pairs to unbind as they are and those to unbind by
    /// force-stopping a running instance; keeps those it may not unbind.
    fn plan(
        &mut self,
        bound: Vec<Binding>,
        states: &HashMap<String, String>,
    ) -> (Vec<Binding>, Vec<Binding>) {
        let (mut plain, mut forced) = (Vec::new(), Vec::new());
        for (key, instance_ids) in bound {
            let malformed: Vec<String> =
                instance_ids.iter().filter(|id| !is_instance_id(id)).cloned().collect();
            let running: Vec<String> = instance_ids
                .iter()
                .filter(|id| states.get(*id).is_some_and(|s| s == RUNNING))
                .cloned()
                .collect();
            let refusal = if !malformed.is_empty() {
                format!(
                    "bound to {}, not well-formed instance ids, so it was not detached",
                    instances(&malformed)
                )
            } else if running.is_empty() {
                plain.push((key, instance_ids));
                continue;
            } else if self.options.force_stop {
                forced.push((key, instance_ids));
                continue;
            } else {
                format!(
                    "bound to running {}: the API detaches key pairs only from stopped instances; stop them, or \
                     let the API force-stop them (force_stop, --force-stop)",
                    instances(&running)
                )
            };
            let reason = Reason { code: FailureCode::StillBound, message: refusal, request_id: None };
            self.ledger().set(&key, State::Kept(Arc::new(reason)));
        }
        (plain, forced)
    }

    /// Unbinds `group` (with `ForceStop` when `force` gives the instances' states), adding the
    /// pairs the API accepted to `unbinding`. A request of several key pairs that fails is
    /// split into one per key pair, so each keeps its own answer.
    fn unbind(
        &mut self,
        group: Vec<Binding>,
        force: Option<&HashMap<String, String>>,
        unbinding: &mut Vec<Pair>,
    ) -> Result<(), Error> {
        let mut queue = requests(group);
        while let Some(request) = queue.pop() {
            if self.stopped() {
                return Ok(());
            }
            let keys: Vec<KeyId> = request.iter().map(|(key, _)| *key).collect();
            let instance_ids: Vec<&String> = request.iter().flat_map(|(_, ids)| ids).collect();
            let mut action = DisassociateInstancesKeyPairs::new(&keys, &instance_ids)?;
            if force.is_some() {
                action = action.with_force_stop(true);
            }
            let outcome = self.client.disassociate(&action, self.hooks);
            self.ledger().request_ids.extend(outcome.request_ids);
            let error = match outcome.result {
                Ok(receipt) => {
                    self.ledger().request_ids.push(receipt.request_id);
                    self.detached(&request, force, unbinding);
                    continue;
                }
                Err(error) => error,
            };
            if error.is_auth() && !error.is_retryable() && self.ledger().untouched() {
                return Err(error);
            }
            let waiting: Vec<Vec<KeyId>> =
                queue.iter().map(|r| r.iter().map(|(key, _)| *key).collect()).collect();
            if self.ends_run(&error, &keys, &waiting) {
                return Ok(());
            }
            if request.len() > 1 {
                queue.extend(request.into_iter().map(|binding| vec![binding]));
                continue;
            }
            let (key, ids) = &request[0];
            let why = format!("DisassociateInstancesKeyPairs did not detach it from {}", instances(ids));
            let reason = Arc::new(Reason::of(&error).noted(&why));
            match error {
                // The API answered: the key pair is still there, bound.
                Error::Api { .. } => self.ledger().set(key, State::Kept(reason)),
                _ => self.ledger().fail(&[*key], &reason, false),
            }
        }
        Ok(())
    }

    /// Records that the API accepted unbinding `request`.
    fn detached(
        &mut self,
        request: &[Binding],
        force: Option<&HashMap<String, String>>,
        unbinding: &mut Vec<Pair>,
    ) {
        let mut ledger = self.ledger();
        for (key, ids) in request {
            unbinding.extend(ids.iter().map(|id| (*key, id.clone())));
            self.just_detached.insert(*key);
            match ledger.detached.iter_mut().find(|d| d.key_id == *key) {
                Some(known) => known.instance_ids.extend(ids.iter().cloned()),
                None => ledger.detached.push(Detached { key_id: *key, instance_ids: ids.clone() }),
            }
            let Some(states) = force else { continue };
            for id in ids {
                let was_running = states.get(id).is_some_and(|s| s == RUNNING);
                if was_running && !ledger.stopped.iter().any(|s| s.instance_id == *id) {
                    ledger.stopped.push(StoppedInstance { instance_id: id.clone(), state: None });
                }
            }
        }
    }

    /// Waits until DescribeKeyPairs shows every pair of `unbinding` unbound; the key pairs it
    /// does not show so in time are kept.
    fn wait_unbound(&mut self, unbinding: Vec<Pair>) {
        if unbinding.is_empty() || self.stopped() {
            return;
        }
        let timeout = self.options.detach_timeout;
        let keys: Vec<KeyId> = {
            let mut keys: Vec<KeyId> = unbinding.iter().map(|(key, _)| *key).collect();
            crate::key_id::dedup(&mut keys);
            keys
        };
        let waited = match binding::wait_for(self.client, &unbinding, false, timeout, self.hooks) {
            Ok(waited) => waited,
            Err(e) => {
                if !self.ends_run(&e, &keys, &[]) {
                    let why = "checking that it was detached failed, so it was not deleted";
                    self.ledger().fail(&keys, &Arc::new(Reason::of(&e).noted(why)), false);
                }
                return;
            }
        };
        let mut ledger = self.ledger();
        ledger.request_ids.extend(waited.request_ids.iter().cloned());
        if self.stopped() {
            return;
        }
        let mut still: HashMap<KeyId, Vec<String>> = HashMap::new();
        for (key, instance) in waited.pending {
            still.entry(key).or_default().push(instance);
        }
        let listed: HashSet<KeyId> = still.keys().copied().collect();
        for key in keys.iter().filter(|key| listed.contains(key)) {
            let mut message = format!(
                "DisassociateInstancesKeyPairs accepted detaching it, but after {} s DescribeKeyPairs still shows it \
                 bound to {}, so it was not deleted",
                timeout.as_secs(),
                instances(&still[key])
            );
            if let Some(e) = &waited.last_error {
                message.push_str(&format!(" (the last look failed: {})", FailureCode::of(e)));
            }
            let request_id = waited.request_ids.last().cloned();
            let reason = Reason { code: FailureCode::StillBound, message, request_id };
            ledger.set(key, State::Kept(Arc::new(reason)));
        }
    }

    /// Learns the state, at the end of the run, of every instance it force-stopped.
    pub(super) fn states_of_stopped_instances(&mut self) {
        let ids: Vec<String> = self.ledger().stopped.iter().map(|s| s.instance_id.clone()).collect();
        for chunk in ids.chunks(MAX_IDS) {
            let Ok(request) = DescribeInstances::by_ids(chunk) else { continue };
            if self.stopped() {
                return;
            }
            let outcome = self.client.instances(&request, self.hooks);
            let mut ledger = self.ledger();
            ledger.request_ids.extend(outcome.request_ids);
            let Ok(list) = outcome.result else { continue };
            ledger.request_ids.push(list.request_id);
            for instance in list.instances {
                if let Some(known) = ledger.stopped.iter_mut().find(|s| s.instance_id == instance.instance_id)
                {
                    known.state = Some(instance.instance_state);
                }
            }
        }
    }
}

/// `group` as DisassociateInstancesKeyPairs requests of at most 100 key pairs and 100
/// instances each, in the order to send them (last first).
fn requests(group: Vec<Binding>) -> Vec<Vec<Binding>> {
    let mut requests: Vec<Vec<Binding>> = Vec::new();
    let mut instances: HashSet<String> = HashSet::new();
    for (key, ids) in group {
        for chunk in ids.chunks(MAX_IDS) {
            let new = chunk.iter().filter(|id| !instances.contains(*id)).count();
            match requests.last_mut() {
                Some(last) if last.len() < MAX_IDS && instances.len() + new <= MAX_IDS => {
                    last.push((key, chunk.to_vec()))
                }
                _ => {
                    instances.clear();
                    requests.push(vec![(key, chunk.to_vec())]);
                }
            }
            instances.extend(chunk.iter().cloned());
        }
    }
    requests.reverse();
    requests
}

#[cfg(test)]
mod tests;
