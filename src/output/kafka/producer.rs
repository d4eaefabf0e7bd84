//! The Kafka producer: one idempotent producer (acks=all) shared by all requests;
//! a record's write resolves only when the broker acknowledged it, within the
//! acknowledgement budget. The only module that knows rdkafka.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, PurgeConfig, ThreadedProducer};

use super::acks::{Ack, AckContext, Acked};
use super::client::client_config;
use super::context::BrokerContext;
use super::record::{dead_letter_record, event_record, Record};
use super::route::{RouteKey, Routes};
use super::KafkaOutputConfig;
use crate::event::{CanonicalEvent, DeadLetter};
use crate::output::registry::SchemaIds;
use crate::output::{Output, OutputError, Readiness};

/// Why the producer could not be created.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot create the Kafka producer: {0}")]
    Create(String),
    /// The schema registry refused one of hookgate's schemas.
    #[error("{0}")]
    Registry(String),
}

/// How a delivery failure should be read (after Vector's kafka sink): retryable
/// failures clear up by themselves (broker down, queue full, timeouts); fatal ones
/// need an operator (authorization, unknown topic, record too large); producer-state
/// failures mean the idempotent producer's state was rejected and only a new
/// producer recovers (librdkafka's documented remedy for its fatal errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Retryable,
    Fatal,
    ProducerState,
    /// The broker refuses this record itself (too large, invalid): no retry helps.
    RecordRejected,
}

pub fn classify(e: &KafkaError) -> ErrorClass {
    use RDKafkaErrorCode as C;
    let code = match e {
        KafkaError::MessageProduction(c) => *c,
        KafkaError::Canceled => return ErrorClass::Retryable,
        other => match other.rdkafka_error_code() {
            Some(c) => c,
            None => return ErrorClass::Retryable,
        },
    };
    match code {
        // A timed-out record leaves a gap in the idempotent sequence that librdkafka
        // closes by bumping the producer epoch locally. Some Kafka-protocol brokers
        // fail on that path (Tansu 0.6 panics in its sqlite storage), so start a
        // fresh idempotence session instead: nothing is lost, the timed-out records
        // were answered 503 and come back as retries.
        C::MessageTimedOut
        // `Unknown` is what Tansu answers an idempotent producer whose sequence it
        // lost track of across a restart; real Kafka answers the specific codes.
        | C::Fatal
        | C::Unknown
        | C::UnknownProducerId
        | C::OutOfOrderSequenceNumber
        | C::InvalidProducerEpoch
        | C::InvalidProducerIdMapping
        | C::ProducerFenced => ErrorClass::ProducerState,
        C::MessageSizeTooLarge | C::InvalidMessageSize | C::InvalidMessage | C::InvalidRecord => {
            ErrorClass::RecordRejected
        }
        C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::Authentication
        | C::SaslAuthenticationFailed
        | C::SSL
        | C::UnknownTopic
        | C::UnknownTopicOrPartition
        | C::InvalidTopic
        | C::UnsupportedVersion
        | C::InvalidConfig => ErrorClass::Fatal,
        _ => ErrorClass::Retryable,
    }
}

/// hookgate's producer settings where `[output.librdkafka]` does not set them.
/// Every answer waits for its record's acknowledgement, so the answer's latency
/// comes first: a record is sent at once (`linger.ms` 0, no Nagle delay, as the
/// Java client always does) and librdkafka still batches what arrives while
/// earlier requests are in flight. Measured against `linger.ms` 5 and 1 in
/// docs/performance.md: a lone delivery answered in ~0.6 ms instead of ~6.7 ms,
/// for ~20 % more CPU per delivery under load.
const PRODUCER_DEFAULTS: [(&str, &str); 3] = [
    ("compression.type", "zstd"),
    ("linger.ms", "0"),
    ("socket.nagle.disable", "true"),
];

/// A producer whose polling thread completes each record's [`Ack`].
type Client = ThreadedProducer<AckContext>;

/// The producer and its generation. Replaced as a whole when its session is
/// spoiled; the generation makes many concurrent failures retire it once.
struct Session {
    generation: u64,
    producer: Client,
}

pub struct KafkaOutput {
    /// Read by every record without a lock; swapped under `replacing`.
    session: ArcSwap<Session>,
    replacing: Mutex<()>,
    client_config: ClientConfig,
    context: AckContext,
    config: KafkaOutputConfig,
    routes: Routes,
    /// The schema ids every record value is framed with (`[output.schema_registry]`).
    registry: Option<Arc<SchemaIds>>,
}

