//! Sealing dead-letter records: an HMAC-SHA256 under the gateway's own key over
//! every field of the record, so `hookgate replay` can tell a record hookgate wrote
//! from one somebody else wrote (or changed) in the dead-letter topic or file.
//!
//! A provider's signature proves the body authentic, but nothing else in the record:
//! without the seal, a changed `received_at` would let an old delivery past
//! `max_event_age`, and a changed `item` would pick another item of a batch.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::DeadLetter;
use crate::secret::{Secret, MIN_SECRET_BYTES};

/// What a seal starts with: the version of the encoding below.
const SEAL_PREFIX: &str = "hmac-sha256:v1:";

/// Domain separation: no other MAC hookgate computes can be taken for a seal.
const DOMAIN: &[u8] = b"hookgate dead-letter seal v1\0";

/// `[dead_letters]`: the keys that seal dead-letter records.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealConfig {
    /// The first non-empty key seals what is written; every key is tried when a
    /// record is read back (rotation: put the new key first, keep the old one
    /// until no record sealed with it is left). Empty entries (an unset
    /// `${OLD:-}`) are skipped.
    #[serde(default)]
    pub keys: Vec<String>,
}

impl SealConfig {
    pub fn validate(&self) -> Result<(), String> {
        self.build().map(|_| ())
    }

    /// The sealer these keys make (one that seals nothing when there are none).
    pub fn build(&self) -> Result<Sealer, String> {
        let mut keys = Vec::new();
        for (n, raw) in self.keys.iter().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            if raw.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "dead_letters.keys[{n}] is {} bytes; keys must be at least \
                     {MIN_SECRET_BYTES} bytes (is a variable inside it unset?)",
                    raw.len()
                ));
            }
            keys.push(Secret::new(raw.as_bytes()));
        }
        if !self.keys.is_empty() && keys.is_empty() {
            return Err(
                "every entry of dead_letters.keys is empty (is the environment variable set?)"
                    .to_owned(),
            );
        }
        Ok(Sealer { keys })
    }
}

/// Seals records with the first key and checks them against all of them.
#[derive(Debug, Clone, Default)]
pub struct Sealer {
    keys: Vec<Secret>,
}

/// What a record's seal says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealCheck {
    /// Sealed by one of the keys: every field is as hookgate wrote it.
    Intact,
    /// No seal on the record (written before a key was configured, or by someone else).
    Missing,
    /// A seal no configured key makes: changed, forged, or sealed with a key that is gone.
    Broken,
    /// The record has a seal, but no key is configured to check it.
    NoKey,
}

impl SealCheck {
    /// The reason `hookgate replay` reports.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Intact => "intact",
            Self::Missing => "unsealed_record",
            Self::Broken => "bad_record_seal",
            Self::NoKey => "no_seal_key",
        }
    }
}

impl Sealer {
    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Sets `record.seal` (replacing any) when a key is configured.
    pub fn seal(&self, record: &mut DeadLetter) {
        record.seal = self.keys.first().map(|key| {
            let tag = mac(key, record).finalize().into_bytes();
            format!("{SEAL_PREFIX}{}", hex::encode(tag))
        });
    }

    /// Checks a record read back, in constant time per key.
    pub fn check(&self, record: &DeadLetter) -> SealCheck {
        let Some(seal) = &record.seal else {
            return SealCheck::Missing;
        };
        if self.keys.is_empty() {
            return SealCheck::NoKey;
        }
        let Some(tag) = seal
            .strip_prefix(SEAL_PREFIX)
            .and_then(|h| hex::decode(h).ok())
        else {
            return SealCheck::Broken;
        };
        if self
            .keys
            .iter()
            .any(|key| mac(key, record).verify_slice(&tag).is_ok())
        {
            SealCheck::Intact
        } else {
            SealCheck::Broken
        }
    }
}

/// The MAC over every field but the seal, each length-prefixed (so no boundary
/// between two fields can move) and optional ones with a presence byte.
fn mac(key: &Secret, r: &DeadLetter) -> Hmac<Sha256> {
    // An HMAC takes a key of any length; the error branch cannot happen.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.expose())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(DOMAIN);
    let mut field = |bytes: &[u8]| {
        m.update(&(bytes.len() as u64).to_be_bytes());
        m.update(bytes);
    };
    field(r.id.to_string().as_bytes());
    field(r.source.as_bytes());
    field(r.provider.as_bytes());
    field(r.reason.as_str().as_bytes());
    field(r.detail.as_bytes());
    optional(
        &mut field,
        r.providereventtype.as_deref().map(str::as_bytes),
    );
    field(r.received_at.as_bytes());
    field(&(r.headers.len() as u64).to_be_bytes());
    for (name, value) in &r.headers {
        field(name.as_bytes());
        field(value.as_bytes());
    }
    // The two body fields as written: `raw_body` maps both to the same bytes, and
    // a record with both set is refused when read, so sealing them as they stand
    // binds the bytes replay verifies.
    optional(&mut field, r.body.as_deref().map(str::as_bytes));
    optional(&mut field, r.body_base64.as_deref().map(str::as_bytes));
    optional(&mut field, r.query.as_deref().map(str::as_bytes));
    optional(
        &mut field,
        r.item
            .map(|i| (i as u64).to_be_bytes())
            .as_ref()
            .map(|b| &b[..]),
    );
    // Added with tracing, and only when set: a record without a trace context
    // (every one written before) is sealed as it always was, and one with it has
    // more fields after the last, so the two encodings never meet.
    if r.traceparent.is_some() || r.tracestate.is_some() {
        field(b"trace");
        optional(&mut field, r.traceparent.as_deref().map(str::as_bytes));
        optional(&mut field, r.tracestate.as_deref().map(str::as_bytes));
    }
    m
}

