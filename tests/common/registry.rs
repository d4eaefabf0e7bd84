//! A small Confluent-compatible schema registry for tests (no Confluent server can
//! be installed from the package registries this project reaches): the documented
//! REST subset hookgate and the Confluent client libraries use — register, look up
//! by subject, latest version, schema by id, compatibility, the subject list — with
//! optional basic auth. It runs on its own runtime and can be stopped and started
//! again on the same port (a registry that goes down mid-run).

// Handlers answer early with an error response: its size does not matter in a test.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Default)]
struct Store {
    /// Schema id - 1 → (schema text, schema type).
    schemas: Vec<(String, String)>,
    /// Subject → its versions' schema ids, oldest first.
    subjects: BTreeMap<String, Vec<u32>>,
    /// Subjects whose every new schema is refused as incompatible.
    incompatible: BTreeSet<String>,
    /// Every request, as `METHOD /path`.
    requests: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    store: Arc<Mutex<Store>>,
    /// The `authorization` header value required, when basic auth is on.
    auth: Option<String>,
}

pub struct Registry {
    pub port: u16,
    shared: Shared,
    runtime: Option<tokio::runtime::Runtime>,
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", CONTENT_TYPE)], body.to_string()).into_response()
}

fn error(status: StatusCode, code: u32, message: String) -> Response {
    answer(status, json!({"error_code": code, "message": message}))
}

fn subject_not_found(subject: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        40401,
        format!("Subject '{subject}' not found."),
    )
}

/// The `schema` and `schemaType` of a request body.
fn schema_of(body: &str) -> Result<(String, String), Response> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, 42201, format!("{e}")))?;
    let schema = v["schema"].as_str().unwrap_or_default().to_owned();
    let ty = v["schemaType"].as_str().unwrap_or("AVRO").to_owned();
    if serde_json::from_str::<Value>(&schema).is_err() {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
            "Invalid schema".into(),
        ));
    }
    Ok((schema, ty))
}

impl Shared {
    /// Logs the request and checks the credentials.
    fn enter(
        &self,
        headers: &HeaderMap,
        what: String,
    ) -> Result<std::sync::MutexGuard<'_, Store>, Response> {
        let mut store = self.store.lock().expect("registry store");
        store.requests.push(what);
        if let Some(want) = &self.auth {
            let got = headers.get("authorization").and_then(|v| v.to_str().ok());
            if got != Some(want.as_str()) {
                return Err(error(StatusCode::UNAUTHORIZED, 401, "Unauthorized".into()));
            }
        }
        Ok(store)
    }

    /// As [`Shared::enter`], for a request that carries a schema: its text and type.
    fn enter_with_schema(
        &self,
        headers: &HeaderMap,
        what: String,
        body: &str,
    ) -> Result<(std::sync::MutexGuard<'_, Store>, (String, String)), Response> {
        let store = self.enter(headers, what)?;
        Ok((store, schema_of(body)?))
    }
}

impl Store {
    fn version_body(&self, subject: &str, version: usize) -> Value {
        let id = self.subjects[subject][version - 1];
        let (schema, ty) = &self.schemas[id as usize - 1];
        json!({"subject": subject, "version": version, "id": id, "schema": schema, "schemaType": ty})
    }
}

