//! Reading the dead-letter topic back (for `hookgate replay`): from the consumer
//! group's committed offsets to the end the topic had when the run started,
//! committing only what the caller says is done.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::client::client_config;
use super::context::BrokerContext;
use super::KafkaOutputConfig;

/// A dead letter's JSON, without the schema-id header a registry-framed record
/// starts with (records written before the registry was configured have none).
fn unframed(payload: &[u8]) -> &[u8] {
    crate::output::registry::wire::unframe(payload).map_or(payload, |(_, json)| json)
}

/// One record of the dead-letter topic.
#[derive(Debug)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub payload: Vec<u8>,
}

pub struct DeadLetterReader {
    consumer: BaseConsumer<BrokerContext>,
    topic: String,
    /// Per partition, the end (high watermark) when the run started: the run reads
    /// what was there then, not what arrives meanwhile.
    ends: HashMap<i32, i64>,
    /// Per partition, the next offset to read.
    positions: HashMap<i32, i64>,
}

impl DeadLetterReader {
    /// A reader of the dead-letter `topic` (the configured one, or a routed one).
    pub fn open(config: &KafkaOutputConfig, topic: &str, group: &str) -> Result<Self, String> {
        // The producer's own settings mean nothing to a consumer.
        let mut cfg = client_config(config, &["linger.ms", "compression.type", "batch.size"]);
        let context = BrokerContext::default();
        let consumer: BaseConsumer<BrokerContext> = cfg
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .create_with_context(context.clone())
            .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
        let topic = topic.to_owned();
        let timeout = Duration::from_secs(10);
        let md = consumer
            .fetch_metadata(Some(&topic), timeout)
            .map_err(|e| context.unreachable(&e))?;
        let partitions: Vec<i32> = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().iter().map(|p| p.id()).collect())
            .unwrap_or_default();
        if partitions.is_empty() {
            return Err(format!(
                "topic `{topic}` does not exist or has no partitions"
            ));
        }
        let mut wanted = TopicPartitionList::new();
        for p in &partitions {
            wanted.add_partition(&topic, *p);
        }
        let committed = consumer
            .committed_offsets(wanted, timeout)
            .map_err(|e| format!("cannot read the group's committed offsets: {e}"))?;
        let (mut ends, mut positions) = (HashMap::new(), HashMap::new());
        let mut assign = TopicPartitionList::new();
        for p in &partitions {
            let (low, high) = consumer
                .fetch_watermarks(&topic, *p, timeout)
                .map_err(|e| format!("cannot read the end of `{topic}`/{p}: {e}"))?;
            let start = committed
                .find_partition(&topic, *p)
                .and_then(|e| e.offset().to_raw())
                .filter(|o| *o >= 0)
                .unwrap_or(low)
                .max(low);
            ends.insert(*p, high);
            positions.insert(*p, start);
            assign
                .add_partition_offset(&topic, *p, Offset::Offset(start))
                .map_err(|e| e.to_string())?;
        }
        consumer.assign(&assign).map_err(|e| e.to_string())?;
        Ok(Self {
            consumer,
            topic,
            ends,
            positions,
        })
    }

    /// Records still to read (an estimate for the progress bar).
    pub fn remaining(&self) -> u64 {
        self.ends
            .iter()
            .map(|(p, end)| (end - self.positions.get(p).copied().unwrap_or(*end)).max(0) as u64)
            .sum()
    }

    fn finished(&self) -> bool {
        self.ends
            .iter()
            .all(|(p, end)| self.positions.get(p).is_some_and(|pos| pos >= end))
    }

    /// The next record, `None` once every partition reached the end it had at the
    /// start. `Err` when the broker cannot be read for `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Result<Consumed, String>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.finished() {
                return None;
            }
            if std::time::Instant::now() >= deadline {
                return Some(Err(format!(
                    "no record from `{}` within {timeout:?} ({} left)",
                    self.topic,
                    self.remaining()
                )));
            }
            match self.consumer.poll(Duration::from_millis(200)) {
                None => continue,
                Some(Err(e)) => return Some(Err(e.to_string())),
                Some(Ok(m)) => {
                    let (partition, offset) = (m.partition(), m.offset());
                    self.positions.insert(partition, offset + 1);
                    if self.ends.get(&partition).is_some_and(|end| offset >= *end) {
                        continue; // arrived after the run started
                    }
                    let payload = m.payload().unwrap_or_default();
                    return Some(Ok(Consumed {
                        partition,
                        offset,
                        payload: unframed(payload).to_vec(),
                    }));
                }
            }
        }
    }

    /// Commits, per partition, the next offset a later run starts from.
    pub fn commit(&self, next: &HashMap<i32, i64>) -> Result<(), String> {
        if next.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for (p, o) in next {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o))
                .map_err(|e| e.to_string())?;
        }
        self.consumer
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| format!("cannot commit offsets: {e}"))
    }
}
