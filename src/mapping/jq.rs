//! Compiled jq expressions (jaq): compiled once at start-up, evaluated per request.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;

/// A jq filter compiled once; cheap to run many times and shared between threads.
pub struct Jq {
    source: String,
    /// Whether the compiled code (prelude included) reads `$headers`.
    reads_headers: bool,
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jq({:?})", self.source)
    }
}

/// Why an expression did not compile or failed at run time.
#[derive(Debug, thiserror::Error)]
pub enum JqError {
    #[error("jq expression `{expr}` does not parse: {detail}")]
    Parse { expr: String, detail: String },
    #[error("jq expression `{expr}` does not compile: {detail}")]
    Compile { expr: String, detail: String },
    #[error("jq expression `{expr}` failed: {detail}")]
    Runtime { expr: String, detail: String },
}

impl Jq {
    pub fn compile(expr: &str) -> Result<Self, JqError> {
        Self::compile_with_prelude("", expr)
    }

    /// Compiles `expr` with `prelude` (jq `def`s) in scope; errors name `expr` alone.
    pub fn compile_with_prelude(prelude: &str, expr: &str) -> Result<Self, JqError> {
        let code = format!("{prelude}\n{expr}");
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(
                &arena,
                File {
                    code: &code,
                    path: (),
                },
            )
            .map_err(|errs| JqError::Parse {
                expr: expr.to_owned(),
                detail: format!("{errs:?}"),
            })?;
        let filter = Compiler::default()
            .with_global_vars(["$headers"])
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| JqError::Compile {
                expr: expr.to_owned(),
                detail: format!("{errs:?}"),
            })?;
        Ok(Self {
            source: expr.to_owned(),
            reads_headers: code.contains("$headers"),
            filter,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the expression, or a prelude definition in scope, reads `$headers`.
    pub fn uses_headers(&self) -> bool {
        self.reads_headers
    }

    /// The first output of the filter; `null` when it yields nothing (like `empty`).
    /// `headers` is bound to `$headers` (an object of lower-case names).
    pub fn first(&self, input: &Val, headers: &Val) -> Result<Val, JqError> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([headers.clone()]));
        let mut out = self.filter.id.run((ctx, input.clone())).map(unwrap_valr);
        match out.next() {
            None => Ok(Val::Null),
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(JqError::Runtime {
                expr: self.source.clone(),
                detail: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn compiled_filter_is_shareable() {
        assert_send_sync::<Jq>();
    }

    #[test]
    fn evaluates_paths() -> Result<(), Box<dyn std::error::Error>> {
        let jq = Jq::compile(r#".a.b // "none""#)?;
        let none = Val::Null;
        let v: Val = serde_json::from_str(r#"{"a":{"b":3}}"#)?;
        assert_eq!(jq.first(&v, &none)?.to_string(), "3");
        let v: Val = serde_json::from_str(r#"{"a":{}}"#)?;
        assert_eq!(jq.first(&v, &none)?.to_string(), "\"none\"");
        let h: Val = serde_json::from_str(r#"{"x-github-event":"issues"}"#)?;
        let jq = Jq::compile(r#"$headers["x-github-event"]"#)?;
        assert!(jq.uses_headers());
        assert_eq!(jq.first(&v, &h)?.to_string(), "\"issues\"");
        Ok(())
    }

    #[test]
    fn bad_expression_is_an_error() {
        assert!(Jq::compile(".a | | b").is_err());
        assert!(Jq::compile("nosuchfunction(1)").is_err());
    }
}
