//! One batch run: rounds of deleting, isolating the ids a request fails for, and checking.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::ledger::{Ledger, State, Stop};
use super::{Api, BatchOptions, DeletionReport, Reason, Shared};
use crate::actions::delete_key_pairs::DeleteKeyPairs;
use crate::actions::describe_key_pairs::{DescribeKeyPairs, KeyPair};
use crate::actions::validate::MAX_IDS;
use crate::actions::Receipt;
use crate::bounded::{bounded, capped};
use crate::error::{codes, Error, FailureCode};
use crate::key_id::KeyId;
use crate::observe::{Event, Hooks, WaitReason};
use crate::response::MESSAGE_CHARS;
use crate::retry::Attempted;

/// What one DescribeKeyPairs check showed of an id.
pub(super) enum Seen {
    Present(KeyPair),
    /// Proven absent by a complete answer.
    Absent,
    /// The answer was incomplete, for this reason.
    Unknown(Arc<Reason>),
}

/// Codes with which one id fails a whole DeleteKeyPairs request.
fn blames_some_ids(error: &Error) -> bool {
    error.code().is_some_and(|code| {
        [
            codes::KEY_PAIR_NOT_FOUND,
            codes::KEY_PAIR_NOT_SUPPORTED,
            codes::KEY_PAIR_OPERATION_NOT_SUPPORTED,
            codes::INVALID_PARAMETER_VALUE,
        ]
        .contains(&code.as_str())
    })
}

fn is_not_found(error: &Error) -> bool {
    error.code().is_some_and(|code| *code == codes::KEY_PAIR_NOT_FOUND)
}

/// The most instance ids named in one message.
const NAMED_INSTANCES: usize = 10;

/// "instance(s) a, b, c" for at most [`NAMED_INSTANCES`] of `ids`, each at most 32 characters.
pub(super) fn instances(ids: &[String]) -> String {
    let mut named: Vec<String> = ids.iter().take(NAMED_INSTANCES).map(|id| capped(id, 32)).collect();
    if ids.len() > NAMED_INSTANCES {
        named.push(format!("and {} more", ids.len() - NAMED_INSTANCES));
    }
    format!("instance(s) {}", named.join(", "))
}

pub(super) struct Run<'r, 'h> {
    pub(super) client: &'r dyn Api,
    shared: &'r Shared,
    pub(super) options: &'r BatchOptions,
    pub(super) hooks: &'r mut Hooks<'h>,
    /// DeleteKeyPairs requests sent so far; the number of each names its ids' attempt.
    requests: u32,
    pub(super) stop: Option<Stop>,
    /// The key pairs this run detached whose deletion the API has not refused yet: a refusal
    /// right after an unbinding may be the API catching up, so the first one is tried again.
    pub(super) just_detached: HashSet<KeyId>,
    /// Whether this round made a key pair to be tried again in the next one.
    retry_next_round: bool,
}

impl<'r, 'h> Run<'r, 'h> {
    pub(super) fn new(
        client: &'r dyn Api,
        shared: &'r Shared,
        options: &'r BatchOptions,
        hooks: &'r mut Hooks<'h>,
    ) -> Self {
        Run {
            client,
            shared,
            options,
            hooks,
            requests: 0,
            stop: None,
            just_detached: HashSet::new(),
            retry_next_round: false,
        }
    }

