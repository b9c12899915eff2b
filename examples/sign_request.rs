//! Prints a signed DeleteKeyPairs request as it would go on the wire; sends nothing.

use cvm_keypairs::{Credentials, DeleteKeyPairs, RequestConfig};

fn main() -> Result<(), cvm_keypairs::Error> {
    let mut config = RequestConfig::default();
    config.region = "ap-guangzhou".into();
    let credentials = Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?;
    let action = DeleteKeyPairs::new(["skey-mv9yzyjj", "skey-1a2b3c4d"])?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let request = config.build(&credentials, &action, now as i64)?;
    println!("{request}");
    Ok(())
}
