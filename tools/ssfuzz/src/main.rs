//! Op-sequence fuzzer for seqsplice: random sequences of read, pread,
//! lseek, splice (random length, offset, pipe size), sendfile, tee, pipes
//! left undrained, and close/reopen with new knobs, on `trace` and
//! `trace_copy` side by side. Every byte any call returns is checked against
//! the documented record stream at the offset that call used, and both
//! files must agree on every error.
//!
//! `ssfuzz [--seed N] [--ops N] [--dir D]`: prints the seed first, and on a
//! failure the op number and the command line that replays it.

use std::collections::VecDeque;
use std::ffi::CString;
use std::fmt;
use std::process::exit;

const HEADER_LEN: usize = 83;

/// The record stream of the README, computed independently of the module.
#[derive(Clone, Copy, Debug)]
struct Stream {
    count: u64,
    width: usize,
    /// Raw mode: record `i` is printf record `i % raw_period`.
    raw: bool,
}

impl Stream {
    fn len(&self) -> u64 {
        self.count * self.width as u64
    }

    fn record(&self, i: u64, out: &mut Vec<u8>) {
        let i = if self.raw {
            i % (65536 / self.width as u64).max(1)
        } else {
            i
        };
        let t = i * 1237;
        let h = format!(
            "{:>16}-{:<7} [{:03}] d..1. {:>5}.{:06}: seqsplice_event: seq={:010} ",
            "seqsplice",
            1000 + i % 9000,
            i % 4,
            t / 1_000_000,
            t % 1_000_000,
            i
        );
        debug_assert_eq!(h.len(), HEADER_LEN);
        out.extend_from_slice(h.as_bytes());
        for j in 0..self.width - HEADER_LEN - 1 {
            out.push(b'a' + ((i + j as u64) % 26) as u8);
        }
        out.push(b'\n');
    }

    /// Bytes `[off, off + n)`, clipped at the end of the stream.
    fn bytes(&self, off: u64, n: usize) -> Vec<u8> {
        let end = (off + n as u64).min(self.len());
        let mut v = Vec::with_capacity(n);
        if off >= end {
            return v;
        }
        let w = self.width as u64;
        let mut rec = Vec::with_capacity(self.width);
        let mut i = off / w;
        while i * w < end {
            rec.clear();
            self.record(i, &mut rec);
            let s = if i * w < off {
                (off - i * w) as usize
            } else {
                0
            };
            let e = ((end - i * w).min(w)) as usize;
            v.extend_from_slice(&rec[s..e]);
            i += 1;
        }
        v
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(Failure(format!($($arg)*)));
        }
    };
}

/// Bytes queued in a pipe, and the pipe.
struct Pending {
    rd: i32,
    wr: i32,
    expect: Vec<u8>,
}

struct Side {
    name: &'static str,
    fd: i32,
    /// Where the file position should be.
    pos: u64,
    pending: VecDeque<Pending>,
}

struct Fuzz {
    dir: String,
    rng: Rng,
    stream: Stream,
    sides: [Side; 2],
    ops: u64,
    bytes: u64,
}

fn sys_write(path: &str, v: &str) {
    let _ = std::fs::write(path, v);
}

fn open_ro(path: &str) -> i32 {
    let c = CString::new(path).unwrap_or_default();
    // SAFETY: `c` is a valid C string.
    unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) }
}

fn new_pipe(size: usize) -> Result<(i32, i32), Failure> {
    let mut p = [0i32; 2];
    // SAFETY: `p` has room for two fds.
    let r = unsafe { libc::pipe(p.as_mut_ptr()) };
    check!(r == 0, "pipe: errno {}", errno());
    // SAFETY: plain fcntl on our own pipe.
    unsafe { libc::fcntl(p[0], libc::F_SETPIPE_SZ, size as i32) };
    Ok((p[0], p[1]))
}

fn close(fd: i32) {
    // SAFETY: closing an fd we own.
    unsafe { libc::close(fd) };
}

