#!/bin/sh
# Install the browser that tests/report/test_html_browser.py renders `selkit audit --format
# html` in, idempotently: Debian's chromium, run headless as root with no display
# (--headless --no-sandbox --disable-gpu). Under CI=true that test fails without it.
# A second run only checks.
set -eu

# shellcheck disable=SC2086
sh "$(dirname "$0")/apt-install.sh" browser-deps chromium
