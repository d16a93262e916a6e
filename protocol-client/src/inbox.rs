//! A bounded queue that a reader task fills and a test or load tester drains with a
//! timeout. Full means the oldest item is dropped: a client that never reads its pushes
//! must not grow without bound.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

/// Why [`Inbox::pop`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// Closed and drained.
    Closed,
    /// Nothing arrived in time.
    Timeout,
}

/// A bounded multi-producer queue with an async, timed `pop`.
#[derive(Debug)]
pub(crate) struct Inbox<T> {
    state: Mutex<State<T>>,
    notify: Notify,
    capacity: usize,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Items dropped because the inbox was full.
    dropped: u64,
}

impl<T> Inbox<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Inbox {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
                dropped: 0,
            }),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an item, dropping the oldest one when full. Ignored once closed.
    pub(crate) fn push(&self, item: T) {
        {
            let mut state = self.lock();
            if state.closed {
                return;
            }
            if state.items.len() >= self.capacity {
                state.items.pop_front();
                state.dropped += 1;
                if state.dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped = state.dropped,
                        "inbox full, dropping the oldest items"
                    );
                }
            }
            state.items.push_back(item);
        }
        self.notify.notify_waiters();
    }

    /// Closes the inbox: what is queued can still be popped, nothing more is queued.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// Takes the oldest item, if any, without waiting.
    pub(crate) fn try_pop(&self) -> Option<T> {
        self.lock().items.pop_front()
    }

    /// Takes the oldest item, waiting up to `timeout` for one.
    pub(crate) async fn pop(&self, timeout: Duration) -> Result<T, Empty> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before checking, so a push between the check and the wait
            // still wakes us.
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some(item) = state.items.pop_front() {
                    return Ok(item);
                }
                if state.closed {
                    return Err(Empty::Closed);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(Empty::Timeout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pops_in_order_drops_oldest_and_closes() {
        let inbox = Inbox::new(2);
        inbox.push(1);
        inbox.push(2);
        inbox.push(3);
        assert_eq!(inbox.pop(Duration::from_millis(10)).await, Ok(2));
        assert_eq!(inbox.try_pop(), Some(3));
        assert_eq!(
            inbox.pop(Duration::from_millis(10)).await,
            Err(Empty::Timeout)
        );
        inbox.push(4);
        inbox.close();
        inbox.push(5);
        assert_eq!(inbox.pop(Duration::from_millis(10)).await, Ok(4));
        assert_eq!(inbox.pop(Duration::from_secs(10)).await, Err(Empty::Closed));
    }

    #[tokio::test]
    async fn a_waiting_pop_wakes_on_push() {
        let inbox = std::sync::Arc::new(Inbox::new(4));
        let waiter = tokio::spawn({
            let inbox = inbox.clone();
            async move { inbox.pop(Duration::from_secs(10)).await }
        });
        tokio::task::yield_now().await;
        inbox.push("x");
        assert_eq!(waiter.await.unwrap(), Ok("x"));
    }
}
