#!/bin/sh
# tests/e2e_faults_out.sh ANALYZER -- outputs under faults: an output set
# lands whole or not at all (a name taken by a folder, a write that fails
# half-way under a file-size limit, SIGTERM and SIGKILL in the middle of the
# writing), nothing the user had in the folder is lost, no temporary file
# outlives the process, links and special files are never written through,
# exports refuse names their format cannot carry, exit codes (2 usage and
# input, 4 I/O) and one message per error, and outputs that are the same
# bytes from one run to the next. Each check names the fault it injects.
set -u
A=$1
T=$(mktemp -d /tmp/pda_e2e_faults_XXXXXX)
trap 'rm -rf "$T"' EXIT
nfail=0
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }   # every check runs; the count decides
C=samples/stack/chip.json
S=samples/stack/decode.csv
staging() { ls -a "$T" | grep -c 'pda-new\|pda-old\|pda-tmp'; }
snapshot() { (cd "$1" && find . -type f | sort | xargs md5sum) > "$2"; }

# a set to keep: the user's own files beside a first run's outputs
mkdir -p "$T/out/mine"
echo keep > "$T/out/keep.txt"
echo deep > "$T/out/mine/deep.txt"
"$A" run "$C" "$S" -o "$T/out" --quiet || fail "first run"
[ -f "$T/out/summary.json" ] && [ -f "$T/out/heat/chip0_die0_peak.png" ] || fail "first run: outputs missing"
[ "$(cat "$T/out/keep.txt")" = keep ] && [ "$(cat "$T/out/mine/deep.txt")" = deep ] || fail "the user's files were lost"
snapshot "$T/out" "$T/before"

# 1. a name of the set taken by a folder: refused up front, nothing replaced
mkdir -p "$T/taken/summary.json"
"$A" run "$C" "$S" -o "$T/taken" --quiet 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "summary.json a folder: exit $rc, want 2: $(cat "$T/err")"
[ "$(ls -A "$T/taken")" = summary.json ] || fail "summary.json a folder: files were added: $(ls "$T/taken")"
[ "$(staging)" = 0 ] || fail "summary.json a folder: staging left: $(ls -a "$T")"

# 1b. ... before any work: a run whose --waveforms would write 10^10 rows is
# refused at once
printf 'id,unit,op,start,cycles\na,A,on,0,1\nb,A,on,10000000000,1\n' > "$T/far.csv"
cat > "$T/far.json" <<'EOF'
{"format": "pda-chip/1", "name": "far", "clock_ghz": 1.0, "outline_mm": [10, 10], "dies": [{"id": 0, "name": "d"}],
 "rails": [{"name": "core", "vdd_v": 0.8, "guardband_mv": 50,
            "pdn": {"stages": [{"name": "die", "r_ohm": 2e-4, "l_h": 2e-11, "c_f": 1e-6, "esr_ohm": 1e-5}]}}],
 "units": [{"name": "A", "class": "X", "die": 0, "rail": "core", "rect_mm": [0, 0, 5, 5], "idle_a": 1.0}],
 "ops": [{"op": "on", "class": "X", "current_a": 30}]}
EOF
timeout 10 "$A" run "$T/far.json" "$T/far.csv" -o "$T/taken" --waveforms --quiet 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "summary.json a folder, a long run: exit $rc, want 2 at once: $(cat "$T/err")"

# 2. a write that fails half-way (file-size limit: EFBIG): the old set stays whole
(ulimit -f 40; "$A" run "$C" "$S" -o "$T/out" --quiet --waveforms 2>"$T/err"); rc=$?
[ $rc = 4 ] || fail "file-size limit: exit $rc, want 4: $(cat "$T/err")"
snapshot "$T/out" "$T/after"
cmp -s "$T/before" "$T/after" || fail "file-size limit: the folder changed: $(diff "$T/before" "$T/after" | head -5)"
[ "$(staging)" = 0 ] || fail "file-size limit: staging left"

