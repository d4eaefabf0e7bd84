//! `hookgate send`: sign and POST a sample delivery exactly as the provider would.

use std::path::PathBuf;
use std::process::ExitCode;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::engine::DEFAULT_MAX_BATCH_ITEMS;
use crate::fixture;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, short)]
    pub provider: String,
    /// A provider event type; the payload comes from the first fixture case of that type.
    #[arg(long, short, conflicts_with = "body", required_unless_present = "body")]
    pub event: Option<String>,
    /// A payload file to send instead of a fixture.
    #[arg(long)]
    pub body: Option<PathBuf>,
    /// The signing secret (omit for providers that do not sign).
    #[arg(long, short, env = "HOOKGATE_SEND_SECRET")]
    pub secret: Option<String>,
    #[arg(long, default_value = "fixtures")]
    pub fixtures: PathBuf,
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// An extra request header, as 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Where to send it, e.g. http://127.0.0.1:8080/webhooks/sahut-main
    pub url: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = super::args::load(a.config.clone())?;
    let mappings = loaded.mappings()?;
    let mapping = mappings
        .get(&a.provider)
        .ok_or_else(|| anyhow::anyhow!("unknown provider `{}`", a.provider))?;
    let (mut headers, body) = match (&a.body, &a.event) {
        (Some(path), _) => (
            http::HeaderMap::new(),
            bytes::Bytes::from(
                std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            ),
        ),
        (None, Some(ty)) => {
            let cases =
                fixture::load_cases(&a.fixtures, &a.provider).map_err(|e| anyhow::anyhow!(e))?;
            let case = cases
                .into_iter()
                .find(|c| {
                    mapping
                        .event_types(&c.headers, &c.body, DEFAULT_MAX_BATCH_ITEMS)
                        .contains(ty)
                })
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "no fixture of event type `{ty}` under {}/{}",
                        a.fixtures.display(),
                        a.provider
                    )
                })?;
            (case.headers, case.body)
        }
        (None, None) => anyhow::bail!("give --event or --body"),
    };
    for (k, v) in super::args::parse_headers(&a.headers)? {
        if let Some(k) = k {
            headers.insert(k, v);
        }
    }
    headers
        .entry(http::header::CONTENT_TYPE)
        .or_insert(http::HeaderValue::from_static("application/json"));
    match (mapping.scheme(), &a.secret) {
        (Some(scheme), Some(secret)) => {
            let key = scheme
                .prepare_secret(secret)
                .map_err(|e| anyhow::anyhow!(e))?;
            let now = std::time::SystemTime::now();
            for (name, value) in scheme.sign_at(&key, &headers, &body, now, Some(&a.url)) {
                headers.insert(name, http::HeaderValue::from_str(&value)?);
            }
        }
        (Some(scheme), None) => {
            // Never send a fixture's stale signature: without a secret, send none.
            headers.remove(scheme.header_name());
            eprintln!("note: no --secret given; sending without a signature");
        }
        (None, _) => {}
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut req = http::Request::post(&a.url).body(Full::new(body))?;
        *req.headers_mut() = headers;
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
        let resp = client.request(req).await?;
        let status = resp.status();
        let text = resp.into_body().collect().await?.to_bytes();
        println!(
            "{} {}",
            status.as_u16(),
            super::term::Lines(&String::from_utf8_lossy(&text))
        );
        Ok(if status.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
