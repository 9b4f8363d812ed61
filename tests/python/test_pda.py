"""Tests of the Python module pda (python/pda) against the command it wraps.

Run from the repository root after `make`:
    /usr/bin/python3 -m pytest -q tests/python        (or tests/python/run.sh)
The module is imported from python/ and finds lib/libpda.so beside it (or
PDA_LIB); the command is bin/analyzer (or $PDA_ANALYZER). Every figure the
module returns is compared with what `analyzer run` / `analyzer retime`
write, to the precision the files print."""
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
import pda  # noqa: E402
from pda import _capi  # noqa: E402

ANALYZER = os.environ.get("PDA_ANALYZER", os.path.join(ROOT, "bin", "analyzer"))
TSP_CHIP = os.path.join(ROOT, "samples/tsp/chip.json")
TSP_DECODE = os.path.join(ROOT, "samples/tsp/decode.csv")
STACK_CHIP = os.path.join(ROOT, "samples/stack/chip.json")
SAMPLES = {"tsp/decode": (TSP_CHIP, TSP_DECODE),
           "stack/decode": (STACK_CHIP, os.path.join(ROOT, "samples/stack/decode.csv")),
           "tsp/multichip": (TSP_CHIP, os.path.join(ROOT, "samples/tsp/multichip.csv"))}


def g10(x):
    """x as summary.json prints it (jansson, JSON_REAL_PRECISION(10))."""
    return float("%.10g" % x)


def analyzer(*args):
    p = subprocess.run([ANALYZER, *args], capture_output=True, text=True)
    assert p.returncode == 0, "analyzer %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr)
    return p


@pytest.fixture(scope="module")
def cmd_out(tmp_path_factory):
    """The files of `analyzer run -o DIR --waveforms` per sample, made once."""
    made = {}

    def get(sample):
        if sample not in made:
            d = tmp_path_factory.mktemp(sample.replace("/", "_"))
            analyzer("run", *SAMPLES[sample], "-o", str(d), "--waveforms", "--quiet")
            made[sample] = d
        return made[sample]
    return get