# 2b. ... in a heat map's PNG: one message, pda's (libpng prints nothing)
(ulimit -f 8; "$A" run "$C" "$S" -o "$T/png" --quiet 2>"$T/err"); rc=$?
[ $rc = 4 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "cannot write heat/.*png" "$T/err" ||
    fail "a PNG that cannot be written: exit $rc, want 4 and one message: $(cat "$T/err")"

# 3. SIGTERM while the set is being written: the old set stays, nothing left over
killed_while_writing() {   # killed_while_writing SIGNAL: 0 when the kill fell while the staging folder existed
    "$A" run "$C" samples/stack/prefill.csv -o "$T/out" --quiet --waveforms --unit-maps 2>/dev/null &
    pid=$!
    i=0
    while [ $i -lt 1500 ] && [ "$(ls -a "$T" | grep -c '\.out\.pda-new')" = 0 ] && kill -0 $pid 2>/dev/null; do
        sleep 0.01; i=$((i + 1))
    done
    hit=$(ls -a "$T" | grep -c '\.out\.pda-new')
    kill "-$1" $pid 2>/dev/null
    wait $pid
    [ "$hit" != 0 ]
}
killed_while_writing TERM || fail "SIGTERM: the run ended before it wrote (could not inject)"
snapshot "$T/out" "$T/after"
cmp -s "$T/before" "$T/after" || fail "SIGTERM: the folder changed"
[ "$(staging)" = 0 ] || fail "SIGTERM: staging left: $(ls -a "$T")"
echo "SIGTERM while writing: the old set whole, nothing left"

# 3b. SIGINT to a run whose -o folders it made (they did not exist): they go
# too (the path given with a slash at its end)
"$A" run "$C" samples/stack/prefill.csv -o "$T/new/a/b/" --quiet --waveforms --unit-maps 2>/dev/null &
pid=$!
i=0
while [ $i -lt 1500 ] && [ ! -d "$T/new/a/b" ] && kill -0 $pid 2>/dev/null; do sleep 0.01; i=$((i + 1)); done
[ -d "$T/new/a/b" ] && [ ! -e "$T/new/a/b/summary.json" ] || fail "SIGINT: the run had not made its folder (could not inject)"
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
[ $rc = 130 ] || fail "SIGINT: exit $rc, want 130"
[ ! -e "$T/new" ] || fail "SIGINT: the folders the run made were left: $(find "$T/new")"
[ "$(staging)" = 0 ] || fail "SIGINT: staging left: $(ls -a "$T")"
echo "SIGINT: the folders the run made are removed"

# 3c. SIGINT while the set is committed: the folder's 20,000 files linked
# into the staging folder, then the exchange. The signal waits for the
# commit, which lands whole; none of the user's files is lost, nothing left
mkdir "$T/many"
python3 -c "
import sys
for i in range(20000): open(sys.argv[1] + '/mine%05d.txt' % i, 'w').write('mine %d' % i)" "$T/many"
"$A" run samples/tsp/chip.json samples/tsp/decode.csv -o "$T/ref" --quiet || fail "the reference run"
want=$(ls "$T/ref" | wc -l)
"$A" run samples/tsp/chip.json samples/tsp/decode.csv -o "$T/many" --quiet 2>/dev/null &
pid=$!
i=0
while [ $i -lt 200000 ] && [ "$(ls -f "$T"/.many.pda-new-* 2>/dev/null | wc -l)" -lt 2000 ] && kill -0 $pid 2>/dev/null; do
    i=$((i + 1))
done
hit=$(ls -f "$T"/.many.pda-new-* 2>/dev/null | wc -l)
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
[ "$hit" -ge 2000 ] || fail "SIGINT during the commit: the run ended before it (could not inject)"
mine=$(ls "$T/many" | grep -c '^mine')
outs=$(ls "$T/many" | grep -vc '^mine')
[ "$mine" = 20000 ] || fail "SIGINT during the commit: $mine of the user's 20000 files left"
[ "$outs" = "$want" ] || fail "SIGINT during the commit: $outs of the set's $want outputs (exit $rc)"
[ "$rc" = 130 ] || [ "$rc" = 0 ] || fail "SIGINT during the commit: exit $rc"
[ "$(staging)" = 0 ] || fail "SIGINT during the commit: staging left: $(ls -a "$T" | grep pda)"
rm -rf "$T/many" "$T/ref"
echo "SIGINT during the commit: the set whole, the user's files kept, nothing left (exit $rc)"

# 4. SIGKILL while writing: the old set stays; the next run removes what was left
killed_while_writing KILL || fail "SIGKILL: the run ended before it wrote (could not inject)"
snapshot "$T/out" "$T/after"
cmp -s "$T/before" "$T/after" || fail "SIGKILL: the folder changed"
[ "$(staging)" != 0 ] || fail "SIGKILL: expected the killed run's staging folder"
"$A" run "$C" "$S" -o "$T/out" --quiet || fail "the run after SIGKILL"
[ "$(staging)" = 0 ] || fail "the run after SIGKILL left the dead run's staging: $(ls -a "$T")"
[ "$(cat "$T/out/keep.txt")" = keep ] || fail "the user's file was lost"
echo "SIGKILL while writing: the old set whole; the next run swept the staging folder"

# 5. no temporary file outlives a killed retime (anonymous temporary files)
head -4000 samples/tsp/decode.csv > "$T/d.csv"
"$A" retime samples/tsp/chip.json "$T/d.csv" -o "$T/r.csv" --power-cap-w 150 --quiet &
pid=$!; sleep 0.05; kill -KILL $pid 2>/dev/null; wait $pid
[ "$(ls -a "$T" | grep -c 'tmp')" = 0 ] || fail "a killed retime left: $(ls -a "$T")"

# 5b. -o a link to a folder that does not exist: usage (exit 2), the link
# kept, nothing made where it points
ln -s "$T/nowhere" "$T/dangling"
"$A" run "$C" "$S" -o "$T/dangling" --quiet 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ -L "$T/dangling" ] && [ ! -e "$T/nowhere" ] && grep -q "link to a folder that does not exist" "$T/err" ||
    fail "-o a dangling link: exit $rc: $(cat "$T/err")"
