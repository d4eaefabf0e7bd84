//! A real Kafka-protocol broker (Tansu) for tests: started on a free loopback port,
//! killed and restarted at will. A test that needs it and cannot get it fails.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
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

/// Runs a `tansu` admin command (`topic create`, `user create`) and fails the
/// test with its output if it fails.
fn tansu(args: &[&str]) {
    let out = Command::new(tansu_bin())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tansu {args:?} runs: {e}"));
    assert!(
        out.status.success(),
        "tansu {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
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
    /// `--authentication`: clients must log in (SASL/SCRAM).
    authentication: bool,
    /// TLS in front of the broker (Tansu 0.6 cannot serve TLS itself: its `--cert`
    /// and `--key` flags share a clap group that lets only one be given).
    tls: Option<TlsFront>,
    _dir: tempfile::TempDir,
}

/// stunnel terminating TLS on `port` and forwarding to the broker's plaintext
/// listener, as a TLS load balancer in front of Kafka does; the broker advertises
/// the TLS address so clients come back through it.
struct TlsFront {
    port: u16,
    child: Option<Child>,
}

/// A SCRAM mechanism as `tansu user create --mechanism` names it.
#[derive(Clone, Copy)]
pub enum Scram {
    Sha256,
    Sha512,
}

/// Client settings for a broker that needs them (SASL, TLS), by bootstrap address,
/// so every consumer and fence producer in this file reaches the broker it reads.
type Settings = Vec<(String, String)>;
static CLIENT_SETTINGS: std::sync::Mutex<Vec<(String, Settings)>> =
    std::sync::Mutex::new(Vec::new());

/// A client configuration for `bootstrap`, with the settings registered for it.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap);
    let registered = CLIENT_SETTINGS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, settings)) = registered.iter().find(|(b, _)| b == bootstrap) {
        for (k, v) in settings {
            cfg.set(k, v);
        }
    }
    cfg
}

/// Registers what a test client needs to read from the broker at `bootstrap`.
pub fn register_client_settings(bootstrap: &str, settings: &[(&str, &str)]) {
    let mut registered = CLIENT_SETTINGS.lock().unwrap_or_else(|p| p.into_inner());
    registered.retain(|(b, _)| b != bootstrap);
    registered.push((
        bootstrap.to_owned(),
        settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    ));
}

