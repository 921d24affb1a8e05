// SPDX-License-Identifier: GPL-2.0
/*
 * mirror_test.c - ftrace's own `trace` through the engine: `mirror` (the
 * file mirror_path names, opened anew at each open with the opener's
 * credentials, its own seq_operations driven by the engine, pages gifted
 * on splice) and `mirror_copy` (the same table through the stock
 * seq_read_iter()/copy_splice_read()) give exactly the bytes of the target
 * itself, read once with read() as the reference, over a frozen capture:
 *
 * - read in chunks of 7 B, 4 KiB, 64 KiB and 1 MiB; pread at line starts,
 *   mid-line, page edges, inside and at both ends of a line wider than a
 *   page (a trace_marker of about 4050 bytes) and EOF; lseek (SEEK_SET,
 *   SEEK_CUR; SEEK_END EINVAL as seq_lseek) then read; splice of 4 KiB,
 *   64 KiB and 1 MiB (1 MiB pipe) with and without off_in and from the same
 *   edges; a pread and an lseek elsewhere right after a splice; sendfile to
 *   a tmpfs file: every byte, every count, and `pages_gifted` rising for
 *   mirror only (mirror_copy leaves the engine's stats alone);
 * - the same for an instance (instances/mt/trace) and for
 *   per_cpu/cpu0/trace, and for /sys/kernel/debug/tracing/trace (the
 *   automounted tracefs: on the allow-list);
 * - lifetimes: an open mirror or mirror_copy pins the instance (rmdir
 *   EBUSY, then 0 once closed; later opens ENOENT); pages spliced from
 *   mirror keep their bytes after the file is closed and the instance gone;
 * - refused targets (trace_pipe, /proc/kallsyms, a FIFO, a tmpfs file
 *   named trace, a directory, a relative path, a debugfs file, paths of 256
 *   bytes and more, a second trailing newline, a NUL, a symlink to
 *   trace_pipe): the exact errno, a dmesg line, mirror_path unchanged, and
 *   for trace_pipe and the FIFO proof that nothing opened them; a symlink
 *   accepted at write and retargeted later is refused at open;
 * - credentials: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, with
 *   trace at mode 000, uid 0 still opens stats but not mirror or
 *   mirror_copy (EACCES: the target's own check sees the reader) nor may it
 *   set mirror_path to it (EACCES); uid 65534 cannot open mirror_path.
 *
 * The fixtures record sched_switch and sched_wakeup (and the marker) with
 * ftrace in the top-level buffer or in instances/mt, stop recording
 * (tracing_on 0, the events disabled again, so that nothing changes
 * saved_cmdlines either), check that no CPU overran, and read the
 * reference twice (equal); a top-level capture of ours that is still
 * there is reused (capture_intact()). mirror_copy keeps buffer_size_kb
 * 1024, so that its seq buffer never overflows: only then is the stock core
 * exact on ftrace's trace after a seek (Documentation/testing.rst,
 * mirror_test), and each check runs it first, so that a failure on mirror
 * alone is the engine's. The teardown, in the parent, puts back every
 * tracefs setting the fixture changed (tracing_on, current_tracer, the two
 * events' enable, trace's mode, the instance), mirror_path (the default,
 * /sys/kernel/tracing/trace) and the module's knobs, and checks pages_held
 * as SEQSPLICE_FIXTURE_HOOKS does. tracefs is mounted at /sys/kernel/tracing
 * if it is not, and left mounted. Runs in every map mode of the plan
 * (SEQSPLICE_MAP_MODE). Conventions: tests/common/seqsplice_test.h.
 */
#include <dirent.h>
#include <grp.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>

#include "../common/seqsplice_test.h"

#define TRACING		"/sys/kernel/tracing"
#define DEF_MIRROR	TRACING "/trace"
#define INST		TRACING "/instances/mt"
#define CPU0_TRACE	TRACING "/per_cpu/cpu0/trace"
#define MIRROR		"mirror"
#define MIRROR_COPY	"mirror_copy"
#define MIRROR_PATH	"mirror_path"
#define TRACEFS_MAGIC	0x74726163
#define DEBUGFS_MAGIC	0x64626720
#define MARKER_LEN	4096
#define MARKER_MIN	4000
#define MIN_ENTRIES	200
/* The marker's first bytes: a top-level buffer holding it is our capture. */
#define CAPTURE_TAG	"tracing_mark_write: mirror_test capture "
#define TMP_DIR		"/tmp/mirror_test.d"
#define FIFO		"/tmp/mirror_test.fifo"
#define LINK		"/tmp/mirror_test.link"
#define OUT		"/tmp/mirror_test.out"

/*
 * The stock file first: where both differ from the reference, the log
 * shows whether the stock core got it right.
 */
static const char *const mirror_files[] = { MIRROR_COPY, MIRROR };

static bool is_gift(const char *f)
{
	return !strcmp(f, MIRROR);
}
static const char *const sched_events[] = { "sched_switch", "sched_wakeup" };

/* ------------------------------------------------------------------ */
/* tracefs state: saved, changed, put back                            */
/* ------------------------------------------------------------------ */

/* What the fixture changed; in the shared fixture, for the parent. */
struct ftrace_state {
	bool saved;
	char tracing_on[16];
	char tracer[64];
	char ev[2][16];
	bool instance;		/* made instances/mt */
	bool chmodded;		/* trace's mode changed: trace_mode */
	mode_t trace_mode;
};

/* A small tracefs (or any) file without its trailing newline. */
static int get_line(const char *path, char *out, size_t n)
{
	if (read_small_file(path, out, n) < 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* Truncates an ftrace buffer: its trace opened O_TRUNC for writing. */
static int clear_trace(const char *base)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", base);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int set_events(const char *base, const char *v)
{
	char path[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sched_events); i++) {
		snprintf(path, sizeof(path), "%s/events/sched/%s/enable", base,
			 sched_events[i]);
		if (put(path, v))
			return -1;
	}
	return 0;
}

/* Sum (or, with max, the largest) of one field of every per_cpu/cpuN/stats. */
static long long cpu_stats_field(const char *base, const char *field, bool max)
{
	long long total = 0;
	int cpu;

	for (cpu = 0; cpu < 64; cpu++) {
		char path[256], text[2048], *p;
		long long v;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/stats", base,
			 cpu);
		if (!path_exists(path))
			break;
		if (read_small_file(path, text, sizeof(text)) < 0)
			return -1;
		p = strstr(text, field);
		if (!p || sscanf(p + strlen(field), ": %lld", &v) != 1)
			return -1;
		total = max ? (v > total ? v : total) : total + v;
	}
	return total;
}

/* entries of one CPU's ftrace buffer now. */
static long long cpu_entries(const char *base, int cpu)
{
	char path[256], text[2048], *p;
	long long v;

	snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/stats", base, cpu);
	if (read_small_file(path, text, sizeof(text)) < 0)
		return -1;
	p = strstr(text, "entries");
	if (!p || sscanf(p, "entries: %lld", &v) != 1)
		return -1;
	return v;
}

