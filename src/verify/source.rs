//! A source's authentication: every check it requires (signatures under its
//! provider's schemes, URL token, basic auth, addresses), configured once.

use std::time::SystemTime;

use http::HeaderMap;

use super::access::{BasicAuth, IpAllowList};
use super::content::Signed;
use super::error::VerifyError;
use super::keys::Keys;
use super::scheme::Scheme;
use super::signer::Signer;
use crate::secret::Secret;

/// Every check a source requires; all configured checks must pass.
#[derive(Debug, Clone, Default)]
pub struct SourceAuth {
    /// The provider's schemes this source has keys for; a delivery passes when
    /// one of them verifies (a provider with both HMAC and Ed25519 signatures).
    pub signatures: Vec<(Scheme, Keys)>,
    /// A secret path segment: `/webhooks/{source}/{token}`.
    pub token: Option<Secret>,
    pub basic: Option<BasicAuth>,
    pub allow: Option<IpAllowList>,
    /// The URL the provider posts to, as it sees it (behind a load balancer it
    /// differs from what hookgate sees): for schemes that sign the URL.
    pub public_url: Option<String>,
}

impl SourceAuth {
    /// No check at all: a source configured with `allow_unauthenticated = true`,
    /// and the offline tools (`check`, `map`, the load generator), which deliver
    /// nothing. The one explicit way to a [`Verified`] without a credential.
    pub fn open() -> Self {
        Self::default()
    }

    /// Whether a check that needs no body (address, URL token, basic auth) stands
    /// before the body is read.
    pub fn checks_before_body(&self) -> bool {
        self.token.is_some() || self.basic.is_some() || self.allow.is_some()
    }

    /// True when no check is configured: only allowed with an explicit opt-in.
    pub fn is_open(&self) -> bool {
        self.signatures.is_empty()
            && self.token.is_none()
            && self.basic.is_none()
            && self.allow.is_none()
    }

    /// Whether a signature covers the body (so a kept record can be verified again).
    pub fn signs_body(&self) -> bool {
        self.signatures.iter().any(|(s, _)| s.signs_body())
    }

    /// Whether the keys of every published-key scheme are loaded (asking starts
    /// a fetch for those that are due). A source without them answers 503.
    pub fn keys_ready(&self) -> bool {
        let mut ready = true;
        for (_, keys) in &self.signatures {
            if let Keys::Published(k) = keys {
                ready &= k.ready();
            }
        }
        ready
    }

    /// Before the signature check: lets each published-key scheme's store fetch
    /// what this request's token needs (a first set, or one refetch for a key id
    /// it does not know), within the store's limits.
    pub async fn prepare_keys(&self, headers: &HeaderMap) {
        for (scheme, keys) in &self.signatures {
            if let (Scheme::Published(p), Keys::Published(k)) = (scheme, keys) {
                k.prepare(p.token_kid(headers).as_deref()).await;
            }
        }
    }

    /// The URL a request was posted to, as the provider saw it.
    pub(super) fn url(&self, query: Option<&str>) -> Option<String> {
        let base = self.public_url.as_deref()?;
        Some(match query.filter(|q| !q.is_empty()) {
            Some(q) => format!("{base}?{q}"),
            None => base.to_owned(),
        })
    }

    /// The signature checks: one of the source's schemes must verify. The error of
    /// the first scheme is the one answered, unless it only says the token's key is
    /// another scheme's (unknown or not loaded): then the first that says more. On
    /// success: the signed identity (see [`Scheme::signed_identity`]) and the secret
    /// that matched, if any.
    pub(super) fn verify_signatures(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        query: Option<&str>,
        now: SystemTime,
        window: bool,
    ) -> Result<(Option<[u8; 32]>, Option<Signer>), VerifyError> {
        let url = self.url(query);
        let req = Signed {
            headers,
            body,
            url: url.as_deref(),
        };
        let mut errors = Vec::new();
        for (scheme, keys) in &self.signatures {
            match scheme.verify(keys, req, now, window) {
                Ok(()) => {
                    let signer = Self::signer(scheme, keys, req, now, window);
                    return Ok((scheme.signed_identity(req), signer));
                }
                Err(e) => errors.push(e),
            }
        }
        let not_this_set =
            |e: &VerifyError| matches!(e, VerifyError::UnknownKey | VerifyError::KeysUnavailable);
        let pick = errors
            .iter()
            .find(|e| !not_this_set(e))
            .or_else(|| errors.iter().find(|e| e.is_unavailable()))
            .or(errors.first());
        pick.map_or(Ok((None, None)), |e| Err(*e))
    }

    /// Which of the secrets verified a request `scheme` accepted: the only one, or,
    /// during a rotation, the one that verifies alone (checked again key by key:
    /// the request is already verified, so nothing here is secret-dependent timing
    /// an outsider can use).
    fn signer(
        scheme: &Scheme,
        keys: &Keys,
        req: Signed<'_>,
        now: SystemTime,
        window: bool,
    ) -> Option<Signer> {
        let Keys::Secrets(secrets) = keys else {
            return None;
        };
        match secrets.as_slice() {
            [one] => Some(Signer::new(one.clone())),
            many => many
                .iter()
                .find(|s| {
                    scheme
                        .verify(&Keys::Secrets(vec![(*s).clone()]), req, now, window)
                        .is_ok()
                })
                .map(|s| Signer::new(s.clone())),
        }
    }
}
