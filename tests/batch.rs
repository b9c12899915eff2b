//! Verified batch deletion against the in-process emulator over real HTTP on 127.0.0.1:
//! faults, rate limits, bound keys in both modes, clock skew and malformed input.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cvm_keypairs::{
    BatchOptions, Client, Credentials, DeletionReport, Error, Event, FailureCode, HttpRequest, HttpResponse,
    KeyId, RetryPolicy, Transport, UreqTransportBuilder,
};
use cvm_keypairs_emulator::{BoundBehavior, Emulator, EmulatorConfig, Instance, InstanceState, KeyPair};

fn id(prefix: char, n: usize) -> KeyId {
    format!("skey-{prefix}{n:07}").parse().unwrap()
}

fn key_pair(id: &KeyId) -> KeyPair {
    KeyPair::new(id.as_ref()).unwrap()
}

struct Fleet {
    deletable: Vec<KeyId>,
    bound: Vec<KeyId>,
    unknown: Vec<KeyId>,
}

impl Fleet {
    fn new(deletable: usize, bound: usize, unknown: usize) -> Self {
        Fleet {
            deletable: (0..deletable).map(|n| id('d', n)).collect(),
            bound: (0..bound).map(|n| id('b', n)).collect(),
            unknown: (0..unknown).map(|n| id('u', n)).collect(),
        }
    }

    fn seed(&self) -> Vec<KeyPair> {
        let mut pairs: Vec<KeyPair> = self.deletable.iter().map(key_pair).collect();
        pairs.extend(self.bound.iter().map(|k| {
            let mut pair = key_pair(k);
            pair.associated_instance_ids = vec![format!("ins-{}", &k.as_ref()[5..])];
            pair
        }));
        pairs
    }

    /// Every id, interleaved so that each request of 100 mixes the three kinds.
    fn requested(&self) -> Vec<String> {
        let mut all: Vec<KeyId> = Vec::new();
        let longest = self.deletable.len().max(self.bound.len()).max(self.unknown.len());
        for i in 0..longest {
            for list in [&self.deletable, &self.bound, &self.unknown] {
                all.extend(list.get(i));
            }
        }
        all.iter().map(|k| k.to_string()).collect()
    }
}

fn client(emulator: &Emulator, retry: RetryPolicy) -> Client {
    Client::builder()
        .credentials(
            Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY).unwrap(),
        )
        .endpoint(&emulator.url())
        .region("ap-guangzhou")
        .retry(retry)
        .build()
        .unwrap()
}

/// One attempt per call: no retries, throttled or not.
fn no_retries() -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_attempts = 1;
    retry.max_throttled = 1;
    retry
}

fn assert_each_id_once(report: &DeletionReport, requested: &[String]) {
    let mut seen = HashSet::new();
    let listed = report
        .deleted
        .iter()
        .chain(&report.not_found)
        .chain(report.kept.iter().map(|k| &k.key_id))
        .chain(report.failed.iter().map(|k| &k.key_id));
    for id in listed {
        assert!(seen.insert(id.to_string()), "{id} reported twice");
    }
    let requested: HashSet<String> = requested.iter().cloned().collect();
    assert_eq!(seen, requested, "every requested id is reported exactly once");
}

fn faulty_run(bound_behavior: BoundBehavior) {
    let fleet = Fleet::new(900, 40, 60);
    let emulator = Emulator::start(EmulatorConfig {
        key_pairs: fleet.seed(),
        bound_behavior,
        fail_rate: 0.2,
        drop_rate: 0.1,
        fault_seed: 7,
        ..EmulatorConfig::default()
    })
    .unwrap();
    // The default retry policy: the rounds, not a patient policy, must settle every key.
    let client = client(&emulator, RetryPolicy::default());
    let requested = fleet.requested();

    let report = client.delete_key_pairs_all(requested.iter().map(String::as_str)).unwrap();

    assert_each_id_once(&report, &requested);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.deleted.len(), 900);
    assert!(fleet.deletable.iter().all(|k| !emulator.contains(k.as_ref())), "every deletable key is gone");
    assert!(fleet.bound.iter().all(|k| emulator.contains(k.as_ref())), "every bound key is still there");
    let kept: HashSet<KeyId> = report.kept.iter().map(|k| k.key_id).collect();
    assert_eq!(kept, fleet.bound.iter().copied().collect(), "bound keys are reported kept");
    let not_found: HashSet<KeyId> = report.not_found.iter().copied().collect();
    assert_eq!(not_found, fleet.unknown.iter().copied().collect());
    assert!(!report.all_absent());
    let stats = emulator.stats();
    assert!(stats.answers_with("fault:http-500") > 0 && stats.answers_with("fault:drop") > 0, "{stats:?}");
    if bound_behavior == BoundBehavior::Skip {
        assert!(report.kept.iter().all(|k| *k.code() == FailureCode::StillPresent), "{:?}", report.kept);
    }
}