/* fork + exec /bin/true, waited for: a handful of switches and wakeups. */
static void spawn_true(void)
{
	pid_t pid = fork();

	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Tracefs mounted at TRACING (mounted here if it is not). */
static int tracefs_ready(void)
{
	struct statfs sf;

	if (path_exists(TRACING "/trace"))
		return 0;
	if (mount("nodev", TRACING, "tracefs", 0, NULL))
		return -1;
	return statfs(TRACING, &sf) || sf.f_type != TRACEFS_MAGIC ? -1 : 0;
}

/*
 * True if the top-level buffer still holds a capture of ours (a previous
 * test's: recording off or nothing enabled since, as the teardown leaves
 * it) with no CPU overrun: recording it again costs a second per test on
 * the debug kernel. Whatever it holds, each test reads its reference anew.
 */
static bool capture_intact(const struct ftrace_state *st)
{
	unsigned char *t;
	size_t len;
	bool ours;

	if (strcmp(st->tracer, "nop") || strcmp(st->ev[0], "0") ||
	    strcmp(st->ev[1], "0") ||
	    cpu_stats_field(TRACING, "overrun", true) != 0)
		return false;
	t = read_whole_file_quiet(DEF_MIRROR, &len);
	if (!t)
		return false;
	ours = memmem(t, len, CAPTURE_TAG, strlen(CAPTURE_TAG)) != NULL;
	free(t);
	return ours;
}

/*
 * Records a small frozen capture in base (TRACING or INST, which is made):
 * the buffer cleared, sched_switch and sched_wakeup on, fork/exec and
 * usleep rounds until MIN_ENTRIES events, one marker on CPU 0 (its
 * line wider than a page, beginning with CAPTURE_TAG), a few rounds more,
 * then tracing_on 0 and the events off. The top-level buffer is reused
 * while capture_intact() (only tracing_on 0 then). No assertion (a failed
 * setup runs no teardown): -1 and why.
 */
static int capture_quiet(struct ftrace_state *st, const char *base, char *why,
			 size_t n)
{
	char path[256], *marker;
	cpu_set_t mask, cpu0;
	int i, fd;
	ssize_t r;
	size_t k;

	if (tracefs_ready()) {
		snprintf(why, n, "mount -t tracefs nodev %s: %s", TRACING,
			 strerror(errno));
		return -1;
	}
	if (get_line(TRACING "/tracing_on", st->tracing_on,
		     sizeof(st->tracing_on)) ||
	    get_line(TRACING "/current_tracer", st->tracer,
		     sizeof(st->tracer))) {
		snprintf(why, n, "reading %s's settings: %s", TRACING,
			 strerror(errno));
		return -1;
	}
	for (k = 0; k < ARRAY_SIZE(sched_events); k++) {
		snprintf(path, sizeof(path), TRACING "/events/sched/%s/enable",
			 sched_events[k]);
		if (get_line(path, st->ev[k], sizeof(st->ev[k]))) {
			snprintf(why, n, "reading %s: %s", path,
				 strerror(errno));
			return -1;
		}
	}
	st->saved = true;
	if (!strcmp(base, TRACING) && capture_intact(st)) {
		if (put(TRACING "/tracing_on", "0")) {
			snprintf(why, n, "tracing_on 0: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (strcmp(base, TRACING)) {
		if (path_exists(base))
			rmdir(base);	/* left by a crashed run */
		if (mkdir(base, 0755)) {
			snprintf(why, n, "mkdir %s: %s", base, strerror(errno));
			return -1;
		}
		st->instance = true;
	}
	snprintf(path, sizeof(path), "%s/tracing_on", base);
	if (put(path, "0") ||
	    (!strcmp(base, TRACING) && put(TRACING "/current_tracer", "nop")) ||
	    clear_trace(base) || set_events(base, "1") || put(path, "1")) {
		snprintf(why, n, "starting the capture in %s: %s", base,
			 strerror(errno));
		return -1;
	}
	for (i = 0; i < 200 && cpu_stats_field(base, "entries", false) <
			       MIN_ENTRIES; i++) {
		spawn_true();
		usleep(500);
	}
	/*
	 * A marker as long as the ring buffer takes (ftrace cuts the write
	 * to its largest event, about 4050 bytes), written on CPU 0 so that
	 * per_cpu/cpu0/trace has the wide line too.
	 */
	marker = malloc(MARKER_LEN);
	if (!marker) {
		snprintf(why, n, "malloc");
		return -1;
	}
	for (k = 0; k < MARKER_LEN; k++)
		marker[k] = 'A' + k % 26;
	memcpy(marker, CAPTURE_TAG + strlen("tracing_mark_write: "),
	       strlen(CAPTURE_TAG) - strlen("tracing_mark_write: "));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_getaffinity(0, sizeof(mask), &mask) ||
	    sched_setaffinity(0, sizeof(cpu0), &cpu0)) {
		snprintf(why, n, "sched_setaffinity: %s", strerror(errno));
		free(marker);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/trace_marker", base);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	r = fd < 0 ? -1 : write(fd, marker, MARKER_LEN);
	if (fd >= 0)
		close(fd);
	free(marker);
	sched_setaffinity(0, sizeof(mask), &mask);
	if (r < MARKER_MIN) {
		snprintf(why, n, "write of %d bytes to %s returned %zd: %s",
			 MARKER_LEN, path, r, strerror(errno));
		return -1;
	}
	for (i = 0; i < 4; i++) {
		spawn_true();
		usleep(500);
	}
	snprintf(path, sizeof(path), "%s/tracing_on", base);
	if (put(path, "0") || set_events(base, "0")) {
		snprintf(why, n, "stopping the capture in %s: %s", base,
			 strerror(errno));
		return -1;
	}
	/* ftrace's output after an overrun is not reproducible */
	if (cpu_stats_field(base, "overrun", true) != 0) {
		snprintf(why, n, "%s: a CPU's buffer overran (per_cpu/*/stats)",
			 base);
		return -1;
	}
	return 0;
}

/* Puts back what st says was changed, and mirror_path; 0 if all went. */
static int restore_quiet(struct ftrace_state *st)
{
	char path[256];
	int bad = 0, i;
	size_t k;

	if (st->chmodded) {
		bad |= chmod(DEF_MIRROR, st->trace_mode);
		st->chmodded = bad != 0;
	}
	if (st->instance) {
		/* an fput() from task work may still be on its way */
		for (i = 0; i < 50 && rmdir(INST) && errno == EBUSY; i++)
			usleep(20000);
		st->instance = path_exists(INST);
		bad |= st->instance;
	}
	if (st->saved) {
		bad |= put(TRACING "/tracing_on", "0");
		for (k = 0; k < ARRAY_SIZE(sched_events); k++) {
			snprintf(path, sizeof(path),
				 TRACING "/events/sched/%s/enable",
				 sched_events[k]);
			bad |= put(path, st->ev[k]);
		}
		bad |= put(TRACING "/current_tracer", st->tracer);
		bad |= put(TRACING "/tracing_on", st->tracing_on);
		st->saved = bad != 0;
	}
	if (fs_mounted())
		bad |= put(MNT "/" MIRROR_PATH, DEF_MIRROR);
	return bad;
}

/* ------------------------------------------------------------------ */
/* The reference and its lines                                        */
/* ------------------------------------------------------------------ */

/*
 * The reference: path read to EOF with read(), twice (equal: the capture
 * is frozen), into s (width 0, count its lines); not empty, every line
 * ended.
 */
static void reference(struct __test_metadata *_metadata, const char *path,
		      struct stream *s)
{
	unsigned char *again;
	size_t len2, i;

	memset(s, 0, sizeof(*s));
	s->buf = read_whole_file_quiet(path, &s->size);
	ASSERT_NE(NULL, s->buf) {
		TH_LOG("reading %s: %s", path, strerror(errno));
	}
	again = read_whole_file_quiet(path, &len2);
	ASSERT_NE(NULL, again) {
		TH_LOG("reading %s again: %s", path, strerror(errno));
	}
	ASSERT_TRUE(len2 == s->size && !memcmp(again, s->buf, len2)) {
		TH_LOG("%s changed between two reads (%zu, then %zu bytes)",
		       path, s->size, len2);
	}
	free(again);
	ASSERT_LT(4 * PG, s->size) {
		TH_LOG("%s has %zu bytes: the page edges need more", path,
		       s->size);
	}
	ASSERT_EQ('\n', s->buf[s->size - 1]);
	for (i = 0; i < s->size; i++)
		s->count += s->buf[i] == '\n';
}

/* Start of the first line longer than a page (the marker's); 0 if none. */
static size_t wide_line(const struct stream *s, size_t *len)
{
	size_t off = 0;

	while (off < s->size) {
		const unsigned char *nl = memchr(s->buf + off, '\n',
						 s->size - off);
		size_t end = nl ? (size_t)(nl - s->buf) + 1 : s->size;

		if (end - off > PG) {
			*len = end - off;
			return off;
		}
		off = end;
	}
	*len = 0;
	return 0;
}

/*
 * The offsets the edge tests use: line starts and mid-line, the page
 * edges, the wide line's start, inside it, its last byte and the next
 * line, EOF - 1, EOF and past it.
 */
static size_t edge_offsets(struct __test_metadata *_metadata,
			   const struct stream *s, int64_t *offs)
{
	size_t wlen, w = wide_line(s, &wlen), n = 0;

	ASSERT_NE(0U, wlen) {
		TH_LOG("no line wider than a page (the %d-byte marker write)",
		       MARKER_LEN);
	}
	offs[n++] = 0;
	offs[n++] = 1;
	offs[n++] = line_start(s, 1);
	offs[n++] = line_start(s, 2) - 1;	/* a newline */
	offs[n++] = line_start(s, s->count / 2);
	offs[n++] = line_start(s, s->count / 2) + 7;
	offs[n++] = line_start_from(s, PG);
	offs[n++] = PG - 1;
	offs[n++] = PG;
	offs[n++] = PG + 1;
	offs[n++] = w - 1;
	offs[n++] = w;
	offs[n++] = w + 1;
	offs[n++] = w + PG;
	offs[n++] = w + wlen - 1;		/* its newline */
	offs[n++] = w + wlen;			/* the next line */
	offs[n++] = line_start(s, s->count - 1);
	offs[n++] = s->size - 1;
	offs[n++] = s->size;
	offs[n++] = s->size + 100;
	return n;
}
#define MAX_EDGES 24

/* ------------------------------------------------------------------ */
/* dmesg                                                              */
/* ------------------------------------------------------------------ */

/* /dev/kmsg positioned after every record so far. */
static int kmsg_open(struct __test_metadata *_metadata)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open /dev/kmsg: %s", strerror(errno));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
	return fd;
}

/* True if a record logged since the last call holds needle. */
static bool kmsg_has(int fd, const char *needle)
{
	char rec[2048];
	bool found = false;
	ssize_t r;

	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)
			continue;
		if (r <= 0)
			break;
		rec[r] = '\0';
		if (strstr(rec, needle))
			found = true;
	}
	return found;
}

