//! The key that verified a delivery, kept with it to answer a challenge computed
//! from that key (Zoom's `endpoint.url_validation`: the HMAC of a token the
//! provider sends). Under rotation a source holds several keys and the provider
//! expects the answer from the one it signed with, so the answer uses the key
//! that matched. The key is never shown: it can only MAC.

use super::signed::{hmac_of, Algorithm};
use crate::secret::Secret;

/// The secret a delivery's signature (or token) was verified with.
#[derive(Debug, Clone)]
pub struct Signer(Secret);

impl Signer {
    pub(super) fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// HMAC of `content` under the key.
    pub fn hmac(&self, algorithm: Algorithm, content: &[u8]) -> Vec<u8> {
        hmac_of(algorithm, self.0.expose(), content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2.
    #[test]
    fn rfc4231_case_2() {
        let s = Signer::new(Secret::new("Jefe"));
        let mac = s.hmac(Algorithm::Sha256, b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(format!("{s:?}"), "Signer([redacted])");
    }
}
