// SPDX-License-Identifier: GPL-2.0
/*
 * seqsplice_bench: the C seq_file of make bench's consumer line
 * (tools/spbench: the consumer, consumercopyeq and consumercopy4 sources).
 *
 * One seq_operations table, an index cursor (the token is pos, as for
 * seq_list_start()) over @records records of @width bytes, served by three
 * misc devices (devtmpfs: /dev/<name>):
 *
 *	ssbench		seqsplice_open() and the API's file operations
 *			(include/seqsplice.h): splice gifts the pages
 *	ssbench_copyeq	the stock core: seq_open(), seq_read_iter,
 *			copy_splice_read, seq_lseek, seq_release, with a seq
 *			buffer of @copy_kb KiB set after seq_open() as
 *			single_open_size() does: the equal buffer
 *	ssbench_copy4	the stock core with seq_open()'s one-page buffer
 *
 * Record i is seqsplice's trace record i (Documentation/files.rst):
 *
 *	"%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u "
 *
 * of "seqsplice", 1000 + i % 9000, i % 4, t / 10^6, t % 10^6 and i, for
 * t = 1237 * i, then @width - 84 letters from 'a' + i % 26 on and '\n'.
 * With mode=printf ->show formats it with one seq_printf(); with
 * mode=write it seq_write()s a line preformatted at open: record i % P of
 * the first P = max(65536 / @width, 1) records, as trace's raw mode.  So
 * the three files give trace's stream, printf or raw, byte for byte.
 *
 * The parameters (0644) are read at each open.  An open's snapshot of them
 * is a configuration shared by every open of the same (records, width,
 * mode) and kept until the module is unloaded: seqsplice_open() requires
 * seqsplice_release() itself as ->release, so an API file has no ->release
 * of ours to free a per-open private in, and the three files keep the same
 * m->private for the same per-record work.
 */
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <seqsplice.h>

#define SSB_HEADER	83		/* the header, its trailing space too */
#define SSB_MIN_WIDTH	(SSB_HEADER + 1)
/* The filler is one %.*s: vsnprintf()'s precision is at most 32767. */
#define SSB_MAX_WIDTH	32768
#define SSB_MAX_RECORDS	10000000	/* trace's record_count limit */
#define SSB_TABLE_BYTES	65536		/* trace's raw table */
#define SSB_MAX_CONFIGS	64

enum ssb_mode { SSB_PRINTF, SSB_WRITE };

static const char * const ssb_mode_names[] = {
	[SSB_PRINTF] = "printf",
	[SSB_WRITE] = "write",
};

static unsigned int records = 10000;
static unsigned int width = 100;
static int mode = SSB_PRINTF;
static unsigned int copy_kb = 1024;

static int ssb_set_records(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, SSB_MAX_RECORDS);
}

static const struct kernel_param_ops ssb_records_ops = {
	.set = ssb_set_records,
	.get = param_get_uint,
};
module_param_cb(records, &ssb_records_ops, &records, 0644);
MODULE_PARM_DESC(records, "records per open (10000; 0..10000000)");

static int ssb_set_width(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, SSB_MIN_WIDTH, SSB_MAX_WIDTH);
}

static const struct kernel_param_ops ssb_width_ops = {
	.set = ssb_set_width,
	.get = param_get_uint,
};
module_param_cb(width, &ssb_width_ops, &width, 0644);
MODULE_PARM_DESC(width, "bytes per record (100; 84..32768)");

static int ssb_set_mode(const char *val, const struct kernel_param *kp)
{
	int m = sysfs_match_string(ssb_mode_names, val);

	if (m < 0)
		return m;
	WRITE_ONCE(*(int *)kp->arg, m);
	return 0;
}

static int ssb_get_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  ssb_mode_names[READ_ONCE(*(int *)kp->arg)]);
}

static const struct kernel_param_ops ssb_mode_ops = {
	.set = ssb_set_mode,
	.get = ssb_get_mode,
};
module_param_cb(mode, &ssb_mode_ops, &mode, 0644);
MODULE_PARM_DESC(mode, "printf (seq_printf per record) or write (seq_write of a preformatted line)");

static int ssb_set_copy_kb(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 4, 16384);
}

