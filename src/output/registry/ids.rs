//! The ids of hookgate's schemas in the registry, one per subject its records go
//! under: registered (or looked up) at start-up, retried while the registry is
//! away, then kept for the life of the process, so a registry that goes down later
//! changes nothing. The only module that talks to the registry.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use schema_registry_converter::async_impl::schema_registry::{
    get_schema_by_subject_and_version, is_compatible_schema, post_schema, SrSettings,
};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{RawError, SchemaType, SuppliedSchema};

use super::{RecordKind, SchemaRegistryConfig};
use crate::telemetry::events;

/// How long start-up waits for the first attempt before starting without ids.
const START_BUDGET: Duration = Duration::from_secs(10);
/// One HTTP call's budget (connect and read).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// A new attempt at most this often (each `/readyz` probe and each record that
/// needs an id asks for one).
const RETRY_EVERY: Duration = Duration::from_secs(2);

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// The registry will not take the schema (incompatible, invalid): an operator
    /// must act, and start-up stops.
    Refused(String),
    /// Anything else (unreachable, 5xx, credentials, nothing registered): retried.
    Unavailable(String),
}

#[derive(Debug, Default)]
struct State {
    attempting: bool,
    last_attempt: Option<Instant>,
    last_error: Option<Failure>,
}

/// The schema ids of one Kafka output.
pub struct SchemaIds {
    config: SchemaRegistryConfig,
    /// Every subject a record can go under, with the kind of record it holds.
    subjects: Vec<(String, RecordKind)>,
    /// The id of each subject's schema, once known (never changed after).
    ids: Vec<OnceLock<u32>>,
    /// Topic → subject index, for events and for dead letters.
    events: std::collections::HashMap<String, usize>,
    dead_letters: std::collections::HashMap<String, usize>,
    state: Mutex<State>,
}

impl std::fmt::Debug for SchemaIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaIds")
            .field("url", &self.config.base_url())
            .field("subjects", &self.subjects)
            .finish_non_exhaustive()
    }
}

impl SchemaIds {
    /// The ids for events (of `event_kind`) on `event_topics` and dead letters on
    /// `dead_letter_topics`, with a first attempt made now: on a thread of its own
    /// with its own runtime, since the caller may be inside a runtime or before
    /// one exists. `Err` when the registry refuses a schema (start-up stops);
    /// any other failure starts without ids, retried on demand.
    pub fn start(
        config: &SchemaRegistryConfig,
        event_kind: RecordKind,
        event_topics: &[String],
        dead_letter_topics: &[String],
    ) -> Result<Arc<Self>, String> {
        let ids = Arc::new(Self::new(
            config,
            event_kind,
            event_topics,
            dead_letter_topics,
        )?);
        if !ids.begin() {
            return Ok(ids);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = ids.clone();
        std::thread::Builder::new()
            .name("hookgate-schema-registry".into())
            .spawn(move || {
                let outcome = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(worker.attempt()),
                    Err(e) => {
                        let failure = Failure::Unavailable(format!("cannot start a runtime: {e}"));
                        worker.finish(Err(failure.clone()));
                        Err(failure)
                    }
                };
                let _ = tx.send(outcome);
            })
            .map_err(|e| format!("cannot start the schema registry client: {e}"))?;
        match rx.recv_timeout(START_BUDGET) {
            Ok(Err(Failure::Refused(why))) => {
                Err(format!("schema registry {}: {why}", ids.config.base_url()))
            }
            Ok(_) => Ok(ids),
            Err(_) => {
                // The attempt goes on; its result lands in the state when it ends.
                tracing::warn!(
                    url = ids.config.base_url(),
                    "the schema registry did not answer within {START_BUDGET:?}: starting without schema ids"
                );
                Ok(ids)
            }
        }
    }

    fn new(
        config: &SchemaRegistryConfig,
        event_kind: RecordKind,
        event_topics: &[String],
        dead_letter_topics: &[String],
    ) -> Result<Self, String> {
        // Every bundled schema is checked before anything is registered.
        for kind in RecordKind::ALL {
            kind.schema()?;
        }
        let mut subjects: Vec<(String, RecordKind)> = Vec::new();
        let mut index = |topic: &String, kind: RecordKind| {
            let subject = kind.subject(config.subject_strategy, topic);
            match subjects.iter().position(|(s, _)| *s == subject) {
                Some(i) => i,
                None => {
                    subjects.push((subject, kind));
                    subjects.len() - 1
                }
            }
        };
        let events = event_topics
            .iter()
            .map(|t| (t.clone(), index(t, event_kind)))
            .collect();
        let dead_letters = dead_letter_topics
            .iter()
            .map(|t| (t.clone(), index(t, RecordKind::DeadLetter)))
            .collect();
        let ids = subjects.iter().map(|_| OnceLock::new()).collect();
        Ok(Self {
            config: config.clone(),
            subjects,
            ids,
            events,
            dead_letters,
            state: Mutex::new(State::default()),
        })
    }

