#!/bin/sh
# End-to-end checks of `analyzer run` (run from the repo root; $1 = analyzer).
# Physics, not stored numbers: the charge in rails.csv equals the charge of
# the schedule computed here independently (python3, from the CSV and the
# chip JSON); units.npy adds up to the rail; with nothing running the droop is
# the idle current times the DC resistance of the ladder; summary.json has
# every key of the contract; bad input leaves no output behind.
set -eu
A=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chip=samples/tsp/chip.json
# a small schedule: a quiet start, then MXM bursts with ramps, odd cycles
python3 - "$T/s.csv" <<'PY'
import sys
rows = ["id,unit,op,start,cycles,activity,note"]
t = 900
for k in range(40):
    for p, u in enumerate(["MXM.W0", "MXM.W1", "MXM.E0", "MXM.E1"]):
        rows.append(f"m{k}_{p},{u},matmul,{t + p * 3},{57 + k % 5},{0.5 + 0.01 * k:.2f},x")
    rows.append(f"v{k},VXM,add,{t + 10},{13 + k % 3},1,\"q, uoted\"")
    t += 150 + 37 * (k % 4)
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
$A run $chip "$T/s.csv" -o "$T/out" --waveforms --unit-maps --no-thermal --bin-ns 0.7 --quiet
for f in summary.json events.csv margin.csv rails.csv units.npy units.csv report.html; do
    [ -s "$T/out/$f" ] || { echo "missing $f"; exit 1; }
done
python3 - "$chip" "$T/s.csv" "$T/out" 0.7 <<'PY'
import array, csv, json, math, struct, sys
chip = json.load(open(sys.argv[1])); out = sys.argv[3]; bin_ns = float(sys.argv[4])
T = 1 / chip["clock_ghz"]
ops = {(o["class"], o["op"]): o for o in chip["ops"]}
units = {u["name"]: u for u in chip["units"]}
rows = list(csv.DictReader(open(sys.argv[2])))
# independent charge: I (cycles - r) T per op; idle over the makespan (the
# schedule's energy) and on to the end of the last bin (rails.csv: the chip
# idles on, so the last bin is no fall below idle)
q = 0.0; mk = 0
for r in rows:
    u = units[r["unit"]]; o = ops[(u["class"], r["op"])]
    cyc = int(r["cycles"]); ramp = min(o.get("ramp_cycles", 0), cyc / 2)
    q += o["current_a"] * float(r["activity"]) * (cyc - ramp) * T
    mk = max(mk, int(r["start"]) + cyc)
idle = sum(u.get("idle_a", 0) for u in chip["units"])
q_mk = q + idle * mk * T
nbins = math.ceil(mk * T / bin_ns - 1e-9)
q += idle * nbins * bin_ns
wave = list(csv.reader(open(out + "/rails.csv")))
hdr = wave[0]; assert hdr[:3] == ["t_ns", "0.core.current_a", "0.core.droop_mv"], hdr
cur = [float(w[1]) for w in wave[1:]]; droop = [float(w[2]) for w in wave[1:]]
got = sum(cur) * bin_ns
assert abs(got - q) < 1e-6 * q, (got, q)
# nothing runs before cycle 900: droop = idle current x the DC resistance: the
# sum of the series r, or with a regulator its load line plus the r after
# the sensed node (the loop cancels the IR drop up to it)
pdn = chip["rails"][0]["pdn"]
st = pdn["stages"]
rdc = sum(s["r_ohm"] for s in st)
if "vrm" in pdn:
    names = [s["name"] for s in st]
    after = names.index(pdn["vrm"]["sense"]) + 1 if "sense" in pdn["vrm"] else 0
    rdc = pdn["vrm"].get("loadline_ohm", 0) + sum(s["r_ohm"] for s in st[after:])
for k in range(100):
    assert abs(droop[k] - idle * rdc * 1e3) < 1e-6, (k, droop[k], idle * rdc * 1e3)
