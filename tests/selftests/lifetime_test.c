// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime_test - what outlives an open: reopen starts the stream again
 * and opens are independent; gifted pages in a pipe (and a tee of it) keep
 * their bytes across regeneration, reopen, close, umount and rmmod (the
 * mm/cow.c pattern, recycled memory included); a fresh insmod starts with
 * the default knobs and zeroed stats. Conventions:
 * tests/common/seqsplice_test.h.
 */
#include "../common/seqsplice_test.h"

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* reopen                                                             */
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

/* ------------------------------------------------------------------ */
/* data stability of gifted pages (mm/cow.c pattern)                  */
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
/* lifetime: close / rmmod with pages in a pipe                       */
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

TEST_HARNESS_MAIN
