//! Listings that span pages, bounded whatever the server answers.

use std::collections::HashSet;

use super::Client;
use crate::actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput, MAX_LIMIT};
use crate::error::Error;
use crate::key_id::KeyId;
use crate::observe::Hooks;
use crate::retry::Attempted;

/// The most key pairs one listing holds.
const MAX_LISTED: usize = 100_000;
/// The most pages one listing asks for.
const MAX_LISTING_PAGES: usize = 2_000;

impl Client {
    /// [`Client::describe_all_key_pairs`] with `hooks`; also every page's RequestId (and those
    /// of their failed attempts), in order.
    pub(crate) fn list_hooked(
        &self,
        request: &DescribeKeyPairs,
        hooks: &mut Hooks<'_>,
    ) -> Result<(DescribeKeyPairsOutput, Vec<String>), Error> {
        let asked: HashSet<KeyId> = request.key_ids().iter().copied().collect();
        let limit = if asked.is_empty() { MAX_LIMIT } else { asked.len() as u64 };
        let mut offset = request.offset().unwrap_or(0);
        let (mut list, mut request_ids) = (DescribeKeyPairsOutput::default(), Vec::new());
        let mut seen = HashSet::new();
        for _ in 0..MAX_LISTING_PAGES {
            let attempted: Attempted<_> =
                self.execute_hooked(&request.clone().with_offset(offset).with_limit(limit)?, hooks);
            request_ids.extend(attempted.request_ids);
            let page = attempted.result?;
            request_ids.push(page.request_id.clone());
            let count = page.key_pairs.len() as u64;
            if count > limit {
                return Err(refused(
                    page.request_id,
                    format!("a page of {count} key pairs, {limit} asked for"),
                ));
            }
            let before = list.key_pairs.len();
            let wanted = |id: &KeyId| asked.is_empty() || asked.contains(id);
            list.key_pairs
                .extend(page.key_pairs.into_iter().filter(|k| wanted(&k.key_id) && seen.insert(k.key_id)));
            if list.key_pairs.len() > MAX_LISTED {
                return Err(refused(page.request_id, format!("more than {MAX_LISTED} key pairs")));
            }
            (list.total_count, list.request_id) = (page.total_count, page.request_id);
            offset = offset.saturating_add(count);
            if count == 0 || list.key_pairs.len() == before || offset >= list.total_count {
                return Ok((list, request_ids));
            }
        }
        Err(refused(list.request_id, format!("pages past {MAX_LISTING_PAGES}")))
    }
}

fn refused(request_id: String, what: String) -> Error {
    Error::Decode {
        message: format!("DescribeKeyPairs returned {what}; refusing the listing"),
        request_id: Some(request_id),
        source: None,
    }
}
