//! One natively compiled expression: compiled the way jaq reads it, run with
//! jaq as the fallback.

use jaq_json::Val;

use super::bail::Bail;
use super::compile::compile;
use super::eval::run;
use super::tree::Node;
use super::unsupported::Unsupported;

/// One natively compiled expression.
#[derive(Debug)]
pub(crate) struct Program {
    root: Node,
}

impl Program {
    /// Compiles `expr` under the mapping's `prelude`, the way jaq reads them:
    /// the prelude's definitions, then the expression.
    pub(crate) fn compile(prelude: &str, expr: &str) -> Result<Self, Unsupported> {
        // The same text jaq compiles for this expression (see `jq::select`): the
        // newline ends a trailing `# comment`.
        let code = format!("{prelude}\n({expr}\n)");
        let term = jaq_core::load::parse(&code, |p| p.term())
            .ok_or_else(|| Unsupported::new("does not parse on its own"))?;
        let root = compile(&term)?;
        Ok(Self { root })
    }

    /// The first output (`null` when there is none), or [`Bail`] when jaq must
    /// decide.
    pub(crate) fn run(&self, input: &Val, headers: &Val) -> Result<Val, Bail> {
        run(&self.root, input, headers)
    }
}
