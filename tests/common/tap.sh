# shellcheck shell=bash
# TAP for the host-side test scripts (tests/install, tests/native):
# source it, then `check "what" command...` per test; `$bad` is 1 once one
# failed, `$n` counts them; each test's output lands in `$tmp/out` and is
# shown, commented, when it fails.  The sourcing script owns `$tmp`.
bad=0
n=0
check() { # description, command...
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# /' "$tmp/out" | tail -20
		bad=1
	fi
}
