// SPDX-License-Identifier: GPL-2.0
//! Thin, checked wrappers over the system calls the benchmark uses.

use std::ffi::CString;
use std::io::{Error, Result};
use std::os::raw::c_int;

fn check(r: isize, what: &str) -> Result<usize> {
    if r < 0 {
        let e = Error::last_os_error();
        Err(Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(r as usize)
    }
}

/// An owned file descriptor, closed on drop.
#[derive(Debug)]
pub struct Fd(pub c_int);

impl Fd {
    /// Closes now and reports the error (drop ignores it).
    pub fn close(mut self) -> Result<()> {
        let fd = self.0;
        self.0 = -1;
        // SAFETY: `fd` is owned and closed exactly once.
        check(unsafe { libc::close(fd) } as isize, "close").map(|_| ())
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: owned descriptor, closed once.
            unsafe { libc::close(self.0) };
        }
    }
}

pub fn open(path: &str, flags: c_int) -> Result<Fd> {
    let c = CString::new(path).expect("path without NUL");
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0o600) };
    check(fd as isize, &format!("open {path}")).map(|fd| Fd(fd as c_int))
}

/// A pipe resized with F_SETPIPE_SZ to `bytes` (rounded up by the kernel
/// to a power of two pages); returns (read end, write end, actual size).
pub fn pipe_sized(bytes: usize) -> Result<(Fd, Fd, usize)> {
    let mut p = [0 as c_int; 2];
    // SAFETY: `p` has room for two descriptors.
    check(
        unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } as isize,
        "pipe2",
    )?;
    let (r, w) = (Fd(p[0]), Fd(p[1]));
    // SAFETY: plain fcntl on an owned descriptor.
    let sz = check(
        unsafe { libc::fcntl(w.0, libc::F_SETPIPE_SZ, bytes as c_int) } as isize,
        &format!("F_SETPIPE_SZ {bytes}"),
    )?;
    Ok((r, w, sz))
}

pub fn set_nonblock(fd: &Fd) -> Result<()> {
    // SAFETY: plain fcntl on an owned descriptor.
    let fl = check(
        unsafe { libc::fcntl(fd.0, libc::F_GETFL) } as isize,
        "F_GETFL",
    )?;
    // SAFETY: as above.
    check(
        unsafe { libc::fcntl(fd.0, libc::F_SETFL, fl as c_int | libc::O_NONBLOCK) } as isize,
        "F_SETFL",
    )
    .map(|_| ())
}

pub fn splice(from: &Fd, to: &Fd, len: usize, flags: u32) -> Result<usize> {
    loop {
        // SAFETY: NULL offsets use and update the file positions.
        let r = unsafe {
            libc::splice(
                from.0,
                std::ptr::null_mut(),
                to.0,
                std::ptr::null_mut(),
                len,
                flags,
            )
        };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "splice");
    }
}

/// tee(2): duplicates up to `len` bytes of pipe buffers from `from` into
/// `to` without consuming them.
pub fn tee(from: &Fd, to: &Fd, len: usize, flags: u32) -> Result<usize> {
    loop {
        // SAFETY: plain tee on owned pipe descriptors.
        let r = unsafe { libc::tee(from.0, to.0, len, flags) };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "tee");
    }
}

pub fn read(fd: &Fd, buf: &mut [u8]) -> Result<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let r = unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "read");
    }
}

pub fn pread(fd: &Fd, buf: &mut [u8], off: i64) -> Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes.
    let r = unsafe { libc::pread(fd.0, buf.as_mut_ptr().cast(), buf.len(), off) };
    check(r, "pread")
}

pub fn lseek(fd: &Fd, off: i64) -> Result<u64> {
    // SAFETY: plain lseek on an owned descriptor.
    let r = unsafe { libc::lseek(fd.0, off, libc::SEEK_SET) };
    check(r as isize, "lseek").map(|v| v as u64)
}

pub fn write_all(fd: &Fd, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let r = unsafe { libc::write(fd.0, buf.as_ptr().cast(), buf.len()) };
        let n = check(r, "write")?;
        buf = &buf[n..];
    }
    Ok(())
}

pub fn sendfile(out: &Fd, inp: &Fd, count: usize) -> Result<usize> {
    loop {
        // SAFETY: NULL offset uses and updates the input file position.
        let r = unsafe { libc::sendfile(out.0, inp.0, std::ptr::null_mut(), count) };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "sendfile");
    }
}

