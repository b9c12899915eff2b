//! `delete` and `describe` choosing key pairs by name, age, tag and project, the real binary
//! against the real `cvm-keypairs emulate`: the plan without `--yes`, the deletion with it, no
//! match, `describe --output table|json|ids` and its pipe into `delete --yes -`, a listing that
//! is incomplete or ignores its filters (a loopback server), and `delete --detach` with and
//! without `--force-stop`.

mod cli_support;
#[path = "../../tests/support/hostile.rs"]
mod hostile;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::process::Stdio;

use cli_support::*;
use serde_json::{json, Value};

fn set(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A key pair for the seed.
fn key(id: &str, name: &str, created: &str, extra: Value) -> Value {
    let mut entry = json!({"KeyId": id, "KeyName": name, "CreatedTime": created});
    entry.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    entry
}

const OLD: &str = "2020-09-22T09:31:26Z";
const FUTURE: &str = "2999-01-01T00:00:00Z";

/// Seven key pairs: old CI ones (one bound, one to keep), a new one, one whose CreatedTime is
/// unreadable, and others.
fn fleet() -> Value {
    json!({"KeyPairs": [
        key("skey-c0000001", "ci_1", OLD, json!({"Tags": [{"Key": "env", "Value": "ci"}]})),
        key("skey-c0000002", "ci_2", OLD, json!({"Tags": [{"Key": "env", "Value": "ci"}], "ProjectId": 5,
                                                "AssociatedInstanceIds": ["ins-00000001"]})),
        key("skey-c0000003", "ci_keep_1", OLD, json!({})),
        key("skey-c0000004", "ci_new", FUTURE, json!({"Tags": [{"Key": "env", "Value": "ci"}]})),
        key("skey-c0000005", "ci_odd", "yesterday-ish", json!({})),
        key("skey-w0000001", "web", OLD, json!({"Tags": [{"Key": "env", "Value": "prod"}]})),
        key("skey-w0000002", "cix", OLD, json!({})),
    ], "Instances": ["ins-00000001"]})
}

/// `report` (a `delete --json` object of a selection) checked by [`check_json`] once its
/// `complete` mark, which must be `complete`, is taken off.
fn check_selected(report: &Value, asked: &[&str], complete: bool) -> (HashSet<String>, HashSet<String>) {
    let mut report = report.clone();
    assert_eq!(report.as_object_mut().unwrap().remove("complete"), Some(json!(complete)), "{report}");
    let asked: Vec<String> = asked.iter().map(|s| s.to_string()).collect();
    let (deleted, not_found, failed) = check_json(&report, &asked);
    (deleted, failed.into_keys().collect::<HashSet<_>>().union(&not_found).cloned().collect())
}

#[test]
fn selectors_print_the_plan_without_yes_and_delete_what_they_chose_with_it() {
    let emu = Emu::start_seeded(&fleet(), &[]);
    let everything = present(&emu);
    let chosen = ["--name", "ci_*", "--exclude-name", "ci_keep*", "--older-than", "1d"];
    let plan = client(&emu, "delete", &chosen, None);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(
        plan.stdout,
        format!("skey-c0000001  ci_1  {OLD}  -\nskey-c0000002  ci_2  {OLD}  ins-00000001\n"),
        "a line per key pair chosen"
    );
    assert!(
        plan.stderr.contains("plan: 2 key pairs selected; nothing was deleted. Run again with --yes"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("1 of them is bound to instances and would be kept: add --detach"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains(
            "note: 1 key pair whose CreatedTime cannot be read (e.g. skey-c0000005: \"yesterday-ish\")"
        ),
        "{}",
        plan.stderr
    );
    let json_plan = client(&emu, "delete", &[&chosen[..], &["--json"]].concat(), None);
    assert_eq!(json_plan.code, 0, "{json_plan:?}");
    assert_eq!(
        json_plan.json(),
        json!({"plan": [
            {"key_id": "skey-c0000001", "key_name": "ci_1", "created_time": OLD, "instance_ids": []},
            {"key_id": "skey-c0000002", "key_name": "ci_2", "created_time": OLD, "instance_ids": ["ins-00000001"]}],
            "complete": true})
    );
    assert_eq!(present(&emu), everything, "a plan deletes nothing");

    let by_tag = client(&emu, "delete", &["--tag", "env=ci", "--project-id", "0", "--yes", "--json"], None);
    assert_eq!(by_tag.code, 0, "{by_tag:?}");
    let (deleted, _) = check_selected(&by_tag.json(), &["skey-c0000001", "skey-c0000004"], true);
    assert_eq!(
        deleted,
        set(&["skey-c0000001", "skey-c0000004"]),
        "the tag and project 0, not ci_2 of project 5"
    );

    let bound = client(&emu, "delete", &["--name", "ci_?", "--yes"], None);
    assert_eq!(bound.code, 1, "the bound key pair is kept: {bound:?}");
    assert!(
        bound.stdout.starts_with("1 key pair: 0 deleted, 0 not found, 1 kept, 0 failed\n"),
        "{}",
        bound.stdout
    );

    for extra in [&[][..], &["--json"][..]] {
        let none = client(&emu, "delete", &[&["--name", "nothing_*", "--yes"][..], extra].concat(), None);
        assert_eq!(none.code, 0, "{none:?}");
        assert!(none.stderr.contains("no key pair selected; nothing to delete"), "{}", none.stderr);
        if extra.is_empty() {
            assert_eq!(none.stdout, "0 key pairs: 0 deleted, 0 not found, 0 kept, 0 failed\n");
        } else {
            check_selected(&none.json(), &[], true);
        }
    }
    let both = client(&emu, "delete", &["--name", "ci_*", "skey-w0000001", "--json"], None);
    assert_eq!((both.code, both.json()["error"]["code"].as_str()), (2, Some("UsageError")), "{both:?}");
    let left = present(&emu);
    assert_eq!(
        left,
        set(&["skey-c0000002", "skey-c0000003", "skey-c0000005", "skey-w0000001", "skey-w0000002"])
    );
    let records = emu.finish();
    let deletes: Vec<&Value> = records.iter().filter(|r| r["action"] == "DeleteKeyPairs").collect();
    assert_eq!(deletes.len(), 2, "the tag run and the ci_? run, nothing else: {records:?}");
}

#[test]
fn describe_prints_a_table_with_tags_and_instances_json_or_one_id_a_line() {
    let emu = Emu::start_seeded(&fleet(), &[]);
    let table = client(&emu, "describe", &["--name", "ci_?"], None);
    assert_eq!(table.code, 0, "{table:?}");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(
        lines[0], "KEY ID         NAME  PROJECT  CREATED               INSTANCES     TAGS",
        "{}",
        table.stdout
    );
    assert_eq!(lines[1], format!("skey-c0000001  ci_1        0  {OLD}  -             env=ci"));
    assert_eq!(lines[2], format!("skey-c0000002  ci_2        5  {OLD}  ins-00000001  env=ci"));
    assert_eq!(lines[3..], ["2 key pairs"]);

    let json = client(&emu, "describe", &["--json", "--tag", "env=prod"], None);
    let output_json = client(&emu, "describe", &["--output", "json", "--tag", "env=prod"], None);
    assert_eq!((json.code, output_json.code), (0, 0));
    let object = json.json();
    assert_eq!(object, output_json.json(), "--json is --output json");
    assert_eq!(ids_of(&object["key_pairs"], "KeyId"), set(&["skey-w0000001"]));
    assert_eq!(
        (&object["not_found"], &object["unknown"], &object["complete"]),
        (&json!([]), &json!([]), &json!(true))
    );

    let ids =
        client(&emu, "describe", &["--output", "ids", "--older-than", "1d", "--exclude-name", "ci_*"], None);
    assert_eq!((ids.code, ids.stdout.as_str()), (0, "skey-w0000001\nskey-w0000002\n"), "{ids:?}");
    let given = client(&emu, "describe", &["--output=ids", "skey-w0000001", "skey-zzzzzzzz"], None);
    assert_eq!(given.stdout, "skey-w0000001\n", "only ids on stdout: {given:?}");
    assert!(given.stderr.contains("not found: skey-zzzzzzzz"), "{}", given.stderr);
    for (args, needle) in [
        (&["--json", "--output", "table"][..], "--json is --output json"),
        (&["--output", "xml"][..], "--output takes table, json or ids"),
        (&["--name", "ci_*", "skey-w0000001"][..], "give key pair ids or selectors"),
        (&["--older-than", "1 day"][..], "--older-than takes"),
    ] {
        let out = client(&emu, "describe", args, None);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    let bad_json = client(&emu, "describe", &["--output", "json", "--frobnicate"], None);
    assert_eq!(bad_json.json()["error"]["code"], "UsageError", "--output json answers usage errors in JSON");
}

#[test]
fn describe_ids_piped_into_delete_yes_deletes_exactly_the_selection() {
    let emu = Emu::start_seeded(&fleet(), &[]);
    let home = TempDir::new("home");
    // cvm-keypairs describe --output ids --name 'ci_*' | cvm-keypairs delete --yes -
    let connection = ["--region", REGION, "--endpoint", &emu.url];
    let mut describe = command(
        &[&["describe", "--output", "ids", "--name", "ci_*"][..], &connection].concat(),
        Creds::Good(None),
        &home,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let pipe = describe.stdout.take().unwrap();
    let delete =
        command(&[&["delete", "--yes", "-", "--json"][..], &connection].concat(), Creds::Good(None), &home)
            .stdin(pipe)
            .output()
            .unwrap();
    assert_eq!(describe.wait().unwrap().code(), Some(0));
    let report: Value = serde_json::from_slice(&delete.stdout).unwrap();
    let ci = ["skey-c0000001", "skey-c0000002", "skey-c0000003", "skey-c0000004", "skey-c0000005"];
    let asked: Vec<String> = ci.iter().map(|s| s.to_string()).collect();
    let (deleted, _, failed) = check_json(&report, &asked);
    assert_eq!(deleted, set(&["skey-c0000001", "skey-c0000003", "skey-c0000004", "skey-c0000005"]));
    assert_eq!(
        failed.keys().cloned().collect::<HashSet<_>>(),
        set(&["skey-c0000002"]),
        "the bound one is kept"
    );
    assert_eq!(delete.status.code(), Some(1));
    assert_eq!(present(&emu), set(&["skey-c0000002", "skey-w0000001", "skey-w0000002"]));
}

#[test]
fn an_incomplete_listing_is_never_no_match_and_a_listing_that_ignores_its_filters_widens_nothing() {
    // Without filters (or by name) the listing counts 5 key pairs and returns one; with the
    // tag filter it returns, complete, a key pair without the tag; by ids it is complete.
    let (server, log) = hostile::api_server(1000, |action, params| match action {
        "DeleteKeyPairs" => json!({}),
        _ if params.get("KeyIds").is_some() => json!({"TotalCount": 0, "KeyPairSet": []}),
        _ if params.get("Filters").is_some() => {
            json!({"TotalCount": 1, "KeyPairSet": [{"KeyId": "skey-u0000001", "KeyName": "ci_1"}]})
        }
        _ if hostile::number(params, "Offset") > 0 => json!({"TotalCount": 5, "KeyPairSet": []}),
        _ => {
            json!({"TotalCount": 5, "KeyPairSet": [{"KeyId": "skey-c0000001", "KeyName": "ci_1", "CreatedTime": OLD}]})
        }
    });
    let url = server.url();
    let cli = |command: &str, extra: &[&str]| {
        let args =
            [&[command, "--region", REGION, "--endpoint", &url, "--max-retries", "0"][..], extra].concat();
        run(&args, Creds::Good(None), None)
    };
    let deletes = || log.lock().unwrap().iter().filter(|(action, _)| action == "DeleteKeyPairs").count();
    let plan = cli("delete", &["--name", "zz_*", "--json"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert_eq!(plan.json(), json!({"plan": [], "complete": false}));
    assert!(
        plan.stderr
            .contains("warning: the listing is incomplete: the API counted 5 key pairs and returned 1"),
        "{}",
        plan.stderr
    );
    let none = cli("delete", &["--name", "zz_*", "--yes"]);
    assert_eq!(none.code, 1, "{none:?}");
    assert!(none.stderr.contains("no key pair selected from the incomplete listing"), "{}", none.stderr);
    let some = cli("delete", &["--name", "ci_*", "--older-than", "1d", "--yes", "--json"]);
    assert_eq!(some.code, 1, "deleted, and still incomplete: {some:?}");
    let (deleted, _) = check_selected(&some.json(), &["skey-c0000001"], false);
    assert_eq!(deleted, set(&["skey-c0000001"]));
    assert_eq!(deletes(), 1);
    for extra in [&["--name", "zz_*"][..], &[][..]] {
        let listed = cli("describe", &[extra, &["--json"]].concat());
        assert_eq!(listed.code, 1, "{extra:?}: {listed:?}");
        assert_eq!(listed.json()["complete"], false);
        assert!(listed.stderr.contains("the listing is incomplete"), "{}", listed.stderr);
    }

    let ignored = cli("delete", &["--tag", "env=ci", "--yes", "--json"]);
    assert_eq!(ignored.code, 0, "{ignored:?}");
    check_selected(&ignored.json(), &[], true);
    assert!(
        ignored
            .stderr
            .contains("warning: 1 key pair the API listed did not match the filters sent (tags, project)"),
        "{}",
        ignored.stderr
    );
    assert_eq!(deletes(), 1, "nothing the filter did not choose was deleted");
    let sent: Vec<Value> = log.lock().unwrap().iter().map(|(_, params)| params.clone()).collect();
    assert!(
        sent.iter().any(|p| p["Filters"] == json!([{"Name": "tag:env", "Values": ["ci"]}])),
        "the tag went to the API as a filter: {sent:?}"
    );
}

/// Key pairs: one bound to a stopped instance, one to a running one, one used by an image, and
/// a free one.
fn bound_fleet() -> Value {
    json!({"KeyPairs": [
        {"KeyId": "skey-b0000001", "AssociatedInstanceIds": ["ins-00000001"]},
        {"KeyId": "skey-b0000002", "AssociatedInstanceIds": ["ins-00000002"]},
        {"KeyId": "skey-b0000003", "AssociatedImageIds": ["img-00000001"]},
        "skey-b0000004"],
        "Instances": ["ins-00000001", {"InstanceId": "ins-00000002", "InstanceState": "RUNNING"}]})
}

#[test]
fn delete_detach_unbinds_stopped_instances_then_deletes_and_keeps_what_it_may_not_touch() {
    let ids = ["skey-b0000001", "skey-b0000002", "skey-b0000003", "skey-b0000004"];
    let emu = Emu::start_seeded(&bound_fleet(), &["--async-delay-ms", "200"]);
    let out = client(&emu, "delete", &[&["--detach", "--json"][..], &ids].concat(), None);
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    let asked: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let (deleted, _, kept) = check_json(&report, &asked);
    assert_eq!(deleted, set(&["skey-b0000001", "skey-b0000004"]));
    assert_eq!(kept["skey-b0000002"], "KeyPairStillBound");
    assert_eq!(kept["skey-b0000003"], "InvalidParameterValue.KeyPairNotSupported");
    let message = |id: &str| {
        let all = report["kept"].as_array().unwrap();
        all.iter().find(|k| k["key_id"] == id).unwrap()["message"].as_str().unwrap().to_owned()
    };
    assert!(
        message("skey-b0000002").contains("ins-00000002")
            && message("skey-b0000002").contains("--force-stop")
    );
    assert!(!message("skey-b0000003").is_empty());
    assert_eq!(report["detached"], json!([{"key_id": "skey-b0000001", "instance_ids": ["ins-00000001"]}]));
    assert_eq!(report["stopped_instances"], json!([]));
    assert_eq!(present(&emu), set(&["skey-b0000002", "skey-b0000003"]));
    let records = emu.finish();
    assert_eq!(
        count_code(&records, "UnsupportedOperation.InstanceStateRunning"),
        0,
        "the running one was not tried"
    );

    let emu = Emu::start_seeded(&bound_fleet(), &["--async-delay-ms", "200"]);
    let text = client(&emu, "delete", &["--detach", "skey-b0000001", "skey-b0000002"], None);
    assert_eq!(text.code, 1, "{text:?}");
    assert!(
        text.stdout.contains("\nDetached from instances:\n  skey-b0000001  from ins-00000001\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("skey-b0000002  KeyPairStillBound: "), "{}", text.stdout);
    assert!(!text.stdout.contains("Force-stopped"), "{}", text.stdout);
    let without = client(&emu, "delete", &["skey-b0000002"], None);
    assert_eq!(without.code, 1, "no --detach, no unbinding: {without:?}");
}

#[test]
fn force_stop_lets_detach_stop_running_instances_and_reports_their_state_afterwards() {
    for (restarts, state) in [(&[][..], "STOPPED"), (&["--force-stop-restarts"][..], "RUNNING")] {
        let emu = Emu::start_seeded(&bound_fleet(), &[&["--async-delay-ms", "200"][..], restarts].concat());
        let out = client(&emu, "delete", &["--detach", "--force-stop", "--json", "skey-b0000002"], None);
        assert_eq!(out.code, 0, "{out:?}");
        let report = out.json();
        let (deleted, _, _) = check_json(&report, &["skey-b0000002".to_owned()]);
        assert_eq!(deleted, set(&["skey-b0000002"]));
        assert_eq!(
            report["detached"],
            json!([{"key_id": "skey-b0000002", "instance_ids": ["ins-00000002"]}])
        );
        assert_eq!(report["stopped_instances"], json!([{"instance_id": "ins-00000002", "state": state}]));

        let emu = Emu::start_seeded(&bound_fleet(), &[&["--async-delay-ms", "200"][..], restarts].concat());
        let text = client(&emu, "delete", &["--detach", "--force-stop", "skey-b0000002"], None);
        assert_eq!(text.code, 0, "{text:?}");
        assert!(
            text.stdout.contains(&format!(
                "\nForce-stopped instances, with their state now:\n  ins-00000002  {state}\n"
            )),
            "{}",
            text.stdout
        );
    }
}
