// SPDX-License-Identifier: GPL-2.0
/*
 * Exact page-leak check of seqsplice, run in a guest booted with
 * sysctl.vm.mem_profiling=1: /proc/allocinfo counts the live bytes of every
 * allocation site, and the module's two sites (the bulk allocator and the
 * alloc_page fallback in src/ffi/helpers.c) are tagged "[seqsplice]".
 * Pages in a pipe must be seen there, and nothing once every pipe is
 * drained and every file closed.  kmemleak cannot do this: it does not
 * track page-allocator pages.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define DIR "/sys/kernel/seqsplice/"

/* Live bytes of the module's allocation sites, -1 if allocinfo is missing. */
static long long module_bytes(void)
{
	FILE *f = fopen("/proc/allocinfo", "r");
	char line[512];
	long long sum = 0, bytes, calls;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[seqsplice]"))
			continue;
		if (sscanf(line, " %lld %lld", &bytes, &calls) == 2)
			sum += bytes;
	}
	fclose(f);
	return sum;
}

static ssize_t drain(int fd)
{
	char buf[65536];
	ssize_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

TEST(profiling_is_on)
{
	char v[8] = "";
	int fd = open("/proc/sys/vm/mem_profiling", O_RDONLY);

	ASSERT_GE(fd, 0);
	ASSERT_GT(read(fd, v, sizeof(v) - 1), 0);
	close(fd);
	ASSERT_EQ('1', v[0]);
	ASSERT_EQ(0, module_bytes());
}

TEST(no_module_page_alive_after_pipes_drain)
{
	int a[2], b[2], t, null;
	ssize_t n;
	long long held;
	char buf[4096];

	t = open(DIR "trace", O_RDONLY);
	ASSERT_GE(t, 0);
	ASSERT_EQ(0, pipe(a));
	ASSERT_EQ(0, pipe(b));
	ASSERT_GT(fcntl(a[0], F_SETPIPE_SZ, 1 << 20), 0);
	ASSERT_GT(fcntl(b[0], F_SETPIPE_SZ, 1 << 20), 0);

	/* a partial tail, then whole pages, into pipe a; tee a copy into b */
	ASSERT_EQ(3, splice(t, NULL, a[1], NULL, 3, 0));
	n = splice(t, NULL, a[1], NULL, 512 << 10, 0);
	ASSERT_GT(n, 0);
	ASSERT_GT(tee(a[0], b[1], 1 << 20, 0), 0);
	/* read() and sendfile paths too */
	ASSERT_GT(read(t, buf, sizeof(buf)), 0);
	null = open("/dev/null", O_WRONLY);
	ASSERT_GE(null, 0);
	ASSERT_GT(sendfile(null, t, NULL, 200000), 0);
	close(null);
	close(t);

	/* the file is closed: only the pipes hold module pages now */
	held = module_bytes();
	TH_LOG("bytes held by pipes after close: %lld", held);
	ASSERT_GE(held, (long long)(n / 4096) * 4096);

	close(a[1]);
	close(b[1]);
	ASSERT_EQ(3 + n, drain(a[0]));
	ASSERT_EQ(3 + n, drain(b[0]));
	close(a[0]);
	close(b[0]);
	ASSERT_EQ(0, module_bytes());
}

TEST(no_module_page_alive_after_socket_consumer)
{
	int p[2], s[2], t;
	ssize_t n;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	ASSERT_EQ(0, pipe(p));
	t = open(DIR "trace", O_RDONLY);
	ASSERT_GE(t, 0);
	n = splice(t, NULL, p[1], NULL, 60000, 0);
	ASSERT_GT(n, 0);
	ASSERT_EQ(n, splice(p[0], NULL, s[1], NULL, n, 0));
	close(t);
	close(p[0]);
	close(p[1]);
	close(s[1]);
	ASSERT_EQ(n, drain(s[0]));
	close(s[0]);
	ASSERT_EQ(0, module_bytes());
}

TEST_HARNESS_MAIN
