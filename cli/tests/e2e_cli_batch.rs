//! `cvm-keypairs delete` with 1,000 ids against the emulator process at the API's 10 requests
//! per second: faults and bound keys in both modes (with ten retries, and with the default
//! settings, which later rounds make enough), no throttling when healthy, and malformed
//! ids among good ones. Each test is one run of a few seconds; they run in parallel.

mod cli_support;

use std::collections::HashSet;

use cli_support::*;
use serde_json::Value;

/// 900 deletable, 40 bound and 60 unknown ids, and the seed of the 940 that exist.
struct Thousand {
    asked: Vec<String>,
    free: HashSet<String>,
    bound: HashSet<String>,
    unknown: HashSet<String>,
    seed: Vec<Value>,
}

/// The ids interleaved so every request of 100 holds some of each kind.
fn thousand() -> Thousand {
    let (free, bound, unknown) = (ids("f", 900), ids("b", 40), ids("u", 60));
    let mut asked = Vec::new();
    let (mut f, mut b, mut u) = (free.iter(), bound.iter(), unknown.iter());
    // Per 100: 90 free, 4 bound, 6 unknown.
    for _ in 0..10 {
        asked.extend(f.by_ref().take(45).cloned());
        asked.extend(b.by_ref().take(2).cloned());
        asked.extend(u.by_ref().take(3).cloned());
        asked.extend(f.by_ref().take(45).cloned());
        asked.extend(b.by_ref().take(2).cloned());
        asked.extend(u.by_ref().take(3).cloned());
    }
    assert_eq!(asked.len(), 1000);
    let seed = free
        .iter()
        .map(|id| seed_entry(id, false))
        .chain(bound.iter().map(|id| seed_entry(id, true)))
        .collect();
    let set = |v: Vec<String>| v.into_iter().collect::<HashSet<_>>();
    Thousand { asked, free: set(free), bound: set(bound), unknown: set(unknown), seed }
}

/// A run of `thousand()` with `retry_options` against the emulator with 20% HTTP 500 and 10%
/// dropped connections, bound keys behaving as `mode` says.
fn faults_in_mode(mode: &str, bound_code: &str, retry_options: &[&str]) {
    let Thousand { asked, free, bound, unknown, seed } = thousand();
    let emu = Emu::start(&seed, &["--fail-rate", "0.2", "--drop-rate", "0.1", "--bound-behavior", mode]);
    let args = [&["--json"][..], retry_options, &["-"]].concat();
    let out = delete(&emu, &args, Some(&asked.join("\n")));
    assert_eq!(out.code, 1, "{mode}: {}", out.stderr);
    let (deleted, not_found, failed) = check_json(&out.json(), &asked);
    let report = out.json();
    let failure = |id: &String| {
        let listed = report["kept"].as_array().unwrap().iter().chain(report["failed"].as_array().unwrap());
        listed.into_iter().find(|f| f["key_id"] == **id).cloned()
    };
    let wrong: Vec<_> = free.iter().filter_map(failure).take(3).collect();
    assert_same(&deleted, &free, &format!("{mode}: deleted (failures: {wrong:?})"));
    assert_same(&not_found, &unknown, &format!("{mode}: not found"));
    assert_same(&ids_of(&report["kept"], "key_id"), &bound, &format!("{mode}: kept"));
    assert_same(&failed.keys().cloned().collect(), &bound, &format!("{mode}: kept or failed"));
    assert!(failed.values().all(|code| code == bound_code), "{mode}: {failed:?}");
    assert_progress_agrees(&out.stderr, &report);
    assert_same(&present(&emu), &bound, &format!("{mode}: the key pairs left"));
    let records = emu.finish();
    assert!(
        count_code(&records, "fault:http-500") > 0 && count_code(&records, "fault:drop") > 0,
        "faults happened"
    );
}

/// The progress lines on stderr never call more keys deleted, not found or kept than the
/// report does (a bound key is never shown deleted), and the last one is the report's counts.
fn assert_progress_agrees(stderr: &str, report: &Value) {
    let count = |list: &str| report[list].as_array().unwrap().len();
    let (deleted, not_found, kept, failed) =
        (count("deleted"), count("not_found"), count("kept"), count("failed"));
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("deleted ")).collect();
    let last = format!("deleted {deleted}/1000, {not_found} not found, {kept} kept, {failed} failed");
    assert_eq!(lines.last(), Some(&last.as_str()), "{stderr}");
    for line in lines {
        let numbers: Vec<usize> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(numbers[0] <= deleted && numbers[2] <= not_found && numbers[3] <= kept, "{line} vs {last}");
    }
}

