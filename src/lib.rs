//! Blocking, zero-async management of Tencent Cloud CVM key pairs through API 3.0: above all
//! `DeleteKeyPairs`, done so that every id gets an honest result.
//!
//! Data flows one way: ids are validated once into [`KeyId`]s; an [`Action`] (one type per API
//! action, e.g. [`DeleteKeyPairs`]) serialises its parameters as the POST body or the GET query;
//! [`RequestConfig::build`] signs those exact bytes with TC3-HMAC-SHA256 (pure: a function of
//! its inputs, no clock, no I/O) into a plain [`HttpRequest`]; a [`Transport`] sends it; the
//! answer becomes the action's output or an [`Error`] keeping the API's code and RequestId.
//! [`Client`] does all of that with pacing and retries, and
//! [`Client::delete_key_pairs_all`] deletes any number of key pairs, verified, into a
//! [`DeletionReport`].
//!
//! The actions: [`DeleteKeyPairs`], [`DescribeKeyPairs`] (by id, name, project or tag),
//! [`CreateKeyPair`] (whose [`PrivateKey`] shows as `***` and is reached only through
//! [`PrivateKey::expose_secret`]), [`ImportKeyPair`], [`ModifyKeyPairAttribute`],
//! [`AssociateInstancesKeyPairs`], [`DisassociateInstancesKeyPairs`] and [`DescribeInstances`];
//! any other through [`Client::call`]. Each checks its parameters when it is made (names, ids,
//! counts, descriptions, tags, public keys), so nothing malformed is ever sent.
//!
//! Deleting key pairs, here against the local emulator of the API (the `cvm-keypairs-emulator`
//! crate) so the example runs anywhere; against Tencent Cloud, leave out the endpoint and the
//! credentials, which then come from the environment, the profile file or the instance role:
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
//! assert_eq!(report.deleted[0].to_string(), "skey-mv9yzyjj");
//! assert_eq!(report.not_found[0].to_string(), "skey-1a2b3c4d");
//! assert!(report.all_absent());
//! for failure in report.kept.iter().chain(&report.failed) {
//!     println!("{}: {} ({})", failure.key_id, failure.code(), failure.message());
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Signing alone, with no I/O (the signer-only build, `default-features = false`, has this):
//!
//! ```
//! use cvm_keypairs::{Credentials, DeleteKeyPairs, Method, RequestConfig};
//!
//! let mut config = RequestConfig::default();
//! config.region = "ap-guangzhou".into();
//! config.method = Method::Get;
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?;
//! let action = DeleteKeyPairs::new(["skey-mv9yzyjj", "skey-1a2b3c4d"])?;
//! let request = config.build(&credentials, &action, 1_700_000_000)?;
//!
//! assert_eq!(
//!     request.url,
//!     "https://cvm.tencentcloudapi.com/?KeyIds.0=skey-mv9yzyjj&KeyIds.1=skey-1a2b3c4d"
//! );
//! assert!(request
//!     .header("Authorization")
//!     .unwrap()
//!     .starts_with("TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/cvm/tc3_request, "));
//! println!("{request}"); // the request as it goes on the wire, X-TC-Token shown as ***
//! # Ok::<(), cvm_keypairs::Error>(())
//! ```
//!
//! # Features
//! - `ureq` (default): everything that sends requests: [`Client`] and the batch deletion,
//!   `UreqTransport` over ureq with rustls (or a [`Transport`] of your own), the credential
//!   sources (environment, profile file, instance role) and the retry policy. Without it
//!   (`default-features = false`) the crate is the signer alone: the actions and their outputs,
//!   [`RequestConfig::build`], [`Credentials`], [`Endpoint`], [`KeyId`] and [`Error`], with
//!   no HTTP stack to compile.
//! - `testing` (implies `ureq`): the public module `testing`, internals for this crate's own
//!   tests and fuzz targets; not part of the API, and not covered by semver.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod actions;
mod base64;
#[cfg(feature = "ureq")]
mod batch;
mod bounded;
#[cfg(feature = "ureq")]
mod client;
#[cfg(feature = "ureq")]
mod clock;
mod credentials;
mod endpoint;
#[cfg(feature = "ureq")]
mod env;
mod error;
mod http;
mod key_id;
#[cfg(feature = "ureq")]
mod limiter;
#[cfg(feature = "ureq")]
mod observe;
mod query;
mod request;
#[cfg(feature = "ureq")]
mod response;
#[cfg(feature = "ureq")]
mod retry;
#[cfg(feature = "ureq")]
mod scrub;
mod tc3;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "ureq")]
mod transport;

pub use actions::create_key_pair::{CreateKeyPair, CreateKeyPairOutput, PrivateKey};
pub use actions::delete_key_pairs::DeleteKeyPairs;
pub use actions::describe_instances::{DescribeInstances, DescribeInstancesOutput, Instance};
pub use actions::describe_key_pairs::{DescribeKeyPairs, DescribeKeyPairsOutput, Filter, KeyPair};
pub use actions::import_key_pair::{ImportKeyPair, ImportKeyPairOutput};
pub use actions::instances_key_pairs::{AssociateInstancesKeyPairs, DisassociateInstancesKeyPairs};
pub use actions::modify_key_pair_attribute::ModifyKeyPairAttribute;
pub use actions::{Receipt, Tag};
#[cfg(feature = "ureq")]
pub use batch::{BatchControl, BatchOptions, DeletionReport, Detached, KeyFailure, StoppedInstance};
#[cfg(feature = "ureq")]
pub use client::{Client, ClientBuilder};
#[cfg(feature = "ureq")]
pub use credentials::{
    AssumeRoleProvider, CredentialsChain, EnvProvider, InstanceRoleProvider, ProfileProvider,
    WebIdentityProvider,
};
pub use credentials::{Credentials, ProvideCredentials};
pub use endpoint::Endpoint;
pub use error::{Error, ErrorCode, FailureCode, KeyIdError, TransportKind};
#[cfg(feature = "ureq")]
pub use http::HttpResponse;
pub use http::{HttpRequest, Method};
pub use key_id::KeyId;
#[cfg(feature = "ureq")]
pub use observe::{Event, Progress};
pub use request::{Action, Language, RequestConfig};
#[cfg(feature = "ureq")]
pub use retry::RetryPolicy;
#[cfg(feature = "ureq")]
pub use transport::Transport;
#[cfg(feature = "ureq")]
pub use transport::{UreqTransport, UreqTransportBuilder};

// The README's Rust examples compile as doc tests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
