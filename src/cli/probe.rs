//! `hookgate probe`: a health check for images without curl (Docker `HEALTHCHECK`).

use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// GETs `url`; success when it answers 2xx within `timeout`.
pub fn run(url: &str, timeout: Duration) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let req = http::Request::get(url).body(Empty::<bytes::Bytes>::new())?;
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
        let answered = tokio::time::timeout(timeout, async {
            let resp = client.request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, body))
        })
        .await;
        match answered {
            Ok(Ok((status, body))) => {
                println!(
                    "{} {}",
                    status.as_u16(),
                    super::term::Lines(String::from_utf8_lossy(&body).trim())
                );
                Ok(if status.is_success() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Ok(Err(e)) => {
                println!("unreachable: {}", super::term::Lines(&e.to_string()));
                Ok(ExitCode::FAILURE)
            }
            Err(_) => {
                println!("no answer within {timeout:?}");
                Ok(ExitCode::FAILURE)
            }
        }
    })
}
