//! Where every id of a batch stands, and the report that follows from it.
//!
//! The ledger is the one record of a run: the run changes it as answers come in, the observer
//! reads its counts, and [`super::BatchControl::report_so_far`] turns it into a report from
//! another thread at any moment. A failure shared by many ids is one [`Reason`] behind an
//! `Arc`, so a server answering a thousand ids with one huge error costs one copy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{DeletionReport, Detached, KeyFailure, Reason, StoppedInstance};
use crate::error::FailureCode;
use crate::key_id::KeyId;
use crate::observe::Progress;

/// Where one id stands.
#[derive(Debug, Clone)]
pub(super) enum State {
    /// To be sent (again). `last`: its latest transient failure; `request`: the number of the
    /// latest DeleteKeyPairs naming it (0 before any); `lost`: whether a DeleteKeyPairs may
    /// have deleted it without an answer saying so, and it has not been looked at since.
    Pending {
        last: Option<Arc<Reason>>,
        request: u32,
        lost: bool,
    },
    /// A DeleteKeyPairs with this RequestId succeeded; it is to be verified. `check`: why the
    /// latest check did not settle it.
    Accepted {
        request_id: Arc<str>,
        check: Option<Arc<Reason>>,
    },
    /// Found absent after a lost answer that may have deleted it, with the keys of that
    /// request seen present afterwards; which list it belongs in is decided at the end.
    Unsure {
        witnesses: Arc<[KeyId]>,
    },
    Deleted,
    NotFound,
    Kept(Arc<Reason>),
    Failed(Arc<Reason>),
}

impl State {
    fn count(&self, p: &mut Progress, add: bool) {
        let slot = match self {
            State::Pending { .. } => return,
            // Absent, but deleted or not found is known only at the end: not yet in either.
            State::Accepted { .. } | State::Unsure { .. } => &mut p.unverified,
            State::Deleted => &mut p.deleted,
            State::NotFound => &mut p.not_found,
            State::Kept(_) => &mut p.kept,
            State::Failed(_) => &mut p.failed,
        };
        if add {
            *slot += 1;
        } else {
            *slot -= 1;
        }
    }
}

/// Why a run ended before every id was settled.
#[derive(Debug, Clone)]
pub(super) enum Stop {
    /// The credentials were refused midway: nothing more was sent.
    Halted(Arc<Reason>),
    /// Nothing answered for too long: nothing more was sent.
    GaveUp(Arc<Reason>),
    /// Asked to stop.
    Interrupted,
}

/// The state of every id of one run.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    ids: Vec<KeyId>,
    states: Vec<State>,
    index: HashMap<KeyId, usize>,
    /// The ids of the DeleteKeyPairs in flight, if one is.
    pub(super) in_flight: Vec<KeyId>,
    /// The RequestId of every API answer that decided something, in order.
    pub(super) request_ids: Vec<String>,
    counts: Progress,
    /// How many ids are [`State::Unsure`].
    unsure: usize,
    /// Whether deletions are verified (otherwise an accepted id counts as deleted).
    pub(super) verify: bool,
    /// The key pairs detached from instances, and the instances force-stopped for it.
    pub(super) detached: Vec<Detached>,
    pub(super) stopped: Vec<StoppedInstance>,
}

impl Ledger {
    /// A ledger of `ids`, every one pending.
    pub(super) fn new(ids: Vec<KeyId>, verify: bool) -> Self {
        let index = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let states = vec![State::Pending { last: None, request: 0, lost: false }; ids.len()];
        let counts = Progress { total: ids.len(), round: 1, ..Progress::default() };
        Ledger {
            ids,
            states,
            index,
            in_flight: Vec::new(),
            request_ids: Vec::new(),
            counts,
            unsure: 0,
            verify,
            detached: Vec::new(),
            stopped: Vec::new(),
        }
    }

    pub(super) fn progress(&self) -> Progress {
        self.counts
    }

    pub(super) fn set_round(&mut self, round: u32) {
        self.counts.round = round;
    }

    /// How many ids are settled (an id found absent after a lost answer counts: nothing more
    /// is done about it).
    pub(super) fn settled(&self) -> usize {
        self.counts.settled() + self.unsure
    }

    pub(super) fn state(&self, id: &KeyId) -> &State {
        &self.states[self.index[id]]
    }

    pub(super) fn set(&mut self, id: &KeyId, state: State) {
        let i = self.index[id];
        let unsure = |s: &State| usize::from(matches!(s, State::Unsure { .. }));
        self.unsure = self.unsure + unsure(&state) - unsure(&self.states[i]);
        self.states[i].count(&mut self.counts, false);
        state.count(&mut self.counts, true);
        self.states[i] = state;
    }

    /// The ids in a state `wanted` picks, in the order given.
    pub(super) fn ids_where(&self, wanted: impl Fn(&State) -> bool) -> Vec<KeyId> {
        self.ids.iter().zip(&self.states).filter(|(_, s)| wanted(s)).map(|(id, _)| *id).collect()
    }

