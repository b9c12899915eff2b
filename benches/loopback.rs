//! A whole call over loopback: `cargo bench --bench loopback` prints
//! `call_delete_loopback: <median ns> ns/op` for sequential `DeleteKeyPairs` calls (sign, send,
//! receive, parse) over one kept-alive connection to a server thread that answers at once.
//!
//! On a machine with idle CPUs the wall time includes waking the server's CPU and back, which
//! says nothing about the client; so it also prints the CPU time the calling thread spent per
//! call (`call_delete_loopback_client_cpu`, from `/proc/thread-self/stat`, Linux only), and
//! wall time is best read with both threads on one CPU:
//! `taskset -c 0 cargo bench --bench loopback`.

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;

use cvm_keypairs::{Client, Credentials, DeleteKeyPairs, UreqTransportBuilder};
use support::{Reply, Server};

const SAMPLES: usize = 21;
const CALLS_PER_SAMPLE: usize = 1000;

/// User plus system CPU time of the calling thread in ns, if the kernel tells.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, 100 per second on Linux.
    Some(ticks * 10_000_000)
}

fn main() {
    let server = Server::start(|_| {
        Reply::json(r#"{"Response":{"RequestId":"6ef60bec-0242-43af-bb20-270359fb54a7"}}"#)
    });
    let transport = Arc::new(
        UreqTransportBuilder::default().proxy(None).and_then(|b| b.build()).expect("a direct transport"),
    );
    let client = Client::builder()
        .credentials(
            Credentials::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
                .expect("valid credentials"),
        )
        .region("ap-guangzhou")
        .endpoint(&server.url())
        .transport(transport)
        // The figure is the cost of a call; the API's 10 per second pacing is not part of it.
        .rate_limit(0)
        .build()
        .expect("client");
    let action = DeleteKeyPairs::new(["skey-mv9yzyjj"]).expect("valid id");
    let call = || {
        black_box(client.execute(black_box(&action)).expect("call succeeds"));
    };

    for _ in 0..CALLS_PER_SAMPLE {
        call();
    }
    let cpu_before = thread_cpu_ns();
    let median = common::median_ns(SAMPLES, CALLS_PER_SAMPLE as u64, call);
    let cpu_after = thread_cpu_ns();
    assert_eq!(server.connections(), 1, "every call must reuse the one connection");
    println!("call_delete_loopback: {median:.0} ns/op");
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let per_call = (after - before) as f64 / (SAMPLES * CALLS_PER_SAMPLE) as f64;
        println!("call_delete_loopback_client_cpu: {per_call:.0} ns/op");
    }
}
