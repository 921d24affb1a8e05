#!/usr/bin/env bash
# The time of every guest step, one column per guest run: host wall seconds
# from the steps.wall file scripts/guest-progress.sh leaves beside the
# serial log, or else the guest's own seconds from the log's SEQSPLICE-STEP
# lines (the "clock" row says which):
#   scripts/step-table.sh LABEL=LOG [LABEL=LOG ...]
# e.g. release=build/guest-check-release/serial.log.  A step that ran more
# than once in a run (a capture) is summed; the last rows are the sum of the
# steps, the guest's own total (SEQSPLICE-GUEST-TIME) and the boot's wall
# time on the host (guest.sh's wall file).  Older logs without name= take
# the command's name and the SEQSPLICE-MAP-MODE in force.
set -euo pipefail
(($#)) || {
	echo "usage: scripts/step-table.sh LABEL=LOG..." >&2
	exit 2
}
for arg; do
	label=${arg%%=*}
	log=${arg#*=}
	[ -f "$log" ] || {
		echo "step-table: no log $log" >&2
		exit 1
	}
	wall=$(cat "$(dirname "$log")/wall" 2>/dev/null || echo -)
	steps=$(dirname "$log")/steps.wall
	if [ -f "$steps" ]; then
		# Host wall seconds per step (scripts/guest-progress.sh).
		awk -v label="$label" -v wall="$wall" '
		{ print label "\t" $1 "\t" $2 }
		END { print label "\t~boot wall\t" wall; print label "\t~clock\thost" }' "$steps"
		continue
	fi
	tr -d '\r' <"$log" | awk -v label="$label" -v wall="$wall" '
	/^SEQSPLICE-MAP-MODE / { mode = $2 }
	/^SEQSPLICE-STEP / {
		name = ""; sec = ""
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^name=/) name = substr($i, 6)
			else if ($i ~ /^seconds=/) sec = substr($i, 9)
		}
		if (name == "") {
			name = $2; sub(/^.*\//, "", name); sub(/_test$/, "", name)
			if (mode != "") name = name "/" mode
		}
		print label "\t" name "\t" sec
	}
	/^SEQSPLICE-GUEST-TIME / { sub(/.*seconds=/, ""); print label "\t~guest total\t" $0 }
	END { print label "\t~boot wall\t" wall; print label "\t~clock\tguest" }'
done | awk -F'\t' '
{
	if (!($1 in seen)) { seen[$1] = 1; cols[++nc] = $1 }
	if (!($2 in rowseen)) { rowseen[$2] = 1; rows[++nr] = $2 }
	if ($2 !~ /^~/) { t[$2, $1] += $3; sum[$1] += $3 } else t[$2, $1] = $3
	if ($2 == "~clock") clock[$1] = $3
}
END {
	printf "%-26s", "step"; for (c = 1; c <= nc; c++) printf " %10s", cols[c]; print ""
	for (r = 1; r <= nr; r++) {
		if (rows[r] ~ /^~/) continue
		printf "%-26s", rows[r]
		for (c = 1; c <= nc; c++) {
			v = t[rows[r], cols[c]]
			printf (v == "" ? " %10s" : " %10.1f"), (v == "" ? "-" : v)
		}
		print ""
	}
	printf "%-26s", "sum of steps"; for (c = 1; c <= nc; c++) printf " %10.1f", sum[cols[c]]; print ""
	for (r = 1; r <= nr; r++) {
		if (rows[r] !~ /^~/) continue
		printf "%-26s", substr(rows[r], 2)
		for (c = 1; c <= nc; c++) {
			v = t[rows[r], cols[c]]
			printf (v == "" || v == "-" || v !~ /^[0-9.]+$/ ? " %10s" : " %10.1f"), (v == "" ? "-" : v)
		}
		print ""
	}
}'
