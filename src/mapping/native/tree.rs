//! The native evaluator's tree: what `compile.rs` builds from jaq's parsed term
//! and `eval.rs` walks.

use jaq_core::ops::{Cmp, Math};
use jaq_json::Val;

/// A natively compiled (sub)expression.
#[derive(Debug)]
pub(crate) enum Node {
    /// `.`
    Id,
    Const(Val),
    /// A bound variable, `steps` bindings up from the innermost.
    Var(usize),
    Headers,
    /// `f.a[1][g][x:y]`: the indices run on the path's input, not on `f`'s output.
    Path(Box<Node>, Box<[Step]>),
    Pipe(Box<Node>, Box<Node>),
    /// `f as $x | g`
    Bind(Box<Node>, Box<Node>),
    Obj(Box<[(Key, Node)]>),
    Arr(Box<[Node]>),
    /// String interpolation.
    Str(Box<[Seg]>),
    Alt(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    /// `if c1 then t1 elif c2 then t2 … else e end`
    Ite(Box<[(Node, Node)]>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    Math(Math, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    /// `try f` / `f?`: its catch only ever runs in jaq.
    Try(Box<Node>),
    /// `select(f)`
    Select(Box<Node>),
    Empty,
    /// `error`, `error(m)`: jaq raises it, so reaching it gives up.
    Fail,
    /// `map(f)`
    Map(Box<Node>),
    /// `del(.k1, .k2, …)` on an object.
    Del(Box<[Val]>),
    /// `sub("^literal"; "replacement")` and `sub("literal"; "replacement")`.
    SubLit {
        anchored: bool,
        lit: Box<[u8]>,
        repl: Box<[u8]>,
    },
    /// A builtin on the input, with its `$x` arguments (run on the input first).
    Call(Builtin, Box<[Node]>),
}

#[derive(Debug)]
pub(crate) enum Step {
    Key(Val),
    Index(Node),
    Slice(Option<Node>, Option<Node>),
}

#[derive(Debug)]
pub(crate) enum Key {
    Const(Val),
    Expr(Node),
}

#[derive(Debug)]
pub(crate) enum Seg {
    Lit(Box<[u8]>),
    Interp(Node),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Not,
    ToString,
    Type,
    Length,
    Keys,
    KeysUnsorted,
    AsciiDowncase,
    AsciiUpcase,
    ToNumber,
    Join,
    Split,
    StartsWith,
    EndsWith,
    LtrimStr,
    RtrimStr,
    Add,
    Sort,
    Reverse,
}