/* ------------------------------------------------------------------ */
/* The equivalence checks, on mirror and mirror_copy                  */
/* ------------------------------------------------------------------ */

/*
 * Whole file by read() in chunks: the reference on both files, EOF stays
 * EOF; mirror counts one open and its bytes as read, nothing gifted;
 * mirror_copy leaves the engine's stats alone.
 */
static void check_read_chunks(struct __test_metadata *_metadata,
			      const struct stream *ref, size_t chunk)
{
	size_t cap = ref->size + chunk, got, k;
	unsigned char *out = malloc(cap);
	struct stats a, b;

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		int fd;

		read_stats(_metadata, &a);
		fd = open_file(_metadata, mirror_files[k]);
		got = read_to_eof(_metadata, fd, out, cap, chunk);
		ASSERT_EQ(ref->size, got) {
			TH_LOG("%s read(%zu): EOF after %zu of %zu bytes",
			       mirror_files[k], chunk, got, ref->size);
		}
		ASSERT_TRUE(model_matches(_metadata, ref, mirror_files[k], 0,
					  out, got));
		ASSERT_EQ(0, read(fd, out, chunk));
		ASSERT_EQ((off_t)ref->size, lseek(fd, 0, SEEK_CUR));
		close(fd);
		read_stats(_metadata, &b);
		ASSERT_EQ(is_gift(mirror_files[k]) ? (long long)got : 0,
			  stat_delta(&a, &b, ST_BYTES_READ));
		ASSERT_EQ(is_gift(mirror_files[k]) ? 1 : 0,
			  stat_delta(&a, &b, ST_OPENS));
		ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
	}
	free(out);
}

/* pread() of 1 B, 100 B and 8 KiB at every edge, on one fd, both files. */
static void check_pread_edges(struct __test_metadata *_metadata,
			      const struct stream *ref)
{
	static const size_t lens[] = { 1, 100, 2 * PG };
	int64_t offs[MAX_EDGES];
	size_t n = edge_offsets(_metadata, ref, offs), k;
	unsigned char buf[2 * PG];

	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		int fd = open_file(_metadata, mirror_files[k]);

		pread_grid(_metadata, fd, ref, mirror_files[k], offs, n, lens,
			   ARRAY_SIZE(lens), buf);
		/* pread leaves the file position alone */
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		close(fd);
	}
}

/*
 * lseek() then read(): SEEK_SET to every edge, SEEK_CUR forward and back;
 * SEEK_END and a negative result EINVAL (seq_lseek's semantics on both).
 */
static void check_lseek(struct __test_metadata *_metadata,
			const struct stream *ref)
{
	int64_t offs[MAX_EDGES];
	size_t n = edge_offsets(_metadata, ref, offs), i, k, got;
	unsigned char buf[300];

	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		const char *f = mirror_files[k];
		int fd = open_file(_metadata, f);
		off_t pos;

		for (i = 0; i < n; i++) {
			ASSERT_EQ(offs[i], lseek(fd, offs[i], SEEK_SET));
			got = read_full(_metadata, fd, buf, 200);
			ASSERT_EQ(expected_count(ref, offs[i], 200), got) {
				TH_LOG("%s lseek(%lld) + read", f,
				       (long long)offs[i]);
			}
			ASSERT_TRUE(model_matches(_metadata, ref, f, offs[i],
						  buf, got));
			ASSERT_EQ(offs[i] + (off_t)got, lseek(fd, 0, SEEK_CUR));
		}
		ASSERT_EQ((off_t)PG, lseek(fd, PG, SEEK_SET));
		ASSERT_EQ((off_t)PG + 300, lseek(fd, 300, SEEK_CUR));
		ASSERT_EQ(300U, read_full(_metadata, fd, buf, 300));
		ASSERT_TRUE(model_matches(_metadata, ref, f, PG + 300, buf,
					  300));
		pos = lseek(fd, -(off_t)(PG + 100), SEEK_CUR);
		ASSERT_EQ((off_t)500, pos);
		ASSERT_EQ(300U, read_full(_metadata, fd, buf, 300));
		ASSERT_TRUE(model_matches(_metadata, ref, f, 500, buf, 300));
		ASSERT_EQ((off_t)800, lseek(fd, 0, SEEK_CUR));
		errno = 0;
		ASSERT_EQ(-1, lseek(fd, 0, SEEK_END));
		ASSERT_EQ(EINVAL, errno);
		errno = 0;
		ASSERT_EQ(-1, lseek(fd, -801, SEEK_CUR));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ((off_t)800, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, ref, f, 800, buf, 100));
		close(fd);
	}
}

/*
 * splice() of len-byte calls to EOF into a pipe of `slots` pages, at the
 * file position (off_in NULL; f_pos ends at the size) or with off_in from
 * mid-line 3 (f_pos, 10 after a read, untouched): the reference; for
 * mirror, bytes_spliced is the bytes and pages_gifted at least a pipe
 * buffer per page of each call's count; for mirror_copy nothing counted.
 */
