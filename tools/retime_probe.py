#!/usr/bin/python3
"""retime_probe.py CHIP SCHEDULE CAP_FRACTION [OPS] -- a second, independent
look at how far a power cap must stretch a schedule: is the re-timer's gap to
its lower bound the scheduler's or the bound's?

A simplified model, shared with nothing in pda: each instruction draws its
op's current_a x activity x vdd as a flat plateau over its cycles (no ramps,
one rail), the idle power is the units' idle_a x vdd, and the cap holds on
every cycle (a per-cycle plateau under the cap keeps every bin and window of
pda's exact model under it too). CAP_FRACTION is of the plateau model's own
peak. OPS, a comma-separated list of op names, keeps only their power (the
others still take time on their units), so one can ask what e.g. the matmuls
alone force. Instructions tied by exact deps (`ID=N`) move together; every
other dep and each unit's order are difference constraints; groups are
placed one at a time (serial list scheduling with eviction of a placed
successor whose constraint breaks, as budgets/budget_sched.c does) in the
start order and the critical order, at the first delay where every cycle of
the group fits under the cap.

Prints the model's energy bound, the makespan each order reaches, and, when
OPS is given, the concurrency bound: with at most k instructions of OPS
fitting under the cap together, their cycles over k. Needs python3-numpy
(Debian's /usr/bin/python3)."""
import collections
import csv
import heapq
import json
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def load(path):
    """Rows, each row's group, the group count, the difference constraints
    {(h, g): w} meaning d_g >= d_h + w, starts and cycles."""
    rows = list(csv.DictReader(open(path, newline="")))
    n = len(rows)
    key = {(r.get("chip", "") or "0", r["id"]): k for k, r in enumerate(rows)}
    st = [int(r["start"]) for r in rows]
    cy = [int(r["cycles"]) for r in rows]
    par = list(range(n))

    def find(a):
        while par[a] != a:
            par[a] = par[par[a]]
            a = par[a]
        return a

    cons = []
    for k, r in enumerate(rows):
        ch = r.get("chip", "") or "0"
        for d in filter(None, (x.strip() for x in (r.get("deps") or "").split(";"))):
            if "=" in d:
                par[find(key[(ch, d.rsplit("=", 1)[0])])] = find(k)
            elif "+" in d and d.rsplit("+", 1)[1].isdigit():
                ref, lag = d.rsplit("+", 1)
                cons.append((key[(ch, ref)], k, int(lag)))
            else:
                j = key[(ch, d)]
                cons.append((j, k, cy[j]))
    by_unit = collections.defaultdict(list)
    for k, r in enumerate(rows):
        by_unit[(r.get("chip", "") or "0", r["unit"])].append(k)
    for ks in by_unit.values():
        ks.sort(key=lambda k: st[k])
        cons += [(a, b, cy[a]) for a, b in zip(ks, ks[1:])]
    ids = {}
    g = [ids.setdefault(find(k), len(ids)) for k in range(n)]
    edges = collections.defaultdict(lambda: -(1 << 62))
    for j, k, c in cons:
        if g[j] != g[k]:
            edges[(g[j], g[k])] = max(edges[(g[j], g[k])], st[j] + c - st[k])
    return rows, g, len(ids), dict(edges), st, cy


