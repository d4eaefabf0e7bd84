//! The URL a signature covers, as the provider wrote it. hookgate never builds it
//! from the request's `Host` header or `X-Forwarded-*` headers: behind a proxy or
//! a load balancer the URL hookgate sees is not the one the provider called, and
//! those headers are the sender's to choose. A source that signs the URL says the
//! URL it registered with the provider (`public_url`); the request adds only its
//! query string. Some providers sign the URL with some percent-escapes decoded
//! (HubSpot v3: `%3A`, `%2F`, `%3F`, `%40`, `%21`, `%24`, `%27`, `%28`, `%29`,
//! `%2A`, `%2C`, `%3B`): `url_decode` names those characters.

use std::borrow::Cow;

use super::error::SchemeError;

/// The characters whose escapes are decoded in the signed URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct UrlDecode(Vec<u8>);

impl UrlDecode {
    /// From the mapping's `url_decode` string: ASCII punctuation only (decoding a
    /// letter, a digit or `%` itself would make two URLs sign alike for nothing).
    pub(super) fn parse(chars: Option<&str>) -> Result<Self, SchemeError> {
        let Some(chars) = chars else {
            return Ok(Self::default());
        };
        let mut out = Vec::new();
        for c in chars.chars() {
            if !c.is_ascii_punctuation() || c == '%' {
                return Err(SchemeError::UrlDecode(c));
            }
            out.push(c as u8);
        }
        out.sort_unstable();
        out.dedup();
        Ok(Self(out))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URL with the listed characters' escapes (either case of hex) decoded,
    /// every other byte kept.
    pub(super) fn apply<'u>(&self, url: &'u str) -> Cow<'u, str> {
        if self.0.is_empty() || !url.contains('%') {
            return Cow::Borrowed(url);
        }
        let bytes = url.as_bytes();
        let mut out = String::with_capacity(url.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let decoded = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .filter(|b| self.0.contains(b));
                if let Some(b) = decoded {
                    out.push(b as char);
                    i += 3;
                    continue;
                }
            }
            // Only ASCII bytes are ever consumed above, so a char boundary is
            // never split: copy the char that starts here.
            let ch = url[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUBSPOT: &str = ":/?@!$'()*,;";

    #[test]
    fn listed_escapes_are_decoded_and_nothing_else() -> Result<(), SchemeError> {
        let d = UrlDecode::parse(Some(HUBSPOT))?;
        assert_eq!(
            d.apply("https://x.example/h?a=b%3Ac%2fd&e=%20f%25g%3b"),
            "https://x.example/h?a=b:c/d&e=%20f%25g;"
        );
        assert_eq!(
            d.apply("https://x.example/ü?q=%E2%82%AC%2"),
            "https://x.example/ü?q=%E2%82%AC%2"
        );
        assert_eq!(d.apply("%"), "%");
        assert_eq!(UrlDecode::default().apply("a%3Ab"), "a%3Ab");
        Ok(())
    }

    #[test]
    fn only_punctuation_may_be_decoded() {
        for bad in ["a", "7", "%", " ", "é"] {
            assert!(UrlDecode::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(UrlDecode::parse(None).is_ok_and(|d| d.is_empty()));
    }
}
