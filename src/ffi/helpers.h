/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One-line wrappers for what Rust cannot call directly: static inlines and
 * macros.  No logic lives here.
 */
#ifndef SEQSPLICE_HELPERS_H
#define SEQSPLICE_HELPERS_H

#include <linux/types.h>

struct alloc_tag;
struct page;
struct pipe_inode_info;
struct iov_iter;
struct mutex;
struct task_struct;

/* Page references the module takes at most (1 << 30: far from a wrap). */
#define SEQSPLICE_PAGE_REF_MAX (1 << 30)

bool seqsplice_tag_needed(void);
struct alloc_tag *seqsplice_tag_alloc(void);
void seqsplice_tag_read(struct alloc_tag *tag, u64 *bytes, u64 *calls);
void seqsplice_tag_free(struct alloc_tag *tag);
void seqsplice_tag_keep(struct alloc_tag *tag);
unsigned long seqsplice_alloc_pages_bulk(struct alloc_tag *tag, gfp_t gfp,
					 unsigned long nr,
					 struct page **array);
struct page *seqsplice_alloc_page(struct alloc_tag *tag, gfp_t gfp);
void *seqsplice_vmap(struct page **pages, unsigned int count);
bool seqsplice_try_get_page(struct page *page);
void *seqsplice_page_address(struct page *page);
void seqsplice_put_page(struct page *page);
unsigned int seqsplice_pipe_free_slots(struct pipe_inode_info *pipe);
bool seqsplice_pipe_is_direct(const struct pipe_inode_info *pipe);
void seqsplice_mutex_init(struct mutex *lock);
int seqsplice_mutex_lock_killable(struct mutex *lock);
bool seqsplice_fatal_signal_pending(void);
void seqsplice_cond_resched(void);
void seqsplice_rcu_read_lock(void);
void seqsplice_rcu_read_unlock(void);
size_t seqsplice_iov_iter_count(const struct iov_iter *iter);
struct file;
void seqsplice_file_clear_pwrite(struct file *file);
struct path;
int seqsplice_kern_path_follow(const char *name, struct path *path);
unsigned long seqsplice_path_magic(const struct path *path);
bool seqsplice_path_is_reg(const struct path *path);
void seqsplice_path_name(const struct path *path, char *buf, size_t size);
int seqsplice_path_may_read(const struct path *path);
struct file *seqsplice_dentry_open_read(const struct path *path);
/*
 * What tracing_gen_ctx_irq_test() (kernel/trace/trace.c, not exported)
 * reads for an event's irq/preempt flags: the raw values, no logic.
 */
struct seqsplice_ctx {
	unsigned int preempt_count;
	unsigned int migration_disabled;
	bool irqs_disabled;
	bool need_resched;
	bool preempt_need_resched;
};

struct trace_buffer *seqsplice_ring_buffer_alloc(unsigned long size);
void seqsplice_read_ctx(struct seqsplice_ctx *ctx);
unsigned int seqsplice_task_cpu(const struct task_struct *p);
unsigned int seqsplice_smp_processor_id(void);
void seqsplice_tracepoint_synchronize_unregister(void);
size_t seqsplice_copy_to_iter(const void *addr, size_t bytes,
			      struct iov_iter *iter);

#endif
