//! The HTTP face of the gateway: routes, body limits, answers. Everything else is
//! delegated to [`Gateway`]; `fn app` is what tests drive with `oneshot`.

mod config;
mod error;
mod observe;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

pub use config::ServerConfig;
pub use error::ApiError;
pub use observe::{Answer, DeliveryObserver, Seen};
pub use server::{serve, ServeOptions};

use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::event::Outcome;
use crate::gateway::{Gateway, LiveGateway};
use crate::output::Readiness;
use crate::telemetry;
use crate::telemetry::events;
use crate::telemetry::events::ReadinessObserved;
use crate::telemetry::trace;
use crate::verify::RequestHead;
use tracing::Instrument;

/// What the HTTP layer needs besides the gateway.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub read_timeout: Duration,
}

#[derive(Debug, Clone)]
struct AppState {
    live: Arc<LiveGateway>,
    limits: Limits,
    /// Told of every delivery (the admin inspector), when there is one.
    observer: Option<Arc<dyn DeliveryObserver>>,
}

impl AppState {
    /// The configuration a request runs under, start to end (a reload may swap
    /// in another one meanwhile; this request keeps its own).
    fn gateway(&self) -> Arc<Gateway> {
        self.live.load_full()
    }
}

/// The router over a fixed gateway.
pub fn app(gateway: Arc<Gateway>, limits: Limits) -> Router {
    app_live(Arc::new(LiveGateway::new(gateway)), limits, None)
}

/// The router over a gateway that can be swapped while serving (SIGHUP reload):
/// webhooks and the operations endpoints on one listener; every delivery told
/// to the observer when there is one.
pub fn app_live(
    live: Arc<LiveGateway>,
    limits: Limits,
    observer: Option<Arc<dyn DeliveryObserver>>,
) -> Router {
    with_request_layers(webhook_routes(live.clone(), limits, observer).merge(ops_routes(live)))
}

/// The webhook routes only, for a public listener when `server.metrics_listen`
/// takes the operations endpoints elsewhere. `/healthz` stays: it reveals nothing.
pub fn webhook_app(
    live: Arc<LiveGateway>,
    limits: Limits,
    observer: Option<Arc<dyn DeliveryObserver>>,
) -> Router {
    with_request_layers(webhook_routes(live, limits, observer).route("/healthz", get(healthz)))
}

/// `/metrics`, `/readyz` and `/healthz` alone. They name sources and failure
/// reasons, so `server.metrics_listen` can keep them off the public listener.
pub fn ops_app(live: Arc<LiveGateway>) -> Router {
    with_request_layers(ops_routes(live))
}

fn webhook_routes(
    live: Arc<LiveGateway>,
    limits: Limits,
    observer: Option<Arc<dyn DeliveryObserver>>,
) -> Router {
    // The recorder must exist before the first request is counted.
    let _ = telemetry::prometheus();
    let state = AppState {
        live,
        limits,
        observer,
    };
    let not_allowed = || async { ApiError::MethodNotAllowed };
    Router::new()
        .route(
            "/webhooks/{source}",
            post(webhook).get(handshake).fallback(not_allowed),
        )
        .route(
            "/webhooks/{source}/{token}",
            post(webhook_with_token).fallback(not_allowed),
        )
        .with_state(state)
}

fn ops_routes(live: Arc<LiveGateway>) -> Router {
    let _ = telemetry::prometheus();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/readyz", get(readyz))
        .with_state(live)
}

/// Outermost first: drop an unsafe request id, take or make one, open a span
/// carrying it (so every log line of the request has it), echo it.
fn with_request_layers(routes: Router) -> Router {
    routes.fallback(|| async { ApiError::NotFound }).layer(
        tower::ServiceBuilder::new()
            .layer(tower::util::MapRequestLayer::new(drop_unsafe_request_id))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::x_request_id()),
    )
}

/// The request span carries the matched route (`/webhooks/{source}/{token}`), never
/// the raw path: a URL token must not reach the logs. The source id is added by the
/// handler, escaped.
fn request_span<B>(req: &Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
        .unwrap_or("(no route)");
    // `trace_id`/`span_id`: the delivery's trace, when it is traced.
    tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route, trace_id = tracing::field::Empty, span_id = tracing::field::Empty)
}

/// The longest client-chosen request id kept.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A client's `x-request-id` is written into every log line of its request, so one
/// that is not short printable ASCII (a newline would forge a log line) is dropped
/// and replaced by a fresh one.
fn drop_unsafe_request_id<B>(mut req: Request<B>) -> Request<B> {
    let safe = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty() && b.len() <= MAX_REQUEST_ID_LEN && b.iter().all(|c| c.is_ascii_graphic())
    };
    let ok = req.headers().get_all("x-request-id").iter().count() <= 1
        && req.headers().get("x-request-id").is_none_or(safe);
    if !ok {
        req.headers_mut().remove("x-request-id");
    }
    req
}

