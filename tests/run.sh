#!/bin/sh
# tests/run.sh FLAVOUR BUILDDIR ANALYZER TEST... -- runs the cmocka suites,
# the golden bad-input cases (tests/cases/), the modules' include direction
# (tests/check_layers.py), the end-to-end scripts (tests/e2e_*.sh) and, in
# the release build, the Python module's tests (tests/python/run.sh)
# against one build flavour. Prints a closing line
# "FLAVOUR: N passed, N failed" (N suites) and exits non-zero on any failure.
flavour=$1; dir=$2; analyzer=$3; shift 3
pass=0; fail=0
failed=""
for t in "$@"; do
    if "$dir/tests/$t" >"$dir/tests/$t.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed="$failed $t"
        echo "FAIL [$flavour] $t:"; tail -n 30 "$dir/tests/$t.log"
    fi
done
if sh tests/cases.sh "$analyzer" >"$dir/cases.log" 2>&1; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); failed="$failed cases"
    echo "FAIL [$flavour] golden cases:"; grep -v '^ok ' "$dir/cases.log" | tail -n 40
fi
if python3 tests/check_layers.py >"$dir/layers.log" 2>&1; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); failed="$failed layers"
    echo "FAIL [$flavour] module layers:"; tail -n 20 "$dir/layers.log"
fi
for e in tests/e2e_*.sh; do
    [ -f "$e" ] || continue
    if sh "$e" "$analyzer" >"$dir/$(basename "$e").log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed="$failed $(basename "$e")"
        echo "FAIL [$flavour] $e:"; tail -n 30 "$dir/$(basename "$e").log"
    fi
done
# the Python module, over the release build's libpda.so
if [ "$flavour" = rel ]; then
    if sh tests/python/run.sh >"$dir/python.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed="$failed python"
        echo "FAIL [$flavour] python:"; tail -n 30 "$dir/python.log"
    fi
fi
grep -h '^\[  PASSED  \]' "$dir"/tests/*.log 2>/dev/null | awk -v f="$flavour" '{n += $4} END {print "[" f "] cmocka tests passed: " n}'
echo "$flavour: $pass passed, $fail failed"
[ "$fail" = 0 ] || { echo "failed:$failed"; exit 1; }
