// SPDX-License-Identifier: GPL-2.0
/*
 * sources_test.c - the engine's seam: sources other than `trace`'s go
 * through the same engine and file operations with the same results.
 *
 * - `lines` / `lines_copy`: a second, independent source (src/sources/lines.rs):
 *   20000 positions of "%015d\n" lines, every position i % 1000 == 999
 *   skipped, formatted with Rust formatting; `lines` through the engine,
 *   `lines_copy` through the stock seq_file core. Both must give exactly
 *   the model below by read, pread, lseek, splice and sendfile, and only
 *   `lines` gifts pages.
 * - `trace_ops`: the engine driving the C seq_operations table of the
 *   synthetic records (one indirect call per callback): exactly trace's
 *   records (model.h) in both record modes, pages gifted.
 */
#include <sys/sendfile.h>

#include "../common/seqsplice_test.h"

#define LINES		20000
#define SKIP_EVERY	1000
#define LINE_LEN	16
#define LINES_SIZE	((size_t)(LINES - LINES / SKIP_EVERY) * LINE_LEN)

/* The model of `lines`: every kept position's line, in order. */
static void lines_build(struct __test_metadata *_metadata, struct stream *s)
{
	char line[LINE_LEN + 1];
	size_t at = 0;
	int i;

	s->width = LINE_LEN;
	s->count = LINES;
	s->size = LINES_SIZE;
	s->buf = malloc(s->size + 1);
	ASSERT_NE(NULL, s->buf);
	for (i = 0; i < LINES; i++) {
		if (i % SKIP_EVERY == SKIP_EVERY - 1)
			continue;
		snprintf(line, sizeof(line), "%015d\n", i);
		memcpy(s->buf + at, line, LINE_LEN);
		at += LINE_LEN;
	}
	ASSERT_EQ(s->size, at);
}

static const char *const lines_files[] = { "lines", "lines_copy" };

FIXTURE(seqsplice) {
	struct stream s;
};

SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* Whole file by read() in chunks and by splice() of several sizes. */
TEST_F_TIMEOUT(seqsplice, lines_whole_file_by_read_and_splice_match_model_on_both_paths, 240)
{
	static const size_t chunks[] = { 4093, 65536 };
	static const struct { size_t len; unsigned int slots; } sp[] = {
		{ 4096, 16 }, { 100000, 16 }, { 1 << 20, 256 },
	};
	size_t cap = LINES_SIZE + (2 << 20), i, k;
	unsigned char *out = malloc(cap);

	ASSERT_NE(NULL, out);
	lines_build(_metadata, &self->s);
	for (k = 0; k < ARRAY_SIZE(lines_files); k++) {
		for (i = 0; i < ARRAY_SIZE(chunks); i++) {
			int fd = open_file(_metadata, lines_files[k]);
			size_t got = read_to_eof(_metadata, fd, out, cap,
						 chunks[i]);

			close(fd);
			ASSERT_EQ(LINES_SIZE, got) {
				TH_LOG("%s read(%zu): %zu bytes",
				       lines_files[k], chunks[i], got);
			}
			ASSERT_TRUE(model_matches(_metadata, &self->s,
						  lines_files[k], 0, out, got));
		}
		for (i = 0; i < ARRAY_SIZE(sp); i++) {
			int fd = open_file(_metadata, lines_files[k]), p[2];
			size_t pcap = make_pipe(_metadata, p, sp[i].slots);
			size_t got = splice_to_eof(_metadata, fd, NULL, p, pcap,
						   sp[i].len, out, cap, NULL);

			close(fd);
			close_pipe(p);
			ASSERT_EQ(LINES_SIZE, got) {
				TH_LOG("%s splice(%zu): %zu bytes",
				       lines_files[k], sp[i].len, got);
			}
			ASSERT_TRUE(model_matches(_metadata, &self->s,
						  lines_files[k], 0, out, got));
		}
	}
	free(out);
}

