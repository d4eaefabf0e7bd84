//! Public keys as providers write them: PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`,
//! `CERTIFICATE`) or bare base64 DER, read down to the key with a minimal DER
//! reader. Only what a public key needs is read: an X.509 certificate is a
//! container here (its subject's key), never a chain to validate.

use base64::Engine as _;

/// A public key found in a PEM or DER document.
#[derive(Clone, PartialEq, Eq)]
pub enum SpkiKey {
    /// RSA: the big-endian modulus and exponent, leading zeros stripped.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed or compressed SEC1 point on P-256.
    EcP256(Vec<u8>),
}

impl std::fmt::Debug for SpkiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa { n, .. } => write!(f, "Rsa({} bits)", n.len() * 8),
            Self::EcP256(_) => f.write_str("EcP256"),
        }
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
/// `[0]`, the certificate's explicit version.
const VERSION: u8 = 0xa0;

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (P-256), 1.2.840.10045.3.1.7.
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// One DER element: its tag, its content and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The content of an element of `tag`, and what follows it.
fn expect(tag: u8, input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = tlv(input)?;
    (t == tag).then_some((content, rest))
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    b[start..].to_vec()
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key(der: &[u8]) -> Option<SpkiKey> {
    let (seq, _) = expect(SEQUENCE, der)?;
    let (n, rest) = expect(INTEGER, seq)?;
    let (e, _) = expect(INTEGER, rest)?;
    let (n, e) = (strip_zeros(n), strip_zeros(e));
    (!n.is_empty() && !e.is_empty()).then_some(SpkiKey::Rsa { n, e })
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
fn spki(der: &[u8]) -> Option<SpkiKey> {
    let (seq, _) = expect(SEQUENCE, der)?;
    let (alg, rest) = expect(SEQUENCE, seq)?;
    let (oid, params) = expect(OID, alg)?;
    let (bits, _) = expect(BIT_STRING, rest)?;
    // The first octet counts the unused bits of the last one: a key has none.
    let key = bits.strip_prefix(&[0u8])?;
    if oid == RSA_ENCRYPTION {
        rsa_public_key(key)
    } else if oid == EC_PUBLIC_KEY {
        let (curve, _) = expect(OID, params)?;
        (curve == PRIME256V1).then(|| SpkiKey::EcP256(key.to_vec()))
    } else {
        None
    }
}

/// The subject's key of an X.509 certificate: the seventh element of
/// `tbsCertificate` (sixth without the optional version).
fn certificate(der: &[u8]) -> Option<SpkiKey> {
    let (cert, _) = expect(SEQUENCE, der)?;
    let (mut tbs, _) = expect(SEQUENCE, cert)?;
    if let Some((VERSION, _, rest)) = tlv(tbs) {
        tbs = rest;
    }
    // serial, signature algorithm, issuer, validity, subject.
    for _ in 0..5 {
        tbs = tlv(tbs)?.2;
    }
    let (tag, _, _) = tlv(tbs)?;
    if tag != SEQUENCE {
        return None;
    }
    spki(tbs)
}

/// A PEM document's label and DER content.
pub fn pem(text: &str) -> Result<(&str, Vec<u8>), String> {
    let rest = text
        .trim()
        .strip_prefix("-----BEGIN ")
        .ok_or("not PEM: no `-----BEGIN` line")?;
    let (label, rest) = rest
        .split_once("-----")
        .ok_or("a PEM header must end with `-----`")?;
    let end = format!("-----END {label}-----");
    let (body, _) = rest
        .split_once(&end)
        .ok_or_else(|| format!("no `{end}` line"))?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.split_ascii_whitespace().collect::<String>())
        .map_err(|_| format!("the {label} is not base64"))?;
    Ok((label, der))
}

/// A public key from PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`) or from
/// base64 DER of a `SubjectPublicKeyInfo` (SendGrid's verification key).
pub fn parse_public_key(text: &str) -> Result<SpkiKey, String> {
    let text = text.trim();
    if !text.starts_with("-----BEGIN ") {
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.split_ascii_whitespace().collect::<String>())
            .map_err(|_| "a public key must be PEM or base64 DER".to_owned())?;
        return spki(&der).ok_or_else(|| "not an RSA or P-256 public key".to_owned());
    }
    let (label, der) = pem(text)?;
    let key = match label {
        "PUBLIC KEY" => spki(&der),
        "RSA PUBLIC KEY" => rsa_public_key(&der),
        "CERTIFICATE" => certificate(&der),
        other => return Err(format!("a `{other}` is not a public key")),
    };
    key.ok_or_else(|| format!("the {label} holds no RSA or P-256 public key"))
}

