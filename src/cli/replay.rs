//! `hookgate replay`: dead letters back through the current configuration, from the
//! dead-letter topic (its own consumer group, offsets committed only past records
//! that are done) or a dead-letter NDJSON file. Prints a summary; exits non-zero
//! when any record could not be verified.

use std::collections::BTreeMap;
#[cfg(feature = "kafka")]
use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::term::{self, Field};
use crate::event::DeadLetter;
use crate::replay::{replay, Origin, ReplayOptions, ReplayResult};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["from_topic", "from_file"])))]
pub struct Args {
    #[arg(long, short, env = "HOOKGATE_CONFIG")]
    pub config: PathBuf,
    /// Read the configured dead-letter topic (Kafka output).
    #[arg(long)]
    pub from_topic: bool,
    /// With --from-topic: read this dead-letter topic instead of `dead_letter_topic`
    /// (one a `[[output.route]]` rule sends dead letters to).
    #[arg(long, value_name = "TOPIC", requires = "from_topic")]
    pub topic: Option<String>,
    /// Read a dead-letter NDJSON file (the file output's `dead_letter_path`).
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
    /// Only records of these sources (repeatable).
    #[arg(long = "source", value_name = "ID")]
    pub sources: Vec<String>,
    /// Only records with these reasons, e.g. unknown_event_type (repeatable).
    #[arg(long = "reason", value_name = "R")]
    pub reasons: Vec<String>,
    /// Only records received at or after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Show what each record would become; deliver and commit nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also replay records of sources that do not sign their deliveries (URL token,
    /// basic auth, address list, header token): nothing kept proves them authentic.
    #[arg(long)]
    pub trust_unsigned: bool,
    /// Also replay records that carry no seal (written before `[dead_letters] keys`
    /// was configured). Their bodies are still verified, but nothing proves their
    /// other fields, so they are replayed as if received now.
    #[arg(long)]
    pub trust_unauthenticated: bool,
    /// The consumer group that remembers how far replays got (--from-topic).
    #[arg(long, default_value = "hookgate-replay")]
    pub group: String,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time: {e}"))
}

/// Counts per (source, reason) and result kind.
#[derive(Default)]
struct Summary {
    rows: BTreeMap<(String, String), BTreeMap<&'static str, u64>>,
    unverifiable: u64,
}

impl Summary {
    fn add(&mut self, source: &str, reason: &str, kind: &'static str) {
        *self
            .rows
            .entry((source.to_owned(), reason.to_owned()))
            .or_default()
            .entry(kind)
            .or_default() += 1;
        if kind == "unverifiable" {
            self.unverifiable += 1;
        }
    }

    fn print(&self) {
        let kinds = [
            "replayed",
            "duplicate",
            "would_deliver",
            "ignored",
            "still_failing",
            "unverifiable",
            "unavailable",
        ];
        println!(
            "{:<24} {:<22} {}",
            "source",
            "reason",
            kinds.map(|k| format!("{k:>14}")).join("")
        );
        for ((source, reason), counts) in &self.rows {
            let cells = kinds.map(|k| format!("{:>14}", counts.get(k).copied().unwrap_or(0)));
            let (source, reason) = (Field(source).to_string(), Field(reason).to_string());
            println!("{source:<24} {reason:<22} {}", cells.join(""));
        }
    }
}

