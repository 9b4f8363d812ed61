#!/usr/bin/env python3
"""failalloc_sweep.py FAILALLOC_BINARY STRIDE -- the failing-allocator sweep
(docs/testing.md), run by tests/e2e_failalloc.sh from the repository root.

For each command below: one normal run of the failalloc build counts the
allocation points N (PDA_ALLOC_COUNT) and keeps stdout and the output
files; then, for k = 1, 1 + STRIDE, ... up to N, and in two modes (only the
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
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

BIN = os.path.abspath(sys.argv[1])
STRIDE = int(sys.argv[2])
ROOT = os.getcwd()
TIMEOUT = 120


def p(rel):
    return os.path.join(ROOT, rel)


def run(args, cwd, fail=None, count=None):
    env = dict(os.environ)
    env.pop("PDA_FAIL_ALLOC", None)
    if fail:
        env["PDA_FAIL_ALLOC"] = fail
    if count:
        env["PDA_ALLOC_COUNT"] = count
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
                files[os.path.relpath(full, d)] = f.read()
    return files, sorted(dirs)


def one(case, mode, k, ref):
    """Runs case with point k failing (mode "k": that one only; "k+": it and
    every later one): (exit code, None) when the run is good, else (exit
    code, why)."""
    name, args, setup, out_dir = case
    work = tempfile.mkdtemp(prefix="pda_failalloc_")
    try:
        if setup:
            setup(work)
        before = tree(work)
        rc, out, err = run(args, work, fail=f"{k}{'+' if mode == 'k+' else ''}")
        files, dirs = tree(work)
        if rc == 4:
            if not err.strip():
                return rc, "exit 4 without a message"
            if out:
                return rc, "exit 4 with output on stdout: " + out[:200].decode(errors="replace")
            if files != before[0]:
                return rc, f"exit 4 left files: {sorted(set(files) - set(before[0]))[:5]}"
            # the -o folder itself may stay (the command makes it before the
            # work, as mkdir -p would), empty
            new = sorted(set(dirs) - set(before[1]) - {out_dir})
            if new:
                return rc, f"exit 4 left folders: {new[:5]}"
            return rc, None
        if rc == 0:
            if out != ref[0]:
                return rc, "exit 0 with other stdout"
            if files != ref[1]:
                diff = sorted(f for f in set(files) | set(ref[1]) if files.get(f) != ref[1].get(f))
                return rc, f"exit 0 with other files: {diff[:5]}"
            return rc, None
        return rc, f"exit {rc}: " + err[-800:].decode(errors="replace").strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sweep(case, pool):
    """Sweeps one command; True when every run was good. Prints its line."""
    name, args, setup, _ = case
    work = tempfile.mkdtemp(prefix="pda_failalloc_")
    t0 = time.monotonic()
    try:
        if setup:
            setup(work)
        cnt = os.path.join(work, ".count")
        rc, out, err = run(args, work, count=cnt)
        if rc != 0:
            print(f"FAIL {name}: the normal run exits {rc}: {err.decode(errors='replace')}")
            return False
        with open(cnt) as f:
            n, loaded = (int(x) for x in f.read().split())
        os.unlink(cnt)
        ref = (out, tree(work)[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # the points of cmd_load (the same code, first in every command) are
    # swept in check; the other commands from the first point after it
    first = loaded + 1
    jobs = [(mode, k) for mode in ("k", "k+") for k in range(first, n + 1, STRIDE)]
    res = list(pool.map(lambda j: one(case, j[0], j[1], ref), jobs))
    tally = {m: {} for m in ("k", "k+")}
    bad = []
    for (mode, k), (rc, why) in zip(jobs, res):
        if why:
            bad.append(f"  {mode} k={k}: {why}")
        else:
            tally[mode][rc] = tally[mode].get(rc, 0) + 1
    runs = len(jobs) // 2
    line = f"{name}: {n} allocation points"
    line += f" ({loaded} of them the load, swept in check)" if loaded else ""
    line += f", {runs} runs per mode (stride {STRIDE})"
    for m, label in (("k", "only the k-th fails"), ("k+", "the k-th and every later one fail")):
        line += f"; {label}: exit 4 {tally[m].get(4, 0)}, exit 0 (fallback) {tally[m].get(0, 0)}"
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


def main():
    stack_chip, tsp_chip = p("samples/stack/chip.json"), p("samples/tsp/chip.json")
    tmp = tempfile.mkdtemp(prefix="pda_failalloc_in_")
    try:
        stack = os.path.join(tmp, "stack.csv")
        tsp = os.path.join(tmp, "tsp.csv")
        for src, dst in ((p("samples/stack/decode.csv"), stack), (p("samples/tsp/decode.csv"), tsp)):
            with open(src) as f, open(dst, "w") as g:
                g.writelines(f.readlines()[:60])
        # the cap for retime: 80% of the peak power over 1 ns
        rc, out, err = run(["run", tsp_chip, tsp, "--no-thermal", "--json", "--window-ns", "1"], tmp)
        if rc != 0:
            print("FAIL: cannot measure the peak power: " + err.decode(errors="replace"))
            return 1
        cap = repr(0.8 * json.loads(out)["power"]["peak_window_w"])
        small = ["--grid", "8,8"]   # the thermal run on a small grid: FFTW plans a 64 x 64 one for long
        cases = [
            ("check stack", ["check", stack_chip, stack], None, None),
            ("check --json tsp", ["check", tsp_chip, tsp, "--json"], None, None),
            ("run stack -o --json", ["run", stack_chip, stack, "-o", "out", "--json"] + small, None, "out"),
            ("run tsp -o --waveforms --unit-maps",
             ["run", tsp_chip, tsp, "-o", "out", "--waveforms", "--unit-maps"] + small, None, "out"),
            ("retime tsp --power-cap-w", ["retime", tsp_chip, tsp, "-o", "out.csv", "--power-cap-w", cap], None, None),
            ("export vcd", ["export", tsp_chip, tsp, "--format", "vcd", "-o", "out.vcd"], None, None),
            ("export perfetto", ["export", tsp_chip, tsp, "--format", "perfetto", "-o", "out.json"], None, None),
            ("export hotspot", ["export", stack_chip, stack, "--format", "hotspot", "-o", "out"], None, "out"),
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


if __name__ == "__main__":
    sys.exit(main())