    /// The report as it stands, each id in exactly one list; ids not settled are failed with
    /// why, `stop` saying why the run ended early, if it did.
    pub(super) fn report(&self, stop: Option<&Stop>) -> DeletionReport {
        let mut report = DeletionReport {
            request_ids: self.request_ids.clone(),
            detached: self.detached.clone(),
            stopped_instances: self.stopped.clone(),
            ..DeletionReport::default()
        };
        let mut reasons = Reasons::default();
        let gone: HashSet<KeyId> = self
            .ids_where(|s| match s {
                State::Deleted | State::Unsure { .. } => true,
                State::Accepted { .. } => !self.verify,
                _ => false,
            })
            .into_iter()
            .collect();
        for (id, state) in self.ids.iter().zip(&self.states) {
            let failure = |reason| KeyFailure { key_id: *id, reason };
            match state {
                State::Deleted => report.deleted.push(*id),
                State::NotFound => report.not_found.push(*id),
                State::Kept(reason) => report.kept.push(failure(reason.clone())),
                State::Failed(reason) => report.failed.push(failure(reason.clone())),
                // A witness that is gone by now was deletable, so the lost attempt it shared
                // would have deleted it too: that attempt did nothing, and the key never
                // existed. Without such proof it counts as deleted: either way it is absent.
                State::Unsure { witnesses } if witnesses.iter().any(|w| gone.contains(w)) => {
                    report.not_found.push(*id)
                }
                State::Unsure { .. } => report.deleted.push(*id),
                State::Accepted { .. } if !self.verify => report.deleted.push(*id),
                State::Accepted { request_id, check } => {
                    report.failed.push(failure(reasons.unverified(request_id, check.as_ref(), stop)))
                }
                State::Pending { last, lost, .. } => {
                    let in_flight = self.in_flight.contains(id);
                    report.failed.push(failure(reasons.unsent(last.as_ref(), *lost || in_flight, stop)))
                }
            }
        }
        report
    }
}

/// The reasons a report derives for unsettled ids, made once and shared by every id they
/// cover.
#[derive(Default)]
struct Reasons {
    unsent: HashMap<(usize, bool), Arc<Reason>>,
    unverified: HashMap<(Arc<str>, usize), Arc<Reason>>,
}

/// The address of a shared reason (or 0), as a key for the reasons derived from it.
fn key_of(reason: Option<&Arc<Reason>>) -> usize {
    reason.map_or(0, |r| Arc::as_ptr(r) as usize)
}

impl Reasons {
    /// Why an id still to be sent failed.
    fn unsent(
        &mut self,
        last: Option<&Arc<Reason>>,
        maybe_deleted: bool,
        stop: Option<&Stop>,
    ) -> Arc<Reason> {
        let key = (key_of(last), maybe_deleted);
        self.unsent
            .entry(key)
            .or_insert_with(|| {
                let may = if maybe_deleted {
                    " (a DeleteKeyPairs naming it got no answer: it may be deleted)"
                } else {
                    ""
                };
                match (stop, last) {
                    (Some(Stop::Interrupted), _) => Arc::new(Reason {
                        code: FailureCode::Interrupted,
                        message: format!("the run was interrupted before it was settled{may}"),
                        request_id: last.and_then(|l| l.request_id.clone()),
                    }),
                    (_, Some(last)) => last.clone(),
                    (Some(Stop::Halted(r) | Stop::GaveUp(r)), None) => {
                        Arc::new(r.noted(&format!("not sent, after this{may}")))
                    }
                    (None, None) => Arc::new(Reason {
                        code: FailureCode::Client,
                        message: "not sent".into(),
                        request_id: None,
                    }),
                }
            })
            .clone()
    }

    /// Why an id that a DeleteKeyPairs accepted is not reported deleted.
    fn unverified(
        &mut self,
        request_id: &Arc<str>,
        check: Option<&Arc<Reason>>,
        stop: Option<&Stop>,
    ) -> Arc<Reason> {
        let key = (request_id.clone(), key_of(check));
        self.unverified
            .entry(key)
            .or_insert_with(|| {
                let accepted = format!("DeleteKeyPairs accepted it (RequestId {request_id}), but");
                let (code, why, request_id) = match (stop, check) {
                    (Some(Stop::Interrupted), _) => (
                        FailureCode::Interrupted,
                        "the run was interrupted before checking that it is gone".to_owned(),
                        Some(request_id.to_string()),
                    ),
                    (_, Some(check)) => (check.code.clone(), check.message.clone(), check.request_id.clone()),
                    (Some(Stop::Halted(r) | Stop::GaveUp(r)), None) => (
                        r.code.clone(),
                        format!("the check that it is gone was not sent, after this: {}", r.message),
                        r.request_id.clone(),
                    ),
                    (None, None) => {
                        (FailureCode::VerificationIncomplete, "it was not checked".to_owned(), None)
                    }
                };
                Arc::new(Reason { code, message: format!("{accepted} {why}"), request_id })
            })
            .clone()
    }
}
