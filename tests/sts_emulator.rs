//! The STS credential sources end to end against the emulator over real HTTP on 127.0.0.1:
//! temporary credentials that expire every two seconds are refreshed once per lifetime however
//! many threads ask, a long batch deletion outlives several of them, and STS refusals keep
//! their code and RequestId.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cvm_keypairs::testing::credential_parts;
use cvm_keypairs::{
    AssumeRoleProvider, Client, Credentials, DeleteKeyPairs, Error, KeyId, ProvideCredentials,
    WebIdentityProvider,
};
use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};

const ROLE: &str = EmulatorConfig::DEFAULT_ROLE_ARN;

fn base_keys() -> Credentials {
    Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY).unwrap()
}

/// Assumes `role` at the emulator, asking for an hour (the emulator's cap decides).
fn assume(emulator: &Emulator, role: &str) -> AssumeRoleProvider {
    AssumeRoleProvider::new(base_keys(), role)
        .and_then(|p| p.with_endpoint(&emulator.url()))
        .and_then(|p| p.with_region("ap-guangzhou"))
        .and_then(|p| p.with_duration_seconds(3600))
        .unwrap()
}

fn client(emulator: &Emulator, credentials: impl ProvideCredentials + 'static) -> Client {
    Client::builder()
        .credentials(credentials)
        .endpoint(&emulator.url())
        .region("ap-guangzhou")
        .build()
        .unwrap()
}

/// Two-second credentials, so that tests see them expire.
fn expiring(key_pairs: Vec<KeyPair>, rate_limit: u32) -> Emulator {
    Emulator::start(EmulatorConfig {
        sts_duration_cap: Some(2),
        key_pairs,
        rate_limit,
        ..EmulatorConfig::default()
    })
    .unwrap()
}

fn a_delete() -> DeleteKeyPairs {
    DeleteKeyPairs::new(["skey-mv9yzyjj"]).unwrap()
}

#[test]
fn sixteen_threads_through_one_expiring_provider_make_one_sts_call_per_refresh() {
    let emulator = expiring(Vec::new(), 0);
    let provider = Arc::new(assume(&emulator, ROLE));
    let seen: Mutex<HashSet<String>> = Mutex::default();
    let calls = AtomicUsize::new(0);
    let until = Instant::now() + Duration::from_secs(3);
    std::thread::scope(|scope| {
        for _ in 0..16 {
            scope.spawn(|| {
                let mut mine = HashSet::new();
                while Instant::now() < until {
                    let credentials = provider.credentials().unwrap();
                    mine.insert(credential_parts(&credentials).0.to_owned());
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                seen.lock().unwrap().extend(mine);
            });
        }
    });
    let seen = seen.into_inner().unwrap();
    let (calls, sts_calls) = (calls.into_inner(), emulator.stats().requests_for("AssumeRole"));
    assert!(!seen.contains(EmulatorConfig::DEFAULT_SECRET_ID), "the base keys are never handed out");
    assert_eq!(sts_calls, seen.len() as u64, "every STS call issued credentials someone used");
    assert!(sts_calls >= 2, "the two-second credentials were refreshed: {sts_calls} STS calls");
    assert!(calls as u64 > 100 * sts_calls, "{calls} calls for {sts_calls} STS calls");
}

#[test]
fn a_thousand_key_delete_survives_credentials_expiring_midway() {
    let ids: Vec<KeyId> = (0..1000).map(|n| format!("skey-e{n:07}").parse().unwrap()).collect();
    let seed = ids.iter().map(|id| KeyPair::new(id.as_ref()).unwrap()).collect();
    // Three requests a second: ten deletes and their verification span several lifetimes.
    let emulator = expiring(seed, 3);
    let client = client(&emulator, assume(&emulator, ROLE));
    let started = Instant::now();

    let report = client.delete_key_pairs_all(ids.iter().map(|id| id.as_ref())).unwrap();

    let took = started.elapsed();
    assert!(report.all_absent() && report.not_found.is_empty(), "{:?} {:?}", report.kept, report.failed);
    let deleted: HashSet<KeyId> = report.deleted.iter().copied().collect();
    assert_eq!(deleted, ids.iter().copied().collect(), "every key is reported deleted");
    assert!(ids.iter().all(|id| !emulator.contains(id.as_ref())), "every key is gone");
    let stats = emulator.stats();
    assert_eq!(
        stats.answers_with("AuthFailure.TokenFailure"),
        0,
        "never signed with expired keys: {stats:?}"
    );
    assert!(stats.requests_for("AssumeRole") >= 2, "the run outlived a lifetime ({took:?}): {stats:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// The code and RequestId of the STS answer that `error` came from.
fn sts_refusal(error: &Error) -> (String, String) {
    let code = error.code().map(|c| c.as_str().to_owned()).unwrap_or_default();
    (code, error.request_id().unwrap_or_default().to_owned())
}

#[test]
fn a_wrong_role_arn_keeps_the_sts_code_and_request_id() {
    let emulator = expiring(Vec::new(), 0);
    let client = client(&emulator, assume(&emulator, "qcs::cam::uin/100000000001:roleName/no-such-role"));

    let error = client.execute(&a_delete()).unwrap_err();

    let (code, request_id) = sts_refusal(&error);
    assert_eq!(code, "ResourceNotFound.RoleNotFound", "{error}");
    assert!(!request_id.is_empty(), "{error:?}");
    assert_eq!(emulator.stats().requests_for("DeleteKeyPairs"), 0, "nothing is sent without credentials");
}

/// A web identity at the emulator, whose token file holds `token`.
fn web_identity(emulator: &Emulator, name: &str, token: &str) -> WebIdentityProvider {
    let dir = std::env::temp_dir().join(format!("cvm-keypairs-sts-emulator-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, token).unwrap();
    WebIdentityProvider::new("OIDC", file, ROLE)
        .and_then(|p| p.with_endpoint(&emulator.url()))
        .and_then(|p| p.with_region("ap-guangzhou"))
        .unwrap()
}

fn with_web_identity_token(token: &str) -> Emulator {
    Emulator::start(EmulatorConfig {
        web_identity_token: Some(token.to_owned()),
        ..EmulatorConfig::default()
    })
    .unwrap()
}

#[test]
fn a_web_identity_token_the_emulator_accepts_signs_cvm_calls() {
    let emulator = with_web_identity_token("eyJ.right.token");
    let client = client(&emulator, web_identity(&emulator, "right", "eyJ.right.token"));

    let error = client.execute(&a_delete()).unwrap_err();

    // Signed with the temporary keys: the CVM call reached the key store.
    assert_eq!(error.code().map(|c| c.as_str()), Some("InvalidKeyPairId.NotFound"), "{error}");
    let stats = emulator.stats();
    assert_eq!(stats.requests_for("AssumeRoleWithWebIdentity"), 1, "{stats:?}");
}

#[test]
fn a_wrong_web_identity_token_keeps_the_sts_code_and_request_id() {
    let emulator = with_web_identity_token("eyJ.right.token");
    let client = client(&emulator, web_identity(&emulator, "wrong", "eyJ.wrong.token"));

    let error = client.execute(&a_delete()).unwrap_err();

    let (code, request_id) = sts_refusal(&error);
    assert_eq!(code, "InvalidParameter.WebIdentityTokenError", "{error}");
    assert!(!request_id.is_empty(), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("eyJ.wrong.token"), "the token stays secret");
    assert_eq!(emulator.stats().requests_for("DeleteKeyPairs"), 0);
}
