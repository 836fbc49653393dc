#!/usr/bin/env bash
# Builds the frozen `mor-launch` with PyInstaller (installs the `build` extra into .venv if needed) and prints
# the build time and the size of what was built.
#
#   packaging/build.sh                 one folder:  dist/mor-launch/mor-launch   (default)
#   packaging/build.sh onefile         one file:    dist/onefile/mor-launch
#   packaging/build.sh both
#   MOR_BUILD_WITH_MODEL=1 packaging/build.sh   also bundle the local model (needs the llm extra; see README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

MODES=${1:-onedir}
case "$MODES" in
  onedir|onefile) ;;
  both) MODES="onedir onefile" ;;
  *) echo "usage: $0 [onedir|onefile|both]" >&2; exit 2 ;;
esac

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $PY"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c 'import PyInstaller, app' >/dev/null 2>&1; then
  echo "installing the app with the build extra (pyinstaller) into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[build]'
fi
if [ ! -x packaging/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] && [ -z "${MOR_BUILD_ANVIL:-}" ]; then
  echo "fetching anvil (npm) to bundle it"
  npm ci --prefix packaging/npm --no-audit --no-fund --loglevel=error
fi
if [ ! -f resources/icons/mor-launch-256.png ]; then
  QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py
fi

for mode in $MODES; do
  if [ "$mode" = onefile ]; then dist=dist/onefile; target=dist/onefile/mor-launch
  else dist=dist; target=dist/mor-launch; fi
  echo "== pyinstaller ($mode, model: ${MOR_BUILD_WITH_MODEL:-0})"
  start=$SECONDS
  MOR_BUILD_MODE=$mode .venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "build/pyinstaller-$mode" packaging/mor-launch.spec
  echo "build time ($mode): $((SECONDS - start)) s"
  if [ "$mode" = onefile ]; then
    echo "executable: $target ($(du -h "$target" | cut -f1))"
  else
    echo "executable: $target/mor-launch; folder total $(du -sh "$target" | cut -f1)" \
      "($(find "$target" -type f | wc -l) files)"
  fi
done