static void check_splice(struct __test_metadata *_metadata,
			 const struct stream *ref, size_t len,
			 unsigned int slots, bool off_in)
{
	const size_t start = off_in ? line_start(ref, 3) + 5 : 0;
	size_t cap = ref->size + len, got, pcap, k;
	unsigned char *out = malloc(cap), head[10];
	struct stats a, b;
	int p[2];

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		const char *f = mirror_files[k];
		struct tally t = { 0 };
		int fd = open_file(_metadata, f);
		int64_t off = start;
		loff_t o;

		pcap = make_pipe(_metadata, p, slots);
		if (off_in) {
			ASSERT_EQ(10U, read_full(_metadata, fd, head, 10));
		}
		read_stats(_metadata, &a);
		got = splice_to_eof(_metadata, fd, off_in ? &off : NULL, p,
				    pcap, len, out, cap, &t);
		read_stats(_metadata, &b);
		ASSERT_EQ(ref->size - start, got) {
			TH_LOG("%s splice(%zu%s): EOF after %zu of %zu bytes",
			       f, len, off_in ? ", off_in" : "", got,
			       ref->size - start);
		}
		ASSERT_TRUE(model_matches(_metadata, ref, f, start, out, got));
		if (off_in) {
			ASSERT_EQ((int64_t)ref->size, off);
			o = off;
			ASSERT_EQ(0, splice(fd, &o, p[1], NULL, len, 0));
			ASSERT_EQ(10, lseek(fd, 0, SEEK_CUR));
		} else {
			ASSERT_EQ((off_t)ref->size, lseek(fd, 0, SEEK_CUR));
			ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, len, 0));
		}
		ASSERT_EQ(0, pipe_bytes(p[0]));
		if (is_gift(f)) {
			ASSERT_EQ((long long)got,
				  stat_delta(&a, &b, ST_BYTES_SPLICED));
			ASSERT_LE((long long)t.min_bufs,
				  stat_delta(&a, &b, ST_PAGES_GIFTED)) {
				TH_LOG("mirror splice(%zu) of %zu bytes in %zu calls gifted %lld pages",
				       len, got, t.calls,
				       stat_delta(&a, &b, ST_PAGES_GIFTED));
			}
		} else {
			ASSERT_EQ(0, stat_delta(&a, &b, ST_BYTES_SPLICED));
			ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
		}
		close(fd);
		close_pipe(p);
	}
	free(out);
}

/*
 * splice() of 4 KiB into a one-page pipe and (cases 2) of 8 KiB into a
 * 16-page pipe from every edge, with off_in (f_pos untouched) and after an
 * lseek (f_pos advanced): the reference.
 */
static void check_splice_edges(struct __test_metadata *_metadata,
			       const struct stream *ref, size_t cases)
{
	static const struct { size_t len; unsigned int slots; } c[] = {
		{ PG, 1 }, { 2 * PG, 16 },
	};
	int64_t offs[MAX_EDGES];
	size_t n = edge_offsets(_metadata, ref, offs), i, j, k, pcap, got;
	unsigned char buf[2 * PG];
	int p[2];

	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		const char *f = mirror_files[k];
		int fd = open_file(_metadata, f);

		for (j = 0; j < ARRAY_SIZE(c) && j < cases; j++) {
			pcap = make_pipe(_metadata, p, c[j].slots);
			for (i = 0; i < n; i++) {
				int64_t off = offs[i];
				off_t pos = lseek(fd, 0, SEEK_CUR);

				got = splice_full(_metadata, fd, &off, p, pcap,
						  buf, c[j].len);
				ASSERT_EQ(expected_count(ref, offs[i],
							 c[j].len), got) {
					TH_LOG("%s splice(%zu, off_in %lld)",
					       f, c[j].len, (long long)offs[i]);
				}
				ASSERT_TRUE(model_matches(_metadata, ref, f,
							  offs[i], buf, got));
				ASSERT_EQ(pos, lseek(fd, 0, SEEK_CUR));

				ASSERT_EQ(offs[i], lseek(fd, offs[i], SEEK_SET));
				got = splice_full(_metadata, fd, NULL, p, pcap,
						  buf, c[j].len);
				ASSERT_EQ(expected_count(ref, offs[i],
							 c[j].len), got) {
					TH_LOG("%s lseek(%lld) + splice(%zu)",
					       f, (long long)offs[i], c[j].len);
				}
				ASSERT_TRUE(model_matches(_metadata, ref, f,
							  offs[i], buf, got));
				ASSERT_EQ(offs[i] + (off_t)got,
					  lseek(fd, 0, SEEK_CUR));
			}
			close_pipe(p);
		}
		close(fd);
	}
}

/*
 * sendfile() to a tmpfs file until it returns 0: the file holds the
 * reference; mirror's bytes count as spliced and gift pages (to the
 * internal pipe of splice_direct), mirror_copy's do not.
 */
static void check_sendfile_tmpfs(struct __test_metadata *_metadata,
				 const struct stream *ref)
{
	size_t k, len;

	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		const char *f = mirror_files[k];
		int fd = open_file(_metadata, f), out;
		unsigned char *back;
		struct stats a, b;
		size_t total = 0;
		ssize_t r;

		out = open(OUT, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ASSERT_LE(0, out) TH_LOG("open %s: %s", OUT, strerror(errno));
		read_stats(_metadata, &a);
		while ((r = sendfile(out, fd, NULL, 3 * PG + 17)) > 0)
			total += r;
		ASSERT_EQ(0, r) {
			TH_LOG("%s sendfile: %s", f, strerror(errno));
		}
		read_stats(_metadata, &b);
		close(out);
		close(fd);
		ASSERT_EQ(ref->size, total);
		back = slurp(_metadata, OUT, &len);
		ASSERT_EQ(ref->size, len);
		ASSERT_TRUE(model_matches(_metadata, ref, f, 0, back, len));
		free(back);
		unlink(OUT);
		ASSERT_EQ(is_gift(f) ? (long long)total : 0,
			  stat_delta(&a, &b, ST_BYTES_SPLICED));
		if (is_gift(f)) {
			ASSERT_LE((long long)div_up(total, PG),
				  stat_delta(&a, &b, ST_PAGES_GIFTED));
		} else {
			ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
		}
	}
}

/*
 * Every check above: what test 2 runs on each other target; the ones that
 * read from the first record on before those that regenerate at an offset.
 */
static void check_everything(struct __test_metadata *_metadata,
			     const struct stream *ref)
{
	check_read_chunks(_metadata, ref, 4096);
	check_read_chunks(_metadata, ref, 1 << 20);
	check_splice(_metadata, ref, PG, 1, false);
	check_splice(_metadata, ref, 1 << 20, 256, false);
	check_sendfile_tmpfs(_metadata, ref);
	check_splice(_metadata, ref, 1 << 16, 16, true);
	check_splice(_metadata, ref, 1 << 20, 256, true);
	check_pread_edges(_metadata, ref);
	check_lseek(_metadata, ref);
	check_splice_edges(_metadata, ref, 1);
}

/* mirror_path reads want and a newline. */
static void path_is(struct __test_metadata *_metadata, const char *want)
{
	char got[512], exp[512];

	snprintf(exp, sizeof(exp), "%s\n", want);
	ASSERT_LE(0, knob_read(MIRROR_PATH, got, sizeof(got)));
	ASSERT_STREQ(exp, got);
}

