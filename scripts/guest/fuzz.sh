#!/bin/sh
# make soak: a long fuzzer run (seqsplice.ops= and seqsplice.seed= on the
# kernel command line, which the Makefile's soak target sets).
ops=$(sed -n 's/.*seqsplice\.ops=\([0-9]*\).*/\1/p' /proc/cmdline)
seed=$(sed -n 's/.*seqsplice\.seed=\([0-9]*\).*/\1/p' /proc/cmdline)
/tools/ssfuzz --ops "${ops:-1000000}" ${seed:+--seed "$seed"}
