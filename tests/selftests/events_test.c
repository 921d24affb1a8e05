// SPDX-License-Identifier: GPL-2.0
/*
 * events_test.c - the live events through the engine: `events` (pages
 * gifted to pipes) gives exactly the bytes of `events_copy` (the same ring
 * buffer through the stock seq_file core and copy_splice_read()) by read in
 * chunks of every interesting size, splice of 4 KiB to 1 MiB with and
 * without off_in, splice and pread at line starts, mid-line, page edges and
 * EOF, lseek (SEEK_SET/SEEK_CUR; SEEK_END and the rest EINVAL, as
 * seq_lseek) and a mixed splice/read/lseek/sendfile sequence on one fd;
 * only `events` gifts pages; two opens at the same time read the same
 * bytes and count as two `events_readers`.
 *
 * The oracle is a snapshot of events_copy (events_snapshot(): read to EOF
 * twice, equal and not empty), taken by every test's setup, so the ring
 * buffer must be frozen first: events captured, recording off
 * (scripts/guest/capture.sh). Every open of events or events_copy pauses
 * recording anyway. The teardown (common_teardown(), in the parent, as
 * SEQSPLICE_FIXTURE_HOOKS' does) checks that pages_held is 0 once every
 * file is closed and every pipe gone. Conventions:
 * tests/common/seqsplice_test.h.
 */
#include <sys/sendfile.h>

#include "../common/seqsplice_test.h"

static const char *const events_files[] = { EVENTS, EVENTS_COPY };

/* ------------------------------------------------------------------ */
/* The snapshot and its lines                                         */
/* ------------------------------------------------------------------ */

/* The middle of line n: neither its first byte nor its newline. */
static size_t mid_line(const struct stream *s, size_t n)
{
	size_t from = line_start(s, n);

	return from + (line_start(s, n + 1) - from) / 2;
}

/*
 * A counter of the events part of stats (events_readers, ...), which
 * read_stats() does not know; -1 if absent.
 */
static long long events_stat(const char *name)
{
	char text[8192], key[64], *line, *save = NULL;
	long long v;

	if (read_small_file(MNT "/stats", text, sizeof(text)) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %lld", key, &v) == 2 &&
		    !strcmp(key, name))
			return v;
	}
	return -1;
}

/*
 * The fixtures' setup: the module ready with the default knobs, then the
 * snapshot; long enough for the page edges below, and nobody reading.
 */
static void snapshot_setup(struct __test_metadata *_metadata, struct stream *s)
{
	common_setup(_metadata);
	events_snapshot(_metadata, s);
	ASSERT_LT(4 * PG, s->size) {
		TH_LOG("the capture has %zu bytes: the page edges need more than 16 KiB",
		       s->size);
	}
	ASSERT_EQ(0, events_stat("events_readers"));
}

/*
 * sendfile() from fd (at *off, or the file position when off is NULL) into
 * the empty pipe p until n bytes or EOF, draining into buf after every
 * call; each call checked as splice_full() checks splice.
 */
