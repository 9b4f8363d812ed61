#!/bin/sh
# tests/e2e_retime.sh ANALYZER -- end to end: `analyzer retime` on the decode
# and prefill samples under a power cap at 80% of the unconstrained peak
# window power for windows of 1, 100 and 1000 ns. Each run must exit 0 with a
# schedule that `analyzer check` accepts, whose re-analysis meets the cap,
# within 5% of the lower bound on the makespan. An impossible cap (below the idle power, or
# one rigid block alone over it) exits 3, names the instruction and leaves no
# file; no budget at all exits 2.
set -u
A=$1
CHIP=samples/tsp/chip.json
T=$(mktemp -d /tmp/pda_e2e_retime_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
peak() { "$A" run "$CHIP" "$1" --no-thermal --json --window-ns "$2" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["power"]["peak_window_w"])'; }
for S in samples/tsp/decode.csv samples/tsp/prefill.csv; do
for w in 1 100 1000; do
    p=$(peak "$S" "$w") || fail "run window $w"
    ok=0
    for f in 0.80; do
        cap=$(python3 -c "print($p * $f)")
        out="$T/out_$w.csv"
        "$A" retime "$CHIP" "$S" -o "$out" --power-cap-w "$cap" --window-ns "$w" --json >"$T/r.json" 2>"$T/err"
        rc=$?
        if [ "$rc" = 3 ]; then
            [ -e "$out" ] && fail "exit 3 left $out behind"
            grep -q "instruction '" "$T/err" || fail "exit 3 without naming an instruction: $(cat "$T/err")"
            fail "window $w: 80% cap refused: $(cat "$T/err")"
        fi
        [ "$rc" = 0 ] || fail "window $w cap $f: exit $rc: $(cat "$T/err")"
        "$A" check "$CHIP" "$out" >/dev/null || fail "check refuses the output (window $w)"
        got=$(peak "$out" "$w")
        python3 -c "import sys; sys.exit(0 if $got <= $cap * (1 + 1e-9) else 1)" ||
            fail "window $w: re-run peak $got above the cap $cap"
        python3 - "$T/r.json" "$(basename "$S")" <<'PY' || fail "$S window $w: bad JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["after"]["makespan_cycles"] >= d["before"]["makespan_cycles"]
assert d["lower_bound"]["makespan_cycles"] <= d["after"]["makespan_cycles"]
for k in ("slowdown", "gap", "moved"): assert k in d
assert d["gap"] <= 0.05, d["gap"]
print(sys.argv[2] + " window %s: slowdown %.2f%% gap %.2f%% moved %d" % (d["budget"]["window_ns"], 100 * d["slowdown"], 100 * d["gap"], d["moved"]))
PY
        ok=1
        break
    done
    [ "$ok" = 1 ] || fail "$S window $w: the 80% cap was not met"
done
done
S=samples/tsp/decode.csv
# impossible: a cap below the idle power
"$A" retime "$CHIP" "$S" -o "$T/imp.csv" --power-cap-w 1 2>"$T/err"
[ $? = 3 ] || fail "cap of 1 W: expected exit 3"
[ -e "$T/imp.csv" ] && fail "cap of 1 W left a file"
# impossible: one instruction's block alone
"$A" retime "$CHIP" "$S" -o "$T/imp.csv" --power-cap-w 60 2>"$T/err"
[ $? = 3 ] || fail "cap of 60 W: expected exit 3"
grep -q "instruction '" "$T/err" || fail "cap of 60 W: no instruction named"
[ -e "$T/imp.csv" ] && fail "cap of 60 W left a file"
# usage: no budget, no -o
"$A" retime "$CHIP" "$S" -o "$T/x.csv" 2>/dev/null; [ $? = 2 ] || fail "no budget: expected exit 2"
"$A" retime "$CHIP" "$S" --power-cap-w 150 2>/dev/null; [ $? = 2 ] || fail "no -o: expected exit 2"
echo "e2e_retime: ok"
