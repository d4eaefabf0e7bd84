//! What the native evaluator reports when it gives up.

/// The evaluator met an error or a case it leaves to jaq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bail;
