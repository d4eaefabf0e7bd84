//! The builtins the native evaluator implements, each calling the same `Val`
//! operations jaq's own builtin calls, so results are identical.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use jaq_core::ValT as _;
use jaq_json::{Num, Val};
use jaq_std::ValT as _;

use super::bail::Bail;
use super::tree::Builtin;

/// `type`, built once: conditions such as `type == "object"` allocate nothing.
pub(super) fn type_name(v: &Val) -> &'static Val {
    static NAMES: OnceLock<[Val; 6]> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        ["null", "boolean", "number", "string", "array", "object"]
            .map(|s| Val::utf8_str(Bytes::from_static(s.as_bytes())))
    });
    &names[match v {
        Val::Null => 0,
        Val::Bool(_) => 1,
        Val::Num(_) => 2,
        Val::TStr(_) | Val::BStr(_) => 3,
        Val::Arr(_) => 4,
        Val::Obj(_) => 5,
    }]
}

/// Appends `v` as string interpolation shows it: strings as they are, anything
/// else as JSON (jaq's `tostring`).
pub(super) fn push_text(buf: &mut Vec<u8>, v: Cow<'_, Val>) {
    match &*v {
        Val::TStr(b) | Val::BStr(b) => buf.extend_from_slice(b),
        _ => {
            if let Val::TStr(b) = v.into_owned().into_string() {
                buf.extend_from_slice(&b);
            }
        }
    }
}

/// A builtin on `input`, with its argument's value if it takes one.
pub(super) fn builtin(b: Builtin, input: &Val, arg: Option<&Val>) -> Result<Val, Bail> {
    let v = match (b, arg) {
        (Builtin::Not, None) => Val::Bool(!input.as_bool()),
        (Builtin::ToString, None) => input.clone().into_string(),
        (Builtin::Type, None) => type_name(input).clone(),
        (Builtin::Length, None) => match input {
            Val::Null => Val::from(0usize),
            Val::Num(Num::Int(i)) if *i != isize::MIN => Val::from(i.abs()),
            Val::Num(Num::Float(f)) => Val::from(f.abs()),
            Val::TStr(s) => Val::from(std::str::from_utf8(s).map_err(|_| Bail)?.chars().count()),
            Val::BStr(b) => Val::from(b.len()),
            Val::Arr(a) => Val::from(a.len()),
            Val::Obj(o) => Val::from(o.len()),
            _ => return Err(Bail),
        },
        (Builtin::Keys | Builtin::KeysUnsorted, None) => {
            let mut keys: Vec<Val> = match input {
                Val::Obj(o) => o.keys().cloned().collect(),
                Val::Arr(a) => (0..a.len()).map(|i| Val::from(i as isize)).collect(),
                _ => return Err(Bail),
            };
            if b == Builtin::Keys {
                keys.sort();
            }
            keys.into_iter().collect()
        }
        (Builtin::AsciiDowncase, None) => match input {
            Val::TStr(s) => Val::from_utf8_bytes(s.to_ascii_lowercase()),
            _ => return Err(Bail),
        },
        (Builtin::AsciiUpcase, None) => match input {
            Val::TStr(s) => Val::from_utf8_bytes(s.to_ascii_uppercase()),
            _ => return Err(Bail),
        },
        (Builtin::ToNumber, None) => match input {
            Val::Num(_) => input.clone(),
            // jaq's `fromjson`; a string holding anything but exactly one number
            // is jaq's to answer (an error, or the first of several values).
            Val::TStr(s) => match jaq_json::read::parse_single(s) {
                Ok(n @ Val::Num(_)) => n,
                _ => return Err(Bail),
            },
            _ => return Err(Bail),
        },
        // `def add: reduce .[] as $x (null; . + $x)`
        (Builtin::Add, None) => {
            let items: Box<dyn Iterator<Item = &Val>> = match input {
                Val::Arr(a) => Box::new(a.iter()),
                Val::Obj(o) => Box::new(o.values()),
                _ => return Err(Bail),
            };
            let mut acc = Val::Null;
            for x in items {
                acc = (acc + x.clone()).map_err(|_| Bail)?;
            }
            acc
        }
        (Builtin::Sort | Builtin::Reverse, None) => match input {
            Val::Arr(a) => {
                let mut a = (**a).clone();
                if b == Builtin::Sort {
                    a.sort();
                } else {
                    a.reverse();
                }
                a.into_iter().collect()
            }
            _ => return Err(Bail),
        },
        (Builtin::Join, Some(sep)) => match (input, sep) {
            (Val::Arr(a), Val::TStr(sep)) => {
                let mut buf = Vec::new();
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        buf.extend_from_slice(sep);
                    }
                    push_text(&mut buf, Cow::Borrowed(x));
                }
                Val::utf8_str(buf)
            }
            _ => return Err(Bail),
        },
        (Builtin::Split, Some(sep)) => match (input, sep) {
            (Val::TStr(_), Val::TStr(_)) => (input.clone() / sep.clone()).map_err(|_| Bail)?,
            _ => return Err(Bail),
        },
        (Builtin::StartsWith | Builtin::EndsWith, Some(fix)) => match (input, fix) {
            (Val::TStr(s) | Val::BStr(s), Val::TStr(f) | Val::BStr(f)) => {
                Val::Bool(if b == Builtin::StartsWith {
                    s.starts_with(f)
                } else {
                    s.ends_with(f)
                })
            }
            _ => return Err(Bail),
        },
        (Builtin::LtrimStr | Builtin::RtrimStr, Some(fix)) => match (input, fix) {
            (Val::TStr(s) | Val::BStr(s), Val::TStr(f) | Val::BStr(f)) => {
                let sub = if b == Builtin::LtrimStr {
                    s.strip_prefix(&f[..])
                } else {
                    s.strip_suffix(&f[..])
                };
                match sub {
                    Some(sub) => input.as_sub_str(sub),
                    None => input.clone(),
                }
            }
            _ => return Err(Bail),
        },
        _ => return Err(Bail),
    };
    Ok(v)
}
