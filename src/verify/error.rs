//! Why a delivery is refused, and why a kept one is not trusted again: one reason
//! per failed check, safe to show a caller.

/// Why a request was refused. The messages are safe to show a caller: they name
/// the failed check, never a secret or the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is missing")]
    MissingSignature,
    /// A header (or the id, or the URL) the signed content names is absent.
    #[error("a header the signature covers is missing")]
    MissingSignedHeader,
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("the signature does not match")]
    SignatureMismatch,
    /// The signed hash of the body (a JWT claim, Twilio's `bodySHA256`) is not
    /// this body's.
    #[error("the signed body hash is not this body's")]
    BodyHashMismatch,
    /// The body cannot be read as the scheme needs (a form with invalid
    /// percent-encoding, for a signature over its parameters).
    #[error("the body cannot be read for its signature")]
    MalformedBody,
    /// A signed form names a field twice that the provider never repeats (Twilio's
    /// signature cannot tell the variants apart).
    #[error("a signed form field is repeated")]
    RepeatedField,
    #[error("the URL token is missing or wrong")]
    BadToken,
    #[error("the credentials are missing or wrong")]
    BadCredentials,
    #[error("the source address is not allowed")]
    AddressNotAllowed,
    #[error("the signature timestamp is missing or malformed")]
    BadTimestamp,
    #[error("the signature timestamp is outside the replay window")]
    StaleTimestamp,
    /// The payload's own event time is older than the source's `max_event_age`.
    #[error("the event is older than the source accepts")]
    EventTooOld,
    /// A token signed with an algorithm the scheme does not accept (`none`, an
    /// HMAC where the provider signs with a private key, another key type's).
    #[error("the token's algorithm is not one the provider signs with")]
    AlgorithmNotAllowed,
    /// A token naming a key the provider does not publish (after one refetch).
    #[error("the token names a key the provider does not publish")]
    UnknownKey,
    #[error("the token is not from the provider's issuer")]
    WrongIssuer,
    #[error("the token is not for this source's audience")]
    WrongAudience,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the token is not valid yet")]
    TokenNotYetValid,
    /// A claim the mapping checks is absent or differs from what the delivery
    /// says (Bot Framework's `serviceUrl`).
    #[error("a token claim does not match the delivery")]
    ClaimMismatch,
    /// The signing key is not endorsed for the channel the delivery names.
    #[error("the signing key is not endorsed for this delivery's channel")]
    KeyNotEndorsed,
    /// The provider's published keys have not been fetched yet: not the sender's
    /// fault, so answered 503 (the provider retries), never 401.
    #[error("the provider's signing keys are not loaded yet")]
    KeysUnavailable,
}

impl VerifyError {
    /// A stable label for metrics, logs and the error body.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingSignedHeader => "missing_signed_header",
            Self::MalformedSignature => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::BodyHashMismatch => "body_hash_mismatch",
            Self::MalformedBody => "malformed_body",
            Self::RepeatedField => "repeated_field",
            Self::BadToken => "bad_token",
            Self::BadCredentials => "bad_credentials",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::BadTimestamp => "bad_timestamp",
            Self::StaleTimestamp => "timestamp_out_of_tolerance",
            Self::EventTooOld => "event_too_old",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::UnknownKey => "unknown_key",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::TokenExpired => "token_expired",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::ClaimMismatch => "claim_mismatch",
            Self::KeyNotEndorsed => "key_not_endorsed",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }

    /// Whether the refusal is hookgate's own state, not the request's: answered
    /// 503 so the provider retries.
    pub fn is_unavailable(self) -> bool {
        self == Self::KeysUnavailable
    }
}

/// Why a kept delivery (a dead letter) is not trusted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReverifyError {
    #[error("{0}")]
    Failed(VerifyError),
    /// The source's checks cover no body (URL token, basic auth, address, header
    /// token, none): nothing kept can prove the record authentic.
    #[error("the source does not sign its deliveries: replay it only with --trust-unsigned")]
    Unsigned,
}

impl ReverifyError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Failed(e) => e.reason(),
            Self::Unsigned => "unsigned_source",
        }
    }
}
