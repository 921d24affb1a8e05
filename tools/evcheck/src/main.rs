// SPDX-License-Identifier: GPL-2.0
//! evcheck: seqsplice's live-events source (`events`, `events_copy`,
//! `events_enable`, `events_buffer_size_kb`) checked against ftrace, in
//! the guest.
//!
//! ```text
//! evcheck pingpong N                 N round trips of one byte between two processes
//! evcheck compare FTRACE EVENTS [--comm C] [--min N]
//!                                    EVENTS must be FTRACE's capture (see compare.rs)
//! evcheck run --rounds N [--dir D] [--kb K]
//!                                    ftrace and seqsplice capture pingpong N; compare
//! evcheck write [-n] FILE VALUE      write VALUE and a newline (-n: without) in one
//!                                    write(2); on failure print the errno's name, exit 1
//! ```
//!
//! Exit status 0 on success or pass, 1 on failure, 2 on bad usage.

mod capture;
mod compare;
mod event;
mod pingpong;
mod run;
mod sys;

use std::process::exit;

const USAGE: &str = "usage: evcheck pingpong N
       evcheck compare FTRACE_TEXT EVENTS_TEXT [--comm C] [--min N]
       evcheck run --rounds N [--dir /sys/kernel/seqsplice] [--kb K]
       evcheck write [-n] FILE VALUE";

fn usage() -> ! {
    eprintln!("{USAGE}");
    exit(2)
}

fn number<T: std::str::FromStr>(s: &str) -> T {
    s.parse().unwrap_or_else(|_| usage())
}

/// `--name value` pairs after the positional arguments.
fn options(rest: &[String], known: &[&str]) -> Vec<(String, String)> {
    if !rest.len().is_multiple_of(2) {
        usage()
    }
    rest.chunks(2)
        .map(|p| {
            if !known.contains(&p[0].as_str()) {
                usage()
            }
            (p[0].clone(), p[1].clone())
        })
        .collect()
}

fn cmd_pingpong(args: &[String]) -> i32 {
    let [n] = args else { usage() };
    match pingpong::pingpong(number(n)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("evcheck pingpong: {e}");
            1
        }
    }
}

fn cmd_compare(args: &[String]) -> i32 {
    if args.len() < 2 {
        usage()
    }
    let mut opts = compare::Options {
        comm: "evcheck".to_string(),
        min: 1,
    };
    for (k, v) in options(&args[2..], &["--comm", "--min"]) {
        match k.as_str() {
            "--comm" => opts.comm = v,
            _ => opts.min = number(&v),
        }
    }
    let mut texts = Vec::new();
    for path in &args[..2] {
        match sys::read_text(path) {
            Ok(t) => texts.push(t),
            Err(e) => {
                println!("evcheck: FAIL compare: {e}");
                return 1;
            }
        }
    }
    let r = compare::compare(&texts[0], &texts[1], &opts);
    for l in r.lines() {
        println!("# {l}");
    }
    if r.passed() {
        println!(
            "evcheck: PASS compare: {} seqsplice events are ftrace's on {} cpus",
            r.seqsplice_events,
            r.cpus.len()
        );
        0
    } else {
        println!("evcheck: FAIL compare: {} problems", r.failures.len());
        1
    }
}

fn cmd_run(args: &[String]) -> i32 {
    let mut a = run::RunArgs {
        rounds: 0,
        dir: "/sys/kernel/seqsplice".to_string(),
        kb: 8192,
    };
    for (k, v) in options(args, &["--rounds", "--dir", "--kb"]) {
        match k.as_str() {
            "--rounds" => a.rounds = number(&v),
            "--dir" => a.dir = v,
            _ => a.kb = number(&v),
        }
    }
    if a.rounds == 0 {
        usage()
    }
    i32::from(!run::run(&a))
}

fn cmd_write(args: &[String]) -> i32 {
    let (newline, args) = match args {
        [flag, rest @ ..] if flag == "-n" => (false, rest),
        _ => (true, args),
    };
    let [file, value] = args else { usage() };
    let mut bytes = value.as_bytes().to_vec();
    if newline {
        bytes.push(b'\n');
    }
    match sys::write_once(file, &bytes) {
        Ok(()) => 0,
        Err(e) => {
            println!("{}", sys::errno_name(e.errno));
            eprintln!("evcheck write: {e}");
            1
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        usage()
    };
    exit(match cmd.as_str() {
        "pingpong" => cmd_pingpong(rest),
        "compare" => cmd_compare(rest),
        "run" => cmd_run(rest),
        "write" => cmd_write(rest),
        _ => usage(),
    })
}
