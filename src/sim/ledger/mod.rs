//! A simulated Ledger running the Bitcoin app 2.x, from a BIP-39 seed.
//!
//! [`SimLedger::apdu`] takes one APDU and returns the reply (data and status word),
//! like the device. It starts in the app by default ("Bitcoin Test" on testnet,
//! "Bitcoin" on mainnet); it can start on the dashboard, where the open-app command
//! works as on a device. Bitcoin commands drive the host with the real client commands
//! and check every proof they get.

mod commands;
mod context;
pub mod host;
#[cfg(feature = "musig")]
mod musig;
pub mod serve;
mod sign_psbt;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, RawWaker, RawWakerVTable, Waker};

pub use context::{AppContext, SimLedgerOptions};

use crate::protocol::ledger::apdu::{SW_INTERRUPTED, SW_OK};
use crate::protocol::ledger::btc::client::CLA_BTC;
use crate::protocol::ledger::request::{CLA_FRAMEWORK, INS_CONTINUE};
use crate::sim::fault::Fault;
use host::{HostLink, SimResult, Sw, SW_BAD_STATE, SW_DENY, SW_WRONG_LENGTH};

/// The app version the simulator reports.
pub const APP_VERSION: &str = "2.4.6";

type Running = Pin<Box<dyn Future<Output = SimResult<Vec<u8>>>>>;

/// A simulated Ledger device.
pub struct SimLedger {
    options: SimLedgerOptions,
    ctx: Rc<AppContext>,
    app_open: bool,
    running: Option<(Running, Rc<HostLink>)>,
    exchanges: usize,
    faults_at: usize,
}

impl core::fmt::Debug for SimLedger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimLedger")
            .field("app_open", &self.app_open)
            .field("exchanges", &self.exchanges)
            .finish_non_exhaustive()
    }
}

fn noop_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(core::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions do nothing and never touch the data pointer.
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) }
}

fn reply(data: Vec<u8>, sw: Sw) -> Vec<u8> {
    let mut out = data;
    out.extend_from_slice(&sw.to_be_bytes());
    out
}

impl SimLedger {
    /// A simulated Ledger with `options`.
    pub fn new(options: SimLedgerOptions) -> Self {
        let app_open = !options.start_on_dashboard;
        SimLedger {
            ctx: Rc::new(AppContext::new(options.clone())),
            options,
            app_open,
            running: None,
            exchanges: 0,
            faults_at: 0,
        }
    }

    /// Switches misbehaviours on or off; also abandons a command in progress, as a
    /// device that was unplugged and plugged back would.
    pub fn set_faults(&mut self, faults: crate::sim::fault::Faults) {
        self.options.faults = faults;
        // The app's persistent storage (MuSig2 sessions) survives the replug.
        self.ctx = Rc::new(AppContext::new(self.options.clone()).with_storage_of(&self.ctx));
        self.running = None;
        self.faults_at = self.exchanges;
    }

    /// How many APDUs were answered since the faults were last set (what
    /// `DisconnectAfter(k)` counts).
    pub fn exchanges_since_faults(&self) -> usize {
        self.exchanges.saturating_sub(self.faults_at)
    }

    /// The app's context (seed, network, confirmation policy, faults).
    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    /// The app name the device shows.
    pub fn app_name(&self) -> &'static str {
        if self.ctx.testnet {
            "Bitcoin Test"
        } else {
            "Bitcoin"
        }
    }

    /// Unplugged mid-command: the command that was running is gone (the app itself
    /// stays open, as if restarted by the user before the next call).
    pub fn interrupt(&mut self) {
        self.running = None;
    }

    /// How many APDUs were answered.
    pub fn exchanges(&self) -> usize {
        self.exchanges
    }

    /// Answers one APDU: reply data followed by the status word.
    pub fn apdu(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.exchanges += 1;
        if self.ctx.locked {
            return reply(vec![], 0x5515);
        }
        let ([cla, ins, p1, p2, lc], data) = match apdu.split_first_chunk::<5>() {
            Some((h, d)) if usize::from(h[4]) == d.len() => (*h, d),
            _ => return reply(vec![], SW_WRONG_LENGTH),
        };
        let _ = lc;
        if let Some((fut, link)) = self.running.take() {
            if cla != CLA_FRAMEWORK || ins != INS_CONTINUE {
                return reply(vec![], SW_BAD_STATE);
            }
            link.put_response(data.to_vec());
            return self.drive(fut, link);
        }
        match (cla, ins) {
            (0xb0, 0x01) => reply(self.app_and_version(), SW_OK),
            (0xb0, 0xa7) => {
                self.app_open = false;
                reply(vec![], SW_OK)
            }
            (0xe0, 0xd8) if !self.app_open => {
                if data != self.app_name().as_bytes() {
                    return reply(vec![], 0x6807);
                }
                if !self.ctx.confirm(&crate::sim::confirm::Prompt::OpenApp(
                    self.app_name().into(),
                )) {
                    return reply(vec![], SW_DENY);
                }
                self.app_open = true;
                reply(vec![], SW_OK)
            }
            _ if !self.app_open => reply(vec![], 0x6e01),
            (CLA_BTC, _) => self.start(ins, p1, p2, data.to_vec()),
            (CLA_FRAMEWORK, _) => reply(vec![], SW_BAD_STATE),
            _ => reply(vec![], 0x6e00),
        }
    }

    fn app_and_version(&self) -> Vec<u8> {
        let (name, version) = if self.app_open {
            (self.app_name(), APP_VERSION)
        } else {
            ("BOLOS", "2.2.3")
        };
        let mut out = vec![1, name.len() as u8];
        out.extend_from_slice(name.as_bytes());
        out.push(version.len() as u8);
        out.extend_from_slice(version.as_bytes());
        out.extend_from_slice(&[1, 0]);
        out
    }

    fn start(&mut self, ins: u8, p1: u8, p2: u8, data: Vec<u8>) -> Vec<u8> {
        if p1 != 0 || p2 > 1 {
            return reply(vec![], 0x6b00);
        }
        let link = HostLink::new();
        let Some(fut) = commands::dispatch(ins, self.ctx.clone(), link.clone(), data) else {
            return reply(vec![], 0x6d00);
        };
        self.drive(fut, link)
    }

    /// Polls the running command until it finishes or waits on the host.
    fn drive(&mut self, mut fut: Running, link: Rc<HostLink>) -> Vec<u8> {
        let waker = noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(data)) => reply(data, SW_OK),
            Poll::Ready(Err(sw)) => reply(vec![], sw),
            Poll::Pending => match link.take_request() {
                Some(mut request) => {
                    if self.ctx.faults.has(Fault::UnexpectedClientCommand) {
                        // A client command the host never heard of.
                        request = vec![0x77, 0x00];
                    }
                    self.running = Some((fut, link));
                    reply(request, SW_INTERRUPTED)
                }
                None => reply(vec![], SW_BAD_STATE),
            },
        }
    }
}
