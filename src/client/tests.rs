//! The client against fake transports: signing, sending, retries, throttling, listings.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::actions::delete_key_pairs::DeleteKeyPairs;
use crate::clock::FixedClock;
use crate::credentials::fakes::FakeEnv;
use crate::endpoint::Endpoint;
use crate::error::{ErrorCode, FailureCode, TransportKind};
use crate::http::{HttpResponse, Method};
use crate::observe::Event;

const TS: i64 = 1_700_000_000;

/// [`Client::execute_retrying`] with every attempt's trace.
fn execute_retrying<A: Action>(client: &Client, action: &A) -> Attempted<A::Output> {
    client.execute_hooked(action, &mut Hooks::new(&mut |_| {}, None))
}

type Sent = Arc<Mutex<Vec<HttpRequest<'static>>>>;

/// A client whose transport records each request and answers with `answer(request)`.
fn client_with(
    method: Method,
    answer: impl Fn(&HttpRequest) -> (u16, String) + Send + Sync + 'static,
) -> (Client, Sent) {
    let sent: Sent = Arc::default();
    let log = sent.clone();
    let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
        log.lock().unwrap().push(request.clone().into_owned());
        let (status, body) = answer(request);
        Ok(HttpResponse { status, headers: vec![], body: body.into_bytes() })
    };
    let credentials =
        Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap().with_token("tok-EXAMPLE-1234").unwrap();
    let client = Client::builder()
        .credentials(credentials)
        .region("ap-guangzhou")
        .method(method)
        .clock(Arc::new(FixedClock(TS)))
        .transport(Arc::new(transport))
        .build()
        .unwrap();
    (client, sent)
}

fn ok(_: &HttpRequest) -> (u16, String) {
    (200, r#"{"Response":{"RequestId":"r-1"}}"#.into())
}

#[test]
fn execute_sends_exactly_what_sign_returns_at_the_clock_time() {
    for method in [Method::Get, Method::Post] {
        let (client, sent) = client_with(method, ok);
        let action = DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap();
        let signed = client.sign(&action).unwrap();
        assert_eq!(signed, client.sign_at(&action, TS).unwrap());
        assert_eq!(signed.header("X-TC-Timestamp"), Some("1700000000"));
        assert_eq!(client.execute(&action).unwrap().request_id, "r-1");
        assert_eq!(sent.lock().unwrap().as_slice(), [signed]);
    }
}

#[test]
fn generic_calls_encode_any_serialisable_parameters() {
    let (client, sent) = client_with(Method::Get, ok);
    let params = json!({"Zone": "ap-guangzhou-3", "InstanceIds": ["ins-1", "ins 2"]});
    let out: Value = client.call("DescribeInstances", "2017-03-12", &params).unwrap();
    assert_eq!(out, json!({"RequestId": "r-1"}));
    let request = sent.lock().unwrap().pop().unwrap();
    assert_eq!(request.path_and_query(), "/?InstanceIds.0=ins-1&InstanceIds.1=ins+2&Zone=ap-guangzhou-3");
    assert_eq!(request.header("X-TC-Action"), Some("DescribeInstances"));

    let (client, sent) = client_with(Method::Post, ok);
    client.call::<_, Value>("DescribeZones", "2017-03-12", &()).unwrap();
    client.call::<_, Value>("DescribeInstances", "2017-03-12", &params).unwrap();
    let bodies: Vec<Vec<u8>> = sent.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies[0], b"{}");
    assert_eq!(bodies[1], serde_json::to_vec(&params).unwrap());
}

#[test]
fn bad_generic_calls_fail_before_sending() {
    for method in [Method::Get, Method::Post] {
        let (client, sent) = client_with(method, ok);
        let not_object = client.call::<_, Value>("DescribeZones", "2017-03-12", &[1, 2]);
        assert!(matches!(not_object, Err(Error::InvalidInput(_))), "{not_object:?}");
        let bad_name = client.call::<_, Value>("Describe Zones", "2017-03-12", &());
        assert!(matches!(bad_name, Err(Error::InvalidInput(_))), "{bad_name:?}");
        assert!(sent.lock().unwrap().is_empty());
    }
}

