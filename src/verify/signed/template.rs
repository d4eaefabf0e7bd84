//! The signed-content template (`{body}`, `{body:sha256}`, `{timestamp}`, `{id}`,
//! `{method}`, `{url}`, `{header:Name}` and literals): parsed at start-up,
//! rendered per request into the bytes the MAC is computed over.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName};

use super::error::SchemeError;
use crate::verify::error::VerifyError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Literal(Vec<u8>),
    Body,
    /// The SHA-256 digest of the body, 32 raw bytes (Bird signs the body's hash).
    BodySha256,
    /// The request method. hookgate verifies deliveries on its POST route only
    /// (a GET is a handshake, never verified), so this is always `POST`.
    Method,
    Header(HeaderName),
    Timestamp,
    Id,
    /// The request URL as the provider saw it: the source's `public_url` and the
    /// query string.
    Url,
}

/// A compiled template: its parts in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template(Vec<Part>);

impl Template {
    pub(super) fn parse(t: &str) -> Result<Self, SchemeError> {
        let err = |reason: &str| SchemeError::Template {
            template: t.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = Vec::new();
        let mut rest = t;
        while let Some(start) = rest.find('{') {
            if start > 0 {
                parts.push(Part::Literal(rest.as_bytes()[..start].to_vec()));
            }
            let after = &rest[start + 1..];
            let end = after.find('}').ok_or_else(|| err("unclosed `{`"))?;
            let name = &after[..end];
            match name {
                "body" => parts.push(Part::Body),
                "body:sha256" => parts.push(Part::BodySha256),
                "method" => parts.push(Part::Method),
                "timestamp" => parts.push(Part::Timestamp),
                "id" => parts.push(Part::Id),
                "url" => parts.push(Part::Url),
                _ => {
                    match name.strip_prefix("header:") {
                        Some(h) => parts.push(Part::Header(
                            HeaderName::try_from(h).map_err(|_| err("invalid header name"))?,
                        )),
                        None => return Err(err(
                            "placeholders are {body}, {body:sha256}, {timestamp}, {id}, {method}, {url} and {header:Name}",
                        )),
                    }
                }
            }
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.as_bytes().to_vec()));
        }
        if !parts.contains(&Part::Body) && !parts.contains(&Part::BodySha256) {
            return Err(err("the template must include {body} or {body:sha256}"));
        }
        Ok(Self(parts))
    }

    pub(super) fn signs_timestamp(&self) -> bool {
        self.0.contains(&Part::Timestamp)
    }

    pub(super) fn signs_id(&self) -> bool {
        self.0.contains(&Part::Id)
    }

    pub(super) fn signs_url(&self) -> bool {
        self.0.contains(&Part::Url)
    }

    /// The headers named by `{header:Name}` parts.
    pub(super) fn headers(&self) -> impl Iterator<Item = &HeaderName> {
        self.0.iter().filter_map(|p| match p {
            Part::Header(h) => Some(h),
            _ => None,
        })
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// The signed content of one request. A header, timestamp or id the template
    /// names but the request lacks is its own reason, not a missing signature.
    pub(super) fn render<'a>(
        &self,
        headers: &HeaderMap,
        body: &'a [u8],
        timestamp: Option<&str>,
        id: Option<&str>,
        url: Option<&str>,
    ) -> Result<Cow<'a, [u8]>, VerifyError> {
        if let [Part::Body] = self.0.as_slice() {
            return Ok(Cow::Borrowed(body));
        }
        let mut out = Vec::with_capacity(body.len() + 64);
        for part in &self.0 {
            match part {
                Part::Literal(l) => out.extend_from_slice(l),
                Part::Body => out.extend_from_slice(body),
                Part::BodySha256 => {
                    out.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(body))
                }
                Part::Method => out.extend_from_slice(b"POST"),
                Part::Header(name) => {
                    let v = headers.get(name).ok_or(VerifyError::MissingSignedHeader)?;
                    out.extend_from_slice(v.as_bytes());
                }
                Part::Timestamp => {
                    out.extend_from_slice(timestamp.ok_or(VerifyError::BadTimestamp)?.as_bytes())
                }
                Part::Id => {
                    out.extend_from_slice(id.ok_or(VerifyError::MissingSignedHeader)?.as_bytes())
                }
                Part::Url => {
                    out.extend_from_slice(url.ok_or(VerifyError::MissingSignedHeader)?.as_bytes())
                }
            }
        }
        Ok(Cow::Owned(out))
    }
}