def diff_paths(a, b, at="summary"):
    """Where two JSON values differ, as a list of paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = ["%s.%s (only on one side)" % (at, k) for k in sorted(set(a) ^ set(b))]
        for k in a:
            if k in b:
                out += diff_paths(a[k], b[k], "%s.%s" % (at, k))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return ["%s: %d vs %d entries" % (at, len(a), len(b))]
        return [p for k, (x, y) in enumerate(zip(a, b)) for p in diff_paths(x, y, "%s[%d]" % (at, k))]
    return [] if type(a) is type(b) and a == b else ["%s: %r vs %r" % (at, a, b)]


def test_library_found_beside_the_module_or_from_pda_lib():
    want = os.environ.get("PDA_LIB") or os.path.join(ROOT, "lib", _capi.SONAME)
    assert os.path.samefile(pda.LIBRARY, want)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_summary_is_the_commands(sample, cmd_out):
    with open(cmd_out(sample) / "summary.json") as f:
        cmd = json.load(f)
    with pda.run(*SAMPLES[sample]) as r:
        py = r.summary
    assert "compute_s" not in cmd.get("thermal", {})   # no wall-clock figure: outputs are reproducible
    assert diff_paths(py, cmd) == []


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_rails_match_summary_and_rails_csv(sample, cmd_out):
    with open(cmd_out(sample) / "rails.csv", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    with pda.run(*SAMPLES[sample]) as r:
        s = r.summary
        with open(SAMPLES[sample][0]) as f:   # the makespan in ns unrounded (summary.json has 10 digits)
            mk_ns = s["schedule"]["makespan_cycles"] / json.load(f)["clock_ghz"]
        assert g10(mk_ns) == s["schedule"]["makespan_ns"]
        assert r.bin_ns == s["power"]["bin_ns"]
        assert r.n_bins == math.ceil(mk_ns / r.bin_ns) == len(body)
        assert len(s["rails"]) == r.n_chips * len(r.rail_names)
        for q, sr in enumerate(s["rails"]):
            chip, rail = sr["chip"], sr["rail"]
            assert (chip, rail) == (q // len(r.rail_names), r.rail_names[q % len(r.rail_names)])
            w = r.rail(chip, rail)
            assert w.current_a.dtype == np.float64 and w.droop_mv.dtype == np.float64
            assert len(w.current_a) == len(w.droop_mv) == r.n_bins
            st = r.rail_stats(chip, rail)
            # peak and worst droop: exactly the run's, and the summary's to the digits it prints
            assert w.current_a.max() == st["peak_a"] and g10(w.current_a.max()) == sr["peak_a"]
            assert w.droop_mv.max() == st["max_droop_v"] * 1e3 and g10(w.droop_mv.max()) == sr["max_droop_mv"]
            # the mean over the makespan: the charge (each bin an exact average) over the makespan,
            # which may end inside the last bin; past it, to the bin's end, the rail draws its idle
            # current (events.c, events_finish)
            with open(SAMPLES[sample][0]) as f:
                units = json.load(f)["units"]
            idle = sum(u.get("idle_a", 0.0) for u in units if u.get("rail", r.rail_names[0]) == rail)
            # and the leakage at its steady temperature (docs/thermal.md, "Leakage")
            idle += sum(x["current_a"] for x in s.get("thermal", {}).get("leakage", {}).get("rails", [])
                        if (x["chip"], x["rail"]) == (chip, rail))
            tail = r.n_bins * r.bin_ns - mk_ns
            avg = (w.current_a.sum() * r.bin_ns - idle * max(tail, 0.0)) / min(mk_ns, r.n_bins * r.bin_ns)
            assert avg == pytest.approx(sr["avg_a"], rel=1e-9) and avg == pytest.approx(st["avg_a"], rel=1e-12)
            # rails.csv: the same numbers to the digits it prints (%.9g and %.6f)
            k = head.index("%d.%s.current_a" % (chip, rail))
            assert head[k + 1] == "%d.%s.droop_mv" % (chip, rail)
            assert ["%.9g" % x for x in w.current_a] == [row[k] for row in body]
            assert ["%.6f" % x for x in w.droop_mv] == [row[k + 1] for row in body]
        # by index as by name
        assert np.array_equal(r.rail(0, 0).current_a, r.rail(0, r.rail_names[0]).current_a)


def test_events_and_margin_match_the_files(cmd_out):
    d = cmd_out("tsp/decode")
    with open(d / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(d / "margin.csv", newline="") as f:
        mrows = list(csv.DictReader(f))
    with pda.run(TSP_CHIP, TSP_DECODE) as r:
        ev, mg = r.events, r.margin
        assert len(ev) == len(rows) == r.summary["events_kept"] > 0
        for e, row in zip(ev, rows):
            assert [e["kind"], str(e["chip"]), e["rail"], e["peak_unit"]] == \
                [row["kind"], row["chip"], row["rail"], row["peak_unit"]]
            for k in ("t_start_ns", "t_end_ns", "t_peak_ns", "window_ns"):
                assert "%.3f" % e[k] == row[k]
            assert "%.6g" % e["peak"] == row["peak"]
            assert ";".join("%s:%+.3f" % (c["unit"], c["delta_a"]) for c in e["causes"]) == row["causes"]
            assert ";".join(i for c in e["causes"] for i in c["instructions"]) == row["instructions"]
        assert len(mg) == len(mrows) == len(r.summary["rails"])
        for m, row, sr in zip(mg, mrows, r.summary["rails"]):
            assert (str(m["chip"]), m["rail"]) == (row["chip"], row["rail"])
            assert "%.4f" % m["worst_droop_mv"] == row["worst_droop_mv"]
            assert g10(m["worst_droop_mv"]) == sr["max_droop_mv"]
            assert g10(m["needed_guardband_mv"]) == sr["needed_guardband_mv"]
            assert [g10(x["droop_mv"]) for x in m["resonances"]] == [x["droop_mv"] for x in sr["resonances"]]
        assert g10(r.power["peak_window_w"]) == r.summary["power"]["peak_window_w"]


def test_heat_maps_of_a_stack(tmp_path):
    nx, ny = 48, 32   # not square: rows are y
    with pda.run(STACK_CHIP, SAMPLES["stack/decode"][1], grid=(nx, ny)) as r:
        assert r.has_thermal and r.summary["thermal"]["grid"] == [nx, ny]
        dies = r.summary["thermal"]["dies"]
        assert len(r.dies) == 2 and len(dies) == r.n_chips * len(r.dies)
        r.write(tmp_path)
        for k, die in enumerate(r.dies):
            sd = next(x for x in dies if x["chip"] == 0 and x["die"] == die["id"])
            steady, peak = r.heat(0, k), r.heat(0, die["name"], peak=True)
            assert steady.shape == peak.shape == (ny, nx) and steady.dtype == np.float64
            assert g10(steady.max()) == sd["steady_max_c"]
            assert g10(peak.max()) == sd["max_c"]
            assert (peak >= steady).all()
            with open(tmp_path / "heat" / ("chip0_die%d_steady.csv" % die["id"])) as f:
                assert [line.rstrip("\n") for line in f] == [",".join("%.4f" % v for v in row) for row in steady]
        ut = r.unit_temps
        assert len(ut) == r.n_chips * len(r.unit_names)
        with open(tmp_path / "unit_temps.csv", newline="") as f:
            for u, row in zip(ut, csv.DictReader(f)):
                assert (str(u["chip"]), u["unit"], str(u["die"])) == (row["chip"], row["unit"], row["die"])
                assert "%.4f" % u["steady_max_c"] == row["steady_max_c"]
        assert len(r.hotspots) == r.summary["thermal"]["hotspots"]
    with pda.run(STACK_CHIP, SAMPLES["stack/decode"][1], thermal=False) as r:
        assert not r.has_thermal and "thermal" not in r.summary and r.unit_temps == []
        with pytest.raises(ValueError, match="thermal"):
            r.heat(0, 0)


def test_write_gives_the_commands_files(tmp_path, cmd_out):
    """Result.write: every file `analyzer run -o DIR --waveforms` writes, byte
    for byte."""
    d = cmd_out("tsp/decode")
    with pda.run(TSP_CHIP, TSP_DECODE) as r:
        r.write(tmp_path / "out")

    def files(top):
        return sorted(os.path.relpath(os.path.join(a, f), top) for a, _, fs in os.walk(top) for f in fs)

    def body(path):
        with open(path, "rb") as f:
            return f.read()
    assert "rails.csv" in files(d) and files(tmp_path / "out") == files(d)
    for name in files(d):
        assert body(tmp_path / "out" / name) == body(d / name), name


def test_bad_schedule_raises_error_with_position(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,unit,op,start,cycles,deps\n1,ICU.0,sync,0,2,\n2,MEM.W0,read,16,43,nope\n")
    with pytest.raises(pda.Error) as e:
        pda.run(TSP_CHIP, bad)
    assert e.value.code == pda.EINPUT
    assert re.match(re.escape(str(bad)) + r":3:\d+: .*nope", str(e.value)), str(e.value)
    with pytest.raises(pda.Error) as e:
        pda.run(TSP_CHIP, tmp_path / "missing.csv")
    assert e.value.code == pda.EIO and str(e.value).startswith(str(tmp_path / "missing.csv") + ":")


def test_options():
    with pytest.raises(TypeError, match="bogus"):
        pda.run(TSP_CHIP, TSP_DECODE, bogus=1)
    with pytest.raises(ValueError, match="events_cap"):
        pda.run(TSP_CHIP, TSP_DECODE, events_cap=-1)
    seen = []
    with pda.run(TSP_CHIP, TSP_DECODE, bin_ns=2, window_ns=50, thermal=False, keep_rails=False, events_cap=5,
                 tile_bins=1000, progress=seen.append) as r:
        assert r.bin_ns == 2 and r.summary["power"]["window_ns"] == 50 and len(r.events) <= 10
        assert seen and seen[-1] == 1.0
        with pytest.raises(pda.Error, match="keep_rails") as e:
            r.rail(0, "core")
        assert e.value.code == pda.EINPUT
        with pytest.raises(KeyError, match="nope"):
            r.rail_stats(0, "nope")
        with pytest.raises(IndexError):
            r.rail_stats(1, 0)
    with pytest.raises(ValueError, match="closed"):
        r.rail(0, 0)


def test_power_cap_is_the_commands(tmp_path):
    """power_cap_w gives the summary keys of `analyzer run --power-cap-w`."""
    for cap in (50.0, 1000.0):
        out = subprocess.run([ANALYZER, "run", TSP_CHIP, TSP_DECODE, "--no-thermal", "--json", "--power-cap-w",
                              str(cap)], check=True, capture_output=True).stdout
        want = json.loads(out)["power"]
        with pda.run(TSP_CHIP, TSP_DECODE, thermal=False, power_cap_w=cap) as r:
            got = r.summary["power"]
        assert got["cap_w"] == cap and got["cap_broken"] == want["cap_broken"] == (cap == 50.0)
        assert got["chip_peak_window_w"] == want["chip_peak_window_w"]
    with pytest.raises(pda.Error, match="power_cap_w"):
        pda.run(TSP_CHIP, TSP_DECODE, thermal=False, power_cap_w=-1)


def test_tile_bins_give_the_same_numbers():
    """The same figures whatever the tile, to rounding: a tile's edges change
    the order of some sums (differences ~1e-13 relative)."""
    with pda.run(TSP_CHIP, TSP_DECODE, thermal=False) as a, \
            pda.run(TSP_CHIP, TSP_DECODE, thermal=False, tile_bins=777) as b:
        assert a.summary == b.summary
        for x, y in zip(a.rail(0, 0), b.rail(0, 0)):
            assert np.allclose(x, y, rtol=1e-12, atol=1e-9)


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_retime_meets_a_power_cap(tmp_path):
    window = 100.0
    with pda.run(TSP_CHIP, TSP_DECODE, window_ns=window, thermal=False) as r:
        cap = 0.8 * r.power["peak_window_w"]
    rt = pda.retime(TSP_CHIP, TSP_DECODE, power_cap_w=cap, window_ns=window)
    head, rows = read_rows(TSP_DECODE)
    col = head.index("start")
    old = np.array([int(row[col]) for row in rows], dtype=np.int64)
    assert rt.met and rt.starts.dtype == np.int64 and len(rt.starts) == len(old)
    assert (rt.starts >= old).all() and rt.moved == int((rt.starts != old).sum()) > 0
    assert rt.after["peak_window_w"] <= cap < rt.before["peak_window_w"]
    assert rt.slowdown >= 0 and rt.gap >= 0 and rt.after["makespan_cyc"] >= rt.lb_cyc
    # the re-timed schedule, written with the csv module (only `start` changes), analysed again
    new = tmp_path / "capped.csv"
    with open(new, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        for row, st in zip(rows, rt.starts):
            w.writerow(row[:col] + [str(st)] + row[col + 1:])
    with pda.run(TSP_CHIP, new, window_ns=window, thermal=False) as r2:
        assert r2.power["peak_window_w"] <= cap
        assert r2.summary["schedule"]["makespan_cycles"] == rt.after["makespan_cyc"]
    # the same starts as `analyzer retime` with the same budget
    out = tmp_path / "cmd.csv"
    analyzer("retime", TSP_CHIP, TSP_DECODE, "-o", str(out), "--power-cap-w", repr(cap), "--window-ns",
             repr(window), "--quiet")
    h2, rows2 = read_rows(out)
    assert [int(row[h2.index("start")]) for row in rows2] == rt.starts.tolist()
    # and Retime.write: the library's writer, byte for byte the command's file
    rt.write(tmp_path / "lib.csv")
    assert (tmp_path / "lib.csv").read_bytes() == out.read_bytes()
    rt.close()


def test_retime_write_refuses_the_inputs(tmp_path):
    """Retime.write never replaces the chip file (nor, by the library's
    writer, the schedule), through a link too: the command's rule."""
    chip, sched = tmp_path / "chip.json", tmp_path / "s.csv"
    shutil.copy(TSP_CHIP, chip)
    shutil.copy(TSP_DECODE, sched)
    os.symlink(chip, tmp_path / "link.json")
    before = chip.read_bytes()
    with pda.retime(str(chip), str(sched), power_cap_w=1000.0) as rt:
        for target in (chip, tmp_path / "link.json", sched):
            with pytest.raises(pda.Error, match="refusing to overwrite") as e:
                rt.write(str(target))
            assert e.value.code == pda.EINPUT
        rt.write(str(tmp_path / "out.csv"))
    assert chip.read_bytes() == before and (tmp_path / "out.csv").exists()


