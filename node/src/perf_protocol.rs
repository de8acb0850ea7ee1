//! The libp2p perf protocol, `/perf/1.0.0`, on raw libp2p streams.
//!
//! Spec (libp2p/specs perf/perf.md): the client opens a stream, writes the number of bytes it
//! wants back as a u64 big-endian, writes its upload bytes and closes its write side; the
//! server counts bytes to EOF, then writes the requested amount and closes. The published
//! `libp2p-perf` crate targets libp2p 0.53, hence this small implementation.

use std::time::{Duration, Instant};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, StreamProtocol};

/// The protocol id.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/perf/1.0.0");
/// Chunk size for reads and writes. Larger chunks change nothing measurable: a read returns what
/// the muxer has (about one QUIC packet, or one 16 KiB yamux frame), and writes are copied into the
/// muxer's buffers whatever their size (node/README.md, "Throughput: where the time goes").
const CHUNK: usize = 64 * 1024;

/// Result of one client run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfRun {
    /// Bytes sent to the server.
    pub uploaded: u64,
    /// Bytes received from the server.
    pub downloaded: u64,
    /// Stream open to last byte received.
    pub elapsed: Duration,
}

/// Why a perf run failed.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    /// The stream could not be opened (peer gone, protocol unsupported).
    #[error("cannot open {PROTOCOL} stream to {peer}: {reason}")]
    Open {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// The transfer broke off.
    #[error("perf transfer failed: {0}")]
    Io(#[from] std::io::Error),
    /// The server sent a different amount than asked.
    #[error("server sent {got} bytes, {expected} were requested")]
    ShortDownload {
        /// Requested.
        expected: u64,
        /// Received.
        got: u64,
    },
}

/// Runs the client side against `peer`.
pub async fn run_client(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    upload_bytes: u64,
    download_bytes: u64,
) -> Result<PerfRun, PerfError> {
    let started = Instant::now();
    let mut stream = control
        .open_stream(peer, PROTOCOL)
        .await
        .map_err(|e| PerfError::Open {
            peer,
            reason: e.to_string(),
        })?;
    stream.write_all(&download_bytes.to_be_bytes()).await?;
    write_zeros(&mut stream, upload_bytes).await?;
    stream.close().await?;
    let downloaded = count_to_eof(&mut stream).await?;
    if downloaded != download_bytes {
        return Err(PerfError::ShortDownload {
            expected: download_bytes,
            got: downloaded,
        });
    }
    Ok(PerfRun {
        uploaded: upload_bytes,
        downloaded,
        elapsed: started.elapsed(),
    })
}

/// Serves inbound perf streams until the control is dropped. Each stream runs in its own task.
pub async fn serve(mut control: libp2p_stream::Control) {
    let Ok(mut incoming) = control.accept(PROTOCOL) else {
        tracing::error!("{PROTOCOL} is already being served");
        return;
    };
    while let Some((peer, stream)) = incoming.next().await {
        tokio::spawn(async move {
            if let Err(e) = serve_stream(stream).await {
                tracing::debug!(%peer, "perf stream ended with error: {e}");
            }
        });
    }
}

async fn serve_stream<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> std::io::Result<()> {
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await?;
    let to_send = u64::from_be_bytes(header);
    count_to_eof(&mut stream).await?;
    write_zeros(&mut stream, to_send).await?;
    stream.close().await
}

async fn write_zeros<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut remaining: u64,
) -> std::io::Result<()> {
    let chunk = [0u8; CHUNK];
    while remaining > 0 {
        let n = remaining.min(CHUNK as u64) as usize;
        writer.write_all(&chunk[..n]).await?;
        remaining -= n as u64;
    }
    Ok(())
}

async fn count_to_eof<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buf).await? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client and server talking over an in-memory duplex pipe follow the spec's framing.
    #[tokio::test]
    async fn server_returns_requested_bytes_after_upload() {
        let (client, server) = tokio::io::duplex(1 << 16);
        use tokio_util::compat::TokioAsyncReadCompatExt;
        let server_task = tokio::spawn(serve_stream(server.compat()));
        let mut client = client.compat();
        client.write_all(&300_000u64.to_be_bytes()).await.unwrap();
        write_zeros(&mut client, 123_456).await.unwrap();
        client.close().await.unwrap();
        assert_eq!(count_to_eof(&mut client).await.unwrap(), 300_000);
        server_task.await.unwrap().unwrap();
    }
}
