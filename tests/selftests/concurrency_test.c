// SPDX-License-Identifier: GPL-2.0
/*
 * concurrency_test - one open of trace shared by threads (splice with
 * off_in, pread and read on the same fd, every byte against the model),
 * and splices of one open while another open of the same stream rewinds
 * and reads. Conventions: tests/common/seqsplice_test.h.
 */
#include <pthread.h>

#include "../common/seqsplice_test.h"

/* xorshift64*: the shared-fd workers' lengths and offsets, seeded. */
static uint64_t rnd(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* An offset biased towards 0, EOF, past EOF, page and record edges. */
static int64_t pick_off(uint64_t *r, const struct stream *s)
{
	int64_t size = s->size, v;

	switch (rnd(r) % 8) {
	case 0:
		return 0;
	case 1:
		v = size - 1 - (int64_t)(rnd(r) % 3);
		return v < 0 ? 0 : v;
	case 2:
		return size + rnd(r) % 300;
	case 3:
		v = (int64_t)(rnd(r) % (size / PG + 1)) * PG +
		    (int64_t)(rnd(r) % 3) - 1;
		return v < 0 ? 0 : v;
	case 4:
		return (int64_t)(rnd(r) % s->count) * s->width +
		       (int64_t)(rnd(r) % 3);
	default:
		return rnd(r) % (size + 1);
	}
}

FIXTURE(seqsplice) {
	int unused;
};
SEQSPLICE_FIXTURE_HOOKS(seqsplice)

/* ------------------------------------------------------------------ */
/* one fd shared by threads                                           */
/* ------------------------------------------------------------------ */

enum { W_SPLICE_OFF, W_PREAD, W_READ };

struct shared_worker {
	pthread_t th;
	int kind;
	int fd;
	const struct stream *s;
	uint64_t seed;
	int iters;
	int failed;
	char msg[256];
};

/* No ASSERTs in here: the harness longjmp()s, which a thread must not. */
static void *shared_worker_fn(void *arg)
{
	struct shared_worker *w = arg;
	const struct stream *s = w->s;
	size_t cap = 70000 + PG;
	unsigned char *buf = malloc(cap);
	int64_t pos = 0;
	int p[2] = { -1, -1 };
	int i;

	if (!buf || (w->kind == W_SPLICE_OFF && pipe2(p, O_CLOEXEC))) {
		worker_fail(w, "setup: %s", strerror(errno));
		goto out;
	}
	if (w->kind == W_SPLICE_OFF &&
	    fcntl(p[1], F_SETPIPE_SZ, 32 * PG) != (int)(32 * PG)) {
		worker_fail(w, "F_SETPIPE_SZ: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < w->iters && !w->failed; i++) {
		size_t len = 1 + rnd(&w->seed) % 70000;
		int64_t off = pick_off(&w->seed, s);
		ssize_t r;
		loff_t o;

		switch (w->kind) {
		case W_SPLICE_OFF:
			o = off;
			r = splice(w->fd, &o, p[1], NULL, len, 0);
			if (r < 0) {
				worker_fail(w, "splice(%zu, off %lld): %s",
					    len, (long long)off,
					    strerror(errno));
				break;
			}
			if (o != off + r || pipe_bytes(p[0]) != r) {
				worker_fail(w, "splice at %lld returned %zd, off_in now %lld, pipe %ld",
					    (long long)off, r, (long long)o,
					    pipe_bytes(p[0]));
				break;
			}
			for (size_t got = 0; got < (size_t)r;) {
				ssize_t k = read(p[0], buf + got, r - got);

				if (k <= 0) {
					worker_fail(w, "pipe read: %s",
						    strerror(errno));
					break;
				}
				got += k;
			}
			break;
		case W_PREAD:
			r = pread(w->fd, buf, len, off);
			if (r < 0)
				worker_fail(w, "pread(%zu, %lld): %s", len,
					    (long long)off, strerror(errno));
			break;
		default:
			if (i % 25 == 24) {
				pos = 0;
				if (lseek(w->fd, 0, SEEK_SET) != 0)
					worker_fail(w, "lseek 0: %s",
						    strerror(errno));
			}
			off = pos;
			r = read(w->fd, buf, len);
			if (r < 0)
				worker_fail(w, "read(%zu) at %lld: %s", len,
					    (long long)pos, strerror(errno));
			pos += r > 0 ? r : 0;
			break;
		}
		if (w->failed)
			break;
		/* 0 exactly at EOF, otherwise 1..len bytes of the model. */
		if ((uint64_t)off >= s->size ? r != 0 :
		    (r <= 0 || (size_t)r > len ||
		     (size_t)r > s->size - (size_t)off)) {
			worker_fail(w, "kind %d: %zd bytes for len %zu at %lld (EOF %zu)",
				    w->kind, r, len, (long long)off, s->size);
			break;
		}
		if (r > 0 && memcmp(buf, s->buf + off, r)) {
			size_t k = 0;

			while (buf[k] == s->buf[off + k])
				k++;
			worker_fail(w, "kind %d: %zd bytes at %lld differ from the model at stream offset %lld",
				    w->kind, r, (long long)off,
				    (long long)(off + k));
		}
	}
out:
	close_pipe(p);
	free(buf);
	return NULL;
}

TEST_F_TIMEOUT(seqsplice, shared_fd_threads_splice_off_in_pread_read_match_model, 120)
{
	struct shared_worker w[3];
	struct stream s;
	int fd, i;

	use_stream(_metadata, &s, 2000, 0, 16, 0, NULL);
	fd = open_file(_metadata, TRACE);
	for (i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].kind = i;
		w[i].fd = fd;
		w[i].s = &s;
		w[i].seed = 0xabcdef12345ULL + i;
		w[i].iters = 150;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, shared_worker_fn,
					    &w[i]));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(w[i].th, NULL));
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, w[i].failed) {
			TH_LOG("thread %d: %s", i, w[i].msg);
		}
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* concurrency: several processes, several opens                      */
/* ------------------------------------------------------------------ */

