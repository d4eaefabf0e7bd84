//! A token signed with the provider's published keys, checked against a given
//! [`KeySet`]: pure (the key store fetches; this file only verifies). The
//! algorithm is the one the scheme allows *and* the key's type fits; the token's
//! `alg` only picks among those, so `none` and an HMAC keyed with the public key
//! are refused before any signature is computed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};
use serde_json::Value;

use super::keyset::{KeySet, PublishedKey};
use super::spec::{algorithm, check_key_url, KeyFormat, PublishedJwtSpec};
use crate::verify::asymmetric::pem;
use crate::verify::bearer::{allowed_algorithms, bearer, token_header};
use crate::verify::error::VerifyError;

/// The leeway on `exp` and `nbf` when the mapping sets none.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The widest leeway a mapping may set.
const MAX_LEEWAY: Duration = Duration::from_secs(600);
/// At most this many keys are tried for a token that names none.
const MAX_CANDIDATES: usize = 8;

/// What a checked claim must equal.
#[derive(Debug, Clone)]
enum Expected {
    Value(Value),
    /// A JSON pointer into the delivery's body.
    Body(String),
}

#[derive(Debug, Clone)]
pub struct PublishedJwtScheme {
    header: HeaderName,
    keys_url: String,
    keys: KeyFormat,
    issuers: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    claims: Vec<(String, Expected)>,
    key_endorsement: Option<String>,
}

