// SPDX-License-Identifier: GPL-2.0
/*
 * seqread_test.c - the stock seq_file core's read() and splice(), with and
 * without upstream/'s series (seq_read_iter() filling the caller's buffer
 * with one seq buffer after another instead of returning after one).
 *
 * Which behaviour is expected: seqsplice.seq_batched=1 or 0 on the kernel
 * command line, else 1 on the batched kernel (seqsplice.flavour=batched)
 * and 0 on the others. The batched kernel's plan runs it
 * (scripts/guest/seqbatch.sh sets up the files first); on the stock
 * kernel with seqsplice.seq_batched=1 it fails, as it must.
 *
 * - Every seq file the guest can read twice the same gives exactly the
 *   same bytes by read() of 1 MiB, 4096, 4097 and 65537 bytes, by 1-byte
 *   reads (the first 64 KiB, each call exactly 1 byte) then 1 MiB ones,
 *   and by splice() of 1 MiB into a 1 MiB pipe and of 64 KiB into a
 *   64 KiB one: /proc/kallsyms, /proc/1/maps, tracefs' trace (a frozen
 *   capture with a line wider than a page) and available_events (these
 *   but trace have no ->splice_read(): splice() EINVAL), the
 *   module's trace_copy, lines_copy (SEQ_SKIP) and events_copy, the test
 *   consumer's four stock twins (growth to 6000-byte records, SEQ_SKIP
 *   runs, a spinlock from ->start to ->stop, single_open()). lseek()
 *   after each whole read and splice is the byte count; a pread() from a
 *   third of the way gives those bytes (not on ftrace's trace, whose
 *   iter->leftover makes the stock core a wrong oracle after a seek).
 *   Batched: the first 1 MiB read() and 1 MiB splice() of a fresh open
 *   return the whole file or at least 16 pages (the rounds stop early
 *   only before a record that needs a bigger buffer, none in these files'
 *   first 64 KiB).
 * - trace_copy's exact counts, each a fresh open, stock / batched:
 *   100-byte records, one-page buffer: read(1 MiB) 4000 / 1048000 (one
 *   buffer is 40 records; a round follows while 4096 bytes of room are
 *   left), read(8095) 4000 / 4000, read(8096) 4000 / 8000, read(150) then
 *   read(1 MiB) 150 then 4050 / 1048050, read(1) 1, splice(1 MiB) into a
 *   1 MiB pipe 4000 / 1048000, splice(64 KiB) into a 64 KiB pipe 4000 /
 *   64000, after read(1 MiB) pread(1 MiB) at 123457 4043 / 1048043 and
 *   the next read(1 MiB) 4000 / the 952000 bytes left; 6000-byte records
 *   (the buffer grows to 8 KiB): read(1 MiB) 6000 / 1044000, read(5000)
 *   then read(1 MiB) 5000 then 7000 / 1045000. Every byte the model's.
 * - A read() into a buffer whose third page faults returns, batched, more
 *   than 8000 bytes and at most 8192 (stock: 4000), the model's; the next
 *   read() goes on at exactly that offset, to a record boundary.
 * - One read() of 72 MiB of 70 MB of trace_copy returns, on the batched
 *   kernel, the first buffer past 1 MiB (the series bounds a call's rounds
 *   at 1 MiB): 1052000 bytes (4000 on the stock one), the model's; the
 *   same 70 MB by read(1 MiB) and by splice(1 MiB) to EOF, with the number
 *   of calls and the time printed.
 * - Pages allocated (/proc/vmstat pgalloc_*) per MiB delivered by 32
 *   splices of 1 MiB from trace_copy: printed; on the batched kernel at
 *   most 512 (copy_splice_read()'s 256 per call, filled), where the stock
 *   kernel allocates about 67000.
 */
#include <sys/mman.h>
#include <time.h>

#include "../common/seqsplice_test.h"

static bool expect_batched(void)
{
	char cmd[4096];
	ssize_t n = read_small_file("/proc/cmdline", cmd, sizeof(cmd));
	const char *o;

	if (n <= 0)
		return false;
	o = strstr(cmd, "seqsplice.seq_batched=");
	if (o)
		return o[strlen("seqsplice.seq_batched=")] == '1';
	return strstr(cmd, "seqsplice.flavour=batched");
}