static size_t sendfile_pipe_full(struct __test_metadata *_metadata, int fd,
				 int64_t *off, int p[2], size_t pipe_cap,
				 unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		off_t o = off ? *off : 0;
		ssize_t r;

		r = sendfile(p[1], fd, off ? &o : NULL, n - got);
		ASSERT_LE(0, r) {
			TH_LOG("sendfile(%zu): %s", n - got, strerror(errno));
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

/* sendfile() from fd's position to out (/dev/null) until n bytes or EOF. */
static size_t sendfile_full(struct __test_metadata *_metadata, int out,
			    int fd, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = sendfile(out, fd, NULL, n - got);

		ASSERT_LE(0, r) {
			TH_LOG("sendfile(%zu): %s", n - got, strerror(errno));
		}
		if (!r)
			break;
		ASSERT_GE((ssize_t)(n - got), r);
		got += r;
	}
	return got;
}

FIXTURE(events) {
	struct stream s;
};
FIXTURE_SETUP(events)
{
	snapshot_setup(_metadata, &self->s);
}

FIXTURE_TEARDOWN_PARENT(events)
{
	common_teardown(_metadata);
}

/* ------------------------------------------------------------------ */
/* read() to EOF in chunks                                            */
/* ------------------------------------------------------------------ */

FIXTURE(read_size) {
	struct stream s;
};
FIXTURE_VARIANT(read_size) {
	size_t chunk;
};
FIXTURE_SETUP(read_size)
{
	snapshot_setup(_metadata, &self->s);
}

FIXTURE_TEARDOWN_PARENT(read_size)
{
	common_teardown(_metadata);
}

/*
 * No 1- or 7-byte reads of the whole capture (10^5 to 10^6 calls, minutes on
 * the debug guest): ssfuzz --gift events makes reads of 1, 2, 3 and 7 bytes
 * at random offsets.
 */
FIXTURE_VARIANT_ADD(read_size, r99) { .chunk = 99, };
FIXTURE_VARIANT_ADD(read_size, r100) { .chunk = 100, };
FIXTURE_VARIANT_ADD(read_size, r4095) { .chunk = 4095, };
FIXTURE_VARIANT_ADD(read_size, r4096) { .chunk = 4096, };
FIXTURE_VARIANT_ADD(read_size, r4097) { .chunk = 4097, };
FIXTURE_VARIANT_ADD(read_size, r65536) { .chunk = 65536, };
FIXTURE_VARIANT_ADD(read_size, r1m) { .chunk = 1 << 20, };

/*
 * Whole file by read(): the snapshot on both files, EOF stays EOF at the
 * size; bytes_read and opens count events only, and nothing is gifted.
 * One-byte reads of the whole capture are slow on an emulated guest.
 */
TEST_F_TIMEOUT(read_size, whole_file_read_matches_snapshot_on_events_and_events_copy, 600)
{
	size_t cap = self->s.size + variant->chunk, got, k;
	unsigned char *out = malloc(cap);
	struct stats a, b;

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd;

		read_stats(_metadata, &a);
		fd = open_file(_metadata, events_files[k]);
		got = read_to_eof(_metadata, fd, out, cap, variant->chunk);
		ASSERT_EQ(self->s.size, got) {
			TH_LOG("%s read(%zu): EOF after %zu of %zu bytes",
			       events_files[k], variant->chunk, got,
			       self->s.size);
		}
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  0, out, got));
		ASSERT_EQ(0, read(fd, out, variant->chunk));
		ASSERT_EQ(0, read(fd, out, 1));
		ASSERT_EQ((off_t)self->s.size, lseek(fd, 0, SEEK_CUR));
		close(fd);
		read_stats(_metadata, &b);
		ASSERT_EQ(k ? 0 : (long long)got,
			  stat_delta(&a, &b, ST_BYTES_READ));
		ASSERT_EQ(k ? 0 : 1, stat_delta(&a, &b, ST_OPENS));
		ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
	}
	free(out);
}

/* ------------------------------------------------------------------ */
/* splice() length classes                                            */
/* ------------------------------------------------------------------ */

FIXTURE(splice_len) {
	struct stream s;
};
FIXTURE_VARIANT(splice_len) {
	size_t len;
	unsigned int slots;	/* the pipe holds len */
};
FIXTURE_SETUP(splice_len)
{
	snapshot_setup(_metadata, &self->s);
}

FIXTURE_TEARDOWN_PARENT(splice_len)
{
	common_teardown(_metadata);
}

FIXTURE_VARIANT_ADD(splice_len, l4k) { .len = 4096, .slots = 1, };
FIXTURE_VARIANT_ADD(splice_len, l16k) { .len = 16384, .slots = 4, };
FIXTURE_VARIANT_ADD(splice_len, l64k) { .len = 65536, .slots = 16, };
FIXTURE_VARIANT_ADD(splice_len, l256k) { .len = 262144, .slots = 64, };
FIXTURE_VARIANT_ADD(splice_len, l1m) { .len = 1 << 20, .slots = 256, };

/* splice() at the file position to EOF: the snapshot, f_pos at the size. */
TEST_F_TIMEOUT(splice_len, splice_to_eof_matches_snapshot_and_moves_position, 180)
{
	size_t cap = self->s.size + variant->len, got, pcap, k;
	unsigned char *out = malloc(cap);
	int p[2];

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);

		pcap = make_pipe(_metadata, p, variant->slots);
		got = splice_to_eof(_metadata, fd, NULL, p, pcap, variant->len,
				    out, cap, NULL);
		ASSERT_EQ(self->s.size, got) {
			TH_LOG("%s splice(%zu): EOF after %zu of %zu bytes",
			       events_files[k], variant->len, got,
			       self->s.size);
		}
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  0, out, got));
		ASSERT_EQ((off_t)self->s.size, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, variant->len, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		close(fd);
		close_pipe(p);
	}
	free(out);
}

