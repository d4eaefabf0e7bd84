//! The Confluent wire format of a record value: byte 0 is the magic byte 0, bytes
//! 1–4 the schema id (big-endian), then the serialized value (here, JSON).

/// The first byte of a framed value. JSON text never starts with it.
pub const MAGIC_BYTE: u8 = 0;
/// The magic byte and the schema id.
pub const HEADER_LEN: usize = 5;

/// The five bytes a value framed with schema `id` starts with.
pub fn header(id: u32) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = id.to_be_bytes();
    [MAGIC_BYTE, a, b, c, d]
}

/// The schema id and the payload of a framed value; `None` for an unframed one
/// (JSON written before a registry was configured).
pub fn unframe(value: &[u8]) -> Option<(u32, &[u8])> {
    match value {
        [MAGIC_BYTE, a, b, c, d, rest @ ..] => Some((u32::from_be_bytes([*a, *b, *c, *d]), rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_json_is_never_mistaken_for_a_frame() {
        let mut v = header(0x0102_0304).to_vec();
        v.extend_from_slice(b"{\"a\":1}");
        assert_eq!(&v[..5], &[0, 1, 2, 3, 4]);
        assert_eq!(unframe(&v), Some((0x0102_0304, b"{\"a\":1}".as_slice())));
        assert_eq!(unframe(b"{\"a\":1}"), None);
        assert_eq!(unframe(&[0, 0, 0]), None);
    }
}
