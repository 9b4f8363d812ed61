#!/bin/sh
# open.sh BROWSER PAGE [#FRAGMENT] -- the page's DOM once its scripts have
# run (stdout) and the browser's log (stderr, console messages as
# ":CONSOLE" lines). Virtual time lets timers and animation frames run out
# (report.js marks <body data-ready> when every plot is drawn) without
# waiting for them in real time. --no-sandbox: Chromium refuses to run as
# root otherwise (containers, CI).
b=$1; page=$2; frag=${3:-}
case $page in /*) ;; *) page=$(pwd)/$page ;; esac
exec "$b" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
    --user-data-dir="${TMPDIR:-/tmp}/pda-chromium-$$" --enable-logging=stderr --v=0 \
    --window-size=1280,900 --virtual-time-budget=30000 --dump-dom "file://$page$frag"
