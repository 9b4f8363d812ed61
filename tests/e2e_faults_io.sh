#!/bin/sh
# tests/e2e_faults_io.sh ANALYZER -- the readers under faults, end to end (run
# from the repository root). Inputs that are not regular files (a pipe, a
# FIFO, bash's process substitution) are read once and kept: retime writes
# the whole schedule back, errors keep their columns, and a chip reads from a
# pipe too.
set -u
A=$1
CHIP=samples/tsp/chip.json
S=samples/tsp/decode.csv
T=$(mktemp -d /tmp/pda_e2e_faults_io_XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { n=$((n + 1)); echo "ok $*"; }
# runs "$@" and puts its exit code in rc (in a pipeline, rc=$? after it:
# the parts of a pipeline run in subshells)
run() { "$@"; rc=$?; }

# ---- pipes and re-reading ----------------------------------------------
head -5 "$S" > "$T/five.csv"
run "$A" retime "$CHIP" "$T/five.csv" -o "$T/want.csv" --power-cap-w 150 --quiet
[ "$rc" = 0 ] && [ -s "$T/want.csv" ] || fail "retime of a 5-line file: exit $rc"
# a pipe: the same file as from the regular file
head -5 "$S" | "$A" retime "$CHIP" /dev/stdin -o "$T/pipe.csv" --power-cap-w 150 --quiet; rc=$?
[ "$rc" = 0 ] || fail "retime from a pipe: exit $rc"
cmp -s "$T/pipe.csv" "$T/want.csv" || fail "retime from a pipe wrote $(wc -c < "$T/pipe.csv") bytes, want $(wc -c < "$T/want.csv")"
ok "retime from a pipe writes the whole schedule"
# a FIFO, written by another process while the command reads it
mkfifo "$T/fifo"
head -5 "$S" > "$T/fifo" &
run "$A" retime "$CHIP" "$T/fifo" -o "$T/fifo.csv" --power-cap-w 150 --quiet
wait
[ "$rc" = 0 ] && cmp -s "$T/fifo.csv" "$T/want.csv" || fail "retime from a FIFO: exit $rc"
ok "retime from a FIFO"
# bash's process substitution (/dev/fd/N, a pipe), where bash is installed
if command -v bash >/dev/null 2>&1; then
    run bash -c '"$1" retime "$2" <(head -5 "$3") -o "$4" --power-cap-w 150 --quiet' sh "$A" "$CHIP" "$S" "$T/ps.csv"
    [ "$rc" = 0 ] && cmp -s "$T/ps.csv" "$T/want.csv" || fail "retime from <(...): exit $rc"
    ok "retime from process substitution"
else
    echo "skip process substitution: no bash"
fi
# a piped schedule's errors have their column: while reading, and from the
# checks after it (a busy unit)
printf 'id,unit,op,start,cycles\na,MXM.W0,matmul,x,1\n' | "$A" check "$CHIP" /dev/stdin 2>"$T/err"; rc=$?
[ "$rc" = 2 ] && [ "$(head -n 1 "$T/err")" = "/dev/stdin:2:17: 'start' must be a whole number of cycles >= 0, not 'x'" ] ||
    fail "piped error: exit $rc, $(head -n 1 "$T/err")"
printf 'id,unit,op,start,cycles\na,MXM.W0,matmul,0,10\nb,MXM.W0,matmul,5,10\n' | "$A" check "$CHIP" /dev/stdin 2>"$T/err"; rc=$?
[ "$rc" = 2 ] && [ "$(head -n 1 "$T/err")" = "/dev/stdin:3:17: unit 'MXM.W0' on chip 0 is busy with 'a' until 10; 'b' starts at 5" ] ||
    fail "piped verify error: exit $rc, $(head -n 1 "$T/err")"
ok "a piped schedule's errors have their column"
# the chip from a pipe, good and bad
run "$A" check /dev/stdin "$S" --quiet < "$CHIP"
[ "$rc" = 0 ] || fail "chip from a pipe: exit $rc"
sed 's/"clock_ghz": 0.9/"clock_ghz": -1/' "$CHIP" | "$A" check /dev/stdin "$S" 2>"$T/err"; rc=$?
[ "$rc" = 2 ] && grep -q '^/dev/stdin:4:16: clock_ghz: must be > 0, got -1$' "$T/err" || fail "bad chip from a pipe: exit $rc, $(cat "$T/err")"
ok "the chip from a pipe"

echo "e2e_faults_io: $n passed, 0 failed"