fn unix(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn pointer(p: &str, what: &str) -> Result<String, String> {
    if p.starts_with('/') {
        Ok(p.to_owned())
    } else {
        Err(format!(
            "{what} `{p}` must be a JSON pointer into the body (`/serviceUrl`)"
        ))
    }
}

impl PublishedJwtScheme {
    pub fn compile(spec: &PublishedJwtSpec) -> Result<Self, String> {
        check_key_url(&spec.keys_url)?;
        if spec.issuers.is_empty() || spec.issuers.iter().any(String::is_empty) {
            return Err("issuers: name the provider's `iss` (one at least)".to_owned());
        }
        let algorithms = allowed_algorithms(
            &spec.algorithms,
            algorithm,
            "RS256, RS384, RS512, ES256",
            |a| {
                format!(
                    "algorithms: `{a}` is not taken: only signatures by the provider's \
                     private key are (RS256, RS384, RS512, ES256)"
                )
            },
        )?;
        let leeway = match &spec.leeway {
            Some(l) => humantime::parse_duration(l).map_err(|e| format!("leeway: {e}"))?,
            None => DEFAULT_LEEWAY,
        };
        if leeway > MAX_LEEWAY {
            return Err("leeway: at most 10m".to_owned());
        }
        let mut claims = Vec::new();
        for c in &spec.claims {
            let expected = match (&c.equals, &c.equals_body) {
                (Some(v), None) => Expected::Value(v.clone()),
                (None, Some(p)) => Expected::Body(pointer(p, "equals_body")?),
                _ => {
                    return Err(format!(
                        "claims: `{}` needs one of `equals` or `equals_body`",
                        c.claim
                    ))
                }
            };
            claims.push((c.claim.clone(), expected));
        }
        Ok(Self {
            header: HeaderName::try_from(spec.header.as_str())
                .map_err(|_| format!("invalid header name `{}`", spec.header))?,
            keys_url: spec.keys_url.clone(),
            keys: spec.keys,
            issuers: spec.issuers.clone(),
            algorithms,
            leeway,
            claims,
            key_endorsement: spec
                .key_endorsement
                .as_deref()
                .map(|p| pointer(p, "key_endorsement"))
                .transpose()?,
        })
    }

    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// Where the provider publishes its keys, and in what form.
    pub fn keys_url(&self) -> &str {
        &self.keys_url
    }

    pub fn key_format(&self) -> KeyFormat {
        self.keys
    }

    /// The key id a request's token names, read without checking anything: what
    /// the key store needs to know whether to refetch. `None` for no token, or one
    /// naming no key.
    pub fn token_kid(&self, headers: &HeaderMap) -> Option<String> {
        let token = bearer(headers, &self.header).ok()?;
        token_header(token).ok()?.kid
    }

    /// Checks the request's token against `keys`: its signature, then `iss`, `aud`
    /// (one of `audience`), `exp` and `nbf` with the leeway (unless `window` is
    /// false: a kept record), the mapping's claims and the key's endorsements.
    pub fn verify(
        &self,
        keys: &KeySet,
        audience: &[String],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        window: bool,
    ) -> Result<(), VerifyError> {
        let token = bearer(headers, &self.header)?;
        let head = token_header(token)?;
        let alg = algorithm(&head.alg)
            .filter(|a| self.algorithms.contains(a))
            .ok_or(VerifyError::AlgorithmNotAllowed)?;
        let kid = head.kid.as_deref();
        if !keys.knows(kid) {
            return Err(VerifyError::UnknownKey);
        }
        let fitting: Vec<&PublishedKey> = keys
            .candidates(kid)
            .filter(|k| k.kind.fits(alg) && k.alg.is_none_or(|a| a == alg))
            .take(MAX_CANDIDATES)
            .collect();
        if fitting.is_empty() {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let mut found = None;
        for key in fitting {
            match jsonwebtoken::decode::<serde_json::Map<String, Value>>(
                token,
                &key.key,
                &validation,
            ) {
                Ok(data) => {
                    found = Some((key, data.claims));
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                Err(_) => return Err(VerifyError::MalformedSignature),
            }
        }
        let (key, claims) = found.ok_or(VerifyError::SignatureMismatch)?;
        // Checked after the signature, so none of them can be probed unsigned.
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|i| self.issuers.iter().any(|x| x == i)) {
            return Err(VerifyError::WrongIssuer);
        }
        let for_us = |v: &Value| v.as_str().is_some_and(|a| audience.iter().any(|x| x == a));
        let aud_ok = match claims.get("aud") {
            Some(Value::Array(all)) => all.iter().any(for_us),
            Some(one) => for_us(one),
            None => false,
        };
        if !aud_ok {
            return Err(VerifyError::WrongAudience);
        }
        if window {
            self.check_times(&claims, now)?;
        }
        self.check_claims(&claims, key, body)
    }

    fn check_times(
        &self,
        claims: &serde_json::Map<String, Value>,
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let now = unix(now);
        let leeway = self.leeway.as_secs() as i64;
        let time = |k: &str| claims.get(k).and_then(Value::as_f64).map(|t| t as i64);
        let exp = time("exp").ok_or(VerifyError::MalformedSignature)?;
        if now > exp.saturating_add(leeway) {
            return Err(VerifyError::TokenExpired);
        }
        if time("nbf").is_some_and(|nbf| now < nbf.saturating_sub(leeway)) {
            return Err(VerifyError::TokenNotYetValid);
        }
        Ok(())
    }

    fn check_claims(
        &self,
        claims: &serde_json::Map<String, Value>,
        key: &PublishedKey,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let needs_body = self.key_endorsement.is_some()
            || self
                .claims
                .iter()
                .any(|(_, e)| matches!(e, Expected::Body(_)));
        let doc: Value = if needs_body {
            serde_json::from_slice(body).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        for (name, expected) in &self.claims {
            let want = match expected {
                Expected::Value(v) => Some(v),
                Expected::Body(p) => doc.pointer(p),
            };
            match (claims.get(name), want) {
                (Some(got), Some(want)) if got == want => {}
                _ => return Err(VerifyError::ClaimMismatch),
            }
        }
        if let (Some(p), false) = (&self.key_endorsement, key.endorsements.is_empty()) {
            let channel = doc.pointer(p).and_then(Value::as_str);
            if !channel.is_some_and(|c| key.endorsements.iter().any(|e| e == c)) {
                return Err(VerifyError::KeyNotEndorsed);
            }
        }
        Ok(())
    }

    /// A token as the provider would send it for `body` (the claims the mapping
    /// checks, the first issuer, `audience`, an hour's validity from `now`),
    /// signed with a PEM private key (`RSA PRIVATE KEY` for RS256, `PRIVATE KEY`
    /// for ES256): for the fixtures, `hookgate send` and the load generator.
    pub fn sign(
        &self,
        private_pem: &str,
        kid: &str,
        audience: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(HeaderName, String), String> {
        let (label, der) = pem(private_pem)?;
        let (alg, key) = match label.as_str() {
            "RSA PRIVATE KEY" => (Algorithm::RS256, EncodingKey::from_rsa_der(&der)),
            "PRIVATE KEY" => (Algorithm::ES256, EncodingKey::from_ec_der(&der)),
            other => return Err(format!("a `{other}` cannot sign a token")),
        };
        let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let t = unix(now);
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), self.issuers[0].clone().into());
        claims.insert("aud".into(), audience.into());
        claims.insert("iat".into(), t.into());
        claims.insert("nbf".into(), t.into());
        claims.insert("exp".into(), (t + 3600).into());
        for (name, expected) in &self.claims {
            let v = match expected {
                Expected::Value(v) => Some(v),
                Expected::Body(p) => doc.pointer(p),
            };
            if let Some(v) = v {
                claims.insert(name.clone(), v.clone());
            }
        }
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, &key).map_err(|e| format!("signing: {e}"))?;
        Ok((self.header.clone(), format!("Bearer {token}")))
    }
}
