//! Compiled jq expressions (jaq): compiled once at start-up, evaluated per request.
//!
//! A mapping's expressions are compiled together into one jaq program, so jaq's
//! standard library is compiled once per mapping rather than once per expression
//! (about 120 KB each: with one program per expression, the shipped mappings alone
//! took 24 MB). The program picks the expression to run by the bits of its index,
//! given as boolean global variables: a few `if $bit` tests, no arithmetic.
//!
//! Each expression is also compiled for the native evaluator (`super::native`) when
//! it is single-valued: that runs first, and jaq only when the expression is not
//! covered or a run gives up (any error included), so results and errors are
//! always jaq's. `HOOKGATE_NATIVE_JQ=0` at start-up turns the native evaluator off.

use std::sync::{Arc, Mutex, OnceLock};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;

use super::native;

type Program = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

/// The global variables that select an expression: bit `i` of its index is
/// `BIT_VARS[i]`. 16 bits: far more expressions than a mapping has.
const BIT_VARS: [&str; 16] = [
    "$__hookgate_b0",
    "$__hookgate_b1",
    "$__hookgate_b2",
    "$__hookgate_b3",
    "$__hookgate_b4",
    "$__hookgate_b5",
    "$__hookgate_b6",
    "$__hookgate_b7",
    "$__hookgate_b8",
    "$__hookgate_b9",
    "$__hookgate_b10",
    "$__hookgate_b11",
    "$__hookgate_b12",
    "$__hookgate_b13",
    "$__hookgate_b14",
    "$__hookgate_b15",
];

/// The request headers an expression reads through `$headers`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderReads {
    /// Lower-case names read as `$headers["name"]` or `$headers.name`.
    pub names: std::collections::BTreeSet<String>,
    /// `$headers` used another way (`$headers | keys`, `$headers[$x]`): any header.
    pub any: bool,
}

impl HeaderReads {
    /// Scans jq text for `$headers` uses. Conservative: text inside a comment or a
    /// string counts too, so a read is never missed.
    pub fn scan(code: &str) -> Self {
        let mut reads = Self::default();
        let mut rest = code;
        while let Some(i) = rest.find("$headers") {
            rest = &rest[i + "$headers".len()..];
            if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue; // another variable, such as `$headers_seen`
            }
            match Self::literal_key(rest) {
                Some(name) => {
                    reads.names.insert(name.to_ascii_lowercase());
                }
                None => reads.any = true,
            }
        }
        reads
    }

    /// The constant key of `["name"]`, `."name"`, `.["name"]` or `.name` at the start of `s`.
    fn literal_key(s: &str) -> Option<String> {
        let s = s.trim_start();
        let s = s.strip_prefix('.').map(str::trim_start).unwrap_or(s);
        let quoted = |s: &str| -> Option<(String, usize)> {
            let body = s.strip_prefix('"')?;
            let end = body.find(['"', '\\'])?;
            (body.as_bytes()[end] == b'"').then(|| (body[..end].to_owned(), end + 2))
        };
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.trim_start();
            let (name, used) = quoted(inner)?;
            inner[used..].trim_start().starts_with(']').then_some(name)
        } else if s.starts_with('"') {
            quoted(s).map(|(name, _)| name)
        } else if code_is_dot_ident(s) {
            Some(
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect(),
            )
        } else {
            None
        }
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && !self.any
    }
}

/// Whether `s` (after a `.`) starts with an identifier.
fn code_is_dot_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// One expression of a [`JqSet`]: cheap to run many times, shared between threads.
pub struct Jq {
    source: String,
    /// Where the expression sits in its mapping (`event.type`, …), for reports.
    label: String,
    /// Whether the expression, or the prelude, reads `$headers`.
    reads_headers: bool,
    /// Which headers the expression (with the prelude) reads.
    header_reads: HeaderReads,
    index: usize,
    program: Arc<OnceLock<Compiled>>,
}

/// A set's program and how many index bits it reads, and each expression's
/// native program or why it has none.
struct Compiled {
    program: Program,
    bits: usize,
    natives: Vec<Result<native::Program, native::Unsupported>>,
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

/// Expressions sharing a prelude, compiled together by [`JqSet::finish`].
pub struct JqSet {
    prelude: String,
    exprs: Mutex<Vec<String>>,
    /// Whether expressions also get a native program (else jaq runs them all).
    native: bool,
    program: Arc<OnceLock<Compiled>>,
}

impl JqSet {
    pub fn new(prelude: &str) -> Self {
        Self {
            prelude: prelude.to_owned(),
            exprs: Mutex::new(Vec::new()),
            native: std::env::var_os("HOOKGATE_NATIVE_JQ").is_none_or(|v| v != "0"),
            program: Arc::new(OnceLock::new()),
        }
    }