/*
 * splice() with off_in from mid-line to EOF: the snapshot from there, the
 * offset at the size, the file position (10) untouched.
 */
TEST_F_TIMEOUT(splice_len, splice_off_in_matches_snapshot_and_keeps_position, 180)
{
	size_t cap = self->s.size + variant->len, got, pcap, k;
	const size_t start = mid_line(&self->s, 3);
	unsigned char *out = malloc(cap), head[100];
	int p[2];

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);
		int64_t off = start;
		loff_t o;

		pcap = make_pipe(_metadata, p, variant->slots);
		ASSERT_EQ(10U, read_full(_metadata, fd, head, 10));
		got = splice_to_eof(_metadata, fd, &off, p, pcap, variant->len,
				    out, cap, NULL);
		ASSERT_EQ(self->s.size - start, got);
		ASSERT_EQ((int64_t)self->s.size, off);
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  start, out, got));
		o = off;
		ASSERT_EQ(0, splice(fd, &o, p[1], NULL, variant->len, 0));
		ASSERT_EQ(off, o);
		ASSERT_EQ(10, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(90U, read_full(_metadata, fd, head + 10, 90));
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  0, head, 100));
		close(fd);
		close_pipe(p);
	}
	free(out);
}

/* ------------------------------------------------------------------ */
/* splice() and pread() at edges                                      */
/* ------------------------------------------------------------------ */

/*
 * splice() of 8 KiB from line starts, mid-line, the page edges, EOF - 1,
 * EOF and past it: with off_in (f_pos untouched, the offset advanced by
 * what was given) and from the file position after an lseek (f_pos
 * advanced); exactly 1 byte at EOF - 1, then 0; 0 at EOF, nothing piped.
 */
TEST_F_TIMEOUT(events, splice_from_line_start_mid_line_page_edge_and_eof_matches_snapshot, 180)
{
	const struct stream *s = &self->s;
	const int64_t offs[] = {
		0, line_start(s, 1), line_start_from(s, PG),
		line_start(s, s->count / 2), mid_line(s, 2),
		mid_line(s, s->count / 2), PG - 1, PG, PG + 1,
		s->size - 1, s->size, s->size + 100,
	};
	unsigned char buf[8192];
	size_t i, k, pcap, got;
	int p[2];

	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);
		loff_t o;

		pcap = make_pipe(_metadata, p, 16);
		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			int64_t off = offs[i];
			off_t pos = lseek(fd, 0, SEEK_CUR);

			got = splice_full(_metadata, fd, &off, p, pcap, buf,
					  sizeof(buf));
			ASSERT_EQ(expected_count(s, offs[i], sizeof(buf)), got) {
				TH_LOG("%s splice(off_in %lld)",
				       events_files[k], (long long)offs[i]);
			}
			ASSERT_TRUE(model_matches(_metadata, s, events_files[k],
						  offs[i], buf, got));
			ASSERT_EQ(pos, lseek(fd, 0, SEEK_CUR));

			ASSERT_EQ(offs[i], lseek(fd, offs[i], SEEK_SET));
			got = splice_full(_metadata, fd, NULL, p, pcap, buf,
					  sizeof(buf));
			ASSERT_EQ(expected_count(s, offs[i], sizeof(buf)), got) {
				TH_LOG("%s lseek(%lld) + splice",
				       events_files[k], (long long)offs[i]);
			}
			ASSERT_TRUE(model_matches(_metadata, s, events_files[k],
						  offs[i], buf, got));
			ASSERT_EQ(offs[i] + (off_t)got, lseek(fd, 0, SEEK_CUR));
		}

		o = s->size - 1;
		ASSERT_EQ(1, splice(fd, &o, p[1], NULL, PG, 0));
		ASSERT_EQ((loff_t)s->size, o);
		drain_exact(_metadata, p[0], buf, 1);
		ASSERT_EQ(s->buf[s->size - 1], buf[0]);
		ASSERT_EQ(0, splice(fd, &o, p[1], NULL, PG, 0));
		ASSERT_EQ((loff_t)s->size, o);
		ASSERT_EQ((off_t)s->size - 1,
			  lseek(fd, s->size - 1, SEEK_SET));
		ASSERT_EQ(1, splice(fd, NULL, p[1], NULL, PG, 0));
		drain_exact(_metadata, p[0], buf, 1);
		ASSERT_EQ(s->buf[s->size - 1], buf[0]);
		ASSERT_EQ(0, splice(fd, NULL, p[1], NULL, PG, 0));
		ASSERT_EQ(0, pipe_bytes(p[0]));
		ASSERT_EQ((off_t)s->size, lseek(fd, 0, SEEK_CUR));
		close_pipe(p);
		close(fd);
	}
}

