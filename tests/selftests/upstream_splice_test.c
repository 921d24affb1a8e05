// SPDX-License-Identifier: GPL-2.0
/*
 * upstream_splice_test - the kernel's tools/testing/selftests/splice tests
 * (short_splice_read.sh, default_file_splice_read.sh) adapted to trace and
 * trace_copy. Conventions: tests/common/seqsplice_test.h.
 */
#include "../common/seqsplice_test.h"

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* tools/testing/selftests/splice adapted                             */
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
