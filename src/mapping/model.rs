//! The mapping-file model as integrators write it (TOML), before compilation.
//! `schemas/mapping.schema.json` describes the same shape for editors and start-up checks.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::verify::{
    Algorithm, Ed25519Spec, Encoding, HmacSpec, JwtSpec, PublishedJwtSpec, TwilioSpec,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// The name sources refer to with `provider = "..."`.
    pub provider: String,
    #[serde(default)]
    pub description: Option<String>,
    /// jq definitions (`def name: ...;`) prepended to every expression of the file.
    #[serde(default)]
    pub prelude: Option<String>,
    /// How the provider authenticates: one scheme, or several (`[[auth]]`) when it
    /// signs more than one way (a source then uses the one it has keys for).
    pub auth: AuthSpecs,
    /// A provider that puts several events in one delivery: how it splits.
    #[serde(default)]
    pub batch: Option<BatchSpec>,
    pub event: EventSpec,
    /// Provider event types answered `200 ignored` and not forwarded (e.g. test pings).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Provider event type -> the type it is handled as (another name for the same event).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Headers kept in dead-letter records, beside content-type, user-agent and the
    /// signature headers.
    #[serde(default)]
    pub dead_letter_headers: Vec<String>,
    /// Provider event type -> how to build the canonical event.
    pub events: BTreeMap<String, EventRule>,
    /// Deliveries answered directly instead of forwarded (challenge handshakes such
    /// as Slack's `url_verification`), checked after verification, in order.
    #[serde(default)]
    pub respond: Vec<RespondRule>,
    #[serde(default)]
    pub handshake: HandshakeSpec,
    /// jq building the JSON answered with 200 once the delivery's events are safe,
    /// for providers whose answer is a protocol message (Discord's deferred
    /// interaction response). Absent: hookgate's own `{"status": …}` body.
    #[serde(default)]
    pub answer: Option<String>,
}

/// A delivery answered with a computed JSON body and not forwarded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondRule {
    /// jq: when true, answer with `body`.
    pub when: String,
    /// jq: the JSON answered with 200.
    pub body: String,
    /// A field of the answer computed from the source's secret (Zoom's
    /// `encryptedToken`), added to the object `body` yields.
    #[serde(default)]
    pub sign: Option<RespondSign>,
}

/// `[[respond]] sign`: an HMAC, keyed with the secret the delivery was verified
/// with, of a string the delivery carries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondSign {
    /// The answer's field the MAC is written to.
    pub field: String,
    /// jq: the string the MAC is computed over.
    pub of: String,
    pub algorithm: Algorithm,
    #[serde(default = "hex")]
    pub encoding: Encoding,
    /// Written before the encoded MAC.
    #[serde(default)]
    pub prefix: String,
}

fn hex() -> Encoding {
    Encoding::Hex
}

/// GET handshakes a provider performs when a webhook is registered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeSpec {
    /// Meta (WhatsApp Cloud, Messenger, Instagram): `GET ?hub.mode=subscribe&
    /// hub.verify_token=…&hub.challenge=…` is answered with the challenge when the
    /// token equals the source's `verify_token`.
    #[serde(default)]
    pub meta_subscribe: bool,
}

/// `[batch]`: one delivery, several events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSpec {
    /// jq yielding the items (a stream, e.g. `.events[]`); each item is `.` for
    /// `[event]` and the event rules, and becomes its own event (its own dedup id
    /// and CloudEvents id). Build the item with whatever context it needs from the
    /// delivery (`.entry[] as $e | $e.messaging[] | {entry: $e, item: .}`).
    pub items: String,
}

/// `[auth]` or `[[auth]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AuthSpecs {
    One(Box<AuthSpec>),
    Many(Vec<AuthSpec>),
}

impl AuthSpecs {
    pub fn all(&self) -> &[AuthSpec] {
        match self {
            Self::One(a) => std::slice::from_ref(&**a),
            Self::Many(v) => v,
        }
    }
}

/// How the provider authenticates its deliveries.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "scheme", rename_all = "lowercase")]
pub enum AuthSpec {
    /// HMAC over the raw body (or a template including it).
    Hmac(HmacSpec),
    /// An Ed25519 signature over the raw body (or a template including it).
    Ed25519(Ed25519Spec),
    /// An RSA PKCS#1 v1.5 SHA-256 signature, laid out as an Ed25519 one (Freshchat).
    #[serde(rename = "rsa-sha256")]
    RsaSha256(Ed25519Spec),
    /// An ECDSA P-256 SHA-256 signature, laid out as an Ed25519 one (SendGrid).
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256(Ed25519Spec),
    /// A signed token (HS256) whose claim is the body's hash.
    Jwt(JwtSpec),
    /// Twilio's signature over the URL and the sorted form parameters.
    Twilio(TwilioSpec),
    /// The secret itself in a header (Telegram's `X-Telegram-Bot-Api-Secret-Token`).
    #[serde(rename = "header-token")]
    HeaderToken(HeaderTokenSpec),
    /// A token signed with keys the provider publishes (JWKS, OpenID discovery,
    /// X.509 map), fetched and cached by hookgate (Bot Framework, Google Chat).
    #[serde(rename = "published-jwt")]
    PublishedJwt(PublishedJwtSpec),
    /// The provider does not sign: each source must name another way in.
    None(NoAuthSpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderTokenSpec {
    pub header: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoAuthSpec {}

/// jq expressions evaluated on every delivery of the provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The provider's event type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The provider's own event id (CloudEvents `providereventid`).
    #[serde(default)]
    pub id: Option<String>,
    /// What identifies a delivery for deduplication. When absent, or when it yields
    /// null, the SHA-256 of the raw body is used (a redelivery is byte-identical).
    #[serde(default)]
    pub dedup: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub partition_key: Option<String>,
}

/// One provider event type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    /// The canonical type, e.g. `message.created`.
    #[serde(rename = "type")]
    pub ty: String,
    /// jq building the `data` object (entities by name). Null values are dropped.
    pub data: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub partition_key: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    /// jq predicate the payload must satisfy to be handled as this type (else the
    /// delivery is dead-lettered `type_mismatch`): what stops a body relabelled
    /// through a header the signature does not cover.
    #[serde(default)]
    pub requires: Option<String>,
}
