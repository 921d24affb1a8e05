/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seqsplice_test.h - what the in-guest kselftest-harness tests of seqsplice
 * share (the suites in tests/selftests, tests/leak, tests/fault, tests/memcg):
 * the harness with the pragmas -Wextra needs, the record model (model.h),
 * the module's paths and defaults, knob and stats helpers, loading and
 * unloading the module, asserting file/pipe/transfer helpers, worker
 * bookkeeping and the fixture hooks. Include it first: it includes the
 * system headers the helpers need, kselftest_harness.h and model.h.
 *
 * The tests run as root in the test guest with the module loaded from
 * /seqsplice.ko and its filesystem mounted at /sys/kernel/seqsplice
 * (Documentation/files.rst), one binary after the other in one guest boot. Every test
 * compares what `trace` (vmapped pages gifted to pipes) returns against the
 * reference model in model.h and, where it says so, against `trace_copy`
 * (stock seq_read_iter + copy_splice_read) doing the same sequence.
 * With SEQSPLICE_SOURCE=events, fault_test and leak_test run on `events`
 * against a snapshot of `events_copy` instead (source_setup()).
 *
 * SEQSPLICE_FIXTURE_HOOKS(name): the fixture's setup makes sure the module
 * is loaded and mounted and writes the default knobs; its teardown (run in
 * the parent, so it also runs after a crash of the test process) loads and
 * mounts again if needed, restores the default knobs and checks that the
 * module holds no pages once every file is closed.
 *
 * Helpers that take `_metadata` may use ASSERT_*; they are only called from
 * the test process itself or from processes it forks (never from threads:
 * thread workers report failures through their own structs, worker_fail()).
 *
 * Where Documentation/files.rst leaves room, all suites assert:
 * - A single read/pread/splice/sendfile-to-pipe call may return fewer bytes
 *   than asked, but never 0 before EOF; exactly the bytes it returned are in
 *   the pipe (FIONREAD), and they are the model's bytes at the call's offset.
 *   A 1- or 2-byte splice returns exactly 1 or 2 (short_splice_read.sh).
 * - stats count the engine's files only (trace; trace_ops and lines too,
 *   which no suite but sources_test opens): trace_copy leaves pages_gifted, bytes_spliced
 *   and bytes_read alone; one open of trace is opens + 1; bytes_read and
 *   bytes_spliced add exactly the bytes returned (sendfile, i.e. busybox cat,
 *   goes through splice_read and counts as spliced); pages_held counts what
 *   the module holds (its page references and per-open metadata), so it is
 *   0 once every trace fd is closed even while pipes still hold gifted
 *   pages; an lseek to the current position regenerates nothing; splice(2)
 *   then splice(100) on a fresh open are 2 pipe buffers and 1 tail
 *   continuation; `rewinds` is only checked to be readable and monotonic.
 * Each suite's head comment adds what it asserts of its own.
 */
#ifndef SEQSPLICE_TEST_H
#define SEQSPLICE_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The harness header itself is not -Wextra clean (unused parameters). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
/*
 * TEST_F() keeps `child` across setjmp(); that is the harness's design
 * (the variable is only read in the process that did not longjmp()).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

/* The guest is emulated (TCG, maybe KASAN): 30 s per test is too tight. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 90
#include "model.h"

#define MNT		"/sys/kernel/seqsplice"
#define SEQSPLICE_DIR	MNT "/"
#define KO_PATH		"/seqsplice.ko"
#define MOD_NAME	"seqsplice"
#define FS_TYPE		"seqsplice"
#define TRACE		"trace"
#define TRACE_COPY	"trace_copy"
#define TRACE_PATH	SEQSPLICE_DIR TRACE
#define PV		"/usr/bin/pv"

#define PG		4096UL
#define MIB		(1UL << 20)

/* Defaults from Documentation/files.rst. */
#define DEF_BUF_KB	1024
#define DEF_COPY_KB	4
#define DEF_COUNT	10000U
#define DEF_WIDTH	100
/* Record width of the stream the current test set up (use_stream). */
static size_t model_width = DEF_WIDTH;

static const char *const both_files[] = { TRACE, TRACE_COPY };

/* ------------------------------------------------------------------ */
/* Small utilities                                                     */
/* ------------------------------------------------------------------ */

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* Printable excerpt of bytes for diagnostics, written into out. */
static inline const char *excerpt(const unsigned char *p, size_t n, char *out,
				  size_t outlen)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 5 < outlen; i++) {
		unsigned char c = p[i];

		if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[k++] = c;
		} else {
			k += snprintf(out + k, outlen - k, "\\x%02x", c);
		}
	}
	out[k] = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* The expected stream                                                 */