#[cfg(test)]
pub(crate) mod tests_support {
    // Self-signed test certificates made with `openssl req -x509` (RSA 2048, whose
    // modulus starts 0xd38d, and P-256, whose point starts 04c7b9).
    pub const RSA_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDETCCAfmgAwIBAgIUaAma++9ieCh4iiqbQ6lQVnhOI4IwDQYJKoZIhvcNAQEL
BQAwGDEWMBQGA1UEAwwNaG9va2dhdGUtdGVzdDAeFw0yNjEyMDMwOTA2NTlaFw0z
NjExMzAwOTA2NTlaMBgxFjAUBgNVBAMMDWhvb2tnYXRlLXRlc3QwggEiMA0GCSqG
SIb3DQEBAQUAA4IBDwAwggEKAoIBAQDTjSBkLdomiQ9DagSiQyBpa0fRcVK6JNgS
ug5bgRRFvESQTt8L9jkVnPIjeYfUjipKk64gF7iH9RZdw5mbXwBvnwlueKAvM9iG
6Q5/1WAMdPAe9mk0i3nYeK7fM94hBJ6oGbVQ5E8EE/SNHU4OPuSOK69VFLbaEOaM
BBYetQCQh3vIg0lhbW3KyyaDJHFSYH7cR3t4rjy4VaecwFdFRUY0lKqRsrTo20Ko
xYqdfx73Jt5T+k5ziR90EWmcSJRR1YPfdqxJIjncsfV99GzQEV8dQy7+IUrG7iXc
1cB88FwPMLVNLJ3bZ0fZskqT8lLmJtM/fNGvQfkwOuuwX6c7b9O7AgMBAAGjUzBR
MB0GA1UdDgQWBBROQba7z8XoqzsrEoMw/4pv8EvwKDAfBgNVHSMEGDAWgBROQba7
z8XoqzsrEoMw/4pv8EvwKDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUA
A4IBAQCiWAkhSKIi+ATjRRfiDBV4glZvBTKcH8xHYmybIj9bQGof7zG2bvSFHXTt
8mFjCKGcc3cHCQExzynu+uKNuvoxjoaNPvb6I1Xtpfe/6DEBiQljFfUWvzgSfRR8
Iv6JBDYhAK1MV2DX6YUhKVkDV8MnLVUMyS/vZgoiI0Gz4JYUd8ZjJ2TGTCplpQMr
qGKJ2CGjgUmCiEAHkWvwgTf/LknOEoZ672yW0QzY1rtiKgluWSzbTxIzQJos94Iz
Dl8h/Jc4Je2zgcAeCELalRHDVd0wld9FMqqndUfGfVnP2hPcs5I5qtHa2iMTH96E
MGC8u+jXKvVexZOquChbR49XDVph
-----END CERTIFICATE-----";
    pub const EC_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUJUqYXfMPt4ZEtnVCk/zsam2jIF0wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLaG9va2dhdGUtZWMwHhcNMjYxMjAzMDkwNzAwWhcNMzYxMTMw
MDkwNzAwWjAWMRQwEgYDVQQDDAtob29rZ2F0ZS1lYzBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABMe5aXrBkl3A1ruxdJgpQ8S4IWFdoqExrvL+7z6WyJ2jFj20G2kn
rcXQm6kwhK5ge1AaK7zbA+l22izFflpKWPOjUzBRMB0GA1UdDgQWBBToQazUZBQ7
GXDAe4FMf8eKZeW6yTAfBgNVHSMEGDAWgBToQazUZBQ7GXDAe4FMf8eKZeW6yTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGB1u0qi405JbMFRdY2N
EJelt+PkV4mQLhqpXkz1kixiAiEA9yFHAZqFPmX93aGGqKY5zqp14RxzVe9PUFPA
JWloOr4=
-----END CERTIFICATE-----";
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::tests_support::{EC_CERT, RSA_CERT as CERT};

    #[test]
    fn reads_tlv_lengths_short_and_long_and_refuses_truncation() {
        assert_eq!(tlv(&[0x02, 0x01, 0x05]), Some((0x02, &[5u8][..], &[][..])));
        let long = [&[0x04, 0x81, 0x80][..], &[7u8; 0x80]].concat();
        assert_eq!(tlv(&long).map(|(_, c, _)| c.len()), Some(0x80));
        assert_eq!(tlv(&[0x04, 0x05, 1, 2]), None);
        assert_eq!(tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]), None);
    }

    #[test]
    fn a_certificate_yields_its_subjects_rsa_key() {
        let Ok(SpkiKey::Rsa { n, e }) = parse_public_key(CERT) else {
            panic!("{:?}", parse_public_key(CERT));
        };
        assert_eq!(n.len(), 256);
        assert_eq!(n[..2], [0xd3, 0x8d]);
        assert_eq!(e, [1, 0, 1]);
        let Ok(SpkiKey::EcP256(point)) = parse_public_key(EC_CERT) else {
            panic!("{:?}", parse_public_key(EC_CERT));
        };
        assert_eq!((point.len(), &point[..3]), (65, &[0x04, 0xc7, 0xb9][..]));
    }

    #[test]
    fn garbage_and_other_labels_are_refused() {
        assert!(parse_public_key("not a key").is_err());
        assert!(
            parse_public_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err_and(|e| e.contains("not a public key"))
        );
        assert!(
            parse_public_key("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----").is_err()
        );
    }
}
