//! Where a fixture body is made unique per request: the dedup-relevant leaves of a
//! JSON or form body found, slots cut into the serialised text at them, and the
//! `n`th request's body rendered from the slots.

use bytes::Bytes;
use serde_json::Value;

/// Marks where a request's sequence number goes in a template's serialised body.
const SLOT: &str = "\u{1}hookgate-bench-slot\u{1}";
/// The same, for a string whose last 12 characters the number replaces.
const FIXED_SLOT: &str = "\u{1}hookgate-bench-fixed\u{1}";

/// What goes into a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// `-{n}` after a string's text.
    Suffix,
    /// A fresh 15-digit number in place of a number, unique to its place.
    Number,
    /// 12 digits in place of a string's last 12 characters: for ids whose length
    /// the mapping checks (Twilio's 34-character Sids).
    Fixed,
}

/// How a template's body is made unique.
#[derive(Debug, Clone)]
pub(super) enum Body {
    /// The body's text split at the dedup-relevant leaves: each gap takes `-{n}`
    /// after a string's text, or a fresh number.
    Slots {
        parts: Vec<String>,
        kinds: Vec<Slot>,
    },
    /// No leaf of the body feeds the dedup id (it is the body's hash): the raw body
    /// gets `n` appended as insignificant JSON whitespace.
    Whitespace(Bytes),
}

impl Body {
    /// The body of request `n`.
    pub(super) fn render(&self, n: u64) -> Bytes {
        match self {
            Self::Whitespace(raw) => {
                let mut b = Vec::with_capacity(raw.len() + 66);
                b.extend_from_slice(raw);
                b.push(b'\n');
                b.extend((0..64).map(|i| if n >> i & 1 == 1 { b'\t' } else { b' ' }));
                Bytes::from(b)
            }
            Self::Slots { parts, kinds } => {
                let mut b =
                    String::with_capacity(parts.iter().map(String::len).sum::<usize>() + 24);
                for (i, part) in parts.iter().enumerate() {
                    b.push_str(part);
                    match kinds.get(i) {
                        // 15 digits, exact in an f64 (so jq sees the same number);
                        // the slot's place is in them, so the numbers of one body
                        // differ (the event ids of a batch's items).
                        Some(Slot::Number) => {
                            b.push_str(&format!("1{:02}{:012}", i % 100, n % 1_000_000_000_000))
                        }
                        Some(Slot::Suffix) => b.push_str(&format!("-{n}")),
                        Some(Slot::Fixed) => b.push_str(&format!("{:012}", n % 1_000_000_000_000)),
                        None => {}
                    }
                }
                Bytes::from(b)
            }
        }
    }
}

/// A path into a JSON document.
pub(super) type Leaf = Vec<Step>;

#[derive(Debug, Clone)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// Leaves (strings, integers) whose text occurs in the dedup id.
pub(super) fn collect_leaves(v: &Value, at: &mut Leaf, dedup: &str, out: &mut Vec<Leaf>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Step::Key(k.clone()));
                collect_leaves(x, at, dedup, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Step::Index(i));
                collect_leaves(x, at, dedup, out);
                at.pop();
            }
        }
        Value::String(s) if s.len() >= 3 && dedup.contains(s.as_str()) => out.push(at.clone()),
        Value::Number(n) if n.is_u64() && dedup.contains(&n.to_string()) => out.push(at.clone()),
        _ => {}
    }
}

fn leaf_mut<'v>(v: &'v mut Value, leaf: &[Step]) -> Option<&'v mut Value> {
    leaf.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// A fixture body the generator can put slots in.
pub(super) enum Doc {
    Json(Value),
    /// A form body's fields; a leaf is `[Index(field)]`.
    Form(Vec<(String, String)>),
}

/// A string's text without its last 12 characters, for a fixed-length slot (long
/// enough, and ending in ASCII letters or digits).
fn cut_for_fixed(s: &mut String) -> Result<(), String> {
    let cut = s
        .len()
        .checked_sub(12)
        .filter(|c| *c >= 4)
        .ok_or("too short")?;
    if !s.as_bytes()[cut..].iter().all(u8::is_ascii_alphanumeric) {
        return Err("not an id".to_owned());
    }
    s.truncate(cut);
    Ok(())
}

