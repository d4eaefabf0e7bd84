//! The signature header layouts (plain, Stripe's `t=…,v1=…`, Standard Webhooks'
//! `v1,<b64> …`): how each is read, which encodings it allows, whether it carries
//! the timestamp, and how a provider writes it. Every layout rule is here.

use base64::Engine as _;

use super::spec::{Encoding, SignatureFormat};
use crate::verify::error::VerifyError;

/// At most this many signatures are considered in one header (bounded work).
const MAX_CANDIDATES: usize = 8;
/// Longer signature headers are refused before any parsing.
const MAX_HEADER_LEN: usize = 4096;

/// What a signature header says: a timestamp (Stripe's `t=`) and candidates.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    pub timestamp: Option<&'a str>,
    pub candidates: Vec<&'a str>,
}

impl SignatureFormat {
    /// Reads a signature header: bounded in length and in candidates; no candidate
    /// at all is a malformed header.
    pub(super) fn parse<'a>(
        self,
        raw: &'a str,
        versions: &[String],
    ) -> Result<Parsed<'a>, VerifyError> {
        if raw.len() > MAX_HEADER_LEN {
            return Err(VerifyError::MalformedSignature);
        }
        let raw = raw.trim();
        let mut parsed = Parsed {
            timestamp: None,
            candidates: Vec::new(),
        };
        match self {
            Self::Plain => parsed.candidates.push(raw),
            Self::Stripe => {
                for item in raw.split(',') {
                    let Some((k, v)) = item.trim().split_once('=') else {
                        continue;
                    };
                    if k == "t" {
                        parsed.timestamp = Some(v);
                    } else if versions.iter().any(|x| x == k) {
                        parsed.candidates.push(v);
                    }
                }
            }
            Self::StandardWebhooks => {
                for item in raw.split_ascii_whitespace() {
                    if let Some((version, sig)) = item.split_once(',') {
                        if versions.iter().any(|x| x == version) {
                            parsed.candidates.push(sig);
                        }
                    }
                }
            }
        }
        parsed.candidates.truncate(MAX_CANDIDATES);
        if parsed.candidates.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        Ok(parsed)
    }

    /// The encodings a candidate may be in: Standard Webhooks is always base64.
    pub(super) fn encodings(self, configured: &[Encoding]) -> &[Encoding] {
        match self {
            Self::StandardWebhooks => &[Encoding::Base64],
            Self::Plain | Self::Stripe => configured,
        }
    }

    /// Whether the header itself carries the timestamp (`t=`).
    pub(super) fn carries_timestamp(self) -> bool {
        self == Self::Stripe
    }

    /// The header value a provider sends for `mac` (signing side).
    pub(super) fn render(
        self,
        mac: &[u8],
        timestamp: &str,
        version: &str,
        prefix: &str,
        encodings: &[Encoding],
    ) -> String {
        let b64 = || base64::engine::general_purpose::STANDARD.encode(mac);
        let encoded = match self.encodings(encodings).first() {
            Some(Encoding::Base64) => b64(),
            _ => hex::encode(mac),
        };
        match self {
            Self::Plain => format!("{prefix}{encoded}"),
            Self::Stripe => format!("t={timestamp},{version}={prefix}{encoded}"),
            Self::StandardWebhooks => format!("{version},{encoded}"),
        }
    }
}
