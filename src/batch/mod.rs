//! Verified deletion of any number of key pairs, with an honest result for every id.
//!
//! The API deletes at most 100 ids per request, fails a whole request for one unknown or bound
//! id, and may answer success while silently keeping key pairs bound to an instance or image.
//! [`crate::Client::delete_key_pairs_all`] validates everything first, splits the ids into requests,
//! isolates the ids that make a request fail (DescribeKeyPairs, then halving what it cannot
//! see), deletes the rest, and checks with DescribeKeyPairs that every key it calls deleted is
//! gone.
//!
//! # Evidence
//! A key is called deleted only when a DeleteKeyPairs naming it succeeded and DescribeKeyPairs
//! then showed it absent, and called not found only when DescribeKeyPairs showed it absent and
//! no request of this run can have deleted it. Absence is proven only by a complete answer:
//! DescribeKeyPairs is asked with `Limit` equal to the ids asked, its pages are followed with
//! `Offset`, and the ids it returns must be exactly as many as its `TotalCount`; keys it
//! returns that were not asked for are ignored. Anything less, and the ids it did not show are
//! [`FailureCode::VerificationIncomplete`], never deleted.
//!
//! # Rounds
//! Requests are paced, and retried by the client ([`crate::retry::RetryPolicy`]: transient
//! failures a few times, throttling with its own larger budget, always waiting out the API's
//! one-second window). A key whose request still failed transiently is not given up on while
//! the run makes progress: after a pause ([`BatchOptions::round_pause`], doubling), the next
//! round checks again with DescribeKeyPairs every key not yet settled and deletes those still
//! present. Rounds end when every key is settled, when a round settles nothing new, or after
//! [`BatchOptions::max_rounds`]; the keys left fail with their last error.
//!
//! # Stopping early
//! The run stops sending when the credentials are refused midway (the keys left fail with
//! that error), when nothing has answered for [`crate::retry::RetryPolicy::give_up_after`]
//! (the keys left fail with the last network error), or when asked through a
//! [`BatchControl`] (the keys left are [`FailureCode::Interrupted`]). Either way the report
//! names every key already deleted.

pub(crate) mod binding;
mod detach;
mod ledger;
mod run;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;

use crate::actions::delete_key_pairs::DeleteKeyPairs;
use crate::actions::describe_instances::{DescribeInstances, DescribeInstancesOutput};
use crate::actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput};
use crate::actions::instances_key_pairs::DisassociateInstancesKeyPairs;
use crate::actions::Receipt;
use crate::error::{Error, FailureCode};
use crate::key_id::{self, KeyId};
use crate::observe::{Event, Hooks, Progress};
use crate::retry::Attempted;
use ledger::{Ledger, Stop};

/// What happened to every requested id. Each id appears in exactly one list.
///
/// | list | code | meaning |
/// |---|---|---|
/// | `deleted` | | a DeleteKeyPairs naming it succeeded, and DescribeKeyPairs then showed it absent (with verification off: the DeleteKeyPairs succeeded) |
/// | `not_found` | | DescribeKeyPairs showed it absent, and no request of the run can have deleted it |
/// | `kept` | [`FailureCode::StillPresent`] | DeleteKeyPairs succeeded, yet it is still listed: bound to an instance or image |
/// | `kept` | the API's code | the API refuses to delete it, and DescribeKeyPairs shows it present |
/// | `kept` | [`FailureCode::StillBound`] | to be detached first ([`BatchOptions::detach`]), it is still bound to an instance: a running one not to be force-stopped, or the unbinding did not show in time |
/// | `failed` | [`FailureCode::VerificationIncomplete`] | DescribeKeyPairs counted more than it returned: whether it exists is unknown |
/// | `failed` | [`FailureCode::Interrupted`] | the run was stopped before it was settled |
/// | `failed` | any other | the last error of what could not settle it |
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletionReport {
    /// Deleted now (verified absent unless verification was turned off).
    pub deleted: Vec<KeyId>,
    /// Did not exist.
    pub not_found: Vec<KeyId>,
    /// Still present afterwards, with the reason (e.g. bound to an instance or image).
    pub kept: Vec<KeyFailure>,
    /// Could not be settled: the error that stopped it, or why the evidence is incomplete.
    pub failed: Vec<KeyFailure>,
    /// The RequestId of every API answer that decided an outcome, in order.
    pub request_ids: Vec<String>,
    /// The key pairs this run detached from instances ([`BatchOptions::detach`]), whatever
    /// became of them then.
    pub detached: Vec<Detached>,
    /// The instances this run force-stopped to detach key pairs ([`BatchOptions::force_stop`]),
    /// with their state at the end of the run.
    pub stopped_instances: Vec<StoppedInstance>,
}

