//! The request typestate: a [`RequestHead`] is admitted by the checks that need
//! no body, and an [`Admitted`] request becomes [`Verified`] only through its
//! signature check; a kept delivery ([`Unverified`]) is verified again for replay.
//! Every constructor of a `Verified` is in this file.

use std::net::IpAddr;
use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderMap;

use super::error::{ReverifyError, VerifyError};
use super::keys::Keys;
use super::scheme::Scheme;
use super::signer::Signer;
use super::source::SourceAuth;

/// What arrives before the body: enough for the checks that need no body.
#[derive(Debug)]
pub struct RequestHead {
    pub headers: HeaderMap,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
    /// The raw query string (for schemes that sign the URL).
    pub query: Option<String>,
}

/// A request whose body-free checks passed (address, URL token, basic auth): its
/// body may now be read. Only [`RequestHead::admit`] makes one.
#[derive(Debug)]
pub struct Admitted {
    headers: HeaderMap,
    query: Option<String>,
}

/// A request as received, body included: nothing about it is trusted yet.
#[derive(Debug)]
pub struct Unverified {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
    pub query: Option<String>,
}

/// A request that passed every check its source requires. Only
/// [`Admitted::verify`] makes one (directly, or through [`Unverified::verify`]);
/// its fields are private, so no other module can assemble one. Holding a
/// `Verified` proves the source's checks passed, with one explicit exception:
/// against [`SourceAuth::open`] (an `allow_unauthenticated` source, or an offline
/// tool) there are none to pass.
#[derive(Debug)]
pub struct Verified {
    headers: HeaderMap,
    body: Bytes,
    query: Option<String>,
    /// The hash of what the signature covers, for schemes under which many bodies
    /// carry one signature (Twilio's separator-free form fields).
    identity: Option<[u8; 32]>,
    /// The secret the delivery was verified with (none for an open source or a
    /// public-key scheme).
    signer: Option<Signer>,
}

impl Verified {
    /// The secret this delivery was verified with, to answer a challenge computed
    /// from it.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The raw query string it was posted with.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// What identifies this delivery as the provider signed it, when that is not
    /// the body byte for byte: every variant of one signed delivery (fields moved
    /// across a boundary, reordered, encoded otherwise) has the same identity, so a
    /// dead letter made from any of them is a duplicate of the first.
    pub fn signed_identity(&self) -> Option<&[u8; 32]> {
        self.identity.as_ref()
    }
}

impl RequestHead {
    /// The checks that need no body, cheapest first. Run before a byte of the body
    /// is read, so a request without the right token or address costs nothing.
    pub fn admit(self, auth: &SourceAuth) -> Result<Admitted, VerifyError> {
        if let Some(allow) = &auth.allow {
            match self.peer {
                Some(ip) if allow.contains(ip) => {}
                _ => return Err(VerifyError::AddressNotAllowed),
            }
        }
        match (&auth.token, &self.path_token) {
            (Some(expected), Some(given)) if expected.ct_eq(given.as_bytes()) => {}
            (Some(_), _) => return Err(VerifyError::BadToken),
            // A token on a source that has none is a misconfigured sender: refuse it
            // rather than silently ignore a credential we cannot check.
            (None, Some(_)) => return Err(VerifyError::BadToken),
            (None, None) => {}
        }
        if let Some(basic) = &auth.basic {
            basic.check(&self.headers)?;
        }
        Ok(Admitted {
            headers: self.headers,
            query: self.query,
        })
    }
}

impl Admitted {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The signature check, on the raw body.
    pub fn verify(self, body: Bytes, auth: &SourceAuth) -> Result<Verified, VerifyError> {
        self.verify_at(body, auth, SystemTime::now())
    }

    /// As [`Admitted::verify`], with the clock the replay window is checked against.
    pub fn verify_at(
        self,
        body: Bytes,
        auth: &SourceAuth,
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let (identity, signer) =
            auth.verify_signatures(&self.headers, &body, self.query.as_deref(), now, true)?;
        Ok(Verified {
            headers: self.headers,
            body,
            query: self.query,
            identity,
            signer,
        })
    }
}

impl Unverified {
    /// Verifies a kept delivery again (a dead letter, for replay): its signature
    /// against the source's current keys, without the replay window (its
    /// timestamp is old by design; its signature never is). A source that does not
    /// sign the body cannot be verified from what was kept: only with
    /// `trust_unsigned`, the operator's explicit word.
    pub fn reverify(
        self,
        auth: &SourceAuth,
        trust_unsigned: bool,
    ) -> Result<Verified, ReverifyError> {
        let (mut identity, mut signer) = (None, None);
        if auth.signs_body() {
            let signing: Vec<(Scheme, Keys)> = auth
                .signatures
                .iter()
                .filter(|(s, _)| s.signs_body())
                .cloned()
                .collect();
            let signed = SourceAuth {
                signatures: signing,
                ..auth.clone()
            };
            (identity, signer) = signed
                .verify_signatures(
                    &self.headers,
                    &self.body,
                    self.query.as_deref(),
                    SystemTime::now(),
                    false,
                )
                .map_err(ReverifyError::Failed)?;
        } else if !trust_unsigned {
            return Err(ReverifyError::Unsigned);
        }
        Ok(Verified {
            headers: self.headers,
            body: self.body,
            query: self.query,
            identity,
            signer,
        })
    }

    pub fn verify(self, auth: &SourceAuth) -> Result<Verified, VerifyError> {
        self.verify_at(auth, SystemTime::now())
    }

    /// As [`Unverified::verify`], with the clock the replay window is checked against.
    pub fn verify_at(self, auth: &SourceAuth, now: SystemTime) -> Result<Verified, VerifyError> {
        let head = RequestHead {
            headers: self.headers,
            peer: self.peer,
            path_token: self.path_token,
            query: self.query,
        };
        head.admit(auth)?.verify_at(self.body, auth, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::verify::IpAllowList;

    fn req(token: Option<&str>, peer: Option<&str>) -> Unverified {
        Unverified {
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"{}"),
            peer: peer.map(|p| p.parse().expect("ip")),
            path_token: token.map(str::to_owned),
            query: None,
        }
    }

    #[test]
    fn open_source_passes_and_token_source_checks_token() {
        assert!(req(None, None).verify(&SourceAuth::default()).is_ok());
        let auth = SourceAuth {
            token: Some(Secret::new("t0ken")),
            ..Default::default()
        };
        assert!(req(Some("t0ken"), None).verify(&auth).is_ok());
        assert_eq!(
            req(Some("t0ke"), None).verify(&auth).err(),
            Some(VerifyError::BadToken)
        );
        assert_eq!(
            req(None, None).verify(&auth).err(),
            Some(VerifyError::BadToken)
        );
        assert_eq!(
            req(Some("x"), None).verify(&SourceAuth::default()).err(),
            Some(VerifyError::BadToken)
        );
    }

    #[test]
    fn allow_list() {
        let auth = SourceAuth {
            allow: Some(IpAllowList::new(vec!["174.138.104.128/32"
                .parse()
                .expect("net")])),
            ..Default::default()
        };
        assert!(req(None, Some("174.138.104.128")).verify(&auth).is_ok());
        assert_eq!(
            req(None, Some("174.138.104.129")).verify(&auth).err(),
            Some(VerifyError::AddressNotAllowed)
        );
        assert_eq!(
            req(None, None).verify(&auth).err(),
            Some(VerifyError::AddressNotAllowed)
        );
    }
}
