#!/bin/sh
# tools/bench-readme.sh TABLE README: puts the table of one bench run
# (build/bench.txt, written by make bench / bench-peer) into README between
# the markers, so that every figure README quotes comes from that run.
set -eu
[ $# -eq 2 ] || { echo "usage: bench-readme.sh TABLE README" >&2; exit 64; }
table=$1 readme=$2
[ -s "$table" ] || { echo "bench-readme: $table: no bench table (make bench-peer first)" >&2; exit 66; }
grep -q '^<!-- bench-table: begin -->$' "$readme" &&
    grep -q '^<!-- bench-table: end -->$' "$readme" ||
    { echo "bench-readme: $readme: no bench-table markers" >&2; exit 65; }
tmp=$(mktemp "$readme.XXXXXX")
awk -v table="$table" '
/^<!-- bench-table: begin -->$/ {
	print; print ""; print "```"
	while ((getline line < table) > 0) print line
	print "```"; print ""; skip = 1; next
}
/^<!-- bench-table: end -->$/ { skip = 0 }
!skip' "$readme" > "$tmp"
mv "$tmp" "$readme"