/// vmsplice of `buf` into the pipe's write end with SPLICE_F_GIFT.
pub fn vmsplice_gift(w: &Fd, buf: &[u8]) -> Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    loop {
        // SAFETY: one valid iovec; the pages stay mapped and are never
        // written while a pipe may reference them.
        let r = unsafe { libc::vmsplice(w.0, &iov, 1, libc::SPLICE_F_GIFT) };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "vmsplice");
    }
}

pub fn recv(fd: &Fd, buf: &mut [u8], flags: c_int) -> Result<usize> {
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes (MSG_TRUNC on TCP
        // discards without writing to it).
        let r = unsafe { libc::recv(fd.0, buf.as_mut_ptr().cast(), buf.len(), flags) };
        if r < 0 && Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return check(r, "recv");
    }
}

/// Monotonic clock in nanoseconds.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Pins the calling thread to `cpu` if it exists; failures are ignored
/// (the figures stay valid, only less repeatable).
pub fn pin(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity on self.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

pub fn online_cpus() -> usize {
    // SAFETY: sysconf is always safe.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n < 1 {
        1
    } else {
        n as usize
    }
}

/// A page-aligned anonymous buffer, touched so no fault happens while timed.
pub struct Buf {
    ptr: *mut u8,
    len: usize,
}

impl Buf {
    pub fn new(len: usize) -> Result<Buf> {
        let len = len.max(4096).div_ceil(4096) * 4096;
        // SAFETY: anonymous private mapping.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Error::last_os_error());
        }
        let b = Buf { ptr: p.cast(), len };
        Ok(b)
    }
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: mapping of `len` bytes owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: mapping of `len` bytes owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        // SAFETY: unmaps our own mapping.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

// The buffer is only moved to a receiver thread, never shared.
unsafe impl Send for Buf {}

/// A connected TCP pair on 127.0.0.1: (sender with TCP_NODELAY, receiver).
/// Both ports are chosen by the caller (`port` for the listener, `port + 1`
/// for the sender), not by the kernel's randomised ephemeral-port search,
/// so an `-icount` boot repeats the same instruction counts.
pub fn tcp_pair(port: u16) -> Result<(Fd, Fd)> {
    // SAFETY: plain socket calls on owned descriptors with valid sockaddrs.
    unsafe {
        let l = Fd(check(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) as isize,
            "socket",
        )? as c_int);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        addr.sin_port = port.to_be();
        let alen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let one: c_int = 1;
        check(
            libc::setsockopt(
                l.0,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const c_int).cast(),
                std::mem::size_of::<c_int>() as libc::socklen_t,
            ) as isize,
            "SO_REUSEADDR",
        )?;
        check(
            libc::bind(l.0, (&addr as *const libc::sockaddr_in).cast(), alen) as isize,
            "bind 127.0.0.1",
        )?;
        check(libc::listen(l.0, 1) as isize, "listen")?;
        let mut len = alen;
        check(
            libc::getsockname(l.0, (&mut addr as *mut libc::sockaddr_in).cast(), &mut len) as isize,
            "getsockname",
        )?;
        let s = Fd(check(
            libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) as isize,
            "socket",
        )? as c_int);
        check(
            libc::setsockopt(
                s.0,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&one as *const c_int).cast(),
                std::mem::size_of::<c_int>() as libc::socklen_t,
            ) as isize,
            "SO_REUSEADDR",
        )?;
        let mut me = addr;
        me.sin_port = (port + 1).to_be();
        check(
            libc::bind(s.0, (&me as *const libc::sockaddr_in).cast(), alen) as isize,
            "bind sender port",
        )?;
        check(
            libc::setsockopt(
                s.0,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const c_int).cast(),
                std::mem::size_of::<c_int>() as libc::socklen_t,
            ) as isize,
            "TCP_NODELAY",
        )?;
        check(
            libc::connect(s.0, (&addr as *const libc::sockaddr_in).cast(), alen) as isize,
            "connect 127.0.0.1",
        )?;
        let r = Fd(check(
            libc::accept4(
                l.0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            ) as isize,
            "accept",
        )? as c_int);
        Ok((s, r))
    }
}

/// Contents of a small text file (sysfs, procfs).
pub fn read_text(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::new(e.kind(), format!("{path}: {e}")))
}

/// Writes a knob: the value and a newline, in one write.
pub fn write_text(path: &str, value: &str) -> Result<()> {
    let fd = open(path, libc::O_WRONLY)?;
    let s = format!("{value}\n");
    write_all(&fd, s.as_bytes())
        .map_err(|e| Error::new(e.kind(), format!("{path} <- {value}: {e}")))?;
    fd.close()
}