    /// The subjects this output registers, in the order they are attempted.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.subjects.iter().map(|(s, _)| s.as_str())
    }

    /// The schema id for an event on `topic`.
    pub fn event_id(self: &Arc<Self>, topic: &str) -> Result<u32, String> {
        self.id_of(self.events.get(topic).copied(), topic)
    }

    /// The schema id for a dead letter on `topic`.
    pub fn dead_letter_id(self: &Arc<Self>, topic: &str) -> Result<u32, String> {
        self.id_of(self.dead_letters.get(topic).copied(), topic)
    }

    fn id_of(self: &Arc<Self>, index: Option<usize>, topic: &str) -> Result<u32, String> {
        let Some(i) = index else {
            return Err(format!("no subject for topic `{topic}`"));
        };
        if let Some(id) = self.ids[i].get() {
            return Ok(*id);
        }
        // Answered 503 now; the attempt runs on its own and the provider's retry
        // finds the id.
        drop(self.spawn_attempt());
        Err(format!(
            "no schema id yet for subject `{}` ({})",
            self.subjects[i].0,
            self.reason()
        ))
    }

    fn complete(&self) -> bool {
        self.ids.iter().all(|id| id.get().is_some())
    }

    /// `Ok` once every subject's id is known; otherwise retries (if the last attempt
    /// is old enough), waits for it, and says why not.
    pub async fn ready(self: &Arc<Self>) -> Result<(), String> {
        if self.complete() {
            return Ok(());
        }
        if let Some(attempt) = self.spawn_attempt() {
            let _ = attempt.await;
        }
        if self.complete() {
            Ok(())
        } else {
            Err(self.reason())
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reason(&self) -> String {
        let url = self.config.base_url();
        match &self.lock().last_error {
            Some(Failure::Refused(why) | Failure::Unavailable(why)) => format!("{url}: {why}"),
            None => format!("{url}: registering the schemas"),
        }
    }

    /// Claims the next attempt: false while one runs or the last one is recent.
    fn begin(&self) -> bool {
        let mut state = self.lock();
        if state.attempting
            || state
                .last_attempt
                .is_some_and(|t| t.elapsed() < RETRY_EVERY)
        {
            return false;
        }
        state.attempting = true;
        state.last_attempt = Some(Instant::now());
        true
    }

    /// An attempt on the current runtime, when one is due.
    fn spawn_attempt(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<Result<(), Failure>>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if self.complete() || !self.begin() {
            return None;
        }
        let this = self.clone();
        Some(handle.spawn(async move { this.attempt().await }))
    }

    /// Resolves every subject still without an id, in order, stopping at the first
    /// failure; records the outcome.
    async fn attempt(&self) -> Result<(), Failure> {
        let outcome = self.resolve_missing().await;
        self.finish(outcome.clone());
        outcome
    }

    fn finish(&self, outcome: Result<(), Failure>) {
        let mut state = self.lock();
        state.attempting = false;
        match outcome {
            Ok(()) => state.last_error = None,
            Err(failure) => {
                let (kind, detail) = match &failure {
                    Failure::Refused(d) => ("refused", d),
                    Failure::Unavailable(d) => ("unavailable", d),
                };
                events::SchemaRegistryFailed {
                    kind,
                    detail: &format!("{}: {detail}", self.config.base_url()),
                    new: state.last_error.as_ref() != Some(&failure),
                }
                .emit();
                state.last_error = Some(failure);
            }
        }
    }

    fn settings(&self) -> Result<SrSettings, Failure> {
        let mut builder = SrSettings::new_builder(self.config.base_url().to_owned());
        builder.set_timeout(CALL_TIMEOUT);
        if let (Some(user), Some(password)) = (&self.config.username, &self.config.password) {
            builder
                .set_basic_authorization(user, Some(&String::from_utf8_lossy(password.expose())));
        }
        builder
            .build()
            .map_err(|e| Failure::Unavailable(format!("cannot make the HTTP client: {e}")))
    }

    async fn resolve_missing(&self) -> Result<(), Failure> {
        // A client per attempt: its pooled connections belong to the runtime that
        // made them, and attempts run on different ones.
        let settings = self.settings()?;
        for (i, (subject, kind)) in self.subjects.iter().enumerate() {
            if self.ids[i].get().is_some() {
                continue;
            }
            let id = self.resolve(&settings, subject, *kind).await?;
            if self.ids[i].set(id).is_ok() {
                events::SchemaIdKnown {
                    subject,
                    record: kind.record_name(),
                    id,
                }
                .emit();
            }
        }
        Ok(())
    }

    /// The id of hookgate's `kind` schema under `subject`: registered (an identical
    /// schema answers its existing id), or with `auto_register = false` the latest
    /// registered version's, once the registry says ours is compatible with it
    /// (Confluent's `use.latest.version` with `latest.compatibility.strict`).
    async fn resolve(
        &self,
        settings: &SrSettings,
        subject: &str,
        kind: RecordKind,
    ) -> Result<u32, Failure> {
        let text = kind.schema().map_err(Failure::Refused)?;
        let schema = SuppliedSchema::new(
            Some(kind.record_name().to_owned()),
            SchemaType::Json,
            text.to_owned(),
        );
        let failed = |e: SRCError| self.classify(subject, &e);
        if self.config.auto_register {
            return post_schema(settings, subject.to_owned(), schema)
                .await
                .map(|r| r.id)
                .map_err(failed);
        }
        let latest = get_schema_by_subject_and_version(settings, subject, None)
            .await
            .map_err(failed)?;
        if is_compatible_schema(settings, subject.to_owned(), schema)
            .await
            .map_err(failed)?
        {
            Ok(latest.id)
        } else {
            Err(Failure::Refused(format!(
                "subject `{subject}`: its latest schema (id {}) is not compatible with \
                 hookgate's {} (auto_register = false)",
                latest.id,
                kind.record_name()
            )))
        }
    }

    fn classify(&self, subject: &str, e: &SRCError) -> Failure {
        let status = |code: &str| e.error.contains(&format!("status {code}"));
        let message = registry_message(e);
        if status("409") {
            Failure::Refused(format!(
                "subject `{subject}`: the registry refuses the schema as incompatible: {message}"
            ))
        } else if status("422") {
            Failure::Refused(format!(
                "subject `{subject}`: the registry refuses the schema as invalid: {message}"
            ))
        } else if status("404") && !self.config.auto_register {
            Failure::Unavailable(format!(
                "subject `{subject}` has no schema registered (auto_register = false: register \
                 hookgate's schema under it, or set auto_register = true): {message}"
            ))
        } else if status("401") || status("403") {
            Failure::Unavailable(format!(
                "subject `{subject}`: the registry refused the credentials \
                 ([output.schema_registry] username/password): {message}"
            ))
        } else {
            Failure::Unavailable(format!("subject `{subject}`: {message}"))
        }
    }
}

/// What the registry (or the connection) said: the registry's own message when it
/// answered with one, else the error and its causes.
fn registry_message(e: &SRCError) -> String {
    let mut source = std::error::Error::source(e);
    if let Some(raw) = source.and_then(|s| s.downcast_ref::<RawError>()) {
        return format!("{} (error_code {})", raw.message, raw.error_code);
    }
    // A failed HTTP call: its innermost cause says why (connection refused, a
    // timeout, a certificate), the layers above it only that a request failed.
    let mut innermost = None;
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    match innermost {
        Some(why) if e.error.starts_with("http call") => format!("cannot reach it: {why}"),
        Some(why) => format!("{}: {why}", e.error),
        None => e.error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::registry::SubjectStrategy;

    fn config(strategy: SubjectStrategy) -> SchemaRegistryConfig {
        SchemaRegistryConfig {
            // Nothing listens on port 1: every attempt fails at once.
            url: "http://127.0.0.1:1/".into(),
            username: None,
            password: None,
            subject_strategy: strategy,
            auto_register: true,
        }
    }

    fn topics(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn subjects_are_one_per_topic_and_kind_each_once() {
        let (events, dead) = (topics(&["e", "chat"]), topics(&["d"]));
        let subjects = |s| {
            SchemaIds::new(&config(s), RecordKind::Event, &events, &dead)
                .map(|ids| ids.subjects().map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(
            subjects(SubjectStrategy::Topic),
            ["e-value", "chat-value", "d-value"]
        );
        assert_eq!(
            subjects(SubjectStrategy::Record),
            ["dev.hookgate.CloudEvent", "dev.hookgate.DeadLetter"]
        );
        assert_eq!(
            subjects(SubjectStrategy::TopicRecord),
            [
                "e-dev.hookgate.CloudEvent",
                "chat-dev.hookgate.CloudEvent",
                "d-dev.hookgate.DeadLetter"
            ]
        );
    }

    #[test]
    fn an_unreachable_registry_starts_without_ids_and_says_why() {
        let ids = SchemaIds::start(
            &config(SubjectStrategy::Topic),
            RecordKind::EventData,
            &topics(&["e"]),
            &topics(&["d"]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = ids.event_id("e").err().unwrap_or_default();
        assert!(
            e.contains("subject `e-value`") && e.contains("http://127.0.0.1:1"),
            "{e}"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let why = rt.block_on(ids.ready()).err().unwrap_or_default();
        assert!(why.contains("http://127.0.0.1:1"), "{why}");
        assert!(ids.dead_letter_id("elsewhere").is_err());
    }
}
