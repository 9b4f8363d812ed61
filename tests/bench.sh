#!/bin/sh
# tests/bench.sh BUILDDIR BENCH... -- runs each benchmark program, then the
# end-to-end command benchmarks (tests/bench_*.sh). Figures go to stdout.
dir=$1; shift
for b in "$@"; do
    echo "== $b"; "$dir/tests/$b" || exit 1
done
for s in tests/bench_*.sh; do
    [ -f "$s" ] || continue
    echo "== $(basename "$s")"; sh "$s" || exit 1
done
