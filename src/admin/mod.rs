//! The inspector: an admin listener (off by default) whose pages show each source's
//! recent deliveries, live, and what each became; a dead letter's Replay button runs
//! the same code as `hookgate replay`. Sign-in with the admin token, then a session
//! cookie; forms carry a CSRF token; a strict Content-Security-Policy.

mod auth;
mod config;
pub mod inspector;
mod pages;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream, WatchStream};
use tokio_stream::StreamExt as _;
use tower_http::set_header::SetResponseHeaderLayer;

pub use config::{AdminConfig, AdminToken, MIN_TOKEN_DISTINCT, MIN_TOKEN_LEN};

use crate::gateway::LiveGateway;
use crate::replay::{replay, Origin, ReplayOptions, ReplayResult};
use auth::{Auth, Session, SignIn, COOKIE, SESSION_TTL};
use inspector::{Entry, Inspector};

/// How often an idle live feed checks that its session has not expired (each
/// delivery, and each sign-out, checks at once).
const SESSION_RECHECK: Duration = Duration::from_secs(30);

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// Only the page's own script and stylesheet; nothing inline, framed or elsewhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Clone)]
struct AdminState {
    live: Arc<LiveGateway>,
    inspector: Arc<Inspector>,
    auth: Arc<Auth>,
    remembered: usize,
}

/// The inspector's router.
pub fn app(live: Arc<LiveGateway>, inspector: Arc<Inspector>, config: &AdminConfig) -> Router {
    let state = AdminState {
        live,
        inspector,
        auth: Arc::new(Auth::new(config.token.expose())),
        remembered: config.recent,
    };
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .route("/", get(list))
        .route("/events", get(events))
        .route("/deliveries/{seq}", get(detail))
        .route("/deliveries/{seq}/replay", post(replay_one))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route(
            "/assets/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route(
            "/assets/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    JS,
                )
            }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Html(pages::not_found().into_string()),
            )
        })
        .with_state(state)
        .layer(header("content-security-policy", CSP))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("cache-control", "no-store"))
}

/// The signed-in session (its id and itself), if the request has one.
fn signed_in(st: &AdminState, headers: &HeaderMap) -> Option<(String, Session)> {
    auth::cookie_value(headers).and_then(|id| st.auth.session(&id).map(|s| (id, s)))
}

/// The answer to a request without a session: 401 and the sign-in form.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html(pages::login(None).into_string()),
    )
        .into_response()
}

