#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the serial logs of `make bench` into bench/results/<date>.md, .json
and .png.

  bench-report.py [--icount LOG1 LOG2] [--wall LOG] [--kvm LOG] [--hardware LOG]
                  --out PREFIX [--meta key=value ...]
  bench-report.py --json OLD.json --out PREFIX [--meta key=value ...]

Each log holds `BENCH {json}` lines printed by spbench: one `env` line per
boot and one `run` line per timed run.  --hardware takes the lines of
`make bench NATIVE=1` (scripts/native-bench.sh: the running kernel, no
emulator); its run lines may carry "perf": {"cycles": N, "instructions": N}
(perf stat over the timed segment), and its platform comes from --meta
(kernel_release, cpu_model, virt, pmu, perf).  Python 3 stdlib only; the
plot needs gnuplot (skipped with a note when it is missing).
The consumer line (a C module's seq_file, tests/consumer/seqsplice_bench.c,
through seqsplice's API against the stock core on the same table: paths
*.consumer, *.consumercopyeq, *.consumercopy4) gets a table of its own
with its targets, met or missed.

  bench-report.py --consumer LOG

prints that section alone from one serial log, whatever its tag (a quick
sweep's boot: ICOUNT=1 scripts/guest.sh bench with spbench.sweep=quick; the
log is taken for an icount boot).
The mirror line (ftrace's own formatter three ways over the live capture:
ftrace's trace, the module's mirror_copy with an equal seq buffer, and
mirror through the engine: paths splice.null.liveftrace, .livemirrorcopy,
.livemirror) gets a table per view with the batching and zero-copy shares
and its targets;

  bench-report.py --mirror LOG [--mirror-wall LOG]

prints that section alone: LOG an icount boot's serial log, the optional
second one a plain TCG boot's (the wall-clock view), whatever their tags.
Each log may also carry a `skip` line per path the module could not run,
and a `capture` line: the live line's events (spbench capture), whose
runs (mode "live": ftrace's trace, the module's events and events_copy,
each whole) get their own section and stay out of every other table.
--json regenerates a report from the runs and environment an earlier report
saved (its meta too, --meta overriding).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

MIB = 1 << 20
SIZES = [4096, 16384, 65536, 262144, 1048576]

PATH_ORDER = [
    "splice.null.trace", "splice.null.tracevmap", "splice.null.tracevmram", "splice.null.tracedirect",
    "splice.null.traceops",
    "splice.null.copy4",
    "splice.null.copyeq", "splice.piperead.trace", "splice.piperead.copy4", "splice.piperead.copyeq",
    "splice.tcp.trace", "splice.tcp.copy4", "splice.tcp.copyeq",
    "read.trace", "read.copy4", "read.copyeq",
    "sendfile.null.trace", "sendfile.null.copy4", "sendfile.null.copyeq",
    "seek.copy4", "vmsplice.null.user",
    "splice.null.consumer", "splice.null.consumercopyeq", "splice.null.consumercopy4",
    "splice.piperead.consumer", "splice.piperead.consumercopyeq", "splice.piperead.consumercopy4",
    "splice.tcp.consumer", "splice.tcp.consumercopyeq", "splice.tcp.consumercopy4",
    "read.consumer", "read.consumercopyeq", "read.consumercopy4",
    "sendfile.null.consumer", "sendfile.null.consumercopyeq", "sendfile.null.consumercopy4",
    "seek.consumercopy4",
]

PATH_LABEL = {
    "splice.null.trace": "splice → /dev/null, `trace` (gift, map_mode=auto, the default)",
    "splice.null.tracedirect": "splice → /dev/null, `trace` (gift, map_mode=direct: no mapping)",
    "splice.null.tracevmap": "splice → /dev/null, `trace` (gift, map_mode=vmap)",
    "splice.null.tracevmram": "splice → /dev/null, `trace` (gift, map_mode=vm_map_ram)",
    "splice.null.traceops": "splice → /dev/null, `trace_ops` (gift, the records' C seq_operations)",
    "splice.null.copy4": "splice → /dev/null, `trace_copy` 4 KiB seq buffer (stock)",
    "splice.null.copyeq": "splice → /dev/null, `trace_copy` seq buffer = buffer_size_kb",
    "splice.piperead.trace": "splice → pipe → read(), gift",
    "splice.piperead.copy4": "splice → pipe → read(), copy 4 KiB",
    "splice.piperead.copyeq": "splice → pipe → read(), copy equal buffer",
    "splice.tcp.trace": "splice → TCP 127.0.0.1, gift",
    "splice.tcp.copy4": "splice → TCP 127.0.0.1, copy 4 KiB",
    "splice.tcp.copyeq": "splice → TCP 127.0.0.1, copy equal buffer",
    "read.trace": "read(), `trace`",
    "read.copy4": "read(), `trace_copy` 4 KiB",
    "read.copyeq": "read(), `trace_copy` equal buffer",
    "sendfile.null.trace": "sendfile → /dev/null, `trace`",
    "sendfile.null.copy4": "sendfile → /dev/null, `trace_copy` 4 KiB",
    "sendfile.null.copyeq": "sendfile → /dev/null, `trace_copy` equal buffer",
    "seek.copy4": "formatting floor: lseek to EOF on `trace_copy` (traverse, no copy)",
    "vmsplice.null.user": "ceiling: vmsplice(SPLICE_F_GIFT) of user pages → /dev/null",
    "splice.null.consumer": "splice → /dev/null, C seq_file through the API (`/dev/ssbench`, gift)",
    "splice.null.consumercopyeq": "splice → /dev/null, C seq_file, stock core, equal seq buffer",
    "splice.null.consumercopy4": "splice → /dev/null, C seq_file, stock core, one-page seq buffer",
    "seek.consumercopy4": "C seq_file's formatting floor: lseek to EOF through the stock core",
}

# (gift path, stock baseline, equal-buffer baseline) per sink / method.
TRIPLES = [
    ("splice → /dev/null", "splice.null.trace", "splice.null.copy4", "splice.null.copyeq"),
    ("splice → pipe → read()", "splice.piperead.trace", "splice.piperead.copy4", "splice.piperead.copyeq"),
    ("splice → TCP", "splice.tcp.trace", "splice.tcp.copy4", "splice.tcp.copyeq"),
    ("read()", "read.trace", "read.copy4", "read.copyeq"),
    ("sendfile → /dev/null", "sendfile.null.trace", "sendfile.null.copy4", "sendfile.null.copyeq"),
]

EMU = "MiB/s of emulated instruction count"

# The three map modes of the gift splice to /dev/null, side by side.
MAP_MODES = [("vmap", "splice.null.tracevmap"), ("vm_map_ram", "splice.null.tracevmram"),
             ("direct", "splice.null.tracedirect")]

# Sources served by the engine: their pipe buffers are the module's gifts.
GIFT_SOURCES = {"trace", "tracevmap", "tracevmram", "tracedirect", "traceops", "consumer", "livemirror"}

# csd functions spbench counts (tools/spbench/src/counters.rs): the kernel
# TLB flushes, each executed once on every online CPU.
KFLUSH_FULL = "csd.do_flush_tlb_all"
KFLUSH_RANGE = "csd.do_kernel_range_flush"
KFLUSH_CPA = "csd.__cpa_flush_tlb"


def parse_log(path, captures=None, checks=None):
    env, runs, skips = None, [], []
    bad = 0
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            m = re.search(r"BENCH (\{.*\})\s*$", line)
            if not m:
                continue
            try:
                j = json.loads(m.group(1))
            except ValueError:
                bad += 1
                continue
            if j.get("type") == "env":
                env = j
            elif j.get("type") == "run":
                runs.append(j)
            elif j.get("type") == "skip":
                skips.append(j)
            elif j.get("type") == "capture" and captures is not None:
                captures.append(j)
            elif j.get("type") == "livecheck" and checks is not None:
                checks.append(j)
    return env, runs, skips, bad


# The live line (spbench run --mode live): its paths and labels.
LIVE_FTRACE = "splice.null.liveftrace"
LIVE_EVENTS = "splice.null.liveevents"
LIVE_COPY = "splice.null.liveeventscopy"
LIVE_CFG = ("live", 0, 1024)


def is_live(r):
    return r.get("mode") == "live"


def live_target(boots):
    """The text the captures asked for ("64 MiB" unless they say otherwise)."""
    t = sorted({c.get("target_bytes") for b in boots.values() for c in (b.get("captures") or [])
                if c.get("target_bytes")})
    return " / ".join(f"{x / MIB:g} MiB" for x in t) or "64 MiB"


def live_section(boots, live_view, meta, is_icount, unit, live_skips):
    """The "Live events vs ftrace" section and its JSON."""
    names = [n for n in boots if any(is_live(r) for r in boots[n]["runs"]) or boots[n].get("captures")]
    if not names:
        if not live_skips:
            return [], None
        md = ["## Live events vs ftrace", "", "Not run:"]
        md += [f"- {p}: {why}" for p, why in sorted(live_skips.items())]
        return md + [""], {"ratios": {}, "captures": {}, "skipped": live_skips}
    md = ["## Live events vs ftrace", ""]
    md.append("The same sched_switch and sched_wakeup events, recorded at once by ftrace and by the module's "
              "probes (`spbench capture`: a ping-pong of two processes over two pipes, pinned to CPU 0, until "
              f"the module's text holds at least {live_target(boots)}; the module is stopped first, then ftrace, so ftrace's "
              "window holds the module's and a few events more), then spliced whole, once per run, from offset "
              "0 to EOF into /dev/null through a pipe of the splice size, as the other splice paths: "
              "ftrace's own `/sys/kernel/tracing/trace` (its seq_file: `copy_splice_read`, a one-page seq "
              "buffer), the module's `events` (the engine: pages gifted, buffer_size_kb=1024, map_mode=auto) "
              "and `events_copy` (the same bytes through the stock `seq_read_iter` + `copy_splice_read`, one "
              "page). Each run's volume is its file's full size; the timed segment and the `purge` write are "
              "as for every path. Ratios above 1: `events` moved more bytes "
              + ("per emulated second" if is_icount else "per second") + ". events_copy ÷ ftrace compares the "
              "two formatters through the same stock transport.")
    md.append("")
    data = {}
    for name in names:
        v = live_view(name)
        sizes = v.sizes(LIVE_CFG)
        if not sizes:
            continue
        wall = not name.startswith("icount")
        rows, d = [], []
        for sz in sizes:
            f, e, c = (v.speed(*LIVE_CFG, sz, p) for p in (LIVE_FTRACE, LIVE_EVENTS, LIVE_COPY))

            def cell(p, x):
                if x is None or not wall:
                    return f_speed(x)
                sp = v.spread(*LIVE_CFG, sz, p)
                return f"{f_speed(x)} ({f_speed(sp[0])}–{f_speed(sp[1])})"
            rows.append([ksize(sz), cell(LIVE_FTRACE, f), cell(LIVE_EVENTS, e), cell(LIVE_COPY, c),
                         f"**{f_ratio(e, f)}**", f"**{f_ratio(e, c)}**", f_ratio(c, f)])
            d.append({"size": sz, "ftrace": f, "events": e, "events_copy": c,
                      "events_over_ftrace": e / f if e and f else None,
                      "events_over_events_copy": e / c if e and c else None,
                      "events_copy_over_ftrace": c / f if c and f else None})
        data[name] = d
        what = {"icount1": f"icount boot 1 ({EMU}, medians of {meta.get('reps', '?')} rounds)",
                "icount2": f"icount boot 2 ({EMU}, medians of {meta.get('reps', '?')} rounds)",
                "wall": f"plain TCG wall-clock, {((boots.get('wall', {}).get('env') or {}).get('cpus', '?'))} vCPUs "
                        f"(MiB/s, medians of {meta.get('wall_reps', '?')} rounds, min–max)",
                "hardware": f"hardware (MiB/s wall-clock, medians of {meta.get('reps', '?')} rounds, min–max; "
                            "each path and round one spbench process, as the other paths)",
                }.get(name, f"{name} ({unit})")
        md.append(f"**{what}**")
        md.append("")
        md.append(table(["splice size", "ftrace `trace`", "`events` (gift)", "`events_copy`", "events ÷ ftrace",
                         "events ÷ events_copy", "events_copy ÷ ftrace"], rows))
        md.append("")
    if "icount1" in data and "icount2" in data:
        ch = []
        for a, b in zip(data["icount1"], data["icount2"]):
            for k in ("events_over_ftrace", "events_over_events_copy"):
                if a[k] and b[k]:
                    ch.append(abs(b[k] / a[k] - 1))
        if ch:
            md.append(f"The two icount boots captured separately (each its own events); their ratios differ by "
                      f"at most {max(ch) * 100:.2f}%.")
            md.append("")
    # The capture facts, and the byte counts the runs moved.
    rows = []
    caps = {}
    for name in names:
        for cap in boots[name].get("captures") or []:
            caps[name] = cap
            rs = [r for r in boots[name]["runs"] if is_live(r)]
            sizes = {p: sorted({r["bytes"] for r in rs if r["path"] == p}) for p in (LIVE_FTRACE, LIVE_EVENTS, LIVE_COPY)}
            ev, ft = cap["events"], cap["ftrace"]
            same = sizes[LIVE_EVENTS] == sizes[LIVE_COPY] == [ev["bytes"]]
            ft_ok = sizes[LIVE_FTRACE] == [ft["bytes"]]
            extra = ft["lines"] - ft["header_lines"] - ev["lines"]
            rows.append([name, f"{cap['events_recorded']:,} in {cap['rounds']:,} round trips",
                         f"{cap['buf_kb']:,} KiB × {cap['cpus']} CPU(s), two buffers",
                         f"{ev['bytes']:,} B, {ev['lines']:,} lines ({ev['sched_switch']:,} switch, "
                         f"{ev['sched_wakeup']:,} wakeup)",
                         f"{ft['bytes']:,} B, {ft['lines']:,} lines ({ft['header_lines']} '#', "
                         f"{ft['sched_switch']:,} switch, {ft['sched_wakeup']:,} wakeup)",
                         f"{extra:+,} lines",
                         ("yes" if same else f"**no**: {sizes[LIVE_EVENTS]} / {sizes[LIVE_COPY]}")
                         + (", ftrace's too" if ft_ok else f"; ftrace's runs {sizes[LIVE_FTRACE]}"),
                         f"{cap['events_overruns']} / {cap['events_lost']}",
                         f"{cap['ftrace_overrun']} / {cap['ftrace_dropped']}",
                         f"{cap['calib_text_per_event']:.1f} / {cap['calib_ftrace_bytes_per_event']:.1f}",
                         cap["capped"] or "no"])
    if rows:
        md.append("The captures (one per boot). \"ftrace − events\": ftrace's event lines beyond the module's, "
                  "its own window being wider. The runs moved each file's full size: every `events` and "
                  "`events_copy` run the same bytes, ftrace's its own size, which adds its '#' header lines. "
                  "The buffers were sized from a calibration capture of the same workload (text bytes per "
                  "module event, ftrace's bytes per entry), a quarter over, within 60% of the memory "
                  "available; a capture with any overrun or lost event is refused.")
        md.append("")
        md.append(table(["boot", "events recorded", "buffers (per CPU)", "`events` text", "ftrace `trace` text",
                         "ftrace − events", "runs: events = events_copy = capture", "module overruns / lost",
                         "ftrace overrun / dropped", "calibration: text B per event / ftrace B per entry",
                         "capped"], rows))
        md.append("")
    return md, {"ratios": data, "captures": caps}


