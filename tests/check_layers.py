#!/usr/bin/env python3
"""check_layers.py -- the library's modules depend on each other one way:

    schedule-io  <-  analyzer core  <-  thermal, budgets  <-  pipeline  <-  sweep  <-  command line

A file may include the headers of its own module and of the modules below
it, never of one above or beside it (thermal and budgets do not include each
other). Prints every include against the direction with its file:line and
exits 1 when there is one. Run from the repository root."""
import os
import re
import sys

LEVEL = {"schedule-io": 0, "core": 1, "thermal": 2, "budgets": 2, "pipeline": 3, "sweep": 4, "cli": 5}


def module(path):
    """The module of a source or header path, or None (tests, samples)."""
    top, name = path.split("/", 1)[0], os.path.basename(path)
    if top == "schedule-io":
        return "schedule-io"
    if top in ("thermal", "budgets", "sweep"):
        return top
    if path.startswith("analyzer/cli/"):
        return "cli"
    if top == "analyzer":
        return "pipeline" if name == "pda.h" or name.startswith("pipeline") else "core"
    return None


def main():
    headers = {}
    files = []
    for top in ("schedule-io", "analyzer", "thermal", "budgets", "sweep"):
        for root, _, names in os.walk(top):
            for n in sorted(names):
                p = os.path.join(root, n)
                if n.endswith(".h"):
                    headers.setdefault(n, p)
                if n.endswith((".c", ".h")):
                    files.append(p)
    bad = []
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for p in files:
        m = module(p)
        with open(p, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                hit = inc.match(line)
                if not hit:
                    continue
                h = headers.get(os.path.basename(hit.group(1)))
                if h is None:
                    bad.append("%s:%d: includes \"%s\", which is no header of the library" % (p, ln, hit.group(1)))
                    continue
                hm = module(h)
                if hm == m:
                    continue
                if LEVEL[hm] >= LEVEL[m]:
                    bad.append("%s:%d: %s includes %s (%s): against the direction" % (p, ln, m, h, hm))
    for b in bad:
        print(b)
    print("check_layers: %d files, %d includes against the direction" % (len(files), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