# units.npy: a real .npy of float32 [chip][unit][bin] adding up to the rail
b = open(out + "/units.npy", "rb").read()
assert b[:6] == b"\x93NUMPY"
hl = struct.unpack("<H", b[8:10])[0]; head = b[10:10 + hl].decode()
assert "'<f4'" in head and (10 + hl) % 64 == 0, head
shape = eval(head)["shape"]
assert shape == (1, len(chip["units"]), len(cur)), (shape, len(cur))
a = array.array("f"); a.frombytes(b[10 + hl:])
nb = shape[2]
for k in range(0, nb, max(1, nb // 50)):
    s = sum(a[u * nb + k] for u in range(shape[1]))
    assert abs(s - cur[k]) < 1e-3 * max(1, cur[k]), (k, s, cur[k])
summ = json.load(open(out + "/summary.json"))
for k in ["ops", "chips", "units", "makespan_cycles", "makespan_ns"]: assert k in summ["schedule"], k
for k in ["peak_w", "avg_w", "energy_j", "peak_window_w", "window_ns"]: assert k in summ["power"], k
for k in ["chip", "rail", "vdd_v", "peak_a", "avg_a", "max_didt_a_per_ns", "max_droop_mv", "t_max_droop_ns",
          "guardband_mv", "needed_guardband_mv", "saving_pct", "droop_events", "didt_events"]:
    assert k in summ["rails"][0], k
vdd = chip["rails"][0]["vdd_v"]
assert abs(summ["power"]["energy_j"] - q_mk * vdd * 1e-9) < 1e-6 * q_mk * vdd * 1e-9
assert abs(summ["rails"][0]["avg_a"] - q_mk / (mk * T)) < 1e-6 * summ["rails"][0]["avg_a"]
assert cur[-1] >= idle - 1e-9, (cur[-1], idle)
assert summ["power"]["peak_w"] >= summ["power"]["peak_window_w"] >= summ["power"]["avg_w"]
assert abs(summ["rails"][0]["max_droop_mv"] - max(droop)) < 1e-3
print("e2e_run: charge, idle droop, units.npy, summary keys ok")
PY
# units.npy through numpy.load itself, where Debian's python3-numpy is installed
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    /usr/bin/python3 - "$T/out" <<'PY'
import csv, sys
import numpy as np
a = np.load(sys.argv[1] + "/units.npy")
cur = np.array([float(r[1]) for r in list(csv.reader(open(sys.argv[1] + "/rails.csv")))[1:]])
assert a.dtype == np.float32 and a.shape[0] == 1 and a.shape[2] == len(cur), (a.dtype, a.shape)
assert np.max(np.abs(a[0].sum(axis=0, dtype=np.float64) - cur)) < 1e-3 * max(1.0, cur.max())
print("e2e_run: numpy.load reads units.npy")
PY
else
    echo "e2e_run: python3-numpy not installed, numpy.load check skipped"
fi
# report.html: self-contained (no external references), its data a JSON block, heat maps as grids
$A run samples/stack/chip.json samples/stack/decode.csv -o "$T/deep/er/st" --quiet
python3 - "$T/out/report.html" "$T/deep/er/st/report.html" <<'PY'
import json, re, sys
for path in sys.argv[1:]:
    h = open(path).read()
    assert h.startswith("<!DOCTYPE html>") and h.rstrip().endswith("</html>"), path
    assert not re.search(r'<(?:script|link|img)[^>]*(?:src|href)=', h), path
    refs = re.findall(r'(?:src|href)="([^"]*)"', h)
    assert all(r.startswith(("data:", "#")) for r in refs), refs[:3]
    m = re.search(r'<script type="application/json" id="pda-data">(.*?)</script>', h, re.S)
    d = json.loads(m.group(1))
    assert len(d["levels"]) == 2 and d["levels"][0]["series"], path
h = open(sys.argv[2]).read()
d = json.loads(re.search(r'id="pda-data">(.*?)</script>', h, re.S).group(1))
th = d["thermal"]
assert len(th["maps"]) == 2 and all(len(m["steady"]) == th["nx"] * th["ny"] for m in th["maps"]), len(th["maps"])
# the power breakdowns (per class, per unit group) each hold the run's energy
e = d["summary"]["power"]["energy_j"]
for b in d["breakdown"]:
    got = sum(sum(x for x in row if x is not None) for row in b["w"]) * b["dt_ns"] * 1e-9
    assert abs(got - e) <= 1e-3 * e, (b["title"], got, e)
print("e2e_run: report.html self-contained")
PY
# bad input: exit 2 and nothing written
printf 'id,unit,op,start,cycles\na,NOPE,matmul,0,1\n' > "$T/bad.csv"
if $A run $chip "$T/bad.csv" -o "$T/out2" 2>"$T/err"; then echo "bad input accepted"; exit 1; fi
[ ! -e "$T/out2" ] || { echo "output left behind"; exit 1; }
grep -q "bad.csv:2:3: unknown unit 'NOPE'" "$T/err"
# an output folder that is a file: exit 2 (usage), the file untouched
echo keep > "$T/file"
set +e; $A run $chip "$T/s.csv" -o "$T/file" --no-thermal --quiet 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] && [ "$(cat "$T/file")" = keep ] || { echo "rc $rc on a file as -o"; exit 1; }
# --strict: droop past the guardband is a broken limit: exit 1, outputs still written
set +e; $A run $chip samples/tsp/decode.csv --strict --no-thermal --quiet -o "$T/strict" 2>"$T/err"; rc=$?; set -e
[ "$rc" = 1 ] && [ -s "$T/strict/summary.json" ] && grep -q "limit broken" "$T/err" || { echo "--strict: rc $rc"; exit 1; }
# outputs never replace inputs: a schedule named like an output in the -o folder, a retime onto the chip
mkdir -p "$T/in"; cp "$T/s.csv" "$T/in/margin.csv"; cp $chip "$T/in/chip.json"
set +e; $A run "$T/in/chip.json" "$T/in/margin.csv" -o "$T/in" --no-thermal --quiet 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] && cmp -s "$T/in/margin.csv" "$T/s.csv" && [ ! -e "$T/in/summary.json" ] || { echo "run over its input: rc $rc"; exit 1; }
set +e; $A retime "$T/in/chip.json" "$T/in/margin.csv" -o "$T/in/chip.json" --power-cap-w 500 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] && cmp -s "$T/in/chip.json" $chip || { echo "retime over the chip: rc $rc"; exit 1; }
# --json prints the summary
$A run $chip "$T/s.csv" --no-thermal --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["schedule"]["ops"] == 200'
# the walk on two threads (the default) and on one (unit maps need it) give the same numbers;
# small tiles so the two-slot hand-over runs many times
$A run $chip samples/tsp/decode.csv --no-thermal --quiet --waveforms --tile-bins 1000 -o "$T/two"
$A run $chip samples/tsp/decode.csv --no-thermal --quiet --waveforms --unit-maps --tile-bins 1000 -o "$T/one"
for f in rails.csv events.csv margin.csv summary.json; do
    cmp -s "$T/two/$f" "$T/one/$f" || { echo "two threads and one differ in $f"; exit 1; }
