// SPDX-License-Identifier: GPL-2.0
/*
 * seqsplice_test - in-guest kselftest-harness suite for the seqsplice module.
 *
 * Runs as root in the test guest with the module loaded from /seqsplice.ko
 * and its filesystem mounted at /sys/kernel/seqsplice (README.md). Every
 * test compares what `trace` (vmapped pages gifted to pipes) returns against
 * the reference model in model.h and, where it says so, against `trace_copy`
 * (stock seq_read_iter + copy_splice_read) doing the same sequence.
 *
 * Tests run one after the other in one guest boot. Every fixture's setup
 * makes sure the module is loaded and mounted and writes the default knobs;
 * its teardown (run in the parent, so it also runs after a crash of the test
 * process) loads/mounts again if needed, restores the default knobs and
 * checks that the module holds no pages once every file is closed.
 *
 * Helpers that take `_metadata` may use ASSERT_*; they are only called from
 * the test process itself or from processes it forks (never from threads:
 * the thread workers below report failures through their own structs).
 *
 * Where README.md leaves room, this suite asserts:
 * - A single read/pread/splice/sendfile-to-pipe call may return fewer bytes
 *   than asked, but never 0 before EOF; exactly the bytes it returned are in
 *   the pipe (FIONREAD), and they are the model's bytes at the call's offset.
 *   A 1- or 2-byte splice returns exactly 1 or 2 (short_splice_read.sh).
 * - lseek follows seq_lseek: SEEK_SET/SEEK_CUR only, past EOF is allowed
 *   (then reads return 0), anything else EINVAL with the position unchanged;
 *   trace and trace_copy must return the same.
 * - stats count `trace` only: trace_copy leaves pages_gifted, bytes_spliced
 *   and bytes_read alone; one open of trace is opens + 1; bytes_read and
 *   bytes_spliced add exactly the bytes returned (sendfile, i.e. busybox cat,
 *   goes through splice_read and counts as spliced); pages_held counts what
 *   the module holds (its page references and per-open metadata), so it is
 *   0 once every trace fd is closed
 *   even while pipes still hold gifted pages; an lseek to the current
 *   position regenerates nothing; splice(2) then splice(100) on a fresh open
 *   are 2 pipe buffers and 1 tail continuation; `rewinds` is only checked to
 *   be readable and monotonic.
 * - Knob writes: one write(2) of exactly the decimal digits, optionally plus
 *   one '\n'; a 0-byte write, a NUL, a sign, hex, spaces or a second newline
 *   are EINVAL; a leading zero is decimal or EINVAL, never octal. Reads give
 *   "<value>\n". record_mode takes "raw"/"printf" (+ optional '\n'), case
 *   sensitive. The directory holds exactly the files of the table; mode
 *   bits as listed, so uid 65534 gets EACCES on every open.
 * - A fresh insmod starts with the default knobs and zeroed stats.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
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
#define KO_PATH		"/seqsplice.ko"
#define MOD_NAME	"seqsplice"
#define FS_TYPE		"seqsplice"
#define TRACE		"trace"
#define TRACE_COPY	"trace_copy"
#define PV		"/usr/bin/pv"

#define PG		4096UL
#define MIB		(1UL << 20)
/* Largest single data operation of the random op engine. */
#define MAX_OP_LEN	MIB
#define SCRATCH_LEN	(MAX_OP_LEN + 2 * PG)

/* Defaults from README.md. */
#define DEF_BUF_KB	1024
#define DEF_COPY_KB	4
#define DEF_COUNT	10000U
#define DEF_WIDTH	100

static const char *const both_files[] = { TRACE, TRACE_COPY };

/* ------------------------------------------------------------------ */
/* Small utilities                                                     */
/* ------------------------------------------------------------------ */

static uint64_t rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t div_up(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* Printable excerpt of bytes for diagnostics, written into out. */
static const char *excerpt(const unsigned char *p, size_t n, char *out,
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

static void stream_build(struct __test_metadata *_metadata, struct stream *s,
			 uint64_t width, uint64_t count)
{
	s->width = width;
	s->count = count;
	s->size = model_size(width, count);
	s->buf = malloc(s->size + 1);
	ASSERT_NE(NULL, s->buf);
	ASSERT_EQ(s->size, fill(s->buf, 0, s->size + 1, width, count));
}

/* Number of bytes a complete transfer of len bytes from off must give. */
static size_t expected_count(const struct stream *s, int64_t off, size_t len)
{
	if (off < 0 || (uint64_t)off >= s->size)
		return 0;
	return min_sz(len, s->size - (size_t)off);
}

/*
 * True if got[0..n) are exactly the stream bytes at off. Logs the first
 * difference otherwise (callers ASSERT_TRUE on it).
 */
static bool model_matches(struct __test_metadata *_metadata,
			  const struct stream *s, const char *what,
			  int64_t off, const unsigned char *got, size_t n)
{
	char e1[160], e2[160];
	size_t i, from;

	if (!n)
		return true;
	if (off < 0 || (uint64_t)off > s->size || n > s->size - (size_t)off) {
		TH_LOG("%s: %zu bytes at offset %lld run past EOF %zu", what,
		       n, (long long)off, s->size);
		return false;
	}
	if (!memcmp(got, s->buf + off, n))
		return true;
	for (i = 0; got[i] == s->buf[off + i]; i++)
		;
	from = i > 16 ? i - 16 : 0;
	TH_LOG("%s: %zu bytes at offset %lld (W=%llu C=%llu): first difference at stream offset %llu: got 0x%02x want 0x%02x",
	       what, n, (long long)off, (unsigned long long)s->width,
	       (unsigned long long)s->count,
	       (unsigned long long)(off + i), got[i], s->buf[off + i]);
	TH_LOG("  got  \"%s\"", excerpt(got + from, min_sz(48, n - from), e1,
					sizeof(e1)));
	TH_LOG("  want \"%s\"", excerpt(s->buf + off + from,
					min_sz(48, n - from), e2, sizeof(e2)));
	return false;
}

/* ------------------------------------------------------------------ */
/* Knobs, stats, module                                                */
/* ------------------------------------------------------------------ */

static void knob_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, MNT "/%s", name);
}

/* One write(2) of buf[0..len) to a fresh open of the knob; errno kept. */
static ssize_t knob_write(const char *name, const void *buf, size_t len)
{
	char path[256];
	ssize_t r;
	int fd, saved;

	knob_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	r = write(fd, buf, len);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Reads a whole small file into out (NUL-terminated); -1 on error. */
static ssize_t read_small_file(const char *path, char *out, size_t size)
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

static ssize_t knob_read(const char *name, char *out, size_t size)
{
	char path[256];

	knob_path(path, sizeof(path), name);
	return read_small_file(path, out, size);
}

static void set_knob(struct __test_metadata *_metadata, const char *name,
		     const char *value)
{
	ssize_t len = strlen(value);
	ssize_t r = knob_write(name, value, len);

	ASSERT_EQ(len, r) {
		TH_LOG("writing \"%s\" to %s returned %zd: %s", value, name,
		       r, strerror(errno));
	}
}

static void set_knob_u(struct __test_metadata *_metadata, const char *name,
		       unsigned long long value)
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
	{ "map_mode", "vm_map_ram" },
	{ "memcg_account", "0" },
	{ "buffer_total_kb", "65536" },
};

/* Writes every default; returns the number of knobs that failed. */
static int restore_defaults_quiet(void)
{
	int bad = 0;
	size_t i;

	model_raw = 0;
	for (i = 0; i < ARRAY_SIZE(knob_defaults); i++) {
		ssize_t len = strlen(knob_defaults[i].value);

		if (knob_write(knob_defaults[i].name, knob_defaults[i].value,
			       len) != len)
			bad++;
	}
	return bad;
}

/*
 * Sets the knobs for the next opens (0 / NULL = default) and builds the
 * model of the stream they give.
 */
static void use_stream(struct __test_metadata *_metadata, struct stream *s,
		       uint64_t count, uint64_t width, unsigned int buf_kb,
		       unsigned int copy_kb, const char *mode)
{
	count = count ? count : DEF_COUNT;
	width = width ? width : DEF_WIDTH;
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
	ST_APPENDS, ST_REWINDS, ST_REGENERATIONS, ST_GROWS, ST_ALLOC_SHORTFALLS, ST_PURGES,
	ST_GET_PAGE_FAILURES, ST_INTERRUPTED, ST_IDLE_RELEASES, ST_PAGES_HELD_MAX,
	ST_META_PAGES_HELD, ST_PAGES_ALIVE,
	NR_STATS
};

static const char *const stat_names[NR_STATS] = {
	"opens", "fills", "pages_allocated", "bulk_calls", "pages_released",
	"pages_held",
	"pages_gifted", "bytes_spliced", "bytes_read", "vmaps",
	"vm_map_ram_maps", "vunmaps", "tail_continuations", "appends", "rewinds",
	"regenerations", "grows", "alloc_shortfalls", "purges",
	"get_page_failures", "interrupted", "idle_releases", "pages_held_max",
	"meta_pages_held", "pages_alive",
};

struct stats {
	long long v[NR_STATS];
};

/* One read of the stats file: every counter, -1 for absent ones. */
static int read_stats_quiet(struct stats *st)
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

/* Value of one counter of the stats file, or -1 if absent/unreadable. */
static long long read_stat(const char *name)
{
	struct stats st;
	int i;

	read_stats_quiet(&st);
	for (i = 0; i < NR_STATS; i++)
		if (!strcmp(name, stat_names[i]))
			return st.v[i];
	return -1;
}

static void read_stats(struct __test_metadata *_metadata, struct stats *st)
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

static long long stat_delta(const struct stats *a, const struct stats *b,
			    enum stat_id id)
{
	return b->v[id] - a->v[id];
}

static bool path_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static bool proc_modules_lists_us(void)
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

/* The module creates MNT when it loads (README.md). */
static bool module_loaded(void)
{
	return path_exists(MNT) || proc_modules_lists_us();
}

static bool fs_mounted(void)
{
	return path_exists(MNT "/stats");
}

static int load_module_raw(void)
{
	int fd, r, saved;

	fd = open(KO_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = syscall(SYS_finit_module, fd, "", 0);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static int mount_quiet(void)
{
	return mount("nodev", MNT, FS_TYPE, 0, NULL);
}

/* Loads and mounts whatever is missing; 0 when both are in place. */
static int ensure_ready_quiet(void)
{
	if (!module_loaded() && load_module_raw() && errno != EEXIST)
		return -1;
	if (!fs_mounted() && mount_quiet())
		return -1;
	return 0;
}

static void ensure_ready(struct __test_metadata *_metadata)
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
static void unload_module(struct __test_metadata *_metadata)
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
static void load_module(struct __test_metadata *_metadata)
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
static void churn_user_memory(void)
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

static int open_file(struct __test_metadata *_metadata, const char *name)
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
static size_t make_pipe(struct __test_metadata *_metadata, int p[2],
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

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* Bytes queued in a pipe (FIONREAD), -1 on error. */
static long pipe_bytes(int fd)
{
	int n;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

/* Reads exactly n bytes from fd (a pipe or socket) into buf. */
static void drain_exact(struct __test_metadata *_metadata, int fd,
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

/* read() until n bytes or EOF; every call returns 0 <= r <= asked. */
static size_t read_full(struct __test_metadata *_metadata, int fd,
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

static size_t pread_full(struct __test_metadata *_metadata, int fd,
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
 * splice() from fd (at *off, or the file position when off is NULL) into
 * the empty pipe p until n bytes or EOF, draining the pipe into buf after
 * every call. Checks each call: 0 <= r <= asked, r <= pipe capacity, the
 * pipe holds exactly r bytes, *off advanced by exactly r.
 */
static size_t splice_full(struct __test_metadata *_metadata, int fd,
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

/* Per-call accounting of a run of splices, for the pages_gifted bounds. */
struct tally {
	size_t calls;
	size_t bytes;
	size_t min_bufs;	/* sum of ceil(r / 4096) */
	size_t max_bufs;	/* sum of ceil(r / 4096) + 1 */
};

/*
 * read() with chunk-sized requests until EOF into out (cap bytes, at least
 * the stream size + chunk). Returns the byte count.
 */
static size_t read_to_eof(struct __test_metadata *_metadata, int fd,
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
static size_t splice_to_eof(struct __test_metadata *_metadata, int fd,
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
			t->max_bufs += div_up(r, PG) + 1;
		}
	}
	return got;
}

/* Reads the whole of a regular file (e.g. in /tmp) into a new buffer. */
static unsigned char *slurp(struct __test_metadata *_metadata,
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

static void run_shell(struct __test_metadata *_metadata, const char *cmd)
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
static void wait_workers(struct __test_metadata *_metadata, const pid_t *pid,
			 int n, const char *what)
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

/* A connected TCP pair on 127.0.0.1. */
static void tcp_pair(struct __test_metadata *_metadata, int *client,
		     int *server, int sndbuf, int rcvbuf)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(a);
	int l, c, s;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, l) {
		TH_LOG("socket: %s", strerror(errno));
	}
	if (rcvbuf) {
		ASSERT_EQ(0, setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					sizeof(rcvbuf)));
	}
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("bind 127.0.0.1: %s (is lo up?)", strerror(errno));
	}
	ASSERT_EQ(0, listen(l, 1));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&a, &alen));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	if (sndbuf) {
		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf,
					sizeof(sndbuf)));
	}
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&a, sizeof(a))) {
		TH_LOG("connect 127.0.0.1:%u: %s", ntohs(a.sin_port),
		       strerror(errno));
	}
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, s);
	close(l);
	*client = c;
	*server = s;
}

/* ------------------------------------------------------------------ */
/* Operation engine: one op on one open file, checked against the model */
/* ------------------------------------------------------------------ */

enum op_kind {
	OP_READ_FULL,	/* read() until len bytes or EOF */
	OP_READ_ONCE,	/* one read() */
	OP_SPLICE_FULL,	/* splice() from f_pos until len or EOF */
	OP_SPLICE_ONCE,	/* one splice() from f_pos */
	OP_SPLICE_OFF,	/* splice() with off_in until len or EOF */
	OP_PREAD,	/* pread() until len or EOF */
	OP_SENDFILE_ONCE, /* one sendfile() into the pipe from f_pos */
	OP_SEEK_SET,
	OP_SEEK_CUR,	/* may go negative: EINVAL, position unchanged */
	OP_SEEK_CUR0,	/* lseek(fd, 0, SEEK_CUR) == position */
	OP_PIPE_SIZE,	/* F_SETPIPE_SZ slots * 4096 on the empty pipe */
	NR_OP_KINDS
};

static const char *const op_names[NR_OP_KINDS] = {
	"read_full", "read_once", "splice_full", "splice_once", "splice_off",
	"pread", "sendfile_once", "seek_set", "seek_cur", "seek_cur0",
	"pipe_size",
};

struct op {
	enum op_kind kind;
	size_t len;
	int64_t off;		/* offset, or delta for OP_SEEK_CUR */
	bool rel_end;		/* off is relative to EOF */
	unsigned int slots;
};

