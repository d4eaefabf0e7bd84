//! `[[respond]]`: deliveries answered directly instead of forwarded (challenge
//! handshakes). The answer is jq over the delivery, and may carry one field
//! computed from the source's secret (`sign`: Zoom's `encryptedToken`, the HMAC
//! of the `plainToken` it sends), keyed with the secret the delivery was verified
//! with; jq never sees the secret, only the finished MAC is written.

use base64::Engine as _;
use jaq_json::Val;

use super::jq::Jq;
use super::model::RespondSign;
use super::value::{to_json, to_opt_string};
use crate::verify::{Algorithm, Encoding, Verified};

/// One compiled `[[respond]]` rule.
pub(super) struct Respond {
    pub(super) when: Jq,
    pub(super) body: Jq,
    pub(super) sign: Option<Sign>,
}

/// A compiled `sign`.
pub(super) struct Sign {
    pub(super) field: String,
    pub(super) of: Jq,
    algorithm: Algorithm,
    encoding: Encoding,
    prefix: String,
}

impl Sign {
    pub(super) fn new(spec: &RespondSign, of: Jq) -> Self {
        Self {
            field: spec.field.clone(),
            of,
            algorithm: spec.algorithm,
            encoding: spec.encoding,
            prefix: spec.prefix.clone(),
        }
    }
}

impl Respond {
    /// Whether the rule answers this delivery.
    pub(super) fn applies(&self, input: &Val, headers: &Val) -> bool {
        matches!(self.when.first(input, headers), Ok(v) if !matches!(v, Val::Null | Val::Bool(false)))
    }

    /// The answer, or why it cannot be made.
    pub(super) fn answer(
        &self,
        req: &Verified,
        input: &Val,
        headers: &Val,
    ) -> Result<serde_json::Value, String> {
        let mut answer = to_json(&self.body.first(input, headers).map_err(|e| e.to_string())?);
        let Some(sign) = &self.sign else {
            return Ok(answer);
        };
        let of = sign.of.first(input, headers).map_err(|e| e.to_string())?;
        let of = to_opt_string(&of)
            .map_err(|e| format!("sign.of: {e}"))?
            .ok_or("sign.of: the delivery has no value to sign")?;
        // An open source (or a public-key scheme) holds no secret to answer with.
        let signer = req
            .signer()
            .ok_or("sign: the source has no secret to compute the answer with")?;
        let mac = signer.hmac(sign.algorithm, of.as_bytes());
        let encoded = match sign.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
        };
        let serde_json::Value::Object(fields) = &mut answer else {
            return Err("sign: respond.body must yield an object".to_owned());
        };
        fields.insert(
            sign.field.clone(),
            format!("{}{encoded}", sign.prefix).into(),
        );
        Ok(answer)
    }
}
