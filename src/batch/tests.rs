//! The batch run against scripted fake transports: lost answers, authentication failures,
//! incomplete evidence.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::error::{ErrorCode, TransportKind};
use crate::http::{HttpRequest, HttpResponse};
use crate::retry::RetryPolicy;
use crate::{Client, Credentials, DescribeKeyPairs, Transport};

/// A client over `transport`, unpaced, retrying without waiting.
fn fake_client(transport: impl Transport + 'static) -> Client {
    Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .transport(Arc::new(transport))
        .rate_limit(0)
        .retry(RetryPolicy::with_max_attempts(3).without_waits())
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
            Err(Error::transport(TransportKind::Io, "connection closed", None))
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
    assert!(report.failed.iter().all(|f| f.code().to_string() == "AuthFailure.SecretIdNotFound"));
    let unverified = report.failed.iter().filter(|f| f.message().contains("RequestId r-1")).count();
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
    assert_eq!(error.code(), Some(&ErrorCode::new("AuthFailure.SignatureFailure")));
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
            0 => Err(Error::transport(TransportKind::Timeout, "no answer", None)),
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
    Err(Error::transport(TransportKind::Io, "connection closed", None))
}

#[test]
fn a_key_deleted_by_a_lost_attempt_is_not_reported_failed() {
    let gateway = || Ok(HttpResponse { status: 500, headers: vec![], body: b"<html>oops</html>".to_vec() });
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
        (report.kept[0].key_id.as_str(), report.kept[0].code()),
        ("skey-iiiiiiii", &FailureCode::StillPresent)
    );
}

