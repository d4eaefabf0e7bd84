//! From jaq's parsed term to the native tree: definitions inlined at each call
//! (names resolved by [`Scope`] as jaq resolves them), and the first construct
//! outside the single-valued subset reported as [`Unsupported`].

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::path::Part;
use jaq_core::ValT as _;
use jaq_json::Val;

use super::scope::{Callee, Item, Scope};
use super::tree::{Builtin, Key, Node, Seg, Step};
use super::unsupported::{Res, Unsupported};

/// Inlining deeper than this is taken for recursion.
const MAX_INLINE_DEPTH: usize = 48;
/// Inlining can grow a tree exponentially; past this, jaq runs it.
const MAX_NODES: usize = 20_000;

/// Compiles a whole program (prelude definitions and expression).
pub(super) fn compile(term: &Term<&str>) -> Res<Node> {
    let mut c = Compiler {
        inline_depth: 0,
        nodes: 0,
    };
    c.term(term, &Scope::root(), 0)
}

struct Compiler {
    inline_depth: usize,
    nodes: usize,
}

/// A string literal without interpolation.
fn literal(t: &Term<&str>) -> Option<String> {
    let Term::Str(None, parts) = t else {
        return None;
    };
    let mut s = String::new();
    for p in parts {
        match p {
            StrPart::Str(x) => s.push_str(x),
            StrPart::Char(c) => s.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(s)
}

/// Flattens `a, b, c`.
fn commas<'a, 's>(t: &'a Term<&'s str>, out: &mut Vec<&'a Term<&'s str>>) {
    match t {
        Term::BinOp(l, BinaryOp::Comma, r) => {
            commas(l, out);
            commas(r, out);
        }
        t => out.push(t),
    }
}

/// Whether a regular expression (no flags) matches exactly its own text after an
/// optional leading `^`: no character in it is special to jaq's regex engine.
fn literal_regex(re: &str) -> Option<(bool, &str)> {
    let (anchored, lit) = match re.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, re),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || " _:/,;=@!%'\"<>-".contains(c);
    (!lit.is_empty() && lit.chars().all(plain)).then_some((anchored, lit))
}

impl Compiler {
    fn count(&mut self) -> Res<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Unsupported::new(
                "too large once its definitions are inlined",
            ));
        }
        Ok(())
    }

    fn boxed<'s>(
        &mut self,
        t: &'s Term<&'s str>,
        scope: &Scope<'s>,
        depth: usize,
    ) -> Res<Box<Node>> {
        self.term(t, scope, depth).map(Box::new)
    }

    /// `depth` is the number of variables bound at this point at run time.
    fn term<'s>(&mut self, t: &'s Term<&'s str>, scope: &Scope<'s>, depth: usize) -> Res<Node> {
        self.count()?;
        Ok(match t {
            Term::Id => Node::Id,
            Term::Recurse => return Err(Unsupported::uses("..")),
            Term::Num(n) => Node::Const(match n.parse::<isize>() {
                Ok(i) => Val::from(i),
                Err(_) => Val::from_num(n).map_err(|_| Unsupported::new("a number jaq rejects"))?,
            }),
            Term::Str(Some(fmt), _) => return Err(Unsupported::uses(fmt)),
            Term::Str(None, parts) => {
                let mut segs = Vec::new();
                let mut lit = String::new();
                for p in parts {
                    match p {
                        StrPart::Str(x) => lit.push_str(x),
                        StrPart::Char(c) => lit.push(*c),
                        StrPart::Term(f) => {
                            if !lit.is_empty() {
                                segs.push(Seg::Lit(std::mem::take(&mut lit).into_bytes().into()));
                            }
                            segs.push(Seg::Interp(self.term(f, scope, depth)?));
                        }
                    }
                }
                if segs.is_empty() {
                    Node::Const(Val::from(lit))
                } else {
                    if !lit.is_empty() {
                        segs.push(Seg::Lit(lit.into_bytes().into()));
                    }
                    Node::Str(segs.into())
                }
            }
            Term::Arr(None) => Node::Const(Val::Arr(Default::default())),
            Term::Arr(Some(items)) => {
                let mut terms = Vec::new();
                commas(items, &mut terms);
                let items = terms
                    .into_iter()
                    .map(|t| self.term(t, scope, depth))
                    .collect::<Res<Vec<_>>>()?;
                if items.iter().all(|n| matches!(n, Node::Const(_))) {
                    let vals = items.into_iter().filter_map(|n| match n {
                        Node::Const(v) => Some(v),
                        _ => None,
                    });
                    Node::Const(vals.collect())
                } else {
                    Node::Arr(items.into())
                }
            }
            Term::Obj(entries) => self.obj(entries, scope, depth)?,
            Term::Neg(f) => match self.term(f, scope, depth)? {
                Node::Const(v) => match -v.clone() {
                    Ok(n) => Node::Const(n),
                    Err(_) => Node::Neg(Box::new(Node::Const(v))),
                },
                f => Node::Neg(Box::new(f)),
            },
            Term::BinOp(l, op, r) => self.binop(l, op, r, scope, depth)?,
            Term::Label(..) | Term::Break(_) => return Err(Unsupported::uses("label")),
            Term::Fold(name, ..) => return Err(Unsupported::uses(name)),
            Term::TryCatch(f, _) => Node::Try(self.boxed(f, scope, depth)?),
            Term::IfThenElse(branches, otherwise) => {
                let branches = branches
                    .iter()
                    .map(|(c, t)| Ok((self.term(c, scope, depth)?, self.term(t, scope, depth)?)))
                    .collect::<Res<Vec<_>>>()?;
                let otherwise = match otherwise {
                    Some(e) => self.boxed(e, scope, depth)?,
                    None => Box::new(Node::Id),
                };
                Node::Ite(branches.into(), otherwise)
            }
            Term::Def(defs, body) => {
                let scope = defs.iter().fold(scope.clone(), |s, d| s.push(Item::Def(d)));
                self.term(body, &scope, depth)?
            }
            Term::Call(name, args) => self.call(name, args, scope, depth)?,
            Term::Var(x) => match scope.var(x) {
                Some(slot) => Node::Var(depth - 1 - slot),
                None if *x == "$headers" => Node::Headers,
                None => return Err(Unsupported::uses(x)),
            },
            Term::Path(base, path) => {
                let base = self.boxed(base, scope, depth)?;
                let mut steps = Vec::with_capacity(path.0.len());
                // `?` needs nothing here: an error gives up either way, and
                // without one `?` changes nothing.
                for (part, _opt) in &path.0 {
                    steps.push(match part {
                        Part::Index(i) => match self.term(i, scope, depth)? {
                            Node::Const(k) => Step::Key(k),
                            i => Step::Index(i),
                        },
                        Part::Range(None, None) => return Err(Unsupported::uses(".[]")),
                        Part::Range(from, upto) => {
                            let mut bound = |b: &'s Option<Term<&'s str>>| -> Res<Option<Node>> {
                                b.as_ref().map(|b| self.term(b, scope, depth)).transpose()
                            };
                            Step::Slice(bound(from)?, bound(upto)?)
                        }
                    });
                }
                Node::Path(base, steps.into())
            }
        })
    }

    fn obj<'s>(
        &mut self,
        entries: &'s [(Term<&'s str>, Option<Term<&'s str>>)],
        scope: &Scope<'s>,
        depth: usize,
    ) -> Res<Node> {
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let (k, v) = match (k, v) {
                // `{$x}`
                (Term::Var(x), None) => (
                    Node::Const(Val::from(x.trim_start_matches('$').to_owned())),
                    self.term(k, scope, depth)?,
                ),
                // `{a}`, `{"a"}`: the key, and `.[key]`
                (k, None) => {
                    let key = self.term(k, scope, depth)?;
                    let step = match &key {
                        Node::Const(c) => Step::Key(c.clone()),
                        _ => Step::Index(self.term(k, scope, depth)?),
                    };
                    (key, Node::Path(Box::new(Node::Id), [step].into()))
                }
                (k, Some(v)) => (self.term(k, scope, depth)?, self.term(v, scope, depth)?),
            };
            out.push((k, v));
        }
        if out
            .iter()
            .all(|(k, v)| matches!((k, v), (Node::Const(_), Node::Const(_))))
        {
            let mut m = jaq_json::Map::with_capacity_and_hasher(out.len(), Default::default());
            for (k, v) in out {
                if let (Node::Const(k), Node::Const(v)) = (k, v) {
                    m.insert(k, v);
                }
            }
            return Ok(Node::Const(Val::obj(m)));
        }
        let entries = out.into_iter().map(|(k, v)| match k {
            Node::Const(k) => (Key::Const(k), v),
            k => (Key::Expr(k), v),
        });
        Ok(Node::Obj(entries.collect()))
    }

    fn binop<'s>(
        &mut self,
        l: &'s Term<&'s str>,
        op: &'s BinaryOp<&'s str>,
        r: &'s Term<&'s str>,
        scope: &Scope<'s>,
        depth: usize,
    ) -> Res<Node> {
        let pair = |c: &mut Self| -> Res<(Box<Node>, Box<Node>)> {
            Ok((c.boxed(l, scope, depth)?, c.boxed(r, scope, depth)?))
        };
        Ok(match op {
            BinaryOp::Pipe(None) => match pair(self)? {
                (l, r) if matches!(*l, Node::Id) => *r,
                (l, r) => Node::Pipe(l, r),
            },
            BinaryOp::Pipe(Some(Pattern::Var(x))) => {
                let l = self.boxed(l, scope, depth)?;
                let r = self.boxed(r, &scope.push(Item::Var(x, depth)), depth + 1)?;
                Node::Bind(l, r)
            }
            BinaryOp::Pipe(Some(_)) => {
                return Err(Unsupported::new("uses a destructuring pattern"))
            }
            BinaryOp::Comma => return Err(Unsupported::uses(",")),
            BinaryOp::Alt => {
                let (l, r) = pair(self)?;
                Node::Alt(l, r)
            }
            BinaryOp::Or => {
                let (l, r) = pair(self)?;
                Node::Or(l, r)
            }
            BinaryOp::And => {
                let (l, r) = pair(self)?;
                Node::And(l, r)
            }
            BinaryOp::Math(op) => {
                let (l, r) = pair(self)?;
                Node::Math(*op, l, r)
            }
            BinaryOp::Cmp(op) => {
                let (l, r) = pair(self)?;
                Node::Cmp(*op, l, r)
            }
            BinaryOp::Assign => return Err(Unsupported::uses("=")),
            BinaryOp::Update => return Err(Unsupported::uses("|=")),
            BinaryOp::UpdateMath(op) => return Err(Unsupported::uses(format!("{}=", op.as_str()))),
            BinaryOp::UpdateAlt => return Err(Unsupported::uses("//=")),
        })
    }

    fn call<'s>(
        &mut self,
        name: &'s str,
        args: &'s [Term<&'s str>],
        scope: &Scope<'s>,
        depth: usize,
    ) -> Res<Node> {
        if name.contains("::") {
            return Err(Unsupported::uses(name));
        }
        let shown = || {
            if args.is_empty() {
                name.to_owned()
            } else {
                format!("{name}/{}", args.len())
            }
        };
        let callee = scope
            .call(name, args.len())
            .ok_or_else(|| Unsupported::uses(shown()))?;
        match callee {
            Callee::Builtin => self.builtin(name, args, scope, depth),
            Callee::Arg(t, at) => self.inlined(name, |c| c.term(t, &at, depth)),
            Callee::Def(d, at) => self
                .inlined(name, |c| c.def(d, args, scope, at, depth))
                .map_err(|e| e.within(name)),
            // A standard definition is reported by the name the mapping calls.
            Callee::Std(d, at) => self
                .inlined(name, |c| c.def(d, args, scope, at, depth))
                .map_err(|_| Unsupported::uses(shown())),
        }
    }

    fn inlined(&mut self, name: &str, f: impl FnOnce(&mut Self) -> Res<Node>) -> Res<Node> {
        self.inline_depth += 1;
        if self.inline_depth > MAX_INLINE_DEPTH {
            return Err(Unsupported::new(format!("calls `{name}` recursively")));
        }
        let out = f(self);
        self.inline_depth -= 1;
        out
    }

    /// A call to `d`, whose body reads names in `at`: `$x` parameters are bound
    /// to their argument's value (run on the call's input, in the caller's
    /// scope), filter parameters stand for their argument's term.
    fn def<'s>(
        &mut self,
        d: &'s Def<&'s str>,
        args: &'s [Term<&'s str>],
        caller: &Scope<'s>,
        mut at: Scope<'s>,
        depth: usize,
    ) -> Res<Node> {
        let mut bound = Vec::new();
        let mut depth_now = depth;
        for (param, arg) in d.args.iter().zip(args) {
            if param.starts_with('$') {
                bound.push(self.term(arg, caller, depth_now)?);
                at = at.push(Item::Var(param, depth_now));
                depth_now += 1;
            } else {
                at = at.push(Item::Arg(param, arg, caller.clone()));
            }
        }
        let body = self.term(&d.body, &at, depth_now)?;
        Ok(bound
            .into_iter()
            .rev()
            .fold(body, |body, arg| Node::Bind(Box::new(arg), Box::new(body))))
    }

    fn builtin<'s>(
        &mut self,
        name: &'s str,
        args: &'s [Term<&'s str>],
        scope: &Scope<'s>,
        depth: usize,
    ) -> Res<Node> {
        let value_arg = |c: &mut Self, b: Builtin| -> Res<Node> {
            let arg = match args {
                [a] => c.term(a, scope, depth)?,
                _ => return Err(Unsupported::uses(name)),
            };
            Ok(Node::Call(b, [arg].into()))
        };
        let call0 = |b: Builtin| Node::Call(b, Box::new([]));
        Ok(match (name, args) {
            ("empty", []) => Node::Empty,
            ("true", []) => Node::Const(Val::Bool(true)),
            ("false", []) => Node::Const(Val::Bool(false)),
            ("null", []) => Node::Const(Val::Null),
            ("not", []) => call0(Builtin::Not),
            ("tostring", []) => call0(Builtin::ToString),
            ("type", []) => call0(Builtin::Type),
            ("length", []) => call0(Builtin::Length),
            ("keys", []) => call0(Builtin::Keys),
            ("keys_unsorted", []) => call0(Builtin::KeysUnsorted),
            ("ascii_downcase", []) => call0(Builtin::AsciiDowncase),
            ("ascii_upcase", []) => call0(Builtin::AsciiUpcase),
            ("tonumber", []) => call0(Builtin::ToNumber),
            ("add", []) => call0(Builtin::Add),
            ("sort", []) => call0(Builtin::Sort),
            ("reverse", []) => call0(Builtin::Reverse),
            // jaq raises an error here; the message is jaq's to build.
            ("error", [] | [_]) => Node::Fail,
            ("select", [f]) => Node::Select(self.boxed(f, scope, depth)?),
            ("map", [f]) => Node::Map(self.boxed(f, scope, depth)?),
            ("del", [f]) => {
                let mut paths = Vec::new();
                commas(f, &mut paths);
                let keys = paths
                    .into_iter()
                    .map(|p| match p {
                        Term::Path(base, path) if matches!(**base, Term::Id) => match &path.0[..] {
                            [(Part::Index(k), _)] => literal(k).map(Val::from),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Unsupported::new("uses `del` on a path other than `.key`"))?;
                Node::Del(keys.into())
            }
            ("sub", [re, f]) => {
                let re = literal(re)
                    .ok_or_else(|| Unsupported::new("uses `sub` with a computed regex"))?;
                let (anchored, lit) = literal_regex(&re).ok_or_else(|| {
                    Unsupported::new("uses `sub` with a regex that is not plain text")
                })?;
                let repl = match self.term(f, scope, depth)? {
                    Node::Const(Val::TStr(b)) => b.to_vec(),
                    _ => return Err(Unsupported::new("uses `sub` with a computed replacement")),
                };
                Node::SubLit {
                    anchored,
                    lit: lit.as_bytes().into(),
                    repl: repl.into(),
                }
            }
            ("join", _) => value_arg(self, Builtin::Join)?,
            ("split", _) => value_arg(self, Builtin::Split)?,
            ("startswith", _) => value_arg(self, Builtin::StartsWith)?,
            ("endswith", _) => value_arg(self, Builtin::EndsWith)?,
            ("ltrimstr", _) => value_arg(self, Builtin::LtrimStr)?,
            ("rtrimstr", _) => value_arg(self, Builtin::RtrimStr)?,
            _ => return Err(Unsupported::uses(name)),
        })
    }
}
