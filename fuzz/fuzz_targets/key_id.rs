//! `KeyId` and `DeleteKeyPairs` on arbitrary text: a string parses exactly when it is
//! `skey-[0-9a-z]{8}` and then displays as itself; a rejection names the id. Read as one id per
//! line, the input builds a request exactly when every id is valid and 1 to 100 remain after
//! removing repeats, and both encodings (the GET query, the POST body) list those ids in order.
#![no_main]

use std::collections::HashSet;

use cvm_keypairs::{testing, DeleteKeyPairs, Error, KeyId};
use cvm_keypairs_fuzz::check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match text.parse::<KeyId>() {
        Ok(id) => {
            assert!(check::is_key_id(&text), "accepted {text:?}");
            assert_eq!(id.to_string(), text);
            assert_eq!(id.as_ref().parse::<KeyId>().ok(), Some(id));
        }
        Err(e) => {
            assert!(!check::is_key_id(&text), "rejected {text:?}");
            assert_eq!(e.id, text.chars().take(64).collect::<String>());
        }
    }

    let lines: Vec<&str> = text.split('\n').collect();
    let bad: Vec<&str> = lines.iter().copied().filter(|l| !check::is_key_id(l)).collect();
    let mut seen = HashSet::new();
    let distinct: Vec<&str> = lines.iter().copied().filter(|l| seen.insert(*l)).collect();
    match DeleteKeyPairs::new(&lines) {
        Ok(request) => {
            assert!(bad.is_empty() && (1..=100).contains(&distinct.len()), "accepted {lines:?}");
            let expected: Vec<(String, String)> =
                distinct.iter().enumerate().map(|(i, id)| (format!("KeyIds.{i}"), id.to_string())).collect();
            assert_eq!(check::parse_form(&testing::query(&request).unwrap()), Some(expected));
            assert_eq!(serde_json::to_value(&request).ok(), Some(serde_json::json!({ "KeyIds": distinct })));
        }
        Err(Error::InvalidKeyIds { 0: errors, .. }) => {
            let named: Vec<&str> = errors.iter().map(|e| e.id.as_str()).collect();
            let expected: Vec<String> = bad.iter().map(|b| b.chars().take(64).collect()).collect();
            assert_eq!(named, expected);
        }
        Err(Error::InvalidInput { 0: message, .. }) => {
            let n = distinct.len();
            assert!(bad.is_empty() && !(1..=100).contains(&n), "{message}: {n} of {lines:?}");
            assert!(message.ends_with(&format!("got {n}")), "{message}");
        }
        Err(other) => panic!("{lines:?} gave {other:?}"),
    }
});