/* ------------------------------------------------------------------ */

struct stream {
	unsigned char *buf;	/* every byte of the stream */
	size_t size;		/* EOF offset */
	uint64_t width, count;
};

static inline void stream_build(struct __test_metadata *_metadata,
				struct stream *s, uint64_t width,
				uint64_t count)
{
	s->width = width;
	s->count = count;
	s->size = model_size(width, count);
	s->buf = malloc(s->size + 1);
	ASSERT_NE(NULL, s->buf);
	ASSERT_EQ(s->size, fill(s->buf, 0, s->size + 1, width, count));
}

/* stream_build() of printf (raw false) or raw (true) records. */
static inline void stream_build_mode(struct __test_metadata *_metadata,
				     struct stream *s, uint64_t width,
				     uint64_t count, bool raw)
{
	model_raw = raw;
	stream_build(_metadata, s, width, count);
}

/* Number of bytes a complete transfer of len bytes from off must give. */
static inline size_t expected_count(const struct stream *s, int64_t off,
				    size_t len)
{
	if (off < 0 || (uint64_t)off >= s->size)
		return 0;
	return min_sz(len, s->size - (size_t)off);
}

/*
 * True if got[0..n) are exactly the stream bytes at off; else why (whylen
 * bytes) says where not. For workers that must not log or assert (threads,
 * forked children); tests use model_matches().
 */
static inline bool model_check(const struct stream *s, int64_t off,
			       const unsigned char *got, size_t n, char *why,
			       size_t whylen)
{
	size_t i;

	if (!n)
		return true;
	if (off < 0 || (uint64_t)off > s->size || n > s->size - (size_t)off) {
		snprintf(why, whylen, "%zu bytes at offset %lld run past EOF %zu",
			 n, (long long)off, s->size);
		return false;
	}
	if (!memcmp(got, s->buf + off, n))
		return true;
	for (i = 0; got[i] == s->buf[off + i]; i++)
		;
	snprintf(why, whylen,
		 "%zu bytes at offset %lld (W=%llu C=%llu): first difference at stream offset %llu: got 0x%02x want 0x%02x",
		 n, (long long)off, (unsigned long long)s->width,
		 (unsigned long long)s->count, (unsigned long long)(off + i),
		 got[i], s->buf[off + i]);
	return false;
}

/*
 * True if got[0..n) are exactly the stream bytes at off. Logs the first
 * difference otherwise, with the bytes around it (callers ASSERT_TRUE on
 * it).
 */
static inline bool model_matches(struct __test_metadata *_metadata,
				 const struct stream *s, const char *what,
				 int64_t off, const unsigned char *got, size_t n)
{
	char why[256], e1[160], e2[160];
	size_t i, from;

	if (model_check(s, off, got, n, why, sizeof(why)))
		return true;
	TH_LOG("%s: %s", what, why);
	if (off < 0 || (uint64_t)off > s->size || n > s->size - (size_t)off)
		return false;
	for (i = 0; got[i] == s->buf[off + i]; i++)
		;
	from = i > 16 ? i - 16 : 0;
	TH_LOG("  got  \"%s\"", excerpt(got + from, min_sz(48, n - from), e1,
					sizeof(e1)));
	TH_LOG("  want \"%s\"", excerpt(s->buf + off + from,
					min_sz(48, n - from), e2, sizeof(e2)));
	return false;
}

/* ------------------------------------------------------------------ */
/* Small files, knobs, stats, module                                   */
/* ------------------------------------------------------------------ */

/*
 * One write(2) of buf[0..len) to a fresh open of path; errno kept. -2 if
 * path does not open.
 */
