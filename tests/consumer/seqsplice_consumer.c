// SPDX-License-Identifier: GPL-2.0
/*
 * seqsplice_consumer: a test consumer of seqsplice's exported API
 * (include/seqsplice.h), and the stock seq_file twin of each of its tables.
 *
 * Every table is served by two misc devices (devtmpfs: /dev/<name>):
 *
 *	ssc_<table>		seqsplice_open() from ->open, the API's
 *				read_iter, splice_read and llseek
 *	ssc_<table>_copy	seq_open() (single_open() for "single"),
 *				seq_read_iter, copy_splice_read, seq_lseek and
 *				seq_release: the bytes the API file must give
 *
 * The tables behave like real ones:
 *
 *	spin	->start takes a spinlock with IRQs off (the flags kept in a
 *		static, under the lock), ->stop drops it, as stack_trace's
 *		t_start does; seq_printf() records of 100 bytes
 *	check	records through seq_write() of preformatted bytes, every
 *		1000th 6000 bytes wide (more than a page); ->start takes a
 *		mutex; the first ->show of an open moves m->private to the
 *		open's second private, which must then persist
 *	skip	->start takes a spinlock with BHs off (as tcp_seq_start does);
 *		records SEQ_SKIP'd after writing something, empty records (a
 *		run of 1500 of them) and lines of 40..89 bytes
 *	single	single_open()-shaped: one record of 12000 bytes
 *
 * Every callback checks m->file (the file opened), m->op (the table opened
 * with) and m->private (the private passed, or the second one once moved);
 * on a mismatch it counts it (the "bad" parameter, SSC_IOC_BAD), pr_err()s
 * and, in ->show, writes a "BAD ..." line into the output.
 *
 * ioctl()s on any of the files:
 *	SSC_IOC_PRIVATE	which of the open's two privates the file has now
 *			(seqsplice_private(), or the seq_file's m->private):
 *			0 or 1, -EPROTO if neither
 *	SSC_IOC_BAD	the mismatches the callbacks of this open saw
 */
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>

#include <seqsplice.h>

#define SSC_IOC_PRIVATE	_IO('S', 0x51)
#define SSC_IOC_BAD	_IO('S', 0x52)

#define SSC_WIDTH		100	/* spin and check records */
#define SSC_WIDE		6000	/* every 1000th check record */
#define SSC_SINGLE_LINES	150
#define SSC_SINGLE_WIDTH	80

static unsigned int spin_records = 20000;
module_param(spin_records, uint, 0444);
MODULE_PARM_DESC(spin_records, "records of the spin table (20000: 2 MB)");

static unsigned int check_records = 5000;
module_param(check_records, uint, 0444);
MODULE_PARM_DESC(check_records, "records of the check table (5000)");

static unsigned int skip_records = 6000;
module_param(skip_records, uint, 0444);
MODULE_PARM_DESC(skip_records, "records of the skip table (6000)");

static atomic_t ssc_bad_total = ATOMIC_INIT(0);

static int ssc_bad_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&ssc_bad_total));
}

static const struct kernel_param_ops ssc_bad_ops = {
	.get = ssc_bad_get,
};
module_param_cb(bad, &ssc_bad_ops, NULL, 0444);
MODULE_PARM_DESC(bad, "mismatches of m->file, m->op or m->private seen (read-only)");

struct ssc_open;

#define SSC_MAGIC	0x55c0ffee

/* What m->private points at: one of the two privates of an open. */
struct ssc_priv {
	unsigned int magic;		/* SSC_MAGIC */
	unsigned int idx;		/* open->priv[idx] */
	struct ssc_open *open;
};

struct ssc_table;

/* One open of one of the files. */
struct ssc_open {
	struct list_head node;		/* on ssc_opens */
	const struct ssc_table *table;
	struct file *file;		/* m->file must be this */
	const struct seq_operations *op;	/* m->op must be this */
	struct ssc_priv priv[2];
	unsigned int cur;		/* m->private must be &priv[cur] */
	unsigned int bad;		/* mismatches seen */
	bool api;			/* opened through seqsplice_open() */
	char *rec;			/* check: room for one record */
};