/*
 * pread() at real line starts (and the byte before one), page edges, the
 * last line, EOF - 1, EOF and past it (0): the snapshot at the offset, of
 * every length, f_pos untouched.
 */
TEST_F_TIMEOUT(events, pread_at_line_starts_page_edges_and_past_eof_matches_snapshot, 300)
{
	const struct stream *s = &self->s;
	const size_t page_line = line_start_from(s, PG);
	const int64_t offs[] = {
		0, line_start(s, 1) - 1, line_start(s, 1), page_line - 1,
		page_line, line_start(s, s->count / 2),
		line_start(s, s->count - 1), PG - 1, PG, PG + 1,
		16 * PG - 1, 16 * PG, s->size - 1, s->size, s->size + 1,
		s->size + MIB,
	};
	static const size_t lens[] = { 1, 100, 4096, 70000 };
	static unsigned char buf[70000];
	size_t k;

	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);

		pread_grid(_metadata, fd, s, events_files[k], offs,
			   ARRAY_SIZE(offs), lens, ARRAY_SIZE(lens), buf);
		ASSERT_EQ(0, pread(fd, buf, 1, s->size));
		ASSERT_EQ(0, pread(fd, buf, sizeof(buf), s->size + MIB));
		ASSERT_EQ(0, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, s, events_files[k], 0, buf,
					  100));
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* lseek()                                                            */
/* ------------------------------------------------------------------ */

/*
 * lseek() SEEK_SET/SEEK_CUR then read(): each lseek returns the position
 * it was asked for (past EOF too), each read the snapshot from there (0
 * past EOF).
 */
TEST_F_TIMEOUT(events, lseek_set_and_cur_then_read_match_snapshot, 180)
{
	const struct stream *s = &self->s;
	const int64_t mid = line_start(s, s->count / 2);
	const int64_t last = line_start(s, s->count - 1);
	const int64_t size = s->size;
	const struct {
		int whence;
		int64_t off;
		size_t len;
	} ops[] = {
		{ SEEK_SET, mid, 1000 },
		{ SEEK_CUR, 0, 300 },
		{ SEEK_CUR, 500, 300 },
		{ SEEK_CUR, -1000, 50 },
		{ SEEK_SET, 0, 10 },
		{ SEEK_SET, PG - 1, 2 },
		{ SEEK_SET, PG + 1, 4096 },
		{ SEEK_CUR, -(int64_t)(2 * PG + 1), 100 },
		{ SEEK_SET, last, 65536 },
		{ SEEK_SET, size - 5, 100 },
		{ SEEK_SET, size, 1 },
		{ SEEK_SET, size + 1000, 100 },
		{ SEEK_CUR, 0, 1 },
		{ SEEK_CUR, mid - size - 1000, 200 },
		{ SEEK_CUR, -1, 4097 },
	};
	unsigned char buf[65536];
	size_t i, k, got;

	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);
		int64_t pos = 0;

		for (i = 0; i < ARRAY_SIZE(ops); i++) {
			pos = ops[i].whence == SEEK_SET ? ops[i].off :
							  pos + ops[i].off;
			ASSERT_EQ(pos, lseek(fd, ops[i].off, ops[i].whence)) {
				TH_LOG("%s op %zu: lseek(%lld, %d)",
				       events_files[k], i,
				       (long long)ops[i].off, ops[i].whence);
			}
			got = read_full(_metadata, fd, buf, ops[i].len);
			ASSERT_EQ(expected_count(s, pos, ops[i].len), got) {
				TH_LOG("%s op %zu: read(%zu) at %lld",
				       events_files[k], i, ops[i].len,
				       (long long)pos);
			}
			ASSERT_TRUE(model_matches(_metadata, s, events_files[k],
						  pos, buf, got));
			pos += got;
		}
		ASSERT_EQ(pos, lseek(fd, 0, SEEK_CUR));
		close(fd);
	}
}

/*
 * SEEK_END, SEEK_DATA, SEEK_HOLE, an unknown whence and negative results
 * are EINVAL (seq_lseek) and leave the position where it was.
 */
