// SPDX-License-Identifier: GPL-2.0
/*
 * knobs_test - the knob files: defaults, invalid writes (EINVAL, value
 * kept), boundaries, record_mode, raw records against the model and
 * trace_copy, knobs snapshotted at open; the directory's files, owners and
 * modes and that uid 65534 opens none of them; the stats listing.
 * Conventions: tests/common/seqsplice_test.h. Where Documentation/files.rst leaves room:
 * a knob write is one write(2) of exactly the decimal digits, optionally
 * plus one '\n'; a 0-byte write, a NUL, a sign, hex, spaces or a second
 * newline are EINVAL; a leading zero is decimal or EINVAL, never octal.
 * Reads give "<value>\n". record_mode takes "raw"/"printf" (+ optional
 * '\n'), case sensitive. The directory holds exactly the files of the
 * table; mode bits as listed, so uid 65534 gets EACCES on every open.
 */
#include <dirent.h>
#include <grp.h>

#include "../common/seqsplice_test.h"

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* knobs                                                              */
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
/* permissions                                                        */
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
	{ "trace_ops", 0440 }, { "lines", 0440 }, { "lines_copy", 0440 },
	{ "events", 0440 }, { "events_copy", 0440 },
	{ "events_enable", 0640 }, { "events_buffer_size_kb", 0640 },
	{ "mirror", 0440 }, { "mirror_copy", 0440 }, { "mirror_path", 0600 },
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
/* stats: the listing                                                 */
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

TEST_HARNESS_MAIN