    /// Adds an expression; it can run once the set is finished.
    pub fn add(&self, expr: &str) -> Jq {
        self.add_labeled(expr, expr)
    }

    /// Adds an expression known in reports by `label` (its place in the mapping).
    pub fn add_labeled(&self, label: &str, expr: &str) -> Jq {
        let mut exprs = self.exprs.lock().unwrap_or_else(|p| p.into_inner());
        exprs.push(expr.to_owned());
        let mut header_reads = HeaderReads::scan(expr);
        let prelude = HeaderReads::scan(&self.prelude);
        header_reads.names.extend(prelude.names);
        header_reads.any |= prelude.any;
        Jq {
            source: expr.to_owned(),
            label: label.to_owned(),
            reads_headers: self.prelude.contains("$headers") || expr.contains("$headers"),
            header_reads,
            index: exprs.len() - 1,
            program: self.program.clone(),
        }
    }

    /// Compiles every added expression into one program. An error names the
    /// first expression that does not parse or compile on its own.
    pub fn finish(self) -> Result<(), JqError> {
        let exprs = self.exprs.into_inner().unwrap_or_else(|p| p.into_inner());
        if exprs.is_empty() {
            return Ok(());
        }
        let bits = usize::BITS as usize - (exprs.len() - 1).leading_zeros() as usize;
        if bits > BIT_VARS.len() {
            return Err(Failure::Compile("too many expressions".to_owned()).naming("(mapping)"));
        }
        let code = format!("{}\n{}", self.prelude, select(&exprs, bits, 0));
        match compile(&code, bits) {
            Ok(program) => {
                let natives = exprs
                    .iter()
                    .map(|e| match self.native {
                        true => native::Program::compile(&self.prelude, e),
                        false => Err(native::Unsupported::new("the native evaluator is off")),
                    })
                    .collect();
                let _ = self.program.set(Compiled {
                    program,
                    bits,
                    natives,
                });
                Ok(())
            }
            Err(whole) => {
                // Find the culprit, so the error names one expression.
                for e in &exprs {
                    compile(&format!("{}\n{e}", self.prelude), 0).map_err(|d| d.naming(e))?;
                }
                Err(whole.naming("(the mapping's expressions together)"))
            }
        }
    }
}

/// `if $__hookgate_b{bit} then … else … end` from the highest bit down to single
/// expressions: `bits` tests per run.
fn select(exprs: &[String], bits: usize, prefix: usize) -> String {
    if bits == 0 {
        // The newline ends a trailing `# comment` before the closing parenthesis.
        return match exprs.get(prefix) {
            Some(e) => format!("({e}\n)"),
            None => "null".to_owned(),
        };
    }
    let bit = bits - 1;
    format!(
        "(if {} then {} else {} end)",
        BIT_VARS[bit],
        select(exprs, bit, prefix | 1 << bit),
        select(exprs, bit, prefix)
    )
}

/// A compile failure before it is tied to an expression.
enum Failure {
    Parse(String),
    Compile(String),
}

impl Failure {
    fn naming(self, expr: &str) -> JqError {
        match self {
            Self::Parse(detail) => JqError::Parse {
                expr: expr.to_owned(),
                detail,
            },
            Self::Compile(detail) => JqError::Compile {
                expr: expr.to_owned(),
                detail,
            },
        }
    }
}

fn compile(code: &str, bits: usize) -> Result<Program, Failure> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| Failure::Parse(format!("{errs:?}")))?;
    Compiler::default()
        .with_global_vars(std::iter::once("$headers").chain(BIT_VARS.into_iter().take(bits)))
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| Failure::Compile(format!("{errs:?}")))
}