struct blob {
	unsigned char *buf;
	size_t len, cap;
};

static void blob_room(struct __test_metadata *_metadata, struct blob *b,
		      size_t n)
{
	if (b->cap - b->len >= n)
		return;
	b->cap = (b->len + n) * 2;
	b->buf = realloc(b->buf, b->cap);
	ASSERT_NE(NULL, b->buf);
}

/* One way to read a file to EOF. */
struct way {
	const char *name;
	bool splice;
	size_t ones;		/* read(1) this many bytes first */
	size_t len;		/* then calls of this size */
	unsigned int slots;	/* splice: pipe slots */
};

static const struct way ways[] = {
	{ "read(1 MiB)", false, 0, MIB, 0 },
	{ "read(4096)", false, 0, PG, 0 },
	{ "read(4097)", false, 0, PG + 1, 0 },
	{ "read(65537)", false, 0, 65537, 0 },
	{ "read(1) x 64 KiB then read(1 MiB)", false, 65536, MIB, 0 },
	{ "splice(1 MiB), 1 MiB pipe", true, 0, MIB, 256 },
	{ "splice(64 KiB), 64 KiB pipe", true, 0, 65536, 16 },
};

/*
 * Reads path to EOF the given way into b (emptied first); returns the
 * first call's count of the way's own size (after any 1-byte reads), and
 * checks that the file position is then the byte count.
 */
static size_t take(struct __test_metadata *_metadata, const char *path,
		   const struct way *w, struct blob *b)
{
	size_t first = SIZE_MAX, cap = 0;
	int fd, p[2] = { -1, -1 };
	ssize_t r;

	b->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	if (w->splice)
		cap = make_pipe(_metadata, p, w->slots);
	while (b->len < w->ones) {
		blob_room(_metadata, b, 1);
		r = read(fd, b->buf + b->len, 1);
		ASSERT_LE(0, r) {
			TH_LOG("%s: read(1) at %zu: %s", path, b->len,
			       strerror(errno));
		}
		if (!r)
			goto out;
		ASSERT_EQ(1, r);
		b->len++;
	}
	for (;;) {
		blob_room(_metadata, b, w->len);
		if (w->splice) {
			r = splice(fd, NULL, p[1], NULL, w->len, 0);
			ASSERT_LE(0, r) {
				TH_LOG("%s: splice(%zu) at %zu: %s", path,
				       w->len, b->len, strerror(errno));
			}
			ASSERT_GE((ssize_t)cap, r);
			ASSERT_EQ(r, pipe_bytes(p[0]));
			if (r)
				drain_exact(_metadata, p[0], b->buf + b->len,
					    r);
		} else {
			r = read(fd, b->buf + b->len, w->len);
			ASSERT_LE(0, r) {
				TH_LOG("%s: read(%zu) at %zu: %s", path,
				       w->len, b->len, strerror(errno));
			}
		}
		ASSERT_GE((ssize_t)w->len, r);
		if (first == SIZE_MAX)
			first = r;
		if (!r)
			break;
		b->len += r;
	}
out:
	ASSERT_EQ((off_t)b->len, lseek(fd, 0, SEEK_CUR)) {
		TH_LOG("%s, %s: the position is not the %zu bytes read",
		       path, w->name, b->len);
	}
	close_pipe(p);
	close(fd);
	return first;
}

static size_t first_difference(const unsigned char *a, const unsigned char *b,
			       size_t n)
{
	size_t i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/* A file without ->splice_read() (a read()-only proc_ops): EINVAL. */
static void splice_refused(struct __test_metadata *_metadata,
			   const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), p[2];
	ssize_t r;

	ASSERT_LE(0, fd);
	make_pipe(_metadata, p, 0);
	r = splice(fd, NULL, p[1], NULL, PG, 0);
	ASSERT_EQ(-1, r);
	ASSERT_EQ(EINVAL, errno);
	close_pipe(p);
	close(fd);
}

/*
 * path read every way (splice too with can_splice, else splice must fail
 * with EINVAL) gives the same bytes as read(1 MiB); with pread_ok, a
 * pread() from a third of the way gives them too. Returns the size.
 */