done
# the spectrum reads a resonance below level 0's 61 kHz step x 8 (the board's,
# ~70-90 kHz) on a run that holds a whole segment of a coarser level (the
# stacked prefill, 743 us), and not on one that does not (the decode, 82 us)
$A run samples/stack/chip.json samples/stack/prefill.csv --no-thermal --quiet -o "$T/pre"
$A run samples/stack/chip.json samples/stack/decode.csv --no-thermal --quiet -o "$T/dec"
# and a square wave of matmuls on the TSP chip, whose strongest current near
# its 3.4 MHz resonance lies just outside the band
awk 'BEGIN { print "id,unit,op,start,cycles"; for (k = 0; k < 150; k++) printf "m%d,MXM.W0,matmul,%d,6164\n", k, k * 12329 }' > "$T/sq.csv"
$A run $chip "$T/sq.csv" --no-thermal --quiet -o "$T/sq"
python3 - "$T/pre/summary.json" "$T/dec/summary.json" "$T/sq/summary.json" <<'PY'
import json, sys
low = [[x["f_mhz"] for x in r["resonances"] if x["f_mhz"] < 0.122] for r in json.load(open(sys.argv[1]))["rails"]]
assert all(len(l) == 1 and 0.05 < l[0] < 0.12 for l in low), low
span = json.load(open(sys.argv[2]))["schedule"]["makespan_ns"]
assert span < 131072, span
for r in json.load(open(sys.argv[2]))["rails"]:
    assert all(x["f_mhz"] > 2 / 16.384 for x in r["resonances"]), r["resonances"]
