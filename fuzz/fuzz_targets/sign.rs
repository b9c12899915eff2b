//! The signer on arbitrary inputs: it never panics; the same input gives the same output,
//! cached or not; it accepts exactly the well-formed inputs; every step of an accepted input
//! matches the oracle (canonical request parts, string to sign, `Authorization` shape); and
//! a rejection, like `Debug`, is the same whatever the secret key, so it cannot show it.
#![no_main]

use std::sync::LazyLock;

use cvm_keypairs::testing::{self, Signature, Signer, SigningInput};
use cvm_keypairs::Error;
use cvm_keypairs_fuzz::{check, SignCase};
use libfuzzer_sys::fuzz_target;

// One signer for the whole run, so its cache sees every sequence of keys, days and services
// the fuzzer tries.
static SIGNER: LazyLock<Signer> = LazyLock::new(Signer::new);

fn shown(result: &Result<Signature, Error>) -> Result<&Signature, String> {
    result.as_ref().map_err(ToString::to_string)
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = SignCase::decode(data) else { return };
    case.with(|input| {
        let uncached = testing::sign_uncached(input);
        let cached = SIGNER.sign(input);
        assert_eq!(shown(&uncached), shown(&testing::sign_uncached(input)), "same input, other output");
        assert_eq!(shown(&uncached), shown(&cached), "cached and uncached signing differ");
        assert_eq!(shown(&cached), shown(&SIGNER.sign(input)), "a cache hit differs");
        assert_eq!(uncached.is_ok(), check::signable(input), "{input:?} gave {:?}", shown(&uncached));
        match &uncached {
            Ok(sig) => {
                if let Err(e) = check::check_signature(input, sig) {
                    panic!("{input:?}: {e}");
                }
            }
            Err(e) => {
                // The key must leave no trace: another key gives the same error and Debug.
                let other_key = format!("{}#", input.secret_key);
                let other = SigningInput { secret_key: &other_key, ..*input };
                let other_error = testing::sign_uncached(&other).map(|_| ()).map_err(|e| e.to_string());
                assert_eq!(other_error, Err(e.to_string()), "the error depends on the secret key");
                assert_eq!(format!("{input:?}"), format!("{other:?}"), "Debug shows the secret key");
            }
        }
    });
});