struct fctx {
	const char *name;
	int fd;
	int p[2];
	size_t pipe_cap;
	int64_t pos;		/* the file position we expect */
	const struct stream *s;
	unsigned char *scratch;	/* SCRATCH_LEN bytes: the op's data */
};

/* Wraps an open fd of `file` (whose stream is s) with a default pipe. */
static void fctx_attach(struct __test_metadata *_metadata, struct fctx *c,
			const char *file, int fd, const struct stream *s)
{
	c->name = file;
	c->fd = fd;
	c->pipe_cap = make_pipe(_metadata, c->p, 0);
	c->pos = 0;
	c->s = s;
	c->scratch = malloc(SCRATCH_LEN);
	ASSERT_NE(NULL, c->scratch);
}

static void fctx_open(struct __test_metadata *_metadata, struct fctx *c,
		      const char *file, const struct stream *s)
{
	fctx_attach(_metadata, c, file, open_file(_metadata, file), s);
}

static void fctx_close(struct fctx *c)
{
	close(c->fd);
	close_pipe(c->p);
	free(c->scratch);
	c->scratch = NULL;
}

/* Checks a single call's count: 0 exactly at/after EOF, else 1..limit. */
static void check_once_count(struct __test_metadata *_metadata,
			     const struct fctx *c, const char *what,
			     ssize_t r, size_t limit)
{
	if ((uint64_t)c->pos >= c->s->size) {
		ASSERT_EQ(0, r) {
			TH_LOG("%s %s at %lld (EOF %zu) returned %zd", c->name,
			       what, (long long)c->pos, c->s->size, r);
		}
	} else {
		ASSERT_TRUE(r > 0 && (size_t)r <= limit) {
			TH_LOG("%s %s at %lld returned %zd (limit %zu)",
			       c->name, what, (long long)c->pos, r, limit);
		}
	}
}

/*
 * Runs op on c, checks every returned byte against the model and returns
 * the op's result (bytes for data ops, the lseek return for seeks).
 */
static ssize_t exec_op(struct __test_metadata *_metadata, struct fctx *c,
		       const struct op *op)
{
	const struct stream *s = c->s;
	int64_t off = op->rel_end ? (int64_t)s->size + op->off : op->off;
	size_t len = op->len;
	char what[160];
	ssize_t r;
	loff_t o;

	snprintf(what, sizeof(what), "%s %s len=%zu off=%lld pos=%lld",
		 c->name, op_names[op->kind], len, (long long)off,
		 (long long)c->pos);
	ASSERT_GE(MAX_OP_LEN, len);

	switch (op->kind) {
	case OP_READ_FULL:
		r = read_full(_metadata, c->fd, c->scratch, len);
		ASSERT_EQ(expected_count(s, c->pos, len), (size_t)r) {
			TH_LOG("%s", what);
		}
		ASSERT_TRUE(model_matches(_metadata, s, what, c->pos,
					  c->scratch, r));
		c->pos += r;
		return r;
	case OP_READ_ONCE:
		r = read(c->fd, c->scratch, len);
		ASSERT_LE(0, r) {
			TH_LOG("%s: %s", what, strerror(errno));
		}
		check_once_count(_metadata, c, "read", r, len);
		ASSERT_TRUE(model_matches(_metadata, s, what, c->pos,
					  c->scratch, r));
		c->pos += r;
		return r;
	case OP_SPLICE_FULL:
		r = splice_full(_metadata, c->fd, NULL, c->p, c->pipe_cap,
				c->scratch, len);
		ASSERT_EQ(expected_count(s, c->pos, len), (size_t)r) {
			TH_LOG("%s", what);
		}
		ASSERT_TRUE(model_matches(_metadata, s, what, c->pos,
					  c->scratch, r));
		c->pos += r;
		return r;
	case OP_SPLICE_ONCE:
	case OP_SENDFILE_ONCE:
		if (op->kind == OP_SPLICE_ONCE)
			r = splice(c->fd, NULL, c->p[1], NULL, len, 0);
		else
			r = sendfile(c->p[1], c->fd, NULL, len);
		ASSERT_LE(0, r) {
			TH_LOG("%s: %s", what, strerror(errno));
		}
		ASSERT_EQ(r, pipe_bytes(c->p[0])) {
			TH_LOG("%s", what);
		}
		check_once_count(_metadata, c, op_names[op->kind], r,
				 min_sz(len, c->pipe_cap));
		drain_exact(_metadata, c->p[0], c->scratch, r);
		ASSERT_TRUE(model_matches(_metadata, s, what, c->pos,
					  c->scratch, r));
		c->pos += r;
		return r;
	case OP_SPLICE_OFF: {
		int64_t at = off;

		r = splice_full(_metadata, c->fd, &at, c->p, c->pipe_cap,
				c->scratch, len);
		ASSERT_EQ(expected_count(s, off, len), (size_t)r) {
			TH_LOG("%s", what);
		}
		ASSERT_EQ(off + r, at);
		ASSERT_TRUE(model_matches(_metadata, s, what, off, c->scratch,
					  r));
		return r;
	}
	case OP_PREAD:
		r = pread_full(_metadata, c->fd, c->scratch, len, off);
		ASSERT_EQ(expected_count(s, off, len), (size_t)r) {
			TH_LOG("%s", what);
		}
		ASSERT_TRUE(model_matches(_metadata, s, what, off, c->scratch,
					  r));
		return r;
	case OP_SEEK_SET:
		o = lseek(c->fd, off, SEEK_SET);
		ASSERT_EQ(off, o) {
			TH_LOG("%s: %s", what, strerror(errno));
		}
		c->pos = off;
		return o;
	case OP_SEEK_CUR:
		errno = 0;
		o = lseek(c->fd, off, SEEK_CUR);
		if (c->pos + off < 0) {
			ASSERT_EQ(-1, o) {
				TH_LOG("%s", what);
			}
			ASSERT_EQ(EINVAL, errno);
			return -EINVAL;
		}
		ASSERT_EQ(c->pos + off, o) {
			TH_LOG("%s: %s", what, strerror(errno));
		}
		c->pos = o;
		return o;
	case OP_SEEK_CUR0:
		o = lseek(c->fd, 0, SEEK_CUR);
		ASSERT_EQ(c->pos, o) {
			TH_LOG("%s", what);
		}
		return o;
	case OP_PIPE_SIZE:
		ASSERT_EQ(0, pipe_bytes(c->p[0]));
		ASSERT_EQ((int)(op->slots * PG),
			  fcntl(c->p[1], F_SETPIPE_SZ, (int)(op->slots * PG)));
		c->pipe_cap = op->slots * PG;
		return 0;
	case NR_OP_KINDS:
		break;
	}
	ASSERT_TRUE(false) {
		TH_LOG("bad op %d", op->kind);
	}
	return -1;
}

/*
 * Runs op on trace (t) and the equivalent op on trace_copy (c): the single
 * call kinds become complete transfers of exactly what trace returned, so
 * both files stay at the same position. Results and bytes must agree.
 */
static void exec_twin(struct __test_metadata *_metadata, struct fctx *t,
		      struct fctx *c, const struct op *op)
{
	struct op op2 = *op;
	ssize_t r0, r1;

	r0 = exec_op(_metadata, t, op);
	switch (op->kind) {
	case OP_READ_ONCE:
		op2.kind = OP_READ_FULL;
		op2.len = r0 ? (size_t)r0 : 1;
		break;
	case OP_SPLICE_ONCE:
	case OP_SENDFILE_ONCE:
		op2.kind = OP_SPLICE_FULL;
		op2.len = r0 ? (size_t)r0 : 1;
		break;
	default:
		break;
	}
	r1 = exec_op(_metadata, c, &op2);
	ASSERT_EQ(r0, r1) {
		TH_LOG("%s: trace gave %zd, trace_copy gave %zd",
		       op_names[op->kind], r0, r1);
	}
	ASSERT_EQ(t->pos, c->pos);
	switch (op->kind) {
	case OP_READ_FULL: case OP_READ_ONCE: case OP_SPLICE_FULL:
	case OP_SPLICE_ONCE: case OP_SPLICE_OFF: case OP_PREAD:
	case OP_SENDFILE_ONCE:
		ASSERT_EQ(0, memcmp(t->scratch, c->scratch, r0));
		break;
	default:
		break;
	}
}

static size_t pick_len(uint64_t *r)
{
	static const size_t lens[] = {
		1, 2, 3, 7, 83, 84, 99, 100, 101, 4095, 4096, 4097, 8191,
		8192, 12289, 65536,
	};
	uint64_t k = rnd(r) % 24;

	if (k < ARRAY_SIZE(lens))
		return lens[k];
	if (k < 23)
		return 1 + rnd(r) % 70000;
	return MAX_OP_LEN;
}

static int64_t pick_off(uint64_t *r, const struct stream *s)
{
	int64_t size = s->size, v;

	switch (rnd(r) % 8) {
	case 0:
		return 0;
	case 1:
		v = size - 1 - (int64_t)(rnd(r) % 3);
		return v < 0 ? 0 : v;
	case 2:
		return size + rnd(r) % 300;
	case 3:
		v = (int64_t)(rnd(r) % (size / PG + 1)) * PG +
		    (int64_t)(rnd(r) % 3) - 1;
		return v < 0 ? 0 : v;
	case 4:
		return (int64_t)(rnd(r) % s->count) * s->width +
		       (int64_t)(rnd(r) % 3);
	default:
		return rnd(r) % (size + 1);
	}
}

static struct op pick_op(uint64_t *r, const struct stream *s, int64_t pos)
{
	static const unsigned int slots[] = { 1, 2, 4, 16, 64, 256 };
	struct op op = { .len = pick_len(r) };

