#!/bin/sh
# End-to-end checks of `analyzer sweep` (run from the repo root; $1 = analyzer).
# The same sweep.csv and sweep.json, byte for byte, from --jobs 1, --jobs 2
# and (when mpirun is there) mpirun -np 1, 2 and 3; a failing
# point is its row and the others complete; physics, not stored numbers
# (tests/check_sweep.py): energy affine in an op's current, droop falling
# with the die's capacitance, grid and zip row counts, a row equal to a
# plain `analyzer run` of the chip edited by hand; outputs land whole, next
# to what the folder held.
set -eu
A=$1
case "$A" in /*) ;; *) A="$PWD/$A" ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=$PWD/samples
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

# --- one sweep, many ways of running it ---------------------------------------
# 3 x 2 x 2 points on two schedules (one of 4 chips); c_f -1e-6 makes the chip invalid
cat > "$T/s.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json",
 "schedules": ["$S/tsp/decode.csv", "$S/tsp/multichip.csv"],
 "vary": {"rails[core].pdn.stages[die].c_f": [1e-6, -1e-6, 2.5e-6],
          "rails[core].guardband_mv": [50, 150],
          "thermal.h_top_w_m2k": [1e4, 2e4]},
 "mode": "grid", "run": {"no_thermal": false, "window_ns": 100, "grid": [16, 16]}}
EOF
mkdir -p "$T/j1"
echo "theirs" > "$T/j1/notes.txt"
$A sweep "$T/s.json" -o "$T/j1" --jobs 1 > "$T/j1.out" 2> "$T/j1.err"
grep -q "12 points x 2 schedules = 24 runs: 16 ok, 8 failed" "$T/j1.out"
[ "$(cat "$T/j1/notes.txt")" = theirs ] || { echo "the folder's own file was lost"; exit 1; }
for f in sweep.csv sweep.json sweep.html; do [ -s "$T/j1/$f" ] || { echo "missing $f"; exit 1; }; done
ls -a "$T" | grep -q pda- && { echo "staging left behind"; exit 1; }
# the failed rows say why, where; stderr names the point
grep -q '^analyzer: point 4 on .*decode.csv: .*/tsp/chip.json:13:[0-9]*: rails\[0\].pdn.stages\[2\].c_f: must be > 0' "$T/j1.err"
# --strict: a failed point (or a broken limit) is exit 1, same files
rc=0; $A sweep "$T/s.json" -o "$T/strict" --jobs 2 --strict --quiet 2>/dev/null || rc=$?
[ $rc = 1 ] || { echo "--strict: exit $rc, want 1"; exit 1; }
cmp "$T/j1/sweep.csv" "$T/strict/sweep.csv"
$A sweep "$T/s.json" -o "$T/j2" --jobs 2 --quiet
cmp "$T/j1/sweep.csv" "$T/j2/sweep.csv"
cmp "$T/j1/sweep.json" "$T/j2/sweep.json"
cmp "$T/j1/sweep.html" "$T/j2/sweep.html"
# under ASan the ranks run without LeakSanitizer: Open MPI's own allocations
# live to the exit (MPI_Finalize does not free them)
MPIRUN="mpirun --allow-run-as-root --oversubscribe"
case "$A" in *asan*) MPIRUN="env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $MPIRUN"
                     MPIRUN="$MPIRUN -x ASAN_OPTIONS -x UBSAN_OPTIONS" ;; esac
