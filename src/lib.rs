pub mod mapping { pub mod jq; }
pub mod verify;
