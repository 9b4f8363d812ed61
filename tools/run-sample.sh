#!/bin/sh
# The main job on the bundled sample (make run): the full analysis of a
# transformer decode step on the TSP-like chip, summary on stdout, every
# output file under out/sample/.
set -e
if bin/analyzer --help 2>/dev/null | grep -q '^  analyzer run'; then
    bin/analyzer run samples/tsp/chip.json samples/tsp/decode.csv -o out/sample
    echo "outputs: out/sample/"
else
    bin/analyzer check samples/tsp/chip.json samples/tsp/decode.csv
fi
