/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the guest tests outside the main suite
 * (tests/fault, tests/memcg): knob writes and the module's counters.
 */
#ifndef SEQSPLICE_TESTS_UTIL_H
#define SEQSPLICE_TESTS_UTIL_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEQSPLICE_DIR "/sys/kernel/seqsplice/"

/* Writes v to path; 0 when all of it was taken. */
static inline int put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, v, strlen(v));
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

/* The value of counter `name` in the module's stats, -1 if absent. */
static inline long long stat_value(const char *name)
{
	char buf[4096], *p;
	int fd = open(SEQSPLICE_DIR "stats", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ')
			return atoll(p + strlen(name) + 1);
	return -1;
}

#endif
