#!/bin/sh
# tools/tcb.sh: the first-party code lines linked into each binary.
#
#   tools/tcb.sh [-v] [-b BUDGET BINARY] BINARY...
#
# The files come from the artefact, not from a makefile: the DWARF line
# tables of the binary name every source file and header that was compiled
# into it, with its directory. Those inside this tree (relative to the
# compile directory; libc, libmosquitto... lie elsewhere) are first-party:
# a .c file and every header it pulled in that went into the binary, each
# counted once, generated files (build/gen) included. A code line is one
# that is neither blank nor a comment line (//, /*, or a leading *).
# -v lists the files. -b: exit 1 if BINARY (also listed) exceeds BUDGET.
# (/work/shared/hooks/before-stop counts each compile unit with its
# same-named header only, so it leaves out headers such as watchdog.h's
# neighbours; its figure is lower.)
set -eu

usage() {
	echo "usage: tcb.sh [-v] [-b BUDGET BINARY] BINARY..." >&2
	exit 64
}

verbose=0 budget= bbin=
while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1; shift ;;
	-b) [ $# -ge 3 ] || usage; budget=$2 bbin=$3; shift 3 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || [ -n "$bbin" ] || usage
top=$(pwd)

# files BINARY: the first-party files of its line tables, relative, sorted.
files() {
	readelf --debug-dump=rawline "$1" 2>/dev/null | awk -v top="$top" '
	/The Directory Table/ { indir = 1; infile = 0; delete dir; next }
	/The File Name Table/ { indir = 0; infile = 1; next }
	/^ *$/ { indir = infile = 0; next }
	indir && $1 ~ /^[0-9]+$/ { dir[$1] = $NF; next }
	infile && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {
		d = dir[$2]; f = $NF
		if (f ~ /^</)		# <built-in>
			next
		if (f !~ /^\//)
			f = (d ~ /^\// ? d : dir[0] "/" d) "/" f
		if (index(f, top "/") == 1)
			print substr(f, length(top) + 2)
	}' | sort -u
}

lines() {
	grep -cvE '^[[:space:]]*($|//|/\*|\*)' "$1" 2>/dev/null || true
}

count() {
	bin=$1 total=0 n=0
	[ -f "$bin" ] || { echo "tcb: $bin: no such file" >&2; exit 66; }
	list=$(files "$bin")
	[ -n "$list" ] || { echo "tcb: $bin: no DWARF line tables of this tree" \
	    "(built without -g, or elsewhere?)" >&2; exit 65; }
	for f in $list; do
		[ -f "$f" ] || { echo "tcb: $bin: $f not found" >&2; exit 66; }
		c=$(lines "$f")
		[ $verbose -eq 0 ] || printf '  %6d  %s\n' "$c" "$f"
		total=$((total + c)) n=$((n + 1))
	done
	printf '%6d  %s (%d files)\n' "$total" "$bin" "$n"
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
