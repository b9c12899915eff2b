//! Blocking, zero-async management of Tencent Cloud CVM key pairs through API 3.0.
//!
//! The crate is built in layers that only ever call downwards:
//! [`KeyId`] validates ids once; an [`Action`] such as [`DeleteKeyPairs`] writes its parameters
//! as a GET query ([`query`]) or a POST JSON body; [`RequestConfig::build`] signs those exact
//! bytes with the pure TC3-HMAC-SHA256 signer ([`tc3`]) into a plain [`HttpRequest`]. A
//! [`Transport`] sends it and [`response::parse`] turns what comes back into a typed output or
//! an [`Error`]; [`Client`] does all three in one call, and [`batch`] deletes any number of key
//! pairs with pacing, retries and verification.
//!
//! Deleting key pairs, here against the local emulator of the API (the `cvm-keypairs-emulator`
//! crate) so the example runs anywhere; against Tencent Cloud, leave out the endpoint and the
//! credentials come from the environment, the profile file or the instance role:
//!
//! ```
//! # #[cfg(feature = "ureq")] {
//! use cvm_keypairs::{Client, Credentials};
//! use cvm_keypairs_emulator::{Emulator, EmulatorConfig, KeyPair};
//!
//! let emulator = Emulator::start(EmulatorConfig {
//!     key_pairs: vec![KeyPair::new("skey-mv9yzyjj")?],
//!     ..EmulatorConfig::default()
//! })?;
//! let client = Client::builder()
//!     .credentials(Credentials::new(EmulatorConfig::DEFAULT_SECRET_ID, EmulatorConfig::DEFAULT_SECRET_KEY)?)
//!     .endpoint(&emulator.url())
//!     .region("ap-guangzhou")
//!     .build()?;
//!
//! let report = client.delete_key_pairs_all(["skey-mv9yzyjj", "skey-1a2b3c4d"])?;
//! assert_eq!(report.deleted[0].as_str(), "skey-mv9yzyjj");
//! assert_eq!(report.not_found[0].as_str(), "skey-1a2b3c4d");
//! assert!(report.all_absent());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Signing alone, with no I/O (the signer-only build, `default-features = false`, has this):
//!
//! ```
//! use cvm_keypairs::{Credentials, DeleteKeyPairs, Method, RequestConfig, Signer};
//!
//! let config = RequestConfig {
//!     region: "ap-guangzhou".into(),
//!     method: Method::Get,
//!     ..RequestConfig::default()
//! };
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?;
//! let action = DeleteKeyPairs::parse(["skey-mv9yzyjj", "skey-1a2b3c4d"])?;
//! let request = config.build(&Signer::new(), &credentials, &action, 1_700_000_000)?;
//!
//! assert_eq!(
//!     request.url,
//!     "https://cvm.tencentcloudapi.com/?KeyIds.0=skey-mv9yzyjj&KeyIds.1=skey-1a2b3c4d"
//! );
//! assert!(request
//!     .header("Authorization")
//!     .unwrap()
//!     .starts_with("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/cvm/tc3_request, "));
//! println!("{request}"); // the request as it goes on the wire
//! # Ok::<(), cvm_keypairs::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod actions;
pub mod batch;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod key_id;
mod limiter;
mod observe;
pub mod query;
pub mod request;
pub mod response;
pub mod retry;
mod scrub;
pub mod tc3;
pub mod transport;

pub use actions::delete_key_pairs::DeleteKeyPairs;
pub use actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput, Filter, KeyPair};
pub use client::{Client, ClientBuilder, KeyPairList};
pub use clock::{Clock, FixedClock, SystemClock};
pub use credentials::{
    Credentials, CredentialsChain, EnvProvider, Environment, InstanceRoleProvider, ProfileProvider,
    ProvideCredentials, SystemEnvironment,
};
pub use endpoint::Endpoint;
pub use error::{Error, ErrorCode, FailureCode, TransportKind};
pub use http::{HttpRequest, HttpResponse, Method};
pub use key_id::KeyId;
pub use observe::{Event, Progress, WaitReason};
pub use request::{Action, Language, RequestConfig, SignedHeaderSet};
pub use tc3::Signer;
pub use transport::Transport;
#[cfg(feature = "ureq")]
pub use transport::{UreqTransport, UreqTransportBuilder};

// The README's Rust examples compile as doc tests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
