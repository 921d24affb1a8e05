// SPDX-License-Identifier: GPL-2.0
/*
 * hardening_test - in-guest kselftest-harness tests of seqsplice's limits,
 * signal handling and page lifetimes (the suites' guest setup and helpers:
 * tests/common/seqsplice_test.h).
 * What each test proves, and the defect of the earlier module it catches:
 *
 * hard.cap_pressure_wide_record_pread_fails_enomem_promptly_then_succeeds:
 *   with other opens holding all but 64..200 pages of the default cap
 *   (16384 pages), a pread inside a 1 MiB record fails with ENOMEM within
 *   30 s, and gives the model's byte once a holder closed. Defect: traverse
 *   got fewer pages than asked, the record overflowed, the buffer "grew"
 *   and was cut back to what the cap allows, forever, under m->lock.
 * killable.{lseek,pread,splice_off,copy_pread}.huge_offset_call_dies_promptly_on_sigkill:
 *   a regeneration to 8 TiB (1 MiB raw records) in a child pinned with the
 *   test to CPU 0 lets the test run (cond_resched, PREEMPT_NONE guest: its
 *   1 s sleep ends within 6 s) and ends within 20 s of SIGKILL;
 *   `interrupted` + 1. On trace, and on trace_copy through the stock
 *   seq_file core (traverse() calls the source's next for every record).
 *   Defect: no cond_resched, the pinned parent never ran again (trace_copy:
 *   RCU "self-detected stall", the child unkillable).
 * hard.nonfatal_signal_does_not_interrupt_long_lseek: SIGUSR1 (handler, no
 *   SA_RESTART) during a long regenerating lseek neither fails nor moves
 *   it (the documented decision: only fatal signals interrupt); the
 *   handler runs, the byte there is right, `interrupted` stays.
 * hard.rewind_same_off_in_20000_times_then_16_one_byte_buffers: 20000
 *   1-byte splices at one off_in are served from the held page (exact
 *   bytes, rewinds >= 20000, regenerations <= 2, <= 4 buffer pages, no
 *   try_get_page refusal), then exactly 16 fit a 16-slot pipe. Guards the
 *   rewind path now that idle opens drop their gifted pages.
 * idle.{splice_64k,splice_to_eof}.open_keeps_only_window_and_slack_pages:
 *   after 64 KiB into a 16-slot pipe (a whole 10000-byte file into a 1 MiB
 *   pipe) the idle open keeps <= 2 (<= 1) buffer pages while the pipe holds
 *   the model's bytes. Defect: every gifted page stayed referenced until
 *   the next call or close (~17 and ~3 pages).
 * hard.eight_processes_filling_concurrently_never_exceed_buffer_total_kb:
 *   buffer_total_kb=4096 (1024 pages), 8 processes reading 1 MiB at a time:
 *   right bytes or ENOMEM, pages_held_max <= 1024 (reset by the knob
 *   write), alloc_shortfalls up. Defect: no knob; the cap was checked, then
 *   allocated against, without atomicity.
 * hard.one_open_holds_at_most_16_mib_of_pages: a 16 MiB splice with
 *   buffer_size_kb=16384 never holds more than 4096 buffer pages (+ the
 *   page array). Defect: the fill's page of slack made it 4097.
 * hard.shared_fd_soak_with_private_opens_closed_undrained: 15 s (60 s on
 *   the debug kernel) of pread, splice(off_in) and read/lseek/splice on one
 *   fd, plus private opens closed with undrained pipes that another thread
 *   drains later; every byte checked (counts only on the shared position).
 *
 * "Buffer pages" = pages_held - meta_pages_held: the buffers' page
 * references (pages_held also charges per-open metadata). Every teardown
 * (in the parent, also after a crash) kills workers the test did not reap,
 * writes the default knobs (buffer_total_kb only where it exists, so the
 * other tests still run on the earlier module) and requires pages_held ==
 * 0. Workers (processes, threads) never ASSERT: exit codes and structs.
 * No test unloads the module; setup requires it mounted.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "../common/seqsplice_test.h"

#define CAP_PAGES	16384		/* default buffer_total_kb / 4 */
#define HUGE_COUNT	10000000ULL	/* with 1 MiB records: 10 TiB */
#define MAX_PIDS	16

/* ---- time, processes ---------------------------------------------- */

static uint64_t rnd(unsigned int *seed)
{
	return (uint64_t)rand_r(seed) << 31 | rand_r(seed);
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* waitpid(pid) polled every 10 ms for up to ms; true once reaped. */
static bool wait_deadline(pid_t pid, int *status, long long ms)
{
	long long end = now_ms() + ms;
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) != pid) {
		if ((r < 0 && errno != EINTR) || now_ms() >= end)
			return false;
		sleep_ms(10);
	}
	return true;
}

/* Workers live in the (shared) fixture, so teardown can kill leftovers. */
static void track(pid_t *pids, pid_t old, pid_t pid)
{
	int i;

	for (i = 0; i < MAX_PIDS; i++)
		if (pids[i] == old)
			break;
	if (i < MAX_PIDS)
		pids[i] = pid;
}

