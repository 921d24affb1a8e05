#!/bin/sh
# Exact page-leak check (kernel booted with sysctl.vm.mem_profiling=1).
/tests/leak_test
