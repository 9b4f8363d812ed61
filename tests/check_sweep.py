#!/usr/bin/env python3
"""check_sweep.py T -- the physics and shape checks of tests/e2e_sweep.sh on
the sweeps it ran into folder T (see there). Exits 1 with a message on the
first check that fails."""
import csv
import json
import sys

T = sys.argv[1]


def rows(name):
    return list(csv.DictReader(open("%s/%s/sweep.csv" % (T, name))))


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def check(ok, msg):
    if not ok:
        print("check_sweep: " + msg)
        sys.exit(1)


# grid: the product of the list lengths, times the schedules; sorted by point then schedule
r = rows("j1")
check(len(r) == 3 * 2 * 2 * 2, "grid rows: %d" % len(r))
check([(int(x["point"]), x["schedule"].rsplit("/", 1)[1]) for x in r] ==
      [(p, s) for p in range(12) for s in ("decode.csv", "multichip.csv")], "rows out of order")
cf, gb, h = "rails[core].pdn.stages[die].c_f", "rails[core].guardband_mv", "thermal.h_top_w_m2k"
for x in r:
    p = int(x["point"])
    want = ([1e-6, -1e-6, 2.5e-6][p // 4], [50, 150][p // 2 % 2], [1e4, 2e4][p % 2])
    check((float(x[cf]), float(x[gb]), float(x[h])) == want, "point %d has values %s" % (p, (x[cf], x[gb], x[h])))
    if want[0] < 0:
        check(x["status"].startswith("/") and ":13:" in x["status"] and "c_f" in x["status"] and x["peak_w"] == "",
              "failed point %d: %s" % (p, x["status"]))
    else:
        check(x["status"] == "ok" and float(x["energy_j"]) > 0 and x["max_c"] != "" and x["leakage_w"] == "",
              "point %d: %s" % (p, x))
# the guardband changes what is saved, not the droop; the cooling the temperature, not the power
for x in r:
    p = int(x["point"])
    if x["status"] != "ok" or p % 4:
        continue
    same = [y for y in r if y["schedule"] == x["schedule"] and int(y["point"]) // 4 == p // 4]
    check(len({y["max_droop_mv"] for y in same}) == 1 and len({y["energy_j"] for y in same}) == 1,
          "droop or energy moved with the guardband or cooling at point %d" % p)
    hot = {float(y[h]): float(y["max_c"]) for y in same}
    check(hot[2e4] < hot[1e4], "more cooling, hotter: %s" % hot)
    for y in same:
        if float(y[gb]) == 150:
            check(float(y["saving_w"]) > 0 and "droop" not in y["limits"], "guardband 150: %s" % y)
        else:
            check(float(y["saving_w"]) == 0 and "droop" in y["limits"], "guardband 50: %s" % y)

# sweep.json holds the same rows
j = json.load(open("%s/j1/sweep.json" % T))
check(len(j["rows"]) == len(r) and j["points"] == 12, "sweep.json rows")
for a, b in zip(j["rows"], r):
    check(a["status"] == b["status"] and (a["energy_j"] is None) == (b["energy_j"] == ""), "sweep.json differs")
    if a["energy_j"] is not None:
        check(a["energy_j"] == float(b["energy_j"]) and a["max_c"] == float(b["max_c"]), "sweep.json numbers")

# a row equals a plain run of the chip edited by hand (point 9 on decode.csv)
s = json.load(open("%s/hand_summary.json" % T))
x = [y for y in r if y["point"] == "9" and y["schedule"].endswith("decode.csv")][0]
rail = s["rails"][0]
for k, v in (("peak_w", s["power"]["peak_w"]), ("peak_window_w", s["power"]["peak_window_w"]),
             ("energy_j", s["power"]["energy_j"]), ("max_droop_mv", rail["max_droop_mv"]),
             ("needed_guardband_mv", rail["needed_guardband_mv"]), ("saving_w", rail["saving_w"]),
             ("max_c", s["thermal"]["max_c"]), ("hotspots", s["thermal"]["hotspots"])):
    check(close(float(x[k]), float(v)), "point 9 %s = %s, the run of the edited chip %s" % (k, x[k], v))

# energy affine in an op's current: equal steps of current, equal steps of energy
e = [float(y["energy_j"]) for y in rows("op")]
a = [float(y["ops[MXM.matmul].current_a"]) for y in rows("op")]
check(a == [10, 20, 40, 80] and len(e) == 4, "op sweep rows")
slope = (e[1] - e[0]) / (a[1] - a[0])
check(slope > 0, "energy does not grow with the current")
for i in range(2, 4):
    check(close((e[i] - e[i - 1]) / (a[i] - a[i - 1]), slope, 1e-9), "energy not affine in current_a: %s" % e)

# the die's decap: the worst droop falls as it grows
d = [float(y["max_droop_mv"]) for y in rows("cf")]
check(len(d) == 6 and all(d[i + 1] < d[i] for i in range(5)), "droop not falling with c_f: %s" % d)

# zip: value i of each list together
z = rows("zip")
check([(float(y["rails[core].guardband_mv"]), float(y["units[MXM.W0].idle_a"])) for y in z] ==
      [(50, 1), (60, 2), (70, 3)], "zip pairs: %s" % z)
i = [float(y["energy_j"]) for y in z]
check(i[0] < i[1] < i[2] and close(i[2] - i[1], i[1] - i[0], 1e-9), "idle current not affine in energy: %s" % i)
# a retime budget: a column per outcome, the re-timing of the run's schedule on the point's chip
r = rows("rt")
cap = "retime.power_cap_w"
check([(float(x[cap]), x["retime"]) for x in r] == [(20, ""), (150, ""), (20, "cannot"), (150, "met")],
      "retime outcomes: %s" % [(x[cap], x["retime"]) for x in r])
for x in r:
    if x["retime"] == "met":
        check(float(x["slowdown"]) >= 0 and float(x["gap"]) >= 0 and x["retime_why"] == "", "retime row %s" % x)
    elif x["retime"] == "cannot":
        check("cannot be met" in x["retime_why"] and "idle power" in x["retime_why"] and x["slowdown"] == "",
              "20 W cap: %s" % x)
    else:
        check(x["status"] != "ok" and x["slowdown"] == x["gap"] == x["retime_why"] == "", "failed run: %s" % x)
plain = json.load(open("%s/rt_plain.json" % T))
check(close(float(r[3]["slowdown"]), plain["slowdown"], 1e-9) and close(float(r[3]["gap"]), plain["gap"], 1e-9),
      "point 3 (the chip as written, 150 W) re-timed %s / %s, analyzer retime %s / %s" %
      (r[3]["slowdown"], r[3]["gap"], plain["slowdown"], plain["gap"]))
f = rows("rtf")
check(len(f) == 1 and f[0]["retime"] == "met" and (f[0]["slowdown"], f[0]["gap"]) == (r[3]["slowdown"], r[3]["gap"]),
      "a fixed cap of 150 W: %s, the varied one: %s" % (f, r[3]))
j = json.load(open("%s/rt/sweep.json" % T))
check(j["retime"] == {"window_ns": 10}, "sweep.json retime: %s" % j["retime"])
check([(a["retime"], a["slowdown"]) for a in j["rows"]] ==
      [(b["retime"] or None, float(b["slowdown"]) if b["slowdown"] else None) for b in r], "sweep.json retime rows")
check(json.load(open("%s/rtf/sweep.json" % T))["retime"] == {"power_cap_w": 150, "window_ns": 10},
      "sweep.json of a fixed cap")
# leakage: as the run reports it; a unit leaking 5000 A runs away, and the row says so
r = rows("lk")
lk = json.load(open("%s/lk_plain.json" % T))["thermal"]["leakage"]
check(close(float(r[0]["leakage_w"]), lk["total_w"], 1e-9) and "runaway" not in r[0]["limits"],
      "leakage_w %s, the run's %s; limits %s" % (r[0]["leakage_w"], lk["total_w"], r[0]["limits"]))
check("runaway" in r[1]["limits"].split(";") and "thermal" in r[1]["limits"], "runaway row: %s" % r[1])
# without a budget the columns are as before
check("retime" not in rows("j1")[0], "a sweep without a budget has retime columns")
print("check_sweep: ok")
