//! Deletes key pairs in a batch, verified, against the local emulator of the API (crate
//! `cvm-keypairs-emulator`), and prints the report: one key pair deleted, one kept because it
//! is bound to an instance, one that never existed.

use cvm_keypairs::{Client, Credentials};
use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut bound = KeyPair::new("skey-b0und000")?;
    bound.associated_instance_ids = vec!["ins-12345678".into()];
    let emulator = Emulator::start(EmulatorConfig {
        key_pairs: vec![KeyPair::new("skey-mv9yzyjj")?, bound],
        ..EmulatorConfig::default()
    })?;
    let client = Client::builder()
        .credentials(Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY)?)
        .endpoint(&emulator.url())
        .region("ap-guangzhou")
        .build()?;

    let report = client.delete_key_pairs_all(["skey-mv9yzyjj", "skey-b0und000", "skey-1a2b3c4d"])?;
    for id in &report.deleted {
        println!("deleted    {id}");
    }
    for id in &report.not_found {
        println!("not found  {id}");
    }
    for failure in report.kept.iter().chain(&report.failed) {
        // The message comes from the server: `{:?}` escapes any control characters in it.
        println!("not gone   {} {}: {:?}", failure.key_id, failure.code(), failure.message());
    }
    println!("all absent: {}", report.all_absent());
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
