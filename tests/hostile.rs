//! The library over real HTTP against hostile servers on 127.0.0.1: verification and the
//! culprit search trust only complete evidence, keys nobody asked for are ignored, listings end
//! on their own and stay bounded, secrets echoed in any field of any answer never come back
//! out, and an endpoint that accepts connections and never answers is given up on promptly.
//! (What the command line prints against the same servers is tested in `cli/tests/`.)
//!
//! Every library call runs under [`within`], so a regression fails the test instead of hanging
//! it, and the servers stop cooperating after a bounded number of requests for the same reason.

#[path = "support/hostile.rs"]
mod hostile;
mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use cvm_keypairs::{
    Client, Credentials, DeleteKeyPairs, DeletionReport, DescribeKeyPairs, Error, KeyFailure, KeyId,
    RetryPolicy, UreqTransport, UreqTransportBuilder,
};
use hostile::*;
use serde_json::{json, Value};
use support::{Reply, Server};

/// `count` well-formed ids: `skey-`, `prefix`, and a number filling the remaining digits.
fn ids(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("skey-{prefix}{i:0width$}", width = 8 - prefix.len())).collect()
}

/// Runs `f` on its own thread; fails the test if it takes longer than `limit` or panics.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the call panicked"),
    }
}

fn transport(timeout: Duration) -> Arc<UreqTransport> {
    Arc::new(
        UreqTransportBuilder::default()
            .proxy(None)
            .unwrap()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .unwrap(),
    )
}

/// A client of `server` with a token, unpaced (a test server has no rate limit to respect),
/// retrying by the default policy without its waits.
fn client(server: &Server) -> Client {
    let mut retry = RetryPolicy::default();
    retry.base = Duration::ZERO;
    retry.throttle_wait = Duration::ZERO;
    client_with(server, "ap-guangzhou", retry, Duration::from_secs(5))
}

/// One attempt per call, throttled or not.
fn no_retries() -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_attempts = 1;
    retry.max_throttled = 1;
    retry
}

fn client_with(server: &Server, region: &str, retry: RetryPolicy, timeout: Duration) -> Client {
    Client::builder()
        .credentials(Credentials::new("AKIDhostile", SECRET_KEY).unwrap().with_token(TOKEN).unwrap())
        .endpoint(&server.url())
        .region(region)
        .rate_limit(0)
        .retry(retry)
        .transport(transport(timeout))
        .build()
        .unwrap()
}

/// Deletes `asked` through `client` on a thread, bounded in time.
fn delete_all(client: Client, asked: &[String]) -> Result<DeletionReport, Error> {
    let asked = asked.to_vec();
    within(Duration::from_secs(30), move || client.delete_key_pairs_all(asked.iter().map(String::as_str)))
}

fn code(failure: &KeyFailure) -> String {
    failure.code().to_string()
}

fn id_set<'a>(ids: impl IntoIterator<Item = &'a KeyId>) -> HashSet<String> {
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// Asserts every id of `asked` is in exactly one list of `report`, and no other id is.
fn assert_each_asked_id_once(report: &DeletionReport, asked: &[String]) {
    let listed: Vec<String> = report
        .deleted
        .iter()
        .chain(&report.not_found)
        .chain(report.kept.iter().chain(&report.failed).map(|f| &f.key_id))
        .map(|id| id.to_string())
        .collect();
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "an id is reported twice: {report:?}");
    assert_eq!(unique, asked.iter().collect::<HashSet<_>>(), "exactly the ids asked for");
}

/// The `Limit` and `KeyIds` count of every DescribeKeyPairs in `log`.
fn describe_limits(log: &Log) -> Vec<(usize, usize)> {
    let log = log.lock().unwrap();
    log.iter()
        .filter(|(action, _)| action == "DescribeKeyPairs")
        .map(|(_, p)| (number(p, "Limit"), key_ids(p).len()))
        .collect()
}

#[test]
fn a_total_count_without_key_pairs_is_no_evidence_that_anything_was_deleted() {
    let (server, log) = api_server(100, |action, _| match action {
        "DeleteKeyPairs" => json!({}),
        _ => json!({"TotalCount": 30, "KeyPairSet": null}),
    });
    let asked = ids("n", 30);
    let report = delete_all(client(&server), &asked).unwrap();
    assert_each_asked_id_once(&report, &asked);
    assert!(report.deleted.is_empty() && report.not_found.is_empty(), "{report:?}");
    assert_eq!(report.failed.len(), 30, "{report:?}");
    assert!(report.failed.iter().all(|f| code(f) == "VerificationIncomplete"), "{:?}", report.failed);
    assert!(report.failed[0].message().contains("30"), "the message gives the count: {:?}", report.failed[0]);
    assert!(
        describe_limits(&log).iter().all(|&(limit, asked)| limit == asked && asked == 30),
        "verification asks for as many as it checks: {:?}",
        describe_limits(&log)
    );
}