#[test]
fn thousand_ids_with_faults_and_bound_keys_failing_requests() {
    faulty_run(BoundBehavior::Error);
}

#[test]
fn thousand_ids_with_faults_and_bound_keys_silently_kept() {
    faulty_run(BoundBehavior::Skip);
}

#[test]
fn thousand_keys_never_hit_the_rate_limit() {
    let fleet = Fleet::new(1000, 0, 0);
    let emulator =
        Emulator::start(EmulatorConfig { key_pairs: fleet.seed(), ..EmulatorConfig::default() }).unwrap();
    let client = client(&emulator, no_retries());
    let requested = fleet.requested();
    let report = client.delete_key_pairs_all(requested.iter().map(String::as_str)).unwrap();
    assert_eq!(report.deleted.len(), 1000);
    assert!(report.all_absent());
    assert!(emulator.key_pairs().is_empty());
    let stats = emulator.stats();
    assert_eq!(stats.answers_with("RequestLimitExceeded"), 0, "{stats:?}");
    assert_eq!(stats.requests_for("DeleteKeyPairs"), 10);
    assert_eq!(stats.requests_for("DescribeKeyPairs"), 10, "verification, 100 ids per call");
    assert_eq!(report.request_ids.len(), 20);
}

/// A transport over loopback that records the `X-TC-Timestamp` of every request it sends.
struct Timestamps {
    inner: cvm_keypairs::UreqTransport,
    sent: Mutex<Vec<i64>>,
}

impl Transport for Timestamps {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, Error> {
        let timestamp = request.header("X-TC-Timestamp").unwrap().parse().unwrap();
        self.sent.lock().unwrap().push(timestamp);
        self.inner.send(request)
    }
}

#[test]
fn a_client_clock_an_hour_off_still_deletes() {
    let fleet = Fleet::new(3, 0, 0);
    // The emulator's clock runs an hour ahead: to it, the client's runs an hour slow.
    let emulator = Emulator::start(EmulatorConfig {
        key_pairs: fleet.seed(),
        clock_offset: 3600,
        ..EmulatorConfig::default()
    })
    .unwrap();
    let transport = Arc::new(Timestamps {
        inner: UreqTransportBuilder::default().proxy(None).unwrap().build().unwrap(),
        sent: Mutex::default(),
    });
    let client = Client::builder()
        .credentials(
            Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY).unwrap(),
        )
        .endpoint(&emulator.url())
        .region("ap-guangzhou")
        .retry(no_retries())
        .transport(transport.clone())
        .build()
        .unwrap();
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let before = now();
    let report = client.delete_key_pairs_all(fleet.requested().iter().map(String::as_str)).unwrap();
    let after = now();
    assert_eq!(report.deleted.len(), 3, "{report:?}");
    assert!(report.all_absent());
    // The first request is signed by the client's clock; every later one an hour on.
    let sent = transport.sent.lock().unwrap();
    assert!(sent.len() >= 3 && (before..=after).contains(&sent[0]), "{sent:?}");
    assert!(
        sent[1..].iter().all(|&t| (before + 3600..=after + 3600).contains(&t)),
        "skew not kept: {sent:?}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.answers_with("AuthFailure.SignatureExpire"), 1, "corrected once, then kept: {stats:?}");
}

