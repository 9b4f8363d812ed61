#!/bin/sh
# End-to-end checks of `analyzer run` under mpirun (run from the repo root;
# $1 = analyzer): the chips of a multi-chip schedule spread over the ranks
# give the same files, byte for byte, as the plain run: a generated 4-chip
# decode and samples/tsp/multichip.csv with -np 1, 2 and 4, more ranks than
# chips, chips that idle at different times (one chip starts 2 ms late),
# rails.csv (--waveforms), a 3-rail chip, other bin and window widths,
# four identical chips (ties in severity), a power cap per chip;
# --json prints the same summary.
# The thermal run (3D stack, leakage, stacked hotspots on every chip, a chip
# starting late, --periodic) gives the same files too.
# So do the unit maps (--unit-maps).
# Errors: a bad schedule row (every rank sees it) said once, a broken dep on
# one chip (only its rank sees it), broken deps on three chips (three ranks
# see one each: the plain run's message, once): exit 2, nothing written.
# Skipped, saying so, when mpirun is absent.
set -eu
A=$1
case "$A" in /*) ;; *) A="$PWD/$A" ;; esac
if ! command -v mpirun >/dev/null 2>&1; then
    echo "no mpirun: e2e_mpi_run skipped (install openmpi-bin: make deps)"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=$PWD/samples
# under ASan the ranks run without LeakSanitizer: Open MPI's own allocations
# live to the exit (MPI_Finalize does not free them)
MPIRUN="mpirun --allow-run-as-root --oversubscribe"
case "$A" in *asan*) MPIRUN="env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $MPIRUN"
                     MPIRUN="$MPIRUN -x ASAN_OPTIONS -x UBSAN_OPTIONS" ;; esac
fail() { echo "FAIL: $*"; exit 1; }

# same NAME CHIP SCHEDULE NPS [OPTIONS...]: the plain run, then each -np,
# every file compared, and the file lists
same() {
    name=$1 chip=$2 sched=$3 nps=$4
    shift 4
    "$A" run "$chip" "$sched" --no-thermal -o "$T/$name.plain" --json "$@" > "$T/$name.plain.json"
    for np in $nps; do
        out="$T/$name.np$np"
        $MPIRUN -np "$np" "$A" run "$chip" "$sched" --no-thermal -o "$out" --json "$@" \
            > "$out.json" 2> "$out.err" || { cat "$out.err"; fail "$name -np $np: exit $?"; }
        (cd "$T/$name.plain" && find . -type f | sort) > "$T/list.plain"
        (cd "$out" && find . -type f | sort) > "$T/list.np"
        cmp "$T/list.plain" "$T/list.np" || fail "$name -np $np: other files"
        while read -r f; do
            cmp "$T/$name.plain/$f" "$out/$f" || fail "$name -np $np: $f differs"
        done < "$T/list.plain"
        cmp "$T/$name.plain.json" "$out.json" || fail "$name -np $np: --json differs"
    done
    echo "ok $name: -np $nps"
}

bin/schedgen "$S/tsp/chip.json" -o "$T/gen4.csv" --ops 20000 --chips 4 --kind decode
[ "$(grep -c . "$T/gen4.csv")" -gt 20000 ] || fail "schedgen made too few rows"
same gen4 "$S/tsp/chip.json" "$T/gen4.csv" "1 2 4"
same multichip "$S/tsp/chip.json" "$S/tsp/multichip.csv" "1 2 4"
# more ranks than chips: ranks 4 and 5 idle
same idle_ranks "$S/tsp/chip.json" "$S/tsp/multichip.csv" "6"
# chip 1 starts 2 ms late, chip 3 later: a rank's chips idle while others run
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } $6 == 1 { $4 += 2000000 } $6 == 3 { $4 += 50000 } { print }' \
    "$S/tsp/multichip.csv" > "$T/gap.csv"
same gap "$S/tsp/chip.json" "$T/gap.csv" "2 3"
# chip 1 has no instruction: with 4 ranks, rank 1's share is empty
awk -F, 'NR == 1 || $6 != 1' "$S/tsp/multichip.csv" > "$T/hole.csv"
same hole "$S/tsp/chip.json" "$T/hole.csv" "4"
# every instruction on chip 1 of two: rank 0's share is a chip idle all along,
# walked as one constant run there and bin by bin beside chip 1 in the plain
# run; its figures (saving 0 W, not round-off) must not tell the two apart
bin/schedgen "$S/rails3/chip.json" -o "$T/one.csv" --ops 20000 --kind decode
awk 'NR == 1 { print $0 ",chip"; next } { print $0 ",1" }' "$T/one.csv" > "$T/idle0.csv"
same idle0 "$S/rails3/chip.json" "$T/idle0.csv" "2 3"
# the rails' waveforms (rails.csv), gathered tile by tile
same waveforms "$S/tsp/chip.json" "$S/tsp/multichip.csv" "2 3" --waveforms
# three rails, other bin and window widths, three ranks
bin/schedgen "$S/rails3/chip.json" -o "$T/r3.csv" --ops 6000 --chips 3 --kind decode
same rails3 "$S/rails3/chip.json" "$T/r3.csv" "2 3" --bin-ns 2 --window-ns 37
# four identical chips: their events and report windows tie in severity,
# and every process count must break the ties alike
awk -F, 'BEGIN { OFS = "," } NR == 1 { print $0, "chip"; next } NR <= 3001 { for (c = 0; c < 4; c++) print $0, c }' \
    "$S/tsp/decode.csv" > "$T/twins.csv"
same twins "$S/tsp/chip.json" "$T/twins.csv" "2 3"
# the thermal run, each chip's on its rank: the stacked chip (leaking SRAM)
# with its hotspot threshold lowered so that every chip has stacked
# hotspots, chip 1 starting 3 ms late (the frames evaluated are planned
# from every rank's busy frames); and the periodic steady state
python3 -c "
import json, sys
d = json.load(open('$S/stack/chip.json')); d['thermal']['hotspot_c'] = 44
json.dump(d, open('$T/hot.json', 'w'))"
bin/schedgen "$T/hot.json" -o "$T/pf.csv" --ops 9000 --chips 3 --kind prefill
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } $6 == 1 { $4 += 3000000 } { print }' "$T/pf.csv" > "$T/pfgap.csv"
same_t() {   # same, with the thermal run
    name=$1 chip=$2 sched=$3 nps=$4
    shift 4
    "$A" run "$chip" "$sched" -o "$T/$name.plain" --json "$@" > "$T/$name.plain.json"
    for np in $nps; do
        out="$T/$name.np$np"
        $MPIRUN -np "$np" "$A" run "$chip" "$sched" -o "$out" --json "$@" > "$out.json" 2> "$out.err" ||
            { cat "$out.err"; fail "$name -np $np: exit $?"; }
        diff -r "$T/$name.plain" "$out" > /dev/null || { diff -rq "$T/$name.plain" "$out"; fail "$name -np $np differs"; }
        cmp "$T/$name.plain.json" "$out.json" || fail "$name -np $np: --json differs"
    done
    [ "$name" = idle0_thermal ] || python3 -c "
import json, sys
t = json.load(open('$T/$name.plain/summary.json'))['thermal']
assert t['stacked_hotspots'] >= 6 and t['hotspots'] >= 6, t
assert t['leakage']['total_w'] > 0" || fail "$name: the case lost its hotspots or leakage"
    echo "ok $name: -np $nps"
}
# the idle chip's thermal run: its units' temperatures never change, so the
# time each is hottest is a tie that round-off must not break differently
same_t idle0_thermal "$S/rails3/chip.json" "$T/idle0.csv" "2 3"
same_t thermal "$T/hot.json" "$T/pfgap.csv" "2 3" --frame-ns 5000
same_t periodic "$T/hot.json" "$T/pfgap.csv" "2" --frame-ns 5000 --grid 16,16 --periodic
# the unit maps (units.npy, chip by chip from their ranks) beside the rails
same unitmaps "$S/tsp/chip.json" "$S/tsp/multichip.csv" "2 3" --unit-maps --waveforms
# a power cap per chip (summary, console line, report)
same cap "$S/tsp/chip.json" "$S/tsp/multichip.csv" "2 3" --power-cap-w 120
# the test can fail: a run of other chips differs
$MPIRUN -np 2 "$A" run "$S/tsp/chip.json" "$T/gap.csv" --no-thermal -o "$T/other" --quiet
! cmp -s "$T/gen4.plain/summary.json" "$T/other/summary.json" || fail "different runs gave one summary"

# --- errors: exit 2, said once, nothing written ------------------------------
bad() {
    name=$1 sched=$2 want=$3
    shift 3
    rc=0
    $MPIRUN -np 3 "$A" run "$S/tsp/chip.json" "$sched" -o "$T/$name.out" "$@" > /dev/null 2> "$T/$name.err" || rc=$?
    [ $rc = 2 ] || { cat "$T/$name.err"; fail "$name: exit $rc, want 2"; }
    [ "$(grep -c -- "$want" "$T/$name.err")" = 1 ] || { cat "$T/$name.err"; fail "$name: not said once"; }
    [ ! -e "$T/$name.out" ] || fail "$name: wrote $T/$name.out"
    echo "ok $name"
}
# an unknown unit: every rank reads the row
awk -F, 'BEGIN { OFS = "," } NR == 50 { $2 = "NOPE.0" } { print }' "$S/tsp/multichip.csv" > "$T/badunit.csv"
bad badunit "$T/badunit.csv" "badunit.csv:50:" --no-thermal
# a dep on an id that chip 2 does not have: only the rank of chip 2 sees it
awk -F, 'BEGIN { OFS = "," } NR > 1 && $6 == 2 && !done { $8 = "nosuchid"; done = 1 } { print }' \
    "$S/tsp/multichip.csv" > "$T/baddep.csv"
bad baddep "$T/baddep.csv" "no such id on chip 2" --no-thermal
# such deps on chips 1, 2 and 3, each seen by another rank: one message, the
# plain run's (the first in the file)
awk -F, 'BEGIN { OFS = "," } NR > 1 && $6 >= 1 && !done[$6] { $8 = "nosuchid" $6; done[$6] = 1 } { print }' \
    "$S/tsp/multichip.csv" > "$T/baddeps.csv"
rc=0; "$A" run "$S/tsp/chip.json" "$T/baddeps.csv" --no-thermal 2> "$T/baddeps.plain" > /dev/null || rc=$?
[ $rc = 2 ] || fail "baddeps, plain: exit $rc"
rc=0; $MPIRUN -np 4 "$A" run "$S/tsp/chip.json" "$T/baddeps.csv" --no-thermal -o "$T/baddeps.out" \
    > /dev/null 2> "$T/baddeps.err" || rc=$?
[ $rc = 2 ] && [ ! -e "$T/baddeps.out" ] || fail "baddeps -np 4: exit $rc"
[ "$(grep -c "baddeps.csv:" "$T/baddeps.err")" = 1 ] && grep -qF -- "$(cat "$T/baddeps.plain")" "$T/baddeps.err" ||
    { cat "$T/baddeps.plain" "$T/baddeps.err"; fail "baddeps -np 4: not the plain run's one message"; }
echo "ok baddeps"
# a bad option: every rank parses it, rank 0 says it
rc=0; $MPIRUN -np 3 "$A" run "$S/tsp/chip.json" "$S/tsp/multichip.csv" --bin-ns 0 > /dev/null 2> "$T/badopt.err" || rc=$?
[ $rc = 2 ] && [ "$(grep -c "^analyzer: --bin-ns" "$T/badopt.err")" = 1 ] || { cat "$T/badopt.err"; fail "bad option: exit $rc"; }
echo "ok badopt"
# a rail whose PDN model is refused (an unstable regulator loop): every rank
# would make it alike; said once, the plain run's message
sed 's/"bandwidth_hz": 2e4/"bandwidth_hz": 5e6/' "$S/tsp/chip.json" > "$T/unstable.json"
rc=0; "$A" run "$T/unstable.json" "$S/tsp/multichip.csv" --no-thermal 2> "$T/unstable.plain" > /dev/null || rc=$?
[ $rc = 2 ] && grep -q "regulator loop is unstable" "$T/unstable.plain" || fail "unstable, plain: exit $rc"
rc=0; $MPIRUN -np 3 "$A" run "$T/unstable.json" "$S/tsp/multichip.csv" --no-thermal -o "$T/unstable.out" \
    > /dev/null 2> "$T/unstable.err" || rc=$?
[ $rc = 2 ] && [ ! -e "$T/unstable.out" ] && [ "$(grep -c "regulator loop is unstable" "$T/unstable.err")" = 1 ] &&
    grep -qF -- "$(cat "$T/unstable.plain")" "$T/unstable.err" ||
    { cat "$T/unstable.err"; fail "unstable -np 3: exit $rc, or not the plain run's one message"; }
echo "ok unstable"
echo "e2e_mpi_run: ok"