#[test]
fn a_verification_showing_twenty_of_thirty_keys_leaves_the_other_ten_unproven() {
    let asked = ids("t", 30);
    // The server shows only the first 20 of the batch, on the first page, and counts every
    // id asked for.
    let visible: HashSet<String> = asked[..20].iter().cloned().collect();
    let (server, log) = api_server(100, move |action, params| {
        if action == "DeleteKeyPairs" {
            return json!({});
        }
        let asked = key_ids(params);
        let shown: Vec<Value> = asked
            .iter()
            .filter(|id| visible.contains(*id))
            .skip(number(params, "Offset"))
            .map(|id| json!({"KeyId": id}))
            .collect();
        json!({"TotalCount": asked.len(), "KeyPairSet": shown})
    });
    let report = delete_all(client(&server), &asked).unwrap();
    assert_each_asked_id_once(&report, &asked);
    assert!(report.deleted.is_empty() && report.not_found.is_empty(), "{report:?}");
    assert_eq!(id_set(report.kept.iter().map(|f| &f.key_id)), asked[..20].iter().cloned().collect());
    assert!(report.kept.iter().all(|f| code(f) == "KeyPairStillPresent"), "{:?}", report.kept);
    assert_eq!(id_set(report.failed.iter().map(|f| &f.key_id)), asked[20..].iter().cloned().collect());
    assert!(report.failed.iter().all(|f| code(f) == "VerificationIncomplete"), "{:?}", report.failed);
    let offsets: Vec<usize> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(action, p)| action == "DescribeKeyPairs" && key_ids(p).len() == 30)
        .map(|(_, p)| number(p, "Offset"))
        .collect();
    assert_eq!(offsets, [0, 20], "the page short of its TotalCount is followed with Offset");
}

#[test]
fn keys_not_asked_for_are_ignored_and_cannot_fill_the_count() {
    let (server, _) = api_server(100, |action, params| match action {
        "DeleteKeyPairs" => json!({}),
        // As many key pairs as asked for, none of them the ones asked for.
        _ => {
            let n = key_ids(params).len();
            let others: Vec<Value> = ids("zz", n).iter().map(|id| json!({"KeyId": id})).collect();
            json!({"TotalCount": n, "KeyPairSet": others})
        }
    });
    let asked = ids("a", 3);
    let report = delete_all(client(&server), &asked).unwrap();
    assert_each_asked_id_once(&report, &asked);
    assert!(report.deleted.is_empty(), "{report:?}");
    assert!(report.failed.iter().all(|f| code(f) == "VerificationIncomplete"), "{report:?}");
    assert!(!format!("{report:?}").contains("skey-zz"), "{report:?}");

    // A listing by ids keeps only the ids asked for, whatever else the server adds.
    let (server, _) = api_server(100, intruding);
    let client = client(&server);
    let asked = ids("a", 2);
    let by_ids = DescribeKeyPairs::by_ids(&asked).unwrap();
    let listed = within(Duration::from_secs(10), move || client.describe_all_key_pairs(&by_ids).unwrap());
    let listed: Vec<String> = listed.key_pairs.iter().map(|k| k.key_id.to_string()).collect();
    assert_eq!(listed, asked);
}

#[test]
fn a_culprit_search_without_complete_evidence_calls_no_key_not_found() {
    for shown in [0, 20] {
        let asked = ids("c", 30);
        let visible: HashSet<String> = asked[..shown].iter().cloned().collect();
        let (server, log) = api_server(500, move |action, params| {
            if action == "DeleteKeyPairs" {
                return json!({"Error": {"Code": "InvalidKeyPairId.NotFound", "Message": "some id is unknown"}});
            }
            let asked = key_ids(params);
            let set: Vec<Value> = asked
                .iter()
                .filter(|id| visible.contains(*id))
                .skip(number(params, "Offset"))
                .map(|id| json!({"KeyId": id}))
                .collect();
            json!({"TotalCount": asked.len(), "KeyPairSet": if shown == 0 { Value::Null } else { set.into() }})
        });
        let report = delete_all(client(&server), &asked).unwrap();
        assert_each_asked_id_once(&report, &asked);
        assert!(report.not_found.is_empty() && report.deleted.is_empty(), "{shown} shown: {report:?}");
        let unproven = id_set(report.failed.iter().map(|f| &f.key_id));
        assert_eq!(unproven, asked[shown..].iter().cloned().collect(), "{shown} shown: {report:?}");
        // Present, and refused by the API for a reason the listing does not show.
        let kept = id_set(report.kept.iter().map(|f| &f.key_id));
        assert_eq!(kept, asked[..shown].iter().cloned().collect(), "{shown} shown: {report:?}");
        assert!(report.failed.iter().all(|f| code(f) == "VerificationIncomplete"), "{:?}", report.failed);
        assert!(log.lock().unwrap().len() < 500, "{shown} shown: the search is bounded");
        assert!(
            describe_limits(&log).iter().all(|&(limit, asked)| limit == asked),
            "{:?}",
            describe_limits(&log)
        );
    }
}

