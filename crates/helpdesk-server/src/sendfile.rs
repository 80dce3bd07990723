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
//!
//! What hyper writes before the body (the response's head) goes out with
//! `MSG_MORE`, so the kernel holds it for the file's first bytes: sent
//! alone under `TCP_NODELAY` it would be a packet of its own, and that
//! costs more than the copy saves (measured: 1,737-1,930 downloads a
//! second of 1 MiB with a separate head, 2,290-2,498 with `MSG_MORE`,
//! 1,775-2,087 copied from memory, one sitting, 64 connections).

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Images from this size up are sent from their file (below it, the extra
/// system calls, open, fstat, sendfile and close, cost more than the copy
/// saves).
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
/// inside `region` is sent from its file, and what comes before such a
/// slice is sent with `MSG_MORE`. None: nothing here for the region to do
/// (write as usual).
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
        // The head: held by the kernel for the body; hyper asks again for
        // the rest (a short write included).
        let head = &bufs[..first_inside];
        return Some(poll_io(stream, cx, || send_more(stream, head)));
    }
    let slice = &bufs[0];
    let offset = region.offset_of(slice)?;
    match poll_io(stream, cx, || {
        send_file(stream, &region.file, offset, slice.len())
    }) {
        Poll::Ready(Ok(n)) if n > 0 => Some(Poll::Ready(Ok(n))),
        Poll::Pending => Some(Poll::Pending),
        // The file ended early (it was changed under us) or the call
        // failed: the bytes in memory are the answer, and a socket error
        // shows again when they are written.
        Poll::Ready(_) => None,
    }
}

/// Runs `io` once the socket is writable, again while it would block.
fn poll_io(
    stream: &TcpStream,
    cx: &mut Context<'_>,
    mut io: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        match stream.poll_write_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match stream.try_io(Interest::WRITABLE, &mut io) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return Poll::Ready(other),
        }
    }
}

/// `sendmsg(bufs, MSG_MORE)`: how many bytes the kernel took.
fn send_more(stream: &TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: a zeroed msghdr is a valid empty one (no name, no control
    // data, no flags).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // IoSlice is guaranteed to be ABI-compatible with iovec on Unix; the
    // kernel only reads through these pointers, and `bufs` outlives the call.
    msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize) as _;
    // SAFETY: the descriptor is open while `stream` is borrowed, and `msg`
    // points at memory valid for the call's duration.
    let n = unsafe {
        libc::sendmsg(
            stream.as_raw_fd(),
            &msg,
            libc::MSG_MORE | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `sendfile(file, offset, len)` to the socket: how many bytes it sent (0:
/// the file ended before `offset`).
fn send_file(stream: &TcpStream, file: &File, offset: usize, len: usize) -> io::Result<usize> {
    let mut at = offset as libc::off_t;
    // SAFETY: both descriptors are open for the call (the stream and the
    // file are borrowed), `at` is a valid off_t that the call may update,
    // and sendfile writes nothing into our memory. It reads the file at
    // `at` without moving the file's own position.
    let n = unsafe { libc::sendfile(stream.as_raw_fd(), file.as_raw_fd(), &mut at, len) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