	switch (rnd(r) % 16) {
	case 0: case 1:
		op.kind = OP_READ_FULL;
		break;
	case 2: case 3:
		op.kind = OP_READ_ONCE;
		break;
	case 4: case 5:
		op.kind = OP_SPLICE_FULL;
		break;
	case 6: case 7:
		op.kind = OP_SPLICE_ONCE;
		break;
	case 8:
		op.kind = OP_SPLICE_OFF;
		op.off = pick_off(r, s);
		break;
	case 9:
		op.kind = OP_PREAD;
		op.off = pick_off(r, s);
		break;
	case 10:
		op.kind = OP_SENDFILE_ONCE;
		break;
	case 11:
		op.kind = OP_SEEK_SET;
		op.off = pick_off(r, s);
		break;
	case 12:
		op.kind = OP_SEEK_CUR;
		if (rnd(r) & 1)
			op.off = -(int64_t)(rnd(r) % (pos + 200));
		else
			op.off = rnd(r) % 20000;
		break;
	case 13: case 14:
		op.kind = OP_SEEK_CUR0;
		break;
	default:
		op.kind = OP_PIPE_SIZE;
		op.slots = slots[rnd(r) % ARRAY_SIZE(slots)];
		break;
	}
	return op;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static void common_setup(struct __test_metadata *_metadata)
{
	signal(SIGPIPE, SIG_IGN);
	ensure_ready(_metadata);
	ASSERT_EQ(0, restore_defaults_quiet()) {
		TH_LOG("cannot write the default knobs");
	}
}

/*
 * Runs in the parent of the test process (FIXTURE_TEARDOWN_PARENT), also
 * after the test failed or crashed. Plain ifs, no EXPECT_*: a failed ASSERT
 * leaves _metadata->trigger set, which would run any handler block here.
 */
static void common_teardown(struct __test_metadata *_metadata)
{
	long long held;

	if (ensure_ready_quiet()) {
		TH_LOG("teardown: cannot load/mount the module again: %s",
		       strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
		return;
	}
	if (restore_defaults_quiet()) {
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

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* Model sanity: the model agrees with README.md's literal format    */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, model_headers_are_83_bytes_and_match_trace_copy)
{
	static const char h0[] =
		"       seqsplice-1000    [000] d..1.     0.000000: seqsplice_event: seq=0000000000 ";
	static const char h9999[] =
		"       seqsplice-1999    [003] d..1.    12.368763: seqsplice_event: seq=0000009999 ";
	unsigned char got[MODEL_HEADER_LEN];
	char h[MODEL_HEADER_LEN + 1];
	uint64_t i;
	int fd;

	ASSERT_EQ(MODEL_HEADER_LEN, (int)strlen(h0));
	ASSERT_EQ(MODEL_HEADER_LEN, model_header(0, h));
	ASSERT_STREQ(h0, h);
	ASSERT_EQ(MODEL_HEADER_LEN, model_header(9999, h));
	ASSERT_STREQ(h9999, h);
	for (i = 0; i < MODEL_MAX_COUNT; i += 99991) {
		ASSERT_EQ(MODEL_HEADER_LEN, model_header(i, h));
	}
	ASSERT_EQ(MODEL_HEADER_LEN, model_header(MODEL_MAX_COUNT - 1, h));
	ASSERT_EQ('a', byte_at(83, 100, 1));
	ASSERT_EQ('p', byte_at(98, 100, 1));
	ASSERT_EQ('\n', byte_at(99, 100, 1));
	ASSERT_EQ('b', byte_at(183, 100, 2));
	ASSERT_EQ(-1, byte_at(200, 100, 2));

	/* The first and the last header as the stock seq_file path prints. */
	fd = open_file(_metadata, TRACE_COPY);
	ASSERT_EQ((size_t)MODEL_HEADER_LEN, pread_full(_metadata, fd, got,
					       MODEL_HEADER_LEN, 0));
	ASSERT_EQ(0, memcmp(h0, got, MODEL_HEADER_LEN));
	ASSERT_EQ((size_t)MODEL_HEADER_LEN, pread_full(_metadata, fd, got,
					       MODEL_HEADER_LEN, 9999 * 100));
	ASSERT_EQ(0, memcmp(h9999, got, MODEL_HEADER_LEN)) {
		TH_LOG("trace_copy record 9999 header differs from README.md");
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 1. Whole-file read equivalence                                      */
/* ------------------------------------------------------------------ */

FIXTURE(read_size) {
	int unused;
};
FIXTURE_VARIANT(read_size) {
	size_t chunk;
	unsigned int count, width, buf_kb, copy_kb;
	const char *mode;
};
SEQSPLICE_FIXTURE_HOOKS(read_size)

FIXTURE_VARIANT_ADD(read_size, r1_buf4) {
	.chunk = 1, .count = 300, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(read_size, r2_buf16) {
	.chunk = 2, .count = 400, .buf_kb = 16,
};
FIXTURE_VARIANT_ADD(read_size, r7_buf4) {
	.chunk = 7, .count = 1000, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(read_size, r4095) {
	.count = 3000, .chunk = 4095,
};
FIXTURE_VARIANT_ADD(read_size, r4096_buf16) {
	.count = 3000, .chunk = 4096, .buf_kb = 16,
};
FIXTURE_VARIANT_ADD(read_size, r4097_buf4) {
	.count = 3000, .chunk = 4097, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(read_size, r65536_buf64_copy64) {
	.count = 3000, .chunk = 65536, .buf_kb = 64, .copy_kb = 64,
};
FIXTURE_VARIANT_ADD(read_size, r1m) {
	.chunk = 1 << 20,
};
FIXTURE_VARIANT_ADD(read_size, r4096_width84_raw) {
	.chunk = 4096, .count = 5000, .width = 84, .buf_kb = 8,
	.mode = "raw",
};
FIXTURE_VARIANT_ADD(read_size, r4097_width4097_buf4) {
	.chunk = 4097, .count = 200, .width = 4097, .buf_kb = 4,
};

TEST_F_TIMEOUT(read_size, whole_file_read_matches_model_and_trace_copy, 120)
{
	unsigned char *out[2];
	struct stream s;
	size_t i, got, cap;

	use_stream(_metadata, &s, variant->count, variant->width,
		   variant->buf_kb, variant->copy_kb, variant->mode);
	cap = s.size + variant->chunk;
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);

		out[i] = malloc(cap);
		ASSERT_NE(NULL, out[i]);
		got = read_to_eof(_metadata, fd, out[i], cap, variant->chunk);
		ASSERT_EQ(s.size, got) {
			TH_LOG("%s: read returned 0 after %zu of %zu bytes",
			       both_files[i], got, s.size);
		}
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  out[i], got));
		/* EOF stays EOF. */
		ASSERT_EQ(0, read(fd, out[i], variant->chunk));
		ASSERT_EQ(0, read(fd, out[i], 1));
		close(fd);
	}
	ASSERT_EQ(0, memcmp(out[0], out[1], s.size));
}

/* ------------------------------------------------------------------ */
/* 2. pread                                                            */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, pread_at_edges_and_past_eof_matches_model_like_trace_copy)
{
	static const size_t lens[] = { 1, 100, 5000, 65536 };
	unsigned char *buf[2];
	struct stream s;
	size_t i, j, k;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	{
		const int64_t offs[] = {
			0, 1, 83, 84, 99, 100, 4095, 4096, 4097, 150037,
			(int64_t)s.size - 100, (int64_t)s.size - 1,
			(int64_t)s.size, (int64_t)s.size + 1,
			(int64_t)s.size + 100000, 1LL << 40, 7,
		};

		for (i = 0; i < 2; i++) {
			buf[i] = malloc(65536);
			ASSERT_NE(NULL, buf[i]);
		}
		for (i = 0; i < 2; i++) {
			int fd = open_file(_metadata, both_files[i]);

			for (j = 0; j < ARRAY_SIZE(offs); j++) {
				for (k = 0; k < ARRAY_SIZE(lens); k++) {
					size_t n = pread_full(_metadata, fd,
							      buf[i], lens[k],
							      offs[j]);

					ASSERT_EQ(expected_count(&s, offs[j],
								 lens[k]), n) {
						TH_LOG("%s pread(%zu, %lld)",
						       both_files[i], lens[k],
						       (long long)offs[j]);
					}
					ASSERT_TRUE(model_matches(_metadata,
						&s, both_files[i], offs[j],
						buf[i], n));
				}
				/* A single call at or past EOF returns 0. */
				if ((uint64_t)offs[j] >= s.size) {
					ASSERT_EQ(0, pread(fd, buf[i], 4096,
							   offs[j]));
				}
			}
			/* Nothing moved the file position. */
			ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
			errno = 0;
			ASSERT_EQ(-1, pread(fd, buf[i], 10, -1));
			ASSERT_EQ(EINVAL, errno);
			close(fd);
		}
	}
}

TEST_F(seqsplice, pread_between_reads_keeps_position_like_trace_copy)
{
	struct fctx t, c;
	struct stream s;
	size_t i;
	const struct op ops[] = {
		{ OP_READ_FULL, .len = 1000 },
		{ OP_PREAD, .len = 3000, .off = 500000 },
		{ OP_READ_FULL, .len = 2000 },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_PREAD, .len = 10, .off = 0 },
		{ OP_READ_FULL, .len = 10 },
		{ OP_PREAD, .len = 10, .off = 0, .rel_end = true },
		{ OP_READ_ONCE, .len = 4096 },
		{ OP_PREAD, .len = 70000, .off = -5, .rel_end = true },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_SPLICE_ONCE, .len = 2 },
		{ OP_PREAD, .len = 1, .off = 3 },
		{ OP_READ_FULL, .len = 4093 },
		{ OP_PREAD, .len = 5000, .off = 3000 },
		{ OP_SPLICE_FULL, .len = 9000 },
		{ .kind = OP_SEEK_CUR0 },
	};

	use_stream(_metadata, &s, 6000, 0, 0, 0, NULL);
	fctx_open(_metadata, &t, TRACE, &s);
	fctx_open(_metadata, &c, TRACE_COPY, &s);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		exec_twin(_metadata, &t, &c, &ops[i]);
	fctx_close(&t);
	fctx_close(&c);
}

/* ------------------------------------------------------------------ */
/* 3. lseek                                                            */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, lseek_set_and_cur_then_read_match_model_like_trace_copy)
{
	struct fctx t, c;
	struct stream s;
	size_t i;
	const struct op ops[] = {
		{ OP_SEEK_SET, .off = 12345 },
		{ OP_READ_FULL, .len = 1000 },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_SEEK_CUR, .off = 500 },
		{ OP_READ_FULL, .len = 300 },
		{ OP_SEEK_CUR, .off = -1000 },
		{ OP_READ_FULL, .len = 50 },
		{ OP_SEEK_SET, .off = 0 },
		{ OP_READ_FULL, .len = 10 },
		{ OP_SEEK_SET, .off = 4096 },
		{ OP_SPLICE_FULL, .len = 5000 },
		{ OP_SEEK_CUR, .off = -1 },
		{ OP_SPLICE_ONCE, .len = 1 },
		{ OP_SEEK_SET, .off = 99 },
		{ OP_READ_ONCE, .len = 2 },
		{ OP_SEEK_SET, .off = -5, .rel_end = true },
		{ OP_READ_FULL, .len = 100 },
		{ OP_READ_ONCE, .len = 100 },
		{ OP_SEEK_SET, .off = 1000, .rel_end = true },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_READ_ONCE, .len = 100 },
		{ OP_SPLICE_ONCE, .len = 100 },
		{ OP_SEEK_SET, .off = 0, .rel_end = true },
		{ OP_READ_ONCE, .len = 1 },
		{ OP_SEEK_SET, .off = -1, .rel_end = true },
		{ OP_SPLICE_FULL, .len = 100 },
		{ OP_SEEK_SET, .off = 277777 },
		{ OP_READ_ONCE, .len = 65536 },
		{ OP_SEEK_CUR, .off = -277777 },
		{ OP_READ_FULL, .len = 200 },
		{ .kind = OP_SEEK_CUR0 },
	};

	use_stream(_metadata, &s, 3000, 0, 64, 0, NULL);
	fctx_open(_metadata, &t, TRACE, &s);
	fctx_open(_metadata, &c, TRACE_COPY, &s);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		exec_twin(_metadata, &t, &c, &ops[i]);
	fctx_close(&t);
	fctx_close(&c);
}

TEST_F(seqsplice, lseek_end_data_hole_and_negative_fail_einval_like_trace_copy)
{
	static const struct {
		off_t off;
		int whence;
	} bad[] = {
		{ 0, SEEK_END }, { 10, SEEK_END }, { -10, SEEK_END },
		{ 0, SEEK_DATA }, { 0, SEEK_HOLE }, { -1, SEEK_SET },
		{ -778, SEEK_CUR }, { LLONG_MIN, SEEK_SET }, { 0, 42 },
	};
	unsigned char buf[100], head[777];
	struct stream s;
	size_t i, j;

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		loff_t o = -1;

		ASSERT_EQ(777U, read_full(_metadata, fd, head, 777));
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			errno = 0;
			ASSERT_EQ(-1, lseek(fd, bad[j].off, bad[j].whence)) {
				TH_LOG("%s: lseek(%lld, %d) did not fail",
				       both_files[i], (long long)bad[j].off,
				       bad[j].whence);
			}
			ASSERT_EQ(EINVAL, errno) {
				TH_LOG("%s: lseek(%lld, %d): errno %d",
				       both_files[i], (long long)bad[j].off,
				       bad[j].whence, errno);
			}
			/* The position did not move. */
			ASSERT_EQ(777, lseek(fd, 0, SEEK_CUR));
		}
		/* splice with a negative off_in fails the same way. */
		{
			int p[2];

			make_pipe(_metadata, p, 0);
			o = -1;
			errno = 0;
			ASSERT_EQ(-1, splice(fd, &o, p[1], NULL, 10, 0));
			ASSERT_EQ(EINVAL, errno);
			close_pipe(p);
		}
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 777,
					  buf, 100));
		close(fd);
	}
}

TEST_F(seqsplice, lseek_cur_0_keeps_window_without_regeneration)
{
	struct stats a, b;
	unsigned char buf[5000];
	struct stream s;
	int p[2], fd;

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	make_pipe(_metadata, p, 0);
	fd = open_file(_metadata, TRACE);
	read_stats(_metadata, &a);
	/* A partial page in the pipe, the rest of it still in the window. */
	ASSERT_EQ(2, splice(fd, NULL, p[1], NULL, 2, 0));
	drain_exact(_metadata, p[0], buf, 2);
	ASSERT_EQ(2, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(2, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(5000U, read_full(_metadata, fd, buf + 2, 4998) + 2);
	ASSERT_TRUE(model_matches(_metadata, &s, "splice 2 + read", 0, buf,
				  5000));
	ASSERT_EQ(5000, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(5000, lseek(fd, 5000, SEEK_SET));
	ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
	ASSERT_TRUE(model_matches(_metadata, &s, "read after seek to pos",
				  5000, buf, 100));
	read_stats(_metadata, &b);
	ASSERT_EQ(0, stat_delta(&a, &b, ST_REGENERATIONS)) {
		TH_LOG("lseek to the current position regenerated %lld times",
		       stat_delta(&a, &b, ST_REGENERATIONS));
	}
	close(fd);
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 4. splice length classes                                            */
/* ------------------------------------------------------------------ */

FIXTURE(splice_len) {
	int unused;
};
FIXTURE_VARIANT(splice_len) {
	size_t len;
	unsigned int slots, count, buf_kb;
};
SEQSPLICE_FIXTURE_HOOKS(splice_len)

FIXTURE_VARIANT_ADD(splice_len, l1_buf4) {
	.len = 1, .count = 100, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(splice_len, l2_buf4) {
	.len = 2, .count = 250, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(splice_len, l4095) {
	.count = 3000, .len = 4095,
};
FIXTURE_VARIANT_ADD(splice_len, l4096_buf16) {
	.count = 3000, .len = 4096, .buf_kb = 16,
};
FIXTURE_VARIANT_ADD(splice_len, l4097_buf4) {
	.count = 3000, .len = 4097, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(splice_len, l65536_buf64) {
	.count = 3000, .len = 65536, .buf_kb = 64,
};
FIXTURE_VARIANT_ADD(splice_len, l1m_pipe1m) {
	.len = 1 << 20, .slots = 256,
};
FIXTURE_VARIANT_ADD(splice_len, l1m_pipe1m_buf4) {
	.len = 1 << 20, .slots = 256, .count = 3000, .buf_kb = 4,
};

TEST_F_TIMEOUT(splice_len, splice_to_eof_matches_model_and_moves_position, 90)
{
	unsigned char *out[2];
	struct stream s;
	size_t i, got, cap, pcap;
	int p[2];

	use_stream(_metadata, &s, variant->count, 0, variant->buf_kb, 0,
		   NULL);
	cap = s.size + variant->len;
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);

		pcap = make_pipe(_metadata, p, variant->slots);
		out[i] = malloc(cap);
		ASSERT_NE(NULL, out[i]);
		got = splice_to_eof(_metadata, fd, NULL, p, pcap, variant->len,
				    out[i], cap, NULL);
		ASSERT_EQ(s.size, got) {
			TH_LOG("%s: splice returned 0 after %zu of %zu bytes",
			       both_files[i], got, s.size);
		}
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  out[i], got));
		ASSERT_EQ((off_t)s.size, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, variant->len, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		close(fd);
		close_pipe(p);
	}
	ASSERT_EQ(0, memcmp(out[0], out[1], s.size));
}

TEST_F_TIMEOUT(splice_len, splice_off_in_matches_model_and_keeps_position, 90)
{
	unsigned char *out, head[100];
	struct stream s;
	size_t i, got, cap, pcap;
	int p[2];

	use_stream(_metadata, &s, variant->count, 0, variant->buf_kb, 0,
		   NULL);
	cap = s.size + variant->len;
	out = malloc(cap);
	ASSERT_NE(NULL, out);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		int64_t off = 777;

		pcap = make_pipe(_metadata, p, variant->slots);
		/* f_pos at 10: off_in splices must not move it. */
		ASSERT_EQ(10U, read_full(_metadata, fd, head, 10));
		got = splice_to_eof(_metadata, fd, &off, p, pcap, variant->len,
				    out, cap, NULL);
		ASSERT_EQ(s.size - 777, got);
		ASSERT_EQ((int64_t)s.size, off);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 777,
					  out, got));
		ASSERT_EQ(10, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(90U, read_full(_metadata, fd, head + 10, 90));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  head, 100));
		close(fd);
		close_pipe(p);
	}
}

/* ------------------------------------------------------------------ */
/* 5. pipe sizes with mixed splice lengths                             */
/* ------------------------------------------------------------------ */

FIXTURE(pipe_slots) {
	int unused;
};
FIXTURE_VARIANT(pipe_slots) {
	unsigned int slots, count, buf_kb;
};
SEQSPLICE_FIXTURE_HOOKS(pipe_slots)

FIXTURE_VARIANT_ADD(pipe_slots, slots1) {
	.slots = 1, .count = 3000, .buf_kb = 16,
};
FIXTURE_VARIANT_ADD(pipe_slots, slots2) {
	.slots = 2, .count = 3000, .buf_kb = 4,
};
FIXTURE_VARIANT_ADD(pipe_slots, slots16) {
	.count = 3000, .slots = 16, .buf_kb = 64,
};
FIXTURE_VARIANT_ADD(pipe_slots, slots64) {
	.count = 3000, .slots = 64,
};
FIXTURE_VARIANT_ADD(pipe_slots, slots256) {
	.slots = 256, .buf_kb = 256,
};

