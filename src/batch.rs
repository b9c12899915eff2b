//! Verified deletion of any number of key pairs, with a result for every id.
//!
//! The API deletes at most 100 ids per request, fails a whole request for one unknown or bound
//! id, and may answer success while silently keeping key pairs bound to an instance or image.
//! [`Client::delete_key_pairs_all`] validates everything first, splits the ids into requests,
//! isolates the ids that make a request fail (DescribeKeyPairs, then halving what it cannot
//! see), deletes the rest, and checks with DescribeKeyPairs that every key it calls deleted is
//! gone. Requests are paced and retried by the client.

use std::collections::{HashMap, HashSet};

use crate::actions::delete_key_pairs::MAX_IDS;
use serde::Deserialize;

use crate::actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput, KeyPair};
use crate::client::{Attempted, Client};
use crate::error::{Error, ErrorCode};
use crate::key_id::{self, KeyId};
use crate::DeleteKeyPairs;

/// The code reported for a key pair that a successful DeleteKeyPairs left in place.
pub const STILL_PRESENT: &str = "KeyPairStillPresent";

/// What happened to every requested id. Each id appears in exactly one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionReport {
    /// Deleted now (verified absent unless verification was turned off).
    pub deleted: Vec<KeyId>,
    /// Did not exist.
    pub not_found: Vec<KeyId>,
    /// Still present afterwards, with the reason (e.g. bound to an instance or image).
    pub kept: Vec<KeyFailure>,
    /// Could not be processed: the error that stopped it.
    pub failed: Vec<KeyFailure>,
    /// The RequestId of every API answer that decided an outcome, in order.
    pub request_ids: Vec<String>,
}

impl DeletionReport {
    /// Whether every requested key pair is absent afterwards (deleted now, or not found).
    pub fn all_absent(&self) -> bool {
        self.kept.is_empty() && self.failed.is_empty()
    }

    fn len(&self) -> usize {
        self.deleted.len() + self.not_found.len() + self.kept.len() + self.failed.len()
    }
}

/// One key pair that was kept or failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFailure {
    /// The key pair.
    pub key_id: KeyId,
    /// The API error code, [`STILL_PRESENT`], or [`Error::code_text`] of a failure without an
    /// API answer.
    pub code: String,
    /// What happened.
    pub message: String,
    /// The RequestId of the answer this is based on, when there was one.
    pub request_id: Option<String>,
}

impl KeyFailure {
    fn from_error(key_id: KeyId, error: &Error) -> Self {
        let code = error.code_text().into_owned();
        let message = match error {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        };
        KeyFailure { key_id, code, message, request_id: error.request_id().map(str::to_owned) }
    }
}

/// Progress after each DeleteKeyPairs request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Ids settled so far (deleted, not found, kept or failed).
    pub done: usize,
    /// Ids in all (after removing duplicates).
    pub total: usize,
    /// Deleted so far (before verification).
    pub deleted: usize,
    /// Kept so far.
    pub kept: usize,
    /// Failed so far.
    pub failed: usize,
}

/// Options of [`Client::delete_key_pairs_all_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Check with DescribeKeyPairs that deleted keys are gone (default true).
    pub verify: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions { verify: true }
    }
}

#[derive(Deserialize)]
struct RequestIdOnly {
    #[serde(rename = "RequestId")]
    request_id: String,
}

/// Codes with which one id fails a whole DeleteKeyPairs request.
fn blames_some_ids(error: &Error) -> bool {
    matches!(
        error.code(),
        Some(
            ErrorCode::InvalidKeyPairIdNotFound
                | ErrorCode::InvalidParameterValueKeyPairNotSupported
                | ErrorCode::InvalidKeyPairNotSupported
                | ErrorCode::InvalidParameterValue
        )
    )
}

