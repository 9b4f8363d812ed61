#!/bin/sh
# tests/e2e_leakage.sh ANALYZER -- temperature-dependent leakage through
# `analyzer run`, on a lumped chip made here: one unit covering a one-layer
# die heats uniformly, so its steady temperature is T = Ta + R (P + L(T)),
# R = t/(2 k A) + 1/(h A), in closed form (Lambert W).
#  1. the steady fixed point's leakage and the runaway factor against the
#     closed form (1e-9, 1e-6);
#  2. energy: the run's energy with leakage minus without is the leakage
#     power times the makespan; every bin of the rail current is higher by
#     the leakage current, and every droop by R_dc times it (its DC shift);
#  3. the transient's coupling (each frame's leakage from the temperatures
#     at its start): the mean leakage over the frames converges at first
#     order as the frame halves;
#  4. runaway: a verdict in the summary, said on stderr, exit 1 under
#     --strict, in bounded time;
#  5. --periodic against --repeat N: N passes converge on the periodic
#     steady state (with leakage and without), geometrically.
set -u
an=$1
case "$an" in /*) ;; *) an="$PWD/$an" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }

# chip.json (leak_a 60 A), chip0.json (no leakage), hot.json (past runaway); a
# 2 ms burst then idle to 4 ms
python3 - "$tmp" <<'EOF'
import json, sys
d = sys.argv[1]
def chip(leak):
    u = {"name": "core", "class": "C", "die": 0, "rail": "core", "rect_mm": [0, 0, 10, 10], "idle_a": 10}
    if leak: u["leak_a"] = leak
    c = {"format": "pda-chip/1", "name": "lumped", "clock_ghz": 1, "outline_mm": [10, 10],
         "dies": [{"id": 0, "name": "die"}],
         "rails": [{"name": "core", "vdd_v": 0.8, "guardband_mv": 70,
                    "pdn": {"stages": [{"name": "s", "r_ohm": 1e-4, "l_h": 1e-11, "c_f": 1e-4, "esr_ohm": 1e-4}]}}],
         "units": [u], "ops": [{"op": "burst", "class": "C", "current_a": 60}, {"op": "tick", "class": "C", "current_a": 0}],
         "thermal": {"ambient_c": 40, "grid": [8, 8], "h_top_w_m2k": 2e4, "frame_ns": 100000,
                     "layers": [{"name": "si", "die": 0, "thickness_m": 1e-4, "k_w_mk": 150, "cv_j_m3k": 1.75e6}]}}
    if leak: c["thermal"]["leakage"] = {"t_ref_c": 110, "beta_per_k": 0.036}
    return c
json.dump(chip(60), open(d + "/chip.json", "w"))
json.dump(chip(0), open(d + "/chip0.json", "w"))
json.dump(chip(400), open(d + "/hot.json", "w"))
open(d + "/s.csv", "w").write("id,unit,op,start,cycles\nb,core,burst,0,2000000\nt,core,tick,3999999,1\n")
EOF

# 1. the closed form
"$an" run "$tmp/chip.json" "$tmp/s.csv" -o "$tmp/r" --quiet --waveforms --bin-ns 1000; rc=$?
[ "$rc" = 0 ] && ok "run exits 0" || no "run exits $rc"
python3 - "$tmp/r/summary.json" <<'EOF' && ok "steady leakage and runaway factor: Lambert W" || no "closed form"
import json, math, sys
s = json.load(open(sys.argv[1]))["thermal"]["leakage"]
def w0(z):  # Lambert W, principal branch, z in [-1/e, 0]: Halley
    w = -1 + math.sqrt(max(2 * (math.e * z + 1), 0)) if z < -0.3 else z
    for _ in range(100):
        ew = math.exp(w); f = w * ew - z
        if f == 0: break
        w -= f / (ew * (w + 1) - (w + 2) * f / (2 * w + 2))
    return w
A = 1e-4
R = 1e-4 / (2 * 150 * A) + 1 / (2e4 * A)
P = 0.8 * (10 + 60 * 2e6 / 4e6)          # idle, and the burst over half the makespan
L, beta, ta, tref = 0.8 * 60, 0.036, 40, 110
c = R * L * math.exp(beta * (ta + R * P - tref))
T = ta + R * P - w0(-beta * c) / beta
want = L * math.exp(beta * (T - tref))
assert abs(s["total_w"] / want - 1) < 1e-9, (s, want)
assert abs(s["runaway_factor"] * math.e * beta * c - 1) < 1e-6, (s, 1 / (math.e * beta * c))
assert s["runaway"] is False and 1 <= s["iterations"] <= 8, s
print("leakage %.6f W at %.4f C, runaway factor %.6f" % (want, T, s["runaway_factor"]))
EOF

# 2. energy, rail current, droop
"$an" run "$tmp/chip0.json" "$tmp/s.csv" -o "$tmp/r0" --quiet --waveforms --bin-ns 1000
python3 - "$tmp/r" "$tmp/r0" <<'EOF' && ok "leakage in energy, rail current and droop" || no "energy, current, droop"
import csv, json, sys
a, b = (json.load(open(d + "/summary.json")) for d in sys.argv[1:3])
lw = a["thermal"]["leakage"]["total_w"]
mk = a["schedule"]["makespan_ns"] * 1e-9
de = a["power"]["energy_j"] - b["power"]["energy_j"]
assert abs(de / (lw * mk) - 1) < 1e-9, (de, lw * mk)
assert "leakage" not in b["thermal"]
ra, rb = (list(csv.DictReader(open(d + "/rails.csv"))) for d in sys.argv[1:3])
assert len(ra) == len(rb) == 4000
il = lw / 0.8
for x, y in zip(ra, rb):
    di = float(x["0.core.current_a"]) - float(y["0.core.current_a"])
    dv = float(x["0.core.droop_mv"]) - float(y["0.core.droop_mv"])
    assert abs(di - il) < 1e-6 * il, (x, y, il)
    assert abs(dv - 1e-4 * il * 1e3) < 1e-6, (dv, 1e-4 * il * 1e3)
EOF

# 3. the transient's coupling against finer ones
for f in 200000 100000 50000 25000 12500 6250; do
    "$an" run "$tmp/chip.json" "$tmp/s.csv" --json --frame-ns $f > "$tmp/f$f.json" || no "run --frame-ns $f"
done
python3 - "$tmp" <<'EOF' && ok "transient coupling: first order in the frame" || no "transient coupling"
import json, sys
fs = [200000, 100000, 50000, 25000, 12500, 6250]
m = [json.load(open("%s/f%d.json" % (sys.argv[1], f)))["thermal"]["leakage"]["mean_w"] for f in fs]
ref = m[-1] + (m[-1] - m[-2])            # Richardson: first order
err = [abs(x - ref) for x in m[:-1]]
ratios = [err[k] / err[k + 1] for k in range(len(err) - 1)]
print("mean leakage by frame:", " ".join("%.9f" % x for x in m), "errors", " ".join("%.2e" % e for e in err))
assert all(1.7 < r < 2.3 for r in ratios), ratios
assert err[1] < 1e-3 * ref, err    # 100 us frames on a 9 ms time constant
EOF

# 4. runaway
start=$(date +%s)
"$an" run "$tmp/hot.json" "$tmp/s.csv" -o "$tmp/h" --quiet; rc=$?
[ "$rc" = 0 ] && ok "runaway without --strict exits 0" || no "runaway without --strict exits $rc"
"$an" run "$tmp/hot.json" "$tmp/s.csv" --strict >/dev/null 2>"$tmp/h.err"; rc=$?
[ "$rc" = 1 ] && ok "runaway under --strict exits 1" || no "runaway under --strict exits $rc"
grep -q "thermal runaway" "$tmp/h.err" && ok "runaway said on stderr" || no "runaway not said: $(cat "$tmp/h.err")"
[ $(($(date +%s) - start)) -lt 30 ] && ok "runaway in bounded time" || no "runaway took too long"
python3 - "$tmp/h/summary.json" <<'EOF' && ok "runaway verdict in the summary" || no "runaway verdict"
import json, sys
s = json.load(open(sys.argv[1]))["thermal"]["leakage"]
assert s["runaway"] is True and 0 < s["runaway_factor"] < 1, s
EOF
# a runaway whose frames reach 10^305 W (the law's exponent capped at 700):
# the mean over the frames is still a number, not an overflow (null)
python3 - <<'EOF' > "$tmp/rw.json"
import json, sys
print(json.dumps({"format": "pda-chip/1", "name": "rw", "clock_ghz": 1.0, "outline_mm": [10, 10],
  "dies": [{"id": 0, "name": "d0"}],
  "rails": [{"name": "core", "vdd_v": 1.0, "pdn": {"stages": [{"name": "s", "r_ohm": 1e-4, "l_h": 1e-12, "c_f": 1e-6}]}}],
  "units": [{"name": "U0", "class": "A", "die": 0, "rail": "core", "rect_mm": [0, 0, 10, 10], "leak_a": 20}],
  "ops": [{"op": "run", "class": "A", "current_a": 10}],
  "thermal": {"ambient_c": 40, "grid": [8, 8], "h_top_w_m2k": 1e4, "leakage": {"t_ref_c": 40, "beta_per_k": 0.1},
              "layers": [{"name": "si", "die": 0, "thickness_m": 5e-4, "k_w_mk": 100, "cv_j_m3k": 1.6e6}]}}))
EOF
printf 'id,unit,op,start,cycles\na,U0,run,0,100000\n' > "$tmp/rw.csv"
"$an" run "$tmp/rw.json" "$tmp/rw.csv" --json 2>/dev/null | python3 -c '
import json, math, sys
s = json.load(sys.stdin)["thermal"]["leakage"]
top = 20 * math.exp(700)   # leak_a x vdd x the capped exponential: no frame draws more
assert s["runaway"] is True and s["mean_w"] is not None and 1e300 < s["mean_w"] <= top, s
' && ok "runaway: the mean leakage of frames near 1e305 W is a number" || no "runaway: mean leakage overflowed"
# its temperatures and powers run to 1e100 and more: short numbers in the
# files and on the console all the same (exponent form)
"$an" run "$tmp/hot.json" "$tmp/s.csv" > "$tmp/h.out" 2>&1
python3 - "$tmp/h" "$tmp/h.out" <<'EOF' && ok "runaway: numbers short in files and console" || no "runaway: long numbers"
import csv, glob, sys
d, out = sys.argv[1], sys.argv[2]
big = 0
for f in ["unit_temps.csv", "thermal_frames.csv", "hotspots.csv"] + glob.glob(d + "/heat/*.csv"):
    for row in csv.reader(open(f if f.startswith("/") else d + "/" + f)):
        for x in row:
            assert len(x) <= 40, (f, x[:60])
            try:
                big = max(big, abs(float(x)))
            except ValueError:
                pass
assert big > 1e100, big   # the case does reach such numbers
for line in open(out):
    assert len(line) < 300, line[:100]
EOF
# 5. periodic against repetitions
for c in chip chip0; do
    for n in 1 4 16 64; do
        "$an" run "$tmp/$c.json" "$tmp/s.csv" --json --repeat $n > "$tmp/$c.r$n.json" || no "run --repeat $n"
    done
    "$an" run "$tmp/$c.json" "$tmp/s.csv" --json --periodic > "$tmp/$c.p.json" || no "run --periodic"
done
"$an" run "$tmp/chip.json" "$tmp/s.csv" --periodic --repeat 2 2>/dev/null; rc=$?
[ "$rc" = 2 ] && ok "--periodic with --repeat refused" || no "--periodic with --repeat exits $rc"
python3 - "$tmp" <<'EOF' && ok "--periodic: the limit of --repeat N" || no "--periodic against --repeat"
import json, sys
d = sys.argv[1]
for c in ("chip", "chip0"):
    th = lambda f: json.load(open("%s/%s.%s.json" % (d, c, f)))["thermal"]
    p = th("p")
    assert p["periodic"] is True and p["passes"] == 1 and p["periodic_iterations"] >= 1, p
    def fig(t):
        x = [t["dies"][0]["max_c"], t["dies"][0]["mean_c"]]
        return x + [t["leakage"]["mean_w"]] if "leakage" in t else x
    want = fig(p)
    errs = [max(abs(a - b) for a, b in zip(fig(th("r%d" % n)), want)) for n in (1, 4, 16, 64)]
    print(c, "periodic", want, "errors after 1, 4, 16, 64 passes", ["%.2e" % e for e in errs])
    assert errs[0] > 0.1 and errs[1] < errs[0] and errs[2] < errs[1] and errs[3] < 1e-8, errs
    assert th("r16")["passes"] == 16
# the mean over a period's frame ends is the steady state of the average power (no leakage: exactly)
p = json.load(open("%s/chip0.p.json" % d))["thermal"]["dies"][0]
assert abs(p["mean_c"] - p["steady_mean_c"]) < 1e-9 * p["mean_c"], p
EOF
echo "e2e_leakage: $fails failed"
[ "$fails" = 0 ]
