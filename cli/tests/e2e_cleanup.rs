//! Cleanup as people run it, the real binary against the real `cvm-keypairs emulate`: every
//! command line of the README's "Cleanup recipes" section, run exactly as written (the test
//! adds only `--endpoint`, and the region and credentials in the environment), and detaching
//! and deleting a hundred key pairs bound to a hundred stopped instances within twice the
//! emulator's unbinding delay plus the pacing.

mod cli_support;

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_support::*;
use serde_json::{json, Value};

const README: &str = include_str!("../../README.md");
const OLD: &str = "2020-09-22T09:31:26Z";

fn set(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The command lines of the README's "Cleanup recipes" section, in order.
fn recipes() -> Vec<&'static str> {
    let section =
        README.split("\n## Cleanup recipes\n").nth(1).expect("the README has a Cleanup recipes section");
    let section = section.split("\n## ").next().unwrap();
    section.lines().filter(|line| line.starts_with("cvm-keypairs ")).collect()
}

/// The words of `line` as a POSIX shell splits them (single quotes only, which is all the
/// recipes use).
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    if any {
        words.push(word);
    }
    words
}

/// Runs a recipe line against `emu` as a shell would (a `|` makes a pipeline of the two
/// commands), each command given `--endpoint` too and the region in its environment; returns
/// the exit code, stdout and stderr of the last command.
fn run_recipe(emu: &Emu, line: &str) -> Out {
    let commands: Vec<Vec<String>> = line
        .split(" | ")
        .map(|part| {
            let mut args = words(part);
            assert_eq!(args.remove(0), "cvm-keypairs", "{line}");
            args.extend(["--endpoint".to_owned(), emu.url.clone()]);
            args
        })
        .collect();
    let env = [("TENCENTCLOUD_REGION", REGION)];
    match &commands[..] {
        [one] => run_with(&args(one), Creds::Good(None), None, &env),
        [first, second] => {
            let home = TempDir::new("home");
            let mut left = command(&args(first), Creds::Good(None), &home)
                .envs(env)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let pipe = left.stdout.take().unwrap();
            let right =
                command(&args(second), Creds::Good(None), &home).envs(env).stdin(pipe).output().unwrap();
            assert_eq!(left.wait().unwrap().code(), Some(0), "{line}");
            Out {
                code: right.status.code().unwrap(),
                stdout: String::from_utf8(right.stdout).unwrap(),
                stderr: String::from_utf8(right.stderr).unwrap(),
            }
        }
        _ => panic!("{line}"),
    }
}

fn args(command: &[String]) -> Vec<&str> {
    command.iter().map(String::as_str).collect()
}

