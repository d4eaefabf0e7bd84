//! `Authorization: Bearer <token>`: the token, read the same way by every token
//! scheme (bounded in length, the scheme word in any case).

use http::{HeaderMap, HeaderName};

use super::error::VerifyError;

/// The token of a `Bearer <token>` header (bounded in length).
pub(super) fn bearer<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<&'h str, VerifyError> {
    let value = headers
        .get(name)
        .ok_or(VerifyError::MissingSignature)?
        .to_str()
        .map_err(|_| VerifyError::MalformedSignature)?;
    let (kind, token) = value
        .trim()
        .split_once(' ')
        .ok_or(VerifyError::MalformedSignature)?;
    if !kind.eq_ignore_ascii_case("bearer") || token.len() > 8192 {
        return Err(VerifyError::MalformedSignature);
    }
    Ok(token.trim())
}
