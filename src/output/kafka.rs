//! The Kafka output: one idempotent producer (acks=all) shared by all requests;
//! `deliver` resolves only when the broker acknowledged the record, within the
//! acknowledgement budget. The only module that knows rdkafka.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};

use super::{Output, OutputError};
use crate::event::{CanonicalEvent, DeadLetter};

pub use super::KafkaMode as Mode;

/// Settings hookgate owns because its delivery promise rests on them.
const PROTECTED: &[(&str, &str)] = &[
    ("bootstrap.servers", "set `brokers`"),
    ("metadata.broker.list", "set `brokers`"),
    (
        "enable.idempotence",
        "hookgate always uses the idempotent producer",
    ),
    ("acks", "hookgate always uses acks=all"),
    ("request.required.acks", "hookgate always uses acks=all"),
    ("message.timeout.ms", "set `ack_timeout`"),
    ("delivery.timeout.ms", "set `ack_timeout`"),
];

/// Why a librdkafka setting was refused.
#[derive(Debug, thiserror::Error)]
pub enum KafkaConfigError {
    #[error("librdkafka.\"{key}\" cannot be set here: {why}")]
    Protected { key: String, why: &'static str },
    #[error("cannot create the Kafka producer: {0}")]
    Create(String),
}

/// What the Kafka output needs from the configuration.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    pub brokers: String,
    pub topic: String,
    pub dead_letter_topic: String,
    pub mode: Mode,
    pub ack_timeout: Duration,
    pub librdkafka: BTreeMap<String, String>,
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
        C::MessageSizeTooLarge
        | C::InvalidMessageSize
        | C::InvalidMessage
        | C::TopicAuthorizationFailed
        | C::ClusterAuthorizationFailed
        | C::UnknownTopic
        | C::UnknownTopicOrPartition
        | C::InvalidTopic
        | C::InvalidRecord
        | C::UnsupportedVersion
        | C::InvalidConfig => ErrorClass::Fatal,
        _ => ErrorClass::Retryable,
    }
}

pub struct KafkaOutput {
    /// The producer and its generation. Replaced as a whole when its session is
    /// spoiled; the generation makes many concurrent failures retire it once.
    producer: RwLock<(u64, FutureProducer)>,
    config: ClientConfig,
    settings: KafkaSettings,
}

