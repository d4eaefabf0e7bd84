//! Provider-side signing: the headers a provider would send for a body, used by
//! `hookgate send`, the load generator and the property tests.

use std::time::SystemTime;

use http::{HeaderMap, HeaderName};

use super::scheme::SignedScheme;
use crate::secret::Secret;

impl SignedScheme {
    /// The headers a provider would send for `body` signed with `secret` at `now`:
    /// the signature, and the timestamp and id headers the scheme needs. For
    /// Ed25519 the secret is the 32-byte private key (seed).
    pub fn sign_at(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        url: Option<&str>,
    ) -> Vec<(HeaderName, String)> {
        let ts = self.timestamp_unit.format(now);
        let mut out = Vec::new();
        if let Some(h) = &self.timestamp_header {
            out.push((h.clone(), ts.clone()));
        }
        let id = match &self.id_header {
            Some(h) => {
                let id = Self::header_str(headers, h)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("msg_{}", uuid::Uuid::new_v4().simple()));
                out.push((h.clone(), id.clone()));
                Some(id)
            }
            None => None,
        };
        let timestamp = self.has_timestamp().then_some(ts.as_str());
        let url = url.map(|u| self.url_decode.apply(u));
        let content = self
            .template
            .render(headers, body, timestamp, id.as_deref(), url.as_deref())
            .unwrap_or(std::borrow::Cow::Borrowed(body));
        let mac = self.mac(secret.expose(), &content);
        let value = self.format.render(
            &mac,
            &ts,
            self.versions.first().map(String::as_str).unwrap_or("v1"),
            self.prefix.as_deref().unwrap_or(""),
            &self.encodings,
        );
        out.push((self.headers[0].clone(), value));
        out
    }
}
