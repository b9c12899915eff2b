//! Prints a signed DeleteKeyPairs request as it would go on the wire; sends nothing.

use cvm_keypairs::{Credentials, DeleteKeyPairs, RequestConfig, Signer};

fn main() -> Result<(), cvm_keypairs::Error> {
    let config = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
    let credentials = Credentials::new("AKIDEXAMPLE", "secret-key-EXAMPLE")?;
    let action = DeleteKeyPairs::parse(["skey-mv9yzyjj", "skey-1a2b3c4d"])?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let request = config.build(&Signer::new(), &credentials, &action, now as i64)?;
    println!("{request}");
    Ok(())
}