# the current at a resonance is read inside its band, f/1.25 .. f*1.25
for p in sys.argv[1:]:
    for r in json.load(open(p))["rails"]:
        for x in r["resonances"]:
            assert x["f_mhz"] / 1.25 <= x["f_current_mhz"] <= x["f_mhz"] * 1.25, x
PY
# --power-cap-w: each chip's peak power over the window, against a sliding
# window over the chip's rails in rails.csv; the cap broken -> exit 1 under
# --strict, and the report draws it
set +e
$A run $chip samples/tsp/multichip.csv --no-thermal --power-cap-w 130 --waveforms --strict -o "$T/cap" 2>"$T/err" >/dev/null
rc=$?; set -e
[ "$rc" = 1 ] && grep -q "passes the cap of 130 W" "$T/err" && grep -q '"power_cap_w":130' "$T/cap/report.html" ||
    { echo "--power-cap-w: rc $rc"; exit 1; }
python3 - "$chip" "$T/cap" <<'PY'
import csv, json, sys
chip = json.load(open(sys.argv[1])); vdd = {r["name"]: r["vdd_v"] for r in chip["rails"]}
rows = list(csv.reader(open(sys.argv[2] + "/rails.csv"))); h, body = rows[0], rows[1:]
pw = json.load(open(sys.argv[2] + "/summary.json"))["power"]
w = round(pw["window_ns"] / pw["bin_ns"])
assert pw["cap_w"] == 130 and len(pw["chip_peak_window_w"]) == 4
peaks = []
for ch, got in enumerate(pw["chip_peak_window_w"]):
    cols = [(i, vdd[h[i].split(".")[1]]) for i in range(len(h)) if h[i].startswith("%d." % ch) and h[i].endswith("current_a")]
    p = [sum(float(r[i]) * v for i, v in cols) for r in body]
    acc = best = sum(p[:w])
    for k in range(w, len(p)):
        acc += p[k] - p[k - w]; best = max(best, acc)
    assert abs(best / w - got) < 1e-6 * got, (ch, best / w, got)
    peaks.append(got)
assert pw["cap_broken"] == (max(peaks) > 130)
PY
# every event is traced back to units and instructions: on the stacked
# sample, droop that a slower resonance carries past the step behind it
# (the window then grows), and each instruction named overlaps the window
$A run samples/stack/chip.json samples/stack/decode.csv --no-thermal -o "$T/stk" --quiet
# and the ringing of one 3 ns pulse long after it: the pulse nets no change
# over any window before the later peaks, yet it is their cause
cat > "$T/pulse.json" <<'EOF'
{"format": "pda-chip/1", "name": "pulse", "clock_ghz": 1.0, "outline_mm": [10, 10], "dies": [{"id": 0, "name": "d"}],
 "rails": [{"name": "core", "vdd_v": 0.8, "guardband_mv": 20,
            "pdn": {"stages": [{"name": "die", "r_ohm": 2e-4, "l_h": 2e-11, "c_f": 1e-6, "esr_ohm": 1e-5}]}}],
 "units": [{"name": "A", "class": "X", "die": 0, "rail": "core", "rect_mm": [0, 0, 5, 5], "idle_a": 1.0}],
 "ops": [{"op": "on", "class": "X", "current_a": 30}, {"op": "nop", "class": "X", "current_a": 0}]}