static void set_path(struct __test_metadata *_metadata, const char *p)
{
	set_knob(_metadata, MIRROR_PATH, p);
	path_is(_metadata, p);
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                           */
/* ------------------------------------------------------------------ */

/* setup of both fixtures: the module, the capture in base, the reference. */
static void capture_setup(struct __test_metadata *_metadata,
			 struct ftrace_state *st, struct stream *ref,
			 const char *base)
{
	char why[600], path[256];

	common_setup(_metadata);
	memset(st, 0, sizeof(*st));
	if (capture_quiet(st, base, why, sizeof(why))) {
		restore_quiet(st);
		ASSERT_TRUE(false) TH_LOG("%s", why);
	}
	snprintf(path, sizeof(path), "%s/trace", base);
	reference(_metadata, path, ref);
	set_path(_metadata, path);
}

static void capture_teardown(struct __test_metadata *_metadata,
			    struct ftrace_state *st)
{
	unlink(FIFO);
	unlink(LINK);
	unlink(OUT);
	unlink(TMP_DIR "/trace");
	rmdir(TMP_DIR);
	if (restore_quiet(st)) {
		TH_LOG("teardown: cannot put back tracefs or mirror_path (instance %d, trace mode %d)",
		       st->instance, st->chmodded);
		_metadata->exit_code = KSFT_FAIL;
	}
	common_teardown(_metadata);
}

FIXTURE(mirror) {
	struct ftrace_state st;
	struct stream ref;
};
FIXTURE_SETUP(mirror)
{
	capture_setup(_metadata, &self->st, &self->ref, TRACING);
}

FIXTURE_TEARDOWN_PARENT(mirror)
{
	capture_teardown(_metadata, &self->st);
}

FIXTURE(instance) {
	struct ftrace_state st;
	struct stream ref;
};
FIXTURE_SETUP(instance)
{
	capture_setup(_metadata, &self->st, &self->ref, INST);
}

FIXTURE_TEARDOWN_PARENT(instance)
{
	capture_teardown(_metadata, &self->st);
}

/* ------------------------------------------------------------------ */
/* 1. mirror and mirror_copy are ftrace's trace                       */
/* ------------------------------------------------------------------ */

/*
 * The fixture's capture: a frozen top-level trace with the header, sched
 * events and the marker's line wider than a page, mirror_path the default.
 */
TEST_F(mirror, capture_is_frozen_with_a_line_wider_than_a_page)
{
	size_t wlen, w = wide_line(&self->ref, &wlen);

	ASSERT_LT(PG, wlen);
	ASSERT_TRUE(!memcmp(self->ref.buf, "# tracer: nop\n", 14));
	ASSERT_NE(NULL, memmem(self->ref.buf + w, wlen, CAPTURE_TAG,
			       strlen(CAPTURE_TAG)));
	ASSERT_NE(NULL, memmem(self->ref.buf, self->ref.size, "sched_switch: ", 14));
	ASSERT_NE(NULL, memmem(self->ref.buf, self->ref.size, "sched_wakeup: ", 14));
	path_is(_metadata, DEF_MIRROR);
	printf("# reference: %zu bytes, %llu lines, the marker's %zu bytes at %zu\n",
	       self->ref.size, (unsigned long long)self->ref.count, wlen, w);
}

TEST_F(mirror, read_in_chunks_of_7_4096_65536_1m_matches_trace)
{
	check_read_chunks(_metadata, &self->ref, 7);
	check_read_chunks(_metadata, &self->ref, 4096);
	check_read_chunks(_metadata, &self->ref, 65536);
	check_read_chunks(_metadata, &self->ref, 1 << 20);
}

TEST_F(mirror, pread_at_line_page_wide_line_and_eof_edges_matches_trace)
{
	check_pread_edges(_metadata, &self->ref);
}

TEST_F(mirror, lseek_set_and_cur_then_read_matches_trace)
{
	check_lseek(_metadata, &self->ref);
}

/*
 * 4 KiB into a one-page pipe, 64 KiB and 1 MiB (a 1 MiB pipe). C tables
 * are mapped in auto at every size; map_mode=direct fills them page by
 * page (check.sh runs the suite in direct, vm_map_ram and vmap).
 */
TEST_F(mirror, splice_4k_64k_1m_with_and_without_off_in_matches_and_gifts)
{
	check_splice(_metadata, &self->ref, PG, 1, false);
	check_splice(_metadata, &self->ref, PG, 1, true);
	check_splice(_metadata, &self->ref, 1 << 16, 16, false);
	check_splice(_metadata, &self->ref, 1 << 16, 16, true);
	check_splice(_metadata, &self->ref, 1 << 20, 256, false);
	check_splice(_metadata, &self->ref, 1 << 20, 256, true);
}

/*
 * A call at another position right after a splice that stopped ftrace's
 * iterator at a line that did not fit (the end of a one-page pipe): pread
 * at a page, mid-way and just before the wide line (no regeneration
 * crosses it here: the edge tests do), then lseek to 0 and read to EOF, all
 * on the same fd: the reference. ftrace keeps such a line for the same
 * position (s_show()'s leftover); a seek elsewhere must not print it.
 */
TEST_F(mirror, pread_and_lseek_elsewhere_after_a_splice_match_trace)
{
	const struct stream *ref = &self->ref;
	size_t wlen, w = wide_line(ref, &wlen);
	const int64_t offs[] = { PG, w / 2, w - 150 };
	size_t k, i, cap = ref->size + PG, got;
	unsigned char *out = malloc(cap), buf[100];
	int p[2];

	ASSERT_NE(NULL, out);
	ASSERT_LT(2 * PG, w);
	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		const char *f = mirror_files[k];
		int fd = open_file(_metadata, f);

		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			ssize_t r;

			make_pipe(_metadata, p, 1);
			r = splice(fd, NULL, p[1], NULL, PG, 0);
			ASSERT_LT(0, r) TH_LOG("%s splice: %s", f, strerror(errno));
			close_pipe(p);
			got = pread_full(_metadata, fd, buf, sizeof(buf), offs[i]);
			ASSERT_EQ(expected_count(ref, offs[i], sizeof(buf)), got) {
				TH_LOG("%s: splice(4096), then pread(100) at %lld of %zu",
				       f, (long long)offs[i], ref->size);
			}
			ASSERT_TRUE(model_matches(_metadata, ref, f, offs[i], buf,
						  got)) {
				TH_LOG("%s: splice(4096) at %lld, then pread(100) at %lld",
				       f, (long long)lseek(fd, 0, SEEK_CUR) - r,
				       (long long)offs[i]);
			}
		}
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		got = read_to_eof(_metadata, fd, out, cap, PG);
		ASSERT_EQ(ref->size, got);
		ASSERT_TRUE(model_matches(_metadata, ref, f, 0, out, got));
		close(fd);
	}
	free(out);
}

TEST_F(mirror, splice_from_line_page_wide_line_and_eof_edges_matches)
{
	check_splice_edges(_metadata, &self->ref, 2);
}

TEST_F(mirror, sendfile_to_a_tmpfs_file_matches_trace)
{
	check_sendfile_tmpfs(_metadata, &self->ref);
}

/* ------------------------------------------------------------------ */
/* 2. other targets: per_cpu/cpu0/trace, an instance, debugfs's alias */
/* ------------------------------------------------------------------ */

TEST_F(mirror, per_cpu_cpu0_trace_through_mirror_matches_it)
{
	struct stream cpu0;

	ASSERT_EQ(0, cpu_stats_field(TRACING, "overrun", true));
	reference(_metadata, CPU0_TRACE, &cpu0);
	set_path(_metadata, CPU0_TRACE);
	check_everything(_metadata, &cpu0);
	free(cpu0.buf);
}

