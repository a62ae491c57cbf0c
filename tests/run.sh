#!/bin/sh
# Installs what the tests need (Dovecot, Chromium + chromedriver, the Python packages) and runs the whole suite: sh tests/run.sh [pytest args]
# Dovecot (IMAP/LMTP) comes from Debian when we are root and it is missing; the SMTP and
# CalDAV servers (aiosmtpd, Radicale) come from PyPI with the `test` extra.
set -eu
cd "$(dirname "$0")/.."
# Chromium and its driver (Debian) drive the browser tests of `serve`; a CJK font draws the
# Japanese digest chart's labels.
if { ! command -v dovecot || ! command -v chromedriver || [ ! -d /usr/share/fonts/opentype/ipafont-gothic ]; } >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq dovecot-imapd dovecot-lmtpd chromium chromium-driver fonts-ipafont-gothic >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
