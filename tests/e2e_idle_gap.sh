#!/bin/sh
# tests/e2e_idle_gap.sh ANALYZER -- long idle stretches are skipped (issue 20,
# item 4): two instructions 9 x 10^11 cycles apart on the TSP sample (10^12
# bins of 1 ns, 10^8 thermal frames). `run`, `run --no-thermal`, `retime`
# and `export` (VCD, Perfetto) each finish within 20 s (they take well under
# a second; walking every bin took hours) and give what the model says: the
# energy is the two ops' charge plus the idle power over the makespan, the
# VCD and the counters change only at the ops, thermal_frames.csv has a row
# per frame evaluated (every frame near the ops, then samples: a few
# thousand, not 10^8). A timeline past 2^40 bins is refused, and runs at wider
# bins. Run from the repository root.
set -u
an=$1
case "$an" in /*) ;; *) an="$PWD/$an" ;; esac
chip=samples/tsp/chip.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
lim=20
gap=900000000000
sched="$tmp/gap.csv"
printf 'id,unit,op,start,cycles,activity,deps,note\n1,MXM.W0,matmul,0,200,1,,a\n2,MXM.W1,matmul,%s,200,1,,b\n' \
    "$gap" > "$sched"

timeout $lim "$an" run "$chip" "$sched" --no-thermal --json > "$tmp/nt.json"; rc=$?
[ "$rc" = 0 ] && ok "run --no-thermal within ${lim}s" || no "run --no-thermal exits $rc (124: over ${lim}s)"
timeout $lim "$an" run "$chip" "$sched" -o "$tmp/run" --quiet; rc=$?
[ "$rc" = 0 ] && ok "run (thermal) within ${lim}s" || no "run exits $rc (124: over ${lim}s)"
timeout $lim "$an" retime "$chip" "$sched" -o "$tmp/rt.csv" --power-cap-w 200 --quiet; rc=$?
[ "$rc" = 0 ] && ok "retime within ${lim}s" || no "retime exits $rc (124: over ${lim}s)"
timeout $lim "$an" export "$chip" "$sched" --format vcd -o "$tmp/gap.vcd" --quiet; rc=$?
[ "$rc" = 0 ] && ok "export vcd within ${lim}s" || no "export vcd exits $rc (124: over ${lim}s)"
timeout $lim "$an" export "$chip" "$sched" --format perfetto -o "$tmp/gap.json" --quiet; rc=$?
[ "$rc" = 0 ] && ok "export perfetto within ${lim}s" || no "export perfetto exits $rc (124: over ${lim}s)"
# HotSpot needs a trace row for every frame: 10^8 frames are refused with the frame that fits, and nothing
# is left behind; that frame works
timeout $lim "$an" export "$chip" "$sched" --format hotspot -o "$tmp/hs" 2>"$tmp/hs.err"; rc=$?
fr=$(sed -n 's/.*use --frame-ns \([0-9]*\) or more.*/\1/p' "$tmp/hs.err")
[ "$rc" = 2 ] && [ -n "$fr" ] && [ ! -e "$tmp/hs" ] && ok "export hotspot of 10^8 frames refused: $(cat "$tmp/hs.err")" ||
    no "export hotspot of 10^8 frames: exit $rc, $(cat "$tmp/hs.err")"
fr=$((fr * 100))   # (the frame that fits holds 10^8 numbers: minutes to print)
timeout $lim "$an" export "$chip" "$sched" --format hotspot -o "$tmp/hs" --frame-ns "$fr" --quiet; rc=$?
[ "$rc" = 0 ] && [ -s "$tmp/hs/chip0.ptrace" ] && ok "export hotspot at --frame-ns $fr" || no "export hotspot at --frame-ns $fr: exit $rc"

python3 - "$tmp" "$chip" "$gap" <<'PY' && ok "energy, droop, frames, VCD, counters" || no "energy, droop, frames, VCD, counters"
import csv, json, sys
d, chip, gap = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3])
T = 1.0 / chip["clock_ghz"]
mk_ns = (gap + 200) * T
op = next(o for o in chip["ops"] if o["op"] == "matmul")
vdd = chip["rails"][0]["vdd_v"]
idle = sum(u["idle_a"] for u in chip["units"])
charge = op["current_a"] * (200 - op["ramp_cycles"]) * T   # A ns, each op
expect = vdd * (2 * charge + idle * mk_ns) * 1e-9
for name in ("nt.json", "run/summary.json"):
    s = json.load(open(d + "/" + name))
    e = s["power"]["energy_j"]
    assert abs(e - expect) <= 1e-9 * expect, (name, e, expect)
    assert s["schedule"]["makespan_cycles"] == gap + 200
    r = s["rails"][0]
    assert 0 < r["max_droop_mv"] < 100 and r["peak_a"] > idle, r
t = json.load(open(d + "/run/summary.json"))["thermal"]
assert t["frames"] == int(-(-mk_ns // t["frame_ns"])), t["frames"]
rows = list(csv.reader(open(d + "/run/thermal_frames.csv")))[1:]
assert 2 < len(rows) < 5000, len(rows)
frames = [int(r[0]) for r in rows]
assert frames == sorted(set(frames)) and frames[0] == 0 and frames[-1] == t["frames"] - 1
# the VCD: the current changes at each op's edges, the droop while the PDN
# rings down after them (~10^5 bins each), and a stamp ends the timeline;
# nothing per bin of the 10^9-bin gap
vcd = open(d + "/gap.vcd").read().splitlines()
stamps = [l for l in vcd if l.startswith("#")]
cur_id = next(l.split()[3] for l in vcd if l.startswith("$var") and l.split()[4] == "rail_core_current_a")
cur_changes = [l for l in vcd if l.startswith("r") and l.split()[1] == cur_id]
assert len(cur_changes) < 2000 and len(stamps) < 10**6, (len(cur_changes), len(stamps))
assert stamps[-1] == "#%d" % round(-(-mk_ns // 1) * 1000), stamps[-1]
ev = json.load(open(d + "/gap.json"))["traceEvents"]
counters = [e for e in ev if e["ph"] == "C"]
assert 0 < len(counters) < 2000, len(counters)
PY
# past 2^40 bins: refused with the reason, and fine at wider bins
far="$tmp/far.csv"
printf 'id,unit,op,start,cycles,activity,deps,note\n1,MXM.W0,matmul,0,200,1,,a\n2,MXM.W1,matmul,2000000000000,200,1,,b\n' \
    > "$far"
timeout $lim "$an" run "$chip" "$far" --no-thermal --quiet 2> "$tmp/far.err"; rc=$?
[ "$rc" = 2 ] && grep -q "more than 2^40" "$tmp/far.err" && ok "2.2e12 bins refused" || no "2.2e12 bins: exit $rc, $(cat "$tmp/far.err")"
timeout $lim "$an" run "$chip" "$far" --bin-ns 10 --quiet; rc=$?
[ "$rc" = 0 ] && ok "the same at 10 ns bins within ${lim}s" || no "the same at 10 ns bins exits $rc"

echo "e2e idle gap: $fails failed"
[ "$fails" = 0 ]
