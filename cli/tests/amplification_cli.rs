//! What a server can make the command line print: 1,000 ids answered with error codes or
//! RequestIds of nearly 1 MiB (the transport's body cap) keep `delete`'s output within 2 MiB,
//! for people and as JSON. (`tests/amplification.rs` bounds the library's memory for the same
//! answers.)

mod cli_support;
#[path = "../../tests/support/huge_answers.rs"]
mod huge_answers;

use cvm_keypairs::testing::ID_CHARS;
use huge_answers::{ids, server, MIB, MODES};

#[test]
fn huge_codes_and_request_ids_for_a_thousand_ids_keep_the_output_within_2_mib() {
    let url = server();
    let stdin = ids().join("\n");
    for mode in MODES {
        for json in [false, true] {
            let mut args = vec!["delete", "--region", mode, "--endpoint", &url, "-"];
            if json {
                args.push("--json");
            }
            let out = cli_support::run(&args, cli_support::Creds::Good(None), Some(&stdin));
            let size = out.stdout.len() + out.stderr.len();
            eprintln!("{mode} (json: {json}): {size} bytes of output");
            assert_eq!(
                out.code,
                if mode == "huge-request-id-success" { 0 } else { 1 },
                "{mode}: {}",
                out.stderr
            );
            assert!(size <= 2 * MIB, "{mode} (json: {json}): {size} bytes of output");
            if json {
                let (_, _, failed) = cli_support::check_json(&out.json(), &ids());
                assert!(failed.values().all(|code| code.chars().count() <= ID_CHARS + 1), "{mode}");
            }
        }
    }
}