# The mirror line: ftrace's own formatter (its seq_operations) over the
# live capture, three transports: ftrace's trace (stock: one-page seq
# buffer, copy_splice_read), mirror_copy (stock core, seq buffer of
# buffer_size_kb: batching) and mirror (the engine: pages gifted).
LIVE_MIRROR = "splice.null.livemirror"
LIVE_MIRROR_COPY = "splice.null.livemirrorcopy"


def mirror_rows(v, band=0.005):
    """Per splice size: the three speeds, the ratios, and the shares of
    mirror's saving over trace (time per MiB) that batching
    (trace → mirror_copy) and zero-copy (mirror_copy → mirror) account for
    (None where mirror ÷ trace is within the tie band of 1: no saving to
    split)."""
    out = []
    for sz in v.sizes(LIVE_CFG):
        t, c, m = (v.speed(*LIVE_CFG, sz, p) for p in (LIVE_FTRACE, LIVE_MIRROR_COPY, LIVE_MIRROR))
        if t is None or c is None or m is None:
            continue
        tt, tc, tm = 1 / t, 1 / c, 1 / m
        saving = tt - tm
        shares = (None, None)
        if abs(m / t - 1) >= band:
            shares = ((tt - tc) / saving, (tc - tm) / saving)
        out.append({"size": sz, "trace": t, "mirror_copy": c, "mirror": m,
                    "mirror_over_trace": m / t, "mirror_copy_over_trace": c / t,
                    "mirror_over_mirror_copy": m / c,
                    "share_batching": shares[0], "share_zero_copy": shares[1],
                    "spread": {k: v.spread(*LIVE_CFG, sz, p) for k, p in
                               (("trace", LIVE_FTRACE), ("mirror_copy", LIVE_MIRROR_COPY),
                                ("mirror", LIVE_MIRROR))},
                    "mirror_bytes_per_pipe_buffer": v.bytes_per_buf(*LIVE_CFG, sz, LIVE_MIRROR),
                    "mirror_copy_bytes_per_pipe_buffer": v.bytes_per_buf(*LIVE_CFG, sz, LIVE_MIRROR_COPY)})
    return out


def f_share(x):
    return "–" if x is None else f"{x * 100:.0f} %"


def f_range(xs, fmt="{:.3f}×"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    lo, hi = min(xs), max(xs)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)[:-1]}–{fmt.format(hi)}"


def mirror_targets(rows, thr):
    """mirror ≥ 1.00× ftrace's trace and ≥ 1.00× mirror_copy at every size."""
    out = []
    for key_, base in (("mirror_over_trace", "ftrace's trace"), ("mirror_over_mirror_copy", "mirror_copy")):
        got = [(r[key_], r["size"]) for r in rows]
        if not got:
            continue
        low = min(got)
        misses = [(x, sz) for x, sz in got if x < 1.0]
        out.append({"target": f"mirror ≥ 1.00× {base} at every size", "met": not misses,
                    "lowest": {"ratio": low[0], "size": low[1]},
                    "missed": [{"size": sz, "ratio": x, "tie": x >= 1 - thr} for x, sz in misses]})
    return out


def mirror_statement(views):
    """The one-line answer to the seed thread ("this will drop performance
    of splice on ring buffer (trace file)"), from the views' rows."""
    parts = []
    for label, rows, band in views:
        if not rows:
            continue
        drops = [r for r in rows if r["mirror_over_trace"] < 1.0]
        zc = [r["mirror_over_mirror_copy"] for r in rows]
        parts.append(f"{label}: zero-copy (mirror ÷ mirror_copy) {f_range(zc)}, batching (mirror_copy ÷ trace) "
                     f"{f_range([r['mirror_copy_over_trace'] for r in rows])}, the gift path ÷ ftrace's trace "
                     f"{f_range([r['mirror_over_trace'] for r in rows])}"
                     + (f", below 1 at {', '.join(ksize(r['size']) for r in drops)}" if drops else
                        ", at no size below 1") + f" (ties within ±{band * 100:.1f} %)")
    if not parts:
        return None
    return ("On ftrace's own formatter, splicing `trace` whole (4 KiB–1 MiB per call): " + "; ".join(parts) + ".")