struct ssc_table {
	const char *name;
	const struct seq_operations *ops;
	bool single;			/* the copy twin uses single_open() */
};

/* Every live open, to find one by its file (ioctl, release). */
static LIST_HEAD(ssc_opens);
static DEFINE_MUTEX(ssc_opens_lock);

/* A mismatch: counted, logged (the first 20) and, given @m, in the output. */
#define ssc_bad(m, o, fmt, ...)						\
	do {								\
		struct ssc_open *__o = (o);				\
		struct seq_file *__m = (m);				\
									\
		if (atomic_inc_return(&ssc_bad_total) <= 20)		\
			pr_err("BAD " fmt "\n", ##__VA_ARGS__);		\
		if (__o)						\
			__o->bad++;					\
		if (__m)						\
			seq_printf(__m, "BAD " fmt "\n", ##__VA_ARGS__);	\
	} while (0)

/*
 * The open m->private belongs to, after checking m->private (a private of
 * ours, by its magic and back pointer, and the one the open's callbacks
 * last set), m->file and m->op against it; NULL if m->private is not ours.
 * As a driver's callbacks do, it reads what m->private points at (a stray
 * pointer is a KASAN report on the debug kernel).  @out: the seq_file to
 * write a BAD line into (->show only).
 */
static struct ssc_open *ssc_check(struct seq_file *m, struct seq_file *out,
				  const char *where)
{
	struct ssc_priv *p = m->private;
	struct ssc_open *o;

	if (!p || p->magic != SSC_MAGIC || p->idx > 1 ||
	    p != &p->open->priv[p->idx]) {
		ssc_bad(out, NULL, "%s: m->private %p is none of ours", where,
			m->private);
		return NULL;
	}
	o = p->open;
	if (p->idx != o->cur)
		ssc_bad(out, o, "%s %s: m->private is private %u, not %u",
			o->table->name, where, p->idx, o->cur);
	if (m->file != o->file)
		ssc_bad(out, o, "%s %s: m->file %p, not the file opened %p",
			o->table->name, where, m->file, o->file);
	if (m->op != o->op)
		ssc_bad(out, o, "%s %s: m->op %ps, not %ps",
			o->table->name, where, m->op, o->op);
	return o;
}

/* A record's token: its index + 1 (never NULL). */
static void *ssc_token(loff_t pos)
{
	return (void *)(unsigned long)(pos + 1);
}

static unsigned long ssc_index(void *v)
{
	return (unsigned long)v - 1;
}

static void *ssc_start_at(loff_t *pos, unsigned int count)
{
	return *pos < count ? ssc_token(*pos) : NULL;
}

static void *ssc_next_at(void *v, loff_t *pos, unsigned int count)
{
	++*pos;
	return *pos < count ? ssc_token(*pos) : NULL;
}

/*
 * Record @i of width @w (at least 16) into @buf: "<tag> %08lu " then
 * letters, then '\n'; tests/selftests/consumer_test.c models it.
 */
static void ssc_fill(char *buf, const char *tag, unsigned long i, size_t w)
{
	size_t n = scnprintf(buf, w, "%s %08lu ", tag, i);

	for (; n < w - 1; n++)
		buf[n] = 'a' + (i + n) % 26;
	buf[w - 1] = '\n';
}

/* ---- spin: IRQs off and a spinlock from ->start to ->stop ---- */

static DEFINE_SPINLOCK(ssc_spin_lock);
static unsigned long ssc_spin_flags;	/* under ssc_spin_lock */
/* "abc...z" five times (ssc_init()): a record's letters start at any. */
static char ssc_letters[5 * 26 + 1];

static void *ssc_spin_start(struct seq_file *m, loff_t *pos)
{
	unsigned long flags;

	spin_lock_irqsave(&ssc_spin_lock, flags);
	ssc_spin_flags = flags;
	if (!ssc_check(m, NULL, "start"))
		return ERR_PTR(-EIO);
	return ssc_start_at(pos, spin_records);
}

static void *ssc_spin_next(struct seq_file *m, void *v, loff_t *pos)
{
	ssc_check(m, NULL, "next");
	return ssc_next_at(v, pos, spin_records);
}

static void ssc_spin_stop(struct seq_file *m, void *v)
{
	ssc_check(m, NULL, "stop");
	spin_unlock_irqrestore(&ssc_spin_lock, ssc_spin_flags);
}

/* "spin %08lu " and 85 letters from the (i % 26)th: 100 bytes. */
static int ssc_spin_show(struct seq_file *m, void *v)
{
	unsigned long i = ssc_index(v);

	ssc_check(m, m, "show");
	seq_printf(m, "spin %08lu %.*s\n", i, SSC_WIDTH - 15,
		   ssc_letters + i % 26);
	return 0;
}

static const struct seq_operations ssc_spin_ops = {
	.start	= ssc_spin_start,
	.next	= ssc_spin_next,
	.stop	= ssc_spin_stop,
	.show	= ssc_spin_show,
};

/* ---- check: preformatted records, one wider than a page in 1000 ---- */

static DEFINE_MUTEX(ssc_check_mutex);

static size_t ssc_check_width(unsigned long i)
{
	return i % 1000 == 999 ? SSC_WIDE : SSC_WIDTH;
}

static void *ssc_check_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&ssc_check_mutex);
	if (!ssc_check(m, NULL, "start"))
		return ERR_PTR(-EIO);
	return ssc_start_at(pos, check_records);
}