/// One record to replay, and where it came from (for messages and commits).
struct Item {
    record: Option<DeadLetter>,
    /// `line N` or `partition/offset`.
    at: String,
    /// Why it could not be read, when `record` is `None`.
    unreadable: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut loaded = crate::config::load(&a.config)?;
    // The running gateway owns its spool (a lock refuses a second process), and a
    // replay needs the broker anyway: deliver directly.
    if let crate::output::OutputConfig::Kafka(k) = &mut loaded.config.output {
        k.spool = None;
    }
    let gateway = loaded.build_gateway()?;
    if matches!(
        loaded.config.dedup.store,
        crate::dedup::DedupStoreKind::Memory
    ) && !a.dry_run
    {
        eprintln!(
            "note: [dedup] store = \"memory\": this run deduplicates only within itself; an event \
             delivered before (by the gateway or an earlier replay) is delivered again, with the \
             same id. Use store = \"redis\" to share the gateway's dedup store."
        );
    }
    let opts = ReplayOptions {
        origin: if a.trust_unauthenticated {
            Origin::StoredTrustingUnsealed
        } else {
            Origin::Stored
        },
        trust_unsigned: a.trust_unsigned,
        dry_run: a.dry_run,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Spans only (the report is this command's output): each replay's trace,
    // linked to the delivery the record was written in.
    let traces = {
        let _entered = rt.enter();
        crate::telemetry::trace::install(None, loaded.config.telemetry.otlp.as_ref())?
    };
    let mut summary = Summary::default();
    let wanted = |d: &DeadLetter| {
        (a.sources.is_empty() || a.sources.contains(&d.source))
            && (a.reasons.is_empty() || a.reasons.iter().any(|r| r == d.reason.as_str()))
            && a.since.is_none_or(|since| {
                DateTime::parse_from_rfc3339(&d.received_at).is_ok_and(|t| t >= since)
            })
    };
    let mut handle = |item: Item, summary: &mut Summary| -> Option<ReplayResult> {
        let at = Field(&item.at);
        let Some(record) = item.record else {
            let why = item.unreadable.unwrap_or_default();
            eprintln!("{at}: not a dead-letter record, skipped: {}", Field(&why));
            summary.add("(unreadable)", "-", "unverifiable");
            return None;
        };
        if !wanted(&record) {
            return None;
        }
        let result = rt.block_on(replay(&gateway, &record, opts));
        summary.add(&record.source, record.reason.as_str(), result.kind());
        let source = Field(&record.source);
        match &result {
            ReplayResult::WouldDeliver { event } => println!(
                "{}",
                term::json(&serde_json::json!({"at": item.at, "source": record.source, "reason": record.reason, "result": "would_deliver", "event": event}).to_string())
            ),
            ReplayResult::StillFailing { reason, detail }
            | ReplayResult::Unverifiable { reason, detail } => eprintln!(
                "{at}: {source} ({}): {}: {}: {}",
                record.reason.as_str(),
                result.kind(),
                Field(reason),
                Field(detail),
            ),
            ReplayResult::Unavailable { detail } => {
                eprintln!("{at}: {source}: unavailable, try again later: {}", Field(detail))
            }
            _ if a.dry_run => println!(
                "{}",
                term::json(&serde_json::json!({"at": item.at, "source": record.source, "reason": record.reason, "result": result}).to_string())
            ),
            _ => {}
        }
        Some(result)
    };
    match (&a.from_file, a.from_topic) {
        (Some(path), _) => {
            let file = std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let lines: Vec<String> = std::io::BufReader::new(file)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let bar = progress(lines.len() as u64);
            for (i, line) in lines.iter().enumerate() {
                bar.inc(1);
                if line.trim().is_empty() {
                    continue;
                }
                let (record, unreadable) = match serde_json::from_str::<DeadLetter>(line) {
                    Ok(d) => (Some(d), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let at = format!("{}:{}", path.display(), i + 1);
                handle(
                    Item {
                        record,
                        at,
                        unreadable,
                    },
                    &mut summary,
                );
            }
            bar.finish_and_clear();
        }
        (None, true) => from_topic(&loaded, &a, &mut summary, &mut handle)?,
        (None, false) => anyhow::bail!("give --from-topic or --from-file"),
    }
    rt.block_on(gateway.output().shutdown(Duration::from_secs(10)));
    traces.shutdown(Duration::from_secs(2));
    summary.print();
    Ok(if summary.unverifiable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "kafka")]
fn from_topic(
    loaded: &crate::config::Loaded,
    a: &Args,
    summary: &mut Summary,
    handle: &mut dyn FnMut(Item, &mut Summary) -> Option<ReplayResult>,
) -> anyhow::Result<()> {
    let crate::output::OutputConfig::Kafka(k) = &loaded.config.output else {
        anyhow::bail!("--from-topic needs a Kafka output in the configuration");
    };
    let k = &k.resolved(&loaded.base_dir);
    let topic = a.topic.as_deref().unwrap_or(&k.dead_letter_topic);
    let mut reader = crate::output::kafka::DeadLetterReader::open(k, topic, &a.group)
        .map_err(|e| anyhow::anyhow!(e))?;
    let bar = progress(reader.remaining());
    // Per partition: the next offset to commit, and whether a record not done
    // (still failing, unverifiable, unavailable, filtered out) holds it back there,
    // so the next run sees that record again.
    let mut next: HashMap<i32, i64> = HashMap::new();
    let mut held: HashMap<i32, bool> = HashMap::new();
    let mut since_commit = 0;
    while let Some(got) = reader.next(Duration::from_secs(30)) {
        let c = got.map_err(|e| anyhow::anyhow!(e))?;
        bar.inc(1);
        let (record, unreadable) = match serde_json::from_slice::<DeadLetter>(&c.payload) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let done = handle(
            Item {
                record,
                at: format!("{}/{}@{}", k.dead_letter_topic, c.partition, c.offset),
                unreadable,
            },
            summary,
        )
        .is_some_and(|r| r.is_done());
        let blocked = held.entry(c.partition).or_insert(false);
        if !done {
            *blocked = true;
        }
        if !*blocked {
            next.insert(c.partition, c.offset + 1);
        }
        since_commit += 1;
        if !a.dry_run && since_commit >= 100 {
            reader.commit(&next).map_err(|e| anyhow::anyhow!(e))?;
            since_commit = 0;
        }
    }
    bar.finish_and_clear();
    if !a.dry_run {
        reader.commit(&next).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

#[cfg(not(feature = "kafka"))]
fn from_topic(
    _: &crate::config::Loaded,
    _: &Args,
    _: &mut Summary,
    _: &mut dyn FnMut(Item, &mut Summary) -> Option<ReplayResult>,
) -> anyhow::Result<()> {
    anyhow::bail!("this hookgate was built without the `kafka` feature")
}

/// A progress bar on a terminal; hidden otherwise (logs and pipes stay clean).
fn progress(len: u64) -> indicatif::ProgressBar {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} dead letters ({eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}