def mirror_section(views, checks, thr=0.005):
    """The mirror line's section and its JSON. views: [(name, label,
    View of the live runs, wall-clock?)]; checks: the livecheck lines."""
    have = []
    for n, lab, v, w in views:
        rows = mirror_rows(v)
        band = thr
        if w and rows:
            # The rounds' own spread: the median over sizes and arms of
            # (max − min) ÷ median, at least 0.5 %, rounded up to 0.5 %.
            rel = [(r["spread"][k][1] - r["spread"][k][0]) / r[k] for r in rows
                   for k in ("trace", "mirror_copy", "mirror") if r["spread"][k]]
            if rel:
                band = max(0.005, -(-statistics.median(rel) // 0.005) * 0.005)
            rows = mirror_rows(v, band)
        if rows:
            have.append((n, lab, v, w, rows, band))
    bad = [c for c in checks if not c.get("same")]
    if not have and not bad:
        return [], None
    md = ["## ftrace's formatter three ways: trace, mirror_copy, mirror", ""]
    md.append("One frozen ftrace buffer of sched_switch/sched_wakeup events (the live line's capture), spliced "
              "whole, once per run, from offset 0 to EOF into /dev/null through a pipe of the splice size, "
              "by three transports of the same formatter, ftrace's own `seq_operations` for "
              "`/sys/kernel/tracing/trace`: **trace** is ftrace's file itself (stock `seq_read_iter`, one-page seq "
              "buffer, `copy_splice_read`); **mirror_copy** is `/sys/kernel/seqsplice/mirror_copy`, ftrace's "
              "table through the same stock core with a seq buffer of buffer_size_kb=1024 (batching, no "
              "zero-copy); **mirror** is `/sys/kernel/seqsplice/mirror`, ftrace's table through the engine "
              "(buffer_size_kb=1024, map_mode=auto, pages gifted to the pipe). Each opens ftrace's `trace` anew "
              "(mirror_path = /sys/kernel/tracing/trace), so each run iterates the same frozen ring buffer. "
              "mirror ÷ mirror_copy is zero-copy alone, mirror_copy ÷ trace batching alone; their product is "
              "mirror ÷ trace. The shares split mirror's saving over trace in time per MiB: batching = "
              "(t_trace − t_mirror_copy) ÷ (t_trace − t_mirror), zero-copy = (t_mirror_copy − t_mirror) ÷ "
              "(t_trace − t_mirror) (\"–\" when mirror ÷ trace is within the tie band of 1: no saving to split). "
              "Ties: ±0.5 % in the emulated instruction count (a boot repeats its rounds to 0.01 %); in the "
              "wall-clock view the rounds' own spread (the median over sizes and arms of (max − min) ÷ median, "
              "rounded up to 0.5 %).")
    md.append("")
    out = {"views": {}, "checks": checks}
    for name, label, v, wall, rows, band in have:
        def cell(r, k):
            x = r[k]
            if not wall or not r["spread"][k]:
                return f_speed(x)
            lo, hi = r["spread"][k]
            return f"{f_speed(x)} ({f_speed(lo)}–{f_speed(hi)})"
        md.append(f"**{label}**")
        md.append("")
        md.append(table(["splice size", "trace", "mirror_copy", "mirror", "mirror ÷ trace",
                         "mirror_copy ÷ trace (batching)", "mirror ÷ mirror_copy (zero-copy)",
                         "share: batching", "share: zero-copy", "mirror bytes per pipe buffer"],
                        [[ksize(r["size"]), cell(r, "trace"), cell(r, "mirror_copy"), cell(r, "mirror"),
                          f"**{r['mirror_over_trace']:.3f}×**", f"{r['mirror_copy_over_trace']:.3f}×",
                          f"**{r['mirror_over_mirror_copy']:.3f}×**", f_share(r["share_batching"]),
                          f_share(r["share_zero_copy"]), f_cnt(r["mirror_bytes_per_pipe_buffer"], 0)]
                         for r in rows]))
        md.append("")
        tg = mirror_targets(rows, band)
        md.append(f"Targets ({'wall-clock' if wall else 'emulated instruction count'}; ties within ±{band * 100:.1f} %):")
        md.append("")
        for t in tg:
            line = f"- {t['target']}: **{'met' if t['met'] else 'missed'}** (lowest {t['lowest']['ratio']:.3f}× " \
                   f"at {ksize(t['lowest']['size'])})"
            if t["missed"]:
                line += "; below 1 at " + ", ".join(
                    f"{ksize(m['size'])} {m['ratio']:.3f}×" + (" (a tie)" if m["tie"] else "") for m in t["missed"])
            md.append(line + ".")
        md.append("")
        out["views"][name] = {"label": label, "wall": wall, "rows": rows, "targets": tg, "tie_band": band}
    st = mirror_statement([(("wall-clock" if w else "emulated instruction count"), rows, band)
                           for n, _, _, w, rows, band in have if n != "icount2"])
    if st:
        md.append("**Measured answer to \"this will drop performance of splice on ring buffer (trace file)\"** — " + st)
        md.append("")
        out["statement"] = st
    if checks:
        ok = [c for c in checks if c.get("same")]
        sizes = sorted({c["size"] for c in ok})
        hashes = sorted({f["hash"] for c in ok for f in c["files"].values()})
        nbytes = sorted({f["bytes"] for c in ok for f in c["files"].values()})
        if ok:
            md.append(f"Byte check before each configuration's runs: ftrace's `trace`, `mirror` and `mirror_copy` "
                      f"spliced whole at the run's size into a pipe read back gave the same bytes at "
                      f"{len(sizes)} splice size(s) ({', '.join(ksize(x) for x in sizes)}) in {len(ok)} check(s): "
                      f"{', '.join(f'{b:,}' for b in nbytes)} bytes, hash "
                      f"{', '.join(hashes)} (one per boot's capture).")
        for c in bad:
            md.append(f"- **Byte check failed** at {ksize(c['size'])}: {c.get('why', '?')}")
        md.append("")
    return md, out


# The batched line: the copy files on two kernels, the release one
# ("stock": seq_read_iter() fills one seq buffer per call) and the batched
# one (FLAVOUR=batched: seq_read_iter() keeps filling and copying seq
# buffers while the iterator has room), each booted with
# spbench.sweep=batched; the gift paths beside them.  Each arm: (label,
# config, splice path, read path).  Sizes: the splice sizes, and read()
# in 1 MiB calls as the row "read() 1 MiB".
BATCHED_READ = "read"
BATCHED_COPY = [
    ("`trace_copy`, one-page seq buffer, raw records", ("raw", 100, 1024), "splice.null.copy4", "read.copy4"),
    ("`trace_copy`, one-page seq buffer, printf records", ("printf", 100, 1024), "splice.null.copy4", "read.copy4"),
    ("ftrace's `trace` (frozen capture)", LIVE_CFG, "splice.null.liveftrace", "read.liveftrace"),
]
BATCHED_EQUAL = [
    ("`trace_copy`, equal buffer, raw", ("raw", 100, 1024), "splice.null.copyeq", "read.copyeq"),
    ("`trace_copy`, equal buffer, printf", ("printf", 100, 1024), "splice.null.copyeq", "read.copyeq"),
    ("`mirror_copy` (equal buffer)", LIVE_CFG, "splice.null.livemirrorcopy", "read.livemirrorcopy"),
]
BATCHED_GIFT = [
    ("`trace` (gift), raw", ("raw", 100, 1024), "splice.null.trace", "read.trace"),
    ("`trace` (gift), printf", ("printf", 100, 1024), "splice.null.trace", "read.trace"),
    ("`mirror` (gift)", LIVE_CFG, "splice.null.livemirror", "read.livemirror"),
]
# gift ÷ its one-page copy: (label, gift arm, copy arm) by index above.
BATCHED_PAIRS = [("`trace` ÷ `trace_copy` one page, raw", 0, 0),
                 ("`trace` ÷ `trace_copy` one page, printf", 1, 1),
                 ("`mirror` ÷ ftrace's `trace`", 2, 2)]


def batched_rows_of(v, cfg, sp, rp):
    """[(row label, size, path)]: the splice sizes, then read() 1 MiB."""
    out = [(ksize(sz), sz, sp) for sz in v.sizes(cfg) if v.runs(*cfg, sz, sp)]
    if v.runs(*cfg, MIB, rp):
        out.append(("read() 1 MiB", MIB, rp))
    return out


def pages_nd(r):
    """Pages allocated in the run: /proc/vmstat pgalloc_normal + pgalloc_dma32."""
    return r["d"].get("vmstat.pgalloc_normal", 0) + r["d"].get("vmstat.pgalloc_dma32", 0)


def batched_cmp(stock, batched, arm):
    """Per row of an arm: both kernels' speeds, bytes per call and pages
    allocated per MiB."""
    label, cfg, sp, rp = arm
    out = []
    for row, sz, p in batched_rows_of(stock, cfg, sp, rp):
        s, b = stock.speed(*cfg, sz, p), batched.speed(*cfg, sz, p)
        if s is None or b is None:
            continue

        def per_call(v):
            rs = v.runs(*cfg, sz, p)
            return med([r["bytes"] / max(r["calls"], 1) for r in rs]) if rs else None
        out.append({"row": row, "size": sz, "path": p, "stock": s, "batched": b, "ratio": b / s,
                    "stock_bytes_per_call": per_call(stock), "batched_bytes_per_call": per_call(batched),
                    "stock_pages_per_mib": stock.per_mib_of(pages_nd, *cfg, sz, p),
                    "batched_pages_per_mib": batched.per_mib_of(pages_nd, *cfg, sz, p),
                    "stock_mod_pages_per_mib": stock.counter("mod.pages_allocated", *cfg, sz, p),
                    "batched_mod_pages_per_mib": batched.counter("mod.pages_allocated", *cfg, sz, p)})
    return out


def batched_repeat(v1, v2):
    """How far every (configuration, size, path) speed moved between two
    boots of one kernel, and every gift ÷ one-page-copy ratio."""
    moves, ratio_moves = [], []
    for k, rs in v1.g.items():
        a, b = v1.speed(*k), v2.speed(*k)
        if a and b:
            moves.append((abs(b / a - 1), k))
    for _, gi, ci in BATCHED_PAIRS:
        g, c = BATCHED_GIFT[gi], BATCHED_COPY[ci]
        for row, sz, p in batched_rows_of(v1, c[1], c[2], c[3]):
            gp = g[2] if p == c[2] else g[3]
            x = [v.speed(*c[1], sz, gp) and v.speed(*c[1], sz, p) and v.speed(*c[1], sz, gp) / v.speed(*c[1], sz, p)
                 for v in (v1, v2)]
            if all(x):
                ratio_moves.append((abs(x[1] / x[0] - 1), (c[1], sz, p, gp)))
    moves.sort(reverse=True)
    ratio_moves.sort(reverse=True)
    return {"paths": len(moves), "max_rel": moves[0][0] if moves else None,
            "median_rel": med([m for m, _ in moves]),
            "worst": [{"config": list(k[:3]), "size": k[3], "path": k[4], "rel": m} for m, k in moves[:5]],
            "ratio_pairs": len(ratio_moves), "ratio_max_rel": ratio_moves[0][0] if ratio_moves else None}


def batched_section(stock, batched, repeat=None, names=("stock", "batched", None), checks=()):
    """The batched line's section and its JSON: stock and batched are
    Views of the two kernels' boots (every run, live ones too), repeat an
    optional second boot of one of them (names[2]: which)."""
    copy = [(a, batched_cmp(stock, batched, a)) for a in BATCHED_COPY]
    equal = [(a, batched_cmp(stock, batched, a)) for a in BATCHED_EQUAL]
    gift = [(a, batched_cmp(stock, batched, a)) for a in BATCHED_GIFT]
    if not any(r for _, r in copy):
        return [], None
    rep = None
    thr = 0.005
    if repeat is not None:
        twin = stock if names[2] == names[0] else batched
        rep = batched_repeat(twin, repeat)
        if rep["max_rel"] is not None:
            thr = max(0.005, -(-rep["max_rel"] // 0.005) * 0.005)
    md = ["## The batched line: the copy files on the batched kernel", ""]
    md.append("Two kernels, one boot each, the same sweep (`spbench.sweep=batched`) and the same module source: "
              f"**stock** is the release kernel ({names[0]}), whose `seq_read_iter()` fills one seq buffer per "
              f"call; **batched** ({names[1]}) is the release config plus the upstream series (`upstream/*.patch`, "
              "`FLAVOUR=batched`) that makes `seq_read_iter()` keep filling and copying seq buffers while the "
              "iterator has room. The copy files go through that function (`read()` directly, splice through "
              "`copy_splice_read()`); the gift paths do not (the engine), so their batched ÷ stock is the "
              "control: it shows what two boots of two kernels differ by on code neither changed. Splice → "
              "/dev/null through a pipe of the splice size; `read()` in 1 MiB calls. Record files: 100-byte "
              "records, buffer_size_kb=1024; the live files: each boot's own frozen capture of sched events "
              "(spbench capture), read whole per run. Ratios of MiB per emulated second; pages: /proc/vmstat "
              "`pgalloc_normal` + `pgalloc_dma32` deltas around each timed run (the whole system's allocations "
              "in the run, the pipe's pages included), per MiB delivered; the gift paths' own allocations are "
              "also in the module's `pages_allocated`.")
    md.append("")
    # ---- batched ÷ stock
    sizes = []
    for _, rows in copy + equal + gift:
        for r in rows:
            if r["row"] not in [s for s, _ in sizes]:
                sizes.append((r["row"], r["size"]))
    sizes.sort(key=lambda x: (x[0].startswith("read"), x[1]))

    def ratio_at(rows, row):
        x = next((r for r in rows if r["row"] == row), None)
        return x

    def f3(x):
        return "–" if x is None else f"{x:.3f}×" if x < 10 else f"{x:.2f}×"
    md.append(f"**batched ÷ stock, the same file on the two kernels** ({EMU}; the tie band ±{thr * 100:.1f} %)")
    md.append("")
    head = ["splice size"] + [a[0] for a, _ in copy] + [a[0] for a, _ in equal] + \
        [a[0] + " (control)" for a, _ in gift]
    rows = []
    for row, _ in sizes:
        line = [row]
        for i, (_, rs) in enumerate(copy + equal + gift):
            x = ratio_at(rs, row)
            cell = f3(x["ratio"]) if x else "–"
            line.append(f"**{cell}**" if i < len(copy) and x else cell)
        rows.append(line)
    md.append(table(head, rows))
    md.append("")
    # The live files: each boot formats its own capture, so the gift
    # path's control is divided out of ftrace's trace as well.
    net = []
    ft, mg = copy[2][1], gift[2][1]
    for row, _ in sizes:
        a, c = ratio_at(ft, row), ratio_at(mg, row)
        if a and c:
            net.append((row, a["ratio"] / c["ratio"], c["ratio"]))
    if net:
        md.append("ftrace's `trace` net of its control (its batched ÷ stock divided by `mirror`'s, the same "
                  "formatter over that boot's capture through the engine, which does not call `seq_read_iter()`): "
                  + ", ".join(f"{row} {f3(x)}" for row, x, _ in net) + ".")
        md.append("")
    # Where the batched kernel is slower than the stock one beyond the
    # band: what it costs per MiB and, for the record files, per record.
    lost = []
    for a, rs in copy + equal:
        for r in rs:
            if r["ratio"] < 1 - thr:
                d = MIB / r["batched"] * 1e9 / MIB - MIB / r["stock"] * 1e9 / MIB
                per_rec = d / (MIB / a[1][1]) if a[1][1] else None
                lost.append((a[0], r["row"], r["ratio"], d, per_rec))
    if lost:
        md.append(f"Where the batched kernel is slower than the stock one beyond ±{thr * 100:.1f} % (emulated "
                  "instructions more per MiB delivered; per record for the record files):")
        md.append("")
        for lab, row, x, d, pr in lost:
            md.append(f"- {lab}, {row}: {f3(x)}, +{d / 1e3:,.0f} k per MiB"
                      + (f", {pr:+.1f} per record" if pr is not None else ""))
        md.append("")
    # ---- gift ÷ batched copy
    pairs = []
    for label, gi, ci in BATCHED_PAIRS:
        g, c = gift[gi][1], copy[ci][1]
        pr = []
        for row, _ in sizes:
            gx, cx = ratio_at(g, row), ratio_at(c, row)
            if gx and cx:
                pr.append({"row": row, "size": gx["size"], "gift_over_batched": gx["batched"] / cx["batched"],
                           "gift_over_stock": gx["stock"] / cx["stock"]})
        pairs.append((label, pr))
    md.append(f"**gift ÷ the one-page copy, on each kernel** (on the batched kernel the copy is batched: what "
              f"zero-copy and the engine add once the core batches; {EMU})")
    md.append("")
    head = ["splice size"]
    for label, _ in pairs:
        head += [f"{label}: batched kernel", "stock kernel"]
    rows = []
    for row, _ in sizes:
        line = [row]
        for _, pr in pairs:
            x = next((p for p in pr if p["row"] == row), None)
            line += [f"**{f3(x['gift_over_batched'])}**" if x else "–", f3(x["gift_over_stock"]) if x else "–"]
        rows.append(line)
    md.append(table(head, rows))
    md.append("")
    # ---- speeds, bytes per call, pages
    md.append(f"**Every arm: {EMU} (medians), bytes per call, pages allocated per MiB delivered (pgalloc_normal + "
              "pgalloc_dma32; the module's own `pages_allocated` in brackets for the gift paths)**")
    md.append("")
    head = ["file", "size", "stock MiB/s", "batched MiB/s", "batched ÷ stock", "bytes per call: stock",
            "batched", "pages per MiB: stock", "batched"]
    rows = []

    def fp(x, m):
        if x is None:
            return "–"
        return f_cnt(x, 1) + (f" ({f_cnt(m, 1)})" if m else "")
    for a, rs in copy + equal + gift:
        for i, r in enumerate(rs):
            rows.append([a[0] if i == 0 else "", r["row"], f_speed(r["stock"]), f_speed(r["batched"]),
                         f3(r["ratio"]), f_cnt(r["stock_bytes_per_call"], 0), f_cnt(r["batched_bytes_per_call"], 0),
                         fp(r["stock_pages_per_mib"], r["stock_mod_pages_per_mib"]),
                         fp(r["batched_pages_per_mib"], r["batched_mod_pages_per_mib"])])
    md.append(table(head, rows))
    md.append("")
    # ---- repeat
    if rep:
        md.append(f"**Repeat.** The {names[2]} kernel was booted twice with the same sweep (each boot its own "
                  f"capture): over its {rep['paths']} (configuration, size, path) arms the speed moved by at most "
                  f"{rep['max_rel'] * 100:.2f} % (median {rep['median_rel'] * 100:.2f} %; the largest: "
                  + ", ".join(f"{w['path']} {ksize(w['size'])} {w['rel'] * 100:.2f} %" for w in rep["worst"][:3])
                  + f"), and the gift ÷ one-page-copy ratios by at most {rep['ratio_max_rel'] * 100:.2f} %. So the "
                  f"tie band of the batched ÷ stock ratios, which compare two boots, is ±{thr * 100:.1f} %.")
        md.append("")
    else:
        md.append("**Repeat.** No second boot of either kernel was given: the batched ÷ stock ratios compare two "
                  "boots, and the gift paths' batched ÷ stock (the control columns) is the only measure of what "
                  "two boots differ by on code neither kernel changed.")
        md.append("")
    bad = [c for c in checks if not c.get("same")]
    ok = [c for c in checks if c.get("same")]
    if ok:
        md.append(f"Byte check: before each live configuration's runs, ftrace's `trace`, `mirror` and "
                  f"`mirror_copy` spliced whole gave the same bytes in every boot ({len(ok)} checks).")
        md.append("")
    for c in bad:
        md.append(f"- **Byte check failed** at {ksize(c['size'])}: {c.get('why', '?')}")
    js = {"tie_band": thr, "repeat": rep, "names": list(names),
          "ftrace_trace_net_of_control": [{"row": r, "ratio": x, "control": c} for r, x, c in net],
          "batched_slower": [{"file": l, "row": r, "ratio": x, "instructions_per_mib": d, "per_record": pr}
                             for l, r, x, d, pr in lost],
          "copy": {a[0]: rs for a, rs in copy}, "equal": {a[0]: rs for a, rs in equal},
          "gift": {a[0]: rs for a, rs in gift}, "gift_over_copy": {label: pr for label, pr in pairs}}
    return md, js


def batched_only(stock_path, batched_path, repeat_path=None, repeat_of="stock", out=None, meta=None):
    """--batched STOCK_LOG BATCHED_LOG [--batched-repeat LOG]: the section
    alone (printed, or with --out written to OUT.md and OUT.json with the
    platform)."""
    views, envs, checks, caps, runs = {}, {}, [], {}, {}
    for name, p in (("stock", stock_path), ("batched", batched_path), ("repeat", repeat_path)):
        if not p:
            continue
        c, cp = [], []
        env, rs, _, _ = parse_log(p, captures=cp, checks=c)
        if not rs:
            sys.exit(f"bench-report: no BENCH run lines in {p}")
        checks += c
        caps[name] = cp
        envs[name] = env
        runs[name] = rs
        views[name] = View(rs, env)
    md, js = batched_section(views["stock"], views["batched"], views.get("repeat"),
                             ("stock", "batched", repeat_of if repeat_path else None), checks)
    if not md:
        sys.exit(f"bench-report: no batched-line runs in {stock_path}")
    if not out:
        print("\n".join(md))
        return
    meta = meta or {}
    kern = {n: ((e or {}).get("kernel") or "?") for n, e in envs.items()}
    head = [f"# seqsplice: the batched line, {meta.get('sweep_name', 'quick sweep')}, {os.path.basename(out)[:10]}", ""]
    head.append(f"Platform: {meta.get('platform', 'QEMU TCG')}; guest kernels: stock `{kern.get('stock')}`, batched "
                f"`{kern.get('batched')}`"
                + (f", repeat ({repeat_of}) `{kern.get('repeat')}`" if repeat_path else "")
                + ". **Emulated instruction counts, not hardware time.**")
    for k in ("method", "commit"):
        if meta.get(k):
            head.append("")
            head.append(f"{k.capitalize()}: {meta[k]}")
    head.append("")
    cap_rows = []
    for n, cp in caps.items():
        for c in cp:
            cap_rows.append(f"{n} {c['events_recorded']:,} events, ftrace's `trace` {c['ftrace']['bytes']:,} bytes")
    if cap_rows:
        head.append("Captures (one per boot): " + "; ".join(cap_rows) + ".")
        head.append("")
    with open(out + ".md", "w") as f:
        f.write("\n".join(head + md) + "\n")
    with open(out + ".json", "w") as f:
        json.dump({"meta": meta, "env": envs, "batched": js, "captures": caps,
                   "runs": {k: [dict(r, d={n: x for n, x in r["d"].items() if x}) for r in v]
                            for k, v in runs.items()}}, f, separators=(",", ":"))
        f.write("\n")
    print(f"bench-report: {out}.md, {out}.json")


def key(r):
    return (r["mode"], r["width"], r["buf_kb"], r["size"], r["path"])


def group(runs):
    g = {}
    for r in runs:
        g.setdefault(key(r), []).append(r)
    return g


def mibps(r):
    # A run shorter than a tick of a jiffies clocksource (a driver's smoke
    # test, spbench with SPBENCH_ALLOW_JIFFIES=1) reads 0 ns.
    return r["bytes"] / MIB / (max(r["ns"], 1) / 1e9)


def per_mib(r, name):
    return r["d"].get(name, 0) / (r["bytes"] / MIB)


def med(xs):
    return statistics.median(xs) if xs else None


def perf_per_mib(r, event):
    """perf stat's count of `event` over the timed segment, per MiB moved."""
    v = (r.get("perf") or {}).get(event)
    return v / (r["bytes"] / MIB) if isinstance(v, (int, float)) and r["bytes"] else None


def run_cpus(r, env):
    return r.get("cpus") or (env or {}).get("cpus") or 1


def kflush_exec(r):
    """Executions of the kernel-flush functions, summed over the CPUs."""
    return sum(r["d"].get(k, 0) for k in (KFLUSH_FULL, KFLUSH_RANGE, KFLUSH_CPA))


def pipe_bufs(r):
    """Pipe buffers the source inserted: the module's gifts for an engine
    source (splice, or sendfile into its internal pipe), the count spbench
    derived from copy_splice_read's or vmsplice's returns, else None."""
    if r["source"] in GIFT_SOURCES and r["method"] in ("splice", "sendfile"):
        return r["d"].get("mod.pages_gifted", 0)
    return r.get("pipe_bufs")


class View:
    """Runs of one kind of boot, aggregated per configuration and path."""

    def __init__(self, runs, env=None):
        self.g = group(runs)
        self.env = env or {}
        # Runs saved in a report's JSON lost their zero counters: whether a
        # counter was measured comes from the boot's environment.
        self.has_probe = bool(self.env.get("flush_probe_ok"))
        self.has_vmstat_tlb = bool(self.env.get("vmstat_tlb_counters"))

    def runs(self, mode, width, buf, size, path):
        return self.g.get((mode, width, buf, size, path), [])

    def ns(self, *k):
        # At least 1, as in mibps(): a tick-resolution clock reads 0.
        rs = self.runs(*k)
        return max(med([r["ns"] for r in rs]), 1) if rs else None

    def speed(self, *k):
        rs = self.runs(*k)
        return med([mibps(r) for r in rs]) if rs else None

    def spread(self, *k):
        v = [mibps(r) for r in self.runs(*k)]
        return (min(v), max(v)) if v else None

    def counter(self, name, *k):
        rs = self.runs(*k)
        return med([per_mib(r, name) for r in rs]) if rs else None

    def perf(self, event, *k):
        v = [x for x in (perf_per_mib(r, event) for r in self.runs(*k)) if x is not None]
        return med(v)

    def has_perf(self):
        return any("cycles" in (r.get("perf") or {}) for rs in self.g.values() for r in rs)

    def per_mib_of(self, fn, *k):
        """Median over the runs of fn(run) per MiB moved (fn may give None)."""
        v = [fn(r) for r in self.runs(*k)]
        rs = self.runs(*k)
        if not rs or any(x is None for x in v):
            return None
        return med([x / (r["bytes"] / MIB) for x, r in zip(v, rs)])

    def kflushes(self, *k):
        """Kernel TLB flush calls per MiB (every CPU runs each once)."""
        if not self.has_probe:
            return None
        return self.per_mib_of(lambda r: kflush_exec(r) / run_cpus(r, self.env), *k)

    def kflush_part(self, name, *k):
        if not self.has_probe:
            return None
        return self.per_mib_of(lambda r: r["d"].get(name, 0) / run_cpus(r, self.env), *k)

    def flush_ipis(self, *k):
        """Kernel TLB flush executions on CPUs other than the caller's."""
        if not self.has_probe:
            return None
        return self.per_mib_of(lambda r: kflush_exec(r) * (run_cpus(r, self.env) - 1) / run_cpus(r, self.env), *k)

    def vmstat_tlb(self, name, *k):
        if not self.has_vmstat_tlb:
            return None
        return self.counter("vmstat." + name, *k)

    def bytes_per_buf(self, *k):
        rs = self.runs(*k)
        v = []
        for r in rs:
            n = pipe_bufs(r)
            if not n:
                return None
            v.append(r["bytes"] / n)
        return med(v) if v else None

    def configs(self):
        return sorted({k[:3] for k in self.g}, key=lambda c: (c[1], c[0] != "raw", c[2]))

    def sizes(self, cfg):
        return sorted({k[3] for k in self.g if k[:3] == cfg})

    def paths(self, cfg):
        have = {k[4] for k in self.g if k[:3] == cfg}
        return [p for p in PATH_ORDER if p in have]


def f_speed(v):
    if v is None:
        return "–"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def f_ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def ksize(s):
    return f"{s // 1024} KiB" if s < MIB else f"{s // MIB} MiB"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def identity(runs1, runs2):
    """Compare two icount boots run by run."""
    a = {(key(r), r["rep"]): r for r in runs1}
    b = {(key(r), r["rep"]): r for r in runs2}
    common = sorted(set(a) & set(b))
    same = 0
    worst = []
    by_path = {}
    signed = []
    for k in common:
        x, y = a[k]["ns"], b[k]["ns"]
        if x == y:
            same += 1
        d = abs(x - y)
        rel = d / x if x else 0
        signed.append((y - x) / x if x else 0)
        worst.append((rel, d, k))
        p = k[0][4]
        by_path[p] = max(by_path.get(p, 0), rel)
    worst.sort(reverse=True)
    nontcp = [w for w in worst if ".tcp." not in w[2][0][4]]
    # Paths that read the files: neither the TCP sink nor the short
    # vmsplice runs.
    fmt = [w for w in nontcp if not w[2][0][4].startswith("vmsplice")]
    tcp = [w for w in worst if ".tcp." in w[2][0][4]]
    vms = [w for w in worst if w[2][0][4].startswith("vmsplice")]
    return {
        "compared": len(common),
        "identical": same,
        "only_in_one": len(set(a) ^ set(b)),
        "max_rel": worst[0][0] if worst else 0,
        "median_signed_rel": statistics.median(signed) if signed else 0,
        "max_abs_ns": max((w[1] for w in worst), default=0),
        "max_rel_non_tcp": nontcp[0][0] if nontcp else 0,
        "max_abs_non_tcp": max((w[1] for w in nontcp), default=0),
        "max_rel_file_paths": fmt[0][0] if fmt else 0,
        "max_rel_tcp": tcp[0][0] if tcp else 0,
        "max_abs_vmsplice": max((w[1] for w in vms), default=0),
        "worst": [{"path": w[2][0][4], "mode": w[2][0][0], "width": w[2][0][1],
                   "buf_kb": w[2][0][2], "size": w[2][0][3], "rep": w[2][1],
                   "rel": w[0], "abs_ns": w[1]} for w in worst[:8]],
        "max_rel_by_path": by_path,
    }


def ratio_repeat(v1, v2):
    """How much each gift ÷ baseline ratio moved between two boots."""
    pairs = [(g, b) for _, g, c4, ce in TRIPLES for b in (c4, ce)]
    pairs.append(("splice.null.trace", "splice.null.tracevmap"))
    pairs.append(("splice.null.trace", "splice.null.tracevmram"))
    pairs.append(("splice.null.trace", "splice.null.tracedirect"))
    pairs.append(("splice.null.trace", "splice.null.traceops"))
    pairs += [(CONSUMER_API, CONSUMER_EQ), (CONSUMER_API, CONSUMER_4)]
    out = []
    for cfg in v1.configs():
        for sz in v1.sizes(cfg):
            for g, b in pairs:
                n1g, n1b = v1.ns(*cfg, sz, g), v1.ns(*cfg, sz, b)
                n2g, n2b = v2.ns(*cfg, sz, g), v2.ns(*cfg, sz, b)
                if None in (n1g, n1b, n2g, n2b):
                    continue
                r1, r2 = n1b / n1g, n2b / n2g
                out.append((abs(r2 / r1 - 1), g, b, cfg, sz, r1, r2))
    out.sort(reverse=True)
    other = [o for o in out if ".tcp." not in o[1]]
    tcp = [o for o in out if ".tcp." in o[1]]
    return {
        "pairs": len(out),
        "max_rel": other[0][0] if other else 0,
        "max_rel_tcp": tcp[0][0] if tcp else 0,
        "worst": [{"gift": o[1], "baseline": o[2], "mode": o[3][0], "width": o[3][1], "buf_kb": o[3][2],
                   "size": o[4], "ratio_boot1": o[5], "ratio_boot2": o[6], "rel": o[0]} for o in out[:6]],
    }


def f_cnt(v, digits=2):
    if v is None:
        return "–"
    if v == 0:
        return "0"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.{digits}f}"


COST_LEGEND = [
    "- **kernel TLB flushes**: calls of `flush_tlb_kernel_range()` or `flush_tlb_all()` (and "
    "`set_memory_*`'s few-page flush), counted exactly: spbench counts, with perf counting events on the "
    "`csd:csd_function_entry` tracepoint, how often each CPU runs `do_flush_tlb_all` (a full flush: the "
    "range was more than 33 pages, as vmalloc's lazy purge and `vm_unmap_aliases()` usually are) or "
    "`do_kernel_range_flush` (INVLPG per page, 33 pages or fewer) or `__cpa_flush_tlb`, and divides by "
    "the CPUs, since every such flush runs on each online CPU, the caller's included. `vunmap()` and "
    "`vm_unmap_ram()` clear the PTEs but flush nothing themselves (unless `debug_pagealloc` is on): "
    "vmalloc flushes lazily, when the address space of the areas freed since the last flush passes "
    "`lazy_max_pages()` (32 MiB × fls(online CPUs): 32 MiB with one vCPU, 64 MiB with two; a "
    "`vm_map_ram()` block of the per-cpu allocator is freed to it only once all of it has been used and "
    "unmapped), or on `vm_unmap_aliases()`, which the `purge` file calls at the end of every run. So a run "
    "that unmapped anything pays one flush at its end, and more only if it freed more than "
    "`lazy_max_pages()` of address space on the way: one flush per run reads as 1 ÷ (MiB per run). In "
    "steady state, without the purge, the rate would be the lazily freed address space per MiB ÷ "
    "`lazy_max_pages()`, which these counters do not measure. Not counted: `flush_tlb_one_kernel()` "
    "called directly (fixmap) and user-mm flushes (`nr_tlb_local_flush_*`, the TLB IPI row). "
    "Full / range: the two kinds.",
    "- **flush IPIs**: those flushes' executions on the other CPUs = flushes × (CPUs − 1). Zero by "
    "construction with one vCPU (the icount boots); see the wall-clock boot's table for two.",
    "- **vmaps / vm_map_ram / vunmaps**: page-table updates of the module (its `stats`): mappings it made "
    "(`vmap()` or `vm_map_ram()`), of which with `vm_map_ram()`, and mappings it removed. Each maps or "
    "unmaps every page of the fill's buffer; a removal clears the PTEs at once but leaves the TLB to the "
    "lazy purge. Copy paths have none: their seq buffer is kmalloc'd or vmalloc'd by the seq_file core, "
    "which the module does not see.",
    "- **pages gifted**: pipe buffers the module inserted (one page reference each; a page continued "
    "after a partial splice counts again). **module pages**: pages the module allocated. **pgalloc**: "
    "every page the kernel allocated in the timed segment (pipes, copy_splice_read's fresh pages, TCP, "
    "page tables of new mappings).",
    "- **bytes per pipe buffer**: bytes moved ÷ pipe buffers the source inserted. For `trace` sources "
    "(splice and sendfile's internal pipe): ÷ pages gifted. For `trace_copy` splices: ÷ the buffers "
    "`copy_splice_read()` inserts, DIV_ROUND_UP(bytes returned, 4096) per call (it fills fresh pages from "
    "offset 0; spbench --smoke checks both counts against a walk of the pipe with tee() into a one-slot "
    "pipe). \"–\" where no pipe of spbench's exists (read, lseek) or the buffers are not visible "
    "(sendfile from `trace_copy`: its internal pipe's calls are not the caller's). Reading the pipe "
    "cannot count them: pipe_read() copies across buffers.",
]


def costs_table(view, cfg, paths=None):
    rows = []
    for p in paths or view.paths(cfg):
        for s in view.sizes(cfg):
            k = (*cfg, s, p)
            if not view.runs(*k):
                continue
            full = view.kflush_part(KFLUSH_FULL, *k)
            rng = view.kflush_part(KFLUSH_RANGE, *k)
            rows.append([p, ksize(s), f_speed(view.speed(*k)), f_cnt(view.kflushes(*k), 3),
                         f"{f_cnt(full, 3)} / {f_cnt(rng, 3)}", f_cnt(view.flush_ipis(*k), 3),
                         f_cnt(view.counter("mod.vmaps", *k)), f_cnt(view.counter("mod.vm_map_ram_maps", *k)),
                         f_cnt(view.counter("mod.vunmaps", *k)), f_cnt(view.counter("mod.pages_gifted", *k), 1),
                         f_cnt(view.counter("mod.pages_allocated", *k), 1), f_cnt(view.counter("pgalloc", *k), 1),
                         f_cnt(view.bytes_per_buf(*k), 0)])
    return table(["path", "size", "MiB/s", "kernel TLB flushes", "full / range", "flush IPIs", "vmaps",
                  "of which vm_map_ram", "vunmaps", "pages gifted", "module pages", "pgalloc",
                  "bytes per pipe buffer"], rows)


def crosscheck_table(view, cfg, paths=None):
    rows = []
    for p in paths or view.paths(cfg):
        for s in view.sizes(cfg):
            k = (*cfg, s, p)
            if not view.runs(*k):
                continue
            rows.append([p, ksize(s), f_cnt(view.kflushes(*k), 3),
                         f_cnt(view.vmstat_tlb("nr_tlb_remote_flush_received", *k), 3),
                         f_cnt(view.vmstat_tlb("nr_tlb_remote_flush", *k), 3),
                         f_cnt(view.vmstat_tlb("nr_tlb_local_flush_one", *k), 2),
                         f_cnt(view.vmstat_tlb("nr_tlb_local_flush_all", *k), 2),
                         f_cnt(view.counter("csd.flush_tlb_func", *k) if view.has_probe else None, 2),
                         f_cnt(view.counter("irq.CAL", *k), 2), f_cnt(view.counter("irq.TLB", *k), 2)])
    return table(["path", "size", "kernel TLB flushes (probe)", "nr_tlb_remote_flush_received",
                  "nr_tlb_remote_flush", "nr_tlb_local_flush_one", "nr_tlb_local_flush_all",
                  "user-mm flush_tlb_func via IPI path", "CAL IPIs", "TLB IPIs"], rows)


def plot(view, prefix, notes, unit, where):
    gp = shutil.which("gnuplot")
    if not gp:
        notes.append("gnuplot not found: no plot.")
        return None
    png = prefix + ".png"
    tmp = tempfile.mkdtemp(prefix="bench-plot-")
    series = [("splice.null.tracevmap", "trace: gift splice, map\\_mode=vmap"),
              ("splice.null.tracevmram", "trace: gift splice, map\\_mode=vm\\_map\\_ram"),
              ("splice.null.tracedirect", "trace: gift splice, map\\_mode=direct"),
              ("splice.null.trace", "trace: gift splice, map\\_mode=auto (default)"),
              ("splice.null.copyeq", "trace\\_copy, equal seq buffer"),
              ("splice.null.copy4", "trace\\_copy, stock 4 KiB seq buffer"),
              ("seek.copy4", "formatting floor (lseek, no copy)")]
    # One colour per series, whichever of them ran.
    colour = dict(zip((p for p, _ in series), ("#9400d3", "#009e73", "#56b4e9", "#d55e00", "#e69f00", "#c0a000", "#0072b2")))
    panels = []
    for mode in ("raw", "printf"):
        cfg = (mode, 100, 1024)
        if cfg not in view.configs():
            continue
        files = []
        for path, title in series:
            if not view.runs(mode, 100, 1024, view.sizes(cfg)[0], path):
                continue
            fn = os.path.join(tmp, f"{mode}-{path}.dat")
            with open(fn, "w") as f:
                for s in view.sizes(cfg):
                    v = view.speed(mode, 100, 1024, s, path)
                    if v:
                        f.write(f"{s // 1024} {v}\n")
            files.append((fn, title, colour[path]))
        panels.append((mode, files))
    if not panels:
        return None
    t = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True)
    term = "pngcairo size 1200,520 font 'sans,10'"
    if "pngcairo" not in t.stdout + t.stderr:
        term = "png size 1200,520"
    script = [f"set terminal {term}", f"set output '{png}'",
              f"set multiplot layout 1,{len(panels)} title "
              "'seqsplice: splice of 100-byte records to /dev/null, buffer\\_size\\_kb=1024 "
              f"({where})'",
              "set logscale x 2", "set logscale y", "set grid",
              "set xlabel 'splice size = pipe size (KiB)'",
              f"set ylabel '{unit}'", "set key bottom right"]
    for mode, files in panels:
        script.append(f"set title '{mode} records'")
        parts = [f"'{fn}' using 1:2 with linespoints lw 2 lc rgb '{c}' title '{t}'" for fn, t, c in files]
        script.append("plot " + ", ".join(parts))
    script.append("unset multiplot")
    r = subprocess.run([gp], input="\n".join(script), text=True, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0:
        notes.append("gnuplot failed: " + r.stderr.strip()[:300])
        return None
    return png


def headline_rows(view, mode, buf, width=100):
    rows, data = [], []
    for s in view.sizes((mode, width, buf)):
        g = view.speed(mode, width, buf, s, "splice.null.trace")
        c4 = view.speed(mode, width, buf, s, "splice.null.copy4")
        ce = view.speed(mode, width, buf, s, "splice.null.copyeq")
        ceil = view.speed(mode, width, buf, s, "vmsplice.null.user")
        ng = view.ns(mode, width, buf, s, "splice.null.trace")
        n4 = view.ns(mode, width, buf, s, "splice.null.copy4")
        ne = view.ns(mode, width, buf, s, "splice.null.copyeq")
        nf = view.ns(mode, width, buf, s, "seek.copy4")
        if None in (g, c4, ce):
            continue
        saved = n4 - ng
        if saved > 0.02 * n4:
            batch = (n4 - ne) / saved
            zc = (ne - ng) / saved
            split = f"{batch * 100:.0f}% / {zc * 100:.0f}%"
        elif saved > 0:
            split = "– (saving < 2%)"
        else:
            split = "– (gift slower)"
        transport = "–"
        # Only where moving the bytes is at least a tenth of the gift
        # path's count: below that the floor's own error dominates.
        if nf is not None and ng - nf > 0.1 * ng:
            transport = f"{(n4 - nf) / (ng - nf):.2f}× / {(ne - nf) / (ng - nf):.2f}×"
        floor_share = f"{nf / ng * 100:.0f}%" if nf is not None else "–"
        rows.append([ksize(s), f_speed(g), f_speed(c4), f_speed(ce), f"**{g / c4:.2f}×**",
                     f"**{g / ce:.2f}×**", f"{ce / c4:.2f}×", split, floor_share, transport, f_speed(ceil)])
        data.append({"mode": mode, "width": width, "buf_kb": buf, "size": s, "gift": g, "copy4": c4,
                     "copyeq": ce, "gift_over_copy4": g / c4, "gift_over_copyeq": g / ce,
                     "copyeq_over_copy4": ce / c4, "ceiling_vmsplice": ceil,
                     "formatting_floor": view.speed(mode, width, buf, s, "seek.copy4")})
    return rows, data


HEAD_COLS = ["splice size", "gift", "copy 4 KiB", "copy equal buf", "gift / copy 4 KiB",
             "gift / copy equal", "batching alone (equal / 4 KiB)",
             "share of the saving: batching / zero-copy", "formatting floor ÷ gift",
             "transport only: 4 KiB / equal",
             "vmsplice ceiling"]


def losses(view, thr=0.005):
    out = []
    for cfg in view.configs():
        for s in view.sizes(cfg):
            for label, g, c4, ce in TRIPLES:
                vg = view.speed(*cfg, s, g)
                for base, name in ((c4, "stock 4 KiB"), (ce, "equal buffer")):
                    vb = view.speed(*cfg, s, base)
                    if vg and vb and vg < vb * (1 - thr):
                        out.append((cfg, s, label, name, vg / vb))
            vm = view.speed(*cfg, s, "splice.null.trace")
            for name, path in MAP_MODES:
                if path == "splice.null.trace":
                    continue
                vo = view.speed(*cfg, s, path)
                if vo and vm and vm < vo * (1 - thr):
                    out.append((cfg, s, "splice → /dev/null", f"trace with map_mode={name}", vm / vo))
    return out


def map_mode_rows(view, cfg):
    """Per size: the three map modes' speed, ratios and mapping costs."""
    rows = []
    for s in view.sizes(cfg):
        sp = {m: view.speed(*cfg, s, p) for m, p in MAP_MODES}
        if sum(v is not None for v in sp.values()) < 2:
            continue
        costs = []
        for m, p in MAP_MODES:
            k = (*cfg, s, p)
            if not view.runs(*k):
                costs.append("not run")
                continue
            cell = f"{f_cnt(view.kflushes(*k), 3)} / {f_cnt(view.counter('mod.vmaps', *k))}"
            # The direct mode's own counters, once the module has them
            # (spbench records every counter of stats).
            extra = [f"{n} {f_cnt(view.counter('mod.' + n, *k), 1)}" for n in ("direct_fills", "direct_pages")
                     if any("mod." + n in r["d"] for r in view.runs(*k))]
            costs.append(cell + (f" ({', '.join(extra)})" if extra else ""))
        rows.append([ksize(s)] + [f_speed(sp[m]) for m, _ in MAP_MODES]
                    + [f_ratio(sp["vm_map_ram"], sp["vmap"]), f_ratio(sp["direct"], sp["vmap"]),
                       f_ratio(sp["direct"], sp["vm_map_ram"])] + costs)
    return rows


MAP_COLS = ["size", "vmap", "vm_map_ram", "direct", "vm_map_ram ÷ vmap", "direct ÷ vmap",
            "direct ÷ vm_map_ram", "vmap: TLB flushes / vmaps per MiB",
            "vm_map_ram: TLB flushes / vmaps per MiB", "direct: TLB flushes / vmaps per MiB"]


# The consumer line: one C seq_file (tests/consumer/seqsplice_bench.c)
# through the API and through the stock core, 100-byte records,
# buffer_size_kb = copy_kb = 1024.
CONSUMER_API = "splice.null.consumer"
CONSUMER_EQ = "splice.null.consumercopyeq"
CONSUMER_4 = "splice.null.consumercopy4"
CONSUMER_FLOOR = "seek.consumercopy4"
CONSUMER_WIDTH, CONSUMER_BUF = 100, 1024
# The record modes as the issue names them: spbench's raw is the module's
# seq_write() of a preformatted line.
CONSUMER_MODES = [("printf", "printf-formatted (seq_printf)"), ("raw", "seq_write() of a preformatted line")]


def consumer_targets(rows):
    """The consumer line's targets: (statement, [(row, baseline key, wanted)])."""
    def pick(mode, sizes):
        return [r for r in rows if r["mode"] == mode and r["size"] in sizes]
    return [
        ("printf records ≥ 1.00× both copies at every size 4 KiB–1 MiB",
         [(r, b, 1.00) for r in pick("printf", SIZES) for b in ("copyeq", "copy4")], SIZES),
        ("seq_write records ≥ 1.15× the equal-buffer copy at ≥ 64 KiB",
         [(r, "copyeq", 1.15) for r in pick("raw", [x for x in SIZES if x >= 65536])],
         [x for x in SIZES if x >= 65536]),
        ("seq_write records ≥ 2.2× the one-page copy at 64 KiB",
         [(r, "copy4", 2.2) for r in pick("raw", [65536])], [65536]),
    ]


def consumer_section(view, is_icount, unit, thr=0.005, skipped=None):
    """The consumer line's section and its JSON: API ÷ each copy per record
    mode and size, the instructions per record and per page of each path,
    and the targets, with what a missed one lacks per record and per page."""
    cfgs = [(m, CONSUMER_WIDTH, CONSUMER_BUF) for m, _ in CONSUMER_MODES]
    if not any(view.runs(*c, s, CONSUMER_API) for c in cfgs for s in view.sizes(c)):
        why = sorted({why for p, why in (skipped or {}).items() if ".consumer" in p})
        if not why:
            return [], None
        return ["## Consumer line: a C seq_file through the API", "",
                "Not run: " + "; ".join(why) + ".", ""], {"rows": [], "targets": [], "skipped": why}
    cost = "emulated instructions" if is_icount else "ns"
    md = ["## Consumer line: a C seq_file through the API", ""]
    md.append("One C `seq_operations` table (tests/consumer/seqsplice_bench.c: an index cursor, `->show` "
              "`seq_printf()`s `trace`'s 100-byte record, or `seq_write()`s a line preformatted at open) served "
              "by a C module three ways: through seqsplice's exported API (`seqsplice_open()`, pages gifted, "
              "buffer_size_kb=1024, map_mode=auto), and through the stock core (`seq_read_iter` + "
              "`copy_splice_read`) with a 1024 KiB seq buffer set after `seq_open()` as `single_open_size()` "
              "does (equal buffer) and with `seq_open()`'s one page. Splice → /dev/null; before each "
              "configuration spbench checks that the three files give the same bytes, `trace`'s stream. "
              f"The same C dispatch either way, so API ÷ copy is the transport alone. {unit}; per record and "
              f"per page (4096 bytes of output): {cost} of the whole timed segment ÷ records (÷ pages).")
    md.append("")
    rows, out = [], []
    for mode, label in CONSUMER_MODES:
        cfg = (mode, CONSUMER_WIDTH, CONSUMER_BUF)
        floor = None
        for s in view.sizes(cfg):
            if view.runs(*cfg, s, CONSUMER_FLOOR):
                floor = view.ns(*cfg, s, CONSUMER_FLOOR) / (view.runs(*cfg, s, CONSUMER_FLOOR)[0]["bytes"]
                                                            / CONSUMER_WIDTH)
        for s in view.sizes(cfg):
            a, e, f = (view.speed(*cfg, s, p) for p in (CONSUMER_API, CONSUMER_EQ, CONSUMER_4))
            if a is None or (e is None and f is None):
                continue

            def per(p):
                rs = view.runs(*cfg, s, p)
                if not rs:
                    return None, None
                n = med([r["ns"] / (r["bytes"] / CONSUMER_WIDTH) for r in rs])
                return n, n * 4096 / CONSUMER_WIDTH
            (ar, ap), (er, _), (fr, _) = per(CONSUMER_API), per(CONSUMER_EQ), per(CONSUMER_4)
            d = {"mode": mode, "size": s, "api": a, "copyeq": e, "copy4": f,
                 "api_over_copyeq": a / e if e else None, "api_over_copy4": a / f if f else None,
                 "per_record": {"api": ar, "copyeq": er, "copy4": fr, "floor": floor},
                 "gifted_per_mib": view.counter("mod.pages_gifted", *cfg, s, CONSUMER_API),
                 "bytes_per_pipe_buffer": {k: view.bytes_per_buf(*cfg, s, p) for k, p in
                                           (("api", CONSUMER_API), ("copyeq", CONSUMER_EQ), ("copy4", CONSUMER_4))}}
            out.append(d)
            rows.append([label if s == view.sizes(cfg)[0] else "",
                         ksize(s), f_speed(a), f_speed(e), f_speed(f), f"**{a / e:.3f}×**" if e else "–",
                         f"**{a / f:.3f}×**" if f else "–", f_cnt(ar, 0), f_cnt(er, 0), f_cnt(fr, 0),
                         f_cnt(floor, 0) if floor else "–",
                         f_cnt(view.bytes_per_buf(*cfg, s, CONSUMER_API), 0)])
    md.append(table(["records", "splice size", "API", "copy, equal buffer", "copy, one page", "API ÷ equal",
                     "API ÷ one page", f"API {cost}/record", "equal /record", "one page /record",
                     "formatting floor /record", "API bytes per pipe buffer"], rows))
    md.append("")
    md.append("The formatting floor is `lseek()` to EOF on the one-page stock file: every record formatted "
              "through the same C table, nothing copied out.")
    md.append("")
    targets = []
    md.append("Targets: met where the ratio reaches the target; a miss within the "
              f"±{thr * 100:.1f}% tie band is marked a tie. What a miss lacks is the API path's {cost} per "
              "record (and per page) beyond the baseline's ÷ the target.")
    md.append("")
    for what, checks, sizes in consumer_targets(out):
        have = {r["size"] for r, _, _ in checks}
        missing = [x for x in sizes if x not in have]
        misses, worst = [], None
        for r, base, want in checks:
            got = r[f"api_over_{base}"]
            if got is None:
                missing.append(r["size"])
                continue
            if worst is None or got / want < worst[0]:
                worst = (got / want, got, r, base, want)
            if got < want:
                # What the API path lacks: its instructions per record
                # beyond the baseline's ÷ the target.
                pr = r["per_record"]
                lack = pr["api"] - pr[base] / want
                misses.append((r, base, want, got, lack))
        met = not misses and not missing
        line = f"- {what}: **{'met' if met else ('not run everywhere' if missing and not misses else 'missed')}**"
        if worst:
            line += f" (lowest {worst[1]:.3f}× against {worst[4]:.2f}×, {ksize(worst[2]['size'])}, " \
                    f"{'equal buffer' if worst[3] == 'copyeq' else 'one page'})"
        if misses:
            line += ". Missed at " + "; ".join(
                f"{ksize(r['size'])} vs {'equal buffer' if b == 'copyeq' else 'one page'} {g:.3f}×"
                + (" (a tie)" if g >= w * (1 - thr) else "")
                + f": {l:,.0f} {cost} per record, {l * 4096 / CONSUMER_WIDTH:,.0f} per page too many"
                for r, b, w, g, l in misses)
        if missing:
            line += f"; not run at {', '.join(ksize(x) for x in sorted(set(missing)))}"
        md.append(line + ".")
        targets.append({"target": what, "met": met,
                        "lowest": {"ratio": worst[1], "size": worst[2]["size"], "baseline": worst[3],
                                   "want": worst[4]} if worst else None,
                        "missed": [{"size": r["size"], "baseline": b, "want": w, "ratio": g,
                                    "excess_per_record": l, "excess_per_page": l * 4096 / CONSUMER_WIDTH}
                                   for r, b, w, g, l in misses],
                        "not_run": sorted(set(missing))})
    md.append("")
    return md, {"rows": out, "targets": targets}


def consumer_only(path):
    """--consumer LOG: the consumer section alone, from one serial log."""
    env, runs, skips, _ = parse_log(path)
    runs = [r for r in runs if not is_live(r)]
    # A guest bench boot under -icount shift=0 (what scripts/guest.sh bench
    # with ICOUNT=1 makes): the clock is the emulated instruction count.
    md, _ = consumer_section(View(runs, env), True, EMU, skipped={sk["path"]: sk["reason"] for sk in skips})
    if not md:
        sys.exit(f"bench-report: no consumer runs in {path}")
    print("\n".join(md))


def mirror_only(path, wall_path=None):
    """--mirror LOG [--mirror-wall LOG]: the mirror section alone."""
    views, checks = [], []
    for p, wall in ((path, False), (wall_path, True)):
        if not p:
            continue
        c = []
        env, runs, _, _ = parse_log(p, checks=c)
        checks += c
        label = (f"plain TCG wall-clock, {(env or {}).get('cpus', '?')} vCPU(s) (MiB/s, medians, min–max)" if wall
                 else f"{EMU} (medians)")
        views.append(("wall" if wall else "icount", label, View([r for r in runs if is_live(r)], env), wall))
    md, _ = mirror_section(views, checks)
    if not md:
        sys.exit(f"bench-report: no mirror runs in {path}")
    print("\n".join(md))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--icount", nargs=2, metavar="LOG")
    ap.add_argument("--wall")
    ap.add_argument("--kvm")
    ap.add_argument("--hardware")
    ap.add_argument("--json", help="regenerate from an earlier report's .json")
    ap.add_argument("--consumer", metavar="LOG", help="print the consumer line's section of one log, any tag")
    ap.add_argument("--mirror", metavar="LOG", help="print the mirror line's section of an icount boot's log")
    ap.add_argument("--mirror-wall", metavar="LOG", help="with --mirror: a plain TCG boot's log, the wall-clock view")
    ap.add_argument("--batched", nargs=2, metavar=("STOCK_LOG", "BATCHED_LOG"),
                    help="the batched line: a release and a batched kernel's spbench.sweep=batched boots")
    ap.add_argument("--batched-repeat", metavar="LOG", help="with --batched: a second boot of one of the kernels")
    ap.add_argument("--batched-repeat-of", choices=("stock", "batched"), default="stock",
                    help="which kernel --batched-repeat booted again (stock)")
    ap.add_argument("--out")
    ap.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    if a.batched and not (a.icount or a.kvm or a.hardware or a.json):
        batched_only(a.batched[0], a.batched[1], a.batched_repeat, a.batched_repeat_of, a.out,
                     dict(m.split("=", 1) for m in a.meta))
        return
    if a.consumer:
        consumer_only(a.consumer)
        return
    if a.mirror:
        mirror_only(a.mirror, a.mirror_wall)
        return
    if not a.out:
        ap.error("--out is required")
    meta = dict(m.split("=", 1) for m in a.meta)
    notes = []
    boots = {}
    skipped = {}
    if a.json:
        if a.icount or a.wall or a.kvm:
            sys.exit("bench-report: --json replaces the logs")
        with open(a.json) as f:
            old = json.load(f)
        meta = dict(old.get("meta", {}), **meta)
        for name, runs in old["runs"].items():
            boots[name] = {"env": old.get("env", {}).get(name), "runs": runs, "log": a.json}
        for sk in old.get("skipped", []):
            skipped[sk["path"]] = sk["reason"]
        for name, cap in ((old.get("live") or {}).get("captures") or {}).items():
            if name in boots:
                boots[name]["captures"] = [cap]
        notes.append(f"regenerated from {os.path.basename(a.json)}")
    for name, path in ([("icount1", a.icount[0]), ("icount2", a.icount[1])] if a.icount else []) + \
            ([("wall", a.wall)] if a.wall else []) + ([("kvm", a.kvm)] if a.kvm else []) + \
            ([("hardware", a.hardware)] if a.hardware else []):
        captures, checks = [], []
        env, runs, skips, bad = parse_log(path, captures, checks)
        for sk in skips:
            skipped[sk["path"]] = sk["reason"]
        if not runs:
            sys.exit(f"bench-report: no BENCH run lines in {path}")
        tags = {r.get("tag") for r in runs}
        if tags != {name}:
            sys.exit(f"bench-report: {path} holds runs tagged {sorted(map(str, tags))}, expected '{name}' "
                     "(a stale or foreign serial log?)")
        if bad:
            notes.append(f"{bad} unparsable BENCH line(s) in {os.path.basename(path)}")
        boots[name] = {"env": env, "runs": runs, "log": path, "captures": captures, "checks": checks}
    if not boots:
        sys.exit("bench-report: no input (--icount LOG LOG [--wall LOG], --kvm LOG or --json FILE)")
    live_skips = {p: why for p, why in skipped.items() if ".live" in p}
    for p, why in sorted(skipped.items()):
        if p not in live_skips:
            notes.append(f"not run: {p}: {why}")

    # The live line's runs have a section of their own: every other table
    # sees the record-stream runs only.
    def view(name):
        return View([r for r in boots[name]["runs"] if not is_live(r)], boots[name]["env"])

    def live_view(name):
        return View([r for r in boots[name]["runs"] if is_live(r)], boots[name]["env"])

    primary_name = "icount1" if "icount1" in boots else ("hardware" if "hardware" in boots else "kvm")
    primary = view(primary_name)
    is_icount = primary_name == "icount1"
    is_hw = primary_name == "hardware"
    kind = "icount" if is_icount else primary_name
    unit = EMU if is_icount else ("MiB/s wall-clock (hardware)" if is_hw else "MiB/s wall-clock (KVM)")
    per_second = "per emulated second" if is_icount else "per second"
    two_icount = "icount1" in boots and "icount2" in boots
    ident = identity([r for r in boots["icount1"]["runs"] if not is_live(r)],
                     [r for r in boots["icount2"]["runs"] if not is_live(r)]) if two_icount else None
    # The tie band: how far a gift ÷ baseline ratio moved between the two
    # icount boots (TCP left out), at least 0.5%, rounded up to 0.5%.
    thr = 0.005
    if ident:
        ident["ratios"] = ratio_repeat(primary, view("icount2"))
        thr = max(0.005, -(-ident["ratios"]["max_rel"] // 0.005) * 0.005)
        ident["tie_band"] = thr
    spread = None
    if not is_icount:
        # No second identical boot: the tie band is the rounds' own spread,
        # the median over configurations and paths of (max - min) / median,
        # at least 0.5%, rounded up to 0.5%.
        rel = []
        for k, rs in primary.g.items():
            v = [mibps(r) for r in rs]
            if len(v) > 1 and statistics.median(v) > 0:
                rel.append((max(v) - min(v)) / statistics.median(v))
        spread = med(rel)
        if spread is not None:
            thr = max(0.005, -(-spread // 0.005) * 0.005)
    env = boots[primary_name]["env"] or {}
    md = []
    date = os.path.basename(a.out)
    took = f"{int(meta.get('total_seconds', 0)) // 60} min {int(meta.get('total_seconds', 0)) % 60} s"
    if is_hw:
        day = date[:-len("-hardware")] if date.endswith("-hardware") else date
        md.append(f"# seqsplice benchmark, {day} (hardware: {meta.get('virt', '?')})")
        md.append("")
        md.append(f"Module commit `{meta.get('commit', '?')}`. Produced by `make bench NATIVE=1` "
                  f"(scripts/native-bench.sh, tools/spbench, scripts/bench-report.py) on the running kernel "
                  f"{meta.get('kernel_release', '?')}, no emulator, in {took}.")
    else:
        md.append(f"# seqsplice benchmark, {date}")
        md.append("")
        md.append(f"Module commit `{meta.get('commit', '?')}`. Produced by `make bench` "
                  f"(scripts/bench.sh, tools/spbench, scripts/bench-report.py) in {took}.")
    md.append("")

    # ---- summary
    md.append("## Summary")
    md.append("")
    if is_icount:
        md.append("The primary figures come from QEMU TCG with `-icount shift=0`. There, guest time is a "
                  "deterministic **emulated instruction count**: one instruction is one nanosecond. "
                  f"They are given as {EMU}: bytes moved per emulated second of instructions. "
                  "**They are not hardware speeds.** icount does not model caches, TLB misses, page walks "
                  "or IPI latency. Those are exactly the costs Linus Torvalds raised in 2023 against "
                  "gifting vmapped pages (vmap/vunmap and TLB flushes). This report therefore makes no "
                  "claim that anything is faster on hardware.")
    elif is_hw:
        md.append("The figures come from the machine's own kernel, not an emulator "
                  f"({meta.get('virt', '?')}), measured as wall-clock time: medians of "
                  f"{meta.get('reps', '?')} interleaved rounds. Counters: {meta.get('pmu', '?')}.")
        if meta.get("coarse_clock") == "1" or env.get("clocksource") in ("jiffies", "refined-jiffies"):
            md.append("")
            md.append(f"**The clocksource was {env.get('clocksource', 'jiffies')}, one tick per timestamp: a smoke "
                      "test of the driver (`native-bench.sh --smoke`), whose figures mean nothing.**")
    else:
        md.append("The figures come from a KVM guest, measured as wall-clock time: medians of "
                  f"{meta.get('wall_reps', '?')} interleaved rounds.")
    md.append("")
    summary = {}
    for mode in ("raw", "printf"):
        for buf in (1024, 64):
            if (mode, 100, buf) not in primary.configs():
                continue
            _, data = headline_rows(primary, mode, buf)
            summary[f"{mode}/{buf}"] = data
    bullets = []
    for mode in ("raw", "printf"):
        data = summary.get(f"{mode}/1024")
        if not data:
            continue
        parts = ", ".join(f"{ksize(d['size'])} {d['gift_over_copy4']:.2f}× / {d['gift_over_copyeq']:.2f}×"
                          for d in data)
        bullets.append(f"- **{mode} records, buffer_size_kb=1024, splice → /dev/null**, gift ÷ stock "
                       f"copy / gift ÷ equal-buffer copy: {parts}.")
    for mode in ("raw", "printf"):
        if (mode, 4096, 1024) not in primary.configs():
            continue
        _, data = headline_rows(primary, mode, 1024, width=4096)
        summary[f"{mode}/1024/w4096"] = data
        if data:
            bullets.append(f"- Extra line, **4096-byte {mode} records**, buffer_size_kb=1024: "
                           + ", ".join(f"{ksize(d['size'])} {d['gift_over_copy4']:.2f}× / "
                                       f"{d['gift_over_copyeq']:.2f}×" for d in data)
                           + ". Wider records cost less formatting per byte, so the copy is a larger share "
                           "and zero-copy gains more.")
    md += bullets
    if summary.get("raw/1024"):
        d = {x["size"]: x for x in summary["raw/1024"]}
        big = [x for x in summary["raw/1024"] if x["size"] >= 65536]
        shares = []
        for x in big:
            n4, ne, ng = (MIB / (x[k] / 1e9) for k in ("copy4", "copyeq", "gift"))
            if n4 > ng:
                shares.append((x["size"], (n4 - ne) / (n4 - ng)))
        if shares:
            most = all(v > 0.5 for _, v in shares)
            md.append("- Raw records, buffer_size_kb=1024: against the stock `trace_copy` (4 KiB seq buffer), "
                      "the share of the gift path's saving "
                      "that **batching** alone recovers (equal-buffer copy vs stock copy) is "
                      + ", ".join(f"{v * 100:.0f}% at {ksize(sz)}" for sz, v in shares)
                      + (". So most of that gain is batching, not zero-copy. " if most else ". ")
                      + "`copy_splice_read` bulk-allocates as many pages as the pipe has free slots "
                      "(fs/splice.c:334-381), but `seq_read_iter` fills only about one seq buffer per call. "
                      "The rest are released unused and the syscall repeats. A copy path given the same buffer "
                      "size does not pay this.")
        if 4096 in d:
            x = d[4096]
            md.append(f"- At 4 KiB splices (one-page pipe, raw records) there is nothing to batch. Gift ÷ stock copy is "
                      f"{x['gift_over_copy4']:.2f}× and gift ÷ equal-buffer copy is {x['gift_over_copyeq']:.2f}×.")
    if summary.get("printf/1024"):
        x = summary["printf/1024"]
        md.append(f"- With printf formatting, formatting dominates. Gift ÷ equal-buffer copy is "
                  f"{min(v['gift_over_copyeq'] for v in x):.2f}–{max(v['gift_over_copyeq'] for v in x):.2f}×, so "
                  f"the copy that zero-copy saves is a small fraction of the cost of producing the text.")
    lost = losses(primary, thr)
    if lost:
        groups = {}
        for c, sz, label, name, r in lost:
            groups.setdefault((label, name), []).append((r, c, sz))
        parts = []
        for (label, name), v in sorted(groups.items(), key=lambda x: min(r for r, _, _ in x[1])):
            lo, hi = min(r for r, _, _ in v), max(r for r, _, _ in v)
            rng = f"{lo:.2f}×" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}–{hi:.2f}×"
            parts.append(f"{label} vs {name} copy in {len(v)} configuration(s) ({rng})")
        md.append(f"- The gift path is slower by more than {thr * 100:.1f}% (the tie band, see below) in "
                  f"{len(lost)} comparison(s): "
                  + "; ".join(parts) + ". See [Where the gift path loses](#where-the-gift-path-loses).")
    cfg = ("raw", 100, 1024)
    if cfg in primary.configs():
        mm = []
        for sz in primary.sizes(cfg):
            v = primary.speed(*cfg, sz, "splice.null.tracevmap")
            r = primary.speed(*cfg, sz, "splice.null.tracevmram")
            d = primary.speed(*cfg, sz, "splice.null.tracedirect")
            if v and r:
                mm.append(f"{ksize(sz)} {r / v:.2f}×" + (f" / {d / v:.2f}×" if d else ""))
        have_direct = any(primary.runs(*cfg, sz, "splice.null.tracedirect") for sz in primary.sizes(cfg))
        if mm:
            md.append("- map_mode, gift splice ÷ `vmap` (raw, buffer_size_kb=1024): "
                      + ("vm_map_ram / direct: " if have_direct else "vm_map_ram: ")
                      + ", ".join(mm) + ". Per-cpu vmap blocks pay off when each fill maps few pages"
                      + (". See [Map modes](#map-modes) for their TLB flushes and mappings." if have_direct else
                         "; map_mode=direct was not run. See [Map modes](#map-modes)."))
        if primary.has_probe:
            parts = []
            for sz in primary.sizes(cfg):
                cells = []
                for name, p in MAP_MODES + [("copy 4 KiB", "splice.null.copy4"), ("copy equal", "splice.null.copyeq")]:
                    v = primary.kflushes(*cfg, sz, p)
                    if v is not None:
                        cells.append(f"{name} {f_cnt(v, 3)}")
                if cells:
                    parts.append(f"{ksize(sz)}: " + ", ".join(cells))
            if parts:
                md.append("- Kernel TLB flushes per MiB, splice → /dev/null (raw, buffer_size_kb=1024; counted "
                          "exactly, see [Costs per MiB](#costs-per-mib)): " + "; ".join(parts) + ".")
    for mode in ("raw", "printf"):
        cfg = (mode, 100, 1024)
        if cfg not in primary.configs():
            continue
        sd = []
        for sz in primary.sizes(cfg):
            o = primary.speed(*cfg, sz, "splice.null.traceops")
            r = primary.speed(*cfg, sz, "splice.null.trace")
            if o and r:
                sd.append(f"{ksize(sz)} {r / o:.3f}×")
        if sd:
            md.append(f"- Static dispatch ({mode}, 100 B, buffer_size_kb=1024): `trace` (the engine "
                      "generic over its Rust source) ÷ `trace_ops` (the same engine driving the records' "
                      "C seq_operations table, an indirect call per callback): " + ", ".join(sd) + ".")
    if primary.has_perf():
        for mode in ("raw", "printf"):
            cfg = (mode, 100, 1024)
            parts = []
            for sz in primary.sizes(cfg) if cfg in primary.configs() else []:
                g = primary.perf("cycles", *cfg, sz, "splice.null.trace")
                c4 = primary.perf("cycles", *cfg, sz, "splice.null.copy4")
                ce = primary.perf("cycles", *cfg, sz, "splice.null.copyeq")
                if g and c4 and ce:
                    parts.append(f"{ksize(sz)} {c4 / g:.2f}× / {ce / g:.2f}×")
            if parts:
                md.append(f"- Cycles per MiB (perf stat, {mode}, buffer_size_kb=1024, splice → /dev/null), stock "
                          "copy ÷ gift / equal-buffer copy ÷ gift: " + ", ".join(parts) + ". See "
                          "[Cycles and instructions](#cycles-and-instructions-per-mib-perf-stat).")
    if "wall" in boots:
        wv = view("wall")
        for mode in ("raw", "printf"):
            cfg = (mode, 100, 1024)
            if cfg not in wv.configs():
                continue
            parts = []
            for sz in wv.sizes(cfg):
                g = wv.speed(*cfg, sz, "splice.null.trace")
                c4 = wv.speed(*cfg, sz, "splice.null.copy4")
                ce = wv.speed(*cfg, sz, "splice.null.copyeq")
                if g and c4 and ce:
                    parts.append(f"{ksize(sz)} {g / c4:.2f}× / {g / ce:.2f}×")
            if parts:
                md.append(f"- Second view, plain TCG wall-clock ({mode}, buffer_size_kb=1024, medians of "
                          f"{meta.get('wall_reps', '?')}), gift ÷ stock copy / gift ÷ equal-buffer copy: "
                          + ", ".join(parts) + ".")
    live_md, live_js = live_section(boots, live_view, meta, is_icount, unit, live_skips)
    mirror_checks = [c for b in boots.values() for c in b.get("checks") or []]
    if a.json:
        mirror_checks = ((old.get("mirror") or {}).get("checks")) or []
    mirror_views = []
    for name in ("icount1", "icount2", "wall", "kvm", "hardware"):
        if name in boots:
            w = not name.startswith("icount")
            lab = {"icount1": f"icount boot 1 ({EMU}, medians of {meta.get('reps', '?')} rounds)",
                   "icount2": f"icount boot 2 ({EMU}, medians of {meta.get('reps', '?')} rounds)",
                   "wall": f"plain TCG wall-clock (MiB/s, medians of {meta.get('wall_reps', '?')} rounds, min–max)",
                   }.get(name, f"{name} (MiB/s wall-clock, medians, min–max)")
            mirror_views.append((name, lab, live_view(name), w))
    mirror_md, mirror_js = mirror_section(mirror_views, mirror_checks, thr)
    consumer_md, consumer_js = consumer_section(primary, is_icount, unit, thr, skipped)
    if consumer_js and consumer_js["targets"]:
        md.append("- **Consumer line** (a C seq_file through the API vs the stock core, same table; "
                  "see [Consumer line](#consumer-line-a-c-seq_file-through-the-api)): "
                  + "; ".join(f"{t['target']}: {'met' if t['met'] else 'missed'}" for t in consumer_js["targets"])
                  + ".")
    for name in ("icount1", "hardware", "kvm", "wall"):
        d = (live_js or {}).get("ratios", {}).get(name)
        if not d:
            continue
        md.append(f"- **Live events vs ftrace** ({'plain TCG wall-clock' if name == 'wall' else unit}; the same "
                  f"captured sched events, ≥ {live_target(boots)} of text, splice → /dev/null), `events` ÷ ftrace's `trace` / "
                  "`events` ÷ `events_copy`: "
                  + ", ".join(f"{ksize(x['size'])} {f_ratio(x['events'], x['ftrace'])} / "
                              f"{f_ratio(x['events'], x['events_copy'])}" for x in d)
                  + ". See [Live events vs ftrace](#live-events-vs-ftrace).")
    for name, mv in ((mirror_js or {}).get("views") or {}).items():
        if name == "icount2":
            continue
        md.append(f"- **ftrace's formatter three ways** ({'plain TCG wall-clock' if mv['wall'] else unit}; "
                  "ftrace's `trace`, `mirror_copy` (equal buffer), `mirror` (gift), same capture), mirror ÷ trace / "
                  "mirror ÷ mirror_copy: "
                  + ", ".join(f"{ksize(r['size'])} {r['mirror_over_trace']:.3f}× / {r['mirror_over_mirror_copy']:.3f}×"
                              for r in mv["rows"])
                  + "; " + "; ".join(f"{t['target']}: {'met' if t['met'] else 'missed'}" for t in mv["targets"])
                  + ". See [ftrace's formatter three ways](#ftraces-formatter-three-ways-trace-mirror_copy-mirror).")
    if live_js and not live_js["ratios"] and live_skips:
        md.append("- Live events vs ftrace: not run (" + "; ".join(sorted(set(live_skips.values()))) + ").")
    if ident:
        exact = ident["identical"] == ident["compared"]
        md.append(f"- Reproducibility: two identical icount boots were "
                  + ("bit-identical: " if exact else "**not** bit-identical. ")
                  + f"{ident['identical']} of {ident['compared']} timed runs matched exactly"
                  + ("." if exact else
                     f". The rest differ by up to {ident['max_rel_file_paths'] * 100:.2f}% on the paths that read "
                     f"the files, up to {ident['max_rel_tcp'] * 100:.2f}% with the TCP sink, and by at most "
                     f"{ident['max_abs_vmsplice']:,} instructions on the short vmsplice runs. The gift ÷ "
                     f"baseline ratios moved by at most {ident['ratios']['max_rel'] * 100:.2f}% between the boots "
                     f"({ident['ratios']['max_rel_tcp'] * 100:.2f}% with TCP), so ratios within "
                     f"±{thr * 100:.1f}% of each other are ties.")
                  + " See [Reproducibility](#reproducibility).")
    md.append("")

    # ---- platform
    md.append("## Platform")
    md.append("")
    rows = [["host CPU", f"{meta.get('host_cpu', '?')} ({meta.get('host_cpus', '?')} CPUs, shared with other "
             "jobs while this ran)"],
            ["host kernel", meta.get("host_kernel", "?")],
            ["emulator", meta.get("qemu", "?")],
            ["guest kernel", f"{env.get('kernel', '?')} ({meta.get('flavour', '?')} build)"],
            ["guest CPU", f"{env.get('cpu_model', '?')}, `-cpu {meta.get('cpu_tcg', '?')}` "
             f"(erms={env.get('erms')}, fsrm={env.get('fsrm')})"],
            ["guest clocksource", env.get("clocksource", "?")],
            ["guest command line", f"`{env.get('cmdline', '?')}`"],
            ["TLB counters", ("/proc/vmstat nr_tlb_*: " + (", ".join(env.get("vmstat_tlb_counters") or [])
                              or "absent (CONFIG_DEBUG_TLBFLUSH is off)")
                             + "; /proc/interrupts TLB row: " + ("present" if env.get("irq_tlb_row") else "absent")
                             + "; kernel TLB flush probe: " + env.get("flush_probe", "absent (spbench without it)"))]]
    if not is_icount:
        rows.insert(4, ["metric", f"KVM, wall-clock CLOCK_MONOTONIC in the guest; medians of "
                        f"{meta.get('wall_reps', '?')} rounds per path"])
    if is_icount:
        rows.insert(4, ["metric (primary)", "`-icount shift=0`, 1 vCPU: CLOCK_MONOTONIC in the guest = emulated "
                        "instruction count (1 instruction = 1 ns; the guest TSC runs at 1 GHz of virtual time, "
                        "calibrated to within 10 ppm)"])
        if "wall" in boots:
            wenv = boots["wall"]["env"] or {}
            rows.insert(5, ["metric (second view)", f"plain TCG, multi-threaded, {wenv.get('cpus', '?')} vCPUs, "
                            "guest clock follows the host clock (`tsc_early_khz` = host TSC rate); "
                            f"{meta.get('wall_reps', '?')} rounds per path"])
    if is_hw:
        rows = [["platform", f"hardware: {meta.get('virt', '?')}"
                 + (f" ({meta['virt_how']})" if meta.get("virt_how") else "")],
                ["kernel release", meta.get("kernel_release", "?")],
                ["kernel", f"`{env.get('kernel', '?')}`"],
                ["CPU", f"{meta.get('cpu_model', env.get('cpu_model', '?'))} ({env.get('cpus', '?')} CPUs online; "
                 f"erms={env.get('erms')}, fsrm={env.get('fsrm')})"],
                ["clocksource", env.get("clocksource", "?")],
                ["command line", f"`{env.get('cmdline', '?')}`"],
                ["metric", "wall-clock CLOCK_MONOTONIC; medians of "
                 f"{meta.get('reps', '?')} interleaved rounds per path, one spbench process per path and round"],
                ["cycles, instructions", meta.get("pmu", "?")
                 + (f" ({meta['perf']})" if meta.get("perf") else "")],
                ["TLB counters", ("/proc/vmstat nr_tlb_*: " + (", ".join(env.get("vmstat_tlb_counters") or [])
                                  or "absent (CONFIG_DEBUG_TLBFLUSH is off)")
                                 + "; /proc/interrupts TLB row: " + ("present" if env.get("irq_tlb_row") else "absent"))]]
        if meta.get("live"):
            # native-bench.sh: whether the live line ran, and why not.
            rows.append(["live line", {"run": f"run: one capture of ≥ {meta.get('live_text_mib', '?')} MiB of text, "
                                              f"{meta.get('live_runs', '?')} runs (see Live events vs ftrace)",
                                       "skipped": "**not run**: " + meta.get("live_why", "?").replace("|", "\\|"),
                                       "none": f"none in the {meta.get('sweep', '?')} sweep"}.get(meta["live"], meta["live"])])
    md.append(table(["", ""], rows))
    md.append("")

    # ---- method
    md.append("## Method")
    md.append("")
    md.append(f"- Every path moves the same record stream: record_count × record_width bytes, "
              f"{meta.get('volume_mib', '?')} MiB per run for raw records and {meta.get('pvolume_mib', '?')} MiB "
              "for printf records. The stream is read from offset 0 to EOF in calls of the splice size. For splice, "
              "the pipe is resized with F_SETPIPE_SZ to the splice size; read() and sendfile() use it as their "
              "count. sendfile() goes through the kernel's private 16-slot pipe.")
    md.append(f"- Every path of a configuration runs once per round. Rounds are interleaved ABAB "
              f"({meta.get('reps', '?')} rounds{' under icount' if is_icount else ''}), after one unreported "
              "warm-up round of 256 KiB per path"
              + (" (on hardware each path and round is one spbench process with its own warm-up, run in the "
                 "same interleaved order)" if is_hw else "")
              + ". Tables show the median over rounds.")
    md.append("- **Timed segment:** it starts at the first call on the already-open file. open() is excluded: "
              "it is a per-file constant, and raw mode builds its 64 KiB table of preformatted records there. The "
              "segment covers the whole stream, close(), and for TCP the receiver draining the last byte. "
              "**It ends by writing `1` to /sys/kernel/seqsplice/purge** (`vm_unmap_aliases()`). So the "
              "deferred vunmap and TLB-flush work is charged to the path that caused it, not to whichever "
              "later run would have hit the lazy-purge threshold. Every path writes it, the copy paths "
              "included, so each pays the same fixed cost.")
    md.append("- Counters are deltas over the timed segment, per MiB moved. "
              "Pages come from /proc/vmstat pgalloc_dma + pgalloc_dma32 + pgalloc_normal + pgalloc_movable. "
              "vmaps, vm_map_ram_maps and vunmaps come from the module's stats. "
              "IPIs come from /proc/interrupts. CAL counts function-call IPIs, which carry kernel-range "
              "TLB flushes such as a vunmap purge, and also remote wakeups (the TCP receiver thread). TLB "
              "counts user-mm shootdowns only. "
              "Kernel TLB flushes are counted exactly by perf counting events on the csd:csd_function_entry "
              "tracepoint (see [Costs per MiB](#costs-per-mib)); the counters are read outside the timed "
              "segment. "
              + ("/proc/vmstat's nr_tlb_* counters (CONFIG_DEBUG_TLBFLUSH) are shown as a cross-check."
                 if env.get("vmstat_tlb_counters") else "/proc/vmstat has no nr_tlb_* counters on this kernel."))
    md.append("- Sinks: /dev/null (`splice_write_null`: no data touched, the best case). The pipe read() into a "
              "user buffer, which is what `pv file | cat` pays. A TCP socket on 127.0.0.1 whose receiving end "
              "is drained with `recv(MSG_TRUNC)`: TCP discards without copying, standing in for a remote "
              "peer. The sender sets TCP_NODELAY. Under icount (1 vCPU) the receiver runs inline in the "
              "sending thread. The socket is non-blocking, and whenever the send buffer is full the thread "
              "drains the receiver. A receiver thread on the same vCPU made the count depend on scheduling "
              "and vary by tens of percent between boots. The wall-clock boot (2 vCPUs) uses a receiver "
              "thread pinned to CPU 1. Either way, loopback delivery and the receiver's work count against "
              "the path.")
    md.append("- Baselines: `trace_copy` is stock `seq_read_iter` + `copy_splice_read` over the same records. "
              "\"copy 4 KiB\" is its stock one-page seq buffer, which is what ftrace's `trace` file does. "
              "\"copy equal\" preallocates a seq buffer of buffer_size_kb, as `single_open_size()` would. "
              "Comparing gift with the equal buffer isolates zero-copy. "
              "Comparing equal with 4 KiB isolates batching.")
    md.append("- Formatting floor: `lseek(fd, EOF)` on `trace_copy` makes `seq_lseek`/`traverse` format every "
              "record into the seq buffer without copying anything out. "
              "\"Transport only\" ratios subtract this floor from both paths. It estimates the cost of moving "
              "bytes, not a measured quantity.")
    md.append("- Ceiling: `vmsplice(SPLICE_F_GIFT)` of page-aligned user memory into the pipe, then "
              "splice to /dev/null. This moves page references with no formatting and no copy.")
    if is_icount:
        md.append("- Why 1 vCPU under icount: with 2 vCPUs, QEMU's round-robin vCPU scheduling is kicked by "
                  "host-timed events. In trial boots, identical boots then differed by up to about 1% on most "
                  "paths, and by several percent on TCP. With 1 vCPU they repeat far more closely; see "
                  "[Reproducibility](#reproducibility). "
                  "Cross-CPU TLB-flush IPIs therefore appear only in the wall-clock boot, which has 2 vCPUs. "
                  "icount could not price them anyway.")
    md.append("")

    # ---- headline
    md.append(f"## Headline: splice → /dev/null ({unit})")
    md.append("")
    md.append(f"Ratios above 1 mean the gift path moved more bytes {per_second}. \"Share of the saving\" "
              "splits the instructions per MiB that gift saves against the stock copy: the batching part is "
              "stock minus equal buffer, the zero-copy part is equal buffer minus gift. It is left out where "
              "gift saves less than 2%. \"Formatting floor ÷ gift\" is the share of the gift path's "
              "instructions that formatting alone (lseek through the records) costs. The floor runs through "
              "the stock seq_file core, an indirect call per callback; `trace`'s engine calls its source "
              "statically and inlines it, so its formatting can cost less than the floor and the share can "
              "exceed 100%. \"Transport only\" "
              "subtracts that floor from both paths before dividing; it is an estimate, shown only where "
              "transport is at least a tenth of the gift path's count.")
    md.append("")
    for mode in ("raw", "printf"):
        for buf in (1024, 64):
            rows, data = headline_rows(primary, mode, buf)
            if rows:
                md.append(f"**{mode}, buffer_size_kb={buf}** (copy equal = copy_buffer_size_kb={buf})")
                md.append("")
                md.append(table(HEAD_COLS, rows))
                md.append("")
                over = [d["size"] for d in data if d["size"] > buf * 1024]
                if over:
                    md.append(f"At {', '.join(ksize(x) for x in over)} the pipe is larger than the "
                              f"{buf} KiB seq buffer. The equal-buffer copy then over-allocates again: "
                              "copy_splice_read sizes its bulk allocation by the free pipe slots, but one "
                              "seq_read_iter call fills only one buffer. So the gap to gift there is batching "
                              "too, not only zero-copy.")
                    md.append("")
    for mode in ("raw", "printf"):
        rows, _ = headline_rows(primary, mode, 1024, width=4096)
        if rows:
            md.append(f"**Extra line: {mode}, record_width=4096, buffer_size_kb=1024**")
            md.append("")
            md.append(table(HEAD_COLS, rows))
            md.append("")
    png = plot(primary, a.out, notes, unit,
               "QEMU TCG -icount shift=0: emulated instruction count, not hardware time" if is_icount
               else ("hardware, wall-clock medians" if is_hw else "KVM guest, wall-clock medians"))
    if png:
        md.append(f"![splice throughput, {unit}]({os.path.basename(png)})")
        md.append("")
    md += consumer_md
    md += live_md
    md += mirror_md

    # ---- losses
    md.append("## Where the gift path loses")
    md.append("")
    if lost:
        md.append(f"Each line is a comparison where `trace` moved fewer bytes {per_second} than the "
                  f"baseline, by more than {thr * 100:.1f}% ("
                  + ("the tie band from [Reproducibility](#reproducibility)" if ident else
                     "the tie band: the median spread of the rounds"
                     + (f", {spread * 100:.2f}%" if spread is not None else "")
                     + ", rounded up to 0.5%") + "). "
                  "The value is gift ÷ baseline.")
        md.append("")
        rows = [[f"{c[0]}, width {c[1]}, buf {c[2]} KiB", ksize(s), label, name, f"{r:.3f}×"]
                for c, s, label, name, r in lost]
        md.append(table(["configuration", "size", "path", "baseline", "gift ÷ baseline"], rows))
    else:
        md.append(f"No comparison in this run had the gift path more than {thr * 100:.1f}% slower.")
    md.append("")
    if is_icount:
        md.append("What icount cannot show: the gift path maps pages (vm_map_ram or vmap) for every fill and "
                  "unmaps them before gifting (map_mode=direct maps nothing). The copy path instead allocates fresh "
                  "pages and copies into them. "
                  "On hardware the gift path's mapping work costs TLB flushes: cross-CPU IPIs once the lazy-purge "
                  "threshold or a purge is reached, plus page-table writes. The copy path's memcpy costs cache "
                  "misses once buffers exceed the caches. The instruction count weighs neither; "
                  "[Costs per MiB](#costs-per-mib) counts the events instead: flushes, flush IPIs, mappings, "
                  "pages and how full the pipe buffers are.")
        md.append("")

    # ---- per-config tables
    md.append(f"## All paths ({unit})")
    md.append("")
    for cfg in primary.configs():
        mode, width, buf = cfg
        sizes = primary.sizes(cfg)
        md.append(f"### {mode}, record_width={width}, buffer_size_kb={buf}")
        md.append("")
        rows = []
        for p in primary.paths(cfg):
            rows.append([PATH_LABEL.get(p, p)] + [f_speed(primary.speed(*cfg, s, p)) for s in sizes])
        md.append(table(["path"] + [ksize(s) for s in sizes], rows))
        md.append("")

    # ---- perf stat
    if primary.has_perf():
        md.append("## Cycles and instructions per MiB (perf stat)")
        md.append("")
        md.append("`perf stat -e cycles,instructions` around each timed segment only (spbench --perf-control: "
                  "counters enabled just before the segment's first clock read, disabled after its last), user "
                  "and kernel, spbench's threads included. Medians over rounds, in millions per MiB moved; IPC "
                  "= instructions ÷ cycles. The ratio rows are baseline cycles ÷ gift cycles: above 1, the gift "
                  "path took fewer cycles per byte.")
        md.append("")
        for cfg in primary.configs():
            sizes = primary.sizes(cfg)
            rows = []
            for p in primary.paths(cfg):
                cells = []
                for sz in sizes:
                    c, i = primary.perf("cycles", *cfg, sz, p), primary.perf("instructions", *cfg, sz, p)
                    if c is None:
                        cells.append("–")
                    else:
                        cells.append(f"{c / 1e6:.2f}" + (f" ({i / c:.2f})" if i else ""))
                rows.append([PATH_LABEL.get(p, p)] + cells)
            for base, name in (("splice.null.copy4", "stock 4 KiB"), ("splice.null.copyeq", "equal buffer")):
                rows.append([f"**cycles: {name} ÷ gift** (splice → /dev/null)"] +
                            [f_ratio(primary.perf("cycles", *cfg, sz, base),
                                     primary.perf("cycles", *cfg, sz, "splice.null.trace")) for sz in sizes])
            md.append(f"**{cfg[0]}, record_width={cfg[1]}, buffer_size_kb={cfg[2]}**: M cycles per MiB (IPC)")
            md.append("")
            md.append(table(["path"] + [ksize(sz) for sz in sizes], rows))
            md.append("")

    # ---- map modes
    mm_tables = []
    for cfg in primary.configs():
        rows = map_mode_rows(primary, cfg)
        if rows:
            mm_tables.append((cfg, rows))
    if mm_tables:
        md.append("## Map modes")
        md.append("")
        md.append(f"The gift splice to /dev/null with each `map_mode` ({unit}), then kernel TLB flushes and "
                  "module mappings per MiB for each (see [Costs per MiB](#costs-per-mib) for what they count). "
                  "`vmap`: a vmalloc area per fill; `vm_map_ram`: per-cpu vmap blocks up to 64 "
                  "pages, a vmalloc area beyond; `direct`: records formatted through each page's "
                  "direct-map address, no mapping. The default, `auto`, is `direct` for splice fills of up to "
                  "4 pages and `vm_map_ram` beyond (the headline's `trace`).")
        for p, name in (("splice.null.tracevmram", "vm_map_ram"), ("splice.null.tracedirect", "direct")):
            if p in skipped:
                md.append("")
                md.append(f"map_mode={name} was not run: {skipped[p]}.")
        md.append("")
        for cfg, rows in mm_tables:
            md.append(f"**{cfg[0]}, width {cfg[1]}, buffer_size_kb={cfg[2]}**")
            md.append("")
            md.append(table(MAP_COLS, rows))
            md.append("")

    # ---- costs
    md.append("## Costs per MiB")
    md.append("")
    md.append("What a hardware run would show beside the throughput, counted here: medians over the rounds "
              "of the primary boot, per MiB moved, over the timed segment (which ends with the `purge` write, "
              "so deferred unmapping is charged to the run that caused it). "
              f"Each run moves {meta.get('volume_mib', '?')} MiB of raw records or "
              f"{meta.get('pvolume_mib', '?')} MiB of printf records. "
              + ("With one vCPU no flush sends an IPI; the wall-clock boot's table below has two. " if is_icount
                 else ""))
    md.append("")
    md += COST_LEGEND
    md.append("")
    if not primary.has_probe:
        md.append("This boot had no kernel TLB flush probe (an older spbench or kernel): those columns "
                  "show \"–\".")
        md.append("")
    for cfg in primary.configs():
        md.append(f"**{cfg[0]}, width {cfg[1]}, buffer_size_kb={cfg[2]}**")
        md.append("")
        md.append(costs_table(primary, cfg))
        md.append("")
    cfg = ("raw", 100, 1024)
    if cfg in primary.configs():
        md.append("Cross-check of the flush count against the kernel's own counters (raw, width 100, "
                  "buffer_size_kb=1024, per MiB). With DEBUG_TLBFLUSH, a full kernel flush adds 1 to "
                  "nr_tlb_remote_flush_received on every CPU (the caller's too) and nothing to "
                  "nr_tlb_remote_flush (only `flush_tlb_all()` and user-mm shootdowns count there); an INVLPG "
                  "range flush adds its pages to nr_tlb_local_flush_one on every CPU, the same counter as "
                  "user-mm single-page flushes. So with one vCPU, nr_tlb_remote_flush_received is the full "
                  "flushes exactly, and nr_tlb_local_flush_one bounds the range-flushed pages from above. CAL "
                  "and TLB are /proc/interrupts rows (IPIs received).")
        md.append("")
        md.append(crosscheck_table(primary, cfg))
        md.append("")
    if "wall" in boots:
        wv = view("wall")
        rows = []
        for wcfg in wv.configs():
            for s in wv.sizes(wcfg):
                for p in wv.paths(wcfg):
                    if not p.startswith("splice."):
                        continue
                    k = (*wcfg, s, p)
                    rows.append([wcfg[0], ksize(s), p, f_cnt(wv.kflushes(*k), 3), f_cnt(wv.flush_ipis(*k), 3),
                                 f_cnt(wv.counter("irq.CAL", *k), 2), f_cnt(wv.counter("irq.TLB", *k), 2),
                                 f_cnt(wv.vmstat_tlb("nr_tlb_remote_flush_received", *k), 3),
                                 f_cnt(wv.counter("mod.vmaps", *k)), f_cnt(wv.counter("mod.vunmaps", *k))])
        if rows:
            wenv = boots["wall"]["env"] or {}
            md.append(f"Kernel TLB flushes and IPIs per MiB with {wenv.get('cpus', '?')} vCPUs, from the "
                      "wall-clock boot (counts, not times). Flush IPIs are the flushes' executions on the other "
                      "CPU; CAL also counts other function calls (remote wakeups of the TCP receiver).")
            md.append("")
            md.append(table(["mode", "size", "path", "kernel TLB flushes", "flush IPIs", "CAL IPIs", "TLB IPIs",
                             "nr_tlb_remote_flush_received", "vmaps", "vunmaps"], rows))
            md.append("")

    # ---- wall-clock view
    if "wall" in boots:
        wv = view("wall")
        wenv = boots["wall"]["env"] or {}
        md.append("## Second view: plain TCG wall-clock")
        md.append("")
        md.append(f"Plain multi-threaded TCG with {wenv.get('cpus', '?')} vCPUs on a host shared with other work. "
                  f"Values are the median of {meta.get('wall_reps', '?')} interleaved rounds in MiB/s of host "
                  "wall-clock time, with the min–max spread. TCG emulates every load and store through its "
                  "softmmu, so **a memcpy is far dearer relative to page-reference work than on hardware**. "
                  "A guest TLB flush in turn empties QEMU's software TLB, so mapping churn is not cheap "
                  "either; compare the 4 KiB column, where the gift path maps and unmaps once per page. "
                  "These are not hardware speeds either.")
        md.append("")
        for wcfg in wv.configs():
            sizes = wv.sizes(wcfg)
            md.append(f"**{wcfg[0]}, width {wcfg[1]}, buffer_size_kb={wcfg[2]}**")
            md.append("")
            rows = []
            for p in wv.paths(wcfg):
                cells = []
                for s in sizes:
                    v, sp = wv.speed(*wcfg, s, p), wv.spread(*wcfg, s, p)
                    cells.append(f"{f_speed(v)} ({f_speed(sp[0])}–{f_speed(sp[1])})" if v else "–")
                rows.append([PATH_LABEL.get(p, p)] + cells)
            rows.append(["**gift / copy 4 KiB** (splice → /dev/null)"] +
                        [f_ratio(wv.speed(*wcfg, s, "splice.null.trace"), wv.speed(*wcfg, s, "splice.null.copy4"))
                         for s in sizes])
            rows.append(["**gift / copy equal** (splice → /dev/null)"] +
                        [f_ratio(wv.speed(*wcfg, s, "splice.null.trace"), wv.speed(*wcfg, s, "splice.null.copyeq"))
                         for s in sizes])
            md.append(table(["path"] + [ksize(s) for s in sizes], rows))
            md.append("")

    # ---- reproducibility
    if ident:
        md.append("## Reproducibility")
        md.append("")
        md.append(f"Both icount boots ran the same kernel, initramfs, command line and CPU model. Of the "
                  f"{ident['compared']} timed runs, {ident['identical']} have identical instruction counts. "
                  f"The largest differences: {ident['max_rel_file_paths'] * 100:.3f}% on the paths that read the "
                  f"files (splice to /dev/null or a pipe, read, sendfile, lseek); "
                  f"{ident['max_rel_tcp'] * 100:.3f}% with the TCP sink; {ident['max_abs_vmsplice']:,} "
                  "instructions on the vmsplice ceiling, whose runs are under a million instructions. Largest "
                  "relative difference per path:")
        md.append("")
        md.append(table(["path", "largest difference between the two boots"],
                        [[p, f"{v * 100:.3f}%"] for p, v in
                         sorted(ident["max_rel_by_path"].items(), key=lambda x: -x[1])]))
        md.append("")
        md.append("")
        rr = ident["ratios"]
        md.append(f"What the conclusions rest on is the ratios, and both paths of a ratio run in the same boot. "
                  f"Across the {rr['pairs']} gift ÷ baseline ratios, the largest change between the boots is "
                  f"{rr['max_rel'] * 100:.2f}% ({rr['max_rel_tcp'] * 100:.2f}% with the TCP sink). This report "
                  f"therefore treats differences within ±{thr * 100:.1f}% as ties.")
        md.append("")
        md.append(table(["gift", "baseline", "configuration", "size", "ratio, boot 1", "ratio, boot 2", "change"],
                        [[w["gift"], w["baseline"], f"{w['mode']}/{w['width']}/{w['buf_kb']} KiB", ksize(w["size"]),
                          f"{w['ratio_boot1']:.4f}", f"{w['ratio_boot2']:.4f}", f"{w['rel'] * 100:.2f}%"]
                         for w in rr["worst"]]))
        md.append("")
        md.append("icount makes QEMU count guest instructions exactly. It does not make every event the guest "
                  "sees a function of that count; only QEMU's record/replay mode promises that. "
                  f"Here the second boot's runs took a median {ident['median_signed_rel'] * 100:+.2f}% more "
                  "instructions than the first, so part of the difference is a boot-wide offset that cancels in "
                  "ratios, and part is path by path. "
                  "The TCP sink amplifies such differences: when the sender and the "
                  "receiver run decides how the stream is cut into segments. With 2 vCPUs, or with a "
                  "receiver thread, the differences were far larger, hence 1 vCPU and the inline receiver. "
                  "The largest single differences in this run:")
        md.append("")
        rows = [[w["path"], f"{w['mode']}/{w['width']}/{w['buf_kb']} KiB", ksize(w["size"]), w["rep"],
                 f"{w['abs_ns']:,}", f"{w['rel'] * 100:.4f}%"] for w in ident["worst"]]
        md.append(table(["path", "mode/width/buf", "size", "round", "instructions", "relative"], rows))
        md.append("")

    md.append("## Caveats")
    md.append("")
    if is_hw:
        md.append("- Wall-clock figures move with frequency scaling, turbo and whatever else the machine runs; "
                  "the rounds are interleaved so drift hits every path alike, and the tie band is their spread. "
                  "Cycles move less with frequency than the wall clock does.")
        md.append("- perf counts spbench's own threads. Work the kernel does for a path in another context "
                  "(softirq or a kworker on another CPU) is in the wall clock but not in the counts.")
        if "hypervisor" in meta.get("virt", ""):
            md.append("- Under a hypervisor a guest's TLB flushes and IPIs can cost VM exits that bare metal "
                      "does not pay, and the PMU (if exposed) is virtualised.")
        md.append("- Formatting is part of every path. The printf-mode tables mostly measure `seq_printf`.")
    else:
        md.append("- An emulated instruction count weighs a 4 KiB memcpy at about a thousand 8-byte moves. It "
                  "weighs a page-table write, a TLB flush or an IPI at the few instructions that issue it. So "
                  "icount understates what the gift path pays on hardware for vmap/vunmap and flushes, and it "
                  "ignores memcpy's cache misses. Real numbers need KVM or bare metal: "
                  "`make bench NATIVE=1` runs the same sweep on the running kernel, and "
                  "`ACCEL=kvm make bench` the same tool unchanged with `-cpu host`.")
        md.append("- Formatting is part of every path. The printf-mode tables mostly measure `seq_printf`.")
        md.append("- Plain-TCG wall-clock figures depend on host load; this host was shared with a kernel build.")
    if notes:
        md.append("- Notes: " + "; ".join(notes))
    md.append("")
    md.append("Raw data: " + os.path.basename(a.out) + ".json (every timed run with its counters).")
    md.append("")

    with open(a.out + ".md", "w") as f:
        f.write("\n".join(md))
    js = {
        "kind": kind,
        "meta": meta,
        "metric": unit,
        "env": {k: v["env"] for k, v in boots.items()},
        "headline": summary,
        "reproducibility": ident,
        "gift_losses": [{"mode": c[0], "width": c[1], "buf_kb": c[2], "size": s, "path": label,
                         "baseline": name, "ratio": r} for c, s, label, name, r in lost],
        "skipped": [{"path": p, "reason": why} for p, why in sorted(skipped.items())],
        "live": live_js,
        "mirror": mirror_js,
        "consumer": consumer_js,
        # Every timed run; zero counters left out to keep the file small.
        "runs": {k: [dict(r, d={n: x for n, x in r["d"].items() if x}) for r in v["runs"]]
                 for k, v in boots.items()},
    }
    with open(a.out + ".json", "w") as f:
        json.dump(js, f, separators=(",", ":"))
        f.write("\n")
    print(f"bench-report: {a.out}.md, {a.out}.json" + (f", {png}" if png else ""))


if __name__ == "__main__":
    main()