static void *ssc_check_next(struct seq_file *m, void *v, loff_t *pos)
{
	ssc_check(m, NULL, "next");
	return ssc_next_at(v, pos, check_records);
}

static void ssc_check_stop(struct seq_file *m, void *v)
{
	ssc_check(m, NULL, "stop");
	mutex_unlock(&ssc_check_mutex);
}

static int ssc_check_show(struct seq_file *m, void *v)
{
	unsigned long i = ssc_index(v);
	struct ssc_open *o = ssc_check(m, m, "show");
	size_t w = ssc_check_width(i);

	if (!o)
		return 0;
	/* Once per open: to the second private, which must then stay. */
	if (!o->cur) {
		o->cur = 1;
		m->private = &o->priv[1];
	}
	ssc_fill(o->rec, "check", i, w);
	seq_write(m, o->rec, w);
	return 0;
}

static const struct seq_operations ssc_check_ops = {
	.start	= ssc_check_start,
	.next	= ssc_check_next,
	.stop	= ssc_check_stop,
	.show	= ssc_check_show,
};

/* ---- skip: SEQ_SKIP, empty records, short lines ---- */

static DEFINE_SPINLOCK(ssc_skip_lock);

static void *ssc_skip_start(struct seq_file *m, loff_t *pos)
{
	spin_lock_bh(&ssc_skip_lock);
	if (!ssc_check(m, NULL, "start"))
		return ERR_PTR(-EIO);
	return ssc_start_at(pos, skip_records);
}

static void *ssc_skip_next(struct seq_file *m, void *v, loff_t *pos)
{
	ssc_check(m, NULL, "next");
	return ssc_next_at(v, pos, skip_records);
}

static void ssc_skip_stop(struct seq_file *m, void *v)
{
	ssc_check(m, NULL, "stop");
	spin_unlock_bh(&ssc_skip_lock);
}

/*
 * Records 2000..3499 and the last 50: nothing (odd ones SEQ_SKIP'd after
 * writing, even ones empty).  Elsewhere i % 7 == 3 is SEQ_SKIP'd after
 * writing, i % 7 == 5 is empty, the others are lines of 40 + i % 50 bytes.
 */
static int ssc_skip_show(struct seq_file *m, void *v)
{
	unsigned long i = ssc_index(v);
	bool none = (i >= 2000 && i < 3500) || i + 50 >= skip_records;
	unsigned int w = 40 + i % 50;

	ssc_check(m, m, "show");
	if ((none && i % 2) || (!none && i % 7 == 3)) {
		seq_printf(m, "skipped %lu\n", i);
		return SEQ_SKIP;
	}
	if (none || i % 7 == 5)
		return 0;
	seq_printf(m, "skip %08lu %.*s\n", i, w - 15, ssc_letters + i % 26);
	return 0;
}

