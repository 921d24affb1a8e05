// SPDX-License-Identifier: GPL-2.0
/*
 * memcg accounting of trace's buffer pages (the memcg_account knob), in a
 * cgroup v2 memory cgroup of the test's own.
 *
 * Upstream charges its seq buffer (GFP_KERNEL_ACCOUNT, seq_buf_alloc() in
 * fs/seq_file.c); with __GFP_ACCOUNT the bulk allocator gives one page per
 * call (alloc_pages_bulk_noprof() in mm/page_alloc.c: "Bulk allocator does
 * not support memcg accounting").  These tests show both effects with the module's
 * counters and memory.current, and print the throughput of each setting so
 * the choice of default is a measured one (design.rst, "Memory").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/seqsplice_test.h"

#define DIR SEQSPLICE_DIR
#define CG "/sys/fs/cgroup"
/* The header's MIB is unsigned long; fcntl() and the counters are signed. */
#define MIB_I (1 << 20)

static long long read_ll(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return atoll(buf);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct result {
	long long charged;	/* memory.current growth with 1 MiB in a pipe */
	long long left;		/* after close and drain */
	double per_bulk;	/* pages per bulk allocator call */
	double mibs;		/* throughput of the rest of the stream */
};

/* Splices 8 MiB of raw records from trace (1 MiB pipe), knob at account. */
static int run(struct __test_metadata *_metadata, int account, struct result *r)
{
	int t, p[2], null;
	long long before, pages0, bulk0;
	size_t total = 0;
	ssize_t n;
	double t0;

	ASSERT_EQ(0, put(DIR "memcg_account", account ? "1" : "0"));
	ASSERT_EQ(0, put(DIR "record_count", "83886"));
	/* raw records: transport, not formatting, dominates the cost */
	ASSERT_EQ(0, put(DIR "record_mode", "raw"));
	before = read_ll(CG "/seqsplice/memory.current");
	ASSERT_GE(before, 0);
	pages0 = read_stat("pages_allocated");
	bulk0 = read_stat("bulk_calls");
	t = open(DIR "trace", O_RDONLY);
	ASSERT_GE(t, 0);
	null = open("/dev/null", O_WRONLY);
	ASSERT_GE(null, 0);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(MIB_I, fcntl(p[0], F_SETPIPE_SZ, MIB_I));

	/* 1 MiB sits in the pipe: are its pages charged to us? */
	n = splice(t, NULL, p[1], NULL, MIB_I, 0);
	ASSERT_GT(n, MIB_I / 2);
	r->charged = read_ll(CG "/seqsplice/memory.current") - before;
	while (n > 0) {
		ssize_t m = splice(p[0], NULL, null, NULL, n, 0);

		ASSERT_GT(m, 0);
		n -= m;
	}
	t0 = now();
	while ((n = splice(t, NULL, p[1], NULL, MIB_I, 0)) > 0) {
		total += n;
		while (n > 0) {
			ssize_t m = splice(p[0], NULL, null, NULL, n, 0);

			ASSERT_GT(m, 0);
			n -= m;
		}
	}
	ASSERT_EQ(0, n);
	r->mibs = total / (double)MIB_I / (now() - t0);
	close(t);
	close(p[0]);
	close(p[1]);
	close(null);
	r->left = read_ll(CG "/seqsplice/memory.current") - before;
	r->per_bulk = (double)(read_stat("pages_allocated") - pages0) /
		      (double)(read_stat("bulk_calls") - bulk0);
	printf("# memcg_account=%d: %.1f MiB/s, %.1f pages per bulk call, "
	       "%lld KiB charged while 1 MiB sat in a pipe, %lld KiB after close\n",
	       account, r->mibs, r->per_bulk, r->charged / 1024, r->left / 1024);
	return 0;
}

FIXTURE(memcg) {
	int unused;
};

FIXTURE_SETUP(memcg)
{
	char pid[32];

	if (access(CG "/cgroup.controllers", F_OK))
		ASSERT_EQ(0, mount("none", CG, "cgroup2", 0, NULL));
	ASSERT_EQ(0, put(CG "/cgroup.subtree_control", "+memory"));
	if (mkdir(CG "/seqsplice", 0755))
		ASSERT_EQ(EEXIST, errno);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, put(CG "/seqsplice/cgroup.procs", pid));
}

FIXTURE_TEARDOWN(memcg)
{
	char pid[32];

	put(DIR "memcg_account", "0");
	put(DIR "record_count", "10000");
	put(DIR "record_mode", "printf");
	snprintf(pid, sizeof(pid), "%d", getpid());
	put(CG "/cgroup.procs", pid);
}

TEST_F(memcg, account_charges_pages_to_the_openers_memcg_one_page_per_bulk_call)
{
	struct result r;

	run(_metadata, 1, &r);
	/* the pages in the pipe are the cgroup's: at least 3/4 MiB of them */
	ASSERT_GE(r.charged, 3 * MIB_I / 4);
	/* ... and the bulk allocator degrades to single pages */
	ASSERT_LT(r.per_bulk, 1.5);
	/* uncharged when the pipe and the file let them go */
	ASSERT_LT(r.left, r.charged / 4);
}

TEST_F(memcg, default_keeps_bulk_batches_and_charges_nothing)
{
	struct result r;

	run(_metadata, 0, &r);
	ASSERT_LT(r.charged, MIB_I / 8);
	ASSERT_GT(r.per_bulk, 8.0);
}

TEST_HARNESS_MAIN
