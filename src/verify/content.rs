//! What a signature may cover: the request as received, handed to every scheme.

use http::HeaderMap;

/// What a signature may cover: the request as received.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The URL as the provider saw it: the source's `public_url` and the query.
    pub url: Option<&'a str>,
}