TEST_F(events, lseek_end_and_invalid_fail_einval_and_keep_position)
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
	size_t j, k;

	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]);

		ASSERT_EQ(777U, read_full(_metadata, fd, head, 777));
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			errno = 0;
			ASSERT_EQ(-1, lseek(fd, bad[j].off, bad[j].whence)) {
				TH_LOG("%s: lseek(%lld, %d) did not fail",
				       events_files[k], (long long)bad[j].off,
				       bad[j].whence);
			}
			ASSERT_EQ(EINVAL, errno) {
				TH_LOG("%s: lseek(%lld, %d): errno %d",
				       events_files[k], (long long)bad[j].off,
				       bad[j].whence, errno);
			}
			ASSERT_EQ(777, lseek(fd, 0, SEEK_CUR));
		}
		ASSERT_EQ(100U, read_full(_metadata, fd, buf, 100));
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  777, buf, 100));
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* A mixed sequence on one fd                                         */
/* ------------------------------------------------------------------ */

/*
 * splice 2, read 4093, splice 100000, lseek back to a line start, sendfile
 * 65536 to a pipe, sendfile with an offset (f_pos kept), sendfile 100000
 * to /dev/null, read 4096, then sendfile to EOF and 0 after: every byte
 * the snapshot's at its offset, the position where the calls left it.
 */
TEST_F_TIMEOUT(events, mixed_splice_read_lseek_sendfile_read_match_snapshot, 180)
{
	const struct stream *s = &self->s;
	static unsigned char buf[100000];
	size_t k, pcap, got;

	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		int fd = open_file(_metadata, events_files[k]), p[2], null;
		int64_t at = 0, off;

		pcap = make_pipe(_metadata, p, 16);
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, null);

		got = splice_full(_metadata, fd, NULL, p, pcap, buf, 2);
		ASSERT_EQ(2U, got);
		ASSERT_TRUE(model_matches(_metadata, s, "splice 2", at, buf,
					  got));
		at += got;
		got = read_full(_metadata, fd, buf, 4093);
		ASSERT_EQ(4093U, got);
		ASSERT_TRUE(model_matches(_metadata, s, "read 4093", at, buf,
					  got));
		at += got;
		got = splice_full(_metadata, fd, NULL, p, pcap, buf, 100000);
		ASSERT_EQ(expected_count(s, at, 100000), got);
		ASSERT_TRUE(model_matches(_metadata, s, "splice 100000", at,
					  buf, got));
		at += got;
		ASSERT_EQ(at, lseek(fd, 0, SEEK_CUR));

		at = line_start(s, 10);
		ASSERT_EQ(at, lseek(fd, at, SEEK_SET));
		got = sendfile_pipe_full(_metadata, fd, NULL, p, pcap, buf,
					 65536);
		ASSERT_EQ(expected_count(s, at, 65536), got);
		ASSERT_TRUE(model_matches(_metadata, s, "sendfile to a pipe",
					  at, buf, got));
		at += got;
		ASSERT_EQ(at, lseek(fd, 0, SEEK_CUR));

		off = mid_line(s, 5);
		got = sendfile_pipe_full(_metadata, fd, &off, p, pcap, buf,
					 5000);
		ASSERT_EQ(expected_count(s, mid_line(s, 5), 5000), got);
		ASSERT_TRUE(model_matches(_metadata, s, "sendfile at an offset",
					  mid_line(s, 5), buf, got));
		ASSERT_EQ(at, lseek(fd, 0, SEEK_CUR));

		got = sendfile_full(_metadata, null, fd, 100000);
		ASSERT_EQ(expected_count(s, at, 100000), got);
		at += got;
		ASSERT_EQ(at, lseek(fd, 0, SEEK_CUR));
		got = read_full(_metadata, fd, buf, 4096);
		ASSERT_EQ(expected_count(s, at, 4096), got);
		ASSERT_TRUE(model_matches(_metadata, s, "read 4096", at, buf,
					  got));
		at += got;

		got = sendfile_full(_metadata, null, fd, s->size + MIB);
		ASSERT_EQ(s->size - at, got);
		ASSERT_EQ((off_t)s->size, lseek(fd, 0, SEEK_CUR));
		ASSERT_EQ(0, sendfile(null, fd, NULL, 4096));
		ASSERT_EQ(0, read(fd, buf, 4096));
		close(null);
		close_pipe(p);
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* stats                                                              */
/* ------------------------------------------------------------------ */