static const struct seq_operations ssc_skip_ops = {
	.start	= ssc_skip_start,
	.next	= ssc_skip_next,
	.stop	= ssc_skip_stop,
	.show	= ssc_skip_show,
};

/* ---- single: single_open()'s shape, one record of 12000 bytes ---- */

static void *ssc_single_start(struct seq_file *m, loff_t *pos)
{
	ssc_check(m, NULL, "start");
	return *pos ? NULL : SEQ_START_TOKEN;
}

static void *ssc_single_next(struct seq_file *m, void *v, loff_t *pos)
{
	ssc_check(m, NULL, "next");
	++*pos;
	return NULL;
}

static void ssc_single_stop(struct seq_file *m, void *v)
{
	ssc_check(m, NULL, "stop");
}

/* 150 lines: "single %04u " and letters, 80 bytes each. */
static int ssc_single_show(struct seq_file *m, void *v)
{
	unsigned int j;

	ssc_check(m, m, "show");
	if (v != SEQ_START_TOKEN)
		ssc_bad(m, NULL, "single show: token %p", v);
	for (j = 0; j < SSC_SINGLE_LINES; j++)
		seq_printf(m, "single %04u %.*s\n", j, SSC_SINGLE_WIDTH - 13,
			   ssc_letters + j % 26);
	return 0;
}

static const struct seq_operations ssc_single_ops = {
	.start	= ssc_single_start,
	.next	= ssc_single_next,
	.stop	= ssc_single_stop,
	.show	= ssc_single_show,
};

/* ---- the files ---- */

static const struct ssc_table ssc_tables[] = {
	{ .name = "spin", .ops = &ssc_spin_ops },
	{ .name = "check", .ops = &ssc_check_ops },
	{ .name = "skip", .ops = &ssc_skip_ops },
	{ .name = "single", .ops = &ssc_single_ops, .single = true },
};

struct ssc_dev {
	struct miscdevice misc;
	const struct ssc_table *table;
	char name[24];
};

static struct ssc_dev ssc_devs[2 * ARRAY_SIZE(ssc_tables)];

static struct ssc_open *ssc_open_new(struct file *file, bool api)
{
	struct ssc_dev *d = container_of(file->private_data, struct ssc_dev,
					 misc);
	struct ssc_open *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return NULL;
	o->table = d->table;
	o->file = file;
	o->op = d->table->ops;
	o->api = api;
	o->priv[0].magic = SSC_MAGIC;
	o->priv[0].open = o;
	o->priv[1].magic = SSC_MAGIC;
	o->priv[1].open = o;
	o->priv[1].idx = 1;
	if (d->table->ops == &ssc_check_ops) {
		o->rec = kmalloc(SSC_WIDE, GFP_KERNEL);
		if (!o->rec) {
			kfree(o);
			return NULL;
		}
	}
	return o;
}

static void ssc_open_add(struct ssc_open *o)
{
	mutex_lock(&ssc_opens_lock);
	list_add(&o->node, &ssc_opens);
	mutex_unlock(&ssc_opens_lock);
}

static void ssc_open_free(struct ssc_open *o)
{
	mutex_lock(&ssc_opens_lock);
	list_del(&o->node);
	mutex_unlock(&ssc_opens_lock);
	o->priv[0].magic = 0;
	o->priv[1].magic = 0;
	kfree(o->rec);
	kfree(o);
}

/* The open of @file: the API's private_data is not ours to read. */
static struct ssc_open *ssc_open_of(struct file *file)
{
	struct ssc_open *o, *found = NULL;

	mutex_lock(&ssc_opens_lock);
	list_for_each_entry(o, &ssc_opens, node) {
		if (o->file == file) {
			found = o;
			break;
		}
	}
	mutex_unlock(&ssc_opens_lock);
	return found;
}