rm -f "$T/dangling"

# 6. links and special files are not written through
ln -s /proc/self/fd/1 "$T/link.csv"
"$A" retime samples/tsp/chip.json "$T/d.csv" -o "$T/link.csv" --power-cap-w 150 --quiet 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ -L "$T/link.csv" ] || fail "-o a link: exit $rc, link kept: $([ -L "$T/link.csv" ] && echo yes)"
grep -q "symbolic link" "$T/err" || fail "-o a link: $(cat "$T/err")"
mkfifo "$T/fifo"   # a special file (never a device: an old build replaced it)
"$A" export "$C" "$S" --format vcd -o "$T/fifo" 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ -p "$T/fifo" ] || fail "-o a FIFO: exit $rc: $(cat "$T/err")"
mkdir -p "$T/real"; ln -s real "$T/dirlink"
"$A" run "$C" "$S" -o "$T/dirlink" --quiet || fail "-o a link to a folder"
[ -L "$T/dirlink" ] && [ -f "$T/real/summary.json" ] || fail "-o a link to a folder: not followed"

# 7. exit codes and one message per error
"$A" run "$C" "$S" -o "$S" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "run -o an input: exit $rc"
"$A" run "$C" "$S" -o "" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "-o '': exit $rc: $(cat "$T/err")"
"$A" export "$C" "$S" --format vcd -o "$S" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "export -o an input: exit $rc"
"$A" export "$C" "$S" --format hotspot -o "$C" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "export hotspot -o a file: exit $rc"
"$A" run "$C" "$S" -o "$T/a" -o "$T/b" 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q twice "$T/err" || fail "a second -o: exit $rc: $(cat "$T/err")"
"$A" retime "$C" "$S" -o "$T/x.csv" --power-cap-w nan 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$T/err")" = 1 ] || fail "--power-cap-w nan: exit $rc, $(wc -l < "$T/err") lines"
"$A" run "$C" "$S" --bin-ns 0.01 --no-thermal 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "larger bins" "$T/err" || fail "--bin-ns 0.01: exit $rc: $(cat "$T/err")"

