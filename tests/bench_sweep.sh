#!/bin/sh
# Benchmark of `analyzer sweep`: 48 points (die decap x guardband x cooling x
# matmul current) of the TSP sample's decode schedule with the thermal run,
# on 1 and 2 threads, and on 2 MPI ranks of 1 thread when mpirun is there;
# wall time, best of $PDA_BENCH_ROUNDS (default 3) rounds taken in turn. The
# three must write the same sweep.csv.
set -e
dir=${PDA_BENCH_DIR:-/tmp/pda_bench}/sweep
rm -rf "$dir"
mkdir -p "$dir"
S=$PWD/samples
cat > "$dir/sweep.json" <<JSON
{"format": "pda-sweep/1", "chip": "$S/tsp/chip.json", "schedules": ["$S/tsp/decode.csv"],
 "vary": {"rails[core].pdn.stages[die].c_f": [1e-6, 2.5e-6, 5e-6, 1e-5],
          "rails[core].guardband_mv": [50, 60, 70],
          "thermal.h_top_w_m2k": [1e4, 2e4],
          "ops[MXM.matmul].current_a": [30, 40]}}
JSON
once() {  # wall seconds of one run
    /usr/bin/time -f "%e" -o "$dir/time" "$@" > /dev/null
    cat "$dir/time"
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
j1=""; j2=""; m2=""
mpi=""; command -v mpirun > /dev/null 2>&1 && mpi=1
for i in $(seq "${PDA_BENCH_ROUNDS:-3}"); do
    j1=$(min "$(once bin/analyzer sweep "$dir/sweep.json" -o "$dir/j1" --jobs 1 --quiet)" "$j1")
    j2=$(min "$(once bin/analyzer sweep "$dir/sweep.json" -o "$dir/j2" --jobs 2 --quiet)" "$j2")
    [ -n "$mpi" ] && m2=$(min "$(once mpirun --allow-run-as-root --oversubscribe -np 2 bin/analyzer sweep \
        "$dir/sweep.json" -o "$dir/m2" --jobs 1 --quiet)" "$m2")
done
cmp "$dir/j1/sweep.csv" "$dir/j2/sweep.csv"
[ -z "$mpi" ] || cmp "$dir/j1/sweep.csv" "$dir/m2/sweep.csv"
echo "sweep, 48 points x decode.csv (20,000 instructions, thermal on), $(nproc) CPUs:"
echo "  --jobs 1: $j1 s   --jobs 2: $j2 s   (speed-up $(awk -v a="$j1" -v b="$j2" 'BEGIN { printf "%.2f", a / b }'))"
[ -z "$mpi" ] || echo "  mpirun -np 2 --jobs 1: $m2 s (MPI start-up included)"
