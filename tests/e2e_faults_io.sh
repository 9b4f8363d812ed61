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

# ---- size limits: each an error with its position, in bounded memory ----
# Each command runs under a 1 GiB address-space limit and its peak RSS,
# read with /usr/bin/time, must stay under 400 MB; an infinite or huge
# input must fail fast, not grow. An AddressSanitizer build cannot start
# under that limit (it reserves terabytes of shadow) and doubles small
# allocations: it gets the RSS bound alone, 800 MB.
VLIM=""
MAXRSS_KB=800000
if { sh -c 'ulimit -v 1048576 && "$1" --help' sh "$A"; } >/dev/null 2>&1; then VLIM=1048576; MAXRSS_KB=400000; fi
TIME=""
[ -x /usr/bin/time ] && TIME=/usr/bin/time
# bounded CMD...: runs CMD (stdin passed on) and leaves its exit code in
# $T/rc and its peak RSS in KB in $T/rss (files: in a pipeline this runs in
# a subshell)
bounded() {
    rm -f "$T/rss" "$T/rc"
    if [ -n "$TIME" ]; then
        ( [ -n "$VLIM" ] && ulimit -v "$VLIM"; exec timeout 120 "$TIME" -f %M -o "$T/rss" "$@" )
    else
        ( [ -n "$VLIM" ] && ulimit -v "$VLIM"; exec timeout 120 "$@" )
    fi
    echo $? > "$T/rc"
}
# expect WHAT FIRST-LINE: the last bounded command exited 2 with that first
# line of stderr ($T/err), within the RSS bound
expect() {
    rc=$(cat "$T/rc")
    rss=$(tail -n 1 "$T/rss" 2>/dev/null || echo 0)
    case "$rss" in ''|*[!0-9]*) rss=0 ;; esac
    [ "$rc" = 2 ] || fail "$1: exit $rc, want 2 ($(head -c 300 "$T/err"))"
    got=$(head -n 1 "$T/err" | head -c 400)
    [ "$got" = "$2" ] || fail "$1: got '$got', want '$2'"
    [ "$rss" -lt "$MAXRSS_KB" ] || fail "$1: peak RSS $rss KB"
    ok "$1 (peak RSS ${rss} KB)"
}
# the chip: /dev/zero is not JSON, and is found out at its first byte
bounded "$A" check /dev/zero "$S" 2>"$T/err" </dev/null
expect "a chip from /dev/zero" "/dev/zero:1:1: invalid JSON: '[' or '{' expected near end of file"
# a chip over 64 MiB, from a pipe: at the first byte past the limit
python3 -c 'import sys; sys.stdout.write("{\"format\": \"pda-chip/1\", \"name\": \"" + "a" * (70 << 20) + "\"}")' > "$T/huge.json"
bounded "$A" check /dev/stdin "$S" 2>"$T/err" < "$T/huge.json"
expect "a chip over 64 MiB" "/dev/stdin:1:67108865: chip description longer than 67108864 bytes"
# a chip of too many values (jansson's memory, not the bytes, is the limit there)
python3 -c 'import sys; sys.stdout.write("{\"format\":\"pda-chip/1\",\"x\":[" + "{},\n" * 3000000 + "{}]}")' > "$T/many.json"
bounded "$A" check "$T/many.json" "$S" 2>"$T/err"
# counted at each '{' '[' ',' ':' outside strings, after the top value: 7 on
# line 1, then two a line, so the 2097153rd is the '{' that starts line 1048574
expect "a chip of too many values" "$T/many.json:1048574:1: more than 2097152 JSON values and keys"
# a rail's impedance table from /dev/zero: a line without end
python3 - "$CHIP" "$T/zchip.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
r = c["rails"][0]
c["rails"][0] = {"name": r["name"], "vdd_v": r["vdd_v"], "impedance_csv": "/dev/zero"}
json.dump(c, open(sys.argv[2], "w"), indent=1)
PY
bounded "$A" check "$T/zchip.json" "$S" 2>"$T/err"
expect "an impedance table from /dev/zero" "/dev/zero:1:1: line longer than 1048576 bytes"
# the schedule: a 100 MB header of many columns, piped
python3 -c 'import sys; sys.stdout.write("id,unit,op,start,cycles," + "x," * 50000000 + "\n")' |
    bounded "$A" check "$CHIP" /dev/stdin 2>"$T/err"
expect "a header of 50 million columns" "/dev/stdin:1:8207: header has more than 4096 columns"
# a header of few columns but many bytes
python3 -c 'import sys; sys.stdout.write("id,unit,op,start,cycles," + ",".join(["h" * 60000] * 20) + "\n")' > "$T/wide.csv"
bounded "$A" check "$CHIP" "$T/wide.csv" 2>"$T/err"
expect "a header over 1 MiB" "$T/wide.csv:1:1020042: header longer than 1048576 bytes"
# a field: in a file, from /dev/zero (no end), in an open quote fed forever
python3 -c 'import sys; sys.stdout.write("id,unit,op,start,cycles\n" + "a" * 100000 + ",MXM.W0,matmul,0,1\n")' > "$T/longid.csv"
bounded "$A" check "$CHIP" "$T/longid.csv" 2>"$T/err"
expect "a field over 64 KiB" "$T/longid.csv:2:1: field longer than 65536 bytes"
bounded "$A" check "$CHIP" /dev/zero 2>"$T/err"
expect "a schedule from /dev/zero" "/dev/zero:1:1: field longer than 65536 bytes"
(printf 'id,unit,op,start,cycles\n"'; yes) 2>/dev/null | bounded "$A" check "$CHIP" /dev/stdin 2>"$T/err"
expect "an open quote fed forever" "/dev/stdin:2:2: field longer than 65536 bytes"
# a record: fields under the limit, too many bytes together
python3 -c '
import sys
sys.stdout.write("id,unit,op,start,cycles," + ",".join("e%d" % k for k in range(30)) + "\n")
sys.stdout.write("a,MXM.W0,matmul,0,1," + ",".join(["r" * 40000] * 30) + "\n")' > "$T/longrec.csv"
bounded "$A" check "$CHIP" "$T/longrec.csv" 2>"$T/err"
expect "a record over 1 MiB" "$T/longrec.csv:2:1040047: record longer than 1048576 bytes"

echo "e2e_faults_io: $n passed, 0 failed"
