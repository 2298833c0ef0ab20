#!/usr/bin/env bash
# Installs the real Segment SDKs the integration tests drive (mock-server/tests/it/real_clients.rs):
# @segment/analytics-node from clients/node/package-lock.json, and segment-analytics-python
# from clients/python/requirements.txt into clients/python/.venv. Safe to run again: each step
# is skipped when what it installs is already there at the pinned version.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(node -p "try { require('./node/node_modules/@segment/analytics-node/package.json').version } catch (e) { '' }" 2>/dev/null)" = "3.1.0" ]; then
  echo "clients/node: @segment/analytics-node 3.1.0 already installed"
else
  (cd node && npm ci --no-audit --no-fund)
fi

venv=python/.venv
# The version is read into a variable first: `pip show | grep -q` under pipefail fails when grep
# stops reading early and pip then meets a closed pipe.
installed=""
if [ -x "$venv/bin/python" ]; then
  installed=$("$venv/bin/python" -m pip show segment-analytics-python 2>/dev/null || true)
fi
if printf '%s\n' "$installed" | grep -qx 'Version: 2.4.0'; then
  echo "clients/python: segment-analytics-python 2.4.0 already installed"
else
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
fi
