//! Twilio's request signature: `X-Twilio-Signature` = base64 HMAC-SHA1, keyed with
//! the account's auth token, over the URL as Twilio requested it followed by every
//! POST parameter sorted by name (`name` + `value`, no separators; a repeated name
//! gives its distinct values sorted). A JSON body is signed through the URL's
//! `bodySHA256` parameter instead. Behind a load balancer the URL Twilio saw is not
//! the one hookgate sees: the source's `public_url` says it.
//!
//! With no separators, the scheme cannot tell `Body=ab&From=c` from `Body=abFromc`,
//! and the SDKs' de-duplication makes `Body=x&Body=x` sign as one `Body=x`. A name
//! Twilio does not repeat is refused when repeated (`repeatable` lists the names
//! that may); a moved boundary is the mapping's to catch (`requires`).

use hmac::Mac;
use http::{HeaderMap, HeaderName};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::{Secret, VerifyError};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioSpec {
    #[serde(default = "default_header")]
    pub header: String,
    /// Form fields Twilio may send more than once; any other name repeated is
    /// refused (`repeated_field`).
    #[serde(default = "default_repeatable")]
    pub repeatable: Vec<String>,
}

fn default_header() -> String {
    "X-Twilio-Signature".to_owned()
}

/// The one name Twilio's own posts are known to repeat: a Conversations webhook for a
/// group MMS lists each participant's `MessagingBinding.Address` (twilio-node#722).
/// Messaging's incoming-message and status webhooks repeat none.
fn default_repeatable() -> Vec<String> {
    vec!["MessagingBinding.Address".to_owned()]
}

#[derive(Debug, Clone)]
pub struct TwilioScheme {
    header: HeaderName,
    repeatable: Vec<String>,
}

/// The SHA-1 MAC's length.
const MAC_LEN: usize = 20;

impl TwilioScheme {
    pub fn compile(spec: &TwilioSpec) -> Result<Self, String> {
        Ok(Self {
            header: HeaderName::try_from(spec.header.as_str())
                .map_err(|_| format!("invalid header name `{}`", spec.header))?,
            repeatable: spec.repeatable.clone(),
        })
    }

    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// What is signed, after the URL: the sorted form parameters, or nothing for a
    /// JSON body (whose hash must then be the URL's `bodySHA256`). A name outside
    /// `repeatable` given twice is refused: Twilio never sends it so, and each variant
    /// would otherwise verify as a new body.
    fn params(&self, headers: &HeaderMap, url: &str, body: &[u8]) -> Result<String, VerifyError> {
        if let Some(claimed) = query_param(url, "bodySHA256") {
            let actual = hex::encode(sha2::Sha256::digest(body));
            return if Secret::new(actual.as_bytes()).ct_eq(claimed.to_ascii_lowercase().as_bytes())
            {
                Ok(String::new())
            } else {
                Err(VerifyError::BodyHashMismatch)
            };
        }
        if body.is_empty() && !crate::form::is_form(headers.get(http::header::CONTENT_TYPE)) {
            return Ok(String::new());
        }
        let mut pairs = crate::form::parse(body).map_err(|_| VerifyError::MalformedBody)?;
        pairs.sort();
        let repeated = pairs
            .windows(2)
            .any(|w| w[0].0 == w[1].0 && !self.repeatable.contains(&w[0].0));
        if repeated {
            return Err(VerifyError::RepeatedField);
        }
        pairs.dedup();
        Ok(pairs.into_iter().map(|(k, v)| k + &v).collect())
    }

    /// The string the signature is computed over for `url` as given: the same for
    /// every body that verifies under one signature.
    pub fn signed_content(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        url: &str,
    ) -> Result<String, VerifyError> {
        Ok(format!("{url}{}", self.params(headers, url, body)?))
    }