async fn register(
    State(sh): State<Shared>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let what = format!("POST /subjects/{subject}/versions");
    let (mut store, (schema, ty)) = match sh.enter_with_schema(&headers, what, &body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let existing = store
        .schemas
        .iter()
        .position(|(s, t)| *s == schema && *t == ty)
        .map(|i| i as u32 + 1);
    let versions = store.subjects.get(&subject).cloned().unwrap_or_default();
    if let Some(id) = existing.filter(|id| versions.contains(id)) {
        return answer(StatusCode::OK, json!({"id": id}));
    }
    if store.incompatible.contains(&subject) {
        return error(
            StatusCode::CONFLICT,
            409,
            format!(
                "Schema being registered is incompatible with an earlier schema for subject \"{subject}\""
            ),
        );
    }
    let id = existing.unwrap_or_else(|| {
        store.schemas.push((schema, ty));
        store.schemas.len() as u32
    });
    store.subjects.entry(subject).or_default().push(id);
    answer(StatusCode::OK, json!({"id": id}))
}

async fn lookup(
    State(sh): State<Shared>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let what = format!("POST /subjects/{subject}");
    let (store, (schema, ty)) = match sh.enter_with_schema(&headers, what, &body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(versions) = store.subjects.get(&subject) else {
        return subject_not_found(&subject);
    };
    match versions
        .iter()
        .position(|id| store.schemas[*id as usize - 1] == (schema.clone(), ty.clone()))
    {
        Some(v) => answer(StatusCode::OK, store.version_body(&subject, v + 1)),
        None => error(StatusCode::NOT_FOUND, 40403, "Schema not found".into()),
    }
}

async fn version(
    State(sh): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let store = match sh.enter(
        &headers,
        format!("GET /subjects/{subject}/versions/{version}"),
    ) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let count = store.subjects.get(&subject).map_or(0, Vec::len);
    if count == 0 {
        return subject_not_found(&subject);
    }
    let v = match version.as_str() {
        "latest" | "-1" => count,
        n => match n.parse::<usize>() {
            Ok(n) if (1..=count).contains(&n) => n,
            _ => return error(StatusCode::NOT_FOUND, 40402, "Version not found.".into()),
        },
    };
    answer(StatusCode::OK, store.version_body(&subject, v))
}

async fn by_id(State(sh): State<Shared>, Path(id): Path<u32>, headers: HeaderMap) -> Response {
    let store = match sh.enter(&headers, format!("GET /schemas/ids/{id}")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match store.schemas.get((id as usize).wrapping_sub(1)) {
        Some((schema, ty)) => answer(StatusCode::OK, json!({"schema": schema, "schemaType": ty})),
        None => error(StatusCode::NOT_FOUND, 40403, "Schema not found".into()),
    }
}

async fn compatibility(
    sh: Shared,
    subject: String,
    latest: bool,
    headers: HeaderMap,
    body: String,
) -> Response {
    let what = format!("POST /compatibility/subjects/{subject}/versions");
    let (store, _) = match sh.enter_with_schema(&headers, what, &body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if latest && !store.subjects.contains_key(&subject) {
        return subject_not_found(&subject);
    }
    answer(
        StatusCode::OK,
        json!({"is_compatible": !store.incompatible.contains(&subject)}),
    )
}

async fn compatible_all(
    State(sh): State<Shared>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    compatibility(sh, subject, false, headers, body).await
}

async fn compatible_latest(
    State(sh): State<Shared>,
    Path((subject, _version)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    compatibility(sh, subject, true, headers, body).await
}

async fn subjects(State(sh): State<Shared>, headers: HeaderMap) -> Response {
    let store = match sh.enter(&headers, "GET /subjects".into()) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let names: Vec<&String> = store.subjects.keys().collect();
    answer(StatusCode::OK, json!(names))
}

impl Registry {
    /// A registry on a free port; with `auth`, every request needs that basic auth.
    pub fn start(auth: Option<(&str, &str)>) -> Self {
        let mut r = Self {
            port: super::broker::free_port(),
            shared: Shared {
                store: Arc::default(),
                auth: auth.map(|(u, p)| {
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                    )
                }),
            },
            runtime: None,
        };
        r.resume();
        r
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Serves again on the same port, with everything registered before.
    pub fn resume(&mut self) {
        assert!(self.runtime.is_none(), "the registry is running");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("registry runtime");
        let app = Router::new()
            .route("/subjects", get(subjects))
            .route("/subjects/{subject}", post(lookup))
            .route("/subjects/{subject}/versions", post(register))
            .route("/subjects/{subject}/versions/{version}", get(version))
            .route("/schemas/ids/{id}", get(by_id))
            .route(
                "/compatibility/subjects/{subject}/versions",
                post(compatible_all),
            )
            .route(
                "/compatibility/subjects/{subject}/versions/{version}",
                post(compatible_latest),
            )
            .with_state(self.shared.clone());
        let port = self.port;
        let listener = runtime
            .block_on(async move {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.set_reuseaddr(true)?;
                socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
                socket.listen(128)
            })
            .expect("registry listens");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        self.runtime = Some(runtime);
    }

    /// Stops serving: the port refuses connections, open ones are dropped.
    pub fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        // The listener is closed once the runtime's tasks are gone.
        super::wait_until(
            std::time::Duration::from_secs(10),
            "the registry stops",
            || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err(),
        );
    }

    /// New schemas under `subject` are refused as incompatible (409).
    pub fn mark_incompatible(&self, subject: &str) {
        self.store().incompatible.insert(subject.to_owned());
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.shared.store.lock().expect("registry store")
    }

    /// Every subject with a version.
    pub fn subjects(&self) -> Vec<String> {
        self.store().subjects.keys().cloned().collect()
    }

    /// The id of the latest version under `subject`.
    pub fn latest_id(&self, subject: &str) -> Option<u32> {
        self.store().subjects.get(subject)?.last().copied()
    }

    /// The schema registered under id `id`.
    pub fn schema(&self, id: u32) -> Option<Value> {
        let store = self.store();
        let (text, _) = store.schemas.get((id as usize).checked_sub(1)?)?;
        serde_json::from_str(text).ok()
    }

    /// Registers `schema` (JSON Schema text) under `subject` as a client would;
    /// its id.
    pub fn register(&self, subject: &str, schema: &str) -> u32 {
        let mut store = self.store();
        let id = match store.schemas.iter().position(|(s, _)| s == schema) {
            Some(i) => i as u32 + 1,
            None => {
                store.schemas.push((schema.to_owned(), "JSON".to_owned()));
                store.schemas.len() as u32
            }
        };
        store
            .subjects
            .entry(subject.to_owned())
            .or_default()
            .push(id);
        id
    }

    /// Every request served so far, as `METHOD /path`.
    pub fn requests(&self) -> Vec<String> {
        self.store().requests.clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