static void rewind_or_splice_worker(struct __test_metadata *_metadata,
				    const struct stream *s, bool splicer)
{
	unsigned char *buf = malloc(s->size + MIB);
	int fd = open_file(_metadata, TRACE);
	int p[2], round;
	size_t pcap;

	ASSERT_NE(NULL, buf);
	pcap = make_pipe(_metadata, p, splicer ? 0 : 64);
	for (round = 0; round < (splicer ? 3 : 6); round++) {
		size_t got;

		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		if (splicer)
			got = splice_to_eof(_metadata, fd, NULL, p, pcap,
					    4097 + round * 30000, buf,
					    s->size + MIB, NULL);
		else
			got = read_to_eof(_metadata, fd, buf, s->size + MIB,
					  8191);
		ASSERT_EQ(s->size, got);
		ASSERT_TRUE(model_matches(_metadata, s,
					  splicer ? "splicer" : "rewinder", 0,
					  buf, got));
	}
	close(fd);
	close_pipe(p);
	free(buf);
}

TEST_F_TIMEOUT(seqsplice, splice_while_another_open_rewinds_and_reads, 180)
{
	struct stream s;
	pid_t pid[2];
	int forked;

	use_stream(_metadata, &s, 3000, 0, 16, 0, NULL);
	fflush(stderr);
	for (forked = 0; forked < 2; forked++) {
		pid[forked] = fork();
		if (pid[forked] < 0)
			break;
		if (!pid[forked]) {
			rewind_or_splice_worker(_metadata, &s, forked == 1);
			_exit(_metadata->exit_code == KSFT_PASS ? 0 : 1);
		}
	}
	wait_workers(_metadata, pid, forked, "rewind+read / splice");
	ASSERT_EQ(2, forked);
}

TEST_HARNESS_MAIN
