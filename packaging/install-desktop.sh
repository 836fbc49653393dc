#!/usr/bin/env bash
# Adds the frozen mor-launch to the desktop menu of the current user (no root): the icon set into the hicolor
# theme and the .desktop entry, with Exec pointing at the built executable.
#
#   packaging/install-desktop.sh [path/to/mor-launch]     default: dist/mor-launch/mor-launch
#   packaging/install-desktop.sh --uninstall
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
ICONS="$DATA/icons/hicolor"
ENTRY="$DATA/applications/mor-launch.desktop"
SIZES="16 22 24 32 48 64 128 256 512"

if [ "${1:-}" = --uninstall ]; then
  rm -f "$ENTRY" "$ICONS/scalable/apps/mor-launch.svg"
  for size in $SIZES; do rm -f "$ICONS/${size}x${size}/apps/mor-launch.png"; done
  echo "removed the mor-launch menu entry and icons"
  exit 0
fi

EXE=${1:-$ROOT/dist/mor-launch/mor-launch}
[ -x "$EXE" ] || { echo "no executable at $EXE (build it with packaging/build.sh)" >&2; exit 1; }
EXE=$(cd "$(dirname "$EXE")" && pwd)/$(basename "$EXE")

for size in $SIZES; do
  install -Dm644 "$ROOT/resources/icons/mor-launch-$size.png" "$ICONS/${size}x${size}/apps/mor-launch.png"
done
install -Dm644 "$ROOT/resources/icons/mor-launch.svg" "$ICONS/scalable/apps/mor-launch.svg"
mkdir -p "$(dirname "$ENTRY")"
# Menus do not search PATH reliably for a folder build: name the executable by its absolute path.
sed -e "s|^Exec=mor-launch|Exec=\"$EXE\"|" -e "s|^TryExec=mor-launch|TryExec=$EXE|" \
  "$ROOT/resources/linux/mor-launch.desktop" >"$ENTRY"
chmod 644 "$ENTRY"
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$DATA/applications" || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$ICONS" || true; fi
echo "installed $ENTRY (Exec=$EXE)"
