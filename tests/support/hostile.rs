//! Hostile API servers on 127.0.0.1 shared by the library's tests (`tests/hostile.rs`) and the
//! command line's (`cli/tests/hostile_cli.rs`): one that answers from a function of the action
//! and its parameters, one whose listing counts key pairs nobody asked for, and one that
//! echoes the request's secrets in any field of its answer.
#![allow(dead_code)] // Each test binary uses a different part of it.

use std::sync::{Arc, Mutex};

use cvm_keypairs::testing::{ID_CHARS, MESSAGE_CHARS, SNIPPET_CHARS};
use serde_json::{json, Value};

use crate::support::{Reply, Request, Server};

/// Secrets with a `/` (so `\/` can spell them) and no run of five characters that ordinary
/// output could hold.
pub const TOKEN: &str = "Vx7/Qw2Lp9Zr4Ty8Un3Mb6Kc1Hd5";
pub const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3wq";

/// The action and the JSON parameters of a request.
pub fn action_and_params(r: &Request) -> (String, Value) {
    let action = r.all("X-TC-Action").first().copied().unwrap_or_default().to_owned();
    (action, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
}

/// The `KeyIds` of DescribeKeyPairs or DeleteKeyPairs parameters.
pub fn key_ids(params: &Value) -> Vec<String> {
    params["KeyIds"]
        .as_array()
        .map_or_else(Vec::new, |ids| ids.iter().map(|id| id.as_str().unwrap().to_owned()).collect())
}

/// The number `name` of `params`, 0 when there is none.
pub fn number(params: &Value, name: &str) -> usize {
    params[name].as_u64().unwrap_or(0) as usize
}

/// Every request a server got: action and parameters.
pub type Log = Arc<Mutex<Vec<(String, Value)>>>;

/// A server answering each request with `{"Response": answer(action, params)}` (a RequestId
/// added when missing), logging every request; after `cap` requests it answers only errors.
pub fn api_server(
    cap: usize,
    answer: impl Fn(&str, &Value) -> Value + Send + Sync + 'static,
) -> (Server, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = Server::start(move |r| {
        let (action, params) = action_and_params(r);
        let count = {
            let mut seen = seen.lock().unwrap();
            seen.push((action.clone(), params.clone()));
            seen.len()
        };
        let mut body = if count > cap {
            json!({"Error": {"Code": "Hostile.TooManyRequests", "Message": "the test server stopped"}})
        } else {
            answer(&action, &params)
        };
        if body.get("RequestId").is_none() {
            body["RequestId"] = format!("r-{count}").into();
        }
        Reply::json(&json!({ "Response": body }).to_string())
    });
    (server, log)
}

/// A DescribeKeyPairs answer that counts, before each id asked for, a key pair not asked for
/// (named `intruder`, its id `skey-zz…`), and pages through them by `Offset` and `Limit`.
pub fn intruding(_: &str, params: &Value) -> Value {
    let asked = key_ids(params);
    let all: Vec<Value> = (0..)
        .map(|i| format!("skey-zz{i:06}"))
        .zip(&asked)
        .flat_map(|(other, id)| [json!({"KeyId": other, "KeyName": "intruder"}), json!({"KeyId": id})])
        .collect();
    let page: Vec<&Value> = all.iter().skip(number(params, "Offset")).take(number(params, "Limit")).collect();
    json!({"TotalCount": all.len(), "KeyPairSet": page})
}

/// How the echoing server answers, chosen by the region the client sends.
pub const ECHO_MODES: [&str; 10] = [
    "request-id",
    "code",
    "message",
    "html",
    "names",
    "escaped",
    "cut-message",
    "cut-code",
    "cut-request-id",
    "cut-html",
];

/// `s` with every character as a JSON `\u00xx` escape.
pub fn escaped(s: &str) -> String {
    s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
}

/// `s` with every `/` as the JSON escape `\/`, and its first character as `\u00xx`.
pub fn slashed(s: &str) -> String {
    let s = s.replace('/', "\\/");
    let first = s.chars().next().unwrap();
    format!("{}{}", escaped(&first.to_string()), &s[first.len_utf8()..])
}

/// Padding, then `echoed`: a text cut at `n` characters keeps only the first six characters
/// of `echoed`.
pub fn cut_at(n: usize, echoed: &str) -> String {
    format!("{}{echoed}", "x".repeat(n - 6))
}

/// The answer of a server that echoes the request's token and the secret key in the field
/// `mode` names. The `cut-` modes put them where a bounded text is cut (or, for codes and
/// RequestIds, replaced whole): whole, or only their first 12 characters with more text after
/// (a partial echo, which no whole-secret match finds). Bodies are written by hand so the
/// escapes are exactly as the server sends them.
pub fn echo(mode: &str, action: &str, params: &Value, token: &str, key: &str) -> Reply {
    let error = |code: &str, message: &str, request_id: &str| {
        Reply::json(&format!(
            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"{message}"}},"RequestId":"{request_id}"}}}}"#
        ))
    };
    let ok = |request_id: &str| {
        if action == "DescribeKeyPairs" {
            Reply::json(&format!(
                r#"{{"Response":{{"TotalCount":0,"KeyPairSet":[],"RequestId":"{request_id}"}}}}"#
            ))
        } else {
            Reply::json(&format!(r#"{{"Response":{{"RequestId":"{request_id}"}}}}"#))
        }
    };
    let partial = |secret: &str| format!("{}tail", &secret[..12]);
    match mode {
        "request-id" => ok(&format!("r-{token}-{key}")),
        "code" => error(&format!("Hostile.{token}.{key}"), "m", "r"),
        "message" => error("FailedOperation", &format!("echo {token} and {key}"), "r"),
        "html" => Reply::with_status(502, "text/html", format!("<html>{token} {key}</html>").as_bytes()),
        "names" | "escaped" if action == "DescribeKeyPairs" => {
            let escape = mode == "escaped";
            let (t, k) = if escape { (escaped(token), slashed(key)) } else { (token.into(), key.into()) };
            let pairs: Vec<String> = key_ids(params)
                .iter()
                .map(|id| {
                    format!(r#"{{"KeyId":"{id}","KeyName":"{t}","Description":"{k}","CreatedTime":"{t}"}}"#)
                })
                .collect();
            Reply::json(&format!(
                r#"{{"Response":{{"TotalCount":{},"KeyPairSet":[{}],"RequestId":"{}"}}}}"#,
                pairs.len(),
                pairs.join(","),
                if escape { slashed(token) } else { token.into() }
            ))
        }
        "names" => ok("r"),
        "escaped" => error(&format!("Hostile.{}", escaped(token)), &slashed(token), &escaped(key)),
        "cut-message" => error("FailedOperation", &cut_at(MESSAGE_CHARS, &partial(token)), "r"),
        "cut-code" => error(&cut_at(ID_CHARS, token), "m", &cut_at(ID_CHARS, &partial(key))),
        "cut-request-id" => ok(&cut_at(ID_CHARS, &partial(token))),
        "cut-html" => Reply::with_status(502, "text/html", cut_at(SNIPPET_CHARS, &partial(key)).as_bytes()),
        other => panic!("no mode {other}"),
    }
}

/// A server answering as [`echo`] does with `key`, its mode the request's `X-TC-Region`.
pub fn echo_server(key: &'static str) -> Server {
    Server::start(move |r| {
        let (action, params) = action_and_params(r);
        let token = r.all("X-TC-Token").first().copied().unwrap_or_default().to_owned();
        echo(r.all("X-TC-Region")[0], &action, &params, &token, key)
    })
}

/// Fails if `shown` holds any five consecutive characters of the token or the secret key.
pub fn assert_clean(what: &str, shown: &str) {
    for secret in [TOKEN, SECRET_KEY] {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(5) {
            let part: String = window.iter().collect();
            assert!(!shown.contains(&part), "{what} shows part of a secret ({part}): {shown}");
        }
    }
}