static inline ssize_t write_once(const char *path, const void *buf,
				 size_t len)
{
	ssize_t r;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	r = write(fd, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Writes the string v to path (a knob, debugfs, cgroupfs); 0 if all taken. */
static inline int put(const char *path, const char *v)
{
	return write_once(path, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
}

/* Reads a whole small file into out (NUL-terminated); -1 on error. */
static inline ssize_t read_small_file(const char *path, char *out,
				      size_t size)
{
	size_t got = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got + 1 < size) {
		r = read(fd, out + got, size - 1 - got);
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += r;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static inline void knob_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, MNT "/%s", name);
}

/* One write(2) of buf[0..len) to a fresh open of the knob; errno kept. */
static inline ssize_t knob_write(const char *name, const void *buf,
				 size_t len)
{
	char path[256];

	knob_path(path, sizeof(path), name);
	return write_once(path, buf, len);
}

static inline ssize_t knob_read(const char *name, char *out, size_t size)
{
	char path[256];

	knob_path(path, sizeof(path), name);
	return read_small_file(path, out, size);
}

static inline void set_knob(struct __test_metadata *_metadata,
			    const char *name, const char *value)
{
	ssize_t len = strlen(value);
	ssize_t r = knob_write(name, value, len);

	ASSERT_EQ(len, r) {
		TH_LOG("writing \"%s\" to %s returned %zd: %s", value, name,
		       r, strerror(errno));
	}
}

static inline void set_knob_u(struct __test_metadata *_metadata,
			      const char *name, unsigned long long value)
{
	char v[32];

	snprintf(v, sizeof(v), "%llu", value);
	set_knob(_metadata, name, v);
}

struct knob_default {
	const char *name;
	const char *value;
};

static const struct knob_default knob_defaults[] = {
	{ "record_mode", "printf" },
	{ "record_width", "100" },
	{ "record_count", "10000" },
	{ "buffer_size_kb", "1024" },
	{ "copy_buffer_size_kb", "4" },
	{ "map_mode", "auto" },
	{ "memcg_account", "0" },
	{ "buffer_total_kb", "65536" },
};

/*
 * The map mode the suites run in: SEQSPLICE_MAP_MODE (scripts/guest/check.sh
 * runs every suite once per mode), else the module's default.
 */
static inline const char *map_mode_under_test(void)
{
	const char *m = getenv("SEQSPLICE_MAP_MODE");

	return m && *m ? m : "auto";
}

static inline bool map_mode_is(const char *mode)
{
	return !strcmp(map_mode_under_test(), mode);
}

/*
 * Writes every default; returns the number of knobs that failed. With
 * cap_optional, buffer_total_kb is skipped where it does not exist:
 * hardening_test also runs on the module before the cap, whose other
 * defects its tests show.
 */
static inline int restore_defaults_quiet(bool cap_optional)
{
	int bad = 0;
	size_t i;

	model_raw = 0;
	model_width = DEF_WIDTH;
	for (i = 0; i < ARRAY_SIZE(knob_defaults); i++) {
		const char *value = knob_defaults[i].value;
		ssize_t len;
		char path[256];

		if (!strcmp(knob_defaults[i].name, "map_mode"))
			value = map_mode_under_test();
		len = strlen(value);
		knob_path(path, sizeof(path), knob_defaults[i].name);
		if (cap_optional &&
		    !strcmp(knob_defaults[i].name, "buffer_total_kb") &&
		    access(path, F_OK))
			continue;
		if (knob_write(knob_defaults[i].name, value, len) != len)
			bad++;
	}
	return bad;
}

/*
 * Sets the knobs for the next opens (0 / NULL = default) and builds the
 * model of the stream they give.
 */
static inline void use_stream(struct __test_metadata *_metadata,
			      struct stream *s, uint64_t count, uint64_t width,
			      unsigned int buf_kb, unsigned int copy_kb,
			      const char *mode)
{
	count = count ? count : DEF_COUNT;
	width = width ? width : DEF_WIDTH;
	model_width = width;
	set_knob(_metadata, "record_mode", mode ? mode : "printf");
	model_raw = mode && !strcmp(mode, "raw");
	set_knob_u(_metadata, "record_width", width);
	set_knob_u(_metadata, "record_count", count);
	set_knob_u(_metadata, "buffer_size_kb", buf_kb ? buf_kb : DEF_BUF_KB);
	set_knob_u(_metadata, "copy_buffer_size_kb",
		   copy_kb ? copy_kb : DEF_COPY_KB);
	stream_build(_metadata, s, width, count);
}

enum stat_id {
	ST_OPENS, ST_FILLS, ST_PAGES_ALLOCATED, ST_BULK_CALLS, ST_PAGES_RELEASED,
	ST_PAGES_HELD, ST_PAGES_GIFTED, ST_BYTES_SPLICED, ST_BYTES_READ,
	ST_VMAPS, ST_VM_MAP_RAM_MAPS, ST_VUNMAPS, ST_TAIL_CONTINUATIONS,
	ST_APPENDS, ST_REWINDS, ST_REGENERATIONS, ST_GROWS, ST_ALLOC_SHORTFALLS,
	ST_PURGES, ST_GET_PAGE_FAILURES, ST_INTERRUPTED, ST_IDLE_RELEASES,
	ST_PAGES_HELD_MAX, ST_META_PAGES_HELD, ST_PAGES_ALIVE,
	ST_DIRECT_FILLS, ST_DIRECT_PAGES, ST_BYTES_PER_GIFTED_PAGE,
	ST_EVENTS_RECORDED, ST_EVENTS_OVERRUNS, ST_EVENTS_LOST,
	ST_EVENTS_ENTRIES, ST_EVENTS_READERS, ST_RESTARTS, ST_DRAINS,
	ST_EVENTS_CPU_SHRINKS, ST_EVENTS_BUFFER_KB,
	NR_STATS
};

static const char *const stat_names[NR_STATS] = {
	"opens", "fills", "pages_allocated", "bulk_calls", "pages_released",
	"pages_held",
	"pages_gifted", "bytes_spliced", "bytes_read", "vmaps",
	"vm_map_ram_maps", "vunmaps", "tail_continuations", "appends", "rewinds",
	"regenerations", "grows", "alloc_shortfalls", "purges",
	"get_page_failures", "interrupted", "idle_releases", "pages_held_max",
	"meta_pages_held", "pages_alive", "direct_fills", "direct_pages",
	"bytes_per_gifted_page",
	"events_recorded", "events_overruns", "events_lost", "events_entries",
	"events_readers", "restarts", "drains", "events_cpu_shrinks",
	"events_buffer_kb",
};

struct stats {
	long long v[NR_STATS];
};

/* One read of the stats file: every counter, -1 for absent ones. */
static inline int read_stats_quiet(struct stats *st)
{
	char text[8192], *line, *save = NULL;
	int i;

	for (i = 0; i < NR_STATS; i++)
		st->v[i] = -1;
	if (read_small_file(MNT "/stats", text, sizeof(text)) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		long long v;

		if (sscanf(line, "%63s %lld", key, &v) != 2)
			continue;
		for (i = 0; i < NR_STATS; i++)
			if (!strcmp(key, stat_names[i]))
				st->v[i] = v;
	}
	return 0;
}

/*
 * Value of counter `name` (one of stat_names) in the stats file, -1 if
 * absent or unreadable.
 */
static inline long long read_stat(const char *name)
{
	struct stats st;
	int i;

	read_stats_quiet(&st);
	for (i = 0; i < NR_STATS; i++)
		if (!strcmp(name, stat_names[i]))
			return st.v[i];
	return -1;
}

/* read_stat() that must find the counter. */
static inline long long stat_ok(struct __test_metadata *_metadata,
				const char *name)
{
	long long v = read_stat(name);

	ASSERT_LE(0, v) TH_LOG("stats has no counter \"%s\"", name);
	return v;
}

static inline void read_stats(struct __test_metadata *_metadata,
			      struct stats *st)
{
	int i;

	ASSERT_EQ(0, read_stats_quiet(st)) {
		TH_LOG("cannot read %s/stats: %s", MNT, strerror(errno));
	}
	for (i = 0; i < NR_STATS; i++) {
		ASSERT_LE(0, st->v[i]) {
			TH_LOG("stats has no readable counter \"%s\"",
			       stat_names[i]);
		}
	}
}

static inline long long stat_delta(const struct stats *a,
				   const struct stats *b, enum stat_id id)
{
	return b->v[id] - a->v[id];
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static inline bool proc_modules_lists_us(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, MOD_NAME " ", strlen(MOD_NAME) + 1);
	fclose(f);
	return found;
}

/* The module creates MNT when it loads (Documentation/files.rst). */
static inline bool module_loaded(void)
{
	return path_exists(MNT) || proc_modules_lists_us();
}

static inline bool fs_mounted(void)
{
	return path_exists(MNT "/stats");
}

/* finit_module(2) of the module file at path, no parameters; errno kept. */
static inline int finit_module_path(const char *path)
{
	int fd, r, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = syscall(SYS_finit_module, fd, "", 0);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static inline int load_module_raw(void)
{
	return finit_module_path(KO_PATH);
}

static inline int mount_quiet(void)
{
	return mount("nodev", MNT, FS_TYPE, 0, NULL);
}

/* Loads and mounts whatever is missing; 0 when both are in place. */
static inline int ensure_ready_quiet(void)
{
	if (!module_loaded() && load_module_raw() && errno != EEXIST)
		return -1;
	if (!fs_mounted() && mount_quiet())
		return -1;
	return 0;
}

static inline void ensure_ready(struct __test_metadata *_metadata)
{
	if (!module_loaded()) {
		ASSERT_TRUE(!load_module_raw() || errno == EEXIST) {
			TH_LOG("finit_module(%s): %s", KO_PATH,
			       strerror(errno));
		}
	}
	if (!fs_mounted()) {
		ASSERT_EQ(0, mount_quiet()) {
			TH_LOG("mount -t %s nodev %s: %s", FS_TYPE, MNT,
			       strerror(errno));
		}
	}
}

/* umount + rmmod; every file of the module must be closed already. */
static inline void unload_module(struct __test_metadata *_metadata)
{
	int r = -1, i;

	ASSERT_EQ(0, umount2(MNT, 0)) {
		TH_LOG("umount %s: %s", MNT, strerror(errno));
	}
	for (i = 0; i < 100; i++) {
		r = syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK);
		if (!r || (errno != EAGAIN && errno != EBUSY))
			break;
		usleep(20000);
	}
	ASSERT_EQ(0, r) {
		TH_LOG("delete_module(%s): %s", MOD_NAME, strerror(errno));
	}
	ASSERT_FALSE(proc_modules_lists_us());
}

/* insmod /seqsplice.ko + mount. */
static inline void load_module(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, load_module_raw()) {
		TH_LOG("finit_module(%s): %s", KO_PATH, strerror(errno));
	}
	ASSERT_EQ(0, mount_quiet()) {
		TH_LOG("mount -t %s nodev %s: %s", FS_TYPE, MNT,
		       strerror(errno));
	}
}

/*
 * Recycles freed pages: writes 16 MiB of a pattern in user memory, so that
 * a page the module freed too early and that a pipe still points at would
 * most likely show the pattern.
 */
static inline void churn_user_memory(void)
{
	size_t len = 16 * MIB;
	char *p = malloc(len);

	if (!p)
		return;
	memset(p, 0x5a, len);
	/* Keep the stores. */
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
}

/* ------------------------------------------------------------------ */
/* File, pipe and transfer helpers (asserting)                         */
/* ------------------------------------------------------------------ */

/* Opens file `name` of the module's directory read-only. */
static inline int open_file(struct __test_metadata *_metadata,
			    const char *name)
{
	char path[256];
	int fd;

	knob_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	return fd;
}

/* A pipe with slots * 4096 bytes of capacity (slots 0: default 16). */
static inline size_t make_pipe(struct __test_metadata *_metadata, int p[2],
			       unsigned int slots)
{
	int sz;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	if (slots) {
		ASSERT_EQ((int)(slots * PG),
			  fcntl(p[1], F_SETPIPE_SZ, (int)(slots * PG))) {
			TH_LOG("F_SETPIPE_SZ %lu: %s", slots * PG,
			       strerror(errno));
		}
	}
	sz = fcntl(p[1], F_GETPIPE_SZ);
	ASSERT_LT(0, sz);
	return sz;
}

static inline void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* Bytes queued in a pipe (FIONREAD), -1 on error. */
static inline long pipe_bytes(int fd)
{
	int n;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/* Reads exactly n bytes from fd (a pipe or socket) into buf. */
static inline void drain_exact(struct __test_metadata *_metadata, int fd,
			       unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n);

		ASSERT_LT(0, r) {
			TH_LOG("read of %zu pipe bytes returned %zd: %s", n, r,
			       strerror(errno));
		}
		buf += r;
		n -= r;
	}
}

