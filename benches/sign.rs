//! Signing speed: `cargo bench --bench sign` prints `<name>: <median ns> ns/op` per figure.
//!
//! Each figure builds the whole signed request (body or query, every header, Authorization)
//! from an already validated `DeleteKeyPairs`, as a client does for each call.

use std::hint::black_box;
use std::time::Instant;

use cvm_keypairs::request::Action;
use cvm_keypairs::{Credentials, DeleteKeyPairs, Method, RequestConfig, Signer};

mod common;

const SAMPLES: usize = 31;

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
    DeleteKeyPairs::parse(ids.iter().map(String::as_str)).expect("valid ids")
}

fn main() {
    let credentials =
        Credentials::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
            .expect("valid credentials");
    let post = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
    let get = RequestConfig { method: Method::Get, ..post.clone() };
    let (one, hundred) = (ids(1), ids(100));
    let signer = Signer::new();
    let ts = 1_700_000_000;

    let sign = |config: &RequestConfig, action: &DeleteKeyPairs| {
        black_box(config.build(&signer, &credentials, black_box(action), black_box(ts)).expect("signs"));
    };
    report("sign_delete_post_1", median_ns(|| sign(&post, &one)));
    report("sign_delete_post_100", median_ns(|| sign(&post, &hundred)));
    report("sign_delete_get_1", median_ns(|| sign(&get, &one)));
    report("sign_delete_get_100", median_ns(|| sign(&get, &hundred)));
    report(
        "encode_query_100",
        median_ns(|| {
            let mut q = String::new();
            black_box(&hundred).write_query(&mut q).expect("encodes");
            black_box(q);
        }),
    );
    report(
        "sign_delete_post_1_uncached",
        median_ns(|| {
            black_box(post.build(&Signer::new(), &credentials, black_box(&one), ts).expect("signs"));
        }),
    );
}
