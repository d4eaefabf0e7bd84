//! The benchmark baseline: the least an HTTP endpoint can do with a webhook (read
//! the body, answer 200), on the same axum, hyper and tokio as hookgate. Every
//! benchmark figure is a ratio to this, measured in the same run.
//!
//! cargo run --release --example baseline -- 127.0.0.1:9090

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9090".to_owned());
    let app = Router::new().route(
        "/{*path}",
        post(|body: Bytes| async move {
            std::hint::black_box(body);
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("baseline listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