/// A client-chosen string (the `{source}` segment of an unknown source, say) made
/// safe for a log line: control characters and quotes escaped, length bounded.
struct LogSafe<'a>(&'a str);

impl std::fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MAX: usize = 64;
        for (i, c) in self.0.chars().enumerate() {
            if i == MAX {
                return f.write_str("…");
            }
            std::fmt::Display::fmt(&c.escape_debug(), f)?;
        }
        Ok(())
    }
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn metrics_text(State(live): State<Arc<LiveGateway>>) -> Response {
    let Some(handle) = telemetry::prometheus() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    let gateway = live.load();
    metrics::gauge!(telemetry::DEDUP_KEYS).set(gateway.dedup().entry_count() as f64);
    gateway.output().observe();
    handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
        .into_response()
}

async fn readyz(State(live): State<Arc<LiveGateway>>) -> Response {
    let gateway = live.load_full();
    let readiness = gateway.output().ready().await;
    ReadinessObserved {
        ready: readiness.is_ok(),
    }
    .emit();
    // Sources whose provider's keys are not fetched yet answer 503 on their own;
    // the others serve, so the instance stays in the load balancer, saying so.
    let waiting = gateway.sources_without_keys();
    let (status, mut body) = match readiness {
        Ok(Readiness::Ready) if !waiting.is_empty() => {
            (StatusCode::OK, json!({"status": "degraded"}))
        }
        Ok(Readiness::Ready) => (StatusCode::OK, json!({"status": "ready"})),
        // Accepting onto the local spool: a load balancer must keep routing here.
        Ok(Readiness::Spooling { records, reason }) => (
            StatusCode::OK,
            json!({
                "status": "spooling",
                "spooled_records": records,
                "reason": reason,
            }),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "not_ready", "reason": e.to_string()}),
        ),
    };
    if !waiting.is_empty() {
        body["sources_without_keys"] = json!(waiting);
    }
    (status, Json(body)).into_response()
}

/// Checks readiness every 10 s for `hookgate_ready`, so an alert sees the output
/// go away even when nothing probes `/readyz`.
pub async fn watch_readiness(live: Arc<LiveGateway>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let gateway = live.load_full();
        ReadinessObserved {
            ready: gateway.output().ready().await.is_ok(),
        }
        .emit();
        // Also what starts the first fetch of published keys, and refreshes them
        // when no delivery comes to.
        let _ = gateway.sources_without_keys();
    }
}

/// Meta's subscription handshake (GET with `hub.*` query parameters).
async fn handshake(
    State(st): State<AppState>,
    Path(source): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let gateway = st.gateway();
    let Some(src) = gateway.source(&source) else {
        return ApiError::UnknownSource.into_response();
    };
    if !src.mapping.handshake().meta_subscribe {
        return ApiError::MethodNotAllowed.into_response();
    }
    // Anyone can try a token here, unsigned: it spends the same budget as a POST
    // whose signature is not checked yet, so a flood of guesses gets 429s.
    if let Some(limits) = &src.rate_limit {
        if let Err(wait) = limits.check_unverified() {
            return ApiError::from(crate::gateway::GatewayError::RateLimited(wait)).into_response();
        }
    }
    let get = |k: &str| q.get(k).map(String::as_str);
    match src.meta_subscribe(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
    ) {
        Some(challenge) => (StatusCode::OK, challenge.to_owned()).into_response(),
        None => {
            tracing::warn!(source = %LogSafe(&source), "subscription handshake refused");
            ApiError::Forbidden.into_response()
        }
    }
}

async fn webhook(
    State(st): State<AppState>,
    Path(source): Path<String>,
    req: Request<Body>,
) -> Response {
    receive(st, source, None, req).await
}

async fn webhook_with_token(
    State(st): State<AppState>,
    Path((source, token)): Path<(String, String)>,
    req: Request<Body>,
) -> Response {
    receive(st, source, Some(token), req).await
}

/// Counts a request in `hookgate_requests_in_flight` while it lives.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!(telemetry::IN_FLIGHT).increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(telemetry::IN_FLIGHT).decrement(1.0);
    }
}

/// One delivery, in its trace's server span.
async fn receive(
    st: AppState,
    source: String,
    token: Option<String>,
    req: Request<Body>,
) -> Response {
    let delivery = trace::delivery(req.method(), token.is_some(), req.headers());
    trace::log_ids(&tracing::Span::current(), &delivery);
    answer(st, source, token, req).instrument(delivery).await
}