if command -v mpirun >/dev/null 2>&1; then
    for np in 1 2 3; do
        $MPIRUN -np $np "$A" sweep "$T/s.json" -o "$T/mpi$np" --jobs 1 \
            > "$T/mpi$np.out" 2> "$T/mpi$np.err" || { cat "$T/mpi$np.err"; exit 1; }
        grep -q "$np process" "$T/mpi$np.out"
        cmp "$T/j1/sweep.csv" "$T/mpi$np/sweep.csv"
        cmp "$T/j1/sweep.json" "$T/mpi$np/sweep.json"
    done
    # two threads per rank, three ranks
    $MPIRUN -np 3 "$A" sweep "$T/s.json" -o "$T/mpi3j" --jobs 2 --quiet
    cmp "$T/j1/sweep.csv" "$T/mpi3j/sweep.csv"
    # a bad sweep file: exit 2 on every rank, said once, nothing written
    echo '{"format": "pda-sweep/1"' > "$T/bad.json"
    rc=0; $MPIRUN -np 2 "$A" sweep "$T/bad.json" -o "$T/badout" > /dev/null 2> "$T/bad.err" || rc=$?
    [ $rc = 2 ] || { echo "mpirun, bad sweep: exit $rc, want 2"; cat "$T/bad.err"; exit 1; }
    [ "$(grep -c 'bad.json:' "$T/bad.err")" = 1 ] || { cat "$T/bad.err"; exit 1; }
    [ ! -e "$T/badout" ]
else
    echo "no mpirun: MPI runs skipped"
fi

# refused NAME PATTERN: the sweep file $T/NAME.json is refused, exit 2,
# stderr matching PATTERN (grep), no output folder
refused() {
    rc=0; $A sweep "$T/$1.json" -o "$T/$1" 2> "$T/$1.err" || rc=$?
    [ $rc = 2 ] && [ ! -e "$T/$1" ] && grep -q "$2" "$T/$1.err" || { echo "$1: exit $rc"; cat "$T/$1.err"; exit 1; }
}

# --- a retime budget -----------------------------------------------------------
# every ok run re-timed over 10 ns windows to a cap the sweep varies: 20 W is
# below the idle power (cannot), 150 W is met; c_f -1e-6 fails the run, so it
# has no re-timing. rtf.json gives the cap as a fixed value: its row must be
# rt.json's point 3, and analyzer retime's figures
cat > "$T/rt.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$S/tsp/decode.csv"],
 "vary": {"rails[core].pdn.stages[die].c_f": [-1e-6, 2.5e-6], "retime.power_cap_w": [20, 150]},
 "run": {"no_thermal": true}, "retime": {"window_ns": 10}}
EOF
$A sweep "$T/rt.json" -o "$T/rt" --jobs 1 > "$T/rt.out" 2> "$T/rt.err"
grep -q "re-timed: 1 met, 0 not met, 1 cannot, 0 failed" "$T/rt.out" || { cat "$T/rt.out"; exit 1; }
$A sweep "$T/rt.json" -o "$T/rt2" --jobs 2 --quiet
cmp "$T/rt/sweep.csv" "$T/rt2/sweep.csv"
cmp "$T/rt/sweep.json" "$T/rt2/sweep.json"
cat > "$T/rtf.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$S/tsp/decode.csv"],
 "vary": {"rails[core].pdn.stages[die].c_f": [2.5e-6]},
 "run": {"no_thermal": true}, "retime": {"power_cap_w": 150, "window_ns": 10}}
EOF
if command -v mpirun >/dev/null 2>&1; then
    $MPIRUN -np 2 "$A" sweep "$T/rtf.json" -o "$T/rtf" --jobs 1 --quiet
else
    $A sweep "$T/rtf.json" -o "$T/rtf" --quiet
fi
$A retime "$S/tsp/chip.json" "$S/tsp/decode.csv" -o "$T/rt_plain.csv" --power-cap-w 150 --window-ns 10 --json \
    > "$T/rt_plain.json"
# a budget with no limit is the sweep file's error, at its place
sed 's/"retime.power_cap_w": \[20, 150\]/"retime.window_ns": [1, 10]/; s/"retime": {"window_ns": 10}/"retime": {}/' \
    "$T/rt.json" > "$T/rtbad.json"
refused rtbad "rtbad.json:3:[0-9]*: retime: needs a budget"
# a budget value both varied and fixed: the fixed one would be dropped
sed 's/"retime": {"window_ns": 10}/"retime": {"window_ns": 10, "power_cap_w": 100}/' "$T/rt.json" > "$T/rtdup.json"
refused rtdup "rtdup.json:2:[0-9]*: vary: 'retime.power_cap_w': retime.power_cap_w sets it"

