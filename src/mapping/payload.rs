//! The delivery as the expressions read it: the body parsed (JSON or a form)
//! and `$headers`.

use jaq_json::Val;

use crate::event::{DeadLetterReason, Rejection};
use crate::verify::Verified;

/// The body as the mapping reads it: JSON, or a form
/// (`application/x-www-form-urlencoded`) as an object of its fields (a repeated
/// key is an array), so a `payload` field holding JSON can be read with `fromjson`.
pub(super) fn parse_body(req: &Verified) -> Result<Val, Rejection> {
    parse_payload(req.headers(), req.body())
}

/// [`parse_body`] for a raw payload (tools and tests that hold no verified request).
pub fn parse_payload(headers: &http::HeaderMap, body: &[u8]) -> Result<Val, Rejection> {
    use DeadLetterReason as R;
    if crate::form::is_form(headers.get(http::header::CONTENT_TYPE)) {
        let pairs = crate::form::parse(body)
            .map_err(|e| Rejection::new(R::MalformedForm, e.to_string()))?;
        return serde_json::from_value(crate::form::to_json(&pairs))
            .map_err(|e| Rejection::new(R::MalformedForm, e.to_string()));
    }
    serde_json::from_slice(body).map_err(|e| Rejection::new(R::MalformedJson, e.to_string()))
}

/// `$headers`: lower-case names to values (repeated headers joined by ", ").
pub fn headers_value(headers: &http::HeaderMap) -> Val {
    let mut m = jaq_json::Map::default();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        m.insert(Val::from(name.as_str().to_owned()), Val::from(joined));
    }
    Val::obj(m)
}