    /// Checks the signature against every auth token (rotation) and the URL
    /// variants Twilio's own libraries accept: as given, without its port, and with
    /// the scheme's default port.
    pub fn verify(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        url: &str,
    ) -> Result<(), VerifyError> {
        let given = headers
            .get(&self.header)
            .ok_or(VerifyError::MissingSignature)?
            .to_str()
            .map_err(|_| VerifyError::MalformedSignature)?;
        use base64::Engine as _;
        let given = base64::engine::general_purpose::STANDARD
            .decode(given.trim())
            .ok()
            .filter(|g| g.len() == MAC_LEN)
            .ok_or(VerifyError::MalformedSignature)?;
        let params = self.params(headers, url, body)?;
        let mut ok = subtle::Choice::from(0u8);
        for candidate in url_variants(url) {
            let signed = format!("{candidate}{params}");
            for secret in secrets {
                use subtle::ConstantTimeEq;
                ok |= mac(secret, &signed).as_slice().ct_eq(&given);
            }
        }
        if bool::from(ok) {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    /// The header Twilio would send for `body` posted to `url`.
    pub fn sign(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        url: &str,
    ) -> (HeaderName, String) {
        use base64::Engine as _;
        let params = self.params(headers, url, body).unwrap_or_default();
        let sig = mac(secret, &format!("{url}{params}"));
        (
            self.header.clone(),
            base64::engine::general_purpose::STANDARD.encode(sig),
        )
    }
}

fn mac(secret: &Secret, signed: &str) -> Vec<u8> {
    match hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.expose()) {
        Ok(mut m) => {
            m.update(signed.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// A query parameter's raw value.
fn query_param<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The URL as given, without its port, and with the scheme's default port.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // An IPv6 host keeps its colons inside brackets.
    let port_at = match hostport.rfind(']') {
        Some(bracket) => hostport[bracket..].find(':').map(|i| bracket + i),
        None => hostport.rfind(':'),
    };
    let host = port_at.map_or(hostport, |i| &hostport[..i]);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return out,
    };
    if port_at.is_some() {
        out.push(format!("{scheme}://{userinfo}{host}{tail}"));
    } else {
        out.push(format!("{scheme}://{userinfo}{host}:{default}{tail}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn form() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        h
    }

    fn with_sig(sig: &str) -> HeaderMap {
        let mut h = form();
        h.insert(
            "x-twilio-signature",
            sig.parse().unwrap_or_else(|_| unreachable!()),
        );
        h
    }

    fn scheme() -> TwilioScheme {
        TwilioScheme::compile(&TwilioSpec {
            header: default_header(),
            repeatable: default_repeatable(),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The SDKs' repeated-name vector uses `Digits`, which Twilio's messaging posts
    /// never repeat: checked with a scheme that allows it.
    fn digits_repeatable() -> TwilioScheme {
        TwilioScheme::compile(&TwilioSpec {
            header: default_header(),
            repeatable: vec!["Digits".to_owned()],
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    const SDK_BODY: &[u8] =
        b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";

    /// twilio-python `tests/unit/test_request_validator.py` and twilio-node
    /// `spec/validation.spec.js`: auth token 12345.
    #[test]
    fn the_sdks_published_vectors() {
        let s = scheme();
        let key = [Secret::new("12345")];
        assert_eq!(
            s.verify(
                &key,
                &with_sig("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
                SDK_BODY,
                URL
            ),
            Ok(())
        );
        // The docs' worked example.
        let docs = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
        assert_eq!(
            s.verify(&key, &with_sig("0/KCTR6DLpKmkAf8muzZqo1nDgQ="), docs, URL),
            Ok(())
        );
        // Repeated keys: distinct values, sorted; refused unless the name may repeat.
        let dup = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
        assert_eq!(
            digits_repeatable().verify(&key, &with_sig("IK+Dwps556ElfBT0I3Rgjkr1wJU="), dup, URL),
            Ok(())
        );
        assert_eq!(
            s.verify(&key, &with_sig("IK+Dwps556ElfBT0I3Rgjkr1wJU="), dup, URL),
            Err(VerifyError::RepeatedField)
        );
        // Ports: Twilio signed without, we were configured with (and the reverse).
        assert_eq!(
            s.verify(
                &key,
                &with_sig("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
                SDK_BODY,
                "https://mycompany.com:1234/myapp.php?foo=1&bar=2"
            ),
            Ok(())
        );
        assert_eq!(
            s.verify(
                &key,
                &with_sig("kvajT1Ptam85bY51eRf/AJRuM3w="),
                SDK_BODY,
                URL
            ),
            Ok(())
        );
        // A JSON body, signed through bodySHA256.
        let json = br#"{"property": "value", "boolean": true}"#;
        let json_url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(
            s.verify(
                &key,
                &with_sig("a9nBmqA0ju/hNViExpshrM61xv4="),
                json,
                json_url
            ),
            Ok(())
        );
        assert_eq!(
            s.verify(
                &key,
                &with_sig("a9nBmqA0ju/hNViExpshrM61xv4="),
                b"{}",
                json_url
            ),
            Err(VerifyError::BodyHashMismatch)
        );
    }

    #[test]
    fn another_url_another_token_or_a_tampered_body_fail() {
        let s = scheme();
        let key = [Secret::new("12345")];
        let good = with_sig("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_eq!(
            s.verify(
                &key,
                &good,
                SDK_BODY,
                "https://mycompany.com/other.php?foo=1&bar=2"
            ),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            s.verify(&[Secret::new("54321")], &good, SDK_BODY, URL),
            Err(VerifyError::SignatureMismatch)
        );
        let tampered = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=9999&From=%2B14158675309&To=%2B18005551212";
        assert_eq!(
            s.verify(&key, &good, tampered, URL),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            s.verify(&key, &good, b"Body=%zz", URL),
            Err(VerifyError::MalformedBody)
        );
        assert_eq!(
            s.verify(&key, &with_sig("not base64!"), SDK_BODY, URL),
            Err(VerifyError::MalformedSignature)
        );
        assert_eq!(
            s.verify(&key, &form(), SDK_BODY, URL),
            Err(VerifyError::MissingSignature)
        );
        // What `sign` makes verifies.
        let (name, value) = s.sign(&key[0], &form(), SDK_BODY, URL);
        let mut h = form();
        h.insert(name, value.parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(s.verify(&key, &h, SDK_BODY, URL), Ok(()));
    }

    #[test]
    fn url_variants_strip_or_add_the_port() {
        assert_eq!(
            url_variants("https://u:p@h.example:8443/x?y=1"),
            [
                "https://u:p@h.example:8443/x?y=1",
                "https://u:p@h.example/x?y=1"
            ]
        );
        assert_eq!(
            url_variants("http://h.example/x"),
            ["http://h.example/x", "http://h.example:80/x"]
        );
        assert_eq!(
            url_variants("https://[::1]:9000/x"),
            ["https://[::1]:9000/x", "https://[::1]/x"]
        );
    }
}
