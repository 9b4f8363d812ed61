#!/bin/sh
# Prints the headless browser to open report.html in: $PDA_BROWSER, else
# Debian's chromium (or chromium-browser, google-chrome); exits 1 when none.
for b in ${PDA_BROWSER:-} chromium chromium-browser google-chrome; do
    command -v "$b" >/dev/null 2>&1 && { command -v "$b"; exit 0; }
done
exit 1
