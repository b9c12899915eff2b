//! Signing speed: `cargo bench --bench sign` prints `<name>: <median ns> ns/op` per figure.
//!
//! Each `sign_delete_*` figure builds the whole signed request (body or query, every header,
//! Authorization) from an already validated `DeleteKeyPairs`, as a client does for each call.
//! `sign_floor_post_1` is what signing the request of `sign_delete_post_1` costs at the least:
//! plain `ring` with the derived key already at hand, hashing the same body and signing the
//! same canonical request into the same Authorization value (checked before timing), nothing
//! else; the library's overhead is `sign_delete_post_1 / sign_floor_post_1`.

use std::hint::black_box;
use std::time::Instant;

use cvm_keypairs::testing;
use cvm_keypairs::{Credentials, DeleteKeyPairs, Method, RequestConfig};
use ring::{digest, hmac};

mod common;

const SAMPLES: usize = 31;

const SECRET_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
const SECRET_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
const TIMESTAMP: i64 = 1_700_000_000;

/// The median ns per call of `f`, in samples sized to about 100 ms each.
fn median_ns(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_millis() < 20 {
        f();
        calls += 1;
    }
    common::median_ns(SAMPLES, (calls * 5).max(10), f)
}

fn report(name: &str, ns: f64) {
    println!("{name}: {ns:.0} ns/op");
}

fn ids(n: usize) -> DeleteKeyPairs {
    let ids: Vec<String> = (0..n).map(|i| format!("skey-{i:08x}")).collect();
    DeleteKeyPairs::new(&ids).expect("valid ids")
}

/// Signing a POST with plain `ring`: the key derived once for the day, then per request one
/// SHA-256 of the body, one of the canonical request, and one HMAC.
struct Floor {
    key: hmac::Key,
    scope: String,
    timestamp: String,
}

impl Floor {
    fn new(secret_key: &str, date: &str, timestamp: i64) -> Self {
        let step =
            |key: &[u8], data: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes());
        let k_date = step(format!("TC3{secret_key}").as_bytes(), date);
        let k_service = step(k_date.as_ref(), "cvm");
        let k_signing = step(k_service.as_ref(), "tc3_request");
        Floor {
            key: hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref()),
            scope: format!("{date}/cvm/tc3_request"),
            timestamp: timestamp.to_string(),
        }
    }

    /// The Authorization value of a POST of `body` to `host` signing `content-type;host;x-tc-action`.
    fn authorization(&self, host: &str, action: &str, body: &[u8]) -> String {
        let mut canonical = String::with_capacity(256);
        canonical.push_str("POST\n/\n\ncontent-type:application/json\nhost:");
        canonical.push_str(host);
        canonical.push_str("\nx-tc-action:");
        canonical.extend(action.chars().map(|c| c.to_ascii_lowercase()));
        canonical.push_str("\n\ncontent-type;host;x-tc-action\n");
        hex(&mut canonical, digest::digest(&digest::SHA256, body).as_ref());
        let mut to_sign = String::with_capacity(128);
        to_sign.push_str("TC3-HMAC-SHA256\n");
        to_sign.push_str(&self.timestamp);
        to_sign.push('\n');
        to_sign.push_str(&self.scope);
        to_sign.push('\n');
        hex(&mut to_sign, digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref());
        let tag = hmac::sign(&self.key, to_sign.as_bytes());
        let mut auth = String::with_capacity(200);
        auth.push_str("TC3-HMAC-SHA256 Credential=");
        auth.push_str(SECRET_ID);
        auth.push('/');
        auth.push_str(&self.scope);
        auth.push_str(", SignedHeaders=content-type;host;x-tc-action, Signature=");
        hex(&mut auth, tag.as_ref());
        auth
    }
}

fn hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

fn main() {
    let credentials = Credentials::new(SECRET_ID, SECRET_KEY).expect("valid credentials");
    let mut post = RequestConfig::default();
    post.region = "ap-guangzhou".into();
    let mut get = post.clone();
    get.method = Method::Get;
    let (one, hundred) = (ids(1), ids(100));

    let sign = |config: &RequestConfig, action: &DeleteKeyPairs| {
        black_box(config.build(&credentials, black_box(action), black_box(TIMESTAMP)).expect("signs"));
    };

    // The floor signs exactly what the library signs for `sign_delete_post_1`.
    let request = post.build(&credentials, &one, TIMESTAMP).expect("signs");
    let (host, body) = (request.header("Host").expect("a Host"), request.body.clone());
    let floor = Floor::new(SECRET_KEY, "2023-11-14", TIMESTAMP);
    assert_eq!(
        Some(floor.authorization(host, "DeleteKeyPairs", &body).as_str()),
        request.header("Authorization"),
        "the floor signs what the library signs"
    );

    report("sign_delete_post_1", median_ns(|| sign(&post, &one)));
    report(
        "sign_floor_post_1",
        median_ns(|| {
            black_box(floor.authorization(black_box(host), "DeleteKeyPairs", black_box(&body)));
        }),
    );
    report("sign_delete_post_100", median_ns(|| sign(&post, &hundred)));
    report("sign_delete_get_1", median_ns(|| sign(&get, &one)));
    report("sign_delete_get_100", median_ns(|| sign(&get, &hundred)));
    report(
        "encode_query_100",
        median_ns(|| {
            black_box(testing::query(black_box(&hundred)).expect("encodes"));
        }),
    );
    report(
        "sign_delete_post_1_uncached",
        median_ns(|| {
            // A copy of the configuration has an empty key cache of its own.
            black_box(post.clone().build(&credentials, black_box(&one), TIMESTAMP).expect("signs"));
        }),
    );
}
