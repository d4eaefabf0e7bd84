//! The declarative form of a signature scheme, as a mapping file's `[auth]` writes
//! it: `scheme = "hmac"` (a shared secret) or `scheme = "ed25519"` (a public key).
//! Both lay their signature out the same way ([`SignatureLayout`]); each is read
//! by hand (see [`LayoutFields`]) because serde refuses unknown keys only in
//! structs that flatten nothing, and a misspelt key must stay an error.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

pub use super::clock::TimestampUnit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

/// How the signature header is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// One signature, optionally prefixed (`sha256=…`).
    #[default]
    Plain,
    /// `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (Stripe and alike); `versions`
    /// names the keys that hold signatures.
    Stripe,
    /// Space-separated `v1,<base64>` entries (Standard Webhooks); `versions` names
    /// the accepted versions.
    StandardWebhooks,
}

/// How a source's secret strings become HMAC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecretEncoding {
    /// The secret's bytes as written.
    #[default]
    Raw,
    /// `whsec_<base64>` (Standard Webhooks, Svix): the key is the decoded base64.
    WhsecBase64,
}

/// How a signature travels and what it covers: the part of a scheme HMAC and
/// Ed25519 share.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureLayout {
    /// Candidate header names, tried in order; the first present is used.
    pub headers: Vec<String>,
    /// How the signature is written (Ed25519: the 64-byte signature).
    pub encodings: Vec<Encoding>,
    pub prefix: Option<String>,
    pub prefix_optional: bool,
    /// What is signed: `{body}` (the raw body, default), `{body:sha256}` (its
    /// SHA-256 digest, 32 raw bytes), `{header:Name}`, `{timestamp}`, `{id}`,
    /// `{method}` and `{url}` (the source's `public_url` and the query)
    /// placeholders.
    pub signed: String,
    pub format: SignatureFormat,
    /// Stripe: keys holding signatures; Standard Webhooks: accepted versions.
    pub versions: Vec<String>,
    /// Where `{timestamp}` comes from (Unix seconds), unless the format carries it.
    pub timestamp_header: Option<String>,
    /// Where `{id}` comes from.
    pub id_header: Option<String>,
    /// Replay window for timestamped schemes, e.g. "5m" (the default).
    pub tolerance: Option<String>,
    /// What the timestamp counts: seconds (default), milliseconds, or auto.
    pub timestamp_unit: TimestampUnit,
    /// Characters whose percent-escapes are decoded in the signed `{url}`.
    pub url_decode: Option<String>,
}

impl SignatureLayout {
    /// A layout with every optional key at its default: one hex signature in the
    /// first of `headers`, over the body.
    pub fn new(headers: Vec<String>) -> Self {
        Self {
            headers,
            encodings: vec![Encoding::Hex],
            prefix: None,
            prefix_optional: false,
            signed: "{body}".to_owned(),
            format: SignatureFormat::default(),
            versions: vec!["v1".to_owned()],
            timestamp_header: None,
            id_header: None,
            tolerance: None,
            timestamp_unit: TimestampUnit::default(),
            url_decode: None,
        }
    }
}

/// The declarative form of an HMAC scheme, as written in a mapping file.
#[derive(Debug, Clone, Serialize)]
pub struct HmacSpec {
    pub algorithm: Algorithm,
    #[serde(flatten)]
    pub layout: SignatureLayout,
    pub secret_encoding: SecretEncoding,
}

/// `[auth] scheme = "ed25519"` (also `"rsa-sha256"` and `"ecdsa-p256"`, which
/// read the same keys): the provider signs with its private key; sources give
/// `public_keys` (Ed25519: hex, base64 or `whpk_<base64>`; RSA and P-256: PEM or
/// base64 DER). Laid out and templated as the HMAC schemes are.
#[derive(Debug, Clone, Serialize)]
pub struct Ed25519Spec {
    #[serde(flatten)]
    pub layout: SignatureLayout,
}

/// The layout's keys as a table is read: each at most once, then the defaults.
#[derive(Default)]
struct LayoutFields {
    headers: Option<Vec<String>>,
    encodings: Option<Vec<Encoding>>,
    prefix: Option<Option<String>>,
    prefix_optional: Option<bool>,
    signed: Option<String>,
    format: Option<SignatureFormat>,
    versions: Option<Vec<String>>,
    timestamp_header: Option<Option<String>>,
    id_header: Option<Option<String>>,
    tolerance: Option<Option<String>>,
    timestamp_unit: Option<TimestampUnit>,
    url_decode: Option<Option<String>>,
}

const LAYOUT_KEYS: [&str; 12] = [
    "headers",
    "encodings",
    "prefix",
    "prefix_optional",
    "signed",
    "format",
    "versions",
    "timestamp_header",
    "id_header",
    "tolerance",
    "timestamp_unit",
    "url_decode",
];
/// `algorithm`, the layout's keys, `secret_encoding`: what an HMAC scheme reads.
const HMAC_KEYS: [&str; 14] = {
    let mut keys = [""; 14];
    keys[0] = "algorithm";
    let mut i = 0;
    while i < LAYOUT_KEYS.len() {
        keys[i + 1] = LAYOUT_KEYS[i];
        i += 1;
    }
    keys[13] = "secret_encoding";
    keys
};

