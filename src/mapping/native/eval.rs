//! The native evaluator's walk over its tree: each node yields zero or one
//! value, in jaq's evaluation order, or gives up ([`Bail`]) on any error.
//!
//! Values are borrowed wherever a node only passes one through (paths, variables,
//! constants, `$headers`), so `.a.b | f` or `.x as $x` copy nothing.

use std::borrow::Cow;

use jaq_core::ValT as _;
use jaq_json::{Num, Val};

use super::bail::Bail;
use super::builtins::{builtin, push_text, type_name};
use super::tree::{Builtin, Key, Node, Seg, Step};

/// Bound variables, innermost first, living on the Rust stack.
enum Env<'v> {
    Nil,
    Cons(&'v Val, &'v Env<'v>),
}

impl<'v> Env<'v> {
    fn get(&self, steps: usize) -> Result<&'v Val, Bail> {
        let mut env = self;
        for _ in 0..steps {
            match env {
                Env::Cons(_, up) => env = up,
                Env::Nil => return Err(Bail),
            }
        }
        match env {
            Env::Cons(v, _) => Ok(v),
            Env::Nil => Err(Bail),
        }
    }
}

static NULL: Val = Val::Null;

/// Objects up to this many keys are searched by comparing keys, not hashing.
const SCAN: usize = 8;

type Out<'v> = Result<Option<Cow<'v, Val>>, Bail>;

/// Runs a compiled expression: its first output, `null` if none.
pub(crate) fn run(root: &Node, input: &Val, headers: &Val) -> Result<Val, Bail> {
    Ok(root
        .eval(input, &Env::Nil, headers)?
        .map_or(Val::Null, Cow::into_owned))
}