# 8. names a format cannot carry: refused, nothing written; JSON escapes them
python3 - "$T" <<'PY'
import json, sys
c = json.load(open("samples/tsp/chip.json"))
c["units"][0]["name"] = "MXM W0"
c["rails"][0]["name"] = 'co re'
for u in c["units"]:
    if u["rail"] == "core":
        u["rail"] = 'co re'
json.dump(c, open(sys.argv[1] + "/sp.json", "w"))
PY
sed 's/MXM\.W0,/MXM W0,/' samples/tsp/decode.csv > "$T/sp.csv"
"$A" export "$T/sp.json" "$T/sp.csv" --format hotspot -o "$T/hs" 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/hs" ] && grep -q "MXM W0" "$T/err" || fail "hotspot, a blank in a name: exit $rc: $(cat "$T/err")"
"$A" export "$T/sp.json" "$T/sp.csv" --format vcd -o "$T/v.vcd" 2>"$T/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/v.vcd" ] && grep -q "co re" "$T/err" || fail "vcd, a blank in a rail: exit $rc: $(cat "$T/err")"
"$A" export "$T/sp.json" "$T/sp.csv" --format perfetto -o "$T/p.json" || fail "perfetto with odd names"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/p.json" || fail "perfetto: not JSON with a blank in a rail name"

# 9. the same inputs give the same bytes
"$A" run "$C" "$S" -o "$T/r1" --quiet --waveforms && "$A" run "$C" "$S" -o "$T/r2" --quiet --waveforms || fail "runs"
diff -r "$T/r1" "$T/r2" > "$T/d" || fail "two runs differ: $(head -5 "$T/d")"
# 10. a run that fails leaves no folder it made (every level of -o a/b/c), and keeps one it found
sed 's/"bandwidth_hz": 2e4/"bandwidth_hz": 5e6/' "$C" > "$T/unstable.json"
"$A" run "$T/unstable.json" "$S" -o "$T/made/b/c" --quiet 2>/dev/null; rc=$?
[ $rc = 2 ] || fail "unstable regulator: exit $rc, want 2"
[ -e "$T/made" ] && fail "a failed run left $T/made behind"
mkdir "$T/found"
"$A" run "$T/unstable.json" "$S" -o "$T/found/x" --quiet 2>/dev/null
[ -d "$T/found" ] && [ ! -e "$T/found/x" ] || fail "a failed run removed a folder it found, or left found/x"
# export hotspot: its stack.lcf or hotspot.config an input, or a folder: exit 2
mkdir -p "$T/hsin" "$T/hsdir/hotspot.config"
cp "$S" "$T/hsin/stack.lcf"
"$A" export "$C" "$T/hsin/stack.lcf" --format hotspot -o "$T/hsin" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "export hotspot, stack.lcf the schedule: exit $rc, want 2: $(cat "$T/err")"
cmp -s "$S" "$T/hsin/stack.lcf" || fail "export hotspot overwrote its schedule"
"$A" export "$C" "$S" --format hotspot -o "$T/hsdir" 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "export hotspot, hotspot.config a folder: exit $rc, want 2: $(cat "$T/err")"