impl Jq {
    /// One expression on its own (tests, tools).
    pub fn compile(expr: &str) -> Result<Self, JqError> {
        let set = JqSet::new("");
        let jq = set.add(expr);
        set.finish()?;
        Ok(jq)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the expression sits in its mapping (its source when not given).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the native evaluator runs this expression (jaq only when a run
    /// gives up).
    pub fn is_native(&self) -> bool {
        self.native().is_some()
    }

    /// Why jaq runs this expression: the first construct the native evaluator
    /// does not cover. `None` when it runs natively.
    pub fn fallback_reason(&self) -> Option<String> {
        match self.program.get() {
            None => Some("its mapping was not compiled".to_owned()),
            Some(c) => match c.natives.get(self.index) {
                Some(Err(why)) => Some(why.to_string()),
                Some(Ok(_)) => None,
                None => Some("not compiled".to_owned()),
            },
        }
    }

    fn native(&self) -> Option<&native::Program> {
        self.program.get()?.natives.get(self.index)?.as_ref().ok()
    }

    /// The native evaluator's answer alone: `None` when the expression is not
    /// native or the run gave up (then [`Jq::first`] asks jaq). For differential
    /// tests and tools.
    pub fn first_native(&self, input: &Val, headers: &Val) -> Option<Val> {
        self.native()?.run(input, headers).ok()
    }

    /// Whether the expression, or a prelude definition in scope, reads `$headers`.
    pub fn uses_headers(&self) -> bool {
        self.reads_headers
    }

    /// The headers the expression (or a prelude definition in scope) reads.
    pub fn header_reads(&self) -> &HeaderReads {
        &self.header_reads
    }

    /// The first output of the filter; `null` when it yields nothing (like `empty`).
    /// `headers` is bound to `$headers` (an object of lower-case names).
    pub fn first(&self, input: &Val, headers: &Val) -> Result<Val, JqError> {
        if let Some(Ok(v)) = self.native().map(|n| n.run(input, headers)) {
            return Ok(v);
        }
        self.first_jaq(input, headers)
    }

    /// Every output of the filter, at most `max + 1` of them (so a caller can tell
    /// "more than `max`" without running an unbounded stream to its end). Always
    /// jaq: the native evaluator is for single values.
    pub fn all(&self, input: &Val, headers: &Val, max: usize) -> Result<Vec<Val>, JqError> {
        self.run_jaq(input, headers)?
            .take(max.saturating_add(1))
            .collect()
    }

    /// [`Jq::first`] as jaq computes it, never natively (the reference the native
    /// evaluator is tested against).
    pub fn first_jaq(&self, input: &Val, headers: &Val) -> Result<Val, JqError> {
        self.run_jaq(input, headers)?
            .next()
            .unwrap_or(Ok(Val::Null))
    }

    /// The filter's outputs in jaq, lazily: `$headers` and the bits that select
    /// this expression in its mapping's shared program bound.
    fn run_jaq<'a>(
        &'a self,
        input: &Val,
        headers: &Val,
    ) -> Result<impl Iterator<Item = Result<Val, JqError>> + 'a, JqError> {
        let Some(Compiled { program, bits, .. }) = self.program.get() else {
            return Err(JqError::Runtime {
                expr: self.source.clone(),
                detail: "its mapping was not compiled".to_owned(),
            });
        };
        let index = self.index;
        let vars = Vars::new(
            std::iter::once(headers.clone())
                .chain((0..*bits).map(|i| Val::from(index >> i & 1 == 1))),
        );
        let ctx = Ctx::<data::JustLut<Val>>::new(&program.lut, vars);
        Ok(program
            .id
            .run((ctx, input.clone()))
            .map(unwrap_valr)
            .map(|r| {
                r.map_err(|e| JqError::Runtime {
                    expr: self.source.clone(),
                    detail: e.to_string(),
                })
            }))
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
    fn header_reads_are_found_in_every_spelling() {
        let r = HeaderReads::scan(
            r#"$headers["X-GitHub-Event"] // $headers . "x-a" // $headers.x_b // $headers.["x-c"] // $headers_other"#,
        );
        assert_eq!(
            r.names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["x-a", "x-c", "x-github-event", "x_b"]
        );
        assert!(!r.any);
        assert!(HeaderReads::scan("$headers | keys").any);
        assert!(HeaderReads::scan("$headers[$k]").any);
        assert!(HeaderReads::scan(r#"$headers["a\"b"]"#).any, "escapes: any");
        assert!(HeaderReads::scan(".a.b").is_empty());
    }

    #[test]
    fn bad_expression_is_an_error() {
        assert!(Jq::compile(".a | | b").is_err());
        assert!(Jq::compile("nosuchfunction(1)").is_err());
    }
}
