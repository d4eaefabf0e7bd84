//! A real Kafka-protocol broker (Tansu) for tests: started on a free loopback port,
//! killed and restarted at will. A test that needs it and cannot get it fails.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

/// The Tansu binary: `$HOOKGATE_TANSU`, the cache `scripts/test.sh` installs into,
/// or `tansu` on the PATH.
pub fn tansu_bin() -> PathBuf {
    if let Ok(p) = std::env::var("HOOKGATE_TANSU") {
        return PathBuf::from(p);
    }
    let cache = std::env::var("HOOKGATE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/hookgate-tools")
        });
    let cached = cache.join("bin/tansu");
    if cached.exists() {
        return cached;
    }
    if let Ok(out) = Command::new("sh").args(["-c", "command -v tansu"]).output() {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "the Tansu broker is required for this test and was not found \
         (looked at $HOOKGATE_TANSU, {}, PATH). Run ./scripts/test.sh, which installs it.",
        cached.display()
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    storage: String,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// In-memory storage: fastest, lost on restart.
    pub fn memory() -> Self {
        Self::start_with("memory://tansu/")
    }

    /// SQLite storage: the log survives a broker restart, as with real Kafka.
    /// (Tansu resolves the path against its working directory, the test's temp dir.)
    pub fn sqlite() -> Self {
        Self::start_with("sqlite://broker.db")
    }

    fn start_with(storage: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = storage.to_owned();
        let mut b = Self {
            child: None,
            port: free_port(),
            storage,
            _dir: dir,
        };
        b.start();
        b
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let child = Command::new(tansu_bin())
            .args(["broker", "--listener-url"])
            .arg(self.url())
            .arg("--advertised-listener-url")
            .arg(self.url())
            .arg("--storage-engine")
            .arg(&self.storage)
            .current_dir(self._dir.path())
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self._dir.path().join("tansu.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("tansu starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {} within 30s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the broker wrote to stderr (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("tansu.log")).unwrap_or_default()
    }

    /// Whether the broker process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGKILL: no chance to flush anything, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let out = Command::new(tansu_bin())
            .args(["topic", "create", "--broker"])
            .arg(self.url())
            .arg("--partitions")
            .arg(partitions.to_string())
            .arg(name)
            .output()
            .expect("tansu topic create runs");
        assert!(
            out.status.success(),
            "tansu topic create {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One consumed record.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Record {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.value).expect("record value is JSON")
    }

    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(hk, _)| hk == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads every partition of `topic` from the beginning until `want` records were
/// seen or `timeout` passed.
pub fn consume(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    want: usize,
    timeout: Duration,
) -> Vec<Record> {
    consume_until(bootstrap, topic, partitions, timeout, |got| {
        got.len() >= want
    })
}

/// Reads every partition of `topic` from the beginning until `want` distinct ids
/// (`id` of each record) were seen or `timeout` passed. A record produced twice
/// (a retry across a broker crash) counts once, so a duplicate cannot end the read
/// before the last id arrived, as `consume(.., want, ..)` would.
pub fn consume_distinct(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    want: usize,
    timeout: Duration,
    id: impl Fn(&Record) -> String,
) -> Vec<Record> {
    let (mut looked, mut ids) = (0, std::collections::HashSet::new());
    consume_until(bootstrap, topic, partitions, timeout, |got| {
        // Only the records since the last call are new.
        ids.extend(got[looked..].iter().map(&id));
        looked = got.len();
        ids.len() >= want
    })
}

/// Everything on `topic` now: each partition's high watermark is fetched first,
/// then the partitions are read from the beginning until each reached it. What a
/// producer had acknowledged before the call is all there, and nothing is waited
/// for past that: the tool for "nothing new on the topic", where waiting a fixed
/// time for records that should not come proves little and costs the wait.
/// Panics if the topic cannot be read to its end within `timeout`.
pub fn consume_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Vec<Record> {
    let deadline = Instant::now() + timeout;
    let consumer = consumer(bootstrap);
    let mut high = Vec::new();
    for p in 0..partitions {
        // A broker just restarted may not answer at once: asked again until the deadline.
        let h = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match consumer.fetch_watermarks(topic, p, left.min(Duration::from_secs(5))) {
                Ok((_, h)) => break h,
                Err(e) if Instant::now() < deadline => eprintln!("watermarks of {topic}/{p}: {e}"),
                Err(e) => panic!("watermarks of {topic}/{p}: {e}"),
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        high.push(h);
    }
    // The next offset to read, per partition.
    let mut reached = vec![0i64; partitions as usize];
    let mut looked = 0;
    let out = consume_until(
        bootstrap,
        topic,
        partitions,
        deadline.saturating_duration_since(Instant::now()),
        |got| {
            for r in &got[looked..] {
                let next = &mut reached[r.partition as usize];
                *next = (*next).max(r.offset + 1);
            }
            looked = got.len();
            reached.iter().zip(&high).all(|(r, h)| r >= h)
        },
    );
    for (p, (r, h)) in reached.iter().zip(&high).enumerate() {
        assert!(
            r >= h,
            "{topic}/{p}: read up to offset {r} of {h} within {timeout:?}"
        );
    }
    out
}

fn consumer(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("hookgate-test-{}", uuid::Uuid::new_v4()),
        )
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer")
}

/// Reads every partition of `topic` from the beginning (each partition's records in
/// offset order) until `done` says so or `timeout` passed.
pub fn consume_until(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    timeout: Duration,
    mut done: impl FnMut(&[Record]) -> bool,
) -> Vec<Record> {
    let consumer = consumer(bootstrap);
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while !done(&out) && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|x| {
                                (
                                    x.key.to_owned(),
                                    String::from_utf8_lossy(x.value.unwrap_or_default())
                                        .into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Record {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: m.payload().unwrap_or_default().to_vec(),
                    headers,
                });
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
    out
}