#[test]
fn describe_all_pages_through_everything_once() {
    let ids: Vec<String> = (0..250).map(|i| format!("skey-{i:08}")).collect();
    let (client, sent) = client_with(Method::Post, move |request| {
        let params: Value = serde_json::from_slice(&request.body).unwrap();
        let (offset, limit) =
            (params["Offset"].as_u64().unwrap() as usize, params["Limit"].as_u64().unwrap() as usize);
        let page: Vec<Value> = ids.iter().skip(offset).take(limit).map(|id| json!({"KeyId": id})).collect();
        (200, json!({"Response": {"TotalCount": 250, "KeyPairSet": page, "RequestId": "r"}}).to_string())
    });
    let all = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
    assert!(all.is_complete());
    let all = all.key_pairs;
    assert_eq!(all.len(), 250);
    assert_eq!(all[249].key_id.as_str(), "skey-00000249");
    let asked: Vec<Value> =
        sent.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(
        asked,
        [
            json!({"Offset": 0, "Limit": 100}),
            json!({"Offset": 100, "Limit": 100}),
            json!({"Offset": 200, "Limit": 100})
        ]
    );
}

#[test]
fn describe_all_stops_on_an_empty_page() {
    let (client, sent) = client_with(Method::Post, |_| {
        (200, r#"{"Response":{"TotalCount":500,"KeyPairSet":[],"RequestId":"r"}}"#.into())
    });
    let listed = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
    assert!(listed.key_pairs.is_empty() && !listed.is_complete());
    assert_eq!(sent.lock().unwrap().len(), 1);
}

#[test]
fn an_echoed_session_token_is_scrubbed_from_errors() {
    let (client, _) = client_with(Method::Post, |request| {
        let token = request.header("X-TC-Token").unwrap();
        match request.header("X-TC-Action") {
            Some("Api") => (
                200,
                format!(
                    r#"{{"Response":{{"Error":{{"Code":"X","Message":"bad token {token}"}},"RequestId":"r"}}}}"#
                ),
            ),
            // The token starts right where the snippet is cut.
            _ => (502, format!("{}{token}", "x".repeat(crate::response::SNIPPET_CHARS - 6))),
        }
    });
    for action in ["Api", "Gateway"] {
        let err = client.call::<_, Value>(action, "2017-03-12", &()).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("tok-EX") && shown.contains("***"), "{shown}");
    }
}

#[test]
fn the_provider_is_asked_for_every_request() {
    #[derive(Debug, Default)]
    struct Rotating(Mutex<u32>);
    impl ProvideCredentials for Rotating {
        fn credentials(&self) -> Result<Credentials, Error> {
            let mut n = self.0.lock().unwrap();
            *n += 1;
            Credentials::new(format!("AKID{n}"), "secret-EXAMPLE")
        }
    }
    let client = Client::builder()
        .credentials(Arc::new(Rotating::default()))
        .region("ap-guangzhou")
        .transport(Arc::new(|_: &HttpRequest| -> Result<HttpResponse, Error> { unreachable!() }))
        .build()
        .unwrap();
    let action = DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap();
    assert!(client.sign(&action).unwrap().header("Authorization").unwrap().contains("Credential=AKID1/"));
    assert!(client.sign(&action).unwrap().header("Authorization").unwrap().contains("Credential=AKID2/"));
}

#[test]
fn the_builder_refuses_what_cannot_work() {
    let with_creds = || {
        let unused = |_: &HttpRequest| -> Result<HttpResponse, Error> { unreachable!() };
        Client::builder()
            .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
            .transport(Arc::new(unused))
    };
    let default_chain = format!("{:?}", Client::builder().region("ap-guangzhou").build().unwrap());
    assert!(default_chain.contains("CredentialsChain"), "{default_chain}");
    let remote_http = with_creds().endpoint("http://cvm.tencentcloudapi.com").build();
    assert!(matches!(remote_http, Err(Error::InvalidInput(_))));
    let opted_in =
        with_creds().endpoint("http://cvm.tencentcloudapi.com").allow_insecure_http(true).build().unwrap();
    assert_eq!(opted_in.config.endpoint.base_url(), "http://cvm.tencentcloudapi.com/");
    let default = with_creds().build().unwrap();
    assert_eq!(default.config.endpoint, Endpoint::default());
    assert_eq!(default.config.method, Method::Post);
    let parsed = with_creds().endpoint("cvm.intl.tencentcloudapi.com").build().unwrap();
    assert_eq!(parsed.config.endpoint.authority(), "cvm.intl.tencentcloudapi.com");
}

