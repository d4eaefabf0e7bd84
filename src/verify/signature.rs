//! HMAC signature schemes declared by mapping files: what is signed, how the
//! signature header is encoded, and the constant-time check against every secret.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::{Secret, VerifyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

/// One piece of the signed-content template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Body,
    Header(http::HeaderName),
}

/// A compiled HMAC scheme: everything parsed at start-up so a request costs one
/// header lookup, one MAC per secret and one constant-time compare per candidate.
#[derive(Debug, Clone)]
pub struct HmacScheme {
    algorithm: Algorithm,
    headers: Vec<http::HeaderName>,
    encodings: Vec<Encoding>,
    prefix: Option<String>,
    prefix_optional: bool,
    template: Vec<Part>,
}

/// The declarative form of an HMAC scheme, as written in a mapping file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    pub algorithm: Algorithm,
    /// Candidate header names, tried in order; the first present is used.
    pub headers: Vec<String>,
    #[serde(default = "default_encodings")]
    pub encodings: Vec<Encoding>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub prefix_optional: bool,
    /// What is signed: `{body}` (the raw body, default) and `{header:Name}` placeholders.
    #[serde(default = "default_signed")]
    pub signed: String,
}

fn default_encodings() -> Vec<Encoding> {
    vec![Encoding::Hex]
}

fn default_signed() -> String {
    "{body}".to_owned()
}

/// A scheme declaration that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    #[error("no signature header named")]
    NoHeaders,
    #[error("no encoding named")]
    NoEncodings,
    #[error("signed-content template `{template}`: {reason}")]
    Template { template: String, reason: String },
}

impl HmacScheme {
    pub fn compile(spec: &HmacSpec) -> Result<Self, SchemeError> {
        if spec.headers.is_empty() {
            return Err(SchemeError::NoHeaders);
        }
        if spec.encodings.is_empty() {
            return Err(SchemeError::NoEncodings);
        }
        let headers = spec
            .headers
            .iter()
            .map(|h| {
                http::HeaderName::try_from(h.as_str())
                    .map_err(|_| SchemeError::HeaderName(h.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            algorithm: spec.algorithm,
            headers,
            encodings: spec.encodings.clone(),
            prefix: spec.prefix.clone().filter(|p| !p.is_empty()),
            prefix_optional: spec.prefix_optional,
            template: parse_template(&spec.signed)?,
        })
    }

    /// The name of the header the provider puts its signature in (the first candidate).
    pub fn header_name(&self) -> &http::HeaderName {
        &self.headers[0]
    }

    fn signed_content<'a>(
        &self,
        headers: &HeaderMap,
        body: &'a [u8],
    ) -> Result<std::borrow::Cow<'a, [u8]>, VerifyError> {
        if let [Part::Body] = self.template.as_slice() {
            return Ok(std::borrow::Cow::Borrowed(body));
        }
        let mut out = Vec::with_capacity(body.len() + 64);
        for part in &self.template {
            match part {
                Part::Literal(l) => out.extend_from_slice(l),
                Part::Body => out.extend_from_slice(body),
                Part::Header(name) => {
                    let v = headers.get(name).ok_or(VerifyError::MissingSignature)?;
                    out.extend_from_slice(v.as_bytes());
                }
            }
        }
        Ok(std::borrow::Cow::Owned(out))
    }

