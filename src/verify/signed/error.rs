//! Why a mapping file's signature scheme cannot be compiled.

/// A scheme declaration that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    #[error("no signature header named")]
    NoHeaders,
    #[error("no encoding named")]
    NoEncodings,
    #[error("signed-content template `{template}`: {reason}")]
    Template { template: String, reason: String },
    #[error("tolerance: {0}")]
    Tolerance(String),
    #[error("url_decode: `{0}` is not a punctuation character other than `%`")]
    UrlDecode(char),
}
