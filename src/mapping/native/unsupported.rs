//! Why an expression is left to jaq rather than compiled natively.

/// Why an expression is left to jaq: the first construct the native evaluator
/// does not cover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unsupported(String);

impl Unsupported {
    pub(crate) fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }

    pub(super) fn uses(what: impl std::fmt::Display) -> Self {
        Self(format!("uses `{what}`"))
    }

    /// Names the definition the construct sits in (the innermost one).
    pub(super) fn within(self, def: &str) -> Self {
        if self.0.contains(" in `") || self.0.contains("recursively") {
            self
        } else {
            Self(format!("{} in `{def}`", self.0))
        }
    }
}

pub(super) type Res<T> = Result<T, Unsupported>;
