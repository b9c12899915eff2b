//! From one received request to the API's answer: common headers, authentication, the region,
//! the rate limit, then the action itself.
//!
//! Checks run in the order a client can act on: a request that cannot be attributed to the
//! emulator's credentials learns nothing else; rate limiting applies only to authenticated
//! requests of a known action in a known region; parameters are checked last, so a rejected
//! request changes no state.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::auth;
use super::params::Params;
use super::server::Shared;
use super::store::iso_time;
use super::wire::ParsedRequest;

/// The API version of the actions emulated.
const VERSION: &str = "2017-03-12";

/// One emulated action: its name, the parameters it takes and whether it changes state.
pub(crate) struct Action {
    pub(crate) name: &'static str,
    params: &'static [&'static str],
    pub(crate) mutating: bool,
}

/// The actions the emulator implements, with the parameters of the SDK's request models
/// (tencentcloud-sdk-python-cvm 3.1.178 `models.py`).
pub(crate) const ACTIONS: [Action; 8] = [
    Action { name: "DeleteKeyPairs", params: &["KeyIds"], mutating: true },
    Action { name: "DescribeKeyPairs", params: &["KeyIds", "Filters", "Offset", "Limit"], mutating: false },
    Action { name: "CreateKeyPair", params: &["KeyName", "ProjectId", "TagSpecification"], mutating: true },
    Action {
        name: "ImportKeyPair",
        params: &["KeyName", "ProjectId", "PublicKey", "TagSpecification"],
        mutating: true,
    },
    Action { name: "ModifyKeyPairAttribute", params: &["KeyId", "KeyName", "Description"], mutating: true },
    Action {
        name: "AssociateInstancesKeyPairs",
        params: &["InstanceIds", "KeyIds", "ForceStop"],
        mutating: true,
    },
    Action {
        name: "DisassociateInstancesKeyPairs",
        params: &["InstanceIds", "KeyIds", "ForceStop"],
        mutating: true,
    },
    Action {
        name: "DescribeInstances",
        params: &["InstanceIds", "Filters", "Offset", "Limit"],
        mutating: false,
    },
];

/// The regions CVM serves, for `X-TC-Region`: those the region service lists for product `cvm`
/// (the DescribeRegions example of tccli 3.1.189.1, `services/region/v20220627/examples.json`)
/// and the finance regions the CVM API pages name (`ap-shanghai-fsi`, `ap-shenzhen-fsi`, as in
/// CVM's own DescribeRegions example). Any other name is `UnsupportedRegion`, the API 3.0
/// common error code "the API does not support the region passed".
pub(crate) const REGIONS: [&str; 20] = [
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-guiyang",
    "ap-hongkong",
    "ap-jakarta",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "ap-xian-ec",
    "eu-frankfurt",
    "na-ashburn",
    "na-siliconvalley",
    "sa-saopaulo",
];

/// An API error: a documented code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }
}

/// What one request led to.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The `Response` members on success (without `RequestId`), or the error.
    pub(crate) result: Result<Map<String, Value>, ApiError>,
    /// How many `KeyIds` the request named, once its parameters were read.
    pub(crate) key_ids: usize,
    /// How many key pairs it deleted.
    pub(crate) deleted: usize,
}

/// The request, when it was received: `unix` on the emulator's clock (signature window,
/// `CreatedTime`), `instant` on the monotonic one (rate limit, asynchronous delays).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received {
    pub(crate) unix: i64,
    pub(crate) instant: Instant,
}

/// Answers `request`, to be sent with `request_id`; applies what it asks.
pub(crate) fn answer(shared: &Shared, request: &ParsedRequest, at: Received, request_id: &str) -> Outcome {
    let mut outcome = Outcome { result: Ok(Map::new()), key_ids: 0, deleted: 0 };
    outcome.result = run(shared, request, at, request_id, &mut outcome);
    outcome
}

fn missing(what: &str) -> ApiError {
    ApiError::new("MissingParameter", format!("The request is missing the required header `{what}`."))
}

fn run(
    shared: &Shared,
    request: &ParsedRequest,
    at: Received,
    request_id: &str,
    outcome: &mut Outcome,
) -> Result<Map<String, Value>, ApiError> {
    let action = request.header("X-TC-Action").ok_or_else(|| missing("X-TC-Action"))?;
    let version = request.header("X-TC-Version").ok_or_else(|| missing("X-TC-Version"))?;
    auth::verify(request, &shared.config, at.unix)?;
    if version != VERSION {
        return Err(ApiError::new("NoSuchVersion", format!("The API version must be {VERSION}.")));
    }
    let Some(spec) = ACTIONS.iter().find(|a| a.name == action) else {
        return Err(ApiError::new("InvalidAction", "The requested action does not exist."));
    };
    let is_json = request.header("Content-Type").is_some_and(|t| {
        t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if request.method == "POST" && !is_json {
        return Err(ApiError::new(
            "InvalidParameter",
            "A POST request must be Content-Type: application/json.",
        ));
    }
    match request.header("X-TC-Region") {
        None | Some("") => return Err(missing("X-TC-Region")),
        Some(region) if !REGIONS.contains(&region) => {
            let shown: String = region.chars().take(32).collect();
            return Err(ApiError::new(
                "UnsupportedRegion",
                format!("CVM is not offered in the region {shown:?}."),
            ));
        }
        Some(_) => {}
    }
    if !shared.limiter().admit(action, at.instant) {
        return Err(ApiError::new(
            "RequestLimitExceeded",
            format!("{action} allows {} requests per second.", shared.config.rate_limit),
        ));
    }

    let params = if request.method == "GET" {
        Params::from_query(request.query())
    } else {
        Params::from_json(&request.body)
    }?;
    outcome.key_ids = params.key_ids.as_ref().map_or(0, Vec::len);
    if let Some(name) = params.given().into_iter().find(|name| !spec.params.contains(name)) {
        return Err(ApiError::new("UnknownParameter", format!("The parameter `{name}` is not recognized.")));
    }
    let mut store = shared.store();
    store.settle(at.instant);
    let mut response = Map::new();
    match spec.name {
        "DeleteKeyPairs" => outcome.deleted = store.delete(params.key_ids.as_deref())?.len(),
        "DescribeKeyPairs" => {
            let (total, page) = store.describe(&params)?;
            response.insert("TotalCount".into(), json!(total));
            response.insert("KeyPairSet".into(), Value::Array(page));
        }
        "CreateKeyPair" => response = store.create(&params, iso_time(at.unix))?,
        "ImportKeyPair" => {
            let key_id = store.import(&params, iso_time(at.unix))?;
            response.insert("KeyId".into(), Value::String(key_id));
        }
        "ModifyKeyPairAttribute" => store.modify(&params)?,
        "AssociateInstancesKeyPairs" => store.associate(&params, at.instant, request_id)?,
        "DisassociateInstancesKeyPairs" => store.disassociate(&params, at.instant, request_id)?,
        _ => {
            let (total, page) = store.describe_instances(&params)?;
            response.insert("TotalCount".into(), json!(total));
            response.insert("InstanceSet".into(), Value::Array(page));
        }
    }
    Ok(response)
}