/// Reads the next value into `slot`, refusing a key given twice.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    key: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(key));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl LayoutFields {
    /// Takes `key`'s value when it is a layout key; `false` leaves it to the caller.
    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "headers" => once(&mut self.headers, "headers", map)?,
            "encodings" => once(&mut self.encodings, "encodings", map)?,
            "prefix" => once(&mut self.prefix, "prefix", map)?,
            "prefix_optional" => once(&mut self.prefix_optional, "prefix_optional", map)?,
            "signed" => once(&mut self.signed, "signed", map)?,
            "format" => once(&mut self.format, "format", map)?,
            "versions" => once(&mut self.versions, "versions", map)?,
            "timestamp_header" => once(&mut self.timestamp_header, "timestamp_header", map)?,
            "id_header" => once(&mut self.id_header, "id_header", map)?,
            "tolerance" => once(&mut self.tolerance, "tolerance", map)?,
            "timestamp_unit" => once(&mut self.timestamp_unit, "timestamp_unit", map)?,
            "url_decode" => once(&mut self.url_decode, "url_decode", map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self) -> Result<SignatureLayout, E> {
        let d = SignatureLayout::new(self.headers.ok_or_else(|| E::missing_field("headers"))?);
        Ok(SignatureLayout {
            encodings: self.encodings.unwrap_or(d.encodings),
            prefix: self.prefix.unwrap_or(d.prefix),
            prefix_optional: self.prefix_optional.unwrap_or(d.prefix_optional),
            signed: self.signed.unwrap_or(d.signed),
            format: self.format.unwrap_or(d.format),
            versions: self.versions.unwrap_or(d.versions),
            timestamp_header: self.timestamp_header.unwrap_or(d.timestamp_header),
            id_header: self.id_header.unwrap_or(d.id_header),
            tolerance: self.tolerance.unwrap_or(d.tolerance),
            timestamp_unit: self.timestamp_unit.unwrap_or(d.timestamp_unit),
            url_decode: self.url_decode.unwrap_or(d.url_decode),
            headers: d.headers,
        })
    }
}

/// The keys a spec reads beside its layout's, and how it is put together.
trait OwnKeys: Default {
    type Spec;
    const NAME: &'static str;
    /// Every key the spec accepts, for the error naming an unknown one.
    const KEYS: &'static [&'static str];
    /// Takes `key`'s value when it is one of the spec's own keys.
    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
    /// The spec, or the name of a required key that is missing.
    fn finish(self, layout: SignatureLayout) -> Result<Self::Spec, &'static str>;
}

/// Reads a spec's table: its own keys, the layout's, and no other.
struct SpecVisitor<K>(PhantomData<K>);

impl<'de, K: OwnKeys> Visitor<'de> for SpecVisitor<K> {
    type Value = K::Spec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", K::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<K::Spec, A::Error> {
        let (mut own, mut layout) = (K::default(), LayoutFields::default());
        while let Some(key) = map.next_key::<String>()? {
            if !own.take(&key, &mut map)? && !layout.take(&key, &mut map)? {
                return Err(de::Error::unknown_field(&key, K::KEYS));
            }
        }
        own.finish(layout.finish()?)
            .map_err(de::Error::missing_field)
    }
}

#[derive(Default)]
struct HmacKeys {
    algorithm: Option<Algorithm>,
    secret_encoding: Option<SecretEncoding>,
}

impl OwnKeys for HmacKeys {
    type Spec = HmacSpec;
    const NAME: &'static str = "HmacSpec";
    const KEYS: &'static [&'static str] = &HMAC_KEYS;

    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "algorithm" => once(&mut self.algorithm, "algorithm", map)?,
            "secret_encoding" => once(&mut self.secret_encoding, "secret_encoding", map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(self, layout: SignatureLayout) -> Result<HmacSpec, &'static str> {
        Ok(HmacSpec {
            algorithm: self.algorithm.ok_or("algorithm")?,
            layout,
            secret_encoding: self.secret_encoding.unwrap_or_default(),
        })
    }
}

/// An Ed25519 scheme has no keys of its own.
#[derive(Default)]
struct Ed25519Keys;

impl OwnKeys for Ed25519Keys {
    type Spec = Ed25519Spec;
    const NAME: &'static str = "Ed25519Spec";
    const KEYS: &'static [&'static str] = &LAYOUT_KEYS;

    fn take<'de, A: MapAccess<'de>>(&mut self, _: &str, _: &mut A) -> Result<bool, A::Error> {
        Ok(false)
    }

    fn finish(self, layout: SignatureLayout) -> Result<Ed25519Spec, &'static str> {
        Ok(Ed25519Spec { layout })
    }
}

fn read<'de, K: OwnKeys, D: Deserializer<'de>>(d: D) -> Result<K::Spec, D::Error> {
    d.deserialize_struct(K::NAME, K::KEYS, SpecVisitor::<K>(PhantomData))
}

