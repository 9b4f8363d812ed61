#!/usr/bin/env python3
"""check_retime.py ORIGINAL.csv RETIMED.csv -- an independent check of a
re-timed schedule (it shares no code with pda): the same header and rows in
the same order, every field but `start` byte for byte; every start at or
after the original; every dependency of the three kinds (`ID` after ID ends,
`ID+N` at least N after ID starts, `ID=N` exactly N after); and on each
(chip, unit) the original order kept with no two instructions overlapping.
Prints the first breach and exits 1, or prints `ok N` and exits 0."""
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def main(orig_path, new_path):
    head, orig = load(orig_path)
    head2, new = load(new_path)
    if head != head2:
        return "header differs: %r against %r" % (head2, head)
    if len(orig) != len(new):
        return "%d rows against %d" % (len(new), len(orig))
    col = {name: k for k, name in enumerate(head)}
    s, c = col["start"], col["cycles"]
    for n, (a, b) in enumerate(zip(orig, new), start=2):
        if len(a) != len(b) or any(x != y for k, (x, y) in enumerate(zip(a, b)) if k != s):
            return "line %d: a field other than start changed" % n
        if int(b[s]) < int(a[s]):
            return "line %d: start %s is before the original %s" % (n, b[s], a[s])
    chip = (lambda r: r[col["chip"]].strip() or "0") if "chip" in col else (lambda r: "0")
    start = [int(r[s]) for r in new]
    cyc = [int(r[c]) for r in new]
    where = {(chip(r), r[col["id"]]): k for k, r in enumerate(new)}
    if "deps" in col:
        for k, r in enumerate(new):
            for d in filter(None, (x.strip() for x in r[col["deps"]].split(";"))):
                if "=" in d:
                    ref, lag = d.rsplit("=", 1)
                    j = where[(chip(r), ref)]
                    ok = start[k] == start[j] + int(lag)
                elif "+" in d and d.rsplit("+", 1)[1].isdigit():
                    ref, lag = d.rsplit("+", 1)
                    j = where[(chip(r), ref)]
                    ok = start[k] >= start[j] + int(lag)
                else:
                    j = where[(chip(r), d)]
                    ok = start[k] >= start[j] + cyc[j]
                if not ok:
                    return "line %d: dep %s broken" % (k + 2, d)
    units = {}
    for k, r in enumerate(orig):
        units.setdefault((chip(r), r[col["unit"]]), []).append((int(r[s]), k))
    for key, ops in units.items():
        ops.sort()
        for (_, p), (_, q) in zip(ops, ops[1:]):
            if start[q] < start[p] + cyc[p]:
                return "unit %s of chip %s: line %d starts at %d, before line %d ends at %d" % (
                    key[1], key[0], q + 2, start[q], p + 2, start[p] + cyc[p])
    print("ok %d" % len(new))
    return None


if __name__ == "__main__":
    err = main(sys.argv[1], sys.argv[2])
    if err:
        print("check_retime: " + err)
        sys.exit(1)