static size_t same_every_way(struct __test_metadata *_metadata,
			     const char *path, bool pread_ok, bool can_splice)
{
	struct blob ref = { 0 }, got = { 0 };
	bool batched = expect_batched();
	size_t i, first;

	first = take(_metadata, path, &ways[0], &ref);
	ASSERT_LT(0UL, ref.len) {
		TH_LOG("%s is empty", path);
	}
	if (!can_splice)
		splice_refused(_metadata, path);
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		size_t f, at;

		if (ways[i].splice && !can_splice)
			continue;
		f = take(_metadata, path, &ways[i], &got);
		at = first_difference(ref.buf, got.buf,
				      min_sz(ref.len, got.len));

		ASSERT_EQ(ref.len, got.len) {
			TH_LOG("%s: %s gave %zu bytes, read(1 MiB) %zu", path,
			       ways[i].name, got.len, ref.len);
		}
		ASSERT_EQ(ref.len, at) {
			TH_LOG("%s: %s differs from read(1 MiB) at byte %zu",
			       path, ways[i].name, at);
		}
		/* a fresh open's first 1 MiB call: the whole file, or at
		 * least 16 pages (rounds go on while a whole seq buffer
		 * fits, and stop early only before a record that needs a
		 * bigger buffer: the files here have none in their first
		 * 64 KiB)
		 */
		if (batched && ways[i].len == MIB && !ways[i].ones) {
			ASSERT_LE(min_sz(ref.len, 16 * PG), f) {
				TH_LOG("%s: the first %s returned %zu bytes of %zu",
				       path, ways[i].name, f, ref.len);
			}
		}
	}
	if (pread_ok && ref.len > 2) {
		size_t off = ref.len / 3, n;
		unsigned char *buf = malloc(MIB);
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		ASSERT_NE(NULL, buf);
		ASSERT_LE(0, fd);
		n = pread_full(_metadata, fd, buf, min_sz(MIB, ref.len - off),
			       off);
		ASSERT_EQ(min_sz(MIB, ref.len - off), n);
		ASSERT_EQ(0, memcmp(buf, ref.buf + off, n)) {
			TH_LOG("%s: pread at %zu differs at byte %zu", path,
			       off, first_difference(buf, ref.buf + off, n));
		}
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		close(fd);
		free(buf);
	}
	ksft_print_msg("%s: %zu bytes, the same every way%s; first read(1 MiB) %zu\n",
		       path, ref.len, can_splice ? "" : " but splice",
		       first);
	free(ref.buf);
	free(got.buf);
	return ref.len;
}

FIXTURE(seqread) {
	struct stream s;
};

SEQSPLICE_FIXTURE_HOOKS(seqread)

TEST_F_TIMEOUT(seqread, proc_and_tracefs_files_read_the_same_every_way, 300)
{
	const char *t = "/sys/kernel/tracing/";
	char path[64];
	size_t n;

	/* ->read = seq_read but no ->read_iter: no splice (here and below) */
	n = same_every_way(_metadata, "/proc/kallsyms", true, false);
	ASSERT_LT(100000UL, n);
	n = same_every_way(_metadata, "/proc/1/maps", true, false);
	ASSERT_LT(0UL, n);
	/* the frozen capture of scripts/guest/seqbatch.sh */
	snprintf(path, sizeof(path), "%strace", t);
	n = same_every_way(_metadata, path, false, true);
	ASSERT_LT(20000UL, n);
	snprintf(path, sizeof(path), "%savailable_events", t);
	n = same_every_way(_metadata, path, true, false);
	ASSERT_LT(1000UL, n);
}

TEST_F_TIMEOUT(seqread, module_copy_files_read_the_same_every_way, 300)
{
	size_t n;

	use_stream(_metadata, &self->s, 20000, 100, 0, 0, "printf");
	n = same_every_way(_metadata, SEQSPLICE_DIR TRACE_COPY, true, true);
	ASSERT_EQ(2000000UL, n);
	/* 20000 lines of 16 bytes, every 1000th skipped (sources_test) */
	n = same_every_way(_metadata, SEQSPLICE_DIR "lines_copy", true, true);
	ASSERT_EQ(19980UL * 16, n);
	/* the frozen capture of scripts/guest/capture.sh */
	n = same_every_way(_metadata, SEQSPLICE_DIR "events_copy", true,
			   true);
	ASSERT_LT(100000UL, n);
	free(self->s.buf);
}

