//! A source's keys: shared secrets, or public keys as sources write them: for
//! Ed25519 hex, base64, or Standard Webhooks' `whpk_<base64>` (a key that is not
//! 32 bytes, or not a point on the curve, is refused at start-up); for RSA and
//! P-256 PEM or base64 DER (see `asymmetric`).

use base64::Engine as _;

use super::asymmetric::AsymmetricKey;
use super::published::PublishedKeys;
use crate::secret::Secret;

/// A source's keys for its scheme: shared secrets (HMAC, tokens, JWT, Twilio's auth
/// token), public keys (Ed25519), any of which may match (rotation); or the keys
/// the provider publishes, with the audience the source takes tokens for.
#[derive(Debug, Clone)]
pub enum Keys {
    Secrets(Vec<Secret>),
    Public(Vec<PublicKey>),
    Published(PublishedKeys),
}

/// A provider's public key (not a secret: it prints).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(Inner);

#[derive(Clone, PartialEq, Eq)]
enum Inner {
    Ed25519(ed25519_dalek::VerifyingKey),
    Asymmetric(AsymmetricKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Ed25519(k) => write!(f, "PublicKey({})", hex::encode(k.as_bytes())),
            Inner::Asymmetric(k) => write!(f, "PublicKey({k:?})"),
        }
    }
}

impl PublicKey {
    /// An RSA key (`rsa` true) or a P-256 key, as PEM or base64 DER.
    pub fn parse_asymmetric(s: &str, rsa: bool) -> Result<Self, String> {
        match AsymmetricKey::parse(s)? {
            k @ AsymmetricKey::Rsa(_) if rsa => Ok(Self(Inner::Asymmetric(k))),
            k @ AsymmetricKey::EcP256(_) if !rsa => Ok(Self(Inner::Asymmetric(k))),
            _ if rsa => Err("this provider signs with RSA: give its RSA public key".to_owned()),
            _ => Err("this provider signs with ECDSA P-256: give its P-256 public key".to_owned()),
        }
    }

    /// An Ed25519 key.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let hex_like = s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit());
        let b64 = base64::engine::general_purpose::STANDARD;
        let bytes = if let Some(rest) = s.strip_prefix("whpk_") {
            b64.decode(rest)
                .map_err(|_| "a `whpk_` key must be base64 after the prefix".to_owned())?
        } else if hex_like && s.len() == 64 {
            hex::decode(s).map_err(|e| e.to_string())?
        } else if let Ok(decoded) = b64.decode(s) {
            decoded
        } else if hex_like {
            hex::decode(s).map_err(|e| e.to_string())?
        } else {
            return Err("a public key must be hex, base64 or `whpk_<base64>`".to_owned());
        };
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "an Ed25519 public key is 32 bytes; this one is {}",
                bytes.len()
            )
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(|k| Self(Inner::Ed25519(k)))
            .map_err(|_| "not a valid Ed25519 public key".to_owned())
    }

    pub(super) fn ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.0 {
            Inner::Ed25519(k) => Some(k),
            Inner::Asymmetric(_) => None,
        }
    }

    pub(super) fn asymmetric(&self) -> Option<&AsymmetricKey> {
        match &self.0 {
            Inner::Asymmetric(k) => Some(k),
            Inner::Ed25519(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8032, 7.1 TEST 1.
    const HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn hex_base64_and_whpk_name_the_same_key() {
        let bytes = hex::decode(HEX).unwrap_or_default();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let a = PublicKey::parse(HEX);
        assert!(a.is_ok());
        assert_eq!(PublicKey::parse(&b64), a);
        assert_eq!(PublicKey::parse(&format!("whpk_{b64}")), a);
    }

    #[test]
    fn wrong_lengths_and_garbage_are_refused() {
        assert!(PublicKey::parse(&HEX[..62]).is_err_and(|e| e.contains("32 bytes")));
        assert!(PublicKey::parse("whpk_%%%").is_err());
        assert!(PublicKey::parse("not a key at all").is_err());
        assert!(
            PublicKey::parse(&base64::engine::general_purpose::STANDARD.encode([0u8; 33]))
                .is_err_and(|e| e.contains("33"))
        );
    }
}
