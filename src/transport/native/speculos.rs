//! The Speculos emulator's APDU socket (TCP, default 127.0.0.1:9999).
//!
//! Request: `u32 BE length | APDU`. Reply: `u32 BE n | n data bytes | status word`
//! (the length excludes the status word). The link hands the protocol whole replies
//! (data and status word), so it carries [`Packets::Messages`].

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use futures::future::LocalBoxFuture;

use crate::error::{Error, Result};
use crate::transport::{Identity, Packets, Transport};

/// Default address of the Speculos APDU socket.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9999";

/// A connection to the Speculos APDU socket.
#[derive(Debug)]
pub struct SpeculosTransport {
    stream: TcpStream,
    addr: SocketAddr,
}

fn io_error(e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::BrokenPipe
        | ErrorKind::ConnectionAborted => Error::Disconnected,
        _ => Error::Transport(e.to_string()),
    }
}

impl SpeculosTransport {
    /// Connects to `addr` (e.g. `127.0.0.1:9999`).
    ///
    /// # Errors
    /// `transport` when nothing listens there.
    pub fn connect(addr: &str) -> Result<Self> {
        let addr = addr
            .to_socket_addrs()
            .map_err(|e| Error::invalid("address", format!("{addr}: {e}")))?
            .next()
            .ok_or_else(|| Error::invalid("address", format!("{addr} resolves to nothing")))?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| Error::Transport(format!("cannot connect to speculos at {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        Ok(SpeculosTransport { stream, addr })
    }

    fn read_reply(&mut self, timeout_ms: u32) -> Result<Vec<u8>> {
        let timeout = Duration::from_millis(u64::from(timeout_ms.max(1)));
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(io_error)?;
        let mut len = [0u8; 4];
        self.stream
            .read_exact(&mut len)
            .map_err(|e| match e.kind() {
                ErrorKind::WouldBlock | ErrorKind::TimedOut => Error::Timeout {
                    after_ms: timeout_ms,
                },
                _ => io_error(e),
            })?;
        let n = u32::from_be_bytes(len) as usize;
        if n > 65_536 {
            return Err(Error::protocol(format!(
                "speculos reply of {n} bytes is over 65536"
            )));
        }
        let mut data = vec![0u8; n + 2];
        self.stream.read_exact(&mut data).map_err(io_error)?;
        Ok(data)
    }
}

impl Transport for SpeculosTransport {
    fn packets(&self) -> Packets {
        Packets::Messages
    }

    fn identity(&self) -> Identity {
        Identity {
            product_name: format!("Speculos at {}", self.addr),
            ..Identity::default()
        }
    }

    fn send<'a>(&'a mut self, data: &'a [u8]) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let len = u32::try_from(data.len()).map_err(|_| Error::invalid("apdu", "too long"))?;
            let mut frame = len.to_be_bytes().to_vec();
            frame.extend_from_slice(data);
            self.stream.write_all(&frame).map_err(io_error)
        })
    }

    fn recv(&mut self, timeout_ms: u32) -> LocalBoxFuture<'_, Result<Vec<u8>>> {
        Box::pin(async move { self.read_reply(timeout_ms) })
    }

    fn resync(&mut self) -> LocalBoxFuture<'_, Result<()>> {
        // The socket carries no request ids: a late reply would be read as the next
        // one. A new connection leaves it behind.
        Box::pin(async move {
            let fresh = SpeculosTransport::connect(&self.addr.to_string())?;
            *self = fresh;
            Ok(())
        })
    }
}
