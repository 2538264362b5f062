//! A first-in, first-out async lock: calls on one device run one at a time, in the
//! order they were made, and never interleave on the wire.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::oneshot;

#[derive(Debug, Default)]
struct State {
    busy: bool,
    waiters: VecDeque<oneshot::Sender<()>>,
}

/// The queue of calls on one device.
#[derive(Debug, Default, Clone)]
pub struct CallQueue {
    state: Rc<RefCell<State>>,
}

/// Held while a call runs; the next call starts when it drops.
#[derive(Debug)]
pub struct Turn {
    state: Rc<RefCell<State>>,
}

impl CallQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for this call's turn.
    pub async fn turn(&self) -> Turn {
        let waiter = {
            let mut s = self.state.borrow_mut();
            if s.busy {
                let (tx, rx) = oneshot::channel();
                s.waiters.push_back(tx);
                Some(rx)
            } else {
                s.busy = true;
                None
            }
        };
        if let Some(rx) = waiter {
            // The sender is only dropped after sending (see `Drop for Turn`).
            let _ = rx.await;
        }
        Turn {
            state: self.state.clone(),
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        // Hand the turn to the next live waiter; a waiter whose call was dropped is
        // skipped.
        while let Some(next) = s.waiters.pop_front() {
            if next.send(()).is_ok() {
                return;
            }
        }
        s.busy = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    /// Yields to the executor once, so other tasks get to run mid-call.
    struct YieldNow(bool);
    impl core::future::Future for YieldNow {
        type Output = ();
        fn poll(
            mut self: core::pin::Pin<&mut Self>,
            cx: &mut core::task::Context<'_>,
        ) -> core::task::Poll<()> {
            if self.0 {
                core::task::Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                core::task::Poll::Pending
            }
        }
    }

    #[test]
    fn calls_run_in_order_one_at_a_time() {
        let queue = CallQueue::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut pool = LocalPool::new();
        for i in 0..20 {
            let (q, log) = (queue.clone(), log.clone());
            pool.spawner()
                .spawn_local(async move {
                    let _turn = q.turn().await;
                    log.borrow_mut().push(format!("start {i}"));
                    YieldNow(false).await;
                    YieldNow(false).await;
                    log.borrow_mut().push(format!("end {i}"));
                })
                .unwrap();
        }
        pool.run();
        let expected: Vec<String> = (0..20)
            .flat_map(|i| [format!("start {i}"), format!("end {i}")])
            .collect();
        assert_eq!(*log.borrow(), expected);
    }
}
