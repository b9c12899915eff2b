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
    /// The API error code, or [`STILL_PRESENT`], or a short name of a local failure.
    pub code: String,
    /// What happened.
    pub message: String,
    /// The RequestId of the answer this is based on, when there was one.
    pub request_id: Option<String>,
}

impl KeyFailure {
    fn from_error(key_id: KeyId, error: &Error) -> Self {
        let code = match error {
            Error::Api { code, .. } => code.as_str().to_owned(),
            Error::Http { status, .. } => format!("HTTP{status}"),
            Error::Transport { kind, .. } => format!("Transport.{kind:?}"),
            Error::Decode { .. } => "DecodeError".to_owned(),
            _ => "ClientError".to_owned(),
        };
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
    /// id (credentials, configuration); everything else is reported per id.
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

        let mut run = Run { client: self, report: DeletionReport::default(), to_verify: Vec::new() };
        let total = ids.len();
        for chunk in ids.chunks(MAX_IDS) {
            run.delete(chunk.to_vec())?;
            let r = &run.report;
            progress(&Progress {
                done: r.len() + run.to_verify.len(),
                total,
                deleted: r.deleted.len() + run.to_verify.len(),
                kept: r.kept.len(),
                failed: r.failed.len(),
            });
        }
        let unverified = std::mem::take(&mut run.to_verify);
        if options.verify {
            run.verify(unverified)?;
        } else {
            run.report.deleted.extend(unverified.into_iter().map(|(id, _)| id));
        }
        debug_assert_eq!(run.report.len(), total);
        Ok(run.report)
    }
}

struct Run<'c> {
    client: &'c Client,
    report: DeletionReport,
    // Keys a successful DeleteKeyPairs covered, with its RequestId.
    to_verify: Vec<(KeyId, String)>,
}

impl Run<'_> {
    fn delete(&mut self, ids: Vec<KeyId>) -> Result<(), Error> {
        let mut queue = vec![ids];
        // Keys in a request that may have taken effect although it failed: if such a key is
        // gone later, this run deleted it.
        let mut maybe_deleted: HashSet<KeyId> = HashSet::new();
        while let Some(ids) = queue.pop() {
            let outcome: Attempted<RequestIdOnly> =
                self.client.execute_retrying(&DeleteKeyPairs::new(ids.iter().copied())?);
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
            self.report.request_ids.extend(error.request_id().map(str::to_owned));
            if error.is_auth() && !error.is_retryable() {
                return Err(error);
            }
            if !blames_some_ids(&error) {
                self.report.failed.extend(ids.into_iter().map(|id| KeyFailure::from_error(id, &error)));
                continue;
            }
            let present = match self.existing(&ids) {
                Ok(present) => present,
                Err(describe_error) => {
                    self.report
                        .failed
                        .extend(ids.into_iter().map(|id| KeyFailure::from_error(id, &describe_error)));
                    continue;
                }
            };
            // DeleteKeyPairs is all or nothing, and every request here is a subset of the
            // earlier ones: an unbound key still present proves none of them took effect, so
            // the absent keys among these never existed.
            if ids.iter().any(|id| present.get(id).is_some_and(|p| p.associated_instance_ids.is_empty())) {
                for id in &ids {
                    maybe_deleted.remove(id);
                }
            }
            let about_binding = error.code() != Some(&ErrorCode::InvalidKeyPairIdNotFound);
            let mut rest = Vec::new();
            for id in ids.iter().copied() {
                match present.get(&id) {
                    None if maybe_deleted.contains(&id) => {
                        self.to_verify.push((id, error.request_id().unwrap_or_default().to_owned()))
                    }
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

    fn verify(&mut self, deleted: Vec<(KeyId, String)>) -> Result<(), Error> {
        for chunk in deleted.chunks(MAX_IDS) {
            let ids: Vec<KeyId> = chunk.iter().map(|(id, _)| *id).collect();
            let present = match self.existing(&ids) {
                Ok(present) => present,
                Err(e) if e.is_auth() && !e.is_retryable() => return Err(e),
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
        Ok(())
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
    use crate::Credentials;

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
        let client = Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .region("ap-guangzhou")
            .transport(Arc::new(transport))
            .rate_limit(0)
            .retry(RetryPolicy { max_attempts: 3, base: Duration::ZERO, cap: Duration::ZERO })
            .build()
            .unwrap();
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
}
