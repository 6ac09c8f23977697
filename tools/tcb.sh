#!/bin/sh
# tools/tcb.sh: the first-party code lines linked into each binary.
#
#   tools/tcb.sh [-v] [-b BUDGET BINARY] BINARY...
#
# The list of sources comes from the artefact, not from a makefile: every
# DWARF compile unit of the binary whose source lies in this tree (relative
# DW_AT_name; libc, libmosquitto... carry absolute paths and are not ours).
# A unit counts with its header of the same name (shared/audit.c with
# shared/audit.h), as /work/shared/hooks/before-stop counts. A code line is
# one that is neither blank nor a comment line (//, /*, or a leading *).
# -v lists each unit. -b: exit 1 if BINARY (also listed) exceeds BUDGET.
set -eu

verbose=0 budget= bbin=
while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1; shift ;;
	-b) [ $# -ge 3 ] || { echo "usage: tcb.sh [-v] [-b BUDGET BINARY] BINARY..." >&2; exit 64; }
	    budget=$2 bbin=$3; shift 3 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || [ -n "$bbin" ] || { echo "usage: tcb.sh [-v] [-b BUDGET BINARY] BINARY..." >&2; exit 64; }

lines() {
	grep -cvE '^[[:space:]]*($|//|/\*|\*)' "$@" 2>/dev/null | \
	    awk -F: '{ n += $NF } END { print n + 0 }'
}

# units BINARY: the first-party compile units, one per line, sorted.
units() {
	readelf --debug-dump=info --dwarf-depth=1 "$1" 2>/dev/null | \
	    awk '/DW_TAG_compile_unit/ { c = 1; next }
		c && /DW_AT_name/ { print $NF; c = 0 }' | \
	    grep -v '^/' | sort -u
}

count() {
	bin=$1 total=0 nunits=0
	[ -f "$bin" ] || { echo "tcb: $bin: no such file" >&2; exit 66; }
	if ! readelf --debug-dump=info --dwarf-depth=1 "$bin" 2>/dev/null | \
	    grep -q DW_TAG_compile_unit; then
		echo "tcb: $bin: no DWARF compile units (built without -g?)" >&2
		exit 65
	fi
	for u in $(units "$bin"); do
		[ -f "$u" ] || { echo "tcb: $bin: source $u not found" >&2; exit 66; }
		h=${u%.c}.h
		if [ -f "$h" ]; then n=$(lines "$u" "$h"); else n=$(lines "$u"); fi
		[ $verbose -eq 0 ] || printf '  %6d  %s%s\n' "$n" "$u" \
		    "$([ -f "$h" ] && echo " + ${h##*/}")"
		total=$((total + n)) nunits=$((nunits + 1))
	done
	printf '%6d  %s (%d units)\n' "$total" "$bin" "$nunits"
	last=$total
}

for b in "$@"; do
	[ "$b" = "$bbin" ] || count "$b"
done
if [ -n "$bbin" ]; then
	count "$bbin"
	if [ "$last" -gt "$budget" ]; then
		echo "tcb: $bbin links $last first-party code lines, over its budget of $budget" >&2
		exit 1
	fi
	echo "tcb: $bbin: $last of $budget lines"
fi
