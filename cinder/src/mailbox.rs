//! A session's bounded mailbox: a small multi-producer, single-consumer queue.
//!
//! Tokio's `mpsc` allocates a 32-slot block and its channel state up front, about a
//! kilobyte per channel; a live session is idle nearly all the time, so its mailbox is a
//! `Mutex<VecDeque>` that holds nothing until a message arrives. Producers never wait:
//! a full mailbox is reported to the caller, which decides (the gateway closes a client
//! that floods its session).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};

/// Why a message was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The mailbox is full: the client sends faster than the view handles.
    #[error("session mailbox full")]
    Full,
    /// The session has ended.
    #[error("session ended")]
    Closed,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    capacity: u32,
    senders: u32,
    receiver_alive: bool,
    waker: Option<Waker>,
}

/// Creates a mailbox holding at most `capacity` messages.
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let capacity = u32::try_from(capacity.max(1)).unwrap_or(u32::MAX);
    let state = State {
        queue: VecDeque::new(),
        capacity,
        senders: 1,
        receiver_alive: true,
        waker: None,
    };
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding this lock cannot leave the queue inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `message`, or hands it back with the reason it was refused; `bounded`
    /// false queues it past the capacity.
    fn push(&self, message: T, bounded: bool) -> Result<(), (SendError, T)> {
        let waker = {
            let mut state = self.lock();
            if !state.receiver_alive {
                return Err((SendError::Closed, message));
            }
            if bounded && state.queue.len() >= state.capacity as usize {
                return Err((SendError::Full, message));
            }
            state.queue.push_back(message);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

/// The sending side; clone it freely.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Queues `message` unless the mailbox is full or closed.
    pub(crate) fn try_send(&self, message: T) -> Result<(), SendError> {
        self.offer(message).map_err(|(reason, _)| reason)
    }

    /// Like [`Sender::try_send`], handing a refused message back.
    pub(crate) fn offer(&self, message: T) -> Result<(), (SendError, T)> {
        self.shared.push(message, true)
    }

    /// Queues `message` even into a full mailbox, unless it is closed. For control
    /// messages the caller bounds itself (one per receiver at a time).
    pub(crate) fn force(&self, message: T) -> Result<(), SendError> {
        self.shared
            .push(message, false)
            .map_err(|(reason, _)| reason)
    }

    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        !self.shared.lock().receiver_alive
    }

    /// A handle that does not keep the mailbox open.
    pub(crate) fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A sender that lets the mailbox close when every strong sender is gone.
pub(crate) struct WeakSender<T> {
    shared: Weak<Shared<T>>,
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// Queues `message` without keeping the mailbox open (pubsub fan-out, timers).
    pub(crate) fn try_send(&self, message: T) -> Result<(), SendError> {
        self.offer(message).map_err(|(reason, _)| reason)
    }

    /// Like [`WeakSender::try_send`], handing a refused message back.
    pub(crate) fn offer(&self, message: T) -> Result<(), (SendError, T)> {
        match self.shared.upgrade() {
            Some(shared) => shared.push(message, true),
            None => Err((SendError::Closed, message)),
        }
    }
}

/// The receiving side, owned by the session task.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The next message; `None` once every sender is gone and the queue is drained.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if let Some(message) = state.queue.pop_front() {
                if state.queue.is_empty() && state.queue.capacity() > 8 {
                    // A burst is over: give its memory back.
                    state.queue = VecDeque::new();
                }
                return Poll::Ready(Some(message));
            }
            if state.senders == 0 {
                return Poll::Ready(None);
            }
            match &mut state.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let dropped = {
            let mut state = self.shared.lock();
            state.receiver_alive = false;
            std::mem::take(&mut state.queue)
        };
        drop(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn delivers_in_order_and_closes_when_senders_are_gone() {
        let (tx, mut rx) = channel(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(tx.try_send(3), Err(SendError::Full));
        assert_eq!(rx.recv().await, Some(1));
        let weak = tx.downgrade();
        weak.try_send(4).unwrap();
        drop(tx);
        // A weak sender delivers but does not keep the mailbox open.
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(4));
        assert_eq!(rx.recv().await, None);
        drop(rx);
        assert_eq!(weak.try_send(5), Err(SendError::Closed));
    }

    #[tokio::test]
    async fn wakes_a_waiting_receiver() {
        let (tx, mut rx) = channel(4);
        let task = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.try_send(7).unwrap();
        assert_eq!(task.await.unwrap(), Some(7));
    }

    #[test]
    fn refuses_after_the_receiver_is_gone() {
        let (tx, rx) = channel(4);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.try_send(1), Err(SendError::Closed));
    }
}