    fn mac(&self, key: &[u8], content: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], content: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so this cannot fail.
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(content);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self.algorithm {
            Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, content),
            Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, content),
            Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, content),
        }
    }

    fn mac_len(&self) -> usize {
        match self.algorithm {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    /// Decodes the header value into candidate MACs, one per accepted encoding that
    /// yields a value of the right length. Never panics on hostile input.
    fn candidates(&self, raw: &str) -> Result<Vec<Vec<u8>>, VerifyError> {
        let mut value = raw.trim();
        if let Some(prefix) = &self.prefix {
            match value.strip_prefix(prefix.as_str()) {
                Some(rest) => value = rest,
                None if self.prefix_optional => {}
                None => return Err(VerifyError::MalformedSignature),
            }
        }
        // Bounded work: a valid signature is at most 128 hex characters.
        if value.is_empty() || value.len() > 256 {
            return Err(VerifyError::MalformedSignature);
        }
        let want = self.mac_len();
        let out: Vec<Vec<u8>> = self
            .encodings
            .iter()
            .filter_map(|enc| match enc {
                Encoding::Hex => hex::decode(value).ok(),
                Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
            })
            .filter(|d| d.len() == want)
            .collect();
        if out.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        Ok(out)
    }

    /// Checks the request against every secret; any match passes (key rotation).
    pub fn verify(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let raw = self
            .headers
            .iter()
            .find_map(|h| headers.get(h))
            .ok_or(VerifyError::MissingSignature)?;
        let raw = raw.to_str().map_err(|_| VerifyError::MalformedSignature)?;
        let candidates = self.candidates(raw)?;
        let content = self.signed_content(headers, body)?;
        let mut ok = subtle::Choice::from(0u8);
        for secret in secrets {
            let expected = self.mac(secret.expose(), &content);
            for c in &candidates {
                use subtle::ConstantTimeEq;
                ok |= expected.as_slice().ct_eq(c.as_slice());
            }
        }
        if bool::from(ok) {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    /// Signs a delivery exactly as the provider would: the header name and value,
    /// using the first encoding and the prefix when the scheme has one.
    pub fn sign(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
    ) -> (http::HeaderName, String) {
        let content = self
            .signed_content(headers, body)
            .unwrap_or(std::borrow::Cow::Borrowed(body));
        let mac = self.mac(secret.expose(), &content);
        let encoded = match self.encodings.first() {
            Some(Encoding::Base64) => base64::engine::general_purpose::STANDARD.encode(&mac),
            _ => hex::encode(&mac),
        };
        let value = format!("{}{encoded}", self.prefix.as_deref().unwrap_or(""));
        (self.headers[0].clone(), value)
    }
}

fn parse_template(t: &str) -> Result<Vec<Part>, SchemeError> {
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
        if name == "body" {
            parts.push(Part::Body);
        } else if let Some(h) = name.strip_prefix("header:") {
            let h = http::HeaderName::try_from(h).map_err(|_| err("invalid header name"))?;
            parts.push(Part::Header(h));
        } else {
            return Err(err("placeholders are {body} and {header:Name}"));
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.as_bytes().to_vec()));
    }
    if !parts.contains(&Part::Body) {
        return Err(err("the template must include {body}"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(
        alg: Algorithm,
        prefix: Option<&str>,
        optional: bool,
        enc: Vec<Encoding>,
    ) -> HmacScheme {
        HmacScheme::compile(&HmacSpec {
            algorithm: alg,
            headers: vec!["X-Sig".into(), "X-Sig-Alt".into()],
            encodings: enc,
            prefix: prefix.map(str::to_owned),
            prefix_optional: optional,
            signed: "{body}".into(),
        })
        .expect("valid scheme")
    }

    fn headers(name: &str, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::HeaderName::try_from(name).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
        h
    }

    // Independent vector: RFC 4231 test case 2 (key "Jefe").
    #[test]
    fn rfc4231_vector() {
        let s = scheme(Algorithm::Sha256, None, false, vec![Encoding::Hex]);
        let sig = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let h = headers("x-sig", sig);
        let body = b"what do ya want for nothing?";
        assert!(s.verify(&[Secret::new("Jefe")], &h, body).is_ok());
        assert!(matches!(
            s.verify(&[Secret::new("jefe")], &h, body),
            Err(VerifyError::SignatureMismatch)
        ));
    }

    #[test]
    fn rotation_prefix_alt_header_and_base64() {
        let s = scheme(
            Algorithm::Sha256,
            Some("sha256="),
            true,
            vec![Encoding::Hex, Encoding::Base64],
        );
        let new = Secret::new("new");
        let old = Secret::new("old");
        let body = b"{\"a\":1}";
        let (_, v) = s.sign(&old, &HeaderMap::new(), body);
        assert!(v.starts_with("sha256="));
        // Accepted under the alternate header name, with either secret listed first.
        let h = headers("x-sig-alt", &v);
        assert!(s.verify(&[new.clone(), old.clone()], &h, body).is_ok());
        // Without the optional prefix.
        let h = headers("x-sig", v.trim_start_matches("sha256="));
        assert!(s.verify(std::slice::from_ref(&old), &h, body).is_ok());
        // Base64 of the same MAC.
        let raw = hex::decode(v.trim_start_matches("sha256=")).expect("hex");
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        assert!(s
            .verify(std::slice::from_ref(&old), &headers("x-sig", &b64), body)
            .is_ok());
        // Tampered body.
        assert!(s
            .verify(&[old], &headers("x-sig", &v), b"{\"a\":2}")
            .is_err());
    }

    #[test]
    fn hostile_headers() {
        let s = scheme(
            Algorithm::Sha256,
            Some("sha256="),
            false,
            vec![Encoding::Hex],
        );
        let body = b"x";
        let k = [Secret::new("k")];
        assert!(matches!(
            s.verify(&k, &HeaderMap::new(), body),
            Err(VerifyError::MissingSignature)
        ));
        for bad in [
            "",
            "sha256=",
            "sha256=zz",
            "deadbeef",
            "sha256=abc",
            &"a".repeat(5000),
        ] {
            let r = s.verify(&k, &headers("x-sig", bad), body);
            assert!(
                matches!(r, Err(VerifyError::MalformedSignature)),
                "{bad:?} gave {r:?}"
            );
        }
        // A SHA-1 signature offered to a SHA-256 scheme is the wrong length.
        let sha1 = scheme(Algorithm::Sha1, Some("sha256="), false, vec![Encoding::Hex]);
        let (_, v) = sha1.sign(&k[0], &HeaderMap::new(), body);
        assert!(matches!(
            s.verify(&k, &headers("x-sig", &v), body),
            Err(VerifyError::MalformedSignature)
        ));
    }

    #[test]
    fn templates() {
        assert!(parse_template("{timestamp}.{body}").is_err());
        assert!(parse_template("v0:{header:X-Ts}").is_err());
        let p = parse_template("v0:{header:X-Ts}:{body}").expect("template");
        assert_eq!(p.len(), 4);
        let s = HmacScheme::compile(&HmacSpec {
            algorithm: Algorithm::Sha256,
            headers: vec!["x-sig".into()],
            encodings: vec![Encoding::Hex],
            prefix: None,
            prefix_optional: false,
            signed: "v0:{header:X-Ts}:{body}".into(),
        })
        .expect("scheme");
        let mut h = headers("x-ts", "123");
        let k = Secret::new("k");
        let (name, v) = s.sign(&k, &h, b"b");
        h.insert(name, http::HeaderValue::from_str(&v).expect("v"));
        assert!(s.verify(std::slice::from_ref(&k), &h, b"b").is_ok());
        h.insert("x-ts", http::HeaderValue::from_static("124"));
        assert!(s.verify(&[k], &h, b"b").is_err());
    }
}
