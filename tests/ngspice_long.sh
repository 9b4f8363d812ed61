#!/bin/sh
# The droop of long waveforms against ngspice: the comparison of
# tests/test_pdn.c (1 to 3 stage ladders, with and without ESL, bursts with
# 1 ps edges, ngspice driven by a PWL current source in windows chained by
# initial conditions) on NS nanoseconds instead of the 2000 that `make test`
# uses. Prints the worst difference per ladder. Usage:
#   sh tests/ngspice_long.sh [NS]      (default 20000; needs `make`)
ns=${1:-20000}
[ -x build/rel/tests/test_pdn ] || make build/rel/tests/test_pdn >/dev/null || exit 1
PDN_NGSPICE_NS=$ns build/rel/tests/test_pdn 2>&1 | grep -i -E "ngspice|worst|PASSED|FAILED"
