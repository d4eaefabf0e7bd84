//! A sample spool record, shaped like a CloudEvent, for the spool's tests and the
//! integration tests and measurements that drive a [`Spool`](super::Spool) directly.

use super::codec::SpoolRecord;

/// A record for event `id` (also its key) whose CloudEvent carries `data_len`
/// bytes of data, with a content-type header; appended at 1 000 ms.
pub fn record(id: &str, data_len: usize) -> SpoolRecord {
    SpoolRecord {
        topic: "webhooks".into(),
        key: id.as_bytes().to_vec(),
        value: format!(
            r#"{{"specversion":"1.0","id":"{id}","data":"{}"}}"#,
            "x".repeat(data_len)
        )
        .into_bytes(),
        headers: vec![(
            "content-type".into(),
            b"application/cloudevents+json".to_vec(),
        )],
        event_id: id.into(),
        appended_at_ms: 1_000,
    }
}