static int ssc_api_open(struct inode *inode, struct file *file)
{
	struct ssc_open *o = ssc_open_new(file, true);
	int ret;

	if (!o)
		return -ENOMEM;
	ssc_open_add(o);
	/* misc_open() left the miscdevice in private_data: replaced. */
	ret = seqsplice_open(file, o->op, &o->priv[0]);
	if (ret)
		ssc_open_free(o);
	return ret;
}

static int ssc_api_release(struct inode *inode, struct file *file)
{
	struct ssc_open *o = ssc_open_of(file);
	int ret = seqsplice_release(inode, file);

	if (o)
		ssc_open_free(o);
	return ret;
}

static int ssc_copy_open(struct inode *inode, struct file *file)
{
	struct ssc_open *o = ssc_open_new(file, false);
	int ret;

	if (!o)
		return -ENOMEM;
	/* seq_open() WARNs on a private_data already set: misc_open's. */
	file->private_data = NULL;
	if (o->table->single) {
		ret = single_open(file, ssc_single_show, &o->priv[0]);
		if (!ret)
			o->op = ((struct seq_file *)file->private_data)->op;
	} else {
		ret = seq_open(file, o->op);
		if (!ret)
			((struct seq_file *)file->private_data)->private =
				&o->priv[0];
	}
	if (ret) {
		kfree(o->rec);
		kfree(o);
		return ret;
	}
	ssc_open_add(o);
	return 0;
}

static int ssc_copy_release(struct inode *inode, struct file *file)
{
	struct ssc_open *o = ssc_open_of(file);
	int ret;

	if (o && o->table->single)
		ret = single_release(inode, file);
	else
		ret = seq_release(inode, file);
	if (o)
		ssc_open_free(o);
	return ret;
}

static long ssc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ssc_open *o = ssc_open_of(file);
	void *p;

	if (!o)
		return -ENXIO;
	switch (cmd) {
	case SSC_IOC_PRIVATE:
		if (o->api)
			p = seqsplice_private(file);
		else
			p = ((struct seq_file *)file->private_data)->private;
		if (p == &o->priv[0])
			return 0;
		if (p == &o->priv[1])
			return 1;
		return -EPROTO;
	case SSC_IOC_BAD:
		return o->bad;
	}
	return -ENOTTY;
}

static const struct file_operations ssc_api_fops = {
	.owner		= THIS_MODULE,
	.open		= ssc_api_open,
	.read_iter	= seqsplice_read_iter,
	.splice_read	= seqsplice_splice_read,
	.llseek		= seqsplice_llseek,
	.release	= ssc_api_release,
	.unlocked_ioctl	= ssc_ioctl,
};

static const struct file_operations ssc_copy_fops = {
	.owner		= THIS_MODULE,
	.open		= ssc_copy_open,
	.read_iter	= seq_read_iter,
	.splice_read	= copy_splice_read,
	.llseek		= seq_lseek,
	.release	= ssc_copy_release,
	.unlocked_ioctl	= ssc_ioctl,
};

static int __init ssc_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(ssc_letters) - 1; i++)
		ssc_letters[i] = 'a' + i % 26;
	for (i = 0; i < ARRAY_SIZE(ssc_devs); i++) {
		struct ssc_dev *d = &ssc_devs[i];
		bool copy = i % 2;

		d->table = &ssc_tables[i / 2];
		snprintf(d->name, sizeof(d->name), "ssc_%s%s", d->table->name,
			 copy ? "_copy" : "");
		d->misc.minor = MISC_DYNAMIC_MINOR;
		d->misc.name = d->name;
		d->misc.fops = copy ? &ssc_copy_fops : &ssc_api_fops;
		d->misc.mode = 0444;
		ret = misc_register(&d->misc);
		if (ret) {
			pr_err("misc_register(%s): %d\n", d->name, ret);
			while (i--)
				misc_deregister(&ssc_devs[i].misc);
			return ret;
		}
	}
	return 0;
}

static void __exit ssc_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ssc_devs); i++)
		misc_deregister(&ssc_devs[i].misc);
}

module_init(ssc_init);
module_exit(ssc_exit);

MODULE_DESCRIPTION("seqsplice API test consumer: seq_file tables through seqsplice and stock");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(SEQSPLICE);