TEST_F_TIMEOUT(pipe_slots, mixed_splice_lengths_match_model_and_trace_copy, 90)
{
	static const size_t lens[] = {
		1, 4096, 100, 8191, 65536, 2, 12289, 1 << 20, 4095, 7, 4097,
		300000, 3, 16384,
	};
	unsigned char *out[2];
	struct stream s;
	size_t i, k, pcap;
	int p[2];

	use_stream(_metadata, &s, variant->count, 0, variant->buf_kb, 0,
		   NULL);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		size_t pos = 0;

		pcap = make_pipe(_metadata, p, variant->slots);
		ASSERT_EQ(variant->slots * PG, pcap);
		out[i] = malloc(s.size + pcap);
		ASSERT_NE(NULL, out[i]);
		for (k = 0;; k++) {
			size_t len = lens[k % ARRAY_SIZE(lens)];
			ssize_t r = splice(fd, NULL, p[1], NULL, len, 0);

			ASSERT_LE(0, r) {
				TH_LOG("%s splice(%zu) at %zu: %s",
				       both_files[i], len, pos,
				       strerror(errno));
			}
			ASSERT_EQ(r, pipe_bytes(p[0]));
			if (!r)
				break;
			ASSERT_GE((ssize_t)min_sz(len, pcap), r);
			ASSERT_GE((ssize_t)(s.size - pos), r) {
				TH_LOG("%s spliced past EOF", both_files[i]);
			}
			drain_exact(_metadata, p[0], out[i] + pos, r);
			ASSERT_TRUE(model_matches(_metadata, &s, both_files[i],
						  pos, out[i] + pos, r));
			pos += r;
		}
		ASSERT_EQ(s.size, pos) {
			TH_LOG("%s: splice returned 0 at %zu", both_files[i],
			       pos);
		}
		close(fd);
		close_pipe(p);
	}
	ASSERT_EQ(0, memcmp(out[0], out[1], s.size));
}

/* ------------------------------------------------------------------ */
/* 6. interleavings of read, splice, lseek, pread, sendfile            */
/* ------------------------------------------------------------------ */

static void run_fixed_interleaving(struct __test_metadata *_metadata,
				   const struct stream *s)
{
	const struct op ops[] = {
		{ OP_SPLICE_FULL, .len = 2 },
		{ OP_READ_FULL, .len = 4093 },
		{ OP_SPLICE_FULL, .len = 100000 },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_SEEK_SET, .off = 1000 },
		{ OP_READ_FULL, .len = 5000 },
		{ OP_SEEK_CUR, .off = -3000 },
		{ OP_SPLICE_ONCE, .len = 1 },
		{ OP_READ_ONCE, .len = 4096 },
		{ OP_SPLICE_ONCE, .len = 2 },
		{ OP_SPLICE_ONCE, .len = 4096 },
		{ OP_READ_ONCE, .len = 1 },
		{ OP_PREAD, .len = 300, .off = 99999 },
		{ OP_SPLICE_OFF, .len = 3, .off = 4094 },
		{ OP_SENDFILE_ONCE, .len = 5000 },
		{ OP_READ_FULL, .len = 1 },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_SEEK_SET, .off = -3, .rel_end = true },
		{ OP_SPLICE_FULL, .len = 100 },
		{ OP_READ_ONCE, .len = 1 },
		{ OP_SPLICE_ONCE, .len = 10 },
		{ OP_SEEK_SET, .off = 0 },
		{ OP_READ_FULL, .len = MAX_OP_LEN },
		{ .kind = OP_SEEK_CUR0 },
		{ OP_SEEK_SET, .off = 4095 },
		{ OP_SPLICE_FULL, .len = 2 },
		{ OP_READ_FULL, .len = 8192 },
		{ OP_SPLICE_FULL, .len = MAX_OP_LEN },
		{ .kind = OP_SEEK_CUR0 },
	};
	struct fctx t, c;
	size_t i;

	fctx_open(_metadata, &t, TRACE, s);
	fctx_open(_metadata, &c, TRACE_COPY, s);
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		exec_twin(_metadata, &t, &c, &ops[i]);
	fctx_close(&t);
	fctx_close(&c);
}

TEST_F_TIMEOUT(seqsplice, splice_2_read_4093_splice_100000_lseek_back_read_like_trace_copy, 90)
{
	struct stream s;

	use_stream(_metadata, &s, 5000, 0, 0, 0, NULL);
	run_fixed_interleaving(_metadata, &s);
	free(s.buf);
	use_stream(_metadata, &s, 3000, 0, 4, 0, NULL);
	run_fixed_interleaving(_metadata, &s);
	free(s.buf);
	use_stream(_metadata, &s, 1000, 333, 16, 0, NULL);
	run_fixed_interleaving(_metadata, &s);
}

FIXTURE(interleave) {
	int unused;
};
FIXTURE_VARIANT(interleave) {
	uint64_t seed;
	unsigned int count, width, buf_kb, ops;
};
SEQSPLICE_FIXTURE_HOOKS(interleave)

FIXTURE_VARIANT_ADD(interleave, seed1_buf16) {
	.seed = 1, .count = 3000, .buf_kb = 16, .ops = 250,
};
FIXTURE_VARIANT_ADD(interleave, seed2_width333_buf4) {
	.seed = 2, .count = 900, .width = 333, .buf_kb = 4, .ops = 250,
};
FIXTURE_VARIANT_ADD(interleave, seed3_buf1024) {
	.seed = 3, .count = 3000, .ops = 150,
};

TEST_F_TIMEOUT(interleave, random_ops_match_model_and_trace_copy, 180)
{
	uint64_t r = 0x9E3779B97F4A7C15ULL * variant->seed;
	struct fctx t, c;
	struct stream s;
	unsigned int i;

	use_stream(_metadata, &s, variant->count, variant->width,
		   variant->buf_kb, 0, NULL);
	fctx_open(_metadata, &t, TRACE, &s);
	fctx_open(_metadata, &c, TRACE_COPY, &s);
	for (i = 0; i < variant->ops; i++) {
		struct op op = pick_op(&r, &s, t.pos);

		exec_twin(_metadata, &t, &c, &op);
	}
	fctx_close(&t);
	fctx_close(&c);
}

/* ------------------------------------------------------------------ */
/* 7. reopen, zero-length splice                                       */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, reopen_gives_stream_from_start_and_opens_are_independent)
{
	unsigned char buf[8000];
	struct stream s;
	size_t i;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	make_pipe(_metadata, p, 0);
	for (i = 0; i < 2; i++) {
		int fd, fd2, fd3;
		int64_t off = 0;

		fd = open_file(_metadata, both_files[i]);
		ASSERT_EQ(5000U, read_full(_metadata, fd, buf, 5000));
		ASSERT_EQ(3000U, splice_full(_metadata, fd, NULL, p, 16 * PG,
					    buf + 5000, 3000));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  8000));
		close(fd);

		fd2 = open_file(_metadata, both_files[i]);
		ASSERT_EQ(0, lseek(fd2, 0, SEEK_CUR));
		ASSERT_EQ(100U, read_full(_metadata, fd2, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  100));
		/* A second open while the first is mid-stream. */
		fd3 = open_file(_metadata, both_files[i]);
		ASSERT_EQ(50U, splice_full(_metadata, fd3, NULL, p, 16 * PG,
					  buf, 50));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  50));
		ASSERT_EQ(100U, read_full(_metadata, fd2, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 100,
					  buf, 100));
		ASSERT_EQ(50U, splice_full(_metadata, fd3, &off, p, 16 * PG,
					  buf, 50));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  50));
		close(fd2);
		close(fd3);
	}
	close_pipe(p);
}

TEST_F(seqsplice, zero_length_splice_tee_sendfile_return_0_and_change_nothing)
{
	unsigned char buf[2000];
	struct stream s;
	size_t i;
	int p[2], q[2];

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	make_pipe(_metadata, p, 0);
	make_pipe(_metadata, q, 0);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		loff_t o = 5000;
		ssize_t r;

		/* On a fresh open. */
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 0, 0));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 0,
				    SPLICE_F_NONBLOCK));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(10U, read_full(_metadata, fd, buf, 10));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  10));
		/* Mid-stream, after a partial splice. */
		ASSERT_EQ(1224U, splice_full(_metadata, fd, NULL, p, 16 * PG,
					    buf, 1224));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 0, 0));
		ASSERT_EQ(0, splice(fd, &o, p[1], NULL, 0, 0));
		ASSERT_EQ(5000, o);
		ASSERT_EQ(0, sendfile(p[1], fd, NULL, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		ASSERT_EQ(1234, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 1234,
					  buf, 100));
		/* tee of 0 bytes from a pipe holding spliced pages. */
		r = splice(fd, NULL, p[1], NULL, 10, 0);
		ASSERT_TRUE(r > 0 && r <= 10) {
			TH_LOG("%s: splice(10) at 1334 returned %zd",
			       both_files[i], r);
		}
		ASSERT_EQ(0, tee(p[0], q[1], 0, 0));
		ASSERT_EQ(0, pipe_bytes(q[0]));
		ASSERT_EQ(r, pipe_bytes(p[0]));
		drain_exact(_metadata, p[0], buf, r);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 1334,
					  buf, r));
		/* At EOF. */
		ASSERT_EQ((off_t)s.size, lseek(fd, s.size, SEEK_SET));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 0, 0));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 1, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		close(fd);
	}
	close_pipe(p);
	close_pipe(q);
}

/* ------------------------------------------------------------------ */
/* 8. records larger than the buffer                                   */
/* ------------------------------------------------------------------ */

TEST_F_TIMEOUT(seqsplice, records_larger_than_buffer_read_splice_pread_match_model, 120)
{
	static const struct {
		int64_t off;
		size_t len;
	} preads[] = {
		{ 19999, 2 }, { 20000, 30000 }, { 399990, 100 }, { 4096, 1 },
		{ 0, 70000 }, { 123456, 20000 },
	};
	unsigned char *out, one[70000];
	struct stats a, b;
	struct stream s;
	size_t i, got, cap, pcap;
	int p[2], big[2], fd;

	use_stream(_metadata, &s, 20, 20000, 4, 4, NULL);
	cap = s.size + MIB;
	out = malloc(cap);
	ASSERT_NE(NULL, out);
	make_pipe(_metadata, p, 0);
	pcap = make_pipe(_metadata, big, 256);
	read_stats(_metadata, &a);

	/* read, both files, two chunk sizes. */
	for (i = 0; i < 2; i++) {
		fd = open_file(_metadata, both_files[i]);
		got = read_to_eof(_metadata, fd, out, cap, 4096);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, out,
					  got));
		close(fd);
	}
	fd = open_file(_metadata, TRACE);
	got = read_to_eof(_metadata, fd, out, cap, 100000);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, "read 100000", 0, out, got));
	close(fd);

	/* splice, several lengths, both files. */
	for (i = 0; i < 2; i++) {
		fd = open_file(_metadata, both_files[i]);
		got = splice_to_eof(_metadata, fd, NULL, p, 16 * PG, 4095, out,
				    cap, NULL);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, "splice 4095", 0, out,
					  got));
		close(fd);
		fd = open_file(_metadata, both_files[i]);
		got = splice_to_eof(_metadata, fd, NULL, p, 16 * PG, 65536,
				    out, cap, NULL);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, "splice 65536", 0,
					  out, got));
		close(fd);
		fd = open_file(_metadata, both_files[i]);
		got = splice_to_eof(_metadata, fd, NULL, big, pcap, MIB, out,
				    cap, NULL);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, "splice 1 MiB", 0,
					  out, got));
		close(fd);
	}

	/* A 1-byte splice in the middle of a huge record, then read. */
	fd = open_file(_metadata, TRACE);
	ASSERT_EQ(1, splice(fd, NULL, p[1], NULL, 1, 0));
	drain_exact(_metadata, p[0], out, 1);
	ASSERT_EQ(69999U, read_full(_metadata, fd, out + 1, 69999));
	ASSERT_TRUE(model_matches(_metadata, &s, "splice 1 + read", 0, out,
				  70000));
	for (i = 0; i < ARRAY_SIZE(preads); i++) {
		got = pread_full(_metadata, fd, one, preads[i].len,
				 preads[i].off);
		ASSERT_EQ(expected_count(&s, preads[i].off, preads[i].len),
			  got);
		ASSERT_TRUE(model_matches(_metadata, &s, "pread", preads[i].off,
					  one, got));
	}
	close(fd);

	read_stats(_metadata, &b);
	ASSERT_LT(0, stat_delta(&a, &b, ST_GROWS)) {
		TH_LOG("20000-byte records with a 4 KiB buffer did not grow it");
	}
	close_pipe(p);
	close_pipe(big);
}

TEST_F_TIMEOUT(seqsplice, max_width_records_splice_and_read_match_model, 120)
{
	unsigned char *out;
	struct stream s;
	size_t got, cap, pcap;
	int p[2], fd;

	use_stream(_metadata, &s, 2, MODEL_MAX_WIDTH, 4, 4, NULL);
	cap = s.size + MIB;
	out = malloc(cap);
	ASSERT_NE(NULL, out);
	pcap = make_pipe(_metadata, p, 256);

	fd = open_file(_metadata, TRACE);
	got = splice_to_eof(_metadata, fd, NULL, p, pcap, MIB, out, cap, NULL);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, "trace splice", 0, out, got));
	close(fd);

	fd = open_file(_metadata, TRACE);
	got = read_to_eof(_metadata, fd, out, cap, MIB);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, "trace read", 0, out, got));
	close(fd);

	fd = open_file(_metadata, TRACE_COPY);
	got = read_to_eof(_metadata, fd, out, cap, 65536);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, "trace_copy read", 0, out,
				  got));
	close(fd);
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 9. stats: the gift really happens                                   */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, stats_lists_every_counter_once)
{
	char text[8192], *line, *save = NULL;
	int seen[NR_STATS] = { 0 };
	int i, lines = 0;
	ssize_t n;

	n = read_small_file(MNT "/stats", text, sizeof(text));
	ASSERT_LT(0, n);
	ASSERT_EQ('\n', text[n - 1]);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[64], tail;
		unsigned long long v;
		int len = 0;

		lines++;
		ASSERT_EQ(2, sscanf(line, "%63[a-z_] %llu%n%c", key, &v, &len,
				    &tail)) {
			TH_LOG("malformed stats line \"%s\"", line);
		}
		ASSERT_EQ((int)strlen(line), len) {
			TH_LOG("trailing bytes in stats line \"%s\"", line);
		}
		ASSERT_TRUE(line[strlen(key)] == ' ' &&
			    line[strlen(key) + 1] >= '0' &&
			    line[strlen(key) + 1] <= '9') {
			TH_LOG("stats line \"%s\" is not \"name value\"", line);
		}
		for (i = 0; i < NR_STATS; i++)
			if (!strcmp(key, stat_names[i]))
				break;
		ASSERT_GT(NR_STATS, i) {
			TH_LOG("unknown counter \"%s\"", key);
		}
		seen[i]++;
	}
	ASSERT_EQ(NR_STATS, lines);
	for (i = 0; i < NR_STATS; i++) {
		ASSERT_EQ(1, seen[i]) {
			TH_LOG("counter %s appears %d times", stat_names[i],
			       seen[i]);
		}
	}
}

TEST_F(seqsplice, read_counts_one_open_and_bytes_read_and_no_gift)
{
	unsigned char *out;
	struct stats a, b;
	struct stream s;
	size_t got;
	int fd;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	out = malloc(s.size + 65536);
	ASSERT_NE(NULL, out);
	read_stats(_metadata, &a);
	fd = open_file(_metadata, TRACE);
	got = read_to_eof(_metadata, fd, out, s.size + 65536, 65536);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, TRACE, 0, out, got));
	close(fd);
	read_stats(_metadata, &b);
	ASSERT_EQ(1, stat_delta(&a, &b, ST_OPENS));
	ASSERT_EQ((long long)s.size, stat_delta(&a, &b, ST_BYTES_READ));
	ASSERT_EQ(0, stat_delta(&a, &b, ST_BYTES_SPLICED));
	ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
	ASSERT_EQ(0, b.v[ST_PAGES_HELD]);
	ASSERT_LE(0, stat_delta(&a, &b, ST_PAGES_ALLOCATED));
	ASSERT_EQ(stat_delta(&a, &b, ST_PAGES_ALLOCATED),
		  stat_delta(&a, &b, ST_PAGES_RELEASED));
	ASSERT_EQ(stat_delta(&a, &b, ST_VMAPS), stat_delta(&a, &b, ST_VUNMAPS));
}