/// A key pair a batch detached from instances: a DisassociateInstancesKeyPairs naming them
/// succeeded. Its JSON form is `{"key_id","instance_ids"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Detached {
    /// The key pair.
    pub key_id: KeyId,
    /// The instances it was detached from.
    pub instance_ids: Vec<String>,
}

/// An instance a batch force-stopped to detach a key pair from it. Its JSON form is
/// `{"instance_id","state"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StoppedInstance {
    /// The instance.
    pub instance_id: String,
    /// Its state as DescribeInstances showed it at the end of the run (e.g. `STOPPED`, or
    /// `RUNNING` where the API restarts it after the unbinding); `None` when that could not be
    /// learnt.
    pub state: Option<String>,
}

impl DeletionReport {
    /// Whether every requested key pair is absent afterwards (deleted now, or not found).
    pub fn all_absent(&self) -> bool {
        self.kept.is_empty() && self.failed.is_empty()
    }

    /// The counts of this report, as the last [`Event::Progress`] of its run showed them.
    pub(crate) fn progress(&self) -> Progress {
        Progress {
            total: self.deleted.len() + self.not_found.len() + self.kept.len() + self.failed.len(),
            deleted: self.deleted.len(),
            not_found: self.not_found.len(),
            kept: self.kept.len(),
            failed: self.failed.len(),
            ..Progress::default()
        }
    }
}

/// One key pair that was kept or failed, and why. Many keys failing for one reason share it.
///
/// Its JSON form is `{"key_id","code","message","request_id"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    /// The key pair.
    pub key_id: KeyId,
    reason: Arc<Reason>,
}

/// Why key pairs were kept or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reason {
    code: FailureCode,
    message: String,
    request_id: Option<String>,
}

impl Reason {
    fn of(error: &Error) -> Reason {
        let message = match error {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        };
        Reason { code: FailureCode::of(error), message, request_id: error.request_id().map(str::to_owned) }
    }

    /// The same reason, its message preceded by `note`.
    fn noted(&self, note: &str) -> Reason {
        Reason { message: format!("{note}: {}", self.message), ..self.clone() }
    }
}

impl Serialize for KeyFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut failure = s.serialize_struct("KeyFailure", 4)?;
        failure.serialize_field("key_id", &self.key_id)?;
        failure.serialize_field("code", &self.reason.code)?;
        failure.serialize_field("message", &self.reason.message)?;
        failure.serialize_field("request_id", &self.reason.request_id)?;
        failure.end()
    }
}

impl KeyFailure {
    /// Why: the API's code, [`FailureCode::StillPresent`], [`FailureCode::VerificationIncomplete`],
    /// or the kind of failure without an API answer.
    pub fn code(&self) -> &FailureCode {
        &self.reason.code
    }

    /// What happened, in words.
    pub fn message(&self) -> &str {
        &self.reason.message
    }

    /// The RequestId of the answer this is based on, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        self.reason.request_id.as_deref()
    }
}

/// Options of [`crate::Client::delete_key_pairs_all_with`].
///
/// ```
/// use cvm_keypairs::{BatchControl, BatchOptions};
/// let mut options = BatchOptions::default();
/// options.verify = false;
/// options.control = Some(BatchControl::default());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Check with DescribeKeyPairs that deleted keys are gone (default true).
    pub verify: bool,
    /// First detach every key pair bound to instances from them, wait until DescribeKeyPairs
    /// shows it unbound, then delete it (default false: a bound key pair is kept). A key pair
    /// bound to a running instance is detached only with [`BatchOptions::force_stop`].
    pub detach: bool,
    /// With [`BatchOptions::detach`], let the API stop a running instance to detach a key pair
    /// from it (`ForceStop`; depending on the API version, it stays stopped or is restarted
    /// afterwards). Default false.
    pub force_stop: bool,
    /// How long to wait for unbindings to show (300 s).
    pub(crate) detach_timeout: Duration,
    /// Rounds at most (at least 1; 4).
    pub(crate) max_rounds: u32,
    /// The pause before the second round; it doubles for each later one (1 s).
    pub(crate) round_pause: Duration,
    /// A handle to stop the run and read where it stands from another thread.
    pub control: Option<BatchControl>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            verify: true,
            detach: false,
            force_stop: false,
            detach_timeout: Duration::from_secs(300),
            max_rounds: 4,
            round_pause: Duration::from_secs(1),
            control: None,
        }
    }
}

