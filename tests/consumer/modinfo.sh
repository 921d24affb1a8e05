#!/usr/bin/env bash
# What modpost recorded in the test consumers of one flavour (make
# consumer): seqsplice_consumer.ko depends on seqsplice and imports its
# namespace; seqsplice_noimport.ko depends on it too (it uses a symbol) but
# imports nothing, so that the kernel's loader, not the build, is what
# refuses it.
#   tests/consumer/modinfo.sh build/consumer/<flavour>
set -euo pipefail
dir=${1:?usage: modinfo.sh build/consumer/<flavour>}
modinfo=$(PATH="$PATH:/sbin:/usr/sbin" command -v modinfo)
bad=0
want() { # ko field expected
	local got
	got=$("$modinfo" -F "$2" "$1" | paste -sd,)
	if [ "$got" != "$3" ]; then
		echo "consumer: $1: modinfo $2 is '$got', want '$3'"
		bad=1
	fi
}
want "$dir/seqsplice_consumer.ko" depends seqsplice
want "$dir/seqsplice_consumer.ko" import_ns SEQSPLICE
want "$dir/seqsplice_consumer.ko" license GPL
want "$dir/noimport/seqsplice_noimport.ko" depends seqsplice
want "$dir/noimport/seqsplice_noimport.ko" import_ns ""
[ "$bad" = 0 ] && echo "consumer: $dir: seqsplice_consumer.ko depends on seqsplice and imports SEQSPLICE; seqsplice_noimport.ko does not import it"
exit $bad