#[test]
fn a_thousand_ids_with_faults_bound_keys_failing_requests() {
    faults_in_mode("error", "InvalidParameterValue.KeyPairNotSupported", &["--max-retries", "10"]);
}

#[test]
fn a_thousand_ids_with_faults_bound_keys_silently_kept() {
    faults_in_mode("skip", "KeyPairStillPresent", &["--max-retries", "10"]);
}

#[test]
fn a_thousand_ids_with_faults_and_the_default_retries_bound_keys_failing_requests() {
    faults_in_mode("error", "InvalidParameterValue.KeyPairNotSupported", &[]);
}

#[test]
fn a_thousand_ids_with_faults_and_the_default_retries_bound_keys_silently_kept() {
    faults_in_mode("skip", "KeyPairStillPresent", &[]);
}

#[test]
fn a_thousand_healthy_deletions_with_verification_are_never_throttled() {
    let asked = ids("h", 1000);
    let emu = Emu::start(&asked.iter().map(|id| seed_entry(id, false)).collect::<Vec<_>>(), &[]);
    let out = delete(&emu, &["--json", "-"], Some(&asked.join("\n")));
    assert_eq!(out.code, 0, "{out:?}");
    let (deleted, _, _) = check_json(&out.json(), &asked);
    assert_eq!(deleted.len(), 1000);
    // Accepted first (awaiting verification), then verified a hundred at a time.
    let mut progress: Vec<String> = (1..=10)
        .map(|n| format!("deleted 0/1000, 0 not found, 0 kept, 0 failed, {} awaiting verification", n * 100))
        .collect();
    progress.extend((1..10).map(|n| {
        format!(
            "deleted {}/1000, 0 not found, 0 kept, 0 failed, {} awaiting verification",
            n * 100,
            1000 - n * 100
        )
    }));
    progress.push("deleted 1000/1000, 0 not found, 0 kept, 0 failed".into());
    assert_eq!(out.stderr.lines().collect::<Vec<_>>(), progress, "plain lines when stderr is not a terminal");
    let records = emu.finish();
    assert_eq!(count_code(&records, "RequestLimitExceeded"), 0, "{records:?}");
    let count = |action: &str| records.iter().filter(|r| r["action"] == action).count();
    assert_eq!((count("DeleteKeyPairs"), count("DescribeKeyPairs")), (10, 10), "100 ids per request");
}

#[test]
fn malformed_ids_among_a_thousand_good_ones_send_nothing() {
    let mut asked = ids("m", 1000);
    asked[17] = "skey-ABCDEFGH".into();
    asked[998] = "skey-abc".into();
    let emu = Emu::start(&[], &[]);
    for extra in [&["-"][..], &["--dry-run", "-"][..]] {
        let out = delete(&emu, extra, Some(&asked.join("\n")));
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("skey-ABCDEFGH") && out.stderr.contains("skey-abc"), "{}", out.stderr);
        assert!(out.stderr.contains("2 invalid key pair ids"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert_eq!(emu.finish(), Vec::<Value>::new(), "the emulator received nothing");
}

#[test]
fn a_thousand_malformed_ids_are_counted_and_only_twenty_named() {
    let bad: Vec<String> = (0..1000).map(|i| format!("bad-{i:04}")).collect();
    let out = run(&["delete", "--json", "-"], Creds::None, Some(&bad.join("\n")));
    assert_eq!(out.code, 2, "{out:?}");
    for text in [&out.stderr, out.json()["error"]["message"].as_str().unwrap()] {
        assert!(text.contains("1000 invalid key pair ids: \"bad-0000\" ("), "{text}");
        assert!(text.contains("\"bad-0019\"") && text.contains("; and 980 more"), "{text}");
        assert!(!text.contains("bad-0020") && text.len() < 3_000, "{text}");
    }
    assert_eq!(out.json()["error"]["code"], "InvalidKeyIds");
}
