//! Tokens signed with keys the provider publishes and rotates (Bot Framework,
//! Google Chat): the declarative `spec`, the parsed `keyset`, the pure check of
//! a token against a set (`scheme`), a source's keys and audience (`keys`), and
//! the shared key `store`, which fetches (`fetch`) and refreshes off the request
//! path's critical section.

mod fetch;
mod keys;
mod keyset;
mod scheme;
mod spec;
mod store;
#[cfg(test)]
mod tests;

pub use fetch::{Fetch, Fetched, HttpsFetcher};
pub use keys::PublishedKeys;
pub use keyset::{KeyKind, KeySet, PublishedKey};
pub use scheme::PublishedJwtScheme;
pub use spec::{check_key_url, ClaimSpec, KeyFormat, PublishedJwtSpec};
pub use store::{KeyStore, RefreshPolicy};
