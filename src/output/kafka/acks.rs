//! The broker's acknowledgements as futures. librdkafka reports each record's
//! outcome on the producer's polling thread; the record carries an [`Ack`] (its
//! delivery opaque: one allocation, shared with the request that waits) which the
//! report completes and wakes. No channel, no boxed sender, no copy of a failed
//! record: only the outcome crosses threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};

use super::context::BrokerContext;

/// The producer's context: client-level failures go to the [`BrokerContext`]
/// (readiness names them), delivery reports to each record's [`Ack`].
#[derive(Clone, Default)]
pub struct AckContext {
    pub broker: BrokerContext,
}

impl ClientContext for AckContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.broker.error(error, reason);
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Arc<Ack>;

    fn delivery(&self, result: &DeliveryResult<'_>, ack: Arc<Ack>) {
        ack.complete(match result {
            Ok(_) => Ok(()),
            Err((e, _)) => Err(e.clone()),
        });
    }
}

/// One record's outcome, once librdkafka reported it.
#[derive(Default)]
pub struct Ack {
    state: Mutex<State>,
}

#[derive(Default)]
enum State {
    #[default]
    Waiting,
    Polled(Waker),
    Done(Result<(), KafkaError>),
    Taken,
}

impl Ack {
    fn complete(&self, outcome: Result<(), KafkaError>) {
        let before = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *state, State::Done(outcome))
        };
        if let State::Polled(waker) = before {
            waker.wake();
        }
    }

    /// Resolves with the outcome (`Canceled` if it was taken already).
    pub fn outcome(self: Arc<Self>) -> Acked {
        Acked(self)
    }
}

/// The future of [`Ack::outcome`].
pub struct Acked(Arc<Ack>);

impl Future for Acked {
    type Output = Result<(), KafkaError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::take(&mut *state) {
            State::Done(outcome) => {
                *state = State::Taken;
                Poll::Ready(outcome)
            }
            State::Taken => {
                *state = State::Taken;
                Poll::Ready(Err(KafkaError::Canceled))
            }
            State::Polled(waker) if waker.will_wake(cx.waker()) => {
                *state = State::Polled(waker);
                Poll::Pending
            }
            State::Waiting | State::Polled(_) => {
                *state = State::Polled(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::RDKafkaErrorCode;

    #[tokio::test]
    async fn an_outcome_reported_from_another_thread_wakes_the_waiter() {
        let ack = Arc::new(Ack::default());
        let reporter = ack.clone();
        let waiter = tokio::spawn(ack.outcome());
        tokio::task::yield_now().await;
        std::thread::spawn(move || {
            reporter.complete(Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut,
            )))
        });
        let got = waiter.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got,
            Err(KafkaError::MessageProduction(
                RDKafkaErrorCode::MessageTimedOut
            ))
        );

        let done = Arc::new(Ack::default());
        done.complete(Ok(()));
        assert_eq!(done.clone().outcome().await, Ok(()));
        assert_eq!(done.outcome().await, Err(KafkaError::Canceled));
    }
}