TEST_F(instance, instance_trace_through_mirror_matches_it)
{
	ASSERT_NE(NULL, memmem(self->ref.buf, self->ref.size, CAPTURE_TAG,
			       strlen(CAPTURE_TAG)));
	check_everything(_metadata, &self->ref);
}

/*
 * /sys/kernel/debug/tracing is tracefs automounted under debugfs: the
 * same trace through another path, on the allow-list (the check is the
 * file's filesystem, not the path's spelling).
 */
TEST_F(mirror, debugfs_tracing_automount_is_the_same_tracefs)
{
	struct statfs sf;
	unsigned char *got;
	size_t len;

	ASSERT_EQ(0, statfs("/sys/kernel/debug/tracing/trace", &sf)) {
		TH_LOG("statfs /sys/kernel/debug/tracing/trace: %s",
		       strerror(errno));
	}
	ASSERT_EQ(TRACEFS_MAGIC, (long)sf.f_type);
	set_path(_metadata, "/sys/kernel/debug/tracing/trace");
	got = read_whole_file_quiet(MNT "/" MIRROR, &len);
	ASSERT_NE(NULL, got) TH_LOG("read mirror: %s", strerror(errno));
	ASSERT_EQ(self->ref.size, len);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, MIRROR, 0, got, len));
	free(got);
}

/* ------------------------------------------------------------------ */
/* 3. lifetimes                                                       */
/* ------------------------------------------------------------------ */

/*
 * An open mirror_copy, then an open mirror, pins the instance (the
 * target's open takes ftrace's trace_array_get()): rmdir is EBUSY. Pages
 * spliced from mirror (from the start on one open, with off_in on
 * another) keep their bytes after both are closed, the instance is removed
 * (rmdir succeeds once they are closed) and user memory is churned;
 * mirror_path still names the instance, and opens then fail ENOENT (the
 * lookup) with a dmesg line.
 */
TEST_F(instance, open_mirror_pins_the_instance_and_spliced_pages_outlive_it)
{
	const size_t off2 = line_start(&self->ref, 5) + 3;
	unsigned char *got = malloc(65536), buf[100];
	int p1[2], p2[2], fd, fd2, k, kmsg;
	loff_t o = off2;
	ssize_t r1, r2;

	ASSERT_NE(NULL, got);
	fd = open_file(_metadata, MIRROR_COPY);
	ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
	errno = 0;
	ASSERT_EQ(-1, rmdir(INST)) TH_LOG("rmdir with mirror_copy open");
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
	ASSERT_TRUE(model_matches(_metadata, &self->ref, MIRROR_COPY, 100, buf,
				  100));
	close(fd);

	make_pipe(_metadata, p1, 16);
	make_pipe(_metadata, p2, 16);
	fd = open_file(_metadata, MIRROR);
	fd2 = open_file(_metadata, MIRROR);
	r1 = splice(fd, NULL, p1[1], NULL, 65536, 0);
	ASSERT_LT(0, r1) TH_LOG("splice: %s", strerror(errno));
	r2 = splice(fd2, &o, p2[1], NULL, 65536, 0);
	ASSERT_LT(0, r2) TH_LOG("splice off_in: %s", strerror(errno));
	errno = 0;
	ASSERT_EQ(-1, rmdir(INST)) TH_LOG("rmdir with mirror open");
	ASSERT_EQ(EBUSY, errno);
	close(fd);
	errno = 0;
	ASSERT_EQ(-1, rmdir(INST)) TH_LOG("rmdir with one mirror open");
	ASSERT_EQ(EBUSY, errno);
	close(fd2);
	ASSERT_EQ(0, rmdir(INST)) {
		TH_LOG("rmdir %s after closing mirror: %s", INST,
		       strerror(errno));
	}
	self->st.instance = false;
	churn_user_memory();
	ASSERT_EQ(r1, pipe_bytes(p1[0]));
	ASSERT_EQ(r2, pipe_bytes(p2[0]));
	drain_exact(_metadata, p1[0], got, r1);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, "pipe 1", 0, got, r1));
	drain_exact(_metadata, p2[0], got, r2);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, "pipe 2", off2, got,
				  r2));
	close_pipe(p1);
	close_pipe(p2);
	free(got);

	path_is(_metadata, INST "/trace");
	kmsg = kmsg_open(_metadata);
	for (k = 0; k < (int)ARRAY_SIZE(mirror_files); k++) {
		char path[256];

		knob_path(path, sizeof(path), mirror_files[k]);
		errno = 0;
		ASSERT_EQ(-1, open(path, O_RDONLY | O_CLOEXEC));
		ASSERT_EQ(ENOENT, errno);
	}
	ASSERT_TRUE(kmsg_has(kmsg, "refused: lookup failed"));
	close(kmsg);
}

/* ------------------------------------------------------------------ */
/* 4. refused targets                                                 */
/* ------------------------------------------------------------------ */

/* A regular debugfs file (not under tracing/), depth 1 or 2. */
static bool find_debugfs_file(char *out, size_t n)
{
	static const char *const top = "/sys/kernel/debug";
	struct dirent *de, *de2;
	DIR *d, *d2;
	bool found = false;

	d = opendir(top);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char p[512];
		struct stat st;
		struct statfs sf;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "tracing"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", top, de->d_name);
		if (lstat(p, &st) || statfs(p, &sf) ||
		    sf.f_type != DEBUGFS_MAGIC)
			continue;
		if (S_ISREG(st.st_mode)) {
			snprintf(out, n, "%s", p);
			found = true;
			break;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		d2 = opendir(p);
		while (d2 && !found && (de2 = readdir(d2))) {
			char q[1024];

			if (de2->d_name[0] == '.')
				continue;
			snprintf(q, sizeof(q), "%s/%s", p, de2->d_name);
			if (!lstat(q, &st) && S_ISREG(st.st_mode) &&
			    !statfs(q, &sf) && sf.f_type == DEBUGFS_MAGIC &&
			    strlen(q) < n) {
				snprintf(out, n, "%s", q);
				found = true;
			}
		}
		if (d2)
			closedir(d2);
	}
	closedir(d);
	return found;
}

/* A writer's non-blocking open of the FIFO: ENXIO while no reader has it. */
static void fifo_has_no_reader(struct __test_metadata *_metadata)
{
	int fd;

	errno = 0;
	fd = open(FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd) TH_LOG("%s has a reader", FIFO);
	ASSERT_EQ(ENXIO, errno);
}

/* A path of exactly len bytes naming trace (extra slashes in front). */
static void long_trace_path(char *out, size_t len)
{
	size_t pre = strlen(TRACING), tail = strlen("/trace"), i;

	memcpy(out, TRACING, pre);
	for (i = pre; i < len - tail; i++)
		out[i] = '/';
	memcpy(out + len - tail, "/trace", tail);
	out[len] = '\0';
}

struct refusal {
	const char *what;
	const char *path;	/* written as is (len bytes) */
	size_t len;		/* 0: strlen(path) */
	int err;
	const char *dmesg;	/* in the log line */
};

/*
 * One refused write: exactly -1 and err, mirror_path unchanged (still
 * `keep`), the reason logged.
 */
static void refuse(struct __test_metadata *_metadata, const struct refusal *r,
		   const char *keep)
{
	size_t len = r->len ? r->len : strlen(r->path);
	int kmsg = kmsg_open(_metadata);
	ssize_t w;

	errno = 0;
	w = knob_write(MIRROR_PATH, r->path, len);
	ASSERT_EQ(-1, w) {
		TH_LOG("%s: writing %zu bytes to mirror_path returned %zd",
		       r->what, len, w);
	}
	ASSERT_EQ(r->err, errno) {
		TH_LOG("%s: errno %s, want %s", r->what, strerror(errno),
		       strerror(r->err));
	}
	path_is(_metadata, keep);
	ASSERT_TRUE(kmsg_has(kmsg, r->dmesg)) {
		TH_LOG("%s: no \"%s\" in dmesg", r->what, r->dmesg);
	}
	close(kmsg);
}

