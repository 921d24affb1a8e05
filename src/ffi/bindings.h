/* SPDX-License-Identifier: GPL-2.0 */
/* Input of the module-local bindgen run (see Kbuild). */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/kobject.h>
#include <linux/pipe_fs_i.h>
#include <linux/ring_buffer.h>
#include <linux/seq_file.h>
#include <linux/splice.h>
#include <linux/sysfs.h>
#include <linux/tracepoint.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "helpers.h"