/// A transport that fails the test if anything is sent.
fn nothing_sent() -> Arc<dyn Transport> {
    Arc::new(|_: &HttpRequest| -> Result<HttpResponse, Error> { panic!("nothing may be sent") })
}

fn assert_no_region<T: fmt::Debug>(result: Result<T, Error>) {
    match result {
        Err(Error::InvalidInput(why)) => assert!(why.starts_with("no region: "), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_region_given_fails_the_build() {
    let built = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("")
        .transport(nothing_sent())
        .build_in(&FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "ap-guangzhou")]));
    assert_no_region(built);
}

#[test]
fn a_client_without_a_region_signs_and_sends_nothing() {
    #[derive(Debug)]
    struct Unasked;
    impl ProvideCredentials for Unasked {
        fn credentials(&self) -> Result<Credentials, Error> {
            panic!("the region is checked first")
        }
    }
    let action = DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap();
    let credentials = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
    for env in [FakeEnv::default(), FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "")])] {
        let builder = || Client::builder().transport(nothing_sent()).rate_limit(0);
        let client = builder().credentials(credentials.clone()).build_in(&env).unwrap();
        assert_eq!(client.config.region, "");
        assert_no_region(client.sign(&action));
        assert_no_region(client.execute(&action));
        assert_no_region(client.call::<_, Value>("DescribeZones", "2017-03-12", &()));
        assert_no_region(client.delete_key_pairs_all(["skey-aaaaaaaa", "skey-bbbbbbbb"]));
        assert_no_region(client.describe_all_key_pairs(&DescribeKeyPairs::all()));
        let unasked = builder().credentials(Arc::new(Unasked)).build_in(&env).unwrap();
        assert_no_region(unasked.sign(&action));
    }
    let from_env = Client::builder()
        .credentials(credentials)
        .transport(nothing_sent())
        .build_in(&FakeEnv::with_vars(&[("TENCENTCLOUD_REGION", "ap-shanghai")]))
        .unwrap();
    assert_eq!(from_env.sign(&action).unwrap().header("X-TC-Region"), Some("ap-shanghai"));
}