/*
 * Waits up to ms for pid to end by itself, else SIGKILLs it and waits 10 s
 * more. True if it ended within ms; one never reaped stays tracked.
 */
static bool finish_worker(pid_t *pids, pid_t pid, int *st, long long ms)
{
	bool in_time = wait_deadline(pid, st, ms), gone = in_time;

	if (!in_time) {
		kill(pid, SIGKILL);
		gone = wait_deadline(pid, st, 10000);
	}
	if (gone)
		track(pids, pid, 0);
	return in_time;
}

typedef void (*child_fn)(int arg, int sync);

/*
 * Forks fn(arg, sync), which must write one byte to sync just before its
 * call and never return; waits up to 30 s for that byte (*started).
 */
static pid_t spawn(struct __test_metadata *_metadata, pid_t *pids,
		   child_fn fn, int arg, bool *started)
{
	struct pollfd pfd = { .events = POLLIN };
	int sp[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe2(sp, O_CLOEXEC));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sp[0]);
		fn(arg, sp[1]);
		_exit(99);
	}
	track(pids, 0, pid);
	close(sp[1]);
	pfd.fd = sp[0];
	while (poll(&pfd, 1, 30000) < 0 && errno == EINTR)
		;
	*started = (pfd.revents & POLLIN) && read(sp[0], &c, 1) == 1;
	close(sp[0]);
	return pid;
}

/* ---- the workers' random offsets ----------------------------------- */

/* A random offset, biased towards the edges and past EOF. */
static uint64_t pick_off(unsigned int *r, const struct stream *s)
{
	switch (rnd(r) % 6) {
	case 0:
		return 0;
	case 1:
		return s->size - 1 - rnd(r) % 3;
	case 2:
		return s->size + rnd(r) % 300;
	case 3:
		return (rnd(r) % (s->size / PG)) * PG + rnd(r) % 3;
	default:
		return rnd(r) % (s->size + 1);
	}
}

/* ---- buffer pages -------------------------------------------------- */

/* pages_held - meta_pages_held (read while the opens are idle). */
static long long buffer_pages(struct __test_metadata *_metadata)
{
	long long meta = stat_ok(_metadata, "meta_pages_held");
	long long held = stat_ok(_metadata, "pages_held");

	ASSERT_LE(meta, held);
	return held - meta;
}

/* ---- fixtures ------------------------------------------------------ */

/* Unlike SEQSPLICE_FIXTURE_HOOKS: the module must be mounted already. */
static void hardening_setup(struct __test_metadata *_metadata)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, access(SEQSPLICE_DIR "stats", R_OK))
		TH_LOG("the module is not mounted at " MNT);
	ASSERT_EQ(0, restore_defaults_quiet(true));
}

/* In the parent, also after a crash: plain ifs, no EXPECT_*. */
static void hardening_teardown(struct __test_metadata *_metadata, pid_t *pids)
{
	long long held = -1;
	int i, killed = 0;

	for (i = 0; i < MAX_PIDS; i++) {
		if (pids[i] > 0 && !kill(pids[i], SIGKILL)) {
			TH_LOG("teardown: killed leftover worker %d", pids[i]);
			killed++;
		}
		pids[i] = 0;
	}
	if (restore_defaults_quiet(true)) {
		TH_LOG("teardown: cannot restore the default knobs");
		_metadata->exit_code = KSFT_FAIL;
	}
	/* A killed worker closes its files as it exits: give it 5 s. */
	for (i = 0; i < (killed ? 500 : 1) && held; i++) {
		if (i)
			sleep_ms(10);
		held = read_stat("pages_held");
	}
	if (held) {
		TH_LOG("teardown: pages_held is %lld with every file closed",
		       held);
		_metadata->exit_code = KSFT_FAIL;
	}
}

#define HARD_FIXTURE(name)						\
	FIXTURE(name) { pid_t pids[MAX_PIDS]; };			\
	FIXTURE_SETUP(name) { hardening_setup(_metadata); }		\
	FIXTURE_TEARDOWN_PARENT(name)					\
	{ hardening_teardown(_metadata, self->pids); }

HARD_FIXTURE(hard)

/* ---- A. cap pressure ------------------------------------------------ */

static void __attribute__((noreturn)) wide_pread_child(int fd, int sync)
{
	unsigned char b;
	ssize_t r;

	if (write(sync, "x", 1) != 1)
		_exit(2);
	r = pread(fd, &b, 1, 5);
	if (r < 0 && errno == ENOMEM)
		_exit(0);
	fprintf(stderr, "# pread returned %zd (%s), want ENOMEM\n", r,
		r < 0 ? strerror(errno) : "no error");
	_exit(1);
}