def test_paths_with_a_nul_byte_are_refused():
    with pytest.raises(ValueError, match="null byte"):
        pda.run(TSP_CHIP + "\0x", TSP_DECODE)
    with pytest.raises(ValueError, match="null byte"):
        pda.retime(TSP_CHIP, TSP_DECODE + "\0x", power_cap_w=100.0)


def test_retime_errors():
    with pytest.raises(pda.Error, match="idle power") as e:
        pda.retime(TSP_CHIP, TSP_DECODE, power_cap_w=1.0)
    assert e.value.code == pda.EINFEASIBLE and e.value.result is None
    with pytest.raises(pda.Error, match="no budget") as e:
        pda.retime(TSP_CHIP, TSP_DECODE)
    assert e.value.code == pda.EINPUT


def test_status_codes_match_the_header():
    """pda's code constants are pda_status.h's numbers."""
    text = open(os.path.join(ROOT, "schedule-io", "pda_status.h")).read()
    codes = dict((k, int(v)) for k, v in re.findall(r"PDA_(\w+) = (\d+)", text))
    assert codes["ENOTMET"] == 6 and len(codes) >= 11, codes
    for name, value in codes.items():
        assert getattr(pda, name) == value, (name, getattr(pda, name, None), value)
    assert pda.EBUDGET_INTERNAL == codes["EINTERNAL"]


