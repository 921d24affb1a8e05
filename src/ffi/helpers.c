// SPDX-License-Identifier: GPL-2.0
/*
 * One-line wrappers for static inlines and macros the Rust side cannot reach.
 *
 * The allocation wrappers are the module's allocation sites: the
 * alloc_hooks() in the macros they expand gives each one its own tag in
 * /proc/allocinfo (with vm.mem_profiling=1), which is how the tests prove
 * that no page the module allocated outlives the pipes that hold it.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "helpers.h"

unsigned long seqsplice_alloc_pages_bulk(gfp_t gfp, unsigned long nr,
					 struct page **array)
{
	return alloc_pages_bulk_array(gfp, nr, array);
}

struct page *seqsplice_alloc_page(gfp_t gfp)
{
	return alloc_page(gfp);
}

/* PAGE_KERNEL is not a constant expression on x86 (_ENC, pte mask). */
void *seqsplice_vmap(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

void seqsplice_get_page(struct page *page)
{
	get_page(page);
}

void seqsplice_put_page(struct page *page)
{
	put_page(page);
}

unsigned int seqsplice_pipe_free_slots(struct pipe_inode_info *pipe)
{
	return pipe->max_usage - pipe_occupancy(pipe->head, pipe->tail);
}

bool seqsplice_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

void *seqsplice_kvmalloc(size_t size)
{
	return kvmalloc(size, GFP_KERNEL_ACCOUNT);
}

size_t seqsplice_iov_iter_count(const struct iov_iter *iter)
{
	return iov_iter_count(iter);
}
