// SPDX-License-Identifier: GPL-2.0
/*
 * One-line wrappers for static inlines and macros the Rust side cannot reach.
 *
 * Page allocations carry the tag made by seqsplice_tag_alloc(), not a
 * DEFINE_ALLOC_TAG() of the module's own "alloc_tags" section: on 6.12 an
 * rmmod frees the per-CPU counters of the module's tags even while pages
 * carrying them are still in pipes (free_module() -> percpu_modfree(); the
 * fix, 12ca42c23775, is in 6.13), and the pipe's final put_page() then
 * writes freed memory in pgalloc_tag_sub().  This tag and its counters are
 * freed only once no page carries it (src/pages.rs, PageTag).
 */
#include <linux/alloc_tag.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/irqflags.h>
#include <linux/gfp.h>
#include <linux/kmemleak.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/pipe_fs_i.h>
#include <linux/rcupdate.h>
#include <linux/preempt.h>
#include <linux/ring_buffer.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include <seqsplice.h>

#include "helpers.h"

/* seqsplice_page_address() relies on every page being in the direct map. */
#ifdef CONFIG_HIGHMEM
#error "seqsplice: highmem pages have no permanent kernel address"
#endif

bool seqsplice_tag_needed(void)
{
	return IS_ENABLED(CONFIG_MEM_ALLOC_PROFILING);
}

/*
 * The tag's own memory is deliberately untagged (the _noprof allocators, and
 * no current->alloc_tag at module init): a module tag on it would still be
 * alive whenever this tag has to outlive the module, and make that unload
 * warn.  (With CONFIG_MEM_ALLOC_PROFILING_DEBUG the allocator says so once.)
 */
struct alloc_tag *seqsplice_tag_alloc(void)
{
	struct alloc_tag *tag = kzalloc_noprof(sizeof(*tag), GFP_KERNEL);

	if (!tag)
		return NULL;
	tag->counters = alloc_percpu_noprof(struct alloc_tag_counters);
	if (!tag->counters) {
		kfree(tag);
		return NULL;
	}
	return tag;
}

void seqsplice_tag_read(struct alloc_tag *tag, u64 *bytes, u64 *calls)
{
#ifdef CONFIG_MEM_ALLOC_PROFILING
	struct alloc_tag_counters c = alloc_tag_read(tag);

	*bytes = c.bytes;
	*calls = c.calls;
#else
	*bytes = 0;
	*calls = 0;
#endif
}

void seqsplice_tag_free(struct alloc_tag *tag)
{
	free_percpu(tag->counters);
	kfree(tag);
}

void seqsplice_tag_keep(struct alloc_tag *tag)
{
	kmemleak_not_leak(tag);
}

unsigned long seqsplice_alloc_pages_bulk(struct alloc_tag *tag, gfp_t gfp,
					 unsigned long nr,
					 struct page **array)
{
	return alloc_hooks_tag(tag, alloc_pages_bulk_noprof(gfp, numa_mem_id(), NULL,
							 nr, NULL, array));
}

struct page *seqsplice_alloc_page(struct alloc_tag *tag, gfp_t gfp)
{
	return alloc_hooks_tag(tag, alloc_pages_noprof(gfp, 0));
}

