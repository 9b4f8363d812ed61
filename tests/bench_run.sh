#!/bin/sh
# End-to-end benchmark: `analyzer check` and `analyzer run --no-thermal` on a
# generated schedule of $PDA_BENCH_OPS instructions (default 10^7), and `run`
# on two 4-chip 3-rail ones of $PDA_BENCH_OPS3 (default 2x10^6), against the
# time libcsv alone takes to parse the same file; peak memory from
# /usr/bin/time. The file is generated once into $PDA_BENCH_DIR (default
# /tmp/pda_bench) and reused.
set -e
n=${PDA_BENCH_OPS:-10000000}
dir=${PDA_BENCH_DIR:-/tmp/pda_bench}
mkdir -p "$dir"
chip=samples/tsp/chip.json
f="$dir/gen_$n.csv"
[ -f "$f" ] || bin/schedgen "$chip" -o "$f" --ops "$n" --seed 1 --kind mixed
echo "schedule: $f ($(wc -c < "$f") bytes, $n instructions)"
# The three are measured in turn, three rounds, and each keeps its best: on a
# shared machine the speed drifts over a minute, and measuring one after the
# other would compare a slow moment with a fast one.
once() {  # wall time and peak KB of one run: "seconds kb"
    /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > /dev/null
    cat "$dir/time"
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
parse=""; ct=""; rt=""; cm=0; rm_=0; rounds=""
for i in 1 2 3; do
    p=$(./build/rel/tests/bench_parse "$f" | awk '{print $2}')
    parse=$(min "$p" "$parse")
    set -- $(once bin/analyzer check "$chip" "$f")
    ct=$(min "$1" "$ct"); [ "$2" -gt "$cm" ] && cm=$2
    set -- $(once bin/analyzer run "$chip" "$f" --no-thermal --quiet)
    rt=$(min "$1" "$rt"); [ "$2" -gt "$rm_" ] && rm_=$2
    rounds="$rounds $(ratio "$1" "$p")x"
done
echo "libcsv parse only:        ${parse} s"
echo "analyzer check:           ${ct} s  ($(ratio "$ct" "$parse")x parse)  peak $(($cm / 1024)) MB"
echo "analyzer run --no-thermal: ${rt} s  ($(ratio "$rt" "$parse")x parse)  peak $(($rm_ / 1024)) MB"
echo "  run / parse in each round (the two a few seconds apart):$rounds"

# Many rail-bins per instruction: 4 chips of the 3-rail sample, 2x10^6
# instructions, where the per-bin passes (current, droop, events, spectrum)
# outweigh the parse: --kind decode (bursty, ~9 ms: 1.1x10^8 rail-bins, the
# case as the sweeps-and-systems issue states it) and --kind mixed (~22 ms:
# 2.6x10^8 rail-bins).
n3=${PDA_BENCH_OPS3:-2000000}
chip3=samples/rails3/chip.json
for kind in decode mixed; do
    case $kind in decode) f3="$dir/gen4x3d_$n3.csv" ;; *) f3="$dir/gen4x3_$n3.csv" ;; esac
    [ -f "$f3" ] || bin/schedgen "$chip3" -o "$f3" --ops "$n3" --seed 1 --kind $kind --chips 4
    parse=""; rt=""; rm_=0
    for i in 1 2 3; do
        p=$(./build/rel/tests/bench_parse "$f3" | awk '{print $2}')
        parse=$(min "$p" "$parse")
        set -- $(once bin/analyzer run "$chip3" "$f3" --no-thermal --quiet)
        rt=$(min "$1" "$rt"); [ "$2" -gt "$rm_" ] && rm_=$2
    done
    rb=$(bin/analyzer run "$chip3" "$f3" --no-thermal --json |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3g" % (len(d["rails"]) * d["schedule"]["makespan_ns"] / d["power"]["bin_ns"]))')
    echo "4 chips x 3 rails, --kind $kind, $n3 instructions ($(wc -c < "$f3") bytes), $rb rail-bins:"
    echo "libcsv parse only:        ${parse} s"
    echo "analyzer run --no-thermal: ${rt} s  ($(ratio "$rt" "$parse")x parse)  peak $(($rm_ / 1024)) MB"
done