/// Reads everything a pipe holds (write end must be closed or the amount
/// known) into a vector.
fn drain(rd: i32, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    let mut got = 0;
    while got < n {
        // SAFETY: reading into our own buffer.
        let r = unsafe { libc::read(rd, v[got..].as_mut_ptr().cast(), n - got) };
        if r <= 0 {
            break;
        }
        got += r as usize;
    }
    v.truncate(got);
    v
}

impl Fuzz {
    fn reopen(&mut self) -> Result<(), Failure> {
        for s in &mut self.sides {
            if s.fd >= 0 {
                close(s.fd);
            }
        }
        // New knobs for the new opens, sometimes.
        if self.rng.below(4) == 0 {
            let count = self.rng.pick(&[1u64, 2, 7, 40, 300, 1000, 3000]);
            let width = self.rng.pick(&[84usize, 100, 101, 4095, 4096, 4097, 9000]);
            let count = count.min(4_000_000 / width as u64).max(1);
            sys_write(&format!("{}/record_count", self.dir), &count.to_string());
            sys_write(&format!("{}/record_width", self.dir), &width.to_string());
            let mode = if self.rng.below(2) == 0 {
                "raw"
            } else {
                "printf"
            };
            sys_write(&format!("{}/record_mode", self.dir), mode);
            let kb = self.rng.pick(&[4usize, 8, 64, 1024]);
            sys_write(&format!("{}/buffer_size_kb", self.dir), &kb.to_string());
            let map = if self.rng.below(2) == 0 {
                "vmap"
            } else {
                "vm_map_ram"
            };
            sys_write(&format!("{}/map_mode", self.dir), map);
            let ckb = self.rng.pick(&[4usize, 8, 64]);
            sys_write(
                &format!("{}/copy_buffer_size_kb", self.dir),
                &ckb.to_string(),
            );
            self.stream = Stream {
                count,
                width,
                raw: mode == "raw",
            };
        }
        for s in &mut self.sides {
            s.fd = open_ro(&format!("{}/{}", self.dir, s.name));
            check!(s.fd >= 0, "open {}: errno {}", s.name, errno());
            s.pos = 0;
        }
        Ok(())
    }

    fn random_len(&mut self) -> usize {
        match self.rng.below(6) {
            0 => 1 + self.rng.below(3) as usize,
            1 => self.rng.pick(&[4095usize, 4096, 4097, 8191, 8193]),
            2 => self.rng.below(200) as usize,
            3 => self.rng.below(70_000) as usize,
            4 => self.rng.below(300_000) as usize,
            _ => self.stream.width * (1 + self.rng.below(5) as usize),
        }
    }

    fn random_off(&mut self) -> u64 {
        let len = self.stream.len();
        match self.rng.below(5) {
            0 => 0,
            1 => len,
            2 => len + self.rng.below(10_000),
            _ => self.rng.below(len + 1),
        }
    }

    fn verify(
        &self,
        what: &str,
        side: usize,
        off: u64,
        got: &[u8],
        asked: usize,
    ) -> Result<(), Failure> {
        let want = self.stream.bytes(off, got.len());
        check!(
            want.len() == got.len() && want == got,
            "{} on {}: {} bytes at offset {} differ from the record stream (stream {:?})",
            what,
            self.sides[side].name,
            got.len(),
            off,
            self.stream
        );
        if got.is_empty() && asked > 0 {
            check!(
                off >= self.stream.len(),
                "{} on {}: returned 0 at offset {} before the end {}",
                what,
                self.sides[side].name,
                off,
                self.stream.len()
            );
        }
        Ok(())
    }

    fn step(&mut self) -> Result<(), Failure> {
        let op = self.rng.below(100);
        let side = self.rng.below(2) as usize;
        match op {
            0..=19 => self.op_read(side),
            20..=29 => self.op_pread(side),
            30..=39 => self.op_lseek(side),
            40..=69 => self.op_splice(side),
            70..=79 => self.op_sendfile(side),
            80..=87 => self.op_drain_one(),
            88..=92 => self.op_tee(side),
            _ => self.reopen(),
        }
    }

