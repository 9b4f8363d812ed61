#!/bin/sh
# Installs the Debian packages pda builds and tests with, when missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
PKGS="g++ libcsv-dev libfftw3-dev libjansson-dev libcmocka-dev libpng-dev libglpk-dev pkg-config python3 python3-numpy python3-pytest libopenmpi-dev openmpi-bin"
[ "${PDA_WITH_NGSPICE:-1}" = 1 ] && PKGS="$PKGS ngspice"
# headless Chromium opens report.html in tests/e2e_report.sh and makes the
# screenshots (make screenshots); PDA_NO_BROWSER=1 leaves it out
[ "${PDA_NO_BROWSER:-0}" = 1 ] || PKGS="$PKGS chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || { echo "deps: '$cmd' failed" >&2; exit 1; }
else
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root:  apt-get update && $cmd" >&2
    exit 1
fi