/// `unix` (seconds) as the API writes a CreatedTime, by Howard Hinnant's `civil_from_days`.
fn iso(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let (day, month) = (day_of_year - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn an_hour_ago() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    iso(now - 3600)
}

fn key(id: &str, name: &str, created: &str) -> Value {
    json!({"KeyId": id, "KeyName": name, "CreatedTime": created})
}

#[test]
fn the_readme_recipes_are_the_ones_tested_here() {
    assert_eq!(iso(1_600_767_086), OLD);
    assert_eq!(iso(951_868_800), "2000-03-01T00:00:00Z");
    assert_eq!(
        recipes(),
        [
            "cvm-keypairs delete --name 'ci_*' --older-than 1d --yes",
            "cvm-keypairs delete --tag env=ci --detach --yes",
            "cvm-keypairs delete --name 'tmp_*' --exclude-name 'tmp_keep*' --older-than 7d",
            "cvm-keypairs delete --name 'tmp_*' --exclude-name 'tmp_keep*' --older-than 7d --yes",
            "cvm-keypairs describe --output ids --name 'tmp_*' | cvm-keypairs delete --yes -",
        ],
        "a recipe changed: test it here"
    );
    assert_eq!(words("a 'b c' 'd*'e ''"), ["a", "b c", "d*e", ""]);
}

#[test]
fn recipe_delete_ci_key_pairs_older_than_a_day_by_name() {
    let seed = [
        key("skey-c0000001", "ci_1", OLD),
        key("skey-c0000002", "ci_2", &an_hour_ago()),
        key("skey-w0000001", "web_1", OLD),
    ];
    let emu = Emu::start(&seed, &[]);
    let out = run_recipe(&emu, recipes()[0]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("1 key pair: 1 deleted, 0 not found, 0 kept, 0 failed\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        present(&emu),
        set(&["skey-c0000002", "skey-w0000001"]),
        "the new CI key pair and the others stay"
    );
}

#[test]
fn recipe_detach_and_delete() {
    let tagged = |id: &str, env: &str, instances: &[&str]| json!({"KeyId": id, "Tags": [{"Key": "env", "Value": env}], "AssociatedInstanceIds": instances});
    let seed = json!({"KeyPairs": [
        tagged("skey-c0000001", "ci", &["ins-00000001"]),
        tagged("skey-c0000002", "ci", &[]),
        tagged("skey-p0000001", "prod", &["ins-00000002"])],
        "Instances": ["ins-00000001", "ins-00000002"]});
    let emu = Emu::start_seeded(&seed, &["--async-delay-ms", "200"]);
    let out = run_recipe(&emu, recipes()[1]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("2 key pairs: 2 deleted, 0 not found, 0 kept, 0 failed\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\nDetached from instances:\n  skey-c0000001  from ins-00000001\n"),
        "{}",
        out.stdout
    );
    assert_eq!(present(&emu), set(&["skey-p0000001"]));
}

#[test]
fn recipe_plan_first_then_yes() {
    let seed = [
        key("skey-t0000001", "tmp_a", OLD),
        key("skey-t0000002", "tmp_b", OLD),
        key("skey-t0000003", "tmp_keep_1", OLD),
        key("skey-t0000004", "tmp_new", &an_hour_ago()),
        key("skey-w0000001", "web", OLD),
    ];
    let emu = Emu::start(&seed, &[]);
    let everything = present(&emu);
    let plan = run_recipe(&emu, recipes()[2]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(plan.stdout, format!("skey-t0000001  tmp_a  {OLD}  -\nskey-t0000002  tmp_b  {OLD}  -\n"));
    assert!(plan.stderr.contains("nothing was deleted. Run again with --yes"), "{}", plan.stderr);
    assert_eq!(present(&emu), everything);
    let yes = run_recipe(&emu, recipes()[3]);
    assert_eq!(yes.code, 0, "{yes:?}");
    assert!(yes.stdout.contains("\nDeleted:\n  skey-t0000001\n  skey-t0000002\n"), "{}", yes.stdout);
    assert_eq!(present(&emu), set(&["skey-t0000003", "skey-t0000004", "skey-w0000001"]));
}

#[test]
fn recipe_describe_ids_into_delete() {
    let seed = [
        key("skey-t0000001", "tmp_a", OLD),
        key("skey-t0000002", "tmp_b", OLD),
        key("skey-w0000001", "web", OLD),
    ];
    let emu = Emu::start(&seed, &[]);
    let out = run_recipe(&emu, recipes()[4]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("2 key pairs: 2 deleted"), "{}", out.stdout);
    assert_eq!(present(&emu), set(&["skey-w0000001"]));
}

#[test]
fn a_hundred_key_pairs_on_a_hundred_stopped_instances_are_detached_and_deleted_in_twice_the_delay() {
    let delay = Duration::from_millis(1000);
    let key_pairs: Vec<Value> = (0..100)
        .map(|i| {
            json!({"KeyId": format!("skey-f{i:07}"), "KeyName": format!("fleet_{i}"),
                        "AssociatedInstanceIds": [format!("ins-f{i:07}")]})
        })
        .collect();
    let instances: Vec<String> = (0..100).map(|i| format!("ins-f{i:07}")).collect();
    let emu = Emu::start_seeded(&json!({"KeyPairs": key_pairs, "Instances": instances}), &[]);
    let started = Instant::now();
    let out = client(&emu, "delete", &["--name", "fleet_*", "--detach", "--yes", "--json"], None);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut report = out.json();
    assert_eq!(report.as_object_mut().unwrap().remove("complete"), Some(json!(true)));
    let asked: Vec<String> = (0..100).map(|i| format!("skey-f{i:07}")).collect();
    let (deleted, _, failed) = check_json(&report, &asked);
    assert_eq!((deleted.len(), failed.len()), (100, 0), "every one deleted and verified");
    assert_eq!(report["detached"].as_array().unwrap().len(), 100);
    assert!(present(&emu).is_empty());
    let records = emu.finish();
    let mut requests: HashMap<String, u64> = HashMap::new();
    for record in &records {
        *requests.entry(record["action"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(requests["DisassociateInstancesKeyPairs"], 1, "100 key pairs in one request: {requests:?}");
    assert_eq!(
        count_code(&records, "InvalidParameterValue.KeyPairNotSupported"),
        0,
        "deleted only once unbound"
    );
    // What the client's pacing may add: each action's requests past the first ten in a second.
    let paced: u64 = requests.values().map(|n| n.saturating_sub(1) / 10).sum();
    let bound = 2 * delay + Duration::from_secs(paced);
    eprintln!("cvm-keypairs delete --detach: 100 key pairs on 100 stopped instances in {took:?} (bound {bound:?}): {requests:?}");
    assert!(took <= bound, "took {took:?}, more than {bound:?} ({requests:?})");
}
