use cvm_keypairs::{Credentials, DeleteKeyPairs, RequestConfig, Signer};
use std::hint::black_box;
fn main() {
    let c =
        Credentials::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE").unwrap();
    let post = RequestConfig { region: "ap-guangzhou".into(), ..RequestConfig::default() };
    let one = DeleteKeyPairs::parse(["skey-00000001"]).unwrap();
    let s = Signer::new();
    for _ in 0..300000 {
        black_box(post.build(&s, &c, black_box(&one), 1_700_000_000).unwrap());
    }
}
