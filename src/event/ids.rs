//! Identifier newtypes: which source a delivery came to, its dedup id, its event id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of a configured source: the `{source}` URL path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    /// Source ids become URL segments and CloudEvents `source` paths, so keep them plain.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "source id `{s}` must be 1-64 characters of A-Z, a-z, 0-9, `.`, `_`, `-`"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What makes two deliveries "the same event" for one provider: its event id, or
/// the hash of the raw body for providers without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupId(String);

impl DedupId {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// For providers without an event id: a redelivery is byte-identical.
    pub fn from_body(body: &[u8]) -> Self {
        use sha2::Digest;
        Self(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(body))
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The CloudEvents `id`: UUIDv5 of (source id, dedup id), so the same delivery
/// retried, even after a restart or on another replica, gets the same id. It also
/// serves as the dedup store's key: fixed size, cheap to hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(uuid::Uuid);

/// Namespace for hookgate event ids (a random UUID fixed forever: changing it
/// would change every id consumers have stored).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_03c2_5b7e_4d0a_9a3e_c1d4_2f8e_7a51);

impl EventId {
    pub fn derive(source: &SourceId, dedup: &DedupId) -> Self {
        let mut name = Vec::with_capacity(source.0.len() + dedup.0.len() + 1);
        name.extend_from_slice(source.0.as_bytes());
        // Source ids cannot contain a newline, so the pair is unambiguous.
        name.push(b'\n');
        name.extend_from_slice(dedup.0.as_bytes());
        Self(uuid::Uuid::new_v5(&NAMESPACE, &name))
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.hyphenated())
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        uuid::Uuid::parse_str(&s)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() -> Result<(), String> {
        let a = SourceId::parse("sahut-main")?;
        let b = SourceId::parse("sahut-eu")?;
        let d = DedupId::new("evt_1");
        assert_eq!(EventId::derive(&a, &d), EventId::derive(&a, &d));
        assert_ne!(EventId::derive(&a, &d), EventId::derive(&b, &d));
        assert_ne!(
            EventId::derive(&a, &d),
            EventId::derive(&a, &DedupId::new("evt_2"))
        );
        assert_eq!(EventId::derive(&a, &d).as_uuid().get_version_num(), 5);
        Ok(())
    }

    #[test]
    fn source_ids_are_plain() {
        assert!(SourceId::parse("a/b").is_err());
        assert!(SourceId::parse("").is_err());
        assert!(SourceId::parse("a\nb").is_err());
        assert!(SourceId::parse("magalu-sac_1.x").is_ok());
    }
}
