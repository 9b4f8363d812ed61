#!/bin/sh
# bin/schedgen end to end ($1 = analyzer): every kind on both sample chips,
# streams also on rails3 (three rails: interleaved exact groups, every rail
# used, same seed same bytes), multi-chip and an extra column, and a generic
# chip with no MXM or MEM (both generators),
# each accepted by `analyzer check`; the same seed gives the same bytes, a
# different seed a different schedule; a bad chip exits 2 and writes nothing.
set -eu
A=$1
G=bin/schedgen
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
for chip in samples/tsp/chip.json samples/stack/chip.json; do
    for kind in decode prefill mixed; do
        $G $chip -o "$T/s.csv" --ops 3000 --seed 7 --kind $kind --extra
        $A check $chip "$T/s.csv" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["schedule"]
assert d["ops"] == 3000 and d["chips"] == 1, d'
        n=$((n + 1))
    done
done
# --kind streams on the three sample chips: accepted by `analyzer check`;
# some unit runs two instructions of one exact group (union-find over the
# `ID=N` deps) with another group's instruction between them; on rails3 the
# units of every rail run ops
for chip in samples/tsp/chip.json samples/stack/chip.json samples/rails3/chip.json; do
    $G $chip -o "$T/s.csv" --ops 3000 --seed 7 --kind streams
    $A check $chip "$T/s.csv" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["schedule"]
assert d["ops"] == 3000 and d["chips"] == 1 and d["deps"]["exact"] > 0 and d["deps"]["end"] > 0, d'
    python3 - $chip "$T/s.csv" <<'PY'
import csv, json, sys
chip = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
up = {}
def find(x):
    while up.setdefault(x, x) != x:
        up[x] = up[up[x]]
        x = up[x]
    return x
for r in rows:
    for d in filter(None, r["deps"].split(";")):
        if "=" in d:
            up[find(r["id"])] = find(d.split("=")[0])
by_unit = {}
for r in rows:
    by_unit.setdefault(r["unit"], []).append((int(r["start"]), find(r["id"])))
inter = 0
for ops in by_unit.values():
    ops.sort()
    last = {}
    for i, (_, g) in enumerate(ops):
        inter += g in last and last[g] < i - 1
        last[g] = i
assert inter > 0, "no unit interleaves two exact groups"
rail = {u["name"]: u["rail"] for u in chip["units"]}
used = {rail[r["unit"]] for r in rows}
assert used == {r["name"] for r in chip["rails"]}, (used, chip["rails"])
PY
    n=$((n + 1))
done
$G samples/rails3/chip.json -o "$T/a.csv" --ops 2000 --seed 11 --kind streams --chips 3 --extra
$G samples/rails3/chip.json -o "$T/b.csv" --ops 2000 --seed 11 --kind streams --chips 3 --extra
cmp -s "$T/a.csv" "$T/b.csv" || { echo "streams: same seed, different files"; exit 1; }
$A check samples/rails3/chip.json "$T/a.csv" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["schedule"]
assert d["chips"] == 3 and d["ops"] == 2000, d'
n=$((n + 1))
$G samples/tsp/chip.json -o "$T/m.csv" --ops 4000 --seed 3 --chips 4
$A check samples/tsp/chip.json "$T/m.csv" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["schedule"]
assert d["chips"] == 4 and d["ops"] == 4000 and d["deps"]["exact"] > 0, d'
# determinism
$G samples/tsp/chip.json -o "$T/a.csv" --ops 2000 --seed 11
$G samples/tsp/chip.json -o "$T/b.csv" --ops 2000 --seed 11
$G samples/tsp/chip.json -o "$T/c.csv" --ops 2000 --seed 12
cmp -s "$T/a.csv" "$T/b.csv" || { echo "same seed, different files"; exit 1; }
cmp -s "$T/a.csv" "$T/c.csv" && { echo "different seeds, same file"; exit 1; }
# a generic chip: classes schedgen does not know
python3 - "$T/g.json" <<'PY'
import json, sys
units = [{"name": f"U{k}", "class": "ALU" if k % 2 else "LSU", "die": 0, "rail": "core",
          "rect_mm": [k, 0, 1, 1], "idle_a": 0.5} for k in range(6)]
chip = {"format": "pda-chip/1", "name": "generic", "clock_ghz": 1.2, "outline_mm": [6, 1],
        "dies": [{"id": 0, "name": "d"}],
        "rails": [{"name": "core", "vdd_v": 0.75, "pdn": {"stages": [
            {"name": "pkg", "r_ohm": 1e-4, "l_h": 1e-11, "c_f": 1e-4, "esr_ohm": 1e-4}]}}],
        "units": units,
        "ops": [{"op": "add", "class": "ALU", "current_a": 3}, {"op": "ld", "class": "LSU", "current_a": 2,
                "ramp_cycles": 2}]}
json.dump(chip, open(sys.argv[1], "w"))
PY
$G "$T/g.json" -o "$T/g.csv" --ops 1500 --seed 5
$A check "$T/g.json" "$T/g.csv" > /dev/null
$G "$T/g.json" -o "$T/g.csv" --ops 1500 --seed 5 --kind streams
$A check "$T/g.json" "$T/g.csv" > /dev/null
# a bad chip: exit 2, no file
echo '{"format": "pda-chip/1"}' > "$T/bad.json"
set +e; $G "$T/bad.json" -o "$T/x.csv" 2>/dev/null; rc=$?; set -e
[ "$rc" = 2 ] && [ ! -e "$T/x.csv" ] || { echo "bad chip: rc $rc"; exit 1; }
# -o naming the chip: refused, exit 2, the chip as it was
cp "$T/g.json" "$T/g2.json"
set +e; $G "$T/g2.json" -o "$T/g2.json" --ops 10 2>"$T/err"; rc=$?; set -e
[ "$rc" = 2 ] && cmp -s "$T/g.json" "$T/g2.json" && grep -q "refusing to overwrite an input" "$T/err" \
    || { echo "-o the chip: rc $rc"; cat "$T/err"; exit 1; }
echo "e2e_schedgen: $((n + 5)) passed, 0 failed"
