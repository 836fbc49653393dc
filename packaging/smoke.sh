#!/usr/bin/env bash
# Smoke test of the frozen mor-launch, offscreen with a fresh data folder:
#   1. `mor-launch devnet` until it prints the Diamond address; SIGTERM; exit code 0, no anvil left behind,
#      nothing on stderr (a traceback or a Qt plugin error fails it).
#   2. `mor-launch --headless` (when the launcher has it) until GET /healthcheck answers 200; same checks.
#   3. `mor-launch` (the desktop app, offscreen) until its embedded devnet is deployed; no orphans, no Qt or Python
#      errors on stderr. Its exit code on SIGTERM is reported, and enforced with SMOKE_STRICT_GUI_EXIT=1.
#   4. the same on a real X server (Xvfb) with Qt's xcb plugin, when Xvfb is installed.
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
CHILD_GRACE=${SMOKE_CHILD_GRACE:-10}
# What fails a log on stderr: a traceback, a logged error, Qt failing to load a plugin or a library.
STDERR_ERRORS='Traceback|^[-0-9 :,]* (ERROR|CRITICAL) |qt\.qpa\.|Could not (load|find) the Qt platform plugin|cannot open shared object'

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  if [ -n "${XVFB_PID:-}" ]; then kill -TERM "$XVFB_PID" 2>/dev/null || true; fi
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
# The HTTP status of a GET, or 000 when nothing answers (python3 rather than curl: one tool fewer on CI images).
http_status() {
  python3 - "$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        print(response.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("000")
PY
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# All descendants of a pid (a one-file build runs the app in a child of the bootloader; anvil is below that).
descendants() {
  local kids
  kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  for kid in $kids; do echo "$kid"; descendants "$kid"; done
}

split_pids() {  # APP_PIDS: the app's own processes (bootloader + app); ANVIL_PIDS: the anvil below it
  APP_PIDS=$PID ANVIL_PIDS=""
  for p in $(descendants "$PID"); do
    if [ "$(ps -o comm= -p "$p")" = anvil ]; then ANVIL_PIDS="$ANVIL_PIDS $p"; else APP_PIDS="$APP_PIDS $p"; fi
  done
}

rss_kb() {  # summed RSS of the given pids
  local total=0 rss
  for p in "$@"; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${rss:-0}))
  done
  echo "$total"
}

# start NAME ARGS...: run the executable in the background from an empty folder with its own data folder
# (Qt platform: $QPA, offscreen unless a step says otherwise).
start() {
  local name=$1; shift
  mkdir -p "$WORK/$name-data" "$WORK/$name-cwd"
  (cd "$WORK/$name-cwd" && exec env QT_QPA_PLATFORM="${QPA:-offscreen}" MOR_DATA_DIR="$WORK/$name-data" \
     PROXY_STORAGE_PATH="$WORK/$name-data" "$EXE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") &
  PID=$!
  STARTED=$(now)
}

# stop NAME STDERR_RULE [EXIT_RULE]: SIGTERM, expect exit code 0 within STOP_TIMEOUT (EXIT_RULE `report`: only
# print it), no child left, and stderr either empty (`empty`) or without errors (`log`: headless logs to stderr).
stop() {
  local name=$1 rule=$2 exit_rule=${3:-strict} children code deadline
  children=$(descendants "$PID")
  kill -TERM "$PID"
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while kill -0 "$PID" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name: still running ${STOP_TIMEOUT} s after SIGTERM"
    sleep 0.1
  done
  code=0; wait "$PID" || code=$?
  PID=""
  if [ "$exit_rule" = report ]; then
    echo "smoke: $name: exit code $code after SIGTERM$([ "$code" -eq 143 ] && echo ' (killed by it: no handler)')"
  else
    [ "$code" -eq 0 ] || fail "$name: exit code $code after SIGTERM (expected 0)"
  fi
  # A child may need a moment after the app is gone (anvil dumps its state when PDEATHSIG reaches it); one that
  # is still running after CHILD_GRACE seconds is an orphan.
  deadline=$(( $(date +%s) + CHILD_GRACE ))
  for child in $children; do
    while kill -0 "$child" 2>/dev/null && [ "$(ps -o stat= -p "$child" | cut -c1)" != Z ]; do
      [ "$(date +%s)" -lt "$deadline" ] || fail "$name: child process $child ($(ps -o comm= -p "$child")) outlived mor-launch"
      sleep 0.1
    done
  done
  if [ "$rule" = empty ]; then
    [ ! -s "$WORK/$name.err" ] || fail "$name: unexpected output on stderr"
    echo "smoke: $name: $([ "$exit_rule" = strict ] && echo 'clean exit, ')no orphans, empty stderr"
  else
    if grep -nE "$STDERR_ERRORS" "$WORK/$name.err" >"$WORK/$name.errors"; then
      fail "$name: errors on stderr: $(head -n 3 "$WORK/$name.errors")"
    fi
    echo "smoke: $name: $([ "$exit_rule" = strict ] && echo 'clean exit, ')no orphans, no errors in the log"
  fi
}