/* pread at the edges of skipped positions, pages and EOF; lseek + read. */
TEST_F(seqsplice, lines_pread_and_lseek_match_model_on_both_paths)
{
	static const int64_t offs[] = {
		0, 1, 15, 16, 4095, 4096, 15983, 15984, 15999, 16000,
		999 * 16 * 7 + 3, 100000, LINES_SIZE - 4097, LINES_SIZE - 1,
		LINES_SIZE, LINES_SIZE + 100,
	};
	static const size_t lens[] = { 1, 17, 4096, 70000 };
	unsigned char buf[70000];
	size_t i, j, k;

	lines_build(_metadata, &self->s);
	for (k = 0; k < ARRAY_SIZE(lines_files); k++) {
		int fd = open_file(_metadata, lines_files[k]);

		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			for (j = 0; j < ARRAY_SIZE(lens); j++) {
				size_t got = pread_full(_metadata, fd, buf,
							lens[j], offs[i]);

				ASSERT_EQ(expected_count(&self->s, offs[i],
							 lens[j]), got) {
					TH_LOG("%s pread(%zu, %lld)",
					       lines_files[k], lens[j],
					       (long long)offs[i]);
				}
				ASSERT_TRUE(model_matches(_metadata, &self->s,
							  lines_files[k],
							  offs[i], buf, got));
			}
			ASSERT_EQ(offs[i], lseek(fd, offs[i], SEEK_SET));
			ASSERT_EQ(expected_count(&self->s, offs[i], 4096),
				  read_full(_metadata, fd, buf, 4096));
			ASSERT_TRUE(model_matches(_metadata, &self->s,
						  lines_files[k], offs[i], buf,
						  expected_count(&self->s,
								 offs[i],
								 4096)));
		}
		close(fd);
	}
}

/*
 * splice 2, read 4093, splice 100000, lseek back, sendfile to a file: the
 * same mixed sequence as trace's, the same bytes on both paths.
 */
TEST_F(seqsplice, lines_mixed_splice_read_lseek_sendfile_match_model)
{
	unsigned char buf[100000];
	size_t k;

	lines_build(_metadata, &self->s);
	for (k = 0; k < ARRAY_SIZE(lines_files); k++) {
		int fd = open_file(_metadata, lines_files[k]), p[2], out;
		size_t pcap = make_pipe(_metadata, p, 32);
		char tmp[] = "/tmp/lines_XXXXXX";
		size_t got, at = 0;
		ssize_t r;

		got = splice_full(_metadata, fd, NULL, p, pcap, buf, 2);
		ASSERT_EQ(2U, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, "splice 2", at,
					  buf, got));
		at += got;
		got = read_full(_metadata, fd, buf, 4093);
		ASSERT_EQ(4093U, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, "read 4093", at,
					  buf, got));
		at += got;
		got = splice_full(_metadata, fd, NULL, p, pcap, buf, 100000);
		ASSERT_EQ(100000U, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, "splice 100000",
					  at, buf, got));
		ASSERT_EQ(5000, lseek(fd, 5000, SEEK_SET));
		out = mkstemp(tmp);
		ASSERT_LE(0, out);
		unlink(tmp);
		r = sendfile(out, fd, NULL, 300000);
		ASSERT_EQ(300000, r) TH_LOG("sendfile: %s", strerror(errno));
		ASSERT_EQ(100000, pread(out, buf, 100000, 200000));
		ASSERT_TRUE(model_matches(_metadata, &self->s, "sendfile",
					  205000, buf, 100000));
		close(out);
		close_pipe(p);
		close(fd);
	}
}

/* Only the engine's file gifts pages: the copy path leaves the counters. */
TEST_F(seqsplice, lines_splice_gifts_pages_and_lines_copy_does_not)
{
	unsigned char buf[65536];
	struct stats a, b;
	size_t k;

	lines_build(_metadata, &self->s);
	for (k = 0; k < ARRAY_SIZE(lines_files); k++) {
		size_t pcap;
		int fd, p[2];

		read_stats(_metadata, &a);
		fd = open_file(_metadata, lines_files[k]);
		pcap = make_pipe(_metadata, p, 16);
		ASSERT_EQ(65536U, splice_full(_metadata, fd, NULL, p, pcap,
					      buf, 65536));
		read_stats(_metadata, &b);
		ASSERT_TRUE(model_matches(_metadata, &self->s, lines_files[k],
					  0, buf, 65536));
		if (k == 0) {
			ASSERT_LE(16, stat_delta(&a, &b, ST_PAGES_GIFTED));
			ASSERT_EQ(65536, stat_delta(&a, &b, ST_BYTES_SPLICED));
			ASSERT_EQ(1, stat_delta(&a, &b, ST_OPENS));
		} else {
			ASSERT_EQ(0, stat_delta(&a, &b, ST_PAGES_GIFTED));
			ASSERT_EQ(0, stat_delta(&a, &b, ST_BYTES_SPLICED));
		}
		close_pipe(p);
		close(fd);
	}
}