EOF
printf 'id,unit,op,start,cycles\np0,A,on,100,3\nz,A,nop,400,1\n' > "$T/pulse.csv"
$A run "$T/pulse.json" "$T/pulse.csv" --no-thermal -o "$T/pul" --quiet
python3 - "$T/stk/events.csv" samples/stack/decode.csv samples/stack/chip.json 10 \
          "$T/pul/events.csv" "$T/pulse.csv" "$T/pulse.json" 5 <<'PY'
import csv, json, sys
for q in range(1, len(sys.argv), 4):
    ev = list(csv.DictReader(open(sys.argv[q])))
    ghz = json.load(open(sys.argv[q + 2]))["clock_ghz"]
    ops = {r["id"]: (int(r["start"]) / ghz, (int(r["start"]) + int(r["cycles"])) / ghz) for r in csv.DictReader(open(sys.argv[q + 1]))}
    assert len(ev) > int(sys.argv[q + 3]), len(ev)
    for e in ev:
        assert e["causes"] and e["instructions"], e
        lo, hi = float(e["t_peak_ns"]) - float(e["window_ns"]) - 2, float(e["t_peak_ns"]) + 1
        for i in e["instructions"].split(";"):
            a, b = ops[i]
            assert a < hi and b > lo, (e["t_peak_ns"], e["window_ns"], i, a, b)
PY
# a pulse that ends the schedule: its ringing and its fall back to idle lie
# past the makespan, where the chip idles on. They count (the tail, walk.h)
# exactly as when a later instruction stretches the timeline over them.
sed 's/"guardband_mv": 20,/"guardband_mv": 150, "didt_limit_a_per_ns": 2,/' "$T/pulse.json" > "$T/end.json"
printf 'id,unit,op,start,cycles\np0,A,on,100,7\n' > "$T/end.csv"
printf 'id,unit,op,start,cycles\np0,A,on,100,7\nz,A,nop,300000,1\n' > "$T/endz.csv"
set +e
$A run "$T/end.json" "$T/end.csv" --no-thermal -o "$T/end" --waveforms --strict --quiet 2> "$T/end.err"
rc_end=$?
set -e
$A run "$T/end.json" "$T/endz.csv" --no-thermal -o "$T/endz" --quiet || [ $? -eq 1 ]
[ "$rc_end" -eq 1 ] || { echo "a pulse at the end breaks the guardband: --strict must exit 1, got $rc_end"; exit 1; }
grep -q "droop events past 150 mV" "$T/end.err"
python3 - "$T/end" "$T/endz" <<'PY'
import csv, json, re, sys
a, b = (json.load(open(d + "/summary.json")) for d in sys.argv[1:3])
ra, rb = a["rails"][0], b["rails"][0]
mk = a["schedule"]["makespan_ns"]
assert mk == 107, mk
for k in ("max_droop_mv", "t_max_droop_ns", "max_didt_a_per_ns", "droop_events", "didt_events"):
    assert abs(ra[k] - rb[k]) <= 1e-9 * max(1, abs(rb[k])), (k, ra[k], rb[k])