/*
 * Every refused target, from an accepted non-default path (per_cpu/cpu0),
 * which mirror_path keeps and mirror still serves after. EINVAL for all
 * that lookup finds but the allow-list refuses (not tracefs, not a regular
 * file, not named trace, not absolute, too long, a NUL); ENOENT where the
 * lookup itself fails: "trace\n\n" loses one newline and names "trace\n",
 * which no directory holds, so the errno is the lookup's, honestly.
 * trace_pipe and the FIFO are shown unopened: the CPUs' entries are the
 * same after (a trace_pipe reader consumes), trace_pipe then still gives
 * its events, and the FIFO still has no reader (a writer's non-blocking
 * open is ENXIO).
 */
/*
 * Pages mirror gave to a pipe outlive the file, the target and the module:
 * splice, close, umount and rmmod seqsplice, then the pipe still holds
 * ftrace's bytes; the module loads again with nothing held.
 */
TEST_F(mirror, rmmod_with_mirror_pages_in_a_pipe_then_drain_matches_trace)
{
	size_t n = 0, want = self->ref.size < 65536 ? self->ref.size : 65536;
	unsigned char *buf = malloc(want);
	int p[2], fd;

	ASSERT_NE(NULL, buf);
	make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, MIRROR);
	while (n < want) {
		ssize_t r = splice(fd, NULL, p[1], NULL, want - n, 0);

		ASSERT_LT(0, r) TH_LOG("splice: %s", strerror(errno));
		n += r;
	}
	close(fd);
	unload_module(_metadata);
	ASSERT_EQ(n, read_full(_metadata, p[0], buf, n));
	ASSERT_TRUE(model_matches(_metadata, &self->ref, "pipe after rmmod", 0,
				  buf, n));
	close_pipe(p);
	load_module(_metadata);
	ASSERT_EQ(0, read_stat("pages_held"));
	free(buf);
}

TEST_F(mirror, refused_targets_keep_mirror_path_and_open_nothing)
{
	char dbg[1024], p256[300], p255[300];
	long long before[64], after;
	struct stream cpu0;
	unsigned char buf[4096];
	int cpu, ncpu, fd;
	size_t i, len;
	unsigned char *got;
	const struct refusal plain[] = {
		{ "trace_pipe", TRACING "/trace_pipe", 0, EINVAL,
		  "trace_pipe: refused: not a trace file" },
		{ "/proc/kallsyms", "/proc/kallsyms", 0, EINVAL,
		  "/proc/kallsyms: refused: not on tracefs" },
		{ "a FIFO in /tmp", FIFO, 0, EINVAL,
		  FIFO ": refused: not on tracefs" },
		{ "a tmpfs regular file named trace", TMP_DIR "/trace", 0,
		  EINVAL, TMP_DIR "/trace: refused: not on tracefs" },
		{ "a directory", TRACING "/instances", 0, EINVAL,
		  "/instances: refused: not a regular file" },
		{ "a relative path", "trace", 0, EINVAL,
		  "trace: refused: not an absolute path" },
		{ "a newline alone", "\n", 0, EINVAL,
		  "refused: not an absolute path" },
		{ "a symlink to trace_pipe", LINK, 0, EINVAL,
		  LINK ": refused: not a trace file" },
		{ "a missing file", TRACING "/no_such_dir/trace", 0, ENOENT,
		  "no_such_dir/trace: refused: lookup failed" },
		{ "two trailing newlines", TRACING "/trace\n\n", 0, ENOENT,
		  "refused: lookup failed" },
		{ "a NUL inside", DEF_MIRROR "\0/x", sizeof(DEF_MIRROR) + 2,
		  EINVAL, "mirror_path: refused: too long or holds a NUL" },
		{ "a 256-byte path", p256, 256, EINVAL,
		  "mirror_path: refused: too long or holds a NUL" },
		{ "a 257-byte write", p256, 257, EINVAL,
		  "write of 257 bytes refused: too long" },
		{ "a debugfs file", dbg, 0, EINVAL,
		  ": refused: not on tracefs" },
	};

	ASSERT_TRUE(find_debugfs_file(dbg, sizeof(dbg))) {
		TH_LOG("no regular debugfs file under /sys/kernel/debug");
	}
	printf("# debugfs file: %s\n", dbg);
	long_trace_path(p256, 256);
	p256[256] = '\n';	/* the 257th byte of the 257-byte write */
	long_trace_path(p255, 255);
	ASSERT_EQ(0, mkfifo(FIFO, 0600));
	ASSERT_EQ(0, mkdir(TMP_DIR, 0700));
	fd = open(TMP_DIR "/trace", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		  0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(11, write(fd, "not ftrace\n", 11));
	close(fd);
	ASSERT_EQ(0, symlink(TRACING "/trace_pipe", LINK));

	/* accepted: one trailing newline, and 255 bytes (with one too) */
	set_knob(_metadata, MIRROR_PATH, DEF_MIRROR "\n");
	path_is(_metadata, DEF_MIRROR);
	set_path(_metadata, p255);
	snprintf((char *)buf, sizeof(buf), "%s\n", p255);
	set_knob(_metadata, MIRROR_PATH, (char *)buf);
	path_is(_metadata, p255);
	got = read_whole_file_quiet(MNT "/" MIRROR, &len);
	ASSERT_NE(NULL, got) TH_LOG("mirror of %s: %s", p255, strerror(errno));
	ASSERT_EQ(self->ref.size, len);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, MIRROR, 0, got, len));
	free(got);

	reference(_metadata, CPU0_TRACE, &cpu0);
	set_path(_metadata, CPU0_TRACE);
	for (ncpu = 0; ncpu < 64; ncpu++) {
		before[ncpu] = cpu_entries(TRACING, ncpu);
		if (before[ncpu] < 0)
			break;
	}
	ASSERT_LT(0, ncpu);
	for (i = 0; i < ARRAY_SIZE(plain); i++)
		refuse(_metadata, &plain[i], CPU0_TRACE);

	/* nothing opened the FIFO or trace_pipe */
	fifo_has_no_reader(_metadata);
	for (cpu = 0; cpu < ncpu; cpu++) {
		after = cpu_entries(TRACING, cpu);
		ASSERT_EQ(before[cpu], after) {
			TH_LOG("cpu%d's entries went from %lld to %lld", cpu,
			       before[cpu], after);
		}
	}
	/* mirror still serves per_cpu/cpu0/trace */
	got = read_whole_file_quiet(MNT "/" MIRROR, &len);
	ASSERT_NE(NULL, got) TH_LOG("read mirror: %s", strerror(errno));
	ASSERT_EQ(cpu0.size, len);
	ASSERT_TRUE(model_matches(_metadata, &cpu0, MIRROR, 0, got, len));
	free(got);
	free(cpu0.buf);
	/* trace_pipe still has the events (this consumes them: last) */
	fd = open(TRACING "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, buf, sizeof(buf))) {
		TH_LOG("trace_pipe gave nothing: %s", strerror(errno));
	}
	close(fd);
}

/*
 * A symlink is followed at the write and checked again at every open of
 * mirror and mirror_copy: pointed at trace it is served; retargeted to the
 * FIFO or to trace_pipe, opens fail EINVAL with a dmesg line, and neither
 * is opened (the FIFO has no reader, the CPUs' entries do not change).
 */