/* Loaded by scripts/guest/seqbatch.sh: the stock twins of its tables. */
TEST_F_TIMEOUT(seqread, consumer_stock_twins_read_the_same_every_way, 300)
{
	static const char *const tables[] = { "spin", "check", "skip",
					      "single" };
	char path[64];
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		snprintf(path, sizeof(path), "/dev/ssc_%s_copy", tables[i]);
		n = same_every_way(_metadata, path, true, true);
		ASSERT_LT(10000UL, n);
	}
}

/*
 * A record that needs a bigger buffer in a later session ends the call
 * before it (the next call grows the buffer), so a call with room for a
 * whole buffer never ends inside a record: the consumer's check twin
 * (100-byte records, every 1000th 6000 bytes wide, a one-page buffer)
 * read by read(99900 + 4500) on a fresh open returns the 999 records
 * before the wide one, 99900 bytes, on the batched kernel (the series'
 * first version grew the buffer there and returned 104400, ending 4500
 * bytes into the wide record; the stock kernel 4000); the next
 * read(1 MiB) starts with the wide record. Every byte the file's.
 */
TEST_F_TIMEOUT(seqread, a_record_that_grows_the_buffer_ends_a_later_session, 60)
{
	const char *path = "/dev/ssc_check_copy";
	unsigned char *buf = malloc(2 * MIB);
	struct blob ref = { 0 };
	ssize_t r, r2;
	int fd;

	ASSERT_NE(NULL, buf);
	take(_metadata, path, &ways[0], &ref);
	ASSERT_LT(110000UL, ref.len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	r = read(fd, buf, 99900 + 4500);
	ASSERT_EQ(expect_batched() ? 99900 : 4000, r);
	ASSERT_EQ('\n', buf[r - 1]);
	r2 = read(fd, buf + r, MIB);
	/* batched: the wide record, grown, and more; stock: 40 records */
	if (expect_batched()) {
		ASSERT_LT(6000, r2);
	} else {
		ASSERT_EQ(4000, r2);
	}
	ASSERT_GE(ref.len, (size_t)(r + r2));
	ASSERT_EQ(0, memcmp(buf, ref.buf, r + r2)) {
		TH_LOG("differs from read(1 MiB) at byte %zu",
		       first_difference(buf, ref.buf, r + r2));
	}
	close(fd);
	free(ref.buf);
	free(buf);
}

/* One call on fd: read(len), or splice(len) into p; returns its count. */
static size_t one_call(struct __test_metadata *_metadata, int fd, int p[2],
		       unsigned char *buf, size_t len)
{
	ssize_t r;

	if (p) {
		r = splice(fd, NULL, p[1], NULL, len, 0);
		ASSERT_LE(0, r) {
			TH_LOG("splice(%zu): %s", len, strerror(errno));
		}
		ASSERT_EQ(r, pipe_bytes(p[0]));
		drain_exact(_metadata, p[0], buf, r);
	} else {
		r = read(fd, buf, len);
		ASSERT_LE(0, r) {
			TH_LOG("read(%zu): %s", len, strerror(errno));
		}
	}
	return r;
}

/* Calls of the given sizes on a fresh open, each count exact. */
struct call {
	size_t len;
	size_t stock, batched;
};

static void calls_exact(struct __test_metadata *_metadata,
			const struct stream *s, const char *what,
			unsigned int slots, const struct call *c, size_t n)
{
	bool batched = expect_batched();
	unsigned char *buf = malloc(2 * MIB);
	int fd = open_file(_metadata, TRACE_COPY);
	int p[2] = { -1, -1 };
	size_t i, off = 0;

	ASSERT_NE(NULL, buf);
	if (slots)
		make_pipe(_metadata, p, slots);
	for (i = 0; i < n; i++) {
		size_t want = batched ? c[i].batched : c[i].stock;
		size_t r = one_call(_metadata, fd, slots ? p : NULL, buf,
				    c[i].len);

		ASSERT_EQ(want, r) {
			TH_LOG("%s, call %zu of %zu bytes at %zu: %zu bytes, %s kernel wants %zu",
			       what, i, c[i].len, off, r,
			       batched ? "the batched" : "a stock", want);
		}
		ASSERT_TRUE(model_matches(_metadata, s, what, off, buf, r));
		off += r;
	}
	close_pipe(p);
	close(fd);
	free(buf);
}

TEST_F_TIMEOUT(seqread, trace_copy_calls_return_exact_counts, 120)
{
	static const struct call big[] = { { MIB, 4000, 1048000 } };
	static const struct call small[] = { { 8095, 4000, 4000 },
					     { 8096, 4000, 8000 } };
	static const struct call leftover[] = { { 150, 150, 150 },
						{ MIB, 4050, 1048050 } };
	static const struct call ones[] = { { 1, 1, 1 }, { 1, 1, 1 },
					    { 1, 1, 1 } };
	static const struct call sp64[] = { { 65536, 4000, 64000 } };
	static const struct call wide[] = { { MIB, 6000, 1044000 } };
	static const struct call wide_left[] = { { 5000, 5000, 5000 },
						 { MIB, 7000, 1045000 } };
	bool batched = expect_batched();
	unsigned char *buf = malloc(MIB);
	size_t r;
	int fd;

	ASSERT_NE(NULL, buf);
	use_stream(_metadata, &self->s, 20000, 100, 0, 0, "printf");
	calls_exact(_metadata, &self->s, "read(1 MiB)", 0, big, 1);
	calls_exact(_metadata, &self->s, "read(8095), read(8096)", 0, small, 2);
	calls_exact(_metadata, &self->s, "read(150), read(1 MiB)", 0, leftover,
		    2);
	calls_exact(_metadata, &self->s, "read(1) x 3", 0, ones, 3);
	calls_exact(_metadata, &self->s, "splice(1 MiB), 1 MiB pipe", 256, big,
		    1);
	calls_exact(_metadata, &self->s, "splice(64 KiB), 64 KiB pipe", 16,
		    sp64, 1);

	/* pread from elsewhere, then read on from the file position */
	fd = open_file(_metadata, TRACE_COPY);
	r = read(fd, buf, MIB);
	ASSERT_EQ(batched ? 1048000UL : 4000UL, r);
	ASSERT_EQ((off_t)r, lseek(fd, 0, SEEK_CUR));
	r = pread(fd, buf, MIB, 123457);
	ASSERT_EQ(batched ? 1048043UL : 4043UL, r);
	ASSERT_TRUE(model_matches(_metadata, &self->s, "pread(1 MiB) at 123457",
				  123457, buf, r));
	r = read(fd, buf, MIB);
	ASSERT_EQ(batched ? 952000UL : 4000UL, r);
	ASSERT_TRUE(model_matches(_metadata, &self->s, "read(1 MiB) after pread",
				  batched ? 1048000 : 4000, buf, r));
	close(fd);
	free(buf);
	free(self->s.buf);

	/* records wider than a page: the seq buffer grows to 8 KiB */
	use_stream(_metadata, &self->s, 400, 6000, 0, 0, "printf");
	calls_exact(_metadata, &self->s, "6000-byte records, read(1 MiB)", 0,
		    wide, 1);
	calls_exact(_metadata, &self->s,
		    "6000-byte records, read(5000), read(1 MiB)", 0, wide_left,
		    2);
	free(self->s.buf);
}

/*
 * A read() into a buffer whose third page faults: copy_to_iter() comes up
 * short in the third buffer, which ends the call (batched: two buffers and
 * what fit of the third; stock: one buffer), and the next read() goes on
 * exactly there, the rest of that buffer first.
 */
TEST_F_TIMEOUT(seqread, a_short_copy_ends_the_call_and_the_next_goes_on, 60)
{
	unsigned char *buf = malloc(MIB), *map;
	bool batched = expect_batched();
	ssize_t r, r2;
	int fd;

	ASSERT_NE(NULL, buf);
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 2 * PG, 2 * PG, PROT_NONE));
	use_stream(_metadata, &self->s, 20000, 100, 0, 0, "printf");
	fd = open_file(_metadata, TRACE_COPY);
	r = read(fd, map, MIB);
	if (batched) {
		ASSERT_LT(8000, r);
		ASSERT_GE(8192, r);
	} else {
		ASSERT_EQ(4000, r);
	}
	ASSERT_TRUE(model_matches(_metadata, &self->s, "read into 2 pages", 0,
				  map, r));
	ASSERT_EQ(r, lseek(fd, 0, SEEK_CUR));
	r2 = read(fd, buf, MIB);
	ASSERT_TRUE(model_matches(_metadata, &self->s, "the read after", r,
				  buf, r2));
	/* the rest of the third buffer, then whole buffers */
	if (batched)
		ASSERT_EQ(0, (r + r2) % 4000);
	close(fd);
	munmap(map, 4 * PG);
	free(buf);
	free(self->s.buf);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * trace_copy (as set up: 70 MB) to EOF by read(1 MiB) or by splice(1 MiB)
 * into a 1 MiB pipe drained by read(1 MiB): the calls and the time, for
 * the record (every byte is checked elsewhere).
 */
