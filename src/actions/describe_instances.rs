//! `DescribeInstances`: the instances by id, or a page of all of them, with what key pair work
//! needs to know of each: its state, its operating system and how its last operation went.

use serde::{Deserialize, Serialize};

use super::nullable;
use super::validate;
use crate::error::Error;
use crate::request::Action;

/// A `DescribeInstances` request: the instances with given ids, or all of them, a page at a
/// time. Its parameters go in the official SDK's order: `InstanceIds`, `Offset`, `Limit`
/// (`Filters` are not offered).
///
/// A request by ids asks for all of them in one page (`Limit` is their count), since the
/// API's default page holds 20. Listing every instance takes one request per page: raise
/// [`with_offset`](DescribeInstances::with_offset) by the page's length until the listing
/// [`is_complete`](DescribeInstancesOutput::is_complete) or a page comes back empty.
///
/// ```
/// use std::sync::Arc;
/// use cvm_keypairs::{Client, Credentials, DescribeInstances, Error, HttpRequest, HttpResponse};
///
/// let request = DescribeInstances::by_ids(["ins-1e4r6y8i", "ins-3e56fg78"])?;
/// assert_eq!(serde_json::to_string(&request)?, r#"{"InstanceIds":["ins-1e4r6y8i","ins-3e56fg78"],"Limit":2}"#);
/// let page = DescribeInstances::all().with_offset(100).with_limit(100)?;
/// assert_eq!(serde_json::to_string(&page)?, r#"{"Offset":100,"Limit":100}"#);
///
/// let answer = r#"{"Response":{"TotalCount":1,"InstanceSet":[{"InstanceId":"ins-1e4r6y8i",
///     "InstanceState":"STOPPED","OsName":"TencentOS Server 3.1","LatestOperationState":"SUCCESS"}],
///     "RequestId":"r-1"}}"#;
/// let fake = move |_: &HttpRequest| -> Result<HttpResponse, Error> {
///     Ok(HttpResponse { status: 200, body: answer.into(), ..Default::default() })
/// };
/// let client = Client::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret-EXAMPLE")?)
///     .region("ap-guangzhou")
///     .transport(Arc::new(fake))
///     .build()?;
/// let listed = client.execute(&request)?;
/// assert_eq!(listed.instances[0].instance_state, "STOPPED");
/// assert!(listed.is_complete(), "every instance the API counted is here");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DescribeInstances {
    #[serde(rename = "InstanceIds", skip_serializing_if = "Vec::is_empty")]
    instance_ids: Vec<String>,
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(rename = "Limit", skip_serializing_if = "Option::is_none")]
    limit: Option<u64>,
}

impl DescribeInstances {
    /// Every instance (a page at a time: the API's default page holds 20).
    pub fn all() -> Self {
        Self::default()
    }

    /// The instances with these ids (`ins-` and 8 of `0-9 a-z`): 1 to 100 distinct ids,
    /// repeats removed, every malformed one named together; asked for in one page.
    pub fn by_ids<I: AsRef<str>>(ids: impl IntoIterator<Item = I>) -> Result<Self, Error> {
        let instance_ids = validate::instance_ids(ids)?;
        let limit = Some(instance_ids.len() as u64);
        Ok(DescribeInstances { instance_ids, limit, ..Self::default() })
    }

    /// Skips the first `offset` instances.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Lists at most `limit` instances, 1 to 100.
    pub fn with_limit(mut self, limit: u64) -> Result<Self, Error> {
        self.limit = Some(validate::page_size(limit)?);
        Ok(self)
    }
}

impl Action for DescribeInstances {
    type Output = DescribeInstancesOutput;

    fn name(&self) -> &'static str {
        "DescribeInstances"
    }
}

/// What `DescribeInstances` returns: one page of instances.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct DescribeInstancesOutput {
    /// How many instances match in all, across pages.
    #[serde(rename = "TotalCount")]
    pub total_count: u64,
    /// This page's instances.
    #[serde(rename = "InstanceSet", default, deserialize_with = "nullable")]
    pub instances: Vec<Instance>,
    /// The request's id.
    #[serde(rename = "RequestId", deserialize_with = "crate::bounded::request_id")]
    pub request_id: String,
}

impl DescribeInstancesOutput {
    /// Whether exactly the instances the API counted are here: only then does an instance
    /// missing from the list not exist.
    pub fn is_complete(&self) -> bool {
        self.instances.len() as u64 == self.total_count
    }
}

