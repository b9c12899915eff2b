//! Every response shape in `tests/fixtures/responses.json`, through a client whose transport
//! is a fake returning the fixture: success, API errors with 2xx and non-2xx statuses, gateway
//! pages, empty, truncated and malformed bodies, missing RequestIds. Plus bodies too large to
//! keep in a file.

use std::sync::Arc;

use cvm_keypairs::testing::{MESSAGE_CHARS, SNIPPET_CHARS};
use cvm_keypairs::{
    Client, Credentials, DescribeKeyPairsOutput, Error, ErrorCode, FailureCode, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixtures {
    #[allow(dead_code)]
    about: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    target: String,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    ok: Option<Value>,
    error: Option<String>,
    // Checked for `Http` errors, which alone carry the status.
    status: Option<u16>,
    code: Option<String>,
    // `Some(None)` when the fixture says `null`: the field must then be absent.
    #[serde(default, deserialize_with = "present")]
    request_id: Option<Option<String>>,
    message: Option<String>,
    message_contains: Option<String>,
    snippet: Option<String>,
    retryable: Option<bool>,
    auth: Option<bool>,
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Deserialize)]
struct RequestIdOnly {
    #[serde(rename = "RequestId")]
    request_id: String,
}

fn client_answering(response: HttpResponse) -> Client {
    let fake = move |_: &HttpRequest| -> Result<HttpResponse, Error> { Ok(response.clone()) };
    Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .transport(Arc::new(fake))
        .build()
        .unwrap()
}

/// Calls through the fake and returns what came out, as JSON comparable with `ok`.
fn run(case: &Case) -> Result<Value, Error> {
    let client = client_answering(HttpResponse {
        status: case.status,
        headers: case.headers.clone(),
        body: case.body.as_bytes().to_vec(),
    });
    let call = |action| client.call::<_, Value>(action, "2017-03-12", &json!({}));
    match case.target.as_str() {
        "Value" => call("DescribeZones"),
        "RequestId" => client
            .call::<_, RequestIdOnly>("DeleteKeyPairs", "2017-03-12", &())
            .map(|out| json!({"RequestId": out.request_id})),
        "DescribeKeyPairs" => {
            client.call::<_, DescribeKeyPairsOutput>("DescribeKeyPairs", "2017-03-12", &()).map(|out| {
                let ids: Vec<&str> = out.key_pairs.iter().map(|k| k.key_id.as_ref()).collect();
                json!({"TotalCount": out.total_count, "KeyIds": ids, "RequestId": out.request_id})
            })
        }
        other => panic!("{}: unknown target {other}", case.name),
    }
}

fn check_error(case: &Case, err: &Error) {
    let name = &case.name;
    let want = &case.expect;
    let (variant, message) = match err {
        Error::Api { message, code, .. } => {
            assert_eq!(FailureCode::from(err), FailureCode::Api(code.clone()), "{name}");
            assert_eq!(
                FailureCode::from(err).to_string(),
                code.as_str(),
                "{name}: the report shows the code"
            );
            ("Api", message.as_str())
        }
        Error::Http { status, snippet, .. } => {
            assert_eq!(Some(*status), want.status, "{name}: status");
            ("Http", snippet.as_str())
        }
        Error::Decode { message, .. } => ("Decode", message.as_str()),
        other => panic!("{name}: unexpected {other:?}"),
    };
    assert_eq!(Some(variant), want.error.as_deref(), "{name}: {err:?}");
    if let Some(request_id) = &want.request_id {
        assert_eq!(err.request_id(), request_id.as_deref(), "{name}: request id");
    }
    assert_eq!(err.code().map(ErrorCode::as_str), want.code.as_deref(), "{name}: code");
    if let Some(text) = want.message.as_ref().or(want.snippet.as_ref()) {
        assert_eq!(message, text, "{name}: text");
    }
    if let Some(part) = &want.message_contains {
        assert!(message.contains(part.as_str()), "{name}: {message:?} lacks {part:?}");
    }
    for (flag, got) in [(want.retryable, err.is_retryable()), (want.auth, err.is_auth())] {
        if let Some(flag) = flag {
            assert_eq!(got, flag, "{name}: a helper disagrees on {err:?}");
        }
    }
    let shown = err.to_string();
    if let Some(Some(id)) = &want.request_id {
        assert!(shown.contains(id.as_str()), "{name}: Display lacks the RequestId: {shown}");
    }
}

#[test]
fn every_fixture_response_maps_to_its_result() {
    let fixtures: Fixtures =
        serde_json::from_str(include_str!("fixtures/responses.json")).expect("responses.json parses");
    assert!(fixtures.cases.len() >= 20);
    for case in &fixtures.cases {
        match (run(case), &case.expect.ok) {
            (Ok(got), Some(want)) => assert_eq!(&got, want, "{}", case.name),
            (Err(err), None) => check_error(case, &err),
            (got, _) => panic!("{}: got {got:?}", case.name),
        }
    }
}

#[test]
fn texts_from_huge_bodies_stay_bounded() {
    let huge_html = format!("<html>{}</html>", "<p>gateway</p>\n".repeat(70_000));
    let response = HttpResponse { status: 502, body: huge_html.into_bytes(), ..Default::default() };
    match client_answering(response).call::<_, Value>("DescribeZones", "2017-03-12", &()) {
        Err(Error::Http { snippet, .. }) => {
            assert_eq!(snippet.chars().count(), SNIPPET_CHARS + 1);
            assert!(snippet.starts_with("<html><p>gateway</p> <p>") && snippet.ends_with('…'));
        }
        other => panic!("{other:?}"),
    }

    let long = "m".repeat(900_000);
    let body =
        json!({"Response": {"Error": {"Code": "InternalError", "Message": long}, "RequestId": "r-long"}});
    let response = HttpResponse { status: 200, body: body.to_string().into_bytes(), ..Default::default() };
    match client_answering(response).call::<_, Value>("DescribeZones", "2017-03-12", &()) {
        Err(Error::Api { message, request_id, .. }) => {
            assert_eq!(message.chars().count(), MESSAGE_CHARS + 1);
            assert_eq!(request_id.as_deref(), Some("r-long"));
        }
        other => panic!("{other:?}"),
    }

    let truncated = format!(r#"{{"Response":{{"RequestId":"r-cut","Junk":"{}"#, "j".repeat(900_000));
    let response = HttpResponse { status: 200, body: truncated.into_bytes(), ..Default::default() };
    match client_answering(response).call::<_, Value>("DescribeZones", "2017-03-12", &()) {
        Err(Error::Decode { message, request_id, .. }) => {
            assert!(message.chars().count() <= SNIPPET_CHARS + 1, "{message}");
            assert_eq!(request_id.as_deref(), Some("r-cut"));
        }
        other => panic!("{other:?}"),
    }
}
