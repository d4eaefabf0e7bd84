//! The native evaluator for single-valued jq: expressions whose every node yields at
//! most one value run as a tree walk over `jaq_json::Val`, without jaq's
//! iterator machinery. jaq stays the reference: an expression the evaluator does not
//! cover is not compiled here ([`Unsupported`] says why), and any run that meets an
//! error or a case it does not handle gives up ([`Bail`]) so the caller re-runs the
//! expression in jaq, which then produces the value or the error itself.
//!
//! Parsing is jaq's own (`jaq_core::load`), so the accepted syntax is identical;
//! builtins are implemented by calling the same `Val` operations jaq's builtins
//! call, so results are identical value for value and key order for key order.

mod compile;
mod eval;

use jaq_json::Val;

pub(crate) use compile::Unsupported;

/// One natively compiled expression.
#[derive(Debug)]
pub(crate) struct Program {
    root: eval::Node,
}

/// The evaluator met an error or a case it leaves to jaq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bail;

impl Program {
    /// Compiles `expr` under the mapping's `prelude`, the way jaq reads them:
    /// the prelude's definitions, then the expression.
    pub(crate) fn compile(prelude: &str, expr: &str) -> Result<Self, Unsupported> {
        // The same text jaq compiles for this expression (see `jq::select`): the
        // newline ends a trailing `# comment`.
        let code = format!("{prelude}\n({expr}\n)");
        let term = jaq_core::load::parse(&code, |p| p.term())
            .ok_or_else(|| Unsupported::new("does not parse on its own"))?;
        let root = compile::compile(&term)?;
        Ok(Self { root })
    }

    /// The first output (`null` when there is none), or [`Bail`] when jaq must
    /// decide.
    pub(crate) fn run(&self, input: &Val, headers: &Val) -> Result<Val, Bail> {
        eval::run(&self.root, input, headers)
    }
}
