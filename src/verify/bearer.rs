//! Tokens in headers: `Authorization: Bearer <token>` or a header holding the
//! token alone, read the same way by every token scheme (bounded in length, the
//! scheme word in any case), and a token's own header (`alg`, `kid`), read
//! before any key is chosen; and the algorithms a scheme allows, from its mapping.

use base64::Engine as _;
use http::{HeaderMap, HeaderName};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::error::VerifyError;

/// The algorithms a scheme's mapping allows (a token's `alg` is only checked
/// against them, never trusted): one at least, each one `parse` knows; `known`
/// lists them for the error, `unknown` words the error for one it does not.
pub(super) fn allowed_algorithms(
    names: &[String],
    parse: fn(&str) -> Option<Algorithm>,
    known: &str,
    unknown: impl Fn(&str) -> String,
) -> Result<Vec<Algorithm>, String> {
    if names.is_empty() {
        return Err(format!("algorithms: name one at least ({known})"));
    }
    names
        .iter()
        .map(|a| parse(a).ok_or_else(|| unknown(a)))
        .collect()
}

/// The longest token read: a provider's are a few hundred bytes.
const MAX_TOKEN: usize = 8192;

/// The token of a `Bearer <token>` header (bounded in length).
pub(super) fn bearer<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h str, VerifyError> {
    let value = header(headers, name)?;
    let (kind, token) = value
        .split_once(' ')
        .ok_or(VerifyError::MalformedSignature)?;
    if !kind.eq_ignore_ascii_case("bearer") || token.len() > MAX_TOKEN {
        return Err(VerifyError::MalformedSignature);
    }
    Ok(token.trim())
}

/// The token a header holds alone, without a scheme word (MessageBird's
/// `MessageBird-Signature-JWT`), bounded in length.
pub(super) fn bare<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<&'h str, VerifyError> {
    let token = header(headers, name)?;
    if token.is_empty() || token.len() > MAX_TOKEN || token.contains(' ') {
        return Err(VerifyError::MalformedSignature);
    }
    Ok(token)
}

fn header<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<&'h str, VerifyError> {
    Ok(headers
        .get(name)
        .ok_or(VerifyError::MissingSignature)?
        .to_str()
        .map_err(|_| VerifyError::MalformedSignature)?
        .trim())
}

/// A token's header, read before any key is chosen: its `alg` and `kid`.
pub(super) struct TokenHeader {
    pub alg: String,
    pub kid: Option<String>,
}

pub(super) fn token_header(token: &str) -> Result<TokenHeader, VerifyError> {
    let first = token.split('.').next().unwrap_or_default();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|_| VerifyError::MalformedSignature)?;
    let v: Value = serde_json::from_slice(&json).map_err(|_| VerifyError::MalformedSignature)?;
    let alg = v
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(VerifyError::MalformedSignature)?;
    let kid = match v.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if k.len() <= 256 => Some(k.clone()),
        Some(_) => return Err(VerifyError::MalformedSignature),
    };
    Ok(TokenHeader {
        alg: alg.to_owned(),
        kid,
    })
}

/// Headers carrying `Authorization: Bearer <token>`, for the token schemes' tests.
#[cfg(test)]
pub(super) fn test_bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
        h.insert(http::header::AUTHORIZATION, v);
    }
    h
}
