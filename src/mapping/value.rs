//! Conversions between jaq values and serde_json values, and the small coercions
//! mapping results need (ids as strings, times as RFC 3339).

use chrono::{DateTime, SecondsFormat, Utc};
use jaq_json::{Num, Val};
use serde_json::{Map, Number, Value};

/// Converts a jq result into JSON. Object keys that are not strings (a jaq
/// extension) are written in their JSON form.
pub fn to_json(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(n),
        Val::TStr(_) | Val::BStr(_) => Value::String(text(v).unwrap_or_default()),
        Val::Arr(a) => Value::Array(a.iter().map(to_json).collect()),
        Val::Obj(o) => {
            let mut m = Map::with_capacity(o.len());
            for (k, v) in o.iter() {
                let key = text(k).unwrap_or_else(|| k.to_string());
                m.insert(key, to_json(v));
            }
            Value::Object(m)
        }
    }
}

fn num_to_json(n: &Num) -> Value {
    match n {
        Num::Int(i) => Value::Number(Number::from(*i as i64)),
        Num::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        other => {
            let s = other.to_string();
            s.parse::<Number>()
                .map(Value::Number)
                .unwrap_or(Value::String(s))
        }
    }
}

/// The string inside a jq string value.
pub fn text(v: &Val) -> Option<String> {
    match v {
        Val::TStr(b) | Val::BStr(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// A scalar as an id-like string; `None` for null and the empty string.
pub fn to_opt_string(v: &Val) -> Result<Option<String>, String> {
    match v {
        Val::Null => Ok(None),
        Val::TStr(_) | Val::BStr(_) => Ok(text(v).filter(|s| !s.is_empty())),
        Val::Num(_) | Val::Bool(_) => Ok(Some(v.to_string())),
        _ => Err(format!("expected a string, got {}", short(v))),
    }
}

/// An event time from a string (RFC 3339) or a number (Unix seconds, or
/// milliseconds when too large to be seconds), normalised to UTC.
pub fn to_time(v: &Val) -> Result<Option<String>, String> {
    match v {
        Val::Null => Ok(None),
        Val::Num(n) => {
            let secs: f64 = n
                .to_string()
                .parse()
                .map_err(|_| "not a number".to_owned())?;
            // 1e11 seconds is the year 5138; anything larger is milliseconds.
            let millis = if secs.abs() >= 1e11 {
                secs
            } else {
                secs * 1000.0
            };
            DateTime::<Utc>::from_timestamp_millis(millis as i64)
                .map(|t| Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
                .ok_or_else(|| format!("timestamp {secs} out of range"))
        }
        Val::TStr(_) | Val::BStr(_) => {
            let s = text(v).unwrap_or_default();
            DateTime::parse_from_rfc3339(&s)
                .map(|t| {
                    Some(
                        t.with_timezone(&Utc)
                            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    )
                })
                .map_err(|e| format!("time `{}` is not RFC 3339: {e}", truncate(&s, 64)))
        }
        _ => Err(format!("expected a time, got {}", short(v))),
    }
}

/// Drops null members and empty objects, recursively: a field the provider does not
/// give is absent, never null.
pub fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter_map(|(k, v)| match prune(v) {
                    Value::Null => None,
                    Value::Object(o) if o.is_empty() => None,
                    v => Some((k, v)),
                })
                .collect(),
        ),
        Value::Array(a) => {
            Value::Array(a.into_iter().map(prune).filter(|v| !v.is_null()).collect())
        }
        v => v,
    }
}

fn short(v: &Val) -> String {
    truncate(&v.to_string(), 64).to_owned()
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn val(s: &str) -> Val {
        serde_json::from_str(s).expect("json")
    }

    #[test]
    fn round_trips_json() {
        let src = json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        let v: Val = serde_json::from_value(src.clone()).expect("val");
        assert_eq!(to_json(&v), src);
    }

    #[test]
    fn times() {
        assert_eq!(
            to_time(&val("1767225600")).ok().flatten().as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            to_time(&val("1767225600123")).ok().flatten().as_deref(),
            Some("2026-01-01T00:00:00.123Z")
        );
        assert_eq!(
            to_time(&val("\"2026-01-01T07:00:00+07:00\""))
                .ok()
                .flatten()
                .as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert!(to_time(&val("\"last tuesday\"")).is_err());
        assert_eq!(to_time(&val("null")), Ok(None));
    }

    #[test]
    fn prunes_nulls() {
        let v = prune(json!({"a": null, "b": {"c": null}, "d": [1, null], "e": 0}));
        assert_eq!(v, json!({"d": [1], "e": 0}));
    }
}