    pub(super) fn ledger(&self) -> std::sync::MutexGuard<'r, Ledger> {
        self.shared.ledger()
    }

    pub(super) fn progress(&mut self) {
        let progress = self.ledger().progress();
        self.hooks.event(&Event::Progress(progress));
    }

    pub(super) fn stopped(&self) -> bool {
        self.stop.is_some() || self.hooks.stop_requested()
    }

    /// Round after round until everything is settled, a round settles nothing new, the
    /// rounds are spent, or the run stops.
    pub(super) fn rounds(&mut self) -> Result<(), Error> {
        for round in 1..=self.options.max_rounds.max(1) {
            let settled = self.ledger().settled();
            if round > 1 {
                let open =
                    self.ledger().ids_where(|s| matches!(s, State::Pending { .. } | State::Accepted { .. }));
                if open.is_empty() {
                    break;
                }
                let pause = self.options.round_pause.saturating_mul(1 << (round - 2).min(16));
                self.hooks.wait(pause, WaitReason::NextRound { round, key_pairs: open.len() });
                if self.stopped() {
                    break;
                }
                self.ledger().set_round(round);
                self.recheck(&open)?;
            }
            self.retry_next_round = false;
            let pending = self.ledger().ids_where(|s| matches!(s, State::Pending { .. }));
            for chunk in pending.chunks(MAX_IDS) {
                if self.stopped() {
                    break;
                }
                self.delete(chunk.to_vec())?;
            }
            if self.options.verify {
                self.verify()?;
            }
            if self.stopped() || (self.ledger().settled() == settled && !self.retry_next_round) {
                break;
            }
        }
        Ok(())
    }

    /// The report; the ids left unsettled fail with why.
    pub(super) fn finish(self) -> DeletionReport {
        let stop = self.stop.clone().or_else(|| self.hooks.stop_requested().then_some(Stop::Interrupted));
        self.ledger().report(stop.as_ref())
    }

    /// Deletes `ids` (at most 100), isolating those that make the request fail.
    fn delete(&mut self, ids: Vec<KeyId>) -> Result<(), Error> {
        let mut queue = vec![ids];
        while let Some(ids) = queue.pop() {
            if self.stopped() {
                return Ok(());
            }
            self.requests += 1;
            self.ledger().sending(&ids, self.requests);
            let action = DeleteKeyPairs::of(ids.clone())?;
            let outcome: Attempted<Receipt> = self.client.delete(&action, self.hooks);
            self.ledger().sent(&ids, outcome.may_have_taken_effect, outcome.request_ids);
            let error = match outcome.result {
                Ok(Receipt { request_id, .. }) => {
                    self.ledger().accepted(&ids, request_id);
                    self.progress();
                    continue;
                }
                Err(error) => error,
            };
            if error.is_auth() && !error.is_retryable() && self.ledger().untouched() {
                return Err(error);
            }
            if self.ends_run(&error, &ids, &queue) {
                self.progress();
                return Ok(());
            }
            self.isolate(ids, &error, &mut queue)?;
            self.progress();
        }
        Ok(())
    }

    /// Settles what a failed DeleteKeyPairs of `ids` tells, queueing the ids to send again.
    fn isolate(&mut self, ids: Vec<KeyId>, error: &Error, queue: &mut Vec<Vec<KeyId>>) -> Result<(), Error> {
        let blamed = blames_some_ids(error);
        let lost = ids.iter().any(|id| self.ledger().lost(id));
        if !blamed && !lost {
            self.ledger().fail(&ids, &Arc::new(Reason::of(error)), error.is_retryable());
            return Ok(());
        }
        let seen = match self.existing(&ids) {
            Ok(seen) => seen,
            Err(describe_error) => {
                let cause = if blamed { &describe_error } else { error };
                if !self.ends_run(cause, &ids, queue) {
                    self.ledger().fail(&ids, &Arc::new(Reason::of(cause)), cause.is_retryable());
                }
                return Ok(());
            }
        };
        let reason = Arc::new(Reason::of(error));
        let about_binding = !is_not_found(error);
        let mut rest = Vec::new();
        let mut ledger = self.ledger();
        ledger.apply(&seen, |ledger, id, pair| {
            if !blamed {
                // The request failed for good, yet an attempt may have gone through.
                ledger.fail(&[*id], &reason, error.is_retryable());
            } else if about_binding && !pair.associated_instance_ids.is_empty() {
                let bound = reason.noted(&format!("bound to {}", instances(&pair.associated_instance_ids)));
                ledger.set(id, State::Kept(Arc::new(bound)));
            } else {
                rest.push(*id);
            }
        });
        drop(ledger);
        if !blamed || rest.is_empty() {
            return Ok(());
        }
        if rest.len() < ids.len() {
            queue.push(rest);
        } else if rest.len() == 1 && self.just_detached.remove(&rest[0]) {
            let retry =
                reason.noted("refused right after it was detached (the API may not have caught up yet)");
            self.ledger().fail(&rest, &Arc::new(retry), true);
            self.retry_next_round = true;
        } else if rest.len() == 1 {
            // The API refuses this one id for a reason DescribeKeyPairs does not show: it stays.
            let refused = reason.noted(
                "no instance uses it, yet the API refuses to delete it: an image made from an instance \
                 that had it may use it; delete those images (or wait, if it was just detached) and try again",
            );
            self.ledger().set(&rest[0], State::Kept(Arc::new(refused)));
        } else {
            // Nothing visible explains the failure: halve until the culprits stand alone.
            let second = rest.split_off(rest.len() / 2);
            queue.push(second);
            queue.push(rest);
        }
        Ok(())
    }

    /// Whether `error` ends the run: credentials refused (then `ids` and `queue` fail with it),
    /// a stop request, or an endpoint silent for too long (then `ids` stay to be sent).
    pub(super) fn ends_run(&mut self, error: &Error, ids: &[KeyId], queue: &[Vec<KeyId>]) -> bool {
        let mut ledger = self.ledger();
        if error.is_auth() && !error.is_retryable() {
            ledger.request_ids.extend(error.request_id().map(str::to_owned));
            let reason = Arc::new(Reason::of(error));
            for ids in queue.iter().map(Vec::as_slice).chain([ids]) {
                ledger.fail(ids, &reason, false);
            }
            self.stop = Some(Stop::Halted(reason));
            return true;
        }
        ledger.request_ids.extend(error.request_id().map(str::to_owned));
        if matches!(error, Error::Interrupted) || self.hooks.stop_requested() {
            return true;
        }
        let silent = self.hooks.silent_for();
        if FailureCode::of(error).is_no_answer() && silent >= self.client.give_up_after() {
            let reason = Arc::new(Reason::of(error));
            ledger.fail(ids, &reason, true);
            let note = format!("nothing answered for {} s, so nothing more was sent", silent.as_secs());
            self.stop = Some(Stop::GaveUp(Arc::new(reason.noted(&note))));
            return true;
        }
        false
    }

    /// What DescribeKeyPairs shows of each of `ids` (at most 100).
    pub(super) fn existing(&mut self, ids: &[KeyId]) -> Result<Vec<(KeyId, Seen)>, Error> {
        let request = DescribeKeyPairs::of(ids.to_vec())?;
        let (list, request_ids) = match self.client.list(&request, self.hooks) {
            Ok(list) => list,
            // Should DescribeKeyPairs refuse unknown ids as a whole, halve until they stand alone.
            Err(e) if is_not_found(&e) => {
                self.ledger().request_ids.extend(e.request_id().map(str::to_owned));
                if ids.len() == 1 {
                    return Ok(vec![(ids[0], Seen::Absent)]);
                }
                let (first, second) = ids.split_at(ids.len() / 2);
                let mut seen = self.existing(first)?;
                seen.extend(self.existing(second)?);
                return Ok(seen);
            }
            Err(e) => return Err(e),
        };
        self.ledger().request_ids.extend(request_ids.iter().cloned());
        let complete = list.is_complete();
        let unknown = Arc::new(Reason {
            code: FailureCode::VerificationIncomplete,
            message: format!(
                "whether it exists is unknown: DescribeKeyPairs counted {} of the {} key pairs asked for, \
                 but returned {}",
                list.total_count,
                ids.len(),
                list.key_pairs.len()
            ),
            request_id: request_ids.last().cloned(),
        });
        let mut present: HashMap<KeyId, KeyPair> =
            list.key_pairs.into_iter().map(|k| (k.key_id, k)).collect();
        Ok(ids
            .iter()
            .map(|id| {
                let seen = match present.remove(id) {
                    Some(pair) => Seen::Present(pair),
                    None if complete => Seen::Absent,
                    None => Seen::Unknown(unknown.clone()),
                };
                (*id, seen)
            })
            .collect())
    }

    /// Checks the ids a DeleteKeyPairs accepted and no check has settled yet.
    fn verify(&mut self) -> Result<(), Error> {
        let unchecked = self.ledger().ids_where(|s| matches!(s, State::Accepted { check: None, .. }));
        for chunk in unchecked.chunks(MAX_IDS) {
            if self.stopped() {
                return Ok(());
            }
            match self.existing(chunk) {
                Ok(seen) => self.ledger().apply(&seen, |_, _, _| {}),
                Err(e) => self.check_failed(chunk, &e)?,
            }
            self.progress();
        }
        Ok(())
    }

    /// Looks again at every id still open before a new round, so that one deleted by an
    /// attempt whose answer was lost is not sent again, and an accepted one is checked.
    fn recheck(&mut self, ids: &[KeyId]) -> Result<(), Error> {
        for chunk in ids.chunks(MAX_IDS) {
            if self.stopped() {
                return Ok(());
            }
            match self.existing(chunk) {
                Ok(seen) => self.ledger().apply(&seen, |_, _, _| {}),
                Err(e) => self.check_failed(chunk, &e)?,
            }
        }
        self.progress();
        Ok(())
    }

    /// A check of `ids` failed with `error`: they stay open with it as their latest failure.
    pub(super) fn check_failed(&mut self, ids: &[KeyId], error: &Error) -> Result<(), Error> {
        let reason = Arc::new(Reason::of(error).noted("checking whether it is gone failed"));
        self.ledger().check_failed(ids, &reason);
        self.ends_run(error, &[], &[]);
        Ok(())
    }
}