/// The body serialised with a slot at each leaf (`true`: a fixed-length slot).
pub(super) fn slots(parsed: Option<&Doc>, leaves: &[(Leaf, bool)]) -> Result<Body, String> {
    let mut doc = match parsed.ok_or("neither JSON nor a form")? {
        Doc::Json(v) => v.clone(),
        Doc::Form(pairs) => return form_slots(pairs, leaves),
    };
    let mut count = 0;
    for (leaf, fixed) in leaves {
        let slot = leaf_mut(&mut doc, leaf).ok_or("leaf vanished")?;
        count += 1;
        match slot {
            Value::String(s) if *fixed => {
                cut_for_fixed(s)?;
                s.push_str(FIXED_SLOT);
            }
            Value::String(s) => s.push_str(SLOT),
            _ if *fixed => return Err("not a string".to_owned()),
            _ => *slot = Value::String(format!("{SLOT}#")),
        }
    }
    let text = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
    // Serialisation order is the document's, not the leaves' order: read the kind
    // of each slot from the text itself.
    let escape = |m: &str| {
        serde_json::to_string(m)
            .map(|e| e.trim_matches('"').to_owned())
            .map_err(|e| e.to_string())
    };
    let (plain, fixed) = (escape(SLOT)?, escape(FIXED_SLOT)?);
    let mut parts = Vec::new();
    let mut kinds = Vec::new();
    let mut rest = text.as_str();
    while let Some((i, len, kind)) = next_slot(rest, &plain, &fixed) {
        let after = &rest[i + len..];
        match (kind, after.strip_prefix("#\"")) {
            (Slot::Suffix, Some(tail)) => {
                // A number: drop the quote that opened the placeholder string.
                let head = rest[..i].strip_suffix('"').ok_or("bad numeric slot")?;
                parts.push(head.to_owned());
                kinds.push(Slot::Number);
                rest = tail;
            }
            _ => {
                parts.push(rest[..i].to_owned());
                kinds.push(kind);
                rest = after;
            }
        }
    }
    parts.push(rest.to_owned());
    if kinds.len() != count {
        return Err("slot count mismatch".to_owned());
    }
    Ok(Body::Slots { parts, kinds })
}

/// The first slot marker in `rest`: where, its length, and its kind.
fn next_slot(rest: &str, plain: &str, fixed: &str) -> Option<(usize, usize, Slot)> {
    [(plain, Slot::Suffix), (fixed, Slot::Fixed)]
        .into_iter()
        .filter_map(|(m, k)| rest.find(m).map(|i| (i, m.len(), k)))
        .min_by_key(|(i, _, _)| *i)
}

/// A form body re-encoded with a slot after each chosen field's value.
fn form_slots(pairs: &[(String, String)], leaves: &[(Leaf, bool)]) -> Result<Body, String> {
    let mut pairs = pairs.to_vec();
    for (leaf, fixed) in leaves {
        let Some(Step::Index(i)) = leaf.first() else {
            return Err("bad form leaf".to_owned());
        };
        let value = &mut pairs.get_mut(*i).ok_or("leaf vanished")?.1;
        if *fixed {
            cut_for_fixed(value)?;
            value.push_str(FIXED_SLOT);
        } else {
            value.push_str(SLOT);
        }
    }
    let text = crate::form::encode(&pairs);
    let encoded = |m: &str| {
        crate::form::encode(&[(String::new(), m.to_owned())])
            .trim_start_matches('=')
            .to_owned()
    };
    let (plain, fixed) = (encoded(SLOT), encoded(FIXED_SLOT));
    let mut parts = Vec::new();
    let mut kinds = Vec::new();
    let mut rest = text.as_str();
    while let Some((i, len, kind)) = next_slot(rest, &plain, &fixed) {
        parts.push(rest[..i].to_owned());
        kinds.push(kind);
        rest = &rest[i + len..];
    }
    parts.push(rest.to_owned());
    Ok(Body::Slots { parts, kinds })
}
