//! Golden fixture cases: `fixtures/<provider>/<case>/` holds the request as the
//! provider sends it (`headers.json`, `body.*`) and the outcome expected from it
//! (`expected.json`). `hookgate check`, `cargo test` and `hookgate send` use them.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use crate::engine::{Engine, Policy};
use crate::event::{Decision, SourceId};
use crate::mapping::Mapping;
use crate::verify::{
    KeySet, Keys, Kind, PublishedKey, PublishedKeys, Scheme, Secret, SourceAuth, Unverified,
};

/// The secret every signed fixture is signed with.
pub const FIXTURE_SECRET: &str = "hookgate-fixture-secret";

/// The private key every fixture of a public-key (Ed25519) scheme is signed with:
/// RFC 8032's TEST 1 key, so anyone can check the fixtures with any library.
pub const FIXTURE_ED25519_SEED: &str =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// Its public key.
pub const FIXTURE_ED25519_PUBLIC: &str =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/// The key id, audience and RSA key pair every fixture of a published-key scheme
/// (Bot Framework, Google Chat) is signed with: a throwaway test key, published
/// here and in `fixtures/keys/fixture-rsa.pem`, never a provider's.
pub const FIXTURE_KID: &str = "hookgate-fixture";
pub const FIXTURE_AUDIENCE: &str = "hookgate-fixture-audience";
pub const FIXTURE_RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsPA6KUdwUVEtrWx96v5l
YT1Kn2OfpBU4QeNDsihjkl5HA4hXHbMvcJZhUJfjYChSyCfQjeoVpNsdk9IJMQ7M
L/zMFrpjMXcYQBdLsj9QNeSwMPHAIsV3KCAcETmGojq0b32N7b5fnlpA5VjDZ/Yc
f1pZeqhBWqljZHfZ9O4ynslF2O6rquTfUqfUlzlUcYbJQpqJYTMZ4cGzqwnyjaZI
7GCh/NYVHEmNM7jX7I7q83cNxEaug6SLC3cu0Ntc49T8HJvVVe7vcpSS/vI7Dozc
zv1yONpmL49Bk0UAw5KLVE0Xfi2Bjzupsffmggc/4frPCHDdcSluugmJwUBkzeCd
QwIDAQAB
-----END PUBLIC KEY-----";
pub const FIXTURE_RSA_PRIVATE: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAsPA6KUdwUVEtrWx96v5lYT1Kn2OfpBU4QeNDsihjkl5HA4hX
HbMvcJZhUJfjYChSyCfQjeoVpNsdk9IJMQ7ML/zMFrpjMXcYQBdLsj9QNeSwMPHA
IsV3KCAcETmGojq0b32N7b5fnlpA5VjDZ/Ycf1pZeqhBWqljZHfZ9O4ynslF2O6r
quTfUqfUlzlUcYbJQpqJYTMZ4cGzqwnyjaZI7GCh/NYVHEmNM7jX7I7q83cNxEau
g6SLC3cu0Ntc49T8HJvVVe7vcpSS/vI7Dozczv1yONpmL49Bk0UAw5KLVE0Xfi2B
jzupsffmggc/4frPCHDdcSluugmJwUBkzeCdQwIDAQABAoIBABim78OOk4SQ5edS
xVx3Y1KgAoSgkb5/wl3TtzvcSrs67XP9i/20WHi8SwS6lNBx7c67VWBga/GTIdTV
n7g5EpPhCeJkx6s9p6BOXpqQHbHUkgPPuvBdSNPLXX284Rg7S6Z4/MxSCOp8MqyB
qIAUlzXbNbpUNP7XuORnmnN4uI7MyqKtjKiafec7QCFDkYIqwcGH6y3355CAXtRP
dcWPXKVlcLGkchP94WIcHxpNRuHVb2wNtfDAiy6kM4TRaJNHx+2cymnmjH5HkjHm
25hrdWEw5AJHTY8AnNqOIpocWjmzPT+F0nZDskkPF62PXHUrRtbO0uKE+JJ7XBWV
1YuQHskCgYEA6V58ZrIdb/cSpe95V1mAG0mGm3RN36ej8dkT1x7q3dWLZ5/NZdiE
3elpEHxCNaVYcjTL9dbttY3GqoeZyI2kCAberAkoe0v50a0zQkBEoNdnfbnEN12O
VV3NHZp0gu7/KBYdCPW53RUgz65+VMV+eFH39kUY8VLrkgwavLFdoGUCgYEAwhjR
jjn8xiNWZhGYfeZ6eM7WD68vXmHuAH2JJ9L1Ve2zf2omqdA7S8odgP/c+mlj2azi
w7VAcDC/OzkNnfY9peiUiTFifjh9anMNPEgSEtj9kmR4rd9fROIWpyC8WD3me4LH
8QNsiERRnYz+h8qnrsXKIgnyvZ8UXQEn7Il4aIcCgYAfIfrInIRu1nBHcM4oSAle
Go35mSd2ad/mOMZ70WUV2RIy7c+yAZOgIy5gA6O1kmxdOAvprRWjPdm+ED8E0ViL
tZbpLoOXB0i5nziSYw6EwpfM3wZ9OF7vpobhpyRZ/1ZM275d3qJACzyIWEgEOSCp
Ho5M7WTpdN12a2T5vVO3PQKBgF9vlJo6KO/DsFe/jxtYmB+Ok/JiUQg3Xq8fCrFq
KPd3SSr9JsWYfY9mcdtb82utJkuBln5kQKrpTR3xj6B70xQgp+hNQACQBhqxN3DM
fxaFWyj//daAXnegM0M59WHuDcXtKCJ5bIQUE41EJmLeYlStLBZQjepurbSNPPQx
I+NBAoGAOqHi/Jd4/5u5QoxVL9tKjhkI3R4JOJZa1c2DAaHz2tWSJkZglAbZWwR0
58KqX+bEgOmfsNG74cDJoms3vx1d7kVTXsTklQ+2HvKKJ/5OQ/JJJZvnB6RfJY9U
vpD/5VnKmkzz9LkaXa2FWSc3++93vQgb7aGg5Kg2tfARPcPDYTk=
-----END RSA PRIVATE KEY-----";