static void timed_to_eof(struct __test_metadata *_metadata, bool by_splice)
{
	unsigned char *buf = malloc(MIB);
	size_t calls = 0, bytes = 0;
	int fd, p[2] = { -1, -1 };
	double t0;

	ASSERT_NE(NULL, buf);
	if (by_splice)
		make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, TRACE_COPY);
	t0 = now();
	for (;;) {
		size_t r = one_call(_metadata, fd, by_splice ? p : NULL, buf,
				    MIB);

		if (!r)
			break;
		calls++;
		bytes += r;
	}
	ksft_print_msg("trace_copy to EOF by %s(1 MiB): %zu bytes, %zu calls, %.3f s\n",
		       by_splice ? "splice" : "read", bytes, calls,
		       now() - t0);
	ASSERT_EQ(70000000UL, bytes);
	close_pipe(p);
	close(fd);
	free(buf);
}

TEST_F_TIMEOUT(seqread, one_read_of_72_mib_stops_past_1_mib, 300)
{
	size_t want, len = 72 * MIB;
	unsigned char *buf = malloc(len);
	double t0;
	ssize_t r;
	int fd;

	ASSERT_NE(NULL, buf);
	/* fault it in (not 0: malloc + memset 0 may become calloc) */
	memset(buf, 0xff, len);
	use_stream(_metadata, &self->s, 700000, 100, 0, 0, "raw");
	fd = open_file(_metadata, TRACE_COPY);
	t0 = now();
	r = read(fd, buf, len);
	ksft_print_msg("one read(72 MiB) of trace_copy: %zd bytes in %.3f s\n",
		       r, now() - t0);
	/* rounds go on while less than 1 MiB was copied: 263 buffers */
	want = expect_batched() ? 1052000 : 4000;
	ASSERT_EQ((ssize_t)want, r);
	ASSERT_TRUE(model_matches(_metadata, &self->s, "read(72 MiB)", 0, buf,
				  r));
	ASSERT_EQ(r, lseek(fd, 0, SEEK_CUR));
	close(fd);
	free(buf);
	free(self->s.buf);
	timed_to_eof(_metadata, false);
	timed_to_eof(_metadata, true);
}

