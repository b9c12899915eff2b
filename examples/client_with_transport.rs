//! A `Client` over a transport of your own: here a closure that answers like the API, so the
//! example runs without a network (a test double, a proxy with its own policy, or another HTTP
//! client fit in the same place).

use std::sync::Arc;

use cvm_keypairs::{Client, Credentials, DeleteKeyPairs, Error, HttpRequest, HttpResponse};

fn main() -> Result<(), Error> {
    let transport = |request: &HttpRequest<'_>| -> Result<HttpResponse, Error> {
        // The request arrives complete and signed: method, URL, headers and body as they go out.
        println!("{} {} ({})", request.method, request.url, request.header("X-TC-Action").unwrap_or("?"));
        Ok(HttpResponse {
            status: 200,
            body: br#"{"Response":{"RequestId":"fake-1"}}"#.to_vec(),
            ..Default::default()
        })
    };
    let client = Client::builder()
        .credentials(Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?)
        .region("ap-guangzhou")
        .transport(Arc::new(transport))
        .build()?;
    let output = client.execute(&DeleteKeyPairs::new(["skey-mv9yzyjj", "skey-1a2b3c4d"])?)?;
    println!("deleted, RequestId {}", output.request_id);
    Ok(())
}