/// Stops a running batch deletion, and tells where it stands, from any thread.
///
/// Give a clone in [`BatchOptions::control`]. After [`BatchControl::stop`] the run sends
/// nothing more; the request in flight, if any, is let finish, every wait ends at once, and
/// the run returns its report with the keys not settled marked
/// [`FailureCode::Interrupted`]. Use one control for one run at a time.
///
/// ```
/// use cvm_keypairs::{BatchControl, BatchOptions};
/// let control = BatchControl::default();
/// let mut options = BatchOptions::default();
/// options.control = Some(control.clone());
/// // ... run `client.delete_key_pairs_all_with(ids, &options, |_| {})` on one thread, and on
/// // another, when told to stop:
/// control.stop();
/// assert!(control.report_so_far().failed.is_empty(), "no run, nothing to report");
/// ```
#[derive(Clone, Default)]
pub struct BatchControl {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    ledger: Mutex<Ledger>,
}

impl Shared {
    // Nothing that holds the lock can panic between two related updates.
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BatchControl {
    /// Asks the run to stop sending.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }

    /// The report as it would stand if the run ended now: what is settled as it is; keys not
    /// yet settled are failed with [`FailureCode::Interrupted`], and the message of a key that
    /// a DeleteKeyPairs accepted, or that a request in flight names, says so.
    pub fn report_so_far(&self) -> DeletionReport {
        self.shared.ledger().report(Some(&Stop::Interrupted))
    }
}

impl fmt::Debug for BatchControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchControl")
            .field("stopped", &self.shared.stop.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

/// What a batch asks of the client that runs it.
pub(crate) trait Api {
    /// Signs `action` without sending it: what fails here concerns every id.
    fn check(&self, action: &DeleteKeyPairs) -> Result<(), Error>;
    /// Sends `action`, retried as the client retries.
    fn delete(&self, action: &DeleteKeyPairs, hooks: &mut Hooks<'_>) -> Attempted<Receipt>;
    /// Lists what `request` asks for, page after page, with every page's RequestId.
    fn list(
        &self,
        request: &DescribeKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Result<(DescribeKeyPairsOutput, Vec<String>), Error>;
    /// Sends `action`, retried as the client retries.
    fn disassociate(
        &self,
        action: &DisassociateInstancesKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<Receipt>;
    /// Sends `request` (one page), retried as the client retries.
    fn instances(
        &self,
        request: &DescribeInstances,
        hooks: &mut Hooks<'_>,
    ) -> Attempted<DescribeInstancesOutput>;
    /// How long the run may go without any answer before it stops sending.
    fn give_up_after(&self) -> Duration;
}

/// Deletes `ids`, verified (see the module documentation), telling `observer` as it goes.
pub(crate) fn delete_all(
    client: &dyn Api,
    mut ids: Vec<KeyId>,
    options: &BatchOptions,
    observer: &mut dyn FnMut(&Event<'_>),
) -> Result<DeletionReport, Error> {
    key_id::dedup(&mut ids);
    let Some(first) = ids.first() else { return Ok(DeletionReport::default()) };
    // Credentials and configuration problems concern every id: report them once, before
    // anything is sent, rather than as a thousand identical failures.
    client.check(&DeleteKeyPairs::of(vec![*first])?)?;

    let fresh;
    let shared = match &options.control {
        Some(control) => &control.shared,
        None => {
            fresh = Shared::default();
            &fresh
        }
    };
    *shared.ledger() = Ledger::new(ids, options.verify);
    let mut hooks = Hooks::new(observer, Some(&shared.stop));
    let mut run = run::Run::new(client, shared, options, &mut hooks);
    if options.detach {
        run.detach()?;
    }
    run.rounds()?;
    run.states_of_stopped_instances();
    let report = run.finish();
    hooks.event(&Event::Progress(report.progress()));
    Ok(report)
}

#[cfg(test)]
mod tests;
