//! A batched delivery's items carried out together: each claimed, then all
//! written at once (handed to the output in the batch's order, so one key's
//! records keep it), then each written item's claim committed and each failed
//! one's released.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::{settle, Claimed, Gateway, GatewayError};
use crate::event::{Decision, Outcome, SourceId};

impl Gateway {
    /// A batch's items: outcomes in the delivery's order, or the first failure.
    /// Every item the output acknowledged keeps its claim, whatever failed
    /// beside it, so the provider's retry writes exactly the items that were
    /// not written (the others answer `duplicate`) and no item twice.
    pub(super) async fn complete_batch(
        &self,
        source: &SourceId,
        items: Vec<Decision>,
    ) -> Result<Outcome, GatewayError> {
        if !self.output.concurrent_batches() {
            let mut done = Vec::with_capacity(items.len());
            for item in items {
                done.push(self.complete_one(source, item).await?);
            }
            return Ok(Outcome::batch(done));
        }
        // Claims, in order, up to the first that fails the delivery.
        let mut claimed = Vec::with_capacity(items.len());
        let mut failed = None;
        let mut seen = HashSet::with_capacity(items.len());
        for item in items {
            // A second copy of a record within the delivery: its first copy is
            // written before it, so it answers `duplicate` (as it did when items
            // were written one after the other).
            if item.record_id().is_some_and(|id| !seen.insert(id)) {
                claimed.push((item, Claimed::Duplicate));
                continue;
            }
            match self.claim(source, &item).await {
                Ok(c) => claimed.push((item, c)),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // The records, all handed over before any acknowledgement is awaited.
        let spans: Vec<_> = claimed
            .iter_mut()
            .filter(|(_, c)| matches!(c, Claimed::Write(_)))
            .map(|(d, _)| self.before_write(d))
            .collect();
        let started = std::time::Instant::now();
        let sends = claimed
            .iter()
            .filter(|(_, c)| matches!(c, Claimed::Write(_)))
            .zip(&spans)
            .map(|((d, _), span)| tracing::Instrument::instrument(self.send(d), span.clone()))
            .collect();
        let mut written = in_order(sends).await.into_iter().zip(spans);
        // Items after a failed claim were not claimed nor written.
        let claim_failed = failed.take();
        let mut done = Vec::with_capacity(claimed.len());
        for (decision, claim) in claimed {
            let ok = match claim {
                Claimed::Write(guard) => {
                    let (result, span) = written.next().unzip();
                    let result = match (result.flatten(), span) {
                        (Some(r), Some(span)) => {
                            self.after_write(source, &decision, &span, started, r)
                        }
                        // Not handed over: an item before it failed at once.
                        _ => Err(GatewayError::Unavailable(
                            "not written: an earlier item of the batch failed".into(),
                        )),
                    };
                    // Written is kept even past a failure: releasing it would
                    // make the retry write the same record a second time.
                    let ok = result.is_ok();
                    settle(guard, ok).await;
                    if let Err(e) = result {
                        failed.get_or_insert(e);
                    }
                    ok.then(|| Outcome::new(decision))
                }
                Claimed::Duplicate => Some(Outcome::duplicate(decision)),
                Claimed::Nothing => Some(Outcome::new(decision)),
            };
            done.extend(ok);
        }
        match failed.or(claim_failed) {
            Some(e) => Err(e),
            None => Ok(Outcome::batch(done)),
        }
    }
}

/// Runs `futures` together and collects their results in order. Each is first
/// polled after the ones before it, so what a future does before it first waits
/// happens in the order of the list; once one fails on its first poll, the ones
/// after it are not started (`None`).
async fn in_order<T, E, F>(futures: Vec<F>) -> Vec<Option<Result<T, E>>>
where
    F: Future<Output = Result<T, E>>,
{
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<Result<T, E>>> = pending.iter().map(|_| None).collect();
    let mut first_round = true;
    std::future::poll_fn(|cx| {
        let mut busy = false;
        for i in 0..pending.len() {
            let Some(f) = pending[i].as_mut() else {
                continue;
            };
            match f.as_mut().poll(cx) {
                Poll::Pending => busy = true,
                Poll::Ready(r) => {
                    let stop = first_round && r.is_err();
                    done[i] = Some(r);
                    pending[i] = None;
                    if stop {
                        pending[i..].iter_mut().for_each(|f| *f = None);
                        break;
                    }
                }
            }
        }
        first_round = false;
        if busy {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn futures_start_in_order_and_none_starts_after_an_immediate_failure() {
        let log = std::sync::Mutex::new(Vec::new());
        let step = |i: u32, fail: bool| {
            let log = &log;
            async move {
                log.lock().unwrap_or_else(|p| p.into_inner()).push(i);
                tokio::task::yield_now().await;
                if fail {
                    Err(i)
                } else {
                    Ok(i)
                }
            }
        };
        let all = in_order(vec![step(0, false), step(1, false), step(2, true)]).await;
        assert_eq!(all, vec![Some(Ok(0)), Some(Ok(1)), Some(Err(2))]);
        assert_eq!(
            *log.lock().unwrap_or_else(|p| p.into_inner()),
            vec![0, 1, 2]
        );

        let immediate = |i: u32, fail: bool| async move {
            if fail {
                Err(i)
            } else {
                tokio::task::yield_now().await;
                Ok(i)
            }
        };
        let all = in_order(vec![
            immediate(0, false),
            immediate(1, true),
            immediate(2, false),
        ])
        .await;
        assert_eq!(all, vec![Some(Ok(0)), Some(Err(1)), None]);
    }
}