#[test]
fn a_witness_deleted_by_a_later_lost_attempt_still_proves_the_first_had_no_effect() {
    let not_found = || {
        answer(r#"{"Response":{"Error":{"Code":"InvalidKeyPairId.NotFound","Message":"x"},"RequestId":"r"}}"#)
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

/// A fake key-pair API over a set of keys: DeleteKeyPairs deletes all it names or fails for
/// the first unknown one; DescribeKeyPairs answers through `describe`, which gets the ids asked,
/// the offset and limit, and the keys present, and may bend the answer. Every request's
/// action and parameters are logged.
struct Model {
    keys: Mutex<std::collections::BTreeSet<KeyId>>,
    log: Mutex<Vec<(String, serde_json::Value)>>,
}

type Describe =
    dyn Fn(&[KeyId], u64, u64, &std::collections::BTreeSet<KeyId>) -> serde_json::Value + Send + Sync;

fn keys(prefix: char, n: usize) -> Vec<KeyId> {
    (0..n).map(|i| format!("skey-{prefix}{i:07}").parse().unwrap()).collect()
}

/// The honest DescribeKeyPairs: the asked keys present, paged.
fn honest(
    asked: &[KeyId],
    offset: u64,
    limit: u64,
    present: &std::collections::BTreeSet<KeyId>,
) -> serde_json::Value {
    let matching: Vec<&KeyId> = asked.iter().filter(|id| present.contains(id)).collect();
    let page: Vec<_> = matching
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|id| serde_json::json!({"KeyId": id}))
        .collect();
    serde_json::json!({"TotalCount": matching.len(), "KeyPairSet": page})
}

fn model_client(
    present: &[KeyId],
    describe: impl Fn(&[KeyId], u64, u64, &std::collections::BTreeSet<KeyId>) -> serde_json::Value
        + Send
        + Sync
        + 'static,
) -> (Client, Arc<Model>) {
    let model =
        Arc::new(Model { keys: Mutex::new(present.iter().copied().collect()), log: Mutex::default() });
    let describe: Box<Describe> = Box::new(describe);
    let m = model.clone();
    let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
        let params: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let action = request.header("X-TC-Action").unwrap().to_owned();
        m.log.lock().unwrap().push((action.clone(), params.clone()));
        let asked: Vec<KeyId> = params["KeyIds"]
            .as_array()
            .map_or(vec![], |ids| ids.iter().map(|id| id.as_str().unwrap().parse().unwrap()).collect());
        let mut keys = m.keys.lock().unwrap();
        let mut response = if action == "DeleteKeyPairs" {
            match asked.iter().find(|id| !keys.contains(id)) {
                Some(unknown) => {
                    serde_json::json!({"Error": {"Code": "InvalidKeyPairId.NotFound", "Message": format!("{unknown} not found")}})
                }
                None => {
                    asked.iter().for_each(|id| {
                        keys.remove(id);
                    });
                    serde_json::json!({})
                }
            }
        } else {
            let (offset, limit) =
                (params["Offset"].as_u64().unwrap_or(0), params["Limit"].as_u64().unwrap_or(20));
            describe(&asked, offset, limit, &keys)
        };
        response["RequestId"] = serde_json::json!(format!("r-{}", m.log.lock().unwrap().len()));
        answer(&serde_json::json!({ "Response": response }).to_string())
    };
    (fake_client(transport), model)
}

fn codes(failures: &[KeyFailure]) -> Vec<String> {
    failures.iter().map(|f| f.code().to_string()).collect()
}

#[test]
fn verification_asks_for_as_many_as_it_checks_and_follows_pages() {
    let ids = keys('a', 30);
    // The server returns at most 20 per page, whatever Limit says.
    let (client, model) = model_client(&ids, |asked, offset, limit, _| {
        let all: Vec<KeyId> = asked.to_vec();
        honest(&all, offset, limit.min(20), &Default::default())
    });
    let report = client.delete_key_pairs_all(ids.iter().map(KeyId::as_str)).unwrap();
    assert_eq!(report.deleted.len(), 30, "{report:?}");
    let log = model.log.lock().unwrap();
    let describes: Vec<&serde_json::Value> =
        log.iter().filter(|(a, _)| a == "DescribeKeyPairs").map(|(_, p)| p).collect();
    assert_eq!(describes.len(), 1, "complete at once: nothing left counts");
    assert_eq!(describes[0]["Limit"], 30);
}

#[test]
fn a_verification_page_short_of_its_total_count_is_no_evidence_of_deletion() {
    let ids = keys('a', 30);
    for (name, bent) in [
        ("null set", serde_json::json!({"TotalCount": 30, "KeyPairSet": null})),
        ("empty set", serde_json::json!({"TotalCount": 30, "KeyPairSet": []})),
    ] {
        let bent2 = bent.clone();
        let (client, _) = model_client(&ids, move |_, _, _, _| bent2.clone());
        let report = client.delete_key_pairs_all(ids.iter().map(KeyId::as_str)).unwrap();
        assert!(report.deleted.is_empty(), "{name}: {report:?}");
        assert_eq!(report.failed.len(), 30, "{name}");
        assert!(codes(&report.failed).iter().all(|c| c == "VerificationIncomplete"), "{name}: {report:?}");
        assert!(
            report.failed[0].message().contains("DeleteKeyPairs accepted it"),
            "{}",
            report.failed[0].message()
        );
        assert!(!report.all_absent());
    }
}

#[test]
fn keys_beyond_what_a_verification_returns_are_unknown_even_after_paging() {
    let ids = keys('a', 30);
    // The same twenty keys come back on every page, whatever the offset: ten are never shown.
    let visible: Vec<KeyId> = ids[..20].to_vec();
    let (client, model) = model_client(&ids, move |asked, _, _, _| {
        let page: Vec<_> = asked
            .iter()
            .filter(|id| visible.contains(id))
            .map(|id| serde_json::json!({"KeyId": id}))
            .collect();
        serde_json::json!({"TotalCount": asked.len(), "KeyPairSet": page})
    });
    let report = client.delete_key_pairs_all(ids.iter().map(KeyId::as_str)).unwrap();
    assert!(report.deleted.is_empty());
    assert_eq!(codes(&report.kept), vec!["KeyPairStillPresent"; 20], "shown present after deletion: kept");
    assert_eq!(codes(&report.failed), vec!["VerificationIncomplete"; 10]);
    let log = model.log.lock().unwrap();
    let offsets: Vec<&serde_json::Value> =
        log.iter().filter(|(a, _)| a == "DescribeKeyPairs").map(|(_, p)| &p["Offset"]).collect();
    assert_eq!(offsets[..2], [&serde_json::json!(0), &serde_json::json!(20)], "paged with Offset");
}

#[test]
fn keys_not_asked_for_are_ignored() {
    let ids = keys('a', 3);
    let stranger = keys('z', 1)[0];
    // The server adds a key nobody asked about, and counts only the asked ones.
    let (client, _) = model_client(&ids, move |asked, offset, limit, present| {
        let mut answer = honest(asked, offset, limit, present);
        answer["KeyPairSet"].as_array_mut().unwrap().push(serde_json::json!({"KeyId": stranger}));
        answer
    });
    let report = client.delete_key_pairs_all(ids.iter().map(KeyId::as_str)).unwrap();
    assert_eq!(report.deleted, ids);
    assert!(report.all_absent());
    let listed = client.describe_all_key_pairs(&DescribeKeyPairs::by_ids(ids.clone()).unwrap()).unwrap();
    assert!(listed.key_pairs.is_empty() && listed.is_complete());
}

#[test]
fn an_incomplete_culprit_search_never_calls_a_key_not_found() {
    let present = keys('a', 5);
    let mut asked = present.clone();
    asked.extend(keys('u', 5));
    // Delete fails for the unknown keys; DescribeKeyPairs then claims 10 and returns none.
    let (client, _) =
        model_client(&present, |_, _, _, _| serde_json::json!({"TotalCount": 10, "KeyPairSet": null}));
    let report = client.delete_key_pairs_all(asked.iter().map(KeyId::as_str)).unwrap();
    assert!(report.not_found.is_empty() && report.deleted.is_empty(), "{report:?}");
    assert_eq!(codes(&report.failed), vec!["VerificationIncomplete"; 10]);
}

#[test]
fn keys_failing_transiently_are_tried_again_in_later_rounds_after_a_check() {
    let ids = keys('a', 250);
    let model = Arc::new(Model { keys: Mutex::new(ids.iter().copied().collect()), log: Mutex::default() });
    let deletes = Arc::new(AtomicU32::new(0));
    let (m, d) = (model.clone(), deletes.clone());
    // Every DeleteKeyPairs of the first round fails as a gateway would, three times over; the
    // second one deletes its keys before failing (its answer lost).
    let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
        let params: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let action = request.header("X-TC-Action").unwrap();
        m.log.lock().unwrap().push((action.to_owned(), params.clone()));
        let asked: Vec<KeyId> = params["KeyIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().parse().unwrap())
            .collect();
        let mut keys = m.keys.lock().unwrap();
        if action == "DeleteKeyPairs" {
            let n = d.fetch_add(1, Ordering::SeqCst);
            if n < 9 {
                if n == 3 {
                    asked.iter().for_each(|id| {
                        keys.remove(id);
                    });
                }
                return Ok(HttpResponse {
                    status: 502,
                    headers: vec![],
                    body: b"<html>bad gateway</html>".to_vec(),
                });
            }
            asked.iter().for_each(|id| {
                keys.remove(id);
            });
            return answer(r#"{"Response":{"RequestId":"r-del"}}"#);
        }
        let body =
            honest(&asked, params["Offset"].as_u64().unwrap(), params["Limit"].as_u64().unwrap(), &keys);
        let mut body = serde_json::json!({ "Response": body });
        body["Response"]["RequestId"] = "r-d".into();
        answer(&body.to_string())
    };
    let client = fake_client(transport);
    let options =
        BatchOptions { round_pause: std::time::Duration::from_millis(1), ..BatchOptions::default() };
    let mut rounds = Vec::new();
    let report = client
        .delete_key_pairs_all_with(ids.iter().map(KeyId::as_str), &options, |e| {
            if let Event::Waiting { reason, .. } = e {
                rounds.push(reason.to_string());
            }
        })
        .unwrap();
    assert_eq!(report.deleted.len(), 250, "{report:?}");
    assert!(report.all_absent());
    // The keys of the lost attempt were found gone when that request failed; the other 150
    // are looked at again and re-sent in one more round.
    assert_eq!(rounds, ["then round 2 checks again and retries 150 key pairs that failed transiently"]);
    let log = model.log.lock().unwrap();
    let deletes: Vec<usize> = log
        .iter()
        .filter(|(a, _)| a == "DeleteKeyPairs")
        .map(|(_, p)| p["KeyIds"].as_array().unwrap().len())
        .collect();
    assert_eq!(deletes[9..], [100, 50], "the second round re-sends only the keys still present");
}

#[test]
fn rounds_stop_when_one_settles_nothing() {
    let ids = keys('a', 10);
    let sent = Arc::new(AtomicU32::new(0));
    let s = sent.clone();
    let transport = move |_: &HttpRequest| -> Result<HttpResponse, Error> {
        s.fetch_add(1, Ordering::SeqCst);
        Err(Error::transport(TransportKind::Connect, "refused", None))
    };
    let client = fake_client(transport);
    let options = BatchOptions { round_pause: std::time::Duration::ZERO, ..BatchOptions::default() };
    let report = client.delete_key_pairs_all_with(ids.iter().map(KeyId::as_str), &options, |_| {}).unwrap();
    assert_eq!(codes(&report.failed), vec!["Transport.Connect"; 10]);
    assert_eq!(
        sent.load(Ordering::SeqCst),
        3,
        "one round of three attempts: nothing settled, no more rounds"
    );
}

#[test]
fn a_stop_request_ends_the_run_with_what_was_settled_and_the_rest_interrupted() {
    let ids = keys('a', 300);
    let control = BatchControl::default();
    let c = control.clone();
    let (client, model) = model_client(&ids, honest);
    let options = BatchOptions { control: Some(control.clone()), ..BatchOptions::default() };
    let mut partial = None;
    let report = client
        .delete_key_pairs_all_with(ids.iter().map(KeyId::as_str), &options, |e| {
            // Stop once the first request was accepted.
            if let Event::Progress(p) = e {
                if p.unverified == 100 && partial.is_none() {
                    partial = Some(c.report_so_far());
                    c.stop();
                }
            }
        })
        .unwrap();
    let partial = partial.unwrap();
    assert_eq!(codes(&partial.failed), vec!["Interrupted"; 300]);
    assert!(
        partial.failed[0].message().contains("DeleteKeyPairs accepted it"),
        "{}",
        partial.failed[0].message()
    );
    assert!(
        partial.failed[299].message().contains("interrupted before"),
        "{}",
        partial.failed[299].message()
    );
    assert_eq!(codes(&report.failed), vec!["Interrupted"; 300]);
    let log = model.log.lock().unwrap();
    assert_eq!(log.len(), 1, "nothing more was sent: {log:?}");
}