# --- names ---------------------------------------------------------------------
# a unit picked by a name longer than any buffer, beside one named by its
# prefix: the long one is varied (its rectangle moved off the chip fails the
# row naming it)
$PY - "$S/tsp/chip.json" "$T/long_chip.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["units"][0]["name"], c["units"][1]["name"] = "U" * 300, "U" * 300 + "X"
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
long=$($PY -c 'print("U" * 300 + "X")')
cat > "$T/long.json" <<EOF
{"format": "pda-sweep/1", "chip": "$T/long_chip.json", "schedules": ["$T/none.csv"],
 "vary": {"units[$long].rect_mm[0]": [1000]}, "run": {"no_thermal": true}}
EOF
printf 'id,unit,op,start,cycles\n' > "$T/none.csv"
$A sweep "$T/long.json" -o "$T/long" --quiet
grep -q "units\[1\].rect_mm: unit '$long' " "$T/long/sweep.csv" || { cat "$T/long/sweep.csv"; exit 1; }

# --- leakage -------------------------------------------------------------------
# one unit of the stacked sample leaking 5000 A: no steady fixed point (runaway)
cat > "$T/lk.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/stack/chip.json", "schedules": ["$S/stack/decode.csv"],
 "vary": {"units[SRAM.C0.R0].leak_a": [0.4, 5000]}, "run": {"grid": [16, 16]}}
EOF
$A sweep "$T/lk.json" -o "$T/lk" --quiet
$A run "$S/stack/chip.json" "$S/stack/decode.csv" --grid 16,16 --json > "$T/lk_plain.json"
# a run option that would override a varied value is the sweep file's error
sed 's/"units\[SRAM.C0.R0\].leak_a": \[0.4, 5000\]/"thermal.grid[0]": [16, 32]/' "$T/lk.json" > "$T/lkbad.json"
refused lkbad "lkbad.json:2:[0-9]*: vary: 'thermal.grid\[0\]': run.grid sets it"
sed 's/"units\[SRAM.C0.R0\].leak_a": \[0.4, 5000\]/"thermal.gridiron": [16, 32]/' "$T/lk.json" > "$T/lkbad2.json"
refused lkbad2 "lkbad2.json:2:[0-9]*: vary: 'thermal.gridiron': no 'gridiron' in thermal"

# a leakage that runs away past what the power figures hold (10^9 W: beta 0.5
# per K under a weak cooling) fails its row, said where; the other point runs,
# and a plain run of that chip is refused (exit 2), nothing written
cat > "$T/lkx.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/stack/chip.json", "schedules": ["$S/stack/decode.csv"],
 "vary": {"thermal.h_top_w_m2k": [20000, 100], "thermal.leakage.beta_per_k": [0.5]}, "run": {"grid": [16, 16]}}
EOF
$A sweep "$T/lkx.json" -o "$T/lkx" --quiet
grep -q '^0,.*,ok,' "$T/lkx/sweep.csv" || { cat "$T/lkx/sweep.csv"; exit 1; }
grep -q '^1,.*chip.json: thermal: the leakage runs away .* past the 1e+09 W the power figures hold"' "$T/lkx/sweep.csv" \
    || { cat "$T/lkx/sweep.csv"; exit 1; }
$PY - "$S/stack/chip.json" "$T/lkx_chip.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["thermal"]["h_top_w_m2k"] = 100
c["thermal"]["leakage"]["beta_per_k"] = 0.5
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
rc=0; $A run "$T/lkx_chip.json" "$S/stack/decode.csv" --grid 16,16 -o "$T/lkx_run" 2> "$T/lkx_run.err" || rc=$?
[ $rc = 2 ] && [ ! -e "$T/lkx_run" ] && grep -q "lkx_chip.json: thermal: the leakage runs away" "$T/lkx_run.err" \
    || { echo "runaway run: exit $rc"; cat "$T/lkx_run.err"; exit 1; }