assert ra["t_max_droop_ns"] > mk and ra["droop_events"] == 1 and ra["didt_events"] == 2, ra
ea, eb = (list(csv.DictReader(open(d + "/events.csv"))) for d in sys.argv[1:3])
key = lambda e: (e["kind"], e["t_start_ns"], e["t_end_ns"], e["t_peak_ns"], e["peak"], e["causes"], e["instructions"])
assert [key(e) for e in ea] == [key(e) for e in eb], (ea, eb)
assert any(e["kind"] == "didt" and float(e["t_start_ns"]) >= mk and e["instructions"] == "p0" for e in ea), ea
# the timeline's own figures stay the timeline's: the mean over the makespan,
# one row of rails.csv a bin, whose droop the tail's worst exceeds
assert abs(ra["avg_a"] - (1 + 30 * 7 / 107)) < 1e-9, ra["avg_a"]
rows = list(csv.DictReader(open(sys.argv[1] + "/rails.csv")))
assert len(rows) == 107, len(rows)
assert max(float(r["0.core.droop_mv"]) for r in rows) < ra["max_droop_mv"] - 1
# the report draws the start of the tail: 1,024 bins past the run's 107
m = re.search(r'"n_bins":(\d+),"run_bins":(\d+)', open(sys.argv[1] + "/report.html").read())
assert m and (int(m.group(1)), int(m.group(2))) == (107 + 1024, 107), m and m.groups()
PY
# an empty schedule: the chip idles through the tail; its droop (Z(0) x the
# 1 A idle: 0.2 mV) is the worst droop, over a 0.1 mV guardband an event of
# no more than it, and the report's run has no bins
sed 's/"guardband_mv": 20,/"guardband_mv": 0.1,/' "$T/pulse.json" > "$T/low.json"
printf 'id,unit,op,start,cycles\n' > "$T/empty.csv"
set +e
$A run "$T/low.json" "$T/empty.csv" --no-thermal -o "$T/empty" --strict --quiet 2>/dev/null
rc_empty=$?
set -e
[ "$rc_empty" -eq 1 ] || { echo "empty schedule over its guardband: --strict must exit 1, got $rc_empty"; exit 1; }
python3 - "$T/empty" <<'PY'
import csv, json, re, sys
r = json.load(open(sys.argv[1] + "/summary.json"))["rails"][0]
assert abs(r["max_droop_mv"] - 0.2) < 1e-9 and r["droop_events"] == 1, r
ev = list(csv.DictReader(open(sys.argv[1] + "/events.csv")))
assert len(ev) == 1 and float(ev[0]["peak"]) <= r["max_droop_mv"] + 1e-9, ev
assert re.search(r'"run_bins":0,', open(sys.argv[1] + "/report.html").read())
PY
# 14. the tile size is invisible: two like bursts far apart, in tiles of 4
# bins (the idle stretch between skipped as a settled run) and of 5,000 (one
# tile): every file the same, the report's columns and the worst droop's
# time (a tie, the first burst's) included
cat > "$T/tie.json" <<'EOF'
{"format":"pda-chip/1","name":"m","clock_ghz":1,"outline_mm":[2,2],
 "dies":[{"id":0,"name":"d"}],
 "rails":[{"name":"core","vdd_v":0.8,"pdn":{"stages":[{"name":"s","r_ohm":1e-3,"l_h":1e-12,"c_f":1e-9}]}}],
 "units":[{"name":"U","class":"X","die":0,"rail":"core","rect_mm":[0,0,1,1],"idle_a":1}],
 "ops":[{"op":"a","class":"X","current_a":2}]}
EOF
printf 'id,unit,op,start,cycles\nx,U,a,5,20\ny,U,a,3000,20\n' > "$T/tie.csv"
for tb in 4 5000; do $A run "$T/tie.json" "$T/tie.csv" -o "$T/tie$tb" --tile-bins $tb --quiet; done
for f in summary.json events.csv margin.csv report.html; do
    cmp -s "$T/tie4/$f" "$T/tie5000/$f" || { echo "tiles of 4 and 5000 bins give another $f"; exit 1; }
done
grep -q '"t_max_droop_ns": 7.0' "$T/tie4/summary.json" || { echo "the tie went to the second burst"; exit 1; }
echo "e2e_run: 14 passed, 0 failed"
