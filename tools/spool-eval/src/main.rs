//! The spool storage evaluation: three embedded stores as a durable FIFO spool (append
//! with group commit, kill -9 recovery, disk use, FIFO drain). See docs/spool-storage.md.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

// ---------------------------------------------------------------- records

struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// A ~1.5 KiB record: a CloudEvent JSON with some entropy (ids, hashes), a key and
/// headers, framed as crc32 | len | body so a read can be verified.
fn make_record(seq: u64) -> Vec<u8> {
    let mut rng = Rng::new(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xdead_beef);
    let mut hex = String::new();
    for _ in 0..59 {
        hex.push_str(&format!("{:016x}", rng.next()));
    }
    let body = format!(
        r#"{{"topic":"webhooks.github","key":"repo-{r}","headers":{{"ce_type":"com.github.push","content-type":"application/cloudevents+json"}},"value":{{"specversion":"1.0","id":"{seq}-{a:016x}","source":"https://github.com/acme/repo-{r}","type":"com.github.push","time":"2026-11-30T00:00:00Z","datacontenttype":"application/json","data":{{"ref":"refs/heads/main","before":"{h1:016x}","after":"{h2:016x}","pusher":{{"name":"octocat","email":"octo@example.com"}},"commits":[{{"id":"{h3:016x}","message":"fix: the thing that broke when the other thing changed","blob":"{hex}"}}]}}}}}}"#,
        r = rng.range(0, 1000),
        a = rng.next(),
        h1 = rng.next(),
        h2 = rng.next(),
        h3 = rng.next(),
    );
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(body.as_bytes());
    let crc = crc32fast::hash(&out);
    let mut framed = crc.to_be_bytes().to_vec();
    framed.extend_from_slice(&out);
    framed
}

fn verify_record(seq: u64, v: &[u8]) -> bool {
    if v.len() < 12 {
        return false;
    }
    let crc = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    crc32fast::hash(&v[4..]) == crc && v[4..12] == seq.to_be_bytes()
}

// ---------------------------------------------------------------- engines

trait Store {
    fn append(&mut self, recs: &[(u64, Vec<u8>)]) -> R<()>;
    fn read_after(&mut self, after: Option<u64>, n: usize) -> R<Vec<(u64, Vec<u8>)>>;
    fn get(&mut self, seq: u64) -> R<Option<Vec<u8>>>;
    fn delete(&mut self, seqs: &[u64]) -> R<()>;
    fn max_seq(&mut self) -> R<Option<u64>>;
    fn count(&mut self) -> R<u64>;
    /// The engine's own way to give space back; returns what it did.
    fn reclaim(&mut self) -> R<&'static str>;
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    SqliteFull,
    SqliteNormal,
    Redb,
    RedbQuickRepair,
    Fjall,
}

impl Engine {
    fn parse(s: &str) -> Self {
        match s {
            "sqlite-full" => Self::SqliteFull,
            "sqlite-normal" => Self::SqliteNormal,
            "redb" => Self::Redb,
            "redb-qr" => Self::RedbQuickRepair,
            "fjall" => Self::Fjall,
            _ => panic!("unknown engine {s}"),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::SqliteFull => "sqlite-full",
            Self::SqliteNormal => "sqlite-normal",
            Self::Redb => "redb",
            Self::RedbQuickRepair => "redb-qr",
            Self::Fjall => "fjall",
        }
    }
    fn open(self, dir: &Path) -> R<Box<dyn Store>> {
        std::fs::create_dir_all(dir)?;
        Ok(match self {
            Self::SqliteFull => Box::new(Sqlite::open(dir, "FULL")?),
            Self::SqliteNormal => Box::new(Sqlite::open(dir, "NORMAL")?),
            Self::Redb => Box::new(Redb::open(dir, false)?),
            Self::RedbQuickRepair => Box::new(Redb::open(dir, true)?),
            Self::Fjall => Box::new(Fjall::open(dir)?),
        })
    }
}

struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    fn open(dir: &Path, sync: &str) -> R<Self> {
        let conn = rusqlite::Connection::open(dir.join("spool.db"))?;
        // auto_vacuum must be set before the first table exists.
        // order matters on a new file: page_size, auto_vacuum, first table, then WAL
        if let Ok(ps) = std::env::var("SQLITE_PAGE_SIZE") {
            conn.execute_batch(&format!("PRAGMA page_size={ps};"))?;
        }
        conn.execute_batch("PRAGMA auto_vacuum=INCREMENTAL;")?;
        // page_size only sticks if the first table exists before the switch to WAL
        conn.execute_batch("CREATE TABLE IF NOT EXISTS spool(seq INTEGER PRIMARY KEY, rec BLOB NOT NULL);")?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        assert_eq!(mode.to_lowercase(), "wal");
        conn.execute_batch(&format!("PRAGMA synchronous={sync};"))?;
        Ok(Self { conn })
    }
}

impl Store for Sqlite {
    fn append(&mut self, recs: &[(u64, Vec<u8>)]) -> R<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("INSERT INTO spool(seq, rec) VALUES (?1, ?2)")?;
            for (s, v) in recs {
                st.execute(rusqlite::params![*s as i64, v])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn read_after(&mut self, after: Option<u64>, n: usize) -> R<Vec<(u64, Vec<u8>)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, rec FROM spool WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let a = after.map(|a| a as i64).unwrap_or(-1);
        let rows = st.query_map(rusqlite::params![a, n as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
    fn get(&mut self, seq: u64) -> R<Option<Vec<u8>>> {
        let mut st = self.conn.prepare_cached("SELECT rec FROM spool WHERE seq = ?1")?;
        let mut rows = st.query([seq as i64])?;
        Ok(match rows.next()? {
            Some(r) => Some(r.get(0)?),
            None => None,
        })
    }
    fn delete(&mut self, seqs: &[u64]) -> R<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("DELETE FROM spool WHERE seq = ?1")?;
            for s in seqs {
                st.execute([*s as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn max_seq(&mut self) -> R<Option<u64>> {
        let v: Option<i64> = self.conn.query_row("SELECT max(seq) FROM spool", [], |r| r.get(0))?;
        Ok(v.map(|v| v as u64))
    }
    fn count(&mut self) -> R<u64> {
        let v: i64 = self.conn.query_row("SELECT count(*) FROM spool", [], |r| r.get(0))?;
        Ok(v as u64)
    }
    fn reclaim(&mut self) -> R<&'static str> {
        // the pragma frees pages as it is stepped: step it to the end
        {
            let mut st = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = st.query([])?;
            while rows.next()?.is_some() {}
        }
        let _: (i64, i64, i64) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok("PRAGMA incremental_vacuum + wal_checkpoint(TRUNCATE)")
    }
}

const REDB_TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("spool");

struct Redb {
    db: redb::Database,
    quick_repair: bool,
}

impl Redb {
    fn open(dir: &Path, quick_repair: bool) -> R<Self> {
        let db = redb::Database::create(dir.join("spool.redb"))?;
        let mut s = Self { db, quick_repair };
        // make sure the table exists so readers do not fail
        let tx = s.begin()?;
        tx.open_table(REDB_TABLE)?;
        tx.commit()?;
        s.quick_repair = quick_repair;
        Ok(s)
    }
    fn begin(&self) -> R<redb::WriteTransaction> {
        let mut tx = self.db.begin_write()?;
        tx.set_quick_repair(self.quick_repair);
        Ok(tx)
    }
}

impl Store for Redb {
    fn append(&mut self, recs: &[(u64, Vec<u8>)]) -> R<()> {
        let tx = self.begin()?;
        {
            let mut t = tx.open_table(REDB_TABLE)?;
            for (s, v) in recs {
                t.insert(*s, v.as_slice())?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn read_after(&mut self, after: Option<u64>, n: usize) -> R<Vec<(u64, Vec<u8>)>> {
        use redb::{ReadableDatabase, ReadableTable};
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REDB_TABLE)?;
        let start = after.map(|a| a + 1).unwrap_or(0);
        let mut out = Vec::with_capacity(n);
        for item in t.range(start..)? {
            let (k, v) = item?;
            out.push((k.value(), v.value().to_vec()));
            if out.len() >= n {
                break;
            }
        }
        Ok(out)
    }
    fn get(&mut self, seq: u64) -> R<Option<Vec<u8>>> {
        use redb::{ReadableDatabase, ReadableTable};
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REDB_TABLE)?;
        Ok(t.get(seq)?.map(|v| v.value().to_vec()))
    }
    fn delete(&mut self, seqs: &[u64]) -> R<()> {
        let tx = self.begin()?;
        {
            let mut t = tx.open_table(REDB_TABLE)?;
            for s in seqs {
                t.remove(*s)?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn max_seq(&mut self) -> R<Option<u64>> {
        use redb::{ReadableDatabase, ReadableTable};
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REDB_TABLE)?;
        Ok(t.last()?.map(|(k, _)| k.value()))
    }
    fn count(&mut self) -> R<u64> {
        use redb::{ReadableDatabase, ReadableTableMetadata};
        let tx = self.db.begin_read()?;
        let t = tx.open_table(REDB_TABLE)?;
        Ok(t.len()?)
    }
    fn reclaim(&mut self) -> R<&'static str> {
        while self.db.compact()? {}
        Ok("Database::compact() until false")
    }
}

struct Fjall {
    db: fjall::Database,
    ks: fjall::Keyspace,
}

impl Fjall {
    fn open(dir: &Path) -> R<Self> {
        let db = fjall::Database::builder(dir.join("fjall")).open()?;
        let ks = db.keyspace("spool", fjall::KeyspaceCreateOptions::default)?;
        Ok(Self { db, ks })
    }
}

impl Store for Fjall {
    fn append(&mut self, recs: &[(u64, Vec<u8>)]) -> R<()> {
        let mut b = self
            .db
            .batch()
            .durability(Some(fjall::PersistMode::SyncAll));
        for (s, v) in recs {
            b.insert(&self.ks, s.to_be_bytes(), v.as_slice());
        }
        b.commit()?;
        Ok(())
    }
    fn read_after(&mut self, after: Option<u64>, n: usize) -> R<Vec<(u64, Vec<u8>)>> {
        let start = after.map(|a| a + 1).unwrap_or(0).to_be_bytes();
        let mut out = Vec::with_capacity(n);
        for g in self.ks.range(start..) {
            let (k, v) = g.into_inner()?;
            let mut kb = [0u8; 8];
            kb.copy_from_slice(&k);
            out.push((u64::from_be_bytes(kb), v.to_vec()));
            if out.len() >= n {
                break;
            }
        }
        Ok(out)
    }
    fn get(&mut self, seq: u64) -> R<Option<Vec<u8>>> {
        Ok(self.ks.get(seq.to_be_bytes())?.map(|v| v.to_vec()))
    }
    fn delete(&mut self, seqs: &[u64]) -> R<()> {
        let mut b = self
            .db
            .batch()
            .durability(Some(fjall::PersistMode::SyncAll));
        for s in seqs {
            b.remove(&self.ks, s.to_be_bytes());
        }
        b.commit()?;
        Ok(())
    }
    fn max_seq(&mut self) -> R<Option<u64>> {
        Ok(match self.ks.last_key_value() {
            Some(g) => {
                let k = g.key()?;
                let mut kb = [0u8; 8];
                kb.copy_from_slice(&k);
                Some(u64::from_be_bytes(kb))
            }
            None => None,
        })
    }
    fn count(&mut self) -> R<u64> {
        Ok(self.ks.len()? as u64)
    }
    fn reclaim(&mut self) -> R<&'static str> {
        self.ks.rotate_memtable_and_wait()?;
        self.ks.major_compact()?;
        Ok("rotate_memtable_and_wait + major_compact")
    }
}

// ---------------------------------------------------------------- helpers

/// (apparent bytes, allocated bytes) of every file under `dir`.
fn disk_use(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut app = 0;
    let mut alloc = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                app += m.len();
                alloc += m.blocks() * 512;
            }
        }
    }
    (app, alloc)
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / 1048576.0)
}

fn fresh(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
}

fn fill(s: &mut dyn Store, from: u64, n: u64, batch: u64) -> R<()> {
    let mut seq = from;
    while seq < from + n {
        let recs: Vec<_> = (seq..(seq + batch).min(from + n)).map(|i| (i, make_record(i))).collect();
        s.append(&recs)?;
        seq += batch;
    }
    Ok(())
}

// ---------------------------------------------------------------- bench

fn bench(engine: Engine, root: &Path) -> R<()> {
    let name = engine.name();
    let dir = root.join(format!("bench-{name}"));
    let rec_len = make_record(1).len();
    eprintln!("# {name}: record {rec_len} bytes");

    // 1. append throughput per batch size, each batch one durable commit.
    for &batch in &[1usize, 8, 64, 256] {
        fresh(&dir);
        let mut s = engine.open(&dir)?;
        let budget = Duration::from_secs(6);
        let t0 = Instant::now();
        let mut seq = 0u64;
        let mut commits = 0u64;
        // pre-build records so we time the store, not the formatting
        let pool: Vec<Vec<u8>> = (0..batch as u64).map(make_record).collect();
        while t0.elapsed() < budget {
            let recs: Vec<_> = pool.iter().map(|v| { seq += 1; (seq, v.clone()) }).collect();
            s.append(&recs)?;
            commits += 1;
        }
        let el = t0.elapsed().as_secs_f64();
        println!(
            "append\t{name}\tbatch={batch}\trecords/s={:.0}\tcommits/s={:.0}\tms/commit={:.2}",
            seq as f64 / el,
            commits as f64 / el,
            el * 1000.0 / commits as f64
        );
    }

    // 2. disk after 100k, clean reopen time, FIFO drain, disk after delete, reclaim.
    fresh(&dir);
    let n = 100_000u64;
    {
        let mut s = engine.open(&dir)?;
        let t0 = Instant::now();
        fill(s.as_mut(), 1, n, 256)?;
        let el = t0.elapsed().as_secs_f64();
        let (a, b) = disk_use(&dir);
        println!("fill100k\t{name}\tsecs={el:.2}\tdisk_apparent_MiB={}\tdisk_alloc_MiB={}\tpayload_MiB={}", mib(a), mib(b), mib(n * rec_len as u64));
    }
    {
        let t0 = Instant::now();
        let mut s = engine.open(&dir)?;
        let open = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = Instant::now();
        let first = s.read_after(None, 1)?;
        let c = s.count()?;
        println!("reopen100k\t{name}\topen_ms={open:.1}\tfirst_read+count_ms={:.1}\tcount={c}\tfirst_ok={}", t1.elapsed().as_secs_f64() * 1000.0, first.first().map(|(k, v)| verify_record(*k, v)).unwrap_or(false));

        // FIFO drain: read oldest 256 after cursor, verify, delete them (one durable commit)
        let t0 = Instant::now();
        let mut cursor = None;
        let mut drained = 0u64;
        let mut commits = 0u64;
        loop {
            let recs = s.read_after(cursor, 256)?;
            if recs.is_empty() {
                break;
            }
            for (k, v) in &recs {
                assert!(verify_record(*k, v));
            }
            cursor = recs.last().map(|r| r.0);
            let seqs: Vec<u64> = recs.iter().map(|r| r.0).collect();
            s.delete(&seqs)?;
            drained += seqs.len() as u64;
            commits += 1;
        }
        let el = t0.elapsed().as_secs_f64();
        println!("drain\t{name}\tbatch=256\trecords/s={:.0}\tdelete_commits/s={:.0}\tdrained={drained}", drained as f64 / el, commits as f64 / el);
        let (a, b) = disk_use(&dir);
        println!("after_delete\t{name}\tdisk_apparent_MiB={}\tdisk_alloc_MiB={}", mib(a), mib(b));
        // a fresh scan from the start after mass delete (LSM tombstones show here)
        let t1 = Instant::now();
        let r = s.read_after(None, 1)?;
        println!("scan_empty_after_delete\t{name}\tms={:.1}\tfound={}", t1.elapsed().as_secs_f64() * 1000.0, r.len());
        let t1 = Instant::now();
        let how = s.reclaim()?;
        let rt = t1.elapsed().as_secs_f64() * 1000.0;
        let (a, b) = disk_use(&dir);
        println!("after_reclaim\t{name}\thow={how}\tms={rt:.0}\tdisk_apparent_MiB={}\tdisk_alloc_MiB={}", mib(a), mib(b));
    }
    {
        let (a, b) = disk_use(&dir);
        println!("after_close\t{name}\tdisk_apparent_MiB={}\tdisk_alloc_MiB={}", mib(a), mib(b));
    }

    // 3. steady state: append 64, drain the oldest 64 when more than 10k are queued;
    //    300k records pass through. Space should plateau.
    fresh(&dir);
    {
        let mut s = engine.open(&dir)?;
        let total = 300_000u64;
        let backlog = 10_000u64;
        let mut next = 1u64;
        let mut cursor: Option<u64> = None;
        let mut queued = 0u64;
        let mut max_alloc = 0u64;
        let mut samples = Vec::new();
        let t0 = Instant::now();
        let pool: Vec<Vec<u8>> = (0..64).map(make_record).collect();
        while next <= total {
            let recs: Vec<_> = pool.iter().map(|v| { let r = (next, v.clone()); next += 1; r }).collect();
            s.append(&recs)?;
            queued += 64;
            if queued > backlog {
                let old = s.read_after(cursor, 64)?;
                cursor = old.last().map(|r| r.0);
                let seqs: Vec<u64> = old.iter().map(|r| r.0).collect();
                s.delete(&seqs)?;
                queued -= seqs.len() as u64;
            }
            if next % 30_000 < 64 {
                let (_, b) = disk_use(&dir);
                max_alloc = max_alloc.max(b);
                samples.push(mib(b));
            }
        }
        let el = t0.elapsed().as_secs_f64();
        let (_, b) = disk_use(&dir);
        println!(
            "steady\t{name}\tpassed={total}\tbacklog={backlog}\tsecs={el:.1}\trecords/s={:.0}\tlive_payload_MiB={}\tfinal_alloc_MiB={}\tmax_sampled_MiB={}\tsamples_MiB={}",
            total as f64 / el,
            mib(backlog * rec_len as u64),
            mib(b),
            mib(max_alloc),
            samples.join(",")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// ---------------------------------------------------------------- crash

/// Child: append forever with random batch sizes, print each seq after its commit.
fn child(engine: Engine, dir: &Path) -> R<()> {
    let mut s = engine.open(dir)?;
    let mut seq = s.max_seq()?.unwrap_or(0);
    let mut rng = Rng::new(std::process::id() as u64 * 7919 + seq);
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "ready")?;
    out.flush()?;
    loop {
        let n = rng.range(1, 33);
        let recs: Vec<_> = (0..n).map(|_| { seq += 1; (seq, make_record(seq)) }).collect();
        s.append(&recs)?;
        for (k, _) in &recs {
            writeln!(out, "{k}")?;
        }
        out.flush()?;
    }
}

fn crash(engine: Engine, root: &Path, reps: usize, prefill: u64) -> R<()> {
    let name = engine.name();
    let dir = root.join(format!("crash-{name}"));
    fresh(&dir);
    if prefill > 0 {
        let mut s = engine.open(&dir)?;
        fill(s.as_mut(), 1, prefill, 1000)?;
    }
    let exe = std::env::current_exe()?;
    let mut rng = Rng::new(0x5eed ^ prefill);
    let mut all_acked: Vec<u64> = Vec::new();
    let mut open_ms = Vec::new();
    let mut lost = 0usize;
    let mut corrupt = 0usize;
    let mut extra = 0u64;
    let mut reps_without_acks = 0;
    for rep in 0..reps {
        let mut ch = Command::new(&exe)
            .args(["child", name, dir.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = ch.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut ready = false;
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                // a line cut by the kill has no newline: not an ack
                if line.ends_with('\n') {
                    let t = line.trim();
                    if t == "ready" {
                        ready = true;
                    } else if let Ok(v) = t.parse::<u64>() {
                        acked.push(v);
                    }
                }
                line.clear();
            }
            (ready, acked)
        });
        let wait = rng.range(150, 900);
        std::thread::sleep(Duration::from_millis(wait));
        ch.kill()?; // SIGKILL
        ch.wait()?;
        let (ready, acked) = reader.join().unwrap();
        let t0 = Instant::now();
        let mut s = engine.open(&dir)?;
        let om = t0.elapsed().as_secs_f64() * 1000.0;
        open_ms.push(om);
        let mut this_lost = 0;
        for &k in &acked {
            match s.get(k)? {
                Some(v) if verify_record(k, &v) => {}
                Some(_) => corrupt += 1,
                None => this_lost += 1,
            }
        }
        lost += this_lost;
        // records past the last ack (committed but not yet printed) are fine
        let max = s.max_seq()?.unwrap_or(0);
        if let Some(&last_acked) = acked.last() {
            extra += max.saturating_sub(last_acked);
        }
        if acked.is_empty() { reps_without_acks += 1; }
        eprintln!("crash {name} rep={rep} ready={ready} killed_after_ms={wait} acked={} lost={this_lost} open_ms={om:.1} max_seq={max}", acked.len());
        all_acked.extend(acked);
        drop(s);
    }
    // final full check: every record ever acked is there and readable
    let mut s = engine.open(&dir)?;
    let mut final_missing = 0;
    for &k in &all_acked {
        match s.get(k)? {
            Some(v) if verify_record(k, &v) => {}
            _ => final_missing += 1,
        }
    }
    let count = s.count()?;
    open_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "crash\t{name}\tprefill={prefill}\treps={reps}\treps_killed_before_first_ack={reps_without_acks}\tacked_total={}\tlost={lost}\tcorrupt={corrupt}\tfinal_missing={final_missing}\tcommitted_unacked={extra}\tcount={count}\treopen_ms_min={:.1}\treopen_ms_median={:.1}\treopen_ms_max={:.1}",
        all_acked.len(),
        open_ms[0],
        open_ms[open_ms.len() / 2],
        open_ms[open_ms.len() - 1]
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Fill 10k records, close, overwrite 4 KiB in the middle of the biggest store file with
/// garbage, reopen and read everything back: what does each engine do?
fn corrupt(engine: Engine, root: &Path) -> R<()> {
    let name = engine.name();
    let dir = root.join(format!("corrupt-{name}"));
    fresh(&dir);
    let n = 10_000u64;
    {
        let mut s = engine.open(&dir)?;
        fill(s.as_mut(), 1, n, 500)?;
        let _ = s.reclaim(); // fjall: flush the memtable into tables; sqlite: checkpoint
    }
    // the biggest file under dir
    let mut biggest: Option<(u64, PathBuf)> = None;
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)?.flatten() {
            let m = e.metadata()?;
            // by allocated blocks: fjall's journal is preallocated and mostly a hole
            use std::os::unix::fs::MetadataExt;
            let used = m.blocks() * 512;
            // fjall: hit the flushed table holding the data, not the journal
            let is_jnl = e.path().extension().is_some_and(|x| x == "jnl");
            if m.is_dir() { stack.push(e.path()); } else if !is_jnl && biggest.as_ref().map_or(true, |b| used > b.0) { biggest = Some((used, e.path())); }
        }
    }
    if std::env::var("EVAL_LIST").is_ok() {
        let out = Command::new("find").arg(&dir).args(["-type", "f", "-printf", "%s %b %p\n"]).output()?;
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    }
    let (len, file) = biggest.ok_or("no file")?;
    let mut bytes = std::fs::read(&file)?;
    let off = (len as usize / 2) & !4095;
    let mut rng = Rng::new(42);
    for b in &mut bytes[off..off + 4096] { *b = rng.next() as u8; }
    std::fs::write(&file, &bytes)?;
    let t0 = Instant::now();
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.open(&dir)));
    let open_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut s = match opened {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => { println!("corrupt\t{name}\tfile={}\topen=ERROR({e})\topen_ms={open_ms:.0}", file.display()); return Ok(()); }
        Err(_) => { println!("corrupt\t{name}\tfile={}\topen=PANIC", file.display()); return Ok(()); }
    };
    let (mut ok, mut bad, mut missing, mut err) = (0, 0, 0, 0);
    let mut first_err = String::new();
    for k in 1..=n {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.get(k))) {
            Ok(Ok(Some(v))) if verify_record(k, &v) => ok += 1,
            Ok(Ok(Some(_))) => bad += 1,
            Ok(Ok(None)) => missing += 1,
            Ok(Err(e)) => { if first_err.is_empty() { first_err = e.to_string(); } err += 1 }
            Err(_) => { if first_err.is_empty() { first_err = "PANIC".into(); } err += 1 }
        }
    }
    // and a full FIFO scan, as the drainer would do
    let scan = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.read_after(None, n as usize + 1)));
    let scan = match scan { Ok(Ok(v)) => format!("ok({} rows)", v.len()), Ok(Err(e)) => format!("ERROR({e})"), Err(_) => "PANIC".into() };
    println!("corrupt\t{name}\tfile={}\topen=ok\topen_ms={open_ms:.0}\tget_ok={ok}\tget_bad_checksum={bad}\tget_missing={missing}\tget_error={err}\tfirst_error={first_err}\tfull_scan={scan}", file.strip_prefix(&dir).unwrap_or(&file).display());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// fdatasync latency of the disk right now: 200 x (4 KiB write + fdatasync).
