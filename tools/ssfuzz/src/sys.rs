//! Thin wrappers of the system calls the fuzzer makes. They return raw
//! results (`-1` and `errno()` on failure): the fuzzer judges every error
//! itself.

use std::ffi::CString;

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

pub fn open(path: &str, flags: i32) -> i32 {
    let Ok(c) = CString::new(path) else {
        return -1;
    };
    // SAFETY: `c` is a valid C string; the mode is read only with O_CREAT.
    unsafe { libc::open(c.as_ptr(), flags, 0o600) }
}

pub fn close(fd: i32) {
    if fd >= 0 {
        // SAFETY: closing an fd we own.
        unsafe { libc::close(fd) };
    }
}

/// A pipe of (at least) `size` bytes: read end, write end, capacity.
pub fn pipe(size: usize) -> Option<(i32, i32, usize)> {
    let mut p = [0i32; 2];
    // SAFETY: `p` has room for two fds.
    if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
        return None;
    }
    match set_pipe_size(p[1], size) {
        Some(cap) => Some((p[0], p[1], cap)),
        None => {
            close(p[0]);
            close(p[1]);
            None
        }
    }
}

/// F_SETPIPE_SZ: the capacity the kernel gave (a power of two of pages).
pub fn set_pipe_size(fd: i32, size: usize) -> Option<usize> {
    // SAFETY: plain fcntl on our own pipe.
    let r = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size as i32) };
    (r > 0).then_some(r as usize)
}

/// Bytes queued in a pipe (FIONREAD).
pub fn pipe_bytes(rd: i32) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    let r = unsafe { libc::ioctl(rd, libc::FIONREAD, &mut n) };
    if r < 0 {
        0
    } else {
        n as usize
    }
}

pub fn read(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: reading into our own buffer of `buf.len()` bytes.
    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) }
}

pub fn pread(fd: i32, buf: &mut [u8], off: u64) -> isize {
    // SAFETY: reading into our own buffer of `buf.len()` bytes.
    unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), off as i64) }
}

pub fn lseek(fd: i32, off: i64, whence: i32) -> i64 {
    // SAFETY: plain lseek on our fd.
    unsafe { libc::lseek(fd, off, whence) }
}

/// splice(fd, off_in, pipe, NULL, len, flags); `off` is advanced by the
/// kernel when given.
pub fn splice(fd: i32, off: Option<&mut i64>, wr: i32, len: usize, flags: u32) -> isize {
    let offp = off.map_or(std::ptr::null_mut(), |o| o as *mut i64);
    // SAFETY: splice from our fd into our pipe, `offp` NULL or valid.
    unsafe { libc::splice(fd, offp, wr, std::ptr::null_mut(), len, flags) }
}

pub fn sendfile(out: i32, fd: i32, off: Option<&mut i64>, len: usize) -> isize {
    let offp = off.map_or(std::ptr::null_mut(), |o| o as *mut i64);
    // SAFETY: sendfile between our fds, `offp` NULL or valid.
    unsafe { libc::sendfile(out, fd, offp, len) }
}

pub fn tee(rd: i32, wr: i32, len: usize) -> isize {
    // SAFETY: tee between our own pipes.
    unsafe { libc::tee(rd, wr, len, libc::SPLICE_F_NONBLOCK) }
}

/// Reads exactly `n` bytes from a pipe that holds at least that many
/// (checked first with FIONREAD, so a short pipe is an error, not a hang).
pub fn drain(rd: i32, n: usize) -> Result<Vec<u8>, String> {
    let queued = pipe_bytes(rd);
    if queued < n {
        return Err(format!("pipe holds {queued} bytes, {n} expected"));
    }
    let mut v = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let r = read(rd, &mut v[got..]);
        if r <= 0 {
            return Err(format!(
                "pipe read after {got} of {n} bytes: {r} (errno {})",
                errno()
            ));
        }
        got += r as usize;
    }
    Ok(v)
}

/// flock(LOCK_EX) / flock(LOCK_UN).
pub fn lock(fd: i32, exclusive: bool) -> bool {
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_UN
    };
    // SAFETY: flock on our own fd.
    unsafe { libc::flock(fd, op) == 0 }
}

pub fn write_all(fd: i32, mut b: &[u8]) {
    while !b.is_empty() {
        // SAFETY: writing from our own buffer.
        let r = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if r <= 0 {
            return;
        }
        b = &b[r as usize..];
    }
}

pub fn now_seed() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is valid.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as u64).wrapping_mul(1_000_000_007) ^ t.tv_nsec as u64 | 1
}