TEST_F(seqsplice, splice_1mib_gifts_pages_and_counts_bytes_trace_copy_gifts_none)
{
	unsigned char *out;
	struct tally t = { 0 };
	struct stats a, b, c;
	struct stream s;
	size_t got, pcap;
	int p[2], fd;

	use_stream(_metadata, &s, 0, 0, 0, 0, NULL);
	out = malloc(s.size + MIB);
	ASSERT_NE(NULL, out);
	pcap = make_pipe(_metadata, p, 256);

	read_stats(_metadata, &a);
	fd = open_file(_metadata, TRACE);
	got = splice_to_eof(_metadata, fd, NULL, p, pcap, MIB, out,
			    s.size + MIB, &t);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, TRACE, 0, out, got));
	close(fd);
	read_stats(_metadata, &b);
	ASSERT_EQ((long long)s.size, stat_delta(&a, &b, ST_BYTES_SPLICED));
	ASSERT_EQ(0, stat_delta(&a, &b, ST_BYTES_READ));
	ASSERT_LT(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
	ASSERT_LE((long long)t.min_bufs, stat_delta(&a, &b, ST_PAGES_GIFTED)) {
		TH_LOG("%zu bytes in %zu calls need at least %zu pipe buffers",
		       t.bytes, t.calls, t.min_bufs);
	}
	ASSERT_GE((long long)t.max_bufs, stat_delta(&a, &b, ST_PAGES_GIFTED)) {
		TH_LOG("%zu bytes in %zu calls fill at most %zu pipe buffers",
		       t.bytes, t.calls, t.max_bufs);
	}
	ASSERT_EQ(0, b.v[ST_PAGES_HELD]);

	fd = open_file(_metadata, TRACE_COPY);
	got = splice_to_eof(_metadata, fd, NULL, p, pcap, MIB, out,
			    s.size + MIB, NULL);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, TRACE_COPY, 0, out, got));
	close(fd);
	read_stats(_metadata, &c);
	ASSERT_EQ(0, stat_delta(&b, &c, ST_PAGES_GIFTED));
	ASSERT_EQ(0, stat_delta(&b, &c, ST_BYTES_SPLICED));
	ASSERT_EQ(0, stat_delta(&b, &c, ST_BYTES_READ));
	close_pipe(p);
}

TEST_F(seqsplice, tiny_splices_continue_inside_the_gifted_page)
{
	unsigned char buf[200];
	struct stats a, b;
	struct stream s;
	ssize_t r1, r2;
	int p[2], fd;

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	make_pipe(_metadata, p, 0);
	read_stats(_metadata, &a);
	fd = open_file(_metadata, TRACE);
	r1 = splice(fd, NULL, p[1], NULL, 2, 0);
	ASSERT_EQ(2, r1);
	r2 = splice(fd, NULL, p[1], NULL, 100, 0);
	ASSERT_TRUE(r2 > 0 && r2 <= 100) {
		TH_LOG("second splice returned %zd", r2);
	}
	ASSERT_EQ(r1 + r2, pipe_bytes(p[0]));
	drain_exact(_metadata, p[0], buf, r1 + r2);
	ASSERT_TRUE(model_matches(_metadata, &s, TRACE, 0, buf, r1 + r2));
	read_stats(_metadata, &b);
	ASSERT_EQ(r1 + r2, stat_delta(&a, &b, ST_BYTES_SPLICED));
	ASSERT_EQ(2, stat_delta(&a, &b, ST_PAGES_GIFTED)) {
		TH_LOG("two splices inside page 0 should insert one buffer each");
	}
	ASSERT_EQ(1, stat_delta(&a, &b, ST_TAIL_CONTINUATIONS));
	ASSERT_LT(0, b.v[ST_PAGES_HELD]);
	close(fd);
	ASSERT_EQ(0, read_stat("pages_held"));
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 10. one fd shared by threads                                        */
/* ------------------------------------------------------------------ */

enum { W_SPLICE_OFF, W_PREAD, W_READ };

struct shared_worker {
	pthread_t th;
	int kind;
	int fd;
	const struct stream *s;
	uint64_t seed;
	int iters;
	int failed;
	char msg[256];
};

static void worker_fail(struct shared_worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = 1;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

/* No ASSERTs in here: the harness longjmp()s, which a thread must not. */
static void *shared_worker_fn(void *arg)
{
	struct shared_worker *w = arg;
	const struct stream *s = w->s;
	size_t cap = 70000 + PG;
	unsigned char *buf = malloc(cap);
	int64_t pos = 0;
	int p[2] = { -1, -1 };
	int i;

	if (!buf || (w->kind == W_SPLICE_OFF && pipe2(p, O_CLOEXEC))) {
		worker_fail(w, "setup: %s", strerror(errno));
		goto out;
	}
	if (w->kind == W_SPLICE_OFF &&
	    fcntl(p[1], F_SETPIPE_SZ, 32 * PG) != (int)(32 * PG)) {
		worker_fail(w, "F_SETPIPE_SZ: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < w->iters && !w->failed; i++) {
		size_t len = 1 + rnd(&w->seed) % 70000;
		int64_t off = pick_off(&w->seed, s);
		ssize_t r;
		loff_t o;

		switch (w->kind) {
		case W_SPLICE_OFF:
			o = off;
			r = splice(w->fd, &o, p[1], NULL, len, 0);
			if (r < 0) {
				worker_fail(w, "splice(%zu, off %lld): %s",
					    len, (long long)off,
					    strerror(errno));
				break;
			}
			if (o != off + r || pipe_bytes(p[0]) != r) {
				worker_fail(w, "splice at %lld returned %zd, off_in now %lld, pipe %ld",
					    (long long)off, r, (long long)o,
					    pipe_bytes(p[0]));
				break;
			}
			for (size_t got = 0; got < (size_t)r;) {
				ssize_t k = read(p[0], buf + got, r - got);

				if (k <= 0) {
					worker_fail(w, "pipe read: %s",
						    strerror(errno));
					break;
				}
				got += k;
			}
			break;
		case W_PREAD:
			r = pread(w->fd, buf, len, off);
			if (r < 0)
				worker_fail(w, "pread(%zu, %lld): %s", len,
					    (long long)off, strerror(errno));
			break;
		default:
			if (i % 25 == 24) {
				pos = 0;
				if (lseek(w->fd, 0, SEEK_SET) != 0)
					worker_fail(w, "lseek 0: %s",
						    strerror(errno));
			}
			off = pos;
			r = read(w->fd, buf, len);
			if (r < 0)
				worker_fail(w, "read(%zu) at %lld: %s", len,
					    (long long)pos, strerror(errno));
			pos += r > 0 ? r : 0;
			break;
		}
		if (w->failed)
			break;
		/* 0 exactly at EOF, otherwise 1..len bytes of the model. */
		if ((uint64_t)off >= s->size ? r != 0 :
		    (r <= 0 || (size_t)r > len ||
		     (size_t)r > s->size - (size_t)off)) {
			worker_fail(w, "kind %d: %zd bytes for len %zu at %lld (EOF %zu)",
				    w->kind, r, len, (long long)off, s->size);
			break;
		}
		if (r > 0 && memcmp(buf, s->buf + off, r)) {
			size_t k = 0;

			while (buf[k] == s->buf[off + k])
				k++;
			worker_fail(w, "kind %d: %zd bytes at %lld differ from the model at stream offset %lld",
				    w->kind, r, (long long)off,
				    (long long)(off + k));
		}
	}
out:
	close_pipe(p);
	free(buf);
	return NULL;
}

TEST_F_TIMEOUT(seqsplice, shared_fd_threads_splice_off_in_pread_read_match_model, 120)
{
	struct shared_worker w[3];
	struct stream s;
	int fd, i;

	use_stream(_metadata, &s, 2000, 0, 16, 0, NULL);
	fd = open_file(_metadata, TRACE);
	for (i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].kind = i;
		w[i].fd = fd;
		w[i].s = &s;
		w[i].seed = 0xabcdef12345ULL + i;
		w[i].iters = 150;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, shared_worker_fn,
					    &w[i]));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(w[i].th, NULL));
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, w[i].failed) {
			TH_LOG("thread %d: %s", i, w[i].msg);
		}
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* 11. sendfile                                                        */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, sendfile_to_tmp_file_matches_model)
{
	char path[] = "/tmp/seqsplice_sendfile_XXXXXX";
	unsigned char *data;
	struct stream s;
	size_t i, len;

	use_stream(_metadata, &s, 3000, 0, 64, 0, NULL);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		int out = mkstemp(path);
		size_t total = 0;
		ssize_t r;

		ASSERT_LE(0, out);
		/* 64 KiB at a time until 0. */
		while ((r = sendfile(out, fd, NULL, 65536)) > 0) {
			ASSERT_GE(65536, r);
			total += r;
			ASSERT_EQ((off_t)total, lseek(fd, 0, SEEK_CUR));
		}
		ASSERT_EQ(0, r) {
			TH_LOG("%s sendfile: %s", both_files[i],
			       strerror(errno));
		}
		ASSERT_EQ(s.size, total);
		ASSERT_EQ(0, sendfile(out, fd, NULL, 65536));
		close(out);
		data = slurp(_metadata, path, &len);
		ASSERT_EQ(s.size, len);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  data, len));
		free(data);
		unlink(path);
		close(fd);

		/* One call for everything, like busybox cat. */
		strcpy(path, "/tmp/seqsplice_sendfile_XXXXXX");
		fd = open_file(_metadata, both_files[i]);
		out = mkstemp(path);
		ASSERT_LE(0, out);
		ASSERT_EQ((ssize_t)s.size, sendfile(out, fd, NULL, 1 << 30));
		ASSERT_EQ(0, sendfile(out, fd, NULL, 1 << 30));
		close(out);
		data = slurp(_metadata, path, &len);
		ASSERT_EQ(s.size, len);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  data, len));
		free(data);
		unlink(path);
		close(fd);
		strcpy(path, "/tmp/seqsplice_sendfile_XXXXXX");
	}
}

TEST_F(seqsplice, sendfile_to_dev_null_returns_size_then_0)
{
	struct stream s;
	size_t i;

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	for (i = 0; i < 2; i++) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		int fd = open_file(_metadata, both_files[i]);
		loff_t off = 12345;

		ASSERT_LE(0, null);
		ASSERT_EQ((ssize_t)s.size, sendfile(null, fd, NULL, 1 << 30)) {
			TH_LOG("%s: %s", both_files[i], strerror(errno));
		}
		ASSERT_EQ((off_t)s.size, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(0, sendfile(null, fd, NULL, 1 << 30));
		close(fd);

		/* With an offset: the file position stays put. */
		fd = open_file(_metadata, both_files[i]);
		ASSERT_EQ((ssize_t)(s.size - 12345),
			  sendfile(null, fd, &off, 1 << 30));
		ASSERT_EQ((loff_t)s.size, off);
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(0, sendfile(null, fd, &off, 1 << 30));
		ASSERT_EQ((loff_t)s.size, off);
		close(fd);
		close(null);
	}
}

TEST_F(seqsplice, sendfile_to_pipe_matches_model)
{
	unsigned char *out;
	struct stream s;
	size_t i;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	out = malloc(s.size);
	ASSERT_NE(NULL, out);
	make_pipe(_metadata, p, 0);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		loff_t off = 4321;
		size_t pos = 0;
		ssize_t r;

		/* From the file position. */
		while ((r = sendfile(p[1], fd, NULL, 65536)) > 0) {
			ASSERT_EQ(r, pipe_bytes(p[0]));
			ASSERT_GE((ssize_t)(s.size - pos), r);
			drain_exact(_metadata, p[0], out + pos, r);
			pos += r;
		}
		ASSERT_EQ(0, r) {
			TH_LOG("%s sendfile to pipe: %s", both_files[i],
			       strerror(errno));
		}
		ASSERT_EQ(s.size, pos);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, out,
					  pos));
		close(fd);

		/* With an offset. */
		fd = open_file(_metadata, both_files[i]);
		pos = off;
		for (;;) {
			loff_t before = off;

			r = sendfile(p[1], fd, &off, 10007);
			ASSERT_LE(0, r);
			ASSERT_EQ(before + r, off);
			ASSERT_EQ(r, pipe_bytes(p[0]));
			if (!r)
				break;
			ASSERT_GE((ssize_t)(s.size - pos), r);
			drain_exact(_metadata, p[0], out + pos, r);
			ASSERT_TRUE(model_matches(_metadata, &s, both_files[i],
						  pos, out + pos, r));
			pos += r;
		}
		ASSERT_EQ(s.size, pos);
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		close(fd);
	}
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 12. sendfile into a short-writing socket: rewinds                    */
/* ------------------------------------------------------------------ */

