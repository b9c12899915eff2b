//! One module per API action: its request type, and the typed result of a call.

pub mod delete_key_pairs;
pub mod describe_key_pairs;
