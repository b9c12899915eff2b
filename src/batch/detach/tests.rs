//! Detaching against a scripted model of the API: key pairs bound to instances, unbindings that
//! show only after a number of looks, running instances, and refusals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::batch::{BatchOptions, DeletionReport, StoppedInstance};
use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::retry::RetryPolicy;
use crate::{Client, Credentials, Event, KeyId};

/// The API as these tests need it.
#[derive(Default)]
struct Model {
    /// Key pairs and the instances DescribeKeyPairs shows them bound to.
    keys: BTreeMap<String, Vec<String>>,
    /// Instances and their states.
    instances: BTreeMap<String, String>,
    /// Unbindings accepted, each with how many more DescribeKeyPairs calls it stays hidden for.
    unbinding: Vec<(String, String, u32)>,
    /// How many looks an unbinding stays hidden for.
    delay: u32,
    /// A force-stopped instance is restarted afterwards.
    restarts: bool,
    /// DisassociateInstancesKeyPairs naming more than one key pair is refused.
    refuse_shared: bool,
    /// Key pairs DisassociateInstancesKeyPairs refuses.
    refuse_unbinding: BTreeSet<String>,
    /// Key pairs whose DeleteKeyPairs is refused this many more times, though they show no
    /// instance.
    refuse_deletes: BTreeMap<String, u32>,
    /// DescribeKeyPairs counts one key pair more than it returns.
    incomplete: bool,
    /// DescribeInstances fails.
    instances_fail: bool,
    /// Every request: action and parameters.
    log: Vec<(String, Value)>,
}

fn ids(params: &Value, name: &str) -> Vec<String> {
    params[name].as_array().map_or(vec![], |a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
}

fn error(code: &str) -> Value {
    json!({"Error": {"Code": code, "Message": format!("{code} (model)")}})
}

impl Model {
    fn answer(&mut self, action: &str, params: &Value) -> Value {
        self.log.push((action.to_owned(), params.clone()));
        match action {
            "DescribeKeyPairs" => self.describe_key_pairs(params),
            "DescribeInstances" if self.instances_fail => error("InternalError"),
            "DescribeInstances" => {
                let set: Vec<Value> = ids(params, "InstanceIds")
                    .iter()
                    .filter_map(|id| {
                        self.instances.get(id).map(|s| json!({"InstanceId": id, "InstanceState": s}))
                    })
                    .collect();
                json!({"TotalCount": set.len(), "InstanceSet": set})
            }
            "DisassociateInstancesKeyPairs" => self.disassociate(params),
            "DeleteKeyPairs" => self.delete(params),
            other => panic!("unexpected {other}"),
        }
    }

    fn describe_key_pairs(&mut self, params: &Value) -> Value {
        for (key, instance, hidden) in &mut self.unbinding {
            if *hidden == 0 {
                self.keys.get_mut(key).unwrap().retain(|i| i != instance);
            }
            *hidden = hidden.saturating_sub(1);
        }
        self.unbinding.retain(|(key, instance, _)| self.keys[key].contains(instance));
        let set: Vec<Value> = ids(params, "KeyIds")
            .iter()
            .filter_map(|id| self.keys.get(id).map(|i| json!({"KeyId": id, "AssociatedInstanceIds": i})))
            .collect();
        json!({"TotalCount": set.len() + usize::from(self.incomplete), "KeyPairSet": set})
    }

    fn disassociate(&mut self, params: &Value) -> Value {
        let (keys, instances) = (ids(params, "KeyIds"), ids(params, "InstanceIds"));
        let force = params["ForceStop"] == json!(true);
        if self.refuse_shared && keys.len() > 1 {
            return error("InvalidParameter.Shared");
        }
        if keys.iter().any(|k| self.refuse_unbinding.contains(k)) {
            return error("UnsupportedOperation.InstanceOsWindows");
        }
        if !force && instances.iter().any(|i| self.instances[i] == "RUNNING") {
            return error("UnsupportedOperation.InstanceStateRunning");
        }
        for instance in &instances {
            if force && self.instances[instance] == "RUNNING" {
                let after = if self.restarts { "RUNNING" } else { "STOPPED" };
                self.instances.insert(instance.clone(), after.to_owned());
            }
            for key in &keys {
                if self.keys[key].contains(instance) {
                    self.unbinding.push((key.clone(), instance.clone(), self.delay));
                }
            }
        }
        json!({})
    }

    fn delete(&mut self, params: &Value) -> Value {
        let keys = ids(params, "KeyIds");
        for key in &keys {
            let bound = self.keys.get(key).is_some_and(|i| !i.is_empty());
            let refusals = self.refuse_deletes.get_mut(key).filter(|n| **n > 0);
            if bound || refusals.map(|n| *n -= 1).is_some() {
                return error("InvalidParameterValue.KeyPairNotSupported");
            }
        }
        keys.iter().for_each(|k| drop(self.keys.remove(k)));
        json!({})
    }

    /// The actions sent, in order.
    fn actions(&self) -> Vec<&str> {
        self.log.iter().map(|(a, _)| a.as_str()).collect()
    }

    /// The parameters of every `action` sent.
    fn sent(&self, action: &str) -> Vec<&Value> {
        self.log.iter().filter(|(a, _)| a == action).map(|(_, p)| p).collect()
    }
}

fn model(keys: &[(&str, &[&str])], instances: &[(&str, &str)]) -> Model {
    Model {
        keys: keys.iter().map(|(k, i)| (k.to_string(), i.iter().map(|s| s.to_string()).collect())).collect(),
        instances: instances.iter().map(|(i, s)| (i.to_string(), s.to_string())).collect(),
        delay: 2,
        ..Model::default()
    }
}

fn client(model: &Arc<Mutex<Model>>) -> Client {
    let model = model.clone();
    let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
        let params: Value = serde_json::from_slice(&request.body).unwrap();
        let action = request.header("X-TC-Action").unwrap();
        let mut model = model.lock().unwrap();
        let mut body = model.answer(action, &params);
        body["RequestId"] = json!(format!("r-{}", model.log.len()));
        Ok(HttpResponse {
            status: 200,
            body: json!({ "Response": body }).to_string().into_bytes(),
            ..Default::default()
        })
    };
    Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .transport(Arc::new(transport))
        .rate_limit(0)
        .retry(RetryPolicy::with_max_attempts(2).without_waits())
        .build()
        .unwrap()
}

