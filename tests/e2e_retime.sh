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
# a schedule that meets every budget already is the answer, found without a
# search: one op of 10^10 cycles (10^10 bins) re-times in little memory, starts
# unchanged, the bound its makespan (the search and the packing bound built
# profiles over every bin the op spans: 10^7 cycles took 0.7 GB, 10^10 ran out)
printf 'id,unit,op,start,cycles\na,MXM.W0,matmul,0,10000000000\nb,MXM.W1,matmul,5,200\n' >"$T/long.csv"
python3 - "$A" "$CHIP" "$T" <<'PY' || fail "a long op that meets the cap"
import csv, json, resource, subprocess, sys
a, chip, t = sys.argv[1:4]
r = subprocess.run([a, "retime", chip, t + "/long.csv", "-o", t + "/long_out.csv", "--power-cap-w", "400",
                    "--json"], capture_output=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
assert r.returncode == 0, r.stderr
j = json.loads(r.stdout)
assert j["moved"] == 0 and j["slowdown"] == 0 and j["gap"] == 0, j
assert j["lower_bound"]["makespan_cycles"] == j["before"]["makespan_cycles"] == 10000000000, j
assert j["lower_bound"]["packing_lp_cycles"] == 0 and j["lower_bound"]["packing_dff_cycles"] == 0, j
assert j["after"] == j["before"], (j["after"], j["before"])
rows = lambda f: [(x["id"], x["start"]) for x in csv.DictReader(open(f))]
assert rows(t + "/long_out.csv") == rows(t + "/long.csv")
assert rss < 400, rss
PY
# a system cap on a run shorter than its window: the energy bound averages
# over the run's own bins, as the per-chip one does (it gave 0, and a gap of 69%)
printf 'id,unit,op,start,cycles,chip,activity,deps\na,MXM.W0,matmul,0,200,0,1,\nb,MXM.W1,matmul,50,200,0,1,a+50\na,MXM.W0,matmul,0,200,1,1,\nc,VXM,act,20,100,1,1,a=20\n' >"$T/sys2.csv"
"$A" retime samples/rails3/chip.json "$T/sys2.csv" -o "$T/sys2_out.csv" --system-power-cap-w 43.2 --window-ns 1000 \
    --json >"$T/sys2.json" || fail "system cap, short run: exit $?"
python3 - "$T/sys2.json" <<'PY' || fail "system cap, short run: the energy bound"
import json, sys
d = json.load(open(sys.argv[1]))
lb = d["lower_bound"]
assert lb["original_cycles"] < lb["energy_cycles"] <= d["after"]["makespan_cycles"], d
assert d["gap"] < 0.05, d["gap"]
PY
# dI/dt and droop have no "alone" proof: on a six-unit chip, instruction A's
# step alone breaks 5 A/ns and its droop alone 10 mV, but in these schedules
# other units' steps cancel it, and the schedules already meet both budgets
cat >"$T/c6.json" <<'J'
{"format":"pda-chip/1","name":"six","clock_ghz":1,"outline_mm":[10,10],"dies":[{"id":0,"name":"d"}],
 "rails":[{"name":"core","vdd_v":1.0,"guardband_mv":70,"didt_limit_a_per_ns":8,"didt_window_ns":1,
  "pdn":{"stages":[{"name":"board","r_ohm":0.0003,"l_h":1.5e-09,"c_f":0.002,"esr_ohm":0.0003},
                   {"name":"die","r_ohm":0.00015,"l_h":2e-12,"c_f":1.2e-06,"esr_ohm":0.00012}]}}],
 "units":[{"name":"U0","class":"X","die":0,"rail":"core","rect_mm":[0,0,1,1],"idle_a":1},
          {"name":"U1","class":"X","die":0,"rail":"core","rect_mm":[1,0,1,1],"idle_a":1},
          {"name":"U2","class":"X","die":0,"rail":"core","rect_mm":[2,0,1,1],"idle_a":1},
          {"name":"U3","class":"X","die":0,"rail":"core","rect_mm":[3,0,1,1],"idle_a":1},
          {"name":"U4","class":"X","die":0,"rail":"core","rect_mm":[4,0,1,1],"idle_a":1}],
 "ops":[{"op":"big","class":"X","current_a":8},{"op":"small","class":"X","current_a":4},
        {"op":"zero","class":"X","current_a":0}]}
J
printf 'id,unit,op,start,cycles\nB1,U1,small,0,10\nB2,U2,small,2,8\nA,U0,big,10,10\nC1,U3,small,20,10\nC2,U4,small,20,12\n' >"$T/c6a.csv"
printf 'id,unit,op,start,cycles\nB1,U1,small,0,10\nB2,U2,small,5,5\nA,U0,big,10,10\nC1,U3,small,20,5\nC2,U4,small,20,10\n' >"$T/c6b.csv"
"$A" retime "$T/c6.json" "$T/c6a.csv" -o "$T/c6a_out.csv" --didt-a-per-ns 5 --quiet || fail "cancelling steps: exit $?"
"$A" retime "$T/c6.json" "$T/c6b.csv" -o "$T/c6b_out.csv" --guardband-mv 10 --quiet || fail "cancelling droop: exit $?"
# a cap met exactly by the best placement is met (i2 after i1: 14 W over 3 ns)
printf 'id,unit,op,start,cycles,deps\ni0,U1,zero,0,2,\ni1,U2,big,2,4,\ni2,U0,big,2,3,\n' >"$T/tie.csv"
"$A" retime "$T/c6.json" "$T/tie.csv" -o "$T/tie_out.csv" --power-cap-w 14 --window-ns 3 --quiet || fail "exact cap: exit $?"
# the idle current stops inside the last bin: a dI/dt step only there is met by ending on a bin edge
printf 'id,unit,op,start,cycles\na,ICU.0,nop,0,100\n' >"$T/nop.csv"
"$A" retime "$CHIP" "$T/nop.csv" -o "$T/nop_out.csv" --didt-a-per-ns 5 --quiet || fail "end step: exit $?"
"$A" run "$CHIP" "$T/nop_out.csv" --no-thermal --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert max(r["max_didt_a_per_ns"] for r in d["rails"]) <= 5, d["rails"]' || fail "end step: dI/dt above 5 A/ns"
# a run shorter than the window is averaged over itself: leading idle meets the cap
bin/schedgen "$CHIP" -o "$T/short.csv" --ops 60 --kind mixed --seed 3
"$A" retime "$CHIP" "$T/short.csv" -o "$T/short_out.csv" --window-ns 1000 --power-cap-w 60 --quiet || fail "short run: exit $?"
got=$(peak "$T/short_out.csv" 1000)
python3 -c "import sys; sys.exit(0 if $got <= 60 * (1 + 1e-9) else 1)" || fail "short run: $got W above 60 W"
# a window far longer than the run (10^9 ns over 82 us) is the run: a cap
# below the run's average is met by leading idle, found by a search over the
# delays, not by scanning 10^9 bins or trying each delay (which took minutes
# and gigabytes); the re-analysis meets it
start=$(date +%s)
"$A" retime "$CHIP" samples/tsp/decode.csv -o "$T/long_out.csv" --window-ns 1e9 --power-cap-w 78 --quiet ||
    fail "window 1e9: exit $?"
[ $(($(date +%s) - start)) -lt 60 ] || fail "window 1e9 took $(($(date +%s) - start)) s"
got=$(peak "$T/long_out.csv" 1e9)
python3 -c "import sys; sys.exit(0 if 70 < $got <= 78 * (1 + 1e-9) else 1)" || fail "window 1e9: $got W, cap 78 W"
# a cap equal to the idle power is met; one below it is refused only when the run spans a whole window
printf 'id,unit,op,start,cycles\ni0,U0,zero,0,40\n' >"$T/idle.csv"
"$A" retime "$T/c6.json" "$T/idle.csv" -o "$T/idle_out.csv" --power-cap-w 5 --quiet || fail "cap at the idle: exit $?"
"$A" retime "$T/c6.json" "$T/idle.csv" -o "$T/idle_out2.csv" --power-cap-w 4.9 2>"$T/err"
[ $? = 3 ] && grep -q "below the chip's idle power" "$T/err" || fail "cap below the idle: $(cat "$T/err")"
# a system cap that one chip's instruction alone (the other chip idle) breaks: the message names the system cap
printf 'id,unit,op,start,cycles,chip\na,MXM.W0,matmul,0,50,0\nb,ICU.0,nop,0,50,1\n' >"$T/mc.csv"
"$A" retime "$CHIP" "$T/mc.csv" -o "$T/mc_out.csv" --power-cap-w 120 --system-power-cap-w 125 2>"$T/err"
[ $? = 3 ] || fail "system cap proof: expected exit 3"
grep -q "above the system cap of 125 W" "$T/err" || fail "system cap proof: $(cat "$T/err")"
# usage: no budget, no -o
"$A" retime "$CHIP" "$S" -o "$T/x.csv" 2>/dev/null; [ $? = 2 ] || fail "no budget: expected exit 2"
"$A" retime "$CHIP" "$S" --power-cap-w 150 2>/dev/null; [ $? = 2 ] || fail "no -o: expected exit 2"
# met means what `run` says: a cap passed by 3e-9 W (a 3 A op at activity
# 1e-9 beside a 10 A one) is moved, not called met; a dI/dt budget equal to
# one op's own step is met (the ops one cycle apart); a start the budget would
# push past 2^52 cycles is not met (exit 1), no file
cat > "$T/tiny.json" <<'EOF'
{"format": "pda-chip/1", "name": "tiny", "clock_ghz": 1.0, "outline_mm": [10, 10], "dies": [{"id": 0, "name": "d0"}],
 "rails": [{"name": "core", "vdd_v": 1.0, "guardband_mv": 70, "didt_limit_a_per_ns": 8, "didt_window_ns": 1,
            "pdn": {"stages": [{"name": "die", "r_ohm": 1e-4, "l_h": 1e-12, "c_f": 1e-6, "esr_ohm": 1e-4}]}}],
 "units": [{"name": "U0", "class": "A", "die": 0, "rail": "core", "rect_mm": [0, 0, 2, 2], "idle_a": 1},
           {"name": "U1", "class": "A", "die": 0, "rail": "core", "rect_mm": [2, 0, 2, 2], "idle_a": 1}],
 "ops": [{"op": "big", "class": "A", "current_a": 10}, {"op": "small", "class": "A", "current_a": 3}]}
EOF
printf 'id,unit,op,start,cycles,activity,deps\na,U0,big,0,3,1,\nb,U1,small,0,3,1e-9,\n' > "$T/tol.csv"
"$A" retime "$T/tiny.json" "$T/tol.csv" -o "$T/tol_out.csv" --power-cap-w 14 --quiet || fail "cap by 3e-9 W: exit $?"
"$A" run "$T/tiny.json" "$T/tol_out.csv" --no-thermal --power-cap-w 14 --window-ns 1 --json 2>/dev/null \
    | grep -q '"cap_broken": false' || fail "cap by 3e-9 W: run says the re-timed schedule breaks the cap"
printf 'id,unit,op,start,cycles,activity,deps\na,U0,big,0,3,1,\nb,U1,big,0,3,1,\n' > "$T/step.csv"
"$A" retime "$T/tiny.json" "$T/step.csv" -o "$T/step_out.csv" --didt-a-per-ns 10 --quiet || fail "dI/dt budget met exactly: exit $?"
"$A" run "$T/tiny.json" "$T/step_out.csv" --no-thermal --json 2>/dev/null | grep -q '"max_didt_a_per_ns": 10.0,' \
    || fail "dI/dt budget met exactly: run disagrees"
printf 'id,unit,op,start,cycles,activity,deps\na,U0,big,4503599627370490,3,1,\nb,U1,big,4503599627370490,3,1,\n' > "$T/huge.csv"
"$A" retime "$T/tiny.json" "$T/huge.csv" -o "$T/huge_out.csv" --power-cap-w 2.00004 --bin-ns 1000000 2> "$T/err"
rc=$?
[ $rc = 1 ] && [ ! -e "$T/huge_out.csv" ] && grep -q "past the 2^52 cycles" "$T/err" || fail "past 2^52: exit $rc: $(cat "$T/err")"
# the critical path through a dep of lag 0 on an instruction of the same start
# later in the file (b waits for a+0, a for z's end): 9 cycles, and the bound
# never above the makespan; an empty schedule under a cap below the idle power
# (no proof: the run is shorter than a window) has a bound of 0
printf 'id,unit,op,start,cycles,activity,deps\nz,U0,big,0,5,1,\nb,U0,small,5,4,1,a+0\na,U1,small,5,3,1,z\n' > "$T/chain.csv"
"$A" retime "$T/tiny.json" "$T/chain.csv" -o "$T/chain_out.csv" --power-cap-w 100 --window-ns 5 --json > "$T/chain.json" ||
    fail "zero-lag chain: exit $?"
python3 - "$T/chain.json" <<'PY' || fail "zero-lag chain: wrong critical path"
import json, sys
d = json.load(open(sys.argv[1]))
lb = d["lower_bound"]
assert lb["critical_path_cycles"] == 9 and lb["makespan_cycles"] == 9 and d["gap"] == 0, lb
PY
printf 'id,unit,op,start,cycles,activity,deps\n' > "$T/empty.csv"
"$A" retime "$T/tiny.json" "$T/empty.csv" -o "$T/empty_out.csv" --power-cap-w 1.5 --json > "$T/empty.json" ||
    fail "empty schedule: exit $?"
python3 - "$T/empty.json" <<'PY' || fail "empty schedule under a cap below idle: a bound above its makespan"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["lower_bound"]["makespan_cycles"] == 0 and d["gap"] == 0, d["lower_bound"]
PY
echo "e2e_retime: ok"
