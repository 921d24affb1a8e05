# shellcheck shell=sh
# The benchmark's sweeps, in one place: sourced (not run) by the guest's
# bench.sh (make bench, under QEMU) and by scripts/native-bench.sh (make
# bench NATIVE=1, on the running kernel), in busybox sh and in bash alike.
#
#   sweep_list NAME    print one configuration per line:
#                        MODE WIDTH BUF_KB SIZE PATHS
#                      PATHS is a comma list of spbench path ids, or "-"
#                      for every path (spbench paths); returns 1 for an
#                      unknown NAME.
# Sweeps: full (the report's), short (4 configurations), wall (plain TCG
# wall-clock: the splice paths with reps >= 5), quick (the headline
# ratios, a development check), smoke (no timed run: spbench --smoke only),
# tiny (native-bench.sh --smoke: two configurations, five paths).
# full and quick end with the consumer line (sweep_consumer): the bench
# module's C seq_file (tests/consumer/seqsplice_bench.c) through the API
# against the stock core on the same table, equal and one-page buffer;
# consumer is that line alone (no live line); live is the live line alone;
# batched is the batched line (sweep_batched, and sweep_live batched: its
# live half), make bench's boots of the release and the batched kernel.
#
#   sweep_live NAME    the live line of sweep NAME, run after its list:
#                        live 0 BUF_KB SIZE PATHS
#                      (spbench run --mode live over one spbench capture:
#                      ftrace's trace, the module's events and events_copy,
#                      and ftrace's formatter through the module's mirror
#                      (the engine) and mirror_copy (the stock core, equal
#                      seq buffer), each file whole per run); nothing for
#                      smoke and tiny or an unknown NAME.  Kept out of
#                      sweep_list: its runs need the capture first, and
#                      their lines are not the record stream's (mode live,
#                      no width).  quick and live run every size: the
#                      mirror table is per size.
sweep_live() {
	_lp=splice.null.liveftrace,splice.null.liveevents,splice.null.liveeventscopy
	_lp=$_lp,splice.null.livemirror,splice.null.livemirrorcopy
	case "$1" in
	batched)
		# The batched line's live half: ftrace's trace (one-page seq
		# buffer), mirror_copy (equal buffer) and mirror (gift) spliced at
		# every size, and read() whole in 1 MiB calls.
		_lp=splice.null.liveftrace,splice.null.livemirror,splice.null.livemirrorcopy
		for _s in 4096 16384 65536 262144 1048576; do
			_p=$_lp
			[ "$_s" = 1048576 ] && _p=$_p,read.liveftrace,read.livemirror,read.livemirrorcopy
			echo "live 0 1024 $_s $_p"
		done
		return 0
		;;
	full | quick | live) _ls="4096 16384 65536 262144 1048576" ;;
	short | wall) _ls="4096 65536 1048576" ;;
	*) return 0 ;;
	esac
	for _s in $_ls; do echo "live 0 1024 $_s $_lp"; done
}

# The consumer line: 100-byte records, printf-formatted and seq_write()
# ones (raw), buffer 1024 KiB, splice -> /dev/null at every size, through
# the API (consumer) and the stock core with the equal (consumercopyeq) and
# the one-page (consumercopy4) seq buffer; the C table's formatting floor
# (lseek through the stock core) once per record mode.
sweep_consumer() {
	for _m in raw printf; do
		for _s in 4096 16384 65536 262144 1048576; do
			_p=splice.null.consumer,splice.null.consumercopyeq,splice.null.consumercopy4
			[ "$_s" = 65536 ] && _p=$_p,seek.consumercopy4
			echo "$_m 100 1024 $_s $_p"
		done
	done
}

# The batched line: the copy files whose kernel path the batched kernel
# (FLAVOUR=batched: seq_read_iter() filling and copying seq buffers while
# the iterator has room) changes, beside the gift path, on the record
# stream: trace_copy with the stock one-page seq buffer (copy4), with the
# equal one (copyeq), and trace (gift), 100-byte records raw and printf,
# buffer 1024 KiB, splice -> /dev/null at every size and read() in 1 MiB
# calls.  Its live half is sweep_live batched.  make bench boots it on the
# release and on the batched kernel (scripts/bench.sh).
sweep_batched() {
	for _m in raw printf; do
		for _s in 4096 16384 65536 262144 1048576; do
			_p=splice.null.trace,splice.null.copy4,splice.null.copyeq
			[ "$_s" = 1048576 ] && _p=$_p,read.trace,read.copy4,read.copyeq
			echo "$_m 100 1024 $_s $_p"
		done
	done
}

sweep_list() {
	_sizes="4096 16384 65536 262144 1048576"
	case "$1" in
	full)
		for _m in raw printf; do
			for _b in 64 1024; do
				for _s in $_sizes; do echo "$_m 100 $_b $_s -"; done
			done
		done
		# The extra line: page-sized records.
		for _m in raw printf; do
			for _s in 65536 1048576; do echo "$_m 4096 1024 $_s -"; done
		done
		sweep_consumer
		;;
	short)
		for _s in 4096 65536 1048576; do echo "raw 100 1024 $_s -"; done
		echo "printf 100 64 65536 -"
		;;
	wall)
		# The three map modes too: only this boot has a second CPU, so
		# only here do kernel TLB flushes send IPIs.
		for _m in raw printf; do
			for _s in 4096 65536 1048576; do
				echo "$_m 100 1024 $_s splice.null.trace,splice.null.tracevmram,splice.null.tracevmap,splice.null.tracedirect,splice.null.copy4,splice.null.copyeq,splice.piperead.trace,splice.piperead.copy4,splice.tcp.trace,splice.tcp.copy4,read.trace,read.copy4,seek.copy4,vmsplice.null.user"
			done
		done
		;;
	quick)
		for _s in 4096 65536 1048576; do
			echo "raw 100 1024 $_s splice.null.trace,splice.null.tracedirect,splice.null.tracevmram,splice.null.traceops,splice.null.copyeq,read.trace,read.copyeq,seek.copy4"
		done
		sweep_consumer
		;;
	consumer) sweep_consumer ;;
	batched) sweep_batched ;;
	live) ;;
	smoke) ;;
	tiny)
		for _m in raw printf; do
			echo "$_m 100 1024 65536 splice.null.trace,splice.null.copy4,splice.null.copyeq,read.trace,seek.copy4"
		done
		;;
	*) return 1 ;;
	esac
}