/// The P-256 key pair every fixture of an ECDSA scheme (SendGrid) is signed
/// with: a throwaway test key, also in `fixtures/keys/fixture-ec.pem`.
pub const FIXTURE_EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvOrqYZf9D+kXLcmzdjoNsg/pNFeV
PR7V1Yk91LtZ4Ohmt5p+b6JJbUAPSzVR4OtvjbseOT6kqljJ1EevvomzxA==
-----END PUBLIC KEY-----";
pub const FIXTURE_EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTQe1EHcUsTfCYmqC
Jhud/5bEk08W5Z6Gs2wArfeBRJWhRANCAAS86uphl/0P6RctybN2Og2yD+k0V5U9
HtXViT3Uu1ng6Ga3mn5vokltQA9LNVHg62+Nux45PqSqWMnUR6++ibPE
-----END PRIVATE KEY-----";

/// The fixtures' published key set: the one key above.
pub fn fixture_key_set() -> Result<KeySet, String> {
    Ok(KeySet::from_keys(vec![PublishedKey::from_pem(
        FIXTURE_KID,
        FIXTURE_RSA_PUBLIC,
    )?]))
}

/// The source checks fixture cases are verified against: every scheme of the
/// mapping with the fixtures' key, and the case's URL (for schemes that sign it).
pub fn fixture_auth(mapping: &Mapping, url: Option<&str>) -> Result<SourceAuth, String> {
    let mut signatures = Vec::new();
    for scheme in mapping.schemes() {
        let keys = if scheme.takes_published_keys() {
            Keys::Published(PublishedKeys::given(
                fixture_key_set()?,
                vec![FIXTURE_AUDIENCE.to_owned()],
            ))
        } else if let Some(public) = fixture_public_key(scheme) {
            Keys::Public(vec![scheme.prepare_public_key(public)?])
        } else {
            Keys::Secrets(vec![scheme.prepare_secret(&fixture_secret(scheme))?])
        };
        signatures.push((scheme.clone(), keys));
    }
    Ok(SourceAuth {
        signatures,
        public_url: url.map(|u| u.split('?').next().unwrap_or(u).to_owned()),
        ..SourceAuth::default()
    })
}

