//! Shared pieces of the components' settings: bounds every configured duration
//! and count must fall within, checked once at load time.

use std::time::Duration;

pub const MS: Duration = Duration::from_millis(1);
pub const SEC: Duration = Duration::from_secs(1);
pub const MIN: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(24 * 3600);

/// `Err` naming `key` when `value` is outside `min..=max`. An unbounded duration
/// would overflow a deadline at run time (a panic in a connection task, a Redis
/// `PX` that wraps) instead of being refused at start-up.
pub fn within(key: &str, value: Duration, min: Duration, max: Duration) -> Result<(), String> {
    if value < min || value > max {
        return Err(format!(
            "{key}: {} is outside the accepted range {} to {}",
            humantime::format_duration(value),
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(())
}

/// As [`within`], for counts.
pub fn count_within(key: &str, value: u64, min: u64, max: u64) -> Result<(), String> {
    if value < min || value > max {
        return Err(format!(
            "{key}: {value} is outside the accepted range {min} to {max}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_name_the_key() {
        assert!(within("a.b", SEC, MS, MIN).is_ok());
        let e = within("a.b", HOUR, MS, MIN).err().unwrap_or_default();
        assert!(
            e.contains("a.b") && e.contains("1h") && e.contains("1m"),
            "{e}"
        );
        let e = count_within("server.max_connections", 0, 1, 10)
            .err()
            .unwrap_or_default();
        assert!(e.contains("server.max_connections"), "{e}");
    }
}
