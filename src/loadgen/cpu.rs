//! The CPU time a process (the server under load) spent in a window: what the
//! benchmark divides by the requests answered in it, so outputs compare by the
//! work each delivery costs and not only by how fast answers come back.

use std::time::Instant;

/// User plus system CPU seconds of every thread of `pid` so far (Linux's
/// `/proc/<pid>/stat`); `None` where there is no such file.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields count from its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime: fields 14 and 15 of the whole line, 12 and 13 after `)`.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks_per_second())
}

/// `getconf CLK_TCK` (100 on every Linux hookgate is built for, if it cannot be
/// asked).
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// The CPU seconds `pid` spends between `from` and `to` (waits for both).
pub async fn spent_between(pid: u32, from: Instant, to: Instant) -> Option<f64> {
    clock_ticks_per_second();
    tokio::time::sleep_until(from.into()).await;
    let before = cpu_seconds(pid)?;
    tokio::time::sleep_until(to.into()).await;
    Some(cpu_seconds(pid)? - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_some_cpu_and_it_only_grows() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).unwrap_or_else(|| panic!("no /proc/{pid}/stat"));
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < std::time::Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = cpu_seconds(pid).unwrap_or_else(|| panic!("no /proc/{pid}/stat"));
        assert!(after > before, "{before} -> {after}");
        assert_eq!(cpu_seconds(u32::MAX), None);
    }
}
