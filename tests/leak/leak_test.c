// SPDX-License-Identifier: GPL-2.0
/*
 * Exact page-leak check of seqsplice, run in a guest booted with
 * sysctl.vm.mem_profiling=1 (the kernel's allocation tags count the live
 * bytes of every allocation site).
 *
 * The module's pages carry a tag that is not in the module's own sections
 * (so that pages may outlive the module), hence they are no longer in
 * /proc/allocinfo under "[seqsplice]"; the exact oracle for them is the
 * module's stats counter pages_alive (pages it allocated that are still
 * alive anywhere, pipes included; exact while mem_profiling=1). The
 * "[seqsplice]" lines of /proc/allocinfo remain the oracle for the module's
 * other (slab/kvmalloc) allocations. Pages in a pipe must be seen, and
 * nothing once every pipe is drained and every file closed. kmemleak cannot
 * do this: it does not track page-allocator pages.
 *
 * SEQSPLICE_SOURCE=events: the same on `events` (the live-events source
 * through the engine) over a frozen ring buffer (events captured,
 * events_enable 0), against a snapshot of `events_copy` read completely
 * first: the lengths are scaled to the snapshot where the record stream's
 * size was assumed, and every byte drained from a pipe or socket (and the
 * read) is compared with the snapshot at its offset. The reload test
 * (the last) unloads the module, which discards the captured events: a
 * later run on events needs a new capture (scripts/guest/leak.sh makes one
 * before each).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/seqsplice_test.h"

/* The wrapper TEST() defines ignores its `variant` parameter. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define DIR SEQSPLICE_DIR

/* SEQSPLICE_SOURCE=events: the snapshot of events_copy (buf NULL: trace) */
static struct stream snap;
/*
 * What the module holds at rest, every file closed and every pipe drained:
 * 0 for trace; for events, whatever it holds with the events captured
 * (measured after the snapshot, by source_start()).
 */
static long long base;

/*
 * Live bytes of everything the module allocated: pages_alive pages plus
 * allocinfo's "[seqsplice]" sites; -1 if either is missing.
 */
static long long module_bytes(void)
{
	long long pages = read_stat("pages_alive");
	FILE *f = fopen("/proc/allocinfo", "r");
	char line[512];
	long long sum = 0, bytes, calls;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[seqsplice]"))
			continue;
		if (sscanf(line, " %lld %lld", &bytes, &calls) == 2)
			sum += bytes;
	}
	fclose(f);
	return pages < 0 ? -1 : pages * 4096 + sum;
}

static ssize_t drain(int fd)
{
	char buf[65536];
	ssize_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

/*
 * drain(), and with events every byte compared with the snapshot from
 * stream offset off: -1 at the first difference (logged) or past its EOF.
 */
static ssize_t drain_checked(struct __test_metadata *_metadata, int fd,
			     uint64_t off)
{
	unsigned char buf[65536];
	ssize_t total = 0;
	ssize_t n;

	if (!snap.buf)
		return drain(fd);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (!model_matches(_metadata, &snap, "drained", off + total,
				   buf, n))
			return -1;
		total += n;
	}
	return total;
}

/*
 * source_setup() (SEQSPLICE_SOURCE, the snapshot, the TAP comment), then
 * base: what the module holds at rest with events captured (0 for trace).
 */
static void source_start(struct __test_metadata *_metadata)
{
	source_setup(_metadata, &snap, "the default knobs");
	base = 0;
	if (!snap.buf)
		return;
	base = module_bytes();
	ASSERT_LE(0, base);
	TH_LOG("the module holds %lld bytes at rest with the events captured",
	       base);
}

/* The file under test: trace, or events. */
static int open_source(void)
{
	return open(snap.buf ? DIR EVENTS : DIR "trace", O_RDONLY);
}

TEST(profiling_is_on)
{
	char v[8] = "";
	int fd = open("/proc/sys/vm/mem_profiling", O_RDONLY);

	ASSERT_GE(fd, 0);
	ASSERT_GT(read(fd, v, sizeof(v) - 1), 0);
	close(fd);
	ASSERT_EQ('1', v[0]);
	source_start(_metadata);
	ASSERT_EQ(base, module_bytes());
}

