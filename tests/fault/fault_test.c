// SPDX-License-Identifier: GPL-2.0
/*
 * seqsplice under injected allocation failures (debug kernel with
 * CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS).
 *
 * fail_page_alloc's defaults (min-order=1, ignore-gfp-wait=Y,
 * ignore-gfp-highmem=Y) never fail the order-0 GFP_USER pages the module
 * allocates: they are set to 0/N/N first.  Then:
 *  - systematic: for each syscall kind, /proc/thread-self/fail-nth = 1, 2, ...
 *    until the call completes without reaching the N-th fault point;
 *  - random: 10 % of the test task's page and slab allocations fail.
 * Every call must return a partial count whose bytes equal the record
 * stream at the offset it used, or ENOMEM; afterwards, with faults off, the
 * same file descriptor must go on with the right bytes, and once everything
 * is closed and drained the module holds no page.
 *
 * SEQSPLICE_SOURCE=events: the same on `events` (the live-events source
 * through the engine), over a frozen ring buffer (events captured,
 * events_enable 0): the expected bytes are a snapshot of `events_copy`,
 * read completely first; the record knobs are not written (they do not
 * apply), buffer_size_kb and map_mode are; the pread is at a third of the
 * snapshot instead of 123457; after each systematic fault the same fd is
 * checked for the next MiB at most (the random test reads to EOF).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "../common/seqsplice_test.h"

#define DIR SEQSPLICE_DIR
#define DBG "/sys/kernel/debug/"
#define WIDTH 100
#define COUNT 3000
#define BIG (1 << 20)

static unsigned char got_static[BIG], want_static[BIG];
/* got_static/want_static; for events, buffers past the snapshot's end */
static unsigned char *got = got_static, *want = want_static;
static size_t bufsz = BIG;
/* SEQSPLICE_SOURCE=events: the snapshot of events_copy (buf NULL: trace) */
static struct stream snap;
/* the file under test: trace, or events */
static const char *src_path = DIR "trace";

/* The expected bytes [off, off + len) into buf, clipped at EOF: how many. */
static size_t expect(unsigned char *buf, uint64_t off, size_t len)
{
	if (!snap.buf)
		return fill(buf, off, len, WIDTH, COUNT);
	if (off >= snap.size)
		return 0;
	if (len > snap.size - off)
		len = snap.size - off;
	memcpy(buf, snap.buf + off, len);
	return len;
}

/* EOF of the stream under test. */
static uint64_t stream_size(void)
{
	return snap.buf ? snap.size : (uint64_t)WIDTH * COUNT;
}

static int setup_attrs(const char *dir, int page)
{
	char p[128];
	int err = 0;

	snprintf(p, sizeof(p), DBG "%s/verbose", dir);
	err |= put(p, "0");
	snprintf(p, sizeof(p), DBG "%s/ignore-gfp-wait", dir);
	err |= put(p, "N");
	if (page) {
		snprintf(p, sizeof(p), DBG "%s/min-order", dir);
		err |= put(p, "0");
		snprintf(p, sizeof(p), DBG "%s/ignore-gfp-highmem", dir);
		err |= put(p, "N");
	}
	snprintf(p, sizeof(p), DBG "%s/probability", dir);
	err |= put(p, "0");
	snprintf(p, sizeof(p), DBG "%s/times", dir);
	err |= put(p, "-1");
	return err;
}

static int fail_nth_fd(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR);
}

static int arm(int nth_fd, int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", n);
	return pwrite(nth_fd, v, strlen(v), 0) > 0 ? 0 : -1;
}

/* Remaining count: 0 when the N-th fault point was reached (injected). */
static int disarm(int nth_fd)
{
	char v[16] = "";
	int left;

	if (pread(nth_fd, v, sizeof(v) - 1, 0) <= 0)
		return -1;
	left = atoi(v);
	put("/proc/thread-self/fail-nth", "0");
	return left;
}

/*
 * put() while faults may be injected into the writer itself: up to 1000
 * tries (at 10 % a try fails about one time in ten).
 */
static bool put_retrying(const char *path, const char *value)
{
	int i;

	for (i = 0; i < 1000; i++)
		if (!put(path, value))
			return true;
	return false;
}

