"""Draws the mor-launch icon: writes the SVG source and renders it to PNGs at the sizes desktops ask for.

Run with ``QT_QPA_PLATFORM=offscreen python packaging/make_icons.py``; the output is committed under
resources/icons/ so builds need no rendering step. The picture: an "M" drawn as a path between five network
nodes (a marketplace of compute nodes), bright green on a dark rounded square.
"""

from __future__ import annotations

import sys
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
NAME = "mor-launch"

# All geometry on a 512 × 512 canvas.
_NODES = ((140, 368), (140, 150), (256, 290), (372, 150), (372, 368))


def svg_source() -> str:
    """The icon as SVG text (the source of every PNG)."""
    points = " ".join(f"{x},{y}" for x, y in _NODES)
    circles = "\n".join(
        f'  <circle cx="{x}" cy="{y}" r="30" fill="#eafff3" stroke="#3ee08f" stroke-width="12"/>' for x, y in _NODES
    )
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1d4b38"/>
      <stop offset="1" stop-color="#08170f"/>
    </linearGradient>
  </defs>
  <rect x="24" y="24" width="464" height="464" rx="104" fill="url(#bg)"/>
  <rect x="24" y="24" width="464" height="464" rx="104" fill="none" stroke="#3ee08f" stroke-opacity="0.35"
        stroke-width="8"/>
  <polyline points="{points}" fill="none" stroke="#3ee08f" stroke-width="44" stroke-linecap="round"
            stroke-linejoin="round"/>
{circles}
</svg>
"""


def render(svg: bytes, size: int, out: Path) -> None:
    """Render ``svg`` into a ``size``×``size`` transparent PNG at ``out``."""
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit("the generated SVG does not parse")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main() -> int:
    """Write resources/icons/mor-launch.svg and mor-launch-<size>.png for every size in SIZES."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    ICONS.mkdir(parents=True, exist_ok=True)
    svg = svg_source()
    (ICONS / f"{NAME}.svg").write_text(svg, encoding="utf-8")
    for size in SIZES:
        render(svg.encode(), size, ICONS / f"{NAME}-{size}.png")
    del app
    print(f"wrote {NAME}.svg and {len(SIZES)} PNGs to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
