//! The producer's client context: keeps librdkafka's client-level failures
//! (refused credentials, a failed TLS handshake, brokers out of reach) so that
//! readiness can name why no broker answers, instead of a bare transport error.

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::telemetry::events::KafkaClientFailed;

/// What kind of client failure: the label of `hookgate_kafka_client_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The brokers refused the SASL credentials (or the mechanism).
    Authentication,
    /// The TLS handshake failed (unknown CA, wrong host name, a plaintext broker).
    Tls,
    /// No broker could be reached or the connection dropped.
    Transport,
    Other,
}

impl FailureKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::Tls => "tls",
            Self::Transport => "transport",
            Self::Other => "other",
        }
    }

    fn of(code: Option<RDKafkaErrorCode>) -> Self {
        use RDKafkaErrorCode as C;
        match code {
            Some(C::Authentication | C::SaslAuthenticationFailed | C::IllegalSASLState) => {
                Self::Authentication
            }
            Some(C::SSL) => Self::Tls,
            Some(
                C::BrokerTransportFailure | C::AllBrokersDown | C::Resolve | C::NetworkException,
            ) => Self::Transport,
            _ => Self::Other,
        }
    }

    /// Failures that need an operator and stay the named reason until a broker
    /// answers again: the "all brokers down" that follows them says less.
    fn is_configuration(self) -> bool {
        matches!(self, Self::Authentication | Self::Tls)
    }
}

/// The last client-level failure librdkafka reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFailure {
    pub kind: FailureKind,
    pub detail: String,
}

/// Shared by every producer generation, so a fresh producer keeps the diagnosis.
#[derive(Clone, Default)]
pub struct BrokerContext {
    last: Arc<Mutex<Option<ClientFailure>>>,
}

impl BrokerContext {
    /// The failure to name when the brokers cannot be reached.
    pub fn last_failure(&self) -> Option<ClientFailure> {
        match self.last.lock() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A broker answered: what went wrong before is no longer the reason.
    pub fn clear(&self) {
        match self.last.lock() {
            Ok(mut l) => *l = None,
            Err(poisoned) => *poisoned.into_inner() = None,
        }
    }

    /// Why the brokers could not be reached, naming refused credentials or a failed
    /// TLS handshake when librdkafka reported one (its metadata error alone says
    /// only "transport failure").
    pub fn unreachable(&self, e: &KafkaError) -> String {
        match self.last_failure() {
            Some(f) if f.kind == FailureKind::Authentication => {
                format!("broker refused authentication: {}", f.detail)
            }
            Some(f) if f.kind == FailureKind::Tls => {
                format!("TLS handshake with the broker failed: {}", f.detail)
            }
            _ => format!("broker unreachable: {e}"),
        }
    }

    fn record(&self, failure: ClientFailure) {
        let mut last = match self.last.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        let new = last.as_ref() != Some(&failure);
        KafkaClientFailed {
            kind: failure.kind.label(),
            detail: &failure.detail,
            new,
        }
        .emit();
        let keep = last
            .as_ref()
            .is_some_and(|l| l.kind.is_configuration() && !failure.kind.is_configuration());
        if !keep {
            *last = Some(failure);
        }
    }
}

impl ClientContext for BrokerContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.record(ClientFailure {
            kind: FailureKind::of(error.rdkafka_error_code()),
            detail: reason.to_owned(),
        });
    }
}

/// The dead-letter reader uses the same diagnosis.
impl rdkafka::consumer::ConsumerContext for BrokerContext {}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind, detail: &str) -> ClientFailure {
        ClientFailure {
            kind,
            detail: detail.into(),
        }
    }

    #[test]
    fn a_refused_login_stays_the_reason_until_a_broker_answers() {
        let ctx = BrokerContext::default();
        ctx.record(failure(
            FailureKind::Authentication,
            "SASL authentication error",
        ));
        ctx.record(failure(FailureKind::Transport, "1/1 brokers are down"));
        assert_eq!(
            ctx.last_failure().map(|f| f.kind),
            Some(FailureKind::Authentication)
        );
        ctx.clear();
        ctx.record(failure(FailureKind::Transport, "1/1 brokers are down"));
        assert_eq!(
            ctx.last_failure().map(|f| f.kind),
            Some(FailureKind::Transport)
        );
    }

    #[test]
    fn codes_map_to_kinds() {
        use RDKafkaErrorCode as C;
        assert_eq!(
            FailureKind::of(Some(C::Authentication)),
            FailureKind::Authentication
        );
        assert_eq!(FailureKind::of(Some(C::SSL)), FailureKind::Tls);
        assert_eq!(
            FailureKind::of(Some(C::AllBrokersDown)),
            FailureKind::Transport
        );
        assert_eq!(FailureKind::of(None), FailureKind::Other);
    }
}
