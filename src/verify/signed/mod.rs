//! Signature schemes declared by mapping files — HMAC with a shared secret, or
//! Ed25519 with the provider's public key — by role: the declarative `spec`, the
//! header `format`s, the signed-content `template`, the compiled `scheme` and its
//! verification, the provider-side signing used by `send` and the load generator
//! (`sign`), and why a declaration does not compile (`error`).

mod clock;
mod error;
mod format;
mod scheme;
mod sign;
mod spec;
mod template;
#[cfg(test)]
mod tests;
mod url;
#[cfg(test)]
mod vectors;

pub use error::SchemeError;
pub use scheme::{hmac_of, Kind, SignedAt, SignedScheme};
pub use spec::{
    Algorithm, Ed25519Spec, Encoding, HmacSpec, SecretEncoding, SignatureFormat, SignatureLayout,
    TimestampUnit, DEFAULT_TOLERANCE,
};
