#!/bin/sh
# The kselftest suite, TAP on the console.
cd /tests || exit 1
./seqsplice_test
