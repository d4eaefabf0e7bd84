//! Drives the deliveries against a URL and measures: closed loop (a fixed number of
//! requests in flight) or open loop (a fixed arrival rate, latency measured from
//! each request's scheduled time, so a slow server cannot hide its queueing).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;

use super::DeliverySet;

/// How much load.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    /// This many requests in flight at all times.
    Concurrency(usize),
    /// This many requests started per second, whatever the answers' speed; past
    /// `max_in_flight` outstanding requests, a scheduled request is not sent and
    /// counted in `not_sent`.
    Rate {
        per_second: u32,
        max_in_flight: usize,
    },
}

/// What a run measured (the warm-up excluded).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub load: String,
    pub seconds: f64,
    pub requests: u64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (connection refused, reset, …).
    pub transport_errors: u64,
    /// Open loop only: scheduled but not sent because too many were outstanding.
    pub not_sent: u64,
    /// Fixture cases the deliveries were made from.
    pub templates: usize,
    /// The server's CPU seconds over the measured window (`--server-pid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_seconds: Option<f64>,
    /// Those per request answered, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_request: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "target      {}", self.target)?;
        writeln!(
            f,
            "load        {} for {:.1}s ({} fixture templates)",
            self.load, self.seconds, self.templates
        )?;
        writeln!(
            f,
            "requests    {} ({:.0} req/s)",
            self.requests, self.requests_per_second
        )?;
        let l = &self.latency_ms;
        writeln!(
            f,
            "latency ms  p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
            l.p50, l.p90, l.p99, l.max
        )?;
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        write!(f, "statuses    {}", statuses.join(", "))?;
        if self.transport_errors > 0 {
            write!(f, ", transport errors: {}", self.transport_errors)?;
        }
        if self.not_sent > 0 {
            write!(f, ", not sent (too many outstanding): {}", self.not_sent)?;
        }
        if let (Some(s), Some(us)) = (self.server_cpu_seconds, self.server_cpu_us_per_request) {
            write!(f, "\nserver cpu  {s:.2} s ({us:.1} µs per request)")?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Stats {
    latency_us: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    not_sent: u64,
}

impl Stats {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3)?,
            statuses: BTreeMap::new(),
            transport_errors: 0,
            not_sent: 0,
        })
    }

    fn record(&mut self, latency: Duration, answer: Option<u16>) {
        self.latency_us
            .saturating_record(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        match answer {
            Some(s) => *self.statuses.entry(s).or_default() += 1,
            None => self.transport_errors += 1,
        }
    }

    fn merge(&mut self, other: &Stats) -> anyhow::Result<()> {
        self.latency_us.add(&other.latency_us)?;
        for (s, n) in &other.statuses {
            *self.statuses.entry(*s).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.not_sent += other.not_sent;
        Ok(())
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Shared {
    client: HttpClient,
    base: String,
    set: DeliverySet,
    seq: AtomicU64,
    done: AtomicU64,
}

impl Shared {
    /// Sends the next delivery; the status, or `None` without an HTTP answer.
    async fn send_next(&self) -> Option<u16> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let d = self.set.delivery(n, SystemTime::now())?;
        let mut req = http::Request::post(format!("{}{}", self.base, d.path))
            .body(Full::new(d.body))
            .ok()?;
        *req.headers_mut() = d.headers;
        let answer = match self.client.request(req).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // Read the answer to the end so the connection is reused.
                resp.into_body().collect().await.ok().map(|_| status)
            }
            Err(_) => None,
        };
        self.done.fetch_add(1, Ordering::Relaxed);
        answer
    }
}