def test_retime_not_met_keeps_the_best_schedule(tmp_path):
    """A budget the search does not meet (a dI/dt limit one op's step alone
    breaks, which no proof covers): code ENOTMET, the best schedule kept."""
    s = tmp_path / "one.csv"
    s.write_text("id,unit,op,start,cycles\na,MXM.W0,matmul,0,200\n")
    with pytest.raises(pda.Error, match="not met") as e:
        pda.retime(TSP_CHIP, str(s), didt_a_per_ns=0.001)
    assert e.value.code == pda.ENOTMET
    r = e.value.result
    assert r is not None and list(r.starts) == [0]
    assert r.after["max_didt_a_per_ns"] > 0.001


def test_struct_layouts_match_the_headers(tmp_path):
    """sizeof and offsetof of every mirrored struct, from a C program built
    against the headers, equal ctypes'."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if not cc:
        pytest.skip("no C compiler")
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "pda.h"', 'int main(void) {']
    want = []
    for s in _capi.STRUCTS:
        n = s.__name__
        lines.append('printf("%%s %%zu\\n", "%s", sizeof(%s));' % (n, n))
        want.append("%s %d" % (n, _capi.ctypes.sizeof(s)))
        for f, _ in s._fields_:
            lines.append('printf("%%s %%zu\\n", "%s.%s", offsetof(%s, %s));' % (n, f, n, f))
            want.append("%s.%s %d" % (n, f, getattr(s, f).offset))
    lines += ["return 0;", "}"]
    (tmp_path / "layout.c").write_text("\n".join(lines) + "\n")
    incs = ["-I" + os.path.join(ROOT, d) for d in ("schedule-io", "analyzer", "thermal", "budgets")]
    p = subprocess.run([cc, "-std=c11", *incs, str(tmp_path / "layout.c"), "-o", str(tmp_path / "layout")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = subprocess.run([str(tmp_path / "layout")], capture_output=True, text=True, check=True).stdout.split("\n")
    assert got[:-1] == want