/// The value of `$o`, or no output at all when it has none (jaq's empty stream
/// makes the enclosing construct empty too, in the same left-to-right order).
macro_rules! some {
    ($o:expr) => {
        match $o? {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

fn owned<'v>(v: Val) -> Out<'v> {
    Ok(Some(Cow::Owned(v)))
}

impl Node {
    fn eval<'v>(&'v self, input: &'v Val, env: &Env<'v>, headers: &'v Val) -> Out<'v> {
        match self {
            Node::Id => Ok(Some(Cow::Borrowed(input))),
            Node::Const(v) => Ok(Some(Cow::Borrowed(v))),
            Node::Var(steps) => Ok(Some(Cow::Borrowed(env.get(*steps)?))),
            Node::Headers => Ok(Some(Cow::Borrowed(headers))),
            Node::Path(base, steps) => path(base, steps, input, env, headers).map(Some),
            Node::Pipe(l, r) => {
                let l = some!(l.eval(input, env, headers));
                Ok(r.eval(&l, env, headers)?
                    .map(|v| Cow::Owned(v.into_owned())))
            }
            Node::Bind(l, r) => {
                let l = some!(l.eval(input, env, headers));
                let env = Env::Cons(&l, env);
                Ok(r.eval(input, &env, headers)?
                    .map(|v| Cow::Owned(v.into_owned())))
            }
            Node::Obj(entries) => obj(entries, input, env, headers),
            Node::Arr(items) => arr(items, input, env, headers),
            Node::Str(segs) => interpolate(segs, input, env, headers),
            Node::Alt(l, r) => match l.eval(input, env, headers)? {
                Some(v) if v.as_bool() => Ok(Some(v)),
                _ => r.eval(input, env, headers),
            },
            Node::And(l, r) => {
                if !some!(l.eval(input, env, headers)).as_bool() {
                    return owned(Val::Bool(false));
                }
                owned(Val::Bool(some!(r.eval(input, env, headers)).as_bool()))
            }
            Node::Or(l, r) => {
                if some!(l.eval(input, env, headers)).as_bool() {
                    return owned(Val::Bool(true));
                }
                owned(Val::Bool(some!(r.eval(input, env, headers)).as_bool()))
            }
            Node::Ite(branches, otherwise) => {
                for (cond, then) in branches.iter() {
                    if some!(cond.eval(input, env, headers)).as_bool() {
                        return then.eval(input, env, headers);
                    }
                }
                otherwise.eval(input, env, headers)
            }
            Node::Cmp(op, l, r) => {
                let l = some!(l.eval(input, env, headers));
                let r = some!(r.eval(input, env, headers));
                owned(Val::Bool(op.run(&*l, &*r)))
            }
            Node::Math(op, l, r) => {
                let l = some!(l.eval(input, env, headers));
                let r = some!(r.eval(input, env, headers));
                op.run(l.into_owned(), r.into_owned())
                    .map_or(Err(Bail), owned)
            }
            Node::Neg(f) => {
                let v = some!(f.eval(input, env, headers));
                (-v.into_owned()).map_or(Err(Bail), owned)
            }
            Node::Try(f) => f.eval(input, env, headers),
            Node::Select(cond) => Ok(some!(cond.eval(input, env, headers))
                .as_bool()
                .then_some(Cow::Borrowed(input))),
            Node::Empty => Ok(None),
            Node::Fail => Err(Bail),
            Node::Map(f) => map(f, input, env, headers),
            Node::Del(keys) => del(keys, input),
            Node::SubLit {
                anchored,
                lit,
                repl,
            } => sub_lit(*anchored, lit, repl, input),
            Node::Call(Builtin::Type, _) => Ok(Some(Cow::Borrowed(type_name(input)))),
            Node::Call(b, args) => match &args[..] {
                [] => owned(builtin(*b, input, None)?),
                [arg] => {
                    let arg = some!(arg.eval(input, env, headers));
                    owned(builtin(*b, input, Some(&arg))?)
                }
                _ => Err(Bail),
            },
        }
    }
}

// The constructors below are kept out of `Node::eval`, whose frame every node
// pays for.

#[inline(never)]
fn obj<'v>(entries: &'v [(Key, Node)], input: &'v Val, env: &Env<'v>, headers: &'v Val) -> Out<'v> {
    let mut m = jaq_json::Map::with_capacity_and_hasher(entries.len(), Default::default());
    for (k, v) in entries {
        let k = match k {
            Key::Const(k) => k.clone(),
            Key::Expr(k) => some!(k.eval(input, env, headers)).into_owned(),
        };
        let v = some!(v.eval(input, env, headers)).into_owned();
        m.insert(k, v);
    }
    owned(Val::obj(m))
}

#[inline(never)]
fn arr<'v>(items: &'v [Node], input: &'v Val, env: &Env<'v>, headers: &'v Val) -> Out<'v> {
    let mut a = Vec::with_capacity(items.len());
    for item in items {
        // `[f, g]` collects every output: an empty one adds nothing.
        if let Some(v) = item.eval(input, env, headers)? {
            a.push(v.into_owned());
        }
    }
    owned(a.into_iter().collect())
}

#[inline(never)]
fn interpolate<'v>(segs: &'v [Seg], input: &'v Val, env: &Env<'v>, headers: &'v Val) -> Out<'v> {
    let mut buf = Vec::new();
    for seg in segs {
        match seg {
            Seg::Lit(b) => buf.extend_from_slice(b),
            Seg::Interp(n) => push_text(&mut buf, some!(n.eval(input, env, headers))),
        }
    }
    owned(Val::utf8_str(buf))
}

#[inline(never)]
fn map<'v>(f: &'v Node, input: &'v Val, env: &Env<'v>, headers: &'v Val) -> Out<'v> {
    let items: Box<dyn Iterator<Item = &Val>> = match input {
        Val::Arr(a) => Box::new(a.iter()),
        Val::Obj(o) => Box::new(o.values()),
        _ => return Err(Bail),
    };
    let mut out = Vec::with_capacity(items.size_hint().0);
    for x in items {
        if let Some(v) = f.eval(x, env, headers)? {
            out.push(v.into_owned());
        }
    }
    owned(out.into_iter().collect())
}

#[inline(never)]
fn del<'v>(keys: &[Val], input: &Val) -> Out<'v> {
    match input {
        Val::Obj(o) => {
            let mut m = (**o).clone();
            for k in keys {
                // jaq deletes with `|= empty`, which swap-removes.
                m.swap_remove(k);
            }
            owned(Val::obj(m))
        }
        _ => Err(Bail),
    }
}

#[inline(never)]
fn sub_lit<'v>(anchored: bool, lit: &[u8], repl: &[u8], input: &'v Val) -> Out<'v> {
    let Val::TStr(s) = input else {
        return Err(Bail);
    };
    let s: &[u8] = s;
    let at = if anchored {
        s.starts_with(lit).then_some(0)
    } else {
        find(s, lit)
    };
    match at {
        None => Ok(Some(Cow::Borrowed(input))),
        Some(i) => {
            let mut buf = Vec::with_capacity(s.len() + repl.len());
            buf.extend_from_slice(&s[..i]);
            buf.extend_from_slice(repl);
            buf.extend_from_slice(&s[i + lit.len()..]);
            owned(Val::utf8_str(buf))
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn path<'v>(
    base: &'v Node,
    steps: &'v [Step],
    input: &'v Val,
    env: &Env<'v>,
    headers: &'v Val,
) -> Result<Cow<'v, Val>, Bail> {
    // Keys into `.`, `$x` or `$headers`: only references until the end.
    let root = match base {
        Node::Id => Some(input),
        Node::Var(steps) => Some(env.get(*steps)?),
        Node::Headers => Some(headers),
        _ => None,
    };
    if let Some(mut cur) = root {
        let mut all_keys = true;
        for step in steps {
            match step {
                Step::Key(k) => match index_ref(cur, k) {
                    Some(next) => cur = next,
                    None => {
                        all_keys = false;
                        break;
                    }
                },
                _ => {
                    all_keys = false;
                    break;
                }
            }
        }
        if all_keys {
            return Ok(Cow::Borrowed(cur));
        }
    }
    // An empty base or index is rare enough to leave to jaq, whose order of
    // evaluation between them is subtle.
    let mut cur = base.eval(input, env, headers)?.ok_or(Bail)?;
    for step in steps {
        cur = match step {
            Step::Key(k) => index(cur, k)?,
            Step::Index(i) => {
                let k = i.eval(input, env, headers)?.ok_or(Bail)?;
                index(cur, &k)?
            }
            Step::Slice(from, upto) => {
                let bound = |b: &'v Option<Node>| -> Result<Option<Cow<'v, Val>>, Bail> {
                    match b {
                        Some(b) => Ok(Some(b.eval(input, env, headers)?.ok_or(Bail)?)),
                        None => Ok(None),
                    }
                };
                let (from, upto) = (bound(from)?, bound(upto)?);
                let range = from.as_deref()..upto.as_deref();
                Cow::Owned(cur.into_owned().range(range).map_err(|_| Bail)?)
            }
        };
    }
    Ok(cur)
}

/// `v[k]` as jaq's `Val::index` computes it, borrowing where it can.
fn index<'v>(v: Cow<'v, Val>, k: &Val) -> Result<Cow<'v, Val>, Bail> {
    match v {
        Cow::Borrowed(v) => match index_ref(v, k) {
            Some(r) => Ok(Cow::Borrowed(r)),
            None => v.clone().index(k).map(Cow::Owned).map_err(|_| Bail),
        },
        Cow::Owned(v) => match index_ref(&v, k) {
            Some(r) => Ok(Cow::Owned(r.clone())),
            None => v.index(k).map(Cow::Owned).map_err(|_| Bail),
        },
    }
}