static const struct kernel_param_ops ssb_copy_kb_ops = {
	.set = ssb_set_copy_kb,
	.get = param_get_uint,
};
module_param_cb(copy_kb, &ssb_copy_kb_ops, &copy_kb, 0644);
MODULE_PARM_DESC(copy_kb, "seq buffer of ssbench_copyeq, KiB (1024; 4..16384)");

/* What an open reads: the parameters at its open, immutable. */
struct ssb_config {
	struct list_head node;		/* on ssb_configs */
	unsigned int records;
	unsigned int width;
	int mode;
	unsigned int period;		/* write: records in @table */
	char *table;			/* write: @period preformatted records */
};

static LIST_HEAD(ssb_configs);
static DEFINE_MUTEX(ssb_configs_lock);
static unsigned int ssb_nconfigs;	/* under ssb_configs_lock */

/* "abc...z" repeated: the filler of record i is ssb_letters + i % 26. */
static char ssb_letters[SSB_MAX_WIDTH - SSB_MIN_WIDTH + 26];

/* Record @i of width @w into @row (@w bytes, no NUL). */
static void ssb_format(char *row, unsigned int i, unsigned int w)
{
	u64 t = (u64)i * 1237;
	u32 usec;
	u32 sec = div_u64_rem(t, 1000000, &usec);

	/* The header and its NUL: at most @w bytes (@w > SSB_HEADER). */
	snprintf(row, w, "%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u ",
		 "seqsplice", 1000 + i % 9000, i % 4, sec, usec, i);
	memcpy(row + SSB_HEADER, ssb_letters + i % 26, w - SSB_MIN_WIDTH);
	row[w - 1] = '\n';
}

/* The configuration of the parameters now, made once. */
static struct ssb_config *ssb_config_get(void)
{
	unsigned int n = READ_ONCE(records), w = READ_ONCE(width);
	int md = READ_ONCE(mode);
	struct ssb_config *c;
	unsigned int i;

	mutex_lock(&ssb_configs_lock);
	list_for_each_entry(c, &ssb_configs, node) {
		if (c->records == n && c->width == w && c->mode == md)
			goto out;
	}
	c = ERR_PTR(-ENOSPC);
	if (ssb_nconfigs >= SSB_MAX_CONFIGS)
		goto out;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		c = ERR_PTR(-ENOMEM);
		goto out;
	}
	c->records = n;
	c->width = w;
	c->mode = md;
	if (md == SSB_WRITE) {
		c->period = max(SSB_TABLE_BYTES / w, 1U);
		c->table = kvmalloc(c->period * w, GFP_KERNEL);
		if (!c->table) {
			kfree(c);
			c = ERR_PTR(-ENOMEM);
			goto out;
		}
		for (i = 0; i < c->period; i++)
			ssb_format(c->table + i * w, i, w);
	}
	list_add(&c->node, &ssb_configs);
	ssb_nconfigs++;
out:
	mutex_unlock(&ssb_configs_lock);
	return c;
}

/* ---- the table ---- */

static void *ssb_start(struct seq_file *m, loff_t *pos)
{
	const struct ssb_config *c = m->private;

	return *pos < c->records ? pos : NULL;
}

static void *ssb_next(struct seq_file *m, void *v, loff_t *pos)
{
	const struct ssb_config *c = m->private;

	++*pos;
	return *pos < c->records ? pos : NULL;
}

static void ssb_stop(struct seq_file *m, void *v)
{
}

static int ssb_show(struct seq_file *m, void *v)
{
	const struct ssb_config *c = m->private;
	unsigned int i = *(loff_t *)v;
	u64 t;
	u32 sec, usec;

	if (c->mode == SSB_WRITE) {
		seq_write(m, c->table + (size_t)(i % c->period) * c->width,
			  c->width);
		return 0;
	}
	t = (u64)i * 1237;
	sec = div_u64_rem(t, 1000000, &usec);
	seq_printf(m, "%16s-%-7u [%03u] d..1. %5u.%06u: seqsplice_event: seq=%010u %.*s\n",
		   "seqsplice", 1000 + i % 9000, i % 4, sec, usec, i,
		   (int)(c->width - SSB_MIN_WIDTH), ssb_letters + i % 26);
	return 0;
}

