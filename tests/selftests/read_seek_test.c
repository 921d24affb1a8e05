// SPDX-License-Identifier: GPL-2.0
/*
 * read_seek_test - read(), pread() and lseek() of trace against the model
 * and trace_copy: whole-file reads at every read size class, pread at the
 * edges and past EOF, seq_lseek's semantics, fixed interleavings of read,
 * splice, lseek, pread and sendfile run on both files, records larger than
 * the buffer, and what read() counts in stats. Conventions:
 * tests/common/seqsplice_test.h. Where Documentation/files.rst leaves room: lseek follows
 * seq_lseek, SEEK_SET/SEEK_CUR only, past EOF is allowed (then reads return
 * 0), anything else EINVAL with the position unchanged; trace and
 * trace_copy must return the same.
 */
#include <sys/sendfile.h>

#include "../common/seqsplice_test.h"

/* Largest single data operation of the op sequences. */
#define MAX_OP_LEN	MIB
#define SCRATCH_LEN	(MAX_OP_LEN + 2 * PG)

/* ------------------------------------------------------------------ */
/* Op sequences: one op on one open file, checked against the model   */
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
	NR_OP_KINDS
};

static const char *const op_names[NR_OP_KINDS] = {
	"read_full", "read_once", "splice_full", "splice_once", "splice_off",
	"pread", "sendfile_once", "seek_set", "seek_cur", "seek_cur0",
};

struct op {
	enum op_kind kind;
	size_t len;
	int64_t off;		/* offset, or delta for OP_SEEK_CUR */
	bool rel_end;		/* off is relative to EOF */
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

/* Opens `file` (whose stream is s) with a default pipe. */
static void fctx_open(struct __test_metadata *_metadata, struct fctx *c,
		      const char *file, const struct stream *s)
{
	c->name = file;
	c->fd = open_file(_metadata, file);
	c->pipe_cap = make_pipe(_metadata, c->p, 0);
	c->pos = 0;
	c->s = s;
	c->scratch = malloc(SCRATCH_LEN);
	ASSERT_NE(NULL, c->scratch);
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

/*
 * Opens trace and trace_copy on stream s and runs every op of ops[0..n) on
 * both (exec_twin()).
 */
static void run_twin(struct __test_metadata *_metadata, const struct stream *s,
		     const struct op *ops, size_t n)
{
	struct fctx t, c;
	size_t i;

	fctx_open(_metadata, &t, TRACE, s);
	fctx_open(_metadata, &c, TRACE_COPY, s);
	for (i = 0; i < n; i++)
		exec_twin(_metadata, &t, &c, &ops[i]);
	fctx_close(&t);
	fctx_close(&c);
}

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* Model sanity: the model agrees with the documented literal format    */
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
		TH_LOG("trace_copy record 9999 header differs from Documentation/files.rst");
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Whole-file read equivalence                                        */
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
/* pread                                                              */
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
	struct stream s;
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
	run_twin(_metadata, &s, ops, ARRAY_SIZE(ops));
}

/* ------------------------------------------------------------------ */
/* lseek                                                              */
/* ------------------------------------------------------------------ */

TEST_F(seqsplice, lseek_set_and_cur_then_read_match_model_like_trace_copy)
{
	struct stream s;
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
	run_twin(_metadata, &s, ops, ARRAY_SIZE(ops));
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
/* interleavings of read, splice, lseek, pread, sendfile              */
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

	run_twin(_metadata, s, ops, ARRAY_SIZE(ops));
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

/* ------------------------------------------------------------------ */
/* records larger than the buffer                                     */
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
/* stats of read()                                                    */
/* ------------------------------------------------------------------ */

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

TEST_HARNESS_MAIN
