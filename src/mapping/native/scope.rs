//! Name resolution as jaq does it: local definitions and filter arguments,
//! innermost first, then the natively implemented builtins, then jaq's standard
//! library.

use std::rc::Rc;
use std::sync::OnceLock;

use jaq_core::load::parse::{Def, Term};

/// jaq's standard definitions, in the order jaq's loader sees them.
fn std_defs() -> &'static [Def<&'static str>] {
    static DEFS: OnceLock<Vec<Def<&'static str>>> = OnceLock::new();
    DEFS.get_or_init(|| {
        jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .collect()
    })
}

/// What a name means at some point of the program (innermost first).
#[derive(Clone)]
pub(super) struct Scope<'s> {
    head: Option<Rc<Entry<'s>>>,
    /// How many of the standard definitions are visible: all from the mapping's
    /// code; from a standard definition, those before it and itself.
    std_visible: usize,
}

struct Entry<'s> {
    item: Item<'s>,
    up: Option<Rc<Entry<'s>>>,
}

pub(super) enum Item<'s> {
    /// A variable and its slot (the number of bindings below it at run time).
    Var(&'s str, usize),
    Def(&'s Def<&'s str>),
    /// A filter argument: its term, read where the call was written.
    Arg(&'s str, &'s Term<&'s str>, Scope<'s>),
}

pub(super) enum Callee<'s> {
    Def(&'s Def<&'s str>, Scope<'s>),
    Arg(&'s Term<&'s str>, Scope<'s>),
    Std(&'s Def<&'s str>, Scope<'s>),
    Builtin,
}

impl<'s> Scope<'s> {
    pub(super) fn root() -> Self {
        Self {
            head: None,
            std_visible: std_defs().len(),
        }
    }

    pub(super) fn push(&self, item: Item<'s>) -> Self {
        Self {
            head: Some(Rc::new(Entry {
                item,
                up: self.head.clone(),
            })),
            std_visible: self.std_visible,
        }
    }

    pub(super) fn var(&self, name: &str) -> Option<usize> {
        let mut cur = self.head.as_ref();
        while let Some(e) = cur {
            if let Item::Var(x, slot) = e.item {
                if x == name {
                    return Some(slot);
                }
            }
            cur = e.up.as_ref();
        }
        None
    }

    /// Resolves `name/arity` the way jaq does: the innermost local definition or
    /// filter argument, then the standard library.
    pub(super) fn call(&self, name: &str, arity: usize) -> Option<Callee<'s>> {
        let mut cur = self.head.as_ref();
        while let Some(e) = cur {
            match &e.item {
                Item::Def(d) if d.name == name && d.args.len() == arity => {
                    let scope = Scope {
                        head: Some(e.clone()),
                        std_visible: self.std_visible,
                    };
                    return Some(Callee::Def(d, scope));
                }
                Item::Arg(x, t, scope) if *x == name && arity == 0 => {
                    return Some(Callee::Arg(t, scope.clone()));
                }
                _ => {}
            }
            cur = e.up.as_ref();
        }
        if builtin_known(name, arity) {
            return Some(Callee::Builtin);
        }
        let std = std_defs();
        let visible = std.get(..self.std_visible).unwrap_or(std);
        visible
            .iter()
            .enumerate()
            .rev()
            .find(|(_, d)| d.name == name && d.args.len() == arity)
            .map(|(i, d)| {
                let scope = Scope {
                    head: None,
                    std_visible: i + 1,
                };
                Callee::Std(d, scope)
            })
    }
}

/// The builtins implemented natively, each equal to the standard definition or
/// native filter jaq resolves the name to.
fn builtin_known(name: &str, arity: usize) -> bool {
    matches!(
        (name, arity),
        (
            "empty"
                | "not"
                | "true"
                | "false"
                | "null"
                | "tostring"
                | "type"
                | "length"
                | "keys"
                | "keys_unsorted"
                | "ascii_downcase"
                | "ascii_upcase"
                | "tonumber",
            0
        ) | (
            "select"
                | "map"
                | "del"
                | "join"
                | "split"
                | "startswith"
                | "endswith"
                | "ltrimstr"
                | "rtrimstr",
            1
        ) | ("sub", 2)
    )
}