def sccs(ng, outs):
    """Strongly connected sets (iterative Tarjan): comp[v]."""
    index, low, comp, stack, on, cnt = {}, {}, [None] * ng, [], set(), 0
    for v0 in range(ng):
        if v0 in index:
            continue
        work = [(v0, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = cnt
                cnt += 1
                stack.append(v)
                on.add(v)
            nb, deeper = outs[v], False
            while i < len(nb):
                w = nb[i][0]
                i += 1
                if w not in index:
                    work += [(v, i), (w, 0)]
                    deeper = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if deeper:
                continue
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = v
                    if w == v:
                        break
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return comp


def main():
    chip_path, sched_path, frac = sys.argv[1], sys.argv[2], float(sys.argv[3])
    keep = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else None
    chip = json.load(open(chip_path))
    cur = {o["op"]: o["current_a"] for o in chip["ops"]}
    vdd = chip["rails"][0]["vdd_v"]
    rows, g, ng, edges, st, cy = load(sched_path)
    full = [cur[r["op"]] * float(r.get("activity") or 1) * vdd for r in rows]
    pw = [p if keep is None or r["op"] in keep else 0.0 for p, r in zip(full, rows)]
    t0 = max(s + n for s, n in zip(st, cy))
    prof = np.zeros(t0 + 1)
    for k in range(len(rows)):
        prof[st[k]:st[k] + cy[k]] += full[k]
    idle = sum(u.get("idle_a", 0) for u in chip["units"]) * vdd
    budget = (prof.max() + idle) * frac - idle
    energy = sum(p * n for p, n in zip(pw, cy))
    print("idle %.1f W, peak %.1f W, cap %.1f W: %.1f W for the ops; original makespan %d cycles"
          % (idle, prof.max() + idle, budget + idle, budget, t0))
    print("energy bound: %.0f cycles" % (energy / budget))
    if keep:
        sizes = sorted(p for p in pw if p > 0)
        k = 0
        while k < len(sizes) and sum(sizes[:k + 1]) <= budget:
            k += 1
        busy = sum(n for n, p in zip(cy, pw) if p > 0)
        print("at most %d of %s fit together: %.0f cycles" % (k, ",".join(sorted(keep)), busy / max(k, 1)))
    members = collections.defaultdict(list)
    for k in range(len(rows)):
        members[g[k]].append(k)
    gstart = [min(st[k] for k in members[x]) for x in range(ng)]
    outs, ins = collections.defaultdict(list), collections.defaultdict(list)
    for (h, x), w in edges.items():
        outs[h].append((x, w))
        ins[x].append((h, w))
    comp = sccs(ng, outs)
    tail = [max(st[k] + cy[k] for k in members[x]) - gstart[x] for x in range(ng)]
    for _ in range(ng):   # longest path to the end, over every constraint
        changed = False
        for (h, x), w in edges.items():
            if w + gstart[x] - gstart[h] + tail[x] > tail[h]:
                tail[h] = w + gstart[x] - gstart[h] + tail[x]
                changed = True
        if not changed:
            break
    for name, key in (("start", gstart), ("critical", [t0 - tail[x] for x in range(ng)])):
        profile = np.zeros(8 * t0 + 100000)
        d, lo = [None] * ng, [0] * ng

        def counts(x, h):
            return comp[h] != comp[x] or (key[h], h) < (key[x], x)

        need = [sum(1 for h, _ in ins[x] if counts(x, h)) for x in range(ng)]
        ready = [(key[x], x) for x in range(ng) if need[x] == 0]
        heapq.heapify(ready)
        evictions = 0
        while ready:
            _, x = heapq.heappop(ready)
            if d[x] is not None:
                continue
            y = lo[x]
            while True:   # the first delay from y where every member fits, 4096 at a time
                ok = np.ones(4096, bool)
                for k in members[x]:
                    a = st[k] + y
                    ok &= sliding_window_view(profile[a:a + 4096 + cy[k] - 1], cy[k]).max(axis=1) <= budget - pw[k] + 1e-9
                if ok.any():
                    y += int(np.argmax(ok))
                    break
                y += 4096
            d[x] = y
            for k in members[x]:
                profile[st[k] + y:st[k] + y + cy[k]] += pw[k]
            for z, w in outs[x]:
                if d[z] is None:
                    lo[z] = max(lo[z], y + w)
                    if counts(z, x):
                        need[z] -= 1
                        if need[z] == 0:
                            heapq.heappush(ready, (key[z], z))
                elif d[z] < y + w:
                    evictions += 1
                    for k in members[z]:
                        profile[st[k] + d[z]:st[k] + d[z] + cy[k]] -= pw[k]
                    d[z], lo[z] = None, y + w
                    heapq.heappush(ready, (key[z], z))
        assert all(d[h] + w <= d[x] for (h, x), w in edges.items())
        mk = max(st[k] + d[g[k]] + cy[k] for k in range(len(rows)))
        print("list scheduling, %s order: %d cycles (%d evictions)" % (name, mk, evictions))


if __name__ == "__main__":
    main()
