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

mod bail;
mod builtins;
mod compile;
mod eval;
mod program;
mod scope;
mod tree;
mod unsupported;

pub(crate) use program::Program;
pub(crate) use unsupported::Unsupported;