TEST_F_TIMEOUT(seqsplice, sendfile_short_writes_to_nonblocking_tcp_offsets_agree, 120)
{
	long long rewinds0, rewinds1;
	unsigned char *rbuf;
	struct stream s;
	size_t rgot = 0, cap;
	int cfd, afd, fd, shorts = 0, iters = 0;
	loff_t off = 0;

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	cap = s.size + 65536;
	rbuf = malloc(cap);
	ASSERT_NE(NULL, rbuf);
	tcp_pair(_metadata, &cfd, &afd, 4096, 4096);
	ASSERT_EQ(0, fcntl(cfd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, fcntl(afd, F_SETFL, O_NONBLOCK));
	rewinds0 = read_stat("rewinds");
	ASSERT_LE(0, rewinds0);
	fd = open_file(_metadata, TRACE);

	while ((size_t)off < s.size) {
		loff_t before = off;
		size_t drained = 0;
		ssize_t n, k;

		ASSERT_GT(200000, ++iters);
		n = sendfile(cfd, fd, &off, 65536);
		if (n > 0) {
			ASSERT_EQ(before + n, off) {
				TH_LOG("sendfile returned %zd but moved the offset from %lld to %lld",
				       n, (long long)before, (long long)off);
			}
			if (n < 65536 && (size_t)off < s.size)
				shorts++;
		} else {
			ASSERT_EQ(-1, n) {
				TH_LOG("sendfile returned 0 at %lld of %zu",
				       (long long)off, s.size);
			}
			ASSERT_EQ(EAGAIN, errno) {
				TH_LOG("sendfile: %s", strerror(errno));
			}
			ASSERT_EQ(before, off);
		}
		/* Take what arrived; continuing from off must stay exact. */
		while ((k = recv(afd, rbuf + rgot, cap - rgot, 0)) > 0) {
			rgot += k;
			drained += k;
		}
		ASSERT_TRUE(k < 0 && errno == EAGAIN) {
			TH_LOG("recv: %zd %s", k, strerror(errno));
		}
		ASSERT_GE((size_t)off, rgot);
		ASSERT_TRUE(model_matches(_metadata, &s, "received", 0, rbuf,
					  rgot));
		if (n < 0 && !drained) {
			struct pollfd pf[2] = {
				{ .fd = afd, .events = POLLIN },
				{ .fd = cfd, .events = POLLOUT },
			};

			ASSERT_LE(0, poll(pf, 2, 1000));
		}
	}
	ASSERT_EQ((loff_t)s.size, off);
	ASSERT_EQ(0, sendfile(cfd, fd, &off, 65536));
	ASSERT_EQ((loff_t)s.size, off);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(0, fcntl(afd, F_SETFL, 0));
	for (;;) {
		ssize_t k;

		ASSERT_LT(rgot, cap);
		k = recv(afd, rbuf + rgot, cap - rgot, 0);
		ASSERT_LE(0, k);
		if (!k)
			break;
		rgot += k;
	}
	ASSERT_EQ(s.size, rgot);
	ASSERT_TRUE(model_matches(_metadata, &s, "received", 0, rbuf, rgot));
	ASSERT_LT(0, shorts) {
		TH_LOG("no short write happened: the test did not test rewinds");
	}
	rewinds1 = read_stat("rewinds");
	ASSERT_LE(rewinds0, rewinds1);
	close(fd);
	close(cfd);
	close(afd);
}

/* ------------------------------------------------------------------ */
/* 13. tee                                                             */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, tee_duplicates_spliced_pages_both_pipes_match_model)
{
	static const size_t lens[] = { 2, 4097, 65536, 100, 12289, 1 };
	unsigned char *ba, *bb;
	struct stream s;
	size_t i;
	int a[2], b[2];

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	ba = malloc(64 * PG);
	bb = malloc(64 * PG);
	ASSERT_TRUE(ba && bb);
	make_pipe(_metadata, a, 64);
	make_pipe(_metadata, b, 64);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		size_t pos = 0, k;

		for (k = 0;; k++) {
			size_t len = lens[k % ARRAY_SIZE(lens)];
			ssize_t r = splice(fd, NULL, a[1], NULL, len, 0);

			ASSERT_LE(0, r);
			if (!r)
				break;
			ASSERT_EQ(r, tee(a[0], b[1], r, 0)) {
				TH_LOG("tee of %zd bytes: %s", r,
				       strerror(errno));
			}
			ASSERT_EQ(r, pipe_bytes(a[0]));
			ASSERT_EQ(r, pipe_bytes(b[0]));
			drain_exact(_metadata, b[0], bb, r);
			drain_exact(_metadata, a[0], ba, r);
			ASSERT_EQ(0, memcmp(ba, bb, r));
			ASSERT_TRUE(model_matches(_metadata, &s, both_files[i],
						  pos, ba, r));
			pos += r;
		}
		ASSERT_EQ(s.size, pos);
		close(fd);
	}
	close_pipe(a);
	close_pipe(b);
}

/* ------------------------------------------------------------------ */
/* 14. splice into a TCP socket                                        */
/* ------------------------------------------------------------------ */

struct receiver {
	pthread_t th;
	int fd;
	unsigned char *buf;
	size_t cap, got, extra;
	int err;
};

static void *receiver_fn(void *arg)
{
	struct receiver *rc = arg;
	unsigned char trash[4096];

	for (;;) {
		ssize_t k;

		if (rc->got < rc->cap)
			k = recv(rc->fd, rc->buf + rc->got, rc->cap - rc->got, 0);
		else
			k = recv(rc->fd, trash, sizeof(trash), 0);
		if (k < 0) {
			rc->err = errno;
			break;
		}
		if (!k)
			break;
		if (rc->got < rc->cap)
			rc->got += k;
		else
			rc->extra += k;
	}
	return NULL;
}

/* file -> pipe -> socket, n bytes or to EOF; returns bytes moved. */
static size_t splice_file_to_socket(struct __test_metadata *_metadata,
				    int fd, int p[2], int sock, size_t n)
{
	size_t sent = 0;

	while (sent < n) {
		ssize_t r = splice(fd, NULL, p[1], NULL,
				   min_sz(65536, n - sent), 0);
		size_t left;

		ASSERT_LE(0, r) {
			TH_LOG("splice file->pipe: %s", strerror(errno));
		}
		if (!r)
			break;
		for (left = r; left;) {
			/* No SPLICE_F_MORE: nothing may stay corked. */
			ssize_t m = splice(p[0], NULL, sock, NULL, left,
					   SPLICE_F_MOVE);

			ASSERT_LT(0, m) {
				TH_LOG("splice pipe->socket: %s",
				       strerror(errno));
			}
			left -= m;
		}
		sent += r;
	}
	return sent;
}

TEST_F_TIMEOUT(seqsplice, splice_to_tcp_socket_matches_model_and_stays_stable, 120)
{
	struct receiver rc = { 0 };
	unsigned char *buf, *tmp;
	struct stream s;
	size_t small = 3 * PG + 123, got;
	int cfd, afd, fd, p[2];

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	make_pipe(_metadata, p, 0);

	/* The whole stream, received concurrently. */
	tcp_pair(_metadata, &cfd, &afd, 0, 0);
	rc.fd = afd;
	rc.cap = s.size;
	rc.buf = malloc(rc.cap);
	ASSERT_NE(NULL, rc.buf);
	ASSERT_EQ(0, pthread_create(&rc.th, NULL, receiver_fn, &rc));
	fd = open_file(_metadata, TRACE);
	ASSERT_EQ(s.size, splice_file_to_socket(_metadata, fd, p, cfd,
						 SIZE_MAX));
	close(fd);
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(0, pthread_join(rc.th, NULL));
	ASSERT_EQ(0, rc.err);
	ASSERT_EQ(0U, rc.extra);
	ASSERT_EQ(s.size, rc.got);
	ASSERT_TRUE(model_matches(_metadata, &s, "tcp", 0, rc.buf, rc.got));
	close(cfd);
	close(afd);

	/*
	 * A few pages held by the socket while the file regenerates, closes
	 * and other opens recycle memory: the receiver still gets the
	 * original bytes.
	 */
	tcp_pair(_metadata, &cfd, &afd, 256 << 10, 256 << 10);
	buf = malloc(s.size + 65536);
	ASSERT_NE(NULL, buf);
	fd = open_file(_metadata, TRACE);
	ASSERT_EQ(5000U, read_full(_metadata, fd, buf, 5000));
	ASSERT_EQ(small, splice_file_to_socket(_metadata, fd, p, cfd, small));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	got = read_to_eof(_metadata, fd, buf, s.size + 65536, 65536);
	ASSERT_EQ(s.size, got);
	close(fd);
	set_knob(_metadata, "record_width", "150");
	fd = open_file(_metadata, TRACE);
	tmp = malloc(150 * s.count + 65536);
	ASSERT_NE(NULL, tmp);
	got = read_to_eof(_metadata, fd, tmp, 150 * s.count + 65536, 65536);
	ASSERT_EQ(150 * s.count, got);
	close(fd);
	set_knob(_metadata, "record_width", "100");
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	churn_user_memory();
	ASSERT_EQ((ssize_t)small, recv(afd, buf, small, MSG_WAITALL));
	ASSERT_TRUE(model_matches(_metadata, &s, "tcp after regeneration",
				  5000, buf, small));
	ASSERT_EQ(0, recv(afd, buf, 1, 0));
	close(cfd);
	close(afd);
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 15. reading the pipe side: read() and vmsplice()                    */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, vmsplice_and_read_from_pipe_match_model)
{
	unsigned char *buf;
	struct stream s;
	size_t pos = 0, k;
	int p[2], fd;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	buf = malloc(s.size);
	ASSERT_NE(NULL, buf);
	make_pipe(_metadata, p, 0);
	fd = open_file(_metadata, TRACE);
	for (k = 0;; k++) {
		ssize_t r = splice(fd, NULL, p[1], NULL, k % 3 ? 65536 : 4099,
				   0);
		size_t got = 0;

		ASSERT_LE(0, r);
		if (!r)
			break;
		ASSERT_GE((ssize_t)(s.size - pos), r);
		/* vmsplice() a prefix to user memory, the rest with read(). */
		while (got < (size_t)r) {
			struct iovec iov = {
				.iov_base = buf + pos + got,
				.iov_len = k % 2 ? (size_t)r - got :
					   min_sz(10, r - got),
			};
			ssize_t v = vmsplice(p[0], &iov, 1, 0);

			ASSERT_LT(0, v) {
				TH_LOG("vmsplice: %s", strerror(errno));
			}
			got += v;
			if (k % 2 == 0)
				break;
		}
		drain_exact(_metadata, p[0], buf + pos + got, r - got);
		ASSERT_EQ(0, pipe_bytes(p[0]));
		ASSERT_TRUE(model_matches(_metadata, &s, "vmsplice/read", pos,
					  buf + pos, r));
		pos += r;
	}
	ASSERT_EQ(s.size, pos);
	close(fd);
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 16. errors from the pipe side                                       */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, splice_nonblock_into_full_pipe_fails_eagain_and_keeps_position)
{
	static const unsigned int slots[] = { 1, 16 };
	unsigned char junk[65536], buf[200];
	struct stream s;
	size_t i, j;

	memset(junk, 'x', sizeof(junk));
	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < ARRAY_SIZE(slots); j++) {
			int fd = open_file(_metadata, both_files[i]);
			size_t cap;
			loff_t o = 300;
			int p[2], fl;

			cap = make_pipe(_metadata, p, slots[j]);
			ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
			ASSERT_EQ((ssize_t)cap, write(p[1], junk, cap));
			errno = 0;
			ASSERT_EQ(-1, splice(fd, NULL, p[1], NULL, 100,
					     SPLICE_F_NONBLOCK));
			ASSERT_EQ(EAGAIN, errno);
			errno = 0;
			ASSERT_EQ(-1, splice(fd, &o, p[1], NULL, 100,
					     SPLICE_F_NONBLOCK));
			ASSERT_EQ(EAGAIN, errno);
			ASSERT_EQ(300, o);
			/* O_NONBLOCK on the pipe acts the same. */
			fl = fcntl(p[1], F_GETFL);
			ASSERT_EQ(0, fcntl(p[1], F_SETFL, fl | O_NONBLOCK));
			errno = 0;
			ASSERT_EQ(-1, splice(fd, NULL, p[1], NULL, 100, 0));
			ASSERT_EQ(EAGAIN, errno);
			ASSERT_EQ(0, fcntl(p[1], F_SETFL, fl));
			ASSERT_EQ(100, lseek(fd, 0, SEEK_CUR));
			ASSERT_EQ((long)cap, pipe_bytes(p[0]));
			/* Drained, the same call gets the right bytes. */
			drain_exact(_metadata, p[0], junk, cap);
			ASSERT_EQ(100U, splice_full(_metadata, fd, NULL, p, cap,
						   buf + 100, 100));
			ASSERT_TRUE(model_matches(_metadata, &s, both_files[i],
						  0, buf, 200));
			close(fd);
			close_pipe(p);
			memset(junk, 'x', sizeof(junk));
		}
	}
}

TEST_F(seqsplice, splice_and_sendfile_into_pipe_without_reader_fail_epipe)
{
	unsigned char buf[100];
	struct stream s;
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		loff_t o = 50;
		int p[2];

		make_pipe(_metadata, p, 0);
		close(p[0]);
		p[0] = -1;
		errno = 0;
		ASSERT_EQ(-1, splice(fd, NULL, p[1], NULL, 100, 0));
		ASSERT_EQ(EPIPE, errno);
		errno = 0;
		ASSERT_EQ(-1, splice(fd, &o, p[1], NULL, 100, 0));
		ASSERT_EQ(EPIPE, errno);
		ASSERT_EQ(50, o);
		errno = 0;
		ASSERT_EQ(-1, sendfile(p[1], fd, NULL, 100));
		ASSERT_EQ(EPIPE, errno);
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  100));
		close(fd);
		close_pipe(p);
	}
}

/* ------------------------------------------------------------------ */
/* 17. real tools: busybox cat (sendfile), pv (splice)                 */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, busybox_cat_sendfile_matches_model)
{
	const char *out = "/tmp/seqsplice_cat";
	unsigned char *data;
	struct stats a, b;
	struct stream s;
	size_t len;

	use_stream(_metadata, &s, 0, 0, 0, 0, NULL);
	read_stats(_metadata, &a);
	run_shell(_metadata, "cat " MNT "/trace > /tmp/seqsplice_cat");
	read_stats(_metadata, &b);
	data = slurp(_metadata, out, &len);
	ASSERT_EQ(s.size, len);
	ASSERT_TRUE(model_matches(_metadata, &s, "cat trace", 0, data, len));
	ASSERT_EQ((long long)s.size, stat_delta(&a, &b, ST_BYTES_SPLICED)) {
		TH_LOG("cat did not go through trace's splice_read (sendfile)");
	}
	free(data);
	run_shell(_metadata, "cat " MNT "/trace_copy > /tmp/seqsplice_cat");
	data = slurp(_metadata, out, &len);
	ASSERT_EQ(s.size, len);
	ASSERT_TRUE(model_matches(_metadata, &s, "cat trace_copy", 0, data,
				  len));
	free(data);
	unlink(out);
}

TEST_F(seqsplice, pv_splice_through_pipe_matches_model)
{
	const char *out = "/tmp/seqsplice_pv";
	unsigned char *data;
	struct stats a, b;
	struct stream s;
	size_t len;

	use_stream(_metadata, &s, 0, 0, 0, 0, NULL);
	read_stats(_metadata, &a);
	run_shell(_metadata,
		  PV " -q " MNT "/trace | cat > /tmp/seqsplice_pv");
	read_stats(_metadata, &b);
	data = slurp(_metadata, out, &len);
	ASSERT_EQ(s.size, len);
	ASSERT_TRUE(model_matches(_metadata, &s, "pv trace", 0, data, len));
	ASSERT_EQ((long long)s.size, stat_delta(&a, &b, ST_BYTES_SPLICED)) {
		TH_LOG("pv did not splice from trace");
	}
	free(data);
	unlink(out);
}

/* ------------------------------------------------------------------ */
/* 18. data stability of gifted pages (mm/cow.c pattern)                */
/* ------------------------------------------------------------------ */

FIXTURE(stability) {
	int unused;
};
FIXTURE_VARIANT(stability) {
	size_t n;		/* bytes left in the pipes */
	size_t start;		/* stream offset of the first of them */
	bool start_by_splice;	/* reach start by splice (else by read) */
	unsigned int count, buf_kb;
};
SEQSPLICE_FIXTURE_HOOKS(stability)

FIXTURE_VARIANT_ADD(stability, pages_3x4096_123_from_0) {
	.n = 3 * 4096 + 123, .count = 3000,
};
FIXTURE_VARIANT_ADD(stability, pages_3x4096_123_after_read_5000) {
	.n = 3 * 4096 + 123, .start = 5000, .count = 3000, .buf_kb = 16,
};
FIXTURE_VARIANT_ADD(stability, pages_3x4096_123_after_splice_2) {
	.n = 3 * 4096 + 123, .start = 2, .start_by_splice = true,
	.count = 3000,
};
FIXTURE_VARIANT_ADD(stability, pages_900k_of_1m_stream) {
	.n = 900000 + 123,
};

