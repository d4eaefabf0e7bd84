//! Ways in for providers that do not sign: HTTP basic auth and source-address lists.

use std::net::IpAddr;

use base64::Engine as _;
use http::HeaderMap;
use ipnet::IpNet;

use super::{Secret, VerifyError};

/// Expected basic-auth credentials.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

impl BasicAuth {
    pub fn check(&self, headers: &HeaderMap) -> Result<(), VerifyError> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(VerifyError::BadCredentials)?;
        let (scheme, encoded) = value.split_once(' ').ok_or(VerifyError::BadCredentials)?;
        if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1024 {
            return Err(VerifyError::BadCredentials);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| VerifyError::BadCredentials)?;
        let colon = decoded
            .iter()
            .position(|b| *b == b':')
            .ok_or(VerifyError::BadCredentials)?;
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        // Evaluate both comparisons so timing does not tell which one failed.
        let user_ok = Secret::new(self.username.as_bytes()).ct_eq(user);
        let pass_ok = self.password.ct_eq(pass);
        if user_ok & pass_ok {
            Ok(())
        } else {
            Err(VerifyError::BadCredentials)
        }
    }
}

/// Networks a source's deliveries may come from (the TCP peer address).
#[derive(Debug, Clone)]
pub struct IpAllowList(Vec<IpNet>);

impl IpAllowList {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, v.parse().expect("value"));
        h
    }

    #[test]
    fn basic_auth() {
        let b = BasicAuth {
            username: "magalu".into(),
            password: Secret::new("s3cret"),
        };
        let good = base64::engine::general_purpose::STANDARD.encode("magalu:s3cret");
        assert!(b.check(&with_auth(&format!("Basic {good}"))).is_ok());
        let bad = base64::engine::general_purpose::STANDARD.encode("magalu:s3cre");
        for v in [
            format!("Basic {bad}"),
            "Basic !!!".into(),
            "Bearer x".into(),
            "Basic".into(),
        ] {
            assert!(b.check(&with_auth(&v)).is_err(), "{v}");
        }
        assert!(b.check(&HeaderMap::new()).is_err());
    }

    #[test]
    fn mapped_v4() {
        let l = IpAllowList::new(vec!["10.0.0.0/8".parse().expect("net")]);
        assert!(l.contains("::ffff:10.1.2.3".parse().expect("ip")));
        assert!(!l.contains("::1".parse().expect("ip")));
    }
}
