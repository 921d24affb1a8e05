// SPDX-License-Identifier: GPL-2.0
/*
 * consumer_test - seqsplice's exported C API as a module uses it: the test
 * consumer (tests/consumer/seqsplice_consumer.c, loaded from /consumer)
 * serves four seq_operations tables, each through the API (/dev/ssc_<t>,
 * seqsplice_open() from a misc device's ->open) and through the stock
 * seq_file core (/dev/ssc_<t>_copy: seq_open() or single_open(),
 * seq_read_iter, seq_lseek, copy_splice_read):
 *
 *   spin    20000 seq_printf() records of 100 bytes (2 MB), ->start to
 *           ->stop under a spinlock with IRQs off
 *   check   5000 seq_write() records of 100 bytes, every 1000th 6000; its
 *           callbacks check m->file, m->op and m->private, and its first
 *           ->show moves m->private to a second private that must persist
 *   skip    6000 records: SEQ_SKIP'd ones (after writing), empty ones (a
 *           run of 1500), lines of 40..89 bytes; ->start takes a BH lock
 *   single  single_open()'s shape: one record of 12000 bytes
 *
 * The bytes of each table are modelled here (model_*()), and the copy file
 * must give exactly them (copy.*): the API file is then held to the model,
 * in every map mode and at buffer_size_kb 4 and 1024 (written before the
 * open: knobs are read at open), under read() of 1, 7, 4096, 65536 and
 * 1 MiB, pread() at record and page edges and past EOF, lseek() (SEEK_SET,
 * SEEK_CUR, and SEEK_END's and negative offsets' errors, each call's result
 * and errno equal to the copy file's), splice() of 4 KiB..1 MiB with and
 * without off_in (the API gifting pages, the copy not) and sendfile() to a
 * file. seqsplice_private() must follow the m->private a callback set, and
 * no callback may have seen a wrong m->file, m->op or m->private (the
 * module's "bad" parameter, per open SSC_IOC_BAD).
 *
 * Lifetimes (lifetime.*): seqsplice cannot be unloaded while the consumer
 * is loaded, nor the consumer while one of its files is open; pages the
 * API gifted to a pipe keep their bytes after the file is closed and both
 * modules are unloaded; a module using the API without
 * MODULE_IMPORT_NS(SEQSPLICE) is refused by the loader.
 *
 * The cost: a seq_file regenerates from its first record for every pread
 * or seek elsewhere, and every byte is formatted again, which the debug
 * kernel (KASAN, lockdep) makes slow; this suite runs in every map mode at
 * two buffer sizes on both kernels, within make check's budget. So each
 * api test case is one table and kind of call, run in the 8 configurations
 * in turn (a failure names the one); transfers go to EOF only at 1 MiB
 * per call (spin: 2 MB, two full calls and the tail), the others stop at
 * 256 KiB (FAR; 6000 bytes for read()s of 1 and 7); pread and lseek go to
 * record and page edges within FAR, and, for the tables under 1 MiB, to
 * the last byte and past EOF. Each test prints its guest seconds as a TAP
 * comment. Conventions: tests/common/seqsplice_test.h.
 */
#include "../common/seqsplice_test.h"

#include <sys/klog.h>
#include <sys/sendfile.h>
#include <time.h>

#define CONSUMER_KO	"/consumer/seqsplice_consumer.ko"
#define NOIMPORT_KO	"/consumer/seqsplice_noimport.ko"
#define CONSUMER_MOD	"seqsplice_consumer"
#define NOIMPORT_MOD	"seqsplice_noimport"
#define PARAMS		"/sys/module/" CONSUMER_MOD "/parameters/"

/* As in seqsplice_consumer.c. */
#define SSC_IOC_PRIVATE	_IO('S', 0x51)
#define SSC_IOC_BAD	_IO('S', 0x52)

/* Where transfers of less than 1 MiB per call stop; 1- and 7-byte reads. */
#define FAR		(256 * 1024UL)
#define SMALL		6000UL

/* ------------------------------------------------------------------ */
/* The consumer module                                                 */
/* ------------------------------------------------------------------ */

/* /proc/modules' line of module `name` into line (NUL if absent). */
static bool module_line(const char *name, char *line, size_t size)
{
	size_t n = strlen(name);
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	line[0] = '\0';
	if (!f)
		return false;
	while (!found && fgets(line, size, f))
		found = !strncmp(line, name, n) && line[n] == ' ';
	fclose(f);
	if (!found)
		line[0] = '\0';
	return found;
}

static bool module_listed(const char *name)
{
	char line[512];

	return module_line(name, line, sizeof(line));
}