#[test]
fn malformed_ids_among_good_ones_send_nothing() {
    let emulator = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = client(&emulator, no_retries());
    let mut ids: Vec<String> = Fleet::new(1000, 0, 0).requested();
    ids.insert(500, "skey-BAD00000".into());
    ids.push("not-a-key".into());
    match client.delete_key_pairs_all(ids.iter().map(String::as_str)) {
        Err(Error::InvalidKeyIds { 0: bad, .. }) => {
            let names: Vec<&str> = bad.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(names, ["skey-BAD00000", "not-a-key"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emulator.stats().total_requests(), 0);
}

#[test]
fn keys_bound_to_images_are_isolated_by_halving() {
    let fleet = Fleet::new(97, 0, 0);
    let mut seed = fleet.seed();
    let hidden: Vec<KeyId> = (0..3).map(|n| id('i', n)).collect();
    for &k in &hidden {
        let mut pair = key_pair(&k);
        pair.associated_image_ids = vec!["img-12345678".into()];
        seed.push(pair);
    }
    let emulator = Emulator::start(EmulatorConfig { key_pairs: seed, ..EmulatorConfig::default() }).unwrap();
    let client = client(&emulator, no_retries());
    let mut requested = fleet.requested();
    requested.extend(hidden.iter().map(|k| k.to_string()));
    let report = client.delete_key_pairs_all(requested.iter().map(String::as_str)).unwrap();
    assert_each_id_once(&report, &requested);
    assert_eq!(report.deleted.len(), 97);
    let kept: HashSet<KeyId> = report.kept.iter().map(|k| k.key_id).collect();
    assert_eq!(kept, hidden.iter().copied().collect());
    assert!(
        report.kept.iter().all(|k| k.code().to_string() == "InvalidParameterValue.KeyPairNotSupported"),
        "{:?}",
        report.kept
    );
    assert!(report.kept.iter().all(|k| matches!(k.code(), FailureCode::Api(_))), "{:?}", report.kept);
    assert!(hidden.iter().all(|k| emulator.contains(k.as_ref())));
}

#[test]
fn without_verification_nothing_is_described() {
    let fleet = Fleet::new(150, 0, 0);
    let emulator =
        Emulator::start(EmulatorConfig { key_pairs: fleet.seed(), ..EmulatorConfig::default() }).unwrap();
    let client = client(&emulator, no_retries());
    let requested = fleet.requested();
    let mut options = BatchOptions::default();
    options.verify = false;
    let mut progress = Vec::new();
    let report = client
        .delete_key_pairs_all_with(requested.iter().map(String::as_str), &options, |e| {
            if let Event::Progress(p) = e {
                progress.push(*p)
            }
        })
        .unwrap();
    assert_eq!(report.deleted.len(), 150);
    assert_eq!(emulator.stats().requests_for("DescribeKeyPairs"), 0);
    let seen: Vec<_> = progress.iter().map(|p| (p.deleted, p.unverified, p.total)).collect();
    assert_eq!(
        seen,
        [(0, 100, 150), (0, 150, 150), (150, 0, 150)],
        "accepted, then reported deleted unverified"
    );
    let last = progress.last().unwrap();
    assert_eq!(
        (last.deleted, last.not_found, last.kept, last.failed, last.unverified),
        (report.deleted.len(), report.not_found.len(), report.kept.len(), report.failed.len(), 0),
        "the last progress counts as the report does"
    );
}

/// An emulator holding `keys` key pairs, the n-th bound to instance `ins-…n` in `state`,
/// unbindings showing after `delay`.
fn bound_fleet(
    keys: usize,
    state: InstanceState,
    delay: Duration,
    restarts: bool,
) -> (Emulator, Vec<String>) {
    let ids: Vec<KeyId> = (0..keys).map(|n| id('b', n)).collect();
    let mut pairs = Vec::new();
    let mut instances = Vec::new();
    for k in &ids {
        let mut pair = key_pair(k);
        let mut instance = Instance::new(&format!("ins-{}", &k.as_ref()[5..])).unwrap();
        instance.instance_state = state;
        pair.associated_instance_ids = vec![instance.instance_id.clone()];
        pairs.push(pair);
        instances.push(instance);
    }
    let emulator = Emulator::start(EmulatorConfig {
        key_pairs: pairs,
        instances,
        async_delay: delay,
        force_stop_restarts: restarts,
        ..EmulatorConfig::default()
    })
    .unwrap();
    (emulator, ids.iter().map(ToString::to_string).collect())
}

fn detaching(force_stop: bool) -> BatchOptions {
    let mut options = BatchOptions::default();
    options.detach = true;
    options.force_stop = force_stop;
    options
}

#[test]
fn a_hundred_key_pairs_on_a_hundred_stopped_instances_are_detached_and_deleted_in_twice_the_delay() {
    let delay = Duration::from_secs(1);
    let (emulator, ids) = bound_fleet(100, InstanceState::Stopped, delay, false);
    let client = client(&emulator, RetryPolicy::default());
    let started = Instant::now();
    let report = client.delete_key_pairs_all_with(&ids, &detaching(false), |_| {}).unwrap();
    let took = started.elapsed();
    assert_eq!(report.deleted.len(), 100, "{report:?}");
    assert!(report.all_absent() && emulator.key_pairs().is_empty());
    assert_eq!(report.detached.len(), 100);
    assert!(report.stopped_instances.is_empty());
    let stats = emulator.stats();
    assert_eq!(stats.requests_for("DisassociateInstancesKeyPairs"), 1, "100 key pairs in one request");
    assert_eq!(
        stats.answers_with("InvalidParameterValue.KeyPairNotSupported"),
        0,
        "deleted only once unbound"
    );
    // The time the client's pacing may add: each action's requests past the first ten in a second.
    let paced: u64 = stats.requests.values().map(|n| n.saturating_sub(1) / 10).sum();
    let bound = 2 * delay + Duration::from_secs(paced);
    eprintln!("detached and deleted 100 key pairs in {took:?} (bound {bound:?}): {:?}", stats.requests);
    assert!(took <= bound, "took {took:?}, more than {bound:?} ({:?})", stats.requests);
}

#[test]
fn running_instances_are_force_stopped_only_when_allowed_and_reported_with_their_state() {
    let delay = Duration::from_millis(200);
    let (emulator, ids) = bound_fleet(2, InstanceState::Running, delay, false);
    let report =
        client(&emulator, RetryPolicy::default()).delete_key_pairs_all_with(&ids, &detaching(false), |_| {});
    let report = report.unwrap();
    assert_eq!(report.kept.len(), 2);
    assert!(report
        .kept
        .iter()
        .all(|k| *k.code() == FailureCode::StillBound && k.message().contains("--force-stop")));
    assert_eq!(emulator.stats().requests_for("DisassociateInstancesKeyPairs"), 0);
    assert!(emulator.instances().iter().all(|i| i.instance_state == InstanceState::Running));

    for (restarts, state) in [(false, "STOPPED"), (true, "RUNNING")] {
        let (emulator, ids) = bound_fleet(2, InstanceState::Running, delay, restarts);
        let report = client(&emulator, RetryPolicy::default())
            .delete_key_pairs_all_with(&ids, &detaching(true), |_| {})
            .unwrap();
        assert_eq!(report.deleted.len(), 2, "{report:?}");
        let stopped: Vec<(&str, Option<&str>)> =
            report.stopped_instances.iter().map(|s| (s.instance_id.as_str(), s.state.as_deref())).collect();
        assert_eq!(stopped, [("ins-b0000000", Some(state)), ("ins-b0000001", Some(state))]);
    }
}

#[test]
fn a_key_pair_an_image_uses_is_kept_with_the_api_s_code_and_what_to_do() {
    let mut pair = key_pair(&id('i', 0));
    pair.associated_image_ids = vec!["img-00000001".into()];
    let emulator =
        Emulator::start(EmulatorConfig { key_pairs: vec![pair], ..EmulatorConfig::default() }).unwrap();
    let report = client(&emulator, RetryPolicy::default())
        .delete_key_pairs_all_with(["skey-i0000000"], &detaching(true), |_| {})
        .unwrap();
    assert_eq!(report.kept.len(), 1, "{report:?}");
    assert!(matches!(report.kept[0].code(), FailureCode::Api(_)), "{:?}", report.kept[0]);
    assert!(report.kept[0].message().contains("delete those images"), "{}", report.kept[0].message());
    assert!(report.detached.is_empty());
}
