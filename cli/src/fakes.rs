//! Errors as the library makes them, for the unit tests: only the library constructs its
//! errors, so these come from real calls over a fake transport or to a closed port.

use std::sync::Arc;

use cvm_keypairs::{
    Client, Credentials, DescribeKeyPairs, Error, HttpRequest, HttpResponse, UreqTransportBuilder,
};

fn client(endpoint: &str, transport: Arc<dyn cvm_keypairs::Transport>) -> Client {
    Client::builder()
        .credentials(Credentials::new("AKIDunit", "unit-test-key").unwrap())
        .region("ap-guangzhou")
        .endpoint(endpoint)
        .transport(transport)
        .build()
        .unwrap()
}

/// The error of a DescribeKeyPairs answered with `status` and `body`.
pub fn answered(status: u16, body: &str) -> Error {
    let body = body.as_bytes().to_vec();
    let transport = move |_: &HttpRequest<'_>| -> Result<HttpResponse, Error> {
        Ok(HttpResponse { status, body: body.clone(), ..Default::default() })
    };
    client("cvm.tencentcloudapi.com", Arc::new(transport)).execute(&DescribeKeyPairs::all()).unwrap_err()
}

/// The error of a DescribeKeyPairs the API refused with `code`.
pub fn api_error(code: &str) -> Error {
    answered(
        200,
        &format!(r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-1"}}}}"#),
    )
}

/// The error of a DescribeKeyPairs sent to a loopback port nobody listens on.
pub fn unreachable_endpoint() -> Error {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let transport = UreqTransportBuilder::default().proxy(None).unwrap().build().unwrap();
    client(&format!("http://127.0.0.1:{port}"), Arc::new(transport))
        .execute(&DescribeKeyPairs::all())
        .unwrap_err()
}