#[cfg(feature = "ureq")]
#[test]
fn the_region_is_the_builder_s_else_the_variable_s_else_the_profile_s() {
    const HOME_FILE: &str = "/home/u/.tencentcloud/credentials";
    let file = "[default]\nsecret_id = AKIDdef\nsecret_key = k\nregion = ap-chengdu\n\
                [prod]\nsecret_id = AKIDprod\nsecret_key = k\nregion = ap-hongkong\n";
    let env = FakeEnv::default().home("/home/u").file(HOME_FILE, file);
    let region = |builder: ClientBuilder, env: &FakeEnv| {
        builder.transport(nothing_sent()).build_in(env).unwrap().config.region.clone()
    };
    assert_eq!(region(Client::builder(), &env), "ap-chengdu", "the default chain's profile");
    let with_var = env.clone().var_set("TENCENTCLOUD_REGION", "ap-shanghai");
    assert_eq!(region(Client::builder(), &with_var), "ap-shanghai");
    assert_eq!(region(Client::builder().region("ap-beijing"), &with_var), "ap-beijing");
    let keys =
        env.clone().var_set("TENCENTCLOUD_SECRET_ID", "AKIDenv").var_set("TENCENTCLOUD_SECRET_KEY", "k");
    assert_eq!(
        region(Client::builder(), &keys),
        "ap-chengdu",
        "even when the keys come from the environment"
    );
    let prod = crate::credentials::ProfileProvider::with_env(Arc::new(env.clone()), Some("prod"));
    assert_eq!(region(Client::builder().credentials(prod), &FakeEnv::default()), "ap-hongkong");
    let fixed = Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap();
    assert_eq!(region(Client::builder().credentials(fixed), &env), "", "fixed credentials name no region");

    let broken = FakeEnv::default().home("/home/u").file(HOME_FILE, "[default]\nregion ap-chengdu\n");
    match Client::builder().transport(nothing_sent()).build_in(&broken) {
        Err(Error::Credentials { message, .. }) => assert!(message.contains("line 2"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        region(Client::builder().region("ap-beijing"), &broken),
        "ap-beijing",
        "not read when not needed"
    );
}

#[cfg(feature = "ureq")]
#[test]
fn the_credentials_source_names_the_source_that_answered_and_no_secret() {
    let keys = FakeEnv::with_vars(&[
        ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
        ("TENCENTCLOUD_SECRET_KEY", "KEY-zq8x"),
        ("TENCENTCLOUD_SESSION_TOKEN", "TOKEN-zq8x"),
    ]);
    let client = Client::builder().region("ap-guangzhou").transport(nothing_sent()).build_in(&keys).unwrap();
    assert_eq!(
        client.credentials_source().unwrap(),
        "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SESSION_TOKEN)"
    );
    let fixed = Credentials::new("AKIDEXAMPLE", "KEY-zq8x").unwrap();
    let client = Client::builder().credentials(fixed).region("r").transport(nothing_sent()).build().unwrap();
    assert_eq!(client.credentials_source().unwrap(), "credentials given to the client");
    let none = crate::credentials::CredentialsChain::new(vec![]);
    let client = Client::builder().credentials(none).region("r").transport(nothing_sent()).build().unwrap();
    assert!(matches!(client.credentials_source(), Err(Error::NoCredentials(_))));
}

#[cfg(feature = "ureq")]
#[test]
fn the_default_transport_refuses_a_proxy_variable_it_cannot_use() {
    let env = FakeEnv::with_vars(&[("HTTPS_PROXY", "socks5://user:pw-EXAMPLE@127.0.0.1:1")]);
    let with_creds =
        || Client::builder().credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap());
    match with_creds().region("ap-guangzhou").build_in(&env) {
        Err(Error::InvalidInput(why)) => {
            assert!(
                why.starts_with("HTTPS_PROXY names a SOCKS proxy") && !why.contains("pw-EXAMPLE"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(with_creds().transport(nothing_sent()).build_in(&env).is_ok(), "a given transport is used as is");
}

#[test]
fn the_default_transport_needs_the_ureq_feature() {
    let built =
        Client::builder().credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap()).build();
    assert_eq!(built.is_ok(), cfg!(feature = "ureq"), "{built:?}");
}

#[test]
fn clients_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Client>();
}

/// A clock one second further on at every reading.
struct Ticking(std::sync::atomic::AtomicI64);

impl Clock for Ticking {
    fn now(&self) -> i64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// A client whose every request gets the next scripted answer (status, Date, body).
fn scripted(answers: Vec<(u16, Option<&'static str>, &'static str)>) -> (Client, Sent) {
    scripted_with(answers, RetryPolicy::with_max_attempts(3).without_waits())
}

fn scripted_with(
    answers: Vec<(u16, Option<&'static str>, &'static str)>,
    policy: RetryPolicy,
) -> (Client, Sent) {
    let sent: Sent = Arc::default();
    let log = sent.clone();
    let answers = Mutex::new(answers.into_iter());
    let transport = move |request: &HttpRequest| -> Result<HttpResponse, Error> {
        log.lock().unwrap().push(request.clone().into_owned());
        let (status, date, body) = answers.lock().unwrap().next().expect("no more answers scripted");
        let headers = date.map(|d| vec![("Date".to_owned(), d.to_owned())]).unwrap_or_default();
        Ok(HttpResponse { status, headers, body: body.as_bytes().to_vec() })
    };
    let client = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .clock(Arc::new(Ticking(std::sync::atomic::AtomicI64::new(TS))))
        .transport(Arc::new(transport))
        .rate_limit(0)
        .retry(policy)
        .build()
        .unwrap();
    (client, sent)
}

fn timestamps(sent: &Sent) -> Vec<String> {
    sent.lock().unwrap().iter().map(|r| r.header("X-TC-Timestamp").unwrap().to_owned()).collect()
}

const INTERNAL: &str = r#"{"Response":{"Error":{"Code":"InternalError","Message":"x"},"RequestId":"r-i"}}"#;

#[test]
fn retries_re_sign_every_attempt_and_stop_after_the_last() {
    let (client, sent) = scripted(vec![(200, None, INTERNAL); 3]);
    let action = DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap();
    let outcome = execute_retrying(&client, &action);
    assert_eq!(outcome.result.unwrap_err().code(), Some(&ErrorCode::new("InternalError")));
    let stamps = timestamps(&sent);
    assert_eq!(stamps.len(), 3, "max_attempts requests, then it stops");
    assert!(stamps.windows(2).all(|w| w[0] != w[1]), "each attempt signed afresh: {stamps:?}");
    assert_eq!(outcome.request_ids, ["r-i", "r-i"], "the earlier attempts' RequestIds are kept");
    assert!(outcome.may_have_taken_effect);
}

#[test]
fn errors_that_cannot_pass_are_not_retried() {
    let invalid = r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"x"},"RequestId":"r"}}"#;
    let (client, sent) = scripted(vec![(200, None, invalid)]);
    let outcome = execute_retrying(&client, &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap());
    assert!(outcome.result.is_err());
    assert_eq!(sent.lock().unwrap().len(), 1);
    assert!(!outcome.may_have_taken_effect);
}

#[test]
fn a_clock_correction_re_signs_without_using_up_an_attempt() {
    let expired =
        r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"x"},"RequestId":"r-e"}}"#;
    let server_date = Some("Tue, 14 Nov 2023 23:13:20 GMT"); // TS + 3600
    let (client, sent) = scripted(vec![
        (200, server_date, expired),
        (200, None, INTERNAL),
        (200, None, INTERNAL),
        (200, None, INTERNAL),
    ]);
    let outcome = execute_retrying(&client, &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap());
    assert!(outcome.result.is_err());
    let stamps = timestamps(&sent);
    assert_eq!(stamps.len(), 4, "the re-sign plus three attempts: {stamps:?}");
    let corrected: i64 = stamps[1].parse().unwrap();
    assert!((corrected - (TS + 3600)).abs() <= 3, "{stamps:?}");
    assert!((client.clock_skew() - 3600).abs() <= 2);
}

