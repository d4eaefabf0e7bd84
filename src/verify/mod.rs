//! Authentication of incoming deliveries, on the raw bytes, before any parsing.
//!
//! By role: the request typestate (`request`: a [`RequestHead`] is admitted by the
//! checks that need no body, and an [`Admitted`] request becomes [`Verified`] only
//! through its signature check; everything downstream (mapping, dedup, output)
//! takes a `Verified`), a source's checks (`source`), scheme dispatch (`scheme`),
//! the reasons for a refusal (`error`), keys (`keys`) and what a signature covers
//! (`content`). The schemes, by family: `signed` (HMAC and Ed25519 over a
//! template), `jwt` (a signed token over the body's hash), `published` (a token
//! signed with keys the provider publishes, fetched and cached), `twilio` (the URL and
//! the sorted form parameters), a header token, and `access` (token, basic auth,
//! addresses). No axum, no rdkafka.

mod access;
mod asymmetric;
mod bearer;
mod content;
mod error;
mod jwt;
mod keys;
mod published;
mod request;
mod scheme;
mod signed;
mod signer;
mod source;
mod twilio;

pub use crate::secret::{Secret, MIN_SECRET_BYTES};
pub use access::{BasicAuth, IpAllowList};
pub use content::Signed;
pub use error::{ReverifyError, VerifyError};
pub use jwt::{JwtScheme, JwtSpec};
pub use keys::{Keys, PublicKey};
pub use published::check_key_url;
pub use published::{
    ClaimSpec, Fetch, Fetched, HttpsFetcher, KeyFormat, KeyKind, KeySet, KeyStore,
    PublishedJwtScheme, PublishedJwtSpec, PublishedKey, PublishedKeys, RefreshPolicy,
};
pub use request::{Admitted, RequestHead, Unverified, Verified};
pub use scheme::Scheme;
pub use signed::{
    Algorithm, Ed25519Spec, Encoding, HmacSpec, Kind, SchemeError, SecretEncoding, SignatureFormat,
    SignatureLayout, SignedAt, SignedScheme, TimestampUnit, DEFAULT_TOLERANCE,
};
pub use signer::Signer;
pub use source::SourceAuth;
pub use twilio::{TwilioScheme, TwilioSpec};
