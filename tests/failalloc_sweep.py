#!/usr/bin/env python3
"""failalloc_sweep.py FAILALLOC_BINARY STRIDE|sites|sites+STRIDE|first -- the failing-allocator
sweep (docs/testing.md), run by tests/e2e_failalloc.sh from the repository
root.

For each command below: one normal run of the failalloc build counts the
allocation points N (PDA_ALLOC_COUNT) and keeps stdout and the output
files; then, for k = 1, 1 + STRIDE, ... up to N (with "sites": the first
and the last point of each allocation site, as the normal run's
PDA_ALLOC_SITES names them, and for the second mode only the first;
"sites+STRIDE": those and every STRIDE-th; "first": each site's first
point), and in two modes (only the
k-th point fails: PDA_FAIL_ALLOC=k; the k-th and every later one fail:
PDA_FAIL_ALLOC=k+), the command runs again in a fresh folder. Every run
must
  - exit 4 with a message on stderr, nothing on stdout and nothing written:
    the -o folder empty, no OUT file, no temporary file anywhere in the
    run's folder; or
  - exit 0 (a documented fallback, e.g. a thread that could not start) with
    stdout and every output file byte for byte those of the normal run;
  - and finish within the time limit (no hang). A crash, a sanitizer report
    (ASan aborts; LeakSanitizer too, with abort_on_error=1) or any other exit
    code fails.
Each run's folder is its working directory and the outputs are named
relative to it, so stdout (which names them) is the same from run to run.
Two runs at a time (the machine has two cores). Prints per command the
number of points and the outcomes, and up to 10 bad runs; exits 1 when a
command had one. PDA_FAILALLOC_ONLY=TEXT sweeps only the commands whose
name holds TEXT."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

BIN = os.path.abspath(sys.argv[1])
# "sites": the first and last point of each site; "N": every N-th point;
# "sites+N": both; "first": the first point of each site
FIRST = sys.argv[2] == "first"
SITES = sys.argv[2].startswith("sites") or FIRST
STRIDE = int(sys.argv[2].split("+")[1]) if "+" in sys.argv[2] else 0 if SITES else int(sys.argv[2])
ROOT = os.getcwd()
TIMEOUT = 120


def p(rel):
    return os.path.join(ROOT, rel)


# the thermal run's time in the summary and in run's text ("thermal run
# 0.02 s"): it differs from run to run
TIMING = re.compile(rb'(compute_s(?:&quot;|")?: )[-+.0-9eE]+')
TEXT_TIMING = re.compile(rb'(thermal run )[0-9.]+( s)')


def same(data):
    return TEXT_TIMING.sub(rb"\1T\2", TIMING.sub(rb"\1T", data))


def run(args, cwd, fail=None, count=None, sites=None):
    env = dict(os.environ)
    env.pop("PDA_FAIL_ALLOC", None)
    env.pop("PDA_ALLOC_SITES", None)
    if fail:
        env["PDA_FAIL_ALLOC"] = fail
    if count:
        env["PDA_ALLOC_COUNT"] = count
    if sites:
        env["PDA_ALLOC_SITES"] = sites
    try:
        r = subprocess.run([BIN] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return "hang", b"", b""


def tree(d):
    """Every file under d (relative path -> bytes) and every folder."""
    files, dirs = {}, []
    for base, ds, fs in os.walk(d):
        for x in ds:
            dirs.append(os.path.relpath(os.path.join(base, x), d))
        for x in fs:
            full = os.path.join(base, x)
            with open(full, "rb") as f:
                files[os.path.relpath(full, d)] = same(f.read())
    return files, sorted(dirs)


WORK = threading.local()   # each worker thread's folder, emptied after each run
ALL_WORK = []


def workdir():
    if not hasattr(WORK, "d"):
        WORK.d = tempfile.mkdtemp(prefix="pda_failalloc_")
        ALL_WORK.append(WORK.d)
    return WORK.d


def empty(d):
    for x in os.listdir(d):
        full = os.path.join(d, x)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


def one(case, mode, k, ref):
    """Runs case with point k failing (mode "k": that one only; "k+": it and
    every later one): (exit code, None) when the run is good, else (exit
    code, why)."""
    name, args, out_dir, _ = case
    work = workdir()
    rc, out, err = run(args, work, fail=f"{k}{'+' if mode == 'k+' else ''}")
    left = os.listdir(work)
    files, dirs = tree(work) if left else ({}, [])
    try:
        if rc == 4:
            if not err.strip():
                return rc, "exit 4 without a message"
            if out:
                return rc, "exit 4 with output on stdout: " + out[:200].decode(errors="replace")
            if files:
                return rc, f"exit 4 left files: {sorted(files)[:5]}"
            # the -o folder itself may stay (the command makes it before the
            # work, as mkdir -p would), empty
            new = sorted(set(dirs) - {out_dir})
            if new:
                return rc, f"exit 4 left folders: {new[:5]}"
            return rc, None
        if rc == 0:
            if same(out) != ref[0]:
                return rc, "exit 0 with other stdout"
            if files != ref[1]:
                diff = sorted(f for f in set(files) | set(ref[1]) if files.get(f) != ref[1].get(f))
                return rc, f"exit 0 with other files: {diff[:5]}"
            return rc, None
        return rc, f"exit {rc}: " + err[-800:].decode(errors="replace").strip()
    finally:
        if left:
            empty(work)


def sweep(case, pool):
    """Sweeps one command; True when every run was good. Prints its line."""
    name, args, _, whole = case
    work = tempfile.mkdtemp(prefix="pda_failalloc_")
    t0 = time.monotonic()
    try:
        cnt, sites_file = os.path.join(work, ".count"), os.path.join(work, ".sites")
        rc, out, err = run(args, work, count=cnt, sites=sites_file if SITES else None)
        out = same(out)
        if rc != 0:
            print(f"FAIL {name}: the normal run exits {rc}: {err.decode(errors='replace')}")
            return False
        with open(cnt) as f:
            n, loaded = (int(x) for x in f.read().split())
        os.unlink(cnt)
        if SITES:
            with open(sites_file) as f:
                site_of = f.read().splitlines()
            os.unlink(sites_file)
        ref = (out, tree(work)[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # loading the chip and the schedule (cmd_load) is the same code, first in
    # every command, and most of its points are per unit: it is swept whole
    # on a cut-down stacked chip, the sample chips' commands from the first
    # point after it
    first = 1 if whole else loaded + 1
    if SITES:
        # the first and the last point of each site (its two innermost frames
        # in pda's code): each site fails at least once, with the least and
        # the most of its kind already made
        ends = {}
        for k in range(first, n + 1):
            ends.setdefault(site_of[k - 1], [k, k])[1] = k
        strided = set(range(first, n + 1, STRIDE)) if STRIDE else set()
        ks = sorted({k for e in ends.values() for k in (e[:1] if FIRST else e)} | strided)
        # every later point failing too: from each site's first point (its
        # last one's cleanup is the first's with more made)
        ks_plus = sorted({e[0] for e in ends.values()} | strided)
    else:
        ks = ks_plus = range(first, n + 1, STRIDE)
    jobs = [("k", k) for k in ks] + [("k+", k) for k in ks_plus]
    res = list(pool.map(lambda j: one(case, j[0], j[1], ref), jobs))
    tally = {m: {} for m in ("k", "k+")}
    bad, fallbacks = [], []
    for (mode, k), (rc, why) in zip(jobs, res):
        if why:
            bad.append(f"  {mode} k={k}: {why}")
        else:
            tally[mode][rc] = tally[mode].get(rc, 0) + 1
            if rc == 0:
                fallbacks.append(f"{k}{'+' if mode == 'k+' else ''}")
    line = f"{name}: {n} allocation points"
    line += "" if whole else f" ({loaded} of them the load, swept on the small chip)"
    line += f", {len(ks)} + {len(ks_plus)} runs (" + ", ".join(([f"{len(ends)} sites"] if SITES else []) +
                                                    ([f"stride {STRIDE}"] if STRIDE else [])) + ")"
    for m, label in (("k", "only the k-th fails"), ("k+", "the k-th and every later one fail")):
        line += f"; {label}: exit 4 {tally[m].get(4, 0)}, exit 0 (fallback) {tally[m].get(0, 0)}"
    if fallbacks:
        line += f"; exit 0 at k = {', '.join(fallbacks[:8])}" + (", ..." if len(fallbacks) > 8 else "")
    line += f"; {time.monotonic() - t0:.1f} s"
    print(("FAIL " if bad else "") + line, flush=True)
    kinds = {}
    for b in bad:
        kinds.setdefault(b.split(": ", 1)[1][:70], []).append(b)
    for v in list(kinds.values())[:10]:
        print(v[0] + (f"\n    (and {len(v) - 1} more like it)" if len(v) > 1 else ""))
    if len(kinds) > 10:
        print(f"  ... and {len(kinds) - 10} more kinds of bad run")
    return not bad


def small_stack(tmp):
    """A cut-down stacked chip (two units of each class; every die, rail,
    op and layer of samples/stack/chip.json) and a schedule of its units'
    instructions among the sample's first 400 (deps on the others dropped):
    the load's code with a tenth of the sample's allocations."""
    with open(p("samples/stack/chip.json")) as f:
        chip = json.load(f)
    per, units = {}, []
    for u in chip["units"]:
        if per.get(u["class"], 0) < 2:
            per[u["class"]] = per.get(u["class"], 0) + 1
            units.append(u)
    chip["units"] = units
    names = {u["name"] for u in units}
    with open(p("samples/stack/decode.csv")) as f:
        lines = f.read().splitlines()[:400]
    head, rows = lines[0], [r.split(",") for r in lines[1:]]
    rows = [r for r in rows if r[1] in names][:40]
    ids = {r[0] for r in rows}
    for r in rows:
        r[6] = ";".join(d for d in r[6].split(";") if d and re.match(r"[^+=]*", d).group() in ids)
    chip_path, sched_path = os.path.join(tmp, "small_chip.json"), os.path.join(tmp, "small.csv")
    with open(chip_path, "w") as f:
        json.dump(chip, f, indent=1)
    with open(sched_path, "w") as f:
        f.write("\n".join([head] + [",".join(r) for r in rows]) + "\n")
    return chip_path, sched_path


def main():
    stack_chip, tsp_chip = p("samples/stack/chip.json"), p("samples/tsp/chip.json")
    tmp = tempfile.mkdtemp(prefix="pda_failalloc_in_")
    try:
        stack = os.path.join(tmp, "stack.csv")
        tsp = os.path.join(tmp, "tsp.csv")
        for src, dst in ((p("samples/stack/decode.csv"), stack), (p("samples/tsp/decode.csv"), tsp)):
            with open(src) as f, open(dst, "w") as g:
                g.writelines(f.readlines()[:60])
        small_chip, small = small_stack(tmp)
        # the cap for retime: 80% of the peak power over 1 ns
        rc, out, err = run(["run", tsp_chip, tsp, "--no-thermal", "--json", "--window-ns", "1"], tmp)
        if rc != 0:
            print("FAIL: cannot measure the peak power: " + err.decode(errors="replace"))
            return 1
        cap = repr(0.8 * json.loads(out)["power"]["peak_window_w"])
        # a sweep of one point on the small chip (its load swept above): the
        # point's chip from memory, its run, its re-timing (to a cap below the
        # idle power: the refusal's sites, and the row's; the search's are the
        # retime case's below), the three files
        sweep_file = os.path.join(tmp, "sweep.json")
        with open(sweep_file, "w") as f:
            json.dump({"format": "pda-sweep/1", "chip": small_chip, "schedules": [small],
                       "vary": {"rails[core].pdn.stages[die].c_f": [5e-6]},
                       "run": {"no_thermal": True, "bin_ns": 4}, "retime": {"power_cap_w": 1}}, f)
        # the thermal run on a small grid (FFTW plans a 64 x 64 one for long);
        # the runs in 4 ns bins (a quarter of the PDN kernel's taps at 1 ns,
        # which were a third to two thirds of each run under ASan) and the
        # stacked ones on the cut-down chip (the sample's 122 leaking units
        # cost O(n^3) a Newton step of the runaway factor): each reaches the
        # same allocation sites as on the sample chips at 1 ns
        grid, bins = ["--grid", "8,8"], ["--bin-ns", "4"]
        # (name, arguments, the -o folder, 1 when the load's points are swept too)
        cases = [
            ("check small stacked chip (the load)", ["check", small_chip, small], None, 1),
            ("check --json small stacked chip (the load)", ["check", small_chip, small, "--json"], None, 1),
            ("check stack", ["check", stack_chip, stack], None, 0),
            ("check --json tsp", ["check", tsp_chip, tsp, "--json"], None, 0),
            ("run small stacked chip --json", ["run", small_chip, small, "--json", "--bin-ns", "4"] + grid, None, 0),
            ("run small stacked chip --periodic -o (leakage, PNG marks)",
             ["run", small_chip, small, "--bin-ns", "4", "--periodic", "-o", "out", "--quiet"] + grid, "out", 0),
            ("run tsp -o --waveforms --unit-maps",
             ["run", tsp_chip, tsp, "-o", "out", "--waveforms", "--unit-maps"] + grid + bins, "out", 0),
            ("retime tsp --power-cap-w",
             ["retime", tsp_chip, tsp, "-o", "out.csv", "--power-cap-w", cap] + bins, None, 0),
            ("export vcd", ["export", tsp_chip, tsp, "--format", "vcd", "-o", "out.vcd"], None, 0),
            ("export perfetto", ["export", tsp_chip, tsp, "--format", "perfetto", "-o", "out.json"] + bins, None, 0),
            ("export hotspot", ["export", stack_chip, stack, "--format", "hotspot", "-o", "out"], "out", 0),
            ("sweep small stacked chip", ["sweep", sweep_file, "-o", "out", "--jobs", "1", "--quiet"], "out", 0),
        ]
        only = os.environ.get("PDA_FAILALLOC_ONLY", "")   # to sweep one command while debugging
        t0 = time.monotonic()
        ok = True
        with ThreadPoolExecutor(max_workers=2) as pool:
            for c in cases:
                if only in c[0]:
                    ok = sweep(c, pool) and ok
        print(f"sweep: {time.monotonic() - t0:.1f} s")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for d in ALL_WORK:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
