#!/bin/sh
# tests/e2e_failalloc.sh ANALYZER -- the failing-allocator sweep
# (tests/failalloc_sweep.py, docs/testing.md) on the failalloc build of
# ANALYZER's flavour: bin/analyzer -> build/rel/tests/analyzer_failalloc,
# the first and the last point of each allocation site and every 8th point;
# build/asan/bin/analyzer -> build/asan/tests/analyzer_failalloc, the first
# point of each site (ASan + UBSan, and LeakSanitizer at every exit).
# PDA_FAILALLOC_STRIDE=N|sites|sites+N|first sets the choice (N: every N-th
# point; 1: every point, ~10 min in the release build).
set -u
top=$(dirname "$(dirname "$1")")
case "$top" in
    .|"") F=build/rel/tests/analyzer_failalloc; stride=${PDA_FAILALLOC_STRIDE:-sites+8} ;;
    *) F=$top/tests/analyzer_failalloc; stride=${PDA_FAILALLOC_STRIDE:-first} ;;
esac
[ -x "$F" ] || { echo "FAIL: $F is not built (make test-rel and make test-asan build it)"; exit 1; }
exec python3 tests/failalloc_sweep.py "$F" "$stride"