static const struct seq_operations ssb_ops = {
	.start	= ssb_start,
	.next	= ssb_next,
	.stop	= ssb_stop,
	.show	= ssb_show,
};

/* ---- the files ---- */

static int ssb_api_open(struct inode *inode, struct file *file)
{
	struct ssb_config *c = ssb_config_get();

	if (IS_ERR(c))
		return PTR_ERR(c);
	/* misc_open() left the miscdevice in private_data: replaced. */
	return seqsplice_open(file, &ssb_ops, c);
}

/* @buf_kb: a seq buffer of that many KiB, as single_open_size(); 0: none. */
static int ssb_copy_open_size(struct file *file, unsigned int buf_kb)
{
	struct ssb_config *c = ssb_config_get();
	struct seq_file *m;
	char *buf = NULL;
	int ret;

	if (IS_ERR(c))
		return PTR_ERR(c);
	if (buf_kb) {
		buf = kvmalloc(buf_kb * 1024, GFP_KERNEL_ACCOUNT);
		if (!buf)
			return -ENOMEM;
	}
	/* seq_open() WARNs on a private_data already set: misc_open's. */
	file->private_data = NULL;
	ret = seq_open(file, &ssb_ops);
	if (ret) {
		kvfree(buf);
		return ret;
	}
	m = file->private_data;
	m->private = c;
	if (buf) {
		m->buf = buf;
		m->size = buf_kb * 1024;
	}
	return 0;
}

static int ssb_copyeq_open(struct inode *inode, struct file *file)
{
	return ssb_copy_open_size(file, READ_ONCE(copy_kb));
}

static int ssb_copy4_open(struct inode *inode, struct file *file)
{
	return ssb_copy_open_size(file, 0);
}

static const struct file_operations ssb_api_fops = {
	.owner		= THIS_MODULE,
	.open		= ssb_api_open,
	.read_iter	= seqsplice_read_iter,
	.splice_read	= seqsplice_splice_read,
	.llseek		= seqsplice_llseek,
	.release	= seqsplice_release,
};

static const struct file_operations ssb_copyeq_fops = {
	.owner		= THIS_MODULE,
	.open		= ssb_copyeq_open,
	.read_iter	= seq_read_iter,
	.splice_read	= copy_splice_read,
	.llseek		= seq_lseek,
	.release	= seq_release,
};

static const struct file_operations ssb_copy4_fops = {
	.owner		= THIS_MODULE,
	.open		= ssb_copy4_open,
	.read_iter	= seq_read_iter,
	.splice_read	= copy_splice_read,
	.llseek		= seq_lseek,
	.release	= seq_release,
};

static struct miscdevice ssb_devs[] = {
	{ .minor = MISC_DYNAMIC_MINOR, .name = "ssbench",
	  .fops = &ssb_api_fops, .mode = 0444 },
	{ .minor = MISC_DYNAMIC_MINOR, .name = "ssbench_copyeq",
	  .fops = &ssb_copyeq_fops, .mode = 0444 },
	{ .minor = MISC_DYNAMIC_MINOR, .name = "ssbench_copy4",
	  .fops = &ssb_copy4_fops, .mode = 0444 },
};

static void ssb_configs_free(void)
{
	struct ssb_config *c, *tmp;

	list_for_each_entry_safe(c, tmp, &ssb_configs, node) {
		list_del(&c->node);
		kvfree(c->table);
		kfree(c);
	}
	ssb_nconfigs = 0;
}

static int __init ssb_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(ssb_letters); i++)
		ssb_letters[i] = 'a' + i % 26;
	for (i = 0; i < ARRAY_SIZE(ssb_devs); i++) {
		ret = misc_register(&ssb_devs[i]);
		if (ret) {
			pr_err("misc_register(%s): %d\n", ssb_devs[i].name, ret);
			while (i--)
				misc_deregister(&ssb_devs[i]);
			return ret;
		}
	}
	return 0;
}

static void __exit ssb_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ssb_devs); i++)
		misc_deregister(&ssb_devs[i]);
	/* No file is open: each pins the module (.owner). */
	ssb_configs_free();
}

module_init(ssb_init);
module_exit(ssb_exit);

MODULE_DESCRIPTION("seqsplice benchmark: one C seq_file through the API and the stock core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(SEQSPLICE);