# -o - : the one file to stdout, whole, the same bytes as a file's; the
# command's text to stderr; refused where stdout is taken or a folder is
# written; lost (a full disk) exit 4 with one message
TC=samples/tsp/chip.json; TS=samples/tsp/decode.csv
"$A" retime "$TC" "$TS" -o - --power-cap-w 150 > "$T/r_out.csv" 2>"$T/err"; rc=$?
"$A" retime "$TC" "$TS" -o "$T/r_file.csv" --power-cap-w 150 --quiet || fail "retime -o file"
[ $rc = 0 ] && cmp -s "$T/r_out.csv" "$T/r_file.csv" && grep -q "instructions moved" "$T/err" ||
    fail "retime -o -: exit $rc, or other bytes than -o FILE, or its text not on stderr"
"$A" export "$TC" "$TS" --format vcd -o - > "$T/v_out.vcd" 2>/dev/null &&
    "$A" export "$TC" "$TS" --format vcd -o "$T/v_file.vcd" --quiet && cmp -s "$T/v_out.vcd" "$T/v_file.vcd" ||
    fail "export vcd -o -: not the bytes of -o FILE"
"$A" retime "$TC" "$TS" -o - --power-cap-w 150 --json > /dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "retime --json -o -: exit $rc, want 2"
AA=$(cd "$(dirname "$A")" && pwd)/$(basename "$A"); top=$PWD
(cd "$T" && "$AA" export "$top/$TC" "$top/$TS" --format hotspot -o - > /dev/null 2>"$T/err"); rc=$?
[ $rc = 2 ] && [ ! -e "$T/-" ] || fail "export hotspot -o -: exit $rc, or a folder '-' made"
mkdir -p "$T/dash" && cp "$TS" "$T/dash/-"
(cd "$T/dash" && "$AA" export "$top/$TC" - --format vcd -o - > "$T/dash.vcd" 2>"$T/err"); rc=$?
[ $rc = 0 ] && [ -s "$T/dash.vcd" ] && cmp -s "$T/dash/-" "$TS" ||
    fail "a schedule named '-' with -o -: exit $rc, want 0, the VCD on stdout and the input intact: $(cat "$T/err")"
(cd "$T" && "$AA" run "$top/$TC" "$top/$TS" -o - --quiet > /dev/null 2>"$T/err"); rc=$?
[ $rc = 2 ] && [ ! -e "$T/-" ] || fail "run -o -: exit $rc, or a folder '-' made"
"$A" retime "$TC" "$TS" -o - --power-cap-w 150 --quiet > /dev/full 2>"$T/err"; rc=$?
[ $rc = 4 ] && [ "$(wc -l < "$T/err")" = 1 ] || fail "retime -o - > /dev/full: exit $rc, want 4 and one message: $(cat "$T/err")"
"$A" retime "$TC" "$TS" -o - --power-cap-w 1 > "$T/none.csv" 2>/dev/null; rc=$?
[ $rc = 3 ] && [ ! -s "$T/none.csv" ] || fail "retime -o - of an impossible budget: exit $rc, or a partial schedule on stdout"

# stdout lost: a full disk, a closed stdout (its number must not go to a
# file the run opens, where the text would land), a reader gone: exit 4 and
# a message; the -o set is whole and holds no text of stdout
for cmd in "run --json --no-thermal" "run --no-thermal" "check --json"; do
    "$A" $cmd "$C" "$S" > /dev/full 2>"$T/err"; rc=$?
    [ $rc = 4 ] && grep -q "stdout" "$T/err" || fail "$cmd > /dev/full: exit $rc, want 4: $(cat "$T/err")"
