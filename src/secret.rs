//! The `Secret` newtype: key material that never prints (HMAC keys, tokens, the
//! dead-letter seal key). Below every component, so each can hold one.

use std::fmt;

/// The shortest key hookgate accepts for an HMAC, a header token or a JWT secret,
/// after decoding. Shorter keys are guessable offline from one captured delivery,
/// and an empty one (an unset variable) lets anybody sign.
pub const MIN_SECRET_BYTES: usize = 16;

/// A shared secret (HMAC key, URL token, password). `Debug` and `Display` print
/// `[redacted]` so a secret cannot leak through a log line or an error message.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key's length in bytes (safe to show: it says nothing of the contents).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Equality in constant time with respect to the contents (length still leaks,
    /// as it does for every practical comparison).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_slice().ct_eq(other).into()
    }
}

/// Read from a configuration string (after `${VAR}` interpolation): the bytes of
/// the string as written.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

/// Configurations compare equal (to tell whether a reload changed anything) when
/// their secrets do; compared in constant time like every other use.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(&other.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("whsec_topsecret");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert!(s.ct_eq(b"whsec_topsecret"));
        assert!(!s.ct_eq(b"whsec_topsecreT"));
        assert!(!s.ct_eq(b"whsec_topsecret2"));
    }
}
