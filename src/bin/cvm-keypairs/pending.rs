//! TEMPORARY stand-in for the lead's batch API until it lands on main; deleted at the merge.
#![allow(dead_code, missing_docs)]

use cvm_keypairs::retry::RetryPolicy;
use cvm_keypairs::{Client, ClientBuilder, DeleteKeyPairs, DescribeKeyPairs, Error, KeyId};

pub struct BatchOptions {
    pub verify: bool,
}

pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub deleted: usize,
    pub kept: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct KeyFailure {
    pub key_id: KeyId,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeletionReport {
    pub deleted: Vec<KeyId>,
    pub not_found: Vec<KeyId>,
    pub kept: Vec<KeyFailure>,
    pub failed: Vec<KeyFailure>,
    pub request_ids: Vec<String>,
}

impl DeletionReport {
    pub fn all_absent(&self) -> bool {
        self.kept.is_empty() && self.failed.is_empty()
    }
}

pub trait BuilderExt: Sized {
    fn retry(self, policy: RetryPolicy) -> Self;
    fn rate_limit(self, per_second: usize) -> Self;
}

impl BuilderExt for ClientBuilder {
    fn retry(self, _: RetryPolicy) -> Self {
        self
    }
    fn rate_limit(self, _: usize) -> Self {
        self
    }
}

pub trait BatchExt {
    fn delete_key_pairs_all_with<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        options: BatchOptions,
        progress: impl FnMut(&Progress),
    ) -> Result<DeletionReport, Error>;
}

impl BatchExt for Client {
    fn delete_key_pairs_all_with<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        options: BatchOptions,
        mut progress: impl FnMut(&Progress),
    ) -> Result<DeletionReport, Error> {
        let mut ids = cvm_keypairs::key_id::parse_all(ids)?;
        cvm_keypairs::key_id::dedup(&mut ids);
        let mut report = DeletionReport::default();
        let total = ids.len();
        for chunk in ids.chunks(100) {
            match self.delete_key_pairs(&DeleteKeyPairs::new(chunk.iter().copied())?) {
                Ok(rid) => {
                    report.request_ids.push(rid);
                    report.deleted.extend_from_slice(chunk);
                }
                Err(e) if e.is_auth() => return Err(e),
                Err(e) => {
                    for id in chunk {
                        report.failed.push(KeyFailure {
                            key_id: *id,
                            code: e.code().map_or("Transport".into(), |c| c.to_string()),
                            message: e.to_string(),
                            request_id: e.request_id().map(str::to_owned),
                        });
                    }
                }
            }
            let p = Progress {
                done: report.deleted.len() + report.failed.len(),
                total,
                deleted: report.deleted.len(),
                kept: 0,
                failed: report.failed.len(),
            };
            progress(&p);
        }
        if options.verify {
            let deleted = std::mem::take(&mut report.deleted);
            for chunk in deleted.chunks(100) {
                let present = self.describe_key_pairs(&DescribeKeyPairs::by_ids(chunk.iter().copied())?)?;
                for id in chunk {
                    if present.key_pairs.iter().any(|k| k.key_id == *id) {
                        report.kept.push(KeyFailure {
                            key_id: *id,
                            code: "KeyPairStillPresent".into(),
                            message: "still present after a successful delete".into(),
                            request_id: Some(present.request_id.clone()),
                        });
                    } else {
                        report.deleted.push(*id);
                    }
                }
            }
        }
        Ok(report)
    }
}