/*
 * Fills pipe A with n stream bytes from start and tees them into pipe B;
 * returns the open fd of trace (position start + n).
 */
static int stability_fill(struct __test_metadata *_metadata,
			  const FIXTURE_VARIANT(stability) *variant,
			  const struct stream *s, int a[2], int b[2],
			  size_t *np)
{
	size_t n = variant->n, in = 0;
	unsigned char head[8192];
	int fd, q[2];

	ASSERT_GE(s->size, variant->start + n);
	ASSERT_GE(sizeof(head), variant->start);

	/* 1 MiB pipes (pipe-max-size): at least 256 slots for n bytes. */
	make_pipe(_metadata, a, 256);
	make_pipe(_metadata, b, 256);
	fd = open_file(_metadata, TRACE);
	if (variant->start_by_splice) {
		make_pipe(_metadata, q, 0);
		ASSERT_EQ(variant->start,
			  splice_full(_metadata, fd, NULL, q, 16 * PG, head,
				      variant->start));
		close_pipe(q);
	} else {
		ASSERT_EQ(variant->start,
			  read_full(_metadata, fd, head, variant->start));
	}
	while (in < n) {
		/* NONBLOCK: a full pipe fails here instead of hanging. */
		ssize_t r = splice(fd, NULL, a[1], NULL, n - in,
				   SPLICE_F_NONBLOCK);

		ASSERT_LT(0, r) {
			TH_LOG("splice into A after %zu of %zu: %zd %s", in, n,
			       r, strerror(errno));
		}
		in += r;
		ASSERT_EQ((long)in, pipe_bytes(a[0]));
	}
	ASSERT_EQ((ssize_t)n, tee(a[0], b[1], n, 0));
	ASSERT_EQ((long)n, pipe_bytes(b[0]));
	*np = n;
	return fd;
}

/* Regenerates the stream over and over through other states and opens. */
static void stability_churn(struct __test_metadata *_metadata,
			    const struct stream *s, int fd)
{
	size_t cap = s->size + 65536, cap2 = 150 * s->count + 65536;
	unsigned char *buf = malloc(cap), *buf2 = malloc(cap2);
	int fd2;

	ASSERT_TRUE(buf && buf2);
	/* Same fd: back to 0 and read everything. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(s->size, read_to_eof(_metadata, fd, buf, cap, 65536));
	ASSERT_TRUE(model_matches(_metadata, s, "reread", 0, buf, s->size));
	/* A reopen. */
	fd2 = open_file(_metadata, TRACE);
	ASSERT_EQ(s->size, read_to_eof(_metadata, fd2, buf, cap, 4096));
	close(fd2);
	close(fd);
	/* Different bytes through fresh allocations. */
	set_knob(_metadata, "record_width", "150");
	fd2 = open_file(_metadata, TRACE);
	ASSERT_EQ(150 * s->count, read_to_eof(_metadata, fd2, buf2, cap2,
					       65536));
	close(fd2);
	set_knob(_metadata, "record_width", "100");
	free(buf);
	free(buf2);
}

static void stability_check(struct __test_metadata *_metadata,
			    const FIXTURE_VARIANT(stability) *variant,
			    const struct stream *s, int a[2], int b[2],
			    size_t n)
{
	unsigned char *buf = malloc(n);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((long)n, pipe_bytes(a[0]));
	ASSERT_EQ((long)n, pipe_bytes(b[0]));
	drain_exact(_metadata, b[0], buf, n);
	ASSERT_TRUE(model_matches(_metadata, s, "pipe B (tee)", variant->start,
				  buf, n));
	drain_exact(_metadata, a[0], buf, n);
	ASSERT_TRUE(model_matches(_metadata, s, "pipe A", variant->start, buf,
				  n));
	ASSERT_EQ(0, pipe_bytes(a[0]));
	ASSERT_EQ(0, pipe_bytes(b[0]));
	free(buf);
}

TEST_F_TIMEOUT(stability, pipe_and_tee_keep_bytes_after_regeneration_reopen_and_close, 120)
{
	struct stream s;
	size_t n;
	int a[2], b[2], fd;

	use_stream(_metadata, &s, variant->count, 0, variant->buf_kb, 0, NULL);
	fd = stability_fill(_metadata, variant, &s, a, b, &n);
	stability_churn(_metadata, &s, fd);	/* closes fd */
	ASSERT_EQ(0, read_stat("pages_held"));
	churn_user_memory();
	stability_check(_metadata, variant, &s, a, b, n);
	close_pipe(a);
	close_pipe(b);
}

TEST_F_TIMEOUT(stability, pipe_and_tee_keep_bytes_after_umount_and_rmmod, 120)
{
	struct stream s;
	size_t n;
	int a[2], b[2], fd;

	use_stream(_metadata, &s, variant->count, 0, variant->buf_kb, 0, NULL);
	fd = stability_fill(_metadata, variant, &s, a, b, &n);
	stability_churn(_metadata, &s, fd);	/* closes fd */
	unload_module(_metadata);
	churn_user_memory();
	stability_check(_metadata, variant, &s, a, b, n);
	close_pipe(a);
	close_pipe(b);
	load_module(_metadata);
	ASSERT_EQ(0, read_stat("pages_held"));
}

/* ------------------------------------------------------------------ */
/* 19. concurrency: several processes, several opens                   */
/* ------------------------------------------------------------------ */

TEST_F_TIMEOUT(seqsplice, four_processes_random_ops_on_own_opens_match_model, 240)
{
	static const struct {
		unsigned int count, width, buf_kb;
	} cfg[4] = {
		{ 2000, 100, 16 }, { 2000, 100, 4 }, { 2000, 100, 1024 },
		{ 800, 250, 16 },
	};
	struct stream s[4];
	pid_t pid[4];
	int fd[4], i, j, forked;

	/* Knobs are snapshotted at open: each worker its own stream. */
	for (i = 0; i < 4; i++) {
		use_stream(_metadata, &s[i], cfg[i].count, cfg[i].width,
			   cfg[i].buf_kb, 0, NULL);
		fd[i] = open_file(_metadata, TRACE);
	}
	/* From the first fork to the wait, the parent asserts nothing. */
	fflush(stderr);
	for (forked = 0; forked < 4; forked++) {
		pid[forked] = fork();
		if (pid[forked] < 0)
			break;
		if (!pid[forked]) {
			uint64_t r = 0x51ed270b27a3ULL * (forked + 7);
			struct fctx c;
			int k;

			for (j = 0; j < 4; j++)
				if (j != forked)
					close(fd[j]);
			fctx_attach(_metadata, &c, TRACE, fd[forked],
				    &s[forked]);
			for (k = 0; k < 150; k++) {
				struct op op = pick_op(&r, &s[forked], c.pos);

				exec_op(_metadata, &c, &op);
			}
			fctx_close(&c);
			_exit(_metadata->exit_code == KSFT_PASS ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++)
		close(fd[i]);
	wait_workers(_metadata, pid, forked, "random ops");
	ASSERT_EQ(4, forked);
}

static void rewind_or_splice_worker(struct __test_metadata *_metadata,
				    const struct stream *s, bool splicer)
{
	unsigned char *buf = malloc(s->size + MIB);
	int fd = open_file(_metadata, TRACE);
	int p[2], round;
	size_t pcap;

	ASSERT_NE(NULL, buf);
	pcap = make_pipe(_metadata, p, splicer ? 0 : 64);
	for (round = 0; round < (splicer ? 3 : 6); round++) {
		size_t got;

		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		if (splicer)
			got = splice_to_eof(_metadata, fd, NULL, p, pcap,
					    4097 + round * 30000, buf,
					    s->size + MIB, NULL);
		else
			got = read_to_eof(_metadata, fd, buf, s->size + MIB,
					  8191);
		ASSERT_EQ(s->size, got);
		ASSERT_TRUE(model_matches(_metadata, s,
					  splicer ? "splicer" : "rewinder", 0,
					  buf, got));
	}
	close(fd);
	close_pipe(p);
	free(buf);
}

TEST_F_TIMEOUT(seqsplice, splice_while_another_open_rewinds_and_reads, 180)
{
	struct stream s;
	pid_t pid[2];
	int forked;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	fflush(stderr);
	for (forked = 0; forked < 2; forked++) {
		pid[forked] = fork();
		if (pid[forked] < 0)
			break;
		if (!pid[forked]) {
			rewind_or_splice_worker(_metadata, &s, forked == 1);
			_exit(_metadata->exit_code == KSFT_PASS ? 0 : 1);
		}
	}
	wait_workers(_metadata, pid, forked, "rewind+read / splice");
	ASSERT_EQ(2, forked);
}

/* ------------------------------------------------------------------ */
/* 20. lifetime: close / rmmod with pages in a pipe                     */
/* ------------------------------------------------------------------ */

/* Splices 2, 5000 and 70000 bytes into p without draining; returns 75002. */
static size_t fill_pipe_pieces(struct __test_metadata *_metadata, int fd,
			       int p[2])
{
	static const size_t pieces[] = { 2, 5000, 70000 };
	size_t in = 0, i;

	for (i = 0; i < ARRAY_SIZE(pieces); i++) {
		size_t want = in + pieces[i];

		while (in < want) {
			ssize_t r = splice(fd, NULL, p[1], NULL, want - in,
					   SPLICE_F_NONBLOCK);

			ASSERT_LT(0, r) {
				TH_LOG("splice: %zd %s", r, strerror(errno));
			}
			in += r;
			ASSERT_EQ((long)in, pipe_bytes(p[0]));
		}
	}
	return in;
}

TEST_F(seqsplice, close_with_pages_in_pipe_then_drain_matches_model)
{
	unsigned char *buf;
	struct stream s;
	size_t n;
	int p[2], fd;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, TRACE);
	n = fill_pipe_pieces(_metadata, fd, p);
	ASSERT_LT(0, read_stat("pages_held"));
	close(fd);
	ASSERT_EQ(0, read_stat("pages_held")) {
		TH_LOG("pages still held after the only open was closed");
	}
	/* Let other opens reuse whatever was freed. */
	fd = open_file(_metadata, TRACE);
	buf = malloc(s.size + 65536);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(s.size, read_to_eof(_metadata, fd, buf, s.size + 65536,
				      65536));
	close(fd);
	churn_user_memory();
	drain_exact(_metadata, p[0], buf, n);
	ASSERT_TRUE(model_matches(_metadata, &s, "pipe after close", 0, buf,
				  n));
	ASSERT_EQ(0, pipe_bytes(p[0]));
	close_pipe(p);
	ASSERT_EQ(0, read_stat("pages_held"));
}

TEST_F_TIMEOUT(seqsplice, rmmod_with_pages_in_pipe_then_drain_matches_model_and_reload_works, 90)
{
	unsigned char *buf;
	struct stream s;
	size_t n;
	int p[2], fd;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, TRACE);
	n = fill_pipe_pieces(_metadata, fd, p);
	close(fd);
	unload_module(_metadata);
	churn_user_memory();
	buf = malloc(s.size + 65536);
	ASSERT_NE(NULL, buf);
	drain_exact(_metadata, p[0], buf, n);
	ASSERT_TRUE(model_matches(_metadata, &s, "pipe after rmmod", 0, buf,
				  n));
	close_pipe(p);

	load_module(_metadata);
	ASSERT_EQ(0, read_stat("pages_held"));
	/* A fresh module instance has the default knobs and works. */
	free(buf);
	free(s.buf);
	stream_build(_metadata, &s, DEF_WIDTH, DEF_COUNT);
	buf = malloc(s.size + 65536);
	ASSERT_NE(NULL, buf);
	fd = open_file(_metadata, TRACE);
	ASSERT_EQ(s.size, read_to_eof(_metadata, fd, buf, s.size + 65536,
				      65536));
	ASSERT_TRUE(model_matches(_metadata, &s, "trace after reload", 0, buf,
				  s.size));
	close(fd);
	ASSERT_EQ(0, read_stat("pages_held"));
}

/* ------------------------------------------------------------------ */
/* 21. knobs                                                           */
/* ------------------------------------------------------------------ */

FIXTURE(knob) {
	int unused;
};
FIXTURE_VARIANT(knob) {
	const char *name;
	unsigned long long def, min, max, valid;
};
SEQSPLICE_FIXTURE_HOOKS(knob)

FIXTURE_VARIANT_ADD(knob, buffer_size_kb) {
	.name = "buffer_size_kb", .def = 1024, .min = 4, .max = 16384,
	.valid = 64,
};
FIXTURE_VARIANT_ADD(knob, copy_buffer_size_kb) {
	.name = "copy_buffer_size_kb", .def = 4, .min = 4, .max = 16384,
	.valid = 8,
};
FIXTURE_VARIANT_ADD(knob, record_count) {
	.name = "record_count", .def = 10000, .min = 1, .max = 10000000,
	.valid = 123,
};
FIXTURE_VARIANT_ADD(knob, record_width) {
	.name = "record_width", .def = 100, .min = 84, .max = 1048576,
	.valid = 256,
};
FIXTURE_VARIANT_ADD(knob, buffer_total_kb) {
	.name = "buffer_total_kb", .def = 65536, .min = 64, .max = 1048576,
	.valid = 8192,
};

static void expect_knob_value(struct __test_metadata *_metadata,
			      const char *name, unsigned long long v)
{
	char want[32], got[64];

	snprintf(want, sizeof(want), "%llu\n", v);
	ASSERT_LT(0, knob_read(name, got, sizeof(got))) {
		TH_LOG("read %s: %s", name, strerror(errno));
	}
	ASSERT_STREQ(want, got);
}

TEST_F(knob, reads_default_value_and_newline)
{
	expect_knob_value(_metadata, variant->name, variant->def);
}

TEST_F(knob, invalid_writes_fail_einval_and_keep_value)
{
	const unsigned long long v = variant->valid;
	char bad[24][48];
	size_t lens[24];
	int n = 0, i;

#define BAD(...) do {							\
		lens[n] = snprintf(bad[n], sizeof(bad[n]), __VA_ARGS__);	\
		n++;							\
	} while (0)
	BAD("abc");
	BAD("-1");
	BAD("0");
	BAD("%s", "");
	BAD("\n");
	BAD(" 5");
	BAD("5 ");
	BAD(" %llu", v);
	BAD("%llu ", v);
	BAD("%llu \n", v);
	BAD("%llu\n\n", v);
	BAD("+%llu", v);
	BAD("-%llu", v);
	BAD("-0");
	BAD("99999999999999999999");
	BAD("18446744073709551616");
	BAD("18446744073709551615");
	BAD("%llu", variant->max + 1);
	BAD("%llu", variant->min - 1);
	BAD("0x10");
	BAD("0x%llx", v);
	BAD("%llux", v);
	BAD("%llu.0", v);
	/* A NUL after the digits is garbage, not an end marker. */
	lens[n] = snprintf(bad[n], sizeof(bad[n]), "%llu", v) + 1;
	n++;
