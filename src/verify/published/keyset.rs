//! A provider's published keys, parsed: a JSON Web Key Set, Google's map of key
//! id to X.509 certificate, or (for the OpenID discovery document) the `jwks_uri`
//! that names the set. Only signing keys hookgate can check are kept: RSA of at
//! least 2048 bits and P-256; a shared-secret (`oct`) key is never a public one.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::spec::{algorithm, KeyFormat};
use crate::verify::asymmetric::{AsymmetricKey, MIN_RSA_BITS};

/// The most keys one set may hold; a larger document is refused, not truncated.
const MAX_KEYS: usize = 64;
/// The shortest RSA modulus taken.
const MIN_RSA_BYTES: usize = MIN_RSA_BITS / 8;

/// What a key can verify: its type decides the algorithms, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    EcP256,
}

impl KeyKind {
    /// Whether a token signed with `alg` can be checked with a key of this kind.
    pub fn fits(self, alg: Algorithm) -> bool {
        match self {
            Self::Rsa => matches!(alg, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512),
            Self::EcP256 => alg == Algorithm::ES256,
        }
    }
}

/// One published key.
#[derive(Clone)]
pub struct PublishedKey {
    pub kid: Option<String>,
    pub kind: KeyKind,
    /// The algorithm the key set pins it to (`alg` of a JWK), when it does.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
    /// The channels the key is endorsed for (Bot Framework); empty: any.
    pub endorsements: Vec<String>,
}

impl std::fmt::Debug for PublishedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishedKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The keys a provider publishes at one time.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<PublishedKey>,
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn rsa(n: &[u8], e: &[u8]) -> Option<(KeyKind, DecodingKey)> {
    (n.len() >= MIN_RSA_BYTES && !e.is_empty())
        .then(|| (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(n, e)))
}

/// A parsed public key as jsonwebtoken takes it (its RSA components, or the
/// uncompressed point of a P-256 key).
fn decoding(k: &AsymmetricKey) -> Option<(KeyKind, DecodingKey)> {
    match (k.rsa_components(), k.ec_point()) {
        (Some((n, e)), _) => rsa(&n, &e),
        (None, Some(point)) => Some((KeyKind::EcP256, DecodingKey::from_ec_der(&point))),
        (None, None) => None,
    }
}

/// One JWK as a provider writes it, or `None` when hookgate cannot or must not
/// use it (an encryption key, a secret, another curve, a short modulus).
fn jwk(v: &Value) -> Option<PublishedKey> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let (kind, key) = match s("kty")? {
        "RSA" => {
            let n = b64url(s("n")?)?;
            let e = b64url(s("e")?)?;
            let strip = |v: Vec<u8>| v.into_iter().skip_while(|b| *b == 0).collect::<Vec<_>>();
            rsa(&strip(n), &strip(e))?
        }
        "EC" if s("crv")? == "P-256" => {
            let (x, y) = (b64url(s("x")?)?, b64url(s("y")?)?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let point = [&[0x04][..], &x, &y].concat();
            (KeyKind::EcP256, DecodingKey::from_ec_der(&point))
        }
        _ => return None,
    };
    let alg = match s("alg") {
        Some(a) => Some(algorithm(a).filter(|a| kind.fits(*a))?),
        None => None,
    };
    let endorsements = v
        .get("endorsements")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(PublishedKey {
        kid: s("kid").map(str::to_owned),
        kind,
        alg,
        key,
        endorsements,
    })
}

impl PublishedKey {
    /// A key from PEM (`PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`).
    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, String> {
        let (kind, key) =
            decoding(&AsymmetricKey::parse(pem)?).ok_or("an RSA key must be 2048 bits or more")?;
        Ok(Self {
            kid: Some(kid.to_owned()),
            kind,
            alg: None,
            key,
            endorsements: Vec::new(),
        })
    }
}

impl KeySet {
    /// Parses a fetched document of `format` (for the OpenID discovery document,
    /// the key set its `jwks_uri` names). A set with no usable key is an error:
    /// the last good set is kept rather than replaced by nothing.
    pub fn parse(format: KeyFormat, body: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let keys: Vec<PublishedKey> = match format {
            KeyFormat::Jwks | KeyFormat::OpenidConfiguration => {
                let all = doc
                    .get("keys")
                    .and_then(Value::as_array)
                    .ok_or("a key set has a `keys` array")?;
                if all.len() > MAX_KEYS {
                    return Err(format!("{} keys; at most {MAX_KEYS} are taken", all.len()));
                }
                all.iter().filter_map(jwk).collect()
            }
            KeyFormat::X509 => {
                let all = doc
                    .as_object()
                    .ok_or("a certificate map is an object of key id to PEM")?;
                if all.len() > MAX_KEYS {
                    return Err(format!("{} keys; at most {MAX_KEYS} are taken", all.len()));
                }
                all.iter()
                    .filter_map(|(kid, pem)| {
                        let (kind, key) = decoding(&AsymmetricKey::parse(pem.as_str()?).ok()?)?;
                        Some(PublishedKey {
                            kid: Some(kid.clone()),
                            kind,
                            alg: None,
                            key,
                            endorsements: Vec::new(),
                        })
                    })
                    .collect()
            }
        };
        if keys.is_empty() {
            return Err("no usable signing key (RSA of 2048 bits or more, or P-256)".to_owned());
        }
        Ok(Self { keys })
    }

    /// The `jwks_uri` of an OpenID discovery document.
    pub fn jwks_uri(body: &[u8]) -> Result<String, String> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        doc.get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "the OpenID configuration has no `jwks_uri`".to_owned())
    }

    /// The keys a token naming `kid` may be signed with: that key, or (a token
    /// naming none) every key.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a PublishedKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
    }

    /// Whether a token naming `kid` has a key to be checked against.
    pub fn knows(&self, kid: Option<&str>) -> bool {
        self.candidates(kid).next().is_some()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A set of given keys (the fixtures' and the tests').
    pub fn from_keys(keys: Vec<PublishedKey>) -> Self {
        Self { keys }
    }
}