/// Runs `warmup` then `duration` of load against `base` (e.g. `http://127.0.0.1:8080`).
pub async fn run(
    base: &str,
    set: DeliverySet,
    load: Load,
    warmup: Duration,
    duration: Duration,
    progress: bool,
    server_pid: Option<u32>,
) -> anyhow::Result<Report> {
    anyhow::ensure!(!set.is_empty(), "no deliveries to send");
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(usize::MAX)
        .build_http();
    let templates = set.len();
    let shared = Arc::new(Shared {
        client,
        base: base.trim_end_matches('/').to_owned(),
        set,
        seq: AtomicU64::new(0),
        done: AtomicU64::new(0),
    });
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let ticker = progress.then(|| tokio::spawn(report_progress(shared.clone(), start, end)));
    let cpu = server_pid.map(|pid| tokio::spawn(super::cpu::spent_between(pid, measure_from, end)));
    let stats = match load {
        Load::Concurrency(n) => closed_loop(&shared, n.max(1), measure_from, end).await?,
        Load::Rate {
            per_second,
            max_in_flight,
        } => {
            open_loop(
                &shared,
                per_second.max(1),
                max_in_flight.max(1),
                measure_from,
                end,
            )
            .await?
        }
    };
    if let Some(t) = ticker {
        t.abort();
    }
    let measured = end.saturating_duration_since(measure_from).as_secs_f64();
    let requests: u64 = stats.statuses.values().sum::<u64>() + stats.transport_errors;
    let server_cpu_seconds = match cpu {
        Some(task) => task.await?,
        None => None,
    };
    let ms = |q: f64| stats.latency_us.value_at_quantile(q) as f64 / 1000.0;
    Ok(Report {
        target: base.to_owned(),
        load: match load {
            Load::Concurrency(n) => format!("concurrency {n}"),
            Load::Rate { per_second, .. } => format!("rate {per_second}/s"),
        },
        seconds: measured,
        requests,
        requests_per_second: requests as f64 / measured.max(f64::EPSILON),
        latency_ms: Latency {
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            max: stats.latency_us.max() as f64 / 1000.0,
        },
        statuses: stats.statuses,
        transport_errors: stats.transport_errors,
        not_sent: stats.not_sent,
        templates,
        server_cpu_seconds,
        server_cpu_us_per_request: server_cpu_seconds.map(|s| s * 1e6 / (requests.max(1) as f64)),
    })
}

async fn closed_loop(
    shared: &Arc<Shared>,
    concurrency: usize,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<Stats> {
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = Stats::new()?;
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let answer = shared.send_next().await;
                if started >= measure_from {
                    stats.record(started.elapsed(), answer);
                }
            }
            Ok::<_, anyhow::Error>(stats)
        }));
    }
    let mut total = Stats::new()?;
    for w in workers {
        total.merge(&w.await??)?;
    }
    Ok(total)
}

async fn open_loop(
    shared: &Arc<Shared>,
    per_second: u32,
    max_in_flight: usize,
    measure_from: Instant,
    end: Instant,
) -> anyhow::Result<Stats> {
    let period = Duration::from_secs(1) / per_second;
    let stats = Arc::new(Mutex::new(Stats::new()?));
    let slots = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0u32.. {
        let intended = start + period * k;
        if intended >= end {
            break;
        }
        // A late wake-up sends the overdue requests at once: the rate holds on
        // average even with a coarse timer.
        tokio::time::sleep_until(intended.into()).await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if intended >= measure_from {
                if let Ok(mut s) = stats.lock() {
                    s.not_sent += 1;
                }
            }
            continue;
        };
        let (shared, stats) = (shared.clone(), stats.clone());
        tasks.spawn(async move {
            let answer = shared.send_next().await;
            if intended >= measure_from {
                // From the scheduled time, not the send time: queueing counts.
                let latency = intended.elapsed();
                if let Ok(mut s) = stats.lock() {
                    s.record(latency, answer);
                }
            }
            drop(permit);
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let stats = Arc::try_unwrap(stats)
        .map_err(|_| anyhow::anyhow!("a request task outlived the run"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a request task panicked"))?;
    Ok(stats)
}

async fn report_progress(shared: Arc<Shared>, start: Instant, end: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0;
    loop {
        tick.tick().await;
        let done = shared.done.load(Ordering::Relaxed);
        let total = end.saturating_duration_since(start).as_secs();
        eprintln!(
            "[{:>3}s/{total}s] {} req/s, {} sent",
            start.elapsed().as_secs(),
            done - last,
            done
        );
        last = done;
    }
}
