#!/bin/sh
# tests/run.sh FLAVOUR BUILDDIR ANALYZER TEST... [-- FLAVOUR BUILDDIR ANALYZER TEST...]
# -- runs, for each flavour given, the cmocka suites (TEST...), the golden
# bad-input cases (tests/cases.sh), the modules' include direction
# (tests/check_layers.py), the end-to-end scripts (tests/e2e_*.sh) and, in
# the release build, the Python module's tests (tests/python/run.sh).
# `make test` passes both flavours in one call, so that the two share one
# pool of workers; `make test-rel` and `make test-asan` one each.
#
# The suites run PDA_TEST_JOBS at a time (default: the number of cores),
# the longest first (est below), each with its output in its own log
# (BUILDDIR/tests/TEST.log, BUILDDIR/cases.log, BUILDDIR/layers.log,
# BUILDDIR/e2e_NAME.sh.log, BUILDDIR/python.log) and stdin from /dev/null.
# Every script makes its own folder (mktemp -d), so suites running at the
# same time share no file. Once all have finished it prints, in the order
# above, a line per suite ("ok [rel] e2e_run.sh 12.3 s", or "FAIL ..." and
# the log's tail), then per flavour the closing lines
#   [FLAVOUR] cmocka tests passed: N
#   FLAVOUR: N passed, N failed          (N suites)
#   failed: NAME...                      (only when one failed)
# and exits non-zero when any suite failed.
jobs=${PDA_TEST_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
work=$(mktemp -d "${TMPDIR:-/tmp}/pda_run_XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
tab=$(printf '\t')

# Expected seconds of a suite (measured on 2 cores, docs/testing.md): only
# the order in which they start. The long ones first, so that the last to
# finish are short ones and the two workers end together.
est() {   # est FLAVOUR NAME
    case "$1 $2" in
        "asan e2e_failalloc.sh") echo 250 ;;
        "asan test_budget") echo 150 ;;
        "rel e2e_failalloc.sh") echo 120 ;;
        "asan e2e_retime.sh"|"asan e2e_mpi_run.sh") echo 60 ;;
        *" test_pdn"|"rel test_budget"|"rel e2e_mpi_run.sh") echo 40 ;;
        *" e2e_retime_streams.sh"|"rel e2e_retime.sh"|*" e2e_report.sh") echo 25 ;;
        "asan test_"*|*" e2e_"*) echo 10 ;;
        *) echo 5 ;;
    esac
}

# The queue: one line per suite, "INDEX EST FLAVOUR BUILDDIR ANALYZER NAME"
# (tab-separated), INDEX in report order.
n=0; flavours=""
add() {   # add FLAVOUR BUILDDIR ANALYZER NAME
    n=$((n + 1))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(est "$1" "$4")" "$1" "$2" "$3" "$4" >> "$work/list"
}
while [ $# -ge 3 ]; do
    flavour=$1; dir=$2; analyzer=$3; shift 3
    flavours="$flavours $flavour"
    eval "dir_$flavour=\$dir tests_$flavour="
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        add "$flavour" "$dir" "$analyzer" "$1"
        eval "tests_$flavour=\"\$tests_$flavour \$1\""
        shift
    done
    [ $# -gt 0 ] && shift   # the --
    add "$flavour" "$dir" "$analyzer" cases
    add "$flavour" "$dir" "$analyzer" layers
    for e in tests/e2e_*.sh; do
        [ -f "$e" ] && add "$flavour" "$dir" "$analyzer" "$(basename "$e")"
    done
    # the Python module, over the release build's libpda.so
    [ "$flavour" = rel ] && add "$flavour" "$dir" "$analyzer" python
done
[ -s "$work/list" ] || { echo "usage: tests/run.sh FLAVOUR BUILDDIR ANALYZER TEST... [-- ...]" >&2; exit 2; }
sort -t "$tab" -k2,2nr -k1,1n "$work/list" > "$work/queue"

logof() {   # logof BUILDDIR NAME: the suite's log
    case "$2" in
        test_*) echo "$1/tests/$2.log" ;;
        *) echo "$1/$2.log" ;;
    esac
}
suite() {   # suite BUILDDIR ANALYZER NAME: runs one suite
    case "$3" in
        test_*) "$1/tests/$3" ;;
        cases) sh tests/cases.sh "$2" ;;
        layers) python3 tests/check_layers.py ;;
        python) sh tests/python/run.sh ;;
        *) sh "tests/$3" "$2" ;;
    esac
}
now() { date +%s.%N; }

# The pool: $jobs workers each walk the whole queue, longest first, and run
# each suite that they are the first to claim -- mkdir of claim.INDEX is
# atomic, so exactly one worker gets it. A worker that finishes a suite
# takes the next unclaimed one, so the pool stays full until the queue runs
# out. Each suite leaves "EXIT SECONDS" in res.INDEX.
worker() {
    while IFS=$tab read -r idx _ fl dir an name; do
        mkdir "$work/claim.$idx" 2>/dev/null || continue
        t0=$(now)
        suite "$dir" "$an" "$name" > "$(logof "$dir" "$name")" 2>&1 < /dev/null
        rc=$?
        echo "$rc $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')" > "$work/res.$idx"
    done < "$work/queue"
}
w=0
while [ "$w" -lt "$jobs" ]; do
    worker &
    w=$((w + 1))
done
wait

# The report, in queue order (not the order they finished in).
status=0
for f in $flavours; do
    eval "dir=\$dir_$f tests=\$tests_$f"
    pass=0; fail=0; failed=""
    while IFS=$tab read -r idx _ fl _ _ name; do
        [ "$fl" = "$f" ] || continue
        rc=1; secs=?
        [ -f "$work/res.$idx" ] && read -r rc secs < "$work/res.$idx"
        log=$(logof "$dir" "$name")
        if [ "$rc" = 0 ]; then
            pass=$((pass + 1))
            echo "ok [$f] $name $secs s"
        else
            fail=$((fail + 1)); failed="$failed $name"
            echo "FAIL [$f] $name $secs s (exit $rc, $log):"
            case "$name" in
                cases) grep -v '^ok ' "$log" | tail -n 40 ;;
                layers) tail -n 20 "$log" ;;
                *) tail -n 30 "$log" ;;
            esac
        fi
    done < "$work/list"
    for t in $tests; do cat "$dir/tests/$t.log"; done 2>/dev/null |
        grep '^\[  PASSED  \]' | awk -v f="$f" '{n += $4} END {print "[" f "] cmocka tests passed: " n + 0}'
    echo "$f: $pass passed, $fail failed"
    [ "$fail" = 0 ] || { echo "failed:$failed"; status=1; }
done
exit $status
