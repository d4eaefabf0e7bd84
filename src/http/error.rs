//! The one place where pipeline failures become HTTP statuses. Bodies name the
//! error kind and never a secret, an expected signature or an internal detail.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::gateway::GatewayError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unknown source")]
    UnknownSource,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("payload too large")]
    TooLarge { limit: usize },
    #[error("request body not received in time")]
    Timeout,
    #[error("cannot read the request body")]
    BadBody,
    /// The cause is logged, never answered.
    #[error("unavailable: {cause}")]
    Unavailable { cause: String },
    #[error("a copy of this event is in flight")]
    InFlight,
    #[error("too many requests for this source")]
    RateLimited { retry_after_secs: u64 },
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::UnknownSource => Self::UnknownSource,
            GatewayError::Unauthorized(v) => Self::Unauthorized(v.reason()),
            GatewayError::Unavailable(cause) => Self::Unavailable { cause },
            GatewayError::InFlight => Self::InFlight,
            GatewayError::RateLimited(wait) => Self::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            },
        }
    }
}

impl ApiError {
    /// The verification reason a refused request is answered with.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::Unauthorized(reason) => Some(reason),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownSource => "unknown_source",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::TooLarge { .. } => "payload_too_large",
            Self::Timeout => "request_timeout",
            Self::BadBody => "bad_request",
            Self::Unavailable { .. } => "unavailable",
            Self::InFlight => "in_flight",
            Self::RateLimited { .. } => "rate_limited",
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownSource | Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::BadBody => StatusCode::BAD_REQUEST,
            Self::Unavailable { .. } | Self::InFlight => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Unauthorized(reason) => json!({"error": self.kind(), "reason": reason}),
            Self::TooLarge { limit } => json!({"error": self.kind(), "limit_bytes": limit}),
            _ => json!({"error": self.kind()}),
        };
        let mut resp = (status, Json(body)).into_response();
        let retry_after = match &self {
            Self::Unavailable { .. } => Some(5),
            Self::InFlight => Some(1),
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
