//! From one received request to the API's answer: common headers, authentication, the region,
//! the rate limit, then the action itself, CVM's or STS's.
//!
//! Checks run in the order a client can act on: a request that cannot be attributed to the
//! emulator's credentials learns nothing else; rate limiting applies only to authenticated
//! requests of a known action in a known region; parameters are checked last, so a rejected
//! request changes no state.
//!
//! Both services share the loopback port. The real API has a host per service, whose
//! verifier signs with its own service name; here the action names the service, and a
//! signature whose credential scope names the other one fails as it would there.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::auth::{self, Signer};
use super::params::Params;
use super::server::Shared;
use super::store::iso_time;
use super::sts;
use super::wire::ParsedRequest;

/// One emulated action: its name, the parameters it takes and whether it changes state.
pub(crate) struct Action {
    pub(crate) name: &'static str,
    pub(crate) params: &'static [&'static str],
    pub(crate) mutating: bool,
}

/// One emulated service: the name its credential scopes carry, its API version, its actions.
pub(crate) struct Service {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) actions: &'static [Action],
}

/// The services emulated: CVM's key-pair actions and STS's role actions.
pub(crate) const SERVICES: [Service; 2] = [
    Service { name: "cvm", version: "2017-03-12", actions: &ACTIONS },
    Service { name: "sts", version: sts::VERSION, actions: &sts::ACTIONS },
];

/// The service an action belongs to, and the action.
pub(crate) fn find_action(name: &str) -> Option<(&'static Service, &'static Action)> {
    SERVICES.iter().find_map(|service| service.actions.iter().find(|a| a.name == name).map(|a| (service, a)))
}

/// The CVM actions the emulator implements, with the parameters of the SDK's request models
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

/// The regions CVM serves, for `X-TC-Region` (STS calls are held to the same list): those the region service lists for product `cvm`
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
    let service = authenticate(shared, request, action, at.unix)?;
    if version != service.version {
        return Err(ApiError::new("NoSuchVersion", format!("The API version must be {}.", service.version)));
    }
    let Some(spec) = service.actions.iter().find(|a| a.name == action) else {
        return Err(ApiError::new("InvalidAction", "The requested action does not exist."));
    };
    check_common(request, service)?;
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
    if service.name == "sts" {
        return sts::apply(shared, spec.name, &params, at.unix);
    }
    apply_cvm(shared, spec.name, &params, at, request_id, outcome)
}

/// Checks the credentials and the signature, and returns the service the request is for: the
/// one its credential scope names, which must be the one of its action when the action is
/// known. `AssumeRoleWithWebIdentity` may come unsigned, as the official SDKs send it
/// (`Authorization: SKIP`): its web identity token is its credential.
fn authenticate(
    shared: &Shared,
    request: &ParsedRequest,
    action: &str,
    now: i64,
) -> Result<&'static Service, ApiError> {
    let owner = find_action(action).map(|(service, _)| service);
    let unsigned = action == sts::WEB_IDENTITY && request.header("Authorization") == Some(sts::UNSIGNED);
    if let Some(owner) = owner.filter(|_| unsigned) {
        return Ok(owner);
    }
    let lookup = |id: &str| Signer::permanent(&shared.config, id).or_else(|| shared.temporaries().signer(id));
    let service = auth::verify(request, now, lookup)?;
    match owner {
        Some(owner) if owner.name != service.name => Err(ApiError::new(
            "AuthFailure.SignatureFailure",
            format!(
                "The provided credentials could not be validated (the credential scope names {}, but {action} is an action of {}). Please check your signature is correct.",
                service.name, owner.name
            ),
        )),
        _ => Ok(service),
    }
}

/// What every action needs: a JSON body for POST, and a region the service is offered in.
fn check_common(request: &ParsedRequest, service: &Service) -> Result<(), ApiError> {
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
        None | Some("") => Err(missing("X-TC-Region")),
        Some(region) if !REGIONS.contains(&region) => {
            let shown: String = region.chars().take(32).collect();
            Err(ApiError::new(
                "UnsupportedRegion",
                format!("{} is not offered in the region {shown:?}.", service.name.to_uppercase()),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Runs the CVM action `name` on the store.
fn apply_cvm(
    shared: &Shared,
    name: &str,
    params: &Params,
    at: Received,
    request_id: &str,
    outcome: &mut Outcome,
) -> Result<Map<String, Value>, ApiError> {
    let mut store = shared.store();
    store.settle(at.instant);
    let mut response = Map::new();
    match name {
        "DeleteKeyPairs" => outcome.deleted = store.delete(params.key_ids.as_deref())?.len(),
        "DescribeKeyPairs" => {
            let (total, page) = store.describe(params)?;
            response.insert("TotalCount".into(), json!(total));
            response.insert("KeyPairSet".into(), Value::Array(page));
        }
        "CreateKeyPair" => response = store.create(params, iso_time(at.unix))?,
        "ImportKeyPair" => {
            let key_id = store.import(params, iso_time(at.unix))?;
            response.insert("KeyId".into(), Value::String(key_id));
        }
        "ModifyKeyPairAttribute" => store.modify(params)?,
        "AssociateInstancesKeyPairs" => store.associate(params, at.instant, request_id)?,
        "DisassociateInstancesKeyPairs" => store.disassociate(params, at.instant, request_id)?,
        _ => {
            let (total, page) = store.describe_instances(params)?;
            response.insert("TotalCount".into(), json!(total));
            response.insert("InstanceSet".into(), Value::Array(page));
        }
    }
    Ok(response)
}