#[test]
fn a_listing_that_repeats_one_page_of_an_endless_total_ends() {
    let (server, log) = api_server(100, |_, _| {
        let page: Vec<Value> = ids("r", 100).iter().map(|id| json!({"KeyId": id})).collect();
        json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": page})
    });
    let client = client(&server);
    let listed =
        within(Duration::from_secs(20), move || client.describe_all_key_pairs(&DescribeKeyPairs::all()));
    let listed = listed.unwrap();
    assert_eq!(listed.key_pairs.len(), 100);
    assert!(!listed.is_complete(), "10^18 counted, 100 listed");
    assert_eq!(log.lock().unwrap().len(), 2, "the repeated page ends the listing");
}

#[test]
fn a_listing_that_invents_thousands_of_new_keys_a_page_is_refused_at_once() {
    let (server, log) = api_server(50, |_, params| {
        let from = number(params, "Offset");
        let page: Vec<Value> =
            (from..from + 3000).map(|i| json!({"KeyId": format!("skey-{i:08}")})).collect();
        json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": page})
    });
    let client = client(&server);
    let error =
        within(Duration::from_secs(20), move || client.describe_all_key_pairs(&DescribeKeyPairs::all()))
            .unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(shown.contains("a page of 3000 key pairs, 100 asked for"), "it says what was wrong: {shown}");
    assert_eq!(log.lock().unwrap().len(), 1, "nothing more is asked for, nothing piles up");
}

#[test]
fn secrets_echoed_in_any_field_never_come_out_of_the_library() {
    let server = echo_server(SECRET_KEY);
    let asked = ids("s", 3);
    for mode in ECHO_MODES {
        let client = client_with(&server, mode, no_retries(), Duration::from_secs(5));
        let asked = asked.clone();
        let shown = within(Duration::from_secs(20), move || {
            let report = client.delete_key_pairs_all(asked.iter().map(String::as_str));
            let by_ids = DescribeKeyPairs::by_ids(&asked).unwrap();
            let listed = client.describe_all_key_pairs(&by_ids);
            let one = client.execute(&DeleteKeyPairs::new([&asked[0]]).unwrap());
            let mut shown = format!("{report:?} {listed:?} {one:?}");
            for error in [report.err(), listed.err(), one.err()].into_iter().flatten() {
                shown.push_str(&format!(" {error} {error:#?}"));
            }
            shown
        });
        assert_clean(mode, &shown);
        // An over-long RequestId or code is replaced whole (`<N characters, not kept>`), which
        // also drops the mask put in it.
        let dropped = shown.contains(" characters, not kept>");
        assert!(shown.contains("***") || dropped, "{mode}: the echo arrived and was masked: {shown}");
    }
}

#[test]
fn an_endpoint_that_never_answers_is_given_up_on_after_a_handful_of_requests() {
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let server = Server::start(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Reply::Hang
    });
    let mut retry = RetryPolicy::default();
    retry.give_up_after = Duration::from_secs(1);
    let client = client_with(&server, "ap-guangzhou", retry, Duration::from_millis(300));
    let asked = ids("h", 1000);
    let started = Instant::now();
    let report = delete_all(client, &asked).unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_each_asked_id_once(&report, &asked);
    assert_eq!(report.failed.len(), 1000, "{report:?}");
    let codes: HashSet<String> = report.failed.iter().map(code).collect();
    assert_eq!(codes, HashSet::from(["Transport.Timeout".to_owned()]));
    let sent = requests.load(Ordering::SeqCst);
    eprintln!("{sent} requests, {took:?}");
    assert!((1..=6).contains(&sent), "{sent} requests sent to a silent endpoint");
}
