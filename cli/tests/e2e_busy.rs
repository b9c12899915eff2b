//! A busy account: five `cvm-keypairs delete` runs of 1,000 keys each, started at once against
//! one emulator process that allows 10 requests per second per action, as the API does for one
//! account. Together they ask for five times what the window allows, so they are throttled,
//! and each must wait the window out and still delete every one of its keys.

mod cli_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use cli_support::*;
use serde_json::Value;

#[test]
fn five_runs_of_a_thousand_keys_started_at_once_on_one_account_all_delete_every_key() {
    let batches: Vec<Vec<String>> = (0..5).map(|n| ids(&format!("p{n}"), 1000)).collect();
    let seed: Vec<Value> = batches.iter().flatten().map(|id| seed_entry(id, false)).collect();
    let emu = Emu::start(&seed, &[]);
    let started = Instant::now();
    let outs: Vec<Out> = std::thread::scope(|s| {
        let runs: Vec<_> = batches
            .iter()
            .map(|batch| {
                let emu = &emu;
                s.spawn(move || delete(emu, &["--json", "-"], Some(&batch.join("\n"))))
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let took = started.elapsed();
    for (n, (batch, out)) in batches.iter().zip(&outs).enumerate() {
        assert_eq!(out.code, 0, "run {n}: {}", out.stderr);
        let (deleted, _, _) = check_json(&out.json(), batch);
        assert_same(&deleted, &batch.iter().cloned().collect(), &format!("run {n}: deleted"));
    }
    assert_eq!(present(&emu), HashSet::new(), "no key pair is left");
    let records = emu.finish();
    let throttled = count_code(&records, "RequestLimitExceeded");
    assert!(throttled > 0, "the runs met the account's limit: {} requests, none throttled", records.len());
    eprintln!("{} requests, {throttled} throttled, {took:?}", records.len());
    assert!(took < Duration::from_secs(60), "took {took:?}");
}