impl KafkaOutput {
    /// Creates the producer. Succeeds while the broker is down: the gateway starts,
    /// reports not ready and answers 503 until the broker is reachable.
    pub fn new(config: &KafkaOutputConfig) -> Result<Self, KafkaConfigError> {
        config.validate().map_err(KafkaConfigError::Invalid)?;
        let routes = config.routes().map_err(KafkaConfigError::Invalid)?;
        let mut cfg = client_config(config, &[]);
        let timeout_ms = config.ack_timeout.as_millis().max(1).to_string();
        cfg.set("enable.idempotence", "true")
            .set("acks", "all")
            // librdkafka gives up on a record when we stop waiting for it, so a
            // record answered 503 is (almost always) not written later behind our back.
            .set("message.timeout.ms", &timeout_ms);
        for (key, value) in PRODUCER_DEFAULTS {
            if !config.librdkafka.contains_key(key) {
                cfg.set(key, value);
            }
        }
        crate::telemetry::events::KafkaClientFailed::register_kinds();
        let context = AckContext::default();
        let producer: Client = cfg
            .create_with_context(context.clone())
            .map_err(|e| KafkaConfigError::Create(e.to_string()))?;
        let registry = config
            .schema_registry
            .as_ref()
            .map(|r| {
                SchemaIds::start(
                    r,
                    config.event_record_kind(),
                    &routes.event_topics(),
                    &routes.dead_letter_topics(),
                )
            })
            .transpose()
            .map_err(KafkaConfigError::Registry)?;
        Ok(Self {
            session: ArcSwap::from_pointee(Session {
                generation: 0,
                producer,
            }),
            replacing: Mutex::new(()),
            client_config: cfg,
            context,
            config: config.clone(),
            routes,
            registry,
        })
    }

    fn current(&self) -> Arc<Session> {
        self.session.load_full()
    }

