// SPDX-License-Identifier: GPL-2.0
/*
 * seqsplice_noimport: uses a symbol of seqsplice's SEQSPLICE namespace
 * without MODULE_IMPORT_NS(SEQSPLICE).  The kernel must refuse to load it
 * ("... but does not import it."); modpost refuses to build it too, so it
 * is built alone with modpost's -N (Makefile: consumer).  Should it load,
 * it says so in the log, and the test fails on the load itself.
 */
#include <linux/module.h>

#include <seqsplice.h>

static int __init ssc_noimport_init(void)
{
	pr_info("seqsplice_noimport: loaded, seqsplice_private at %ps\n",
		seqsplice_private);
	return 0;
}

static void __exit ssc_noimport_exit(void)
{
}

module_init(ssc_noimport_init);
module_exit(ssc_noimport_exit);

MODULE_DESCRIPTION("seqsplice test: a user of the API that does not import its namespace");
MODULE_LICENSE("GPL");
