#!/bin/sh
# tests/python/run.sh [PYTEST ARGS] -- the tests of the Python module pda
# (python/pda) with Debian's interpreter, from the repository root, against
# the release build (lib/libpda.so through PDA_LIB, bin/analyzer): call it
# after `make`. Needs python3-numpy and python3-pytest: as root they are
# installed when missing; otherwise the exact command is printed. Exits
# non-zero when a test fails or something is missing.
cd "$(dirname "$0")/../.." || exit 2
PY=/usr/bin/python3
missing=""
for p in python3 python3-numpy python3-pytest; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "test-python: installing$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
            { echo "test-python: apt-get install$missing failed" >&2; exit 1; }
    else
        echo "test-python: missing Debian packages:$missing" >&2
        echo "test-python: run as root:  apt-get update && apt-get install -y$missing" >&2
        exit 1
    fi
fi
for f in lib/libpda.so bin/analyzer; do
    [ -e "$f" ] || { echo "test-python: no $f: run make first" >&2; exit 1; }
done
PDA_LIB="$PWD/lib/libpda.so" PDA_ANALYZER="$PWD/bin/analyzer" exec "$PY" -m pytest -q tests/python "$@"
