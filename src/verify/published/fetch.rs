//! Fetching a provider's published keys over HTTPS (hyper-util's client with the
//! system's TLS, OpenSSL on Linux, already linked by librdkafka), bounded in time
//! and size, with the lifetime the response's `Cache-Control: max-age` gives it.
//! Behind [`Fetch`], so the key store's policy is tested without a network.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_tls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::spec::check_key_url;

/// A key document is small: a larger answer is refused.
const MAX_BODY: usize = 1024 * 1024;
/// How long one fetch may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A fetched document and how long its server says it may be kept.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Bytes,
    pub max_age: Option<Duration>,
}

/// Gets a document by URL (the store's only way out).
#[async_trait::async_trait]
pub trait Fetch: Send + Sync + std::fmt::Debug {
    async fn get(&self, url: &str) -> Result<Fetched, String>;
}

/// `Cache-Control: max-age=N` (`no-store` and `no-cache` count as 0).
pub fn max_age(cache_control: &str) -> Option<Duration> {
    let mut age = None;
    for directive in cache_control.split(',') {
        let d = directive.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(n) = d.strip_prefix("max-age=") {
            age = n
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The HTTPS fetcher every key store shares.
#[derive(Debug, Default)]
pub struct HttpsFetcher;

/// One client for the process (its TLS context loads the system's roots once).
fn client() -> Result<&'static HttpsClient, String> {
    static CLIENT: OnceLock<Result<HttpsClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let tls = hyper_tls::native_tls::TlsConnector::new()
                .map_err(|e| format!("cannot set up TLS: {e}"))?;
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(TIMEOUT));
            let connector = HttpsConnector::from((http, tls.into()));
            // Key documents are fetched minutes apart: no connection is kept.
            Ok(Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector))
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[async_trait::async_trait]
impl Fetch for HttpsFetcher {
    async fn get(&self, url: &str) -> Result<Fetched, String> {
        // Checked again here: a discovery document's `jwks_uri` comes off the wire.
        check_key_url(url)?;
        let uri: http::Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
        let req = http::Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::USER_AGENT, "hookgate")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let work = async {
            let resp = client()?
                .request(req)
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if resp.status() != http::StatusCode::OK {
                return Err(format!("GET {url}: HTTP {}", resp.status().as_u16()));
            }
            let max_age = resp
                .headers()
                .get(http::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .and_then(max_age);
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("GET {url}: body: {e}"))?
                .to_bytes();
            Ok(Fetched { body, max_age })
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .map_err(|_| format!("GET {url}: no answer within {}s", TIMEOUT.as_secs()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_lifetimes() {
        let s = Duration::from_secs;
        assert_eq!(
            max_age("public, max-age=21600, must-revalidate"),
            Some(s(21600))
        );
        assert_eq!(max_age("max-age=\"60\""), Some(s(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("private, No-Cache"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