impl<'de> Deserialize<'de> for HmacSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read::<HmacKeys, D>(d)
    }
}

impl<'de> Deserialize<'de> for Ed25519Spec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read::<Ed25519Keys, D>(d)
    }
}

/// The default replay window of timestamped schemes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    /// How a mapping file's `[auth]` reaches the specs: through serde's internally
    /// tagged enum, which buffers the table before the spec reads it.
    #[derive(Debug, Deserialize)]
    #[serde(tag = "scheme", rename_all = "lowercase")]
    enum Auth {
        Hmac(HmacSpec),
        Ed25519(Ed25519Spec),
    }

    fn parse(text: &str) -> Result<Auth, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_keys_are_refused_by_both_specs() {
        for (text, key) in [
            (
                "scheme = \"hmac\"\nalgorithm = \"sha256\"\nheaders = [\"X\"]\nprefx = \"a\"\n",
                "prefx",
            ),
            (
                "scheme = \"ed25519\"\nheaders = [\"X\"]\nprefx = \"a\"\n",
                "prefx",
            ),
            // The HMAC-only keys are unknown to an Ed25519 scheme.
            (
                "scheme = \"ed25519\"\nheaders = [\"X\"]\nalgorithm = \"sha256\"\n",
                "algorithm",
            ),
            (
                "scheme = \"ed25519\"\nheaders = [\"X\"]\nsecret_encoding = \"raw\"\n",
                "secret_encoding",
            ),
        ] {
            let e = parse(text).err().unwrap_or_default();
            assert!(e.contains(&format!("unknown field `{key}`")), "{text}: {e}");
        }
        let e = toml::from_str::<HmacSpec>("algorithm = \"sha1\"\nheaders = [\"X\"]\ncolour = 1\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("unknown field `colour`, expected one of `algorithm`, `headers`")
                && e.contains("`secret_encoding`"),
            "{e}"
        );
    }

    #[test]
    fn missing_and_repeated_keys_are_refused() {
        let e = parse("scheme = \"hmac\"\nheaders = [\"X\"]\n").err();
        assert!(e.is_some_and(|e| e.contains("missing field `algorithm`")));
        let e = parse("scheme = \"ed25519\"\nprefix = \"v1=\"\n").err();
        assert!(e.is_some_and(|e| e.contains("missing field `headers`")));
        // TOML refuses a repeated key itself; JSON hands both to the spec.
        let e = serde_json::from_str::<Ed25519Spec>(r#"{"headers": ["X"], "headers": ["Y"]}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("duplicate field `headers`"), "{e}");
    }

    #[test]
    fn every_layout_key_is_read_and_the_rest_default() -> Result<(), String> {
        let full = "scheme = \"hmac\"\nalgorithm = \"sha512\"\nheaders = [\"A\", \"B\"]\n\
                    encodings = [\"base64\"]\nprefix = \"v1=\"\nprefix_optional = true\n\
                    signed = \"{timestamp}.{id}.{body}\"\nformat = \"stripe\"\n\
                    versions = [\"v2\"]\ntimestamp_header = \"T\"\nid_header = \"I\"\n\
                    tolerance = \"1m\"\nsecret_encoding = \"whsec-base64\"\n";
        let Auth::Hmac(h) = parse(full)? else {
            return Err("an HMAC spec expected".into());
        };
        let l = &h.layout;
        assert_eq!(h.algorithm, Algorithm::Sha512);
        assert_eq!(h.secret_encoding, SecretEncoding::WhsecBase64);
        assert_eq!(l.headers, ["A", "B"]);
        assert_eq!(l.encodings, [Encoding::Base64]);
        assert_eq!(
            (l.prefix.as_deref(), l.prefix_optional),
            (Some("v1="), true)
        );
        assert_eq!(l.signed, "{timestamp}.{id}.{body}");
        assert_eq!(l.format, SignatureFormat::Stripe);
        assert_eq!(l.versions, ["v2"]);
        assert_eq!(
            (
                l.timestamp_header.as_deref(),
                l.id_header.as_deref(),
                l.tolerance.as_deref()
            ),
            (Some("T"), Some("I"), Some("1m"))
        );
        let Auth::Ed25519(e) = parse("scheme = \"ed25519\"\nheaders = [\"X\"]\n")? else {
            return Err("an Ed25519 spec expected".into());
        };
        assert_eq!(
            format!("{:?}", e.layout),
            format!("{:?}", SignatureLayout::new(vec!["X".into()]))
        );
        let Auth::Hmac(h) = parse("scheme = \"hmac\"\nalgorithm = \"sha1\"\nheaders = [\"X\"]\n")?
        else {
            return Err("an HMAC spec expected".into());
        };
        assert_eq!(h.secret_encoding, SecretEncoding::Raw);
        assert_eq!(l.encodings.len(), 1);
        assert_eq!(h.layout.signed, "{body}");
        assert_eq!(h.layout.versions, ["v1"]);
        Ok(())
    }
}
