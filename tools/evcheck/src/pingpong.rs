// SPDX-License-Identifier: GPL-2.0
//! The workload: two processes bouncing one byte over two pipes, so that
//! every round trip makes each side sleep and be woken (or be preempted):
//! sched_switch and sched_wakeup events naming the workload's comm, which
//! fork keeps (no exec).

use crate::sys::{self, Fd};

/// Forks a child and does `rounds` round trips with it: the parent writes
/// a byte, the child reads it and writes it back, the parent checks it.
/// Returns once the child has exited with status 0. The child exits 1
/// without a message when the parent goes away (killing the parent is how
/// a long background run is stopped), and dies with it (PDEATHSIG).
pub fn pingpong(rounds: u64) -> Result<(), String> {
    let (down_r, down_w) = sys::pipe().map_err(|e| e.to_string())?;
    let (up_r, up_w) = sys::pipe().map_err(|e| e.to_string())?;
    // EPIPE instead of a silent death by SIGPIPE if the other side dies.
    // SAFETY: setting a signal disposition to SIG_IGN.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let parent = sys::getpid();
    let child = sys::fork().map_err(|e| e.to_string())?;
    if child == 0 {
        drop((down_w, up_r));
        let ok = sys::die_with_parent().is_ok() && sys::getppid() == parent;
        let code = if ok && echo(&down_r, &up_w, rounds) {
            0
        } else {
            1
        };
        sys::exit_now(code);
    }
    drop((down_r, up_w));
    eprintln!("# evcheck pingpong: parent {parent} child {child} rounds {rounds}");
    let bounced = serve(&down_w, &up_r, rounds);
    drop((down_w, up_r));
    let waited = sys::wait_ok(child).map_err(|e| format!("pingpong child: {e}"));
    bounced.and(waited)
}

/// The child's side: read a byte, write it back, `rounds` times.
fn echo(from: &Fd, to: &Fd, rounds: u64) -> bool {
    for _ in 0..rounds {
        match sys::read_byte(from) {
            Ok(Some(b)) if sys::write_byte(to, b).is_ok() => {}
            _ => return false,
        }
    }
    true
}

/// The parent's side: write a byte, read it back, check it.
fn serve(to: &Fd, from: &Fd, rounds: u64) -> Result<(), String> {
    for i in 0..rounds {
        let b = (i % 251) as u8;
        sys::write_byte(to, b).map_err(|e| format!("pingpong round {i}: {e}"))?;
        match sys::read_byte(from) {
            Ok(Some(got)) if got == b => {}
            Ok(Some(got)) => return Err(format!("pingpong round {i}: sent {b}, got {got} back")),
            Ok(None) => return Err(format!("pingpong round {i}: the child closed its pipe")),
            Err(e) => return Err(format!("pingpong round {i}: {e}")),
        }
    }
    Ok(())
}
