//! The simulated Trezor on UDP, like the emulator: one 64-byte packet per datagram,
//! `PINGPING` answered with `PONGPONG`.
//!
//! The simulator's own debug commands (the emulator has a debug link instead):
//! `MATRIX??` is answered with `MATRIX` and the nine digits of the PIN matrix the
//! device shows (reading order), or `MATRIX--` when none is shown, so that a test's PIN
//! dialog can read the scrambled matrix as a user reads the screen; `CODE????` is
//! answered with `CODE` and the 6-digit pairing code a simulated Safe 7 shows, or
//! `CODE--`. Wrong-PIN delays are applied before the replies, as the firmware makes
//! the host wait.

use std::net::UdpSocket;

use crate::error::{Error, Result};
use crate::sim::trezor::{Safe7Sim, TrezorSim};

/// A simulated Trezor that can be served on UDP: codec v1 ([`TrezorSim`]) or THP
/// ([`Safe7Sim`]).
pub trait UdpDevice {
    /// Handles one packet; returns the packets to send back.
    ///
    /// # Errors
    /// `disconnected` for a simulated disconnect.
    fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// The PIN matrix on the screen.
    fn pin_matrix(&self) -> Option<[u8; 9]> {
        None
    }
    /// The pairing code on the screen.
    fn pairing_code(&self) -> Option<String> {
        None
    }
    /// How long to wait before the replies.
    fn take_delay_ms(&mut self) -> u64 {
        0
    }
}

impl UdpDevice for TrezorSim {
    fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        TrezorSim::handle_packet(self, packet)
    }
    fn pin_matrix(&self) -> Option<[u8; 9]> {
        TrezorSim::pin_matrix(self)
    }
    fn take_delay_ms(&mut self) -> u64 {
        TrezorSim::take_delay_ms(self)
    }
}

impl UdpDevice for Safe7Sim {
    fn handle_packet(&mut self, packet: &[u8]) -> Result<Vec<Vec<u8>>> {
        Safe7Sim::handle_packet(self, packet)
    }
    fn pairing_code(&self) -> Option<String> {
        Safe7Sim::pairing_code(self)
    }
}

/// Serves `sim` on the UDP address `addr` (the emulator uses 127.0.0.1:21324) until
/// the socket fails. Blocks: run it in a thread.
///
/// # Errors
/// `transport` when the socket cannot be bound or fails.
pub fn serve_udp(addr: &str, sim: impl UdpDevice) -> Result<()> {
    let socket = UdpSocket::bind(addr)
        .map_err(|e| Error::Transport(format!("bind {addr}: {e}").to_lowercase()))?;
    serve_socket(&socket, sim)
}

/// Serves `sim` on an already bound socket (to learn the port before serving).
///
/// # Errors
/// `transport` when the socket fails.
pub fn serve_socket(socket: &UdpSocket, sim: impl UdpDevice) -> Result<()> {
    serve_socket_showing(socket, sim, |_| {})
}

/// Like [`serve_socket`], telling `show` what the device's screen shows that a user
/// must read: the PIN matrix (`pin matrix: 7 8 9 / 4 5 6 / 1 2 3`) or the pairing
/// code (`pairing code: 123456`).
///
/// # Errors
/// `transport` when the socket fails.
pub fn serve_socket_showing(
    socket: &UdpSocket,
    mut sim: impl UdpDevice,
    mut show: impl FnMut(&str),
) -> Result<()> {
    let mut buf = [0u8; 1024];
    let mut shown = None;
    let mut shown_code = None;
    loop {
        let (n, peer) = socket
            .recv_from(&mut buf)
            .map_err(|e| Error::Transport(format!("udp receive: {e}").to_lowercase()))?;
        let data = buf.get(..n).unwrap_or_default();
        if data == b"PINGPING" {
            let _ = socket.send_to(b"PONGPONG", peer);
            continue;
        }
        if data == b"MATRIX??" {
            let answer = match sim.pin_matrix() {
                Some(m) => format!(
                    "MATRIX{}",
                    m.iter().map(|d| d.to_string()).collect::<String>()
                ),
                None => "MATRIX--".into(),
            };
            let _ = socket.send_to(answer.as_bytes(), peer);
            continue;
        }
        if data == b"CODE????" {
            let answer = format!("CODE{}", sim.pairing_code().as_deref().unwrap_or("--"));
            let _ = socket.send_to(answer.as_bytes(), peer);
            continue;
        }
        // A disconnect fault: stop answering, as a vanished device would.
        let Ok(replies) = sim.handle_packet(data) else {
            continue;
        };
        let delay = sim.take_delay_ms();
        if delay > 0 {
            std::thread::sleep(std::time::Duration::from_millis(delay));
        }
        let matrix = sim.pin_matrix();
        if matrix != shown {
            if let Some(m) = matrix {
                show(&matrix_text(&m));
            }
            shown = matrix;
        }
        let code = sim.pairing_code();
        if code != shown_code {
            if let Some(c) = &code {
                show(&format!("pairing code: {c}"));
            }
            shown_code = code;
        }
        for packet in replies {
            socket
                .send_to(&packet, peer)
                .map_err(|e| Error::Transport(format!("udp send: {e}").to_lowercase()))?;
        }
    }
}

/// The emulator's debug link (its port + 1): hosts that drive the emulator through it
/// (trezorlib's `TrezorClientDebugLink`, which HWI uses for emulators) press buttons
/// there. The simulator confirms by itself, so decisions are taken and dropped;
/// `DebugLinkGetState` gets an empty state and `PINGPING` a `PONGPONG`. Serves until
/// the socket fails; run it in a thread.
///
/// # Errors
/// `transport` when the socket cannot be bound or fails.
pub fn serve_debug_link(addr: &str) -> Result<()> {
    const DEBUG_LINK_GET_STATE: u16 = 101;
    const DEBUG_LINK_STATE: u16 = 102;
    let socket = UdpSocket::bind(addr)
        .map_err(|e| Error::Transport(format!("bind {addr}: {e}").to_lowercase()))?;
    let mut buf = [0u8; 1024];
    loop {
        let (n, peer) = socket
            .recv_from(&mut buf)
            .map_err(|e| Error::Transport(format!("udp receive: {e}").to_lowercase()))?;
        let data = buf.get(..n).unwrap_or_default();
        if data == b"PINGPING" {
            let _ = socket.send_to(b"PONGPONG", peer);
            continue;
        }
        let msg_type = match data {
            [b'?', b'#', b'#', hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            _ => continue,
        };
        if msg_type == DEBUG_LINK_GET_STATE {
            let mut packet = b"?##".to_vec();
            packet.extend(DEBUG_LINK_STATE.to_be_bytes());
            packet.resize(64, 0);
            let _ = socket.send_to(&packet, peer);
        }
    }
}

/// `pin matrix: a b c / d e f / g h i`, rows top to bottom.
pub fn matrix_text(m: &[u8; 9]) -> String {
    let rows: Vec<String> = m
        .chunks(3)
        .map(|r| {
            r.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    format!("pin matrix: {}", rows.join(" / "))
}
