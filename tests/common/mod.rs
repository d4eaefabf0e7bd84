//! Shared integration-test harness: a gateway on a temporary file output, driven
//! through the real router, plus helpers to sign like a provider and read back.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use hookgate::config::Loaded;
use hookgate::fixture::FIXTURE_SECRET;
use hookgate::gateway::Gateway;
use hookgate::http::{app, Limits};

pub mod broker;
pub mod redis;
pub mod registry;
pub mod server;

pub const MAGALU_TOKEN: &str = "magalu-token-0123456789";

/// A `[[source]]` block for `id` of `provider`, authenticated as its fixtures are:
/// signed with the fixture secret, or (magalu-sac, which does not sign) by
/// [`MAGALU_TOKEN`] in its URL.
pub fn source(id: &str, provider: &str) -> String {
    let auth = match provider {
        "magalu-sac" => format!("token = \"{MAGALU_TOKEN}\""),
        _ => format!("secrets = [\"{FIXTURE_SECRET}\"]"),
    };
    format!("\n[[source]]\nid = \"{id}\"\nprovider = \"{provider}\"\n{auth}\n")
}

/// [`source`] blocks for each `(id, provider)`, in order.
pub fn sources(list: &[(&str, &str)]) -> String {
    list.iter().map(|(id, p)| source(id, p)).collect()
}

/// One source per shipped provider, named after it (so fixture ids match), plus
/// variants for the other ways in.
pub fn all_providers_config() -> String {
    let variants = format!(
        r#"
[dedup]
in_flight_wait = "2s"

[[source]]
id = "sahut"
provider = "sahut"
secrets = ["old-rotated-secret", "{FIXTURE_SECRET}"]

[[source]]
id = "oneroute-token"
provider = "oneroute"
token = "oneroute-token-0123456789"

[[source]]
id = "magalu-basic"
provider = "magalu-sac"
basic_auth = {{ username = "magalu", password = "basic-secret" }}

[[source]]
id = "magalu-ip"
provider = "magalu-sac"
allow_ips = ["174.138.104.128/32"]
"#
    );
    variants
        + &sources(&[
            ("oneroute", "oneroute"),
            ("magalu-sac", "magalu-sac"),
            ("aisoule", "aisoule"),
            ("savanto", "savanto"),
        ])
}

pub struct Harness {
    /// Where relative paths of the configuration resolve, and the file output writes.
    pub base: PathBuf,
    _dir: Option<tempfile::TempDir>,
    pub gateway: Arc<Gateway>,
    pub router: Router,
}

impl Harness {
    pub fn new(config_text: &str) -> Self {
        Self::with_limits(config_text, 1024 * 1024)
    }

    pub fn with_limits(config_text: &str, max_body_bytes: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut h = Self::build(dir.path(), config_text, max_body_bytes);
        h._dir = Some(dir);
        h
    }

    /// A gateway whose configuration lives in `dir` (mapping folders, output files).
    pub fn in_dir(dir: &std::path::Path, config_text: &str) -> Self {
        Self::build(dir, config_text, 1024 * 1024)
    }

    fn build(dir: &std::path::Path, config_text: &str, max_body_bytes: usize) -> Self {
        let loaded =
            Loaded::from_text(config_text, "test.toml", dir, &|_| None).expect("config parses");
        let gateway = loaded.build_gateway().expect("gateway builds");
        let router = app(
            gateway.clone(),
            Limits {
                max_body_bytes,
                read_timeout: Duration::from_secs(5),
            },
        );
        Self {
            base: dir.to_owned(),
            _dir: None,
            gateway,
            router,
        }
    }

    pub fn events_path(&self) -> PathBuf {
        self.base.join("events.ndjson")
    }

    pub fn dead_letters_path(&self) -> PathBuf {
        self.base.join("dead-letters.ndjson")
    }

    pub fn events(&self) -> Vec<Value> {
        read_lines(&self.events_path())
    }

