#!/bin/sh
# End-to-end benchmark: `analyzer check` and `analyzer run --no-thermal` on a
# generated schedule of $PDA_BENCH_OPS instructions (default 10^7) against the
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
best() {  # best of 3 wall times; prints "seconds peak_kb"
    b=""; m=0
    for i in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > /dev/null
        read -r t k < "$dir/time"
        if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then b=$t; fi
        [ "$k" -gt "$m" ] && m=$k
    done
    echo "$b $m"
}
parse=$(./build/rel/tests/bench_parse "$f" | awk '{print $2}')
for i in 1 2; do
    p2=$(./build/rel/tests/bench_parse "$f" | awk '{print $2}')
    awk -v a="$p2" -v b="$parse" 'BEGIN { exit !(a < b) }' && parse=$p2
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
set -- $(best bin/analyzer check "$chip" "$f")
ct=$1; cm=$2
set -- $(best bin/analyzer run "$chip" "$f" --no-thermal --quiet)
rt=$1; rm_=$2
echo "libcsv parse only:        ${parse} s"
echo "analyzer check:           ${ct} s  ($(ratio "$ct" "$parse")x parse)  peak $(($cm / 1024)) MB"
echo "analyzer run --no-thermal: ${rt} s  ($(ratio "$rt" "$parse")x parse)  peak $(($rm_ / 1024)) MB"