/* PAGE_KERNEL is not a constant expression on x86 (_ENC, pte mask). */
void *seqsplice_vmap(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

/*
 * A pipe reference, refused well before the count could wrap: 6.12's
 * try_get_page() refuses only a count that already did, with a WARN.
 */
bool seqsplice_try_get_page(struct page *page)
{
	if (page_ref_count(page) >= SEQSPLICE_PAGE_REF_MAX)
		return false;
	get_page(page);
	return true;
}

/*
 * The page's address in the direct map: every order-0 page has one on
 * x86-64 (no highmem; Kbuild refuses other architectures), valid while the
 * page is.
 */
void *seqsplice_page_address(struct page *page)
{
	return page_address(page);
}

void seqsplice_put_page(struct page *page)
{
	put_page(page);
}

unsigned int seqsplice_pipe_free_slots(struct pipe_inode_info *pipe)
{
	return pipe->max_usage - pipe_occupancy(pipe->head, pipe->tail);
}

bool seqsplice_pipe_is_direct(const struct pipe_inode_info *pipe)
{
	return current->splice_pipe == pipe;
}

/* One lock class for every open's seq_file, as seq_open() has. */
void seqsplice_mutex_init(struct mutex *lock)
{
	mutex_init(lock);
}

int seqsplice_mutex_lock_killable(struct mutex *lock)
{
	return mutex_lock_killable(lock);
}

bool seqsplice_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

void seqsplice_cond_resched(void)
{
	cond_resched();
}

void seqsplice_rcu_read_lock(void)
{
	rcu_read_lock();
}

void seqsplice_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

size_t seqsplice_iov_iter_count(const struct iov_iter *iter)
{
	return iov_iter_count(iter);
}

size_t seqsplice_copy_to_iter(const void *addr, size_t bytes,
			      struct iov_iter *iter)
{
	return copy_to_iter(addr, bytes, iter);
}

/*
 * ring_buffer_alloc() is a macro (its lock class key is a static here), in
 * overwrite mode as ftrace's buffers.
 */
struct trace_buffer *seqsplice_ring_buffer_alloc(unsigned long size)
{
	return ring_buffer_alloc(size, RB_FL_OVERWRITE);
}

void seqsplice_read_ctx(struct seqsplice_ctx *ctx)
{
	ctx->preempt_count = preempt_count();
#ifdef CONFIG_SMP
	ctx->migration_disabled = current->migration_disabled;
#else
	ctx->migration_disabled = 0;
#endif
	ctx->irqs_disabled = irqs_disabled();
	ctx->need_resched = tif_need_resched();
	ctx->preempt_need_resched = test_preempt_need_resched();
}

unsigned int seqsplice_task_cpu(const struct task_struct *p)
{
	return task_cpu(p);
}

unsigned int seqsplice_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

void seqsplice_tracepoint_synchronize_unregister(void)
{
	tracepoint_synchronize_unregister();
}

/* As seq_open(): no pwrite() on a seq_file (FMODE_PWRITE is a macro). */
void seqsplice_file_clear_pwrite(struct file *file)
{
	file->f_mode &= ~FMODE_PWRITE;
}

/* The mirror's target (src/kernel_ext/target.rs): a path looked up once. */
int seqsplice_kern_path_follow(const char *name, struct path *path)
{
	return kern_path(name, LOOKUP_FOLLOW, path);
}

unsigned long seqsplice_path_magic(const struct path *path)
{
	return path->dentry->d_sb->s_magic;
}

bool seqsplice_path_is_reg(const struct path *path)
{
	return d_is_reg(path->dentry);
}

/* The last component's name, NUL-terminated and cut to @size - 1 bytes. */
void seqsplice_path_name(const struct path *path, char *buf, size_t size)
{
	struct name_snapshot name;

	take_dentry_name_snapshot(&name, path->dentry);
	strscpy(buf, name.name.name, size);
	release_dentry_name_snapshot(&name);
}

int seqsplice_path_may_read(const struct path *path)
{
	return inode_permission(mnt_idmap(path->mnt), d_inode(path->dentry),
				MAY_READ);
}

/* Read-only, never O_TRUNC, with the caller's (the opener's) credentials. */
struct file *seqsplice_dentry_open_read(const struct path *path)
{
	return dentry_open(path, O_RDONLY | O_LARGEFILE, current_cred());
}

/*
 * The exported API (include/seqsplice.h): defined in Rust
 * (src/kernel_ext/capi.rs), exported here, as 6.12 has no Rust export
 * macro.
 */
EXPORT_SYMBOL_NS_GPL(seqsplice_open, SEQSPLICE);
EXPORT_SYMBOL_NS_GPL(seqsplice_release, SEQSPLICE);
EXPORT_SYMBOL_NS_GPL(seqsplice_private, SEQSPLICE);
EXPORT_SYMBOL_NS_GPL(seqsplice_read_iter, SEQSPLICE);
EXPORT_SYMBOL_NS_GPL(seqsplice_splice_read, SEQSPLICE);
EXPORT_SYMBOL_NS_GPL(seqsplice_llseek, SEQSPLICE);