impl Client {
    /// Deletes any number of key pairs, verified, with the default [`BatchOptions`].
    ///
    /// Every id is validated first: if any is malformed nothing is sent and the error lists
    /// them all. Duplicates are removed. Fails as a whole only for errors that concern every
    /// id (credentials, configuration, authentication) met before anything was done;
    /// everything else is reported per id. Should authentication fail later (e.g. revoked
    /// credentials), nothing more is sent and the ids not yet dealt with are reported failed
    /// with that error, beside what was already done.
    pub fn delete_key_pairs_all<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<DeletionReport, Error> {
        self.delete_key_pairs_all_with(ids, BatchOptions::default(), |_| {})
    }

    /// [`Client::delete_key_pairs_all`] with options, calling `progress` after each request.
    pub fn delete_key_pairs_all_with<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        options: BatchOptions,
        mut progress: impl FnMut(&Progress),
    ) -> Result<DeletionReport, Error> {
        let mut ids = key_id::parse_all(ids)?;
        key_id::dedup(&mut ids);
        // Credentials and configuration problems concern every id: report them once, before
        // anything is sent, rather than as a thousand identical failures.
        self.sign(&DeleteKeyPairs::new(ids.first().copied())?)?;

        let mut run = Run {
            client: self,
            report: DeletionReport::default(),
            to_verify: Vec::new(),
            halted: None,
            unsure: Vec::new(),
        };
        let total = ids.len();
        for chunk in ids.chunks(MAX_IDS) {
            run.delete(chunk.to_vec())?;
            let r = &run.report;
            let pending = run.to_verify.len() + run.unsure.len();
            progress(&Progress {
                done: r.len() + pending,
                total,
                deleted: r.deleted.len() + pending,
                kept: r.kept.len(),
                failed: r.failed.len(),
            });
        }
        let unverified = std::mem::take(&mut run.to_verify);
        if options.verify {
            run.verify(unverified);
        } else {
            run.report.deleted.extend(unverified.into_iter().map(|(id, _)| id));
        }
        run.settle_unsure();
        debug_assert_eq!(run.report.len(), total);
        Ok(run.report)
    }
}

struct Run<'c> {
    client: &'c Client,
    report: DeletionReport,
    // Keys a successful DeleteKeyPairs covered, with its RequestId.
    to_verify: Vec<(KeyId, String)>,
    // An authentication failure after some keys were dealt with: nothing more is sent, and the
    // keys not yet dealt with fail with it, so the report of what was done is not lost.
    halted: Option<Error>,
    // Keys found gone after an attempt that may have deleted them, with the keys that were
    // still present then; settled once the run knows which of those it deleted.
    unsure: Vec<(KeyId, Vec<KeyId>)>,
}