    pub fn dead_letters(&self) -> Vec<Value> {
        read_lines(&self.dead_letters_path())
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json, headers)
    }

    /// Waits until `/readyz` answers 200 (the output reached), 20 s at most.
    pub async fn wait_ready(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (s, j, _) = self
                .send(Request::get("/readyz").body(Body::empty()).unwrap())
                .await;
            if s == StatusCode::OK {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "never ready: {j}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let mut b = Request::post(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (s, j, _) = self.send(b.body(body.into()).expect("request")).await;
        (s, j)
    }
}

/// [`Harness::post`] with owned header pairs.
pub async fn post_owned(
    h: &Harness,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (axum::http::StatusCode, Value) {
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    h.post(path, &refs, body).await
}

/// The status of each item of a batched answer, in order.
pub fn statuses(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["status"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The word an answer turns on: a refusal's or a dead letter's `reason`, else the
/// error kind, else the delivery's `status` (`accepted`, `duplicate`, ...).
pub fn why(body: &Value) -> Option<&str> {
    ["reason", "error", "status"]
        .into_iter()
        .find_map(|k| body[k].as_str())
}

/// Asserts that an answer (as [`Harness::post`] returns it) has `status` and turns
/// on `word` (see [`why`]); returns its body for further checks.
#[track_caller]
pub fn assert_answer(got: (StatusCode, Value), status: StatusCode, word: &str) -> Value {
    let (s, body) = got;
    assert_eq!((s, why(&body)), (status, Some(word)), "{body}");
    body
}

/// Polls `probe` (every 20 ms) until it yields a value; panics naming `what` if it
/// does not within `within`. For conditions that hold some time after an action:
/// a fixed sleep is either too short on a busy machine or wasted on an idle one.
pub fn wait_for<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`wait_for`] for a yes/no condition.
pub fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    wait_for(within, what, || cond().then_some(()))
}

/// [`wait_for`] from async code: the probe is a future, the pause does not block
/// the runtime.
pub async fn wait_for_async<T, F>(within: Duration, what: &str, mut probe: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the Prometheus sample `name` (with its labels, exactly as
/// rendered, e.g. `hookgate_spool_appended_total`) in a `/metrics` text; `None`
/// when the series was never recorded.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

pub fn read_lines(p: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// Lower-case hex HMAC, computed here independently of hookgate's verify module.
pub fn hmac_hex(alg: &str, key: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    match alg {
        "sha256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
            m.update(body);
            hex::encode(m.finalize().into_bytes())
        }
        "sha512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(key).expect("key");
            m.update(body);
            hex::encode(m.finalize().into_bytes())
        }
        "sha1" => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(key).expect("key");
            m.update(body);
            hex::encode(m.finalize().into_bytes())
        }
        other => panic!("unknown algorithm {other}"),
    }
}

/// The URL path a provider's fixture is posted to in `all_providers_config`.
pub fn path_for(provider: &str) -> String {
    match provider {
        "magalu-sac" => format!("/webhooks/magalu-sac/{MAGALU_TOKEN}"),
        p => format!("/webhooks/{p}"),
    }
}

/// A fixture case as the provider would send it.
pub fn request(path: &str, case: &hookgate::fixture::Case) -> Request<Body> {
    let mut b = Request::post(path);
    for (k, v) in &case.headers {
        b = b.header(k, v);
    }
    b.body(Body::from(case.body.clone())).expect("request")
}

/// An event without what depends on the moment of receipt (`receivedat`, and
/// `time` when it fell back to the receive time), for comparing with fixtures.
pub fn stable(mut ev: Value) -> Value {
    let received = ev["receivedat"].clone();
    let obj = ev.as_object_mut().expect("event is an object");
    obj.remove("receivedat");
    let fixture_time = Value::String("2026-01-01T00:00:00Z".into());
    if obj.get("time") == Some(&received) || obj.get("time") == Some(&fixture_time) {
        obj.remove("time");
    }
    ev
}

pub fn fixtures_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The shipped fixture case `fixtures/<provider>/<name>/`.
pub fn fixture_case(provider: &str, name: &str) -> hookgate::fixture::Case {
    hookgate::fixture::load_cases(&fixtures_root(), provider)
        .expect("cases load")
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no fixture case {provider}/{name}"))
}