const THROTTLED: &str = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded.UinLimitExceeded","Message":"x"},"RequestId":"r-t"}}"#;

#[test]
fn throttling_has_its_own_larger_budget_than_transient_failures() {
    let ok = r#"{"Response":{"RequestId":"r-ok"}}"#;
    let mut answers = vec![(200, None, THROTTLED); 9];
    answers.push((200, None, ok));
    // One attempt for transient failures, yet nine throttled answers are waited out.
    let (client, sent) = scripted_with(answers, RetryPolicy::with_max_attempts(1).without_waits());
    let outcome = execute_retrying(&client, &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap());
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(sent.lock().unwrap().len(), 10);

    let (client, sent) =
        scripted_with(vec![(200, None, THROTTLED); 11], RetryPolicy::default().without_waits());
    let outcome = execute_retrying(&client, &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap());
    assert!(outcome.result.unwrap_err().is_throttling());
    assert_eq!(sent.lock().unwrap().len(), 10, "ten throttled answers, then it gives up");
}

#[test]
fn a_throttled_call_waits_out_the_window_and_says_so() {
    let policy =
        RetryPolicy { throttle_wait: std::time::Duration::from_millis(40), ..RetryPolicy::default() };
    let ok = r#"{"Response":{"RequestId":"r-ok"}}"#;
    let (client, _) =
        scripted_with(vec![(200, None, THROTTLED), (200, None, THROTTLED), (200, None, ok)], policy);
    let mut waits = Vec::new();
    let mut observer = |e: &Event<'_>| {
        if let Event::Waiting { duration, reason } = e {
            waits.push((*duration, reason.contains("was throttled (RequestLimitExceeded.UinLimitExceeded)")));
        }
    };
    let started = std::time::Instant::now();
    let outcome: Attempted<_> = client.execute_hooked(
        &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap(),
        &mut Hooks::new(&mut observer, None),
    );
    assert!(outcome.result.is_ok());
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits.iter().all(|&(d, throttled)| throttled && d >= policy.throttle_wait), "{waits:?}");
    assert!(started.elapsed() >= policy.throttle_wait * 2);
}

