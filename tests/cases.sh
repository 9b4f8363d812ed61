#!/bin/sh
# tests/cases.sh ANALYZER -- the golden bad-input cases. Each folder under
# tests/cases/ holds `expected` (the first line of stderr, exactly) and the
# inputs: `chip.json` (else the bundled samples/tsp/chip.json) and
# `schedule.csv` (else a header-only schedule), and optionally `args` (the
# subcommand and options, default `check`; other subcommands get -o OUT).
# A folder with `sweep.json` runs `analyzer sweep sweep.json -o OUT` instead.
# Each case must exit 2 with that message and leave no output behind.
analyzer=$1
case "$analyzer" in /*) ;; *) analyzer="$PWD/$analyzer" ;; esac
root=$PWD
n=0; bad=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in tests/cases/*/; do
    c=${c%/}; name=$(basename "$c")
    [ -f "$c/expected" ] || continue
    n=$((n + 1))
    chip=chip.json; [ -f "$c/chip.json" ] || chip="$root/samples/tsp/chip.json"
    sched=schedule.csv
    if [ ! -f "$c/schedule.csv" ]; then
        printf 'id,unit,op,start,cycles\n' > "$tmp/empty.csv"; sched="$tmp/empty.csv"
    fi
    args=check; [ -f "$c/args" ] && args=$(cat "$c/args")
    out="$tmp/out"; rm -rf "$out"
    outarg=""; case "$args" in check*) ;; *) outarg="-o $out" ;; esac
    if [ -f "$c/sweep.json" ]; then
        (cd "$c" && "$analyzer" sweep sweep.json -o "$out" >"$tmp/stdout" 2>"$tmp/stderr")
    else
        # shellcheck disable=SC2086
        (cd "$c" && "$analyzer" $args "$chip" "$sched" $outarg >"$tmp/stdout" 2>"$tmp/stderr")
    fi
    rc=$?
    got=$(head -n 1 "$tmp/stderr")
    want=$(cat "$c/expected")
    if [ "$rc" != 2 ]; then
        bad=$((bad + 1)); printf 'FAIL %s: exit %s, want 2 (%s)\n' "$name" "$rc" "$got"
    elif [ "$got" != "$want" ]; then
        bad=$((bad + 1)); printf 'FAIL %s:\n  got:  %s\n  want: %s\n' "$name" "$got" "$want"
    elif [ -e "$out" ]; then
        bad=$((bad + 1)); echo "FAIL $name: left output behind"
    else
        echo "ok $name"
    fi
done
echo "golden cases: $((n - bad)) passed, $bad failed"
[ "$bad" = 0 ] && [ "$n" -gt 0 ]