#undef BAD
	ASSERT_EQ(24, n);

	for (i = 0; i < n; i++) {
		char shown[120];
		ssize_t r;

		excerpt((unsigned char *)bad[i], lens[i], shown, sizeof(shown));
		errno = 0;
		r = knob_write(variant->name, bad[i], lens[i]);
		ASSERT_EQ(-1, r) {
			TH_LOG("%s accepted \"%s\" (returned %zd)",
			       variant->name, shown, r);
		}
		ASSERT_EQ(EINVAL, errno) {
			TH_LOG("%s: \"%s\" failed with errno %d, not EINVAL",
			       variant->name, shown, errno);
		}
		expect_knob_value(_metadata, variant->name, variant->def);
	}
}

TEST_F(knob, boundary_and_valid_values_accepted_and_read_back)
{
	char buf[48];
	ssize_t len;

	set_knob_u(_metadata, variant->name, variant->min);
	expect_knob_value(_metadata, variant->name, variant->min);
	set_knob_u(_metadata, variant->name, variant->max);
	expect_knob_value(_metadata, variant->name, variant->max);
	len = snprintf(buf, sizeof(buf), "%llu\n", variant->valid);
	ASSERT_EQ(len, knob_write(variant->name, buf, len));
	expect_knob_value(_metadata, variant->name, variant->valid);
	set_knob_u(_metadata, variant->name, variant->def);
	expect_knob_value(_metadata, variant->name, variant->def);

	/* A leading zero is decimal or refused, never octal. */
	len = snprintf(buf, sizeof(buf), "0%llu", variant->valid);
	errno = 0;
	if (knob_write(variant->name, buf, len) == len) {
		expect_knob_value(_metadata, variant->name, variant->valid);
	} else {
		ASSERT_EQ(EINVAL, errno);
		expect_knob_value(_metadata, variant->name, variant->def);
	}
	set_knob_u(_metadata, variant->name, variant->def);
}

TEST_F(seqsplice, record_mode_accepts_raw_and_printf_rejects_others)
{
	static const char *const bad[] = {
		"foo", "", "\n", "rawx", "prin", "ra", " raw", "raw ",
		"RAW", "raw\n\n", "printf printf", "0",
	};
	char got[64];
	size_t i;

	ASSERT_LT(0, knob_read("record_mode", got, sizeof(got)));
	ASSERT_STREQ("printf\n", got);
	ASSERT_EQ(3, knob_write("record_mode", "raw", 3));
	ASSERT_LT(0, knob_read("record_mode", got, sizeof(got)));
	ASSERT_STREQ("raw\n", got);
	ASSERT_EQ(7, knob_write("record_mode", "printf\n", 7));
	ASSERT_LT(0, knob_read("record_mode", got, sizeof(got)));
	ASSERT_STREQ("printf\n", got);
	ASSERT_EQ(4, knob_write("record_mode", "raw\n", 4));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		ASSERT_EQ(-1, knob_write("record_mode", bad[i],
					 strlen(bad[i]))) {
			TH_LOG("record_mode accepted \"%s\"", bad[i]);
		}
		ASSERT_EQ(EINVAL, errno);
		ASSERT_LT(0, knob_read("record_mode", got, sizeof(got)));
		ASSERT_STREQ("raw\n", got);
	}
	ASSERT_EQ(6, knob_write("record_mode", "printf", 6));
}

TEST_F_TIMEOUT(seqsplice, raw_mode_read_splice_pread_match_model_and_trace_copy, 90)
{
	unsigned char *out[2], small[5000];
	struct stream s;
	size_t i, got, cap;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 16, 0, "raw");
	cap = s.size + 65536;
	make_pipe(_metadata, p, 0);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);

		out[i] = malloc(cap);
		ASSERT_NE(NULL, out[i]);
		got = read_to_eof(_metadata, fd, out[i], cap, 4097);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  out[i], got));
		got = pread_full(_metadata, fd, small, 5000, 123457);
		ASSERT_EQ(5000U, got);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 123457,
					  small, got));
		close(fd);
		fd = open_file(_metadata, both_files[i]);
		got = splice_to_eof(_metadata, fd, NULL, p, 16 * PG, 65536,
				    out[i], cap, NULL);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  out[i], got));
		close(fd);
	}
	ASSERT_EQ(0, memcmp(out[0], out[1], s.size));
	close_pipe(p);

	/* Narrowest records (no filler) in raw mode. */
	free(s.buf);
	use_stream(_metadata, &s, 2000, MODEL_MIN_WIDTH, 4, 0, "raw");
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);

		got = read_to_eof(_metadata, fd, out[i], cap, 4096);
		ASSERT_EQ(s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0,
					  out[i], got));
		close(fd);
	}
}

TEST_F_TIMEOUT(seqsplice, knob_changes_affect_only_later_opens, 90)
{
	struct stream s500, s123, w200;
	unsigned char *buf;
	size_t i, cap;
	int old[2], mid[2], neu[2], p[2];

	stream_build(_metadata, &s500, 100, 500);
	stream_build(_metadata, &s123, 100, 123);
	stream_build(_metadata, &w200, 200, 123);
	cap = s500.size + 65536;
	buf = malloc(cap);
	ASSERT_NE(NULL, buf);
	make_pipe(_metadata, p, 0);

	set_knob(_metadata, "record_count", "500");
	for (i = 0; i < 2; i++)
		old[i] = open_file(_metadata, both_files[i]);
	set_knob(_metadata, "record_count", "123");
	for (i = 0; i < 2; i++)
		mid[i] = open_file(_metadata, both_files[i]);
	set_knob(_metadata, "record_width", "200");
	/* Neither the buffer size nor the mode changes any byte. */
	set_knob(_metadata, "buffer_size_kb", "4");
	set_knob(_metadata, "copy_buffer_size_kb", "8");
	set_knob(_metadata, "record_mode", "raw");
	for (i = 0; i < 2; i++)
		neu[i] = open_file(_metadata, both_files[i]);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(s500.size, read_to_eof(_metadata, old[i], buf, cap,
						 4096)) {
			TH_LOG("%s opened with record_count=500", both_files[i]);
		}
		ASSERT_TRUE(model_matches(_metadata, &s500, both_files[i], 0,
					  buf, s500.size));
		ASSERT_EQ(s123.size, splice_to_eof(_metadata, mid[i], NULL, p,
						   16 * PG, 65536, buf, cap,
						   NULL)) {
			TH_LOG("%s opened with record_count=123", both_files[i]);
		}
		ASSERT_TRUE(model_matches(_metadata, &s123, both_files[i], 0,
					  buf, s123.size));
		ASSERT_EQ(w200.size, read_to_eof(_metadata, neu[i], buf, cap,
						 1000)) {
			TH_LOG("%s opened with record_width=200", both_files[i]);
		}
		ASSERT_TRUE(model_matches(_metadata, &w200, both_files[i], 0,
					  buf, w200.size));
		close(old[i]);
		close(mid[i]);
		close(neu[i]);
	}
	close_pipe(p);
}

/* ------------------------------------------------------------------ */
/* 22. permissions                                                     */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	mode_t mode;
} file_modes[] = {
	{ "trace", 0440 }, { "trace_copy", 0440 },
	{ "buffer_size_kb", 0640 }, { "copy_buffer_size_kb", 0640 },
	{ "record_count", 0640 }, { "record_width", 0640 },
	{ "record_mode", 0640 }, { "map_mode", 0640 },
	{ "memcg_account", 0640 }, { "buffer_total_kb", 0640 },
	{ "stats", 0440 },
	{ "purge", 0200 },
};

TEST_F(seqsplice, files_are_root_owned_with_interface_modes)
{
	struct dirent *de;
	size_t i, entries = 0;
	DIR *d;

	for (i = 0; i < ARRAY_SIZE(file_modes); i++) {
		char path[256];
		struct stat st;

		knob_path(path, sizeof(path), file_modes[i].name);
		ASSERT_EQ(0, stat(path, &st)) {
			TH_LOG("stat %s: %s", path, strerror(errno));
		}
		ASSERT_TRUE(S_ISREG(st.st_mode)) {
			TH_LOG("%s is not a regular file", path);
		}
		ASSERT_EQ(file_modes[i].mode, st.st_mode & 07777) {
			TH_LOG("%s has mode %o, want %o", path,
			       st.st_mode & 07777, file_modes[i].mode);
		}
		ASSERT_EQ(0U, st.st_uid);
		ASSERT_EQ(0U, st.st_gid);
	}
	d = opendir(MNT);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (i = 0; i < ARRAY_SIZE(file_modes); i++)
			if (!strcmp(de->d_name, file_modes[i].name))
				break;
		ASSERT_GT(ARRAY_SIZE(file_modes), i) {
			TH_LOG("unexpected file %s/%s", MNT, de->d_name);
		}
		entries++;
	}
	closedir(d);
	ASSERT_EQ(ARRAY_SIZE(file_modes), entries);
}

TEST_F(seqsplice, unprivileged_user_cannot_open_any_file)
{
	pid_t pid;

	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = 0;
		size_t i;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
			fprintf(stderr, "# cannot drop privileges: %s\n",
				strerror(errno));
			_exit(2);
		}
		for (i = 0; i < ARRAY_SIZE(file_modes); i++) {
			char path[256];
			int k;

			knob_path(path, sizeof(path), file_modes[i].name);
			for (k = 0; k < 2; k++) {
				int fd = open(path, k ? O_WRONLY : O_RDONLY);

				if (fd >= 0 || errno != EACCES) {
					fprintf(stderr,
						"# uid 65534 open(%s, %s): fd %d errno %d, want EACCES\n",
						path, k ? "O_WRONLY" :
						"O_RDONLY", fd, errno);
					bad++;
				}
				if (fd >= 0)
					close(fd);
			}
		}
		_exit(bad ? 1 : 0);
	}
	wait_workers(_metadata, &pid, 1, "unprivileged");
}

/* ------------------------------------------------------------------ */
/* 23. tools/testing/selftests/splice adapted                          */
/* ------------------------------------------------------------------ */

/*
 * short_splice_read.sh: a splice of N bytes from a fresh open gives what
 * `cat` gives (its first N bytes, `head -c N`), in one call a non-empty
 * prefix of it.
 */
TEST_F(seqsplice, short_splice_read_matches_cat)
{
	static const size_t lens[] = {
		1, 2, 3, 7, 83, 84, 99, 100, 101, 4095, 4096, 4097, 8192,
		65536,
	};
	unsigned char *full, *buf;
	struct stream s;
	size_t i, k, len;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	buf = malloc(65536);
	ASSERT_NE(NULL, buf);
	make_pipe(_metadata, p, 0);
	for (i = 0; i < 2; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "cat %s/%s > /tmp/seqsplice_full",
			 MNT, both_files[i]);
		run_shell(_metadata, cmd);
		full = slurp(_metadata, "/tmp/seqsplice_full", &len);
		ASSERT_EQ(s.size, len);
		ASSERT_TRUE(model_matches(_metadata, &s, "cat", 0, full, len));
		for (k = 0; k < ARRAY_SIZE(lens); k++) {
			int fd = open_file(_metadata, both_files[i]);
			ssize_t r = splice(fd, NULL, p[1], NULL, lens[k],
					   SPLICE_F_MOVE);

			ASSERT_TRUE(r > 0 && (size_t)r <= lens[k]) {
				TH_LOG("%s: splice(%zu) returned %zd: %s",
				       both_files[i], lens[k], r,
				       strerror(errno));
			}
			ASSERT_EQ(r, pipe_bytes(p[0]));
			drain_exact(_metadata, p[0], buf, r);
			ASSERT_EQ(0, memcmp(full, buf, r)) {
				TH_LOG("%s: splice(%zu) differs from cat",
				       both_files[i], lens[k]);
			}
			/* The rest up to N: head -c N. */
			ASSERT_EQ(lens[k], r + splice_full(_metadata, fd, NULL,
				  p, 16 * PG, buf + r, lens[k] - r));
			ASSERT_EQ(0, memcmp(full, buf, lens[k]));
			close(fd);
		}
		free(full);
	}
	unlink("/tmp/seqsplice_full");
	close_pipe(p);
}

/* short_splice_read.sh: a 2-byte splice gives the first two characters. */
TEST_F(seqsplice, short_splice_read_2_bytes_matches_first_two_chars)
{
	unsigned char two[2];
	struct stream s;
	size_t i;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	make_pipe(_metadata, p, 0);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);

		ASSERT_EQ(2, splice(fd, NULL, p[1], NULL, 2, SPLICE_F_MOVE));
		ASSERT_EQ(2, pipe_bytes(p[0]));
		drain_exact(_metadata, p[0], two, 2);
		ASSERT_EQ(' ', two[0]);
		ASSERT_EQ(' ', two[1]);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, two,
					  2));
		/* And two more from inside the same record. */
		ASSERT_EQ(2, splice(fd, NULL, p[1], NULL, 2, SPLICE_F_MOVE));
		drain_exact(_metadata, p[0], two, 2);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 2, two,
					  2));
		close(fd);
	}
	close_pipe(p);
}

/*
 * default_file_splice_read.sh: splicing at EOF must put nothing in the pipe
 * ("leaked N" otherwise); a huge splice puts exactly what it returns.
 */
TEST_F(seqsplice, default_file_splice_read_at_eof_leaks_nothing)
{
	unsigned char *buf;
	struct stream s;
	size_t i, pcap;
	int p[2];

	use_stream(_metadata, &s, 3000, 0, 0, 0, NULL);
	buf = malloc(MIB);
	ASSERT_NE(NULL, buf);
	pcap = make_pipe(_metadata, p, 256);
	for (i = 0; i < 2; i++) {
		int fd = open_file(_metadata, both_files[i]);
		loff_t o;
		ssize_t r;

		o = s.size;
		ASSERT_EQ(0, splice(fd, &o, p[1], NULL, 1 << 30, 0));
		ASSERT_EQ((loff_t)s.size, o);
		o = s.size + 12345;
		ASSERT_EQ(0, splice(fd, &o, p[1], NULL, 1 << 30, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		o = s.size - 1;
		ASSERT_EQ(1, splice(fd, &o, p[1], NULL, 1 << 30, 0));
		ASSERT_EQ(1, pipe_bytes(p[0]));
		drain_exact(_metadata, p[0], buf, 1);
		ASSERT_EQ('\n', buf[0]);

		r = splice(fd, NULL, p[1], NULL, 1 << 30, 0);
		ASSERT_TRUE(r > 0 && (size_t)r <= pcap) {
			TH_LOG("%s: splice(1 GiB) returned %zd", both_files[i],
			       r);
		}
		ASSERT_EQ(r, pipe_bytes(p[0]));
		drain_exact(_metadata, p[0], buf, r);
		ASSERT_TRUE(model_matches(_metadata, &s, both_files[i], 0, buf,
					  r));
		ASSERT_EQ((off_t)s.size, lseek(fd, s.size, SEEK_SET));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, 1 << 30, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		close(fd);
	}
	close_pipe(p);
}

TEST_HARNESS_MAIN