/// An instance as listed: the fields key pair work needs (the API sends many more, which are
/// ignored). Fields the API leaves out or sends as `null` are empty. Its JSON form uses the
/// API's names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Instance {
    /// The id, e.g. `ins-1e4r6y8i`.
    #[serde(rename = "InstanceId")]
    pub instance_id: String,
    /// The state as the API writes it: `RUNNING`, `STOPPED`, `STOPPING`, `STARTING`,
    /// `PENDING`, `REBOOTING`, … Key pairs are bound to and unbound from `STOPPED` instances
    /// (or running ones the API may force to stop).
    #[serde(rename = "InstanceState", default, deserialize_with = "nullable")]
    pub instance_state: String,
    /// The operating system's name, e.g. `TencentOS Server 3.1`; key pairs are for Linux
    /// instances only.
    #[serde(rename = "OsName", default, deserialize_with = "nullable")]
    pub os_name: String,
    /// How the instance's last operation went: `SUCCESS`, `OPERATING` or `FAILED`.
    #[serde(rename = "LatestOperationState", default, deserialize_with = "nullable")]
    pub latest_operation_state: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(req: &DescribeInstances) -> String {
        let mut q = String::new();
        crate::query::write(&mut q, req).unwrap();
        q
    }

    #[test]
    fn both_encodings_follow_the_sdk_order() {
        let by_ids = DescribeInstances::by_ids(["ins-bbbbbbbb", "ins-aaaaaaaa", "ins-bbbbbbbb"]).unwrap();
        assert_eq!(query(&by_ids), "InstanceIds.0=ins-bbbbbbbb&InstanceIds.1=ins-aaaaaaaa&Limit=2");
        assert_eq!(
            serde_json::to_value(&by_ids).unwrap(),
            json!({"InstanceIds": ["ins-bbbbbbbb", "ins-aaaaaaaa"], "Limit": 2})
        );
        let page = DescribeInstances::all().with_limit(100).unwrap().with_offset(40);
        assert_eq!(query(&page), "Offset=40&Limit=100");
        assert_eq!(serde_json::to_string(&page).unwrap(), r#"{"Offset":40,"Limit":100}"#);
        assert_eq!(query(&DescribeInstances::all()), "");
        assert_eq!(serde_json::to_string(&DescribeInstances::all()).unwrap(), "{}");
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        assert!(
            matches!(DescribeInstances::by_ids(["ins-1"]), Err(Error::InvalidInput(m)) if m.contains("\"ins-1\""))
        );
        assert!(DescribeInstances::by_ids(Vec::<&str>::new()).is_err());
        let many: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
        assert!(
            matches!(DescribeInstances::by_ids(&many), Err(Error::InvalidInput(m)) if m.ends_with("got 101"))
        );
        assert!(DescribeInstances::by_ids(&many[..100]).is_ok());
        for bad in [0, 101] {
            assert!(matches!(DescribeInstances::all().with_limit(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }

    #[test]
    fn output_tolerates_nulls_missing_and_unknown_fields() {
        let body = json!({
            "TotalCount": 3,
            "InstanceSet": [
                {"InstanceId": "ins-1e4r6y8i", "InstanceState": "RUNNING", "OsName": "Ubuntu Server 22.04 LTS 64位",
                 "LatestOperationState": "SUCCESS", "Placement": {"Zone": "ap-guangzhou-6"}, "CPU": 2,
                 "LoginSettings": {"KeyIds": ["skey-mv9yzyjj"]}, "Tags": [{"Key": "a", "Value": "b"}]},
                {"InstanceId": "ins-3e56fg78", "InstanceState": null, "OsName": null, "LatestOperationState": null}
            ],
            "RequestId": "r-1",
            "Future": true
        });
        let out: DescribeInstancesOutput = serde_json::from_value(body).unwrap();
        assert_eq!((out.total_count, out.request_id.as_str(), out.instances.len()), (3, "r-1", 2));
        assert!(!out.is_complete(), "2 of 3 listed");
        let first = &out.instances[0];
        assert_eq!(
            (first.instance_state.as_str(), first.os_name.as_str(), first.latest_operation_state.as_str()),
            ("RUNNING", "Ubuntu Server 22.04 LTS 64位", "SUCCESS")
        );
        let second = &out.instances[1];
        assert!(
            second.instance_state.is_empty()
                && second.os_name.is_empty()
                && second.latest_operation_state.is_empty()
        );
        assert_eq!(
            serde_json::to_value(second).unwrap(),
            json!({"InstanceId": "ins-3e56fg78", "InstanceState": "", "OsName": "", "LatestOperationState": ""})
        );

        let empty: DescribeInstancesOutput =
            serde_json::from_str(r#"{"TotalCount":0,"InstanceSet":null,"RequestId":"r"}"#).unwrap();
        assert!(empty.instances.is_empty() && empty.is_complete());
        for bad in [
            r#"{"InstanceSet":[],"RequestId":"r"}"#,
            r#"{"TotalCount":1,"InstanceSet":[{}],"RequestId":"r"}"#,
        ] {
            assert!(serde_json::from_str::<DescribeInstancesOutput>(bad).is_err(), "{bad}");
        }
    }
}