done
rm -rf "$T/closed"
"$A" run "$C" "$S" -o "$T/closed" >&- 2>"$T/err"; rc=$?
[ $rc = 4 ] && grep -q "stdout: Bad file descriptor" "$T/err" || fail "closed stdout: exit $rc, want 4: $(cat "$T/err")"
[ -f "$T/closed/summary.json" ] || fail "closed stdout: the outputs are missing"
! grep -rqE "hotspots: [0-9]+, stacked: [0-9]+; thermal run" "$T/closed" || fail "closed stdout: run's text landed in an output file"
"$A" run "$C" "$S" --no-thermal --json --quiet > /dev/full 2>"$T/err"; rc=$?
[ $rc = 4 ] || fail "--json --quiet > /dev/full: exit $rc"
"$A" run "$C" "$S" --no-thermal --quiet > /dev/full 2>"$T/err"; rc=$?
[ $rc = 0 ] || fail "--quiet writes nothing to stdout, yet exit $rc: $(cat "$T/err")"

# another process writing into the folder while the set is put in place:
# every file it made is kept (20,000 files already there make the carry long
# enough for it to make a few hundred meanwhile; the code before lost ~20%)
mkdir -p "$T/busy"
python3 -c "[open('$T/busy/old_%05d' % i, 'w').close() for i in range(20000)]"
( i=0; while [ ! -e "$T/busy.stop" ]; do i=$((i + 1)); : > "$T/busy/new_$i"; echo $i > "$T/busy.count"; done ) &
sleep 0.2
"$A" run "$C" "$S" -o "$T/busy" --no-thermal --quiet || fail "run beside a writer"
: > "$T/busy.stop"; wait
made=$(cat "$T/busy.count"); have=$(ls "$T/busy" | grep -c '^new_'); old=$(ls "$T/busy" | grep -c '^old_')
[ "$have" = "$made" ] && [ "$old" = 20000 ] && [ -f "$T/busy/summary.json" ] ||
    fail "a writer beside the run: it made $made files, $have kept; $old of 20000 old ones kept"

# the same, exactly between the carry and the swap, and right after it
# (tests/swap_hook.c runs the commands there; not under ASan, whose runtime
# must come first): a file replaced, one removed, one made, a file turned
# into a folder, and one replaced again after the swap (the newest stays)
case "$A" in
*asan*) echo "swap hook: skipped under ASan" ;;
*)
    if cc -shared -fPIC -o "$T/swap_hook.so" tests/swap_hook.c -ldl 2>"$T/err"; then
        mkdir -p "$T/sw"
        echo v1 > "$T/sw/log.txt"; echo v1 > "$T/sw/late.txt"; echo keep > "$T/sw/gone.txt"
        echo note > "$T/sw/notes"; echo same > "$T/sw/same.txt"
        PDA_HOOK_BEFORE="cd $T/sw && echo v2 > t && mv t log.txt && echo v2 > t && mv t late.txt && rm gone.txt && \
rm notes && mkdir notes && echo important > notes/a.txt && echo made > made.txt" \
        PDA_HOOK_AFTER="cd $T/sw && echo v3 > t && mv t late.txt" LD_PRELOAD="$T/swap_hook.so" \
            "$A" run "$C" "$S" -o "$T/sw" --no-thermal --quiet || fail "run with the swap hook"
        [ "$(cat "$T/sw/log.txt")" = v2 ] && [ "$(cat "$T/sw/late.txt")" = v3 ] && [ ! -e "$T/sw/gone.txt" ] &&
            [ "$(cat "$T/sw/notes/a.txt")" = important ] && [ "$(cat "$T/sw/made.txt")" = made ] &&
            [ "$(cat "$T/sw/same.txt")" = same ] && [ -f "$T/sw/summary.json" ] && [ "$(staging)" = 0 ] && ! ls -a "$T" | grep -q pda-kept ||
            fail "changes beside the swap: $(cd "$T/sw" && ls -a | tr '\n' ' '); log $(cat "$T/sw/log.txt"), late $(cat "$T/sw/late.txt")"
    else
        fail "cannot build tests/swap_hook.c: $(cat "$T/err")"
    fi ;;
esac

[ $nfail = 0 ] || { echo "e2e_faults_out: $nfail failed"; exit 1; }
echo "e2e_faults_out: ok"