fn fsync_probe(root: &Path) -> R<f64> {
    use std::io::Write;
    std::fs::create_dir_all(root)?;
    let p = root.join("fsync-probe");
    let mut f = std::fs::File::create(&p)?;
    let buf = [7u8; 4096];
    let t0 = Instant::now();
    for _ in 0..200 {
        f.write_all(&buf)?;
        f.sync_data()?;
    }
    let ms = t0.elapsed().as_secs_f64() * 1000.0 / 200.0;
    std::fs::remove_file(&p)?;
    Ok(ms)
}

/// Append throughput, engines interleaved round-robin so that drift in the shared disk's
/// fsync latency hits all of them alike.
fn append_rr(engines: &[Engine], root: &Path, rounds: usize, secs: u64) -> R<()> {
    for round in 0..rounds {
        println!("probe\tround={round}\tfdatasync_ms={:.3}", fsync_probe(root)?);
        for &batch in &[1usize, 8, 64, 256] {
            for &engine in engines {
                let name = engine.name();
                let dir = root.join(format!("rr-{name}"));
                fresh(&dir);
                let mut s = engine.open(&dir)?;
                let pool: Vec<Vec<u8>> = (0..batch as u64).map(make_record).collect();
                let t0 = Instant::now();
                let (mut seq, mut commits) = (0u64, 0u64);
                while t0.elapsed() < Duration::from_secs(secs) {
                    let recs: Vec<_> = pool.iter().map(|v| { seq += 1; (seq, v.clone()) }).collect();
                    s.append(&recs)?;
                    commits += 1;
                }
                let el = t0.elapsed().as_secs_f64();
                println!("rr\tround={round}\t{name}\tbatch={batch}\trecords/s={:.0}\tcommits/s={:.0}", seq as f64 / el, commits as f64 / el);
                drop(s);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        println!("probe\tround={round}\tfdatasync_ms={:.3}", fsync_probe(root)?);
    }
    Ok(())
}

fn main() -> R<()> {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(std::env::var("EVAL_DIR").unwrap_or_else(|_| "/work/spool-eval/data".into()));
    match args.get(1).map(String::as_str) {
        Some("bench") => {
            for e in &args[2..] {
                bench(Engine::parse(e), &root)?;
            }
        }
        Some("append-rr") => {
            let rounds: usize = args[2].parse()?;
            let secs: u64 = args[3].parse()?;
            let engines: Vec<Engine> = args[4..].iter().map(|e| Engine::parse(e)).collect();
            append_rr(&engines, &root, rounds, secs)?;
        }
        Some("disk") => {
            // bytes on disk for 100k records, checkpointed and closed
            for e in &args[2..] {
                let engine = Engine::parse(e);
                let dir = root.join(format!("disk-{}", engine.name()));
                fresh(&dir);
                {
                    let mut s = engine.open(&dir)?;
                    fill(s.as_mut(), 1, 100_000, 256)?;
                    let (a, b) = disk_use(&dir);
                    println!("disk\t{}\tpage_size={}\topen_apparent_MiB={}\topen_alloc_MiB={}", engine.name(), std::env::var("SQLITE_PAGE_SIZE").unwrap_or_default(), mib(a), mib(b));
                }
                let (a, b) = disk_use(&dir);
                println!("disk\t{}\tpage_size={}\tclosed_apparent_MiB={}\tclosed_alloc_MiB={}", engine.name(), std::env::var("SQLITE_PAGE_SIZE").unwrap_or_default(), mib(a), mib(b));
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        Some("corrupt") => {
            for e in &args[2..] {
                corrupt(Engine::parse(e), &root)?;
            }
        }
        Some("child") => child(Engine::parse(&args[2]), Path::new(&args[3]))?,
        Some("crash") => {
            let reps: usize = args[2].parse()?;
            let prefill: u64 = args[3].parse()?;
            for e in &args[4..] {
                crash(Engine::parse(e), &root, reps, prefill)?;
            }
        }
        _ => eprintln!("usage: bench ENGINE.. | crash REPS PREFILL ENGINE.. | child ENGINE DIR"),
    }
    Ok(())
}