/// The fixtures' public key for a scheme the provider signs with its private
/// key (Ed25519, RSA, P-256), in the form sources write it.
pub fn fixture_public_key(scheme: &Scheme) -> Option<&'static str> {
    match scheme.public_key_kind()? {
        Kind::Ed25519 => Some(FIXTURE_ED25519_PUBLIC),
        Kind::RsaSha256 => Some(FIXTURE_RSA_PUBLIC),
        Kind::EcdsaP256 => Some(FIXTURE_EC_PUBLIC),
        Kind::Hmac(_) => None,
    }
}

/// The private key the fixtures of a public-key scheme are signed with, as
/// [`Scheme::sign_at`] takes it (the Ed25519 seed, or the PEM), and for a
/// published-key scheme the RSA key its tokens are signed with.
pub fn fixture_private_key(scheme: &Scheme) -> Option<Secret> {
    if scheme.takes_published_keys() {
        return Some(Secret::new(FIXTURE_RSA_PRIVATE.as_bytes()));
    }
    match scheme.public_key_kind()? {
        Kind::Ed25519 => hex::decode(FIXTURE_ED25519_SEED).ok().map(Secret::new),
        Kind::RsaSha256 => Some(Secret::new(FIXTURE_RSA_PRIVATE.as_bytes())),
        Kind::EcdsaP256 => Some(Secret::new(FIXTURE_EC_PRIVATE.as_bytes())),
        Kind::Hmac(_) => None,
    }
}

/// The query string of a case's URL.
pub fn url_query(url: Option<&str>) -> Option<String> {
    url.and_then(|u| u.split_once('?'))
        .map(|(_, q)| q.to_owned())
}

/// The fixture secret in the form the scheme takes (`whsec_<base64>` where the
/// provider issues those).
pub fn fixture_secret(scheme: &Scheme) -> String {
    match scheme {
        Scheme::Signed(h) if h.uses_whsec() => {
            use base64::Engine as _;
            format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(FIXTURE_SECRET)
            )
        }
        _ => FIXTURE_SECRET.to_owned(),
    }
}

/// Fixture deliveries are checked as if received at this instant (so timestamped
/// schemes' replay windows hold for signed fixtures forever).
pub fn fixture_now() -> std::time::SystemTime {
    std::time::SystemTime::from(fixture_received_at())
}

/// Fixture events are produced as if received at this instant by a source named
/// after the provider, so expected ids and times are stable.
pub fn fixture_received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Case {
    pub provider: String,
    pub name: String,
    pub dir: PathBuf,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `url.txt`: the URL the provider posted to (for schemes that sign it).
    pub url: Option<String>,
    pub expected: Option<Value>,
}

/// Every case under `root/<provider>/`, sorted by name.
pub fn load_cases(root: &Path, provider: &str) -> Result<Vec<Case>, String> {
    let dir = root.join(provider);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load_case(d, provider)).collect()
}

