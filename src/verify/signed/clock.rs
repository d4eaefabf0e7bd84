//! The unit a scheme's timestamp is written in (`timestamp_unit`): Unix seconds
//! (Slack, Zoom, Bird), milliseconds (HubSpot v3, Front), or either, told apart by
//! magnitude, for a provider that does not document which (Crisp). How a signed
//! timestamp is read into seconds for the replay window, and written when signing.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What a scheme's numeric timestamp counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimestampUnit {
    /// Unix seconds (or an RFC 3339 date, as Zendesk sends).
    #[default]
    Seconds,
    /// Unix milliseconds.
    Milliseconds,
    /// Seconds or milliseconds, by magnitude: a value of 10^11 or more is
    /// milliseconds (10^11 seconds is the year 5138; 10^11 milliseconds 1973).
    /// The unit is read from a signed value, so choosing it gives a sender nothing.
    Auto,
}

/// Values at or above this are milliseconds under [`TimestampUnit::Auto`].
const AUTO_MILLIS_FROM: i64 = 100_000_000_000;

impl TimestampUnit {
    /// The timestamp in Unix seconds, or `None` when it is not one.
    pub(super) fn to_seconds(self, t: &str) -> Option<i64> {
        let t = t.trim();
        let Ok(n) = t.parse::<i64>() else {
            // Dates carry their own unit: only a scheme in seconds takes one.
            return match self {
                Self::Seconds => chrono::DateTime::parse_from_rfc3339(t)
                    .ok()
                    .map(|d| d.timestamp()),
                Self::Milliseconds | Self::Auto => None,
            };
        };
        match self {
            Self::Seconds => Some(n),
            Self::Milliseconds => Some(n.div_euclid(1000)),
            Self::Auto if n >= AUTO_MILLIS_FROM => Some(n.div_euclid(1000)),
            Self::Auto => Some(n),
        }
    }

    /// `now` written in this unit (what a provider sends; `Auto` writes seconds).
    pub(super) fn format(self, now: SystemTime) -> String {
        let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        match self {
            Self::Milliseconds => d.as_millis().to_string(),
            Self::Seconds | Self::Auto => d.as_secs().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_reads_its_values() {
        use TimestampUnit::*;
        assert_eq!(Seconds.to_seconds("1767225600"), Some(1_767_225_600));
        assert_eq!(
            Seconds.to_seconds("2026-01-01T00:00:00Z"),
            Some(1_767_225_600)
        );
        assert_eq!(
            Milliseconds.to_seconds("1767225600999"),
            Some(1_767_225_600)
        );
        assert_eq!(Milliseconds.to_seconds("2026-01-01T00:00:00Z"), None);
        assert_eq!(Auto.to_seconds("1767225600"), Some(1_767_225_600));
        assert_eq!(Auto.to_seconds("1767225600123"), Some(1_767_225_600));
        for unit in [Seconds, Milliseconds, Auto] {
            assert_eq!(unit.to_seconds("soon"), None);
            assert_eq!(unit.to_seconds(""), None);
        }
        let now = UNIX_EPOCH + std::time::Duration::from_millis(1_767_225_600_250);
        assert_eq!(Milliseconds.format(now), "1767225600250");
        assert_eq!(Seconds.format(now), "1767225600");
        assert_eq!(Auto.format(now), "1767225600");
    }
}
