/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One-line wrappers for what Rust cannot call directly: static inlines and
 * macros.  No logic lives here.
 */
#ifndef SEQSPLICE_HELPERS_H
#define SEQSPLICE_HELPERS_H

#include <linux/types.h>

struct page;
struct pipe_inode_info;
struct iov_iter;

unsigned long seqsplice_alloc_pages_bulk(gfp_t gfp, unsigned long nr,
					 struct page **array);
struct page *seqsplice_alloc_page(gfp_t gfp);
void *seqsplice_vmap(struct page **pages, unsigned int count);
void seqsplice_get_page(struct page *page);
void seqsplice_put_page(struct page *page);
unsigned int seqsplice_pipe_free_slots(struct pipe_inode_info *pipe);
bool seqsplice_fatal_signal_pending(void);
void *seqsplice_kvmalloc(size_t size);
size_t seqsplice_iov_iter_count(const struct iov_iter *iter);

#endif