#[test]
fn retrying_stops_once_nothing_has_answered_for_too_long() {
    let sent = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = sent.clone();
    let transport = move |_: &HttpRequest| -> Result<HttpResponse, Error> {
        count.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(30));
        Err(Error::transport(TransportKind::Timeout, "no answer", None))
    };
    let mut policy = RetryPolicy::with_max_attempts(10).without_waits();
    policy.give_up_after = std::time::Duration::from_millis(50);
    let client = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE").unwrap())
        .region("ap-guangzhou")
        .transport(Arc::new(transport))
        .rate_limit(0)
        .retry(policy)
        .build()
        .unwrap();
    let outcome = execute_retrying(&client, &DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap());
    assert_eq!(FailureCode::of(&outcome.result.unwrap_err()).to_string(), "Transport.Timeout");
    assert_eq!(sent.load(Ordering::SeqCst), 2, "60 ms of silence after two attempts: no third");
}

/// A client whose DescribeKeyPairs pages come from `page(offset)`.
fn lister(page: impl Fn(u64) -> Value + Send + Sync + 'static) -> (Client, Sent) {
    let (client, sent) = client_with(Method::Post, move |request| {
        let params: Value = serde_json::from_slice(&request.body).unwrap();
        let mut body = page(params["Offset"].as_u64().unwrap());
        body["RequestId"] = "r".into();
        (200, json!({ "Response": body }).to_string())
    });
    let client = Client { limiter: None, ..client };
    (client, sent)
}

fn key_pairs(range: std::ops::Range<u64>) -> Value {
    Value::Array(range.map(|i| json!({"KeyId": format!("skey-{i:08}")})).collect())
}

#[test]
fn a_listing_ends_when_a_page_adds_no_new_key_whatever_the_total_claims() {
    let (client, sent) =
        lister(|_| json!({"TotalCount": 1_000_000_000_000_000_000u64, "KeyPairSet": key_pairs(0..100)}));
    let listed = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap();
    assert_eq!(listed.key_pairs.len(), 100);
    assert!(!listed.is_complete());
    assert_eq!(sent.lock().unwrap().len(), 2, "the repeated page ends it");
}

#[test]
fn a_page_larger_than_asked_for_is_refused() {
    let (client, _) =
        lister(|o| json!({"TotalCount": 1_000_000, "KeyPairSet": key_pairs(o * 3000..o * 3000 + 3000)}));
    let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
    assert!(matches!(error, Error::Decode { .. }) && error.to_string().contains("3000"), "{error}");
}

#[test]
fn a_listing_that_never_ends_is_refused_at_its_bounds() {
    // A hundred new keys on every page: refused past 100,000 key pairs.
    let (client, sent) = lister(|o| json!({"TotalCount": u64::MAX, "KeyPairSet": key_pairs(o..o + 100)}));
    let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
    assert!(error.to_string().contains("more than 100000 key pairs"), "{error}");
    assert_eq!(sent.lock().unwrap().len(), 1001);
    // One new key a page: refused past 2,000 pages.
    let (client, sent) = lister(|o| json!({"TotalCount": u64::MAX, "KeyPairSet": key_pairs(o..o + 1)}));
    let error = client.describe_all_key_pairs(&DescribeKeyPairs::all()).unwrap_err();
    assert!(error.to_string().contains("pages past 2000"), "{error}");
    assert_eq!(sent.lock().unwrap().len(), 2000);
}