/*
 * read() until n bytes or EOF, for workers that must not assert; returns
 * the count, -1 on an error (EINTR is retried).
 */
static inline ssize_t read_upto(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = read(fd, (char *)buf + got, n - got)) != 0) {
		if (r < 0 && errno != EINTR)
			return -1;
		got += r > 0 ? r : 0;
	}
	return got;
}

/* read() until n bytes or EOF; every call returns 0 <= r <= asked. */
static inline size_t read_full(struct __test_metadata *_metadata, int fd,
			       unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		ASSERT_LE(0, r) {
			TH_LOG("read(%zu): %s", n - got, strerror(errno));
		}
		if (!r)
			break;
		ASSERT_GE((ssize_t)(n - got), r);
		got += r;
	}
	return got;
}

static inline size_t pread_full(struct __test_metadata *_metadata, int fd,
				unsigned char *buf, size_t n, int64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + got);

		ASSERT_LE(0, r) {
			TH_LOG("pread(%zu, %lld): %s", n - got,
			       (long long)(off + got), strerror(errno));
		}
		if (!r)
			break;
		ASSERT_GE((ssize_t)(n - got), r);
		got += r;
	}
	return got;
}

/*
 * pread() of every length in lens at every offset in offs on fd (buf at
 * least the longest length): each count the model's (expected_count()),
 * each byte the model's; what names the file in failure messages.
 */
