#!/bin/sh
# tests/e2e_export.sh ANALYZER -- `export --format vcd|perfetto` against the
# run's own files (run from the repo root): every VCD signal, replayed bin by
# bin, equals rails.csv (current and droop), the unit signals add up to their
# rail; the Perfetto trace has a flow arrow per dep of the CSV, bound inside
# both instructions' slices, the run's events with their causes, and droop
# counters whose largest value is the run's worst droop.
set -u
an=$1
case "$an" in /*) ;; *) an="$PWD/$an" ;; esac
chip=samples/tsp/chip.json
sched=samples/tsp/decode.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }

"$an" run "$chip" "$sched" -o "$tmp/run" --no-thermal --waveforms --quiet || no "run"
"$an" export "$chip" "$sched" --format vcd --unit-maps -o "$tmp/x.vcd" --quiet && ok "export vcd" || no "export vcd"
"$an" export "$chip" "$sched" --format perfetto -o "$tmp/x.json" --quiet && ok "export perfetto" || no "export perfetto"

python3 - "$tmp" "$chip" <<'EOF' && ok "vcd: rails.csv current and droop, units add up" || no "vcd against rails.csv"
import csv, json, sys
d, chip = sys.argv[1], json.load(open(sys.argv[2]))
rows = list(csv.reader(open(d + "/run/rails.csv")))[1:]
cur = [float(r[1]) for r in rows]; droop = [float(r[2]) for r in rows]
names, vals, stamps = {}, {}, []
lines = open(d + "/x.vcd").read().splitlines()
k = 0
scope = []
while not lines[k].startswith("$enddefinitions"):
    w = lines[k].split()
    if w[0] == "$scope": scope.append(w[2])
    elif w[0] == "$upscope": scope.pop()
    elif w[0] == "$var": names[w[3]] = "/".join(scope + [w[4]])
    k += 1
units = [u["name"] for u in chip["units"]]
assert sorted(n.split("/")[-1] for n in names.values() if "/units/" in n) == sorted(units)
by = {v: i for i, v in names.items()}
cid, did = by["chip0/rail_core_current_a"], by["chip0/rail_core_droop_mv"]
uid = [by["chip0/units/" + u] for u in units]
state, t = {}, None
nb = len(cur)
replay = []   # per bin: (current, droop, sum of units)
def flush(upto):
    while len(replay) < upto:
        replay.append((state[cid], state[did], sum(state[i] for i in uid)))
for l in lines[k + 1:]:
    if l.startswith("#"):
        t = int(l[1:]) // 1000
        if state: flush(t)
    elif l.startswith("r"):
        v, i = l[1:].split(); state[i] = float(v)
assert t == nb, (t, nb)   # the last stamp ends the timeline
assert len(replay) == nb
# a bin's current holds over the bin; its droop, the value at its end
# (rails.csv), from its end on: over bin b the droop of bin b - 1, and at
# the last stamp the last bin's
for b in range(nb):
    c, dr, us = replay[b]
    assert abs(c - cur[b]) <= 1e-6 * max(1, abs(cur[b])), (b, c, cur[b])
    assert b == 0 or abs(dr - droop[b - 1]) <= 1e-6 * max(1, abs(droop[b - 1])), (b, dr, droop[b - 1])
    assert abs(us - c) <= 1e-6 * max(1, c), (b, us, c)
assert abs(state[did] - droop[-1]) <= 1e-6 * max(1, abs(droop[-1])), (state[did], droop[-1])
EOF

python3 - "$tmp" "$sched" <<'EOF' && ok "perfetto: flows per dep, events, droop counters" || no "perfetto"
import csv, json, sys
d, sched = sys.argv[1], sys.argv[2]
ev = json.load(open(d + "/x.json"))["traceEvents"]
summ = json.load(open(d + "/run/summary.json"))
rows = list(csv.DictReader(open(sched)))
n_deps = sum(len([x for x in (r.get("deps") or "").split(";") if x]) for r in rows)
slices = {e["args"]["id"]: e for e in ev if e["ph"] == "X" and e.get("cat") != "event"}
assert len(slices) == len(rows)
starts = {e["id"]: e for e in ev if e["ph"] == "s"}
ends = {e["id"]: e for e in ev if e["ph"] == "f"}
assert len(starts) == len(ends) == n_deps > 0, (len(starts), len(ends), n_deps)
# each arrow starts inside the slice of the instruction depended upon and
# ends inside the dependent one's (same chip, same unit track)
by_track = {}
for e in slices.values(): by_track.setdefault((e["pid"], e["tid"]), []).append(e)
def inside(p):
    return any(x["ts"] <= p["ts"] <= x["ts"] + x["dur"] for x in by_track[(p["pid"], p["tid"])])
for i, s in starts.items():
    f = ends[i]
    assert f["bp"] == "e" and inside(s) and inside(f) and s["ts"] <= f["ts"], (s, f)
events = [e for e in ev if e.get("cat") == "event"]
rail = summ["rails"][0]
assert len(events) == rail["droop_events"] + rail["didt_events"], (len(events), rail["droop_events"], rail["didt_events"])
ids = set(slices)
assert all(set(c["ids"]) <= ids and c["unit"] for e in events for c in e["args"]["causes"])
worst = max(e["args"].get("peak_mv", 0) for e in events)
assert abs(worst - rail["max_droop_mv"]) < 1e-3 * rail["max_droop_mv"], (worst, rail["max_droop_mv"])
# a unit runs one instruction at a time: its slices, in whole picoseconds,
# never overlap (back-to-back ones touch)
for tr in by_track.values():
    sp = sorted((round(x["ts"] * 1e6), round(x["dur"] * 1e6)) for x in tr)
    assert all(a[0] + a[1] <= b[0] for a, b in zip(sp, sp[1:])), "slices overlap on a unit"
dc = [e["args"]["droop_mv"] for e in ev if e["ph"] == "C" and e["name"] == "core droop_mv"]
assert abs(max(dc) - rail["max_droop_mv"]) < 1e-4 * rail["max_droop_mv"], (max(dc), rail["max_droop_mv"])
EOF

# a unit name VCD cannot carry is refused with --unit-maps, nothing written
python3 - "$chip" "$tmp/sp.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["units"][0]["name"] = "MXM W0"
json.dump(c, open(sys.argv[2], "w"))
EOF
printf 'id,unit,op,start,cycles\na,VXM,add,0,10\n' > "$tmp/sp.csv"
"$an" export "$tmp/sp.json" "$tmp/sp.csv" --format vcd --unit-maps -o "$tmp/u.vcd" 2>"$tmp/err"; rc=$?
[ "$rc" = 2 ] && [ ! -e "$tmp/u.vcd" ] && grep -q "MXM W0" "$tmp/err" && ok "vcd: a unit name with a blank refused" ||
    no "vcd --unit-maps with a blank in a unit: exit $rc: $(cat "$tmp/err")"
"$an" export "$tmp/sp.json" "$tmp/sp.csv" --format vcd -o "$tmp/u.vcd" --quiet && ok "vcd without unit signals takes it" ||
    no "vcd without --unit-maps"

# ids and names are bytes: an id that is not UTF-8 still gives a trace any
# JSON reader takes (U+FFFD), and a chip named with VCD keywords or a
# schedule path holding "$end" cannot close the header's $comment early
printf 'id,unit,op,start,cycles,deps\n\377,MXM.W0,matmul,0,10,\na\376b,MXM.W1,matmul,20,300,\377\n' > "$tmp/bytes.csv"
"$an" export "$chip" "$tmp/bytes.csv" --format perfetto -o "$tmp/bytes.json" --quiet &&
    python3 -c "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))" "$tmp/bytes.json" &&
    ok "perfetto: ids that are not UTF-8" || no "perfetto: ids that are not UTF-8"
python3 -c "
import json, sys
c = json.load(open(sys.argv[1])); c['name'] = 'evil \$end \$scope module x \$end'
json.dump(c, open(sys.argv[2], 'w'))" "$chip" "$tmp/evil.json"
cp "$sched" "$tmp/we \$end ird.csv"
"$an" export "$tmp/evil.json" "$tmp/we \$end ird.csv" --format vcd -o "$tmp/evil.vcd" --quiet &&
    python3 - "$tmp/evil.vcd" <<'EOF' && ok "vcd: keywords in the comment's text" || no "vcd: keywords in the comment's text"
import sys
head = open(sys.argv[1]).read().split("$enddefinitions")[0].split()
# the header's tokens: scopes balance, and the comment holds no keyword
assert head.count("$scope") == head.count("$upscope"), "scopes"
c = head[head.index("$comment") + 1:]
c = c[:c.index("$end")]
assert not any(t.startswith("$") and t != "$" for t in c), c
EOF

# an empty schedule: its one VCD row holds the idle currents (each rail's
# and die's the sum of its units' idle_a), the same bytes run after run
printf 'id,unit,op,start,cycles\n' > "$tmp/empty.csv"
"$an" export "$chip" "$tmp/empty.csv" --format vcd --unit-maps -o "$tmp/e1.vcd" --quiet &&
"$an" export "$chip" "$tmp/empty.csv" --format vcd --unit-maps -o "$tmp/e2.vcd" --quiet &&
cmp -s "$tmp/e1.vcd" "$tmp/e2.vcd" && python3 - "$tmp/e1.vcd" "$chip" <<'EOF' && ok "vcd: an empty schedule idles" || no "vcd: an empty schedule"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
chip = json.load(open(sys.argv[2]))
names = {w[3]: w[4] for w in (l.split() for l in lines) if w and w[0] == "$var"}
vals = {l.split()[1]: float(l.split()[0][1:]) for l in lines if l.startswith("r")}
want = {}
dies = {d["id"]: d for d in chip["dies"]}
for u in chip["units"]:
    a = u.get("idle_a", 0)
    want["rail_%s_current_a" % u["rail"]] = want.get("rail_%s_current_a" % u["rail"], 0) + a
    want["die%d_current_a" % u["die"]] = want.get("die%d_current_a" % u["die"], 0) + a
    want[u["name"]] = a
assert len(vals) == len(names), (len(vals), len(names))
for i, n in names.items():
    if n in want:
        assert abs(vals[i] - want[n]) <= 1e-9 * max(1, want[n]), (n, vals[i], want[n])
    else:
        assert n.endswith("_droop_mv") and vals[i] >= 0, (n, vals[i])
EOF

# HotSpot's readers hold names of 511 bytes, lines of 65535 and 8192 blocks:
# a chip past them is refused (exit 2, nothing written); a grid that is not
# a power of two each way is written with a note (HotSpot takes it when built
# with SuperLU)
python3 - "$tmp" <<'EOF'
import json, sys
d = sys.argv[1]
def chip(units):
    return {"format": "pda-chip/1", "name": "hs", "clock_ghz": 1.0, "outline_mm": [10, 10],
            "dies": [{"id": 0, "name": "d0"}],
            "rails": [{"name": "core", "vdd_v": 1.0,
                       "pdn": {"stages": [{"name": "s", "r_ohm": 1e-4, "l_h": 1e-12, "c_f": 1e-6}]}}],
            "units": units, "ops": [{"op": "run", "class": "A", "current_a": 1}],
            "thermal": {"ambient_c": 40, "grid": [20, 20], "h_top_w_m2k": 1e4,
                        "layers": [{"name": "si", "die": 0, "thickness_m": 5e-4, "k_w_mk": 100, "cv_j_m3k": 1.6e6}]}}
def unit(name, x, y, w=0.1, h=0.1):
    return {"name": name, "class": "A", "die": 0, "rail": "core", "rect_mm": [x, y, w, h]}
many = [unit("U%d" % k, (k % 100) * 0.1, (k // 100) * 0.1) for k in range(9000)]
wide = [unit("U0" if k == 0 else "U%d_%s" % (k, "x" * 30), (k % 100) * 0.1, (k // 100) * 0.1) for k in range(3000)]
json.dump(chip(many), open(d + "/hs_many.json", "w"))
json.dump(chip(wide), open(d + "/hs_wide.json", "w"))
json.dump(chip([unit("U0", 0, 0, 5, 5), unit("N" * 600, 5, 5, 5, 5)]), open(d + "/hs_name.json", "w"))
json.dump(chip([unit("U0", 0, 0, 5, 5)]), open(d + "/hs_grid.json", "w"))
json.dump(chip([unit("U0", 0, 0, 5, 5), unit("N" * 511, 5, 5, 5, 5)]), open(d + "/hs_511.json", "w"))
EOF
printf 'id,unit,op,start,cycles\na,U0,run,0,100\n' > "$tmp/hs.csv"
for k in many:8192 wide:65535 name:511; do
    n=${k%%:*}; lim=${k#*:}
    "$an" export "$tmp/hs_$n.json" "$tmp/hs.csv" --format hotspot -o "$tmp/hs_$n" 2>"$tmp/err"; rc=$?
    [ "$rc" = 2 ] && [ ! -e "$tmp/hs_$n" ] && grep -q "$lim" "$tmp/err" && grep -q "^$tmp/hs_$n.json" "$tmp/err" &&
        ok "hotspot: past HotSpot's limit ($n) refused" || no "hotspot: $n: exit $rc: $(cat "$tmp/err")"
done
grep -q "hs_name.json:[0-9]*:[0-9]*: units\[1\].name" "$tmp/err" && ok "hotspot: a long name at its place" ||
    no "hotspot: a long name's place: $(cat "$tmp/err")"
"$an" export "$tmp/hs_511.json" "$tmp/hs.csv" --format hotspot --grid 16,16 -o "$tmp/hs_511" --quiet &&
    ok "hotspot: a name of 511 bytes is taken" || no "hotspot: a name of 511 bytes refused"
"$an" export "$tmp/hs_grid.json" "$tmp/hs.csv" --format hotspot -o "$tmp/hs_grid" 2>"$tmp/err" >/dev/null &&
    grep -q "not a power of two" "$tmp/err" && grep -q "SuperLU" "$tmp/hs_grid/hotspot.config" &&
    "$an" export "$tmp/hs_grid.json" "$tmp/hs.csv" --format hotspot --grid 32,16 -o "$tmp/hs_g2" 2>"$tmp/err" >/dev/null &&
    [ ! -s "$tmp/err" ] && ! grep -q "SuperLU" "$tmp/hs_g2/hotspot.config" &&
    ok "hotspot: a grid that is not a power of two gets a note" || no "hotspot: grid note: $(cat "$tmp/err")"

echo "e2e_export: $fails failed"
[ "$fails" = 0 ]
