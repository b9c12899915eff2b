//! The command line against hostile servers on 127.0.0.1: what `describe` and `delete` print,
//! for people and as JSON, when a listing counts key pairs nobody asked for, never ends,
//! invents keys, is incomplete, or when an answer echoes the request's secrets.

mod cli_support;
#[path = "../../tests/support/hostile.rs"]
mod hostile;
#[path = "../../tests/support/mod.rs"]
mod support;

use cli_support::ids;
use hostile::*;
use serde_json::{json, Value};
use support::Server;

/// `cvm-keypairs <command> --region <region> --endpoint <server> --max-retries 0 <extra>...`
/// with this file's secret key and token in its environment.
fn cli(command: &str, region: &str, server: &Server, extra: &[&str]) -> cli_support::Out {
    let url = server.url();
    let mut args = vec![command, "--region", region, "--endpoint", &url, "--max-retries", "0"];
    args.extend_from_slice(extra);
    cli_support::run_with(&args, cli_support::Creds::Key(SECRET_KEY), None, &[("TENCENTCLOUD_TOKEN", TOKEN)])
}

#[test]
fn describe_prints_no_key_pair_that_was_not_asked_for() {
    let (server, _) = api_server(100, intruding);
    let asked = ids("a", 2);
    for json in [false, true] {
        let mut extra: Vec<&str> = asked.iter().map(String::as_str).collect();
        if json {
            extra.push("--json");
        }
        let out = cli("describe", "ap-guangzhou", &server, &extra);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(asked.iter().all(|id| out.stdout.contains(id.as_str())), "{}", out.stdout);
        assert!(!out.stdout.contains("skey-zz") && !out.stdout.contains("intruder"), "{}", out.stdout);
        if json {
            assert_eq!(
                cli_support::ids_of(&out.json()["key_pairs"], "KeyId"),
                asked.iter().cloned().collect()
            );
            assert_eq!(out.json()["not_found"], json!([]));
        } else {
            assert!(out.stdout.contains("2 key pairs"), "{}", out.stdout);
        }
    }
}

#[test]
fn describe_ends_on_an_endless_listing_and_refuses_one_that_invents_keys() {
    let (endless, log) = api_server(100, |_, _| {
        let page: Vec<Value> = ids("r", 100).iter().map(|id| json!({"KeyId": id})).collect();
        json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": page})
    });
    let (inventing, invented) = api_server(50, |_, params| {
        let from = number(params, "Offset");
        let page: Vec<Value> =
            (from..from + 3000).map(|i| json!({"KeyId": format!("skey-{i:08}")})).collect();
        json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": page})
    });
    for json in [false, true] {
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let sent = log.lock().unwrap().len();
        let out = cli("describe", "ap-guangzhou", &endless, extra);
        assert_eq!(out.code, 1, "listed, but incomplete: {out:?}");
        assert_eq!(log.lock().unwrap().len() - sent, 2, "two pages, then the repeat ends it");
        assert!(
            out.stderr.contains(
                "the listing is incomplete: the API counted 1000000000000000000 key pairs and returned 100"
            ),
            "{}",
            out.stderr
        );
        if json {
            assert_eq!(out.json()["key_pairs"].as_array().unwrap().len(), 100);
            assert_eq!(out.json()["complete"], false);
        } else {
            assert!(out.stdout.ends_with("100 key pairs\n"), "{}", out.stdout);
        }

        let sent = invented.lock().unwrap().len();
        let out = cli("describe", "ap-guangzhou", &inventing, extra);
        assert_eq!(out.code, 4, "{out:?}");
        assert_eq!(invented.lock().unwrap().len() - sent, 1, "refused at the first page");
        let message = if json {
            assert_eq!(out.json()["error"]["code"], "DecodeError");
            out.json()["error"]["message"].as_str().unwrap().to_owned()
        } else {
            out.stderr.clone()
        };
        assert!(message.contains("a page of 3000 key pairs, 100 asked for"), "{message}");
    }
}

#[test]
fn secrets_echoed_in_any_field_never_reach_the_command_line_output() {
    let server = echo_server(SECRET_KEY);
    let asked = ids("s", 3);
    for mode in ECHO_MODES {
        let mut masked = false;
        for command in ["delete", "describe"] {
            for json in [false, true] {
                let mut extra: Vec<&str> = asked.iter().map(String::as_str).collect();
                if json {
                    extra.push("--json");
                }
                let out = cli(command, mode, &server, &extra);
                let shown = format!("{}\n{}", out.stdout, out.stderr);
                assert_clean(&format!("{mode}: {command} (json: {json})"), &shown);
                // An id too long to keep whole is replaced, never cut (a cut could keep the
                // start of an echoed secret).
                masked |= shown.contains("***") || shown.contains(" characters, not kept>");
            }
        }
        assert!(masked, "{mode}: the echo arrived and was masked, or not kept");
    }
}

#[test]
fn describe_calls_ids_unknown_not_absent_when_the_answer_about_them_is_incomplete() {
    // 150 ids: two requests. The one for the first 100 counts 5 key pairs and returns none,
    // which proves nothing about them; the one for the other 50 is complete and empty.
    let asked = ids("u", 150);
    let first = asked[0].clone();
    let (server, _) = api_server(100, move |_, params| {
        let total = if key_ids(params).contains(&first) { 5 } else { 0 };
        json!({"TotalCount": total, "KeyPairSet": []})
    });
    let extra: Vec<&str> = asked.iter().map(String::as_str).collect();
    let human = cli("describe", "ap-guangzhou", &server, &extra);
    assert_eq!(human.code, 1, "{human:?}");
    for id in &asked[..100] {
        assert!(
            human.stdout.contains(&format!("\nunknown: {id} (the API's answer was incomplete)\n")),
            "{id}"
        );
        assert!(!human.stdout.contains(&format!("not found: {id}")), "{id}: {}", human.stdout);
    }
    for id in &asked[100..] {
        assert!(human.stdout.contains(&format!("\nnot found: {id}\n")), "{id}: {}", human.stdout);
    }
    assert!(human.stdout.starts_with("0 key pairs\n"), "{}", human.stdout);

    let json = cli("describe", "ap-guangzhou", &server, &[&extra[..], &["--json"]].concat());
    assert_eq!(json.code, 1, "{json:?}");
    assert_eq!(
        json.json(),
        json!({"key_pairs": [], "not_found": asked[100..], "unknown": asked[..100], "complete": false})
    );
}