static inline void pread_grid(struct __test_metadata *_metadata, int fd,
			      const struct stream *s, const char *what,
			      const int64_t *offs, size_t noffs,
			      const size_t *lens, size_t nlens,
			      unsigned char *buf)
{
	size_t i, j, got;

	for (i = 0; i < noffs; i++) {
		for (j = 0; j < nlens; j++) {
			got = pread_full(_metadata, fd, buf, lens[j], offs[i]);
			ASSERT_EQ(expected_count(s, offs[i], lens[j]), got) {
				TH_LOG("%s pread(%zu, %lld)", what, lens[j],
				       (long long)offs[i]);
			}
			ASSERT_TRUE(model_matches(_metadata, s, what, offs[i],
						  buf, got));
		}
	}
}

/*
 * splice() from fd (at *off, or the file position when off is NULL) into
 * the empty pipe p until n bytes or EOF, draining the pipe into buf after
 * every call. Checks each call: 0 <= r <= asked, r <= pipe capacity, the
 * pipe holds exactly r bytes, *off advanced by exactly r.
 */
static inline size_t splice_full(struct __test_metadata *_metadata, int fd,
				 int64_t *off, int p[2], size_t pipe_cap,
				 unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		loff_t o = off ? *off : 0;
		ssize_t r;

		r = splice(fd, off ? &o : NULL, p[1], NULL, n - got, 0);
		ASSERT_LE(0, r) {
			TH_LOG("splice(%zu): %s", n - got, strerror(errno));
		}
		if (off) {
			ASSERT_EQ(*off + r, o);
			*off = o;
		}
		ASSERT_EQ(r, pipe_bytes(p[0]));
		if (!r)
			break;
		ASSERT_GE((ssize_t)(n - got), r);
		ASSERT_GE((ssize_t)pipe_cap, r);
		drain_exact(_metadata, p[0], buf + got, r);
		got += r;
	}
	return got;
}