async fn login_page() -> Html<String> {
    Html(pages::login(None).into_string())
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// The client's address, as the listener recorded it (none when served without
/// one, as in tests that call the router directly).
struct Peer(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

async fn login(
    State(st): State<AdminState>,
    Peer(peer): Peer,
    Form(f): Form<LoginForm>,
) -> Response {
    match st.auth.sign_in(&f.token, peer) {
        Ok(id) => {
            let cookie = format!(
                "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                SESSION_TTL.as_secs()
            );
            tracing::info!("inspector: signed in");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Err(SignIn::Wrong) => {
            tracing::warn!("inspector: a sign-in with a wrong token");
            (
                StatusCode::UNAUTHORIZED,
                Html(pages::login(Some("Sign-in failed.")).into_string()),
            )
                .into_response()
        }
        Err(SignIn::TooMany) => (
            StatusCode::TOO_MANY_REQUESTS,
            Html(pages::login(Some("Too many attempts: wait a moment.")).into_string()),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(st): State<AdminState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some((id, session)) = signed_in(&st, &headers) else {
        return unauthorized();
    };
    if !session.csrf_ok(&f.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    st.auth.sign_out(&id);
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, expired)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

impl Filter {
    fn source(&self) -> Option<&str> {
        self.source.as_deref().filter(|s| !s.is_empty())
    }

    fn outcome(&self) -> Option<&str> {
        self.outcome.as_deref().filter(|s| !s.is_empty())
    }
}

async fn list(
    State(st): State<AdminState>,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Response {
    let Some((_, session)) = signed_in(&st, &headers) else {
        return unauthorized();
    };
    let entries = st.inspector.recent(f.source(), f.outcome(), 500);
    let mut sources: Vec<String> = st
        .live
        .load()
        .sources()
        .map(|s| s.id.as_str().to_owned())
        .collect();
    sources.sort();
    Html(
        pages::list(&pages::ListView {
            entries: &entries,
            sources: &sources,
            source: f.source(),
            outcome: f.outcome(),
            csrf: &session.csrf,
            remembered: st.remembered,
        })
        .into_string(),
    )
    .into_response()
}

/// What wakes a live feed: a new entry, or a reason to check its session.
enum Tick {
    /// `None`: the page fell behind and missed entries, or this one was
    /// pushed out of memory before it was read.
    Entry(Option<Arc<Entry>>),
    Check,
}

/// New deliveries as server-sent events, each a rendered (escaped) table row,
/// while the session lives: the stream ends at its sign-out or expiry.
async fn events(
    State(st): State<AdminState>,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Response {
    let Some((id, _)) = signed_in(&st, &headers) else {
        return unauthorized();
    };
    // A page that falls behind misses rows (it can reload), never blocks the feed.
    let entries = BroadcastStream::new(st.inspector.subscribe())
        .map(|e| Tick::Entry(e.ok().and_then(|e| e.upgrade())));
    let endings = WatchStream::from_changes(st.auth.endings()).map(|_| Tick::Check);
    let expiry = IntervalStream::new(tokio::time::interval(SESSION_RECHECK)).map(|_| Tick::Check);
    let auth = st.auth.clone();
    let stream = entries
        .merge(endings)
        .merge(expiry)
        .take_while(move |_| auth.session(&id).is_some())
        .filter_map(move |tick| {
            let Tick::Entry(Some(e)) = tick else {
                return None;
            };
            let wanted = f.source().is_none_or(|s| s == e.source)
                && f.outcome().is_none_or(|o| o == e.outcome);
            wanted.then(|| {
                let data = serde_json::json!({"seq": e.seq, "row": pages::row_html(&e)});
                Ok::<_, Infallible>(Event::default().event("delivery").data(data.to_string()))
            })
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn detail(
    State(st): State<AdminState>,
    headers: HeaderMap,
    Path(seq): Path<u64>,
) -> Response {
    let Some((_, session)) = signed_in(&st, &headers) else {
        return unauthorized();
    };
    match st.inspector.get(seq) {
        Some(e) => {
            Html(pages::detail(&e, &session.csrf, st.inspector.captures_bodies()).into_string())
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Html(pages::not_found().into_string()),
        )
            .into_response(),
    }
}

/// Replays one dead letter with the code `hookgate replay` runs. The record is the
/// one this process received and kept in memory (it passed its source's checks
/// then), so a source that does not sign is trusted here; a signed one is still
/// verified again against its current secrets. A dead letter too large to keep
/// whole in memory is refused (409) with the command that replays it instead.
async fn replay_one(
    State(st): State<AdminState>,
    headers: HeaderMap,
    Path(seq): Path<u64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some((_, session)) = signed_in(&st, &headers) else {
        return unauthorized();
    };
    if !session.csrf_ok(&f.csrf) {
        return (StatusCode::FORBIDDEN, "bad CSRF token").into_response();
    }
    let Some(entry) = st.inspector.get(seq) else {
        return (
            StatusCode::NOT_FOUND,
            Html(pages::not_found().into_string()),
        )
            .into_response();
    };
    let Some(held) = &entry.dead_letter else {
        return (StatusCode::BAD_REQUEST, "not a dead letter").into_response();
    };
    let record = match held.replayable() {
        Ok(record) => record.clone(),
        Err(bytes) => {
            return (
                StatusCode::CONFLICT,
                Html(pages::too_large_to_replay(&entry, bytes, &session.csrf).into_string()),
            )
                .into_response()
        }
    };
    let gateway = st.live.load_full();
    let opts = ReplayOptions {
        origin: Origin::Memory,
        trust_unsigned: true,
        dry_run: false,
    };
    let result: ReplayResult = replay(&gateway, &record, opts).await;
    tracing::info!(seq, source = %record.source, result = result.kind(), "inspector: replay");
    if let Ok(mut replays) = entry.replays.lock() {
        replays.push(result);
    }
    Redirect::to(&format!("/deliveries/{seq}")).into_response()
}