async fn answer(
    st: AppState,
    source: String,
    token: Option<String>,
    req: Request<Body>,
) -> Response {
    let _in_flight = InFlight::start();
    let started = std::time::Instant::now();
    let at = chrono::Utc::now();
    let gateway = st.gateway();
    let observer = st.observer.as_deref();
    let mut seen = observer.map(|_| Seen::default());
    let watched = observer.zip(seen.as_mut());
    let result = pipeline(&gateway, &st.limits, &source, token, req, watched).await;
    // Label values come from configuration only, never from the URL.
    let label = gateway
        .source(&source)
        .map_or(telemetry::UNKNOWN_SOURCE, |s| s.id.as_str());
    if let (Some(observer), Some(mut seen)) = (observer, seen) {
        // A request to no configured source goes to the one shared ring, under
        // what it asked for (escaped and bounded).
        (seen.source, seen.unmatched) = match gateway.source(&source) {
            Some(s) => (s.id.as_str().to_owned(), false),
            None => (LogSafe(&source).to_string(), true),
        };
        seen.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let answer = match &result {
            Ok(outcome) => Answer::Answered(outcome),
            Err(e) => Answer::Refused {
                status: e.status().as_u16(),
                kind: e.kind(),
                reason: e.reason(),
            },
        };
        observer.observe(seen, answer, at);
    }
    match &result {
        Ok(outcome) => trace::answered(200, outcome.status(), None),
        Err(e) => trace::answered(e.status().as_u16(), e.kind(), e.reason()),
    }
    match result {
        Ok(outcome) => {
            events::RequestAnswered {
                source: label,
                outcome: outcome.status(),
                elapsed: started.elapsed(),
            }
            .emit();
            Json(outcome.body()).into_response()
        }
        Err(e) => {
            if let ApiError::Unauthorized(reason) = &e {
                events::VerificationFailed {
                    source: label,
                    reason,
                }
                .emit();
            }
            events::RequestRejected {
                source: label,
                requested: &LogSafe(&source),
                kind: e.kind(),
                status: e.status().as_u16(),
                detail: &e,
                elapsed: started.elapsed(),
            }
            .emit();
            e.into_response()
        }
    }
}

async fn pipeline(
    gateway: &Arc<Gateway>,
    limits: &Limits,
    source: &str,
    token: Option<String>,
    req: Request<Body>,
    mut watched: Option<(&dyn DeliveryObserver, &mut Seen)>,
) -> Result<Outcome, ApiError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    if let Some((observer, seen)) = watched.as_mut() {
        let credentials: Vec<&http::HeaderName> = gateway
            .source(source)
            .map(|s| {
                s.auth
                    .signatures
                    .iter()
                    .flat_map(|(scheme, _)| scheme.credential_headers())
                    .collect()
            })
            .unwrap_or_default();
        seen.headers = observer.headers(&parts.headers, &credentials);
    }
    // Unknown sources, wrong tokens, credentials or addresses, and spent budgets are
    // refused before a byte of the body is read.
    let admission = gateway.admit(
        source,
        RequestHead {
            headers: parts.headers,
            peer,
            path_token: token,
            query: parts.uri.query().map(str::to_owned),
        },
    )?;
    let body = read_body(body, admission.headers(), limits).await?;
    if let Some((_, seen)) = watched {
        seen.body = Some(body.clone());
    }
    Ok(gateway.handle(admission, body).await?)
}

async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limits: &Limits,
) -> Result<bytes::Bytes, ApiError> {
    let limit = limits.max_body_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge { limit });
    }
    let collected =
        tokio::time::timeout(limits.read_timeout, Limited::new(body, limit).collect()).await;
    match collected {
        Err(_) => Err(ApiError::Timeout),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::TooLarge { limit })
        }
        Ok(Err(_)) => Err(ApiError::BadBody),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a client puts in the `{source}` segment, its log form is one
        /// line without control characters, and bounded.
        #[test]
        fn log_safe_text_is_one_bounded_line(s in "\\PC*|[\\x00-\\x1f\\x7f\\u{2028}\\u{85}a-z]{0,200}") {
            let shown = LogSafe(&s).to_string();
            prop_assert!(!shown.chars().any(char::is_control), "{shown:?}");
            let line_separator = '\u{2028}';
            prop_assert!(!shown.contains(line_separator));
            prop_assert!(shown.chars().count() <= 64 * 10 + 1);
        }

        /// A request id is kept only when it is short printable ASCII; otherwise
        /// it is dropped (and a fresh one made).
        #[test]
        fn kept_request_ids_are_short_printable_ascii(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let Ok(value) = axum::http::HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            let req = Request::get("/").header("x-request-id", value).body(()).unwrap_or_default();
            let req = drop_unsafe_request_id(req);
            if let Some(kept) = req.headers().get("x-request-id") {
                let b = kept.as_bytes();
                prop_assert!(!b.is_empty() && b.len() <= MAX_REQUEST_ID_LEN);
                prop_assert!(b.iter().all(u8::is_ascii_graphic));
            }
        }
    }
}