impl Ledger {
    /// Marks `ids` as named by DeleteKeyPairs number `request`, now in flight.
    fn sending(&mut self, ids: &[KeyId], request: u32) {
        self.in_flight = ids.to_vec();
        for id in ids {
            if let State::Pending { last, lost, .. } = self.state(id).clone() {
                self.set(id, State::Pending { last, request, lost });
            }
        }
    }

    /// The request for `ids` returned; `may_have_deleted` when it failed in a way that may
    /// still have deleted them.
    fn sent(&mut self, ids: &[KeyId], may_have_deleted: bool, request_ids: Vec<String>) {
        self.in_flight.clear();
        self.request_ids.extend(request_ids);
        if may_have_deleted {
            for id in ids {
                if let State::Pending { last, request, .. } = self.state(id).clone() {
                    self.set(id, State::Pending { last, request, lost: true });
                }
            }
        }
    }

    fn accepted(&mut self, ids: &[KeyId], request_id: String) {
        let shared: Arc<str> = Arc::from(request_id.as_str());
        self.request_ids.push(request_id);
        for id in ids {
            self.set(id, State::Accepted { request_id: shared.clone(), check: None });
        }
    }

    /// Whether `id` may have been deleted by a request whose answer was lost.
    fn lost(&self, id: &KeyId) -> bool {
        matches!(self.state(id), State::Pending { lost: true, .. })
    }

