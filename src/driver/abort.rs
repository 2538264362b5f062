//! Aborting a Trezor call from outside while it waits for the device: the driver
//! stops waiting, sends `Cancel`, and reads the device's answer, so the session stays
//! usable.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Debug, Default)]
struct State {
    requested: bool,
    waker: Option<Waker>,
}

/// Shared between the driver and whoever may abort its current call.
#[derive(Debug, Default, Clone)]
pub struct AbortHandle {
    state: Rc<RefCell<State>>,
}

impl AbortHandle {
    /// A handle with nothing requested.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the current call to stop.
    pub fn abort(&self) {
        let waker = {
            let mut s = self.state.borrow_mut();
            s.requested = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True when an abort was asked and not yet cleared.
    pub fn requested(&self) -> bool {
        self.state.borrow().requested
    }

    /// Forgets an earlier request (at the start of a call).
    pub fn clear(&self) {
        let mut s = self.state.borrow_mut();
        s.requested = false;
        s.waker = None;
    }

    /// Resolves once an abort is asked.
    pub fn requested_future(&self) -> Requested {
        Requested {
            handle: self.clone(),
        }
    }
}

/// The future of [`AbortHandle::requested_future`].
#[derive(Debug)]
pub struct Requested {
    handle: AbortHandle,
}

impl Future for Requested {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.handle.state.borrow_mut();
        if s.requested {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
