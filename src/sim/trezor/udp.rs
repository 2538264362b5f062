//! The simulated Trezor on UDP, like the emulator: one 64-byte packet per datagram,
//! `PINGPING` answered with `PONGPONG`.

use std::net::UdpSocket;

use crate::error::{Error, Result};
use crate::sim::trezor::TrezorSim;

/// Serves `sim` on the UDP address `addr` (the emulator uses 127.0.0.1:21324) until
/// the socket fails. Blocks: run it in a thread.
///
/// # Errors
/// `transport` when the socket cannot be bound or fails.
pub fn serve_udp(addr: &str, sim: TrezorSim) -> Result<()> {
    let socket = UdpSocket::bind(addr)
        .map_err(|e| Error::Transport(format!("bind {addr}: {e}").to_lowercase()))?;
    serve_socket(&socket, sim)
}

/// Serves `sim` on an already bound socket (to learn the port before serving).
///
/// # Errors
/// `transport` when the socket fails.
pub fn serve_socket(socket: &UdpSocket, mut sim: TrezorSim) -> Result<()> {
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
        // A disconnect fault: stop answering, as a vanished device would.
        let Ok(replies) = sim.handle_packet(data) else {
            continue;
        };
        for packet in replies {
            socket
                .send_to(&packet, peer)
                .map_err(|e| Error::Transport(format!("udp send: {e}").to_lowercase()))?;
        }
    }
}
