#!/usr/bin/env bash
# Smoke test of the frozen mor-launch, offscreen with a fresh data folder:
#   1. `mor-launch devnet` until it prints the Diamond address; SIGTERM; exit code 0, no anvil left behind,
#      nothing on stderr (a traceback or a Qt plugin error fails it).
#   2. `mor-launch --headless` (when the launcher has it) until GET /healthcheck answers 200; same checks.
# Prints `metric <name> <value>` lines (cold start, RSS) that tests/packaging/test_frozen_smoke.py reads.
#
#   packaging/smoke.sh [path/to/mor-launch]   default: dist/mor-launch/mor-launch, else dist/onefile/mor-launch
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

EXE=${1:-}
if [ -z "$EXE" ]; then
  for candidate in "$ROOT/dist/mor-launch/mor-launch" "$ROOT/dist/onefile/mor-launch"; do
    if [ -x "$candidate" ]; then EXE=$candidate; break; fi
  done
fi
if [ -z "$EXE" ] || [ ! -x "$EXE" ]; then
  echo "smoke: no frozen mor-launch (build it with packaging/build.sh)" >&2
  exit 2
fi
EXE=$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")
READY_TIMEOUT=${SMOKE_READY_TIMEOUT:-120}
STOP_TIMEOUT=${SMOKE_STOP_TIMEOUT:-30}
# What fails a log on stderr: a traceback, a logged error, Qt failing to load a plugin or a library.
STDERR_ERRORS='Traceback|^[-0-9 :,]* (ERROR|CRITICAL) |qt\.qpa\.|Could not (load|find) the Qt platform plugin|cannot open shared object'

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAIL: $*" >&2
  for f in "$WORK"/*.out "$WORK"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# All descendants of a pid (a one-file build runs the app in a child of the bootloader; anvil is below that).
descendants() {
  local kids
  kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  for kid in $kids; do echo "$kid"; descendants "$kid"; done
}

rss_kb() {  # summed RSS of the given pids
  local total=0 rss
  for p in "$@"; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${rss:-0}))
  done
  echo "$total"
}

# start NAME ARGS...: run the executable in the background from an empty folder with its own data folder.
start() {
  local name=$1; shift
  mkdir -p "$WORK/$name-data" "$WORK/$name-cwd"
  (cd "$WORK/$name-cwd" && exec env QT_QPA_PLATFORM=offscreen MOR_DATA_DIR="$WORK/$name-data" \
     PROXY_STORAGE_PATH="$WORK/$name-data" "$EXE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") &
  PID=$!
  STARTED=$(now)
}

# stop NAME STDERR_RULE: SIGTERM, expect exit code 0 within STOP_TIMEOUT, no child left, and stderr either
# empty (`empty`) or a log without errors (`log`: headless logs to stderr like the Go router).
stop() {
  local name=$1 rule=$2 children code deadline
  children=$(descendants "$PID")
  kill -TERM "$PID"
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while kill -0 "$PID" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name: still running ${STOP_TIMEOUT} s after SIGTERM"
    sleep 0.1
  done
  code=0; wait "$PID" || code=$?
  PID=""
  [ "$code" -eq 0 ] || fail "$name: exit code $code after SIGTERM (expected 0)"
  for child in $children; do
    if kill -0 "$child" 2>/dev/null && [ "$(ps -o stat= -p "$child" | cut -c1)" != Z ]; then
      fail "$name: child process $child ($(ps -o comm= -p "$child")) outlived mor-launch"
    fi
  done
  if [ "$rule" = empty ]; then
    [ ! -s "$WORK/$name.err" ] || fail "$name: unexpected output on stderr"
    echo "smoke: $name: clean exit, no orphans, empty stderr"
  else
    if grep -nE "$STDERR_ERRORS" "$WORK/$name.err" >"$WORK/$name.errors"; then
      fail "$name: errors on stderr: $(head -n 3 "$WORK/$name.errors")"
    fi
    echo "smoke: $name: clean exit, no orphans, no errors in the log"
  fi
}

# --- 1. the devnet --------------------------------------------------------------------------------------------
start devnet devnet
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until grep -q '^  Diamond ' "$WORK/devnet.out" 2>/dev/null; do
  kill -0 "$PID" 2>/dev/null || fail "devnet: exited before printing the Diamond address"
  [ "$(date +%s)" -lt "$deadline" ] || fail "devnet: no Diamond address within ${READY_TIMEOUT} s"
  sleep 0.05
done
echo "metric devnet_ready_s $(elapsed "$STARTED" "$(now)")"
grep -E '^  (Diamond|Engine) ' "$WORK/devnet.out" | sed 's/^ */smoke: devnet: /'
grep -q 'Engine *anvil' "$WORK/devnet.out" || fail "devnet: the bundled anvil was not used"
sleep 2  # let start-up garbage settle before measuring idle memory (a measurement, not a wait for state)
kids=$(descendants "$PID")
anvil_pids=$(for p in $kids; do [ "$(ps -o comm= -p "$p")" = anvil ] && echo "$p"; done || true)
app_pids="$PID $(for p in $kids; do [ "$(ps -o comm= -p "$p")" != anvil ] && echo "$p"; done || true)"
# shellcheck disable=SC2086
echo "metric devnet_app_rss_mb $(( $(rss_kb $app_pids) / 1024 ))"
# shellcheck disable=SC2086
echo "metric devnet_anvil_rss_mb $(( $(rss_kb $anvil_pids) / 1024 ))"
[ -n "$anvil_pids" ] || fail "devnet: no anvil child process"
stop devnet empty

# --- 2. headless: the router's HTTP API -----------------------------------------------------------------------
if ! "$EXE" --help 2>/dev/null | grep -q -- '--headless'; then
  echo "smoke: headless: skipped (this mor-launch has no --headless yet)"
  exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WEB_ADDRESS="127.0.0.1:$port" PROXY_ADDRESS="127.0.0.1:0" start headless --headless
deadline=$(( $(date +%s) + READY_TIMEOUT ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthcheck" || true)" = 200 ]; do
  kill -0 "$PID" 2>/dev/null || fail "headless: exited before /healthcheck answered"
  [ "$(date +%s)" -lt "$deadline" ] || fail "headless: /healthcheck did not answer 200 within ${READY_TIMEOUT} s"
  sleep 0.1
done
echo "metric headless_ready_s $(elapsed "$STARTED" "$(now)")"
stop headless log