/*
 * The fewest bytes a whole pipe buffer of a gift splice carries: a page;
 * in direct mode (and auto's small splices) a page ends where the next
 * record did not fit, so it holds as many whole records as fit before its
 * last byte (records of a page or more are mapped, whole pages again).
 */
static inline size_t gift_page_fill(void)
{
	if (!(map_mode_is("direct") || map_mode_is("auto")) ||
	    model_width >= PG)
		return PG;
	/* a record ending exactly at the page end overflows it */
	return (PG - 1) / model_width * model_width;
}

/* Per-call accounting of a run of splices, for the pages_gifted bounds. */
struct tally {
	size_t calls;
	size_t bytes;
	size_t min_bufs;	/* sum of ceil(r / 4096) */
	size_t max_bufs;	/* sum of ceil(r / gift_page_fill()) + 1 */
};

/*
 * read() with chunk-sized requests until EOF into out (cap bytes, at least
 * the stream size + chunk). Returns the byte count.
 */
static inline size_t read_to_eof(struct __test_metadata *_metadata, int fd,
				 unsigned char *out, size_t cap, size_t chunk)
{
	size_t got = 0;

	for (;;) {
		ssize_t r;

		ASSERT_GE(cap, got + chunk) {
			TH_LOG("read gave %zu bytes and has not reached EOF",
			       got);
		}
		r = read(fd, out + got, chunk);
		ASSERT_LE(0, r) {
			TH_LOG("read(%zu) at %zu: %s", chunk, got,
			       strerror(errno));
		}
		if (!r)
			break;
		ASSERT_GE((ssize_t)chunk, r);
		got += r;
	}
	return got;
}

/*
 * splice() with len-sized requests until EOF, draining into out (cap bytes).
 * off: NULL for the file position, else an explicit offset that must
 * advance by exactly what each call returns.
 */
static inline size_t splice_to_eof(struct __test_metadata *_metadata, int fd,
				   int64_t *off, int p[2], size_t pipe_cap,
				   size_t len, unsigned char *out, size_t cap,
				   struct tally *t)
{
	size_t got = 0;

	for (;;) {
		loff_t o = off ? *off : 0;
		ssize_t r;

		r = splice(fd, off ? &o : NULL, p[1], NULL, len, 0);
		ASSERT_LE(0, r) {
			TH_LOG("splice(%zu) after %zu bytes: %s", len, got,
			       strerror(errno));
		}
		if (off) {
			ASSERT_EQ(*off + r, o);
			*off = o;
		}
		ASSERT_EQ(r, pipe_bytes(p[0]));
		if (!r)
			break;
		ASSERT_GE((ssize_t)len, r);
		ASSERT_GE((ssize_t)pipe_cap, r);
		ASSERT_GE((ssize_t)(cap - got), r) {
			TH_LOG("splice gave %zu bytes and has not reached EOF",
			       got + r);
		}
		drain_exact(_metadata, p[0], out + got, r);
		got += r;
		if (t) {
			t->calls++;
			t->bytes += r;
			t->min_bufs += div_up(r, PG);
			t->max_bufs += div_up(r, gift_page_fill()) + 1;
		}
	}
	return got;
}