fn options(force_stop: bool) -> BatchOptions {
    BatchOptions {
        detach: true,
        force_stop,
        detach_timeout: Duration::from_secs(5),
        round_pause: Duration::ZERO,
        ..BatchOptions::default()
    }
}

fn run(model: Model, ids: &[&str], options: &BatchOptions) -> (DeletionReport, Model) {
    let model = Arc::new(Mutex::new(model));
    let report = client(&model).delete_key_pairs_all_with(ids, options, |_| {}).unwrap();
    let model = Arc::try_unwrap(model).ok().unwrap().into_inner().unwrap();
    (report, model)
}

fn strs(ids: &[KeyId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[test]
fn bound_key_pairs_are_unbound_then_deleted_once_the_unbinding_shows() {
    let m = model(
        &[
            ("skey-aaaaaaaa", &["ins-00000001"]),
            ("skey-bbbbbbbb", &["ins-00000002", "ins-00000003"]),
            ("skey-cccccccc", &[]),
        ],
        &[("ins-00000001", "STOPPED"), ("ins-00000002", "STOPPED"), ("ins-00000003", "STOPPED")],
    );
    let (report, m) = run(m, &["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"], &options(false));
    assert_eq!(strs(&report.deleted), ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"], "{report:?}");
    assert!(report.kept.is_empty() && report.failed.is_empty(), "{report:?}");
    let detached: Vec<(String, Vec<String>)> =
        report.detached.iter().map(|d| (d.key_id.to_string(), d.instance_ids.clone())).collect();
    assert_eq!(
        detached,
        [
            ("skey-aaaaaaaa".to_owned(), vec!["ins-00000001".to_owned()]),
            ("skey-bbbbbbbb".to_owned(), vec!["ins-00000002".to_owned(), "ins-00000003".to_owned()])
        ]
    );
    assert!(report.stopped_instances.is_empty());
    // One unbinding for both key pairs, without ForceStop; no DeleteKeyPairs was refused.
    let unbinds = m.sent("DisassociateInstancesKeyPairs");
    assert_eq!(unbinds.len(), 1, "{:?}", m.actions());
    assert!(unbinds[0].get("ForceStop").is_none());
    let refused = m.log.iter().filter(|(a, _)| a == "DeleteKeyPairs").count();
    assert_eq!(refused, 1, "deleted in one request, after the unbinding showed: {:?}", m.actions());
}

#[test]
fn a_key_pair_on_a_running_instance_is_kept_untouched_without_force_stop() {
    let m = model(
        &[("skey-aaaaaaaa", &["ins-00000001"]), ("skey-bbbbbbbb", &["ins-00000002"])],
        &[("ins-00000001", "RUNNING"), ("ins-00000002", "STOPPED")],
    );
    let (report, m) = run(m, &["skey-aaaaaaaa", "skey-bbbbbbbb"], &options(false));
    assert_eq!(strs(&report.deleted), ["skey-bbbbbbbb"]);
    assert_eq!(report.kept.len(), 1);
    let kept = &report.kept[0];
    assert_eq!(
        (kept.key_id.to_string(), kept.code().to_string()),
        ("skey-aaaaaaaa".into(), "KeyPairStillBound".into())
    );
    assert!(
        kept.message().contains("running instance(s) ins-00000001")
            && kept.message().contains("--force-stop")
    );
    for params in m.sent("DisassociateInstancesKeyPairs").into_iter().chain(m.sent("DeleteKeyPairs")) {
        assert!(!ids(params, "KeyIds").contains(&"skey-aaaaaaaa".to_owned()), "{params}");
    }
    assert_eq!(m.instances["ins-00000001"], "RUNNING");
}

#[test]
fn force_stop_stops_only_running_instances_and_reports_their_state_afterwards() {
    for (restarts, state) in [(false, "STOPPED"), (true, "RUNNING")] {
        let mut m = model(
            &[("skey-aaaaaaaa", &["ins-00000001"]), ("skey-bbbbbbbb", &["ins-00000002"])],
            &[("ins-00000001", "RUNNING"), ("ins-00000002", "STOPPED")],
        );
        m.restarts = restarts;
        let (report, m) = run(m, &["skey-aaaaaaaa", "skey-bbbbbbbb"], &options(true));
        assert_eq!(report.deleted.len(), 2, "{report:?}");
        assert_eq!(
            report.stopped_instances,
            [StoppedInstance { instance_id: "ins-00000001".into(), state: Some(state.into()) }]
        );
        let unbinds = m.sent("DisassociateInstancesKeyPairs");
        let forced: Vec<Vec<String>> =
            unbinds.iter().filter(|p| p["ForceStop"] == json!(true)).map(|p| ids(p, "InstanceIds")).collect();
        assert_eq!(forced, [["ins-00000001"]], "only the running instance is force-stopped");
        assert_eq!(m.actions().last(), Some(&"DescribeInstances"), "the state is learnt at the end");
    }
}

#[test]
fn a_refused_shared_unbinding_is_split_and_each_key_pair_keeps_its_own_answer() {
    let mut m = model(
        &[("skey-aaaaaaaa", &["ins-00000001"]), ("skey-bbbbbbbb", &["ins-00000002"])],
        &[("ins-00000001", "STOPPED"), ("ins-00000002", "STOPPED")],
    );
    m.refuse_shared = true;
    m.refuse_unbinding.insert("skey-bbbbbbbb".into());
    let (report, m) = run(m, &["skey-aaaaaaaa", "skey-bbbbbbbb"], &options(false));
    assert_eq!(strs(&report.deleted), ["skey-aaaaaaaa"]);
    let kept = &report.kept[0];
    assert_eq!(kept.code().to_string(), "UnsupportedOperation.InstanceOsWindows");
    assert!(kept.message().contains("did not detach it from instance(s) ins-00000002"), "{}", kept.message());
    assert!(kept.request_id().is_some());
    assert_eq!(m.sent("DisassociateInstancesKeyPairs").len(), 3, "one shared request, then one per key pair");
    assert_eq!(report.detached.len(), 1);
}

#[test]
fn an_unbinding_that_never_shows_keeps_the_key_pair_and_never_deletes_it() {
    let mut m = model(&[("skey-aaaaaaaa", &["ins-00000001"])], &[("ins-00000001", "STOPPED")]);
    m.delay = u32::MAX;
    let mut options = options(false);
    options.detach_timeout = Duration::from_millis(600);
    let model = Arc::new(Mutex::new(m));
    let mut waits = Vec::new();
    let report = client(&model)
        .delete_key_pairs_all_with(["skey-aaaaaaaa"], &options, |e| {
            if let Event::Waiting { reason, .. } = e {
                waits.push(reason.to_string());
            }
        })
        .unwrap();
    assert_eq!(report.kept[0].code().to_string(), "KeyPairStillBound");
    assert!(report.kept[0].message().contains("still shows it bound to instance(s) ins-00000001"));
    assert!(model.lock().unwrap().sent("DeleteKeyPairs").is_empty());
    assert!(!waits.is_empty() && waits.iter().all(|w| w.contains("1 key pair binding removed")), "{waits:?}");
}

#[test]
fn without_the_instances_states_nothing_is_unbound() {
    let mut m = model(
        &[("skey-aaaaaaaa", &["ins-00000001"]), ("skey-bbbbbbbb", &[])],
        &[("ins-00000001", "STOPPED")],
    );
    m.instances_fail = true;
    let (report, m) = run(m, &["skey-aaaaaaaa", "skey-bbbbbbbb"], &options(false));
    assert_eq!(strs(&report.deleted), ["skey-bbbbbbbb"]);
    assert_eq!(report.failed[0].code().to_string(), "InternalError");
    assert!(report.failed[0].message().contains("DescribeInstances failed"));
    assert!(m.sent("DisassociateInstancesKeyPairs").is_empty());
}

#[test]
fn a_refusal_right_after_an_unbinding_is_tried_again_once() {
    let refused = |times| {
        let mut m = model(&[("skey-aaaaaaaa", &["ins-00000001"])], &[("ins-00000001", "STOPPED")]);
        m.refuse_deletes.insert("skey-aaaaaaaa".into(), times);
        run(m, &["skey-aaaaaaaa"], &options(false))
    };
    let (report, m) = refused(1);
    assert_eq!(strs(&report.deleted), ["skey-aaaaaaaa"], "{report:?}");
    assert_eq!(m.sent("DeleteKeyPairs").len(), 2);

    // Refused again: kept, with the API's code and what to do.
    let (report, m) = refused(10);
    assert_eq!(m.sent("DeleteKeyPairs").len(), 2, "tried again once only");
    let kept = &report.kept[0];
    assert_eq!(kept.code().to_string(), "InvalidParameterValue.KeyPairNotSupported");
    assert!(
        kept.message().contains("an image made from an instance that had it may use it"),
        "{}",
        kept.message()
    );
}

#[test]
fn waiting_for_bindings_trusts_only_complete_listings() {
    let m = model(&[("skey-aaaaaaaa", &["ins-00000001"])], &[("ins-00000001", "STOPPED")]);
    let model = Arc::new(Mutex::new(m));
    let client = client(&model);
    let pending =
        client.wait_for_bindings(["skey-aaaaaaaa"], ["ins-00000001"], true, Duration::ZERO, |_| {}).unwrap();
    assert!(pending.is_empty(), "bound already: {pending:?}");
    let pending = client
        .wait_for_bindings(["skey-aaaaaaaa"], ["ins-00000001"], false, Duration::from_millis(300), |_| {})
        .unwrap();
    assert_eq!(pending, [("skey-aaaaaaaa".parse().unwrap(), "ins-00000001".to_owned())]);
    // Absent from a complete listing: bound to nothing.
    let pending =
        client.wait_for_bindings(["skey-zzzzzzzz"], ["ins-00000001"], false, Duration::ZERO, |_| {}).unwrap();
    assert!(pending.is_empty());
    assert!(client.wait_for_bindings(["skey-zzzzzzzz"], ["bad"], false, Duration::ZERO, |_| {}).is_err());
    // Absent from an incomplete one: unknown, so pending.
    model.lock().unwrap().incomplete = true;
    let pending =
        client.wait_for_bindings(["skey-zzzzzzzz"], ["ins-00000001"], false, Duration::ZERO, |_| {}).unwrap();
    assert_eq!(pending.len(), 1);
}