/* trace_ops: trace's records through the C table, both record modes. */
TEST_F_TIMEOUT(seqsplice, trace_ops_matches_model_by_read_splice_pread_in_both_modes, 180)
{
	static const char *const modes[] = { "printf", "raw" };
	static const int64_t offs[] = { 0, 99, 4096, 123457, 999999 };
	unsigned char *out, buf[8192];
	size_t cap, m, i;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		struct stats a, b;
		size_t pcap, got;
		int fd, p[2];

		use_stream(_metadata, &self->s, 20000, 0, 64, 0, modes[m]);
		cap = self->s.size + (2 << 20);
		out = malloc(cap);
		ASSERT_NE(NULL, out);

		read_stats(_metadata, &a);
		fd = open_file(_metadata, "trace_ops");
		pcap = make_pipe(_metadata, p, 16);
		got = splice_to_eof(_metadata, fd, NULL, p, pcap, 65536, out,
				    cap, NULL);
		close_pipe(p);
		read_stats(_metadata, &b);
		ASSERT_EQ(self->s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, "trace_ops splice",
					  0, out, got));
		ASSERT_LE((long long)div_up(got, PG),
			  stat_delta(&a, &b, ST_PAGES_GIFTED));
		ASSERT_EQ((long long)got, stat_delta(&a, &b, ST_BYTES_SPLICED));

		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		got = read_to_eof(_metadata, fd, out, cap, 4096);
		ASSERT_EQ(self->s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, "trace_ops read",
					  0, out, got));
		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			got = pread_full(_metadata, fd, buf, sizeof(buf),
					 offs[i]);
			ASSERT_EQ(expected_count(&self->s, offs[i], sizeof(buf)),
				  got);
			ASSERT_TRUE(model_matches(_metadata, &self->s,
						  "trace_ops pread", offs[i],
						  buf, got));
		}
		close(fd);
		free(out);
		free(self->s.buf);
		self->s.buf = NULL;
	}
}

/*
 * seq_file's contract in direct mode: a record that does not fit the rest
 * of a page moves to the next page.  trace (a Rust source that declares it
 * safe) shows it again at once; trace_ops (a C table) only after ->stop and
 * ->start, as seq_read_iter() does: one restart per page moved to, the
 * same bytes.
 */
TEST_F_TIMEOUT(seqsplice, direct_mode_reshows_c_table_records_after_stop_and_start, 120)
{
	static const char *const files[] = { "trace", "trace_ops" };
	unsigned char *out;
	size_t cap, f;

	use_stream(_metadata, &self->s, 20000, 100, 64, 0, "printf");
	set_knob(_metadata, "map_mode", "direct");
	cap = self->s.size + (2 << 20);
	out = malloc(cap);
	ASSERT_NE(NULL, out);
	for (f = 0; f < ARRAY_SIZE(files); f++) {
		long long pages, restarts;
		struct stats a, b;
		size_t pcap, got;
		int fd, p[2];

		read_stats(_metadata, &a);
		fd = open_file(_metadata, files[f]);
		pcap = make_pipe(_metadata, p, 16);
		got = splice_to_eof(_metadata, fd, NULL, p, pcap, 65536, out,
				    cap, NULL);
		close_pipe(p);
		close(fd);
		read_stats(_metadata, &b);
		ASSERT_EQ(self->s.size, got);
		ASSERT_TRUE(model_matches(_metadata, &self->s, files[f], 0,
					  out, got));
		pages = stat_delta(&a, &b, ST_DIRECT_PAGES);
		restarts = stat_delta(&a, &b, ST_RESTARTS);
		/* 100-byte records: nearly every page ends with one moved on. */
		ASSERT_LT((long long)(got / PG / 2), pages);
		ASSERT_EQ(f ? pages : 0, restarts) {
			TH_LOG("%s: %lld pages moved to, %lld restarts",
			       files[f], pages, restarts);
		}
	}
	free(out);
}

TEST_HARNESS_MAIN