static ssize_t drain(int fd, unsigned char *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n && (r = read(fd, buf + done, n - done)) > 0)
		done += r;
	return done;
}

/*
 * The rest of the stream from the fd's position matches the model: up to
 * max bytes of it (to EOF, seen, when the rest is shorter).
 */
static int rest_ok(int fd, uint64_t pos, size_t max)
{
	ssize_t n = drain(fd, got, max);
	size_t m = expect(want, pos, max);

	return n == (ssize_t)m && !memcmp(got, want, m);
}

FIXTURE(fault) {
	int nth;
};

FIXTURE_SETUP(fault)
{
	ASSERT_EQ(0, setup_attrs("fail_page_alloc", 1));
	ASSERT_EQ(0, setup_attrs("failslab", 0));
	source_setup(_metadata, &snap, "3000 records of 100 bytes");
	if (snap.buf) {
		/* room to drain the whole rest and see EOF (rest_ok, random) */
		bufsz = snap.size + 1 > BIG ? snap.size + 1 : BIG;
		got = malloc(bufsz);
		want = malloc(bufsz);
		ASSERT_TRUE(got && want);
		src_path = DIR EVENTS;
	} else {
		ASSERT_EQ(0, put(DIR "record_count", "3000"));
		ASSERT_EQ(0, put(DIR "record_width", "100"));
	}
	ASSERT_EQ(0, put(DIR "buffer_size_kb", "64"));
	ASSERT_EQ(0, put(DIR "map_mode", map_mode_under_test()));
	/* no page faults of our own while faults are armed */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
	self->nth = fail_nth_fd();
	ASSERT_GE(self->nth, 0);
}

FIXTURE_TEARDOWN(fault)
{
	put(DBG "fail_page_alloc/probability", "0");
	put(DBG "failslab/probability", "0");
	put("/proc/self/make-it-fail", "0");
	put(DIR "record_count", "10000");
	put(DIR "buffer_size_kb", "1024");
	put(DIR "map_mode", "auto");
	munlockall();
	close(self->nth);
}

enum op { OP_READ, OP_SPLICE, OP_SENDFILE_PIPE, OP_SPLICE_AFTER_TAIL, OP_PREAD, OP_NR };
static const char *const op_name[] = { "read", "splice", "sendfile-to-pipe", "splice-after-tail", "pread" };

/*
 * One call of kind `op` with the N-th fault point armed.  Returns 1 when
 * the fault was injected, 0 when the call never reached it.
 */
static int one(struct __test_metadata *_metadata, int nth_fd, enum op op, int n)
{
	int t, p[2], injected;
	ssize_t r, pre = 0;
	int e;
	uint64_t start;

	t = open(src_path, O_RDONLY);
	ASSERT_GE(t, 0);
	ASSERT_EQ(0, pipe(p));
	ASSERT_GT(fcntl(p[0], F_SETPIPE_SZ, 256 * 4096), 0);
	/* leave the file mid-record, with a window pending */
	ASSERT_EQ(7, read(t, got, 7));
	if (op == OP_SPLICE_AFTER_TAIL) {
		pre = splice(t, NULL, p[1], NULL, 3, 0);
		ASSERT_EQ(3, pre);
		ASSERT_EQ(3, drain(p[0], got, 3));
	}
	start = 7 + pre;

	ASSERT_EQ(0, arm(nth_fd, n));
	switch (op) {
	case OP_READ:
		r = read(t, got, 300000);
		break;
	case OP_PREAD:
		start = snap.buf ? snap.size / 3 : 123457;
		r = pread(t, got, 100000, start);
		break;
	case OP_SENDFILE_PIPE:
		r = sendfile(p[1], t, NULL, 200000);
		break;
	default:
		r = splice(t, NULL, p[1], NULL, 200000, 0);
		break;
	}
	e = errno;
	injected = disarm(nth_fd) == 0;

	if (r < 0) {
		TH_LOG("%s, fault %d: errno %d", op_name[op], n, e);
		ASSERT_EQ(ENOMEM, e);
		r = 0;
	} else if (op != OP_READ && op != OP_PREAD) {
		ASSERT_EQ(r, drain(p[0], got, r));
	}
	ASSERT_EQ((size_t)r, expect(want, start, r));
	ASSERT_EQ(0, memcmp(got, want, r)) {
		TH_LOG("%s, fault %d: wrong bytes in %zd returned", op_name[op], n, r);
	}
	if (op != OP_PREAD)
		start += r;
	else
		start = 7;
	/*
	 * the same fd goes on correctly, faults off: to EOF for trace (300000
	 * bytes), the next MiB at most for events (bounds the time per fault
	 * point; the random test reads events to EOF)
	 */
	ASSERT_TRUE(rest_ok(t, start, BIG)) {
		TH_LOG("%s, fault %d: stream wrong after the fault", op_name[op], n);
	}
	close(t);
	close(p[0]);
	close(p[1]);
	return injected;
}

