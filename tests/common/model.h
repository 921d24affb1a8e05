/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference model of the seqsplice record stream (Documentation/files.rst,
 * "Record format"): the bytes every read, pread, splice, sendfile, tee, ... of
 * `trace` and `trace_copy` must produce, computed from the offset alone.
 *
 * Every record is exactly `width` bytes, so the byte at offset `off` is byte
 * `off % width` of record `off / width`; EOF is at `count * width`. Record i:
 *
 *   header (83 bytes): snprintf(h, 84, MODEL_HEADER_FMT, "seqsplice",
 *       1000 + i % 9000, i % 4, t / 1000000, t % 1000000, i), t = i * 1237
 *   width - 84 filler bytes: byte j is 'a' + (i + j) % 26
 *   '\n'
 *
 * The header is produced with snprintf on purpose: the module's printf mode
 * uses seq_printf and its raw mode hand-formats, so this is an independent
 * third implementation.
 */
#ifndef SEQSPLICE_MODEL_H
#define SEQSPLICE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MODEL_HEADER_LEN	83
#define MODEL_MIN_WIDTH		(MODEL_HEADER_LEN + 1)
#define MODEL_MAX_WIDTH		(1u << 20)
#define MODEL_MAX_COUNT		10000000u
#define MODEL_HEADER_FMT \
	"%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u "

/*
 * Writes the header of record i into h (NUL-terminated, what
 * snprintf(h, 84, ...) writes) and returns what snprintf returned:
 * MODEL_HEADER_LEN for every i < MODEL_MAX_COUNT. (Formatting into a wider
 * scratch buffer first keeps -Wformat-truncation quiet where a caller
 * ignores the return value; the bytes are the same.)
 */
static inline int model_header(uint64_t i, char h[MODEL_HEADER_LEN + 1])
{
	uint64_t t = i * 1237;
	char wide[128];
	int n;

	n = snprintf(wide, sizeof(wide), MODEL_HEADER_FMT, "seqsplice",
		     (unsigned int)(1000 + i % 9000), (unsigned int)(i % 4),
		     (unsigned int)(t / 1000000), (unsigned int)(t % 1000000),
		     (unsigned int)i);
	memcpy(h, wide, MODEL_HEADER_LEN);
	h[MODEL_HEADER_LEN] = '\0';
	return n;
}

/*
 * record_mode=raw: each open preformats the first P = max(1, 65536 / W)
 * records, and record i is the printf record i % P.  0 = printf mode; the
 * tests set it with the knob (use_stream()).
 */
static int model_raw;

static inline uint64_t model_raw_period(uint64_t width)
{
	uint64_t p = 65536 / width;

	return p ? p : 1;
}

/* The printf record whose bytes record i carries. */
static inline uint64_t model_index(uint64_t i, uint64_t width)
{
	return model_raw ? i % model_raw_period(width) : i;
}

/* Size of the whole stream: the EOF offset. */
static inline uint64_t model_size(uint64_t width, uint64_t count)
{
	return width * count;
}

/* Byte j (0 <= j < width) of record i, which must exist. */
static inline unsigned char model_record_byte(uint64_t i, uint64_t j,
					      uint64_t width)
{
	char h[MODEL_HEADER_LEN + 1];

	i = model_index(i, width);
	if (j < MODEL_HEADER_LEN) {
		model_header(i, h);
		return (unsigned char)h[j];
	}
	if (j + 1 == width)
		return '\n';
	return (unsigned char)('a' + (i + (j - MODEL_HEADER_LEN)) % 26);
}

/* The byte at offset off, or -1 at or past EOF. */
static inline int byte_at(uint64_t off, uint64_t width, uint64_t count)
{
	uint64_t i = off / width;

	if (i >= count)
		return -1;
	return model_record_byte(i, off % width, width);
}

/*
 * Fills buf with the stream bytes [off, off + len), stopping at EOF.
 * Returns the number of bytes written: len, or fewer when EOF comes first
 * (0 when off is at or past EOF).
 */
static inline size_t fill(unsigned char *buf, uint64_t off, size_t len,
			  uint64_t width, uint64_t count)
{
	uint64_t end = model_size(width, count);
	size_t done = 0;

	if (off >= end)
		return 0;
	if (len > end - off)
		len = (size_t)(end - off);

	while (done < len) {
		uint64_t i = model_index((off + done) / width, width);
		uint64_t j = (off + done) % width;
		char h[MODEL_HEADER_LEN + 1];

		/* Header part of this record. */
		if (j < MODEL_HEADER_LEN) {
			size_t n = MODEL_HEADER_LEN - j;

			if (n > len - done)
				n = len - done;
			model_header(i, h);
			memcpy(buf + done, h + j, n);
			done += n;
			j += n;
		}
		/* Filler part. */
		while (done < len && j + 1 < width) {
			buf[done++] = (unsigned char)('a' +
				(i + (j - MODEL_HEADER_LEN)) % 26);
			j++;
		}
		/* The newline. */
		if (done < len && j + 1 == width)
			buf[done++] = '\n';
	}
	return done;
}

#endif /* SEQSPLICE_MODEL_H */
