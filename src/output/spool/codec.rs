//! The spool's record (and its sequence number), its on-disk encoding and its
//! checksum: the only place that knows the byte layout of a stored record.
//!
//! Layout (all integers big-endian): version u8, then topic, key, value as u32-length
//! prefixed bytes, a u32 header count with each header as name and value, the event id,
//! and appended_at_ms as i64. The checksum is CRC-32 over the sequence number followed by
//! the body, so a body that ends up under another sequence number also fails the check.

const VERSION: u8 = 1;

/// One record waiting for Kafka: what the producer needs, and the event id for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolRecord {
    pub topic: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The CloudEvents id: for logs and for duplicate checks downstream.
    pub event_id: String,
    pub appended_at_ms: i64,
}

/// A record's place in the spool: strictly increasing in append order, never reused
/// (also not after the records with the highest numbers were removed and the spool was
/// reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub u64);

/// Why a stored body could not be turned back into a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum { stored: u32, computed: u32 },
    #[error("unknown record version {0}")]
    Version(u8),
    #[error("record truncated while reading {0}")]
    Truncated(&'static str),
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("{0} trailing bytes after the record")]
    Trailing(usize),
    #[error("a field of {0} bytes does not fit the record format")]
    TooLarge(usize),
}

/// The checksum stored beside a body.
pub fn checksum(seq: u64, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_be_bytes());
    h.update(body);
    h.finalize()
}

pub fn encode(record: &SpoolRecord) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(encoded_len_hint(record));
    out.push(VERSION);
    put_bytes(&mut out, record.topic.as_bytes())?;
    put_bytes(&mut out, &record.key)?;
    put_bytes(&mut out, &record.value)?;
    put_len(&mut out, record.headers.len())?;
    for (name, value) in &record.headers {
        put_bytes(&mut out, name.as_bytes())?;
        put_bytes(&mut out, value)?;
    }
    put_bytes(&mut out, record.event_id.as_bytes())?;
    out.extend_from_slice(&record.appended_at_ms.to_be_bytes());
    Ok(out)
}

/// Checks the checksum, then decodes.
pub fn decode(seq: u64, stored_crc: u32, body: &[u8]) -> Result<SpoolRecord, DecodeError> {
    let computed = checksum(seq, body);
    if computed != stored_crc {
        return Err(DecodeError::Checksum {
            stored: stored_crc,
            computed,
        });
    }
    let mut r = Reader(body);
    let version = r.take(1, "version")?[0];
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let topic = r.string("topic")?;
    let key = r.bytes("key")?.to_vec();
    let value = r.bytes("value")?.to_vec();
    let count = r.u32("header count")?;
    // The count comes from disk: never preallocate more than the body could hold.
    let mut headers = Vec::with_capacity((count as usize).min(r.0.len() / 8));
    for _ in 0..count {
        let name = r.string("header name")?;
        let value = r.bytes("header value")?.to_vec();
        headers.push((name, value));
    }
    let event_id = r.string("event id")?;
    let at = r.take(8, "appended_at_ms")?;
    let mut at_bytes = [0u8; 8];
    at_bytes.copy_from_slice(at);
    if !r.0.is_empty() {
        return Err(DecodeError::Trailing(r.0.len()));
    }
    Ok(SpoolRecord {
        topic,
        key,
        value,
        headers,
        event_id,
        appended_at_ms: i64::from_be_bytes(at_bytes),
    })
}

fn encoded_len_hint(r: &SpoolRecord) -> usize {
    let headers: usize = r.headers.iter().map(|(n, v)| 8 + n.len() + v.len()).sum();
    1 + 4 * 5 + r.topic.len() + r.key.len() + r.value.len() + headers + r.event_id.len() + 8
}

fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), DecodeError> {
    let len32 = u32::try_from(len).map_err(|_| DecodeError::TooLarge(len))?;
    out.extend_from_slice(&len32.to_be_bytes());
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), DecodeError> {
    put_len(out, b.len())?;
    out.extend_from_slice(b);
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let b = self.bytes(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::NotUtf8(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SpoolRecord {
        SpoolRecord {
            topic: "webhooks.github".into(),
            key: b"repo-1".to_vec(),
            value: br#"{"specversion":"1.0","id":"e-1"}"#.to_vec(),
            headers: vec![
                (
                    "content-type".into(),
                    b"application/cloudevents+json".to_vec(),
                ),
                ("ce_type".into(), Vec::new()),
            ],
            event_id: "e-1".into(),
            appended_at_ms: 1_764_460_800_000,
        }
    }

    #[test]
    fn round_trip() {
        let r = record();
        let body = encode(&r).unwrap();
        let crc = checksum(7, &body);
        assert_eq!(decode(7, crc, &body).unwrap(), r);
    }

    #[test]
    fn a_flipped_bit_or_another_seq_fails_the_checksum() {
        let body = encode(&record()).unwrap();
        let crc = checksum(7, &body);
        assert!(matches!(
            decode(8, crc, &body),
            Err(DecodeError::Checksum { .. })
        ));
        let mut bad = body.clone();
        bad[10] ^= 0x01;
        assert!(matches!(
            decode(7, crc, &bad),
            Err(DecodeError::Checksum { .. })
        ));
    }

    #[test]
    fn a_body_with_a_valid_checksum_but_a_broken_layout_is_an_error_not_a_panic() {
        // e.g. written by a future version, or a checksum collision
        for body in [
            vec![],
            vec![VERSION],
            vec![VERSION, 0xff, 0xff, 0xff, 0xff],
            vec![2],
        ] {
            let crc = checksum(1, &body);
            assert!(decode(1, crc, &body).is_err());
        }
        let mut body = encode(&record()).unwrap();
        body.push(0);
        let crc = checksum(1, &body);
        assert_eq!(decode(1, crc, &body), Err(DecodeError::Trailing(1)));
    }
}
