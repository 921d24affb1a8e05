/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seqsplice: zero-copy splice_read for any seq_file.
 *
 * A drop-in for seq_open() and the seq_file core's file operations.  The
 * module's own ->open calls seqsplice_open() instead of seq_open(); its
 * file_operations name the functions below (and .owner = THIS_MODULE, which
 * keeps the module loaded while a file is open):
 *
 *	static const struct file_operations foo_fops = {
 *		.owner		= THIS_MODULE,
 *		.open		= foo_open,
 *		.read_iter	= seqsplice_read_iter,
 *		.splice_read	= seqsplice_splice_read,
 *		.llseek		= seqsplice_llseek,
 *		.release	= seqsplice_release,
 *	};
 *
 * The callbacks of @op run under seq_file's contract: with m->lock held,
 * nothing between ->start and ->stop sleeps (the pages are allocated before
 * ->start), and m->private, m->file and m->op are what seq_open() would
 * have set; a callback's change of m->private persists.  A record that does
 * not fit is shown again only after ->stop and ->start, as seq_read_iter()
 * does.  file->private_data is not a seq_file: use seqsplice_private().
 *
 * The symbols are in the SEQSPLICE namespace: MODULE_IMPORT_NS(SEQSPLICE).
 * Documentation/api.rst has the rules and an example.
 */
#ifndef _SEQSPLICE_H
#define _SEQSPLICE_H

#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/uio.h>

struct pipe_inode_info;

/*
 * Opens @file for @op with m->private = @private; any file->private_data
 * already set (misc_open() sets it) is replaced.  Buffer size and map mode
 * come from seqsplice's knobs at this call.  0 or a negative errno: -EINVAL
 * unless the file's read_iter and release are seqsplice_read_iter() and
 * seqsplice_release().  An ->open that fails after this succeeded calls
 * seqsplice_release() itself.
 */
int seqsplice_open(struct file *file, const struct seq_operations *op,
		   void *private);
/* Releases the open; does not free m->private (seq_release() does not). */
int seqsplice_release(struct inode *inode, struct file *file);
/* m->private as it is now (a callback may have changed it). */
void *seqsplice_private(struct file *file);
ssize_t seqsplice_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t seqsplice_splice_read(struct file *in, loff_t *ppos,
			      struct pipe_inode_info *pipe, size_t len,
			      unsigned int flags);
loff_t seqsplice_llseek(struct file *file, loff_t offset, int whence);

#endif /* _SEQSPLICE_H */