TEST(no_module_page_alive_after_pipes_drain)
{
	int a[2], b[2], t, null;
	ssize_t n, r;
	long long held;
	unsigned char buf[4096];
	/* the default record stream is 1000000 bytes; events: a quarter */
	size_t len = 512 << 10;

	source_start(_metadata);
	if (snap.buf && len > snap.size / 4)
		len = snap.size / 4 ? snap.size / 4 : 1;
	t = open_source();
	ASSERT_GE(t, 0);
	ASSERT_EQ(0, pipe(a));
	ASSERT_EQ(0, pipe(b));
	ASSERT_GT(fcntl(a[0], F_SETPIPE_SZ, 1 << 20), 0);
	ASSERT_GT(fcntl(b[0], F_SETPIPE_SZ, 1 << 20), 0);

	/* a partial tail, then whole pages, into pipe a; tee a copy into b */
	ASSERT_EQ(3, splice(t, NULL, a[1], NULL, 3, 0));
	n = splice(t, NULL, a[1], NULL, len, 0);
	ASSERT_GT(n, 0);
	ASSERT_GT(tee(a[0], b[1], 1 << 20, 0), 0);
	/* read() and sendfile paths too */
	r = read(t, buf, sizeof(buf));
	ASSERT_GT(r, 0);
	if (snap.buf) {
		ASSERT_TRUE(model_matches(_metadata, &snap, "read", 3 + n, buf,
					  r));
	}
	null = open("/dev/null", O_WRONLY);
	ASSERT_GE(null, 0);
	ASSERT_GT(sendfile(null, t, NULL, 200000), 0);
	close(null);
	close(t);

	/* the file is closed: only the pipes hold module pages now */
	held = module_bytes() - base;
	TH_LOG("bytes held by pipes after close: %lld", held);
	ASSERT_GE(held, (long long)(n / 4096) * 4096);

	close(a[1]);
	close(b[1]);
	ASSERT_EQ(3 + n, drain_checked(_metadata, a[0], 0));
	ASSERT_EQ(3 + n, drain_checked(_metadata, b[0], 0));
	close(a[0]);
	close(b[0]);
	ASSERT_EQ(base, module_bytes());
}

TEST(no_module_page_alive_after_socket_consumer)
{
	int p[2], s[2], t;
	ssize_t n;

	source_start(_metadata);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	ASSERT_EQ(0, pipe(p));
	t = open_source();
	ASSERT_GE(t, 0);
	n = splice(t, NULL, p[1], NULL, 60000, 0);
	ASSERT_GT(n, 0);
	ASSERT_EQ(n, splice(p[0], NULL, s[1], NULL, n, 0));
	close(t);
	close(p[0]);
	close(p[1]);
	close(s[1]);
	ASSERT_EQ(n, drain_checked(_metadata, s[0], 0));
	close(s[0]);
	ASSERT_EQ(base, module_bytes());
}

/* ---- rmmod while a pipe holds the module's pages -------------------- */

/*
 * Kernel log records since `fd` (opened at the end of /dev/kmsg) that
 * contain any of `bad`; returns their number and logs them.
 */
static int kmsg_bad_lines(struct __test_metadata *_metadata, int fd)
{
	static const char *const bad[] = {
		"WARNING", "cannot unload", "allocated at module unload",
	};
	char rec[8192];
	int found = 0;
	size_t i;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				TH_LOG("kernel: %s", strchr(rec, ';') ?
				       strchr(rec, ';') + 1 : rec);
				found++;
				break;
			}
		}
	}
	return found;
}

/* The test unloads the module: its teardown puts it back in any case. */
FIXTURE(reload) {
	int unused;
};
FIXTURE_SETUP(reload) {}
FIXTURE_TEARDOWN_PARENT(reload)
{
	if (ensure_ready_quiet()) {
		TH_LOG("teardown: cannot load and mount the module again");
		_metadata->exit_code = KSFT_FAIL;
	}
}

TEST_F_TIMEOUT(reload, rmmod_with_gifted_pages_in_pipe_under_profiling_then_drain, 90)
{
	size_t len = 6 * 4096;
	unsigned char got[6 * 4096 + 1], want[6 * 4096];
	int p[2], t, kmsg, i;
	size_t in = 0;
	ssize_t n;

	source_start(_metadata);
	if (snap.buf) {
		/* six whole pages of events at most: the snapshot's start */
		if (len > snap.size)
			len = snap.size;
		memcpy(want, snap.buf, len);
	} else {
		/* Default knobs (a fresh boot): printf, width 100, count 10000. */
		ASSERT_EQ(len, fill(want, 0, len, 100, 10000));
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));

	/* Six whole pages of the module in a default (16-slot) pipe. */
	ASSERT_EQ(0, pipe(p));
	t = open_source();
	ASSERT_GE(t, 0);
	while (in < len) {
		n = splice(t, NULL, p[1], NULL, len - in, SPLICE_F_NONBLOCK);
		ASSERT_GT(n, 0);
		in += n;
	}
	ASSERT_EQ(0, ioctl(p[0], FIONREAD, &i));
	ASSERT_EQ((int)len, i);
	close(t);
	ASSERT_LE((long long)div_up(len, PG), read_stat("pages_alive"))
		TH_LOG("pages_alive does not count the %zu pages in the pipe",
		       div_up(len, PG));

	unload_module(_metadata);

	/* The pages outlived the module: exactly the model's bytes. */
	close(p[1]);
	for (in = 0; in < sizeof(got); in += n) {
		n = read(p[0], got + in, sizeof(got) - in);
		ASSERT_LE(0, n);
		if (!n)
			break;
	}
	close(p[0]);
	ASSERT_EQ(len, in);
	ASSERT_EQ(0, memcmp(got, want, len));
	ASSERT_EQ(0, kmsg_bad_lines(_metadata, kmsg));
	close(kmsg);

	ASSERT_EQ(0, ensure_ready_quiet()) TH_LOG("reload: %s", strerror(errno));
	ASSERT_EQ(0, read_stat("pages_alive"));
	/* a fresh module: for events, no more than with the events captured */
	if (snap.buf) {
		ASSERT_GE(base, module_bytes());
	} else {
		ASSERT_EQ(0, module_bytes());
	}
}

TEST_HARNESS_MAIN