TEST_F(fault, systematic_fail_nth_every_call_partial_or_enomem)
{
	int op, n, total = 0;

	for (op = 0; op < OP_NR; op++) {
		for (n = 1; n < 5000; n++)
			if (!one(_metadata, self->nth, op, n))
				break;
		TH_LOG("%s: %d fault points", op_name[op], n - 1);
		ASSERT_GT(n, 1);
		total += n - 1;
	}
	ASSERT_EQ(0, read_stat("pages_held"));
	printf("# fault injection: %d systematic faults injected\n", total);
}

TEST_F(fault, random_10_percent_page_and_slab_failures)
{
	int t, p[2], i, enomem = 0, shorter = 0, calls = 0;
	long long shortfalls = stat_ok(_metadata, "alloc_shortfalls");
	uint64_t pos = 0;
	ssize_t r;

	ASSERT_EQ(0, put(DBG "fail_page_alloc/task-filter", "Y"));
	ASSERT_EQ(0, put(DBG "failslab/task-filter", "Y"));
	t = open(src_path, O_RDONLY);
	ASSERT_GE(t, 0);
	ASSERT_EQ(0, pipe(p));
	ASSERT_GT(fcntl(p[0], F_SETPIPE_SZ, 64 * 4096), 0);
	/*
	 * The probabilities first, then this task's make-it-fail: once it is
	 * set, the writes themselves may fail (their open allocates).
	 */
	ASSERT_EQ(0, put(DBG "fail_page_alloc/probability", "10"));
	ASSERT_EQ(0, put(DBG "failslab/probability", "10"));
	ASSERT_EQ(0, put("/proc/self/make-it-fail", "1"));
	for (i = 0; i < 2000; i++) {
		size_t len = 1 + (i * 7919) % 70000;

		if (pos >= stream_size()) {
			/* rewind: regenerates from the first record, faults on */
			if (lseek(t, 0, SEEK_SET) != 0) {
				ASSERT_EQ(ENOMEM, errno);
				enomem++;
				continue;
			}
			pos = 0;
		}
		calls++;
		if (i % 2)
			r = read(t, got, len);
		else
			r = splice(t, NULL, p[1], NULL, len, SPLICE_F_NONBLOCK);
		if (r < 0) {
			ASSERT_EQ(ENOMEM, errno);
			enomem++;
			continue;
		}
		if ((size_t)r < len)
			shorter++;
		if (i % 2 == 0)
			ASSERT_EQ(r, drain(p[0], got, r));
		ASSERT_EQ((size_t)r, expect(want, pos, r));
		ASSERT_EQ(0, memcmp(got, want, r)) {
			TH_LOG("call %d: wrong bytes at %llu", i, (unsigned long long)pos);
		}
		pos += r;
	}
	/* Faults off: make-it-fail first, retried while the write itself fails. */
	ASSERT_TRUE(put_retrying("/proc/self/make-it-fail", "0"));
	ASSERT_EQ(0, put(DBG "fail_page_alloc/probability", "0"));
	ASSERT_EQ(0, put(DBG "failslab/probability", "0"));
	ASSERT_TRUE(rest_ok(t, pos, bufsz));
	close(t);
	close(p[0]);
	close(p[1]);
	shortfalls = stat_ok(_metadata, "alloc_shortfalls") - shortfalls;
	printf("# fault injection: %d random calls, %d ENOMEM, %d short, %lld allocation shortfalls\n",
	       calls, enomem, shorter, shortfalls);
	ASSERT_GT(enomem + shortfalls, 0);
	ASSERT_EQ(0, read_stat("pages_held"));
}

TEST_HARNESS_MAIN
