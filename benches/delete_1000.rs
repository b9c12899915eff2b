//! Verified deletion of 1,000 key pairs against the in-process emulator with the API's limit
//! of 10 requests per second per action: `cargo bench --bench delete_1000` prints
//! `delete_1000_verified: <median ms> ms` (10 DeleteKeyPairs and 10 DescribeKeyPairs over
//! loopback, paced by the client's limiter).

mod common;

use cvm_keypairs::{Client, Credentials};
use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};

const SAMPLES: usize = 21;

fn main() {
    let ids: Vec<String> = (0..1000).map(|n| format!("skey-{n:08}")).collect();
    let run = || {
        let emulator = Emulator::start(EmulatorConfig {
            key_pairs: ids.iter().map(|id| KeyPair::new(id).expect("valid id")).collect(),
            ..EmulatorConfig::default()
        })
        .expect("emulator starts");
        let client = Client::builder()
            .credentials(
                Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY)
                    .expect("valid credentials"),
            )
            .endpoint(&emulator.url())
            .region("ap-guangzhou")
            .build()
            .expect("client");
        let report = client.delete_key_pairs_all(ids.iter().map(String::as_str)).expect("deletes");
        assert_eq!(report.deleted.len(), 1000, "every key deleted and verified");
        assert_eq!(emulator.stats().answers_with("RequestLimitExceeded"), 0);
    };
    let ms = common::median_ns(SAMPLES, 1, run) / 1e6;
    println!("delete_1000_verified: {ms:.2} ms");
}
