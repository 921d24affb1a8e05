// SPDX-License-Identifier: GPL-2.0
/*
 * splice_test - splice(2) of trace into pipes against the model and
 * trace_copy: every length class with and without off_in, pipes of 1 to
 * 256 slots with mixed lengths, zero-length splice, tee and sendfile, the
 * gift counted in stats and tails continued inside a gifted page, tee,
 * reading the pipe with read() and vmsplice(), EAGAIN and EPIPE from the
 * pipe side, and pv. Conventions: tests/common/seqsplice_test.h.
 */
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "../common/seqsplice_test.h"

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* splice length classes                                              */
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
/* pipe sizes with mixed splice lengths                               */
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
/* zero-length splice                                                 */
/* ------------------------------------------------------------------ */

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
/* stats: the gift really happens                                     */
/* ------------------------------------------------------------------ */

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
	if (map_mode_is("direct")) {
		/* No mapping at all: every fill through the direct map. */
		ASSERT_EQ(0, stat_delta(&a, &b, ST_VMAPS));
		ASSERT_EQ(0, stat_delta(&a, &b, ST_VUNMAPS));
		ASSERT_LT(0, stat_delta(&a, &b, ST_DIRECT_FILLS));
		ASSERT_LE(stat_delta(&a, &b, ST_FILLS),
			  stat_delta(&a, &b, ST_DIRECT_FILLS));
		/* 40 records a page: pages end where a record did not fit */
		ASSERT_LE(stat_delta(&a, &b, ST_DIRECT_PAGES),
			  stat_delta(&a, &b, ST_PAGES_GIFTED));
		/* this run's own fill: 40 whole records a page at most */
		ASSERT_GE(4000 * stat_delta(&a, &b, ST_PAGES_GIFTED),
			  stat_delta(&a, &b, ST_BYTES_SPLICED));
	} else {
		ASSERT_LT(0, stat_delta(&a, &b, ST_VMAPS));
		ASSERT_EQ(0, stat_delta(&a, &b, ST_DIRECT_FILLS));
	}

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

/*
 * Records appended behind a window a read() left are bounded by the open's
 * buffer, not by the pipe: with buffer_size_kb=4 and a 256-slot pipe, an
 * open holds a few pages, not the ~256 the pipe could take (the high-water
 * mark of pages_held, restarted by writing buffer_total_kb).
 */
TEST_F(seqsplice, append_behind_a_read_window_is_bounded_by_the_buffer)
{
	unsigned char *out;
	char total[32];
	struct stream s;
	struct stats a;
	size_t got, pcap;
	int p[2], fd;
	ssize_t n;

	use_stream(_metadata, &s, 0, 0, 4, 0, NULL);
	out = malloc(s.size + MIB);
	ASSERT_NE(NULL, out);
	pcap = make_pipe(_metadata, p, 256);
	fd = open_file(_metadata, TRACE);
	/* Half a record: the rest stays in the clean page. */
	ASSERT_EQ(150, read(fd, out, 150));
	ASSERT_LT(0, knob_read("buffer_total_kb", total, sizeof(total)));
	total[strcspn(total, "\n")] = 0;
	set_knob(_metadata, "buffer_total_kb", total);
	n = splice(fd, NULL, p[1], NULL, MIB, 0);
	ASSERT_LT(0, n);
	read_stats(_metadata, &a);
	ASSERT_GE(4, a.v[ST_PAGES_HELD_MAX]) {
		TH_LOG("an open with a 4 KiB buffer held %lld pages",
		       a.v[ST_PAGES_HELD_MAX]);
	}
	ASSERT_EQ((size_t)n, read_full(_metadata, p[0], out + 150, n));
	got = 150 + n;
	got += splice_to_eof(_metadata, fd, NULL, p, pcap, MIB, out + got,
			     s.size + MIB - got, NULL);
	ASSERT_EQ(s.size, got);
	ASSERT_TRUE(model_matches(_metadata, &s, TRACE, 0, out, got));
	close(fd);
	close_pipe(p);
	free(out);
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
/* tee                                                                */
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
/* reading the pipe side: read() and vmsplice()                       */
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
/* errors from the pipe side                                          */
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
/* a real tool: pv (splice)                                           */
/* ------------------------------------------------------------------ */

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

TEST_HARNESS_MAIN