    /// Retires producer generation `generation` (if it is still current) for a fresh
    /// one. Records still queued in the old one fail at once, are answered 503 and
    /// come back as provider retries.
    fn replace_producer(&self, generation: u64) {
        let _one_at_a_time = self.replacing.lock().unwrap_or_else(|p| p.into_inner());
        if self.session.load().generation != generation {
            return;
        }
        match self
            .client_config
            .create_with_context::<_, Client>(self.context.clone())
        {
            Ok(fresh) => {
                let old = self.session.swap(Arc::new(Session {
                    generation: generation + 1,
                    producer: fresh,
                }));
                // Fail what the old producer still holds (its requests answer 503)
                // so it never resumes its stale session; destroying a librdkafka
                // client blocks, so do it off the async workers.
                old.producer
                    .purge(PurgeConfig::default().queue().inflight().non_blocking());
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    handle.spawn_blocking(move || drop(old));
                }
                tracing::warn!(
                    "started a fresh Kafka producer session (timed-out or rejected records)"
                );
            }
            Err(e) => tracing::error!(error = %e, "cannot recreate the Kafka producer"),
        }
    }

    /// Writes one record; resolves once the broker acknowledged it.
    pub async fn produce(&self, record: &Record) -> Result<(), OutputError> {
        self.send(record)?.acked(self).await
    }

    /// Hands a record to the producer (in the order of the calls: one partition's
    /// records keep it); [`InFlight::acked`] then waits for the broker.
    pub fn send(&self, record: &Record) -> Result<InFlight, OutputError> {
        let headers = record.headers.iter().fold(
            OwnedHeaders::new_with_capacity(record.headers.len()),
            |h, (key, value)| {
                h.insert(Header {
                    key,
                    value: Some(value.as_slice()),
                })
            },
        );
        let ack = Arc::new(Ack::default());
        let base = BaseRecord::with_opaque_to(&record.topic, ack.clone())
            .key(&record.key)
            .payload(&record.value)
            .headers(headers);
        let session = self.current();
        match session.producer.send(base) {
            Ok(()) => Ok(InFlight {
                generation: session.generation,
                ack: ack.outcome(),
            }),
            Err((e, _)) => Err(self.failed(&e, session.generation)),
        }
    }

    fn check_metadata(
        session: &Session,
        context: &BrokerContext,
        topics: &[String],
    ) -> Result<(), String> {
        let md = session
            .producer
            .client()
            .fetch_metadata(None, Duration::from_secs(2))
            .map_err(|e| context.unreachable(&e))?;
        context.clear();
        for t in topics {
            match md.topics().iter().find(|m| m.name() == t) {
                None => return Err(format!("topic `{t}` does not exist")),
                Some(m) if m.error().is_some() => {
                    return Err(format!("topic `{t}`: {:?}", m.error()))
                }
                Some(m) if m.partitions().is_empty() => {
                    return Err(format!("topic `{t}` has no partitions"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl KafkaOutput {
    fn failed(&self, e: &KafkaError, generation: u64) -> OutputError {
        let class = classify(e);
        match class {
            ErrorClass::Fatal => {
                tracing::error!(error = %e, "Kafka delivery failed with an error that needs an operator")
            }
            ErrorClass::RecordRejected => {
                tracing::error!(error = %e, "Kafka refused the record itself")
            }
            ErrorClass::ProducerState => self.replace_producer(generation),
            ErrorClass::Retryable => {
                tracing::warn!(error = %e, "Kafka delivery failed; the provider will retry")
            }
        }
        let detail = format!("kafka ({class:?}): {e}");
        if class == ErrorClass::RecordRejected {
            OutputError::Rejected(detail)
        } else {
            OutputError::Unavailable(detail)
        }
    }

    /// Whether the broker can be reached and every topic a record can go to exists.
    pub async fn check_broker(&self) -> Result<(), OutputError> {
        let session = self.current();
        let topics = self.routes.topics();
        let context = self.context.broker.clone();
        tokio::task::spawn_blocking(move || Self::check_metadata(&session, &context, &topics))
            .await
            .map_err(|e| OutputError::Unavailable(e.to_string()))?
            .map_err(OutputError::Unavailable)
    }

    /// Flushes the producer within `budget`.
    pub async fn flush(&self, budget: Duration) {
        let session = self.current();
        let flushed = tokio::task::spawn_blocking(move || session.producer.flush(budget)).await;
        match flushed {
            Ok(Ok(())) => tracing::info!("Kafka producer flushed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "Kafka producer flush incomplete"),
            Err(e) => tracing::warn!(error = %e, "Kafka producer flush task failed"),
        }
    }

    pub fn config(&self) -> &KafkaOutputConfig {
        &self.config
    }

    /// The record an event is written as, on its routed topic (framed with its
    /// schema id when a registry is configured; 503 until that id is known).
    pub fn event_record(&self, event: &CanonicalEvent) -> Result<Record, OutputError> {
        let topic = self.routes.event_topic(&RouteKey::of(event));
        crate::telemetry::trace::destination(topic);
        let schema_id = self.schema_id(|ids| ids.event_id(topic))?;
        event_record(event, topic, self.config.mode, schema_id)
    }

    /// The record a dead letter is written as, on its routed topic (framed like
    /// an event's).
    pub fn dead_letter_record(&self, record: &DeadLetter) -> Result<Record, OutputError> {
        let topic = self
            .routes
            .dead_letter_topic(&record.provider, &record.source);
        crate::telemetry::trace::destination(topic);
        let schema_id = self.schema_id(|ids| ids.dead_letter_id(topic))?;
        dead_letter_record(record, topic, schema_id)
    }

    fn schema_id(
        &self,
        id: impl FnOnce(&Arc<SchemaIds>) -> Result<u32, String>,
    ) -> Result<Option<u32>, OutputError> {
        self.registry
            .as_ref()
            .map(id)
            .transpose()
            .map_err(|e| OutputError::Unavailable(format!("schema registry: {e}")))
    }

    /// Whether every schema id is known (always, without a registry); retries
    /// the registry when it is due.
    pub async fn check_registry(&self) -> Result<(), OutputError> {
        match &self.registry {
            None => Ok(()),
            Some(ids) => ids
                .ready()
                .await
                .map_err(|e| OutputError::Unavailable(format!("schema registry: {e}"))),
        }
    }
}

/// A record handed to the producer, awaiting the broker's acknowledgement.
pub struct InFlight {
    generation: u64,
    ack: Acked,
}

impl InFlight {
    /// Resolves once the broker acknowledged the record, or failed it.
    pub async fn acked(self, output: &KafkaOutput) -> Result<(), OutputError> {
        // librdkafka times the record out at `message.timeout.ms`; the margin only
        // guards against a lost callback.
        let budget = output.config.ack_timeout + Duration::from_millis(500);
        match tokio::time::timeout(budget, self.ack).await {
            Err(_) => {
                // We gave up on the record: as for librdkafka's own timeout, its
                // session must not resume with a gap (see `classify`).
                tracing::warn!("no Kafka acknowledgement within the budget");
                output.replace_producer(self.generation);
                Err(OutputError::Unavailable(
                    "no broker acknowledgement within the budget".into(),
                ))
            }
            Ok(Err(KafkaError::Canceled)) => {
                Err(OutputError::Unavailable("producer shut down".into()))
            }
            Ok(Err(e)) => Err(output.failed(&e, self.generation)),
            Ok(Ok(())) => Ok(()),
        }
    }
}

#[async_trait]
impl Output for KafkaOutput {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        self.produce(&self.event_record(event)?).await
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        self.produce(&self.dead_letter_record(record)?).await
    }

    async fn ready(&self) -> Result<Readiness, OutputError> {
        self.check_registry().await?;
        self.check_broker().await.map(|()| Readiness::Ready)
    }

    async fn shutdown(&self, budget: Duration) {
        self.flush(budget.max(self.config.ack_timeout)).await;
    }

    fn kind(&self) -> &'static str {
        "kafka"
    }

    /// The idempotent producer writes one partition's records in the order they
    /// were handed over, without gaps: a failed record fails those behind it.
    fn concurrent_batches(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lib: &[(&str, &str)]) -> KafkaOutputConfig {
        KafkaOutputConfig {
            brokers: "127.0.0.1:1".into(),
            topic: "t".into(),
            dead_letter_topic: "d".into(),
            mode: super::super::KafkaMode::Structured,
            ack_timeout: Duration::from_secs(3),
            librdkafka: lib
                .iter()
                .map(|(k, v)| {
                    (
                        (*k).into(),
                        super::super::LibrdkafkaValue::String((*v).into()),
                    )
                })
                .collect(),
            spool: None,
            sasl: None,
            tls: None,
            route: Vec::new(),
            schema_registry: None,
        }
    }

    #[test]
    fn safety_settings_cannot_be_overridden() {
        for key in [
            "acks",
            "enable.idempotence",
            "message.timeout.ms",
            "bootstrap.servers",
            "security.protocol",
            "sasl.password",
            "ssl.ca.location",
        ] {
            let e = KafkaOutput::new(&settings(&[(key, "1")])).err();
            assert!(
                matches!(&e, Some(KafkaConfigError::Invalid(m)) if m.contains(key)),
                "{key}: {e:?}"
            );
        }
        let chosen = KafkaOutput::new(&settings(&[
            ("compression.type", "lz4"),
            ("linger.ms", "5"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chosen.client_config.get("linger.ms"), Some("5"));
        assert_eq!(chosen.client_config.get("compression.type"), Some("lz4"));
        assert_eq!(
            chosen.client_config.get("socket.nagle.disable"),
            Some("true")
        );
        let defaults = KafkaOutput::new(&settings(&[])).unwrap_or_else(|e| panic!("{e}"));
        for (key, value) in PRODUCER_DEFAULTS {
            assert_eq!(defaults.client_config.get(key), Some(value), "{key}");
        }
        // librdkafka refuses a property it does not know when the producer is made.
        let e = KafkaOutput::new(&settings(&[("no.such.property", "1")])).err();
        assert!(
            matches!(&e, Some(KafkaConfigError::Create(m)) if m.contains("no.such.property")),
            "{e:?}"
        );
    }

    #[test]
    fn classification() {
        use RDKafkaErrorCode as C;
        let cases = [
            (C::QueueFull, ErrorClass::Retryable),
            (C::AllBrokersDown, ErrorClass::Retryable),
            (C::NotLeaderForPartition, ErrorClass::Retryable),
            (C::MessageTimedOut, ErrorClass::ProducerState),
            (C::OutOfOrderSequenceNumber, ErrorClass::ProducerState),
            (C::Unknown, ErrorClass::ProducerState),
            (C::Fatal, ErrorClass::ProducerState),
            (C::MessageSizeTooLarge, ErrorClass::RecordRejected),
            (C::TopicAuthorizationFailed, ErrorClass::Fatal),
            (C::UnknownTopicOrPartition, ErrorClass::Fatal),
        ];
        for (code, class) in cases {
            assert_eq!(
                classify(&KafkaError::MessageProduction(code)),
                class,
                "{code:?}"
            );
        }
    }
}
