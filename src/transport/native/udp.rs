//! The Trezor emulator's UDP link (default 127.0.0.1:21324): one 64-byte codec v1
//! packet per datagram, and a `PINGPING` -> `PONGPONG` probe to see if it listens.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use futures::future::LocalBoxFuture;

use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Default address of the Trezor emulator.
pub const DEFAULT_ADDR: &str = "127.0.0.1:21324";

/// A link to the Trezor emulator (or the simulator's [`serve_udp`](crate::sim::trezor::serve_udp)).
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
    addr: SocketAddr,
}

fn io(e: std::io::Error) -> Error {
    Error::Transport(format!("udp: {e}").to_lowercase())
}

impl UdpTransport {
    /// Connects to `addr` and checks that an emulator answers the probe within 1 s.
    ///
    /// # Errors
    /// `invalid-input` for an unreadable address; `disconnected` when nothing answers.
    pub fn connect(addr: &str) -> Result<Self> {
        let addr = addr
            .to_socket_addrs()
            .map_err(|e| Error::invalid("address", e.to_string().to_lowercase()))?
            .next()
            .ok_or_else(|| Error::invalid("address", "no such host"))?;
        let socket = UdpSocket::bind(if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        })
        .map_err(io)?;
        socket.connect(addr).map_err(io)?;
        let t = UdpTransport { socket, addr };
        if !t.probe(1000)? {
            return Err(Error::Disconnected);
        }
        Ok(t)
    }

    /// Sends `PINGPING` and waits up to `timeout_ms` for `PONGPONG`.
    ///
    /// # Errors
    /// `transport` when the socket fails.
    pub fn probe(&self, timeout_ms: u32) -> Result<bool> {
        // Stale packets from an earlier call are dropped first.
        self.socket.set_nonblocking(true).map_err(io)?;
        let mut buf = [0u8; 64];
        while self.socket.recv(&mut buf).is_ok() {}
        self.socket.set_nonblocking(false).map_err(io)?;
        self.socket.send(b"PINGPING").map_err(io)?;
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms.max(1)));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            self.socket.set_read_timeout(Some(left)).map_err(io)?;
            match self.socket.recv(&mut buf) {
                Ok(n) if buf.get(..n) == Some(b"PONGPONG".as_slice()) => return Ok(true),
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(false)
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(false),
                Err(e) => return Err(io(e)),
            }
        }
    }
}

impl Transport for UdpTransport {
    fn packets(&self) -> Packets {
        Packets::Reports64
    }

    fn identity(&self) -> Identity {
        Identity {
            product_name: format!("trezor emulator at {}", self.addr),
            ..Identity::default()
        }
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if data.len() != 64 {
                return Err(Error::invalid(
                    "packet",
                    format!("{} bytes where 64 were expected", data.len()),
                ));
            }
            self.socket.send(data).map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Error::Disconnected,
                _ => io(e),
            })?;
            Ok(())
        })
    }

    fn discard_pending(&mut self) {
        // Datagrams already received: dropped (bounded).
        if self.socket.set_nonblocking(true).is_ok() {
            let mut buf = [0u8; 64];
            for _ in 0..4096 {
                if self.socket.recv(&mut buf).is_err() {
                    break;
                }
            }
            let _ = self.socket.set_nonblocking(false);
        }
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move {
            self.socket
                .set_read_timeout(Some(Duration::from_millis(u64::from(timeout_ms.max(1)))))
                .map_err(io)?;
            let mut buf = [0u8; 64];
            match self.socket.recv(&mut buf) {
                Ok(n) => Ok(buf.get(..n).unwrap_or_default().to_vec()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Err(Error::Timeout {
                        after_ms: timeout_ms,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    Err(Error::Disconnected)
                }
                Err(e) => Err(io(e)),
            }
        })
    }
}