fn load_case(dir: &Path, provider: &str) -> Result<Case, String> {
    let ctx = |e: &dyn std::fmt::Display| format!("{}: {e}", dir.display());
    let headers_v: Value = read_json(&dir.join("headers.json")).map_err(|e| ctx(&e))?;
    let mut headers = HeaderMap::new();
    if let Value::Object(m) = headers_v {
        for (k, v) in m {
            let v = v
                .as_str()
                .ok_or_else(|| ctx(&format!("header {k} is not a string")))?;
            let name = HeaderName::try_from(k.as_str()).map_err(|e| ctx(&e))?;
            headers.append(name, HeaderValue::from_str(v).map_err(|e| ctx(&e))?);
        }
    }
    let body_path = std::fs::read_dir(dir)
        .map_err(|e| ctx(&e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_stem().is_some_and(|s| s == "body"))
        .ok_or_else(|| ctx(&"no body.* file"))?;
    let body = std::fs::read(&body_path).map_err(|e| ctx(&e))?;
    let url_path = dir.join("url.txt");
    let url = if url_path.exists() {
        Some(
            std::fs::read_to_string(&url_path)
                .map_err(|e| ctx(&e))?
                .trim()
                .to_owned(),
        )
    } else {
        None
    };
    let expected_path = dir.join("expected.json");
    let expected = if expected_path.exists() {
        Some(read_json(&expected_path).map_err(|e| ctx(&e))?)
    } else {
        None
    };
    Ok(Case {
        provider: provider.to_owned(),
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.to_owned(),
        headers,
        body: Bytes::from(body),
        url,
        expected,
    })
}

fn read_json(p: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// The outcome of a case as the JSON shape `expected.json` holds.
pub fn outcome(
    engine: &Engine,
    mapping: &Mapping,
    policy: &Policy,
    case: &Case,
) -> Result<Value, String> {
    let auth = fixture_auth(mapping, case.url.as_deref())?;
    let req = Unverified {
        headers: case.headers.clone(),
        body: case.body.clone(),
        peer: None,
        path_token: None,
        query: url_query(case.url.as_deref()),
    };
    let verified = req.verify_at(&auth, fixture_now()).map_err(|e| {
        format!(
            "verification failed ({}): is the fixture signed with {FIXTURE_SECRET:?}?",
            e.reason()
        )
    })?;
    let source = SourceId::parse(mapping.provider())?;
    Ok(
        match engine.process(&source, mapping, &verified, fixture_received_at(), policy) {
            Err(refused) => json!({"status": "refused", "reason": refused.reason()}),
            Ok(Decision::Batch(items)) => json!({
                "status": "batch",
                "events": items.into_iter().map(expected).collect::<Vec<_>>(),
            }),
            Ok(one) => expected(one),
        },
    )
}

/// One decision as `expected.json` holds it.
fn expected(decision: Decision) -> Value {
    match decision {
        Decision::Deliver(event) => json!({"status": "accepted", "event": event}),
        Decision::Ignore { .. } => json!({"status": "ignored"}),
        Decision::Respond(v) => json!({"status": "responded", "body": v}),
        Decision::DeadLetter(d) => {
            json!({"status": "dead_lettered", "reason": d.reason, "detail": d.detail})
        }
        Decision::Batch(_) => json!({"status": "batch"}),
    }
}

/// Runs a case against its `expected.json`; `Err` explains the difference.
pub fn run(engine: &Engine, mapping: &Mapping, policy: &Policy, case: &Case) -> Result<(), String> {
    let got = outcome(engine, mapping, policy, case)?;
    let Some(expected) = &case.expected else {
        return Err("no expected.json (run `hookgate check --bless` and review it)".to_owned());
    };
    if &got == expected {
        Ok(())
    } else {
        Err(format!(
            "outcome differs from expected.json\n--- expected\n{}\n--- got\n{}",
            serde_json::to_string_pretty(expected).unwrap_or_default(),
            serde_json::to_string_pretty(&got).unwrap_or_default()
        ))
    }
}

/// Writes the current outcome as the case's `expected.json` (to be reviewed).
pub fn bless(
    engine: &Engine,
    mapping: &Mapping,
    policy: &Policy,
    case: &Case,
) -> Result<(), String> {
    let got = outcome(engine, mapping, policy, case)?;
    let text = serde_json::to_string_pretty(&got).map_err(|e| e.to_string())? + "\n";
    std::fs::write(case.dir.join("expected.json"), text).map_err(|e| e.to_string())
}