TEST_F(mirror, symlink_retargeted_after_the_write_is_refused_at_open)
{
	static const struct { const char *to, *why; } retarget[] = {
		{ FIFO, "refused: not on tracefs" },
		{ TRACING "/trace_pipe", "refused: not a trace file" },
	};
	long long e0 = cpu_stats_field(TRACING, "entries", false);
	unsigned char *got;
	size_t len, i, k;

	ASSERT_EQ(0, mkfifo(FIFO, 0600));
	ASSERT_EQ(0, symlink(DEF_MIRROR, LINK));
	set_path(_metadata, LINK);
	got = read_whole_file_quiet(MNT "/" MIRROR, &len);
	ASSERT_NE(NULL, got) TH_LOG("read mirror: %s", strerror(errno));
	ASSERT_EQ(self->ref.size, len);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, MIRROR, 0, got, len));
	free(got);
	for (i = 0; i < ARRAY_SIZE(retarget); i++) {
		ASSERT_EQ(0, unlink(LINK));
		ASSERT_EQ(0, symlink(retarget[i].to, LINK));
		for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
			int kmsg = kmsg_open(_metadata), fd;
			char path[256];

			knob_path(path, sizeof(path), mirror_files[k]);
			errno = 0;
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
			ASSERT_EQ(-1, fd) {
				TH_LOG("%s opened through %s -> %s",
				       mirror_files[k], LINK, retarget[i].to);
			}
			ASSERT_EQ(EINVAL, errno);
			ASSERT_TRUE(kmsg_has(kmsg, retarget[i].why)) {
				TH_LOG("no \"%s\" in dmesg", retarget[i].why);
			}
			close(kmsg);
		}
		path_is(_metadata, LINK);
	}
	fifo_has_no_reader(_metadata);
	ASSERT_EQ(e0, cpu_stats_field(TRACING, "entries", false));
}

/* ------------------------------------------------------------------ */
/* 5. credentials                                                     */
/* ------------------------------------------------------------------ */

/* Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (raw capget/capset). */
static int drop_dac_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct d[2];
	const __u32 m = 1U << CAP_DAC_OVERRIDE | 1U << CAP_DAC_READ_SEARCH;

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[0].effective &= ~m;
	d[0].permitted &= ~m;
	d[0].inheritable &= ~m;
	if (syscall(SYS_capset, &h, d))
		return -1;
	/* really gone */
	if (syscall(SYS_capget, &h, d) || (d[0].effective & m))
		return -1;
	return 0;
}

/*
 * The child of the credentials test: uid 0 without the DAC capabilities.
 * trace_readable: trace has its normal mode (0640), so mirror opens and
 * serves it and mirror_path takes its path; else (mode 000) mirror and
 * mirror_copy fail EACCES at the target's own check, and writing trace's
 * path to mirror_path is EACCES (the writer may not read it).
 */
static void no_dac_child(struct __test_metadata *_metadata,
			 const struct stream *ref, bool trace_readable)
{
	char text[64];
	size_t k, len;

	ASSERT_EQ(0, drop_dac_caps()) TH_LOG("capset: %s", strerror(errno));
	ASSERT_LE(0, read_small_file(MNT "/stats", text, sizeof(text))) {
		TH_LOG("stats: %s", strerror(errno));
	}
	for (k = 0; k < ARRAY_SIZE(mirror_files); k++) {
		char path[256];
		unsigned char *got;

		knob_path(path, sizeof(path), mirror_files[k]);
		got = read_whole_file_quiet(path, &len);
		if (trace_readable) {
			ASSERT_NE(NULL, got) {
				TH_LOG("%s: %s", path, strerror(errno));
			}
			ASSERT_EQ(ref->size, len);
			ASSERT_TRUE(model_matches(_metadata, ref,
						  mirror_files[k], 0, got,
						  len));
			free(got);
		} else {
			ASSERT_EQ(NULL, got) {
				TH_LOG("%s opened with trace at mode 000",
				       path);
			}
			ASSERT_EQ(EACCES, errno);
		}
	}
	/*
	 * mirror_path is root's, 0600: its owner opens it for writing
	 * without CAP_DAC_OVERRIDE (knob_write() is -2 when the open fails);
	 * the write is then checked against the writer's right to read.
	 */
	errno = 0;
	if (trace_readable) {
		ASSERT_EQ((ssize_t)strlen(DEF_MIRROR),
			  knob_write(MIRROR_PATH, DEF_MIRROR,
				     strlen(DEF_MIRROR)));
	} else {
		ASSERT_EQ(-1, knob_write(MIRROR_PATH, DEF_MIRROR,
					 strlen(DEF_MIRROR)));
		ASSERT_EQ(EACCES, errno);
	}
}

TEST_F(mirror, reader_without_dac_caps_is_refused_by_the_target_itself)
{
	unsigned char *got;
	struct stat st;
	size_t len;
	pid_t pid;
	int kmsg;

	/* control: trace at its own mode, the same child reads it */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		no_dac_child(_metadata, &self->ref, true);
		_exit(0);
	}
	wait_workers(_metadata, &pid, 1, "no DAC caps, trace readable");

	ASSERT_EQ(0, stat(DEF_MIRROR, &st));
	self->st.trace_mode = st.st_mode & 07777;
	self->st.chmodded = true;
	ASSERT_EQ(0, chmod(DEF_MIRROR, 0));
	kmsg = kmsg_open(_metadata);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		no_dac_child(_metadata, &self->ref, false);
		_exit(0);
	}
	wait_workers(_metadata, &pid, 1, "no DAC caps, trace 000");
	ASSERT_TRUE(kmsg_has(kmsg, "refused: the opener may not read it"));
	close(kmsg);
	path_is(_metadata, DEF_MIRROR);
	/* root with its capabilities still reads it: the opener's creds */
	got = read_whole_file_quiet(MNT "/" MIRROR, &len);
	ASSERT_NE(NULL, got) TH_LOG("read mirror: %s", strerror(errno));
	ASSERT_EQ(self->ref.size, len);
	ASSERT_TRUE(model_matches(_metadata, &self->ref, MIRROR, 0, got, len));
	free(got);
	ASSERT_EQ(0, chmod(DEF_MIRROR, self->st.trace_mode));
	self->st.chmodded = false;
}

/*
 * uid 65534: mirror_path (0600 root) cannot be opened at all, for writing
 * or reading, nor mirror or mirror_copy (0440 root): EACCES at our own
 * inode, before any target.
 */
TEST_F(mirror, nobody_cannot_open_mirror_path_or_mirror)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static const struct { const char *f; int flags; } c[] = {
			{ MIRROR_PATH, O_WRONLY }, { MIRROR_PATH, O_RDONLY },
			{ MIRROR, O_RDONLY }, { MIRROR_COPY, O_RDONLY },
		};
		size_t i;

		ASSERT_EQ(0, setgroups(0, NULL));
		ASSERT_EQ(0, setgid(65534));
		ASSERT_EQ(0, setuid(65534));
		for (i = 0; i < ARRAY_SIZE(c); i++) {
			char path[256];
			int fd;

			knob_path(path, sizeof(path), c[i].f);
			errno = 0;
			fd = open(path, c[i].flags | O_CLOEXEC);
			ASSERT_EQ(-1, fd) TH_LOG("uid 65534 opened %s", path);
			ASSERT_EQ(EACCES, errno);
		}
		_exit(0);
	}
	wait_workers(_metadata, &pid, 1, "uid 65534");
	path_is(_metadata, DEF_MIRROR);
}

TEST_HARNESS_MAIN