# --- 1. the devnet --------------------------------------------------------------------------------------------
smoke_devnet() {
  local deadline anvil_exe extracted=""
  start devnet devnet
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until grep -q '^  Diamond ' "$WORK/devnet.out" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "devnet: exited before printing the Diamond address"
    [ "$(date +%s)" -lt "$deadline" ] || fail "devnet: no Diamond address within ${READY_TIMEOUT} s"
    sleep 0.05
  done
  echo "metric devnet_ready_s $(elapsed "$STARTED" "$(now)")"
  grep -E '^  (Diamond|Engine) ' "$WORK/devnet.out" | sed 's/^ */smoke: devnet: /'
  sleep 2  # let start-up garbage settle before measuring idle memory (a measurement, not a wait for state)
  split_pids
  [ -n "$ANVIL_PIDS" ] || fail "devnet: no anvil child process"
  for p in $ANVIL_PIDS; do
    anvil_exe=$(readlink "/proc/$p/exe")
    # one folder: <dist>/mor-launch/_internal/anvil; one file: /tmp/_MEIxxxxxx/anvil
    case "$anvil_exe" in
      */_internal/anvil) echo "smoke: devnet: bundled anvil $anvil_exe" ;;
      */_MEI*/anvil) echo "smoke: devnet: bundled anvil $anvil_exe"; extracted=$(dirname "$anvil_exe") ;;
      *) fail "devnet: anvil ran from $anvil_exe, not from the bundle" ;;
    esac
  done
  # shellcheck disable=SC2086
  echo "metric devnet_app_rss_mb $(( $(rss_kb $APP_PIDS) / 1024 ))"
  # shellcheck disable=SC2086
  echo "metric devnet_anvil_rss_mb $(( $(rss_kb $ANVIL_PIDS) / 1024 ))"
  stop devnet empty
  if [ -n "$extracted" ] && [ -e "$extracted" ]; then fail "devnet: the one-file extraction $extracted was left behind"; fi
}

# --- 2. headless: the router's HTTP API -----------------------------------------------------------------------
smoke_headless() {
  local deadline port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  WEB_ADDRESS="127.0.0.1:$port" PROXY_ADDRESS="127.0.0.1:0" start headless --headless
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until [ "$(http_status "http://127.0.0.1:$port/healthcheck")" = 200 ]; do
    kill -0 "$PID" 2>/dev/null || fail "headless: exited before /healthcheck answered"
    [ "$(date +%s)" -lt "$deadline" ] || fail "headless: /healthcheck did not answer 200 within ${READY_TIMEOUT} s"
    sleep 0.1
  done
  echo "metric headless_ready_s $(elapsed "$STARTED" "$(now)")"
  stop headless log
}

# --- 3. the desktop app, offscreen -----------------------------------------------------------------------------
smoke_gui() {  # smoke_gui NAME
  local name=$1 deadline
  start "$name"
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until [ -s "$WORK/$name-data/devnet/rpc.json" ] && [ -s "$WORK/$name-data/devnet/deployment.json" ]; do
    kill -0 "$PID" 2>/dev/null || fail "$name: exited before its devnet was up"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name: no devnet within ${READY_TIMEOUT} s"
    sleep 0.1
  done
  echo "metric ${name}_devnet_ready_s $(elapsed "$STARTED" "$(now)")"
  sleep 2  # settle before measuring idle memory
  split_pids
  # shellcheck disable=SC2086
  echo "metric ${name}_app_rss_mb $(( $(rss_kb $APP_PIDS) / 1024 ))"
  if [ "${SMOKE_STRICT_GUI_EXIT:-0}" = 1 ]; then stop "$name" log; else stop "$name" log report; fi
}

# --- 4. the desktop app on Xvfb: Qt's xcb plugin and the X libraries it needs, from the bundle ---------------
XVFB_PID=""
smoke_gui_xcb() {
  local display_file=$WORK/display deadline
  Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$display_file" 2>"$WORK/xvfb.log" &
  XVFB_PID=$!
  deadline=$(( $(date +%s) + 10 ))
  until [ -s "$display_file" ]; do
    kill -0 "$XVFB_PID" 2>/dev/null || fail "xvfb: did not start"
    [ "$(date +%s)" -lt "$deadline" ] || fail "xvfb: no display within 10 s"
    sleep 0.05
  done
  DISPLAY=":$(cat "$display_file")" QPA=xcb smoke_gui gui_xcb
  kill -TERM "$XVFB_PID"; wait "$XVFB_PID" || true; XVFB_PID=""
}

USAGE=$("$EXE" --help 2>/dev/null || true)
smoke_devnet
if grep -q -- '--headless' <<<"$USAGE"; then smoke_headless
else echo "smoke: headless: skipped (this mor-launch has no --headless yet)"; fi
if grep -q 'start the desktop app' <<<"$USAGE"; then
  smoke_gui gui
  if command -v Xvfb >/dev/null 2>&1; then smoke_gui_xcb
  else echo "smoke: gui_xcb: skipped (Xvfb is not installed: Debian package xvfb)"; fi
else
  echo "smoke: gui: skipped (this mor-launch has no desktop app yet)"
fi
