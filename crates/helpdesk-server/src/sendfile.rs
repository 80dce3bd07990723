//! A large kept image sent from its file by the kernel (`sendfile(2)`),
//! not copied from memory into the socket.
//!
//! At 1 MiB that copy is most of a download's cost: nginx, which sends
//! files this way, served about 1.25 times the downloads a second that
//! helpdesk or a bare hyper server did (scripts/bench-vs-nginx --size
//! 1048576). Hyper writes every response itself, so this works underneath
//! it, at the socket: the fast path marks a response whose body is a kept
//! image that also lies in a local file (`Region`: the bytes, held so that
//! their memory cannot be reused, and the open file); when hyper writes a
//! slice that lies inside those bytes, the socket sends the same range of
//! the file instead. The file holds exactly those bytes: blobs are
//! content-addressed and the size is checked at open. Anything that does
//! not fit (another slice, a short file, an error) is written from memory
//! as before.

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Images from this size up are sent from their file (below it, the two
/// extra system calls, open and sendfile, cost more than the copy saves).
pub const FROM_BYTES: u64 = 256 * 1024;

/// A response body that is also a file: see the head of this file.
pub struct Region {
    bytes: Bytes,
    file: File,
}

impl Region {
    /// `bytes`, with the file at `path` that holds them; None when the file
    /// cannot be opened or is not their size.
    pub fn open(bytes: Bytes, path: &Path) -> Option<Region> {
        let file = File::open(path).ok()?;
        (file.metadata().ok()?.len() == bytes.len() as u64).then_some(Region { bytes, file })
    }

    /// Where `slice` starts in the file, when it lies wholly inside the
    /// region's bytes.
    fn offset_of(&self, slice: &[u8]) -> Option<usize> {
        let base = self.bytes.as_ptr() as usize;
        let start = slice.as_ptr() as usize;
        (start >= base && start + slice.len() <= base + self.bytes.len()).then(|| start - base)
    }
}

/// Writes `bufs` to `stream` as hyper asked, except that a leading slice
/// inside `region` is sent from its file. None: nothing here for the
/// region to do (write as usual).
pub fn poll_write(
    region: &Region,
    stream: &TcpStream,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Option<Poll<io::Result<usize>>> {
    let first_inside = bufs
        .iter()
        .position(|b| !b.is_empty() && region.offset_of(b).is_some())?;
    if first_inside > 0 {
        // What comes before (the response's head) goes out as usual; hyper
        // asks again for the rest.
        return Some(poll_writev(stream, cx, &bufs[..first_inside]));
    }
    let slice = &bufs[0];
    let offset = region.offset_of(slice)?;
    loop {
        match stream.poll_write_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Some(Poll::Ready(Err(e))),
            Poll::Pending => return Some(Poll::Pending),
        }
        let sent = stream.try_io(Interest::WRITABLE, || {
            let mut at = offset as libc::off_t;
            // SAFETY: both descriptors are open for the call (the stream
            // and the region are borrowed), `at` is a valid off_t, and
            // sendfile writes nothing into our memory.
            let n = unsafe {
                libc::sendfile(
                    stream.as_raw_fd(),
                    region.file.as_raw_fd(),
                    &mut at,
                    slice.len(),
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match sent {
            Ok(n) if n > 0 => return Some(Poll::Ready(Ok(n))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            // The file ended early or the call failed: the bytes in memory
            // are the answer.
            _ => return None,
        }
    }
}

fn poll_writev(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    loop {
        match stream.poll_write_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match stream.try_write_vectored(bufs) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return Poll::Ready(other),
        }
    }
}
