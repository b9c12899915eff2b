//! One module per API action: its request type, and the typed result of a call.

pub(crate) mod delete_key_pairs;
pub(crate) mod describe_key_pairs;
