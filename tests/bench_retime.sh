#!/bin/sh
# Re-timing benchmark: `analyzer retime` on 10^6 instructions of
# `schedgen --kind mixed` on the sample TSP chip ($PDA_BENCH_RETIME_OPS to
# change the count), under a power cap at 80% of the unconstrained peak
# window power, for windows of 1 and 100 ns. Prints the wall time (best of
# two), the peak memory (/usr/bin/time), the slowdown and the gap to the
# lower bound. Target: under 10 s and 1 GB each on the 2-core machine. The
# schedule is generated once into $PDA_BENCH_DIR (default /tmp/pda_bench).
set -e
n=${PDA_BENCH_RETIME_OPS:-1000000}
dir=${PDA_BENCH_DIR:-/tmp/pda_bench}
mkdir -p "$dir"
chip=samples/tsp/chip.json
f="$dir/mixed_$n.csv"
[ -f "$f" ] || bin/schedgen "$chip" -o "$f" --ops "$n" --seed 1 --kind mixed
echo "schedule: $f ($n instructions, schedgen --kind mixed)"
for w in 1 100; do
    p=$(bin/analyzer run "$chip" "$f" --no-thermal --json --window-ns "$w" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["power"]["peak_window_w"])')
    cap=$(awk -v p="$p" 'BEGIN { printf "%.6f", 0.8 * p }')
    best=""; kb=0
    for i in 1 2; do
        /usr/bin/time -f "%e %M" -o "$dir/time" bin/analyzer retime "$chip" "$f" -o "$dir/retimed.csv" \
            --power-cap-w "$cap" --window-ns "$w" --json > "$dir/retime.json"
        set -- $(cat "$dir/time")
        best=$(awk -v a="$1" -v b="$best" 'BEGIN { print (b == "" || a < b) ? a : b }')
        [ "$2" -gt "$kb" ] && kb=$2
    done
    python3 - "$dir/retime.json" "$w" "$cap" "$best" "$kb" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("retime window %s ns, cap %.1f W (80%% of peak): %s s, peak %d MB, slowdown %.2f%%, gap %.2f%% "
      "(lower bound %d cycles, makespan %d -> %d)" % (sys.argv[2], float(sys.argv[3]), sys.argv[4],
      int(sys.argv[5]) // 1024, 100 * d["slowdown"], 100 * d["gap"], d["lower_bound"]["makespan_cycles"],
      d["before"]["makespan_cycles"], d["after"]["makespan_cycles"]))
PY
done