/*
 * Only the engine's file gifts pages: a splice of events to EOF gifts at
 * least one pipe buffer per page of every call and counts its bytes and
 * its open; events_copy leaves the counters alone.
 */
TEST_F_TIMEOUT(events, splice_gifts_pages_on_events_and_none_on_events_copy, 120)
{
	size_t cap = self->s.size + 65536, pcap, got, k;
	unsigned char *out = malloc(cap);

	ASSERT_NE(NULL, out);
	for (k = 0; k < ARRAY_SIZE(events_files); k++) {
		struct tally t = { 0 };
		struct stats a, b;
		int fd, p[2];

		read_stats(_metadata, &a);
		fd = open_file(_metadata, events_files[k]);
		pcap = make_pipe(_metadata, p, 16);
		got = splice_to_eof(_metadata, fd, NULL, p, pcap, 65536, out,
				    cap, &t);
		read_stats(_metadata, &b);
		ASSERT_EQ(self->s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  0, out, got));
		ASSERT_LE(div_up(got, PG), t.min_bufs);
		if (k == 0) {
			ASSERT_LE((long long)t.min_bufs,
				  stat_delta(&a, &b, ST_PAGES_GIFTED));
			ASSERT_EQ((long long)got,
				  stat_delta(&a, &b, ST_BYTES_SPLICED));
			ASSERT_EQ(1, stat_delta(&a, &b, ST_OPENS));
		} else {
			ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
			ASSERT_EQ(0, stat_delta(&a, &b, ST_BYTES_SPLICED));
			ASSERT_EQ(0, stat_delta(&a, &b, ST_OPENS));
		}
		close_pipe(p);
		close(fd);
	}
	free(out);
}

/*
 * events and events_copy open at the same time, read in turns with other
 * chunk sizes: the same bytes, the snapshot's; events_readers is 1, 2,
 * then 1 and 0 as they open and close; each open charges its iterators
 * (meta_pages_held grows by at least a page per CPU), and pages_held is
 * back to 0 after.
 */
TEST_F_TIMEOUT(events, events_and_events_copy_open_together_read_the_same_bytes_and_count_readers, 120)
{
	static const size_t chunks[] = { 4096, 999 };
	size_t cap = self->s.size + PG, got[2] = { 0, 0 }, k;
	unsigned char *out[2];
	bool eof[2] = { false, false };
	long long meta[3];
	long long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	int fd[2];

	for (k = 0; k < 2; k++) {
		out[k] = malloc(cap);
		ASSERT_NE(NULL, out[k]);
	}
	ASSERT_EQ(0, events_stat("events_readers"));
	meta[0] = stat_ok(_metadata, "meta_pages_held");
	fd[0] = open_file(_metadata, EVENTS);
	ASSERT_EQ(1, events_stat("events_readers"));
	meta[1] = stat_ok(_metadata, "meta_pages_held");
	fd[1] = open_file(_metadata, EVENTS_COPY);
	ASSERT_EQ(2, events_stat("events_readers"));
	meta[2] = stat_ok(_metadata, "meta_pages_held");
	/* Each open charges a page per possible CPU for its iterators. */
	ASSERT_LE(meta[0] + ncpus, meta[1]);
	ASSERT_LE(meta[1] + ncpus, meta[2]);

	while (!eof[0] || !eof[1]) {
		for (k = 0; k < 2; k++) {
			ssize_t r;

			if (eof[k])
				continue;
			ASSERT_GE(cap, got[k] + chunks[k]);
			r = read(fd[k], out[k] + got[k], chunks[k]);
			ASSERT_LE(0, r) {
				TH_LOG("%s read(%zu) at %zu: %s",
				       events_files[k], chunks[k], got[k],
				       strerror(errno));
			}
			ASSERT_GE((ssize_t)chunks[k], r);
			eof[k] = !r;
			got[k] += r;
		}
	}
	ASSERT_EQ(2, events_stat("events_readers"));
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(self->s.size, got[k]);
		ASSERT_TRUE(model_matches(_metadata, &self->s, events_files[k],
					  0, out[k], got[k]));
	}
	ASSERT_EQ(0, memcmp(out[0], out[1], self->s.size));

	close(fd[0]);
	ASSERT_EQ(1, events_stat("events_readers"));
	close(fd[1]);
	ASSERT_EQ(0, events_stat("events_readers"));
	ASSERT_EQ(0, stat_ok(_metadata, "pages_held"));
	free(out[0]);
	free(out[1]);
}

TEST_HARNESS_MAIN