impl Run<'_> {
    fn delete(&mut self, ids: Vec<KeyId>) -> Result<(), Error> {
        if let Some(error) = &self.halted {
            self.report.failed.extend(ids.into_iter().map(|id| {
                let mut f = KeyFailure::from_error(id, error);
                f.message = format!("not sent after an earlier authentication failure: {}", f.message);
                f
            }));
            return Ok(());
        }
        let mut queue = vec![ids];
        // Keys in a request that may have taken effect although it failed (its answer was lost).
        // Every later request in this loop is a subset of an earlier one.
        let mut maybe_deleted: HashSet<KeyId> = HashSet::new();
        while let Some(ids) = queue.pop() {
            let outcome: Attempted<RequestIdOnly> =
                self.client.execute_retrying(&DeleteKeyPairs::new(ids.iter().copied())?);
            self.report.request_ids.extend(outcome.request_ids);
            if outcome.may_have_taken_effect {
                maybe_deleted.extend(ids.iter().copied());
            }
            let error = match outcome.result {
                Ok(RequestIdOnly { request_id }) => {
                    self.to_verify.extend(ids.into_iter().map(|id| (id, request_id.clone())));
                    self.report.request_ids.push(request_id);
                    continue;
                }
                Err(e) => e,
            };
            if error.is_auth() && !error.is_retryable() {
                let nothing_done = self.report.len() == 0 && self.to_verify.is_empty() && queue.is_empty();
                if nothing_done && self.report.request_ids.is_empty() {
                    return Err(error);
                }
                self.report.request_ids.extend(error.request_id().map(str::to_owned));
                let pending = queue.drain(..).flatten().chain(ids);
                self.report.failed.extend(pending.map(|id| KeyFailure::from_error(id, &error)));
                self.halted = Some(error);
                return Ok(());
            }
            self.report.request_ids.extend(error.request_id().map(str::to_owned));
            let ambiguous = ids.iter().any(|id| maybe_deleted.contains(id));
            if !blames_some_ids(&error) && !ambiguous {
                self.report.failed.extend(ids.into_iter().map(|id| KeyFailure::from_error(id, &error)));
                continue;
            }
            let present = match self.existing(&ids) {
                Ok(present) => present,
                Err(describe_error) => {
                    let cause = if blames_some_ids(&error) { &describe_error } else { &error };
                    self.report.failed.extend(ids.into_iter().map(|id| KeyFailure::from_error(id, cause)));
                    continue;
                }
            };
            let witnesses: Vec<KeyId> = ids.iter().copied().filter(|id| present.contains_key(id)).collect();
            if !blames_some_ids(&error) {
                // The request failed for good, but an attempt may have gone through: the keys
                // now gone were deleted, the others failed.
                for id in ids {
                    if present.contains_key(&id) {
                        self.report.failed.push(KeyFailure::from_error(id, &error));
                    } else {
                        self.unsure.push((id, witnesses.clone()));
                    }
                }
                continue;
            }
            let about_binding = error.code() != Some(&ErrorCode::InvalidKeyPairIdNotFound);
            let mut rest = Vec::new();
            for id in ids.iter().copied() {
                match present.get(&id) {
                    None if maybe_deleted.contains(&id) => self.unsure.push((id, witnesses.clone())),
                    None => self.report.not_found.push(id),
                    Some(pair) if about_binding && !pair.associated_instance_ids.is_empty() => {
                        let mut kept = KeyFailure::from_error(id, &error);
                        kept.message = format!(
                            "bound to instance(s) {}: {}",
                            pair.associated_instance_ids.join(", "),
                            kept.message
                        );
                        self.report.kept.push(kept);
                    }
                    Some(_) => rest.push(id),
                }
            }
            if rest.len() < ids.len() {
                if !rest.is_empty() {
                    queue.push(rest);
                }
            } else if rest.len() == 1 {
                // The API refuses this one id for a reason DescribeKeyPairs does not show
                // (e.g. bound to an image): it stays.
                self.report.kept.push(KeyFailure::from_error(rest[0], &error));
            } else {
                // Nothing visible explains the failure: halve until the culprits stand alone.
                let second = rest.split_off(rest.len() / 2);
                queue.push(second);
                queue.push(rest);
            }
        }
        Ok(())
    }

    /// Settles the keys found gone after a lost attempt. A witness — a key still present after
    /// that attempt — that is gone by the end was deletable, so the attempt had no effect (it
    /// would have deleted the witness too: DeleteKeyPairs deletes every unbound key it names or
    /// nothing), and those keys never existed. Without such proof they count as deleted:
    /// either way they are absent.
    fn settle_unsure(&mut self) {
        let gone: HashSet<KeyId> =
            self.report.deleted.iter().chain(self.unsure.iter().map(|(id, _)| id)).copied().collect();
        for (id, witnesses) in std::mem::take(&mut self.unsure) {
            if witnesses.iter().any(|w| gone.contains(w)) {
                self.report.not_found.push(id);
            } else {
                self.report.deleted.push(id);
            }
        }
    }

    /// Which of `ids` exist, by DescribeKeyPairs.
    fn existing(&mut self, ids: &[KeyId]) -> Result<HashMap<KeyId, KeyPair>, Error> {
        let request = DescribeKeyPairs::by_ids(ids.iter().copied())?.with_limit(MAX_IDS as u64)?;
        match self.client.execute_retrying::<DescribeKeyPairsOutput>(&request).result {
            Ok(output) => {
                self.report.request_ids.push(output.request_id);
                Ok(output.key_pairs.into_iter().map(|p| (p.key_id, p)).collect())
            }
            // Should DescribeKeyPairs refuse unknown ids as a whole, halve until they stand alone.
            Err(e) if e.code() == Some(&ErrorCode::InvalidKeyPairIdNotFound) => {
                if ids.len() == 1 {
                    return Ok(HashMap::new());
                }
                let (first, second) = ids.split_at(ids.len() / 2);
                let mut found = self.existing(first)?;
                found.extend(self.existing(second)?);
                Ok(found)
            }
            Err(e) => Err(e),
        }
    }

    fn verify(&mut self, deleted: Vec<(KeyId, String)>) {
        if let Some(error) = &self.halted {
            self.report.failed.extend(deleted.into_iter().map(|(id, request_id)| {
                let mut f = KeyFailure::from_error(id, error);
                f.message = format!(
                    "DeleteKeyPairs succeeded (RequestId {request_id}) but the check that it is gone was not \
                     sent after an authentication failure: {}",
                    f.message
                );
                f
            }));
            return;
        }
        for chunk in deleted.chunks(MAX_IDS) {
            let ids: Vec<KeyId> = chunk.iter().map(|(id, _)| *id).collect();
            let present = match self.existing(&ids) {
                Ok(present) => present,
                Err(e) => {
                    self.report.failed.extend(chunk.iter().map(|(id, _)| {
                        let mut f = KeyFailure::from_error(*id, &e);
                        f.message = format!("deleted, but the check that it is gone failed: {}", f.message);
                        f
                    }));
                    continue;
                }
            };
            for (id, request_id) in chunk {
                match present.get(id) {
                    None => self.report.deleted.push(*id),
                    Some(pair) => self.report.kept.push(KeyFailure {
                        key_id: *id,
                        code: STILL_PRESENT.to_owned(),
                        message: if pair.associated_instance_ids.is_empty() {
                            "DeleteKeyPairs succeeded but the key pair still exists (bound to an image?)".to_owned()
                        } else {
                            format!(
                                "DeleteKeyPairs succeeded but the key pair still exists, bound to instance(s) {}",
                                pair.associated_instance_ids.join(", ")
                            )
                        },
                        request_id: Some(request_id.clone()),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::error::TransportKind;
    use crate::http::{HttpRequest, HttpResponse};
    use crate::retry::RetryPolicy;
    use crate::{Credentials, Transport};

    /// A client over `transport`, unpaced, retrying without waiting.
    fn fake_client(transport: impl Transport + 'static) -> Client {
        Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("ap-guangzhou")
            .transport(Arc::new(transport))
            .rate_limit(0)
            .retry(RetryPolicy { max_attempts: 3, base: Duration::ZERO, cap: Duration::ZERO })
            .build()
            .unwrap()
    }

    fn answer(body: &str) -> Result<HttpResponse, Error> {
        Ok(HttpResponse { status: 200, headers: vec![], body: body.as_bytes().to_vec() })
    }

    #[test]
    fn keys_gone_after_an_attempt_that_may_have_worked_are_reported_deleted() {
        let deletes = Arc::new(AtomicU32::new(0));
        let counter = deletes.clone();
        // The first delete is carried out but its answer is lost; the retry finds the keys gone.
        let transport = move |request: &HttpRequest| match request.header("X-TC-Action") {
            Some("DeleteKeyPairs") if counter.fetch_add(1, Ordering::SeqCst) == 0 => {
                Err(Error::Transport { kind: TransportKind::Io, message: "connection closed".into() })
            }
            Some("DeleteKeyPairs") => answer(
                r#"{"Response":{"Error":{"Code":"InvalidKeyPairId.NotFound","Message":"gone"},"RequestId":"r-2"}}"#,
            ),
            _ => answer(r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r-d"}}"#),
        };
        let client = fake_client(transport);
        let report = client.delete_key_pairs_all(["skey-aaaaaaaa", "skey-bbbbbbbb"]).unwrap();
        assert_eq!(report.deleted.len(), 2, "{report:?}");
        assert!(report.not_found.is_empty() && report.all_absent());
        assert_eq!(deletes.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn errors_that_concern_every_id_fail_the_whole_call_before_sending() {
        let transport = |_: &HttpRequest| -> Result<HttpResponse, Error> { panic!("nothing may be sent") };
        let client = Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("bad region!")
            .transport(Arc::new(transport))
            .build()
            .unwrap();
        assert!(matches!(client.delete_key_pairs_all(["skey-aaaaaaaa"]), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn an_authentication_failure_midway_keeps_the_report_of_what_was_done() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        // The first request succeeds; then the credentials are revoked.
        let transport = move |_: &HttpRequest| match counter.fetch_add(1, Ordering::SeqCst) {
            0 => answer(r#"{"Response":{"RequestId":"r-1"}}"#),
            _ => answer(
                r#"{"Response":{"Error":{"Code":"AuthFailure.SecretIdNotFound","Message":"revoked"},"RequestId":"r-2"}}"#,
            ),
        };
        let client = fake_client(transport);
        let ids: Vec<String> = (0..250).map(|n| format!("skey-{n:08}")).collect();
        let report = client.delete_key_pairs_all(ids.iter().map(String::as_str)).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "nothing is sent after the authentication failure");
        assert_eq!(report.failed.len(), 250);
        assert!(report.failed.iter().all(|f| f.code == "AuthFailure.SecretIdNotFound"));
        let unverified = report.failed.iter().filter(|f| f.message.contains("RequestId r-1")).count();
        assert_eq!(unverified, 100, "the first request's keys say they were deleted but not checked");
        assert_eq!(report.request_ids, ["r-1", "r-2"]);
    }

    #[test]
    fn an_authentication_failure_first_fails_the_whole_call() {
        let transport = |_: &HttpRequest| {
            answer(
                r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"no"},"RequestId":"r"}}"#,
            )
        };
        let client = fake_client(transport);
        let error = client.delete_key_pairs_all(["skey-aaaaaaaa"]).unwrap_err();
        assert_eq!(error.code(), Some(&ErrorCode::AuthFailureSignatureFailure));
        assert_eq!(error.request_id(), Some("r"));
    }

    #[test]
    fn a_present_unbound_key_proves_a_lost_attempt_had_no_effect() {
        let deletes = Arc::new(AtomicU32::new(0));
        let describes = Arc::new(AtomicU32::new(0));
        let (d, q) = (deletes.clone(), describes.clone());
        // The first delete is lost before reaching the API; skey-uuuuuuuu never existed.
        let transport = move |request: &HttpRequest| match request.header("X-TC-Action") {
            Some("DeleteKeyPairs") => match d.fetch_add(1, Ordering::SeqCst) {
                0 => Err(Error::Transport { kind: TransportKind::Timeout, message: "no answer".into() }),
                1 => answer(
                    r#"{"Response":{"Error":{"Code":"InvalidKeyPairId.NotFound","Message":"x"},"RequestId":"r-2"}}"#,
                ),
                _ => answer(r#"{"Response":{"RequestId":"r-3"}}"#),
            },
            _ if q.fetch_add(1, Ordering::SeqCst) == 0 => answer(
                r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyId":"skey-aaaaaaaa"}],"RequestId":"r-d1"}}"#,
            ),
            _ => answer(r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r-d2"}}"#),
        };
        let client = fake_client(transport);
        let report = client.delete_key_pairs_all(["skey-aaaaaaaa", "skey-uuuuuuuu"]).unwrap();
        assert_eq!(report.deleted, ["skey-aaaaaaaa".parse::<KeyId>().unwrap()]);
        assert_eq!(report.not_found, ["skey-uuuuuuuu".parse::<KeyId>().unwrap()]);
        assert_eq!(report.request_ids, ["r-2", "r-d1", "r-3", "r-d2"]);
    }

    /// A transport answering DeleteKeyPairs and DescribeKeyPairs from scripted lists, in order.
    fn scripted(
        deletes: Vec<Result<HttpResponse, Error>>,
        describes: Vec<&'static str>,
    ) -> impl Fn(&HttpRequest) -> Result<HttpResponse, Error> + Send + Sync {
        let deletes = std::sync::Mutex::new(deletes.into_iter());
        let describes = std::sync::Mutex::new(describes.into_iter());
        move |request: &HttpRequest| match request.header("X-TC-Action") {
            Some("DeleteKeyPairs") => deletes.lock().unwrap().next().expect("no more deletes scripted"),
            _ => answer(describes.lock().unwrap().next().expect("no more describes scripted")),
        }
    }

    fn lost() -> Result<HttpResponse, Error> {
        Err(Error::Transport { kind: TransportKind::Io, message: "connection closed".into() })
    }

    #[test]
    fn a_key_deleted_by_a_lost_attempt_is_not_reported_failed() {
        let gateway =
            || Ok(HttpResponse { status: 500, headers: vec![], body: b"<html>oops</html>".to_vec() });
        let transport = scripted(
            vec![lost(), gateway(), gateway()],
            vec![r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r-d"}}"#],
        );
        let report = fake_client(transport).delete_key_pairs_all(["skey-aaaaaaaa"]).unwrap();
        assert_eq!(report.deleted, ["skey-aaaaaaaa".parse::<KeyId>().unwrap()], "{report:?}");
        assert!(report.failed.is_empty() && report.all_absent());
    }

    #[test]
    fn an_image_bound_key_is_no_proof_that_a_lost_attempt_failed() {
        // Skip mode: the lost attempt deleted skey-aaaaaaaa and silently kept the image-bound
        // skey-iiiiiiii, which DescribeKeyPairs shows as unbound.
        let not_found = answer(
            r#"{"Response":{"Error":{"Code":"InvalidKeyPairId.NotFound","Message":"x"},"RequestId":"r-2"}}"#,
        );
        let transport = scripted(
            vec![lost(), not_found, answer(r#"{"Response":{"RequestId":"r-3"}}"#)],
            vec![
                r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyId":"skey-iiiiiiii"}],"RequestId":"r-d1"}}"#,
                r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyId":"skey-iiiiiiii"}],"RequestId":"r-d2"}}"#,
            ],
        );
        let report = fake_client(transport).delete_key_pairs_all(["skey-aaaaaaaa", "skey-iiiiiiii"]).unwrap();
        assert_eq!(report.deleted, ["skey-aaaaaaaa".parse::<KeyId>().unwrap()], "{report:?}");
        assert!(report.not_found.is_empty());
        assert_eq!(report.kept.len(), 1);
        assert_eq!(
            (report.kept[0].key_id.as_str(), report.kept[0].code.as_str()),
            ("skey-iiiiiiii", STILL_PRESENT)
        );
    }

    #[test]
    fn a_witness_deleted_by_a_later_lost_attempt_still_proves_the_first_had_no_effect() {
        let not_found = || {
            answer(
                r#"{"Response":{"Error":{"Code":"InvalidKeyPairId.NotFound","Message":"x"},"RequestId":"r"}}"#,
            )
        };
        // Both attempts' answers are lost; the first could not apply (skey-uuuuuuuu never
        // existed), the second deleted skey-aaaaaaaa.
        let transport = scripted(
            vec![lost(), not_found(), lost(), not_found()],
            vec![
                r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyId":"skey-aaaaaaaa"}],"RequestId":"r-d1"}}"#,
                r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r-d2"}}"#,
            ],
        );
        let report = fake_client(transport).delete_key_pairs_all(["skey-aaaaaaaa", "skey-uuuuuuuu"]).unwrap();
        assert_eq!(report.deleted, ["skey-aaaaaaaa".parse::<KeyId>().unwrap()], "{report:?}");
        assert_eq!(report.not_found, ["skey-uuuuuuuu".parse::<KeyId>().unwrap()]);
    }
}