fn optional(field: &mut impl FnMut(&[u8]), value: Option<&[u8]>) {
    match value {
        None => field(&[0]),
        Some(v) => {
            field(&[1]);
            field(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DeadLetterReason, Kept, Rejection, SourceId};

    fn record() -> DeadLetter {
        DeadLetter::new(
            &SourceId::parse("stripe").unwrap_or_else(|e| panic!("{e}")),
            "stripe",
            Kept {
                headers: [("stripe-signature".to_owned(), "t=1,v1=ab".to_owned())].into(),
                body: br#"{"id":"evt_1"}"#,
                query: None,
                item: Some(2),
                identity: None,
            },
            &chrono::Utc::now(),
            Rejection::new(DeadLetterReason::UnknownEventType, "no rule"),
        )
    }

    fn sealer(keys: &[&str]) -> Sealer {
        SealConfig {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_sealed_record_checks_and_any_changed_field_breaks_it() {
        let s = sealer(&["0123456789abcdef0123"]);
        let mut r = record();
        assert_eq!(s.check(&r), SealCheck::Missing);
        s.seal(&mut r);
        assert_eq!(s.check(&r), SealCheck::Intact);
        // Survives the JSON round trip the outputs make.
        let back: DeadLetter = serde_json::from_str(&serde_json::to_string(&r).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.check(&back), SealCheck::Intact);
        let changes: Vec<fn(&mut DeadLetter)> = vec![
            |r| r.received_at = "2025-01-01T00:00:00Z".to_owned(),
            |r| r.item = Some(0),
            |r| r.item = None,
            |r| r.source = "other".to_owned(),
            |r| r.provider = "other".to_owned(),
            |r| r.reason = DeadLetterReason::MappingError,
            |r| r.detail.push('!'),
            |r| r.providereventtype = Some("x".to_owned()),
            |r| {
                r.headers.insert("x-extra".to_owned(), "1".to_owned());
            },
            |r| r.body = Some(r#"{"id":"evt_2"}"#.to_owned()),
            |r| {
                let raw = r.raw_body().unwrap_or_default();
                r.body = None;
                r.body_base64 = DeadLetter::body_fields(&[raw.as_slice(), b"\xff"].concat()).1;
            },
            |r| r.query = Some("a=1".to_owned()),
            |r| r.seal = Some("hmac-sha256:v1:00".to_owned()),
        ];
        for (n, change) in changes.iter().enumerate() {
            let mut changed = r.clone();
            change(&mut changed);
            assert_eq!(s.check(&changed), SealCheck::Broken, "change {n}");
        }
    }

    /// A record as written before dead letters kept a trace context.
    fn fixed_record() -> DeadLetter {
        let mut r = record();
        r.received_at = "2026-01-01T00:00:00Z".to_owned();
        r
    }

    #[test]
    fn records_without_a_trace_context_seal_as_they_always_did() {
        let s = sealer(&["0123456789abcdef0123"]);
        let mut r = fixed_record();
        s.seal(&mut r);
        // The seal this record got before `traceparent` existed.
        assert_eq!(r.seal.as_deref(), Some(GOLDEN));
    }

    #[test]
    fn the_trace_context_is_sealed_when_present() {
        let s = sealer(&["0123456789abcdef0123"]);
        let mut r = fixed_record();
        r.traceparent = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
        s.seal(&mut r);
        assert_ne!(r.seal.as_deref(), Some(GOLDEN));
        assert_eq!(s.check(&r), SealCheck::Intact);
        let changes: Vec<fn(&mut DeadLetter)> = vec![
            |r| r.traceparent = None,
            |r| {
                r.traceparent =
                    Some("00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-01".to_owned())
            },
            |r| r.tracestate = Some("a=b".to_owned()),
        ];
        for (n, change) in changes.iter().enumerate() {
            let mut changed = r.clone();
            change(&mut changed);
            assert_eq!(s.check(&changed), SealCheck::Broken, "change {n}");
        }
        // Nor can a state be added to a record that had none.
        let mut bare = fixed_record();
        s.seal(&mut bare);
        bare.tracestate = Some("a=b".to_owned());
        assert_eq!(s.check(&bare), SealCheck::Broken);
    }

    const GOLDEN: &str =
        "hmac-sha256:v1:b0b8e84823d7c0074abf3d4a4d54c40724d05a86af1a8fafac3feea37cdc47e2";

    #[test]
    fn rotation_checks_with_every_key_and_seals_with_the_first() {
        let old = sealer(&["old-key-0123456789"]);
        let mut r = record();
        old.seal(&mut r);
        let rotated = sealer(&["new-key-0123456789", "", "old-key-0123456789"]);
        assert_eq!(rotated.check(&r), SealCheck::Intact);
        let new_only = sealer(&["new-key-0123456789"]);
        assert_eq!(new_only.check(&r), SealCheck::Broken);
        let mut fresh = record();
        rotated.seal(&mut fresh);
        assert_eq!(new_only.check(&fresh), SealCheck::Intact);
        assert_eq!(Sealer::default().check(&fresh), SealCheck::NoKey);
    }

    #[test]
    fn short_or_all_empty_keys_are_refused_naming_the_key() {
        let short = SealConfig {
            keys: vec!["short".to_owned()],
        };
        assert!(short
            .build()
            .err()
            .is_some_and(|e| e.contains("dead_letters.keys[0]") && e.contains("16 bytes")));
        let empty = SealConfig {
            keys: vec![String::new()],
        };
        assert!(empty
            .build()
            .err()
            .is_some_and(|e| e.contains("every entry of dead_letters.keys is empty")));
        assert!(!SealConfig::default().build().is_ok_and(|s| s.is_enabled()));
    }
}
