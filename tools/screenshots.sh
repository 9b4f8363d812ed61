#!/bin/sh
# make screenshots: PNGs of report.html in headless Chromium for docs/report.md
# -- the TSP decode (the whole page), the stacked prefill zoomed to its worst
# event (#event=0), and a generated 10^6-instruction run. The runs go to
# build/shots/; the PNGs to docs/.
set -eu
B=$(sh tests/browser/find.sh) || { echo "screenshots: no chromium (make deps installs it)" >&2; exit 1; }
O=build/shots
rm -rf "$O"
mkdir -p "$O"
bin/analyzer run samples/tsp/chip.json samples/tsp/decode.csv -o "$O/tsp" --quiet
bin/analyzer run samples/stack/chip.json samples/stack/prefill.csv -o "$O/stack" --quiet
bin/schedgen samples/tsp/chip.json -o "$O/1e6.csv" --ops 1000000
bin/analyzer run samples/tsp/chip.json "$O/1e6.csv" -o "$O/1e6" --quiet
# shot PAGE[#FRAGMENT] PNG HEIGHT
shot() {
    "$B" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir="$O/profile" \
        --window-size=1280,"$3" --virtual-time-budget=30000 --screenshot="$2" "file://$(pwd)/$1" 2>/dev/null
    [ -s "$2" ] || { echo "screenshots: $2 not written" >&2; exit 1; }
    echo "screenshots: $2"
}
shot "$O/tsp/report.html" docs/report-tsp-decode.png 5900
shot "$O/stack/report.html#event=0" docs/report-stack-prefill-event.png 2300
shot "$O/1e6/report.html" docs/report-1e6.png 1900