    fn op_read(&mut self, side: usize) -> Result<(), Failure> {
        let n = self.random_len();
        let mut buf = vec![0u8; n];
        let s = &self.sides[side];
        // SAFETY: reading into our own buffer of `n` bytes.
        let r = unsafe { libc::read(s.fd, buf.as_mut_ptr().cast(), n) };
        check!(r >= 0, "read({}) on {}: errno {}", n, s.name, errno());
        buf.truncate(r as usize);
        let pos = s.pos;
        self.verify("read", side, pos, &buf, n)?;
        self.sides[side].pos += r as u64;
        self.bytes += r as u64;
        Ok(())
    }

    fn op_pread(&mut self, side: usize) -> Result<(), Failure> {
        let n = self.random_len();
        let off = self.random_off();
        let mut buf = vec![0u8; n];
        let s = &self.sides[side];
        // SAFETY: reading into our own buffer of `n` bytes.
        let r = unsafe { libc::pread(s.fd, buf.as_mut_ptr().cast(), n, off as i64) };
        check!(
            r >= 0,
            "pread({}, {}) on {}: errno {}",
            n,
            off,
            s.name,
            errno()
        );
        buf.truncate(r as usize);
        self.verify("pread", side, off, &buf, n)?;
        // seq_file's pread moves the iterator, not f_pos: the next read at
        // f_pos regenerates. Nothing to track.
        Ok(())
    }

    /// seq_lseek's rules: SEEK_SET and SEEK_CUR (relative to f_pos), any
    /// non-negative offset (past the end too), EINVAL for the rest.
    fn op_lseek(&mut self, side: usize) -> Result<(), Failure> {
        let whence = self.rng.pick(&[
            libc::SEEK_SET,
            libc::SEEK_SET,
            libc::SEEK_CUR,
            libc::SEEK_END,
        ]);
        let off = match whence {
            libc::SEEK_CUR => self.rng.below(20_000) as i64 - 10_000,
            _ => self.random_off() as i64,
        };
        let s = &mut self.sides[side];
        // SAFETY: plain lseek on our fd.
        let r = unsafe { libc::lseek(s.fd, off, whence) };
        let e = if r < 0 { errno() } else { 0 };
        let expect = match whence {
            libc::SEEK_SET => off,
            libc::SEEK_CUR => s.pos as i64 + off,
            _ => -1,
        };
        if expect < 0 {
            check!(
                r == -1 && e == libc::EINVAL,
                "lseek({}, {}) on {}: {} errno {}, want EINVAL",
                off,
                whence,
                s.name,
                r,
                e
            );
        } else {
            check!(
                r == expect,
                "lseek({}, {}) on {}: {} (errno {}), want {}",
                off,
                whence,
                s.name,
                r,
                e,
                expect
            );
            s.pos = r as u64;
        }
        Ok(())
    }

