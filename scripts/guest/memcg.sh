#!/bin/sh
# The memcg accounting measurement alone (run it with ICOUNT=1 for the
# emulated instruction count the README quotes).
cd /tests && ./memcg_test