# a leakage whose steady loop stays within the figures but whose transient
# heats until the leakage law overflows (10^5 A of leakage at 0.1 per K): the
# same refusal, from the frame that passes, not "out of memory" (exit 4)
cat > "$T/lkt.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/stack/chip.json", "schedules": ["$S/stack/decode.csv"],
 "vary": {"units[SRAM.C0.R0].leak_a": [0.4, 100000], "thermal.leakage.beta_per_k": [0.1],
          "thermal.ambient_c": [100]}, "run": {"grid": [16, 16]}}
EOF
$A sweep "$T/lkt.json" -o "$T/lkt" --quiet
grep -q '^0,.*,ok,' "$T/lkt/sweep.csv" || { cat "$T/lkt/sweep.csv"; exit 1; }
grep -q '^1,.*chip.json: thermal: the leakage runs away .* a frame of the transient heats until its leakage is past any number' \
    "$T/lkt/sweep.csv" || { cat "$T/lkt/sweep.csv"; exit 1; }

# --- the output folder --------------------------------------------------------
# a name of the set taken by a folder is refused before any run: this sweep's
# one re-timing walks 10^9 bins twice (half a minute), the refusal is at once
printf 'id,unit,op,start,cycles\na,MXM.W0,matmul,0,10\nb,MXM.W0,matmul,900000000,10\n' > "$T/far.csv"
cat > "$T/far.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$T/far.csv"],
 "vary": {"rails[core].guardband_mv": [50]}, "run": {"no_thermal": true}, "retime": {"power_cap_w": 150}}
EOF
mkdir -p "$T/taken/sweep.html"
rc=0; timeout 10 $A sweep "$T/far.json" -o "$T/taken" 2> "$T/taken.err" || rc=$?
[ $rc = 2 ] && grep -q "taken/sweep.html: is a folder" "$T/taken.err" && [ "$(ls -A "$T/taken")" = sweep.html ] \
    || { echo "sweep.html a folder: exit $rc"; cat "$T/taken.err"; exit 1; }
# a sweep whose files cannot be written (a file-size limit): exit 4, and the
# folder it made is gone again
rc=0; (ulimit -f 1; $A sweep "$T/rtf.json" -o "$T/made/sub" --quiet 2> "$T/made.err") || rc=$?
[ $rc = 4 ] && [ ! -e "$T/made" ] || { echo "a sweep that cannot write: exit $rc, $(ls "$T")"; cat "$T/made.err"; exit 1; }

# --- physics ------------------------------------------------------------------
# an op's current: energy affine in it (zip of one list)
cat > "$T/op.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$S/tsp/decode.csv"],
 "vary": {"ops[MXM.matmul].current_a": [10, 20, 40, 80]}, "mode": "zip", "run": {"no_thermal": true}}
EOF
$A sweep "$T/op.json" -o "$T/op" --quiet
# the die's decap: droop falls as it grows, on the stacked chip's two rails
cat > "$T/cf.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/stack/chip.json", "schedules": ["$S/stack/decode.csv"],
 "vary": {"rails[core].pdn.stages[die].c_f": [5e-7, 1e-6, 2.5e-6, 1e-5, 1e-4, 1e-3]}, "run": {"no_thermal": true}}
EOF
$A sweep "$T/cf.json" -o "$T/cf" --quiet
# zip pairs the lists value by value
cat > "$T/zip.json" <<EOF
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$S/tsp/decode.csv"],
 "vary": {"rails[core].guardband_mv": [50, 60, 70], "units[MXM.W0].idle_a": [1, 2, 3]},
 "mode": "zip", "run": {"no_thermal": true}}
EOF
$A sweep "$T/zip.json" -o "$T/zip" --quiet
# point 9 of s.json on decode.csv (c_f 2.5e-6, guardband 50, h_top 2e4) as a plain run
$PY - "$S/tsp/chip.json" "$T/hand.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
r = c["rails"][0]
[s for s in r["pdn"]["stages"] if s["name"] == "die"][0]["c_f"] = 2.5e-6
r["guardband_mv"] = 50
c["thermal"]["h_top_w_m2k"] = 2e4
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
$A run "$T/hand.json" "$S/tsp/decode.csv" --json --grid 16,16 > "$T/hand_summary.json"
$PY tests/check_sweep.py "$T"
echo "e2e_sweep: ok"
