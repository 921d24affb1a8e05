// SPDX-License-Identifier: GPL-2.0
//! Thin wrappers of the system calls evcheck makes. Every error says what
//! failed and carries the errno, so that `evcheck write` can print its name.

use std::ffi::CString;
use std::os::raw::c_int;

/// A failed system call: what was attempted and the errno it gave.
#[derive(Debug)]
pub struct SysError {
    pub what: String,
    pub errno: i32,
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, errno_name(self.errno))
    }
}

pub type Result<T> = std::result::Result<T, SysError>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn fail<T>(what: impl Into<String>) -> Result<T> {
    Err(SysError {
        what: what.into(),
        errno: errno(),
    })
}

/// The symbolic name of an errno value (`E<n>` for the rare ones).
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ETIMEDOUT => "ETIMEDOUT",
        // The kernel's internal ENOTSUPP, which leaks to user space at times.
        524 => "ENOTSUPP",
        _ => return format!("E{e}"),
    };
    name.to_string()
}

/// An owned file descriptor, closed on drop.
#[derive(Debug)]
pub struct Fd(pub c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        if self.0 >= 0 {
            // SAFETY: an owned descriptor, closed once.
            unsafe { libc::close(self.0) };
        }
    }
}

pub fn open(path: &str, flags: c_int) -> Result<Fd> {
    let Ok(c) = CString::new(path) else {
        return Err(SysError {
            what: format!("open {path}"),
            errno: libc::EINVAL,
        });
    };
    // SAFETY: a valid C string; the mode is used only with O_CREAT.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0o644) };
    if fd < 0 {
        return fail(format!("open {path}"));
    }
    Ok(Fd(fd))
}

/// Writes `bytes` to `path` in one write(2), as a shell's `echo` does: the
/// whole value must be taken at once (a short write is EIO here).
pub fn write_once(path: &str, bytes: &[u8]) -> Result<()> {
    let fd = open(path, libc::O_WRONLY)?;
    let shown = String::from_utf8_lossy(bytes).escape_debug().to_string();
    // SAFETY: writing from our own buffer of `bytes.len()` bytes.
    let r = unsafe { libc::write(fd.0, bytes.as_ptr().cast(), bytes.len()) };
    if r < 0 {
        return fail(format!("write \"{shown}\" to {path}"));
    }
    if r as usize != bytes.len() {
        return Err(SysError {
            what: format!("write \"{shown}\" to {path}: short write of {r} bytes"),
            errno: libc::EIO,
        });
    }
    Ok(())
}

/// Writes a knob the way `echo VALUE > PATH` does: the value and a newline.
pub fn knob(path: &str, value: &str) -> Result<()> {
    write_once(path, format!("{value}\n").as_bytes())
}

/// Opens `path` with O_WRONLY|O_TRUNC and closes it: how ftrace's `trace`
/// is cleared.
pub fn truncate(path: &str) -> Result<()> {
    open(path, libc::O_WRONLY | libc::O_TRUNC).map(drop)
}

/// The whole contents of a file, read until end of file.
pub fn read_all(path: &str) -> Result<Vec<u8>> {
    let fd = open(path, libc::O_RDONLY)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: reading into our own buffer of `buf.len()` bytes.
        let r = unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return fail(format!("read {path} after {} bytes", out.len()));
        }
        if r == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..r as usize]);
    }
}

/// A text file's contents (lossy for invalid UTF-8, which no file we read
/// should hold; the comparison then fails on the replacement characters).
pub fn read_text(path: &str) -> Result<String> {
    read_all(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// mount("nodev", dir, "tracefs").
pub fn mount_tracefs(dir: &str) -> Result<()> {
    let Ok(d) = CString::new(dir) else {
        return Err(SysError {
            what: format!("mount tracefs on {dir}"),
            errno: libc::EINVAL,
        });
    };
    // SAFETY: valid C strings, no data.
    let r = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            d.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return fail(format!("mount tracefs on {dir}"));
    }
    Ok(())
}

/// Sets the calling task's comm (PR_SET_NAME; truncated to 15 bytes).
pub fn set_comm(name: &str) -> Result<()> {
    let c = CString::new(name).expect("comm without NUL");
    // SAFETY: PR_SET_NAME reads a C string of up to 16 bytes.
    if unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr()) } != 0 {
        return fail(format!("prctl(PR_SET_NAME, {name})"));
    }
    Ok(())
}

/// Asks for SIGKILL when the parent exits (PR_SET_PDEATHSIG).
pub fn die_with_parent() -> Result<()> {
    // SAFETY: plain prctl with an integer argument.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
        return fail("prctl(PR_SET_PDEATHSIG)");
    }
    Ok(())
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getpid() }
}

pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    unsafe { libc::getppid() }
}

/// fork(2): `Ok(0)` in the child, the child's pid in the parent.
pub fn fork() -> Result<i32> {
    // SAFETY: evcheck is single-threaded, so the child may run Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return fail("fork");
    }
    Ok(pid)
}

/// Ends the calling process at once (no destructors, no atexit: what a
/// forked child must do).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns.
    unsafe { libc::_exit(code) }
}

/// Waits for `pid` and describes how it ended: `Ok(())` for exit status 0.
pub fn wait_ok(pid: i32) -> std::result::Result<(), String> {
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is valid for the kernel to write.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && errno() == libc::EINTR {
            continue;
        }
        return Err(format!("waitpid {pid}: {}", errno_name(errno())));
    }
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => Ok(()),
            c => Err(format!("process {pid} exited with status {c}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Err(format!(
            "process {pid} killed by signal {}",
            libc::WTERMSIG(status)
        ))
    } else {
        Err(format!("process {pid} ended with wait status {status:#x}"))
    }
}

/// A pipe: (read end, write end).
pub fn pipe() -> Result<(Fd, Fd)> {
    let mut p = [0 as c_int; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return fail("pipe2");
    }
    Ok((Fd(p[0]), Fd(p[1])))
}

/// Reads one byte: `Ok(None)` at end of file.
pub fn read_byte(fd: &Fd) -> Result<Option<u8>> {
    let mut b = 0u8;
    loop {
        // SAFETY: reading one byte into `b`.
        let r = unsafe { libc::read(fd.0, (&mut b as *mut u8).cast(), 1) };
        match r {
            1 => return Ok(Some(b)),
            0 => return Ok(None),
            _ if errno() == libc::EINTR => continue,
            _ => return fail("read from pipe"),
        }
    }
}

pub fn write_byte(fd: &Fd, b: u8) -> Result<()> {
    loop {
        // SAFETY: writing one byte from `b`.
        let r = unsafe { libc::write(fd.0, (&b as *const u8).cast(), 1) };
        match r {
            1 => return Ok(()),
            _ if r < 0 && errno() == libc::EINTR => continue,
            _ => return fail("write to pipe"),
        }
    }
}
