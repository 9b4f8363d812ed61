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
# progress: on a terminal (a pty) stderr shows it; not on a pipe, not with --quiet
python3 - "$A" "$CHIP" "$S" "$T" <<'PY' || fail "progress on a terminal"
import os, pty, subprocess, sys
a, chip, s, t = sys.argv[1:5]
def on_tty(extra):
    m, sl = pty.openpty()
    p = subprocess.Popen([a, "retime", chip, s, "-o", t + "/p.csv", "--power-cap-w", "150"] + extra,
                         stdout=subprocess.DEVNULL, stderr=sl)
    os.close(sl)
    out = b""
    while True:
        try:
            b = os.read(m, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    assert p.wait() == 0
    return out.decode()
shown = on_tty([])
assert "retime" in shown and "%" in shown, shown
assert on_tty(["--quiet"]) == "", "progress with --quiet"
r = subprocess.run([a, "retime", chip, s, "-o", t + "/p.csv", "--power-cap-w", "150"], capture_output=True)
assert r.returncode == 0 and r.stderr == b"", r.stderr
PY
# the droop in --json is computed (the worst over the rails, as `run` reports it), not a placeholder
"$A" retime "$CHIP" "$S" -o "$T/d.csv" --power-cap-w 150 --json >"$T/r.json" || fail "retime for droop"
"$A" run "$CHIP" "$S" --no-thermal --json >"$T/run.json" || fail "run for droop"
python3 - "$T/r.json" "$T/run.json" <<'PY' || fail "retime --json droop differs from run's"
import json, sys
r, run = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = max(x["max_droop_mv"] for x in run["rails"])
got = r["before"]["max_droop_mv"]
assert got is not None and abs(got - want) <= 1e-6 * want, (got, want)
assert r["after"]["max_droop_mv"] > 0
PY
# memory follows the instructions, not the timeline: two instructions 9x10^8
# cycles apart (9x10^7 under the sanitizers) re-time in little memory
gap=900000000
case "$A" in *asan*) gap=90000000 ;; esac
printf 'id,unit,op,start,cycles,deps\na,MXM.W0,matmul,0,900,\nb,MXM.W1,matmul,%s,900,a\n' "$gap" >"$T/far.csv"
python3 - "$A" "$CHIP" "$T" <<'PY' || fail "far-apart instructions"
import resource, subprocess, sys, time
a, chip, t = sys.argv[1:4]
t0 = time.time()
r = subprocess.run([a, "retime", chip, t + "/far.csv", "-o", t + "/far_out.csv", "--power-cap-w", "90"],
                   capture_output=True)
dt = time.time() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
assert r.returncode == 0, r.stderr
print("far-apart instructions: %.1f s, %.0f MB peak" % (dt, rss))
assert rss < 400, rss
PY
# usage: no budget, no -o
"$A" retime "$CHIP" "$S" -o "$T/x.csv" 2>/dev/null; [ $? = 2 ] || fail "no budget: expected exit 2"
"$A" retime "$CHIP" "$S" --power-cap-w 150 2>/dev/null; [ $? = 2 ] || fail "no -o: expected exit 2"
echo "e2e_retime: ok"
