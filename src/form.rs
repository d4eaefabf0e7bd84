//! `application/x-www-form-urlencoded` bodies, read strictly: a `%` not followed by
//! two hex digits, or a value that is not UTF-8 once decoded, is an error rather
//! than something silently kept (a signature over "the same" parameters must mean
//! the same bytes to the provider and to us).

use serde_json::{Map, Value};

/// Why a form body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("invalid percent-encoding at byte {0}")]
    Percent(usize),
    #[error("a field is not UTF-8 once decoded")]
    Utf8,
}

/// Whether a `Content-Type` names a form body.
pub fn is_form(content_type: Option<&http::HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The form's fields in order, decoded (`+` is a space, `%XX` a byte).
pub fn parse(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'%' {
            let ok = body.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && body.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(FormError::Percent(i));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    body.split(|b| *b == b'&')
        .filter(|field| !field.is_empty())
        .map(|field| {
            let (k, v) = match field.iter().position(|b| *b == b'=') {
                Some(eq) => (&field[..eq], &field[eq + 1..]),
                None => (field, &b""[..]),
            };
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// One component: `+` is a space, then percent-decoding (checked above), then UTF-8.
fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
    String::from_utf8(bytes).map_err(|_| FormError::Utf8)
}

/// Characters a form component keeps as they are (the rest is `%XX`, space `+`),
/// as browsers and Twilio encode.
const FORM_SAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b' ');

/// Fields encoded as a form body (what a provider sends; the load generator and
/// `hookgate send` write bodies this way).
pub fn encode(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, FORM_SAFE)
            .to_string()
            .replace(' ', "+")
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The fields as a JSON object for the mapping: a key given once is a string, a
/// key repeated is an array of its values in order.
pub fn to_json(pairs: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        match map.get_mut(k) {
            None => {
                map.insert(k.clone(), Value::String(v.clone()));
            }
            Some(Value::Array(values)) => values.push(Value::String(v.clone())),
            Some(first) => {
                let first = std::mem::take(first);
                map.insert(
                    k.clone(),
                    Value::Array(vec![first, Value::String(v.clone())]),
                );
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_decode_and_repeated_keys_become_arrays() {
        let pairs = parse(b"Body=Hello+there%21&MediaUrl0=https%3A%2F%2Fx&To=a&To=b&To=c&Empty=")
            .unwrap_or_default();
        assert_eq!(
            to_json(&pairs),
            json!({"Body": "Hello there!", "MediaUrl0": "https://x", "To": ["a", "b", "c"], "Empty": ""})
        );
    }

    #[test]
    fn invalid_percent_encoding_and_non_utf8_are_errors() {
        assert_eq!(parse(b"a=%zz"), Err(FormError::Percent(2)));
        assert_eq!(parse(b"a=%4"), Err(FormError::Percent(2)));
        assert_eq!(parse(b"a=100%"), Err(FormError::Percent(5)));
        assert_eq!(parse(b"a=%ff%fe"), Err(FormError::Utf8));
        assert!(parse("a=%C3%A9t%C3%A9".as_bytes()).is_ok_and(|p| p[0].1 == "été"));
    }

    #[test]
    fn encoding_round_trips() {
        let pairs = vec![
            ("Body".to_owned(), "It's 100% +fine & done".to_owned()),
            ("To".to_owned(), "whatsapp:+14155238886".to_owned()),
            ("Emoji".to_owned(), "\u{2764}\u{fe0f}".to_owned()),
        ];
        let body = encode(&pairs);
        assert_eq!(
            body.split('&').next(),
            Some("Body=It%27s+100%25+%2Bfine+%26+done")
        );
        assert_eq!(parse(body.as_bytes()), Ok(pairs));
    }

    #[test]
    fn content_types() {
        let v = |s: &'static str| http::HeaderValue::from_static(s);
        assert!(is_form(Some(&v(
            "application/x-www-form-urlencoded; charset=utf-8"
        ))));
        assert!(is_form(Some(&v("Application/X-WWW-Form-Urlencoded"))));
        assert!(!is_form(Some(&v("application/json"))));
        assert!(!is_form(None));
    }
}