TEST_F_TIMEOUT(hard, cap_pressure_wide_record_pread_fails_enomem_promptly_then_succeeds, 180)
{
	const long long most = 4000;	/* pages one holder maps at most */
	long long held, room, step, mine = 0;
	int hold[5], nh = 0, fd = -1, t, st = 0, i;
	unsigned char *buf, b = 0;
	bool started;
	ssize_t r;
	pid_t pid;

	set_knob(_metadata, "record_mode", "raw");
	set_knob(_metadata, "record_count", "10000000");
	set_knob(_metadata, "buffer_size_kb", "16384");
	buf = malloc(most * PG);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
	/*
	 * A read() of n - 1 pages maps n pages, held until close; a bigger
	 * read on the same open adds to them. Approach ~132 pages of room.
	 */
	for (;;) {
		held = stat_ok(_metadata, "pages_held");
		room = CAP_PAGES - held;
		if (room <= 200)
			break;
		if (fd < 0 || mine >= most) {
			ASSERT_GT(5, nh)
				TH_LOG("5 holders leave %lld pages of room", room);
			fd = hold[nh++] = open_file(_metadata, TRACE);
			mine = 0;
			continue;
		}
		step = room - 132 < most - mine ? room - 132 : most - mine;
		mine += step;
		/* direct mode: a page holds 40 whole 100-byte records */
		r = read(fd, buf, (mine - 1) * (map_mode_is("direct") ?
						 PG / 100 * 100 : PG));
		ASSERT_LT(0, r) {
			TH_LOG("holder %d: read of %lld pages: %s", nh, mine - 1,
			       strerror(errno));
		}
	}
	ASSERT_LE(64, room)
		TH_LOG("overshot: pages_held %lld leaves %lld pages", held, room);

	set_knob(_metadata, "record_mode", "printf");
	set_knob(_metadata, "record_width", "1048576");
	t = open_file(_metadata, TRACE);
	room = CAP_PAGES - stat_ok(_metadata, "pages_held");
	pid = spawn(_metadata, self->pids, wide_pread_child, t, &started);
	ASSERT_TRUE(finish_worker(self->pids, pid, &st, 30000)) {
		TH_LOG("pread in a 1 MiB record with %lld pages of room under the cap did not return in 30 s",
		       room);
	}
	ASSERT_TRUE(started && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("child status 0x%x", st);

	/* Room again: the same pread gives byte 5 of record 0. */
	close(hold[0]);
	r = pread(t, &b, 1, 5);
	ASSERT_EQ(1, r)
		TH_LOG("pread after a holder closed: %s", strerror(errno));
	ASSERT_EQ(byte_at(5, MODEL_MAX_WIDTH, HUGE_COUNT), b);
	close(t);
	for (i = 1; i < nh; i++)
		close(hold[i]);
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

/* ---- B. huge regenerations: killable, preemptible, other signals ---- */

enum { OP_LSEEK, OP_PREAD, OP_SPLICE_OFF };

HARD_FIXTURE(killable)
FIXTURE_VARIANT(killable) {
	int op;
	const char *file;
};
FIXTURE_VARIANT_ADD(killable, lseek) { .op = OP_LSEEK, .file = TRACE };
FIXTURE_VARIANT_ADD(killable, pread) { .op = OP_PREAD, .file = TRACE };
FIXTURE_VARIANT_ADD(killable, splice_off) {
	.op = OP_SPLICE_OFF, .file = TRACE
};
/* The same records through the stock core: seq_read_iter(), traverse(). */
FIXTURE_VARIANT_ADD(killable, copy_pread) {
	.op = OP_PREAD, .file = TRACE_COPY
};

static void huge_knobs(struct __test_metadata *_metadata)
{
	set_knob(_metadata, "record_mode", "raw");
	set_knob(_metadata, "record_width", "1048576");
	set_knob(_metadata, "record_count", "10000000");
	model_raw = 1;
}

static bool pin_cpu0(void)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	return !sched_setaffinity(0, sizeof(cpus), &cpus);
}

/* The file huge_call_child() opens (set before the fork). */
static const char *huge_file = TRACE;

static void __attribute__((noreturn)) huge_call_child(int op, int sync)
{
	loff_t off = 1LL << 43;
	unsigned char b;
	int fd, p[2];
	char path[256];
	ssize_t r;

	snprintf(path, sizeof(path), SEQSPLICE_DIR "%s", huge_file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!pin_cpu0() || fd < 0 || pipe2(p, O_CLOEXEC) ||
	    write(sync, "x", 1) != 1)
		_exit(2);
	if (op == OP_LSEEK)
		r = lseek(fd, off, SEEK_SET);
	else if (op == OP_PREAD)
		r = pread(fd, &b, 1, off);
	else
		r = splice(fd, &off, p[1], NULL, 1, 0);
	fprintf(stderr, "# the call at 8 TiB returned %zd before SIGKILL\n", r);
	_exit(1);
}

TEST_F_TIMEOUT(killable, huge_offset_call_dies_promptly_on_sigkill, 90)
{
	long long before, slept = 0, reaped;
	bool started;
	int st = 0;
	pid_t pid;

	huge_knobs(_metadata);
	huge_file = variant->file;
	before = stat_ok(_metadata, "interrupted");
	/* Both on one CPU: without cond_resched the parent never runs. */
	ASSERT_TRUE(pin_cpu0())
		TH_LOG("sched_setaffinity(CPU 0): %s", strerror(errno));
	pid = spawn(_metadata, self->pids, huge_call_child, variant->op,
		    &started);
	if (started) {
		slept = now_ms();
		sleep_ms(1000);
		slept = now_ms() - slept;
	}
	kill(pid, SIGKILL);
	reaped = now_ms();
	ASSERT_TRUE(finish_worker(self->pids, pid, &st, 20000))
		TH_LOG("%s: child not dead 20 s after SIGKILL", variant->file);
	reaped = now_ms() - reaped;
	fprintf(stderr, "# %s: 1 s sleep took %lld ms, child reaped %lld ms after SIGKILL\n",
		variant->file, slept, reaped);
	/* The guest's clock under TCG runs fast: a generous bound. */
	ASSERT_GT(6000, slept)
		TH_LOG("a 1 s sleep beside the call took %lld ms", slept);
	ASSERT_TRUE(started)
		TH_LOG("the child never got to its call (status 0x%x)", st);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		TH_LOG("child status 0x%x: the call ended before the kill", st);
	ASSERT_EQ(before + 1, stat_ok(_metadata, "interrupted"));
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

static volatile sig_atomic_t usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

/*
 * lseek to 300 MiB, then twice as far (at most 7 times) until one lseek
 * saw SIGUSR1 arrive while it ran; each must return exactly its offset.
 */
static void __attribute__((noreturn)) nonfatal_child(int unused, int sync)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	int64_t off = 300LL << 20;
	unsigned char b;
	int fd, i;

	(void)unused;
	sigemptyset(&sa.sa_mask);
	fd = open(TRACE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sigaction(SIGUSR1, &sa, NULL) || write(sync, "x", 1) != 1)
		_exit(2);
	for (i = 0; i < 8; i++, off *= 2) {
		sig_atomic_t seen = usr1_hits;
		off_t r = lseek(fd, off, SEEK_SET);

		if (r != off) {
			fprintf(stderr, "# lseek(%lld) returned %lld: %s (handler ran %d times)\n",
				(long long)off, (long long)r, strerror(errno),
				(int)usr1_hits);
			_exit(3);
		}
		if (usr1_hits != seen)
			break;
	}
	if (i == 8)
		_exit(4);
	if (read(fd, &b, 1) != 1 || b != byte_at(off, MODEL_MAX_WIDTH, HUGE_COUNT))
		_exit(5);
	_exit(0);
}

TEST_F_TIMEOUT(hard, nonfatal_signal_does_not_interrupt_long_lseek, 150)
{
	bool started, done = false;
	long long before, end;
	int st = 0;
	pid_t pid;

	huge_knobs(_metadata);
	before = stat_ok(_metadata, "interrupted");
	pid = spawn(_metadata, self->pids, nonfatal_child, 0, &started);
	if (started) {
		sleep_ms(200);
		/* SIGUSR1 every 20 ms until the child is done, up to 100 s. */
		for (end = now_ms() + 100000; !done && now_ms() < end;) {
			kill(pid, SIGUSR1);
			done = wait_deadline(pid, &st, 20);
		}
	}
	if (done)
		track(self->pids, pid, 0);
	else
		finish_worker(self->pids, pid, &st, 0);
	ASSERT_TRUE(started);
	ASSERT_TRUE(done)
		TH_LOG("lseek under SIGUSR1 did not finish in 100 s");
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("child status 0x%x (3: lseek failed or went elsewhere, 4: no signal during any lseek, 5: wrong byte there)",
		       st);
	}
	ASSERT_EQ(before, stat_ok(_metadata, "interrupted"));
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

/* ---- C. rewinds at one off_in --------------------------------------- */

TEST_F_TIMEOUT(hard, rewind_same_off_in_20000_times_then_16_one_byte_buffers, 180)
{
	long long rw0, rg0, gf0;
	unsigned char c, got[16];
	struct stream s;
	int p[2], fd, i, n = 0;
	ssize_t r;
	loff_t off;

	stream_build_mode(_metadata, &s, 100, 10000, false);
	rw0 = stat_ok(_metadata, "rewinds");
	rg0 = stat_ok(_metadata, "regenerations");
	gf0 = stat_ok(_metadata, "get_page_failures");
	ASSERT_EQ(16 * PG, make_pipe(_metadata, p, 0));
	fd = open_file(_metadata, TRACE);
	for (i = 0; i < 20000; i++) {
		off = 5000;
		r = splice(fd, &off, p[1], NULL, 1, 0);
		ASSERT_EQ(1, r)
			TH_LOG("splice %d at 5000: %s", i, strerror(errno));
		ASSERT_EQ(5001, off);
		ASSERT_EQ(1, read(p[0], &c, 1));
		ASSERT_EQ(s.buf[5000], c)
			TH_LOG("splice %d at 5000 gave the wrong byte", i);
		if (i % 2000 == 0) {
			ASSERT_GE(4, buffer_pages(_metadata))
				TH_LOG("after %d splices", i);
		}
	}
	/* Undrained: a 16-slot pipe takes exactly 16 one-byte buffers. */
	for (;;) {
		off = 5000;
		r = splice(fd, &off, p[1], NULL, 1, SPLICE_F_NONBLOCK);
		if (r < 0 && errno == EAGAIN)
			break;
		ASSERT_EQ(1, r) {
			TH_LOG("splice into a pipe with %d bytes: %s", n,
			       strerror(errno));
		}
		ASSERT_EQ(5001, off);
		ASSERT_GT(16, n++);
	}
	ASSERT_EQ(16, n);
	ASSERT_EQ(16, pipe_bytes(p[0]));
	ASSERT_GE(4, buffer_pages(_metadata));
	ASSERT_EQ(16, read_upto(p[0], got, 16));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(s.buf[5000], got[i]);
	}
	ASSERT_LE(rw0 + 20000, stat_ok(_metadata, "rewinds"));
	ASSERT_GE(rg0 + 2, stat_ok(_metadata, "regenerations"));
	ASSERT_EQ(gf0, stat_ok(_metadata, "get_page_failures"));
	close(fd);
	close(p[0]);
	close(p[1]);
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

/* ---- D. idle opens drop their gifted pages -------------------------- */

HARD_FIXTURE(idle)
FIXTURE_VARIANT(idle) {
	const char *count;	/* record_count */
	unsigned int slots;	/* pipe size, 0: default (16) */
	size_t len;		/* bytes to splice, 0: to EOF */
	long long max_pages;	/* buffer pages the idle open may keep */
};
FIXTURE_VARIANT_ADD(idle, splice_64k) {
	.count = "10000", .len = 16 * PG, .max_pages = 2,
};
FIXTURE_VARIANT_ADD(idle, splice_to_eof) {
	.count = "100", .slots = 256, .max_pages = 1,
};

TEST_F(idle, open_keeps_only_window_and_slack_pages)
{
	unsigned char *buf = malloc(MIB);
	size_t want, in = 0;
	struct stream s;
	long long bufp;
	char why[200];
	int p[2], fd;
	ssize_t r;

	ASSERT_NE(NULL, buf);
	set_knob(_metadata, "record_count", variant->count);
	stream_build_mode(_metadata, &s, 100, atoi(variant->count), false);
	want = variant->len ? variant->len : s.size;
	/* direct mode: 16 pipe buffers of 40 whole 100-byte records each */
	if (variant->len && map_mode_is("direct"))
		want = want / PG * (PG / 100 * 100);
	ASSERT_EQ(variant->slots ? variant->slots * PG : 16 * PG,
		  make_pipe(_metadata, p, variant->slots));
	fd = open_file(_metadata, TRACE);
	do {
		r = splice(fd, NULL, p[1], NULL, variant->len ? want - in : MIB,
			   SPLICE_F_NONBLOCK);
		ASSERT_LE(0, r)
			TH_LOG("splice after %zu bytes: %s", in, strerror(errno));
		ASSERT_TRUE(r || !variant->len);
		in += r;
	} while (variant->len ? in < want : r > 0);
	ASSERT_EQ(want, in);
	ASSERT_EQ((long)want, pipe_bytes(p[0]));
	bufp = buffer_pages(_metadata);
	ASSERT_GE(variant->max_pages, bufp) {
		TH_LOG("the idle open keeps %lld buffer pages while its gifted pages sit in the pipe",
		       bufp);
	}
	ASSERT_EQ((ssize_t)want, read_upto(p[0], buf, want));
	ASSERT_TRUE(model_check(&s, 0, buf, want, why, sizeof(why)))
		TH_LOG("pipe: %s", why);
	/* The open goes on from the right byte (or EOF) after the drop. */
	r = read_upto(fd, buf, PG);
	ASSERT_EQ((ssize_t)(s.size - want < PG ? s.size - want : PG), r);
	ASSERT_TRUE(model_check(&s, want, buf, r, why, sizeof(why)))
		TH_LOG("read after the splice: %s", why);
	close(fd);
	close(p[0]);
	close(p[1]);
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

/*
 * One open's buffer is at most 16 MiB, slack page included: a 16 MiB
 * splice into a 16 MiB pipe with buffer_size_kb=16384 maps at most 4096
 * pages (the earlier module took 4097: the fill target plus a page of
 * slack). pages_held_max - meta_pages_held is the buffer's share.
 */
TEST_F_TIMEOUT(hard, one_open_holds_at_most_16_mib_of_pages, 120)
{
	const size_t len = 16 * MIB;
	unsigned char *buf = malloc(len);
	char why[200], old[32] = "";
	struct stream s;
	long long high;
	size_t in = 0;
	int p[2], fd, m;
	ssize_t r;

	ASSERT_NE(NULL, buf);
	m = open("/proc/sys/fs/pipe-max-size", O_RDWR);
	ASSERT_LE(0, m);
	ASSERT_LT(0, read(m, old, sizeof(old) - 1));
	ASSERT_EQ(9, pwrite(m, "33554432\n", 9, 0));
	set_knob(_metadata, "record_mode", "raw");
	set_knob(_metadata, "record_count", "200000");
	set_knob(_metadata, "buffer_size_kb", "16384");
	stream_build_mode(_metadata, &s, 100, 200000, true);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_EQ((int)len, fcntl(p[1], F_SETPIPE_SZ, (int)len));
	fd = open_file(_metadata, TRACE);
	set_knob(_metadata, "buffer_total_kb", "65536"); /* restarts the mark */
	r = splice(fd, NULL, p[1], NULL, len, 0);
	ASSERT_LT(0, r);
	/* The metadata (page array, raw table) stays until close. */
	high = stat_ok(_metadata, "pages_held_max") -
	       stat_ok(_metadata, "meta_pages_held");
	EXPECT_GE(4096, high)
		TH_LOG("one open held %lld buffer pages at once", high);
	EXPECT_LE(4000, high)
		TH_LOG("the splice filled only %lld pages", high);
	ASSERT_EQ(r, read_upto(p[0], buf, r));
	in = r;
	ASSERT_TRUE(model_check(&s, 0, buf, in, why, sizeof(why)))
		TH_LOG("pipe: %s", why);
	close(fd);
	close(p[0]);
	close(p[1]);
	ASSERT_LT(0, pwrite(m, old, strlen(old), 0));
	close(m);
	free(buf);
}

/* ---- E. concurrent fills under buffer_total_kb ---------------------- */

static struct {
	int fd[8];
	const struct stream *s;
} fills;

/*
 * Process i: 1 MiB reads for 5 s, bytes checked, lseek 0 every 5 reads.
 * Exits 0 if it got bytes, 3 if it only ever got ENOMEM, 1 on an error.
 */
static void __attribute__((noreturn)) fill_child(int i, int sync)
{
	const struct stream *s = fills.s;
	unsigned char *buf = malloc(MIB);
	long long end = now_ms() + 5000, bytes = 0, reads = 0;
	uint64_t pos = 0;
	char why[200];
	ssize_t r;
	int k;

	for (k = 0; k < 8; k++)
		if (k != i)
			close(fills.fd[k]);
	if (!buf || write(sync, "x", 1) != 1)
		_exit(1);
	while (now_ms() < end) {
		r = read(fills.fd[i], buf, MIB);
		if (r < 0 && errno == ENOMEM)
			continue;
		if (r < 0 || (!r && pos < s->size) || (size_t)r > s->size - pos) {
			fprintf(stderr, "# process %d: read at %llu returned %zd: %s\n",
				i, (unsigned long long)pos, r,
				r < 0 ? strerror(errno) : "bad count");
			_exit(1);
		}
		if (!model_check(s, pos, buf, r, why, sizeof(why))) {
			fprintf(stderr, "# process %d: %s\n", i, why);
			_exit(1);
		}
		pos += r;
		bytes += r;
		if (r && ++reads % 5)
			continue;
		if (lseek(fills.fd[i], 0, SEEK_SET)) {
			fprintf(stderr, "# process %d: lseek 0: %s\n", i,
				strerror(errno));
			_exit(1);
		}
		pos = 0;
	}
	_exit(bytes ? 0 : 3);
}

TEST_F_TIMEOUT(hard, eight_processes_filling_concurrently_never_exceed_buffer_total_kb, 120)
{
	long long sf0, max, end;
	int st[8], i, fed = 0;
	struct stream s;
	pid_t pid[8];
	bool started;

	set_knob(_metadata, "buffer_total_kb", "4096");
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held_max"))
		TH_LOG("writing buffer_total_kb did not reset pages_held_max");
	set_knob(_metadata, "record_mode", "raw");
	set_knob(_metadata, "record_count", "50000");
	stream_build_mode(_metadata, &s, 100, 50000, true);
	fills.s = &s;
	sf0 = stat_ok(_metadata, "alloc_shortfalls");
	for (i = 0; i < 8; i++)
		fills.fd[i] = open_file(_metadata, TRACE);
	for (i = 0; i < 8; i++)
		pid[i] = spawn(_metadata, self->pids, fill_child, i, &started);
	end = now_ms() + 60000;
	for (i = 0; i < 8; i++) {
		if (!finish_worker(self->pids, pid[i], &st[i],
				   end > now_ms() ? end - now_ms() : 0))
			st[i] = -1;
		close(fills.fd[i]);
	}
	for (i = 0; i < 8; i++) {
		EXPECT_TRUE(st[i] != -1 && WIFEXITED(st[i]) &&
			    (WEXITSTATUS(st[i]) == 0 || WEXITSTATUS(st[i]) == 3))
			TH_LOG("process %d: status 0x%x", i, st[i]);
		fed += st[i] != -1 && WIFEXITED(st[i]) && !WEXITSTATUS(st[i]);
	}
	max = stat_ok(_metadata, "pages_held_max");
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
	ASSERT_GE(1024, max)
		TH_LOG("pages_held reached %lld under a 1024-page cap", max);
	ASSERT_LT(sf0, stat_ok(_metadata, "alloc_shortfalls"))
		TH_LOG("8 x 256-page buffers under 1024 pages: no shortfall");
	ASSERT_LT(0, fed) TH_LOG("no process got a single byte");
}

/* ---- F. shared-fd soak ---------------------------------------------- */

enum { SK_PREAD, SK_SPLICE_OFF, SK_SHARED, SK_PRIVATE, SK_DRAIN };

static const char *const sk_names[] = {
	"pread", "splice_off_in", "shared_pos", "private_open", "drainer",
};

#define PRIV_MAX	(200 * 1024)

/* A closed private open's undrained pipe, passed through soak.q. */
struct handoff {
	int rfd;
	uint64_t off;
	size_t len;
};

struct soak {
	int fd;			/* the shared open */
	int q[2];		/* handoffs: private_open -> drainer */
	const struct stream *s;
	long long end_ms;
};

struct soak_worker {
	pthread_t th;
	int kind;
	struct soak *k;
	unsigned int seed;
	long long ops;
	int failed;
	char msg[256];
};

/*
 * pread, splice(off_in), or read/lseek/splice(NULL) on the shared fd:
 * 0 exactly at or past EOF, else 1..min(len, EOF - off) bytes, the model's
 * (the shared position's bytes are not checked, its counts are).
 */
static void soak_shared_fd(struct soak_worker *w)
{
	const struct stream *s = w->k->s;
	unsigned char *buf = malloc(70000 + PG);
	int fd = w->k->fd, p[2] = { -1, -1 };
	uint64_t pos = 0;
	char why[200];

	if (!buf || pipe2(p, O_CLOEXEC) ||
	    fcntl(p[1], F_SETPIPE_SZ, (int)(32 * PG)) != (int)(32 * PG))
		worker_fail(w, "setup: %s", strerror(errno));
	while (!w->failed && now_ms() < w->k->end_ms) {
		size_t len = 1 + rnd(&w->seed) % 70000;
		uint64_t off = pick_off(&w->seed, s);
		unsigned int what = rnd(&w->seed) % 10;
		bool piped = w->kind == SK_SPLICE_OFF;
		loff_t o = off;
		ssize_t r;

		w->ops++;
		if (w->kind == SK_PREAD) {
			r = pread(fd, buf, len, off);
		} else if (piped) {
			r = splice(fd, &o, p[1], NULL, len, 0);
			if (r >= 0 && o != (loff_t)(off + r))
				worker_fail(w, "splice at %llu returned %zd, off_in now %lld",
					    (unsigned long long)off, r,
					    (long long)o);
		} else if (what == 0) {
			pos = rnd(&w->seed) % (s->size + 300);
			if (lseek(fd, pos, SEEK_SET) != (off_t)pos)
				worker_fail(w, "lseek %llu: %s",
					    (unsigned long long)pos,
					    strerror(errno));
			continue;
		} else if (off = pos, what < 5) {
			r = read(fd, buf, len);
		} else {
			r = splice(fd, NULL, p[1], NULL, len, 0);
			piped = true;
		}
		if (w->failed)
			break;
		if (r < 0)
			worker_fail(w, "%s of %zu at %llu: %s", sk_names[w->kind],
				    len, (unsigned long long)off, strerror(errno));
		else if (off >= s->size ? r != 0 : (r == 0 || (size_t)r > len ||
						    (size_t)r > s->size - off))
			worker_fail(w, "%s (op %u): %zd bytes for %zu at %llu (EOF %zu)",
				    sk_names[w->kind], what, r, len,
				    (unsigned long long)off, s->size);
		else if (piped && (pipe_bytes(p[0]) != r ||
				   read_upto(p[0], buf, r) != r))
			worker_fail(w, "%s: the pipe does not hold the %zd bytes",
				    sk_names[w->kind], r);
		else if (w->kind == SK_SHARED)
			pos += r;
		else if (!model_check(s, off, buf, r, why, sizeof(why)))
			worker_fail(w, "%s: %s", sk_names[w->kind], why);
	}
	close(p[0]);
	close(p[1]);
	free(buf);
}

/* Private opens: splice into a fresh pipe, close undrained, hand it over. */
static void soak_private(struct soak_worker *w)
{
	struct soak *k = w->k;

	while (!w->failed && now_ms() < k->end_ms) {
		struct handoff h = { .len = 1 + rnd(&w->seed) % PRIV_MAX };
		int fd, p[2] = { -1, -1 };
		size_t in = 0;
		loff_t o;

		h.off = rnd(&w->seed) % (k->s->size - h.len + 1);
		o = h.off;
		w->ops++;
		fd = open(TRACE_PATH, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || pipe2(p, O_CLOEXEC) ||
		    fcntl(p[1], F_SETPIPE_SZ, (int)(128 * PG)) != (int)(128 * PG))
			worker_fail(w, "open/pipe: %s", strerror(errno));
		while (!w->failed && in < h.len) {
			ssize_t r = splice(fd, &o, p[1], NULL, h.len - in,
					   SPLICE_F_NONBLOCK);

			if (r <= 0 || o != (loff_t)(h.off + in + r) ||
			    pipe_bytes(p[0]) != (long)(in + r))
				worker_fail(w, "splice %zu of %zu at %llu: %zd (%s), off_in %lld",
					    h.len - in, h.len,
					    (unsigned long long)h.off, r,
					    r < 0 ? strerror(errno) : "",
					    (long long)o);
			in += r > 0 ? r : 0;
		}
		close(fd);
		close(p[1]);
		h.rfd = p[0];
		/* Blocks while the drainer is behind (a one-page queue). */
		if (w->failed || write(k->q[1], &h, sizeof(h)) != sizeof(h)) {
			worker_fail(w, "handoff: %s", strerror(errno));
			close(p[0]);
		}
	}
	close(k->q[1]);		/* the drainer sees EOF */
}

static void drain_one(struct soak_worker *w, const struct handoff *h,
		      unsigned char *buf)
{
	ssize_t got = buf ? read_upto(h->rfd, buf, PRIV_MAX + 1) : -1;
	char why[200];

	close(h->rfd);
	w->ops++;
	if (got != (ssize_t)h->len)
		worker_fail(w, "pipe of %zu bytes from %llu gave %zd", h->len,
			    (unsigned long long)h->off, got);
	else if (!model_check(w->k->s, h->off, buf, got, why, sizeof(why)))
		worker_fail(w, "pipe after close: %s", why);
}

/* Keeps the last 4 handed-over pipes waiting; drains the oldest. */
static void soak_drain(struct soak_worker *w)
{
	unsigned char *buf = malloc(PRIV_MAX + 1);
	struct handoff held[4], h;
	int n = 0, i;

	while (read_upto(w->k->q[0], &h, sizeof(h)) == sizeof(h)) {
		if (n >= 4)
			drain_one(w, &held[n % 4], buf);
		held[n++ % 4] = h;
	}
	for (i = n > 4 ? n - 4 : 0; i < n; i++)
		drain_one(w, &held[i % 4], buf);
	free(buf);
}

/* No ASSERTs in threads: the harness longjmp()s, which a thread must not. */
static void *soak_fn(void *arg)
{
	struct soak_worker *w = arg;

	if (w->kind == SK_PRIVATE)
		soak_private(w);
	else if (w->kind == SK_DRAIN)
		soak_drain(w);
	else
		soak_shared_fd(w);
	return NULL;
}

/*
 * How long the shared-fd soak runs: SEQSPLICE_SOAK_SECONDS (make soak sets
 * 60 on the debug kernel), else 15 s: on either kernel every thread makes
 * calls (asserted below), which is what make check needs of it.
 */
static long long soak_ms(void)
{
	const char *v = getenv("SEQSPLICE_SOAK_SECONDS");
	long sec = v ? atol(v) : 0;

	return (sec > 0 && sec <= 240 ? sec : 15) * 1000LL;
}

TEST_F_TIMEOUT(hard, shared_fd_soak_with_private_opens_closed_undrained, 300)
{
	static const int kinds[] = {
		SK_PREAD, SK_PREAD, SK_SPLICE_OFF, SK_SPLICE_OFF, SK_SHARED,
		SK_PRIVATE, SK_DRAIN,
	};
	struct soak_worker w[ARRAY_SIZE(kinds)];
	struct stream s;
	struct soak k;
	size_t i;

	/* 2 MB of raw records: every pread/splice(off_in) regenerates. */
	set_knob(_metadata, "record_mode", "raw");
	set_knob(_metadata, "record_count", "20000");
	stream_build_mode(_metadata, &s, 100, 20000, true);
	k.s = &s;
	ASSERT_EQ(0, pipe2(k.q, O_CLOEXEC));
	ASSERT_EQ((int)PG, fcntl(k.q[1], F_SETPIPE_SZ, (int)PG));
	k.fd = open_file(_metadata, TRACE);
	k.end_ms = now_ms() + soak_ms();
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].kind = kinds[i];
		w[i].k = &k;
		w[i].seed = 0x5eed + i * 7919;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, soak_fn, &w[i]));
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		ASSERT_EQ(0, pthread_join(w[i].th, NULL));
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		TH_LOG("thread %zu (%s): %lld ops", i, sk_names[w[i].kind],
		       w[i].ops);
		EXPECT_EQ(0, w[i].failed) {
			TH_LOG("thread %zu (%s): %s", i, sk_names[w[i].kind],
			       w[i].msg);
		}
		EXPECT_LT(0, w[i].ops);
	}
	/* Every handed-over pipe was drained (and closed) by the drainer. */
	ASSERT_EQ(w[5].ops - w[5].failed, w[6].ops);
	close(k.q[0]);
	close(k.fd);
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
}

TEST_HARNESS_MAIN
