//! The one drive loop: runs any [`Machine`] over any [`Exchange`] (a transport with
//! its framing), reporting its status events and answering its needs from the caller's
//! [`Hooks`].

use crate::driver::link::Exchange;
use crate::driver::prompts::Hooks;
use crate::error::{Error, Result};
use crate::protocol::machine::{Machine, Step};

/// Runs `machine` to its end over `link`.
///
/// # Errors
/// Whatever the machine, the link or a handler reports; `cancelled` when the call was
/// aborted and ended in an error.
pub async fn drive<L, M>(link: &mut L, hooks: &mut Hooks, mut machine: M) -> Result<M::Output>
where
    L: Exchange,
    M: Machine<Message = L::Message>,
{
    let mut step = machine.start();
    let result = loop {
        while let Some(event) = machine.poll_event() {
            hooks.status(event);
        }
        match step {
            Err(e) => break Err(e),
            Ok(Step::Done(output)) => break Ok(output),
            Ok(Step::Send(message)) => {
                let abort = hooks.abort.clone();
                match link
                    .exchange(&message, hooks.timeout_ms, abort.as_ref())
                    .await
                {
                    Ok(reply) => step = machine.on_reply(reply),
                    Err(e) => break Err(e),
                }
            }
            Ok(Step::Need(need)) => match hooks.answer(need).await {
                Ok(answer) => step = machine.on_answer(answer),
                Err(e) => {
                    // The device still waits for the answer: take it off that screen
                    // (Trezor: Cancel), so the next call finds it idle.
                    if let Some(cancel) = link.cancel_message() {
                        let _ = link.exchange(&cancel, hooks.timeout_ms, None).await;
                    }
                    break Err(e);
                }
            },
        }
    };
    match result {
        Err(_) if hooks.aborted() => Err(Error::Cancelled),
        other => other,
    }
}
