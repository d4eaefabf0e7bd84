//! Public keys as providers hand them out (PEM `PUBLIC KEY`, `RSA PUBLIC KEY` or
//! `CERTIFICATE`, or bare base64 DER), read by the RustCrypto crates (`spki`,
//! `pkcs1`, `x509-cert`), and the signatures they check: RSA-SHA256 (PKCS#1 v1.5)
//! and ECDSA P-256 with SHA-256. A certificate is only a container here (its
//! subject's key), never a chain to validate. Also the provider's side, signing
//! with a PEM private key: fixtures, `hookgate send` and the load generator.

use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use rsa::Pkcs1v15Sign;
use sha2::{Digest as _, Sha256};
use x509_cert::der::Decode as _;

/// The shortest RSA modulus taken, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A provider's RSA or P-256 public key.
#[derive(Clone, PartialEq, Eq)]
pub enum AsymmetricKey {
    Rsa(rsa::RsaPublicKey),
    EcP256(p256::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for AsymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa(k) => write!(f, "Rsa({} bits)", k.size() * 8),
            Self::EcP256(_) => f.write_str("EcP256"),
        }
    }
}

/// A PEM document's label and DER content. Freshchat shows its key on one line
/// (`-----BEGIN RSA PUBLIC KEY----- MIIB... -----END RSA PUBLIC KEY-----`), which
/// RFC 7468 does not allow: the base64 is re-wrapped before the decoder sees it.
pub fn pem(text: &str) -> Result<(String, Vec<u8>), String> {
    let text = text.trim();
    let label = text
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .map(|(label, _)| label.to_owned())
        .ok_or("not PEM: no `-----BEGIN <label>-----` line")?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .strip_prefix(&begin)
        .and_then(|rest| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| format!("no `{end}` line"))?;
    let b64: String = body.split_ascii_whitespace().collect();
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let wrapped = format!("{begin}\n{}\n{end}\n", lines.join("\n"));
    let (_, der) = x509_cert::der::pem::decode_vec(wrapped.as_bytes())
        .map_err(|e| format!("the {label} does not decode: {e}"))?;
    Ok((label, der))
}

fn from_spki_der(der: &[u8]) -> Option<AsymmetricKey> {
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(der) {
        return Some(AsymmetricKey::Rsa(k));
    }
    p256::ecdsa::VerifyingKey::from_public_key_der(der)
        .ok()
        .map(AsymmetricKey::EcP256)
}

fn from_certificate(der: &[u8]) -> Option<AsymmetricKey> {
    use x509_cert::der::Encode as _;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    from_spki_der(&spki)
}

impl AsymmetricKey {
    /// A key from PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`) or from
    /// base64 DER of a `SubjectPublicKeyInfo` (SendGrid's verification key).
    /// RSA keys shorter than [`MIN_RSA_BITS`] are refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let key = if text.starts_with("-----BEGIN ") {
            let (label, der) = pem(text)?;
            let key = match label.as_str() {
                "PUBLIC KEY" => from_spki_der(&der),
                // Freshchat labels a SubjectPublicKeyInfo `RSA PUBLIC KEY`.
                "RSA PUBLIC KEY" => rsa::RsaPublicKey::from_pkcs1_der(&der)
                    .ok()
                    .map(Self::Rsa)
                    .or_else(|| from_spki_der(&der)),
                "CERTIFICATE" => from_certificate(&der),
                other => return Err(format!("a `{other}` is not a public key")),
            };
            key.ok_or_else(|| format!("the {label} holds no RSA or P-256 public key"))?
        } else {
            let der = base64::engine::general_purpose::STANDARD
                .decode(text.split_ascii_whitespace().collect::<String>())
                .map_err(|_| "a public key must be PEM or base64 DER".to_owned())?;
            from_spki_der(&der).ok_or("not an RSA or P-256 public key")?
        };
        if let Self::Rsa(k) = &key {
            if k.size() * 8 < MIN_RSA_BITS {
                return Err(format!(
                    "an RSA key of {} bits is too short: {MIN_RSA_BITS} at least",
                    k.size() * 8
                ));
            }
        }
        Ok(key)
    }

    /// An RSA key's big-endian modulus and exponent.
    pub fn rsa_components(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match self {
            Self::Rsa(k) => Some((k.n().to_bytes_be(), k.e().to_bytes_be())),
            Self::EcP256(_) => None,
        }
    }

    /// A P-256 key's uncompressed SEC1 point.
    pub fn ec_point(&self) -> Option<Vec<u8>> {
        match self {
            Self::EcP256(k) => Some(k.to_encoded_point(false).as_bytes().to_vec()),
            Self::Rsa(_) => None,
        }
    }

    /// Whether `signature` is this key's over `message`: RSA PKCS#1 v1.5 with
    /// SHA-256, or ECDSA P-256 with SHA-256 (the signature DER or 64 raw bytes).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Rsa(k) => k
                .verify(
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(message),
                    signature,
                )
                .is_ok(),
            Self::EcP256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
                sig.is_ok_and(|s| k.verify(message, &s).is_ok())
            }
        }
    }
}

/// `message` signed with a PEM private key as the provider would: RSA (`RSA
/// PRIVATE KEY`, or an RSA `PRIVATE KEY`) PKCS#1 v1.5 with SHA-256, or P-256
/// (`PRIVATE KEY`, `EC PRIVATE KEY`) ECDSA with SHA-256, DER-encoded.
pub fn sign_pem(private_pem: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    let (label, der) = pem(private_pem)?;
    let rsa_key = match label.as_str() {
        "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(&der).ok(),
        "PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs8_der(&der).ok(),
        _ => None,
    };
    if let Some(k) = rsa_key {
        return k
            .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
            .map_err(|e| format!("signing: {e}"));
    }
    let ec = match label.as_str() {
        "PRIVATE KEY" => p256::ecdsa::SigningKey::from_pkcs8_der(&der).ok(),
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
            .ok()
            .map(p256::ecdsa::SigningKey::from),
        _ => None,
    };
    let k = ec.ok_or_else(|| format!("a `{label}` is not an RSA or P-256 private key"))?;
    let sig: p256::ecdsa::Signature = k.sign(message);
    Ok(sig.to_der().as_bytes().to_vec())
}

#[cfg(test)]
#[path = "asymmetric_tests.rs"]
pub(crate) mod tests;
