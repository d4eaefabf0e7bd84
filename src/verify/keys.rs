//! A source's keys: shared secrets, or public keys for Ed25519 schemes, as sources
//! write them: hex, base64, or Standard Webhooks' `whpk_<base64>`. A key that is
//! not 32 bytes, or not a point on the curve, is refused at start-up.

use base64::Engine as _;

use crate::secret::Secret;

/// A source's keys for its scheme: shared secrets (HMAC, tokens, JWT, Twilio's auth
/// token), or public keys (Ed25519). Any may match: rotation.
#[derive(Debug, Clone)]
pub enum Keys {
    Secrets(Vec<Secret>),
    Public(Vec<PublicKey>),
}

/// An Ed25519 public key (not a secret: it prints).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0.as_bytes()))
    }
}

impl PublicKey {
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
            .map(Self)
            .map_err(|_| "not a valid Ed25519 public key".to_owned())
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub(super) fn verifying(&self) -> &ed25519_dalek::VerifyingKey {
        &self.0
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
