#!/bin/sh
# tests/e2e_thermal.sh ANALYZER -- the thermal part of `analyzer run`, and
# `export` / `import`, end to end on the stacked sample (run from the repo
# root). Checks files, summary keys, where the heat is, hotspots and stacked
# hotspots (with a lowered threshold: the sample peaks near 50 C), --strict,
# the export formats and a bad --grid.
set -u
an=$1
case "$an" in /*) ;; *) an="$PWD/$an" ;; esac
chip=samples/stack/chip.json
sched=samples/stack/decode.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }

# 1. run: every file
"$an" run "$chip" "$sched" -o "$tmp/run" --quiet; rc=$?
[ "$rc" = 0 ] && ok "run exits 0" || no "run exits $rc"
for f in summary.json hotspots.csv unit_temps.csv thermal_frames.csv \
         heat/chip0_die0_steady.csv heat/chip0_die0_peak.csv heat/chip0_die1_steady.csv heat/chip0_die1_peak.csv \
         heat/chip0_die0_steady.png heat/chip0_die0_peak.png heat/chip0_die1_steady.png heat/chip0_die1_peak.png; do
    [ -s "$tmp/run/$f" ] && ok "$f" || no "missing $f"
done

# 2. summary keys, maps, units, frames
python3 - "$tmp/run" "$chip" <<'EOF' && ok "summary, maps, unit_temps, frames" || no "summary, maps, unit_temps, frames"
import csv, json, sys
d, chip = sys.argv[1], json.load(open(sys.argv[2]))
s = json.load(open(d + "/summary.json"))
t = s["thermal"]
for k in ("dies", "hotspots", "stacked_hotspots"):
    assert k in t, k
# the sample's SRAM banks leak: a fixed point well short of runaway
lk = t["leakage"]
assert lk["runaway"] is False and 1 <= lk["iterations"] <= 6 and lk["runaway_factor"] > 10, lk
assert 0.05 * s["power"]["avg_w"] > lk["total_w"] > 1.0, lk
assert len(t["dies"]) == 2
amb = chip["thermal"]["ambient_c"]
for e in t["dies"]:
    for k in ("chip", "die", "max_c", "mean_c", "t_max_ns"):
        assert k in e, k
    assert amb < e["mean_c"] < e["max_c"] < 200, e
W, H = chip["outline_mm"]
nx, ny = chip["thermal"]["grid"]
def load(p):
    rows = [[float(v) for v in r] for r in csv.reader(open(p))]
    assert len(rows) == ny and all(len(r) == nx for r in rows), p
    return rows
for die in (0, 1):
    st = load(d + "/heat/chip0_die%d_steady.csv" % die)
    pk = load(d + "/heat/chip0_die%d_peak.csv" % die)
    # the peak map is the hottest each cell gets, steady included
    assert all(pk[y][x] >= st[y][x] - 1e-9 for y in range(ny) for x in range(nx))
    mx = max(max(r) for r in pk)
    e = [e for e in t["dies"] if e["die"] == die][0]
    assert abs(mx - e["max_c"]) < 1e-3, (mx, e["max_c"])
# the hottest cell of die 0 lies in the column of an MXM unit
pk = load(d + "/heat/chip0_die0_peak.csv")
y, x = max(((y, x) for y in range(ny) for x in range(nx)), key=lambda c: pk[c[0]][c[1]])
xc, yc = (x + 0.5) * W / nx, (y + 0.5) * H / ny
mxm = [u for u in chip["units"] if u["class"] == "MXM"]
assert any(u["rect_mm"][0] <= xc <= u["rect_mm"][0] + u["rect_mm"][2] for u in mxm), (xc, yc)
print("hottest die-0 cell at x=%.2f y=%.2f mm, %.2f C" % (xc, yc, pk[y][x]))
# unit temps: every unit, means inside [ambient, max]
rows = list(csv.DictReader(open(d + "/unit_temps.csv")))
assert len(rows) == len(chip["units"])
for r in rows:
    assert amb < float(r["steady_mean_c"]) <= float(r["steady_max_c"]) + 1e-9
    assert float(r["run_max_c"]) >= float(r["steady_max_c"]) - 1e-9
fr = list(csv.DictReader(open(d + "/thermal_frames.csv")))
assert len(fr) == t["frames"] and fr[0]["t_start_ns"] == "0"
print("frames %d, die maxima %s" % (len(fr), [round(e["max_c"], 2) for e in t["dies"]]))
print("hotspots at hotspot_c %.0f: %d, stacked %d" % (chip["thermal"]["hotspot_c"], t["hotspots"], t["stacked_hotspots"]))
EOF

# 3. a lowered hotspot threshold and limit: hotspots, stacked ones, --strict
python3 - "$chip" "$tmp/low.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["thermal"]["hotspot_c"] = 48.5
c["thermal"]["limit_c"] = 49.0
json.dump(c, open(sys.argv[2], "w"))
EOF
"$an" run "$tmp/low.json" "$sched" -o "$tmp/low" --quiet 2>/dev/null; rc=$?
[ "$rc" = 0 ] && ok "no --strict: exit 0 above the limit" || no "no --strict exits $rc"
"$an" run "$tmp/low.json" "$sched" -o "$tmp/strict" --strict --quiet 2>"$tmp/strict.err"; rc=$?
[ "$rc" = 1 ] && ok "--strict above limit_c exits 1" || no "--strict exits $rc"
[ -s "$tmp/strict/summary.json" ] && [ -s "$tmp/strict/heat/chip0_die0_peak.png" ] && ok "--strict still writes" ||
    no "--strict wrote nothing"
grep -q "above limit_c" "$tmp/strict.err" && ok "limit named on stderr" || no "no limit message"
python3 - "$tmp/low" <<'EOF' && ok "hotspots and stacked hotspots" || no "hotspots and stacked hotspots"
import csv, json, sys
d = sys.argv[1]
t = json.load(open(d + "/summary.json"))["thermal"]
rows = list(csv.DictReader(open(d + "/hotspots.csv")))
assert t["hotspots"] == len(rows) > 0, t["hotspots"]
assert t["above_limit"] is True
ids = {r["id"] for r in rows}
st = [r for r in rows if r["stacked"] == "1"]
assert t["stacked_hotspots"] == len(st) > 0
for r in st:   # links point both ways and across dies
    for o in r["stacked_with"].split(";"):
        assert o in ids
        other = [x for x in rows if x["id"] == o][0]
        assert other["die"] != r["die"] and r["id"] in other["stacked_with"].split(";")
for r in rows:
    assert float(r["peak_c"]) > 48.5 and float(r["area_mm2"]) > 0
    sh = [float(p.split(":")[1]) for p in r["units"].split(";") if p]
    assert sh and all(0 < v <= 1 for v in sh) and sum(sh) <= 1 + 1e-3
for r in rows[:4]:
    print("hotspot %s die %s peak %s C at %s ns, (%s, %s) mm, %s mm^2, stacked %s with %s; units %s" % (
        r["id"], r["die"], r["peak_c"], r["t_peak_ns"], r["centroid_x_mm"], r["centroid_y_mm"], r["area_mm2"],
        r["stacked"], r["stacked_with"], r["units"][:80]))
print("low threshold: %d hotspots, %d stacked" % (t["hotspots"], t["stacked_hotspots"]))
EOF

# 4. --grid and --frame-ns override; a bad --grid is a usage error
"$an" run "$chip" "$sched" --grid 32,24 --frame-ns 5000 --json > "$tmp/g.json"; rc=$?
python3 -c "
import json, sys
t = json.load(open('$tmp/g.json'))['thermal']
assert t['grid'] == [32, 24] and t['frame_ns'] == 5000 and t['frames'] > 0
" && [ "$rc" = 0 ] && ok "--grid/--frame-ns override" || no "--grid/--frame-ns override"
"$an" run "$chip" "$sched" --grid 1x2 -o "$tmp/bad" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] && [ ! -e "$tmp/bad" ] && ok "bad --grid exits 2" || no "bad --grid exits $rc"

# 5. export formats
"$an" export "$chip" "$sched" --format hotspot -o "$tmp/hs" --quiet; rc=$?
[ "$rc" = 0 ] && ok "export hotspot" || no "export hotspot exits $rc"
python3 - "$tmp/hs" "$chip" <<'EOF' && ok "hotspot files parse" || no "hotspot files parse"
import json, sys
d, chip = sys.argv[1], json.load(open(sys.argv[2]))
W, H = chip["outline_mm"]
for die in (0, 1):
    blocks = {}
    for line in open(d + "/die%d.flp" % die):
        if line.startswith("#") or not line.strip(): continue
        f = line.split("\t")
        assert len(f) == 5
        blocks[f[0]] = [float(v) for v in f[1:]]
    area = sum(b[0] * b[1] for b in blocks.values())
    assert abs(area - W * H * 1e-6) < 1e-9 * W * H, area   # units + fillers tile the outline
    units = [u for u in chip["units"] if u["die"] == die]
    for u in units:
        b = blocks[u["name"]]
        r = u["rect_mm"]
        assert all(abs(b[i] - v * 1e-3) < 1e-12 for i, v in enumerate((r[2], r[3], r[0], r[1])))
    lines = open(d + "/chip0_die%d.ptrace" % die).read().splitlines()
    head = lines[0].split("\t")
    assert set(head) == set(blocks)
    assert len(lines) > 1 and all(len(l.split("\t")) == len(head) for l in lines[1:])
lcf = [l for l in open(d + "/stack.lcf").read().splitlines() if l.strip() and not l.startswith("#")]
layers = chip["thermal"]["layers"]
assert len(lcf) == 7 * len(layers)
for i, L in enumerate(layers):
    b = lcf[7 * i: 7 * i + 7]
    assert int(b[0]) == i and b[1] == "Y" and b[2] == ("Y" if "die" in L else "N")
    assert abs(float(b[4]) - 1 / L["k_w_mk"]) < 1e-6 / L["k_w_mk"] and abs(float(b[5]) - L["thickness_m"]) < 1e-15
# the cooling, as HotSpot's convection resistance 1 / (h A), and the ambient in kelvin
cfg = dict(l.split() for l in open(d + "/hotspot.config") if l.strip() and not l.startswith("#"))
t = chip["thermal"]
assert abs(float(cfg["-r_convec"]) * t["h_top_w_m2k"] * W * H * 1e-6 - 1) < 1e-6, cfg["-r_convec"]
assert abs(float(cfg["-ambient"]) - (t.get("ambient_c", 40) + 273.15)) < 1e-6
assert cfg["-model_type"] == "grid" and cfg["-grid_layer_file"] == "stack.lcf"
# every block once in the trace HotSpot reads with the stack (fillers of different dies too)
head = open(d + "/chip0.ptrace").readline().rstrip("\n").split("\t")
assert len(head) == len(set(head)), "chip0.ptrace repeats block names"
EOF
"$an" export "$chip" "$sched" --format vcd -o "$tmp/x.vcd" --quiet; rc=$?
grep -q '^\$enddefinitions' "$tmp/x.vcd" && grep -q '^#[0-9]' "$tmp/x.vcd" && [ "$rc" = 0 ] && ok "export vcd" ||
    no "export vcd"
"$an" export "$chip" "$sched" --format perfetto -o "$tmp/x.json" --quiet; rc=$?
python3 -c "
import json
d = json.load(open('$tmp/x.json'))
ev = d['traceEvents']
x = [e for e in ev if e['ph'] == 'X' and e.get('cat') != 'event']
assert len(x) == 20000 and all(e['dur'] > 0 for e in x)
assert any(e['ph'] == 'C' for e in ev)
" && [ "$rc" = 0 ] && ok "export perfetto parses" || no "export perfetto"
"$an" export "$chip" "$sched" --format nope -o "$tmp/n" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] && ok "bad --format exits 2" || no "bad --format exits $rc"

# 6. import a HotSpot floorplan back as units
"$an" import --format hotspot "$tmp/hs/die1.flp" --die 1 --rail sram -o "$tmp/units.json"; rc=$?
python3 - "$tmp/units.json" "$chip" <<'EOF' && [ "$rc" = 0 ] && ok "import round trip" || no "import round trip"
import json, sys
got = {u["name"]: u for u in json.load(open(sys.argv[1]))["units"]}
want = [u for u in json.load(open(sys.argv[2]))["units"] if u["die"] == 1]
assert len(got) == len(want)
for u in want:
    g = got[u["name"]]
    assert g["class"] == u["class"] and g["die"] == 1 and g["rail"] == "sram"
    assert all(abs(a - b) < 1e-9 for a, b in zip(g["rect_mm"], u["rect_mm"]))
EOF
printf 'A 0.001 0.002 0 0\nB 0.001 oops 0 0\n' > "$tmp/bad.flp"
"$an" import --format hotspot "$tmp/bad.flp" 2>"$tmp/imp.err" >/dev/null; rc=$?
[ "$rc" = 2 ] && grep -q "bad.flp:2:9: height is not a number" "$tmp/imp.err" && ok "bad .flp: file:line:col, exit 2" ||
    no "bad .flp exits $rc: $(cat "$tmp/imp.err")"

# what the chip description would refuse, refused on import: a name that is
# not UTF-8 or holds a comma, sizes out of a chip's scale, bad options
printf 'A\377 0.001 0.002 0 0\n' > "$tmp/u8.flp"
printf 'A 0.001 0.002 0 0\nB,x 0.001 0.002 0 0\n' > "$tmp/comma.flp"
printf 'A 1e300 0.002 0 0\n' > "$tmp/huge.flp"
printf 'A 1e-300 0.002 0 0\n' > "$tmp/tiny.flp"
printf 'A 0.001 0.002 0 0\n' > "$tmp/ok.flp"
printf 'A 0.001 0.002 0 0\000junk\n' > "$tmp/nul.flp"
printf '# only a filler\n_fill0 0.001 0.001 0 0\n' > "$tmp/fills.flp"
: > "$tmp/empty.flp"
for c in "u8.flp:1:1: a block name must be UTF-8" "comma.flp:2:2: a block name may not hold commas" \
         "huge.flp:1:3: width 1e300 m is out of a chip's scale" "tiny.flp:1:3: width 1e-300 m is out of" \
         "nul.flp:1:18: NUL byte" "fills.flp: no blocks" "empty.flp: no blocks"; do
    f=${c%%:*}
    "$an" import --format hotspot "$tmp/$f" -o "$tmp/imp.json" 2>"$tmp/imp.err" >/dev/null; rc=$?
    [ "$rc" = 2 ] && [ ! -e "$tmp/imp.json" ] && grep -qF "$c" "$tmp/imp.err" && ok "import refuses $f" ||
        no "import $f: exit $rc: $(cat "$tmp/imp.err")"
done
# a byte order mark before the first block is not part of its name
printf '\357\273\277A 0.001 0.002 0 0\n' > "$tmp/bom.flp"
"$an" import --format hotspot "$tmp/bom.flp" | python3 -c 'import json, sys; assert json.load(sys.stdin)["units"][0]["name"] == "A"' &&
    ok "import skips a byte order mark" || no "import: a byte order mark"
rc1=0; "$an" import --format hotspot "$tmp/ok.flp" --die -1 >/dev/null 2>&1 || rc1=$?
rc2=0; "$an" import --format hotspot "$tmp/ok.flp" --rail a,b >/dev/null 2>&1 || rc2=$?
rc3=0; "$an" import --format hotspot "$tmp/ok.flp" --class '' >/dev/null 2>&1 || rc3=$?
[ "$rc1 $rc2 $rc3" = "2 2 2" ] && ok "import refuses --die -1, --rail a,b, --class ''" ||
    no "import options: exits $rc1 $rc2 $rc3"
# a unit name HotSpot reads as a comment is refused on export, before any file
python3 -c "
import json, sys
c = json.load(open(sys.argv[1])); old = c['units'][0]['name']; c['units'][0]['name'] = 'A#1'
json.dump(c, open(sys.argv[3], 'w'))
open(sys.argv[4], 'w').write(open(sys.argv[2]).read().replace(old + ',', 'A#1,'))" "$chip" "$sched" "$tmp/hash.json" "$tmp/hash.csv"
"$an" export "$tmp/hash.json" "$tmp/hash.csv" --format hotspot -o "$tmp/hsh" 2>"$tmp/hsh.err"; rc=$?
[ "$rc" = 2 ] && [ ! -e "$tmp/hsh" ] && grep -q "unit 'A#1': a HotSpot floorplan takes what follows '#'" "$tmp/hsh.err" &&
    ok "export refuses a '#' in a unit name" || no "export with a '#' name: exit $rc: $(cat "$tmp/hsh.err")"

# the stacked sample's prefill at its own threshold: the MXM columns of the logic die and the SRAM banks
# above them are hotspots, flagged as stacked on each other
"$an" run samples/stack/chip.json samples/stack/prefill.csv -o "$tmp/sp" --quiet >/dev/null 2>"$tmp/sp.err"
python3 - "$tmp/sp/hotspots.csv" <<'PY' && ok "stack prefill: stacked hotspots over the MXM columns" || no "stack prefill hotspots"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
logic = [r for r in rows if r["die"] == "0"]
sram = [r for r in rows if r["die"] == "1"]
assert len(logic) >= 2 and len(sram) >= 2, rows
assert all(r["stacked"] == "1" for r in rows), rows
assert all(r["units"].startswith("MXM.") for r in logic), [r["units"] for r in logic]
PY
# a hotspot's first and last maps: a unit on twice, each time long enough to
# pass hotspot_c; from the frames file, each run of frames above it is one
# hotspot, first seen at the end of its run's first frame (not its start)
cat > "$tmp/tf.json" <<'EOF'
{"format":"pda-chip/1","name":"tf","clock_ghz":1.0,"outline_mm":[8,8],
 "dies":[{"id":0,"name":"d0"}],
 "rails":[{"name":"core","vdd_v":1.0,"guardband_mv":70,"didt_limit_a_per_ns":100,
   "pdn":{"stages":[{"name":"die","r_ohm":1e-4,"l_h":1e-12,"c_f":1e-6,"esr_ohm":1e-4}]}}],
 "units":[{"name":"U","class":"C","die":0,"rail":"core","rect_mm":[3,3,2,2]}],
 "ops":[{"op":"run","class":"C","current_a":20}],
 "thermal":{"grid":[8,8],"h_top_w_m2k":20000,"frame_ns":10000,"hotspot_c":83.4,
   "layers":[{"name":"die","die":0,"thickness_m":2e-5,"k_w_mk":100,"cv_j_m3k":1.6e6}]}}
EOF
printf 'id,unit,op,start,cycles\na,U,run,0,10000\nb,U,run,40000,20000\nc,U,run,150000,1\n' > "$tmp/tf.csv"
"$an" run "$tmp/tf.json" "$tmp/tf.csv" -o "$tmp/tf" --quiet >/dev/null 2>&1
python3 - "$tmp/tf" <<'PY' && ok "hotspots: first and last maps are frame ends" || no "hotspots' first and last maps"
import csv, sys
d = sys.argv[1]
runs, cur = [], None
for f in csv.DictReader(open(d + "/thermal_frames.csv")):
    if float(f["chip0_die0_max_c"]) > 83.4:
        cur = cur or [float(f["t_end_ns"]), None]
        cur[1] = float(f["t_end_ns"])
    elif cur:
        runs.append(cur)
        cur = None
if cur:
    runs.append(cur)
hot = sorted(csv.DictReader(open(d + "/hotspots.csv")), key=lambda r: float(r["t_first_ns"]))
got = [[float(r["t_first_ns"]), float(r["t_last_ns"])] for r in hot]
assert len(runs) == 2 and got == runs, (got, runs)
PY
# a chip that only idles (10 W) stays at its steady state whatever the
# frame: a last frame past the makespan holds idle power (the chip idles on,
# it is not switched off), in the run and in the HotSpot trace
cat > "$tmp/idle.json" <<'EOF'
{"format":"pda-chip/1","name":"pad","clock_ghz":1.0,"outline_mm":[8,8],
 "dies":[{"id":0,"name":"d0"}],
 "rails":[{"name":"core","vdd_v":1.0,"guardband_mv":70,"didt_limit_a_per_ns":100,
   "pdn":{"stages":[{"name":"die","r_ohm":1e-4,"l_h":1e-12,"c_f":1e-6,"esr_ohm":1e-4}]}}],
 "units":[{"name":"U","class":"C","die":0,"rail":"core","rect_mm":[0,0,8,8],"idle_a":10}],
 "ops":[{"op":"run","class":"C","current_a":0}],
 "thermal":{"grid":[4,4],"h_top_w_m2k":20000,"frame_ns":10000,
   "layers":[{"name":"die","die":0,"thickness_m":1e-4,"k_w_mk":100,"cv_j_m3k":1.6e6}]}}
EOF
printf 'id,unit,op,start,cycles\na,U,run,0,15000\n' > "$tmp/idle.csv"
for fr in 4000 10000 1000000; do
    "$an" run "$tmp/idle.json" "$tmp/idle.csv" -o "$tmp/idle$fr" --frame-ns $fr --quiet >/dev/null 2>&1 || no "idle run, frame $fr"
done
"$an" export "$tmp/idle.json" "$tmp/idle.csv" --format hotspot --frame-ns 1000000 -o "$tmp/idlehs" >/dev/null 2>&1 ||
    no "idle export"
# and an empty schedule's chip idles too: the same steady state
printf 'id,unit,op,start,cycles\n' > "$tmp/none.csv"
"$an" run "$tmp/idle.json" "$tmp/none.csv" -o "$tmp/idlenone" --quiet >/dev/null 2>&1 || no "idle run, empty schedule"
python3 - "$tmp" <<'PY' && ok "an idle chip keeps its steady state past the makespan" || no "an idle chip cools"
import csv, sys
t = sys.argv[1]
for fr in (4000, 10000, 1000000):
    for r in csv.DictReader(open("%s/idle%d/unit_temps.csv" % (t, fr))):
        assert abs(float(r["run_mean_c"]) - float(r["steady_mean_c"])) < 1e-3, (fr, r)
        assert abs(float(r["run_max_c"]) - float(r["steady_max_c"])) < 1e-3, (fr, r)
none = list(csv.DictReader(open(t + "/idlenone/unit_temps.csv")))[0]
assert abs(float(none["steady_mean_c"]) - float(r["steady_mean_c"])) < 1e-3, (none, r)
rows = [l.split() for l in open(t + "/idlehs/chip0_die0.ptrace")]
assert rows[0][0] == "U" and len(rows) == 2 and abs(float(rows[1][0]) - 10.0) < 1e-9, rows
PY
# 9. HotSpot's reading of the export: chip0.ptrace's columns layer by layer
# (a stack whose die 0 is on top), overlapping units and names that differ
# only in case refused (exit 2, nothing written)
cat > "$tmp/top0.json" <<'EOF'
{"format":"pda-chip/1","name":"t","clock_ghz":1,"outline_mm":[4,4],
 "dies":[{"id":0,"name":"top"},{"id":1,"name":"bot"}],
 "rails":[{"name":"core","vdd_v":1,"pdn":{"stages":[{"name":"s","r_ohm":1e-4,"l_h":1e-12,"c_f":1e-6}]}}],
 "units":[{"name":"t0","class":"U","die":0,"rail":"core","rect_mm":[0,0,2,4],"idle_a":1},
          {"name":"b0","class":"U","die":1,"rail":"core","rect_mm":[0,0,4,4],"idle_a":2}],
 "ops":[{"op":"run","class":"U","current_a":1}],
 "thermal":{"grid":[4,4],"h_top_w_m2k":1e4,"layers":[
   {"name":"bot","die":1,"thickness_m":1e-4,"k_w_mk":100,"cv_j_m3k":1.75e6},
   {"name":"top","die":0,"thickness_m":1e-4,"k_w_mk":100,"cv_j_m3k":1.75e6}]}}
EOF
printf 'id,unit,op,start,cycles\ni1,t0,run,0,100\n' > "$tmp/top0.csv"
"$an" export "$tmp/top0.json" "$tmp/top0.csv" --format hotspot -o "$tmp/top0hs" >/dev/null 2>&1 &&
python3 - "$tmp/top0hs" <<'PY' && ok "hotspot: chip0.ptrace in layer order" || no "hotspot: chip0.ptrace in layer order"
import sys
d = sys.argv[1]
lcf = [l.strip() for l in open(d + "/stack.lcf") if l.strip() and not l.startswith("#")]
flps = [lcf[k + 6] for k in range(0, len(lcf), 7) if lcf[k + 2] == "Y"]   # power layers, bottom first
want = [l.split()[0] for f in flps for l in open(d + "/" + f) if l.strip() and not l.startswith("#")]
head = open(d + "/chip0.ptrace").readline().split()
assert head == want, (head, want)
assert flps == ["die1.flp", "die0.flp"], flps
PY
sed 's/"rect_mm":\[0,0,4,4\]/"rect_mm":[1,1,3,3],"die":0/; s/"die":1,"rail":"core","rect_mm":\[1,1,3,3\],"die":0/"die":0,"rail":"core","rect_mm":[1,1,3,3]/' \
    "$tmp/top0.json" > "$tmp/over.json"
"$an" export "$tmp/over.json" "$tmp/top0.csv" --format hotspot -o "$tmp/overhs" 2>"$tmp/over.err" >/dev/null; rc=$?
# at the later unit's rectangle in the file (line 5), as the loader points
col=$(sed -n 5p "$tmp/over.json" | awk '{ print index($0, "[1,1,3,3]") }')
[ $rc = 2 ] && [ ! -e "$tmp/overhs" ] && grep -q "'t0' and 'b0' overlap on die 0" "$tmp/over.err" &&
    grep -q "^$tmp/over.json:5:$col: units\[1\].rect_mm: " "$tmp/over.err" &&
    ok "hotspot: overlapping units refused at file:line:col" ||
    no "hotspot: overlapping units: exit $rc: $(cat "$tmp/over.err")"
# the same chip through a pipe: refused the same, without a position (the
# text cannot be read again)
cat "$tmp/over.json" | "$an" export /dev/stdin "$tmp/top0.csv" --format hotspot -o "$tmp/overpipe" \
    2>"$tmp/overpipe.err" >/dev/null; rc=$?
[ $rc = 2 ] && [ ! -e "$tmp/overpipe" ] && grep -q "^/dev/stdin: units\[1\].rect_mm: units 't0' and 'b0' overlap" \
    "$tmp/overpipe.err" && ok "hotspot: overlapping units through a pipe refused" ||
    no "hotspot: overlapping units through a pipe: exit $rc: $(cat "$tmp/overpipe.err")"
"$an" run "$tmp/over.json" "$tmp/top0.csv" --quiet >/dev/null 2>&1 && ok "run takes overlapping units" ||
    no "run refused overlapping units"
sed 's/"name":"b0"/"name":"T0"/' "$tmp/top0.json" > "$tmp/case.json"
"$an" export "$tmp/case.json" "$tmp/top0.csv" --format hotspot -o "$tmp/casehs" 2>"$tmp/case.err" >/dev/null; rc=$?
col=$(sed -n 5p "$tmp/case.json" | awk '{ print index($0, "\"T0\"") }')
[ $rc = 2 ] && [ ! -e "$tmp/casehs" ] && grep -q "'t0' and 'T0' differ only in case" "$tmp/case.err" &&
    grep -q "^$tmp/case.json:5:$col: units\[1\].name: " "$tmp/case.err" &&
    ok "hotspot: names that differ only in case refused at file:line:col" ||
    no "hotspot: case: exit $rc: $(cat "$tmp/case.err")"
sed 's/"name":"b0"/"name":"b 0"/' "$tmp/top0.json" > "$tmp/blank.json"
"$an" export "$tmp/blank.json" "$tmp/top0.csv" --format hotspot -o "$tmp/blankhs" 2>"$tmp/blank.err" >/dev/null; rc=$?
[ $rc = 2 ] && [ ! -e "$tmp/blankhs" ] && grep -q "^$tmp/blank.json:5:$col: units\[1\].name: unit 'b 0' has a blank" \
    "$tmp/blank.err" && ok "hotspot: a blank in a unit's name refused at file:line:col" ||
    no "hotspot: blank name: exit $rc: $(cat "$tmp/blank.err")"

echo "e2e_thermal: $fails failed"
[ "$fails" = 0 ]
