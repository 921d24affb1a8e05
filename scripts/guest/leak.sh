#!/bin/sh
# Exact page-leak check (kernel booted with sysctl.vm.mem_profiling=1), in
# each map mode. The reload test reloads the module, so the knob is written
# again before every run.
rc=0
for mode in direct vm_map_ram vmap; do
	echo "SEQSPLICE-MAP-MODE $mode"
	if ! echo $mode >/sys/kernel/seqsplice/map_mode; then
		echo "leak: cannot set map_mode=$mode"
		exit 1
	fi
	/tests/leak_test || rc=1
	# The same on events, over a capture (the reload above dropped any).
	/guest/capture.sh 4000 || rc=1
	SEQSPLICE_SOURCE=events /tests/leak_test || rc=1
done
exit $rc
