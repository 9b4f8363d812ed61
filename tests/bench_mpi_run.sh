#!/bin/sh
# Benchmark of `analyzer run --no-thermal -o DIR` on a 64-chip system of
# $PDA_BENCH_OPS instructions (default 10^7) under mpirun -np 1, 2 and 4
# (docs/sweeps.md), beside the plain run: wall time of the whole mpirun, and
# per rank its wall time and peak memory (/usr/bin/time on each rank). The
# file is generated once into $PDA_BENCH_DIR (default /tmp/pda_bench) and
# reused. Skipped, saying so, without mpirun. On a machine with fewer cores
# than ranks the ranks share them (--oversubscribe): the time is then the
# CPU's, the memory per rank the figure to read.
set -e
if ! command -v mpirun >/dev/null 2>&1; then
    echo "no mpirun: bench_mpi_run skipped"
    exit 0
fi
n=${PDA_BENCH_OPS:-10000000}
dir=${PDA_BENCH_DIR:-/tmp/pda_bench}
mkdir -p "$dir"
chip=samples/tsp/chip.json
f="$dir/gen_${n}_64chips.csv"
[ -f "$f" ] || bin/schedgen "$chip" -o "$f" --ops "$n" --chips 64 --seed 1 --kind decode
echo "schedule: $f ($(wc -c < "$f") bytes, $n instructions, 64 chips)"
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
/usr/bin/time -f "%e %M" -o "$dir/time.plain" bin/analyzer run "$chip" "$f" --no-thermal --quiet -o "$dir/plain_out"
set -- $(cat "$dir/time.plain")
echo "plain run:     ${1} s, peak $(($2 / 1024)) MB"
for np in 1 2 4; do
    rm -f "$dir"/time.rank.*
    t0=$(now)
    mpirun --allow-run-as-root --oversubscribe -np "$np" sh -c \
        'exec /usr/bin/time -f "%e %M" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$dir/time.rank" \
        bin/analyzer run "$chip" "$f" --no-thermal --quiet -o "$dir/mpi_out"
    t1=$(now)
    ranks=""
    for r in $(seq 0 $((np - 1))); do
        set -- $(cat "$dir/time.rank.$r")
        ranks="$ranks  rank $r: $1 s, $(($2 / 1024)) MB;"
    done
    echo "mpirun -np $np: $(el "$t0" "$t1") s in all;$ranks"
done
rm -rf "$dir/mpi_out" "$dir/plain_out"
