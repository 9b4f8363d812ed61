#!/bin/sh
# tests/e2e_library.sh ANALYZER -- the library as a program outside the
# project meets it: `make install` into a temporary prefix, then
# tests/outside/prog.c built through pkg-config twice, against libpda.so
# (plain `pkg-config --cflags --libs pda`) and against libpda.a (`--static`),
# each run on the samples (the shared one also with the schedule parsed from
# memory, sio_schedule_from_buffer). What the library writes (pda_result_write) must
# equal, file for file and byte for byte, what `analyzer run -o DIR
# --waveforms` writes (no output holds a wall-clock figure): the
# command is a thin layer over the library. Every installed header must
# compile on its own as <pda/NAME.h>, in C and in C++, and
# tests/outside/prog.cpp runs one analysis from C++ (extern "C"), its files
# the command's too. tests/outside/threads.c runs analyses
# on four threads of its own at once. Release build only (the installed
# library is the release one).
set -u
A=$1
case "$A" in *asan*) echo "skipped under AddressSanitizer: the installed library is the release build"; exit 0 ;; esac
T=$(mktemp -d /tmp/pda_e2e_lib_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
P="$T/usr"
make --no-print-directory -s install PREFIX="$P" >"$T/install.log" 2>&1 || fail "make install: $(tail -5 "$T/install.log")"
for f in lib/libpda.a lib/libpda.so lib/libpda.so.6 lib/pkgconfig/pda.pc include/pda/pda.h bin/analyzer; do
    [ -e "$P/$f" ] || fail "make install left out $f"
done
readelf -d "$P/lib/libpda.so" | grep -q 'SONAME.*libpda.so.6' || fail "libpda.so has no soname libpda.so.6"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
# each public header on its own
for h in "$P"/include/pda/*.h; do
    printf '#include <pda/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" > "$T/h.c"
    cc -std=c11 -Wall -Werror $(pkg-config --cflags pda) -c "$T/h.c" -o "$T/h.o" 2>"$T/h.err" ||
        fail "<pda/$(basename "$h")> does not compile alone: $(head -3 "$T/h.err")"
done
cc -std=c11 -Wall -Werror tests/outside/prog.c $(pkg-config --cflags --libs pda) -Wl,-rpath,"$P/lib" \
    -o "$T/prog_shared" 2>"$T/cc.err" || fail "shared link: $(cat "$T/cc.err")"
ldd "$T/prog_shared" | grep -q "libpda.so.6 => $P/lib/libpda.so.6" || fail "prog_shared does not use the installed libpda.so"
cc -std=c11 -Wall -Werror tests/outside/prog.c $(pkg-config --cflags pda) \
    -Wl,-Bstatic $(pkg-config --libs-only-L pda) -lpda -Wl,-Bdynamic \
    $(pkg-config --static --libs pda | sed 's/-lpda//') -o "$T/prog_static" 2>"$T/cc.err" ||
    fail "static link: $(cat "$T/cc.err")"
ldd "$T/prog_static" | grep -q libpda && fail "prog_static still needs libpda.so"
same() {   # same DIR1 DIR2: every file equal
    (cd "$1" && find . -type f | sort) > "$T/l1"
    (cd "$2" && find . -type f | sort) > "$T/l2"
    cmp -s "$T/l1" "$T/l2" || { echo "file lists differ:"; diff "$T/l1" "$T/l2"; return 1; }
    while read -r f; do
        cmp -s "$1/$f" "$2/$f" || { echo "$f differs:"; diff "$1/$f" "$2/$f" | cut -c1-200 | head -6; return 1; }
    done < "$T/l1"
}
for p in tsp/decode stack/decode tsp/multichip; do
    d=$(dirname $p)
    "$A" run samples/$d/chip.json samples/$p.csv -o "$T/cmd" --waveforms --quiet || fail "analyzer run $p"
    for kind in shared static "shared --buffer"; do
        set -- $kind
        rm -rf "$T/lib"
        "$T/prog_$1" samples/$d/chip.json samples/$p.csv "$T/lib" ${2:-} > "$T/out" 2>&1 ||
            fail "prog_$kind $p: $(cat "$T/out")"
        same "$T/cmd" "$T/lib" > "$T/diff" || fail "prog_$kind $p: the library's files differ from the command's: $(cat "$T/diff")"
        echo "$p, $kind: $(cat "$T/out"); $(ls -R "$T/lib" | grep -c '\.') files as the command's"
    done
    rm -rf "$T/cmd"
done
# from C++ (the headers' extern "C"): every header at once, one run, the
# command's files; each header also compiles alone as C++
for h in "$P"/include/pda/*.h; do
    printf '#include <pda/%s>\nint main() { return 0; }\n' "$(basename "$h")" > "$T/h.cpp"
    c++ -std=c++17 -Wall -Werror $(pkg-config --cflags pda) -c "$T/h.cpp" -o "$T/h.o" 2>"$T/h.err" ||
        fail "<pda/$(basename "$h")> does not compile alone as C++: $(head -3 "$T/h.err")"
done
c++ -std=c++17 -Wall -Werror tests/outside/prog.cpp $(pkg-config --cflags --libs pda) -Wl,-rpath,"$P/lib" \
    -o "$T/prog_cpp" 2>"$T/cc.err" || fail "C++ link: $(cat "$T/cc.err")"
"$A" run samples/tsp/chip.json samples/tsp/decode.csv -o "$T/cmd" --waveforms --quiet || fail "analyzer run tsp/decode"
"$T/prog_cpp" samples/tsp/chip.json samples/tsp/decode.csv "$T/cpp" > "$T/out" 2>&1 || fail "prog_cpp: $(cat "$T/out")"
same "$T/cmd" "$T/cpp" > "$T/diff" || fail "prog_cpp: the library's files differ from the command's: $(cat "$T/diff")"
echo "tsp/decode from C++: $(cat "$T/out")"
rm -rf "$T/cmd"
# analyses on threads of the program's own, linked by pkg-config alone: the
# library makes FFTW's planner thread-safe itself (four threads planning at
# once crashed or corrupted the heap when the caller had to do it)
cc -std=c11 -Wall -Werror tests/outside/threads.c $(pkg-config --cflags --libs pda) -pthread -Wl,-rpath,"$P/lib" \
    -o "$T/threads" 2>"$T/cc.err" || fail "threads: link: $(cat "$T/cc.err")"
for p in stack/decode tsp/decode; do
    "$T/threads" samples/$(dirname $p)/chip.json samples/$p.csv 4 3 > "$T/out" 2>&1 || fail "threads $p: $(cat "$T/out")"
    echo "$p: $(cat "$T/out")"
done
echo "e2e_library: ok"