/* One delete_module(2), as rmmod makes it; errno kept. */
static int rmmod_once(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static void ensure_consumer(struct __test_metadata *_metadata)
{
	if (module_listed(CONSUMER_MOD))
		return;
	ASSERT_EQ(0, finit_module_path(CONSUMER_KO)) {
		TH_LOG("finit_module(%s): %s", CONSUMER_KO, strerror(errno));
	}
}

/* rmmod of the consumer, which must succeed (retried while busy). */
static void unload_consumer(struct __test_metadata *_metadata)
{
	int r = -1, i;

	for (i = 0; i < 100; i++) {
		r = rmmod_once(CONSUMER_MOD);
		if (!r || (errno != EAGAIN && errno != EBUSY))
			break;
		usleep(20000);
	}
	ASSERT_EQ(0, r) {
		TH_LOG("delete_module(%s): %s", CONSUMER_MOD, strerror(errno));
	}
	ASSERT_FALSE(module_listed(CONSUMER_MOD));
}

static long long read_number(const char *path)
{
	char text[64];

	if (read_small_file(path, text, sizeof(text)) <= 0)
		return -1;
	return strtoll(text, NULL, 10);
}

/*
 * The mismatches the consumer's callbacks saw, at the test's setup
 * (bad_baseline()): a test fails on its own, not on an earlier one's.
 */
static long long bad_at_setup;

static void bad_baseline(void)
{
	bad_at_setup = read_number(PARAMS "bad");
}

/* No callback saw a wrong m->file, m->op or m->private since the setup. */
static void assert_no_bad(struct __test_metadata *_metadata)
{
	ASSERT_EQ(bad_at_setup, read_number(PARAMS "bad")) {
		TH_LOG("the consumer's callbacks saw a wrong m->file, m->op or m->private (dmesg: \"BAD ...\")");
	}
}

/* ------------------------------------------------------------------ */
/* The model of each table                                             */
/* ------------------------------------------------------------------ */

/* A table's bytes, and where its records (the non-empty ones) start. */
struct model {
	struct stream s;	/* buf, size; count: records */
	size_t *starts;		/* starts[0..count), starts[count] = size */
	bool check;		/* the table that moves m->private */
};

static size_t put_letters(unsigned char *p, size_t n, unsigned long first)
{
	size_t k;

	for (k = 0; k < n; k++)
		p[k] = 'a' + (first + k) % 26;
	return n;
}

/*
 * Appends one record (header + letters from `first` + '\n', `w` bytes) to
 * m; for check, the letters continue the header's column count.
 */
static void put_record(struct model *m, const char *head, size_t w,
		       unsigned long first)
{
	unsigned char *p = m->s.buf + m->s.size;
	size_t h = strlen(head);

	memcpy(p, head, h);
	put_letters(p + h, w - h - 1, first);
	p[w - 1] = '\n';
	m->starts[m->s.count++] = m->s.size;
	m->s.size += w;
}

static unsigned long table_records(struct __test_metadata *_metadata,
				   const char *table)
{
	char path[128];
	long long n;

	snprintf(path, sizeof(path), PARAMS "%s_records", table);
	n = read_number(path);
	ASSERT_LT(0, n) TH_LOG("cannot read %s", path);
	return n;
}

static void model_build(struct __test_metadata *_metadata, struct model *m,
			const char *table)
{
	unsigned long i, n = 150;
	size_t cap;
	char head[32];

	memset(m, 0, sizeof(*m));
	if (strcmp(table, "single"))
		n = table_records(_metadata, table);
	cap = n * 100 + (n / 1000 + 1) * 6000 + 1;
	m->s.buf = malloc(cap);
	m->starts = malloc((n + 1) * sizeof(*m->starts));
	ASSERT_TRUE(m->s.buf && m->starts);
	m->check = !strcmp(table, "check");
	for (i = 0; i < n; i++) {
		if (!strcmp(table, "spin")) {
			snprintf(head, sizeof(head), "spin %08lu ", i);
			put_record(m, head, 100, i % 26);
		} else if (m->check) {
			size_t w = i % 1000 == 999 ? 6000 : 100;

			snprintf(head, sizeof(head), "check %08lu ", i);
			put_record(m, head, w, i + strlen(head));
		} else if (!strcmp(table, "skip")) {
			bool none = (i >= 2000 && i < 3500) || i + 50 >= n;

			if (none || i % 7 == 3 || i % 7 == 5)
				continue;
			snprintf(head, sizeof(head), "skip %08lu ", i);
			put_record(m, head, 40 + i % 50, i % 26);
		} else {
			snprintf(head, sizeof(head), "single %04lu ", i);
			put_record(m, head, 80, i % 26);
		}
	}
	m->starts[m->s.count] = m->s.size;
	ASSERT_GE(cap, m->s.size);
	ASSERT_LT(0U, m->s.size);
}

/*
 * Offsets worth a pread or a seek, each a regeneration from the first
 * record: page edges, record edges (a byte before, at and after a start:
 * the first records, the wide ones of check, the middle and the last
 * record of the small tables), all within FAR; then the last byte and
 * past EOF, for the tables under 1 MiB (spin's EOF is reached by the
 * transfers of 1 MiB per call: the same engine path at 2 MB of
 * regeneration per offset).
 */
static size_t edge_offsets(const struct model *m, int64_t *out, size_t max)
{
	size_t recs[] = { 1, 2, 41, 999, 1000, 2000, m->s.count / 2,
			  m->s.count - 1 };
	int64_t fixed[] = { 0, 1, 4095, 4096, 4097, 65536 };
	size_t i, k = 0;
	int d;

	for (i = 0; i < ARRAY_SIZE(fixed) && k < max; i++)
		if ((size_t)fixed[i] < min_sz(m->s.size, FAR))
			out[k++] = fixed[i];
	for (i = 0; i < ARRAY_SIZE(recs) && k + 3 <= max; i++) {
		if (recs[i] >= m->s.count || m->starts[recs[i]] >= FAR)
			continue;
		for (d = -1; d <= 1; d++)
			if (m->starts[recs[i]] + d < m->s.size)
				out[k++] = m->starts[recs[i]] + d;
	}
	if (k + 2 <= max && m->s.size <= 1 << 20) {
		out[k++] = m->s.size - 1;
		out[k++] = m->s.size + 5000;
	}
	return k;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A TAP comment with the guest seconds a test took, from its setup's
 * start (t0, in the fixture, which the harness shares with the teardown
 * when that runs in the parent), to keep the suite within make check's
 * budget.
 */
static void test_time(const char *name, double t0)
{
	printf("# %s: %.2f s\n", name, now_s() - t0);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Fixture: one table, each test in every map mode at two buffer sizes */
/* ------------------------------------------------------------------ */

/*
 * The knobs each api test runs under in turn, written before each open
 * (they are read at open). One test case per table and kind of call, not
 * per configuration: a test case's fork, setup and model cost more than
 * its calls on the debug kernel.
 */
static const struct {
	const char *map;
	unsigned int buf_kb;
} configs[] = {
	{ "direct", 4 }, { "direct", 1024 },
	{ "vm_map_ram", 4 }, { "vm_map_ram", 1024 },
	{ "vmap", 4 }, { "vmap", 1024 },
	{ "auto", 4 }, { "auto", 1024 },
};

FIXTURE(api) {
	double t0;
	size_t cfg;		/* the configuration running */
	struct model m;
	char api[64], copy[64];
};

FIXTURE_VARIANT(api) {
	const char *table;
};

FIXTURE_VARIANT_ADD(api, spin) { .table = "spin", };
FIXTURE_VARIANT_ADD(api, check) { .table = "check", };
FIXTURE_VARIANT_ADD(api, skip) { .table = "skip", };
FIXTURE_VARIANT_ADD(api, single) { .table = "single", };

FIXTURE_SETUP(api)
{
	self->t0 = now_s();
	self->cfg = ARRAY_SIZE(configs);
	common_setup(_metadata);
	ensure_consumer(_metadata);
	bad_baseline();
	model_build(_metadata, &self->m, variant->table);
	snprintf(self->api, sizeof(self->api), "/dev/ssc_%s", variant->table);
	snprintf(self->copy, sizeof(self->copy), "/dev/ssc_%s_copy",
		 variant->table);
}

FIXTURE_TEARDOWN_PARENT(api)
{
	if (_metadata->exit_code != KSFT_PASS && self->cfg < ARRAY_SIZE(configs))
		TH_LOG("failed with map_mode=%s buffer_size_kb=%u",
		       configs[self->cfg].map, configs[self->cfg].buf_kb);
	common_teardown(_metadata);
	test_time(_metadata->name, self->t0);
}

/* Runs `fn` once in each configuration of the knobs. */
#define EACH_CONFIG(fn)							\
	do {								\
		for (self->cfg = 0; self->cfg < ARRAY_SIZE(configs);	\
		     self->cfg++) {					\
			set_knob(_metadata, "map_mode",			\
				 configs[self->cfg].map);		\
			set_knob_u(_metadata, "buffer_size_kb",		\
				   configs[self->cfg].buf_kb);		\
			fn(_metadata, self);				\
		}							\
	} while (0)

static int open_dev(struct __test_metadata *_metadata, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	return fd;
}

/*
 * The stream of `path` by read()s of `chunk` bytes, to EOF, or (limit) to
 * the first call that ends at or past `limit` bytes: the model's bytes;
 * at EOF, EOF at its size, and again after it.
 */
static void read_in_chunks(struct __test_metadata *_metadata,
			   const struct model *m, const char *path,
			   size_t chunk, size_t limit)
{
	size_t cap = m->s.size + (1 << 20) + 1, got = 0;
	unsigned char *buf = malloc(cap);
	char what[128];
	ssize_t r = 1;
	int fd;

	ASSERT_NE(NULL, buf);
	fd = open_dev(_metadata, path);
	while (got < limit) {
		ASSERT_GE(cap, got + chunk);
		r = read(fd, buf + got, chunk);
		ASSERT_LE(0, r) {
			TH_LOG("%s: read(%zu) at %zu: %s", path, chunk, got,
			       strerror(errno));
		}
		if (!r)
			break;
		ASSERT_GE((ssize_t)chunk, r);
		got += r;
	}
	snprintf(what, sizeof(what), "%s read(%zu)", path, chunk);
	ASSERT_EQ(min_sz(m->s.size, got), got);
	if (!r || limit >= m->s.size) {
		ASSERT_EQ(m->s.size, got) TH_LOG("%s: EOF at %zu", what, got);
	}
	ASSERT_TRUE(model_matches(_metadata, &m->s, what, 0, buf, got));
	if (got == m->s.size)
		ASSERT_EQ(0, read(fd, buf, 1));
	close(fd);
	free(buf);
}

/* read() of 1 and 7 bytes (SMALL), 4096 and 65536 (FAR), 1 MiB to EOF. */
static void read_sizes_give_the_model(struct __test_metadata *_metadata,
				      FIXTURE_DATA(api) *self)
{
	size_t sizes[] = { 1, 7, 4096, 65536, 1 << 20 };
	size_t limit[] = { SMALL, SMALL, FAR, FAR, SIZE_MAX };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		read_in_chunks(_metadata, &self->m, self->api, sizes[i],
			       limit[i]);
	assert_no_bad(_metadata);
}

/*
 * pread at the edge offsets, of 1 byte to 64 KiB, a complete transfer and
 * a single call at each, the API's bytes the model's; pread leaves f_pos
 * alone: a read() after them continues where the last read() stopped.
 */
static void pread_at_record_and_page_edges(struct __test_metadata *_metadata,
					   FIXTURE_DATA(api) *self)
{
	size_t lens[] = { 1, 99, 100, 101, 4096, 65536 };
	unsigned char *buf = malloc(65536 + 1);
	int64_t offs[64];
	size_t n, i;
	int fd;

	ASSERT_NE(NULL, buf);
	n = edge_offsets(&self->m, offs, ARRAY_SIZE(offs));
	fd = open_dev(_metadata, self->api);
	ASSERT_EQ(333U, read_full(_metadata, fd, buf, 333));
	ASSERT_TRUE(model_matches(_metadata, &self->m.s, "read", 0, buf, 333));
	for (i = 0; i < n; i++) {
		size_t len = lens[i % ARRAY_SIZE(lens)];
		size_t want = expected_count(&self->m.s, offs[i], len);
		size_t got;
		ssize_t r;

		got = pread_full(_metadata, fd, buf, len, offs[i]);
		ASSERT_EQ(want, got) {
			TH_LOG("pread(%zu, %lld): %zu bytes, want %zu", len,
			       (long long)offs[i], got, want);
		}
		ASSERT_TRUE(model_matches(_metadata, &self->m.s, "pread",
					  offs[i], buf, got));
		len = lens[(i + 3) % ARRAY_SIZE(lens)];
		want = expected_count(&self->m.s, offs[i], len);
		r = pread(fd, buf, len, offs[i]);
		ASSERT_LE(0, r);
		ASSERT_TRUE(r > 0 || !want) {
			TH_LOG("pread(%zu, %lld) returned 0 before EOF", len,
			       (long long)offs[i]);
		}
		ASSERT_TRUE(model_matches(_metadata, &self->m.s,
					  "pread (one call)", offs[i], buf, r));
	}
	ASSERT_EQ(333, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
	ASSERT_TRUE(model_matches(_metadata, &self->m.s, "read after pread",
				  333, buf, 100));
	close(fd);
	free(buf);
	assert_no_bad(_metadata);
}

/*
 * The same lseek() sequence on the API file and the copy file: every
 * result and errno equal, and after each successful one 333 bytes read
 * from both, the model's at that position.
 */
static void lseek_set_and_cur_as_stock(struct __test_metadata *_metadata,
				       FIXTURE_DATA(api) *self)
{
	int64_t offs[64];
	struct { int whence; int64_t off; } ops[200];
	unsigned char a[333], b[333];
	size_t n, i, k = 0;
	int fa, fb;

	n = edge_offsets(&self->m, offs, ARRAY_SIZE(offs));
	for (i = 0; i < n; i++) {
		/* Every other edge (pread takes them all), and the last. */
		if (i % 2 && i + 1 < n)
			continue;
		ops[k].whence = SEEK_SET;
		ops[k++].off = offs[i];
		if (offs[i] >= (int64_t)FAR)
			continue;
		if (i % 3 == 0) {
			ops[k].whence = SEEK_CUR;
			ops[k++].off = -(int64_t)(i * 37 + 1);
		}
		if (i % 4 == 2) {
			ops[k].whence = SEEK_CUR;
			ops[k++].off = 4096 + i;
		}
	}
	ops[k].whence = SEEK_CUR;
	ops[k++].off = 0;
	ops[k].whence = SEEK_END;
	ops[k++].off = 0;
	ops[k].whence = SEEK_SET;
	ops[k++].off = -1;
	ops[k].whence = SEEK_CUR;
	ops[k++].off = -(int64_t)self->m.s.size * 4;
	ops[k].whence = SEEK_SET;
	ops[k++].off = 0;
	fa = open_dev(_metadata, self->api);
	fb = open_dev(_metadata, self->copy);
	for (i = 0; i < k; i++) {
		off_t ra, rb;
		int ea, eb;
		size_t na, nb;

		errno = 0;
		ra = lseek(fa, ops[i].off, ops[i].whence);
		ea = errno;
		errno = 0;
		rb = lseek(fb, ops[i].off, ops[i].whence);
		eb = errno;
		ASSERT_TRUE(ra == rb && (ra >= 0 || ea == eb)) {
			TH_LOG("lseek(%lld, %d): API %lld (%s), stock %lld (%s)",
			       (long long)ops[i].off, ops[i].whence,
			       (long long)ra, strerror(ea), (long long)rb,
			       strerror(eb));
		}
		if (ra < 0)
			continue;
		na = read_full(_metadata, fa, a, sizeof(a));
		nb = read_full(_metadata, fb, b, sizeof(b));
		ASSERT_EQ(expected_count(&self->m.s, ra, sizeof(a)), na);
		ASSERT_EQ(na, nb);
		ASSERT_TRUE(model_matches(_metadata, &self->m.s, "API after lseek",
					  ra, a, na));
		ASSERT_TRUE(model_matches(_metadata, &self->m.s,
					  "stock after lseek", rb, b, nb));
	}
	close(fa);
	close(fb);
	assert_no_bad(_metadata);
}

/*
 * splice() of 4 KiB..1 MiB into a pipe of that size, from f_pos (to EOF at
 * 1 MiB, else 8 calls' worth up to FAR) and with off_in (from a record
 * edge, check's first wide record, 4 calls' worth up to FAR): the model's
 * bytes; the API gifts pages (pages_gifted moves), the copy file does not.
 */
static void splice_4k_to_1m_with_and_without_off_in(struct __test_metadata *_metadata,
						    FIXTURE_DATA(api) *self)
{
	size_t lens[] = { 4096, 16384, 65536, 262144, 1 << 20 };
	size_t cap = self->m.s.size + (1 << 20);
	unsigned char *buf = malloc(cap);
	struct stats st0, st1;
	size_t i, n, got, pipe_cap;
	int64_t start = self->m.starts[min_sz(999, self->m.s.count - 1)], off;
	int fd, p[2];

	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		pipe_cap = make_pipe(_metadata, p, lens[i] / PG);
		fd = open_dev(_metadata, self->api);
		if (lens[i] == 1 << 20) {
			got = splice_to_eof(_metadata, fd, NULL, p, pipe_cap,
					    lens[i], buf, cap, NULL);
			ASSERT_EQ(self->m.s.size, got);
		} else {
			n = min_sz(FAR, 8 * lens[i]);
			got = splice_full(_metadata, fd, NULL, p, pipe_cap, buf,
					  n);
			ASSERT_EQ(expected_count(&self->m.s, 0, n), got);
		}
		ASSERT_TRUE(model_matches(_metadata, &self->m.s, "splice", 0,
					  buf, got));
		ASSERT_EQ((off_t)got, lseek(fd, 0, SEEK_CUR));
		off = start;
		n = min_sz(FAR, 4 * lens[i]);
		got = splice_full(_metadata, fd, &off, p, pipe_cap, buf, n);
		ASSERT_EQ(expected_count(&self->m.s, start, n), got);
		ASSERT_TRUE(model_matches(_metadata, &self->m.s,
					  "splice with off_in", start, buf,
					  got));
		close(fd);
		close_pipe(p);
	}
	/* Zero-copy: only the API file gifts pages. */
	pipe_cap = make_pipe(_metadata, p, 16);
	for (i = 0; i < 2; i++) {
		const char *path = i ? self->copy : self->api;

		fd = open_dev(_metadata, path);
		read_stats(_metadata, &st0);
		got = splice_full(_metadata, fd, NULL, p, pipe_cap, buf,
				  pipe_cap);
		read_stats(_metadata, &st1);
		ASSERT_EQ(expected_count(&self->m.s, 0, pipe_cap), got);
		ASSERT_TRUE(model_matches(_metadata, &self->m.s, path, 0, buf,
					  got));
		if (i) {
			ASSERT_EQ(0, stat_delta(&st0, &st1, ST_PAGES_GIFTED));
		} else {
			ASSERT_LT(0, stat_delta(&st0, &st1, ST_PAGES_GIFTED));
		}
		close(fd);
	}
	close_pipe(p);
	free(buf);
	assert_no_bad(_metadata);
}

/*
 * sendfile() to a file: from f_pos, to EOF for the tables under 1 MiB (to
 * FAR for spin: the 2 MB through tmpfs and back cost the debug kernel
 * more than the rest of the test), then with an offset to FAR.
 */
static void sendfile_to_a_file(struct __test_metadata *_metadata,
			       FIXTURE_DATA(api) *self)
{
	const char *out_path = "/tmp/consumer_sendfile";
	size_t len, want = self->m.s.size, sent = 0;
	unsigned char *got;
	off_t off;
	ssize_t r;
	int fd, out;

	fd = open_dev(_metadata, self->api);
	out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, out);
	if (want > 1 << 20)
		want = FAR;
	do {
		r = sendfile(out, fd, NULL, min_sz(1 << 20, want - sent));
		ASSERT_LE(0, r) TH_LOG("sendfile: %s", strerror(errno));
		sent += r;
	} while (r && sent < want);
	if (want == self->m.s.size)
		ASSERT_EQ(0, sendfile(out, fd, NULL, 4096));
	close(out);
	got = slurp(_metadata, out_path, &len);
	ASSERT_EQ(want, len);
	ASSERT_TRUE(model_matches(_metadata, &self->m.s, "sendfile", 0, got,
				  len));
	free(got);
	ASSERT_EQ((off_t)want, lseek(fd, 0, SEEK_CUR));

	out = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, out);
	off = self->m.starts[1] + 1;
	r = sendfile(out, fd, &off, FAR);
	ASSERT_LE(0, r) TH_LOG("sendfile with offset: %s", strerror(errno));
	ASSERT_EQ((off_t)(self->m.starts[1] + 1 + r), off);
	close(out);
	got = slurp(_metadata, out_path, &len);
	ASSERT_EQ((size_t)r, len);
	ASSERT_TRUE(len > 0);
	ASSERT_TRUE(model_matches(_metadata, &self->m.s, "sendfile at offset",
				  self->m.starts[1] + 1, got, len));
	free(got);
	unlink(out_path);
	close(fd);
	assert_no_bad(_metadata);
}

/*
 * seqsplice_private() is m->private as the callbacks left it: check's
 * first ->show moves it to the open's second private (1), the others never
 * do (0); after reads, a regenerating lseek and a pread, as on the copy
 * file. No callback of either open saw a wrong m->file, m->op or
 * m->private.
 */
static void private_follows_the_callbacks(struct __test_metadata *_metadata,
					  FIXTURE_DATA(api) *self)
{
	int want = self->m.check ? 1 : 0;
	unsigned char buf[4096];
	size_t i;

	for (i = 0; i < 2; i++) {
		const char *path = i ? self->copy : self->api;
		int fd = open_dev(_metadata, path);

		ASSERT_EQ(0, ioctl(fd, SSC_IOC_PRIVATE)) {
			TH_LOG("%s: before any read: %s", path,
			       strerror(errno));
		}
		ASSERT_LT(0, read(fd, buf, sizeof(buf)));
		ASSERT_EQ(want, ioctl(fd, SSC_IOC_PRIVATE)) {
			TH_LOG("%s: after a read: %s", path, strerror(errno));
		}
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		ASSERT_LT(0, read(fd, buf, 100));
		ASSERT_LT(0, pread(fd, buf, 100, self->m.s.size / 2));
		ASSERT_EQ(want, ioctl(fd, SSC_IOC_PRIVATE)) {
			TH_LOG("%s: after lseek and pread: %s", path,
			       strerror(errno));
		}
		ASSERT_EQ(0, ioctl(fd, SSC_IOC_BAD)) {
			TH_LOG("%s: its callbacks saw a wrong m->file, m->op or m->private",
			       path);
		}
		close(fd);
	}
	assert_no_bad(_metadata);
}

TEST_F(api, read_sizes_give_the_model)
{
	EACH_CONFIG(read_sizes_give_the_model);
}

TEST_F(api, pread_at_record_and_page_edges)
{
	EACH_CONFIG(pread_at_record_and_page_edges);
}

TEST_F(api, lseek_set_and_cur_as_stock)
{
	EACH_CONFIG(lseek_set_and_cur_as_stock);
}

TEST_F(api, splice_4k_to_1m_with_and_without_off_in)
{
	EACH_CONFIG(splice_4k_to_1m_with_and_without_off_in);
}

TEST_F(api, sendfile_to_a_file)
{
	EACH_CONFIG(sendfile_to_a_file);
}

TEST_F(api, private_follows_the_callbacks)
{
	EACH_CONFIG(private_follows_the_callbacks);
}

/* ------------------------------------------------------------------ */
/* The copy file against the model, once per table                     */
/* ------------------------------------------------------------------ */

FIXTURE(copy) {
	double t0;
	struct model m;
};

FIXTURE_VARIANT(copy) {
	const char *table;
};

FIXTURE_VARIANT_ADD(copy, spin) { .table = "spin", };
FIXTURE_VARIANT_ADD(copy, check) { .table = "check", };
FIXTURE_VARIANT_ADD(copy, skip) { .table = "skip", };
FIXTURE_VARIANT_ADD(copy, single) { .table = "single", };

FIXTURE_SETUP(copy)
{
	self->t0 = now_s();
	common_setup(_metadata);
	ensure_consumer(_metadata);
	bad_baseline();
	model_build(_metadata, &self->m, variant->table);
}

FIXTURE_TEARDOWN_PARENT(copy)
{
	common_teardown(_metadata);
	test_time(_metadata->name, self->t0);
}

/*
 * The stock seq_file core gives the model's bytes: what the API file is
 * held to is what a seq_file of this table gives. The model has no
 * "BAD" line, so this is also the check that the stock core hands the
 * callbacks the m->file, m->op and m->private they expect.
 */
TEST_F(copy, stock_file_gives_the_model)
{
	char path[64];
	unsigned long n = 0;
	size_t i;

	snprintf(path, sizeof(path), "/dev/ssc_%s_copy", variant->table);
	read_in_chunks(_metadata, &self->m, path, 4096, SIZE_MAX);
	read_in_chunks(_metadata, &self->m, path, 7, 3000);
	for (i = 0; i < self->m.s.size; i++)
		n += self->m.s.buf[i] == '\n';
	ASSERT_EQ(self->m.s.count, n);
	if (!strcmp(variant->table, "spin"))
		ASSERT_LT(1UL << 20, self->m.s.size);
	assert_no_bad(_metadata);
}

/* ------------------------------------------------------------------ */
/* Lifetimes                                                           */
/* ------------------------------------------------------------------ */

FIXTURE(lifetime) {
	double t0;
};

FIXTURE_SETUP(lifetime)
{
	self->t0 = now_s();
	common_setup(_metadata);
	ensure_consumer(_metadata);
}

FIXTURE_TEARDOWN_PARENT(lifetime)
{
	common_teardown(_metadata);
	test_time(_metadata->name, self->t0);
	if (!module_listed(CONSUMER_MOD) && finit_module_path(CONSUMER_KO)) {
		TH_LOG("teardown: cannot load %s again: %s", CONSUMER_KO,
		       strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
	}
}

/*
 * The consumer's use of the API pins seqsplice: with its filesystem
 * unmounted (so that nothing else holds it), delete_module("seqsplice")
 * is refused (EWOULDBLOCK: "in use by seqsplice_consumer") and
 * /proc/modules says who uses it.
 */
TEST_F(lifetime, seqsplice_stays_while_the_consumer_is_loaded)
{
	char line[512];
	int r, e;

	ASSERT_TRUE(module_line(MOD_NAME, line, sizeof(line)));
	ASSERT_NE(NULL, strstr(line, CONSUMER_MOD)) {
		TH_LOG("/proc/modules: %s", line);
	}
	ASSERT_EQ(0, umount2(MNT, 0)) TH_LOG("umount: %s", strerror(errno));
	r = rmmod_once(MOD_NAME);
	e = errno;
	if (!r) {
		/* Unloaded under its user: load it again for what follows. */
		load_module(_metadata);
	} else {
		ASSERT_EQ(0, mount_quiet());
	}
	ASSERT_EQ(-1, r) TH_LOG("seqsplice was unloaded under the consumer");
	ASSERT_EQ(EWOULDBLOCK, e) TH_LOG("delete_module: %s", strerror(e));
	ASSERT_TRUE(module_listed(MOD_NAME));
}

/*
 * The files' .owner = THIS_MODULE pins the consumer while one is open (the
 * API file and the copy file alike, read from or not): refcnt 1,
 * delete_module refused (EWOULDBLOCK); closed, it unloads.
 */
TEST_F(lifetime, consumer_stays_while_a_file_is_open)
{
	const char *paths[] = { "/dev/ssc_check", "/dev/ssc_check_copy",
				"/dev/ssc_spin" };
	unsigned char buf[4096];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		int fd, r, e;

		ensure_consumer(_metadata);
		fd = open_dev(_metadata, paths[i]);
		if (i != 2)
			ASSERT_LT(0, read(fd, buf, sizeof(buf)));
		ASSERT_EQ(1, read_number("/sys/module/" CONSUMER_MOD "/refcnt"));
		r = rmmod_once(CONSUMER_MOD);
		e = errno;
		close(fd);
		ASSERT_EQ(-1, r) {
			TH_LOG("the consumer was unloaded with %s open",
			       paths[i]);
		}
		ASSERT_EQ(EWOULDBLOCK, e) TH_LOG("delete_module: %s", strerror(e));
		unload_consumer(_metadata);
	}
}

/*
 * Pages the API gifted to a pipe outlive the file, the consumer (and its
 * table) and seqsplice: splice 256 KiB of spin, close the file, rmmod the
 * consumer, umount and rmmod seqsplice, recycle memory, then the pipe
 * gives the model's bytes. Loaded again after.
 */
TEST_F(lifetime, gifted_pages_outlive_both_modules)
{
	size_t cap = 256 * 1024, got;
	unsigned char *buf = malloc(cap);
	struct stats st0, st1;
	struct model m;
	size_t pipe_cap;
	int fd, p[2];

	ASSERT_NE(NULL, buf);
	model_build(_metadata, &m, "spin");
	/* Room to spare: a direct-mode page holds whole records only. */
	pipe_cap = make_pipe(_metadata, p, 2 * cap / PG);
	fd = open_dev(_metadata, "/dev/ssc_spin");
	read_stats(_metadata, &st0);
	got = 0;
	while (got < cap) {
		ssize_t r = splice(fd, NULL, p[1], NULL, cap - got, 0);

		ASSERT_LT(0, r) TH_LOG("splice: %s", strerror(errno));
		got += r;
	}
	read_stats(_metadata, &st1);
	ASSERT_EQ((long)cap, pipe_bytes(p[0]));
	ASSERT_LE(cap, pipe_cap);
	ASSERT_LE((long long)(cap / PG), stat_delta(&st0, &st1, ST_PAGES_GIFTED));
	close(fd);
	unload_consumer(_metadata);
	unload_module(_metadata);
	ASSERT_FALSE(module_listed(MOD_NAME));
	churn_user_memory();
	drain_exact(_metadata, p[0], buf, cap);
	ASSERT_TRUE(model_matches(_metadata, &m.s, "pipe after both rmmods", 0,
				  buf, cap));
	close_pipe(p);
	load_module(_metadata);
	ensure_consumer(_metadata);
	free(buf);
}

/*
 * A module that uses a SEQSPLICE symbol without MODULE_IMPORT_NS: the
 * loader refuses it (EINVAL) and says why.
 */
TEST_F(lifetime, a_module_not_importing_the_namespace_is_refused)
{
	const char *why = NOIMPORT_MOD
		": module uses symbol (seqsplice_private) from namespace SEQSPLICE, but does not import it.";
	char *log;
	int r, e, n;

	r = finit_module_path(NOIMPORT_KO);
	e = errno;
	if (!r)
		rmmod_once(NOIMPORT_MOD);
	ASSERT_EQ(-1, r) TH_LOG("%s loaded", NOIMPORT_KO);
	ASSERT_EQ(EINVAL, e) TH_LOG("finit_module: %s", strerror(e));
	ASSERT_FALSE(module_listed(NOIMPORT_MOD));
	n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	ASSERT_LT(0, n);
	log = malloc(n + 1);
	ASSERT_NE(NULL, log);
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, n);
	ASSERT_LT(0, n);
	log[n] = '\0';
	ASSERT_NE(NULL, strstr(log, why)) TH_LOG("no \"%s\" in the log", why);
	free(log);
}

TEST_HARNESS_MAIN