static long long pages_allocated(void)
{
	char line[256];
	long long sum = 0, v;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (sscanf(line, "%63s %lld", name, &v) == 2 &&
		    !strncmp(name, "pgalloc_", 8))
			sum += v;
	}
	fclose(f);
	return sum;
}

TEST_F_TIMEOUT(seqread, splice_allocates_pages_for_what_it_delivers, 120)
{
	unsigned char *buf = malloc(MIB);
	long long before, pages;
	size_t bytes = 0, i;
	int p[2], fd;

	ASSERT_NE(NULL, buf);
	use_stream(_metadata, &self->s, 400000, 100, 0, 0, "raw");
	make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, TRACE_COPY);
	before = pages_allocated();
	ASSERT_LE(0, before);
	for (i = 0; i < 32; i++) {
		size_t r = one_call(_metadata, fd, p, buf, MIB);

		ASSERT_TRUE(model_matches(_metadata, &self->s, "splice(1 MiB)",
					  bytes, buf, r));
		bytes += r;
	}
	pages = pages_allocated() - before;
	ksft_print_msg("32 splices of 1 MiB: %zu bytes, %lld pages allocated, %.0f a MiB\n",
		       bytes, pages, pages / ((double)bytes / MIB));
	if (expect_batched()) {
		ASSERT_EQ(32UL * 1048000, bytes);
		ASSERT_GE(512 * (double)bytes / MIB, (double)pages);
	} else {
		ASSERT_EQ(32UL * 4000, bytes);
	}
	close_pipe(p);
	close(fd);
	free(buf);
	free(self->s.buf);
}

TEST_HARNESS_MAIN
