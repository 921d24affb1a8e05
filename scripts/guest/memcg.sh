#!/bin/sh
# The memcg accounting measurement alone (run it with ICOUNT=1 for the
# emulated instruction count Documentation/design.rst quotes).
cd /tests && ./memcg_test