impl KafkaOutput {
    /// Creates the producer. Succeeds while the broker is down: the gateway starts,
    /// reports not ready and answers 503 until the broker is reachable.
    pub fn new(settings: KafkaSettings) -> Result<Self, KafkaConfigError> {
        let mut cfg = ClientConfig::new();
        for (k, v) in &settings.librdkafka {
            if let Some((_, why)) = PROTECTED.iter().find(|(p, _)| p == k) {
                return Err(KafkaConfigError::Protected {
                    key: k.clone(),
                    why,
                });
            }
            cfg.set(k, v);
        }
        let timeout_ms = settings.ack_timeout.as_millis().max(1).to_string();
        cfg.set("bootstrap.servers", &settings.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // librdkafka gives up on a record when we stop waiting for it, so a
            // record answered 503 is (almost always) not written later behind our back.
            .set("message.timeout.ms", &timeout_ms);
        if !settings.librdkafka.contains_key("compression.type") {
            cfg.set("compression.type", "zstd");
        }
        if !settings.librdkafka.contains_key("linger.ms") {
            cfg.set("linger.ms", "5");
        }
        let producer: FutureProducer = cfg
            .create()
            .map_err(|e| KafkaConfigError::Create(e.to_string()))?;
        Ok(Self {
            producer: RwLock::new((0, producer)),
            config: cfg,
            settings,
        })
    }

    fn current(&self) -> (u64, FutureProducer) {
        match self.producer.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Retires producer generation `generation` (if it is still current) for a fresh
    /// one. Records still queued in the old one fail at once, are answered 503 and
    /// come back as provider retries.
    fn replace_producer(&self, generation: u64) {
        let mut slot = match self.producer.write() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        if slot.0 != generation {
            return;
        }
        match self.config.create::<FutureProducer>() {
            Ok(fresh) => {
                let (_, old) = std::mem::replace(&mut *slot, (generation + 1, fresh));
                drop(slot);
                // Fail what the old producer still holds (its requests answer 503)
                // so it never resumes its stale session; destroying a librdkafka
                // client blocks, so do it off the async workers.
                old.purge(PurgeConfig::default().queue().inflight().non_blocking());
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

    async fn produce(
        &self,
        topic: &str,
        key: &[u8],
        value: &[u8],
        headers: OwnedHeaders,
    ) -> Result<(), OutputError> {
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(value)
            .headers(headers);
        let (generation, producer) = self.current();
        let fut = match producer.send_result(record) {
            Ok(f) => f,
            Err((e, _)) => return Err(self.failed(&e, generation)),
        };
        // librdkafka times the record out at `message.timeout.ms`; the margin only
        // guards against a lost callback.
        match tokio::time::timeout(self.settings.ack_timeout + Duration::from_millis(500), fut)
            .await
        {
            Err(_) => {
                // We gave up on the record: as for librdkafka's own timeout, its
                // session must not resume with a gap (see `classify`).
                tracing::warn!(
                    "no Kafka acknowledgement within the budget; the provider will retry"
                );
                self.replace_producer(generation);
                Err(OutputError::Unavailable(
                    "no broker acknowledgement within the budget".into(),
                ))
            }
            Ok(Err(_canceled)) => Err(OutputError::Unavailable("producer shut down".into())),
            Ok(Ok(Err((e, _)))) => Err(self.failed(&e, generation)),
            Ok(Ok(Ok(_delivery))) => Ok(()),
        }
    }

    fn check_metadata(producer: &FutureProducer, topics: &[String]) -> Result<(), String> {
        let md = producer
            .client()
            .fetch_metadata(None, Duration::from_secs(2))
            .map_err(|e| format!("broker unreachable: {e}"))?;
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
            ErrorClass::ProducerState => self.replace_producer(generation),
            ErrorClass::Retryable => {
                tracing::warn!(error = %e, "Kafka delivery failed; the provider will retry")
            }
        }
        OutputError::Unavailable(format!("kafka ({class:?}): {e}"))
    }
}

fn header(h: OwnedHeaders, key: &str, value: &str) -> OwnedHeaders {
    h.insert(Header {
        key,
        value: Some(value.as_bytes()),
    })
}

/// The record for an event: (key, value, headers), per the CloudEvents Kafka binding.
pub fn event_record(
    event: &CanonicalEvent,
    mode: Mode,
) -> Result<(String, Vec<u8>, OwnedHeaders), OutputError> {
    let key = event.key();
    match mode {
        Mode::Structured => {
            let value =
                serde_json::to_vec(event).map_err(|e| OutputError::Encode(e.to_string()))?;
            let h = header(
                OwnedHeaders::new(),
                "content-type",
                "application/cloudevents+json; charset=utf-8",
            );
            Ok((key, value, h))
        }
        Mode::Binary => {
            let value =
                serde_json::to_vec(&event.data).map_err(|e| OutputError::Encode(e.to_string()))?;
            let id = event.id.to_string();
            let mut h = header(OwnedHeaders::new(), "content-type", &event.datacontenttype);
            let attrs: [(&str, Option<&str>); 12] = [
                ("ce_specversion", Some(&event.specversion)),
                ("ce_id", Some(&id)),
                ("ce_source", Some(&event.source)),
                ("ce_type", Some(&event.ty)),
                ("ce_time", Some(&event.time)),
                ("ce_subject", event.subject.as_deref()),
                ("ce_provider", Some(&event.provider)),
                ("ce_providereventtype", Some(&event.providereventtype)),
                ("ce_providereventid", event.providereventid.as_deref()),
                ("ce_tenant", event.tenant.as_deref()),
                ("ce_receivedat", Some(&event.receivedat)),
                ("ce_partitionkey", event.partitionkey.as_deref()),
            ];
            for (k, v) in attrs {
                if let Some(v) = v {
                    h = header(h, k, v);
                }
            }
            Ok((key, value, h))
        }
    }
}

#[async_trait]
impl Output for KafkaOutput {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        let (key, value, headers) = event_record(event, self.settings.mode)?;
        self.produce(&self.settings.topic, key.as_bytes(), &value, headers)
            .await
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        let value = serde_json::to_vec(record).map_err(|e| OutputError::Encode(e.to_string()))?;
        let headers = header(OwnedHeaders::new(), "content-type", "application/json");
        let headers = header(headers, "hookgate_reason", record.reason.as_str());
        // Keyed by source so one source's dead letters stay in order.
        self.produce(
            &self.settings.dead_letter_topic,
            record.source.as_bytes(),
            &value,
            headers,
        )
        .await
    }

    async fn ready(&self) -> Result<(), OutputError> {
        let (_, producer) = self.current();
        let topics = vec![
            self.settings.topic.clone(),
            self.settings.dead_letter_topic.clone(),
        ];
        tokio::task::spawn_blocking(move || Self::check_metadata(&producer, &topics))
            .await
            .map_err(|e| OutputError::Unavailable(e.to_string()))?
            .map_err(OutputError::Unavailable)
    }

    async fn shutdown(&self) {
        let (_, producer) = self.current();
        let budget = self.settings.ack_timeout + Duration::from_secs(2);
        let flushed = tokio::task::spawn_blocking(move || producer.flush(budget)).await;
        match flushed {
            Ok(Ok(())) => tracing::info!("Kafka producer flushed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "Kafka producer flush incomplete"),
            Err(e) => tracing::warn!(error = %e, "Kafka producer flush task failed"),
        }
    }

    fn kind(&self) -> &'static str {
        "kafka"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lib: &[(&str, &str)]) -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:1".into(),
            topic: "t".into(),
            dead_letter_topic: "d".into(),
            mode: Mode::Structured,
            ack_timeout: Duration::from_secs(3),
            librdkafka: lib
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    #[test]
    fn safety_settings_cannot_be_overridden() {
        for key in [
            "acks",
            "enable.idempotence",
            "message.timeout.ms",
            "bootstrap.servers",
        ] {
            let e = KafkaOutput::new(settings(&[(key, "1")]))
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(key)),
                "{key}: {e:?}"
            );
        }
        assert!(
            KafkaOutput::new(settings(&[("compression.type", "lz4"), ("linger.ms", "1")])).is_ok()
        );
        assert!(KafkaOutput::new(settings(&[("no.such.property", "1")])).is_err());
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
            (C::MessageSizeTooLarge, ErrorClass::Fatal),
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