/* Reads the whole of a regular file (e.g. in /tmp) into a new buffer. */
static inline unsigned char *slurp(struct __test_metadata *_metadata,
				   const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	ASSERT_EQ(0, fstat(fd, &st));
	buf = malloc(st.st_size + 1);
	ASSERT_NE(NULL, buf);
	*len = read_full(_metadata, fd, buf, st.st_size + 1);
	close(fd);
	return buf;
}

/* ------------------------------------------------------------------ */
/* The source under test: SEQSPLICE_SOURCE                             */
/* ------------------------------------------------------------------ */

/*
 * SEQSPLICE_SOURCE=events: the tests that support it (fault_test,
 * leak_test) run on `events` instead of `trace`, and the expected bytes are
 * a snapshot of `events_copy` (the same ring buffer through the stock
 * seq_file core), read completely with read() first. The ring buffer must
 * be frozen: events captured, recording off (events_enable 0). Unset,
 * empty or "trace": the record model, as always.
 */
#define EVENTS		"events"
#define EVENTS_COPY	"events_copy"

static inline const char *source_under_test(void)
{
	const char *s = getenv("SEQSPLICE_SOURCE");

	return s && *s ? s : TRACE;
}

static inline bool source_is_events(void)
{
	return !strcmp(source_under_test(), EVENTS);
}

/* The file the engine tests open: `trace`, or `events`. */
static inline const char *source_file(void)
{
	return source_is_events() ? EVENTS : TRACE;
}

/*
 * read() in a loop to EOF into a new malloc'd buffer (one spare byte,
 * NUL-terminated); *len its size. NULL on an error, errno kept.
 */