/// The common cases of jaq's `Val::index_opt`; `None` for the others (jaq's own
/// code then decides, errors included).
fn index_ref<'a>(v: &'a Val, k: &Val) -> Option<&'a Val> {
    match (v, k) {
        (Val::Null, _) => Some(&NULL),
        (Val::Obj(o), Val::TStr(k) | Val::BStr(k)) if o.len() <= SCAN => {
            // Small objects: comparing keys beats hashing. Strings are equal to
            // strings with the same bytes only (and hash alike), so this finds
            // what `get` finds.
            let hit = o.iter().find(|(x, _)| match x {
                Val::TStr(x) | Val::BStr(x) => x.len() == k.len() && x[..] == k[..],
                _ => false,
            });
            Some(hit.map_or(&NULL, |(_, v)| v))
        }
        (Val::Obj(o), k) => Some(o.get(k).unwrap_or(&NULL)),
        (Val::Arr(a), Val::Num(Num::Int(i))) => {
            let i = if *i >= 0 {
                Some(i.unsigned_abs())
            } else {
                a.len().checked_sub(i.unsigned_abs())
            };
            Some(i.and_then(|i| a.get(i)).unwrap_or(&NULL))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_indices_count_from_the_end() {
        let a: Val = [1isize, 2, 3].into_iter().map(Val::from).collect();
        let at = |i: isize| index_ref(&a, &Val::from(i)).cloned();
        assert_eq!(at(-1), Some(Val::from(3isize)));
        assert_eq!(at(-3), Some(Val::from(1isize)));
        assert_eq!(at(-4), Some(Val::Null));
        assert_eq!(at(3), Some(Val::Null));
    }
}