    fn op_splice(&mut self, side: usize) -> Result<(), Failure> {
        self.bound_pending(side)?;
        let slots = self.rng.pick(&[1usize, 2, 3, 16, 64, 256]);
        let (rd, wr) = new_pipe(slots * 4096)?;
        let len = self.random_len();
        let with_off = self.rng.below(4) == 0;
        let mut off = self.random_off() as i64;
        let s = &self.sides[side];
        let start = if with_off { off as u64 } else { s.pos };
        let offp: *mut i64 = if with_off {
            &mut off
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: splice from our fd into our pipe, `offp` NULL or valid.
        let r = unsafe {
            libc::splice(
                s.fd,
                offp,
                wr,
                std::ptr::null_mut(),
                len,
                libc::SPLICE_F_NONBLOCK,
            )
        };
        if len == 0 {
            check!(r == 0, "splice len 0 on {}: {}", s.name, r);
        }
        check!(
            r >= 0,
            "splice({}, off {:?}) on {} into {} slots: errno {}",
            len,
            with_off.then_some(start),
            s.name,
            slots,
            errno()
        );
        let r = r as usize;
        check!(r <= len, "splice returned {} > {}", r, len);
        if with_off {
            check!(
                off as u64 == start + r as u64,
                "splice off_in not advanced: {} + {} != {}",
                start,
                r,
                off
            );
        } else {
            self.sides[side].pos += r as u64;
        }
        let expect = self.stream.bytes(start, r);
        check!(
            expect.len() == r,
            "splice on {} returned {} bytes past the end (offset {})",
            self.sides[side].name,
            r,
            start
        );
        if r == 0 && len > 0 {
            check!(
                start >= self.stream.len(),
                "splice on {}: 0 at offset {} before the end",
                self.sides[side].name,
                start
            );
        }
        self.bytes += r as u64;
        // Leave it in the pipe for later, sometimes, so regeneration,
        // reopen and other splices happen while the pages sit there.
        self.sides[side]
            .pending
            .push_back(Pending { rd, wr, expect });
        if self.rng.below(3) != 0 {
            self.drain_oldest(side)?;
        }
        Ok(())
    }

    fn drain_oldest(&mut self, side: usize) -> Result<(), Failure> {
        if let Some(p) = self.sides[side].pending.pop_front() {
            let got = drain(p.rd, p.expect.len());
            close(p.rd);
            close(p.wr);
            check!(got == p.expect, "pipe of {} changed after {} ops: {} bytes read, {} expected, first difference at {:?}",
                self.sides[side].name, self.ops, got.len(), p.expect.len(),
                got.iter().zip(&p.expect).position(|(a, b)| a != b));
        }
        Ok(())
    }

    /// At most 16 undrained pipes per side (file descriptors, memory).
    fn bound_pending(&mut self, side: usize) -> Result<(), Failure> {
        while self.sides[side].pending.len() >= 16 {
            self.drain_oldest(side)?;
        }
        Ok(())
    }

    fn op_drain_one(&mut self) -> Result<(), Failure> {
        let side = self.rng.below(2) as usize;
        self.drain_oldest(side)
    }

    fn op_tee(&mut self, side: usize) -> Result<(), Failure> {
        self.bound_pending(side)?;
        let Some(p) = self.sides[side].pending.back() else {
            return Ok(());
        };
        let (rd2, wr2) = new_pipe(256 * 4096)?;
        // SAFETY: tee between our own pipes.
        let r = unsafe { libc::tee(p.rd, wr2, p.expect.len().max(1), libc::SPLICE_F_NONBLOCK) };
        if p.expect.is_empty() {
            close(rd2);
            close(wr2);
            return Ok(());
        }
        check!(r >= 0, "tee: errno {}", errno());
        let expect = p.expect[..r as usize].to_vec();
        self.sides[side].pending.push_back(Pending {
            rd: rd2,
            wr: wr2,
            expect,
        });
        Ok(())
    }

    fn op_sendfile(&mut self, side: usize) -> Result<(), Failure> {
        // sendfile into a pipe (splice_read straight into it,
        // fs/read_write.c:1394) or through the private pipe into a file.
        let len = self.random_len();
        let to_pipe = self.rng.below(2) == 0;
        let with_off = self.rng.below(3) == 0;
        let mut off = self.random_off() as i64;
        let s = &self.sides[side];
        let start = if with_off { off as u64 } else { s.pos };
        let offp: *mut i64 = if with_off {
            &mut off
        } else {
            std::ptr::null_mut()
        };
        let got;
        let r;
        if to_pipe {
            let (rd, wr) = new_pipe(256 * 4096)?;
            let len = len.min(256 * 4096);
            // SAFETY: sendfile from our fd into our pipe.
            r = unsafe { libc::sendfile(wr, s.fd, offp, len) };
            check!(
                r >= 0,
                "sendfile({}) to pipe on {}: errno {}",
                len,
                s.name,
                errno()
            );
            got = drain(rd, r as usize);
            close(rd);
            close(wr);
        } else {
            let path = CString::new("/tmp/ssfuzz.out").unwrap_or_default();
            // SAFETY: creating a scratch file.
            let out = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC,
                    0o600,
                )
            };
            check!(out >= 0, "open scratch: errno {}", errno());
            // SAFETY: sendfile from our fd into our file.
            r = unsafe { libc::sendfile(out, s.fd, offp, len) };
            check!(
                r >= 0,
                "sendfile({}) to file on {}: errno {}",
                len,
                s.name,
                errno()
            );
            let mut v = vec![0u8; r as usize];
            // SAFETY: reading back our own file.
            let n = unsafe { libc::pread(out, v.as_mut_ptr().cast(), r as usize, 0) };
            v.truncate(n.max(0) as usize);
            close(out);
            got = v;
        }
        check!(
            got.len() == r as usize,
            "sendfile on {}: {} returned, {} arrived",
            self.sides[side].name,
            r,
            got.len()
        );
        self.verify("sendfile", side, start, &got, len)?;
        if with_off {
            check!(
                off as u64 == start + r as u64,
                "sendfile offset not advanced"
            );
        } else {
            self.sides[side].pos += r as u64;
        }
        self.bytes += r as u64;
        Ok(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut seed: u64 = 0;
    let mut ops: u64 = 100_000;
    let mut dir = String::from("/sys/kernel/seqsplice");
    let mut i = 1;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--seed" => seed = v.parse().unwrap_or(0),
            "--ops" => ops = v.parse().unwrap_or(ops),
            "--dir" => dir = v,
            _ => {
                eprintln!("usage: ssfuzz [--seed N] [--ops N] [--dir D]");
                exit(2);
            }
        }
        i += 2;
    }
    if seed == 0 {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is valid.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
        seed = (t.tv_sec as u64).wrapping_mul(1_000_000_007) ^ t.tv_nsec as u64 | 1;
    }
    println!("ssfuzz: seed {seed}, {ops} ops (replay: ssfuzz --seed {seed} --ops {ops})");
    // SAFETY: ignoring SIGPIPE so a closed pipe is an error, not death.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let knob = |n: &str| {
        std::fs::read_to_string(format!("{dir}/{n}"))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let saved: Vec<(String, String)> = [
        "record_count",
        "record_width",
        "record_mode",
        "map_mode",
        "buffer_size_kb",
        "copy_buffer_size_kb",
    ]
    .iter()
    .map(|n| (n.to_string(), knob(n)))
    .collect();
    let stream = Stream {
        count: knob("record_count").parse().unwrap_or(0),
        width: knob("record_width").parse().unwrap_or(100),
        raw: knob("record_mode") == "raw",
    };
    let side = |name| Side {
        name,
        fd: -1,
        pos: 0,
        pending: VecDeque::new(),
    };
    let mut f = Fuzz {
        dir: dir.clone(),
        rng: Rng(seed),
        stream,
        sides: [side("trace"), side("trace_copy")],
        ops: 0,
        bytes: 0,
    };
    let mut result = f.reopen();
    while result.is_ok() && f.ops < ops {
        f.ops += 1;
        result = f.step();
    }
    if result.is_ok() {
        for s in 0..2 {
            while result.is_ok() && !f.sides[s].pending.is_empty() {
                result = f.drain_oldest(s);
            }
        }
    }
    for s in &f.sides {
        close(s.fd);
    }
    for (n, v) in &saved {
        sys_write(&format!("{dir}/{n}"), v);
    }
    match result {
        Ok(()) => println!(
            "ssfuzz: ok, {} ops, {} bytes checked, seed {}",
            f.ops, f.bytes, seed
        ),
        Err(e) => {
            println!("ssfuzz: FAILED at op {}: {}", f.ops, e);
            println!("ssfuzz: replay with: ssfuzz --seed {seed} --ops {}", f.ops);
            exit(1);
        }
    }
}