    /// Whether nothing has been done or answered yet.
    pub(super) fn untouched(&self) -> bool {
        self.request_ids.is_empty() && self.ids_where(|s| !matches!(s, State::Pending { .. })).is_empty()
    }

    /// `ids` failed for `reason`: to be sent again in a later round if `transient`, else for
    /// good.
    pub(super) fn fail(&mut self, ids: &[KeyId], reason: &Arc<Reason>, transient: bool) {
        for id in ids {
            let state = match self.state(id).clone() {
                State::Pending { request, lost, .. } if transient => {
                    State::Pending { last: Some(reason.clone()), request, lost }
                }
                _ => State::Failed(reason.clone()),
            };
            self.set(id, state);
        }
    }

    /// A check of `ids` failed: open ones keep `reason` as their latest failure.
    fn check_failed(&mut self, ids: &[KeyId], reason: &Arc<Reason>) {
        for id in ids {
            let state = match self.state(id).clone() {
                State::Pending { request, lost, .. } => {
                    State::Pending { last: Some(reason.clone()), request, lost }
                }
                State::Accepted { request_id, .. } => {
                    State::Accepted { request_id, check: Some(reason.clone()) }
                }
                other => other,
            };
            self.set(id, state);
        }
    }

    /// Settles what a check showed of open ids; `present` is told about each pending id seen
    /// present, after it is marked seen.
    pub(super) fn apply(
        &mut self,
        seen: &[(KeyId, Seen)],
        mut present: impl FnMut(&mut Ledger, &KeyId, &KeyPair),
    ) {
        // The keys of one request seen present after its answer was lost: if one of them is
        // deleted later, that attempt did nothing.
        let mut witnesses: HashMap<u32, Vec<KeyId>> = HashMap::new();
        for (id, s) in seen {
            if let (Seen::Present(_), State::Pending { request, .. }) = (s, self.state(id)) {
                witnesses.entry(*request).or_default().push(*id);
            }
        }
        let witnesses: HashMap<u32, Arc<[KeyId]>> =
            witnesses.into_iter().map(|(r, w)| (r, w.into())).collect();
        for (id, s) in seen {
            let next = match (self.state(id).clone(), s) {
                (State::Pending { request, lost: true, .. }, Seen::Absent) => State::Unsure {
                    witnesses: witnesses.get(&request).cloned().unwrap_or_else(|| Arc::new([])),
                },
                (State::Pending { .. }, Seen::Absent) => State::NotFound,
                (State::Pending { request, .. }, Seen::Unknown(why)) => {
                    State::Pending { last: Some(why.clone()), request, lost: self.lost(id) }
                }
                (State::Pending { last, request, .. }, Seen::Present(pair)) => {
                    self.set(id, State::Pending { last, request, lost: false });
                    present(self, id, pair);
                    continue;
                }
                (State::Accepted { .. }, Seen::Absent) => State::Deleted,
                (State::Accepted { request_id, .. }, Seen::Unknown(why)) => {
                    State::Accepted { request_id, check: Some(why.clone()) }
                }
                (State::Accepted { request_id, .. }, Seen::Present(pair)) => {
                    State::Kept(Arc::new(still_present(pair, &request_id)))
                }
                (settled, _) => settled,
            };
            self.set(id, next);
        }
    }
}

/// Why a key that a DeleteKeyPairs accepted is kept: it is still listed.
fn still_present(pair: &KeyPair, request_id: &str) -> Reason {
    let why = if pair.associated_instance_ids.is_empty() {
        "(bound to an image?)".to_owned()
    } else {
        format!("bound to {}", instances(&pair.associated_instance_ids))
    };
    Reason {
        code: FailureCode::StillPresent,
        message: bounded(
            &format!("DeleteKeyPairs succeeded but the key pair still exists, {why}"),
            MESSAGE_CHARS,
        ),
        request_id: Some(request_id.to_owned()),
    }
}
