#!/bin/sh
# report.html in a real browser ($1 = analyzer): the TSP decode, the stacked
# prefill and a generated 2*10^5-instruction run, each opened in headless
# Chromium (tests/browser/open.sh). Checks: no console message and no script
# error; every plot drawn (the page marks each box data-drawn and sets
# <body data-ready>); #event=K zooms every waveform to event K (data-xrange
# narrows to a range holding the event) and draws the bins of its detail
# window (data-detail), for the most severe droop event and the most severe
# dI/dt event; the page holds no external reference. Prints each report's
# size and the time Chromium took to open it.
# Without Chromium the test fails (make deps installs it), unless
# PDA_NO_BROWSER=1, when it says what it skipped.
set -eu
A=$1
B=$(sh tests/browser/find.sh) || {
    if [ "${PDA_NO_BROWSER:-0}" = 1 ]; then
        echo "e2e_report: PDA_NO_BROWSER=1 and no chromium: browser checks skipped"
        exit 0
    fi
    echo "e2e_report: FAIL: no chromium to open report.html in (make deps installs Debian's chromium;" \
         "PDA_NO_BROWSER=1 skips these checks)" >&2
    exit 1
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
bin/schedgen samples/tsp/chip.json -o "$T/gen.csv" --ops 200000 --seed 3
$A run samples/tsp/chip.json samples/tsp/decode.csv -o "$T/tsp" --quiet
$A run samples/stack/chip.json samples/stack/prefill.csv -o "$T/stack" --quiet
$A run samples/tsp/chip.json "$T/gen.csv" -o "$T/gen" --quiet
n=0
for r in tsp stack gen; do
    page="$T/$r/report.html"
    # the page as the browser leaves it, and what it logged
    t0=$(date +%s%N)
    TMPDIR=$T sh tests/browser/open.sh "$B" "$page" "" > "$T/$r.dom" 2> "$T/$r.log"
    t1=$(date +%s%N)
    # events to zoom to: the first (most severe) droop and dI/dt events
    python3 - "$page" > "$T/$r.ev" <<'PY'
import json, re, sys
h = open(sys.argv[1]).read()
d = json.loads(re.search(r'id="pda-data">(.*?)</script>', h, re.S).group(1))
for kind in (0, 1):
    k = next((i for i, e in enumerate(d["events"]) if e["kind"] == kind), None)
    if k is not None:
        e = d["events"][k]
        print(k, e["t0"], e["t1"], d["n_bins"] * d["bin_ns"])
PY
    [ -s "$T/$r.ev" ] || { echo "e2e_report: $r: no event to zoom to" >&2; exit 1; }
    while read -r k t0e t1e tend; do
        TMPDIR=$T sh tests/browser/open.sh "$B" "$page" "#event=$k" > "$T/$r.ev$k.dom" 2>> "$T/$r.log"
        python3 - "$T/$r.ev$k.dom" "$k" "$t0e" "$t1e" "$tend" <<'PY'
import re, sys
dom, k, t0, t1, tend = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
body = re.search(r'<body([^>]*)>', open(dom).read()).group(1)
attr = dict(re.findall(r'data-([a-z]+)="([^"]*)"', body))
x0, x1 = map(float, attr["xrange"].split(","))
assert x0 <= t0 and x1 >= t1, ("event %s not in view" % k, x0, x1, t0, t1)
assert x1 - x0 < 0.5 * tend, ("event %s: the range did not narrow" % k, x0, x1, tend)
assert int(attr["detail"]) >= 1, ("event %s: no per-bin detail drawn" % k, attr)
assert attr["errors"] == "0", attr
PY
    done < "$T/$r.ev"
    python3 - "$T/$r.dom" "$T/$r.log" "$page" <<'PY'
import re, sys
dom, log, page = open(sys.argv[1]).read(), open(sys.argv[2]).read(), open(sys.argv[3]).read()
body = re.search(r'<body([^>]*)>', dom).group(1)
attr = dict(re.findall(r'data-([a-z]+)="([^"]*)"', body))
assert "ready" in attr, ("the page never got ready", body)
assert attr["errors"] == "0", re.search(r'<pre id="pda-errors">(.*?)</pre>', dom, re.S).group(1)
plots = int(attr["plots"])
assert plots >= 5 and attr["ready"] == attr["plots"], attr
boxes = re.findall(r'<div class="(?:heat )?plot"([^>]*)>', dom)
assert len(boxes) == plots and all('data-drawn="1"' in b for b in boxes), (len(boxes), plots)
assert dom.count("<canvas") >= plots, dom.count("<canvas")
msgs = [l for l in log.splitlines() if ":CONSOLE" in l]
assert not msgs, msgs[:5]
assert not re.search(r'<(?:script|link|img)[^>]*(?:src|href)=', page), "external reference"
PY
    printf 'e2e_report: %s: %s bytes, opened in %s ms\n' "$r" "$(wc -c < "$page")" $(((t1 - t0) / 1000000))
    n=$((n + 1))
done
echo "e2e_report: $n reports open in Chromium, plots drawn, events zoom"