/// Makes a CA and a server certificate for 127.0.0.1/localhost in `dir` with the
/// `openssl` command: returns (ca.pem, server.pem, server.key).
pub fn make_certificates(dir: &std::path::Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command runs (Debian's openssl package)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca, ca_key) = (format!("{name}-ca.pem"), format!("{name}-ca.key"));
    let (cert, key, csr) = (
        format!("{name}-server.pem"),
        format!("{name}-server.key"),
        format!("{name}-server.csr"),
    );
    let ext = format!("{name}-ext.cnf");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write ext");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name} test CA"),
        "-keyout",
        &ca_key,
        "-out",
        &ca,
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    (dir.join(ca), dir.join(cert), dir.join(key))
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
        let mut b = Self::stopped(storage);
        b.start();
        b
    }

    fn stopped(storage: &str) -> Self {
        Self {
            child: None,
            port: free_port(),
            storage: storage.to_owned(),
            authentication: false,
            tls: None,
            _dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A broker that demands SASL/SCRAM: `users` (name, password, mechanism) and
    /// `topics` are made on a sqlite store by the broker started without
    /// authentication, which then restarts with `--authentication`. With `tls`, a
    /// TLS front (see [`TlsFront`]) with the given certificate and key.
    pub fn with_users(
        users: &[(&str, &str, Scram)],
        topics: &[(&str, u32)],
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Self {
        let mut b = Self::stopped("sqlite://broker.db");
        b.start();
        for (name, password, mechanism) in users {
            let mechanism = match mechanism {
                Scram::Sha256 => "scram256",
                Scram::Sha512 => "scram512",
            };
            let url = b.url();
            tansu(&[
                "user",
                "create",
                "--broker",
                &url,
                "--mechanism",
                mechanism,
                name,
                password,
            ]);
        }
        for (topic, partitions) in topics {
            b.create_topic(topic, *partitions);
        }
        b.kill();
        b.authentication = true;
        if let Some((cert, key)) = tls {
            b.tls = Some(TlsFront::start(b._dir.path(), b.port, cert, key));
        }
        b.start();
        b
    }

    /// A broker behind a TLS front, without authentication.
    pub fn tls(topics: &[(&str, u32)], cert: &std::path::Path, key: &std::path::Path) -> Self {
        // sqlite: the topics made before the restart behind the front stay.
        let mut b = Self::stopped("sqlite://broker.db");
        b.start();
        for (topic, partitions) in topics {
            b.create_topic(topic, *partitions);
        }
        b.kill();
        b.tls = Some(TlsFront::start(b._dir.path(), b.port, cert, key));
        b.start();
        b
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Where clients connect: the TLS front when there is one.
    pub fn bootstrap(&self) -> String {
        match &self.tls {
            Some(t) => format!("127.0.0.1:{}", t.port),
            None => format!("127.0.0.1:{}", self.port),
        }
    }

    fn advertised(&self) -> String {
        format!("tcp://{}", self.bootstrap())
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let mut cmd = Command::new(tansu_bin());
        cmd.args(["broker", "--listener-url"])
            .arg(self.url())
            .arg("--advertised-listener-url")
            .arg(self.advertised())
            .arg("--storage-engine")
            .arg(&self.storage);
        if self.authentication {
            cmd.arg("--authentication");
        }
        let child = cmd
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
        let (url, partitions) = (self.url(), partitions.to_string());
        tansu(&[
            "topic",
            "create",
            "--broker",
            &url,
            "--partitions",
            &partitions,
            name,
        ]);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        if let Some(t) = &mut self.tls {
            if let Some(mut c) = t.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl TlsFront {
    fn start(
        dir: &std::path::Path,
        backend: u16,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Self {
        let stunnel = ["stunnel4", "stunnel"]
            .into_iter()
            .find(|b| {
                Command::new("sh")
                    .args(["-c", &format!("command -v {b}")])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .unwrap_or_else(|| {
                panic!("stunnel is required for the TLS tests (Debian's stunnel4; ./scripts/test.sh installs it)")
            });
        let port = free_port();
        let conf = dir.join(format!("stunnel-{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\nsyslog = no\noutput = {}\n[kafka]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{backend}\ncert = {}\nkey = {}\n",
                dir.join("stunnel.log").display(),
                cert.display(),
                key.display()
            ),
        )
        .expect("write stunnel.conf");
        let child = Command::new(stunnel)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stunnel starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "stunnel did not listen on {port} within 20s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child: Some(child),
        }
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

/// The header of the fence records [`consume_all`] writes; every reader here skips
/// them.
const FENCE_HEADER: &str = "hookgate-test-fence";

/// Everything on `topic` now: a fence record is appended to each partition, then
/// the partitions are read from the beginning until each one's fence came back.
/// What a producer had acknowledged before the call is before the fence, so all of
/// it is there, and nothing is waited for past it: the tool for "nothing new on
/// the topic", where waiting a fixed time for records that should not come proves
/// little and costs the wait. The fences are left out of the answer (and of every
/// other read here).
///
/// Not the high watermarks: Tansu (0.6) reports a partition's as its last batch's
/// base offset + 1, so a read up to it stops inside that batch.
/// Panics if the topic cannot be read up to the fences within `timeout`.
pub fn consume_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Vec<Record> {
    let deadline = Instant::now() + timeout;
    let fence = uuid::Uuid::new_v4().to_string();
    let producer: BaseProducer = client_config(bootstrap)
        .set("acks", "all")
        .create()
        .expect("fence producer");
    for p in 0..partitions {
        let headers = OwnedHeaders::new().insert(Header {
            key: FENCE_HEADER,
            value: Some(fence.as_str()),
        });
        producer
            .send(
                BaseRecord::<(), [u8]>::to(topic)
                    .partition(p)
                    .payload(&[])
                    .headers(headers),
            )
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("fence for {topic}/{p}: {e}"));
    }
    // A fence that fails to be written is never seen: the read below then panics.
    producer
        .flush(deadline.saturating_duration_since(Instant::now()))
        .unwrap_or_else(|e| panic!("fences for {topic} not acknowledged: {e}"));
    let mut fenced = vec![false; partitions as usize];
    let mut out = Vec::new();
    read(bootstrap, topic, partitions, deadline, |m, r| {
        match r {
            Some(r) => out.push(r),
            None => {
                let ours = m.headers().is_some_and(|h| {
                    h.iter()
                        .any(|x| x.key == FENCE_HEADER && x.value == Some(fence.as_bytes()))
                });
                if ours {
                    fenced[m.partition() as usize] = true;
                }
            }
        }
        fenced.iter().all(|f| *f)
    });
    let missing: Vec<usize> = (0..fenced.len()).filter(|p| !fenced[*p]).collect();
    assert!(
        missing.is_empty(),
        "{topic}: the fences of partitions {missing:?} were not read within {timeout:?}"
    );
    out
}

fn consumer(bootstrap: &str) -> BaseConsumer {
    client_config(bootstrap)
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
    let mut out = Vec::new();
    if done(&out) {
        return out;
    }
    read(
        bootstrap,
        topic,
        partitions,
        Instant::now() + timeout,
        |_, r| {
            if let Some(r) = r {
                out.push(r);
            }
            done(&out)
        },
    );
    out
}

/// Polls every partition of `topic` from the beginning until `each` (given every
/// message, and the record it is unless it is a fence) says to stop, or `deadline`.
fn read(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    deadline: Instant,
    mut each: impl FnMut(&BorrowedMessage<'_>, Option<Record>) -> bool,
) {
    let consumer = consumer(bootstrap);
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let headers: Vec<(String, String)> = m
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
                let record = (!headers.iter().any(|(k, _)| k == FENCE_HEADER)).then(|| Record {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: m.payload().unwrap_or_default().to_vec(),
                    headers,
                });
                if each(&m, record) {
                    return;
                }
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
}