static inline unsigned char *read_whole_file_quiet(const char *path,
						   size_t *len)
{
	size_t cap = 1 << 20, got = 0;
	unsigned char *buf = malloc(cap), *bigger;
	int fd, saved;
	ssize_t r;

	*len = 0;
	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	for (;;) {
		if (got + 1 >= cap) {
			bigger = realloc(buf, cap * 2);
			if (!bigger)
				goto fail_close;
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail_close;
		if (!r)
			break;
		got += r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
fail_close:
	saved = errno;
	close(fd);
	errno = saved;
fail:
	saved = errno;
	free(buf);
	errno = saved;
	return NULL;
}

/*
 * The expected stream of `events`: events_copy read to EOF, twice (the two
 * reads must agree: the buffer is frozen), into s (width 0, count = its
 * lines). An empty snapshot fails: a test over nothing cannot fail.
 */
static inline void events_snapshot(struct __test_metadata *_metadata,
				   struct stream *s)
{
	unsigned char *again;
	size_t len2, i;

	memset(s, 0, sizeof(*s));
	s->buf = read_whole_file_quiet(SEQSPLICE_DIR EVENTS_COPY, &s->size);
	ASSERT_NE(NULL, s->buf) {
		TH_LOG("reading %s: %s", SEQSPLICE_DIR EVENTS_COPY,
		       strerror(errno));
	}
	ASSERT_LT(0U, s->size) {
		TH_LOG("%s is empty: capture events first (then events_enable=0)",
		       SEQSPLICE_DIR EVENTS_COPY);
	}
	again = read_whole_file_quiet(SEQSPLICE_DIR EVENTS_COPY, &len2);
	ASSERT_NE(NULL, again) {
		TH_LOG("reading %s again: %s", SEQSPLICE_DIR EVENTS_COPY,
		       strerror(errno));
	}
	ASSERT_TRUE(len2 == s->size && !memcmp(again, s->buf, len2)) {
		TH_LOG("%s changed between two reads (%zu, then %zu bytes): is recording still on (events_enable)?",
		       SEQSPLICE_DIR EVENTS_COPY, s->size, len2);
	}
	free(again);
	for (i = 0; i < s->size; i++)
		s->count += s->buf[i] == '\n';
	if (s->buf[s->size - 1] != '\n')
		s->count++;
}

/*
 * Checks SEQSPLICE_SOURCE, prints the source under test as a TAP comment
 * and, for events, takes the snapshot (snap->buf NULL otherwise). `model`
 * describes the trace case's stream (e.g. "3000 records of 100 bytes").
 */
static inline void source_setup(struct __test_metadata *_metadata,
				struct stream *snap, const char *model)
{
	const char *src = source_under_test();

	memset(snap, 0, sizeof(*snap));
	ASSERT_TRUE(!strcmp(src, TRACE) || !strcmp(src, EVENTS)) {
		TH_LOG("SEQSPLICE_SOURCE=%s: want %s or %s", src, TRACE,
		       EVENTS);
	}
	if (!source_is_events()) {
		printf("# source under test: %s against the record model (%s)\n",
		       TRACE, model);
		fflush(stdout);
		return;
	}
	events_snapshot(_metadata, snap);
	printf("# source under test: %s against a snapshot of %s (%zu bytes, %llu lines)\n",
	       EVENTS, EVENTS_COPY, snap->size,
	       (unsigned long long)snap->count);
	fflush(stdout);
}

static inline void run_shell(struct __test_metadata *_metadata,
			     const char *cmd)
{
	int st = system(cmd);

	ASSERT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("\"%s\" failed: status 0x%x", cmd, st);
	}
}

/*
 * Waits for every forked worker, then checks that each exited with 0.
 * Workers share _metadata: one that failed an ASSERT marked the test failed
 * (and exited 0 through the harness) and left _metadata->trigger set, so
 * nothing here may assert before all workers are reaped (no orphan may
 * outlive the test), and trigger is cleared first.
 */
static inline void wait_workers(struct __test_metadata *_metadata,
				const pid_t *pid, int n, const char *what)
{
	int st[8], i;
	pid_t got[8];

	for (i = 0; i < n && i < 8; i++) {
		st[i] = 0;
		do {
			got[i] = waitpid(pid[i], &st[i], 0);
		} while (got[i] < 0 && errno == EINTR);
	}
	_metadata->trigger = 0;
	ASSERT_GE(8, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(pid[i], got[i]);
		ASSERT_TRUE(WIFEXITED(st[i]) && WEXITSTATUS(st[i]) == 0) {
			TH_LOG("%s worker %d (pid %d) ended with status 0x%x",
			       what, i, pid[i], st[i]);
		}
	}
}

/*
 * Records the first failure of a thread worker, which must not ASSERT (the
 * harness longjmp()s, which a thread must not): w is any struct with
 * `int failed` and `char msg[]`; the test checks them after the join.
 */
#define worker_fail(w, ...)						\
	worker_fail_at(&(w)->failed, (w)->msg, sizeof((w)->msg), __VA_ARGS__)

static inline __attribute__((format(printf, 4, 5)))
void worker_fail_at(int *failed, char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (*failed)
		return;
	*failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static inline void common_setup(struct __test_metadata *_metadata)
{
	signal(SIGPIPE, SIG_IGN);
	ensure_ready(_metadata);
	ASSERT_EQ(0, restore_defaults_quiet(false)) {
		TH_LOG("cannot write the default knobs");
	}
}

/*
 * Runs in the parent of the test process (FIXTURE_TEARDOWN_PARENT), also
 * after the test failed or crashed. Plain ifs, no EXPECT_*: a failed ASSERT
 * leaves _metadata->trigger set, which would run any handler block here.
 */
static inline void common_teardown(struct __test_metadata *_metadata)
{
	long long held;

	if (ensure_ready_quiet()) {
		TH_LOG("teardown: cannot load/mount the module again: %s",
		       strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
		return;
	}
	if (restore_defaults_quiet(false)) {
		TH_LOG("teardown: cannot restore the default knobs");
		_metadata->exit_code = KSFT_FAIL;
	}
	held = read_stat("pages_held");
	if (held != 0) {
		TH_LOG("teardown: pages_held is %lld with every file closed",
		       held);
		_metadata->exit_code = KSFT_FAIL;
	}
}

#define SEQSPLICE_FIXTURE_HOOKS(name)					\
	FIXTURE_SETUP(name) { common_setup(_metadata); }		\
	FIXTURE_TEARDOWN_PARENT(name) { common_teardown(_metadata); }

/* Offset of line n (0: the first) of s; its size past the last. */
static inline size_t line_start(const struct stream *s, size_t n)
{
	size_t off = 0;

	while (n-- && off < s->size) {
		const unsigned char *nl = memchr(s->buf + off, '\n',
						 s->size - off);

		off = nl ? (size_t)(nl - s->buf) + 1 : s->size;
	}
	return off;
}

/* The first line start of s at or after off; the size if there is none. */
static inline size_t line_start_from(const struct stream *s, size_t off)
{
	const unsigned char *nl;

	if (off >= s->size)
		return s->size;
	if (!off || s->buf[off - 1] == '\n')
		return off;
	nl = memchr(s->buf + off, '\n', s->size - off);
	return nl ? (size_t)(nl - s->buf) + 1 : s->size;
}

#endif /* SEQSPLICE_TEST_H */
